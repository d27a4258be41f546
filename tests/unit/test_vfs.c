/* Unit tests for the VFS: path walk, tmpfs, overlay copy-up and whiteouts, goferfs over a fake
 * gofer, fd tables, the dentry hash table, and the file syscalls on an identity "address
 * space" (guest pointers are Sentry pointers here). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "gofer/client.h"
#include "gofer/protocol.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/ops.h"
#include "sentry/vfs/vfs_fs.h"

#include "tests/unit/vfs_stubs.h"

/* A fake gofer: a fixed tree, fids index it. */
struct fake_node {
	const char *name;
	int parent;
	uint32_t mode;
	const char *data; /* file contents or symlink target */
};
static const struct fake_node fake_tree[] = {
    {"/", -1, LINUX_S_IFDIR | 0755, NULL},
    {"etc", 0, LINUX_S_IFDIR | 0755, NULL},
    {"os-release", 1, LINUX_S_IFREG | 0644, "NAME=fake\n"},
    {"hosts", 1, LINUX_S_IFREG | 0644, "127.0.0.1 localhost\n"},
    {"bin", 0, LINUX_S_IFDIR | 0755, NULL},
    {"sh", 4, LINUX_S_IFREG | 0755, "#!\n"},
    {"tmp", 0, LINUX_S_IFDIR | 01777, NULL},
    {"lib", 0, LINUX_S_IFLNK | 0777, "usr/lib"},
    {"usr", 0, LINUX_S_IFDIR | 0755, NULL},
    {"lib", 8, LINUX_S_IFDIR | 0755, NULL},
    {"libc.so", 9, LINUX_S_IFREG | 0644, "ELF"},
    {"proc", 0, LINUX_S_IFDIR | 0555, NULL},
    {"dev", 0, LINUX_S_IFDIR | 0755, NULL},
    {"sub", 1, LINUX_S_IFDIR | 0755, NULL},
    {"deep", 13, LINUX_S_IFREG | 0644, "deep\n"},
};
#define FAKE_N ((int)ARRAY_SIZE(fake_tree))
static int fake_fids[4096]; /* fid -> node */
static uint32_t fake_next_fid = 1;
static int fake_open_fids;

static void fake_stat(int n, struct gofer_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = 1000 + (uint64_t)n;
	st->mode = fake_tree[n].mode;
	st->nlink = 1;
	st->size = fake_tree[n].data ? strlen(fake_tree[n].data) : 0;
}
/* The node path names beneath node dir ("" or NULL: dir itself), as the gofer resolves it: no
 * symlink on the way. -ENOENT, -ENOTDIR, -ELOOP. Counts the request in n_gofer_calls. */
static int n_gofer_calls;
static int fake_resolve(int dir, const char *path)
{
	n_gofer_calls++;
	while (path && *path) {
		size_t len = strcspn(path, "/");
		int next = -1;
		if (!LINUX_S_ISDIR(fake_tree[dir].mode))
			return LINUX_S_ISLNK(fake_tree[dir].mode) ? -ELOOP : -ENOTDIR;
		for (int i = 1; i < FAKE_N && next < 0; i++)
			if (fake_tree[i].parent == dir && strlen(fake_tree[i].name) == len &&
			    strncmp(fake_tree[i].name, path, len) == 0)
				next = i;
		if (next < 0)
			return -ENOENT;
		dir = next;
		path += len + (path[len] == '/');
	}
	return dir;
}
int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *path, uint32_t *fid,
	       struct gofer_stat *st)
{
	(void)c;
	int i = fake_resolve(fake_fids[dir_fid], path);
	if (i < 0)
		return i;
	*fid = fake_next_fid++;
	fake_fids[*fid] = i;
	fake_open_fids++;
	fake_stat(i, st);
	return 0;
}
int gofer_stat_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st)
{
	(void)c;
	int i = fake_resolve(fake_fids[fid], path);
	if (i < 0)
		return i;
	fake_stat(i, st);
	return 0;
}
int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st)
{
	return gofer_stat_at(c, fid, NULL, st);
}
/* A host fd of node i: a memfd with its contents. */
static int fake_fd(int i, int *fd)
{
	const char *data = fake_tree[i].data;
	int m = memfd_create("fake", 0);
	if (m < 0)
		return -errno;
	if (data && write(m, data, strlen(data)) < 0)
		return -errno;
	*fd = m;
	return 0;
}
static int n_gofer_open;
int gofer_open_at(struct gofer_client *c, uint32_t fid, const char *path, int flags, int *fd)
{
	(void)c;
	(void)flags;
	n_gofer_open++;
	int i = fake_resolve(fake_fids[fid], path);
	if (i < 0)
		return i;
	return fake_fd(i, fd);
}
int gofer_open(struct gofer_client *c, uint32_t fid, int flags, int *fd)
{
	return gofer_open_at(c, fid, NULL, flags, fd);
}
long gofer_readlink_at(struct gofer_client *c, uint32_t fid, const char *path, char *buf,
		       size_t size)
{
	(void)c;
	int i = fake_resolve(fake_fids[fid], path);
	if (i < 0)
		return i;
	if (!LINUX_S_ISLNK(fake_tree[i].mode))
		return -EINVAL;
	const char *t = fake_tree[i].data;
	size_t n = MIN(strlen(t), size);
	memcpy(buf, t, n);
	return (long)n;
}
/* As the gofer's: the stat, a symlink's target, a regular file's fd (not an OPEN). */
int gofer_lookup_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st,
		    int *fd, char *target, size_t size, size_t *target_len)
{
	(void)c;
	*fd = -1;
	*target_len = 0;
	int i = fake_resolve(fake_fids[fid], path);
	if (i < 0)
		return i;
	fake_stat(i, st);
	const char *data = fake_tree[i].data;
	if (LINUX_S_ISLNK(fake_tree[i].mode) && strlen(data) < size) {
		strcpy(target, data);
		*target_len = strlen(data);
	} else if (LINUX_S_ISREG(fake_tree[i].mode)) {
		return fake_fd(i, fd);
	}
	return 0;
}
long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t size)
{
	return gofer_readlink_at(c, fid, NULL, buf, size);
}
/* Two entries per reply, to exercise listings read in several requests. */
long gofer_readdir(struct gofer_client *c, uint32_t fid, const char *path, uint64_t cookie,
		   size_t max, uint32_t flags, int (*fn)(void *arg, const struct gofer_dirent *e),
		   void *arg, bool *end)
{
	(void)c;
	struct gofer_dirent e;
	if (end)
		*end = false;
	int dir = fake_resolve(fake_fids[fid], path);
	if (dir < 0)
		return dir;
	long n = 0;
	for (int i = (int)cookie + 1; i < FAKE_N && (size_t)n < MIN(max, 2); i++) {
		if (fake_tree[i].parent != dir)
			continue;
		memset(&e, 0, sizeof(e));
		e.ino = 1000 + (uint64_t)i;
		e.next = (uint64_t)i;
		e.type = (uint8_t)vfs_dtype(fake_tree[i].mode);
		snprintf(e.name, sizeof(e.name), "%s", fake_tree[i].name);
		if (flags & GOFER_GETDENTS_STAT)
			fake_stat(i, &e.st);
		if ((flags & GOFER_GETDENTS_TARGET) && LINUX_S_ISLNK(fake_tree[i].mode)) {
			e.target = fake_tree[i].data;
			e.target_len = (uint32_t)strlen(e.target);
		}
		int r = fn(arg, &e);
		if (r)
			return r;
		n++;
	}
	return n;
}
int gofer_clunk(struct gofer_client *c, uint32_t fid)
{
	(void)c;
	(void)fid;
	fake_open_fids--;
	return 0;
}
void gofer_client_log_stats(struct gofer_client *c) { (void)c; }
/* The fake gofer serves one read-only root: every mutation is the gofer's -EROFS. */
int gofer_attach(struct gofer_client *c, uint32_t root, uint32_t *fid, struct gofer_stat *st)
{
	(void)c, (void)root, (void)fid, (void)st;
	return -ENOENT;
}
int gofer_create(struct gofer_client *c, uint32_t dir, const char *name, int flags, uint32_t mode,
		 uint32_t *fid, struct gofer_stat *st, int *fd)
{
	(void)c, (void)dir, (void)name, (void)flags, (void)mode, (void)fid, (void)st;
	*fd = -1;
	return -EROFS;
}
int gofer_mkdir(struct gofer_client *c, uint32_t dir, const char *name, uint32_t mode,
		uint32_t *fid, struct gofer_stat *st)
{
	(void)c, (void)dir, (void)name, (void)mode, (void)fid, (void)st;
	return -EROFS;
}
int gofer_symlink(struct gofer_client *c, uint32_t dir, const char *name, const char *target,
		  uint32_t *fid, struct gofer_stat *st)
{
	(void)c, (void)dir, (void)name, (void)target, (void)fid, (void)st;
	return -EROFS;
}
int gofer_link(struct gofer_client *c, uint32_t dir, const char *name, uint32_t file,
	       uint32_t *fid, struct gofer_stat *st)
{
	(void)c, (void)dir, (void)name, (void)file, (void)fid, (void)st;
	return -EROFS;
}
int gofer_unlink(struct gofer_client *c, uint32_t dir, const char *name, unsigned flags)
{
	(void)c, (void)dir, (void)name, (void)flags;
	return -EROFS;
}
int gofer_rename(struct gofer_client *c, uint32_t odir, const char *oname, uint32_t ndir,
		 const char *nname, unsigned flags)
{
	(void)c, (void)odir, (void)oname, (void)ndir, (void)nname, (void)flags;
	return -EROFS;
}
int gofer_setattr(struct gofer_client *c, uint32_t fid, const struct gofer_attr *a,
		  struct gofer_stat *st)
{
	(void)c, (void)fid, (void)a, (void)st;
	return -EROFS;
}
int gofer_statfs(struct gofer_client *c, uint32_t fid, struct gofer_statfs *st)
{
	(void)c, (void)fid;
	memset(st, 0, sizeof(*st));
	return 0;
}

/* ---- fixtures ---- */

static struct task g_task;

static void setup_root(struct super_block *sb)
{
	cr_assert_eq(vfs_set_root(sb), 0);
	stub_tg_init();
	stub_task_init(&g_task, 1);
	g_task.fs = fs_context_create();
	g_task.fdt = fdtable_create();
	cr_assert(g_task.fs && g_task.fdt);
	current_task = &g_task;
}

static void setup_tmpfs(void)
{
	struct super_block *sb;
	cr_assert_eq(tmpfs_create(0755, &sb), 0);
	setup_root(sb);
}

static void teardown(void)
{
	fdtable_put(g_task.fdt);
	fs_context_put(g_task.fs);
	current_task = NULL;
}

/* ---- helpers ---- */

static int mkfile(const char *path, const char *data)
{
	struct file *f;
	long r = vfs_openat(&g_task, LINUX_AT_FDCWD, path,
			    LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC, 0644, &f);
	if (r < 0)
		return (int)r;
	if (data) {
		ssize_t w = vfs_write(f, data, strlen(data));
		cr_assert_eq(w, (ssize_t)strlen(data));
	}
	file_put(f);
	return 0;
}

/* Read the whole of path into buf (NUL-terminated); returns the length or -errno. */
static long slurp(const char *path, char *buf, size_t size)
{
	struct file *f;
	long r = vfs_openat(&g_task, LINUX_AT_FDCWD, path, LINUX_O_RDONLY, 0, &f);
	if (r < 0)
		return r;
	ssize_t n = vfs_read(f, buf, size - 1);
	file_put(f);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

static int lookup_err(const char *path, unsigned flags)
{
	struct path p;
	int r = vfs_lookup(&g_task, LINUX_AT_FDCWD, path, flags, &p);
	if (r == 0)
		path_put(&p);
	return r;
}

static uint64_t ino_of(const char *path, unsigned flags)
{
	struct path p;
	struct linux_stat st;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, path, flags, &p), 0, "lookup %s", path);
	cr_assert_eq(vfs_getattr(p.dentry, &st), 0);
	path_put(&p);
	return st.st_ino;
}

/* ---- path walk over tmpfs ---- */

TestSuite(namei, .init = setup_tmpfs, .fini = teardown);

Test(namei, dots_and_symlinks)
{
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/a", 0755), 0);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/a/b", 0755), 0);
	cr_assert_eq(mkfile("/a/b/f", "hello"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "/a/b", LINUX_AT_FDCWD, "/abs"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "b/f", LINUX_AT_FDCWD, "/a/rel"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "../../a/./b/../b", LINUX_AT_FDCWD, "/a/b/up"), 0);

	uint64_t f = ino_of("/a/b/f", LOOKUP_FOLLOW);
	cr_assert_eq(ino_of("/a/./b/../b/f", LOOKUP_FOLLOW), f);
	cr_assert_eq(ino_of("//a///b//f", LOOKUP_FOLLOW), f);
	cr_assert_eq(ino_of("/abs/f", 0), f);
	cr_assert_eq(ino_of("/a/rel", LOOKUP_FOLLOW), f);
	cr_assert_neq(ino_of("/a/rel", 0), f); /* the link itself */
	cr_assert_eq(ino_of("/a/b/up/up/up/f", 0), f);
	/* ".." never climbs above the root */
	cr_assert_eq(ino_of("/../../a/b/f", 0), f);
	cr_assert_eq(ino_of("/..", 0), ino_of("/", 0));

	char buf[64];
	cr_assert_eq(slurp("/abs/f", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "hello");
}

Test(namei, errors)
{
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/d", 0755), 0);
	cr_assert_eq(mkfile("/d/file", "x"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "file", LINUX_AT_FDCWD, "/d/lf"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "nowhere", LINUX_AT_FDCWD, "/d/dangle"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "loop2", LINUX_AT_FDCWD, "/d/loop1"), 0);
	cr_assert_eq(vfs_symlinkat(&g_task, "loop1", LINUX_AT_FDCWD, "/d/loop2"), 0);

	cr_assert_eq(lookup_err("/d/file/", LOOKUP_FOLLOW), -ENOTDIR);
	cr_assert_eq(lookup_err("/d/file/x", LOOKUP_FOLLOW), -ENOTDIR);
	cr_assert_eq(lookup_err("/d/lf/", LOOKUP_FOLLOW), -ENOTDIR);
	cr_assert_eq(lookup_err("/d/file", LOOKUP_DIRECTORY), -ENOTDIR);
	cr_assert_eq(lookup_err("/d/nope", 0), -ENOENT);
	cr_assert_eq(lookup_err("/d/nope/", 0), -ENOENT);
	cr_assert_eq(lookup_err("/nope/x", 0), -ENOENT);
	cr_assert_eq(lookup_err("", 0), -ENOENT);
	cr_assert_eq(lookup_err("/d/dangle", LOOKUP_FOLLOW), -ENOENT);
	cr_assert_eq(lookup_err("/d/dangle", 0), 0);
	cr_assert_eq(lookup_err("/d/loop1", LOOKUP_FOLLOW), -ELOOP);
	cr_assert_eq(lookup_err("/d/loop1", 0), 0);
	cr_assert_eq(lookup_err("/d/loop1/x", 0), -ELOOP);

	/* A chain of 40 links resolves; 41 is one too many. */
	char name[32], target[32];
	cr_assert_eq(mkfile("/d/end", NULL), 0);
	for (int i = 0; i < 41; i++) {
		snprintf(name, sizeof(name), "/d/c%d", i);
		if (i == 0)
			snprintf(target, sizeof(target), "end");
		else
			snprintf(target, sizeof(target), "c%d", i - 1);
		cr_assert_eq(vfs_symlinkat(&g_task, target, LINUX_AT_FDCWD, name), 0);
	}
	cr_assert_eq(lookup_err("/d/c39", LOOKUP_FOLLOW), 0);
	cr_assert_eq(lookup_err("/d/c40", LOOKUP_FOLLOW), -ELOOP);

	/* NAME_MAX per component, PATH_MAX for the whole */
	char longname[300];
	memset(longname, 'a', 256);
	longname[0] = '/';
	longname[257] = '\0';
	cr_assert_eq(lookup_err(longname, 0), -ENAMETOOLONG);
	longname[256] = '\0'; /* 255 chars: fine, just absent */
	cr_assert_eq(lookup_err(longname, 0), -ENOENT);
	char *huge = malloc(LINUX_PATH_MAX + 1);
	memset(huge, '/', LINUX_PATH_MAX);
	huge[LINUX_PATH_MAX] = '\0';
	cr_assert_eq(lookup_err(huge, 0), -ENAMETOOLONG);
	huge[LINUX_PATH_MAX - 1] = '\0';
	cr_assert_eq(lookup_err(huge, 0), 0);
	free(huge);
}

Test(namei, relative_to_dirfd_and_cwd)
{
	struct file *f;
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/w", 0755), 0);
	cr_assert_eq(mkfile("/w/x", "1"), 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/w", LINUX_O_RDONLY, 0, &f), 0);
	int fd = fdtable_install(g_task.fdt, f, 0);
	cr_assert_geq(fd, 0);
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, fd, "x", 0, &p), 0);
	path_put(&p);
	cr_assert_eq(vfs_lookup(&g_task, 77, "x", 0, &p), -EBADF);
	cr_assert_eq(vfs_lookup(&g_task, 77, "/w/x", 0, &p), 0); /* absolute ignores dirfd */
	path_put(&p);
	cr_assert_eq(vfs_lookup(&g_task, fd, "", LOOKUP_EMPTY, &p), 0);
	cr_assert_eq(p.dentry, f->path.dentry);
	path_put(&p);
	file_put(f);

	struct file *xf;
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/w/x", LINUX_O_RDONLY, 0, &xf), 0);
	int xfd = fdtable_install(g_task.fdt, xf, 0);
	file_put(xf);
	cr_assert_eq(vfs_lookup(&g_task, xfd, "y", 0, &p), -ENOTDIR);

	struct path w;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/w", 0, &w), 0);
	fs_context_set_cwd(g_task.fs, &w);
	path_put(&w);
	cr_assert_eq(lookup_err("x", 0), 0);
	cr_assert_eq(lookup_err("../w/x", 0), 0);
	char buf[64];
	cr_assert_eq(path_to_str(&g_task.fs->cwd, buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "/w");
}

/* ---- tmpfs writes ---- */

Test(namei, tmpfs_write_modes)
{
	struct file *f;
	char buf[64];

	cr_assert_eq(mkfile("/f", "hello"), 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/f",
				LINUX_O_CREAT | LINUX_O_EXCL | LINUX_O_WRONLY, 0644, &f),
		     -EEXIST);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/f", LINUX_O_WRONLY | LINUX_O_APPEND, 0, &f), 0);
	cr_assert_eq(vfs_write(f, " world", 6), 6);
	cr_assert_eq(vfs_pwrite(f, "!", 1, 0), 1); /* O_APPEND: pwrite appends too, as Linux */
	file_put(f);
	cr_assert_eq(slurp("/f", buf, sizeof(buf)), 12);
	cr_assert_str_eq(buf, "hello world!");
	/* a hole, then truncate down and up */
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/f", LINUX_O_RDWR, 0, &f), 0);
	/* sparse, as Linux's tmpfs: a write far away costs one page, the hole nothing */
	cr_assert_eq(vfs_pwrite(f, "Z", 1, 1ULL << 50), 1);
	struct linux_stat sst;
	cr_assert_eq(vfs_fstat(f, &sst), 0);
	cr_assert_eq(sst.st_size, (1LL << 50) + 1);
	cr_assert_eq(sst.st_blocks, 16, "two pages: %ld blocks", (long)sst.st_blocks);
	struct iattr back = {.valid = ATTR_SIZE, .size = 12};
	cr_assert_eq(vfs_setattr(f->path.dentry, &back), 0);
	cr_assert_eq(vfs_pwrite(f, "Z", 1, INT64_MAX), -EFBIG);
	cr_assert_eq(vfs_pwrite(f, "Z", 1, 20), 1);
	cr_assert_eq(vfs_pread(f, buf, sizeof(buf), 0), 21);
	cr_assert_eq(buf[15], 0);
	cr_assert_eq(buf[20], 'Z');
	struct iattr ia = {.valid = ATTR_SIZE, .size = 3};
	cr_assert_eq(vfs_setattr(f->path.dentry, &ia), 0);
	ia.size = 10;
	cr_assert_eq(vfs_setattr(f->path.dentry, &ia), 0);
	cr_assert_eq(vfs_pread(f, buf, sizeof(buf), 0), 10);
	cr_assert_eq(memcmp(buf, "hel\0\0\0\0\0\0\0", 10), 0);
	cr_assert_eq(vfs_lseek(f, 0, LINUX_SEEK_END), 10);
	cr_assert_eq(vfs_lseek(f, -11, LINUX_SEEK_CUR), -EINVAL);
	cr_assert_eq(vfs_lseek(f, 3, LINUX_SEEK_HOLE), 10);
	cr_assert_eq(vfs_lseek(f, 10, LINUX_SEEK_DATA), -ENXIO);
	file_put(f);
	/* O_TRUNC, O_CREAT on a directory, writing a directory */
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/f", LINUX_O_RDONLY | LINUX_O_TRUNC, 0, &f), 0);
	file_put(f);
	cr_assert_eq(slurp("/f", buf, sizeof(buf)), 0);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/", LINUX_O_RDONLY | LINUX_O_CREAT, 0, &f),
	    -EISDIR);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/", LINUX_O_WRONLY, 0, &f), -EISDIR);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/nx/", LINUX_O_RDONLY | LINUX_O_CREAT, 0, &f),
	    -EISDIR);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/f", LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0, &f),
	    -ENOTDIR);
	/* O_CREAT through a dangling symlink creates its target; O_NOFOLLOW refuses links */
	cr_assert_eq(vfs_symlinkat(&g_task, "target", LINUX_AT_FDCWD, "/dl"), 0);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/dl", LINUX_O_WRONLY | LINUX_O_CREAT, 0600, &f),
	    0);
	file_put(f);
	cr_assert_eq(lookup_err("/target", 0), 0);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/dl", LINUX_O_RDONLY | LINUX_O_NOFOLLOW, 0, &f),
	    -ELOOP);
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, "/dl", LINUX_O_PATH | LINUX_O_NOFOLLOW, 0, &f), 0);
	cr_assert_eq(file_flags(f), LINUX_O_PATH);
	cr_assert_eq(vfs_read(f, buf, 1), -EBADF);
	file_put(f);
	/* umask applies to created files */
	struct linux_stat st;
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/target", 0, &p), 0);
	cr_assert_eq(vfs_getattr(p.dentry, &st), 0);
	cr_assert_eq(st.st_mode, LINUX_S_IFREG | 0600);
	path_put(&p);
}

Test(namei, remove_and_rename)
{
	char buf[64];
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/d", 0755), 0);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/d/", 0755), -EEXIST);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/d/.", 0755), -EEXIST);
	cr_assert_eq(mkfile("/d/f", "1"), 0);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/d"), -ENOTEMPTY);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/d/."), -EINVAL);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/d/.."), -ENOTEMPTY);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/d/f"), -ENOTDIR);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/"), -EBUSY);
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/d"), -EISDIR);
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/d/f/"), -ENOTDIR);
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/d/nx/"), -ENOENT);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d", LINUX_AT_FDCWD, "/d/sub", 0),
		     -EINVAL);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d/f", LINUX_AT_FDCWD, "/d", 0),
		     -ENOTEMPTY);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d", LINUX_AT_FDCWD, "/d/f", 0),
		     -EINVAL);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d/f/", LINUX_AT_FDCWD, "/g", 0),
		     -ENOTDIR);

	/* rename keeps an open file working; the replaced file lives while open */
	struct file *f;
	cr_assert_eq(mkfile("/d/g", "2"), 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/d/g", LINUX_O_RDONLY, 0, &f), 0);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d/f", LINUX_AT_FDCWD, "/d/g", 0), 0);
	cr_assert_eq(lookup_err("/d/f", 0), -ENOENT);
	cr_assert_eq(slurp("/d/g", buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "1");
	cr_assert_eq(vfs_read(f, buf, sizeof(buf)), 1);
	cr_assert_eq(buf[0], '2');
	char path[64];
	cr_assert_gt(file_path(f, path, sizeof(path)), 0);
	cr_assert_str_eq(path, "/d/g (deleted)");
	file_put(f);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d/g", LINUX_AT_FDCWD, "/h",
				  LINUX_RENAME_NOREPLACE),
		     0);
	cr_assert_eq(mkfile("/d/g", "3"), 0);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/d/g", LINUX_AT_FDCWD, "/h",
				  LINUX_RENAME_NOREPLACE),
		     -EEXIST);
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/d/g"), 0);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/d"), 0);
	cr_assert_eq(lookup_err("/d", 0), -ENOENT);
	/* a directory moves with its contents */
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/m", 0755), 0);
	cr_assert_eq(mkfile("/m/in", "4"), 0);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/m", LINUX_AT_FDCWD, "/n", 0), 0);
	cr_assert_eq(slurp("/n/in", buf, sizeof(buf)), 1);
}

/* ---- the dentry hash table ---- */

struct count_ctx {
	struct dir_ctx ctx;
	int n;
};
static bool count_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		       unsigned type)
{
	(void)name, (void)len, (void)ino, (void)type;
	container_of(ctx, struct count_ctx, ctx)->n++;
	return true;
}

static int count_entries(const char *dir)
{
	struct file *f;
	struct count_ctx c = {.ctx = {.emit = count_emit}};
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, dir, LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0, &f), 0);
	cr_assert_eq(vfs_iterate(f, &c.ctx), 0);
	file_put(f);
	return c.n - 2; /* . and .. */
}

Test(namei, many_entries)
{
	char name[64];
	enum { N = 5000 };
	d_set_cache_max(1 << 20);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/big", 0755), 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "/big/file-%d", i);
		cr_assert_eq(mkfile(name, NULL), 0);
	}
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/big", 0, &p), 0);
	cr_assert_geq(p.dentry->nbuckets, (size_t)N);
	cr_assert_eq(p.dentry->nchildren, (size_t)N);
	path_put(&p);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "/big/file-%d", i);
		cr_assert_eq(lookup_err(name, 0), 0, "%s", name);
	}
	cr_assert_eq(count_entries("/big"), N);
	for (int i = 0; i < N; i += 2) {
		snprintf(name, sizeof(name), "/big/file-%d", i);
		cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, name), 0);
	}
	cr_assert_eq(count_entries("/big"), N / 2);
	cr_assert_eq(lookup_err("/big/file-0", 0), -ENOENT);
	cr_assert_eq(lookup_err("/big/file-1", 0), 0);
}

/* ---- fd tables ---- */

Test(namei, fdtable)
{
	struct file *f;
	struct fdtable *fdt = g_task.fdt;
	cr_assert_eq(mkfile("/x", NULL), 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/x", LINUX_O_RDONLY, 0, &f), 0);
	g_tg.rlimits[LINUX_RLIMIT_NOFILE].rlim_cur = 8;
	for (int i = 0; i < 8; i++)
		cr_assert_eq(fdtable_install(fdt, f, 0), i);
	cr_assert_eq(fdtable_install(fdt, f, 0), -EMFILE);
	cr_assert_eq(fdtable_close(fdt, 3), 0);
	cr_assert_eq(fdtable_close(fdt, 3), -EBADF);
	cr_assert_eq(fdtable_close(fdt, 5), 0);
	cr_assert_eq(fdtable_install(fdt, f, LINUX_O_CLOEXEC), 3);
	cr_assert_eq(fdtable_get_cloexec(fdt, 3), 1);
	cr_assert_eq(fdtable_reserve(fdt, 0, vfs_nofile_limit()), 5);
	cr_assert_eq(fdtable_install(fdt, f, 0), -EMFILE);
	cr_assert_null(fdtable_get(fdt, 5));
	cr_assert_eq(fdtable_replace(fdt, 5, f, false, 8), -EBUSY);
	fdtable_unreserve(fdt, 5);
	cr_assert_eq(fdtable_alloc(fdt, f, 6, false, 8), -EMFILE);
	cr_assert_eq(fdtable_alloc(fdt, f, 2, false, 8), 5);
	cr_assert_eq(fdtable_replace(fdt, 8, f, false, 8), -EBADF);
	struct fdtable *copy = fdtable_copy(fdt);
	fdtable_close_on_exec(fdt);
	cr_assert_null(fdtable_get(fdt, 3));
	struct file *g = fdtable_get(copy, 3);
	cr_assert_eq(g, f);
	file_put(g);
	fdtable_put(copy);
	cr_assert_eq(atomic_load(&f->refs), 8); /* ours + fds 0-2, 4-7 */
	file_put(f);
}

/* tmpfs keeps file data in memory-file pages (a filemap): they go back when the inode does. */
Test(namei, tmpfs_pages_freed_with_the_inode)
{
	static char big[256 * 1024];
	struct file *f;
	uint64_t used0;

	cr_assert_eq(memfile_init(), 0);
	used0 = memfile_used();
	memset(big, 'b', sizeof(big));
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/big", LINUX_O_RDWR | LINUX_O_CREAT,
				0644, &f),
		     0);
	cr_assert_eq(vfs_write(f, big, sizeof(big)), (ssize_t)sizeof(big));
	cr_assert_eq(memfile_used(), used0 + sizeof(big));
	cr_assert(file_filemap(f));
	struct linux_stat st;
	cr_assert_eq(vfs_fstat(f, &st), 0);
	cr_assert_eq(st.st_blocks, (int64_t)sizeof(big) / 512);
	cr_assert_eq(vfs_unlink_in(g_task.fs->root.dentry, "big"), 0);
	cr_assert_eq(memfile_used(), used0 + sizeof(big), "still open");
	file_put(f);
	cr_assert_eq(memfile_used(), used0, "freed with the last reference");
}

/* ---- overlay over goferfs (the fake gofer) ---- */

static struct super_block *g_lower;

static void setup_overlay(void)
{
	struct super_block *upper, *root;
	fake_next_fid = 1;
	fake_fids[0] = 0;
	d_set_cache_max(8); /* prune all the time: nothing may depend on the cache */
	cr_assert_eq(tmpfs_create(0755, &upper), 0);
	cr_assert_eq(goferfs_create(NULL, GOFER_ROOT_FID, &g_lower), 0);
	cr_assert_eq(overlay_create(upper, g_lower, &root), 0);
	setup_root(root);
}

struct names_ctx {
	struct dir_ctx ctx;
	char names[2048];
};
static bool names_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		       unsigned type)
{
	struct names_ctx *c = container_of(ctx, struct names_ctx, ctx);
	(void)ino, (void)type;
	if (name[0] == '.')
		return true;
	strncat(c->names, name, len);
	strcat(c->names, " ");
	return true;
}

/* The names in dir, space-separated, in listing order. */
static const char *list(const char *dir)
{
	static struct names_ctx c;
	struct file *f;
	memset(&c, 0, sizeof(c));
	c.ctx.emit = names_emit;
	cr_assert_eq(
	    vfs_openat(&g_task, LINUX_AT_FDCWD, dir, LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0, &f), 0);
	cr_assert_eq(vfs_iterate(f, &c.ctx), 0);
	file_put(f);
	return c.names;
}

TestSuite(overlay, .init = setup_overlay, .fini = teardown);

Test(overlay, read_lower)
{
	char buf[64];
	cr_assert_eq(slurp("/etc/os-release", buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "NAME=fake\n");
	cr_assert_eq(slurp("/lib/libc.so", buf, sizeof(buf)), 3); /* through a lower symlink */
	cr_assert_str_eq(list("/etc"), "os-release hosts sub ");
	cr_assert_eq(ino_of("/etc/hosts", 0), 1003);
	struct file *f;
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/hosts", LINUX_O_RDONLY, 0, &f), 0);
	cr_assert_geq(file_host_fd(f), 0); /* mappable: the gofer's fd */
	cr_assert_null(file_filemap(f), "no memory pages: MAP_SHARED read-only is a copy");
	file_put(f);
	/* the host fd outlives the last close: opening the file again asks the gofer nothing */
	int opens = n_gofer_open;
	cr_assert_eq(slurp("/etc/hosts", buf, sizeof(buf)), 20);
	cr_assert_eq(n_gofer_open, opens, "reopened without an OPEN");
}

Test(overlay, copy_up_on_write)
{
	char buf[64];
	struct file *f;
	uint64_t ino = ino_of("/etc/sub/deep", 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/sub/deep",
				LINUX_O_WRONLY | LINUX_O_APPEND, 0, &f),
		     0);
	cr_assert_eq(vfs_write(f, "er\n", 3), 3);
	cr_assert_eq(file_host_fd(f), -ENODEV); /* now a tmpfs file */
	cr_assert(file_filemap(f), "MAP_SHARED maps the upper tmpfs file's pages");
	file_put(f);
	cr_assert_eq(slurp("/etc/sub/deep", buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "deep\ner\n");
	cr_assert_eq(ino_of("/etc/sub/deep", 0), ino); /* the same file as before */
	/* the lower layer is untouched */
	struct dentry *d1, *d2, *d3;
	cr_assert_eq(d_lookup_one(g_lower->root, "etc", 3, &d1), 0);
	cr_assert_eq(d_lookup_one(d1, "sub", 3, &d2), 0);
	cr_assert_eq(d_lookup_one(d2, "deep", 4, &d3), 0);
	struct linux_stat st;
	cr_assert_eq(vfs_getattr(d3, &st), 0);
	cr_assert_eq(st.st_size, 5);
	dput(d3), dput(d2), dput(d1);
	/* O_TRUNC copies up too (and empties) */
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/hosts",
				LINUX_O_RDONLY | LINUX_O_TRUNC, 0, &f),
		     0);
	file_put(f);
	cr_assert_eq(slurp("/etc/hosts", buf, sizeof(buf)), 0);
	/* new files merge into the listing */
	cr_assert_eq(mkfile("/etc/new", "n"), 0);
	cr_assert_str_eq(list("/etc"), "sub hosts new os-release ");
	cr_assert_eq(ino_of("/etc/hosts", 0), 1003);
	/* chmod copies up a lower file without changing its data */
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/bin/sh", 0, &p), 0);
	struct iattr ia = {.valid = ATTR_MODE, .mode = 0700};
	cr_assert_eq(vfs_setattr(p.dentry, &ia), 0);
	cr_assert_eq(vfs_getattr(p.dentry, &st), 0);
	cr_assert_eq(st.st_mode, LINUX_S_IFREG | 0700);
	path_put(&p);
	cr_assert_eq(slurp("/bin/sh", buf, sizeof(buf)), 3);
	/* unused dentries went, and their gofer fids with them */
	d_prune();
	cr_assert_leq(d_cache_count(), 8);
	cr_assert_leq(fake_open_fids, 4, "%d fids still held", fake_open_fids);
}

/* A read-only goferfs names files by path (no fids) and keeps listings with their stats:
 * lookups in a listed directory, present or not, and listing it again ask the gofer nothing. */
Test(overlay, gofer_round_trips)
{
	char buf[64];
	int fids = fake_open_fids, calls;

	cr_assert_eq(slurp("/etc/sub/deep", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "deep\n");
	cr_assert_eq(fake_open_fids, fids, "a read-only mount's files hold no fid");
	cr_assert_str_eq(list("/usr/lib"), "libc.so ");
	calls = n_gofer_calls;
	cr_assert_eq(ino_of("/usr/lib/libc.so", 0), 1010);
	cr_assert_eq(lookup_err("/usr/lib/nope", 0), -ENOENT);
	cr_assert_str_eq(list("/usr/lib"), "libc.so ");
	cr_assert_eq(n_gofer_calls, calls, "served from the kept listing");
	/* a listing in several replies, kept whole: then "/" lookups need nothing either */
	cr_assert_str_eq(list("/"), "etc bin tmp lib usr proc dev ");
	calls = n_gofer_calls;
	cr_assert_eq(lookup_err("/nothing", 0), -ENOENT);
	cr_assert_eq(ino_of("/dev", 0), 1012);
	cr_assert_eq(n_gofer_calls, calls);
	/* symlinks by path: readlink and following it */
	cr_assert_eq(slurp("/lib/libc.so", buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "ELF");
	char t[16] = {0};
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/lib", 0, &p), 0);
	cr_assert_eq(vfs_readlink_dentry(p.dentry, t, sizeof(t)), 7);
	cr_assert_str_eq(t, "usr/lib");
	path_put(&p);
	cr_assert_eq(fake_open_fids, fids);
}

/* A lookup brings a regular file's host fd and a symlink's target with its stat (LOOKUP): the
 * open and the readlink that follow ask the gofer nothing. */
Test(overlay, lookup_brings_fd_and_target)
{
	char buf[64], t[16] = {0};
	struct path p;
	int calls = n_gofer_calls, opens = n_gofer_open;

	cr_assert_eq(ino_of("/etc/sub/deep", 0), 1014);
	calls = n_gofer_calls;
	cr_assert_eq(slurp("/etc/sub/deep", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "deep\n");
	cr_assert_eq(n_gofer_open, opens, "an OPEN after the lookup");
	cr_assert_eq(n_gofer_calls, calls, "a request to open a looked-up file");
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/lib", 0, &p), 0);
	calls = n_gofer_calls;
	cr_assert_eq(vfs_readlink_dentry(p.dentry, t, sizeof(t)), 7);
	cr_assert_str_eq(t, "usr/lib");
	cr_assert_eq(n_gofer_calls, calls, "a READLINK after the lookup");
	path_put(&p);
}

/* A program's listing of a read-only directory brings each symlink's target with its stat
 * (GETDENTS with targets): a stat that follows one, and a readlink, ask the gofer nothing. */
Test(overlay, listing_brings_targets)
{
	char t[16] = {0};
	struct path p;
	int calls;

	cr_assert_str_eq(list("/"), "etc bin tmp lib usr proc dev ");
	calls = n_gofer_calls;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/lib", 0, &p), 0);
	cr_assert_eq(vfs_readlink_dentry(p.dentry, t, sizeof(t)), 7);
	cr_assert_str_eq(t, "usr/lib");
	path_put(&p);
	cr_assert_eq(n_gofer_calls, calls, "a READLINK of a listed symlink");
	/* following it: "usr" is in the listing, its "lib" is asked for */
	cr_assert_eq(ino_of("/lib", LOOKUP_FOLLOW), 1009);
	cr_assert_eq(n_gofer_calls, calls + 1, "%d requests", n_gofer_calls - calls);
}

/* Names missing from a directory nothing listed: after two, the next lookup lists its names
 * (without stats), and then no missing name asks the gofer; a name there still needs its
 * stat, and a listing by the program reads the stats too, after which nothing asks. */
Test(overlay, gofer_lookup_misses_list)
{
	int calls;

	d_set_cache_max(4096); /* the counts below need the directory's inode to stay */
	cr_assert_eq(lookup_err("/etc/missing1", 0), -ENOENT);
	cr_assert_eq(lookup_err("/etc/missing2", 0), -ENOENT);
	cr_assert_eq(lookup_err("/etc/missing3", 0), -ENOENT); /* listed (the fake: 2 a reply) */
	calls = n_gofer_calls;
	cr_assert_eq(lookup_err("/etc/missing4", 0), -ENOENT);
	cr_assert_eq(lookup_err("/etc/missing5/x", 0), -ENOENT);
	cr_assert_eq(n_gofer_calls, calls, "missing names after the listing");
	cr_assert_eq(ino_of("/etc/sub", 0), 1013);
	cr_assert_eq(n_gofer_calls, calls + 1, "a stat of sub (%d)", n_gofer_calls - calls);
	cr_assert_str_eq(list("/etc"), "os-release hosts sub ");
	calls = n_gofer_calls;
	cr_assert_eq(ino_of("/etc/hosts", 0), 1003);
	cr_assert_eq(lookup_err("/etc/missing6", 0), -ENOENT);
	cr_assert_str_eq(list("/etc"), "os-release hosts sub ");
	cr_assert_eq(n_gofer_calls, calls);
}

Test(overlay, whiteouts)
{
	char buf[64];
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/etc/hosts"), 0);
	cr_assert_eq(lookup_err("/etc/hosts", 0), -ENOENT);
	cr_assert_str_eq(list("/etc"), "os-release sub ");
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/etc/hosts"), -ENOENT);
	cr_assert_eq(mkfile("/etc/hosts", "new"), 0);
	cr_assert_eq(slurp("/etc/hosts", buf, sizeof(buf)), 3);
	cr_assert_str_eq(list("/etc"), "hosts os-release sub ");

	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/etc/sub"), -ENOTEMPTY);
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/etc/sub/deep"), 0);
	cr_assert_str_eq(list("/etc/sub"), "");
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/etc/sub"), 0);
	cr_assert_eq(lookup_err("/etc/sub", 0), -ENOENT);
	/* a new directory over a removed one is opaque: the old contents stay gone */
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/etc/sub", 0755), 0);
	cr_assert_str_eq(list("/etc/sub"), "");
	cr_assert_eq(lookup_err("/etc/sub/deep", 0), -ENOENT);

	/* removing a whole lower directory */
	cr_assert_eq(vfs_unlinkat(&g_task, LINUX_AT_FDCWD, "/bin/sh"), 0);
	cr_assert_eq(vfs_rmdirat(&g_task, LINUX_AT_FDCWD, "/bin"), 0);
	cr_assert_eq(lookup_err("/bin", 0), -ENOENT);
	cr_assert_eq(strstr(list("/"), "bin "), NULL);
}

Test(overlay, rename)
{
	char buf[64];
	cr_assert_eq(
	    vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/os-release", LINUX_AT_FDCWD, "/etc/os2", 0),
	    0);
	cr_assert_eq(lookup_err("/etc/os-release", 0), -ENOENT);
	cr_assert_eq(slurp("/etc/os2", buf, sizeof(buf)), 10);
	cr_assert_str_eq(list("/etc"), "os2 hosts sub ");
	/* over an existing lower file, into another directory */
	cr_assert_eq(
	    vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/os2", LINUX_AT_FDCWD, "/bin/sh", 0), 0);
	cr_assert_eq(slurp("/bin/sh", buf, sizeof(buf)), 10);
	/* lower directories do not move (EXDEV, as Linux's overlay without redirect_dir) */
	cr_assert_eq(
	    vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/sub", LINUX_AT_FDCWD, "/etc/sub2", 0),
	    -EXDEV);
	/* upper-only directories do */
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/etc/up", 0755), 0);
	cr_assert_eq(mkfile("/etc/up/f", "u"), 0);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/up", LINUX_AT_FDCWD, "/up2", 0),
		     0);
	cr_assert_eq(slurp("/up2/f", buf, sizeof(buf)), 1);
}

Test(overlay, rename_exchange_and_fifo)
{
	char buf[64];
	uint64_t hosts = ino_of("/etc/hosts", 0), os = ino_of("/etc/os-release", 0);
	/* two lower files: both copied up and swapped; nothing is whited out */
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/hosts", LINUX_AT_FDCWD,
				  "/etc/os-release", LINUX_RENAME_EXCHANGE),
		     0);
	cr_assert_eq(ino_of("/etc/hosts", 0), os, "hosts %lu os %lu now %lu / %lu", (unsigned long)hosts, (unsigned long)os, (unsigned long)ino_of("/etc/hosts", 0), (unsigned long)ino_of("/etc/os-release", 0));
	cr_assert_eq(ino_of("/etc/os-release", 0), hosts);
	cr_assert_eq(slurp("/etc/hosts", buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "NAME=fake\n");
	cr_assert_str_eq(list("/etc"), "hosts os-release sub ");
	/* a copied-up file keeps its inode number wherever it goes, in listings too */
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/os-release", LINUX_AT_FDCWD,
				  "/etc/moved", 0),
		     0);
	d_prune();
	cr_assert_eq(ino_of("/etc/moved", 0), hosts);
	cr_assert_eq(ino_of("/etc/hosts", 0), os);
	cr_assert_str_eq(list("/etc"), "hosts moved sub ");
	/* a lower directory cannot move; an upper-only one can, and hides what is below */
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/sub", LINUX_AT_FDCWD, "/etc/hosts",
				  LINUX_RENAME_EXCHANGE),
		     -EXDEV);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/etc/up", 0755), 0);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/etc/up", LINUX_AT_FDCWD, "/etc/hosts",
				  LINUX_RENAME_EXCHANGE),
		     0);
	cr_assert_str_eq(list("/etc/hosts"), "");
	cr_assert_eq(slurp("/etc/up", buf, sizeof(buf)), 10);
	/* a FIFO made in the overlay is a pipe */
	cr_assert_eq(vfs_mknodat(&g_task, LINUX_AT_FDCWD, "/etc/fifo", LINUX_S_IFIFO | 0600, 0), 0);
	struct file *r, *w;
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/fifo",
				LINUX_O_RDONLY | LINUX_O_NONBLOCK, 0, &r),
		     0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/fifo", LINUX_O_WRONLY, 0, &w), 0);
	cr_assert_eq(vfs_write(w, "pipe", 4), 4);
	cr_assert_eq(vfs_read(r, buf, sizeof(buf)), 4);
	file_put(w);
	cr_assert_eq(vfs_read(r, buf, sizeof(buf)), 0);
	file_put(r);
	struct linux_statfs sf;
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/etc", 0, &p), 0);
	cr_assert_eq(vfs_statfs(p.dentry, &sf), 0);
	cr_assert_eq(sf.f_type, LINUX_OVERLAYFS_SUPER_MAGIC);
	cr_assert_gt(sf.f_blocks, 0);
	path_put(&p);
}

/* The whole boot tree needs devfs and procfs linked in: a build of the VFS alone (while
 * they change) leaves it out with -DVFS_TEST_NO_BOOT. */
#ifndef VFS_TEST_NO_BOOT
Test(overlay, boot_tree)
{
	char buf[64];
	struct file *f;
	cr_assert_eq(vfs_init(&(struct vfs_config){.gofer = NULL}), 0);
	fs_context_put(g_task.fs);
	g_task.fs = fs_context_create();
	/* /tmp is part of the root overlay (made when the lower layer lacks it), /dev has the
	 * memory devices, /proc knows us */
	cr_assert_eq(mkfile("/tmp/x", "t"), 0);
	cr_assert_eq(slurp("/tmp/x", buf, sizeof(buf)), 1);
	cr_assert_eq(vfs_renameat(&g_task, LINUX_AT_FDCWD, "/tmp/x", LINUX_AT_FDCWD, "/etc/x", 0),
		     0);
	cr_assert_eq(slurp("/etc/x", buf, sizeof(buf)), 1);
	cr_assert_eq(mkfile("/etc/x", "e"), 0);
	cr_assert_eq(slurp("/dev/null", buf, sizeof(buf)), 0);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/dev/zero", LINUX_O_RDWR, 0, &f), 0);
	memset(buf, 1, sizeof(buf));
	cr_assert_eq(vfs_read(f, buf, 8), 8);
	cr_assert_eq(buf[7], 0);
	cr_assert_eq(vfs_write(f, buf, 8), 8);
	file_put(f);
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/dev/full", LINUX_O_WRONLY, 0, &f), 0);
	cr_assert_eq(vfs_write(f, buf, 8), -ENOSPC);
	file_put(f);
	cr_assert_eq(slurp("/dev/urandom", buf, 17), 16);

	/* /proc/self/fd/N and /dev/stdin reach the file itself */
	cr_assert_eq(vfs_openat(&g_task, LINUX_AT_FDCWD, "/etc/x", LINUX_O_RDONLY, 0, &f), 0);
	cr_assert_eq(fdtable_install(g_task.fdt, f, 0), 0);
	struct path p;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/dev/stdin", LOOKUP_FOLLOW, &p), 0);
	cr_assert_eq(p.dentry, f->path.dentry);
	path_put(&p);
	file_put(f);
	struct dentry *d;
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/proc/self/fd/0", 0, &p), 0);
	d = p.dentry;
	long n = vfs_readlink_dentry(d, buf, sizeof(buf));
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(buf, "/etc/x", 6), 0);
	path_put(&p);
	cr_assert_eq(lookup_err("/proc/self/fd/1", 0), -ENOENT);
	cr_assert_eq(lookup_err("/proc/2", 0), -ENOENT);
	cr_assert_eq(vfs_lookup(&g_task, LINUX_AT_FDCWD, "/proc/self", 0, &p), 0);
	n = vfs_readlink_dentry(p.dentry, buf, sizeof(buf));
	cr_assert_eq(n, 1);
	cr_assert_eq(buf[0], '1');
	path_put(&p);
	cr_assert_eq(lookup_err("/proc/self/cwd/etc/x", LOOKUP_FOLLOW), 0);
	cr_assert_str_eq(list("/proc/self/fd"), "0 ");
	/* ".." out of a mount goes to the parent mount */
	cr_assert_eq(ino_of("/proc/..", 0), ino_of("/", 0));
	cr_assert_eq(ino_of("/tmp/../etc/x", 0), ino_of("/etc/x", 0));
}
#endif

/* ---- the syscalls, with guest pointers being our pointers ---- */

SYSCALL_DEFINE(read);
SYSCALL_DEFINE(write);
SYSCALL_DEFINE(readv);
SYSCALL_DEFINE(writev);
SYSCALL_DEFINE(pread64);
SYSCALL_DEFINE(openat);
SYSCALL_DEFINE(close);
SYSCALL_DEFINE(lseek);
SYSCALL_DEFINE(fstat);
SYSCALL_DEFINE(newfstatat);
SYSCALL_DEFINE(statx);
SYSCALL_DEFINE(getdents64);
SYSCALL_DEFINE(getcwd);
SYSCALL_DEFINE(chdir);
SYSCALL_DEFINE(fcntl);
SYSCALL_DEFINE(dup2);
SYSCALL_DEFINE(dup3);
SYSCALL_DEFINE(ioctl);
SYSCALL_DEFINE(readlink);
SYSCALL_DEFINE(faccessat2);
SYSCALL_DEFINE(sendfile);
SYSCALL_DEFINE(mkdir);
SYSCALL_DEFINE(unlinkat);

#define U(x) ((uint64_t)(uintptr_t)(x))
#define SC(name, ...) sys_##name(&g_task, &(struct syscall_args){.nr = 0, .a = {__VA_ARGS__}})

TestSuite(sys, .init = setup_tmpfs, .fini = teardown);

Test(sys, open_read_write_seek)
{
	char buf[128];
	long fd = SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/f"),
		     LINUX_O_RDWR | LINUX_O_CREAT | LINUX_O_CLOEXEC, 0644);
	cr_assert_eq(fd, 0);
	cr_assert_eq(SC(write, fd, U("hello world"), 11), 11);
	cr_assert_eq(SC(lseek, fd, 0, LINUX_SEEK_CUR), 11);
	cr_assert_eq(SC(read, fd, U(buf), sizeof(buf)), 0);
	cr_assert_eq(SC(lseek, fd, 6, LINUX_SEEK_SET), 6);
	/* a faulting buffer: EFAULT, and the offset stays */
	cr_assert_eq(SC(read, fd, BAD_ADDR, 5), -EFAULT);
	cr_assert_eq(SC(lseek, fd, 0, LINUX_SEEK_CUR), 6);
	cr_assert_eq(SC(write, fd, BAD_ADDR, 5), -EFAULT);
	cr_assert_eq(SC(read, fd, U(buf), sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "world", 5), 0);
	cr_assert_eq(SC(pread64, fd, U(buf), 5, (uint64_t)-1), -EINVAL);
	cr_assert_eq(SC(pread64, fd, U(buf), 5, 0), 5);
	cr_assert_eq(SC(read, 55, U(buf), 1), -EBADF);
	/* vectored, with an empty entry in the middle */
	char a[3], b[4];
	struct linux_iovec iov[3] = {{U(a), 3}, {U(buf), 0}, {U(b), 4}};
	SC(lseek, fd, 0, LINUX_SEEK_SET);
	cr_assert_eq(SC(readv, fd, U(iov), 3), 7);
	cr_assert_eq(memcmp(a, "hel", 3), 0);
	cr_assert_eq(memcmp(b, "lo w", 4), 0);
	cr_assert_eq(SC(readv, fd, U(iov), LINUX_IOV_MAX + 1), -EINVAL);
	cr_assert_eq(SC(readv, fd, BAD_ADDR, 1), -EFAULT);
	struct linux_iovec wv[2] = {{U("AB"), 2}, {BAD_ADDR, 2}};
	SC(lseek, fd, 0, LINUX_SEEK_SET);
	cr_assert_eq(SC(writev, fd, U(wv), 2), 2); /* a short write up to the fault */
	/* big transfers go through in chunks */
	enum { BIG = 300 * 1024 };
	char *big = malloc(BIG), *back = malloc(BIG);
	for (int i = 0; i < BIG; i++)
		big[i] = (char)(i * 7);
	SC(lseek, fd, 0, LINUX_SEEK_SET);
	cr_assert_eq(SC(write, fd, U(big), BIG), BIG);
	SC(lseek, fd, 0, LINUX_SEEK_SET);
	cr_assert_eq(SC(read, fd, U(back), BIG), BIG);
	cr_assert_eq(memcmp(big, back, BIG), 0);
	free(big);
	free(back);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_GETFL, 0), LINUX_O_RDWR | LINUX_O_LARGEFILE);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_SETFL, LINUX_O_APPEND | LINUX_O_WRONLY), 0);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_GETFL, 0),
		     LINUX_O_RDWR | LINUX_O_LARGEFILE | LINUX_O_APPEND);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_DUPFD, 10), 10);
	cr_assert_eq(SC(fcntl, fd, 9999, 0), -EINVAL);
	cr_assert_eq(SC(close, 10), 0);
	cr_assert_eq(SC(close, 10), -EBADF);
	cr_assert_eq(SC(close, fd), 0);
}

Test(sys, dup_and_fd_errors)
{
	long fd = SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/"), LINUX_O_RDONLY, 0);
	cr_assert_eq(fd, 0);
	cr_assert_eq(SC(dup2, fd, fd), fd);
	cr_assert_eq(SC(dup2, 7, 7), -EBADF);
	cr_assert_eq(SC(dup3, fd, fd, 0), -EINVAL);
	cr_assert_eq(SC(dup3, fd, 5, LINUX_O_NONBLOCK), -EINVAL);
	cr_assert_eq(SC(dup3, fd, 5, LINUX_O_CLOEXEC), 5);
	cr_assert_eq(SC(dup2, fd, 1024), -EBADF);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_DUPFD, 1024), -EINVAL);
	char c;
	cr_assert_eq(SC(read, fd, U(&c), 1), -EISDIR);
	cr_assert_eq(SC(write, fd, U(&c), 1), -EBADF);
	cr_assert_eq(SC(ioctl, fd, LINUX_TCGETS, U(&c)), -ENOTTY);
	int on = 1;
	cr_assert_eq(SC(ioctl, fd, LINUX_FIONBIO, U(&on)), 0);
	cr_assert(SC(fcntl, fd, LINUX_F_GETFL, 0) & LINUX_O_NONBLOCK);
	cr_assert_eq(SC(ioctl, fd, LINUX_FIONCLEX, 0), 0);
	cr_assert_eq(SC(fcntl, 5, LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	/* EMFILE wins over ENOENT, as the fd is taken before the walk */
	g_tg.rlimits[LINUX_RLIMIT_NOFILE].rlim_cur = 2;
	cr_assert_eq(SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/nope"), LINUX_O_RDONLY, 0), -ENOENT);
	cr_assert_eq(SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/"), LINUX_O_RDONLY, 0), 1);
	cr_assert_eq(SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/nope"), LINUX_O_RDONLY, 0), -EMFILE);
	cr_assert_eq(SC(openat, (uint64_t)LINUX_AT_FDCWD, BAD_ADDR, LINUX_O_RDONLY, 0), -EFAULT);
}

Test(sys, stat_getdents_cwd)
{
	struct linux_stat st;
	cr_assert_eq(SC(mkdir, U("/dir"), 0777), 0);
	cr_assert_eq(mkfile("/dir/a", "xyz"), 0);
	cr_assert_eq(mkfile("/dir/bb", NULL), 0);
	cr_assert_eq(SC(newfstatat, (uint64_t)LINUX_AT_FDCWD, U("/dir/a"), U(&st), 0), 0);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_mode, LINUX_S_IFREG | 0644);
	cr_assert_eq(SC(newfstatat, (uint64_t)LINUX_AT_FDCWD, U("/dir"), U(&st), 0), 0);
	cr_assert_eq(st.st_mode, LINUX_S_IFDIR | 0755); /* umask 022 */
	cr_assert_eq(SC(newfstatat, (uint64_t)LINUX_AT_FDCWD, U("/dir/a"), U(&st), 0x8000),
		     -EINVAL);
	cr_assert_eq(SC(newfstatat, (uint64_t)LINUX_AT_FDCWD, U("/dir/a"), BAD_ADDR, 0), -EFAULT);
	long fd =
	    SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/dir"), LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(SC(newfstatat, fd, 0, U(&st), LINUX_AT_EMPTY_PATH), 0);
	cr_assert_eq(st.st_mode & LINUX_S_IFMT, LINUX_S_IFDIR);
	cr_assert_eq(SC(newfstatat, fd, U(""), U(&st), 0), -ENOENT);
	struct linux_statx sx;
	cr_assert_eq(SC(statx, fd, U("a"), 0, LINUX_STATX_BASIC_STATS, U(&sx)), 0);
	cr_assert_eq(sx.stx_size, 3);
	cr_assert_eq(SC(statx, fd, U("a"), LINUX_AT_STATX_SYNC_TYPE, 0, U(&sx)), -EINVAL);

	char buf[256];
	cr_assert_eq(SC(getdents64, fd, U(buf), 10), -EINVAL);
	long n = SC(getdents64, fd, U(buf), sizeof(buf));
	cr_assert_gt(n, 0);
	int count = 0;
	char names[64] = "";
	for (long off = 0; off < n;) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
		strcat(names, d->d_name);
		strcat(names, ",");
		cr_assert_gt(d->d_off, 0);
		off += d->d_reclen;
		count++;
	}
	cr_assert_str_eq(names, ".,..,a,bb,");
	cr_assert_eq(SC(getdents64, fd, U(buf), sizeof(buf)), 0);
	cr_assert_eq(SC(lseek, fd, 0, LINUX_SEEK_SET), 0);
	cr_assert_eq(SC(getdents64, fd, U(buf), 48), 48); /* "." and ".." only */
	cr_assert_eq(SC(getdents64, fd, BAD_ADDR, sizeof(buf)), -EFAULT);

	cr_assert_eq(SC(chdir, U("/dir/a")), -ENOTDIR);
	cr_assert_eq(SC(chdir, U("/dir")), 0);
	cr_assert_eq(SC(getcwd, U(buf), 4), -ERANGE);
	cr_assert_eq(SC(getcwd, U(buf), sizeof(buf)), 5);
	cr_assert_str_eq(buf, "/dir");
	cr_assert_eq(SC(readlink, U(""), U(buf), 10), -ENOENT);
	cr_assert_eq(SC(readlink, U("a"), U(buf), 10), -EINVAL);
	cr_assert_eq(SC(faccessat2, (uint64_t)LINUX_AT_FDCWD, U("a"), LINUX_X_OK, 0), -EACCES);
	cr_assert_eq(SC(faccessat2, (uint64_t)LINUX_AT_FDCWD, U("a"), LINUX_R_OK | LINUX_W_OK, 0),
		     0);
	cr_assert_eq(SC(faccessat2, (uint64_t)LINUX_AT_FDCWD, U("a"), 8, 0), -EINVAL);
	cr_assert_eq(SC(unlinkat, (uint64_t)LINUX_AT_FDCWD, U("/dir"), LINUX_AT_REMOVEDIR),
		     -ENOTEMPTY);
	cr_assert_eq(SC(unlinkat, (uint64_t)LINUX_AT_FDCWD, U("bb"), 0x100), -EINVAL);
}

Test(sys, host_pipe)
{
	int p[2];
	char buf[16];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(fdtable_install_host(g_task.fdt, 0, p[0]), 0);
	cr_assert_eq(fdtable_install_host(g_task.fdt, 1, p[1]), 0);
	cr_assert_eq(SC(write, 1, U("ping"), 4), 4);
	cr_assert_eq(SC(pread64, 0, U(buf), 4, 0), -ESPIPE);
	cr_assert_eq(SC(lseek, 0, 0, LINUX_SEEK_CUR), -ESPIPE);
	cr_assert_eq(SC(read, 0, U(buf), sizeof(buf)), 4);
	int on = 1;
	cr_assert_eq(SC(ioctl, 0, LINUX_FIONBIO, U(&on)), 0);
	cr_assert_eq(SC(read, 0, U(buf), sizeof(buf)), -EAGAIN);
	struct linux_winsize ws;
	cr_assert_eq(SC(ioctl, 0, LINUX_TIOCGWINSZ, U(&ws)), -ENOTTY);
	struct linux_stat st;
	cr_assert_eq(SC(fstat, 0, U(&st)), 0);
	cr_assert_eq(st.st_mode & LINUX_S_IFMT, LINUX_S_IFIFO);
	struct file *f = fdtable_get(g_task.fdt, 0);
	cr_assert_gt(file_path(f, buf, sizeof(buf)), 0);
	cr_assert_eq(strncmp(buf, "pipe:[", 6), 0);
	file_put(f);
	/* sendfile from a tmpfs file into the pipe */
	cr_assert_eq(mkfile("/s", "sendme"), 0);
	long fd = SC(openat, (uint64_t)LINUX_AT_FDCWD, U("/s"), LINUX_O_RDONLY, 0);
	int64_t off = 2;
	cr_assert_eq(SC(sendfile, 1, fd, U(&off), 100), 4);
	cr_assert_eq(off, 6);
	cr_assert_eq(SC(lseek, fd, 0, LINUX_SEEK_CUR), 0);
	on = 0;
	SC(ioctl, 0, LINUX_FIONBIO, U(&on));
	cr_assert_eq(SC(read, 0, U(buf), sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "ndme", 4), 0);
	/* no reader left: EPIPE, and SIGPIPE's default action ends the task */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(SC(close, 0), 0);
	cr_assert_eq(SC(write, 1, U("x"), 1), -EPIPE);
	cr_assert_eq(g_last_signal, LINUX_SIGPIPE);
}
