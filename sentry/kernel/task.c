/* The task run loop: run the application thread on the platform, dispatch its syscalls, turn its
 * faults into signals. */
#include "sentry/kernel/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/strace.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

struct kernel g_kernel;
__thread struct task *current_task;

static const struct linux_rlimit default_rlimits[LINUX_RLIM_NLIMITS] = {
	[LINUX_RLIMIT_CPU] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_FSIZE] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_DATA] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_STACK] = {8 << 20, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_CORE] = {0, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_RSS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_NPROC] = {65536, 65536},
	[LINUX_RLIMIT_NOFILE] = {1024, 1024},
	[LINUX_RLIMIT_MEMLOCK] = {8 << 20, 8 << 20},
	[LINUX_RLIMIT_AS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_LOCKS] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
	[LINUX_RLIMIT_SIGPENDING] = {65536, 65536},
	[LINUX_RLIMIT_MSGQUEUE] = {819200, 819200},
	[LINUX_RLIMIT_NICE] = {0, 0},
	[LINUX_RLIMIT_RTPRIO] = {0, 0},
	[LINUX_RLIMIT_RTTIME] = {LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY},
};

struct task *task_create_init(const struct platform *plat)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tid = t->tgid = 1;
	t->ppid = 0;
	t->plat = plat;
	t->dumpable = 1;
	memcpy(t->rlimits, default_rlimits, sizeof(t->rlimits));
	/* root inside the sandbox; the user namespace maps it to an unprivileged host uid */
	memset(&t->cred, 0, sizeof(t->cred));
	t->fdt = fdtable_create();
	t->fs = fs_context_create();
	if (!t->fdt || !t->fs) {
		task_free(t);
		return NULL;
	}
	return t;
}

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
	free(t);
}

void task_exit_group(struct task *t, int status)
{
	t->exiting = true;
	t->exit_status = status;
}

/* A synchronous fault the application cannot handle yet: Linux's force_sig with the default
 * action, which for these signals terminates the process (and would dump core). */
static void task_fault(struct task *t, const struct plat_event *ev)
{
	log_info("task %d: fault signal %d code %d addr %#lx at rip %#lx", t->tid, ev->signo,
		 ev->si_code, (unsigned long)ev->fault_addr, (unsigned long)t->regs.regs.rip);
	if (g_kernel.strace)
		strace_signal(t, ev->signo, ev->si_code, ev->fault_addr);
	task_exit_group(t, LINUX_W_EXITCODE(0, ev->signo));
}

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
	if (g_kernel.strace)
		strace_exit(t, &a, ret);
	if (!t->exiting)
		r->rax = (uint64_t)ret;
}

int task_run(struct task *t)
{
	current_task = t;
	while (!t->exiting) {
		struct plat_event ev;
		int r = t->plat->ctx_run(t->ctx, mm_plat_as(t->mm), &t->regs, &ev);

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
			task_syscall(t);
			break;
		case PLAT_EV_FAULT:
			task_fault(t, &ev);
			break;
		case PLAT_EV_INTERRUPT:
			break;
		}
	}
	if (g_kernel.strace)
		strace_exited(t, t->exit_status);
	return t->exit_status;
}
