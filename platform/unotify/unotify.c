/* The seccomp user-notification platform (see unotify.h): address spaces are stub processes made
 * by the stub master, contexts are their worker threads, each with its own listener.
 *
 * Threads (platform.h's contract; nothing binds a worker to a Sentry thread in the kernel, so
 * the rules are ours, kept the same as ptrace's):
 *  - as_create() makes the stub and, at once, a first worker reserved for the calling thread
 *    (the creator): its as_map calls go through it, and its first ctx_create returns it, claimed.
 *  - Any other ctx_create(as) comes from a thread that owns a context in as: the factory clones
 *    a worker, which waits, parked in its first hand-off, until a thread claims it (the first
 *    ctx_run, ctx_get_fpstate or ctx_set_fpstate). Its FPU state is the caller's.
 *  - as_map, as_unmap, as_protect go through the calling thread's own worker in as (mappings are
 *    process-wide); a thread without one gets -EPERM.
 *  - ctx_release() from the owner, or from anyone while unclaimed, tells the worker to exit;
 *    from another thread the worker stays parked until as_release.
 *  - as_release() and ctx_interrupt() may come from any thread.
 *  - The stubs are the Sentry's children (CLONE_PARENT from the master): as_release reaps its
 *    own with waitpid; nothing else may wait for arbitrary children.
 */
#define _GNU_SOURCE
#include "platform/unotify/unotify.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/fpstate.h"
#include "platform/stub_master.h"

/* Linux 6.6's synchronous wake-up (Debian 12's headers predate it). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

bool g_un_fsgsbase;
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_inited;
static bool g_sync_warned;

/* preinit and init: the first call forks the stub master (before the Sentry confines itself:
 * boot calls preinit), later ones change nothing. */
static int unotify_init(int memfd)
{
	int r = 0;

	if (memfd < 0)
		return -EBADF;
	pthread_mutex_lock(&g_init_lock);
	if (!g_inited) {
		fpstate_init();
		g_un_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
		un_stub_init();
		r = stub_master_start(memfd, UN_SHM_SIZE, un_stub_boot, un_stub_rules,
				      un_stub_nrules, 0);
		g_inited = r == 0;
	}
	pthread_mutex_unlock(&g_init_lock);
	return r;
}

pid_t plat_unotify_as_pid(const struct plat_as *as)
{
	return as->pid;
}

pid_t plat_unotify_ctx_tid(const struct plat_ctx *ctx)
{
	return ctx->dead ? -1 : ctx->tid;
}

void un_as_lost(struct plat_as *as)
{
	__atomic_store_n(&as->dead, true, __ATOMIC_RELAXED);
}

/* Is the stub gone? Leaves its zombie for as_release to reap. */
static bool stub_dead(struct plat_as *as)
{
	siginfo_t si = {0};

	if (as->dead)
		return true;
	if (waitid(P_PID, (id_t)as->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	if (si.si_pid == as->pid)
		un_as_lost(as);
	return as->dead;
}

/* Wait until *word == want (a futex word the stub writes), checking that the stub lives.
 * 0, -ESRCH (it died), or -EIO (it did not answer within ten seconds). */
static int wait_word(struct plat_as *as, uint32_t *word, uint32_t want)
{
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	uint32_t v;

	for (int i = 0; i < 500; i++) {
		if ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == want)
			return 0;
		syscall(SYS_futex, word, FUTEX_WAIT, v, &tick, NULL, 0);
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == want)
			return 0;
		if (stub_dead(as))
			return -ESRCH;
	}
	log_error("unotify stub %d does not answer", as->pid);
	return -EIO;
}

/* Kill stub pid and reap it. Not reaped before, so the pid is still that stub's. */
static void stub_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

static void ctx_free(struct plat_ctx *ctx)
{
	if (ctx->listener >= 0)
		close(ctx->listener);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* A free worker slot (its last thread exited: the kernel cleared its tid), marked used; -1 when
 * none. as->lock held. */
static int slot_alloc_locked(struct plat_as *as)
{
	for (int i = 1; i < UN_NSLOTS; i++) {
		if (as->slot_used[i] || __atomic_load_n(&un_slot(as, i)->tid, __ATOMIC_ACQUIRE))
			continue;
		as->slot_used[i] = 1;
		return i;
	}
	return -1;
}

/* A new worker in as, in slot i: asked of the factory, or (first) the one it makes unasked in
 * UN_FIRST_SLOT. Waits for it to report in its slot, takes its listener, receives its first
 * hand-off and gives it its FPU state (src's, or the initial one). Returns the context (not in
 * as->ctxs, unclaimed) or NULL with errno set. */
static struct plat_ctx *worker_new(struct plat_as *as, struct plat_ctx *src, bool first)
{
	struct un_ctl *ctl = (struct un_ctl *)as->shm;
	struct plat_ctx *ctx = calloc(1, sizeof(*ctx));
	struct un_slot *slot;
	uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	uint32_t tid;
	int r, fd;

	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->listener = -1;
	ctx->as = as;
	pthread_mutex_lock(&as->lock);
	if (first) {
		ctx->slot = UN_FIRST_SLOT;
		as->slot_used[UN_FIRST_SLOT] = 1;
	} else {
		ctx->slot = slot_alloc_locked(as);
	}
	if (ctx->slot < 0) {
		pthread_mutex_unlock(&as->lock);
		log_warn("unotify stub %d: no free worker slot (%d threads)", as->pid,
			 UN_NSLOTS - 1);
		r = -EAGAIN;
		goto fail_noslot;
	}
	slot = un_slot(as, ctx->slot);
	if (!first) {
		memset(slot, 0, sizeof(*slot));
		slot->flags = g_un_fsgsbase ? UN_SLOT_FSGSBASE : 0;
		ctl->slot = un_slot_addr(ctx->slot);
		__atomic_add_fetch(&ctl->req, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &ctl->req, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	/* Under the lock: once the worker reports, the factory has read CTL_SLOT. */
	r = wait_word(as, &slot->ready, 1);
	pthread_mutex_unlock(&as->lock);
	if (r < 0)
		goto fail;
	fd = __atomic_load_n(&slot->listener, __ATOMIC_ACQUIRE);
	tid = __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE); /* CLONE_CHILD_SETTID */
	if (fd < 0 || tid == 0 || tid > INT32_MAX) {
		log_error("unotify stub %d: a new worker: %s", as->pid,
			  fd < 0 && fd >= -4095 ? strerror(-fd) : "no tid");
		r = fd < 0 && fd >= -4095 ? fd : -EIO;
		goto fail;
	}
	ctx->tid = (pid_t)tid;
	ctx->listener = (int)syscall(SYS_pidfd_getfd, as->pidfd, fd, 0);
	if (ctx->listener < 0) {
		r = -errno;
		log_error("unotify stub %d: pidfd_getfd of a listener: %s", as->pid, strerror(-r));
		goto fail;
	}
	if (ioctl(ctx->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) < 0 && !g_sync_warned) {
		g_sync_warned = true;
		log_warn("unotify: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: %s (Linux 6.6+): hand-offs "
			 "will be slower",
			 strerror(errno));
	}
	if ((r = un_worker_start(ctx, src)) < 0)
		goto fail;
	return ctx;
fail:
	/* The worker may live on, parked or lost: as_release ends it with the stub. Its slot
	 * stays used until then. */
	if (r == -ESRCH)
		un_as_lost(as);
fail_noslot:
	ctx_free(ctx);
	errno = -r;
	return NULL;
}

static struct plat_as *unotify_as_create(void)
{
	struct stub_spawn sp;
	struct plat_as *as;
	void *shm;
	int r;

	if (!g_inited) {
		errno = EINVAL; /* init() not called */
		return NULL;
	}
	if ((r = stub_master_spawn(&sp)) < 0) {
		errno = -r;
		return NULL;
	}
	shm = mmap(NULL, UN_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, sp.shmfd,
		   0);
	r = shm == MAP_FAILED ? -errno : 0;
	close(sp.shmfd);
	as = r == 0 ? calloc(1, sizeof(*as)) : NULL;
	if (!as) {
		r = r ? r : -ENOMEM;
		if (shm != MAP_FAILED)
			munmap(shm, UN_SHM_SIZE);
		stub_kill(sp.pid);
		close(sp.pidfd);
		errno = -r;
		return NULL;
	}
	as->pid = sp.pid;
	as->pidfd = sp.pidfd;
	as->shm = shm;
	as->creator = stub_gettid();
	pthread_mutex_init(&as->lock, NULL);
	list_init(&as->ctxs);
	as->reserved = worker_new(as, NULL, true);
	if (!as->reserved) {
		r = errno;
		platform_unotify.as_release(as);
		errno = r;
		return NULL;
	}
	log_debug("unotify stub %d created by thread %d", as->pid, as->creator);
	return as;
}

/* Kill the stub and reap it, then free as. Contexts still in the list stay valid for their
 * owners (ctx->as becomes NULL, the worker dead) but those already released, which are freed. */
static void unotify_as_release(struct plat_as *as)
{
	struct list_head *pos, *n;

	if (!as)
		return;
	stub_kill(as->pid);
	pthread_mutex_lock(&as->lock);
	list_for_each_safe(pos, n, &as->ctxs) {
		struct plat_ctx *ctx = list_entry(pos, struct plat_ctx, link);

		list_del(&ctx->link);
		ctx->as = NULL;
		ctx->dead = true;
		if (ctx->released)
			ctx_free(ctx);
	}
	pthread_mutex_unlock(&as->lock);
	if (as->reserved)
		ctx_free(as->reserved);
	munmap(as->shm, UN_SHM_SIZE);
	close(as->pidfd);
	pthread_mutex_destroy(&as->lock);
	free(as);
}

/* The calling thread's context in as, to command through: one it owns, or the creator's
 * reserved worker. Returns 0 with *out set, -ESRCH when the stub is gone, -EPERM when the caller
 * has none. */
static int injector(struct plat_as *as, struct plat_ctx **out)
{
	pid_t self = stub_gettid();
	struct list_head *pos;
	int r = -EPERM;

	if (as->dead)
		return -ESRCH;
	pthread_mutex_lock(&as->lock);
	if (as->reserved && as->creator == self) {
		*out = as->reserved;
		r = 0;
	}
	list_for_each(pos, &as->ctxs) {
		struct plat_ctx *c = list_entry(pos, struct plat_ctx, link);

		if (r == 0)
			break;
		if (c->owner == self && !c->released && !c->dead) {
			*out = c;
			r = 0;
		}
	}
	pthread_mutex_unlock(&as->lock);
	if (r == -EPERM)
		log_error("unotify: thread %d has no worker in stub %d", self, as->pid);
	return r;
}

/* Run nr in the stub through the caller's worker. Returns its result or -errno. */
static long inject(struct plat_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3, uint64_t a4, uint64_t a5)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	struct plat_ctx *ctx;
	long res;
	int r = injector(as, &ctx);

	if (r < 0)
		return r;
	r = un_command(ctx, nr, a, &res);
	return r < 0 ? r : res;
}

/* Host fds other than the memory file are not supported yet (-ENOSYS). The way: the Sentry
 * puts the fd into the stub with SECCOMP_IOCTL_NOTIF_ADDFD while the worker is in a hand-off,
 * maps it with a verified mmap and closes it. */
static int unotify_as_map(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd,
			  uint64_t off)
{
	long res;

	if (len == 0 || plat_range_check(addr, len) < 0 || !IS_PAGE_ALIGNED(off))
		return -EINVAL;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	if (fd != PLAT_FD_MEMFILE)
		return -ENOSYS;
	res = inject(as, __NR_mmap, addr, len, (uint64_t)prot, MAP_SHARED | MAP_FIXED,
		     UN_FD_MEMFILE, off);
	if (res < 0 && res >= -4095)
		return (int)res;
	if ((uint64_t)res != addr) {
		log_error("unotify stub %d: mmap at %#llx returned %#lx", as->pid,
			  (unsigned long long)addr, res);
		return -EIO;
	}
	return 0;
}

static int unotify_as_unmap(struct plat_as *as, uint64_t addr, uint64_t len)
{
	/* The stub's filter lets munmap through for lengths below 4 GiB only. */
	const uint64_t chunk = 0x100000000ULL - PAGE_SIZE;
	long r = 0;

	if (len == 0)
		return 0;
	if (plat_range_check(addr, len) < 0)
		return -EINVAL;
	while (len && r >= 0) {
		uint64_t n = MIN(len, chunk);

		r = inject(as, __NR_munmap, addr, n, 0, 0, 0, 0);
		addr += n;
		len -= n;
	}
	return (int)r;
}

static int unotify_as_protect(struct plat_as *as, uint64_t addr, uint64_t len, int prot)
{
	if (len == 0)
		return 0;
	if (plat_range_check(addr, len) < 0)
		return -EINVAL;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	return (int)inject(as, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
}

static struct plat_ctx *unotify_ctx_create(struct plat_as *as)
{
	pid_t self = stub_gettid();
	struct plat_ctx *ctx, *src = NULL;
	int r;

	if (as->dead) {
		errno = ESRCH;
		return NULL;
	}
	pthread_mutex_lock(&as->lock);
	if (as->reserved && as->creator == self) {
		/* The creator's first: the worker made with the stub, already claimed. */
		ctx = steal_pointer(&as->reserved);
		ctx->owner = self;
		list_add(&ctx->link, &as->ctxs);
		pthread_mutex_unlock(&as->lock);
		return ctx;
	}
	pthread_mutex_unlock(&as->lock);
	if ((r = injector(as, &src)) < 0) {
		errno = -r;
		return NULL;
	}
	ctx = worker_new(as, src, false);
	if (!ctx)
		return NULL;
	pthread_mutex_lock(&as->lock);
	list_add(&ctx->link, &as->ctxs);
	pthread_mutex_unlock(&as->lock);
	return ctx;
}

int un_ctx_own(struct plat_ctx *ctx)
{
	pid_t self = stub_gettid();
	struct plat_as *as;
	int r = 0;

	if (__atomic_load_n(&ctx->owner, __ATOMIC_RELAXED) == self)
		return ctx->dead ? -ESRCH : 0;
	as = ctx->as;
	if (!as || ctx->dead)
		return -ESRCH;
	pthread_mutex_lock(&as->lock);
	if (ctx->owner == 0)
		__atomic_store_n(&ctx->owner, self, __ATOMIC_RELAXED);
	else if (ctx->owner != self)
		r = -EPERM;
	pthread_mutex_unlock(&as->lock);
	if (r == -EPERM)
		log_error("unotify worker %d is claimed by thread %d, used from thread %d",
			  ctx->tid, ctx->owner, self);
	return r;
}

static void unotify_ctx_release(struct plat_ctx *ctx)
{
	pid_t self = stub_gettid();
	struct plat_as *as;

	if (!ctx)
		return;
	as = ctx->as;
	if (!as) {
		/* Its address space is gone: its worker with it. */
		ctx_free(ctx);
		return;
	}
	pthread_mutex_lock(&as->lock);
	if (ctx->owner != 0 && ctx->owner != self && !ctx->dead) {
		/* Another thread owns it, maybe running it: as_release will end it. */
		log_debug("unotify worker %d released from thread %d, owned by %d", ctx->tid, self,
			  ctx->owner);
		ctx->released = true;
		pthread_mutex_unlock(&as->lock);
		return;
	}
	list_del(&ctx->link);
	pthread_mutex_unlock(&as->lock);
	/* Parked in a hand-off: told to exit, it frees its slot as it goes (the kernel clears its
	 * tid), and its listener goes with our fd. */
	if (!ctx->dead && !as->dead)
		un_send(ctx, UN_CMD_EXIT);
	pthread_mutex_lock(&as->lock);
	as->slot_used[ctx->slot] = 0;
	pthread_mutex_unlock(&as->lock);
	ctx_free(ctx);
}

/* SIG_INTERRUPT to the one worker: its handler hands over at once, or right after the frame it
 * is in now (signals are blocked in the handler). tgkill with the stub's pid cannot reach a
 * thread of another process, whatever became of the tid. */
static void unotify_ctx_interrupt(struct plat_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->interrupted = true;
	if (ctx->running && ctx->as)
		syscall(SYS_tgkill, ctx->as->pid, ctx->tid, UN_SIG_INTERRUPT);
	pthread_mutex_unlock(&ctx->lock);
}

static size_t unotify_fpstate_size(void)
{
	return fpstate_user_size();
}

const struct platform platform_unotify = {
	.name = "unotify",
	.preinit = unotify_init,
	.init = unotify_init,
	.as_create = unotify_as_create,
	.as_release = unotify_as_release,
	.as_map = unotify_as_map,
	.as_unmap = unotify_as_unmap,
	.as_protect = unotify_as_protect,
	.ctx_create = unotify_ctx_create,
	.ctx_release = unotify_ctx_release,
	.ctx_run = un_ctx_run,
	.ctx_get_fpstate = un_ctx_get_fpstate,
	.ctx_set_fpstate = un_ctx_set_fpstate,
	.fpstate_size = unotify_fpstate_size,
	.ctx_interrupt = unotify_ctx_interrupt,
	.max_user_addr = PLAT_STUB_BASE,
};
