/*
 * rw_files.c: writes files (acceptance 4: /tmp/x and /etc/x) and reads back what it wrote.
 *
 *   rw_files TMP_PATH ETC_PATH [--keep]  create both, write, append, read back, list the parent
 *                                        directory; unlink them at the end unless --keep
 *   rw_files --modify PATH               overwrite and then truncate an existing file (the
 *                                        security test runs this in the sandbox only, on a host
 *                                        file that must stay unchanged)
 * Paths are never printed, so the output does not depend on them.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

static const char line1[] = "first line written by rw_files\n";
static const char line2[] = "second line, appended\n";

static size_t read_all(const char *path, char *buf, size_t cap)
{
	int fd = CHECK_OK(open(path, O_RDONLY));
	size_t n = 0;
	ssize_t r;

	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += r;
	CHECK_OK(close(fd));
	return n;
}

/* Returns 1 if name is in the directory dir (found through readdir). */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	CHECK(d != NULL, "opendir parent");
	while ((e = readdir(d)) != NULL)
		if (!strcmp(e->d_name, name))
			found++;
	closedir(d);
	CHECK(found <= 1, "listed %d times", found);
	return found;
}

static void write_and_check(const char *label, const char *path, int keep)
{
	char buf[256], copy[256];
	struct stat st;
	int fd;

	fd = CHECK_OK(open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644));
	CHECK(write(fd, line1, strlen(line1)) == (ssize_t)strlen(line1), "%s: write", label);
	CHECK_OK(close(fd));
	CHECK(read_all(path, buf, sizeof(buf)) == strlen(line1) && !memcmp(buf, line1, strlen(line1)),
	      "%s: read back after write", label);

	fd = CHECK_OK(open(path, O_WRONLY | O_APPEND));
	CHECK(write(fd, line2, strlen(line2)) == (ssize_t)strlen(line2), "%s: append", label);
	CHECK_OK(close(fd));
	size_t n = read_all(path, buf, sizeof(buf));
	CHECK(n == strlen(line1) + strlen(line2), "%s: size after append %zu", label, n);
	CHECK(!memcmp(buf, line1, strlen(line1)) && !memcmp(buf + strlen(line1), line2, strlen(line2)),
	      "%s: content after append", label);

	CHECK_OK(stat(path, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == (off_t)n, "%s: stat size %lld", label,
	      (long long)st.st_size);

	snprintf(copy, sizeof(copy), "%s", path);
	char *name = basename(copy);
	char dcopy[256];
	snprintf(dcopy, sizeof(dcopy), "%s", path);
	char *dir = dirname(dcopy);
	CHECK(listed(dir, name), "%s: not listed in its directory", label);

	printf("%s: wrote and read back %zu bytes, fnv1a %016llx, listed in its directory\n", label, n,
	       (unsigned long long)fnv1a(FNV_INIT, buf, n));
	if (keep)
		return;
	CHECK_OK(unlink(path));
	CHECK_ERR(stat(path, &st), ENOENT);
	CHECK(!listed(dir, name), "%s: still listed after unlink", label);
	printf("%s: removed\n", label);
}

static int modify(const char *path)
{
	char orig[4096], buf[4096];
	size_t n = read_all(path, orig, sizeof(orig));
	int fd;

	CHECK(n > 0, "file to modify is empty");
	fd = CHECK_OK(open(path, O_RDWR));
	CHECK(write(fd, "MODIFIED", 8) == 8, "overwrite");
	CHECK_OK(close(fd));
	size_t m = read_all(path, buf, sizeof(buf));
	CHECK(m == (n > 8 ? n : 8) && !memcmp(buf, "MODIFIED", 8), "read back overwrite");
	fd = CHECK_OK(open(path, O_WRONLY | O_TRUNC));
	CHECK_OK(close(fd));
	CHECK(read_all(path, buf, sizeof(buf)) == 0, "truncate");
	printf("modify: overwrote and truncated the file\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--modify"))
		return modify(argv[2]);
	CHECK(argc == 3 || (argc == 4 && !strcmp(argv[3], "--keep")),
	      "usage: rw_files TMP_PATH ETC_PATH [--keep] | rw_files --modify PATH");
	umask(022);
	write_and_check("tmp", argv[1], argc == 4);
	write_and_check("etc", argv[2], argc == 4);
	printf("rw_files: done\n");
	return 0;
}
