/* The platform interface: how application code runs and how its syscalls and faults come back.
 *
 * One interface, several backends (ptrace now; systrap, unotify and kvm later), chosen at run time
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
 * Threading: every call on an address space or a context is made from the Sentry host thread
 * that owns the task using it (ptrace requires the tracer thread). Calls return 0 or -errno.
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
			      * The Sentry stores the result in rax and runs the context again. */
	PLAT_EV_FAULT,       /* a synchronous fault: signo/si_code/fault_addr say which */
	PLAT_EV_INTERRUPT,   /* ctx_interrupt() was called, or a host signal stopped the thread */
};

struct plat_event {
	enum plat_event_kind kind;
	int signo;           /* PLAT_EV_FAULT: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	int si_code;         /* as the host kernel reported it */
	uint64_t fault_addr; /* si_addr */
	int access;          /* PLAT_EV_FAULT with SIGSEGV: LINUX_PROT_* bit of the access if known */
};

/* The memory file: pass PLAT_FD_MEMFILE as fd to as_map to map the Sentry's memory file. */
#define PLAT_FD_MEMFILE (-1)

struct platform {
	const char *name;

	/* Called once in the Sentry before anything else; memfd is the memory file, which the
	 * backend may need to hand to its stubs. */
	int (*init)(int memfd);

	/* A new, empty address space. Returns NULL with errno set on failure. */
	struct plat_as *(*as_create)(void);
	/* Tear it down; no context may be running in it. */
	void (*as_release)(struct plat_as *as);

	/* Map [addr, addr+len) to fd at offset off, MAP_SHARED|MAP_FIXED with LINUX_PROT_* prot,
	 * replacing whatever was there. fd is PLAT_FD_MEMFILE or a host fd (donated by the gofer,
	 * read-only mappings only). addr, len and off are page aligned. */
	int (*as_map)(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd,
		      uint64_t off);
	/* Remove mappings in [addr, addr+len); unmapped parts are not an error. */
	int (*as_unmap)(struct plat_as *as, uint64_t addr, uint64_t len);
	/* Change protection of mapped pages in [addr, addr+len). */
	int (*as_protect)(struct plat_as *as, uint64_t addr, uint64_t len, int prot);

	/* A context to run application threads with. NULL with errno set on failure. */
	struct plat_ctx *(*ctx_create)(struct plat_as *as);
	void (*ctx_release)(struct plat_ctx *ctx);

	/* Run regs in as until an event; on return *regs holds the thread's registers and *ev what
	 * happened. Returns 0, or -errno when the platform itself failed (the stub died). */
	int (*ctx_run)(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
		       struct plat_event *ev);
	/* From any thread: make a running ctx_run return PLAT_EV_INTERRUPT soon. */
	void (*ctx_interrupt)(struct plat_ctx *ctx);

	/* Highest application address + 1 this platform leaves free (its stub lives above). */
	uint64_t max_user_addr;
};

/* The backend called name, or NULL. */
const struct platform *platform_lookup(const char *name);
/* Names of all backends, NULL-terminated. */
extern const char *const platform_names[];

extern const struct platform platform_ptrace;

#endif
