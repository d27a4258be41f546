/* Directory operations: create, mkdir, mknod, symlink, link, unlink, rmdir, rename, with the
 * checks Linux's fs/namei.c makes before calling the filesystem. */
#include "sentry/vfs/vfs_fs.h"
#include "sentry/vfs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fsnotify.h"

/* may_create: dir (locked) must be alive, searchable and writable. */
static int may_create(struct task *t, struct dentry *dir)
{
	if (dir->inode->flags & INODE_DEAD)
		return -ENOENT;
	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	return inode_permission(t, dir->inode, MAY_WRITE | MAY_EXEC);
}

/* may_delete: victim d (positive) in dir (locked). */
static int may_delete(struct task *t, struct dentry *dir, struct dentry *d, bool isdir)
{
	int r;

	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	r = inode_permission(t, dir->inode, MAY_WRITE | MAY_EXEC);
	if (r < 0)
		return r;
	/* The sticky bit: only the owner of the file or the directory (or root) may remove. */
	if (t && (dir->inode->mode & LINUX_S_ISVTX) && t->cred.fsuid != 0 &&
	    t->cred.fsuid != d->inode->uid && t->cred.fsuid != dir->inode->uid)
		return -EPERM;
	if (isdir && !LINUX_S_ISDIR(d->inode->mode))
		return -ENOTDIR;
	if (!isdir && LINUX_S_ISDIR(d->inode->mode))
		return -EISDIR;
	if (atomic_load(&d->mounted))
		return -EBUSY;
	return 0;
}

int vfs_do_create(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (!iops || !iops->create)
		return -EACCES;
	r = iops->create(dir->inode, d, LINUX_S_IFREG | (mode & LINUX_S_IALLUGO));
	if (r == 0)
		fsnotify_create(dir, d);
	return r;
}

int vfs_do_tmpfile(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (!iops || !iops->tmpfile)
		return -EOPNOTSUPP;
	return iops->tmpfile(dir->inode, d, LINUX_S_IFREG | (mode & LINUX_S_IALLUGO));
}

int vfs_do_mkdir(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (!iops || !iops->mkdir)
		return -EPERM;
	r = iops->mkdir(dir->inode, d, LINUX_S_IFDIR | (mode & LINUX_S_IALLUGO));
	if (r == 0)
		fsnotify_create(dir, d);
	return r;
}

int vfs_do_mknod(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode, uint64_t rdev)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (LINUX_S_ISREG(mode) || (mode & LINUX_S_IFMT) == 0)
		return vfs_do_create(t, dir, d, mode);
	if (!iops || !iops->mknod)
		return -EPERM;
	r = iops->mknod(dir->inode, d, mode, rdev);
	if (r == 0)
		fsnotify_create(dir, d);
	return r;
}

int vfs_do_symlink(struct task *t, struct dentry *dir, struct dentry *d, const char *target)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (!iops || !iops->symlink)
		return -EPERM;
	r = iops->symlink(dir->inode, d, target);
	if (r == 0)
		fsnotify_create(dir, d);
	return r;
}

/* Remove the negative children a removed directory still caches, so it can be freed. */
static void prune_child(struct dentry *c, void *arg)
{
	(void)arg;
	if (!c->inode)
		d_unhash(c);
}

int vfs_do_unlink(struct task *t, struct dentry *dir, struct dentry *d)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_delete(t, dir, d, false);

	if (r < 0)
		return r;
	if (!iops || !iops->unlink)
		return -EPERM;
	bool last = d->inode->nlink <= 1;
	r = iops->unlink(dir->inode, d);
	if (r < 0)
		return r;
	fsnotify_remove(dir, d, d->inode, false, last);
	d->flags |= D_DELETED;
	d_unhash(d);
	return 0;
}

int vfs_do_rmdir(struct task *t, struct dentry *dir, struct dentry *d)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_delete(t, dir, d, true);

	if (r < 0)
		return r;
	if (d == d->sb->root)
		return -EBUSY;
	if (!iops || !iops->rmdir)
		return -EPERM;
	pthread_mutex_lock(&d->lock);
	r = iops->rmdir(dir->inode, d);
	if (r == 0) {
		pthread_mutex_lock(&d->inode->lock);
		d->inode->flags |= INODE_DEAD;
		pthread_mutex_unlock(&d->inode->lock);
		d_for_each_child(d, prune_child, NULL);
	}
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		return r;
	fsnotify_remove(dir, d, d->inode, true, true);
	d->flags |= D_DELETED;
	d_unhash(d);
	return 0;
}

int vfs_do_link(struct task *t, struct dentry *old, struct dentry *dir, struct dentry *d)
{
	const struct inode_ops *iops = dir->inode->iops;
	int r = may_create(t, dir);

	if (r < 0)
		return r;
	if (old->sb != dir->sb)
		return -EXDEV;
	if (LINUX_S_ISDIR(old->inode->mode))
		return -EPERM;
	if (!iops || !iops->link)
		return -EPERM;
	/* A file without a name gets one only when it was made to be given one (O_TMPFILE
	 * without O_EXCL), and only once, as Linux's I_LINKABLE. */
	pthread_mutex_lock(&old->inode->lock);
	bool linkable = old->inode->flags & INODE_LINKABLE;
	bool unnamed = old->inode->nlink == 0;
	pthread_mutex_unlock(&old->inode->lock);
	if (unnamed && !linkable)
		return -ENOENT;
	r = iops->link(old, dir->inode, d);
	if (r == 0)
		fsnotify_link(dir, d);
	if (r == 0 && linkable) {
		pthread_mutex_lock(&old->inode->lock);
		old->inode->flags &= ~INODE_LINKABLE;
		pthread_mutex_unlock(&old->inode->lock);
	}
	return r;
}

/* ---- the kernel's own entry points: by dentry and name ---- */

static int create_in(struct dentry *dir, const char *name, uint32_t mode, uint64_t rdev,
		     const char *target, int kind, struct dentry **out)
{
	struct dentry *d;
	int r;

	pthread_mutex_lock(&dir->lock);
	r = d_lookup_locked(dir, name, strlen(name), &d);
	if (r < 0)
		goto out;
	if (d->inode) {
		r = -EEXIST;
	} else {
		switch (kind) {
		case 0:
			r = vfs_do_create(NULL, dir, d, mode);
			break;
		case 1:
			r = vfs_do_mkdir(NULL, dir, d, mode);
			break;
		case 2:
			r = vfs_do_mknod(NULL, dir, d, mode, rdev);
			break;
		default:
			r = vfs_do_symlink(NULL, dir, d, target);
		}
	}
	if (r == 0 && out)
		*out = d;
	else
		dput(d);
out:
	pthread_mutex_unlock(&dir->lock);
	return r;
}

int vfs_create_in(struct dentry *dir, const char *name, uint32_t mode, struct dentry **out)
{
	return create_in(dir, name, mode, 0, NULL, 0, out);
}

int vfs_mkdir_in(struct dentry *dir, const char *name, uint32_t mode, struct dentry **out)
{
	return create_in(dir, name, mode, 0, NULL, 1, out);
}

int vfs_mknod_in(struct dentry *dir, const char *name, uint32_t mode, uint64_t rdev,
		 struct dentry **out)
{
	return create_in(dir, name, mode, rdev, NULL, 2, out);
}

int vfs_symlink_in(struct dentry *dir, const char *name, const char *target, struct dentry **out)
{
	return create_in(dir, name, 0777, 0, target, 3, out);
}

static int remove_in(struct dentry *dir, const char *name, bool isdir)
{
	struct dentry *d;
	int r;

	pthread_mutex_lock(&dir->lock);
	r = d_lookup_locked(dir, name, strlen(name), &d);
	if (r == 0) {
		if (!d->inode)
			r = -ENOENT;
		else
			r = isdir ? vfs_do_rmdir(NULL, dir, d) : vfs_do_unlink(NULL, dir, d);
		dput(d);
	}
	pthread_mutex_unlock(&dir->lock);
	return r;
}

int vfs_unlink_in(struct dentry *dir, const char *name) { return remove_in(dir, name, false); }

int vfs_rmdir_in(struct dentry *dir, const char *name) { return remove_in(dir, name, true); }

/* ---- rename ---- */

/* Is a an ancestor of (or equal to) d in the same superblock? */
static bool is_ancestor(struct dentry *a, struct dentry *d)
{
	bool r = false;

	pthread_rwlock_rdlock(&vfs_tree_lock);
	for (; d; d = d->parent) {
		if (d == a) {
			r = true;
			break;
		}
	}
	pthread_rwlock_unlock(&vfs_tree_lock);
	return r;
}

static void lock_two(struct dentry *a, struct dentry *b)
{
	if (a == b) {
		pthread_mutex_lock(&a->lock);
	} else if (is_ancestor(a, b)) {
		pthread_mutex_lock(&a->lock);
		pthread_mutex_lock(&b->lock);
	} else {
		pthread_mutex_lock(&b->lock);
		pthread_mutex_lock(&a->lock);
	}
}

static void unlock_two(struct dentry *a, struct dentry *b)
{
	pthread_mutex_unlock(&a->lock);
	if (a != b)
		pthread_mutex_unlock(&b->lock);
}

int vfs_do_rename(struct task *t, struct dentry *odir, const char *oname, struct dentry *ndir,
		  const char *nname, unsigned flags, bool old_slash, bool new_slash)
{
	int r;

	if (odir->sb != ndir->sb)
		return -EXDEV;
	pthread_mutex_lock(&vfs_rename_mutex);
	r = vfs_do_rename_nomutex(t, odir, oname, ndir, nname, flags, old_slash, new_slash);
	pthread_mutex_unlock(&vfs_rename_mutex);
	return r;
}

int vfs_do_rename_nomutex(struct task *t, struct dentry *odir, const char *oname,
			  struct dentry *ndir, const char *nname, unsigned flags, bool old_slash,
			  bool new_slash)
{
	bool exchange = flags & LINUX_RENAME_EXCHANGE;
	struct dentry *od = NULL, *nd = NULL;
	const struct inode_ops *iops;
	bool isdir, new_isdir = false;
	int r;

	if (odir->sb != ndir->sb)
		return -EXDEV;
	lock_two(odir, ndir);
	r = d_lookup_locked(odir, oname, strlen(oname), &od);
	if (r < 0)
		goto out;
	if (!od->inode) {
		r = -ENOENT;
		goto out;
	}
	r = d_lookup_locked(ndir, nname, strlen(nname), &nd);
	if (r < 0)
		goto out;
	if (exchange && !nd->inode) {
		r = -ENOENT;
		goto out;
	}
	isdir = LINUX_S_ISDIR(od->inode->mode);
	new_isdir = nd->inode && LINUX_S_ISDIR(nd->inode->mode);
	if (!isdir && old_slash) {
		r = -ENOTDIR;
		goto out;
	}
	if (new_slash && (exchange ? !new_isdir : !isdir)) {
		r = -ENOTDIR;
		goto out;
	}
	/* The source must not be an ancestor of the target's directory... */
	if (is_ancestor(od, ndir)) {
		r = -EINVAL;
		goto out;
	}
	/* ... and the target must not be an ancestor of the source. */
	if (is_ancestor(nd, odir)) {
		r = exchange ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	if (od->inode == nd->inode) {
		r = 0; /* the same file (or hard links to it): nothing to do */
		goto out;
	}
	r = may_delete(t, odir, od, isdir);
	if (r < 0)
		goto out;
	if (nd->inode) {
		if (flags & LINUX_RENAME_NOREPLACE) {
			r = -EEXIST;
			goto out;
		}
		r = may_delete(t, ndir, nd, exchange ? new_isdir : isdir);
	} else {
		r = may_create(t, ndir);
	}
	if (r < 0)
		goto out;
	/* A directory that changes parent gets a new "..": it must be writable. */
	if (odir != ndir) {
		if (isdir)
			r = inode_permission(t, od->inode, MAY_WRITE);
		if (r == 0 && exchange && new_isdir)
			r = inode_permission(t, nd->inode, MAY_WRITE);
		if (r < 0)
			goto out;
	}
	if (atomic_load(&od->mounted) || (exchange && atomic_load(&nd->mounted))) {
		r = -EBUSY;
		goto out;
	}
	iops = odir->inode->iops;
	if (!iops || !iops->rename) {
		r = exchange ? -EINVAL : -EPERM;
		goto out;
	}
	bool target_last = nd->inode && nd->inode->nlink <= 1;
	r = iops->rename(odir->inode, od, ndir->inode, nd, flags);
	if (r < 0)
		goto out;
	fsnotify_move(odir, oname, ndir, nname, od->inode, exchange ? NULL : nd->inode,
		      target_last);
	if (exchange) {
		fsnotify_move(ndir, nname, odir, oname, nd->inode, NULL, false);
		d_exchange(od, nd);
		goto out;
	}
	if (nd->inode) {
		nd->flags |= D_DELETED;
		if (LINUX_S_ISDIR(nd->inode->mode)) {
			pthread_mutex_lock(&nd->inode->lock);
			nd->inode->flags |= INODE_DEAD;
			pthread_mutex_unlock(&nd->inode->lock);
		}
	}
	/* The target's dentry leaves the table first: the source takes its name there. */
	d_unhash(nd);
	r = d_move(od, ndir, nname, strlen(nname));
out:
	unlock_two(odir, ndir);
	dput(od);
	dput(nd);
	return r;
}
