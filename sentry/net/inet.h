/* Internals shared by the AF_INET/AF_INET6 files (inet.c, tcp.c, udp.c): the address tables
 * (scans of the socket list under the net lock) and option handling. */
#ifndef SENTRY_NET_INET_H
#define SENTRY_NET_INET_H

#include "sentry/net/net_impl.h"

#define UDP4_MAX_PAYLOAD 65507
#define UDP6_MAX_PAYLOAD 65527

extern const struct sock_ops tcp_ops;
extern const struct sock_ops udp_ops;

static inline bool inet_v6(const struct sock *sk) { return sk->family == LINUX_AF_INET6; }

/* Does a socket bound to sk->local receive traffic for dst? (lock held) */
bool inet_addr_match(const struct sock *sk, const uint8_t dst[16]);
/* Would sk bound to (addr, port) clash with a socket already there, as Linux's bind conflict
 * rules say (SO_REUSEADDR unless the other listens, SO_REUSEPORT with the same owner)? (lock
 * held) */
bool inet_port_conflict(const struct sock *sk, const uint8_t addr[16], uint16_t port);
/* A free ephemeral port for sk's protocol (lock held), odd ones first for bind(), even ones
 * for connect()/autobind; 0 when none is left. */
uint16_t inet_pick_port(const struct sock *sk, bool for_bind);
/* Give an unbound sk a local port (address unchanged). 0 or -EADDRNOTAVAIL. (lock held) */
int inet_autobind(struct sock *sk);
/* Undo an automatic binding after a failed connect or a disconnect (lock held). */
void inet_unbind_auto(struct sock *sk);
/* A new socket of sk's kind (family, type, protocol, ops, default buffers). No lock held. */
struct sock *inet_alloc(int family, int type, int protocol);

int inet_bind(struct task *t, struct sock *sk, const struct net_addr *addr);
int inet_getname(struct sock *sk, struct net_addr *out, bool peer);
/* SOL_IP and SOL_IPV6 options (both families share them as Linux's ipv6 code defers SOL_IP
 * to the v4 code). */
int inet_setsockopt_ip(struct sock *sk, int level, int name, const void *val, unsigned len);
int inet_getsockopt_ip(struct sock *sk, int level, int name, void *val, unsigned *len);

#endif
