/* file_read.c: open/read/pread/readv/lseek/fstat/close on host files, with sizes and checksums. */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* Reads path whole in odd-sized chunks; checks every way of reading agrees. */
static void read_file(const char *path)
{
	static char whole[1 << 20], again[1 << 20];
	struct stat st;
	size_t total = 0;
	ssize_t n;
	int fd;

	fd = CHECK_OK(open(path, O_RDONLY | O_CLOEXEC));
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode), "%s not regular", path);
	CHECK(st.st_size > 0 && st.st_size < (off_t)sizeof(whole), "%s size %lld", path,
	      (long long)st.st_size);

	/* Sequential reads in 7-byte chunks. */
	while ((n = read(fd, whole + total, 7)) > 0)
		total += n;
	CHECK(n == 0, "read ended with %zd", n);
	CHECK(total == (size_t)st.st_size, "read %zu bytes, st_size %lld", total,
	      (long long)st.st_size);
	CHECK(read(fd, again, 10) == 0, "read at EOF not 0");

	/* The offset is at EOF: SEEK_CUR says so; SEEK_END agrees with st_size. */
	CHECK(lseek(fd, 0, SEEK_CUR) == st.st_size, "SEEK_CUR");
	CHECK(lseek(fd, 0, SEEK_END) == st.st_size, "SEEK_END");
	CHECK(lseek(fd, -5, SEEK_END) == st.st_size - 5, "SEEK_END -5");
	CHECK(read(fd, again, 100) == 5, "tail read");
	CHECK(memcmp(again, whole + total - 5, 5) == 0, "tail bytes");

	/* Seeking past the end is allowed; reading there gives 0. */
	CHECK(lseek(fd, st.st_size + 4096, SEEK_SET) == st.st_size + 4096, "seek past end");
	CHECK(read(fd, again, 10) == 0, "read past end");

	/* pread at several offsets matches and does not move the offset. */
	CHECK(lseek(fd, 3, SEEK_SET) == 3, "SEEK_SET 3");
	for (size_t off = 0; off < total; off += total / 5 + 1) {
		size_t len = total - off < 33 ? total - off : 33;
		CHECK(pread(fd, again, len, off) == (ssize_t)len, "pread at %zu", off);
		CHECK(memcmp(again, whole + off, len) == 0, "pread bytes at %zu", off);
	}
	CHECK(pread(fd, again, 10, st.st_size) == 0, "pread at EOF");
	CHECK(lseek(fd, 0, SEEK_CUR) == 3, "pread moved the offset");

	/* readv into three buffers from offset 0. */
	char a[3], b[10], c[4096];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");
	n = CHECK_OK(readv(fd, iov, 3));
	size_t want = total < sizeof(a) + sizeof(b) + sizeof(c) ? total : sizeof(a) + sizeof(b) + sizeof(c);
	CHECK((size_t)n == want, "readv got %zd want %zu", n, want);
	CHECK(memcmp(a, whole, 3) == 0 && memcmp(b, whole + 3, 10) == 0, "readv bytes");
	CHECK(memcmp(c, whole + 13, n - 13) == 0, "readv third buffer");

	/* A second open of the same file has its own offset. */
	int fd2 = CHECK_OK(open(path, O_RDONLY));
	CHECK(read(fd2, again, 4) == 4 && memcmp(again, whole, 4) == 0, "second fd offset");
	struct stat st2;
	CHECK_OK(fstat(fd2, &st2));
	CHECK(st2.st_ino == st.st_ino && st2.st_dev == st.st_dev, "same file, same ino");
	CHECK_OK(close(fd2));

	CHECK_OK(close(fd));
	CHECK(close(fd) == -1 && errno == EBADF, "double close");

	size_t lines = 0;
	for (size_t i = 0; i < total; i++)
		lines += whole[i] == '\n';
	printf("%s: %zu bytes, %zu lines, fnv1a %016llx\n", path, total, lines,
	       (unsigned long long)fnv1a(FNV_INIT, whole, total));
}

int main(void)
{
	read_file("/etc/os-release");
	read_file("/etc/passwd");
	read_file("/etc/services");

	/* /dev/zero and /dev/null. */
	char buf[64];
	int fd = CHECK_OK(open("/dev/zero", O_RDONLY));
	memset(buf, 'x', sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf)) == sizeof(buf), "read /dev/zero");
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK(buf[i] == 0, "/dev/zero byte %zu", i);
	close(fd);
	fd = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK(read(fd, buf, sizeof(buf)) == 0, "read /dev/null");
	CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf), "write /dev/null");
	close(fd);
	printf("ok /dev/zero /dev/null\n");
	printf("file_read: done\n");
	return 0;
}
