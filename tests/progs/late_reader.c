/*
 * late_reader.c: sleeps, then reads files and lists directories it has not touched before.
 * The security test traces the Sentry's host calls during the late part: every file must
 * come through the gofer, none through a host path call made by the Sentry itself.
 *   late_reader [SECONDS]   (default 2)
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

static void read_sum(const char *path)
{
	char buf[4096];
	uint64_t h = FNV_INIT;
	size_t total = 0;
	ssize_t n;
	int fd = CHECK_OK(open(path, O_RDONLY));

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = fnv1a(h, buf, n);
		total += n;
	}
	CHECK(n == 0, "read %s", path);
	CHECK_OK(close(fd));
	printf("%s: %zu bytes, fnv1a %016llx\n", path, total, (unsigned long long)h);
}

static void list(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL, "opendir %s", path);
	while ((e = readdir(d)) != NULL)
		n++;
	closedir(d);
	printf("%s: %d entries\n", path, n);
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 2;
	struct timespec ts = { secs, 0 };

	printf("sleeping %d s\n", secs);
	fflush(stdout);
	CHECK_OK(nanosleep(&ts, NULL));

	read_sum("/usr/share/doc/busybox-static/copyright");
	read_sum("/etc/services");
	read_sum("/etc/os-release");
	list("/usr/include/linux");
	list("/usr/share/doc/busybox-static/examples");

	struct stat st;
	CHECK_OK(stat("/usr/include/linux/stat.h", &st));
	printf("/usr/include/linux/stat.h: size %lld\n", (long long)st.st_size);
	char buf[256];
	ssize_t n = CHECK_OK(readlink("/etc/os-release", buf, sizeof(buf) - 1));
	buf[n] = 0;
	printf("/etc/os-release -> %s\n", buf);
	CHECK_ERR(open("/usr/include/linux/no-such-header.h", O_RDONLY), ENOENT);

	/* A private file mapping of a file not opened before. */
	int fd = CHECK_OK(open("/usr/include/linux/types.h", O_RDONLY));
	CHECK_OK(fstat(fd, &st));
	char *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	printf("/usr/include/linux/types.h: mapped fnv1a %016llx\n",
	       (unsigned long long)fnv1a(FNV_INIT, m, st.st_size));
	munmap(m, st.st_size);
	close(fd);
	printf("late_reader: done\n");
	return 0;
}
