/* Shared by the platforms' unit tests: small machine-code guests, a memory file, and an address
 * space with code, stack and data mapped (set up per test), for the backend the including file
 * names. Before including it, define:
 *   PT_PLATFORM       the backend's name ("ptrace")
 *   PT_AS_PID(as)     its test hook: the host pid of the stub behind as
 *   PT_CTX_TID(ctx)   its test hook: the host tid of ctx's stub thread
 *   PT_STUB_FDS       how many fds a stub holds
 *   PT_EXTRA_THREADS  stub threads beyond one per context (ptrace 0, systrap its control thread)
 *   PT_STRICT_AS_OPS  1 when as_map & co. refuse threads that own no context in the address
 *                     space (-EPERM, ptrace), 0 when any thread may call them
 *   PT_DEFERRED_AS_OPS 1 when a one-context address space's owner's mapping changes apply at its
 *                     next run (systrap: a host failure then ends the stub), 0 when at once
 * platform_cases.h and platform_mt_cases.h hold the tests every backend passes. */
#ifndef TESTS_UNIT_PLATFORM_TEST_H
#define TESTS_UNIT_PLATFORM_TEST_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"

#ifndef PT_PLATFORM
#error "define PT_PLATFORM and the other PT_ macros before including platform_test.h"
#endif

/* The guests, assembled into the test binary and copied to the first page of the memory file. */
__asm__(".pushsection .rodata\n"
	".globl g_start, g_basic, g_basic_ud2, g_load, g_store, g_spin, g_vsys, g_fs\n"
	".globl g_int3, g_int3_after, g_loop, g_int80, g_int80_after, g_xmm, g_wait_eq\n"
	".globl g_ymm, g_end\n"
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
	"g_xmm:\n" /* the syscall number is xmm0's low quadword */
	"	movq %xmm0, %rax\n"
	"	syscall\n"
	"	ud2\n"
	"g_ymm:\n" /* rdi = ymm0 bits 128..191; xmm0 = rsi; syscall 1004 */
	"	vextracti128 $1, %ymm0, %xmm1\n"
	"	movq %xmm1, %rdi\n"
	"	vmovq %rsi, %xmm0\n" /* VEX: zeroes the upper half */
	"	mov $1004, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"g_wait_eq:\n" /* spin until *rbx == rsi; syscall 1005 */
	"	mov (%rbx), %rdi\n"
	"	cmp %rsi, %rdi\n"
	"	jne g_wait_eq\n"
	"	mov $1005, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"g_end:\n"
	".globl g_basic_after, g_vsys_ret\n"
	".popsection\n");
extern const unsigned char g_start[], g_basic[], g_basic_after[], g_basic_ud2[], g_load[],
	g_store[], g_spin[], g_vsys[], g_vsys_ret[], g_fs[], g_int3[], g_int3_after[], g_loop[],
	g_int80[], g_int80_after[], g_xmm[], g_ymm[], g_wait_eq[], g_end[];

#define PG 4096UL
#define CODE 0x400000UL   /* memory file page 0 */
#define STACK 0x7000000UL /* page 1 */
#define DATA 0x800000UL   /* page 2 */
#define DATA2 0x900000UL  /* page 3, not mapped by setup */
#define MEM_PAGES 8

static const struct platform *P;
static int memfd = -1;
static unsigned char *mem;
static struct plat_as *as;
static struct plat_ctx *ctx;

static inline uint64_t at(const unsigned char *label)
{
	return CODE + (uint64_t)(label - g_start);
}

static inline struct plat_regs regs_at(const unsigned char *label)
{
	struct plat_regs r = {0};

	r.regs.rip = at(label);
	r.regs.rsp = STACK + PG;
	r.regs.eflags = 0x202;
	return r;
}

/* Run ctx in as (from the calling thread) until an event; the run must succeed. */
static inline struct plat_event run_ctx(struct plat_ctx *c, struct plat_regs *r)
{
	struct plat_event ev;
	int e = P->ctx_run(c, as, r, &ev);

	cr_assert_eq(e, 0, "ctx_run: %s", strerror(-e));
	return ev;
}

static inline struct plat_event run(struct plat_regs *r)
{
	return run_ctx(ctx, r);
}

/* Map code, stack and data into a (from the calling thread). */
static inline void map_basics(struct plat_as *a)
{
	cr_assert_eq(P->as_map(a, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0),
		     0);
	cr_assert_eq(P->as_map(a, STACK, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE,
			       PG),
		     0);
	cr_assert_eq(P->as_map(a, DATA, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE,
			       2 * PG),
		     0);
}

static inline void setup(void)
{
	P = platform_lookup(PT_PLATFORM);
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
	map_basics(as);
	ctx = P->ctx_create(as);
	cr_assert_not_null(ctx);
}

static inline void teardown(void)
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

static inline void msleep(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Number of threads of host process pid. */
static inline int thread_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The thread count of pid once it settles at want (a stub thread told to exit may take a moment
 * to go), or whatever it is after a second. */
static inline int wait_thread_count(pid_t pid, int want)
{
	int n = thread_count(pid);

	for (int i = 0; i < 200 && n != want; i++) {
		msleep(5);
		n = thread_count(pid);
	}
	return n;
}

#ifdef PT_STUB_MASTER
pid_t stub_master_pid(void);
pid_t stub_master_spare_pid(void);

/* A child of this process that is neither the stub master nor the stub it made ahead, or 0. */
static inline pid_t stray_child(void)
{
	char path[300], buf[4096];
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t stray = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
			if (atoi(tok) != stub_master_pid() && atoi(tok) != stub_master_spare_pid())
				stray = atoi(tok);
	}
	closedir(d);
	return stray;
}

/* The stub master stays, a child of the process that started it, and so does the stub it made
 * ahead (it may be in the making for a moment): no other child may. */
static inline void assert_no_children(void)
{
	pid_t stray;

#ifdef PT_QUIESCE
	PT_QUIESCE(); /* stubs a backend made ahead of need are its children too */
#endif
	stray = stray_child();
	for (int i = 0; i < 100 && stray; i++) {
		msleep(10);
		stray = stray_child();
	}
	cr_assert_eq(stray, 0, "a child left: %d", stray);
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, __WALL | WNOHANG), 0, "nothing to reap");
}
#else
static inline void assert_no_children(void)
{
#ifdef PT_QUIESCE
	PT_QUIESCE(); /* stubs a backend made ahead of need are its children too */
#endif
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, __WALL | WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}
#endif

#endif
