/* Blocking inside the Sentry: wait queues and interruptible sleeps.
 *
 * A task that must block (pipe empty, wait4 with no zombie, futex, sleep) waits on a wait queue
 * until a condition holds, a signal is pending for it, or a deadline passes. Whoever changes the
 * condition calls waitq_wake(). Signal delivery kicks the task (task_kick in task.h), which ends
 * any of these waits with -ERESTARTSYS (the run loop turns that into EINTR or a restart, as Linux).
 *
 * Lost wake-ups are impossible: a waiter registers on the queue and snapshots its wake counter
 * before it tests the condition, and a wake bumps the counter under the waiter's lock.
 */
#ifndef SENTRY_KERNEL_WAIT_H
#define SENTRY_KERNEL_WAIT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "abi/errno.h"
#include "common/list.h"

struct task;

/* The host signal that kicks a Sentry thread out of a blocking host call (task_host_wait).
 * Blocked in every Sentry thread except inside ppoll; its handler does nothing. */
#define SENTRY_KICK_SIGNAL SIGURG

struct waitq {
	pthread_mutex_t lock;
	struct list_head waiters; /* struct waitq_entry */
};

struct waitq_entry {
	struct list_head link;
	struct task *task;
	/* NULL: a wake-up wakes task (task_wake). Otherwise a wake-up calls func instead (task is
	 * then unused): epoll's registrations on the queues of the files it watches. func runs
	 * with the queue's lock held and gets the wake's key (LINUX_POLL* bits that may have
	 * changed, 0 = unspecified); it must not sleep nor touch this queue's lock. */
	void (*func)(struct waitq_entry *e, unsigned key);
};

#define WAITQ_INIT(name) {PTHREAD_MUTEX_INITIALIZER, LIST_HEAD_INIT((name).waiters)}
void waitq_init(struct waitq *wq);
/* Bump t's wake counter and wake it if it sleeps in task_wait (not a kick: no interrupt). */
void task_wake(struct task *t);
/* Wake every task waiting on wq (they re-test their conditions). Any thread, no locks needed. */
void waitq_wake(struct waitq *wq);
/* The same, saying which LINUX_POLL* events may have changed (0: any): callback entries (epoll)
 * whose interest does not meet key may skip the wake-up; tasks are always woken. */
void waitq_wake_key(struct waitq *wq, unsigned key);

/* Condition tested by task_wait: true when the wait is over. Called without the waitq lock. */
typedef bool (*wait_cond_fn)(void *arg);

/* Block t until cond(arg) is true (returns 0), a signal is pending (-ERESTARTSYS), or the
 * CLOCK_MONOTONIC deadline passes (-ETIMEDOUT; NULL = none). wq may be NULL (sleep until a
 * signal or the deadline). Called from t's own host thread with no Sentry locks held.
 * Several queues: call task_wait_multi. */
int task_wait(struct task *t, struct waitq *wq, wait_cond_fn cond, void *arg,
	      const struct timespec *deadline);
int task_wait_multi(struct task *t, struct waitq **wqs, int nwq, wait_cond_fn cond, void *arg,
		    const struct timespec *deadline);

/* Host I/O that may block (a read on the caller's terminal): wait until host fd is ready for
 * events (POLLIN/POLLOUT), a signal is pending (-ERESTARTSYS) or the deadline passes
 * (-ETIMEDOUT). Returns the revents (> 0) otherwise. Uses ppoll with the Sentry's kick signal
 * unblocked, so a kick cannot be lost between the check and the sleep. */
int task_host_wait(struct task *t, int fd, short events, const struct timespec *deadline);

/* Deadline helpers: now + rel on CLOCK_MONOTONIC. */
void deadline_after(struct timespec *out, const struct timespec *rel);

#endif
