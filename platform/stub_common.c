/* Stub processes, the common part: the reserved region, the raw fork, the child's first steps. */
#define _GNU_SOURCE
#include "platform/stub_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

static pthread_mutex_t g_reserve_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_reserved;

int stub_region_reserve(void)
{
	void *p;
	int r = 0;

	pthread_mutex_lock(&g_reserve_lock);
	if (g_reserved)
		goto out;
	p = mmap((void *)PLAT_STUB_BASE, PLAT_STUB_REGION_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		log_error("platform: cannot reserve the stub region at %#llx: %s", PLAT_STUB_BASE,
			  strerror(-r));
		goto out;
	}
	if (p != (void *)PLAT_STUB_BASE) { /* a kernel without MAP_FIXED_NOREPLACE */
		munmap(p, PLAT_STUB_REGION_SIZE);
		r = -EEXIST;
		goto out;
	}
	g_reserved = true;
out:
	pthread_mutex_unlock(&g_reserve_lock);
	return r;
}

pid_t stub_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

long stub_fork(void)
{
	long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);

	return pid < 0 ? -errno : pid;
}

/* glibc registered the forking thread's rseq area with the kernel; the registration is inherited
 * by the child, and the area lives in memory the stub is about to lose. The kernel writes it on
 * every return to user mode after a preemption and would kill the stub with SIGSEGV when it is
 * gone. Unregistering needs the exact length glibc registered: glibc 2.35/2.36 register and
 * publish sizeof(struct rseq) = 32 in __rseq_size; later ones may publish a smaller feature size
 * while registering 32, hence the second try. Returns 0 or -1 with errno set. */
static int stub_child_unregister_rseq(void)
{
	uintptr_t tp;
	void *area;

	if (__rseq_size == 0)
		return 0; /* glibc did not register one */
	__asm__("mov %%fs:0, %0" : "=r"(tp)); /* the thread pointer */
	area = (char *)tp + __rseq_offset;
	if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0 ||
	    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
		return 0;
	return -1;
}

int stub_child_prelude(pid_t ppid, const int *fds, int nfds)
{
	uint64_t all_signals = ~0ULL;
	int moved[8];

	if (nfds > (int)(sizeof(moved) / sizeof(moved[0])))
		return EINVAL;
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return errno;
	if (syscall(SYS_getppid) != ppid)
		return ESRCH; /* the Sentry died before PDEATHSIG was armed */
	/* Every signal blocked (clone passes the mask on); each backend unblocks what it handles,
	 * where it handles it. Faults and seccomp's SIGSYS are forced through a blocked mask. */
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all_signals, NULL, sizeof(all_signals)) < 0)
		return errno;
	if (stub_child_unregister_rseq() < 0)
		return errno;
	/* Out of the way first (above every target number), then into place. */
	for (int i = 0; i < nfds; i++) {
		long fd = syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, nfds);

		if (fd < 0)
			return errno;
		moved[i] = (int)fd;
	}
	for (int i = 0; i < nfds; i++)
		if (syscall(SYS_dup3, moved[i], i, 0) < 0)
			return errno;
	if (syscall(SYS_close_range, nfds, ~0U, 0) < 0)
		return errno;
	return 0;
}

noreturn void stub_child_exit(int err)
{
	for (;;)
		syscall(SYS_exit_group, err);
}
