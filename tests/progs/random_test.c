/* random_test.c: getrandom (flags, sizes, errors) and /dev/urandom; checks bytes look random. */
#include "check.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/syscall.h>

/* Counts set bits: 4096 random bytes have about 16384 of 32768. */
static int bits(const unsigned char *p, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += __builtin_popcount(p[i]);
	return c;
}

int main(void)
{
	static unsigned char a[4096], b[4096];

	CHECK(getrandom(a, sizeof(a), 0) == sizeof(a), "getrandom 4096");
	CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == sizeof(b), "getrandom NONBLOCK");
	CHECK(memcmp(a, b, sizeof(a)) != 0, "two getrandom calls gave the same bytes");
	int ba = bits(a, sizeof(a));
	CHECK(ba > 15000 && ba < 17800, "%d bits set of 32768", ba);
	printf("ok getrandom 4096 bytes twice, different, balanced\n");

	/* Small reads leave the rest of the buffer alone. */
	memset(a, 0xcc, 64);
	CHECK(getrandom(a, 16, 0) == 16, "getrandom 16");
	for (int i = 16; i < 64; i++)
		CHECK(a[i] == 0xcc, "getrandom wrote past 16 bytes at %d", i);
	CHECK(getrandom(a, 0, 0) == 0, "getrandom 0");
	CHECK(getrandom(a, 32, GRND_INSECURE) == 32, "GRND_INSECURE");
	CHECK(getrandom(a, 32, GRND_RANDOM) == 32, "GRND_RANDOM");
	printf("ok getrandom sizes and flags\n");

	/* A large request may be short, never zero or an error. */
	static unsigned char big[1 << 20];
	long n = syscall(SYS_getrandom, big, sizeof(big), 0);
	CHECK(n > 0 && n <= (long)sizeof(big), "getrandom 1 MiB returned %ld", n);

	CHECK_ERR(getrandom(a, 16, 0x40), EINVAL);
	CHECK_ERR(getrandom(a, 16, GRND_INSECURE | GRND_RANDOM), EINVAL);

	/* /dev/urandom and /dev/random. */
	int fd = CHECK_OK(open("/dev/urandom", O_RDONLY));
	CHECK(read(fd, a, sizeof(a)) == sizeof(a), "read /dev/urandom");
	CHECK(read(fd, b, sizeof(b)) == sizeof(b), "read /dev/urandom again");
	CHECK(memcmp(a, b, sizeof(a)) != 0, "/dev/urandom repeated itself");
	ba = bits(a, sizeof(a));
	CHECK(ba > 15000 && ba < 17800, "/dev/urandom: %d bits set", ba);
	CHECK_OK(close(fd));
	printf("ok /dev/urandom\n");
	printf("random_test: done\n");
	return 0;
}
