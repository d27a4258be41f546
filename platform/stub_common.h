/* What the stub-process platforms (ptrace, systrap, unotify) share: the fixed stub region,
 * forking a stub from a multi-threaded Sentry, and the child's first steps before it becomes an
 * empty process.
 *
 * Between the fork and the moment it holds nothing of the Sentry, the child is a copy of one
 * thread of a multi-threaded process: it makes raw system calls and copies memory, nothing else
 * (no locks, no malloc, no stdio).
 */
#ifndef PLATFORM_STUB_COMMON_H
#define PLATFORM_STUB_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* The stub region, reserved (PROT_NONE) in the Sentry by the backend's init() so that nothing of
 * the Sentry sits there when a stub is forked. Applications get [0, PLAT_STUB_BASE). */
#define PLAT_STUB_BASE 0x7e0000000000ULL
#define PLAT_STUB_REGION_SIZE 0x8000000ULL /* 128 MiB */
#define PLAT_STUB_END (PLAT_STUB_BASE + PLAT_STUB_REGION_SIZE)

/* The checks every backend's as_map/as_unmap/as_protect make: page-aligned, inside the
 * application's range [0, PLAT_STUB_BASE). 0 or -EINVAL. */
static inline int plat_range_check(uint64_t addr, uint64_t len)
{
	if ((addr | len) & 4095 || addr + len < addr || addr + len > PLAT_STUB_BASE)
		return -EINVAL;
	return 0;
}

/* Top of the x86-64 user address space with 4-level paging (TASK_SIZE_MAX), and with 5-level. */
#define STUB_USER_TOP 0x7ffffffff000ULL
#define STUB_USER_TOP_LA57 0xfffffffffff000ULL

/* si_code of a SIGSYS raised by a seccomp filter (glibc's headers lack it). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Segment selectors of a 64-bit user thread. */
#define STUB_USER_CS 0x33
#define STUB_USER_SS 0x2b

/* EFLAGS bits an application may set (those popf can change in user mode): CF PF AF ZF SF TF DF
 * OF AC ID. Bit 1 is always one and IF always set. */
#define STUB_EFLAGS_USER 0x240dd5ULL
#define STUB_EFLAGS_FIXED 0x202ULL

/* Reserve the stub region in the calling process (the Sentry), once. Returns 0 or -errno. */
int stub_region_reserve(void);

/* The calling thread's host tid (not cached: a cache would survive fork() into a child). */
pid_t stub_gettid(void);

/* A raw fork (SIGCHLD, no flags): unlike fork(3) it runs no atfork handlers and takes no glibc
 * lock, which matters in a multi-threaded Sentry. The child continues on a copy of the caller's
 * stack. Returns the child's pid in the parent, 0 in the child, or -errno. */
long stub_fork(void);

/* The child's first steps after stub_fork, with raw syscalls only: die with the forking thread
 * (PR_SET_PDEATHSIG, checked against ppid), block every signal, unregister glibc's rseq area,
 * and keep only fds[0..nfds) as fds 0..nfds-1. Returns 0 or an errno value. */
int stub_child_prelude(pid_t ppid, const int *fds, int nfds);

/* End the child with exit status err. */
noreturn void stub_child_exit(int err);

#endif
