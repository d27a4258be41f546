/* Process syscalls: fork, vfork, clone, clone3, execve(at), exit(_group), wait4, waitid, process
 * groups and sessions, futex. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

long sys_futex(struct task *t, const struct syscall_args *a); /* sentry/kernel/futex.c */

/* ---- creating processes ---- */

SYSCALL_DEFINE(fork) { return process_clone(t, 0, 0, 0, 0, 0, LINUX_SIGCHLD); }

SYSCALL_DEFINE(vfork)
{
	return process_clone(t, LINUX_CLONE_VM | LINUX_CLONE_VFORK, 0, 0, 0, 0, LINUX_SIGCHLD);
}

/* x86-64 argument order: flags, stack, parent_tid, child_tid, tls. */
SYSCALL_DEFINE(clone)
{
	uint64_t flags = a->a[0];
	return process_clone(t, flags & ~0xffULL, a->a[1], a->a[2], a->a[3], a->a[4],
			     (int)(flags & 0xff));
}

struct linux_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

SYSCALL_DEFINE(clone3)
{
	struct linux_clone_args ca;
	size_t size = (size_t)a->a[1];

	if (size < 64 || size > 4096)
		return -EINVAL;
	memset(&ca, 0, sizeof(ca));
	if (copy_in(t->mm, &ca, a->a[0], MIN(size, sizeof(ca))))
		return -EFAULT;
	if (size > sizeof(ca)) {
		/* unknown trailing fields must be zero, as Linux's copy_struct_from_user */
		uint8_t tail[64];
		for (size_t off = sizeof(ca); off < size; off += sizeof(tail)) {
			size_t n = MIN(sizeof(tail), size - off);
			if (copy_in(t->mm, tail, a->a[0] + off, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (tail[i])
					return -E2BIG;
		}
	}
	if (ca.set_tid || ca.set_tid_size || ca.cgroup || (ca.exit_signal & ~0xffULL) ||
	    (ca.flags & 0xff))
		return -EINVAL;
	if ((ca.stack == 0) != (ca.stack_size == 0))
		return -EINVAL;
	return process_clone(t, ca.flags, ca.stack ? ca.stack + ca.stack_size : 0, ca.parent_tid,
			     ca.child_tid, ca.tls, (int)ca.exit_signal);
}

/* ---- exec ---- */

static long do_execveat(struct task *t, int dirfd, uint64_t upath, uint64_t uargv, uint64_t uenvp,
			int flags)
{
	char *path = malloc(LINUX_PATH_MAX);
	char **argv = NULL, **envp = NULL;
	size_t total = 0;
	long r;

	if (!path)
		return -ENOMEM;
	if (flags & ~(LINUX_AT_EMPTY_PATH | LINUX_AT_SYMLINK_NOFOLLOW)) {
		r = -EINVAL;
		goto out;
	}
	r = copy_in_str(t->mm, path, upath, LINUX_PATH_MAX);
	if (r < 0)
		goto out;
	r = copy_in_strv(t->mm, uargv, &argv, &total, LOADER_ARG_MAX);
	if (r < 0)
		goto out;
	r = copy_in_strv(t->mm, uenvp, &envp, &total, LOADER_ARG_MAX);
	if (r < 0)
		goto out;
	r = process_execve(t, dirfd, path, argv, envp, flags);
out:
	strv_free(argv);
	strv_free(envp);
	free(path);
	return r;
}

SYSCALL_DEFINE(execve)
{
	return do_execveat(t, LINUX_AT_FDCWD, a->a[0], a->a[1], a->a[2], 0);
}

SYSCALL_DEFINE(execveat)
{
	return do_execveat(t, (int)a->a[0], a->a[1], a->a[2], a->a[3], (int)a->a[4]);
}

/* ---- exit ---- */

SYSCALL_DEFINE(exit)
{
	task_exit_thread(t, (int)(a->a[0] & 0xff));
	return 0;
}

SYSCALL_DEFINE(exit_group)
{
	task_exit_group(t, LINUX_W_EXITCODE((int)(a->a[0] & 0xff), 0));
	return 0;
}

/* ---- wait ---- */

struct wait_result {
	int pid;
	int status;   /* wait4's status word */
	int code;     /* waitid's CLD_* */
	int cstatus;
	uint32_t cuid;
	struct linux_rusage ru; /* an exited child's usage (rusage.h), else zeros */
	bool want_ru;           /* the caller asked for ru: wait for its figures (rusage.h) */
};

/* Does child match (idtype, id) and the __WCLONE/__WALL rule? */
static bool wait_matches(struct thread_group *ch, int idtype, int id, int options)
{
	if (!(options & LINUX_WALL)) {
		bool is_clone = ch->exit_signal != LINUX_SIGCHLD;
		if (!!(options & LINUX_WCLONE) != is_clone)
			return false;
	}
	switch (idtype) {
	case LINUX_P_ALL:
		return true;
	case LINUX_P_PID:
		return ch->tgid == id;
	case LINUX_P_PGID:
		return ch->pgid == id;
	default: return false;
	}
}

/* One scan of t's children (g_kernel.lock held). Returns 1 with *res filled, 0 when a matching
 * child exists but has nothing to report, 2 when a zombie's usage is still being measured (and
 * res->want_ru), -ECHILD when none matches. */
static int wait_scan_locked(struct task *t, int idtype, int id, int options,
			    struct wait_result *res)
{
	struct list_head *pos, *n;
	bool any = false;

	list_for_each_safe(pos, n, &t->tg->children) {
		struct thread_group *ch = list_entry(pos, struct thread_group, sibling);
		if (!wait_matches(ch, idtype, id, options))
			continue;
		any = true;
		if (ch->state == TG_ZOMBIE && (options & LINUX_WEXITED)) {
			if (res->want_ru && rusage_zombie_pending_locked(ch))
				return 2;
			int st = ch->exit_status;
			res->pid = ch->tgid;
			res->status = st;
			if ((st & 0x7f) == 0) {
				res->code = LINUX_CLD_EXITED;
				res->cstatus = (st >> 8) & 0xff;
			} else {
				res->code =
					(st & LINUX_WCOREFLAG) ? LINUX_CLD_DUMPED : LINUX_CLD_KILLED;
				res->cstatus = st & 0x7f;
			}
			rusage_zombie_locked(ch, &res->ru);
			if (!(options & LINUX_WNOWAIT)) {
				rusage_reap_locked(t->tg, ch);
				ch->state = TG_DEAD;
				tg_release_locked(ch);
			}
			return 1;
		}
		if (ch->state == TG_ALIVE && ch->stopped && ch->stop_unreported &&
		    (options & LINUX_WUNTRACED)) {
			res->pid = ch->tgid;
			res->status = (ch->stop_signo << 8) | 0x7f;
			res->code = LINUX_CLD_STOPPED;
			res->cstatus = ch->stop_signo;
			if (!(options & LINUX_WNOWAIT))
				ch->stop_unreported = false;
			return 1;
		}
		if (ch->state == TG_ALIVE && ch->cont_unreported && (options & LINUX_WCONTINUED)) {
			res->pid = ch->tgid;
			res->status = 0xffff;
			res->code = LINUX_CLD_CONTINUED;
			res->cstatus = LINUX_SIGCONT;
			if (!(options & LINUX_WNOWAIT))
				ch->cont_unreported = false;
			return 1;
		}
	}
	return any ? 0 : -ECHILD;
}

struct child_event_wait {
	struct thread_group *tg;
	uint64_t seen;
};

static bool child_event_happened(void *arg)
{
	struct child_event_wait *w = arg;
	kernel_lock();
	bool r = w->tg->child_events != w->seen;
	kernel_unlock();
	return r;
}

static long do_wait(struct task *t, int idtype, int id, int options, struct wait_result *res)
{
	for (;;) {
		struct child_event_wait w = {.tg = t->tg};
		kernel_lock();
		w.seen = t->tg->child_events;
		int r = wait_scan_locked(t, idtype, id, options, res);
		if (r == 2)
			rusage_wait_locked(); /* then scan again */
		kernel_unlock();
		if (r == 2)
			continue;
		if (r != 0)
			return r;
		if (options & LINUX_WNOHANG)
			return 0;
		r = task_wait(t, &t->tg->child_exit, child_event_happened, &w, NULL);
		if (r < 0)
			return r;
	}
}

SYSCALL_DEFINE(wait4)
{
	int pid = (int)a->a[0], options = (int)a->a[2];
	int idtype, id;
	struct wait_result res = {.want_ru = a->a[3] != 0};
	long r;

	if (options & ~(LINUX_WNOHANG | LINUX_WUNTRACED | LINUX_WCONTINUED | LINUX_WNOTHREAD |
			LINUX_WALL | LINUX_WCLONE))
		return -EINVAL;
	if (pid == -1) {
		idtype = LINUX_P_ALL;
		id = 0;
	} else if (pid < -1) {
		idtype = LINUX_P_PGID;
		id = -pid;
	} else if (pid == 0) {
		idtype = LINUX_P_PGID;
		kernel_lock();
		id = t->tg->pgid;
		kernel_unlock();
	} else {
		idtype = LINUX_P_PID;
		id = pid;
	}
	r = do_wait(t, idtype, id, options | LINUX_WEXITED, &res);
	if (r <= 0)
		return r;
	if (a->a[1] && copy_out(t->mm, a->a[1], &res.status, sizeof(res.status)))
		return -EFAULT;
	if (a->a[3] && copy_out(t->mm, a->a[3], &res.ru, sizeof(res.ru)))
		return -EFAULT;
	return res.pid;
}

SYSCALL_DEFINE(waitid)
{
	int idtype = (int)a->a[0], id = (int)a->a[1], options = (int)a->a[3];
	struct wait_result res = {.want_ru = a->a[4] != 0};
	long r;

	if (options & ~(LINUX_WNOHANG | LINUX_WSTOPPED | LINUX_WEXITED | LINUX_WCONTINUED |
			LINUX_WNOWAIT | LINUX_WNOTHREAD | LINUX_WALL | LINUX_WCLONE))
		return -EINVAL;
	if (!(options & (LINUX_WEXITED | LINUX_WSTOPPED | LINUX_WCONTINUED)))
		return -EINVAL;
	if (idtype == LINUX_P_PGID && id == 0) {
		kernel_lock();
		id = t->tg->pgid;
		kernel_unlock();
	} else if (idtype != LINUX_P_ALL && idtype != LINUX_P_PID && idtype != LINUX_P_PGID) {
		return -EINVAL;
	}
	if ((idtype == LINUX_P_PID || idtype == LINUX_P_PGID) && id <= 0)
		return -EINVAL;
	r = do_wait(t, idtype, id, options, &res);
	if (r < 0)
		return r;
	if (a->a[2]) {
		struct linux_siginfo info;
		memset(&info, 0, sizeof(info));
		if (r > 0) {
			info.si_signo = LINUX_SIGCHLD;
			info.si_code = res.code;
			info.chld.pid = res.pid;
			info.chld.uid = res.cuid;
			info.chld.status = res.cstatus;
		}
		if (copy_out(t->mm, a->a[2], &info, sizeof(info)))
			return -EFAULT;
	}
	if (a->a[4] && copy_out(t->mm, a->a[4], &res.ru, sizeof(res.ru)))
		return -EFAULT;
	return 0;
}

/* ---- identity, process groups, sessions ---- */

SYSCALL_DEFINE(getppid)
{
	kernel_lock();
	int r = t->tg->parent ? t->tg->parent->tgid : 0;
	kernel_unlock();
	return r;
}

struct pgrp_probe {
	int pgid, sid;
	bool found;
};

static int probe_pgrp(struct thread_group *tg, void *arg)
{
	struct pgrp_probe *p = arg;
	if (tg->state == TG_ALIVE && tg->pgid == p->pgid && (p->sid == 0 || tg->sid == p->sid)) {
		p->found = true;
		return 1;
	}
	return 0;
}

SYSCALL_DEFINE(setpgid)
{
	int pid = (int)a->a[0], pgid = (int)a->a[1];
	struct thread_group *tg;
	long r = 0;

	if (pgid < 0 || pid < 0)
		return -EINVAL;
	kernel_lock();
	if (pid == 0)
		pid = t->tgid;
	if (pgid == 0)
		pgid = pid;
	tg = tg_lookup(pid);
	if (!tg || tg->state != TG_ALIVE || (tg != t->tg && tg->parent != t->tg)) {
		r = -ESRCH;
		goto out;
	}
	if (tg != t->tg) {
		if (tg->sid != t->tg->sid) {
			r = -EPERM;
			goto out;
		}
		if (tg->did_exec) {
			r = -EACCES;
			goto out;
		}
	}
	if (tg->sid == tg->tgid) { /* a session leader */
		r = -EPERM;
		goto out;
	}
	if (pgid != tg->tgid) {
		struct pgrp_probe p = {.pgid = pgid, .sid = t->tg->sid};
		tg_for_each(probe_pgrp, &p);
		if (!p.found) {
			r = -EPERM;
			goto out;
		}
	}
	tg->pgid = pgid;
out:
	kernel_unlock();
	return r;
}

/* The process group id (or with sid, the session id) of process pid (0: t's), or -ESRCH. */
static long pgid_or_sid(struct task *t, int pid, bool sid)
{
	kernel_lock();
	struct thread_group *tg = pid ? tg_lookup(pid) : t->tg;
	long r = tg && tg->state != TG_DEAD ? (sid ? tg->sid : tg->pgid) : -ESRCH;
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(getpgid) { return pgid_or_sid(t, (int)a->a[0], false); }

SYSCALL_DEFINE(getpgrp)
{
	kernel_lock();
	long r = t->tg->pgid;
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(getsid) { return pgid_or_sid(t, (int)a->a[0], true); }

SYSCALL_DEFINE(setsid)
{
	long r;
	kernel_lock();
	struct pgrp_probe p = {.pgid = t->tgid, .sid = 0};
	tg_for_each(probe_pgrp, &p);
	if (p.found) {
		r = -EPERM; /* already a process group leader (or its id is a group in use) */
	} else {
		t->tg->sid = t->tg->pgid = t->tgid;
		r = t->tgid;
	}
	kernel_unlock();
	return r;
}

#define E(name) {LINUX_SYS_##name, sys_##name}
const struct syscall_entry sys_process_table[] = {
	E(fork), E(execve), E(execveat), E(exit), E(exit_group), E(getppid), E(setpgid),
	E(getpgid), E(getpgrp), E(getsid), E(setsid),
	E(vfork),
	{LINUX_SYS_clone, sys_clone, "partial: no CLONE_NEW* namespaces, CLONE_PIDFD, CLONE_PTRACE"},
	{LINUX_SYS_clone3, sys_clone3, "partial: as clone; no set_tid, cgroup"},
	{LINUX_SYS_wait4, sys_wait4, "partial: rusage as getrusage measures it (sys_res.c)"},
	{LINUX_SYS_waitid, sys_waitid, "partial: no P_PIDFD; rusage of exited children only"},
	{LINUX_SYS_futex, sys_futex,
	 "partial: no PI futexes (ENOSYS)"},
	{-1, NULL},
};
