/* The VFS as the rest of the Sentry sees it: open files, fd tables, the filesystem context.
 * Internals (mounts, dentries, inodes, filesystem ops tables) live in sentry/vfs/ and
 * sentry/fs/; their own headers say more. All calls return 0/count or -errno. */
#ifndef SENTRY_VFS_VFS_H
#define SENTRY_VFS_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "abi/linux.h"

struct task;
struct file;
struct fdtable;
struct fs_context;
struct gofer_client;

struct vfs_config {
	struct gofer_client *gofer; /* serves the read-only lower layer of the root overlay */
};

/* Build the mount tree: / = overlay(tmpfs upper, gofer lower), /tmp tmpfs, /dev, /proc. */
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

/* ---- per-task state ---- */
/* root and cwd at "/", umask 022. */
struct fs_context *fs_context_create(void);
void fs_context_put(struct fs_context *fs);
struct fdtable *fdtable_create(void);
void fdtable_put(struct fdtable *fdt);
/* Make guest fd `fd` of fdt refer to the host fd host_fd (the caller's stdin/out/err), taking
 * ownership of host_fd. */
int fdtable_install_host(struct fdtable *fdt, int fd, int host_fd);

#endif
