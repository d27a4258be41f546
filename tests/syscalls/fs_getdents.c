/* fs_getdents.c: getdents64 on /, /tmp, /dev, /proc and a fresh directory: ".", "..", d_type
 * against lstat, no duplicates, small buffers, rewinding, EINVAL/ENOTDIR/EBADF. */
#include "sc.h"

#include <dirent.h>
#include <limits.h>

struct ent {
	char name[256];
	unsigned char type;
	uint64_t ino;
};

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* list(fd, bufsz, out, max): all entries via getdents64 with a buffer of bufsz bytes. */
static int list(int fd, size_t bufsz, struct ent *out, int max)
{
	char *buf = malloc(bufsz);
	int n = 0;

	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, bufsz);
		CHECK(r >= 0, "getdents64");
		if (r == 0)
			break;
		for (long off = 0; off < r;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			CHECK(d->d_reclen % 8 == 0 && d->d_reclen > 0 && off + d->d_reclen <= r,
			      "d_reclen %u", d->d_reclen);
			CHECK(strlen(d->d_name) < 256, "name length");
			if (n < max) {
				strcpy(out[n].name, d->d_name);
				out[n].type = d->d_type;
				out[n].ino = d->d_ino;
			}
			n++;
			off += d->d_reclen;
		}
	}
	free(buf);
	return n;
}

static int find(struct ent *e, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(e[i].name, name))
			return i;
	return -1;
}

static unsigned char type_of(mode_t m)
{
	return S_ISDIR(m)    ? DT_DIR
	       : S_ISREG(m)  ? DT_REG
	       : S_ISLNK(m)  ? DT_LNK
	       : S_ISCHR(m)  ? DT_CHR
	       : S_ISBLK(m)  ? DT_BLK
	       : S_ISFIFO(m) ? DT_FIFO
	       : S_ISSOCK(m) ? DT_SOCK
			     : DT_UNKNOWN;
}

enum { MAX = 4096 };
static struct ent ents[MAX], ents2[MAX];

/* check_dir(path, must): lists path; checks ".", "..", uniqueness, d_type; must[] present. */
static int check_dir(const char *path, const char *const *must)
{
	int fd = (int)CHECK_OK(open(path, O_RDONLY | O_DIRECTORY));
	int n = list(fd, 32768, ents, MAX);

	CHECK(n <= MAX, "%s: too many entries", path);
	CHECK(find(ents, n, ".") >= 0 && find(ents, n, "..") >= 0, "%s: . and ..", path);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < i; j++)
			CHECK(strcmp(ents[i].name, ents[j].name), "%s: duplicate %s", path,
			      ents[i].name);
		if (!strcmp(ents[i].name, "..") || ents[i].type == DT_UNKNOWN)
			continue;
		struct stat st;
		/* Entries may vanish while we look (processes in /proc, files in /tmp). */
		if (fstatat(fd, ents[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		CHECK(ents[i].type == type_of(st.st_mode), "%s/%s: d_type %d, lstat type %d", path,
		      ents[i].name, ents[i].type, type_of(st.st_mode));
	}
	for (int i = 0; must && must[i]; i++)
		CHECK(find(ents, n, must[i]) >= 0, "%s has no %s", path, must[i]);
	/* A tiny buffer gives the same entries, one or a few at a time (where nothing changes
	 * under us: /proc and /tmp are busy on the host). */
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	int n2 = list(fd, 280, ents2, MAX);
	if (strcmp(path, "/proc") && strcmp(path, "/tmp")) {
		CHECK(n2 == n, "%s: %d entries with a small buffer, %d with a big one", path, n2, n);
		for (int i = 0; i < n; i++)
			CHECK(find(ents2, n2, ents[i].name) >= 0, "%s: %s missing", path,
			      ents[i].name);
	}
	close(fd);
	return n;
}

static void test_dirs(void)
{
	static const char *const root[] = { "etc", "usr", "tmp", "proc", "dev", NULL };
	static const char *const dev[] = { "null", "zero", "urandom", NULL };
	static const char *const proc[] = { "self", "cpuinfo", "meminfo", NULL };
	char me[16];

	check_dir("/", root);
	check_dir("/tmp", NULL);
	check_dir("/dev", dev);
	check_dir("/proc", proc);
	snprintf(me, sizeof(me), "%d", getpid());
	const char *const self[] = { me, NULL };
	check_dir("/proc", self);
	check_dir("/proc/self", (const char *const[]){ "stat", "status", "fd", "maps", NULL });
	check_dir("/usr/bin", (const char *const[]){ "env", NULL });
	ok("getdents64 on /, /tmp, /dev, /proc, /proc/self, /usr/bin: ., .., d_type, no duplicates");
}

static void test_fresh(void)
{
	const char *d = tpath("g");
	char p[PATH_MAX];

	CHECK_OK(mkdir(d, 0755));
	int fd = (int)CHECK_OK(open(d, O_RDONLY | O_DIRECTORY));
	CHECK(list(fd, 4096, ents, MAX) == 2, "an empty directory has . and .. only");
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/file-with-a-long-name-%04d", d, i);
		write_file(p, "", 0644);
	}
	CHECK_OK(mkdir(tpath("g/sub"), 0755));
	CHECK_OK(symlink("x", tpath("g/link")));
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	int n = list(fd, 1024, ents, MAX);
	CHECK(n == 304, "300 files + sub + link + . + ..: %d", n);
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "file-with-a-long-name-%04d", i);
		int k = find(ents, n, p);
		CHECK(k >= 0 && ents[k].type == DT_REG, "%s listed as a file", p);
		struct stat st;
		CHECK_OK(fstatat(fd, p, &st, 0));
		CHECK(st.st_ino == ents[k].ino, "d_ino == st_ino");
	}
	CHECK(ents[find(ents, n, "sub")].type == DT_DIR, "sub: DT_DIR");
	CHECK(ents[find(ents, n, "link")].type == DT_LNK, "link: DT_LNK");
	/* Removed entries disappear after a rewind. */
	snprintf(p, sizeof(p), "%s/file-with-a-long-name-0007", d);
	CHECK_OK(unlink(p));
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	n = list(fd, 1024, ents, MAX);
	CHECK(n == 303 && find(ents, n, "file-with-a-long-name-0007") < 0, "unlinked entry gone");

	/* Errors. */
	char small[8];
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	CHECK(raw(SYS_getdents64, fd, (long)small, sizeof(small), 0, 0, 0) == -EINVAL,
	      "buffer too small for one entry: EINVAL");
	int ffd = (int)CHECK_OK(open("/etc/passwd", O_RDONLY));
	char buf[1024];
	CHECK(raw(SYS_getdents64, ffd, (long)buf, sizeof(buf), 0, 0, 0) == -ENOTDIR, "ENOTDIR");
	close(ffd);
	CHECK(raw(SYS_getdents64, 999, (long)buf, sizeof(buf), 0, 0, 0) == -EBADF, "EBADF");
	CHECK(raw(SYS_getdents64, fd, 8, sizeof(buf), 0, 0, 0) == -EFAULT, "EFAULT");
	close(fd);

	/* readdir (glibc over getdents64) sees the same. */
	DIR *dir = opendir(d);
	CHECK(dir != NULL, "opendir");
	int count = 0;
	while (readdir(dir))
		count++;
	closedir(dir);
	CHECK(count == 303, "readdir count %d", count);
	ok("getdents64 on a new /tmp directory: 300 files, types, d_ino, rewind, errors; readdir");
}

int main(void)
{
	test_dirs();
	test_fresh();
	return 0;
}
