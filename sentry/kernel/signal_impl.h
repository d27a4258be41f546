/* Internals shared by signal.c, signal_deliver.c and sys_signal.c (not for other modules). */
#ifndef SENTRY_KERNEL_SIGNAL_IMPL_H
#define SENTRY_KERNEL_SIGNAL_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* A thread inside rt_sigtimedwait: its blocked set before the wait (Linux's real_blocked).
 * Signals it blocked are not dropped as ignored while it waits. g_kernel.lock. */
struct sigwaiter {
	struct list_head link;
	struct task *task;
	uint64_t real_blocked;
};
void sigwaiter_add_locked(struct sigwaiter *w);
void sigwaiter_del_locked(struct sigwaiter *w);

/* Tell tg's parent that tg stopped (CLD_STOPPED, status = the stop signal) or continued
 * (CLD_CONTINUED): SIGCHLD unless the parent ignores it or set SA_NOCLDSTOP, and always a wake
 * of its wait4 sleepers. g_kernel.lock held. */
void signal_notify_parent_stop_locked(struct thread_group *tg, int why, int status);

/* The handler t's thread group has for sig (index sig-1). g_kernel.lock held. */
static inline struct linux_sigaction *sig_action(struct thread_group *tg, int sig)
{
	return &tg->sighand->action[sig - 1];
}

/* Is the calling thread asleep in its group stop? Then signal_pending only reports an exit. */
extern __thread bool tls_in_group_stop;

/* sigaltstack's two halves (Linux's do_sigaltstack), for stack pointer sp (sigframe.c).
 * get: what oss reports. set: 0, -EPERM (sp is on the current alternate stack), -EINVAL (bad
 * flags) or -ENOMEM (smaller than MINSIGSTKSZ). g_kernel.lock held. */
void signal_altstack_get_locked(const struct task *t, uint64_t sp, struct linux_stack *out);
int signal_altstack_set_locked(struct task *t, const struct linux_stack *ss, uint64_t sp);

#endif
