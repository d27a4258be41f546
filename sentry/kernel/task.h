/* Tasks and thread groups: one application thread per task, run by one Sentry host thread.
 *
 * Locking: g_kernel.lock (a mutex) protects the pid table, the process tree (parent, children,
 * threads), process groups and sessions, every signal field (actions, masks, pending sets),
 * and the exit/stop state of tasks and thread groups. It is never held while blocking, while
 * running application code, or while calling into the VFS, the mm or the platform.
 * Fields a task's own host thread alone touches (regs, ctx, mm pointer, fs, fdt, comm, robust
 * list) need no lock. */
#ifndef SENTRY_KERNEL_TASK_H
#define SENTRY_KERNEL_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/linux.h"
#include "common/list.h"
#include "platform/platform.h"
#include "sentry/kernel/wait.h"

struct mm;
struct fdtable;
struct fs_context;
struct file;
struct thread_group;

struct creds {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
	uint32_t ngroups;
	uint32_t groups[32]; /* supplementary groups, sorted (setgroups) */
	/* Emulated capabilities, bit LINUX_CAP_* (sentry/kernel/cred.h): init has them all; the
	 * setuid family and execve change them as Linux's commoncap does. */
	uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
};

/* One queued signal; standard signals queue at most once, real-time ones many times. */
struct sigqueue {
	struct list_head link;
	struct linux_siginfo info;
};

/* A pending set: bit signo-1 of set is on iff queue holds an entry for signo. */
struct sigpending {
	uint64_t set;
	struct list_head queue; /* struct sigqueue, in arrival order */
};

/* Signal actions, shared by threads (and by CLONE_SIGHAND processes). Refcounted. */
struct sighand {
	int refs;
	struct linux_sigaction action[LINUX_NSIG]; /* index signo-1 */
};

/* Interval timer (ITIMER_REAL / alarm) of a thread group. */
struct itimer_real {
	struct timespec expires; /* CLOCK_MONOTONIC; zero = disarmed */
	struct timespec interval;
};

enum tg_state { TG_ALIVE, TG_ZOMBIE, TG_DEAD };

/* A process. */
struct thread_group {
	int tgid;
	int refs;                    /* tasks + the parent's child link + waiters */
	struct thread_group *parent; /* NULL for init (pid 1) */
	struct list_head children;   /* struct thread_group.sibling */
	struct list_head sibling;
	struct list_head threads;    /* struct task.tg_link */
	int nr_threads;              /* live threads */
	int pgid, sid;

	struct sighand *sighand;
	struct sigpending shared_pending;
	int exit_signal;             /* sent to the parent at exit, SIGCHLD usually */

	enum tg_state state;
	bool group_exiting;          /* exit_group or a fatal signal: every thread leaves */
	int exit_status;             /* wait status once exiting */

	/* job control */
	bool stopped;                /* in a group stop */
	int stop_signo;              /* the signal that stopped it */
	bool stop_unreported;        /* WUNTRACED has something to report */
	bool cont_unreported;        /* WCONTINUED has something to report */

	struct linux_rlimit rlimits[LINUX_RLIM_NLIMITS];
	struct itimer_real itimer;
	struct waitq child_exit;     /* parents in wait4/waitid sleep here */
	uint64_t child_events;       /* bumped when a child exits, stops or continues */
	bool did_exec;               /* setpgid on it by the parent: EACCES */
	bool forked;                 /* made by fork, with a copy of its parent's memory */
	unsigned fork_execs;         /* its forked children that exec'd, and those that exited */
	unsigned fork_exits;         /* without: whether a fork copies memory (process.c) */
	struct waitq stop_wait;      /* threads of a stopped group sleep here */
	struct task *vfork_parent;   /* the task blocked in vfork for this (child)
	                              * process: a reference (struct task refs) */
	int64_t start_time_ns;       /* CLOCK_MONOTONIC at creation */
	int exit_fd;                 /* started by the runtime (exec): a host socket that gets the
	                              * wait status at exit (control.c), else -1 */
	/* CPU time and memory of its exited threads and of its reaped children
	 * (sentry/kernel/rusage.h; g_kernel.lock) */
	struct tg_rusage {
		int64_t utime_ns, stime_ns;   /* threads that have exited */
		int64_t cutime_ns, cstime_ns; /* waited-for children, their children included */
		uint64_t maxrss_kb, cmaxrss_kb;
	} ru;
};

struct task {
	int tid; /* in the sandbox's pid namespace */
	int tgid; /* == tg->tgid, cached */
	struct thread_group *tg;
	struct list_head tg_link;
	char comm[16];
	/* References to this struct (g_kernel.lock), freed at zero (task_put_locked): one for its
	 * run, which its host thread drops as the very last step of process_task_exit; and one
	 * held by its thread group while it is the group's leader, dropped when the group is
	 * reaped (tg_release_locked). So a parent that reaps the group at once (SIGCHLD ignored,
	 * SA_NOCLDWAIT) never frees a leader whose own thread is still leaving. */
	int refs;

	struct mm *mm;         /* owned reference: mm_put on exit */
	struct fdtable *fdt;   /* owned reference */
	struct fs_context *fs; /* owned reference: cwd, root, umask */
	struct file *exe_file; /* owned reference: the executable, for /proc/PID/exe */
	struct creds cred;

	/* signals (g_kernel.lock) */
	uint64_t sigmask;       /* blocked, bit signo-1 */
	uint64_t saved_sigmask; /* restored after sigsuspend/ppoll/pselect's temporary mask */
	bool restore_sigmask;
	struct sigpending pending;
	/* Set (under g_kernel.lock) wherever signal_pending_locked(t) may have become true: a
	 * signal queued for t or its group, a mask that unblocks, a group stop or exit. Cleared
	 * only by signal_pending, under the lock, when nothing is pending: so while it is clear,
	 * nothing is, and signal_pending needs no lock (signal.c says why no wake-up is lost). */
	atomic_bool sig_recheck;
	struct linux_stack altstack;

	const struct platform *plat;
	struct plat_ctx *ctx;
	struct plat_regs regs;
	/* A forked child before its first run: the parent's FPU/SSE/AVX state at the fork
	 * (fpstate_size bytes, malloc'd), which process_task_prepare gives its new context. */
	void *fork_fpstate;

	/* A signal frame was pushed on this image's stacks (inherited by fork, cleared by exec):
	 * one may hold a return address into code syscall patching has moved (syspatch.c). */
	bool had_sigframe;

	/* cpuid rewritten into int3 (sentry/kernel/cpuid.c): the image's start-up is to learn its
	 * file's cpuid sites (set by exec, taken by process_task_prepare), or is learning them
	 * (the window: cpuid faults until its first call but brk and arch_prctl), from entry. */
	bool cpuid_learn, cpuid_window;
	uint64_t cpuid_entry;

	int pdeathsig;
	int dumpable;
	int keepcaps;
	int no_new_privs;

	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;

	/* host thread and wake-ups (see wait.h) */
	pthread_t host_thread;
	atomic_int host_tid;       /* the host tid running this task, 0 before it starts */
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	uint64_t wake_seq;         /* bumped (under wlock) by every wake-up and kick */
	atomic_bool in_user;       /* inside ctx_run: a kick must interrupt the platform */

	bool vfork_child_done;     /* its vfork child has exec'd or exited (g_kernel.lock) */
	bool exiting;              /* this thread is leaving the run loop */
	int exit_code;             /* thread exit code (exit(2)) */
	struct waitq *restart_wq;  /* unused for now */

	/* scheduling (sentry/syscalls/sys_res.c; g_kernel.lock) and CPU time (rusage.h) */
	int nice;                  /* -20..19, inherited */
	int sched_policy;          /* LINUX_SCHED_OTHER/BATCH/IDLE */
	uint64_t cpu_mask[4];      /* sched_setaffinity: CPUs 0..255 */
	_Atomic uint64_t utime_ticks; /* time inside ctx_run, in rusage_clock ticks (itimer_user_exit
	                               * adds it) */
	_Atomic uint64_t spun_ns;     /* of which the host thread spent spinning (plat_event's
	                               * spun_ns): left out of its system time */
};

/* The kernel: global state shared by every task. */
struct kernel {
	pthread_mutex_t lock; /* see the top of this file */
	const struct platform *plat;
	struct gofer_client *gofer;
	bool strace;
	bool strace_time; /* --strace=time: each line ends with the call's time, " <0.000012>" */
	int strace_fd;
	uint64_t patch_stub; /* syscall patching: the platform's trampoline target, 0 when off */
	char hostname[65];
	char domainname[65];       /* setdomainname; "(none)" at boot */
	uint64_t boot_time_ns; /* CLOCK_MONOTONIC at boot, for uptime */
	struct thread_group *init; /* pid 1 */
	int nr_tasks;              /* live tasks (host threads) */
	pthread_cond_t all_exited; /* signalled when nr_tasks drops to 0 */
};
extern struct kernel g_kernel;

static inline void kernel_lock(void) { pthread_mutex_lock(&g_kernel.lock); }
static inline void kernel_unlock(void) { pthread_mutex_unlock(&g_kernel.lock); }

/* The task the calling Sentry host thread runs (one host thread per task). */
extern __thread struct task *current_task;

/* ---- pid table (g_kernel.lock held) ---- */
/* The live or zombie task with thread id tid, or NULL. */
struct task *task_lookup(int tid);
/* The thread group with id tgid (a zombie too), or NULL. */
struct thread_group *tg_lookup(int tgid);
/* Call fn for every thread group, in pid order, until it returns non-zero. */
int tg_for_each(int (*fn)(struct thread_group *tg, void *arg), void *arg);

/* ---- life cycle (task.c, process.c) ---- */
/* The first task (pid 1) with fresh fd table and fs context, no mm yet. NULL on failure. */
struct task *task_create_init(const struct platform *plat);
/* A task in a new parentless thread group that is not init (a process the runtime starts:
 * `runsc-c exec`); reaped by itself when it exits. NULL on failure. */
struct task *task_create_orphan(const struct platform *plat);
/* Undo task_create_orphan for a task that never started: its pid, thread group and all. */
void task_discard_orphan(struct task *t);
/* Start t's host thread running task_run. 0 or -errno; t counts as a running task from here
 * (g_kernel.nr_tasks) even when it fails: the caller then ends t with process_task_exit. */
int task_start(struct task *t);
/* The run loop of a task's host thread: returns when the task has exited. */
void task_run(struct task *t);
/* Wait until every task has exited; returns init's wait status. Main thread only. */
int kernel_wait_all(void);

/* End t's whole thread group with wait status st (LINUX_W_EXITCODE(code, 0) or a signal
 * number): every thread leaves at its next return to the run loop. Takes g_kernel.lock. */
void task_exit_group(struct task *t, int status);
/* The same with g_kernel.lock held. */
void tg_exit_locked(struct thread_group *tg, int status);
/* End only the calling thread (exit(2)). */
void task_exit_thread(struct task *t, int code);

/* Wake t if it sleeps in task_wait/task_host_wait, and interrupt it if it runs application
 * code, so it notices a pending signal or an exit. Any thread; g_kernel.lock may be held. */
void task_kick(struct task *t);

#endif
