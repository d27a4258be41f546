/* mmap_test.c: anonymous and private file mappings, mprotect, munmap, mremap, MAP_FIXED, madvise, errors. */
#include "check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096UL

static char file_bytes[1 << 20];
static int probe_fd = -1;

/* Returns 1 if the byte at p is readable: write() copies it in or fails with EFAULT. */
static int readable(const void *p)
{
	errno = 0;
	long r = write(probe_fd, p, 1);
	CHECK(r == 1 || errno == EFAULT, "probe write: %ld", r);
	return r == 1;
}

int main(void)
{
	CHECK(sysconf(_SC_PAGESIZE) == (long)PG, "page size %ld", sysconf(_SC_PAGESIZE));
	char probe_path[64];
	snprintf(probe_path, sizeof(probe_path), "/tmp/runsc-c-mm-%s", uniq());
	probe_fd = CHECK_OK(open(probe_path, O_CREAT | O_WRONLY | O_TRUNC, 0600));
	CHECK_OK(unlink(probe_path));

	/* Anonymous: zero-filled, writable, every page. */
	size_t len = 64 * PG;
	unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED, "anon mmap");
	CHECK(((uintptr_t)a & (PG - 1)) == 0, "anon mmap not page aligned");
	for (size_t i = 0; i < len; i += 512)
		CHECK(a[i] == 0, "anon byte %zu not zero", i);
	for (size_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 31 + 7);
	uint64_t h = fnv1a(FNV_INIT, a, len);
	printf("anon: %zu bytes written, fnv1a %016llx\n", len, (unsigned long long)h);

	/* mremap grow in place or moved: data preserved, new tail zero. */
	unsigned char *b = mremap(a, len, 4 * len, MREMAP_MAYMOVE);
	CHECK(b != MAP_FAILED, "mremap grow");
	CHECK(fnv1a(FNV_INIT, b, len) == h, "mremap grow lost data");
	for (size_t i = len; i < 4 * len; i += 256)
		CHECK(b[i] == 0, "grown tail byte %zu", i);
	b[4 * len - 1] = 0x5a;
	printf("ok mremap grow preserves data\n");

	/* mremap to a fixed new address (a move): old range gone, data there. */
	unsigned char *dst = mmap(NULL, 4 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dst != MAP_FAILED, "reserve");
	unsigned char *c = mremap(b, 4 * len, 4 * len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(c == dst, "mremap fixed moved to %p not %p", (void *)c, (void *)dst);
	CHECK(fnv1a(FNV_INIT, c, len) == h && c[4 * len - 1] == 0x5a, "mremap move lost data");
	CHECK(!readable(b), "old range still mapped");
	printf("ok mremap move\n");

	/* mremap shrink. */
	unsigned char *d = mremap(c, 4 * len, len, 0);
	CHECK(d == c, "mremap shrink moved");
	CHECK(fnv1a(FNV_INIT, d, len) == h, "mremap shrink lost data");
	CHECK(readable(d + len - 1) && !readable(d + len), "shrunk tail still mapped");
	printf("ok mremap shrink\n");

	/* mprotect read-only: returns 0, reads still work. Then back to RW. */
	CHECK_OK(mprotect(d, len, PROT_READ));
	CHECK(fnv1a(FNV_INIT, d, len) == h, "read after mprotect");
	CHECK_OK(mprotect(d + PG, PG, PROT_READ | PROT_WRITE));
	d[PG] = 0xee;
	CHECK(d[PG] == 0xee, "write after mprotect RW");
	CHECK_ERR(mprotect(d + 1, PG, PROT_READ), EINVAL);
	printf("ok mprotect\n");

	/* MAP_FIXED over the middle replaces it with fresh zero pages. */
	unsigned char *f = mmap(d + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == d + 2 * PG, "MAP_FIXED at %p got %p", (void *)(d + 2 * PG), (void *)f);
	for (size_t i = 0; i < 2 * PG; i++)
		CHECK(f[i] == 0, "MAP_FIXED byte %zu not zero", i);
	CHECK(d[PG] == 0xee && d[0] == 7, "MAP_FIXED disturbed neighbours");
	CHECK(d[4 * PG] == (unsigned char)(4 * PG * 31 + 7), "MAP_FIXED disturbed the page after");
	void *nr = mmap(d, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(nr == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping");
	printf("ok MAP_FIXED, MAP_FIXED_NOREPLACE -> EEXIST\n");

	/* madvise DONTNEED on private anonymous memory gives zeros back. */
	CHECK_OK(madvise(d + 8 * PG, 2 * PG, MADV_DONTNEED));
	for (size_t i = 8 * PG; i < 10 * PG; i += 64)
		CHECK(d[i] == 0, "DONTNEED byte %zu", i);
	CHECK(d[10 * PG] == (unsigned char)(10 * PG * 31 + 7), "DONTNEED went too far");
	printf("ok madvise DONTNEED\n");

	/* munmap a hole in the middle, then the rest. */
	CHECK_OK(munmap(d + 16 * PG, PG));
	CHECK(!readable(d + 16 * PG) && !readable(d + 17 * PG - 1), "hole still mapped");
	CHECK(readable(d + 17 * PG) && readable(d + 16 * PG - 1), "neighbours of the hole unmapped");
	CHECK_OK(munmap(d, len));
	CHECK(!readable(d) && !readable(d + len - 1), "unmapped");
	CHECK_OK(munmap(d, len)); /* unmapping nothing is fine */
	printf("ok munmap\n");

	/* Private file mapping: matches read(), writes stay private. */
	const char *path = "/etc/services";
	int fd = CHECK_OK(open(path, O_RDONLY));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	size_t fsz = st.st_size, n = 0;
	ssize_t r;
	CHECK(fsz > PG && fsz < sizeof(file_bytes), "%s size %zu", path, fsz);
	while ((r = read(fd, file_bytes + n, sizeof(file_bytes) - n)) > 0)
		n += r;
	CHECK(n == fsz, "read %zu of %zu", n, fsz);
	char *m = mmap(NULL, fsz, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "file mmap");
	CHECK(memcmp(m, file_bytes, fsz) == 0, "mapping differs from read()");
	size_t tail = fsz % PG;
	for (size_t i = fsz; tail && i < fsz - tail + PG; i++)
		CHECK(m[i] == 0, "bytes past EOF in the last page must be zero");
	memcpy(m, "PRIVATE!", 8);
	char back[8];
	CHECK(pread(fd, back, 8, 0) == 8 && memcmp(back, file_bytes, 8) == 0,
	      "private write reached the file");
	printf("%s: mapped %zu bytes, fnv1a %016llx\n", path, fsz,
	       (unsigned long long)fnv1a(FNV_INIT, file_bytes, fsz));

	/* A mapping at a page offset into the file. */
	char *m2 = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG);
	CHECK(m2 != MAP_FAILED, "file mmap at offset");
	CHECK(memcmp(m2, file_bytes + PG, fsz - PG < PG ? fsz - PG : PG) == 0, "offset mapping");
	CHECK_OK(mprotect(m, fsz, PROT_READ));
	CHECK(memcmp(m, "PRIVATE!", 8) == 0 && memcmp(m + 8, file_bytes + 8, fsz - 8) == 0,
	      "mprotect lost the private copy");
	CHECK_OK(munmap(m, fsz));
	CHECK_OK(munmap(m2, PG));
	/* Closing the fd does not affect an existing mapping. */
	m = mmap(NULL, fsz, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "remap");
	CHECK_OK(close(fd));
	CHECK(memcmp(m, file_bytes, fsz) == 0, "mapping after close");
	CHECK_OK(munmap(m, fsz));
	printf("ok private file mapping\n");

	/* Errors. */
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(mmap((void *)0x10000001, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		  EINVAL);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 9999, 0), EBADF);
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL);
	close(fd);
	CHECK_ERR(munmap((void *)0x10000001, PG), EINVAL);
	CHECK_ERR(munmap(NULL, 0), EINVAL);
	CHECK_ERR(mremap(NULL, PG, 2 * PG, 0), EFAULT);
	CHECK_ERR(mremap((void *)0x10000001, PG, 2 * PG, 0), EINVAL);
	printf("mmap_test: done\n");
	return 0;
}
