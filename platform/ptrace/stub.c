/* The ptrace stub: forking the empty process that is an address space, and syscall injection. */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/*
 * The stub page, copied to PLAT_STUB_BASE by the child and mapped read+exec.
 *
 * code: `syscall; int3`, then ud2 so a stray jump into the page traps.
 * filter: the stub's own seccomp filter, installed by the first injected syscall. A syscall is
 * allowed only when it is made from the stub's syscall instruction (instruction_pointer is the
 * address after it, STUB_TRAP_ADDR) and is one the platform injects; any other syscall that
 * reaches seccomp is trapped (SIGSYS, which ctx_run reports as a syscall) and a non-x86-64 one
 * kills the stub. Application syscalls never get here: PTRACE_SYSEMU stops them at entry, before
 * seccomp runs. What does get here is the kernel's vsyscall emulation (a call into
 * 0xffffffffff600000 under vsyscall=xonly), which ignores SYSEMU: the filter turns it into a
 * trap the Sentry emulates. libseccomp cannot test instruction_pointer, hence raw BPF.
 */
#define STUB_FILTER_LEN 14

struct stub_image {
	uint8_t code[16];
	struct sock_fprog prog; /* points at filter, at its address inside the stub */
	struct sock_filter filter[STUB_FILTER_LEN];
};
_Static_assert(sizeof(struct stub_image) <= PAGE_SIZE, "stub image fits one page");

#define SECCOMP_DATA_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SECCOMP_DATA_IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)
/* BPF jump offsets count from the next instruction. */
#define TO(from, to) ((to) - (from)-1)

static const struct stub_image stub_image = {
	.code = {0x0f, 0x05,             /* syscall */
		 0xcc,                   /* int3 */
		 0x0f, 0x0b, 0x0f, 0x0b, /* ud2 ... */
		 0x0f, 0x0b, 0x0f, 0x0b, 0x0f, 0x0b, 0x0f, 0x0b, 0x90},
	.prog = {.len = STUB_FILTER_LEN,
		 .filter = (struct sock_filter *)(PLAT_STUB_BASE +
						  offsetof(struct stub_image, filter))},
	.filter = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, TO(1, 3), TO(1, 2)),
		/* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_IP_LO),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)STUB_TRAP_ADDR, TO(4, 5), TO(4, 13)),
		/* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_IP_HI),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_TRAP_ADDR >> 32), TO(6, 7),
				 TO(6, 13)),
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, TO(8, 12), TO(8, 9)),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, TO(9, 12), TO(9, 10)),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, TO(10, 12), TO(10, 11)),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	},
};

pid_t stub_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

pid_t plat_ptrace_as_pid(const struct plat_as *as)
{
	return as->dead ? -1 : as->pid;
}

/* glibc registered the forking thread's rseq area with the kernel; the registration is inherited
 * by the child, and the area lives in memory the stub is about to lose. The kernel writes it on
 * every return to user mode after a preemption and would kill the stub with SIGSEGV when it is
 * gone. Unregistering needs the exact length glibc registered: glibc 2.35/2.36 register and
 * publish sizeof(struct rseq) = 32 in __rseq_size; later ones may publish a smaller feature size
 * while registering 32, hence the second try. Returns 0 or -1 with errno set. */
static int stub_child_unregister_rseq(void)
{
	uintptr_t tp;
	void *area;

	if (__rseq_size == 0)
		return 0; /* glibc did not register one */
	__asm__("mov %%fs:0, %0" : "=r"(tp)); /* the thread pointer */
	area = (char *)tp + __rseq_offset;
	if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0 ||
	    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
		return 0;
	return -1;
}

/* The forked child, before it is traced. The Sentry may be multi-threaded and the child is a
 * copy of one of its threads, so between the fork and the stop it makes raw system calls and
 * copies memory, nothing else (no locks, no malloc, no stdio). It exits with the errno of a
 * failed step. It ends stopped by its own SIGSTOP, traced by the thread that forked it; that
 * thread then takes over its registers and it never runs this code again. */
static noreturn void stub_child(int memfd, pid_t ppid)
{
	uint64_t no_signals = 0;
	long page;

	/* Die with the Sentry thread that made us; PTRACE_O_EXITKILL takes over once set. */
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail;
	if (syscall(SYS_getppid) != ppid) {
		errno = ESRCH; /* the Sentry died before PDEATHSIG was armed */
		goto fail;
	}
	/* Every signal must reach the tracer as a stop, whatever mask the forking thread had. */
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &no_signals, NULL, sizeof(no_signals)) < 0)
		goto fail;
	if (stub_child_unregister_rseq() < 0)
		goto fail;
	if (memfd != STUB_FD_MEMFILE && syscall(SYS_dup2, memfd, STUB_FD_MEMFILE) < 0)
		goto fail;
	if (syscall(SYS_close_range, STUB_FD_MEMFILE + 1, ~0U, 0) < 0)
		goto fail;
	_Static_assert(STUB_FD_MEMFILE == 0, "close the fds below the memory file too");
	/* The stub page replaces the Sentry's PROT_NONE reservation, in this copy only. */
	page = syscall(SYS_mmap, PLAT_STUB_BASE, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (page == -1)
		goto fail;
	memcpy((void *)page, &stub_image, sizeof(stub_image));
	if (syscall(SYS_mprotect, PLAT_STUB_BASE, PAGE_SIZE, PROT_READ | PROT_EXEC) < 0)
		goto fail;
	/* Needed to install the stub's filter without privileges (a confined Sentry has it set). */
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) < 0)
		goto fail;
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	errno = EIO; /* resumed here: the tracer did not take over */
fail:
	syscall(SYS_exit_group, errno);
	__builtin_unreachable();
}

int stub_wait(struct plat_as *as, int *status)
{
	for (;;) {
		pid_t r = waitpid(as->pid, status, __WALL);

		if (r == as->pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		/* ECHILD: reaped behind our back (a waitpid(-1) elsewhere in the Sentry). */
		log_error("ptrace stub %d: waitpid: %s", as->pid, strerror(errno));
		as->dead = true;
		*status = 0;
		return -ESRCH;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		as->dead = true;
		return -ESRCH;
	}
	return 0;
}

void stub_kill(struct plat_as *as)
{
	int status;

	if (as->dead)
		return;
	/* Not reaped yet, so the pid is still this stub's. */
	kill(as->pid, SIGKILL);
	while (stub_wait(as, &status) == 0)
		; /* stops that were pending before the kill */
}

int stub_lost(struct plat_as *as, int err)
{
	if (err != ESRCH)
		log_error("ptrace stub %d: %s", as->pid, strerror(err));
	stub_kill(as);
	return err == ESRCH ? -ESRCH : -err;
}

int stub_stop_is_async(struct plat_as *as, siginfo_t *si)
{
	if (ptrace(PTRACE_GETSIGINFO, as->pid, NULL, si) < 0)
		return errno == EINVAL ? 1 : -errno; /* EINVAL: a group stop */
	return si->si_code <= 0; /* SI_USER, SI_TKILL, SI_QUEUE...: sent, not raised */
}

int stub_syscall(struct plat_as *as, long *res, long nr, const uint64_t a[6])
{
	struct linux_regs r = {
		.rip = STUB_SYSCALL_ADDR,
		.rax = (uint64_t)nr,
		.orig_rax = (uint64_t)-1, /* no syscall restart on the way out of a stop */
		.rdi = a[0],
		.rsi = a[1],
		.rdx = a[2],
		.r10 = a[3],
		.r8 = a[4],
		.r9 = a[5],
		.cs = STUB_USER_CS,
		.ss = STUB_USER_SS,
		.eflags = 0x202, /* IF and the always-one bit */
	};
	bool refused = false;
	siginfo_t si;
	int status, sig, k;

	if (as->dead)
		return -ESRCH;
	/* Run from the stub's `syscall` to its `int3`; a pending signal stop on the way is
	 * swallowed (ctx_interrupt records its interrupt in the context as well). */
	if (ptrace(PTRACE_SETREGS, as->pid, NULL, &r) < 0)
		return stub_lost(as, errno);
	for (;;) {
		if (ptrace(PTRACE_CONT, as->pid, NULL, NULL) < 0)
			return stub_lost(as, errno);
		if ((k = stub_wait(as, &status)) < 0)
			return k;
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, as->pid, NULL, &r) < 0)
				return stub_lost(as, errno);
			if (r.rip == STUB_TRAP_ADDR + 1) {
				*res = refused ? -EPERM : (long)r.rax;
				return 0;
			}
		}
		if ((k = stub_stop_is_async(as, &si)) < 0)
			return stub_lost(as, -k);
		if (k)
			continue;
		if (sig == SIGSYS && si.si_code == SYS_SECCOMP) {
			/* The Sentry's own filter (debug mode) trapped it; the stub's filter allows
			 * everything we inject. */
			log_error("ptrace stub %d: the Sentry's seccomp filter refuses syscall %ld "
				  "injected into stubs", as->pid, nr);
			refused = true;
			continue;
		}
		log_error("ptrace stub %d: signal %d (code %d) during injected syscall %ld", as->pid,
			  sig, si.si_code, nr);
		return stub_lost(as, EIO);
	}
}

/* One injected syscall during set-up; logs a failure. Returns 0 or -errno. */
static int stub_setup_call(struct plat_as *as, const char *what, long nr, uint64_t a0,
			   uint64_t a1, uint64_t a2)
{
	const uint64_t a[6] = {a0, a1, a2, 0, 0, 0};
	long res;
	int r = stub_syscall(as, &res, nr, a);

	if (r < 0)
		return r;
	if (res < 0 && res >= -4095) {
		log_error("ptrace stub %d: %s: %s", as->pid, what, strerror((int)-res));
		return (int)res;
	}
	return 0;
}

int stub_create(struct plat_as *as, int memfd)
{
	const uint64_t stub_end = PLAT_STUB_BASE + PAGE_SIZE;
	pid_t ppid = getpid();
	int status, r;
	long pid;

	as->tracer = stub_gettid();
	as->dead = false;
	/* A raw fork (SIGCHLD, no flags): unlike fork(3) it runs no atfork handlers and takes no
	 * glibc lock, which matters in a multi-threaded Sentry. The child continues on a copy of
	 * this stack and goes straight to stub_child. Its parent, hence its tracer, is this
	 * thread. */
	pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		stub_child(memfd, ppid);
	as->pid = (pid_t)pid;

	r = stub_wait(as, &status);
	if (r < 0) {
		r = WIFEXITED(status) && WEXITSTATUS(status) ? -WEXITSTATUS(status) : -ECHILD;
		log_error("ptrace stub: set-up in the child failed: %s", strerror(-r));
		return r;
	}
	if (WSTOPSIG(status) != SIGSTOP) {
		log_error("ptrace stub %d: unexpected first stop %#x", as->pid, status);
		stub_kill(as);
		return -EIO;
	}
	/* The stub dies with this thread; syscall stops say SIGTRAP|0x80. */
	if (ptrace(PTRACE_SETOPTIONS, as->pid, NULL,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0)
		return stub_lost(as, errno);

	/* From the stub's own code: its filter first, then everything but the stub page goes. */
	r = stub_setup_call(as, "seccomp", __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			    PLAT_STUB_BASE + offsetof(struct stub_image, prog));
	if (r == 0)
		r = stub_setup_call(as, "munmap below the stub", __NR_munmap, 0, PLAT_STUB_BASE, 0);
	if (r == 0)
		r = stub_setup_call(as, "munmap above the stub", __NR_munmap, stub_end,
				    STUB_USER_TOP - stub_end, 0);
	if (r == 0) {
		/* Only exists with 5-level paging: the result (EINVAL otherwise) does not matter. */
		const uint64_t a[6] = {STUB_USER_TOP, STUB_USER_TOP_LA57 - STUB_USER_TOP};
		long res;

		r = stub_syscall(as, &res, __NR_munmap, a);
	}
	if (r < 0) {
		stub_kill(as);
		return r;
	}
	log_debug("ptrace stub %d created, traced by thread %d", as->pid, as->tracer);
	return 0;
}
