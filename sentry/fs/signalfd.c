/* signalfd: reading the calling thread's pending signals as struct signalfd_siginfo records,
 * after Linux's fs/signalfd.c. A read takes the signals of the file's mask that are pending
 * for the thread or its process (usually blocked, so that no handler takes them first); poll
 * reports EPOLLIN while one is pending. Both sleep on signal_queued_wq, which the signal code
 * wakes whenever it queues a signal (sentry/kernel/signal.h). As Linux, the pending sets are
 * those of the task that reads or polls, not of the one that made the signalfd. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h"

struct signalfd {
	_Atomic uint64_t mask;
};

/* Linux's siginfo_layout, reduced to the classes signalfd copies. */
enum sil { SIL_KILL, SIL_TIMER, SIL_POLL, SIL_FAULT, SIL_CHLD, SIL_RT, SIL_SYS };

static enum sil siginfo_layout(int sig, int code)
{
	static const struct {
		int sig, limit;
		enum sil layout;
	} codes[] = {
	    {LINUX_SIGILL, 11, SIL_FAULT},  {LINUX_SIGFPE, 15, SIL_FAULT},
	    {LINUX_SIGSEGV, 10, SIL_FAULT}, {LINUX_SIGBUS, 5, SIL_FAULT},
	    {LINUX_SIGTRAP, 6, SIL_FAULT},  {LINUX_SIGCHLD, 6, SIL_CHLD},
	    {LINUX_SIGIO, 6, SIL_POLL},	    {LINUX_SIGSYS, 2, SIL_SYS},
	};

	if (code > LINUX_SI_USER && code < LINUX_SI_KERNEL) {
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			if (codes[i].sig == sig && code <= codes[i].limit)
				return codes[i].layout;
		return code <= 6 ? SIL_POLL : SIL_KILL;
	}
	if (code == LINUX_SI_TIMER)
		return SIL_TIMER;
	if (code == -5) /* SI_SIGIO */
		return SIL_POLL;
	return code < 0 ? SIL_RT : SIL_KILL;
}

/* Linux's signalfd_copyinfo. */
static void copy_info(struct linux_signalfd_siginfo *o, const struct linux_siginfo *i)
{
	int64_t band;
	int32_t fd;

	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)i->si_signo;
	o->ssi_errno = i->si_errno;
	o->ssi_code = i->si_code;
	switch (siginfo_layout(i->si_signo, i->si_code)) {
	case SIL_KILL:
		o->ssi_pid = (uint32_t)i->kill.pid;
		o->ssi_uid = i->kill.uid;
		break;
	case SIL_TIMER:
		o->ssi_tid = (uint32_t)i->timer.tid;
		o->ssi_overrun = (uint32_t)i->timer.overrun;
		o->ssi_ptr = i->timer.value;
		o->ssi_int = (int32_t)i->timer.value;
		break;
	case SIL_POLL:
		memcpy(&band, i->__pad, sizeof(band));
		memcpy(&fd, i->__pad + 8, sizeof(fd));
		o->ssi_band = (uint32_t)band;
		o->ssi_fd = fd;
		break;
	case SIL_FAULT:
		o->ssi_addr = i->fault.addr;
		break;
	case SIL_CHLD:
		o->ssi_pid = (uint32_t)i->chld.pid;
		o->ssi_uid = i->chld.uid;
		o->ssi_status = i->chld.status;
		o->ssi_utime = (uint64_t)i->chld.utime;
		o->ssi_stime = (uint64_t)i->chld.stime;
		break;
	case SIL_RT:
		o->ssi_pid = (uint32_t)i->kill.pid;
		o->ssi_uid = i->kill.uid;
		o->ssi_ptr = i->kill.value;
		o->ssi_int = (int32_t)i->kill.value;
		break;
	case SIL_SYS:
		o->ssi_call_addr = i->sys.call_addr;
		o->ssi_syscall = i->sys.syscall;
		o->ssi_arch = i->sys.arch;
		break;
	}
}

struct sfd_wait {
	struct task *t;
	uint64_t mask;
};

static bool sfd_pending(void *arg)
{
	struct sfd_wait *w = arg;
	bool r;

	kernel_lock();
	r = ((w->t->pending.set | w->t->tg->shared_pending.set) & w->mask) != 0;
	kernel_unlock();
	return r;
}

static ssize_t sfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct signalfd *s = f->priv;
	struct task *t = current_task;
	struct linux_signalfd_siginfo *out = buf;
	size_t max = n / sizeof(*out), count = 0;

	(void)pos;
	if (!max)
		return -EINVAL;
	while (count < max) {
		struct sfd_wait w = {t, atomic_load(&s->mask)};
		struct linux_siginfo info;
		int sig;

		kernel_lock();
		sig = signal_dequeue_locked(t, w.mask, &info);
		kernel_unlock();
		if (sig) {
			copy_info(&out[count++], &info);
			continue;
		}
		/* Only the first record may be waited for. */
		if (count)
			break;
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		int r = task_wait(t, &signal_queued_wq, sfd_pending, &w, NULL);
		if (r < 0)
			return r;
	}
	return (ssize_t)(count * sizeof(*out));
}

static unsigned sfd_poll(struct file *f, struct poll_table *pt)
{
	struct signalfd *s = f->priv;
	struct sfd_wait w = {current_task, atomic_load(&s->mask)};

	poll_wait(pt, &signal_queued_wq);
	if (!w.t)
		return 0;
	return sfd_pending(&w) ? LINUX_POLLIN | LINUX_POLLRDNORM : 0;
}

static void sfd_release(struct file *f) { free(f->priv); }

static const struct file_ops sfd_fops = {
    .release = sfd_release,
    .read = sfd_read,
    .poll = sfd_poll,
    .llseek = anon_noop_llseek,
    .path_name = anon_file_path_name,
};

int signalfd_create_file(uint64_t mask, int flags, struct file **out)
{
	struct signalfd *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	atomic_init(&s->mask, mask & ~SIG_UNBLOCKABLE);
	r = anon_file_open("[signalfd]", &sfd_fops, s, flags, out);
	if (r < 0)
		free(s);
	return r;
}

int signalfd_set_mask(struct file *f, uint64_t mask)
{
	struct signalfd *s;

	if (f->fops != &sfd_fops)
		return -EINVAL;
	s = f->priv;
	atomic_store(&s->mask, mask & ~SIG_UNBLOCKABLE);
	/* a reader or poller waiting for the old mask looks again */
	waitq_wake_key(&signal_queued_wq, LINUX_POLLIN | LINUX_POLLRDNORM);
	return 0;
}
