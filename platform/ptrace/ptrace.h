/* The ptrace platform's internals: the stub process's fixed layout, its threads, and the helpers
 * shared by ptrace.c (the platform operations), stub.c (making stubs, injecting syscalls),
 * thread.c (stub threads: clone, claim, exit) and fpstate.c.
 *
 * An address space is one stub process. The stub holds nothing but one page of our code at
 * PLAT_STUB_BASE (plus the kernel's vsyscall page) and the mappings the Sentry asks for; its only
 * fd is the memory file, at STUB_FD_MEMFILE. Every signal is blocked in it (faults are forced
 * through anyway). Its threads:
 *  - the leader (the forked process itself): traced by the thread that called as_create (the
 *    creator), which injects through it. The creator's first ctx_create hands the leader to that
 *    context (fork, exec: the creator runs the task). When that context is released while other
 *    threads go on, the leader is parked (blocked in a futex wait in the stub page) and
 *    detached: a group leader cannot exit alone without the kernel holding its report back
 *    until every other thread is reaped. It is traced with PTRACE_O_TRACEEXIT, so that its
 *    death (SIGKILL of the group) is reported at once even then;
 *  - one stub thread per further context, made by a clone injected into a thread the caller
 *    traces; it waits parked, untraced, until the Sentry thread that runs it first seizes it
 *    (the claim).
 */
#ifndef PLATFORM_PTRACE_PTRACE_H
#define PLATFORM_PTRACE_PTRACE_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/list.h"
#include "platform/fpstate.h"
#include "platform/pairing.h"
#include "platform/platform.h"
#include "platform/stub_common.h"

/* The stub region (platform/stub_common.h) holds one page of ptrace's stub, at PLAT_STUB_BASE. */

/* The stub page's code (stub.c pins every entry point with .org):
 *  - STUB_SYSCALL_ADDR: `syscall; int3`. An injected syscall runs from there and stops with
 *    SIGTRAP at STUB_TRAP_ADDR + 1.
 *  - STUB_CLONE_ADDR: `syscall` for the injected clone of a new stub thread; the parent goes on
 *    to the int3 at STUB_CLONE_TRAP, the child to STUB_PARK_ADDR.
 *  - STUB_PARK_ADDR: a loop around futex(stub_zero, FUTEX_WAIT_PRIVATE, 0, NULL): where untraced
 *    stub threads wait. It uses no stack and no register on entry.
 * The *_RET addresses are those after each syscall instruction, which the stub's seccomp filter
 * checks. */
#define STUB_SYSCALL_ADDR PLAT_STUB_BASE
#define STUB_TRAP_ADDR (PLAT_STUB_BASE + 2)
#define STUB_CLONE_ADDR (PLAT_STUB_BASE + 16)
#define STUB_CLONE_RET (STUB_CLONE_ADDR + 2)
#define STUB_CLONE_TRAP (PLAT_STUB_BASE + 64)
#define STUB_PARK_ADDR (PLAT_STUB_BASE + 32)
#define STUB_PARK_SYSCALL (PLAT_STUB_BASE + 56)
#define STUB_PARK_RET (STUB_PARK_SYSCALL + 2)

/* Flags of the injected clone that makes a stub thread (what CLONE_THREAD requires, and sharing
 * everything else there is to share). No stack: a parked thread touches none. */
#define STUB_CLONE_FLAGS                                                                           \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

/* The memory file's fd number in every stub. */
#define STUB_FD_MEMFILE 0

/* One thread of a stub process. Its fields are written by the thread that traces it (or, for an
 * untraced one, under g_ptrace_lock). */
struct stub_thread {
	pid_t pid;    /* the stub process (thread group id) */
	pid_t tid;    /* this thread */
	pid_t tracer; /* host tid of the Sentry thread tracing it; 0 while untraced */
	bool dead;    /* gone (exiting or exited): no ptrace request, no signal any more */
	bool reaped;  /* its exit has been collected: tid means nothing any more */
	struct pairing pair; /* with its tracer (platform/pairing.h); the tracer's alone */
};

struct plat_as {
	struct stub_thread leader;   /* pid == leader.tid == leader.pid */
	struct plat_ctx *leader_ctx; /* the context running on the leader, if any */
	bool parked;                 /* the leader is parked and untraced (see above) */
	struct list_head ctxs;       /* struct plat_ctx.link, under g_ptrace_lock */
	struct plat_ctx *hint;       /* the context last used to inject, under g_ptrace_lock */
};

struct plat_ctx {
	struct stub_thread *th; /* &own, or &as->leader for the creator's first context */
	struct stub_thread own;
	struct plat_as *as;    /* NULL once the address space was released; g_ptrace_lock */
	struct list_head link; /* in as->ctxs; g_ptrace_lock */
	bool claiming;         /* a thread is seizing it; g_ptrace_lock */
	bool released;         /* ctx_release was called by a thread that could not end the
				* stub thread: as_release reaps it and frees the context */

	pthread_mutex_t lock;  /* protects the two below (ctx_interrupt vs ctx_run) */
	bool running;          /* inside ctx_run: th is running application code */
	bool interrupted;      /* ctx_interrupt called and not reported yet */
};

/* Protects the links between address spaces and contexts (as->ctxs, ctx->as, ctx->th), claims
 * and the leader's state. Never held across a ptrace stop wait except in as_release, whose
 * waits end promptly (SIGKILL). */
extern pthread_mutex_t g_ptrace_lock;

/* ---- stub.c ---- */

/* Fork a stub process for the memory file memfd and make it the empty address space described
 * above; its leader is traced by the calling thread (the creator). Fills as->leader. Returns 0
 * or -errno (no child is left). */
int stub_create(struct plat_as *as, int memfd);

/* Run syscall nr(a[0..5]) in the stopped thread th, from its tracer. Clobbers th's general
 * registers (ctx_run loads all of them again). Returns the syscall's result (-errno for its
 * failure) in *res; the function returns 0, or -errno when the thread could not be driven
 * (-ESRCH: it died; an injected exit ends that way). */
int stub_syscall(struct stub_thread *th, long *res, long nr, const uint64_t a[6]);

/* The same from a given syscall instruction (STUB_SYSCALL_ADDR or STUB_CLONE_ADDR), stopping at
 * the int3 at trap (STUB_TRAP_ADDR or STUB_CLONE_TRAP). */
int stub_syscall_at(struct stub_thread *th, uint64_t entry, uint64_t trap, long *res, long nr,
		    const uint64_t a[6]);

/* Wait for the next stop or death of th, retrying on EINTR. On death (its exit, or the
 * PTRACE_EVENT_EXIT stop of a leader, which is then let go on dying) th->dead is set and -ESRCH
 * returned; an exit is also reaped (th->reaped). Returns 0 with the wait status in *status
 * otherwise. */
int stub_wait(struct stub_thread *th, int *status);

/* Was the signal stop just reported asynchronous (sent by some process, or a group stop) rather
 * than raised by the thread's own execution? Returns 1 or 0 with the siginfo in *si (not filled
 * for a group stop), or -errno. Event stops (status >> 16) must be filtered out before. */
int stub_stop_is_async(struct stub_thread *th, siginfo_t *si);

/* A ptrace request on th failed with err: the stub is unusable (usually it was killed and is
 * exiting). Kills the stub process and waits until th is dead. Returns -ESRCH for a vanished
 * stub, -err otherwise. */
int stub_lost(struct stub_thread *th, int err);

/* Wait until th, which was sent SIGKILL, is dead (th->dead); with reap, until it is reaped
 * (th->reaped), which for a leader needs every other thread reaped first. Any Sentry thread
 * (a thread may reap a tracee of another thread of its process). */
void stub_reap(struct stub_thread *th, bool reap);

/* For tests and debugging: the host pid of the stub behind as. */
pid_t plat_ptrace_as_pid(const struct plat_as *as);
/* For tests and debugging: the host tid of ctx's stub thread, or -1 when it is gone. */
pid_t plat_ptrace_ctx_tid(const struct plat_ctx *ctx);

/* ---- thread.c ---- */

/* Make a new stub thread in the process of `from` (a thread the caller traces) and record it in
 * th, untraced and parked. Returns 0 or -errno. */
int stub_thread_clone(struct stub_thread *from, struct stub_thread *th);

/* Make the calling thread the tracer of the untraced, parked th (PTRACE_SEIZE, then
 * PTRACE_INTERRUPT), leaving it stopped. Returns 0 or -errno (-ESRCH: it is gone). */
int stub_thread_seize(struct stub_thread *th);

/* End th, which the caller traces, which is stopped and which is not the leader: it exits alone
 * (the rest of the process goes on) and is reaped. */
void stub_thread_exit(struct stub_thread *th);

/* Park th, which the caller traces and which is stopped, and detach from it. Returns 0 or
 * -errno. */
int stub_thread_park(struct stub_thread *th);

/* ---- fpstate.c ---- */

/* th's FPU/SSE/AVX state to/from buf (fpstate_user_size() bytes, platform/fpstate.h), th
 * stopped and traced by the caller. Return 0 or -errno. */
int fpstate_get(struct stub_thread *th, void *buf, size_t size);
int fpstate_set(struct stub_thread *th, const void *buf, size_t size);
/* Give th the initial FPU state of a new process (Linux's after execve). 0 or -errno. */
int fpstate_reset(struct stub_thread *th);

#endif
