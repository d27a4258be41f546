/* epoll: interest sets over any pollable file and a ready list fed by wake-up callbacks on the
 * watched files' wait queues, after Linux's fs/eventpoll.c.
 *
 * Adding a file registers a callback entry (struct ep_pwq) on every wait queue its poll op
 * names (poll_wait through a table whose qproc is ours). When one of those queues is woken,
 * the callback puts the item on the ready list and wakes the epoll's sleepers; epoll_wait then
 * polls only the items on the ready list, so a wait costs what is ready, not what is watched.
 * Level-triggered items that reported something go back on the list (they are polled again at
 * the next wait), edge-triggered ones do not, one-shot ones are disabled until EPOLL_CTL_MOD.
 * Files whose readiness comes from a host fd (poll_wait_host: host stdio) cannot call back:
 * a wait on an epoll with such items also ppoll()s their host fds (epoll_wait.c).
 *
 * An epoll file is itself pollable (nested epoll): its poll op reports EPOLLIN when one of its
 * ready items really is ready, and its poll_wq is woken whenever an item becomes ready.
 *
 * Locks, outermost first:
 *  - g_ep_nest_mtx: adding an epoll to an epoll (the loop and depth check, Linux's
 *    epnested_mutex).
 *  - ep->mtx: the interest set and each item's registrations; held while the items' poll ops
 *    run (so an item cannot go away under them). A nested epoll's mtx is taken inside its
 *    parent's (the nesting has no loops, so no order inversion).
 *  - a watched file's wait queue lock (the callback runs under it), then
 *  - ep->lock: the ready list and the items' ready state. Nothing is called under it but the
 *    wake-ups of ep->wq/poll_wq, which happen after it is dropped.
 *  - g_ep_file_lock: every file's f_ep chain (a leaf, except that the upward depth walk of
 *    the loop check holds it across the chains).
 * Item lifetime: an item holds no reference on its file; the file's last file_put removes it
 * (eventpoll_release). */
#include "sentry/fs/epoll_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* EPOLLEXCLUSIVE may only come with these (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EXCLUSIVE_OK_BITS                                                                          \
	(LINUX_EPOLLIN | LINUX_EPOLLOUT | LINUX_EPOLLERR | LINUX_EPOLLHUP | LINUX_EPOLLWAKEUP |    \
	 LINUX_EPOLLET | LINUX_EPOLLEXCLUSIVE)

static pthread_mutex_t g_ep_nest_mtx = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_ep_file_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct file_ops ep_fops;

bool file_is_epoll(const struct file *f) { return f->fops == &ep_fops; }

static void ep_get(struct eventpoll *ep) { atomic_fetch_add(&ep->refs, 1); }

static void ep_put(struct eventpoll *ep)
{
	if (atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	free(ep->buckets);
	pthread_mutex_destroy(&ep->mtx);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

/* ---- the item set: a hash of (file, fd) (ep->mtx) ---- */

static size_t ep_hash(const struct eventpoll *ep, const struct file *f, int fd)
{
	uint64_t h = (uint64_t)(uintptr_t)f * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uint32_t)fd;
	h ^= h >> 29;
	return (size_t)(h & (ep->nbuckets - 1));
}

static struct epitem *ep_find(struct eventpoll *ep, const struct file *f, int fd)
{
	for (struct epitem *e = ep->buckets[ep_hash(ep, f, fd)]; e; e = e->hnext)
		if (e->file == f && e->fd == fd)
			return e;
	return NULL;
}

/* Room for one more item: the table doubles when it is full. 0 or -ENOMEM. */
static int ep_hash_grow(struct eventpoll *ep)
{
	struct epitem **old = ep->buckets;
	size_t oldn = ep->nbuckets;

	if (ep->nitems < ep->nbuckets)
		return 0;
	struct epitem **nb = calloc(oldn * 2, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	ep->buckets = nb;
	ep->nbuckets = oldn * 2;
	for (size_t i = 0; i < oldn; i++) {
		struct epitem *e = old[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			size_t h = ep_hash(ep, e->file, e->fd);
			e->hnext = nb[h];
			nb[h] = e;
		}
	}
	free(old);
	return 0;
}

static void ep_hash_del(struct eventpoll *ep, struct epitem *epi)
{
	struct epitem **pp = &ep->buckets[ep_hash(ep, epi->file, epi->fd)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == epi) {
			*pp = epi->hnext;
			return;
		}
	}
}

/* ---- wake-up callbacks and the ready list ---- */

void ep_wake_waiters(struct eventpoll *ep)
{
	waitq_wake(&ep->wq);
	waitq_wake_key(&ep->poll_wq, LINUX_POLLIN | LINUX_POLLRDNORM);
}

bool ep_mark_ready(struct eventpoll *ep, struct epitem *epi)
{
	bool wake = true;

	pthread_mutex_lock(&ep->lock);
	if (!(epi->events & ~EP_PRIVATE_BITS)) {
		wake = false; /* a one-shot item that fired: disabled until EPOLL_CTL_MOD */
	} else if (epi->rstate == RS_NONE) {
		list_add_tail(&epi->rdllink, &ep->rdllist);
		epi->rstate = RS_READY;
	} else if (epi->rstate == RS_TX) {
		epi->requeue = true; /* being reported now: look at it again afterwards */
	}
	pthread_mutex_unlock(&ep->lock);
	return wake;
}

/* Linux's ep_poll_callback, on a watched file's wait queue (its lock held). */
static void ep_wake(struct waitq_entry *e, unsigned key)
{
	struct ep_pwq *pwq = container_of(e, struct ep_pwq, ent);
	struct epitem *epi = pwq->epi;
	struct eventpoll *ep = epi->ep;

	/* events is read without ep->lock: a stale value costs a spurious wake-up at most */
	if (key && !(key & __atomic_load_n(&epi->events, __ATOMIC_RELAXED)))
		return;
	if (ep_mark_ready(ep, epi))
		ep_wake_waiters(ep);
}

/* poll_wait() from the target's poll op while the item is added: one callback entry more. */
static void ep_qproc(struct poll_table *pt, struct waitq *wq)
{
	struct epitem *epi = pt->priv;
	struct ep_pwq *pwq = malloc(sizeof(*pwq));

	if (!pwq) {
		pt->nomem = true;
		return;
	}
	pwq->wq = wq;
	pwq->epi = epi;
	pwq->ent.task = NULL;
	pwq->ent.func = ep_wake;
	pthread_mutex_lock(&wq->lock);
	list_add_tail(&pwq->ent.link, &wq->waiters);
	pthread_mutex_unlock(&wq->lock);
	list_add_tail(&pwq->link, &epi->pwqs);
}

/* poll_wait_host() from the target's poll op: the host fd and the events it is not ready
 * for (ep->mtx held). */
static void ep_qproc_host(struct poll_table *pt, int fd, short events)
{
	struct epitem *epi = pt->priv;

	epi->is_host = true;
	for (int i = 0; i < epi->nhost; i++) {
		if (epi->host[i].fd == fd) {
			epi->host[i].events |= events;
			return;
		}
	}
	if (epi->nhost == epi->hostcap) {
		int cap = epi->hostcap ? epi->hostcap * 2 : 2;
		struct poll_host *h = realloc(epi->host, (size_t)cap * sizeof(*h));
		if (!h) {
			pt->nomem = true;
			return;
		}
		epi->host = h;
		epi->hostcap = cap;
	}
	epi->host[epi->nhost++] = (struct poll_host){fd, events};
}

static void ep_qproc_none(struct poll_table *pt, struct waitq *wq)
{
	(void)pt;
	(void)wq;
}

unsigned ep_item_poll(struct epitem *epi, bool refresh_host)
{
	struct poll_table pt;

	if (!refresh_host || !epi->is_host)
		return vfs_poll(epi->file, NULL);
	/* Ask again which host events to wait for (the queues are registered already). */
	memset(&pt, 0, sizeof(pt));
	pt.qproc = ep_qproc_none;
	pt.qproc_host = ep_qproc_host;
	pt.priv = epi;
	epi->nhost = 0;
	return vfs_poll(epi->file, &pt);
}

/* Take every registration of epi off its queues. After this no callback runs for it. */
static void ep_unregister(struct epitem *epi)
{
	struct list_head *p, *n;

	list_for_each_safe(p, n, &epi->pwqs)
	{
		struct ep_pwq *pwq = list_entry(p, struct ep_pwq, link);
		pthread_mutex_lock(&pwq->wq->lock);
		list_del(&pwq->ent.link);
		pthread_mutex_unlock(&pwq->wq->lock);
		list_del(&pwq->link);
		free(pwq);
	}
}

/* ---- scans of the ready list ---- */

void ep_start_scan(struct eventpoll *ep, struct list_head *tx)
{
	list_init(tx);
	pthread_mutex_lock(&ep->lock);
	while (!list_empty(&ep->rdllist)) {
		struct epitem *epi = list_entry(ep->rdllist.next, struct epitem, rdllink);
		list_del(&epi->rdllink);
		list_add_tail(&epi->rdllink, tx);
		epi->rstate = RS_TX;
		epi->requeue = false;
	}
	pthread_mutex_unlock(&ep->lock);
}

void ep_requeue_locked(struct eventpoll *ep, struct epitem *epi, bool again)
{
	if (again || epi->requeue) {
		list_add_tail(&epi->rdllink, &ep->rdllist);
		epi->rstate = RS_READY;
	} else {
		epi->rstate = RS_NONE;
	}
	epi->requeue = false;
}

void ep_done_scan(struct eventpoll *ep, struct list_head *tx)
{
	bool ready;

	pthread_mutex_lock(&ep->lock);
	/* what the scan did not reach goes back first, in its order */
	while (!list_empty(tx)) {
		struct epitem *epi = list_entry(tx->prev, struct epitem, rdllink);
		list_del(&epi->rdllink);
		list_add(&epi->rdllink, &ep->rdllist);
		epi->rstate = RS_READY;
		epi->requeue = false;
	}
	ready = !list_empty(&ep->rdllist);
	pthread_mutex_unlock(&ep->lock);
	/* others sleeping on it may take what is left (Linux's ep_done_scan) */
	if (ready)
		waitq_wake(&ep->wq);
}

/* ---- adding, changing, removing items (ep->mtx held) ---- */

static void file_chain_add(struct epitem *epi)
{
	struct file *f = epi->file;

	pthread_mutex_lock(&g_ep_file_lock);
	epi->fnext = f->f_ep;
	__atomic_store_n(&f->f_ep, epi, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_ep_file_lock);
}

static void file_chain_del(struct epitem *epi)
{
	struct epitem **pp;

	pthread_mutex_lock(&g_ep_file_lock);
	for (pp = &epi->file->f_ep; *pp; pp = &(*pp)->fnext) {
		if (*pp == epi) {
			__atomic_store_n(pp, epi->fnext, __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_mutex_unlock(&g_ep_file_lock);
}

static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
	ep_unregister(epi);
	file_chain_del(epi);
	ep_hash_del(ep, epi);
	list_del(&epi->link);
	ep->nitems--;
	if (epi->is_host)
		ep->nhost_items--;
	pthread_mutex_lock(&ep->lock);
	if (epi->rstate != RS_NONE)
		list_del(&epi->rdllink);
	pthread_mutex_unlock(&ep->lock);
	free(epi->host);
	free(epi);
}

static int ep_insert(struct eventpoll *ep, const struct linux_epoll_event *ev, struct file *tf,
		     int fd)
{
	struct epitem *epi;
	struct poll_table pt;
	unsigned revents;
	int r;

	r = ep_hash_grow(ep);
	if (r < 0)
		return r;
	epi = calloc(1, sizeof(*epi));
	if (!epi)
		return -ENOMEM;
	list_init(&epi->rdllink);
	list_init(&epi->pwqs);
	epi->ep = ep;
	epi->file = tf;
	epi->fd = fd;
	epi->events = ev->events;
	epi->data = ev->data;

	memset(&pt, 0, sizeof(pt));
	pt.qproc = ep_qproc;
	pt.qproc_host = ep_qproc_host;
	pt.priv = epi;
	revents = vfs_poll(tf, &pt);
	if (pt.nomem) {
		ep_unregister(epi);
		free(epi->host);
		free(epi);
		return -ENOMEM;
	}
	size_t h = ep_hash(ep, tf, fd);
	epi->hnext = ep->buckets[h];
	ep->buckets[h] = epi;
	list_add_tail(&epi->link, &ep->items);
	ep->nitems++;
	if (epi->is_host)
		ep->nhost_items++;
	file_chain_add(epi);
	if ((revents & epi->events) && ep_mark_ready(ep, epi))
		ep_wake_waiters(ep);
	return 0;
}

static void ep_modify(struct eventpoll *ep, struct epitem *epi, const struct linux_epoll_event *ev)
{
	pthread_mutex_lock(&ep->lock);
	__atomic_store_n(&epi->events, ev->events, __ATOMIC_RELAXED);
	epi->data = ev->data;
	pthread_mutex_unlock(&ep->lock);
	/* As Linux: whatever is ready now under the new interest is reported, whatever the
	 * item reported before (so MOD re-arms an edge-triggered or one-shot item). */
	if ((ep_item_poll(epi, false) & ev->events) && ep_mark_ready(ep, epi))
		ep_wake_waiters(ep);
}

/* ---- the loop and depth check (g_ep_nest_mtx held) ---- */

static uint64_t g_loop_gen;
static struct eventpoll *g_inserting_into;

/* How deep the epolls below ep nest (EP_MAX_NESTS + 1: too deep, or ep leads back to the
 * one being added to). */
static int ep_loop_check_proc(struct eventpoll *ep, int depth)
{
	struct list_head *p;
	int result = 0;

	if (ep->gen == g_loop_gen)
		return ep->loop_depth;
	pthread_mutex_lock(&ep->mtx);
	ep->gen = g_loop_gen;
	list_for_each(p, &ep->items)
	{
		struct epitem *epi = list_entry(p, struct epitem, link);
		if (!file_is_epoll(epi->file))
			continue;
		struct eventpoll *to = epi->file->priv;
		if (to == g_inserting_into || depth > EP_MAX_NESTS)
			result = EP_MAX_NESTS + 1;
		else
			result = MAX(result, ep_loop_check_proc(to, depth + 1) + 1);
		if (result > EP_MAX_NESTS)
			break;
	}
	ep->loop_depth = result;
	pthread_mutex_unlock(&ep->mtx);
	return result;
}

/* How many epolls above ep (g_ep_file_lock held). */
static int ep_upwards_depth(struct eventpoll *ep)
{
	int result = 0;

	if (ep->gen == g_loop_gen)
		return ep->loop_depth;
	for (struct epitem *epi = ep->file->f_ep; epi; epi = epi->fnext)
		result = MAX(result, ep_upwards_depth(epi->ep) + 1);
	ep->gen = g_loop_gen;
	ep->loop_depth = result;
	return result;
}

/* May `to` go into ep? 0 or -ELOOP (a cycle, or more than EP_MAX_NESTS levels). */
static int ep_loop_check(struct eventpoll *ep, struct eventpoll *to)
{
	int depth, up;

	g_loop_gen++;
	g_inserting_into = ep;
	depth = ep_loop_check_proc(to, 0);
	g_inserting_into = NULL;
	if (depth > EP_MAX_NESTS)
		return -ELOOP;
	pthread_mutex_lock(&g_ep_file_lock);
	up = ep_upwards_depth(ep);
	pthread_mutex_unlock(&g_ep_file_lock);
	return depth + 1 + up > EP_MAX_NESTS ? -ELOOP : 0;
}

/* ---- epoll_ctl ---- */

int epoll_ctl_file(struct file *epf, int op, int fd, struct file *tf,
		   const struct linux_epoll_event *uev)
{
	struct linux_epoll_event ev = {0};
	struct eventpoll *ep;
	struct epitem *epi;
	bool nested = false;
	int r;

	if (op != LINUX_EPOLL_CTL_DEL)
		ev = *uev;
	/* Linux's order: a target without poll, then the epoll itself, then the flags. */
	if ((tf->fmode & FMODE_PATH) || !tf->fops || !tf->fops->poll)
		return -EPERM;
	if (epf == tf || !file_is_epoll(epf))
		return -EINVAL;
	if (op != LINUX_EPOLL_CTL_DEL && (ev.events & LINUX_EPOLLEXCLUSIVE)) {
		if (op == LINUX_EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == LINUX_EPOLL_CTL_ADD &&
		    (file_is_epoll(tf) || (ev.events & ~EXCLUSIVE_OK_BITS)))
			return -EINVAL;
	}
	ep = epf->priv;
	if (op == LINUX_EPOLL_CTL_ADD && file_is_epoll(tf)) {
		/* New edges between epolls are made one at a time, so the check holds. */
		pthread_mutex_lock(&g_ep_nest_mtx);
		nested = true;
		r = ep_loop_check(ep, tf->priv);
		if (r < 0) {
			pthread_mutex_unlock(&g_ep_nest_mtx);
			return r;
		}
	}
	pthread_mutex_lock(&ep->mtx);
	epi = ep_find(ep, tf, fd);
	switch (op) {
	case LINUX_EPOLL_CTL_ADD:
		if (epi) {
			r = -EEXIST;
			break;
		}
		ev.events |= LINUX_EPOLLERR | LINUX_EPOLLHUP;
		r = ep_insert(ep, &ev, tf, fd);
		break;
	case LINUX_EPOLL_CTL_DEL:
		r = -ENOENT;
		if (epi) {
			ep_remove(ep, epi);
			r = 0;
		}
		break;
	case LINUX_EPOLL_CTL_MOD:
		r = -ENOENT;
		if (epi) {
			r = -EINVAL;
			if (!(epi->events & LINUX_EPOLLEXCLUSIVE)) {
				ev.events |= LINUX_EPOLLERR | LINUX_EPOLLHUP;
				ep_modify(ep, epi, &ev);
				r = 0;
			}
		}
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&ep->mtx);
	if (nested)
		pthread_mutex_unlock(&g_ep_nest_mtx);
	return r;
}

/* ---- files going away ---- */

void eventpoll_release(struct file *f)
{
	for (;;) {
		struct epitem *epi;
		struct eventpoll *ep;

		if (!__atomic_load_n(&f->f_ep, __ATOMIC_ACQUIRE))
			return;
		pthread_mutex_lock(&g_ep_file_lock);
		epi = f->f_ep;
		ep = epi ? epi->ep : NULL;
		if (ep)
			ep_get(ep);
		pthread_mutex_unlock(&g_ep_file_lock);
		if (!ep)
			return;
		/* ep->mtx before the chain lock: look for ep's item again, since it may have
		 * gone (EPOLL_CTL_DEL) while no lock was held. */
		pthread_mutex_lock(&ep->mtx);
		pthread_mutex_lock(&g_ep_file_lock);
		for (epi = f->f_ep; epi && epi->ep != ep; epi = epi->fnext)
			;
		pthread_mutex_unlock(&g_ep_file_lock);
		if (epi)
			ep_remove(ep, epi);
		pthread_mutex_unlock(&ep->mtx);
		ep_put(ep);
	}
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;

	pthread_mutex_lock(&ep->mtx);
	while (!list_empty(&ep->items))
		ep_remove(ep, list_entry(ep->items.next, struct epitem, link));
	pthread_mutex_unlock(&ep->mtx);
	ep_put(ep);
}

/* ---- the epoll file's own readiness (nested epoll, poll(2) on an epoll fd) ---- */

static unsigned ep_file_poll(struct file *f, struct poll_table *pt)
{
	struct eventpoll *ep = f->priv;
	struct list_head tx;
	unsigned res = 0;

	poll_wait(pt, &ep->poll_wq);
	pthread_mutex_lock(&ep->mtx);
	if (ep->nhost_items) {
		/* Items whose readiness is on the host call nobody back: look at them now, and
		 * make the poller wait on their host fds too. */
		struct list_head *p;
		list_for_each(p, &ep->items)
		{
			struct epitem *epi = list_entry(p, struct epitem, link);
			if (!epi->is_host || !(epi->events & ~EP_PRIVATE_BITS))
				continue;
			if (ep_item_poll(epi, pt != NULL) & epi->events)
				ep_mark_ready(ep, epi);
			for (int i = 0; pt && i < epi->nhost; i++)
				poll_wait_host(pt, epi->host[i].fd, epi->host[i].events);
		}
	}
	/* Linux's __ep_eventpoll_poll: an item on the ready list that is not ready after all
	 * leaves it (its next wake-up brings it back). */
	ep_start_scan(ep, &tx);
	while (!list_empty(&tx)) {
		struct epitem *epi = list_entry(tx.next, struct epitem, rdllink);
		if (ep_item_poll(epi, false) & epi->events) {
			res = LINUX_POLLIN | LINUX_POLLRDNORM;
			break;
		}
		pthread_mutex_lock(&ep->lock);
		list_del(&epi->rdllink);
		ep_requeue_locked(ep, epi, false);
		pthread_mutex_unlock(&ep->lock);
	}
	ep_done_scan(ep, &tx);
	pthread_mutex_unlock(&ep->mtx);
	return res;
}

static const struct file_ops ep_fops = {
    .release = ep_release,
    .poll = ep_file_poll,
    .llseek = anon_noop_llseek,
    .path_name = anon_file_path_name,
};

int epoll_create_file(struct file **out)
{
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	int r;

	if (!ep)
		return -ENOMEM;
	ep->nbuckets = 16;
	ep->buckets = calloc(ep->nbuckets, sizeof(*ep->buckets));
	if (!ep->buckets) {
		free(ep);
		return -ENOMEM;
	}
	atomic_init(&ep->refs, 1);
	pthread_mutex_init(&ep->mtx, NULL);
	pthread_mutex_init(&ep->lock, NULL);
	list_init(&ep->rdllist);
	list_init(&ep->items);
	waitq_init(&ep->wq);
	waitq_init(&ep->poll_wq);
	r = anon_file_open("[eventpoll]", &ep_fops, ep, 0, out);
	if (r < 0) {
		ep_put(ep);
		return r;
	}
	ep->file = *out;
	return 0;
}
