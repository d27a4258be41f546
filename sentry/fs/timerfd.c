/* timerfd: timers read as expiration counts, after Linux's fs/timerfd.c.
 *
 * A timer keeps its next expiry on its own clock and counts the expirations lazily: reads,
 * polls and gettime bring the count up to date from the clock (an interval timer that missed
 * n periods counts n). What needs an active party is waking the sleepers when a timer
 * expires: one Sentry thread (the timerfd thread, started with the first armed timer) sleeps
 * until the earliest armed expiry on CLOCK_MONOTONIC and wakes that timer's queue, which
 * reaches blocked reads, poll and epoll alike. (The interval timers of itimer.c signal
 * processes under g_kernel.lock; these only wake queues, so they keep their own thread.)
 *
 * Clocks are the host's: CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME, as the guest sees
 * them through clock_gettime. An absolute CLOCK_REALTIME expiry is converted to the monotonic
 * clock when armed; the sandbox cannot set the clock, so TFD_TIMER_CANCEL_ON_SET never cancels.
 *
 * Locks: timer->lock, then g_tq_lock (the thread's queue). */
#include "sentry/fs/event.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"
#include "common/log.h"
#include "common/thread.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h"

#define NSEC 1000000000LL
#define NS_CAP (INT64_MAX / 4) /* "never" without overflow */

struct timerfd {
	atomic_int refs; /* the file's, and the thread's while it fires the timer */
	pthread_mutex_t lock;
	clockid_t clock; /* the host clock */
	bool armed;
	int64_t exp;	  /* next expiry on clock, ns */
	int64_t interval; /* 0: one-shot */
	uint64_t ticks;	  /* expirations not yet read */
	struct waitq wq;
	/* the timerfd thread's queue (g_tq_lock) */
	struct list_head qlink;
	bool queued;
	int64_t mono_exp;	/* exp on CLOCK_MONOTONIC */
	struct list_head dlink; /* the thread's list of timers it fires now (its own) */
};

static pthread_mutex_t g_tq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_tq_cond; /* on CLOCK_MONOTONIC */
static struct list_head g_tq = LIST_HEAD_INIT(g_tq);
static pthread_once_t g_tq_once = PTHREAD_ONCE_INIT;
static int g_tq_err;

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static int64_t ts_ns(const struct linux_timespec *ts)
{
	if (ts->tv_sec >= NS_CAP / NSEC)
		return NS_CAP;
	return ts->tv_sec * NSEC + ts->tv_nsec;
}

static struct linux_timespec ns_ts(int64_t ns)
{
	struct linux_timespec ts = {.tv_sec = ns / NSEC, .tv_nsec = ns % NSEC};
	return ts;
}

static void tfd_put(struct timerfd *tf)
{
	if (atomic_fetch_sub(&tf->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&tf->lock);
	free(tf);
}

/* Count the expirations up to now (tf->lock held). */
static void tfd_update(struct timerfd *tf, int64_t now)
{
	if (!tf->armed || now < tf->exp)
		return;
	if (tf->interval) {
		uint64_t n = (uint64_t)((now - tf->exp) / tf->interval) + 1;
		tf->ticks += n;
		tf->exp += (int64_t)n * tf->interval;
	} else {
		tf->ticks++;
		tf->armed = false;
	}
}

/* ---- the timerfd thread ---- */

/* Put tf on the thread's queue for its next expiry, or take it off (tf->lock held). */
static void tq_update(struct timerfd *tf)
{
	pthread_mutex_lock(&g_tq_lock);
	if (tf->queued) {
		list_del(&tf->qlink);
		tf->queued = false;
	}
	if (tf->armed) {
		int64_t left = tf->exp - clock_ns(tf->clock);
		tf->mono_exp = clock_ns(CLOCK_MONOTONIC) + (left > 0 ? left : 0);
		list_add_tail(&tf->qlink, &g_tq);
		tf->queued = true;
		pthread_cond_signal(&g_tq_cond);
	}
	pthread_mutex_unlock(&g_tq_lock);
}

static void *tq_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_tq_lock);
	for (;;) {
		int64_t now = clock_ns(CLOCK_MONOTONIC), next = 0;
		struct list_head due, *p, *n;

		list_init(&due);
		list_for_each_safe(p, n, &g_tq)
		{
			struct timerfd *tf = list_entry(p, struct timerfd, qlink);
			if (tf->mono_exp <= now) {
				list_del(&tf->qlink);
				tf->queued = false;
				atomic_fetch_add(&tf->refs, 1);
				list_add_tail(&tf->dlink, &due);
			} else if (!next || tf->mono_exp < next) {
				next = tf->mono_exp;
			}
		}
		if (!list_empty(&due)) {
			pthread_mutex_unlock(&g_tq_lock);
			while (!list_empty(&due)) {
				struct timerfd *tf = list_entry(due.next, struct timerfd, dlink);
				list_del(&tf->dlink);
				pthread_mutex_lock(&tf->lock);
				tfd_update(tf, clock_ns(tf->clock));
				/* not re-queued meanwhile by settime: plan the next period */
				if (!tf->queued)
					tq_update(tf);
				pthread_mutex_unlock(&tf->lock);
				waitq_wake_key(&tf->wq, LINUX_POLLIN | LINUX_POLLRDNORM);
				tfd_put(tf);
			}
			pthread_mutex_lock(&g_tq_lock);
			continue;
		}
		if (next) {
			struct timespec dl = {.tv_sec = next / NSEC, .tv_nsec = next % NSEC};
			pthread_cond_timedwait(&g_tq_cond, &g_tq_lock, &dl);
		} else {
			pthread_cond_wait(&g_tq_cond, &g_tq_lock);
		}
	}
	return NULL;
}

static void tq_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_tq_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* the thread takes no host signal, the kick signal included */
	g_tq_err = -thread_start_detached(NULL, tq_main, NULL, 128 << 10, true);
	if (g_tq_err)
		log_error("timerfd: cannot start the timer thread: %s", strerror(g_tq_err));
}

/* ---- file operations ---- */

static bool tfd_expired(void *arg)
{
	struct timerfd *tf = arg;

	pthread_mutex_lock(&tf->lock);
	tfd_update(tf, clock_ns(tf->clock));
	bool r = tf->ticks > 0;
	pthread_mutex_unlock(&tf->lock);
	return r;
}

static ssize_t tfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct timerfd *tf = f->priv;
	uint64_t v;

	(void)pos;
	if (n < sizeof(v))
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&tf->lock);
		tfd_update(tf, clock_ns(tf->clock));
		v = tf->ticks;
		tf->ticks = 0;
		pthread_mutex_unlock(&tf->lock);
		if (v)
			break;
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		int r = task_wait(current_task, &tf->wq, tfd_expired, tf, NULL);
		if (r < 0)
			return r;
	}
	memcpy(buf, &v, sizeof(v));
	return sizeof(v);
}

static unsigned tfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd *tf = f->priv;

	poll_wait(pt, &tf->wq);
	return tfd_expired(tf) ? LINUX_POLLIN | LINUX_POLLRDNORM : 0;
}

static void tfd_release(struct file *f)
{
	struct timerfd *tf = f->priv;

	pthread_mutex_lock(&tf->lock);
	tf->armed = false;
	tq_update(tf);
	pthread_mutex_unlock(&tf->lock);
	tfd_put(tf);
}

static const struct file_ops tfd_fops = {
    .release = tfd_release,
    .read = tfd_read,
    .poll = tfd_poll,
    .llseek = anon_noop_llseek,
    .path_name = anon_file_path_name,
};

bool file_is_timerfd(const struct file *f) { return f->fops == &tfd_fops; }

int timerfd_create_file(int clockid, int flags, struct file **out)
{
	struct timerfd *tf;
	clockid_t c;
	int r;

	switch (clockid) {
	case LINUX_CLOCK_REALTIME:
		c = CLOCK_REALTIME;
		break;
	case LINUX_CLOCK_MONOTONIC:
		c = CLOCK_MONOTONIC;
		break;
	case LINUX_CLOCK_BOOTTIME:
		c = CLOCK_BOOTTIME;
		break;
	case LINUX_CLOCK_REALTIME_ALARM:
	case LINUX_CLOCK_BOOTTIME_ALARM:
		return -EPERM; /* no CAP_WAKE_ALARM in the sandbox */
	default:
		return -EINVAL;
	}
	tf = calloc(1, sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	atomic_init(&tf->refs, 1);
	pthread_mutex_init(&tf->lock, NULL);
	waitq_init(&tf->wq);
	list_init(&tf->qlink);
	tf->clock = c;
	r = anon_file_open("[timerfd]", &tfd_fops, tf, flags, out);
	if (r < 0)
		tfd_put(tf);
	return r;
}

/* What gettime reports (tf->lock held, counts brought up to date). */
static void tfd_get_locked(struct timerfd *tf, int64_t now, struct linux_itimerspec *cur)
{
	memset(cur, 0, sizeof(*cur));
	if (!tf->armed)
		return;
	int64_t left = tf->exp - now;
	cur->it_value = ns_ts(left > 0 ? left : 1);
	cur->it_interval = ns_ts(tf->interval);
}

void timerfd_gettime_file(struct file *f, struct linux_itimerspec *cur)
{
	struct timerfd *tf = f->priv;
	int64_t now;

	pthread_mutex_lock(&tf->lock);
	now = clock_ns(tf->clock);
	tfd_update(tf, now);
	tfd_get_locked(tf, now, cur);
	pthread_mutex_unlock(&tf->lock);
}

int timerfd_settime_file(struct file *f, int flags, const struct linux_itimerspec *new,
			 struct linux_itimerspec *old)
{
	struct timerfd *tf = f->priv;
	struct linux_itimerspec prev;
	int64_t now, value = ts_ns(&new->it_value);

	pthread_once(&g_tq_once, tq_start);
	if (g_tq_err)
		return -ENOMEM;
	pthread_mutex_lock(&tf->lock);
	now = clock_ns(tf->clock);
	tfd_update(tf, now);
	tfd_get_locked(tf, now, &prev);
	tf->ticks = 0;
	tf->armed = value != 0;
	tf->interval = tf->armed ? ts_ns(&new->it_interval) : 0;
	if (tf->armed) {
		if (flags & LINUX_TFD_TIMER_ABSTIME)
			tf->exp = value;
		else
			tf->exp = value >= NS_CAP - now ? NS_CAP : now + value;
	}
	tq_update(tf);
	pthread_mutex_unlock(&tf->lock);
	if (old)
		*old = prev;
	return 0;
}
