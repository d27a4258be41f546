/* The application's cpuid (docs/platforms.md, "cpuid"): an image start-up's learning window, and
 * the cpuids the platform leaves to the Sentry. */
#ifndef SENTRY_KERNEL_CPUID_H
#define SENTRY_KERNEL_CPUID_H

#include <stdbool.h>

#include "platform/platform.h"

struct task;

/* exec asked for a learning window (t->cpuid_learn): t's thread faults on cpuid from its next
 * run. From process_task_prepare, t's context made. */
void cpuid_window_open(struct task *t);
/* A syscall of t: the window, if open, closes at the first but brk and arch_prctl, and what it
 * saw is learned (mm_cpuid_learned). */
void cpuid_syscall(struct task *t, unsigned long nr);
/* A fault report of t that is a cpuid (one that faulted, or the int3 of a rewritten site the
 * platform did not answer): answered, rip past it; true. false: not one. */
bool cpuid_fault(struct task *t, const struct plat_event *ev);

#endif
