/* Poll tables: registering pollers on files' wait queues and host fds, and sleeping on them. */
#define _GNU_SOURCE
#include "sentry/vfs/poll.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>

#include "common/log.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* One registration on a Sentry wait queue. */
struct poll_wq_entry {
	struct list_head link; /* in poll_table.wqs */
	struct waitq_entry ent;
	struct waitq *wq;
	struct file *file; /* a reference: keeps wq alive */
};

/* The poll bits are Linux's and the host's alike (both x86-64 Linux). */
_Static_assert(LINUX_POLLIN == POLLIN && LINUX_POLLOUT == POLLOUT && LINUX_POLLPRI == POLLPRI &&
		   LINUX_POLLERR == POLLERR && LINUX_POLLHUP == POLLHUP &&
		   LINUX_POLLNVAL == POLLNVAL && LINUX_POLLRDHUP == POLLRDHUP,
	       "poll bits");

/* With both queues and host fds to wait for, the sleep is a ppoll on the host fds in slices
 * of this length, since a queue's wake-up cannot interrupt a host call. */
#define MIXED_SLICE_NS (5 * 1000 * 1000L)

unsigned vfs_poll(struct file *f, struct poll_table *pt)
{
	/* O_PATH files have no ops at all: Linux answers the default mask for them too. */
	if ((f->fmode & FMODE_PATH) || !f->fops || !f->fops->poll)
		return VFS_DEFAULT_POLLMASK;
	return f->fops->poll(f, pt);
}

void poll_table_init(struct poll_table *pt, struct task *t)
{
	*pt = (struct poll_table){.t = t};
	list_init(&pt->wqs);
}

void poll_wait(struct poll_table *pt, struct waitq *wq)
{
	struct poll_wq_entry *e;

	if (!pt || !wq)
		return;
	if (pt->qproc) {
		pt->qproc(pt, wq);
		return;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		pt->nomem = true;
		return;
	}
	e->wq = wq;
	e->file = file_get(pt->cur);
	e->ent.task = pt->t;
	e->ent.func = NULL;
	pthread_mutex_lock(&wq->lock);
	list_add_tail(&e->ent.link, &wq->waiters);
	pthread_mutex_unlock(&wq->lock);
	list_add_tail(&e->link, &pt->wqs);
	pt->nwq++;
}

void poll_wait_host(struct poll_table *pt, int host_fd, short events)
{
	if (!pt || host_fd < 0)
		return;
	if (pt->qproc) {
		if (pt->qproc_host)
			pt->qproc_host(pt, host_fd, events);
		return;
	}
	for (int i = 0; i < pt->nhost; i++) {
		if (pt->host[i].fd == host_fd) {
			pt->host[i].events |= events;
			return;
		}
	}
	if (pt->nhost == pt->hostcap) {
		int cap = pt->hostcap ? pt->hostcap * 2 : 4;
		struct poll_host *h = realloc(pt->host, (size_t)cap * sizeof(*h));
		if (h)
			pt->host = h;
		struct file **hf = h ? realloc(pt->host_files, (size_t)cap * sizeof(*hf)) : NULL;
		if (!h || !hf) {
			pt->nomem = true;
			return;
		}
		pt->host_files = hf;
		pt->hostcap = cap;
	}
	pt->host[pt->nhost] = (struct poll_host){host_fd, events};
	pt->host_files[pt->nhost] = file_get(pt->cur);
	pt->nhost++;
}

unsigned poll_table_file(struct poll_table *pt, struct file *f)
{
	unsigned mask;

	if (!pt)
		return vfs_poll(f, NULL);
	pt->cur = f;
	mask = vfs_poll(f, pt);
	pt->cur = NULL;
	return mask;
}

void poll_table_release(struct poll_table *pt)
{
	struct list_head *p, *n;

	list_for_each_safe(p, n, &pt->wqs)
	{
		struct poll_wq_entry *e = list_entry(p, struct poll_wq_entry, link);
		pthread_mutex_lock(&e->wq->lock);
		list_del(&e->ent.link);
		pthread_mutex_unlock(&e->wq->lock);
		file_put(e->file);
		free(e);
	}
	list_init(&pt->wqs);
	for (int i = 0; i < pt->nhost; i++)
		file_put(pt->host_files[i]);
	free(pt->host);
	free(pt->host_files);
	pt->host = NULL;
	pt->host_files = NULL;
	pt->nwq = pt->nhost = pt->hostcap = 0;
}

static bool passed(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* The sleep when host fds are registered: ppoll on them with the kick signal unblocked (as
 * task_host_wait), so a signal for the task ends it at once; in slices when Sentry queues are
 * registered too (or a registration failed). */
static int host_wait(struct poll_table *pt, wait_cond_fn cond, void *arg,
		     const struct timespec *deadline)
{
	struct pollfd *pfd = calloc((size_t)pt->nhost, sizeof(*pfd));
	bool sliced = pt->nwq > 0 || pt->nomem;
	sigset_t unblocked;
	int r;

	if (!pfd)
		return -ENOMEM;
	for (int i = 0; i < pt->nhost; i++)
		pfd[i] = (struct pollfd){.fd = pt->host[i].fd, .events = pt->host[i].events};
	pthread_sigmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SENTRY_KICK_SIGNAL);
	for (;;) {
		struct timespec rel = {0, MIXED_SLICE_NS}, now, *relp = sliced ? &rel : NULL;

		if (cond && cond(arg)) {
			r = 0;
			break;
		}
		if (signal_pending(pt->t)) {
			r = -LINUX_ERESTARTSYS;
			break;
		}
		if (deadline) {
			if (passed(deadline)) {
				r = -ETIMEDOUT;
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			struct timespec left = {deadline->tv_sec - now.tv_sec,
						deadline->tv_nsec - now.tv_nsec};
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (!relp || left.tv_sec < rel.tv_sec ||
			    (left.tv_sec == rel.tv_sec && left.tv_nsec < rel.tv_nsec))
				rel = left;
			relp = &rel;
		}
		if (ppoll(pfd, (nfds_t)pt->nhost, relp, &unblocked) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	free(pfd);
	return r;
}

int poll_table_wait(struct poll_table *pt, wait_cond_fn cond, void *arg,
		    const struct timespec *deadline)
{
	if (pt->nhost > 0)
		return host_wait(pt, cond, arg, deadline);
	if (pt->nomem) {
		/* Some queue is missing: wake up now and then to look again. */
		for (;;) {
			struct timespec d;
			struct timespec rel = {0, MIXED_SLICE_NS};
			deadline_after(&d, &rel);
			if (deadline &&
			    (d.tv_sec > deadline->tv_sec ||
			     (d.tv_sec == deadline->tv_sec && d.tv_nsec > deadline->tv_nsec)))
				d = *deadline;
			int r = task_wait(pt->t, NULL, cond, arg, &d);
			if (r != -ETIMEDOUT || (deadline && passed(deadline)))
				return r;
		}
	}
	/* The entries are already on their queues: a wake bumps the task's wake counter, so
	 * task_wait with no queue of its own sleeps until one of them fires. */
	return task_wait(pt->t, NULL, cond, arg, deadline);
}
