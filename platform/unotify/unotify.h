/* The seccomp user-notification platform's internals: the stub's layout, the protocol between the
 * Sentry and the stub threads, and the helpers shared by unotify.c (address spaces, contexts),
 * run.c (the hand-off, ctx_run, fpstate) and stub.c (the stub's code, filters and boot).
 *
 * An address space is one stub process, forked by the stub master (platform/stub_master.h) so
 * that it does not inherit the Sentry's seccomp filter. Its threads:
 *  - the leader, the factory: makes worker threads on request (a futex mailbox in slot 0);
 *  - one worker per context. A worker runs application code; every application syscall is a
 *    SIGSYS (the process filter, F0, answers SECCOMP_RET_TRAP for any syscall made outside the
 *    stub's code) and every fault or interrupt a signal too. The stub's handler, on an alternate
 *    stack in memory shared with the Sentry, hands the event over with one syscall that the
 *    worker's own filter (Fw, with its own listener) answers SECCOMP_RET_USER_NOTIF: the Sentry
 *    thread that runs the context receives it (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: the two
 *    threads swap on one CPU), reads and writes the full register state in the signal frame,
 *    and answers with SECCOMP_IOCTL_NOTIF_SEND, whose value is a command for the handler:
 *    resume (rt_sigreturn with the frame the Sentry left), run mmap/munmap/mprotect/
 *    arch_prctl/close for the Sentry, or exit.
 * The application's own syscalls are never executed by the host and never answered with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE. The one CONTINUE is for the stub's own mmap and mprotect
 * (see run.c): their scalar arguments are compared with what the Sentry asked for before they
 * run.
 *
 * Why not answer application syscalls from their notification directly (cheaper by the cost of
 * a signal): a notification carries the syscall's number, arguments and instruction pointer
 * only, and ctx_run must return every register (signal delivery writes them all to the
 * application's stack, at an rsp the notification does not give). See docs/platforms.md.
 *
 * Stub memory, from PLAT_STUB_BASE up (applications get [0, PLAT_STUB_BASE); the region ends
 * well inside the PLAT_STUB_REGION_SIZE the other backends reserve):
 *   UN_CODE  one page: code, then the two filter programs (read+exec);
 *   UN_SHM   the shared memory file (UN_SHM_SIZE): slot 0 is the factory's mailbox and stack,
 *            slot i > 0 a worker's mailbox (first page) and alternate signal stack (the rest).
 */
#ifndef PLATFORM_UNOTIFY_UNOTIFY_H
#define PLATFORM_UNOTIFY_UNOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "common/list.h"
#include "platform/platform.h"
#include "platform/stub_common.h"
#include "platform/stub_master.h"

/* (No integer suffixes: the stub's assembly uses these too.) */
#define UN_CODE 0x7e0000000000 /* PLAT_STUB_BASE */
#define UN_SHM (UN_CODE + 0x10000)
#define UN_SLOT_SIZE 0x8000 /* 32 KiB: a mailbox page and a 28 KiB signal stack */
#define UN_NSLOTS 1024      /* slot 0 and 1023 workers per address space */
#define UN_SHM_SIZE (UN_SLOT_SIZE * UN_NSLOTS)
#define UN_REGION_END (UN_SHM + UN_SHM_SIZE)
#define UN_ALTSTACK_OFF 0x1000 /* in a slot: the signal stack, up to the slot's end */
#define UN_INIT_SP_OFF 0x1000  /* in a slot: a new worker's first stack pointer */
/* STUB_USER_TOP and STUB_USER_TOP_LA57, for the assembly. */
#define UN_USER_TOP 0x7ffffffff000
#define UN_USER_TOP_LA57 0xfffffffffff000
/* SECCOMP_FILTER_FLAG_NEW_LISTENER, for the assembly. */
#define UN_NEW_LISTENER 8

/* The code page: code first, then at UN_PROG_OFF the two sock_fprogs and their programs. */
#define UN_CODE_MAX 0x800
#define UN_PROG_OFF UN_CODE_MAX
#define UN_PROG0 (UN_CODE + UN_PROG_OFF)
#define UN_PROGW (UN_PROG0 + 16)
#define UN_F0_MAX 64
#define UN_FW_MAX 8

/* The memory file's fd number in every stub. */
#define UN_FD_MEMFILE 0

/* The syscall the handler hands over with (notified, never run by the host). getppid because
 * any filter outside ours (a container runtime's) allows it, and a filter that said ERRNO or
 * KILL would win over USER_NOTIF. */
#define UN_HANDOFF_NR 110 /* __NR_getppid */

/* Commands: the value a hand-off is answered with. */
#define UN_CMD_RESUME 0  /* rt_sigreturn with the frame as the Sentry left it */
#define UN_CMD_VERIFIED 1 /* slot nr(args), mmap or mprotect, from its own instruction: the
			   * Sentry checks it in its notification, then lets the host run it */
#define UN_CMD_SYSCALL 2 /* slot nr(args) from the stub's generic syscall instruction */
#define UN_CMD_EXIT 3    /* exit(0) */

/* The signal that interrupts a worker (ctx_interrupt); blocked but in application code. */
#define UN_SIG_INTERRUPT 10 /* SIGUSR1 */

/* Flags of the factory's clone of a worker: a thread of the stub, its tid written to and, on its
 * exit, cleared from its slot (which is how the Sentry knows the slot is free again). */
#define UN_WORKER_CLONE_FLAGS                                                                      \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |         \
	 CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)

/* A worker's mailbox, at its slot's start (offsets used by the stub's code). */
#define SLOT_TID 0        /* u32: the worker's tid; 0 once it exited (a futex word) */
#define SLOT_LISTENER 4   /* s32: its listener's fd in the stub, or -errno (of the clone too) */
#define SLOT_READY 8      /* u32: 1 once SLOT_LISTENER is written (a futex word) */
#define SLOT_FLAGS 12     /* u32: UN_SLOT_FSGSBASE */
#define SLOT_NR 16        /* u64: the command syscall's number */
#define SLOT_ARGS 24      /* u64[6]: the command syscall's arguments */
#define SLOT_FS 72        /* u64: fs_base to load on resume (with FSGSBASE) */
#define SLOT_GS 80        /* u64: gs_base likewise */
#define SLOT_ALTSTACK 88  /* stack_t: the signal stack, for sigaltstack */
#define UN_SLOT_FSGSBASE 1 /* rd/wrfsbase work in user mode here */

/* The factory's mailbox, at slot 0's start. (The answer is the new worker's SLOT_READY.) */
#define CTL_REQ 0  /* u32: bumped by the Sentry for each new worker (a futex word) */
#define CTL_SLOT 8 /* u64: the new worker's slot (stub address) */
/* The slot of the worker the factory makes unasked, at once. */
#define UN_FIRST_SLOT 1

struct un_slot {
	uint32_t tid;
	int32_t listener;
	uint32_t ready;
	uint32_t flags;
	uint64_t nr;
	uint64_t args[6];
	uint64_t fs_base, gs_base;
	struct linux_stack altstack;
};
_Static_assert(offsetof(struct un_slot, listener) == SLOT_LISTENER, "slot");
_Static_assert(offsetof(struct un_slot, ready) == SLOT_READY, "slot");
_Static_assert(offsetof(struct un_slot, flags) == SLOT_FLAGS, "slot");
_Static_assert(offsetof(struct un_slot, nr) == SLOT_NR, "slot");
_Static_assert(offsetof(struct un_slot, args) == SLOT_ARGS, "slot");
_Static_assert(offsetof(struct un_slot, fs_base) == SLOT_FS, "slot");
_Static_assert(offsetof(struct un_slot, gs_base) == SLOT_GS, "slot");
_Static_assert(offsetof(struct un_slot, altstack) == SLOT_ALTSTACK, "slot");

struct un_ctl {
	uint32_t req;
	uint32_t pad;
	uint64_t slot;
};
_Static_assert(offsetof(struct un_ctl, slot) == CTL_SLOT, "ctl");

/* The kernel's 64-bit struct sigcontext and ucontext, as a signal frame holds them. */
struct un_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
	uint64_t rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err;
	uint64_t trapno;
	uint64_t oldmask;
	uint64_t cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};
_Static_assert(sizeof(struct un_sigcontext) == 256, "sigcontext");

struct un_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct linux_stack uc_stack;
	struct un_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct un_ucontext) == 304, "ucontext");

/* Addresses of the stub's code (stub.c), filled by un_stub_init. */
struct un_addrs {
	uint64_t boot;        /* the boot entry: unmap the rest, install F0, be the factory */
	uint64_t handler;     /* the signal handler */
	uint64_t restorer;    /* sa_restorer */
	uint64_t sys_ret;     /* after the generic `syscall; ret` */
	uint64_t vsys_ret;    /* after the verified syscall (mmap, mprotect) */
	uint64_t clone_ret;   /* after the factory's clone */
	uint64_t handoff_ret; /* after the hand-off */
	uint64_t start_rip;   /* rip of the int3 trap a new worker reports itself with */
};
extern struct un_addrs g_un;

/* ---- Sentry-side state ---- */

struct plat_as {
	pid_t pid;   /* the stub process; a child of the Sentry until reaped */
	int pidfd;
	uint8_t *shm; /* the Sentry's mapping of the stub's shared file (UN_SHM_SIZE) */
	pid_t creator;             /* the thread that made it */
	struct plat_ctx *reserved; /* the creator's first worker, until its first ctx_create */
	bool dead;                 /* the stub died: every call fails with -ESRCH */

	pthread_mutex_t lock; /* the fields below, the factory's mailbox */
	struct list_head ctxs; /* struct plat_ctx.link */
	uint8_t slot_used[UN_NSLOTS];
};

struct plat_ctx {
	struct plat_as *as; /* NULL once as_release took the address space away */
	struct list_head link; /* in as->ctxs, under as->lock */
	int slot;
	pid_t tid;           /* the worker thread */
	int listener;        /* its notification fd, in the Sentry */
	pid_t owner;         /* the Sentry thread that claimed it, 0 before */
	bool released;       /* ctx_release from a thread that could not end it */
	bool dead;           /* the worker is gone */

	/* The hand-off the worker is blocked in (between ctx_runs, always one). */
	uint64_t notif_id;
	uint64_t uc;         /* stub address of the current frame's ucontext */
	uint64_t fs_base, gs_base; /* what the worker has loaded (without FSGSBASE) */
	bool bases_known;

	pthread_mutex_t lock; /* running, interrupted: ctx_interrupt against ctx_run */
	bool running;
	bool interrupted;
};

/* Do rd/wrfsbase work in user mode (HWCAP2_FSGSBASE)? Set by init. */
extern bool g_un_fsgsbase;

/* ---- stub.c ---- */

/* Build the stub's code page image (once; before the master forks). */
void un_stub_init(void);
/* The stub's boot (runs in a new stub, forked by the master). */
void un_stub_boot(const struct stub_boot *b);
/* The syscalls the stubs' own code makes, for the master's filter. */
extern const struct stub_master_rule un_stub_rules[];
extern const size_t un_stub_nrules;

/* ---- run.c ---- */

/* The Sentry's view of a stub address inside the shared file, or NULL when [addr, addr+len) is
 * not inside slot (or anywhere in the file, for slot -1). */
void *un_shm_ptr(struct plat_as *as, int slot, uint64_t addr, size_t len);
/* The stub address of slot i. */
static inline uint64_t un_slot_addr(int i)
{
	return UN_SHM + (uint64_t)i * UN_SLOT_SIZE;
}
static inline struct un_slot *un_slot(struct plat_as *as, int i)
{
	return (struct un_slot *)(as->shm + (size_t)i * UN_SLOT_SIZE);
}

/* Receive the next hand-off of ctx's worker (blocking). On success ctx->notif_id is set and
 * args[] holds the hand-off's arguments. Returns 0, -ESRCH (the worker is gone), or -EIO (a
 * notification the stub's code does not make). */
int un_recv(struct plat_ctx *ctx, uint64_t args[6]);
/* Answer the pending hand-off with command cmd. 0 or -ESRCH. */
int un_send(struct plat_ctx *ctx, uint64_t cmd);
/* Run syscall nr(a) in ctx's worker, parked in a hand-off; mmap goes through its own verified
 * instruction. *res gets the syscall's result. 0, or -errno when the worker could not do it. */
int un_command(struct plat_ctx *ctx, long nr, const uint64_t a[6], long *res);
/* A new worker's first hand-off (its start): check it, close its listener copy, give it fpstate
 * (from src, a parked context of the same address space, or the initial state). 0 or -errno. */
int un_worker_start(struct plat_ctx *ctx, struct plat_ctx *src);

int un_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
	       struct plat_event *ev);
int un_ctx_get_fpstate(struct plat_ctx *ctx, void *buf, size_t size);
int un_ctx_set_fpstate(struct plat_ctx *ctx, const void *buf, size_t size);

/* ---- unotify.c ---- */

/* The calling thread's access to ctx: 0 when it owns it (claiming it if nobody does), -EPERM
 * or -ESRCH. */
int un_ctx_own(struct plat_ctx *ctx);
/* Mark as dead (its stub is gone). */
void un_as_lost(struct plat_as *as);

/* For tests and debugging: the stub's pid, and a context's worker tid (-1 when gone). */
pid_t plat_unotify_as_pid(const struct plat_as *as);
pid_t plat_unotify_ctx_tid(const struct plat_ctx *ctx);

#endif
