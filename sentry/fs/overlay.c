/* overlay: a writable upper filesystem (tmpfs) over a read-only lower one (goferfs).
 *
 * Lookups look in the upper layer first: a whiteout (char device 0:0) there hides the name,
 * an opaque upper directory hides the whole lower directory. Changing a lower file copies it
 * (and its parent directories) up first; removing a name that exists below leaves a whiteout.
 * Nothing is ever written to the lower layer. */
#include "sentry/fs/fs.h"
#include "sentry/fs/overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/ops.h"

static const struct inode_ops ovl_iops;

bool ovl_is_whiteout(const struct inode *inode)
{
	return inode && LINUX_S_ISCHR(inode->mode) && inode->rdev == 0;
}

struct dentry *ovl_upper(struct inode *inode)
{
	struct dentry *d;

	pthread_mutex_lock(&inode->lock);
	d = dget(OI(inode)->upper);
	pthread_mutex_unlock(&inode->lock);
	return d;
}

struct dentry *ovl_real(struct inode *inode, struct mount **mnt)
{
	struct ovl_inode *oi = OI(inode);
	struct dentry *d;

	pthread_mutex_lock(&inode->lock);
	d = dget(oi->upper ? oi->upper : oi->lower);
	if (mnt)
		*mnt = oi->upper ? OFS(inode->sb)->upper_mnt : OFS(inode->sb)->lower_mnt;
	pthread_mutex_unlock(&inode->lock);
	return d;
}

static void ovl_evict(struct inode *inode)
{
	struct ovl_inode *oi = OI(inode);

	if (!oi)
		return;
	dput(oi->upper);
	dput(oi->lower);
	pthread_mutex_destroy(&oi->copy_lock);
	free(oi);
}

/* Linux's overlay reports the upper layer's space under its own magic number. */
static int ovl_statfs(struct super_block *sb, struct linux_statfs *st)
{
	struct linux_statfs ust;
	int r = vfs_statfs(OFS(sb)->upper_mnt->root, &ust);

	if (r < 0)
		return r;
	st->f_blocks = ust.f_blocks;
	st->f_bfree = ust.f_bfree;
	st->f_bavail = ust.f_bavail;
	st->f_files = ust.f_files;
	st->f_ffree = ust.f_ffree;
	st->f_type = LINUX_OVERLAYFS_SUPER_MAGIC;
	return 0;
}

static const struct super_ops ovl_sops = {
    .evict_inode = ovl_evict,
    .statfs = ovl_statfs,
};

/* Refresh the overlay inode's cached attributes from the layer inode (types never change). */
static void ovl_sync_attrs(struct inode *inode, struct inode *real)
{
	pthread_mutex_lock(&real->lock);
	uint32_t mode = real->mode, uid = real->uid, gid = real->gid, nlink = real->nlink;
	uint64_t size = real->size, rdev = real->rdev;
	pthread_mutex_unlock(&real->lock);
	pthread_mutex_lock(&inode->lock);
	inode->mode = mode;
	inode->uid = uid;
	inode->gid = gid;
	inode->nlink = nlink;
	inode->size = size;
	inode->rdev = rdev;
	pthread_mutex_unlock(&inode->lock);
}

uint64_t ovl_ino(struct inode *upper, struct inode *lower)
{
	uint64_t origin;

	if (!upper)
		return lower->ino;
	pthread_mutex_lock(&upper->lock);
	origin = upper->origin_ino;
	pthread_mutex_unlock(&upper->lock);
	return origin ? origin : upper->ino | OVL_UPPER_INO_BIT;
}

/* A new overlay inode over upper and/or lower (takes both references). */
static struct inode *ovl_new_inode(struct super_block *sb, struct dentry *upper,
				   struct dentry *lower)
{
	struct dentry *real = upper ? upper : lower;
	struct ovl_inode *oi = calloc(1, sizeof(*oi));
	struct inode *inode = oi ? inode_alloc(sb, real->inode->mode) : NULL;

	if (!inode) {
		free(oi);
		dput(upper);
		dput(lower);
		return NULL;
	}
	oi->upper = upper;
	oi->lower = lower;
	pthread_mutex_init(&oi->copy_lock, NULL);
	inode->priv = oi;
	inode->iops = &ovl_iops;
	inode->ino = ovl_ino(upper ? upper->inode : NULL, lower ? lower->inode : NULL);
	if (LINUX_S_ISDIR(inode->mode))
		inode->fops = &ovl_dir_fops;
	else if (LINUX_S_ISREG(inode->mode))
		inode->fops = &ovl_file_fops;
	ovl_sync_attrs(inode, real->inode);
	return inode;
}

int overlay_create(struct super_block *upper, struct super_block *lower, struct super_block **out)
{
	struct super_block *sb = sb_create("overlay", &ovl_sops, 0);
	struct ovl_fs *ofs = calloc(1, sizeof(*ofs));
	struct inode *root;

	if (!sb || !ofs)
		goto nomem;
	if (!LINUX_S_ISDIR(upper->root->inode->mode) || !LINUX_S_ISDIR(lower->root->inode->mode))
		return -ENOTDIR;
	ofs->upper_mnt = mount_create_internal(upper);
	ofs->lower_mnt = mount_create_internal(lower);
	if (!ofs->upper_mnt || !ofs->lower_mnt)
		goto nomem;
	sb->priv = ofs;
	/* The upper root stands for the lower one from the start, as if copied up. */
	struct linux_stat st;
	if (vfs_getattr(lower->root, &st) == 0) {
		struct iattr ia = {
		    .valid = ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_ATIME | ATTR_MTIME | ATTR_CTIME,
		    .mode = st.st_mode,
		    .uid = st.st_uid,
		    .gid = st.st_gid,
		    .atime = st.st_atim,
		    .mtime = st.st_mtim,
		    .ctime = st.st_ctim,
		};
		vfs_setattr(upper->root, &ia);
	}
	upper->root->inode->origin_ino = lower->root->inode->ino;
	root = ovl_new_inode(sb, dget(upper->root), dget(lower->root));
	if (!root || !d_make_root(sb, root))
		goto nomem;
	*out = sb;
	return 0;
nomem:
	free(ofs);
	free(sb);
	return -ENOMEM;
}

/* ---- lookup ---- */

static int ovl_lookup(struct inode *dir, struct dentry *d)
{
	struct ovl_inode *doi = OI(dir);
	struct dentry *udir = ovl_upper(dir), *upper = NULL, *lower = NULL, *c;
	bool opaque = udir && (udir->inode->flags & INODE_OPAQUE);
	int r = 0;

	if (udir) {
		r = d_lookup_one(udir, d->name, d->namelen, &c);
		if (r < 0)
			goto out;
		if (ovl_is_whiteout(c->inode)) {
			dput(c);
			goto out; /* negative */
		}
		if (c->inode)
			upper = c;
		else
			dput(c);
	}
	if (!opaque && doi->lower && LINUX_S_ISDIR(doi->lower->inode->mode)) {
		r = d_lookup_one(doi->lower, d->name, d->namelen, &c);
		if (r < 0)
			goto out;
		if (c->inode)
			lower = c;
		else
			dput(c);
	}
	/* A lower entry under an upper one of the other kind (file vs directory) is hidden. */
	if (upper && lower &&
	    LINUX_S_ISDIR(upper->inode->mode) != LINUX_S_ISDIR(lower->inode->mode)) {
		dput(lower);
		lower = NULL;
	}
	if (upper || lower) {
		struct inode *inode = ovl_new_inode(dir->sb, upper, lower);
		upper = lower = NULL;
		if (!inode) {
			r = -ENOMEM;
			goto out;
		}
		d_instantiate(d, inode);
	}
out:
	dput(upper);
	dput(lower);
	dput(udir);
	return r;
}

/* Does the lower directory under overlay directory parent hold name (so that removing or
 * renaming it in the overlay needs a whiteout)? */
static bool ovl_lower_has(struct dentry *parent, const char *name, size_t len)
{
	struct ovl_inode *poi = OI(parent->inode);
	struct dentry *u, *c;
	bool r = false;

	if (!poi->lower || !LINUX_S_ISDIR(poi->lower->inode->mode))
		return false;
	u = ovl_upper(parent->inode);
	if (u && (u->inode->flags & INODE_OPAQUE)) {
		dput(u);
		return false;
	}
	dput(u);
	if (d_lookup_one(poi->lower, name, len, &c) == 0) {
		r = c->inode != NULL;
		dput(c);
	}
	return r;
}

/* Make name in upper directory udir (locked) free for a new entry: remove a whiteout there.
 * Returns 0 with a negative dentry in *out and *was_whiteout, or -errno. */
static int upper_prepare(struct dentry *udir, const char *name, size_t len, struct dentry **out,
			 bool *was_whiteout)
{
	struct dentry *u;
	int r = d_lookup_locked(udir, name, len, &u);

	*was_whiteout = false;
	if (r < 0)
		return r;
	if (u->inode) {
		if (!ovl_is_whiteout(u->inode)) {
			dput(u);
			return -EEXIST;
		}
		r = vfs_do_unlink(NULL, udir, u);
		dput(u);
		if (r < 0)
			return r;
		*was_whiteout = true;
		r = d_lookup_locked(udir, name, len, &u);
		if (r < 0)
			return r;
	}
	*out = u;
	return 0;
}

/* Leave a whiteout for name in upper directory udir (locked). */
static int upper_whiteout(struct dentry *udir, const char *name, size_t len)
{
	struct dentry *w;
	int r = d_lookup_locked(udir, name, len, &w);

	if (r < 0)
		return r;
	if (!w->inode)
		r = vfs_do_mknod(NULL, udir, w, LINUX_S_IFCHR, 0);
	dput(w);
	return r;
}

/* ---- creating ---- */

enum ovl_kind { OVL_CREATE, OVL_MKDIR, OVL_MKNOD, OVL_SYMLINK, OVL_LINK };

static int ovl_make(struct inode *dir, struct dentry *d, enum ovl_kind kind, uint32_t mode,
		    uint64_t rdev, const char *target, struct dentry *old)
{
	struct dentry *udir, *u = NULL, *ou = NULL;
	bool was_whiteout;
	struct inode *inode;
	int r = ovl_copy_up(d->parent);

	if (r < 0)
		return r;
	if (kind == OVL_LINK) {
		r = ovl_copy_up(old);
		if (r < 0)
			return r;
		ou = ovl_upper(old->inode);
	}
	udir = ovl_upper(dir);
	pthread_mutex_lock(&udir->lock);
	r = upper_prepare(udir, d->name, d->namelen, &u, &was_whiteout);
	if (r < 0)
		goto out;
	switch (kind) {
	case OVL_CREATE:
		r = vfs_do_create(NULL, udir, u, mode);
		break;
	case OVL_MKDIR:
		r = vfs_do_mkdir(NULL, udir, u, mode);
		if (r == 0 && was_whiteout)
			u->inode->flags |= INODE_OPAQUE; /* what was below stays deleted */
		break;
	case OVL_MKNOD:
		r = vfs_do_mknod(NULL, udir, u, mode, rdev);
		break;
	case OVL_SYMLINK:
		r = vfs_do_symlink(NULL, udir, u, target);
		break;
	case OVL_LINK:
		r = vfs_do_link(NULL, ou, udir, u);
		break;
	}
out:
	pthread_mutex_unlock(&udir->lock);
	dput(udir);
	dput(ou);
	if (r < 0) {
		dput(u);
		return r;
	}
	inode = ovl_new_inode(dir->sb, u, NULL);
	if (!inode)
		return -ENOMEM;
	d_instantiate(d, inode);
	return 0;
}

static int ovl_create(struct inode *dir, struct dentry *d, uint32_t mode)
{
	return ovl_make(dir, d, OVL_CREATE, mode, 0, NULL, NULL);
}

static int ovl_mkdir(struct inode *dir, struct dentry *d, uint32_t mode)
{
	return ovl_make(dir, d, OVL_MKDIR, mode, 0, NULL, NULL);
}

static int ovl_mknod(struct inode *dir, struct dentry *d, uint32_t mode, uint64_t rdev)
{
	return ovl_make(dir, d, OVL_MKNOD, mode, rdev, NULL, NULL);
}

static int ovl_symlink(struct inode *dir, struct dentry *d, const char *target)
{
	return ovl_make(dir, d, OVL_SYMLINK, 0777, 0, target, NULL);
}

static int ovl_link(struct dentry *old, struct inode *dir, struct dentry *d)
{
	return ovl_make(dir, d, OVL_LINK, 0, 0, NULL, old);
}

/* O_TMPFILE: a file without a name in the upper directory (copied up first). */
static int ovl_tmpfile(struct inode *dir, struct dentry *d, uint32_t mode)
{
	struct dentry *udir, *u;
	struct inode *inode;
	int r = ovl_copy_up(d->parent);

	if (r < 0)
		return r;
	udir = ovl_upper(dir);
	u = d_alloc_unnamed(udir);
	if (!u) {
		dput(udir);
		return -ENOMEM;
	}
	pthread_mutex_lock(&udir->lock);
	r = vfs_do_tmpfile(NULL, udir, u, mode);
	pthread_mutex_unlock(&udir->lock);
	dput(udir);
	if (r == 0)
		r = d_name_unnamed(u);
	if (r < 0) {
		dput(u);
		return r;
	}
	/* The overlay's own inode carries O_EXCL's answer (the VFS checks it at linkat); the upper
	 * file may always be linked from here. */
	pthread_mutex_lock(&u->inode->lock);
	u->inode->flags |= INODE_LINKABLE;
	pthread_mutex_unlock(&u->inode->lock);
	inode = ovl_new_inode(dir->sb, u, NULL);
	if (!inode)
		return -ENOMEM;
	d_instantiate(d, inode);
	return 0;
}

/* ---- removing ---- */

/* Remove the whiteouts left in upper directory u, so that it can be removed. */
static int clear_whiteouts(struct ovl_fs *ofs, struct dentry *u)
{
	struct dirlist *l;
	int r = ovl_list_layer(ofs->upper_mnt, u, &l);

	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n && r == 0; i++)
		if (l->ents[i].type == LINUX_DT_CHR)
			r = vfs_unlink_in(u, l->ents[i].name);
	dirlist_free(l);
	return r;
}

/* 0 when overlay directory d has no entries (whiteouts do not count), else -ENOTEMPTY or
 * -errno. */
static int check_empty(struct dentry *d)
{
	struct dirlist *l;
	int r = ovl_read_dir(d, &l);

	if (r < 0)
		return r;
	r = l->n == 0 ? 0 : -ENOTEMPTY;
	dirlist_free(l);
	return r;
}

static int ovl_remove(struct inode *dir, struct dentry *d, bool isdir)
{
	struct dentry *udir, *u, *uc;
	bool need_wo;
	int r;

	if (isdir && (r = check_empty(d)) < 0)
		return r;
	r = ovl_copy_up(d->parent);
	if (r < 0)
		return r;
	need_wo = ovl_lower_has(d->parent, d->name, d->namelen);
	u = ovl_upper(d->inode);
	if (u && isdir) {
		r = clear_whiteouts(OFS(dir->sb), u);
		if (r < 0) {
			dput(u);
			return r;
		}
	}
	udir = ovl_upper(dir);
	pthread_mutex_lock(&udir->lock);
	if (u) {
		r = d_lookup_locked(udir, d->name, d->namelen, &uc);
		if (r == 0) {
			if (uc->inode == u->inode)
				r = isdir ? vfs_do_rmdir(NULL, udir, uc)
					  : vfs_do_unlink(NULL, udir, uc);
			dput(uc);
		}
	}
	if (r == 0 && need_wo)
		r = upper_whiteout(udir, d->name, d->namelen);
	pthread_mutex_unlock(&udir->lock);
	dput(udir);
	dput(u);
	return r;
}

static int ovl_unlink(struct inode *dir, struct dentry *d) { return ovl_remove(dir, d, false); }

static int ovl_rmdir(struct inode *dir, struct dentry *d) { return ovl_remove(dir, d, true); }

/* ---- rename: files, and directories that exist only in the upper layer ---- */

/* RENAME_EXCHANGE: both names exist before and after, so no whiteout is needed; the two
 * copied-up upper entries swap. A directory with lower contents cannot move (EXDEV, as for a
 * plain rename); one that lands on a name the lower layer also has becomes opaque. */
static int ovl_exchange(struct inode *odir, struct dentry *od, struct inode *ndir,
			struct dentry *nd)
{
	bool isdir = LINUX_S_ISDIR(od->inode->mode), new_isdir = LINUX_S_ISDIR(nd->inode->mode);
	bool o_below, n_below;
	struct dentry *uodir, *undir;
	int r;

	if ((isdir && OI(od->inode)->lower) || (new_isdir && OI(nd->inode)->lower))
		return -EXDEV;
	r = ovl_copy_up(od);
	if (r == 0)
		r = ovl_copy_up(nd);
	if (r < 0)
		return r;
	o_below = ovl_lower_has(od->parent, od->name, od->namelen);
	n_below = ovl_lower_has(nd->parent, nd->name, nd->namelen);
	uodir = ovl_upper(odir);
	undir = ovl_upper(ndir);
	r = vfs_do_rename_nomutex(NULL, uodir, od->name, undir, nd->name, LINUX_RENAME_EXCHANGE,
				  false, false);
	dput(uodir);
	dput(undir);
	if (r < 0)
		return r;
	if (isdir && n_below) {
		struct dentry *u = ovl_upper(od->inode);
		u->inode->flags |= INODE_OPAQUE;
		dput(u);
	}
	if (new_isdir && o_below) {
		struct dentry *u = ovl_upper(nd->inode);
		u->inode->flags |= INODE_OPAQUE;
		dput(u);
	}
	return 0;
}

static int ovl_rename(struct inode *odir, struct dentry *od, struct inode *ndir, struct dentry *nd,
		      unsigned flags)
{
	struct ovl_inode *ooi = OI(od->inode);
	bool isdir = LINUX_S_ISDIR(od->inode->mode);
	bool need_wo, was_whiteout = false, target_below = false;
	struct dentry *uodir = NULL, *undir = NULL, *un;
	int r;

	if (flags & LINUX_RENAME_EXCHANGE)
		return ovl_exchange(odir, od, ndir, nd);
	/* Moving a directory with lower contents needs redirects; Linux's overlay without
	 * redirect_dir answers EXDEV too, and callers (mv) fall back to copying. */
	if (isdir && ooi->lower)
		return -EXDEV;
	if (nd->inode && LINUX_S_ISDIR(nd->inode->mode)) {
		r = check_empty(nd);
		if (r < 0)
			return r;
		struct dentry *tu = ovl_upper(nd->inode);
		if (tu) {
			r = clear_whiteouts(OFS(odir->sb), tu);
			dput(tu);
			if (r < 0)
				return r;
		}
	}
	r = ovl_copy_up(od);
	if (r == 0)
		r = ovl_copy_up(nd->parent);
	if (r < 0)
		return r;
	need_wo = ovl_lower_has(od->parent, od->name, od->namelen);
	if (isdir)
		target_below = ovl_lower_has(nd->parent, nd->name, nd->namelen);
	uodir = ovl_upper(odir);
	undir = ovl_upper(ndir);

	/* A whiteout at the target goes first: the upper rename must not see it. */
	pthread_mutex_lock(&undir->lock);
	r = d_lookup_locked(undir, nd->name, nd->namelen, &un);
	if (r == 0) {
		if (ovl_is_whiteout(un->inode)) {
			r = vfs_do_unlink(NULL, undir, un);
			was_whiteout = true;
		}
		dput(un);
	}
	pthread_mutex_unlock(&undir->lock);
	if (r < 0)
		goto out;

	r = vfs_do_rename_nomutex(NULL, uodir, od->name, undir, nd->name, 0, false, false);
	if (r < 0)
		goto out;
	if (isdir && (was_whiteout || target_below)) {
		struct dentry *u = ovl_upper(od->inode);
		u->inode->flags |= INODE_OPAQUE;
		dput(u);
	}
	if (need_wo) {
		pthread_mutex_lock(&uodir->lock);
		r = upper_whiteout(uodir, od->name, od->namelen);
		pthread_mutex_unlock(&uodir->lock);
	}
out:
	dput(uodir);
	dput(undir);
	return r;
}

/* ---- attributes ---- */

static long ovl_readlink(struct dentry *d, char *buf, size_t size)
{
	struct dentry *real = ovl_real(d->inode, NULL);
	long r = vfs_readlink_dentry(real, buf, size);

	dput(real);
	return r;
}

static int ovl_getattr(struct dentry *d, struct linux_stat *st)
{
	struct dentry *real = ovl_real(d->inode, NULL);
	int r = vfs_getattr(real, st);

	dput(real);
	if (r == 0) {
		struct ovl_inode *oi = OI(d->inode);
		st->st_dev = d->sb->dev;
		st->st_ino = d->inode->ino;
		/* A merged directory: Linux's overlay says 1 (not worth counting); the lower
		 * layer's count is what the same directory shows outside the sandbox, and is
		 * right until directories are added or removed in it. */
		struct dentry *u = ovl_upper(d->inode);
		if (LINUX_S_ISDIR(st->st_mode) && oi->lower && u &&
		    LINUX_S_ISDIR(oi->lower->inode->mode)) {
			struct linux_stat lst;
			if (vfs_getattr(oi->lower, &lst) == 0)
				st->st_nlink = lst.st_nlink;
		}
		dput(u);
	}
	return r;
}

static int ovl_setattr(struct dentry *d, const struct iattr *ia)
{
	struct dentry *u;
	int r = ovl_copy_up(d);

	if (r < 0)
		return r;
	u = ovl_upper(d->inode);
	r = vfs_setattr(u, ia);
	if (r == 0)
		ovl_sync_attrs(d->inode, u->inode);
	dput(u);
	return r;
}

static const struct inode_ops ovl_iops = {
    .lookup = ovl_lookup,
    .create = ovl_create,
    .mkdir = ovl_mkdir,
    .mknod = ovl_mknod,
    .symlink = ovl_symlink,
    .tmpfile = ovl_tmpfile,
    .link = ovl_link,
    .unlink = ovl_unlink,
    .rmdir = ovl_rmdir,
    .rename = ovl_rename,
    .readlink = ovl_readlink,
    .getattr = ovl_getattr,
    .setattr = ovl_setattr,
    .getxattr = ovl_getxattr,
    .setxattr = ovl_setxattr,
    .listxattr = ovl_listxattr,
};

/* ---- copy-up ---- */

#define COPY_CHUNK (64 * 1024)

static int copy_data(struct ovl_fs *ofs, struct dentry *lower, struct dentry *upper)
{
	struct path lp = {ofs->lower_mnt, lower}, up = {ofs->upper_mnt, upper};
	struct file *lf = NULL, *uf = NULL;
	char *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	r = vfs_open_path(&lp, LINUX_O_RDONLY, &lf);
	if (r == 0)
		r = vfs_open_path(&up, LINUX_O_WRONLY, &uf);
	while (r == 0) {
		ssize_t n = vfs_pread(lf, buf, COPY_CHUNK, off);
		if (n <= 0) {
			r = (int)n;
			break;
		}
		ssize_t w = vfs_pwrite(uf, buf, (size_t)n, off);
		if (w < 0)
			r = (int)w;
		else if (w != n)
			r = -EIO;
		off += (uint64_t)n;
	}
	file_put(lf);
	file_put(uf);
	free(buf);
	return r;
}

int ovl_copy_up(struct dentry *d)
{
	struct inode *inode = d->inode;
	struct ovl_inode *oi = OI(inode);
	struct ovl_fs *ofs = OFS(d->sb);
	struct dentry *parent, *udir = NULL, *u = NULL;
	struct linux_stat st;
	char *name = NULL;
	int r;

	pthread_mutex_lock(&inode->lock);
	bool done = oi->upper != NULL;
	pthread_mutex_unlock(&inode->lock);
	if (done)
		return 0;

	parent = dget_parent(d);
	r = parent == d ? -EIO : ovl_copy_up(parent);
	if (r == 0) {
		udir = ovl_upper(parent->inode);
		pthread_rwlock_rdlock(&vfs_tree_lock);
		name = strdup(d->name);
		pthread_rwlock_unlock(&vfs_tree_lock);
		if (!name)
			r = -ENOMEM;
	}
	dput(parent);
	if (r < 0)
		goto out_free;

	pthread_mutex_lock(&oi->copy_lock);
	if (oi->upper)
		goto out; /* copied up while we waited */
	r = vfs_getattr(oi->lower, &st);
	if (r < 0)
		goto out;
	switch (st.st_mode & LINUX_S_IFMT) {
	case LINUX_S_IFDIR:
		r = vfs_mkdir_in(udir, name, st.st_mode, &u);
		break;
	case LINUX_S_IFREG:
		r = vfs_create_in(udir, name, st.st_mode, &u);
		if (r == 0 && st.st_size > 0) {
			r = copy_data(ofs, oi->lower, u);
			if (r < 0) {
				vfs_unlink_in(udir, name);
				dput(u);
				u = NULL;
			}
		}
		break;
	case LINUX_S_IFLNK: {
		char *target = malloc(LINUX_PATH_MAX);
		long n =
		    target ? vfs_readlink_dentry(oi->lower, target, LINUX_PATH_MAX - 1) : -ENOMEM;
		if (n >= 0) {
			target[n] = '\0';
			r = vfs_symlink_in(udir, name, target, &u);
		} else {
			r = (int)n;
		}
		free(target);
		break;
	}
	default:
		r = vfs_mknod_in(udir, name, st.st_mode, st.st_rdev, &u);
	}
	if (r < 0)
		goto out;
	struct iattr ia = {
	    .valid = ATTR_UID | ATTR_GID | ATTR_ATIME | ATTR_MTIME,
	    .uid = st.st_uid,
	    .gid = st.st_gid,
	    .atime = st.st_atim,
	    .mtime = st.st_mtim,
	};
	if (!LINUX_S_ISLNK(st.st_mode)) {
		ia.valid |= ATTR_MODE;
		ia.mode = st.st_mode;
	}
	vfs_setattr(u, &ia);
	pthread_mutex_lock(&u->inode->lock);
	u->inode->origin_ino = oi->lower->inode->ino;
	pthread_mutex_unlock(&u->inode->lock);
	pthread_mutex_lock(&inode->lock);
	oi->upper = u;
	pthread_mutex_unlock(&inode->lock);
	u = NULL;
	log_debug("overlay: copied up %s", name);
out:
	pthread_mutex_unlock(&oi->copy_lock);
out_free:
	dput(u);
	dput(udir);
	free(name);
	return r;
}
