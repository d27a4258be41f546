/* Stand-ins for the rest of the Sentry, shared by the VFS unit tests (test_vfs.c,
 * test_vfs_pipe.c): guest memory is the test's own memory, signals are a pending bit that the
 * blocking code sees through signal_pending(), and one process (g_tg) with tasks made by
 * stub_task_init. Include once per test program. The stand-ins are weak: when a build links
 * the real kernel objects (libcore.a), theirs win and nothing clashes. */
#ifndef TESTS_UNIT_VFS_STUBS_H
#define TESTS_UNIT_VFS_STUBS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sentry/fs/fs.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

#define STUB __attribute__((weak))

STUB __thread struct task *current_task;
STUB struct kernel g_kernel = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The last signal sent with signal_send_thread (SIGPIPE from a write). */
static int g_last_signal;

STUB bool signal_pending(struct task *t)
{
	bool r;

	kernel_lock();
	r = (t->pending.set & ~t->sigmask) != 0;
	kernel_unlock();
	return r;
}

STUB void siginfo_kernel(struct linux_siginfo *info, int signo)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = signo;
}

STUB int signal_send_thread(struct task *t, const struct linux_siginfo *info)
{
	g_last_signal = info->si_signo;
	kernel_lock();
	t->pending.set |= SIGBIT(info->si_signo);
	kernel_unlock();
	return 0;
}

/* Make sig pending for t and wake it, as a signal sent from elsewhere would. */
static inline void stub_signal(struct task *t, int sig)
{
	kernel_lock();
	t->pending.set |= SIGBIT(sig);
	kernel_unlock();
	pthread_mutex_lock(&t->wlock);
	t->wake_seq++;
	pthread_cond_signal(&t->wcond);
	pthread_mutex_unlock(&t->wlock);
}

static struct thread_group g_tg;

STUB int signal_send_group_locked(struct thread_group *tg, const struct linux_siginfo *info)
{
	(void)tg;
	g_last_signal = info->si_signo;
	return 0;
}

/* ppoll/pselect6's temporary mask (signal.c): the same bookkeeping, without the kernel lock. */
STUB int signal_user_mask_set(struct task *t, uint64_t umask, uint64_t size)
{
	uint64_t set;
	if (!umask)
		return 0;
	if (size != sizeof(set))
		return -EINVAL;
	if (copy_in(t->mm, &set, umask, sizeof(set)) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->sigmask = set & ~SIG_UNBLOCKABLE;
	t->restore_sigmask = true;
	return 0;
}
STUB void signal_user_mask_restore_unless(struct task *t, bool interrupted)
{
	if (!interrupted && t->restore_sigmask) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
}

STUB struct task *task_lookup(int tid) { return tid == g_tg.tgid ? current_task : NULL; }
STUB struct thread_group *tg_lookup(int tgid) { return tgid == g_tg.tgid ? &g_tg : NULL; }
STUB int tg_for_each(int (*fn)(struct thread_group *tg, void *arg), void *arg)
{
	return fn(&g_tg, arg);
}

/* The terminal code (tty.c, linked with hostfd.c) asks devfs for /dev/console's node. */
STUB int devfs_console_node(const struct file_ops *fops, uint64_t *dev, uint64_t *ino)
{
	(void)fops;
	*dev = *ino = 0;
	return -ENODEV;
}

/* Guest memory is our memory; address 0..4095 and BAD_ADDR fault. */
#define BAD_ADDR 0xdead0000ULL
static bool bad(uint64_t a, size_t n)
{
	return a < 4096 || (a <= BAD_ADDR + 4096 && a + n > BAD_ADDR);
}
STUB int copy_in(struct mm *mm, void *dst, uint64_t src, size_t n)
{
	(void)mm;
	if (n && bad(src, n))
		return -EFAULT;
	memcpy(dst, (void *)src, n);
	return 0;
}
STUB int copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
	(void)mm;
	if (n && bad(dst, n))
		return -EFAULT;
	memcpy((void *)dst, src, n);
	return 0;
}
STUB long copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max)
{
	(void)mm;
	if (bad(src, 1))
		return -EFAULT;
	size_t n = strnlen((const char *)src, max);
	if (n == max)
		return -ENAMETOOLONG;
	memcpy(dst, (void *)src, n + 1);
	return (long)n;
}

/* A task of g_tg with its own wake-up machinery (fs and fdt left to the caller). */
static inline void stub_task_init(struct task *t, int tid)
{
	pthread_condattr_t ca;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->tgid = g_tg.tgid;
	t->tg = &g_tg;
	pthread_mutex_init(&t->wlock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wcond, &ca);
	pthread_condattr_destroy(&ca);
	list_init(&t->pending.queue);
	list_add_tail(&t->tg_link, &g_tg.threads);
}

static inline void stub_tg_init(void)
{
	memset(&g_tg, 0, sizeof(g_tg));
	g_tg.tgid = 1;
	g_tg.pgid = g_tg.sid = 1;
	list_init(&g_tg.children);
	list_init(&g_tg.sibling);
	list_init(&g_tg.threads);
	list_init(&g_tg.shared_pending.queue);
	for (int i = 0; i < LINUX_RLIM_NLIMITS; i++)
		g_tg.rlimits[i] = (struct linux_rlimit){LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY};
	g_tg.rlimits[LINUX_RLIMIT_NOFILE] = (struct linux_rlimit){1024, 1024};
}

#endif
