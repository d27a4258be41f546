/* Sending signals: Linux's prepare_signal / __send_signal_locked / complete_signal, forced fault
 * signals, masks, the pending check, sighand objects and the exec reset. */
#include "sentry/kernel/signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"
#include "common/log.h"
#include "sentry/kernel/sigframe.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

__thread bool tls_in_group_stop;

/* signalfd's hook (signal.h): woken whenever a signal is queued. */
struct waitq signal_queued_wq = WAITQ_INIT(signal_queued_wq);

#define SIG_STOP_MASK                                                                               \
	(SIGBIT(LINUX_SIGSTOP) | SIGBIT(LINUX_SIGTSTP) | SIGBIT(LINUX_SIGTTIN) |                   \
	 SIGBIT(LINUX_SIGTTOU))

/* ---- rt_sigtimedwait's real_blocked ---- */

static struct list_head g_sigwaiters = LIST_HEAD_INIT(g_sigwaiters);

void sigwaiter_add_locked(struct sigwaiter *w)
{
	list_add_tail(&w->link, &g_sigwaiters);
}

void sigwaiter_del_locked(struct sigwaiter *w)
{
	list_del(&w->link);
}

static uint64_t real_blocked_locked(const struct task *t)
{
	struct list_head *pos;

	list_for_each(pos, &g_sigwaiters) {
		struct sigwaiter *w = list_entry(pos, struct sigwaiter, link);
		if (w->task == t)
			return w->real_blocked;
	}
	return 0;
}

/* ---- siginfo ---- */

void siginfo_kernel(struct linux_siginfo *info, int signo)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = signo;
	info->si_code = LINUX_SI_KERNEL;
}

void siginfo_user(struct linux_siginfo *info, int signo, const struct task *from)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = signo;
	info->si_code = LINUX_SI_USER;
	info->kill.pid = from->tgid;
	info->kill.uid = from->cred.ruid;
}

/* ---- sending ---- */

/* The thread whose mask decides whether a process-directed signal is ignored (Linux uses the
 * task the pid named: the leader): the first thread still running, or NULL. */
static struct task *tg_main_thread(struct thread_group *tg)
{
	struct list_head *pos;

	list_for_each(pos, &tg->threads) {
		struct task *t = list_entry(pos, struct task, tg_link);
		if (!t->exiting)
			return t;
	}
	return NULL;
}

/* Linux's sig_ignored: blocked signals are never ignored (their handler may change before they
 * are unblocked); otherwise SIG_IGN, or SIG_DFL with an "ignore" default. */
static bool sig_ignored_locked(struct thread_group *tg, struct task *t, int sig)
{
	const struct linux_sigaction *ka = sig_action(tg, sig);

	if (t && ((t->sigmask | real_blocked_locked(t)) & SIGBIT(sig)))
		return false;
	return ka->handler == LINUX_SIG_IGN ||
	       (ka->handler == LINUX_SIG_DFL && signal_default_action(sig) == SIGDFL_IGNORE);
}

/* Remove the signals in mask from every pending set of tg. */
static void flush_group_locked(struct thread_group *tg, uint64_t mask)
{
	struct list_head *pos;

	sigpending_flush(&tg->shared_pending, mask);
	list_for_each(pos, &tg->threads)
		sigpending_flush(&list_entry(pos, struct task, tg_link)->pending, mask);
}

void signal_notify_parent_stop_locked(struct thread_group *tg, int why, int status)
{
	struct thread_group *parent = tg->parent;
	struct task *main = tg_main_thread(tg);
	struct linux_siginfo info;

	if (!parent)
		return; /* init: its parent is outside the sandbox */
	memset(&info, 0, sizeof(info));
	info.si_signo = LINUX_SIGCHLD;
	info.si_code = why;
	info.chld.pid = tg->tgid;
	info.chld.uid = main ? main->cred.ruid : 0;
	info.chld.status = status;
	const struct linux_sigaction *ka = sig_action(parent, LINUX_SIGCHLD);
	if (ka->handler != LINUX_SIG_IGN && !(ka->flags & LINUX_SA_NOCLDSTOP))
		signal_send_group_locked(parent, &info);
	/* even without SIGCHLD, wait4(WUNTRACED/WCONTINUED) sleepers must look again */
	parent->child_events++;
	waitq_wake(&parent->child_exit);
}

/* Linux's prepare_signal: the side effects of sending sig that happen at once, whatever the
 * mask. false when the signal is to be dropped (dying group, or ignored). */
static bool prepare_signal_locked(struct thread_group *tg, struct task *t, int sig)
{
	if (tg->group_exiting || tg->state != TG_ALIVE)
		return false;
	if (SIGBIT(sig) & SIG_STOP_MASK) {
		flush_group_locked(tg, SIGBIT(LINUX_SIGCONT));
	} else if (sig == LINUX_SIGCONT) {
		flush_group_locked(tg, SIG_STOP_MASK);
		if (tg->stopped) {
			tg->stopped = false;
			tg->stop_unreported = false;
			tg->cont_unreported = true;
			waitq_wake(&tg->stop_wait);
			signal_notify_parent_stop_locked(tg, LINUX_CLD_CONTINUED, LINUX_SIGCONT);
		}
	}
	return !sig_ignored_locked(tg, t, sig);
}

/* Linux's wants_signal: can t take sig now? */
static bool wants_signal(const struct task *t, int sig)
{
	if (t->sigmask & SIGBIT(sig))
		return false;
	if (t->exiting)
		return false;
	return sig == LINUX_SIGKILL || !t->tg->stopped;
}

/* A signal whose delivery will end the process: SIG_DFL and a terminating default (core
 * dumping ones take the slow path, as Linux). */
static bool sig_fatal_fast(struct thread_group *tg, int sig)
{
	return sig == LINUX_SIGKILL || (sig_action(tg, sig)->handler == LINUX_SIG_DFL &&
					signal_default_action(sig) == SIGDFL_TERM);
}

/* Linux's complete_signal: find a thread to take sig (target only, for a thread-directed one;
 * else the main thread first, then the others) and wake it; a fatal signal ends the group at
 * once. */
static void complete_signal_locked(struct thread_group *tg, struct task *target, int sig)
{
	struct task *t = NULL;
	struct list_head *pos;

	if (target) {
		if (!wants_signal(target, sig))
			return;
		t = target;
	} else {
		list_for_each(pos, &tg->threads) {
			struct task *u = list_entry(pos, struct task, tg_link);
			if (wants_signal(u, sig)) {
				t = u;
				break;
			}
		}
		if (!t)
			return; /* every thread blocks it: it waits in the queue */
	}
	if (sig_fatal_fast(tg, sig) && !(real_blocked_locked(t) & SIGBIT(sig))) {
		tg_exit_locked(tg, LINUX_W_EXITCODE(0, sig)); /* kicks every thread */
		return;
	}
	task_kick(t);
}

/* __send_signal_locked: target NULL = process-directed. */
static int send_locked(struct thread_group *tg, struct task *target,
		       const struct linux_siginfo *info)
{
	int sig = info->si_signo;
	struct sigpending *p = target ? &target->pending : &tg->shared_pending;

	if (sig < 1 || sig > LINUX_NSIG)
		return -EINVAL;
	if (!prepare_signal_locked(tg, target ? target : tg_main_thread(tg), sig))
		return 0;
	if (sig != LINUX_SIGKILL) {
		/* Standard signals sent by kill() or the kernel may always queue (Linux's
		 * override_rlimit); real-time ones count against RLIMIT_SIGPENDING. */
		bool override = sig < LINUX_SIGRTMIN && info->si_code >= 0;
		uint64_t limit = tg->rlimits[LINUX_RLIMIT_SIGPENDING].rlim_cur;
		int r = sigpending_enqueue(p, info, override, limit);
		if (r == -EAGAIN) {
			if (sig >= LINUX_SIGRTMIN && info->si_code != LINUX_SI_USER)
				return -EAGAIN; /* sigqueue and friends see the overflow */
			/* kill() still delivers the signal (Linux loses only its info) */
			r = sigpending_enqueue(p, info, true, 0);
		}
		if (r < 0) {
			log_warn("signal %d dropped: %s", sig, strerror(-r));
			return 0;
		}
		waitq_wake_key(&signal_queued_wq, LINUX_POLLIN | LINUX_POLLRDNORM);
	}
	if (target)
		signal_recheck_locked(target);
	else
		signal_recheck_tg_locked(tg);
	complete_signal_locked(tg, target, sig);
	return 0;
}

int signal_send_group_locked(struct thread_group *tg, const struct linux_siginfo *info)
{
	return send_locked(tg, NULL, info);
}

int signal_send_thread_locked(struct task *t, const struct linux_siginfo *info)
{
	return send_locked(t->tg, t, info);
}

int signal_send_group(struct thread_group *tg, const struct linux_siginfo *info)
{
	kernel_lock();
	int r = signal_send_group_locked(tg, info);
	kernel_unlock();
	return r;
}

int signal_send_thread(struct task *t, const struct linux_siginfo *info)
{
	kernel_lock();
	int r = signal_send_thread_locked(t, info);
	kernel_unlock();
	return r;
}

/* Linux's force_sig_info_to_task with HANDLER_CURRENT, or HANDLER_SIG_DFL when reset. */
static void force_sig_locked(struct task *t, const struct linux_siginfo *info, bool reset)
{
	int sig = info->si_signo;
	struct linux_sigaction *ka = sig_action(t->tg, sig);
	bool blocked = t->sigmask & SIGBIT(sig);

	if (blocked || ka->handler == LINUX_SIG_IGN || reset) {
		ka->handler = LINUX_SIG_DFL;
		if (blocked)
			t->sigmask &= ~SIGBIT(sig);
	}
	send_locked(t->tg, t, info);
}

void signal_force_fault(struct task *t, int signo, int si_code, uint64_t addr)
{
	struct linux_siginfo info;

	if (signo < 1 || signo > LINUX_NSIG)
		signo = LINUX_SIGSEGV;
	memset(&info, 0, sizeof(info));
	info.si_signo = signo;
	info.si_code = si_code;
	info.fault.addr = addr;
	sigframe_note_fault(signo, si_code, addr);
	kernel_lock();
	force_sig_locked(t, &info, false);
	kernel_unlock();
}

void signal_force_seccomp(struct task *t, long nr, uint16_t data, bool kill)
{
	struct linux_siginfo info;

	memset(&info, 0, sizeof(info));
	info.si_signo = LINUX_SIGSYS;
	info.si_code = 1; /* SYS_SECCOMP */
	info.si_errno = data;
	info.sys.call_addr = t->regs.regs.rip;
	info.sys.syscall = (int32_t)nr;
	info.sys.arch = 0xc000003eu; /* AUDIT_ARCH_X86_64 */
	kernel_lock();
	force_sig_locked(t, &info, kill);
	kernel_unlock();
}

void signal_force_segv_locked(struct task *t, int failed_sig)
{
	struct linux_siginfo info;

	siginfo_kernel(&info, LINUX_SIGSEGV);
	force_sig_locked(t, &info, failed_sig == LINUX_SIGSEGV);
}

/* ---- pending, masks, dequeue ---- */

bool signal_pending_locked(struct task *t)
{
	struct thread_group *tg = t->tg;

	/* a group exit, or this thread's own end from outside (exec's de_thread) */
	if (tg->group_exiting || t->exiting)
		return true;
	if (tls_in_group_stop && t == current_task)
		return false; /* asleep in the stop itself: only an exit wakes it */
	if (tg->stopped)
		return true; /* join the group stop */
	return ((t->pending.set | tg->shared_pending.set) & ~t->sigmask) != 0;
}

/*
 * The lock-free look. Every change that can turn signal_pending_locked(t) true (a signal queued
 * for t or its group, t's mask unblocking one, a group stop or exit) is made under the lock and
 * sets t->sig_recheck (seq_cst) before t is kicked; the flag is cleared only here, under the
 * lock, after signal_pending_locked said false. So a clear flag means nothing was pending at
 * the last look and nothing has changed since. No wake-up is lost:
 *  - the run loop stores in_user (seq_cst) and then loads the flag (seq_cst); task_kick, after
 *    the sender stored the flag, loads in_user (seq_cst). In the single order of those four,
 *    either the loop sees the flag (and takes the lock, which the sender holds until the
 *    signal is queued) or the kick sees in_user and interrupts the platform;
 *  - task_wait reads wake_seq under wlock before it looks: if the kick's bump came first, the
 *    flag store before it is visible (wlock orders them); if not, it waits for the bump;
 *  - a host wait (ppoll) gets the kick signal, which stays queued until ppoll unblocks it.
 * The flag is kept set while the thread sleeps in its group stop (where signal_pending_locked
 * hides what is pending); leaving the stop sets it again.
 */
bool signal_pending(struct task *t)
{
	if (!atomic_load(&t->sig_recheck))
		return false;
	kernel_lock();
	bool r = signal_pending_locked(t);
	if (!r && !(tls_in_group_stop && t == current_task))
		atomic_store_explicit(&t->sig_recheck, false, memory_order_relaxed);
	kernel_unlock();
	return r;
}

void signal_recheck_locked(struct task *t)
{
	atomic_store(&t->sig_recheck, true);
}

void signal_recheck_tg_locked(struct thread_group *tg)
{
	struct list_head *pos;

	list_for_each(pos, &tg->threads)
		signal_recheck_locked(list_entry(pos, struct task, tg_link));
}

/* Wake other threads of t's group for the shared signals in `which` that t will not take. */
static void retarget_shared_locked(struct task *t, uint64_t which)
{
	struct list_head *pos;

	which &= t->tg->shared_pending.set;
	list_for_each(pos, &t->tg->threads) {
		struct task *u = list_entry(pos, struct task, tg_link);
		uint64_t can;

		if (!which)
			return;
		if (u == t || u->exiting)
			continue;
		can = which & ~u->sigmask;
		if (!can)
			continue;
		which &= ~can;
		task_kick(u);
	}
}

void signal_set_blocked_locked(struct task *t, uint64_t mask)
{
	uint64_t newly;

	mask &= ~SIG_UNBLOCKABLE;
	newly = mask & ~t->sigmask;
	if (t->sigmask & ~mask)
		signal_recheck_locked(t); /* unblocks some */
	t->sigmask = mask;
	if (newly)
		retarget_shared_locked(t, newly);
}

void signal_retarget_locked(struct task *t)
{
	retarget_shared_locked(t, ~t->sigmask);
}

int signal_dequeue_locked(struct task *t, uint64_t allowed, struct linux_siginfo *info)
{
	int sig = sigpending_dequeue(&t->pending, allowed, info);
	if (!sig)
		sig = sigpending_dequeue(&t->tg->shared_pending, allowed, info);
	return sig;
}

/* ---- sighand ---- */

struct sighand *sighand_create(void)
{
	struct sighand *sh = calloc(1, sizeof(*sh));
	if (sh)
		sh->refs = 1;
	return sh;
}

struct sighand *sighand_copy(const struct sighand *sh)
{
	struct sighand *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c->action, sh->action, sizeof(c->action));
	c->refs = 1;
	return c;
}

void sighand_put(struct sighand *sh)
{
	if (sh && __atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(sh);
}

void signal_exec_reset(struct task *t)
{
	struct thread_group *tg = t->tg;

	kernel_lock();
	if (__atomic_load_n(&tg->sighand->refs, __ATOMIC_ACQUIRE) > 1) {
		/* shared with another process (CLONE_SIGHAND): exec gets its own copy */
		struct sighand *c = sighand_copy(tg->sighand);
		if (c) {
			sighand_put(tg->sighand);
			tg->sighand = c;
		} else {
			log_warn("exec: cannot unshare signal handlers: out of memory");
		}
	}
	for (int i = 0; i < LINUX_NSIG; i++) {
		struct linux_sigaction *ka = &tg->sighand->action[i];
		if (ka->handler != LINUX_SIG_IGN)
			ka->handler = LINUX_SIG_DFL;
		ka->flags = 0;
		ka->restorer = 0;
		ka->mask = 0;
	}
	t->restore_sigmask = false;
	/* the alternate stack is gone with the old image; its flags stay (as Linux) */
	t->altstack.ss_sp = 0;
	t->altstack.ss_size = 0;
	kernel_unlock();
	signal_set_restart(t, NULL, NULL);
}

/* ---- temporary signal masks (ppoll, pselect6, epoll_pwait, epoll_pwait2) ---- */

int signal_user_mask_set(struct task *t, uint64_t umask, uint64_t size)
{
	uint64_t set;

	if (!umask)
		return 0;
	if (size != sizeof(set))
		return -EINVAL;
	if (copy_in(t->mm, &set, umask, sizeof(set)) < 0)
		return -EFAULT;
	kernel_lock();
	t->saved_sigmask = t->sigmask;
	t->sigmask = set & ~SIG_UNBLOCKABLE;
	t->restore_sigmask = true;
	signal_recheck_locked(t);
	kernel_unlock();
	return 0;
}

void signal_user_mask_restore_unless(struct task *t, bool interrupted)
{
	if (interrupted)
		return;
	kernel_lock();
	if (t->restore_sigmask) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
		signal_recheck_locked(t);
	}
	kernel_unlock();
}
