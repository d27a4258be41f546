/* Signals: sending, delivery (default actions, handler frames), and the syscall-restart rules.
 * All functions take g_kernel.lock themselves unless their name ends in _locked. */
#ifndef SENTRY_KERNEL_SIGNAL_H
#define SENTRY_KERNEL_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/linux.h"

struct task;
struct thread_group;
struct sigpending;
struct sighand;
struct waitq;

#define SIGBIT(sig) (1ULL << ((sig)-1))
#define SIG_UNBLOCKABLE (SIGBIT(LINUX_SIGKILL) | SIGBIT(LINUX_SIGSTOP))

/* The sa_flags bits rt_sigaction keeps (Linux's UAPI_SA_FLAGS on x86-64); others read back 0. */
#define SIGNAL_SA_KNOWN                                                                             \
	(LINUX_SA_NOCLDSTOP | LINUX_SA_NOCLDWAIT | LINUX_SA_SIGINFO | LINUX_SA_ONSTACK |           \
	 LINUX_SA_RESTART | LINUX_SA_NODEFER | LINUX_SA_RESETHAND | LINUX_SA_EXPOSE_TAGBITS |      \
	 LINUX_SA_RESTORER)

/* ---- pending sets (sigqueue.c): pure data structure, the caller serialises (g_kernel.lock) ---- */

/* The default action of a signal with SIG_DFL. */
enum sig_default { SIGDFL_TERM, SIGDFL_CORE, SIGDFL_STOP, SIGDFL_IGNORE };
enum sig_default signal_default_action(int sig);
/* The synchronous (fault) signals, dequeued before any other. */
#define SIG_SYNCHRONOUS                                                                             \
	(SIGBIT(LINUX_SIGSEGV) | SIGBIT(LINUX_SIGBUS) | SIGBIT(LINUX_SIGILL) |                     \
	 SIGBIT(LINUX_SIGTRAP) | SIGBIT(LINUX_SIGFPE) | SIGBIT(LINUX_SIGSYS))

void sigpending_init(struct sigpending *p);
/* Free every queued entry. */
void sigpending_clear(struct sigpending *p);
/* Queue info (si_signo must be 1..64). A standard signal already pending is dropped (returns 0,
 * nothing queued); a real-time one queues again. When more than `limit` entries are queued
 * sandbox-wide and !override, -EAGAIN. -ENOMEM if allocation fails. 0 when queued. */
int sigpending_enqueue(struct sigpending *p, const struct linux_siginfo *info, bool override,
		       uint64_t limit);
/* The signal Linux takes next from the set `pending` (synchronous ones first, then the lowest
 * number), or 0 when it is empty. */
int signal_next(uint64_t pending);
/* Take the next signal among p->set & allowed off p: fills *info, returns the number or 0. */
int sigpending_dequeue(struct sigpending *p, uint64_t allowed, struct linux_siginfo *info);
/* Remove every entry of the signals in mask. */
void sigpending_flush(struct sigpending *p, uint64_t mask);
/* Entries queued sandbox-wide (the RLIMIT_SIGPENDING count). */
uint64_t sigpending_queued(void);

/* The syscall-restart rules (Linux's handle_signal / arch_do_signal_or_restart) for a syscall
 * that returned rax, when a handler with sa_flags runs (handler) or when none runs. */
enum sig_restart {
	SIG_RESTART_NONE,     /* rax is not a restart code: leave it */
	SIG_RESTART_EINTR,    /* rax = -EINTR */
	SIG_RESTART_SYSCALL,  /* rax = orig_rax, rip -= 2: the same call again */
	SIG_RESTART_BLOCK,    /* rax = restart_syscall's number, rip -= 2 */
};
enum sig_restart signal_restart_rule(long rax, bool handler, uint64_t sa_flags);

/* ---- sending (signal.c) ---- */

/* signalfd's hook (sentry/fs/signalfd.c): woken (waitq_wake_key, LINUX_POLLIN) each time a
 * signal is queued on any pending set, whatever the masks, by the sender with g_kernel.lock
 * held. signalfd readers and pollers sleep here and look at their own pending sets; nothing
 * else uses it. */
extern struct waitq signal_queued_wq;

/* Queue info->si_signo for the whole process (any thread not blocking it takes it) / for one
 * thread, waking a thread that can take it. SIGKILL and SIGCONT act at once (SIGKILL ends the
 * group; SIGCONT resumes a stopped group, discarding pending stop signals, and tells the
 * parent), a stop signal discards pending SIGCONT, an ignored signal is dropped, and a signal
 * that will kill the process (SIG_DFL, terminate) ends the group at once, as Linux.
 * 0 or -EAGAIN (real-time queue full, for si_code != SI_USER). */
int signal_send_group_locked(struct thread_group *tg, const struct linux_siginfo *info);
int signal_send_thread_locked(struct task *t, const struct linux_siginfo *info);
int signal_send_group(struct thread_group *tg, const struct linux_siginfo *info);
int signal_send_thread(struct task *t, const struct linux_siginfo *info);
/* info for a signal sent by the kernel (SI_KERNEL) or by task `from` with kill (SI_USER). */
void siginfo_kernel(struct linux_siginfo *info, int signo);
void siginfo_user(struct linux_siginfo *info, int signo, const struct task *from);

/* A synchronous fault in t (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) with si_code and si_addr:
 * if the signal is blocked or ignored it is unblocked and reset to SIG_DFL first, as Linux's
 * force_sig_fault. Also records trapno/err/cr2 for the next signal frame. t's own thread. */
void signal_force_fault(struct task *t, int signo, int si_code, uint64_t addr);
/* A seccomp SIGSYS for t's call nr (si_code SYS_SECCOMP, si_errno data, si_syscall, si_arch):
 * forced as signal_force_fault; kill: the handler is reset first, so the process dies of it
 * (SCMP_ACT_KILL*). t's own thread. */
void signal_force_seccomp(struct task *t, long nr, uint16_t data, bool kill);
/* Linux's force_sig(SIGSEGV) (bad sigreturn frame) and force_sigsegv(sig) (a frame for `sig`
 * could not be written: when sig is SIGSEGV itself its handler is reset first). */
void signal_force_segv_locked(struct task *t, int failed_sig);

/* Does t have a pending signal it does not block, a group stop to join, or is its group
 * exiting? Cheap: one atomic load while nothing has changed since the last look, else it takes
 * the lock. */
bool signal_pending(struct task *t);
bool signal_pending_locked(struct task *t);
/* Make the next signal_pending of t (of every thread of tg) take the lock and look: called,
 * before the kick, wherever signal_pending_locked may turn true. g_kernel.lock held. */
void signal_recheck_locked(struct task *t);
void signal_recheck_tg_locked(struct thread_group *tg);

/* Replace t's blocked set (SIGKILL/SIGSTOP are removed); shared signals t now blocks are handed
 * to another thread. Linux's set_current_blocked. */
void signal_set_blocked_locked(struct task *t, uint64_t mask);
/* t leaves (thread exit): wake another thread for the shared signals t could have taken. */
void signal_retarget_locked(struct task *t);

/* Take the next pending signal of t among `allowed` (thread queue first, then the process's):
 * fills *info, returns the number or 0. */
int signal_dequeue_locked(struct task *t, uint64_t allowed, struct linux_siginfo *info);

/* Called by the run loop on t's thread before it returns to application code:
 *  - after a syscall (after_syscall), applies the restart rules to regs.rax when it holds
 *    -ERESTARTSYS/-ERESTARTNOINTR/-ERESTARTNOHAND/-ERESTART_RESTARTBLOCK;
 *  - takes pending unblocked signals in Linux's order (synchronous first, then lowest number);
 *    runs default actions: ignore, terminate (tg_exit_locked), core (the same: no core is
 *    dumped, so no core flag, as Linux with RLIMIT_CORE 0), stop (group stop: blocks here until
 *    SIGCONT or SIGKILL, notifying the parent), continue; or builds a signal frame on the
 *    application stack (or the alternate stack) and points the registers at the handler, with
 *    the handler's mask applied (several frames nest when several signals are pending).
 *  - restores the saved mask after sigsuspend-like calls when no handler ran.
 * A frame that cannot be written forces SIGSEGV, as Linux. No locks held. */
void signal_deliver(struct task *t, bool after_syscall);

/* rt_sigreturn: restore registers, FP state, mask and alternate stack from the frame at the
 * stack pointer. Returns the restored rax (so the run loop does not clobber it); a bad frame
 * forces SIGSEGV. Sets orig_rax to -1 (no restart processing follows). t's own thread. */
long signal_sigreturn(struct task *t);

/* restart_syscall(2) and the restart block: a call that returns -ERESTART_RESTARTBLOCK first
 * registers how to resume (fn and its data, per thread); when no handler runs the application
 * re-enters through restart_syscall, which calls fn. Without a registered fn (and after any
 * handler ran, or sigreturn), restart_syscall returns -EINTR, as Linux's
 * do_no_restart_syscall. Called on t's own thread. */
typedef long (*signal_restart_fn)(struct task *t, const uint64_t data[4]);
void signal_set_restart(struct task *t, signal_restart_fn fn, const uint64_t data[4]);
long signal_restart_syscall(struct task *t);

/* When a thread group is exec'd (on the exec'ing thread, after de_thread): a sighand shared
 * with another process is unshared, handlers reset to SIG_DFL, ignored stay ignored, flags,
 * masks and restorers cleared; the alternate stack's address and size are cleared but its
 * flags kept (Linux: a process that set SS_AUTODISARM sees it in uc_stack after exec). The
 * blocked mask and pending signals survive. */
void signal_exec_reset(struct task *t);

/* A fresh sighand with every action SIG_DFL, refs 1. NULL on allocation failure. */
struct sighand *sighand_create(void);
/* A copy of sh's actions with refs 1 (fork without CLONE_SIGHAND). NULL on failure. */
struct sighand *sighand_copy(const struct sighand *sh);
/* Drop a reference; frees at 0. Atomic, so it may be called with or without g_kernel.lock. */
void sighand_put(struct sighand *sh);

/* ---- interval timers (itimer.c) ---- */

/* Start the timer thread that sends SIGALRM when an ITIMER_REAL expires. Once, at boot. 0 or
 * -errno. */
int itimer_init(void);
/* tg's ITIMER_REAL (tg->itimer) changed: wake the timer thread to re-plan. A group that is no
 * longer alive has its timer disarmed. g_kernel.lock held. */
void itimer_update_locked(struct thread_group *tg);
/* tg's timer `which` (LINUX_ITIMER_REAL/VIRTUAL/PROF) in nanoseconds: time left (at least 1000
 * while armed, as Linux) and the reload interval; 0/0 when disarmed. g_kernel.lock held. */
void itimer_get_locked(struct thread_group *tg, int which, int64_t *value_ns,
		       int64_t *interval_ns);
/* Arm it to expire in value_ns and then every interval_ns (0 = once), or disarm it (value_ns
 * 0). ITIMER_REAL counts real time (SIGALRM); ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF
 * (SIGPROF) count the time the process's threads spend running application code, measured
 * around the platform's ctx_run (see itimer_user_enter): PROF is not charged for the Sentry's
 * own work on syscalls, an approximation. 0 or -ENOMEM. g_kernel.lock held. */
int itimer_set_locked(struct thread_group *tg, int which, int64_t value_ns, int64_t interval_ns);
/* The run loop brackets each ctx_run with these, on t's own thread, no locks held: the time in
 * between is charged to the CPU timers of t's process (which fire here when they expire). A
 * thread that runs application code for long is interrupted (task_kick) by the timer thread
 * so that expiry is noticed. */
void itimer_user_enter(struct task *t);
void itimer_user_exit(struct task *t);

/* A call that takes a sigset (ppoll, pselect6, epoll_pwait): install the guest's set at umask
 * (size bytes; umask 0 = none) as t's mask until the call returns, keeping the old one in
 * t->saved_sigmask (Linux's set_user_sigmask). 0, -EINVAL or -EFAULT. */
int signal_user_mask_set(struct task *t, uint64_t umask, uint64_t size);
/* Put the old mask back when the call ends, unless it was interrupted: then the temporary mask
 * stays for the signal delivery, which restores the old one after the handler. */
void signal_user_mask_restore_unless(struct task *t, bool interrupted);

#endif
