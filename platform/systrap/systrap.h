/* The systrap platform's internals: the stub process's fixed layout, the memory it shares with
 * the Sentry, and the helpers shared by stub.c (the stub's code and making stubs), control.c
 * (requests to a stub's control thread), systrap.c (the platform operations) and run.c (running
 * a context, its registers and FPU state).
 *
 * An address space is one stub process, forked from the Sentry and emptied. It is not traced.
 * It keeps the memory file (fd 0), the write end of a pipe to the Sentry (fd 1), the read end of
 * one from it (fd 2, the control thread's doorbell), its code and data at PLAT_STUB_BASE, and a
 * shared region: a MAP_SHARED anonymous mapping the Sentry makes before the fork and keeps, which
 * the child moves into place.
 *
 * Threads of a stub:
 *  - the leader is the control thread. It runs nothing but the stub's code, on no stack, with
 *    every signal blocked, and performs the Sentry's requests (mmap, munmap, mprotect, and the
 *    clone of a new stub thread), read from the request page, which the stub maps read-only. It
 *    reports each completion by writing the request's number to the pipe: the application can
 *    neither forge that nor write the request, so the Sentry knows when a mapping change is done
 *    (and a late one cannot map memory the Sentry has given to someone else meanwhile).
 *  - one stub thread per context, cloned by the control thread. It installs a second seccomp
 *    filter (B) on itself before it touches memory the application can write, then traps once
 *    (int3: a ud2's #UD costs a VM exit, ~7 us more, where a hypervisor intercepts it, as KVM
 *    does) and waits in its signal handler for its first run.
 *
 * Every syscall the application makes traps (seccomp RET_TRAP, filter A, on the whole process):
 * the SIGSYS handler, on the thread's alternate stack in its area of the shared region, records
 * where the signal frame is, sets the thread's state word to REPORT, wakes the Sentry thread if
 * it sleeps, spins a while then sleeps (futex) until the Sentry sets RUN, and returns with
 * rt_sigreturn: the registers (and FPU state) the Sentry left in the frame are the application's.
 * Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) and the interrupt signal come the same way.
 *
 * Trust: the shared region's writable part (every thread's area: state words, frames; the result
 * page) can be written by any application thread of the stub. The Sentry copies what it reads
 * there into its own memory once and checks every value (states, frame and fpstate addresses
 * and sizes); a value that makes no sense kills the stub (the application then dies with
 * SIGKILL). A stub thread that leaves an interrupt unanswered for ST_INTERRUPT_GIVE_UP_MS is
 * killed the same way. Filter A allows syscalls only from the stub's code page; filter B (on
 * every application thread) allows only rt_sigreturn, futex wait and wake, exit and
 * rt_sigprocmask from there, so an application that jumps into the stub's code cannot make its
 * mmap, clone, write or seccomp calls.
 *
 * Mapping changes in the thread's own stub (batches). While an address space has had only one
 * application thread, as_map, as_unmap and as_protect from the thread that owns its context
 * (stopped: it is in the Sentry) are queued, and its next run hands them over with the RUN: the
 * thread's handler applies them, in order, before it returns to the application, from one
 * syscall instruction (the batch site), then wipes them. No application code runs in the stub
 * meanwhile (its one thread is in the stub's code), so neither the late mapping nor the
 * arguments in the thread's writable area can be used against the Sentry. Filter B allows
 * mmap, munmap and mprotect from the batch site only, and a third filter (C), installed before
 * the stub runs any code of its own from memory the stub then unmaps, requires there a random
 * per-stub cookie in an argument the kernel ignores (the high half of mmap's fd, munmap's third
 * and mprotect's fourth argument): an application that jumps to the batch site with registers
 * of its choosing must guess 32 bits, and a wrong guess kills the stub. The cookie is in the
 * stub's memory only while a batch is pending, when no application code runs there. Changes
 * made before the first context (a new address space's mappings) wait for its first run. A
 * second context ends batching until the address space is back to one thread (every other
 * thread exited: its state word ST_DEAD): ctx_create, and every control request, first wait
 * for a batch in flight, and the queue goes to the control thread, which makes a queue in one
 * request (REQ_NR_OPS). A change the stub fails to apply ends its thread (and the Sentry then
 * kills the stub).
 */
#ifndef PLATFORM_SYSTRAP_SYSTRAP_H
#define PLATFORM_SYSTRAP_SYSTRAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/list.h"
#include "platform/pairing.h"
#include "platform/platform.h"
#include "platform/stub_common.h"
#include "platform/stub_master.h"

/* ---- the stub's layout (numbers without suffixes: the stub's assembly uses them too) ---- */

#define ST_BASE 0x7e0000000000          /* == PLAT_STUB_BASE */
#define ST_CODE ST_BASE                 /* one page, read+exec: every syscall the stub makes */
#define ST_CODE_SIZE 0x1000
#define ST_DATA (ST_BASE + 0x1000)      /* one page, read-only: filters, constants */
#define ST_SHM (ST_BASE + 0x100000)     /* the shared region */
#define ST_SHM_SIZE 0x4000000           /* 64 MiB */
#define ST_REQ ST_SHM                   /* the request page (read-only in the stub) */
#define ST_SS_OFF 0x1000                /* the stack_t of each area slot (read-only) */
#define ST_SITES_OFF 0xd000             /* the cpuid sites the handler answers (read-only) */
#define ST_SITES_SLOTS 1024             /* u64 addresses, open addressing (st_site_slot) */
#define ST_SITES_MAX 512                /* at most this many used, so that probes stay short */
#define ST_SHM_RO_SIZE 0xf000           /* request page, stack_t table and cpuid sites */
#define ST_RES_OFF 0xf000               /* the result page */
#define ST_AREAS_OFF 0x10000            /* the per-thread areas */
#define ST_AREA_SIZE 0x8000             /* page 0: struct st_msg; the rest: the signal stack */
#define ST_MAX_THREADS ((ST_SHM_SIZE - ST_AREAS_OFF) / ST_AREA_SIZE)
#define ST_REGION_END (ST_SHM + ST_SHM_SIZE)

/* The data page. */
#define D_PROG_A 0     /* struct sock_fprog of filter A */
#define D_PROG_B 16    /* and of filter B */
#define D_APP_MASK 32  /* the signal mask of application threads (8 bytes) */
#define D_READY 64     /* u32 written to the pipe when the stub is ready */
#define D_FLAGS 68     /* u32: D_FLAG_XSAVE */
#define D_SPIN 72      /* u32: pause iterations the control thread spins after a request */
#define D_RFBM 80      /* u64: the XSAVE features the control thread resets */
#define D_FILTER_A 128 /* filter A's instructions */
#define D_FILTER_B 512 /* filter B's instructions */
#define D_FPINIT 1024  /* a clean XSAVE (or FXSAVE) area, 64-byte aligned: its legacy part and
		       * header (XSAVE_MIN bytes) only, all XRSTOR reads of it */
#define D_CPUID 2048   /* u32 count (0: the handler answers no cpuid), u32 0, then that many
		       * struct st_cpuid: the host's answers the handler gives (stub.c) */
#define D_CPUID_MAX ((4096 - D_CPUID - 8) / 24)
#define D_FLAG_XSAVE 1
#define D_FLAG_FPSAVE 2 /* XSAVE, and the state fits at MSG_FPSAVE */
#define D_FILTER_MAX 48 /* instructions per filter */

/* The request page: written by the Sentry, read by the control thread. */
#define REQ_SEQ 0     /* u32: a new value is a new request (never 0) */
#define REQ_NR 8      /* syscall number */
#define REQ_ARGS 16   /* six arguments */
#define REQ_THREAD 64 /* for a clone: the new thread's stack_t (in the read-only table) */
#define REQ_NOPS 72   /* u32: with REQ_NR == REQ_NR_OPS, how many of the ops below */
#define REQ_OPS 128   /* REQ_OPS_MAX struct st_op: run in order while each returns its expect */
#define REQ_OPS_MAX 62
#define REQ_NR_OPS 0x7fff /* no syscall's number: the request is the ops at REQ_OPS, and its
			   * result how many of them returned what was expected */
/* The result page: written by the control thread (the application can too). */
#define RES_VAL 0 /* the syscall's result */
#define RES_SEQ 8 /* u32: the request it answers (a hint: the pipe is the proof) */
#define RES_SLEEPING 12 /* u32: the control thread sleeps on its doorbell (a hint) */
#define RES_SCRATCH 64 /* where the control thread reads doorbell bytes to (ignored) */
#define RES_SCRATCH_SIZE 64
#define RES_RECV 256 /* a host fd's recvmsg: struct msghdr, its iovec and byte, the control */
#define RES_RECV_SIZE 256

/* Page 0 of each area: struct st_msg. */
#define MSG_STATE 0
#define MSG_STUB_SLEEPING 4
#define MSG_SENTRY_SLEEPING 8
#define MSG_SPIN 12
#define MSG_RAX 16   /* a fast return's rax: on the state word's cache line, so that the
		      * thread reads one line the Sentry wrote, not two */
#define MSG_FS_BASE 24
#define MSG_GS_BASE 32
#define MSG_T_REPORT 40
#define MSG_T_RESUME 48
#define MSG_KIND 56    /* u32: what the report is: MSG_KIND_FRAME or MSG_KIND_FAST */
#define MSG_PENDING 60 /* u32: an interrupt came while the thread was in the stub's code */
#define MSG_FRAME 64
#define MSG_FPVALID 72 /* u32: the thread saved its FPU state at MSG_FPSAVE in this report */
#define MSG_FPLOAD 76  /* u32: the Sentry put the FPU state to load at MSG_FPSAVE (XRSTOR) */
#define MSG_CPUID_WANT 80 /* u32: the Sentry's choice: the thread faults on cpuid (learning) */
#define MSG_CPUID_IS 84   /* u32: what the thread last set (arch_prctl ARCH_SET_CPUID) */
#define MSG_CPUID_N 88    /* u32: sites of the cpuids that faulted while learning, noted at */
#define MSG_CPUID_RING 0x400 /* ST_CPUID_RING_MAX u64 (each site once) */
#define ST_CPUID_RING_MAX 64 /* == PLAT_CPUID_NOTES_MAX */
#define MSG_REGS 256   /* a fast report's registers: struct linux_regs up to rsp */
#define MSG_SELF 0x7c8 /* u64: the area's address + ST_SELF_BIAS (the fast entry's check) */
#define MSG_COOKIE 0x7d0 /* u64: the stub's cookie while a batch of mapping changes is pending */
#define MSG_NOPS 0x7d8   /* u32: the batch's length */
#define MSG_OPS 0x800    /* the batch: ST_OPS_MAX struct st_op */
#define ST_OPS_MAX 32
/* Where a thread stopped in a fast report saves its FPU state (XSAVE, standard format) before it
 * sleeps: the bottom of its signal stack, which nothing uses then (a fast report runs on the
 * area's top, and so would a signal's frame). At most ST_FPSAVE_MAX bytes (D_FLAG_FPSAVE). */
#define MSG_FPSAVE 0x1000
#define ST_FPSAVE_MAX 0x3000
#define OP_SIZE 64       /* struct st_op: nr, six arguments, the result expected */
#define OP_EXPECT 56
#define MSG_KIND_FRAME 0 /* the handler's: the registers are in the signal frame */
#define MSG_KIND_FAST 1  /* the fast entry's (a patched site): the registers are at MSG_REGS */
/* Not 0: a structure the application points gs at (a TCB starts with pointers to itself) must
 * not pass for an area by chance. */
#define ST_SELF_BIAS 0x5eed

/* Offsets in struct linux_regs (MSG_REGS), for the stub's assembly. */
#define LR_R15 0
#define LR_R14 8
#define LR_R13 16
#define LR_R12 24
#define LR_RBP 32
#define LR_RBX 40
#define LR_R11 48
#define LR_R10 56
#define LR_R9 64
#define LR_R8 72
#define LR_RAX 80
#define LR_RCX 88
#define LR_RDX 96
#define LR_RSI 104
#define LR_RDI 112
#define LR_ORIG_RAX 120
#define LR_RIP 128
#define LR_EFLAGS 144
#define LR_RSP 152
#define LR_WORDS 20 /* r15 up to rsp */

/* Thread states (MSG_STATE). DEAD is what the kernel writes when the thread exits
 * (CLONE_CHILD_CLEARTID), waking a Sentry thread that waits on the word. */
#define ST_DEAD 0
#define ST_NEW 1    /* cloned, its first report not seen yet */
#define ST_REPORT 2 /* stopped in its handler: the frame is the Sentry's until RUN */
#define ST_RUN 3    /* the Sentry's go: return to the application */
#define ST_EXIT 4   /* the Sentry's end: exit(0) */
#define ST_SPILL 5  /* the Sentry's: a thread stopped in a fast report reloads the registers and
		     * traps (int3), so that they and the FPU state land in a signal frame */

/* The signal ctx_interrupt sends to a stub thread. */
#define ST_SIG_INTERRUPT 12 /* SIGUSR2 */

/* Flags of the clone that makes a stub thread. CLONE_CHILD_CLEARTID on its state word: its death
 * writes ST_DEAD there and wakes a waiting Sentry thread. */
#define ST_CLONE_FLAGS                                                                             \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_CHILD_CLEARTID)

/* Spinning: about ST_SPIN_NS of pause iterations, by both sides of a hand-off, when the other
 * side is expected to answer sooner (see run.c). ST_SPIN_MAX bounds what the handler takes from
 * its message page. */
#define ST_SPIN_NS 20000
#define ST_CTL_SPIN_NS 20000 /* the control thread, after a request */
#define ST_SPIN_MAX 1000000

/* How long a Sentry thread sleeps on a state word before it checks that the stub lives, and how
 * long an interrupt may stay unanswered before the stub is killed. */
#define ST_CHECK_MS 100
#define ST_INTERRUPT_GIVE_UP_MS 5000

/* The stub's fds: the memory file, the completion pipe (written by the control thread), the
 * doorbell pipe (read by it), the datagram socket host fds come over (st_host_fd). The host
 * fds it receives take the lowest free numbers: 3 (the boot's shared memory file, closed), then
 * 5, 6, ... (nothing else makes or closes an fd in the stub), which is how the Sentry knows
 * them without reading the result page. At most ST_HFD_MAX. */
#define ST_FD_MEMFILE 0
#define ST_FD_PIPE 1
#define ST_FD_DOORBELL 2
#define ST_FD_SOCK 4
#define ST_FD_FIRST_HOST 3
#define ST_HFD_MAX 64

struct st_msg {
	uint32_t state;
	uint32_t stub_sleeping;   /* the stub thread is (about to be) in FUTEX_WAIT */
	uint32_t sentry_sleeping; /* the Sentry thread is (about to be) in FUTEX_WAIT */
	uint32_t spin;            /* pause iterations the handler spins after its next report (the
				   * Sentry's choice, at most ST_SPIN_MAX) before it sleeps */
	uint64_t rax;     /* the Sentry's rax for a fast return (MSG_REGS' rax is the report's) */
	uint64_t fs_base; /* the thread's at its report; the Sentry's choice for its run */
	uint64_t gs_base;
	uint64_t t_report; /* the TSC when the handler reported, and when it last returned to the */
	uint64_t t_resume; /* application: how long the application ran (a hint for spinning; not
			    * written by the fast entry and return) */
	uint32_t kind;     /* MSG_KIND_* of the report */
	uint32_t pending;  /* the interrupt signal came while the thread ran the stub's code: its
			    * fast return stops with a trap instead (see stub.c) */
	uint64_t frame;    /* the handler's frame (its rt_sigframe), a stub address */
	uint32_t fpvalid;  /* MSG_FPVALID */
	uint32_t fpload;   /* MSG_FPLOAD */
	uint32_t cpuid_want; /* MSG_CPUID_WANT */
	uint32_t cpuid_is;   /* MSG_CPUID_IS */
	uint32_t cpuid_n;    /* MSG_CPUID_N */
};

/* One cpuid answer of the data page's table (D_CPUID). */
struct st_cpuid {
	uint32_t leaf;
	uint32_t sub; /* ST_CPUID_ANY_SUB: the leaf has no subleaves */
	uint32_t eax, ebx, ecx, edx;
};
#define ST_CPUID_ANY_SUB 0xffffffffu

/* The registry slot where the handler starts looking for site (its assembly computes the same). */
#define ST_SITE_HASH 0x9e3779b97f4a7c15
static inline unsigned st_site_slot(uint64_t site)
{
	return (unsigned)((site * (uint64_t)ST_SITE_HASH) >> 54);
}

struct st_req {
	uint32_t seq;
	uint32_t pad;
	uint64_t nr;
	uint64_t args[6];
	uint64_t thread;
	uint32_t nops;
};

/* ---- the Sentry's side ---- */

struct plat_as {
	pid_t pid;        /* the stub; reaped only by as_release */
	int pipe_rd;      /* completions (and EOF when the stub is gone) */
	int bell_rd;      /* the control thread's doorbell: held so that it always has a reader */
	int bell_wr;      /* and rung (non-blocking) */
	uint8_t *shm;     /* the Sentry's mapping of the shared region */
	uint64_t creator; /* the token (st_self()) of the thread that made it */
	atomic_bool dead; /* the stub died or was killed: everything fails with -ESRCH */

	pthread_mutex_t req_lock; /* one control request at a time */
	uint32_t seq;             /* the last request's; req_lock */
	int ctl_cpu;              /* where the control thread is pinned (pairing.h); req_lock */

	pthread_mutex_t lock;   /* the fields below and the contexts' links */
	struct list_head ctxs;  /* struct plat_ctx.link */
	uint8_t slot[ST_MAX_THREADS]; /* SLOT_FREE, SLOT_USED, SLOT_EXITING */
	unsigned slots_hi;      /* slots above this one were never used */

	/* A thread made before it is needed, waiting in its handler in slot pre_slot until
	 * ctx_create takes it: a pooled stub's first (slot 0), or a spare (SLOT_SPARE) made
	 * while a task of an address space that made a second context before sleeps in the
	 * Sentry (st_as_spare): a shell's next vfork, a program's next thread. */
	pid_t pre_tid;
	int pre_slot;

	/* Host fds passed to the stub (the files it maps; see ST_FD_SOCK), by file; req_lock. */
	int sock;
	unsigned nhfd;
	struct st_hfd {
		uint64_t dev, ino;
	} hfd[ST_HFD_MAX]; /* hfd[i] is the stub's fd hfd_number(i) (control.c) */

	/* Batches (see above): the queue, and whether a second context ended batching. */
	uint64_t cookie;  /* filter C's, in the high 32 bits; fixed at the stub's birth */
	unsigned nctx_made; /* ctx_create calls that took a slot */
	bool multi;
	unsigned nops;
	struct st_op {
		uint64_t nr, args[6], expect;
	} ops[ST_OPS_MAX];
};

/* SLOT_SPARE: a spare's (pre_tid), which runs no application code: batching goes on. */
enum { SLOT_FREE, SLOT_USED, SLOT_EXITING, SLOT_SPARE };

/* The sigcontext words from r8 to the selectors (run.c). */
#define SC_WORDS 19

struct plat_ctx {
	struct plat_as *as;    /* NULL once the address space was released; as->lock */
	struct list_head link; /* in as->ctxs; as->lock */
	int slot;
	pid_t tid;             /* the stub thread, as the stub reported it (only ever signalled
				* with the stub's pid as tgid) */
	struct st_msg *msg;    /* the area's page 0, the Sentry's mapping */
	uint64_t area;         /* the area, a stub address */
	_Atomic uint64_t owner; /* the claimer's token, 0 while unclaimed */
	bool released;         /* ctx_release from a non-owner: freed by as_release */

	/* The owner's (or, before the claim, the creator's) alone: */
	bool started;      /* the first report was seen and the frame holds its registers */
	uint64_t frame;    /* the last report's frame and fpstate, checked (stub addresses) */
	uint64_t fpstate;
	uint64_t seen[SC_WORDS]; /* the frame's registers at that report (sigcontext r8..ss), */
	uint64_t seen_mask;      /* its signal mask and the thread's bases: run.c writes back */
	uint64_t seen_fs, seen_gs; /* only what differs */
	uint8_t *init_fp;  /* the FPU state for the first run, until started */

	/* Spinning (run.c): expected waits in TSC ticks, and a back-off when spins miss anyway. */
	uint64_t app_ticks;     /* how long the application runs between reports */
	uint64_t service_ticks; /* how long the Sentry takes to answer a report */
	uint64_t t_seen;        /* the TSC when the Sentry saw the last report */
	unsigned waits_seen;    /* thread_waits then (common/thread.h) */
	uint64_t spun;          /* TSC ticks spent spinning for reports in the current ctx_run */
	uint64_t t_released;    /* and when it last set RUN */
	uint64_t rounds;        /* runs so far */
	uint64_t quiet_until;   /* no spinning before this round */
	uint64_t quiet_len;     /* the last such pause's length in rounds (0: none lately) */
	unsigned misses;        /* spins in a row that ended in a sleep */
	bool stub_spun;         /* the handler was told to spin after its current report */

	/* Pairing (run.c): the pair, and runs in a row that asked for the other mode. */
	struct pairing pair;
	unsigned pair_flips;
	bool pair_apart; /* unpaired, and still kept off the Sentry thread's CPU */
	/* Solo (run.c): the CPU the stub thread is kept off, plus one (0: not solo); short runs
	 * in a row while solo is possible; solo spins in a row that ended in a sleep; pair at the
	 * next run (the task slept in the Sentry, or spins missed); the last run's application
	 * time in TSC ticks. */
	int solo_away;
	unsigned solo_runs;
	unsigned solo_misses;
	bool solo_stop;
	uint64_t last_app;
	unsigned solo_slow;     /* the share of recent answers that were slow, of 256 (run.c) */
	uint64_t solo_until, solo_backoff; /* no solo before round solo_until (run.c) */

	/* Syscall patching (run.c): the last report was a fast one (registers at MSG_REGS, no
	 * signal frame: frame and seen are stale until a spill), and its registers. */
	bool fast;
	uint64_t fseen[LR_WORDS];
	uint64_t fast_rip; /* the rip of the last fast return */

	atomic_int running;     /* inside ctx_run */
	atomic_int interrupted; /* ctx_interrupt called and not reported yet */
	atomic_int kicking;     /* ctx_interrupt calls that may still signal the thread */
};

/* The calling thread's token: unique for the life of the process, never reused (unlike tids). */
uint64_t st_self(void);
/* The calling thread's access to ctx: 0 when it owns it (claiming it when nobody does), -EPERM
 * (logged) when another thread does. */
int st_ctx_own(struct plat_ctx *ctx);

/* A new address space: its stub forked, no thread yet; as_create's, but for the pool. NULL
 * with errno set on failure. */
struct plat_as *st_as_new(void);
/* Make a new address space's first thread ahead (the pool): the next ctx_create takes it.
 * 0 or -errno. */
int st_as_first_thread(struct plat_as *as);

/* ---- pool.c ---- */

/* An address space made ahead, with its first thread (its creator: set it), or NULL when none
 * is ready; either way the pool's thread (started on the first call) makes the next ones. */
struct plat_as *st_pool_take(void);
/* Start the pool's keeper now (as_create's first take would): it makes the first stubs while
 * the Sentry boots. */
void st_pool_start(void);

/* ---- stub.c ---- */

/* Build the stub's code and data images (once; init). Returns 0 or -errno. */
int st_stub_init(void);
/* What a new stub runs first (the stub master forks it), and the syscalls its own code makes
 * beyond that (for the master's filter). */
void st_stub_boot(const struct stub_boot *b);
extern const struct stub_master_rule st_stub_rules[];
extern const size_t st_stub_nrules;
/* A new stub from the stub master into as (pid, pipes, shm, cookie); the stub is ready when this
 * returns 0. Returns -errno otherwise (nothing left behind). */
int st_stub_create(struct plat_as *as);
/* Write the stack_t of area slot i (before the clone of a thread there). */
void st_stub_slot_ss(struct plat_as *as, unsigned i);
/* Kill and reap the stub, unmap the shared region, close the pipes. */
void st_stub_destroy(struct plat_as *as);
/* Has the stub died (not reaped yet: a zombie)? Marks as->dead. */
bool st_stub_gone(struct plat_as *as);
/* Kill the stub (a hostile or broken stub); every later call fails with -ESRCH. why is logged. */
void st_stub_kill(struct plat_as *as, const char *why);
/* The number of pause iterations that take about ST_SPIN_NS (0 on a single CPU), and the TSC
 * ticks of ST_SPIN_NS. */
unsigned st_spin_iterations(void);
/* The stub's D_FLAGS (D_FLAG_XSAVE, D_FLAG_FPSAVE), once st_stub_init has run. */
uint32_t st_stub_flags(void);
uint64_t st_spin_ticks(void);
/* The pause iterations of ST_CTL_SPIN_NS (0 on a single CPU). */
unsigned st_ctl_spin_iterations(void);
/* Do the stubs answer cpuid (stub.c, cpuid_table: not where protection keys are on)? */
bool st_cpuid_on(void);
/* The host signal mask of application threads in a stub (handled signals unblocked). */
uint64_t st_app_mask(void);
/* The stub address of a syscall instruction in the stub's code (for tests). */
uint64_t st_stub_test_syscall(void);
/* Syscall patching: turn it on for stubs made from now on; the fast entry's stub address. The
 * rip of the spill's trap as its frame has it (past the int3). */
extern bool st_patching;
uint64_t st_stub_patch_enable(void);
uint64_t st_stub_spill_rip(void);
/* The stub address right after the batch site's syscall instruction (what seccomp sees). */
uint64_t st_stub_batch_rip(void);

/* ---- control.c ---- */

/* Queue a mapping change (mmap, munmap or mprotect with args a, the result expected) for the
 * next run of the calling thread's context, when batching allows it (see above). Returns true
 * when queued, false when the caller must make a control request. */
bool st_batch_queue(struct plat_as *as, long nr, const uint64_t a[6], uint64_t expect);
/* Before ctx's RUN: hand the queue to ctx's thread (or, with batching over, to the control
 * thread). Its owner, ctx stopped. 0 or -ESRCH. */
int st_batch_send(struct plat_ctx *ctx, struct plat_as *as);

/* Run syscall nr(a[0..5]) in as's control thread, thread_ss is REQ_THREAD (clone), and wait for
 * it. Returns the syscall's result (or -errno of its failure: the value is the stub's word, to
 * be checked by the caller), or -ESRCH when the stub is gone. Takes as->req_lock. */
long st_control(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss);
/* The same, with flags: ST_CTL_FLUSH applies the queued mapping changes first (st_control's
 * way; without it, the clone of an address space's first context, whose first run takes them);
 * ST_CTL_AWAY runs the control thread on another CPU than the caller's instead of the caller's
 * (a spare thread made as a task goes to sleep: its vfork child, or whoever wakes next, is
 * about to run on this CPU). */
#define ST_CTL_FLUSH 0x1u
#define ST_CTL_AWAY 0x2u
long st_control_ex(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss,
		   unsigned flags);
/* The stub's fd number of host fd fd's file, passed to it first if it has not been (a datagram
 * on as->sock, received by a recvmsg in the batch, or by the control thread). Takes
 * as->req_lock. The fd number, -ENOSPC when it cannot be passed (the stub has ST_HFD_MAX
 * already, or the send failed), -ESRCH or another -errno. */
int st_host_fd(struct plat_as *as, int fd);

/* ---- run.c ---- */

/* Sleep on the futex word w (a shared mapping) while it holds val, at most ms milliseconds.
 * Returns 0 on a wake or a changed value, -ETIMEDOUT, or -EINTR. */
int st_futex_wait(uint32_t *w, uint32_t val, int ms);
/* Wake one waiter on w. */
void st_futex_wake(uint32_t *w);

/* The platform's ctx_run, as platform.h says; the caller is checked to own ctx (claiming it). */
int st_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
	       struct plat_event *ev);
/* ctx's FPU state to buf / from buf (fpstate_user_size() bytes), ctx stopped, owned by the
 * caller. 0 or -errno. */
int st_fp_get(struct plat_ctx *ctx, void *buf, size_t size);
int st_fp_set(struct plat_ctx *ctx, const void *buf, size_t size);
/* The platform's ctx_interrupt: any thread; ctx stays alive meanwhile. */
void st_ctx_interrupt(struct plat_ctx *ctx);
/* The platform's ctx_blocking: ctx's owner, between runs. */
void st_ctx_blocking(struct plat_ctx *ctx);
/* Make a spare thread in ctx's address space if it made a second context before and has
 * none (from ctx's owner, its thread stopped). */
void st_as_spare(struct plat_ctx *ctx);
/* A new ctx's pairing state (pairing, run.c), set by ctx_create. */
void st_ctx_init_pairing(struct plat_ctx *ctx);

/* For tests and debugging: the stub's pid, the tid of ctx's stub thread (-1 when gone), the stub
 * address of ctx's area (its struct st_msg first), and of a syscall instruction in the stub's
 * code. */
pid_t plat_systrap_as_pid(const struct plat_as *as);
pid_t plat_systrap_ctx_tid(const struct plat_ctx *ctx);
uint64_t plat_systrap_ctx_area(const struct plat_ctx *ctx);
uint64_t plat_systrap_stub_syscall(void);
uint64_t plat_systrap_stub_batch_syscall(void);
/* For tests that count the process's children: release the pool's stubs, and make none until
 * the next as_create. */
void plat_systrap_quiesce(void);

#endif
