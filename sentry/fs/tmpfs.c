/* tmpfs: files, directories, symlinks and device nodes held in the Sentry's memory. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/list.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/event.h"
#include "sentry/fs/overlay.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/ops.h"
#include "sentry/vfs/vfs_fs.h"
#include "sentry/vfs/xattr.h"

/* One name in a directory. Holds a reference on its inode (the link count's reference). */
struct tmpfs_dirent {
	struct list_head link;
	uint64_t seq; /* getdents position: increasing in list order, never reused */
	struct inode *inode;
	size_t namelen;
	char name[];
};

/* inode->priv, by type. Protected by inode->lock. */
struct tmpfs_inode {
	union {
		/* A regular file's contents: pages of the memory file, which MAP_SHARED mappings
		 * map directly. Changed under inode->lock; fm's size follows inode->size. */
		struct mm_filemap *fm;
		char *target; /* symlink */
		struct {
			struct list_head entries;
			uint64_t next_seq;
		} dir;
	};
	struct xattr_store *xattrs; /* extended attributes of any type (sentry/vfs/xattr.h) */
	unsigned seals; /* regular files: LINUX_F_SEAL_* (memfd_create, fcntl F_ADD_SEALS) */
};

/* All tmpfs file data together may take at most half the host's memory (Linux's default
 * size= for tmpfs), so that no application can make the Sentry itself run out. */
static atomic_uint_fast64_t g_tmpfs_bytes;
static atomic_uint_fast64_t g_tmpfs_inodes; /* alive in every tmpfs, for statfs's f_ffree */
static uint64_t g_tmpfs_limit;
static pthread_once_t g_tmpfs_once = PTHREAD_ONCE_INIT;

static void tmpfs_limit_init(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	g_tmpfs_limit =
	    (pages > 0 && psize > 0) ? (uint64_t)pages * (uint64_t)psize / 2 : 1ULL << 30;
}

/* Account for a file's pages growing (delta > 0) or shrinking. false: over the limit. */
static bool tmpfs_charge(int64_t delta)
{
	pthread_once(&g_tmpfs_once, tmpfs_limit_init);
	if (delta <= 0) {
		atomic_fetch_sub(&g_tmpfs_bytes, (uint64_t)-delta);
		return true;
	}
	uint64_t old = atomic_fetch_add(&g_tmpfs_bytes, (uint64_t)delta);
	if (old + (uint64_t)delta > g_tmpfs_limit) {
		atomic_fetch_sub(&g_tmpfs_bytes, (uint64_t)delta);
		return false;
	}
	return true;
}

/* A tmpfs mounted with size=: its own limit within the global one (sb->priv). */
struct tmpfs_sb {
	uint64_t limit;
	atomic_uint_fast64_t bytes;
};

static bool tmpfs_sb_charge(void *arg, int64_t delta)
{
	struct tmpfs_sb *ts = arg;

	if (delta <= 0) {
		atomic_fetch_sub(&ts->bytes, (uint64_t)-delta);
		return tmpfs_charge(delta);
	}
	uint64_t old = atomic_fetch_add(&ts->bytes, (uint64_t)delta);
	if (old + (uint64_t)delta > ts->limit || !tmpfs_charge(delta)) {
		atomic_fetch_sub(&ts->bytes, (uint64_t)delta);
		return false;
	}
	return true;
}

static const struct inode_ops tmpfs_dir_iops, tmpfs_file_iops, tmpfs_symlink_iops,
    tmpfs_special_iops;
static const struct file_ops tmpfs_dir_fops, tmpfs_file_fops;

static struct tmpfs_inode *TI(const struct inode *inode) { return inode->priv; }

static void tmpfs_evict(struct inode *inode)
{
	struct tmpfs_inode *ti = TI(inode);

	if (!ti)
		return;
	atomic_fetch_sub(&g_tmpfs_inodes, 1);
	xattr_store_free(ti->xattrs);
	switch (inode->mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG:
		mm_filemap_release(ti->fm); /* uncharges its pages */
		break;
	case LINUX_S_IFLNK:
		free(ti->target);
		break;
	case LINUX_S_IFDIR: {
		struct list_head *p, *n;
		list_for_each_safe(p, n, &ti->dir.entries)
		{
			struct tmpfs_dirent *de = list_entry(p, struct tmpfs_dirent, link);
			inode_put(de->inode);
			free(de);
		}
		break;
	}
	}
	free(ti);
}

/* Linux's tmpfs defaults: blocks and inodes both half the host's memory in pages. */
static int tmpfs_statfs(struct super_block *sb, struct linux_statfs *st)
{
	uint64_t used = atomic_load(&g_tmpfs_bytes), inodes = atomic_load(&g_tmpfs_inodes);
	const struct tmpfs_sb *ts = sb->priv;

	pthread_once(&g_tmpfs_once, tmpfs_limit_init);
	st->f_type = LINUX_TMPFS_MAGIC;
	st->f_blocks = g_tmpfs_limit / 4096;
	st->f_bfree = st->f_bavail = used >= g_tmpfs_limit ? 0 : (g_tmpfs_limit - used) / 4096;
	if (ts) {
		used = atomic_load(&ts->bytes);
		st->f_blocks = ts->limit / 4096;
		st->f_bfree = st->f_bavail = used >= ts->limit ? 0 : (ts->limit - used) / 4096;
	}
	st->f_files = g_tmpfs_limit / 4096;
	st->f_ffree = inodes >= st->f_files ? 0 : st->f_files - inodes;
	return 0;
}

static const struct super_ops tmpfs_sops = {
    .evict_inode = tmpfs_evict,
    .statfs = tmpfs_statfs,
};

/*
 * A truncation queued invalidations for the address spaces in mms (see mm_filemap_create):
 * interrupt their tasks that run application code so that they apply them now. task_kick is
 * referenced weakly: the VFS unit tests link tmpfs without the kernel's run loop (then nobody
 * runs application code and there is nothing to interrupt).
 */
extern void task_kick(struct task *t) __attribute__((weak));

struct kick_arg {
	struct mm *const *mms;
	size_t n;
};

static int kick_tg(struct thread_group *tg, void *arg)
{
	const struct kick_arg *ka = arg;
	struct list_head *pos;

	list_for_each(pos, &tg->threads)
	{
		struct task *t = list_entry(pos, struct task, tg_link);
		if (t == current_task)
			continue;
		/* Only tasks running application code: the others apply the zaps before they
		 * run it again (the zap is queued before in_user is read, and the run loop sets
		 * in_user before mm_plat_as reads the queue; both sequentially consistent). t->mm
		 * is its own thread's to change (exec): a stale read costs a spurious kick, or
		 * none for an mm it just left. */
		if (!atomic_load(&t->in_user))
			continue;
		for (size_t k = 0; k < ka->n; k++)
			if (t->mm == ka->mms[k])
				task_kick(t);
	}
	return 0;
}

static void kick_mm_users(struct mm *const *mms, size_t n)
{
	struct kick_arg ka = {mms, n};

	if (!task_kick)
		return;
	kernel_lock();
	tg_for_each(kick_tg, &ka);
	kernel_unlock();
}

/* A new inode of mode owned by the creating task's fsuid/fsgid. */
static struct inode *tmpfs_new_inode(struct super_block *sb, uint32_t mode)
{
	struct tmpfs_inode *ti = calloc(1, sizeof(*ti));
	struct inode *inode;

	if (!ti)
		return NULL;
	inode = inode_alloc(sb, mode);
	if (!inode) {
		free(ti);
		return NULL;
	}
	inode->priv = ti;
	atomic_fetch_add(&g_tmpfs_inodes, 1);
	if (current_task) {
		inode->uid = current_task->cred.fsuid;
		inode->gid = current_task->cred.fsgid;
	}
	switch (mode & LINUX_S_IFMT) {
	case LINUX_S_IFDIR:
		list_init(&ti->dir.entries);
		ti->dir.next_seq = 2;
		inode->iops = &tmpfs_dir_iops;
		inode->fops = &tmpfs_dir_fops;
		inode->size = 4096;
		break;
	case LINUX_S_IFREG:
		ti->fm = sb->priv ? mm_filemap_create_arg(tmpfs_sb_charge, sb->priv, kick_mm_users)
				  : mm_filemap_create(tmpfs_charge, kick_mm_users);
		if (!ti->fm) {
			inode->priv = NULL;
			atomic_fetch_sub(&g_tmpfs_inodes, 1);
			free(ti);
			inode_put(inode);
			return NULL;
		}
		inode->iops = &tmpfs_file_iops;
		inode->fops = &tmpfs_file_fops;
		ti->seals = LINUX_F_SEAL_SEAL; /* only memfd_create makes sealable files */
		break;
	case LINUX_S_IFLNK:
		inode->iops = &tmpfs_symlink_iops;
		break;
	default:
		inode->iops = &tmpfs_special_iops;
	}
	return inode;
}

int tmpfs_create(uint32_t root_mode, struct super_block **out)
{
	return tmpfs_create_sized(root_mode, 0, out);
}

int tmpfs_create_sized(uint32_t root_mode, uint64_t size, struct super_block **out)
{
	struct super_block *sb = sb_create("tmpfs", &tmpfs_sops, 0);
	struct inode *root;

	if (!sb)
		return -ENOMEM;
	if (size) {
		struct tmpfs_sb *ts = calloc(1, sizeof(*ts));
		if (!ts) {
			free(sb);
			return -ENOMEM;
		}
		/* whole pages, as Linux rounds size= */
		ts->limit = (size + 4095) & ~(uint64_t)4095;
		sb->priv = ts;
	}
	root = tmpfs_new_inode(sb, LINUX_S_IFDIR | (root_mode & LINUX_S_IALLUGO));
	if (!root || !d_make_root(sb, root))
		return -ENOMEM;
	root->uid = root->gid = 0;
	*out = sb;
	return 0;
}

/* ---- directory entries (dir->lock held by the caller) ---- */

static struct tmpfs_dirent *dir_find(struct inode *dir, const char *name, size_t len)
{
	struct list_head *p;

	list_for_each(p, &TI(dir)->dir.entries)
	{
		struct tmpfs_dirent *de = list_entry(p, struct tmpfs_dirent, link);
		if (de->namelen == len && memcmp(de->name, name, len) == 0)
			return de;
	}
	return NULL;
}

/* Add name -> inode (takes a new inode reference for the entry). */
static int dir_add(struct inode *dir, const char *name, size_t len, struct inode *inode)
{
	struct tmpfs_dirent *de = malloc(sizeof(*de) + len + 1);

	if (!de)
		return -ENOSPC;
	memcpy(de->name, name, len);
	de->name[len] = '\0';
	de->namelen = len;
	de->inode = inode_get(inode);
	de->seq = TI(dir)->dir.next_seq++;
	list_add_tail(&de->link, &TI(dir)->dir.entries);
	dir->mtime = dir->ctime = vfs_now();
	return 0;
}

static void dir_del(struct inode *dir, struct tmpfs_dirent *de)
{
	list_del(&de->link);
	inode_put(de->inode);
	free(de);
	dir->mtime = dir->ctime = vfs_now();
}

/* ---- inode operations ---- */

static int tmpfs_lookup(struct inode *dir, struct dentry *d)
{
	struct tmpfs_dirent *de;

	pthread_mutex_lock(&dir->lock);
	de = dir_find(dir, d->name, d->namelen);
	if (de)
		d_instantiate(d, inode_get(de->inode));
	pthread_mutex_unlock(&dir->lock);
	return 0;
}

/* Create a node of mode in dir under d's name and instantiate d with it. */
static int tmpfs_mknode(struct inode *dir, struct dentry *d, uint32_t mode, uint64_t rdev,
			const char *target)
{
	struct inode *inode = tmpfs_new_inode(dir->sb, mode);
	int r;

	if (!inode)
		return -ENOSPC;
	inode->rdev = rdev;
	if (target) {
		TI(inode)->target = strdup(target);
		if (!TI(inode)->target) {
			inode_put(inode);
			return -ENOSPC;
		}
		inode->size = strlen(target);
	}
	pthread_mutex_lock(&dir->lock);
	r = dir_add(dir, d->name, d->namelen, inode);
	if (r == 0 && LINUX_S_ISDIR(mode))
		dir->nlink++;
	pthread_mutex_unlock(&dir->lock);
	if (r < 0) {
		inode_put(inode);
		return r;
	}
	d_instantiate(d, inode);
	return 0;
}

static int tmpfs_create_op(struct inode *dir, struct dentry *d, uint32_t mode)
{
	return tmpfs_mknode(dir, d, mode, 0, NULL);
}

/* O_TMPFILE: a file in no directory (nlink 0); it goes with its last reference, unless linkat
 * gives it a name. */
static int tmpfs_tmpfile(struct inode *dir, struct dentry *d, uint32_t mode)
{
	struct inode *inode = tmpfs_new_inode(dir->sb, mode);

	if (!inode)
		return -ENOSPC;
	inode->nlink = 0;
	d_instantiate(d, inode);
	return 0;
}

static int tmpfs_mknod(struct inode *dir, struct dentry *d, uint32_t mode, uint64_t rdev)
{
	return tmpfs_mknode(dir, d, mode, rdev, NULL);
}

static int tmpfs_symlink(struct inode *dir, struct dentry *d, const char *target)
{
	return tmpfs_mknode(dir, d, LINUX_S_IFLNK | 0777, 0, target);
}

static int tmpfs_link(struct dentry *old, struct inode *dir, struct dentry *d)
{
	struct inode *inode = old->inode;
	int r;

	pthread_mutex_lock(&dir->lock);
	r = dir_add(dir, d->name, d->namelen, inode);
	pthread_mutex_unlock(&dir->lock);
	if (r < 0)
		return r;
	pthread_mutex_lock(&inode->lock);
	inode->nlink++;
	inode->ctime = vfs_now();
	pthread_mutex_unlock(&inode->lock);
	d_instantiate(d, inode_get(inode));
	return 0;
}

static bool dir_empty(struct inode *dir)
{
	bool empty;

	pthread_mutex_lock(&dir->lock);
	empty = list_empty(&TI(dir)->dir.entries);
	pthread_mutex_unlock(&dir->lock);
	return empty;
}

/* Remove d's entry from dir and drop the victim's link (or both of a directory's). */
static int remove_entry(struct inode *dir, struct dentry *d)
{
	struct inode *victim = d->inode;
	struct tmpfs_dirent *de;
	bool isdir = LINUX_S_ISDIR(victim->mode);

	pthread_mutex_lock(&dir->lock);
	de = dir_find(dir, d->name, d->namelen);
	if (!de || de->inode != victim) {
		pthread_mutex_unlock(&dir->lock);
		return -ENOENT;
	}
	dir_del(dir, de);
	if (isdir)
		dir->nlink--;
	pthread_mutex_unlock(&dir->lock);
	pthread_mutex_lock(&victim->lock);
	victim->nlink = isdir ? 0 : victim->nlink - 1;
	victim->ctime = vfs_now();
	pthread_mutex_unlock(&victim->lock);
	return 0;
}

static int tmpfs_unlink(struct inode *dir, struct dentry *d) { return remove_entry(dir, d); }

static int tmpfs_rmdir(struct inode *dir, struct dentry *d)
{
	if (!dir_empty(d->inode))
		return -ENOTEMPTY;
	return remove_entry(dir, d);
}

/* RENAME_EXCHANGE: the two entries trade inodes (and a directory moving to another parent
 * takes its ".." link along). Under vfs_rename_mutex, so the two directory locks cannot be
 * taken in the opposite order by anyone else. */
static int tmpfs_exchange(struct inode *odir, struct dentry *od, struct inode *ndir,
			  struct dentry *nd)
{
	struct tmpfs_dirent *oe, *ne;
	bool odir_is = LINUX_S_ISDIR(od->inode->mode), ndir_is = LINUX_S_ISDIR(nd->inode->mode);
	struct linux_timespec now = vfs_now();

	pthread_mutex_lock(&odir->lock);
	if (ndir != odir)
		pthread_mutex_lock(&ndir->lock);
	oe = dir_find(odir, od->name, od->namelen);
	ne = dir_find(ndir, nd->name, nd->namelen);
	if (oe && ne) {
		struct inode *tmp = oe->inode;
		oe->inode = ne->inode;
		ne->inode = tmp;
		if (odir != ndir && odir_is != ndir_is) {
			int d = odir_is ? 1 : -1; /* a directory went from odir to ndir, or back */
			odir->nlink -= d;
			ndir->nlink += d;
		}
		odir->mtime = odir->ctime = ndir->mtime = ndir->ctime = now;
	}
	if (ndir != odir)
		pthread_mutex_unlock(&ndir->lock);
	pthread_mutex_unlock(&odir->lock);
	if (!oe || !ne)
		return -ENOENT;
	pthread_mutex_lock(&od->inode->lock);
	od->inode->ctime = now;
	pthread_mutex_unlock(&od->inode->lock);
	pthread_mutex_lock(&nd->inode->lock);
	nd->inode->ctime = now;
	pthread_mutex_unlock(&nd->inode->lock);
	return 0;
}

static int tmpfs_rename(struct inode *odir, struct dentry *od, struct inode *ndir,
			struct dentry *nd, unsigned flags)
{
	struct tmpfs_dirent *de, *nde;
	struct inode *inode = od->inode;
	bool isdir = LINUX_S_ISDIR(inode->mode);
	int r;

	if (flags & LINUX_RENAME_EXCHANGE)
		return tmpfs_exchange(odir, od, ndir, nd);
	if (nd->inode) {
		if (LINUX_S_ISDIR(nd->inode->mode) && !dir_empty(nd->inode))
			return -ENOTEMPTY;
		r = remove_entry(ndir, nd);
		if (r < 0)
			return r;
	}
	/* A new entry in ndir (a new getdents position), then drop the old one. */
	nde = malloc(sizeof(*nde) + nd->namelen + 1);
	if (!nde)
		return -ENOSPC;
	pthread_mutex_lock(&odir->lock);
	de = dir_find(odir, od->name, od->namelen);
	if (!de) {
		pthread_mutex_unlock(&odir->lock);
		free(nde);
		return -ENOENT;
	}
	list_del(&de->link);
	odir->mtime = odir->ctime = vfs_now();
	if (isdir)
		odir->nlink--;
	pthread_mutex_unlock(&odir->lock);

	memcpy(nde->name, nd->name, nd->namelen + 1);
	nde->namelen = nd->namelen;
	nde->inode = de->inode; /* the old entry's reference moves */
	free(de);
	pthread_mutex_lock(&ndir->lock);
	nde->seq = TI(ndir)->dir.next_seq++;
	list_add_tail(&nde->link, &TI(ndir)->dir.entries);
	ndir->mtime = ndir->ctime = vfs_now();
	if (isdir)
		ndir->nlink++;
	pthread_mutex_unlock(&ndir->lock);
	pthread_mutex_lock(&inode->lock);
	inode->ctime = vfs_now();
	pthread_mutex_unlock(&inode->lock);
	return 0;
}

static long tmpfs_readlink(struct dentry *d, char *buf, size_t size)
{
	struct inode *inode = d->inode;
	size_t len;

	pthread_mutex_lock(&inode->lock);
	len = strlen(TI(inode)->target);
	if (len > size)
		len = size;
	memcpy(buf, TI(inode)->target, len);
	pthread_mutex_unlock(&inode->lock);
	return (long)len;
}

/* Change the size of a regular file (inode->lock held): pages past a smaller size go, from
 * every mapping too. */
static int reg_truncate(struct inode *inode, uint64_t size)
{
	mm_filemap_truncate(TI(inode)->fm, size);
	inode->size = size;
	return 0;
}

/* stat: st_blocks counts the pages a sparse file really has. */
static int tmpfs_file_getattr(struct dentry *d, struct linux_stat *st)
{
	inode_fill_stat(d->inode, st);
	st->st_blocks = (int64_t)(mm_filemap_bytes(TI(d->inode)->fm) / 512);
	return 0;
}

static int tmpfs_setattr(struct dentry *d, const struct iattr *ia)
{
	struct inode *inode = d->inode;
	int r = 0;

	pthread_mutex_lock(&inode->lock);
	if ((ia->valid & ATTR_SIZE) && LINUX_S_ISREG(inode->mode)) {
		unsigned seals = TI(inode)->seals;
		if ((ia->size < inode->size && (seals & LINUX_F_SEAL_SHRINK)) ||
		    (ia->size > inode->size && (seals & LINUX_F_SEAL_GROW))) {
			pthread_mutex_unlock(&inode->lock);
			return -EPERM;
		}
	}
	if (ia->valid & ATTR_SIZE) {
		r = reg_truncate(inode, ia->size);
		if (r == 0 && !(ia->valid & ATTR_MTIME))
			inode->mtime = vfs_now();
	}
	if (r == 0)
		inode_apply_attr(inode, ia);
	pthread_mutex_unlock(&inode->lock);
	return r;
}

/* ---- extended attributes: every type of inode may have them (the VFS applies the rules) ---- */

static ssize_t tmpfs_getxattr(struct dentry *d, const char *name, void *buf, size_t size)
{
	struct inode *inode = d->inode;

	pthread_mutex_lock(&inode->lock);
	ssize_t r = xattr_store_get(TI(inode)->xattrs, name, buf, size);
	pthread_mutex_unlock(&inode->lock);
	return r;
}

static int tmpfs_setxattr(struct dentry *d, const char *name, const void *value, size_t size,
			  int flags)
{
	struct inode *inode = d->inode;

	pthread_mutex_lock(&inode->lock);
	int r = xattr_store_set(&TI(inode)->xattrs, name, value, size, flags);
	if (r == 0)
		inode->ctime = vfs_now();
	pthread_mutex_unlock(&inode->lock);
	return r;
}

static ssize_t tmpfs_listxattr(struct dentry *d, char *buf, size_t size)
{
	struct inode *inode = d->inode;

	pthread_mutex_lock(&inode->lock);
	ssize_t r = xattr_store_list(TI(inode)->xattrs, buf, size);
	pthread_mutex_unlock(&inode->lock);
	return r;
}

#define TMPFS_XATTR_OPS                                                                            \
	.getxattr = tmpfs_getxattr, .setxattr = tmpfs_setxattr, .listxattr = tmpfs_listxattr

static const struct inode_ops tmpfs_dir_iops = {
    .lookup = tmpfs_lookup,
    .create = tmpfs_create_op,
    .mkdir = tmpfs_create_op,
    .mknod = tmpfs_mknod,
    .symlink = tmpfs_symlink,
    .tmpfile = tmpfs_tmpfile,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .setattr = tmpfs_setattr,
    TMPFS_XATTR_OPS,
};

static const struct inode_ops tmpfs_file_iops = {
    .getattr = tmpfs_file_getattr,
    .setattr = tmpfs_setattr,
    TMPFS_XATTR_OPS,
};

static const struct inode_ops tmpfs_symlink_iops = {
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
    TMPFS_XATTR_OPS,
};

static const struct inode_ops tmpfs_special_iops = {
    .setattr = tmpfs_setattr,
    TMPFS_XATTR_OPS,
};

/* ---- file operations ---- */

static ssize_t tmpfs_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct inode *inode = f->inode;
	uint64_t off = *pos;
	size_t done;

	pthread_mutex_lock(&inode->lock);
	done = mm_filemap_read(TI(inode)->fm, buf, n, off);
	pthread_mutex_unlock(&inode->lock);
	*pos = off + done;
	return (ssize_t)done;
}

static ssize_t tmpfs_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct inode *inode = f->inode;
	uint64_t off;
	ssize_t r;

	pthread_mutex_lock(&inode->lock);
	off = (f->flags & LINUX_O_APPEND) ? inode->size : *pos;
	if (n == 0) {
		r = 0;
		goto out;
	}
	if (off > INT64_MAX || n > INT64_MAX - off) {
		r = -EFBIG;
		goto out;
	}
	if ((TI(inode)->seals & (LINUX_F_SEAL_WRITE | LINUX_F_SEAL_FUTURE_WRITE)) ||
	    ((TI(inode)->seals & LINUX_F_SEAL_GROW) && off + n > inode->size)) {
		r = -EPERM;
		goto out;
	}
	r = mm_filemap_write(TI(inode)->fm, buf, n, off);
	if (r < 0)
		goto out;
	if (off + n > inode->size)
		inode->size = off + n;
	inode->mtime = inode->ctime = vfs_now();
	*pos = off + n;
out:
	pthread_mutex_unlock(&inode->lock);
	return r;
}

/* shmem_fallocate: allocate (growing the file unless KEEP_SIZE) or punch a hole (with
 * KEEP_SIZE, which the VFS has checked). */
static int tmpfs_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
	struct inode *inode = f->inode;
	int r = 0;

	if (mode & ~(LINUX_FALLOC_FL_KEEP_SIZE | LINUX_FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&inode->lock);
	if (mode & LINUX_FALLOC_FL_PUNCH_HOLE) {
		mm_filemap_punch_hole(TI(inode)->fm, off, len);
	} else {
		r = mm_filemap_allocate(TI(inode)->fm, off, len);
		if (r == 0 && !(mode & LINUX_FALLOC_FL_KEEP_SIZE) && off + len > inode->size)
			r = reg_truncate(inode, off + len);
	}
	if (r == 0)
		inode->mtime = inode->ctime = vfs_now();
	pthread_mutex_unlock(&inode->lock);
	return r;
}

static int tmpfs_fsync(struct file *f)
{
	(void)f;
	return 0;
}

static int tmpfs_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	struct list_head *p;

	pthread_mutex_lock(&dir->lock);
	list_for_each(p, &TI(dir)->dir.entries)
	{
		struct tmpfs_dirent *de = list_entry(p, struct tmpfs_dirent, link);
		if (de->seq < ctx->pos)
			continue;
		ctx->pos = de->seq;
		if (!ctx->emit(ctx, de->name, de->namelen, de->inode->ino,
			       vfs_dtype(de->inode->mode)))
			break;
		ctx->pos = de->seq + 1;
	}
	/* At the end, park past every position handed out so far. */
	if (p == &TI(dir)->dir.entries)
		ctx->pos = TI(dir)->dir.next_seq;
	pthread_mutex_unlock(&dir->lock);
	return 0;
}

static const struct file_ops tmpfs_file_fops = {
    .read = tmpfs_read,
    .write = tmpfs_write,
    .fsync = tmpfs_fsync,
    .fallocate = tmpfs_fallocate,
};

static const struct file_ops tmpfs_dir_fops = {
    .iterate = tmpfs_iterate,
    .fsync = tmpfs_fsync,
};

/* ---- seals (memfd) ---- */

#define ALL_SEALS                                                                                  \
	(LINUX_F_SEAL_SEAL | LINUX_F_SEAL_SHRINK | LINUX_F_SEAL_GROW | LINUX_F_SEAL_WRITE |        \
	 LINUX_F_SEAL_FUTURE_WRITE | LINUX_F_SEAL_EXEC)

void tmpfs_set_seals(struct file *f, unsigned seals)
{
	if (f->fops != &tmpfs_file_fops)
		return;
	pthread_mutex_lock(&f->inode->lock);
	TI(f->inode)->seals = seals;
	pthread_mutex_unlock(&f->inode->lock);
}

/* Linux's memfd_fcntl. F_SEAL_WRITE does not wait for, nor refuse (EBUSY), shared writable
 * mappings that exist already; new ones are not refused either (mm does not ask). */
long tmpfs_seals_fcntl(struct file *f, int cmd, unsigned arg)
{
	struct inode *inode = f->inode;
	long r;

	if (cmd == LINUX_F_GET_SEALS) {
		if (f->fops != &tmpfs_file_fops)
			return -EINVAL;
		pthread_mutex_lock(&inode->lock);
		r = TI(inode)->seals;
		pthread_mutex_unlock(&inode->lock);
		return r;
	}
	if (!(f->fmode & FMODE_WRITE))
		return -EPERM;
	if (arg & ~ALL_SEALS)
		return -EINVAL;
	if (f->fops != &tmpfs_file_fops)
		return -EINVAL;
	pthread_mutex_lock(&inode->lock);
	if (TI(inode)->seals & LINUX_F_SEAL_SEAL) {
		r = -EPERM;
	} else {
		/* F_SEAL_EXEC on an executable file implies the write seals (W^X) */
		if ((arg & LINUX_F_SEAL_EXEC) && (inode->mode & 0111))
			arg |= LINUX_F_SEAL_SHRINK | LINUX_F_SEAL_GROW | LINUX_F_SEAL_WRITE |
			       LINUX_F_SEAL_FUTURE_WRITE;
		TI(inode)->seals |= arg;
		r = 0;
	}
	pthread_mutex_unlock(&inode->lock);
	return r;
}

struct mm_filemap *file_filemap(struct file *f)
{
	/* An overlay file does its I/O on the layer's file it opened (see overlay_file.c). */
	while (f && f->fops == &ovl_file_fops)
		f = f->priv;
	if (!f || f->fops != &tmpfs_file_fops)
		return NULL;
	return TI(f->inode)->fm;
}
