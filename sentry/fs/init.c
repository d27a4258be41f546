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

/* Mount the superblock create() makes on /dev/NAME, a directory devfs made (dev: the devfs
 * superblock mounted on /dev). Returns 0 or -errno. */
static int mount_in_dev(struct super_block *dev, const char *name,
			int (*create)(struct super_block **out))
{
	struct path root;
	struct dentry *d, *dir = NULL;
	struct mount *m = NULL;
	struct super_block *sb;
	int r;

	vfs_root_path(&root);
	r = d_lookup_one(root.dentry, "dev", 3, &d);
	if (r == 0) {
		m = d->inode ? mount_lookup(root.mnt, d) : NULL;
		dput(d);
		r = m && m->sb == dev ? d_lookup_one(m->root, name, strlen(name), &dir) : -ENOENT;
	}
	if (r == 0 && !dir->inode)
		r = -ENOENT;
	if (r == 0)
		r = create(&sb);
	if (r == 0) {
		struct path mp = {m, dir};
		r = mount_attach(sb, &mp);
	}
	if (dir)
		dput(dir);
	if (m)
		mntput(m);
	path_put(&root);
	return r;
}

/* POSIX shared memory (shm_open, sem_open) lives in /dev/shm: a tmpfs of its own, as on the host. */
static int shm_create(struct super_block **out)
{
	return tmpfs_create(01777, out);
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
	if ((r = mount_in_dev(dev, "shm", shm_create)) < 0) {
		log_error("vfs: /dev/shm: %s", strerror(-r));
		return r;
	}
	if ((r = mount_in_dev(dev, "pts", devpts_create)) < 0) {
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
