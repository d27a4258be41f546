/* readlink_test.c: readlink/readlinkat of symlinks it makes, of /etc/os-release, /proc/self/exe and /proc/self/fd. */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	char dir[128], link[200], buf[PATH_MAX + 1];
	ssize_t n;

	snprintf(dir, sizeof(dir), "/tmp/runsc-c-rl-%s", uniq());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(link, sizeof(link), "%s/rel", dir);
	CHECK_OK(symlink("some/relative/target", link));

	/* No NUL is written; the length is returned. */
	memset(buf, 'X', sizeof(buf));
	n = CHECK_OK(readlink(link, buf, sizeof(buf)));
	CHECK(n == 20 && !memcmp(buf, "some/relative/target", 20) && buf[20] == 'X',
	      "readlink returned %zd", n);
	printf("rel -> %.*s\n", (int)n, buf);

	/* A short buffer truncates silently. */
	memset(buf, 'X', sizeof(buf));
	n = CHECK_OK(readlink(link, buf, 4));
	CHECK(n == 4 && !memcmp(buf, "some", 4) && buf[4] == 'X', "truncated readlink %zd", n);
	printf("ok truncated readlink\n");

	/* readlinkat relative to a directory fd, and with an empty path on an O_PATH fd of the link. */
	int dfd = CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	n = CHECK_OK(readlinkat(dfd, "rel", buf, sizeof(buf)));
	CHECK(n == 20, "readlinkat %zd", n);
	int lfd = CHECK_OK(openat(dfd, "rel", O_PATH | O_NOFOLLOW));
	n = CHECK_OK(readlinkat(lfd, "", buf, sizeof(buf)));
	CHECK(n == 20 && !memcmp(buf, "some/relative/target", 20), "readlinkat(\"\") %zd", n);
	close(lfd);
	printf("ok readlinkat\n");

	/* An absolute target, and a link to a link: readlink reads one level only. */
	char abs[200], chain[200];
	snprintf(abs, sizeof(abs), "%s/abs", dir);
	snprintf(chain, sizeof(chain), "%s/chain", dir);
	CHECK_OK(symlink("/etc/passwd", abs));
	CHECK_OK(symlink("abs", chain));
	n = CHECK_OK(readlink(chain, buf, sizeof(buf)));
	CHECK(n == 3 && !memcmp(buf, "abs", 3), "chain");
	n = CHECK_OK(readlink(abs, buf, sizeof(buf)));
	buf[n] = 0;
	printf("abs -> %s\n", buf);
	struct stat a, b;
	CHECK_OK(stat(chain, &a));
	CHECK_OK(stat("/etc/passwd", &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "following the chain");
	printf("ok chain of links\n");

	/* Host symlinks through the gofer. */
	n = CHECK_OK(readlink("/etc/os-release", buf, sizeof(buf)));
	buf[n] = 0;
	printf("/etc/os-release -> %s\n", buf);
	n = CHECK_OK(readlink("/bin", buf, sizeof(buf)));
	buf[n] = 0;
	printf("/bin -> %s\n", buf);

	/* /proc/self/exe names this program: compare the last component with argv[0]'s. */
	n = CHECK_OK(readlink("/proc/self/exe", buf, sizeof(buf) - 1));
	buf[n] = 0;
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *tail = strrchr(buf, '/');
	CHECK(buf[0] == '/' && tail && !strcmp(tail + 1, me), "/proc/self/exe = %s, argv[0] = %s", buf,
	      argv[0]);
	struct stat e1, e2;
	CHECK_OK(stat("/proc/self/exe", &e1));
	CHECK_OK(stat(buf, &e2));
	CHECK(e1.st_ino == e2.st_ino && e1.st_size == e2.st_size, "/proc/self/exe is not the file it names");
	printf("/proc/self/exe ends with /%s\n", me);

	/* /proc/self/fd/N names the open file. */
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	n = CHECK_OK(readlink(fdpath, buf, sizeof(buf) - 1));
	buf[n] = 0;
	CHECK(!strcmp(buf, "/etc/passwd"), "%s -> %s", fdpath, buf);
	printf("/proc/self/fd/N -> %s\n", buf);
	close(fd);

	/* Not a link; missing. */
	CHECK_ERR(readlink("/etc/passwd", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlink(dir, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlinkat(dfd, "missing", buf, sizeof(buf)), ENOENT);
	CHECK_ERR(readlink("/etc/passwd/x", buf, sizeof(buf)), ENOTDIR);

	CHECK_OK(unlink(link));
	CHECK_OK(unlink(abs));
	CHECK_OK(unlink(chain));
	close(dfd);
	CHECK_OK(rmdir(dir));
	printf("readlink_test: done\n");
	(void)argc;
	return 0;
}
