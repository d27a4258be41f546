/* SOL_SOCKET options of every socket (Linux's sk_setsockopt/sk_getsockopt), and the small store
 * of integer options the Sentry records without acting on them. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/net/net_impl.h"

int sockopt_int(const void *val, unsigned len, int *out)
{
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

int sockopt_put_int(void *val, unsigned *len, int v)
{
	unsigned n = MIN(*len, (unsigned)sizeof(int));

	memcpy(val, &v, n);
	*len = n;
	return 0;
}

int sock_opt_store(struct sock *sk, int level, int name, int val)
{
	for (int i = 0; i < sk->nopts; i++) {
		if (sk->opts[i].level == level && sk->opts[i].name == name) {
			sk->opts[i].val = val;
			return 0;
		}
	}
	if (sk->nopts == SOCK_NOPTS)
		return -ENOMEM;
	sk->opts[sk->nopts++] = (struct sock_opt){level, name, val};
	return 0;
}

bool sock_opt_load(struct sock *sk, int level, int name, int *val)
{
	for (int i = 0; i < sk->nopts; i++) {
		if (sk->opts[i].level == level && sk->opts[i].name == name) {
			*val = sk->opts[i].val;
			return true;
		}
	}
	return false;
}

static bool privileged(struct task *t) { return !t || t->cred.euid == 0; }

/* struct timeval (old and new SO_*TIMEO are the same on x86-64) -> ns. 0: none. */
static int timeo_from(const void *val, unsigned len, int64_t *ns)
{
	struct linux_timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*ns = 1; /* Linux: a negative timeout is an immediate one */
		return 0;
	}
	if (tv.tv_sec > INT64_MAX / 2000000000)
		*ns = 0;
	else
		*ns = tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
	return 0;
}

static int setbuf(int *field, int v, int max, int min, bool force)
{
	/* Linux compares as u32: a negative size is a huge one */
	if (!force && (v < 0 || v > max))
		v = max;
	if (force && v < 0)
		v = 0;
	if (v > INT_MAX / 2)
		v = INT_MAX / 2;
	*field = MAX(v * 2, min);
	return 0;
}

int sock_setsockopt(struct task *t, struct sock *sk, int name, const void *val, unsigned len)
{
	int v = 0, r = 0;
	int64_t ns;

	switch (name) {
	case LINUX_SO_LINGER: {
		struct linux_linger lg;
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		net_lock();
		sk->linger = lg.l_onoff ? lg : (struct linux_linger){0, 0};
		net_unlock();
		return 0;
	}
	case LINUX_SO_RCVTIMEO_OLD:
	case LINUX_SO_RCVTIMEO_NEW:
	case LINUX_SO_SNDTIMEO_OLD:
	case LINUX_SO_SNDTIMEO_NEW:
		r = timeo_from(val, len, &ns);
		if (r < 0)
			return r;
		net_lock();
		if (name == LINUX_SO_RCVTIMEO_OLD || name == LINUX_SO_RCVTIMEO_NEW)
			sk->rcvtimeo_ns = ns;
		else
			sk->sndtimeo_ns = ns;
		net_unlock();
		return 0;
	case LINUX_SO_BINDTODEVICE: {
		char dev[LINUX_IFNAMSIZ] = {0};
		memcpy(dev, val, MIN(len, (unsigned)sizeof(dev) - 1));
		if (!privileged(t))
			return -EPERM;
		return (dev[0] == 0 || strcmp(dev, "lo") == 0) ? 0 : -ENODEV;
	}
	}
	r = sockopt_int(val, len, &v);
	if (r < 0)
		return r;
	net_lock();
	switch (name) {
	case LINUX_SO_DEBUG:
	case LINUX_SO_NO_CHECK:
	case LINUX_SO_PASSSEC:
	case LINUX_SO_TIMESTAMP_OLD:
	case LINUX_SO_TIMESTAMPNS_OLD:
	case LINUX_SO_RXQ_OVFL:
	case LINUX_SO_BUSY_POLL:
	case LINUX_SO_INCOMING_CPU:
	case LINUX_SO_ZEROCOPY:
	case LINUX_SO_PEEK_OFF:
		r = sock_opt_store(sk, LINUX_SOL_SOCKET, name, v);
		break;
	case LINUX_SO_REUSEADDR:
		sk->reuseaddr = v != 0;
		break;
	case LINUX_SO_REUSEPORT:
		if (v && sk->family != LINUX_AF_INET && sk->family != LINUX_AF_INET6)
			r = -EOPNOTSUPP;
		else
			sk->reuseport = v != 0;
		break;
	case LINUX_SO_KEEPALIVE:
		sk->keepalive = v != 0;
		break;
	case LINUX_SO_BROADCAST:
		sk->broadcast = v != 0;
		break;
	case LINUX_SO_OOBINLINE:
		sk->oobinline = v != 0;
		break;
	case LINUX_SO_DONTROUTE:
		sk->dontroute = v != 0;
		break;
	case LINUX_SO_PASSCRED:
		sk->passcred = v != 0;
		break;
	case LINUX_SO_SNDBUF:
	case LINUX_SO_SNDBUFFORCE:
		if (name == LINUX_SO_SNDBUFFORCE && !privileged(t))
			r = -EPERM;
		else
			setbuf(&sk->sndbuf, v, NET_WMEM_MAX, NET_MIN_SNDBUF,
			       name == LINUX_SO_SNDBUFFORCE);
		waitq_wake(&sk->wq);
		break;
	case LINUX_SO_RCVBUF:
	case LINUX_SO_RCVBUFFORCE:
		if (name == LINUX_SO_RCVBUFFORCE && !privileged(t))
			r = -EPERM;
		else
			setbuf(&sk->rcvbuf, v, NET_RMEM_MAX, NET_MIN_RCVBUF,
			       name == LINUX_SO_RCVBUFFORCE);
		break;
	case LINUX_SO_PRIORITY:
		if ((v < 0 || v > 6) && !privileged(t))
			r = -EPERM;
		else
			sk->priority = v;
		break;
	case LINUX_SO_MARK:
		if (!privileged(t))
			r = -EPERM;
		else
			sk->mark = v;
		break;
	case LINUX_SO_RCVLOWAT:
		sk->rcvlowat = v < 0 ? INT_MAX : (v ? v : 1);
		break;
	default:
		/* SO_TYPE, SO_ERROR, SO_PEERCRED, SO_SNDLOWAT... are read-only or unknown */
		r = -ENOPROTOOPT;
	}
	net_unlock();
	return r;
}

static int put_bytes(void *val, unsigned *len, const void *src, unsigned n)
{
	n = MIN(n, *len);
	memcpy(val, src, n);
	*len = n;
	return 0;
}

int sock_getsockopt(struct sock *sk, int name, void *val, unsigned *len)
{
	int v = 0, r = 0;

	net_lock();
	switch (name) {
	case LINUX_SO_LINGER:
		r = put_bytes(val, len, &sk->linger, sizeof(sk->linger));
		goto out;
	case LINUX_SO_RCVTIMEO_OLD:
	case LINUX_SO_RCVTIMEO_NEW:
	case LINUX_SO_SNDTIMEO_OLD:
	case LINUX_SO_SNDTIMEO_NEW: {
		bool rcv = name == LINUX_SO_RCVTIMEO_OLD || name == LINUX_SO_RCVTIMEO_NEW;
		int64_t ns = rcv ? sk->rcvtimeo_ns : sk->sndtimeo_ns;
		struct linux_timeval tv = {ns / 1000000000, (ns % 1000000000) / 1000};
		r = put_bytes(val, len, &tv, sizeof(tv));
		goto out;
	}
	case LINUX_SO_PEERCRED: {
		struct linux_ucred c = {0, (uint32_t)-1, (uint32_t)-1};
		if (sk->has_peercred)
			c = sk->peercred;
		r = put_bytes(val, len, &c, sizeof(c));
		goto out;
	}
	case LINUX_SO_BINDTODEVICE:
		*len = 0;
		goto out;
	case LINUX_SO_COOKIE: {
		uint64_t cookie = sk->seq;
		r = *len < sizeof(cookie) ? -EINVAL : put_bytes(val, len, &cookie, sizeof(cookie));
		goto out;
	}
	case LINUX_SO_PEERSEC:
		r = -ENOPROTOOPT;
		goto out;
	case LINUX_SO_TYPE:
		v = sk->type;
		break;
	case LINUX_SO_PROTOCOL:
		v = sk->protocol;
		break;
	case LINUX_SO_DOMAIN:
		v = sk->family;
		break;
	case LINUX_SO_ERROR:
		v = sk->err;
		sk->err = 0;
		break;
	case LINUX_SO_ACCEPTCONN:
		v = sk->state == SS_LISTEN;
		break;
	case LINUX_SO_REUSEADDR:
		v = sk->reuseaddr;
		break;
	case LINUX_SO_REUSEPORT:
		v = sk->reuseport;
		break;
	case LINUX_SO_KEEPALIVE:
		v = sk->keepalive;
		break;
	case LINUX_SO_BROADCAST:
		v = sk->broadcast;
		break;
	case LINUX_SO_OOBINLINE:
		v = sk->oobinline;
		break;
	case LINUX_SO_DONTROUTE:
		v = sk->dontroute;
		break;
	case LINUX_SO_PASSCRED:
		v = sk->passcred;
		break;
	case LINUX_SO_SNDBUF:
		v = sk->sndbuf;
		break;
	case LINUX_SO_RCVBUF:
		v = sk->rcvbuf;
		break;
	case LINUX_SO_PRIORITY:
		v = sk->priority;
		break;
	case LINUX_SO_MARK:
		v = sk->mark;
		break;
	case LINUX_SO_RCVLOWAT:
		v = sk->rcvlowat;
		break;
	case LINUX_SO_SNDLOWAT:
		v = 1;
		break;
	case LINUX_SO_BSDCOMPAT:
		v = 0;
		break;
	case LINUX_SO_PEEK_OFF:
	case LINUX_SO_INCOMING_CPU:
		v = -1;
		sock_opt_load(sk, LINUX_SOL_SOCKET, name, &v);
		break;
	case LINUX_SO_DEBUG:
	case LINUX_SO_NO_CHECK:
	case LINUX_SO_PASSSEC:
	case LINUX_SO_TIMESTAMP_OLD:
	case LINUX_SO_TIMESTAMPNS_OLD:
	case LINUX_SO_RXQ_OVFL:
	case LINUX_SO_BUSY_POLL:
	case LINUX_SO_ZEROCOPY:
		sock_opt_load(sk, LINUX_SOL_SOCKET, name, &v);
		break;
	default:
		r = -ENOPROTOOPT;
		goto out;
	}
	r = sockopt_put_int(val, len, v);
out:
	net_unlock();
	return r;
}
