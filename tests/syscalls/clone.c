/* clone.c: raw clone: CLONE_VM|CLONE_THREAD threads with own stack and TLS, CLEARTID + futex, flags. */
#include "sc.h"

#include <asm/prctl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>

/* A syscall that touches no TLS (errno lives there): for threads running on a bare TLS block. */
static inline long rsys(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

#define STACK_SIZE (256 * 1024)

static volatile pid_t ctid;

struct targ {
	volatile int go, started;
	long ctid_seen, tid, pid, ppid, fsbase, fs0, fd;
	uintptr_t stack_addr;
	volatile int shared;
};

static int thread_fn(void *p)
{
	struct targ *a = p;
	int local = 0;
	long fs0;

	while (!a->go)
		rsys(SYS_sched_yield, 0, 0, 0, 0);
	a->tid = rsys(SYS_gettid, 0, 0, 0, 0);
	a->pid = rsys(SYS_getpid, 0, 0, 0, 0);
	a->ppid = rsys(SYS_getppid, 0, 0, 0, 0);
	rsys(SYS_arch_prctl, ARCH_GET_FS, (long)&a->fsbase, 0, 0);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(fs0));
	a->fs0 = fs0;
	a->stack_addr = (uintptr_t)&local;
	a->fd = rsys(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0);
	a->shared = 42;
	a->ctid_seen = ctid; /* CLONE_CHILD_SETTID stored it before the thread ran */
	a->started = 1;
	/* Exit after a pause, so the parent is already asleep in FUTEX_WAIT on the tid word. */
	struct timespec ts = { 0, 20 * 1000000 };
	rsys(SYS_nanosleep, (long)&ts, 0, 0, 0);
	return 0; /* glibc's clone() then calls SYS_exit: this thread only */
}

static void test_thread(void)
{
	static struct targ a;
	/* An x86-64 TCB: its first word points to itself (%fs:0). */
	static uintptr_t tls[64] __attribute__((aligned(64)));
	static volatile pid_t ptid;
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	unsigned long fsbase_before;

	CHECK(stack != MAP_FAILED, "mmap stack");
	tls[0] = (uintptr_t)tls;
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase_before));
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		    CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
		    CLONE_CHILD_CLEARTID;
	int tid = clone(thread_fn, stack + STACK_SIZE, flags, &a, &ptid, tls, &ctid);
	CHECK(tid > 0, "clone");
	CHECK(ptid == tid, "CLONE_PARENT_SETTID stored %d, clone returned %d", ptid, tid);
	a.go = 1;
	while (!a.started)
		sched_yield();
	/* CLONE_CHILD_CLEARTID: the kernel zeroes ctid at thread exit and wakes the futex. */
	for (;;) {
		pid_t v = ctid;
		if (v == 0)
			break;
		struct timespec to = { 10, 0 };
		long r = syscall(SYS_futex, &ctid, FUTEX_WAIT, v, &to, NULL, 0);
		CHECK(r == 0 || errno == EAGAIN || errno == EINTR,
		      "futex wait on the tid word: the exit did not wake it");
	}
	CHECK(a.tid == tid, "thread gettid %ld, clone returned %d", a.tid, tid);
	CHECK(a.ctid_seen == tid, "CLONE_CHILD_SETTID stored %ld", a.ctid_seen);
	CHECK(a.tid != getpid(), "a thread has its own tid");
	CHECK(a.pid == getpid(), "thread getpid %ld is the group's %d", a.pid, getpid());
	CHECK(a.ppid == getppid(), "threads share the parent");
	CHECK(a.fsbase == (long)tls && a.fs0 == (long)tls, "CLONE_SETTLS: fs base %#lx, %%fs:0 %#lx",
	      a.fsbase, a.fs0);
	unsigned long fsbase_after;
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase_after));
	CHECK(fsbase_after == fsbase_before, "the parent's fs base is unchanged");
	CHECK(a.stack_addr > (uintptr_t)stack && a.stack_addr < (uintptr_t)stack + STACK_SIZE,
	      "the thread ran on its own stack");
	CHECK(a.shared == 42, "CLONE_VM: memory shared");
	CHECK(a.fd >= 0 && fcntl((int)a.fd, F_GETFD) >= 0, "CLONE_FILES: the thread's fd is ours");
	close((int)a.fd);
	/* A CLONE_THREAD child is not a child to wait for. */
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) == -1 && errno == ECHILD, "no waitable child");
	munmap(stack, STACK_SIZE);
	ok("CLONE_THREAD: own tid and stack, CLONE_SETTLS, PARENT/CHILD_SETTID, CLEARTID futex wake");
}

static int vm_child(void *p)
{
	*(volatile int *)p = 99;
	return 12;
}

static void test_clone_vm_process(void)
{
	/* CLONE_VM without CLONE_THREAD: a new process sharing our memory, reaped via SIGCHLD. */
	static volatile int shared;
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	CHECK(stack != MAP_FAILED, "mmap");
	int pid = clone(vm_child, stack + STACK_SIZE, CLONE_VM | SIGCHLD, (void *)&shared);
	CHECK(pid > 0, "clone");
	expect_exit(pid, 12);
	CHECK(shared == 99, "CLONE_VM child wrote our memory");

	/* Without CLONE_VM: the child runs on its stack in a copy of our memory. */
	shared = 0;
	pid = clone(vm_child, stack + STACK_SIZE, SIGCHLD, (void *)&shared);
	CHECK(pid > 0, "clone");
	expect_exit(pid, 12);
	CHECK(shared == 0, "a clone without CLONE_VM has its own memory");
	munmap(stack, STACK_SIZE);
	ok("clone(CLONE_VM|SIGCHLD) shares memory; clone(SIGCHLD) copies it");
}

static void test_clone_files_fs(void)
{
	/* Without CLONE_FILES the child has a copy of the table; with CLONE_FS chdir is shared. */
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	char cwd[512];

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	int pid = (int)syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	CHECK(pid >= 0, "clone");
	if (pid == 0) {
		close(1); /* not shared: our stdout stays open */
		_exit(chdir("/") == 0 ? 0 : 1);
	}
	expect_exit(pid, 0);
	char now[512];
	CHECK(getcwd(now, sizeof(now)) && !strcmp(now, "/"), "CLONE_FS shares the cwd: %s", now);
	CHECK(fcntl(1, F_GETFD) >= 0, "stdout still open without CLONE_FILES");
	CHECK_OK(chdir(cwd));

	pid = (int)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	CHECK(pid >= 0, "clone");
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		_exit(fd == 50 ? 0 : dup2(fd, 50) == 50 ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(fcntl(50, F_GETFD) >= 0, "CLONE_FILES: the child's fd 50 is in our table");
	close(50);
	pid = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		_exit(chdir("/") == 0 && dup2(0, 51) == 51 ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(getcwd(now, sizeof(now)) && !strcmp(now, cwd), "cwd not shared without CLONE_FS");
	CHECK(fcntl(51, F_GETFD) == -1 && errno == EBADF, "fd table not shared");
	munmap(stack, STACK_SIZE);
	ok("CLONE_FS shares the cwd, CLONE_FILES the fd table; neither without the flag");
}

static void test_clone_parent(void)
{
	/* CLONE_PARENT, from a child: the grandchild becomes our child. */
	int p[2];

	CHECK_OK(pipe(p));
	pid_t mid = sc_fork();
	if (mid == 0) {
		pid_t g = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (g == 0)
			_exit(33);
		CHECK(write(p[1], &g, sizeof(g)) == sizeof(g), "write");
		_exit(waitpid(g, NULL, 0) == -1 && errno == ECHILD ? 0 : 1);
	}
	pid_t g;
	CHECK(read(p[0], &g, sizeof(g)) == sizeof(g), "read");
	expect_exit(mid, 0);
	expect_exit(g, 33);
	close(p[0]);
	close(p[1]);
	ok("CLONE_PARENT: the new process is a child of the caller's parent");
}

static void test_bad_flags(void)
{
	/* Checked before anything is created. */
	CHECK(raw(SYS_clone, CLONE_THREAD | SIGCHLD, 0, 0, 0, 0, 0) == -EINVAL,
	      "CLONE_THREAD needs CLONE_SIGHAND");
	CHECK(raw(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0, 0) == -EINVAL,
	      "CLONE_SIGHAND needs CLONE_VM");
	CHECK(raw(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0, 0) == -EINVAL,
	      "CLONE_NEWNS with CLONE_FS");
	ok("clone rejects inconsistent flags with EINVAL");
}

int main(void)
{
	test_thread();
	test_clone_vm_process();
	test_clone_files_fs();
	test_clone_parent();
	test_bad_flags();
	return 0;
}
