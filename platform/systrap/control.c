/* Requests to a systrap stub's control thread: a syscall run in the stub for the Sentry. */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

_Static_assert(sizeof(struct st_op) == OP_SIZE && offsetof(struct st_op, expect) == OP_EXPECT,
	       "the batch's layout");
_Static_assert(MSG_OPS + ST_OPS_MAX * OP_SIZE <= PAGE_SIZE, "the batch fits the message page");

static uint64_t *msg_word(const struct plat_ctx *ctx, size_t off)
{
	return (uint64_t *)((uint8_t *)ctx->msg + off);
}

/* Is c's thread the only application thread left in as (every other slot free, or its thread
 * gone: the kernel wrote ST_DEAD in its state word)? Frees the slots of those gone. as->lock
 * held. */
static bool alone_locked(struct plat_as *as, const struct plat_ctx *c)
{
	for (unsigned i = 0; i < as->slots_hi; i++) {
		const struct st_msg *m =
			(const struct st_msg *)(as->shm + ST_AREAS_OFF + (size_t)i * ST_AREA_SIZE);

		if ((int)i == c->slot || as->slot[i] == SLOT_FREE || as->slot[i] == SLOT_SPARE)
			continue;
		if (as->slot[i] != SLOT_EXITING ||
		    __atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != ST_DEAD)
			return false;
		as->slot[i] = SLOT_FREE;
	}
	return true;
}

/* The one context of as while batching goes on (the caller's, if it owns it), else NULL.
 * Batching ended by a second context starts again once that context's thread, and every other
 * but this one's, has exited: then, as before the second came, no application code runs in
 * the stub while this thread is in the Sentry. as->lock held. */
static struct plat_ctx *batch_ctx_locked(struct plat_as *as)
{
	struct plat_ctx *c;

	if (list_empty(&as->ctxs) || as->ctxs.next->next != &as->ctxs)
		return NULL;
	c = list_entry(as->ctxs.next, struct plat_ctx, link);
	if (c->released)
		return NULL;
	if (as->multi) {
		if (as->nops || !alone_locked(as, c))
			return NULL;
		as->multi = false; /* the next ctx_create sets it again */
	}
	return c;
}

bool st_batch_queue(struct plat_as *as, long nr, const uint64_t a[6], uint64_t expect)
{
	for (bool flushed = false;; flushed = true) {
		struct plat_ctx *c;
		bool may, queued = false;

		pthread_mutex_lock(&as->lock);
		c = batch_ctx_locked(as);
		/* Before the first context, for its first run (a new address space's mappings). */
		may = (as->nctx_made == 0 || (c && atomic_load(&c->owner) == st_self())) &&
		      !as->multi && !atomic_load(&as->dead);
		if (may && as->nops < ST_OPS_MAX) {
			struct st_op *op = &as->ops[as->nops++];

			op->nr = (uint64_t)nr;
			memcpy(op->args, a, sizeof(op->args));
			op->expect = expect;
			queued = true;
		}
		pthread_mutex_unlock(&as->lock);
		if (queued || !may || flushed)
			return queued;
		/* A full queue (an address space of many mappings being filled): the control
		 * thread makes it, in one request, and the queue starts again. Nobody else queues
		 * meanwhile: only the owner (or the creator, before any context) does. */
		if (st_control(as, -1, NULL, 0) < 0)
			return false;
	}
}

/* The argument of op that carries the cookie (one the kernel ignores: mmap's fd, truncated to
 * 32 bits, munmap's third, mprotect's fourth, recvmsg's fourth). */
static uint64_t *cookie_arg(struct st_op *op)
{
	return &op->args[op->nr == __NR_mmap ? 4 : op->nr == __NR_munmap ? 2 : 3];
}

int st_batch_send(struct plat_ctx *ctx, struct plat_as *as)
{
	struct st_op *to = (struct st_op *)msg_word(ctx, MSG_OPS);
	unsigned n;

	pthread_mutex_lock(&as->lock);
	n = as->nops;
	if (n && batch_ctx_locked(as) == ctx) {
		/* Under as->lock, so that a control request that takes the queue after this sees
		 * the batch in flight (the cookie) and waits for it. */
		for (unsigned i = 0; i < n; i++) {
			*cookie_arg(&as->ops[i]) |= as->cookie;
			to[i] = as->ops[i];
		}
		__atomic_store_n((uint32_t *)msg_word(ctx, MSG_NOPS), n, __ATOMIC_RELAXED);
		__atomic_store_n(msg_word(ctx, MSG_COOKIE), as->cookie, __ATOMIC_RELEASE);
		as->nops = 0;
		n = 0;
	}
	pthread_mutex_unlock(&as->lock);
	/* Batching is over (another context came): the control thread takes the queue. */
	if (n)
		return st_control(as, -1, NULL, 0) == -ESRCH ? -ESRCH : 0;
	return 0;
}

/* Wait until the batch in flight in ctx's thread (if any) is applied: its cookie gone from the
 * area (the application cannot put it back: it never sees it). Returns 0 or -ESRCH (the stub
 * is gone or killed: it does not answer). req_lock held. */
static int batch_wait(struct plat_as *as, struct plat_ctx *ctx)
{
	const uint64_t *w = msg_word(ctx, MSG_COOKIE);
	const struct timespec nap = {.tv_nsec = 20000};
	unsigned naps = 0;

	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == as->cookie) {
		if (__atomic_load_n(&ctx->msg->state, __ATOMIC_ACQUIRE) == ST_DEAD ||
		    st_stub_gone(as) || ++naps > ST_INTERRUPT_GIVE_UP_MS * 50) {
			st_stub_kill(as, "a stub thread does not apply its mapping changes");
			return -ESRCH;
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

static long control_locked(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss,
			   bool away);

/* Have the control thread make the n mapping changes of ops, in order, in one request (a
 * doorbell and a completion for them all). 0, or -ESRCH when the stub is gone or one failed
 * (then it is killed: the caller was told they were made). req_lock held. */
static int control_ops_locked(struct plat_as *as, const struct st_op *ops, unsigned n)
{
	struct st_req *req = (struct st_req *)(as->shm + 0);
	const uint64_t none[6] = {0};

	while (n > 0) {
		unsigned k = MIN(n, (unsigned)REQ_OPS_MAX);
		long res;

		memcpy(as->shm + REQ_OPS, ops, k * sizeof(*ops));
		req->nops = k;
		res = control_locked(as, REQ_NR_OPS, none, 0, false);
		if (res == -ESRCH && atomic_load(&as->dead))
			return -ESRCH;
		if (res != (long)k) {
			st_stub_kill(as, "a queued mapping change failed");
			return -ESRCH;
		}
		ops += k;
		n -= k;
	}
	return 0;
}

/* Before a control request: the batch in flight applied, then what is queued, in order, by the
 * control thread. 0 or -ESRCH. req_lock held. */
static int batch_flush(struct plat_as *as)
{
	struct st_op ops[ST_OPS_MAX];
	struct list_head *pos;
	unsigned n;
	int r = 0;

	pthread_mutex_lock(&as->lock);
	n = as->nops;
	memcpy(ops, as->ops, n * sizeof(ops[0]));
	as->nops = 0;
	/* Once batching is over no batch starts (st_batch_send); a context lives as long as it
	 * is linked. */
	list_for_each(pos, &as->ctxs) {
		struct plat_ctx *c = list_entry(pos, struct plat_ctx, link);

		if (r == 0 && c->msg &&
		    __atomic_load_n(msg_word(c, MSG_COOKIE), __ATOMIC_ACQUIRE) == as->cookie)
			r = batch_wait(as, c);
	}
	pthread_mutex_unlock(&as->lock);
	return r == 0 ? control_ops_locked(as, ops, n) : r;
}

/* nr < 0: only the flush. */
long st_control(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss)
{
	return st_control_ex(as, nr, a, thread_ss, ST_CTL_FLUSH);
}

long st_control_ex(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss,
		   unsigned flags)
{
	long r = 0;

	pthread_mutex_lock(&as->req_lock);
	if (flags & ST_CTL_FLUSH)
		r = batch_flush(as);
	if (r == 0 && nr >= 0)
		r = control_locked(as, nr, a, thread_ss, flags & ST_CTL_AWAY);
	pthread_mutex_unlock(&as->req_lock);
	return r;
}

/* The request goes in the request page (read-only in the stub, so the application cannot change
 * it), the control thread's doorbell is rung, and the Sentry waits for the request's sequence number on
 * the pipe: only the control thread can write there (filter B refuses write to application
 * threads), so when it arrives the syscall has run. The result itself comes from the result
 * page, which the application can write too: callers treat it as a claim, never as a reason to
 * do anything but fail or go on. */
static long control_locked(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss,
			   bool away)
{
	struct st_req *req = (struct st_req *)(as->shm + 0);
	volatile uint64_t *res = (volatile uint64_t *)(as->shm + ST_RES_OFF + RES_VAL);
	uint32_t *res_seq = (uint32_t *)(as->shm + ST_RES_OFF + RES_SEQ), seq, word = 0;
	uint32_t *sleeping = (uint32_t *)(as->shm + ST_RES_OFF + RES_SLEEPING);
	unsigned spin;
	long r;

	if (atomic_load(&as->dead)) {
		r = -ESRCH;
		goto out;
	}
	seq = as->seq + 1;
	if (seq == 0) /* the control thread starts having served request 0 */
		seq = 1;
	as->seq = seq;
	req->nr = (uint64_t)nr;
	memcpy(req->args, a, sizeof(req->args));
	req->thread = thread_ss;
	__atomic_store_n(&req->seq, seq, __ATOMIC_RELEASE);
	if (away) {
		int cpu = 0;
		pairing_keep_away(as->pid, &cpu);
		as->ctl_cpu = 0; /* (pinned nowhere: the next request pins it again) */
	} else {
		pairing_pin_here(as->pid, &as->ctl_cpu); /* run.c, pairing */
	}
	/* Ring even when the control thread may be awake: it reads what piled up when it sleeps
	 * next, and a hint the application could clear must not decide whether it wakes. */
	if (write(as->bell_wr, "", 1) < 0 && errno != EAGAIN)
		log_warn("systrap stub %d: doorbell: %s", as->pid, strerror(errno));
	/* A control thread that was awake answers in a few microseconds: wait for its hint, then
	 * for the proof. One that sleeps is woken (the pipe's wake-up is synchronous) to run on
	 * this CPU, which must not be kept busy spinning meanwhile. */
	spin = __atomic_load_n(sleeping, __ATOMIC_ACQUIRE) ? 0 : st_ctl_spin_iterations();
	for (unsigned i = 0; i < spin && __atomic_load_n(res_seq, __ATOMIC_ACQUIRE) != seq; i++)
		__builtin_ia32_pause();
	for (;;) {
		ssize_t n = read(as->pipe_rd, &word, sizeof(word));

		if (n == (ssize_t)sizeof(word))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) { /* every writer is gone: the stub died */
			atomic_store(&as->dead, true);
			r = -ESRCH;
			goto out;
		}
		st_stub_kill(as, "short read on the control pipe");
		r = -ESRCH;
		goto out;
	}
	if (word != seq) {
		st_stub_kill(as, "out-of-order control completion");
		r = -ESRCH;
		goto out;
	}
	r = (long)*res;
out:
	return r;
}

/* The stub's number of the i-th host fd it received (see ST_FD_SOCK). */
static int hfd_number(unsigned i) { return i == 0 ? ST_FD_FIRST_HOST : ST_FD_SOCK + (int)i; }

/* Where the control thread's recvmsg puts what it receives: the result page, which the
 * application can write too. Only the byte count comes back from there, as a claim: the fd's
 * number is known beforehand (ST_FD_SOCK), and an application that spoils the message only
 * makes its own mappings of this file fail or map another file it maps itself. */
struct recv_area {
	struct msghdr mh;
	struct iovec iov;
	char byte;
	char pad[7];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
};
_Static_assert(sizeof(struct recv_area) <= RES_RECV_SIZE, "the recvmsg area fits");

int st_host_fd(struct plat_as *as, int fd)
{
	const uint64_t at = ST_SHM + ST_RES_OFF + RES_RECV;
	struct recv_area *ra = (struct recv_area *)(as->shm + ST_RES_OFF + RES_RECV);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct stat st;
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	uint64_t a[6] = {ST_FD_SOCK, at, MSG_DONTWAIT | MSG_CMSG_CLOEXEC};
	int n;

	/* The raw fstat: glibc's is newfstatat, which the Sentry's filter does not allow (on
	 * x86_64 the kernel's struct stat is glibc's). */
	if (syscall(SYS_fstat, fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&as->req_lock);
	for (unsigned i = 0; i < as->nhfd; i++) {
		if (as->hfd[i].dev == st.st_dev && as->hfd[i].ino == st.st_ino) {
			n = hfd_number(i);
			pthread_mutex_unlock(&as->req_lock);
			return n;
		}
	}
	if (as->nhfd == ST_HFD_MAX) {
		pthread_mutex_unlock(&as->req_lock);
		return -ENOSPC;
	}
	memset(&cm, 0, sizeof(cm));
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.h), &fd, sizeof(fd));
	if (sendmsg(as->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
		/* (a full socket, the host's limit on fds in flight): nothing was sent, and the
		 * caller maps the memory file instead, as for a stub with ST_HFD_MAX fds */
		log_debug("systrap stub %d: sending a host fd: %s", as->pid, strerror(errno));
		pthread_mutex_unlock(&as->req_lock);
		return -ENOSPC;
	}
	*ra = (struct recv_area){
	    .mh = {.msg_iov = (struct iovec *)(at + offsetof(struct recv_area, iov)),
		   .msg_iovlen = 1,
		   .msg_control = (void *)(at + offsetof(struct recv_area, cm)),
		   .msg_controllen = sizeof(ra->cm.buf)},
	    .iov = {.iov_base = (void *)(at + offsetof(struct recv_area, byte)), .iov_len = 1},
	};
	as->hfd[as->nhfd] = (struct st_hfd){st.st_dev, st.st_ino};
	n = hfd_number(as->nhfd++);
	pthread_mutex_unlock(&as->req_lock);
	/* The recvmsg goes with the mapping changes, in the batch when there is one (its mmap
	 * follows it there), else to the control thread now: either way after the recvmsgs of the
	 * fds sent before (the queue is flushed before a control request), so the datagrams and
	 * the numbers match. The caller's mm lock keeps another thread from sending meanwhile. */
	if (st_batch_queue(as, __NR_recvmsg, a, 1))
		return n;
	long res = st_control(as, __NR_recvmsg, a, 0);
	if (res != 1) {
		/* The datagram may still hold the fd: the stub's numbering is not known any more. */
		log_warn("systrap stub %d: receiving a host fd: %ld", as->pid, res);
		st_stub_kill(as, "a host fd not received");
		return -ESRCH;
	}
	return n;
}
