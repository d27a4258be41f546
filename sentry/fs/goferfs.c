/* goferfs: the host's files through the gofer (walk/stat/open/readlink/getdents, and on a
 * writable bind mount create/mkdir/unlink/rename/symlink/link/setattr). Attributes are cached
 * from the walk (refreshed from the gofer on a writable mount); opened files read and write
 * the donated host fds with pread/pwrite. The gofer, not this file, enforces read-only.
 *
 * On a read-only mount (the root's lower layer) a file has no fid of its own: it is named as
 * the path from the nearest ancestor that has one (the mount's root), which the gofer
 * resolves in the same request (protocol.h), so a lookup, open, readlink or listing is one
 * round trip and nothing is ever clunked. A directory's listing is read with every entry's
 * stat and kept with the inode (struct dircache), so looking up any name in a listed
 * directory, present or not, and listing it again cost no round trip. The host's files are
 * taken as they were when first seen, as the attributes and negative dentries already were. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/host.h"
#include "common/log.h"
#include "common/util.h"
#include "gofer/client.h"
#include "gofer/protocol.h"
#include "sentry/fs/dirlist.h"
#include "sentry/fs/overlay.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

#define GOFER_NO_FID UINT32_MAX

/* A directory's listing (read-only mounts), with each entry's stat or without (read to answer
 * lookups, below), immutable once made. */
struct dircache {
	bool stats; /* each st is the entry's lstat; else st is zero */
	size_t n;
	struct dc_ent {
		char *name;
		uint64_t ino; /* the listing's (d_ino), which a mount point's st.ino is not */
		uint8_t type;
		struct gofer_stat st;
		char *target;	/* a symlink's, when the listing has stats and it came; else NULL */
	} * ents;		/* in the host's order, which listings keep */
	struct dc_ent **byname; /* the same, sorted by name (strcmp) for lookups */
	size_t bytes;		/* what it counts in g_dircache_bytes */
};

/* Listings kept in all: past this, a listing is used once and dropped, as before. */
#define GOFER_DIRCACHE_MAX (16ULL << 20)
static uint64_t g_dircache_bytes; /* atomic */

/* Longest path a fid-less file may be named by; deeper files get a fid of their own (a WALK
 * of the path), which names their descendants. */
#define GOFER_REL_PATH_MAX 2048u

/* inode->priv. fid, parent, name and pathlen are fixed; the rest is filled lazily under
 * inode->lock. */
struct gofer_inode {
	uint32_t fid;		/* GOFER_NO_FID: named by path from an ancestor's fid */
	struct inode *parent;	/* fid-less: the directory that holds it (a reference) */
	char *name;		/* fid-less: its name there */
	uint32_t pathlen;	/* fid-less: length of its path from the nearest fid */
	struct dircache *dc;	/* a read-only mount's directory, once listed whole */
	uint32_t misses;	/* lookups in it the gofer answered -ENOENT (atomic) */
	bool listed_for_misses; /* ... and the listing that followed them was tried (atomic) */
	int host_fd;		/* read-only fd for regular files while any is open; -1 otherwise */
	int nopen;		/* open files on this inode (they share host_fd) */
	int wfd;		/* read-write fd while any file is open for writing; -1 otherwise */
	int nwrite;		/* open files with FMODE_WRITE (they share wfd) */
	char *target;		/* symlink target, NUL-terminated, read on first use */
	uint64_t blocks;
	uint32_t blksize;
	/* regular files: the page cache (file_page_cache), NULL until made */
	struct mm_fcache *cache;
	uint64_t cache_len; /* its size, counted in g_cache_bytes */
	bool keeps_fd; /* host_fd stays open while no file is (counted in g_idle_fds) */
};

/*
 * The page cache: a regular file's contents in the memory file, read a chunk at a time as
 * mappings first touch them (mm_fcache), whose pages the private mappings that cannot be
 * written (a binary's or library's text and read-only data) share copy-on-write, in every
 * process of the sandbox, so that the next exec of the same binary or library reads and
 * copies none of what was touched before. It lives as long as the inode (the dentry cache's
 * LRU decides). Only what is touched costs memory, but everything may come to be: files up
 * to GOFER_CACHE_FILE_MAX, GOFER_CACHE_MAX in all; past that mappings copy the file.
 */
#define GOFER_CACHE_FILE_MAX (256ULL << 20)
#define GOFER_CACHE_MAX (512ULL << 20)
static uint64_t g_cache_bytes; /* atomic */

/* The host fds of up to idle_fds_cap() regular files stay open after their last close, until
 * the inode goes: the next open of the same file (every exec of the same binary, ld.so.cache,
 * libc, python's modules...) then needs no OPEN round trip to the gofer. At most a quarter of
 * the Sentry's RLIMIT_NOFILE (raised to its hard limit at boot), so that files the sandbox
 * holds open always have room. */
#define GOFER_IDLE_FDS_MAX 1024
static int idle_fds_cap(void)
{
	static int cap; /* atomic; 0 until computed */
	int c = __atomic_load_n(&cap, __ATOMIC_RELAXED);
	struct rlimit rl;

	if (c)
		return c;
	c = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (int)MIN(rl.rlim_cur / 4, GOFER_IDLE_FDS_MAX) : 64;
	c = MAX(c, 1);
	__atomic_store_n(&cap, c, __ATOMIC_RELAXED);
	return c;
}
static int g_idle_fds; /* atomic */

/* A place among the idle fds (the inode that takes it sets keeps_fd), or false: none left. */
static bool idle_fd_take(void)
{
	if (__atomic_add_fetch(&g_idle_fds, 1, __ATOMIC_RELAXED) <= idle_fds_cap())
		return true;
	__atomic_sub_fetch(&g_idle_fds, 1, __ATOMIC_RELAXED);
	return false;
}

static const struct inode_ops gofer_iops;
static const struct file_ops gofer_file_fops, gofer_dir_fops;

static struct gofer_client *sb_client(const struct super_block *sb) { return sb->priv; }

static struct gofer_inode *GI(const struct inode *inode) { return inode->priv; }

static void dircache_free(struct dircache *dc)
{
	if (!dc)
		return;
	for (size_t i = 0; i < dc->n; i++) {
		free(dc->ents[i].name);
		free(dc->ents[i].target);
	}
	free(dc->ents);
	free(dc->byname);
	free(dc);
}

/* The fid to send for inode and, in path (GOFER_PATH_MAX bytes), the path from it: "" when the
 * inode has its own fid, else its names up to the nearest ancestor that has one. */
static uint32_t gi_locate(const struct inode *inode, char *path)
{
	size_t len = GI(inode)->fid == GOFER_NO_FID ? GI(inode)->pathlen : 0;

	path[len] = '\0';
	while (GI(inode)->fid == GOFER_NO_FID) {
		const struct gofer_inode *gi = GI(inode);
		size_t n = strlen(gi->name);
		len -= n;
		memcpy(path + len, gi->name, n);
		inode = gi->parent;
		if (GI(inode)->fid == GOFER_NO_FID)
			path[--len] = '/';
	}
	return GI(inode)->fid;
}

static void gofer_evict(struct inode *inode)
{
	struct gofer_inode *gi = GI(inode);

	if (!gi)
		return;
	if (gi->fid == GOFER_NO_FID) {
		inode_put(gi->parent);
		free(gi->name);
	} else if (gi->fid != GOFER_ROOT_FID) {
		gofer_clunk(sb_client(inode->sb), gi->fid);
	}
	if (gi->dc) {
		__atomic_sub_fetch(&g_dircache_bytes, gi->dc->bytes, __ATOMIC_RELAXED);
		dircache_free(gi->dc);
	}
	if (gi->host_fd >= 0)
		close(gi->host_fd);
	if (gi->wfd >= 0)
		close(gi->wfd);
	if (gi->keeps_fd)
		__atomic_sub_fetch(&g_idle_fds, 1, __ATOMIC_RELAXED);
	if (gi->cache) {
		mm_fcache_release(gi->cache); /* mappings may keep the pages */
		__atomic_sub_fetch(&g_cache_bytes, gi->cache_len, __ATOMIC_RELAXED);
	}
	free(gi->target);
	free(gi);
}

static int gofer_statfs_op(struct super_block *sb, struct linux_statfs *st);

static const struct super_ops gofer_sops = {
    .evict_inode = gofer_evict,
    .statfs = gofer_statfs_op,
};

static void apply_stat(struct inode *inode, const struct gofer_stat *st)
{
	inode->ino = st->ino;
	inode->mode = st->mode;
	inode->nlink = st->nlink;
	inode->uid = st->uid;
	inode->gid = st->gid;
	inode->size = st->size;
	inode->rdev = st->rdev;
	inode->atime = (struct linux_timespec){st->atime_sec, st->atime_nsec};
	inode->mtime = (struct linux_timespec){st->mtime_sec, st->mtime_nsec};
	inode->ctime = (struct linux_timespec){st->ctime_sec, st->ctime_nsec};
	GI(inode)->blocks = st->blocks;
	GI(inode)->blksize = st->blksize ? st->blksize : 4096;
}

/* A new inode for fid (takes ownership of fid: clunked when the inode goes). */
static struct inode *gofer_new_inode(struct super_block *sb, uint32_t fid,
				     const struct gofer_stat *st)
{
	struct gofer_inode *gi = calloc(1, sizeof(*gi));
	struct inode *inode;
	uint32_t type = st->mode & LINUX_S_IFMT;

	if (!gi)
		goto fail;
	inode = inode_alloc(sb, type ? st->mode : (LINUX_S_IFREG | (st->mode & 07777)));
	if (!inode) {
		free(gi);
		goto fail;
	}
	gi->fid = fid;
	gi->host_fd = -1;
	gi->wfd = -1;
	inode->priv = gi;
	apply_stat(inode, st);
	if (!type)
		inode->mode |= LINUX_S_IFREG; /* the gofer left the type out: treat as a file */
	inode->iops = &gofer_iops;
	if (LINUX_S_ISDIR(inode->mode))
		inode->fops = &gofer_dir_fops;
	else if (LINUX_S_ISREG(inode->mode))
		inode->fops = &gofer_file_fops;
	return inode;
fail:
	if (fid != GOFER_ROOT_FID && fid != GOFER_NO_FID)
		gofer_clunk(sb_client(sb), fid);
	return NULL;
}

int goferfs_create(struct gofer_client *c, uint32_t root_fid, struct super_block **out)
{
	return goferfs_create_mount(c, root_fid, true, out);
}

int goferfs_create_mount(struct gofer_client *c, uint32_t root_fid, bool readonly,
			 struct super_block **out)
{
	struct super_block *sb = sb_create("9p", &gofer_sops, readonly ? SB_RDONLY : 0);
	struct gofer_stat st;
	struct inode *root;
	int r;

	if (!sb)
		return -ENOMEM;
	sb->priv = c;
	r = gofer_stat(c, root_fid, &st);
	if (r < 0) {
		free(sb);
		return r;
	}
	/* The container root is a directory; a bind mount's root may be a regular file. */
	if ((st.mode & LINUX_S_IFMT) != LINUX_S_IFDIR &&
	    (root_fid == GOFER_ROOT_FID || (st.mode & LINUX_S_IFMT) != LINUX_S_IFREG)) {
		free(sb);
		return -ENOTDIR;
	}
	root = gofer_new_inode(sb, root_fid, &st);
	if (!root || !d_make_root(sb, root))
		return -ENOMEM;
	*out = sb;
	return 0;
}

/* ---- inode operations ---- */

static bool writable(const struct inode *inode) { return !(inode->sb->flags & SB_RDONLY); }

/* A new fid-less inode for name in dir (a read-only mount's), with stat st. */
static struct inode *gofer_new_named(struct inode *dir, const char *name,
				     const struct gofer_stat *st)
{
	struct gofer_inode *dgi = GI(dir);
	char *nm = strdup(name);
	struct inode *inode;

	if (!nm)
		return NULL;
	inode = gofer_new_inode(dir->sb, GOFER_NO_FID, st);
	if (!inode) {
		free(nm);
		return NULL;
	}
	GI(inode)->parent = inode_get(dir);
	GI(inode)->name = nm;
	GI(inode)->pathlen =
	    (uint32_t)((dgi->fid == GOFER_NO_FID ? dgi->pathlen + 1 : 0) + strlen(name));
	return inode;
}

/* name in dir's kept listing: 1 (*st filled, and *target a copy of a symlink's target if the
 * listing has it, else NULL), 2 (there, but the listing has no stats), 0 if the listing has no
 * such name (it does not exist), -ENOENT if dir has no kept listing. */
static int dircache_find(struct inode *dir, const char *name, struct gofer_stat *st, char **target)
{
	struct gofer_inode *gi = GI(dir);
	int r = -ENOENT;

	pthread_mutex_lock(&dir->lock);
	if (gi->dc) {
		size_t lo = 0, hi = gi->dc->n;
		r = 0;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(name, gi->dc->byname[mid]->name);
			if (c == 0) {
				const struct dc_ent *e = gi->dc->byname[mid];
				*st = e->st;
				*target = e->target ? strdup(e->target) : NULL;
				r = gi->dc->stats ? 1 : 2;
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	pthread_mutex_unlock(&dir->lock);
	return r;
}

/* Entries asked for per GETDENTS: as many as a reply can carry with typical names (~20 bytes
 * each, ~120 with a stat), so that most directories take one round trip. */
#define GOFER_DIRENT_BATCH 1024
#define GOFER_DIR_MAX (1 << 20)

/* What gofer_readdir hands each entry to while a listing is read. */
struct read_ctx {
	struct dirlist *l;   /* the listing wanted (NULL: only the one to keep) */
	struct dircache *dc; /* the listing to keep (NULL: none kept) */
	uint64_t next;	     /* the last entry's cookie */
	size_t count;
};

static int read_one(void *arg, const struct gofer_dirent *e)
{
	struct read_ctx *rc = arg;
	size_t len = strlen(e->name);
	int r = rc->l ? dirlist_push(rc->l, e->name, len, e->ino, e->type) : 0;

	rc->next = e->next;
	rc->count++;
	if (r < 0 || !rc->dc)
		return r;
	struct dircache *dc = rc->dc;
	if (dc->bytes > GOFER_DIRCACHE_MAX) {
		/* Too big to keep anyway: read on without (and without holding it all). */
		dircache_free(dc);
		rc->dc = NULL;
		return 0;
	}
	if (dc->n % 64 == 0) {
		void *p = realloc(dc->ents, (dc->n + 64) * sizeof(*dc->ents));
		if (!p)
			return -ENOMEM;
		dc->ents = p;
	}
	char *nm = malloc(len + 1), *target = e->target ? strndup(e->target, e->target_len) : NULL;
	if (!nm || (e->target && !target)) {
		free(nm);
		free(target);
		return -ENOMEM;
	}
	memcpy(nm, e->name, len + 1);
	dc->ents[dc->n++] = (struct dc_ent){
	    .name = nm, .ino = e->ino, .type = e->type, .st = e->st, .target = target};
	dc->bytes += sizeof(struct dc_ent) + sizeof(struct dc_ent *) + len + 1 +
		     (target ? e->target_len + 1 : 0);
	return 0;
}

static int dc_cmp(const void *a, const void *b)
{
	return strcmp((*(struct dc_ent *const *)a)->name, (*(struct dc_ent *const *)b)->name);
}

/* Keep dc (a whole listing) with directory dir, if the budget allows and no other listing as
 * good (with stats, if dc has them) was kept meanwhile. Takes ownership of dc. */
static void dircache_keep(struct inode *dir, struct dircache *dc)
{
	struct gofer_inode *gi = GI(dir);
	struct dircache *old = NULL;

	dc->byname = malloc((dc->n ? dc->n : 1) * sizeof(*dc->byname));
	if (!dc->byname) {
		dircache_free(dc);
		return;
	}
	for (size_t i = 0; i < dc->n; i++)
		dc->byname[i] = &dc->ents[i];
	qsort(dc->byname, dc->n, sizeof(*dc->byname), dc_cmp);
	if (__atomic_add_fetch(&g_dircache_bytes, dc->bytes, __ATOMIC_RELAXED) >
	    GOFER_DIRCACHE_MAX) {
		__atomic_sub_fetch(&g_dircache_bytes, dc->bytes, __ATOMIC_RELAXED);
		dircache_free(dc);
		return;
	}
	pthread_mutex_lock(&dir->lock);
	if (!gi->dc || (dc->stats && !gi->dc->stats)) {
		old = gi->dc;
		gi->dc = dc;
		dc = old;
	}
	pthread_mutex_unlock(&dir->lock);
	if (dc) { /* ours, or the one it replaced */
		__atomic_sub_fetch(&g_dircache_bytes, dc->bytes, __ATOMIC_RELAXED);
		dircache_free(dc);
	}
}

/* The listing of a directory kept with it with the entries' stats, copied into *out. 0,
 * -ENOENT (none kept, or one without stats) or -ENOMEM. */
static int dircache_list(struct inode *dir, struct dirlist **out)
{
	struct gofer_inode *gi = GI(dir);
	struct dirlist *l = NULL;
	int r = -ENOENT;

	pthread_mutex_lock(&dir->lock);
	if (gi->dc && gi->dc->stats && (l = dirlist_new())) {
		r = 0;
		for (size_t i = 0; i < gi->dc->n && r == 0; i++) {
			const struct dc_ent *e = &gi->dc->ents[i];
			r = dirlist_push(l, e->name, strlen(e->name), e->ino, e->type);
		}
		if (r < 0)
			dirlist_free(l);
		else
			*out = l;
	} else if (gi->dc && gi->dc->stats) {
		r = -ENOMEM;
	}
	pthread_mutex_unlock(&dir->lock);
	return r;
}

/* Read directory dir's listing whole from the gofer, into *out if out is not NULL, and on a
 * read-only mount keep it with dir (with each entry's stat if stats). 0 or -errno. */
static int read_listing(struct inode *dir, bool stats, struct dirlist **out)
{
	struct read_ctx rc = {0};
	char *path = malloc(GOFER_PATH_MAX);
	bool end = false;
	uint32_t fid;
	long n;
	int r = 0;

	if (out && !(rc.l = dirlist_new()))
		r = -ENOMEM;
	if (!writable(dir) && !(rc.dc = calloc(1, sizeof(*rc.dc))))
		r = -ENOMEM;
	if (r < 0 || !path) {
		r = -ENOMEM;
		goto out;
	}
	if (rc.dc)
		rc.dc->stats = stats;
	fid = gi_locate(dir, path);
	while (!end) {
		n = gofer_readdir(sb_client(dir->sb), fid, path, rc.next, GOFER_DIRENT_BATCH,
				  stats ? GOFER_GETDENTS_STAT | GOFER_GETDENTS_TARGET : 0, read_one,
				  &rc, &end);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		if (rc.count > GOFER_DIR_MAX) {
			/* A gofer that never says "end" must not eat the Sentry's memory. */
			log_warn("goferfs: directory listing over %d entries", GOFER_DIR_MAX);
			r = -EIO;
			goto out;
		}
	}
	if (rc.dc) {
		dircache_keep(dir, rc.dc);
		rc.dc = NULL;
	}
out:
	free(path);
	dircache_free(rc.dc);
	if (r < 0) {
		dirlist_free(rc.l);
		return r;
	}
	if (out)
		*out = rc.l;
	return 0;
}

/* Names found missing in a directory nothing listed, and its size (st_size: 4 KiB blocks on
 * ext4, ~100 entries each) up to which the next lookup lists its names instead (no stats:
 * cheap for the gofer), so that every later lookup of a missing name, which is most of what a
 * compiler's include and library search and a shell's PATH search look up, asks nothing. */
#define GOFER_LIST_AFTER_MISSES 2
#define GOFER_LIST_ON_LOOKUP_SIZE (16 << 10)

static bool list_on_lookup(struct inode *dir)
{
	struct gofer_inode *gi = GI(dir);

	/* Once: a listing not kept (the budget) is not read again and again. */
	return __atomic_load_n(&gi->misses, __ATOMIC_RELAXED) >= GOFER_LIST_AFTER_MISSES &&
	       dir->size <= GOFER_LIST_ON_LOOKUP_SIZE &&
	       !__atomic_exchange_n(&gi->listed_for_misses, true, __ATOMIC_RELAXED);
}

/* What a LOOKUP brought besides the stat for inode, new: a regular file's host fd, kept as
 * after a last close (if there is room, else closed), so that the open that usually follows
 * asks the gofer nothing; a symlink's target, for readlink. */
static void lookup_extras(struct inode *inode, int fd, const char *target)
{
	struct gofer_inode *gi = GI(inode);

	if (fd >= 0 && (inode->mode & LINUX_S_IFMT) == LINUX_S_IFREG && idle_fd_take()) {
		gi->host_fd = fd;
		gi->keeps_fd = true;
	} else if (fd >= 0) {
		close(fd);
	}
	/* (shorter than GOFER_PATH_MAX == LINUX_PATH_MAX; NULL: readlink asks the gofer) */
	if (target && (inode->mode & LINUX_S_IFMT) == LINUX_S_IFLNK)
		gi->target = strdup(target);
}

static int gofer_lookup(struct inode *dir, struct dentry *d)
{
	struct gofer_client *c = sb_client(dir->sb);
	struct gofer_inode *dgi = GI(dir);
	struct gofer_stat st;
	uint32_t fid;
	struct inode *inode;
	char *path;
	int r;

	if (writable(dir)) {
		/* Every file of a writable mount has a fid (renames move them in the gofer). */
		r = gofer_walk(c, dgi->fid, d->name, &fid, &st);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		inode = gofer_new_inode(dir->sb, fid, &st);
		goto out;
	}
	/* Deep below the nearest fid: a fid of its own (a WALK of the path), which then names
	 * what lies beneath it, so that no path sent grows past GOFER_REL_PATH_MAX. */
	bool deep =
	    (dgi->fid == GOFER_NO_FID ? dgi->pathlen + 1 : 0) + d->namelen > GOFER_REL_PATH_MAX;
	char *target = NULL;
	r = dircache_find(dir, d->name, &st, &target);
	if (r == -ENOENT && !deep && list_on_lookup(dir)) {
		read_listing(dir, false, NULL); /* (failed: as if not tried) */
		r = dircache_find(dir, d->name, &st, &target);
	}
	if (r == 0)
		return 0; /* not in the listing: negative */
	if (r == 1 && !deep) {
		inode = gofer_new_named(dir, d->name, &st);
		if (inode && target && (inode->mode & LINUX_S_IFMT) == LINUX_S_IFLNK)
			GI(inode)->target = steal_pointer(&target);
		free(target);
		goto out;
	}
	free(target);
	/* Not listed (or deep): ask the gofer for the one name. */
	if (!(path = malloc(GOFER_PATH_MAX)))
		return -ENOMEM;
	fid = gi_locate(dir, path);
	size_t len = strlen(path);
	if (len)
		path[len++] = '/';
	memcpy(path + len, d->name, d->namelen + 1);
	if (deep) {
		r = gofer_walk(c, fid, path, &fid, &st);
		inode = r == 0 ? gofer_new_inode(dir->sb, fid, &st) : NULL;
	} else {
		/* The path goes into the request: its buffer holds a symlink's target after. */
		int hfd;
		size_t tlen;
		r = gofer_lookup_at(c, fid, path, &st, &hfd, path, GOFER_PATH_MAX, &tlen);
		inode = r == 0 ? gofer_new_named(dir, d->name, &st) : NULL;
		if (inode)
			lookup_extras(inode, hfd, tlen ? path : NULL);
		else if (hfd >= 0)
			close(hfd);
	}
	free(path);
	if (r == -ENOENT) {
		__atomic_add_fetch(&dgi->misses, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r < 0)
		return r;
out:
	if (!inode)
		return -ENOMEM;
	d_instantiate(d, inode);
	return 0;
}

static long gofer_readlink_op(struct dentry *d, char *buf, size_t size)
{
	struct inode *inode = d->inode;
	struct gofer_inode *gi = GI(inode);
	long r = 0;

	pthread_mutex_lock(&inode->lock);
	if (!gi->target) {
		char *t = malloc(LINUX_PATH_MAX);
		if (!t) {
			r = -ENOMEM;
			goto out;
		}
		char *path = malloc(GOFER_PATH_MAX);
		r = path ? gofer_readlink_at(sb_client(inode->sb), gi_locate(inode, path), path, t,
					     LINUX_PATH_MAX - 1)
			 : -ENOMEM;
		free(path);
		if (r < 0) {
			free(t);
			goto out;
		}
		if (r > LINUX_PATH_MAX - 1)
			r = LINUX_PATH_MAX - 1; /* the gofer is not trusted to keep to the size */
		t[r] = '\0';
		gi->target = t;
	}
	r = (long)strlen(gi->target);
	if ((size_t)r > size)
		r = (long)size;
	memcpy(buf, gi->target, (size_t)r);
out:
	pthread_mutex_unlock(&inode->lock);
	return r;
}

/* Take the gofer's word for inode's attributes now (a writable mount's files change under
 * us: the host, and our own writes through the donated fd). 0 or -errno. */
static int refresh(struct inode *inode)
{
	struct gofer_stat st;
	int r = gofer_stat(sb_client(inode->sb), GI(inode)->fid, &st); /* (writable: a fid) */

	if (r < 0)
		return r;
	if ((st.mode & LINUX_S_IFMT) != (inode->mode & LINUX_S_IFMT))
		return -ESTALE; /* replaced on the host by a file of another type */
	pthread_mutex_lock(&inode->lock);
	apply_stat(inode, &st);
	pthread_mutex_unlock(&inode->lock);
	return 0;
}

static int gofer_getattr(struct dentry *d, struct linux_stat *st)
{
	struct inode *inode = d->inode;

	if (writable(inode))
		refresh(inode); /* on failure, what we knew last */
	inode_fill_stat(inode, st);
	pthread_mutex_lock(&inode->lock);
	st->st_blocks = (int64_t)GI(inode)->blocks;
	st->st_blksize = GI(inode)->blksize;
	pthread_mutex_unlock(&inode->lock);
	return 0;
}

/* ---- mutations (writable bind mounts; the gofer refuses them on any other) ---- */

/* A new positive d for what the gofer made (fid and st from its reply). */
static int instantiate_new(struct inode *dir, struct dentry *d, uint32_t fid,
			   const struct gofer_stat *st)
{
	struct inode *inode = gofer_new_inode(dir->sb, fid, st);

	if (!inode)
		return -ENOMEM;
	d_instantiate(d, inode);
	refresh(dir); /* its times, and nlink after a mkdir */
	return 0;
}

static int gofer_create_op(struct inode *dir, struct dentry *d, uint32_t mode)
{
	struct gofer_stat st;
	uint32_t fid;
	int fd, r;

	r = gofer_create(sb_client(dir->sb), GI(dir)->fid, d->name, LINUX_O_RDWR, mode & 07777,
			 &fid, &st, &fd);
	if (r < 0)
		return r;
	r = instantiate_new(dir, d, fid, &st);
	if (r == 0) {
		/* Keep the read-write fd for the open that follows the create (the file may
		 * have a mode its creator could not open it with again). */
		struct gofer_inode *gi = GI(d->inode);
		pthread_mutex_lock(&d->inode->lock);
		if (gi->wfd < 0)
			gi->wfd = fd, fd = -1;
		pthread_mutex_unlock(&d->inode->lock);
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static int gofer_mkdir_op(struct inode *dir, struct dentry *d, uint32_t mode)
{
	struct gofer_stat st;
	uint32_t fid;
	int r = gofer_mkdir(sb_client(dir->sb), GI(dir)->fid, d->name, mode & 07777, &fid, &st);

	return r < 0 ? r : instantiate_new(dir, d, fid, &st);
}

static int gofer_symlink_op(struct inode *dir, struct dentry *d, const char *target)
{
	struct gofer_stat st;
	uint32_t fid;
	int r = gofer_symlink(sb_client(dir->sb), GI(dir)->fid, d->name, target, &fid, &st);

	return r < 0 ? r : instantiate_new(dir, d, fid, &st);
}

static int gofer_link_op(struct dentry *old, struct inode *dir, struct dentry *d)
{
	struct inode *inode = old->inode;
	struct gofer_client *c = sb_client(dir->sb);
	struct gofer_stat st;
	uint32_t fid;
	int r;

	if (inode->sb != dir->sb)
		return -EXDEV;
	r = gofer_link(c, GI(dir)->fid, d->name, GI(inode)->fid, &fid, &st);
	if (r < 0)
		return r;
	/* Both names are one inode here, as on the host: the new fid is not needed. */
	gofer_clunk(c, fid);
	pthread_mutex_lock(&inode->lock);
	apply_stat(inode, &st);
	pthread_mutex_unlock(&inode->lock);
	d_instantiate(d, inode_get(inode));
	refresh(dir);
	return 0;
}

/* After d's name is gone from the host: what is left of its inode (nlink, ctime). */
static void after_remove(struct inode *dir, struct dentry *d)
{
	struct inode *inode = d->inode;

	if (inode && refresh(inode) < 0) {
		pthread_mutex_lock(&inode->lock);
		if (inode->nlink > 0)
			inode->nlink--;
		pthread_mutex_unlock(&inode->lock);
	}
	refresh(dir);
}

static int gofer_unlink_op(struct inode *dir, struct dentry *d)
{
	int r = gofer_unlink(sb_client(dir->sb), GI(dir)->fid, d->name, 0);

	if (r == 0)
		after_remove(dir, d);
	return r;
}

static int gofer_rmdir_op(struct inode *dir, struct dentry *d)
{
	int r = gofer_unlink(sb_client(dir->sb), GI(dir)->fid, d->name, LINUX_AT_REMOVEDIR);

	if (r == 0)
		after_remove(dir, d);
	return r;
}

static int gofer_rename_op(struct inode *odir, struct dentry *od, struct inode *ndir,
			   struct dentry *nd, unsigned flags)
{
	int r;

	if (flags & ~LINUX_RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT: not through the gofer */
	if (odir->sb != ndir->sb)
		return -EXDEV;
	r = gofer_rename(sb_client(odir->sb), GI(odir)->fid, od->name, GI(ndir)->fid, nd->name,
			 flags);
	if (r < 0)
		return r;
	if (nd->inode)
		after_remove(ndir, nd);
	refresh(odir);
	if (ndir != odir)
		refresh(ndir);
	refresh(od->inode); /* ctime */
	return 0;
}

static int gofer_setattr_op(struct dentry *d, const struct iattr *ia)
{
	struct inode *inode = d->inode;
	struct gofer_attr a = {.mode = ia->mode & 07777,
			       .uid = ia->uid,
			       .gid = ia->gid,
			       .size = ia->size,
			       .atime_sec = ia->atime.tv_sec,
			       .atime_nsec = (uint32_t)ia->atime.tv_nsec,
			       .mtime_sec = ia->mtime.tv_sec,
			       .mtime_nsec = (uint32_t)ia->mtime.tv_nsec};
	struct gofer_stat st;
	int r;

	if (ia->valid & ATTR_MODE)
		a.valid |= GOFER_SETATTR_MODE;
	if (ia->valid & ATTR_UID)
		a.valid |= GOFER_SETATTR_UID;
	if (ia->valid & ATTR_GID)
		a.valid |= GOFER_SETATTR_GID;
	if (ia->valid & ATTR_SIZE)
		a.valid |= GOFER_SETATTR_SIZE;
	if (ia->valid & ATTR_ATIME)
		a.valid |= GOFER_SETATTR_ATIME;
	if (ia->valid & ATTR_MTIME)
		a.valid |= GOFER_SETATTR_MTIME;
	if (a.valid == 0) /* ctime alone: the host sets it with any change; nothing to do */
		return 0;
	if (ia->size > INT64_MAX || (uint64_t)a.atime_nsec >= 1000000000u ||
	    (uint64_t)a.mtime_nsec >= 1000000000u)
		return -EINVAL;
	r = gofer_setattr(sb_client(inode->sb), GI(inode)->fid, &a, &st);
	if (r < 0)
		return r;
	pthread_mutex_lock(&inode->lock);
	apply_stat(inode, &st);
	pthread_mutex_unlock(&inode->lock);
	return 0;
}

static int gofer_statfs_op(struct super_block *sb, struct linux_statfs *st)
{
	struct gofer_statfs g;
	int r = gofer_statfs(sb_client(sb), GI(sb->root->inode)->fid, &g);

	if (r < 0)
		return r;
	st->f_type = (int64_t)g.type;
	st->f_bsize = g.bsize ? (int64_t)MIN(g.bsize, (uint64_t)1 << 20) : 4096;
	st->f_frsize = g.frsize ? (int64_t)MIN(g.frsize, (uint64_t)1 << 20) : st->f_bsize;
	st->f_blocks = g.blocks;
	st->f_bfree = g.bfree;
	st->f_bavail = g.bavail;
	st->f_files = g.files;
	st->f_ffree = g.ffree;
	st->f_namelen =
	    g.namelen && g.namelen <= LINUX_NAME_MAX ? (int64_t)g.namelen : LINUX_NAME_MAX;
	/* the read-only flag is ours (already set from the superblock), the rest the host's */
	st->f_flags |= (int64_t)(g.flags & (LINUX_ST_RDONLY | 0x2 | 0x4 | 0x8 | 0x400));
	return 0;
}

static const struct inode_ops gofer_iops = {
    .lookup = gofer_lookup,
    .create = gofer_create_op,
    .mkdir = gofer_mkdir_op,
    .symlink = gofer_symlink_op,
    .link = gofer_link_op,
    .unlink = gofer_unlink_op,
    .rmdir = gofer_rmdir_op,
    .rename = gofer_rename_op,
    .readlink = gofer_readlink_op,
    .getattr = gofer_getattr,
    .setattr = gofer_setattr_op,
};

/* ---- regular files ---- */

/* Open inode's host file read-only: its fid, or the path that names it. (A file replaced on
 * the host since the lookup is opened as it is now, as one changed in place would be read:
 * the client checked it is a regular file or directory.) */
static int open_host(struct inode *inode, int *fd)
{
	struct gofer_inode *gi = GI(inode);
	char *path;
	int r;

	if (gi->fid != GOFER_NO_FID)
		return gofer_open(sb_client(inode->sb), gi->fid, LINUX_O_RDONLY, fd);
	if (!(path = malloc(GOFER_PATH_MAX)))
		return -ENOMEM;
	r = gofer_open_at(sb_client(inode->sb), gi_locate(inode, path), path, LINUX_O_RDONLY, fd);
	free(path);
	return r;
}

static int gofer_file_open(struct inode *inode, struct file *f)
{
	struct gofer_inode *gi = GI(inode);
	int r = 0, fd;

	if ((f->fmode & FMODE_WRITE) && !writable(inode))
		return -EROFS;
	pthread_mutex_lock(&inode->lock);
	if (gi->host_fd < 0) {
		r = open_host(inode, &fd);
		if (r == 0)
			gi->host_fd = fd;
	}
	if (r == 0 && (f->fmode & FMODE_WRITE) && gi->wfd < 0) {
		r = gofer_open(sb_client(inode->sb), gi->fid, LINUX_O_RDWR, &fd);
		if (r == 0)
			gi->wfd = fd;
	}
	if (r == 0) {
		gi->nopen++;
		if (f->fmode & FMODE_WRITE)
			gi->nwrite++;
	} else if (gi->nopen == 0 && gi->host_fd >= 0) {
		close(gi->host_fd);
		gi->host_fd = -1;
	}
	pthread_mutex_unlock(&inode->lock);
	return r;
}

/* The last open file gives the host fd back, unless it may be kept (idle_fds_cap): the
 * Sentry must not hold one per file ever opened. (Mappings hold their file, so a mapped fd
 * stays open.) */
static void gofer_file_release(struct file *f)
{
	struct inode *inode = f->inode;
	struct gofer_inode *gi = GI(inode);

	pthread_mutex_lock(&inode->lock);
	if ((f->fmode & FMODE_WRITE) && --gi->nwrite == 0 && gi->wfd >= 0) {
		close(gi->wfd);
		gi->wfd = -1;
	}
	if (--gi->nopen == 0 && gi->host_fd >= 0 && !gi->keeps_fd) {
		if (idle_fd_take()) {
			gi->keeps_fd = true;
		} else {
			close(gi->host_fd);
			gi->host_fd = -1;
		}
	}
	pthread_mutex_unlock(&inode->lock);
}

static ssize_t gofer_file_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct gofer_inode *gi = GI(f->inode);
	ssize_t r;

	if (*pos > INT64_MAX)
		return 0;
	do
		r = pread(gi->host_fd >= 0 ? gi->host_fd : gi->wfd, buf, n, (off_t)*pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*pos += (uint64_t)r;
	return r;
}

/* Write through the read-write fd; O_APPEND writes at the host file's end. The cached size
 * and times follow. */
static ssize_t gofer_file_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct inode *inode = f->inode;
	struct gofer_inode *gi = GI(inode);
	struct stat st;
	uint64_t off = *pos;
	ssize_t r;

	if (gi->wfd < 0)
		return -EBADF;
	if (f->flags & LINUX_O_APPEND) {
		if (host_fstat(gi->wfd, &st) < 0)
			return -errno;
		off = (uint64_t)st.st_size;
	}
	if (off > INT64_MAX || n > INT64_MAX - off)
		return -EFBIG;
	do
		r = pwrite(gi->wfd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*pos = off + (uint64_t)r;
	pthread_mutex_lock(&inode->lock);
	if (*pos > inode->size)
		inode->size = *pos;
	inode->mtime = inode->ctime = vfs_now();
	pthread_mutex_unlock(&inode->lock);
	return r;
}

static int gofer_file_host_fd(struct file *f) { return GI(f->inode)->host_fd; }

static int gofer_fsync(struct file *f)
{
	/* Written data is in the host's page cache already; the Sentry's filter has no fsync,
	 * and the sandbox's durability is the host's. */
	(void)f;
	return 0;
}

static const struct file_ops gofer_file_fops = {
    .open = gofer_file_open,
    .release = gofer_file_release,
    .read = gofer_file_read,
    .write = gofer_file_write,
    .fsync = gofer_fsync,
    .host_fd = gofer_file_host_fd,
};

int file_page_cache(struct file *f, struct mm_fcache **c)
{
	while (f && f->fops == &ovl_file_fops)
		f = f->priv; /* the layer's file (overlay_file.c) */
	if (!f || f->fops != &gofer_file_fops)
		return -ENODEV;
	struct inode *inode = f->inode;
	struct gofer_inode *gi = GI(inode);
	int r = 0;

	/* Only a read-only mount's files: on a read-write bind mount the sandbox's own writes
	 * (through the inode's write fd) would leave the cached pages stale. */
	if (writable(inode))
		return -ENODEV;
	pthread_mutex_lock(&inode->lock);
	if (!gi->cache) {
		uint64_t size = inode->size, l = PAGE_ALIGN_UP(size);
		if (!size || size > GOFER_CACHE_FILE_MAX)
			r = -EFBIG;
		else if (__atomic_add_fetch(&g_cache_bytes, l, __ATOMIC_RELAXED) > GOFER_CACHE_MAX)
			r = -ENOSPC;
		else if (!(gi->cache = mm_fcache_create(l)))
			r = -ENOMEM;
		else
			gi->cache_len = l;
		/* Its pages the host file's own where the platform can map it (else, or when
		 * that fails, filled as mappings touch them). */
		if (r == 0 && gi->host_fd >= 0)
			mm_fcache_map_file(gi->cache, gi->host_fd);
		if (r < 0 && r != -EFBIG)
			__atomic_sub_fetch(&g_cache_bytes, l, __ATOMIC_RELAXED);
	}
	if (r == 0)
		*c = gi->cache;
	pthread_mutex_unlock(&inode->lock);
	return r;
}

bool file_fill_lazily(struct file *f)
{
	/* An overlay file does its I/O on the layer's file it opened (see overlay_file.c). A
	 * goferfs file is read with pread on its host fd, without any mm lock. */
	while (f && f->fops == &ovl_file_fops)
		f = f->priv;
	return f && f->fops == &gofer_file_fops;
}

/* ---- directories ---- */

/* The listing of directory f (a dirlist_read_fn): on a read-only mount the one kept with the
 * inode if it has the entries' stats, else read from the gofer with them and kept. */
static int gofer_read_dir(struct file *f, struct dirlist **out)
{
	struct inode *dir = f->inode;
	bool ro = !writable(dir);
	int r;

	if (ro && (r = dircache_list(dir, out)) != -ENOENT)
		return r;
	return read_listing(dir, ro, out);
}

static int gofer_iterate(struct file *f, struct dir_ctx *ctx)
{
	/* A listing from the start (or after a rewind) reads the directory again. */
	return dirlist_iterate(f, ctx, gofer_read_dir);
}

static const struct file_ops gofer_dir_fops = {
    .iterate = gofer_iterate,
    .release = dirlist_release,
    .fsync = gofer_fsync,
};
