/* vfs_init: the sandbox's mount tree. / = overlay(tmpfs upper, gofer lower); /dev devfs with a
 * tmpfs on /dev/shm and devpts on /dev/pts; /proc procfs; /sys sysfs, mounted over whatever the
 * lower layer has there; then the configured mounts (bind mounts served by the gofer, tmpfs,
 * ...) in order, each destination made if missing; then the root read-only if asked.
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

/* The directory (or, for a file mount, the file) at path dest, made in whatever filesystem
 * holds it if missing (directories on the way with mode 0755), as runc makes a mount's
 * destination; mounts on the way are crossed, symlinks refused (-ELOOP). For a file, *out is
 * a mountpoint of the same type as want_dir. Returns 0 with references in *out, or -errno. */
static int make_dest(const char *dest, bool want_dir, struct path *out)
{
	struct path cur;
	char name[LINUX_NAME_MAX + 1];
	int r = 0;

	vfs_root_path(&cur);
	for (const char *c = dest; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if (n == 0)
			break;
		if (n > LINUX_NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(name, c, n);
		name[n] = '\0';
		c += n;
		while (*c == '/')
			c++;
		bool last = *c == '\0';
		struct dentry *d;
		if ((r = d_lookup_one(cur.dentry, name, n, &d)) < 0)
			break;
		if (!d->inode) {
			dput(d);
			if (last && !want_dir)
				r = vfs_create_in(cur.dentry, name, 0644, &d);
			else
				r = vfs_mkdir_in(cur.dentry, name, 0755, &d);
			if (r < 0)
				break;
		}
		struct path next = {mntget(cur.mnt), d};
		path_put(&cur);
		cur = next;
		/* what is mounted there (the new mount stacks on top of it) */
		for (struct mount *m; (m = mount_lookup(cur.mnt, cur.dentry));) {
			struct dentry *root = dget(m->root);
			path_put(&cur);
			cur.mnt = m;
			cur.dentry = root;
		}
		bool is_dir = LINUX_S_ISDIR(cur.dentry->inode->mode);
		if (LINUX_S_ISLNK(cur.dentry->inode->mode))
			r = -ELOOP;
		else if (!last && !is_dir)
			r = -ENOTDIR;
		else if (last && is_dir != want_dir)
			r = want_dir ? -ENOTDIR : -EISDIR;
		if (r < 0)
			break;
	}
	if (r < 0) {
		path_put(&cur);
		return r;
	}
	*out = cur;
	return 0;
}

/* Mounts the default tree has already (runsc does the same with an OCI spec's /proc, /sys,
 * /dev and /dev/pts): skipped. */
static bool is_default_mount(const struct vfs_mount *m)
{
	return (m->type == VFS_MOUNT_PROC && strcmp(m->dest, "/proc") == 0) ||
	       (m->type == VFS_MOUNT_SYSFS && strcmp(m->dest, "/sys") == 0) ||
	       (m->type == VFS_MOUNT_DEVPTS && strcmp(m->dest, "/dev/pts") == 0) ||
	       (m->type == VFS_MOUNT_TMPFS && strcmp(m->dest, "/dev") == 0);
}

/* Make the filesystem m asks for. Returns 0 and *out, 1 for a mount to skip, or -errno. */
static int make_sb(struct gofer_client *c, const struct vfs_mount *m, struct super_block **out)
{
	struct gofer_stat st;
	uint32_t fid;
	int r;

	switch (m->type) {
	case VFS_MOUNT_BIND:
		if ((r = gofer_attach(c, m->gofer_root, &fid, &st)) < 0)
			return r;
		if ((r = goferfs_create_mount(c, fid, m->readonly, out)) < 0)
			gofer_clunk(c, fid);
		else
			(*out)->source = m->source;
		return r;
	case VFS_MOUNT_TMPFS:
		r = tmpfs_create_sized(m->mode, m->size, out);
		break;
	case VFS_MOUNT_PROC:
		r = procfs_create(out);
		break;
	case VFS_MOUNT_SYSFS:
		r = sysfs_create(out);
		break;
	default: /* devpts has one instance (/dev/pts), mqueue none */
		log_warn("vfs: %s mount on %s not supported, skipped",
			 m->type == VFS_MOUNT_DEVPTS ? "devpts" : "mqueue", m->dest);
		return 1;
	}
	if (r == 0 && m->readonly)
		(*out)->flags |= SB_RDONLY;
	return r;
}

/* Apply one configured mount. 0 or -errno. */
static int apply_mount(struct gofer_client *c, const struct vfs_mount *m)
{
	struct super_block *sb;
	struct path mp;
	int r;

	if (is_default_mount(m)) {
		log_debug("vfs: %s is part of the default tree", m->dest);
		return 0;
	}
	if ((r = make_sb(c, m, &sb)) != 0)
		return r > 0 ? 0 : r;
	bool dir = LINUX_S_ISDIR(sb->root->inode->mode);
	if ((r = make_dest(m->dest, dir, &mp)) < 0)
		return r;
	r = mount_attach(sb, &mp);
	path_put(&mp);
	return r;
}

/* POSIX shared memory (shm_open, sem_open) lives in /dev/shm: a tmpfs of its own, as on the host.
 */
static int shm_create(struct super_block **out) { return tmpfs_create(01777, out); }

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
	for (size_t i = 0; i < cfg->nmounts; i++) {
		if ((r = apply_mount(cfg->gofer, &cfg->mounts[i])) < 0) {
			log_error("vfs: mount on %s: %s", cfg->mounts[i].dest, strerror(-r));
			return r;
		}
	}
	/* Last, so the destinations above could still be made in the overlay. Like docker
	 * --read-only, /tmp (part of the root) is read-only too; a --tmpfs /tmp makes it
	 * writable. */
	if (cfg->root_readonly)
		root->flags |= SB_RDONLY;
	return 0;
}
