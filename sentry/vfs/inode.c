/* Superblocks, inodes, permission checks and the character device table. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/lock.h"

/* Anonymous device minors, as Linux's get_anon_bdev hands out 0:N. */
static atomic_uint g_next_anon_minor = 16;

struct super_block *sb_create(const char *fstype, const struct super_ops *ops, unsigned flags)
{
	struct super_block *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->dev = VFS_MKDEV(0, atomic_fetch_add(&g_next_anon_minor, 1));
	sb->fstype = fstype;
	sb->flags = flags;
	sb->ops = ops;
	atomic_init(&sb->next_ino, 1);
	return sb;
}

uint64_t sb_next_ino(struct super_block *sb) { return atomic_fetch_add(&sb->next_ino, 1); }

struct linux_timespec vfs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct linux_timespec){.tv_sec = ts.tv_sec, .tv_nsec = ts.tv_nsec};
}

struct inode *inode_alloc(struct super_block *sb, uint32_t mode)
{
	struct inode *inode = calloc(1, sizeof(*inode));

	if (!inode)
		return NULL;
	atomic_init(&inode->refs, 1);
	inode->sb = sb;
	inode->ino = sb_next_ino(sb);
	inode->mode = mode;
	inode->nlink = LINUX_S_ISDIR(mode) ? 2 : 1;
	inode->atime = inode->mtime = inode->ctime = vfs_now();
	pthread_mutex_init(&inode->lock, NULL);
	return inode;
}

struct inode *inode_get(struct inode *inode)
{
	if (inode)
		atomic_fetch_add(&inode->refs, 1);
	return inode;
}

void inode_put(struct inode *inode)
{
	if (!inode || atomic_fetch_sub(&inode->refs, 1) != 1)
		return;
	if (inode->sb && inode->sb->ops && inode->sb->ops->evict_inode)
		inode->sb->ops->evict_inode(inode);
	locks_free_inode(inode);
	pthread_mutex_destroy(&inode->lock);
	free(inode);
}

void inode_fill_stat(struct inode *inode, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&inode->lock);
	st->st_dev = inode->sb ? inode->sb->dev : 0;
	st->st_ino = inode->ino;
	st->st_nlink = inode->nlink;
	st->st_mode = inode->mode;
	st->st_uid = inode->uid;
	st->st_gid = inode->gid;
	st->st_rdev = inode->rdev;
	st->st_size = (int64_t)inode->size;
	st->st_blksize = 4096;
	st->st_blocks = (int64_t)((inode->size + 511) / 512);
	st->st_atim = inode->atime;
	st->st_mtim = inode->mtime;
	st->st_ctim = inode->ctime;
	pthread_mutex_unlock(&inode->lock);
}

void inode_apply_attr(struct inode *inode, const struct iattr *ia)
{
	if (ia->valid & ATTR_MODE)
		inode->mode = (inode->mode & LINUX_S_IFMT) | (ia->mode & LINUX_S_IALLUGO);
	if (ia->valid & ATTR_UID)
		inode->uid = ia->uid;
	if (ia->valid & ATTR_GID)
		inode->gid = ia->gid;
	if (ia->valid & ATTR_ATIME)
		inode->atime = ia->atime;
	if (ia->valid & ATTR_MTIME)
		inode->mtime = ia->mtime;
	inode->ctime = (ia->valid & ATTR_CTIME) ? ia->ctime : vfs_now();
}

/* generic_permission for fsuid/fsgid, the supplementary groups of c (none when c is NULL) and
 * the effective capabilities caps (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). */
static int permission(uint32_t fsuid, uint32_t fsgid, const struct creds *c, uint64_t caps,
		      struct inode *inode, int mask)
{
	uint32_t mode, uid, gid;

	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	pthread_mutex_lock(&inode->lock);
	mode = inode->mode;
	uid = inode->uid;
	gid = inode->gid;
	pthread_mutex_unlock(&inode->lock);

	/* acl_permission_check: owner, then group (supplementary groups too), then other. */
	uint32_t bits;
	if (fsuid == uid)
		bits = mode >> 6;
	else if (fsgid == gid || (c && cred_in_group(c, gid)))
		bits = mode >> 3;
	else
		bits = mode;
	if (((uint32_t)mask & ~bits & 7) == 0)
		return 0;

	bool dac_override = (caps >> LINUX_CAP_DAC_OVERRIDE) & 1;
	bool read_search = (caps >> LINUX_CAP_DAC_READ_SEARCH) & 1;
	if (LINUX_S_ISDIR(mode)) {
		/* DACs are overridable for directories */
		if ((!(mask & MAY_WRITE) && read_search) || dac_override)
			return 0;
		return -EACCES;
	}
	if (mask == MAY_READ && read_search)
		return 0;
	/* read and write always, execute when some x bit is set */
	if (dac_override && (!(mask & MAY_EXEC) || (mode & 0111)))
		return 0;
	return -EACCES;
}

int inode_permission(struct task *t, struct inode *inode, int mask)
{
	if (!t)
		return 0;
	return inode_permission_creds(&t->cred, inode, mask);
}

int inode_permission_creds(const struct creds *c, struct inode *inode, int mask)
{
	return permission(c->fsuid, c->fsgid, c, c->cap_effective, inode, mask);
}

int inode_permission_ids(uint32_t fsuid, uint32_t fsgid, struct inode *inode, int mask)
{
	/* uid 0 holds every capability, as the sandbox's root does */
	return permission(fsuid, fsgid, NULL, fsuid == 0 ? CRED_CAP_FULL : 0, inode, mask);
}

unsigned vfs_dtype(uint32_t mode)
{
	switch (mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG:
		return LINUX_DT_REG;
	case LINUX_S_IFDIR:
		return LINUX_DT_DIR;
	case LINUX_S_IFLNK:
		return LINUX_DT_LNK;
	case LINUX_S_IFCHR:
		return LINUX_DT_CHR;
	case LINUX_S_IFBLK:
		return LINUX_DT_BLK;
	case LINUX_S_IFIFO:
		return LINUX_DT_FIFO;
	case LINUX_S_IFSOCK:
		return LINUX_DT_SOCK;
	}
	return LINUX_DT_UNKNOWN;
}

/* ---- character devices ---- */

struct chrdev {
	uint64_t rdev;
	const struct file_ops *fops;
};

static struct chrdev g_chrdevs[32];
static size_t g_nchrdevs;
static pthread_mutex_t g_chrdev_lock = PTHREAD_MUTEX_INITIALIZER;

int vfs_register_chrdev(uint32_t major, uint32_t minor, const struct file_ops *fops)
{
	uint64_t rdev = VFS_MKDEV(major, minor);
	int r = 0;

	pthread_mutex_lock(&g_chrdev_lock);
	for (size_t i = 0; i < g_nchrdevs; i++) {
		if (g_chrdevs[i].rdev == rdev) {
			g_chrdevs[i].fops = fops;
			goto out;
		}
	}
	if (g_nchrdevs == ARRAY_SIZE(g_chrdevs)) {
		r = -ENOSPC;
		goto out;
	}
	g_chrdevs[g_nchrdevs++] = (struct chrdev){rdev, fops};
out:
	pthread_mutex_unlock(&g_chrdev_lock);
	return r;
}

const struct file_ops *vfs_chrdev_fops(uint64_t rdev)
{
	const struct file_ops *fops = NULL;

	pthread_mutex_lock(&g_chrdev_lock);
	for (size_t i = 0; i < g_nchrdevs; i++)
		if (g_chrdevs[i].rdev == rdev)
			fops = g_chrdevs[i].fops;
	pthread_mutex_unlock(&g_chrdev_lock);
	return fops;
}

/* ---- statfs ---- */

/* f_type for a filesystem without a statfs op, by its type name. */
static int64_t fstype_magic(const char *fstype)
{
	static const struct {
		const char *name;
		int64_t magic;
	} magics[] = {
	    {"tmpfs", LINUX_TMPFS_MAGIC},	  {"overlay", LINUX_OVERLAYFS_SUPER_MAGIC},
	    {"proc", LINUX_PROC_SUPER_MAGIC},	  {"9p", LINUX_V9FS_MAGIC},
	    {"pipefs", LINUX_PIPEFS_MAGIC},	  {"anon_inodefs", LINUX_ANON_INODE_FS_MAGIC},
	    {"devpts", LINUX_DEVPTS_SUPER_MAGIC},
	};

	for (size_t i = 0; fstype && i < ARRAY_SIZE(magics); i++)
		if (strcmp(fstype, magics[i].name) == 0)
			return magics[i].magic;
	return 0;
}

int vfs_statfs(struct dentry *d, struct linux_statfs *st)
{
	struct super_block *sb = d->sb;

	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_namelen = LINUX_NAME_MAX;
	st->f_fsid[0] = (int32_t)(uint32_t)sb->dev;
	st->f_fsid[1] = (int32_t)(uint32_t)(sb->dev >> 32);
	st->f_flags = LINUX_ST_VALID | ((sb->flags & SB_RDONLY) ? LINUX_ST_RDONLY : 0);
	st->f_type = fstype_magic(sb->fstype);
	if (sb->ops && sb->ops->statfs)
		return sb->ops->statfs(sb, st);
	return 0;
}
