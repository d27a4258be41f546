/* The systrap stub pool: address spaces made ahead of as_create, stub and first thread, by one
 * Sentry thread (the keeper), so that a fork or an exec does not wait for a stub's fork.
 *
 * A pooled stub is what as_create would make at the moment of the call: forked from the Sentry
 * and emptied before it reported ready, its own random cookie and filters, a first thread that
 * has installed filter B and waits in its handler. It has never mapped application memory and
 * is handed out once; nothing of one address space reaches another (docs/platforms.md,
 * "Mapping changes in the thread's own stub"). An unused stub costs a process and its page
 * tables: the pool holds ST_POOL_SIZE of them.
 *
 * A take is the start of a new process (a fork's child, an exec's image) on the taker's CPU:
 * its first run, its first faults and its parent's wake-up follow there within a few hundred
 * microseconds, while the refill it starts (the master's fork, the new stub's boot, its first
 * thread: ~100-150 us of CPU) would be woken onto the same CPU, its waker's. So each take keeps
 * the keeper and the master off the taker's CPU (pairing_keep_away, as for the readahead
 * thread); a new stub inherits the master's mask and gets every CPU back once it is made
 * (pool_make; its application thread is then placed by pairing at its first run). Fork + exit
 * + wait p50 ~385 -> ~265 us; the busybox script 132 -> 119 ms (docs/performance.md).
 */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"

#define ST_POOL_SIZE 2

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* the keeper: a place came free, or quiesce ended */
	pthread_cond_t idle; /* quiesce: the keeper is not making one */
	struct plat_as *ready[ST_POOL_SIZE];
	unsigned n;
	bool started;
	bool busy;   /* the keeper is making one (outside the lock) */
	bool paused; /* plat_systrap_quiesce: make none until the next take */
	pid_t keeper_tid;
	int keeper_away, master_away; /* pairing_keep_away's */
} g_pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

/* A stub and its first thread; NULL when either failed (nothing left behind). */
static struct plat_as *pool_make(void)
{
	struct plat_as *as = st_as_new();
	int r;

	if (!as)
		return NULL;
	if ((r = st_as_first_thread(as)) < 0) {
		log_warn("systrap pool: a first thread: %s", strerror(-r));
		platform_systrap.as_release(as);
		return NULL;
	}
	/* Forked with the master's mask (above), and its control thread pinned where the keeper
	 * runs: every CPU again. Its first thread is placed by pairing at its first run; the
	 * control thread is pinned again by the next control request from another CPU. */
	pairing_free(plat_systrap_as_pid(as));
	return as;
}

static void *keeper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_pool.lock);
	g_pool.keeper_tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		struct plat_as *as;

		while (g_pool.paused || g_pool.n >= ST_POOL_SIZE)
			pthread_cond_wait(&g_pool.wake, &g_pool.lock);
		g_pool.busy = true;
		pthread_mutex_unlock(&g_pool.lock);
		as = pool_make();
		pthread_mutex_lock(&g_pool.lock);
		if (as && g_pool.paused) { /* quiesce came meanwhile */
			pthread_mutex_unlock(&g_pool.lock);
			platform_systrap.as_release(as);
			pthread_mutex_lock(&g_pool.lock);
		} else if (as) {
			g_pool.ready[g_pool.n++] = as;
		} else {
			/* Out of processes or memory: as_create forks its own until a take asks
			 * again. */
			g_pool.paused = true;
		}
		g_pool.busy = false;
		pthread_cond_broadcast(&g_pool.idle);
	}
	return NULL;
}

/* Start the keeper, once. pool lock held. */
static void keeper_start_locked(void)
{
	if (g_pool.started)
		return;
	if (thread_start_detached(NULL, keeper_main, NULL, 64 << 10, false) == 0)
		g_pool.started = true;
	else
		log_warn("systrap pool: no keeper thread: as_create forks its stubs itself");
}

void st_pool_start(void)
{
	pthread_mutex_lock(&g_pool.lock);
	keeper_start_locked();
	pthread_mutex_unlock(&g_pool.lock);
}

struct plat_as *st_pool_take(void)
{
	struct plat_as *as = NULL;

	pthread_mutex_lock(&g_pool.lock);
	keeper_start_locked();
	while (!as && g_pool.n > 0) {
		as = g_pool.ready[--g_pool.n];
		g_pool.ready[g_pool.n] = NULL;
		if (st_stub_gone(as)) { /* killed meanwhile (the host's OOM killer) */
			pthread_mutex_unlock(&g_pool.lock);
			platform_systrap.as_release(as);
			pthread_mutex_lock(&g_pool.lock);
			as = NULL;
		}
	}
	g_pool.paused = false;
	/* The refill away from this CPU, where the new process is about to start (above). */
	pairing_keep_away(g_pool.keeper_tid, &g_pool.keeper_away);
	pairing_keep_away(stub_master_pid(), &g_pool.master_away);
	pthread_cond_signal(&g_pool.wake);
	pthread_mutex_unlock(&g_pool.lock);
	return as;
}

void plat_systrap_quiesce(void)
{
	struct plat_as *drop[ST_POOL_SIZE];
	unsigned n;

	pthread_mutex_lock(&g_pool.lock);
	g_pool.paused = true;
	while (g_pool.busy)
		pthread_cond_wait(&g_pool.idle, &g_pool.lock);
	n = g_pool.n;
	memcpy(drop, g_pool.ready, sizeof(drop));
	g_pool.n = 0;
	pthread_mutex_unlock(&g_pool.lock);
	for (unsigned i = 0; i < n; i++)
		platform_systrap.as_release(drop[i]);
}
