/* Job control for every terminal (the console in tty.c, pseudo-terminals in pty.c): sessions
 * and foreground process groups with sandbox pids, background reads and writes, the
 * job-control ioctls, /dev/tty, and what a session leader's exit or a hang-up does. */
#include "sentry/fs/tty.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sentry/kernel/cred.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

static struct tty_ctl *g_ttys; /* the registry (g_kernel.lock) */

void tty_ctl_register(struct tty_ctl *c)
{
	kernel_lock();
	c->next = g_ttys;
	g_ttys = c;
	kernel_unlock();
}

void tty_ctl_unregister(struct tty_ctl *c)
{
	kernel_lock();
	for (struct tty_ctl **p = &g_ttys; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	kernel_unlock();
}

/* ---- sessions and process groups (g_kernel.lock held) ---- */

struct pgrp_scan {
	int id;
	bool found;
	int sid; /* the session of the group (or of the process with that pid) */
	bool orphaned;
	int signo; /* when set: send it to every process of the group */
};

static int scan_session(struct thread_group *tg, void *arg)
{
	struct pgrp_scan *s = arg;

	if (tg->state == TG_ALIVE && tg->sid == s->id) {
		s->found = true;
		return 1;
	}
	return 0;
}

int tty_ctl_session_locked(struct tty_ctl *c)
{
	struct pgrp_scan s = {.id = c->sid};

	if (!c->sid)
		return 0;
	tg_for_each(scan_session, &s);
	return s.found ? c->sid : 0;
}

bool tty_ctl_is_ctty_locked(struct tty_ctl *c, struct task *t)
{
	int sid = tty_ctl_session_locked(c);

	return sid && sid == t->tg->sid;
}

/* The controlling terminal of session sid, or NULL. */
static struct tty_ctl *session_tty_locked(int sid)
{
	for (struct tty_ctl *c = g_ttys; c && sid; c = c->next)
		if (tty_ctl_session_locked(c) == sid)
			return c;
	return NULL;
}

static int scan_pgrp(struct thread_group *tg, void *arg)
{
	struct pgrp_scan *s = arg;

	if (tg->state != TG_ALIVE || tg->pgid != s->id)
		return 0;
	if (!s->found)
		s->sid = tg->sid;
	s->found = true;
	/* will_become_orphaned_pgrp: a parent in another group of the same session keeps the
	 * group attached to job control. */
	if (tg->parent && tg->parent->pgid != s->id && tg->parent->sid == tg->sid)
		s->orphaned = false;
	if (s->signo) {
		struct linux_siginfo info;
		siginfo_kernel(&info, s->signo);
		signal_send_group_locked(tg, &info);
	}
	return 0;
}

/* Send signo (SI_KERNEL, as the tty layer's kill_pgrp) to every process of group pgrp. */
void tty_kill_pgrp_locked(int pgrp, int signo)
{
	struct pgrp_scan s = {.id = pgrp, .signo = signo};

	if (pgrp > 0)
		tg_for_each(scan_pgrp, &s);
}

static bool pgrp_orphaned_locked(int pgrp)
{
	struct pgrp_scan s = {.id = pgrp, .orphaned = true};

	tg_for_each(scan_pgrp, &s);
	return s.orphaned;
}

static bool sig_ignored_locked(struct task *t, int sig)
{
	uint64_t bit = 1ULL << (sig - 1);

	return (t->sigmask & bit) ||
	       (t->tg->sighand && t->tg->sighand->action[sig - 1].handler == LINUX_SIG_IGN);
}

int tty_ctl_check_change(struct tty_ctl *c, struct task *t, int sig)
{
	int r = 0;

	if (!t)
		return 0;
	kernel_lock();
	if (tty_ctl_is_ctty_locked(c, t) && c->pgrp && t->tg->pgid != c->pgrp) {
		if (sig_ignored_locked(t, sig)) {
			if (sig == LINUX_SIGTTIN)
				r = -EIO;
		} else if (pgrp_orphaned_locked(t->tg->pgid)) {
			r = -EIO;
		} else {
			tty_kill_pgrp_locked(t->tg->pgid, sig);
			r = -LINUX_ERESTARTSYS;
		}
	}
	kernel_unlock();
	return r;
}

void tty_ctl_kill_fg(struct tty_ctl *c, int sig)
{
	kernel_lock();
	if (tty_ctl_session_locked(c))
		tty_kill_pgrp_locked(c->pgrp, sig);
	kernel_unlock();
}

void tty_ctl_hangup(struct tty_ctl *c)
{
	kernel_lock();
	int sid = tty_ctl_session_locked(c);
	if (sid) {
		struct thread_group *leader = tg_lookup(sid);
		if (leader && leader->state == TG_ALIVE) {
			struct linux_siginfo info;
			siginfo_kernel(&info, LINUX_SIGHUP);
			signal_send_group_locked(leader, &info);
			siginfo_kernel(&info, LINUX_SIGCONT);
			signal_send_group_locked(leader, &info);
		}
	}
	c->sid = c->pgrp = 0;
	kernel_unlock();
}

void tty_proc_info_locked(int sid, int *tty_nr, int *tpgid)
{
	struct tty_ctl *c = session_tty_locked(sid);

	*tty_nr = c ? (int)c->rdev : 0;
	*tpgid = c ? c->pgrp : -1;
}

void tty_session_leader_exit_locked(struct thread_group *tg)
{
	if (tg->sid != tg->tgid)
		return;
	for (struct tty_ctl *c = g_ttys; c; c = c->next) {
		if (c->sid != tg->sid)
			continue;
		/* disassociate_ctty(1): SIGHUP to the foreground group */
		tty_kill_pgrp_locked(c->pgrp, LINUX_SIGHUP);
		c->sid = c->pgrp = 0;
	}
}

/* ---- the job-control ioctls ---- */

static long set_pgrp(struct tty_ctl *c, struct task *t, uint64_t arg)
{
	int r = tty_ctl_check_change(c, t, LINUX_SIGTTOU), pgrp;

	if (r == -EIO)
		return -ENOTTY;
	if (r)
		return r;
	if (copy_in(t->mm, &pgrp, arg, sizeof(pgrp)) < 0)
		return -EFAULT;
	if (pgrp < 0)
		return -EINVAL;
	kernel_lock();
	if (!tty_ctl_is_ctty_locked(c, t)) {
		r = -ENOTTY;
	} else {
		/* find_vpid: the number of a process group, or of a process */
		struct pgrp_scan s = {.id = pgrp};
		tg_for_each(scan_pgrp, &s);
		if (!s.found) {
			struct thread_group *tg = tg_lookup(pgrp);
			if (tg && tg->state == TG_ALIVE) {
				s.found = true;
				s.sid = tg->sid;
			}
		}
		if (!s.found)
			r = -ESRCH;
		else if (s.sid != t->tg->sid)
			r = -EPERM;
		else
			c->pgrp = pgrp;
	}
	kernel_unlock();
	return r;
}

/* tiocsctty: a session leader without a controlling terminal takes this one; arg 1 lets
 * CAP_SYS_ADMIN steal it from another session. */
static long set_ctty(struct tty_ctl *c, struct file *f, struct task *t, uint64_t arg)
{
	struct thread_group *tg = t->tg;
	bool admin = cred_capable(&t->cred, LINUX_CAP_SYS_ADMIN);
	long r = 0;

	kernel_lock();
	int sid = tty_ctl_session_locked(c);
	if (tg->sid == tg->tgid && sid == tg->sid)
		goto out; /* already ours */
	if (tg->sid != tg->tgid || session_tty_locked(tg->sid)) {
		r = -EPERM;
		goto out;
	}
	if (sid && (arg != 1 || !admin)) {
		r = -EPERM;
		goto out;
	}
	if (!(f->fmode & FMODE_READ) && !admin) {
		r = -EPERM;
		goto out;
	}
	c->sid = tg->sid;
	c->pgrp = tg->pgid;
out:
	kernel_unlock();
	return r;
}

/* tiocnotty: a session leader gives its terminal up (SIGHUP and SIGCONT to the foreground
 * group). Other processes of the session keep seeing it: the Sentry ties a controlling
 * terminal to a session, not to each process. */
static long release_ctty(struct tty_ctl *c, struct task *t)
{
	long r = 0;

	kernel_lock();
	if (!tty_ctl_is_ctty_locked(c, t)) {
		r = -ENOTTY;
	} else if (t->tg->sid == t->tg->tgid) {
		int fg = c->pgrp;
		tty_kill_pgrp_locked(fg, LINUX_SIGHUP);
		tty_kill_pgrp_locked(fg, LINUX_SIGCONT);
		c->sid = c->pgrp = 0;
	}
	kernel_unlock();
	return r;
}

long tty_ctl_ioctl(struct tty_ctl *c, struct file *f, struct task *t, unsigned int cmd,
		   uint64_t arg)
{
	int r, v;

	switch (cmd) {
	case LINUX_TIOCGPGRP:
	case LINUX_TIOCGSID:
		/* Only on the caller's controlling terminal; no foreground group reads 0. */
		kernel_lock();
		r = tty_ctl_is_ctty_locked(c, t) ? 0 : -ENOTTY;
		v = cmd == LINUX_TIOCGSID ? c->sid : c->pgrp;
		kernel_unlock();
		return r < 0 ? r : copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_TIOCSPGRP:
		return set_pgrp(c, t, arg);
	case LINUX_TIOCSCTTY:
		return set_ctty(c, f, t, arg);
	case LINUX_TIOCNOTTY:
		return release_ctty(c, t);
	}
	return TTY_IOCTL_UNHANDLED;
}

void tty_ctl_open(struct tty_ctl *c, struct file *f, struct task *t)
{
	if (!t || (f->flags & LINUX_O_NOCTTY))
		return;
	kernel_lock();
	if (t->tg->sid == t->tg->tgid && !tty_ctl_session_locked(c) &&
	    !session_tty_locked(t->tg->sid)) {
		c->sid = t->tg->sid;
		c->pgrp = t->tg->pgid;
	}
	kernel_unlock();
}

/* ---- /dev/tty: the caller's controlling terminal, whichever it is ---- */

static int ttydev_open(struct inode *inode, struct file *f)
{
	struct task *t = current_task;
	struct tty_ctl *c;
	int r;

	(void)inode;
	if (!t)
		return -ENXIO;
	kernel_lock();
	c = session_tty_locked(t->tg->sid);
	/* get under the lock: the terminal cannot go away meanwhile */
	r = c ? c->ops->get(c, f) : -ENXIO;
	kernel_unlock();
	if (r < 0)
		return r;
	f->priv = c;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	return 0;
}

static void ttydev_release(struct file *f)
{
	struct tty_ctl *c = f->priv;

	c->ops->put(c, f);
}

static ssize_t ttydev_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct tty_ctl *c = f->priv;

	(void)pos;
	return c->ops->read(c, f, buf, n);
}

static ssize_t ttydev_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct tty_ctl *c = f->priv;

	(void)pos;
	return c->ops->write(c, f, buf, n);
}

static long ttydev_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct tty_ctl *c = f->priv;

	return c->ops->ioctl(c, f, t, cmd, arg);
}

static unsigned ttydev_poll(struct file *f, struct poll_table *pt)
{
	struct tty_ctl *c = f->priv;

	return c->ops->poll(c, f, pt);
}

static int ttydev_fsync(struct file *f)
{
	(void)f;
	return -EINVAL;
}

const struct file_ops tty_dev_fops = {
    .open = ttydev_open,
    .release = ttydev_release,
    .read = ttydev_read,
    .write = ttydev_write,
    .ioctl = ttydev_ioctl,
    .fsync = ttydev_fsync,
    .poll = ttydev_poll,
};
