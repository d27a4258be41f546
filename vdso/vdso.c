/* The sandbox's vDSO: clock_gettime, gettimeofday, time and clock_getres computed from the
 * parameter page the Sentry keeps (vdso_data.h) without trapping; getcpu and every clock the
 * page does not describe make the real syscall, which the platform traps to the Sentry as any
 * other. Built freestanding and position independent (see the Makefile and vdso.lds): no libc,
 * no relocations, nothing written. */
#include "vdso/vdso_data.h"

/* Linux's ABI, spelled out here: this file sees no libc headers. */
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define NSEC_PER_SEC 1000000000LL

struct kernel_timespec {
	int64_t tv_sec, tv_nsec;
};
struct kernel_timeval {
	int64_t tv_sec, tv_usec;
};
struct kernel_timezone {
	int tz_minuteswest, tz_dsttime;
};

/* The parameter page sits one page below the vDSO's first byte (vdso.lds); hidden, so the
 * reference is PC-relative and needs no relocation. */
extern const volatile struct vdso_data vvar_data __attribute__((visibility("hidden")));

static long raw_syscall2(long nr, long a0, long a1)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
	return r;
}

static long raw_syscall3(long nr, long a0, long a1, long a2)
{
	register long r10 __asm__("r10") = 0;
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

/* The page's clock for clock id id, or -1. */
static int page_clock(long id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		return VDSO_REALTIME;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
		return VDSO_MONOTONIC;
	case CLOCK_BOOTTIME:
		return VDSO_BOOTTIME;
	default:
		return -1;
	}
}

/* Clock c's time now in *ns; 0, or -1 when the page is not ready yet. */
static int now_ns(int c, int64_t *ns)
{
	struct vdso_params p;

	vdso_read_params(&vvar_data, &p);
	if (!p.ready)
		return -1;
	*ns = vdso_time_at(&p, c, vdso_rdtsc());
	return 0;
}

int __vdso_clock_gettime(long id, struct kernel_timespec *ts)
{
	int c = page_clock(id);
	int64_t ns;

	if (c < 0 || now_ns(c, &ns) < 0)
		return (int)raw_syscall2(SYS_clock_gettime, id, (long)ts);
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
	return 0;
}

int __vdso_gettimeofday(struct kernel_timeval *tv, struct kernel_timezone *tz)
{
	int64_t ns;

	if (now_ns(VDSO_REALTIME, &ns) < 0)
		return (int)raw_syscall2(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / NSEC_PER_SEC;
		tv->tv_usec = ns % NSEC_PER_SEC / 1000;
	}
	if (tz) {
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

long __vdso_time(long *t)
{
	int64_t ns;

	if (now_ns(VDSO_REALTIME, &ns) < 0)
		return raw_syscall2(SYS_time, (long)t, 0);
	long s = (long)(ns / NSEC_PER_SEC);
	if (t)
		*t = s;
	return s;
}

/* The Sentry answers 1 ns for the clocks the page computes; the coarse ones keep their tick. */
int __vdso_clock_getres(long id, struct kernel_timespec *res)
{
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME)
		return (int)raw_syscall2(SYS_clock_getres, id, (long)res);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

/* The Sentry emulates CPU affinity, so the host's CPU number (rdpid) would be wrong: ask it. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	return raw_syscall3(SYS_getcpu, (long)cpu, (long)node, (long)unused);
}

/* The unversioned names, as Linux's vDSO has them. */
int clock_gettime(long, struct kernel_timespec *)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct kernel_timeval *, struct kernel_timezone *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long, struct kernel_timespec *)
    __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
