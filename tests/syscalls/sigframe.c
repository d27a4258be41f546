/* sigframe.c: the signal frame: siginfo/ucontext contents, registers and mask changed through
 * uc_mcontext/uc_sigmask take effect at rt_sigreturn, FPU/SSE/AVX state, stack alignment. */
#include "sc.h"

#include <cpuid.h>
#include <ucontext.h>

static pid_t g_pid, g_tid;

/* ---- general registers ---- */

static uint64_t out_regs[8]; /* r12 r13 r14 r15 rbx rbp rsp-before */
static volatile int gpr_ok, gpr_seen;
extern char sf_after_syscall[];

#define V_R12 0x1212121212121212ULL
#define V_R13 0x1313131313131313ULL
#define V_R14 0x1414141414141414ULL
#define V_R15 0x1515151515151515ULL
#define V_RBX 0x0b0b0b0b0b0b0b0bULL
#define N_R13 0x3131313131313131ULL
#define N_RBX 0xb0b0b0b0b0b0b0b0ULL

static void gpr_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	greg_t *g = uc->uc_mcontext.gregs;

	gpr_seen = 1;
	gpr_ok = (uint64_t)g[REG_R12] == V_R12 && (uint64_t)g[REG_R13] == V_R13 &&
		 (uint64_t)g[REG_R14] == V_R14 && (uint64_t)g[REG_R15] == V_R15 &&
		 (uint64_t)g[REG_RBX] == V_RBX;
	gpr_ok |= ((uint64_t)g[REG_RIP] == (uint64_t)sf_after_syscall) << 1;
	gpr_ok |= (g[REG_RAX] == 0) << 2; /* tgkill's return value is already in rax */
	gpr_ok |= ((uint64_t)g[REG_RSP] == out_regs[6]) << 3;
	gpr_ok |= ((uintptr_t)uc < out_regs[6] - 128 && (uintptr_t)si < out_regs[6] - 128) << 4;
	gpr_ok |= (uc->uc_mcontext.fpregs != NULL) << 5;
	/* Changed registers come back at sigreturn. */
	g[REG_R13] = (greg_t)N_R13;
	g[REG_RBX] = (greg_t)N_RBX;
}

static void test_gprs(void)
{
	set_handler(SIGUSR1, (void *)gpr_handler, SA_SIGINFO);
	__asm__ volatile("mov %%rsp, 48(%[out])\n\t"
			 "movabs $0x1212121212121212, %%r12\n\t"
			 "movabs $0x1313131313131313, %%r13\n\t"
			 "movabs $0x1414141414141414, %%r14\n\t"
			 "movabs $0x1515151515151515, %%r15\n\t"
			 "movabs $0x0b0b0b0b0b0b0b0b, %%rbx\n\t"
			 "movl %[pid], %%edi\n\t"
			 "movl %[tid], %%esi\n\t"
			 "movl $10, %%edx\n\t" /* SIGUSR1 */
			 "movl %[nr], %%eax\n\t"
			 "syscall\n\t"
			 ".globl sf_after_syscall\n"
			 "sf_after_syscall:\n\t"
			 "mov %%r12, 0(%[out])\n\t"
			 "mov %%r13, 8(%[out])\n\t"
			 "mov %%r14, 16(%[out])\n\t"
			 "mov %%r15, 24(%[out])\n\t"
			 "mov %%rbx, 32(%[out])\n\t"
			 :
			 : [out] "r"(out_regs), [pid] "m"(g_pid), [tid] "m"(g_tid),
			   [nr] "i"(SYS_tgkill)
			 : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "rbx", "r12", "r13", "r14",
			   "r15", "memory");
	CHECK(gpr_seen, "handler ran");
	CHECK((gpr_ok & 1), "uc_mcontext has the interrupted r12-r15/rbx");
	CHECK((gpr_ok & 2), "REG_RIP is the instruction after syscall");
	CHECK((gpr_ok & 4), "REG_RAX holds the syscall's result");
	CHECK((gpr_ok & 8), "REG_RSP is the interrupted stack pointer");
	CHECK((gpr_ok & 16), "the frame lies below the red zone");
	CHECK((gpr_ok & 32), "fpregs present");
	CHECK(out_regs[0] == V_R12 && out_regs[2] == V_R14 && out_regs[3] == V_R15,
	      "untouched registers restored");
	CHECK(out_regs[1] == N_R13 && out_regs[4] == N_RBX,
	      "registers changed in uc_mcontext are restored by rt_sigreturn");
	ok("ucontext: r12-r15/rbx, rip, rax, rsp as interrupted; edits apply at sigreturn");
}

/* ---- signal mask in the frame ---- */

static volatile int mask_ok;
static void mask_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;

	mask_ok = sigismember(&uc->uc_sigmask, SIGHUP) && !sigismember(&uc->uc_sigmask, SIGUSR2);
	sigdelset(&uc->uc_sigmask, SIGHUP);
	sigaddset(&uc->uc_sigmask, SIGWINCH);
}

static void test_mask(void)
{
	set_handler(SIGUSR2, (void *)mask_handler, SA_SIGINFO);
	block(SIGHUP);
	raise(SIGUSR2);
	CHECK(mask_ok, "uc_sigmask is the interrupted mask");
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGHUP) && sigismember(&cur, SIGWINCH),
	      "rt_sigreturn installs the frame's (edited) uc_sigmask");
	unblock(SIGWINCH);
	ok("uc_sigmask is the interrupted mask; edits apply at sigreturn");
}

/* ---- FPU / SSE / AVX ---- */

static volatile uint64_t h_xmm0_entry, h_frame_xmm0, h_mxcsr_entry;
static volatile int h_ymm_ok;
static int have_avx;

#define OLD_X 0xdeadbeeffacefeedULL
#define NEW_X 0xfacefeedbaad1deaULL

static void fp_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	uint64_t v;
	uint32_t mx;

	__asm__ volatile("movq %%xmm0, %0" : "=r"(v));
	h_xmm0_entry = v;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	h_mxcsr_entry = mx;
	struct _libc_xmmreg *x = &uc->uc_mcontext.fpregs->_xmm[0];
	h_frame_xmm0 = ((uint64_t)x->element[1] << 32) | x->element[0];
	/* Replace xmm1 in the frame; clobber every xmm register here. */
	struct _libc_xmmreg *x1 = &uc->uc_mcontext.fpregs->_xmm[1];
	x1->element[0] = (uint32_t)NEW_X;
	x1->element[1] = (uint32_t)(NEW_X >> 32);
	uint64_t junk = 0x5555555555555555ULL;
	__asm__ volatile("movq %0, %%xmm0\n\tmovq %0, %%xmm1\n\tmovq %0, %%xmm2\n\t"
			 "movq %0, %%xmm7\n\tmovq %0, %%xmm8\n\tmovq %0, %%xmm15\n\t"
			 "ldmxcsr %1"
			 :
			 : "r"(junk), "m"(*(uint32_t[]){ 0x7f80 })
			 : "xmm0", "xmm1", "xmm2", "xmm7", "xmm8", "xmm15");
	if (have_avx) {
		/* Dirty the upper half of ymm2 too. */
		__asm__ volatile("vpcmpeqd %%ymm2, %%ymm2, %%ymm2" ::: "xmm2");
	}
}

static void test_fpu(void)
{
	unsigned a, b, c, d;
	uint64_t got0, got1, got8, got15;
	uint32_t mx_before = 0x3f80, mx_after; /* round toward zero (RC=11) */
	uint64_t ymm_hi[4] __attribute__((aligned(32))) = { 0 };

	if (__get_cpuid(1, &a, &b, &c, &d))
		have_avx = (c & bit_AVX) && (c & bit_OSXSAVE);
	set_handler(SIGUSR1, (void *)fp_handler, SA_SIGINFO);
	/* Everything from setting the registers to reading them back is one asm block, so the
	 * compiler cannot spill or reuse them around the syscall. */
	uint64_t pattern[4] __attribute__((aligned(32))) = { 0x1111, 0x2222, 0x3333, 0x4444 };
	__asm__ volatile("ldmxcsr %[mxb]\n\t"
			 "movq %[old], %%xmm0\n\t"
			 "movq %[old], %%xmm1\n\t"
			 "movq %[old], %%xmm8\n\t"
			 "movq %[old], %%xmm15\n\t"
			 "cmpl $0, %[avx]\n\t"
			 "je 1f\n\t"
			 "vmovdqa %[pat], %%ymm2\n"
			 "1:\n\t"
			 "movl %[pid], %%edi\n\t"
			 "movl %[tid], %%esi\n\t"
			 "movl $10, %%edx\n\t"
			 "movl %[nr], %%eax\n\t"
			 "syscall\n\t"
			 "movq %%xmm0, %[g0]\n\t"
			 "movq %%xmm1, %[g1]\n\t"
			 "movq %%xmm8, %[g8]\n\t"
			 "movq %%xmm15, %[g15]\n\t"
			 "stmxcsr %[mxa]\n\t"
			 "cmpl $0, %[avx]\n\t"
			 "je 2f\n\t"
			 "vmovdqa %%ymm2, %[yh]\n\t"
			 "vzeroupper\n"
			 "2:\n\t"
			 : [g0] "=m"(got0), [g1] "=m"(got1), [g8] "=m"(got8), [g15] "=m"(got15),
			   [mxa] "=m"(mx_after), [yh] "=m"(ymm_hi)
			 : [old] "r"(OLD_X), [mxb] "m"(mx_before), [avx] "m"(have_avx),
			   [pat] "m"(pattern), [pid] "m"(g_pid), [tid] "m"(g_tid),
			   [nr] "i"(SYS_tgkill)
			 : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm0", "xmm1", "xmm2", "xmm8",
			   "xmm15", "memory");
	uint32_t dflt = 0x1f80;
	__asm__ volatile("ldmxcsr %0" ::"m"(dflt));
	CHECK(h_xmm0_entry == 0, "the handler starts with a clean FPU state: xmm0 %#lx",
	      (unsigned long)h_xmm0_entry);
	CHECK(h_mxcsr_entry == 0x1f80, "the handler starts with the default MXCSR: %#lx",
	      (unsigned long)h_mxcsr_entry);
	CHECK(h_frame_xmm0 == OLD_X, "the frame holds the interrupted xmm0");
	CHECK(got0 == OLD_X && got8 == OLD_X && got15 == OLD_X,
	      "xmm registers clobbered by the handler are restored");
	CHECK(got1 == NEW_X, "xmm1 edited in the frame is restored from the frame");
	CHECK(mx_after == mx_before, "MXCSR restored: %#x", mx_after);
	if (have_avx)
		CHECK(!memcmp(ymm_hi, pattern, sizeof(pattern)), "ymm2 (upper half) restored");
	ok("FPU: clean state in the handler; xmm/MXCSR/ymm restored; frame edits applied");
}

/* ---- stack alignment at handler entry ---- */

uint64_t sf_entry_rsp;
void sf_align_body(int sig)
{
}
/* The handler's first instruction records rsp, then tail-calls a C function. */
__asm__(".text\n"
	".globl sf_align_stub\n"
	"sf_align_stub:\n\t"
	"mov %rsp, sf_entry_rsp(%rip)\n\t"
	"jmp sf_align_body\n");
void sf_align_stub(int sig);

static void test_alignment(void)
{
	for (int i = 0; i < 4; i++) {
		set_handler(SIGUSR1, (void *)sf_align_stub, 0);
		sf_entry_rsp = 0;
		/* Misalign our own stack by different amounts before the signal. */
		char *volatile pad = alloca(8 * i + 1);
		pad[0] = 0;
		raise(SIGUSR1);
		CHECK(sf_entry_rsp != 0, "handler ran");
		CHECK((sf_entry_rsp + 8) % 16 == 0, "rsp at handler entry %% 16 == 8 (as after a call)");
	}
	ok("the handler is entered with rsp+8 16-byte aligned");
}

int main(void)
{
	g_pid = getpid();
	g_tid = (pid_t)syscall(SYS_gettid);
	test_gprs();
	test_mask();
	test_fpu();
	test_alignment();
	return 0;
}
