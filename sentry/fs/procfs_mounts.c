/* procfs: /proc/PID/mounts and mountinfo, and the mount ids fdinfo shows.
 *
 * The VFS keeps no public list of mounts yet, so the tree is found by probing, from the root
 * mount down, the directories mounts sit on in the sandbox (dev, proc, sys, tmp, run, and under
 * /dev pts, shm, mqueue). Mount ids are the order of that walk, from 1. */
#include "sentry/fs/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "sentry/vfs/vfs_fs.h"

#define MAX_MOUNTS 32

struct mount_list {
	struct mount *m[MAX_MOUNTS]; /* references */
	int parent[MAX_MOUNTS];	     /* index of the parent, -1 for the root */
	int n;
};

static const char *const probe_names[] = {"dev", "proc", "sys", "tmp",
					  "run", "pts",	 "shm", "mqueue"};

static void probe(struct mount_list *l, int idx, int depth)
{
	struct mount *parent = l->m[idx];

	if (depth > 3)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(probe_names) && l->n < MAX_MOUNTS; i++) {
		struct dentry *d;
		if (d_lookup_one(parent->root, probe_names[i], strlen(probe_names[i]), &d) < 0)
			continue;
		struct mount *m = d->inode ? mount_lookup(parent, d) : NULL;
		dput(d);
		if (!m)
			continue;
		int me = l->n++;
		l->m[me] = m;
		l->parent[me] = idx;
		probe(l, me, depth + 1);
	}
}

static void mounts_collect(struct mount_list *l)
{
	struct path root;

	l->n = 0;
	vfs_root_path(&root);
	if (!root.mnt) {
		path_put(&root);
		return;
	}
	l->m[0] = mntget(root.mnt);
	l->parent[0] = -1;
	l->n = 1;
	path_put(&root);
	probe(l, 0, 0);
}

static void mounts_release(struct mount_list *l)
{
	for (int i = 0; i < l->n; i++)
		mntput(l->m[i]);
	l->n = 0;
}

int proc_mount_id(const struct mount *mnt)
{
	struct mount_list l;
	int id = 0;

	mounts_collect(&l);
	for (int i = 0; i < l.n; i++)
		if (l.m[i] == mnt)
			id = i + 1;
	mounts_release(&l);
	return id;
}

/* Source, mount options and superblock options as Linux shows the filesystem. */
static void describe(struct mount *m, const char *mountpoint, struct proc_mount_line *pl,
		     char *super_opts, size_t size)
{
	const char *type = m->sb->fstype;

	pl->fstype = type;
	pl->source = type;
	pl->mnt_opts = ",relatime";
	super_opts[0] = '\0';
	if (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) {
		pl->mnt_opts = ",nosuid,nodev,noexec,relatime";
	} else if (strcmp(type, "tmpfs") == 0) {
		pl->mnt_opts = strcmp(mountpoint, "/dev") == 0 ? ",nosuid" : ",nosuid,nodev";
		if (m->root->inode)
			snprintf(super_opts, size, ",mode=%o", m->root->inode->mode & 07777);
	} else if (strcmp(type, "devpts") == 0) {
		pl->mnt_opts = ",nosuid,noexec,relatime";
		snprintf(super_opts, size, ",gid=5,mode=620,ptmxmode=666");
	} else if (strcmp(type, "9p") == 0) {
		pl->source = "none";
	}
	pl->super_opts = super_opts;
	pl->readonly = (m->sb->flags & SB_RDONLY) != 0;
	pl->dev_major = VFS_MAJOR(m->sb->dev);
	pl->dev_minor = VFS_MINOR(m->sb->dev);
}

static int gen_mounts(struct pbuf *b, bool info)
{
	struct mount_list l;
	char mp[LINUX_PATH_MAX], super_opts[64];

	mounts_collect(&l);
	for (int i = 0; i < l.n; i++) {
		struct mount *m = l.m[i];
		struct proc_mount_line pl = {0};
		struct path p = {m, m->root};
		if (path_to_str(&p, mp, sizeof(mp)) < 0)
			continue;
		describe(m, mp, &pl, super_opts, sizeof(super_opts));
		pl.id = i + 1;
		pl.parent_id = l.parent[i] < 0 ? pl.id : l.parent[i] + 1;
		pl.root = "/";
		pl.mountpoint = mp;
		if (info)
			proc_fmt_mountinfo_line(b, &pl);
		else
			proc_fmt_mounts_line(b, &pl);
	}
	mounts_release(&l);
	return 0;
}

int proc_gen_pid_mounts(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	return gen_mounts(b, false);
}

int proc_gen_pid_mountinfo(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	return gen_mounts(b, true);
}
