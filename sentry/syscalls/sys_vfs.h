/* Helpers and handlers shared by the file syscall families (sys_file.c, sys_rw.c, sys_fs.c,
 * sys_stat.c). Private to sentry/syscalls/. */
#ifndef SENTRY_SYSCALLS_SYS_VFS_H
#define SENTRY_SYSCALLS_SYS_VFS_H

#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs_fs.h"

/* Linux's MAX_RW_COUNT: one read or write moves at most this much. */
#define SYS_MAX_RW_COUNT (INT32_MAX & ~(int32_t)(4096 - 1))
/* Bounce buffers for guest I/O are at most this big. */
#define SYS_IO_CHUNK (64 * 1024)

/* The file at fd for I/O: NULL (EBADF) when fd is not open or is an O_PATH file (fdget). */
struct file *sys_fget(struct task *t, int fd);
/* The file at fd, O_PATH files included (fdget_raw). */
struct file *sys_fget_raw(struct task *t, int fd);
/* Copy the path at guest address addr into buf (LINUX_PATH_MAX bytes). 0, -EFAULT or
 * -ENAMETOOLONG. */
int sys_get_path(struct task *t, uint64_t addr, char *buf);

/* sys_rw.c */
SYSCALL_DEFINE(read);
SYSCALL_DEFINE(write);
SYSCALL_DEFINE(readv);
SYSCALL_DEFINE(writev);
SYSCALL_DEFINE(pread64);
SYSCALL_DEFINE(pwrite64);
SYSCALL_DEFINE(preadv);
SYSCALL_DEFINE(pwritev);
SYSCALL_DEFINE(preadv2);
SYSCALL_DEFINE(pwritev2);
SYSCALL_DEFINE(sendfile);
SYSCALL_DEFINE(copy_file_range);

/* sys_fcntl.c */
SYSCALL_DEFINE(fcntl);
SYSCALL_DEFINE(flock);

/* sys_poll.c */
SYSCALL_DEFINE(poll);
SYSCALL_DEFINE(ppoll);
SYSCALL_DEFINE(select);
SYSCALL_DEFINE(pselect6);

/* sys_attr.c */
SYSCALL_DEFINE(chmod);
SYSCALL_DEFINE(fchmod);
SYSCALL_DEFINE(fchmodat);
SYSCALL_DEFINE(fchmodat2);
SYSCALL_DEFINE(chown);
SYSCALL_DEFINE(fchown);
SYSCALL_DEFINE(lchown);
SYSCALL_DEFINE(fchownat);
SYSCALL_DEFINE(utime);
SYSCALL_DEFINE(utimes);
SYSCALL_DEFINE(futimesat);
SYSCALL_DEFINE(utimensat);
SYSCALL_DEFINE(statfs);
SYSCALL_DEFINE(fstatfs);

/* sys_stat.c */
SYSCALL_DEFINE(stat);
SYSCALL_DEFINE(lstat);
SYSCALL_DEFINE(fstat);
SYSCALL_DEFINE(newfstatat);
SYSCALL_DEFINE(statx);
SYSCALL_DEFINE(getdents64);
SYSCALL_DEFINE(getdents);
SYSCALL_DEFINE(readlink);
SYSCALL_DEFINE(readlinkat);
SYSCALL_DEFINE(access);
SYSCALL_DEFINE(faccessat);
SYSCALL_DEFINE(faccessat2);

#endif
