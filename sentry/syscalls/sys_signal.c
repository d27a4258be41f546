/* Signal state: actions, masks and the alternate stack. Delivery comes with the processes issue;
 * until then a synchronous fault terminates the process (sentry/kernel/task.c). */
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define SIGBIT(sig) (1ULL << ((sig)-1))
#define UNBLOCKABLE (SIGBIT(LINUX_SIGKILL) | SIGBIT(LINUX_SIGSTOP))

SYSCALL_DEFINE(rt_sigaction)
{
	int sig = (int)a->a[0];
	struct linux_sigaction act;

	if (a->a[3] != 8)
		return -EINVAL;
	if (sig < 1 || sig > LINUX_NSIG)
		return -EINVAL;
	if (a->a[1]) {
		if (sig == LINUX_SIGKILL || sig == LINUX_SIGSTOP)
			return -EINVAL;
		if (copy_in(t->mm, &act, a->a[1], sizeof(act)))
			return -EFAULT;
	}
	if (a->a[2] && copy_out(t->mm, a->a[2], &t->sig.action[sig - 1], sizeof(act)))
		return -EFAULT;
	if (a->a[1]) {
		act.mask &= ~UNBLOCKABLE;
		t->sig.action[sig - 1] = act;
	}
	return 0;
}

SYSCALL_DEFINE(rt_sigprocmask)
{
	int how = (int)a->a[0];
	uint64_t set, old = t->sig.mask;

	if (a->a[3] != 8)
		return -EINVAL;
	if (a->a[1]) {
		if (copy_in(t->mm, &set, a->a[1], sizeof(set)))
			return -EFAULT;
		switch (how) {
		case LINUX_SIG_BLOCK:
			t->sig.mask |= set;
			break;
		case LINUX_SIG_UNBLOCK:
			t->sig.mask &= ~set;
			break;
		case LINUX_SIG_SETMASK:
			t->sig.mask = set;
			break;
		default:
			return -EINVAL;
		}
		t->sig.mask &= ~UNBLOCKABLE;
	}
	if (a->a[2] && copy_out(t->mm, a->a[2], &old, sizeof(old))) {
		t->sig.mask = old;
		return -EFAULT;
	}
	return 0;
}

/* Is rsp on the task's alternate signal stack? */
static bool on_altstack(const struct task *t)
{
	const struct linux_stack *s = &t->sig.altstack;
	uint64_t sp = t->regs.regs.rsp;
	return !(s->ss_flags & LINUX_SS_DISABLE) && s->ss_size && sp - s->ss_sp < s->ss_size;
}

SYSCALL_DEFINE(sigaltstack)
{
	struct linux_stack ss, old = t->sig.altstack;

	if (!old.ss_size)
		old.ss_flags = LINUX_SS_DISABLE;
	if (on_altstack(t))
		old.ss_flags = LINUX_SS_ONSTACK;
	if (a->a[0]) {
		if (copy_in(t->mm, &ss, a->a[0], sizeof(ss)))
			return -EFAULT;
		if (on_altstack(t))
			return -EPERM;
		if (ss.ss_flags & ~(LINUX_SS_DISABLE | (int32_t)0x80000000 /* SS_AUTODISARM */))
			return -EINVAL;
		if (ss.ss_flags & LINUX_SS_DISABLE) {
			ss.ss_sp = 0;
			ss.ss_size = 0;
		} else if (ss.ss_size < LINUX_MINSIGSTKSZ) {
			return -ENOMEM;
		}
	}
	if (a->a[1] && copy_out(t->mm, a->a[1], &old, sizeof(old)))
		return -EFAULT;
	if (a->a[0])
		t->sig.altstack = ss;
	return 0;
}

#define E(name) {LINUX_SYS_##name, sys_##name}
const struct syscall_entry sys_signal_table[] = {
	E(rt_sigaction),
	E(rt_sigprocmask),
	E(sigaltstack),
	{-1, NULL},
};
