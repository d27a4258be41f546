/* pidfd: a file naming a process (pidfd_open), readable for poll once the process has exited
 * (Linux's pidfd_poll: EPOLLIN when it is a zombie, EPOLLIN|EPOLLHUP once reaped), and a
 * target for pidfd_send_signal.
 *
 * The file keeps the process's tgid and creation time, not a pointer: thread groups are freed
 * when reaped, and a later process with the same pid has another creation time. Process exit
 * wakes one queue for every pidfd (pidfd_notify_exit_locked); pollers look at their own
 * process again, so the few spurious wake-ups cost a lookup each. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <stdlib.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h"

struct pidfd {
	int tgid;
	int64_t start_time_ns;
};

static struct waitq g_pidfd_wq = WAITQ_INIT(g_pidfd_wq);

static const struct file_ops pidfd_fops;

void pidfd_notify_exit_locked(struct thread_group *tg)
{
	(void)tg;
	waitq_wake_key(&g_pidfd_wq, LINUX_POLLIN | LINUX_POLLRDNORM);
}

static struct thread_group *lookup_locked(const struct pidfd *p)
{
	struct thread_group *tg = tg_lookup(p->tgid);

	if (!tg || tg->start_time_ns != p->start_time_ns || tg->state == TG_DEAD)
		return NULL;
	return tg;
}

struct thread_group *pidfd_tg_locked(struct file *f, int *err)
{
	if (f->fops != &pidfd_fops) {
		*err = -EBADF;
		return NULL;
	}
	*err = 0;
	return lookup_locked(f->priv);
}

static unsigned pidfd_poll(struct file *f, struct poll_table *pt)
{
	struct thread_group *tg;
	unsigned mask = 0;

	poll_wait(pt, &g_pidfd_wq);
	kernel_lock();
	tg = lookup_locked(f->priv);
	if (!tg)
		mask = LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLHUP;
	else if (tg->state != TG_ALIVE)
		mask = LINUX_POLLIN | LINUX_POLLRDNORM;
	kernel_unlock();
	return mask;
}

static void pidfd_release(struct file *f) { free(f->priv); }

static const struct file_ops pidfd_fops = {
    .release = pidfd_release,
    .poll = pidfd_poll,
    .path_name = anon_file_path_name,
};

int pidfd_create_file(int tgid, int64_t start_time_ns, int flags, struct file **out)
{
	struct pidfd *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->tgid = tgid;
	p->start_time_ns = start_time_ns;
	r = anon_file_open("[pidfd]", &pidfd_fops, p, flags, out);
	if (r < 0)
		free(p);
	return r;
}
