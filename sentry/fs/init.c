/* vfs_init: the sandbox's mount tree. / = overlay(tmpfs upper, gofer lower); /dev devfs with a
 * tmpfs on /dev/shm and devpts on /dev/pts; /proc procfs; /sys sysfs, mounted over whatever the
 * lower layer has there.
 *
 * /tmp is not a mount of its own: it is part of the root overlay, so what the root has there stays
 * visible (a program started from a directory under the host's /tmp finds itself, as under runsc
 * do) while every write lands in the overlay's tmpfs upper layer and never reaches the host.
 * When the root has no /tmp, one is made (mode 01777) in the upper layer. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "gofer/client.h"
#include "sentry/vfs/ops.h"
#include "sentry/vfs/vfs_fs.h"

/* Mount sb on /name of the root, making the directory (in the overlay's upper layer) if the
 * lower layer has none. */
static int mount_on(const char *name, uint32_t mode, struct super_block *sb)
{
	struct path root, mp;
	struct dentry *d;
	int r;

	vfs_root_path(&root);
	r = d_lookup_one(root.dentry, name, strlen(name), &d);
	if (r == 0 && !d->inode) {
		dput(d);
		r = vfs_mkdir_in(root.dentry, name, mode, &d);
	}
	if (r < 0) {
		path_put(&root);
		return r;
	}
	mp.mnt = root.mnt;
	mp.dentry = d;
	r = mount_attach(sb, &mp);
	dput(d);
	path_put(&root);
	return r;
}

/* POSIX shared memory (shm_open, sem_open) lives in /dev/shm: a tmpfs of its own there, as on
 * the host, over the directory devfs made (dev: the devfs superblock just mounted on /dev). */
static int mount_dev_shm(struct super_block *dev)
{
	struct path root;
	struct dentry *d, *shm = NULL;
	struct mount *m = NULL;
	struct super_block *sb;
	int r;

	vfs_root_path(&root);
	r = d_lookup_one(root.dentry, "dev", 3, &d);
	if (r == 0) {
		m = d->inode ? mount_lookup(root.mnt, d) : NULL;
		dput(d);
		r = m && m->sb == dev ? d_lookup_one(m->root, "shm", 3, &shm) : -ENOENT;
	}
	if (r == 0 && !shm->inode)
		r = -ENOENT;
	if (r == 0)
		r = tmpfs_create(01777, &sb);
	if (r == 0) {
		struct path mp = {m, shm};
		r = mount_attach(sb, &mp);
	}
	if (shm)
		dput(shm);
	if (m)
		mntput(m);
	path_put(&root);
	return r;
}

/* devpts on /dev/pts (the directory devfs made; dev: the devfs superblock mounted on /dev). */
static int mount_dev_pts(struct super_block *dev)
{
	struct path root;
	struct dentry *d, *pts = NULL;
	struct mount *m = NULL;
	struct super_block *sb;
	int r;

	vfs_root_path(&root);
	r = d_lookup_one(root.dentry, "dev", 3, &d);
	if (r == 0) {
		m = d->inode ? mount_lookup(root.mnt, d) : NULL;
		dput(d);
		r = m && m->sb == dev ? d_lookup_one(m->root, "pts", 3, &pts) : -ENOENT;
	}
	if (r == 0 && !pts->inode)
		r = -ENOENT;
	if (r == 0)
		r = devpts_create(&sb);
	if (r == 0) {
		struct path mp = {m, pts};
		r = mount_attach(sb, &mp);
	}
	if (pts)
		dput(pts);
	if (m)
		mntput(m);
	path_put(&root);
	return r;
}

int vfs_init(const struct vfs_config *cfg)
{
	struct super_block *upper, *lower, *root, *dev, *proc, *sys;
	struct path rp;
	struct dentry *d;
	int r;

	if ((r = tmpfs_create(0755, &upper)) < 0 ||
	    (r = goferfs_create(cfg->gofer, GOFER_ROOT_FID, &lower)) < 0 ||
	    (r = overlay_create(upper, lower, &root)) < 0 || (r = vfs_set_root(root)) < 0) {
		log_error("vfs: root overlay: %s", strerror(-r));
		return r;
	}
	vfs_root_path(&rp);
	r = d_lookup_one(rp.dentry, "tmp", 3, &d);
	if (r == 0 && !d->inode) {
		dput(d);
		r = vfs_mkdir_in(rp.dentry, "tmp", 01777, &d);
	}
	if (r == 0)
		dput(d);
	path_put(&rp);
	if (r < 0) {
		log_error("vfs: /tmp: %s", strerror(-r));
		return r;
	}
	if ((r = devfs_create(&dev)) < 0 || (r = mount_on("dev", 0755, dev)) < 0) {
		log_error("vfs: /dev: %s", strerror(-r));
		return r;
	}
	if ((r = mount_dev_shm(dev)) < 0) {
		log_error("vfs: /dev/shm: %s", strerror(-r));
		return r;
	}
	if ((r = mount_dev_pts(dev)) < 0) {
		log_error("vfs: /dev/pts: %s", strerror(-r));
		return r;
	}
	if ((r = procfs_create(&proc)) < 0 || (r = mount_on("proc", 0555, proc)) < 0) {
		log_error("vfs: /proc: %s", strerror(-r));
		return r;
	}
	if ((r = sysfs_create(&sys)) < 0 || (r = mount_on("sys", 0555, sys)) < 0) {
		log_error("vfs: /sys: %s", strerror(-r));
		return r;
	}
	return 0;
}
