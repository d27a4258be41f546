/* fs_links.c: link/linkat (nlink, AT_SYMLINK_FOLLOW, EEXIST, EPERM on directories),
 * symlink/symlinkat/readlink(at) (dangling, relative, loops, O_NOFOLLOW, truncation). */
#include "sc.h"

#include <limits.h>

static void test_hardlinks(void)
{
	const char *a = tpath("a"), *b = tpath("b");
	struct stat sa, sb;

	write_file(a, "shared", 0644);
	CHECK_OK(link(a, b));
	CHECK_OK(stat(a, &sa));
	CHECK_OK(stat(b, &sb));
	CHECK(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev, "same inode");
	CHECK(sa.st_nlink == 2, "nlink 2: %lu", (unsigned long)sa.st_nlink);
	/* Writes through one name show through the other. */
	int fd = (int)CHECK_OK(open(b, O_WRONLY | O_APPEND));
	CHECK(write(fd, "+", 1) == 1, "write");
	close(fd);
	char buf[32];
	read_file(a, buf, sizeof(buf));
	CHECK(!strcmp(buf, "shared+"), "through a: %s", buf);
	CHECK_OK(unlink(a));
	CHECK_OK(stat(b, &sb));
	CHECK(sb.st_nlink == 1, "nlink back to 1");
	CHECK_ERR(link(b, b), EEXIST);
	CHECK_ERR(link(tpath("missing"), tpath("c")), ENOENT);
	const char *d = tpath("dir");
	CHECK_OK(mkdir(d, 0755));
	CHECK_ERR(link(d, tpath("dirlink")), EPERM);
	CHECK_ERR(link(b, tpath("nodir/c")), ENOENT);

	/* linkat: dirfds and AT_SYMLINK_FOLLOW. */
	int dfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(linkat(dfd, "b", dfd, "c", 0));
	const char *s = tpath("s");
	CHECK_OK(symlink("b", s));
	CHECK_OK(linkat(dfd, "s", dfd, "s-nofollow", 0));
	CHECK_OK(linkat(dfd, "s", dfd, "s-follow", AT_SYMLINK_FOLLOW));
	struct stat st;
	CHECK_OK(lstat(tpath("s-nofollow"), &st));
	CHECK(S_ISLNK(st.st_mode), "linkat without AT_SYMLINK_FOLLOW links the symlink itself");
	CHECK_OK(lstat(tpath("s-follow"), &st));
	CHECK(S_ISREG(st.st_mode) && st.st_ino == sb.st_ino, "AT_SYMLINK_FOLLOW links the target");
	CHECK_ERR(linkat(dfd, "b", dfd, "d", 0x1), EINVAL);
	close(dfd);
	ok("link/linkat: one inode, nlink, shared data; EEXIST, ENOENT, EPERM; AT_SYMLINK_FOLLOW");
}

static void test_symlinks(void)
{
	char buf[PATH_MAX];
	struct stat st;
	const char *t = tpath("target"), *s = tpath("sym");

	write_file(t, "target data", 0644);
	CHECK_OK(symlink("target", s)); /* relative to the link's directory */
	CHECK_OK(lstat(s, &st));
	CHECK(S_ISLNK(st.st_mode) && st.st_size == 6, "lstat: a link of size 6");
	CHECK_OK(stat(s, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 11, "stat follows it");
	ssize_t n = readlink(s, buf, sizeof(buf));
	CHECK(n == 6 && !memcmp(buf, "target", 6), "readlink (no NUL added)");
	CHECK(readlink(s, buf, 3) == 3 && !memcmp(buf, "tar", 3), "readlink truncates silently");
	read_file(s, buf, sizeof(buf));
	CHECK(!strcmp(buf, "target data"), "open follows it");
	CHECK_ERR(readlink(t, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlink(s, buf, 0), EINVAL);
	CHECK_ERR(symlink("x", s), EEXIST);

	/* Dangling links. */
	const char *dl = tpath("dangling");
	CHECK_OK(symlink("/nonexistent-runsc-c/x", dl));
	CHECK_OK(lstat(dl, &st));
	CHECK_ERR(stat(dl, &st), ENOENT);
	CHECK_ERR(open(dl, O_RDONLY), ENOENT);
	/* O_CREAT through a dangling link creates the target... only if its directory exists. */
	const char *dl2 = tpath("dangling2");
	CHECK_OK(symlink("created-through-link", dl2));
	int fd = (int)CHECK_OK(open(dl2, O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK_OK(stat(tpath("created-through-link"), &st));
	/* O_NOFOLLOW and loops. */
	CHECK_ERR(open(s, O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_OK(symlink("loop2", tpath("loop1")));
	CHECK_OK(symlink("loop1", tpath("loop2")));
	CHECK_ERR(open(tpath("loop1"), O_RDONLY), ELOOP);
	CHECK_ERR(stat(tpath("loop1"), &st), ELOOP);
	/* A symlink to a directory inside a path. */
	CHECK_OK(mkdir(tpath("realdir"), 0755));
	write_file(tpath("realdir/f"), "in dir", 0644);
	CHECK_OK(symlink(sc_tmpdir(), tpath("abs")));
	CHECK_OK(stat(tpath("abs/realdir/f"), &st));
	CHECK(S_ISREG(st.st_mode), "absolute symlink in the middle of a path");
	CHECK_ERR(mkdir(tpath("abs"), 0755), EEXIST);
	ok("symlink: lstat/stat/readlink, truncation, dangling, create through, ELOOP, O_NOFOLLOW");

	/* symlinkat/readlinkat with a dirfd, and readlinkat(fd, "") on an O_PATH fd. */
	int dfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(symlinkat("target", dfd, "sym2"));
	n = readlinkat(dfd, "sym2", buf, sizeof(buf));
	CHECK(n == 6 && !memcmp(buf, "target", 6), "readlinkat");
	int pfd = (int)CHECK_OK(open(tpath("sym2"), O_PATH | O_NOFOLLOW));
	n = readlinkat(pfd, "", buf, sizeof(buf));
	CHECK(n == 6 && !memcmp(buf, "target", 6), "readlinkat(O_PATH fd, \"\")");
	CHECK_OK(fstatat(pfd, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISLNK(st.st_mode), "fstatat(AT_EMPTY_PATH) of the O_PATH|O_NOFOLLOW fd");
	close(pfd);
	CHECK_ERR(symlinkat("", dfd, "empty"), ENOENT);
	close(dfd);
	ok("symlinkat/readlinkat with dirfds and O_PATH|O_NOFOLLOW; empty target ENOENT");
}

int main(void)
{
	test_hardlinks();
	test_symlinks();
	return 0;
}
