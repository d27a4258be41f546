/* Tasks: allocation, the pid table, the host thread of each task and its run loop, kicks, exit. */
#include "sentry/kernel/task.h"
#include "sentry/control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "platform/pairing.h"
#include "sentry/kernel/cpuid.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/syspatch.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

struct kernel g_kernel = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.all_exited = PTHREAD_COND_INITIALIZER,
};
__thread struct task *current_task;

/* ---- the pid table: tid -> task (live, or a zombie group's leader) ---- */

#define PID_MAX 32768
static struct task *g_pids[PID_MAX];
static int g_last_pid;

struct task *task_lookup(int tid)
{
	if (tid <= 0 || tid >= PID_MAX)
		return NULL;
	return g_pids[tid];
}

struct thread_group *tg_lookup(int tgid)
{
	struct task *t = task_lookup(tgid);
	return t && t->tg->tgid == tgid ? t->tg : NULL;
}

int tg_for_each(int (*fn)(struct thread_group *tg, void *arg), void *arg)
{
	for (int i = 1; i < PID_MAX; i++) {
		struct task *t = g_pids[i];
		if (t && t->tg->tgid == i) {
			int r = fn(t->tg, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

/* A free pid, not in use as a tid, a process group or a session (as Linux), or -EAGAIN. */
static bool pid_in_use_as_group(int pid)
{
	for (int i = 1; i < PID_MAX; i++) {
		struct task *t = g_pids[i];
		if (t && t->tg->tgid == i && (t->tg->pgid == pid || t->tg->sid == pid))
			return true;
	}
	return false;
}

int pid_alloc_locked(struct task *t)
{
	for (int n = 0; n < PID_MAX; n++) {
		int pid = g_last_pid + 1 + n;
		pid = (pid - 1) % (PID_MAX - 1) + 1;
		if (!g_pids[pid] && (g_last_pid < PID_MAX - 2 || !pid_in_use_as_group(pid))) {
			g_pids[pid] = t;
			g_last_pid = pid;
			return pid;
		}
	}
	return -EAGAIN;
}

void pid_free_locked(int pid)
{
	if (pid > 0 && pid < PID_MAX)
		g_pids[pid] = NULL;
}

/* ---- allocation ---- */

struct task *task_alloc(void)
{
	struct task *t = calloc(1, sizeof(*t));
	pthread_condattr_t ca;

	if (!t)
		return NULL;
	pthread_mutex_init(&t->wlock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wcond, &ca);
	pthread_condattr_destroy(&ca);
	sigpending_init(&t->pending);
	atomic_init(&t->sig_recheck, true); /* its group may have shared signals pending */
	list_init(&t->tg_link);
	t->dumpable = 1;
	t->refs = 1; /* its run's (struct task in task.h) */
	return t;
}

/* Release what t owns (not its tg or pid). */
void task_free(struct task *t)
{
	if (!t)
		return;
	if (t->ctx)
		t->plat->ctx_release(t->ctx);
	if (t->mm)
		mm_put(t->mm);
	if (t->fdt)
		fdtable_put(t->fdt);
	if (t->fs)
		fs_context_put(t->fs);
	if (t->exe_file)
		file_put(t->exe_file);
	task_struct_free(t);
}

void task_put_locked(struct task *t)
{
	if (--t->refs == 0)
		task_struct_free(t);
}

void task_struct_free(struct task *t)
{
	sigpending_clear(&t->pending);
	free(t->fork_fpstate);
	pthread_cond_destroy(&t->wcond);
	pthread_mutex_destroy(&t->wlock);
	free(t);
}

static const struct linux_rlimit default_rlimits[LINUX_RLIM_NLIMITS] = {
	[LINUX_RLIMIT_CPU] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_FSIZE] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_DATA] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_STACK] = {8 << 20, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_CORE] = {0, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_RSS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_NPROC] = {65536, 65536},
	[LINUX_RLIMIT_NOFILE] = {1024, 1024 * 1024},
	[LINUX_RLIMIT_MEMLOCK] = {8 << 20, 8 << 20},
	[LINUX_RLIMIT_AS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_LOCKS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_SIGPENDING] = {65536, 65536},
	[LINUX_RLIMIT_MSGQUEUE] = {819200, 819200},
	[LINUX_RLIMIT_NICE] = {0, 0},
	[LINUX_RLIMIT_RTPRIO] = {0, 0},
	[LINUX_RLIMIT_RTTIME] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
};

struct thread_group *tg_alloc(void)
{
	struct thread_group *tg = calloc(1, sizeof(*tg));
	struct timespec now;

	if (!tg)
		return NULL;
	list_init(&tg->children);
	list_init(&tg->sibling);
	list_init(&tg->threads);
	sigpending_init(&tg->shared_pending);
	waitq_init(&tg->child_exit);
	waitq_init(&tg->stop_wait);
	tg->exit_signal = LINUX_SIGCHLD;
	tg->exit_fd = -1;
	memcpy(tg->rlimits, default_rlimits, sizeof(tg->rlimits));
	clock_gettime(CLOCK_MONOTONIC, &now);
	tg->start_time_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	return tg;
}

void tg_free(struct thread_group *tg)
{
	if (tg->sighand)
		sighand_put(tg->sighand);
	sigpending_clear(&tg->shared_pending);
	free(tg);
}

/* A task in a new thread group of its own, with no parent: init (pid 1) or a process the
 * runtime starts in the sandbox (task_create_orphan). */
static struct task *task_create_first(const struct platform *plat, bool init)
{
	struct task *t = task_alloc();
	struct thread_group *tg = tg_alloc();
	int tid;

	if (!t || !tg)
		goto fail;
	t->plat = plat;
	cred_init_root(&t->cred);
	rusage_task_init(t, NULL);
	tg->sighand = sighand_create();
	t->fdt = fdtable_create();
	t->fs = fs_context_create();
	if (!tg->sighand || !t->fdt || !t->fs)
		goto fail;
	kernel_lock();
	if (init)
		g_last_pid = 0;
	if ((tid = pid_alloc_locked(t)) < 0) {
		kernel_unlock();
		goto fail;
	}
	t->tid = tid;
	t->tgid = tg->tgid = tg->pgid = tg->sid = t->tid;
	t->tg = tg;
	t->refs++; /* its group's: it leads it */
	list_add_tail(&t->tg_link, &tg->threads);
	tg->nr_threads = 1;
	if (init)
		g_kernel.init = tg;
	kernel_unlock();
	return t;
fail:
	if (tg) {
		if (tg->sighand)
			sighand_put(tg->sighand);
		free(tg);
	}
	task_free(t);
	return NULL;
}

struct task *task_create_init(const struct platform *plat)
{
	return task_create_first(plat, true);
}

struct task *task_create_orphan(const struct platform *plat)
{
	return task_create_first(plat, false);
}

void task_discard_orphan(struct task *t)
{
	struct thread_group *tg = t->tg;

	kernel_lock();
	list_del(&t->tg_link);
	pid_free_locked(t->tid);
	kernel_unlock();
	tg_free(tg);
	task_free(t);
}

/* ---- kicks ---- */

void task_kick(struct task *t)
{
	pthread_mutex_lock(&t->wlock);
	t->wake_seq++;
	pthread_cond_signal(&t->wcond);
	pthread_mutex_unlock(&t->wlock);
	if (atomic_load(&t->in_user) && t->ctx)
		t->plat->ctx_interrupt(t->ctx);
	int htid = atomic_load(&t->host_tid);
	if (htid > 0 && htid != (int)syscall(SYS_gettid))
		syscall(SYS_tgkill, getpid(), htid, SENTRY_KICK_SIGNAL);
}

/* ---- the run loop ---- */

static void task_syscall(struct task *t)
{
	struct linux_regs *r = &t->regs.regs;
	struct syscall_args a = {
		.nr = (long)r->orig_rax,
		.a = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9},
	};
	long ret;

	if (g_kernel.strace)
		strace_enter(t, &a);
	ret = syscall_dispatch(t, &a);
	if (g_kernel.strace && !t->exiting && !t->tg->group_exiting)
		strace_exit(t, &a, ret);
	/* execve and rt_sigreturn set every register themselves and return the rax to keep */
	r->rax = (uint64_t)ret;
}

static void task_fault(struct task *t, const struct plat_event *ev)
{
	int si_code = ev->si_code, signo = ev->signo;

	if (ev->signo == LINUX_SIGSEGV || ev->signo == LINUX_SIGBUS) {
		int r = mm_handle_fault(t->mm, ev->fault_addr, ev->access);
		if (r == 0)
			return; /* copy-on-write broken, or a page made present: run again */
		/* only a real page fault (MAPERR/ACCERR) is reclassified; SI_KERNEL (a general
		 * protection fault, e.g. a non-canonical address) stays as the host said */
		bool page_fault = ev->signo == LINUX_SIGSEGV && (ev->si_code == 1 || ev->si_code == 2);
		if (page_fault && r == -ENXIO) {
			/* [mm] a file mapping's page wholly past the end of its file */
			signo = LINUX_SIGBUS;
			si_code = 2 /* BUS_ADRERR */;
		} else if (page_fault) {
			si_code = r == -EACCES ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */;
		}
	}
	log_debug("task %d: fault signal %d code %d addr %#lx at rip %#lx", t->tid, signo,
		  si_code, (unsigned long)ev->fault_addr, (unsigned long)t->regs.regs.rip);
	if (g_kernel.strace)
		strace_signal(t, signo, si_code, ev->fault_addr);
	signal_force_fault(t, signo, si_code, ev->fault_addr);
}

static bool is_restart_code(uint64_t rax)
{
	long v = (long)rax;
	return v == -LINUX_ERESTARTSYS || v == -LINUX_ERESTARTNOINTR ||
	       v == -LINUX_ERESTARTNOHAND || v == -LINUX_ERESTART_RESTARTBLOCK;
}

static bool task_should_leave(struct task *t)
{
	return t->exiting || t->tg->group_exiting;
}

void task_run(struct task *t)
{
	bool after_syscall = false;

	current_task = t;
	while (!task_should_leave(t)) {
		struct plat_event ev = {0}; /* (kind 0 is none: a run that filled nothing is run again) */

		if (signal_pending(t) || t->restore_sigmask ||
		    (after_syscall && is_restart_code(t->regs.regs.rax)))
			signal_deliver(t, after_syscall);
		after_syscall = false;
		if (task_should_leave(t))
			break;

		control_pause_point(t);
		atomic_store(&t->in_user, true);
		if (signal_pending(t) || task_should_leave(t)) {
			atomic_store_explicit(&t->in_user, false, memory_order_release);
			continue;
		}
		itimer_user_enter(t);
		int r = t->plat->ctx_run(t->ctx, mm_plat_as(t->mm), &t->regs, &ev);
		itimer_user_exit(t);
		if (r == 0 && ev.spun_ns)
			atomic_store_explicit(&t->spun_ns,
					      atomic_load_explicit(&t->spun_ns, memory_order_relaxed) +
						  ev.spun_ns,
					      memory_order_relaxed);
		/* Release, not seq_cst: a kick that still sees true only interrupts the next run
		 * needlessly; only the store of true must be ordered before the pending check. */
		atomic_store_explicit(&t->in_user, false, memory_order_release);
		if (r < 0) {
			log_error("task %d: platform failed: %s", t->tid, strerror(-r));
			task_exit_group(t, LINUX_W_EXITCODE(0, LINUX_SIGKILL));
			break;
		}
		switch (ev.kind) {
		case PLAT_EV_SYSCALL:
			if (ev.syscall32) {
				/* int $0x80: the i386 ABI is not emulated */
				log_debug("task %d: i386 syscall %lu: ENOSYS", t->tid,
					  (unsigned long)t->regs.regs.orig_rax);
				t->regs.regs.rax = (uint64_t)-ENOSYS;
				break;
			}
			/* Before the call: execve replaces the mm the site lives in. */
			if (ev.trapped && g_kernel.patch_stub)
				syspatch_site(t);
			if (t->cpuid_window)
				cpuid_syscall(t, (unsigned long)t->regs.regs.orig_rax);
			task_syscall(t);
			after_syscall = true;
			break;
		case PLAT_EV_FAULT:
			if (ev.signo == LINUX_SIGILL && g_kernel.patch_stub && syspatch_fixup(t))
				break;
			if (cpuid_fault(t, &ev))
				break;
			task_fault(t, &ev);
			break;
		case PLAT_EV_INTERRUPT:
			break;
		}
	}
}

/* ---- exit ---- */

void tg_exit_locked(struct thread_group *tg, int status)
{
	struct list_head *pos;

	if (tg->group_exiting)
		return;
	tg->group_exiting = true;
	tg->exit_status = status;
	tg->stopped = false;
	signal_recheck_tg_locked(tg);
	list_for_each(pos, &tg->threads)
		task_kick(list_entry(pos, struct task, tg_link));
	waitq_wake(&tg->stop_wait);
}

void task_exit_group(struct task *t, int status)
{
	kernel_lock();
	tg_exit_locked(t->tg, status);
	kernel_unlock();
}

void task_exit_thread(struct task *t, int code)
{
	t->exiting = true;
	t->exit_code = code;
}

/* The host thread of every task but init's first: run, then exit. */
static void *task_thread_main(void *arg)
{
	struct task *t = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SENTRY_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	atomic_store(&t->host_tid, (int)syscall(SYS_gettid));
	current_task = t;
	pairing_active(1);
	if (process_task_prepare(t) == 0)
		task_run(t);
	pairing_active(-1);
	process_task_exit(t);
	return NULL;
}

int task_start(struct task *t)
{
	kernel_lock();
	g_kernel.nr_tasks++;
	kernel_unlock();
	return thread_start_detached(&t->host_thread, task_thread_main, t, 1 << 20, false);
}

int kernel_wait_all(void)
{
	kernel_lock();
	while (g_kernel.nr_tasks > 0)
		pthread_cond_wait(&g_kernel.all_exited, &g_kernel.lock);
	int status = g_kernel.init->exit_status;
	kernel_unlock();
	return status;
}
