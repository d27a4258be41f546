/* Tasks: one application thread each, run by one Sentry host thread. */
#ifndef SENTRY_KERNEL_TASK_H
#define SENTRY_KERNEL_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include "abi/linux.h"
#include "platform/platform.h"

struct mm;
struct fdtable;
struct fs_context;
struct file;

struct creds {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
};

struct sigstate {
	struct linux_sigaction action[LINUX_NSIG]; /* index signo-1 */
	uint64_t mask;                             /* blocked signals, bit signo-1 */
	struct linux_stack altstack;
};

struct task {
	int tid;  /* in the sandbox's pid namespace */
	int tgid; /* the process id */
	int ppid;
	char comm[16];

	struct mm *mm;            /* owned: mm_put on exit */
	struct fdtable *fdt;      /* owned: fdtable_put on exit */
	struct fs_context *fs;    /* owned: cwd, root, umask */
	struct file *exe_file;    /* owned: the executable, for /proc/self/exe */
	struct creds cred;
	struct sigstate sig;
	struct linux_rlimit rlimits[LINUX_RLIM_NLIMITS];

	const struct platform *plat;
	struct plat_ctx *ctx;
	struct plat_regs regs;

	int pdeathsig;     /* prctl(PR_SET_PDEATHSIG) */
	int dumpable;      /* prctl(PR_SET_DUMPABLE), 1 at start */
	int keepcaps;
	int no_new_privs;

	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;

	bool exiting;
	int exit_status; /* wait status (LINUX_W_EXITCODE) once exiting */
};

/* The kernel: global state shared by every task. */
struct kernel {
	const struct platform *plat;
	struct gofer_client *gofer;
	bool strace;
	int strace_fd;
	char hostname[65];
	uint64_t boot_time_ns; /* CLOCK_MONOTONIC at boot, for uptime */
};
extern struct kernel g_kernel;

/* The first task (pid 1) with fresh fd table and fs context, no mm yet. NULL on failure. */
struct task *task_create_init(const struct platform *plat);
/* Release everything t owns, then t. */
void task_free(struct task *t);
/* Run t until its thread group exits. Returns the wait status of the group. */
int task_run(struct task *t);
/* End the task's thread group with wait status st (LINUX_W_EXITCODE(code, 0) or a signal). */
void task_exit_group(struct task *t, int status);

#endif

/* The task the calling Sentry host thread runs (one host thread per task). */
extern __thread struct task *current_task;
