/* sigaltstack.c: SA_ONSTACK with sigaltstack: where handlers run, SS_ONSTACK, nesting, errors,
 * fork inheritance, and catching a stack overflow. */
#include "sc.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

#define ALT_SIZE (64 * 1024)
static char *alt;
static volatile uintptr_t h_local, h2_local;
static volatile int h_flags, h_uc_flags, h_uc_match, h_eperm;

static int on_alt(uintptr_t a)
{
	return a >= (uintptr_t)alt && a < (uintptr_t)alt + ALT_SIZE;
}

static void h2(int sig)
{
	int local;
	h2_local = (uintptr_t)&local;
}

static void h1(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	stack_t cur, other = { .ss_sp = alt, .ss_size = ALT_SIZE };
	int local;

	h_local = (uintptr_t)&local;
	sigaltstack(NULL, &cur);
	h_flags = cur.ss_flags;
	h_uc_flags = uc->uc_stack.ss_flags;
	h_uc_match = uc->uc_stack.ss_sp == alt && uc->uc_stack.ss_size == ALT_SIZE;
	/* Changing the alternate stack while on it: EPERM. */
	h_eperm = sigaltstack(&other, NULL) == -1 && errno == EPERM;
	if (sig == SIGUSR1)
		raise(SIGUSR2); /* nested, SA_ONSTACK: continues below us on the same stack */
}

static void test_basic(void)
{
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE }, old;

	CHECK_OK(sigaltstack(NULL, &old));
	CHECK(old.ss_flags == SS_DISABLE, "no alternate stack at start: flags %d", old.ss_flags);
	CHECK_OK(sigaltstack(&ss, &old));
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK(old.ss_sp == alt && old.ss_size == ALT_SIZE && old.ss_flags == 0, "read back");

	set_handler(SIGUSR1, (void *)h1, SA_SIGINFO | SA_ONSTACK);
	set_handler(SIGUSR2, (void *)h2, SA_ONSTACK);
	raise(SIGUSR1);
	CHECK(on_alt(h_local), "SA_ONSTACK handler runs on the alternate stack");
	CHECK(h_flags == SS_ONSTACK, "sigaltstack in the handler says SS_ONSTACK: %d", h_flags);
	CHECK(h_uc_flags == 0 && h_uc_match, "uc_stack describes the alternate stack (flags %d)",
	      h_uc_flags);
	CHECK(h_eperm, "sigaltstack while on it: EPERM");
	CHECK(on_alt(h2_local) && h2_local < h_local, "a nested signal continues below on it");
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK(old.ss_flags == 0, "not on it after return");

	/* Without SA_ONSTACK, the normal stack. */
	int here;
	set_handler(SIGUSR1, (void *)h1, SA_SIGINFO);
	raise(SIGUSR1);
	CHECK(!on_alt(h_local), "no SA_ONSTACK: the normal stack");
	CHECK((uintptr_t)h_local < (uintptr_t)&here, "below the interrupted frame");

	/* SS_DISABLE. */
	stack_t dis = { .ss_flags = SS_DISABLE };
	CHECK_OK(sigaltstack(&dis, NULL));
	set_handler(SIGUSR1, (void *)h1, SA_SIGINFO | SA_ONSTACK);
	raise(SIGUSR1);
	CHECK(!on_alt(h_local) && h_flags == SS_DISABLE, "SS_DISABLE: the normal stack");
	ok("SA_ONSTACK runs on the alternate stack (SS_ONSTACK, uc_stack, nesting, EPERM)");
}

static void test_errors(void)
{
	/* The kernel's MINSIGSTKSZ is 2048 (glibc's macro is now a sysconf call). */
	stack_t ss = { .ss_sp = alt, .ss_size = 1024 };

	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0x1234;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
	CHECK_ERR(sigaltstack((stack_t *)8, NULL), EFAULT);
	ok("sigaltstack errors: ENOMEM, EINVAL, EFAULT");
}

static void test_fork(void)
{
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE }, old;

	CHECK_OK(sigaltstack(&ss, NULL));
	pid_t pid = sc_fork();
	if (pid == 0) {
		sigaltstack(NULL, &old);
		_exit(old.ss_sp == alt && old.ss_size == ALT_SIZE && old.ss_flags == 0 ? 0 : 1);
	}
	expect_exit(pid, 0);
	ok("fork keeps the alternate stack");
}

static sigjmp_buf overflow_jmp;
static volatile uintptr_t segv_local;
static void segv_handler(int sig, siginfo_t *si, void *p)
{
	int local;
	segv_local = (uintptr_t)&local;
	siglongjmp(overflow_jmp, 1);
}

static volatile long depth_limit = 1L << 40;
static int recurse(volatile char *prev)
{
	volatile char buf[4096];

	if (depth_limit-- == 0)
		return 0;
	buf[0] = prev ? prev[0] + 1 : 0;
	buf[4095] = buf[0];
	return recurse(buf) + buf[100];
}

static void overflow_child(void)
{
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE };

	CHECK_OK(sigaltstack(&ss, NULL));
	set_handler(SIGSEGV, (void *)segv_handler, SA_SIGINFO | SA_ONSTACK);
	if (sigsetjmp(overflow_jmp, 1) == 0) {
		recurse(NULL);
		CHECK(0, "recursion returned");
	}
	CHECK(on_alt(segv_local), "the overflow's SIGSEGV ran on the alternate stack");
}

static void test_overflow(void)
{
	in_child(overflow_child);
	ok("a stack overflow's SIGSEGV is caught on the alternate stack");
}

int main(void)
{
	alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(alt != MAP_FAILED, "mmap");
	test_basic();
	test_errors();
	test_fork();
	test_overflow();
	return 0;
}
