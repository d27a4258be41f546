/* epoll's private types, shared by epoll.c (interest sets, callbacks, epoll_ctl) and
 * epoll_wait.c (reporting and sleeping). See epoll.c for the design and the locks. */
#ifndef SENTRY_FS_EPOLL_IMPL_H
#define SENTRY_FS_EPOLL_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "sentry/fs/event.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/poll.h"
#include "sentry/vfs/vfs_fs.h"

/* At most this many epolls below one another (Linux's EP_MAX_NESTS). */
#define EP_MAX_NESTS 4
/* The bits of an item's events that are flags, not events. */
#define EP_PRIVATE_BITS                                                                            \
	(LINUX_EPOLLWAKEUP | LINUX_EPOLLONESHOT | LINUX_EPOLLET | LINUX_EPOLLEXCLUSIVE)

/* Where an item is: on no list, on the ready list, or on a scan's transfer list. */
enum { RS_NONE, RS_READY, RS_TX };

/* One registration of an item on a wait queue of its file. */
struct ep_pwq {
	struct list_head link;	/* in epitem.pwqs */
	struct waitq_entry ent; /* on wq, func = the epoll callback */
	struct waitq *wq;
	struct epitem *epi;
};

/* One (file, fd) in an interest set. */
struct epitem {
	struct epitem *hnext;	  /* hash chain (ep->mtx) */
	struct list_head link;	  /* in eventpoll.items (ep->mtx) */
	struct epitem *fnext;	  /* the file's f_ep chain (g_ep_file_lock) */
	struct list_head rdllink; /* on the ready or a transfer list (ep->lock) */
	int rstate;		  /* RS_* (ep->lock) */
	bool requeue;		  /* woken while on a transfer list (ep->lock) */
	struct eventpoll *ep;
	struct file *file; /* no reference: the file's last put removes the item */
	int fd;
	uint32_t events; /* changed under ep->mtx and ep->lock */
	uint64_t data;
	struct list_head pwqs; /* struct ep_pwq (ep->mtx) */
	/* host fds the file's poll op named (poll_wait_host), with the events to wait for */
	bool is_host;
	struct poll_host *host;
	int nhost, hostcap;
};

struct eventpoll {
	atomic_int refs; /* the epoll file's, and eventpoll_release's while it works */
	pthread_mutex_t mtx;
	pthread_mutex_t lock;
	struct list_head rdllist; /* ready items (ep->lock) */
	struct list_head items;	  /* every item (ep->mtx) */
	struct epitem **buckets;  /* (file, fd) -> item (ep->mtx) */
	size_t nbuckets, nitems;
	int nhost_items;      /* items with host fds (ep->mtx) */
	struct waitq wq;      /* epoll_wait sleepers */
	struct waitq poll_wq; /* pollers of the epoll file itself */
	struct file *file;    /* the epoll file (no reference) */
	uint64_t gen;	      /* loop check memo (g_ep_nest_mtx) */
	int loop_depth;
};

extern pthread_mutex_t g_ep_file_lock;

/* Wake the epoll_wait sleepers and the pollers of the epoll file. No ep lock held. */
void ep_wake_waiters(struct eventpoll *ep);
/* epi may be ready: put it on the ready list (or mark it for requeueing if a scan has it).
 * Returns whether the waiters should be woken (false for a fired one-shot item). Takes
 * ep->lock. */
bool ep_mark_ready(struct eventpoll *ep, struct epitem *epi);
/* The file's events now (ep->mtx held). refresh_host: also renew the host fds and events to
 * wait for (the file's poll op names the ones not ready now). */
unsigned ep_item_poll(struct epitem *epi, bool refresh_host);

/* A scan of the ready list (ep->mtx held): start moves every ready item to tx (RS_TX); the
 * caller takes items off tx and settles each with ep_requeue_locked; done puts what is left
 * on tx back at the front of the ready list and wakes the sleepers if anything is ready. */
void ep_start_scan(struct eventpoll *ep, struct list_head *tx);
void ep_done_scan(struct eventpoll *ep, struct list_head *tx);
/* An item taken off tx goes back on the ready list (again, or woken meanwhile) or to none.
 * ep->lock held. */
void ep_requeue_locked(struct eventpoll *ep, struct epitem *epi, bool again);

#endif
