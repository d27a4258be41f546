/* The ptrace stub: forking the empty process that is an address space, and syscall injection. */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * The stub page's code, copied to PLAT_STUB_BASE by the child and mapped read+exec. Each entry
 * point is pinned with .org to the offset ptrace.h names (the assembler fails if code outgrows
 * its slot); the gaps are int3 or, where execution falls through, nop. A stray jump into the
 * page traps.
 */
#define STUB_CODE_SIZE 80
__asm__(".pushsection .rodata.stub_code, \"a\"\n"
	"	.balign 16\n"
	"stub_code:\n"
	"	syscall\n" /* +0 STUB_SYSCALL_ADDR: injected syscalls */
	"	int3\n"    /* +2 STUB_TRAP_ADDR */
	"	ud2\n"
	"	.org stub_code + 16, 0xcc\n"
	"	syscall\n" /* +16 STUB_CLONE_ADDR: the injected clone */
	"	test %rax, %rax\n"
	"	jnz 2f\n"  /* the parent (or a failure) stops at the int3 below */
	"	.org stub_code + 32, 0x90\n"
	"1:\n"             /* +32 STUB_PARK_ADDR: the child, and parked threads */
	"	lea .Lstub_zero(%rip), %rdi\n"
	"	mov $" XSTR(FUTEX_WAIT_PRIVATE) ", %esi\n"
	"	xor %edx, %edx\n"
	"	xor %r10d, %r10d\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"	.org stub_code + 56, 0x90\n"
	"	syscall\n" /* +56 STUB_PARK_SYSCALL */
	"	jmp 1b\n"
	"	.org stub_code + 64, 0xcc\n"
	"2:	int3\n"    /* +64 STUB_CLONE_TRAP */
	"	ud2\n"
	"	.org stub_code + 72, 0xcc\n"
	".Lstub_zero:\n"   /* +72 the word parked threads wait on: always 0 */
	"	.quad 0\n"
	"	.org stub_code + " XSTR(STUB_CODE_SIZE) ", 0xcc\n"
	"	.popsection\n");
extern const uint8_t stub_code[STUB_CODE_SIZE];

/*
 * The stub's own seccomp filter, installed by an injected syscall during set-up. A syscall is
 * allowed only when it is made from one of the stub's syscall instructions (instruction_pointer
 * is the address after it) and is the one that instruction is for: mmap, munmap, mprotect and
 * exit from the injection point, the thread clone (exact flags) from the clone point, the futex
 * wait from the park loop. Anything else from the stub page kills the stub; a syscall made
 * elsewhere that reaches seccomp is trapped (SIGSYS, which ctx_run reports as a syscall), and a
 * non-x86-64 one kills the stub. Application syscalls never get here: PTRACE_SYSEMU stops them
 * at entry, before seccomp runs. What does get here is the kernel's vsyscall emulation (a call
 * into 0xffffffffff600000 under vsyscall=xonly), which ignores SYSEMU: the filter turns it into
 * a trap the Sentry emulates. libseccomp cannot test instruction_pointer, hence raw BPF.
 */
enum {
	F_ARCH,
	F_ARCH_CHECK,
	F_IP_HI,
	F_IP_HI_CHECK,
	F_IP_LO,
	F_IS_INJECT,
	F_IS_CLONE,
	F_IS_PARK,
	F_INJECT,
	F_INJECT_MMAP,
	F_INJECT_MUNMAP,
	F_INJECT_MPROTECT,
	F_INJECT_EXIT,
	F_INJECT_OTHER,
	F_CLONE,
	F_CLONE_NR,
	F_CLONE_FLAGS_LO,
	F_CLONE_FLAGS_LO_CHECK,
	F_CLONE_FLAGS_HI,
	F_CLONE_FLAGS_HI_CHECK,
	F_PARK,
	F_PARK_NR,
	F_PARK_OP,
	F_PARK_OP_CHECK,
	F_ALLOW,
	F_KILL,
	F_TRAP,
	STUB_FILTER_LEN
};

struct stub_image {
	uint8_t code[STUB_CODE_SIZE]; /* copied from stub_code by the child */
	struct sock_fprog prog;       /* points at filter, at its address inside the stub */
	struct sock_filter filter[STUB_FILTER_LEN];
};
_Static_assert(sizeof(struct stub_image) <= PAGE_SIZE, "stub image fits one page");
_Static_assert(((STUB_TRAP_ADDR ^ STUB_CLONE_RET) >> 32) == 0 &&
		       ((STUB_TRAP_ADDR ^ STUB_PARK_RET) >> 32) == 0,
	       "the filter compares the high half of the instruction pointer once");

#define SECCOMP_DATA_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SECCOMP_DATA_IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define SECCOMP_DATA_ARG_LO(i) offsetof(struct seccomp_data, args[i])
#define SECCOMP_DATA_ARG_HI(i) (offsetof(struct seccomp_data, args[i]) + 4)
/* BPF jump offsets count from the next instruction. */
#define TO(from, to) ((to) - (from)-1)
#define LD(at, off) [at] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(at, k, yes, no) [at] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), TO(at, yes), TO(at, no))
#define RET(at, v) [at] = BPF_STMT(BPF_RET | BPF_K, (v))

static const struct stub_image stub_image = {
	.prog = {.len = STUB_FILTER_LEN,
		 .filter = (struct sock_filter *)(PLAT_STUB_BASE +
						  offsetof(struct stub_image, filter))},
	.filter = {
		LD(F_ARCH, offsetof(struct seccomp_data, arch)),
		JEQ(F_ARCH_CHECK, AUDIT_ARCH_X86_64, F_IP_HI, F_KILL),
		LD(F_IP_HI, SECCOMP_DATA_IP_HI),
		JEQ(F_IP_HI_CHECK, (uint32_t)(STUB_TRAP_ADDR >> 32), F_IP_LO, F_TRAP),
		LD(F_IP_LO, SECCOMP_DATA_IP_LO),
		JEQ(F_IS_INJECT, (uint32_t)STUB_TRAP_ADDR, F_INJECT, F_IS_CLONE),
		JEQ(F_IS_CLONE, (uint32_t)STUB_CLONE_RET, F_CLONE, F_IS_PARK),
		JEQ(F_IS_PARK, (uint32_t)STUB_PARK_RET, F_PARK, F_TRAP),
		LD(F_INJECT, offsetof(struct seccomp_data, nr)),
		JEQ(F_INJECT_MMAP, __NR_mmap, F_ALLOW, F_INJECT_MUNMAP),
		JEQ(F_INJECT_MUNMAP, __NR_munmap, F_ALLOW, F_INJECT_MPROTECT),
		JEQ(F_INJECT_MPROTECT, __NR_mprotect, F_ALLOW, F_INJECT_EXIT),
		JEQ(F_INJECT_EXIT, __NR_exit, F_ALLOW, F_INJECT_OTHER),
		RET(F_INJECT_OTHER, SECCOMP_RET_KILL_PROCESS),
		LD(F_CLONE, offsetof(struct seccomp_data, nr)),
		JEQ(F_CLONE_NR, __NR_clone, F_CLONE_FLAGS_LO, F_KILL),
		LD(F_CLONE_FLAGS_LO, SECCOMP_DATA_ARG_LO(0)),
		JEQ(F_CLONE_FLAGS_LO_CHECK, STUB_CLONE_FLAGS, F_CLONE_FLAGS_HI, F_KILL),
		LD(F_CLONE_FLAGS_HI, SECCOMP_DATA_ARG_HI(0)),
		JEQ(F_CLONE_FLAGS_HI_CHECK, 0, F_ALLOW, F_KILL),
		LD(F_PARK, offsetof(struct seccomp_data, nr)),
		JEQ(F_PARK_NR, __NR_futex, F_PARK_OP, F_KILL),
		LD(F_PARK_OP, SECCOMP_DATA_ARG_LO(1)),
		JEQ(F_PARK_OP_CHECK, FUTEX_WAIT_PRIVATE, F_ALLOW, F_KILL),
		RET(F_ALLOW, SECCOMP_RET_ALLOW),
		RET(F_KILL, SECCOMP_RET_KILL_PROCESS),
		RET(F_TRAP, SECCOMP_RET_TRAP),
	},
};

pid_t plat_ptrace_as_pid(const struct plat_as *as)
{
	return as->leader.reaped ? -1 : as->leader.pid;
}

/* The forked child, before it is traced. The Sentry may be multi-threaded and the child is a
 * copy of one of its threads, so between the fork and the stop it makes raw system calls and
 * copies memory, nothing else (no locks, no malloc, no stdio). It exits with the errno of a
 * failed step. It ends stopped by its own SIGSTOP, traced by the thread that forked it; that
 * thread then takes over its registers and it never runs this code again. */
static noreturn void stub_child(int memfd, pid_t ppid)
{
	long page;
	int err;

	/* Dies with the Sentry thread that made us until PTRACE_O_EXITKILL takes over (set-up then
	 * clears PDEATHSIG: the leader outlives its creator thread when other threads go on). Every
	 * signal stays blocked in every stub thread: a signal sent to the process must not kill it
	 * through an untraced (parked) thread. Faults, the int3 of an injection and the filter's
	 * SIGSYS are forced through a blocked mask; SIGSTOP (how ctx_interrupt stops a thread) and
	 * SIGKILL cannot be blocked. */
	if ((err = stub_child_prelude(ppid, &memfd, 1)) != 0)
		stub_child_exit(err);
	_Static_assert(STUB_FD_MEMFILE == 0, "the prelude puts the memory file at fd 0");
	/* The stub page replaces the Sentry's PROT_NONE reservation, in this copy only. */
	page = syscall(SYS_mmap, PLAT_STUB_BASE, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (page == -1)
		stub_child_exit(errno);
	memcpy((void *)page, &stub_image, sizeof(stub_image));
	memcpy((void *)page, stub_code, sizeof(stub_code));
	if (syscall(SYS_mprotect, PLAT_STUB_BASE, PAGE_SIZE, PROT_READ | PROT_EXEC) < 0)
		stub_child_exit(errno);
	/* Needed to install the stub's filter without privileges (a confined Sentry has it set). */
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		stub_child_exit(errno);
	if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) < 0)
		stub_child_exit(errno);
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	stub_child_exit(EIO); /* resumed here: the tracer did not take over */
}

int stub_wait(struct stub_thread *th, int *status)
{
	for (;;) {
		pid_t r = waitpid(th->tid, status, __WALL);

		if (r == th->tid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		/* ECHILD: not traced by this process (any more), or reaped by another Sentry
		 * thread (as_release racing a dying thread's tracer). Either way it is gone for
		 * us; a waitpid(-1) elsewhere in the Sentry would also end here. */
		log_debug("ptrace stub %d thread %d: waitpid: %s", th->pid, th->tid,
			  strerror(errno));
		th->dead = th->reaped = true;
		*status = 0;
		return -ESRCH;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		th->dead = th->reaped = true;
		return -ESRCH;
	}
	if (*status >> 16 == PTRACE_EVENT_EXIT) {
		/* The leader is dying (the group was killed): let it go on to its zombie state,
		 * which is reaped once every other thread is. */
		th->dead = true;
		ptrace(PTRACE_CONT, th->tid, NULL, NULL);
		return -ESRCH;
	}
	return 0;
}

void stub_reap(struct stub_thread *th, bool reap)
{
	int status;

	while (!(reap ? th->reaped : th->dead)) {
		if (th->dead && !th->reaped) {
			/* The leader after its exit stop: its exit status comes when the group is
			 * empty. */
			pid_t r = waitpid(th->tid, &status, __WALL);

			if (r == th->tid ? WIFEXITED(status) || WIFSIGNALED(status)
					 : errno != EINTR)
				th->reaped = true;
			continue;
		}
		stub_wait(th, &status); /* stops that were pending before the kill */
	}
}

int stub_lost(struct stub_thread *th, int err)
{
	if (err != ESRCH)
		log_error("ptrace stub %d thread %d: %s", th->pid, th->tid, strerror(err));
	/* th is not reaped yet, so the thread group and its id still exist. */
	if (!th->dead)
		kill(th->pid, SIGKILL);
	stub_reap(th, false);
	return err == ESRCH ? -ESRCH : -err;
}

int stub_stop_is_async(struct stub_thread *th, siginfo_t *si)
{
	if (ptrace(PTRACE_GETSIGINFO, th->tid, NULL, si) < 0)
		return errno == EINVAL ? 1 : -errno; /* EINVAL: a group stop */
	return si->si_code <= 0; /* SI_USER, SI_TKILL, SI_QUEUE...: sent, not raised */
}

int stub_syscall_at(struct stub_thread *th, uint64_t entry, uint64_t trap, long *res, long nr,
		    const uint64_t a[6])
{
	struct linux_regs r = {
		.rip = entry,
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

	if (th->dead)
		return -ESRCH;
	/* Run from the syscall instruction to its int3; a pending signal stop on the way is
	 * swallowed (ctx_interrupt records its interrupt in the context as well). */
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &r) < 0)
		return stub_lost(th, errno);
	for (;;) {
		if (ptrace(PTRACE_CONT, th->tid, NULL, NULL) < 0)
			return stub_lost(th, errno);
		if ((k = stub_wait(th, &status)) < 0)
			return k;
		if (status >> 16)
			continue; /* an event stop (a group stop of a seized thread) */
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, th->tid, NULL, &r) < 0)
				return stub_lost(th, errno);
			if (r.rip == trap + 1) {
				*res = refused ? -EPERM : (long)r.rax;
				return 0;
			}
		}
		if ((k = stub_stop_is_async(th, &si)) < 0)
			return stub_lost(th, -k);
		if (k)
			continue;
		if (sig == SIGSYS && si.si_code == SYS_SECCOMP) {
			/* The Sentry's own filter (debug mode) trapped it; the stub's filter allows
			 * everything we inject. */
			log_error("ptrace stub %d: the Sentry's seccomp filter refuses syscall %ld "
				  "injected into stubs", th->pid, nr);
			refused = true;
			continue;
		}
		log_error("ptrace stub %d thread %d: signal %d (code %d) during injected syscall "
			  "%ld", th->pid, th->tid, sig, si.si_code, nr);
		return stub_lost(th, EIO);
	}
}

int stub_syscall(struct stub_thread *th, long *res, long nr, const uint64_t a[6])
{
	return stub_syscall_at(th, STUB_SYSCALL_ADDR, STUB_TRAP_ADDR, res, nr, a);
}

/* One injected syscall during set-up; logs a failure. Returns 0 or -errno. */
static int stub_setup_call(struct stub_thread *th, const char *what, long nr, uint64_t a0,
			   uint64_t a1, uint64_t a2)
{
	const uint64_t a[6] = {a0, a1, a2, 0, 0, 0};
	long res;
	int r = stub_syscall(th, &res, nr, a);

	if (r < 0)
		return r;
	if (res < 0 && res >= -4095) {
		log_error("ptrace stub %d: %s: %s", th->pid, what, strerror((int)-res));
		return (int)res;
	}
	return 0;
}

int stub_create(struct plat_as *as, int memfd)
{
	const uint64_t stub_end = PLAT_STUB_BASE + PAGE_SIZE;
	struct stub_thread *th = &as->leader;
	pid_t ppid = getpid();
	int status, r;
	long pid;

	th->tracer = stub_gettid();
	th->dead = th->reaped = false;
	/* The child goes straight to stub_child. Its parent, hence its tracer, is this thread. */
	pid = stub_fork();
	if (pid < 0)
		return (int)pid;
	if (pid == 0)
		stub_child(memfd, ppid);
	th->pid = th->tid = (pid_t)pid;

	r = stub_wait(th, &status);
	if (r < 0) {
		r = WIFEXITED(status) && WEXITSTATUS(status) ? -WEXITSTATUS(status) : -ECHILD;
		log_error("ptrace stub: set-up in the child failed: %s", strerror(-r));
		return r;
	}
	if (WSTOPSIG(status) != SIGSTOP) {
		log_error("ptrace stub %d: unexpected first stop %#x", th->pid, status);
		stub_lost(th, EIO);
		return -EIO;
	}
	/* The stub dies with this thread while it traces it; syscall stops say SIGTRAP|0x80; the
	 * leader's death is reported at once (see ptrace.h). */
	if (ptrace(PTRACE_SETOPTIONS, th->tid, NULL,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD |
				  PTRACE_O_TRACEEXIT)) < 0)
		return stub_lost(th, errno);

	/* A clean FPU state: the fork copied this Sentry thread's registers. Every stub thread
	 * is cloned from the leader or from another stub thread, and inherits it. */
	r = fpstate_reset(th);
	/* From the stub's own code: PDEATHSIG off (EXITKILL holds now), its filter, then
	 * everything but the stub page goes. */
	if (r == 0)
		r = stub_setup_call(th, "prctl", __NR_prctl, PR_SET_PDEATHSIG, 0, 0);
	if (r == 0)
		r = stub_setup_call(th, "seccomp", __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
				    PLAT_STUB_BASE + offsetof(struct stub_image, prog));
	if (r == 0)
		r = stub_setup_call(th, "munmap below the stub", __NR_munmap, 0, PLAT_STUB_BASE, 0);
	if (r == 0)
		r = stub_setup_call(th, "munmap above the stub", __NR_munmap, stub_end,
				    STUB_USER_TOP - stub_end, 0);
	if (r == 0) {
		/* Only exists with 5-level paging: the result (EINVAL otherwise) does not
		 * matter. */
		const uint64_t a[6] = {STUB_USER_TOP, STUB_USER_TOP_LA57 - STUB_USER_TOP};
		long res;

		r = stub_syscall(th, &res, __NR_munmap, a);
	}
	if (r < 0) {
		stub_lost(th, r == -ESRCH ? ESRCH : -r);
		return r;
	}
	log_debug("ptrace stub %d created, traced by thread %d", th->pid, th->tracer);
	return 0;
}
