/* Pseudo-terminals: /dev/ptmx opens a master, /dev/pts (devpts, mounted there) holds its
 * slave N while the master is open, and the two ends talk through the line discipline in
 * pty_ldisc.c (see pty.h); devpts.c lists them. The slave is a terminal like the console: its job
 * control (session, foreground group, SIGTTIN/SIGTTOU) and /dev/tty are tty_job.c's. glibc's
 * posix_openpt, grantpt, unlockpt, ptsname and openpty (TIOCGPTPEER) work on it, and so Python's
 * pty module and script(1). */
#include "sentry/fs/pty.h"
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"

#define TIOCOUTQ 0x5411
#define TCXONC 0x540A
#define TIOCPKT 0x5420
#define TIOCSETD 0x5423
#define TIOCGPTN 0x80045430u
#define TIOCSPTLCK 0x40045431u
#define TIOCGPKT 0x80045438u
#define TIOCGPTLCK 0x80045439u
#define TIOCGPTPEER 0x5441

pthread_mutex_t g_pty_lock = PTHREAD_MUTEX_INITIALIZER;
struct pty *g_ptys[PTY_MAX];
struct super_block *g_devpts;
struct inode *g_console_inode;

static const struct file_ops pts_fops;
static const struct tty_ctl_ops pts_ctl_ops;

/* ---- life cycle ---- */

static void pty_put(struct pty *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	pthread_mutex_lock(&g_pty_lock);
	g_ptys[p->index] = NULL;
	if (p->inode)
		p->inode->priv = NULL;
	pthread_mutex_unlock(&g_pty_lock);
	tty_ctl_unregister(&p->ctl);
	if (p->inode)
		inode_put(p->inode);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Every change of either end wakes every waiter; each re-tests its own condition. */
static void pty_wake(struct pty *p) { waitq_wake(&p->wq); }

/* Send the signals the line discipline raised (pty->lock not held). */
static void send_pending(struct pty *p, int sigs)
{
	for (int s = 1; s < 32; s++)
		if (sigs & (1 << s))
			tty_ctl_kill_fg(&p->ctl, s);
}

static int ptmx_open(struct inode *inode, struct file *f)
{
	struct task *t = current_task;
	struct pty *p = calloc(1, sizeof(*p));
	int idx = -1;

	(void)inode;
	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&g_pty_lock);
	for (int i = 0; i < PTY_MAX && idx < 0; i++)
		if (!g_ptys[i] && !(i == 0 && g_console_inode))
			idx = i;
	if (idx >= 0)
		g_ptys[idx] = p;
	pthread_mutex_unlock(&g_pty_lock);
	if (idx < 0) {
		free(p);
		return -ENOSPC;
	}
	p->index = idx;
	atomic_init(&p->refs, 1);
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->wq);
	pty_ldisc_init(p);
	p->locked = true; /* until unlockpt */
	p->master_open = true;
	p->ctl.ops = &pts_ctl_ops;
	p->ctl.rdev = VFS_MKDEV(PTY_MAJOR, idx);
	tty_ctl_register(&p->ctl);
	struct inode *pi = g_devpts ? inode_alloc(g_devpts, LINUX_S_IFCHR | 0620) : NULL;
	if (pi) {
		pi->rdev = VFS_MKDEV(PTY_MAJOR, idx);
		pi->uid = t ? t->cred.fsuid : 0;
		pi->gid = TTY_GID;
		pi->fops = &pts_fops;
		pi->iops = &pts_iops;
		pthread_mutex_lock(&g_pty_lock);
		pi->priv = p;
		p->inode = pi;
		pthread_mutex_unlock(&g_pty_lock);
	}
	f->priv = p;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	return 0;
}

static void ptmx_release(struct file *f)
{
	struct pty *p = f->priv;

	pthread_mutex_lock(&p->lock);
	p->master_open = false;
	pthread_mutex_unlock(&p->lock);
	pty_wake(p);
	/* the slave hangs up: its session hears SIGHUP */
	tty_ctl_hangup(&p->ctl);
	pty_put(p);
}

/* A slave open (a file on /dev/pts/N, or /dev/tty): pty_open's rules. */
static int slave_get(struct pty *p)
{
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (!p->master_open || p->locked) {
		r = -EIO;
	} else {
		atomic_fetch_add(&p->refs, 1);
		p->slave_opens++;
		p->slave_was_open = true;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void slave_put(struct pty *p)
{
	pthread_mutex_lock(&p->lock);
	p->slave_opens--;
	pthread_mutex_unlock(&p->lock);
	pty_wake(p);
	pty_put(p);
}

static int pts_open(struct inode *inode, struct file *f)
{
	struct pty *p;
	int r;

	pthread_mutex_lock(&g_pty_lock);
	p = inode->priv;
	if (p)
		atomic_fetch_add(&p->refs, 1); /* keeps it while we look */
	pthread_mutex_unlock(&g_pty_lock);
	if (!p)
		return -EIO;
	r = slave_get(p);
	pty_put(p);
	if (r < 0)
		return r;
	tty_ctl_open(&p->ctl, f, current_task);
	f->priv = p;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	return 0;
}

static void pts_release(struct file *f) { slave_put(f->priv); }

/* ---- I/O ---- */

struct wait_arg {
	struct pty *p;
	bool (*ready)(struct pty *p);
};

static bool wait_cond(void *arg)
{
	struct wait_arg *w = arg;

	pthread_mutex_lock(&w->p->lock);
	bool r = w->ready(w->p);
	pthread_mutex_unlock(&w->p->lock);
	return r;
}

/* Sleep until ready(p) (tested under p->lock) or the deadline; p->lock not held. */
static int pty_wait(struct pty *p, bool (*ready)(struct pty *), const struct timespec *deadline)
{
	struct wait_arg w = {p, ready};

	if (!current_task)
		return -EAGAIN;
	return task_wait(current_task, &p->wq, wait_cond, &w, deadline);
}

static bool slave_can_read(struct pty *p)
{
	bool eof;
	return !p->master_open || pty_ldisc_readable(p, &eof) || eof;
}

static bool slave_can_write(struct pty *p) { return !p->master_open || pty_queue_room(&p->out); }
static bool master_can_read(struct pty *p)
{
	return pty_queue_len(&p->out) || (p->slave_was_open && !p->slave_opens);
}
static bool master_can_write(struct pty *p) { return pty_queue_room(&p->in) > 0; }

/* VMIN/VTIME: how many bytes a raw read waits for (0: none), and its timeout. */
static size_t raw_wanted(struct pty *p, size_t n, struct timespec *rel)
{
	size_t min = p->tio.c_cc[T_VMIN];
	unsigned tenths = p->tio.c_cc[T_VTIME];

	rel->tv_sec = tenths / 10;
	rel->tv_nsec = (long)(tenths % 10) * 100000000L;
	return MIN(min, n);
}

static ssize_t slave_read(struct pty *p, struct file *f, void *buf, size_t n)
{
	struct task *t = current_task;
	struct timespec rel, deadline;
	bool timed = false;
	int r;

	r = tty_ctl_check_change(&p->ctl, t, LINUX_SIGTTIN);
	if (r)
		return r;
	if (!n)
		return 0;
	for (;;) {
		bool eof;
		pthread_mutex_lock(&p->lock);
		if (!p->master_open) {
			pthread_mutex_unlock(&p->lock);
			return 0; /* hung up */
		}
		bool canon = p->tio.c_lflag & T_ICANON;
		size_t avail = pty_ldisc_readable(p, &eof), want = 1;
		if (!canon) {
			want = raw_wanted(p, n, &rel);
			if (!timed && (rel.tv_sec || rel.tv_nsec) && (!want || avail)) {
				/* VTIME: a total timeout (VMIN 0), or between bytes once one came
				 */
				deadline_after(&deadline, &rel);
				timed = true;
			}
		}
		if ((avail && avail >= want) || eof || (!canon && !want && !timed) ||
		    (timed && avail && r == -ETIMEDOUT)) {
			size_t take = MIN(n, avail);
			pty_ldisc_take(p, buf, take, eof && !take);
			pthread_mutex_unlock(&p->lock);
			pty_wake(p);
			return (ssize_t)take;
		}
		pthread_mutex_unlock(&p->lock);
		if (r == -ETIMEDOUT)
			return 0;
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		r = pty_wait(p, slave_can_read, timed ? &deadline : NULL);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
		if (r == 0 && !canon && want > 1 && timed) {
			/* more came: keep waiting for VMIN within the timer */
			continue;
		}
	}
}

static ssize_t slave_write(struct pty *p, struct file *f, const void *buf, size_t n)
{
	size_t done = 0;
	int r;

	pthread_mutex_lock(&p->lock);
	bool tostop = p->tio.c_lflag & T_TOSTOP;
	pthread_mutex_unlock(&p->lock);
	if (tostop && (r = tty_ctl_check_change(&p->ctl, current_task, LINUX_SIGTTOU)))
		return r;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (!p->master_open) {
			pthread_mutex_unlock(&p->lock);
			return done ? (ssize_t)done : -EIO;
		}
		done += pty_ldisc_output(p, (const char *)buf + done, n - done);
		pthread_mutex_unlock(&p->lock);
		pty_wake(p);
		if (done == n)
			return (ssize_t)n;
		if (f->flags & LINUX_O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		r = pty_wait(p, slave_can_write, NULL);
		if (r < 0)
			return done ? (ssize_t)done : r;
	}
}

static ssize_t ptmx_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct pty *p = f->priv;
	char *out = buf;

	(void)pos;
	if (!n)
		return 0;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t avail = pty_queue_len(&p->out);
		if (avail) {
			size_t off = 0;
			if (p->packet) {
				out[0] = 0; /* TIOCPKT_DATA */
				off = 1;
			}
			size_t take = MIN(n - off, avail);
			for (size_t i = 0; i < take; i++)
				out[off + i] = p->out.buf[(p->out.rd + i) % PTY_BUF];
			p->out.rd += take;
			pthread_mutex_unlock(&p->lock);
			pty_wake(p);
			return (ssize_t)(off + take);
		}
		bool closed = p->slave_was_open && !p->slave_opens;
		pthread_mutex_unlock(&p->lock);
		if (closed)
			return -EIO; /* every slave file is closed */
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		int r = pty_wait(p, master_can_read, NULL);
		if (r < 0)
			return r;
	}
}

static ssize_t ptmx_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct pty *p = f->priv;
	size_t done = 0;

	(void)pos;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		done += pty_ldisc_input(p, (const char *)buf + done, n - done);
		int sigs = p->pending_sigs;
		p->pending_sigs = 0;
		bool gone = p->slave_was_open && !p->slave_opens;
		pthread_mutex_unlock(&p->lock);
		pty_wake(p);
		send_pending(p, sigs);
		if (done == n)
			return (ssize_t)n;
		if (gone)
			return done ? (ssize_t)done : -EIO; /* nobody will ever read it */
		if (f->flags & LINUX_O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		int r = pty_wait(p, master_can_write, NULL);
		if (r < 0)
			return done ? (ssize_t)done : r;
	}
}

static unsigned slave_poll(struct pty *p, struct poll_table *pt)
{
	unsigned mask = 0;
	bool eof;

	poll_wait(pt, &p->wq);
	pthread_mutex_lock(&p->lock);
	if (!p->master_open) {
		pthread_mutex_unlock(&p->lock);
		return LINUX_POLLIN | LINUX_POLLOUT | LINUX_POLLERR | LINUX_POLLHUP |
		       LINUX_POLLRDNORM | LINUX_POLLWRNORM;
	}
	size_t avail = pty_ldisc_readable(p, &eof);
	/* input_available_p(poll): VMIN characters when there is no VTIME */
	size_t amt = !(p->tio.c_lflag & T_ICANON) && !p->tio.c_cc[T_VTIME] && p->tio.c_cc[T_VMIN]
			 ? p->tio.c_cc[T_VMIN]
			 : 1;
	if (avail >= amt || eof)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (pty_queue_room(&p->out))
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	pthread_mutex_unlock(&p->lock);
	return mask;
}

static unsigned ptmx_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = f->priv;
	unsigned mask = 0;

	poll_wait(pt, &p->wq);
	pthread_mutex_lock(&p->lock);
	if (pty_queue_len(&p->out))
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (pty_queue_room(&p->in))
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	if (p->slave_was_open && !p->slave_opens)
		mask |= LINUX_POLLHUP;
	pthread_mutex_unlock(&p->lock);
	return mask;
}

/* ---- ioctls ---- */

static long set_termios(struct pty *p, struct task *t, unsigned cmd, uint64_t arg)
{
	struct linux_termios tio, old;
	long r = tty_ctl_check_change(&p->ctl, t, LINUX_SIGTTOU);

	if (r)
		return r;
	if (copy_in(t->mm, &tio, arg, sizeof(tio)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&p->lock);
	old = p->tio;
	p->tio = tio;
	if (cmd == LINUX_TCSETSF)
		pty_ldisc_flush(p, true, false);
	pty_ldisc_termios_changed(p, &old);
	pthread_mutex_unlock(&p->lock);
	pty_wake(p);
	return 0;
}

static long set_winsize(struct pty *p, struct task *t, uint64_t arg)
{
	struct linux_winsize ws;
	bool changed;

	if (copy_in(t->mm, &ws, arg, sizeof(ws)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&p->lock);
	changed = memcmp(&ws, &p->ws, sizeof(ws)) != 0;
	p->ws = ws;
	pthread_mutex_unlock(&p->lock);
	if (changed)
		tty_ctl_kill_fg(&p->ctl, LINUX_SIGWINCH); /* tty_do_resize */
	return 0;
}

/* TIOCGPTPEER: open the slave as a new fd of t with flags. The path is /dev/pts/N of the
 * sandbox's devpts mount. */
static long open_peer(struct pty *p, struct task *t, int flags)
{
	char path[32];
	struct path dp;
	struct file *f;
	long r;

	if (flags & ~(LINUX_O_ACCMODE | LINUX_O_NOCTTY | LINUX_O_NONBLOCK | LINUX_O_CLOEXEC))
		return -EINVAL;
	/* from the sandbox's root, as the kernel itself (no task: no permission checks) */
	snprintf(path, sizeof(path), "dev/pts/%d", p->index);
	r = vfs_lookup(NULL, LINUX_AT_FDCWD, path, 0, &dp);
	if (r < 0)
		return -EIO;
	if (!dp.dentry->inode || dp.dentry->inode->priv != p) {
		path_put(&dp);
		return -EIO;
	}
	r = vfs_open_path(&dp, flags, &f);
	path_put(&dp);
	if (r < 0)
		return r;
	r = fdtable_alloc(t->fdt, f, 0, flags & LINUX_O_CLOEXEC, vfs_nofile_limit());
	file_put(f);
	return r;
}

/* The ioctls both ends share; TTY_IOCTL_UNHANDLED for others. master: the call came on it. */
static long common_ioctl(struct pty *p, struct task *t, unsigned cmd, uint64_t arg, bool master)
{
	struct linux_termios tio;
	struct linux_winsize ws;
	int v;
	long r;

	switch (cmd) {
	case LINUX_TCGETS:
		pthread_mutex_lock(&p->lock);
		tio = p->tio;
		pthread_mutex_unlock(&p->lock);
		return copy_out(t->mm, arg, &tio, sizeof(tio));
	case LINUX_TCSETS:
	case LINUX_TCSETSW:
	case LINUX_TCSETSF:
		return set_termios(p, t, cmd, arg);
	case LINUX_TIOCGWINSZ:
		pthread_mutex_lock(&p->lock);
		ws = p->ws;
		pthread_mutex_unlock(&p->lock);
		return copy_out(t->mm, arg, &ws, sizeof(ws));
	case LINUX_TIOCSWINSZ:
		return set_winsize(p, t, arg);
	case LINUX_FIONREAD:
	case TIOCOUTQ: {
		bool eof;
		pthread_mutex_lock(&p->lock);
		if ((cmd == LINUX_FIONREAD) == master) /* master's input / slave's output */
			v = (int)pty_queue_len(&p->out);
		else if (!(p->tio.c_lflag & T_ICANON))
			v = (int)pty_ldisc_readable(p, &eof);
		else /* complete lines only */
			v = p->nends ? (int)(p->ends[(p->end0 + p->nends - 1) % PTY_LINE_ENDS] -
					     p->in.rd)
				     : 0;
		pthread_mutex_unlock(&p->lock);
		return copy_out(t->mm, arg, &v, sizeof(v));
	}
	case LINUX_TCFLSH:
		if (arg > LINUX_TCIOFLUSH)
			return -EINVAL;
		if (!master && (r = tty_ctl_check_change(&p->ctl, t, LINUX_SIGTTOU)))
			return r;
		pthread_mutex_lock(&p->lock);
		/* TCIFLUSH is the reader's side: the slave's input, or what the master reads */
		if (arg != LINUX_TCOFLUSH)
			pty_ldisc_flush(p, !master, master);
		if (arg != LINUX_TCIFLUSH)
			pty_ldisc_flush(p, master, !master);
		pthread_mutex_unlock(&p->lock);
		pty_wake(p);
		return 0;
	case LINUX_TCSBRK:
	case LINUX_TCSBRKP:
	case TCXONC:
	case LINUX_TIOCEXCL:
	case LINUX_TIOCNXCL:
		return 0;
	case LINUX_TIOCGETD:
	case LINUX_TIOCGEXCL:
		v = 0; /* N_TTY; not exclusive */
		return copy_out(t->mm, arg, &v, sizeof(v));
	case TIOCSETD:
		if (copy_in(t->mm, &v, arg, sizeof(v)) < 0)
			return -EFAULT;
		return v == 0 ? 0 : -EINVAL; /* only N_TTY */
	case LINUX_TIOCSTI:
		return -EIO; /* dev.tty.legacy_tiocsti=0, as the console */
	}
	return TTY_IOCTL_UNHANDLED;
}

static long ptmx_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct pty *p = f->priv;
	uint32_t u;
	int v;
	long r;

	switch (cmd) {
	case TIOCGPTN:
		u = (uint32_t)p->index;
		return copy_out(t->mm, arg, &u, sizeof(u));
	case TIOCSPTLCK:
	case TIOCPKT:
		if (copy_in(t->mm, &v, arg, sizeof(v)) < 0)
			return -EFAULT;
		pthread_mutex_lock(&p->lock);
		if (cmd == TIOCSPTLCK)
			p->locked = v != 0;
		else
			p->packet = v != 0;
		pthread_mutex_unlock(&p->lock);
		return 0;
	case TIOCGPTLCK:
	case TIOCGPKT:
		pthread_mutex_lock(&p->lock);
		v = cmd == TIOCGPTLCK ? p->locked : p->packet;
		pthread_mutex_unlock(&p->lock);
		return copy_out(t->mm, arg, &v, sizeof(v));
	case TIOCGPTPEER:
		return open_peer(p, t, (int)arg);
	case LINUX_TIOCGPGRP:
	case LINUX_TIOCGSID:
		/* on the master: the slave's, whoever asks (tiocgpgrp with tty != real_tty) */
		kernel_lock();
		v = cmd == LINUX_TIOCGPGRP ? p->ctl.pgrp : p->ctl.sid;
		r = cmd == LINUX_TIOCGSID && !tty_ctl_session_locked(&p->ctl) ? -ENOTTY : 0;
		kernel_unlock();
		return r < 0 ? r : copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_TIOCNOTTY:
		return -ENOTTY; /* the master is nobody's controlling terminal */
	}
	r = tty_ctl_ioctl(&p->ctl, f, t, cmd, arg);
	if (r != TTY_IOCTL_UNHANDLED)
		return r;
	r = common_ioctl(p, t, cmd, arg, true);
	return r == TTY_IOCTL_UNHANDLED ? -ENOTTY : r;
}

static long slave_ioctl(struct pty *p, struct file *f, struct task *t, unsigned int cmd,
			uint64_t arg)
{
	long r;

	pthread_mutex_lock(&p->lock);
	bool hung = !p->master_open;
	pthread_mutex_unlock(&p->lock);
	if (hung) /* hung_up_tty_ioctl */
		return cmd == LINUX_TIOCSPGRP ? -ENOTTY : -EIO;
	r = tty_ctl_ioctl(&p->ctl, f, t, cmd, arg);
	if (r != TTY_IOCTL_UNHANDLED)
		return r;
	r = common_ioctl(p, t, cmd, arg, false);
	return r == TTY_IOCTL_UNHANDLED ? -ENOTTY : r;
}

/* ---- the slave's file ops, and the same through /dev/tty ---- */

static ssize_t pts_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	return slave_read(f->priv, f, buf, n);
}

static ssize_t pts_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	return slave_write(f->priv, f, buf, n);
}

static long pts_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	return slave_ioctl(f->priv, f, t, cmd, arg);
}

static unsigned pts_poll(struct file *f, struct poll_table *pt) { return slave_poll(f->priv, pt); }

static int pty_fsync(struct file *f)
{
	(void)f;
	return -EINVAL;
}

static const struct file_ops pts_fops = {
    .open = pts_open,
    .release = pts_release,
    .read = pts_read,
    .write = pts_write,
    .ioctl = pts_ioctl,
    .poll = pts_poll,
    .fsync = pty_fsync,
};

const struct file_ops ptmx_fops = {
    .open = ptmx_open,
    .release = ptmx_release,
    .read = ptmx_read,
    .write = ptmx_write,
    .ioctl = ptmx_ioctl,
    .poll = ptmx_poll,
    .fsync = pty_fsync,
};

static struct pty *ctl_pty(struct tty_ctl *c)
{
	return (struct pty *)((char *)c - offsetof(struct pty, ctl));
}

static int ctl_get(struct tty_ctl *c, struct file *f)
{
	(void)f;
	return slave_get(ctl_pty(c));
}

static void ctl_put(struct tty_ctl *c, struct file *f)
{
	(void)f;
	slave_put(ctl_pty(c));
}

static ssize_t ctl_read(struct tty_ctl *c, struct file *f, void *buf, size_t n)
{
	return slave_read(ctl_pty(c), f, buf, n);
}

static ssize_t ctl_write(struct tty_ctl *c, struct file *f, const void *buf, size_t n)
{
	return slave_write(ctl_pty(c), f, buf, n);
}

static long ctl_ioctl(struct tty_ctl *c, struct file *f, struct task *t, unsigned int cmd,
		      uint64_t arg)
{
	return slave_ioctl(ctl_pty(c), f, t, cmd, arg);
}

static unsigned ctl_poll(struct tty_ctl *c, struct file *f, struct poll_table *pt)
{
	(void)f;
	return slave_poll(ctl_pty(c), pt);
}

static const struct tty_ctl_ops pts_ctl_ops = {
    .get = ctl_get,
    .put = ctl_put,
    .read = ctl_read,
    .write = ctl_write,
    .ioctl = ctl_ioctl,
    .poll = ctl_poll,
};

/* chmod/chown of /dev/pts/N (grantpt of old, or a login program) */
static int pts_setattr(struct dentry *d, const struct iattr *ia)
{
	if (ia->valid & ATTR_SIZE)
		return 0; /* O_TRUNC on a terminal: nothing to truncate */
	pthread_mutex_lock(&d->inode->lock);
	inode_apply_attr(d->inode, ia);
	pthread_mutex_unlock(&d->inode->lock);
	return 0;
}

const struct inode_ops pts_iops = {.setattr = pts_setattr};
