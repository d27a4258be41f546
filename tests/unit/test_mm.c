/* Unit tests for sentry/mm: the memory file, VMAs (mmap, munmap, mprotect, mremap, madvise, brk)
 * against a fake platform that records and checks every mapping it is told about, and
 * copy_in/copy_out. Fork and copy-on-write: test_mm_cow.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/mm_fake.h"

/* ---- the memory file ---- */

Test(memfile, alloc_free_coalesce, .init = setup, .fini = teardown)
{
	uint64_t a, b, c, d;
	cr_assert_eq(memfile_alloc(0, &a), -EINVAL);
	cr_assert_eq(memfile_alloc(100, &a), -EINVAL);
	cr_assert_eq(memfile_alloc(PG, &a), 0);
	cr_assert_eq(memfile_alloc(2 * PG, &b), 0);
	cr_assert_eq(memfile_alloc(PG, &c), 0);
	cr_assert(b == a + PG && c == b + 2 * PG, "first fit from the bottom");
	cr_assert_eq(memfile_used(), used0 + 4 * PG);
	memfile_free(b, 2 * PG);
	cr_assert_eq(memfile_alloc(PG, &d), 0);
	cr_assert_eq(d, b, "reuses the hole");
	memfile_free(d, PG);
	memfile_free(a, PG);
	memfile_free(c, PG);
	cr_assert_eq(memfile_used(), used0);
	cr_assert_eq(memfile_alloc(4 * PG, &d), 0);
	cr_assert_eq(d, a, "freed neighbours coalesce");
	cr_assert_eq(memfile_alloc_at(d + 4 * PG, 2 * PG), 0, "extend in place");
	cr_assert_eq(memfile_alloc_at(d + 4 * PG, PG), -ENOMEM, "already taken");
	memfile_free(d, 6 * PG);
	cr_assert_eq(memfile_used(), used0);
}

Test(memfile, freed_pages_go_back_to_the_host, .init = setup, .fini = teardown)
{
	uint64_t off;
	struct stat st0, st1, st2;
	cr_assert_eq(memfile_alloc(256 * PG, &off), 0);
	fstat(memfile_fd(), &st0);
	memset(memfile_ptr(off), 0xab, 256 * PG);
	fstat(memfile_fd(), &st1);
	cr_assert_geq(st1.st_blocks - st0.st_blocks, 256 * PG / 512);
	memfile_free(off, 256 * PG);
	fstat(memfile_fd(), &st2);
	cr_assert_leq(st2.st_blocks, st0.st_blocks);
	cr_assert_eq(memfile_alloc(256 * PG, &off), 0);
	cr_assert_eq(((char *)memfile_ptr(off))[100], 0, "reallocated pages read as zero");
	memfile_free(off, 256 * PG);
}

/* Frees in a batch wait for its end, then go back in order: the held range between two runs
 * keeps its pages, the freed ones read as zero when handed out again. */
Test(memfile, batch_frees_at_its_end, .init = setup, .fini = teardown)
{
	uint64_t a, b, c, held, d, x;
	struct stat st0, st1, st2;

	cr_assert_eq(memfile_alloc(2 * PG, &a), 0);
	cr_assert_eq(memfile_alloc(PG, &b), 0);
	cr_assert_eq(memfile_alloc(2 * PG, &c), 0);
	cr_assert_eq(memfile_alloc(PG, &held), 0);
	cr_assert_eq(memfile_alloc(3 * PG, &d), 0);
	cr_assert(b == a + 2 * PG && c == b + PG && held == c + 2 * PG && d == held + PG);
	fstat(memfile_fd(), &st0);
	memset(memfile_ptr(a), 0xcd, 9 * PG);
	fstat(memfile_fd(), &st1);

	memfile_batch_begin();
	memfile_decref(c, 2 * PG);
	memfile_decref(d + PG, 2 * PG);
	memfile_batch_begin(); /* nested: its end frees nothing yet */
	memfile_decref(a, 2 * PG);
	memfile_batch_end();
	memfile_decref(b, PG);
	memfile_decref(d, PG);
	cr_assert_eq(memfile_used(), used0 + 9 * PG, "nothing freed before the batch ends");
	fstat(memfile_fd(), &st2);
	cr_assert_eq(st2.st_blocks, st1.st_blocks, "nothing punched before the batch ends");
	cr_assert_eq(memfile_alloc(PG, &x), 0);
	cr_assert(x < a || x >= d + 3 * PG,
		  "a range freed in the batch is not handed out before its end");
	memfile_free(x, PG);
	memfile_batch_end();

	cr_assert_eq(memfile_used(), used0 + PG, "all but the held page freed");
	fstat(memfile_fd(), &st2);
	cr_assert_leq(st2.st_blocks - st0.st_blocks, PG / 512, "only the held page left");
	cr_assert_eq(((unsigned char *)memfile_ptr(held))[0], 0xcd, "the held page kept");
	cr_assert_eq(memfile_alloc(5 * PG, &x), 0);
	cr_assert_eq(x, a, "the run before the held page is free again, whole");
	for (uint64_t i = 0; i < 5 * PG; i += PG)
		cr_assert_eq(((char *)memfile_ptr(x))[i], 0, "reallocated pages read as zero");
	memfile_free(x, 5 * PG);
	memfile_free(held, PG);
	memfile_batch_end(); /* unbalanced: ignored */
	cr_assert_eq(memfile_used(), used0);
}

/* A teardown's runs are kept unpunched only up to what fork copies have asked for, never
 * handed out by memfile_alloc, and handed to memfile_alloc_overwrite best fit, stale; a rest
 * too small to keep is punched and freed at once. */
Test(memfile, teardown_runs_kept_for_fork_copies, .init = setup, .fini = teardown)
{
	uint64_t a, x, y, z, w;
	struct stat st0, st1;
	unsigned char *p;

	/* Nothing asked for yet: a teardown's run is punched as before. */
	cr_assert_eq(memfile_alloc(32 * PG, &a), 0);
	memset(memfile_ptr(a), 0xcd, 32 * PG);
	memfile_batch_begin();
	memfile_decref(a, 32 * PG);
	memfile_batch_end_keep(true);
	cr_assert_eq(memfile_used(), used0);
	cr_assert_eq(memfile_alloc(32 * PG, &y), 0);
	cr_assert_eq(y, a);
	cr_assert_eq(((char *)memfile_ptr(y))[PG], 0, "punched");
	memfile_free(y, 32 * PG);

	/* A copy of 64 pages asks for that much (and gets fresh pages: nothing kept). */
	cr_assert_eq(memfile_alloc_overwrite(64 * PG, &x), 0);
	memset(memfile_ptr(x), 0xcd, 64 * PG);
	fstat(memfile_fd(), &st0);
	memfile_batch_begin();
	memfile_decref(x, 64 * PG);
	memfile_batch_end_keep(true);
	fstat(memfile_fd(), &st1);
	cr_assert_eq(memfile_used(), used0, "kept pages are not in use");
	cr_assert_eq(st1.st_blocks, st0.st_blocks, "nor punched");
	cr_assert_eq(memfile_alloc(64 * PG, &y), 0);
	cr_assert(y >= x + 64 * PG || y + 64 * PG <= x, "memfile_alloc hands out no kept page");

	cr_assert_eq(memfile_alloc_overwrite(40 * PG, &z), 1);
	cr_assert_eq(z, x);
	p = memfile_ptr(z);
	cr_assert_eq(p[0], 0xcd, "stale, as said");
	cr_assert_eq(memfile_alloc_overwrite(20 * PG, &w), 1, "the 24 pages left are kept");
	cr_assert_eq(w, x + 40 * PG);
	p = memfile_ptr(x + 60 * PG);
	cr_assert_eq(p[0], 0, "the 4 pages left are too few to keep: punched");
	cr_assert_eq(memfile_used(), used0 + 124 * PG);
	cr_assert_eq(memfile_alloc_overwrite(16 * PG, &a), 0, "nothing kept any more");
	memfile_free(a, 16 * PG);
	memfile_free(w, 20 * PG);
	memfile_free(z, 40 * PG);
	memfile_free(y, 64 * PG);
	cr_assert_eq(memfile_used(), used0);
}

/* With every slot taken, a larger run takes the place of the smallest one kept, which is
 * punched and freed. */
Test(memfile, a_larger_run_replaces_the_smallest_kept, .init = setup, .fini = teardown)
{
	enum { N = 32, RUN = 16 * PG };
	uint64_t run[N], spacer[N], big, x;

	cr_assert_eq(memfile_alloc_overwrite(40 * RUN, &x), 0); /* asks for 40 runs' worth */
	memfile_free(x, 40 * RUN);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(memfile_alloc(RUN, &run[i]), 0);
		cr_assert_eq(memfile_alloc(PG, &spacer[i]), 0); /* keeps the runs apart */
		memset(memfile_ptr(run[i]), 0xcd, RUN);
	}
	cr_assert_eq(memfile_alloc(2 * RUN, &big), 0);
	memset(memfile_ptr(big), 0xcd, 2 * RUN);
	memfile_batch_begin();
	for (int i = 0; i < N; i++)
		memfile_decref(run[i], RUN);
	memfile_batch_end_keep(true);
	cr_assert_eq(memfile_used(), used0 + N * PG + 2 * RUN, "all 32 runs kept");
	memfile_batch_begin();
	memfile_decref(big, 2 * RUN);
	memfile_batch_end_keep(true);
	cr_assert_eq(memfile_used(), used0 + N * PG, "the larger run kept too");
	int gone = -1;
	for (int i = 0; i < N; i++)
		if (((unsigned char *)memfile_ptr(run[i]))[0] == 0)
			gone = gone < 0 ? i : -2;
	cr_assert_geq(gone, 0, "exactly one small run given back (punched)");
	cr_assert_eq(memfile_alloc_overwrite(2 * RUN, &x), 1);
	cr_assert_eq(x, big, "the larger run, kept");
	memfile_free(x, 2 * RUN);
	for (int i = 0; i < N; i++) {
		if (i != gone) {
			cr_assert_eq(memfile_alloc_overwrite(RUN, &x), 1);
			memfile_free(x, RUN);
		}
		memfile_free(spacer[i], PG);
	}
	cr_assert_eq(memfile_alloc_overwrite(RUN, &x), 0, "nothing kept any more");
	memfile_free(x, RUN);
	cr_assert_eq(memfile_used(), used0);
}

Test(memfile, refcounts, .init = setup, .fini = teardown)
{
	uint64_t off;
	cr_assert_eq(memfile_alloc(8 * PG, &off), 0);
	cr_assert(memfile_exclusive(off, 8 * PG));
	cr_assert_eq(memfile_incref(off + 2 * PG, 4 * PG), 0);
	cr_assert(!memfile_exclusive(off, 8 * PG));
	cr_assert(memfile_exclusive(off, 2 * PG));
	cr_assert_eq(memfile_incref(off + 4 * PG, 4 * PG), 0);
	/* refs: pages 0-1: 1, 2-3: 2, 4-5: 3, 6-7: 2 */
	memset(memfile_ptr(off), 1, 8 * PG);
	memfile_decref(off, 8 * PG);
	/* 0-1 freed; 2-3: 1, 4-5: 2, 6-7: 1 */
	cr_assert_eq(memfile_used(), used0 + 6 * PG);
	cr_assert(memfile_exclusive(off + 2 * PG, 2 * PG));
	cr_assert(!memfile_exclusive(off + 4 * PG, PG));
	cr_assert_eq(((char *)memfile_ptr(off + 4 * PG))[0], 1, "shared pages keep contents");
	memfile_decref(off + 2 * PG, 6 * PG);
	/* 4-5: 1 */
	cr_assert_eq(memfile_used(), used0 + 2 * PG);
	cr_assert(memfile_exclusive(off + 4 * PG, 2 * PG));
	memfile_decref(off + 4 * PG, 2 * PG);
	cr_assert_eq(memfile_used(), used0);
}

/* ---- mmap ---- */

Test(mmap, anonymous_top_down, .init = setup, .fini = teardown)
{
	long a = anon(0, 3 * PG + 1, RW, 0);
	cr_assert_gt(a, 0);
	cr_assert(IS_PAGE_ALIGNED(a));
	cr_assert_eq((uint64_t)a + 4 * PG, mm_mmap_base(mm), "first mmap ends at the mmap base");
	long b = anon(0, PG, RW, 0);
	cr_assert_eq(b, a - (long)PG, "the next one goes below");
	char buf[4 * PG];
	memset(buf, 1, sizeof(buf));
	cr_assert_eq(copy_in(mm, buf, (uint64_t)a, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0);
	/* Adjacent anonymous mappings are one mapping to the application (they may stay two
	 * VMAs inside when their backing is not contiguous). */
	struct mm_vma_info vis[4] = {0};
	mm_for_each_vma(mm, count_vma, vis);
	cr_assert_eq(vis[0].prot, 1);
	cr_assert_eq(vis[1].start, (uint64_t)b);
	cr_assert_eq(vis[1].end, (uint64_t)a + 4 * PG);
	cr_assert_eq(mm_mremap(mm, (uint64_t)b, 5 * PG, 6 * PG, LINUX_MREMAP_MAYMOVE, 0) > 0, true,
		     "and mremap treats them as one");
	check_mirror(mm);
}

/* What an exec's loader asks before it maps an interpreter's segments: where mmap would put the
 * span, with nothing mapped and no memory-file space taken (sentry/loader/loader.c). */
Test(mmap, find_unmapped_maps_nothing, .init = setup, .fini = teardown)
{
	long a = anon(0, 2 * PG, RW, 0);
	cr_assert_gt(a, 0);
	uint64_t used = memfile_used();
	long f = mm_find_unmapped(mm, 3 * PG);
	cr_assert_eq(f, a - 3 * (long)PG, "top-down below the last mapping, as mmap would");
	cr_assert_eq(memfile_used(), used, "no memory-file space");
	cr_assert_eq(mm_range_mapped(mm, (uint64_t)f, PG), false, "nothing mapped");
	cr_assert_eq(anon(0, 3 * PG, RW, 0), f, "mmap without a hint picks the same place");
	cr_assert_eq(mm_find_unmapped(mm, 0), -ENOMEM);
	cr_assert_eq(mm_find_unmapped(mm, PG + 1), -ENOMEM, "a length that is not page aligned");
	cr_assert_eq(mm_find_unmapped(mm, mm_stack_top(mm)), -ENOMEM, "more than there is");
	check_mirror(mm);
}

Test(mmap, hint_and_fixed, .init = setup, .fini = teardown)
{
	uint64_t h = 0x10000000;
	cr_assert_eq(anon(h, 4 * PG, RW, 0), (long)h, "free hint honoured");
	cr_assert_eq(anon(h + 123, PG, RW, 0) == (long)h, false, "taken hint not used");
	cr_assert_eq(anon(0x1000, PG, RW, 0) >= (long)LINUX_MMAP_MIN, true);
	/* Write a pattern, MAP_FIXED over the middle: zeros there, neighbours intact. */
	char pat[4 * PG];
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (char)(i * 7 + 1);
	cr_assert_eq(copy_out(mm, h, pat, sizeof(pat)), 0);
	cr_assert_eq(anon(h + PG, 2 * PG, LINUX_PROT_READ, LINUX_MAP_FIXED), (long)(h + PG));
	char got[4 * PG];
	cr_assert_eq(copy_in(mm, got, h, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, pat, PG), 0);
	cr_assert_eq(memcmp(got + 3 * PG, pat + 3 * PG, PG), 0);
	for (size_t i = PG; i < 3 * PG; i++)
		cr_assert_eq(got[i], 0);
	cr_assert_eq(anon(h, PG, RW, LINUX_MAP_FIXED_NOREPLACE), -EEXIST);
	cr_assert_eq(anon(h + 4 * PG, PG, RW, LINUX_MAP_FIXED_NOREPLACE), (long)(h + 4 * PG));
	check_mirror(mm);
}

Test(mmap, errors_as_linux, .init = setup, .fini = teardown)
{
	int pa = LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS;
	cr_assert_eq(mm_mmap(mm, 0, 0, RW, pa, NULL, 0), -EINVAL);
	cr_assert_eq(mm_mmap(mm, 0x10000001, PG, RW, pa | LINUX_MAP_FIXED, NULL, 0), -EINVAL);
	cr_assert_eq(mm_mmap(mm, TOP - PG, 2 * PG, RW, pa | LINUX_MAP_FIXED, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, TOP + 1, 2 * PG, RW, pa | LINUX_MAP_FIXED, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, 0, 1ULL << 47, RW, pa, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, 0, -PG, RW, pa, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, 0, ~0ULL, RW, pa, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, 0x1000, PG, RW, pa | LINUX_MAP_FIXED, NULL, 0), -EPERM);
	cr_assert_eq(mm_mmap(mm, 0, PG, RW, LINUX_MAP_ANONYMOUS, NULL, 0), -EINVAL);
	cr_assert_eq(
	    mm_mmap(mm, 0, PG, RW, LINUX_MAP_SHARED_VALIDATE | LINUX_MAP_ANONYMOUS, NULL, 0),
	    -EINVAL);
	cr_assert_eq(mm_mmap(mm, 0, PG, RW,
			     LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS | LINUX_MAP_GROWSDOWN, NULL, 0),
		     -EINVAL);
	cr_assert_eq(mm_mmap(mm, 0, PG, RW, pa | LINUX_MAP_HUGETLB, NULL, 0), -ENOMEM);
	cr_assert_eq(mm_mmap(mm, 0, PG, RW, pa, NULL, 1), -EINVAL);
	cr_assert_eq(mm->n, 0);
	cr_assert_eq(memfile_used(), used0, "failed mmaps leak nothing");
	/* Unknown prot bits are ignored by mmap. */
	cr_assert_gt(mm_mmap(mm, 0, PG, 0x10 | LINUX_PROT_READ, pa, NULL, 0), 0);
}

Test(mmap, platform_failure_undoes, .init = setup, .fini = teardown)
{
	fail_map = 1;
	cr_assert_lt(anon(0, PG, RW, 0), 0);
	fail_map = 0;
	cr_assert_eq(mm->n, 0);
	cr_assert_eq(memfile_used(), used0);
}

static char fdata[3 * PG + 100];
static struct file mkfile(int acc)
{
	for (size_t i = 0; i < sizeof(fdata); i++)
		fdata[i] = (char)(i % 251 + 1);
	return (struct file){.refs = 1,
			     .data = fdata,
			     .size = sizeof(fdata),
			     .flags = acc,
			     .mode = LINUX_S_IFREG | 0644};
}

Test(mmap, private_file, .init = setup, .fini = teardown)
{
	struct file f = mkfile(LINUX_O_RDONLY);
	long a = mm_mmap(mm, 0, 8 * PG, RW, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(a, 0);
	cr_assert_eq(f.refs, 2, "the mapping holds a reference");
	char got[4 * PG];
	cr_assert_eq(copy_in(mm, got, (uint64_t)a, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, fdata, sizeof(fdata)), 0);
	for (size_t i = sizeof(fdata); i < sizeof(got); i++)
		cr_assert_eq(got[i], 0, "past EOF reads zero");
	/* Writes stay private. */
	cr_assert_eq(copy_out(mm, (uint64_t)a, "XY", 2), 0);
	cr_assert_eq(fdata[0], 1);
	long b = mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, PG);
	cr_assert_eq(copy_in(mm, got, (uint64_t)b, PG), 0);
	cr_assert_eq(memcmp(got, fdata + PG, PG), 0, "offset mapping");
	/* Splitting the file mapping keeps per-VMA file references and offsets. */
	cr_assert_eq(mm_munmap(mm, (uint64_t)a + PG, PG), 0);
	cr_assert_eq(f.refs, 4);
	cr_assert_eq(copy_in(mm, got, (uint64_t)a + 2 * PG, PG), 0);
	cr_assert_eq(memcmp(got, fdata + 2 * PG, PG), 0);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(f.refs, 1, "all references dropped");
	cr_assert_eq(memfile_used(), used0);
}

/* A private mapping of a file_fill_lazily file (goferfs) made without MAP_FIXED is read at its
 * first access, all of it at once; what MAP_FIXED lays over it before then is never read. */
Test(mmap, lazy_private_file, .init = setup, .fini = teardown)
{
	struct file f = mkfile(LINUX_O_RDONLY);
	char got[4 * PG], s[64];
	f.lazy = true;

	/* ld.so: a reservation of the whole span, then the segments over it */
	long a = mm_mmap(mm, 0, 4 * PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(a, 0);
	cr_assert_eq(f.reads, 0, "nothing read at mmap time");
	cr_assert_null(fake_lookup(mm, (uint64_t)a), "nothing mapped before it is filled");
	check_mirror(mm);
	cr_assert_eq(mm_mmap(mm, (uint64_t)a + 2 * PG, 2 * PG, RW,
			     LINUX_MAP_PRIVATE | LINUX_MAP_FIXED, &f, 2 * PG),
		     a + 2 * (long)PG);
	cr_assert_gt(f.reads, 0, "MAP_FIXED and writable: filled at once");
	cr_assert(fake_lookup(mm, (uint64_t)a + 2 * PG));
	int reads = f.reads;
	/* a MAP_FIXED text segment is filled as it is touched */
	long t = mm_mmap(mm, 0, 2 * PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(t, 0);
	cr_assert_eq(f.reads, reads);
	cr_assert_eq(mm_mmap(mm, (uint64_t)t, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC,
			     LINUX_MAP_PRIVATE | LINUX_MAP_FIXED, &f, PG),
		     t);
	cr_assert_eq(f.reads, reads, "MAP_FIXED without PROT_WRITE: not read at mmap time");
	cr_assert_null(fake_lookup(mm, (uint64_t)t));
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)t + PG, LINUX_PROT_EXEC), 0);
	cr_assert_gt(f.reads, reads);
	cr_assert(fake_lookup(mm, (uint64_t)t) && fake_lookup(mm, (uint64_t)t + PG));
	cr_assert_eq(copy_in(mm, got, (uint64_t)t, 2 * PG), 0);
	cr_assert_eq(memcmp(got, fdata + PG, 2 * PG), 0);
	cr_assert_eq(mm_munmap(mm, (uint64_t)t, 2 * PG), 0);
	check_mirror(mm);
	reads = f.reads;
	/* the first fault fills what is left of the reservation and maps it */
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + PG + 5, LINUX_PROT_READ), 0);
	cr_assert_gt(f.reads, reads);
	cr_assert(fake_lookup(mm, (uint64_t)a) && fake_lookup(mm, (uint64_t)a + PG));
	cr_assert_eq(copy_in(mm, got, (uint64_t)a, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, fdata, sizeof(fdata)), 0);
	for (size_t i = sizeof(fdata); i < sizeof(got); i++)
		cr_assert_eq(got[i], 0, "past EOF reads zero");
	check_mirror(mm);

	/* copy_in_str and copy_in fill it too (the platform maps it at its first fault) */
	long b = mm_mmap(mm, 0, 5 * PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(b, 0);
	reads = f.reads;
	cr_assert_eq(copy_in_str(mm, s, (uint64_t)b + sizeof(fdata) - 10, sizeof(s)), 10,
		     "a string running into the zeros past EOF");
	cr_assert_eq(memcmp(s, fdata + sizeof(fdata) - 10, 10), 0);
	cr_assert_gt(f.reads, reads);
	cr_assert_eq(copy_in(mm, got, (uint64_t)b, PG), 0);
	cr_assert_eq(memcmp(got, fdata, PG), 0);
	check_mirror(mm);
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)b + PG, LINUX_PROT_READ), 0);
	cr_assert(fake_lookup(mm, (uint64_t)b) && fake_lookup(mm, (uint64_t)b + 3 * PG),
		  "the fault maps the filled pages around it");
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)b + 4 * PG, LINUX_PROT_READ), -ENXIO,
		     "past the end of the file: SIGBUS");
	cr_assert_eq(copy_in(mm, got, (uint64_t)b + 4 * PG, 1), -EFAULT);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(f.refs, 1, "all references dropped");
	cr_assert_eq(memfile_used(), used0);
}

/* Private mappings that cannot be written share a page cache's pages copy-on-write (the file
 * read into the cache at the first access, once), also the part within the file of one
 * reaching past its end (ld.so's reservation); writable ones copy, as before. */
Test(mmap, page_cache_shared_copy_on_write, .init = setup, .fini = teardown)
{
	struct file f = mkfile(LINUX_O_RDONLY);
	uint64_t flen = PAGE_ALIGN_UP(sizeof(fdata));
	char got[4 * PG];

	f.cache = mm_fcache_create(flen);
	cr_assert_not_null(f.cache);
	uint64_t cmoff = f.cache->moff;
	uint64_t used = memfile_used();
	long a = mm_mmap(mm, 0, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f,
			 PG);
	cr_assert_gt(a, 0);
	cr_assert_eq(f.reads, 0, "nothing read at mmap time");
	cr_assert_eq(memfile_used(), used, "no new pages");
	cr_assert_null(fake_lookup(mm, (uint64_t)a), "nothing mapped before it is filled");
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + PG, LINUX_PROT_READ), 0);
	cr_assert_eq(mm_fcache_filled(f.cache), flen, "the cache filled (one chunk: all of it)");
	const struct fake_map *fm = fake_lookup(mm, (uint64_t)a);
	cr_assert(fm && fm->moff == cmoff + PG, "mapped from the cache");
	cr_assert_eq(fm->prot & LINUX_PROT_WRITE, 0);
	cr_assert_eq(copy_in(mm, got, (uint64_t)a, 2 * PG), 0);
	cr_assert_eq(memcmp(got, fdata + PG, 2 * PG), 0);
	check_mirror(mm);
	/* made writable and written: a private copy; the cache keeps the file's bytes */
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, 2 * PG, RW), 0);
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a, LINUX_PROT_WRITE), 0);
	cr_assert_eq(copy_out(mm, (uint64_t)a + PG, "XY", 2), 0);
	cr_assert_eq(memcmp(memfile_ptr(cmoff), fdata, sizeof(fdata)), 0, "cache intact");
	cr_assert_eq(copy_in(mm, got, (uint64_t)a + PG, 2), 0);
	cr_assert_eq(memcmp(got, "XY", 2), 0);
	check_mirror(mm);
	/* a writable mapping and one reaching past the cache copy from the file */
	int reads = f.reads;
	long b = mm_mmap(mm, 0, PG, RW, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(b, 0);
	cr_assert_gt(f.reads, reads, "writable: copied");
	reads = f.reads;
	size_t n0 = mm->n;
	long c = mm_mmap(mm, 0, flen + 2 * PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(c, 0);
	cr_assert_eq(f.reads, reads, "reaching past the end: the file's part shared, no read");
	cr_assert_eq(mm->n, n0 + 2, "the cached part and the part past the end");
	fm = fake_lookup(mm, (uint64_t)c);
	cr_assert(fm && fm->moff == cmoff, "the cache filled already: mapped at mmap time");
	cr_assert_eq(copy_in(mm, got, (uint64_t)c, 2 * PG), 0);
	cr_assert_eq(memcmp(got, fdata, 2 * PG), 0);
	cr_assert_null(fake_lookup(mm, (uint64_t)c + flen), "past the end: not mapped");
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)c + flen + PG, LINUX_PROT_READ), -ENXIO,
		     "past the end of the file: SIGBUS");
	struct mm_vma_info vis[16] = {{0}};
	cr_assert_eq(mm_for_each_vma(mm, count_vma, vis), 0);
	bool one = false;
	for (int k = 1; k <= vis[0].prot; k++)
		one |= vis[k].start == (uint64_t)c && vis[k].end == (uint64_t)c + flen + 2 * PG;
	cr_assert(one, "one mapping as Linux would show it");
	check_mirror(mm);
	/* a MAP_FIXED segment over the middle, as ld.so lays them out, then unmapped whole */
	cr_assert_eq(mm_mmap(mm, (uint64_t)c + PG, PG, LINUX_PROT_READ | LINUX_PROT_EXEC,
			     LINUX_MAP_PRIVATE | LINUX_MAP_FIXED, &f, PG),
		     c + (long)PG);
	check_mirror(mm);
	cr_assert_eq(mm_munmap(mm, (uint64_t)c, flen + 2 * PG), 0);
	check_mirror(mm);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(f.refs, 1, "all references dropped");
	cr_assert_eq(memfile_used(), used0 + flen, "only the cache is left");
	mm_fcache_release(f.cache);
	cr_assert_eq(memfile_used(), used0);
}

/* A large file: 6 chunks of page cache. */
#define BIG_LEN (6 * FC_CHUNK - 3 * PG + 123)
static char *bigdata;
static struct file mkbig(void)
{
	bigdata = malloc(BIG_LEN);
	cr_assert_not_null(bigdata);
	for (size_t i = 0; i < BIG_LEN; i++)
		bigdata[i] = (char)(i * 7 / PG + i % 13);
	return (struct file){.refs = 1,
			     .data = bigdata,
			     .size = BIG_LEN,
			     .flags = LINUX_O_RDONLY,
			     .mode = LINUX_S_IFREG | 0755,
			     .lazy = true,
			     .cache = mm_fcache_create(PAGE_ALIGN_UP(BIG_LEN))};
}

/* Check [addr, addr+len) of mm against file bytes from off (zeros past BIG_LEN). */
static void check_big(struct mm *m, uint64_t addr, uint64_t len, uint64_t off)
{
	char *got = malloc(len);
	cr_assert_eq(copy_in(m, got, addr, len), 0);
	for (uint64_t k = 0; k < len; k++) {
		char want = off + k < BIG_LEN ? bigdata[off + k] : 0;
		if (got[k] != want)
			cr_assert_fail("byte %#lx of the mapping (file offset %#lx) differs",
				       (unsigned long)k, (unsigned long)(off + k));
	}
	free(got);
}

/* The end of a test on mkbig's file: drop the mm, and check that nothing holds the file or any
 * memory any more. */
static void big_done(struct file *f)
{
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(f->refs, 1, "all references dropped");
	mm_fcache_release(f->cache);
	cr_assert_eq(memfile_used(), used0);
	free(bigdata);
}

/* Only what is touched is read, a chunk at a time: a fault in the middle of a large mapping of
 * a cached file fills one chunk of the cache, maps only it, and a later mapping of the file
 * (the next exec) maps the filled chunks at mmap time. Pieces not filled stay unmapped
 * through mprotect splitting them, fork and munmap; a file mapping that cannot use the cache
 * (writable) fills its own pages a chunk at a time. */
Test(mmap, lazy_fill_by_chunks, .init = setup, .fini = teardown)
{
	struct file f = mkbig();
	uint64_t flen = PAGE_ALIGN_UP(BIG_LEN);
	long a = mm_mmap(mm, 0, flen, LINUX_PROT_READ | LINUX_PROT_EXEC,
			 LINUX_MAP_PRIVATE | LINUX_MAP_FIXED_NOREPLACE, &f, 0);
	cr_assert_lt(a, 0, "MAP_FIXED_NOREPLACE at 0");
	a = mm_mmap(mm, 0, flen, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(a, 0);
	uint64_t at = (uint64_t)a;
	cr_assert_eq(f.reads, 0);
	/* a fault in chunk 2 */
	cr_assert_eq(mm_handle_fault(mm, at + 2 * FC_CHUNK + 5 * PG, LINUX_PROT_EXEC), 0);
	cr_assert_eq(mm_fcache_filled(f.cache), FC_CHUNK, "one chunk read");
	cr_assert(fake_lookup(mm, at + 2 * FC_CHUNK) && fake_lookup(mm, at + 3 * FC_CHUNK - PG));
	cr_assert_null(fake_lookup(mm, at + 2 * FC_CHUNK - PG), "the chunk before: not mapped");
	cr_assert_null(fake_lookup(mm, at + 3 * FC_CHUNK), "the chunk after: not mapped");
	check_mirror(mm);
	/* mprotect splitting the unfilled chunk 4, then touching it */
	cr_assert_eq(mm_mprotect(mm, at + 4 * FC_CHUNK + PG, PG, LINUX_PROT_READ), 0);
	check_mirror(mm);
	cr_assert_null(fake_lookup(mm, at + 4 * FC_CHUNK + PG), "still unfilled: not mapped");
	cr_assert_eq(mm_handle_fault(mm, at + 4 * FC_CHUNK + PG, LINUX_PROT_READ), 0);
	const struct fake_map *fm = fake_lookup(mm, at + 4 * FC_CHUNK + PG);
	cr_assert(fm && fm->prot == LINUX_PROT_READ);
	cr_assert_eq(mm_fcache_filled(f.cache), 2 * FC_CHUNK, "chunk 4 read");
	check_mirror(mm);
	/* fork before chunk 0 is touched: each side fills it and sees the file */
	cr_assert_eq(mm_activate(mm), 0);
	struct mm *child = mm_fork(mm);
	cr_assert_not_null(child);
	cr_assert_eq(mm_activate(child), 0);
	cr_assert_eq(mm_handle_fault(child, at + PG, LINUX_PROT_READ), 0);
	cr_assert_not_null(fake_lookup(child, at + PG));
	cr_assert_null(fake_lookup(mm, at + PG), "the parent's still unfilled");
	check_mirror(child);
	check_big(child, at, flen, 0);
	cr_assert_eq(mm_fcache_filled(f.cache), flen, "all of it read by now, once");
	mm_put(child);
	check_mirror(mm);
	/* munmap of an unfilled piece, then the rest read through copy_in */
	cr_assert_eq(mm_munmap(mm, at + FC_CHUNK, PG), 0);
	check_big(mm, at + 5 * FC_CHUNK, flen - 5 * FC_CHUNK, 5 * FC_CHUNK);
	cr_assert_eq(copy_in(mm, (char[1]){0}, at + FC_CHUNK, 1), -EFAULT);
	check_mirror(mm);
	/* the next exec: all of it filled, mapped at mmap time as one */
	int reads = f.reads;
	size_t n0 = mm->n;
	long b = mm_mmap(mm, 0, flen, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(b, 0);
	cr_assert_eq(mm->n, n0 + 1);
	fm = fake_lookup(mm, (uint64_t)b);
	cr_assert(fm && fm->start == (uint64_t)b && fm->end == (uint64_t)b + flen);
	cr_assert_eq(f.reads, reads);
	check_big(mm, (uint64_t)b, flen, 0);
	/* a writable private mapping is its own copy, filled by chunks too */
	long c = mm_mmap(mm, 0, flen, RW, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(c, 0);
	cr_assert_eq(f.reads, reads, "not read at mmap time");
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)c + 3 * FC_CHUNK, LINUX_PROT_WRITE), 0);
	cr_assert_gt(f.reads, reads);
	cr_assert_null(fake_lookup(mm, (uint64_t)c + 2 * FC_CHUNK));
	char was = bigdata[3 * FC_CHUNK];
	cr_assert_eq(copy_out(mm, (uint64_t)c + 3 * FC_CHUNK, "ZZ", 2), 0);
	cr_assert_eq(bigdata[3 * FC_CHUNK], was, "the file unchanged");
	check_big(mm, (uint64_t)c, 3 * FC_CHUNK, 0);
	check_big(mm, (uint64_t)c + 3 * FC_CHUNK + 2, FC_CHUNK, 3 * FC_CHUNK + 2);
	check_big(mm, (uint64_t)b + 3 * FC_CHUNK, PG, 3 * FC_CHUNK);
	check_mirror(mm);
	big_done(&f);
}

/* Mapping a program's text (an executable private mapping of a cached file) has the readahead
 * thread fill the cache ahead of any fault, each chunk once; a fault then maps the whole run
 * of filled chunks around it without reading, and the thread lets the file go when done. */
Test(mmap, readahead_fills_text_ahead, .init = setup, .fini = teardown)
{
	struct file f = mkbig();
	uint64_t flen = PAGE_ALIGN_UP(BIG_LEN);
	fcache_readahead_on = true;
	long a = mm_mmap(mm, 0, flen, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(a, 0);
	for (int i = 0; i < 2000 && __atomic_load_n(&f.refs, __ATOMIC_ACQUIRE) > 2; i++)
		usleep(1000);
	cr_assert_eq(f.refs, 2, "the thread let the file go (the mapping holds one)");
	cr_assert_eq(mm_fcache_filled(f.cache), flen, "filled ahead, all of it");
	cr_assert_leq(f.reads, (int)((flen + FC_CHUNK - 1) / FC_CHUNK) + 1,
		      "each chunk read once (the last one reads to the end of the file)");
	int reads = f.reads;
	/* Nothing is mapped before a fault, unless the thread had filled it all before mmap
	 * inserted the VMA (it starts first, on the other CPU): then the insert mapped the
	 * whole run at once. Never a part of it. */
	cr_assert(!fake_lookup(mm, (uint64_t)a) || fake_lookup(mm, (uint64_t)a + flen - PG),
		  "a part of the run mapped before a fault");
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + 5 * FC_CHUNK, LINUX_PROT_EXEC), 0);
	cr_assert_eq(f.reads, reads, "the fault read nothing");
	cr_assert(fake_lookup(mm, (uint64_t)a) && fake_lookup(mm, (uint64_t)a + flen - PG),
		  "the whole run mapped at once");
	check_big(mm, (uint64_t)a, flen, 0);
	check_mirror(mm);
	fcache_readahead_on = false;
	big_done(&f);
}

/* The as_map of a platform that maps host fds (host_fd_maps): memory-file mappings go to the
 * fake, host file ones are recorded here (never writable), or refused with -ENOSYS while
 * host_refuse is set. */
static struct {
	uint64_t addr, len, off;
	int fd, prot;
} hmaps[16];
static int nhmaps, host_refuse;

static int host_as_map(struct plat_as *pas, uint64_t addr, uint64_t len, int prot, int fd,
		       uint64_t off)
{
	if (fd == PLAT_FD_MEMFILE)
		return fake_as_map(pas, addr, len, prot, fd, off);
	if (host_refuse)
		return -ENOSYS;
	cr_assert_lt(nhmaps, 16);
	cr_assert_eq(prot & LINUX_PROT_WRITE, 0, "a host file mapped writable");
	fake_remove((struct fake_as *)pas, addr, addr + len);
	hmaps[nhmaps++] = (typeof(hmaps[0])){addr, len, off, fd, prot};
	return 0;
}


/* A page cache that maps its host file (mm_fcache_map_file): whole at once, the Sentry's view
 * of it the file, nothing read or copied; the platform maps the file itself, never writable;
 * a write makes a private copy from the memory file while the rest stays the file's; a
 * platform that refuses the fd gets the memory file's pages, filled from the file; releasing
 * the cache puts the memory file back under its range. */
Test(mmap, page_cache_maps_its_file, .init = setup, .fini = teardown)
{
	char path[] = "/tmp/runsc-c-unit-fcache.XXXXXX", got[2 * PG], zero[PG] = {0};
	struct file f = mkfile(LINUX_O_RDONLY);
	uint64_t flen = PAGE_ALIGN_UP(sizeof(fdata));
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, fdata, sizeof(fdata)), (ssize_t)sizeof(fdata));
	static struct platform host_plat;
	host_plat = fake_plat;
	host_plat.host_fd_maps = true;
	host_plat.as_map = host_as_map;
	mm_put(mm);
	mm = mm_create(&host_plat);
	cr_assert(mm);
	cr_assert_eq(mm_activate(mm), 0);
	f.cache = mm_fcache_create(flen);
	cr_assert_not_null(f.cache);
	uint64_t cmoff = f.cache->moff;
	cr_assert_eq(mm_fcache_map_file(f.cache, fd), -EOPNOTSUPP, "not until the kernel says so");
	mm_fcache_direct_enable();
	cr_assert_eq(mm_fcache_map_file(f.cache, fd), 0);
	cr_assert_eq(mm_fcache_filled(f.cache), flen, "whole at once");
	cr_assert_eq(memcmp(memfile_ptr(cmoff), fdata, sizeof(fdata)), 0, "the Sentry sees the file");
	uint64_t used = memfile_used();

	long a = mm_mmap(mm, 0, 2 * PG, LINUX_PROT_READ | LINUX_PROT_EXEC, LINUX_MAP_PRIVATE, &f,
			 PG);
	cr_assert_gt(a, 0);
	cr_assert_eq(f.reads, 0, "nothing read");
	cr_assert_eq(nhmaps, 1, "the platform maps the file at mmap time");
	cr_assert(hmaps[0].addr == (uint64_t)a && hmaps[0].len == 2 * PG && hmaps[0].off == PG &&
		  hmaps[0].fd == f.cache->fd && hmaps[0].prot == (LINUX_PROT_READ | LINUX_PROT_EXEC));
	cr_assert_null(fake_lookup(mm, (uint64_t)a), "nothing of the memory file there");
	cr_assert_eq(copy_in(mm, got, (uint64_t)a, 2 * PG), 0);
	cr_assert_eq(memcmp(got, fdata + PG, 2 * PG), 0);
	cr_assert_eq(memfile_used(), used, "no pages of its own");

	/* written: a private copy, from the memory file; the file and the view untouched */
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, 2 * PG, RW), 0);
	cr_assert_eq(mm_handle_fault(mm, (uint64_t)a, LINUX_PROT_WRITE), 0);
	cr_assert_eq(copy_out(mm, (uint64_t)a, "XY", 2), 0);
	const struct fake_map *fm = fake_lookup(mm, (uint64_t)a);
	cr_assert(fm && (fm->moff + ((uint64_t)a - fm->start) < cmoff ||
			 fm->moff + ((uint64_t)a - fm->start) >= cmoff + flen),
		  "the copy is the memory file's, outside the cache");
	cr_assert_eq(copy_in(mm, got, (uint64_t)a, 2 * PG), 0);
	cr_assert_eq(memcmp(got, "XY", 2), 0);
	cr_assert_eq(memcmp(got + 2, fdata + PG + 2, 2 * PG - 2), 0, "the rest as it was");
	cr_assert_eq(memcmp(memfile_ptr(cmoff), fdata, sizeof(fdata)), 0, "the cache intact");
	unsigned char vec[2] = {0, 0};
	cr_assert_eq(mm_mincore(mm, (uint64_t)a, 2 * PG, vec), 0);
	cr_assert(vec[0] && vec[1], "mincore: the copy, and the file's page in the host's cache");
	cr_assert_eq(pread(fd, got, PG, PG), (ssize_t)PG);
	cr_assert_eq(memcmp(got, fdata + PG, PG), 0, "the file intact");
	/* a fork that copies small writable VMAs leaves this one shared: its second page is
	 * the file's, a hole in the memory file that a copy would take for zeros */
	struct mm *child = mm_fork_copy(mm, 16 << 20);
	cr_assert(child);
	cr_assert_eq(copy_in(child, got, (uint64_t)a, 2 * PG), 0);
	cr_assert_eq(memcmp(got, "XY", 2), 0);
	cr_assert_eq(memcmp(got + PG, fdata + 2 * PG, PG), 0, "the child sees the file");
	mm_put(child);

	/* a platform that refuses the fd: the memory file's pages under the cache, filled */
	host_refuse = 1;
	long b = mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &f, 0);
	cr_assert_gt(b, 0);
	fm = fake_lookup(mm, (uint64_t)b);
	cr_assert(fm && fm->moff + ((uint64_t)b - fm->start) == cmoff, "the cache's own page");
	cr_assert_eq(pread(memfile_fd(), got, PG, (off_t)cmoff), (ssize_t)PG);
	cr_assert_eq(memcmp(got, fdata, PG), 0, "filled from the file");
	host_refuse = 0;

	cr_assert_eq(mm_munmap(mm, (uint64_t)a, 2 * PG), 0);
	cr_assert_eq(mm_munmap(mm, (uint64_t)b, PG), 0);
	mm_put(mm);
	mm = NULL;
	/* the host shrinks the file: the Sentry reads zeros past its new end, and lives */
	cr_assert_eq(ftruncate(fd, PG), 0);
	cr_assert_eq(memcmp(memfile_ptr(cmoff), fdata, PG), 0, "within the file: its bytes");
	cr_assert_eq(memcmp(memfile_ptr(cmoff + 2 * PG), zero, PG), 0, "past its end: zeros");
	mm_fcache_release(f.cache);
	cr_assert_eq(memfile_used(), used0, "the cache's range freed");
	cr_assert_eq(memcmp(memfile_ptr(cmoff), zero, PG), 0, "the memory file again, not the file");
	close(fd);
}

Test(mmap, file_access_rules, .init = setup, .fini = teardown)
{
	struct file ro = mkfile(LINUX_O_RDONLY), wo = mkfile(LINUX_O_WRONLY);
	struct file rw = mkfile(LINUX_O_RDWR);
	struct file dir = mkfile(LINUX_O_RDONLY);
	dir.mode = LINUX_S_IFDIR | 0755;
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &wo, 0), -EACCES);
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &wo, 0), -EACCES);
	cr_assert_eq(mm_mmap(mm, 0, PG, RW, LINUX_MAP_SHARED, &ro, 0), -EACCES);
	cr_assert_eq(
	    mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_SHARED_VALIDATE | 0x80000, &ro, 0),
	    -EOPNOTSUPP);
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_SHARED, &rw, 0), -ENODEV,
		     "shared file mappings: not yet");
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &dir, 0), -ENODEV);
	cr_assert_eq(
	    mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE | LINUX_MAP_GROWSDOWN, &ro, 0),
	    -EINVAL);
	cr_assert_eq(mm_mmap(mm, 0, PG, LINUX_PROT_READ, 0, &ro, 0), -EINVAL);
	cr_assert_eq(
	    mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE, &ro, 0x7ffffffffffff000ULL),
	    -EOVERFLOW);
	cr_assert_eq(
	    mm_mmap(mm, 0, PG, LINUX_PROT_READ, LINUX_MAP_PRIVATE | LINUX_MAP_HUGETLB, &ro, 0),
	    -EINVAL);
	cr_assert_eq(ro.refs + wo.refs + rw.refs + dir.refs, 4, "no reference leaked");
	cr_assert_eq(mm->n, 0);
}

Test(mmap, dev_zero_and_shared_anonymous, .init = setup, .fini = teardown)
{
	struct file z = mkfile(LINUX_O_RDWR);
	z.mode = LINUX_S_IFCHR | 0666;
	z.rdev = (1 << 8) | 5;
	long a = mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_PRIVATE, &z, 0);
	cr_assert_gt(a, 0);
	char c = 1;
	cr_assert_eq(copy_in(mm, &c, (uint64_t)a, 1), 0);
	cr_assert_eq(c, 0, "/dev/zero maps zeros");
	cr_assert_eq(z.refs, 1, "a /dev/zero mapping is anonymous memory");
	long s = mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_SHARED, &z, 0);
	cr_assert_gt(s, 0);
	cr_assert(mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS, NULL, 0) > 0);
	check_mirror(mm);
}

/* ---- munmap, mprotect ---- */

Test(munmap, splits_and_frees, .init = setup, .fini = teardown)
{
	long a = anon(0, 8 * PG, RW, 0);
	char pat[8 * PG];
	memset(pat, 0x5a, sizeof(pat));
	cr_assert_eq(copy_out(mm, (uint64_t)a, pat, sizeof(pat)), 0);
	cr_assert_eq(memfile_used(), used0 + 8 * PG);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a + 2 * PG, 3 * PG), 0);
	cr_assert_eq(mm->n, 2);
	cr_assert_eq(memfile_used(), used0 + 5 * PG, "unmapped pages are freed");
	cr_assert_eq(copy_in(mm, pat, (uint64_t)a + 2 * PG, 1), -EFAULT);
	cr_assert_eq(copy_in(mm, pat, (uint64_t)a + 5 * PG, PG), 0);
	cr_assert_eq(pat[0], 0x5a);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a + 2 * PG, 3 * PG), 0, "unmapping a hole is fine");
	cr_assert_eq(mm_munmap(mm, (uint64_t)a + 1, PG), -EINVAL);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a, 0), -EINVAL);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a, ~0ULL), -EINVAL);
	cr_assert_eq(mm_munmap(mm, TOP, PG), -EINVAL);
	check_mirror(mm);
	cr_assert_eq(mm_munmap(mm, (uint64_t)a, 8 * PG), 0);
	cr_assert_eq(mm->n, 0);
	cr_assert_eq(memfile_used(), used0);
	check_mirror(mm);
}

Test(mprotect, split_merge_and_holes, .init = setup, .fini = teardown)
{
	long a = anon(0, 8 * PG, RW, 0);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a + 2 * PG, 2 * PG, LINUX_PROT_READ), 0);
	cr_assert_eq(mm->n, 3);
	check_mirror(mm);
	cr_assert_eq(copy_out(mm, (uint64_t)a + 2 * PG, "x", 1), -EFAULT, "read-only");
	cr_assert_eq(copy_out(mm, (uint64_t)a + PG, "x", 1), 0);
	cr_assert_eq(copy_out_force(mm, (uint64_t)a + 2 * PG, "x", 1), 0);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a + 2 * PG, 2 * PG, RW), 0);
	cr_assert_eq(mm->n, 1, "same protection again merges back");
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, PG, LINUX_PROT_NONE), 0);
	char c;
	cr_assert_eq(copy_in(mm, &c, (uint64_t)a, 1), -EFAULT, "PROT_NONE");
	/* A hole: Linux changes what comes before it and fails with ENOMEM. */
	cr_assert_eq(mm_munmap(mm, (uint64_t)a + 4 * PG, PG), 0);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, 8 * PG, LINUX_PROT_READ), -ENOMEM);
	cr_assert_eq(mm_prot_at(mm, (uint64_t)a + 3 * PG), LINUX_PROT_READ);
	cr_assert_eq(mm_prot_at(mm, (uint64_t)a + 5 * PG), RW, "after the hole: unchanged");
	cr_assert_eq(mm_prot_at(mm, (uint64_t)a + 4 * PG), -EFAULT);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a + 4 * PG, PG, LINUX_PROT_READ), -ENOMEM);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a + 1, PG, LINUX_PROT_READ), -EINVAL);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, PG, 0x10), -EINVAL);
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, 0, 0x10), 0, "len 0 first");
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, PG, 0x8), 0, "PROT_SEM is accepted");
	cr_assert_eq(mm_mprotect(mm, (uint64_t)a, PG, LINUX_PROT_READ | LINUX_PROT_GROWSDOWN),
		     -EINVAL);
	check_mirror(mm);
}

Test(mprotect, growsdown, .init = setup, .fini = teardown)
{
	long s = anon(0x20000000, 4 * PG, RW, LINUX_MAP_GROWSDOWN);
	cr_assert_eq(s, 0x20000000);
	cr_assert_eq(
	    mm_mprotect(mm, (uint64_t)s + 2 * PG, PG, LINUX_PROT_READ | LINUX_PROT_GROWSDOWN), 0);
	cr_assert_eq(mm_prot_at(mm, (uint64_t)s), LINUX_PROT_READ, "extended down to the start");
	cr_assert_eq(mm_prot_at(mm, (uint64_t)s + 3 * PG), RW);
	check_mirror(mm);
}

/* ---- mremap ---- */

static void fill(uint64_t a, uint64_t len, int seed)
{
	static char buf[64 * PG];
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (char)(i * 13 + seed);
	cr_assert_eq(copy_out(mm, a, buf, len), 0);
}
static void expect(uint64_t a, uint64_t len, int seed)
{
	static char buf[64 * PG];
	cr_assert_eq(copy_in(mm, buf, a, len), 0);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], (char)(i * 13 + seed), "byte %lu", (unsigned long)i);
}
static void expect_zero(uint64_t a, uint64_t len)
{
	static char buf[64 * PG];
	cr_assert_eq(copy_in(mm, buf, a, len), 0);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], 0, "byte %lu", (unsigned long)i);
}

Test(mremap, shrink_and_grow_in_place, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	cr_assert_eq(anon(a, 8 * PG, RW, 0), (long)a);
	fill(a, 8 * PG, 3);
	cr_assert_eq(mm_mremap(mm, a, 8 * PG, 4 * PG, 0, 0), (long)a);
	cr_assert_eq(memfile_used(), used0 + 4 * PG);
	expect(a, 4 * PG, 3);
	cr_assert_eq(mm_prot_at(mm, a + 4 * PG), -EFAULT);
	cr_assert_eq(mm_mremap(mm, a, 4 * PG, 16 * PG, 0, 0), (long)a, "grows in place");
	expect(a, 4 * PG, 3);
	expect_zero(a + 4 * PG, 12 * PG);
	cr_assert_eq(mm->n, 1, "grown part merges (backing extended in place)");
	cr_assert_eq(mm_mremap(mm, a, 16 * PG, 16 * PG, 0, 0), (long)a);
	check_mirror(mm);
}

Test(mremap, move_keeps_pages, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	cr_assert_eq(anon(a, 4 * PG, RW, 0), (long)a);
	cr_assert_eq(anon(a + 4 * PG, PG, LINUX_PROT_READ, 0), (long)(a + 4 * PG));
	fill(a, 4 * PG, 5);
	uint64_t moff = mm->v[0].moff;
	cr_assert_eq(mm_mremap(mm, a, 4 * PG, 8 * PG, 0, 0), -ENOMEM, "blocked, may not move");
	long b = mm_mremap(mm, a, 4 * PG, 8 * PG, LINUX_MREMAP_MAYMOVE, 0);
	cr_assert_gt(b, 0);
	cr_assert_neq(b, (long)a);
	expect((uint64_t)b, 4 * PG, 5);
	expect_zero((uint64_t)b + 4 * PG, 4 * PG);
	struct vma *v = vma_lookup(mm, (uint64_t)b);
	cr_assert_eq(v->moff, moff, "moved, not copied");
	cr_assert_eq(mm_prot_at(mm, a), -EFAULT, "old range gone");
	cr_assert_eq(memfile_used(), used0 + 9 * PG);
	/* MREMAP_FIXED onto an existing mapping replaces it. */
	uint64_t dst = 0x40000000;
	cr_assert_eq(anon(dst, 16 * PG, LINUX_PROT_NONE, 0), (long)dst);
	cr_assert_eq(mm_mremap(mm, (uint64_t)b, 8 * PG, 8 * PG,
			       LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED, dst),
		     (long)dst);
	expect(dst, 4 * PG, 5);
	cr_assert_eq(mm_prot_at(mm, dst + 8 * PG), LINUX_PROT_NONE, "rest of the target stays");
	check_mirror(mm);
}

Test(mremap, errors_as_linux, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	cr_assert_eq(anon(a, 4 * PG, RW, 0), (long)a);
	cr_assert_eq(anon(a + 4 * PG, 4 * PG, LINUX_PROT_READ, 0), (long)(a + 4 * PG));
	cr_assert_eq(mm_mremap(mm, a, PG, 0, 0, 0), -EINVAL, "new_len 0");
	cr_assert_eq(mm_mremap(mm, a + 1, PG, PG, 0, 0), -EINVAL);
	cr_assert_eq(mm_mremap(mm, a, PG, PG, 8, 0), -EINVAL);
	cr_assert_eq(mm_mremap(mm, a, PG, 2 * PG, LINUX_MREMAP_DONTUNMAP, 0), -EINVAL);
	cr_assert_eq(mm_mremap(mm, a, PG, 2 * PG, LINUX_MREMAP_DONTUNMAP | LINUX_MREMAP_MAYMOVE, 0),
		     -EINVAL);
	cr_assert_eq(mm_mremap(mm, a, PG, PG, LINUX_MREMAP_FIXED, a + PG), -EINVAL);
	cr_assert_eq(
	    mm_mremap(mm, a, 2 * PG, 2 * PG, LINUX_MREMAP_FIXED | LINUX_MREMAP_MAYMOVE, a + PG),
	    -EINVAL, "overlap");
	cr_assert_eq(mm_mremap(mm, a, 0, PG, LINUX_MREMAP_MAYMOVE, 0), -EINVAL, "private dup");
	cr_assert_eq(mm_mremap(mm, a, 8 * PG, 16 * PG, LINUX_MREMAP_MAYMOVE, 0), -EFAULT,
		     "spans two VMAs");
	cr_assert_eq(mm_mremap(mm, 0x50000000, PG, 2 * PG, LINUX_MREMAP_MAYMOVE, 0), -EFAULT);
	cr_assert_eq(mm_mremap(mm, a + 2 * PG, 4 * PG, PG, 0, 0), (long)(a + 2 * PG),
		     "shrinking may span VMAs");
	cr_assert_eq(mm_prot_at(mm, a + 3 * PG), -EFAULT);
	cr_assert_eq(mm_prot_at(mm, a + 6 * PG), LINUX_PROT_READ);
	check_mirror(mm);
}

Test(mremap, dontunmap_and_shared_duplicate, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	cr_assert_eq(anon(a, 4 * PG, RW, 0), (long)a);
	fill(a, 4 * PG, 9);
	long b = mm_mremap(mm, a, 4 * PG, 4 * PG, LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_DONTUNMAP, 0);
	cr_assert_gt(b, 0);
	expect((uint64_t)b, 4 * PG, 9);
	expect_zero(a, 4 * PG);
	cr_assert_eq(memfile_used(), used0 + 8 * PG);
	check_mirror(mm);

	long s = mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS, NULL, 0);
	cr_assert_gt(s, 0);
	fill((uint64_t)s, 2 * PG, 1);
	long d = mm_mremap(mm, (uint64_t)s, 0, 2 * PG, LINUX_MREMAP_MAYMOVE, 0);
	cr_assert_gt(d, 0);
	cr_assert_neq(d, s);
	expect((uint64_t)d, 2 * PG, 1);
	cr_assert_eq(copy_out(mm, (uint64_t)d, "Z", 1), 0);
	char c;
	cr_assert_eq(copy_in(mm, &c, (uint64_t)s, 1), 0);
	cr_assert_eq(c, 'Z', "both mappings share the pages");
	cr_assert_eq(memfile_used(), used0 + 10 * PG, "no new pages for the duplicate");
	cr_assert_eq(mm_munmap(mm, (uint64_t)s, 2 * PG), 0);
	cr_assert_eq(memfile_used(), used0 + 10 * PG, "still referenced by the duplicate");
	expect((uint64_t)d + 1, 2 * PG - 1, 1 + 13);
	cr_assert_eq(mm_munmap(mm, (uint64_t)d, 2 * PG), 0);
	cr_assert_eq(memfile_used(), used0 + 8 * PG);
	check_mirror(mm);
}

/* ---- madvise, brk ---- */

Test(madvise, dontneed, .init = setup, .fini = teardown)
{
	long a = anon(0, 8 * PG, RW, 0);
	fill((uint64_t)a, 8 * PG, 2);
	cr_assert_eq(mm_madvise(mm, (uint64_t)a + 2 * PG, 2 * PG, LINUX_MADV_DONTNEED), 0);
	expect((uint64_t)a, 2 * PG, 2);
	expect_zero((uint64_t)a + 2 * PG, 2 * PG);
	cr_assert_eq(mm->n, 1, "no split left behind");
	long s = mm_mmap(mm, 0, PG, RW, LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS, NULL, 0);
	fill((uint64_t)s, PG, 4);
	cr_assert_eq(mm_madvise(mm, (uint64_t)s, PG, LINUX_MADV_DONTNEED), 0);
	expect((uint64_t)s, PG, 4);
	cr_assert_eq(mm_madvise(mm, (uint64_t)s, PG, LINUX_MADV_FREE), -EINVAL);
	cr_assert_eq(mm_madvise(mm, (uint64_t)s, PG, 9 /* MADV_REMOVE */), 0);
	expect_zero((uint64_t)s, PG);
	struct file f = mkfile(LINUX_O_RDONLY);
	long m = mm_mmap(mm, 0, 2 * PG, RW, LINUX_MAP_PRIVATE, &f, 0);
	fill((uint64_t)m, 2 * PG, 7);
	cr_assert_eq(mm_madvise(mm, (uint64_t)m, 2 * PG, LINUX_MADV_DONTNEED), 0);
	char got[2 * PG];
	cr_assert_eq(copy_in(mm, got, (uint64_t)m, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, fdata, sizeof(got)), 0, "private file pages revert to the file");
	cr_assert_eq(mm_madvise(mm, (uint64_t)a, PG, 999), -EINVAL);
	cr_assert_eq(mm_madvise(mm, (uint64_t)a + 1, PG, LINUX_MADV_DONTNEED), -EINVAL);
	cr_assert_eq(mm_madvise(mm, (uint64_t)a, ~0ULL, LINUX_MADV_DONTNEED), -EINVAL);
	cr_assert_eq(mm_madvise(mm, (uint64_t)a, 0, LINUX_MADV_DONTNEED), 0);
	cr_assert_eq(mm_madvise(mm, 0x50000000, PG, LINUX_MADV_NORMAL), -ENOMEM);
	check_mirror(mm);
}

Test(brk, linux_rules, .init = setup, .fini = teardown)
{
	uint64_t base = 0x400000 + 5 * PG + 123;
	mm_set_brk_base(mm, base);
	uint64_t b0 = PAGE_ALIGN_UP(base);
	cr_assert_eq(mm_brk(mm, 0), (long)b0);
	cr_assert_eq(mm_brk(mm, b0 - 1), (long)b0, "below the start: unchanged");
	cr_assert_eq(mm_brk(mm, b0 + 10), (long)(b0 + 10));
	cr_assert_eq(copy_out(mm, b0, "hello", 6), 0);
	cr_assert_eq(copy_out(mm, b0 + PG - 1, "x", 1), 0, "the whole page is mapped");
	cr_assert_eq(copy_out(mm, b0 + PG, "x", 1), -EFAULT);
	cr_assert_eq(mm_brk(mm, b0 + 3 * PG), (long)(b0 + 3 * PG));
	cr_assert_eq(mm->n, 1, "the heap grows as one VMA");
	cr_assert_eq(copy_out(mm, b0 + 2 * PG, "y", 1), 0);
	cr_assert_eq(mm_brk(mm, b0 + 5), (long)(b0 + 5), "shrink");
	cr_assert_eq(mm_prot_at(mm, b0 + PG), -EFAULT);
	cr_assert_eq(mm_brk(mm, b0 + 3 * PG), (long)(b0 + 3 * PG));
	expect_zero(b0 + PG, 2 * PG);
	/* A mapping in the way: the break stays. */
	cr_assert_eq(anon(b0 + 8 * PG, PG, RW, LINUX_MAP_FIXED), (long)(b0 + 8 * PG));
	cr_assert_eq(mm_brk(mm, b0 + 8 * PG), (long)(b0 + 3 * PG));
	cr_assert_eq(mm_brk(mm, b0 + 7 * PG + 1), (long)(b0 + 3 * PG), "needs a page of gap");
	cr_assert_eq(mm_brk(mm, b0 + 7 * PG), (long)(b0 + 7 * PG));
	cr_assert_eq(mm_brk(mm, TOP + PG), (long)(b0 + 7 * PG));
	cr_assert_eq(mm_brk(mm, ~0ULL), (long)(b0 + 7 * PG));
	check_mirror(mm);
}

/* ---- copy_in / copy_out ---- */

Test(copy, faults, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	char buf[3 * PG];
	cr_assert_eq(anon(a, PG, RW, 0), (long)a);
	cr_assert_eq(anon(a + PG, PG, LINUX_PROT_READ, 0), (long)(a + PG));
	cr_assert_eq(copy_in(mm, buf, a, 2 * PG), 0, "spans two VMAs");
	cr_assert_eq(copy_out(mm, a, buf, 2 * PG), -EFAULT, "second one read-only");
	cr_assert_eq(copy_in(mm, buf, a, 3 * PG), -EFAULT, "runs into a hole");
	cr_assert_eq(copy_in(mm, buf, a - 1, 2), -EFAULT);
	cr_assert_eq(copy_in(mm, buf, ~0ULL - 1, 4), -EFAULT, "wraps");
	cr_assert_eq(copy_in(mm, buf, 0, 1), -EFAULT);
	cr_assert_eq(copy_in(NULL, buf, a, 1), -EFAULT);
	cr_assert_eq(copy_in(mm, buf, 0, 0), 0, "nothing to copy");
	cr_assert_eq(copy_out_force(mm, a + PG, "abc", 3), 0);
	cr_assert_eq(copy_in(mm, buf, a + PG, 3), 0);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
	cr_assert_eq(mm_mprotect(mm, a + PG, PG, LINUX_PROT_WRITE), 0);
	cr_assert_eq(copy_in(mm, buf, a + PG, 3), 0, "write implies read on x86");
	cr_assert_eq(mm_mprotect(mm, a + PG, PG, LINUX_PROT_EXEC), 0);
	cr_assert_eq(copy_in(mm, buf, a + PG, 3), -EFAULT);
	cr_assert_eq(copy_out_force(mm, a + 2 * PG, "abc", 3), -EFAULT, "force still needs a map");
}

Test(copy, strings, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	char dst[64];
	cr_assert_eq(anon(a, 2 * PG, RW, 0), (long)a);
	cr_assert_eq(mm_mprotect(mm, a + PG, PG, LINUX_PROT_READ), 0); /* two VMAs */
	cr_assert_eq(copy_out(mm, a, "hello", 6), 0);
	cr_assert_eq(copy_in_str(mm, dst, a, sizeof(dst)), 5);
	cr_assert_str_eq(dst, "hello");
	cr_assert_eq(copy_in_str(mm, dst, a, 6), 5, "exactly fits");
	cr_assert_eq(copy_in_str(mm, dst, a, 5), -ENAMETOOLONG);
	cr_assert_eq(copy_in_str(mm, dst, a, 0), -ENAMETOOLONG);
	/* Across the VMA boundary. */
	cr_assert_eq(copy_out(mm, a + PG - 3, "abc", 3), 0);
	cr_assert_eq(copy_out_force(mm, a + PG, "de", 3), 0);
	cr_assert_eq(copy_in_str(mm, dst, a + PG - 3, sizeof(dst)), 5);
	cr_assert_str_eq(dst, "abcde");
	/* Into a hole: EFAULT, nothing written past what was readable. */
	char nonul[16];
	memset(nonul, 'q', sizeof(nonul));
	cr_assert_eq(copy_out_force(mm, a + 2 * PG - 4, nonul, 4), 0);
	memset(dst, '#', sizeof(dst));
	cr_assert_eq(copy_in_str(mm, dst, a + 2 * PG - 4, sizeof(dst)), -EFAULT);
	cr_assert_eq(memcmp(dst, "qqqq#", 5), 0);
	cr_assert_eq(copy_in_str(mm, dst, a + 2 * PG - 4, 4), -ENAMETOOLONG,
		     "the limit comes first");
	cr_assert_eq(copy_in_str(mm, dst, 0x50000000, 10), -EFAULT);
	cr_assert_eq(mm_mprotect(mm, a, PG, LINUX_PROT_NONE), 0);
	cr_assert_eq(copy_in_str(mm, dst, a, 10), -EFAULT);
}

/* ---- lifetime, queries ---- */

Test(mm, for_each_coalesces_and_put_releases, .init = setup, .fini = teardown)
{
	uint64_t a = 0x30000000;
	cr_assert_eq(anon(a, 2 * PG, RW, 0), (long)a);
	cr_assert_eq(anon(a + 2 * PG, 2 * PG, RW, LINUX_MAP_FIXED), (long)(a + 2 * PG));
	mm_set_brk_base(mm, 0x1000000);
	cr_assert_eq(mm_brk(mm, 0x1000000 + PG), 0x1000000 + PG);
	struct mm_vma_info vis[8] = {0};
	mm_for_each_vma(mm, count_vma, vis);
	cr_assert_eq(vis[0].prot, 2);
	cr_assert(vis[1].heap);
	cr_assert_eq(vis[2].start, a);
	cr_assert_eq(vis[2].end, a + 4 * PG, "one mapping as Linux would show it");
	cr_assert(mm_range_mapped(mm, a, 4 * PG));
	cr_assert(!mm_range_mapped(mm, a, 5 * PG));
	mm_get(mm);
	mm_put(mm);
	cr_assert_eq(n_release, 0);
	mm_put(mm);
	mm = NULL;
	cr_assert_eq(n_release, 1);
	cr_assert_eq(memfile_used(), used0);
}

Test(mm, stack_guard_gap_and_mmap_base, .init = setup, .fini = teardown)
{
	uint64_t top = mm_stack_top(mm);
	cr_assert_eq(top, TOP);
	cr_assert_lt(mm_mmap_base(mm), top - (8ULL << 20));
	uint64_t stack = top - (8ULL << 20);
	cr_assert_eq(anon(stack, 8ULL << 20, RW, LINUX_MAP_GROWSDOWN | LINUX_MAP_FIXED),
		     (long)stack);
	/* A hint right below the stack is not honoured: the guard gap. */
	long h = anon(stack - PG, PG, RW, 0);
	cr_assert_neq(h, (long)(stack - PG));
	long h2 = anon(stack - 512 * PG, PG, RW, 0);
	cr_assert_eq(h2, (long)(stack - 512 * PG));
	check_mirror(mm);
}

Test(memfile, refcounts_across_blocks)
{
	/* Reference counts are kept per 2 MiB block until pages in a block differ. */
	uint64_t off, len = 6ULL << 20, used;
	cr_assert_eq(memfile_init(), 0);
	used = memfile_used();
	cr_assert_eq(memfile_alloc(len, &off), 0);
	memset(memfile_ptr(off), 7, len);
	cr_assert_eq(memfile_incref(off, len), 0, "whole blocks (and the parts at either end)");
	cr_assert(!memfile_exclusive(off + len - PG, PG));
	/* Drop single pages here and there: they stay (one reference left). */
	for (uint64_t p = PG; p < len; p += 37 * PG)
		memfile_decref(off + p, PG);
	cr_assert(memfile_exclusive(off + PG, PG));
	cr_assert(!memfile_exclusive(off, 2 * PG));
	cr_assert_eq(memfile_used(), used + len);
	/* Drop everything once: only the pages dropped twice go. */
	memfile_decref(off, len);
	uint64_t twice = 0;
	for (uint64_t p = PG; p < len; p += 37 * PG)
		twice += PG;
	cr_assert_eq(memfile_used(), used + len - twice);
	cr_assert(memfile_exclusive(off, PG));
	cr_assert_eq(((char *)memfile_ptr(off + PG))[0], 0, "freed page punched");
	cr_assert_eq(((char *)memfile_ptr(off + 2 * PG))[0], 7);
	for (uint64_t p = 0; p < len; p += PG)
		if (p % (37 * PG) != PG)
			memfile_decref(off + p, PG);
	cr_assert_eq(memfile_used(), used);
	/* A range straddling blocks, shared three times over in overlapping parts. */
	cr_assert_eq(memfile_alloc(len, &off), 0);
	uint64_t mid = off + (1ULL << 20);
	cr_assert_eq(memfile_incref(mid, 3ULL << 20), 0);
	cr_assert_eq(memfile_incref(off, 4ULL << 20), 0);
	memfile_decref(off, len);
	cr_assert_eq(memfile_used(), used + (4ULL << 20));
	memfile_decref(mid, 3ULL << 20);
	cr_assert(memfile_exclusive(off, 4ULL << 20));
	memfile_decref(off, 4ULL << 20);
	cr_assert_eq(memfile_used(), used);
}
