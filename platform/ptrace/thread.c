/* Stub threads of the ptrace platform: cloning one, seizing it, parking it, ending it. */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/log.h"

int stub_thread_clone(struct stub_thread *from, struct stub_thread *th)
{
	/* No stack (newsp 0 keeps the parent's rsp, which the injection set to 0): the child
	 * goes straight into the park loop, which touches none, with every signal blocked; its
	 * claimer loads all its registers. */
	const uint64_t a[6] = {STUB_CLONE_FLAGS, 0, 0, 0, 0, 0};
	long res;
	int r = stub_syscall_at(from, STUB_CLONE_ADDR, STUB_CLONE_TRAP, &res, __NR_clone, a);

	if (r < 0)
		return r;
	if (res < 0) {
		log_warn("ptrace stub %d: clone of a stub thread: %s", from->pid,
			 strerror((int)-res));
		return (int)res;
	}
	th->pid = from->pid;
	th->tid = (pid_t)res;
	th->tracer = 0;
	th->dead = th->reaped = false;
	return 0;
}

int stub_thread_seize(struct stub_thread *th)
{
	int status, r;

	if (th->dead)
		return -ESRCH;
	/* PTRACE_SEIZE, unlike PTRACE_ATTACH, sends no SIGSTOP: the stop comes from
	 * PTRACE_INTERRUPT, reported as PTRACE_EVENT_STOP. The thread dies with the calling
	 * thread (EXITKILL: the whole stub does, as SIGKILL kills a thread group). */
	if (ptrace(PTRACE_SEIZE, th->tid, NULL,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0) {
		r = errno;
		if (r == ESRCH) {
			/* exited: untraced threads are reaped by the kernel */
			th->dead = th->reaped = true;
			return -ESRCH;
		}
		log_error("ptrace stub %d thread %d: PTRACE_SEIZE: %s", th->pid, th->tid,
			  strerror(r));
		return -r;
	}
	if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
		return stub_lost(th, errno);
	for (;;) {
		if ((r = stub_wait(th, &status)) < 0)
			return r;
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal stop first (a SIGSTOP from outside): suppress it, the interrupt
		 * stop follows. */
		if (ptrace(PTRACE_CONT, th->tid, NULL, NULL) < 0)
			return stub_lost(th, errno);
	}
}

void stub_thread_exit(struct stub_thread *th)
{
	const uint64_t a[6] = {0};
	long res;
	int r;

	if (th->dead)
		return;
	/* exit(2), not exit_group: the other threads go on. The tracer reaps the thread when
	 * stub_wait sees it exit (it is not the group leader, whose report the kernel would
	 * hold back until the group is empty). */
	r = stub_syscall(th, &res, __NR_exit, a);
	if (r == -ESRCH && th->reaped)
		return;
	log_error("ptrace stub %d thread %d: injected exit returned (%d, %ld): killing the stub",
		  th->pid, th->tid, r, r == 0 ? res : 0);
	stub_lost(th, EIO);
}

int stub_thread_park(struct stub_thread *th)
{
	struct linux_regs r = {
		.rip = STUB_PARK_ADDR,
		.orig_rax = (uint64_t)-1,
		.cs = STUB_USER_CS,
		.ss = STUB_USER_SS,
		.eflags = 0x202,
	};

	if (th->dead)
		return -ESRCH;
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &r) < 0)
		return stub_lost(th, errno);
	/* Signal 0: whatever stop it is in (the int3 of an injection) delivers nothing. */
	if (ptrace(PTRACE_DETACH, th->tid, NULL, NULL) < 0)
		return stub_lost(th, errno);
	th->tracer = 0;
	return 0;
}
