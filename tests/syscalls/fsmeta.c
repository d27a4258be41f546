/* fsmeta.c: chmod/fchmod/fchmodat, chown family, utimensat/utimes/utime/futimesat, rename
 * flags (RENAME_NOREPLACE, RENAME_EXCHANGE), link, mknod, truncate, umask, statfs/fstatfs,
 * close_range, dup family, sync family; as root and as an unprivileged user. */
#include "sc.h"

#include <grp.h>
#include <linux/close_range.h>
#include <sys/time.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <utime.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static mode_t mode_of(const char *p)
{
	struct stat st;
	CHECK_OK(lstat(p, &st));
	return st.st_mode;
}

static void test_chmod_chown(void)
{
	const char *f = tpath("m");
	write_file(f, "x", 0644);
	CHECK_OK(chmod(f, 04755));
	CHECK(mode_of(f) == (S_IFREG | 04755), "mode %o", mode_of(f));
	/* chown clears set-user-ID even for root, and keeps setgid without group-exec */
	CHECK_OK(chown(f, 1000, 1000));
	CHECK(mode_of(f) == (S_IFREG | 0755), "suid cleared: %o", mode_of(f));
	CHECK_OK(chmod(f, 02745));
	CHECK_OK(chown(f, -1, -1));
	CHECK(mode_of(f) == (S_IFREG | 02745), "setgid kept without g+x: %o", mode_of(f));
	CHECK_OK(chmod(f, 02755));
	CHECK_OK(chown(f, -1, 1000));
	CHECK(mode_of(f) == (S_IFREG | 0755), "setgid with g+x cleared: %o", mode_of(f));
	struct stat st;
	CHECK_OK(stat(f, &st));
	CHECK(st.st_uid == 1000 && st.st_gid == 1000, "owner");
	const char *l = tpath("ml");
	CHECK_OK(symlink("m", l));
	CHECK_OK(lchown(l, 1001, 1001));
	CHECK_OK(lstat(l, &st));
	CHECK(st.st_uid == 1001, "lchown changed the link");
	CHECK_OK(stat(l, &st));
	CHECK(st.st_uid == 1000, "not the target");
	CHECK_ERR(fchmodat(AT_FDCWD, l, 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	CHECK_ERR(fchownat(AT_FDCWD, f, 0, 0, 0x8000), EINVAL);
	int fd = (int)CHECK_OK(open(f, O_RDONLY | O_CLOEXEC));
	CHECK_OK(fchmod(fd, 0640));
	CHECK(mode_of(f) == (S_IFREG | 0640), "fchmod");
	CHECK_OK(fchown(fd, 0, 0));
	int pfd = (int)CHECK_OK(open(f, O_PATH | O_CLOEXEC));
	CHECK_ERR(fchmod(pfd, 0600), EBADF);
	CHECK_ERR(fchown(pfd, 0, 0), EBADF);
	close(pfd);
	close(fd);
	CHECK_ERR(chmod(tpath("nope"), 0600), ENOENT);
	ok("chmod/chown: modes, suid/sgid clearing, lchown, fchmodat NOFOLLOW, O_PATH");
}

/* No supplementary groups (root's would grant group access). The sandbox may not have
 * setgroups yet: its root has none to drop then. */
static void drop_groups(void)
{
	if (setgroups(0, NULL) < 0)
		CHECK(errno == ENOSYS, "setgroups");
}

static void as_user(void)
{
	const char *f = tpath("m");
	/* root's file, mode 0640 */
	CHECK_OK(chmod(f, 0640));
	drop_groups();
	CHECK_OK(setresgid(2000, 2000, 2000));
	CHECK_OK(setresuid(2000, 2000, 2000));
	CHECK_ERR(chmod(f, 0777), EPERM);
	CHECK_ERR(chown(f, 2000, 2000), EPERM);
	CHECK_ERR(utimensat(AT_FDCWD, f, NULL, 0), EACCES);
	CHECK_ERR(open(f, O_RDONLY), EACCES);
	CHECK_ERR(truncate(f, 0), EACCES);
	CHECK_ERR(unlink(f), EACCES); /* the directory is root's 0755 */
	ok("as an unprivileged user: EPERM and EACCES");
}

static void as_owner(void)
{
	const char *f = tpath("own");
	drop_groups();
	CHECK_OK(setresgid(2000, 2000, 2000));
	CHECK_OK(setresuid(2000, 2000, 2000));
	/* its own file in a group it is not in: setgid is dropped; in its own group: kept */
	CHECK_OK(chmod(f, 02777));
	CHECK(mode_of(f) == (S_IFREG | 0777), "other group: setgid dropped");
	CHECK_OK(chown(f, -1, 2000));
	CHECK_OK(chmod(f, 02777));
	CHECK(mode_of(f) == (S_IFREG | 02777), "own group: setgid kept");
	CHECK_ERR(chown(f, -1, 5), EPERM);
	CHECK_ERR(chown(f, 0, -1), EPERM);
	struct timespec ts[2] = {{100, 0}, {200, 0}};
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	ok("as the owner: chmod, chgrp to own group, explicit times");
}

static void as_writer(void)
{
	const char *f = tpath("pub");
	drop_groups();
	CHECK_OK(setresgid(2000, 2000, 2000));
	CHECK_OK(setresuid(2000, 2000, 2000));
	/* root's world-writable file: "now" allowed, explicit times not */
	CHECK_OK(utimensat(AT_FDCWD, f, NULL, 0));
	struct timespec ts[2] = {{100, 0}, {200, 0}};
	CHECK_ERR(utimensat(AT_FDCWD, f, ts, 0), EPERM);
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_nsec = UTIME_OMIT;
	CHECK_ERR(utimensat(AT_FDCWD, f, ts, 0), EPERM); /* any times given: the owner's */
	ts[1].tv_nsec = UTIME_NOW;
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	ok("as a writer: utimensat now yes, explicit times EPERM");
}

static void test_perms(void)
{
	CHECK_OK(chmod(sc_tmpdir(), 0755));
	write_file(tpath("own"), "", 0644);
	CHECK_OK(chown(tpath("own"), 2000, 3000));
	write_file(tpath("pub"), "", 0666);
	CHECK_OK(chmod(tpath("pub"), 0666));
	in_child(as_owner);
	in_child(as_user);
	in_child(as_writer);
	CHECK_OK(chmod(sc_tmpdir(), 0700));
}

static void test_times(void)
{
	const char *f = tpath("t");
	struct stat st;
	write_file(f, "", 0644);
	struct timespec ts[2] = {{100, 1}, {200, 2}};
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec == 100 && st.st_atim.tv_nsec == 1 && st.st_mtim.tv_sec == 200 &&
		  st.st_mtim.tv_nsec == 2,
	      "utimensat");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){300, 0};
	int fd = (int)CHECK_OK(open(f, O_RDONLY | O_CLOEXEC));
	CHECK_OK(futimens(fd, ts));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec == 100 && st.st_mtim.tv_sec == 300, "UTIME_OMIT");
	ts[1].tv_nsec = 1000000000;
	CHECK_ERR(utimensat(AT_FDCWD, f, ts, 0), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, f, NULL, 0x8000), EINVAL);
	CHECK_ERR(syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW), EINVAL);
	struct timeval tv[2] = {{1, 0}, {2, 1000000}};
	CHECK_ERR(utimes(f, tv), EINVAL);
	tv[1].tv_usec = 5;
	CHECK_OK(utimes(f, tv));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtim.tv_sec == 2 && st.st_mtim.tv_nsec == 5000, "utimes");
	struct utimbuf ub = {7, 8};
	CHECK_OK(utime(f, &ub));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atim.tv_sec == 7 && st.st_mtim.tv_sec == 8 && st.st_mtim.tv_nsec == 0, "utime");
	tv[1].tv_sec = 9;
	CHECK_OK(syscall(SYS_futimesat, AT_FDCWD, f, tv));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec == 9, "futimesat");
	/* symlink times with AT_SYMLINK_NOFOLLOW */
	const char *l = tpath("tl");
	CHECK_OK(symlink("t", l));
	ts[0] = (struct timespec){50, 0};
	ts[1] = (struct timespec){60, 0};
	CHECK_OK(utimensat(AT_FDCWD, l, ts, AT_SYMLINK_NOFOLLOW));
	CHECK_OK(lstat(l, &st));
	CHECK(st.st_mtim.tv_sec == 60, "link's own time");
	CHECK_OK(stat(l, &st));
	CHECK(st.st_mtim.tv_sec == 9, "target untouched");
	close(fd);
	ok("utimensat/futimens/utimes/utime/futimesat: times, OMIT, EINVAL, NOFOLLOW");
}

static ino_t ino(const char *p)
{
	struct stat st;
	CHECK_OK(lstat(p, &st));
	return st.st_ino;
}

static void test_rename(void)
{
	/* tpath's buffers rotate: keep copies */
	const char *a = strdup(tpath("ra")), *b = strdup(tpath("rb")), *d = strdup(tpath("rd"));
	const char *e = strdup(tpath("rd/x"));
	write_file(a, "A", 0644);
	write_file(b, "B", 0644);
	CHECK_OK(mkdir(d, 0755));
	write_file(e, "E", 0644);
	ino_t ia = ino(a), ib = ino(b), id = ino(d);
	CHECK_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE), EEXIST);
	CHECK_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	CHECK_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, tpath("none"), RENAME_EXCHANGE), ENOENT);
	CHECK_OK(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE));
	CHECK(ino(a) == ib && ino(b) == ia, "files swapped");
	/* a file and a directory swap too */
	CHECK_OK(renameat2(AT_FDCWD, a, AT_FDCWD, d, RENAME_EXCHANGE));
	CHECK(ino(a) == id && ino(d) == ib && S_ISDIR(mode_of(a)), "file <-> directory");
	char buf[8];
	CHECK(read_file(tpath("ra/x"), buf, sizeof(buf)) == 1 && buf[0] == 'E', "content moved");
	CHECK_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, tpath("ra/x"), RENAME_EXCHANGE), EINVAL);
	CHECK_OK(renameat2(AT_FDCWD, tpath("ra/x"), AT_FDCWD, tpath("new"), RENAME_NOREPLACE));
	/* plain rename's errors */
	CHECK_ERR(rename(a, tpath("ra/sub")), EINVAL);
	CHECK_ERR(rename(b, a), EISDIR);
	CHECK_ERR(rename(a, b), ENOTDIR);
	CHECK_ERR(rename(tpath("new/"), tpath("x")), ENOTDIR);
	CHECK_OK(rename(b, b));
	ok("renameat2: NOREPLACE, EXCHANGE (files, file/dir), errors");
}

static void test_link_mknod_truncate(void)
{
	const char *f = strdup(tpath("lt")), *h = strdup(tpath("lt2"));
	struct stat st;
	write_file(f, "hello", 0644);
	CHECK_OK(link(f, h));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_nlink == 2 && ino(h) == st.st_ino, "hard link");
	CHECK_ERR(link(f, h), EEXIST);
	CHECK_ERR(link(sc_tmpdir(), tpath("dl")), EPERM);
	CHECK_OK(unlink(h));
	CHECK_OK(truncate(f, 2));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_size == 2, "truncate");
	CHECK_ERR(truncate(f, -1), EINVAL);
	CHECK_ERR(truncate(sc_tmpdir(), 0), EISDIR);
	int fd = (int)CHECK_OK(open(f, O_RDONLY | O_CLOEXEC));
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
	close(fd);
	CHECK_OK(mknod(tpath("reg"), S_IFREG | 0600, 0));
	CHECK(S_ISREG(mode_of(tpath("reg"))), "mknod regular");
	CHECK_OK(mknod(tpath("fifo"), S_IFIFO | 0600, 0));
	CHECK(S_ISFIFO(mode_of(tpath("fifo"))), "mknod fifo");
	CHECK_ERR(truncate(tpath("fifo"), 0), EINVAL);
	CHECK_ERR(mknod(tpath("dir"), S_IFDIR | 0700, 0), EPERM);
	CHECK_ERR(mknod(tpath("reg"), S_IFREG | 0600, 0), EEXIST);
	mode_t old = umask(077);
	CHECK_OK(mkdir(tpath("um"), 0777));
	CHECK(mode_of(tpath("um")) == (S_IFDIR | 0700), "umask applied");
	CHECK(umask(old) == 077, "umask returns the old mask");
	CHECK_OK(rmdir(tpath("um")));
	CHECK_ERR(rmdir(tpath("um")), ENOENT);
	CHECK_ERR(rmdir(tpath("reg")), ENOTDIR);
	CHECK_ERR(unlink(sc_tmpdir()), EISDIR);
	ok("link, truncate, mknod, umask, rmdir/unlink errors");
}

static void test_dir_edges(void)
{
	const char *d = strdup(tpath("ed")), *f = strdup(tpath("ed/f"));
	char *slash = malloc(300);

	CHECK_OK(mkdir(d, 0755));
	CHECK_ERR(mkdir(d, 0755), EEXIST);
	snprintf(slash, 300, "%s/sub/", d);
	CHECK_OK(mkdir(slash, 0755)); /* a trailing slash is fine for mkdir */
	CHECK_ERR(mkdir(tpath("ed/none/x"), 0755), ENOENT);
	write_file(f, "f", 0644);
	CHECK_ERR(mkdir(tpath("ed/f/x"), 0755), ENOTDIR);
	snprintf(slash, 300, "%s/", f);
	CHECK_ERR(unlink(slash), ENOTDIR);
	CHECK_ERR(open(slash, O_RDONLY), ENOTDIR);
	CHECK_ERR(open(slash, O_WRONLY | O_CREAT, 0600), EISDIR);
	CHECK_ERR(rmdir(d), ENOTEMPTY);
	snprintf(slash, 300, "%s/.", d);
	CHECK_ERR(rmdir(slash), EINVAL);
	snprintf(slash, 300, "%s/sub/..", d);
	CHECK_ERR(rmdir(slash), ENOTEMPTY);
	CHECK_ERR(rename(d, tpath("ed/sub")), EINVAL);
	CHECK_ERR(rename(tpath("ed/sub"), f), ENOTDIR);
	CHECK_ERR(rename(f, tpath("ed/sub")), EISDIR);
	CHECK_OK(mkdir(tpath("ed2"), 0755));
	write_file(tpath("ed2/g"), "g", 0644);
	CHECK_ERR(rename(tpath("ed/sub"), tpath("ed2")), ENOTEMPTY);
	CHECK_OK(unlink(tpath("ed2/g")));
	CHECK_OK(rename(tpath("ed/sub"), tpath("ed2"))); /* over an empty directory */
	struct stat st;
	CHECK_OK(stat(d, &st));
	CHECK(st.st_nlink == 2, "a subdirectory moved out: nlink %lu", (unsigned long)st.st_nlink);
	CHECK_ERR(unlink(tpath("ed2")), EISDIR);
	CHECK_ERR(symlink("", tpath("el")), ENOENT);
	CHECK_OK(symlink("dangling", tpath("el")));
	CHECK_ERR(mkdir(tpath("el"), 0755), EEXIST);
	CHECK_OK(link(tpath("el"), tpath("el2"))); /* link(2) does not follow: links the link */
	CHECK(S_ISLNK(mode_of(tpath("el2"))), "a hard link to a symlink");
	CHECK_ERR(linkat(AT_FDCWD, tpath("el"), AT_FDCWD, tpath("el3"), AT_SYMLINK_FOLLOW), ENOENT);
	free(slash);
	ok("mkdir/rmdir/unlink/rename/symlink edge cases");
}

static void test_statfs(void)
{
	struct statfs sf;
	int p[2];
	CHECK_OK(statfs("/proc", &sf));
	CHECK(sf.f_type == PROC_SUPER_MAGIC, "proc magic");
	CHECK_OK(pipe(p));
	CHECK_OK(fstatfs(p[0], &sf));
	CHECK(sf.f_type == PIPEFS_MAGIC, "pipefs magic");
	close(p[0]);
	close(p[1]);
	CHECK_OK(statfs(sc_tmpdir(), &sf));
	CHECK(sf.f_bsize > 0 && sf.f_namelen == 255, "bsize and namelen");
	CHECK_ERR(statfs(tpath("nope"), &sf), ENOENT);
	CHECK_ERR(fstatfs(99, &sf), EBADF);
	ok("statfs/fstatfs");
}

static void test_fds(void)
{
	int fd = (int)CHECK_OK(open("/", O_RDONLY | O_CLOEXEC));
	CHECK(dup2(fd, fd) == fd, "dup2 to itself");
	CHECK_ERR(dup2(99, 99), EBADF);
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	CHECK_ERR(dup3(fd, 50, O_NONBLOCK), EINVAL);
	CHECK(dup3(fd, 50, O_CLOEXEC) == 50 && fcntl(50, F_GETFD) == FD_CLOEXEC, "dup3");
	CHECK(fcntl(fd, F_DUPFD, 40) == 40, "F_DUPFD lowest free >= arg");
	CHECK(fcntl(fd, F_DUPFD, 40) == 41, "next");
	struct rlimit rl;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERR(fcntl(fd, F_DUPFD, (int)rl.rlim_cur), EINVAL);
	CHECK_ERR(dup2(fd, (int)rl.rlim_cur), EBADF);
	CHECK_ERR(close_range(5, 4, 0), EINVAL);
	CHECK_ERR(close_range(0, 1, 1), EINVAL);
	CHECK_OK(close_range(40, 41, CLOSE_RANGE_CLOEXEC));
	CHECK(fcntl(40, F_GETFD) == FD_CLOEXEC && fcntl(41, F_GETFD) == FD_CLOEXEC, "cloexec");
	CHECK_OK(close_range(40, ~0U, 0));
	CHECK_ERR(fcntl(40, F_GETFD), EBADF);
	CHECK_ERR(fcntl(50, F_GETFD), EBADF);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "below the range stays");
	CHECK_OK(close_range(3, 3, CLOSE_RANGE_UNSHARE));
	CHECK_ERR(fcntl(3, F_GETFD), EBADF);
	if (fd != 3)
		close(fd);
	sync();
	CHECK_OK(syncfs(1));
	CHECK_ERR(syncfs(99), EBADF);
	int f = (int)CHECK_OK(open(tpath("s"), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	CHECK_OK(fsync(f));
	CHECK_OK(fdatasync(f));
	CHECK_OK(sync_file_range(f, 0, 0, 0));
	CHECK_ERR(sync_file_range(f, -1, 0, 0), EINVAL);
	CHECK(posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "fadvise");
	CHECK(posix_fadvise(f, 0, 0, 99) == EINVAL, "bad advice");
	close(f);
	ok("dup family, F_DUPFD, close_range, sync family, fadvise");
}

int main(void)
{
	test_chmod_chown();
	test_perms();
	test_times();
	test_rename();
	test_link_mknod_truncate();
	test_dir_edges();
	test_statfs();
	test_fds();
	return 0;
}
