/* Identity, time, limits, randomness, architecture and exit: the small syscalls. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "abi/linux.h"
#include "common/util.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* ---- identity ---- */

SYSCALL_DEFINE(getpid) { return t->tgid; }
SYSCALL_DEFINE(gettid) { return t->tid; }
SYSCALL_DEFINE(getuid) { return t->cred.ruid; }
SYSCALL_DEFINE(geteuid) { return t->cred.euid; }
SYSCALL_DEFINE(getgid) { return t->cred.rgid; }
SYSCALL_DEFINE(getegid) { return t->cred.egid; }

/* Root in the sandbox may take any id (CAP_SETUID is emulated as held by uid 0); others may
 * only move between their real, effective and saved ids, as Linux. */
static bool may_setid(const struct task *t, uint32_t id, uint32_t r, uint32_t e, uint32_t s)
{
	return t->cred.euid == 0 || id == r || id == e || id == s;
}

SYSCALL_DEFINE(setuid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds *c = &t->cred;
	if ((int32_t)id == -1)
		return -EINVAL;
	if (c->euid == 0) {
		c->ruid = c->euid = c->suid = c->fsuid = id;
		return 0;
	}
	if (id != c->ruid && id != c->suid)
		return -EPERM;
	c->euid = c->fsuid = id;
	return 0;
}

SYSCALL_DEFINE(setgid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds *c = &t->cred;
	if ((int32_t)id == -1)
		return -EINVAL;
	if (c->euid == 0) {
		c->rgid = c->egid = c->sgid = c->fsgid = id;
		return 0;
	}
	if (id != c->rgid && id != c->sgid)
		return -EPERM;
	c->egid = c->fsgid = id;
	return 0;
}

/* setresuid/setresgid core: -1 leaves a field unchanged. */
static long set_res(struct task *t, uint32_t *rp, uint32_t *ep, uint32_t *sp, uint32_t *fsp,
		    uint32_t r, uint32_t e, uint32_t s)
{
	uint32_t R = *rp, E = *ep, S = *sp;
	if ((r != (uint32_t)-1 && !may_setid(t, r, R, E, S)) ||
	    (e != (uint32_t)-1 && !may_setid(t, e, R, E, S)) ||
	    (s != (uint32_t)-1 && !may_setid(t, s, R, E, S)))
		return -EPERM;
	if (r != (uint32_t)-1)
		*rp = r;
	if (e != (uint32_t)-1)
		*ep = e;
	if (s != (uint32_t)-1)
		*sp = s;
	*fsp = *ep;
	return 0;
}

SYSCALL_DEFINE(setresuid)
{
	struct creds *c = &t->cred;
	return set_res(t, &c->ruid, &c->euid, &c->suid, &c->fsuid, (uint32_t)a->a[0],
		       (uint32_t)a->a[1], (uint32_t)a->a[2]);
}

SYSCALL_DEFINE(setresgid)
{
	struct creds *c = &t->cred;
	/* permission for gid changes follows the euid (CAP_SETGID) */
	if (c->euid != 0) {
		uint32_t ids[3] = {(uint32_t)a->a[0], (uint32_t)a->a[1], (uint32_t)a->a[2]};
		for (int i = 0; i < 3; i++)
			if (ids[i] != (uint32_t)-1 && ids[i] != c->rgid && ids[i] != c->egid &&
			    ids[i] != c->sgid)
				return -EPERM;
	}
	c->rgid = (uint32_t)a->a[0] != (uint32_t)-1 ? (uint32_t)a->a[0] : c->rgid;
	c->egid = (uint32_t)a->a[1] != (uint32_t)-1 ? (uint32_t)a->a[1] : c->egid;
	c->sgid = (uint32_t)a->a[2] != (uint32_t)-1 ? (uint32_t)a->a[2] : c->sgid;
	c->fsgid = c->egid;
	return 0;
}

SYSCALL_DEFINE(setreuid)
{
	struct creds *c = &t->cred;
	uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1];
	uint32_t s = (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != c->ruid)) ?
			     (e != (uint32_t)-1 ? e : c->euid) : (uint32_t)-1;
	if (c->euid != 0) {
		if (r != (uint32_t)-1 && r != c->ruid && r != c->euid)
			return -EPERM;
		if (e != (uint32_t)-1 && e != c->ruid && e != c->euid && e != c->suid)
			return -EPERM;
	}
	return set_res(t, &c->ruid, &c->euid, &c->suid, &c->fsuid, r, e,
		       c->euid == 0 ? s : (uint32_t)-1);
}

SYSCALL_DEFINE(setregid)
{
	struct creds *c = &t->cred;
	uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1];
	if (c->euid != 0) {
		if (r != (uint32_t)-1 && r != c->rgid && r != c->egid)
			return -EPERM;
		if (e != (uint32_t)-1 && e != c->rgid && e != c->egid && e != c->sgid)
			return -EPERM;
	}
	if (r != (uint32_t)-1 || (e != (uint32_t)-1 && e != c->rgid))
		c->sgid = e != (uint32_t)-1 ? e : c->egid;
	if (r != (uint32_t)-1)
		c->rgid = r;
	if (e != (uint32_t)-1)
		c->egid = e;
	c->fsgid = c->egid;
	return 0;
}

static long get_res(struct task *t, const struct syscall_args *a, uint32_t r, uint32_t e,
		    uint32_t s)
{
	if (copy_out(t->mm, a->a[0], &r, 4) || copy_out(t->mm, a->a[1], &e, 4) ||
	    copy_out(t->mm, a->a[2], &s, 4))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(getresuid) { return get_res(t, a, t->cred.ruid, t->cred.euid, t->cred.suid); }
SYSCALL_DEFINE(getresgid) { return get_res(t, a, t->cred.rgid, t->cred.egid, t->cred.sgid); }

/* setfsuid/setfsgid return the old value and never fail visibly, as Linux. */
SYSCALL_DEFINE(setfsuid)
{
	uint32_t old = t->cred.fsuid, id = (uint32_t)a->a[0];
	if (id != (uint32_t)-1 && may_setid(t, id, t->cred.ruid, t->cred.euid, t->cred.suid))
		t->cred.fsuid = id;
	return old;
}

SYSCALL_DEFINE(setfsgid)
{
	uint32_t old = t->cred.fsgid, id = (uint32_t)a->a[0];
	if (id != (uint32_t)-1 && (t->cred.euid == 0 || id == t->cred.rgid ||
				   id == t->cred.egid || id == t->cred.sgid))
		t->cred.fsgid = id;
	return old;
}

/* No supplementary groups yet: getgroups reports none. */
SYSCALL_DEFINE(getgroups)
{
	if ((int)a->a[0] < 0)
		return -EINVAL;
	return 0;
}

/* ---- system ---- */

SYSCALL_DEFINE(uname)
{
	struct linux_utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	snprintf(u.nodename, sizeof(u.nodename), "%s", g_kernel.hostname);
	strcpy(u.release, "6.1.0");
	strcpy(u.version, "#1 SMP PREEMPT_DYNAMIC runsc-c");
	strcpy(u.machine, "x86_64");
	strcpy(u.domainname, "(none)");
	return copy_out(t->mm, a->a[0], &u, sizeof(u));
}

SYSCALL_DEFINE(sysinfo)
{
	struct linux_sysinfo si;
	struct sysinfo host;
	struct timespec now;

	memset(&si, 0, sizeof(si));
	clock_gettime(CLOCK_MONOTONIC, &now);
	si.uptime = (int64_t)(((uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec -
			       g_kernel.boot_time_ns) / 1000000000ULL);
	/* Memory sizes are the host's: the sandbox has no memory limit of its own yet. */
	if (sysinfo(&host) == 0) {
		si.totalram = (uint64_t)host.totalram * host.mem_unit;
		si.freeram = (uint64_t)host.freeram * host.mem_unit;
		si.bufferram = (uint64_t)host.bufferram * host.mem_unit;
	}
	si.procs = 1;
	si.mem_unit = 1;
	return copy_out(t->mm, a->a[0], &si, sizeof(si));
}

/* ---- limits ---- */

static long do_prlimit(struct task *t, unsigned resource, uint64_t new_addr, uint64_t old_addr)
{
	struct linux_rlimit nl;

	if (resource >= LINUX_RLIM_NLIMITS)
		return -EINVAL;
	if (new_addr) {
		if (copy_in(t->mm, &nl, new_addr, sizeof(nl)))
			return -EFAULT;
		if (nl.rlim_cur > nl.rlim_max)
			return -EINVAL;
		/* raising the hard limit needs CAP_SYS_RESOURCE: held by root only */
		if (nl.rlim_max > t->tg->rlimits[resource].rlim_max && t->cred.euid != 0)
			return -EPERM;
		if (resource == LINUX_RLIMIT_NOFILE && nl.rlim_max > (1 << 20))
			return -EPERM;
	}
	if (old_addr && copy_out(t->mm, old_addr, &t->tg->rlimits[resource], sizeof(nl)))
		return -EFAULT;
	if (new_addr)
		t->tg->rlimits[resource] = nl;
	return 0;
}

SYSCALL_DEFINE(prlimit64)
{
	int pid = (int)a->a[0];
	if (pid != 0 && pid != t->tgid)
		return -ESRCH;
	return do_prlimit(t, (unsigned)a->a[1], a->a[2], a->a[3]);
}

SYSCALL_DEFINE(getrlimit) { return do_prlimit(t, (unsigned)a->a[0], 0, a->a[1]); }
SYSCALL_DEFINE(setrlimit)
{
	if (!a->a[1])
		return -EFAULT;
	return do_prlimit(t, (unsigned)a->a[0], a->a[1], 0);
}

/* ---- time ---- */

/* Map a Linux clock id to a host one. The sandbox's CPU-time clocks are the Sentry's (its host
 * thread runs the task), which is an approximation. */
static int host_clock(long id, clockid_t *out)
{
	switch (id) {
	case LINUX_CLOCK_REALTIME: *out = CLOCK_REALTIME; return 0;
	case LINUX_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return 0;
	case LINUX_CLOCK_PROCESS_CPUTIME_ID: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
	case LINUX_CLOCK_THREAD_CPUTIME_ID: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
	case LINUX_CLOCK_MONOTONIC_RAW: *out = CLOCK_MONOTONIC_RAW; return 0;
	case LINUX_CLOCK_REALTIME_COARSE: *out = CLOCK_REALTIME_COARSE; return 0;
	case LINUX_CLOCK_MONOTONIC_COARSE: *out = CLOCK_MONOTONIC_COARSE; return 0;
	case LINUX_CLOCK_BOOTTIME: *out = CLOCK_BOOTTIME; return 0;
	default: return -EINVAL;
	}
}

SYSCALL_DEFINE(clock_gettime)
{
	clockid_t c;
	struct timespec ts;
	struct linux_timespec lts;
	if (host_clock((int)a->a[0], &c))
		return -EINVAL;
	clock_gettime(c, &ts);
	lts.tv_sec = ts.tv_sec;
	lts.tv_nsec = ts.tv_nsec;
	return copy_out(t->mm, a->a[1], &lts, sizeof(lts));
}

SYSCALL_DEFINE(clock_getres)
{
	clockid_t c;
	struct timespec ts;
	struct linux_timespec lts;
	if (host_clock((int)a->a[0], &c))
		return -EINVAL;
	if (!a->a[1])
		return 0;
	clock_getres(c, &ts);
	lts.tv_sec = ts.tv_sec;
	lts.tv_nsec = ts.tv_nsec;
	return copy_out(t->mm, a->a[1], &lts, sizeof(lts));
}

SYSCALL_DEFINE(gettimeofday)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (a->a[0]) {
		struct linux_timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
		if (copy_out(t->mm, a->a[0], &tv, sizeof(tv)))
			return -EFAULT;
	}
	if (a->a[1]) {
		struct linux_timezone tz = {0, 0};
		if (copy_out(t->mm, a->a[1], &tz, sizeof(tz)))
			return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE(time)
{
	int64_t now = (int64_t)time(NULL);
	if (a->a[0] && copy_out(t->mm, a->a[0], &now, sizeof(now)))
		return -EFAULT;
	return now;
}

static int read_timespec(struct task *t, uint64_t addr, struct timespec *ts)
{
	struct linux_timespec lts;
	if (copy_in(t->mm, &lts, addr, sizeof(lts)))
		return -EFAULT;
	if (lts.tv_sec < 0 || lts.tv_nsec < 0 || lts.tv_nsec >= 1000000000)
		return -EINVAL;
	ts->tv_sec = lts.tv_sec;
	ts->tv_nsec = lts.tv_nsec;
	return 0;
}

/* Sleep until the deadline on clock c (absolute with TIMER_ABSTIME), interruptibly: a signal
 * ends the sleep with the time left written to rem (relative sleeps) and -ERESTARTNOHAND, so the
 * run loop restarts it when no handler runs (restarting with the whole request: the remainder
 * is not tracked yet) and returns EINTR when one does. */
static long do_sleep(struct task *t, clockid_t c, int flags, uint64_t req, uint64_t rem)
{
	struct timespec ts, now, mono_deadline;
	int r = read_timespec(t, req, &ts);
	if (r)
		return r;
	if (flags & TIMER_ABSTIME) {
		/* convert the absolute time on c to a CLOCK_MONOTONIC deadline */
		struct timespec mono;
		clock_gettime(c, &now);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		int64_t left = (int64_t)(ts.tv_sec - now.tv_sec) * 1000000000LL +
			       (ts.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return 0;
		struct timespec rel = {left / 1000000000LL, left % 1000000000LL};
		deadline_after(&mono_deadline, &rel);
	} else {
		deadline_after(&mono_deadline, &ts);
	}
	r = task_wait(t, NULL, NULL, NULL, &mono_deadline);
	if (r == -ETIMEDOUT)
		return 0;
	if (!(flags & TIMER_ABSTIME) && rem) {
		struct linux_timespec left = {0, 0};
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ns = (int64_t)(mono_deadline.tv_sec - now.tv_sec) * 1000000000LL +
			     (mono_deadline.tv_nsec - now.tv_nsec);
		if (ns > 0) {
			left.tv_sec = ns / 1000000000LL;
			left.tv_nsec = ns % 1000000000LL;
		}
		if (copy_out(t->mm, rem, &left, sizeof(left)))
			return -EFAULT;
	}
	return -LINUX_ERESTARTNOHAND;
}

SYSCALL_DEFINE(nanosleep) { return do_sleep(t, CLOCK_MONOTONIC, 0, a->a[0], a->a[1]); }

SYSCALL_DEFINE(clock_nanosleep)
{
	clockid_t c;
	int id = (int)a->a[0];
	if (id == LINUX_CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	if (host_clock(id, &c))
		return -EINVAL;
	if (id != LINUX_CLOCK_REALTIME && id != LINUX_CLOCK_MONOTONIC &&
	    id != LINUX_CLOCK_BOOTTIME && id != LINUX_CLOCK_PROCESS_CPUTIME_ID)
		return -ENOTSUP;
	int flags = (a->a[1] & LINUX_TIMER_ABSTIME) ? TIMER_ABSTIME : 0;
	return do_sleep(t, c, flags, a->a[2], a->a[3]);
}

SYSCALL_DEFINE(getrandom)
{
	uint64_t addr = a->a[0];
	size_t len = (size_t)a->a[1];
	unsigned flags = (unsigned)a->a[2];
	char buf[256];
	size_t done = 0;

	if (flags & ~(LINUX_GRND_NONBLOCK | LINUX_GRND_RANDOM | LINUX_GRND_INSECURE))
		return -EINVAL;
	if ((flags & LINUX_GRND_RANDOM) && (flags & LINUX_GRND_INSECURE))
		return -EINVAL;
	if (len > 33554431) /* Linux caps one call at MAX_RW_COUNT >> 6... as its getrandom does */
		len = 33554431;
	while (done < len) {
		size_t n = MIN(len - done, sizeof(buf));
		ssize_t got = getrandom(buf, n, 0);
		if (got < 0)
			return done ? (long)done : -errno;
		if (copy_out(t->mm, addr + done, buf, (size_t)got))
			return done ? (long)done : -EFAULT;
		done += (size_t)got;
	}
	return (long)done;
}

/* ---- architecture and thread set-up ---- */

SYSCALL_DEFINE(arch_prctl)
{
	uint64_t addr = a->a[1];
	struct linux_regs *r = &t->regs.regs;

	switch ((int)a->a[0]) {
	case LINUX_ARCH_SET_FS:
		if (addr >= LINUX_TASK_SIZE)
			return -EPERM;
		r->fs_base = addr;
		return 0;
	case LINUX_ARCH_SET_GS:
		if (addr >= LINUX_TASK_SIZE)
			return -EPERM;
		r->gs_base = addr;
		return 0;
	case LINUX_ARCH_GET_FS:
		return copy_out(t->mm, addr, &r->fs_base, sizeof(r->fs_base));
	case LINUX_ARCH_GET_GS:
		return copy_out(t->mm, addr, &r->gs_base, sizeof(r->gs_base));
	case LINUX_ARCH_GET_CPUID:
		return 1; /* cpuid is not faulting */
	default:
		return -EINVAL;
	}
}

SYSCALL_DEFINE(set_tid_address)
{
	t->clear_child_tid = a->a[0];
	return t->tid;
}

SYSCALL_DEFINE(set_robust_list)
{
	if (a->a[1] != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	t->robust_list = a->a[0];
	t->robust_list_len = a->a[1];
	return 0;
}

SYSCALL_DEFINE(get_robust_list)
{
	uint64_t len = 24;
	if ((int)a->a[0] != 0 && (int)a->a[0] != t->tid)
		return -ESRCH;
	if (copy_out(t->mm, a->a[1], &t->robust_list, 8) || copy_out(t->mm, a->a[2], &len, 8))
		return -EFAULT;
	return 0;
}

/* rseq is not supported: glibc copes with ENOSYS. Listed so it is not logged as unknown. */
SYSCALL_DEFINE(rseq) { return -ENOSYS; }

SYSCALL_DEFINE(sched_yield) { return 0; }

/* ---- prctl: the options programs use at start-up ---- */

SYSCALL_DEFINE(prctl)
{
	uint64_t arg2 = a->a[1];

	switch ((int)a->a[0]) {
	case LINUX_PR_SET_NAME: {
		char name[16];
		/* Linux copies 16 bytes and terminates: a shorter unmapped tail is still EFAULT. */
		long n = copy_in_str(t->mm, name, arg2, sizeof(name));
		if (n == -ENAMETOOLONG) {
			if (copy_in(t->mm, name, arg2, sizeof(name) - 1))
				return -EFAULT;
			name[15] = 0;
		} else if (n < 0) {
			return n;
		}
		memcpy(t->comm, name, sizeof(name));
		return 0;
	}
	case LINUX_PR_GET_NAME:
		return copy_out(t->mm, arg2, t->comm, sizeof(t->comm));
	case LINUX_PR_SET_PDEATHSIG:
		if (arg2 > LINUX_NSIG)
			return -EINVAL;
		t->pdeathsig = (int)arg2;
		return 0;
	case LINUX_PR_GET_PDEATHSIG: {
		int32_t v = t->pdeathsig;
		return copy_out(t->mm, arg2, &v, sizeof(v));
	}
	case LINUX_PR_GET_DUMPABLE:
		return t->dumpable;
	case LINUX_PR_SET_DUMPABLE:
		if (arg2 > 1)
			return -EINVAL;
		t->dumpable = (int)arg2;
		return 0;
	case LINUX_PR_GET_KEEPCAPS:
		return t->keepcaps;
	case LINUX_PR_SET_KEEPCAPS:
		if (arg2 > 1)
			return -EINVAL;
		t->keepcaps = (int)arg2;
		return 0;
	case LINUX_PR_SET_NO_NEW_PRIVS:
		if (arg2 != 1 || a->a[2] || a->a[3] || a->a[4])
			return -EINVAL;
		t->no_new_privs = 1;
		return 0;
	case LINUX_PR_GET_NO_NEW_PRIVS:
		if (arg2 || a->a[2] || a->a[3] || a->a[4])
			return -EINVAL;
		return t->no_new_privs;
	default:
		return -EINVAL;
	}
}

#define E(name) {LINUX_SYS_##name, sys_##name}
const struct syscall_entry sys_misc_table[] = {
	E(getpid), E(gettid), E(getuid), E(geteuid), E(getgid), E(getegid),
	E(setuid), E(setgid), E(setresuid), E(setresgid), E(setreuid), E(setregid),
	E(getresuid), E(getresgid), E(setfsuid), E(setfsgid),
	E(uname), E(prlimit64), E(getrlimit), E(setrlimit),
	E(clock_gettime), E(clock_getres), E(gettimeofday), E(time), E(nanosleep),
	E(clock_nanosleep), E(getrandom), E(arch_prctl), E(set_tid_address),
	E(set_robust_list), E(get_robust_list), E(sched_yield),
	{LINUX_SYS_rseq, sys_rseq, "unsupported: restartable sequences (glibc falls back)"},
	{LINUX_SYS_prctl, sys_prctl,
	 "partial: PR_SET/GET_NAME, PDEATHSIG, DUMPABLE, KEEPCAPS, NO_NEW_PRIVS only"},
	{LINUX_SYS_getgroups, sys_getgroups, "partial: no supplementary groups"},
	{LINUX_SYS_sysinfo, sys_sysinfo, "partial: memory figures are the host's"},
	{-1, NULL},
};
