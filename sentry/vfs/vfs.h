/* The VFS as the rest of the Sentry sees it: open files, fd tables, the filesystem context.
 * Internals (mounts, dentries, inodes, filesystem ops tables) live in sentry/vfs/ and
 * sentry/fs/; their own headers say more. All calls return 0/count or -errno. */
#ifndef SENTRY_VFS_VFS_H
#define SENTRY_VFS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "abi/linux.h"

struct task;
struct file;
struct fdtable;
struct fs_context;
struct gofer_client;

/* A mount the sandbox's configuration asks for (runsc-c/cli.h's struct boot_mount, checked). */
enum vfs_mount_type {
	VFS_MOUNT_BIND,	 /* the gofer's root number gofer_root: a directory or a regular file */
	VFS_MOUNT_TMPFS, /* mode of its root; size bytes of data at most (0: the global limit) */
	VFS_MOUNT_PROC,
	VFS_MOUNT_SYSFS,
	VFS_MOUNT_DEVPTS,
	VFS_MOUNT_MQUEUE,
};

struct vfs_mount {
	enum vfs_mount_type type;
	const char *dest; /* absolute, no "." or ".." components */
	bool readonly;
	uint32_t gofer_root;
	const char *source; /* bind: the host path, shown in /proc/mounts (not owned) */
	uint64_t size;
	uint32_t mode;
};

struct vfs_config {
	struct gofer_client *gofer;	/* serves the read-only lower layer of the root overlay */
	const struct vfs_mount *mounts; /* applied in order after the default tree */
	size_t nmounts;
	bool root_readonly; /* the root overlay (and so /tmp) refuses writes: EROFS */
};

/* Build the mount tree: / = overlay(tmpfs upper, gofer lower), /dev, /proc, /sys, then the
 * configured mounts; finally the root made read-only if asked. */
int vfs_init(const struct vfs_config *cfg);

/* ---- open file descriptions (refcounted) ---- */
struct file *file_get(struct file *f);
void file_put(struct file *f);
/* LINUX_O_* status and access flags of f. */
int file_flags(const struct file *f);
/* Read up to n bytes at off without moving the file offset. */
ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off);
int vfs_fstat(struct file *f, struct linux_stat *st);
/* The file's absolute path inside the sandbox, NUL-terminated, into buf. Returns length. */
long file_path(struct file *f, char *buf, size_t size);

/* Open path relative to dirfd (LINUX_AT_FDCWD or an fd of t) as open(2) would. */
long vfs_openat(struct task *t, int dirfd, const char *path, int flags, int mode,
		struct file **out);

/* Read up to n bytes at the file offset (or from the stream) into buf, advancing it. */
ssize_t vfs_read(struct file *f, void *buf, size_t n);
/* A host fd with the file's contents that may be mapped read-only (MAP_SHARED or
 * MAP_PRIVATE without PROT_WRITE faults on it), owned by f: do not close it; valid while the
 * caller holds its reference on f. -ENODEV when the file has none (then read it with
 * vfs_pread). */
int file_host_fd(struct file *f);

/* ---- per-task state ---- */
/* root and cwd at "/", umask 022. NULL on ENOMEM. */
struct fs_context *fs_context_create(void);
/* A copy of fs (fork without CLONE_FS). NULL on ENOMEM. */
struct fs_context *fs_context_copy(struct fs_context *fs);
struct fs_context *fs_context_get(struct fs_context *fs);
void fs_context_put(struct fs_context *fs);
/* Change t's working directory to path, as chdir(2) (ENOENT, ENOTDIR, EACCES...). The boot code
 * calls it with the configured cwd before looking up the executable. 0 or -errno. */
int vfs_chdir(struct task *t, const char *path);
/* An empty fd table. NULL on ENOMEM. */
struct fdtable *fdtable_create(void);
/* A copy of fdt sharing its open files (fork without CLONE_FILES). NULL on ENOMEM. */
struct fdtable *fdtable_copy(struct fdtable *fdt);
struct fdtable *fdtable_get_ref(struct fdtable *fdt);
void fdtable_put(struct fdtable *fdt);
/* The file at fd with a new reference (release with file_put), or NULL when fd is not open. */
struct file *fdtable_get(struct fdtable *fdt, int fd);
/* Close-on-exec flag of fd: 0/1 or -EBADF. */
int fdtable_get_cloexec(struct fdtable *fdt, int fd);
/* Install f at the lowest free fd (below RLIMIT_NOFILE of the current task). The table takes
 * its own reference; the caller keeps its own. flags: LINUX_O_CLOEXEC. Returns the fd or
 * -EMFILE. */
int fdtable_install(struct fdtable *fdt, struct file *f, int flags);
/* Close every fd marked close-on-exec (execve; the caller unshares a shared table first,
 * fdtable_unshare, as Linux's exec does). Releases the POSIX locks of the closed fds. */
void fdtable_close_on_exec(struct fdtable *fdt);
/* close_range(2) on [first, last] (last may be ~0U): close the open fds, or with cloexec
 * only mark them close-on-exec. */
void fdtable_close_range(struct fdtable *fdt, unsigned first, unsigned last, bool cloexec);
/* Give the caller its own copy of *pfdt if anyone else shares it (CLONE_FILES): replaces
 * *pfdt, dropping the caller's reference on the shared one. 0 or -ENOMEM (*pfdt unchanged). */
int fdtable_unshare(struct fdtable **pfdt);
/* How many fd slots fdt has now (select(2) looks no further; at least every open fd + 1). */
int fdtable_max_fds(struct fdtable *fdt);
/* Make guest fd `fd` of fdt refer to the host fd host_fd (the caller's stdin/out/err), taking
 * ownership of host_fd. */
int fdtable_install_host(struct fdtable *fdt, int fd, int host_fd);

#endif
