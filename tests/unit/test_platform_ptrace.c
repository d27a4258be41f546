/* Unit tests for the ptrace platform: small machine-code guests run in a stub. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"

/* Test hook of the ptrace backend (platform/ptrace/ptrace.h). */
pid_t plat_ptrace_as_pid(const struct plat_as *as);

/* The guests, assembled into this binary and copied to the first page of the memory file. */
__asm__(".pushsection .rodata\n"
	".globl g_start, g_basic, g_basic_ud2, g_load, g_store, g_spin, g_vsys, g_fs\n"
	".globl g_int3, g_int3_after, g_loop, g_int80, g_int80_after, g_end\n"
	"g_start:\n"
	"g_basic:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"g_basic_after:\n"
	"	mov %rax, %rdi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"g_basic_ud2:\n"
	"	ud2\n"
	"g_load:\n" /* rdi = *rbx; syscall 1000 */
	"	mov (%rbx), %rdi\n"
	"	mov $1000, %eax\n"
	"	syscall\n"
	"	jmp g_load\n"
	"g_store:\n" /* *rbx = rsi; syscall 1001 */
	"	mov %rsi, (%rbx)\n"
	"	mov $1001, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"g_spin:\n"
	"	jmp g_spin\n"
	"g_vsys:\n" /* time(NULL) through the vsyscall page, then syscall 1002 with its result */
	"	xor %edi, %edi\n"
	"	mov $0xffffffffff600400, %rax\n"
	"	call *%rax\n"
	"g_vsys_ret:\n"
	"	mov %rax, %rdi\n"
	"	mov $1002, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"g_fs:\n" /* rdi = %fs:0; syscall 1003 */
	"	mov %fs:0, %rdi\n"
	"	mov $1003, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"g_int3:\n"
	"	int3\n"
	"g_int3_after:\n"
	"	ud2\n"
	"g_loop:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	jmp g_loop\n"
	"g_int80:\n" /* i386 getpid */
	"	mov $20, %eax\n"
	"	int $0x80\n"
	"g_int80_after:\n"
	"	ud2\n"
	"g_end:\n"
	".globl g_basic_after, g_vsys_ret\n"
	".popsection\n");
extern const unsigned char g_start[], g_basic[], g_basic_after[], g_basic_ud2[], g_load[],
	g_store[], g_spin[], g_vsys[], g_vsys_ret[], g_fs[], g_int3[], g_int3_after[], g_loop[],
	g_int80[], g_int80_after[], g_end[];

#define PG 4096UL
#define CODE 0x400000UL  /* memory file page 0 */
#define STACK 0x7000000UL /* page 1 */
#define DATA 0x800000UL  /* page 2 */
#define MEM_PAGES 8

static const struct platform *P;
static int memfd = -1;
static unsigned char *mem;
static struct plat_as *as;
static struct plat_ctx *ctx;

static uint64_t at(const unsigned char *label)
{
	return CODE + (uint64_t)(label - g_start);
}

static struct plat_regs regs_at(const unsigned char *label)
{
	struct plat_regs r = {0};

	r.regs.rip = at(label);
	r.regs.rsp = STACK + PG;
	r.regs.eflags = 0x202;
	return r;
}

static struct plat_event run(struct plat_regs *r)
{
	struct plat_event ev;
	int e = P->ctx_run(ctx, as, r, &ev);

	cr_assert_eq(e, 0, "ctx_run: %s", strerror(-e));
	return ev;
}

static void setup(void)
{
	P = platform_lookup("ptrace");
	cr_assert_not_null(P);
	memfd = memfd_create("test-memfile", MFD_CLOEXEC);
	cr_assert_geq(memfd, 0);
	cr_assert_eq(ftruncate(memfd, MEM_PAGES * PG), 0);
	mem = mmap(NULL, MEM_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	cr_assert_neq(mem, MAP_FAILED);
	cr_assert_leq((size_t)(g_end - g_start), PG);
	memcpy(mem, g_start, (size_t)(g_end - g_start));

	cr_assert_eq(P->init(memfd), 0);
	cr_assert_eq(P->max_user_addr, 0x7e0000000000ULL);
	as = P->as_create();
	cr_assert_not_null(as, "as_create: %s", strerror(errno));
	cr_assert_eq(P->as_map(as, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0),
		     0);
	cr_assert_eq(P->as_map(as, STACK, PG, LINUX_PROT_READ | LINUX_PROT_WRITE,
			       PLAT_FD_MEMFILE, PG),
		     0);
	cr_assert_eq(P->as_map(as, DATA, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE,
			       2 * PG),
		     0);
	ctx = P->ctx_create(as);
	cr_assert_not_null(ctx);
}

static void teardown(void)
{
	if (ctx)
		P->ctx_release(ctx);
	if (as)
		P->as_release(as);
	ctx = NULL;
	as = NULL;
	munmap(mem, MEM_PAGES * PG);
	close(memfd);
}

static void assert_no_children(void)
{
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, __WALL | WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

TestSuite(platform_ptrace, .init = setup, .fini = teardown, .timeout = 30);

Test(platform_ptrace, syscall_exit_and_ud2)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_not(ev.syscall32);
	cr_assert_eq(r.regs.rip, at(g_basic_after), "rip is past the syscall instruction");
	cr_assert_eq(r.regs.cs, 0x33);
	r.regs.rax = 1234;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 60);
	cr_assert_eq(r.regs.rdi, 1234);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGILL);
	cr_assert_eq(ev.si_code, ILL_ILLOPN);
	cr_assert_eq(ev.fault_addr, at(g_basic_ud2));
	cr_assert_eq(r.regs.rip, at(g_basic_ud2));
	/* Faulting again: the signal was not delivered to the stub, which is still there. */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGILL);
}

Test(platform_ptrace, load_from_unmapped_address)
{
	struct plat_regs r = regs_at(g_load);
	struct plat_event ev;

	r.regs.rbx = 0x600000;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_MAPERR);
	cr_assert_eq(ev.fault_addr, 0x600000);
	cr_assert_eq(r.regs.rip, at(g_load));
}

Test(platform_ptrace, unmapped_code_faults)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(P->as_unmap(as, CODE, PG), 0);
	cr_assert_eq(P->as_unmap(as, CODE, PG), 0, "unmapping nothing is fine");
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_MAPERR);
	cr_assert_eq(ev.fault_addr, at(g_basic_after));
	/* Map it back: it runs on from where it was. */
	cr_assert_eq(P->as_map(as, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0),
		     0);
	r.regs.rax = 7;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 60);
	cr_assert_eq(r.regs.rdi, 7);
}

Test(platform_ptrace, protect_none_then_read)
{
	struct plat_regs r = regs_at(g_load);
	struct plat_event ev;

	*(uint64_t *)(mem + 2 * PG) = 0xdeadbeefcafeULL; /* written by the test, read by the guest */
	r.regs.rbx = DATA;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1000);
	cr_assert_eq(r.regs.rdi, 0xdeadbeefcafeULL);

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_NONE), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_ACCERR);
	cr_assert_eq(ev.fault_addr, DATA);
	cr_assert_eq(r.regs.rip, at(g_load));

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.rdi, 0xdeadbeefcafeULL);
}

Test(platform_ptrace, memory_file_is_shared)
{
	struct plat_regs r = regs_at(g_store);
	struct plat_event ev;

	r.regs.rbx = DATA + 8;
	r.regs.rsi = 0x1122334455667788ULL;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1001);
	cr_assert_eq(*(volatile uint64_t *)(mem + 2 * PG + 8), 0x1122334455667788ULL);
}

Test(platform_ptrace, write_to_read_only_page_faults)
{
	struct plat_regs r = regs_at(g_store);
	struct plat_event ev;

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
	r.regs.rbx = DATA + 16;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_ACCERR);
	cr_assert_eq(ev.fault_addr, DATA + 16);
}

Test(platform_ptrace, int3_is_a_fault)
{
	struct plat_regs r = regs_at(g_int3);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGTRAP);
	cr_assert_eq(r.regs.rip, at(g_int3_after));
}

Test(platform_ptrace, vsyscall_is_trapped_as_a_syscall)
{
	struct plat_regs r = regs_at(g_vsys);
	struct plat_event ev = run(&r);

	/* Without the stub's seccomp filter the host would have run time() itself. */
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 201 /* time */);
	cr_assert_eq(r.regs.rdi, 0);
	cr_assert_eq(r.regs.rip, at(g_vsys_ret), "the kernel emulated the ret");
	cr_assert_eq(r.regs.rsp, STACK + PG);
	cr_assert_not(ev.syscall32);
	r.regs.rax = 42;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1002);
	cr_assert_eq(r.regs.rdi, 42);
}

Test(platform_ptrace, int80_is_a_32bit_syscall)
{
	struct plat_regs r = regs_at(g_int80);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert(ev.syscall32);
	cr_assert_eq(r.regs.orig_rax, 20);
	cr_assert_eq(r.regs.rip, at(g_int80_after));
}

Test(platform_ptrace, fs_base_passes_through)
{
	struct plat_regs r = regs_at(g_fs);
	struct plat_event ev;

	*(uint64_t *)(mem + 2 * PG + 64) = 0x5eed;
	r.regs.fs_base = DATA + 64;
	r.regs.fs = 0x1234; /* garbage selectors are sanitised */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1003);
	cr_assert_eq(r.regs.rdi, 0x5eed);
	cr_assert_eq(r.regs.fs_base, DATA + 64);
}

Test(platform_ptrace, registers_are_sanitised)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	r.regs.cs = 0x23; /* 32-bit code segment */
	r.regs.ss = 0;
	r.regs.ds = r.regs.es = r.regs.gs = 0x1234;
	r.regs.eflags = 0xffffffffULL & ~0x100ULL; /* everything but TF */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_eq(r.regs.cs, 0x33);
	cr_assert_eq(r.regs.ss, 0x2b);
	cr_assert_eq(r.regs.eflags & 0x3000, 0, "IOPL stays 0");
	cr_assert_not(ev.syscall32);

	/* A base the kernel refuses is an error, and the stub survives it. */
	r = regs_at(g_basic);
	r.regs.fs_base = 0xffff800000000000ULL;
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -EINVAL);
	r = regs_at(g_basic);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
}

Test(platform_ptrace, map_argument_checks)
{
	int rw = LINUX_PROT_READ | LINUX_PROT_WRITE;

	cr_assert_eq(P->as_map(as, CODE + 1, PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, 100, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, PG, rw, PLAT_FD_MEMFILE, 5), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, 0, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, P->max_user_addr, PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, P->max_user_addr - PG, 2 * PG, rw, PLAT_FD_MEMFILE, 0),
		     -EINVAL);
	cr_assert_eq(P->as_map(as, -PG, 2 * PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, PG, 0x10, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, PG, LINUX_PROT_READ, 5, 0), -ENOSYS);
	cr_assert_eq(P->as_unmap(as, P->max_user_addr, PG), -EINVAL, "the stub cannot be unmapped");
	cr_assert_eq(P->as_protect(as, P->max_user_addr, PG, rw), -EINVAL);
	cr_assert_eq(P->as_protect(as, 0x600000, PG, rw), -ENOMEM, "nothing mapped there");
	/* The highest page the application may have. */
	cr_assert_eq(P->as_map(as, P->max_user_addr - PG, PG, rw, PLAT_FD_MEMFILE, 3 * PG), 0);
}

/* The stub's address space: only what the test mapped, the stub page and [vsyscall]. */
Test(platform_ptrace, stub_holds_nothing_else)
{
	char path[64], line[512];
	pid_t pid = plat_ptrace_as_pid(as);
	int n = 0, fds = 0;
	FILE *f;

	cr_assert_gt(pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		cr_assert_eq(sscanf(line, "%lx-%lx", &lo, &hi), 2);
		cr_assert(lo == CODE || lo == STACK || lo == DATA || lo == 0x7e0000000000UL ||
				  strstr(line, "[vsyscall]"),
			  "unexpected mapping in the stub: %s", line);
		n++;
	}
	fclose(f);
	cr_assert_eq(n, 5);

	snprintf(path, sizeof(path), "/proc/%d/fd/0", pid);
	cr_assert_gt(readlink(path, line, sizeof(line)), 0);
	for (int fd = 0; fd < 64; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		if (access(path, F_OK) == 0)
			fds++;
	}
	cr_assert_eq(fds, 1, "the stub holds only the memory file");
}

struct interrupter {
	int delay_ms;
};

static void *interrupt_later(void *arg)
{
	struct interrupter *i = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = i->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	P->ctx_interrupt(ctx);
	return NULL;
}

Test(platform_ptrace, interrupt_from_another_thread)
{
	struct interrupter i = {.delay_ms = 100};
	struct plat_regs r = regs_at(g_spin);
	struct plat_event ev;
	pthread_t th;

	/* Before running: the next ctx_run returns at once, without running. */
	P->ctx_interrupt(ctx);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_INTERRUPT);
	cr_assert_eq(r.regs.rip, at(g_spin));

	/* While running. */
	cr_assert_eq(pthread_create(&th, NULL, interrupt_later, &i), 0);
	ev = run(&r);
	pthread_join(th, NULL);
	cr_assert_eq(ev.kind, PLAT_EV_INTERRUPT);
	cr_assert_eq(r.regs.rip, at(g_spin));

	/* Nothing left over. */
	r = regs_at(g_basic);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
}

Test(platform_ptrace, host_signals_are_swallowed)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(kill(plat_ptrace_as_pid(as), SIGUSR1), 0);
	cr_assert_eq(kill(plat_ptrace_as_pid(as), SIGSEGV), 0); /* sent, not a fault */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	/* Also while injecting a syscall. */
	cr_assert_eq(kill(plat_ptrace_as_pid(as), SIGUSR2), 0);
	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
}

struct other_thread {
	int run, map;
};

static void *use_from_other_thread(void *arg)
{
	struct other_thread *o = arg;
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	o->run = P->ctx_run(ctx, as, &r, &ev);
	o->map = P->as_unmap(as, DATA, PG);
	return NULL;
}

Test(platform_ptrace, only_the_tracer_thread_may_drive_it)
{
	struct other_thread o;
	struct plat_regs r = regs_at(g_basic);
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, use_from_other_thread, &o), 0);
	pthread_join(th, NULL);
	cr_assert_eq(o.run, -EPERM);
	cr_assert_eq(o.map, -EPERM);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
}

Test(platform_ptrace, stub_death_is_reported)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(kill(plat_ptrace_as_pid(as), SIGKILL), 0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	cr_assert_eq(P->as_map(as, DATA, PG, LINUX_PROT_READ, PLAT_FD_MEMFILE, 0), -ESRCH);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

Test(platform_ptrace, release_leaves_no_child)
{
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
	for (int i = 0; i < 20; i++) {
		struct plat_as *a = P->as_create();

		cr_assert_not_null(a);
		P->as_release(a);
	}
	assert_no_children();
}

static void *release_elsewhere(void *arg)
{
	P->as_release(arg);
	return NULL;
}

Test(platform_ptrace, release_from_another_thread)
{
	pthread_t th;

	P->ctx_release(ctx);
	ctx = NULL;
	cr_assert_eq(pthread_create(&th, NULL, release_elsewhere, as), 0);
	pthread_join(th, NULL);
	as = NULL;
	assert_no_children();
}

Test(platform_ptrace, syscall_round_trip_time)
{
	struct plat_regs r = regs_at(g_loop);
	struct timespec t0, t1;
	const int n = 2000;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct plat_event ev = run(&r);

		cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
		r.regs.rax = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "ptrace: %.1f us per syscall round trip\n",
		((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n /
			1e3);
}
