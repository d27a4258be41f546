/* Interval timers and alarm. ITIMER_REAL: one Sentry thread sleeps until the earliest armed
 * timer of any thread group and sends SIGALRM (SI_KERNEL, as Linux's it_real_fn).
 * ITIMER_VIRTUAL/ITIMER_PROF: the time a process's threads spend inside ctx_run is charged to
 * them as they come out of it (itimer_user_exit); while one is armed, the timer thread
 * interrupts that process's running threads often enough for the expiry to be seen. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/list.h"
#include "common/log.h"
#include "common/thread.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

#define NSEC 1000000000LL
#define CPU_POLL_MAX_NS (10 * 1000000LL) /* interrupt spinning threads at least this often */
#define CPU_POLL_MIN_NS (1 * 1000000LL)
#define NS_CAP (INT64_MAX / 4)           /* "never" in practice, without overflowing */

/* Signalled (g_kernel.lock held) when a timer changes; waited on with g_kernel.lock. */
static pthread_cond_t g_itimer_cond;
static bool g_itimer_started;

/* The CPU timers of one process. A side table (struct thread_group has room for ITIMER_REAL
 * only); an entry lives from the first arming to the process's exit. g_kernel.lock. */
struct cpu_itimers {
	struct list_head link;
	struct thread_group *tg;
	int64_t left[2];     /* [0] ITIMER_VIRTUAL, [1] ITIMER_PROF; 0 = disarmed */
	int64_t interval[2];
	int64_t next_kick;   /* CLOCK_MONOTONIC ns: when to interrupt its running threads */
};
static struct list_head g_cpu_itimers = LIST_HEAD_INIT(g_cpu_itimers);
/* Is any CPU timer armed? Read without the lock on every ctx_run exit. */
static atomic_int g_cpu_armed;
static __thread uint64_t tls_user_start;

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC + ts->tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / NSEC, .tv_nsec = ns % NSEC};
	return ts;
}

static int64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_ns(&now);
}

static bool real_armed(const struct itimer_real *it)
{
	return it->expires.tv_sec || it->expires.tv_nsec;
}

static struct cpu_itimers *cpu_find(const struct thread_group *tg)
{
	struct list_head *pos;

	list_for_each(pos, &g_cpu_itimers) {
		struct cpu_itimers *c = list_entry(pos, struct cpu_itimers, link);
		if (c->tg == tg)
			return c;
	}
	return NULL;
}

static bool cpu_armed(const struct cpu_itimers *c)
{
	return c->left[0] || c->left[1];
}

static void cpu_free(struct cpu_itimers *c)
{
	if (cpu_armed(c))
		atomic_fetch_sub(&g_cpu_armed, 1);
	list_del(&c->link);
	free(c);
}

/* ---- the timer thread ---- */

struct scan {
	int64_t now;
	int64_t next; /* earliest time to look again, 0 = none */
};

static void scan_next(struct scan *s, int64_t when)
{
	if (!s->next || when < s->next)
		s->next = when;
}

/* Fire tg's ITIMER_REAL if it expired (re-arming an interval timer past now, the missed
 * periods counting as one signal, as Linux's hrtimer_forward), and note the next expiry. */
static int fire_due(struct thread_group *tg, void *arg)
{
	struct scan *s = arg;
	struct itimer_real *it = &tg->itimer;

	if (!real_armed(it))
		return 0;
	if (tg->state != TG_ALIVE || tg->group_exiting) {
		memset(it, 0, sizeof(*it));
		return 0;
	}
	int64_t exp = ts_ns(&it->expires);
	if (exp <= s->now) {
		struct linux_siginfo info;
		int64_t iv = ts_ns(&it->interval);

		siginfo_kernel(&info, LINUX_SIGALRM);
		signal_send_group_locked(tg, &info);
		if (iv <= 0) {
			memset(it, 0, sizeof(*it));
			return 0;
		}
		exp += ((s->now - exp) / iv + 1) * iv;
		it->expires = ns_ts(exp);
	}
	scan_next(s, exp);
	return 0;
}

/* Interrupt the threads of processes with CPU timers that run application code, so that
 * itimer_user_exit charges them; plan the next round from the time left. */
static void kick_cpu_timers(struct scan *s)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &g_cpu_itimers) {
		struct cpu_itimers *c = list_entry(pos, struct cpu_itimers, link);
		struct list_head *tp;
		int running = 0;

		if (c->tg->state != TG_ALIVE) {
			cpu_free(c);
			continue;
		}
		if (!cpu_armed(c))
			continue;
		if (s->now >= c->next_kick) {
			list_for_each(tp, &c->tg->threads) {
				struct task *t = list_entry(tp, struct task, tg_link);
				if (atomic_load(&t->in_user)) {
					task_kick(t);
					running++;
				}
			}
			int64_t left = NS_CAP;
			for (int i = 0; i < 2; i++)
				if (c->left[i] > 0 && c->left[i] < left)
					left = c->left[i];
			/* n running threads use CPU time n times as fast as the clock runs */
			int64_t wait = left / (running ? running : 1);
			if (wait > CPU_POLL_MAX_NS)
				wait = CPU_POLL_MAX_NS;
			if (wait < CPU_POLL_MIN_NS)
				wait = CPU_POLL_MIN_NS;
			c->next_kick = s->now + wait;
		}
		scan_next(s, c->next_kick);
	}
}

static void *itimer_main(void *arg)
{
	(void)arg;
	kernel_lock();
	for (;;) {
		struct scan s = {.now = now_ns()};

		tg_for_each(fire_due, &s);
		kick_cpu_timers(&s);
		if (s.next) {
			struct timespec dl = ns_ts(s.next);
			pthread_cond_timedwait(&g_itimer_cond, &g_kernel.lock, &dl);
		} else {
			pthread_cond_wait(&g_itimer_cond, &g_kernel.lock);
		}
	}
	return NULL;
}

int itimer_init(void)
{
	pthread_condattr_t ca;
	int r;

	if (g_itimer_started)
		return 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_itimer_cond, &ca);
	pthread_condattr_destroy(&ca);

	/* the timer thread takes no host signal, the kick signal included */
	r = thread_start_detached(NULL, itimer_main, NULL, 256 << 10, true);
	if (r < 0)
		return r;
	g_itimer_started = true;
	return 0;
}

void itimer_update_locked(struct thread_group *tg)
{
	if (tg->state != TG_ALIVE) {
		/* A process's end takes its timers; the timer thread need not hear of it (every
		 * exit woke it, often on the other CPU, to take the kernel lock and look at every
		 * process): a wake-up it planned for one of them finds nothing due. */
		struct cpu_itimers *c = cpu_find(tg);
		memset(&tg->itimer, 0, sizeof(tg->itimer));
		if (c)
			cpu_free(c);
		return;
	}
	if (g_itimer_started)
		pthread_cond_signal(&g_itimer_cond);
}

/* ---- getitimer / setitimer ---- */

void itimer_get_locked(struct thread_group *tg, int which, int64_t *value_ns,
		       int64_t *interval_ns)
{
	*value_ns = 0;
	*interval_ns = 0;
	if (which == LINUX_ITIMER_REAL) {
		const struct itimer_real *it = &tg->itimer;
		if (!real_armed(it))
			return;
		int64_t rem = ts_ns(&it->expires) - now_ns();
		*value_ns = rem > 0 ? rem : 1000; /* Linux: an armed timer shows at least 1 us */
		*interval_ns = ts_ns(&it->interval);
		return;
	}
	struct cpu_itimers *c = cpu_find(tg);
	int i = which == LINUX_ITIMER_VIRTUAL ? 0 : 1;
	if (!c || !c->left[i])
		return;
	*value_ns = c->left[i] > 0 ? c->left[i] : 1000;
	*interval_ns = c->interval[i];
}

int itimer_set_locked(struct thread_group *tg, int which, int64_t value_ns, int64_t interval_ns)
{
	if (value_ns > NS_CAP)
		value_ns = NS_CAP;
	if (interval_ns > NS_CAP)
		interval_ns = NS_CAP;
	if (value_ns <= 0)
		value_ns = interval_ns = 0; /* disarm: the interval goes too, as Linux */
	if (interval_ns < 0)
		interval_ns = 0;

	if (which == LINUX_ITIMER_REAL) {
		struct itimer_real *it = &tg->itimer;
		memset(it, 0, sizeof(*it));
		if (value_ns) {
			it->expires = ns_ts(now_ns() + value_ns);
			it->interval = ns_ts(interval_ns);
		}
		itimer_update_locked(tg);
		return 0;
	}

	struct cpu_itimers *c = cpu_find(tg);
	int i = which == LINUX_ITIMER_VIRTUAL ? 0 : 1;
	if (!c) {
		if (!value_ns)
			return 0;
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->tg = tg;
		list_add_tail(&c->link, &g_cpu_itimers);
	}
	bool was = cpu_armed(c);
	c->left[i] = value_ns;
	c->interval[i] = interval_ns;
	c->next_kick = 0;
	if (was != cpu_armed(c))
		atomic_fetch_add(&g_cpu_armed, cpu_armed(c) ? 1 : -1);
	if (g_itimer_started)
		pthread_cond_signal(&g_itimer_cond);
	return 0;
}

/* ---- charging CPU time ---- */

void itimer_user_enter(struct task *t)
{
	(void)t;
	tls_user_start = rusage_clock();
}

void itimer_user_exit(struct task *t)
{
	static const int sigs[2] = {LINUX_SIGVTALRM, LINUX_SIGPROF};

	if (!tls_user_start)
		return;
	uint64_t ticks = rusage_clock() - tls_user_start;
	tls_user_start = 0;
	/* the task's user time (rusage.h): only this thread writes it, so no locked add */
	atomic_store_explicit(&t->utime_ticks,
			      atomic_load_explicit(&t->utime_ticks, memory_order_relaxed) + ticks,
			      memory_order_relaxed);
	if (!atomic_load_explicit(&g_cpu_armed, memory_order_relaxed))
		return;

	int64_t used = rusage_ticks_ns(ticks);
	kernel_lock();
	struct cpu_itimers *c = cpu_find(t->tg);
	if (c && t->tg->state == TG_ALIVE) {
		bool was = cpu_armed(c);
		for (int i = 0; i < 2; i++) {
			if (!c->left[i])
				continue;
			c->left[i] -= used;
			if (c->left[i] > 0)
				continue;
			/* Linux's check_cpu_itimer: one signal, then the next period (which may
			 * already be due: it fires at the next charge) */
			struct linux_siginfo info;
			siginfo_kernel(&info, sigs[i]);
			if (c->interval[i]) {
				c->left[i] += c->interval[i];
				if (!c->left[i])
					c->left[i] = -1;
			} else {
				c->left[i] = 0;
			}
			signal_send_group_locked(t->tg, &info);
		}
		if (was && !cpu_armed(c))
			atomic_fetch_sub(&g_cpu_armed, 1);
	}
	kernel_unlock();
}
