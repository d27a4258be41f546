/* The vDSO's time parameters: the TSC calibrated against the host's clocks, published in the
 * vvar page under a seqcount and refreshed every second by a Sentry thread (as gVisor's
 * kernel/vdso.go and time/calibrated_clock.go do). */
#define _GNU_SOURCE
#include "sentry/kernel/vdso.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"

static bool g_enabled;
static struct vdso_data *g_page; /* set once by vdso_time_start; read without a lock */

/* Does the flags line of /proc/cpuinfo name flag (a whole word)? */
static bool has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n)
		if ((p == flags || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

void vdso_probe_host(void)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "re");
	bool found = false;

	g_enabled = false;
	if (!f) {
		log_warn("vdso: cannot read /proc/cpuinfo (%s): no vDSO, time calls trap",
			 strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		found = true;
		g_enabled = has_flag(line, "constant_tsc") && has_flag(line, "nonstop_tsc");
		break;
	}
	fclose(f);
	if (!g_enabled)
		log_warn("vdso: the host's TSC is not %s: no vDSO, time calls trap",
			 found ? "constant_tsc and nonstop_tsc" : "described");
}

bool vdso_enabled(void) { return g_enabled; }

bool vdso_params_next(struct vdso_params *p, const struct vdso_sample *prev,
		      const struct vdso_sample *now)
{
	int64_t span = now->ns[VDSO_MONOTONIC] - prev->ns[VDSO_MONOTONIC];
	if (now->tsc <= prev->tsc || span <= 0)
		return false;
	uint64_t mult =
	    (uint64_t)(((unsigned __int128)span << VDSO_SHIFT) / (now->tsc - prev->tsc));
	if (!mult)
		return false;

	/* How far the clocks the page shows now are ahead of the host's: its own offset of
	 * MONOTONIC, carried over to the other clocks, so the gaps between the clocks are the
	 * host's. */
	int64_t ahead = 0;
	if (p->ready) {
		ahead = vdso_time_at(p, VDSO_MONOTONIC, now->tsc) - now->ns[VDSO_MONOTONIC];
		if (ahead < 0)
			ahead = 0; /* behind: catch up at once, forwards */
		/* Slow down to meet the host one period later (at most by half). */
		int64_t slow = MIN(ahead, VDSO_PERIOD_NS / 2);
		mult = (uint64_t)(((unsigned __int128)mult * (uint64_t)(VDSO_PERIOD_NS - slow)) /
				  VDSO_PERIOD_NS);
	}
	p->tsc_base = now->tsc;
	p->mult = mult;
	p->shift = VDSO_SHIFT;
	for (int c = 0; c < VDSO_NCLOCKS; c++)
		p->base_ns[c] = now->ns[c] + ahead;
	p->ready = 1;
	return true;
}

/* The seqcount's write side: only this thread writes the page. */
static void publish(struct vdso_data *d, const struct vdso_params *p)
{
	uint32_t s = d->seq;
	__atomic_store_n(&d->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	d->tsc_base = p->tsc_base;
	d->mult = p->mult;
	d->shift = p->shift;
	for (int c = 0; c < VDSO_NCLOCKS; c++)
		d->base_ns[c] = p->base_ns[c];
	d->ready = p->ready;
	__atomic_store_n(&d->seq, s + 2, __ATOMIC_RELEASE);
}

static int64_t host_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The host's clocks and the TSC at (about) the same instant: of a few tries, the one whose
 * TSC readings around the clock reads are closest, at their midpoint. */
static void sample(struct vdso_sample *s)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		struct vdso_sample t;
		uint64_t t0 = vdso_rdtsc();
		t.ns[VDSO_MONOTONIC] = host_ns(CLOCK_MONOTONIC);
		t.ns[VDSO_REALTIME] = host_ns(CLOCK_REALTIME);
		t.ns[VDSO_BOOTTIME] = host_ns(CLOCK_BOOTTIME);
		uint64_t t1 = vdso_rdtsc();
		/* The middle of MONOTONIC's read, the first third of the window; the other
		 * two clocks were read a few tens of nanoseconds later, which their offsets
		 * from MONOTONIC keep. */
		t.tsc = t0 + (t1 - t0) / 6;
		if (t1 - t0 < best) {
			best = t1 - t0;
			*s = t;
		}
	}
}

static void *updater(void *arg)
{
	struct vdso_data *d = arg;
	struct vdso_params p = {0};
	struct vdso_sample prev, now;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	prctl(PR_SET_NAME, "vdso-clock");
	sample(&prev);
	for (int64_t period = VDSO_FIRST_PERIOD_NS;; period = VDSO_PERIOD_NS) {
		struct timespec ts = {period / 1000000000LL, period % 1000000000LL};
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		sample(&now);
		/* how far the published clock had drifted from the host's (debug logs only) */
		int64_t off =
		    p.ready ? vdso_time_at(&p, VDSO_MONOTONIC, now.tsc) - now.ns[VDSO_MONOTONIC]
			    : 0;
		if (vdso_params_next(&p, &prev, &now)) {
			publish(d, &p);
			log_debug("vdso: recalibrated: %.6f GHz, CLOCK_MONOTONIC was %lld ns off",
				  (double)(1ULL << p.shift) / (double)p.mult, (long long)off);
		}
		prev = now;
	}
	return NULL;
}

int vdso_time_start(struct vdso_data *page)
{
	int r = thread_start_detached(NULL, updater, page, 64 << 10, false);

	if (r < 0)
		return r;
	__atomic_store_n(&g_page, page, __ATOMIC_RELEASE);
	return 0;
}

int vdso_clock_ns(int id, int64_t *ns)
{
	const struct vdso_data *d = __atomic_load_n(&g_page, __ATOMIC_ACQUIRE);
	struct vdso_params p;
	int c;

	switch (id) {
	case LINUX_CLOCK_REALTIME:
	case LINUX_CLOCK_REALTIME_COARSE:
		c = VDSO_REALTIME;
		break;
	case LINUX_CLOCK_MONOTONIC:
	case LINUX_CLOCK_MONOTONIC_COARSE:
		c = VDSO_MONOTONIC;
		break;
	case LINUX_CLOCK_BOOTTIME:
		c = VDSO_BOOTTIME;
		break;
	default:
		return -ENOENT;
	}
	if (!d)
		return -ENOENT;
	vdso_read_params(d, &p);
	if (!p.ready)
		return -ENOENT;
	*ns = vdso_time_at(&p, c, vdso_rdtsc());
	return 0;
}
