/* faults.c: signals from real faults: SIGSEGV (MAPERR, ACCERR, non-canonical), SIGFPE (INTDIV),
 * SIGILL (ud2), SIGTRAP (int3); si_code/si_addr/rip right; resuming by editing uc_mcontext. */
#include "sc.h"

#include <sys/mman.h>
#include <ucontext.h>

/* Probes: one faulting instruction each, at a global label, and a label to resume at. */
extern char rd_insn[], rd_after[], wr_insn[], wr_after[], jmp_after[];
extern char div_insn[], div_after[], ud2_insn[], ud2_after[], int3_after[];
__asm__(".text\n"
	"probe_read:\n\t"
	".globl rd_insn\nrd_insn:\n\t"
	"movb (%rdi), %al\n"
	".globl rd_after\nrd_after:\n\t"
	"ret\n"
	"probe_write:\n\t"
	".globl wr_insn\nwr_insn:\n\t"
	"movb $1, (%rdi)\n"
	".globl wr_after\nwr_after:\n\t"
	"ret\n"
	"probe_jump:\n\t"
	"jmp *%rdi\n"
	".globl jmp_after\njmp_after:\n\t"
	"ret\n"
	"probe_div:\n\t"
	"xor %ecx, %ecx\n\t"
	"mov $1, %eax\n\t"
	"cltd\n"
	".globl div_insn\ndiv_insn:\n\t"
	"idivl %ecx\n"
	".globl div_after\ndiv_after:\n\t"
	"ret\n"
	"probe_ud2:\n"
	".globl ud2_insn\nud2_insn:\n\t"
	"ud2\n"
	".globl ud2_after\nud2_after:\n\t"
	"ret\n"
	"probe_int3:\n\t"
	"int3\n"
	".globl int3_after\nint3_after:\n\t"
	"ret\n");
void probe_read(volatile void *p);
void probe_write(volatile void *p);
void probe_jump(void *p);
void probe_div(void);
void probe_ud2(void);
void probe_int3(void);

static volatile int got_sig, got_code;
static volatile uintptr_t got_addr, got_rip;
static char *resume_at;

static void fault_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;

	got_sig = sig;
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	got_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (resume_at)
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume_at; /* skip the instruction */
}

static void arm(char *resume)
{
	got_sig = got_code = 0;
	got_addr = got_rip = 0;
	resume_at = resume;
}

static void test_segv(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *ro = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *gone = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(ro != MAP_FAILED && none != MAP_FAILED && gone != MAP_FAILED, "mmap");
	CHECK_OK(munmap(gone, pg));
	set_handler(SIGSEGV, (void *)fault_handler, SA_SIGINFO);

	arm(rd_after);
	probe_read((void *)0x10);
	CHECK(got_sig == SIGSEGV && got_code == SEGV_MAPERR && got_addr == 0x10 &&
		      got_rip == (uintptr_t)rd_insn,
	      "read of 0x10: code %d addr %#lx", got_code, (unsigned long)got_addr);
	arm(rd_after);
	probe_read(gone + 123);
	CHECK(got_code == SEGV_MAPERR && got_addr == (uintptr_t)gone + 123, "unmapped page read");
	ok("SIGSEGV SEGV_MAPERR with si_addr (near null, unmapped page); rip at the instruction");

	arm(wr_after);
	probe_write(ro + pg + 7);
	CHECK(got_sig == SIGSEGV && got_code == SEGV_ACCERR && got_addr == (uintptr_t)ro + pg + 7 &&
		      got_rip == (uintptr_t)wr_insn,
	      "write to PROT_READ: code %d", got_code);
	arm(rd_after);
	probe_read(none + 9);
	CHECK(got_code == SEGV_ACCERR && got_addr == (uintptr_t)none + 9, "read of PROT_NONE");
	arm(wr_after);
	probe_write((char *)probe_read); /* our own text is read-only */
	CHECK(got_code == SEGV_ACCERR && got_addr == (uintptr_t)probe_read, "write to text");
	ok("SIGSEGV SEGV_ACCERR with si_addr (write to PROT_READ and text, read of PROT_NONE)");

	/* Jumping to a mapped but non-executable page, and to an unmapped one. */
	arm(jmp_after);
	probe_jump(ro + 64);
	CHECK(got_code == SEGV_ACCERR && got_addr == (uintptr_t)ro + 64 &&
		      got_rip == (uintptr_t)ro + 64,
	      "exec of a non-exec page: code %d", got_code);
	arm(jmp_after);
	probe_jump(gone);
	CHECK(got_code == SEGV_MAPERR && got_addr == (uintptr_t)gone, "exec of an unmapped page");
	ok("SIGSEGV on instruction fetch: ACCERR for non-exec, MAPERR for unmapped; rip = target");

	/* A non-canonical address is a general protection fault: SI_KERNEL, si_addr 0. */
	arm(rd_after);
	probe_read((void *)0x8000000000000000ULL);
	CHECK(got_sig == SIGSEGV && got_code == SI_KERNEL && got_addr == 0,
	      "non-canonical: code %d addr %#lx", got_code, (unsigned long)got_addr);
	ok("SIGSEGV for a non-canonical address: SI_KERNEL, si_addr 0");

	/* kill() with SIGSEGV is not a fault. */
	arm(NULL);
	raise(SIGSEGV);
	CHECK(got_sig == SIGSEGV && got_code == SI_TKILL, "raised SIGSEGV: code %d", got_code);
	munmap(ro, 2 * pg);
	munmap(none, pg);
	set_disposition(SIGSEGV, SIG_DFL);
	ok("a sent SIGSEGV carries SI_USER/SI_TKILL, not a fault code");
}

static void test_fpe_ill_trap(void)
{
	set_handler(SIGFPE, (void *)fault_handler, SA_SIGINFO);
	set_handler(SIGILL, (void *)fault_handler, SA_SIGINFO);
	set_handler(SIGTRAP, (void *)fault_handler, SA_SIGINFO);

	arm(div_after);
	probe_div();
	CHECK(got_sig == SIGFPE && got_code == FPE_INTDIV && got_addr == (uintptr_t)div_insn &&
		      got_rip == (uintptr_t)div_insn,
	      "divide by zero: code %d", got_code);
	ok("SIGFPE FPE_INTDIV for an integer divide by zero, si_addr at the idiv");

	arm(ud2_after);
	probe_ud2();
	CHECK(got_sig == SIGILL && got_code == ILL_ILLOPN && got_addr == (uintptr_t)ud2_insn &&
		      got_rip == (uintptr_t)ud2_insn,
	      "ud2: code %d", got_code);
	ok("SIGILL ILL_ILLOPN for ud2, si_addr at the instruction");

	arm(NULL);
	probe_int3();
	CHECK(got_sig == SIGTRAP && got_code == SI_KERNEL && got_rip == (uintptr_t)int3_after,
	      "int3: code %d", got_code);
	ok("SIGTRAP SI_KERNEL for int3, rip after it");
	set_disposition(SIGFPE, SIG_DFL);
	set_disposition(SIGILL, SIG_DFL);
	set_disposition(SIGTRAP, SIG_DFL);
}

static void test_forced(void)
{
	/* A fault's signal cannot be blocked or ignored: the process dies of it. */
	static const int sigs[] = { SIGSEGV, SIGFPE, SIGILL };

	for (size_t i = 0; i < 3; i++) {
		for (int how = 0; how < 2; how++) {
			pid_t pid = sc_fork();
			if (pid == 0) {
				no_core();
				if (how == 0)
					block(sigs[i]);
				else
					set_disposition(sigs[i], SIG_IGN);
				if (sigs[i] == SIGSEGV)
					probe_read((void *)0x10);
				else if (sigs[i] == SIGFPE)
					probe_div();
				else
					probe_ud2();
				_exit(0);
			}
			expect_killed(pid, sigs[i]);
		}
	}
	ok("a blocked or ignored SIGSEGV/SIGFPE/SIGILL from a fault still kills");
}

int main(void)
{
	test_segv();
	test_fpe_ill_trap();
	test_forced();
	return 0;
}
