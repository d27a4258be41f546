/* Handler frames and rt_sigreturn on x86-64, as Linux's arch/x86/kernel/signal_64.c and
 * fpu/signal.c build and read them; the alternate stack; the restart block. */
#include "sentry/kernel/sigframe.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

/* ---- the FPU layout Linux uses for signal frames on this machine ---- */

/* XTILE_DATA (AMX) is a dynamic feature: absent from signal frames until the process asks for
 * it with arch_prctl(ARCH_REQ_XCOMP_PERM), which the sandbox does not offer. */
#define XFEATURE_MASK_USER_DYNAMIC (1ULL << 18)

static struct {
	bool xsave;         /* frames carry an XSAVE area (else the 512-byte FXSAVE one) */
	uint64_t xfeatures; /* Linux's fpstate->user_xfeatures: XCR0 without dynamic features */
	uint32_t user_size; /* Linux's fpstate->user_size: the XSAVE area of those features */
} g_fpu;
static pthread_once_t g_fpu_once = PTHREAD_ONCE_INIT;

static void fpu_probe(void)
{
	unsigned a, b, c, d;

	g_fpu.user_size = FXSAVE_SIZE;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
		return;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	g_fpu.xsave = true;
	g_fpu.xfeatures = (((uint64_t)hi << 32) | lo) & ~XFEATURE_MASK_USER_DYNAMIC;
	uint32_t size = XSAVE_HEADER_OFF + XSAVE_HEADER_SIZE;
	for (int i = 2; i < 63; i++) {
		if (!(g_fpu.xfeatures & (1ULL << i)))
			continue;
		__cpuid_count(0xd, i, a, b, c, d); /* eax size, ebx offset (standard format) */
		if (b + a > size)
			size = b + a;
	}
	g_fpu.user_size = size;
}

/* The size of the platform's XSAVE buffers (at least what frames use). */
static size_t plat_fp_size(const struct task *t)
{
	size_t n = t->plat->fpstate_size ? t->plat->fpstate_size() : 0;
	return MAX(n, (size_t)g_fpu.user_size);
}

static void put_u16(uint8_t *b, size_t off, uint16_t v) { memcpy(b + off, &v, sizeof(v)); }
static void put_u32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, sizeof(v)); }
static void put_u64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, sizeof(v)); }
static uint64_t get_u64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* Turn buf (the thread's current state) into the FPU's initial state (Linux's
 * fpu__clear_user_states): x87 and SSE at their reset values, every other component init. */
static void fp_make_init(uint8_t *buf, size_t size)
{
	uint32_t mxcsr_mask;

	memcpy(&mxcsr_mask, buf + FXSAVE_MXCSR_OFF + 4, sizeof(mxcsr_mask));
	memset(buf, 0, size);
	put_u16(buf, 0, 0x37f);                      /* FCW */
	put_u32(buf, FXSAVE_MXCSR_OFF, 0x1f80);      /* MXCSR */
	put_u32(buf, FXSAVE_MXCSR_OFF + 4, mxcsr_mask);
	if (size >= XSAVE_HEADER_OFF + XSAVE_HEADER_SIZE)
		put_u64(buf, XSAVE_HEADER_OFF, XFEATURE_MASK_FPSSE); /* MXCSR needs SSE present */
}

/* ---- the last fault (sigcontext's trapno, err, cr2) ---- */

static __thread uint64_t tls_trapno, tls_err, tls_cr2;

void sigframe_note_fault(int signo, int si_code, uint64_t addr)
{
	tls_err = 0;
	switch (signo) {
	case LINUX_SIGSEGV:
		if (si_code == LINUX_SEGV_MAPERR || si_code == LINUX_SEGV_ACCERR) {
			/* page fault: user mode, present for ACCERR; the platform cannot tell a
			 * write from a read, so the write bit is never set */
			tls_trapno = 14;
			tls_err = 4 | (si_code == LINUX_SEGV_ACCERR ? 1 : 0);
			tls_cr2 = addr;
		} else {
			tls_trapno = 13; /* general protection */
		}
		break;
	case LINUX_SIGBUS:
		tls_trapno = si_code == LINUX_BUS_ADRALN ? 17 : 14;
		if (tls_trapno == 14) {
			tls_err = 4;
			tls_cr2 = addr;
		}
		break;
	case LINUX_SIGFPE:
		tls_trapno = si_code == LINUX_FPE_INTDIV || si_code == LINUX_FPE_INTOVF ? 0 : 19;
		break;
	case LINUX_SIGILL:
		tls_trapno = 6;
		break;
	case LINUX_SIGTRAP:
		tls_trapno = si_code == LINUX_TRAP_TRACE ? 1 : 3;
		break;
	default:
		break;
	}
}

/* ---- building a frame ---- */

int sigframe_setup(struct task *t, int sig, const struct linux_siginfo *info,
		   const struct linux_sigaction *ka, uint64_t oldmask,
		   const struct linux_stack *ss)
{
	struct linux_regs *r = &t->regs.regs;
	struct linux_rt_sigframe f;
	uint64_t frame, fp, math_size;
	size_t psize;
	uint8_t *buf;
	int err = -EFAULT;

	/* x86-64 handlers return through sa_restorer; Linux refuses a frame without one */
	if (!(ka->flags & LINUX_SA_RESTORER))
		return -EFAULT;
	t->had_sigframe = true;
	pthread_once(&g_fpu_once, fpu_probe);
	math_size = g_fpu.xsave ? g_fpu.user_size + LINUX_FP_XSTATE_MAGIC2_SIZE : FXSAVE_SIZE;
	frame = sigframe_place(r->rsp, ka->flags & LINUX_SA_ONSTACK, ss, math_size, &fp);
	if (!frame)
		return -EFAULT; /* would overflow the alternate stack */

	/* the FP state, with the software bytes that say how big it is */
	psize = plat_fp_size(t);
	buf = calloc(1, psize + LINUX_FP_XSTATE_MAGIC2_SIZE);
	if (!buf)
		return -EFAULT;
	if (!t->plat->ctx_get_fpstate || t->plat->ctx_get_fpstate(t->ctx, buf, psize) < 0) {
		log_debug("task %d: no FPU state from the platform: frame has the initial one", t->tid);
		fp_make_init(buf, psize);
	}
	if (g_fpu.xsave) {
		struct linux_fpx_sw_bytes sw = {
			.magic1 = LINUX_FP_XSTATE_MAGIC1,
			.extended_size = g_fpu.user_size + LINUX_FP_XSTATE_MAGIC2_SIZE,
			.xfeatures = g_fpu.xfeatures,
			.xstate_size = g_fpu.user_size,
		};
		memcpy(buf + FXSAVE_SW_BYTES_OFF, &sw, sizeof(sw));
		/* legacy applications edit only FP/SSE: keep those marked present */
		uint64_t bv = get_u64(buf, XSAVE_HEADER_OFF) & g_fpu.xfeatures;
		put_u64(buf, XSAVE_HEADER_OFF, bv | XFEATURE_MASK_FPSSE);
		put_u32(buf, g_fpu.user_size, LINUX_FP_XSTATE_MAGIC2);
	}
	if (copy_out(t->mm, fp, buf, math_size))
		goto out;

	memset(&f, 0, sizeof(f));
	f.pretcode = ka->restorer;
	f.uc.uc_flags = (g_fpu.xsave ? LINUX_UC_FP_XSTATE : 0) | LINUX_UC_SIGCONTEXT_SS |
			LINUX_UC_STRICT_RESTORE_SS;
	f.uc.uc_link = 0;
	f.uc.uc_stack = *ss; /* as stored, before SS_AUTODISARM clears it */
	struct linux_sigcontext *sc = &f.uc.uc_mcontext;
	sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
	sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
	sc->rdi = r->rdi, sc->rsi = r->rsi, sc->rbp = r->rbp, sc->rbx = r->rbx;
	sc->rdx = r->rdx, sc->rax = r->rax, sc->rcx = r->rcx, sc->rsp = r->rsp;
	sc->rip = r->rip;
	sc->eflags = r->eflags;
	sc->cs = LINUX_USER_CS;
	sc->gs = 0;
	sc->fs = 0;
	sc->ss = LINUX_USER_DS;
	sc->err = tls_err;
	sc->trapno = tls_trapno;
	sc->oldmask = oldmask;
	sc->cr2 = tls_cr2;
	sc->fpstate = fp;
	f.uc.uc_sigmask = oldmask;
	/* siginfo only for SA_SIGINFO handlers; rsi points there regardless, as Linux */
	size_t n = offsetof(struct linux_rt_sigframe, info);
	if (ka->flags & LINUX_SA_SIGINFO) {
		f.info = *info;
		n = sizeof(f);
	}
	if (copy_out(t->mm, frame, &f, n))
		goto out;

	r->rdi = (uint64_t)sig;
	r->rax = 0; /* for handlers declared without a prototype (varargs) */
	r->rsi = frame + offsetof(struct linux_rt_sigframe, info);
	r->rdx = frame + offsetof(struct linux_rt_sigframe, uc);
	r->rip = ka->handler;
	r->rsp = frame;
	r->cs = LINUX_USER_CS;
	r->ss = LINUX_USER_DS;
	/* the ABI's function entry: DF clear; no single-step or resume flag inherited */
	r->eflags &= ~(EFLAGS_DF | EFLAGS_RF | EFLAGS_TF);
	/* the handler starts with a clean FPU */
	if (t->plat->ctx_set_fpstate) {
		fp_make_init(buf, psize);
		int e = t->plat->ctx_set_fpstate(t->ctx, buf, psize);
		if (e < 0)
			log_debug("task %d: FPU reset for a handler: %s", t->tid, strerror(-e));
	}
	err = 0;
out:
	free(buf);
	return err;
}

/* ---- rt_sigreturn ---- */

/* Linux's fpu__restore_sig for 64-bit frames: fpstate 0 means "initial state"; an area whose
 * software bytes and magic2 check out is a full XSAVE image of the features it names (the others
 * go to their initial state); anything else is read as a bare FXSAVE image. 0 or -EFAULT. */
static int restore_fpstate(struct task *t, uint64_t fp)
{
	size_t psize = plat_fp_size(t);
	uint8_t *buf = calloc(1, psize);
	struct linux_fpx_sw_bytes sw;
	uint64_t mask = XFEATURE_MASK_FPSSE;
	uint32_t size = FXSAVE_SIZE, magic2;
	int r = -EFAULT;

	if (!buf)
		return -EFAULT;
	if (!fp) {
		if (t->plat->ctx_get_fpstate)
			t->plat->ctx_get_fpstate(t->ctx, buf, psize);
		fp_make_init(buf, psize);
		goto set;
	}
	if (fp & 15)
		goto out; /* FXRSTOR/XRSTOR would fault (#GP): Linux fails the sigreturn */
	if (copy_in(t->mm, &sw, fp + FXSAVE_SW_BYTES_OFF, sizeof(sw)))
		goto out;
	if (g_fpu.xsave && sw.magic1 == LINUX_FP_XSTATE_MAGIC1 &&
	    sw.xstate_size >= XSAVE_HEADER_OFF + XSAVE_HEADER_SIZE &&
	    sw.xstate_size <= g_fpu.user_size && sw.xstate_size <= sw.extended_size) {
		if (copy_in(t->mm, &magic2, fp + sw.xstate_size, sizeof(magic2)))
			goto out;
		if (magic2 == LINUX_FP_XSTATE_MAGIC2) {
			if (fp & 63)
				goto out; /* XRSTOR needs 64-byte alignment */
			size = sw.xstate_size;
			mask = sw.xfeatures & g_fpu.xfeatures;
		}
	}
	if (copy_in(t->mm, buf, fp, size))
		goto out;
	if (psize >= XSAVE_HEADER_OFF + XSAVE_HEADER_SIZE) {
		uint64_t bv = size > FXSAVE_SIZE ? get_u64(buf, XSAVE_HEADER_OFF) & mask : mask;
		put_u64(buf, XSAVE_HEADER_OFF, bv);
	}
	memset(buf + FXSAVE_SW_BYTES_OFF, 0, sizeof(sw));
set:
	if (!t->plat->ctx_set_fpstate) {
		r = 0;
		goto out;
	}
	r = t->plat->ctx_set_fpstate(t->ctx, buf, psize);
	if (r < 0) {
		log_debug("task %d: sigreturn: FPU state refused: %s", t->tid, strerror(-r));
		r = -EFAULT;
	}
out:
	free(buf);
	return r;
}

long signal_sigreturn(struct task *t)
{
	struct linux_regs *r = &t->regs.regs;
	uint64_t frame = r->rsp - 8; /* the handler's ret popped pretcode */
	struct linux_ucontext uc;
	const struct linux_sigcontext *sc = &uc.uc_mcontext;

	pthread_once(&g_fpu_once, fpu_probe);
	signal_set_restart(t, NULL, NULL); /* an interrupted restart block now gives EINTR */
	if (copy_in(t->mm, &uc, frame + offsetof(struct linux_rt_sigframe, uc), sizeof(uc)))
		goto badframe;

	kernel_lock();
	signal_set_blocked_locked(t, uc.uc_sigmask);
	kernel_unlock();

	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rax = sc->rax, r->rcx = sc->rcx, r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->eflags = (r->eflags & ~SIGFRAME_FIX_EFLAGS) | (sc->eflags & SIGFRAME_FIX_EFLAGS);
	r->cs = LINUX_USER_CS; /* 64-bit user mode only: the platform sanitises selectors too */
	r->ss = LINUX_USER_DS;
	r->orig_rax = (uint64_t)-1; /* no restart processing for this rax */

	if (restore_fpstate(t, sc->fpstate))
		goto badframe;

	/* Linux's restore_altstack: like sigaltstack, every error but EFAULT ignored */
	kernel_lock();
	(void)signal_altstack_set_locked(t, &uc.uc_stack, r->rsp);
	kernel_unlock();
	return (long)r->rax;

badframe:
	log_debug("task %d: bad rt_sigreturn frame at %#lx: SIGSEGV", t->tid,
		  (unsigned long)frame);
	kernel_lock();
	signal_force_segv_locked(t, 0);
	kernel_unlock();
	r->orig_rax = (uint64_t)-1;
	return 0;
}

/* ---- the alternate stack ---- */

void signal_altstack_get_locked(const struct task *t, uint64_t sp, struct linux_stack *out)
{
	memset(out, 0, sizeof(*out));
	out->ss_sp = t->altstack.ss_sp;
	out->ss_size = t->altstack.ss_size;
	out->ss_flags = sigstack_flags(&t->altstack, sp) |
			(int32_t)((uint32_t)t->altstack.ss_flags & LINUX_SS_AUTODISARM);
}

int signal_altstack_set_locked(struct task *t, const struct linux_stack *ss, uint64_t sp)
{
	uint32_t flags = (uint32_t)ss->ss_flags;
	uint32_t mode = flags & ~LINUX_SS_AUTODISARM;
	uint64_t ss_sp = ss->ss_sp, ss_size = ss->ss_size;

	if (sigstack_on(&t->altstack, sp))
		return -EPERM;
	if (mode != LINUX_SS_DISABLE && mode != LINUX_SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (t->altstack.ss_sp == ss_sp && t->altstack.ss_size == ss_size &&
	    (uint32_t)t->altstack.ss_flags == flags)
		return 0;
	if (mode == LINUX_SS_DISABLE) {
		ss_sp = 0;
		ss_size = 0;
	} else if (ss_size < LINUX_MINSIGSTKSZ) {
		return -ENOMEM;
	}
	t->altstack.ss_sp = ss_sp;
	t->altstack.ss_size = ss_size;
	t->altstack.ss_flags = (int32_t)flags;
	return 0;
}

/* ---- the restart block ---- */

static __thread signal_restart_fn tls_restart_fn;
static __thread uint64_t tls_restart_data[4];

void signal_set_restart(struct task *t, signal_restart_fn fn, const uint64_t data[4])
{
	(void)t; /* one host thread per task: the block lives in the thread */
	tls_restart_fn = fn;
	if (fn && data)
		memcpy(tls_restart_data, data, sizeof(tls_restart_data));
}

long signal_restart_syscall(struct task *t)
{
	signal_restart_fn fn = tls_restart_fn;
	uint64_t data[4];

	if (!fn)
		return -EINTR; /* Linux's do_no_restart_syscall */
	memcpy(data, tls_restart_data, sizeof(data));
	tls_restart_fn = NULL;
	return fn(t, data);
}
