/* The overlay's private types, shared by overlay.c (inodes, directory ops, copy-up) and
 * overlay_file.c (open files, merged directory listings). */
#ifndef SENTRY_FS_OVERLAY_H
#define SENTRY_FS_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/fs/dirlist.h"
#include "sentry/vfs/vfs_fs.h"

/* st_ino of a file that exists only in the upper layer: its upper inode number with this bit,
 * so it cannot collide with a lower (host) inode number. */
#define OVL_UPPER_INO_BIT (1ULL << 48)

/* sb->priv */
struct ovl_fs {
	struct mount *upper_mnt; /* internal mounts of the layers, for opening their files */
	struct mount *lower_mnt;
};

/* inode->priv. upper changes once, NULL -> the copy, under copy_lock and inode->lock. */
struct ovl_inode {
	struct dentry *upper; /* a reference, or NULL until copied up */
	struct dentry *lower; /* a reference, or NULL for an upper-only file; never changes */
	pthread_mutex_t copy_lock;
};

extern const struct file_ops ovl_file_fops;
extern const struct file_ops ovl_dir_fops;

static inline struct ovl_inode *OI(const struct inode *inode) { return inode->priv; }

static inline struct ovl_fs *OFS(const struct super_block *sb) { return sb->priv; }

/* st_ino of the overlay file over these layer inodes (either may be NULL, not both): the
 * lower file's, also after a copy-up (the upper inode's origin_ino), else the upper one's with
 * OVL_UPPER_INO_BIT. */
uint64_t ovl_ino(struct inode *upper, struct inode *lower);
/* Is inode a whiteout (a character device 0:0)? */
bool ovl_is_whiteout(const struct inode *inode);
/* The upper dentry of inode, or NULL (a new reference). */
struct dentry *ovl_upper(struct inode *inode);
/* The dentry holding inode's contents now: upper if copied up, else lower (a reference).
 * *mnt (optional) gets the internal mount of that layer (no reference). */
struct dentry *ovl_real(struct inode *inode, struct mount **mnt);
/* Make sure the overlay dentry d has an upper copy (copying its parents first). 0 or -errno. */
int ovl_copy_up(struct dentry *d);
/* The merged listing of overlay directory d (upper entries hide lower ones; whiteouts and an
 * opaque upper hide the lower). 0 with *out (free with dirlist_free) or -errno. */
int ovl_read_dir(struct dentry *d, struct dirlist **out);
/* Collect the names of the entries of directory dentry dir (any filesystem) with their inode
 * numbers and types, through its file ops. */
int ovl_list_layer(struct mount *mnt, struct dentry *dir, struct dirlist **out);

/* Extended attributes of overlay dentry d (overlay_xattr.c): the inode ops of the same names. */
ssize_t ovl_getxattr(struct dentry *d, const char *name, void *buf, size_t size);
int ovl_setxattr(struct dentry *d, const char *name, const void *value, size_t size, int flags);
ssize_t ovl_listxattr(struct dentry *d, char *buf, size_t size);

#endif
