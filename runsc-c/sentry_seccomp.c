/* The Sentry's seccomp allowlist, in one table with a reason per syscall (its installation, from
 * the program compiled at build time: sentry_seccomp_load.c).
 *
 * Everything not listed traps (SCMP_ACT_TRAP), and so does a call of another architecture: the
 * Sentry has no SIGSYS handler (but in debug mode, where one names the call and exits), so it
 * dies of SIGSYS as SCMP_ACT_KILL_PROCESS would make it, without making the call. Not KILL:
 * the debug mode's handler could not name the call, and a stub forked from the Sentry (ptrace's)
 * inherits this filter (systrap's and unotify's come from the stub master, forked before it: a
 * KILL here would win over their own TRAP, of stacked filters the most restrictive answer
 * winning). Nothing here takes a host path:
 * no open, openat, openat2, creat, execve, execveat, stat, lstat, access, mount, chdir, ...
 * glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), which takes a path: Sentry code calls
 * host_fstat() (common/host.h), the fstat syscall itself, instead.
 * To add a syscall: add a rule here with the reason, and update docs/architecture.md (the list
 * and count are printed by `runsc-c debug seccomp`).
 */
#define _GNU_SOURCE
#include "runsc-c/sentry_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "common/log.h"
#include "common/util.h"

/* Linux 6.6's ioctl (Debian 12's headers predate it). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

/* clone() flags that would create namespaces: the Sentry makes threads and stub processes only. */
#define CLONE_NS_FLAGS                                                                             \
	(CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

/* One rule per line reads best. */
// clang-format off
#define ALLOW(n, w) {.name = n, .arg = -1, .why = w}
#define ALLOW_IF(n, i, v, w) {.name = n, .arg = i, .op = SCMP_CMP_EQ, .a = v, .cond = #v, .why = w}
#define ALLOW_MASKED(n, i, m, v, c, w)                                                             \
	{.name = n, .arg = i, .op = SCMP_CMP_MASKED_EQ, .a = m, .b = v, .cond = c, .why = w}
#define FAIL(n, e, w) {.name = n, .arg = -1, .err = e, .why = w}

const struct sentry_seccomp_rule sentry_seccomp_rules[] = {
	/* I/O on fds the Sentry already holds: stdio, donated gofer files, the memory file. */
	ALLOW("read", "read stdin, donated host files, pipes"),
	ALLOW("write", "write stdout/stderr, the log, the status pipe"),
	ALLOW("pread64", "read donated host files at an offset"),
	ALLOW("pwrite64", "write donated host files; fill the memory file from a buffer"),
	ALLOW("readv", "vectored read of host fds"),
	ALLOW("writev", "vectored write of host fds"),
	ALLOW("lseek", "seek donated host files"),
	ALLOW("close", "close fds"),
	ALLOW("close_range", "close many fds (stub set-up)"),
	ALLOW("dup", "duplicate fds"),
	ALLOW("dup2", "duplicate fds (glibc dup2)"),
	ALLOW("dup3", "duplicate fds"),
	ALLOW("fstat", "stat an fd the Sentry holds"),
	ALLOW_IF("fcntl", 1, F_GETFD, "fd flags"),
	ALLOW_IF("fcntl", 1, F_SETFD, "fd flags"),
	ALLOW_IF("fcntl", 1, F_GETFL, "file status flags"),
	ALLOW_IF("fcntl", 1, F_SETFL, "file status flags (O_NONBLOCK)"),
	ALLOW_IF("fcntl", 1, F_DUPFD_CLOEXEC, "duplicate fds"),
	ALLOW_IF("ioctl", 1, TCGETS, "terminal attributes of stdio"),
	ALLOW_IF("ioctl", 1, TCSETS, "terminal attributes of stdio"),
	ALLOW_IF("ioctl", 1, TCSETSW, "terminal attributes of stdio"),
	ALLOW_IF("ioctl", 1, TCSETSF, "terminal attributes of stdio"),
	ALLOW_IF("ioctl", 1, TIOCGWINSZ, "terminal size of stdio"),
	ALLOW_IF("ioctl", 1, TIOCGPGRP, "foreground process group of stdio"),
	ALLOW_IF("ioctl", 1, FIONREAD, "bytes readable on a host fd"),
	ALLOW("poll", "wait for host fds"),
	ALLOW("ppoll", "wait for host fds"),
	/* The gofer connection: a connected SOCK_SEQPACKET socket with fd passing. */
	ALLOW("sendmsg", "gofer requests"),
	ALLOW("recvmsg", "gofer replies with donated fds (SCM_RIGHTS)"),
	ALLOW_IF("sendto", 4, 0, "send() on a connected socket, no address"),
	ALLOW_IF("recvfrom", 4, 0, "recv() on a connected socket, no address"),
	/* Memory: the Sentry's own heap and thread stacks, the memory file. */
	ALLOW("mmap", "heap, stacks, mapping the memory file and the page caches' host files"),
	ALLOW("munmap", "unmap"),
	ALLOW("mprotect", "guard pages, glibc"),
	ALLOW("mremap", "glibc realloc of large blocks"),
	ALLOW("madvise", "release memory (thread stacks, MADV_DONTNEED)"),
	ALLOW("brk", "glibc malloc"),
	ALLOW("fallocate", "punch holes in the memory file (free pages)"),
	/* Threads and the stub processes of the ptrace platform. */
	ALLOW_MASKED("clone", 0, CLONE_NS_FLAGS, 0, "no CLONE_NEW* flag",
		     "task threads; stub processes (ptrace platform forks them)"),
	FAIL("clone3", ENOSYS, "flags live in memory seccomp cannot read: glibc falls back to clone"),
	/* A guest call into the vsyscall page runs these in its stub, where the stub's own filter
	 * traps them to the Sentry; a kill action here would win over that trap. */
	FAIL("time", ENOSYS, "vsyscall page: the stub's filter traps it"),
	FAIL("gettimeofday", ENOSYS, "vsyscall page: the stub's filter traps it"),
	FAIL("getcpu", ENOSYS, "vsyscall page: the stub's filter traps it"),
	ALLOW("ptrace", "run and inspect the stubs (PTRACE_SYSEMU, GETREGS...)"),
	ALLOW("pipe2", "a systrap stub's completion pipe (the only channel it cannot forge)"),
	/* The unotify platform: each stub thread's seccomp listener (notification fd). */
	ALLOW_IF("ioctl", 1, SECCOMP_IOCTL_NOTIF_RECV, "unotify: a stub thread's hand-off"),
	ALLOW_IF("ioctl", 1, SECCOMP_IOCTL_NOTIF_SEND, "unotify: answer it (the stub's next step)"),
	ALLOW_IF("ioctl", 1, SECCOMP_IOCTL_NOTIF_SET_FLAGS, "unotify: synchronous wake-up"),
	ALLOW("pidfd_getfd", "unotify: a new stub's fds from the master, each listener from its stub"),
	ALLOW("wait4", "reap and wait for stubs"),
	ALLOW("waitid", "reap and wait for stubs"),
	ALLOW("kill", "signal stubs (only its own pid namespace exists)"),
	ALLOW("tgkill", "interrupt a task thread or stub thread"),
	ALLOW("gettid", "thread id"),
	ALLOW("getpid", "process id (logging, abort)"),
	ALLOW("getppid", "parent id (stubs check their parent)"),
	ALLOW("exit", "thread exit"),
	ALLOW("exit_group", "process exit"),
	ALLOW("set_robust_list", "glibc thread start"),
	ALLOW("rseq", "glibc thread start"),
	ALLOW("futex", "locks, condition variables, thread join"),
	ALLOW("sched_yield", "spin-wait back-off"),
	ALLOW("sched_getaffinity", "glibc (malloc arenas, nprocs)"),
	ALLOW("sched_setaffinity", "ptrace, systrap: a Sentry thread and its stub thread on one CPU (platform/pairing.c)"),
	/* Signals. */
	ALLOW("rt_sigaction", "install handlers (interrupts, debug SIGSYS)"),
	ALLOW("rt_sigprocmask", "block signals around critical sections"),
	ALLOW("rt_sigreturn", "return from a signal handler"),
	ALLOW("sigaltstack", "signal stacks"),
	ALLOW("restart_syscall", "restart after a signal"),
	/* Time. */
	ALLOW("clock_gettime", "time (vDSO fallback)"),
	ALLOW("clock_getres", "clock resolution"),
	ALLOW("nanosleep", "sleeps"),
	ALLOW("clock_nanosleep", "sleeps"),
	/* Facts about the host the emulation passes on, and the Sentry's own limits. */
	ALLOW("uname", "host kernel identity for the emulated uname"),
	ALLOW("sysinfo", "memory totals for the emulated sysinfo"),
	ALLOW("getrandom", "AT_RANDOM, /dev/urandom, getrandom for the application"),
	ALLOW_IF("prlimit64", 0, 0, "its own limits only (glibc getrlimit/setrlimit)"),
	ALLOW_IF("prctl", 0, PR_SET_NAME, "name threads"),
	ALLOW_IF("prctl", 0, PR_GET_NAME, "name threads"),
	ALLOW_IF("prctl", 0, PR_SET_PDEATHSIG, "stubs die with the Sentry"),
	ALLOW_IF("prctl", 0, PR_SET_NO_NEW_PRIVS, "stubs installing their own filter"),
	ALLOW_IF("seccomp", 0, SECCOMP_SET_MODE_FILTER, "stubs narrow their own filter further"),
};

// clang-format on

const size_t sentry_seccomp_nrules = ARRAY_SIZE(sentry_seccomp_rules);

/* Is rule i the first allowing rule for its syscall? */
static bool first_of_name(size_t i)
{
	if (sentry_seccomp_rules[i].err)
		return false;
	for (size_t j = 0; j < i; j++)
		if (!sentry_seccomp_rules[j].err &&
		    strcmp(sentry_seccomp_rules[j].name, sentry_seccomp_rules[i].name) == 0)
			return false;
	return true;
}

size_t sentry_seccomp_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < sentry_seccomp_nrules; i++)
		n += first_of_name(i);
	return n;
}

scmp_filter_ctx sentry_seccomp_build(uint32_t default_action)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);
	int r = 0;

	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	/* Threads made before the filter (none expected) get it too. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;
	/* int $0x80 in a systrap stub must trap like any application syscall (see above). */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, default_action)) < 0)
		goto fail;
	for (size_t i = 0; i < sentry_seccomp_nrules; i++) {
		const struct sentry_seccomp_rule *rule = &sentry_seccomp_rules[i];
		int nr = seccomp_syscall_resolve_name(rule->name);
		uint32_t action = rule->err ? SCMP_ACT_ERRNO(rule->err) : SCMP_ACT_ALLOW;

		if (nr == __NR_SCMP_ERROR) {
			log_error("seccomp: unknown syscall %s", rule->name);
			r = -EINVAL;
			goto fail;
		}
		if (rule->arg < 0) {
			r = seccomp_rule_add(ctx, action, nr, 0);
		} else {
			struct scmp_arg_cmp cmp = {.arg = (unsigned)rule->arg,
						   .op = rule->op,
						   .datum_a = rule->a,
						   .datum_b = rule->b};
			r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
		}
		if (r < 0) {
			log_error("seccomp: rule for %s: %s", rule->name, strerror(-r));
			goto fail;
		}
	}
	return ctx;
fail:
	seccomp_release(ctx);
	errno = -r;
	return NULL;
}

void sentry_seccomp_print(FILE *f)
{
	fprintf(f, "Sentry seccomp allowlist: %zu syscalls (anything else traps: SIGSYS kills the "
		   "Sentry)\n",
		sentry_seccomp_count());
	for (size_t i = 0; i < sentry_seccomp_nrules; i++) {
		const struct sentry_seccomp_rule *r = &sentry_seccomp_rules[i];
		char what[96];

		if (r->err)
			snprintf(what, sizeof(what), "-> %s", strerror(r->err));
		else if (r->cond)
			snprintf(what, sizeof(what), "if arg%d %s %s", r->arg,
				 r->op == SCMP_CMP_MASKED_EQ ? "~" : "==", r->cond);
		else
			what[0] = '\0';
		fprintf(f, "  %-18s %-32s %s\n", r->name, what, r->why);
	}
}
