/* Resources and scheduling: getrusage, times, the sched_* calls, getcpu, getpriority and
 * setpriority, sethostname and setdomainname; and the table of the whole family (sys_res.h).
 *
 * Scheduling is emulated: the policy, nice value and CPU mask a task sets are kept and reported
 * back, but the Sentry's host threads are not moved or reprioritised. Only the non-real-time
 * policies (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE) are accepted; SCHED_FIFO and SCHED_RR are
 * refused with EPERM, as for a process without CAP_SYS_NICE (gVisor refuses them too). */
#include "sentry/syscalls/sys_res.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "abi/linux.h"
#include "common/util.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/rusage.h"
#include "sentry/mm/mm.h"

#define NSEC 1000000000LL
#define USER_HZ 100

/* ---- resource usage ---- */

SYSCALL_DEFINE(getrusage)
{
	struct linux_rusage ru;
	int r = rusage_get(t, (int)a->a[0], &ru);

	if (r < 0)
		return r;
	return copy_out(t->mm, a->a[1], &ru, sizeof(ru));
}

static int64_t ticks(int64_t ns) { return ns / (NSEC / USER_HZ); }

SYSCALL_DEFINE(times)
{
	struct linux_rusage self, children;
	struct timespec now;

	if (a->a[0]) {
		rusage_get(t, LINUX_RUSAGE_SELF, &self);
		rusage_get(t, LINUX_RUSAGE_CHILDREN, &children);
		struct linux_tms tms = {
		    ticks(self.ru_utime.tv_sec * NSEC + self.ru_utime.tv_usec * 1000),
		    ticks(self.ru_stime.tv_sec * NSEC + self.ru_stime.tv_usec * 1000),
		    ticks(children.ru_utime.tv_sec * NSEC + children.ru_utime.tv_usec * 1000),
		    ticks(children.ru_stime.tv_sec * NSEC + children.ru_stime.tv_usec * 1000),
		};
		if (copy_out(t->mm, a->a[0], &tms, sizeof(tms)))
			return -EFAULT;
	}
	/* clock ticks since boot (an arbitrary point, as Linux's jiffies are) */
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ticks((int64_t)now.tv_sec * NSEC + now.tv_nsec);
}

/* ---- finding the target of a sched_* or priority call ---- */

/* The task with thread id pid (0: t itself), or NULL. g_kernel.lock held. */
static struct task *find_task_locked(struct task *t, int pid)
{
	struct task *o;

	if (!pid)
		return t;
	o = task_lookup(pid);
	return o && o->tg->state == TG_ALIVE ? o : NULL;
}

/* check_same_owner or CAP_SYS_NICE: may t change o's scheduling? */
static bool may_sched(const struct task *t, const struct task *o)
{
	return t->cred.euid == o->cred.euid || t->cred.euid == o->cred.ruid ||
	       cred_capable(&t->cred, LINUX_CAP_SYS_NICE);
}

/* ---- CPU affinity ---- */

/* nr_cpu_ids: the highest host CPU + 1 */
static int nr_cpu_ids(void)
{
	const uint64_t *m = host_cpu_mask();
	int n = 1;

	for (int c = 0; c < RUSAGE_MAX_CPUS; c++)
		if ((m[c / 64] >> (c % 64)) & 1)
			n = c + 1;
	return n;
}

SYSCALL_DEFINE(sched_setaffinity)
{
	int pid = (int)a->a[0];
	uint64_t len = a->a[1], mask[RUSAGE_MAX_CPUS / 64];
	const uint64_t *host = host_cpu_mask();
	bool any = false;
	long r = 0;

	/* get_user_cpu_mask: shorter masks are zero-extended, longer ones cut */
	memset(mask, 0, sizeof(mask));
	if (copy_in(t->mm, mask, a->a[2],
		    MIN(len, (uint64_t)MIN(sizeof(mask), (size_t)host_cpumask_bytes()))))
		return -EFAULT;
	for (size_t i = 0; i < ARRAY_SIZE(mask); i++) {
		mask[i] &= host[i];
		any |= mask[i] != 0;
	}
	kernel_lock();
	struct task *o = find_task_locked(t, pid);
	if (!o)
		r = -ESRCH;
	else if (!may_sched(t, o))
		r = -EPERM;
	else if (!any)
		r = -EINVAL;
	else
		memcpy(o->cpu_mask, mask, sizeof(o->cpu_mask));
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(sched_getaffinity)
{
	int pid = (int)a->a[0];
	uint64_t len = a->a[1], mask[RUSAGE_MAX_CPUS / 64];
	long r = 0;

	if (len * 8 < (uint64_t)nr_cpu_ids() || (len & 7))
		return -EINVAL;
	kernel_lock();
	struct task *o = find_task_locked(t, pid);
	if (!o)
		r = -ESRCH;
	else
		memcpy(mask, o->cpu_mask, sizeof(mask));
	kernel_unlock();
	if (r < 0)
		return r;
	size_t n = (size_t)MIN(len, (uint64_t)host_cpumask_bytes());
	/* bits past the sandbox's RUSAGE_MAX_CPUS read 0 */
	for (size_t off = 0; off < n; off += 8) {
		uint64_t w = off / 8 < ARRAY_SIZE(mask) ? mask[off / 8] : 0;
		if (copy_out(t->mm, a->a[2] + off, &w, MIN((size_t)8, n - off)))
			return -EFAULT;
	}
	return (long)n;
}

SYSCALL_DEFINE(getcpu)
{
	uint64_t mask[RUSAGE_MAX_CPUS / 64];
	uint32_t cpu, node = 0;

	kernel_lock();
	memcpy(mask, t->cpu_mask, sizeof(mask));
	kernel_unlock();
	cpu = (uint32_t)rusage_current_cpu(mask);
	if (a->a[0] && copy_out(t->mm, a->a[0], &cpu, sizeof(cpu)))
		return -EFAULT;
	if (a->a[1] && copy_out(t->mm, a->a[1], &node, sizeof(node)))
		return -EFAULT;
	return 0;
}

/* ---- policies and parameters ---- */

static bool valid_policy(int policy)
{
	switch (policy) {
	case LINUX_SCHED_OTHER:
	case LINUX_SCHED_FIFO:
	case LINUX_SCHED_RR:
	case LINUX_SCHED_BATCH:
	case LINUX_SCHED_IDLE:
		return true;
	}
	return false;
}

static bool rt_policy(int policy) { return policy == LINUX_SCHED_FIFO || policy == LINUX_SCHED_RR; }

/* sched_setscheduler and sched_setparam: policy < 0 keeps the task's. */
static long set_scheduler(struct task *t, int pid, int policy, uint64_t uparam)
{
	int32_t prio;
	bool reset = false;
	long r = 0;

	if (!uparam || pid < 0)
		return -EINVAL;
	if (copy_in(t->mm, &prio, uparam, sizeof(prio)))
		return -EFAULT;
	kernel_lock();
	struct task *o = find_task_locked(t, pid);
	if (!o) {
		r = -ESRCH;
		goto out;
	}
	if (policy < 0) {
		policy = o->sched_policy & ~LINUX_SCHED_RESET_ON_FORK;
		reset = o->sched_policy & LINUX_SCHED_RESET_ON_FORK;
	} else {
		reset = policy & LINUX_SCHED_RESET_ON_FORK;
		policy &= ~LINUX_SCHED_RESET_ON_FORK;
	}
	if (!valid_policy(policy) || prio < 0 || prio > 99 || rt_policy(policy) != (prio != 0)) {
		r = -EINVAL;
		goto out;
	}
	if (!may_sched(t, o)) {
		r = -EPERM;
		goto out;
	}
	if (rt_policy(policy)) {
		r = -EPERM; /* no real-time scheduling in the sandbox */
		goto out;
	}
	o->sched_policy = policy | (reset ? LINUX_SCHED_RESET_ON_FORK : 0);
out:
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(sched_setscheduler)
{
	if ((int)a->a[1] < 0)
		return -EINVAL;
	return set_scheduler(t, (int)a->a[0], (int)a->a[1], a->a[2]);
}

SYSCALL_DEFINE(sched_setparam) { return set_scheduler(t, (int)a->a[0], -1, a->a[1]); }

SYSCALL_DEFINE(sched_getscheduler)
{
	int pid = (int)a->a[0];
	long r;

	if (pid < 0)
		return -EINVAL;
	kernel_lock();
	struct task *o = find_task_locked(t, pid);
	r = o ? o->sched_policy : -ESRCH;
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(sched_getparam)
{
	int pid = (int)a->a[0];
	int32_t prio = 0; /* never a real-time task */
	bool found;

	if (!a->a[1] || pid < 0)
		return -EINVAL;
	kernel_lock();
	found = find_task_locked(t, pid) != NULL;
	kernel_unlock();
	if (!found)
		return -ESRCH;
	return copy_out(t->mm, a->a[1], &prio, sizeof(prio));
}

SYSCALL_DEFINE(sched_get_priority_max)
{
	int policy = (int)a->a[0];

	if (!valid_policy(policy) && policy != LINUX_SCHED_DEADLINE)
		return -EINVAL;
	return rt_policy(policy) ? 99 : 0;
}

SYSCALL_DEFINE(sched_get_priority_min)
{
	int policy = (int)a->a[0];

	if (!valid_policy(policy) && policy != LINUX_SCHED_DEADLINE)
		return -EINVAL;
	return rt_policy(policy) ? 1 : 0;
}

SYSCALL_DEFINE(sched_rr_get_interval)
{
	int pid = (int)a->a[0];
	struct linux_timespec ts = {0, 0};
	bool found;
	int policy = 0;

	if (pid < 0)
		return -EINVAL;
	kernel_lock();
	struct task *o = find_task_locked(t, pid);
	found = o != NULL;
	if (o)
		policy = o->sched_policy & ~LINUX_SCHED_RESET_ON_FORK;
	kernel_unlock();
	if (!found)
		return -ESRCH;
	/* a CFS time slice of a lone task (4 ms); SCHED_IDLE tasks get none */
	if (policy != LINUX_SCHED_IDLE)
		ts.tv_nsec = 4 * 1000 * 1000;
	return copy_out(t->mm, a->a[1], &ts, sizeof(ts));
}

/* ---- nice values ---- */

#define PRIO_PROCESS 0
#define PRIO_PGRP 1
#define PRIO_USER 2

struct prio_scan {
	struct task *self;
	int which, who;
	bool set;
	int nice; /* set: the new value */
	int best; /* get: the highest 20 - nice seen, 0 none */
	long error;
};

/* set_one_prio / the getpriority maximum for one task. */
static void prio_one(struct prio_scan *s, struct task *o)
{
	if (!s->set) {
		s->best = MAX(s->best, 20 - o->nice);
		return;
	}
	const struct creds *c = &s->self->cred;
	if (o->cred.ruid != c->euid && o->cred.euid != c->euid &&
	    !cred_capable(c, LINUX_CAP_SYS_NICE)) {
		s->error = -EPERM;
		return;
	}
	/* can_nice: lowering the nice value needs RLIMIT_NICE room or CAP_SYS_NICE */
	if (s->nice < o->nice &&
	    (uint64_t)(20 - s->nice) > o->tg->rlimits[LINUX_RLIMIT_NICE].rlim_cur &&
	    !cred_capable(c, LINUX_CAP_SYS_NICE)) {
		s->error = -EACCES;
		return;
	}
	if (s->error == -ESRCH)
		s->error = 0;
	o->nice = s->nice;
}

static int prio_tg(struct thread_group *tg, void *arg)
{
	struct prio_scan *s = arg;
	struct list_head *pos;

	if (tg->state != TG_ALIVE)
		return 0;
	list_for_each(pos, &tg->threads)
	{
		struct task *o = list_entry(pos, struct task, tg_link);
		if ((s->which == PRIO_PGRP && tg->pgid == s->who) ||
		    (s->which == PRIO_USER && o->cred.ruid == (uint32_t)s->who))
			prio_one(s, o);
	}
	return 0;
}

static long do_priority(struct task *t, int which, int who, bool set, int nice)
{
	struct prio_scan s = {t, which, who, set, nice, 0, -ESRCH};

	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	kernel_lock();
	switch (which) {
	case PRIO_PROCESS: {
		struct task *o = find_task_locked(t, who);
		if (o)
			prio_one(&s, o);
		break;
	}
	case PRIO_PGRP:
		if (!s.who)
			s.who = t->tg->pgid;
		tg_for_each(prio_tg, &s);
		break;
	case PRIO_USER:
		if (!s.who)
			s.who = (int)t->cred.ruid;
		tg_for_each(prio_tg, &s);
		break;
	}
	kernel_unlock();
	if (!set)
		return s.best ? s.best : -ESRCH;
	return s.error;
}

SYSCALL_DEFINE(getpriority) { return do_priority(t, (int)a->a[0], (int)a->a[1], false, 0); }

SYSCALL_DEFINE(setpriority)
{
	int nice = (int)a->a[2];

	nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
	return do_priority(t, (int)a->a[0], (int)a->a[1], true, nice);
}

/* ---- the UTS names ---- */

static long set_uts(struct task *t, char *field, uint64_t uname, uint64_t ulen)
{
	char buf[65];
	int len = (int)ulen;

	if (!cred_capable(&t->cred, LINUX_CAP_SYS_ADMIN))
		return -EPERM;
	if (len < 0 || len > 64)
		return -EINVAL;
	if (copy_in(t->mm, buf, uname, (size_t)len))
		return -EFAULT;
	kernel_lock();
	memcpy(field, buf, (size_t)len);
	memset(field + len, 0, 65 - (size_t)len);
	kernel_unlock();
	return 0;
}

SYSCALL_DEFINE(sethostname) { return set_uts(t, g_kernel.hostname, a->a[0], a->a[1]); }
SYSCALL_DEFINE(setdomainname) { return set_uts(t, g_kernel.domainname, a->a[0], a->a[1]); }

/* ---- the family's table ---- */

#define E(name)                                                                                    \
	{                                                                                          \
		LINUX_SYS_##name, sys_##name                                                       \
	}
const struct syscall_entry sys_res_table[] = {
    {LINUX_SYS_getrusage, sys_getrusage,
     "partial: user time is time spent running application code (wall clock), system time the "
     "CPU time of the task's Sentry thread less its spinning for the application; maxrss is "
     "sampled; fault and context-switch counters are 0"},
    {LINUX_SYS_times, sys_times, "partial: times as getrusage measures them"},
    E(sched_getaffinity),
    {LINUX_SYS_sched_setaffinity, sys_sched_setaffinity,
     "partial: the mask is kept and reported, the Sentry's threads are not pinned"},
    E(getcpu),
    {LINUX_SYS_sched_setscheduler, sys_sched_setscheduler,
     "partial: SCHED_OTHER, SCHED_BATCH and SCHED_IDLE are kept and reported; SCHED_FIFO and "
     "SCHED_RR fail with EPERM"},
    {LINUX_SYS_sched_setparam, sys_sched_setparam, "partial: as sched_setscheduler"},
    E(sched_getscheduler),
    E(sched_getparam),
    E(sched_get_priority_max),
    E(sched_get_priority_min),
    E(sched_rr_get_interval),
    E(getpriority),
    {LINUX_SYS_setpriority, sys_setpriority,
     "partial: nice values are kept and reported, the host does not schedule by them"},
    E(sethostname),
    E(setdomainname),
    E(capget),
    {LINUX_SYS_capset, sys_capset,
     "partial: capabilities are emulated: file access, setuid/setgid/setgroups, nice, rlimits, "
     "hostname, xattr namespaces and the capability prctls consult them; chown, kill and "
     "other checks still test uid 0"},
    E(getgroups),
    E(setuid),
    E(setgid),
    E(setreuid),
    E(setregid),
    E(setresuid),
    E(setresgid),
    E(getresuid),
    E(getresgid),
    E(setfsuid),
    E(setfsgid),
    {LINUX_SYS_setgroups, sys_setgroups, "partial: at most 32 supplementary groups (EINVAL)"},
#define XATTR_NOTE                                                                                 \
	"partial: kept on tmpfs (and the overlay's upper layer); host files have none (ENODATA); " \
	"POSIX ACLs (system.*) and other filesystems: EOPNOTSUPP"
    {LINUX_SYS_getxattr, sys_getxattr, XATTR_NOTE},
    {LINUX_SYS_lgetxattr, sys_lgetxattr, XATTR_NOTE},
    {LINUX_SYS_fgetxattr, sys_fgetxattr, XATTR_NOTE},
    {LINUX_SYS_setxattr, sys_setxattr, XATTR_NOTE},
    {LINUX_SYS_lsetxattr, sys_lsetxattr, XATTR_NOTE},
    {LINUX_SYS_fsetxattr, sys_fsetxattr, XATTR_NOTE},
    {LINUX_SYS_listxattr, sys_listxattr, XATTR_NOTE},
    {LINUX_SYS_llistxattr, sys_llistxattr, XATTR_NOTE},
    {LINUX_SYS_flistxattr, sys_flistxattr, XATTR_NOTE},
    {LINUX_SYS_removexattr, sys_removexattr, XATTR_NOTE},
    {LINUX_SYS_lremovexattr, sys_lremovexattr, XATTR_NOTE},
    {LINUX_SYS_fremovexattr, sys_fremovexattr, XATTR_NOTE},
    E(splice),
    E(tee),
    {LINUX_SYS_vmsplice, sys_vmsplice, "partial: data is copied; SPLICE_F_GIFT is ignored"},
    {LINUX_SYS_fallocate, sys_fallocate,
     "partial: tmpfs only (modes 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE); EOPNOTSUPP elsewhere"},
    {-1, NULL},
};
