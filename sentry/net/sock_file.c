/* Sockets as files: the sockfs inodes, the file ops (read, write, poll, ioctl, release), and the
 * net_* entry points the socket syscalls call, which dispatch to the families' ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/net/net_impl.h"
#include "sentry/vfs/poll.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"

#define LINUX_SOCKFS_MAGIC 0x534F434B

/* ---- sockfs ---- */

static int sockfs_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	st->f_type = LINUX_SOCKFS_MAGIC;
	return 0;
}

static const struct super_ops sockfs_sops = {
    .statfs = sockfs_statfs,
};

static struct super_block *g_sockfs_sb;
static pthread_once_t g_sockfs_once = PTHREAD_ONCE_INIT;

static void sockfs_init(void)
{
	struct inode *root;

	g_sockfs_sb = sb_create("sockfs", &sockfs_sops, 0);
	if (!g_sockfs_sb)
		return;
	root = inode_alloc(g_sockfs_sb, LINUX_S_IFDIR | 0555);
	if (!root || !d_make_root(g_sockfs_sb, root))
		g_sockfs_sb = NULL;
}

/* ---- file ops ---- */

static const struct file_ops sock_fops;

struct sock *file_sock(struct file *f) { return (f && f->fops == &sock_fops) ? f->priv : NULL; }

static bool file_nonblock(const struct file *f)
{
	return (f->flags & LINUX_O_NONBLOCK) || !current_task;
}

static int sock_file_open(struct inode *inode, struct file *f)
{
	f->priv = inode->priv; /* takes over the creator's reference (sock_make_file) */
	inode->priv = NULL;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	f->flags &= ~LINUX_O_LARGEFILE;
	return 0;
}

static void sock_file_release(struct file *f)
{
	struct sock *sk = f->priv;

	if (sk)
		sock_abandon_file(sk);
}

static ssize_t sock_file_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct net_scm scm = {0};
	struct net_msg m = {.scm = &scm};
	ssize_t r;

	(void)pos;
	net_iov_init_kernel(&m.iov, buf, n);
	r = net_recvmsg(current_task, f->priv, &m, 0, file_nonblock(f));
	net_scm_release(&scm); /* files passed to a read(2) are closed, as Linux does */
	return r;
}

static ssize_t sock_file_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct net_msg m = {0};

	(void)pos;
	net_iov_init_kernel(&m.iov, (void *)buf, n);
	return net_sendmsg(current_task, f->priv, &m, 0, file_nonblock(f));
}

static unsigned sock_file_poll(struct file *f, struct poll_table *pt)
{
	struct sock *sk = f->priv;
	unsigned mask;

	poll_wait(pt, &sk->wq);
	net_lock();
	mask = sk->ops->poll ? sk->ops->poll(sk) : 0;
	net_unlock();
	return mask;
}

static long sock_file_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct sock *sk = f->priv;
	int v;

	switch (cmd) {
	case LINUX_SIOCINQ:
		net_lock();
		if (sk->state == SS_LISTEN && sk->family != LINUX_AF_NETLINK)
			v = -EINVAL;
		else
			v = sk->ops->inq ? sk->ops->inq(sk) : (int)sk->rcv_bytes;
		net_unlock();
		if (v < 0)
			return v;
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_SIOCOUTQ:
		net_lock();
		v = sk->family == LINUX_AF_UNIX ? (int)sk->wmem : 0; /* inet: nothing unacked */
		net_unlock();
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_SIOCATMARK:
		if (sk->family != LINUX_AF_INET && sk->family != LINUX_AF_INET6)
			break;
		v = 0;
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_SIOCGSTAMP:
		return -ENOENT;
	}
	return net_ifioctl(t, cmd, arg);
}

static long sock_file_path_name(struct file *f, char *buf, size_t size)
{
	int n = snprintf(buf, size, "socket:[%llu]", (unsigned long long)f->inode->ino);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : n;
}

static const struct file_ops sock_fops = {
    .open = sock_file_open,
    .release = sock_file_release,
    .read = sock_file_read,
    .write = sock_file_write,
    .ioctl = sock_file_ioctl,
    .path_name = sock_file_path_name,
    .poll = sock_file_poll,
};

int sock_make_file(struct sock *sk, int flags, struct file **out)
{
	struct inode *inode;
	char name[40];
	int r;

	pthread_once(&g_sockfs_once, sockfs_init);
	if (!g_sockfs_sb)
		return -ENOMEM;
	inode = inode_alloc(g_sockfs_sb, LINUX_S_IFSOCK | 0777);
	if (!inode)
		return -ENOMEM;
	if (current_task) {
		inode->uid = current_task->cred.fsuid;
		inode->gid = current_task->cred.fsgid;
	}
	inode->fops = &sock_fops;
	inode->priv = sk;
	snprintf(name, sizeof(name), "socket:[%llu]", (unsigned long long)inode->ino);
	net_lock();
	sk->ino = inode->ino;
	net_unlock();
	r = vfs_open_anon(inode, name, LINUX_O_RDWR | (flags & LINUX_O_NONBLOCK), out);
	if (r < 0) {
		net_lock();
		sk->ino = 0;
		net_unlock();
	}
	return r;
}

/* ---- entry points ---- */

int net_socket(struct task *t, int family, int type, int protocol, struct file **out)
{
	int flags = type & ~LINUX_SOCK_TYPE_MASK;
	struct sock *sk;
	int r;

	if (flags & ~(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -EINVAL;
	type &= LINUX_SOCK_TYPE_MASK;
	if (family < 0 || family >= LINUX_AF_MAX)
		return -EAFNOSUPPORT;
	switch (family) {
	case LINUX_AF_UNIX:
		r = unix_create(t, type, protocol, &sk);
		break;
	case LINUX_AF_INET:
	case LINUX_AF_INET6:
		r = inet_create(t, family, type, protocol, &sk);
		break;
	case LINUX_AF_NETLINK:
		r = netlink_create(t, type, protocol, &sk);
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (r < 0)
		return r;
	r = sock_make_file(sk, flags, out);
	if (r < 0)
		sock_abandon_file(sk);
	return r;
}

int net_socketpair(struct task *t, int family, int type, int protocol, struct file **fa,
		   struct file **fb)
{
	int flags = type & ~LINUX_SOCK_TYPE_MASK;
	struct sock *a, *b;
	int r;

	if (flags & ~(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -EINVAL;
	type &= LINUX_SOCK_TYPE_MASK;
	if (family < 0 || family >= LINUX_AF_MAX)
		return -EAFNOSUPPORT;
	if (family == LINUX_AF_INET || family == LINUX_AF_INET6 || family == LINUX_AF_NETLINK)
		return -EOPNOTSUPP;
	if (family != LINUX_AF_UNIX)
		return -EAFNOSUPPORT;
	r = unix_pair(t, type, protocol, &a, &b);
	if (r < 0)
		return r;
	r = sock_make_file(a, flags, fa);
	if (r < 0) {
		sock_abandon_file(a);
		sock_abandon_file(b);
		return r;
	}
	r = sock_make_file(b, flags, fb);
	if (r < 0) {
		sock_abandon_file(b);
		file_put(*fa);
		return r;
	}
	return 0;
}

int net_sock_family(const struct sock *sk) { return sk->family; }

int net_bind(struct task *t, struct sock *sk, const struct net_addr *addr)
{
	return sk->ops->bind ? sk->ops->bind(t, sk, addr) : -EOPNOTSUPP;
}

int net_listen(struct task *t, struct sock *sk, int backlog)
{
	return sk->ops->listen ? sk->ops->listen(t, sk, backlog) : -EOPNOTSUPP;
}

int net_accept(struct task *t, struct sock *sk, int flags, bool nonblock, struct file **out,
	       struct net_addr *peer)
{
	struct sock *child;
	int r;

	if (!sk->ops->accept)
		return -EOPNOTSUPP;
	r = sk->ops->accept(t, sk, nonblock, &child);
	if (r < 0)
		return r;
	if (peer) {
		memset(peer, 0, sizeof(*peer));
		if (child->ops->getname(child, peer, true) < 0) {
			peer->len = sizeof(uint16_t);
			peer->family = (uint16_t)child->family;
		}
	}
	r = sock_make_file(child, flags & LINUX_SOCK_NONBLOCK, out);
	if (r < 0)
		sock_abandon_file(child);
	return r;
}

int net_connect(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock)
{
	return sk->ops->connect ? sk->ops->connect(t, sk, addr, nonblock) : -EOPNOTSUPP;
}

ssize_t net_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock)
{
	if (!sk->ops->sendmsg)
		return -EOPNOTSUPP;
	return sk->ops->sendmsg(t, sk, m, flags, nonblock || (flags & LINUX_MSG_DONTWAIT));
}

ssize_t net_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock)
{
	if (flags & LINUX_MSG_ERRQUEUE)
		return -EAGAIN; /* nothing is ever queued on the error queue */
	if (!sk->ops->recvmsg)
		return -EOPNOTSUPP;
	return sk->ops->recvmsg(t, sk, m, flags, nonblock || (flags & LINUX_MSG_DONTWAIT));
}

int net_shutdown(struct sock *sk, int how)
{
	if (how < LINUX_SHUT_RD || how > LINUX_SHUT_RDWR)
		return -EINVAL;
	return sk->ops->shutdown ? sk->ops->shutdown(sk, (unsigned)how + 1) : -EOPNOTSUPP;
}

int net_getname(struct sock *sk, struct net_addr *out, bool peer)
{
	memset(out, 0, sizeof(*out));
	return sk->ops->getname ? sk->ops->getname(sk, out, peer) : -EOPNOTSUPP;
}

int net_setsockopt(struct task *t, struct sock *sk, int level, int name, const void *val,
		   unsigned len)
{
	if (level == LINUX_SOL_SOCKET)
		return sock_setsockopt(t, sk, name, val, len);
	return sk->ops->setsockopt ? sk->ops->setsockopt(sk, level, name, val, len) : -EOPNOTSUPP;
}

int net_getsockopt(struct task *t, struct sock *sk, int level, int name, void *val, unsigned *len)
{
	(void)t;
	if (level == LINUX_SOL_SOCKET)
		return sock_getsockopt(sk, name, val, len);
	return sk->ops->getsockopt ? sk->ops->getsockopt(sk, level, name, val, len) : -EOPNOTSUPP;
}
