/* Pipes (pipe(2), pipe2(2)) and FIFOs (named pipes opened through any filesystem). */
#ifndef SENTRY_FS_PIPE_H
#define SENTRY_FS_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* ---- splice, tee, vmsplice (sentry/syscalls/sys_splice.c); f is a pipe file (file_is_pipe) ----
 * Wait until f's pipe has data (write false: 1, or 0 when it is empty with no writer left) or
 * room (write true: 1, or -EPIPE without readers). nonblock: -EAGAIN instead of waiting;
 * -ERESTARTSYS when a signal comes. */
int pipe_splice_wait(struct file *f, bool write, bool nonblock);
/* The bytes f's pipe can take now (its free buffers). */
size_t pipe_room(struct file *f);
/* Put as much of buf as fits now into f's pipe. The count, -EAGAIN (full), -EPIPE. */
ssize_t pipe_write_nowait(struct file *f, const void *buf, size_t n);
/* Take up to n bytes out of f's pipe through sink(arg, data, len), which returns how many it
 * took (only those are consumed) or -errno. Waits for data first as pipe_splice_wait. The
 * count, 0 at end of file, or -errno. sink runs with no pipe lock but the consumers' one held:
 * it must not read this pipe. */
ssize_t pipe_splice_out(struct file *f, size_t n, bool nonblock,
			ssize_t (*sink)(void *arg, const void *buf, size_t len), void *arg);
/* Move (keep false: splice) or copy (keep true: tee) up to n bytes from in's pipe to out's,
 * waiting for data in in and room in out as pipe_splice_wait. The count, 0 (in empty with no
 * writer), -EINVAL (the same pipe), -EPIPE, -EAGAIN or -ERESTARTSYS. */
ssize_t pipe_splice_pipe(struct file *in, struct file *out, size_t n, bool nonblock, bool keep);

#endif
