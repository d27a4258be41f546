/* poll, ppoll, select, pselect6: wait for fds through the files' poll ops (sentry/vfs/poll.h),
 * with Linux's timeout write-back, temporary signal masks and restart codes. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/poll.h"

struct linux_pollfd {
	int32_t fd;
	int16_t events;
	int16_t revents;
};
_Static_assert(sizeof(struct linux_pollfd) == 8, "pollfd");

#define POLLIN_SET                                                                                 \
	(LINUX_POLLRDNORM | LINUX_POLLRDBAND | LINUX_POLLIN | LINUX_POLLHUP | LINUX_POLLERR)
#define POLLOUT_SET (LINUX_POLLWRBAND | LINUX_POLLWRNORM | LINUX_POLLOUT | LINUX_POLLERR)
#define POLLEX_SET LINUX_POLLPRI

#define NSEC_PER_SEC 1000000000L

/* ---- timeouts ---- */

/* A timeout as the poll family keeps it: an absolute CLOCK_MONOTONIC deadline, none (wait
 * forever), or zero (do not wait; and no write-back). */
struct poll_timeout {
	bool none, zero;
	struct timespec deadline;
};

/* Linux's poll_select_set_timeout: sec/nsec relative, validated. 0 or -EINVAL. */
static int timeout_set(struct poll_timeout *to, int64_t sec, int64_t nsec)
{
	memset(to, 0, sizeof(*to));
	if (sec < 0 || nsec < 0 || nsec >= NSEC_PER_SEC)
		return -EINVAL;
	if (sec == 0 && nsec == 0) {
		to->zero = true;
		return 0;
	}
	/* Far-away deadlines are as good as none (and must not overflow). */
	if (sec > (int64_t)1 << 40) {
		to->none = true;
		return 0;
	}
	struct timespec rel = {(time_t)sec, (long)nsec};
	deadline_after(&to->deadline, &rel);
	return 0;
}

/* The timeout of ppoll and pselect6: the struct timespec at utsp, none when utsp is NULL.
 * 0, -EFAULT or -EINVAL. */
static int timeout_from_user(struct task *t, struct poll_timeout *to, uint64_t utsp)
{
	struct linux_timespec ts;

	if (!utsp) {
		memset(to, 0, sizeof(*to));
		to->none = true;
		return 0;
	}
	if (copy_in(t->mm, &ts, utsp, sizeof(ts)) < 0)
		return -EFAULT;
	return timeout_set(to, ts.tv_sec, ts.tv_nsec);
}

static const struct timespec *timeout_deadline(const struct poll_timeout *to)
{
	return to->none ? NULL : &to->deadline;
}

/* What is left of a timeout (0 when passed). */
static struct timespec timeout_left(const struct poll_timeout *to)
{
	struct timespec now, r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	r.tv_sec = to->deadline.tv_sec - now.tv_sec;
	r.tv_nsec = to->deadline.tv_nsec - now.tv_nsec;
	if (r.tv_nsec < 0) {
		r.tv_sec--;
		r.tv_nsec += NSEC_PER_SEC;
	}
	if (r.tv_sec < 0)
		r.tv_sec = r.tv_nsec = 0;
	return r;
}

enum tmo_kind { TMO_TIMEVAL, TMO_TIMESPEC };

/* Linux's poll_select_finish: write the time left back to the guest (select, pselect6,
 * ppoll), except for a zero or absent timeout. A guest buffer we cannot write means the call
 * cannot be restarted with the right time: an interrupted call then says EINTR. */
static long timeout_finish(struct task *t, const struct poll_timeout *to, uint64_t uaddr,
			   enum tmo_kind kind, long ret)
{
	struct timespec left;
	int r;

	if (!uaddr || to->zero || to->none)
		return ret;
	left = timeout_left(to);
	if (kind == TMO_TIMEVAL) {
		struct linux_timeval tv = {left.tv_sec, left.tv_nsec / 1000};
		r = copy_out(t->mm, uaddr, &tv, sizeof(tv));
	} else {
		struct linux_timespec ts = {left.tv_sec, left.tv_nsec};
		r = copy_out(t->mm, uaddr, &ts, sizeof(ts));
	}
	if (r < 0 && ret == -LINUX_ERESTARTNOHAND)
		ret = -EINTR;
	return ret;
}

/* ---- the wait common to poll and select ---- */

/* One kind of scan (poll's pollfds, select's fd sets), embedded in its own state. */
struct scan {
	struct task *t;
	/* One pass over what is asked: records the answers, registers with pt when not NULL,
	 * returns how many are ready. */
	int (*pass)(struct scan *s, struct poll_table *pt);
	int count; /* the last pass's result */
};

static bool scan_ready(void *arg)
{
	struct scan *s = arg;

	s->count = s->pass(s, NULL);
	return s->count > 0;
}

/* Linux's do_poll and do_select loop: a first pass registers the poller; unless it finds
 * something or the timeout is zero, sleep until a pass does, the deadline passes (then one
 * last pass) or a signal comes (-ERESTARTNOHAND). Returns the count or -errno. */
static long scan_wait(struct scan *s, const struct poll_timeout *to)
{
	struct poll_table pt;
	long ret;

	poll_table_init(&pt, s->t);
	ret = s->pass(s, to->zero ? NULL : &pt);
	if (ret == 0 && !to->zero) {
		int r = poll_table_wait(&pt, scan_ready, s, timeout_deadline(to));
		if (r == 0)
			ret = s->count;
		else if (r == -ETIMEDOUT)
			ret = s->pass(s, NULL);
		else if (r == -LINUX_ERESTARTSYS)
			ret = -LINUX_ERESTARTNOHAND;
		else
			ret = r;
	}
	poll_table_release(&pt);
	return ret;
}

/* ---- poll ---- */

struct poll_scan {
	struct scan base;
	struct linux_pollfd *fds;
	uint32_t n;
};

/* One pass over the pollfds: revents of each. */
static int poll_pass(struct scan *base, struct poll_table *pt)
{
	struct poll_scan *s = container_of(base, struct poll_scan, base);
	int count = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		struct linux_pollfd *p = &s->fds[i];
		unsigned mask = 0;

		if (p->fd >= 0) {
			struct file *f = fdtable_get(s->base.t->fdt, p->fd);
			mask = LINUX_POLLNVAL;
			if (f) {
				mask = poll_table_file(pt, f);
				mask &= (uint16_t)p->events | LINUX_POLLERR | LINUX_POLLHUP;
				file_put(f);
			}
		}
		p->revents = (int16_t)mask;
		if (mask)
			count++;
	}
	return count;
}

/* The wait common to poll and ppoll. Returns the count, or -errno (-ERESTARTNOHAND on a
 * signal); revents are written back in every case (as Linux), unless that faults. */
static long do_poll(struct task *t, uint64_t ufds, uint64_t nfds, const struct poll_timeout *to)
{
	struct poll_scan s = {.base = {.t = t, .pass = poll_pass}};
	long ret;

	if (nfds > (uint64_t)vfs_nofile_limit())
		return -EINVAL;
	s.n = (uint32_t)nfds;
	s.fds = malloc(nfds ? nfds * sizeof(*s.fds) : 1);
	if (!s.fds)
		return -ENOMEM;
	if (copy_in(t->mm, s.fds, ufds, nfds * sizeof(*s.fds)) < 0) {
		free(s.fds);
		return -EFAULT;
	}
	ret = scan_wait(&s.base, to);
	for (uint32_t i = 0; i < s.n; i++) {
		uint64_t at = ufds + i * sizeof(*s.fds) + offsetof(struct linux_pollfd, revents);
		if (copy_out(t->mm, at, &s.fds[i].revents, sizeof(s.fds[i].revents)) < 0) {
			ret = -EFAULT;
			break;
		}
	}
	free(s.fds);
	return ret;
}

SYSCALL_DEFINE(poll)
{
	int ms = (int)a->a[2];
	struct poll_timeout to = {.none = ms < 0};

	if (ms >= 0)
		timeout_set(&to, ms / 1000, (int64_t)(ms % 1000) * 1000000);
	/* Linux restarts an interrupted poll with the time left (restart_syscall); restarting
	 * it whole is close enough until restart blocks exist. */
	return do_poll(t, a->a[0], (uint32_t)a->a[1], &to);
}

SYSCALL_DEFINE(ppoll)
{
	uint64_t utsp = a->a[2];
	struct poll_timeout to;
	long r = timeout_from_user(t, &to, utsp);

	if (r < 0)
		return r;
	r = signal_user_mask_set(t, a->a[3], a->a[4]);
	if (r < 0)
		return r;
	r = do_poll(t, a->a[0], (uint32_t)a->a[1], &to);
	signal_user_mask_restore_unless(t, r == -LINUX_ERESTARTNOHAND);
	return timeout_finish(t, &to, utsp, TMO_TIMESPEC, r);
}

/* ---- select ---- */

struct select_scan {
	struct scan base;
	int n;
	size_t words;
	uint64_t *in, *out, *ex;    /* asked for (NULL: none) */
	uint64_t *rin, *rout, *rex; /* answered */
};

static bool bit(const uint64_t *set, int fd) { return set && (set[fd / 64] >> (fd % 64)) & 1; }

/* One pass over the fd sets: the answered sets. */
static int select_pass(struct scan *base, struct poll_table *pt)
{
	struct select_scan *s = container_of(base, struct select_scan, base);
	int count = 0;

	memset(s->rin, 0, s->words * 8);
	memset(s->rout, 0, s->words * 8);
	memset(s->rex, 0, s->words * 8);
	for (int fd = 0; fd < s->n; fd++) {
		bool i = bit(s->in, fd), o = bit(s->out, fd), e = bit(s->ex, fd);
		uint64_t b = 1ULL << (fd % 64);

		if (!i && !o && !e)
			continue;
		struct file *f = fdtable_get(s->base.t->fdt, fd);
		if (!f)
			continue; /* closed since the EBADF check: nothing to report */
		unsigned mask = poll_table_file(pt, f);
		file_put(f);
		if (i && (mask & POLLIN_SET)) {
			s->rin[fd / 64] |= b;
			count++;
		}
		if (o && (mask & POLLOUT_SET)) {
			s->rout[fd / 64] |= b;
			count++;
		}
		if (e && (mask & POLLEX_SET)) {
			s->rex[fd / 64] |= b;
			count++;
		}
	}
	return count;
}

/* core_sys_select. */
static long do_select(struct task *t, int n, uint64_t uin, uint64_t uout, uint64_t uex,
		      const struct poll_timeout *to)
{
	struct select_scan s = {.base = {.t = t, .pass = select_pass}};
	uint64_t uptr[3] = {uin, uout, uex};
	uint64_t *sets;
	long ret;

	if (n < 0)
		return -EINVAL;
	/* Linux looks no further than its fd table's size; no fd at or past RLIMIT_NOFILE (nor
	 * past our table) can be open, so bits there are ignored. */
	int max = MAX(MAX(fdtable_max_fds(t->fdt), vfs_nofile_limit()), 64);
	if (n > max)
		n = max;
	s.n = n;
	s.words = ((size_t)n + 63) / 64;
	sets = calloc(6 * s.words + 1, 8);
	if (!sets)
		return -ENOMEM;
	for (int k = 0; k < 3; k++) {
		uint64_t *set = sets + (size_t)k * s.words;
		if (uptr[k] && copy_in(t->mm, set, uptr[k], s.words * 8) < 0) {
			free(sets);
			return -EFAULT;
		}
		/* the guest's last word may carry bits at or past n */
		if (n % 64 && s.words)
			set[s.words - 1] &= (1ULL << (n % 64)) - 1;
	}
	s.in = uin ? sets : NULL;
	s.out = uout ? sets + s.words : NULL;
	s.ex = uex ? sets + 2 * s.words : NULL;
	s.rin = sets + 3 * s.words;
	s.rout = sets + 4 * s.words;
	s.rex = sets + 5 * s.words;
	/* max_select_fd: every fd asked about must be open. */
	for (int fd = 0; fd < n; fd++) {
		if (!bit(s.in, fd) && !bit(s.out, fd) && !bit(s.ex, fd))
			continue;
		struct file *f = fdtable_get(t->fdt, fd);
		if (!f) {
			free(sets);
			return -EBADF;
		}
		file_put(f);
	}
	ret = scan_wait(&s.base, to);
	if (ret >= 0) {
		uint64_t *res[3] = {s.rin, s.rout, s.rex};
		for (int k = 0; k < 3; k++)
			if (uptr[k] && copy_out(t->mm, uptr[k], res[k], s.words * 8) < 0)
				ret = -EFAULT;
	}
	free(sets);
	return ret;
}

SYSCALL_DEFINE(select)
{
	uint64_t utv = a->a[4];
	struct poll_timeout to = {.none = true};
	long r;

	if (utv) {
		struct linux_timeval tv;
		if (copy_in(t->mm, &tv, utv, sizeof(tv)) < 0)
			return -EFAULT;
		/* Linux folds whole seconds of tv_usec into tv_sec before checking. */
		int64_t sec = tv.tv_sec > ((int64_t)1 << 41) ? (int64_t)1 << 41 : tv.tv_sec;
		if (timeout_set(&to, sec + tv.tv_usec / 1000000, (tv.tv_usec % 1000000) * 1000) < 0)
			return -EINVAL;
	}
	r = do_select(t, (int)a->a[0], a->a[1], a->a[2], a->a[3], &to);
	return timeout_finish(t, &to, utv, TMO_TIMEVAL, r);
}

SYSCALL_DEFINE(pselect6)
{
	uint64_t utsp = a->a[4], usig = a->a[5];
	struct poll_timeout to;
	long r = timeout_from_user(t, &to, utsp);

	if (r < 0)
		return r;
	if (usig) {
		/* struct { const sigset_t *ss; size_t ss_len; } */
		uint64_t sig[2];
		if (copy_in(t->mm, sig, usig, sizeof(sig)) < 0)
			return -EFAULT;
		r = signal_user_mask_set(t, sig[0], sig[1]);
		if (r < 0)
			return r;
	}
	r = do_select(t, (int)a->a[0], a->a[1], a->a[2], a->a[3], &to);
	signal_user_mask_restore_unless(t, r == -LINUX_ERESTARTNOHAND);
	return timeout_finish(t, &to, utsp, TMO_TIMESPEC, r);
}
