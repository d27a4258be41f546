/* AF_NETLINK, NETLINK_ROUTE only, and only as far as programs ask about interfaces: link and
 * address dumps (RTM_GETLINK, RTM_GETADDR: what glibc's getifaddrs and if_nameindex send), a
 * single RTM_GETLINK, and an empty route dump. Any other request is answered with an
 * NLMSG_ERROR of EOPNOTSUPP; nothing is ever multicast. Replies are datagrams on the
 * requester's own receive queue, from the kernel (port id 0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/net_impl.h"

#define NL_MIN_TYPE 0x10
#define REPLY_MAX 8192

/* A reply being built. */
struct nlbuf {
	uint8_t data[REPLY_MAX];
	size_t len;
	size_t msg; /* offset of the message being built */
};

static void *nl_put(struct nlbuf *b, const void *p, size_t n)
{
	void *at;

	if (b->len + LINUX_NLMSG_ALIGN(n) > sizeof(b->data))
		return NULL;
	at = b->data + b->len;
	memset(at, 0, LINUX_NLMSG_ALIGN(n));
	if (p)
		memcpy(at, p, n);
	b->len += LINUX_NLMSG_ALIGN(n);
	return at;
}

static void nl_begin(struct nlbuf *b, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid)
{
	struct linux_nlmsghdr h = {0, type, flags, seq, pid};

	b->msg = b->len;
	nl_put(b, &h, sizeof(h));
}

static void nl_end(struct nlbuf *b)
{
	struct linux_nlmsghdr *h = (struct linux_nlmsghdr *)(b->data + b->msg);

	h->nlmsg_len = (uint32_t)(b->len - b->msg);
}

static void nl_attr(struct nlbuf *b, uint16_t type, const void *p, size_t n)
{
	struct linux_rtattr a = {(uint16_t)(sizeof(a) + n), type};
	uint8_t *at = nl_put(b, NULL, sizeof(a) + n);

	if (!at)
		return;
	memcpy(at, &a, sizeof(a));
	memcpy(at + sizeof(a), p, n);
}

static void nl_attr_u32(struct nlbuf *b, uint16_t type, uint32_t v) { nl_attr(b, type, &v, 4); }

static void link_msg(struct nlbuf *b, uint16_t flags, uint32_t seq, uint32_t pid)
{
	struct linux_ifinfomsg ifi = {
	    .ifi_family = LINUX_AF_UNSPEC,
	    .ifi_type = LINUX_ARPHRD_LOOPBACK,
	    .ifi_index = NET_LO_INDEX,
	    .ifi_flags = LINUX_IFF_UP | LINUX_IFF_LOOPBACK | LINUX_IFF_RUNNING | LINUX_IFF_LOWER_UP,
	};
	static const uint8_t hw[6];
	uint32_t stats[23] = {0}; /* struct rtnl_link_stats */
	uint64_t bytes, packets;
	uint8_t zero = 0;

	net_lo_stats(&bytes, &packets);
	stats[0] = stats[1] = (uint32_t)packets;
	stats[2] = stats[3] = (uint32_t)bytes;
	nl_begin(b, LINUX_RTM_NEWLINK, flags, seq, pid);
	nl_put(b, &ifi, sizeof(ifi));
	nl_attr(b, LINUX_IFLA_IFNAME, "lo", 3);
	nl_attr_u32(b, LINUX_IFLA_TXQLEN, 1000);
	nl_attr(b, LINUX_IFLA_OPERSTATE, &zero, 1);
	nl_attr(b, LINUX_IFLA_LINKMODE, &zero, 1);
	nl_attr_u32(b, LINUX_IFLA_MTU, NET_LO_MTU);
	nl_attr(b, LINUX_IFLA_QDISC, "noqueue", 8);
	nl_attr(b, LINUX_IFLA_ADDRESS, hw, sizeof(hw));
	nl_attr(b, LINUX_IFLA_BROADCAST, hw, sizeof(hw));
	nl_attr(b, LINUX_IFLA_STATS, stats, sizeof(stats));
	nl_end(b);
}

static void addr_msgs(struct nlbuf *b, int family, uint32_t seq, uint32_t pid)
{
	uint32_t cacheinfo[4] = {0xffffffffu, 0xffffffffu, 0, 0}; /* forever */
	uint32_t flags = LINUX_IFA_F_PERMANENT;

	if (family == LINUX_AF_UNSPEC || family == LINUX_AF_INET) {
		struct linux_ifaddrmsg ifa = {LINUX_AF_INET, 8, LINUX_IFA_F_PERMANENT,
					      LINUX_RT_SCOPE_HOST, NET_LO_INDEX};
		uint8_t a4[4] = {127, 0, 0, 1};
		nl_begin(b, LINUX_RTM_NEWADDR, LINUX_NLM_F_MULTI, seq, pid);
		nl_put(b, &ifa, sizeof(ifa));
		nl_attr(b, LINUX_IFA_ADDRESS, a4, 4);
		nl_attr(b, LINUX_IFA_LOCAL, a4, 4);
		nl_attr(b, LINUX_IFA_LABEL, "lo", 3);
		nl_attr_u32(b, LINUX_IFA_FLAGS, flags);
		nl_attr(b, LINUX_IFA_CACHEINFO, cacheinfo, sizeof(cacheinfo));
		nl_end(b);
	}
	if (family == LINUX_AF_UNSPEC || family == LINUX_AF_INET6) {
		struct linux_ifaddrmsg ifa = {LINUX_AF_INET6, 128, LINUX_IFA_F_PERMANENT,
					      LINUX_RT_SCOPE_HOST, NET_LO_INDEX};
		uint8_t a6[16] = {[15] = 1};
		nl_begin(b, LINUX_RTM_NEWADDR, LINUX_NLM_F_MULTI, seq, pid);
		nl_put(b, &ifa, sizeof(ifa));
		nl_attr(b, LINUX_IFA_ADDRESS, a6, 16);
		nl_attr(b, LINUX_IFA_CACHEINFO, cacheinfo, sizeof(cacheinfo));
		nl_attr_u32(b, LINUX_IFA_FLAGS, flags);
		nl_end(b);
	}
}

static void done_msg(struct nlbuf *b, uint32_t seq, uint32_t pid)
{
	int32_t zero = 0;

	nl_begin(b, LINUX_NLMSG_DONE, LINUX_NLM_F_MULTI, seq, pid);
	nl_put(b, &zero, sizeof(zero));
	nl_end(b);
}

/* NLMSG_ERROR for req: error 0 is an ACK. The request header is echoed. */
static void error_msg(struct nlbuf *b, const struct linux_nlmsghdr *req, int error, uint32_t pid)
{
	int32_t e = error;

	nl_begin(b, LINUX_NLMSG_ERROR, error ? 0 : LINUX_NLM_F_CAPPED, req->nlmsg_seq, pid);
	nl_put(b, &e, sizeof(e));
	nl_put(b, req, sizeof(*req));
	nl_end(b);
}

/* Answer one request into b. */
static void nl_request(struct nlbuf *b, const struct linux_nlmsghdr *h, const uint8_t *payload,
		       size_t plen, uint32_t pid)
{
	bool dump = (h->nlmsg_flags & LINUX_NLM_F_DUMP) == LINUX_NLM_F_DUMP;
	bool ack = h->nlmsg_flags & LINUX_NLM_F_ACK;

	switch (h->nlmsg_type) {
	case LINUX_RTM_GETLINK:
		if (dump) {
			link_msg(b, LINUX_NLM_F_MULTI, h->nlmsg_seq, pid);
			done_msg(b, h->nlmsg_seq, pid);
			return;
		}
		if (plen >= sizeof(struct linux_ifinfomsg)) {
			const struct linux_ifinfomsg *ifi = (const void *)payload;
			if (ifi->ifi_index != 0 && ifi->ifi_index != NET_LO_INDEX) {
				error_msg(b, h, -ENODEV, pid);
				return;
			}
		}
		link_msg(b, 0, h->nlmsg_seq, pid);
		if (ack)
			error_msg(b, h, 0, pid);
		return;
	case LINUX_RTM_GETADDR:
		if (dump) {
			int family = plen >= 1 ? payload[0] : LINUX_AF_UNSPEC;
			addr_msgs(b, family, h->nlmsg_seq, pid);
			done_msg(b, h->nlmsg_seq, pid);
			return;
		}
		break;
	case LINUX_RTM_GETROUTE:
		if (dump) {
			done_msg(b, h->nlmsg_seq, pid);
			return;
		}
		break;
	}
	error_msg(b, h, -EOPNOTSUPP, pid);
}

static int nl_autobind_locked(struct sock *sk, struct task *t)
{
	static int32_t next = -4096;
	struct sock *o;
	uint32_t want;
	bool taken;

	if (sk->nl_portid)
		return 0;
	want = t ? (uint32_t)t->tgid : 0;
	for (;;) {
		taken = want == 0;
		for_each_sock(o)
		{
			if (o != sk && o->family == LINUX_AF_NETLINK && !o->dead &&
			    o->nl_portid == want)
				taken = true;
		}
		if (!taken)
			break;
		want = (uint32_t)next--;
	}
	sk->nl_portid = want;
	return 0;
}

static int nl_bind(struct task *t, struct sock *sk, const struct net_addr *addr)
{
	struct sock *o;
	int r = 0;

	if (addr->len < sizeof(struct linux_sockaddr_nl) || addr->family != LINUX_AF_NETLINK)
		return -EINVAL;
	net_lock();
	if (addr->nl.nl_pid && sk->nl_portid && sk->nl_portid != addr->nl.nl_pid) {
		r = -EINVAL;
	} else if (addr->nl.nl_pid && !sk->nl_portid) {
		for_each_sock(o)
		{
			if (o != sk && o->family == LINUX_AF_NETLINK && !o->dead &&
			    o->nl_portid == addr->nl.nl_pid)
				r = -EADDRINUSE;
		}
		if (r == 0)
			sk->nl_portid = addr->nl.nl_pid;
	} else {
		r = nl_autobind_locked(sk, t);
	}
	if (r == 0)
		sk->nl_groups = addr->nl.nl_groups;
	net_unlock();
	return r;
}

static int nl_getname(struct sock *sk, struct net_addr *out, bool peer)
{
	out->len = sizeof(struct linux_sockaddr_nl);
	out->nl.nl_family = LINUX_AF_NETLINK;
	if (!peer) {
		net_lock();
		out->nl.nl_pid = sk->nl_portid;
		out->nl.nl_groups = sk->nl_groups;
		net_unlock();
	}
	return 0;
}

static int nl_connect(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock)
{
	(void)nonblock;
	if (addr->len >= sizeof(uint16_t) && addr->family == LINUX_AF_UNSPEC)
		return 0;
	if (addr->len < sizeof(struct linux_sockaddr_nl) || addr->family != LINUX_AF_NETLINK)
		return -EINVAL;
	if (addr->nl.nl_pid != 0)
		return -ECONNREFUSED; /* only the kernel answers here */
	net_lock();
	nl_autobind_locked(sk, t);
	net_unlock();
	return 0;
}

static ssize_t nl_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			  bool nonblock)
{
	size_t len = net_iov_left(&m->iov), off = 0;
	struct nlbuf *b;
	uint8_t *req;
	int r = 0;

	(void)flags;
	(void)nonblock;
	if (m->to && m->to->len) {
		if (m->to->len < sizeof(struct linux_sockaddr_nl) ||
		    m->to->family != LINUX_AF_NETLINK)
			return -EINVAL;
		if (m->to->nl.nl_pid != 0)
			return -ECONNREFUSED;
	}
	if (len + 32 > (size_t)sk->sndbuf)
		return -EMSGSIZE;
	req = malloc(len ? len : 1);
	b = malloc(sizeof(*b));
	if (!req || !b) {
		r = -ENOMEM;
		goto out;
	}
	if (net_iov_from(&m->iov, req, len) < 0) {
		r = -EFAULT;
		goto out;
	}
	net_lock();
	nl_autobind_locked(sk, t);
	uint32_t pid = sk->nl_portid;
	net_unlock();
	while (off + sizeof(struct linux_nlmsghdr) <= len) {
		struct linux_nlmsghdr h;

		memcpy(&h, req + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break;
		if ((h.nlmsg_flags & LINUX_NLM_F_REQUEST) && h.nlmsg_type >= NL_MIN_TYPE) {
			b->len = 0;
			nl_request(b, &h, req + off + sizeof(h), h.nlmsg_len - sizeof(h), pid);
			struct skb *skb = skb_alloc(b->len);
			if (skb) {
				memcpy(skb->data, b->data, b->len);
				skb->from.len = sizeof(struct linux_sockaddr_nl);
				skb->from.nl.nl_family = LINUX_AF_NETLINK;
				net_lock();
				skb_queue(sk, skb, NULL);
				net_unlock();
			}
		}
		off += LINUX_NLMSG_ALIGN(h.nlmsg_len);
	}
	r = (int)len;
out:
	free(req);
	free(b);
	return r;
}

static ssize_t nl_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			  bool nonblock)
{
	ssize_t r;

	(void)t;
	net_lock();
	r = sock_recv_queue(sk, m, flags, nonblock, false);
	net_unlock();
	return r;
}

static unsigned nl_poll(struct sock *sk)
{
	unsigned mask = LINUX_POLLOUT | LINUX_POLLWRNORM;

	if (sk->rcv_count)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (sk->err)
		mask |= LINUX_POLLERR;
	return mask;
}

static int nl_setsockopt(struct sock *sk, int level, int name, const void *val, unsigned len)
{
	int v;

	if (level != LINUX_SOL_NETLINK)
		return -ENOPROTOOPT;
	if (sockopt_int(val, len, &v) < 0)
		return -EINVAL;
	net_lock();
	int r = sock_opt_store(sk, level, name, v); /* NETLINK_EXT_ACK, GET_STRICT_CHK... */
	net_unlock();
	return r;
}

static int nl_getsockopt(struct sock *sk, int level, int name, void *val, unsigned *len)
{
	int v = 0;

	if (level != LINUX_SOL_NETLINK)
		return -ENOPROTOOPT;
	net_lock();
	sock_opt_load(sk, level, name, &v);
	net_unlock();
	return sockopt_put_int(val, len, v);
}

static void nl_release(struct sock *sk) { sock_purge(sk); }

static const struct sock_ops netlink_ops = {
    .bind = nl_bind,
    .connect = nl_connect,
    .sendmsg = nl_sendmsg,
    .recvmsg = nl_recvmsg,
    .getname = nl_getname,
    .poll = nl_poll,
    .setsockopt = nl_setsockopt,
    .getsockopt = nl_getsockopt,
    .release = nl_release,
};

int netlink_create(struct task *t, int type, int protocol, struct sock **out)
{
	(void)t;
	if (type != LINUX_SOCK_RAW && type != LINUX_SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != LINUX_NETLINK_ROUTE)
		return -EPROTONOSUPPORT;
	*out = sock_alloc(LINUX_AF_NETLINK, type, protocol, &netlink_ops);
	return *out ? 0 : -ENOMEM;
}
