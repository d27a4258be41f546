/* Directory operations by path (for the syscalls) and by locked dentry (for the VFS itself).
 * All return 0 (or an fd/count) or -errno, with Linux's error for each case. */
#ifndef SENTRY_VFS_OPS_H
#define SENTRY_VFS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/vfs_fs.h"

/* ---- on a locked directory dir (dir->lock held) and its negative (create) or positive
 * (remove) child d; t supplies the credentials (NULL: the kernel, no checks but EROFS) ---- */
int vfs_do_create(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode);
int vfs_do_mkdir(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode);
int vfs_do_mknod(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode,
		 uint64_t rdev);
int vfs_do_symlink(struct task *t, struct dentry *dir, struct dentry *d, const char *target);
int vfs_do_link(struct task *t, struct dentry *old, struct dentry *dir, struct dentry *d);
/* O_TMPFILE: a file without a name in dir, on the unnamed dentry d (d_alloc_unnamed). */
int vfs_do_tmpfile(struct task *t, struct dentry *dir, struct dentry *d, uint32_t mode);
int vfs_do_unlink(struct task *t, struct dentry *dir, struct dentry *d);
int vfs_do_rmdir(struct task *t, struct dentry *dir, struct dentry *d);
/* Rename oname in odir to nname in ndir (neither locked: this takes vfs_rename_mutex and both
 * directory locks). old_slash/new_slash: the paths had trailing slashes. */
int vfs_do_rename(struct task *t, struct dentry *odir, const char *oname, struct dentry *ndir,
		  const char *nname, unsigned flags, bool old_slash, bool new_slash);
/* The same with vfs_rename_mutex already held (a filesystem renaming in its layers). */
int vfs_do_rename_nomutex(struct task *t, struct dentry *odir, const char *oname,
			  struct dentry *ndir, const char *nname, unsigned flags, bool old_slash,
			  bool new_slash);

/* ---- by path, relative to dirfd of t, as the syscalls of the same name ---- */
int vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode);
int vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t dev);
int vfs_unlinkat(struct task *t, int dirfd, const char *path);
int vfs_rmdirat(struct task *t, int dirfd, const char *path);
int vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path);
/* flags: LINUX_AT_SYMLINK_FOLLOW, LINUX_AT_EMPTY_PATH */
int vfs_linkat(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath,
	       int flags);
int vfs_renameat(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath,
		 unsigned flags);
/* truncate(2) on a path (follows symlinks). */
int vfs_truncate_path(struct task *t, const char *path, int64_t len);
/* Open with the checks of open(2), not installing an fd. */
long vfs_openat(struct task *t, int dirfd, const char *path, int flags, int mode,
		struct file **out);

#endif
