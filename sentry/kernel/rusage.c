/* Resource usage: CPU time of tasks and processes, sampled maximum resident sets, the host's
 * CPUs and the scheduling state a task inherits (see rusage.h for what is approximated). */
#define _GNU_SOURCE /* sched_getcpu */
#include "sentry/kernel/rusage.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/list.h"
#include "common/util.h"
#include "sentry/mm/mm.h"

#define NSEC 1000000000LL

/* ---- the user-time clock ---- */

bool g_rusage_tsc;
static uint64_t g_ref_tsc; /* the TSC and CLOCK_MONOTONIC at rusage_clock_init */
static int64_t g_ref_ns;

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

void rusage_clock_init(void)
{
	unsigned a, b, c, d;

	g_ref_ns = clock_ns(CLOCK_MONOTONIC);
	g_ref_tsc = __builtin_ia32_rdtsc();
	g_rusage_tsc = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

int64_t rusage_ticks_ns(uint64_t ticks)
{
	if (!g_rusage_tsc)
		return (int64_t)ticks;
	/* The rate over the whole time since boot: the two reads' skew (tens of ns) is a
	 * negligible share of it once the sandbox has run for a millisecond. */
	uint64_t dt = __builtin_ia32_rdtsc() - g_ref_tsc;
	int64_t dn = clock_ns(CLOCK_MONOTONIC) - g_ref_ns;
	if (!dt || dn <= 0)
		return 0;
	return (int64_t)((unsigned __int128)ticks * (uint64_t)dn / dt);
}

/* ---- the host's CPUs ---- */

static uint64_t g_cpus[RUSAGE_MAX_CPUS / 64];
static int g_ncpus, g_mask_bytes;
static pthread_once_t g_cpus_once = PTHREAD_ONCE_INIT;

static void cpus_init(void)
{
	unsigned long buf[1024 / (8 * sizeof(unsigned long))];
	long n;

	memset(buf, 0, sizeof(buf));
	/* The raw call returns the host's cpumask_size(), which the sandbox reports too. */
	n = syscall(SYS_sched_getaffinity, 0, sizeof(buf), buf);
	if (n <= 0) {
		g_cpus[0] = 1;
		g_ncpus = 1;
		g_mask_bytes = 8;
		return;
	}
	g_mask_bytes = (int)n;
	for (int c = 0; c < RUSAGE_MAX_CPUS && c < (int)(sizeof(buf) * 8); c++) {
		if (buf[c / (8 * sizeof(unsigned long))] >> (c % (8 * sizeof(unsigned long))) & 1) {
			g_cpus[c / 64] |= 1ULL << (c % 64);
			g_ncpus++;
		}
	}
	if (!g_ncpus) {
		g_cpus[0] = 1;
		g_ncpus = 1;
	}
}

const uint64_t *host_cpu_mask(void)
{
	pthread_once(&g_cpus_once, cpus_init);
	return g_cpus;
}

int host_cpu_count(void)
{
	pthread_once(&g_cpus_once, cpus_init);
	return g_ncpus;
}

int host_cpumask_bytes(void)
{
	pthread_once(&g_cpus_once, cpus_init);
	return g_mask_bytes;
}

static bool mask_has(const uint64_t *mask, int c) { return (mask[c / 64] >> (c % 64)) & 1; }

int host_cpu_list(char *buf, int size)
{
	const uint64_t *m = host_cpu_mask();
	int len = 0;

	if (size > 0)
		buf[0] = '\0';
	for (int c = 0; c < RUSAGE_MAX_CPUS; c++) {
		if (!mask_has(m, c))
			continue;
		int e = c;
		while (e + 1 < RUSAGE_MAX_CPUS && mask_has(m, e + 1))
			e++;
		int n = e == c ? snprintf(buf + len, (size_t)MAX(size - len, 0), "%s%d",
					  len ? "," : "", c)
			       : snprintf(buf + len, (size_t)MAX(size - len, 0), "%s%d-%d",
					  len ? "," : "", c, e);
		if (n < 0 || len + n >= size)
			break;
		len += n;
		c = e;
	}
	return len;
}

int rusage_current_cpu(const uint64_t *mask)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && cpu < RUSAGE_MAX_CPUS && mask_has(mask, cpu))
		return cpu;
	for (int c = 0; c < RUSAGE_MAX_CPUS; c++)
		if (mask_has(mask, c))
			return c;
	return 0;
}

/* ---- scheduling state ---- */

void rusage_task_init(struct task *t, const struct task *parent)
{
	if (!parent) {
		t->nice = 0;
		t->sched_policy = LINUX_SCHED_OTHER;
		memcpy(t->cpu_mask, host_cpu_mask(), sizeof(t->cpu_mask));
		return;
	}
	kernel_lock();
	t->nice = parent->nice;
	t->sched_policy = parent->sched_policy;
	memcpy(t->cpu_mask, parent->cpu_mask, sizeof(t->cpu_mask));
	kernel_unlock();
	/* SCHED_RESET_ON_FORK: the child starts as an ordinary task with a nice of at least 0 */
	if (t->sched_policy & LINUX_SCHED_RESET_ON_FORK) {
		t->sched_policy = LINUX_SCHED_OTHER;
		if (t->nice < 0)
			t->nice = 0;
	}
	atomic_store(&t->utime_ticks, 0);
	atomic_store(&t->spun_ns, 0);
}

/* ---- CPU time ---- */

/* The CPU clock of host thread tid of the Sentry (MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)). */
static int64_t host_thread_cpu_ns(int tid)
{
	if (tid == (int)syscall(SYS_gettid))
		return clock_ns(CLOCK_THREAD_CPUTIME_ID);
	return clock_ns((clockid_t)((~(unsigned)tid) << 3) | 4 | 2);
}

void rusage_task_times_locked(struct task *t, int64_t *utime, int64_t *stime)
{
	int htid = atomic_load(&t->host_tid);
	int64_t cpu = htid > 0 ? host_thread_cpu_ns(htid) : 0;
	int64_t spun = (int64_t)atomic_load(&t->spun_ns);

	*utime = rusage_ticks_ns(atomic_load(&t->utime_ticks));
	*stime = cpu > spun ? cpu - spun : 0;
}

void rusage_tg_times_locked(struct thread_group *tg, int64_t *utime, int64_t *stime)
{
	struct list_head *pos;

	*utime = tg->ru.utime_ns;
	*stime = tg->ru.stime_ns;
	list_for_each(pos, &tg->threads)
	{
		struct task *t = list_entry(pos, struct task, tg_link);
		int64_t u, s;
		if (atomic_load(&t->host_tid) <= 0)
			continue; /* exited (a zombie leader): counted in tg->ru already */
		rusage_task_times_locked(t, &u, &s);
		*utime += u;
		*stime += s;
	}
}

void rusage_thread_exit_locked(struct task *t)
{
	int64_t u, s;

	rusage_task_times_locked(t, &u, &s);
	t->tg->ru.utime_ns += u;
	t->tg->ru.stime_ns += s;
}

uint64_t rusage_mm_rss_kb(struct mm *mm) { return mm ? mm_resident_bytes(mm) / 1024 : 0; }

/*
 * Resident sets measured later. Walking an address space's memory-file ranges costs ~10 us for
 * a small process and ~0.1-1 ms for a compiler; at exit and exec it stood between the process
 * and its parent's wait4 (a shell running a command: twice per command). So the thread that
 * tears the address space down measures it, and the figure joins the maxrss of the process
 * (struct rss_due's tg), or, once that was reaped, its parent's children's maxrss; readers of
 * either wait for it. A due lives from rusage_put_mm to its measurement, at most as long as the
 * teardown's backlog (mm.c: past it, the putter tears down itself).
 */
struct rss_due {
	struct list_head link;	 /* in g_rss_dues, g_kernel.lock */
	struct thread_group *tg; /* whose figure it joins; NULL: nobody's (released unreaped) */
	bool children;		 /* tg's children's maxrss (tg reaped the process) */
};
static struct list_head g_rss_dues = LIST_HEAD_INIT(g_rss_dues);
static pthread_cond_t g_rss_landed = PTHREAD_COND_INITIALIZER; /* with g_kernel.lock */

static void rss_join_locked(struct thread_group *tg, bool children, uint64_t kb)
{
	if (!tg)
		return;
	if (children)
		tg->ru.cmaxrss_kb = MAX(tg->ru.cmaxrss_kb, kb);
	else
		tg->ru.maxrss_kb = MAX(tg->ru.maxrss_kb, kb);
}

/* mm_put_last_then's: on the teardown's thread, without g_kernel.lock. */
static void rss_measure(struct mm *mm, void *arg)
{
	struct rss_due *due = arg;
	uint64_t kb = rusage_mm_rss_kb(mm);

	kernel_lock();
	rss_join_locked(due->tg, due->children, kb);
	list_del(&due->link);
	pthread_cond_broadcast(&g_rss_landed);
	kernel_unlock();
	free(due);
}

void rusage_put_mm(struct task *t, struct mm *mm)
{
	struct rss_due *due = malloc(sizeof(*due));

	if (due) {
		kernel_lock();
		due->tg = t->tg;
		due->children = false;
		list_add_tail(&due->link, &g_rss_dues);
		kernel_unlock();
		if (mm_put_last_then(mm, rss_measure, due))
			return;
		kernel_lock();
		list_del(&due->link);
		kernel_unlock();
		free(due);
	}
	uint64_t kb = rusage_mm_rss_kb(mm); /* shared still (or no memory): now */
	kernel_lock();
	rss_join_locked(t->tg, false, kb);
	kernel_unlock();
	mm_put_later(mm);
}

/* Is a due on its way for tg's own figure (children false) or its children's? */
static bool rss_pending_locked(const struct thread_group *tg, bool children)
{
	struct list_head *pos;

	list_for_each(pos, &g_rss_dues) {
		struct rss_due *due = list_entry(pos, struct rss_due, link);
		if (due->tg == tg && due->children == children)
			return true;
	}
	return false;
}

bool rusage_zombie_pending_locked(struct thread_group *ch)
{
	return rss_pending_locked(ch, false) || rss_pending_locked(ch, true);
}

void rusage_wait_locked(void) { pthread_cond_wait(&g_rss_landed, &g_kernel.lock); }

/* Figures on their way for tg's own maxrss go to to's (children: its children's) instead. */
static void rss_retarget_locked(const struct thread_group *tg, struct thread_group *to,
				bool children)
{
	struct list_head *pos;

	list_for_each(pos, &g_rss_dues) {
		struct rss_due *due = list_entry(pos, struct rss_due, link);
		if (due->tg == tg) {
			due->tg = to;
			due->children = children;
		}
	}
}

void rusage_release_locked(struct thread_group *tg)
{
	rss_retarget_locked(tg, NULL, false);
}

static void put_time(struct linux_timeval *tv, int64_t ns)
{
	tv->tv_sec = ns / NSEC;
	tv->tv_usec = (ns % NSEC) / 1000;
}

int rusage_get(struct task *t, int who, struct linux_rusage *out)
{
	int64_t u = 0, s = 0;
	uint64_t rss = 0;

	memset(out, 0, sizeof(*out));
	if (who != LINUX_RUSAGE_SELF && who != LINUX_RUSAGE_CHILDREN && who != LINUX_RUSAGE_THREAD)
		return -EINVAL;
	if (who != LINUX_RUSAGE_CHILDREN)
		rss = rusage_mm_rss_kb(t->mm); /* before the lock: it takes the mm's */
	kernel_lock();
	struct thread_group *tg = t->tg;
	while (rss_pending_locked(tg, who == LINUX_RUSAGE_CHILDREN))
		rusage_wait_locked();
	switch (who) {
	case LINUX_RUSAGE_SELF:
		rusage_tg_times_locked(tg, &u, &s);
		out->ru_maxrss = (int64_t)MAX(tg->ru.maxrss_kb, rss);
		break;
	case LINUX_RUSAGE_THREAD:
		rusage_task_times_locked(t, &u, &s);
		out->ru_maxrss = (int64_t)MAX(tg->ru.maxrss_kb, rss);
		break;
	case LINUX_RUSAGE_CHILDREN:
		u = tg->ru.cutime_ns;
		s = tg->ru.cstime_ns;
		out->ru_maxrss = (int64_t)tg->ru.cmaxrss_kb;
		break;
	}
	if (who != LINUX_RUSAGE_CHILDREN)
		tg->ru.maxrss_kb = MAX(tg->ru.maxrss_kb, rss);
	kernel_unlock();
	put_time(&out->ru_utime, u);
	put_time(&out->ru_stime, s);
	return 0;
}

void rusage_zombie_locked(struct thread_group *ch, struct linux_rusage *out)
{
	memset(out, 0, sizeof(*out));
	/* every thread has exited: its own totals are complete */
	put_time(&out->ru_utime, ch->ru.utime_ns + ch->ru.cutime_ns);
	put_time(&out->ru_stime, ch->ru.stime_ns + ch->ru.cstime_ns);
	out->ru_maxrss = (int64_t)MAX(ch->ru.maxrss_kb, ch->ru.cmaxrss_kb);
}

void rusage_reap_locked(struct thread_group *parent, struct thread_group *ch)
{
	/* Figures still on their way for ch join its parent's children's. */
	rss_retarget_locked(ch, parent, true);
	parent->ru.cutime_ns += ch->ru.utime_ns + ch->ru.cutime_ns;
	parent->ru.cstime_ns += ch->ru.stime_ns + ch->ru.cstime_ns;
	parent->ru.cmaxrss_kb =
	    MAX(parent->ru.cmaxrss_kb, MAX(ch->ru.maxrss_kb, ch->ru.cmaxrss_kb));
}

/* CPUCLOCK encoding (include/linux/posix-timers_types.h) */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD 4

int rusage_cpu_clock(struct task *t, int64_t clockid, int64_t *ns)
{
	int64_t u = 0, s = 0;
	int pid, which;
	bool thread;
	int r = 0;

	if (clockid == LINUX_CLOCK_PROCESS_CPUTIME_ID) {
		pid = 0;
		which = CPUCLOCK_SCHED;
		thread = false;
	} else if (clockid == LINUX_CLOCK_THREAD_CPUTIME_ID) {
		pid = 0;
		which = CPUCLOCK_SCHED;
		thread = true;
	} else if (clockid < 0 && clockid >= INT32_MIN) {
		pid = (int)~(clockid >> 3);
		which = (int)(clockid & 3);
		thread = clockid & CPUCLOCK_PERTHREAD;
		if (which > CPUCLOCK_SCHED)
			return -EINVAL;
	} else {
		return -ENOENT;
	}
	kernel_lock();
	if (thread) {
		struct task *o = pid ? task_lookup(pid) : t;
		/* only threads of the caller's own process (lookup_task) */
		if (!o || o->tg != t->tg || atomic_load(&o->host_tid) <= 0)
			r = -EINVAL;
		else
			rusage_task_times_locked(o, &u, &s);
	} else {
		/* any thread's id names its process (lookup_task with gettime) */
		struct task *o = pid ? task_lookup(pid) : t;
		struct thread_group *tg = o ? o->tg : NULL;
		if (!tg || tg->state != TG_ALIVE)
			r = -EINVAL;
		else
			rusage_tg_times_locked(tg, &u, &s);
	}
	kernel_unlock();
	if (r < 0)
		return r;
	*ns = which == CPUCLOCK_VIRT ? u : u + s;
	return 0;
}
