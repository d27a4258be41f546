/* mmap_file.c: file-backed mmap: MAP_PRIVATE (host and /tmp files, touched first or handed on
 * untouched), MAP_SHARED on /tmp, offsets, msync, coherence with read/write, permission and
 * argument errors. */
#include "sc.h"

#include <sys/mman.h>

static long pg;

static void test_private_host_file(void)
{
	/* A file from the host (read-only in the sandbox): contents match read(). */
	const char *path = "/bin/busybox";
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0) {
		path = "/bin/sh";
		fd = (int)CHECK_OK(open(path, O_RDONLY));
	}
	CHECK_OK(fstat(fd, &st));
	size_t len = 3 * pg;
	char *buf = malloc(len);
	CHECK(st.st_size >= 4 * pg && pread(fd, buf, len, pg) == (ssize_t)len, "pread");
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, pg);
	CHECK(m != MAP_FAILED, "mmap at offset one page");
	CHECK(!memcmp(m, buf, len), "mapping at an offset matches pread");
	close(fd); /* the mapping outlives the fd */
	CHECK(!memcmp(m, buf, len), "still readable after close");
	/* Private writes are allowed with PROT_WRITE and stay private. */
	CHECK_OK(mprotect(m, pg, PROT_READ | PROT_WRITE));
	m[0] ^= 0xff;
	fd = (int)CHECK_OK(open(path, O_RDONLY));
	char c;
	CHECK(pread(fd, &c, 1, pg) == 1 && c == buf[0], "the file is unchanged");
	close(fd);
	munmap(m, len);
	free(buf);
	ok("MAP_PRIVATE of a host file at an offset: matches read, outlives close, writes private");
}

/* The string is in this program's read-only data; the test finds it in the file. */
static const char null_path[] = "/dev/null";

/* A private mapping of a host file (this program), a page longer than the file like ld.so's
 * reservation of a library's span, that nothing touches before it is handed to a syscall,
 * split by mprotect, moved by mremap or copied by fork: the sandbox fills such a mapping at its
 * first access, so each of these ways in must see the file's bytes. */
static void test_private_host_file_untouched(void)
{
	int fd = (int)CHECK_OK(open("/proc/self/exe", O_RDONLY));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	size_t size = (size_t)st.st_size, len = 4 * (size_t)pg;
	CHECK(size >= len + (size_t)pg, "the program is at least 5 pages");
	char *file = malloc(size);
	CHECK(file && pread(fd, file, size, 0) == (ssize_t)size, "pread the whole program");
	char *s = memmem(file, size, null_path, sizeof(null_path));
	CHECK(s, "\"%s\" is in the program's file", null_path);
	size_t soff = (size_t)(s - file);
	size_t span = ((size + (size_t)pg - 1) & ~((size_t)pg - 1)) + (size_t)pg;

	/* the kernel reads it: write(2) from it, open(2) of a path in it */
	char *m = mmap(NULL, span, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	int p[2];
	char got[64];
	CHECK_OK(pipe(p));
	CHECK(write(p[1], m + pg, sizeof(got)) == sizeof(got), "write from the mapping");
	CHECK(read(p[0], got, sizeof(got)) == sizeof(got) && !memcmp(got, file + pg, sizeof(got)),
	      "the pipe carries the file's bytes");
	close(p[0]);
	close(p[1]);
	CHECK_OK(munmap(m, span));
	size_t soff_pg = soff & ~((size_t)pg - 1);
	m = mmap(NULL, span - soff_pg, PROT_READ, MAP_PRIVATE, fd, (off_t)soff_pg);
	CHECK(m != MAP_FAILED, "mmap from the page with the path");
	int nfd = (int)CHECK_OK(open(m + (soff - soff_pg), O_RDONLY));
	close(nfd);
	CHECK_OK(munmap(m, span - soff_pg));

	/* split, moved and grown, forked: then read */
	m = mmap(NULL, span, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK_OK(mprotect(m + pg, pg, PROT_READ | PROT_WRITE)); /* [0,1) [1,2) [2,...) */
	char *n = mremap(m + 2 * pg, 2 * pg, 3 * pg, MREMAP_MAYMOVE);
	CHECK(n != MAP_FAILED, "mremap the last piece, one page longer");
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(memcmp(m, file, 2 * pg) || memcmp(n, file + 2 * pg, 3 * pg) ? 1 : 0);
	expect_exit(pid, 0);
	CHECK(!memcmp(m, file, 2 * pg) && !memcmp(n, file + 2 * pg, 3 * pg),
	      "split, moved, grown and forked: the file's bytes");
	m[pg] ^= 0x55;
	CHECK(m[pg] == (char)(file[pg] ^ 0x55), "the writable page is private");
	CHECK_OK(munmap(m, span));
	CHECK_OK(munmap(n, 3 * pg));
	close(fd);
	free(file);
	ok("MAP_PRIVATE of a host file untouched before write(2), open(2), mprotect, mremap, fork");
}

static void test_private_tmp(void)
{
	const char *path = tpath("priv");
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	char *data = malloc(2 * pg);

	for (long i = 0; i < 2 * pg; i++)
		data[i] = (char)(i * 7);
	CHECK(write(fd, data, 2 * pg) == 2 * pg, "write");
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(!memcmp(m, data, 2 * pg), "contents");
	memset(m, 'p', pg);
	char c;
	CHECK(pread(fd, &c, 1, 0) == 1 && c == data[0], "private writes do not reach the file");
	/* A child sees the parent's private copy; its own writes stay in the child. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		int okc = m[0] == 'p' && m[pg] == data[pg];
		m[pg] = 'c';
		_exit(okc ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(m[pg] == data[pg], "child's write to a private file page stays in the child");
	munmap(m, 2 * pg);
	close(fd);
	free(data);
	ok("MAP_PRIVATE of a /tmp file: copy-on-write, private across fork");
}

static void test_shared_tmp(void)
{
	const char *path = tpath("shared");
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK_OK(ftruncate(fd, 2 * pg));
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap shared");
	CHECK(m[0] == 0 && m[2 * pg - 1] == 0, "zero-filled by ftruncate");
	memcpy(m + 100, "through the mapping", 19);
	char buf[32] = { 0 };
	CHECK(pread(fd, buf, 19, 100) == 19 && !memcmp(buf, "through the mapping", 19),
	      "a write to the mapping is seen by read: %s", buf);
	CHECK(pwrite(fd, "by write", 8, pg + 3) == 8, "pwrite");
	CHECK(!memcmp(m + pg + 3, "by write", 8), "a write() is seen in the mapping");
	CHECK_OK(msync(m, 2 * pg, MS_SYNC));
	CHECK_ERR(msync(m + 1, pg, MS_SYNC), EINVAL);

	/* A second mapping of the same file, and a child's writes, are the same pages. */
	char *m2 = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, pg);
	CHECK(m2 != MAP_FAILED && !memcmp(m2 + 3, "by write", 8), "second mapping at offset");
	pid_t pid = sc_fork();
	if (pid == 0) {
		memcpy(m + pg + 3, "by child", 8);
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(!memcmp(m2 + 3, "by child", 8), "a child's write through MAP_SHARED is seen");
	CHECK(pread(fd, buf, 8, pg + 3) == 8 && !memcmp(buf, "by child", 8), "and in the file");
	munmap(m2, pg);
	munmap(m, 2 * pg);
	close(fd);
	/* The data stays in the file after unmapping. */
	fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK(pread(fd, buf, 19, 100) == 19 && !memcmp(buf, "through the mapping", 19), "kept");
	close(fd);
	ok("MAP_SHARED on /tmp: coherent with read/write, other mappings and a child; msync");
}

static void test_errors(void)
{
	const char *path = tpath("err");
	write_file(path, "0123456789", 0644);
	int ro = (int)CHECK_OK(open(path, O_RDONLY));
	int wo = (int)CHECK_OK(open(path, O_WRONLY));
	int dir = (int)CHECK_OK(open("/tmp", O_RDONLY | O_DIRECTORY));

	CHECK(mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED &&
		      errno == EACCES,
	      "MAP_SHARED|PROT_WRITE of an O_RDONLY fd: EACCES");
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED && errno == EACCES,
	      "mapping an O_WRONLY fd: EACCES");
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, ro, 1) == MAP_FAILED && errno == EINVAL,
	      "unaligned offset: EINVAL");
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE, ro, 0) == MAP_FAILED && errno == EINVAL,
	      "length 0: EINVAL");
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED && errno == EBADF,
	      "bad fd: EBADF");
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, dir, 0) == MAP_FAILED && errno == ENODEV,
	      "directory: ENODEV");
	CHECK(mmap(NULL, pg, PROT_READ, 0, ro, 0) == MAP_FAILED && errno == EINVAL,
	      "neither MAP_SHARED nor MAP_PRIVATE: EINVAL");
	/* MAP_PRIVATE|PROT_WRITE of a read-only fd is fine. */
	char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	CHECK(m != MAP_FAILED && m[5] == '5', "private writable mapping of O_RDONLY");
	munmap(m, pg);
	close(ro);
	close(wo);
	close(dir);
	ok("mmap errors: EACCES (shared write on O_RDONLY, O_WRONLY), EINVAL, EBADF, ENODEV");
}

int main(void)
{
	pg = sysconf(_SC_PAGESIZE);
	test_private_host_file();
	test_private_host_file_untouched();
	test_private_tmp();
	test_shared_tmp();
	test_errors();
	return 0;
}
