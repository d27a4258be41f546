/* The systrap stub: its code (the signal handler, the control thread, a new thread's start), its
 * seccomp filters and data, and forking one. */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/platform/x86.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/fpstate.h"
#include "platform/syspatch.h"

#define STR(x) #x
#define XSTR(x) STR(x)

_Static_assert(ST_BASE == PLAT_STUB_BASE, "the stub's layout starts at the stub region");
_Static_assert(ST_REGION_END <= PLAT_STUB_END, "and fits in it");
_Static_assert(ST_SS_OFF + ST_MAX_THREADS * 24 <= ST_SHM_RO_SIZE, "the stack_t table fits");
_Static_assert(ST_CPUID_RING_MAX == PLAT_CPUID_NOTES_MAX, "the cpuid notes' ring");
_Static_assert(offsetof(struct st_msg, state) == MSG_STATE &&
		       offsetof(struct st_msg, stub_sleeping) == MSG_STUB_SLEEPING &&
		       offsetof(struct st_msg, sentry_sleeping) == MSG_SENTRY_SLEEPING &&
		       offsetof(struct st_msg, spin) == MSG_SPIN &&
		       offsetof(struct st_msg, frame) == MSG_FRAME &&
		       offsetof(struct st_msg, rax) == MSG_RAX &&
		       offsetof(struct st_msg, pending) == MSG_PENDING &&
		       offsetof(struct st_msg, fs_base) == MSG_FS_BASE &&
		       offsetof(struct st_msg, gs_base) == MSG_GS_BASE &&
		       offsetof(struct st_msg, t_report) == MSG_T_REPORT &&
		       offsetof(struct st_msg, t_resume) == MSG_T_RESUME &&
		       offsetof(struct st_msg, kind) == MSG_KIND &&
		       offsetof(struct st_msg, fpvalid) == MSG_FPVALID &&
		       offsetof(struct st_msg, fpload) == MSG_FPLOAD &&
		       sizeof(struct st_msg) <= MSG_REGS,
	       "the handler's offsets");
_Static_assert(offsetof(struct linux_regs, r15) == LR_R15 &&
		       offsetof(struct linux_regs, r12) == LR_R12 &&
		       offsetof(struct linux_regs, rbx) == LR_RBX &&
		       offsetof(struct linux_regs, r11) == LR_R11 &&
		       offsetof(struct linux_regs, r8) == LR_R8 &&
		       offsetof(struct linux_regs, rax) == LR_RAX &&
		       offsetof(struct linux_regs, rdi) == LR_RDI &&
		       offsetof(struct linux_regs, orig_rax) == LR_ORIG_RAX &&
		       offsetof(struct linux_regs, rip) == LR_RIP &&
		       offsetof(struct linux_regs, eflags) == LR_EFLAGS &&
		       offsetof(struct linux_regs, rsp) == LR_RSP && LR_RSP / 8 + 1 == LR_WORDS &&
		       MSG_REGS + LR_WORDS * 8 <= MSG_SELF && MSG_SELF + 8 <= PAGE_SIZE,
	       "the fast entry's offsets");
_Static_assert(SYSPATCH_SLOW_NR == 1 && SYSPATCH_SLOW_RET == 24, "the fast entry's reads");

/* edx:eax = the XSAVE features the stub saves and restores (D_RFBM), for xsave/xrstor. */
#define LOAD_RFBM                                                                                  \
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_RFBM) "), %rdx\n"                                \
	"	mov (%rdx), %eax\n"                                                                    \
	"	mov 4(%rdx), %edx\n"

/* The rt_sigframe's registers (its uc_mcontext starts at 48), for the handler. */
#define FR_R8 48
#define FR_R9 56
#define FR_R10 64
#define FR_R11 72
#define FR_R12 80
#define FR_R13 88
#define FR_R14 96
#define FR_R15 104
#define FR_RDI 112
#define FR_RSI 120
#define FR_RBP 128
#define FR_RBX 136
#define FR_RDX 144
#define FR_RAX 152
#define FR_RCX 160
#define FR_RSP 168
#define FR_RIP 176
#define FR_EFLAGS 184

/* The handler (rbx: the area, rsp: its frame) puts a fast return's registers in its frame. */
#define FRAME_WORD(fr, from)                                                                       \
	"	mov " from "(%rbx), %rax\n"                                                            \
	"	mov %rax, " XSTR(fr) "(%rsp)\n"
#define FRAME_REG(fr, lr) FRAME_WORD(fr, "(" XSTR(MSG_REGS) " + " XSTR(lr) ")")
#define FRAME_FROM_AREA                                                                            \
	FRAME_REG(FR_R8, LR_R8) FRAME_REG(FR_R9, LR_R9) FRAME_REG(FR_R10, LR_R10)                 \
	FRAME_REG(FR_R11, LR_R11) FRAME_REG(FR_R12, LR_R12) FRAME_REG(FR_R13, LR_R13)             \
	FRAME_REG(FR_R14, LR_R14) FRAME_REG(FR_R15, LR_R15) FRAME_REG(FR_RDI, LR_RDI)             \
	FRAME_REG(FR_RSI, LR_RSI) FRAME_REG(FR_RBP, LR_RBP) FRAME_REG(FR_RBX, LR_RBX)             \
	FRAME_REG(FR_RDX, LR_RDX) FRAME_WORD(FR_RAX, XSTR(MSG_RAX))                                \
	FRAME_REG(FR_RCX, LR_RCX) FRAME_REG(FR_RSP, LR_RSP) FRAME_REG(FR_RIP, LR_RIP)             \
	FRAME_REG(FR_EFLAGS, LR_EFLAGS)

/* The fast entry (rax: the area) saves a register in MSG_REGS only when it differs from what
 * is there (the registers at the thread's last fast return, or before): a line it does not
 * write stays valid in the Sentry's cache, and the thread need not take it back from there.
 * For a loop calling getpid that is one line of three. The flags are saved by then. */
#define FAST_SAVE(reg, lr)                                                                         \
	"	cmp %" reg ", (" XSTR(MSG_REGS) " + " XSTR(lr) ")(%rax)\n"                            \
	"	je 1f\n"                                                                                \
	"	mov %" reg ", (" XSTR(MSG_REGS) " + " XSTR(lr) ")(%rax)\n"                            \
	"1:\n"

/* Reload a fast report's registers from MSG_REGS, rax from MSG_RAX (rbx and gs: the area; rsp:
 * its stack), eflags last but rsp, which switches back to the application's stack. */
#define FAST_RESTORE                                                                               \
	"	pushq (" XSTR(MSG_REGS) " + " XSTR(LR_EFLAGS) ")(%rbx)\n"                              \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R15) ")(%rbx), %r15\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R14) ")(%rbx), %r14\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R13) ")(%rbx), %r13\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R12) ")(%rbx), %r12\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_RBP) ")(%rbx), %rbp\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R11) ")(%rbx), %r11\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R10) ")(%rbx), %r10\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R9) ")(%rbx), %r9\n"                               \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_R8) ")(%rbx), %r8\n"                               \
	"	mov " XSTR(MSG_RAX) "(%rbx), %rax\n"                                                 \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_RCX) ")(%rbx), %rcx\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_RDX) ")(%rbx), %rdx\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_RSI) ")(%rbx), %rsi\n"                             \
	"	mov (" XSTR(MSG_REGS) " + " XSTR(LR_RDI) ")(%rbx), %rdi\n"                             \
	"	mov %gs:(" XSTR(MSG_REGS) " + " XSTR(LR_RBX) "), %rbx\n"                               \
	"	popfq\n"                                                                                 \
	"	mov %gs:(" XSTR(MSG_REGS) " + " XSTR(LR_RSP) "), %rsp\n"

/* Load the struct st_op at r15 into the registers of its syscall. */
#define OP_LOAD                                                                                    \
	"	mov 0(%r15), %rax\n"                                                               \
	"	mov 8(%r15), %rdi\n"                                                               \
	"	mov 16(%r15), %rsi\n"                                                              \
	"	mov 24(%r15), %rdx\n"                                                              \
	"	mov 32(%r15), %r10\n"                                                              \
	"	mov 40(%r15), %r8\n"                                                               \
	"	mov 48(%r15), %r9\n"

_Static_assert(offsetof(struct st_req, seq) == REQ_SEQ && offsetof(struct st_req, nr) == REQ_NR &&
		       offsetof(struct st_req, args) == REQ_ARGS &&
		       offsetof(struct st_req, thread) == REQ_THREAD &&
		       offsetof(struct st_req, nops) == REQ_NOPS && sizeof(struct st_req) <= REQ_OPS &&
		       REQ_OPS + REQ_OPS_MAX * OP_SIZE <= PAGE_SIZE,
	       "the control thread's offsets");

/*
 * The stub's code, copied to ST_CODE and mapped read+exec. It uses absolute addresses for its
 * data and the shared region, and no stack at all but the signal frames the kernel pushes on a
 * thread's alternate stack. Every syscall instruction of the stub is in this page: filter A
 * allows syscalls from nowhere else.
 *
 * st_stub_handler (every handled signal; rdi signo, rsi siginfo, rsp the rt_sigframe):
 *   a signal sent rather than raised (si_code <= 0) but the interrupt is host noise: return at
 *   once. Otherwise the area is rsp rounded down to ST_AREA_SIZE; record the time (TSC), the
 *   frame and the thread's fs/gs bases, swing the state to REPORT (EXIT wins), wake the Sentry
 *   thread if it sleeps, spin (MSG_SPIN times), then sleep until the state is no longer REPORT.
 *   RUN loads the bases the Sentry chose, records the time and returns through rt_sigreturn
 *   (with the frame the Sentry rewrote); anything else ends the thread.
 * st_stub_entry (the control thread, from the forked child): a clean FPU and zero fs/gs bases
 *   (the fork copied the Sentry thread's), unmap everything of the Sentry, install filter A,
 *   drop PR_SET_PDEATHSIG (the creator thread may exit before the stub), report ready on the
 *   pipe, then serve requests: a new number in the request page runs its syscall (a clone goes
 *   to .Lthread_start in the child), or the page's list of mapping changes (REQ_NR_OPS: in
 *   order, until one returns other than expected; the result is how many did), and writes the
 *   number to the pipe. While there is none,
 *   spin a while after a request, then sleep in a read of the doorbell pipe, which the Sentry
 *   writes to after each request (a pipe, not a futex: its wake-up is synchronous, so the
 *   scheduler runs the two threads on one CPU rather than wake an idle one). Its EOF means the
 *   Sentry is gone: exit_group.
 * .Lthread_start (a new thread; r12 its stack_t in the read-only table, every signal blocked):
 *   sigaltstack, filter B, unblock the handled signals, then trap (int3) into the handler: its
 *   first report.
 */
// clang-format off
__asm__(".pushsection .rodata.systrap_stub, \"a\"\n"
	"	.balign 64\n"
	"	.globl st_stub_code, st_stub_handler, st_stub_restorer, st_stub_entry\n"
	"	.globl st_stub_code_end, st_stub_wake_syscall, st_stub_fast, st_stub_spill_trap\n"
	"	.hidden st_stub_code, st_stub_handler, st_stub_restorer, st_stub_entry\n"
	"	.hidden st_stub_code_end, st_stub_wake_syscall, st_stub_fast, st_stub_spill_trap\n"
	"st_stub_code:\n"
	"st_stub_handler:\n"
	"	cmpl $0, 8(%rsi)\n"                 /* si_code */
	"	jg .Lraised\n"
	"	cmp $" XSTR(ST_SIG_INTERRUPT) ", %edi\n"
	"	jne .Lsigreturn\n"
	/* The interrupt in the stub's code (signals are blocked only in the handler itself): a
	 * thread past the fast return's last look at MSG_PENDING reports as if it had returned;
	 * one before it notes the interrupt, and that look turns its return into a trap. */
	"	mov " XSTR(FR_RIP) "(%rsp), %rdx\n"
	"	mov %rsp, %rbx\n"
	"	and $-" XSTR(ST_AREA_SIZE) ", %rbx\n"
	"	lea .Lfast_commit(%rip), %rcx\n"
	"	cmp %rcx, %rdx\n"
	"	jb 11f\n"
	"	lea .Lfast_commit_end(%rip), %rcx\n"
	"	cmp %rcx, %rdx\n"
	"	jae 11f\n"
	FRAME_FROM_AREA
	"	jmp 1f\n"
	"11:	movabs $" XSTR(ST_CODE) ", %rcx\n"
	"	sub %rcx, %rdx\n"
	"	cmp $" XSTR(ST_CODE_SIZE) ", %rdx\n"
	"	jae 1f\n"                             /* application code: an interrupt report */
	"	movl $1, " XSTR(MSG_PENDING) "(%rbx)\n"
	"	jmp .Lsigreturn\n"
	".Lraised:\n"                          /* a fault at the fast entry's probe: the thread's */
	"	lea .Lfast_probe(%rip), %rax\n"      /* gs is not its area: the entry's slow path */
	"	cmp " XSTR(FR_RIP) "(%rsp), %rax\n"
	"	jne .Lcpuid\n"
	"	mov " XSTR(FR_R11) "(%rsp), %rax\n"
	"	mov %rax, " XSTR(FR_RIP) "(%rsp)\n"
	"	jmp .Lsigreturn\n"
	/* cpuid, answered here from the data page's table (a leaf it lacks is reported): an
	 * int3 at a site the Sentry rewrote (a registry hit: rip - 1), or a cpuid that faulted
	 * while the thread learns (MSG_CPUID_IS), which is noted in the ring. */
	".Lcpuid:\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_CPUID) "), %r8\n"
	"	mov (%r8), %ecx\n"
	"	test %ecx, %ecx\n"
	"	jz 1f\n"
	"	cmpl $" XSTR(LINUX_SI_KERNEL) ", 8(%rsi)\n"
	"	jne 1f\n"
	"	mov " XSTR(FR_RIP) "(%rsp), %rdx\n"
	"	cmp $" XSTR(SIGTRAP) ", %edi\n"
	"	je 16f\n"
	"	cmp $" XSTR(SIGSEGV) ", %edi\n"
	"	jne 1f\n"
	"	mov %rsp, %rbx\n"
	"	and $-" XSTR(ST_AREA_SIZE) ", %rbx\n"
	"	cmpl $0, " XSTR(MSG_CPUID_IS) "(%rbx)\n"
	"	je 1f\n"
	/* A #GP there: the instruction's bytes were fetched, so they can be read (the table is
	 * empty where PROT_EXEC alone would make them unreadable: stub.c, cpuid_table). */
	"	cmpb $0x0f, (%rdx)\n"
	"	jne 1f\n"
	"	cmpb $0xa2, 1(%rdx)\n"
	"	jne 1f\n"
	"	mov " XSTR(MSG_CPUID_N) "(%rbx), %eax\n"
	"	cmp $" XSTR(ST_CPUID_RING_MAX) ", %eax\n"
	"	jae 17f\n"
	"	xor %r9d, %r9d\n"                  /* noted once: the start-up loops over a few */
	"21:	cmp %eax, %r9d\n"
	"	jae 22f\n"
	"	cmp " XSTR(MSG_CPUID_RING) "(%rbx,%r9,8), %rdx\n"
	"	je 17f\n"
	"	inc %r9d\n"
	"	jmp 21b\n"
	"22:	mov %rdx, " XSTR(MSG_CPUID_RING) "(%rbx,%rax,8)\n"
	"	inc %eax\n"
	"	mov %eax, " XSTR(MSG_CPUID_N) "(%rbx)\n"
	"17:	mov $2, %r11d\n"                  /* r11: the instruction's length */
	"	jmp 18f\n"
	"16:	lea -1(%rdx), %rax\n"              /* the int3's address: a registered site? */
	"	movabs $" XSTR(ST_SITE_HASH) ", %r9\n"
	"	imul %rax, %r9\n"
	"	shr $54, %r9\n"
	"	movabs $(" XSTR(ST_SHM) " + " XSTR(ST_SITES_OFF) "), %r10\n"
	"	mov $" XSTR(ST_SITES_SLOTS) ", %r11d\n"
	"19:	mov (%r10,%r9,8), %rbx\n"
	"	cmp %rax, %rbx\n"
	"	je 20f\n"
	"	test %rbx, %rbx\n"
	"	jz 1f\n"
	"	inc %r9d\n"
	"	and $(" XSTR(ST_SITES_SLOTS) " - 1), %r9d\n"
	"	dec %r11d\n"
	"	jnz 19b\n"
	"	jmp 1f\n"
	"20:	mov $1, %r11d\n"                  /* past the int3 onto the a2 byte after it */
	"18:	mov " XSTR(FR_RAX) "(%rsp), %r9d\n"
	"	mov " XSTR(FR_RCX) "(%rsp), %r10d\n"
	"	add $8, %r8\n"
	"13:	cmp %r9d, (%r8)\n"
	"	jne 14f\n"
	"	mov 4(%r8), %eax\n"
	"	cmp $" XSTR(ST_CPUID_ANY_SUB) ", %eax\n"
	"	je 15f\n"
	"	cmp %r10d, %eax\n"
	"	je 15f\n"
	"14:	add $24, %r8\n"
	"	dec %ecx\n"
	"	jnz 13b\n"
	"	jmp 1f\n"
	"15:	mov 8(%r8), %eax\n"               /* 32-bit moves: cpuid zeroes the high halves */
	"	mov %rax, " XSTR(FR_RAX) "(%rsp)\n"
	"	mov 12(%r8), %eax\n"
	"	mov %rax, " XSTR(FR_RBX) "(%rsp)\n"
	"	mov 16(%r8), %eax\n"
	"	mov %rax, " XSTR(FR_RCX) "(%rsp)\n"
	"	mov 20(%r8), %eax\n"
	"	mov %rax, " XSTR(FR_RDX) "(%rsp)\n"
	"	add %r11, " XSTR(FR_RIP) "(%rsp)\n"
	"	jmp .Lsigreturn\n"
	"1:	xor %r12d, %r12d\n"                 /* r12: 1 in a fast report */
	"	mov %rsp, %rbx\n"
	"	and $-" XSTR(ST_AREA_SIZE) ", %rbx\n"
	"	movl $" XSTR(MSG_KIND_FRAME) ", " XSTR(MSG_KIND) "(%rbx)\n"
	"	rdtsc\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, " XSTR(MSG_T_REPORT) "(%rbx)\n"
	"	mov %rsp, " XSTR(MSG_FRAME) "(%rbx)\n"
	"	rdfsbase %rax\n"
	"	mov %rax, " XSTR(MSG_FS_BASE) "(%rbx)\n"
	"	rdgsbase %rax\n"
	"	mov %rax, " XSTR(MSG_GS_BASE) "(%rbx)\n"
	".Lreport:\n"
	"2:	mov " XSTR(MSG_STATE) "(%rbx), %eax\n"
	"	cmp $" XSTR(ST_EXIT) ", %eax\n"
	"	je .Lexit_thread\n"
	"	mov $" XSTR(ST_REPORT) ", %ecx\n"
	"	lock cmpxchg %ecx, " XSTR(MSG_STATE) "(%rbx)\n"
	"	jne 2b\n"
	"	cmpl $0, " XSTR(MSG_SENTRY_SLEEPING) "(%rbx)\n"
	"	je 3f\n"
	"	lea " XSTR(MSG_STATE) "(%rbx), %rdi\n"
	"	mov $" XSTR(FUTEX_WAKE) ", %esi\n"
	"	mov $1, %edx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	xor %r9d, %r9d\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"st_stub_wake_syscall:\n"                 /* for tests: a syscall instruction */
	"	syscall\n"
	"3:	mov " XSTR(MSG_SPIN) "(%rbx), %ecx\n"
	"	cmp $" XSTR(ST_SPIN_MAX) ", %ecx\n"
	"	jbe 4f\n"
	"	mov $" XSTR(ST_SPIN_MAX) ", %ecx\n"
	"4:	mov " XSTR(MSG_STATE) "(%rbx), %eax\n"
	"	cmp $" XSTR(ST_REPORT) ", %eax\n"
	"	jne 7f\n"
	"	test %ecx, %ecx\n"
	"	jz 45f\n"
	"	cmpl $0, " XSTR(MSG_SPIN) "(%rbx)\n" /* the Sentry called the spin off */
	"	je 45f\n"
	"	pause\n"
	"	dec %ecx\n"
	"	jmp 4b\n"
	/* About to sleep in a fast report: the application's FPU state is live in this thread;
	 * save it where the Sentry can read it without waking the thread (run.c, st_fp_get). */
	"45:	test %r12d, %r12d\n"
	"	jz 46f\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_FLAGS) "), %rax\n"
	"	testl $" XSTR(D_FLAG_FPSAVE) ", (%rax)\n"
	"	jz 46f\n"
	LOAD_RFBM
	"	xsave " XSTR(MSG_FPSAVE) "(%rbx)\n"
	"	movl $1, " XSTR(MSG_FPVALID) "(%rbx)\n"
	"46:	movl $1, " XSTR(MSG_STUB_SLEEPING) "(%rbx)\n"
	"	mfence\n"
	"5:	mov " XSTR(MSG_STATE) "(%rbx), %eax\n"
	"	cmp $" XSTR(ST_REPORT) ", %eax\n"
	"	jne 6f\n"
	"	lea " XSTR(MSG_STATE) "(%rbx), %rdi\n"
	"	mov $" XSTR(FUTEX_WAIT) ", %esi\n"
	"	mov $" XSTR(ST_REPORT) ", %edx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	xor %r9d, %r9d\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"	syscall\n"
	"	jmp 5b\n"
	"6:	movl $0, " XSTR(MSG_STUB_SLEEPING) "(%rbx)\n"
	"7:	movl $0, " XSTR(MSG_FPVALID) "(%rbx)\n" /* the state may change from here on */
	"	mov %eax, %r13d\n"
	"	cmp $" XSTR(ST_RUN) ", %eax\n"
	"	je .Lbatch\n"
	"	cmp $" XSTR(ST_SPILL) ", %eax\n"   /* a spill: only of a fast report */
	"	jne .Lexit_thread\n"
	"	test %r12d, %r12d\n"
	"	jz .Lexit_thread\n"
	"	jmp 8f\n"
	/* The mapping changes the Sentry queued (systrap.h): each from the batch site, its result
	 * checked, then wiped, the cookie last. The registers are the frame's or MSG_REGS' again
	 * on the way out. */
	".Lbatch:\n"
	"	mov " XSTR(MSG_NOPS) "(%rbx), %r14d\n"
	"	test %r14d, %r14d\n"
	"	jz 8f\n"
	"	cmp $" XSTR(ST_OPS_MAX) ", %r14d\n"
	"	ja .Lexit_thread\n"
	"	lea " XSTR(MSG_OPS) "(%rbx), %r15\n"
	"81:\n"
	OP_LOAD
	"	syscall\n"
	"st_stub_batch_after:\n"
	"	cmp " XSTR(OP_EXPECT) "(%r15), %rax\n"
	"	jne .Lexit_thread\n"
	"	xor %eax, %eax\n"
	"	mov %rax, 0(%r15)\n"
	"	mov %rax, 8(%r15)\n"
	"	mov %rax, 16(%r15)\n"
	"	mov %rax, 24(%r15)\n"
	"	mov %rax, 32(%r15)\n"
	"	mov %rax, 40(%r15)\n"
	"	mov %rax, 48(%r15)\n"
	"	add $" XSTR(OP_SIZE) ", %r15\n"
	"	dec %r14d\n"
	"	jnz 81b\n"
	"	movl $0, " XSTR(MSG_NOPS) "(%rbx)\n"
	"	xor %edx, %edx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	movq $0, " XSTR(MSG_COOKIE) "(%rbx)\n"
	/* Faulting on cpuid as the Sentry wants it (learning: see .Lcpuid), set by the thread
	 * itself: it is a thread's setting. */
	"8:	mov " XSTR(MSG_CPUID_WANT) "(%rbx), %eax\n"
	"	cmp " XSTR(MSG_CPUID_IS) "(%rbx), %eax\n"
	"	je 82f\n"
	"	mov %eax, " XSTR(MSG_CPUID_IS) "(%rbx)\n"
	"	xor %esi, %esi\n"
	"	test %eax, %eax\n"
	"	sete %sil\n"                         /* ARCH_SET_CPUID 0 makes cpuid fault */
	"	mov $" XSTR(ARCH_SET_CPUID) ", %edi\n"
	"	mov $" XSTR(__NR_arch_prctl) ", %eax\n"
	"	syscall\n"
	"82:	mov " XSTR(MSG_FS_BASE) "(%rbx), %rax\n"
	"	wrfsbase %rax\n"
	"	mov " XSTR(MSG_GS_BASE) "(%rbx), %rax\n"
	"	wrgsbase %rax\n"
	"	test %r12d, %r12d\n"
	"	jnz 9f\n"
	"	rdtsc\n"                              /* not on a fast return: see the fast entry */
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, " XSTR(MSG_T_RESUME) "(%rbx)\n"
	"	jmp .Lsigreturn\n"
	/* A fast return (or a spill) loads the FPU state the Sentry left at MSG_FPSAVE, if any. */
	"9:	cmpl $0, " XSTR(MSG_FPLOAD) "(%rbx)\n"
	"	je 91f\n"
	LOAD_RFBM
	"	xrstor " XSTR(MSG_FPSAVE) "(%rbx)\n"
	"	movl $0, " XSTR(MSG_FPLOAD) "(%rbx)\n"
	"91:	cmp $" XSTR(ST_SPILL) ", %r13d\n"
	"	je .Lspill\n"
	"	cmpl $0, " XSTR(MSG_PENDING) "(%rbx)\n"
	".Lfast_commit:\n"                      /* an interrupt from here on: see the handler */
	"	jne .Lpending\n"
	FAST_RESTORE
	"	jmp *%gs:(" XSTR(MSG_REGS) " + " XSTR(LR_RIP) ")\n"
	".Lfast_commit_end:\n"
	".Lpending:\n"                          /* an interrupt came: stop with a trap (the */
	"	movl $0, " XSTR(MSG_PENDING) "(%rbx)\n" /* Sentry sees it as the interrupt) */
	".Lspill:\n"
	FAST_RESTORE
	"st_stub_spill_trap:\n"                 /* the spill's trap: its frame holds every */
	"	int3\n"                             /* register of the fast report, and the FPU's */

	/* The fast entry, from a patched site's trampoline: r11 the entry's slow path, rax and rcx
	 * free (syscall clobbers them), the rest the application's. Only mov, not, lea and jrcxz
	 * until eflags is saved. */
	"st_stub_fast:\n"
	"	rdgsbase %rax\n"
	".Lfast_probe:\n"                       /* may fault: the handler sends it to the slow path */
	"	mov %gs:" XSTR(MSG_SELF) ", %rcx\n"
	"	not %rcx\n"
	"	lea (1 + " XSTR(ST_SELF_BIAS) ")(%rax,%rcx), %rcx\n" /* gs - (self - bias) */
	"	jrcxz 1f\n"
	"	jmp *%r11\n"                          /* not an area of ours: trap as before */
	"1:	mov %rsp, %rcx\n"
	"	lea " XSTR(ST_AREA_SIZE) "(%rax), %rsp\n" /* the area's stack, for eflags */
	"	pushfq\n"
	"	push %rcx\n"
	FAST_SAVE("r15", LR_R15) FAST_SAVE("r14", LR_R14) FAST_SAVE("r13", LR_R13)
	FAST_SAVE("r12", LR_R12) FAST_SAVE("rbp", LR_RBP) FAST_SAVE("rbx", LR_RBX)
	FAST_SAVE("r10", LR_R10) FAST_SAVE("r9", LR_R9) FAST_SAVE("r8", LR_R8)
	FAST_SAVE("rdx", LR_RDX) FAST_SAVE("rsi", LR_RSI) FAST_SAVE("rdi", LR_RDI)
	"	pop %rcx\n"                           /* rsp */
	FAST_SAVE("rcx", LR_RSP)
	"	pop %rcx\n"                           /* eflags, and r11 as syscall leaves it */
	FAST_SAVE("rcx", LR_EFLAGS) FAST_SAVE("rcx", LR_R11)
	"	movl 1(%r11), %ecx\n"                 /* the entry's mov $nr, %eax */
	FAST_SAVE("rcx", LR_ORIG_RAX) FAST_SAVE("rcx", LR_RAX)
	"	mov 24(%r11), %rcx\n"                 /* its return address, and rcx = rip */
	FAST_SAVE("rcx", LR_RIP) FAST_SAVE("rcx", LR_RCX)
	"	mov %rax, %rbx\n"
	"	mov $1, %r12d\n"
	/* The state word's line: the Sentry reads it while it spins, and each store here would
	 * take it back. So no timestamp (the Sentry times fast reports itself), and the kind and
	 * bases only when they changed: mostly the cmpxchg is the only store. */
	"	cmpl $" XSTR(MSG_KIND_FAST) ", " XSTR(MSG_KIND) "(%rbx)\n"
	"	je 1f\n"
	"	movl $" XSTR(MSG_KIND_FAST) ", " XSTR(MSG_KIND) "(%rbx)\n"
	"1:	rdfsbase %rax\n"
	"	cmp %rax, " XSTR(MSG_FS_BASE) "(%rbx)\n"
	"	je 1f\n"
	"	mov %rax, " XSTR(MSG_FS_BASE) "(%rbx)\n"
	"1:	cmp %rbx, " XSTR(MSG_GS_BASE) "(%rbx)\n"
	"	je .Lreport\n"
	"	mov %rbx, " XSTR(MSG_GS_BASE) "(%rbx)\n"
	"	jmp .Lreport\n"

	".Lsigreturn:\n"
	"	add $8, %rsp\n"
	"	mov $" XSTR(__NR_rt_sigreturn) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".Lexit_thread:\n"
	"	mov $" XSTR(__NR_exit) ", %eax\n"
	"	xor %edi, %edi\n"
	"	syscall\n"
	"	ud2\n"
	"st_stub_restorer:\n"                     /* SA_RESTORER: unused, the handler returns */
	"	mov $" XSTR(__NR_rt_sigreturn) ", %eax\n" /* with its own rt_sigreturn */
	"	syscall\n"
	"	ud2\n"

	"st_stub_entry:\n"
	"	xor %esp, %esp\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_FPINIT) "), %rcx\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_FLAGS) "), %rax\n"
	"	testl $" XSTR(D_FLAG_XSAVE) ", (%rax)\n"
	"	jz 1f\n"
	LOAD_RFBM
	"	xrstor (%rcx)\n"
	"	jmp 2f\n"
	"1:	fxrstor (%rcx)\n"
	"2:	xor %eax, %eax\n"
	"	wrfsbase %rax\n"
	"	wrgsbase %rax\n"
	"	mov $" XSTR(__NR_munmap) ", %eax\n"  /* everything below the stub */
	"	xor %edi, %edi\n"
	"	movabs $" XSTR(ST_BASE) ", %rsi\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz .Ldie\n"
	"	mov $" XSTR(__NR_munmap) ", %eax\n"  /* above it */
	"	movabs $" XSTR(ST_REGION_END) ", %rdi\n"
	"	movabs $(0x7ffffffff000 - " XSTR(ST_REGION_END) "), %rsi\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz .Ldie\n"
	"	mov $" XSTR(__NR_munmap) ", %eax\n"  /* and above 47 bits, with 5-level paging */
	"	movabs $0x7ffffffff000, %rdi\n"
	"	movabs $(0xfffffffffff000 - 0x7ffffffff000), %rsi\n"
	"	syscall\n"
	"	mov $" XSTR(__NR_seccomp) ", %eax\n"
	"	mov $" XSTR(SECCOMP_SET_MODE_FILTER) ", %edi\n"
	"	xor %esi, %esi\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_PROG_A) "), %rdx\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz .Ldie\n"
	"	mov $" XSTR(__NR_prctl) ", %eax\n"
	"	mov $" XSTR(PR_SET_PDEATHSIG) ", %edi\n"
	"	xor %esi, %esi\n"
	"	xor %edx, %edx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz .Ldie\n"
	"	mov $" XSTR(__NR_write) ", %eax\n"
	"	mov $" XSTR(ST_FD_PIPE) ", %edi\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_READY) "), %rsi\n"
	"	mov $4, %edx\n"
	"	syscall\n"
	"	cmp $4, %rax\n"
	"	jne .Ldie\n"
	"	xor %r13d, %r13d\n"                 /* the last request served */
	"	xor %ebp, %ebp\n"                   /* spin iterations left */
	"	movabs $" XSTR(ST_REQ) ", %rbx\n"
	".Lctl_loop:\n"
	"	mov " XSTR(REQ_SEQ) "(%rbx), %r14d\n"
	"	cmp %r13d, %r14d\n"
	"	jne 3f\n"
	"	test %ebp, %ebp\n"                   /* spin a while after a request: they come in */
	"	jz .Lctl_sleep\n"                    /* bursts */
	"	dec %ebp\n"
	"	pause\n"
	"	jmp .Lctl_loop\n"
	"3:	mov " XSTR(REQ_NR) "(%rbx), %rax\n"
	"	mov (" XSTR(REQ_ARGS) " + 0)(%rbx), %rdi\n"
	"	mov (" XSTR(REQ_ARGS) " + 8)(%rbx), %rsi\n"
	"	mov (" XSTR(REQ_ARGS) " + 16)(%rbx), %rdx\n"
	"	mov (" XSTR(REQ_ARGS) " + 24)(%rbx), %r10\n"
	"	mov (" XSTR(REQ_ARGS) " + 32)(%rbx), %r8\n"
	"	mov (" XSTR(REQ_ARGS) " + 40)(%rbx), %r9\n"
	"	mov " XSTR(REQ_THREAD) "(%rbx), %r12\n"
	"	cmp " XSTR(REQ_SEQ) "(%rbx), %r14d\n" /* read whole: no newer request meanwhile */
	"	jne .Lctl_loop\n"
	"	mov %r14d, %r13d\n"
	"	cmp $" XSTR(REQ_NR_OPS) ", %rax\n"
	"	je .Lctl_ops\n"
	"	cmp $" XSTR(__NR_clone) ", %eax\n"
	"	je 1f\n"
	"	syscall\n"
	"	jmp .Lctl_done\n"
	"1:	syscall\n"
	"	test %rax, %rax\n"
	"	jz .Lthread_start\n"
	"	jmp .Lctl_done\n"
	".Lctl_ops:\n"                         /* r14: ops left, r15: the op, ebp: done */
	"	mov " XSTR(REQ_NOPS) "(%rbx), %r14d\n"
	"	xor %ebp, %ebp\n"
	"	cmp $" XSTR(REQ_OPS_MAX) ", %r14d\n"
	"	ja 2f\n"
	"	lea " XSTR(REQ_OPS) "(%rbx), %r15\n"
	"1:	test %r14d, %r14d\n"
	"	jz 2f\n"
	OP_LOAD
	"	syscall\n"
	"	cmp " XSTR(OP_EXPECT) "(%r15), %rax\n"
	"	jne 2f\n"
	"	inc %ebp\n"
	"	add $" XSTR(OP_SIZE) ", %r15\n"
	"	dec %r14d\n"
	"	jmp 1b\n"
	"2:	mov %ebp, %eax\n"
	".Lctl_done:\n"
	"	movabs $(" XSTR(ST_SHM) " + " XSTR(ST_RES_OFF) "), %rcx\n"
	"	mov %rax, " XSTR(RES_VAL) "(%rcx)\n"
	"	mov %r13d, " XSTR(RES_SEQ) "(%rcx)\n"  /* a hint for a spinning Sentry */
	"	mov $" XSTR(__NR_write) ", %eax\n"  /* the completion: the request's number */
	"	mov $" XSTR(ST_FD_PIPE) ", %edi\n"
	"	lea " XSTR(REQ_SEQ) "(%rbx), %rsi\n"
	"	mov $4, %edx\n"
	"	syscall\n"
	"	cmp $4, %rax\n"
	"	jne .Ldie\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_SPIN) "), %rax\n"
	"	mov (%rax), %ebp\n"
	"	jmp .Lctl_loop\n"
	".Lctl_sleep:\n"                       /* the doorbell: the Sentry writes a byte */
	"	movabs $(" XSTR(ST_SHM) " + " XSTR(ST_RES_OFF) "), %rsi\n"
	"	movl $1, " XSTR(RES_SLEEPING) "(%rsi)\n"
	"	add $" XSTR(RES_SCRATCH) ", %rsi\n"
	"	xor %eax, %eax\n"                    /* __NR_read */
	"	mov $" XSTR(ST_FD_DOORBELL) ", %edi\n"
	"	mov $" XSTR(RES_SCRATCH_SIZE) ", %edx\n"
	"	syscall\n"
	"	movabs $(" XSTR(ST_SHM) " + " XSTR(ST_RES_OFF) "), %rsi\n"
	"	movl $0, " XSTR(RES_SLEEPING) "(%rsi)\n"
	"	test %rax, %rax\n"                   /* EOF: the Sentry is gone */
	"	jz .Ldie\n"
	"	cmp $-" XSTR(EINTR) ", %rax\n"
	"	je .Lctl_loop\n"
	"	cmp $-4095, %rax\n"
	"	jb .Lctl_loop\n"
	".Ldie:\n"
	"	mov $" XSTR(__NR_exit_group) ", %eax\n"
	"	mov $" XSTR(EPIPE) ", %edi\n"
	"	syscall\n"
	"	ud2\n"

	".Lthread_start:\n"
	"	mov $" XSTR(__NR_sigaltstack) ", %eax\n"
	"	mov %r12, %rdi\n"
	"	xor %esi, %esi\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	mov $" XSTR(__NR_seccomp) ", %eax\n"
	"	mov $" XSTR(SECCOMP_SET_MODE_FILTER) ", %edi\n"
	"	xor %esi, %esi\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_PROG_B) "), %rdx\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	mov $" XSTR(__NR_rt_sigprocmask) ", %eax\n"
	"	mov $" XSTR(SIG_SETMASK) ", %edi\n"
	"	movabs $(" XSTR(ST_DATA) " + " XSTR(D_APP_MASK) "), %rsi\n"
	"	xor %edx, %edx\n"
	"	mov $8, %r10d\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	int3\n"                              /* the first report */
	"1:	mov $" XSTR(__NR_exit) ", %eax\n"
	"	mov $1, %edi\n"
	"	syscall\n"
	"	ud2\n"
	"st_stub_code_end:\n"
	"	.popsection\n");
// clang-format on
extern const uint8_t st_stub_code[], st_stub_handler[], st_stub_restorer[], st_stub_entry[],
	st_stub_wake_syscall[], st_stub_fast[], st_stub_spill_trap[], st_stub_batch_after[],
	st_stub_code_end[];

/* ---- the data page ---- */

/* The signals a stub thread handles: syscalls, faults, the interrupt. */
static const int g_handled[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, ST_SIG_INTERRUPT};

static uint8_t g_data[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define SD_LO offsetof(struct seccomp_data, instruction_pointer)
#define SD_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define TO(from, to) ((to) - (from)-1) /* BPF jumps count from the next instruction */
#define LD(at, off) [at] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(at, k, yes, no) [at] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), TO(at, yes), TO(at, no))
#define JGT(at, k, yes, no) [at] = BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (k), TO(at, yes), TO(at, no))
#define RET(at, v) [at] = BPF_STMT(BPF_RET | BPF_K, (v))

/* The instruction pointer seccomp sees is the address after the syscall instruction: within
 * (ST_CODE, ST_CODE + ST_CODE_SIZE] for the stub's own. */
#define CODE_HI ((uint32_t)((uint64_t)ST_CODE >> 32))
#define CODE_LO ((uint32_t)(uint64_t)ST_CODE)

/* Filter A, on the whole stub: syscalls from the stub's code page are allowed, every other one
 * (any architecture: int $0x80 too) traps. */
enum { A_ARCH, A_ARCH_CHECK, A_HI, A_HI_CHECK, A_LO, A_LO_MAX, A_LO_MIN, A_ALLOW, A_TRAP, A_LEN };
static const struct sock_filter g_filter_a[A_LEN] = {
	LD(A_ARCH, offsetof(struct seccomp_data, arch)),
	JEQ(A_ARCH_CHECK, AUDIT_ARCH_X86_64, A_HI, A_TRAP),
	LD(A_HI, SD_HI),
	JEQ(A_HI_CHECK, CODE_HI, A_LO, A_TRAP),
	LD(A_LO, SD_LO),
	JGT(A_LO_MAX, CODE_LO + ST_CODE_SIZE, A_TRAP, A_LO_MIN),
	JGT(A_LO_MIN, CODE_LO, A_ALLOW, A_TRAP),
	RET(A_ALLOW, SECCOMP_RET_ALLOW),
	RET(A_TRAP, SECCOMP_RET_TRAP),
};

/* Filter B, on each application thread: from the stub's code only what the handler needs; any
 * other call made there kills the stub (only an application jumping into the stub does that). */
enum {
	B_ARCH,
	B_ARCH_CHECK,
	B_HI,
	B_HI_CHECK,
	B_LO,
	B_LO_MAX,
	B_LO_MIN,
	B_NR,
	B_SIGRETURN,
	B_EXIT,
	B_SIGPROCMASK,
	B_FUTEX,
	B_FUTEX_OP,
	B_FUTEX_WAIT,
	B_FUTEX_WAKE,
	B_ARCH_PRCTL,
	B_ARCH_PRCTL_CODE,
	B_ARCH_PRCTL_SET,
	B_MMAP,
	B_MUNMAP,
	B_MPROTECT,
	B_RECVMSG,
	B_SITE,
	B_SITE_CHECK,
	B_ALLOW,
	B_KILL,
	B_TRAP,
	B_LEN
};
static const struct sock_filter g_filter_b[B_LEN] = {
	LD(B_ARCH, offsetof(struct seccomp_data, arch)),
	JEQ(B_ARCH_CHECK, AUDIT_ARCH_X86_64, B_HI, B_TRAP),
	LD(B_HI, SD_HI),
	JEQ(B_HI_CHECK, CODE_HI, B_LO, B_TRAP),
	LD(B_LO, SD_LO),
	JGT(B_LO_MAX, CODE_LO + ST_CODE_SIZE, B_TRAP, B_LO_MIN),
	JGT(B_LO_MIN, CODE_LO, B_NR, B_TRAP),
	LD(B_NR, offsetof(struct seccomp_data, nr)),
	JEQ(B_SIGRETURN, __NR_rt_sigreturn, B_ALLOW, B_EXIT),
	JEQ(B_EXIT, __NR_exit, B_ALLOW, B_SIGPROCMASK),
	JEQ(B_SIGPROCMASK, __NR_rt_sigprocmask, B_ALLOW, B_FUTEX),
	JEQ(B_FUTEX, __NR_futex, B_FUTEX_OP, B_ARCH_PRCTL),
	LD(B_FUTEX_OP, offsetof(struct seccomp_data, args[1])),
	JEQ(B_FUTEX_WAIT, FUTEX_WAIT, B_ALLOW, B_FUTEX_WAKE),
	JEQ(B_FUTEX_WAKE, FUTEX_WAKE, B_ALLOW, B_KILL),
	/* The thread's own cpuid faulting (learning: see .Lcpuid), nothing else of arch_prctl. */
	JEQ(B_ARCH_PRCTL, __NR_arch_prctl, B_ARCH_PRCTL_CODE, B_MMAP),
	LD(B_ARCH_PRCTL_CODE, offsetof(struct seccomp_data, args[0])),
	JEQ(B_ARCH_PRCTL_SET, ARCH_SET_CPUID, B_ALLOW, B_KILL),
	/* A batch's mapping changes and host fds, from the batch site only (filter C checks the
	 * cookie). */
	JEQ(B_MMAP, __NR_mmap, B_SITE, B_MUNMAP),
	JEQ(B_MUNMAP, __NR_munmap, B_SITE, B_MPROTECT),
	JEQ(B_MPROTECT, __NR_mprotect, B_SITE, B_RECVMSG),
	JEQ(B_RECVMSG, __NR_recvmsg, B_SITE, B_KILL),
	LD(B_SITE, SD_LO),
	JEQ(B_SITE_CHECK, 0 /* the batch site: st_stub_init */, B_ALLOW, B_KILL),
	RET(B_ALLOW, SECCOMP_RET_ALLOW),
	RET(B_KILL, SECCOMP_RET_KILL_PROCESS),
	RET(B_TRAP, SECCOMP_RET_TRAP),
};
_Static_assert(A_LEN <= D_FILTER_MAX && B_LEN <= D_FILTER_MAX, "the filters fit their slots");
_Static_assert(MSG_COOKIE >= MSG_SELF + 8 && MSG_NOPS >= MSG_COOKIE + 8 &&
		       MSG_OPS >= MSG_NOPS + 4, "the area's batch words");
_Static_assert(D_FILTER_A + D_FILTER_MAX * 8 <= D_FILTER_B &&
		       D_FILTER_B + D_FILTER_MAX * 8 <= D_FPINIT &&
		       D_FPINIT + XSAVE_MIN <= D_CPUID && sizeof(struct st_cpuid) == 24,
	       "the data page's layout");

/* Filter C, per stub (its cookie K in the high half of an argument the kernel ignores): at the
 * batch site, mmap (of the memory file, MAP_SHARED | MAP_FIXED; of another fd, a host file the
 * Sentry passed, MAP_PRIVATE | MAP_FIXED and not writable), munmap, mprotect and recvmsg (on
 * the socket host fds come over) need K; everything else is for the other filters to decide. */
#define ARG_LO(i) (offsetof(struct seccomp_data, args[0]) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
enum {
	C_ARCH,
	C_ARCH_CHECK,
	C_HI,
	C_HI_CHECK,
	C_LO,
	C_LO_CHECK,
	C_NR,
	C_MMAP,
	C_MUNMAP,
	C_MPROTECT,
	C_RECVMSG,
	C_MMAP_FD_HI,
	C_MMAP_FD_HI_CHECK,
	C_MMAP_FD_LO,
	C_MMAP_FD_LO_CHECK,
	C_MMAP_FLAGS_LO,
	C_MMAP_FLAGS_LO_CHECK,
	C_HOST_FLAGS_LO,
	C_HOST_FLAGS_LO_CHECK,
	C_HOST_PROT,
	C_HOST_PROT_CHECK,
	C_MMAP_FLAGS_HI,
	C_MMAP_FLAGS_HI_CHECK,
	C_MUNMAP_HI,
	C_MUNMAP_HI_CHECK,
	C_MUNMAP_LO,
	C_MUNMAP_LO_CHECK,
	C_MPROTECT_HI,
	C_MPROTECT_HI_CHECK,
	C_MPROTECT_LO,
	C_MPROTECT_LO_CHECK,
	C_RECVMSG_HI,
	C_RECVMSG_HI_CHECK,
	C_RECVMSG_FD,
	C_RECVMSG_FD_CHECK,
	C_ALLOW,
	C_KILL,
	C_LEN
};

static void filter_c(struct sock_filter *f, uint32_t site_lo, uint32_t k)
{
	const struct sock_filter c[C_LEN] = {
		LD(C_ARCH, offsetof(struct seccomp_data, arch)),
		JEQ(C_ARCH_CHECK, AUDIT_ARCH_X86_64, C_HI, C_ALLOW),
		LD(C_HI, SD_HI),
		JEQ(C_HI_CHECK, CODE_HI, C_LO, C_ALLOW),
		LD(C_LO, SD_LO),
		JEQ(C_LO_CHECK, site_lo, C_NR, C_ALLOW),
		LD(C_NR, offsetof(struct seccomp_data, nr)),
		JEQ(C_MMAP, __NR_mmap, C_MMAP_FD_HI, C_MUNMAP),
		JEQ(C_MUNMAP, __NR_munmap, C_MUNMAP_HI, C_MPROTECT),
		JEQ(C_MPROTECT, __NR_mprotect, C_MPROTECT_HI, C_RECVMSG),
		JEQ(C_RECVMSG, __NR_recvmsg, C_RECVMSG_HI, C_ALLOW),
		LD(C_MMAP_FD_HI, ARG_HI(4)),
		JEQ(C_MMAP_FD_HI_CHECK, k, C_MMAP_FD_LO, C_KILL),
		LD(C_MMAP_FD_LO, ARG_LO(4)),
		JEQ(C_MMAP_FD_LO_CHECK, ST_FD_MEMFILE, C_MMAP_FLAGS_LO, C_HOST_FLAGS_LO),
		LD(C_MMAP_FLAGS_LO, ARG_LO(3)),
		JEQ(C_MMAP_FLAGS_LO_CHECK, MAP_SHARED | MAP_FIXED, C_MMAP_FLAGS_HI, C_KILL),
		LD(C_HOST_FLAGS_LO, ARG_LO(3)),
		JEQ(C_HOST_FLAGS_LO_CHECK, MAP_PRIVATE | MAP_FIXED, C_HOST_PROT, C_KILL),
		LD(C_HOST_PROT, ARG_LO(2)),
		[C_HOST_PROT_CHECK] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_WRITE,
					       TO(C_HOST_PROT_CHECK, C_KILL),
					       TO(C_HOST_PROT_CHECK, C_MMAP_FLAGS_HI)),
		LD(C_MMAP_FLAGS_HI, ARG_HI(3)),
		JEQ(C_MMAP_FLAGS_HI_CHECK, 0, C_ALLOW, C_KILL),
		LD(C_MUNMAP_HI, ARG_HI(2)),
		JEQ(C_MUNMAP_HI_CHECK, k, C_MUNMAP_LO, C_KILL),
		LD(C_MUNMAP_LO, ARG_LO(2)),
		JEQ(C_MUNMAP_LO_CHECK, 0, C_ALLOW, C_KILL),
		LD(C_MPROTECT_HI, ARG_HI(3)),
		JEQ(C_MPROTECT_HI_CHECK, k, C_MPROTECT_LO, C_KILL),
		LD(C_MPROTECT_LO, ARG_LO(3)),
		JEQ(C_MPROTECT_LO_CHECK, 0, C_ALLOW, C_KILL),
		LD(C_RECVMSG_HI, ARG_HI(3)),
		JEQ(C_RECVMSG_HI_CHECK, k, C_RECVMSG_FD, C_KILL),
		LD(C_RECVMSG_FD, ARG_LO(0)),
		JEQ(C_RECVMSG_FD_CHECK, ST_FD_SOCK, C_ALLOW, C_KILL),
		RET(C_ALLOW, SECCOMP_RET_ALLOW),
		RET(C_KILL, SECCOMP_RET_KILL_PROCESS),
	};

	memcpy(f, c, sizeof(c));
}

#define ST_READY_TOKEN 0x59444552U /* "REDY" */

static unsigned g_spin, g_ctl_spin;
static uint64_t g_spin_ticks;

/* Calibrate spinning: how many pause iterations and TSC ticks make ns nanoseconds on this
 * machine. No spinning (0 iterations) with a single CPU, where it only delays the other side.
 * The fastest of a few short rounds (an interrupt lengthens one, never shortens it): 4 x 1,000
 * pauses, ~40 us at boot where one round of 20,000 took 0.2 ms. */
#define CAL_PAUSES 1000
static void spin_calibrate(long ns)
{
	struct timespec t0, t1;
	cpu_set_t cpus;
	uint64_t c0, c1, ticks = 0;
	long took = LONG_MAX;

	for (int round = 0; round < 4; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		c0 = __builtin_ia32_rdtsc();
		for (int i = 0; i < CAL_PAUSES; i++)
			__builtin_ia32_pause();
		c1 = __builtin_ia32_rdtsc();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long t = MAX(1L, (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
		if (t < took) {
			took = t;
			ticks = c1 - c0;
		}
	}
	g_spin = (unsigned)MAX(1L, MIN((long)ST_SPIN_MAX, ns * CAL_PAUSES / took));
	g_ctl_spin = (unsigned)MIN((long)ST_SPIN_MAX, ST_CTL_SPIN_NS * (long)CAL_PAUSES / took);
	/* With pairing (run.c) the control thread runs on its caller's CPU, where spinning would
	 * only keep the caller from running. */
	if (pairing_on())
		g_ctl_spin = 0;
	g_spin_ticks = (uint64_t)((double)ticks * (double)ns / (double)took);
	/* sched_getaffinity, not sysconf: that reads /sys, a path the confined Sentry cannot open. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
		g_spin = g_ctl_spin = 0;
}

unsigned st_spin_iterations(void)
{
	return g_spin;
}

uint64_t st_spin_ticks(void)
{
	return g_spin_ticks;
}

unsigned st_ctl_spin_iterations(void)
{
	return g_ctl_spin;
}

uint64_t st_stub_test_syscall(void)
{
	return ST_CODE + (uint64_t)(st_stub_wake_syscall - st_stub_code);
}

bool st_patching;

uint64_t st_stub_patch_enable(void)
{
	st_patching = true;
	return ST_CODE + (uint64_t)(st_stub_fast - st_stub_code);
}

uint64_t st_stub_spill_rip(void)
{
	return ST_CODE + (uint64_t)(st_stub_spill_trap - st_stub_code) + 1; /* past the int3 */
}

uint64_t st_stub_batch_rip(void)
{
	return ST_CODE + (uint64_t)(st_stub_batch_after - st_stub_code);
}

uint32_t st_stub_flags(void)
{
	uint32_t flags;

	memcpy(&flags, g_data + D_FLAGS, sizeof(flags));
	return flags;
}

uint64_t st_app_mask(void)
{
	uint64_t mask;

	memcpy(&mask, g_data + D_APP_MASK, sizeof(mask));
	return mask;
}

static void put_prog(size_t at, size_t filter_at, size_t len)
{
	struct sock_fprog prog = {.len = (unsigned short)len,
				  .filter = (struct sock_filter *)(ST_DATA + filter_at)};

	memcpy(g_data + at, &prog, sizeof(prog));
}

/* The host's answer to cpuid (leaf, sub) as the table's next entry (ST_CPUID_ANY_SUB: whatever
 * ecx), into r; a full table takes no more (the handler reports the leaves it lacks). */
static void cpuid_put(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint8_t *t = g_data + D_CPUID;
	struct st_cpuid e = {.leaf = leaf, .sub = sub};
	uint32_t n;

	__cpuid_count(leaf, sub == ST_CPUID_ANY_SUB ? 0 : sub, e.eax, e.ebx, e.ecx, e.edx);
	r[0] = e.eax, r[1] = e.ebx, r[2] = e.ecx, r[3] = e.edx;
	memcpy(&n, t, sizeof(n));
	if (n >= D_CPUID_MAX)
		return;
	memcpy(t + 8 + n * sizeof(e), &e, sizeof(e));
	n++;
	memcpy(t, &n, sizeof(n));
}

/* Whether the stubs answer cpuid (st_stub_init decides, before the master is forked). */
static bool g_cpuid_on;

bool st_cpuid_on(void) { return g_cpuid_on; }

/* A cpuid's cost here, in ns: the mean of a few, timed on the vDSO's clock. Where cpuid is an
 * instruction like another (no hypervisor intercepts it) it is ~0.1 us, far less than the
 * stub's answer to an int3 (~1.1 us); in a VM every cpuid exits to the hypervisor, ~1.5-6 us. */
static uint64_t cpuid_cost_ns(void)
{
	struct timespec a, b;
	unsigned r[4];

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 4; i++)
		__cpuid(0, r[0], r[1], r[2], r[3]);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec)) / 4;
}

/* The stubs answer cpuid where it costs more than ST_CPUID_WORTH_NS (the int3's ~1.1 us and a
 * process's share of the rewrites, ~20 us over its ~70 cpuids) and where reading a faulting
 * instruction's bytes is safe (not with protection keys: PROT_EXEC alone is then unreadable). */
#define ST_CPUID_WORTH_NS 1500

/*
 * The answers the handler gives for a cpuid rewritten into int3 (docs/platforms.md, "cpuid"):
 * the leaves glibc's start-up asks for (its CPU features and cache sizes), read once, by the
 * stub master before its first stub (each cpuid is a VM exit, ~6 us here: ~50 of them would
 * hold up the Sentry's boot). Leaves 1 and 0xb carry the APIC id of the CPU that answers: the
 * table has the master's CPU's, as if the thread had run there (it may run anywhere: the Sentry
 * does not pin it where sched_setaffinity says). Others are reported and the Sentry runs cpuid
 * for the thread. Empty where the stubs answer no cpuid (st_cpuid_on: where cpuid is cheap, or
 * protection keys are on).
 */
static void cpuid_table(void)
{
	uint32_t r[4], max, i, n;

	if (!st_cpuid_on())
		return; /* (the count stays 0: st_stub_init zeroed the data page) */
	cpuid_put(0, ST_CPUID_ANY_SUB, r);
	max = r[0];
	cpuid_put(1, ST_CPUID_ANY_SUB, r);
	if (max >= 2)
		cpuid_put(2, ST_CPUID_ANY_SUB, r);
	for (i = 0; max >= 4 && i < 16; i++) { /* cache levels, up to the first null one */
		cpuid_put(4, i, r);
		if ((r[0] & 0x1f) == 0)
			break;
	}
	if (max >= 7) {
		cpuid_put(7, 0, r);
		for (i = 1, n = r[0]; i <= n && i < 4; i++)
			cpuid_put(7, i, r);
	}
	for (i = 0; max >= 0xb && i < 8; i++) { /* topology levels, up to the first invalid one */
		cpuid_put(0xb, i, r);
		if (((r[2] >> 8) & 0xff) == 0)
			break;
	}
	/* XSAVE's components: glibc asks for those of its STATE_SAVE_MASK (2, 3, 5, 6, 7) and, newer
	 * ones, of AMX (17, 18); the rest are reported. */
	for (i = 0; max >= 0xd && i < 19; i = i == 9 ? 17 : i + 1)
		cpuid_put(0xd, i, r);
	if (max >= 0x14) {
		cpuid_put(0x14, 0, r);
		for (i = 1, n = r[0]; i <= n && i < 4; i++)
			cpuid_put(0x14, i, r);
	}
	if (max >= 0x19)
		cpuid_put(0x19, ST_CPUID_ANY_SUB, r);
	cpuid_put(0x80000000, ST_CPUID_ANY_SUB, r);
	for (i = 0x80000001, n = r[0]; i <= n && i <= 0x80000008; i++)
		cpuid_put(i, ST_CPUID_ANY_SUB, r);
}

int st_stub_init(void)
{
	uint64_t mask = ~0ULL, rfbm = fpstate_user_features();
	uint32_t ready = ST_READY_TOKEN, flags = fpstate_xsave() ? D_FLAG_XSAVE : 0;
	const uint16_t fcw = 0x37f;
	const uint32_t mxcsr = 0x1f80;

	if (fpstate_xsave() && fpstate_user_size() <= ST_FPSAVE_MAX)
		flags |= D_FLAG_FPSAVE;

	if ((size_t)(st_stub_code_end - st_stub_code) > ST_CODE_SIZE)
		return -E2BIG;
	for (size_t i = 0; i < ARRAY_SIZE(g_handled); i++)
		mask &= ~(1ULL << (g_handled[i] - 1));
	spin_calibrate(ST_SPIN_NS);

	memset(g_data, 0, sizeof(g_data));
	put_prog(D_PROG_A, D_FILTER_A, A_LEN);
	put_prog(D_PROG_B, D_FILTER_B, B_LEN);
	memcpy(g_data + D_APP_MASK, &mask, sizeof(mask));
	memcpy(g_data + D_READY, &ready, sizeof(ready));
	memcpy(g_data + D_FLAGS, &flags, sizeof(flags));
	memcpy(g_data + D_RFBM, &rfbm, sizeof(rfbm));
	memcpy(g_data + D_SPIN, &g_ctl_spin, sizeof(g_ctl_spin));
	memcpy(g_data + D_FILTER_A, g_filter_a, sizeof(g_filter_a));
	memcpy(g_data + D_FILTER_B, g_filter_b, sizeof(g_filter_b));
	((struct sock_filter *)(g_data + D_FILTER_B))[B_SITE_CHECK].k = (uint32_t)st_stub_batch_rip();
	/* XSTATE_BV 0 puts every component in its initial state, but MXCSR, which XRSTOR (and
	 * FXRSTOR) load from here. */
	memcpy(g_data + D_FPINIT + FX_FCW, &fcw, sizeof(fcw));
	memcpy(g_data + D_FPINIT + FX_MXCSR, &mxcsr, sizeof(mxcsr));
	g_cpuid_on = !CPU_FEATURE_ACTIVE(OSPKE) && cpuid_cost_ns() > ST_CPUID_WORTH_NS;
	stub_master_prepare(cpuid_table);
	return 0;
}

/* ---- forking a stub ---- */

/* The kernel's struct sigaction (rt_sigaction's). */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
#define K_SA_RESTORER 0x04000000

/* What the stubs' own code makes beyond a boot's calls, for the master's filter (the stubs'
 * filters A, B and C narrow it down): the control thread's requests and completions, the
 * handler's hand-off, a new thread's start, and the boot's protections. */
const struct stub_master_rule st_stub_rules[] = {
	{__NR_read, 0, ST_FD_DOORBELL},
	{__NR_recvmsg, 0, ST_FD_SOCK},
	{__NR_write, 0, ST_FD_PIPE},
	{__NR_mprotect, -1, 0},
	{__NR_clone, 0, ST_CLONE_FLAGS},
	{__NR_sigaltstack, -1, 0},
	{__NR_rt_sigreturn, -1, 0},
	{__NR_arch_prctl, 0, ARCH_SET_CPUID},
};
const size_t st_stub_nrules = ARRAY_SIZE(st_stub_rules);

/* A new stub, forked by the stub master (see stub_common.h for what it may do): keep the memory
 * file, the pipe, the doorbell and the shared memory file, put the stub's code, data and the
 * shared region in place, install the handlers, then jump into the stub's code, which unmaps
 * the rest. Exits with an errno on failure. */
void st_stub_boot(const struct stub_boot *b)
{
	struct sock_filter fc[C_LEN];
	struct sock_fprog prog_c = {.len = C_LEN, .filter = fc};
	const int fds[5] = {b->memfd, b->pipe_wr, b->bell_rd, b->shmfd, b->sock};
	struct k_sigaction sa = {
		.handler = ST_CODE + (uint64_t)(st_stub_handler - st_stub_code),
		.flags = SA_SIGINFO | SA_ONSTACK | K_SA_RESTORER,
		.restorer = ST_CODE + (uint64_t)(st_stub_restorer - st_stub_code),
		.mask = ~0ULL,
	};
	uint64_t entry = ST_CODE + (uint64_t)(st_stub_entry - st_stub_code);
	uint32_t cookie = b->cookie;
	long p;
	int err;

	_Static_assert(ST_FD_MEMFILE == 0 && ST_FD_PIPE == 1 && ST_FD_DOORBELL == 2 &&
			   ST_FD_SOCK == 4 && ST_FD_FIRST_HOST == 3,
		       "the prelude's order");
	if ((err = stub_child_prelude(b->sentry, fds, 5)) != 0)
		stub_child_exit(err);
	/* Its own session: the terminal's job-control signals are not for it. */
	syscall(SYS_setsid);
	p = syscall(SYS_mmap, ST_SHM, ST_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, 3,
		    0);
	if (p == -1)
		stub_child_exit(errno);
	syscall(SYS_close, 3);
	p = syscall(SYS_mmap, ST_CODE, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == -1)
		stub_child_exit(errno);
	memcpy((void *)ST_CODE, st_stub_code, (size_t)(st_stub_code_end - st_stub_code));
	memcpy((void *)ST_DATA, g_data, sizeof(g_data));
	if (syscall(SYS_mprotect, ST_CODE, PAGE_SIZE, PROT_READ | PROT_EXEC) < 0 ||
	    syscall(SYS_mprotect, ST_DATA, PAGE_SIZE, PROT_READ) < 0)
		stub_child_exit(errno);
	if (syscall(SYS_mprotect, ST_SHM, ST_SHM_RO_SIZE, PROT_READ) < 0)
		stub_child_exit(errno);
	for (size_t i = 0; i < ARRAY_SIZE(g_handled); i++)
		if (syscall(SYS_rt_sigaction, g_handled[i], &sa, NULL, sizeof(sa.mask)) < 0)
			stub_child_exit(errno);
	/* Needed to install the stub's filters without privileges. */
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		stub_child_exit(errno);
	/* Filter C, from this stack: the stub's code unmaps it (and all else of the master's)
	 * before any application code runs, so the cookie is nowhere in the stub. */
	filter_c(fc, (uint32_t)st_stub_batch_rip(), cookie);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog_c) < 0)
		stub_child_exit(errno);
	cookie = 0;
	memset(fc, 0, sizeof(fc));
	__asm__ volatile("" : : "r"(fc), "r"(cookie) : "memory");
	__asm__ volatile("jmp *%0" : : "r"(entry) : "memory");
	__builtin_unreachable();
}

/* Read the stub's 4-byte word from the pipe. Returns 1, 0 at EOF (the stub is gone) or -errno. */
static int pipe_read_word(int fd, uint32_t *w)
{
	for (;;) {
		ssize_t n = read(fd, w, sizeof(*w));

		if (n == (ssize_t)sizeof(*w))
			return 1;
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : -EIO; /* a pipe write of 4 bytes is atomic */
	}
}

/* Reap the stub (it was killed or it exited); returns its wait status. */
static int stub_reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	return status;
}

int st_stub_create(struct plat_as *as)
{
	struct stub_spawn sp;
	uint32_t word = 0;
	uint8_t *shm;
	int r, status;

	if ((r = stub_master_spawn(&sp)) < 0)
		return r;
	close(sp.pidfd);
	shm = mmap(NULL, ST_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, sp.shmfd,
		   0);
	r = shm == MAP_FAILED ? -errno : 0;
	close(sp.shmfd);
	if (r == 0)
		r = pipe_read_word(sp.pipe_rd, &word);
	if (r == 1 && word == ST_READY_TOKEN) {
		as->pid = sp.pid;
		as->pipe_rd = sp.pipe_rd;
		/* The Sentry keeps a read end too: the doorbell never has no reader, so ringing a
		 * dead stub is no EPIPE (and no SIGPIPE). */
		as->bell_rd = sp.bell_rd;
		as->bell_wr = sp.bell_wr;
		as->sock = sp.sock;
		as->nhfd = 0;
		as->shm = shm;
		as->cookie = (uint64_t)sp.cookie << 32;
		log_debug("systrap stub %d created", sp.pid);
		return 0;
	}
	kill(sp.pid, SIGKILL);
	status = stub_reap(sp.pid);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		r = -WEXITSTATUS(status);
	else
		r = r < 0 ? r : -EIO;
	log_error("systrap stub: set-up failed: %s (status %#x)", strerror(-r), status);
	close(sp.pipe_rd);
	close(sp.bell_rd);
	close(sp.bell_wr);
	close(sp.sock);
	if (shm != MAP_FAILED)
		munmap(shm, ST_SHM_SIZE);
	return r;
}

/* The stack_t of area slot i, read-only in the stub: a new thread reads its own from memory the
 * application cannot change. Written once per slot use (always the same value), before the
 * clone that makes the thread. */
void st_stub_slot_ss(struct plat_as *as, unsigned i)
{
	struct linux_stack *ss = (struct linux_stack *)(as->shm + ST_SS_OFF) + i;

	*ss = (struct linux_stack){
		.ss_sp = ST_SHM + ST_AREAS_OFF + (uint64_t)i * ST_AREA_SIZE + PAGE_SIZE,
		.ss_size = ST_AREA_SIZE - PAGE_SIZE,
	};
}

void st_stub_destroy(struct plat_as *as)
{
	kill(as->pid, SIGKILL); /* not reaped yet: the pid is still the stub's */
	stub_reap(as->pid);
	atomic_store(&as->dead, true);
	close(as->pipe_rd);
	close(as->bell_rd);
	close(as->bell_wr);
	close(as->sock);
	munmap(as->shm, ST_SHM_SIZE);
	as->shm = NULL;
}

bool st_stub_gone(struct plat_as *as)
{
	siginfo_t si;

	if (atomic_load(&as->dead))
		return true;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)as->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == as->pid) {
		log_debug("systrap stub %d died (code %d, status %d)", as->pid, si.si_code,
			  si.si_status);
		atomic_store(&as->dead, true);
		return true;
	}
	return false;
}

void st_stub_kill(struct plat_as *as, const char *why)
{
	if (!atomic_exchange(&as->dead, true))
		log_warn("systrap stub %d: %s: killing it", as->pid, why);
	kill(as->pid, SIGKILL);
}

pid_t plat_systrap_as_pid(const struct plat_as *as)
{
	return as->pid;
}
