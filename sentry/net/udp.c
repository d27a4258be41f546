/* UDP over the in-Sentry loopback: a datagram goes straight onto the receive queue of the socket
 * bound to its destination (the best match: connected to the sender, then exact address, then
 * wildcard), or is dropped when that queue is over SO_RCVBUF. With nobody there, a connected
 * sender gets ECONNREFUSED at its next call, as the ICMP port-unreachable of Linux's loopback
 * makes it; an unconnected one hears nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/inet.h"

/* The socket that receives dst:dport from src:sport, or NULL. Lock held. */
static struct sock *udp_lookup(const uint8_t dst[16], uint16_t dport, const uint8_t src[16],
			       uint16_t sport)
{
	struct sock *o, *best = NULL;
	int best_score = -1;

	for_each_sock(o)
	{
		if ((o->family != LINUX_AF_INET && o->family != LINUX_AF_INET6) ||
		    o->type != LINUX_SOCK_DGRAM || o->dead || !o->bound || o->local.port != dport ||
		    !inet_addr_match(o, dst))
			continue;
		int score = 0;
		if (o->has_remote) {
			if (o->remote.port != sport || memcmp(o->remote.addr, src, 16) != 0)
				continue;
			score += 8;
		}
		if (memcmp(o->local.addr, dst, 16) == 0)
			score += 4;
		if (inet_is_v4(dst) && o->family == LINUX_AF_INET)
			score += 1;
		if (score >= best_score) { /* ties: the one bound last, as Linux's hash chains */
			best = o;
			best_score = score;
		}
	}
	return best;
}

static int udp_connect(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock)
{
	struct inet_ep dst;
	uint8_t src[16];
	int r;

	(void)t;
	(void)nonblock;
	if (addr->len < sizeof(uint16_t))
		return -EINVAL;
	if (addr->family == LINUX_AF_UNSPEC) {
		net_lock();
		sk->has_remote = false;
		sk->state = SS_CLOSED;
		inet_unbind_auto(sk);
		net_unlock();
		return 0;
	}
	r = inet_parse(addr, sk->family, false, &dst);
	if (r < 0)
		return r;
	net_lock();
	r = inet_route(dst.addr, src, inet_v6(sk), sk->v6only);
	if (r == 0 && !sk->bound)
		r = inet_autobind(sk);
	if (r == 0) {
		if (!sk->bound_addr)
			memcpy(sk->local.addr, src, 16);
		sk->remote = dst;
		sk->has_remote = true;
		sk->state = SS_CONNECTED;
		sk->err = 0;
	}
	net_unlock();
	return r;
}

/* Where a datagram goes: the address passed, or the connected peer. */
static int udp_dest(struct sock *sk, const struct net_addr *to, struct inet_ep *dst)
{
	if (to && to->len) {
		struct net_addr a = *to;
		int r;

		if (to->len < sizeof(uint16_t))
			return -EINVAL;
		if (sk->family == LINUX_AF_INET && a.family == LINUX_AF_UNSPEC)
			a.family = LINUX_AF_INET; /* udp_sendmsg takes AF_UNSPEC as AF_INET */
		if (sk->family == LINUX_AF_INET6 && a.family == LINUX_AF_INET) {
			/* a v4 destination given to a dual-stack socket */
			if (a.len < sizeof(struct linux_sockaddr_in))
				return -EINVAL;
			r = inet_parse(&a, LINUX_AF_INET, false, dst);
		} else {
			r = inet_parse(&a, sk->family, false, dst);
		}
		if (r < 0)
			return r == -EAFNOSUPPORT && sk->family == LINUX_AF_INET6 ? -EINVAL : r;
		if (dst->port == 0)
			return -EINVAL;
		return 0;
	}
	if (!sk->has_remote)
		return -EDESTADDRREQ;
	*dst = sk->remote;
	return 1;
}

static ssize_t udp_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock)
{
	size_t len = net_iov_left(&m->iov);
	struct inet_ep dst, from;
	struct sock *target;
	struct skb *skb;
	bool connected;
	uint8_t src[16];
	int r;

	(void)t;
	(void)nonblock;
	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	if (len > (inet_v6(sk) ? UDP6_MAX_PAYLOAD : UDP4_MAX_PAYLOAD))
		return -EMSGSIZE;
	skb = skb_alloc(len);
	if (!skb)
		return -ENOMEM;
	if (len && net_iov_from(&m->iov, skb->data, len) < 0) {
		free(skb);
		return -EFAULT;
	}
	net_lock();
	r = udp_dest(sk, m->to, &dst);
	connected = r == 1;
	if (r < 0)
		goto fail;
	if (sk->err) {
		r = sock_error(sk);
		goto fail;
	}
	if (sk->shut & SHUT_SEND) {
		r = -EPIPE;
		goto fail;
	}
	r = inet_route(dst.addr, src, inet_v6(sk), sk->v6only);
	if (r < 0)
		goto fail;
	if (!sk->bound && (r = inet_autobind(sk)) < 0)
		goto fail;
	if (sk->bound_addr || (!inet_is_any6(sk->local.addr) && !inet_is_any4(sk->local.addr)))
		memcpy(from.addr, sk->local.addr, 16);
	else
		memcpy(from.addr, src, 16);
	from.port = sk->local.port;
	net_lo_count(len);
	target = udp_lookup(dst.addr, dst.port, from.addr, from.port);
	if (!target) {
		if (connected)
			sk->err = ECONNREFUSED; /* the port-unreachable answer */
		waitq_wake(&sk->wq);
		skb_free(skb);
	} else if (target->shut & SHUT_RCV || target->rcv_mem > (size_t)target->rcvbuf) {
		skb_free(skb); /* dropped, as a full socket buffer drops it */
	} else {
		inet_format(target->family, &from, &skb->from);
		skb_queue(target, skb, NULL);
	}
	net_unlock();
	return (ssize_t)len;
fail:
	skb_free(skb);
	net_unlock();
	return r;
}

static ssize_t udp_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock)
{
	ssize_t r;

	(void)t;
	if (flags & LINUX_MSG_OOB)
		return -EOPNOTSUPP;
	net_lock();
	r = sock_recv_queue(sk, m, flags, nonblock, false);
	net_unlock();
	return r;
}

static int udp_shutdown(struct sock *sk, unsigned mode)
{
	int r;

	net_lock();
	sk->shut |= mode; /* Linux marks it even when it answers ENOTCONN */
	r = sk->has_remote ? 0 : -ENOTCONN;
	waitq_wake(&sk->wq);
	net_unlock();
	return r;
}

static unsigned udp_poll(struct sock *sk)
{
	unsigned mask = LINUX_POLLOUT | LINUX_POLLWRNORM | LINUX_POLLWRBAND;

	if (sk->err)
		mask |= LINUX_POLLERR;
	if (sk->shut & SHUT_RCV)
		mask |= LINUX_POLLRDHUP | LINUX_POLLIN | LINUX_POLLRDNORM;
	if (sk->shut == SHUT_BOTH)
		mask |= LINUX_POLLHUP;
	if (sk->rcv_count)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	return mask;
}

static int udp_inq(struct sock *sk)
{
	if (list_empty(&sk->rcvq))
		return 0;
	return (int)list_entry(sk->rcvq.next, struct skb, link)->len;
}

static void udp_release(struct sock *sk) { sock_purge(sk); }

static int udp_setsockopt(struct sock *sk, int level, int name, const void *val, unsigned len)
{
	if (level == LINUX_SOL_UDP)
		return -ENOPROTOOPT;
	return inet_setsockopt_ip(sk, level, name, val, len);
}

static int udp_getsockopt(struct sock *sk, int level, int name, void *val, unsigned *len)
{
	if (level == LINUX_SOL_UDP)
		return -ENOPROTOOPT;
	return inet_getsockopt_ip(sk, level, name, val, len);
}

const struct sock_ops udp_ops = {
    .bind = inet_bind,
    .connect = udp_connect,
    .sendmsg = udp_sendmsg,
    .recvmsg = udp_recvmsg,
    .shutdown = udp_shutdown,
    .getname = inet_getname,
    .poll = udp_poll,
    .setsockopt = udp_setsockopt,
    .getsockopt = udp_getsockopt,
    .release = udp_release,
    .inq = udp_inq,
};
