/* errno_cases.c: ENOENT, ENOTDIR, EISDIR, EBADF, EINVAL, EEXIST, ELOOP, ENAMETOOLONG, ERANGE cases. */
#include "check.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int main(void)
{
	char dir[128], p[600], buf[64];
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/runsc-c-errno-%s", uniq());
	CHECK_OK(mkdir(dir, 0755));

	/* ENOENT */
	CHECK_ERR(open("/nonexistent-runsc-c", O_RDONLY), ENOENT);
	CHECK_ERR(open("/nonexistent-runsc-c/dir/file", O_RDONLY), ENOENT);
	CHECK_ERR(open("/nonexistent-runsc-c/new", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_ERR(open("", O_RDONLY), ENOENT);
	CHECK_ERR(stat("/etc/nonexistent-runsc-c", &st), ENOENT);
	CHECK_ERR(access("/usr/nonexistent-runsc-c", F_OK), ENOENT);
	CHECK_ERR(chdir("/nonexistent-runsc-c"), ENOENT);
	CHECK_ERR(readlink("/nonexistent-runsc-c", buf, sizeof(buf)), ENOENT);
	CHECK_ERR(unlink("/tmp/nonexistent-runsc-c"), ENOENT);
	snprintf(p, sizeof(p), "%s/dangling", dir);
	CHECK_OK(symlink("nowhere", p));
	CHECK_ERR(open(p, O_RDONLY), ENOENT);
	CHECK_ERR(stat(p, &st), ENOENT);
	CHECK_OK(lstat(p, &st));

	/* ENOTDIR */
	CHECK_ERR(open("/etc/passwd/", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("/etc/passwd/x", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("/etc/passwd", O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK_ERR(chdir("/etc/passwd"), ENOTDIR);
	CHECK_ERR(mkdir("/etc/passwd/d", 0755), ENOTDIR);
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERR(openat(fd, "x", O_RDONLY), ENOTDIR);
	CHECK_ERR(fchdir(fd), ENOTDIR);
	CHECK_OK(close(fd));

	/* EISDIR */
	CHECK_ERR(open("/usr", O_WRONLY), EISDIR);
	CHECK_ERR(open("/usr", O_RDWR), EISDIR);
	CHECK_ERR(open(dir, O_WRONLY | O_CREAT, 0644), EISDIR);
	fd = CHECK_OK(open("/usr", O_RDONLY));
	CHECK_ERR(read(fd, buf, sizeof(buf)), EISDIR);
	CHECK_ERR(pread(fd, buf, sizeof(buf), 0), EISDIR);
	CHECK_OK(close(fd));

	/* EBADF */
	CHECK_ERR(close(-1), EBADF);
	CHECK_ERR(close(4000), EBADF);
	CHECK_ERR(read(999, buf, 1), EBADF);
	CHECK_ERR(write(999, buf, 1), EBADF);
	CHECK_ERR(fstat(999, &st), EBADF);
	CHECK_ERR(lseek(999, 0, SEEK_SET), EBADF);
	CHECK_ERR(fcntl(999, F_GETFD), EBADF);
	CHECK_ERR(dup(999), EBADF);
	CHECK_ERR(fchdir(999), EBADF);
	CHECK_ERR(openat(999, "relative", O_RDONLY), EBADF);
	CHECK_ERR(ioctl(999, 0x5401, buf), EBADF);

	/* EINVAL */
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERR(lseek(fd, 0, 99), EINVAL);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(fd, -100000, SEEK_CUR), EINVAL);
	CHECK_ERR(pread(fd, buf, 1, -1), EINVAL);
	CHECK_ERR(fcntl(fd, 12345), EINVAL);
	CHECK_ERR(readlink("/etc/passwd", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlink("/usr", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "/etc/os-release", buf, 0), EINVAL);
	CHECK_ERR(open("/etc/passwd", O_RDONLY | O_TMPFILE, 0600), EINVAL);
	CHECK_ERR(syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CREAT | O_DIRECTORY, 0600),
		  EINVAL);
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	CHECK_ERR(dup3(fd, 100, 0x12345), EINVAL);
	CHECK_ERR(syscall(SYS_getrandom, buf, 8, 0x100), EINVAL);
	CHECK_ERR(syscall(SYS_clock_gettime, 12345, buf), EINVAL);
	CHECK_OK(close(fd));

	/* EEXIST */
	CHECK_ERR(open("/etc/passwd", O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
	CHECK_ERR(mkdir("/usr", 0755), EEXIST);
	CHECK_ERR(mkdir(dir, 0755), EEXIST);
	CHECK_ERR(symlink("x", dir), EEXIST);

	/* ELOOP: a symlink cycle, and O_NOFOLLOW on a symlink. */
	char a[200], b[200];
	snprintf(a, sizeof(a), "%s/loop-a", dir);
	snprintf(b, sizeof(b), "%s/loop-b", dir);
	CHECK_OK(symlink(b, a));
	CHECK_OK(symlink(a, b));
	CHECK_ERR(open(a, O_RDONLY), ELOOP);
	CHECK_ERR(stat(b, &st), ELOOP);
	CHECK_ERR(open("/etc/os-release", O_RDONLY | O_NOFOLLOW), ELOOP);
	fd = CHECK_OK(open("/etc/os-release", O_RDONLY | O_NOFOLLOW | O_PATH));
	CHECK_OK(close(fd));

	/* ENAMETOOLONG: one component over 255 bytes; a path over PATH_MAX. */
	memset(p, 'n', 300);
	p[0] = '/';
	p[300] = 0;
	CHECK_ERR(open(p, O_RDONLY), ENAMETOOLONG);
	CHECK_ERR(stat(p, &st), ENAMETOOLONG);
	static char longpath[5000];
	for (int i = 0; i < 4990; i += 2)
		memcpy(longpath + i, "/.", 2);
	CHECK_ERR(open(longpath, O_RDONLY), ENAMETOOLONG);

	/* ERANGE: getcwd into a buffer that is too small. */
	CHECK_OK(chdir("/usr/share"));
	CHECK_ERR(syscall(SYS_getcwd, buf, 5), ERANGE);
	CHECK_ERR(syscall(SYS_getcwd, buf, 0), ERANGE);

	/* Clean up. */
	CHECK_OK(unlink(a));
	CHECK_OK(unlink(b));
	snprintf(p, sizeof(p), "%s/dangling", dir);
	CHECK_OK(unlink(p));
	CHECK_ERR(unlink(dir), EISDIR);
	CHECK_OK(rmdir(dir));
	CHECK_ERR(rmdir(dir), ENOENT);
	printf("errno_cases: done\n");
	return 0;
}
