/* tmpfile.c: open(O_TMPFILE): a regular file without a name in /tmp, /var/tmp (in the sandbox a
 * directory of the overlay's lower layer, copied up first) and /dev/shm, its
 * /proc/self/fd link, linkat giving it a name (not with O_EXCL), and the argument errors. */
#include "sc.h"

#include <dirent.h>
#include <stdbool.h>

static bool dir_has(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	CHECK(d != NULL, "opendir %s", dir);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found = true;
	closedir(d);
	return found;
}

static void test_in(const char *dir)
{
	char fdpath[64], target[256], name[128];
	struct stat st;

	int fd = (int)CHECK_OK(open(dir, O_TMPFILE | O_RDWR, 0640));
	CHECK(write(fd, "tmpfile data", 12) == 12, "write");
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_nlink == 0 && st.st_size == 12,
	      "a regular file without a name: mode %o nlink %d", st.st_mode, (int)st.st_nlink);
	CHECK((st.st_mode & 0777) == 0640, "mode %o", st.st_mode & 0777);
	char buf[16] = {0};
	CHECK(pread(fd, buf, sizeof(buf), 0) == 12 && strcmp(buf, "tmpfile data") == 0, "pread");
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(fdpath, target, sizeof(target) - 1);
	CHECK(n > 0, "readlink %s", fdpath);
	target[n] = '\0';
	size_t dl = strlen(dir);
	CHECK(strncmp(target, dir, dl) == 0 && target[dl] == '/' && target[dl + 1] == '#' &&
		  strstr(target, " (deleted)") == target + n - 10,
	      "the fd's path: %s", target);
	CHECK(!dir_has(dir, "#"), "not in the directory");
	ok("O_TMPFILE in %s: a file without a name, \"%s/#<ino> (deleted)\"", dir, dir);

	/* linkat gives it a name: through /proc/self/fd (AT_SYMLINK_FOLLOW) */
	snprintf(name, sizeof(name), "%s/sc-tmpfile-%d", dir, (int)getpid());
	CHECK_OK(linkat(AT_FDCWD, fdpath, AT_FDCWD, name, AT_SYMLINK_FOLLOW));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_nlink == 1, "nlink after linkat: %d", (int)st.st_nlink);
	int fd2 = (int)CHECK_OK(open(name, O_RDONLY));
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd2, buf, sizeof(buf)) == 12 && strcmp(buf, "tmpfile data") == 0,
	      "the named file has the data");
	close(fd2);
	CHECK_OK(unlink(name));
	close(fd);
	ok("O_TMPFILE in %s: linkat gives it a name", dir);

	/* O_EXCL: never linkable */
	fd = (int)CHECK_OK(open(dir, O_TMPFILE | O_EXCL | O_WRONLY, 0600));
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	CHECK_ERR(linkat(AT_FDCWD, fdpath, AT_FDCWD, name, AT_SYMLINK_FOLLOW), ENOENT);
	close(fd);
	ok("O_TMPFILE|O_EXCL in %s: linkat is ENOENT", dir);
}

static void test_errors(void)
{
	CHECK_ERR(open("/tmp", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_ERR(open("/etc/passwd", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	CHECK_ERR(open("/nonexistent-runsc-c", O_TMPFILE | O_RDWR, 0600), ENOENT);
	ok("O_TMPFILE: EINVAL read-only, ENOTDIR, ENOENT");

	/* a file unlinked while open has no name to link back to */
	char name[64];
	snprintf(name, sizeof(name), "/tmp/sc-tmpfile-u-%d", (int)getpid());
	int fd = (int)CHECK_OK(open(name, O_CREAT | O_RDWR | O_EXCL, 0600));
	CHECK_OK(unlink(name));
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	CHECK_ERR(linkat(AT_FDCWD, fdpath, AT_FDCWD, name, AT_SYMLINK_FOLLOW), ENOENT);
	close(fd);
	ok("linkat of an unlinked open file: ENOENT");
}

int main(void)
{
	umask(022);
	test_in("/tmp");
	test_in("/var/tmp");
	test_in("/dev/shm");
	test_errors();
	return 0;
}
