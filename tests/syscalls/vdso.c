/* vdso.c: the vDSO: AT_SYSINFO_EHDR names a valid ELF with the LINUX_2.6 time functions,
 * /proc/self/maps shows [vdso] and [vvar], the parameter page cannot be made writable, and the
 * time calls glibc makes through it agree with the raw syscalls, never go back (over many calls,
 * across the Sentry's recalibrations and across threads) and survive fork and exec. */
#include "sc.h"

#include <elf.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/time.h>

static int64_t ts_ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static int64_t libc_ns(clockid_t c)
{
	struct timespec t;
	CHECK_OK(clock_gettime(c, &t));
	CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "tv_nsec %ld", t.tv_nsec);
	return ts_ns(&t);
}

static int64_t raw_ns(clockid_t c)
{
	struct timespec t;
	CHECK_OK(syscall(SYS_clock_gettime, c, &t));
	return ts_ns(&t);
}

/* The address of symbol name (version LINUX_2.6) in the vDSO at base, or 0. */
static uintptr_t vdso_sym(uintptr_t base, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	uintptr_t load = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load)
			load = base + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
	}
	CHECK(load && dyn, "the vDSO has a PT_LOAD and a PT_DYNAMIC");
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf64_Word *hash = NULL;
	const Elf64_Half *versym = NULL;
	const Elf64_Verdef *verdef = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = load + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: sym = (const Elf64_Sym *)p; break;
		case DT_STRTAB: str = (const char *)p; break;
		case DT_HASH: hash = (const Elf64_Word *)p; break;
		case DT_VERSYM: versym = (const Elf64_Half *)p; break;
		case DT_VERDEF: verdef = (const Elf64_Verdef *)p; break;
		}
	}
	CHECK(sym && str && hash && versym && verdef, "the vDSO's dynamic section is complete");
	for (Elf64_Word i = 1; i < hash[1]; i++) {
		if (strcmp(str + sym[i].st_name, name) != 0 || sym[i].st_shndx == SHN_UNDEF)
			continue;
		/* its version must be LINUX_2.6 */
		const Elf64_Verdef *vd = verdef;
		for (;;) {
			if ((vd->vd_ndx & 0x7fff) == (versym[i] & 0x7fff)) {
				const Elf64_Verdaux *aux =
				    (const Elf64_Verdaux *)((const char *)vd + vd->vd_aux);
				if (strcmp(str + aux->vda_name, "LINUX_2.6") == 0)
					return load + sym[i].st_value;
				break;
			}
			if (!vd->vd_next)
				break;
			vd = (const Elf64_Verdef *)((const char *)vd + vd->vd_next);
		}
	}
	return 0;
}

static void test_elf(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	CHECK(base != 0 && base % 4096 == 0, "AT_SYSINFO_EHDR %#lx", (unsigned long)base);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
		  eh->e_type == ET_DYN && eh->e_machine == EM_X86_64,
	      "the vDSO is an x86-64 ELF64 shared object");
	const char *names[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
			       "__vdso_getcpu", "__vdso_clock_getres"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(vdso_sym(base, names[i]), "the vDSO defines %s@LINUX_2.6", names[i]);
	/* calling it directly works too (what glibc does) */
	int (*cg)(clockid_t, struct timespec *) =
	    (int (*)(clockid_t, struct timespec *))vdso_sym(base, "__vdso_clock_gettime");
	struct timespec t;
	int64_t a = libc_ns(CLOCK_MONOTONIC);
	CHECK(cg(CLOCK_MONOTONIC, &t) == 0 && ts_ns(&t) >= a, "__vdso_clock_gettime");
	CHECK(cg(12345, &t) == -EINVAL, "an unknown clock is the syscall's EINVAL");
	ok("AT_SYSINFO_EHDR is an ELF with the LINUX_2.6 time functions");
}

/* The [vdso] and [vvar] lines of /proc/self/maps: their start and permissions. */
static void find_maps(uintptr_t *vdso, char vdso_perm[5], uintptr_t *vvar)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	CHECK(f, "open /proc/self/maps");
	*vdso = *vvar = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3)
			continue;
		if (strstr(line, "[vdso]")) {
			*vdso = lo;
			memcpy(vdso_perm, perm, 5);
		} else if (strstr(line, "[vvar]") && !*vvar) {
			*vvar = lo;
		}
	}
	fclose(f);
}

static void test_maps(void)
{
	uintptr_t vdso, vvar;
	char perm[5] = "";
	find_maps(&vdso, perm, &vvar);
	CHECK(vdso && vdso == getauxval(AT_SYSINFO_EHDR), "[vdso] is at AT_SYSINFO_EHDR");
	CHECK(strcmp(perm, "r-xp") == 0, "[vdso] is r-xp, not %s", perm);
	CHECK(vvar && vvar < vdso, "[vvar] lies below [vdso]");
	/* readable, never writable: mprotect refuses, a write faults */
	volatile const char *p = (const char *)vvar;
	(void)*p;
	errno = 0;
	CHECK(mprotect((void *)vvar, 4096, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
	      "mprotect([vvar], PROT_WRITE) fails with EACCES");
	/* nor can its page be punched out; dropping it (Linux refuses: EINVAL) reads it again */
	CHECK(madvise((void *)vvar, 4096, MADV_REMOVE) == -1, "madvise([vvar], MADV_REMOVE) fails");
	CHECK(madvise((void *)vvar, 4096, MADV_DONTNEED) == 0 || errno == EINVAL,
	      "madvise([vvar], MADV_DONTNEED)");
	int64_t a = raw_ns(CLOCK_MONOTONIC), b = libc_ns(CLOCK_MONOTONIC);
	CHECK(a <= b && b - a < 1000000000LL, "the vDSO's clock after MADV_DONTNEED of [vvar]");
	pid_t pid = sc_fork();
	if (pid == 0) {
		no_core();
		*(volatile char *)vvar = 1;
		_exit(0);
	}
	expect_killed(pid, SIGSEGV);
	ok("/proc/self/maps shows [vdso] r-xp above a read-only [vvar]");
}

/* clock_gettime through the vDSO lies between two raw syscalls, for every clock it serves. */
static void test_agree(void)
{
	static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		for (int k = 0; k < 100; k++) {
			int64_t a = raw_ns(clocks[i]), b = libc_ns(clocks[i]), c = raw_ns(clocks[i]);
			CHECK(a <= b && b <= c, "clock %d: syscall %lld, vDSO %lld, syscall %lld",
			      (int)clocks[i], (long long)a, (long long)b, (long long)c);
		}
	}
	/* the coarse clocks tick, but stay within a tick (a few ms) of the fine ones */
	int64_t m = libc_ns(CLOCK_MONOTONIC), mc = libc_ns(CLOCK_MONOTONIC_COARSE);
	CHECK(mc <= libc_ns(CLOCK_MONOTONIC) && m - mc < 50000000, "CLOCK_MONOTONIC_COARSE");
	int64_t r = libc_ns(CLOCK_REALTIME), rc = libc_ns(CLOCK_REALTIME_COARSE);
	CHECK(rc <= libc_ns(CLOCK_REALTIME) && r - rc < 50000000, "CLOCK_REALTIME_COARSE");
	/* gettimeofday and time read CLOCK_REALTIME */
	struct timeval tv;
	int64_t r0 = libc_ns(CLOCK_REALTIME);
	CHECK_OK(gettimeofday(&tv, NULL));
	int64_t r1 = libc_ns(CLOCK_REALTIME);
	int64_t g = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
	CHECK(r0 / 1000 <= g / 1000 && g <= r1, "gettimeofday lies between two clock_gettime");
	time_t t0 = time(NULL), t1;
	int64_t r2 = libc_ns(CLOCK_REALTIME);
	t1 = time(&t1);
	CHECK(t0 <= r2 / 1000000000LL && r2 / 1000000000LL <= t1 + 1, "time() agrees");
	/* clocks the vDSO does not compute still work (through the syscall) */
	CHECK(libc_ns(CLOCK_PROCESS_CPUTIME_ID) > 0, "CLOCK_PROCESS_CPUTIME_ID");
	CHECK(libc_ns(CLOCK_MONOTONIC_RAW) > 0, "CLOCK_MONOTONIC_RAW");
	struct timespec res, rres;
	CHECK_OK(clock_getres(CLOCK_MONOTONIC, &res));
	CHECK_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &rres));
	CHECK(ts_ns(&res) == ts_ns(&rres), "clock_getres agrees with the syscall");
	errno = 0;
	CHECK(clock_gettime((clockid_t)12345, &res) == -1 && errno == EINVAL, "bad clock: EINVAL");
	unsigned cpu = ~0u;
	CHECK(getcpu(&cpu, NULL) == 0 && cpu < 4096, "getcpu");
	ok("the vDSO's clocks agree with the syscalls");
}

/* ---- monotonic over many calls, across recalibrations and threads ---- */

static int64_t g_max; /* the latest CLOCK_MONOTONIC any thread has seen */
static int64_t g_end;

static void *mono_thread(void *arg)
{
	long *calls = arg;
	int64_t last = 0;
	for (;;) {
		int64_t seen = __atomic_load_n(&g_max, __ATOMIC_ACQUIRE);
		int64_t t = libc_ns(CLOCK_MONOTONIC);
		/* seen was read by some thread before this read began */
		CHECK(t >= seen && t >= last, "CLOCK_MONOTONIC went back: %lld after %lld",
		      (long long)t, (long long)(seen > last ? seen : last));
		last = t;
		int64_t m = seen;
		while (m < t && !__atomic_compare_exchange_n(&g_max, &m, t, 0, __ATOMIC_RELEASE,
							     __ATOMIC_ACQUIRE))
			;
		++*calls;
		if (t > g_end)
			return NULL;
	}
}

static void test_monotonic(void)
{
	enum { N = 3 };
	pthread_t th[N];
	long calls[N] = {0};
	/* 1.2 s: the Sentry refreshes the parameters every second */
	g_end = libc_ns(CLOCK_MONOTONIC) + 1200000000LL;
	for (int i = 0; i < N; i++)
		CHECK(pthread_create(&th[i], NULL, mono_thread, &calls[i]) == 0, "pthread_create");
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		CHECK(calls[i] > 10, "thread %d made only %ld calls", i, calls[i]);
	ok("CLOCK_MONOTONIC never goes back, over 1.2 s and across %d threads", N);
}

/* A forked child keeps the vDSO; an exec'ed program gets one again. */
static void test_fork_exec(const char *self)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	pid_t pid = sc_fork();
	if (pid == 0) {
		uintptr_t vdso, vvar;
		char perm[5] = "";
		find_maps(&vdso, perm, &vvar);
		CHECK(vdso == base && vvar, "the child's [vdso] is the parent's");
		int64_t a = raw_ns(CLOCK_MONOTONIC), b = libc_ns(CLOCK_MONOTONIC);
		CHECK(a <= b, "the child's vDSO clock");
		_exit(0);
	}
	expect_exit(pid, 0);
	pid = sc_fork();
	if (pid == 0) {
		execl(self, self, "exec", (char *)NULL);
		_exit(99);
	}
	expect_exit(pid, 0);
	ok("fork keeps the vDSO and exec maps it again");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		/* the program exec'ed by test_fork_exec */
		uintptr_t vdso, vvar;
		char perm[5] = "";
		find_maps(&vdso, perm, &vvar);
		return vdso && vdso == getauxval(AT_SYSINFO_EHDR) && vvar ? 0 : 1;
	}
	test_elf();
	test_maps();
	test_agree();
	test_monotonic();
	test_fork_exec("/proc/self/exe");
	return 0;
}
