/* fs_dirs.c: mkdir/mkdirat, rmdir, unlink/unlinkat, rename/renameat/renameat2 (RENAME_NOREPLACE,
 * RENAME_EXCHANGE) on /tmp, with their errors. */
#include "sc.h"

#include <limits.h>

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static void read_str(const char *p, char *buf, size_t cap)
{
	read_file(p, buf, cap);
}

static void test_mkdir_rmdir(void)
{
	const char *d = tpath("d");
	struct stat st;

	mode_t old = umask(022);
	CHECK_OK(mkdir(d, 0777));
	CHECK_OK(stat(d, &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755, "mode %o (umask applied)",
	      st.st_mode & 07777);
	CHECK(st.st_nlink == 2, "a new directory has 2 links: %lu", (unsigned long)st.st_nlink);
	struct stat parent_before;
	CHECK_OK(stat(sc_tmpdir(), &parent_before));
	CHECK_ERR(mkdir(d, 0755), EEXIST);
	CHECK_ERR(mkdir(tpath("nope/sub"), 0755), ENOENT);
	write_file(tpath("file"), "x", 0644);
	CHECK_ERR(mkdir(tpath("file/sub"), 0755), ENOTDIR);
	CHECK_ERR(mkdir("", 0755), ENOENT);

	/* mkdirat relative to a directory fd; the parent's link count grows with subdirs. */
	int dfd = (int)CHECK_OK(open(d, O_RDONLY | O_DIRECTORY));
	CHECK_OK(mkdirat(dfd, "sub", 0700));
	CHECK_OK(fstatat(dfd, "sub", &st, 0));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "mkdirat");
	CHECK_OK(fstat(dfd, &st));
	CHECK(st.st_nlink == 3, "parent nlink 3 with one subdirectory: %lu",
	      (unsigned long)st.st_nlink);
	int ffd = (int)CHECK_OK(open(tpath("file"), O_RDONLY));
	CHECK_ERR(mkdirat(ffd, "x", 0755), ENOTDIR);
	close(ffd);

	CHECK_ERR(rmdir(d), ENOTEMPTY);
	CHECK_ERR(rmdir(tpath("file")), ENOTDIR);
	CHECK_ERR(rmdir(tpath("missing")), ENOENT);
	CHECK_ERR(rmdir(tpath("d/sub/.")), EINVAL);
	CHECK_OK(unlinkat(dfd, "sub", AT_REMOVEDIR));
	CHECK_OK(fstat(dfd, &st));
	CHECK(st.st_nlink == 2, "nlink back to 2");
	CHECK_OK(rmdir(d));
	CHECK(!exists(d), "removed");
	/* The open fd still works on the removed directory; nothing can be created in it. */
	CHECK_OK(fstat(dfd, &st));
	CHECK(st.st_nlink == 0 || st.st_nlink == 1, "removed directory nlink %lu",
	      (unsigned long)st.st_nlink);
	CHECK_ERR(mkdirat(dfd, "late", 0755), ENOENT);
	close(dfd);
	umask(old);
	ok("mkdir/mkdirat (umask, nlink, EEXIST, ENOENT, ENOTDIR), rmdir (ENOTEMPTY, ENOTDIR, EINVAL)");
}

static void test_unlink(void)
{
	const char *f = tpath("u");
	write_file(f, "data", 0644);
	int fd = (int)CHECK_OK(open(f, O_RDONLY));

	CHECK_OK(unlink(f));
	CHECK(!exists(f), "gone from the directory");
	/* The open file lives on. */
	char buf[8] = { 0 };
	CHECK(read(fd, buf, 8) == 4 && !strcmp(buf, "data"), "readable after unlink");
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_nlink == 0, "nlink 0 after unlink");
	close(fd);
	CHECK_ERR(unlink(f), ENOENT);
	const char *d = tpath("ud");
	CHECK_OK(mkdir(d, 0755));
	CHECK_ERR(unlink(d), EISDIR);
	int dfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(unlinkat(dfd, "ud", 0), EISDIR);
	write_file(tpath("uf"), "", 0644);
	CHECK_ERR(unlinkat(dfd, "uf", AT_REMOVEDIR), ENOTDIR);
	CHECK_ERR(unlinkat(dfd, "uf", 0x1), EINVAL);
	CHECK_OK(unlinkat(dfd, "uf", 0));
	CHECK_OK(unlinkat(dfd, "ud", AT_REMOVEDIR));
	close(dfd);
	ok("unlink/unlinkat: open files outlive their name (nlink 0); EISDIR, ENOTDIR, EINVAL");
}

static void test_rename(void)
{
	char buf[64];
	const char *a = tpath("ra"), *b = tpath("rb");

	write_file(a, "A", 0644);
	CHECK_OK(rename(a, b));
	CHECK(!exists(a) && exists(b), "renamed");
	write_file(a, "A2", 0644);
	CHECK_OK(rename(a, b)); /* replaces */
	read_str(b, buf, sizeof(buf));
	CHECK(!strcmp(buf, "A2") && !exists(a), "rename replaces the target");
	CHECK_OK(rename(b, b)); /* same file: nothing happens */
	CHECK(exists(b), "rename onto itself");
	/* A hard link onto itself: both names stay. */
	const char *l = tpath("rlink");
	CHECK_OK(link(b, l));
	CHECK_OK(rename(b, l));
	CHECK(exists(b) && exists(l), "rename between links of one inode does nothing");
	unlink(l);

	/* Directories. */
	const char *d1 = tpath("rd1"), *d2 = tpath("rd2"), *d3 = tpath("rd3");
	CHECK_OK(mkdir(d1, 0755));
	write_file(tpath("rd1/in"), "in", 0644);
	CHECK_OK(mkdir(d2, 0755));
	CHECK_OK(rename(d1, d2)); /* onto an empty directory */
	read_str(tpath("rd2/in"), buf, sizeof(buf));
	CHECK(!strcmp(buf, "in") && !exists(d1), "directory moved onto an empty one");
	CHECK_OK(mkdir(d3, 0755));
	write_file(tpath("rd3/x"), "", 0644);
	CHECK_ERR(rename(d2, d3), ENOTEMPTY);
	CHECK_ERR(rename(b, d2), EISDIR);
	CHECK_ERR(rename(d2, b), ENOTDIR);
	CHECK_OK(mkdir(tpath("rd2/child"), 0755));
	CHECK_ERR(rename(d2, tpath("rd2/child/deeper")), EINVAL);
	CHECK_ERR(rename(tpath("missing"), b), ENOENT);
	CHECK_ERR(rename(b, tpath("missing/x")), ENOENT);
	CHECK_ERR(rename(tpath("rd2/."), tpath("rd4")), EBUSY);
	ok("rename: files and directories, replacing, no-ops; ENOTEMPTY, EISDIR, ENOTDIR, EINVAL");

	/* renameat with directory fds. */
	int dfd = (int)CHECK_OK(open(d2, O_RDONLY | O_DIRECTORY));
	int tfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(renameat(dfd, "in", tfd, "moved-in"));
	CHECK(exists(tpath("moved-in")) && !exists(tpath("rd2/in")), "renameat");

	/* renameat2 flags. */
	const char *x = tpath("x"), *y = tpath("y");
	write_file(x, "X", 0644);
	write_file(y, "Y", 0644);
	CHECK(syscall(SYS_renameat2, AT_FDCWD, x, AT_FDCWD, y, RENAME_NOREPLACE) == -1 &&
		      errno == EEXIST,
	      "RENAME_NOREPLACE onto an existing name: EEXIST");
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, x, AT_FDCWD, tpath("x2"), RENAME_NOREPLACE));
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, tpath("x2"), AT_FDCWD, y, RENAME_EXCHANGE));
	read_str(tpath("x2"), buf, sizeof(buf));
	CHECK(!strcmp(buf, "Y"), "exchanged: x2 has Y");
	read_str(y, buf, sizeof(buf));
	CHECK(!strcmp(buf, "X"), "exchanged: y has X");
	/* A file and a directory can be exchanged. */
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, y, AT_FDCWD, d3, RENAME_EXCHANGE));
	struct stat st;
	CHECK(stat(y, &st) == 0 && S_ISDIR(st.st_mode) && exists(tpath("y/x")), "y is the dir now");
	CHECK(stat(d3, &st) == 0 && S_ISREG(st.st_mode), "rd3 is the file now");
	CHECK(syscall(SYS_renameat2, AT_FDCWD, y, AT_FDCWD, tpath("none"), RENAME_EXCHANGE) == -1 &&
		      errno == ENOENT,
	      "RENAME_EXCHANGE with a missing target: ENOENT");
	CHECK(syscall(SYS_renameat2, AT_FDCWD, y, AT_FDCWD, d3, RENAME_EXCHANGE | RENAME_NOREPLACE) ==
			      -1 &&
		      errno == EINVAL,
	      "EXCHANGE|NOREPLACE: EINVAL");
	CHECK(syscall(SYS_renameat2, AT_FDCWD, y, AT_FDCWD, d3, 0x100) == -1 && errno == EINVAL,
	      "unknown flag: EINVAL");
	close(dfd);
	close(tfd);
	ok("renameat with dirfds; renameat2 RENAME_NOREPLACE and RENAME_EXCHANGE (file<->dir)");

	/* Names too long. */
	char longname[NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	char lp[PATH_MAX];
	snprintf(lp, sizeof(lp), "%s/%s", sc_tmpdir(), longname);
	CHECK_ERR(rename(tpath("x2"), lp), ENAMETOOLONG);
	CHECK_ERR(mkdir(lp, 0755), ENAMETOOLONG);
	ok("ENAMETOOLONG for a component over NAME_MAX");
}

int main(void)
{
	test_mkdir_rmdir();
	test_unlink();
	test_rename();
	return 0;
}
