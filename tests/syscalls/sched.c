/* sched.c: CPU affinity, getcpu, scheduling policies and parameters, priority ranges, nice
 * values (getpriority/setpriority with their permission rules), sched_yield. */
#include "sc.h"

#include <sched.h>

static int first_cpu(const cpu_set_t *s)
{
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, s))
			return c;
	return -1;
}

/* A pid that names no process: a reaped child's. */
static pid_t dead_pid(void)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		_exit(0);
	expect_exit(pid, 0);
	return pid;
}

static void test_affinity(void)
{
	cpu_set_t all, one, got;
	unsigned long raw[128];

	CHECK_OK(sched_getaffinity(0, sizeof(all), &all));
	int n = CPU_COUNT(&all);
	CHECK(n >= 1, "no CPU");
	CHECK(n == sysconf(_SC_NPROCESSORS_ONLN), "%d CPUs in the mask, %ld online", n,
	      sysconf(_SC_NPROCESSORS_ONLN));
	ok("sched_getaffinity: every online CPU");

	long len = syscall(SYS_sched_getaffinity, 0, sizeof(raw), raw);
	CHECK(len > 0 && len % 8 == 0 && len <= (long)sizeof(raw), "raw length %ld", len);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, raw), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 12, raw), EINVAL);

	int cpu = first_cpu(&all);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK_OK(sched_setaffinity(0, sizeof(one), &one));
	CHECK_OK(sched_getaffinity(0, sizeof(got), &got));
	CHECK(CPU_EQUAL(&got, &one), "mask after setting one CPU");
	CHECK(sched_getcpu() == cpu, "sched_getcpu %d, pinned to %d", sched_getcpu(), cpu);
	unsigned c = 99, node = 99;
	CHECK_OK(syscall(SYS_getcpu, &c, &node, NULL));
	CHECK((int)c == cpu && node == 0, "getcpu %u node %u", c, node);
	CHECK_OK(syscall(SYS_getcpu, NULL, NULL, NULL));
	ok("sched_setaffinity to one CPU; getcpu follows");

	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK_OK(sched_getaffinity(0, sizeof(got), &got));
		CHECK(CPU_EQUAL(&got, &one), "child's mask");
		_exit(0);
	}
	expect_exit(pid, 0);
	ok("a child inherits the CPU mask");

	CPU_ZERO(&one);
	CHECK_ERR(sched_setaffinity(0, sizeof(one), &one), EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &one);
	CHECK_ERR(sched_setaffinity(0, sizeof(one), &one), EINVAL);
	CHECK_ERR(sched_setaffinity(dead_pid(), sizeof(all), &all), ESRCH);
	CHECK_ERR(sched_getaffinity(dead_pid(), sizeof(all), &all), ESRCH);
	CHECK_OK(sched_setaffinity(0, sizeof(all), &all));
	CHECK_OK(sched_getaffinity(0, sizeof(got), &got));
	CHECK(CPU_EQUAL(&got, &all), "mask restored");
	ok("sched_setaffinity back to every CPU");
}

static void test_policy(void)
{
	struct sched_param p = {0};

	CHECK(sched_getscheduler(0) == SCHED_OTHER, "policy %d", sched_getscheduler(0));
	p.sched_priority = 42;
	CHECK_OK(sched_getparam(0, &p));
	CHECK(p.sched_priority == 0, "priority %d", p.sched_priority);
	ok("SCHED_OTHER, priority 0");

	p.sched_priority = 0;
	CHECK_OK(sched_setscheduler(0, SCHED_BATCH, &p));
	CHECK(sched_getscheduler(0) == SCHED_BATCH, "batch");
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK(sched_getscheduler(0) == SCHED_BATCH, "child's policy");
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK_OK(sched_setscheduler(0, SCHED_IDLE, &p));
	CHECK(sched_getscheduler(0) == SCHED_IDLE, "idle");
	CHECK_OK(sched_setparam(0, &p));
	CHECK(sched_getscheduler(0) == SCHED_IDLE, "setparam keeps the policy");
	CHECK_OK(sched_setscheduler(0, SCHED_OTHER, &p));
	CHECK(sched_getscheduler(0) == SCHED_OTHER, "other");
	ok("SCHED_BATCH and SCHED_IDLE are kept, inherited, and left");

	p.sched_priority = 1;
	CHECK_ERR(sched_setscheduler(0, SCHED_OTHER, &p), EINVAL);
	CHECK_ERR(sched_setparam(0, &p), EINVAL);
	p.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(0, SCHED_FIFO, &p), EINVAL);
	p.sched_priority = 100;
	CHECK_ERR(sched_setscheduler(0, SCHED_RR, &p), EINVAL);
	p.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(0, 42, &p), EINVAL);
	CHECK_ERR(sched_setscheduler(-1, SCHED_OTHER, &p), EINVAL);
	CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8), EFAULT);
	CHECK_ERR(sched_setscheduler(dead_pid(), SCHED_OTHER, &p), ESRCH);
	CHECK_ERR(sched_getscheduler(-1), EINVAL);
	CHECK_ERR(sched_getscheduler(dead_pid()), ESRCH);
	CHECK_ERR(sched_getparam(dead_pid(), &p), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);

	CHECK(sched_get_priority_max(SCHED_FIFO) == 99 && sched_get_priority_min(SCHED_FIFO) == 1,
	      "fifo range");
	CHECK(sched_get_priority_max(SCHED_RR) == 99 && sched_get_priority_min(SCHED_RR) == 1,
	      "rr range");
	CHECK(sched_get_priority_max(SCHED_OTHER) == 0 && sched_get_priority_min(SCHED_OTHER) == 0,
	      "other range");
	CHECK(sched_get_priority_max(SCHED_BATCH) == 0 && sched_get_priority_min(SCHED_IDLE) == 0,
	      "batch/idle range");
	CHECK_ERR(sched_get_priority_max(42), EINVAL);
	CHECK_ERR(sched_get_priority_min(-1), EINVAL);
	ok("sched_get_priority_max/min");

	struct timespec ts;
	CHECK_OK(sched_rr_get_interval(0, &ts));
	CHECK(ts.tv_sec >= 0 && ts.tv_nsec >= 0, "interval");
	CHECK_ERR(sched_rr_get_interval(dead_pid(), &ts), ESRCH);
	CHECK_OK(sched_yield());
	ok("sched_rr_get_interval, sched_yield");
}

static void nice_child(void)
{
	int base = getpriority(PRIO_PROCESS, 0);

	/* root may lower its nice value; after giving up uid 0 it may only raise it */
	CHECK_OK(setpriority(PRIO_PROCESS, 0, base - 1));
	CHECK(getpriority(PRIO_PROCESS, 0) == base - 1, "lowered");
	CHECK_OK(setpriority(PRIO_PROCESS, 0, base));
	pid_t parent = getppid();
	CHECK_OK(setresuid(65534, 65534, 65534));
	CHECK_OK(setpriority(PRIO_PROCESS, 0, base + 2));
	CHECK(getpriority(PRIO_PROCESS, 0) == base + 2, "raised");
	CHECK_ERR(setpriority(PRIO_PROCESS, 0, base + 1), EACCES);
	CHECK_ERR(setpriority(PRIO_PROCESS, parent, 10), EPERM);
	/* values are clamped to [-20, 19] */
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 100));
	CHECK(getpriority(PRIO_PROCESS, 0) == 19, "clamped to 19");
}

/* PRIO_PGRP and PRIO_USER reach every process of a group or user: natively too, so only in a
 * child alone in its own group and with a user id of its own. */
static void pgrp_user_child(void)
{
	int base = getpriority(PRIO_PROCESS, 0);

	CHECK_OK(setpgid(0, 0));
	CHECK_OK(setpriority(PRIO_PGRP, 0, base + 5));
	CHECK(getpriority(PRIO_PGRP, 0) == base + 5, "pgrp");
	CHECK(getpriority(PRIO_PROCESS, 0) == base + 5, "pgrp set the process");
	CHECK_OK(setresuid(54321, 54321, 54321));
	CHECK_OK(setpriority(PRIO_USER, 0, base + 6));
	CHECK(getpriority(PRIO_USER, 0) == base + 6, "user");
	CHECK(getpriority(PRIO_PROCESS, 0) == base + 6, "user set the process");
}

static void test_nice(void)
{
	int base = getpriority(PRIO_PROCESS, 0);

	CHECK(base >= -20 && base <= 19, "nice %d", base);
	CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 20 - base, "raw getpriority");
	errno = 0;
	CHECK(nice(3) == base + 3 && errno == 0, "nice(3)");
	CHECK(getpriority(PRIO_PROCESS, getpid()) == base + 3, "by pid");
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK(getpriority(PRIO_PROCESS, 0) == base + 3, "inherited");
		_exit(0);
	}
	expect_exit(pid, 0);
	ok("nice values: nice(), getpriority, inherited");

	in_child(pgrp_user_child);
	ok("PRIO_PGRP and PRIO_USER");

	CHECK_ERR(getpriority(3, 0), EINVAL);
	CHECK_ERR(setpriority(-1, 0, 0), EINVAL);
	CHECK_ERR(getpriority(PRIO_PROCESS, dead_pid()), ESRCH);
	CHECK_ERR(setpriority(PRIO_PROCESS, dead_pid(), 0), ESRCH);
	in_child(nice_child);
	ok("setpriority permissions");
}

int main(void)
{
	test_affinity();
	test_policy();
	test_nice();
	return 0;
}
