/* The mount tree: mounts, paths, and turning a path back into a string. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Every attached mount, newest first; a mount stacked later on the same dentry hides older
 * ones. Mounts are never detached yet, so readers may use a mount after dropping the lock. */
struct mount_node {
	struct mount *m;
	struct mount_node *next;
};

static pthread_rwlock_t g_mount_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct mount_node *g_mounts;
static struct mount *g_root_mnt;

struct mount *mntget(struct mount *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void mntput(struct mount *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	dput(m->root);
	dput(m->mountpoint);
	free(m);
}

struct mount *mount_create_internal(struct super_block *sb)
{
	struct mount *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->sb = sb;
	m->root = dget(sb->root);
	return m;
}

int mount_attach(struct super_block *sb, const struct path *mp)
{
	struct mount_node *n = calloc(1, sizeof(*n));
	struct mount *m;

	if (!n)
		return -ENOMEM;
	/* A directory on a directory, or (a file bind mount) a non-directory on one. */
	if (!mp->dentry->inode || !sb->root || !sb->root->inode ||
	    LINUX_S_ISDIR(mp->dentry->inode->mode) != LINUX_S_ISDIR(sb->root->inode->mode)) {
		free(n);
		return -ENOTDIR;
	}
	m = mount_create_internal(sb);
	if (!m) {
		free(n);
		return -ENOMEM;
	}
	m->parent = mntget(mp->mnt);
	m->mountpoint = dget(mp->dentry);
	n->m = m;
	pthread_rwlock_wrlock(&g_mount_lock);
	n->next = g_mounts;
	g_mounts = n;
	atomic_fetch_add(&mp->dentry->mounted, 1);
	pthread_rwlock_unlock(&g_mount_lock);
	return 0;
}

struct mount *mount_lookup(struct mount *parent, struct dentry *d)
{
	struct mount *found = NULL;

	if (!atomic_load(&d->mounted))
		return NULL;
	pthread_rwlock_rdlock(&g_mount_lock);
	for (struct mount_node *n = g_mounts; n; n = n->next) {
		if (n->m->parent == parent && n->m->mountpoint == d) {
			found = mntget(n->m);
			break;
		}
	}
	pthread_rwlock_unlock(&g_mount_lock);
	return found;
}

int mount_list(struct mount **out, int max)
{
	int n = 0, total = 0;

	pthread_rwlock_rdlock(&g_mount_lock);
	if (g_root_mnt && max > 0)
		out[n++] = mntget(g_root_mnt);
	for (struct mount_node *x = g_mounts; x; x = x->next)
		total++;
	/* g_mounts is newest first: skip the newest beyond max - 1, then fill from the end so
	 * the oldest comes first. */
	int take = total < max - n ? total : max - n, skip = total - take, i = 0;
	for (struct mount_node *x = g_mounts; x; x = x->next, i++)
		if (i >= skip)
			out[n + take - 1 - (i - skip)] = mntget(x->m);
	n += take > 0 ? take : 0;
	pthread_rwlock_unlock(&g_mount_lock);
	return n;
}

int vfs_set_root(struct super_block *sb)
{
	struct mount *m = mount_create_internal(sb);
	struct mount *old;

	if (!m)
		return -ENOMEM;
	pthread_rwlock_wrlock(&g_mount_lock);
	old = g_root_mnt;
	g_root_mnt = m;
	pthread_rwlock_unlock(&g_mount_lock);
	mntput(old);
	return 0;
}

void vfs_root_path(struct path *out)
{
	pthread_rwlock_rdlock(&g_mount_lock);
	out->mnt = mntget(g_root_mnt);
	out->dentry = g_root_mnt ? dget(g_root_mnt->root) : NULL;
	pthread_rwlock_unlock(&g_mount_lock);
}

void path_get(const struct path *p)
{
	mntget(p->mnt);
	dget(p->dentry);
}

void path_put(struct path *p)
{
	dput(p->dentry);
	mntput(p->mnt);
	p->dentry = NULL;
	p->mnt = NULL;
}

long path_to_str(const struct path *p, char *buf, size_t size)
{
	static const char deleted[] = " (deleted)";
	struct mount *mnt = p->mnt;
	struct dentry *d = p->dentry;
	size_t end, pos;
	bool is_deleted = d->flags & D_DELETED;

	if (size < 2)
		return -ERANGE;
	/* Build from the end of buf backwards, then move it to the front. */
	end = size - 1;
	buf[end] = '\0';
	pos = end;
	pthread_rwlock_rdlock(&vfs_tree_lock);
	for (;;) {
		if (d == mnt->root || !d->parent) {
			if (!mnt->parent)
				break;
			d = mnt->mountpoint;
			mnt = mnt->parent;
			continue;
		}
		if (pos < d->namelen + 1) {
			pthread_rwlock_unlock(&vfs_tree_lock);
			return -ENAMETOOLONG;
		}
		pos -= d->namelen;
		memcpy(buf + pos, d->name, d->namelen);
		buf[--pos] = '/';
		d = d->parent;
	}
	pthread_rwlock_unlock(&vfs_tree_lock);
	if (pos == end) {
		if (pos < 1)
			return -ENAMETOOLONG;
		buf[--pos] = '/';
	}
	size_t len = end - pos;
	memmove(buf, buf + pos, len + 1);
	if (is_deleted) {
		if (len + sizeof(deleted) > size)
			return -ENAMETOOLONG;
		memcpy(buf + len, deleted, sizeof(deleted));
		len += sizeof(deleted) - 1;
	}
	return (long)len;
}
