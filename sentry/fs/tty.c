/* The console: a tty over the caller's host terminal (/dev/pts/0 in the sandbox), its I/O and
 * terminal ioctls, and the thread that hands the host terminal's signals to the sandbox (see
 * tty.h for the design). Its session and job control are tty_job.c's. */
#define _GNU_SOURCE /* ppoll */
#include "sentry/fs/tty.h"
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/host.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

struct tty {
	int fd;		 /* our dup of the host terminal fd */
	dev_t dev, rdev; /* the host terminal, to recognise its other fds */
	/* The sandbox sees it as /dev/pts/0 (136:0) whatever its host name: these are that
	 * node's ids, so that fstat of a stdio fd and stat of /dev/pts/0 agree (ttyname). */
	uint64_t node_dev, node_ino;
	pthread_mutex_t read_lock; /* one reader at a time between readiness and read */

	/* job control (g_kernel.lock) */
	struct tty_ctl ctl; /* its session and foreground process group (tty_job.c) */

	/* TIOCSWINSZ is emulated: the size set inside the sandbox, shown until the host's own
	 * size changes (the user resized the window) (winsz_lock) */
	pthread_mutex_t winsz_lock;
	bool winsz_set;
	struct linux_winsize winsz, host_at_set;

	/* An exec'd process's terminal, let go when that session's leader exited
	 * (tty_console_exec_exit_locked): fd is then an empty pipe's read end (g_kernel.lock) */
	bool released;
};

/* Set once (at boot, or by the first `exec -t` of a sandbox without a terminal, from the control
 * thread) and never changed: read with console(). */
static struct tty *g_console;

static struct tty *console(void)
{
	return __atomic_load_n(&g_console, __ATOMIC_ACQUIRE);
}
static const struct tty_ctl_ops console_ctl_ops;

/* ---- the console ---- */

int tty_console_init(const int stdio[3], int sid, int pgrp)
{
	struct linux_termios tio;
	struct stat st, st2;
	int pick = -1;

	for (int i = 0; i < 3 && pick < 0; i++)
		if (stdio[i] >= 0 && ioctl(stdio[i], TCGETS, &tio) == 0 &&
		    host_fstat(stdio[i], &st) == 0)
			pick = stdio[i];
	if (pick < 0)
		return 0;
	struct tty *old = console();
	kernel_lock();
	bool busy = old && !old->released;
	kernel_unlock();
	if (busy)
		return -EBUSY;
	/* Prefer an fd open for reading and writing on the same terminal: /dev/tty needs both. */
	for (int i = 0; i < 3; i++) {
		int fl = stdio[i] >= 0 ? fcntl(stdio[i], F_GETFL) : -1;
		if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR && host_fstat(stdio[i], &st2) == 0 &&
		    st2.st_rdev == st.st_rdev && st2.st_dev == st.st_dev) {
			pick = stdio[i];
			break;
		}
	}
	struct tty *tty = calloc(1, sizeof(*tty));
	if (!tty)
		return -ENOMEM;
	tty->fd = fcntl(pick, F_DUPFD_CLOEXEC, 3);
	if (tty->fd < 0) {
		int e = -errno;
		free(tty);
		return e;
	}
	tty->dev = st.st_dev;
	tty->rdev = st.st_rdev;
	pthread_mutex_init(&tty->read_lock, NULL);
	pthread_mutex_init(&tty->winsz_lock, NULL);
	tty->ctl.ops = &console_ctl_ops;
	tty->ctl.rdev = VFS_MKDEV(TTY_CONSOLE_MAJOR, TTY_CONSOLE_MINOR);
	tty->ctl.sid = sid;
	tty->ctl.pgrp = pgrp;
	if (old) {
		/* A later exec -t: /dev/pts/0 stays the node it was. The old tty is not freed:
		 * files of the old session still point at it (their own host fds do the I/O). */
		tty_ctl_unregister(&old->ctl);
		tty->node_dev = old->node_dev;
		tty->node_ino = old->node_ino;
	}
	tty_ctl_register(&tty->ctl);
	__atomic_store_n(&g_console, tty, __ATOMIC_RELEASE);
	if (!old && devfs_console_node(&tty_console_fops, &tty->node_dev, &tty->node_ino) < 0)
		log_warn("tty: no /dev/pts/0 for the console");
	log_debug("tty: console is %u:%u (fd %d)", major(st.st_rdev), minor(st.st_rdev), tty->fd);
	return 0;
}

void tty_console_exec_exit_locked(struct thread_group *tg)
{
	struct tty *tty = console();
	int p[2];

	if (!tty || tty->released || tg->exit_fd < 0 || tg->sid != tg->tgid ||
	    tty->ctl.sid != tg->sid)
		return;
	/* Our dup of the slave must go, or the runtime's master never sees the end (EIO); its
	 * number stays valid for concurrent readers, as an empty pipe's read end. */
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("tty: releasing the exec'd session's terminal: %s", strerror(errno));
		return;
	}
	if (dup3(p[0], tty->fd, O_CLOEXEC) < 0)
		log_warn("tty: releasing the exec'd session's terminal: %s", strerror(errno));
	close(p[0]);
	close(p[1]);
	tty->released = true;
}

struct tty *tty_console_match(const struct stat *st)
{
	struct tty *tty = console();

	if (!tty || !S_ISCHR(st->st_mode) || st->st_rdev != tty->rdev || st->st_dev != tty->dev)
		return NULL;
	return tty;
}

/* ---- I/O ---- */

ssize_t tty_read(struct tty *tty, struct file *f, int fd, void *buf, size_t n)
{
	struct task *t = current_task;
	struct linux_termios tio;
	int r;

	r = tty_ctl_check_change(&tty->ctl, t, LINUX_SIGTTIN);
	if (r)
		return r;
	if (ioctl(fd, TCGETS, &tio) < 0)
		return -errno;
	bool canon = tio.c_lflag & LINUX_ICANON;
	/* Non-canonical reads with VMIN 0 return what is there, or 0 after VTIME tenths. */
	bool timed = !canon && tio.c_cc[LINUX_VMIN] == 0;
	bool poll_only = timed && tio.c_cc[LINUX_VTIME] == 0;
	struct timespec deadline,
	    rel = {tio.c_cc[LINUX_VTIME] / 10, (tio.c_cc[LINUX_VTIME] % 10) * 100000000L};
	if (timed)
		deadline_after(&deadline, &rel);

	for (;;) {
		if (!(f->flags & LINUX_O_NONBLOCK) && t && !poll_only) {
			r = task_host_wait(t, fd, POLLIN, timed ? &deadline : NULL);
			if (r == -ETIMEDOUT)
				return 0;
			if (r < 0)
				return r;
		}
		/* Readiness and the read under one lock, so two sandbox readers cannot both see
		 * the same line ready and one of them then block in the host's read. */
		pthread_mutex_lock(&tty->read_lock);
		int rev = host_fd_ready(fd, POLLIN);
		size_t len = n;
		if (rev & POLLIN) {
			int avail = 0;
			/* What is ready (whole lines in canonical mode) can be read without
			 * blocking; 0 ready but readable in canonical mode is an end-of-file mark.
			 */
			if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0)
				len = MIN(n, (size_t)avail);
			else if (!canon)
				rev = 0;
		}
		if (!rev) {
			pthread_mutex_unlock(&tty->read_lock);
			if (poll_only)
				return 0;
			if ((f->flags & LINUX_O_NONBLOCK) || !t)
				return -EAGAIN;
			continue;
		}
		ssize_t got;
		do
			got = read(fd, buf, len);
		while (got < 0 && errno == EINTR);
		int e = errno;
		pthread_mutex_unlock(&tty->read_lock);
		return got < 0 ? -e : got;
	}
}

ssize_t tty_write(struct tty *tty, struct file *f, int fd, const void *buf, size_t n)
{
	struct task *t = current_task;
	struct linux_termios tio;
	ssize_t r;

	if (ioctl(fd, TCGETS, &tio) == 0 && (tio.c_lflag & LINUX_TOSTOP)) {
		r = tty_ctl_check_change(&tty->ctl, t, LINUX_SIGTTOU);
		if (r)
			return r;
	}
	if (!host_fd_ready(fd, POLLOUT)) {
		/* Output is held (^S, or a full pty buffer): wait interruptibly. */
		if ((f->flags & LINUX_O_NONBLOCK) || !t)
			return -EAGAIN;
		r = task_host_wait(t, fd, POLLOUT, NULL);
		if (r < 0)
			return r;
	}
	do
		r = write(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* ---- ioctls ---- */

/* The window size: the host's, unless the sandbox set one since the host's last changed. */
static int get_winsize(struct tty *tty, int fd, struct linux_winsize *ws)
{
	struct winsize h;

	if (ioctl(fd, TIOCGWINSZ, &h) < 0)
		return -errno;
	struct linux_winsize host = {h.ws_row, h.ws_col, h.ws_xpixel, h.ws_ypixel};
	pthread_mutex_lock(&tty->winsz_lock);
	if (tty->winsz_set && memcmp(&host, &tty->host_at_set, sizeof(host)) != 0)
		tty->winsz_set = false;
	*ws = tty->winsz_set ? tty->winsz : host;
	pthread_mutex_unlock(&tty->winsz_lock);
	return 0;
}

/* TIOCSWINSZ, emulated (the Sentry may not resize the host terminal): the new size is shown
 * to the sandbox and SIGWINCH goes to the foreground group when it changes, as tty_do_resize. */
static int set_winsize(struct tty *tty, int fd, const struct linux_winsize *ws)
{
	struct winsize h;
	struct linux_winsize old;
	int r = get_winsize(tty, fd, &old);

	if (r < 0)
		return r;
	if (ioctl(fd, TIOCGWINSZ, &h) < 0)
		return -errno;
	pthread_mutex_lock(&tty->winsz_lock);
	tty->winsz = *ws;
	tty->host_at_set = (struct linux_winsize){h.ws_row, h.ws_col, h.ws_xpixel, h.ws_ypixel};
	tty->winsz_set = true;
	pthread_mutex_unlock(&tty->winsz_lock);
	if (memcmp(&old, ws, sizeof(old)) != 0) {
		tty_ctl_kill_fg(&tty->ctl, LINUX_SIGWINCH);
	}
	return 0;
}

/* tcflush/tcdrain through the calls the Sentry may make: TCSETSF with unchanged attributes
 * discards pending input, TCSETSW waits until output is written. Discarding output is not
 * possible and is a no-op. */
static int flush_or_drain(int fd, unsigned long how)
{
	struct linux_termios tio;

	if (ioctl(fd, TCGETS, &tio) < 0 || ioctl(fd, how, &tio) < 0)
		return -errno;
	return 0;
}

long tty_ioctl(struct tty *tty, struct file *f, int fd, struct task *t, unsigned int cmd,
	       uint64_t arg)
{
	struct linux_winsize ws;
	long r;
	int v;

	r = tty_ctl_ioctl(&tty->ctl, f, t, cmd, arg);
	if (r != TTY_IOCTL_UNHANDLED)
		return r;
	switch (cmd) {
	case LINUX_TCGETS:
	case LINUX_FIONREAD:
		return host_tty_ioctl(fd, t, cmd, arg);
	case LINUX_TCSETS:
	case LINUX_TCSETSW:
	case LINUX_TCSETSF:
		r = tty_ctl_check_change(&tty->ctl, t, LINUX_SIGTTOU);
		if (r)
			return r;
		/* Forwarded: echo, canonical mode and ISIG take effect on the real terminal. */
		return host_tty_ioctl(fd, t, cmd, arg);
	case LINUX_TIOCGWINSZ:
		r = get_winsize(tty, fd, &ws);
		return r < 0 ? r : copy_out(t->mm, arg, &ws, sizeof(ws));
	case LINUX_TIOCSWINSZ:
		if (copy_in(t->mm, &ws, arg, sizeof(ws)) < 0)
			return -EFAULT;
		return set_winsize(tty, fd, &ws);
	case LINUX_TCFLSH:
		r = tty_ctl_check_change(&tty->ctl, t, LINUX_SIGTTOU);
		if (r)
			return r;
		if (arg > LINUX_TCIOFLUSH)
			return -EINVAL;
		return arg == LINUX_TCOFLUSH ? 0 : flush_or_drain(fd, TCSETSF);
	case LINUX_TCSBRK:
	case LINUX_TCSBRKP:
		/* tcdrain, or a break (which a pseudo-terminal ignores): wait for the output */
		return flush_or_drain(fd, TCSETSW);
	case LINUX_TIOCGETD:
		v = 0; /* N_TTY */
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_TIOCEXCL:
	case LINUX_TIOCNXCL:
		return 0;
	case LINUX_TIOCGEXCL:
		v = 0;
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_TIOCSTI:
		return -EIO; /* dev.tty.legacy_tiocsti=0, Linux 6.2's default */
	}
	return -ENOTTY;
}

/* ---- the console's files: /dev/pts/0, and /dev/tty for its session ---- */

static ssize_t ttydev_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct tty *tty = f->priv;

	(void)pos;
	return tty_read(tty, f, tty->fd, buf, n);
}

static ssize_t ttydev_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct tty *tty = f->priv;

	(void)pos;
	return tty_write(tty, f, tty->fd, buf, n);
}

static long ttydev_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct tty *tty = f->priv;

	return tty_ioctl(tty, f, tty->fd, t, cmd, arg);
}

static unsigned ttydev_poll(struct file *f, struct poll_table *pt)
{
	return host_fd_poll(((struct tty *)f->priv)->fd, pt);
}

static int ttydev_fsync(struct file *f)
{
	(void)f;
	return -EINVAL;
}

/* /dev/pts/0, the console by name: no controlling-terminal check; as tty_open, a session
 * leader without a controlling terminal that opens it without O_NOCTTY acquires it. */
static int console_open(struct inode *inode, struct file *f)
{
	struct task *t = current_task;
	struct tty *tty = console();

	(void)inode;
	if (!tty)
		return -ENXIO;
	tty_ctl_open(&tty->ctl, f, t);
	f->priv = tty;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	return 0;
}

const struct file_ops tty_console_fops = {
    .open = console_open,
    .read = ttydev_read,
    .write = ttydev_write,
    .ioctl = ttydev_ioctl,
    .fsync = ttydev_fsync,
    .poll = ttydev_poll,
};

void tty_console_ids(struct tty *tty, uint64_t *dev, uint64_t *ino, uint64_t *rdev)
{
	*dev = tty->node_dev;
	*ino = tty->node_ino;
	*rdev = VFS_MKDEV(TTY_CONSOLE_MAJOR, TTY_CONSOLE_MINOR);
}

/* /dev/tty on the console (tty_job.c's tty_dev_fops call these through struct tty_ctl). */
static struct tty *ctl_tty(struct tty_ctl *c)
{
	return (struct tty *)((char *)c - offsetof(struct tty, ctl));
}

static int console_ctl_get(struct tty_ctl *c, struct file *f)
{
	(void)c;
	(void)f;
	return 0; /* the console lives as long as the Sentry */
}

static void console_ctl_put(struct tty_ctl *c, struct file *f)
{
	(void)c;
	(void)f;
}

static ssize_t console_ctl_read(struct tty_ctl *c, struct file *f, void *buf, size_t n)
{
	return tty_read(ctl_tty(c), f, ctl_tty(c)->fd, buf, n);
}

static ssize_t console_ctl_write(struct tty_ctl *c, struct file *f, const void *buf, size_t n)
{
	return tty_write(ctl_tty(c), f, ctl_tty(c)->fd, buf, n);
}

static long console_ctl_ioctl(struct tty_ctl *c, struct file *f, struct task *t, unsigned int cmd,
			      uint64_t arg)
{
	return tty_ioctl(ctl_tty(c), f, ctl_tty(c)->fd, t, cmd, arg);
}

static unsigned console_ctl_poll(struct tty_ctl *c, struct file *f, struct poll_table *pt)
{
	(void)f;
	return host_fd_poll(ctl_tty(c)->fd, pt);
}

static const struct tty_ctl_ops console_ctl_ops = {
    .get = console_ctl_get,
    .put = console_ctl_put,
    .read = console_ctl_read,
    .write = console_ctl_write,
    .ioctl = console_ctl_ioctl,
    .poll = console_ctl_poll,
};

/* ---- the host terminal's signals ---- */

static const int tty_signals[] = {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH};
static atomic_uint g_sig_pending; /* bit per host signal number */
static atomic_int g_sig_tid;	  /* the host tid of the forwarding thread */

/* Any thread: note the signal; a thread other than the forwarder kicks it. */
static void tty_sig_handler(int sig)
{
	int saved = errno;
	int tid = atomic_load(&g_sig_tid);

	atomic_fetch_or(&g_sig_pending, 1u << sig);
	if (tid && syscall(SYS_gettid) != tid)
		syscall(SYS_tgkill, getpid(), tid, SENTRY_KICK_SIGNAL);
	errno = saved;
}

static int host_to_linux_sig(int sig)
{
	switch (sig) {
	case SIGINT:
		return LINUX_SIGINT;
	case SIGQUIT:
		return LINUX_SIGQUIT;
	case SIGTSTP:
		return LINUX_SIGTSTP;
	default:
		return LINUX_SIGWINCH;
	}
}

/* Send one host terminal signal to the sandbox's foreground process group. */
static void tty_forward(int sig)
{
	int lsig = host_to_linux_sig(sig), pgrp = 0;
	struct tty *con = console();

	if (con) {
		kernel_lock();
		if (tty_ctl_session_locked(&con->ctl))
			pgrp = con->ctl.pgrp;
		kernel_unlock();
		tty_ctl_kill_fg(&con->ctl, lsig);
	} else if (lsig != LINUX_SIGTSTP) {
		/* no terminal: init's group (the sandbox as a whole) */
		kernel_lock();
		if (g_kernel.init) {
			pgrp = g_kernel.init->pgid;
			tty_kill_pgrp_locked(pgrp, lsig);
		}
		kernel_unlock();
	}
	log_debug("tty: host signal %d -> process group %d", sig, pgrp);
}

static void *tty_signal_thread(void *arg)
{
	sigset_t wait_mask;

	(void)arg;
	prctl(PR_SET_NAME, "tty-signals");
	/* The kick is blocked too outside the wait, whatever the creating thread had. */
	sigemptyset(&wait_mask);
	sigaddset(&wait_mask, SENTRY_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &wait_mask, NULL);
	atomic_store(&g_sig_tid, (int)syscall(SYS_gettid));
	pthread_sigmask(SIG_SETMASK, NULL, &wait_mask);
	for (size_t i = 0; i < ARRAY_SIZE(tty_signals); i++)
		sigdelset(&wait_mask, tty_signals[i]);
	sigdelset(&wait_mask, SENTRY_KICK_SIGNAL);
	for (;;) {
		/* The signals are unblocked only inside this wait: none can slip in between. */
		unsigned bits = atomic_exchange(&g_sig_pending, 0);
		if (!bits) {
			ppoll(NULL, 0, NULL, &wait_mask);
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(tty_signals); i++)
			if (bits & (1u << tty_signals[i]))
				tty_forward(tty_signals[i]);
	}
	return NULL;
}

int tty_signals_start(void)
{
	struct sigaction sa;
	sigset_t set;
	pthread_t th;
	int r;

	sigemptyset(&set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_sig_handler;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(tty_signals); i++) {
		sigaddset(&set, tty_signals[i]);
		if (sigaction(tty_signals[i], &sa, NULL) < 0)
			return -errno;
	}
	/* Blocked here, so in every thread created from now on; the forwarder waits for them. */
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	r = pthread_create(&th, NULL, tty_signal_thread, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	return 0;
}
