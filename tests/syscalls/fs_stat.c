/* fs_stat.c: stat, lstat, fstat, fstatat (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW), statx: agreement
 * between them, file types across filesystems (/, /tmp, /dev, /proc, pipes), errors. */
#include "sc.h"

#include <limits.h>
#include <sys/sysmacros.h>

static void same(const struct stat *a, const struct stat *b, const char *what)
{
	CHECK(a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_mode == b->st_mode &&
		      a->st_size == b->st_size && a->st_nlink == b->st_nlink &&
		      a->st_uid == b->st_uid && a->st_gid == b->st_gid,
	      "%s: stat results differ", what);
}

static void test_agreement(const char *path)
{
	struct stat s1, s2, s3, s4;
	struct statx sx;

	CHECK_OK(stat(path, &s1));
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_OK(fstat(fd, &s2));
	CHECK_OK(fstatat(AT_FDCWD, path, &s3, 0));
	CHECK_OK(fstatat(fd, "", &s4, AT_EMPTY_PATH));
	same(&s1, &s2, "stat/fstat");
	same(&s1, &s3, "stat/fstatat");
	same(&s1, &s4, "stat/fstatat(AT_EMPTY_PATH)");
	CHECK_OK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx));
	CHECK((sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE)) ==
		      (STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE),
	      "statx mask %#x", sx.stx_mask);
	CHECK(sx.stx_ino == s1.st_ino && sx.stx_mode == s1.st_mode && sx.stx_size == s1.st_size &&
		      sx.stx_nlink == s1.st_nlink &&
		      makedev(sx.stx_dev_major, sx.stx_dev_minor) == s1.st_dev,
	      "%s: statx agrees with stat", path);
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	CHECK(sx.stx_ino == s1.st_ino, "statx AT_EMPTY_PATH");
	CHECK(s1.st_blksize > 0, "st_blksize > 0");
	close(fd);
}

static void test_types(void)
{
	struct stat st;

	test_agreement("/etc/passwd");
	test_agreement("/");
	test_agreement("/tmp");
	test_agreement("/dev/null");
	test_agreement("/proc/self/status");
	ok("stat, fstat, fstatat, fstatat(AT_EMPTY_PATH) and statx agree (host file, /, /tmp, /dev, /proc)");

	CHECK_OK(stat("/", &st));
	CHECK(S_ISDIR(st.st_mode), "/ is a directory");
	struct stat dot, dotdot;
	CHECK_OK(stat("/.", &dot));
	CHECK_OK(stat("/..", &dotdot));
	CHECK(dot.st_ino == st.st_ino && dotdot.st_ino == st.st_ino, "/.. is /");
	CHECK_OK(stat("/dev/null", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
	      "/dev/null is char 1:3");
	CHECK_OK(stat("/dev/zero", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 5, "/dev/zero");
	CHECK_OK(stat("/dev/urandom", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 9, "/dev/urandom");
	CHECK_OK(lstat("/proc/self", &st));
	CHECK(S_ISLNK(st.st_mode), "/proc/self is a symlink");
	CHECK_OK(stat("/proc/self", &st));
	CHECK(S_ISDIR(st.st_mode), "that points to a directory");
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_OK(fstat(p[0], &st));
	CHECK(S_ISFIFO(st.st_mode) && st.st_size == 0, "pipe");
	close(p[0]);
	close(p[1]);
	ok("file types: directories, character devices (rdev), /proc/self link, pipes");

	/* A file's size and link count follow its writes and links; st_blocks counts 512s. */
	const char *f = tpath("s");
	write_file(f, "", 0640);
	CHECK_OK(stat(f, &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0640 && st.st_size == 0 &&
		      st.st_nlink == 1 && st.st_uid == geteuid() && st.st_gid == getegid(),
	      "new file");
	struct stat dir;
	CHECK_OK(stat(sc_tmpdir(), &dir));
	CHECK(st.st_dev == dir.st_dev, "same device as its directory");
	int fd = (int)CHECK_OK(open(f, O_WRONLY));
	static char blk[100000];
	CHECK(write(fd, blk, sizeof(blk)) == sizeof(blk), "write");
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 100000 && st.st_blocks * 512 >= 100000, "size %ld blocks %ld",
	      (long)st.st_size, (long)st.st_blocks);
	close(fd);
	/* ctime moves on chmod; mtime does not. */
	struct timespec old[2] = { { 100, 0 }, { 100, 0 } };
	CHECK_OK(utimensat(AT_FDCWD, f, old, 0));
	CHECK_OK(chmod(f, 0600));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtim.tv_sec == 100 && st.st_ctim.tv_sec > 100, "chmod updates ctime only");
	ok("a /tmp file: mode, owner, size, st_blocks, device, ctime vs mtime");
}

static void test_errors(void)
{
	struct stat st;
	char longp[PATH_MAX + 10];

	CHECK_ERR(stat("/nonexistent-runsc-c", &st), ENOENT);
	CHECK_ERR(stat("/etc/passwd/x", &st), ENOTDIR);
	CHECK_ERR(stat("", &st), ENOENT);
	CHECK_ERR(stat((char *)8, &st), EFAULT);
	CHECK_ERR(fstat(999, &st), EBADF);
	CHECK_ERR(fstatat(999, "x", &st, 0), EBADF);
	CHECK_ERR(fstatat(AT_FDCWD, "/", &st, 0x4), EINVAL);
	int ffd = (int)CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERR(fstatat(ffd, "x", &st, 0), ENOTDIR);
	close(ffd);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CHECK_ERR(stat(longp, &st), ENAMETOOLONG);
	CHECK(raw(SYS_newfstatat, AT_FDCWD, (long)"/", 8, 0, 0, 0) == -EFAULT, "bad stat buffer");
	ok("stat errors: ENOENT, ENOTDIR, EFAULT, EBADF, EINVAL, ENAMETOOLONG");
}

int main(void)
{
	test_types();
	test_errors();
	return 0;
}
