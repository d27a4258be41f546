/* The ptrace platform: one stub process per address space, application code run with
 * PTRACE_SYSEMU, mappings changed by syscalls injected into the stub.
 *
 * Threads (ptrace binds a tracee to one tracer *thread*):
 *  - as_create() makes the calling thread the stub's tracer. as_map, as_unmap, as_protect and
 *    ctx_run on that address space must come from the same thread; others get -EPERM. The stub
 *    is killed when that thread exits (PTRACE_O_EXITKILL, PR_SET_PDEATHSIG).
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

/* EFLAGS bits an application may set (those popf can change in user mode): CF PF AF ZF SF TF DF
 * OF AC ID. Bit 1 is always one and IF always set. */
#define EFLAGS_USER 0x240dd5ULL
#define EFLAGS_FIXED 0x202ULL

struct plat_ctx {
	pthread_mutex_t lock;
	struct plat_as *running; /* the address space ctx_run is running in, or NULL */
	bool interrupted;        /* ctx_interrupt called and not reported yet */
};

static int g_memfd = -1;
static bool g_reserved;

/* Reserve the stub region in the Sentry, once, and remember the memory file. */
static int ptrace_init(int memfd)
{
	void *p;
	int r;

	if (memfd < 0)
		return -EBADF;
	if (!g_reserved) {
		p = mmap((void *)PLAT_STUB_BASE, PLAT_STUB_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			log_error("ptrace: cannot reserve the stub region at %#llx: %s",
				  PLAT_STUB_BASE, strerror(-r));
			return r;
		}
		if (p != (void *)PLAT_STUB_BASE) { /* a kernel without MAP_FIXED_NOREPLACE */
			munmap(p, PLAT_STUB_SIZE);
			return -EEXIST;
		}
		g_reserved = true;
	}
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
	r = stub_create(as, g_memfd);
	if (r < 0) {
		free(as);
		errno = -r;
		return NULL;
	}
	return as;
}

static void ptrace_as_release(struct plat_as *as)
{
	if (!as)
		return;
	stub_kill(as);
	free(as);
}

/* May the calling thread drive the stub of as? Returns 0, -ESRCH (dead) or -EPERM. */
static int as_check(struct plat_as *as)
{
	pid_t self;

	if (as->dead)
		return -ESRCH;
	self = stub_gettid();
	if (self != as->tracer) {
		log_error("ptrace: stub %d is traced by thread %d, used from thread %d", as->pid,
			  as->tracer, self);
		return -EPERM;
	}
	return 0;
}

/* Checks shared by the mapping operations: page-aligned, inside the application's range. */
static int range_check(uint64_t addr, uint64_t len)
{
	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || range_overflows(addr, len) ||
	    addr + len > PLAT_STUB_BASE)
		return -EINVAL;
	return 0;
}

/* Run syscall nr in the stub. Returns its result, or -errno (its own or the platform's). */
static long inject(struct plat_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3, uint64_t a4, uint64_t a5)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	long res;
	int r = as_check(as);

	if (r < 0)
		return r;
	r = stub_syscall(as, &res, nr, a);
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

	if (len == 0 || (r = range_check(addr, len)) < 0 || !IS_PAGE_ALIGNED(off))
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
		log_error("ptrace stub %d: mmap at %#llx returned %#lx", as->pid,
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
	if ((r = range_check(addr, len)) < 0)
		return r;
	return (int)inject(as, __NR_munmap, addr, len, 0, 0, 0, 0);
}

static int ptrace_as_protect(struct plat_as *as, uint64_t addr, uint64_t len, int prot)
{
	int r;

	if (len == 0)
		return 0;
	if ((r = range_check(addr, len)) < 0)
		return r;
	if (prot & ~(LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC))
		return -EINVAL;
	return (int)inject(as, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
}

/* Contexts are not tied to a stub: ctx_run uses the stub of the address space it is given
 * (ptrace has one stub thread per address space for now). With multi-threaded applications an
 * address space gets one stub thread per Sentry thread running it: a clone(CLONE_VM |
 * CLONE_THREAD | ...) injected into an existing stub thread, attached by the new Sentry thread
 * with PTRACE_SEIZE; ctx_run then picks the stub thread traced by the calling thread. */
static struct plat_ctx *ptrace_ctx_create(struct plat_as *as)
{
	struct plat_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	return ctx;
}

static void ptrace_ctx_release(struct plat_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* Make regs safe to load: 64-bit user selectors, only user-settable flags, and no syscall
 * restart by the host (orig_rax -1: the Sentry decides restarts itself). */
static void regs_sanitise(struct linux_regs *r)
{
	r->cs = STUB_USER_CS;
	r->ss = STUB_USER_SS;
	r->ds = r->es = r->fs = r->gs = 0;
	r->eflags = (r->eflags & EFLAGS_USER) | EFLAGS_FIXED;
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

/* Load regs into the stub, run it until an event, store its registers back. */
static int run_until_event(struct plat_as *as, struct plat_regs *regs, struct plat_event *ev)
{
	struct linux_regs r = regs->regs;
	siginfo_t si = {0};
	int status, sig, k;

	regs_sanitise(&r);
	if (ptrace(PTRACE_SETREGS, as->pid, NULL, &r) < 0) {
		if (errno == ESRCH)
			return stub_lost(as, errno);
		/* A value the kernel refuses (fs_base/gs_base beyond the user range). */
		log_warn("ptrace stub %d: PTRACE_SETREGS: %s", as->pid, strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		if (ptrace(PTRACE_SYSEMU, as->pid, NULL, NULL) < 0)
			return stub_lost(as, errno);
		if ((k = stub_wait(as, &status)) < 0)
			return k;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			ev->kind = PLAT_EV_SYSCALL;
			si.si_signo = 0;
			break;
		}
		if ((k = stub_stop_is_async(as, &si)) < 0)
			return stub_lost(as, -k);
		if (signal_event(sig, k, &si, ev))
			break;
	}
	if (ptrace(PTRACE_GETREGS, as->pid, NULL, &regs->regs) < 0)
		return stub_lost(as, errno);
	if (si.si_signo == SIGSYS)
		regs->regs.orig_rax = (uint64_t)si.si_syscall;
	else if (ev->kind == PLAT_EV_SYSCALL)
		ev->syscall32 = !syscall_insn_regs(&regs->regs);
	return 0;
}

static int ptrace_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
			  struct plat_event *ev)
{
	int r = as_check(as);

	if (r < 0)
		return r;
	memset(ev, 0, sizeof(*ev));
	pthread_mutex_lock(&ctx->lock);
	if (ctx->interrupted) {
		ctx->interrupted = false;
		pthread_mutex_unlock(&ctx->lock);
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	ctx->running = as;
	pthread_mutex_unlock(&ctx->lock);

	r = run_until_event(as, regs, ev);

	pthread_mutex_lock(&ctx->lock);
	ctx->running = NULL;
	if (r == 0 && ev->kind == PLAT_EV_INTERRUPT)
		ctx->interrupted = false;
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

/* SIGSTOP cannot be blocked or handled; the stop it causes is swallowed by ctx_run. The stub is
 * reaped only by its tracer, which clears ctx->running under the lock right after; a pid being
 * reused within that window would need the pid allocator (cyclic) to wrap around. */
static void ptrace_ctx_interrupt(struct plat_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->interrupted = true;
	if (ctx->running)
		syscall(SYS_tgkill, ctx->running->pid, ctx->running->pid, SIGSTOP);
	pthread_mutex_unlock(&ctx->lock);
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
	.ctx_interrupt = ptrace_ctx_interrupt,
	.max_user_addr = PLAT_STUB_BASE,
};
