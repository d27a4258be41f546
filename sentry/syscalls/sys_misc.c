/* Identity, time, limits, randomness, architecture and exit: the small syscalls. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "abi/linux.h"
#include "common/util.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/vdso.h"
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

/* The setuid/setgid families, getgroups and setgroups: sys_cred.c. */

/* ---- system ---- */

SYSCALL_DEFINE(uname)
{
	struct linux_utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	kernel_lock(); /* sethostname/setdomainname (sys_res.c) change them under it */
	memcpy(u.nodename, g_kernel.hostname, sizeof(u.nodename));
	memcpy(u.domainname, g_kernel.domainname, sizeof(u.domainname));
	kernel_unlock();
	strcpy(u.release, "6.1.0");
	strcpy(u.version, "#1 SMP PREEMPT_DYNAMIC runsc-c");
	strcpy(u.machine, "x86_64");
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
		if (nl.rlim_max > t->tg->rlimits[resource].rlim_max &&
		    !cred_capable(&t->cred, LINUX_CAP_SYS_RESOURCE))
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
	int64_t ns;
	/* CPU-time clocks are the task's own (rusage.h), not the Sentry's */
	int r = rusage_cpu_clock(t, (int32_t)a->a[0], &ns);
	if (r != -ENOENT) {
		if (r < 0)
			return r;
		lts.tv_sec = ns / 1000000000LL;
		lts.tv_nsec = ns % 1000000000LL;
		return copy_out(t->mm, a->a[1], &lts, sizeof(lts));
	}
	if (host_clock((int)a->a[0], &c))
		return -EINVAL;
	/* The clocks the vDSO computes read the same way here, so trapped calls agree with it. */
	if (vdso_clock_ns((int)a->a[0], &ns) == 0) {
		lts.tv_sec = ns / 1000000000LL;
		lts.tv_nsec = ns % 1000000000LL;
		return copy_out(t->mm, a->a[1], &lts, sizeof(lts));
	}
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
	int64_t ns;
	int r = rusage_cpu_clock(t, (int32_t)a->a[0], &ns);
	if (r != -ENOENT) {
		/* CPU-time clocks count nanoseconds */
		lts.tv_sec = 0;
		lts.tv_nsec = 1;
		return r < 0 ? r : a->a[1] ? copy_out(t->mm, a->a[1], &lts, sizeof(lts)) : 0;
	}
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
	int64_t ns;
	if (vdso_clock_ns(LINUX_CLOCK_REALTIME, &ns) == 0)
		ts = (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
	else
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
	int64_t now;
	if (vdso_clock_ns(LINUX_CLOCK_REALTIME, &now) == 0)
		now /= 1000000000LL;
	else
		now = (int64_t)time(NULL);
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
		/* bounding set, ambient set, securebits (sentry/kernel/cred.c) */
		if (cred_prctl_option((int)a->a[0]))
			return cred_prctl(t, (int)a->a[0], arg2, a->a[2], a->a[3], a->a[4]);
		return -EINVAL;
	}
}

#define E(name) {LINUX_SYS_##name, sys_##name}
const struct syscall_entry sys_misc_table[] = {
	E(getpid), E(gettid), E(getuid), E(geteuid), E(getgid), E(getegid),
	E(uname), E(prlimit64), E(getrlimit), E(setrlimit),
	E(clock_gettime), E(clock_getres), E(gettimeofday), E(time), E(nanosleep),
	E(clock_nanosleep), E(getrandom), E(arch_prctl), E(set_tid_address),
	E(set_robust_list), E(get_robust_list), E(sched_yield),
	{LINUX_SYS_rseq, sys_rseq, "unsupported: restartable sequences (glibc falls back)"},
	{LINUX_SYS_prctl, sys_prctl,
	 "partial: PR_SET/GET_NAME, PDEATHSIG, DUMPABLE, KEEPCAPS, NO_NEW_PRIVS, CAPBSET_*, "
	 "CAP_AMBIENT and SECUREBITS (keep-caps bit) only"},
	{LINUX_SYS_sysinfo, sys_sysinfo, "partial: memory figures are the host's"},
	{-1, NULL},
};
