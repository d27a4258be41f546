/* Signal syscalls: actions, masks, the alternate stack, sigreturn, waiting for signals, interval
 * timers and restart_syscall. Sending (kill and friends) is in sys_kill.c. Linux:
 * kernel/signal.c, kernel/time/itimer.c. */
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/sys_signal.h"
#include "sentry/syscalls/syscalls.h"

#define SIGSET_SIZE 8 /* the kernel's sigset_t on x86-64 */

/* ---- actions ---- */

/* Is a signal with this handler discarded on arrival (SIG_IGN, or SIG_DFL of an ignoring one)? */
static bool handler_ignores(uint64_t handler, int sig)
{
	return handler == LINUX_SIG_IGN ||
	       (handler == LINUX_SIG_DFL && signal_default_action(sig) == SIGDFL_IGNORE);
}

SYSCALL_DEFINE(rt_sigaction)
{
	int sig = (int)a->a[0];
	struct linux_sigaction act, old;

	if (a->a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (a->a[1] && copy_in(t->mm, &act, a->a[1], sizeof(act)))
		return -EFAULT;
	if (sig < 1 || sig > LINUX_NSIG ||
	    (a->a[1] && (sig == LINUX_SIGKILL || sig == LINUX_SIGSTOP)))
		return -EINVAL;

	kernel_lock();
	struct linux_sigaction *k = sig_action(t->tg, sig);
	old = *k;
	if (a->a[1]) {
		/* x86-64 glibc always sets SA_RESTORER; a handler without one is accepted here
		 * and fails at delivery (SIGSEGV), as Linux */
		act.flags &= SIGNAL_SA_KNOWN;
		act.mask &= ~SIG_UNBLOCKABLE;
		*k = act;
		/* POSIX: setting SIG_IGN (or SIG_DFL for an ignoring signal) discards it pending */
		if (handler_ignores(act.handler, sig)) {
			struct list_head *pos;
			sigpending_flush(&t->tg->shared_pending, SIGBIT(sig));
			list_for_each(pos, &t->tg->threads)
				sigpending_flush(&list_entry(pos, struct task, tg_link)->pending,
						 SIGBIT(sig));
		}
	}
	kernel_unlock();
	old.flags &= SIGNAL_SA_KNOWN;
	if (a->a[2] && copy_out(t->mm, a->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

/* ---- masks ---- */

SYSCALL_DEFINE(rt_sigprocmask)
{
	int how = (int)a->a[0];
	uint64_t set, old;

	if (a->a[3] != SIGSET_SIZE)
		return -EINVAL;
	kernel_lock();
	old = t->sigmask;
	kernel_unlock();
	if (a->a[1]) {
		uint64_t mask;
		if (copy_in(t->mm, &set, a->a[1], sizeof(set)))
			return -EFAULT;
		switch (how) {
		case LINUX_SIG_BLOCK:
			mask = old | set;
			break;
		case LINUX_SIG_UNBLOCK:
			mask = old & ~set;
			break;
		case LINUX_SIG_SETMASK:
			mask = set;
			break;
		default:
			return -EINVAL;
		}
		kernel_lock();
		signal_set_blocked_locked(t, mask);
		kernel_unlock();
	}
	/* as Linux: a bad oset fails the call but the new mask stays */
	if (a->a[2] && copy_out(t->mm, a->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(rt_sigpending)
{
	uint64_t set;

	if (a->a[1] > SIGSET_SIZE)
		return -EINVAL;
	kernel_lock();
	set = (t->pending.set | t->tg->shared_pending.set) & t->sigmask;
	kernel_unlock();
	if (copy_out(t->mm, a->a[0], &set, a->a[1]))
		return -EFAULT;
	return 0;
}

/* ---- the alternate stack ---- */

SYSCALL_DEFINE(sigaltstack)
{
	struct linux_stack ss, old;
	int r = 0;

	if (a->a[0] && copy_in(t->mm, &ss, a->a[0], sizeof(ss)))
		return -EFAULT;
	kernel_lock();
	if (a->a[1])
		signal_altstack_get_locked(t, t->regs.regs.rsp, &old);
	if (a->a[0])
		r = signal_altstack_set_locked(t, &ss, t->regs.regs.rsp);
	kernel_unlock();
	if (!r && a->a[1] && copy_out(t->mm, a->a[1], &old, sizeof(old)))
		return -EFAULT;
	return r;
}

/* Returns the restored rax: the run loop stores it back unchanged. */
SYSCALL_DEFINE(rt_sigreturn) { return signal_sigreturn(t); }

/* ---- waiting for signals ---- */

SYSCALL_DEFINE(rt_sigsuspend)
{
	uint64_t set;

	if (a->a[1] != SIGSET_SIZE)
		return -EINVAL;
	if (copy_in(t->mm, &set, a->a[0], sizeof(set)))
		return -EFAULT;
	kernel_lock();
	t->saved_sigmask = t->sigmask;
	signal_set_blocked_locked(t, set);
	kernel_unlock();
	while (task_wait(t, NULL, NULL, NULL, NULL) != -LINUX_ERESTARTSYS)
		;
	/* the mask in force until a handler's frame has saved it; restored after delivery */
	kernel_lock();
	t->restore_sigmask = true;
	kernel_unlock();
	return -LINUX_ERESTARTNOHAND;
}

SYSCALL_DEFINE(pause)
{
	while (task_wait(t, NULL, NULL, NULL, NULL) != -LINUX_ERESTARTSYS)
		;
	return -LINUX_ERESTARTNOHAND;
}

SYSCALL_DEFINE(rt_sigtimedwait)
{
	struct linux_siginfo info;
	struct linux_timespec lts;
	struct timespec deadline;
	uint64_t these;
	bool timed = a->a[2] != 0, interrupted = false;
	int sig;

	if (a->a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (copy_in(t->mm, &these, a->a[0], sizeof(these)))
		return -EFAULT;
	if (timed) {
		if (copy_in(t->mm, &lts, a->a[2], sizeof(lts)))
			return -EFAULT;
		if (lts.tv_sec < 0 || lts.tv_nsec < 0 || lts.tv_nsec >= 1000000000L)
			return -EINVAL;
		struct timespec rel = {.tv_sec = lts.tv_sec, .tv_nsec = lts.tv_nsec};
		deadline_after(&deadline, &rel);
	}
	these &= ~SIG_UNBLOCKABLE;

	kernel_lock();
	sig = signal_dequeue_locked(t, these, &info);
	if (!sig && (!timed || lts.tv_sec || lts.tv_nsec)) {
		/* Unblock the awaited signals while asleep so that their arrival wakes us (and
		 * a process-directed one picks this thread); they stay "blocked" for the
		 * ignored-signal check (Linux's real_blocked). */
		struct sigwaiter w = {.task = t, .real_blocked = t->sigmask};
		sigwaiter_add_locked(&w);
		signal_set_blocked_locked(t, t->sigmask & ~these);
		kernel_unlock();
		int r = task_wait(t, NULL, NULL, NULL, timed ? &deadline : NULL);
		kernel_lock();
		sigwaiter_del_locked(&w);
		signal_set_blocked_locked(t, w.real_blocked);
		interrupted = r != -ETIMEDOUT;
		sig = signal_dequeue_locked(t, these, &info);
	}
	kernel_unlock();
	if (sig) {
		if (a->a[1] && copy_out(t->mm, a->a[1], &info, sizeof(info)))
			return -EFAULT;
		return sig;
	}
	return interrupted ? -EINTR : -EAGAIN;
}

/* ---- interval timers ---- */

struct linux_itimerval {
	struct linux_timeval it_interval;
	struct linux_timeval it_value;
};

#define NSEC_PER_USEC 1000LL
#define NSEC_PER_SEC 1000000000LL

static bool timeval_valid(const struct linux_timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

static int64_t timeval_ns(const struct linux_timeval *tv)
{
	if (tv->tv_sec >= INT64_MAX / NSEC_PER_SEC - 1)
		return INT64_MAX / 4; /* saturates, as ktime */
	return tv->tv_sec * NSEC_PER_SEC + tv->tv_usec * NSEC_PER_USEC;
}

static struct linux_timeval ns_timeval(int64_t ns)
{
	struct linux_timeval tv = {.tv_sec = ns / NSEC_PER_SEC,
				   .tv_usec = (ns % NSEC_PER_SEC) / NSEC_PER_USEC};
	return tv;
}

static bool itimer_which_valid(int which)
{
	return which == LINUX_ITIMER_REAL || which == LINUX_ITIMER_VIRTUAL ||
	       which == LINUX_ITIMER_PROF;
}

/* The current setting of timer `which`. */
static void itimer_get(struct task *t, int which, struct linux_itimerval *out)
{
	int64_t v, iv;

	kernel_lock();
	itimer_get_locked(t->tg, which, &v, &iv);
	kernel_unlock();
	out->it_value = ns_timeval(v);
	out->it_interval = ns_timeval(iv);
}

SYSCALL_DEFINE(getitimer)
{
	int which = (int)a->a[0];
	struct linux_itimerval v;

	if (!itimer_which_valid(which))
		return -EINVAL;
	itimer_get(t, which, &v);
	if (copy_out(t->mm, a->a[1], &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(setitimer)
{
	int which = (int)a->a[0];
	struct linux_itimerval nv, old;
	int64_t ov, oiv;

	memset(&nv, 0, sizeof(nv)); /* a NULL new value disarms (a Linux misfeature) */
	if (a->a[1]) {
		if (copy_in(t->mm, &nv, a->a[1], sizeof(nv)))
			return -EFAULT;
		if (!timeval_valid(&nv.it_value) || !timeval_valid(&nv.it_interval))
			return -EINVAL;
	}
	if (!itimer_which_valid(which))
		return -EINVAL;
	int64_t v = timeval_ns(&nv.it_value);
	kernel_lock();
	itimer_get_locked(t->tg, which, &ov, &oiv);
	int r = itimer_set_locked(t->tg, which, v, timeval_ns(&nv.it_interval));
	kernel_unlock();
	if (r)
		return r;
	old.it_value = ns_timeval(ov);
	old.it_interval = ns_timeval(oiv);
	if (a->a[2] && copy_out(t->mm, a->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(alarm)
{
	unsigned int seconds = (unsigned int)a->a[0];
	int64_t ov, oiv;

	kernel_lock();
	itimer_get_locked(t->tg, LINUX_ITIMER_REAL, &ov, &oiv);
	itimer_set_locked(t->tg, LINUX_ITIMER_REAL, (int64_t)seconds * NSEC_PER_SEC, 0);
	kernel_unlock();
	/* never 0 while an alarm was pending; round half a second up, as Linux */
	int64_t secs = ov / NSEC_PER_SEC, rem = ov % NSEC_PER_SEC;
	if ((!secs && rem) || rem >= NSEC_PER_SEC / 2)
		secs++;
	return secs;
}

/* restart_syscall(2): resumes a call that returned -ERESTART_RESTARTBLOCK through the restart
 * block it registered (signal_set_restart); with none (no Sentry call registers one yet, and
 * sigreturn clears it) it returns -EINTR, as Linux's do_no_restart_syscall. */
SYSCALL_DEFINE(restart_syscall) { return signal_restart_syscall(t); }

#define E(name) {LINUX_SYS_##name, sys_##name}
const struct syscall_entry sys_signal_table[] = {
	E(rt_sigaction),
	E(rt_sigprocmask),
	E(rt_sigpending),
	E(sigaltstack),
	E(rt_sigreturn),
	E(rt_sigsuspend),
	E(pause),
	E(rt_sigtimedwait),
	E(getitimer),
	{LINUX_SYS_setitimer, sys_setitimer,
	 "partial: ITIMER_VIRTUAL and ITIMER_PROF count time inside the platform's run call; "
	 "PROF is not charged for syscall work"},
	E(alarm),
	E(restart_syscall),
	E(kill),
	E(tgkill),
	E(tkill),
	E(rt_sigqueueinfo),
	E(rt_tgsigqueueinfo),
	{-1, NULL},
};
