/* Event and special file syscalls: epoll, eventfd, timerfd, signalfd, memfd_create, pidfd,
 * inotify. The files themselves are in sentry/fs/ (event.h); this is the argument checking in
 * Linux's order, the timeouts and temporary signal masks, and fd installation. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sentry/fs/event.h"
#include "sentry/kernel/signal.h"
#include "sentry/mm/mm.h"

#define NSEC_PER_SEC 1000000000L
/* epoll_wait's maxevents limit (INT_MAX / sizeof(struct epoll_event)) */
#define EP_MAX_EVENTS (INT32_MAX / (int)sizeof(struct linux_epoll_event))
/* At most this many events are gathered per call (the rest stay ready for the next). */
#define EP_BATCH 4096

/* Install f at the lowest free fd and drop the caller's reference: the fd or -EMFILE. */
static long install(struct task *t, struct file *f, bool cloexec)
{
	long fd = fdtable_install(t->fdt, f, cloexec ? LINUX_O_CLOEXEC : 0);

	file_put(f);
	return fd;
}

/* ---- epoll ---- */

static long do_epoll_create(struct task *t, bool cloexec)
{
	struct file *f;
	int r = epoll_create_file(&f);

	return r < 0 ? r : install(t, f, cloexec);
}

SYSCALL_DEFINE(epoll_create)
{
	if ((int)a->a[0] <= 0)
		return -EINVAL;
	return do_epoll_create(t, false);
}

SYSCALL_DEFINE(epoll_create1)
{
	int flags = (int)a->a[0];

	if (flags & ~LINUX_EPOLL_CLOEXEC)
		return -EINVAL;
	return do_epoll_create(t, flags & LINUX_EPOLL_CLOEXEC);
}

SYSCALL_DEFINE(epoll_ctl)
{
	int op = (int)a->a[1], fd = (int)a->a[2];
	struct linux_epoll_event ev = {0};
	struct file *ep, *tf;
	long r;

	if (op != LINUX_EPOLL_CTL_DEL && copy_in(t->mm, &ev, a->a[3], sizeof(ev)) < 0)
		return -EFAULT;
	ep = sys_fget(t, (int)a->a[0]);
	if (!ep)
		return -EBADF;
	tf = sys_fget(t, fd);
	if (!tf) {
		file_put(ep);
		return -EBADF;
	}
	r = epoll_ctl_file(ep, op, fd, tf, &ev);
	file_put(tf);
	file_put(ep);
	return r;
}

/* A timeout in the poll family's terms: zero (do not wait), none, or a deadline. */
struct ep_timeout {
	bool zero, none;
	struct timespec deadline;
};

static void timeout_ms(struct ep_timeout *to, int ms)
{
	memset(to, 0, sizeof(*to));
	if (ms < 0) {
		to->none = true;
	} else if (ms == 0) {
		to->zero = true;
	} else {
		struct timespec rel = {ms / 1000, (long)(ms % 1000) * 1000000L};
		deadline_after(&to->deadline, &rel);
	}
}

/* do_epoll_wait: Linux's checks (maxevents, the buffer's range, the fd, its type), then the
 * wait; the events are copied out. Returns the count or -errno (-EINTR on a signal). */
static long do_epoll_wait(struct task *t, int epfd, uint64_t uevents, int maxevents,
			  const struct ep_timeout *to)
{
	struct linux_epoll_event *evs;
	struct file *f;
	long r;

	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	if (uevents >= LINUX_TASK_SIZE ||
	    (uint64_t)maxevents * sizeof(*evs) > LINUX_TASK_SIZE - uevents)
		return -EFAULT;
	f = sys_fget(t, epfd);
	if (!f)
		return -EBADF;
	if (!file_is_epoll(f)) {
		file_put(f);
		return -EINVAL;
	}
	maxevents = MIN(maxevents, EP_BATCH);
	evs = malloc((size_t)maxevents * sizeof(*evs));
	if (!evs) {
		file_put(f);
		return -ENOMEM;
	}
	r = epoll_wait_file(t, f, evs, maxevents, to->none ? NULL : &to->deadline, to->zero);
	if (r > 0 && copy_out(t->mm, uevents, evs, (size_t)r * sizeof(*evs)) < 0)
		r = -EFAULT;
	free(evs);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(epoll_wait)
{
	struct ep_timeout to;

	timeout_ms(&to, (int)a->a[3]);
	return do_epoll_wait(t, (int)a->a[0], a->a[1], (int)a->a[2], &to);
}

SYSCALL_DEFINE(epoll_pwait)
{
	struct ep_timeout to;
	long r;

	timeout_ms(&to, (int)a->a[3]);
	r = signal_user_mask_set(t, a->a[4], a->a[5]);
	if (r < 0)
		return r;
	r = do_epoll_wait(t, (int)a->a[0], a->a[1], (int)a->a[2], &to);
	signal_user_mask_restore_unless(t, r == -EINTR);
	return r;
}

SYSCALL_DEFINE(epoll_pwait2)
{
	struct ep_timeout to = {.none = true};
	long r;

	if (a->a[3]) {
		struct linux_timespec ts;
		if (copy_in(t->mm, &ts, a->a[3], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
			return -EINVAL;
		to.none = false;
		if (ts.tv_sec == 0 && ts.tv_nsec == 0) {
			to.zero = true;
		} else if (ts.tv_sec > (int64_t)1 << 40) {
			to.none = true; /* as good as forever, without overflow */
		} else {
			struct timespec rel = {(time_t)ts.tv_sec, (long)ts.tv_nsec};
			deadline_after(&to.deadline, &rel);
		}
	}
	r = signal_user_mask_set(t, a->a[4], a->a[5]);
	if (r < 0)
		return r;
	r = do_epoll_wait(t, (int)a->a[0], a->a[1], (int)a->a[2], &to);
	signal_user_mask_restore_unless(t, r == -EINTR);
	return r;
}

/* ---- eventfd ---- */

static long do_eventfd(struct task *t, unsigned count, int flags)
{
	struct file *f;
	int r;

	if (flags & ~(LINUX_EFD_CLOEXEC | LINUX_EFD_NONBLOCK | LINUX_EFD_SEMAPHORE))
		return -EINVAL;
	r = eventfd_create_file(count, flags, &f);
	return r < 0 ? r : install(t, f, flags & LINUX_EFD_CLOEXEC);
}

SYSCALL_DEFINE(eventfd) { return do_eventfd(t, (unsigned)a->a[0], 0); }

SYSCALL_DEFINE(eventfd2) { return do_eventfd(t, (unsigned)a->a[0], (int)a->a[1]); }

/* ---- timerfd ---- */

SYSCALL_DEFINE(timerfd_create)
{
	int clockid = (int)a->a[0], flags = (int)a->a[1];
	struct file *f;
	int r;

	if (flags & ~(LINUX_TFD_CLOEXEC | LINUX_TFD_NONBLOCK))
		return -EINVAL;
	r = timerfd_create_file(clockid, flags, &f);
	return r < 0 ? r : install(t, f, flags & LINUX_TFD_CLOEXEC);
}

static bool timespec_valid(const struct linux_timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NSEC_PER_SEC;
}

/* The timerfd at fd: NULL with *err -EBADF or -EINVAL (not a timerfd). */
static struct file *timerfd_get(struct task *t, int fd, long *err)
{
	struct file *f = sys_fget(t, fd);

	*err = -EBADF;
	if (f && !file_is_timerfd(f)) {
		file_put(f);
		f = NULL;
		*err = -EINVAL;
	}
	return f;
}

SYSCALL_DEFINE(timerfd_settime)
{
	int flags = (int)a->a[1];
	struct linux_itimerspec new, old;
	struct file *f;
	long r;

	if (copy_in(t->mm, &new, a->a[2], sizeof(new)) < 0)
		return -EFAULT;
	if ((flags & ~(LINUX_TFD_TIMER_ABSTIME | LINUX_TFD_TIMER_CANCEL_ON_SET)) ||
	    !timespec_valid(&new.it_value) || !timespec_valid(&new.it_interval))
		return -EINVAL;
	f = timerfd_get(t, (int)a->a[0], &r);
	if (!f)
		return r;
	r = timerfd_settime_file(f, flags, &new, &old);
	file_put(f);
	if (r == 0 && a->a[3] && copy_out(t->mm, a->a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return r;
}

SYSCALL_DEFINE(timerfd_gettime)
{
	struct linux_itimerspec cur;
	struct file *f;
	long r;

	f = timerfd_get(t, (int)a->a[0], &r);
	if (!f)
		return r;
	timerfd_gettime_file(f, &cur);
	file_put(f);
	return copy_out(t->mm, a->a[1], &cur, sizeof(cur)) < 0 ? -EFAULT : 0;
}

/* ---- signalfd ---- */

static long do_signalfd4(struct task *t, int ufd, uint64_t umask, uint64_t size, int flags)
{
	struct file *f;
	uint64_t mask;
	long r;

	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_in(t->mm, &mask, umask, sizeof(mask)) < 0)
		return -EFAULT;
	if (flags & ~(LINUX_SFD_CLOEXEC | LINUX_SFD_NONBLOCK))
		return -EINVAL;
	if (ufd == -1) {
		r = signalfd_create_file(mask, flags, &f);
		return r < 0 ? r : install(t, f, flags & LINUX_SFD_CLOEXEC);
	}
	f = sys_fget(t, ufd);
	if (!f)
		return -EBADF;
	r = signalfd_set_mask(f, mask);
	file_put(f);
	return r < 0 ? r : ufd;
}

SYSCALL_DEFINE(signalfd) { return do_signalfd4(t, (int)a->a[0], a->a[1], a->a[2], 0); }

SYSCALL_DEFINE(signalfd4) { return do_signalfd4(t, (int)a->a[0], a->a[1], a->a[2], (int)a->a[3]); }

/* ---- memfd_create ---- */

#define MFD_ALL_FLAGS                                                                              \
	(LINUX_MFD_CLOEXEC | LINUX_MFD_ALLOW_SEALING | LINUX_MFD_HUGETLB | LINUX_MFD_NOEXEC_SEAL | \
	 LINUX_MFD_EXEC)
#define MFD_NAME_MAX 249 /* NAME_MAX - strlen("memfd:") */

SYSCALL_DEFINE(memfd_create)
{
	unsigned flags = (unsigned)a->a[1];
	char name[MFD_NAME_MAX + 1];
	struct file *f;
	long r;

	if (!(flags & LINUX_MFD_HUGETLB) && (flags & ~MFD_ALL_FLAGS))
		return -EINVAL;
	if ((flags & LINUX_MFD_HUGETLB) && (flags & ~(MFD_ALL_FLAGS | (0x3fu << 26))))
		return -EINVAL;
	if ((flags & LINUX_MFD_EXEC) && (flags & LINUX_MFD_NOEXEC_SEAL))
		return -EINVAL;
	r = copy_in_str(t->mm, name, a->a[0], sizeof(name));
	if (r == -ENAMETOOLONG)
		return -EINVAL;
	if (r < 0)
		return r;
	if (flags & LINUX_MFD_HUGETLB)
		return -EINVAL; /* no hugetlbfs in the sandbox */
	r = memfd_create_file(name, flags, &f);
	return r < 0 ? r : install(t, f, flags & LINUX_MFD_CLOEXEC);
}

/* ---- pidfd ---- */

SYSCALL_DEFINE(pidfd_open)
{
	int pid = (int)a->a[0];
	unsigned flags = (unsigned)a->a[1];
	struct task *p;
	struct file *f;
	int64_t start = 0;
	int tgid = 0;
	long r;

	if (flags & ~(unsigned)(LINUX_PIDFD_NONBLOCK | LINUX_PIDFD_THREAD))
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	kernel_lock();
	p = task_lookup(pid);
	if (!p) {
		r = -ESRCH;
	} else if (!(flags & LINUX_PIDFD_THREAD) && p->tg->tgid != pid) {
		r = -ENOENT; /* not a process (a thread group leader) */
	} else {
		tgid = p->tg->tgid;
		start = p->tg->start_time_ns;
		r = 0;
	}
	kernel_unlock();
	if (r < 0)
		return r;
	r = pidfd_create_file(tgid, start, (int)(flags & LINUX_PIDFD_NONBLOCK), &f);
	return r < 0 ? r : install(t, f, true); /* pidfds are always close-on-exec */
}

/* check_kill_permission for a signal from t to tg (as sys_kill.c's): 0 or -EPERM. */
static int pidfd_kill_permission_locked(struct task *t, struct thread_group *tg)
{
	const struct creds *c = &t->cred;
	struct task *leader = task_lookup(tg->tgid);
	const struct creds *tc;

	if (tg == t->tg)
		return 0;
	if (leader && leader->tg == tg)
		tc = &leader->cred;
	else if (!list_empty(&tg->threads))
		tc = &list_entry(tg->threads.next, struct task, tg_link)->cred;
	else
		return 0;
	if (c->euid == 0 || c->euid == tc->suid || c->euid == tc->ruid || c->ruid == tc->suid ||
	    c->ruid == tc->ruid)
		return 0;
	return -EPERM;
}

SYSCALL_DEFINE(pidfd_send_signal)
{
	int sig = (int)a->a[1];
	unsigned flags = (unsigned)a->a[3];
	struct linux_siginfo info;
	struct thread_group *tg;
	struct file *f;
	int err;
	long r;

	if (flags & ~(LINUX_PIDFD_SIGNAL_THREAD | LINUX_PIDFD_SIGNAL_THREAD_GROUP |
		      LINUX_PIDFD_SIGNAL_PROCESS_GROUP))
		return -EINVAL;
	if (flags & (flags - 1))
		return -EINVAL; /* at most one scope */
	if (flags & (LINUX_PIDFD_SIGNAL_THREAD | LINUX_PIDFD_SIGNAL_PROCESS_GROUP))
		return -EINVAL; /* only the whole process can be named here */
	f = sys_fget(t, (int)a->a[0]);
	if (!f)
		return -EBADF;
	if (sig < 0 || sig > LINUX_NSIG) {
		file_put(f);
		return -EINVAL;
	}
	if (a->a[2]) {
		if (copy_in(t->mm, &info, a->a[2], sizeof(info)) < 0) {
			file_put(f);
			return -EFAULT;
		}
		if (info.si_signo != sig) {
			file_put(f);
			return -EINVAL;
		}
	} else {
		siginfo_user(&info, sig, t);
	}
	kernel_lock();
	tg = pidfd_tg_locked(f, &err);
	if (err) {
		r = err;
	} else if (!tg) {
		r = -ESRCH;
	} else if (a->a[2] && tg != t->tg &&
		   (info.si_code >= 0 || info.si_code == LINUX_SI_TKILL)) {
		r = -EPERM; /* only yourself may be sent an arbitrary siginfo */
	} else {
		r = pidfd_kill_permission_locked(t, tg);
		if (r == 0 && sig && tg->state == TG_ALIVE)
			r = signal_send_group_locked(tg, &info);
	}
	kernel_unlock();
	file_put(f);
	return r;
}

/* ---- inotify ---- */

#define ALL_INOTIFY_BITS                                                                           \
	(LINUX_IN_ALL_EVENTS | LINUX_IN_UNMOUNT | LINUX_IN_Q_OVERFLOW | LINUX_IN_IGNORED |         \
	 LINUX_IN_ONLYDIR | LINUX_IN_DONT_FOLLOW | LINUX_IN_EXCL_UNLINK | LINUX_IN_MASK_CREATE |   \
	 LINUX_IN_MASK_ADD | LINUX_IN_ISDIR | LINUX_IN_ONESHOT)

static long do_inotify_init(struct task *t, int flags)
{
	struct file *f;
	int r;

	if (flags & ~(LINUX_IN_CLOEXEC | LINUX_IN_NONBLOCK))
		return -EINVAL;
	r = inotify_create_file(flags, &f);
	return r < 0 ? r : install(t, f, flags & LINUX_IN_CLOEXEC);
}

SYSCALL_DEFINE(inotify_init) { return do_inotify_init(t, 0); }

SYSCALL_DEFINE(inotify_init1) { return do_inotify_init(t, (int)a->a[0]); }

/* The inotify file at fd: NULL with *err -EBADF or -EINVAL (another kind of file). */
static struct file *inotify_get(struct task *t, int fd, long *err)
{
	struct file *f = sys_fget(t, fd);

	*err = -EBADF;
	if (f && !file_is_inotify(f)) {
		file_put(f);
		f = NULL;
		*err = -EINVAL;
	}
	return f;
}

SYSCALL_DEFINE(inotify_add_watch)
{
	uint32_t mask = (uint32_t)a->a[2];
	unsigned lf = 0;
	char *path;
	struct path p;
	struct file *f;
	long r;

	if ((mask & LINUX_IN_MASK_ADD) && (mask & LINUX_IN_MASK_CREATE))
		return -EINVAL;
	if (!(mask & ALL_INOTIFY_BITS))
		return -EINVAL;
	f = inotify_get(t, (int)a->a[0], &r);
	if (!f)
		return r;
	path = malloc(LINUX_PATH_MAX);
	if (!path) {
		file_put(f);
		return -ENOMEM;
	}
	r = sys_get_path(t, a->a[1], path);
	if (r == 0) {
		if (!(mask & LINUX_IN_DONT_FOLLOW))
			lf |= LOOKUP_FOLLOW;
		if (mask & LINUX_IN_ONLYDIR)
			lf |= LOOKUP_DIRECTORY;
		r = vfs_lookup(t, LINUX_AT_FDCWD, path, lf, &p);
	}
	free(path);
	if (r == 0) {
		r = inode_permission(t, p.dentry->inode, MAY_READ);
		if (r == 0)
			r = inotify_add_watch_file(f, &p, mask);
		path_put(&p);
	}
	file_put(f);
	return r;
}

SYSCALL_DEFINE(inotify_rm_watch)
{
	struct file *f;
	long r;

	f = inotify_get(t, (int)a->a[0], &r);
	if (!f)
		return r;
	r = inotify_rm_watch_file(f, (int)a->a[1]);
	file_put(f);
	return r;
}

#define E(name)                                                                                    \
	{                                                                                          \
		LINUX_SYS_##name, sys_##name, NULL                                                 \
	}

const struct syscall_entry sys_event_table[] = {
    E(epoll_create),
    E(epoll_create1),
    {LINUX_SYS_epoll_ctl, sys_epoll_ctl,
     "partial: EPOLLEXCLUSIVE wakes every waiter; no limit on wake-up paths"},
    E(epoll_wait),
    E(epoll_pwait),
    E(epoll_pwait2),
    E(eventfd),
    E(eventfd2),
    {LINUX_SYS_timerfd_create, sys_timerfd_create,
     "partial: the _ALARM clocks fail with EPERM; TFD_TIMER_CANCEL_ON_SET never cancels"},
    E(timerfd_settime),
    E(timerfd_gettime),
    E(signalfd),
    E(signalfd4),
    {LINUX_SYS_memfd_create, sys_memfd_create,
     "partial: MFD_HUGETLB fails with EINVAL; F_SEAL_WRITE does not check existing or new "
     "shared writable mappings"},
    {LINUX_SYS_pidfd_open, sys_pidfd_open, "partial: PIDFD_THREAD names the whole process"},
    {LINUX_SYS_pidfd_send_signal, sys_pidfd_send_signal,
     "partial: PIDFD_SIGNAL_THREAD and PIDFD_SIGNAL_PROCESS_GROUP fail with EINVAL"},
    E(inotify_init),
    E(inotify_init1),
    {LINUX_SYS_inotify_add_watch, sys_inotify_add_watch,
     "partial: IN_DELETE_SELF comes at the last unlink even while the file is open; no "
     "IN_UNMOUNT; events only from inside the sandbox"},
    E(inotify_rm_watch),
    {-1, NULL},
};
