/* Pairing: an application thread's host thread pinned to the CPU of the Sentry thread that
 * runs it, so that the hand-offs between the two are wake-ups on one CPU.
 *
 * A hand-off to a thread asleep on another CPU is a remote wake-up: an interrupt to that CPU,
 * in a VM the wake-up of a halted vCPU (tens of microseconds); to a thread on the waker's own
 * CPU it is one context switch. Left alone, the scheduler wakes a thread on whichever CPU is
 * idle, so nearly every hand-off that sleeps crossed CPUs. A pair is the Sentry thread (the
 * caller) and one host thread of a stub: both pinned to the CPU the Sentry thread is on. Every
 * PAIRING_FLOAT_NS the Sentry thread is left unpinned for one hand-off, so that the scheduler
 * can move it to a less busy CPU, and the stub thread follows it there: no pair stays pinned
 * longer than that while another application thread runs (pairing_active's count). A thread
 * running alone is not floated: there is nothing to balance, and each move took the program's
 * caches and TLB away from it (~1 ms of work over 4 MiB between two calls: 1.34 ms natively,
 * 1.60 ms with the move, 1.39 without; benchmarks/compute_syscall). Pairs whose threads run
 * are counted per CPU (pairing_idle uncounts one whose thread sleeps in the Sentry): a pair
 * pinned again after its float where another running pair is goes to a CPU without one
 * instead (two interpreters starting at once took turns on one CPU while the other idled:
 * 117% CPU, 0.72 s for what takes 0.35 s natively; 0.50 s at 187% with this).
 * docs/platforms.md has the measurements.
 *
 * Used by systrap (while neither side spins) and ptrace (always). A no-op with one CPU.
 */
#ifndef PLATFORM_PAIRING_H
#define PLATFORM_PAIRING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PAIRING_FLOAT_NS 1000000ULL

/* One pair's state; the Sentry thread's alone. Zero is "not paired". */
struct pairing {
	int cpu;	/* the CPU both are pinned to, plus one; 0: not paired */
	bool floating;	/* the Sentry thread is unpinned for this hand-off */
	uint64_t since; /* CLOCK_MONOTONIC ns of the Sentry thread's last pinning */
	int counted;	/* the CPU the pair is counted on as running (pairing.c), plus one */
};

/* Call once, before any other pairing call and before stubs are forked: records the CPUs the
 * Sentry may use (its affinity then). Returns whether pairing is on (more than one CPU). */
bool pairing_init(void);
bool pairing_on(void);

/* Before a hand-off to tid: pair it with the calling thread (see above). */
void pairing_follow(struct pairing *p, pid_t tid);
/* Undo the pair: the calling thread gets every CPU back, and tid (when > 0) every CPU but the
 * caller's, so that the two run apart at once (they then spin for each other: waiting for the
 * scheduler to move one would make every spin miss meanwhile); pairing_free(tid) after its
 * next run gives it every CPU again. */
void pairing_undo(struct pairing *p, pid_t tid);
/* The pair's application thread sleeps in the Sentry: it no longer counts as running on its
 * CPU until the next pairing_follow. */
void pairing_idle(struct pairing *p);
void pairing_free(pid_t tid);
/* Pin tid (0: the caller) to the caller's CPU if it is not there already (*cpu remembers where it
 * was pinned, plus one; 0 at first). For helper threads that only ever serve the caller. */
void pairing_pin_here(pid_t tid, int *cpu);

/* Keep tid (a helper thread about to be woken: the readahead thread) off the caller's CPU, where
 * a pair may run: the scheduler wakes a thread on its waker's CPU, and a helper that works there
 * for a while delays the pinned pair, which cannot move away while the other CPU idles. *away
 * remembers the CPU tid was last kept off, plus one (0 at first): the mask changes only when the
 * caller's CPU does. */
void pairing_keep_away(pid_t tid, int *away);

/* The application threads that run or are being served (not asleep in the Sentry), which the
 * kernel counts with pairing_active(+1 / -1); pairing_solo(): more than one CPU, and at most one
 * such thread per CPU but one, so that a thread and its Sentry thread can each have a CPU
 * (systrap's solo, platform/systrap/run.c). */
void pairing_active(int delta);
bool pairing_solo(void);

#endif
