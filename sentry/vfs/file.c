/* Open file descriptions: opening, reading, writing, seeking, listing, attributes. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sentry/fs/event.h"
#include "sentry/fs/pipe.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/lock.h"

/* ---- the pseudo filesystem of files outside the tree ---- */

static struct super_block *g_anon_sb;
static struct mount *g_anon_mnt;
static pthread_once_t g_anon_once = PTHREAD_ONCE_INIT;

static void anon_init(void)
{
	struct inode *root;

	g_anon_sb = sb_create("anon_inodefs", NULL, 0);
	if (!g_anon_sb)
		return;
	root = inode_alloc(g_anon_sb, LINUX_S_IFDIR | 0700);
	if (!root || !d_make_root(g_anon_sb, root))
		return;
	g_anon_mnt = mount_create_internal(g_anon_sb);
}

struct super_block *vfs_anon_sb(void)
{
	pthread_once(&g_anon_once, anon_init);
	return g_anon_sb;
}

/* ---- opening ---- */

/* The part of open(2)'s flags F_GETFL reports: no creation flags, no O_CLOEXEC, and
 * O_LARGEFILE as a 64-bit kernel always adds it. */
static int file_status_flags(int flags)
{
	if (flags & LINUX_O_PATH)
		return LINUX_O_PATH;
	return (flags & ~(LINUX_O_CREAT | LINUX_O_EXCL | LINUX_O_NOCTTY | LINUX_O_TRUNC |
			  LINUX_O_CLOEXEC)) |
	       LINUX_O_LARGEFILE;
}

static int open_common(struct mount *mnt, struct dentry *d, int flags, struct file **out)
{
	struct inode *inode = d->inode;
	struct file *f;
	int r;

	if (!inode)
		return -ENOENT;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	pthread_mutex_init(&f->pos_lock, NULL);
	f->path.mnt = mntget(mnt);
	f->path.dentry = dget(d);
	f->inode = inode_get(inode);
	/* O_NOCTTY is seen by the open op (a terminal's tty_open) and dropped after it, as
	 * Linux's do_dentry_open does. */
	f->flags = file_status_flags(flags) | (flags & LINUX_O_PATH ? 0 : flags & LINUX_O_NOCTTY);
	if (flags & LINUX_O_PATH) {
		f->fmode = FMODE_PATH;
		*out = f;
		return 0;
	}
	switch (flags & LINUX_O_ACCMODE) {
	case LINUX_O_RDONLY:
		f->fmode = FMODE_READ;
		break;
	case LINUX_O_WRONLY:
		f->fmode = FMODE_WRITE;
		break;
	case LINUX_O_RDWR:
		f->fmode = FMODE_READ | FMODE_WRITE;
		break;
	default: /* 3: neither (ioctl only), as Linux allows */
		break;
	}
	f->fmode |= FMODE_LSEEK | FMODE_PREAD;

	/* Inodes with their own ops (host fds, pipes) use them whatever their type; device
	 * nodes in a filesystem get the driver registered for their number. */
	f->fops = inode->fops;
	r = 0;
	if (!f->fops) {
		switch (inode->mode & LINUX_S_IFMT) {
		case LINUX_S_IFCHR:
			f->fops = vfs_chrdev_fops(inode->rdev);
			r = f->fops ? 0 : -ENXIO;
			break;
		case LINUX_S_IFIFO:
			f->fops = &pipe_fifo_fops; /* any filesystem's FIFO is a Sentry pipe */
			break;
		case LINUX_S_IFBLK:
		case LINUX_S_IFSOCK:
			r = -ENXIO;
			break;
		}
	}
	if (r == 0 && f->fops && f->fops->open)
		r = f->fops->open(inode, f);
	f->flags &= ~LINUX_O_NOCTTY;
	if (r < 0) {
		f->fops = NULL; /* no release for a file that never opened */
		file_put(f);
		return r;
	}
	*out = f;
	return 0;
}

int vfs_open_path(const struct path *p, int flags, struct file **out)
{
	int r = open_common(p->mnt, p->dentry, flags, out);

	if (r == 0)
		fsnotify_open(*out);
	return r;
}

int vfs_open_anon(struct inode *inode, const char *name, int flags, struct file **out)
{
	struct dentry *d;
	int r;

	pthread_once(&g_anon_once, anon_init);
	if (!g_anon_mnt) {
		inode_put(inode);
		return -ENOMEM;
	}
	d = d_alloc_pseudo(inode->sb, name, inode);
	if (!d)
		return -ENOMEM;
	r = open_common(g_anon_mnt, d, flags, out);
	dput(d);
	return r;
}

struct file *file_get(struct file *f)
{
	if (f)
		atomic_fetch_add(&f->refs, 1);
	return f;
}

void file_put(struct file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	/* as Linux's __fput: notify, leave every epoll set, drop the locks, release */
	if (f->fops)
		fsnotify_close(f);
	eventpoll_release(f);
	locks_remove_file(f);
	if (f->fops && f->fops->release)
		f->fops->release(f);
	inode_put(f->inode);
	path_put(&f->path);
	pthread_mutex_destroy(&f->pos_lock);
	free(f);
}

int file_flags(const struct file *f) { return f->flags; }

long file_path(struct file *f, char *buf, size_t size)
{
	if (f->fops && f->fops->path_name)
		return f->fops->path_name(f, buf, size);
	return path_to_str(&f->path, buf, size);
}

int file_host_fd(struct file *f)
{
	if (f->fops && f->fops->host_fd)
		return f->fops->host_fd(f);
	return -ENODEV;
}

/* ---- I/O ---- */

static int no_read_error(struct file *f)
{
	return LINUX_S_ISDIR(f->inode->mode) ? -EISDIR : -EINVAL;
}

ssize_t vfs_read(struct file *f, void *buf, size_t n)
{
	ssize_t r;

	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (!f->fops || !f->fops->read)
		return no_read_error(f);
	if (!(f->fmode & FMODE_LSEEK))
		return f->fops->read(f, buf, n, NULL);
	pthread_mutex_lock(&f->pos_lock);
	r = f->fops->read(f, buf, n, &f->pos);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off)
{
	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (!(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	if (!f->fops || !f->fops->read)
		return no_read_error(f);
	if ((int64_t)off < 0)
		return -EINVAL;
	return f->fops->read(f, buf, n, &off);
}

ssize_t vfs_write(struct file *f, const void *buf, size_t n)
{
	ssize_t r;

	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!f->fops || !f->fops->write)
		return -EINVAL;
	if (!(f->fmode & FMODE_LSEEK))
		return f->fops->write(f, buf, n, NULL);
	pthread_mutex_lock(&f->pos_lock);
	r = f->fops->write(f, buf, n, &f->pos);
	pthread_mutex_unlock(&f->pos_lock);
	if (r > 0)
		fsnotify_modify(f);
	return r;
}

ssize_t vfs_pwrite(struct file *f, const void *buf, size_t n, uint64_t off)
{
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	if (!f->fops || !f->fops->write)
		return -EINVAL;
	if ((int64_t)off < 0)
		return -EINVAL;
	ssize_t r = f->fops->write(f, buf, n, &off);
	if (r > 0)
		fsnotify_modify(f);
	return r;
}

/* generic_file_llseek (and dcache_dir_lseek for directories). pos_lock held. */
static int64_t generic_llseek(struct file *f, int64_t off, int whence)
{
	struct linux_stat st;
	int64_t base;
	bool dir = LINUX_S_ISDIR(f->inode->mode);
	int r;

	switch (whence) {
	case LINUX_SEEK_SET:
		base = 0;
		break;
	case LINUX_SEEK_CUR:
		if (off == 0)
			return (int64_t)f->pos;
		base = (int64_t)f->pos;
		break;
	case LINUX_SEEK_END:
	case LINUX_SEEK_DATA:
	case LINUX_SEEK_HOLE:
		if (dir)
			return -EINVAL;
		r = vfs_getattr(f->path.dentry, &st);
		if (r < 0)
			return r;
		if (whence == LINUX_SEEK_END) {
			base = st.st_size;
			break;
		}
		if (off < 0 || off >= st.st_size)
			return -ENXIO;
		base = 0;
		if (whence == LINUX_SEEK_HOLE)
			off = st.st_size;
		break;
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return base + off;
}

int64_t vfs_lseek(struct file *f, int64_t off, int whence)
{
	int64_t r;

	if (f->fmode & FMODE_PATH)
		return -EBADF;
	if (whence < LINUX_SEEK_SET || whence > LINUX_SEEK_HOLE)
		return -EINVAL;
	if (f->fops && f->fops->llseek) {
		pthread_mutex_lock(&f->pos_lock);
		r = f->fops->llseek(f, off, whence);
		pthread_mutex_unlock(&f->pos_lock);
		return r;
	}
	if (!(f->fmode & FMODE_LSEEK))
		return -ESPIPE;
	pthread_mutex_lock(&f->pos_lock);
	r = generic_llseek(f, off, whence);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

/* ---- attributes ---- */

int vfs_getattr(struct dentry *d, struct linux_stat *st)
{
	struct inode *inode = d->inode;

	if (!inode)
		return -ENOENT;
	if (inode->iops && inode->iops->getattr)
		return inode->iops->getattr(d, st);
	inode_fill_stat(inode, st);
	return 0;
}

int vfs_fstat(struct file *f, struct linux_stat *st) { return vfs_getattr(f->path.dentry, st); }

int vfs_setattr(struct dentry *d, const struct iattr *ia)
{
	struct inode *inode = d->inode;

	if (!inode)
		return -ENOENT;
	if (inode->sb->flags & SB_RDONLY)
		return -EROFS;
	if (ia->valid & ATTR_SIZE) {
		if (LINUX_S_ISDIR(inode->mode))
			return -EISDIR;
		if (!LINUX_S_ISREG(inode->mode))
			return -EINVAL;
		if ((int64_t)ia->size < 0)
			return -EINVAL;
	}
	if (!inode->iops || !inode->iops->setattr)
		return -EPERM;
	int r = inode->iops->setattr(d, ia);
	if (r == 0)
		fsnotify_change(d, ia->valid);
	return r;
}

long vfs_readlink_dentry(struct dentry *d, char *buf, size_t size)
{
	struct inode *inode = d->inode;

	if (!inode || !LINUX_S_ISLNK(inode->mode))
		return -EINVAL;
	if (inode->iops && inode->iops->readlink)
		return inode->iops->readlink(d, buf, size);
	return -EINVAL;
}

/* ---- directories ---- */

int vfs_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct inode *inode = f->inode;
	int r = 0;

	if (f->fmode & FMODE_PATH)
		return -EBADF;
	if (!f->fops || !f->fops->iterate)
		return -ENOTDIR;
	pthread_mutex_lock(&f->pos_lock);
	if (inode->flags & INODE_DEAD) {
		r = -ENOENT;
		goto out;
	}
	ctx->pos = f->pos;
	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, inode->ino, LINUX_DT_DIR))
			goto out;
		f->pos = ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		struct dentry *p = dget_parent(f->path.dentry);
		uint64_t ino = p->inode ? p->inode->ino : inode->ino;
		dput(p);
		if (!ctx->emit(ctx, "..", 2, ino, LINUX_DT_DIR))
			goto out;
		f->pos = ctx->pos = 2;
	}
	r = f->fops->iterate(f, ctx);
	f->pos = ctx->pos;
out:
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}
