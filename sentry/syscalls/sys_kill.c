/* Sending signals: kill, tgkill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo (Linux's
 * kill_something_info, do_send_specific, check_kill_permission). Listed in sys_signal.c. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "abi/linux.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/sys_signal.h"

/* The credentials a signal to tg is checked against (its leader's, or any thread's). */
static const struct creds *target_creds(struct thread_group *tg, struct task *target)
{
	struct task *leader = target ? target : task_lookup(tg->tgid);

	if (leader && leader->tg == tg)
		return &leader->cred;
	if (!list_empty(&tg->threads))
		return &list_entry(tg->threads.next, struct task, tg_link)->cred;
	return NULL;
}

/* check_kill_permission for a signal from user space: -EINVAL for a bad number, -EPERM when
 * from may not signal tg (no uid in common, not root), except SIGCONT within a session. */
static int kill_permission_locked(struct task *from, struct thread_group *tg, struct task *target,
				  int sig)
{
	const struct creds *c = &from->cred, *tc;

	if ((unsigned)sig > LINUX_NSIG)
		return -EINVAL;
	if (tg == from->tg)
		return 0;
	tc = target_creds(tg, target);
	if (!tc || c->euid == 0 || c->euid == tc->suid || c->euid == tc->ruid ||
	    c->ruid == tc->suid || c->ruid == tc->ruid)
		return 0;
	if (sig == LINUX_SIGCONT && tg->sid == from->tg->sid)
		return 0;
	return -EPERM;
}

/* group_send_sig_info: signal 0 only checks. A zombie takes (and drops) the signal. */
static int group_send_locked(struct task *from, struct thread_group *tg, int sig,
			     const struct linux_siginfo *info)
{
	int r = kill_permission_locked(from, tg, NULL, sig);
	if (r || !sig || tg->state != TG_ALIVE)
		return r;
	return signal_send_group_locked(tg, info);
}

struct kill_many {
	struct task *from;
	int sig;
	const struct linux_siginfo *info;
	int pgid;    /* kill(-pgid) / kill(0); 0 for kill(-1) */
	int ret;     /* the answer so far */
	int count;   /* kill(-1): processes tried */
};

/* __kill_pgrp_info: 0 as soon as one member took it, else the last error, -ESRCH if empty. */
static int kill_pgrp_one(struct thread_group *tg, void *arg)
{
	struct kill_many *k = arg;

	if (tg->pgid != k->pgid)
		return 0;
	int err = group_send_locked(k->from, tg, k->sig, k->info);
	if (k->ret)
		k->ret = err;
	return 0;
}

/* kill(-1): every process but init and the caller's; EPERM only when nothing else failed. */
static int kill_all_one(struct thread_group *tg, void *arg)
{
	struct kill_many *k = arg;

	if (tg->tgid <= 1 || tg == k->from->tg)
		return 0;
	int err = group_send_locked(k->from, tg, k->sig, k->info);
	k->count++;
	if (err != -EPERM)
		k->ret = err;
	return 0;
}

SYSCALL_DEFINE(kill)
{
	int pid = (int)a->a[0], sig = (int)a->a[1];
	struct linux_siginfo info;
	int r;

	siginfo_user(&info, sig, t);
	kernel_lock();
	if (pid > 0) {
		/* any thread id names its process, as Linux's kill_pid_info */
		struct task *p = task_lookup(pid);
		r = p ? group_send_locked(t, p->tg, sig, &info) : -ESRCH;
	} else if (pid == INT_MIN) {
		r = -ESRCH;
	} else if (pid != -1) {
		struct kill_many k = {.from = t, .sig = sig, .info = &info,
				      .pgid = pid ? -pid : t->tg->pgid, .ret = -ESRCH};
		tg_for_each(kill_pgrp_one, &k);
		r = k.ret;
	} else {
		struct kill_many k = {.from = t, .sig = sig, .info = &info};
		tg_for_each(kill_all_one, &k);
		r = k.count ? k.ret : -ESRCH;
	}
	kernel_unlock();
	return r;
}

/* do_send_specific: thread tid (of process tgid when tgid > 0). */
static long send_specific(struct task *t, int tgid, int tid, int sig,
			  const struct linux_siginfo *info)
{
	long r = -ESRCH;

	kernel_lock();
	struct task *p = task_lookup(tid);
	if (p && p->tid == tid && (tgid <= 0 || p->tgid == tgid)) {
		r = kill_permission_locked(t, p->tg, p, sig);
		/* a thread already gone took the signal and died: 0, as Linux */
		if (!r && sig && p->tg->state == TG_ALIVE && !p->exiting)
			r = signal_send_thread_locked(p, info);
	}
	kernel_unlock();
	return r;
}

static long do_tkill(struct task *t, int tgid, int tid, int sig)
{
	struct linux_siginfo info;

	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = LINUX_SI_TKILL;
	info.kill.pid = t->tgid;
	info.kill.uid = t->cred.ruid;
	return send_specific(t, tgid, tid, sig, &info);
}

SYSCALL_DEFINE(tgkill)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1];

	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	return do_tkill(t, tgid, tid, (int)a->a[2]);
}

SYSCALL_DEFINE(tkill)
{
	int tid = (int)a->a[0];

	if (tid <= 0)
		return -EINVAL;
	return do_tkill(t, 0, tid, (int)a->a[1]);
}

/* rt_(tg)sigqueueinfo: not even root may pretend to be the kernel or kill()/tkill() (si_code
 * >= 0 or SI_TKILL) towards another thread than itself. */
static bool impersonates(const struct task *t, const struct linux_siginfo *info, int tid)
{
	return (info->si_code >= 0 || info->si_code == LINUX_SI_TKILL) && t->tid != tid;
}

SYSCALL_DEFINE(rt_sigqueueinfo)
{
	int pid = (int)a->a[0], sig = (int)a->a[1];
	struct linux_siginfo info;
	int r;

	if (copy_in(t->mm, &info, a->a[2], sizeof(info)))
		return -EFAULT;
	info.si_signo = sig; /* the application's siginfo, with si_signo forced */
	if (impersonates(t, &info, pid))
		return -EPERM;
	kernel_lock();
	struct task *p = task_lookup(pid);
	r = p ? group_send_locked(t, p->tg, sig, &info) : -ESRCH;
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(rt_tgsigqueueinfo)
{
	int tgid = (int)a->a[0], tid = (int)a->a[1], sig = (int)a->a[2];
	struct linux_siginfo info;

	if (copy_in(t->mm, &info, a->a[3], sizeof(info)))
		return -EFAULT;
	info.si_signo = sig;
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	if (impersonates(t, &info, tid))
		return -EPERM;
	return send_specific(t, tgid, tid, sig, &info);
}
