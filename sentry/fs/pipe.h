/* Pipes (pipe(2), pipe2(2)) and FIFOs (named pipes opened through any filesystem). */
#ifndef SENTRY_FS_PIPE_H
#define SENTRY_FS_PIPE_H

#include <stdint.h>

#include "sentry/vfs/vfs_fs.h"

#define PIPE_BUF_SIZE 4096	  /* PIPE_BUF: writes up to this size are atomic */
#define PIPE_DEF_SIZE (16 * 4096) /* a new pipe's capacity */
#define LINUX_O_NOTIFICATION_PIPE LINUX_O_EXCL

/* /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ a process without CAP_SYS_RESOURCE
 * (here: euid != 0) may ask for. Default 1 MiB. procfs may read and write it. */
extern _Atomic unsigned int pipe_max_size;

/* A new pipe: *rd its read end, *wr its write end (one reference each). flags: LINUX_O_NONBLOCK
 * and LINUX_O_DIRECT (packet mode) for both files. 0 or -ENOMEM. */
int pipe_create(int flags, struct file **rd, struct file **wr);

/* Is f a pipe or a FIFO? */
bool file_is_pipe(const struct file *f);

/* fcntl F_GETPIPE_SZ and F_SETPIPE_SZ (arg: the size asked for; privileged: the caller may
 * exceed pipe_max_size). The capacity in bytes, or -EBADF (not a pipe), -EINVAL, -EPERM,
 * -EBUSY (more data than the new size holds), -ENOMEM. */
long pipe_fcntl(struct file *f, int cmd, unsigned int arg, bool privileged);

/* The file ops of a FIFO inode (any filesystem's S_IFIFO node without ops of its own): every
 * open of the same inode shares one pipe while any of them is open. open(2) blocks as Linux's
 * fifo_open does (a reader until a writer comes, a writer until a reader; O_NONBLOCK writer
 * without a reader: ENXIO). */
extern const struct file_ops pipe_fifo_fops;

#endif
