/* signal_fault.c: a fault handler that fixes the context and returns into the program, and
 * frames Linux refuses to build (no SA_RESTORER) or to read (rt_sigreturn). faults.c covers
 * the fault signals' codes and addresses. */
#include "sc.h"

#include <sys/mman.h>
#include <ucontext.h>

/* The handler skips the ud2 by editing rip: execution goes on after it. */
static void on_ill_skip(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void test_fix_and_return(void)
{
	set_handler(SIGILL, (void *)on_ill_skip, SA_SIGINFO);
	for (int i = 0; i < 3; i++)
		__asm__ volatile("ud2");
	set_disposition(SIGILL, SIG_DFL);
	ok("a handler that advances rip past the faulting instruction returns into the program");
}

/* rt_sigaction by hand: a handler without SA_RESTORER cannot get a frame on x86-64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void on_usr1_never(int sig)
{
	_exit(3);
}

static void no_restorer(void)
{
	struct ksigaction ka = { (void *)on_usr1_never, 0, NULL, 0 };

	no_core();
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8) == 0, "accepted without restorer");
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	_exit(0);
}

static void bad_sigreturn(void)
{
	no_core();
	char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED, "mmap");
	/* the frame would be read from an inaccessible page */
	__asm__ volatile("mov %0, %%rsp\n mov $15, %%eax\n syscall\n ud2" : : "r"(page + 2048)
			 : "memory");
	_exit(0);
}

static void test_bad_frames(void)
{
	pid_t c = sc_fork();
	if (c == 0)
		no_restorer();
	expect_killed(c, SIGSEGV);
	c = sc_fork();
	if (c == 0)
		bad_sigreturn();
	expect_killed(c, SIGSEGV);
	ok("no SA_RESTORER, or an unreadable rt_sigreturn frame: SIGSEGV");
}

int main(void)
{
	test_fix_and_return();
	test_bad_frames();
	return 0;
}
