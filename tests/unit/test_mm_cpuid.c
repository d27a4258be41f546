/* sentry/mm/cpuid.c: a file's start-up cpuid sites learned once (at its second exec), rewritten
 * into int3 in every later exec that maps the file, and kept true: put back to cpuid where the
 * code may change (mprotect to writable, mremap), forgotten where it goes (munmap), inherited by
 * a fork; the platform told of each change. */
#include "tests/unit/mm_fake.h"

/* A fake platform that answers cpuid sites: the last set it was told of. */
static uint64_t g_reg[64];
static size_t g_nreg;
static int g_pushes;

static bool answers(void) { return true; }

static int fake_cpuid_sites(struct plat_as *as, const uint64_t *addrs, size_t n)
{
	(void)as;
	cr_assert_leq(n, 64);
	memcpy(g_reg, addrs, n * sizeof(*addrs));
	g_nreg = n;
	g_pushes++;
	return 0;
}

static struct platform g_plat;

/* A library of two pages: cpuid at OFF_A and OFF_B; 0f a2 across the pages at OFF_SPAN. */
#define OFF_A 0x100
#define OFF_B 0x1200
#define OFF_NOT 0x180 /* other bytes */
#define OFF_SPAN 0xfff
static uint8_t g_lib[2 * PG];

static struct file mklib(void)
{
	memset(g_lib, 0x90, sizeof(g_lib)); /* nops */
	g_lib[OFF_A] = 0x0f, g_lib[OFF_A + 1] = 0xa2;
	g_lib[OFF_B] = 0x0f, g_lib[OFF_B + 1] = 0xa2;
	g_lib[OFF_SPAN] = 0x0f, g_lib[OFF_SPAN + 1] = 0xa2;
	struct file f = {.refs = 1,
			 .data = (const char *)g_lib,
			 .size = sizeof(g_lib),
			 .flags = LINUX_O_RDONLY,
			 .mode = LINUX_S_IFREG | 0755};
	f.cache = mm_fcache_create(sizeof(g_lib));
	cr_assert_not_null(f.cache);
	return f;
}

/* An exec's new mm with the library mapped as text; its address in *at. */
static struct mm *exec_mm(struct file *f, uint64_t *at)
{
	struct mm *m = mm_create(&g_plat);
	cr_assert_not_null(m);
	long a = mm_mmap(m, 0, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, f, 0);
	cr_assert_gt(a, 0);
	*at = (uint64_t)a;
	return m;
}

static uint8_t byte_at(struct mm *m, uint64_t a)
{
	uint8_t b = 0;
	cr_assert_eq(copy_in(m, &b, a, 1), 0);
	return b;
}

static bool registered(uint64_t a)
{
	for (size_t i = 0; i < g_nreg; i++)
		if (g_reg[i] == a)
			return true;
	return false;
}

static void cpuid_setup(void)
{
	setup();
	g_plat = fake_plat;
	g_plat.cpuid_answers = answers;
	g_plat.as_cpuid_sites = fake_cpuid_sites;
	g_nreg = 0;
	g_pushes = 0;
}

Test(mm_cpuid, learned_at_the_second_exec_then_rewritten_in_each, .init = cpuid_setup,
     .fini = teardown)
{
	struct file f = mklib();
	uint64_t a1, a2, a3;

	/* The first exec: nothing learned, nothing to learn yet. */
	struct mm *m1 = exec_mm(&f, &a1);
	cr_assert_eq(mm_cpuid_start(m1, a1 + 0x10), 0);
	cr_assert_eq(byte_at(m1, a1 + OFF_A), 0x0f);
	mm_put(m1);

	/* The second: learns. The claims are checked: only the file's own cpuids count. */
	struct mm *m2 = exec_mm(&f, &a2);
	cr_assert_eq(mm_cpuid_start(m2, a2 + 0x10), 1, "the second exec learns");
	cr_assert_eq(mm_activate(m2), 0);
	long anon_at = mm_mmap(m2, 0, PG, LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC,
			       LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, NULL, 0);
	cr_assert_gt(anon_at, 0);
	cr_assert_eq(copy_out(m2, (uint64_t)anon_at, "\x0f\xa2", 2), 0);
	const uint64_t claims[] = {a2 + OFF_A,	      a2 + OFF_B,      a2 + OFF_NOT, a2 + OFF_SPAN,
				   (uint64_t)anon_at, a2 + 2 * PG + 8, a2 + OFF_A};
	mm_cpuid_learned(m2, a2 + 0x10, claims, ARRAY_SIZE(claims));
	cr_assert_eq(byte_at(m2, a2 + OFF_A), 0xcc);
	cr_assert_eq(byte_at(m2, a2 + OFF_A + 1), 0xa2);
	cr_assert_eq(byte_at(m2, a2 + OFF_B), 0xcc);
	cr_assert_eq(byte_at(m2, a2 + OFF_NOT), 0x90, "not cpuid: untouched");
	cr_assert_eq(byte_at(m2, a2 + OFF_SPAN), 0x0f, "across two pages: left as it is");
	cr_assert_eq(byte_at(m2, (uint64_t)anon_at), 0x0f, "not the start-up's file");
	cr_assert(mm_cpuid_site(m2, a2 + OFF_A) && mm_cpuid_site(m2, a2 + OFF_B));
	cr_assert(!mm_cpuid_site(m2, a2 + OFF_SPAN) && !mm_cpuid_site(m2, (uint64_t)anon_at));
	cr_assert_eq(g_nreg, 2, "the platform holds the two sites");
	cr_assert(registered(a2 + OFF_A) && registered(a2 + OFF_B));
	cr_assert_eq(f.cache->cpuid->n, 2);
	cr_assert_eq(((uint8_t *)memfile_ptr(f.cache->moff))[OFF_A], 0x0f,
		     "the page cache keeps the file");
	mm_put(m2);

	/* The third, elsewhere: rewritten at exec, registered when it is made active. */
	struct mm *m3 = mm_create(&g_plat);
	cr_assert_gt(mm_mmap(m3, 0, 8 * PG, LINUX_PROT_READ,
			     LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, NULL, 0),
		     0);
	long l3 =
	    mm_mmap(m3, 0, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(l3, 0);
	a3 = (uint64_t)l3;
	cr_assert_neq(a3, a2);
	cr_assert_eq(mm_cpuid_start(m3, a3 + 0x10), 0);
	cr_assert_eq(byte_at(m3, a3 + OFF_A), 0xcc);
	cr_assert_eq(byte_at(m3, a3 + OFF_B), 0xcc);
	g_nreg = 0;
	cr_assert_eq(mm_activate(m3), 0);
	cr_assert(g_nreg == 2 && registered(a3 + OFF_A) && registered(a3 + OFF_B));
	check_mirror(m3);
	mm_put(m3);
	mm_fcache_release(f.cache);
}

Test(mm_cpuid, kept_true_across_mprotect_fork_munmap_and_mremap, .init = cpuid_setup,
     .fini = teardown)
{
	struct file f = mklib();
	uint64_t a, b;
	struct mm *m = exec_mm(&f, &a);

	mm_cpuid_start(m, a);
	mm_put(m);
	m = exec_mm(&f, &a);
	cr_assert_eq(mm_cpuid_start(m, a), 1);
	cr_assert_eq(mm_activate(m), 0);
	const uint64_t claims[] = {a + OFF_A, a + OFF_B};
	mm_cpuid_learned(m, a, claims, 2);
	cr_assert(mm_cpuid_site(m, a + OFF_A) && mm_cpuid_site(m, a + OFF_B));

	/* A fork inherits them. */
	struct mm *c = mm_fork(m);
	cr_assert_not_null(c);
	cr_assert(mm_cpuid_site(c, a + OFF_A) && mm_cpuid_site(c, a + OFF_B));
	g_nreg = 0;
	cr_assert_eq(mm_activate(c), 0);
	cr_assert(g_nreg == 2 && registered(a + OFF_A), "the child's registry");

	/* Made writable: cpuid again, and no longer a site. */
	cr_assert_eq(mm_mprotect(m, a, PG, LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC),
		     0);
	cr_assert_eq(byte_at(m, a + OFF_A), 0x0f);
	cr_assert(!mm_cpuid_site(m, a + OFF_A) && mm_cpuid_site(m, a + OFF_B));
	cr_assert(g_nreg == 1 && registered(a + OFF_B));
	cr_assert_eq(byte_at(c, a + OFF_A), 0xcc, "the child's copy is its own");

	/* Unmapped: forgotten. */
	cr_assert_eq(mm_munmap(m, a + PG, PG), 0);
	cr_assert(!mm_cpuid_site(m, a + OFF_B));
	cr_assert_eq(g_nreg, 0);

	/* Moved: put back first, so the code that lands elsewhere is the file's. */
	long moved =
	    mm_mremap(c, a, 2 * PG, 2 * PG, LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED, a + 64 * PG);
	cr_assert_eq(moved, (long)(a + 64 * PG));
	b = (uint64_t)moved;
	cr_assert_eq(byte_at(c, b + OFF_A), 0x0f);
	cr_assert_eq(byte_at(c, b + OFF_B), 0x0f);
	cr_assert(!mm_cpuid_site(c, a + OFF_A) && !mm_cpuid_site(c, b + OFF_A));
	check_mirror(c);
	mm_put(c);
	mm_put(m);
	mm_fcache_release(f.cache);
}

Test(mm_cpuid, nothing_without_a_platform_that_answers, .init = setup, .fini = teardown)
{
	struct file f = mklib();
	uint64_t a;

	for (int i = 0; i < 3; i++) {
		struct mm *m = mm_create(&fake_plat);
		long at = mm_mmap(m, 0, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC,
				  LINUX_MAP_PRIVATE, &f, 0);
		cr_assert_gt(at, 0);
		a = (uint64_t)at;
		cr_assert_eq(mm_cpuid_start(m, a), 0);
		cr_assert_eq(byte_at(m, a + OFF_A), 0x0f);
		mm_put(m);
	}
	cr_assert_null(f.cache->cpuid);
	mm_fcache_release(f.cache);
}
