/* Unit tests for sentry/mm's file pages (filemap.c, filemap_vma.c): a filemap's reads, writes,
 * holes and truncation; MAP_SHARED mappings of it (coherent with read/write, other mappings and
 * a forked child), SIGBUS past the end of the file for shared and private mappings, truncation
 * zapping every mapping, mremap/mprotect/madvise of shared file mappings, and no leaks, against
 * the fake platform of mm_fake.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/mm_fake.h"

static int n_kicks;
static struct mm *last_kicked[8];
static size_t n_last_kicked;
static void kick(struct mm *const *mms, size_t n)
{
	n_kicks++;
	n_last_kicked = MIN(n, ARRAY_SIZE(last_kicked));
	memcpy(last_kicked, mms, n_last_kicked * sizeof(*mms));
}

static int64_t charged;
static int64_t charge_limit = INT64_MAX;
static bool charge(int64_t delta)
{
	if (delta > 0 && charged + delta > charge_limit)
		return false;
	charged += delta;
	return true;
}

/* A "tmpfs" file of size bytes with contents i*7 at offset i. */
static struct file mkshared(int acc, uint64_t size)
{
	struct mm_filemap *fm = mm_filemap_create(charge, kick);
	cr_assert(fm);
	char *buf = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = (char)(i * 7);
	if (size)
		cr_assert_eq(mm_filemap_write(fm, buf, size, 0), (ssize_t)size);
	free(buf);
	return (struct file){.refs = 1, .flags = acc, .mode = LINUX_S_IFREG | 0644, .fm = fm};
}

/* The application reads/writes addr through the platform mapping, faulting like the MMU
 * (access unknown, as ptrace reports it) until it works. Returns 0 or the fault's error. */
static int app_access(struct mm *m, uint64_t addr, char *c, bool write)
{
	for (int tries = 0; tries < 4; tries++) {
		pthread_rwlock_rdlock(&m->lock);
		const struct fake_map *fmp = fake_lookup(m, addr);
		bool ok = fmp && (!write || (fmp->prot & LINUX_PROT_WRITE)) &&
			  fmp->prot != LINUX_PROT_NONE;
		if (ok) {
			char *p = memfile_ptr(fmp->moff + (addr - fmp->start));
			if (write)
				*p = *c;
			else
				*c = *p;
		}
		pthread_rwlock_unlock(&m->lock);
		if (ok)
			return 0;
		int r = mm_handle_fault(m, addr, 0);
		if (r < 0)
			return r;
	}
	cr_assert_fail("fault at %#lx not resolved", (unsigned long)addr);
	return -1;
}
static int app_read(struct mm *m, uint64_t addr, char *c) { return app_access(m, addr, c, false); }
static int app_write(struct mm *m, uint64_t addr, char c) { return app_access(m, addr, &c, true); }

/* ---- the filemap itself ---- */

Test(filemap, holes_writes_truncate, .init = setup, .fini = teardown)
{
	struct mm_filemap *fm = mm_filemap_create(charge, NULL);
	char buf[3 * PG];
	int64_t c0 = charged;

	cr_assert(fm);
	/* A write far away costs one page; the hole reads zeros. */
	cr_assert_eq(mm_filemap_write(fm, "abc", 3, 1ULL << 40), 3);
	cr_assert_eq(mm_filemap_size(fm), (1ULL << 40) + 3);
	cr_assert_eq(mm_filemap_bytes(fm), PG);
	cr_assert_eq(charged - c0, (int64_t)PG);
	memset(buf, 1, sizeof(buf));
	cr_assert_eq(mm_filemap_read(fm, buf, 10, 5 * PG), 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_eq(mm_filemap_read(fm, buf, 10, (1ULL << 40) + 1), 2, "clipped to the size");
	cr_assert_eq(memcmp(buf, "bc", 2), 0);
	/* Sequential writes extend one extent. */
	mm_filemap_truncate(fm, 0);
	cr_assert_eq(mm_filemap_bytes(fm), 0);
	cr_assert_eq(charged, c0);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(mm_filemap_write(fm, buf, 1000, (uint64_t)i * 1000), 1000);
	cr_assert_eq(fm->n, 1, "appends stay one extent");
	/* Shrinking zeros the tail of the last page; growing again shows zeros. */
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(mm_filemap_write(fm, buf, 2 * PG, 0), (ssize_t)(2 * PG));
	mm_filemap_truncate(fm, PG + 10);
	cr_assert_eq(mm_filemap_bytes(fm), 2 * PG);
	mm_filemap_truncate(fm, 3 * PG);
	cr_assert_eq(mm_filemap_read(fm, buf, sizeof(buf), 0), 3 * PG);
	cr_assert_eq(buf[PG + 9], 'x');
	for (uint64_t i = PG + 10; i < 3 * PG; i++)
		cr_assert_eq(buf[i], 0, "byte %lu", (unsigned long)i);
	/* ENOSPC: nothing written. */
	charge_limit = charged;
	cr_assert_eq(mm_filemap_write(fm, "z", 1, 10 * PG), -ENOSPC);
	cr_assert_eq(mm_filemap_size(fm), 3 * PG);
	charge_limit = INT64_MAX;
	mm_filemap_release(fm);
	cr_assert_eq(charged, c0);
	cr_assert_eq(memfile_used(), used0);
}

/* ---- MAP_SHARED ---- */

Test(shared, coherent_with_read_write, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDWR, 2 * PG + 100);
	long a = mm_mmap(mm, 0, 4 * PG, RW, LINUX_MAP_SHARED, &f, 0);
	char c, buf[16];

	cr_assert_gt(a, 0);
	cr_assert_eq(f.refs, 2);
	cr_assert(vma_filemap(&mm->v[0]));
	check_mirror(mm);
	/* The mapping's bytes are the file's. */
	cr_assert_eq(app_read(mm, (uint64_t)a + PG + 3, &c), 0);
	cr_assert_eq(c, (char)((PG + 3) * 7));
	cr_assert_eq(app_write(mm, (uint64_t)a + 5, 'M'), 0);
	cr_assert_eq(mm_filemap_read(f.fm, buf, 1, 5), 1);
	cr_assert_eq(buf[0], 'M', "a write through the mapping is the file's");
	cr_assert_eq(mm_filemap_write(f.fm, "W", 1, 7), 1);
	cr_assert_eq(app_read(mm, (uint64_t)a + 7, &c), 0);
	cr_assert_eq(c, 'W', "write(2) is seen through the mapping");
	/* copy_out/copy_in go through the file's pages too. */
	cr_assert_eq(copy_out(mm, (uint64_t)a + 8, "CO", 2), 0);
	cr_assert_eq(mm_filemap_read(f.fm, buf, 2, 8), 2);
	cr_assert_eq(memcmp(buf, "CO", 2), 0);
	cr_assert_eq(copy_in(mm, buf, (uint64_t)a + 7, 3), 0);
	cr_assert_eq(memcmp(buf, "WCO", 3), 0);
	/* The partial last page is accessible; the pages wholly past the end are not. */
	cr_assert_eq(app_read(mm, (uint64_t)a + 3 * PG - 1, &c), 0);
	cr_assert_eq(c, 0);
	cr_assert_eq(app_read(mm, (uint64_t)a + 3 * PG, &c), -ENXIO);
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + 4 * PG - 1, 0), -ENXIO);
	cr_assert_eq(copy_in(mm, buf, (uint64_t)a + 3 * PG - 2, 4), -EFAULT);
	cr_assert_eq(copy_out(mm, (uint64_t)a + 3 * PG, "x", 1), -EFAULT);
	check_mirror(mm);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a, 4 * PG), 0);
	cr_assert_eq(f.refs, 1);
	cr_assert_eq(mm_filemap_read(f.fm, buf, 1, 5), 1);
	cr_assert_eq(buf[0], 'M', "kept after unmapping");
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0);
}

Test(shared, holes_fault_in_and_grow, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDWR, 0);
	long a = mm_mmap(mm, 0, 64 * PG, RW, LINUX_MAP_SHARED, &f, 0);
	char c;

	cr_assert_gt(a, 0);
	cr_assert_eq(app_read(mm, (uint64_t)a, &c), -ENXIO, "an empty file: SIGBUS");
	mm_filemap_truncate(f.fm, 40 * PG);
	cr_assert_eq(mm_filemap_bytes(f.fm), 0, "growing costs nothing");
	cr_assert_eq(app_write(mm, (uint64_t)a + 20 * PG + 1, 'h'), 0, "a hole faults in");
	cr_assert_eq(mm_filemap_bytes(f.fm), FM_FAULT_CHUNK, "one chunk");
	cr_assert_eq(app_read(mm, (uint64_t)a + 39 * PG, &c), 0);
	cr_assert_eq(c, 0);
	cr_assert_eq(app_read(mm, (uint64_t)a + 40 * PG, &c), -ENXIO);
	char b;
	cr_assert_eq(mm_filemap_read(f.fm, &b, 1, 20 * PG + 1), 1);
	cr_assert_eq(b, 'h');
	check_mirror(mm);
	/* A fault it cannot back (ENOSPC) is SIGBUS too. */
	charge_limit = charged;
	cr_assert_eq(app_read(mm, (uint64_t)a + 2 * PG, &c), -ENXIO);
	charge_limit = INT64_MAX;
	mm_put(mm);
	mm = NULL;
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0);
}

Test(shared, truncate_zaps_every_mapping, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDWR, 8 * PG);
	long a = mm_mmap(mm, 0, 8 * PG, RW, LINUX_MAP_SHARED, &f, 0);
	long b = mm_mmap(mm, 0, 8 * PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &f, 0);
	long p = mm_mmap(mm, 0, 8 * PG, RW, LINUX_MAP_PRIVATE, &f, 0);
	char c;

	cr_assert(a > 0 && b > 0 && p > 0);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(app_read(mm, (uint64_t)a + i * PG, &c), 0);
		cr_assert_eq(app_read(mm, (uint64_t)b + i * PG, &c), 0);
	}
	struct mm *child = mm_fork(mm);
	cr_assert(child);
	cr_assert_eq(mm_activate(child), 0);
	cr_assert_eq(app_write(child, (uint64_t)a + 3, 'c'), 0);
	cr_assert_eq(app_read(mm, (uint64_t)b + 3, &c), 0);
	cr_assert_eq(c, 'c', "a child's write through MAP_SHARED is the parent's");
	check_mirror(child);

	uint64_t used = memfile_used();
	int kicks = n_kicks;
	mm_filemap_truncate(f.fm, 2 * PG + 1);
	cr_assert_eq(n_kicks, kicks + 1);
	cr_assert_eq(n_last_kicked, 2, "both address spaces");
	cr_assert_eq(memfile_used(), used, "the pages stay until every mm has unmapped them");
	cr_assert(mm->zap_pending && child->zap_pending);
	/* mm_plat_as applies the zaps (the run loop calls it before running the mm). */
	cr_assert(mm_plat_as(mm));
	cr_assert(!mm->zap_pending);
	cr_assert(fake_lookup(mm, (uint64_t)b + 2 * PG), "the partial page stays");
	cr_assert(!fake_lookup(mm, (uint64_t)a + 3 * PG) && !fake_lookup(mm, (uint64_t)b + 7 * PG));
	cr_assert(!fake_lookup(mm, (uint64_t)p + 3 * PG), "private mappings end there too");
	cr_assert_eq(app_read(mm, (uint64_t)p + 3 * PG, &c), -ENXIO);
	cr_assert_eq(app_read(mm, (uint64_t)a + 3 * PG, &c), -ENXIO);
	cr_assert_eq(copy_in(mm, &c, (uint64_t)a + 3 * PG, 1), -EFAULT);
	check_mirror(mm);
	cr_assert_eq(memfile_used(), used, "the child still holds them");
	cr_assert_eq(mm_handle_fault(child, (uint64_t)a + 5 * PG, 0), -ENXIO);
	cr_assert_eq(memfile_used(), used - 5 * PG, "freed once the child has unmapped them");
	check_mirror(child);
	/* Growing again: shared pages are holes (zeros), the private copy refills. */
	mm_filemap_truncate(f.fm, 8 * PG);
	cr_assert_eq(mm_filemap_write(f.fm, "G", 1, 6 * PG), 1);
	char got = 0;
	cr_assert_eq(copy_in(mm, &got, (uint64_t)p + 6 * PG, 1), 0);
	cr_assert_eq(got, 'G', "copy_in of a grown private page fills it from the file");
	check_mirror(mm);
	cr_assert_eq(app_read(mm, (uint64_t)a + 5 * PG, &c), 0);
	cr_assert_eq(c, 0);
	cr_assert_eq(app_read(mm, (uint64_t)p + 5 * PG, &c), 0,
		     "and the platform maps it at its first fault");
	cr_assert_eq(c, 0);
	cr_assert_eq(app_read(mm, (uint64_t)p + 6 * PG, &c), 0);
	cr_assert_eq(c, 'G');
	check_mirror(mm);
	mm_put(child);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(f.refs, 1);
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0, "nothing leaks");
}

Test(shared, private_sigbus_past_eof, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDONLY, 10);
	long p = mm_mmap(mm, 0, 3 * PG, RW, LINUX_MAP_PRIVATE, &f, 0);
	char c, buf[8];

	cr_assert_gt(p, 0);
	cr_assert_eq(mm->v[0].vend, PG);
	check_mirror(mm);
	cr_assert_eq(app_read(mm, (uint64_t)p + 100, &c), 0);
	cr_assert_eq(c, 0, "the partial page past the end reads zeros");
	cr_assert_eq(app_read(mm, (uint64_t)p + PG, &c), -ENXIO);
	cr_assert_eq(copy_in(mm, buf, (uint64_t)p + PG - 4, 8), -EFAULT);
	/* mprotect and fork leave the pages past the end alone. */
	cr_assert_eq(mm_mprotect(mm, (uint64_t)p, 3 * PG, LINUX_PROT_READ), 0);
	check_mirror(mm);
	struct mm *child = mm_fork(mm);
	cr_assert_eq(mm_activate(child), 0);
	check_mirror(child);
	cr_assert_eq(mm_handle_fault(child, (uint64_t)p + 2 * PG, 0), -ENXIO);
	mm_put(child);
	/* A file that is not a filemap (the lower layer): the end never moves. */
	struct file g = {.refs = 1,
			 .data = "0123456789",
			 .size = 10,
			 .flags = LINUX_O_RDONLY,
			 .mode = LINUX_S_IFREG | 0644};
	long q = mm_mmap(mm, 0, 2 * PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &g, 0);
	cr_assert_gt(q, 0, "read-only MAP_SHARED of a file without pages: a copy");
	size_t qi = vma_index(mm, (uint64_t)q);
	cr_assert(mm->v[qi].flags & VMA_SHARED_COPY);
	cr_assert_eq(app_read(mm, (uint64_t)q + 5, &c), 0);
	cr_assert_eq(c, '5');
	cr_assert_eq(app_read(mm, (uint64_t)q + PG, &c), -ENXIO);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)q, PG, RW), -EACCES, "never writable");
	g.flags = LINUX_O_RDWR;
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &g, 0), -ENODEV);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0);
}

Test(shared, mremap_mprotect_madvise, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDWR, 4 * PG);
	long a = mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_SHARED, &f, PG);
	char c;

	cr_assert_gt(a, 0);
	cr_assert_eq(app_write(mm, (uint64_t)a, 'A'), 0); /* file offset PG */
	/* Grow in place or move: the file offsets continue, and it is still the file. */
	long g = mm_mremap(mm, (uint64_t)a, 2 * PG, 5 * PG, LINUX_MREMAP_MAYMOVE, 0);
	cr_assert_gt(g, 0);
	cr_assert_eq(app_read(mm, (uint64_t)g, &c), 0);
	cr_assert_eq(c, 'A');
	cr_assert_eq(app_read(mm, (uint64_t)g + 2 * PG, &c), 0);
	cr_assert_eq(c, (char)(3 * PG * 7));
	cr_assert_eq(app_read(mm, (uint64_t)g + 3 * PG, &c), -ENXIO, "file offset 4 pages: EOF");
	long m = mm_mremap(mm, (uint64_t)g, 5 * PG, 5 * PG,
			   LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED, 0x60000000);
	cr_assert_eq(m, 0x60000000);
	cr_assert_eq(app_read(mm, (uint64_t)m, &c), 0);
	cr_assert_eq(c, 'A');
	/* Duplicate (old size 0): the same pages again. */
	long d = mm_mremap(mm, (uint64_t)m, 0, PG, LINUX_MREMAP_MAYMOVE, 0);
	cr_assert_gt(d, 0);
	cr_assert_eq(app_write(mm, (uint64_t)d, 'D'), 0);
	cr_assert_eq(app_read(mm, (uint64_t)m, &c), 0);
	cr_assert_eq(c, 'D');
	check_mirror(mm);
	/* mprotect: the present pages follow. */
	cr_assert_eq(mm_mprotect(mm, (uint64_t)m, 5 * PG, LINUX_PROT_READ), 0);
	check_mirror(mm);
	cr_assert_eq(app_write(mm, (uint64_t)m, 'x'), -EACCES);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)m, 5 * PG, RW), 0);
	/* DONTNEED keeps the file's pages; REMOVE punches them out of the file. */
	cr_assert_eq(mm_madvise(mm, (uint64_t)m, 2 * PG, LINUX_MADV_DONTNEED), 0);
	cr_assert_eq(app_read(mm, (uint64_t)m, &c), 0);
	cr_assert_eq(c, 'D');
	cr_assert_eq(mm_madvise(mm, (uint64_t)m, PG, 9 /* MADV_REMOVE */), 0);
	cr_assert_eq(app_read(mm, (uint64_t)m, &c), 0);
	cr_assert_eq(c, 0, "punched");
	cr_assert_eq(app_read(mm, (uint64_t)d, &c), 0);
	cr_assert_eq(c, 0, "in every mapping");
	cr_assert_eq(mm_filemap_read(f.fm, &c, 1, PG), 1);
	cr_assert_eq(c, 0, "and in the file");
	check_mirror(mm);
	/* A read-only shared mapping of an O_RDONLY file can never be made writable. */
	f.flags = LINUX_O_RDONLY;
	long r = mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &f, 0);
	cr_assert_gt(r, 0);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)r, PG, RW), -EACCES);
	cr_assert_eq(mm_madvise(mm, (uint64_t)r, PG, 9), -EACCES);
	mm_put(mm);
	mm = NULL;
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0);
}

Test(shared, activation_maps_present_pages, .init = setup, .fini = teardown)
{
	struct file f = mkshared(LINUX_O_RDWR, 3 * PG);
	struct mm *m2 = mm_create(&fake_plat);
	long a = mm_mmap(m2, 0, 4 * PG, RW, LINUX_MAP_SHARED, &f, 0);
	long p = mm_mmap(m2, 0, 4 * PG, RW, LINUX_MAP_PRIVATE, &f, 0);

	cr_assert(a > 0 && p > 0);
	mm_filemap_truncate(f.fm, PG); /* queued on the inactive mm: applied at activation */
	cr_assert_eq(mm_activate(m2), 0);
	check_mirror(m2);
	cr_assert(fake_lookup(m2, (uint64_t)a) && !fake_lookup(m2, (uint64_t)a + PG));
	cr_assert(!fake_lookup(m2, (uint64_t)p + PG));
	mm_put(m2);
	mm_filemap_release(f.fm);
	cr_assert_eq(memfile_used(), used0);
}
