/* Wait queues and interruptible sleeps (see wait.h). */
#define _GNU_SOURCE
#include "sentry/kernel/wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "platform/pairing.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

void waitq_init(struct waitq *wq)
{
	pthread_mutex_init(&wq->lock, NULL);
	list_init(&wq->waiters);
}

/* Bump t's wake counter and wake its host thread if it sleeps on its condition variable. */
void task_wake(struct task *t)
{
	pthread_mutex_lock(&t->wlock);
	t->wake_seq++;
	pthread_cond_signal(&t->wcond);
	pthread_mutex_unlock(&t->wlock);
}

void waitq_wake_key(struct waitq *wq, unsigned key)
{
	struct list_head *pos;

	pthread_mutex_lock(&wq->lock);
	list_for_each(pos, &wq->waiters)
	{
		struct waitq_entry *e = list_entry(pos, struct waitq_entry, link);
		if (e->func)
			e->func(e, key);
		else
			task_wake(e->task);
	}
	pthread_mutex_unlock(&wq->lock);
}

void waitq_wake(struct waitq *wq) { waitq_wake_key(wq, 0); }

void deadline_after(struct timespec *out, const struct timespec *rel)
{
	clock_gettime(CLOCK_MONOTONIC, out);
	out->tv_sec += rel->tv_sec;
	out->tv_nsec += rel->tv_nsec;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

static bool deadline_passed(const struct timespec *d)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* The task is about to sleep in the Sentry, or is back from it (pairing.h counts the
 * application threads that are not; the platform stops waiting actively for this one). */
static void task_sleeps(struct task *t)
{
	if (t->ctx && t->plat->ctx_blocking)
		t->plat->ctx_blocking(t->ctx);
	pairing_active(-1);
}

int task_wait_multi(struct task *t, struct waitq **wqs, int nwq, wait_cond_fn cond, void *arg,
		    const struct timespec *deadline)
{
	struct waitq_entry ent[8];
	int r = 0;

	if (nwq > 8)
		return -EINVAL;
	for (int i = 0; i < nwq; i++) {
		ent[i].task = t;
		ent[i].func = NULL;
		pthread_mutex_lock(&wqs[i]->lock);
		list_add_tail(&ent[i].link, &wqs[i]->waiters);
		pthread_mutex_unlock(&wqs[i]->lock);
	}
	for (;;) {
		pthread_mutex_lock(&t->wlock);
		uint64_t seq = t->wake_seq;
		pthread_mutex_unlock(&t->wlock);

		if (cond && cond(arg)) {
			r = 0;
			break;
		}
		if (signal_pending(t)) {
			r = -LINUX_ERESTARTSYS;
			break;
		}
		if (deadline && deadline_passed(deadline)) {
			r = -ETIMEDOUT;
			break;
		}
		task_sleeps(t);
		pthread_mutex_lock(&t->wlock);
		while (t->wake_seq == seq) {
			if (deadline) {
				/* wcond runs on CLOCK_MONOTONIC (task.c initialises it so) */
				if (pthread_cond_timedwait(&t->wcond, &t->wlock, deadline) ==
				    ETIMEDOUT)
					break;
			} else {
				pthread_cond_wait(&t->wcond, &t->wlock);
			}
		}
		pthread_mutex_unlock(&t->wlock);
		pairing_active(1);
	}
	for (int i = 0; i < nwq; i++) {
		pthread_mutex_lock(&wqs[i]->lock);
		list_del(&ent[i].link);
		pthread_mutex_unlock(&wqs[i]->lock);
	}
	return r;
}

int task_wait(struct task *t, struct waitq *wq, wait_cond_fn cond, void *arg,
	      const struct timespec *deadline)
{
	return task_wait_multi(t, wq ? &wq : NULL, wq ? 1 : 0, cond, arg, deadline);
}

int task_host_wait(struct task *t, int fd, short events, const struct timespec *deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	sigset_t unblocked;

	/* The kick signal is blocked in every Sentry thread except inside this ppoll. */
	pthread_sigmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SENTRY_KICK_SIGNAL);
	for (;;) {
		struct timespec rel, now, *relp = NULL;

		if (signal_pending(t))
			return -LINUX_ERESTARTSYS;
		if (deadline) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			rel.tv_sec = deadline->tv_sec - now.tv_sec;
			rel.tv_nsec = deadline->tv_nsec - now.tv_nsec;
			if (rel.tv_nsec < 0) {
				rel.tv_sec--;
				rel.tv_nsec += 1000000000L;
			}
			if (rel.tv_sec < 0)
				return -ETIMEDOUT;
			relp = &rel;
		}
		task_sleeps(t);
		int n = ppoll(&p, 1, relp, &unblocked);
		pairing_active(1);
		if (n > 0)
			return p.revents;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}
