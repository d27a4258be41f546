/* The stub master: a helper process, forked before the Sentry confines itself, that forks the stub
 * processes of the backends whose stubs let application syscalls reach seccomp (unotify).
 *
 * Why: a stub forked from the confined Sentry inherits the Sentry's seccomp filter, whose
 * KILL_PROCESS default wins over the stub's own RET_TRAP or RET_USER_NOTIF, so the first
 * application syscall the Sentry may not make itself would kill the stub. (ptrace needs none of
 * this: PTRACE_SYSEMU stops application syscalls before seccomp runs.) The master is forked once,
 * before the Sentry installs its filter, and forks every stub on request with CLONE_PARENT, so
 * the stubs are the Sentry's children (reaped with waitpid, like ptrace's) and inherit only the
 * master's own filter: an allowlist of the few calls the master and the stubs' own code make,
 * whose default action is SECCOMP_RET_TRAP (kills the master; in a stub, equal to what the
 * stub's filter answers for application syscalls, so it changes nothing there).
 *
 * The master holds the memory file and nothing else. It takes no argument from the Sentry but a
 * request counter: what a stub runs first (its boot function) is fixed when the master is
 * forked, so even a compromised Sentry can only ask for more stubs. It makes each stub ahead of
 * the request that will take it, so one idle stub (a child of the Sentry) always waits.
 */
#ifndef PLATFORM_STUB_MASTER_H
#define PLATFORM_STUB_MASTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the master made: the Sentry's own handles on a new stub. */
struct stub_spawn {
	pid_t pid; /* the stub process: a child of the Sentry, reaped with waitpid */
	int pidfd; /* a pidfd of it, owned by the caller */
	int shmfd; /* the stub's shared memory file (shm_size bytes), owned by the caller; the
		    * stub has it mapped already and closes its own fd */
};

/* The function a new stub runs first, in the child: shmfd is its fresh shared memory file,
 * memfd the memory file, sentry the Sentry's pid (its parent). Raw syscalls only (the master is
 * a fork of a possibly multi-threaded process): no locks, no malloc, no stdio. Must not return. */
typedef void (*stub_boot_fn)(int shmfd, int memfd, pid_t sentry);

/* A syscall the stubs' own code makes, for the master's filter: nr, with argument arg (0..5)
 * equal to value, or any arguments when arg is -1. */
struct stub_master_rule {
	int nr;
	int arg;
	uint64_t value;
};

/* Fork the master. Call before the Sentry's seccomp filter is installed, from a thread that lives
 * as long as any stub (the master and every stub die with it: PR_SET_PDEATHSIG). memfd is the
 * memory file, which the master keeps for its stubs; shm_size the size of each stub's shared
 * memory file; rules (n entries) the syscalls the stubs make beyond what their boot needs.
 * Idempotent: once a master runs, later calls return 0 and change nothing. Returns 0 or -errno. */
int stub_master_start(int memfd, size_t shm_size, stub_boot_fn boot,
		      const struct stub_master_rule *rules, size_t n);

/* Ask the master for a new stub. Any thread (calls are serialised). Returns 0 with *out filled
 * (the caller owns the fds and must reap the child), -EINVAL when no master was started, -ESRCH
 * when it is gone, or the errno of the failed step. */
int stub_master_spawn(struct stub_spawn *out);

/* For tests: the master's pid, or 0 when none runs. */
pid_t stub_master_pid(void);
/* For tests: the stub the master made ahead of the next request (also a child of the Sentry),
 * or 0. */
pid_t stub_master_spare_pid(void);

#endif
