/* Sockets: the object and its life, its file (sockfs inode, file ops), the net lock, message
 * buffers and their send-buffer accounting, sleeping, and the generic receive loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/net/net_impl.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"

struct list_head g_net_socks = LIST_HEAD_INIT(g_net_socks);
static pthread_mutex_t g_net_mutex = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_sock_seq;

/* Files to release once the lock is dropped (net_defer_fput). */
static struct file **g_deferred;
static size_t g_ndeferred, g_deferred_cap;

void net_lock(void) { pthread_mutex_lock(&g_net_mutex); }

void net_unlock(void)
{
	struct file **list = g_deferred;
	size_t n = g_ndeferred;

	g_deferred = NULL;
	g_ndeferred = g_deferred_cap = 0;
	pthread_mutex_unlock(&g_net_mutex);
	for (size_t i = 0; i < n; i++)
		file_put(list[i]);
	free(list);
}

void net_defer_fput(struct file *f)
{
	if (g_ndeferred == g_deferred_cap) {
		size_t cap = g_deferred_cap ? g_deferred_cap * 2 : 16;
		struct file **n = realloc(g_deferred, cap * sizeof(*n));
		if (!n) {
			log_warn("net: out of memory releasing a passed file: leaked");
			return;
		}
		g_deferred = n;
		g_deferred_cap = cap;
	}
	g_deferred[g_ndeferred++] = f;
}

void net_scm_release(struct net_scm *scm)
{
	if (!scm)
		return;
	for (int i = 0; i < scm->nfiles; i++)
		file_put(scm->files[i]);
	free(scm->files);
	scm->files = NULL;
	scm->nfiles = 0;
}

struct linux_ucred net_task_cred(struct task *t)
{
	if (!t)
		return (struct linux_ucred){0, (uint32_t)-1, (uint32_t)-1};
	return (struct linux_ucred){(uint32_t)t->tgid, t->cred.euid, t->cred.egid};
}

/* ---- the socket object ---- */

struct sock *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops)
{
	struct sock *sk = calloc(1, sizeof(*sk));

	if (!sk)
		return NULL;
	sk->refs = 1;
	sk->family = family;
	sk->type = type;
	sk->protocol = protocol;
	sk->ops = ops;
	sk->uid = current_task ? current_task->cred.fsuid : 0;
	waitq_init(&sk->wq);
	list_init(&sk->rcvq);
	list_init(&sk->acceptq);
	list_init(&sk->accept_link);
	sk->sndbuf = NET_WMEM_DEFAULT;
	sk->rcvbuf = NET_RMEM_DEFAULT;
	sk->rcvlowat = 1;
	sk->peek_off = -1;
	net_lock();
	sk->seq = ++g_sock_seq;
	list_add_tail(&sk->all, &g_net_socks);
	net_unlock();
	return sk;
}

void sock_hold(struct sock *sk) { sk->refs++; }

void sock_unlist(struct sock *sk)
{
	if (sk->all.next != &sk->all) {
		list_del(&sk->all);
		list_init(&sk->all);
	}
	waitq_wake(&sk->wq);
}

void sock_put(struct sock *sk)
{
	if (!sk || --sk->refs > 0)
		return;
	sock_purge(sk);
	if (sk->peer) {
		struct sock *p = sk->peer;
		sk->peer = NULL;
		sock_put(p);
	}
	sock_unlist(sk);
	free(sk);
}

void sock_abandon_file(struct sock *sk)
{
	net_lock();
	sk->dead = true;
	if (sk->ops->release)
		sk->ops->release(sk);
	sock_unlist(sk);
	sock_put(sk);
	net_unlock();
}

/* ---- buffers ---- */

struct skb *skb_alloc(size_t len)
{
	struct skb *skb = malloc(sizeof(*skb) + len);

	if (!skb)
		return NULL;
	memset(skb, 0, sizeof(*skb));
	skb->len = len;
	skb->truesize = len + NET_SKB_OVERHEAD;
	return skb;
}

void skb_queue(struct sock *sk, struct skb *skb, struct sock *owner)
{
	if (owner) {
		sock_hold(owner);
		skb->owner = owner;
		owner->wmem += skb->truesize;
	}
	list_add_tail(&skb->link, &sk->rcvq);
	sk->rcv_bytes += skb->len - skb->off;
	sk->rcv_mem += skb->truesize;
	sk->rcv_count++;
	waitq_wake(&sk->wq);
}

void skb_free(struct skb *skb)
{
	if (skb->owner) {
		struct sock *o = skb->owner;
		o->wmem -= skb->truesize;
		waitq_wake(&o->wq);
		sock_put(o);
	}
	for (int i = 0; i < skb->nfiles; i++)
		net_defer_fput(skb->files[i]);
	free(skb->files);
	free(skb);
}

void skb_consume(struct sock *sk, struct skb *skb)
{
	list_del(&skb->link);
	sk->rcv_bytes -= skb->len - skb->off;
	sk->rcv_mem -= skb->truesize;
	sk->rcv_count--;
	skb_free(skb);
}

void sock_purge(struct sock *sk)
{
	while (!list_empty(&sk->rcvq))
		skb_consume(sk, list_entry(sk->rcvq.next, struct skb, link));
}

/* ---- data movement ---- */

void net_iov_init_user(struct net_iov *it, struct task *t, const struct linux_iovec *iov,
		       size_t niov, size_t total)
{
	*it = (struct net_iov){.t = t, .iov = iov, .niov = niov, .total = total};
}

void net_iov_init_kernel(struct net_iov *it, void *buf, size_t len)
{
	*it = (struct net_iov){.kbuf = buf, .total = len};
}

static int iov_copy(struct net_iov *it, void *kbuf, size_t n, bool to_iov)
{
	size_t idx = it->idx, off = it->off, moved = 0;

	if (n > net_iov_left(it))
		return -EFAULT; /* a caller bug; never overrun the application's buffers */
	if (!it->t) {
		if (to_iov)
			memcpy(it->kbuf + it->done, kbuf, n);
		else
			memcpy(kbuf, it->kbuf + it->done, n);
		it->done += n;
		return 0;
	}
	while (moved < n) {
		while (idx < it->niov && it->iov[idx].iov_len == off) {
			idx++;
			off = 0;
		}
		if (idx >= it->niov)
			return -EFAULT;
		size_t c = MIN(n - moved, it->iov[idx].iov_len - off);
		uint64_t addr = it->iov[idx].iov_base + off;
		int r = to_iov ? copy_out(it->t->mm, addr, (char *)kbuf + moved, c)
			       : copy_in(it->t->mm, (char *)kbuf + moved, addr, c);
		if (r < 0)
			return -EFAULT;
		moved += c;
		off += c;
	}
	it->idx = idx;
	it->off = off;
	it->done += n;
	return 0;
}

int net_iov_from(struct net_iov *it, void *dst, size_t n) { return iov_copy(it, dst, n, false); }

int net_iov_to(struct net_iov *it, const void *src, size_t n)
{
	return iov_copy(it, (void *)src, n, true);
}

/* ---- sleeping ---- */

struct sw_arg {
	struct sock *sk;
	sock_cond_fn cond;
	void *arg;
};

static bool sw_cond(void *p)
{
	struct sw_arg *w = p;
	bool r;

	pthread_mutex_lock(&g_net_mutex);
	r = w->cond(w->sk, w->arg);
	pthread_mutex_unlock(&g_net_mutex);
	return r;
}

int sock_wait(struct sock *sk, struct waitq *wq, sock_cond_fn cond, void *arg,
	      const struct timespec *deadline)
{
	struct sw_arg w = {sk, cond, arg};
	struct task *t = current_task;
	int r;

	if (!t)
		return -EAGAIN;
	net_unlock();
	r = task_wait(t, wq, sw_cond, &w, deadline);
	net_lock();
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	/* Linux: a timed socket wait is not restarted (sock_intr_errno) */
	if (r == -LINUX_ERESTARTSYS && deadline)
		return -EINTR;
	return r;
}

const struct timespec *sock_deadline(int64_t ns, struct timespec *buf)
{
	struct timespec rel;

	if (ns <= 0)
		return NULL;
	rel.tv_sec = ns / 1000000000;
	rel.tv_nsec = ns % 1000000000;
	deadline_after(buf, &rel);
	return buf;
}

/* ---- the generic receive loop ---- */

static bool recv_ready(struct sock *sk, void *arg)
{
	(void)arg;
	return sk->rcv_count || sk->err || (sk->shut & SHUT_RCV);
}

static bool same_cred(const struct linux_ucred *a, const struct linux_ucred *b)
{
	return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

/* Hand skb's files to the receiver: moved, or (MSG_PEEK) new references. */
static void take_files(struct skb *skb, struct net_scm *scm, bool peek)
{
	struct file **n;

	if (!skb->nfiles || !scm)
		return;
	n = realloc(scm->files, (size_t)(scm->nfiles + skb->nfiles) * sizeof(*n));
	if (!n)
		return; /* they stay with the buffer and are closed with it */
	scm->files = n;
	for (int i = 0; i < skb->nfiles; i++)
		scm->files[scm->nfiles++] = peek ? file_get(skb->files[i]) : skb->files[i];
	if (!peek) {
		free(skb->files);
		skb->files = NULL;
		skb->nfiles = 0;
	}
}

static void take_cred(struct sock *sk, struct skb *skb, struct net_msg *m)
{
	m->want_cred = sk->passcred;
	if (m->scm && skb->has_cred) {
		m->scm->has_cred = true;
		m->scm->cred = skb->cred;
	}
}

/* One record: copy it (truncated to the buffer), consume it unless peeking. */
static ssize_t recv_record(struct sock *sk, struct net_msg *m, int flags)
{
	struct skb *skb = list_entry(sk->rcvq.next, struct skb, link);
	bool peek = flags & LINUX_MSG_PEEK;
	size_t n = MIN(skb->len, net_iov_left(&m->iov));
	ssize_t ret;

	if (net_iov_to(&m->iov, skb->data, n) < 0) {
		ret = -EFAULT;
	} else {
		if (n < skb->len)
			m->flags_out |= LINUX_MSG_TRUNC;
		if (m->from)
			*m->from = skb->from;
		take_cred(sk, skb, m);
		take_files(skb, m->scm, peek);
		ret = (flags & LINUX_MSG_TRUNC) ? (ssize_t)skb->len : (ssize_t)n;
	}
	if (!peek)
		skb_consume(sk, skb);
	return ret;
}

/* Bytes of a stream: as much as the queue has and the buffer takes. *stop: a boundary
 * (files, another sender) ends the call here. 0 or -EFAULT. */
static int recv_stream_some(struct sock *sk, struct net_msg *m, int flags, size_t *copied,
			    bool *stop)
{
	bool peek = flags & LINUX_MSG_PEEK;
	bool discard = (flags & LINUX_MSG_TRUNC) && sk->family != LINUX_AF_UNIX;
	bool first = *copied == 0;
	struct list_head *p = sk->rcvq.next;

	*stop = false;
	while (p != &sk->rcvq) {
		struct skb *skb = list_entry(p, struct skb, link);
		size_t avail = skb->len - skb->off;
		size_t n = MIN(avail, net_iov_left(&m->iov));

		p = p->next;
		if (sk->passcred && m->scm) {
			/* never glue data of different writers (unix_stream_read_generic) */
			if (!first && m->scm->has_cred && !same_cred(&m->scm->cred, &skb->cred)) {
				*stop = true;
				return 0;
			}
		}
		if (first) {
			if (m->from)
				*m->from = skb->from;
			take_cred(sk, skb, m);
			first = false;
		}
		if (!discard && n && net_iov_to(&m->iov, skb->data + skb->off, n) < 0)
			return -EFAULT;
		if (discard)
			m->iov.done += n;
		*copied += n;
		int nfiles = skb->nfiles;
		take_files(skb, m->scm, peek);
		if (!peek) {
			skb->off += n;
			sk->rcv_bytes -= n;
			if (skb->off == skb->len)
				skb_consume(sk, skb);
		}
		if (nfiles) {
			*stop = true;
			return 0;
		}
		if (net_iov_left(&m->iov) == 0)
			return 0;
	}
	return 0;
}

ssize_t sock_recv_queue(struct sock *sk, struct net_msg *m, int flags, bool nonblock, bool stream)
{
	size_t len = net_iov_left(&m->iov), copied = 0, target = 1;
	struct timespec dlbuf;
	const struct timespec *dl = sock_deadline(sk->rcvtimeo_ns, &dlbuf);
	bool peek = flags & LINUX_MSG_PEEK;
	bool once = true; /* a zero-length read still takes (or waits for) one turn */

	if (stream && !peek) {
		if (flags & LINUX_MSG_WAITALL)
			target = len;
		else if (sk->rcvlowat > 1)
			target = MIN((size_t)sk->rcvlowat, len);
		if (target == 0)
			target = 1;
	}
	for (;;) {
		if (sk->rcv_count && (once || copied < len)) {
			bool stop;
			int r;

			if (!stream)
				return recv_record(sk, m, flags);
			once = false;
			r = recv_stream_some(sk, m, flags, &copied, &stop);
			if (r < 0)
				return copied ? (ssize_t)copied : r;
			if (copied >= target || stop || len == 0 || peek)
				return (ssize_t)copied;
			continue;
		}
		if (copied >= target)
			return (ssize_t)copied;
		if (sk->fin) /* TCP: the FIN came before any reset */
			return (ssize_t)copied;
		if (sk->err)
			return copied ? (ssize_t)copied : sock_error(sk);
		if (sk->shut & SHUT_RCV)
			return (ssize_t)copied;
		if (stream && sk->state == SS_CLOSED) /* TCP: never connected, or reset */
			return copied ? (ssize_t)copied : -ENOTCONN;
		if (nonblock)
			return copied ? (ssize_t)copied : -EAGAIN;
		int r = sock_wait(sk, &sk->wq, recv_ready, NULL, dl);
		if (r < 0)
			return copied ? (ssize_t)copied : r;
	}
}
