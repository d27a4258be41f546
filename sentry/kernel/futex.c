/* Futexes: waiters hashed by their key (mm_futex_key: the address space and address of a
 * private futex, the memory behind a shared one in MAP_SHARED memory, so that processes sharing
 * a tmpfs or /dev/shm file or shared anonymous memory wait on one futex); WAIT, WAKE, REQUEUE,
 * CMP_REQUEUE, WAKE_OP and the bitset variants. PI futexes return ENOSYS. */
#include "sentry/kernel/futex.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "abi/linux.h"
#include "abi/syscalls.h"
#include "common/list.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define NBUCKETS 256

struct futex_waiter {
	struct list_head link;
	struct mm_futex_key key;
	uint32_t bitset;
	struct task *task;
	bool woken;
};

/* One lock for every futex: simple and enough for now (waiters are still hashed). */
static pthread_mutex_t g_futex_lock = PTHREAD_MUTEX_INITIALIZER;

struct bucket {
	struct list_head waiters;
};

static struct bucket g_buckets[NBUCKETS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (int i = 0; i < NBUCKETS; i++)
		list_init(&g_buckets[i].waiters);
}

static struct bucket *bucket_of(const struct mm_futex_key *k)
{
	uint64_t h = (uint64_t)(uintptr_t)k->obj ^ (k->off * 0x9e3779b97f4a7c15ULL);
	pthread_once(&g_once, buckets_init);
	return &g_buckets[(h >> 32) % NBUCKETS];
}

static bool key_eq(const struct mm_futex_key *a, const struct mm_futex_key *b)
{
	return a->obj == b->obj && a->off == b->off;
}

/* The key of the futex word at addr of mm for a futex op (FUTEX_PRIVATE_FLAG in op or not).
 * 0, -EINVAL (misaligned) or -EFAULT. */
static int futex_key(struct mm *mm, uint64_t addr, int op, struct mm_futex_key *k)
{
	if (addr & 3)
		return -EINVAL;
	return mm_futex_key(mm, addr, !(op & LINUX_FUTEX_PRIVATE_FLAG), k);
}

/* Wake up to n waiters of key k whose bitset intersects; g_futex_lock held. */
static int wake_locked(const struct mm_futex_key *k, int n, uint32_t bitset)
{
	struct bucket *b = bucket_of(k);
	struct list_head *pos, *tmp;
	int woken = 0;

	list_for_each_safe(pos, tmp, &b->waiters) {
		struct futex_waiter *w = list_entry(pos, struct futex_waiter, link);
		if (woken >= n)
			break;
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		list_del(&w->link);
		w->woken = true;
		task_wake(w->task);
		woken++;
	}
	return woken;
}

static int wake_key(const struct mm_futex_key *k, int n, uint32_t bitset)
{
	pthread_mutex_lock(&g_futex_lock);
	int r = wake_locked(k, n, bitset);
	pthread_mutex_unlock(&g_futex_lock);
	return r;
}

int futex_wake_addr(struct mm *mm, uint64_t addr, int n)
{
	struct mm_futex_key k;
	/* A shared wake, as Linux's for CLONE_CHILD_CLEARTID (a private futex's key is the same). */
	if (futex_key(mm, addr, 0, &k))
		return 0;
	return wake_key(&k, n, LINUX_FUTEX_BITSET_MATCH_ANY);
}

static bool waiter_woken(void *arg)
{
	struct futex_waiter *w = arg;
	pthread_mutex_lock(&g_futex_lock);
	bool r = w->woken;
	pthread_mutex_unlock(&g_futex_lock);
	return r;
}

static long futex_wait(struct task *t, uint64_t addr, int op, uint32_t val, uint32_t bitset,
		       const struct timespec *deadline)
{
	struct futex_waiter w = {.bitset = bitset, .task = t};
	uint32_t cur;

	if (!bitset)
		return -EINVAL;
	int r = futex_key(t->mm, addr, op, &w.key);
	if (r)
		return r;
	struct bucket *b = bucket_of(&w.key);
	pthread_mutex_lock(&g_futex_lock);
	if (copy_in(t->mm, &cur, addr, sizeof(cur))) {
		pthread_mutex_unlock(&g_futex_lock);
		return -EFAULT;
	}
	if (cur != val) {
		pthread_mutex_unlock(&g_futex_lock);
		return -EAGAIN;
	}
	list_add_tail(&w.link, &b->waiters);
	pthread_mutex_unlock(&g_futex_lock);

	r = task_wait(t, NULL, waiter_woken, &w, deadline);

	pthread_mutex_lock(&g_futex_lock);
	if (!w.woken)
		list_del(&w.link);
	else
		r = 0;
	pthread_mutex_unlock(&g_futex_lock);
	return r;
}

/* Move up to n2 waiters of addr to addr2 after waking n1. */
static long futex_requeue(struct task *t, uint64_t addr, int op, int n1, uint64_t addr2, int n2,
			  bool cmp, uint32_t val)
{
	struct mm_futex_key k1, k2;
	struct list_head *pos, *tmp;
	long woken = 0, moved = 0;

	if ((addr & 3) || (addr2 & 3) || n1 < 0 || n2 < 0)
		return -EINVAL;
	int r = futex_key(t->mm, addr, op, &k1);
	if (!r)
		r = futex_key(t->mm, addr2, op, &k2);
	if (r)
		return r;
	struct bucket *b1 = bucket_of(&k1), *b2 = bucket_of(&k2);
	pthread_mutex_lock(&g_futex_lock);
	if (cmp) {
		uint32_t cur;
		if (copy_in(t->mm, &cur, addr, sizeof(cur))) {
			woken = -EFAULT;
			goto out;
		}
		if (cur != val) {
			woken = -EAGAIN;
			goto out;
		}
	}
	woken = wake_locked(&k1, n1, LINUX_FUTEX_BITSET_MATCH_ANY);
	list_for_each_safe(pos, tmp, &b1->waiters) {
		struct futex_waiter *w = list_entry(pos, struct futex_waiter, link);
		if (moved >= n2)
			break;
		if (!key_eq(&w->key, &k1))
			continue;
		list_del(&w->link);
		w->key = k2;
		list_add_tail(&w->link, &b2->waiters);
		moved++;
	}
out:
	pthread_mutex_unlock(&g_futex_lock);
	return woken < 0 ? woken : woken + (cmp ? moved : 0);
}

static long futex_wake_op(struct task *t, uint64_t addr, int fop, int n1, uint64_t addr2, int n2,
			  uint32_t encoded)
{
	int op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	uint32_t oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
	uint32_t old, nv;
	struct mm_futex_key k1, k2;
	long r;

	r = futex_key(t->mm, addr, fop, &k1);
	if (!r)
		r = futex_key(t->mm, addr2, fop, &k2);
	if (r)
		return r;
	if (encoded & (8u << 28))
		oparg = 1u << (oparg & 31);
	/* The read-modify-write of *addr2 is atomic against other futex calls (the futex lock),
	 * not against the application's own atomics on it: the mm has no atomic primitive yet. */
	pthread_mutex_lock(&g_futex_lock);
	if (copy_in(t->mm, &old, addr2, sizeof(old))) {
		pthread_mutex_unlock(&g_futex_lock);
		return -EFAULT;
	}
	switch (op) {
	case 0: nv = oparg; break;
	case 1: nv = old + oparg; break;
	case 2: nv = old | oparg; break;
	case 3: nv = old & ~oparg; break;
	case 4: nv = old ^ oparg; break;
	default: pthread_mutex_unlock(&g_futex_lock); return -ENOSYS;
	}
	if (copy_out(t->mm, addr2, &nv, sizeof(nv))) {
		pthread_mutex_unlock(&g_futex_lock);
		return -EFAULT;
	}
	pthread_mutex_unlock(&g_futex_lock);
	r = wake_key(&k1, n1, LINUX_FUTEX_BITSET_MATCH_ANY);
	bool c;
	switch (cmp) {
	case 0: c = old == cmparg; break;
	case 1: c = old != cmparg; break;
	case 2: c = (int32_t)old < (int32_t)cmparg; break;
	case 3: c = (int32_t)old <= (int32_t)cmparg; break;
	case 4: c = (int32_t)old > (int32_t)cmparg; break;
	case 5: c = (int32_t)old >= (int32_t)cmparg; break;
	default: return -ENOSYS;
	}
	if (c)
		r += wake_key(&k2, n2, LINUX_FUTEX_BITSET_MATCH_ANY);
	return r;
}

/* Linux's robust futex list (uapi/linux/futex.h): the lock word's owner TID and flag bits. */
#define ROBUST_WAITERS 0x80000000u
#define ROBUST_OWNER_DIED 0x40000000u
#define ROBUST_TID_MASK 0x3fffffffu
#define ROBUST_LIST_LIMIT 2048 /* Linux's ROBUST_LIST_LIMIT: a cycle must not hang the exit */

/* handle_futex_death: the lock word at uaddr of mm, if thread tid owns it, gets OWNER_DIED (keeping WAITERS)
 * and one waiter is woken, so that its lock returns EOWNERDEAD. pending: the entry was
 * list_op_pending (a lock half taken or released: a free word still wakes one waiter). The
 * read-modify-write is atomic against other futex calls, not against the application's own
 * atomics (as FUTEX_WAKE_OP here). */
static void robust_death(struct mm *mm, int tid, uint64_t uaddr, bool pi, bool pending)
{
	struct mm_futex_key k;
	uint32_t uval, mval;

	if (futex_key(mm, uaddr, 0, &k))
		return;
	pthread_mutex_lock(&g_futex_lock);
	if (copy_in(mm, &uval, uaddr, sizeof(uval)))
		goto out;
	if (pending && !pi && !uval) {
		wake_locked(&k, 1, LINUX_FUTEX_BITSET_MATCH_ANY);
		goto out;
	}
	if ((uval & ROBUST_TID_MASK) != (uint32_t)tid)
		goto out;
	mval = (uval & ROBUST_WAITERS) | ROBUST_OWNER_DIED;
	if (copy_out(mm, uaddr, &mval, sizeof(mval)))
		goto out;
	if (!pi && (uval & ROBUST_WAITERS))
		wake_locked(&k, 1, LINUX_FUTEX_BITSET_MATCH_ANY);
out:
	pthread_mutex_unlock(&g_futex_lock);
}

/* One pointer of the list: the entry's address, and bit 0 marks a PI futex. */
static int robust_fetch(struct mm *mm, uint64_t at, uint64_t *entry, bool *pi)
{
	uint64_t v;
	if (copy_in(mm, &v, at, sizeof(v)))
		return -EFAULT;
	*entry = v & ~1ULL;
	*pi = v & 1;
	return 0;
}

void futex_release_robust_list(struct task *t, struct mm *mm)
{
	/* struct robust_list_head { struct robust_list *next; long futex_offset;
	 * struct robust_list *list_op_pending; } */
	uint64_t head = t->robust_list, entry, pending, next;
	int64_t off;
	bool pi, ppi, npi;

	t->robust_list = 0;
	if (!head || !mm)
		return;
	if (robust_fetch(mm, head, &entry, &pi) || copy_in(mm, &off, head + 8, sizeof(off)) ||
	    robust_fetch(mm, head + 16, &pending, &ppi))
		return;
	for (int limit = ROBUST_LIST_LIMIT; entry != head && limit > 0; limit--) {
		int r = robust_fetch(mm, entry, &next, &npi);
		if (entry != pending)
			robust_death(mm, t->tid, entry + (uint64_t)off, pi, false);
		if (r)
			return;
		entry = next;
		pi = npi;
	}
	if (pending)
		robust_death(mm, t->tid, pending + (uint64_t)off, ppi, true);
}

/* Read a futex timeout: relative for FUTEX_WAIT, absolute for WAIT_BITSET (on the realtime
 * clock with FUTEX_CLOCK_REALTIME, converted to CLOCK_MONOTONIC). */
static int read_deadline(struct task *t, uint64_t uaddr, bool absolute, bool realtime,
			 struct timespec *out)
{
	struct linux_timespec ts;
	if (copy_in(t->mm, &ts, uaddr, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	struct timespec rel = {ts.tv_sec, ts.tv_nsec};
	if (absolute) {
		struct timespec now;
		clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
		rel.tv_sec = ts.tv_sec - now.tv_sec;
		rel.tv_nsec = ts.tv_nsec - now.tv_nsec;
		if (rel.tv_nsec < 0) {
			rel.tv_sec--;
			rel.tv_nsec += 1000000000L;
		}
		if (rel.tv_sec < 0)
			rel.tv_sec = rel.tv_nsec = 0;
	}
	deadline_after(out, &rel);
	return 0;
}

SYSCALL_DEFINE(futex)
{
	uint64_t addr = a->a[0], utime = a->a[3], addr2 = a->a[4];
	int op = (int)a->a[1];
	uint32_t val = (uint32_t)a->a[2], val3 = (uint32_t)a->a[5];
	int cmd = op & ~(LINUX_FUTEX_PRIVATE_FLAG | LINUX_FUTEX_CLOCK_REALTIME);
	bool realtime = op & LINUX_FUTEX_CLOCK_REALTIME;
	struct timespec deadline;
	int r;

	if (realtime && cmd != LINUX_FUTEX_WAIT_BITSET && cmd != LINUX_FUTEX_WAIT)
		return -ENOSYS;
	switch (cmd) {
	case LINUX_FUTEX_WAIT:
	case LINUX_FUTEX_WAIT_BITSET:
		if (utime) {
			r = read_deadline(t, utime, cmd == LINUX_FUTEX_WAIT_BITSET, realtime,
					  &deadline);
			if (r)
				return r;
		}
		r = (int)futex_wait(t, addr, op, val,
				    cmd == LINUX_FUTEX_WAIT ? LINUX_FUTEX_BITSET_MATCH_ANY : val3,
				    utime ? &deadline : NULL);
		return r == -LINUX_ERESTARTSYS && utime ? -EINTR : r;
	case LINUX_FUTEX_WAKE:
	case LINUX_FUTEX_WAKE_BITSET: {
		uint32_t bits = cmd == LINUX_FUTEX_WAKE ? LINUX_FUTEX_BITSET_MATCH_ANY : val3;
		struct mm_futex_key k;
		if (!bits)
			return -EINVAL;
		if ((r = futex_key(t->mm, addr, op, &k)))
			return r;
		return wake_key(&k, (int)MIN(val, 0x7fffffffU), bits);
	}
	case LINUX_FUTEX_REQUEUE:
		return futex_requeue(t, addr, op, (int)val, addr2, (int)utime, false, 0);
	case LINUX_FUTEX_CMP_REQUEUE:
		return futex_requeue(t, addr, op, (int)val, addr2, (int)utime, true, val3);
	case LINUX_FUTEX_WAKE_OP:
		return futex_wake_op(t, addr, op, (int)val, addr2, (int)utime, val3);
	default:
		return -ENOSYS;
	}
}
