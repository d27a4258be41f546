/* Internals of the Sentry's network stack (sentry/net/): the socket object, message buffers,
 * the per-family ops, and the helpers the families share.
 *
 * Locking: one mutex, the net lock (net_lock/net_unlock), protects every socket's state,
 * queues and links, the address tables (which are scans of the socket list) and reference
 * counts. It is held only briefly: never across a sleep (sock_wait drops it), never across a
 * VFS path walk or an fd table change. Guest memory is copied under it (copy_in/copy_out take
 * no lock that can wait for the net lock). Files carried by SCM_RIGHTS are released with the
 * lock dropped (net_defer_fput): releasing a socket file takes the lock.
 *
 * References: the file of a socket holds one on it; so does a connected peer's `peer`, a
 * listener's accept queue for each connection in it, and each queued buffer on its sender
 * (owner, for the send-buffer accounting). sock_put frees the socket at zero. */
#ifndef SENTRY_NET_NET_IMPL_H
#define SENTRY_NET_NET_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/list.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h" /* LINUX_POLL* */
#include "sentry/net/net.h"

/* Defaults of /proc/sys/net as on Debian 12. */
#define NET_WMEM_DEFAULT 212992
#define NET_RMEM_DEFAULT 212992
#define NET_WMEM_MAX 212992
#define NET_RMEM_MAX 212992
#define NET_TCP_WMEM_DEFAULT 16384
#define NET_TCP_RMEM_DEFAULT 131072
#define NET_SOMAXCONN 4096
#define NET_MIN_SNDBUF 4608
#define NET_MIN_RCVBUF 2304
#define NET_UNIX_MAX_DGRAM_QLEN 10
#define NET_EPHEMERAL_LO 32768
#define NET_EPHEMERAL_HI 60999
/* What a buffer costs beyond its data (Linux's skb truesize overhead, roughly). */
#define NET_SKB_OVERHEAD 768

/* Connection state of a socket (both the BSD socket state and the TCP state it implies). */
enum sock_state {
	SS_CLOSED, /* unconnected (fresh, or after a failed connect or an abort) */
	SS_LISTEN,
	SS_CONNECTING, /* TCP: a non-blocking connect said EINPROGRESS; done or failed already */
	SS_CONNECTED,  /* connected once (the peer may be gone since: see shut/peer) */
};

#define SHUT_RCV 1u
#define SHUT_SEND 2u
#define SHUT_BOTH 3u

/* One message (datagram, seqpacket record) or one piece of a byte stream, on the receive queue
 * of its destination. */
struct skb {
	struct list_head link;
	struct sock *owner; /* the sender, charged truesize in its wmem (a reference), or NULL */
	size_t truesize;
	size_t len;	      /* data bytes */
	size_t off;	      /* stream: bytes already read */
	struct net_addr from; /* the sender's address (len 0: none) */
	bool has_cred;	      /* unix: the sender's credentials */
	struct linux_ucred cred;
	int nfiles; /* SCM_RIGHTS in flight (references) */
	struct file **files;
	char data[];
};

struct sock;

/* What a family does. Every op is called without the net lock held and takes it itself. NULL
 * means the operation is not supported (the generic code returns Linux's error). */
struct sock_ops {
	int (*bind)(struct task *t, struct sock *sk, const struct net_addr *addr);
	int (*listen)(struct task *t, struct sock *sk, int backlog);
	/* *out: the accepted socket with one reference. */
	int (*accept)(struct task *t, struct sock *sk, bool nonblock, struct sock **out);
	int (*connect)(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock);
	ssize_t (*sendmsg)(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock);
	ssize_t (*recvmsg)(struct task *t, struct sock *sk, struct net_msg *m, int flags,
			   bool nonblock);
	int (*shutdown)(struct sock *sk, unsigned mode);
	int (*getname)(struct sock *sk, struct net_addr *out, bool peer);
	/* Readiness (LINUX_POLL*), net lock held. */
	unsigned (*poll)(struct sock *sk);
	/* Options of levels other than SOL_SOCKET (and the SOL_SOCKET ones the family owns,
	 * returning -ENOPROTOOPT for the rest). */
	int (*setsockopt)(struct sock *sk, int level, int name, const void *val, unsigned len);
	int (*getsockopt)(struct sock *sk, int level, int name, void *val, unsigned *len);
	/* The file is gone: disconnect, unbind, drop queues. Net lock held. */
	void (*release)(struct sock *sk);
	/* FIONREAD/SIOCINQ (net lock held): bytes a read would see. NULL: the queued bytes. */
	int (*inq)(struct sock *sk);
};

/* An inet endpoint: address in v6 form (v4 as ::ffff:a.b.c.d) and port (host order). */
struct inet_ep {
	uint8_t addr[16];
	uint16_t port;
};

/* A small store for the integer options the Sentry only records (set -> get round trip). */
#define SOCK_NOPTS 16
struct sock_opt {
	int level, name, val;
};

struct sock {
	int refs;
	int family, type, protocol;
	const struct sock_ops *ops;
	uint64_t ino;	      /* of its sockfs inode, 0 before it has a file */
	uint32_t uid;	      /* the creator's fsuid */
	uint64_t seq;	      /* creation order */
	struct list_head all; /* g_net.socks; off it once released */
	struct waitq wq;      /* woken on any change of its state, queues or buffer space */
	bool dead;	      /* released (its file is gone) */

	enum sock_state state;
	unsigned shut;	   /* SHUT_* of this end */
	int err;	   /* pending error (SO_ERROR), positive */
	bool fin;	   /* TCP: the peer's FIN came (recv says EOF before any error) */
	bool conn_failed;  /* TCP: the non-blocking connect in progress was refused */
	bool rst_pending;  /* TCP: the peer is gone: the next send resets (EPIPE after) */
	struct sock *peer; /* connected peer, or unix dgram default destination (a reference) */

	struct list_head rcvq; /* struct skb */
	size_t rcv_bytes;      /* data bytes queued */
	size_t rcv_mem;	       /* truesize queued */
	unsigned rcv_count;
	size_t wmem; /* truesize of this socket's buffers still queued somewhere */

	/* listening */
	struct list_head acceptq; /* struct sock.accept_link: connections not yet accepted */
	unsigned acceptq_len;
	int backlog;
	struct list_head accept_link;

	/* options */
	int sndbuf, rcvbuf;
	bool reuseaddr, reuseport, keepalive, passcred, broadcast, oobinline, dontroute;
	bool v6only, nodelay, cork;
	struct linux_linger linger;
	int64_t rcvtimeo_ns, sndtimeo_ns; /* 0: none */
	int rcvlowat, priority, mark;
	int peek_off; /* -1: off */
	struct sock_opt opts[SOCK_NOPTS];
	int nopts;
	bool has_peercred;
	struct linux_ucred peercred; /* SO_PEERCRED */

	/* unix */
	struct net_addr uaddr;	    /* bound name (len 0: unbound) */
	uint64_t udev, uino;	    /* a path binding: its inode (st_dev, st_ino) */
	bool binding;		    /* a bind is creating the path now */
	struct net_addr upeer_addr; /* the peer's name at connect time (getpeername) */

	/* unix: holds its name in the namespace (not a copy, as an accepted socket's);
	 * inet: local.port assigned */
	bool bound;

	/* inet */
	bool bound_addr; /* bind() chose the address (connect keeps it) */
	bool bound_port; /* bind() chose the port (a disconnect keeps it) */
	struct inet_ep local, remote;
	bool has_remote;

	/* netlink */
	uint32_t nl_portid, nl_groups;
};

/* ---- the lock and deferred releases (sock.c) ---- */
void net_lock(void);
/* Drop the lock, then release the files queued by net_defer_fput meanwhile. */
void net_unlock(void);
/* file_put(f) once the net lock is dropped (lock held). */
void net_defer_fput(struct file *f);

/* ---- sockets (sock.c) ---- */
/* A new socket with one reference, on the socket list, or NULL. Defaults from the family:
 * buffer sizes set by the caller when not the unix ones. No lock held. */
struct sock *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops);
void sock_hold(struct sock *sk); /* lock held */
void sock_put(struct sock *sk);	 /* lock held */
/* Open a file on sk, taking over the caller's reference on success. flags: LINUX_O_NONBLOCK.
 * No lock held. */
int sock_make_file(struct sock *sk, int flags, struct file **out);
/* The socket's file is gone, or was never made: release the socket (no lock held). */
void sock_abandon_file(struct sock *sk);
/* Take sk off the socket list and wake everyone on it (lock held). */
void sock_unlist(struct sock *sk);
/* Iterate the live sockets (lock held). */
#define for_each_sock(sk)                                                                          \
	for (struct list_head *__p = g_net_socks.next;                                             \
	     __p != &g_net_socks && ((sk) = list_entry(__p, struct sock, all), 1);                 \
	     __p = __p->next)
extern struct list_head g_net_socks;
/* The task's credentials as SO_PEERCRED/SCM_CREDENTIALS give them. */
struct linux_ucred net_task_cred(struct task *t);

/* ---- buffers ---- */
/* A buffer for len data bytes, not charged to anyone yet. NULL on ENOMEM. No lock needed. */
struct skb *skb_alloc(size_t len);
/* Charge skb to owner (a reference) and append it to sk's receive queue (lock held). */
void skb_queue(struct sock *sk, struct skb *skb, struct sock *owner);
/* Unlink skb from sk's queue (lock held) and free it: uncharges and wakes its owner, defers
 * its files' release. */
void skb_consume(struct sock *sk, struct skb *skb);
/* Free an skb not on any queue (lock held). */
void skb_free(struct skb *skb);
/* Drop everything queued on sk (lock held). */
void sock_purge(struct sock *sk);

/* ---- data movement ---- */
/* Copy n bytes between the iterator's cursor and buf: 0 or -EFAULT (cursor unchanged then). */
int net_iov_from(struct net_iov *it, void *dst, size_t n);
int net_iov_to(struct net_iov *it, const void *src, size_t n);
static inline size_t net_iov_left(const struct net_iov *it) { return it->total - it->done; }

/* ---- sleeping ---- */
typedef bool (*sock_cond_fn)(struct sock *sk, void *arg);
/* Sleep (lock held, dropped meanwhile) on wq until cond(sk, arg) holds (it is evaluated with
 * the lock taken), a signal comes or the deadline passes. 0, -ERESTARTSYS/-EINTR (timeo
 * set) or -EAGAIN (the deadline passed). deadline: CLOCK_MONOTONIC, NULL none. */
int sock_wait(struct sock *sk, struct waitq *wq, sock_cond_fn cond, void *arg,
	      const struct timespec *deadline);
/* The deadline of a SO_RCVTIMEO/SO_SNDTIMEO of ns (0: none -> NULL). */
const struct timespec *sock_deadline(int64_t ns, struct timespec *buf);

/* The generic receive loop on sk's queue (lock held). stream: bytes across buffers (stop after
 * one carrying files, and at a change of sender with SO_PASSCRED); else one record per call
 * (the rest dropped, MSG_TRUNC reported). Handles MSG_PEEK, MSG_WAITALL, MSG_TRUNC, blocking,
 * the pending error and EOF (RCV shutdown). peek/err order as the family says: fin_first
 * (TCP: EOF after a FIN wins over a pending error). */
ssize_t sock_recv_queue(struct sock *sk, struct net_msg *m, int flags, bool nonblock, bool stream);

/* Take a pending error (lock held): -err and clear it, or 0. */
static inline int sock_error(struct sock *sk)
{
	int e = sk->err;

	sk->err = 0;
	return -e;
}

/* ---- generic options (sockopt.c) ---- */
int sock_setsockopt(struct task *t, struct sock *sk, int name, const void *val, unsigned len);
int sock_getsockopt(struct sock *sk, int name, void *val, unsigned *len);
/* Record/read an integer option the Sentry does not act on (lock held). */
int sock_opt_store(struct sock *sk, int level, int name, int val);
bool sock_opt_load(struct sock *sk, int level, int name, int *val);
/* Read an int option value (len >= 4, or 1 byte as Linux allows for some): 0 or -EINVAL. */
int sockopt_int(const void *val, unsigned len, int *out);
/* Write an int option value: copies min(*len, 4) bytes, sets *len. */
int sockopt_put_int(void *val, unsigned *len, int v);

/* ---- connection-oriented helpers (stream.c): unix stream/seqpacket and TCP ---- */
/* listen: state and backlog (lock held). */
void stream_listen_locked(struct sock *sk, int backlog);
/* Is the accept queue full (more than backlog waiting)? */
bool stream_acceptq_full(const struct sock *sk);
/* Queue the server end `child` of a new connection on listener (lock held): takes the
 * caller's reference; wakes the listener. */
void stream_enqueue_child(struct sock *listener, struct sock *child);
/* accept: wait for a queued connection and dequeue it (*out has the queue's reference). */
int stream_accept(struct sock *sk, bool nonblock, struct sock **out);
/* Pair a and b as connected peers (lock held). */
void stream_pair(struct sock *a, struct sock *b);
/* Send on a connected stream/seqpacket socket (no lock held): record = one skb per call
 * (at most sndbuf - 32 bytes, else -EMSGSIZE). Families check the connection first. */
ssize_t stream_send(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock,
		    bool record);
/* A buffer for the next len bytes of m, filled from the application (no lock held). unix: with
 * the sender's credentials (or m's SCM_CREDENTIALS) and name, and m's files (moved out of
 * m->scm). 0, -ENOMEM or -EFAULT. */
int net_make_skb(struct task *t, struct sock *sk, struct net_msg *m, size_t len, struct skb **out);
/* Release a listener's pending connections (lock held). */
void stream_release_listener(struct sock *sk);
/* Disconnect sk from its peer because sk's file is gone (lock held). reset: the peer sees
 * ECONNRESET. unix: the peer is shut both ways; TCP: FIN (or RST when reset). */
void stream_disconnect(struct sock *sk, bool reset);
/* Bytes sk may have in flight before a send blocks. */
size_t stream_send_limit(const struct sock *sk);

/* ---- families ---- */
int unix_create(struct task *t, int type, int protocol, struct sock **out);
int unix_pair(struct task *t, int type, int protocol, struct sock **a, struct sock **b);
int inet_create(struct task *t, int family, int type, int protocol, struct sock **out);
int netlink_create(struct task *t, int type, int protocol, struct sock **out);

/* ---- pure address helpers (addr.c), unit-tested ---- */
/* Parse an AF_INET/AF_INET6 address for a socket of family sock_family into ep. For AF_INET
 * sockets AF_UNSPEC is taken as AF_INET when allow_unspec. -EINVAL (short), -EAFNOSUPPORT. */
int inet_parse(const struct net_addr *a, int sock_family, bool allow_unspec, struct inet_ep *ep);
/* Fill out with ep as a sockaddr of family (AF_INET needs a v4-mapped ep). */
void inet_format(int family, const struct inet_ep *ep, struct net_addr *out);
bool inet_is_v4(const uint8_t a[16]);	 /* ::ffff:a.b.c.d */
bool inet_is_any6(const uint8_t a[16]);	 /* :: */
bool inet_is_any4(const uint8_t a[16]);	 /* ::ffff:0.0.0.0 */
bool inet_is_loop6(const uint8_t a[16]); /* ::1 */
bool inet_is_loop4(const uint8_t a[16]); /* ::ffff:127.x.x.x */
void inet_set_v4(uint8_t a[16], uint32_t host_order);
uint32_t inet_get_v4(const uint8_t a[16]); /* host order */
/* May a socket bind to addr (a local address: loopback or wildcard)? 0 or -EADDRNOTAVAIL.
 * v6sock: an AF_INET6 socket; v6only: its IPV6_V6ONLY. */
int inet_local_ok(const uint8_t addr[16], bool v6sock, bool v6only);
/* Route a destination: dst rewritten (wildcard -> loopback), src the source the route gives.
 * 0, or -ENETUNREACH for anything that is not loopback (the sandbox has only lo). */
int inet_route(uint8_t dst[16], uint8_t src[16], bool v6sock, bool v6only);
/* Pick a port in [lo, hi] whose bit in used (65536 bits) is clear, starting at an offset from
 * seed, ports of parity `parity` (0 even, 1 odd, -1 either) first as Linux does (bind() takes
 * odd ones, connect() even ones); 0 when every one is taken. */
uint16_t net_port_pick(const uint64_t *used, uint32_t seed, uint16_t lo, uint16_t hi, int parity);

/* A unix address, parsed. */
enum unix_kind { UNIX_AUTOBIND, UNIX_ABSTRACT, UNIX_PATH };
struct unix_name {
	enum unix_kind kind;
	uint32_t len; /* normalised address length (offsetof sun_path + name) */
	char path[LINUX_UNIX_PATH_MAX + 1]; /* UNIX_PATH: NUL-terminated */
};
/* Parse an AF_UNIX address (bind/connect/sendto). -EINVAL as Linux (bad family or length). */
int unix_parse(const struct net_addr *a, struct unix_name *out);

#endif
