/* Unit tests for sentry/mm's fork and copy-on-write (cow.c), lazy activation, faults from
 * several threads, and copy_in_strv, against the fake platform of mm_fake.h. The application's
 * own writes are simulated like the MMU would do them: through the platform's mapping, faulting
 * when it is not writable. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "tests/unit/mm_fake.h"

/* The application writes byte c at addr of m: through the platform mapping when it allows
 * writing (under the mm's read lock, which stands for the atomicity of the page tables),
 * else a fault (access unknown, as ptrace reports it) and again. Returns 0 or the fault's
 * error. */
static int n_faults;
static int app_write(struct mm *m, uint64_t addr, char c)
{
	for (int tries = 0; tries < 8; tries++) {
		pthread_rwlock_rdlock(&m->lock);
		const struct fake_map *fm = fake_lookup(m, addr);
		bool ok = fm && (fm->prot & LINUX_PROT_WRITE);
		if (ok)
			*(char *)memfile_ptr(fm->moff + (addr - fm->start)) = c;
		pthread_rwlock_unlock(&m->lock);
		if (ok)
			return 0;
		int r = mm_handle_fault(m, addr, 0);
		__atomic_add_fetch(&n_faults, 1, __ATOMIC_RELAXED);
		if (r < 0)
			return r;
	}
	cr_assert_fail("fault at %#lx not resolved", (unsigned long)addr);
	return -1;
}

/* What the application reads at addr (through the platform, like the MMU). */
static char app_read(struct mm *m, uint64_t addr)
{
	const struct fake_map *fm = fake_lookup(m, addr);
	cr_assert(fm && fm->prot, "read %#lx", (unsigned long)addr);
	return *(char *)memfile_ptr(fm->moff + (addr - fm->start));
}

static char peek(struct mm *m, uint64_t addr)
{
	char c;
	cr_assert_eq(copy_in(m, &c, addr, 1), 0);
	return c;
}

static void reset_counts(void) { n_map = n_unmap = n_protect = n_create = n_release = 0; }

/* ---- fork ---- */

Test(fork, private_pages_diverge, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 64 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(app_write(mm, a + p, 'p'), 0);
	char fill[64 * PG];
	memset(fill, 'p', sizeof(fill));
	cr_assert_eq(copy_out(mm, a, fill, sizeof(fill)), 0);
	uint64_t used = memfile_used();
	reset_counts();
	struct mm *c = mm_fork(mm);
	cr_assert(c);
	cr_assert_eq(n_map, 0, "no platform mapping at fork");
	cr_assert_eq(n_protect, 1, "one write-protect for the one writable VMA");
	cr_assert_eq(mm_plat_as(c), NULL, "the child is not active yet");
	cr_assert_eq(memfile_used(), used, "nothing copied");
	check_mirror(mm);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(mm_activate(c), 0, "idempotent");
	cr_assert_eq(n_create, 1);
	cr_assert_eq(n_map, 1);
	check_mirror(c);
	cr_assert_eq(app_read(c, a + 5 * PG), 'p');

	/* The parent writes: the page gets copied, the child keeps the old bytes. */
	cr_assert_eq(app_write(mm, a + 5 * PG + 7, 'P'), 0);
	cr_assert_eq(memfile_used(), used + PG);
	cr_assert_eq(mm->n, 1, "breaking copy-on-write does not split the VMA");
	cr_assert_eq(app_read(mm, a + 5 * PG + 7), 'P');
	cr_assert_eq(app_read(c, a + 5 * PG + 7), 'p');
	cr_assert_eq(peek(c, a + 5 * PG + 7), 'p');
	/* The child writes the same page: it holds the old page alone now, so no copy. */
	int maps = n_map;
	cr_assert_eq(app_write(c, a + 5 * PG, 'C'), 0);
	cr_assert_eq(n_map, maps, "re-protected, not copied");
	cr_assert_eq(memfile_used(), used + PG);
	cr_assert_eq(app_read(mm, a + 5 * PG), 'p');
	cr_assert_eq(peek(mm, a + 5 * PG), 'p');
	cr_assert_eq(peek(c, a + 5 * PG), 'C');
	/* A page elsewhere is still shared: one page copied. The page after it continues a
	 * private run: that takes 8 pages at once (a sequential rewrite, maybe). */
	cr_assert_eq(app_write(c, a + 20 * PG, 'C'), 0);
	cr_assert_eq(n_map, maps + 1);
	cr_assert_eq(memfile_used(), used + 2 * PG);
	cr_assert_eq(app_write(c, a + 21 * PG, 'C'), 0);
	cr_assert_eq(n_map, maps + 2);
	cr_assert_eq(memfile_used(), used + 10 * PG);
	cr_assert_eq(peek(mm, a + 20 * PG), 'p');
	cr_assert_eq(peek(mm, a + 21 * PG), 'p');
	/* Elsewhere both sides still share. */
	cr_assert_eq(app_write(c, a + 40 * PG, 'C'), 0);
	cr_assert_eq(peek(mm, a + 40 * PG), 'p');
	cr_assert_eq(app_write(mm, a + 41 * PG, 'P'), 0);
	cr_assert_eq(peek(c, a + 41 * PG), 'p');
	cr_assert_eq(peek(c, a + 40 * PG), 'C');
	check_mirror(mm);
	check_mirror(c);

	/* /proc/PID/maps still shows one mapping on each side. */
	struct mm_vma_info vis[8] = {0};
	mm_for_each_vma(c, count_vma, vis);
	cr_assert_eq(vis[0].prot, 1);
	cr_assert_eq(vis[1].start, a);
	cr_assert_eq(vis[1].end, a + len);

	mm_put(c);
	/* The parent alone now: its writes re-protect whole pieces, copying nothing. */
	maps = n_map;
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(app_write(mm, a + p, 'Q'), 0);
	cr_assert_eq(n_map, maps);
	cr_assert_eq(mm->n, 1);
	for (size_t i = 0; i < mm->n; i++)
		cr_assert_eq(mm->v[i].flags & VMA_COW, 0);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(memfile_used(), used0, "every page freed with the last sharer");
}

/* mm_fork_copy: a small writable VMA is copied at the fork, holes staying holes; nothing is
 * copy-on-write afterwards (no write-protect, no fault on either side); a large one, or one
 * after the budget was copied, is shared copy-on-write as with mm_fork. */
Test(fork, small_memory_is_copied_at_fork, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 64 * PG, big = 0x50000000, blen = 16ULL << 20;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	cr_assert_eq(anon(big, blen, RW, LINUX_MAP_FIXED), (long)big);
	for (uint64_t p = 0; p < len / 2; p += PG)
		cr_assert_eq(app_write(mm, a + p, 'p'), 0); /* the upper half stays a hole */
	cr_assert_eq(app_write(mm, big, 'b'), 0);
	uint64_t res = mm_resident_bytes(mm);
	reset_counts();
	n_faults = 0;
	struct mm *c = mm_fork_copy(mm, 1ULL << 20);
	cr_assert(c);
	cr_assert_eq(n_protect, 1, "only the big VMA is write-protected");
	cr_assert_eq(mm_resident_bytes(c), res, "the holes were not filled");
	cr_assert_eq(mm_activate(c), 0);
	check_mirror(c);
	cr_assert_eq(app_read(c, a + 3 * PG), 'p');
	cr_assert_eq(app_read(c, a + 40 * PG), 0);
	/* Both sides write the small VMA without a fault and without seeing each other. */
	cr_assert_eq(app_write(mm, a + 3 * PG, 'P'), 0);
	cr_assert_eq(app_write(c, a + 5 * PG, 'C'), 0);
	cr_assert_eq(app_write(c, a + 40 * PG, 'C'), 0);
	cr_assert_eq(n_faults, 0);
	cr_assert_eq(peek(c, a + 3 * PG), 'p');
	cr_assert_eq(peek(mm, a + 5 * PG), 'p');
	cr_assert_eq(peek(mm, a + 40 * PG), 0);
	/* The big one is copy-on-write as before. */
	cr_assert_eq(app_write(c, big, 'B'), 0);
	cr_assert_eq(n_faults, 1);
	cr_assert_eq(peek(mm, big), 'b');
	check_mirror(mm);
	check_mirror(c);
	mm_put(c);
	/* The budget counts what was copied: the first VMA passes it, the next one is shared
	 * copy-on-write (the big one still is). */
	uint64_t b = 0x48000000;
	cr_assert_eq(anon(b, 4 * PG, RW, LINUX_MAP_FIXED), (long)b);
	cr_assert_eq(app_write(mm, b, 'q'), 0);
	reset_counts();
	c = mm_fork_copy(mm, PG);
	cr_assert(c);
	cr_assert_eq(n_protect, 1, "the second small VMA write-protected");
	cr_assert(mm->v[0].start == a && !(mm->v[0].flags & VMA_COW));
	cr_assert(mm->v[1].start == b && (mm->v[1].flags & VMA_COW));
	mm_put(c);
}

/* A fork's copy may take a dead address space's pages, kept unpunched (memfile.c, "Kept for a
 * fork's copy"): what it copies overwrites them and the parent's holes are punched, so the
 * child sees the parent's bytes and zeros, never the dead one's, and its holes stay holes. */
Test(fork, a_copy_into_kept_pages_leaves_nothing_stale, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 64 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	for (uint64_t p = 0; p < 16 * PG; p += PG)
		cr_assert_eq(app_write(mm, a + p, 'p'), 0);
	for (uint64_t p = 32 * PG; p < 36 * PG; p += PG)
		cr_assert_eq(app_write(mm, a + p, 'p'), 0);
	uint64_t res = mm_resident_bytes(mm);

	/* A first child, which writes every page, then dies: its pages are kept. */
	struct mm *dead = mm_fork_copy(mm, 1ULL << 20);
	cr_assert(dead);
	cr_assert_eq(mm_activate(dead), 0);
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(app_write(dead, a + p, 'x'), 0);
	uint64_t dead_moff = dead->v[0].moff;
	uint64_t used = memfile_used();
	mm_put(dead);
	cr_assert_eq(memfile_used(), used - len, "the dead child's pages are not in use");

	struct mm *c = mm_fork_copy(mm, 1ULL << 20);
	cr_assert(c);
	cr_assert_eq(c->v[0].moff, dead_moff, "the kept pages were taken");
	cr_assert_eq(memfile_used(), used, "in use again");
	cr_assert_eq(mm_resident_bytes(c), res, "the parent's holes are holes in the child");
	cr_assert_eq(mm_activate(c), 0);
	for (uint64_t p = 0; p < len; p += PG) {
		char want = p < 16 * PG || (p >= 32 * PG && p < 36 * PG) ? 'p' : 0;
		cr_assert_eq(app_read(c, a + p), want, "page %lu", (unsigned long)(p / PG));
		cr_assert_eq(app_read(c, a + p + PG - 1), 0, "page %lu's end",
			     (unsigned long)(p / PG));
	}
	check_mirror(c);
	mm_put(c);
}

Test(fork, copy_out_does_not_leak_into_the_other_mm, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	cr_assert_eq(anon(a, 4 * PG, RW, LINUX_MAP_FIXED), (long)a);
	cr_assert_eq(anon(a + 4 * PG, 4 * PG, LINUX_PROT_READ, LINUX_MAP_FIXED),
		     (long)(a + 4 * PG));
	cr_assert_eq(copy_out_force(mm, a, "parent", 7), 0);
	cr_assert_eq(copy_out_force(mm, a + 4 * PG, "ro", 3), 0);
	struct mm *c = mm_fork(mm);
	cr_assert(c);
	/* Into the inactive child (the kernel writing a tid before the child runs). */
	cr_assert_eq(copy_out(c, a, "child", 6), 0);
	cr_assert_eq(copy_out_force(c, a + 4 * PG, "RO", 3), 0, "read-only COW pages too");
	char buf[8];
	cr_assert_eq(copy_in(mm, buf, a, 7), 0);
	cr_assert_str_eq(buf, "parent");
	cr_assert_eq(copy_in(mm, buf, a + 4 * PG, 3), 0);
	cr_assert_str_eq(buf, "ro");
	cr_assert_eq(copy_in(c, buf, a, 6), 0);
	cr_assert_str_eq(buf, "child");
	/* Into the parent, across both VMAs and a fault at the end. */
	char big[8 * PG + 1];
	memset(big, 'x', sizeof(big));
	cr_assert_eq(copy_out_force(mm, a + 2 * PG, big, 6 * PG + 1), -EFAULT);
	cr_assert_eq(peek(mm, a + 8 * PG - 1), 'x', "bytes before the fault are written");
	cr_assert_eq(peek(c, a + 2 * PG), 0);
	cr_assert_eq(peek(c, a + 8 * PG - 1), 0);
	cr_assert_eq(copy_in(c, buf, a + 4 * PG, 3), 0);
	cr_assert_str_eq(buf, "RO");
	/* copy_out still needs PROT_WRITE, COW or not. */
	cr_assert_eq(copy_out(c, a + 4 * PG, "z", 1), -EFAULT);
	cr_assert_eq(mm_activate(c), 0);
	check_mirror(c);
	check_mirror(mm);
	mm_put(c);
}

Test(fork, big_mapping_costs_no_per_page_work, .init = setup, .fini = teardown)
{
	uint64_t len = 256ULL << 20;
	long a = anon(0, len, RW, 0);
	cr_assert_gt(a, 0);
	/* Make every page of it resident (the memory file is sparse otherwise). */
	for (uint64_t p = 0; p < len; p += 64 * PG)
		memset(memfile_ptr(mm->v[0].moff + p), 1, 64 * PG);
	cr_assert_eq(anon(0, PG, LINUX_PROT_READ, 0), a - (long)PG);
	uint64_t used = memfile_used();
	reset_counts();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct mm *c = mm_fork(mm);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert(c);
	double us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
	cr_assert_lt(us, 5000, "fork of 256 MiB took %.0f us", us);
	cr_assert_eq(n_protect + n_map + n_unmap, 1, "one platform call for the writable VMA");
	cr_assert_eq(memfile_used(), used);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(n_map, 2, "one as_map per VMA");
	/* One write costs one page. */
	cr_assert_eq(app_write(c, (uint64_t)a + len / 2 + 5, 7), 0);
	cr_assert_eq(memfile_used(), used + PG);
	cr_assert_eq(peek(mm, (uint64_t)a + len / 2 + 5), 1);
	mm_put(c);
	cr_assert_eq(memfile_used(), used);
}

Test(fork, sequential_writes_take_growing_runs, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 4ULL << 20;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	struct mm *c = mm_fork(mm);
	cr_assert(c);
	cr_assert_eq(mm_activate(c), 0);
	n_faults = 0;
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(app_write(c, a + p, 'c'), 0);
	cr_assert_eq(c->n, 1, "one VMA after writing all of it in order, not %zu", c->n);
	/* 4 MiB: runs of 1, 8, 9, 18, ... 288, then 512 pages (2 MiB). */
	cr_assert_leq(n_faults, 10, "growing runs: %d faults for 4 MiB written in order", n_faults);
	cr_assert_eq(memfile_used(), used0 + 2 * len, "only what was written is copied");
	for (uint64_t p = len; p > 0; p -= PG)
		cr_assert_eq(app_write(mm, a + p - PG, 'm'), 0);
	cr_assert_eq(mm->n, 1, "downwards too: %zu", mm->n);
	/* Random order: one page per write, one VMA, one mapping for /proc. */
	struct mm *c2 = mm_fork(mm);
	cr_assert_eq(mm_activate(c2), 0);
	uint64_t used = memfile_used();
	n_faults = 0;
	for (uint64_t k = 0; k < 64; k++) {
		uint64_t chunk = (k * 37) % 64;
		cr_assert_eq(app_write(c2, a + chunk * (64 << 10) + 3 * PG, 'r'), 0);
	}
	cr_assert_eq(n_faults, 64);
	cr_assert_eq(memfile_used(), used + 64 * PG);
	cr_assert_eq(c2->n, 1);
	struct mm_vma_info vis[8] = {0};
	mm_for_each_vma(c2, count_vma, vis);
	cr_assert_eq(vis[0].prot, 1);
	cr_assert_eq(peek(c2, a + 3 * PG), 'r');
	cr_assert_eq(peek(c2, a + 4 * PG), 'm');
	cr_assert_eq(peek(mm, a + 3 * PG), 'm');
	cr_assert_eq(peek(c, a + 3 * PG), 'c');
	check_mirror(c2);
	mm_put(c2);
	mm_put(c);
	check_mirror(mm);
}

Test(fork, shared_memory_is_shared, .init = setup, .fini = teardown)
{
	long a = mm_mmap(mm, 0, 4 * PG, RW, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS, NULL, 0);
	cr_assert_gt(a, 0);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(app_write(c, (uint64_t)a + 10, 's'), 0);
	cr_assert_eq(app_read(mm, (uint64_t)a + 10), 's');
	cr_assert_eq(copy_out(mm, (uint64_t)a + 11, "t", 1), 0);
	cr_assert_eq(peek(c, (uint64_t)a + 11), 't');
	mm_put(c);
	cr_assert_eq(peek(mm, (uint64_t)a + 10), 's', "kept by the parent");
}

Test(fork, dontfork_and_wipeonfork, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	cr_assert_eq(anon(a, 6 * PG, RW, LINUX_MAP_FIXED), (long)a);
	cr_assert_eq(copy_out(mm, a, "aaaaaa", 6), 0);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(copy_out(mm, a + i * PG, "d", 1), 0);
	cr_assert_eq(mm_madvise(mm, a + PG, PG, 10 /* DONTFORK */), 0);
	cr_assert_eq(mm_madvise(mm, a + 3 * PG, PG, 18 /* WIPEONFORK */), 0);
	cr_assert_eq(mm_madvise(mm, a + 4 * PG, PG, 18), 0);
	cr_assert_eq(mm_madvise(mm, a + 4 * PG, PG, 19 /* KEEPONFORK */), 0);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(peek(c, a), 'd');
	cr_assert(!mm_range_mapped(c, a + PG, PG), "DONTFORK: not in the child");
	cr_assert_eq(peek(c, a + 2 * PG), 'd');
	cr_assert_eq(peek(c, a + 3 * PG), 0, "WIPEONFORK: zeros");
	cr_assert_eq(peek(c, a + 4 * PG), 'd');
	cr_assert_eq(peek(mm, a + 3 * PG), 'd');
	cr_assert_eq(mm_activate(c), 0);
	check_mirror(c);
	mm_put(c);
}

Test(fork, mprotect_mremap_madvise_on_cow, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	cr_assert_eq(anon(a, 8 * PG, RW, LINUX_MAP_FIXED), (long)a);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(copy_out(mm, a + i * PG, "o", 1), 0);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	/* mprotect away and back: still copy-on-write underneath. */
	cr_assert_eq(mm_mprotect(c, a, 8 * PG, LINUX_PROT_READ), 0);
	cr_assert_eq(mm_mprotect(c, a, 8 * PG, RW), 0);
	check_mirror(c);
	cr_assert_eq(app_write(c, a, 'c'), 0);
	cr_assert_eq(peek(mm, a), 'o');
	/* mremap moves the COW pages with their state. */
	cr_assert_eq(
	    mm_mremap(c, a, 8 * PG, 8 * PG, LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED, 0x50000000),
	    0x50000000);
	check_mirror(c);
	cr_assert_eq(peek(c, 0x50000000), 'c');
	cr_assert_eq(app_write(c, 0x50000000 + 7 * PG, 'c'), 0);
	cr_assert_eq(peek(mm, a + 7 * PG), 'o');
	/* MADV_DONTNEED on shared COW pages: zeros here, the parent keeps its bytes. */
	cr_assert_eq(mm_madvise(c, 0x50000000 + 4 * PG, 2 * PG, LINUX_MADV_DONTNEED), 0);
	cr_assert_eq(peek(c, 0x50000000 + 4 * PG), 0);
	cr_assert_eq(peek(mm, a + 4 * PG), 'o');
	check_mirror(c);
	check_mirror(mm);
	mm_put(c);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(app_write(mm, a + i * PG, 'q'), 0);
	check_mirror(mm);
}

/* ---- faults ---- */

Test(fault, errors_as_linux, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	cr_assert_eq(anon(a, PG, LINUX_PROT_NONE, LINUX_MAP_FIXED), (long)a);
	cr_assert_eq(anon(a + PG, PG, LINUX_PROT_READ, LINUX_MAP_FIXED), (long)(a + PG));
	cr_assert_eq(mm_handle_fault(mm, a - 1, 0), -EFAULT, "SEGV_MAPERR");
	cr_assert_eq(mm_handle_fault(mm, a + 2 * PG, LINUX_PROT_READ), -EFAULT);
	cr_assert_eq(mm_handle_fault(mm, a, 0), -EACCES, "PROT_NONE: SEGV_ACCERR");
	cr_assert_eq(mm_handle_fault(mm, a + PG, LINUX_PROT_WRITE), -EACCES);
	cr_assert_eq(mm_handle_fault(mm, a + PG, LINUX_PROT_EXEC), -EACCES);
	/* Unknown access on a readable page: once "maybe a race", then the real thing. */
	cr_assert_eq(mm_handle_fault(mm, a + PG + 8, 0), 0);
	cr_assert_eq(mm_handle_fault(mm, a + PG + 8, 0), -EACCES);
	/* A write to a read-only COW page is refused too, without copying. */
	struct mm *c = mm_fork(mm);
	uint64_t used = memfile_used();
	cr_assert_eq(mm_handle_fault(c, a + PG, LINUX_PROT_WRITE), -EACCES);
	cr_assert_eq(mm_handle_fault(c, a + PG + 16, 0), 0);
	cr_assert_eq(mm_handle_fault(c, a + PG + 16, 0), -EACCES);
	cr_assert_eq(memfile_used(), used);
	mm_put(c);
	cr_assert_eq(mm_handle_fault(NULL, a, 0), -EFAULT);
}

struct thread_arg {
	struct mm *m;
	uint64_t base;
	int id;
};

/* Each thread writes its own bytes into shared chunks (so faults on one chunk race), maps and
 * unmaps memory of its own, and copies in and out. */
static void *worker(void *p)
{
	struct thread_arg *ta = p;
	for (int round = 0; round < 200; round++) {
		uint64_t addr = ta->base + (uint64_t)(round % 32) * PG + (uint64_t)ta->id * 8;
		if (app_write(ta->m, addr, (char)('a' + ta->id)) < 0)
			return (void *)1;
		long b =
		    mm_mmap(ta->m, 0, 3 * PG, RW, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, NULL, 0);
		if (b < 0 || copy_out(ta->m, (uint64_t)b + PG, &round, sizeof(round)) < 0)
			return (void *)2;
		int back = -1;
		if (copy_in(ta->m, &back, (uint64_t)b + PG, sizeof(back)) < 0 || back != round)
			return (void *)3;
		if (mm_munmap(ta->m, (uint64_t)b, 3 * PG) < 0)
			return (void *)4;
		if (round % 50 == 0) {
			struct mm *c = mm_fork(ta->m); /* re-protects everything again */
			if (!c)
				return (void *)5;
			mm_put(c);
		}
	}
	return NULL;
}

Test(fault, threads_fault_and_map_at_once, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	cr_assert_eq(anon(a, 32 * PG, RW, LINUX_MAP_FIXED), (long)a);
	struct mm *c = mm_fork(mm);
	pthread_t th[4];
	struct thread_arg ta[4];
	for (int i = 0; i < 4; i++) {
		ta[i] = (struct thread_arg){mm, a, i};
		cr_assert_eq(pthread_create(&th[i], NULL, worker, &ta[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		cr_assert_eq(ret, NULL, "thread %d failed at step %ld", i, (long)ret);
	}
	for (int i = 0; i < 4; i++)
		for (int p = 0; p < 32; p++)
			cr_assert_eq(peek(mm, a + p * PG + i * 8), 'a' + i);
	cr_assert_eq(peek(c, a + 8), 0, "the child saw none of it");
	check_mirror(mm);
	mm_put(c);
}

/* ---- copy_in_strv ---- */

/* Lay out a string vector at a: pointers then strings. Returns a. */
static uint64_t put_strv(uint64_t a, const char *const *v, size_t n)
{
	uint64_t s = a + (n + 1) * 8;
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(copy_out(mm, a + i * 8, &s, 8), 0);
		cr_assert_eq(copy_out(mm, s, v[i], strlen(v[i]) + 1), 0);
		s += strlen(v[i]) + 1;
	}
	uint64_t z = 0;
	cr_assert_eq(copy_out(mm, a + n * 8, &z, 8), 0);
	return a;
}

Test(strv, reads_vectors_and_limits, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	char **v;
	size_t total = 0;
	cr_assert_eq(anon(a, 64 * PG, RW, LINUX_MAP_FIXED), (long)a);
	const char *argv[] = {"ls", "-l", "", "/tmp"};
	put_strv(a, argv, 4);
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, 1 << 20), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(v[i], argv[i]);
	cr_assert_null(v[4]);
	cr_assert_eq(total, 4 * 8 + 3 + 3 + 1 + 5);
	strv_free(v);
	/* NULL is an empty vector; the total accumulates across calls. */
	cr_assert_eq(copy_in_strv(mm, 0, &v, &total, 1 << 20), 0);
	cr_assert_null(v[0]);
	strv_free(v);
	cr_assert_eq(total, 44);
	size_t t2 = total;
	cr_assert_eq(copy_in_strv(mm, a, &v, &t2, 44 + 43), -E2BIG, "one byte short");
	cr_assert_null(v);
	t2 = total;
	cr_assert_eq(copy_in_strv(mm, a, &v, &t2, 44 + 44), 4);
	strv_free(v);
	t2 = 0;
	cr_assert_eq(copy_in_strv(mm, a, &v, &t2, 16), -E2BIG, "pointers count too");
	/* Faults: the array, a string. */
	total = 0;
	cr_assert_eq(copy_out(mm, a + 64 * PG - 8, &a, 8), 0);
	cr_assert_eq(copy_in_strv(mm, a + 64 * PG - 8, &v, &total, 1 << 20), -EFAULT);
	uint64_t bad = 0x10;
	cr_assert_eq(copy_out(mm, a + 8, &bad, 8), 0);
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, 1 << 20), -EFAULT);
	/* A string of MM_ARG_STRLEN bytes with its NUL is fine, one more is E2BIG. */
	uint64_t s = a + 4 * PG;
	char *big = malloc(MM_ARG_STRLEN + 1);
	memset(big, 'b', MM_ARG_STRLEN);
	big[MM_ARG_STRLEN - 1] = 0;
	cr_assert_eq(copy_out(mm, s, big, MM_ARG_STRLEN), 0);
	cr_assert_eq(copy_out(mm, a, &s, 8), 0);
	uint64_t z = 0;
	cr_assert_eq(copy_out(mm, a + 8, &z, 8), 0);
	total = 0;
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, 1 << 20), 1);
	cr_assert_eq(strlen(v[0]), MM_ARG_STRLEN - 1);
	strv_free(v);
	big[MM_ARG_STRLEN - 1] = 'b';
	cr_assert_eq(copy_out(mm, s, big, MM_ARG_STRLEN), 0);
	total = 0;
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, 1 << 20), -E2BIG);
	free(big);
}

/* Strings past the first buffer's 4 KiB, one straddling its end: each read whole, in order,
 * however often the buffer grows; and the budget still counts every byte. */
Test(strv, strings_past_the_first_buffer, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000;
	char *s[7], **v;
	size_t total = 0, sum = 8 * 7;
	cr_assert_eq(anon(a, 64 * PG, RW, LINUX_MAP_FIXED), (long)a);
	for (int i = 0; i < 7; i++) {
		size_t len = i == 2 ? 1100 : 1500 + 700 * (size_t)i;
		s[i] = malloc(len + 1);
		for (size_t k = 0; k < len; k++)
			s[i][k] = (char)('a' + (i + k) % 26);
		s[i][len] = 0;
		sum += len + 1;
	}
	put_strv(a, (const char *const *)s, 7);
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, 1 << 20), 7);
	for (int i = 0; i < 7; i++)
		cr_assert_str_eq(v[i], s[i], "string %d", i);
	cr_assert_null(v[7]);
	cr_assert_eq(total, sum);
	strv_free(v);
	total = 0;
	cr_assert_eq(copy_in_strv(mm, a, &v, &total, sum - 1), -E2BIG, "one byte short");
	cr_assert_null(v);
	for (int i = 0; i < 7; i++)
		free(s[i]);
}

Test(fork, scattered_writes_in_a_big_mapping, .init = setup, .fini = teardown)
{
	uint64_t len = 512ULL << 20;
	long a = anon(0, len, RW, 0);
	cr_assert_gt(a, 0);
	for (int round = 0; round < 3; round++) {
		struct mm *c = mm_fork(mm);
		cr_assert(c);
		cr_assert_eq(mm_activate(c), 0);
		for (uint64_t i = 0; i < 1000; i++)
			cr_assert_eq(app_write(c, (uint64_t)a + (i * PG * 37) % len, 2), 0);
		check_mirror(c);
		mm_put(c);
		for (uint64_t i = 0; i < 1000; i++)
			cr_assert_eq(app_write(mm, (uint64_t)a + (i * PG * 37) % len, 3), 0);
		check_mirror(mm);
	}
}

Test(fork, scattered_writes_64m, .init = setup, .fini = teardown)
{
	uint64_t len = 64ULL << 20;
	for (int k = 0; k < 10; k++)
		cr_assert_gt(anon(0, (k + 1) * PG, k % 2 ? RW : LINUX_PROT_READ, 0), 0);
	long a = anon(0, len + PG, RW, 0);
	cr_assert_gt(a, 0);
	uint64_t p = (uint64_t)a + 16;
	for (int round = 0; round < 3; round++) {
		size_t pages = round == 0 ? 0 : round == 1 ? 1 : 1000;
		struct mm *c = mm_fork(mm);
		cr_assert(c);
		cr_assert_eq(mm_activate(c), 0);
		for (uint64_t i = 0; i < pages; i++)
			cr_assert_eq(app_write(c, p + (i * PG * 37) % len, 2), 0);
		check_mirror(c);
		mm_put(c);
		for (uint64_t i = 0; i < pages; i++)
			cr_assert_eq(app_write(mm, p + (i * PG * 37) % len, 3), 0);
		check_mirror(mm);
	}
}

/* ---- the per-page map a copy-on-write break gives a VMA ---- */

/* Fill [a, a+len) of m page by page with the byte (page index + seed) through copy_out. */
static void fill_pages(struct mm *m, uint64_t a, uint64_t len, int seed)
{
	for (uint64_t p = 0; p < len; p += PG) {
		char c = (char)(p / PG + (uint64_t)seed);
		cr_assert_eq(copy_out(m, a + p, &c, 1), 0);
	}
}

/* Does [a, a+len) of m read as fill_pages(seed) wrote it? */
static void expect_pages(struct mm *m, uint64_t a, uint64_t len, int seed)
{
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(peek(m, a + p), (char)(p / PG + (uint64_t)seed), "page %#lx",
			     (unsigned long)(a + p));
}

Test(pgmap, split_merge_move_and_madvise, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 64 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	fill_pages(mm, a, len, 1);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	/* Every 5th page private in the child: one VMA, a map. */
	for (uint64_t p = 0; p < len; p += 5 * PG)
		cr_assert_eq(app_write(c, a + p, 'x'), 0);
	cr_assert_eq(c->n, 1);
	cr_assert(c->v[0].pm);
	check_mirror(c);
	/* mprotect splits it: the pieces share the map; back, they join again. */
	cr_assert_eq(mm_mprotect(c, a + 8 * PG, 16 * PG, LINUX_PROT_READ), 0);
	cr_assert_eq(c->n, 3);
	cr_assert_eq(c->v[0].pm, c->v[1].pm);
	cr_assert_eq(c->v[1].pm, c->v[2].pm);
	cr_assert_eq(c->v[0].pm->refs, 3);
	check_mirror(c);
	cr_assert_eq(mm_mprotect(c, a + 8 * PG, 16 * PG, RW), 0);
	cr_assert_eq(c->n, 1);
	cr_assert_eq(c->v[0].pm->refs, 1);
	check_mirror(c);
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(peek(c, a + p), p % (5 * PG) ? (char)(p / PG + 1) : 'x');
	expect_pages(mm, a, len, 1);
	/* Writes after the mprotect: private pages fault once more, shared ones copy. */
	for (uint64_t p = 0; p < len; p += 3 * PG)
		cr_assert_eq(app_write(c, a + p + 1, 'y'), 0);
	check_mirror(c);
	/* mremap moves the map with the VMA, grows it in place (the map gets the new pages). */
	uint64_t b = 0x50000000;
	cr_assert_eq(mm_mremap(c, a, len, len, LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED, b),
		     (long)b);
	cr_assert_eq(mm_mremap(c, b, len, 2 * len, 0, 0), (long)b);
	cr_assert_eq(c->n, 1, "the grown part joins the map");
	check_mirror(c);
	cr_assert_eq(peek(c, b + 3 * PG + 1), 'y');
	cr_assert_eq(peek(c, b + 5 * PG), 'x');
	cr_assert_eq(peek(c, b + 7 * PG), (char)(7 + 1));
	cr_assert_eq(peek(c, b + len + PG), 0);
	cr_assert_eq(app_write(c, b + len + PG, 'g'), 0);
	/* MADV_DONTNEED over private and shared pages: zeros; the parent keeps its bytes. */
	cr_assert_eq(mm_madvise(c, b + 2 * PG, 20 * PG, LINUX_MADV_DONTNEED), 0);
	for (uint64_t p = 2 * PG; p < 22 * PG; p += PG)
		cr_assert_eq(peek(c, b + p), 0);
	cr_assert_eq(peek(c, b + 22 * PG), (char)(22 + 1));
	check_mirror(c);
	expect_pages(mm, a, len, 1);
	/* munmap of the middle, then everything. */
	cr_assert_eq(mm_munmap(c, b + 30 * PG, 10 * PG), 0);
	check_mirror(c);
	cr_assert_eq(peek(c, b + 47 * PG), (char)(47 + 1));
	mm_put(c);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(memfile_used(), used0, "every page freed");
}

Test(pgmap, fork_of_a_fragmented_mm, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 256 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	fill_pages(mm, a, len, 3);
	struct mm *c1 = mm_fork(mm);
	cr_assert_eq(mm_activate(c1), 0);
	/* The parent writes scattered pages while the child lives: its own map fragments. */
	for (uint64_t p = 0; p < len; p += 7 * PG)
		cr_assert_eq(app_write(mm, a + p, 'P'), 0);
	cr_assert(mm->v[0].pm);
	expect_pages(c1, a, len, 3);
	/* A second fork copies the map; the grandchild maps each run of contiguous pages. */
	reset_counts();
	struct mm *c2 = mm_fork(mm);
	cr_assert_eq(n_protect, 1, "one write-protect for the parent's VMA");
	cr_assert_eq(mm_activate(c2), 0);
	cr_assert_gt(n_map, 1);
	check_mirror(c2);
	check_mirror(mm);
	for (uint64_t p = 0; p < len; p += PG)
		cr_assert_eq(peek(c2, a + p), p % (7 * PG) ? (char)(p / PG + 3) : 'P');
	/* Writes in any of the three stay there. */
	uint64_t used = memfile_used();
	for (uint64_t p = 0; p < len; p += 11 * PG)
		cr_assert_eq(app_write(c2, a + p + 2, 'G'), 0);
	cr_assert_eq(memfile_used(), used + 24 * PG);
	cr_assert_eq(peek(mm, a + 11 * PG + 2), 0, "(fill_pages wrote byte 0 only)");
	cr_assert_eq(peek(c1, a + 11 * PG + 2), 0);
	cr_assert_eq(peek(c2, a + 11 * PG + 2), 'G');
	check_mirror(c2);
	mm_put(c1);
	mm_put(c2);
	/* Alone again: the parent's next write re-protects everything in one call. */
	reset_counts();
	cr_assert_eq(app_write(mm, a + 100 * PG, 'Q'), 0);
	cr_assert_eq(n_protect + n_map, 1);
	cr_assert_eq(mm->v[0].flags & VMA_COW, 0);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(memfile_used(), used0);
}

Test(pgmap, copy_out_copies_only_shared_pages, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 16 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	fill_pages(mm, a, len, 5);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(app_write(c, a + 3 * PG, 'c'), 0);
	uint64_t used = memfile_used();
	/* Into the parent's page 3, which the child no longer holds: nothing to copy. */
	reset_counts();
	cr_assert_eq(copy_out(mm, a + 3 * PG + 1, "zz", 2), 0);
	cr_assert_eq(memfile_used(), used);
	cr_assert_eq(n_map + n_protect, 0);
	/* Across pages 2-4 of the child: pages 2 and 4 get copied, 3 is its own already. */
	char buf[2 * PG + 1];
	memset(buf, 'o', sizeof(buf));
	cr_assert_eq(copy_out(c, a + 3 * PG - 1, buf, sizeof(buf)), 0);
	cr_assert_eq(memfile_used(), used + 2 * PG);
	cr_assert_eq(peek(mm, a + 2 * PG), (char)(2 + 5));
	cr_assert_eq(peek(mm, a + 4 * PG), (char)(4 + 5));
	cr_assert_eq(peek(mm, a + 3 * PG + 1), 'z');
	cr_assert_eq(peek(c, a + 3 * PG + 1), 'o');
	check_mirror(c);
	check_mirror(mm);
	mm_put(c);
}

Test(pgmap, dontunmap_and_brk_growth, .init = setup, .fini = teardown)
{
	uint64_t a = 0x40000000, len = 8 * PG;
	cr_assert_eq(anon(a, len, RW, LINUX_MAP_FIXED), (long)a);
	fill_pages(mm, a, len, 9);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(app_write(c, a + 2 * PG, 'd'), 0);
	/* MREMAP_DONTUNMAP: the new range has the pages, the old one reads zeros. */
	long b = mm_mremap(c, a, len, len, LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_DONTUNMAP, 0);
	cr_assert_gt(b, 0);
	cr_assert_eq(peek(c, (uint64_t)b + 2 * PG), 'd');
	cr_assert_eq(peek(c, (uint64_t)b + 5 * PG), (char)(5 + 9));
	cr_assert_eq(peek(c, a + 2 * PG), 0);
	cr_assert_eq(peek(c, a + 5 * PG), 0);
	check_mirror(c);
	cr_assert_eq(app_write(c, (uint64_t)b + 5 * PG, 'e'), 0);
	expect_pages(mm, a, len, 9);
	mm_put(c);
	/* brk growth next to a heap with a map appends to the map. */
	mm_set_brk_base(mm, 0x60000000);
	cr_assert_eq(mm_brk(mm, 0x60000000 + 4 * PG), 0x60000000 + 4 * PG);
	fill_pages(mm, 0x60000000, 4 * PG, 2);
	c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(app_write(c, 0x60000000 + PG, 'h'), 0);
	for (int k = 1; k <= 8; k++)
		cr_assert_eq(mm_brk(c, 0x60000000 + (4 + 4 * k) * PG),
			     0x60000000 + (4 + 4 * k) * PG);
	struct vma *h = vma_lookup(c, 0x60000000);
	cr_assert(h && h->pm && h->end == 0x60000000 + 36 * PG, "one heap VMA with a map");
	cr_assert_eq(peek(c, 0x60000000 + PG), 'h');
	cr_assert_eq(peek(c, 0x60000000 + 2 * PG), (char)(2 + 2));
	cr_assert_eq(peek(c, 0x60000000 + 30 * PG), 0);
	cr_assert_eq(app_write(c, 0x60000000 + 30 * PG, 'n'), 0);
	check_mirror(c);
	mm_put(c);
	expect_pages(mm, 0x60000000, 4 * PG, 2);
}

Test(pgmap, fragmentation_is_bounded, .init = setup, .fini = teardown)
{
	uint64_t len = 16ULL << 20, a;
	size_t saved = mm_frag_max;
	mm_frag_max = 256;
	a = (uint64_t)anon(0, len, RW, 0);
	cr_assert_gt((long)a, 0);
	fill_pages(mm, a, len, 4);
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	/* Every other page, in order: each break alone would be two more mappings. */
	for (uint64_t p = 0; p < len; p += 2 * PG)
		cr_assert_eq(app_write(c, a + p + 1, 'f'), 0);
	struct fake_as *as = (struct fake_as *)c->as;
	cr_assert_lt(as->n, 2 * 256, "%zu platform mappings", as->n);
	cr_assert_eq(c->n, 1);
	check_mirror(c);
	for (uint64_t p = 0; p < len; p += PG) {
		cr_assert_eq(peek(c, a + p), (char)(p / PG + 4));
		cr_assert_eq(peek(c, a + p + 1), p % (2 * PG) ? 0 : 'f');
		cr_assert_eq(peek(mm, a + p + 1), 0);
	}
	/* The same for the parent, backwards, while the child lives. */
	for (uint64_t p = len; p > 0; p -= 2 * PG)
		cr_assert_eq(app_write(mm, a + p - PG + 2, 'm'), 0);
	cr_assert_lt(((struct fake_as *)mm->as)->n, 2 * 256);
	check_mirror(mm);
	cr_assert_eq(peek(c, a + len - PG + 2), 0);
	cr_assert_eq(peek(mm, a + len - PG + 2), 'm');
	mm_put(c);
	mm_frag_max = saved;
}

Test(pgmap, dense_scattered_writes_copy_windows, .init = setup, .fini = teardown)
{
	uint64_t len = 8ULL << 20, a = (uint64_t)anon(0, 8ULL << 20, RW, 0);
	cr_assert_gt((long)a, 0);
	fill_pages(mm, a, len, 6);
	/* Sparse: one page in 64 costs one fault and one page each. */
	mm_fault_worth = 8;
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	uint64_t used = memfile_used();
	n_faults = 0;
	for (uint64_t p = 0; p < len; p += 64 * PG)
		cr_assert_eq(app_write(c, a + p + 3, 's'), 0);
	cr_assert_eq(n_faults, (int)(len / (64 * PG)));
	cr_assert_eq(memfile_used(), used + len / 64);
	mm_put(c);
	/* Dense (one in four): after a few faults per window, whole windows are copied. */
	c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	n_faults = 0;
	for (uint64_t p = 0; p < len; p += 4 * PG)
		cr_assert_eq(app_write(c, a + p + 3, 'd'), 0);
	cr_assert_lt(n_faults, (int)(len / (4 * PG) / 4), "%d faults", n_faults);
	cr_assert_eq(c->n, 1);
	check_mirror(c);
	for (uint64_t p = 0; p < len; p += PG) {
		cr_assert_eq(peek(c, a + p), (char)(p / PG + 6));
		cr_assert_eq(peek(c, a + p + 3), p % (4 * PG) ? 0 : 'd');
		cr_assert_eq(peek(mm, a + p + 3), 0);
	}
	mm_put(c);
	mm_fault_worth = 1;
}

/* Copy-on-write breaks of whole windows may take a dead address space's kept pages
 * (memfile.c): they copy every page of the window, the parent's holes as zeros, so nothing
 * of the dead one shows. */
Test(pgmap, window_copies_into_kept_pages_leave_nothing_stale, .init = setup, .fini = teardown)
{
	uint64_t len = 8ULL << 20, a = (uint64_t)anon(0, 8ULL << 20, RW, 0);
	cr_assert_gt((long)a, 0);
	fill_pages(mm, a, len / 2, 6); /* the upper half stays holes */
	mm_fault_worth = 8;
	/* Children break windows (asking for runs), write everything, and die: the first one's
	 * pages are more than the breaks had asked for then, the second one's are kept. */
	struct mm *c;
	struct stat st0, st1;
	for (int i = 0; i < 2; i++) {
		c = mm_fork(mm);
		cr_assert_eq(mm_activate(c), 0);
		for (uint64_t p = 0; p < len; p += 4 * PG)
			cr_assert_eq(app_write(c, a + p + 3, 'd'), 0);
		for (uint64_t p = 0; p < len; p += PG)
			cr_assert_eq(app_write(c, a + p, 'x'), 0);
		fstat(memfile_fd(), &st0);
		mm_put(c);
		fstat(memfile_fd(), &st1);
	}
	cr_assert_eq(st1.st_blocks, st0.st_blocks, "the second child's pages kept, not punched");
	/* The next one's windows come from them, and show the parent's bytes and zeros. */
	c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	for (uint64_t p = 0; p < len; p += 4 * PG)
		cr_assert_eq(app_write(c, a + p + 3, 'e'), 0);
	check_mirror(c);
	for (uint64_t p = 0; p < len; p += PG) {
		char want = p < len / 2 ? (char)(p / PG + 6) : 0;
		cr_assert_eq(peek(c, a + p), want, "page %lu", (unsigned long)(p / PG));
		cr_assert_eq(peek(c, a + p + 3), p % (4 * PG) ? 0 : 'e');
		cr_assert_eq(peek(c, a + p + PG - 1), 0);
	}
	mm_put(c);
	mm_fault_worth = 1;
}

Test(pgmap, strided_writes_copy_ahead_when_faults_cost_more, .init = setup, .fini = teardown)
{
	uint64_t len = 8ULL << 20, a = (uint64_t)anon(0, 8ULL << 20, RW, 0);
	int touches = (int)((len + 10 * PG - 1) / (10 * PG));
	cr_assert_gt((long)a, 0);
	fill_pages(mm, a, len, 8);
	/* A fault worth 4 pages: copying 10 pages per write would cost more; page by page. */
	mm_fault_worth = 4;
	struct mm *c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	uint64_t used = memfile_used();
	n_faults = 0;
	for (uint64_t p = 0; p < len; p += 10 * PG)
		cr_assert_eq(app_write(c, a + p + 5, 'w'), 0);
	cr_assert_eq(n_faults, touches);
	cr_assert_eq(memfile_used(), used + (uint64_t)touches * PG);
	mm_put(c);
	/* Worth 16 pages: after three faults a stride apart, the next strides come along. */
	mm_fault_worth = 16;
	c = mm_fork(mm);
	cr_assert_eq(mm_activate(c), 0);
	n_faults = 0;
	for (uint64_t p = 0; p < len; p += 10 * PG)
		cr_assert_eq(app_write(c, a + p + 5, 'W'), 0);
	cr_assert_lt(n_faults, touches / 10, "%d faults for %d strided writes", n_faults, touches);
	check_mirror(c);
	for (uint64_t p = 0; p < len; p += PG) {
		cr_assert_eq(peek(c, a + p), (char)(p / PG + 8));
		cr_assert_eq(peek(c, a + p + 5), p % (10 * PG) ? 0 : 'W');
		cr_assert_eq(peek(mm, a + p + 5), 0);
	}
	mm_put(c);
	mm_fault_worth = 1;
}

/* Syscall patching's rewrite of code: only this mm's private, executable, non-writable pages
 * (the page another mm shares since a fork is copied first), only over the expected bytes. */
Test(code_rewrite, private_code_only, .init = setup, .fini = teardown)
{
	static const uint8_t old[7] = {0xb8, 0x27, 0, 0, 0, 0x0f, 0x05};
	static const uint8_t new[7] = {0xff, 0x24, 0x25, 0x40, 0, 0x06, 0};
	const int RX = LINUX_PROT_READ | LINUX_PROT_EXEC;
	uint64_t a = 0x40000000, s = a + 0x100;
	uint8_t got[7];

	cr_assert_eq(anon(a, 2 * PG, RX, LINUX_MAP_FIXED), (long)a);
	cr_assert_eq(copy_out_force(mm, s, old, 7), 0);
	cr_assert_eq(copy_out_force(mm, a + PG - 3, old, 7), 0);
	struct mm *c = mm_fork(mm);
	cr_assert(c);
	cr_assert_eq(mm_activate(c), 0);
	cr_assert_eq(mm_code_rewrite(mm, s, new, old, 7, 5), -EAGAIN, "not the expected bytes");
	cr_assert_eq(mm_code_rewrite(mm, a + 2 * PG, old, new, 7, 5), -EFAULT, "unmapped");
	cr_assert_eq(mm_code_rewrite(mm, a + 2 * PG - 3, old, new, 7, 5), -EFAULT, "past the end");
	cr_assert_eq(mm_code_rewrite(mm, s, old, new, 7, 5), 0);
	cr_assert_eq(copy_in(mm, got, s, 7), 0);
	cr_assert(!memcmp(got, new, 7), "rewritten");
	cr_assert_eq(copy_in(c, got, s, 7), 0);
	cr_assert(!memcmp(got, old, 7), "the fork child keeps its copy");
	/* Across two pages, the first copied already (above), the second now: two backings. */
	cr_assert_eq(mm_code_rewrite(mm, a + PG - 3, old, new, 7, 5), 0, "across pages");
	cr_assert_eq(copy_in(mm, got, a + PG - 3, 7), 0);
	cr_assert(!memcmp(got, new, 7), "rewritten across pages");
	cr_assert_eq(copy_in(c, got, a + PG - 3, 7), 0);
	cr_assert(!memcmp(got, old, 7), "the fork child keeps both pages");
	check_mirror(mm);
	check_mirror(c);
	mm_put(c);

	/* Writable (a JIT's), not executable, shared: never. */
	cr_assert_eq(mm_mprotect(mm, a, PG, RX | LINUX_PROT_WRITE), 0);
	cr_assert_eq(mm_code_rewrite(mm, s, new, old, 7, 5), -EACCES, "writable");
	cr_assert_eq(mm_mprotect(mm, a, PG, LINUX_PROT_READ), 0);
	cr_assert_eq(mm_code_rewrite(mm, s, new, old, 7, 5), -EACCES, "not executable");
	uint64_t b = 0x50000000;
	cr_assert_eq(mm_mmap(mm, b, PG, RX, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED,
			     NULL, 0),
		     (long)b);
	cr_assert_eq(copy_out_force(mm, b, old, 7), 0);
	cr_assert_eq(mm_code_rewrite(mm, b, old, new, 7, 5), -EACCES, "shared memory");
}
