/* Resource usage and scheduling state of tasks: CPU time, maximum resident set, the host's
 * CPUs as the sandbox sees them, and each task's nice value, policy and CPU mask.
 *
 * CPU time is an approximation (docs/compatibility.md says so):
 *  - user time of a task is the wall-clock time its host thread spends inside the platform's
 *    ctx_run (the application running, as gVisor counts it); time the host takes the CPU away
 *    from the stub is counted too;
 *  - system time is the CPU time of the task's Sentry host thread (its syscall emulation),
 *    less what the platform says it spent spinning for the application (systrap's spins,
 *    which in solo take as much CPU as the application: a busy loop's user and system time
 *    were then equal). The Sentry's other work for the stub while the application runs
 *    (ptrace's waitpid) lands there.
 * The maximum resident set is sampled, not a true high-water mark: the resident size of the
 * address space (pages backed in the memory file) when getrusage asks, when the last thread
 * exits and at execve (not of a vfork child, whose address space is its parent's). The last
 * two are measured by the thread that tears the address space down, after the exit or the
 * exec has gone on: a reader of a figure still being measured (getrusage, wait4's rusage)
 * waits for it. Fault and context-switch counters are zero. */
#ifndef SENTRY_KERNEL_RUSAGE_H
#define SENTRY_KERNEL_RUSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "abi/linux.h"
#include "sentry/kernel/task.h"

/* struct rusage (getrusage, wait4) and struct tms (times) of x86-64. */
struct linux_rusage {
	struct linux_timeval ru_utime, ru_stime;
	int64_t ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap;
	int64_t ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};
_Static_assert(sizeof(struct linux_rusage) == 144, "rusage");
struct linux_tms {
	int64_t tms_utime, tms_stime, tms_cutime, tms_cstime;
};
#define LINUX_RUSAGE_SELF 0
#define LINUX_RUSAGE_CHILDREN (-1)
#define LINUX_RUSAGE_BOTH (-2) /* kernel-internal: self and children (wait4) */
#define LINUX_RUSAGE_THREAD 1

#ifndef LINUX_SCHED_OTHER
#define LINUX_SCHED_OTHER 0
#define LINUX_SCHED_FIFO 1
#define LINUX_SCHED_RR 2
#define LINUX_SCHED_BATCH 3
#define LINUX_SCHED_IDLE 5
#define LINUX_SCHED_DEADLINE 6
#define LINUX_SCHED_RESET_ON_FORK 0x40000000
#endif

/* The most CPUs the sandbox knows of (bits of task->cpu_mask). */
#define RUSAGE_MAX_CPUS 256

/* The host CPUs the Sentry may run on (its affinity at first use), which the sandbox sees as
 * its online, possible and present CPUs. mask: RUSAGE_MAX_CPUS bits. */
const uint64_t *host_cpu_mask(void);
/* How many there are (>= 1). */
int host_cpu_count(void);
/* Linux's cpumask_size() on the host: the bytes sched_getaffinity copies out. */
int host_cpumask_bytes(void);
/* The mask as Linux's cpulist format ("0-3,6"), NUL-terminated, into buf. Its length. */
int host_cpu_list(char *buf, int size);
/* The host CPU the calling Sentry thread runs on, if it is in mask, else the lowest CPU in
 * mask (getcpu). */
int rusage_current_cpu(const uint64_t *mask);

/* A new task's scheduling state: parent's (clone), or the defaults for the first task
 * (parent NULL: nice 0, SCHED_OTHER, every host CPU). */
void rusage_task_init(struct task *t, const struct task *parent);

/* The clock user time is counted in (t->utime_ticks): the TSC where it is invariant (CPUID's
 * invariant-TSC bit: constant rate, synchronised across CPUs, as the host kernel's clocksource
 * needs too), else CLOCK_MONOTONIC nanoseconds. The run loop reads it twice per syscall, and a
 * rdtsc costs half a vDSO clock_gettime. CLOCK_MONOTONIC_COARSE would be cheaper still, but it
 * moves once per host tick (4 ms at HZ=250): each ctx_run of a few microseconds would count 0
 * or a whole tick, which is too coarse for an ITIMER_VIRTUAL/PROF of a few milliseconds to
 * expire on time. rusage_clock_init (at boot) chooses; without it, nanoseconds. */
void rusage_clock_init(void);
extern bool g_rusage_tsc;
static inline uint64_t rusage_clock(void)
{
	struct timespec ts;

	if (g_rusage_tsc)
		return __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
/* rusage_clock ticks in nanoseconds: at the TSC's rate measured from boot to now. */
int64_t rusage_ticks_ns(uint64_t ticks);

/* The user and system time of live task t, in ns. g_kernel.lock held (the task's host thread
 * cannot finish exiting meanwhile). */
void rusage_task_times_locked(struct task *t, int64_t *utime, int64_t *stime);
/* The same summed over tg's live threads plus its exited ones. g_kernel.lock held. */
void rusage_tg_times_locked(struct thread_group *tg, int64_t *utime, int64_t *stime);
/* Called by the exiting thread t itself, g_kernel.lock held, before it stops counting as a
 * live thread: its times go into its process's totals. */
void rusage_thread_exit_locked(struct task *t);
/* The address space mm, which t's process has just left (its last thread exited, or it
 * exec'd), counts for the process's maxrss: its resident size is measured by the thread that
 * tears it down (mm_put_last_then), or at once when something else still holds mm. Consumes
 * the caller's reference, as mm_put_later. Call without g_kernel.lock. */
void rusage_put_mm(struct task *t, struct mm *mm);
/* The resident size of mm in KiB (0 for NULL). Takes the mm's lock: call without
 * g_kernel.lock. */
uint64_t rusage_mm_rss_kb(struct mm *mm);
/* tg is being freed (reaped, or released with nobody to reap it): measurements still on their
 * way for it are dropped. g_kernel.lock held. */
void rusage_release_locked(struct thread_group *tg);
/* Are measurements still on their way for zombie ch's usage (rusage_zombie_locked)? Then wait
 * for one to land with rusage_wait_locked, which drops g_kernel.lock meanwhile (so look again
 * at everything after it). g_kernel.lock held. */
bool rusage_zombie_pending_locked(struct thread_group *ch);
void rusage_wait_locked(void);

/* getrusage(who) of t (LINUX_RUSAGE_SELF/CHILDREN/THREAD). 0 or -EINVAL. */
int rusage_get(struct task *t, int who, struct linux_rusage *out);
/* The usage wait4 reports for zombie ch (its own and its children's). g_kernel.lock held. */
void rusage_zombie_locked(struct thread_group *ch, struct linux_rusage *out);
/* ch is being reaped by parent: its usage (as rusage_zombie_locked) joins parent's children
 * totals. g_kernel.lock held. */
void rusage_reap_locked(struct thread_group *parent, struct thread_group *ch);

/* Read a CPU-time clock for t: LINUX_CLOCK_PROCESS_CPUTIME_ID, LINUX_CLOCK_THREAD_CPUTIME_ID,
 * or a clock of a process or thread as clock_getcpuclockid/pthread_getcpuclockid encode it
 * (negative ids). 0 with *ns, -EINVAL for a bad id or an unknown process, or -ENOENT when id
 * is not a CPU-time clock at all. */
int rusage_cpu_clock(struct task *t, int64_t clockid, int64_t *ns);

#endif
