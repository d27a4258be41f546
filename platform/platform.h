/* The platform interface: how application code runs and how its syscalls and faults come back.
 *
 * One interface, several backends (ptrace, systrap, unotify; kvm later), chosen at run time
 * by name. The Sentry only ever talks to this header.
 *
 * Model:
 *  - An address space (struct plat_as) is one host address space holding application memory
 *    (for ptrace: a stub process). The Sentry decides its contents: it maps ranges of the memory
 *    file (a memfd the Sentry owns) or of a host fd the gofer donated, at application addresses.
 *  - A context (struct plat_ctx) runs one application thread. ctx_run() loads the registers into
 *    the thread, lets it run in the given address space until it makes a syscall, faults or is
 *    interrupted, and stores the registers back.
 *
 * Threading: each application task runs on its own Sentry host thread, and a backend may bind
 * what runs an application thread to one host thread (ptrace does: a tracee thread has one
 * tracer thread). So:
 *  - as_create() may be called from any thread; that thread (the creator) may then map memory
 *    into the new address space before it has a context there, and its first ctx_create there
 *    makes a context it owns at once (fork, exec: the task's own host thread calls as_create,
 *    as_map..., ctx_create, ctx_run).
 *  - A context is owned by the host thread that first calls ctx_run (or ctx_get_fpstate /
 *    ctx_set_fpstate) on it: the claim. Only that thread may run it or touch its fpstate from
 *    then on; others get -EPERM. A new application thread (clone with CLONE_VM): the parent's
 *    host thread calls ctx_create(as) (it owns a context in as), the new host thread claims it.
 *  - as_map/as_unmap/as_protect/ctx_create(as) come from a thread that owns a claimed context in
 *    as, or from the creator before it claims one; others get -EPERM. Mapping changes apply to
 *    every context of the address space.
 *  - ctx_release() comes from the owning thread, or from any thread while the context is not
 *    claimed. A host thread must release its contexts before it exits: ptrace kills the whole
 *    address space when a tracer thread exits holding one. From another thread the context's
 *    host side lingers until as_release.
 *  - as_release() (after the contexts are released; none may be running) and ctx_interrupt()
 *    may be called from any thread. exec: as_create on the task's thread, a new context there,
 *    then release the old context (on the same thread) and the old address space.
 * A backend may be looser, and callers that follow the rules above work with every backend.
 * systrap is (nothing of its stubs is bound to a host thread): as_map, as_unmap, as_protect and
 * ctx_create may come from any thread, and a thread may exit owning contexts (they stay until
 * released; claims still give other threads -EPERM). While an address space has one context,
 * systrap applies its owner's as_map, as_unmap and as_protect when the context next runs (they
 * return 0 at once, after the argument checks); what the host refuses then (protecting a hole:
 * -ENOMEM elsewhere) ends the address space, and that ctx_run returns -ESRCH.
 * The Sentry must never wait for arbitrary children (waitpid(-1), wait()) nor set SIGCHLD to
 * SIG_IGN: the stubs of ptrace and systrap are children of the Sentry.
 *
 * Calls return 0 or -errno.
 */
#ifndef PLATFORM_PLATFORM_H
#define PLATFORM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include "abi/linux.h"

struct plat_as;
struct plat_ctx;

/* The register state of an application thread. fs_base/gs_base live inside regs. */
struct plat_regs {
	struct linux_regs regs;
};

enum plat_event_kind {
	PLAT_EV_SYSCALL = 1, /* a syscall instruction: number in regs.orig_rax, args in
			      * rdi rsi rdx r10 r8 r9, rip already past the instruction.
			      * The Sentry stores the result in rax and runs the context again
			      * (rax is delivered as is: the platform never restarts a syscall).
			      * A call into the vsyscall page (0xffffffffff600000 + 0/0x400/0x800:
			      * gettimeofday, time, getcpu) arrives the same way, with rip and rsp
			      * already at its return address. */
	PLAT_EV_FAULT,       /* a synchronous fault: signo/si_code/fault_addr say which. Not
			      * delivered to the thread: running it again at the same rip repeats
			      * the fault. */
	PLAT_EV_INTERRUPT,   /* ctx_interrupt() was called (possibly spuriously: the Sentry checks
			      * its own state and runs the context again) */
};

struct plat_event {
	enum plat_event_kind kind;
	int signo;           /* PLAT_EV_FAULT: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	int si_code;         /* as the host kernel reported it */
	uint64_t fault_addr; /* si_addr */
	int access;          /* PLAT_EV_FAULT with SIGSEGV: LINUX_PROT_* bit of the access, or 0
			      * when the backend cannot tell (ptrace never can) */
	bool syscall32;      /* PLAT_EV_SYSCALL: made with int $0x80, so orig_rax is an i386
			      * number and the arguments are in ebx ecx edx esi edi ebp */
	bool trapped;        /* PLAT_EV_SYSCALL: made by a syscall instruction at rip - 2 that
			      * trapped (with patch_enable on: a site the Sentry may patch), not
			      * through a patched site's trampoline */
	uint64_t spun_ns;    /* any event: how long the calling thread spun for the application
			      * during the call (CPU time spent waiting, not working: the task's
			      * system time leaves it out); 0 where the platform does not spin */
};

/* The most cpuid sites a learning context notes (ctx_cpuid_learn). */
#define PLAT_CPUID_NOTES_MAX 64

/* The memory file: pass PLAT_FD_MEMFILE as fd to as_map to map the Sentry's memory file. */
#define PLAT_FD_MEMFILE (-1)

struct platform {
	const char *name;

	/* Optional (NULL: nothing to do). Called once in the Sentry before it installs its seccomp
	 * filter, single-threaded, with the memory file; init() still follows. For what must not
	 * inherit the Sentry's filter (systrap and unotify fork their stub master here). 0 or -errno. */
	int (*preinit)(int memfd);

	/* as_map takes host fds (above). */
	bool host_fd_maps;

	/* Called once in the Sentry before anything else, and before large mappings are made
	 * (ptrace reserves its stub region at max_user_addr in the Sentry); memfd is the memory
	 * file, which the backend may need to hand to its stubs and must stay open. */
	int (*init)(int memfd);

	/* A new, empty address space; the calling thread may map memory into it before it has a
	 * context there (see Threading). Returns NULL with errno set on failure. */
	struct plat_as *(*as_create)(void);
	/* Tear it down; no context may be running in it. Any thread; NULL is ignored. */
	void (*as_release)(struct plat_as *as);

	/* Map [addr, addr+len) to fd at offset off, MAP_FIXED with LINUX_PROT_* prot, replacing
	 * whatever was there: MAP_SHARED for PLAT_FD_MEMFILE; a host fd (a read-only file the
	 * gofer donated) is mapped MAP_PRIVATE and never writable (-EINVAL), by the backends that
	 * set host_fd_maps (the others: -ENOSYS). addr, len and off are page aligned, len > 0,
	 * and addr + len <= max_user_addr; -EINVAL otherwise. */
	int (*as_map)(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd,
		      uint64_t off);
	/* Remove mappings in [addr, addr+len); unmapped parts are not an error. */
	int (*as_unmap)(struct plat_as *as, uint64_t addr, uint64_t len);
	/* Change protection of mapped pages in [addr, addr+len). */
	int (*as_protect)(struct plat_as *as, uint64_t addr, uint64_t len, int prot);

	/* A context to run one application thread in as, not claimed by any thread yet but for
	 * the creator's first one (see Threading). Its FPU state is that of the caller's context
	 * in as (clone semantics), or Linux's initial state (after execve) when the caller has
	 * none there yet. NULL with errno set on failure (EPERM: the caller may not create one in
	 * as). */
	struct plat_ctx *(*ctx_create)(struct plat_as *as);
	/* End the context and its host side; see Threading for which thread. NULL is ignored. */
	void (*ctx_release)(struct plat_ctx *ctx);

	/* Run regs in as until an event; on return *regs holds the thread's registers and *ev what
	 * happened. Segment selectors, eflags' system bits and orig_rax are not taken from regs
	 * (64-bit user selectors, user-settable flags only); fs_base/gs_base are. The FPU/SSE/AVX
	 * state lives in the context and is not part of regs. Returns 0, or -errno when the
	 * platform itself failed: -ESRCH the address space's host side died (every later call on
	 * it fails the same way; release it), -EINVAL registers the host refuses (fs_base or
	 * gs_base beyond the user range), -EPERM the wrong thread (see Threading). The first call
	 * claims ctx for the calling thread. as must be the address space ctx was created in. */
	int (*ctx_run)(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
		       struct plat_event *ev);
	/* The thread's FPU/SSE/AVX state in XSAVE layout (what a Linux signal frame's fpstate
	 * holds, software bytes 464..511 included; the FP_XSTATE_MAGIC2 word after it is the
	 * caller's), fpstate_size() bytes (size must be at least that). From the ctx's own thread
	 * (claiming an unclaimed one, like ctx_run), between ctx_run calls. set fails with -EINVAL
	 * on a header or MXCSR the CPU would refuse (sigreturn turns that into SIGSEGV). 0 or
	 * -errno. */
	int (*ctx_get_fpstate)(struct plat_ctx *ctx, void *buf, size_t size);
	int (*ctx_set_fpstate)(struct plat_ctx *ctx, const void *buf, size_t size);
	/* The XSAVE area size of this machine as Linux puts it in a signal frame: the features
	 * enabled in XCR0 (cpuid 0xd) but AMX tile data, which Linux adds only for tasks that asked
	 * for it (2816 bytes with AVX-512 and AMX, 832 with AVX only). Fixed after init. */
	size_t (*fpstate_size)(void);

	/* From any thread: make a running ctx_run return PLAT_EV_INTERRUPT soon, or the next one
	 * at once (without running) when none is running. ctx must stay alive meanwhile. */
	void (*ctx_interrupt)(struct plat_ctx *ctx);
	/* Optional (NULL: nothing to do). From ctx's owner, between ctx_run calls: its task is
	 * about to sleep in the Sentry (a blocking call), so the thread should stop waiting
	 * actively (spinning) for the answer. */
	void (*ctx_blocking)(struct plat_ctx *ctx);

	/* Optional (NULL: no syscall patching). Turn syscall patching on (docs/platforms.md): once,
	 * at boot, after init and before the first as_create. Returns the address a patched site's
	 * trampoline jumps to (platform/syspatch.h), which hands the call over without a trap, or 0
	 * when the platform cannot (patching stays off). From then on the platform reports a
	 * syscall made through a trampoline as PLAT_EV_SYSCALL with every register as if the site's
	 * syscall instruction had run (rip past the site, rcx = rip, r11 = eflags), and the thread
	 * keeps working when its gs_base is not 0 (the trampoline then traps as before). */
	uint64_t (*patch_enable)(void);

	/* Optional (NULL: the Sentry answers every cpuid it learns of). cpuid rewritten into int3
	 * (docs/platforms.md, "cpuid"): does the platform answer an int3 at a registered site as
	 * the cpuid it replaced, without a report? After init. */
	bool (*cpuid_answers)(void);
	/* With cpuid_answers: the sites of as from now on are exactly these n addresses (each
	 * the int3 that replaced a cpuid's 0f byte; an a2 byte follows). A report's int3 at any
	 * other address is the Sentry's. 0, or -E2BIG when more than the platform holds: the
	 * first ones are registered, the rest are reported. Any thread. */
	int (*as_cpuid_sites)(struct plat_as *as, const uint64_t *addrs, size_t n);
	/* With cpuid_answers, from ctx's owner between ctx_run calls: on, its thread faults on
	 * cpuid from its next run on, and the platform notes where each one was (each address
	 * once, up to PLAT_CPUID_NOTES_MAX), those it answers and those it reports alike; off
	 * ends that and hands over the notes: at most *n addresses into sites, *n set to how
	 * many. Those notes come from where the application runs: untrusted. 0 or -errno. */
	int (*ctx_cpuid_learn)(struct plat_ctx *ctx, bool on, uint64_t *sites, size_t *n);

	/* Highest application address + 1 this platform leaves free (its stub lives above):
	 * application mappings, stack and mmap base all go below it. */
	uint64_t max_user_addr;
};

/* The backend called name, or NULL. */
const struct platform *platform_lookup(const char *name);
/* Names of all backends, NULL-terminated. */
extern const char *const platform_names[];

extern const struct platform platform_ptrace;
extern const struct platform platform_systrap;
extern const struct platform platform_unotify;

#endif
