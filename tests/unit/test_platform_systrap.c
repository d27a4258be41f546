/* Unit tests for the systrap platform: the cases every platform passes (platform_cases.h,
 * platform_mt_cases.h), and what only systrap has: a stub the application shares memory with. */
#define _GNU_SOURCE
#include <sys/types.h>

#include "platform/platform.h"
#include "platform/syspatch.h"

pid_t plat_systrap_as_pid(const struct plat_as *as);
pid_t plat_systrap_ctx_tid(const struct plat_ctx *ctx);

#define PT_PLATFORM "systrap"
void plat_systrap_quiesce(void);

#define PT_AS_PID(as) plat_systrap_as_pid(as)
#define PT_QUIESCE() plat_systrap_quiesce()
#define PT_CTX_TID(ctx) plat_systrap_ctx_tid(ctx)
#define PT_STUB_FDS 4	   /* the memory file, the control thread's two pipes and its socket */
#define PT_EXTRA_THREADS 1 /* the control thread */
#define PT_STRICT_AS_OPS 0
#define PT_STUB_MASTER 1 /* stubs come from the stub master */
#define PT_DEFERRED_AS_OPS 1
#define PT_SUITE platform_systrap
#define PT_MT_SUITE systrap_mt

#include "tests/unit/platform_cases.h"
#include "tests/unit/platform_mt_cases.h"

/* ---- what only systrap has: memory the application shares with the stub ---- */

uint64_t plat_systrap_ctx_area(const struct plat_ctx *ctx);
uint64_t plat_systrap_stub_syscall(void);
uint64_t plat_systrap_stub_batch_syscall(void);

/* Guests of their own, at CODE2 (memory file page 4). */
__asm__(".pushsection .rodata\n"
	".globl st_g_start, st_g_store32, st_g_forge, st_g_jump, st_g_bases, st_g_end\n"
	"st_g_start:\n"
	"st_g_store32:\n" /* *(u32 *)rbx = esi, then spin */
	"	mov %esi, (%rbx)\n"
	"1:	jmp 1b\n"
	"st_g_forge:\n" /* a forged report: frame (rbx + 64) = rdx, state (rbx) = REPORT, spin */
	"	mov %rdx, 64(%rbx)\n"
	"	movl $2, (%rbx)\n"
	"1:	jmp 1b\n"
	"st_g_jump:\n" /* into the stub's code, registers as the test set them */
	"	jmp *%r12\n"
	"st_g_bases:\n" /* fs base = rdi; rsi = gs base; syscall 1006 */
	"	wrfsbase %rdi\n"
	"	rdgsbase %rsi\n"
	"	mov $1006, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"st_g_end:\n"
	".popsection\n");
extern const unsigned char st_g_start[], st_g_store32[], st_g_forge[], st_g_jump[], st_g_bases[],
	st_g_end[];

#define CODE2 0x500000UL

static uint64_t at2(const unsigned char *label)
{
	return CODE2 + (uint64_t)(label - st_g_start);
}

/* Map the second guest page and run the context once (its stub thread has reported since). */
static void st_setup(void)
{
	struct plat_regs r = regs_at(g_basic);

	memcpy(mem + 4 * PG, st_g_start, (size_t)(st_g_end - st_g_start));
	cr_assert_eq(P->as_map(as, CODE2, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE,
			       4 * PG),
		     0);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
}

static struct plat_regs regs_at2(const unsigned char *label)
{
	struct plat_regs r = regs_at(g_basic);

	r.regs.rip = at2(label);
	return r;
}

/* The stub is gone for good: every later call says so, and it leaves no child. */
static void assert_stub_dead(void)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	cr_assert_eq(P->as_map(as, DATA2, PG, LINUX_PROT_READ, PLAT_FD_MEMFILE, 0), -ESRCH);
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

TestSuite(systrap_hostile, .init = setup, .fini = teardown, .timeout = 30);

Test(systrap_hostile, a_forged_death_kills_the_stub)
{
	struct plat_regs r;
	struct plat_event ev;

	st_setup();
	r = regs_at2(st_g_store32);
	r.regs.rbx = plat_systrap_ctx_area(ctx); /* the state word */
	r.regs.rsi = 0;                          /* ST_DEAD */
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	assert_stub_dead();
}

/* After a test killed the stub: a fresh memory file, address space and context, as setup. */
static void restart(void)
{
	teardown();
	setup();
}

Test(systrap_hostile, a_forged_report_with_a_bad_frame_kills_the_stub)
{
	/* Outside the area, at its message page, too close to its end, misaligned. */
	const uint64_t offs[] = {(uint64_t)-0x100000, 0, 0x7ff8, 0x1003};
	struct plat_regs r;
	struct plat_event ev;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (i)
			restart();
		st_setup();
		r = regs_at2(st_g_forge);
		r.regs.rbx = plat_systrap_ctx_area(ctx);
		r.regs.rdx = plat_systrap_ctx_area(ctx) + offs[i];
		cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH, "frame at %#lx", offs[i]);
		assert_stub_dead();
	}
}

/* The application jumps into the stub's code with a syscall of its choice: only what filter B
 * allows there goes through; mmap (the memory file is fd 0), write (the completion pipe) or
 * anything else kills the stub. */
Test(systrap_hostile, stub_syscalls_are_not_the_applications)
{
	const long nrs[] = {9 /* mmap */, 1 /* write */, 39 /* getpid */, 56 /* clone */};
	struct plat_regs r;
	struct plat_event ev;

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		if (i)
			restart();
		st_setup();
		r = regs_at2(st_g_jump);
		r.regs.r12 = plat_systrap_stub_syscall();
		r.regs.rax = (uint64_t)nrs[i];
		r.regs.rdi = DATA2;
		r.regs.rsi = PG;
		r.regs.rdx = LINUX_PROT_READ | LINUX_PROT_WRITE;
		r.regs.r10 = 0x11; /* MAP_SHARED | MAP_FIXED */
		r.regs.r8 = 0;     /* the memory file */
		r.regs.r9 = 0;
		cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH, "syscall %ld", nrs[i]);
		assert_stub_dead();
	}
}

/* The batch site (where a thread applies the mapping changes the Sentry queued) with the
 * application's registers: mmap, munmap and mprotect without the stub's cookie, or any other
 * call, kill the stub. */
Test(systrap_hostile, the_batch_site_needs_the_cookie)
{
	const long nrs[] = {9 /* mmap */, 11 /* munmap */, 10 /* mprotect */, 47 /* recvmsg */,
			    1 /* write */};
	const uint64_t guesses[] = {0, 0x1234567800000000ULL};
	struct plat_regs r;
	struct plat_event ev;

	for (size_t i = 0; i < 2 * sizeof(nrs) / sizeof(nrs[0]); i++) {
		if (i)
			restart();
		st_setup();
		r = regs_at2(st_g_jump);
		r.regs.r12 = plat_systrap_stub_batch_syscall();
		r.regs.rax = (uint64_t)nrs[i / 2];
		r.regs.rdi = DATA2;
		r.regs.rsi = PG;
		r.regs.rdx = LINUX_PROT_READ | LINUX_PROT_WRITE | guesses[i % 2];
		r.regs.r10 = 0x11 | guesses[i % 2]; /* MAP_SHARED | MAP_FIXED; mprotect's cookie */
		r.regs.r8 = guesses[i % 2];         /* the memory file; mmap's cookie */
		r.regs.r9 = 0;
		cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH, "syscall %ld", nrs[i / 2]);
		assert_stub_dead();
	}
}

/* Mapping changes of a one-thread address space go with the thread's next run: what was mapped
 * is there when it runs, and what was unmapped faults. */
Test(systrap_hostile, queued_mapping_changes_apply_before_the_application_runs)
{
	struct plat_regs r;

	st_setup();
	cr_assert_eq(P->as_unmap(as, DATA2, PG), 0);
	cr_assert_eq(P->as_map(as, DATA2, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE,
			       5 * PG),
		     0);
	cr_assert_eq(P->as_protect(as, DATA2, PG, LINUX_PROT_READ), 0);
	r = regs_at2(st_g_store32);
	r.regs.rbx = DATA2;
	r.regs.rsi = 7;
	struct plat_event ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.fault_addr, DATA2);
	cr_assert_eq(ev.access, LINUX_PROT_WRITE);
	cr_assert_eq(P->as_unmap(as, DATA2, PG), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.si_code, SEGV_MAPERR);
}

/* exit from the stub's code is allowed (the handler ends released threads that way): the thread
 * is gone, which the Sentry learns at once, and the whole stub goes with it. */
Test(systrap_hostile, a_thread_that_exits_takes_the_stub)
{
	struct plat_regs r;
	struct plat_event ev;
	struct timespec t0, t1;

	st_setup();
	r = regs_at2(st_g_jump);
	r.regs.r12 = plat_systrap_stub_syscall();
	r.regs.rax = 60; /* exit */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2);
	assert_stub_dead();
}

/* The request page and the stub's code are read-only for the application. */
Test(systrap_hostile, control_memory_is_read_only)
{
	const uint64_t addrs[] = {P->max_user_addr /* code */, P->max_user_addr + 0x1000 /* data */,
				  P->max_user_addr + 0x100000 /* request page */,
				  P->max_user_addr + 0x101000 /* stack_t table */};
	struct plat_regs r;
	struct plat_event ev;

	st_setup();
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		r = regs_at2(st_g_store32);
		r.regs.rbx = addrs[i];
		ev = run(&r);
		cr_assert_eq(ev.kind, PLAT_EV_FAULT, "%#lx", addrs[i]);
		cr_assert_eq(ev.signo, SIGSEGV);
		cr_assert_eq(ev.si_code, SEGV_ACCERR);
		cr_assert_eq(ev.fault_addr, addrs[i]);
		cr_assert_eq(ev.access, LINUX_PROT_WRITE, "systrap tells the access");
	}
	/* And the stub still works. */
	r = regs_at(g_basic);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
}

/* Bases the application sets itself (wrfsbase) reach the Sentry, and the Sentry's reach it. */
Test(systrap_hostile, fs_and_gs_bases_both_ways)
{
	struct plat_regs r;
	struct plat_event ev;

	st_setup();
	r = regs_at2(st_g_bases);
	r.regs.rdi = DATA + 0x40;
	r.regs.gs_base = DATA + 0x80;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1006);
	cr_assert_eq(r.regs.fs_base, DATA + 0x40);
	cr_assert_eq(r.regs.rsi, DATA + 0x80);
	cr_assert_eq(r.regs.gs_base, DATA + 0x80);
}

/* Contexts come and go far beyond the number of area slots: released slots are reused once
 * their thread is gone. */
Test(systrap_hostile, area_slots_are_reused, .timeout = 120)
{
	struct plat_regs r = regs_at(g_basic);

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	for (int i = 0; i < 2500; i++) {
		struct plat_ctx *c = P->ctx_create(as);
		struct plat_event ev;

		cr_assert_not_null(c, "context %d: %s", i, strerror(errno));
		if (i % 100 == 0) { /* some of them run */
			struct plat_regs r2 = regs_at(g_basic);

			cr_assert_eq(P->ctx_run(c, as, &r2, &ev), 0);
			cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
		}
		P->ctx_release(c);
	}
	cr_assert_leq(wait_thread_count(PT_AS_PID(as), 2), 3);
}

/* The application blocks the interrupt signal (an rt_sigreturn from the stub's code with a
 * frame of its own) and spins: the Sentry cannot stop it, so after a while it ends the stub
 * rather than wait forever. */
Test(systrap_hostile, an_unanswered_interrupt_ends_the_stub)
{
	unsigned char *f = mem + 2 * PG + 0x100; /* the frame, at DATA + 0x100 */
	uint64_t area, *sc;
	struct plat_regs r;
	struct plat_event ev;
	struct timespec t0, t1;
	pthread_t th;
	struct interrupter i = {.delay_ms = 100};

	st_setup();
	area = plat_systrap_ctx_area(ctx);
	memset(f, 0, 512);
	memcpy(f + 24, &(uint64_t){area + PG}, 8);            /* uc_stack: the thread's own */
	memcpy(f + 40, &(uint64_t){0x8000 - PG}, 8);
	sc = (uint64_t *)(f + 48);                            /* uc_mcontext */
	sc[15] = STACK + PG;                                  /* rsp */
	sc[16] = at(g_spin);                                  /* rip */
	sc[17] = 0x202;                                       /* eflags */
	memcpy(&sc[18], &(uint16_t[4]){0x33, 0, 0, 0x2b}, 8); /* cs gs fs ss */
	memcpy(f + 304, &(uint64_t){1ULL << (SIGUSR2 - 1)}, 8); /* uc_sigmask */
	r = regs_at2(st_g_jump);
	r.regs.r12 = plat_systrap_stub_syscall();
	r.regs.rax = 15; /* rt_sigreturn */
	r.regs.rsp = DATA + 0x100 + 8;
	cr_assert_eq(pthread_create(&th, NULL, interrupt_later, &i), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	cr_assert_geq(t1.tv_sec - t0.tv_sec, 4, "it had its chance");
	assert_stub_dead();
}

/* ---- syscall patching: the fast entry ---- */

/* At CODE2 + 0x800 a trampoline entry for getpid from a "site" at CODE2 + 0x900; after the
 * site, a raw syscall (which traps, so the test sees the registers the fast return left) and
 * ud2. At CODE2 + 0xa00 a loop that writes "fast" into the report kind of the area at rbx. */
#define P_SLOT (CODE2 + 0x800)
#define P_SITE (CODE2 + 0x900)
#define P_FORGE (CODE2 + 0xa00)

TestSuite(systrap_patch, .init = setup, .fini = teardown, .timeout = 30);

static void patch_setup(void)
{
	static const uint8_t after[] = {0x0f, 0x05, 0x0f, 0x0b};
	/* 1: movl $1, 56(%rbx); jmp 1b */
	static const uint8_t forge[] = {0xc7, 0x43, 0x38, 0x01, 0, 0, 0, 0xeb, 0xf7};
	uint8_t entry[SYSPATCH_ENTRY], *page = mem + 4 * PG;
	uint64_t stub;

	st_setup();
	stub = P->patch_enable();
	cr_assert_neq(stub, 0);
	syspatch_entry(P_SLOT, 39, P_SITE, stub, entry);
	memcpy(page + (P_SLOT - CODE2), entry, sizeof(entry));
	memcpy(page + (P_SITE - CODE2) + SYSPATCH_SITE_LEN, after, sizeof(after));
	memcpy(page + (P_FORGE - CODE2), forge, sizeof(forge));
}

/* Distinct values in every register a syscall keeps. */
static struct plat_regs patch_regs(uint64_t rip)
{
	struct plat_regs r = regs_at(g_basic);
	uint64_t *w = (uint64_t *)&r.regs;

	for (int i = 0; i < 15; i++) /* r15 .. rdi */
		w[i] = 0x1000 + (uint64_t)i;
	r.regs.rip = rip;
	r.regs.eflags = 0x203; /* CF set: the entry saves the flags before it changes any */
	return r;
}

static void expect_kept(const struct plat_regs *got, const struct plat_regs *want)
{
	const struct linux_regs *g = &got->regs, *w = &want->regs;

	cr_expect(g->rbx == w->rbx && g->rbp == w->rbp && g->r12 == w->r12 && g->r13 == w->r13 &&
		  g->r14 == w->r14 && g->r15 == w->r15, "callee-saved registers");
	cr_expect(g->rdi == w->rdi && g->rsi == w->rsi && g->rdx == w->rdx && g->r10 == w->r10 &&
		  g->r8 == w->r8 && g->r9 == w->r9, "the arguments");
	cr_expect(g->rsp == w->rsp, "rsp");
	cr_expect_eq(g->fs_base, w->fs_base);
	cr_expect_eq(g->gs_base, w->gs_base);
}

Test(systrap_patch, a_fast_call_round_trip)
{
	struct plat_regs want, r;
	struct plat_event ev;

	patch_setup();
	want = r = patch_regs(P_SLOT + 8);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert(!ev.trapped, "a fast report, not a trap");
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_eq(r.regs.rip, P_SITE + SYSPATCH_SITE_LEN, "rip past the site");
	cr_assert_eq(r.regs.rcx, r.regs.rip, "rcx = rip");
	cr_assert_eq(r.regs.r11, r.regs.eflags, "r11 = rflags");
	cr_assert_eq(r.regs.eflags & 0xff, 0x03, "the flags as they were: %#lx", r.regs.eflags);
	expect_kept(&r, &want);
	/* The fast return: rax as the Sentry left it, everything else kept; the raw syscall after
	 * the site shows them. */
	r.regs.rax = 1234;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert(ev.trapped);
	cr_assert_eq(r.regs.orig_rax, 1234);
	cr_assert_eq(r.regs.rip, P_SITE + SYSPATCH_SITE_LEN + 2);
	expect_kept(&r, &want);
}

Test(systrap_patch, a_gs_base_of_its_own_takes_the_slow_path)
{
	const uint64_t bases[] = {DATA /* mapped: not an area */, DATA2 /* unmapped: a fault */};

	for (size_t i = 0; i < 2; i++) {
		struct plat_regs want, r;
		struct plat_event ev;

		if (i)
			restart();
		patch_setup();
		want = r = patch_regs(P_SLOT + 8);
		r.regs.gs_base = want.regs.gs_base = bases[i];
		ev = run(&r);
		cr_assert_eq(ev.kind, PLAT_EV_SYSCALL, "gs %#lx: event %d", bases[i], ev.kind);
		cr_assert(ev.trapped, "the entry's own syscall trapped");
		cr_assert_eq(r.regs.orig_rax, 39);
		cr_assert_eq(r.regs.rip, P_SLOT + SYSPATCH_SLOW_SYSCALL + 2);
		expect_kept(&r, &want);
	}
}

/* The FPU state after a fast report is the thread's live one: reading it spills the registers
 * into a frame, and the context runs on from there. */
Test(systrap_patch, the_fpu_state_after_a_fast_call)
{
	size_t n = P->fpstate_size();
	uint8_t fp[n] __attribute__((aligned(64))), got[n] __attribute__((aligned(64)));
	struct plat_regs want, r;
	struct plat_event ev;

	patch_setup();
	cr_assert_eq(P->ctx_get_fpstate(ctx, fp, n), 0);
	memset(fp + 160, 0x5a, 16); /* xmm0 */
	cr_assert_eq(P->ctx_set_fpstate(ctx, fp, n), 0);
	want = r = patch_regs(P_SLOT + 8);
	ev = run(&r);
	cr_assert(ev.kind == PLAT_EV_SYSCALL && !ev.trapped);
	cr_assert_eq(P->ctx_get_fpstate(ctx, got, n), 0);
	cr_assert(!memcmp(got + 160, fp + 160, 16), "xmm0 came through the spill");
	r.regs.rax = 4321;
	ev = run(&r);
	cr_assert(ev.kind == PLAT_EV_SYSCALL && ev.trapped);
	cr_assert_eq(r.regs.orig_rax, 4321);
	cr_assert_eq(r.regs.rip, P_SITE + SYSPATCH_SITE_LEN + 2, "the spilled thread went on");
	expect_kept(&r, &want);
}

/* Another thread of the stub rewrites this one's report kind to "fast" while it is stopped in
 * its signal handler: the Sentry reads garbage registers (the thread's own business), and asked
 * to spill, the thread cannot: the stub goes. */
struct forger {
	struct plat_ctx *c;
	int result;
};

static void *run_forger(void *arg)
{
	struct forger *f = arg;
	struct plat_regs r = patch_regs(P_FORGE);
	struct plat_event ev;

	r.regs.rbx = plat_systrap_ctx_area(ctx);
	do
		f->result = P->ctx_run(f->c, as, &r, &ev);
	while (f->result == 0);
	return NULL;
}

Test(systrap_patch, a_forged_fast_report)
{
	size_t n = P->fpstate_size();
	uint8_t fp[n] __attribute__((aligned(64)));
	struct forger f = {0};
	struct plat_regs r;
	struct timespec t0, t1;
	pthread_t th;
	int got = 0;

	patch_setup();
	f.c = P->ctx_create(as);
	cr_assert_not_null(f.c);
	cr_assert_eq(pthread_create(&th, NULL, run_forger, &f), 0);
	msleep(50);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Until the forger's write lands between the handler's and the Sentry's look (under load
	 * the forger may not run at first). */
	for (t1 = t0; got == 0 && t1.tv_sec - t0.tv_sec < 10;
	     clock_gettime(CLOCK_MONOTONIC, &t1)) {
		struct plat_event ev;

		r = patch_regs(P_SITE + SYSPATCH_SITE_LEN); /* a raw syscall */
		r.regs.rax = 39;
		cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), 0);
		cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
		got = P->ctx_get_fpstate(ctx, fp, n);
	}
	cr_assert_eq(got, -ESRCH, "the spill of a thread in its handler ends the stub: %d", got);
	P->ctx_interrupt(f.c);
	pthread_join(th, NULL);
	cr_assert_eq(f.result, -ESRCH);
	P->ctx_release(f.c);
	assert_stub_dead();
}

/* ---- solo (run.c): while at most one application thread per CPU but one runs ---- */

#include "platform/pairing.h"

Test(pairing, solo_while_one_thread_per_cpu_but_one_runs)
{
	cpu_set_t cpus;
	int n;

	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	n = CPU_COUNT(&cpus);
	cr_assert_eq(pairing_init(), n > 1);
	if (n < 2) {
		cr_assert(!pairing_solo(), "one CPU: never solo");
		return;
	}
	cr_assert(pairing_solo(), "nothing runs");
	for (int i = 1; i < n; i++) {
		pairing_active(1);
		cr_assert(pairing_solo(), "%d running on %d CPUs", i, n);
	}
	pairing_active(1);
	cr_assert(!pairing_solo(), "%d running on %d CPUs", n, n);
	pairing_active(-1);
	cr_assert(pairing_solo(), "one went to sleep");
}

/* A thread that only sleeps: the stub thread of a pair, for the pairing tests. */
struct sleeper {
	pthread_t th;
	pid_t tid;
	int fds[2];
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	char c;

	__atomic_store_n(&s->tid, gettid(), __ATOMIC_RELEASE);
	(void)!read(s->fds[0], &c, 1);
	return NULL;
}

static void sleeper_start(struct sleeper *s)
{
	cr_assert_eq(pipe(s->fds), 0);
	s->tid = 0;
	cr_assert_eq(pthread_create(&s->th, NULL, sleeper_main, s), 0);
	while (!__atomic_load_n(&s->tid, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void sleeper_stop(struct sleeper *s)
{
	(void)!write(s->fds[1], "x", 1);
	pthread_join(s->th, NULL);
	close(s->fds[0]);
	close(s->fds[1]);
}

Test(pairing, a_running_pair_moves_off_another_at_its_float)
{
	struct pairing a = {0}, b = {0}, c = {0};
	struct sleeper s1, s2;
	cpu_set_t cpus;

	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (CPU_COUNT(&cpus) < 2)
		cr_skip_test("one CPU: nothing to pair apart");
	cr_assert(pairing_init());
	pairing_active(2); /* the two pairs' application threads run */
	sleeper_start(&s1);
	sleeper_start(&s2);
	pairing_follow(&a, s1.tid);
	cr_assert(a.cpu > 0);
	/* A new pair stays where it is made (a short-lived thread is best next to its maker)... */
	pairing_follow(&b, s2.tid);
	cr_assert_eq(b.cpu, a.cpu);
	/* ... until its float: then it goes where no other running pair is. */
	b.since = 0;
	pairing_follow(&b, s2.tid);
	cr_assert(b.floating);
	pairing_follow(&b, s2.tid);
	cr_assert(b.cpu > 0 && b.cpu != a.cpu, "two running pairs on CPU %d", a.cpu - 1);
	cr_assert_eq(sched_getcpu() + 1, b.cpu, "the caller went with its pair");
	/* a's thread sleeps: its CPU is free for the next pair to float here (on b's). */
	pairing_idle(&a);
	pairing_follow(&c, s1.tid);
	cr_assert_eq(c.cpu, b.cpu, "made next to its maker");
	c.floating = true;
	pairing_follow(&c, s1.tid);
	cr_assert_eq(c.cpu, a.cpu, "the free CPU, not b's");
	pairing_undo(&c, 0);
	pairing_undo(&b, 0);
	pairing_undo(&a, 0);
	sleeper_stop(&s1);
	sleeper_stop(&s2);
	pairing_active(-2);
}

/* A pair whose application thread runs alone is not floated: it stays on its CPU (a move
 * costs the program its caches), until another thread runs. */
Test(pairing, a_lone_pair_does_not_float)
{
	struct pairing a = {0};
	struct sleeper s1;
	cpu_set_t cpus;

	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (CPU_COUNT(&cpus) < 2)
		cr_skip_test("one CPU: nothing to pair apart");
	cr_assert(pairing_init());
	pairing_active(1);
	sleeper_start(&s1);
	pairing_follow(&a, s1.tid);
	int cpu = a.cpu;
	cr_assert(cpu > 0);
	a.since = 0; /* pinned for long */
	pairing_follow(&a, s1.tid);
	cr_assert(!a.floating, "a lone pair floated");
	cr_assert_eq(a.cpu, cpu);
	pairing_active(1); /* another thread runs: now it floats */
	pairing_follow(&a, s1.tid);
	cr_assert(a.floating);
	pairing_undo(&a, 0);
	sleeper_stop(&s1);
	pairing_active(-2);
}

/* ---- the stub pool ---- */

#include "platform/stub_master.h"

TestSuite(systrap_pool, .init = setup, .fini = teardown, .timeout = 30);

/* A take keeps the pool's refill (the keeper thread and the stub master) off the taker's CPU,
 * where the new process is about to start; a stub made meanwhile gets every CPU back. */
Test(systrap_pool, the_refill_runs_off_the_takers_cpu)
{
	cpu_set_t all, one, got;
	struct plat_as *b, *c, *d;
	int cpu = sched_getcpu();

	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	if (CPU_COUNT(&all) < 2)
		cr_skip_test("one CPU: nowhere else to refill");
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	b = P->as_create();
	cr_assert_not_null(b);
	cr_assert_eq(sched_getaffinity(stub_master_pid(), sizeof(got), &got), 0);
	cr_assert(!CPU_ISSET(cpu, &got), "the master may still run on the taker's CPU %d", cpu);
	cr_assert_eq(CPU_COUNT(&got), CPU_COUNT(&all) - 1);
	msleep(100); /* the refill (the newest stub is the next one taken) */
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	c = P->as_create();
	d = P->as_create();
	cr_assert(c && d);
	cr_assert_eq(sched_getaffinity(plat_systrap_as_pid(c), sizeof(got), &got), 0);
	cr_assert(CPU_EQUAL(&got, &all), "a stub made during the refill: %d CPUs of %d",
		  CPU_COUNT(&got), CPU_COUNT(&all));
	cr_assert_eq(sched_getaffinity(plat_systrap_as_pid(d), sizeof(got), &got), 0);
	cr_assert(CPU_EQUAL(&got, &all));
	P->as_release(b);
	P->as_release(c);
	P->as_release(d);
}

/* ---- cpuid rewritten into int3 (docs/platforms.md, "cpuid") ---- */

#include <asm/prctl.h>
#include <cpuid.h>
#include <sys/syscall.h>

#include "common/util.h"

/* cpuid of leaf edi, subleaf esi at st_c_site, its answer in r8, r9, r10, r12; syscall 1007. */
__asm__(".pushsection .rodata\n"
	".globl st_c_start, st_c_site, st_c_store32, st_c_end\n"
	"st_c_start:\n"
	"	mov %edi, %eax\n"
	"	mov %esi, %ecx\n"
	"st_c_site:\n"
	"	cpuid\n"
	"	mov %eax, %r8d\n"
	"	mov %ebx, %r9d\n"
	"	mov %ecx, %r10d\n"
	"	mov %edx, %r12d\n"
	"	mov $1007, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"st_c_store32:\n" /* *(u32 *)rbx = esi; syscall 1008 */
	"	mov %esi, (%rbx)\n"
	"	mov $1008, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"st_c_end:\n"
	".popsection\n");
extern const unsigned char st_c_start[], st_c_site[], st_c_store32[], st_c_end[];

#define CODE3 0x600000UL /* memory file page 5 */
#define C_SITE (CODE3 + (uint64_t)(st_c_site - st_c_start))

/* The guest mapped; the site rewritten into int3 (0f -> cc) when int3 is set. */
static void cpuid_guest(bool int3)
{
	if (!P->cpuid_answers || !P->cpuid_answers())
		cr_skip_test("the stubs answer no cpuid here (protection keys)");
	memcpy(mem + 5 * PG, st_c_start, (size_t)(st_c_end - st_c_start));
	if (int3)
		mem[5 * PG + (size_t)(st_c_site - st_c_start)] = 0xcc;
	cr_assert_eq(P->as_map(as, CODE3, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE,
			       5 * PG),
		     0);
}

/* Run the guest for (leaf, sub): the event, the answer in *got. */
static struct plat_event run_cpuid(uint32_t leaf, uint32_t sub, struct plat_regs *r)
{
	*r = regs_at(g_basic);
	r->regs.rip = CODE3;
	r->regs.rdi = leaf;
	r->regs.rsi = sub;
	return run(r);
}

/* The guest's answer is the host's. */
static void expect_answer(const struct plat_regs *r, uint32_t leaf, uint32_t sub)
{
	unsigned a, b, c, d;

	__cpuid_count(leaf, sub, a, b, c, d);
	cr_assert_eq(r->regs.orig_rax, 1007);
	cr_assert(r->regs.r8 == a && r->regs.r9 == b && r->regs.r10 == c && r->regs.r12 == d,
		  "leaf %#x.%u: %#lx %#lx %#lx %#lx, the host says %#x %#x %#x %#x", leaf, sub,
		  (unsigned long)r->regs.r8, (unsigned long)r->regs.r9, (unsigned long)r->regs.r10,
		  (unsigned long)r->regs.r12, a, b, c, d);
}

TestSuite(systrap_cpuid, .init = setup, .fini = teardown, .timeout = 30);

/* An int3 at a registered site is the cpuid it replaced: answered by the stub, from the host's
 * answers, without a report (the next event is the guest's syscall). */
Test(systrap_cpuid, a_registered_int3_is_answered_as_cpuid)
{
	/* Leaf 4's second cache level only where the CPU describes caches there (Intel: AMD's
	 * leaf 4 is all zeros, and the table stops at its null first level). */
	uint32_t leaves[][2] = {{0, 0}, {4, 0}, {7, 0}, {0xd, 1}, {0x80000000, 0}, {4, 1}};
	size_t n = ARRAY_SIZE(leaves);
	const uint64_t site = C_SITE;
	struct plat_regs r;
	unsigned a, b, c, d;

	__cpuid_count(4, 0, a, b, c, d);
	if ((a & 0x1f) == 0)
		n--;
	cpuid_guest(true);
	cr_assert_eq(P->as_cpuid_sites(as, &site, 1), 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(run_cpuid(leaves[i][0], leaves[i][1], &r).kind, PLAT_EV_SYSCALL,
			     "leaf %#x.%u", leaves[i][0], leaves[i][1]);
		expect_answer(&r, leaves[i][0], leaves[i][1]);
	}
}

/* Anywhere else an int3 is the application's own (SIGTRAP past it), and a leaf the table lacks
 * (6: power management) is reported to the Sentry, which answers it. */
Test(systrap_cpuid, other_int3s_and_leaves_are_reported)
{
	const uint64_t other = C_SITE + 0x10, site = C_SITE;
	struct plat_regs r;
	struct plat_event ev;

	cpuid_guest(true);
	cr_assert_eq(P->as_cpuid_sites(as, &other, 1), 0);
	ev = run_cpuid(0, 0, &r);
	cr_assert(ev.kind == PLAT_EV_FAULT && ev.signo == SIGTRAP);
	cr_assert_eq(r.regs.rip, C_SITE + 1);
	cr_assert_eq(P->as_cpuid_sites(as, &site, 1), 0);
	ev = run_cpuid(6, 0, &r);
	cr_assert(ev.kind == PLAT_EV_FAULT && ev.signo == SIGTRAP);
	cr_assert_eq(r.regs.rip, C_SITE + 1);
	cr_assert_eq(P->as_cpuid_sites(as, NULL, 0), 0); /* none: the int3 is a trap again */
	ev = run_cpuid(0, 0, &r);
	cr_assert(ev.kind == PLAT_EV_FAULT && ev.signo == SIGTRAP);
}

/* Learning: the thread faults on cpuid; the stub answers each and notes where (once a site),
 * until learning ends, which hands the notes over; then cpuid runs on the CPU again. */
Test(systrap_cpuid, learning_answers_faulting_cpuids_and_notes_them)
{
	uint64_t sites[8];
	size_t n = ARRAY_SIZE(sites);
	struct plat_regs r;

	if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) < 0)
		cr_skip_test("no cpuid faulting on this CPU");
	syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
	cpuid_guest(false);
	cr_assert_eq(P->ctx_cpuid_learn(ctx, true, NULL, NULL), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(run_cpuid(4, (uint32_t)i, &r).kind, PLAT_EV_SYSCALL);
		expect_answer(&r, 4, (uint32_t)i);
	}
	cr_assert_eq(P->ctx_cpuid_learn(ctx, false, sites, &n), 0);
	cr_assert_eq(n, 1, "one site, noted once");
	cr_assert_eq(sites[0], C_SITE);
	/* a leaf the stub has no answer for is reported as the fault it is (and noted) */
	cr_assert_eq(P->ctx_cpuid_learn(ctx, true, NULL, NULL), 0);
	struct plat_event ev = run_cpuid(6, 0, &r);
	cr_assert(ev.kind == PLAT_EV_FAULT && ev.signo == SIGSEGV && r.regs.rip == C_SITE);
	n = ARRAY_SIZE(sites);
	cr_assert_eq(P->ctx_cpuid_learn(ctx, false, sites, &n), 0);
	cr_assert(n == 1 && sites[0] == C_SITE);
	/* off: the next run turns faulting off before the guest runs */
	cr_assert_eq(run_cpuid(6, 0, &r).kind, PLAT_EV_SYSCALL);
	expect_answer(&r, 6, 0);
	n = ARRAY_SIZE(sites);
	cr_assert_eq(P->ctx_cpuid_learn(ctx, false, sites, &n), 0);
	cr_assert_eq(n, 0, "nothing faulted");
}

/* The notes are the application's memory: a count past the ring is clamped, a note anywhere is
 * only a number the Sentry checks (test_mm_cpuid.c), and a thread that turns learning on by
 * itself only makes its own cpuids fault, which are still answered. */
Test(systrap_cpuid, forged_notes_are_clamped)
{
	uint64_t sites[8];
	size_t n = ARRAY_SIZE(sites);
	struct plat_regs r;

	cpuid_guest(false);
	r = regs_at(g_basic);
	r.regs.rip = CODE3 + (uint64_t)(st_c_store32 - st_c_start);
	r.regs.rbx = plat_systrap_ctx_area(ctx) + 88; /* MSG_CPUID_N */
	r.regs.rsi = 0xffffffff;
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1008);
	cr_assert_eq(P->ctx_cpuid_learn(ctx, false, sites, &n), 0);
	cr_assert_eq(n, ARRAY_SIZE(sites), "at most what the caller holds");
	/* the thread asks for faulting itself (MSG_CPUID_WANT): its cpuid is still the host's */
	r = regs_at(g_basic);
	r.regs.rip = CODE3 + (uint64_t)(st_c_store32 - st_c_start);
	r.regs.rbx = plat_systrap_ctx_area(ctx) + 80; /* MSG_CPUID_WANT */
	r.regs.rsi = 1;
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(run_cpuid(4, 1, &r).kind, PLAT_EV_SYSCALL);
		expect_answer(&r, 4, 1);
	}
}
