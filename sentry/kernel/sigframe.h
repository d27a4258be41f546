/* The x86-64 signal frame as Linux builds it (arch/x86/kernel/signal_64.c): struct rt_sigframe,
 * ucontext, sigcontext, the XSAVE software bytes, and where the frame goes on the stack. */
#ifndef SENTRY_KERNEL_SIGFRAME_H
#define SENTRY_KERNEL_SIGFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/linux.h"
#include "sentry/kernel/signal.h"

/* uapi struct sigcontext (64-bit): what uc_mcontext holds. 256 bytes. */
struct linux_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
	uint64_t rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err;
	uint64_t trapno;
	uint64_t oldmask;
	uint64_t cr2;
	uint64_t fpstate; /* address of the XSAVE area, 64-aligned; 0 = FPU in its initial state */
	uint64_t reserved1[8];
};
_Static_assert(sizeof(struct linux_sigcontext) == 256, "sigcontext");
_Static_assert(offsetof(struct linux_sigcontext, rdi) == 64, "sigcontext.rdi");
_Static_assert(offsetof(struct linux_sigcontext, rip) == 128, "sigcontext.rip");
_Static_assert(offsetof(struct linux_sigcontext, cs) == 144, "sigcontext.cs");
_Static_assert(offsetof(struct linux_sigcontext, err) == 152, "sigcontext.err");
_Static_assert(offsetof(struct linux_sigcontext, fpstate) == 184, "sigcontext.fpstate");

/* The kernel's struct ucontext (uc_sigmask is the kernel's 8-byte sigset, not glibc's 128). */
struct linux_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct linux_stack uc_stack;
	struct linux_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct linux_ucontext) == 304, "ucontext");
_Static_assert(offsetof(struct linux_ucontext, uc_stack) == 16, "ucontext.uc_stack");
_Static_assert(offsetof(struct linux_ucontext, uc_mcontext) == 40, "ucontext.uc_mcontext");
_Static_assert(offsetof(struct linux_ucontext, uc_sigmask) == 296, "ucontext.uc_sigmask");

#define LINUX_UC_FP_XSTATE 0x1
#define LINUX_UC_SIGCONTEXT_SS 0x2
#define LINUX_UC_STRICT_RESTORE_SS 0x4

/* What the handler finds at its stack pointer. The FP state follows, separately aligned. */
struct linux_rt_sigframe {
	uint64_t pretcode; /* sa_restorer: the handler's `ret` goes there (it calls rt_sigreturn) */
	struct linux_ucontext uc;
	struct linux_siginfo info;
};
_Static_assert(sizeof(struct linux_rt_sigframe) == 440, "rt_sigframe");
_Static_assert(offsetof(struct linux_rt_sigframe, uc) == 8, "rt_sigframe.uc");
_Static_assert(offsetof(struct linux_rt_sigframe, info) == 312, "rt_sigframe.info");

/* The software-reserved bytes at offset 464 of the FXSAVE area (struct _fpx_sw_bytes). */
struct linux_fpx_sw_bytes {
	uint32_t magic1;        /* FP_XSTATE_MAGIC1 when an XSAVE area follows the legacy one */
	uint32_t extended_size; /* xstate_size + 4 (magic2) */
	uint64_t xfeatures;     /* the features present (XCR0) */
	uint32_t xstate_size;   /* bytes of XSAVE area, without magic2 */
	uint32_t padding[7];
};
_Static_assert(sizeof(struct linux_fpx_sw_bytes) == 48, "fpx_sw_bytes");
#define LINUX_FP_XSTATE_MAGIC1 0x46505853U
#define LINUX_FP_XSTATE_MAGIC2 0x46505845U
#define LINUX_FP_XSTATE_MAGIC2_SIZE 4
#define FXSAVE_SIZE 512
#define FXSAVE_SW_BYTES_OFF 464
#define FXSAVE_MXCSR_OFF 24
#define XSAVE_HEADER_OFF 512
#define XSAVE_HEADER_SIZE 64
#define XFEATURE_MASK_FPSSE 0x3ULL

/* Selectors of 64-bit user mode. */
#define LINUX_USER_CS 0x33
#define LINUX_USER_DS 0x2b

/* eflags bits sigreturn takes from the frame (FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF. */
#define SIGFRAME_FIX_EFLAGS 0x50dd5ULL
#define EFLAGS_TF 0x100ULL
#define EFLAGS_DF 0x400ULL
#define EFLAGS_RF 0x10000ULL

/* Is sp inside the alternate stack ss (Linux's __on_sig_stack: (ss_sp, ss_sp + size])? */
static inline bool sigstack_contains(const struct linux_stack *ss, uint64_t sp)
{
	return sp > ss->ss_sp && sp - ss->ss_sp <= ss->ss_size;
}

/* on_sig_stack: with SS_AUTODISARM the stack is never considered in use. */
static inline bool sigstack_on(const struct linux_stack *ss, uint64_t sp)
{
	if ((uint32_t)ss->ss_flags & LINUX_SS_AUTODISARM)
		return false;
	return sigstack_contains(ss, sp);
}

/* sas_ss_flags: SS_DISABLE, SS_ONSTACK or 0 for stack pointer sp. */
static inline int sigstack_flags(const struct linux_stack *ss, uint64_t sp)
{
	if (!ss->ss_size)
		return LINUX_SS_DISABLE;
	return sigstack_on(ss, sp) ? LINUX_SS_ONSTACK : 0;
}

/* Where Linux's get_sigframe puts a frame for a thread at stack pointer sp: skip the 128-byte
 * red zone, switch to the alternate stack for SA_ONSTACK (unless already on it), put the FP
 * state (math_size bytes) below at a 64-byte boundary, then the rt_sigframe so that the handler
 * starts with rsp % 16 == 8. Returns the frame address and sets *fpstate, or 0 when the frame
 * would overflow the alternate stack (Linux then forces SIGSEGV). Pure. */
static inline uint64_t sigframe_place(uint64_t sp, bool onstack, const struct linux_stack *ss,
				      uint64_t math_size, uint64_t *fpstate)
{
	bool nested = sigstack_on(ss, sp);
	bool entering = false;
	uint64_t frame;

	sp -= 128;
	if (onstack && sigstack_flags(ss, sp) == 0) {
		sp = ss->ss_sp + ss->ss_size;
		entering = true;
	}
	sp = (sp - math_size) & ~63ULL;
	*fpstate = sp;
	frame = ((sp - sizeof(struct linux_rt_sigframe)) & ~15ULL) - 8;
	if ((nested || entering) && !sigstack_contains(ss, frame))
		return 0;
	return frame;
}

/* Build t's handler frame for sig (sigframe.c): pretcode = ka->restorer (SA_RESTORER is
 * required on x86-64: without it, -EFAULT as Linux), ucontext with the current registers,
 * oldmask and the alternate stack ss, siginfo when SA_SIGINFO, and the FP state; then point the
 * registers at the handler (rdi = sig, rsi = &info, rdx = &uc, rax = 0) and reset the FPU for
 * it. 0 or -EFAULT (the caller forces SIGSEGV). No locks held; t's own thread. */
int sigframe_setup(struct task *t, int sig, const struct linux_siginfo *info,
		   const struct linux_sigaction *ka, uint64_t oldmask,
		   const struct linux_stack *ss);

/* The last fault's trap number, error code and address (sigcontext's trapno/err/cr2), per
 * thread. signal_force_fault sets them. */
void sigframe_note_fault(int signo, int si_code, uint64_t addr);

#endif
