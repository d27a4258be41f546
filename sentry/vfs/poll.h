/* Waiting for files to become ready: the poll table that poll, ppoll, select and pselect6
 * (sentry/syscalls/sys_poll.c) build from the files' poll ops, and the sleep on it.
 *
 * A poller calls poll_table_file() for each file: the file's poll op answers its ready mask
 * and registers the wait queues (and host fds) whose wake-up may change it. If nothing is
 * ready, poll_table_wait() sleeps until one of them is woken, a registered host fd becomes
 * ready, a signal is pending, or the deadline passes. The table holds a reference on every
 * file it registered, so a file closed by another thread meanwhile cannot free a queue the
 * poller still sits on. */
#ifndef SENTRY_VFS_POLL_H
#define SENTRY_VFS_POLL_H

#include <stdbool.h>
#include <time.h>

#include "common/list.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h"

struct poll_host {
	int fd;
	short events;
};

struct poll_table {
	struct task *t;
	struct file *cur;     /* the file whose poll op runs now (poll_wait's owner) */
	struct list_head wqs; /* struct poll_wq_entry */
	int nwq;
	struct poll_host *host;
	struct file **host_files; /* a reference per host entry */
	int nhost, hostcap;
	bool nomem; /* a registration failed: the wait falls back to short slices */
	/* A table of epoll's (sentry/fs/epoll.c) registers its own way: when qproc is set,
	 * poll_wait() calls qproc(pt, wq) and poll_wait_host() calls qproc_host(pt, fd, events)
	 * (if set), and nothing is recorded in the fields above. priv is theirs. */
	void (*qproc)(struct poll_table *pt, struct waitq *wq);
	void (*qproc_host)(struct poll_table *pt, int host_fd, short events);
	void *priv;
};

/* An empty table for t's poll (t sleeps on it). */
void poll_table_init(struct poll_table *pt, struct task *t);
/* vfs_poll(f, pt) with registrations recorded in pt (pt NULL: a query). The mask returned
 * is the file's; the caller filters it. */
unsigned poll_table_file(struct poll_table *pt, struct file *f);
/* Sleep until something registered in pt is woken or ready, cond(arg) is true (returns 0), a
 * signal is pending for pt->t (-ERESTARTSYS) or the CLOCK_MONOTONIC deadline passes
 * (-ETIMEDOUT; NULL: none). cond is evaluated first and after every wake-up, with no lock
 * held. Called on pt->t's own thread with no Sentry lock held. */
int poll_table_wait(struct poll_table *pt, wait_cond_fn cond, void *arg,
		    const struct timespec *deadline);
/* Unregister everything and drop the file references (pt may be reused after init). */
void poll_table_release(struct poll_table *pt);

#endif
