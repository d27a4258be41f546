/* Extended attributes: the VFS side of getxattr/setxattr/listxattr/removexattr (name and
 * namespace rules, permissions, size limits, as Linux's fs/xattr.c), and an in-memory store
 * filesystems keep them in (Linux's simple_xattr, used by tmpfs).
 *
 * Namespaces: user.* on regular files and directories; trusted.* only with CAP_SYS_ADMIN
 * (reads as absent and is left out of listings without it); security.* set or removed only with
 * CAP_SYS_ADMIN; system.* (POSIX ACLs) and unknown prefixes are EOPNOTSUPP. A filesystem without
 * the inode ops answers EOPNOTSUPP for all. */
#ifndef SENTRY_VFS_XATTR_H
#define SENTRY_VFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dentry;
struct task;

#ifndef LINUX_XATTR_CREATE
#define LINUX_XATTR_CREATE 0x1
#define LINUX_XATTR_REPLACE 0x2
#endif
#define LINUX_XATTR_NAME_MAX 255
#define LINUX_XATTR_SIZE_MAX 65536
#define LINUX_XATTR_LIST_MAX 65536

/* ---- the VFS calls (t: the caller, for permissions; may be NULL = the kernel) ----
 * name is NUL-terminated, 1..LINUX_XATTR_NAME_MAX bytes (the syscall layer checks that).
 * Each returns what the syscall returns: a length, 0, or -errno. */
ssize_t vfs_getxattr(struct task *t, struct dentry *d, const char *name, void *buf, size_t size);
int vfs_setxattr(struct task *t, struct dentry *d, const char *name, const void *value, size_t size,
		 int flags);
ssize_t vfs_listxattr(struct task *t, struct dentry *d, char *buf, size_t size);
int vfs_removexattr(struct task *t, struct dentry *d, const char *name);

/* ---- an in-memory store (the owner serialises calls, e.g. under inode->lock) ----
 * *xs starts NULL and is allocated on the first set. The semantics are the inode ops'
 * (vfs_fs.h): sizes 0 query, -ERANGE, -ENODATA, -EEXIST; set with value NULL removes. A store
 * holds at most XATTR_STORE_MAX bytes of names and values (-ENOSPC beyond). Names list in
 * ascending order, as Linux's rbtree-backed simple_xattrs. */
#define XATTR_STORE_MAX (1024 * 1024)
struct xattr_store;
ssize_t xattr_store_get(struct xattr_store *xs, const char *name, void *buf, size_t size);
int xattr_store_set(struct xattr_store **xs, const char *name, const void *value, size_t size,
		    int flags);
ssize_t xattr_store_list(struct xattr_store *xs, char *buf, size_t size);
void xattr_store_free(struct xattr_store *xs);

#endif
