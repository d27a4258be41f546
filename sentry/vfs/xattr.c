/* Extended attributes: the VFS checks of Linux's fs/xattr.c and the capability rules of
 * security/commoncap.c in front of the filesystems' xattr ops, and the in-memory store tmpfs
 * keeps them in. */
#include "sentry/vfs/xattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/cred.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs_fs.h"

#define P_USER "user."
#define P_TRUSTED "trusted."
#define P_SECURITY "security."
#define P_SYSTEM "system."

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool admin(struct task *t) { return !t || cred_capable(&t->cred, LINUX_CAP_SYS_ADMIN); }

/* inode_owner_or_capable */
static bool owner_or_capable(struct task *t, struct inode *inode)
{
	return !t || t->cred.fsuid == inode->uid || cred_capable(&t->cred, LINUX_CAP_FOWNER);
}

/* xattr_permission */
static int xattr_permission(struct task *t, struct inode *inode, const char *name, int mask)
{
	if (has_prefix(name, P_SECURITY) || has_prefix(name, P_SYSTEM))
		return 0;
	if (has_prefix(name, P_TRUSTED)) {
		if (!admin(t))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		return 0;
	}
	if (has_prefix(name, P_USER)) {
		if (!LINUX_S_ISREG(inode->mode) && !LINUX_S_ISDIR(inode->mode))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		if (LINUX_S_ISDIR(inode->mode) && (inode->mode & LINUX_S_ISVTX) &&
		    (mask & MAY_WRITE) && !owner_or_capable(t, inode))
			return -EPERM;
	}
	return inode_permission(t, inode, mask);
}

/* xattr_resolve_name: is there a handler for name's namespace? system.* holds POSIX ACLs,
 * which are not emulated. A bare prefix is -EINVAL. */
static int resolve_name(const char *name)
{
	static const char *const prefixes[] = {P_USER, P_TRUSTED, P_SECURITY};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (has_prefix(name, prefixes[i]))
			return name[strlen(prefixes[i])] ? 0 : -EINVAL;
	return -EOPNOTSUPP;
}

ssize_t vfs_getxattr(struct task *t, struct dentry *d, const char *name, void *buf, size_t size)
{
	struct inode *inode = d->inode;
	int r = xattr_permission(t, inode, name, MAY_READ);

	if (r < 0)
		return r;
	if ((r = resolve_name(name)) < 0)
		return r;
	if (!inode->iops || !inode->iops->getxattr)
		return -EOPNOTSUPP;
	return inode->iops->getxattr(d, name, buf, size);
}

/* The checks setxattr and removexattr share (mnt_want_write, xattr_permission,
 * cap_inode_setxattr). */
static int may_write_xattr(struct task *t, struct dentry *d, const char *name)
{
	struct inode *inode = d->inode;
	int r;

	if (d->sb->flags & SB_RDONLY)
		return -EROFS;
	if ((r = xattr_permission(t, inode, name, MAY_WRITE)) < 0)
		return r;
	/* cap_inode_setxattr; file capabilities need CAP_SETFCAP (their format is not checked) */
	if (strcmp(name, "security.capability") == 0) {
		if (t && !cred_capable(&t->cred, LINUX_CAP_SETFCAP))
			return -EPERM;
	} else if (has_prefix(name, P_SECURITY) && !admin(t)) {
		return -EPERM;
	}
	if ((r = resolve_name(name)) < 0)
		return r;
	if (!inode->iops || !inode->iops->setxattr)
		return -EOPNOTSUPP;
	return 0;
}

int vfs_setxattr(struct task *t, struct dentry *d, const char *name, const void *value, size_t size,
		 int flags)
{
	int r = may_write_xattr(t, d, name);

	if (r < 0)
		return r;
	/* an empty value is still a value */
	return d->inode->iops->setxattr(d, name, value ? value : "", size, flags);
}

int vfs_removexattr(struct task *t, struct dentry *d, const char *name)
{
	int r = may_write_xattr(t, d, name);

	if (r < 0)
		return r;
	return d->inode->iops->setxattr(d, name, NULL, 0, LINUX_XATTR_REPLACE);
}

ssize_t vfs_listxattr(struct task *t, struct dentry *d, char *buf, size_t size)
{
	struct inode *inode = d->inode;
	char *all;
	ssize_t n;
	size_t len = 0;

	if (!inode->iops || !inode->iops->listxattr)
		return 0; /* no handlers: nothing to list (Linux's vfs_listxattr) */
	/* The filesystem lists every name; trusted.* ones are dropped here for non-admins, so
	 * fetch the whole list first (again if it grew in between). */
	for (;;) {
		n = inode->iops->listxattr(d, NULL, 0);
		if (n <= 0)
			return n;
		all = malloc((size_t)n);
		if (!all)
			return -ENOMEM;
		n = inode->iops->listxattr(d, all, (size_t)n);
		if (n != -ERANGE)
			break;
		free(all);
	}
	if (n < 0) {
		free(all);
		return n;
	}
	bool hide = !admin(t);
	for (ssize_t off = 0; off < n;) {
		size_t l = strnlen(all + off, (size_t)(n - off)) + 1;
		if (!(hide && has_prefix(all + off, P_TRUSTED))) {
			if (size) {
				if (len + l > size) {
					free(all);
					return -ERANGE;
				}
				memcpy(buf + len, all + off, l);
			}
			len += l;
		}
		off += (ssize_t)l;
	}
	free(all);
	return (ssize_t)len;
}

/* ---- the in-memory store ---- */

struct xattr {
	char *name;
	void *value;
	size_t size;
};

struct xattr_store {
	struct xattr *v; /* sorted by name */
	size_t n, cap;
	size_t bytes; /* names and values */
};

/* The index of name, or where it would go (*found false). */
static size_t store_find(const struct xattr_store *xs, const char *name, bool *found)
{
	size_t lo = 0, hi = xs ? xs->n : 0;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(xs->v[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool store_grow(struct xattr_store *xs)
{
	size_t cap = xs->cap ? xs->cap * 2 : 4;
	struct xattr *v = realloc(xs->v, cap * sizeof(*v));

	if (!v)
		return false;
	xs->v = v;
	xs->cap = cap;
	return true;
}

ssize_t xattr_store_get(struct xattr_store *xs, const char *name, void *buf, size_t size)
{
	bool found;
	size_t i = store_find(xs, name, &found);

	if (!found)
		return -ENODATA;
	if (size) {
		if (xs->v[i].size > size)
			return -ERANGE;
		memcpy(buf, xs->v[i].value, xs->v[i].size);
	}
	return (ssize_t)xs->v[i].size;
}

int xattr_store_set(struct xattr_store **pxs, const char *name, const void *value, size_t size,
		    int flags)
{
	struct xattr_store *xs = *pxs;
	bool found;
	size_t i = store_find(xs, name, &found);

	if (found && (flags & LINUX_XATTR_CREATE))
		return -EEXIST;
	if (!found && ((flags & LINUX_XATTR_REPLACE) || !value))
		return -ENODATA;
	if (!value) {
		xs->bytes -= strlen(xs->v[i].name) + xs->v[i].size;
		free(xs->v[i].name);
		free(xs->v[i].value);
		memmove(&xs->v[i], &xs->v[i + 1], (xs->n - i - 1) * sizeof(xs->v[0]));
		xs->n--;
		return 0;
	}
	if (!xs) {
		xs = calloc(1, sizeof(*xs));
		if (!xs)
			return -ENOMEM;
		*pxs = xs;
	}
	size_t old = found ? strlen(name) + xs->v[i].size : 0;
	if (xs->bytes - old + strlen(name) + size > XATTR_STORE_MAX)
		return -ENOSPC;
	void *copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, value, size);
	if (found) {
		free(xs->v[i].value);
	} else {
		char *n = strdup(name);
		if (!n || (xs->n == xs->cap && !store_grow(xs))) {
			free(n);
			free(copy);
			return -ENOMEM;
		}
		memmove(&xs->v[i + 1], &xs->v[i], (xs->n - i) * sizeof(xs->v[0]));
		xs->v[i].name = n;
		xs->n++;
	}
	xs->v[i].value = copy;
	xs->v[i].size = size;
	xs->bytes = xs->bytes - old + strlen(name) + size;
	return 0;
}

ssize_t xattr_store_list(struct xattr_store *xs, char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; xs && i < xs->n; i++) {
		size_t l = strlen(xs->v[i].name) + 1;
		if (size) {
			if (len + l > size)
				return -ERANGE;
			memcpy(buf + len, xs->v[i].name, l);
		}
		len += l;
	}
	return (ssize_t)len;
}

void xattr_store_free(struct xattr_store *xs)
{
	if (!xs)
		return;
	for (size_t i = 0; i < xs->n; i++) {
		free(xs->v[i].name);
		free(xs->v[i].value);
	}
	free(xs->v);
	free(xs);
}
