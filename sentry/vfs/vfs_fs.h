/* The interface between the VFS and filesystems: inodes, dentries, mounts, files, ops tables.
 *
 * Objects and their references:
 *  - struct inode: one file of one filesystem (super_block). Refcounted (inode_get/inode_put);
 *    a positive dentry holds one reference on its inode, an open file another.
 *  - struct dentry: a name in a directory. Holds a reference on its parent and its inode (NULL =
 *    negative). Hashed dentries sit in their parent's children table, which holds one reference
 *    on each; they stay cached until removed (unlink, rmdir, rename over them). Filesystems
 *    whose entries come and go by themselves (procfs) set SB_NOCACHE and their dentries are
 *    never hashed, so each lookup asks the filesystem again.
 *  - struct mount: a filesystem attached at a dentry of its parent mount. Mounts are never
 *    detached yet, so a struct mount lives as long as the Sentry.
 *  - struct file: an open file description (dentry + mount, flags, offset, ops). Refcounted.
 *
 * Locks, outermost first:
 *  - vfs_rename_mutex: serialises renames (and nothing else).
 *  - dentry->lock of a directory: held across a lookup miss (the filesystem's lookup), and
 *    across create/mkdir/mknod/symlink/link/unlink/rmdir in that directory, and (both parents)
 *    across rename. Filesystems' directory ops are called with it held on the parent; they may
 *    take locks of dentries in *other* superblocks (overlay -> its layers) but never of an
 *    ancestor in their own.
 *  - inode->lock: the inode's attributes and the filesystem's private data of the inode.
 *  - vfs_tree_lock (rwlock): dentry->parent and dentry->name; held briefly, never across a call.
 */
#ifndef SENTRY_VFS_VFS_FS_H
#define SENTRY_VFS_VFS_FS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "common/list.h"
#include "sentry/vfs/vfs.h"

struct inode;
struct dentry;
struct mount;
struct super_block;
struct file;
struct task;
struct file_lock_ctx;
struct epitem;

#define LINUX_S_ISDIR(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFDIR)
#define LINUX_S_ISREG(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFREG)
#define LINUX_S_ISLNK(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFLNK)
#define LINUX_S_ISCHR(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFCHR)
#define LINUX_S_ISBLK(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFBLK)
#define LINUX_S_ISFIFO(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFIFO)
#define LINUX_S_ISSOCK(m) (((m)&LINUX_S_IFMT) == LINUX_S_IFSOCK)
#define LINUX_S_IALLUGO 07777

/* Linux's device number encoding (new_encode_dev). */
#define VFS_MKDEV(ma, mi)                                                                          \
	((uint64_t)(((mi)&0xff) | (((ma)&0xfff) << 8) | (((uint64_t)(mi) & ~0xffULL) << 12) |      \
		    (((uint64_t)(ma) & ~0xfffULL) << 32)))
#define VFS_MAJOR(dev) ((uint32_t)((((dev) >> 8) & 0xfff) | (((dev) >> 32) & ~0xfffULL)))
#define VFS_MINOR(dev) ((uint32_t)(((dev)&0xff) | (((dev) >> 12) & ~0xffULL)))

/* A position in the mount tree. Functions that return one hand out references on both. */
struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

/* ---- permissions ---- */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4

/* ---- setattr ---- */
#define ATTR_MODE 0x1u
#define ATTR_UID 0x2u
#define ATTR_GID 0x4u
#define ATTR_SIZE 0x8u
#define ATTR_ATIME 0x10u
#define ATTR_MTIME 0x20u
#define ATTR_CTIME 0x40u

struct iattr {
	unsigned valid; /* ATTR_* */
	uint32_t mode;	/* permission bits only; the type never changes */
	uint32_t uid, gid;
	uint64_t size;
	struct linux_timespec atime, mtime, ctime;
};

/* ---- directory iteration ---- */
/* Filesystems' iterate() emits entries starting at ctx->pos (>= 2: the VFS emits "." and ".."
 * at 0 and 1 itself). After each entry accepted by emit(), the filesystem sets ctx->pos to the
 * position of the next entry; when emit() returns false (the caller's buffer is full) it stops
 * and leaves ctx->pos at the refused entry. Positions are the filesystem's to choose (> 2). */
struct dir_ctx {
	bool (*emit)(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		     unsigned type);
	uint64_t pos;
};

/* LINUX_DT_* for a LINUX_S_IF* mode. */
unsigned vfs_dtype(uint32_t mode);

/* ---- readiness (poll.c), in LINUX_POLL* events ---- */

/* What a file without a poll op reports: always readable and writable (regular files,
 * directories, most devices), as Linux's DEFAULT_POLLMASK. */
#define VFS_DEFAULT_POLLMASK (LINUX_POLLIN | LINUX_POLLOUT | LINUX_POLLRDNORM | LINUX_POLLWRNORM)

struct waitq;
/* What a poller (poll, select, a blocking read elsewhere) will sleep on until something may
 * have changed. Built by vfs_poll() calls; opaque to filesystems, which only call
 * poll_wait()/poll_wait_host() from their poll op. */
struct poll_table;

/* From a poll op: the poller's sleep must end when wq is woken. pt may be NULL (a query only:
 * then this does nothing). wq must live at least as long as the file being polled (the poll
 * table holds a reference on that file until the poller stops waiting). */
void poll_wait(struct poll_table *pt, struct waitq *wq);
/* From a poll op of a file backed by a host fd: the poller's sleep must also end when host_fd
 * is ready for events (LINUX_POLLIN/LINUX_POLLOUT/LINUX_POLLPRI, host values are the same).
 * host_fd must stay open as long as the file does. pt may be NULL (does nothing). */
void poll_wait_host(struct poll_table *pt, int host_fd, short events);

/* ---- operations ----
 * Every op returns 0/count or -errno. A NULL op means "not supported" and the VFS returns
 * Linux's error for it (EPERM/EACCES/EINVAL/ENOTTY... as the caller documents). */
struct inode_ops {
	/* Find d->name in dir. Called with d->parent->lock held; d is negative and not yet
	 * visible to anyone. Instantiate d (d_instantiate) or leave it negative; a missing name
	 * is 0 with d negative, not -ENOENT. */
	int (*lookup)(struct inode *dir, struct dentry *d);
	/* Create in dir a regular file (create), directory (mkdir), device/fifo/socket (mknod) or
	 * symlink named by the negative dentry d, and instantiate d. mode has the type bits for
	 * mknod, and the permission bits (umask already applied) for all. Parent lock held. */
	int (*create)(struct inode *dir, struct dentry *d, uint32_t mode);
	int (*mkdir)(struct inode *dir, struct dentry *d, uint32_t mode);
	int (*mknod)(struct inode *dir, struct dentry *d, uint32_t mode, uint64_t rdev);
	int (*symlink)(struct inode *dir, struct dentry *d, const char *target);
	/* O_TMPFILE: create in dir a regular file with no name (nlink 0) and instantiate d, an
	 * unhashed dentry under dir that no lookup finds (d_alloc_unnamed). mode as for create.
	 * Parent lock held. NULL: -EOPNOTSUPP. */
	int (*tmpfile)(struct inode *dir, struct dentry *d, uint32_t mode);
	/* Make d (negative, in dir) another name of old's inode. Parent lock held. */
	int (*link)(struct dentry *old, struct inode *dir, struct dentry *d);
	/* Remove the positive non-directory d / empty directory d from dir. Parent lock held;
	 * the VFS unhashes d afterwards. rmdir checks emptiness itself (-ENOTEMPTY). */
	int (*unlink)(struct inode *dir, struct dentry *d);
	int (*rmdir)(struct inode *dir, struct dentry *d);
	/* Move od (positive, in odir) to nd (in ndir; positive means replace it: the VFS has
	 * checked the types match and a directory target is to be checked empty by the fs).
	 * Both parent locks and vfs_rename_mutex held; the VFS moves the dentries afterwards.
	 * flags: LINUX_RENAME_NOREPLACE (the VFS has already checked nd is negative);
	 * LINUX_RENAME_EXCHANGE (nd positive too: the two swap places, no type check; a
	 * filesystem that cannot answers -EINVAL). */
	int (*rename)(struct inode *odir, struct dentry *od, struct inode *ndir, struct dentry *nd,
		      unsigned flags);
	/* Copy the target of symlink d into buf (no NUL). Returns its length (truncated to
	 * size). */
	long (*readlink)(struct dentry *d, char *buf, size_t size);
	/* Magic links (procfs): resolve d to a path directly instead of reading its text.
	 * Returns 0 with references in *out, or -errno. */
	int (*follow_link)(struct dentry *d, struct path *out);
	/* Fill st. NULL: the VFS fills it from the inode's fields. */
	int (*getattr)(struct dentry *d, struct linux_stat *st);
	/* Change attributes (ATTR_SIZE only ever for regular files). NULL: -EPERM. */
	int (*setattr)(struct dentry *d, const struct iattr *ia);
	/* Extended attributes (sentry/vfs/xattr.h; the VFS has checked the name, the namespace
	 * rules and permissions). getxattr: the value of name into buf, or only its length when
	 * size is 0; -ERANGE when it does not fit, -ENODATA when absent. setxattr: value NULL
	 * removes name; flags LINUX_XATTR_CREATE (-EEXIST if present) / LINUX_XATTR_REPLACE
	 * (-ENODATA if absent). listxattr: the NUL-terminated names, as getxattr's size rules.
	 * NULL: -EOPNOTSUPP. No dentry lock held. */
	ssize_t (*getxattr)(struct dentry *d, const char *name, void *buf, size_t size);
	int (*setxattr)(struct dentry *d, const char *name, const void *value, size_t size,
			int flags);
	ssize_t (*listxattr)(struct dentry *d, char *buf, size_t size);
};

/* fallocate(2) modes (uapi/linux/falloc.h), until abi/linux.h has them */
#ifndef LINUX_FALLOC_FL_KEEP_SIZE
#define LINUX_FALLOC_FL_KEEP_SIZE 0x01
#define LINUX_FALLOC_FL_PUNCH_HOLE 0x02
#define LINUX_FALLOC_FL_NO_HIDE_STALE 0x04
#define LINUX_FALLOC_FL_COLLAPSE_RANGE 0x08
#define LINUX_FALLOC_FL_ZERO_RANGE 0x10
#define LINUX_FALLOC_FL_INSERT_RANGE 0x20
#define LINUX_FALLOC_FL_UNSHARE_RANGE 0x40
#endif

struct file_ops {
	/* Called once when f is opened on inode (f->path, f->flags and f->fmode set). May set
	 * f->priv and adjust f->fmode. */
	int (*open)(struct inode *inode, struct file *f);
	/* The last reference to f is gone. */
	void (*release)(struct file *f);
	/* Read/write n bytes at *pos and advance *pos. pos is NULL for a stream file (no
	 * FMODE_LSEEK): the file keeps its own position (pipes, host fds). Called with
	 * f->pos_lock held when pos is &f->pos. NULL: -EINVAL (or -EISDIR on a directory). */
	ssize_t (*read)(struct file *f, void *buf, size_t n, uint64_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t n, uint64_t *pos);
	/* lseek. NULL: the generic one (uses getattr's size for SEEK_END) if FMODE_LSEEK, else
	 * -ESPIPE. Called with f->pos_lock held; updates f->pos itself. */
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	/* Directory listing, see struct dir_ctx. f->pos_lock held. NULL: -ENOTDIR. */
	int (*iterate)(struct file *f, struct dir_ctx *ctx);
	/* An ioctl the VFS does not handle itself. NULL: -ENOTTY. */
	long (*ioctl)(struct file *f, struct task *t, unsigned int cmd, uint64_t arg);
	int (*fsync)(struct file *f);
	/* The name file_path() gives a file with no place in the tree ("pipe:[12]"). */
	long (*path_name)(struct file *f, char *buf, size_t size);
	/* A host fd holding the file's contents, for read-only file mappings; the file keeps
	 * ownership. NULL or -errno: the contents must be read with vfs_pread. */
	int (*host_fd)(struct file *f);
	/* Readiness, as Linux's f_op->poll: return the LINUX_POLL* events ready now (all of
	 * them, not only those asked for; LINUX_POLLERR/LINUX_POLLHUP included), and when pt is
	 * not NULL register what a poller must sleep on to see the mask change: poll_wait() for
	 * each Sentry wait queue that is woken on a change, poll_wait_host() for a host fd.
	 * Must not block; called with no VFS locks held. NULL: VFS_DEFAULT_POLLMASK. */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	/* fallocate(2) on a regular file open for writing; the VFS has checked the arguments
	 * (sys_splice.c). mode: LINUX_FALLOC_FL_* bits. NULL: -EOPNOTSUPP. */
	int (*fallocate)(struct file *f, int mode, uint64_t off, uint64_t len);
};

struct super_ops {
	/* The inode's last reference is gone: free inode->priv. */
	void (*evict_inode)(struct inode *inode);
	/* Fill st for statfs(2) (st is zeroed and has f_fsid, f_namelen 255, f_bsize and
	 * f_frsize 4096 and the ST_* flags of the superblock already). NULL: those defaults, with
	 * f_type from the filesystem's type name (vfs_statfs). */
	int (*statfs)(struct super_block *sb, struct linux_statfs *st);
};

/* ---- superblocks (one per filesystem instance) ---- */
#define SB_NOCACHE 0x1u /* never hash dentries: every lookup goes to the filesystem */
#define SB_RDONLY 0x2u	/* writes fail with EROFS */

struct super_block {
	uint64_t dev; /* st_dev of every inode */
	const char *fstype;
	const char *source; /* what /proc/mounts shows as the source; NULL: fstype (not owned) */
	unsigned flags; /* SB_* */
	const struct super_ops *ops;
	void *priv;
	struct dentry *root; /* the root dentry (one reference) */
	atomic_uint_fast64_t next_ino;
};

/* A new superblock with an anonymous device number (0:N, as Linux's tmpfs/proc). NULL on
 * ENOMEM. root is set by the filesystem (d_make_root). */
struct super_block *sb_create(const char *fstype, const struct super_ops *ops, unsigned flags);
/* A fresh inode number for sb (1, 2, ...). */
uint64_t sb_next_ino(struct super_block *sb);

/* ---- inodes ---- */
#define INODE_OPAQUE 0x1u /* overlay: an upper directory that hides the lower one */
#define INODE_DEAD 0x2u	  /* a removed directory: nothing can be created or found in it */
/* Linux's I_LINKABLE: an O_TMPFILE file opened without O_EXCL, which linkat may give a name
 * although it has none (nlink 0) */
#define INODE_LINKABLE 0x4u

struct inode {
	atomic_int refs;
	uint64_t ino;
	uint32_t mode; /* LINUX_S_IF* | permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t rdev;
	struct linux_timespec atime, mtime, ctime;
	unsigned flags; /* INODE_* */
	/* On an overlay's upper layer: the inode number of the lower file this one was copied
	 * up from (0: none), so the file keeps its st_ino wherever it is renamed to (Linux
	 * keeps it in the trusted.overlay.origin xattr). inode->lock. */
	uint64_t origin_ino;
	struct super_block *sb;
	const struct inode_ops *iops;
	const struct file_ops *fops; /* NULL: device nodes get theirs from the chrdev table,
				      * fifos are pipes (pipe.c), sockets have no I/O (ENXIO) */
	void *priv;
	pthread_mutex_t lock;
	/* Record locks and flock(2) locks on this inode (lock.c), made on first use;
	 * atomic: set once, freed with the inode. */
	_Atomic(struct file_lock_ctx *) flctx;
};

/* A new inode of sb with one reference, ino from sb_next_ino, times now, nlink 1 (2 for a
 * directory), uid/gid 0. NULL on ENOMEM. */
struct inode *inode_alloc(struct super_block *sb, uint32_t mode);
struct inode *inode_get(struct inode *inode);
void inode_put(struct inode *inode);
/* Fill st from the inode's own fields (the default getattr). Caller holds no lock. */
void inode_fill_stat(struct inode *inode, struct linux_stat *st);
/* CLOCK_REALTIME now. */
struct linux_timespec vfs_now(void);
/* Apply the generic part of ia (mode, uid, gid, times; not size) to the inode's fields, and
 * set ctime. Caller holds inode->lock. */
void inode_apply_attr(struct inode *inode, const struct iattr *ia);
/* Check mask (MAY_*) against t's filesystem credentials (fsuid, fsgid, supplementary groups)
 * and the inode's mode/uid/gid, as Linux's generic_permission, with t's effective
 * CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (sentry/kernel/cred.h).
 * t NULL means the kernel itself (always allowed). 0 or -EACCES. */
int inode_permission(struct task *t, struct inode *inode, int mask);
/* The same for explicit ids (no supplementary groups; uid 0 has every capability). */
int inode_permission_ids(uint32_t fsuid, uint32_t fsgid, struct inode *inode, int mask);
/* The same for credentials c: its fsuid, fsgid, supplementary groups and effective
 * capabilities (inode_permission uses the task's; access(2) passes its overridden copy). */
struct creds;
int inode_permission_creds(const struct creds *c, struct inode *inode, int mask);

/* ---- dentries ---- */
#define D_HASHED 0x1u  /* in its parent's children table */
#define D_DELETED 0x2u /* unlinked, removed or renamed over: paths get " (deleted)" */

struct dentry {
	atomic_int refs;
	char *name; /* NUL-terminated; "/" for a root */
	size_t namelen;
	uint64_t hash;
	struct dentry *parent; /* NULL for the root of a superblock; a reference */
	struct inode *inode;   /* NULL: negative. A reference */
	struct super_block *sb;
	unsigned flags;	      /* D_*, under the parent's lock */
	atomic_int mounted;   /* how many mounts sit on this dentry */
	pthread_mutex_t lock; /* see the top of this file */
	/* children table (directories): open hashing, XXH3 of the name */
	struct dentry **buckets;
	size_t nbuckets, nchildren;
	struct dentry *hnext;
	struct list_head lru; /* in the dentry cache's LRU while hashed */
};

extern pthread_mutex_t vfs_rename_mutex;
extern pthread_rwlock_t vfs_tree_lock;

/* The root dentry of sb for inode (takes the inode reference). Sets sb->root. NULL on ENOMEM. */
struct dentry *d_make_root(struct super_block *sb, struct inode *inode);
struct dentry *dget(struct dentry *d);
void dput(struct dentry *d);
/* Make the negative dentry d positive with inode (takes the reference). */
void d_instantiate(struct dentry *d, struct inode *inode);
/* A parentless, unhashed dentry named name on inode (takes the reference), for files that
 * live outside the tree (pipes, host fds). NULL on ENOMEM. */
struct dentry *d_alloc_pseudo(struct super_block *sb, const char *name, struct inode *inode);
/* A negative, unhashed dentry under parent (a reference on it), already marked deleted: the
 * place of a file without a name (O_TMPFILE). Once positive, d_name_unnamed names it "#<ino>",
 * as Linux, so that its path reads "<parent>/#<ino> (deleted)". NULL / -ENOMEM. */
struct dentry *d_alloc_unnamed(struct dentry *parent);
int d_name_unnamed(struct dentry *d);
/* The parent of d (a new reference; d itself for a root). */
struct dentry *dget_parent(struct dentry *d);
/* Look name (one component, not "." or "..") up in directory dir: returns 0 with a new
 * reference in *out, positive or negative, or -errno (ENOTDIR, ENAMETOOLONG, ENOENT in a
 * removed directory, or the filesystem's error). Takes dir->lock. */
int d_lookup_one(struct dentry *dir, const char *name, size_t len, struct dentry **out);
/* The same with dir->lock already held by the caller. */
int d_lookup_locked(struct dentry *dir, const char *name, size_t len, struct dentry **out);
/* Remove d from its parent's table (parent lock held). */
void d_unhash(struct dentry *d);
/* After a rename: move d under new_parent as name (both parent locks held). */
int d_move(struct dentry *d, struct dentry *new_parent, const char *name, size_t len);
/* After a RENAME_EXCHANGE: a and b trade names and parents (both parent locks held). */
void d_exchange(struct dentry *a, struct dentry *b);
/* Does the positive directory d have any positive cached child? (lock held) */
bool d_has_positive_children(struct dentry *d);
/* The dentry cache keeps at most max hashed dentries beyond those in use (default 4096). */
void d_set_cache_max(size_t max);
/* How many dentries are hashed now. */
size_t d_cache_count(void);
/* Drop unused cached dentries down to half the limit (called by lookups when over it). */
void d_prune(void);
/* Call fn on every cached child of d (d->lock held). */
void d_for_each_child(struct dentry *d, void (*fn)(struct dentry *child, void *arg), void *arg);

/* ---- mounts ---- */
struct mount {
	atomic_int refs;
	struct mount *parent;	   /* NULL for the root mount and internal mounts */
	struct dentry *mountpoint; /* in parent (a reference) */
	struct dentry *root;	   /* a reference */
	struct super_block *sb;
};

/* A mount of sb not attached anywhere (overlay layers, pseudo files). NULL on ENOMEM. */
struct mount *mount_create_internal(struct super_block *sb);
/* Attach sb at mountpoint; the new mount hides what is below. The mountpoint is a directory
 * when sb's root is one, else a non-directory (a file bind mount); -ENOTDIR otherwise.
 * 0 or -errno. */
int mount_attach(struct super_block *sb, const struct path *mountpoint);
struct mount *mntget(struct mount *m);
void mntput(struct mount *m);
/* The mount sitting on (parent, d), if any (a new reference), else NULL. */
struct mount *mount_lookup(struct mount *parent, struct dentry *d);
/* The sandbox root's mount, then every attached mount, oldest first, at most max (each a new
 * reference: mntput them). Returns how many. */
int mount_list(struct mount **out, int max);
/* The root of the whole tree (the sandbox root), a new reference. */
void vfs_root_path(struct path *out);
/* Make sb the root of the mount tree (replacing any; for vfs_init and tests). 0 or -errno. */
int vfs_set_root(struct super_block *sb);

void path_get(const struct path *p);
void path_put(struct path *p);
static inline bool path_equal(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}
/* Write the absolute path of p (relative to the tree root) into buf. Returns its length or
 * -ENAMETOOLONG/-ERANGE when it does not fit. A removed entry gets " (deleted)". */
long path_to_str(const struct path *p, char *buf, size_t size);

/* ---- path walk (namei.c) ---- */
#define LOOKUP_FOLLOW 0x1u    /* follow a final symlink */
#define LOOKUP_DIRECTORY 0x2u /* the result must be a directory */
#define LOOKUP_EMPTY 0x4u     /* AT_EMPTY_PATH: "" means dirfd itself */

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

/* What a walk to the parent of a path leaves. */
struct nameparent {
	struct path dir; /* the directory holding the last component (references) */
	char last[LINUX_NAME_MAX + 1];
	size_t lastlen;
	enum last_type type;
	bool trailing_slash; /* the path ended in '/' after the last component */
};

/* Resolve path relative to dirfd for t (its root, cwd and fd table). 0 with *out, or -errno
 * exactly as Linux's path walk would return. */
int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags, struct path *out);
/* Walk all of path but the last component. 0 with np filled (release with nameparent_put),
 * or -errno. A last component longer than NAME_MAX is -ENAMETOOLONG. */
int vfs_lookup_parent(struct task *t, int dirfd, const char *path, struct nameparent *np);
void nameparent_put(struct nameparent *np);
/* Continue a walk: resolve path relative to the directory start (used when an O_CREAT open
 * follows a final symlink). nlinks counts symlinks followed so far. */
int vfs_lookup_parent_from(struct task *t, const struct path *start, const char *path, int *nlinks,
			   struct nameparent *np);

/* ---- open files ---- */
#define FMODE_READ 0x1u
#define FMODE_WRITE 0x2u
#define FMODE_LSEEK 0x4u /* the VFS keeps f->pos; lseek works */
#define FMODE_PREAD 0x8u /* pread/pwrite work (else ESPIPE) */
#define FMODE_PATH 0x10u /* O_PATH: no I/O at all */

struct file {
	atomic_int refs;
	struct path path;    /* references */
	struct inode *inode; /* a reference; path.dentry->inode at open time */
	int flags;	     /* LINUX_O_* access mode and status flags (F_GETFL) */
	unsigned fmode;	     /* FMODE_* */
	const struct file_ops *fops;
	void *priv;
	pthread_mutex_t pos_lock; /* the offset, and directory iteration state */
	uint64_t pos;
	/* F_SETOWN/F_SETSIG (pos_lock): recorded and reported, no SIGIO is ever sent */
	int owner_pid;	/* > 0 a process or thread, < 0 a process group, 0 none */
	int owner_type; /* F_OWNER_TID/PID/PGRP */
	int sig;
	/* The epoll registrations on this file (sentry/fs/epoll.c, under its g_ep_file_lock):
	 * they go when the last reference does (file_put calls eventpoll_release). */
	struct epitem *f_ep;
};

/* Open the positive dentry of p (no permission or type checks; flags as open(2) takes them).
 * Returns 0 with a new file (one reference) in *out, or -errno. Takes references on p. */
int vfs_open_path(const struct path *p, int flags, struct file **out);
/* A file not in the tree (pipes, host fds): a parentless dentry named name on inode (takes
 * the reference; inode->fops are the file's ops), on an internal mount. 0 and *out, or -errno. */
int vfs_open_anon(struct inode *inode, const char *name, int flags, struct file **out);
/* The pseudo superblock anonymous inodes belong to. */
struct super_block *vfs_anon_sb(void);

/* Kernel-buffer I/O on f at its offset (or the stream's). Count or -errno. */
ssize_t vfs_read(struct file *f, void *buf, size_t n);
ssize_t vfs_write(struct file *f, const void *buf, size_t n);
ssize_t vfs_pwrite(struct file *f, const void *buf, size_t n, uint64_t off);
int64_t vfs_lseek(struct file *f, int64_t off, int whence);
/* getattr of a dentry (generic or the filesystem's). */
int vfs_getattr(struct dentry *d, struct linux_stat *st);
/* setattr with the VFS's checks (EROFS, types, EISDIR for size on a directory). */
int vfs_setattr(struct dentry *d, const struct iattr *ia);
/* f's readiness: f->fops->poll(f, pt), or VFS_DEFAULT_POLLMASK without one (see poll.h for
 * waiting on it). */
unsigned vfs_poll(struct file *f, struct poll_table *pt);
/* statfs(2) of the filesystem holding d (see super_ops.statfs). 0 or -errno. */
int vfs_statfs(struct dentry *d, struct linux_statfs *st);
/* Iterate directory f from f->pos (>= 0, including "." and ".."); updates f->pos. Returns 0 or
 * -errno; f->pos_lock must NOT be held. */
int vfs_iterate(struct file *f, struct dir_ctx *ctx);
/* Read the symlink target of positive d into buf (no NUL). Length or -EINVAL (not a link). */
long vfs_readlink_dentry(struct dentry *d, char *buf, size_t size);

/* Character devices: fops for an inode of type S_IFCHR with rdev. */
int vfs_register_chrdev(uint32_t major, uint32_t minor, const struct file_ops *fops);
const struct file_ops *vfs_chrdev_fops(uint64_t rdev);

/* ---- directory operations on dentries (ops.c), for filesystems and the kernel ---- */
/* Create name in dir as a regular file / directory / node / symlink. Take dir->lock. Return
 * 0 with a new reference on the created dentry in *out (may be NULL), or -errno (EEXIST...). */
int vfs_create_in(struct dentry *dir, const char *name, uint32_t mode, struct dentry **out);
int vfs_mkdir_in(struct dentry *dir, const char *name, uint32_t mode, struct dentry **out);
int vfs_mknod_in(struct dentry *dir, const char *name, uint32_t mode, uint64_t rdev,
		 struct dentry **out);
int vfs_symlink_in(struct dentry *dir, const char *name, const char *target, struct dentry **out);
/* Remove the non-directory / empty directory name from dir. Take dir->lock. */
int vfs_unlink_in(struct dentry *dir, const char *name);
int vfs_rmdir_in(struct dentry *dir, const char *name);

/* ---- fd tables and filesystem contexts (fdtable.c) ---- */
struct fd_slot {
	struct file *file;
	bool cloexec;
	bool reserved; /* allocated by fdtable_reserve, not yet committed */
};

struct fdtable {
	atomic_int refs;
	pthread_mutex_t lock;
	struct fd_slot *slots;
	int size;      /* allocated slots */
	int next_free; /* no free slot below this */
};

struct fs_context {
	atomic_int refs;
	pthread_mutex_t lock;
	struct path root;
	struct path cwd;
	uint32_t umask;
};

/* RLIMIT_NOFILE of the current task (1024 without one). */
int vfs_nofile_limit(void);
/* Install f (the table takes its own reference) at the lowest free fd >= minfd and below
 * limit. Returns the fd, -EMFILE, or -EINVAL for a negative minfd. */
int fdtable_alloc(struct fdtable *fdt, struct file *f, int minfd, bool cloexec, int limit);
/* Reserve the lowest free fd >= minfd below limit (open(2) allocates the fd before walking
 * the path, so EMFILE wins over ENOENT). Returns the fd or -EMFILE. Then either commit a file
 * to it (the table takes its own reference) or unreserve it. */
int fdtable_reserve(struct fdtable *fdt, int minfd, int limit);
void fdtable_commit(struct fdtable *fdt, int fd, struct file *f, bool cloexec);
void fdtable_unreserve(struct fdtable *fdt, int fd);
/* Put f at fd (dup2), closing what was there. Returns fd, -EBADF (fd out of [0, limit)) or
 * -EBUSY (fd reserved by an open in progress). */
int fdtable_replace(struct fdtable *fdt, int fd, struct file *f, bool cloexec, int limit);
/* Close fd: 0 or -EBADF. */
int fdtable_close(struct fdtable *fdt, int fd);
/* Set fd's close-on-exec flag: 0 or -EBADF (getting it: vfs.h). */
int fdtable_set_cloexec(struct fdtable *fdt, int fd, bool cloexec);
/* The lowest open fd >= from, or -1. */
int fdtable_next_fd(struct fdtable *fdt, int from);

/* Replace fs's cwd with p (takes its own references). */
void fs_context_set_cwd(struct fs_context *fs, const struct path *p);
/* fs's cwd, with references. */
void fs_context_get_cwd(struct fs_context *fs, struct path *out);
/* Return the umask; set it to new_mask & 0777 when new_mask >= 0. */
uint32_t fs_context_umask(struct fs_context *fs, int new_mask);

#endif
