/* The ptrace platform's internals: the stub process's fixed layout and the helpers shared by
 * ptrace.c (the platform operations) and stub.c (making stubs, injecting syscalls into them).
 *
 * An address space is one stub process. The stub holds nothing but one page of our code at
 * PLAT_STUB_BASE (plus the kernel's vsyscall page) and the mappings the Sentry asks for; its only
 * fd is the memory file, at STUB_FD_MEMFILE. Its one thread is the application thread, traced by
 * the Sentry thread that created it.
 */
#ifndef PLATFORM_PTRACE_PTRACE_H
#define PLATFORM_PTRACE_PTRACE_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/platform.h"

/* The stub region, reserved (PROT_NONE) in the Sentry by init() so that nothing of the Sentry
 * sits there when a stub is forked. Applications get [0, PLAT_STUB_BASE). */
#define PLAT_STUB_BASE 0x7e0000000000ULL
#define PLAT_STUB_SIZE 0x10000ULL /* reserved; the stub itself uses the first page */

/* Top of the x86-64 user address space with 4-level paging (TASK_SIZE_MAX), and with 5-level. */
#define STUB_USER_TOP 0x7ffffffff000ULL
#define STUB_USER_TOP_LA57 0xfffffffffff000ULL

/* The stub page: `syscall` at PLAT_STUB_BASE, `int3` right after it. An injected syscall runs
 * from STUB_SYSCALL_ADDR and stops with SIGTRAP at STUB_TRAP_ADDR + 1. */
#define STUB_SYSCALL_ADDR PLAT_STUB_BASE
#define STUB_TRAP_ADDR (PLAT_STUB_BASE + 2)

/* The memory file's fd number in every stub. */
#define STUB_FD_MEMFILE 0

/* si_code of a SIGSYS raised by a seccomp filter (glibc's headers lack it). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Segment selectors of a 64-bit user thread. */
#define STUB_USER_CS 0x33
#define STUB_USER_SS 0x2b

struct plat_as {
	pid_t pid;    /* the stub process; it is also its only thread */
	pid_t tracer; /* host tid of the Sentry thread that traces it (created it) */
	bool dead;    /* it has exited and been reaped: pid means nothing any more */
};

/* Fork a stub process for the memory file memfd and make it the empty address space described
 * above, traced by the calling thread. Fills as. Returns 0 or -errno (no child is left). */
int stub_create(struct plat_as *as, int memfd);

/* Run syscall nr(a[0..5]) in the stopped stub as, from the calling (tracer) thread. Clobbers the
 * stub's general registers (ctx_run loads all of them again). Returns the syscall's result
 * (-errno for its failure) in *res; the function returns 0, or -errno when the stub could not be
 * driven (-ESRCH: it died). */
int stub_syscall(struct plat_as *as, long *res, long nr, const uint64_t a[6]);

/* Wait for the next stop or death of the stub, retrying on EINTR. On death the stub is reaped,
 * as->dead set, and -ESRCH returned. Returns 0 with the wait status in *status otherwise. */
int stub_wait(struct plat_as *as, int *status);

/* Was the signal stop just reported asynchronous (sent by some process, or a group stop) rather
 * than raised by the stub's own execution? Returns 1 or 0 with the siginfo in *si (not filled for
 * a group stop), or -errno. */
int stub_stop_is_async(struct plat_as *as, siginfo_t *si);

/* A ptrace request on the stub failed with err: the stub is unusable (usually it was killed and
 * is exiting). Kills and reaps it. Returns -ESRCH for a vanished stub, -err otherwise. */
int stub_lost(struct plat_as *as, int err);

/* Kill the stub and reap it (if not done already). Any thread of the Sentry may call it. */
void stub_kill(struct plat_as *as);

/* The Sentry thread's host tid (cached per thread). */
pid_t stub_gettid(void);

/* For tests and debugging: the host pid of the stub behind as. */
pid_t plat_ptrace_as_pid(const struct plat_as *as);

#endif
