/* Taking signals on the way back to application code: Linux's get_signal (default actions,
 * group stop) and arch_do_signal_or_restart / handle_signal (syscall restart, handler frames). */
#include <errno.h>
#include <string.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "sentry/kernel/sigframe.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/task.h"

/* ---- job control ---- */

struct orphan_scan {
	int pgid;
	bool orphaned;
};

/* Linux's will_become_orphaned_pgrp: a group is orphaned unless one live member has a parent
 * in another group of the same session. */
static int orphan_check(struct thread_group *g, void *arg)
{
	struct orphan_scan *s = arg;
	struct thread_group *p = g->parent;

	if (g->pgid != s->pgid || g->state != TG_ALIVE || !p)
		return 0;
	if (p->pgid != s->pgid && p->sid == g->sid) {
		s->orphaned = false;
		return 1;
	}
	return 0;
}

static bool pgrp_orphaned_locked(int pgid)
{
	struct orphan_scan s = {.pgid = pgid, .orphaned = true};
	tg_for_each(orphan_check, &s);
	return s.orphaned;
}

/* Start a group stop for sig: every thread of the group blocks in signal_deliver until
 * SIGCONT or SIGKILL; the parent is told now (the other threads stop at their next return to
 * the run loop, which a kick brings about at once). */
static void group_stop_begin_locked(struct task *t, int sig)
{
	struct thread_group *tg = t->tg;
	struct list_head *pos;

	tg->stopped = true;
	signal_recheck_tg_locked(tg);
	tg->stop_signo = sig;
	tg->stop_unreported = true;
	tg->cont_unreported = false;
	list_for_each(pos, &tg->threads) {
		struct task *u = list_entry(pos, struct task, tg_link);
		if (u != t)
			task_kick(u);
	}
	signal_notify_parent_stop_locked(tg, LINUX_CLD_STOPPED, sig);
}

static bool stop_over(void *arg)
{
	struct thread_group *tg = arg;

	kernel_lock();
	bool over = !tg->stopped || tg->group_exiting;
	kernel_unlock();
	return over;
}

/* Sleep while t's group is stopped. Called and returns with g_kernel.lock held. */
static void group_stop_wait_locked(struct task *t)
{
	struct thread_group *tg = t->tg;

	tls_in_group_stop = true;
	kernel_unlock();
	task_wait(t, &tg->stop_wait, stop_over, tg, NULL);
	kernel_lock();
	tls_in_group_stop = false;
	signal_recheck_locked(t); /* what the stop hid */
}

/* ---- restart ---- */

static void apply_restart(struct linux_regs *r, enum sig_restart how)
{
	switch (how) {
	case SIG_RESTART_NONE:
		break;
	case SIG_RESTART_EINTR:
		r->rax = (uint64_t)-EINTR;
		break;
	case SIG_RESTART_SYSCALL:
		r->rax = r->orig_rax;
		r->rip -= 2; /* back onto the 2-byte syscall instruction */
		break;
	case SIG_RESTART_BLOCK:
		r->rax = LINUX_SYS_restart_syscall;
		r->rip -= 2;
		break;
	}
}

/* ---- delivery ---- */

void signal_deliver(struct task *t, bool after_syscall)
{
	struct linux_regs *r = &t->regs.regs;
	/* orig_rax is -1 after rt_sigreturn: its rax is not a syscall's result */
	bool syscall_result = after_syscall && (int64_t)r->orig_rax >= 0;

	kernel_lock();
	for (;;) {
		struct thread_group *tg = t->tg;
		struct linux_siginfo info;
		struct linux_sigaction ka;
		int sig;

		if (tg->group_exiting || t->exiting)
			goto out_unlock;
		if (tg->stopped) {
			group_stop_wait_locked(t);
			continue;
		}
		sig = signal_dequeue_locked(t, ~t->sigmask, &info);
		if (!sig)
			break;
		ka = *sig_action(tg, sig);
		if (ka.handler == LINUX_SIG_IGN)
			continue;
		if (ka.handler != LINUX_SIG_DFL) {
			uint64_t oldmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
			struct linux_stack ss = t->altstack;
			int err;

			if (ka.flags & LINUX_SA_RESETHAND)
				sig_action(tg, sig)->handler = LINUX_SIG_DFL;
			kernel_unlock();
			if (syscall_result) {
				apply_restart(r, signal_restart_rule((long)r->rax, true, ka.flags));
				syscall_result = false;
			}
			err = sigframe_setup(t, sig, &info, &ka, oldmask, &ss);
			kernel_lock();
			if (err) {
				log_debug("task %d: cannot write the frame for signal %d: SIGSEGV",
					  t->tid, sig);
				signal_force_segv_locked(t, sig);
				continue;
			}
			/* Linux's signal_delivered: the frame holds the mask to restore */
			t->restore_sigmask = false;
			uint64_t blocked = t->sigmask | ka.mask;
			if (!(ka.flags & LINUX_SA_NODEFER))
				blocked |= SIGBIT(sig);
			signal_set_blocked_locked(t, blocked);
			if ((uint32_t)t->altstack.ss_flags & LINUX_SS_AUTODISARM) {
				t->altstack.ss_sp = 0;
				t->altstack.ss_size = 0;
				t->altstack.ss_flags = LINUX_SS_DISABLE;
			}
			continue; /* more pending signals nest their frames on top, as Linux */
		}
		switch (signal_default_action(sig)) {
		case SIGDFL_IGNORE:
			continue;
		case SIGDFL_STOP:
			/* job-control stops do nothing in an orphaned process group */
			if (sig != LINUX_SIGSTOP && pgrp_orphaned_locked(tg->pgid))
				continue;
			group_stop_begin_locked(t, sig);
			continue; /* the next round sleeps in the stop */
		case SIGDFL_CORE:
			/* No core is dumped (RLIMIT_CORE is 0, and the sandbox has no core_pattern),
			 * so the status has no core flag: Linux sets it only for a dumped core. */
		case SIGDFL_TERM:
			tg_exit_locked(tg, LINUX_W_EXITCODE(0, sig));
			goto out_unlock;
		}
	}
	/* No handler ran (or the ones that did already settled rax): restart or restore. */
	if (syscall_result) {
		apply_restart(r, signal_restart_rule((long)r->rax, false, 0));
		syscall_result = false;
	}
	if (t->restore_sigmask) {
		t->restore_sigmask = false;
		signal_set_blocked_locked(t, t->saved_sigmask);
	}
out_unlock:
	kernel_unlock();
}
