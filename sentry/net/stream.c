/* Connection-oriented sockets, the part unix stream/seqpacket and TCP share: listening and the
 * accept queue, pairing the two ends, sending into the peer's receive queue with send-buffer
 * flow control, and what an end sees when the other goes away.
 *
 * A connection is two struct socks whose `peer` point at each other. connect() makes the
 * server end at once (Linux's unix "embryo"; for TCP the handshake is instantaneous on an
 * in-Sentry loopback) and queues it on the listener until accept() takes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/net_impl.h"

void stream_listen_locked(struct sock *sk, int backlog)
{
	if ((unsigned)backlog > NET_SOMAXCONN)
		backlog = NET_SOMAXCONN;
	sk->backlog = backlog;
	sk->state = SS_LISTEN;
	waitq_wake(&sk->wq);
}

bool stream_acceptq_full(const struct sock *sk) { return sk->acceptq_len > (unsigned)sk->backlog; }

void stream_enqueue_child(struct sock *listener, struct sock *child)
{
	list_add_tail(&child->accept_link, &listener->acceptq);
	listener->acceptq_len++;
	waitq_wake(&listener->wq);
}

static bool accept_ready(struct sock *sk, void *arg)
{
	(void)arg;
	return !list_empty(&sk->acceptq) || sk->state != SS_LISTEN || (sk->shut & SHUT_RCV);
}

int stream_accept(struct sock *sk, bool nonblock, struct sock **out)
{
	struct timespec dlbuf;
	const struct timespec *dl;
	int r;

	net_lock();
	dl = sock_deadline(sk->rcvtimeo_ns, &dlbuf);
	for (;;) {
		if (sk->state != SS_LISTEN) {
			r = -EINVAL;
			break;
		}
		if (!list_empty(&sk->acceptq)) {
			struct sock *child = list_entry(sk->acceptq.next, struct sock, accept_link);
			list_del(&child->accept_link);
			list_init(&child->accept_link);
			sk->acceptq_len--;
			waitq_wake(&sk->wq); /* connectors waiting for room */
			*out = child;
			r = 0;
			break;
		}
		if (sk->shut & SHUT_RCV) { /* unix: shutdown(SHUT_RD) ends accepting */
			r = -EINVAL;
			break;
		}
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = sock_wait(sk, &sk->wq, accept_ready, NULL, dl);
		if (r < 0)
			break;
	}
	net_unlock();
	return r;
}

void stream_pair(struct sock *a, struct sock *b)
{
	sock_hold(b);
	a->peer = b;
	sock_hold(a);
	b->peer = a;
	a->state = b->state = SS_CONNECTED;
	waitq_wake(&a->wq);
	waitq_wake(&b->wq);
}

size_t stream_send_limit(const struct sock *sk)
{
	if (sk->family == LINUX_AF_UNIX)
		return (size_t)sk->sndbuf;
	/* TCP: what the two buffers hold between them */
	return (size_t)sk->sndbuf + (sk->peer ? (size_t)sk->peer->rcvbuf : 0);
}

/* Can sk send now? 0, 1 (TCP: the peer is gone, this send is swallowed and resets), or -errno.
 * Lock held. */
static int send_check(struct sock *sk)
{
	if (sk->family == LINUX_AF_UNIX) {
		if (sk->state != SS_CONNECTED)
			return -ENOTCONN;
		if (sk->shut & SHUT_SEND)
			return -EPIPE;
		if (!sk->peer || sk->peer->dead || (sk->peer->shut & SHUT_RCV))
			return -EPIPE;
		return 0;
	}
	if (sk->err)
		return sock_error(sk);
	if (sk->shut & SHUT_SEND)
		return -EPIPE;
	if (sk->state != SS_CONNECTED && sk->state != SS_CONNECTING)
		return -EPIPE;
	if (!sk->peer)
		return sk->rst_pending ? 1 : -EPIPE;
	return 0;
}

static bool send_ready(struct sock *sk, void *arg)
{
	(void)arg;
	return send_check(sk) != 0 || sk->wmem < stream_send_limit(sk);
}

/* TCP data sent after the peer closed: the peer's stack answers with a reset. */
static void tcp_swallow_reset(struct sock *sk)
{
	sk->rst_pending = false;
	sk->err = EPIPE;
	sk->shut = SHUT_BOTH;
	sk->state = SS_CLOSED;
	waitq_wake(&sk->wq);
}

int net_make_skb(struct task *t, struct sock *sk, struct net_msg *m, size_t len, struct skb **out)
{
	struct skb *skb = skb_alloc(len);

	if (!skb)
		return -ENOMEM;
	if (len && net_iov_from(&m->iov, skb->data, len) < 0) {
		free(skb);
		return -EFAULT;
	}
	if (sk->family == LINUX_AF_UNIX) {
		skb->has_cred = true;
		skb->cred = (m->scm && m->scm->has_cred) ? m->scm->cred : net_task_cred(t);
		/* the sender's name as recvmsg reports it (unix_copy_addr) */
		net_lock();
		skb->from = sk->uaddr;
		net_unlock();
		if (m->scm && m->scm->nfiles) {
			skb->files = m->scm->files; /* the first buffer carries them */
			skb->nfiles = m->scm->nfiles;
			m->scm->files = NULL;
			m->scm->nfiles = 0;
		}
	}
	*out = skb;
	return 0;
}

ssize_t stream_send(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock,
		    bool record)
{
	size_t total = net_iov_left(&m->iov), sent = 0;
	struct timespec dlbuf;
	const struct timespec *dl;
	int r;

	(void)flags;
	net_lock();
	dl = sock_deadline(sk->sndtimeo_ns, &dlbuf);
	r = send_check(sk);
	if (r == 0 && record && total + 32 > (size_t)sk->sndbuf)
		r = -EMSGSIZE;
	if (r == 1) {
		tcp_swallow_reset(sk);
		r = (int)total;
	}
	net_unlock();
	if (r != 0 || (total == 0 && !record))
		return r;
	do {
		size_t chunk = total - sent;
		struct skb *skb;

		if (!record) {
			size_t max = sk->family == LINUX_AF_UNIX
					 ? (size_t)MAX(sk->sndbuf / 2 - 64, 512)
					 : 65536;
			chunk = MIN(chunk, MIN(max, (size_t)65536));
		}
		r = net_make_skb(t, sk, m, chunk, &skb);
		if (r < 0)
			return sent ? (ssize_t)sent : r;
		net_lock();
		for (;;) {
			r = send_check(sk);
			if (r == 1) {
				tcp_swallow_reset(sk);
				skb_free(skb);
				net_unlock();
				return (ssize_t)total;
			}
			if (r < 0)
				break;
			if (sk->wmem < stream_send_limit(sk))
				break;
			if (nonblock) {
				r = -EAGAIN;
				break;
			}
			r = sock_wait(sk, &sk->wq, send_ready, NULL, dl);
			if (r < 0)
				break;
		}
		if (r < 0) {
			skb_free(skb);
			net_unlock();
			return sent ? (ssize_t)sent : r;
		}
		skb_queue(sk->peer, skb, sk);
		if (sk->family != LINUX_AF_UNIX)
			net_lo_count(chunk);
		net_unlock();
		sent += chunk;
	} while (sent < total);
	return (ssize_t)sent;
}

void stream_disconnect(struct sock *sk, bool reset)
{
	struct sock *p = sk->peer;
	bool unread = sk->rcv_count > 0;

	if (!p)
		return;
	sk->peer = NULL;
	if (p->peer == sk) {
		p->peer = NULL;
		sock_put(sk);
	}
	if (sk->family == LINUX_AF_UNIX) {
		p->shut = SHUT_BOTH;
		if (unread || reset)
			p->err = ECONNRESET;
	} else if (unread || reset) {
		p->err = ECONNRESET;
		p->shut = SHUT_BOTH;
		p->fin = false;
		p->rst_pending = false;
		p->state = SS_CLOSED;
	} else {
		p->fin = true;
		p->shut |= SHUT_RCV;
		p->rst_pending = true;
	}
	waitq_wake(&p->wq);
	sock_put(p);
}

void stream_release_listener(struct sock *sk)
{
	while (!list_empty(&sk->acceptq)) {
		struct sock *child = list_entry(sk->acceptq.next, struct sock, accept_link);

		list_del(&child->accept_link);
		list_init(&child->accept_link);
		sk->acceptq_len--;
		child->dead = true;
		stream_disconnect(child, true);
		if (child->ops->release)
			child->ops->release(child);
		sock_unlist(child);
		sock_put(child);
	}
	waitq_wake(&sk->wq);
}
