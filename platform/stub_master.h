/* The stub master: a helper process, forked before the Sentry confines itself, that forks the stub
 * processes of the backends whose stubs let application syscalls reach seccomp (unotify,
 * systrap).
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
 *
 * The master is small (a fork of the Sentry before it has done anything), so forking a stub
 * copies little, and the Sentry's own memory is not made copy-on-write by it: a stub forked
 * from the running Sentry cost the fork's page-table copy and then a copy-on-write fault, with
 * a TLB shootdown across the Sentry's CPUs, for each Sentry page written afterwards.
 */
#ifndef PLATFORM_STUB_MASTER_H
#define PLATFORM_STUB_MASTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the master made: the Sentry's own handles on a new stub. With STUB_MASTER_PIPES, also
 * its ends of two pipes and of a socket pair, and a cookie (else those fds are -1 and the
 * cookie 0). */
struct stub_spawn {
	pid_t pid; /* the stub process: a child of the Sentry, reaped with waitpid */
	int pidfd; /* a pidfd of it, owned by the caller */
	int shmfd; /* the stub's shared memory file (shm_size bytes), owned by the caller; the
		    * stub maps it itself */
	int pipe_rd;	 /* the read end of the stub's pipe (the stub has the only write end) */
	int bell_wr;	 /* the write end of its doorbell pipe, O_NONBLOCK */
	int bell_rd;	 /* a read end of the doorbell too (the stub has another) */
	int sock;	 /* the Sentry's end of the stub's datagram socket pair (host fds go over) */
	uint32_t cookie; /* random, not 0: the stub has it too */
};

/* What a new stub is given, in the child: its fresh shared memory file, the memory file, the
 * Sentry's pid (its parent), and with STUB_MASTER_PIPES the write end of its pipe, the read end
 * of its doorbell, its end of the socket pair and its cookie (else -1, -1, -1, 0). Every other fd
 * it inherits is the master's. */
struct stub_boot {
	int shmfd, memfd, pipe_wr, bell_rd, sock;
	pid_t sentry;
	uint32_t cookie;
};

/* The function a new stub runs first, in the child. Raw syscalls only (the master is a fork of
 * a possibly multi-threaded process): no locks, no malloc, no stdio. Must not return. */
typedef void (*stub_boot_fn)(const struct stub_boot *b);

/* stub_master_start's flags: give each stub two pipes, a socket pair and a cookie (systrap's). */
#define STUB_MASTER_PIPES 1U

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
 * memory file; rules (n entries) the syscalls the stubs make beyond what their boot needs;
 * flags 0 or STUB_MASTER_PIPES.
 * Idempotent: once a master runs, later calls with the same boot return 0 and change nothing
 * (with another, -EBUSY: one master per process). Returns 0 or -errno. */
int stub_master_start(int memfd, size_t shm_size, stub_boot_fn boot,
		      const struct stub_master_rule *rules, size_t n, unsigned flags);

/* Before stub_master_start: the master calls fn once, before it makes its first stub, so that
 * stubs inherit what fn computes in the master's memory without the Sentry waiting for it (it
 * runs beside the Sentry's boot). fn makes no system call: the master's filter is on. */
void stub_master_prepare(void (*fn)(void));

/* Ask the master for a new stub. Any thread (calls are serialised). Returns 0 with *out filled
 * (the caller owns the fds and must reap the child), -EINVAL when no master was started, -ESRCH
 * when it is gone, or the errno of the failed step. */
int stub_master_spawn(struct stub_spawn *out);

/* The master's pid (the systrap pool keeps it off the CPU of the thread that takes a stub),
 * or 0 when none runs. */
pid_t stub_master_pid(void);
/* For tests: the stub the master made ahead of the next request (also a child of the Sentry),
 * or 0. */
pid_t stub_master_spare_pid(void);

#endif
