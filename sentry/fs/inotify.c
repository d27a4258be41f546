/* inotify: watches on inodes and queues of events read as struct inotify_event records, fed
 * by the VFS's hooks (sentry/vfs/fsnotify.h), after Linux's fs/notify/inotify.
 *
 * A watch belongs to one inotify instance and one inode, found through a small hash table
 * keyed by the inode; it holds a reference on the dentry it was added through, so the inode
 * (and an overlay's inode, which lives as long as its dentry) stays the one the hooks see.
 * An event for an inode is queued on every instance with a watch on it whose mask asks for
 * it; events about a directory's entries (create, delete, moves) and about files in it
 * (modify, attrib, open, close, access) also go to the directory's watches, with the name.
 * Consecutive identical events merge, and past max_queued_events (16384) one IN_Q_OVERFLOW
 * stands for the rest, as Linux.
 *
 * Locks: g_in_lock (the table, every watch list, wd numbering), then an instance's lock (its
 * queue), then its wait queue's. Hooks may run with directory locks held: no VFS lock is
 * taken under g_in_lock, and dentry references are dropped after it is released. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"
#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fsnotify.h"

#define IN_MAX_QUEUED 16384 /* /proc/sys/fs/inotify/max_queued_events */
#define IN_EVENT_SIZE 16    /* struct inotify_event without its name */
#define IN_NBUCKETS 256
/* The events Linux also reports to the parent directory of the file concerned. */
#define IN_PARENT_EVENTS                                                                           \
	(LINUX_IN_ACCESS | LINUX_IN_MODIFY | LINUX_IN_ATTRIB | LINUX_IN_CLOSE_WRITE |              \
	 LINUX_IN_CLOSE_NOWRITE | LINUX_IN_OPEN)

atomic_int fsnotify_nwatches;

struct in_event {
	struct list_head link;
	int32_t wd;
	uint32_t mask, cookie;
	uint32_t len; /* the name's size with its NUL padding (a multiple of 16), 0: no name */
	char name[];
};

struct inotify {
	pthread_mutex_t lock;	 /* events, nevents, bytes */
	struct list_head events; /* struct in_event, oldest first */
	size_t nevents, bytes;
	struct list_head watches; /* struct in_watch.ilink (g_in_lock) */
	int last_wd;		  /* (g_in_lock) */
	struct waitq wq;
};

struct in_inode;

struct in_watch {
	struct list_head ilink; /* in inotify.watches */
	struct list_head nlink; /* in in_inode.watches */
	struct inotify *in;
	struct in_inode *ii;
	struct dentry *dentry; /* a reference */
	int wd;
	uint32_t mask;
};

/* The watches on one inode. */
struct in_inode {
	struct in_inode *hnext;
	const struct inode *inode;
	struct list_head watches;
};

static pthread_mutex_t g_in_lock = PTHREAD_MUTEX_INITIALIZER;
static struct in_inode *g_in_table[IN_NBUCKETS];
static atomic_uint g_cookie;

static const struct file_ops in_fops;

bool file_is_inotify(const struct file *f) { return f->fops == &in_fops; }

uint32_t fsnotify_cookie(void) { return atomic_fetch_add(&g_cookie, 1) + 1; }

static struct in_inode **bucket(const struct inode *inode)
{
	uint64_t h = (uint64_t)(uintptr_t)inode * 0x9e3779b97f4a7c15ULL;
	return &g_in_table[(h >> 32) % IN_NBUCKETS];
}

static struct in_inode *ii_find(const struct inode *inode)
{
	for (struct in_inode *ii = *bucket(inode); ii; ii = ii->hnext)
		if (ii->inode == inode)
			return ii;
	return NULL;
}

/* ---- queues ---- */

/* Queue one event on in (g_in_lock held). */
static void queue_event(struct inotify *in, int wd, uint32_t mask, uint32_t cookie,
			const char *name)
{
	size_t namelen = name ? strlen(name) : 0;
	uint32_t len =
	    name ? (uint32_t)((namelen + 1 + IN_EVENT_SIZE - 1) & ~(IN_EVENT_SIZE - 1)) : 0;
	struct in_event *e;

	pthread_mutex_lock(&in->lock);
	if (in->nevents >= IN_MAX_QUEUED) {
		e = list_empty(&in->events) ? NULL
					    : list_entry(in->events.prev, struct in_event, link);
		if (e && e->mask == LINUX_IN_Q_OVERFLOW) {
			pthread_mutex_unlock(&in->lock);
			return;
		}
		wd = -1;
		mask = LINUX_IN_Q_OVERFLOW;
		cookie = 0;
		name = NULL;
		len = 0;
	} else if (!list_empty(&in->events)) {
		/* Linux merges an event identical to the last one queued */
		e = list_entry(in->events.prev, struct in_event, link);
		if (e->wd == wd && e->mask == mask && e->cookie == cookie && e->len == len &&
		    (!len || strcmp(e->name, name) == 0)) {
			pthread_mutex_unlock(&in->lock);
			return;
		}
	}
	e = calloc(1, sizeof(*e) + len);
	if (!e) {
		pthread_mutex_unlock(&in->lock);
		log_warn("inotify: event dropped: out of memory");
		return;
	}
	e->wd = wd;
	e->mask = mask;
	e->cookie = cookie;
	e->len = len;
	if (len)
		memcpy(e->name, name, namelen);
	list_add_tail(&e->link, &in->events);
	in->nevents++;
	in->bytes += IN_EVENT_SIZE + len;
	pthread_mutex_unlock(&in->lock);
	waitq_wake_key(&in->wq, LINUX_POLLIN | LINUX_POLLRDNORM);
}

/* A list of dentries to put once g_in_lock is dropped. */
struct put_list {
	struct dentry **d;
	size_t n, cap;
};

static void put_later(struct put_list *pl, struct dentry *d)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 4;
		struct dentry **nd = realloc(pl->d, cap * sizeof(*nd));
		if (!nd) {
			/* cannot defer: leak the reference rather than risk a lock inversion */
			log_warn("inotify: out of memory dropping a watch");
			return;
		}
		pl->d = nd;
		pl->cap = cap;
	}
	pl->d[pl->n++] = d;
}

static void put_now(struct put_list *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		dput(pl->d[i]);
	free(pl->d);
	pl->d = NULL;
	pl->n = pl->cap = 0;
}

/* Remove w (g_in_lock held), telling its instance with IN_IGNORED when ignored. */
static void watch_remove(struct in_watch *w, bool ignored, struct put_list *pl)
{
	struct in_inode *ii = w->ii;

	if (ignored)
		queue_event(w->in, w->wd, LINUX_IN_IGNORED, 0, NULL);
	list_del(&w->ilink);
	list_del(&w->nlink);
	if (list_empty(&ii->watches)) {
		struct in_inode **pp = bucket(ii->inode);
		for (; *pp; pp = &(*pp)->hnext) {
			if (*pp == ii) {
				*pp = ii->hnext;
				break;
			}
		}
		free(ii);
	}
	put_later(pl, w->dentry);
	free(w);
	atomic_fetch_sub(&fsnotify_nwatches, 1);
}

/* Queue mask on every watch of inode that asks for it (g_in_lock held). */
static void deliver_locked(const struct inode *inode, uint32_t mask, const char *name,
			   uint32_t cookie, struct put_list *pl)
{
	struct in_inode *ii = inode ? ii_find(inode) : NULL;
	struct list_head *p, *n;

	if (!ii)
		return;
	list_for_each_safe(p, n, &ii->watches)
	{
		struct in_watch *w = list_entry(p, struct in_watch, nlink);
		if (!(mask & w->mask & LINUX_IN_ALL_EVENTS))
			continue;
		queue_event(w->in, w->wd, mask, cookie, name);
		if (w->mask & LINUX_IN_ONESHOT)
			watch_remove(w, true, pl);
		/* the watch list may have gone with its last watch */
		if (!ii_find(inode))
			break;
	}
}

static uint32_t isdir_bit(const struct inode *inode)
{
	return inode && LINUX_S_ISDIR(inode->mode) ? LINUX_IN_ISDIR : 0;
}

/* ---- the VFS hooks' slow paths ---- */

void fsnotify_dentry_event(struct dentry *d, uint32_t mask)
{
	struct put_list pl = {0};
	struct dentry *parent = dget_parent(d);
	char name[LINUX_NAME_MAX + 1];
	bool named = false;

	mask |= isdir_bit(d->inode);
	if (parent != d && (mask & IN_PARENT_EVENTS)) {
		pthread_rwlock_rdlock(&vfs_tree_lock);
		if (d->parent == parent && d->namelen < sizeof(name)) {
			memcpy(name, d->name, d->namelen + 1);
			named = true;
		}
		pthread_rwlock_unlock(&vfs_tree_lock);
	}
	pthread_mutex_lock(&g_in_lock);
	/* the directory's event first, then the file's own (Linux's fsnotify_handle_event) */
	if (named)
		deliver_locked(parent->inode, mask, name, 0, &pl);
	deliver_locked(d->inode, mask, NULL, 0, &pl);
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
	dput(parent);
}

void fsnotify_name_event(struct inode *dir, uint32_t mask, const char *name,
			 const struct inode *child, uint32_t cookie)
{
	struct put_list pl = {0};

	pthread_mutex_lock(&g_in_lock);
	deliver_locked(dir, mask | isdir_bit(child), name, cookie, &pl);
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
}

void fsnotify_inode_event(struct inode *inode, uint32_t mask)
{
	struct put_list pl = {0};

	/* no IN_ISDIR here: Linux reports MOVE_SELF and DELETE_SELF of a directory without */
	pthread_mutex_lock(&g_in_lock);
	deliver_locked(inode, mask, NULL, 0, &pl);
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
}

void fsnotify_inode_removed(struct inode *inode)
{
	struct put_list pl = {0};
	struct in_inode *ii;

	pthread_mutex_lock(&g_in_lock);
	deliver_locked(inode, LINUX_IN_DELETE_SELF, NULL, 0, &pl);
	while ((ii = ii_find(inode)))
		watch_remove(list_entry(ii->watches.next, struct in_watch, nlink), true, &pl);
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
}

/* ---- watches ---- */

int inotify_add_watch_file(struct file *f, const struct path *p, uint32_t mask)
{
	struct inotify *in = f->priv;
	struct inode *inode = p->dentry->inode;
	uint32_t want = mask & (LINUX_IN_ALL_EVENTS | LINUX_IN_ONESHOT | LINUX_IN_EXCL_UNLINK);
	struct in_inode *ii;
	struct in_watch *w = NULL;
	struct list_head *pos;
	int r;

	pthread_mutex_lock(&g_in_lock);
	ii = ii_find(inode);
	if (ii) {
		list_for_each(pos, &ii->watches)
		{
			struct in_watch *x = list_entry(pos, struct in_watch, nlink);
			if (x->in == in) {
				w = x;
				break;
			}
		}
	}
	if (w) {
		if (mask & LINUX_IN_MASK_CREATE) {
			r = -EEXIST;
		} else {
			w->mask = (mask & LINUX_IN_MASK_ADD) ? w->mask | want : want;
			r = w->wd;
		}
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		r = -ENOMEM;
		goto out;
	}
	if (!ii) {
		ii = calloc(1, sizeof(*ii));
		if (!ii) {
			free(w);
			r = -ENOMEM;
			goto out;
		}
		ii->inode = inode;
		list_init(&ii->watches);
		ii->hnext = *bucket(inode);
		*bucket(inode) = ii;
	}
	w->in = in;
	w->ii = ii;
	w->dentry = dget(p->dentry);
	w->wd = ++in->last_wd;
	w->mask = want;
	list_add_tail(&w->nlink, &ii->watches);
	list_add_tail(&w->ilink, &in->watches);
	atomic_fetch_add(&fsnotify_nwatches, 1);
	r = w->wd;
out:
	pthread_mutex_unlock(&g_in_lock);
	return r;
}

int inotify_rm_watch_file(struct file *f, int wd)
{
	struct inotify *in = f->priv;
	struct put_list pl = {0};
	struct list_head *pos;
	int r = -EINVAL;

	pthread_mutex_lock(&g_in_lock);
	list_for_each(pos, &in->watches)
	{
		struct in_watch *w = list_entry(pos, struct in_watch, ilink);
		if (w->wd == wd) {
			watch_remove(w, true, &pl);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
	return r;
}

/* ---- the inotify file ---- */

static bool in_has_events(void *arg)
{
	struct inotify *in = arg;

	pthread_mutex_lock(&in->lock);
	bool r = !list_empty(&in->events);
	pthread_mutex_unlock(&in->lock);
	return r;
}

static ssize_t in_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct inotify *in = f->priv;
	size_t done = 0;

	(void)pos;
	for (;;) {
		pthread_mutex_lock(&in->lock);
		while (!list_empty(&in->events)) {
			struct in_event *e = list_entry(in->events.next, struct in_event, link);
			size_t size = IN_EVENT_SIZE + e->len;
			if (size > n - done)
				break;
			memcpy((char *)buf + done, &e->wd, 4);
			memcpy((char *)buf + done + 4, &e->mask, 4);
			memcpy((char *)buf + done + 8, &e->cookie, 4);
			memcpy((char *)buf + done + 12, &e->len, 4);
			memcpy((char *)buf + done + IN_EVENT_SIZE, e->name, e->len);
			done += size;
			list_del(&e->link);
			in->nevents--;
			in->bytes -= size;
			free(e);
		}
		bool any = !list_empty(&in->events);
		pthread_mutex_unlock(&in->lock);
		if (done)
			return (ssize_t)done;
		if (any)
			return -EINVAL; /* the first event does not fit */
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		int r = task_wait(current_task, &in->wq, in_has_events, in, NULL);
		if (r < 0)
			return r;
	}
}

static unsigned in_poll(struct file *f, struct poll_table *pt)
{
	struct inotify *in = f->priv;

	poll_wait(pt, &in->wq);
	return in_has_events(in) ? LINUX_POLLIN | LINUX_POLLRDNORM : 0;
}

static long in_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct inotify *in = f->priv;
	int32_t v;

	if (cmd != LINUX_FIONREAD)
		return -ENOTTY; /* Linux's inotify_ioctl */
	pthread_mutex_lock(&in->lock);
	v = (int32_t)in->bytes;
	pthread_mutex_unlock(&in->lock);
	return copy_out(t->mm, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

static void in_release(struct file *f)
{
	struct inotify *in = f->priv;
	struct put_list pl = {0};

	pthread_mutex_lock(&g_in_lock);
	while (!list_empty(&in->watches))
		watch_remove(list_entry(in->watches.next, struct in_watch, ilink), false, &pl);
	pthread_mutex_unlock(&g_in_lock);
	put_now(&pl);
	while (!list_empty(&in->events)) {
		struct in_event *e = list_entry(in->events.next, struct in_event, link);
		list_del(&e->link);
		free(e);
	}
	pthread_mutex_destroy(&in->lock);
	free(in);
}

static long in_path_name(struct file *f, char *buf, size_t size)
{
	(void)f;
	if (size < sizeof("anon_inode:inotify"))
		return -ENAMETOOLONG;
	memcpy(buf, "anon_inode:inotify", sizeof("anon_inode:inotify"));
	return sizeof("anon_inode:inotify") - 1;
}

static const struct file_ops in_fops = {
    .release = in_release,
    .read = in_read,
    .poll = in_poll,
    .ioctl = in_ioctl,
    .llseek = anon_noop_llseek,
    .path_name = in_path_name,
};

int inotify_create_file(int flags, struct file **out)
{
	struct inotify *in = calloc(1, sizeof(*in));
	int r;

	if (!in)
		return -ENOMEM;
	pthread_mutex_init(&in->lock, NULL);
	list_init(&in->events);
	list_init(&in->watches);
	waitq_init(&in->wq);
	r = anon_file_open("inotify", &in_fops, in, flags, out);
	if (r < 0) {
		pthread_mutex_destroy(&in->lock);
		free(in);
	}
	return r;
}
