/* epoll_wait: reporting the ready items (Linux's ep_send_events) and sleeping until one is
 * ready (ep_poll), including the host fds of items whose readiness lives on the host. */
#define _GNU_SOURCE
#include "sentry/fs/epoll_impl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "common/log.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* Report up to maxevents ready items into evs. */
static int ep_send_events(struct eventpoll *ep, struct linux_epoll_event *evs, int maxevents)
{
	struct list_head tx;
	int n = 0;

	pthread_mutex_lock(&ep->mtx);
	ep_start_scan(ep, &tx);
	while (!list_empty(&tx) && n < maxevents) {
		struct epitem *epi = list_entry(tx.next, struct epitem, rdllink);
		uint32_t ev = epi->events;
		unsigned revents = 0;
		bool again = false;

		list_del(&epi->rdllink);
		if (ev & ~EP_PRIVATE_BITS)
			revents = ep_item_poll(epi, false) & ev;
		pthread_mutex_lock(&ep->lock);
		if (revents) {
			evs[n].events = revents;
			evs[n].data = epi->data;
			n++;
			if (ev & LINUX_EPOLLONESHOT)
				__atomic_store_n(&epi->events, ev & EP_PRIVATE_BITS,
						 __ATOMIC_RELAXED);
			else if (!(ev & LINUX_EPOLLET))
				again = true; /* level-triggered: look again next time */
		}
		ep_requeue_locked(ep, epi, again);
		pthread_mutex_unlock(&ep->lock);
	}
	ep_done_scan(ep, &tx);
	pthread_mutex_unlock(&ep->mtx);
	return n;
}

static bool ep_has_ready(void *arg)
{
	struct eventpoll *ep = arg;
	bool r;

	pthread_mutex_lock(&ep->lock);
	r = !list_empty(&ep->rdllist);
	pthread_mutex_unlock(&ep->lock);
	return r;
}

/* ---- sleeping with host fds ---- */

static bool passed(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* A wake-up of ep->wq while its sleeper is in ppoll on host fds: the kick signal ends the
 * ppoll (task_host_wait's way). */
static void ep_kick(struct waitq_entry *e, unsigned key)
{
	(void)key;
	task_kick(e->task);
}

/* The host fds to wait for, with the item each belongs to (named by file and fd, since the
 * item may go while no lock is held). */
struct host_set {
	struct pollfd *pfd;
	struct file **file;
	int *fd;
	int n, cap;
};

static int host_set_add(struct host_set *s, int hfd, short events, struct file *f, int fd)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 4;
		struct pollfd *p = realloc(s->pfd, (size_t)cap * sizeof(*p));
		if (p)
			s->pfd = p;
		struct file **fs = p ? realloc(s->file, (size_t)cap * sizeof(*fs)) : NULL;
		if (fs)
			s->file = fs;
		int *fds = fs ? realloc(s->fd, (size_t)cap * sizeof(*fds)) : NULL;
		if (!fds)
			return -ENOMEM;
		s->fd = fds;
		s->cap = cap;
	}
	s->pfd[s->n] = (struct pollfd){.fd = hfd, .events = events};
	s->file[s->n] = f;
	s->fd[s->n] = fd;
	s->n++;
	return 0;
}

/* Collect the host fds of ep's items, each asked again what it waits for (ep->mtx). */
static int host_set_build(struct eventpoll *ep, struct host_set *s)
{
	struct list_head *p;

	s->n = 0;
	list_for_each(p, &ep->items)
	{
		struct epitem *epi = list_entry(p, struct epitem, link);
		if (!epi->is_host || !(epi->events & ~EP_PRIVATE_BITS))
			continue;
		ep_item_poll(epi, true);
		for (int i = 0; i < epi->nhost; i++) {
			short want = epi->host[i].events & (short)epi->events;
			if (!want)
				continue;
			if (host_set_add(s, epi->host[i].fd, want, epi->file, epi->fd) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Sleep as task_wait would on ep->wq, but also until one of the items' host fds is ready
 * (then that item goes on the ready list). */
static int ep_wait_host(struct task *t, struct eventpoll *ep, const struct timespec *deadline)
{
	struct waitq_entry ent = {.task = t, .func = ep_kick};
	struct host_set hs = {0};
	sigset_t unblocked;
	int r;

	pthread_sigmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SENTRY_KICK_SIGNAL);
	pthread_mutex_lock(&ep->wq.lock);
	list_add_tail(&ent.link, &ep->wq.waiters);
	pthread_mutex_unlock(&ep->wq.lock);
	for (;;) {
		struct timespec rel, now, *relp = NULL;

		if (ep_has_ready(ep)) {
			r = 0;
			break;
		}
		if (signal_pending(t)) {
			r = -LINUX_ERESTARTSYS;
			break;
		}
		if (deadline) {
			if (passed(deadline)) {
				r = -ETIMEDOUT;
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			rel.tv_sec = deadline->tv_sec - now.tv_sec;
			rel.tv_nsec = deadline->tv_nsec - now.tv_nsec;
			if (rel.tv_nsec < 0) {
				rel.tv_sec--;
				rel.tv_nsec += 1000000000L;
			}
			relp = &rel;
		}
		pthread_mutex_lock(&ep->mtx);
		r = host_set_build(ep, &hs);
		pthread_mutex_unlock(&ep->mtx);
		if (r < 0)
			break;
		int n = ppoll(hs.pfd, (nfds_t)hs.n, relp, &unblocked);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (n <= 0)
			continue;
		bool wake = false;
		pthread_mutex_lock(&ep->mtx);
		for (int i = 0; i < hs.n; i++) {
			if (!hs.pfd[i].revents)
				continue;
			struct list_head *p;
			list_for_each(p, &ep->items)
			{
				struct epitem *epi = list_entry(p, struct epitem, link);
				if (epi->file == hs.file[i] && epi->fd == hs.fd[i]) {
					wake |= ep_mark_ready(ep, epi);
					break;
				}
			}
		}
		pthread_mutex_unlock(&ep->mtx);
		if (wake)
			waitq_wake_key(&ep->poll_wq, LINUX_POLLIN | LINUX_POLLRDNORM);
	}
	pthread_mutex_lock(&ep->wq.lock);
	list_del(&ent.link);
	pthread_mutex_unlock(&ep->wq.lock);
	free(hs.pfd);
	free(hs.file);
	free(hs.fd);
	return r;
}

int epoll_wait_file(struct task *t, struct file *f, struct linux_epoll_event *evs, int maxevents,
		    const struct timespec *deadline, bool zero)
{
	struct eventpoll *ep = f->priv;

	for (;;) {
		int n = ep_send_events(ep, evs, maxevents), r;
		bool host;

		if (n > 0 || zero)
			return n;
		pthread_mutex_lock(&ep->mtx);
		host = ep->nhost_items > 0;
		pthread_mutex_unlock(&ep->mtx);
		if (host)
			r = ep_wait_host(t, ep, deadline);
		else
			r = task_wait(t, &ep->wq, ep_has_ready, ep, deadline);
		if (r == -ETIMEDOUT)
			return ep_send_events(ep, evs, maxevents); /* a last look, as Linux */
		if (r == -LINUX_ERESTARTSYS)
			return -EINTR; /* epoll_wait is never restarted */
		if (r < 0)
			return r;
	}
}
