/* procfs: /proc/PID/mounts and mountinfo, and the mount ids fdinfo shows.
 *
 * The tree is the VFS's list of mounts (mount_list): the root first, then every mount in the
 * order it was attached, so a parent always comes before its children. Mount ids are the
 * positions in that list, from 1. */
#include "sentry/fs/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "sentry/vfs/vfs_fs.h"

#define MAX_MOUNTS 256

struct mount_set {
	struct mount *m[MAX_MOUNTS]; /* references */
	int parent[MAX_MOUNTS];	     /* index of the parent, -1 for the root */
	int n;
};

static void mounts_collect(struct mount_set *l)
{
	l->n = mount_list(l->m, MAX_MOUNTS);
	for (int i = 0; i < l->n; i++) {
		l->parent[i] = -1;
		for (int k = 0; k < i && l->m[i]->parent; k++)
			if (l->m[k] == l->m[i]->parent)
				l->parent[i] = k;
	}
}

static void mounts_release(struct mount_set *l)
{
	for (int i = 0; i < l->n; i++)
		mntput(l->m[i]);
	l->n = 0;
}

int proc_mount_id(const struct mount *mnt)
{
	struct mount_set l;
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
	pl->source = m->sb->source ? m->sb->source : type;
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
	}
	pl->super_opts = super_opts;
	pl->readonly = (m->sb->flags & SB_RDONLY) != 0;
	pl->dev_major = VFS_MAJOR(m->sb->dev);
	pl->dev_minor = VFS_MINOR(m->sb->dev);
}

static int gen_mounts(struct pbuf *b, bool info)
{
	struct mount_set l;
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
