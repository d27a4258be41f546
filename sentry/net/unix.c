/* AF_UNIX sockets: stream, seqpacket and datagram; names in the VFS (a socket inode made by
 * bind, found again by its device and inode number) and in the abstract namespace (sun_path[0]
 * == 0, one namespace per socket type as Linux's hashing makes it); autobind; credentials
 * (SO_PEERCRED, SO_PASSCRED + SCM_CREDENTIALS) and files (SCM_RIGHTS) carried by the buffers.
 *
 * Not done: garbage collection of in-flight sockets that reference each other (a socket sent
 * over itself and closed stays in memory until the Sentry exits), MSG_OOB, SO_PEEK_OFF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/net_impl.h"
#include "sentry/vfs/ops.h"
#include "sentry/vfs/vfs_fs.h"

static const struct sock_ops unix_stream_ops;
static const struct sock_ops unix_dgram_ops;

static bool is_dgram(const struct sock *sk) { return sk->type == LINUX_SOCK_DGRAM; }

/* ---- names ---- */

static bool abstract_taken(const struct net_addr *a, int type)
{
	struct sock *o;

	for_each_sock(o)
	{
		if (o->family == LINUX_AF_UNIX && o->type == type && !o->dead && o->bound &&
		    o->uaddr.len == a->len && o->udev == 0 && o->uino == 0 &&
		    memcmp(o->uaddr.bytes, a->bytes, a->len) == 0)
			return true;
	}
	return false;
}

/* Give sk a name "\0XXXXX" (lock held). 0 or -ENOSPC. */
static int autobind_locked(struct sock *sk)
{
	static uint32_t ordernum;
	struct net_addr a;

	if (sk->uaddr.len)
		return 0;
	for (uint32_t i = 0; i <= 0xfffff; i++) {
		char name[8];
		memset(&a, 0, sizeof(a));
		a.family = LINUX_AF_UNIX;
		snprintf(name, sizeof(name), "%05x", (ordernum++) & 0xfffff);
		memcpy(a.un.sun_path + 1, name, 5);
		a.len = (uint32_t)(offsetof(struct linux_sockaddr_un, sun_path) + 6);
		if (!abstract_taken(&a, sk->type)) {
			sk->uaddr = a;
			sk->bound = true;
			return 0;
		}
	}
	return -ENOSPC;
}

static int unix_bind(struct task *t, struct sock *sk, const struct net_addr *addr)
{
	struct unix_name n;
	struct net_addr a = {0};
	struct linux_stat st;
	struct path p;
	int r = unix_parse(addr, &n);

	if (r < 0)
		return r;
	net_lock();
	if (n.kind == UNIX_AUTOBIND) {
		r = autobind_locked(sk);
		net_unlock();
		return r;
	}
	if (n.kind == UNIX_ABSTRACT) {
		if (sk->uaddr.len || sk->binding) {
			net_unlock();
			return -EINVAL;
		}
		memcpy(&a, addr, sizeof(a));
		a.len = n.len;
		if (abstract_taken(&a, sk->type)) {
			r = -EADDRINUSE;
		} else {
			sk->uaddr = a;
			sk->bound = true;
		}
		net_unlock();
		return r;
	}
	net_unlock();

	/* The socket file first, mode 0777 less the umask (unix_bind_bsd): an existing path
	 * is EADDRINUSE even for a socket already bound, which is EINVAL only after. */
	r = vfs_mknodat(t, LINUX_AT_FDCWD, n.path, LINUX_S_IFSOCK | 0777, 0);
	if (r == -EEXIST)
		r = -EADDRINUSE;
	if (r < 0)
		return r;
	net_lock();
	if (sk->uaddr.len || sk->binding) {
		net_unlock();
		vfs_unlinkat(t, LINUX_AT_FDCWD, n.path);
		return -EINVAL;
	}
	sk->binding = true;
	net_unlock();
	r = vfs_lookup(t, LINUX_AT_FDCWD, n.path, 0, &p);
	if (r == 0) {
		r = vfs_getattr(p.dentry, &st);
		path_put(&p);
	}
	net_lock();
	sk->binding = false;
	if (r == 0) {
		a.family = LINUX_AF_UNIX;
		a.len = n.len;
		memcpy(a.un.sun_path, n.path, strlen(n.path));
		sk->uaddr = a;
		sk->udev = st.st_dev;
		sk->uino = st.st_ino;
		sk->bound = true;
	}
	net_unlock();
	return r;
}

/* The live socket of type named by n, with a reference (no lock held). */
static int unix_find(struct task *t, const struct unix_name *n, const struct net_addr *addr,
		     int type, struct sock **out)
{
	uint64_t dev = 0, ino = 0;
	struct sock *o, *found = NULL;
	struct net_addr a;
	int r;

	if (n->kind == UNIX_PATH) {
		struct linux_stat st;
		struct path p;

		r = vfs_lookup(t, LINUX_AT_FDCWD, n->path, LOOKUP_FOLLOW, &p);
		if (r < 0)
			return r;
		r = inode_permission(t, p.dentry->inode, MAY_WRITE);
		if (r == 0 && !LINUX_S_ISSOCK(p.dentry->inode->mode))
			r = -ECONNREFUSED;
		if (r == 0)
			r = vfs_getattr(p.dentry, &st);
		path_put(&p);
		if (r < 0)
			return r;
		dev = st.st_dev;
		ino = st.st_ino;
	} else {
		memcpy(&a, addr, sizeof(a));
		a.len = n->len;
	}
	net_lock();
	r = -ECONNREFUSED;
	for_each_sock(o)
	{
		if (o->family != LINUX_AF_UNIX || o->dead || !o->bound)
			continue;
		if (n->kind == UNIX_PATH) {
			if (o->udev != dev || o->uino != ino)
				continue;
		} else if (o->uino || o->type != type || o->uaddr.len != a.len ||
			   memcmp(o->uaddr.bytes, a.bytes, a.len) != 0) {
			continue;
		}
		found = o;
		break;
	}
	if (found) {
		if (found->type != type) {
			r = -EPROTOTYPE;
		} else {
			sock_hold(found);
			*out = found;
			r = 0;
		}
	}
	net_unlock();
	return r;
}

/* A sender with SO_PASSCRED gets a name if it has none (Linux autobinds it). Lock held. */
static void passcred_autobind(struct sock *sk, const struct sock *other)
{
	(void)other;
	if (!sk->uaddr.len && sk->passcred)
		autobind_locked(sk);
}

static int unix_getname(struct sock *sk, struct net_addr *out, bool peer)
{
	int r = 0;

	net_lock();
	if (peer) {
		if (is_dgram(sk)) {
			if (!sk->peer)
				r = -ENOTCONN;
			else
				*out = sk->peer->uaddr;
		} else if (sk->state != SS_CONNECTED) {
			r = -ENOTCONN;
		} else {
			*out = sk->upeer_addr;
		}
	} else {
		*out = sk->uaddr;
	}
	if (r == 0 && out->len == 0) {
		out->len = sizeof(uint16_t);
		out->family = LINUX_AF_UNIX;
	}
	net_unlock();
	return r;
}

/* ---- connection-oriented: stream and seqpacket ---- */

static int unix_listen(struct task *t, struct sock *sk, int backlog)
{
	int r = 0;

	if (is_dgram(sk))
		return -EOPNOTSUPP;
	net_lock();
	if (!sk->uaddr.len || (sk->state != SS_CLOSED && sk->state != SS_LISTEN)) {
		r = -EINVAL;
	} else {
		stream_listen_locked(sk, backlog);
		sk->peercred = net_task_cred(t);
		sk->has_peercred = true;
	}
	net_unlock();
	return r;
}

struct room_wait {
	struct sock *listener;
};

static bool room_ready(struct sock *sk, void *arg)
{
	struct sock *l = ((struct room_wait *)arg)->listener;

	(void)sk;
	return l->dead || l->state != SS_LISTEN || !stream_acceptq_full(l);
}

static int unix_stream_connect(struct task *t, struct sock *sk, const struct net_addr *addr,
			       bool nonblock)
{
	struct sock *listener, *child;
	struct timespec dlbuf;
	const struct timespec *dl;
	struct unix_name n;
	int r = unix_parse(addr, &n);

	if (r < 0)
		return r;
	if (n.kind == UNIX_AUTOBIND)
		return -EINVAL;
	net_lock();
	if (sk->state == SS_CONNECTED)
		r = -EISCONN;
	else if (sk->state == SS_LISTEN)
		r = -EINVAL;
	else
		passcred_autobind(sk, NULL);
	net_unlock();
	if (r < 0)
		return r;
	r = unix_find(t, &n, addr, sk->type, &listener);
	if (r < 0)
		return r;
	child = sock_alloc(LINUX_AF_UNIX, sk->type, sk->protocol, &unix_stream_ops);
	if (!child) {
		net_lock();
		sock_put(listener);
		net_unlock();
		return -ENOMEM;
	}
	net_lock();
	dl = sock_deadline(sk->sndtimeo_ns, &dlbuf);
	for (;;) {
		struct room_wait w = {listener};

		if (listener->dead || listener->state != SS_LISTEN) {
			r = -ECONNREFUSED;
			break;
		}
		if (sk->state == SS_CONNECTED) {
			r = -EISCONN;
			break;
		}
		if (!stream_acceptq_full(listener)) {
			r = 0;
			break;
		}
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = sock_wait(sk, &listener->wq, room_ready, &w, dl);
		if (r < 0)
			break;
	}
	if (r == 0) {
		passcred_autobind(sk, listener);
		child->uaddr = listener->uaddr;
		child->passcred = listener->passcred;
		child->peercred = net_task_cred(t);
		child->has_peercred = true;
		child->upeer_addr = sk->uaddr;
		sk->upeer_addr = listener->uaddr;
		sk->peercred = listener->peercred;
		sk->has_peercred = true;
		stream_pair(sk, child);
		stream_enqueue_child(listener, child); /* the queue takes child's reference */
		child = NULL;
	}
	sock_put(listener);
	net_unlock();
	if (child)
		sock_abandon_file(child);
	return r;
}

static int unix_accept(struct task *t, struct sock *sk, bool nonblock, struct sock **out)
{
	(void)t;
	if (is_dgram(sk))
		return -EOPNOTSUPP;
	return stream_accept(sk, nonblock, out);
}

static ssize_t unix_stream_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
				   bool nonblock)
{
	bool seqpacket = sk->type == LINUX_SOCK_SEQPACKET;

	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	if (!seqpacket && m->to && m->to->len) {
		int r;
		net_lock();
		r = sk->state == SS_CONNECTED ? -EISCONN : -EOPNOTSUPP;
		net_unlock();
		return r;
	}
	return stream_send(t, sk, m, flags, nonblock, seqpacket);
}

static ssize_t unix_stream_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
				   bool nonblock)
{
	bool seqpacket = sk->type == LINUX_SOCK_SEQPACKET;
	ssize_t r;

	(void)t;
	if (flags & LINUX_MSG_OOB)
		return -EINVAL;
	net_lock();
	if (sk->state != SS_CONNECTED)
		r = seqpacket ? -ENOTCONN : -EINVAL;
	else
		r = sock_recv_queue(sk, m, flags, nonblock, !seqpacket);
	net_unlock();
	return r;
}

static int unix_shutdown(struct sock *sk, unsigned mode)
{
	struct sock *p;

	net_lock();
	sk->shut |= mode;
	p = sk->peer;
	if (p && !is_dgram(sk)) {
		unsigned pm =
		    ((mode & SHUT_RCV) ? SHUT_SEND : 0) | ((mode & SHUT_SEND) ? SHUT_RCV : 0);
		p->shut |= pm;
		waitq_wake(&p->wq);
	}
	waitq_wake(&sk->wq);
	net_unlock();
	return 0;
}

static bool unix_writable(const struct sock *sk)
{
	return sk->state != SS_LISTEN && sk->wmem * 4 <= (size_t)sk->sndbuf;
}

static bool dgram_peer_full(const struct sock *sk, const struct sock *other)
{
	return other != sk && other->peer != sk && other->rcv_count > NET_UNIX_MAX_DGRAM_QLEN;
}

static unsigned unix_poll(struct sock *sk)
{
	unsigned mask = 0;

	if (sk->err)
		mask |= LINUX_POLLERR;
	if (sk->shut == SHUT_BOTH)
		mask |= LINUX_POLLHUP;
	if (sk->shut & SHUT_RCV)
		mask |= LINUX_POLLRDHUP | LINUX_POLLIN | LINUX_POLLRDNORM;
	if (sk->rcv_count || !list_empty(&sk->acceptq))
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (!is_dgram(sk) && sk->state == SS_CLOSED)
		mask |= LINUX_POLLHUP;
	bool w = unix_writable(sk);
	if (w && is_dgram(sk) && sk->peer && dgram_peer_full(sk, sk->peer))
		w = false;
	if (w)
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM | LINUX_POLLWRBAND;
	return mask;
}

static int unix_inq(struct sock *sk)
{
	if (sk->type != LINUX_SOCK_DGRAM)
		return (int)sk->rcv_bytes;
	if (list_empty(&sk->rcvq))
		return 0;
	return (int)list_entry(sk->rcvq.next, struct skb, link)->len;
}

static void unix_release(struct sock *sk)
{
	struct sock *o;

	if (sk->state == SS_LISTEN)
		stream_release_listener(sk);
	if (!is_dgram(sk)) {
		stream_disconnect(sk, false);
	} else {
		if (sk->peer) {
			sock_put(sk->peer);
			sk->peer = NULL;
		}
		for_each_sock(o)
		{ /* senders blocked on this one's queue */
			if (o->family == LINUX_AF_UNIX && o->peer == sk)
				waitq_wake(&o->wq);
		}
	}
	sock_purge(sk);
}

/* ---- datagrams ---- */

static int unix_dgram_connect(struct task *t, struct sock *sk, const struct net_addr *addr,
			      bool nonblock)
{
	struct sock *other, *old;
	struct unix_name n;
	int r;

	(void)nonblock;
	if (addr->len >= sizeof(uint16_t) && addr->family == LINUX_AF_UNSPEC) {
		net_lock();
		old = sk->peer;
		sk->peer = NULL;
		sk->state = SS_CLOSED;
		if (old)
			sock_put(old);
		net_unlock();
		return 0;
	}
	r = unix_parse(addr, &n);
	if (r < 0)
		return r;
	if (n.kind == UNIX_AUTOBIND)
		return -EINVAL;
	r = unix_find(t, &n, addr, sk->type, &other);
	if (r < 0)
		return r;
	net_lock();
	passcred_autobind(sk, other);
	if (other->dead) {
		r = -ECONNREFUSED;
		sock_put(other);
	} else if (other->peer && other->peer != sk) {
		r = -EPERM;
		sock_put(other);
	} else {
		old = sk->peer;
		sk->peer = other; /* takes the lookup's reference */
		sk->state = SS_CONNECTED;
		if (old)
			sock_put(old);
	}
	net_unlock();
	return r;
}

struct dgram_wait {
	struct sock *other;
};

static bool dgram_ready(struct sock *sk, void *arg)
{
	struct sock *other = ((struct dgram_wait *)arg)->other;

	return other->dead || (sk->shut & SHUT_SEND) || (other->shut & SHUT_RCV) ||
	       (!dgram_peer_full(sk, other) && sk->wmem < (size_t)sk->sndbuf);
}

static ssize_t unix_dgram_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
				  bool nonblock)
{
	bool named = m->to && m->to->len;
	size_t len = net_iov_left(&m->iov);
	struct timespec dlbuf;
	const struct timespec *dl;
	struct sock *other = NULL;
	struct unix_name n;
	struct skb *skb;
	ssize_t r = 0;

	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	if (named) {
		r = unix_parse(m->to, &n);
		if (r < 0)
			return r;
		if (n.kind == UNIX_AUTOBIND)
			return -EINVAL;
	}
	net_lock();
	if (len + 32 > (size_t)sk->sndbuf)
		r = -EMSGSIZE;
	else if (!named && !sk->peer)
		r = -ENOTCONN;
	else if (!named)
		sock_hold(other = sk->peer);
	net_unlock();
	if (r < 0)
		return r;
	if (named) {
		r = unix_find(t, &n, m->to, sk->type, &other);
		if (r < 0)
			return r;
	}
	net_lock();
	passcred_autobind(sk, other);
	net_unlock();
	r = net_make_skb(t, sk, m, len, &skb);
	if (r < 0)
		goto out_put;
	net_lock();
	dl = sock_deadline(sk->sndtimeo_ns, &dlbuf);
	for (;;) {
		struct dgram_wait w = {other};

		if (other->dead) {
			r = -ECONNREFUSED;
			if (!named && sk->peer == other) {
				sk->peer = NULL; /* disconnected: ENOTCONN from now on */
				sk->state = SS_CLOSED;
				sock_put(other);
			}
			break;
		}
		if (other->peer && other->peer != sk) {
			r = -EPERM;
			break;
		}
		if ((sk->shut & SHUT_SEND) || (other->shut & SHUT_RCV)) {
			r = -EPIPE;
			break;
		}
		bool qfull = dgram_peer_full(sk, other);
		if (!qfull && sk->wmem < (size_t)sk->sndbuf)
			break;
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = sock_wait(sk, qfull ? &other->wq : &sk->wq, dgram_ready, &w, dl);
		if (r < 0)
			break;
	}
	if (r == 0) {
		skb_queue(other, skb, sk);
		r = (ssize_t)len;
	} else {
		skb_free(skb);
	}
	net_unlock();
out_put:
	net_lock();
	sock_put(other);
	net_unlock();
	return r;
}

static ssize_t unix_dgram_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
				  bool nonblock)
{
	bool was_full;
	ssize_t r;

	(void)t;
	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	net_lock();
	was_full = sk->rcv_count > NET_UNIX_MAX_DGRAM_QLEN;
	r = sock_recv_queue(sk, m, flags, nonblock, false);
	if (was_full && sk->rcv_count <= NET_UNIX_MAX_DGRAM_QLEN)
		waitq_wake(&sk->wq); /* senders waiting for room in this queue */
	net_unlock();
	return r;
}

static const struct sock_ops unix_stream_ops = {
    .bind = unix_bind,
    .listen = unix_listen,
    .accept = unix_accept,
    .connect = unix_stream_connect,
    .sendmsg = unix_stream_sendmsg,
    .recvmsg = unix_stream_recvmsg,
    .shutdown = unix_shutdown,
    .getname = unix_getname,
    .poll = unix_poll,
    .release = unix_release,
    .inq = unix_inq,
};

static const struct sock_ops unix_dgram_ops = {
    .bind = unix_bind,
    .listen = unix_listen,
    .accept = unix_accept,
    .connect = unix_dgram_connect,
    .sendmsg = unix_dgram_sendmsg,
    .recvmsg = unix_dgram_recvmsg,
    .shutdown = unix_shutdown,
    .getname = unix_getname,
    .poll = unix_poll,
    .release = unix_release,
    .inq = unix_inq,
};

static int unix_check(int *type, int protocol)
{
	if (protocol != 0 && protocol != LINUX_AF_UNIX)
		return -EPROTONOSUPPORT;
	switch (*type) {
	case LINUX_SOCK_RAW:
		*type = LINUX_SOCK_DGRAM; /* as Linux's unix_create */
					  /* fall through */
	case LINUX_SOCK_STREAM:
	case LINUX_SOCK_DGRAM:
	case LINUX_SOCK_SEQPACKET:
		return 0;
	}
	return -ESOCKTNOSUPPORT;
}

int unix_create(struct task *t, int type, int protocol, struct sock **out)
{
	int r = unix_check(&type, protocol);

	(void)t;
	if (r < 0)
		return r;
	*out = sock_alloc(LINUX_AF_UNIX, type, protocol,
			  type == LINUX_SOCK_DGRAM ? &unix_dgram_ops : &unix_stream_ops);
	return *out ? 0 : -ENOMEM;
}

int unix_pair(struct task *t, int type, int protocol, struct sock **a, struct sock **b)
{
	int r = unix_create(t, type, protocol, a);

	if (r < 0)
		return r;
	r = unix_create(t, type, protocol, b);
	if (r < 0) {
		sock_abandon_file(*a);
		return r;
	}
	net_lock();
	stream_pair(*a, *b);
	(*a)->peercred = (*b)->peercred = net_task_cred(t);
	(*a)->has_peercred = (*b)->has_peercred = true;
	net_unlock();
	return 0;
}
