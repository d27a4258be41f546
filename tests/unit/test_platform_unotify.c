/* Unit tests for the seccomp user-notification platform: the cases every platform passes
 * (platform_cases.h, platform_mt_cases.h), and what only unotify has: the stub master, the
 * stub's filters, faults that say their access, and a stub whose code the application can jump
 * into. */
#define _GNU_SOURCE
#include <sys/types.h>

#include "platform/platform.h"

pid_t plat_unotify_as_pid(const struct plat_as *as);
pid_t plat_unotify_ctx_tid(const struct plat_ctx *ctx);

#define PT_PLATFORM "unotify"
#define PT_AS_PID(as) plat_unotify_as_pid(as)
#define PT_CTX_TID(ctx) plat_unotify_ctx_tid(ctx)
#define PT_STUB_FDS 1      /* the memory file: listeners and the shared file are closed */
#define PT_EXTRA_THREADS 1 /* the factory */
#define PT_STRICT_AS_OPS 1
#define PT_STUB_MASTER 1 /* stubs come from the stub master */
#define PT_DEFERRED_AS_OPS 0
#define PT_SUITE platform_unotify
#define PT_MT_SUITE unotify_mt

#include "tests/unit/platform_test.h"


#include "tests/unit/platform_cases.h"
#include "tests/unit/platform_mt_cases.h"

/* ---- unotify only ---- */

Test(PT_SUITE, the_stub_has_the_filters_and_no_sentry_filter)
{
	char path[64], line[256];
	int seccomp = -1, nnp = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", PT_AS_PID(as));
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", &seccomp);
		sscanf(line, "NoNewPrivs: %d", &nnp);
	}
	fclose(f);
	cr_assert_eq(seccomp, 2, "filter mode");
	cr_assert_eq(nnp, 1);
	/* The master's filter and F0 in the factory; a worker adds its own. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", PT_AS_PID(as), PT_CTX_TID(ctx));
	f = fopen(path, "r");
	cr_assert_not_null(f);
	int filters = -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Seccomp_filters: %d", &filters);
	fclose(f);
	cr_assert_eq(filters, 3, "master's, F0 and the worker's");
}

Test(PT_SUITE, faults_say_their_access)
{
	struct plat_regs r = regs_at(g_store);
	struct plat_event ev;

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
	r.regs.rbx = DATA + 8;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.access, LINUX_PROT_WRITE);
	r = regs_at(g_load);
	r.regs.rbx = 0x600000;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.access, LINUX_PROT_READ);
	cr_assert_eq(P->as_protect(as, CODE, PG, LINUX_PROT_READ), 0);
	r = regs_at(g_basic);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.access, LINUX_PROT_EXEC);
}

/* Registers survive a syscall round trip whole: the frame carries every one of them. */
Test(PT_SUITE, every_register_round_trips)
{
	struct plat_regs r = regs_at(g_loop), want;
	struct plat_event ev;

	r.regs.rbx = 0x1111, r.regs.rbp = 0x2222, r.regs.r12 = 0x3333, r.regs.r13 = 0x4444;
	r.regs.r14 = 0x5555, r.regs.r15 = 0x6666, r.regs.r8 = 0x7777, r.regs.r9 = 0x8888;
	r.regs.r10 = 0x9999, r.regs.rdx = 0xaaaa, r.regs.rsi = 0xbbbb, r.regs.rdi = 0xcccc;
	r.regs.eflags = 0x202 | 0x1 | 0x400; /* CF and DF */
	want = r;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.rbx, want.regs.rbx);
	cr_assert_eq(r.regs.rbp, want.regs.rbp);
	cr_assert_eq(r.regs.r12, want.regs.r12);
	cr_assert_eq(r.regs.r15, want.regs.r15);
	cr_assert_eq(r.regs.r8, want.regs.r8);
	cr_assert_eq(r.regs.r10, want.regs.r10);
	cr_assert_eq(r.regs.rdx, want.regs.rdx);
	cr_assert_eq(r.regs.rsp, STACK + PG);
	cr_assert_eq(r.regs.rcx, r.regs.rip, "syscall leaves the return address in rcx");
	cr_assert_eq(r.regs.eflags & 0x401, 0x401);
	cr_assert_eq(r.regs.rax, (uint64_t)-ENOSYS, "as at a syscall's entry");
}

/* The hand-off and the stub's own syscall instructions, reached by a guest jumping there with
 * registers of its choosing: the Sentry refuses what it did not ask for, nothing else happens. */
Test(PT_SUITE, guest_jumping_into_the_stub)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	/* The stub's code page is above max_user_addr: a guest can jump there (its own
	 * business) but not map or change it through the platform. */
	cr_assert_eq(P->as_protect(as, P->max_user_addr, PG, LINUX_PROT_READ), -EINVAL);
	/* Jumping to the page's first byte runs the boot entry's munmap from outside the rules:
	 * the stub's filter kills the stub (which only hurts the guest). */
	r.regs.rip = P->max_user_addr;
	int e = P->ctx_run(ctx, as, &r, &ev);
	cr_assert(e == -ESRCH || (e == 0 && ev.kind == PLAT_EV_FAULT), "got %d kind %d", e,
		  ev.kind);
}

/* Round trips for a fork's worth of mappings: each as_map is one verified mmap. */
Test(PT_SUITE, many_mappings)
{
	for (int i = 0; i < 200; i++)
		cr_assert_eq(P->as_map(as, DATA2 + (uint64_t)i * PG, PG, LINUX_PROT_READ,
				       PLAT_FD_MEMFILE, 3 * PG),
			     0);
	cr_assert_eq(P->as_unmap(as, DATA2, 200 * PG), 0);
	/* An unmap longer than the stub's filter lets through at once (4 GiB): chunked. */
	cr_assert_eq(P->as_unmap(as, 0x100000000ULL, 0x300000000ULL), 0);
	cr_assert_eq(P->as_protect(as, 0x100000000ULL, 0x300000000ULL, LINUX_PROT_READ), -ENOMEM);
}

Test(PT_SUITE, init_is_idempotent)
{
	pid_t m = stub_master_pid();

	cr_assert_gt(m, 0);
	cr_assert_eq(P->init(memfd), 0);
	cr_assert_eq(stub_master_pid(), m, "one master");
}
