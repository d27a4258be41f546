/* The unotify platform's hand-off: notifications from a worker, the commands that answer them,
 * ctx_run, and the FPU state, which lives in the worker's signal frame between runs.
 *
 * Everything read from the shared memory (frames, mailboxes) may have been written by the
 * application, which has it mapped: it is copied out once, then checked. What a notification
 * says comes from the blocked thread's registers, which nothing else can change meanwhile. */
#define _GNU_SOURCE
#include "platform/unotify/unotify.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/fpstate.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

_Static_assert(LINUX_PROT_READ == 1 && LINUX_PROT_WRITE == 2 && LINUX_PROT_EXEC == 4, "prot");

#define KSIG(s) (1ULL << ((s)-1))
/* A worker's signal mask while it runs application code: everything blocked but the faults,
 * seccomp's SIGSYS and the interrupt (restored by every rt_sigreturn from the frame). */
#define UN_RUN_MASK                                                                                \
	(~(KSIG(SIGSYS) | KSIG(SIGSEGV) | KSIG(SIGBUS) | KSIG(SIGFPE) | KSIG(SIGILL) |             \
	   KSIG(SIGTRAP) | KSIG(UN_SIG_INTERRUPT)))

/* The page fault error code bits the kernel leaves in sigcontext.err (trapno 14). */
#define PF_WRITE 0x2
#define PF_INSTR 0x10
#define X86_TRAP_PF 14

void *un_shm_ptr(struct plat_as *as, int slot, uint64_t addr, size_t len)
{
	uint64_t lo = slot < 0 ? UN_SHM : un_slot_addr(slot);
	uint64_t size = slot < 0 ? UN_SHM_SIZE : UN_SLOT_SIZE;

	if (addr < lo || len > size || addr - lo > size - len)
		return NULL;
	return as->shm + (addr - UN_SHM);
}

/* The worker is gone (or its listener broke): every later call on ctx fails with -ESRCH. */
static int worker_lost(struct plat_ctx *ctx, int err)
{
	if (err != ENOENT && !ctx->dead)
		log_error("unotify stub %d worker %d: %s", ctx->as ? ctx->as->pid : -1, ctx->tid,
			  strerror(err));
	ctx->dead = true;
	if (ctx->as)
		un_as_lost(ctx->as);
	return -ESRCH;
}

/* Answer notification id with val, an error, or CONTINUE. 0 or -errno. */
static int respond(struct plat_ctx *ctx, uint64_t id, int64_t val, int32_t error, uint32_t flags)
{
	struct seccomp_notif_resp resp = {.id = id, .val = val, .error = error, .flags = flags};

	while (ioctl(ctx->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
		if (errno == EINTR)
			continue;
		return worker_lost(ctx, errno);
	}
	return 0;
}

/* The stub broke the protocol (only the application can make it: by jumping into the stub's
 * code or writing its mailboxes): end it, which kills the application with it. */
static int stub_violation(struct plat_ctx *ctx, const char *why)
{
	log_warn("unotify stub %d worker %d: %s: killing the stub", ctx->as ? ctx->as->pid : -1,
		 ctx->tid, why);
	if (ctx->as)
		kill(ctx->as->pid, SIGKILL);
	ctx->dead = true;
	if (ctx->as)
		un_as_lost(ctx->as);
	return -ESRCH;
}

enum notif_kind {
	N_HANDOFF, /* the handler's hand-off */
	N_VERIFY,  /* the stub's mmap or mprotect, waiting for the Sentry's check */
};

/* Receive the worker's next notification. One the stub's code does not make (another thread
 * with the worker's filter: the application jumped to the stub's clone) ends the stub. */
static int recv_notif(struct plat_ctx *ctx, struct seccomp_notif *n, enum notif_kind *kind)
{
	for (;;) {
		memset(n, 0, sizeof(*n));
		if (ioctl(ctx->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0) {
			if (errno == EINTR)
				continue;
			return worker_lost(ctx, errno);
		}
		if ((pid_t)n->pid == ctx->tid && n->data.arch == AUDIT_ARCH_X86_64) {
			if (n->data.instruction_pointer == g_un.handoff_ret &&
			    n->data.nr == UN_HANDOFF_NR) {
				*kind = N_HANDOFF;
				return 0;
			}
			if (n->data.instruction_pointer == g_un.vsys_ret &&
			    (n->data.nr == __NR_mmap || n->data.nr == __NR_mprotect)) {
				*kind = N_VERIFY;
				return 0;
			}
		}
		log_debug("unotify worker %d: syscall %d from %d at %#llx", ctx->tid, n->data.nr,
			  n->pid, (unsigned long long)n->data.instruction_pointer);
		return stub_violation(ctx, "a notification the stub does not make");
	}
}

int un_recv(struct plat_ctx *ctx, uint64_t args[6])
{
	struct seccomp_notif n;
	enum notif_kind kind;
	int r;

	if ((r = recv_notif(ctx, &n, &kind)) < 0)
		return r;
	if (kind != N_HANDOFF)
		return stub_violation(ctx, "a mapping call nobody asked for");
	ctx->notif_id = n.id;
	memcpy(args, n.data.args, sizeof(n.data.args));
	return 0;
}

int un_send(struct plat_ctx *ctx, uint64_t cmd)
{
	return respond(ctx, ctx->notif_id, (int64_t)cmd, 0, 0);
}

int un_command(struct plat_ctx *ctx, long nr, const uint64_t a[6], long *res)
{
	struct un_slot *slot = un_slot(ctx->as, ctx->slot);
	bool verified = nr == __NR_mmap || nr == __NR_mprotect;
	struct seccomp_notif n;
	enum notif_kind kind;
	uint64_t args[6];
	int r;

	if (ctx->dead)
		return -ESRCH;
	slot->nr = (uint64_t)nr;
	memcpy(slot->args, a, sizeof(slot->args));
	if ((r = un_send(ctx, verified ? UN_CMD_VERIFIED : UN_CMD_SYSCALL)) < 0)
		return r;
	if (verified) {
		/* The host runs it only as asked: the arguments seccomp saw are the registers the
		 * blocked thread will pass, and none of them points to memory. */
		if ((r = recv_notif(ctx, &n, &kind)) < 0)
			return r;
		if (kind == N_VERIFY) {
			if (n.data.nr != nr || memcmp(n.data.args, a, sizeof(n.data.args)) != 0)
				return stub_violation(ctx, "a mapping call not the one asked for");
			r = respond(ctx, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
			if (r < 0)
				return r;
		} else {
			return stub_violation(ctx, "a hand-off instead of the mapping call");
		}
	}
	if ((r = un_recv(ctx, args)) < 0)
		return r;
	if (args[0] != 0)
		return stub_violation(ctx, "a signal instead of a command's result");
	*res = (long)args[1];
	return 0;
}

/* ---- the frame ---- */

/* The current frame's ucontext in the Sentry's view, or NULL. */
static struct un_ucontext *frame_uc(struct plat_ctx *ctx)
{
	return un_shm_ptr(ctx->as, ctx->slot, ctx->uc, sizeof(struct un_ucontext));
}

/* The current frame's FPU area in the Sentry's view, or NULL when the frame says none or one
 * outside the worker's slot. */
static uint8_t *frame_fpstate(struct plat_ctx *ctx)
{
	struct un_ucontext *uc = frame_uc(ctx);
	uint64_t fp;

	if (!uc)
		return NULL;
	fp = __atomic_load_n(&uc->uc_mcontext.fpstate, __ATOMIC_RELAXED);
	if (fp == 0 || fp % 64)
		return NULL;
	return un_shm_ptr(ctx->as, ctx->slot, fp, fpstate_user_size() + 4);
}

/* Write area (fpstate_user_size() bytes, already checked) into the frame, with the software
 * bytes and trailer sigreturn checks. */
static int frame_put_fpstate(struct plat_ctx *ctx, const void *area)
{
	uint8_t *fp = frame_fpstate(ctx);
	size_t n = fpstate_user_size();
	const uint32_t magic2 = FP_XSTATE_MAGIC2;

	if (!fp)
		return -EIO;
	memcpy(fp, area, n);
	fpstate_put_sw_bytes(fp);
	if (fpstate_xsave())
		memcpy(fp + n, &magic2, sizeof(magic2));
	return 0;
}

int un_ctx_get_fpstate(struct plat_ctx *ctx, void *buf, size_t size)
{
	size_t n = fpstate_user_size();
	uint8_t *fp;
	uint64_t bv;
	int r;

	if (size < n)
		return -EINVAL;
	if ((r = un_ctx_own(ctx)) < 0)
		return r;
	if (!(fp = frame_fpstate(ctx)))
		return -EIO;
	memcpy(buf, fp, n);
	fpstate_put_sw_bytes(buf);
	if (fpstate_xsave()) {
		memcpy(&bv, (uint8_t *)buf + XSAVE_HEADER, sizeof(bv));
		bv &= fpstate_user_features();
		memcpy((uint8_t *)buf + XSAVE_HEADER, &bv, sizeof(bv));
		/* the rest of the header as XRSTOR wants it */
		memset((uint8_t *)buf + XSAVE_HEADER + 8, 0, XSAVE_HEADER_SIZE - 8);
	}
	return 0;
}

int un_ctx_set_fpstate(struct plat_ctx *ctx, const void *buf, size_t size)
{
	size_t n = fpstate_user_size();
	int r;

	if (size < n)
		return -EINVAL;
	if ((r = un_ctx_own(ctx)) < 0)
		return r;
	if (fpstate_check(buf) < 0)
		return -EINVAL;
	return frame_put_fpstate(ctx, buf);
}

int un_worker_start(struct plat_ctx *ctx, struct plat_ctx *src)
{
	size_t n = fpstate_user_size();
	uint8_t area[n] __attribute__((aligned(64)));
	struct linux_siginfo si;
	struct un_ucontext uc;
	uint64_t args[6], a[6] = {0};
	const void *from;
	long res;
	int r;

	if ((r = un_recv(ctx, args)) < 0)
		return r;
	const void *ucp = un_shm_ptr(ctx->as, ctx->slot, args[2], sizeof(uc));
	const void *sip = un_shm_ptr(ctx->as, ctx->slot, args[1], sizeof(si));
	if (!ucp || !sip)
		return stub_violation(ctx, "a start without a signal frame");
	memcpy(&uc, ucp, sizeof(uc));
	memcpy(&si, sip, sizeof(si));
	if (args[0] != SIGTRAP || si.si_signo != SIGTRAP || uc.uc_mcontext.rip != g_un.start_rip)
		return stub_violation(ctx, "a start that is not the stub's");
	ctx->uc = args[2];
	/* Its copy of the listener: the Sentry holds its own now. */
	a[0] = (uint64_t)(int64_t)__atomic_load_n(&un_slot(ctx->as, ctx->slot)->listener,
						  __ATOMIC_RELAXED);
	if ((r = un_command(ctx, __NR_close, a, &res)) < 0)
		return r;
	/* Clone semantics: the FPU state of the creating thread's context, or a fresh one. */
	from = src && !src->dead ? frame_fpstate(src) : NULL;
	if (from) {
		memcpy(area, from, n);
		if (fpstate_check(area) < 0)
			from = NULL;
	}
	if (!from)
		fpstate_initial(area);
	return frame_put_fpstate(ctx, area);
}

/* ---- ctx_run ---- */

/* Load regs into the frame the worker will return through. */
static int frame_load(struct plat_ctx *ctx, const struct linux_regs *r)
{
	struct un_ucontext *uc = frame_uc(ctx);
	struct un_sigcontext *m;

	if (!uc)
		return -EIO;
	m = &uc->uc_mcontext;
	m->r8 = r->r8, m->r9 = r->r9, m->r10 = r->r10, m->r11 = r->r11;
	m->r12 = r->r12, m->r13 = r->r13, m->r14 = r->r14, m->r15 = r->r15;
	m->rdi = r->rdi, m->rsi = r->rsi, m->rbp = r->rbp, m->rbx = r->rbx;
	m->rdx = r->rdx, m->rax = r->rax, m->rcx = r->rcx, m->rsp = r->rsp;
	m->rip = r->rip;
	/* Only what the application may set; sigreturn masks it again anyway. */
	m->eflags = (r->eflags & STUB_EFLAGS_USER) | STUB_EFLAGS_FIXED;
	m->cs = STUB_USER_CS;
	m->ss = STUB_USER_SS;
	m->gs = m->fs = 0;
	uc->uc_link = 0;
	uc->uc_sigmask = UN_RUN_MASK;
	uc->uc_stack = (struct linux_stack){
		.ss_sp = un_slot_addr(ctx->slot) + UN_ALTSTACK_OFF,
		.ss_size = UN_SLOT_SIZE - UN_ALTSTACK_OFF,
	};
	return 0;
}

/* Give the worker r's fs_base and gs_base: through its mailbox when it loads them itself
 * (wrfsbase), else with arch_prctl when they changed. 0 or -errno. */
static int bases_load(struct plat_ctx *ctx, const struct linux_regs *r)
{
	struct un_slot *slot = un_slot(ctx->as, ctx->slot);
	uint64_t a[6] = {0};
	long res;
	int e;

	if (g_un_fsgsbase) {
		slot->fs_base = r->fs_base;
		slot->gs_base = r->gs_base;
		return 0;
	}
	if (!ctx->bases_known || ctx->fs_base != r->fs_base) {
		a[0] = 0x1002; /* ARCH_SET_FS */
		a[1] = r->fs_base;
		if ((e = un_command(ctx, __NR_arch_prctl, a, &res)) < 0)
			return e;
		if (res < 0)
			return -EINVAL;
		ctx->fs_base = r->fs_base;
	}
	if (!ctx->bases_known || ctx->gs_base != r->gs_base) {
		a[0] = 0x1001; /* ARCH_SET_GS */
		a[1] = r->gs_base;
		if ((e = un_command(ctx, __NR_arch_prctl, a, &res)) < 0)
			return e;
		if (res < 0)
			return -EINVAL;
		ctx->gs_base = r->gs_base;
	}
	ctx->bases_known = true;
	return 0;
}

/* The event of a hand-off (args: signal, siginfo, ucontext, fs_base, gs_base) into regs and ev.
 * Returns 0, 1 for host noise (a signal someone sent the stub: resumed without a word, as
 * ptrace does), or -EIO for a hand-off that is not a signal frame of this worker. */
static int decode_event(struct plat_ctx *ctx, const uint64_t args[6], struct plat_regs *regs,
			struct plat_event *ev)
{
	const void *ucp = un_shm_ptr(ctx->as, ctx->slot, args[2], sizeof(struct un_ucontext));
	const void *sip = un_shm_ptr(ctx->as, ctx->slot, args[1], sizeof(struct linux_siginfo));
	struct linux_regs *r = &regs->regs;
	struct linux_siginfo si;
	struct un_ucontext uc;
	const struct un_sigcontext *m = &uc.uc_mcontext;
	int sig = (int)args[0];

	if (!ucp || !sip || sig <= 0)
		return stub_violation(ctx, "a hand-off without a signal frame");
	memcpy(&uc, ucp, sizeof(uc));
	memcpy(&si, sip, sizeof(si));
	ctx->uc = args[2];

	*r = (struct linux_regs){
		.r8 = m->r8, .r9 = m->r9, .r10 = m->r10, .r11 = m->r11,
		.r12 = m->r12, .r13 = m->r13, .r14 = m->r14, .r15 = m->r15,
		.rdi = m->rdi, .rsi = m->rsi, .rbp = m->rbp, .rbx = m->rbx,
		.rdx = m->rdx, .rax = m->rax, .rcx = m->rcx, .rsp = m->rsp,
		.rip = m->rip, .eflags = m->eflags,
		.cs = STUB_USER_CS, .ss = STUB_USER_SS,
		.orig_rax = (uint64_t)-1,
		.fs_base = g_un_fsgsbase ? args[3] : ctx->fs_base,
		.gs_base = g_un_fsgsbase ? args[4] : ctx->gs_base,
	};
	memset(ev, 0, sizeof(*ev));
	if (sig == UN_SIG_INTERRUPT && si.si_code == SI_TKILL && si.kill.pid == getpid()) {
		ev->kind = PLAT_EV_INTERRUPT; /* ctx_interrupt's tgkill */
	} else if (sig == SIGSYS && si.si_code == SYS_SECCOMP) {
		/* Seccomp rolled rax back to the number (all 64 bits, as ptrace's orig_rax);
		 * rax reads as at a syscall's entry. */
		ev->kind = PLAT_EV_SYSCALL;
		ev->syscall32 = si.sys.arch != AUDIT_ARCH_X86_64;
		r->orig_rax = m->rax;
		r->rax = (uint64_t)-ENOSYS;
	} else if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sig == SIGTRAP) &&
		   si.si_code > 0) {
		/* Raised by the thread's own execution (si_code <= 0: sent by someone). */
		ev->kind = PLAT_EV_FAULT;
		ev->signo = sig;
		ev->si_code = si.si_code;
		ev->fault_addr = si.fault.addr;
		if (sig == SIGSEGV && m->trapno == X86_TRAP_PF)
			ev->access = m->err & PF_WRITE	 ? LINUX_PROT_WRITE
				     : m->err & PF_INSTR ? LINUX_PROT_EXEC
							 : LINUX_PROT_READ;
	} else {
		/* Resumed as it is: with the bases it has now, not those ctx_run loaded. */
		if (g_un_fsgsbase) {
			un_slot(ctx->as, ctx->slot)->fs_base = args[3];
			un_slot(ctx->as, ctx->slot)->gs_base = args[4];
		}
		return 1;
	}
	return 0;
}

int un_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
	       struct plat_event *ev)
{
	uint64_t args[6];
	int r;

	if (as != ctx->as)
		return ctx->as ? -EINVAL : -ESRCH;
	if ((r = un_ctx_own(ctx)) < 0)
		return r;
	if (ctx->dead || as->dead)
		return -ESRCH;
	memset(ev, 0, sizeof(*ev));
	pthread_mutex_lock(&ctx->lock);
	if (ctx->interrupted) {
		ctx->interrupted = false;
		pthread_mutex_unlock(&ctx->lock);
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	/* What PTRACE_SETREGS refuses (TASK_SIZE_MAX), and wrfsbase would fault on. */
	if (regs->regs.fs_base >= STUB_USER_TOP || regs->regs.gs_base >= STUB_USER_TOP)
		return -EINVAL;
	if ((r = bases_load(ctx, &regs->regs)) < 0)
		return r;
	if ((r = frame_load(ctx, &regs->regs)) < 0)
		return r;

	pthread_mutex_lock(&ctx->lock);
	ctx->running = true;
	pthread_mutex_unlock(&ctx->lock);

	do {
		r = un_send(ctx, UN_CMD_RESUME);
		if (r == 0)
			r = un_recv(ctx, args);
		if (r == 0)
			r = decode_event(ctx, args, regs, ev);
	} while (r == 1);

	pthread_mutex_lock(&ctx->lock);
	ctx->running = false;
	if (r == 0 && ev->kind == PLAT_EV_INTERRUPT)
		ctx->interrupted = false;
	pthread_mutex_unlock(&ctx->lock);
	return r;
}
