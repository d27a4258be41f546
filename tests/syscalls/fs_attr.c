/* fs_attr.c: chmod/fchmod/fchmodat, chown/fchown/lchown/fchownat, utimensat/futimens, umask,
 * truncate/ftruncate, access/faccessat on /tmp files. */
#include "sc.h"

#include <sys/time.h>

static mode_t mode_of(const char *p)
{
	struct stat st;

	CHECK_OK(lstat(p, &st));
	return st.st_mode & 07777;
}

static void test_chmod(void)
{
	const char *f = tpath("m");
	write_file(f, "", 0600);

	CHECK_OK(chmod(f, 0751));
	CHECK(mode_of(f) == 0751, "chmod: %o", mode_of(f));
	CHECK_OK(chmod(f, 04755 | 02000 | 01000));
	CHECK(mode_of(f) == 07755, "setuid/setgid/sticky kept for root: %o", mode_of(f));
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_OK(fchmod(fd, 0640));
	CHECK(mode_of(f) == 0640, "fchmod");
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK((st.st_mode & 0777) == 0640, "fstat sees it");
	int dfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(fchmodat(dfd, "m", 0604, 0));
	CHECK(mode_of(f) == 0604, "fchmodat");
	CHECK_OK(symlink("m", tpath("ml")));
	CHECK_OK(chmod(tpath("ml"), 0644)); /* follows the link */
	CHECK(mode_of(f) == 0644 && mode_of(tpath("ml")) == 0777, "chmod follows symlinks");
	CHECK_ERR(chmod(tpath("missing"), 0644), ENOENT);
	CHECK_ERR(fchmod(999, 0644), EBADF);
	close(fd);
	close(dfd);
	/* chmod on a directory. */
	const char *d = tpath("md");
	CHECK_OK(mkdir(d, 0700));
	CHECK_OK(chmod(d, 0555));
	CHECK_OK(stat(d, &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0555, "directory mode");
	ok("chmod/fchmod/fchmodat (special bits, through symlinks); ENOENT, EBADF");
}

static void test_chown(void)
{
	const char *f = tpath("o");
	write_file(f, "", 0644);
	struct stat st;
	uid_t me = getuid();
	gid_t mg = getgid();

	/* To ourselves: always allowed. */
	CHECK_OK(chown(f, me, mg));
	CHECK_OK(chown(f, -1, -1));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_uid == me && st.st_gid == mg, "unchanged with -1");
	if (me == 0) {
		CHECK_OK(chown(f, 1234, 5678));
		CHECK_OK(stat(f, &st));
		CHECK(st.st_uid == 1234 && st.st_gid == 5678, "root chowns to any id");
		int fd = (int)CHECK_OK(open(f, O_RDONLY));
		CHECK_OK(fchown(fd, -1, 42));
		CHECK_OK(fstat(fd, &st));
		CHECK(st.st_uid == 1234 && st.st_gid == 42, "fchown group only");
		close(fd);
		CHECK_OK(symlink("o", tpath("ol")));
		CHECK_OK(lchown(tpath("ol"), 77, 77));
		CHECK_OK(lstat(tpath("ol"), &st));
		CHECK(st.st_uid == 77, "lchown changes the link");
		CHECK_OK(stat(f, &st));
		CHECK(st.st_uid == 1234, "and not the target");
		CHECK_OK(fchownat(AT_FDCWD, tpath("ol"), 88, -1, 0));
		CHECK_OK(stat(f, &st));
		CHECK(st.st_uid == 88, "fchownat follows by default");
		CHECK_OK(fchownat(AT_FDCWD, tpath("ol"), 99, -1, AT_SYMLINK_NOFOLLOW));
		CHECK_OK(lstat(tpath("ol"), &st));
		CHECK(st.st_uid == 99, "fchownat AT_SYMLINK_NOFOLLOW");
		/* chown clears setuid/setgid on a regular file. */
		CHECK_OK(chmod(f, 06755));
		CHECK_OK(chown(f, 5, 5));
		CHECK((mode_of(f) & 06000) == 0, "chown clears S_ISUID/S_ISGID: %o", mode_of(f));
	} else {
		CHECK_ERR(chown(f, me + 1, -1), EPERM);
		for (int i = 0; i < 6; i++)
			ok("(root-only chown checks)");
	}
	CHECK_ERR(chown(tpath("missing"), me, mg), ENOENT);
	CHECK_ERR(fchownat(AT_FDCWD, f, me, mg, 0x1), EINVAL);
	ok("chown/fchown/lchown/fchownat: ids, -1, links followed or not, setuid cleared");
}

static void test_utimens(void)
{
	const char *f = tpath("t");
	write_file(f, "", 0644);
	struct stat st;
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };

	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789 &&
		      st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 987654321,
	      "explicit times with nanoseconds");
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 5, 0 } };
	CHECK_OK(utimensat(AT_FDCWD, f, omit, 0));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 5, "UTIME_OMIT keeps atime");
	struct timespec now_ts;
	clock_gettime(CLOCK_REALTIME, &now_ts);
	struct timespec nw[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	CHECK_OK(utimensat(AT_FDCWD, f, nw, 0));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec >= now_ts.tv_sec - 2 && st.st_atim.tv_sec <= now_ts.tv_sec + 60 &&
		      st.st_mtim.tv_sec == 5,
	      "UTIME_NOW sets atime to now");
	CHECK_OK(utimensat(AT_FDCWD, f, NULL, 0));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtim.tv_sec >= now_ts.tv_sec - 2, "NULL: both now");
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_OK(futimens(fd, ts));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec == 1200000000, "futimens");
	close(fd);
	CHECK_OK(symlink("t", tpath("tl")));
	struct timespec lt[2] = { { 7, 0 }, { 8, 0 } };
	CHECK_OK(utimensat(AT_FDCWD, tpath("tl"), lt, AT_SYMLINK_NOFOLLOW));
	CHECK_OK(lstat(tpath("tl"), &st));
	CHECK(st.st_mtim.tv_sec == 8, "AT_SYMLINK_NOFOLLOW sets the link's times");
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtim.tv_sec == 1200000000, "the target's unchanged");
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, bad, 0), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, f, ts, 0x1), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, tpath("missing"), ts, 0), ENOENT);
	/* utimes/utime (glibc wrappers over utimensat). */
	struct timeval tv[2] = { { 11, 0 }, { 12, 500000 } };
	CHECK_OK(utimes(f, tv));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtim.tv_sec == 12 && st.st_mtim.tv_nsec == 500000000, "utimes");

	/* Writing updates mtime and ctime. */
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	fd = (int)CHECK_OK(open(f, O_WRONLY));
	CHECK(write(fd, "x", 1) == 1, "write");
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec >= now_ts.tv_sec - 2, "write updates mtime");
	close(fd);
	ok("utimensat/futimens/utimes: nanoseconds, UTIME_NOW/OMIT, NULL, NOFOLLOW; write sets mtime");
}

static void test_umask_truncate(void)
{
	mode_t old = umask(077);
	CHECK(umask(027) == 077, "umask returns the previous mask");
	const char *f = tpath("um");
	int fd = (int)CHECK_OK(open(f, O_WRONLY | O_CREAT | O_EXCL, 0777));
	close(fd);
	CHECK(mode_of(f) == 0750, "created with 0777 & ~027: %o", mode_of(f));
	CHECK_OK(mkdir(tpath("umd"), 0777));
	CHECK(mode_of(tpath("umd")) == 0750, "mkdir masked");
	umask(0);
	fd = (int)CHECK_OK(creat(tpath("um0"), 0666));
	close(fd);
	CHECK(mode_of(tpath("um0")) == 0666, "creat with umask 0");
	umask(old);
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(umask(0) == old ? 0 : 1);
	expect_exit(pid, 0);

	const char *t = tpath("tr");
	write_file(t, "0123456789", 0644);
	struct stat st;
	CHECK_OK(truncate(t, 4));
	CHECK_OK(stat(t, &st));
	CHECK(st.st_size == 4, "truncate shrinks");
	CHECK_OK(truncate(t, 10000));
	char buf[16];
	fd = (int)CHECK_OK(open(t, O_RDWR));
	CHECK(pread(fd, buf, 6, 0) == 6 && !memcmp(buf, "0123\0\0", 6), "extension reads zeros");
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 10000, "size 10000");
	CHECK_OK(ftruncate(fd, 2));
	CHECK(lseek(fd, 0, SEEK_END) == 2, "ftruncate");
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	close(fd);
	fd = (int)CHECK_OK(open(t, O_RDONLY));
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
	close(fd);
	CHECK_ERR(truncate(sc_tmpdir(), 0), EISDIR);
	CHECK_ERR(truncate(tpath("missing"), 0), ENOENT);
	fd = (int)CHECK_OK(open(t, O_WRONLY | O_TRUNC));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 0, "O_TRUNC");
	close(fd);
	ok("umask (inherited, applied to open/mkdir/creat); truncate/ftruncate grow, shrink, errors");
}

static void test_access(void)
{
	const char *f = tpath("acc");
	write_file(f, "", 0644);
	CHECK_OK(access(f, F_OK));
	CHECK_OK(access(f, R_OK | W_OK));
	CHECK_ERR(access(f, X_OK), EACCES); /* even root needs some x bit */
	CHECK_OK(chmod(f, 0100));
	CHECK_OK(access(f, X_OK));
	CHECK_ERR(access(tpath("missing"), F_OK), ENOENT);
	CHECK_ERR(access(f, 0x10), EINVAL);
	CHECK_OK(faccessat(AT_FDCWD, f, X_OK, AT_EACCESS));
	ok("access/faccessat: F_OK, R/W/X (X needs an x bit), ENOENT, EINVAL");
}

int main(void)
{
	test_chmod();
	test_chown();
	test_utimens();
	test_umask_truncate();
	test_access();
	return 0;
}
