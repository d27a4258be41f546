/* Path walk: components, ".", "..", mount points, symlinks, and Linux's errors for each. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sentry/kernel/task.h"

struct nameidata {
	struct task *t;
	struct path root; /* never walk above this */
	struct path cur;  /* where the walk is */
	int nlinks;	  /* symlinks followed so far (LINUX_SYMLOOP_MAX) */
	char *buf;	  /* the remaining path (owned) */
};

/* t's root, or the tree's root for the kernel itself. */
static void task_root(struct task *t, struct path *out)
{
	if (t && t->fs) {
		pthread_mutex_lock(&t->fs->lock);
		*out = t->fs->root;
		path_get(out);
		pthread_mutex_unlock(&t->fs->lock);
		return;
	}
	vfs_root_path(out);
}

/* Where a relative path starts: t's cwd or dirfd's directory. empty_ok: AT_EMPTY_PATH with
 * an empty path, where dirfd may be any file. */
static int start_path(struct task *t, int dirfd, bool empty_ok, struct path *out)
{
	if (dirfd == LINUX_AT_FDCWD) {
		if (t && t->fs) {
			pthread_mutex_lock(&t->fs->lock);
			*out = t->fs->cwd;
			path_get(out);
			pthread_mutex_unlock(&t->fs->lock);
		} else {
			vfs_root_path(out);
		}
		return 0;
	}
	struct file *f = (t && t->fdt) ? fdtable_get(t->fdt, dirfd) : NULL;
	if (!f)
		return -EBADF;
	if (!empty_ok && !LINUX_S_ISDIR(f->inode->mode)) {
		file_put(f);
		return -ENOTDIR;
	}
	*out = f->path;
	path_get(out);
	file_put(f);
	return 0;
}

static bool is_dir(const struct dentry *d) { return d->inode && LINUX_S_ISDIR(d->inode->mode); }

static void follow_mounts(struct path *p)
{
	struct mount *m;

	while ((m = mount_lookup(p->mnt, p->dentry))) {
		struct dentry *root = dget(m->root);
		path_put(p);
		p->mnt = m; /* mount_lookup's reference */
		p->dentry = root;
	}
}

/* "..": up one dentry, or out of a mount's root to its mount point first; never above root. */
static void follow_dotdot(struct nameidata *nd)
{
	for (;;) {
		if (path_equal(&nd->cur, &nd->root))
			break;
		if (nd->cur.dentry != nd->cur.mnt->root) {
			struct dentry *p = dget_parent(nd->cur.dentry);
			dput(nd->cur.dentry);
			nd->cur.dentry = p;
			break;
		}
		if (!nd->cur.mnt->parent)
			break;
		struct path up = {mntget(nd->cur.mnt->parent), dget(nd->cur.mnt->mountpoint)};
		path_put(&nd->cur);
		nd->cur = up;
	}
	follow_mounts(&nd->cur);
}

/* The current directory must be searchable before any name is looked up in it. */
static int may_lookup(struct nameidata *nd)
{
	if (!is_dir(nd->cur.dentry))
		return -ENOTDIR;
	return inode_permission(nd->t, nd->cur.dentry->inode, MAY_EXEC);
}

/* Replace the remaining path with target + "/" + rest (rest may be empty, trailing adds a
 * '/'), as following a symlink does. Jumps to the root for an absolute target. */
static int nd_follow_text(struct nameidata *nd, const char *target, size_t tlen, const char *rest,
			  bool trailing)
{
	size_t rlen = strlen(rest);
	char *nb = malloc(tlen + rlen + 3);

	if (!nb)
		return -ENOMEM;
	memcpy(nb, target, tlen);
	size_t n = tlen;
	if (rlen || trailing)
		nb[n++] = '/';
	memcpy(nb + n, rest, rlen);
	nb[n + rlen] = '\0';
	free(nd->buf);
	nd->buf = nb;
	return 0;
}

enum step_result { STEP_MOVED, STEP_LINK_TEXT };

/* Look one name up in nd->cur and move there. A symlink to be followed is resolved here for
 * magic links (STEP_MOVED), or its text is put in *target (malloc'd, STEP_LINK_TEXT) with
 * nd->cur left at the directory holding it. Returns a step_result or -errno. */
static int walk_component(struct nameidata *nd, const char *name, size_t len, bool follow,
			  char **target, size_t *tlen)
{
	struct dentry *d;
	struct path next;
	int r;

	if (len == 1 && name[0] == '.')
		return STEP_MOVED;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		follow_dotdot(nd);
		return STEP_MOVED;
	}
	r = d_lookup_one(nd->cur.dentry, name, len, &d);
	if (r < 0)
		return r;
	if (!d->inode) {
		dput(d);
		return -ENOENT;
	}
	next.mnt = mntget(nd->cur.mnt);
	next.dentry = d;
	follow_mounts(&next);
	if (follow && LINUX_S_ISLNK(next.dentry->inode->mode)) {
		if (++nd->nlinks > LINUX_SYMLOOP_MAX) {
			path_put(&next);
			return -ELOOP;
		}
		const struct inode_ops *iops = next.dentry->inode->iops;
		if (iops && iops->follow_link) {
			struct path out;
			r = iops->follow_link(next.dentry, &out);
			path_put(&next);
			if (r < 0)
				return r;
			path_put(&nd->cur);
			nd->cur = out;
			return STEP_MOVED;
		}
		char *buf = malloc(LINUX_PATH_MAX);
		if (!buf) {
			path_put(&next);
			return -ENOMEM;
		}
		long n = vfs_readlink_dentry(next.dentry, buf, LINUX_PATH_MAX);
		path_put(&next);
		if (n <= 0) {
			free(buf);
			return n < 0 ? (int)n : -ENOENT; /* an empty symlink resolves to nothing */
		}
		*target = buf;
		*tlen = (size_t)n;
		return STEP_LINK_TEXT;
	}
	path_put(&nd->cur);
	nd->cur = next;
	return STEP_MOVED;
}

/* Walk nd->buf up to its last component, which goes to np (type, name, trailing slash);
 * nd->cur is left at the directory holding it. Intermediate symlinks are followed. */
static int walk_to_last(struct nameidata *nd, struct nameparent *np)
{
	char *p = nd->buf;
	int r;

	if (*p == '/') {
		path_put(&nd->cur);
		nd->cur = nd->root;
		path_get(&nd->cur);
		while (*p == '/')
			p++;
	}
	for (;;) {
		const char *name = p;
		size_t len = strcspn(p, "/");
		char *q = p + len;
		bool slash = *q == '/';

		while (*q == '/')
			q++;
		if (len == 0) {
			/* Only slashes (or nothing) left: the path names nd->cur itself. */
			np->type = LAST_ROOT;
			np->lastlen = 0;
			np->last[0] = '\0';
			np->trailing_slash = false;
			return 0;
		}
		r = may_lookup(nd);
		if (r < 0)
			return r;
		if (*q == '\0') {
			if (len > LINUX_NAME_MAX)
				return -ENAMETOOLONG;
			memcpy(np->last, name, len);
			np->last[len] = '\0';
			np->lastlen = len;
			np->trailing_slash = slash;
			if (len == 1 && name[0] == '.')
				np->type = LAST_DOT;
			else if (len == 2 && name[0] == '.' && name[1] == '.')
				np->type = LAST_DOTDOT;
			else
				np->type = LAST_NORM;
			return 0;
		}
		char *target = NULL;
		size_t tlen = 0;
		r = walk_component(nd, name, len, true, &target, &tlen);
		if (r < 0)
			return r;
		if (r == STEP_LINK_TEXT) {
			/* Copy rest out first: it lives in the buffer being replaced. */
			char *rest = strdup(q);
			if (!rest) {
				free(target);
				return -ENOMEM;
			}
			r = nd_follow_text(nd, target, tlen, rest, false);
			free(rest);
			free(target);
			if (r < 0)
				return r;
			p = nd->buf;
			if (*p == '/') {
				path_put(&nd->cur);
				nd->cur = nd->root;
				path_get(&nd->cur);
				while (*p == '/')
					p++;
			}
			continue;
		}
		p = q;
	}
}

static int nd_init(struct nameidata *nd, struct task *t, const char *path)
{
	memset(nd, 0, sizeof(*nd));
	nd->t = t;
	if (strlen(path) >= LINUX_PATH_MAX)
		return -ENAMETOOLONG;
	nd->buf = strdup(path);
	if (!nd->buf)
		return -ENOMEM;
	task_root(t, &nd->root);
	return 0;
}

static void nd_release(struct nameidata *nd)
{
	free(nd->buf);
	if (nd->root.dentry)
		path_put(&nd->root);
	if (nd->cur.dentry)
		path_put(&nd->cur);
}

int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags, struct path *out)
{
	struct nameidata nd;
	struct nameparent np;
	int r;

	if (!*path) {
		if (!(flags & LOOKUP_EMPTY))
			return -ENOENT;
		r = start_path(t, dirfd, true, out);
		if (r == 0 && (flags & LOOKUP_DIRECTORY) && !is_dir(out->dentry)) {
			path_put(out);
			r = -ENOTDIR;
		}
		return r;
	}
	r = nd_init(&nd, t, path);
	if (r < 0)
		return r;
	if (path[0] != '/') {
		r = start_path(t, dirfd, false, &nd.cur);
		if (r < 0)
			goto out;
	} else {
		nd.cur = nd.root;
		path_get(&nd.cur);
	}
	for (;;) {
		r = walk_to_last(&nd, &np);
		if (r < 0)
			goto out;
		if (np.type == LAST_ROOT || np.type == LAST_DOT)
			break;
		if (np.type == LAST_DOTDOT) {
			follow_dotdot(&nd);
			break;
		}
		bool follow = (flags & LOOKUP_FOLLOW) || np.trailing_slash;
		char *target = NULL;
		size_t tlen = 0;
		r = walk_component(&nd, np.last, np.lastlen, follow, &target, &tlen);
		if (r < 0)
			goto out;
		if (r == STEP_MOVED)
			break;
		r = nd_follow_text(&nd, target, tlen, "", np.trailing_slash);
		free(target);
		if (r < 0)
			goto out;
	}
	if ((np.trailing_slash || (flags & LOOKUP_DIRECTORY)) && !is_dir(nd.cur.dentry)) {
		r = -ENOTDIR;
		goto out;
	}
	*out = nd.cur;
	nd.cur.dentry = NULL;
	nd.cur.mnt = NULL;
	r = 0;
out:
	nd_release(&nd);
	return r;
}

/* Walk buf (already in nd) from nd->cur to its parent. */
static int parent_walk(struct nameidata *nd, struct nameparent *np)
{
	int r = walk_to_last(nd, np);

	if (r < 0)
		return r;
	np->dir = nd->cur;
	nd->cur.dentry = NULL;
	nd->cur.mnt = NULL;
	return 0;
}

int vfs_lookup_parent(struct task *t, int dirfd, const char *path, struct nameparent *np)
{
	struct nameidata nd;
	int r;

	memset(np, 0, sizeof(*np));
	if (!*path)
		return -ENOENT;
	r = nd_init(&nd, t, path);
	if (r < 0)
		return r;
	if (path[0] != '/') {
		r = start_path(t, dirfd, false, &nd.cur);
	} else {
		nd.cur = nd.root;
		path_get(&nd.cur);
	}
	if (r == 0)
		r = parent_walk(&nd, np);
	nd_release(&nd);
	return r;
}

int vfs_lookup_parent_from(struct task *t, const struct path *start, const char *path, int *nlinks,
			   struct nameparent *np)
{
	struct nameidata nd;
	int r;

	memset(np, 0, sizeof(*np));
	if (!*path)
		return -ENOENT;
	r = nd_init(&nd, t, path);
	if (r < 0)
		return r;
	nd.nlinks = *nlinks;
	nd.cur = *start;
	path_get(&nd.cur);
	r = parent_walk(&nd, np);
	*nlinks = nd.nlinks;
	nd_release(&nd);
	return r;
}

void nameparent_put(struct nameparent *np)
{
	if (np->dir.dentry)
		path_put(&np->dir);
}
