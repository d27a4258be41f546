/* TCP over the in-Sentry loopback: no segments, windows or timers, only what programs observe.
 * connect() finds the listener by (address, port) and makes the connection at once (queued on
 * the listener for accept(), beyond the backlog too: a real handshake would be retried until
 * it fits); a non-blocking connect still says EINPROGRESS and the socket is then writable with
 * SO_ERROR 0 (or the refusal). Data moves as a byte stream (stream.c). Closing sends a FIN, or
 * a reset when unread data is left or SO_LINGER is {1, 0}; data sent after the peer closed is
 * answered with a reset (EPIPE), as on Linux's loopback. MSG_OOB (urgent data) is refused. */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/inet.h"

#define LINUX_TCP_ESTABLISHED 1

/* The listener for dst:port with the best match (exact address over wildcard, v4 over a
 * dual-stack v6 for v4 traffic), or NULL. Lock held. */
static struct sock *find_listener(const uint8_t dst[16], uint16_t port)
{
	struct sock *o, *best = NULL;
	int best_score = -1;

	for_each_sock(o)
	{
		if ((o->family != LINUX_AF_INET && o->family != LINUX_AF_INET6) ||
		    o->type != LINUX_SOCK_STREAM || o->dead || o->state != SS_LISTEN ||
		    o->local.port != port || !inet_addr_match(o, dst))
			continue;
		int score = memcmp(o->local.addr, dst, 16) == 0 ? 4 : 0;
		if (inet_is_v4(dst) && o->family == LINUX_AF_INET)
			score += 1;
		if (score > best_score) {
			best = o;
			best_score = score;
		}
	}
	return best;
}

static int tcp_listen(struct task *t, struct sock *sk, int backlog)
{
	int r = 0;

	(void)t;
	net_lock();
	if (sk->state != SS_CLOSED && sk->state != SS_LISTEN) {
		r = -EINVAL;
	} else if (!sk->bound) {
		r = inet_autobind(sk);
	} else if (sk->state != SS_LISTEN &&
		   inet_port_conflict(sk, sk->local.addr, sk->local.port)) {
		r = -EADDRINUSE;
	}
	if (r == 0)
		stream_listen_locked(sk, backlog);
	net_unlock();
	return r;
}

static int tcp_accept(struct task *t, struct sock *sk, bool nonblock, struct sock **out)
{
	(void)t;
	return stream_accept(sk, nonblock, out);
}

/* Back to a fresh socket after a refused or aborted connection (lock held). */
static void tcp_reset_state(struct sock *sk)
{
	sk->state = SS_CLOSED;
	sk->shut = 0;
	sk->err = 0;
	sk->fin = false;
	sk->conn_failed = false;
	sk->rst_pending = false;
	sk->has_remote = false;
	inet_unbind_auto(sk);
	waitq_wake(&sk->wq);
}

static int tcp_connect(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock)
{
	struct sock *child, *listener;
	uint8_t src[16];
	struct inet_ep dst;
	int r;

	(void)t;
	if (addr->len < sizeof(uint16_t))
		return -EINVAL;
	if (addr->family == LINUX_AF_UNSPEC) {
		net_lock();
		if (sk->state == SS_LISTEN)
			stream_release_listener(sk);
		stream_disconnect(sk, true);
		sock_purge(sk);
		tcp_reset_state(sk);
		net_unlock();
		return 0;
	}
	r = inet_parse(addr, sk->family, false, &dst);
	if (r < 0)
		return r;
	child = inet_alloc(sk->family, LINUX_SOCK_STREAM, LINUX_IPPROTO_TCP);
	if (!child)
		return -ENOMEM;
	net_lock();
	switch (sk->state) {
	case SS_CONNECTED:
		r = -EISCONN;
		goto out;
	case SS_LISTEN:
		r = -EISCONN;
		goto out;
	case SS_CONNECTING:
		/* the answer to an earlier EINPROGRESS */
		if (sk->conn_failed) {
			r = sk->err ? sock_error(sk) : -ECONNABORTED;
			tcp_reset_state(sk);
		} else {
			sk->state = SS_CONNECTED;
			r = 0;
		}
		goto out;
	case SS_CLOSED:
		break;
	}
	r = inet_route(dst.addr, src, inet_v6(sk), sk->v6only);
	if (r < 0)
		goto out;
	if (!sk->bound) {
		r = inet_autobind(sk);
		if (r < 0)
			goto out;
	}
	if (!sk->bound_addr)
		memcpy(sk->local.addr, src, 16);
	listener = find_listener(dst.addr, dst.port);
	if (!listener) {
		if (nonblock) {
			/* the SYN went out; the reset comes back before anyone looks */
			sk->state = SS_CONNECTING;
			sk->conn_failed = true;
			sk->err = ECONNREFUSED;
			sk->shut = SHUT_BOTH;
			waitq_wake(&sk->wq);
			r = -EINPROGRESS;
		} else {
			tcp_reset_state(sk);
			r = -ECONNREFUSED;
		}
		goto out;
	}
	/* the server end: the listener's options, the addresses the client used */
	child->local.port = listener->local.port;
	memcpy(child->local.addr, dst.addr, 16);
	child->remote = sk->local;
	child->has_remote = true;
	child->bound = true;
	child->bound_addr = true;
	child->bound_port = true;
	child->reuseaddr = listener->reuseaddr;
	child->reuseport = listener->reuseport;
	child->keepalive = listener->keepalive;
	child->nodelay = listener->nodelay;
	child->v6only = listener->v6only;
	child->sndbuf = listener->sndbuf;
	child->rcvbuf = listener->rcvbuf;
	child->linger = listener->linger;
	child->uid = listener->uid;
	if (child->family != listener->family) {
		/* made as sk's family; the server end belongs to the listener's */
		child->family = listener->family;
	}
	sk->remote = dst;
	sk->has_remote = true;
	stream_pair(sk, child);
	stream_enqueue_child(listener, child); /* the accept queue takes child's reference */
	child = NULL;
	if (nonblock) {
		sk->state = SS_CONNECTING;
		r = -EINPROGRESS;
	}
out:
	net_unlock();
	if (child)
		sock_abandon_file(child);
	return r;
}

static ssize_t tcp_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock)
{
	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	return stream_send(t, sk, m, flags, nonblock, false);
}

static ssize_t tcp_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock)
{
	ssize_t r;

	(void)t;
	if (flags & LINUX_MSG_OOB)
		return -EINVAL; /* no urgent data, ever */
	m->from = NULL;		/* TCP reports no source address */
	net_lock();
	if (sk->state == SS_LISTEN)
		r = -ENOTCONN;
	else
		r = sock_recv_queue(sk, m, flags, nonblock, true);
	net_unlock();
	return r;
}

static int tcp_shutdown(struct sock *sk, unsigned mode)
{
	int r = 0;

	net_lock();
	if (sk->state == SS_LISTEN) {
		if (mode & SHUT_RCV) { /* stops listening: accept() wakes with EINVAL */
			stream_release_listener(sk);
			sk->state = SS_CLOSED;
		}
	} else if (sk->state == SS_CLOSED || sk->conn_failed) {
		sk->shut |= mode;
		r = -ENOTCONN;
	} else {
		bool fin = (mode & SHUT_SEND) && !(sk->shut & SHUT_SEND);
		sk->shut |= mode;
		if (fin && sk->peer) {
			sk->peer->fin = true;
			sk->peer->shut |= SHUT_RCV;
			waitq_wake(&sk->peer->wq);
		}
	}
	waitq_wake(&sk->wq);
	net_unlock();
	return r;
}

static unsigned tcp_poll(struct sock *sk)
{
	unsigned mask = 0;

	if (sk->state == SS_LISTEN)
		return list_empty(&sk->acceptq) ? 0 : LINUX_POLLIN | LINUX_POLLRDNORM;
	if (sk->shut == SHUT_BOTH || sk->state == SS_CLOSED || sk->conn_failed)
		mask |= LINUX_POLLHUP;
	if (sk->shut & SHUT_RCV)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLRDHUP;
	if (sk->rcv_count)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (sk->shut & SHUT_SEND)
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	else if (sk->wmem * 2 < stream_send_limit(sk))
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	if (sk->err)
		mask |= LINUX_POLLERR;
	return mask;
}

static void tcp_release(struct sock *sk)
{
	if (sk->state == SS_LISTEN)
		stream_release_listener(sk);
	stream_disconnect(sk, sk->linger.l_onoff && sk->linger.l_linger == 0);
	sock_purge(sk);
}

/* struct tcp_info as far as anyone reads it: the state, the rest zero. */
#define TCP_INFO_SIZE 232

static int tcp_setsockopt(struct sock *sk, int level, int name, const void *val, unsigned len)
{
	int v, r;

	if (level != LINUX_SOL_TCP)
		return inet_setsockopt_ip(sk, level, name, val, len);
	if (name == LINUX_TCP_CONGESTION) {
		char algo[16] = {0};
		memcpy(algo, val, MIN(len, (unsigned)sizeof(algo) - 1));
		return (strcmp(algo, "cubic") == 0 || strcmp(algo, "reno") == 0) ? 0 : -ENOENT;
	}
	r = sockopt_int(val, len, &v);
	if (r < 0)
		return r;
	switch (name) {
	case LINUX_TCP_KEEPIDLE:
	case LINUX_TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		break;
	case LINUX_TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		break;
	case LINUX_TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		break;
	case LINUX_TCP_MAXSEG:
		if (v && (v < 88 || v > 32767))
			return -EINVAL;
		break;
	case LINUX_TCP_NODELAY:
	case LINUX_TCP_CORK:
	case LINUX_TCP_SYNCNT:
	case LINUX_TCP_LINGER2:
	case LINUX_TCP_DEFER_ACCEPT:
	case LINUX_TCP_WINDOW_CLAMP:
	case LINUX_TCP_QUICKACK:
	case LINUX_TCP_FASTOPEN:
	case LINUX_TCP_FASTOPEN_CONNECT:
	case LINUX_TCP_NOTSENT_LOWAT:
		break;
	default:
		return -ENOPROTOOPT;
	}
	net_lock();
	if (name == LINUX_TCP_NODELAY)
		sk->nodelay = v != 0;
	else if (name == LINUX_TCP_CORK)
		sk->cork = v != 0;
	else
		r = sock_opt_store(sk, level, name, v);
	net_unlock();
	return r;
}

static int tcp_getsockopt(struct sock *sk, int level, int name, void *val, unsigned *len)
{
	int v = 0;

	if (level != LINUX_SOL_TCP)
		return inet_getsockopt_ip(sk, level, name, val, len);
	if (name == LINUX_TCP_CONGESTION) {
		char algo[16] = "cubic";
		unsigned n = MIN(*len, (unsigned)sizeof(algo));
		memcpy(val, algo, n);
		*len = n;
		return 0;
	}
	net_lock();
	bool connected =
	    sk->state == SS_CONNECTED || (sk->state == SS_CONNECTING && !sk->conn_failed);
	switch (name) {
	case LINUX_TCP_INFO: {
		unsigned char info[TCP_INFO_SIZE] = {0};
		unsigned n = MIN(*len, (unsigned)TCP_INFO_SIZE);
		info[0] = connected ? LINUX_TCP_ESTABLISHED : (sk->state == SS_LISTEN ? 10 : 7);
		net_unlock();
		memcpy(val, info, n);
		*len = n;
		return 0;
	}
	case LINUX_TCP_NODELAY:
		v = sk->nodelay;
		break;
	case LINUX_TCP_CORK:
		v = sk->cork;
		break;
	case LINUX_TCP_MAXSEG:
		v = connected ? 32768 : 536;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_KEEPIDLE:
		v = 7200;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_KEEPINTVL:
		v = 75;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_KEEPCNT:
		v = 9;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_SYNCNT:
		v = 6;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_LINGER2:
		v = 60;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_NOTSENT_LOWAT:
		v = -1;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_QUICKACK:
		v = 1;
		sock_opt_load(sk, level, name, &v);
		break;
	case LINUX_TCP_DEFER_ACCEPT:
	case LINUX_TCP_WINDOW_CLAMP:
	case LINUX_TCP_USER_TIMEOUT:
	case LINUX_TCP_FASTOPEN:
	case LINUX_TCP_FASTOPEN_CONNECT:
		sock_opt_load(sk, level, name, &v);
		break;
	default:
		net_unlock();
		return -ENOPROTOOPT;
	}
	net_unlock();
	return sockopt_put_int(val, len, v);
}

const struct sock_ops tcp_ops = {
    .bind = inet_bind,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .connect = tcp_connect,
    .sendmsg = tcp_sendmsg,
    .recvmsg = tcp_recvmsg,
    .shutdown = tcp_shutdown,
    .getname = inet_getname,
    .poll = tcp_poll,
    .setsockopt = tcp_setsockopt,
    .getsockopt = tcp_getsockopt,
    .release = tcp_release,
};
