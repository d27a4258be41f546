/* The vDSO's parameter page ("vvar"): its layout and the time computation, shared by the vDSO
 * (vdso/vdso.c, built freestanding), the Sentry that writes the page (sentry/kernel/vdso.c) and
 * the unit tests. Header-only and freestanding: no libc. */
#ifndef VDSO_VDSO_DATA_H
#define VDSO_VDSO_DATA_H

#include <stdint.h>

/* The clocks the page describes; every other clock id falls back to the real syscall. */
enum vdso_clock {
	VDSO_REALTIME,	/* CLOCK_REALTIME and CLOCK_REALTIME_COARSE */
	VDSO_MONOTONIC, /* CLOCK_MONOTONIC and CLOCK_MONOTONIC_COARSE */
	VDSO_BOOTTIME,	/* CLOCK_BOOTTIME */
	VDSO_NCLOCKS
};

/*
 * Written only by the Sentry, under the seqcount: seq is odd while an update is under way, and
 * a reader retries when seq was odd or changed while it read. For each clock,
 *   time_ns = base_ns[clock] + ((rdtsc - tsc_base) * mult) >> shift
 * with a 128-bit product, so a late update can never overflow it. ready is 0 until the Sentry
 * has calibrated the TSC: the vDSO then makes the real syscall.
 */
struct vdso_data {
	uint32_t seq;
	uint32_t ready;
	uint64_t tsc_base;
	uint64_t mult;
	uint32_t shift;
	uint32_t pad;
	int64_t base_ns[VDSO_NCLOCKS];
};

/* One consistent copy of the parameters. */
struct vdso_params {
	uint64_t tsc_base, mult;
	uint32_t shift, ready;
	int64_t base_ns[VDSO_NCLOCKS];
};

/* The time of clock c at TSC value tsc. A TSC below tsc_base (a reader that took it before
 * the update it then read) counts as tsc_base. */
static inline int64_t vdso_time_at(const struct vdso_params *p, int c, uint64_t tsc)
{
	uint64_t delta = tsc > p->tsc_base ? tsc - p->tsc_base : 0;
	return p->base_ns[c] + (int64_t)(((unsigned __int128)delta * p->mult) >> p->shift);
}

/* Read the page's parameters consistently (the seqcount's read side). */
static inline void vdso_read_params(const volatile struct vdso_data *d, struct vdso_params *p)
{
	uint32_t s;

	for (;;) {
		s = __atomic_load_n(&d->seq, __ATOMIC_ACQUIRE);
		if (s & 1) {
			__builtin_ia32_pause();
			continue;
		}
		p->ready = d->ready;
		p->tsc_base = d->tsc_base;
		p->mult = d->mult;
		p->shift = d->shift;
		for (int c = 0; c < VDSO_NCLOCKS; c++)
			p->base_ns[c] = d->base_ns[c];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&d->seq, __ATOMIC_RELAXED) == s)
			return;
	}
}

/* The TSC, not read before the loads that precede it (Linux's rdtsc_ordered). */
static inline uint64_t vdso_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

#endif
