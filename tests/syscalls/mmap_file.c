/* mmap_file.c: file-backed mmap: MAP_PRIVATE (host and /tmp files), MAP_SHARED on /tmp, offsets,
 * msync, coherence with read/write, permission and argument errors. */
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
	test_private_tmp();
	test_shared_tmp();
	test_errors();
	return 0;
}
