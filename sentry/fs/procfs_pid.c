/* procfs: what /proc/PID shows of a process, read from the process table. Everything about a
 * task is read under g_kernel.lock; its mm, fd table, fs context and executable are pinned with
 * references there and used after the lock is dropped (the lock is never held across the mm or
 * the VFS). */
#define _GNU_SOURCE /* sched_getaffinity */
#include "sentry/fs/procfs.h"
#include "sentry/fs/procfs_task.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/fs/tty.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"

#define PF_FORKNOEXEC 0x00000040u
#define PF_RANDOMIZE 0x00400000u
#define USER_HZ 100

/* ---- finding tasks (g_kernel.lock held) ---- */

struct task *proc_find_task_locked(int tgid, int tid)
{
	struct thread_group *tg = tg_lookup(tgid);
	struct task *t;

	if (!tg || tg->state == TG_DEAD)
		return NULL;
	t = task_lookup(tid ? tid : tgid);
	return (t && t->tg == tg) ? t : NULL;
}

/* A thread of t's group whose resources stand for the process: t itself while it has an mm,
 * else (the leader has exited, the others run on) the first thread that has one. */
static struct task *proc_rep_locked(struct task *t, int tid)
{
	struct list_head *pos;

	if (tid || t->mm)
		return t;
	list_for_each(pos, &t->tg->threads)
	{
		struct task *o = list_entry(pos, struct task, tg_link);
		if (o->mm)
			return o;
	}
	return t;
}

void proc_refs_take_locked(struct task *t, int tid, unsigned what, struct proc_refs *r)
{
	struct task *rep = proc_rep_locked(t, tid);

	memset(r, 0, sizeof(*r));
	if ((what & PROC_REF_MM) && rep->mm) {
		mm_get(rep->mm);
		r->mm = rep->mm;
	}
	if ((what & PROC_REF_FDT) && rep->fdt)
		r->fdt = fdtable_get_ref(rep->fdt);
	if ((what & PROC_REF_FS) && rep->fs)
		r->fs = fs_context_get(rep->fs);
	if ((what & PROC_REF_EXE) && rep->exe_file)
		r->exe = file_get(rep->exe_file);
}

int proc_refs_get(int tgid, int tid, unsigned what, struct proc_refs *r)
{
	struct task *t;

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	if (t)
		proc_refs_take_locked(t, tid, what, r);
	kernel_unlock();
	return t ? 0 : -ESRCH;
}

void proc_refs_put(struct proc_refs *r)
{
	if (r->mm)
		mm_put(r->mm);
	if (r->fdt)
		fdtable_put(r->fdt);
	if (r->fs)
		fs_context_put(r->fs);
	if (r->exe)
		file_put(r->exe);
	memset(r, 0, sizeof(*r));
}

bool proc_tg_exists(int tgid)
{
	kernel_lock();
	bool r = proc_find_task_locked(tgid, 0) != NULL;
	kernel_unlock();
	return r;
}

bool proc_thread_exists(int tgid, int tid)
{
	kernel_lock();
	struct task *t = proc_find_task_locked(tgid, tid);
	/* An exited thread other than the leader is gone from the table already. */
	bool r = t != NULL;
	kernel_unlock();
	return r;
}

bool proc_tg_owner(int tgid, uint32_t *uid, uint32_t *gid)
{
	kernel_lock();
	struct task *t = proc_find_task_locked(tgid, 0);
	if (t && t->dumpable) {
		*uid = t->cred.euid;
		*gid = t->cred.egid;
	} else if (t) {
		*uid = *gid = 0;
	}
	kernel_unlock();
	return t != NULL;
}

int proc_thread_ids(int tgid, int *out, int max)
{
	struct list_head *pos;
	int n = 0;

	kernel_lock();
	struct task *t = proc_find_task_locked(tgid, 0);
	if (t) {
		list_for_each(pos, &t->tg->threads)
		{
			struct task *o = list_entry(pos, struct task, tg_link);
			if (n < max)
				out[n++] = o->tid;
		}
	}
	kernel_unlock();
	/* Threads are listed in creation order; /proc lists them by id. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int x = out[j];
			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	return n;
}

struct collect_ids {
	int min, n, max;
	int *out;
};

static int collect_tg(struct thread_group *tg, void *arg)
{
	struct collect_ids *c = arg;

	if (tg->tgid < c->min || tg->state == TG_DEAD)
		return 0;
	c->out[c->n++] = tg->tgid;
	return c->n == c->max;
}

int proc_tg_ids(int min, int *out, int max)
{
	struct collect_ids c = {min, 0, max, out};

	if (max <= 0)
		return 0;
	kernel_lock();
	tg_for_each(collect_tg, &c);
	kernel_unlock();
	return c.n;
}

/* ---- links and fds ---- */

int proc_pid_exe(int tgid, int tid, struct path *out)
{
	struct proc_refs r;

	if (proc_refs_get(tgid, tid, PROC_REF_EXE, &r) < 0 || !r.exe)
		return -ENOENT;
	*out = r.exe->path;
	path_get(out);
	proc_refs_put(&r);
	return 0;
}

int proc_pid_cwd(int tgid, int tid, struct path *out)
{
	struct proc_refs r;

	if (proc_refs_get(tgid, tid, PROC_REF_FS, &r) < 0 || !r.fs)
		return -ENOENT;
	fs_context_get_cwd(r.fs, out);
	proc_refs_put(&r);
	return 0;
}

int proc_pid_root(int tgid, int tid, struct path *out)
{
	struct proc_refs r;

	if (proc_refs_get(tgid, tid, PROC_REF_FS, &r) < 0 || !r.fs)
		return -ENOENT;
	pthread_mutex_lock(&r.fs->lock);
	*out = r.fs->root;
	path_get(out);
	pthread_mutex_unlock(&r.fs->lock);
	proc_refs_put(&r);
	return 0;
}

struct file *proc_pid_fd_file(int tgid, int tid, int fd, bool *cloexec)
{
	struct proc_refs r;
	struct file *f = NULL;

	if (fd < 0 || proc_refs_get(tgid, tid, PROC_REF_FDT, &r) < 0)
		return NULL;
	if (r.fdt) {
		f = fdtable_get(r.fdt, fd);
		if (f && cloexec)
			*cloexec = fdtable_get_cloexec(r.fdt, fd) > 0;
	}
	proc_refs_put(&r);
	return f;
}

int proc_pid_next_fd(int tgid, int tid, int from)
{
	struct proc_refs r;
	int fd = -1;

	if (from < 0 || proc_refs_get(tgid, tid, PROC_REF_FDT, &r) < 0)
		return -1;
	if (r.fdt)
		fd = fdtable_next_fd(r.fdt, from);
	proc_refs_put(&r);
	return fd;
}

int proc_gen_fdinfo(struct pbuf *b, int tgid, int tid, int fd)
{
	bool cloexec = false;
	struct file *f = proc_pid_fd_file(tgid, tid, fd, &cloexec);

	if (!f)
		return -ENOENT;
	pthread_mutex_lock(&f->pos_lock);
	uint64_t pos = f->pos;
	pthread_mutex_unlock(&f->pos_lock);
	pbuf_printf(b, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)pos,
		    (unsigned)(file_flags(f) | (cloexec ? LINUX_O_CLOEXEC : 0)),
		    proc_mount_id(f->path.mnt), (unsigned long long)f->inode->ino);
	file_put(f);
	return 0;
}

/* ---- stat, status, statm ---- */

/* Online CPUs the Sentry may run on (sched_getaffinity), at least 1. */
int proc_ncpus(void)
{
	static int n;
	cpu_set_t set;

	if (n == 0) {
		CPU_ZERO(&set);
		int c = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
		n = c > 0 ? c : 1;
	}
	return n;
}

static char task_state_locked(const struct task *t)
{
	const struct thread_group *tg = t->tg;

	if (tg->state == TG_ZOMBIE || (tg->nr_threads == 0 && tg->state != TG_ALIVE))
		return 'Z';
	if (tg->state == TG_DEAD)
		return 'X';
	if (tg->stopped)
		return 'T';
	if (t == current_task || atomic_load(&((struct task *)t)->in_user))
		return 'R';
	return 'S';
}

/* Linux's ptrace_may_access(PTRACE_MODE_READ_FSCREDS) for the caller on target creds: root, or
 * the same ids and a dumpable target. */
bool proc_may_access_locked(const struct task *target)
{
	const struct task *cur = current_task;
	const struct creds *c, *tc = &target->cred;

	if (!cur || cur->tg == target->tg)
		return true;
	c = &cur->cred;
	if (c->euid == 0)
		return true;
	return target->dumpable && c->fsuid == tc->ruid && c->fsuid == tc->euid &&
	       c->fsuid == tc->suid && c->fsgid == tc->rgid && c->fsgid == tc->egid &&
	       c->fsgid == tc->sgid;
}

static void fill_info_locked(struct task *t, int tid, struct proc_task_info *ti)
{
	struct thread_group *tg = t->tg;
	uint64_t ign = 0, caught = 0;

	memset(ti, 0, sizeof(*ti));
	ti->pid = tid ? t->tid : tg->tgid;
	ti->tgid = tg->tgid;
	ti->ppid = tg->parent ? tg->parent->tgid : 0;
	ti->pgid = tg->pgid;
	ti->sid = tg->sid;
	memcpy(ti->comm, t->comm, sizeof(ti->comm));
	ti->state = task_state_locked(t);
	tty_proc_info_locked(tg->sid, &ti->tty_nr, &ti->tpgid);
	ti->flags = PF_RANDOMIZE | ((tg->did_exec || !tg->parent) ? 0 : PF_FORKNOEXEC);
	ti->nthreads = MAX(tg->nr_threads, 1); /* a zombie counts its leader, as Linux */
	if (tg->start_time_ns > (int64_t)g_kernel.boot_time_ns)
		ti->start_ticks = ((uint64_t)tg->start_time_ns - g_kernel.boot_time_ns) /
				  (1000000000ULL / USER_HZ);
	ti->sig_pending = t->pending.set;
	ti->shared_pending = tg->shared_pending.set;
	ti->sig_blocked = t->sigmask;
	if (tg->sighand) {
		for (int s = 1; s <= LINUX_NSIG; s++) {
			uint64_t h = tg->sighand->action[s - 1].handler;
			if (h == LINUX_SIG_IGN)
				ign |= 1ULL << (s - 1);
			else if (h != LINUX_SIG_DFL)
				caught |= 1ULL << (s - 1);
		}
	}
	ti->sig_ignored = ign;
	ti->sig_caught = caught;
	ti->sigq_count = (uint64_t)__builtin_popcountll(t->pending.set) +
			 (uint64_t)__builtin_popcountll(tg->shared_pending.set);
	ti->sigq_limit = tg->rlimits[LINUX_RLIMIT_SIGPENDING].rlim_cur;
	ti->uid[0] = t->cred.ruid;
	ti->uid[1] = t->cred.euid;
	ti->uid[2] = t->cred.suid;
	ti->uid[3] = t->cred.fsuid;
	ti->gid[0] = t->cred.rgid;
	ti->gid[1] = t->cred.egid;
	ti->gid[2] = t->cred.sgid;
	ti->gid[3] = t->cred.fsgid;
	ti->ngroups = MIN(t->cred.ngroups, (uint32_t)ARRAY_SIZE(ti->groups));
	memcpy(ti->groups, t->cred.groups, ti->ngroups * sizeof(ti->groups[0]));
	ti->rsslim = tg->rlimits[LINUX_RLIMIT_RSS].rlim_cur;
	ti->exit_signal = (tid && t->tid != tg->tgid) ? -1 : tg->exit_signal;
	ti->exit_code = tg->state == TG_ZOMBIE ? tg->exit_status : 0;
	ti->no_new_privs = t->no_new_privs != 0;
	ti->ncpus = proc_ncpus();
	ti->umask = 022;
	/* CPU time in clock ticks (rusage.h), scheduling, capabilities */
	int64_t ut, st;
	if (tid)
		rusage_task_times_locked(t, &ut, &st);
	else
		rusage_tg_times_locked(tg, &ut, &st);
	ti->utime = (uint64_t)ut / (1000000000ULL / USER_HZ);
	ti->stime = (uint64_t)st / (1000000000ULL / USER_HZ);
	ti->cutime = (uint64_t)tg->ru.cutime_ns / (1000000000ULL / USER_HZ);
	ti->cstime = (uint64_t)tg->ru.cstime_ns / (1000000000ULL / USER_HZ);
	ti->nice = t->nice;
	ti->policy = t->sched_policy & ~LINUX_SCHED_RESET_ON_FORK;
	ti->processor = rusage_current_cpu(t->cpu_mask);
	ti->caps_set = true;
	ti->cap_inh = t->cred.cap_inheritable;
	ti->cap_prm = t->cred.cap_permitted;
	ti->cap_eff = t->cred.cap_effective;
	ti->cap_bnd = t->cred.cap_bset;
	ti->cap_amb = t->cred.cap_ambient;
}

/* Everything stat/status/statm need of (tgid, tid). *permitted: may the caller see addresses. */
static int proc_task_info(int tgid, int tid, struct proc_task_info *ti, bool *permitted)
{
	struct proc_refs r;
	struct task *t;
	struct mm_args args = {0};

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	if (!t) {
		kernel_unlock();
		return -ESRCH;
	}
	fill_info_locked(t, tid, ti);
	*permitted = proc_may_access_locked(t);
	proc_refs_take_locked(t, tid, PROC_REF_MM | PROC_REF_FDT | PROC_REF_FS | PROC_REF_EXE, &r);
	kernel_unlock();

	if (r.fs)
		ti->umask = fs_context_umask(r.fs, -1);
	ti->no_fs = !r.fs;
	if (r.fdt) {
		pthread_mutex_lock(&r.fdt->lock);
		int size = r.fdt->size;
		pthread_mutex_unlock(&r.fdt->lock);
		/* Linux's fd tables grow in powers of two from BITS_PER_LONG */
		ti->fd_size = 64;
		while (ti->fd_size < size)
			ti->fd_size *= 2;
	}
	if (r.mm) {
		proc_mm_info(r.mm, r.exe, &ti->mm);
		mm_get_args(r.mm, &args);
		ti->mm.start_stack = args.start_stack;
		ti->mm.arg_start = args.arg_start;
		ti->mm.arg_end = args.arg_end;
		ti->mm.env_start = args.env_start;
		ti->mm.env_end = args.env_end;
	}
	proc_refs_put(&r);
	return 0;
}

int proc_gen_pid_stat(struct pbuf *b, int tgid, int tid)
{
	struct proc_task_info ti;
	bool permitted;
	int r = proc_task_info(tgid, tid, &ti, &permitted);

	if (r == 0)
		proc_fmt_stat(b, &ti, permitted);
	return r;
}

int proc_gen_pid_status(struct pbuf *b, int tgid, int tid)
{
	struct proc_task_info ti;
	bool permitted;
	int r = proc_task_info(tgid, tid, &ti, &permitted);

	if (r == 0)
		proc_fmt_status(b, &ti);
	return r;
}

int proc_gen_pid_statm(struct pbuf *b, int tgid, int tid)
{
	struct proc_task_info ti;
	bool permitted;
	int r = proc_task_info(tgid, tid, &ti, &permitted);

	if (r == 0)
		proc_fmt_statm(b, &ti);
	return r;
}

int proc_gen_pid_limits(struct pbuf *b, int tgid, int tid)
{
	struct linux_rlimit rl[LINUX_RLIM_NLIMITS];
	struct task *t;

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	if (t)
		memcpy(rl, t->tg->rlimits, sizeof(rl));
	kernel_unlock();
	if (!t)
		return -ESRCH;
	proc_fmt_limits(b, rl);
	return 0;
}

int proc_gen_pid_comm(struct pbuf *b, int tgid, int tid)
{
	char comm[17];
	struct task *t;

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	if (t)
		memcpy(comm, t->comm, 16);
	kernel_unlock();
	if (!t)
		return -ESRCH;
	comm[16] = '\0';
	pbuf_printf(b, "%s\n", comm);
	return 0;
}

/* comm_write: only a thread of the same process may rename one; the text is taken as it is
 * (a trailing newline included), at most 15 bytes. */
int proc_write_pid_comm(int tgid, int tid, const char *buf, size_t n)
{
	struct task *cur = current_task;
	struct task *t;
	int r = 0;

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	if (!t)
		r = -ESRCH;
	else if (cur && cur->tg != t->tg)
		r = -EINVAL;
	else {
		memset(t->comm, 0, sizeof(t->comm));
		memcpy(t->comm, buf, MIN(n, sizeof(t->comm) - 1));
	}
	kernel_unlock();
	return r;
}
