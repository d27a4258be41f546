/* Pairing: see pairing.h. */
#define _GNU_SOURCE
#include "platform/pairing.h"

#include <sched.h>
#include <time.h>

static cpu_set_t g_all;
static bool g_on;
static int g_ncpus;
static int g_active;
/* The pairs pinned to each CPU whose thread is running or being served (pairing_idle uncounts
 * one whose thread sleeps). */
static int g_pairs[CPU_SETSIZE];

bool pairing_init(void)
{
	/* sched_getaffinity, not sysconf: that reads /sys, a path the confined Sentry cannot open. */
	g_on = sched_getaffinity(0, sizeof(g_all), &g_all) == 0 && CPU_COUNT(&g_all) > 1;
	g_ncpus = g_on ? CPU_COUNT(&g_all) : 1;
	return g_on;
}

bool pairing_on(void)
{
	return g_on;
}

/* Pin tid (0: the caller) to cpu, or to every CPU the Sentry may use when cpu < 0. A failure
 * (the CPU went offline, a cpuset changed) only costs the pairing's gain. */
static void pin(pid_t tid, int cpu)
{
	cpu_set_t one;

	if (cpu < 0) {
		sched_setaffinity(tid, sizeof(g_all), &g_all);
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(tid, sizeof(one), &one);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Count p's pair on cpu (-1: on none). */
static void count(struct pairing *p, int cpu)
{
	if (p->counted == cpu + 1)
		return;
	if (p->counted)
		__atomic_sub_fetch(&g_pairs[p->counted - 1], 1, __ATOMIC_RELAXED);
	if (cpu >= 0)
		__atomic_add_fetch(&g_pairs[cpu], 1, __ATOMIC_RELAXED);
	p->counted = cpu + 1;
}

/* Where a pair about to be pinned on cpu should go instead: a CPU no other running pair is
 * pinned to, when another one is pinned to cpu (else cpu). */
static int less_busy(const struct pairing *p, int cpu)
{
	int mine = p->counted == cpu + 1;

	if (__atomic_load_n(&g_pairs[cpu], __ATOMIC_RELAXED) <= mine)
		return cpu;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (c != cpu && CPU_ISSET(c, &g_all) &&
		    __atomic_load_n(&g_pairs[c], __ATOMIC_RELAXED) == 0)
			return c;
	return cpu;
}

void pairing_follow(struct pairing *p, pid_t tid)
{
	int cpu;

	/* glibc reads the CPU from its rseq area: no system call. */
	if (!g_on || tid <= 0 || (cpu = sched_getcpu()) < 0)
		return;
	if (!p->cpu || p->floating) {
		/* Two running pairs on one CPU while another has none would take turns there:
		 * move this one (the pin moves the calling thread at once). Not a new pair: a
		 * thread or process that lives less than PAIRING_FLOAT_NS is better off next to
		 * the one that made it (thread create + join: 110 against 150 us). */
		if (p->cpu)
			cpu = less_busy(p, cpu);
		pin(0, cpu);
		p->floating = false;
		p->since = now_ns();
	} else if (now_ns() - p->since > PAIRING_FLOAT_NS &&
		   __atomic_load_n(&g_active, __ATOMIC_RELAXED) > 1) {
		pin(0, -1);
		p->floating = true;
	}
	if (p->cpu != cpu + 1) {
		pin(tid, cpu);
		p->cpu = cpu + 1;
	}
	count(p, cpu);
}

void pairing_idle(struct pairing *p)
{
	if (g_on && p->cpu)
		count(p, -1);
}

void pairing_undo(struct pairing *p, pid_t tid)
{
	cpu_set_t others = g_all;
	int cpu;

	if (!g_on || !p->cpu)
		return;
	if (tid > 0) {
		if ((cpu = sched_getcpu()) >= 0)
			CPU_CLR(cpu, &others);
		sched_setaffinity(tid, sizeof(others), CPU_COUNT(&others) ? &others : &g_all);
	}
	if (!p->floating)
		pin(0, -1);
	count(p, -1);
	*p = (struct pairing){0};
}

void pairing_free(pid_t tid)
{
	if (g_on)
		pin(tid, -1);
}

void pairing_pin_here(pid_t tid, int *cpu)
{
	int c;

	if (g_on && (c = sched_getcpu()) >= 0 && c + 1 != *cpu) {
		pin(tid, c);
		*cpu = c + 1;
	}
}

void pairing_keep_away(pid_t tid, int *away)
{
	cpu_set_t others = g_all;
	int cpu;

	if (!g_on || tid <= 0 || (cpu = sched_getcpu()) < 0 || cpu + 1 == *away)
		return;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) && sched_setaffinity(tid, sizeof(others), &others) == 0)
		*away = cpu + 1;
}

void pairing_active(int delta)
{
	__atomic_add_fetch(&g_active, delta, __ATOMIC_RELAXED);
}

bool pairing_solo(void)
{
	return g_on && __atomic_load_n(&g_active, __ATOMIC_RELAXED) <= g_ncpus - 1;
}
