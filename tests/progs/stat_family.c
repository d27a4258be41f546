/* stat_family.c: stat/lstat/fstat/newfstatat/statx on files, dirs, symlinks and /dev/null. */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

static const char *kind(mode_t m)
{
	return S_ISREG(m) ? "reg" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "lnk" : S_ISCHR(m) ? "chr" : "other";
}

/* Checks statx agrees with a struct stat of the same file. */
static void statx_agrees(int dirfd, const char *path, int flags, const struct stat *st)
{
	struct statx sx;

	memset(&sx, 0xa5, sizeof(sx));
	CHECK_OK(statx(dirfd, path, flags, STATX_BASIC_STATS, &sx));
	CHECK((sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO | STATX_NLINK)) ==
		      (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO | STATX_NLINK),
	      "%s: stx_mask %#x", path, sx.stx_mask);
	CHECK(sx.stx_mode == st->st_mode, "%s: stx_mode %o st_mode %o", path, sx.stx_mode,
	      st->st_mode);
	CHECK(sx.stx_size == (uint64_t)st->st_size, "%s: size", path);
	CHECK(sx.stx_ino == st->st_ino, "%s: ino", path);
	CHECK(sx.stx_nlink == st->st_nlink, "%s: nlink", path);
	CHECK(sx.stx_uid == st->st_uid && sx.stx_gid == st->st_gid, "%s: owner", path);
	CHECK(makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev, "%s: dev", path);
	CHECK(makedev(sx.stx_rdev_major, sx.stx_rdev_minor) == st->st_rdev, "%s: rdev", path);
	CHECK(sx.stx_mtime.tv_sec == st->st_mtim.tv_sec &&
		      sx.stx_mtime.tv_nsec == (uint32_t)st->st_mtim.tv_nsec,
	      "%s: mtime", path);
}

static void same_file(const struct stat *a, const struct stat *b, const char *what)
{
	CHECK(a->st_ino == b->st_ino && a->st_dev == b->st_dev, "%s: not the same file", what);
	CHECK(a->st_mode == b->st_mode && a->st_size == b->st_size && a->st_nlink == b->st_nlink,
	      "%s: attributes differ", what);
}

int main(void)
{
	char dir[128], file[160], link[160], sub[160];
	struct stat st, st2;
	time_t before, after;
	int fd, dfd;

	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/runsc-c-st-%s", uniq());
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);

	before = time(NULL);
	CHECK_OK(mkdir(dir, 0750));
	fd = CHECK_OK(open(file, O_CREAT | O_EXCL | O_RDWR, 0640));
	CHECK(write(fd, "12345", 5) == 5, "write");
	CHECK_OK(symlink("file", link));
	CHECK_OK(mkdir(sub, 0700));
	after = time(NULL);

	/* The regular file, four ways. */
	CHECK_OK(stat(file, &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640, "file mode %o", st.st_mode);
	CHECK(st.st_size == 5 && st.st_nlink == 1, "file size %lld nlink %lu",
	      (long long)st.st_size, (unsigned long)st.st_nlink);
	CHECK(st.st_uid == geteuid() && st.st_gid == getegid(), "new file owned by %u:%u",
	      st.st_uid, st.st_gid);
	CHECK(st.st_blksize > 0, "blksize %ld", (long)st.st_blksize);
	CHECK(st.st_mtime >= before - 1 && st.st_mtime <= after + 1, "mtime not now");
	printf("file: %s %o size %lld nlink %lu\n", kind(st.st_mode), st.st_mode & 07777,
	       (long long)st.st_size, (unsigned long)st.st_nlink);
	CHECK_OK(fstat(fd, &st2));
	same_file(&st, &st2, "fstat vs stat");
	CHECK_OK(lstat(file, &st2));
	same_file(&st, &st2, "lstat vs stat");
	CHECK_OK(fstatat(AT_FDCWD, file, &st2, 0));
	same_file(&st, &st2, "fstatat vs stat");
	CHECK_OK(fstatat(fd, "", &st2, AT_EMPTY_PATH));
	same_file(&st, &st2, "AT_EMPTY_PATH");
	dfd = CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK_OK(fstatat(dfd, "file", &st2, 0));
	same_file(&st, &st2, "fstatat relative to dirfd");
	statx_agrees(AT_FDCWD, file, 0, &st);
	statx_agrees(dfd, "file", 0, &st);
	statx_agrees(fd, "", AT_EMPTY_PATH, &st);
	printf("ok stat/fstat/lstat/fstatat/statx agree on a file\n");

	/* The symlink: lstat sees the link, stat follows it. */
	CHECK_OK(lstat(link, &st2));
	CHECK(S_ISLNK(st2.st_mode) && st2.st_size == 4, "link: %s size %lld", kind(st2.st_mode),
	      (long long)st2.st_size);
	printf("link: %s size %lld\n", kind(st2.st_mode), (long long)st2.st_size);
	statx_agrees(AT_FDCWD, link, AT_SYMLINK_NOFOLLOW, &st2);
	CHECK_OK(fstatat(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st2.st_mode), "fstatat NOFOLLOW");
	CHECK_OK(stat(link, &st2));
	same_file(&st, &st2, "stat through symlink");
	statx_agrees(AT_FDCWD, link, 0, &st);

	/* The directory: nlink is 2 + subdirectories. */
	CHECK_OK(stat(dir, &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750, "dir mode %o", st.st_mode);
	CHECK(st.st_nlink == 3, "dir nlink %lu", (unsigned long)st.st_nlink);
	printf("dir: %s %o nlink %lu\n", kind(st.st_mode), st.st_mode & 07777,
	       (unsigned long)st.st_nlink);
	CHECK_OK(fstat(dfd, &st2));
	same_file(&st, &st2, "dir fstat");
	statx_agrees(AT_FDCWD, dir, 0, &st);

	/* /dev/null is the character device 1:3. */
	CHECK_OK(stat("/dev/null", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
	      "/dev/null %s %u:%u", kind(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	printf("/dev/null: %s %o rdev %u:%u\n", kind(st.st_mode), st.st_mode & 0777,
	       major(st.st_rdev), minor(st.st_rdev));
	statx_agrees(AT_FDCWD, "/dev/null", 0, &st);
	CHECK_OK(stat("/dev/zero", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 5, "/dev/zero");

	/* Host files through the gofer. */
	const char *host[] = { "/etc/passwd", "/etc/os-release", "/usr", "/usr/bin", "/bin",
			       "/bin/busybox", "/usr/share/doc/busybox-static/copyright" };
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		CHECK_OK(lstat(host[i], &st));
		CHECK_OK(stat(host[i], &st2));
		printf("%s: lstat %s %o", host[i], kind(st.st_mode), st.st_mode & 07777);
		if (S_ISREG(st.st_mode))
			printf(" size %lld", (long long)st.st_size);
		printf(", stat %s\n", kind(st2.st_mode));
		statx_agrees(AT_FDCWD, host[i], AT_SYMLINK_NOFOLLOW, &st);
		statx_agrees(AT_FDCWD, host[i], 0, &st2);
		fd = open(host[i], O_RDONLY);
		CHECK(fd >= 0, "open %s", host[i]);
		struct stat st3;
		CHECK_OK(fstat(fd, &st3));
		same_file(&st2, &st3, host[i]);
		close(fd);
	}

	/* Errors. */
	CHECK_ERR(stat("", &st), ENOENT);
	CHECK_ERR(stat("/nonexistent-runsc-c", &st), ENOENT);
	CHECK_ERR(lstat("/etc/passwd/", &st), ENOTDIR);
	CHECK_ERR(stat("/etc/passwd/x", &st), ENOTDIR);
	CHECK_ERR(fstat(-1, &st), EBADF);
	CHECK_ERR(fstatat(12345, "relative", &st, 0), EBADF);
	CHECK_ERR(fstatat(AT_FDCWD, "/etc/passwd", &st, 0x40000000), EINVAL);
	struct statx sx;
	CHECK_ERR(statx(AT_FDCWD, "/etc/passwd", 0, STATX__RESERVED, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "/nonexistent-runsc-c", 0, STATX_BASIC_STATS, &sx), ENOENT);

	CHECK_OK(unlink(link));
	CHECK_OK(unlink(file));
	CHECK_OK(rmdir(sub));
	CHECK_OK(stat(dir, &st));
	CHECK(st.st_nlink == 2, "dir nlink after rmdir %lu", (unsigned long)st.st_nlink);
	close(dfd);
	CHECK_OK(rmdir(dir));
	printf("stat_family: done\n");
	return 0;
}
