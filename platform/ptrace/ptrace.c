/* The ptrace platform: one stub process per address space and one stub thread per context,
 * application code run with PTRACE_SYSEMU, mappings changed by syscalls injected into the stub.
 *
 * Threads (ptrace binds a tracee thread to one tracer *thread*):
 *  - as_create() makes the calling thread (the creator) the tracer of the stub's leader, through
 *    which it maps memory. Its first ctx_create gets a context on the leader itself, already
 *    claimed by the creator (fork, exec: no clone, no seizing).
 *  - Any other ctx_create(as) clones a new stub thread through the thread the caller traces (its
 *    claimed context's) and leaves it parked, untraced. The first ctx_run, ctx_get_fpstate or
 *    ctx_set_fpstate claims the context for the calling thread: it seizes the stub thread
 *    (PTRACE_SEIZE + PTRACE_INTERRUPT). Later calls from other threads get -EPERM.
 *  - as_map, as_unmap, as_protect and ctx_create inject through the caller's own stub thread in
 *    that address space (mappings are process-wide); a caller without one gets -EPERM.
 *  - ctx_release() from the context's claimer, or from any thread while unclaimed, ends its stub
 *    thread alone (an injected exit; the leader is parked instead). From another thread the stub
 *    thread stays, stopped, until as_release.
 *  - A Sentry thread that exits while it traces a stub thread kills the whole stub process
 *    (PTRACE_O_EXITKILL: SIGKILL kills a thread group): release contexts on their own thread.
 *  - as_release() and ctx_interrupt() may be called from any Sentry thread.
 *  - Nothing else in the Sentry may wait for children with waitpid(-1)/wait(): it would reap
 *    stubs or swallow their stops. SIGCHLD must not be set to SIG_IGN (that auto-reaps).
 */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

_Static_assert(LINUX_PROT_READ == PROT_READ && LINUX_PROT_WRITE == PROT_WRITE &&
		       LINUX_PROT_EXEC == PROT_EXEC,
	       "as_map passes prot to the host as is");

pthread_mutex_t g_ptrace_lock = PTHREAD_MUTEX_INITIALIZER;

static int g_memfd = -1;

/* Reserve the stub region in the Sentry (once) and remember the memory file. */
static int ptrace_init(int memfd)
{
	int r;

	if (memfd < 0)
		return -EBADF;
	if ((r = stub_region_reserve()) < 0)
		return r;
	fpstate_init();
	pairing_init();
	g_memfd = memfd;
	return 0;
}

static struct plat_as *ptrace_as_create(void)
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
	list_init(&as->ctxs);
	r = stub_create(as, g_memfd);
	if (r < 0) {
		free(as);
		errno = -r;
		return NULL;
	}
	return as;
}

static void ctx_destroy(struct plat_ctx *ctx)
{
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* Take ctx out of its address space's list. g_ptrace_lock held. */
static void ctx_unlink_locked(struct plat_ctx *ctx)
{
	if (!ctx->as)
		return;
	if (ctx->as->hint == ctx)
		ctx->as->hint = NULL;
	list_del(&ctx->link);
	ctx->as = NULL;
}

/* Kill the stub and reap every thread of it, then free as. The lock is held throughout so that
 * no ctx_release frees a context being reaped; the waits end promptly (SIGKILL). Contexts still
 * in the list stay valid for their owners (ctx->as becomes NULL, their thread dead) except those
 * already released, which are freed. */
static void ptrace_as_release(struct plat_as *as)
{
	struct list_head *pos, *n;

	if (!as)
		return;
	pthread_mutex_lock(&g_ptrace_lock);
	/* Not reaped yet, so the pid is still this stub's. */
	if (!as->leader.reaped)
		kill(as->leader.pid, SIGKILL);
	/* Threads first: the kernel reports the leader's exit only once the others are reaped.
	 * Any thread of the Sentry can reap a tracee of another (same thread group); untraced
	 * threads are reaped by the kernel. */
	list_for_each(pos, &as->ctxs) {
		struct plat_ctx *ctx = list_entry(pos, struct plat_ctx, link);

		if (ctx->th != &as->leader) {
			if (ctx->th->tracer)
				stub_reap(ctx->th, true);
			ctx->th->dead = ctx->th->reaped = true;
		}
	}
	stub_reap(&as->leader, true);
	list_for_each_safe(pos, n, &as->ctxs) {
		struct plat_ctx *ctx = list_entry(pos, struct plat_ctx, link);

		if (ctx->th == &as->leader) {
			ctx->own = as->leader;
			ctx->th = &ctx->own;
		}
		ctx_unlink_locked(ctx);
		if (ctx->released)
			ctx_destroy(ctx);
	}
	pthread_mutex_unlock(&g_ptrace_lock);
	free(as);
}

/* Is the calling thread self the creator of as, still injecting through the leader with no
 * context on it? g_ptrace_lock held. */
static bool creator_phase_locked(const struct plat_as *as, pid_t self)
{
	return !as->parked && !as->leader_ctx && as->leader.tracer == self && !as->leader.dead;
}

/* The stub thread of as the calling thread traces, to inject through: its claimed context's or,
 * for the creator before it has a context, the leader. Returns 0 with *th set, -ESRCH when the
 * stub is gone, -EPERM when the caller traces no thread of it. */
static int injector(struct plat_as *as, struct stub_thread **th)
{
	pid_t self = stub_gettid();
	struct plat_ctx *ctx = NULL;
	struct list_head *pos;
	int r = 0;

	pthread_mutex_lock(&g_ptrace_lock);
	if (as->hint && as->hint->th->tracer == self) {
		ctx = as->hint;
	} else {
		list_for_each(pos, &as->ctxs) {
			struct plat_ctx *c = list_entry(pos, struct plat_ctx, link);

			if (c->th->tracer == self && !c->released) {
				ctx = as->hint = c;
				break;
			}
		}
	}
	if (ctx)
		*th = ctx->th;
	else if (creator_phase_locked(as, self))
		*th = &as->leader;
	else
		r = as->leader.dead ? -ESRCH : -EPERM;
	pthread_mutex_unlock(&g_ptrace_lock);
	if (r == -EPERM)
		log_error("ptrace: thread %d traces no thread of stub %d", self, as->leader.pid);
	return r;
}

/* Run syscall nr in the stub. Returns its result, or -errno (its own or the platform's). */
static long inject(struct plat_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3, uint64_t a4, uint64_t a5)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	struct stub_thread *th;
	long res;
	int r = injector(as, &th);

	if (r < 0)
		return r;
	r = stub_syscall(th, &res, nr, a);
	return r < 0 ? r : res;
}

/* Host fds other than the memory file (read-only file mappings donated by the gofer) are not
 * supported yet: -ENOSYS. The plan: a SOCK_SEQPACKET socketpair per stub, its end at fd 1 of the
 * stub; the Sentry sends the fd with SCM_RIGHTS and injects recvmsg (the msghdr in a scratch page
 * of the stub region), mmap of the received fd, close. The stub's filter then allows recvmsg
 * and close as well. */
static int ptrace_as_map(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd,
			 uint64_t off)
{
	long res;
	int r;

	if (len == 0 || (r = plat_range_check(addr, len)) < 0 || !IS_PAGE_ALIGNED(off))
		return -EINVAL;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	if (fd != PLAT_FD_MEMFILE)
		return -ENOSYS;
	/* LINUX_PROT_* are the host's PROT_* on x86-64. */
	res = inject(as, __NR_mmap, addr, len, (uint64_t)prot, MAP_SHARED | MAP_FIXED,
		     STUB_FD_MEMFILE, off);
	if (res < 0 && res >= -4095)
		return (int)res;
	if ((uint64_t)res != addr) {
		log_error("ptrace stub %d: mmap at %#llx returned %#lx", as->leader.pid,
			  (unsigned long long)addr, res);
		return -EIO;
	}
	return 0;
}

static int ptrace_as_unmap(struct plat_as *as, uint64_t addr, uint64_t len)
{
	int r;

	if (len == 0)
		return 0;
	if ((r = plat_range_check(addr, len)) < 0)
		return r;
	return (int)inject(as, __NR_munmap, addr, len, 0, 0, 0, 0);
}

static int ptrace_as_protect(struct plat_as *as, uint64_t addr, uint64_t len, int prot)
{
	int r;

	if (len == 0)
		return 0;
	if ((r = plat_range_check(addr, len)) < 0)
		return r;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	return (int)inject(as, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
}

/* The creator's first context runs on the leader; any other is a new stub thread, cloned
 * through the caller's own thread in as and parked until claimed. */
static struct plat_ctx *ptrace_ctx_create(struct plat_as *as)
{
	struct stub_thread *from;
	struct plat_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_lock(&g_ptrace_lock);
	if (creator_phase_locked(as, stub_gettid())) {
		ctx->th = &as->leader; /* claimed by the creator already */
		as->leader_ctx = ctx;
		ctx->as = as;
		list_add(&ctx->link, &as->ctxs);
		pthread_mutex_unlock(&g_ptrace_lock);
		return ctx;
	}
	pthread_mutex_unlock(&g_ptrace_lock);
	r = injector(as, &from);
	if (r == 0)
		r = stub_thread_clone(from, &ctx->own);
	if (r < 0) {
		ctx_destroy(ctx);
		errno = -r;
		return NULL;
	}
	pthread_mutex_lock(&g_ptrace_lock);
	ctx->th = &ctx->own;
	ctx->as = as;
	list_add(&ctx->link, &as->ctxs);
	pthread_mutex_unlock(&g_ptrace_lock);
	return ctx;
}

pid_t plat_ptrace_ctx_tid(const struct plat_ctx *ctx)
{
	return ctx->th->dead ? -1 : ctx->th->tid;
}

/* The tracer of ctx's stub thread as the caller sees it (written under the lock by claims). */
static pid_t ctx_tracer(const struct plat_ctx *ctx)
{
	return __atomic_load_n(&ctx->th->tracer, __ATOMIC_RELAXED);
}

/* Make the calling thread the owner of ctx, seizing its stub thread. Returns 0, -EPERM (another
 * thread owns it or is claiming it) or -ESRCH. */
static int ctx_claim(struct plat_ctx *ctx)
{
	pid_t self = stub_gettid();
	struct stub_thread *th;
	int r;

	pthread_mutex_lock(&g_ptrace_lock);
	th = ctx->th;
	if (!ctx->as || th->dead) {
		pthread_mutex_unlock(&g_ptrace_lock);
		return -ESRCH;
	}
	if (th->tracer == self) {
		pthread_mutex_unlock(&g_ptrace_lock);
		return 0;
	}
	if (th->tracer || ctx->claiming) {
		pthread_mutex_unlock(&g_ptrace_lock);
		log_error("ptrace stub %d thread %d is claimed by thread %d, used from thread %d",
			  th->pid, th->tid, th->tracer, self);
		return -EPERM;
	}
	ctx->claiming = true;
	pthread_mutex_unlock(&g_ptrace_lock);

	r = stub_thread_seize(th);

	pthread_mutex_lock(&g_ptrace_lock);
	ctx->claiming = false;
	if (r == 0)
		__atomic_store_n(&th->tracer, self, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&g_ptrace_lock);
	return r;
}

/* The calling thread's access to ctx: 0 when it owns it (claiming it when nobody does), -EPERM,
 * or -ESRCH when the stub thread is gone. */
static int ctx_own(struct plat_ctx *ctx)
{
	if (ctx_tracer(ctx) != stub_gettid())
		return ctx_claim(ctx);
	return ctx->th->dead ? -ESRCH : 0;
}

static void ptrace_ctx_release(struct plat_ctx *ctx)
{
	pid_t self = stub_gettid();
	struct plat_as *as;
	struct stub_thread *th;

	if (!ctx)
		return;
	pthread_mutex_lock(&g_ptrace_lock);
	as = ctx->as;
	th = ctx->th;
	if (th->tracer == self)
		pairing_undo(&th->pair, 0);
	if (as && th == &as->leader && th->tracer == self && !th->dead) {
		/* The leader cannot exit alone (see ptrace.h): park it until as_release. */
		ctx_unlink_locked(ctx);
		as->leader_ctx = NULL;
		pthread_mutex_unlock(&g_ptrace_lock);
		stub_thread_park(th);
		pthread_mutex_lock(&g_ptrace_lock);
		as->parked = true;
		pthread_mutex_unlock(&g_ptrace_lock);
		ctx_destroy(ctx);
		return;
	}
	if (!as || th->dead || th->tracer == self) {
		/* Gone with its address space, dead, or ours: end it ourselves. A dead leader
		 * is reaped by as_release. */
		if (as && th == &as->leader)
			as->leader_ctx = NULL;
		ctx_unlink_locked(ctx);
		pthread_mutex_unlock(&g_ptrace_lock);
		stub_thread_exit(th);
		ctx_destroy(ctx);
		return;
	}
	if (th->tracer == 0 && !ctx->claiming) {
		/* Never claimed: seize it from here to end it. */
		ctx_unlink_locked(ctx);
		pthread_mutex_unlock(&g_ptrace_lock);
		if (stub_thread_seize(th) == 0) {
			th->tracer = self;
			stub_thread_exit(th);
		}
		ctx_destroy(ctx);
		return;
	}
	/* Another thread traces it (or its tracer exited, which killed the stub): only as_release
	 * can end it now. */
	log_debug("ptrace stub %d thread %d released from thread %d, traced by %d", th->pid,
		  th->tid, self, th->tracer);
	ctx->released = true;
	pthread_mutex_unlock(&g_ptrace_lock);
}

/* Make regs safe to load: 64-bit user selectors, only user-settable flags, and no syscall
 * restart by the host (orig_rax -1: the Sentry decides restarts itself). */
static void regs_sanitise(struct linux_regs *r)
{
	r->cs = STUB_USER_CS;
	r->ss = STUB_USER_SS;
	r->ds = r->es = r->fs = r->gs = 0;
	r->eflags = (r->eflags & STUB_EFLAGS_USER) | STUB_EFLAGS_FIXED;
	r->orig_rax = (uint64_t)-1;
}

/* Turn a signal stop into an event. Returns true when it is one, false for host noise that is
 * swallowed (the next resume passes signal 0). */
static bool signal_event(int sig, int async, const siginfo_t *si, struct plat_event *ev)
{
	if (async) {
		if (sig != SIGSTOP)
			return false;
		ev->kind = PLAT_EV_INTERRUPT;
		return true;
	}
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
		ev->kind = PLAT_EV_FAULT;
		ev->signo = sig;
		ev->si_code = si->si_code;
		ev->fault_addr = (uint64_t)(uintptr_t)si->si_addr;
		ev->access = 0; /* ptrace does not tell the fault's error code */
		return true;
	case SIGSYS:
		/* The stub's filter trapped a syscall that bypassed SYSEMU: the kernel's
		 * vsyscall emulation. The kernel has already emulated the `ret`. */
		if (si->si_code != SYS_SECCOMP)
			return false;
		ev->kind = PLAT_EV_SYSCALL;
		return true;
	default:
		return false;
	}
}

/* Do the registers at a syscall stop show a `syscall` instruction? It leaves the return address
 * in rcx and the flags in r11, and the kernel's pt_regs take rip and eflags from exactly those;
 * int $0x80 (an i386 syscall, which SYSEMU reports the same way) leaves them alone. An
 * application can only fool this into its own disadvantage: it gets the 64-bit syscall it could
 * have made with `syscall` anyway. Costs no ptrace request, unlike PTRACE_GET_SYSCALL_INFO. */
static bool syscall_insn_regs(const struct linux_regs *r)
{
	return r->rcx == r->rip && r->r11 == r->eflags;
}

/* Load regs into th, run it until an event, store its registers back. */
static int run_until_event(struct stub_thread *th, struct plat_regs *regs, struct plat_event *ev)
{
	struct linux_regs r = regs->regs;
	siginfo_t si = {0};
	int status, sig, k;

	regs_sanitise(&r);
	/* ptrace never spins: every stop and every resume is a wake-up of the other side. */
	pairing_follow(&th->pair, th->tid);
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &r) < 0) {
		if (errno == ESRCH)
			return stub_lost(th, errno);
		/* A value the kernel refuses (fs_base/gs_base beyond the user range). */
		log_warn("ptrace stub %d: PTRACE_SETREGS: %s", th->pid, strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		if (ptrace(PTRACE_SYSEMU, th->tid, NULL, NULL) < 0)
			return stub_lost(th, errno);
		if ((k = stub_wait(th, &status)) < 0)
			return k;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			ev->kind = PLAT_EV_SYSCALL;
			si.si_signo = 0;
			break;
		}
		if (status >> 16)
			continue; /* an event stop: a group stop of the seized thread */
		if ((k = stub_stop_is_async(th, &si)) < 0)
			return stub_lost(th, -k);
		if (signal_event(sig, k, &si, ev))
			break;
	}
	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &regs->regs) < 0)
		return stub_lost(th, errno);
	if (si.si_signo == SIGSYS)
		regs->regs.orig_rax = (uint64_t)si.si_syscall;
	else if (ev->kind == PLAT_EV_SYSCALL)
		ev->syscall32 = !syscall_insn_regs(&regs->regs);
	return 0;
}

static int ptrace_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
			  struct plat_event *ev)
{
	pid_t tracer = ctx_tracer(ctx);
	int r;

	if (as != ctx->as)
		return ctx->as ? -EINVAL : -ESRCH;
	if (tracer && tracer != stub_gettid())
		return ctx_claim(ctx); /* -EPERM, logged */
	memset(ev, 0, sizeof(*ev));
	pthread_mutex_lock(&ctx->lock);
	if (ctx->interrupted) {
		ctx->interrupted = false;
		pthread_mutex_unlock(&ctx->lock);
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	if ((r = ctx_own(ctx)) < 0)
		return r;

	pthread_mutex_lock(&ctx->lock);
	ctx->running = true;
	pthread_mutex_unlock(&ctx->lock);

	r = run_until_event(ctx->th, regs, ev);

	pthread_mutex_lock(&ctx->lock);
	ctx->running = false;
	if (r == 0 && ev->kind == PLAT_EV_INTERRUPT)
		ctx->interrupted = false;
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

/* SIGSTOP cannot be blocked or handled; the stop it causes is swallowed by ctx_run. It is sent
 * to the one stub thread (tgkill), whose tracer suppresses it, so no group stop follows. The
 * thread is reaped only by its tracer, which clears ctx->running under the lock first. */
static void ptrace_ctx_interrupt(struct plat_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->interrupted = true;
	if (ctx->running)
		syscall(SYS_tgkill, ctx->th->pid, ctx->th->tid, SIGSTOP);
	pthread_mutex_unlock(&ctx->lock);
}

/* The task sleeps in the Sentry: its pair no longer counts as running (pairing.h). */
static void ptrace_ctx_blocking(struct plat_ctx *ctx)
{
	if (ctx_tracer(ctx) == stub_gettid())
		pairing_idle(&ctx->th->pair);
}

static int ptrace_ctx_get_fpstate(struct plat_ctx *ctx, void *buf, size_t size)
{
	int r = ctx_own(ctx);

	return r < 0 ? r : fpstate_get(ctx->th, buf, size);
}

static int ptrace_ctx_set_fpstate(struct plat_ctx *ctx, const void *buf, size_t size)
{
	int r = ctx_own(ctx);

	return r < 0 ? r : fpstate_set(ctx->th, buf, size);
}

const struct platform platform_ptrace = {
	.name = "ptrace",
	.init = ptrace_init,
	.as_create = ptrace_as_create,
	.as_release = ptrace_as_release,
	.as_map = ptrace_as_map,
	.as_unmap = ptrace_as_unmap,
	.as_protect = ptrace_as_protect,
	.ctx_create = ptrace_ctx_create,
	.ctx_release = ptrace_ctx_release,
	.ctx_run = ptrace_ctx_run,
	.ctx_get_fpstate = ptrace_ctx_get_fpstate,
	.ctx_set_fpstate = ptrace_ctx_set_fpstate,
	.fpstate_size = fpstate_user_size,
	.ctx_interrupt = ptrace_ctx_interrupt,
	.ctx_blocking = ptrace_ctx_blocking,
	.max_user_addr = PLAT_STUB_BASE,
};
