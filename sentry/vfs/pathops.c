/* Operations by path: open(2) with O_CREAT and its checks, mkdir, mknod, unlink, rmdir,
 * symlink, link, rename, truncate — the path half of fs/namei.c and fs/open.c. */
#include "sentry/vfs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sentry/kernel/task.h"

static uint32_t task_umask(struct task *t)
{
	return (t && t->fs) ? fs_context_umask(t->fs, -1) : 022;
}

/* Walk to the parent of path and look its last component up for creation: on success the
 * parent is locked and *d is the negative child (filename_create). want_dir allows a
 * trailing slash. */
static int filename_create(struct task *t, int dirfd, const char *path, bool want_dir,
			   struct nameparent *np, struct dentry **d)
{
	struct dentry *dir, *child;
	int r = vfs_lookup_parent(t, dirfd, path, np);

	if (r < 0)
		return r;
	if (np->type != LAST_NORM) {
		nameparent_put(np);
		return -EEXIST;
	}
	dir = np->dir.dentry;
	pthread_mutex_lock(&dir->lock);
	r = d_lookup_locked(dir, np->last, np->lastlen, &child);
	if (r == 0) {
		if (child->inode)
			r = -EEXIST;
		else if (np->trailing_slash && !want_dir)
			r = -ENOENT;
		else if (dir->sb->flags & SB_RDONLY)
			r = -EROFS;
		if (r < 0)
			dput(child);
	}
	if (r < 0) {
		pthread_mutex_unlock(&dir->lock);
		nameparent_put(np);
		return r;
	}
	*d = child;
	return 0;
}

static void done_create(struct nameparent *np, struct dentry *d)
{
	pthread_mutex_unlock(&np->dir.dentry->lock);
	dput(d);
	nameparent_put(np);
}

int vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode)
{
	struct nameparent np;
	struct dentry *d = NULL;
	int r = filename_create(t, dirfd, path, true, &np, &d);

	if (r < 0)
		return r;
	r = vfs_do_mkdir(t, np.dir.dentry, d, mode & (01777 & ~task_umask(t)));
	done_create(&np, d);
	return r;
}

int vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t dev)
{
	struct nameparent np;
	struct dentry *d = NULL;
	uint32_t type = mode & LINUX_S_IFMT;
	int r;

	switch (type) {
	case 0:
	case LINUX_S_IFREG:
	case LINUX_S_IFIFO:
	case LINUX_S_IFSOCK:
		break;
	case LINUX_S_IFCHR:
	case LINUX_S_IFBLK:
		/* No CAP_MKNOD in the sandbox's user namespace: only whiteouts (0:0). */
		if (type == LINUX_S_IFBLK || dev != 0)
			return -EPERM;
		break;
	case LINUX_S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	r = filename_create(t, dirfd, path, false, &np, &d);
	if (r < 0)
		return r;
	mode = (type ? type : LINUX_S_IFREG) | (mode & LINUX_S_IALLUGO & ~task_umask(t));
	r = vfs_do_mknod(t, np.dir.dentry, d, mode, dev);
	done_create(&np, d);
	return r;
}

int vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path)
{
	struct nameparent np;
	struct dentry *d = NULL;
	int r;

	if (!*target)
		return -ENOENT;
	r = filename_create(t, dirfd, path, false, &np, &d);
	if (r < 0)
		return r;
	r = vfs_do_symlink(t, np.dir.dentry, d, target);
	done_create(&np, d);
	return r;
}

/* fs.protected_hardlinks = 1 (Debian's default): only the owner (or CAP_FOWNER) may link a
 * file it could not read and write, or a set-user-ID or executable set-group-ID one. */
static int may_linkat(struct task *t, struct inode *inode)
{
	uint32_t mode = inode->mode;

	if (!t || t->cred.fsuid == 0 || t->cred.fsuid == inode->uid || LINUX_S_ISDIR(mode))
		return 0;
	if (LINUX_S_ISREG(mode) && !(mode & LINUX_S_ISUID) &&
	    (mode & (LINUX_S_ISGID | 010)) != (LINUX_S_ISGID | 010) &&
	    inode_permission(t, inode, MAY_READ | MAY_WRITE) == 0)
		return 0;
	return -EPERM;
}

int vfs_linkat(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath,
	       int flags)
{
	struct nameparent np;
	struct dentry *d = NULL;
	struct path old;
	unsigned lf = 0;
	int r;

	if (flags & ~(LINUX_AT_SYMLINK_FOLLOW | LINUX_AT_EMPTY_PATH))
		return -EINVAL;
	if (flags & LINUX_AT_SYMLINK_FOLLOW)
		lf |= LOOKUP_FOLLOW;
	if (flags & LINUX_AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	r = vfs_lookup(t, odirfd, opath, lf, &old);
	if (r < 0)
		return r;
	r = filename_create(t, ndirfd, npath, false, &np, &d);
	if (r < 0)
		goto out;
	if (np.dir.mnt != old.mnt)
		r = -EXDEV;
	else if ((r = may_linkat(t, old.dentry->inode)) == 0)
		r = vfs_do_link(t, old.dentry, np.dir.dentry, d);
	done_create(&np, d);
out:
	path_put(&old);
	return r;
}

/* Walk to the parent for a removal and look the victim up: the parent is locked on success
 * and *d positive. */
static int lookup_victim(struct nameparent *np, struct dentry **d)
{
	struct dentry *dir = np->dir.dentry;
	int r;

	pthread_mutex_lock(&dir->lock);
	r = d_lookup_locked(dir, np->last, np->lastlen, d);
	if (r == 0 && !(*d)->inode) {
		dput(*d);
		r = -ENOENT;
	}
	if (r < 0)
		pthread_mutex_unlock(&dir->lock);
	return r;
}

int vfs_unlinkat(struct task *t, int dirfd, const char *path)
{
	struct nameparent np;
	struct dentry *d;
	int r = vfs_lookup_parent(t, dirfd, path, &np);

	if (r < 0)
		return r;
	if (np.type != LAST_NORM) {
		r = -EISDIR;
		goto out;
	}
	if (np.dir.dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	r = lookup_victim(&np, &d);
	if (r < 0)
		goto out;
	if (np.trailing_slash)
		r = LINUX_S_ISDIR(d->inode->mode) ? -EISDIR : -ENOTDIR;
	else
		r = vfs_do_unlink(t, np.dir.dentry, d);
	pthread_mutex_unlock(&np.dir.dentry->lock);
	dput(d);
out:
	nameparent_put(&np);
	return r;
}

int vfs_rmdirat(struct task *t, int dirfd, const char *path)
{
	struct nameparent np;
	struct dentry *d;
	int r = vfs_lookup_parent(t, dirfd, path, &np);

	if (r < 0)
		return r;
	switch (np.type) {
	case LAST_DOTDOT:
		r = -ENOTEMPTY;
		goto out;
	case LAST_DOT:
		r = -EINVAL;
		goto out;
	case LAST_ROOT:
		r = -EBUSY;
		goto out;
	case LAST_NORM:
		break;
	}
	if (np.dir.dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	r = lookup_victim(&np, &d);
	if (r < 0)
		goto out;
	r = vfs_do_rmdir(t, np.dir.dentry, d);
	pthread_mutex_unlock(&np.dir.dentry->lock);
	dput(d);
out:
	nameparent_put(&np);
	return r;
}

int vfs_renameat(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath,
		 unsigned flags)
{
	struct nameparent onp, nnp;
	int r;

	if (flags & ~(LINUX_RENAME_NOREPLACE | LINUX_RENAME_EXCHANGE | LINUX_RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & LINUX_RENAME_EXCHANGE) &&
	    (flags & (LINUX_RENAME_NOREPLACE | LINUX_RENAME_WHITEOUT)))
		return -EINVAL;
	if (flags & LINUX_RENAME_WHITEOUT)
		return -EINVAL; /* only overlay's own whiteouts exist here */
	r = vfs_lookup_parent(t, odirfd, opath, &onp);
	if (r < 0)
		return r;
	r = vfs_lookup_parent(t, ndirfd, npath, &nnp);
	if (r < 0)
		goto out_old;
	if (onp.dir.mnt != nnp.dir.mnt) {
		r = -EXDEV;
		goto out;
	}
	if (onp.type != LAST_NORM || nnp.type != LAST_NORM) {
		r = -EBUSY;
		goto out;
	}
	if (onp.dir.dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	r = vfs_do_rename(t, onp.dir.dentry, onp.last, nnp.dir.dentry, nnp.last, flags,
			  onp.trailing_slash, nnp.trailing_slash);
out:
	nameparent_put(&nnp);
out_old:
	nameparent_put(&onp);
	return r;
}

int vfs_truncate_path(struct task *t, const char *path, int64_t len)
{
	struct path p;
	struct iattr ia = {.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME};
	int r;

	if (len < 0)
		return -EINVAL;
	r = vfs_lookup(t, LINUX_AT_FDCWD, path, LOOKUP_FOLLOW, &p);
	if (r < 0)
		return r;
	/* vfs_truncate's order: the type, then a read-only mount, then permission */
	if (LINUX_S_ISDIR(p.dentry->inode->mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!LINUX_S_ISREG(p.dentry->inode->mode)) {
		r = -EINVAL;
		goto out;
	}
	if (p.dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	r = inode_permission(t, p.dentry->inode, MAY_WRITE);
	if (r < 0)
		goto out;
	ia.size = (uint64_t)len;
	ia.mtime = ia.ctime = vfs_now();
	r = vfs_setattr(p.dentry, &ia);
out:
	path_put(&p);
	return r;
}

/* ---- open ---- */

/* The O_CREAT half of open: find or create the last component, following a final symlink
 * (even a dangling one, whose target is then created) unless O_NOFOLLOW. */
static int open_create(struct task *t, int dirfd, const char *path, int flags, int mode,
		       struct path *out, bool *created)
{
	struct nameparent np;
	int nlinks = 0;
	int r = vfs_lookup_parent(t, dirfd, path, &np);

	*created = false;
	for (;;) {
		struct dentry *dir, *d;

		if (r < 0)
			return r;
		if (np.type != LAST_NORM || np.trailing_slash) {
			nameparent_put(&np);
			return -EISDIR;
		}
		dir = np.dir.dentry;
		pthread_mutex_lock(&dir->lock);
		r = d_lookup_locked(dir, np.last, np.lastlen, &d);
		if (r < 0) {
			pthread_mutex_unlock(&dir->lock);
			nameparent_put(&np);
			return r;
		}
		if (!d->inode) {
			r = vfs_do_create(t, dir, d,
					  (uint32_t)mode & LINUX_S_IALLUGO & ~task_umask(t));
			pthread_mutex_unlock(&dir->lock);
			if (r == 0) {
				*created = true;
				out->mnt = mntget(np.dir.mnt);
				out->dentry = d;
			} else {
				dput(d);
			}
			nameparent_put(&np);
			return r;
		}
		pthread_mutex_unlock(&dir->lock);
		if (flags & LINUX_O_EXCL) {
			dput(d);
			nameparent_put(&np);
			return -EEXIST;
		}
		struct path p = {mntget(np.dir.mnt), d};
		struct mount *m;
		while ((m = mount_lookup(p.mnt, p.dentry))) {
			struct dentry *root = dget(m->root);
			path_put(&p);
			p.mnt = m;
			p.dentry = root;
		}
		if (!LINUX_S_ISLNK(p.dentry->inode->mode) || (flags & LINUX_O_NOFOLLOW)) {
			nameparent_put(&np);
			*out = p;
			return 0;
		}
		if (++nlinks > LINUX_SYMLOOP_MAX) {
			path_put(&p);
			nameparent_put(&np);
			return -ELOOP;
		}
		const struct inode_ops *iops = p.dentry->inode->iops;
		if (iops && iops->follow_link) {
			r = iops->follow_link(p.dentry, out);
			path_put(&p);
			nameparent_put(&np);
			return r;
		}
		char *target = malloc(LINUX_PATH_MAX);
		if (!target) {
			path_put(&p);
			nameparent_put(&np);
			return -ENOMEM;
		}
		long n = vfs_readlink_dentry(p.dentry, target, LINUX_PATH_MAX - 1);
		path_put(&p);
		if (n <= 0) {
			free(target);
			nameparent_put(&np);
			return n < 0 ? (int)n : -ENOENT;
		}
		target[n] = '\0';
		struct path start = np.dir;
		r = vfs_lookup_parent_from(t, &start, target, &nlinks, &np);
		path_put(&start);
		free(target);
	}
}

/* open(O_TMPFILE): a regular file without a name in the directory at path, which linkat may
 * name later unless O_EXCL. */
static long open_tmpfile(struct task *t, int dirfd, const char *path, int flags, int mode,
			 struct file **out)
{
	struct path dir;
	struct dentry *d = NULL;
	int r = vfs_lookup(t, dirfd, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);

	if (r < 0)
		return r;
	d = d_alloc_unnamed(dir.dentry);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&dir.dentry->lock);
	r = vfs_do_tmpfile(t, dir.dentry, d, (uint32_t)mode & LINUX_S_IALLUGO & ~task_umask(t));
	pthread_mutex_unlock(&dir.dentry->lock);
	if (r == 0)
		r = d_name_unnamed(d);
	if (r < 0)
		goto out;
	if (!(flags & LINUX_O_EXCL)) {
		pthread_mutex_lock(&d->inode->lock);
		d->inode->flags |= INODE_LINKABLE;
		pthread_mutex_unlock(&d->inode->lock);
	}
	struct path p = {.mnt = dir.mnt, .dentry = d};
	r = vfs_open_path(&p, flags & ~(LINUX_O_TMPFILE | LINUX_O_CREAT | LINUX_O_EXCL), out);
out:
	dput(d);
	path_put(&dir);
	return r;
}

long vfs_openat(struct task *t, int dirfd, const char *path, int flags, int mode, struct file **out)
{
	struct path p;
	bool created = false;
	int acc, r;
	struct inode *inode;

	if ((flags & LINUX_O_TMPFILE) == LINUX_O_TMPFILE) {
		acc = flags & LINUX_O_ACCMODE;
		if (acc != LINUX_O_WRONLY && acc != LINUX_O_RDWR)
			return -EINVAL;
		return open_tmpfile(t, dirfd, path, flags, mode, out);
	}
	if ((flags & LINUX_O_CREAT) && (flags & LINUX_O_DIRECTORY))
		return -EINVAL;
	if (flags & LINUX_O_PATH)
		flags &= LINUX_O_PATH | LINUX_O_DIRECTORY | LINUX_O_NOFOLLOW | LINUX_O_CLOEXEC;
	acc = flags & LINUX_O_ACCMODE;

	if (flags & LINUX_O_CREAT) {
		r = open_create(t, dirfd, path, flags, mode, &p, &created);
	} else {
		unsigned lf = 0;
		if (!(flags & LINUX_O_NOFOLLOW))
			lf |= LOOKUP_FOLLOW;
		if (flags & LINUX_O_DIRECTORY)
			lf |= LOOKUP_DIRECTORY;
		r = vfs_lookup(t, dirfd, path, lf, &p);
	}
	if (r < 0)
		return r;
	inode = p.dentry->inode;

	/* may_open */
	if ((flags & LINUX_O_CREAT) && LINUX_S_ISDIR(inode->mode)) {
		r = -EISDIR;
		goto out;
	}
	if (LINUX_S_ISLNK(inode->mode) && !(flags & LINUX_O_PATH)) {
		r = -ELOOP;
		goto out;
	}
	if ((flags & LINUX_O_DIRECTORY) && !LINUX_S_ISDIR(inode->mode)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!(flags & LINUX_O_PATH)) {
		int mask = 0;
		if (acc == LINUX_O_RDONLY || acc == LINUX_O_RDWR)
			mask |= MAY_READ;
		if (acc == LINUX_O_WRONLY || acc == LINUX_O_RDWR)
			mask |= MAY_WRITE;
		if ((flags & LINUX_O_TRUNC) && !created)
			mask |= MAY_WRITE;
		if (LINUX_S_ISDIR(inode->mode) && (mask & MAY_WRITE)) {
			r = -EISDIR;
			goto out;
		}
		if ((mask & MAY_WRITE) && (p.dentry->sb->flags & SB_RDONLY) &&
		    (LINUX_S_ISREG(inode->mode) || LINUX_S_ISDIR(inode->mode))) {
			r = -EROFS;
			goto out;
		}
		if (!created) {
			r = inode_permission(t, inode, mask);
			if (r < 0)
				goto out;
		}
	}
	/* Truncate before opening (Linux does it after): an overlay copies the file up here,
	 * so the open below already sees the upper copy. */
	if (!created && (flags & LINUX_O_TRUNC) && !(flags & LINUX_O_PATH) &&
	    LINUX_S_ISREG(inode->mode)) {
		struct iattr ia = {.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME, .size = 0};
		ia.mtime = ia.ctime = vfs_now();
		r = vfs_setattr(p.dentry, &ia);
		if (r < 0)
			goto out;
	}
	r = vfs_open_path(&p, flags, out);
out:
	path_put(&p);
	return r;
}
