/* The Sentry's filesystems: constructors for each. Each returns 0 with a new superblock (its
 * root dentry in sb->root) or -errno. Superblocks are never destroyed yet. */
#ifndef SENTRY_FS_FS_H
#define SENTRY_FS_FS_H

#include <stdbool.h>
#include <stdint.h>

struct super_block;
struct file;
struct gofer_client;
struct dentry;

/* An empty tmpfs (root directory mode 01777 when sticky, else 0755). */
int tmpfs_create(uint32_t root_mode, struct super_block **out);
/* The same holding at most size bytes of file data (rounded up to pages; ENOSPC past it),
 * besides the global limit of all tmpfs together; size 0: the global limit only. */
int tmpfs_create_sized(uint32_t root_mode, uint64_t size, struct super_block **out);

/* The read-only view of the gofer's tree from fid root_fid (GOFER_ROOT_FID). */
int goferfs_create(struct gofer_client *c, uint32_t root_fid, struct super_block **out);
/* A bind mount: the gofer's tree from root_fid (a fid of gofer_attach: a directory or a
 * regular file), writable unless readonly. Takes ownership of root_fid (clunked when its
 * inode goes), except on failure. */
int goferfs_create_mount(struct gofer_client *c, uint32_t root_fid, bool readonly,
			 struct super_block **out);

/* An overlay of a writable upper filesystem on a lower one (both roots must be directories).
 * Takes nothing: both superblocks stay alive for the Sentry's life. */
int overlay_create(struct super_block *upper, struct super_block *lower, struct super_block **out);

/* /dev: null, zero, full, random, urandom, and the fd/stdin/stdout/stderr symlinks. */
int devfs_create(struct super_block **out);

/* Make /dev/pts/0, the console's node: devpts_console_node. 0 or -errno. */
struct file_ops;
int devfs_console_node(const struct file_ops *fops, uint64_t *dev, uint64_t *ino);

/* /proc: the fixed files, self, thread-self, and <pid>/... and <pid>/task/<tid>/... */
int procfs_create(struct super_block **out);

/* /dev/pts: ptmx, the console's 0 and the slaves of open pseudo-terminals (pty.c). */
int devpts_create(struct super_block **out);
/* Make the console's node /dev/pts/0 (character device 136:0, ops fops) in devpts; its
 * st_dev and st_ino into *dev, *ino. 0 or -errno (no devpts yet, or 0 taken). */
int devpts_console_node(const struct file_ops *fops, uint64_t *dev, uint64_t *ino);
/* The ops of /dev/ptmx (character device 5:2): each open makes a new pseudo-terminal. */
extern const struct file_ops ptmx_fops;

/* /sys: the CPU lists and directories, an empty /sys/fs/cgroup (sysfs.c). */
int sysfs_create(struct super_block **out);

/* A file on the host fd host_fd (the caller's stdio), taking ownership of host_fd. */
int hostfd_open(int host_fd, struct file **out);

#endif
