/* The systrap platform: one stub process per address space, one stub thread per context;
 * application syscalls trap (seccomp RET_TRAP) into a signal handler in the stub that hands the
 * registers to the Sentry through shared memory (see systrap.h).
 *
 * Threads: nothing of a stub is bound to a Sentry thread (no ptrace), so the contract is looser
 * than ptrace's (platform.h): as_map, as_unmap, as_protect and ctx_create may come from any
 * thread. Contexts are claimed as with ptrace: the first ctx_run, ctx_get_fpstate or
 * ctx_set_fpstate on a context claims it for the calling thread, others then get -EPERM; the
 * creator's first context in a new address space is claimed by it at once. ctx_release from the
 * owner (or from anyone while unclaimed) ends the stub thread; from another thread the context
 * lingers until as_release. A Sentry thread may exit while it owns contexts (they stay usable by
 * nobody until released).
 */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/fpstate.h"

_Static_assert(LINUX_PROT_READ == PROT_READ && LINUX_PROT_WRITE == PROT_WRITE &&
		       LINUX_PROT_EXEC == PROT_EXEC,
	       "as_map passes prot to the host as is");

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* A context released by a non-owner: no thread may claim it any more. */
#define OWNER_GONE UINT64_MAX

static int g_memfd = -1;
static _Atomic uint64_t g_next_token = 1;
static __thread uint64_t t_token;

uint64_t st_self(void)
{
	/* A per-thread value, not a tid: tids are reused, and a stub child never runs this. */
	if (!t_token)
		t_token = atomic_fetch_add(&g_next_token, 1);
	return t_token;
}

static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;

/* preinit and init: the first call builds the stub's images and forks the stub master (before
 * the Sentry confines itself: boot calls preinit), later ones change nothing. */
static int systrap_init(int memfd)
{
	int r = 0;

	if (memfd < 0)
		return -EBADF;
	/* The handler reads and writes the fs/gs bases with rd/wr{fs,gs}base (Linux 5.9+). */
	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
		log_error("systrap: the kernel does not enable FSGSBASE for user space");
		return -ENOSYS;
	}
	pthread_mutex_lock(&g_init_lock);
	if (g_memfd >= 0)
		goto out;
	if ((r = stub_region_reserve()) < 0)
		goto out;
	fpstate_init();
	pairing_init();
	if ((r = st_stub_init()) < 0)
		goto out;
	/* The master is forked now, with the images built: every stub is a fork of it. */
	r = stub_master_start(memfd, ST_SHM_SIZE, st_stub_boot, st_stub_rules, st_stub_nrules,
			      STUB_MASTER_PIPES);
	if (r == 0)
		g_memfd = memfd;
out:
	pthread_mutex_unlock(&g_init_lock);
	return r;
}

/* init: what preinit did, and the pool's first stubs made while the Sentry goes on booting
 * (init's first process then finds one ready: `do /bin/true` -0.3 ms). */
static int systrap_init_pool(int memfd)
{
	int r = systrap_init(memfd);

	if (r == 0)
		st_pool_start();
	return r;
}

struct plat_as *st_as_new(void)
{
	struct plat_as *as;
	int r;

	if (g_memfd < 0) {
		errno = EINVAL; /* init() not called */
		return NULL;
	}
	as = calloc(1, sizeof(*as));
	if (!as)
		return NULL;
	pthread_mutex_init(&as->req_lock, NULL);
	pthread_mutex_init(&as->lock, NULL);
	list_init(&as->ctxs);
	as->creator = st_self();
	r = st_stub_create(as);
	if (r < 0) {
		pthread_mutex_destroy(&as->req_lock);
		pthread_mutex_destroy(&as->lock);
		free(as);
		errno = -r;
		return NULL;
	}
	return as;
}

/* One from the pool (made ahead, with its first thread), or a new one. */
static struct plat_as *systrap_as_create(void)
{
	struct plat_as *as = st_pool_take();

	if (!as)
		return st_as_new();
	as->creator = st_self();
	return as;
}

static void ctx_free(struct plat_ctx *ctx)
{
	free(ctx->init_fp);
	free(ctx);
}

/* Kill and reap the stub. Contexts still linked stay valid for their owners (their calls fail
 * with -ESRCH) but those released by a non-owner, which are freed. */
static void systrap_as_release(struct plat_as *as)
{
	struct list_head *pos, *n;

	if (!as)
		return;
	pthread_mutex_lock(&as->lock);
	st_stub_destroy(as);
	list_for_each_safe(pos, n, &as->ctxs) {
		struct plat_ctx *ctx = list_entry(pos, struct plat_ctx, link);

		list_del(&ctx->link);
		ctx->as = NULL;
		ctx->msg = NULL;
		if (ctx->released)
			ctx_free(ctx);
	}
	pthread_mutex_unlock(&as->lock);
	pthread_mutex_destroy(&as->req_lock);
	pthread_mutex_destroy(&as->lock);
	free(as);
}

/* A control request's result, as the stub claims it: 0 or -errno; anything else is -EIO. */
static int control_result(long res)
{
	if (res == 0 || (res < 0 && res >= -4095))
		return (int)res;
	return -EIO;
}

/* A host fd (a read-only file the gofer donated) is passed to the stub once (st_host_fd) and
 * mapped private, never writable. */
static int systrap_as_map(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd,
			  uint64_t off)
{
	uint64_t a[6] = {addr, len, (uint64_t)prot, MAP_SHARED | MAP_FIXED, ST_FD_MEMFILE, off};
	long res;

	if (len == 0 || plat_range_check(addr, len) < 0 || !IS_PAGE_ALIGNED(off))
		return -EINVAL;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	if (fd != PLAT_FD_MEMFILE) {
		int n;

		if (prot & LINUX_PROT_WRITE)
			return -EINVAL;
		if ((n = st_host_fd(as, fd)) < 0)
			return n;
		a[3] = MAP_PRIVATE | MAP_FIXED;
		a[4] = (uint64_t)n;
	}
	if (st_batch_queue(as, __NR_mmap, a, addr))
		return 0;
	res = st_control(as, __NR_mmap, a, 0);
	if ((uint64_t)res == addr)
		return 0;
	if (res < 0 && res >= -4095)
		return (int)res;
	log_warn("systrap stub %d: mmap at %#llx returned %#lx", as->pid, (unsigned long long)addr,
		 res);
	return -EIO;
}

static int systrap_as_unmap(struct plat_as *as, uint64_t addr, uint64_t len)
{
	uint64_t a[6] = {addr, len};
	int r;

	if (len == 0)
		return 0;
	if ((r = plat_range_check(addr, len)) < 0)
		return r;
	if (st_batch_queue(as, __NR_munmap, a, 0))
		return 0;
	return control_result(st_control(as, __NR_munmap, a, 0));
}

static bool systrap_cpuid_answers(void) { return st_cpuid_on(); }

/* The registry the handler looks each int3 up in (stub.c, .Lcpuid): the shared region's
 * read-only part, which only the Sentry writes. Emptied, then filled: a thread that looks
 * meanwhile misses, and reports the int3 (the Sentry's list is the truth, see platform.h). */
static int systrap_as_cpuid_sites(struct plat_as *as, const uint64_t *addrs, size_t n)
{
	uint64_t *slot = (uint64_t *)(as->shm + ST_SITES_OFF);
	size_t used = 0;

	for (size_t i = 0; i < ST_SITES_SLOTS; i++)
		__atomic_store_n(&slot[i], 0, __ATOMIC_RELAXED);
	for (size_t i = 0; i < n && used < ST_SITES_MAX; i++) {
		uint64_t a = addrs[i];
		if (a == 0 || a >= PLAT_STUB_BASE)
			continue;
		unsigned k = st_site_slot(a);
		while (__atomic_load_n(&slot[k], __ATOMIC_RELAXED) != 0)
			k = (k + 1) & (ST_SITES_SLOTS - 1);
		__atomic_store_n(&slot[k], a, __ATOMIC_RELEASE);
		used++;
	}
	return n > ST_SITES_MAX ? -E2BIG : 0;
}

static int systrap_ctx_cpuid_learn(struct plat_ctx *ctx, bool on, uint64_t *sites, size_t *n)
{
	struct st_msg *m = ctx->msg;

	if (!m || !ctx->as)
		return -ESRCH;
	if (on) {
		__atomic_store_n(&m->cpuid_n, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&m->cpuid_want, 1, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_store_n(&m->cpuid_want, 0, __ATOMIC_RELAXED);
	uint32_t k = MIN(__atomic_load_n(&m->cpuid_n, __ATOMIC_RELAXED), ST_CPUID_RING_MAX);
	const uint64_t *ring = (const uint64_t *)((uint8_t *)m + MSG_CPUID_RING);
	size_t got = 0;
	for (uint32_t i = 0; i < k && got < *n; i++)
		sites[got++] = __atomic_load_n(&ring[i], __ATOMIC_RELAXED);
	__atomic_store_n(&m->cpuid_n, 0, __ATOMIC_RELAXED);
	*n = got;
	return 0;
}

static int systrap_as_protect(struct plat_as *as, uint64_t addr, uint64_t len, int prot)
{
	uint64_t a[6] = {addr, len, (uint64_t)prot};
	int r;

	if (len == 0)
		return 0;
	if ((r = plat_range_check(addr, len)) < 0)
		return r;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	if (st_batch_queue(as, __NR_mprotect, a, 0))
		return 0;
	return control_result(st_control(as, __NR_mprotect, a, 0));
}

/* A free area slot of as, marked used; -1 when there is none. A slot whose thread was told to
 * exit is free again once the kernel wrote ST_DEAD in its state word (CLONE_CHILD_CLEARTID).
 * as->lock held. */
static int slot_take_locked(struct plat_as *as)
{
	for (int i = 0; i < (int)ST_MAX_THREADS; i++) {
		const struct st_msg *m =
			(const struct st_msg *)(as->shm + ST_AREAS_OFF + (size_t)i * ST_AREA_SIZE);

		if (as->slot[i] == SLOT_EXITING &&
		    __atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == ST_DEAD)
			as->slot[i] = SLOT_FREE;
		if (as->slot[i] == SLOT_FREE) {
			as->slot[i] = SLOT_USED;
			as->slots_hi = MAX(as->slots_hi, (unsigned)i + 1);
			return i;
		}
	}
	return -1;
}

/* The context of as the calling thread owns, if any. as->lock held. */
static struct plat_ctx *own_ctx_locked(struct plat_as *as, uint64_t self)
{
	struct list_head *pos;

	list_for_each(pos, &as->ctxs) {
		struct plat_ctx *c = list_entry(pos, struct plat_ctx, link);

		if (atomic_load(&c->owner) == self && !c->released)
			return c;
	}
	return NULL;
}

/* Make the thread of area slot (taken) in as, with the control thread's clone; it reports
 * once and waits for its first run. flags: st_control_ex's (ST_CTL_FLUSH: the queue goes
 * first, see ctx_create). Returns its tid, or -errno. */
static long slot_thread(struct plat_as *as, int slot, unsigned flags)
{
	uint64_t a[6] = {ST_CLONE_FLAGS, 0, 0, 0, 0, 0}, area;
	struct st_msg *msg;

	area = ST_SHM + ST_AREAS_OFF + (uint64_t)slot * ST_AREA_SIZE;
	msg = (struct st_msg *)(as->shm + (area - ST_SHM));
	memset(msg, 0, sizeof(*msg));
	/* What the fast entry checks gs against (syscall patching). */
	*(uint64_t *)((uint8_t *)msg + MSG_SELF) = area + ST_SELF_BIAS;
	__atomic_store_n(&msg->state, ST_NEW, __ATOMIC_RELEASE);
	a[3] = area + MSG_STATE; /* the child's tid word: ST_DEAD when it dies */
	st_stub_slot_ss(as, (unsigned)slot);
	return st_control_ex(as, __NR_clone, a,
			     ST_SHM + ST_SS_OFF + (uint64_t)slot * sizeof(struct linux_stack), flags);
}

int st_as_first_thread(struct plat_as *as)
{
	long tid;
	int slot;

	pthread_mutex_lock(&as->lock);
	slot = slot_take_locked(as);
	pthread_mutex_unlock(&as->lock);
	if (slot != 0)
		return -EIO; /* (an address space nobody has used) */
	tid = slot_thread(as, slot, 0);
	if (tid <= 0 || tid > INT32_MAX)
		return tid < 0 && tid >= -4095 ? (int)tid : -EIO;
	as->pre_tid = (pid_t)tid;
	as->pre_slot = 0;
	return 0;
}

void st_as_spare(struct plat_ctx *ctx)
{
	struct plat_as *as = ctx->as;
	long tid;
	int slot;

	if (!as || !ctx->started || atomic_load(&ctx->owner) != st_self())
		return;
	/* A glance first: this comes before every sleep of every task. */
	if (__atomic_load_n(&as->pre_tid, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&as->nctx_made, __ATOMIC_RELAXED) < 2)
		return;
	pthread_mutex_lock(&as->lock);
	slot = as->nctx_made >= 2 && !as->pre_tid && !atomic_load(&as->dead)
		       ? slot_take_locked(as)
		       : -1;
	if (slot >= 0)
		as->slot[slot] = SLOT_SPARE;
	pthread_mutex_unlock(&as->lock);
	if (slot < 0)
		return;
	/* The clone request flushes the queue first, as a second context's does. The task goes
	 * to sleep: what runs next on this CPU (the vfork child it waits for, a task it woke)
	 * should not wait for the clone, nor for the new thread's start, which the control
	 * thread then makes on another CPU (a shell's fork + exec of /bin/true ~5% faster,
	 * docs/performance.md, session 15). */
	tid = slot_thread(as, slot, ST_CTL_FLUSH | ST_CTL_AWAY);
	pthread_mutex_lock(&as->lock);
	if (tid > 0 && tid <= INT32_MAX) {
		as->pre_tid = (pid_t)tid;
		as->pre_slot = slot;
	} else {
		as->slot[slot] = SLOT_FREE;
	}
	pthread_mutex_unlock(&as->lock);
}

/* A new stub thread, cloned by the control thread into a free area; it waits for its first run.
 * Its FPU state is the caller's context's in as (read now: that context is stopped, the caller
 * being in the Sentry), or the initial one. */
static struct plat_ctx *systrap_ctx_create(struct plat_as *as)
{
	uint64_t self = st_self();
	struct plat_ctx *ctx = calloc(1, sizeof(*ctx)), *src;
	size_t fpn = fpstate_user_size();
	bool claimed, first;
	pid_t pre = 0;
	long tid;
	int slot, r;

	if (!ctx || !(ctx->init_fp = aligned_alloc(64, (fpn + 63) & ~(size_t)63))) {
		free(ctx);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&as->lock);
	if (atomic_load(&as->dead)) {
		pthread_mutex_unlock(&as->lock);
		ctx_free(ctx);
		errno = ESRCH;
		return NULL;
	}
	if (as->pre_tid) {
		/* A thread made before: a pooled address space's first, or a spare. */
		pre = as->pre_tid;
		as->pre_tid = 0;
		slot = as->pre_slot;
		as->slot[slot] = SLOT_USED;
	} else {
		slot = slot_take_locked(as);
	}
	src = own_ctx_locked(as, self);
	claimed = !src && as->creator == self && list_empty(&as->ctxs);
	/* A second context ends batching (systrap.h): before the clone, whose request waits for a
	 * batch in flight and flushes the queue. The first one takes the queue on its first run. */
	first = slot >= 0 && as->nctx_made == 0;
	if (slot >= 0 && as->nctx_made++ > 0)
		as->multi = true;
	pthread_mutex_unlock(&as->lock);
	if (slot < 0) {
		ctx_free(ctx);
		errno = EAGAIN;
		return NULL;
	}
	ctx->slot = slot;
	ctx->area = ST_SHM + ST_AREAS_OFF + (uint64_t)slot * ST_AREA_SIZE;
	ctx->msg = (struct st_msg *)(as->shm + (ctx->area - ST_SHM));
	if (src)
		r = st_fp_get(src, ctx->init_fp, fpn);
	else
		r = (fpstate_initial(ctx->init_fp), 0);
	/* A spare was made before mapping changes queued since: they go first, as a clone's. */
	if (r == 0 && pre && !first)
		r = (int)st_control_ex(as, -1, NULL, 0, ST_CTL_FLUSH);
	tid = r < 0 ? r : pre ? pre : slot_thread(as, slot, first ? 0 : ST_CTL_FLUSH);
	if (tid <= 0 || tid > INT32_MAX) {
		pthread_mutex_lock(&as->lock);
		as->slot[slot] = SLOT_FREE; /* no thread was made (or the stub is gone) */
		pthread_mutex_unlock(&as->lock);
		ctx_free(ctx);
		errno = tid < 0 && tid >= -4095 ? (int)-tid : EIO;
		return NULL;
	}
	ctx->tid = (pid_t)tid;
	st_ctx_init_pairing(ctx);
	atomic_store(&ctx->owner, claimed ? self : 0);
	pthread_mutex_lock(&as->lock);
	ctx->as = as;
	list_add(&ctx->link, &as->ctxs);
	pthread_mutex_unlock(&as->lock);
	return ctx;
}

int st_ctx_own(struct plat_ctx *ctx)
{
	uint64_t self = st_self(), owner = atomic_load(&ctx->owner);

	if (owner == self)
		return 0;
	if (owner == 0 && atomic_compare_exchange_strong(&ctx->owner, &owner, self))
		return 0;
	log_error("systrap: context of stub thread %d is claimed by another thread", ctx->tid);
	return -EPERM;
}

/* Tell ctx's thread to exit (it is stopped in its handler or about to report): EXIT wins over
 * its next report. */
static void thread_end(struct plat_ctx *ctx)
{
	uint32_t s = __atomic_load_n(&ctx->msg->state, __ATOMIC_ACQUIRE);

	while (s != ST_DEAD && !__atomic_compare_exchange_n(&ctx->msg->state, &s, ST_EXIT, false,
							     __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
		;
	st_futex_wake(&ctx->msg->state);
}

static void systrap_ctx_release(struct plat_ctx *ctx)
{
	uint64_t self = st_self(), owner;
	struct plat_as *as;

	if (!ctx)
		return;
	if (atomic_load(&ctx->owner) == self)
		pairing_undo(&ctx->pair, 0); /* this thread gets every CPU back */
	as = ctx->as;
	if (!as) { /* its address space is gone already */
		ctx_free(ctx);
		return;
	}
	/* Unclaimed: nobody may claim it from now on (a failed exchange leaves the claimer in
	 * owner). */
	owner = 0;
	if (!atomic_compare_exchange_strong(&ctx->owner, &owner, OWNER_GONE) && owner != self) {
		/* Another thread owns it (and may be running it): only as_release ends it. */
		pthread_mutex_lock(&as->lock);
		ctx->released = true;
		pthread_mutex_unlock(&as->lock);
		return;
	}
	pthread_mutex_lock(&as->lock);
	list_del(&ctx->link);
	as->slot[ctx->slot] = SLOT_EXITING;
	if (!atomic_load(&as->dead))
		thread_end(ctx);
	pthread_mutex_unlock(&as->lock);
	ctx_free(ctx);
}

static int systrap_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
			   struct plat_event *ev)
{
	return st_ctx_run(ctx, as, regs, ev);
}

static int systrap_ctx_get_fpstate(struct plat_ctx *ctx, void *buf, size_t size)
{
	int r = st_ctx_own(ctx);

	return r < 0 ? r : st_fp_get(ctx, buf, size);
}

static int systrap_ctx_set_fpstate(struct plat_ctx *ctx, const void *buf, size_t size)
{
	int r = st_ctx_own(ctx);

	return r < 0 ? r : st_fp_set(ctx, buf, size);
}

pid_t plat_systrap_ctx_tid(const struct plat_ctx *ctx)
{
	return ctx->as && !atomic_load(&ctx->as->dead) ? ctx->tid : -1;
}

const struct platform platform_systrap = {
	.name = "systrap",
	.preinit = systrap_init,
	.host_fd_maps = true,
	.init = systrap_init_pool,
	.as_create = systrap_as_create,
	.as_release = systrap_as_release,
	.as_map = systrap_as_map,
	.as_unmap = systrap_as_unmap,
	.as_protect = systrap_as_protect,
	.cpuid_answers = systrap_cpuid_answers,
	.as_cpuid_sites = systrap_as_cpuid_sites,
	.ctx_cpuid_learn = systrap_ctx_cpuid_learn,
	.ctx_create = systrap_ctx_create,
	.ctx_release = systrap_ctx_release,
	.ctx_run = systrap_ctx_run,
	.ctx_get_fpstate = systrap_ctx_get_fpstate,
	.ctx_set_fpstate = systrap_ctx_set_fpstate,
	.fpstate_size = fpstate_user_size,
	.ctx_interrupt = st_ctx_interrupt,
	.ctx_blocking = st_ctx_blocking,
	.patch_enable = st_stub_patch_enable,
	.max_user_addr = PLAT_STUB_BASE,
};

uint64_t plat_systrap_ctx_area(const struct plat_ctx *ctx)
{
	return ctx->area;
}

uint64_t plat_systrap_stub_syscall(void)
{
	return st_stub_test_syscall();
}

uint64_t plat_systrap_stub_batch_syscall(void)
{
	return st_stub_batch_rip() - 2;
}
