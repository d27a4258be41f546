/* Process life cycle: clone/fork/vfork, execve, exit, zombies and reaping. */
#include "sentry/kernel/process.h"
#include "sentry/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/event.h"
#include "sentry/fs/tty.h"
#include "sentry/kernel/cpuid.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

/* How much small writable memory a fork copies at once rather than shares copy-on-write
 * (mm_fork_copy): a python process's heap and arenas fit. */
#define FORK_COPY_MAX (16ULL << 20)

/* What a fork of t copies at once (mm_fork_copy): nothing when t has other threads, or when
 * more of its forked children exec'd than exited without: a child that execs at once (a shell
 * running a command, git) would have the copy thrown away, where copy-on-write costs it a few
 * faults. */
static uint64_t fork_copy_max(struct task *t)
{
	kernel_lock();
	bool copy = t->tg->nr_threads == 1 && t->tg->fork_execs <= t->tg->fork_exits;
	kernel_unlock();
	return copy ? FORK_COPY_MAX : 0;
}

#define CLONE_NEWNS_ALL                                                                            \
	(LINUX_CLONE_NEWNS | LINUX_CLONE_NEWCGROUP | LINUX_CLONE_NEWUTS | LINUX_CLONE_NEWIPC |     \
	 LINUX_CLONE_NEWUSER | LINUX_CLONE_NEWPID | LINUX_CLONE_NEWNET)

int process_task_prepare(struct task *t)
{
	int r = mm_activate(t->mm);
	if (r < 0) {
		log_warn("task %d: address space: %s", t->tid, strerror(-r));
		return r;
	}
	if (!t->ctx) {
		t->ctx = t->plat->ctx_create(mm_plat_as(t->mm));
		if (!t->ctx) {
			log_warn("task %d: platform context: %s", t->tid, strerror(errno));
			return -errno;
		}
	}
	if (t->cpuid_learn) {
		t->cpuid_learn = false;
		cpuid_window_open(t);
	}
	if (t->fork_fpstate) {
		r = t->plat->ctx_set_fpstate(t->ctx, t->fork_fpstate, t->plat->fpstate_size());
		free(steal_pointer(&t->fork_fpstate));
		if (r < 0) {
			log_warn("task %d: the parent's FPU state: %s", t->tid, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* A forked child's FPU/SSE/AVX state is its parent's (MXCSR's rounding mode, the x87 control
 * word, the vector registers): read now, given to the child's context when it is made, in its
 * own address space (process_task_prepare). 0 or -errno. */
static int fork_fpstate(struct task *t, struct task *c)
{
	if (!t->plat->ctx_get_fpstate || !t->plat->ctx_set_fpstate || !t->plat->fpstate_size)
		return 0;
	size_t n = t->plat->fpstate_size();
	c->fork_fpstate = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!c->fork_fpstate)
		return -ENOMEM;
	return t->plat->ctx_get_fpstate(t->ctx, c->fork_fpstate, n);
}

/* ---- clone ---- */

static int clone_check_flags(uint64_t flags)
{
	if ((flags & LINUX_CLONE_THREAD) && !(flags & LINUX_CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & LINUX_CLONE_SIGHAND) && !(flags & LINUX_CLONE_VM))
		return -EINVAL;
	if ((flags & LINUX_CLONE_FS) && (flags & LINUX_CLONE_NEWNS))
		return -EINVAL;
	/* New namespaces inside the sandbox are not emulated yet. */
	if (flags & CLONE_NEWNS_ALL)
		return -EINVAL;
	if (flags & (LINUX_CLONE_PTRACE | LINUX_CLONE_UNTRACED | LINUX_CLONE_PIDFD |
		     LINUX_CLONE_INTO_CGROUP))
		return -EINVAL;
	if ((flags & LINUX_CLONE_CLEAR_SIGHAND) && (flags & LINUX_CLONE_SIGHAND))
		return -EINVAL;
	if (flags & ~(0x3ffffff00ULL & ~(LINUX_CLONE_DETACHED)))
		return -EINVAL;
	return 0;
}

static bool vfork_child_done(void *arg)
{
	struct task *t = arg;
	kernel_lock();
	bool r = t->vfork_child_done || t->tg->group_exiting;
	kernel_unlock();
	return r;
}

long process_clone(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
		   uint64_t tls, int exit_signal)
{
	struct task *c;
	struct thread_group *tg = NULL;
	long r = clone_check_flags(flags);

	if (r)
		return r;
	if (exit_signal < 0 || exit_signal > LINUX_NSIG)
		return -EINVAL;
	if ((flags & LINUX_CLONE_SETTLS) && tls >= LINUX_TASK_SIZE)
		return -EPERM;

	c = task_alloc();
	if (!c)
		return -ENOMEM;
	c->plat = t->plat;
	c->regs = t->regs;
	c->regs.regs.rax = 0;
	if (stack)
		c->regs.regs.rsp = stack;
	if (flags & LINUX_CLONE_SETTLS)
		c->regs.regs.fs_base = tls;
	c->cred = t->cred;
	memcpy(c->comm, t->comm, sizeof(c->comm));
	c->dumpable = t->dumpable;
	c->had_sigframe = t->had_sigframe;
	c->no_new_privs = t->no_new_privs;
	c->keepcaps = t->keepcaps;
	rusage_task_init(c, t);
	c->exe_file = t->exe_file ? file_get(t->exe_file) : NULL;
	c->sigmask = t->sigmask;
	if (!(flags & LINUX_CLONE_VM) || (flags & LINUX_CLONE_VFORK))
		c->altstack = t->altstack;
	else
		c->altstack.ss_flags = LINUX_SS_DISABLE;
	if (flags & LINUX_CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;

	/* memory */
	if (flags & LINUX_CLONE_VM) {
		mm_get(t->mm);
		c->mm = t->mm;
		/* A thread in the same address space: its context is made here, on a thread that
		 * owns one in it, and claimed by the child's host thread on its first run. */
		c->ctx = t->plat->ctx_create(mm_plat_as(t->mm));
		if (!c->ctx) {
			r = -errno ? -errno : -ENOMEM;
			goto fail;
		}
	} else {
		c->mm = mm_fork_copy(t->mm, fork_copy_max(t));
		/* Both sides write their stack as soon as the fork returns: copy that page now
		 * rather than take a fault for it on each side (a failure leaves the fault). */
		if (c->mm) {
			mm_write_soon(c->mm, c->regs.regs.rsp - 8);
			mm_write_soon(t->mm, t->regs.regs.rsp - 8);
		}
		if (!c->mm) {
			r = -ENOMEM;
			goto fail;
		}
		if ((r = fork_fpstate(t, c)) < 0)
			goto fail;
	}
	c->fdt = (flags & LINUX_CLONE_FILES) ? fdtable_get_ref(t->fdt) : fdtable_copy(t->fdt);
	c->fs = (flags & LINUX_CLONE_FS) ? fs_context_get(t->fs) : fs_context_copy(t->fs);
	if (!c->fdt || !c->fs) {
		r = -ENOMEM;
		goto fail;
	}

	if (!(flags & LINUX_CLONE_THREAD)) {
		tg = tg_alloc();
		if (!tg) {
			r = -ENOMEM;
			goto fail;
		}
		tg->exit_signal = exit_signal;
		tg->forked = !(flags & LINUX_CLONE_VM);
	}

	kernel_lock();
	if (t->tg->group_exiting) {
		kernel_unlock();
		r = -EINTR;
		goto fail;
	}
	int tid = pid_alloc_locked(c);
	if (tid < 0) {
		kernel_unlock();
		r = tid;
		goto fail;
	}
	c->tid = tid;
	if (flags & LINUX_CLONE_THREAD) {
		c->tg = t->tg;
	} else {
		struct thread_group *ptg = t->tg;
		tg->tgid = tid;
		tg->pgid = ptg->pgid;
		tg->sid = ptg->sid;
		memcpy(tg->rlimits, ptg->rlimits, sizeof(tg->rlimits));
		if (flags & LINUX_CLONE_SIGHAND) {
			tg->sighand = ptg->sighand;
			tg->sighand->refs++;
		} else {
			tg->sighand = sighand_copy(ptg->sighand);
			if (tg->sighand && (flags & LINUX_CLONE_CLEAR_SIGHAND)) {
				/* handlers back to SIG_DFL; ignored signals stay ignored */
				for (int i = 0; i < LINUX_NSIG; i++) {
					struct linux_sigaction *sa = &tg->sighand->action[i];
					if (sa->handler != LINUX_SIG_IGN)
						memset(sa, 0, sizeof(*sa));
				}
			}
		}
		if (!tg->sighand) {
			pid_free_locked(tid);
			kernel_unlock();
			r = -ENOMEM;
			goto fail;
		}
		/* CLONE_PARENT, and every child of init's siblings, hang off the parent's parent */
		tg->parent = (flags & LINUX_CLONE_PARENT) && ptg->parent ? ptg->parent : ptg;
		list_add_tail(&tg->sibling, &tg->parent->children);
		c->tg = tg;
		c->refs++; /* its group's: it leads it (struct task's refs) */
	}
	c->tgid = c->tg->tgid;
	list_add_tail(&c->tg_link, &c->tg->threads);
	c->tg->nr_threads++;
	if (flags & LINUX_CLONE_VFORK) {
		/* A reference to the parent's struct: a killed parent stops waiting and may exit
		 * (and be freed) before the child execs or exits and tells it (vfork_release) */
		c->tg->vfork_parent = t;
		t->refs++;
		t->vfork_child_done = false;
	}
	kernel_unlock();

	if (flags & LINUX_CLONE_PARENT_SETTID) {
		int32_t v = tid;
		copy_out(t->mm, ptid, &v, sizeof(v));
		if (!(flags & LINUX_CLONE_VM))
			copy_out(c->mm, ptid, &v, sizeof(v));
	}
	if (flags & LINUX_CLONE_CHILD_SETTID) {
		int32_t v = tid;
		copy_out(c->mm, ctid, &v, sizeof(v));
	}

	r = task_start(c);
	if (r < 0) {
		/* Unwind as if the child exited at once: its thread never ran. */
		log_warn("clone: starting the task thread: %s", strerror((int)-r));
		c->exiting = true;
		process_task_exit(c);
		return r;
	}

	if (flags & LINUX_CLONE_VFORK) {
		/* The parent sleeps until the child execs or exits. Linux's vfork wait is killable
		 * only: other signals wait until it ends. */
		while (task_wait(t, NULL, vfork_child_done, t, NULL) < 0 && !t->tg->group_exiting)
			;
	}
	return tid;

fail:
	if (tg)
		tg_free(tg);
	task_free(c);
	return r;
}

/* ---- exit ---- */

/* Tell a vfork parent it may go on, and drop tg's reference to it. g_kernel.lock held. */
static void vfork_release_locked(struct thread_group *tg)
{
	if (tg->vfork_parent) {
		struct task *p = tg->vfork_parent;
		tg->vfork_parent = NULL;
		p->vfork_child_done = true;
		task_wake(p);
		task_put_locked(p);
	}
}

/* The parent ignores SIGCHLD (or set SA_NOCLDWAIT): its children are reaped at once. */
static bool parent_autoreaps(struct thread_group *parent, int exit_signal)
{
	const struct linux_sigaction *sa = &parent->sighand->action[LINUX_SIGCHLD - 1];
	if (exit_signal != LINUX_SIGCHLD)
		return false;
	return sa->handler == LINUX_SIG_IGN || (sa->flags & LINUX_SA_NOCLDWAIT);
}

/* Free a dead thread group and its pid, and drop the group's reference to its leader's
 * struct. The leader's host thread may still be inside process_task_exit (this is its own
 * exit, auto-reaped): its run's reference keeps the struct until it is done. g_kernel.lock
 * held. */
void tg_release_locked(struct thread_group *tg)
{
	struct task *leader = task_lookup(tg->tgid);

	list_del(&tg->sibling);
	rusage_release_locked(tg);
	if (leader && leader->tg == tg) {
		pid_free_locked(tg->tgid);
		list_del(&leader->tg_link);
		task_put_locked(leader);
	}
	tg_free(tg);
}

/* The wait status to report for a group that has fully exited. */
static int tg_final_status(struct thread_group *tg, int last_thread_code)
{
	return tg->group_exiting ? tg->exit_status : LINUX_W_EXITCODE(last_thread_code & 0xff, 0);
}

/* Make tg a zombie: reparent its children to init, notify its parent. g_kernel.lock held. */
static void tg_become_zombie_locked(struct thread_group *tg, int status)
{
	struct thread_group *init = g_kernel.init;
	struct list_head *pos, *n;

	tg->exit_status = status;
	tg->state = TG_ZOMBIE;
	itimer_update_locked(tg);
	pidfd_notify_exit_locked(tg); /* pidfds of tg become readable */
	if (tg->sid == tg->tgid) {
		tty_console_exec_exit_locked(tg); /* before the session's terminal is let go */
		tty_session_leader_exit_locked(tg);
	}

	/* children go to init (the sandbox's pid 1) */
	list_for_each_safe(pos, n, &tg->children) {
		struct thread_group *ch = list_entry(pos, struct thread_group, sibling);
		struct list_head *tp;
		/* PR_SET_PDEATHSIG: the child's threads are told their parent died */
		list_for_each(tp, &ch->threads) {
			struct task *ct = list_entry(tp, struct task, tg_link);
			if (ct->pdeathsig && ch->state == TG_ALIVE) {
				struct linux_siginfo info;
				siginfo_kernel(&info, ct->pdeathsig);
				info.si_code = LINUX_SI_USER;
				info.kill.pid = tg->tgid;
				signal_send_thread_locked(ct, &info);
			}
		}
		list_del(&ch->sibling);
		if (tg == init) {
			ch->parent = NULL;
			list_init(&ch->sibling);
			continue;
		}
		ch->parent = init;
		list_add_tail(&ch->sibling, &init->children);
		if (ch->state == TG_ZOMBIE) {
			init->child_events++;
			waitq_wake(&init->child_exit);
		}
	}

	if (tg == init) {
		/* When a pid namespace's init dies, every other process is killed. */
		for (int i = 1; i < 32768; i++) {
			struct task *t = task_lookup(i);
			if (t && t->tg != tg && t->tg->state == TG_ALIVE)
				tg_exit_locked(t->tg, LINUX_W_EXITCODE(0, LINUX_SIGKILL));
		}
		return;
	}
	struct thread_group *parent = tg->parent;
	if (tg->exit_fd >= 0) {
		control_exec_exited(tg->exit_fd, status);
		tg->exit_fd = -1;
	}
	if (!parent) {
		tg->state = TG_DEAD;
		tg_release_locked(tg);
		return;
	}
	if (tg->exit_signal > 0) {
		struct linux_siginfo info;
		memset(&info, 0, sizeof(info));
		info.si_signo = tg->exit_signal;
		if ((status & 0x7f) == 0) {
			info.si_code = LINUX_CLD_EXITED;
			info.chld.status = (status >> 8) & 0xff;
		} else {
			info.si_code = (status & LINUX_WCOREFLAG) ? LINUX_CLD_DUMPED : LINUX_CLD_KILLED;
			info.chld.status = status & 0x7f;
		}
		info.chld.pid = tg->tgid;
		signal_send_group_locked(parent, &info);
	}
	if (parent_autoreaps(parent, tg->exit_signal)) {
		tg->state = TG_DEAD;
		tg_release_locked(tg);
	}
	parent->child_events++;
	waitq_wake(&parent->child_exit);
}

/* CLONE_CHILD_CLEARTID: write 0 to the tid word and wake a futex waiter on it. */
static void clear_child_tid(struct task *t)
{
	int32_t zero = 0;
	if (!t->clear_child_tid || !t->mm)
		return;
	if (copy_out(t->mm, t->clear_child_tid, &zero, sizeof(zero)) == 0)
		futex_wake_addr(t->mm, t->clear_child_tid, 1);
}

void process_task_exit(struct task *t)
{
	struct thread_group *tg = t->tg;
	bool leader = t->tid == tg->tgid;

	futex_release_robust_list(t, t->mm);
	clear_child_tid(t);
	if (t->ctx) {
		t->plat->ctx_release(t->ctx);
		t->ctx = NULL;
	}
	/* Drop the address space and files before the parent can see the exit, as Linux's
	 * exit_mm/exit_files come before exit_notify. procfs takes references to these under
	 * g_kernel.lock, so they are detached under it and put after. */
	kernel_lock();
	struct mm *mm = t->mm;
	struct fdtable *fdt = t->fdt;
	struct fs_context *fs = t->fs;
	struct file *exe = t->exe_file;
	bool last = tg->nr_threads == 1;
	t->mm = NULL;
	t->fdt = NULL;
	t->fs = NULL;
	t->exe_file = NULL;
	kernel_unlock();
	/* the process's resident set as it ends counts for its maxrss */
	if (mm && last)
		rusage_put_mm(t, mm);
	else if (mm)
		mm_put_later(mm);
	if (fdt)
		fdtable_put(fdt);
	if (fs)
		fs_context_put(fs);
	if (exe)
		file_put(exe);

	int final_status;
	kernel_lock();
	signal_retarget_locked(t);
	rusage_thread_exit_locked(t);
	if (!leader) {
		/* before the group can be reaped below: tg->threads is in the group */
		list_del(&t->tg_link);
		pid_free_locked(t->tid);
	}
	tg->nr_threads--;
	if (tg->nr_threads == 0) {
		final_status = tg_final_status(tg, t->exit_code);
		if (g_kernel.strace)
			strace_exited(t, final_status);
		vfork_release_locked(tg);
		if (tg->forked && !tg->did_exec && tg->parent)
			tg->parent->fork_exits++;
		/* A parent that reaps at once frees tg here, and drops the group's reference to
		 * its leader: past this point tg is not touched. */
		tg_become_zombie_locked(tg, final_status);
	}
	atomic_store(&t->host_tid, 0);
	g_kernel.nr_tasks--;
	if (g_kernel.nr_tasks == 0)
		pthread_cond_broadcast(&g_kernel.all_exited);
	/* The run's reference, dropped last: this frees the struct of a thread that is not a
	 * leader, or of a leader whose group has been reaped; a zombie leader's stays, held by
	 * its group, until the group is reaped. */
	task_put_locked(t);
	kernel_unlock();
}

/* ---- execve ---- */

/* Make t the only thread of its group: every other thread leaves. Returns 0 or -EINTR when the
 * group is being killed meanwhile. */
static int de_thread(struct task *t)
{
	struct thread_group *tg = t->tg;
	struct list_head *pos;

	kernel_lock();
	if (tg->nr_threads == 1) {
		kernel_unlock();
		return 0;
	}
	list_for_each(pos, &tg->threads) {
		struct task *o = list_entry(pos, struct task, tg_link);
		if (o != t && !o->exiting) {
			/* seen by signal_pending, so that a sleeping thread wakes and leaves */
			o->exiting = true;
			signal_recheck_locked(o);
			task_kick(o);
		}
	}
	kernel_unlock();
	for (;;) {
		kernel_lock();
		int n = tg->nr_threads;
		bool killed = tg->group_exiting;
		kernel_unlock();
		if (killed)
			return -EINTR;
		if (n == 1)
			return 0;
		struct timespec d, rel = {0, 2 * 1000 * 1000};
		deadline_after(&d, &rel);
		task_wait(t, NULL, NULL, NULL, &d);
	}
}

long process_execve(struct task *t, int dirfd, const char *path, char **argv, char **envp,
		    int flags)
{
	struct mm *old_mm = t->mm;
	struct plat_ctx *old_ctx = t->ctx;
	long r;

	mm_get(old_mm);
	r = loader_exec(t, dirfd, path, argv, envp, flags);
	if (r < 0) {
		mm_put(old_mm);
		return r;
	}
	futex_release_robust_list(t, old_mm);
	/* Past the point of no return: t->mm and the registers are the new image's. The name
	 * follows at once, so that /proc never shows the new image under the old name for long. */
	const char *base = strrchr(path, '/');
	snprintf(t->comm, sizeof(t->comm), "%s", base ? base + 1 : path);
	r = de_thread(t);
	t->ctx = NULL;
	if (old_ctx)
		t->plat->ctx_release(old_ctx);
	/* procfs readers that saw the old mm under g_kernel.lock hold their own reference once
	 * this lock/unlock pair has passed */
	kernel_lock();
	bool vforked = t->tg->vfork_parent != NULL;
	kernel_unlock();
	/* The old image's resident set still counts for maxrss; a vfork child's was its
	 * parent's, counted there. */
	if (vforked)
		mm_put_later(old_mm);
	else
		rusage_put_mm(t, old_mm);
	if (r < 0)
		return r;
	r = process_task_prepare(t);
	if (r < 0) {
		task_exit_group(t, LINUX_W_EXITCODE(0, LINUX_SIGKILL));
		return r;
	}
	r = fdtable_unshare(&t->fdt);
	if (r < 0) {
		task_exit_group(t, LINUX_W_EXITCODE(0, LINUX_SIGKILL));
		return r;
	}
	fdtable_close_on_exec(t->fdt);
	signal_exec_reset(t);
	t->had_sigframe = false;
	/* capabilities as a file without file capabilities gives them; keepcaps ends */
	kernel_lock();
	cred_exec(&t->cred, false);
	kernel_unlock();
	t->keepcaps = 0;
	t->clear_child_tid = 0;

	kernel_lock();
	if (t->tg->forked && !t->tg->did_exec && t->tg->parent)
		t->tg->parent->fork_execs++;
	t->tg->did_exec = true;
	vfork_release_locked(t->tg);
	kernel_unlock();
	return 0;
}
