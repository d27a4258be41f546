/* dir_list.c: getdents64 over a tree the program creates in /tmp and over stable host directories. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct ent {
	char name[256];
	unsigned char type;
};

static struct ent ents[4096];

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static long sys_getdents64(int fd, void *buf, size_t len)
{
	return syscall(SYS_getdents64, fd, buf, len);
}

/* Lists the directory open at fd with a bufsz-byte buffer; returns the sorted entry count. */
static size_t list_fd(int fd, size_t bufsz, int *calls)
{
	char buf[8192] __attribute__((aligned(8)));
	size_t n = 0;
	long r;

	*calls = 0;
	while ((r = sys_getdents64(fd, buf, bufsz)) > 0) {
		(*calls)++;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			CHECK(d->d_reclen >= 19 && off + d->d_reclen <= r, "bad reclen %u",
			      d->d_reclen);
			CHECK(d->d_reclen % 8 == 0, "reclen %u not 8-aligned", d->d_reclen);
			CHECK(n < sizeof(ents) / sizeof(ents[0]), "too many entries");
			CHECK(strlen(d->d_name) < sizeof(ents[n].name), "name too long");
			strcpy(ents[n].name, d->d_name);
			ents[n].type = d->d_type;
			n++;
			off += d->d_reclen;
		}
	}
	CHECK(r == 0, "getdents64 returned %ld", r);
	qsort(ents, n, sizeof(ents[0]), cmp_ent);
	for (size_t i = 1; i < n; i++)
		CHECK(strcmp(ents[i - 1].name, ents[i].name) != 0, "duplicate entry %s",
		      ents[i].name);
	return n;
}

static size_t list_path(const char *path, size_t bufsz, int *calls)
{
	int fd = CHECK_OK(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	size_t n = list_fd(fd, bufsz, calls);

	CHECK_OK(close(fd));
	return n;
}

static char type_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_CHR: return 'c';
	case DT_UNKNOWN: return '?';
	default: return 'o';
	}
}

static int has(size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ents[i].name, name))
			return 1;
	return 0;
}

static void write_file(const char *path, const char *text)
{
	int fd = CHECK_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644));

	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
	CHECK_OK(close(fd));
}

int main(void)
{
	char root[128], p[1024];
	int calls;
	size_t n;

	snprintf(root, sizeof(root), "/tmp/runsc-c-dl-%s", uniq());
	CHECK_OK(mkdir(root, 0755));
	snprintf(p, sizeof(p), "%s/sub", root);
	CHECK_OK(mkdir(p, 0755));
	snprintf(p, sizeof(p), "%s/sub/inner", root);
	write_file(p, "inner\n");
	snprintf(p, sizeof(p), "%s/link", root);
	CHECK_OK(symlink("sub/inner", p));
	for (int i = 0; i < 150; i++) {
		snprintf(p, sizeof(p), "%s/file-%03d-with-a-longish-name", root, i);
		write_file(p, "x");
	}

	/* A small buffer forces many calls; the result is the same as with a big one. */
	n = list_path(root, 256, &calls);
	CHECK(calls > 10, "only %d calls with a 256-byte buffer", calls);
	CHECK(n == 154, "%zu entries (want 150 files, sub, link, . and ..)", n);
	CHECK(has(n, ".") && has(n, ".."), "no . or ..");
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		unsigned char want;

		snprintf(p, sizeof(p), "%s/%.255s", root, ents[i].name);
		CHECK_OK(lstat(p, &st));
		want = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		CHECK(ents[i].type == want, "%s: d_type %d want %d", ents[i].name, ents[i].type, want);
		if (i < 6 || i == n - 1)
			printf("tmp tree: %c %s\n", type_char(ents[i].type), ents[i].name);
	}
	uint64_t h = FNV_INIT;
	for (size_t i = 0; i < n; i++)
		h = fnv1a(h, ents[i].name, strlen(ents[i].name) + 1);
	printf("tmp tree: %zu entries, names fnv1a %016llx\n", n, (unsigned long long)h);
	size_t n_small = n;
	n = list_path(root, 8192, &calls);
	CHECK(n == n_small, "big buffer: %zu entries, small: %zu", n, n_small);

	/* Rewinding with lseek lists again from the start. */
	int fd = CHECK_OK(open(root, O_RDONLY | O_DIRECTORY));
	n = list_fd(fd, 1024, &calls);
	CHECK(n == n_small, "first pass %zu", n);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind dir");
	n = list_fd(fd, 1024, &calls);
	CHECK(n == n_small, "after rewind %zu", n);

	/* A buffer too small for one entry is EINVAL. */
	char tiny[16];
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind dir");
	errno = 0;
	CHECK(sys_getdents64(fd, tiny, sizeof(tiny)) == -1 && errno == EINVAL, "tiny buffer");
	printf("ok getdents64 tiny buffer -> EINVAL\n");
	CHECK_OK(close(fd));

	/* Not a directory, bad fd. */
	snprintf(p, sizeof(p), "%s/sub/inner", root);
	fd = CHECK_OK(open(p, O_RDONLY));
	char buf[1024];
	errno = 0;
	CHECK(sys_getdents64(fd, buf, sizeof(buf)) == -1 && errno == ENOTDIR, "getdents on a file");
	printf("ok getdents64 on a file -> ENOTDIR\n");
	CHECK_OK(close(fd));
	errno = 0;
	CHECK(sys_getdents64(fd, buf, sizeof(buf)) == -1 && errno == EBADF, "getdents closed fd");
	printf("ok getdents64 on a closed fd -> EBADF\n");
	CHECK_ERR(open(p, O_RDONLY | O_DIRECTORY), ENOTDIR);

	/* The sub directory. */
	snprintf(p, sizeof(p), "%s/sub", root);
	n = list_path(p, 4096, &calls);
	CHECK(n == 3 && has(n, "inner"), "sub has %zu entries", n);
	printf("sub: %s %s %s\n", ents[0].name, ents[1].name, ents[2].name);

	/* Stable host directories, as the gofer serves them. */
	const char *host_dirs[] = { "/usr/share/doc/busybox-static", "/usr/include/linux", "/usr/include/asm-generic" };
	for (size_t d = 0; d < sizeof(host_dirs) / sizeof(host_dirs[0]); d++) {
		n = list_path(host_dirs[d], 512, &calls);
		CHECK(has(n, ".") && has(n, ".."), "%s: no . or ..", host_dirs[d]);
		h = FNV_INIT;
		for (size_t i = 0; i < n; i++) {
			char t = type_char(ents[i].type);
			h = fnv1a(h, ents[i].name, strlen(ents[i].name) + 1);
			h = fnv1a(h, &t, 1);
		}
		printf("%s: %zu entries, fnv1a %016llx\n", host_dirs[d], n, (unsigned long long)h);
		if (d == 0)
			for (size_t i = 0; i < n; i++)
				printf("  %c %s\n", type_char(ents[i].type), ents[i].name);
	}

	/* Clean up: the tree must come apart again. */
	for (int i = 0; i < 150; i++) {
		snprintf(p, sizeof(p), "%s/file-%03d-with-a-longish-name", root, i);
		CHECK_OK(unlink(p));
	}
	snprintf(p, sizeof(p), "%s/link", root);
	CHECK_OK(unlink(p));
	snprintf(p, sizeof(p), "%s/sub", root);
	CHECK_ERR(rmdir(p), ENOTEMPTY);
	snprintf(p, sizeof(p), "%s/sub/inner", root);
	CHECK_OK(unlink(p));
	snprintf(p, sizeof(p), "%s/sub", root);
	CHECK_OK(rmdir(p));
	n = list_path(root, 4096, &calls);
	CHECK(n == 2, "after cleanup %zu entries", n);
	CHECK_OK(rmdir(root));
	printf("dir_list: done\n");
	return 0;
}
