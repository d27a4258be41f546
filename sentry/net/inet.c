/* AF_INET and AF_INET6 sockets on the sandbox's only interface, lo: creation, bind and the
 * port tables (scans of the socket list), names, and the SOL_IP/SOL_IPV6 options. TCP and UDP
 * themselves are in tcp.c and udp.c. A v6 socket without IPV6_V6ONLY also takes v4 traffic,
 * seen as v4-mapped addresses (::ffff:127.0.0.1). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/inet.h"

static bool is_inet(const struct sock *sk)
{
	return sk->family == LINUX_AF_INET || sk->family == LINUX_AF_INET6;
}

/* ---- address sets: which local addresses a bound socket covers ---- */

struct aset {
	bool all4, all6, one4, one6;
	uint8_t a[16];
};

static struct aset aset_of(const struct sock *sk, const uint8_t addr[16])
{
	struct aset s = {0};

	memcpy(s.a, addr, 16);
	if (inet_is_v4(addr)) {
		if (inet_is_any4(addr))
			s.all4 = true;
		else
			s.one4 = true;
	} else if (inet_is_any6(addr)) {
		s.all6 = true;
		s.all4 = !sk->v6only;
	} else {
		s.one6 = true;
	}
	return s;
}

static bool aset_overlap(const struct aset *x, const struct aset *y)
{
	if ((x->all4 && (y->all4 || y->one4)) || (y->all4 && x->one4))
		return true;
	if ((x->all6 && (y->all6 || y->one6)) || (y->all6 && x->one6))
		return true;
	if ((x->one4 && y->one4) || (x->one6 && y->one6))
		return memcmp(x->a, y->a, 16) == 0;
	return false;
}

bool inet_addr_match(const struct sock *sk, const uint8_t dst[16])
{
	const uint8_t *l = sk->local.addr;

	if (inet_is_v4(dst)) {
		if (sk->family == LINUX_AF_INET6 && sk->v6only)
			return false;
		if (sk->family == LINUX_AF_INET6 && inet_is_any6(l))
			return true;
		return inet_is_any4(l) || memcmp(l, dst, 16) == 0;
	}
	if (sk->family != LINUX_AF_INET6)
		return false;
	return inet_is_any6(l) || memcmp(l, dst, 16) == 0;
}

bool inet_port_conflict(const struct sock *sk, const uint8_t addr[16], uint16_t port)
{
	struct aset mine = aset_of(sk, addr);
	struct sock *o;

	for_each_sock(o)
	{
		if (o == sk || !is_inet(o) || o->dead || !o->bound || o->type != sk->type ||
		    o->local.port != port)
			continue;
		struct aset theirs = aset_of(o, o->local.addr);
		if (!aset_overlap(&mine, &theirs))
			continue;
		if (sk->reuseaddr && o->reuseaddr &&
		    (sk->type == LINUX_SOCK_DGRAM || o->state != SS_LISTEN))
			continue;
		if (sk->reuseport && o->reuseport && sk->uid == o->uid)
			continue;
		return true;
	}
	return false;
}

uint16_t inet_pick_port(const struct sock *sk, bool for_bind)
{
	static uint64_t used[65536 / 64]; /* net lock held */
	static uint32_t counter;
	struct timespec ts;
	struct sock *o;

	memset(used, 0, sizeof(used));
	for_each_sock(o)
	{
		if (is_inet(o) && o->bound && o->type == sk->type)
			used[o->local.port / 64] |= 1ULL << (o->local.port % 64);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	counter += 2654435761u;
	return net_port_pick(used, counter ^ (uint32_t)ts.tv_nsec, NET_EPHEMERAL_LO,
			     NET_EPHEMERAL_HI, for_bind ? 1 : 0);
}

int inet_autobind(struct sock *sk)
{
	uint16_t port;

	if (sk->bound)
		return 0;
	port = inet_pick_port(sk, false);
	if (!port)
		return -EADDRNOTAVAIL;
	sk->local.port = port;
	sk->bound = true;
	return 0;
}

void inet_unbind_auto(struct sock *sk)
{
	if (!sk->bound_addr) {
		memset(sk->local.addr, 0, 16);
		if (sk->family == LINUX_AF_INET)
			inet_set_v4(sk->local.addr, 0);
	}
	if (!sk->bound_port) { /* a port bind() was asked for stays; one picked goes back */
		sk->local.port = 0;
		sk->bound = false;
	}
}

struct sock *inet_alloc(int family, int type, int protocol)
{
	bool tcp = type == LINUX_SOCK_STREAM;
	struct sock *sk = sock_alloc(family, type, protocol, tcp ? &tcp_ops : &udp_ops);

	if (!sk)
		return NULL;
	if (tcp) {
		sk->sndbuf = NET_TCP_WMEM_DEFAULT;
		sk->rcvbuf = NET_TCP_RMEM_DEFAULT;
	}
	if (family == LINUX_AF_INET)
		inet_set_v4(sk->local.addr, 0);
	return sk;
}

int inet_create(struct task *t, int family, int type, int protocol, struct sock **out)
{
	(void)t;
	switch (type) {
	case LINUX_SOCK_STREAM:
		if (protocol != 0 && protocol != LINUX_IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		protocol = LINUX_IPPROTO_TCP;
		break;
	case LINUX_SOCK_DGRAM:
		if (protocol == LINUX_IPPROTO_ICMP || protocol == LINUX_IPPROTO_ICMPV6)
			return -EACCES; /* ping sockets: net.ipv4.ping_group_range is "1 0" */
		if (protocol != 0 && protocol != LINUX_IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		protocol = LINUX_IPPROTO_UDP;
		break;
	case LINUX_SOCK_RAW:
		return -EPERM; /* no raw sockets: no CAP_NET_RAW in the sandbox */
	default:
		return -ESOCKTNOSUPPORT;
	}
	*out = inet_alloc(family, type, protocol);
	return *out ? 0 : -ENOMEM;
}

int inet_bind(struct task *t, struct sock *sk, const struct net_addr *addr)
{
	struct inet_ep ep;
	int r = inet_parse(addr, sk->family, true, &ep);

	if (r < 0)
		return r;
	net_lock();
	r = inet_local_ok(ep.addr, inet_v6(sk), sk->v6only);
	if (r < 0)
		goto out;
	if (sk->bound || sk->state != SS_CLOSED) {
		r = -EINVAL;
		goto out;
	}
	if (ep.port && ep.port < 1024 && t && t->cred.euid != 0) {
		r = -EACCES;
		goto out;
	}
	sk->bound_port = ep.port != 0;
	if (!ep.port) {
		ep.port = inet_pick_port(sk, true);
		if (!ep.port) {
			r = -EADDRINUSE;
			goto out;
		}
	} else if (inet_port_conflict(sk, ep.addr, ep.port)) {
		r = -EADDRINUSE;
		goto out;
	}
	sk->local = ep;
	sk->bound = true;
	sk->bound_addr = !inet_is_any6(ep.addr) && !inet_is_any4(ep.addr);
out:
	net_unlock();
	return r;
}

int inet_getname(struct sock *sk, struct net_addr *out, bool peer)
{
	int r = 0;

	net_lock();
	if (peer) {
		bool connected =
		    sk->has_remote &&
		    (sk->state == SS_CONNECTED || (sk->state == SS_CONNECTING && !sk->conn_failed));
		if (!connected)
			r = -ENOTCONN;
		else
			inet_format(sk->family, &sk->remote, out);
	} else {
		inet_format(sk->family, &sk->local, out);
	}
	net_unlock();
	return r;
}

/* ---- SOL_IP / SOL_IPV6 ---- */

static int ip_int(const void *val, unsigned len, int *v)
{
	/* IP options take an int or a single byte */
	if (len >= sizeof(int)) {
		memcpy(v, val, sizeof(int));
		return 0;
	}
	if (len >= 1) {
		*v = *(const unsigned char *)val;
		return 0;
	}
	return -EINVAL;
}

int inet_setsockopt_ip(struct sock *sk, int level, int name, const void *val, unsigned len)
{
	int v, r;

	if (level == LINUX_IPPROTO_IP) {
		switch (name) {
		case LINUX_IP_TOS:
		case LINUX_IP_TTL:
		case LINUX_IP_RECVERR:
		case LINUX_IP_PKTINFO:
		case LINUX_IP_MTU_DISCOVER:
		case LINUX_IP_RECVTTL:
		case LINUX_IP_RECVTOS:
		case LINUX_IP_FREEBIND:
		case LINUX_IP_BIND_ADDRESS_NO_PORT:
		case LINUX_IP_MULTICAST_TTL:
		case LINUX_IP_MULTICAST_LOOP:
		case LINUX_IP_RECVOPTS:
			break;
		default:
			return -ENOPROTOOPT;
		}
		r = ip_int(val, len, &v);
		if (r < 0)
			return r;
		if (name == LINUX_IP_TTL && (v < -1 || v == 0 || v > 255))
			return -EINVAL;
		if (name == LINUX_IP_MTU_DISCOVER && (v < 0 || v > 5))
			return -EINVAL;
		net_lock();
		r = sock_opt_store(sk, level, name, v);
		net_unlock();
		return r;
	}
	if (level != LINUX_IPPROTO_IPV6 || !inet_v6(sk))
		return -ENOPROTOOPT;
	switch (name) {
	case LINUX_IPV6_V6ONLY:
	case LINUX_IPV6_UNICAST_HOPS:
	case LINUX_IPV6_MULTICAST_HOPS:
	case LINUX_IPV6_MULTICAST_LOOP:
	case LINUX_IPV6_RECVPKTINFO:
	case LINUX_IPV6_RECVTCLASS:
	case LINUX_IPV6_TCLASS:
		break;
	default:
		return -ENOPROTOOPT;
	}
	r = sockopt_int(val, len, &v);
	if (r < 0)
		return r;
	net_lock();
	if (name == LINUX_IPV6_V6ONLY) {
		if (sk->bound)
			r = -EINVAL;
		else
			sk->v6only = v != 0;
	} else if ((name == LINUX_IPV6_UNICAST_HOPS || name == LINUX_IPV6_MULTICAST_HOPS) &&
		   (v < -1 || v > 255)) {
		r = -EINVAL;
	} else {
		r = sock_opt_store(sk, level, name, v);
	}
	net_unlock();
	return r;
}

int inet_getsockopt_ip(struct sock *sk, int level, int name, void *val, unsigned *len)
{
	int v = 0;

	net_lock();
	if (level == LINUX_IPPROTO_IP) {
		switch (name) {
		case LINUX_IP_TTL:
			if (!sock_opt_load(sk, level, name, &v) || v == -1)
				v = 64;
			break;
		case LINUX_IP_MTU:
			if (sk->state != SS_CONNECTED && sk->state != SS_CONNECTING &&
			    !sk->has_remote) {
				net_unlock();
				return -ENOTCONN;
			}
			v = NET_LO_MTU;
			break;
		case LINUX_IP_MTU_DISCOVER:
			v = sk->type == LINUX_SOCK_STREAM ? 1 : 1;
			sock_opt_load(sk, level, name, &v);
			break;
		case LINUX_IP_MULTICAST_TTL:
		case LINUX_IP_MULTICAST_LOOP:
			v = 1;
			sock_opt_load(sk, level, name, &v);
			break;
		case LINUX_IP_TOS:
		case LINUX_IP_RECVERR:
		case LINUX_IP_PKTINFO:
		case LINUX_IP_RECVTTL:
		case LINUX_IP_RECVTOS:
		case LINUX_IP_FREEBIND:
		case LINUX_IP_BIND_ADDRESS_NO_PORT:
		case LINUX_IP_RECVOPTS:
			sock_opt_load(sk, level, name, &v);
			break;
		default:
			net_unlock();
			return -ENOPROTOOPT;
		}
	} else if (level == LINUX_IPPROTO_IPV6 && inet_v6(sk)) {
		switch (name) {
		case LINUX_IPV6_V6ONLY:
			v = sk->v6only;
			break;
		case LINUX_IPV6_UNICAST_HOPS:
			if (!sock_opt_load(sk, level, name, &v) || v == -1)
				v = 64;
			break;
		case LINUX_IPV6_MULTICAST_HOPS:
		case LINUX_IPV6_MULTICAST_LOOP:
			if (!sock_opt_load(sk, level, name, &v) || v == -1)
				v = 1;
			break;
		case LINUX_IPV6_RECVPKTINFO:
		case LINUX_IPV6_RECVTCLASS:
		case LINUX_IPV6_TCLASS:
			sock_opt_load(sk, level, name, &v);
			break;
		default:
			net_unlock();
			return -ENOPROTOOPT;
		}
	} else {
		net_unlock();
		return -EOPNOTSUPP;
	}
	net_unlock();
	return sockopt_put_int(val, len, v);
}
