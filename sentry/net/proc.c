/* Snapshots of the socket list for /proc/net/{tcp,tcp6,udp,udp6,unix} (sentry/fs/procfs_net.c
 * formats them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/net/net_impl.h"

#define TCP_ESTABLISHED 1
#define TCP_FIN_WAIT2 5
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LISTEN 10
#define LINUX_SS_UNCONNECTED 1
#define LINUX_SS_CONNECTED 3

static bool wanted(const struct sock *sk, enum net_proc_kind kind)
{
	switch (kind) {
	case NET_PROC_TCP:
	case NET_PROC_TCP6:
		if (sk->type != LINUX_SOCK_STREAM ||
		    sk->family != (kind == NET_PROC_TCP ? LINUX_AF_INET : LINUX_AF_INET6))
			return false;
		/* listeners and connections: what sits in Linux's lookup hashes */
		return sk->state == SS_LISTEN || sk->state == SS_CONNECTED ||
		       (sk->state == SS_CONNECTING && !sk->conn_failed);
	case NET_PROC_UDP:
	case NET_PROC_UDP6:
		return sk->type == LINUX_SOCK_DGRAM && sk->bound &&
		       sk->family == (kind == NET_PROC_UDP ? LINUX_AF_INET : LINUX_AF_INET6);
	case NET_PROC_UNIX:
		return sk->family == LINUX_AF_UNIX;
	}
	return false;
}

static void fill(const struct sock *sk, struct net_sock_info *i)
{
	memset(i, 0, sizeof(*i));
	i->family = sk->family;
	i->type = sk->type;
	i->ino = sk->ino;
	i->uid = sk->uid;
	/* what Linux shows: a listening unix socket 2, a TCP listener 1 */
	i->refs = sk->family == LINUX_AF_UNIX ? sk->refs + 1 : sk->refs;
	i->rxq = (uint32_t)sk->rcv_bytes;
	i->listening = sk->state == SS_LISTEN;
	if (sk->family == LINUX_AF_UNIX) {
		i->unix_state =
		    (sk->state == SS_CONNECTED) ? LINUX_SS_CONNECTED : LINUX_SS_UNCONNECTED;
		if (sk->bound && sk->uaddr.len > sizeof(uint16_t)) {
			size_t n = sk->uaddr.len - sizeof(uint16_t);
			if (n > sizeof(i->path) - 1)
				n = sizeof(i->path) - 1;
			memcpy(i->path, sk->uaddr.un.sun_path, n);
			if (i->path[0] == 0) {
				for (size_t k = 0; k < n; k++)
					if (i->path[k] == 0)
						i->path[k] = '@';
			} else {
				n = strnlen(i->path, n);
			}
			i->path[n] = 0;
			i->pathlen = n;
		}
		return;
	}
	memcpy(i->laddr, sk->local.addr, 16);
	i->lport = sk->local.port;
	if (sk->has_remote) {
		memcpy(i->raddr, sk->remote.addr, 16);
		i->rport = sk->remote.port;
	}
	i->v4 = sk->family == LINUX_AF_INET;
	if (sk->type == LINUX_SOCK_STREAM) {
		if (sk->state == SS_LISTEN)
			i->state = TCP_LISTEN;
		else if (sk->shut & SHUT_SEND)
			i->state = TCP_FIN_WAIT2;
		else if (sk->fin)
			i->state = TCP_CLOSE_WAIT;
		else
			i->state = TCP_ESTABLISHED;
		if (sk->state == SS_LISTEN)
			i->rxq = sk->acceptq_len;
	} else {
		i->state = sk->has_remote ? TCP_ESTABLISHED : TCP_CLOSE;
	}
}

int net_proc_snapshot(enum net_proc_kind kind, struct net_sock_info **out)
{
	struct net_sock_info *v = NULL;
	struct sock *sk;
	int n = 0, cap = 0;

	net_lock();
	for_each_sock(sk)
	{
		if (sk->dead || !wanted(sk, kind))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			struct net_sock_info *nv = realloc(v, (size_t)ncap * sizeof(*nv));
			if (!nv) {
				net_unlock();
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		fill(sk, &v[n++]);
	}
	net_unlock();
	*out = v;
	return n;
}
