/* Helpers shared by the socket syscall files (sys_socket.c, sys_socket_msg.c). Private to
 * sentry/syscalls/. */
#ifndef SENTRY_SYSCALLS_SYS_SOCKET_H
#define SENTRY_SYSCALLS_SYS_SOCKET_H

#include "sentry/net/net.h"
#include "sentry/syscalls/sys_vfs.h"

/* The socket at fd: 0 with *f (a reference) and *sk, -EBADF or -ENOTSOCK. */
int sys_sockfd(struct task *t, int fd, struct file **f, struct sock **sk);
/* Is the file non-blocking (O_NONBLOCK)? */
bool sys_sock_nonblock(const struct file *f);
/* move_addr_to_kernel: len bytes at uaddr into *a. -EINVAL (len < 0 or > 128), -EFAULT. */
int sys_addr_in(struct task *t, uint64_t uaddr, int64_t len, struct net_addr *a);
/* move_addr_to_user: copy a into uaddr (at most the int at ulenp bytes) and store a's length
 * at ulenp. -EFAULT, -EINVAL (negative length). */
int sys_addr_out(struct task *t, const struct net_addr *a, uint64_t uaddr, uint64_t ulenp);
/* A send that failed with EPIPE raises SIGPIPE unless MSG_NOSIGNAL. Returns r. */
long sys_sock_sigpipe(struct task *t, long r, int flags);

SYSCALL_DEFINE(sendmsg);
SYSCALL_DEFINE(recvmsg);
SYSCALL_DEFINE(sendmmsg);
SYSCALL_DEFINE(recvmmsg);

#endif
