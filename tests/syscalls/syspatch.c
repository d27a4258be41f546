/* syspatch: `mov $nr,%eax; syscall` sites, which systrap's syscall patching rewrites into jumps to
 * trampolines on their second trap (docs/platforms.md): many threads on fresh and patched sites
 * at once, rcx/r11 after the call, signals (and the FPU state) around patched calls, restarts
 * (SA_RESTART, EINTR, restart_syscall after a stop), fork, threads and execve from patched
 * sites, and a program that rewrites its own code after it was patched. Then the two other
 * kinds of site, in a fresh image (a read site is patched only in a process with one thread
 * that never had a signal frame): `mov $imm,%r32; syscall` with eax set before, called with
 * other numbers once patched, and glibc's read, `xor %eax,%eax; syscall; cmp $-4096,%rax`,
 * whose cmp moves into the trampoline: its flags, errors, threads, fork and signals around it.
 * Natively nothing is patched and everything must hold the same. */
#include "sc.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

/* One site per function: the exact 7 bytes `b8 <nr> 0f 05`, arguments in registers. */
#define SITE3(name, nr)                                                                     \
	static __attribute__((noinline)) long name(long a, long b, long c)                 \
	{                                                                                   \
		long r;                                                                     \
		__asm__ volatile("mov $" #nr ", %%eax\n\tsyscall"                           \
				 : "=a"(r)                                                  \
				 : "D"(a), "S"(b), "d"(c)                                   \
				 : "rcx", "r11", "memory");                                 \
		return r;                                                                   \
	}

SITE3(site_getpid, 39)
SITE3(site_gettid, 186)
SITE3(site_write, 1)
SITE3(site_read, 0)
SITE3(site_nanosleep, 35)
SITE3(site_fork, 57)
SITE3(site_execve, 59)

/* `mov $100,%edi; syscall`, the number in eax from before (ld.so's open has this shape);
 * rdi holds something else until the site's mov. */
static __attribute__((noinline)) long site_reg(long nr, long b)
{
	long r, rdi = -1;

	__asm__ volatile("mov %2, %%rax\n\tmov $100, %%edi\n\tsyscall"
			 : "=&a"(r), "+D"(rdi)
			 : "r"(nr), "S"(b)
			 : "rcx", "r11", "memory");
	return r;
}

/* glibc's read: `xor %eax,%eax; syscall; cmp $-4096,%rax`, then what the flags say. */
static __attribute__((noinline)) long site_xor_read(long fd, long buf, long n, int *above)
{
	long r;
	unsigned char a;

	__asm__ volatile("xor %%eax, %%eax\n\tsyscall\n\tcmp $-4096, %%rax\n\tseta %1"
			 : "=&a"(r), "=q"(a)
			 : "D"(fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory", "cc");
	*above = a;
	return r;
}

/* A site across a page boundary (the mov's immediate on one page, the syscall on the next).
 * An array, not a function: a function's address is assumed aligned. */
extern const char cross_page_site[];
__asm__(".text\n"
	"	.p2align 12\n"
	"	.skip 4093, 0xcc\n"
	"cross_page_site:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	ret\n");

/* Sites first run by many threads at once (twice each: a thread's second trap patches, and
 * races with the others' traps and patches). */
SITE3(fresh0, 39)
SITE3(fresh1, 39)
SITE3(fresh2, 110)
SITE3(fresh3, 110)
SITE3(fresh4, 186)
SITE3(fresh5, 186)
SITE3(fresh6, 39)
SITE3(fresh7, 110)
static long (*const g_fresh[])(long, long, long) = {fresh0, fresh1, fresh2, fresh3,
						      fresh4, fresh5, fresh6, fresh7};

#define NTHREADS 8
static pthread_barrier_t g_barrier;
static int g_null = -1;

static void *hammer(void *arg)
{
	long tid = site_gettid(0, 0, 0);
	char c = 'x';

	CHECK(tid == syscall(SYS_gettid), "gettid through a site");
	for (size_t k = 0; k < sizeof(g_fresh) / sizeof(g_fresh[0]); k++) {
		long want = k == 2 || k == 3 || k == 7 ? getppid() : k == 4 || k == 5 ? tid : getpid();

		pthread_barrier_wait(&g_barrier);
		CHECK(g_fresh[k](0, 0, 0) == want, "fresh site %zu", k);
		CHECK(g_fresh[k](0, 0, 0) == want, "fresh site %zu again", k);
	}
	for (int i = 0; i < 20000; i++) {
		CHECK(site_getpid(0, 0, 0) == sc_main_pid, "getpid through a site");
		CHECK(site_write(g_null, (long)&c, 1) == 1, "write through a site");
	}
	return arg;
}

static void test_threads(void)
{
	pthread_t th[NTHREADS];

	CHECK_OK(g_null = open("/dev/null", O_WRONLY | O_CLOEXEC));
	pthread_barrier_init(&g_barrier, NULL, NTHREADS);
	for (long i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, hammer, (void *)i) == 0, "pthread_create");
	for (long i = 0; i < NTHREADS; i++) {
		void *ret;

		CHECK(pthread_join(th[i], &ret) == 0 && ret == (void *)i, "pthread_join");
	}
	pthread_barrier_destroy(&g_barrier);
	ok("%d threads on fresh and patched sites at once", NTHREADS);
}

/* rcx and r11 after a syscall instruction: rip after it and rflags. */
static void test_rcx_r11(void)
{
	for (int i = 0; i < 3; i++) {
		register long r11 __asm__("r11");
		long rax, rcx, after;

		__asm__ volatile("mov $39, %%eax\n\tsyscall\n1:\n\tlea 1b(%%rip), %2"
				 : "=a"(rax), "=c"(rcx), "=r"(after), "=r"(r11)
				 :
				 : "memory");
		CHECK(rax == sc_main_pid, "getpid");
		CHECK(rcx == after, "rcx is the address after the syscall instruction");
		CHECK((r11 & 0x202) == 0x202 && !(r11 & 0x100), "r11 holds rflags: %#lx", r11);
	}
	ok("rcx and r11 as the syscall instruction leaves them");
}

/* Signals delivered right after patched calls, with a value in xmm0 the handler clobbers. */
static volatile long g_alarms;

static void on_alarm(int sig)
{
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
	g_alarms++;
}

static void test_signals_fpu(void)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 500}, {0, 500}};
	long bad = 0, i = 0, start = now_ms();

	CHECK_OK(sigaction(SIGALRM, &sa, NULL));
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	while ((g_alarms < 50 || i < 20000) && now_ms() - start < 20000) {
		uint64_t in = 0x1234567890abcdefULL ^ (uint64_t)i, out;
		long rax;

		__asm__ volatile("movq %2, %%xmm0\n\t"
				 "mov $39, %%eax\n\tsyscall\n\t"
				 "movq %%xmm0, %1"
				 : "=a"(rax), "=r"(out)
				 : "r"(in)
				 : "rcx", "r11", "xmm0", "memory");
		bad += out != in || rax != sc_main_pid;
		i++;
	}
	memset(&it, 0, sizeof(it));
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	CHECK(g_alarms >= 50, "alarms arrived: %ld", (long)g_alarms);
	CHECK(bad == 0, "%ld calls lost xmm0 or their result", bad);
	ok("signals after patched calls keep the FPU state and the result");
}

/* A blocked patched read: a signal with SA_RESTART restarts it, one without gives EINTR. */
static int g_pipe[2];
static volatile int g_usr1;

static void on_usr1(int sig)
{
	g_usr1++;
}

static void *reader(void *arg)
{
	char buf[4];

	return (void *)site_read(g_pipe[0], (long)buf, sizeof(buf));
}

/* A thread blocked in a read (reader(arg)) gets SIGUSR1 (handled by handler, which counts
 * g_usr1; SA_RESTART or not), then the pipe gets 2 bytes if it restarts; the thread's result. */
static void *interrupt_read(void (*handler)(int), void *(*reader_fn)(void *), void *arg, int wfd,
			    int restart)
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = restart ? SA_RESTART : 0};
	pthread_t th;
	void *ret;

	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	g_usr1 = 0;
	CHECK(pthread_create(&th, NULL, reader_fn, arg) == 0, "pthread_create");
	msleep(50);
	CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
	while (!g_usr1)
		msleep(5);
	msleep(50);
	if (restart)
		CHECK(write(wfd, "ab", 2) == 2, "write");
	CHECK(pthread_join(th, &ret) == 0, "join");
	return ret;
}

static void test_restart(void)
{
	CHECK_OK(pipe(g_pipe));
	for (int restart = 1; restart >= 0; restart--) {
		site_read(-1, 0, 0); /* patch the site first (EBADF; the second trap patches) */
		site_read(-1, 0, 0);
		long ret = (long)interrupt_read(on_usr1, reader, NULL, g_pipe[1], restart);
		CHECK(ret == (restart ? 2 : -EINTR), "read returned %ld", ret);
	}
	ok("a patched read restarts after SA_RESTART and fails with EINTR without");

	/* restart_syscall: a nanosleep stopped and continued goes on with what was left. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		struct timespec ts = {0, 1000000};
		long t0;

		site_nanosleep((long)&ts, 0, 0); /* patched by the second */
		site_nanosleep((long)&ts, 0, 0);
		ts.tv_nsec = 300 * 1000000L;
		t0 = now_ms();
		if (site_nanosleep((long)&ts, 0, 0) != 0 || now_ms() - t0 < 290)
			_exit(1);
		_exit(0);
	}
	msleep(100);
	CHECK_OK(kill(pid, SIGSTOP));
	msleep(50);
	CHECK_OK(kill(pid, SIGCONT));
	expect_exit(pid, 0);
	ok("a patched nanosleep resumes after a stop (restart_syscall)");
}

/* A signal to a thread asleep in a patched read: its handler starts with a clean FPU state
 * (which the platform may hand over without stopping the thread), and the thread's own state
 * (xmm0, xmm8, MXCSR) is back after the handler and the restarted read. */
#define FP_OLD 0xdeadbeeffacefeedULL
static volatile uint64_t g_h_xmm0;
static volatile uint32_t g_h_mxcsr;

static void on_usr1_fp(int sig)
{
	uint64_t v;
	uint32_t mx;

	__asm__ volatile("movq %%xmm0, %0\n\tstmxcsr %1" : "=r"(v), "=m"(mx));
	g_h_xmm0 = v;
	g_h_mxcsr = mx;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm8, %%xmm8\n\tldmxcsr %0"
			 :
			 : "m"(*(uint32_t[]){0x7f80})
			 : "xmm0", "xmm8");
	g_usr1++;
}

static void *fp_reader(void *arg)
{
	static uint64_t got[3];
	uint32_t mx_in = 0x3f80, mx_out = 0;
	char buf[4];

	for (int i = 0; i < 3; i++) { /* EBADF twice: the site is patched; then it blocks */
		long fd = i < 2 ? -1 : g_pipe[0], r;

		__asm__ volatile("ldmxcsr %[mxi]\n\t"
				 "movq %[old], %%xmm0\n\t"
				 "movq %[old], %%xmm8\n\t"
				 "mov $0, %%eax\n\t"
				 "syscall\n\t"
				 "movq %%xmm0, %[g0]\n\t"
				 "movq %%xmm8, %[g8]\n\t"
				 "stmxcsr %[mxo]"
				 : "=&a"(r), [g0] "=m"(got[0]), [g8] "=m"(got[1]), [mxo] "=m"(mx_out)
				 : [mxi] "m"(mx_in), [old] "r"(FP_OLD), "D"(fd), "S"(buf), "d"(2L)
				 : "rcx", "r11", "xmm0", "xmm8", "memory");
		got[2] = (uint64_t)r;
		uint32_t dflt = 0x1f80;
		__asm__ volatile("ldmxcsr %0" ::"m"(dflt));
		if (got[0] != FP_OLD || got[1] != FP_OLD || mx_out != mx_in)
			return (void *)1;
	}
	return got[2] == 2 ? NULL : (void *)2;
}

static void test_signal_fpu_asleep(void)
{
	CHECK_OK(pipe(g_pipe));
	void *ret = interrupt_read(on_usr1_fp, fp_reader, NULL, g_pipe[1], 1);
	CHECK(g_h_xmm0 == 0 && g_h_mxcsr == 0x1f80,
	      "the handler starts with a clean FPU state: xmm0 %#lx, MXCSR %#x",
	      (unsigned long)g_h_xmm0, (unsigned)g_h_mxcsr);
	CHECK(ret == NULL, "the read's xmm0, xmm8, MXCSR and result after the handler (%ld)",
	      (long)ret);
	CHECK(close(g_pipe[0]) == 0 && close(g_pipe[1]) == 0, "close");
	ok("a signal to a thread asleep in a patched read: clean FPU in the handler, state back after");
}

/* fork and execve from patched sites. */
static void test_fork_exec(char *self)
{
	for (int round = 0; round < 3; round++) { /* the third fork is from a patched site */
		long pid = site_fork(0, 0, 0);

		if (pid == 0) {
			if (site_getpid(0, 0, 0) != getpid() || site_gettid(0, 0, 0) != getpid())
				_exit(1);
			_exit(0);
		}
		CHECK(pid > 0, "fork: %ld", pid);
		expect_exit((pid_t)pid, 0);
	}
	ok("fork through a site, fresh and patched");
	for (int round = 0; round < 2; round++) {
		pid_t pid = sc_fork();

		if (pid == 0) {
			char *argv[] = {self, "child", NULL}, *envp[] = {NULL};

			for (int i = 0; i < 2 * round; i++) /* patch (ENOENT) */
				site_execve((long)"/nonexistent", (long)argv, (long)envp);
			site_execve((long)self, (long)argv, (long)envp);
			_exit(2);
		}
		expect_exit(pid, 0);
	}
	ok("execve through a site, fresh and patched");
}

/* The program rewrites a site of its own after it ran (and was patched): what it wrote runs. */
extern const uint8_t rw_site[];
static __attribute__((noinline)) long call_rw_site(void)
{
	long r;

	__asm__ volatile(".globl rw_site\nrw_site:\n\tmov $39, %%eax\n\tsyscall"
			 : "=a"(r)
			 :
			 : "rcx", "r11", "memory");
	return r;
}

static void test_cross_page(void)
{
	CHECK(((uintptr_t)cross_page_site & 4095) == 4093, "the site spans two pages");
	long (*fn)(void) = (long (*)(void))(uintptr_t)cross_page_site;

	for (int i = 0; i < 100; i++)
		CHECK(fn() == getpid(), "getpid through a site across two pages");
	ok("a site across a page boundary, fresh and patched");
}

static void test_self_modify(void)
{
	static const uint8_t getpid_code[7] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05};
	static const uint8_t getppid_code[7] = {0xb8, 110, 0, 0, 0, 0x0f, 0x05};
	uintptr_t page = (uintptr_t)rw_site & ~(uintptr_t)4095;
	uint8_t now[7];

	for (int i = 0; i < 3; i++)
		CHECK(call_rw_site() == getpid(), "getpid");
	/* What reads back is the program's code, or (patched) a jump: nothing else. */
	memcpy(now, rw_site, sizeof(now));
	CHECK(!memcmp(now, getpid_code, 7) || (now[0] == 0xff && now[1] == 0x24 && now[2] == 0x25),
	      "the site reads back as itself or as a patched jump");
	CHECK_OK(mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC));
	memcpy((void *)rw_site, getppid_code, 7);
	CHECK(!memcmp(rw_site, getppid_code, 7), "reads back what was written");
	for (int i = 0; i < 3; i++)
		CHECK(call_rw_site() == getppid(), "the rewritten site makes getppid");
	memcpy((void *)rw_site, getpid_code, 7);
	for (int i = 0; i < 3; i++)
		CHECK(call_rw_site() == getpid(), "and getpid again once restored");
	CHECK_OK(mprotect((void *)page, 8192, PROT_READ | PROT_EXEC));
	CHECK(call_rw_site() == getpid(), "getpid after mprotect back");
	ok("a site rewritten by the program after it ran runs what was written");
}

/* Signals sent to a thread busy with patched calls, which then spins without a syscall until
 * the handler ran: a signal the platform lost on the way back from a patched call would leave it
 * spinning (and the sandbox would end it). */
static volatile int g_phase, g_got;
static volatile long g_rounds_done;
static pthread_t g_busy;

static void on_usr2(int sig)
{
	g_got = 1;
}

static void *busy(void *arg)
{
	for (long round = 0; round < 3000; round++) {
		__atomic_store_n(&g_phase, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 20; i++)
			CHECK(site_getpid(0, 0, 0) == sc_main_pid, "getpid");
		for (long spin = 0; !g_got; spin++)
			if (spin > (1L << 34))
				return (void *)round; /* lost (natively this cannot happen) */
		g_got = 0;
		__atomic_store_n(&g_phase, 0, __ATOMIC_SEQ_CST);
		g_rounds_done = round + 1;
	}
	return NULL;
}

static void test_interrupts(void)
{
	struct sigaction sa = {.sa_handler = on_usr2};
	void *ret;

	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	CHECK(pthread_create(&g_busy, NULL, busy, NULL) == 0, "pthread_create");
	for (long round = 0; round < 3000; round++) {
		while (__atomic_load_n(&g_phase, __ATOMIC_SEQ_CST) != 1 || g_rounds_done != round)
			sched_yield();
		for (volatile int d = 0; d < (int)(round % 7) * 50; d++)
			;
		CHECK(pthread_kill(g_busy, SIGUSR2) == 0, "pthread_kill");
		while (g_rounds_done == round)
			sched_yield();
	}
	CHECK(pthread_join(g_busy, &ret) == 0 && ret == NULL, "round %ld lost its signal",
	      (long)ret);
	ok("signals to a thread between patched calls all arrive");
}

/* A thread with a gs_base of its own: patched sites still work (on systrap they trap). */
static void *with_gs(void *arg)
{
	static uint64_t block[512];
	const uint64_t bases[] = {(uint64_t)block, 0x1000 /* unmapped */, 0};

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint64_t got = 1;

		CHECK_OK(syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, bases[i]));
		for (int k = 0; k < 100; k++)
			CHECK(site_getpid(0, 0, 0) == sc_main_pid, "getpid with gs_base %#lx",
			      (unsigned long)bases[i]);
		CHECK_OK(syscall(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &got));
		CHECK(got == bases[i], "ARCH_GET_GS %#lx", (unsigned long)got);
	}
	return arg;
}

static void test_gs(void)
{
	pthread_t th;

	site_getpid(0, 0, 0);
	CHECK(pthread_create(&th, NULL, with_gs, NULL) == 0, "pthread_create");
	CHECK(pthread_join(th, NULL) == 0, "pthread_join");
	ok("patched sites with a gs_base of the program's own, and back to 0");
}

/* Reads through the read site: data, EOF, and errors with the flags the cmp sets. */
static void xor_reads(int fd_r, int fd_w, const char *what)
{
	char buf[8];
	int above;

	for (int i = 0; i < 4; i++) {
		CHECK(write(fd_w, "abc", 3) == 3, "write");
		CHECK(site_xor_read(fd_r, (long)buf, sizeof(buf), &above) == 3 && !above &&
			  !memcmp(buf, "abc", 3),
		      "%s: read 3 bytes", what);
		CHECK(site_xor_read(-1, (long)buf, 1, &above) == -EBADF && above,
		      "%s: EBADF, and the cmp's flags say so", what);
	}
}

static void *xor_reader(void *arg)
{
	int *p = arg, above;
	char buf[4];
	long n = site_xor_read(p[0], (long)buf, sizeof(buf), &above);

	return (void *)(long)(n == 2 ? 0 : n == -EINTR && above ? 1 : 2);
}

/* The other kinds of site, in a fresh image (main, "sites"). */
static int test_other_sites(void)
{
	int p[2], fd, above;
	pthread_t th;
	void *ret;

	/* mov $imm,%r32: fd 100 is close-on-exec, and only the site's mov puts 100 in edi. */
	CHECK_OK(fd = open("/dev/null", O_RDONLY));
	CHECK(dup3(fd, 100, O_CLOEXEC) == 100, "dup3");
	for (int i = 0; i < 4; i++) { /* patched by the second fcntl: the others differ */
		CHECK(site_reg(SYS_fcntl, F_GETFD) == FD_CLOEXEC, "fcntl(100) through the site");
		CHECK(site_reg(SYS_fcntl, F_GETFD) == FD_CLOEXEC, "fcntl(100) through the site");
		CHECK(site_reg(SYS_getpid, 0) == getpid(), "another number through the site");
		CHECK(site_reg(SYS_gettid, 0) == getpid(), "and a third");
	}
	ok("mov $imm,%%edi; syscall sites, with the number from before, fresh and patched");

	CHECK_OK(pipe(p));
	xor_reads(p[0], p[1], "fresh and patched");
	CHECK(close(p[1]) == 0 && site_xor_read(p[0], (long)&fd, 1, &above) == 0 && !above,
	      "EOF");
	CHECK_OK(close(p[0]));
	CHECK_OK(pipe(p));
	CHECK(pthread_create(&th, NULL, xor_reader, p) == 0, "pthread_create");
	CHECK(write(p[1], "xy", 2) == 2, "write");
	CHECK(pthread_join(th, &ret) == 0 && ret == 0, "a thread's read through the site");
	xor_reads(p[0], p[1], "after a thread");
	pid_t pid = sc_fork();
	if (pid == 0) {
		xor_reads(p[0], p[1], "in a forked child");
		_exit(0);
	}
	expect_exit(pid, 0);
	/* A read blocked in the site: a signal restarts it (SA_RESTART) or ends it (EINTR). */
	for (int restart = 1; restart >= 0; restart--) {
		long ret = (long)interrupt_read(on_usr1, xor_reader, p, p[1], restart);
		CHECK(ret == !restart, "the blocked read returned as it should (%ld)", ret);
	}
	xor_reads(p[0], p[1], "after signals");
	ok("xor %%eax,%%eax; syscall; cmp reads: data, errors, EOF, threads, fork, restarts");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child"))
		return site_getpid(0, 0, 0) == getpid() && site_gettid(0, 0, 0) == getpid() ? 0 : 1;
	if (argc > 1 && !strcmp(argv[1], "sites"))
		return test_other_sites();
	test_rcx_r11();
	test_threads();
	test_signals_fpu();
	test_interrupts();
	test_restart();
	test_signal_fpu_asleep();
	test_fork_exec(argv[0]);
	test_self_modify();
	test_cross_page();
	test_gs();
	pid_t pid = sc_fork();
	if (pid == 0) {
		char *av[] = {argv[0], "sites", NULL}, *envp[] = {NULL};

		execve(argv[0], av, envp);
		_exit(2);
	}
	expect_exit(pid, 0);
	int p[2];
	CHECK_OK(pipe(p));
	xor_reads(p[0], p[1], "in a process that had signals"); /* (not patched: it trapped) */
	ok("read sites in a process that had signal frames");
	return 0;
}
