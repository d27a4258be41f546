/* The Sentry's network stack as the rest of the Sentry sees it: sockets as open files, and the
 * calls the socket syscalls (sentry/syscalls/sys_socket.c) and /proc/net (procfs_net.c) make.
 *
 * With --network=none (the only mode so far) the sandbox has one interface, lo, and everything
 * lives in the Sentry: AF_UNIX sockets (stream, datagram, seqpacket; paths in the VFS and the
 * abstract namespace), TCP and UDP over 127.0.0.0/8 and ::1 as in-Sentry byte streams and
 * datagram queues, and a NETLINK_ROUTE socket that answers link and address dumps of lo. No host
 * socket is ever created.
 *
 * Every call returns 0/count or -errno. Calls that may block take `nonblock` (O_NONBLOCK of the
 * file, or MSG_DONTWAIT) and otherwise sleep interruptibly in the calling task (-ERESTARTSYS on
 * a signal, -EINTR instead when a SO_RCVTIMEO/SO_SNDTIMEO is set, -EAGAIN when it expires). */
#ifndef SENTRY_NET_NET_H
#define SENTRY_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "sentry/net/net_abi.h"

struct task;
struct file;
struct sock;

/* A socket address as the application passes it (struct sockaddr_*, at most
 * sizeof(struct sockaddr_storage) bytes). len 0: no address. */
struct net_addr {
	uint32_t len;
	union {
		uint16_t family;
		uint8_t bytes[LINUX_SOCKADDR_STORAGE];
		struct linux_sockaddr_un un;
		struct linux_sockaddr_in in;
		struct linux_sockaddr_in6 in6;
		struct linux_sockaddr_nl nl;
	};
};

/* Where the data of one send or receive is: guest iovecs of task t, or one Sentry buffer
 * (t NULL). The cursor (done) advances as bytes move. */
struct net_iov {
	struct task *t;
	const struct linux_iovec *iov;
	size_t niov;
	char *kbuf;
	size_t total; /* bytes described */
	size_t done;  /* bytes moved so far */
	size_t idx, off;
};

/* An iterator over guest iovecs (already checked and clamped, as import_iovec does). */
void net_iov_init_user(struct net_iov *it, struct task *t, const struct linux_iovec *iov,
		       size_t niov, size_t total);
/* An iterator over one Sentry buffer. */
void net_iov_init_kernel(struct net_iov *it, void *buf, size_t len);

/* Control data of a message: files (SCM_RIGHTS) and credentials (SCM_CREDENTIALS). */
struct net_scm {
	bool has_cred;
	struct linux_ucred cred;
	int nfiles;
	struct file **files; /* references; nfiles of them (malloc'd array) */
};

/* Release the files of scm (file_put each) and the array. No net lock may be held. */
void net_scm_release(struct net_scm *scm);

/* One message. For a send: iov, to (NULL: the connected peer) and scm (the caller's; files
 * the stack takes are removed from it, the caller releases the rest). For a receive: iov, from
 * (filled when not NULL; len 0 when the sender has no address), scm (filled with what came;
 * the caller releases it), want_cred (the socket has SO_PASSCRED: report scm's cred) and
 * flags_out (LINUX_MSG_TRUNC, LINUX_MSG_CTRUNC, LINUX_MSG_EOR). */
struct net_msg {
	struct net_iov iov;
	const struct net_addr *to;
	struct net_addr *from;
	struct net_scm *scm;
	bool want_cred;
	int flags_out;
};

/* ---- sockets and their files ---- */

/* socket(2): a new socket file (O_RDWR, plus O_NONBLOCK for SOCK_NONBLOCK in type) in *out.
 * -EAFNOSUPPORT, -ESOCKTNOSUPPORT, -EPROTONOSUPPORT, -EINVAL as Linux. */
int net_socket(struct task *t, int family, int type, int protocol, struct file **out);
/* socketpair(2): two connected AF_UNIX sockets. -EOPNOTSUPP for other families. */
int net_socketpair(struct task *t, int family, int type, int protocol, struct file **a,
		   struct file **b);
/* The socket of an open file, or NULL when f is not a socket (ENOTSOCK). No reference: valid
 * while the caller holds f. */
struct sock *file_sock(struct file *f);

/* The socket's address family (LINUX_AF_*). */
int net_sock_family(const struct sock *sk);

int net_bind(struct task *t, struct sock *sk, const struct net_addr *addr);
int net_listen(struct task *t, struct sock *sk, int backlog);
/* accept4: the connection in a new file (flags: LINUX_SOCK_NONBLOCK) and the peer's address
 * in *peer (may be NULL). */
int net_accept(struct task *t, struct sock *sk, int flags, bool nonblock, struct file **out,
	       struct net_addr *peer);
int net_connect(struct task *t, struct sock *sk, const struct net_addr *addr, bool nonblock);
/* The data count moved, or -errno. flags: LINUX_MSG_* as the application passed them.
 * -EPIPE is returned as is: raising SIGPIPE (unless MSG_NOSIGNAL) is the caller's job. */
ssize_t net_sendmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock);
ssize_t net_recvmsg(struct task *t, struct sock *sk, struct net_msg *m, int flags, bool nonblock);
int net_shutdown(struct sock *sk, int how);
/* getsockname (peer false) / getpeername (peer true). */
int net_getname(struct sock *sk, struct net_addr *out, bool peer);
/* setsockopt/getsockopt on Sentry buffers: val holds len bytes; get writes at most *len
 * bytes and sets *len to the size of the value, as Linux. */
int net_setsockopt(struct task *t, struct sock *sk, int level, int name, const void *val,
		   unsigned len);
int net_getsockopt(struct task *t, struct sock *sk, int level, int name, void *val, unsigned *len);

/* ---- the interface list (lo only), for ioctls, netlink and /proc/net/dev ---- */
#define NET_LO_INDEX 1
#define NET_LO_MTU 65536
/* Count one loopback packet of len bytes (received and sent: it is the same interface). */
void net_lo_count(size_t len);
void net_lo_stats(uint64_t *bytes, uint64_t *packets);
/* The SIOCGIF* and SIOCGIFCONF ioctls on any socket. -ENOTTY for other commands. */
long net_ifioctl(struct task *t, unsigned int cmd, uint64_t arg);

/* ---- /proc/net ---- */
enum net_proc_kind { NET_PROC_TCP, NET_PROC_TCP6, NET_PROC_UDP, NET_PROC_UDP6, NET_PROC_UNIX };

/* One socket as /proc/net shows it. */
struct net_sock_info {
	int family, type;
	int state;    /* Linux TCP state numbers (TCP_ESTABLISHED 1 ... TCP_LISTEN 10) */
	uint64_t ino; /* 0 for a connection not yet accepted */
	uint32_t uid;
	int refs;
	uint32_t rxq, txq; /* queued bytes */
	bool listening;
	uint8_t laddr[16], raddr[16]; /* inet: v6 form (v4 as ::ffff:a.b.c.d) */
	uint16_t lport, rport;
	bool v4;			    /* inet: shown in the v4 file (an AF_INET socket) */
	char path[LINUX_UNIX_PATH_MAX + 2]; /* unix: bound name, '@' for an abstract one */
	size_t pathlen;
	int unix_state; /* SS_* as /proc/net/unix prints it */
};

/* A snapshot of the sockets /proc/net/<kind> lists, in creation order: a malloc'd array in *out
 * (free it) and its count, or -ENOMEM. */
int net_proc_snapshot(enum net_proc_kind kind, struct net_sock_info **out);

#endif
