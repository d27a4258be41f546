/* cpuid: what the CPU answers, and what a program's start-up works out from it. On systrap the
 * cpuids of a start-up (the dynamic loader's: CPU features, cache sizes) are learned at a file's
 * second exec in a sandbox and rewritten into int3 in later ones, whose stubs answer them
 * (docs/platforms.md, "cpuid"): the program exec'd again and again must work out the same as its
 * first run, natively too. And an int3 of the program's own, followed by the byte a cpuid's
 * would be (a2), stays the SIGTRAP it is, before and after the loader's were rewritten. */
#include "sc.h"

#include <cpuid.h>
#include <stdint.h>
#include <string.h>
#include <sys/platform/x86.h>
#include <ucontext.h>
#include <unistd.h>

/* What the start-up worked out from cpuid (glibc keeps the loader's findings), as one line. */
static void startup_line(char *buf, size_t n)
{
	snprintf(buf, n,
		 "L1d %ld/%ld/%ld L1i %ld/%ld L2 %ld/%ld/%ld L3 %ld/%ld/%ld L4 %ld "
		 "sse4.2 %d avx %d avx2 %d avx512f %d erms %d fsrm %d xsave %d rtm %d",
		 sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL1_DCACHE_ASSOC),
		 sysconf(_SC_LEVEL1_DCACHE_LINESIZE), sysconf(_SC_LEVEL1_ICACHE_SIZE),
		 sysconf(_SC_LEVEL1_ICACHE_LINESIZE), sysconf(_SC_LEVEL2_CACHE_SIZE),
		 sysconf(_SC_LEVEL2_CACHE_ASSOC), sysconf(_SC_LEVEL2_CACHE_LINESIZE),
		 sysconf(_SC_LEVEL3_CACHE_SIZE), sysconf(_SC_LEVEL3_CACHE_ASSOC),
		 sysconf(_SC_LEVEL3_CACHE_LINESIZE), sysconf(_SC_LEVEL4_CACHE_SIZE),
		 CPU_FEATURE_ACTIVE(SSE4_2), CPU_FEATURE_ACTIVE(AVX), CPU_FEATURE_ACTIVE(AVX2),
		 CPU_FEATURE_ACTIVE(AVX512F), CPU_FEATURE_ACTIVE(ERMS), CPU_FEATURE_ACTIVE(FSRM),
		 CPU_FEATURE_ACTIVE(XSAVE), CPU_FEATURE_ACTIVE(RTM));
}

static volatile int g_traps;
static volatile uintptr_t g_trap_rip;
static volatile int g_trap_code;

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	g_traps++;
	g_trap_code = si->si_code;
	g_trap_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uc->uc_mcontext.gregs[REG_RIP] += 1; /* past the a2 byte, which is no instruction here */
}

/* An int3 followed by a2, as a rewritten cpuid would read: the program's own breakpoint. */
static void own_int3(void)
{
	struct sigaction sa = {0};
	uintptr_t after;

	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	CHECK_OK(sigaction(SIGTRAP, &sa, NULL));
	g_traps = 0;
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "int3\n"
			 "1:\t.byte 0xa2\n\t"
			 : "=r"(after)
			 :
			 : "memory");
	CHECK(g_traps == 1, "one SIGTRAP, got %d", g_traps);
	CHECK(g_trap_code == SI_KERNEL, "si_code %d", g_trap_code);
	CHECK(g_trap_rip == after, "the trap's rip is past the int3");
	signal(SIGTRAP, SIG_DFL);
}

/* The program exec'd as "child": its start-up line on fd 1, after its own int3 checked. */
static int child(void)
{
	char line[512];

	own_int3();
	startup_line(line, sizeof(line));
	puts(line);
	return 0;
}

static void test_own_cpuid(void)
{
	unsigned a, b, c, d, max;
	char vendor[13];

	__cpuid(0, max, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	CHECK(max >= 1 && vendor[0], "leaf 0");
	if (max >= 4)
		for (unsigned i = 0; i < 8; i++) {
			__cpuid_count(4, i, a, b, c, d);
			if ((a & 0x1f) == 0)
				break;
			CHECK(((a >> 5) & 7) >= 1, "cache level of leaf 4.%u", i);
		}
	ok("cpuid answers: vendor %s, %u basic leaves", vendor, max + 1);
}

/* argv run with its stdout into buf (n bytes, the last newline dropped); it must exit 0. */
static void run_capture(char *const argv[], char *buf, size_t n)
{
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t got = read_fd_all(p[0], buf, n);
	close(p[0]);
	expect_exit(pid, 0);
	CHECK(got > 0, "%s printed nothing", argv[0]);
	if (buf[got - 1] == '\n')
		buf[got - 1] = 0;
}

/* The program exec'd four times in a row (natively nothing changes; in a systrap sandbox the
 * first of them learns the loader's sites, the later ones run them as int3), each working out
 * the same as this process did. */
static void test_execs(const char *self)
{
	char mine[512], got[512];

	startup_line(mine, sizeof(mine));
	for (int i = 0; i < 4; i++) {
		char *av[] = {(char *)self, "child", NULL};
		run_capture(av, got, sizeof(got));
		CHECK(!strcmp(got, mine), "exec %d worked out\n  %s\nthis process\n  %s", i, got,
		      mine);
	}
	ok("exec'd four times, each start-up works out the same CPU features and cache sizes");
}

/* The same through the dynamic loader: getconf (dynamically linked) four times, its cache
 * sizes this (static) program's. */
static void test_dynamic(void)
{
	static const struct {
		const char *name;
		int sc;
	} q[] = {{"LEVEL1_DCACHE_SIZE", _SC_LEVEL1_DCACHE_SIZE},
		 {"LEVEL1_DCACHE_ASSOC", _SC_LEVEL1_DCACHE_ASSOC},
		 {"LEVEL2_CACHE_SIZE", _SC_LEVEL2_CACHE_SIZE},
		 {"LEVEL3_CACHE_SIZE", _SC_LEVEL3_CACHE_SIZE}};
	char got[64], want[64];

	for (int i = 0; i < 4; i++) {
		char *av[] = {"/usr/bin/getconf", (char *)q[i].name, NULL};
		run_capture(av, got, sizeof(got));
		snprintf(want, sizeof(want), "%ld", sysconf(q[i].sc));
		CHECK(!strcmp(got, want), "getconf %s: %s, sysconf says %s", q[i].name, got, want);
	}
	ok("a dynamically linked program exec'd four times works out the same cache sizes");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child"))
		return child();
	test_own_cpuid();
	own_int3();
	ok("an int3 of the program's own followed by a2 is a SIGTRAP past it");
	test_execs(argv[0]);
	test_dynamic();
	return 0;
}
