/* Socket syscalls: socket, socketpair, bind, listen, accept/accept4, connect, the names,
 * sendto/recvfrom, shutdown and the options; sendmsg/recvmsg and their batches are in
 * sys_socket_msg.c. The guest ABI (addresses, lengths, fds) is handled here, the sockets
 * themselves in sentry/net/. */
#include "sentry/syscalls/sys_socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/mm/mm.h"

/* Option values larger than this are not something any option takes. */
#define SOCKOPT_MAX 1024

int sys_sockfd(struct task *t, int fd, struct file **f, struct sock **sk)
{
	*f = sys_fget(t, fd);
	if (!*f)
		return -EBADF;
	*sk = file_sock(*f);
	if (!*sk) {
		file_put(*f);
		*f = NULL;
		return -ENOTSOCK;
	}
	return 0;
}

bool sys_sock_nonblock(const struct file *f) { return f->flags & LINUX_O_NONBLOCK; }

int sys_addr_in(struct task *t, uint64_t uaddr, int64_t len, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 0 || len > LINUX_SOCKADDR_STORAGE)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (copy_in(t->mm, a->bytes, uaddr, (size_t)len) < 0)
		return -EFAULT;
	a->len = (uint32_t)len;
	return 0;
}

int sys_addr_out(struct task *t, const struct net_addr *a, uint64_t uaddr, uint64_t ulenp)
{
	int32_t len;
	int32_t klen = (int32_t)a->len;

	if (copy_in(t->mm, &len, ulenp, sizeof(len)) < 0)
		return -EFAULT;
	if (len > klen)
		len = klen;
	if (len < 0)
		return -EINVAL;
	if (len && copy_out(t->mm, uaddr, a->bytes, (size_t)len) < 0)
		return -EFAULT;
	return copy_out(t->mm, ulenp, &klen, sizeof(klen));
}

long sys_sock_sigpipe(struct task *t, long r, int flags)
{
	if (r == -EPIPE && !(flags & LINUX_MSG_NOSIGNAL)) {
		struct linux_siginfo info;
		siginfo_kernel(&info, LINUX_SIGPIPE);
		signal_send_thread(t, &info);
	}
	return r;
}

SYSCALL_DEFINE(socket)
{
	int type = (int)a->a[1];
	struct file *f;
	long r = net_socket(t, (int)a->a[0], type, (int)a->a[2], &f);

	if (r < 0)
		return r;
	r = fdtable_install(t->fdt, f, (type & LINUX_SOCK_CLOEXEC) ? LINUX_O_CLOEXEC : 0);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(socketpair)
{
	int type = (int)a->a[1];
	bool cloexec = type & LINUX_SOCK_CLOEXEC;
	int limit = vfs_nofile_limit();
	struct file *fa, *fb;
	int fds[2];
	long r;

	r = net_socketpair(t, (int)a->a[0], type, (int)a->a[2], &fa, &fb);
	if (r < 0)
		return r;
	fds[0] = fdtable_reserve(t->fdt, 0, limit);
	fds[1] = fds[0] < 0 ? fds[0] : fdtable_reserve(t->fdt, 0, limit);
	if (fds[1] < 0) {
		r = fds[1];
		if (fds[0] >= 0)
			fdtable_unreserve(t->fdt, fds[0]);
	} else if (copy_out(t->mm, a->a[3], fds, sizeof(fds)) < 0) {
		fdtable_unreserve(t->fdt, fds[0]);
		fdtable_unreserve(t->fdt, fds[1]);
		r = -EFAULT;
	} else {
		fdtable_commit(t->fdt, fds[0], fa, cloexec);
		fdtable_commit(t->fdt, fds[1], fb, cloexec);
		r = 0;
	}
	file_put(fa);
	file_put(fb);
	return r;
}

SYSCALL_DEFINE(bind)
{
	struct net_addr addr;
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	r = sys_addr_in(t, a->a[1], (int32_t)a->a[2], &addr);
	if (r == 0)
		r = net_bind(t, sk, &addr);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(listen)
{
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	r = net_listen(t, sk, (int)a->a[1]);
	file_put(f);
	return r;
}

static long do_accept(struct task *t, int fd, uint64_t uaddr, uint64_t ulenp, int flags)
{
	struct net_addr peer;
	struct file *f, *nf;
	struct sock *sk;
	int nfd;
	long r;

	if (flags & ~(LINUX_SOCK_CLOEXEC | LINUX_SOCK_NONBLOCK))
		return -EINVAL;
	r = sys_sockfd(t, fd, &f, &sk);
	if (r < 0)
		return r;
	/* the fd first: EMFILE before sleeping for a connection, as Linux */
	nfd = fdtable_reserve(t->fdt, 0, vfs_nofile_limit());
	if (nfd < 0) {
		file_put(f);
		return nfd;
	}
	r = net_accept(t, sk, flags, sys_sock_nonblock(f), &nf, uaddr ? &peer : NULL);
	file_put(f);
	if (r < 0) {
		fdtable_unreserve(t->fdt, nfd);
		return r;
	}
	if (uaddr && (r = sys_addr_out(t, &peer, uaddr, ulenp)) < 0) {
		fdtable_unreserve(t->fdt, nfd);
		file_put(nf); /* the connection is lost, as on Linux */
		return r;
	}
	fdtable_commit(t->fdt, nfd, nf, flags & LINUX_SOCK_CLOEXEC);
	file_put(nf);
	return nfd;
}

SYSCALL_DEFINE(accept) { return do_accept(t, (int)a->a[0], a->a[1], a->a[2], 0); }

SYSCALL_DEFINE(accept4) { return do_accept(t, (int)a->a[0], a->a[1], a->a[2], (int)a->a[3]); }

SYSCALL_DEFINE(connect)
{
	struct net_addr addr;
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	r = sys_addr_in(t, a->a[1], (int32_t)a->a[2], &addr);
	if (r == 0)
		r = net_connect(t, sk, &addr, sys_sock_nonblock(f));
	file_put(f);
	return r;
}

static long do_getname(struct task *t, const struct syscall_args *a, bool peer)
{
	struct net_addr addr;
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	r = net_getname(sk, &addr, peer);
	if (r == 0)
		r = sys_addr_out(t, &addr, a->a[1], a->a[2]);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(getsockname) { return do_getname(t, a, false); }

SYSCALL_DEFINE(getpeername) { return do_getname(t, a, true); }

SYSCALL_DEFINE(sendto)
{
	int flags = (int)a->a[3];
	struct linux_iovec iov = {a->a[1], MIN(a->a[2], (uint64_t)SYS_MAX_RW_COUNT)};
	struct net_addr to;
	struct net_msg m = {0};
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	if (a->a[4]) {
		r = sys_addr_in(t, a->a[4], (int32_t)a->a[5], &to);
		if (r < 0)
			goto out;
		m.to = &to;
	}
	net_iov_init_user(&m.iov, t, &iov, 1, iov.iov_len);
	r = sys_sock_sigpipe(t, net_sendmsg(t, sk, &m, flags, sys_sock_nonblock(f)), flags);
out:
	file_put(f);
	return r;
}

SYSCALL_DEFINE(recvfrom)
{
	int flags = (int)a->a[3];
	struct linux_iovec iov = {a->a[1], MIN(a->a[2], (uint64_t)SYS_MAX_RW_COUNT)};
	struct net_addr from = {0};
	struct net_scm scm = {0};
	struct net_msg m = {.from = &from, .scm = &scm};
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	net_iov_init_user(&m.iov, t, &iov, 1, iov.iov_len);
	r = net_recvmsg(t, sk, &m, flags, sys_sock_nonblock(f));
	net_scm_release(&scm); /* files that came without a control buffer are closed */
	if (r >= 0 && a->a[4]) {
		long r2 = sys_addr_out(t, &from, a->a[4], a->a[5]);
		if (r2 < 0)
			r = r2;
	}
	file_put(f);
	return r;
}

SYSCALL_DEFINE(shutdown)
{
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	r = net_shutdown(sk, (int)a->a[1]);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(setsockopt)
{
	int32_t len = (int32_t)a->a[4];
	char buf[SOCKOPT_MAX];
	struct sock *sk;
	struct file *f;
	long r;

	r = sys_sockfd(t, (int)a->a[0], &f, &sk);
	if (r < 0)
		return r;
	if (len < 0) {
		file_put(f);
		return -EINVAL;
	}
	size_t n = MIN((size_t)len, sizeof(buf));
	if (n && copy_in(t->mm, buf, a->a[3], n) < 0)
		r = -EFAULT;
	else
		r = net_setsockopt(t, sk, (int)a->a[1], (int)a->a[2], buf, (unsigned)n);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(getsockopt)
{
	char buf[SOCKOPT_MAX];
	struct sock *sk;
	struct file *f;
	int32_t len;
	unsigned klen;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	if (copy_in(t->mm, &len, a->a[4], sizeof(len)) < 0) {
		r = -EFAULT;
		goto out;
	}
	if (len < 0) {
		r = -EINVAL;
		goto out;
	}
	klen = (unsigned)MIN((size_t)len, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	r = net_getsockopt(t, sk, (int)a->a[1], (int)a->a[2], buf, &klen);
	if (r == 0 && klen && copy_out(t->mm, a->a[3], buf, klen) < 0)
		r = -EFAULT;
	if (r == 0) {
		len = (int32_t)klen;
		if (copy_out(t->mm, a->a[4], &len, sizeof(len)) < 0)
			r = -EFAULT;
	}
out:
	file_put(f);
	return r;
}

const struct syscall_entry sys_socket_table[] = {
    {LINUX_SYS_socket, sys_socket,
     "partial: AF_UNIX, AF_INET/AF_INET6 (TCP, UDP over loopback only) and AF_NETLINK "
     "NETLINK_ROUTE (link/address dumps); other families EAFNOSUPPORT, raw sockets EPERM"},
    {LINUX_SYS_socketpair, sys_socketpair},
    {LINUX_SYS_bind, sys_bind},
    {LINUX_SYS_listen, sys_listen},
    {LINUX_SYS_accept, sys_accept},
    {LINUX_SYS_accept4, sys_accept4},
    {LINUX_SYS_connect, sys_connect,
     "partial: only loopback destinations (others ENETUNREACH); TCP connections are made at "
     "once, beyond the listen backlog too"},
    {LINUX_SYS_getsockname, sys_getsockname},
    {LINUX_SYS_getpeername, sys_getpeername},
    {LINUX_SYS_sendto, sys_sendto, "partial: MSG_OOB is refused (EOPNOTSUPP)"},
    {LINUX_SYS_recvfrom, sys_recvfrom,
     "partial: MSG_OOB finds no urgent data; MSG_ERRQUEUE finds nothing (EAGAIN)"},
    {LINUX_SYS_sendmsg, sys_sendmsg,
     "partial: MSG_OOB is refused; only SCM_RIGHTS and SCM_CREDENTIALS control messages"},
    {LINUX_SYS_recvmsg, sys_recvmsg,
     "partial: MSG_OOB finds no urgent data; MSG_ERRQUEUE finds nothing (EAGAIN)"},
    {LINUX_SYS_sendmmsg, sys_sendmmsg},
    {LINUX_SYS_recvmmsg, sys_recvmmsg},
    {LINUX_SYS_shutdown, sys_shutdown},
    {LINUX_SYS_setsockopt, sys_setsockopt,
     "partial: most options are recorded and read back without effect (TCP_NODELAY, "
     "SO_KEEPALIVE, IP_TOS...); SO_PEEK_OFF is ignored"},
    {LINUX_SYS_getsockopt, sys_getsockopt},
    {-1, NULL},
};
