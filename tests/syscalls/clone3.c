/* clone3.c: clone3 as glibc uses it (pthread_create): fork-like, thread on its own stack, errors. */
#include "sc.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

/* struct clone_args, as in <linux/sched.h> (VER2, 88 bytes). */
struct cargs {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/*
 * clone3 that runs fn(arg) on the new stack in the child and exits the child with its return
 * value (SYS_exit, this thread only). r8/r9 survive the syscall into the child.
 */
static long clone3_run(struct cargs *ca, size_t size, int (*fn)(void *), void *arg)
{
	long ret;
	register void *r8 __asm__("r8") = (void *)fn;
	register void *r9 __asm__("r9") = arg;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r9, %%rdi\n\t"
			 "call *%%r8\n\t"
			 "mov %%rax, %%rdi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:\n"
			 : "=a"(ret)
			 : "a"(SYS_clone3), "D"(ca), "S"(size), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static void test_fork_like(void)
{
	struct cargs ca = { .exit_signal = SIGCHLD };
	pid_t parent = getpid();
	int p[2];

	CHECK_OK(pipe(p));
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	CHECK(pid >= 0, "clone3");
	if (pid == 0) {
		pid_t pp = getppid();
		(void)!write(p[1], &pp, sizeof(pp));
		_exit(5);
	}
	pid_t pp;
	CHECK(read(p[0], &pp, sizeof(pp)) == sizeof(pp) && pp == parent, "child's getppid");
	expect_exit((pid_t)pid, 5);

	/* The smallest struct (VER0, 64 bytes) works too. */
	pid = syscall(SYS_clone3, &ca, 64);
	CHECK(pid >= 0, "clone3 with 64 bytes");
	if (pid == 0)
		_exit(6);
	expect_exit((pid_t)pid, 6);
	close(p[0]);
	close(p[1]);
	ok("clone3 without a stack behaves like fork (sizes 88 and 64)");
}

static volatile pid_t ctid;

struct targ {
	volatile int started;
	long tid, pid, fs0, ctid_seen;
	uintptr_t local;
};

static int thread_fn(void *p)
{
	struct targ *a = p;
	long fs0;
	int local;

	a->tid = syscall(SYS_gettid);
	a->pid = syscall(SYS_getpid);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(fs0));
	a->fs0 = fs0;
	a->local = (uintptr_t)&local;
	a->ctid_seen = ctid; /* CLONE_CHILD_SETTID stored it before the thread ran */
	a->started = 1;
	struct timespec ts = { 0, 20 * 1000000 };
	syscall(SYS_nanosleep, &ts, NULL);
	return 0;
}

static void test_thread(void)
{
	static struct targ a;
	/* fs points into the middle: glibc's static TLS (errno) sits below the TCB. */
	static uintptr_t tls_area[2048] __attribute__((aligned(64)));
	uintptr_t *tls = &tls_area[1024];
	static volatile pid_t ptid;
	size_t ss = 256 * 1024;
	char *stack = mmap(NULL, ss, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(stack != MAP_FAILED, "mmap");
	tls[0] = (uintptr_t)tls;
	struct cargs ca = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			 CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
		.child_tid = (uintptr_t)&ctid,
		.parent_tid = (uintptr_t)&ptid,
		.stack = (uintptr_t)stack,
		.stack_size = ss,
		.tls = (uintptr_t)tls,
	};
	/* The thread makes raw syscalls through syscall(), which touches errno only on error. */
	long tid = clone3_run(&ca, sizeof(ca), thread_fn, &a);
	CHECK(tid > 0, "clone3 thread: %ld", tid);
	CHECK(ptid == tid, "parent_tid %d", ptid);
	while (!a.started)
		sched_yield();
	for (;;) {
		pid_t v = ctid;
		if (v == 0)
			break;
		struct timespec to = { 10, 0 };
		long r = syscall(SYS_futex, &ctid, FUTEX_WAIT, v, &to, NULL, 0);
		CHECK(r == 0 || errno == EAGAIN || errno == EINTR, "futex wait on child_tid");
	}
	CHECK(a.tid == tid && a.pid == getpid(), "thread ids %ld %ld", a.tid, a.pid);
	CHECK(a.ctid_seen == tid, "CLONE_CHILD_SETTID: %ld", a.ctid_seen);
	CHECK(a.fs0 == (long)tls, "tls");
	CHECK(a.local > (uintptr_t)stack && a.local < (uintptr_t)stack + ss, "own stack");
	munmap(stack, ss);
	ok("clone3 thread: stack+stack_size, tls, parent/child tid, CLEARTID futex wake");
}

static void nop_handler(int sig)
{
}

static void test_clear_sighand(void)
{
	set_handler(SIGUSR1, (void *)nop_handler, 0);
	set_disposition(SIGUSR2, SIG_IGN);
	struct cargs ca = { .flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	CHECK(pid >= 0, "clone3 CLONE_CLEAR_SIGHAND");
	if (pid == 0) {
		struct sigaction s1, s2;
		sigaction(SIGUSR1, NULL, &s1);
		sigaction(SIGUSR2, NULL, &s2);
		_exit(s1.sa_handler == SIG_DFL && s2.sa_handler == SIG_IGN ? 0 : 1);
	}
	expect_exit((pid_t)pid, 0);
	set_disposition(SIGUSR1, SIG_DFL);
	set_disposition(SIGUSR2, SIG_DFL);
	ca.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	CHECK(raw(SYS_clone3, (long)&ca, sizeof(ca), 0, 0, 0, 0) == -EINVAL,
	      "CLONE_CLEAR_SIGHAND with CLONE_SIGHAND");
	ok("CLONE_CLEAR_SIGHAND resets handlers, keeps SIG_IGN");
}

static void test_errors(void)
{
	struct {
		struct cargs ca;
		char extra[64];
	} big;
	memset(&big, 0, sizeof(big));
	big.ca.exit_signal = SIGCHLD;

	CHECK(raw(SYS_clone3, (long)&big, 32, 0, 0, 0, 0) == -EINVAL, "size below VER0");
	big.extra[10] = 1;
	CHECK(raw(SYS_clone3, (long)&big, sizeof(big), 0, 0, 0, 0) == -E2BIG,
	      "non-zero bytes past the known struct");
	big.extra[10] = 0;
	big.ca.exit_signal = 65;
	CHECK(raw(SYS_clone3, (long)&big, sizeof(big.ca), 0, 0, 0, 0) == -EINVAL,
	      "exit_signal above _NSIG");
	big.ca.exit_signal = SIGCHLD;
	big.ca.flags = 1ULL << 40;
	CHECK(raw(SYS_clone3, (long)&big, sizeof(big.ca), 0, 0, 0, 0) == -EINVAL, "unknown flag");
	big.ca.flags = 0;
	big.ca.stack = 0x10000;
	big.ca.stack_size = 0;
	CHECK(raw(SYS_clone3, (long)&big, sizeof(big.ca), 0, 0, 0, 0) == -EINVAL,
	      "stack without stack_size");
	big.ca.stack = 0;
	CHECK(raw(SYS_clone3, 16, sizeof(big.ca), 0, 0, 0, 0) == -EFAULT, "bad pointer");
	ok("clone3 errors: EINVAL (size, exit_signal, flags, stack), E2BIG, EFAULT");
}

int main(void)
{
	test_fork_like();
	test_thread();
	test_clear_sighand();
	test_errors();
	return 0;
}
