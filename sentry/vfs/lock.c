/* File locks (see lock.h): POSIX and OFD record locks, flock(2) locks.
 *
 * All lock lists sit behind one mutex (g_locks): locks are rare and short, and one lock makes
 * the deadlock check (which looks across inodes) simple. A waiter sleeps on the inode's
 * queue, which is woken whenever a lock on that inode is dropped or changed. */
#include "sentry/vfs/lock.h"

#include <errno.h>
#include <stdlib.h>

#include "common/list.h"
#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"

#define OFFSET_MAX INT64_MAX
#define MAX_DEADLK_ITERATIONS 10

enum lock_kind { LK_POSIX, LK_OFD, LK_FLOCK };

struct file_lock {
	struct list_head link;
	enum lock_kind kind;
	const void *owner;  /* struct fdtable (POSIX), struct file (OFD, flock) */
	int pid;	    /* the process that set it (reported by F_GETLK for POSIX locks) */
	int type;	    /* LINUX_F_RDLCK or LINUX_F_WRLCK */
	int64_t start, end; /* inclusive; end OFFSET_MAX: to the end of the file and beyond */
};

struct file_lock_ctx {
	struct list_head posix; /* POSIX and OFD locks */
	struct list_head flock;
	struct waitq wq;
};

/* A POSIX lock owner waiting in F_SETLKW, and whom for (the deadlock check). */
struct blocked {
	struct list_head link;
	const void *owner, *blocker;
};

static pthread_mutex_t g_locks = PTHREAD_MUTEX_INITIALIZER;
static struct list_head g_blocked = LIST_HEAD_INIT(g_blocked);

/* The inode's lock context, made on first use. NULL on ENOMEM. */
static struct file_lock_ctx *get_ctx(struct inode *inode)
{
	struct file_lock_ctx *ctx = atomic_load(&inode->flctx), *expected = NULL;

	if (ctx)
		return ctx;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	list_init(&ctx->posix);
	list_init(&ctx->flock);
	waitq_init(&ctx->wq);
	if (!atomic_compare_exchange_strong(&inode->flctx, &expected, ctx)) {
		free(ctx);
		ctx = expected;
	}
	return ctx;
}

void locks_free_inode(struct inode *inode)
{
	struct file_lock_ctx *ctx = atomic_load(&inode->flctx);
	struct list_head *p, *n;

	if (!ctx)
		return;
	/* Nothing can hold a lock on an inode no file refers to; be tidy anyway. */
	list_for_each_safe(p, n, &ctx->posix) free(list_entry(p, struct file_lock, link));
	list_for_each_safe(p, n, &ctx->flock) free(list_entry(p, struct file_lock, link));
	free(ctx);
}

static bool overlap(const struct file_lock *a, int64_t start, int64_t end)
{
	return a->start <= end && start <= a->end;
}

static bool same_owner(const struct file_lock *a, enum lock_kind kind, const void *owner)
{
	/* POSIX and OFD owners are of different types, but compare the kind too: an fd table
	 * and a file could in principle share an address over time. */
	bool a_file = a->kind != LK_POSIX, b_file = kind != LK_POSIX;
	return a->owner == owner && a_file == b_file;
}

/* The first lock of another owner that conflicts with (kind, owner, type, start, end) in
 * list, or NULL. g_locks held. */
static struct file_lock *find_conflict(struct list_head *list, enum lock_kind kind,
				       const void *owner, int type, int64_t start, int64_t end)
{
	struct list_head *p;

	list_for_each(p, list)
	{
		struct file_lock *l = list_entry(p, struct file_lock, link);
		if (same_owner(l, kind, owner))
			continue;
		if (type != LINUX_F_WRLCK && l->type != LINUX_F_WRLCK)
			continue;
		if (kind == LK_FLOCK || overlap(l, start, end))
			return l;
	}
	return NULL;
}

static struct file_lock *lock_new(enum lock_kind kind, const void *owner, int pid, int type,
				  int64_t start, int64_t end)
{
	struct file_lock *l = malloc(sizeof(*l));

	if (l)
		*l = (struct file_lock){.kind = kind,
					.owner = owner,
					.pid = pid,
					.type = type,
					.start = start,
					.end = end};
	return l;
}

/* Apply (type, start, end) for owner to the POSIX list: the owner's locks in the range are
 * replaced (split where they reach out of it), same-type neighbours merged, as Linux's
 * posix_lock_inode. No conflict may exist. 0 or -ENOLCK. g_locks held. */
static int posix_apply(struct file_lock_ctx *ctx, enum lock_kind kind, const void *owner, int pid,
		       int type, int64_t start, int64_t end)
{
	/* At most two new entries: the request and the right part of a split lock. */
	struct file_lock *req = lock_new(kind, owner, pid, type, start, end);
	struct file_lock *spare = lock_new(kind, owner, pid, type, 0, 0);
	struct list_head *p, *n;

	if (!req || !spare) {
		free(req);
		free(spare);
		return -ENOLCK;
	}
	list_for_each_safe(p, n, &ctx->posix)
	{
		struct file_lock *l = list_entry(p, struct file_lock, link);
		if (!same_owner(l, kind, owner))
			continue;
		bool adjacent = (req->end != OFFSET_MAX && l->start == req->end + 1) ||
				(l->end != OFFSET_MAX && l->end + 1 == req->start);
		if (l->type == type && type != LINUX_F_UNLCK &&
		    (overlap(l, req->start, req->end) || adjacent)) {
			/* merge it into the request */
			if (l->start < req->start)
				req->start = l->start;
			if (l->end > req->end)
				req->end = l->end;
			list_del(&l->link);
			free(l);
			continue;
		}
		if (!overlap(l, req->start, req->end))
			continue;
		/* l keeps only what lies outside the request */
		if (l->start < req->start && l->end > req->end) {
			*spare = *l;
			spare->start = req->end + 1;
			list_add_tail(&spare->link, &ctx->posix);
			spare = NULL;
			l->end = req->start - 1;
		} else if (l->start < req->start) {
			l->end = req->start - 1;
		} else if (l->end > req->end) {
			l->start = req->end + 1;
		} else {
			list_del(&l->link);
			free(l);
		}
	}
	if (type == LINUX_F_UNLCK)
		free(req);
	else
		list_add_tail(&req->link, &ctx->posix);
	free(spare);
	return 0;
}

/* Would waiting for blocker deadlock owner? Follows who-waits-for-whom, as Linux's
 * posix_locks_deadlock. g_locks held. */
static bool posix_deadlock(const void *owner, const void *blocker)
{
	for (int i = 0; i < MAX_DEADLK_ITERATIONS && blocker; i++) {
		struct list_head *p;
		const void *next = NULL;

		if (blocker == owner)
			return true;
		list_for_each(p, &g_blocked)
		{
			struct blocked *b = list_entry(p, struct blocked, link);
			if (b->owner == blocker) {
				next = b->blocker;
				break;
			}
		}
		blocker = next;
	}
	return false;
}

/* A lock request being waited for. */
struct lock_req {
	struct file_lock_ctx *ctx;
	enum lock_kind kind;
	const void *owner;
	int type;
	int64_t start, end;
};

static struct list_head *req_list(const struct lock_req *r)
{
	return r->kind == LK_FLOCK ? &r->ctx->flock : &r->ctx->posix;
}

static bool req_free(void *arg)
{
	struct lock_req *r = arg;
	bool ok;

	pthread_mutex_lock(&g_locks);
	ok = !find_conflict(req_list(r), r->kind, r->owner, r->type, r->start, r->end);
	pthread_mutex_unlock(&g_locks);
	return ok;
}

/* Set the lock r for t, waiting when wait is set. 0 or -errno. */
static long lock_set(struct task *t, struct lock_req *r, bool wait)
{
	int pid = t ? t->tgid : 0;

	for (;;) {
		struct blocked b = {.owner = r->owner};
		struct file_lock *c;
		long ret;

		pthread_mutex_lock(&g_locks);
		c = r->type == LINUX_F_UNLCK
			? NULL
			: find_conflict(req_list(r), r->kind, r->owner, r->type, r->start, r->end);
		if (!c) {
			if (r->kind == LK_FLOCK) {
				struct file_lock *l =
				    lock_new(LK_FLOCK, r->owner, pid, r->type, 0, OFFSET_MAX);
				ret = l ? 0 : -ENOLCK;
				if (l)
					list_add_tail(&l->link, &r->ctx->flock);
			} else {
				ret = posix_apply(r->ctx, r->kind, r->owner, pid, r->type, r->start,
						  r->end);
			}
			pthread_mutex_unlock(&g_locks);
			waitq_wake(&r->ctx->wq); /* waiters on what was dropped or narrowed */
			return ret;
		}
		if (!wait || !t) {
			pthread_mutex_unlock(&g_locks);
			return -EAGAIN;
		}
		if (r->kind == LK_POSIX && c->kind == LK_POSIX &&
		    posix_deadlock(r->owner, c->owner)) {
			pthread_mutex_unlock(&g_locks);
			return -EDEADLK;
		}
		if (r->kind == LK_POSIX && c->kind == LK_POSIX) {
			b.blocker = c->owner;
			list_add_tail(&b.link, &g_blocked);
		}
		pthread_mutex_unlock(&g_locks);
		ret = task_wait(t, &r->ctx->wq, req_free, r, NULL);
		if (b.blocker) {
			pthread_mutex_lock(&g_locks);
			list_del(&b.link);
			pthread_mutex_unlock(&g_locks);
		}
		if (ret < 0)
			return ret;
	}
}

/* struct flock -> [start, end], as Linux's flock_to_posix_lock. */
static int flock_range(struct file *f, const struct linux_flock *fl, int64_t *start, int64_t *end)
{
	int64_t base, s;

	switch (fl->l_whence) {
	case LINUX_SEEK_SET:
		base = 0;
		break;
	case LINUX_SEEK_CUR:
		pthread_mutex_lock(&f->pos_lock);
		base = (int64_t)f->pos;
		pthread_mutex_unlock(&f->pos_lock);
		break;
	case LINUX_SEEK_END: {
		struct linux_stat st;
		int r = vfs_getattr(f->path.dentry, &st);
		if (r < 0)
			return r;
		base = st.st_size;
		break;
	}
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, fl->l_start, &s) || s < 0)
		return -EINVAL;
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > OFFSET_MAX - s)
			return -EOVERFLOW;
		*end = s + fl->l_len - 1;
	} else if (fl->l_len < 0) {
		if (s + fl->l_len < 0)
			return -EINVAL;
		*end = s - 1;
		s += fl->l_len;
	} else {
		*end = OFFSET_MAX;
	}
	*start = s;
	return *end < *start ? -EOVERFLOW : 0;
}

long vfs_fcntl_lock(struct task *t, struct file *f, int cmd, struct linux_flock *fl)
{
	bool ofd =
	    cmd == LINUX_F_OFD_GETLK || cmd == LINUX_F_OFD_SETLK || cmd == LINUX_F_OFD_SETLKW;
	struct lock_req r = {.kind = ofd ? LK_OFD : LK_POSIX};
	int64_t start, end;
	long ret;

	r.owner = ofd ? (const void *)f : (const void *)(t ? t->fdt : NULL);
	if (cmd == LINUX_F_GETLK || cmd == LINUX_F_OFD_GETLK) {
		if (fl->l_type != LINUX_F_RDLCK && fl->l_type != LINUX_F_WRLCK)
			return -EINVAL;
		ret = flock_range(f, fl, &start, &end);
		if (ret < 0)
			return ret;
		if (ofd && fl->l_pid != 0)
			return -EINVAL;
		struct file_lock_ctx *ctx = atomic_load(&f->inode->flctx);
		struct file_lock *c = NULL;
		pthread_mutex_lock(&g_locks);
		if (ctx)
			c = find_conflict(&ctx->posix, r.kind, r.owner, fl->l_type, start, end);
		if (c) {
			fl->l_type = (int16_t)c->type;
			fl->l_whence = LINUX_SEEK_SET;
			fl->l_start = c->start;
			fl->l_len = c->end == OFFSET_MAX ? 0 : c->end - c->start + 1;
			fl->l_pid = c->kind == LK_POSIX ? c->pid : -1;
		} else {
			fl->l_type = LINUX_F_UNLCK;
		}
		pthread_mutex_unlock(&g_locks);
		return 0;
	}
	ret = flock_range(f, fl, &start, &end);
	if (ret < 0)
		return ret;
	switch (fl->l_type) {
	case LINUX_F_RDLCK:
		if (!(f->fmode & FMODE_READ))
			return -EBADF;
		break;
	case LINUX_F_WRLCK:
		if (!(f->fmode & FMODE_WRITE))
			return -EBADF;
		break;
	case LINUX_F_UNLCK:
		break;
	default:
		return -EINVAL;
	}
	if (ofd && fl->l_pid != 0)
		return -EINVAL;
	r.ctx = get_ctx(f->inode);
	if (!r.ctx)
		return -ENOLCK;
	r.type = fl->l_type;
	r.start = start;
	r.end = end;
	return lock_set(t, &r, cmd == LINUX_F_SETLKW || cmd == LINUX_F_OFD_SETLKW);
}

long vfs_flock(struct task *t, struct file *f, unsigned op)
{
	struct lock_req r = {.kind = LK_FLOCK, .owner = f, .start = 0, .end = OFFSET_MAX};
	struct list_head *p;

	if (op & LINUX_LOCK_MAND)
		return 0; /* Linux ignores (and warns about) the old mandatory flock */
	switch (op & ~(unsigned)LINUX_LOCK_NB) {
	case LINUX_LOCK_SH:
		r.type = LINUX_F_RDLCK;
		break;
	case LINUX_LOCK_EX:
		r.type = LINUX_F_WRLCK;
		break;
	case LINUX_LOCK_UN:
		r.type = LINUX_F_UNLCK;
		break;
	default:
		return -EINVAL;
	}
	if (r.type != LINUX_F_UNLCK && !(f->fmode & (FMODE_READ | FMODE_WRITE)))
		return -EBADF;
	r.ctx = get_ctx(f->inode);
	if (!r.ctx)
		return -ENOLCK;
	/* A conversion drops the old lock first (not atomic, as Linux's flock). */
	pthread_mutex_lock(&g_locks);
	list_for_each(p, &r.ctx->flock)
	{
		struct file_lock *l = list_entry(p, struct file_lock, link);
		if (l->owner != f)
			continue;
		if (l->type == r.type) {
			pthread_mutex_unlock(&g_locks);
			return 0;
		}
		list_del(&l->link);
		free(l);
		break;
	}
	pthread_mutex_unlock(&g_locks);
	waitq_wake(&r.ctx->wq);
	if (r.type == LINUX_F_UNLCK)
		return 0;
	long ret = lock_set(t, &r, !(op & LINUX_LOCK_NB));
	return ret == -EAGAIN ? -EWOULDBLOCK : ret;
}

/* Drop the locks in list matching (kind filter, owner). Returns whether any went. */
static bool drop_owned(struct list_head *list, const void *owner, bool posix_only)
{
	struct list_head *p, *n;
	bool any = false;

	list_for_each_safe(p, n, list)
	{
		struct file_lock *l = list_entry(p, struct file_lock, link);
		if (l->owner != owner || (posix_only != (l->kind == LK_POSIX)))
			continue;
		list_del(&l->link);
		free(l);
		any = true;
	}
	return any;
}

void locks_remove_posix(struct fdtable *fdt, struct file *f)
{
	struct file_lock_ctx *ctx = atomic_load(&f->inode->flctx);
	bool any;

	if (!ctx || !fdt)
		return;
	pthread_mutex_lock(&g_locks);
	any = drop_owned(&ctx->posix, fdt, true);
	pthread_mutex_unlock(&g_locks);
	if (any)
		waitq_wake(&ctx->wq);
}

void locks_remove_file(struct file *f)
{
	struct file_lock_ctx *ctx = atomic_load(&f->inode->flctx);
	bool any;

	if (!ctx)
		return;
	pthread_mutex_lock(&g_locks);
	any = drop_owned(&ctx->posix, f, false);
	any |= drop_owned(&ctx->flock, f, false);
	pthread_mutex_unlock(&g_locks);
	if (any)
		waitq_wake(&ctx->wq);
}
