/* sendfile_splice.c: sendfile, copy_file_range, splice (file<->pipe, pipe<->pipe), tee,
 * vmsplice, and fallocate on tmpfs (allocate, KEEP_SIZE, PUNCH_HOLE, shared mappings). */
#include "sc.h"

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

static char data[65536];

static int make_file(const char *name)
{
	int fd = (int)CHECK_OK(open(tpath(name), O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data), "fill %s", name);
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	return fd;
}

static void expect_bytes(int fd, off_t off, const char *want, size_t n)
{
	char buf[8192];

	CHECK(n <= sizeof(buf), "too long");
	CHECK(pread(fd, buf, n, off) == (ssize_t)n && memcmp(buf, want, n) == 0, "bytes at %ld",
	      (long)off);
}

static void test_sendfile(void)
{
	int in = make_file("sf_in"), p[2];
	int out = (int)CHECK_OK(open(tpath("sf_out"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	char buf[100];

	CHECK(sendfile(out, in, NULL, 1000) == 1000, "file to file");
	CHECK(lseek(in, 0, SEEK_CUR) == 1000 && lseek(out, 0, SEEK_CUR) == 1000, "offsets");
	off_t off = 5000;
	CHECK(sendfile(out, in, &off, 100) == 100 && off == 5100, "with an offset");
	CHECK(lseek(in, 0, SEEK_CUR) == 1000, "in's offset unchanged");
	expect_bytes(out, 1000, data + 5000, 100);
	off = sizeof(data) - 10;
	CHECK(sendfile(out, in, &off, 100) == 10, "short at end of file");
	ok("sendfile: file to file, offsets, end of file");

	CHECK_OK(pipe(p));
	off = 0;
	CHECK(sendfile(p[1], in, &off, 100) == 100, "file to pipe");
	CHECK(read(p[0], buf, 100) == 100 && memcmp(buf, data, 100) == 0, "pipe contents");
	ok("sendfile: file to pipe");

	int ro = (int)CHECK_OK(open(tpath("sf_out"), O_RDONLY));
	CHECK_ERR(sendfile(ro, in, NULL, 10), EBADF);
	int wo = (int)CHECK_OK(open(tpath("sf_in"), O_WRONLY));
	CHECK_ERR(sendfile(out, wo, NULL, 10), EBADF);
	int ap = (int)CHECK_OK(open(tpath("sf_out"), O_WRONLY | O_APPEND));
	CHECK_ERR(sendfile(ap, in, NULL, 10), EINVAL);
	off = -1;
	CHECK_ERR(sendfile(out, in, &off, 10), EINVAL);
	close(ro);
	close(wo);
	close(ap);

	loff_t ioff = 100, ooff = 0;
	int cf = (int)CHECK_OK(open(tpath("cfr"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK(copy_file_range(in, &ioff, cf, &ooff, 3000, 0) == 3000, "copy_file_range");
	CHECK(ioff == 3100 && ooff == 3000, "offsets advanced");
	expect_bytes(cf, 0, data + 100, 3000);
	CHECK_ERR(copy_file_range(in, &ioff, cf, &ooff, 10, 1), EINVAL);
	CHECK_ERR(copy_file_range(in, NULL, p[1], NULL, 10, 0), EINVAL);
	ok("copy_file_range");
	close(cf);
	close(p[0]);
	close(p[1]);
	close(in);
	close(out);
}

static void test_splice(void)
{
	int in = make_file("sp_in"), out, p[2], q[2];
	char buf[70000];
	loff_t off;

	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	off = 1000;
	CHECK(splice(in, &off, p[1], NULL, 3000, 0) == 3000 && off == 4000, "file to pipe");
	CHECK(lseek(in, 0, SEEK_CUR) == 0, "file offset untouched");
	CHECK(splice(in, NULL, p[1], NULL, 500, 0) == 500, "from the file offset");
	CHECK(lseek(in, 0, SEEK_CUR) == 500, "file offset moved");
	CHECK(read(p[0], buf, 3500) == 3500 && memcmp(buf, data + 1000, 3000) == 0 &&
		  memcmp(buf + 3000, data, 500) == 0,
	      "pipe contents");
	ok("splice: file to pipe, with and without an offset");

	out = (int)CHECK_OK(open(tpath("sp_out"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK(write(p[1], "hello world", 11) == 11, "write");
	off = 100;
	CHECK(splice(p[0], NULL, out, &off, 5, 0) == 5 && off == 105, "pipe to file at offset");
	CHECK(splice(p[0], NULL, out, NULL, 100, 0) == 6, "rest to the file offset");
	CHECK(lseek(out, 0, SEEK_CUR) == 6, "out offset");
	expect_bytes(out, 100, "hello", 5);
	expect_bytes(out, 0, " world", 6);
	ok("splice: pipe to file");

	CHECK(write(p[1], "abcdef", 6) == 6, "write");
	CHECK(splice(p[0], NULL, q[1], NULL, 4, 0) == 4, "pipe to pipe");
	CHECK(read(q[0], buf, sizeof(buf)) == 4 && memcmp(buf, "abcd", 4) == 0, "moved");
	CHECK(read(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "ef", 2) == 0, "left");
	ok("splice: pipe to pipe moves");

	CHECK(splice(p[0], NULL, q[1], NULL, 0, 0) == 0, "len 0");
	CHECK_ERR(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(splice(in, NULL, out, NULL, 10, 0), EINVAL);
	off = 0;
	CHECK_ERR(splice(p[0], &off, out, NULL, 10, 0), ESPIPE);
	CHECK_ERR(splice(in, NULL, p[1], &off, 10, 0), ESPIPE);
	CHECK_ERR(splice(p[0], NULL, p[1], NULL, 10, 0), EINVAL);
	CHECK_ERR(splice(p[0], NULL, q[1], NULL, 10, 0x100), EINVAL);
	CHECK_ERR(splice(p[1], NULL, q[1], NULL, 10, 0), EBADF);
	CHECK_ERR(splice(99, NULL, q[1], NULL, 10, 0), EBADF);
	int ap = (int)CHECK_OK(open(tpath("sp_out"), O_WRONLY | O_APPEND));
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK_ERR(splice(p[0], NULL, ap, NULL, 1, 0), EINVAL);
	close(ap);
	CHECK(read(p[0], buf, 1) == 1, "drain");
	ok("splice: errors");

	/* only whole free buffers take file data: 15 of 16 pages full leaves one page */
	CHECK(write(q[1], data, 15 * 4096) == 15 * 4096, "fill");
	off = 0;
	CHECK(splice(in, &off, q[1], NULL, 10000, 0) == 4096, "one page of room");
	CHECK_ERR(splice(in, NULL, q[1], NULL, 10000, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK(read(q[0], buf, sizeof(buf)) == 16 * 4096, "drain");
	/* and a buffer ends where the file's page does */
	CHECK(write(q[1], data, 15 * 4096) == 15 * 4096, "fill");
	off = 500;
	CHECK(splice(in, &off, q[1], NULL, 10000, 0) == 4096 - 500, "the rest of a page");
	CHECK(read(q[0], buf, sizeof(buf)) == 16 * 4096 - 500, "drain");
	ok("splice: a nearly full pipe takes what fits");

	/* end of file and broken pipes */
	close(p[1]);
	CHECK(splice(p[0], NULL, out, NULL, 10, 0) == 0, "no writers: 0");
	close(q[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(splice(in, NULL, q[1], NULL, 10, 0), EPIPE);
	signal(SIGPIPE, SIG_DFL);
	ok("splice: end of file, EPIPE");
	close(p[0]);
	close(q[1]);
	close(in);
	close(out);
}

static void test_tee_vmsplice(void)
{
	int p[2], q[2], fd;
	char buf[64];

	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	CHECK(write(p[1], "teedata", 7) == 7, "write");
	CHECK(tee(p[0], q[1], 3, 0) == 3, "tee");
	CHECK(read(q[0], buf, sizeof(buf)) == 3 && memcmp(buf, "tee", 3) == 0, "copied");
	CHECK(tee(p[0], q[1], 100, 0) == 7, "tee all");
	CHECK(read(p[0], buf, sizeof(buf)) == 7 && memcmp(buf, "teedata", 7) == 0, "kept");
	CHECK(read(q[0], buf, sizeof(buf)) == 7, "copied again");
	CHECK_ERR(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(tee(p[0], p[1], 10, 0), EINVAL);
	fd = (int)CHECK_OK(open("/dev/null", O_WRONLY));
	CHECK_ERR(tee(p[0], fd, 10, 0), EINVAL);
	CHECK(tee(p[0], q[1], 0, 0) == 0, "len 0");
	ok("tee");

	struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
	CHECK(vmsplice(p[1], iov, 2, 0) == 8, "vmsplice into a pipe");
	char a[3] = {0}, b[6] = {0};
	struct iovec riov[2] = {{a, 3}, {b, 5}};
	CHECK(vmsplice(p[0], riov, 2, 0) == 8, "vmsplice out of a pipe");
	CHECK(memcmp(a, "vms", 3) == 0 && memcmp(b, "plice", 5) == 0, "contents");
	CHECK_ERR(vmsplice(p[0], riov, 2, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(vmsplice(fd, iov, 2, 0), EBADF);
	ok("vmsplice");
	close(fd);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_fallocate(const char *dir, const char *label)
{
	char path[256], buf[8192];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/fa", dir);
	fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK_OK(fallocate(fd, 0, 0, 8192));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192 && st.st_blocks >= 16, "size %ld blocks %ld", (long)st.st_size,
	      (long)st.st_blocks);
	CHECK(pread(fd, buf, 8192, 0) == 8192 && buf[0] == 0 && buf[8191] == 0, "zeros");
	CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192 && st.st_blocks >= 32, "keep size: %ld blocks %ld",
	      (long)st.st_size, (long)st.st_blocks);
	CHECK_OK(fallocate(fd, 0, 100, 10));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192, "allocating inside does not shrink");
	ok("%s: fallocate allocates, KEEP_SIZE keeps the size", label);

	memset(buf, 'x', sizeof(buf));
	CHECK(pwrite(fd, buf, 8192, 0) == 8192, "write");
	char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(m[5000] == 'x', "mapped");
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 5000));
	CHECK(pread(fd, buf, 8192, 0) == 8192, "read");
	CHECK(buf[999] == 'x' && buf[1000] == 0 && buf[5999] == 0 && buf[6000] == 'x',
	      "hole punched");
	CHECK(m[999] == 'x' && m[1000] == 0 && m[4096] == 0 && m[5999] == 0 && m[6000] == 'x',
	      "the mapping sees the hole");
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192, "size kept");
	munmap(m, 8192);
	ok("%s: PUNCH_HOLE zeroes the range, in mappings too", label);

	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, 0x1000, 0, 10), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_PUNCH_HOLE,
			    0, 10),
		  EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, 0, 0x7fffffffffffffffLL, 10), EFBIG);
	close(fd);
	fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_ERR(fallocate(fd, 0, 0, 10), EBADF);
	close(fd);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
	close(p[0]);
	close(p[1]);
	CHECK_OK(unlink(path));
	ok("%s: fallocate errors", label);
}

static void test_fallocate_tmpfs_modes(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/sc-fa-%d", getpid());
	fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP);
	close(fd);
	CHECK_OK(unlink(path));
	ok("tmpfs: ZERO_RANGE and COLLAPSE_RANGE are not supported");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 31 + i / 251);
	test_sendfile();
	test_splice();
	test_tee_vmsplice();
	test_fallocate(sc_tmpdir(), "tmp");
	test_fallocate("/dev/shm", "shm");
	test_fallocate_tmpfs_modes();
	return 0;
}
