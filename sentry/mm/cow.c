/* Copy-on-write: fork of an address space, page faults, and breaking copy-on-write. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/vfs.h"

/*
 * How it works. A fork gives the child a copy of every VMA holding one more reference to the
 * same memory-file pages (one operation per 2 MiB block, see memfile.c) and marks the private
 * ones VMA_COW in both mms; the parent's writable ones are write-protected in its platform
 * address space (one as_protect per VMA), the child's are mapped read-only when it is
 * activated. A write then faults (or a copy_out meets pages still shared), and:
 *  - if this mm holds the whole VMA alone (the other side exited or exec'd), the VMA is just
 *    re-protected, in one platform call;
 *  - otherwise the VMA gets a per-page map (once; backing.c) and the faulting page is copied
 *    to a fresh page mapped in place of the shared one (one platform call), or just
 *    re-protected if this mm holds it alone. Only its map entry changes: the VMA does not
 *    split, so a break costs the same however many came before.
 * Sequential writes (memset, a copying GC) would fault page by page: a fault right after a run
 * of private pages takes as many pages again as that run holds (at least 8), up to
 * COW_CHUNK_MAX, so a rewrite of n bytes takes O(log n) + n / COW_CHUNK_MAX faults. Scattered
 * writes copy only the pages they touch, until they are dense enough that copying the window
 * around them costs less than faulting on (dense_window): a fault costs two platform round
 * trips (the trap, and as_map), as much as copying 5 to 40 pages.
 */

/* Does this mm hold all of v alone? The search goes on from v->excl, below which it found so
 * before (pages only stop being shared until the next fork resets it), so repeated checks
 * cost each page once. */
static bool vma_all_exclusive(struct vma *v)
{
	uint64_t at = v->end;
	if (v->excl < v->start || v->excl > v->end)
		v->excl = v->start;
	if (!vma_exclusive_range(v, v->excl, v->end, &at)) {
		v->excl = at;
		return false;
	}
	v->excl = v->end;
	return true;
}

/* v is held by this mm alone: clear VMA_COW and give the platform its full protection.
 * 0 or -ENOMEM (still copy-on-write). */
static int cow_reprotect(struct mm *mm, struct vma *v)
{
	vma_clear_cow(v);
	mm->cow_gen++;
	if (!(v->prot & LINUX_PROT_WRITE))
		return 0; /* the platform mapping does not change */
	int r = vma_plat_reprotect(mm, v);
	if (r < 0) {
		log_warn("mm: platform protect %#lx breaking copy-on-write: %d",
			 (unsigned long)v->start, r);
		vma_mark_cow(v);
		return -ENOMEM;
	}
	return 0;
}

/* Fresh pages for [s, e) of v: right after the private page below s, or right before the one
 * at e, when they are free (so that the memory file and the platform's mappings stay
 * contiguous as a sequential rewrite goes), else anywhere. 0 or -ENOMEM. */
static int alloc_near(const struct vma *v, uint64_t s, uint64_t e, uint64_t *moff)
{
	uint64_t len = e - s;
	if (s > v->start && !vma_page_cow(v, s - PAGE_SIZE)) {
		*moff = vma_moff_at(v, s - PAGE_SIZE) + PAGE_SIZE;
		if (memfile_alloc_at(*moff, len) == 0)
			return 0;
	}
	if (e < vma_valid_end(v) && !vma_page_cow(v, e)) {
		uint64_t next = vma_moff_at(v, e);
		*moff = next - len;
		if (next >= len && memfile_alloc_at(*moff, len) == 0)
			return 0;
	}
	/* (kept pages will do: the break copies every page of the run) */
	return memfile_alloc_overwrite(len, moff) < 0 ? -ENOMEM : 0;
}

/*
 * What a fault costs compared with copying a page, measured as the breaks go: the platform's
 * round trip (an as_map; the fault's trap is another) against the copy of one page, as running
 * averages over all address spaces (a property of the platform and of the machine's load:
 * from about 5 pages on an idle machine with ptrace to 40 on a loaded one). Races between
 * threads only blur the averages.
 */
static int64_t cost_map_ns = 8000, cost_page_ns = 1600;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One break copied pages in copy_ns and mapped them in map_ns. */
static void cost_sample(int64_t copy_ns, uint64_t pages, int64_t map_ns)
{
	int64_t m = __atomic_load_n(&cost_map_ns, __ATOMIC_RELAXED);
	int64_t p = __atomic_load_n(&cost_page_ns, __ATOMIC_RELAXED);
	m += (MIN(map_ns, 1000000) - m) / 8;
	p += (MIN(copy_ns / (int64_t)pages, 100000) - p) / 8;
	__atomic_store_n(&cost_map_ns, MAX(m, 1), __ATOMIC_RELAXED);
	__atomic_store_n(&cost_page_ns, MAX(p, 1), __ATOMIC_RELAXED);
}

uint64_t mm_fault_worth; /* tests: fixed, instead of measured (0) */

/* How many pages' copying one more fault is worth (1 to 64). */
static uint64_t fault_worth_pages(void)
{
	if (mm_fault_worth)
		return mm_fault_worth;
	int64_t r = __atomic_load_n(&cost_map_ns, __ATOMIC_RELAXED) /
		    __atomic_load_n(&cost_page_ns, __ATOMIC_RELAXED);
	return (uint64_t)MIN(MAX(r, 1), 64);
}

/* Give [s, e) of v (page aligned, below its valid end; v has a per-page map; no page of it
 * written meanwhile: the platform maps them all read-only) fresh contiguous pages with the same
 * contents, private, mapped in place of the old ones. 0 or -errno (unchanged). */
static int copy_run(struct mm *mm, struct vma *v, uint64_t s, uint64_t e)
{
	uint32_t *pe = vma_pe(v, s);
	uint64_t len = e - s, moff, old, re;
	int r;

	if (alloc_near(v, s, e, &moff) < 0)
		return -ENOMEM;
	int64_t t0 = now_ns();
	for (uint64_t a = s; a < e; a = re) {
		re = vma_run(v, a, e, &old, NULL);
		memfile_copy(moff + (a - s), old, re - a);
	}
	int64_t t1 = now_ns();
	r = mm_plat_map(mm, s, len, v->prot, moff);
	if (r < 0) {
		memfile_free(moff, len);
		return r;
	}
	if (mm->as)
		cost_sample(t1 - t0, len >> MM_PAGE_SHIFT, now_ns() - t1);
	vma_unref_range(v, s, e);
	for (size_t k = 0; k < len >> MM_PAGE_SHIFT; k++)
		pe[k] = (uint32_t)((moff >> MM_PAGE_SHIFT) + k) | (pe[k] & PG_FAULT);
	return 0;
}

/*
 * Make [s, e) of v (page aligned, below its valid end; v has a per-page map, every page of it
 * is copy-on-write) private: re-protect the pages if this mm holds them all alone, else copy
 * them to fresh pages mapped in their place. With only_shared, pages held alone are left as
 * they are (copy_out writes them through the memory file; a write by the application faults
 * and re-protects them). 0 or -errno (unchanged).
 */
static int break_run(struct mm *mm, struct vma *v, uint64_t s, uint64_t e, bool only_shared)
{
	uint32_t *pe = vma_pe(v, s);
	uint64_t len = e - s;
	size_t n = len >> MM_PAGE_SHIFT;
	int r;

	if (vma_exclusive_range(v, s, e, NULL)) {
		if (only_shared)
			return 0;
		for (size_t k = 0; k < n; k++)
			pe[k] &= ~PG_COW;
		r = v->prot & LINUX_PROT_WRITE ? mm_plat_protect(mm, s, len, v->prot) : 0;
		if (r < 0) {
			for (size_t k = 0; k < n; k++)
				pe[k] |= PG_COW;
		}
		return r;
	}
	/* The copy reads the shared pages while another mm may read them too; nobody writes
	 * them: every holder maps them read-only. */
	return copy_run(mm, v, s, e);
}

/*
 * Fragmentation. Each page broken on its own is a mapping of its own in the platform, and the
 * host limits the mappings of a process (vm.max_map_count, 65530 by default): past it, the
 * mapping of a broken page fails and the application dies. So the mappings that breaks add
 * are counted (mm->frag: beyond one per VMA), and past FRAG_MAX a fault copies the whole
 * COMPACT_WINDOW around it (every page, private ones too) to contiguous pages mapped at once,
 * where that joins at least three mappings into one, until the count is down to FRAG_LOW.
 */
size_t mm_frag_max = 16384; /* FRAG_MAX; FRAG_LOW is 3/4 of it */
#define FRAG_MAX mm_frag_max
#define FRAG_LOW (mm_frag_max / 4 * 3)
#define COMPACT_WINDOW (2ULL << 20)

/* How many mappings the platform has for v's pages in [s, e) (clipped to its valid end). */
static size_t runs_in(const struct vma *v, uint64_t s, uint64_t e)
{
	uint64_t moff;
	bool cow;
	size_t n = 0;
	e = MIN(e, vma_valid_end(v));
	for (uint64_t a = s; a < e; n++)
		a = vma_run(v, a, e, &moff, &cow);
	return n;
}

/* Count mm->frag again from the VMAs (munmap, madvise and the like are not tracked). */
static size_t count_frag(const struct mm *mm)
{
	size_t n = 0;
	for (size_t i = 0; i < mm->n; i++) {
		const struct vma *v = &mm->v[i];
		size_t runs = v->pm ? runs_in(v, v->start, v->end) : 0;
		n += runs ? runs - 1 : 0;
	}
	return n;
}

/* A change of v's mappings from before to after. */
static void frag_account(struct mm *mm, size_t before, size_t after)
{
	mm->frag =
	    after > before ? mm->frag + (after - before) : mm->frag - MIN(mm->frag, before - after);
}

/* Should a break compact (see above)? */
static bool fragmented(struct mm *mm)
{
	if (!mm->compacting && mm->frag > FRAG_MAX) {
		mm->frag = count_frag(mm);
		mm->compacting = mm->frag > FRAG_LOW;
	}
	if (mm->compacting && mm->frag <= FRAG_LOW)
		mm->compacting = false;
	return mm->compacting;
}

/* Copy the COMPACT_WINDOW around page p of v to fresh contiguous pages when its pages are
 * mapped in three or more pieces. The private pages are write-protected first, so that no
 * other thread of the application writes them while they are copied (it faults, and waits for
 * the lock). 0 when done, else -errno (then nothing was compacted; the caller breaks p as
 * usual). */
static int compact_window(struct mm *mm, struct vma *v, uint64_t p)
{
	uint64_t ws = MAX(v->start, p & ~(COMPACT_WINDOW - 1));
	uint64_t we = MIN(vma_valid_end(v), (p & ~(COMPACT_WINDOW - 1)) + COMPACT_WINDOW);
	uint64_t lo = ws > v->start ? ws - PAGE_SIZE : ws,
		 hi = MIN(we + PAGE_SIZE, vma_valid_end(v));
	size_t before = runs_in(v, lo, hi);
	int r;

	if (!v->pm || runs_in(v, ws, we) < 3)
		return -EAGAIN;
	r = mm_plat_protect(mm, ws, we - ws, v->prot & ~LINUX_PROT_WRITE);
	if (r < 0)
		return r;
	for (uint64_t a = ws; a < we; a += PAGE_SIZE)
		*vma_pe(v, a) |= PG_COW; /* as the platform has them now */
	r = copy_run(mm, v, ws, we);
	mm->cow_gen++;
	frag_account(mm, before, runs_in(v, lo, hi));
	return r;
}

/* Break copy-on-write on the copy-on-write pages of [s, e) (page aligned, inside v, below its
 * valid end), run by run (see break_run). 0 or -ENOMEM (the runs before stay broken). */
static int break_range(struct mm *mm, struct vma *v, uint64_t s, uint64_t e, bool only_shared)
{
	uint64_t lo = s > v->start ? s - PAGE_SIZE : s, hi = MIN(e + PAGE_SIZE, vma_valid_end(v));
	size_t before = runs_in(v, lo, hi);
	int r = 0;

	if (!v->pm && vma_pgmap_make(v) < 0)
		return -ENOMEM;
	for (uint64_t a = s; a < e && r == 0;) {
		if (!(*vma_pe(v, a) & PG_COW)) {
			a += PAGE_SIZE;
			continue;
		}
		uint64_t b = a + PAGE_SIZE;
		while (b < e && (*vma_pe(v, b) & PG_COW))
			b += PAGE_SIZE;
		r = break_run(mm, v, a, b, only_shared);
		if (r < 0) {
			log_warn("mm: breaking copy-on-write at %#lx+%#lx: %d", (unsigned long)a,
				 (unsigned long)(b - a), r);
			r = -ENOMEM;
		}
		mm->cow_gen++;
		a = b;
	}
	frag_account(mm, before, runs_in(v, lo, hi));
	return r;
}

int mm_cow_break(struct mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	for (uint64_t cur = addr; cur < end;) {
		size_t i = vma_index(mm, cur);
		if (i >= mm->n || mm->v[i].start >= end)
			break;
		struct vma *v = &mm->v[i];
		uint64_t next = v->end;
		if (v->flags & VMA_COW) {
			/* The common case after fork+exec or an exited child: nobody else holds any
			 * of it; one re-protect spares the application its write faults too. */
			int r;
			if (vma_all_exclusive(v)) {
				r = cow_reprotect(mm, v);
			} else {
				uint64_t s = PAGE_ALIGN_DOWN(MAX(cur, v->start));
				uint64_t e = MIN(PAGE_ALIGN_UP(MIN(end, v->end)), vma_valid_end(v));
				r = s < e ? break_range(mm, v, s, e, true) : 0;
			}
			if (r < 0)
				return r;
		}
		cur = next;
	}
	return 0;
}

bool vma_cow_shared(const struct vma *v, uint64_t s, uint64_t e)
{
	if (!(v->flags & VMA_COW))
		return false;
	s = PAGE_ALIGN_DOWN(MAX(s, v->start));
	e = PAGE_ALIGN_UP(MIN(e, v->end));
	return s < e && !vma_exclusive_range(v, s, e, NULL);
}

/* How many bytes of private (not copy-on-write) pages of v lie right below from (dir < 0) or
 * from from on (dir > 0), counting at most max. */
static uint64_t private_run(const struct vma *v, uint64_t from, int dir, uint64_t max)
{
	uint64_t n = 0;
	if (!v->pm)
		return 0; /* all copy-on-write */
	if (dir < 0) {
		while (n < max && from - n > v->start && !vma_page_cow(v, from - n - PAGE_SIZE))
			n += PAGE_SIZE;
	} else {
		uint64_t lim = vma_valid_end(v);
		while (n < max && from + n < lim && !vma_page_cow(v, from + n))
			n += PAGE_SIZE;
	}
	return n;
}

/*
 * Scattered writes that are dense enough: rather than fault on page after page, copy the
 * aligned window around p (from 2 MiB down to 64 KiB) once the faults this mm already took in
 * it are worth, in copying time, the pages of it still shared: the rent-or-buy rule, which
 * never costs more than about twice the better choice made in hindsight. One page in four
 * written then costs about a copy of the memory; one in a hundred still costs a page each.
 */
static void dense_window(const struct vma *v, uint64_t p, uint64_t *s, uint64_t *e)
{
	static const uint64_t windows[] = {COW_CHUNK_MAX, 512 << 10, 128 << 10, 64 << 10};
	uint64_t worth = fault_worth_pages(), lim = vma_valid_end(v);

	if (!v->pm)
		return; /* no fault here since the fork */
	for (size_t w = 0; w < ARRAY_SIZE(windows); w++) {
		uint64_t ws = MAX(v->start, p & ~(windows[w] - 1));
		uint64_t we = MIN(lim, (p & ~(windows[w] - 1)) + windows[w]);
		uint64_t faults = 0, shared = 0;
		for (uint64_t a = ws; a < we; a += PAGE_SIZE) {
			uint32_t pe = *vma_pe(v, a);
			faults += !!(pe & PG_FAULT);
			shared += !!(pe & PG_COW);
		}
		if (faults && faults * worth >= shared) {
			*s = MIN(*s, ws);
			*e = MAX(*e, we);
			return;
		}
	}
}

/* A fault that continues a run of private pages takes at least this much. */
#define COW_SEQ_MIN (8 * PAGE_SIZE)

/*
 * Writes at a constant stride (a loop over an array of structures, one field each): once
 * three faults are one stride apart, a fault takes the pages of the next strides too, twice as
 * many as the last time it was right, up to COW_CHUNK_MAX, when copying a stride's pages costs
 * less than a fault. The sequential rewrite is the stride of one page (fault_range). One
 * stream per mm: the faults of several threads interleaved just go page by page.
 */
#define STRIDE_MAX (64 * PAGE_SIZE)

static void stride_range(struct mm *mm, const struct vma *v, uint64_t p, uint64_t *e)
{
	uint64_t d = mm->cow_stride, last = mm->cow_last;

	if (d && p == mm->cow_next) {
		mm->cow_span = MIN(mm->cow_span * 2, COW_CHUNK_MAX / d + 1);
	} else if (last && p > last && p - last <= STRIDE_MAX) {
		if (d == p - last) {
			mm->cow_span = 2;
		} else {
			mm->cow_stride = d = p - last;
			mm->cow_span = 1;
		}
	} else {
		mm->cow_stride = d = 0;
		mm->cow_span = 1;
	}
	mm->cow_last = p;
	if (d && mm->cow_span > 1 && d / PAGE_SIZE <= fault_worth_pages())
		*e = MAX(*e, MIN(vma_valid_end(v), p + d * (mm->cow_span - 1) + PAGE_SIZE));
}

/* A write fault on copy-on-write page p of v: the pages to break with it. A fault right above
 * (below) a run of private pages, as a sequential rewrite makes, takes as many pages again as
 * that run holds (at least COW_SEQ_MIN, at most COW_CHUNK_MAX); a fault that continues a
 * stride or lies where scattered faults are dense takes more (stride_range, dense_window);
 * else the page alone. */
static void fault_range(struct mm *mm, const struct vma *v, uint64_t p, uint64_t *s, uint64_t *e)
{
	uint64_t below = private_run(v, p, -1, COW_CHUNK_MAX);
	uint64_t above = private_run(v, p + PAGE_SIZE, 1, COW_CHUNK_MAX);
	*s = p;
	*e = p + PAGE_SIZE;
	if (below)
		*e = MAX(*e, MIN(vma_valid_end(v), p + MAX(below, COW_SEQ_MIN)));
	if (above) {
		uint64_t want = MAX(above, COW_SEQ_MIN);
		*s = p + PAGE_SIZE - v->start > want ? p + PAGE_SIZE - want : v->start;
	}
	stride_range(mm, v, p, e);
	dense_window(v, p, s, e);
	/* Where the stride's next fault would be, past what this one takes. */
	if (mm->cow_stride)
		mm->cow_next = p + (*e - p + mm->cow_stride - 1) / mm->cow_stride * mm->cow_stride;
}

/* A write fault on copy-on-write page p of v (below its valid end). 0 or -ENOMEM. */
static int cow_fault(struct mm *mm, struct vma *v, uint64_t p)
{
	uint64_t s, e;
	if (vma_all_exclusive(v))
		return cow_reprotect(mm, v);
	if (fragmented(mm) && compact_window(mm, v, p) == 0)
		return 0;
	fault_range(mm, v, p, &s, &e);
	int r = break_range(mm, v, s, e, false);
	if (r == 0)
		*vma_pe(v, p) |= PG_FAULT;
	return r;
}

/* The last fault this thread could not explain (see mm_handle_fault). */
static __thread struct {
	struct mm *mm;
	uint64_t addr, gen;
} unexplained;

int mm_handle_fault(struct mm *mm, uint64_t addr, int access)
{
	int r = 0;

	if (!mm)
		return -EFAULT;
	pthread_rwlock_wrlock(&mm->lock);
	mm_apply_zaps_locked(mm);
	struct vma *v = vma_lookup(mm, addr);
	if (!v) {
		r = -EFAULT;
		goto out;
	}
	int prot = v->prot;
	bool cow_write = (v->flags & VMA_COW) && (prot & LINUX_PROT_WRITE);
	/* x86: every mapped page that is not PROT_NONE is readable. */
	bool denied = (access & LINUX_PROT_WRITE)  ? !(prot & LINUX_PROT_WRITE)
		      : (access & LINUX_PROT_EXEC) ? !(prot & LINUX_PROT_EXEC)
						   : prot == LINUX_PROT_NONE;
	if (denied) {
		r = -EACCES;
		goto out;
	}
	/* A file mapping: past the end of the file is SIGBUS; a hole of a shared one, or a page
	 * of a private one that the file has grown into, is made present. */
	if (v->file) {
		r = mm_file_fault(mm, (size_t)(v - mm->v), addr);
		if (r != 1)
			goto out;
		r = 0;
		v = vma_lookup(mm, addr);
	}
	/* A fault on a present copy-on-write page of a writable VMA: a write (when the access is
	 * unknown, it can also be an instruction fetch from a non-executable page; that one
	 * faults again once the page is private, and is answered below). */
	if (cow_write && (!access || (access & LINUX_PROT_WRITE)) &&
	    vma_page_cow(v, PAGE_ALIGN_DOWN(addr))) {
		r = cow_fault(mm, v, PAGE_ALIGN_DOWN(addr));
		if (r < 0)
			log_warn("mm: out of memory breaking copy-on-write at %#lx",
				 (unsigned long)addr);
		goto out;
	}
	/*
	 * The VMA allows what we know of the access, and the platform should map it so. Either
	 * another thread made the page writable while this fault was on its way (it broke
	 * copy-on-write, or mprotect'ed), or the access was one the VMA forbids but the platform
	 * could not name (a write to a read-only page, a fetch from a non-executable one), or
	 * (file mappings) the page is valid but was never mapped here: a shared file's page
	 * another process or write(2) filled in, a private one copied in by copy_in/copy_out.
	 * Map it and retry once; the same fault again with nothing changed in between is the
	 * real thing. (A page of a copy-on-write VMA that is private already is one of these:
	 * another thread broke it.)
	 */
	if (unexplained.mm == mm && unexplained.addr == addr && unexplained.gen == mm->cow_gen) {
		unexplained.mm = NULL;
		r = -EACCES;
		goto out;
	}
	if (v->file && !vma_filemap(v) && !v->pm) {
		/* pages copy_in/copy_out filled (a grown file, a lazily filled mapping) come in
		 * runs of contiguous backing: map the neighbourhood, not one page per fault */
		uint64_t page = PAGE_ALIGN_DOWN(addr);
		uint64_t s = page - v->start > FM_MAP_AROUND ? page - FM_MAP_AROUND : v->start;
		uint64_t e = v->end - page > FM_MAP_AROUND ? page + FM_MAP_AROUND : v->end;
		vma_plat_map(mm, v, s, e);
	} else if ((v->file || v->pm) && !vma_filemap(v)) {
		/* (mm_file_fault mapped a shared one's) */
		vma_plat_map(mm, v, PAGE_ALIGN_DOWN(addr), PAGE_ALIGN_DOWN(addr) + PAGE_SIZE);
	}
	unexplained.mm = mm;
	unexplained.addr = addr;
	unexplained.gen = mm->cow_gen;
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

int mm_write_soon(struct mm *mm, uint64_t addr)
{
	uint64_t p = PAGE_ALIGN_DOWN(addr);
	int r = 0;

	pthread_rwlock_wrlock(&mm->lock);
	mm_apply_zaps_locked(mm); /* as a fault would (a no-op before activation) */
	struct vma *v = vma_lookup(mm, addr);
	if (v && (v->flags & VMA_COW) && (v->prot & LINUX_PROT_WRITE) && p < vma_valid_end(v) &&
	    vma_page_cow(v, p))
		r = break_range(mm, v, p, p + PAGE_SIZE, false);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

/*
 * Small writable private memory is copied at the fork rather than shared copy-on-write.
 * Programs write much of it right after a fork (python's reference counts: a forked worker took
 * ~300 copy-on-write faults, and its parent ~150 after each fork), and a fault costs far more
 * here than copying a page (two hand-offs with the platform, and a mapping of its own), while
 * copying a few MiB costs a millisecond or two. Only VMAs of at most FORK_COPY_VMA_MAX, until
 * the caller's budget is copied (the VMA that passes it is finished: at most FORK_COPY_VMA_MAX
 * more): a large parent still forks in time proportional to its VMAs, and its memory stays
 * shared. Only the memory file's data is copied (its holes found with SEEK_DATA/SEEK_HOLE, as
 * the resident walk does): holes stay holes, and the parent's pages do not become
 * copy-on-write at all.
 */
#define FORK_COPY_VMA_MAX (8ULL << 20)
/* A data range of the memory file is copied to delta bytes past it. */
struct fork_copy_to {
	uint64_t delta;
	uint64_t *copied;
	uint64_t *next; /* stale pages: the first not written yet (the gaps are punched) */
};

static void copy_data(void *arg, uint64_t a, uint64_t b)
{
	struct fork_copy_to *to = arg;

	if (to->next) {
		memfile_zero(*to->next, a + to->delta - *to->next);
		*to->next = b + to->delta;
	}
	memfile_copy(a + to->delta, a, b - a);
	*to->copied += b - a;
}

/* *nv: v (page aligned) for the child, with a copy of its pages in fresh backing of its own;
 * the bytes copied are added to *copied; kn is the fork's walk of the memory file. 0 or
 * -ENOMEM. */
static int fork_copy(const struct vma *v, struct vma *nv, struct known *kn, uint64_t *copied)
{
	uint64_t len = vma_len(v), old, re;

	*nv = *v;
	nv->pm = NULL;
	nv->pmi = 0;
	nv->flags &= ~VMA_COW;
	nv->excl = nv->start;
	int stale = memfile_alloc_overwrite(len, &nv->moff);
	if (stale < 0)
		return -ENOMEM;
	uint64_t next = nv->moff;
	for (uint64_t a = v->start; a < v->end; a = re) {
		re = vma_run(v, a, v->end, &old, NULL);
		struct fork_copy_to to = {nv->moff + (a - v->start) - old, copied,
					  stale ? &next : NULL};
		memfile_data_ranges(kn, old, old + (re - a), copy_data, &to);
	}
	if (stale)
		memfile_zero(next, nv->moff + len - next);
	if (nv->file)
		file_get(nv->file);
	return 0;
}

/* Should the fork copy v now (see above), having copied copied bytes of at most copy_max?
 * Private memory only: anonymous, or a private file mapping valid to its end with nothing
 * left to fill lazily (a program's data and bss, which python writes as much as its heap). The
 * budget counts what was written, not the VMAs' lengths: the 8 MiB stacks of threads (glibc
 * keeps those of exited threads) are mostly holes, and would use it up for nothing. */
static bool fork_copies(const struct vma *v, uint64_t copied, uint64_t copy_max)
{
	if ((v->flags & (VMA_SHARED | VMA_FILEMAP | VMA_SHARED_COPY)) ||
	    !(v->prot & LINUX_PROT_WRITE) || vma_len(v) > FORK_COPY_VMA_MAX ||
	    copied >= copy_max)
		return false;
	/* The pages of a page cache that maps its file are holes in the memory file (fcache.c),
	 * which the copy's walk would take for zeros (a library's text made writable). */
	if (v->pc && v->pc->fd >= 0)
		return false;
	return !v->file || (vma_valid_end(v) == v->end && v->fend == v->vend);
}

struct mm *mm_fork(struct mm *parent)
{
	return mm_fork_copy(parent, 0);
}

struct mm *mm_fork_copy(struct mm *parent, uint64_t copy_max)
{
	struct known kn = {0};
	uint64_t copied = 0;
	struct mm *c = mm_alloc(parent->plat);
	if (!c)
		return NULL;
	pthread_rwlock_wrlock(&parent->lock);
	mm_apply_zaps_locked(parent);
	/* Registered first: a truncation from now on queues its zap on the child too. */
	for (size_t k = 0; k < parent->nfmaps; k++)
		if (filemap_register(c, parent->fmaps[k]) < 0)
			goto fail;
	c->min_addr = parent->min_addr;
	c->max_addr = parent->max_addr;
	c->mmap_base = parent->mmap_base;
	c->brk_start = parent->brk_start;
	c->brk = parent->brk;
	c->args = parent->args;
	c->frag = parent->frag; /* (the child's pages are mapped in as many pieces, or fewer) */
	/* Another task sharing the mm (a thread) could write a page while it is copied. */
	if (__atomic_load_n(&parent->refs, __ATOMIC_ACQUIRE) != 1)
		copy_max = 0;
	if (vma_reserve(c, parent->n) < 0)
		goto fail;
	for (size_t i = 0; i < parent->n; i++) {
		struct vma *v = &parent->v[i];
		struct vma nv;
		if (v->flags & VMA_DONTFORK)
			continue;
		if (v->flags & VMA_WIPEONFORK) {
			/* Anonymous private memory only (madvise checks): the child gets zeros. */
			nv = *v;
			nv.pm = NULL;
			nv.pmi = 0;
			nv.flags &= ~VMA_COW;
			nv.excl = nv.start;
			if (memfile_alloc(vma_len(v), &nv.moff) < 0)
				goto fail;
			if (nv.file)
				file_get(nv.file);
		} else if (fork_copies(v, copied, copy_max)) {
			if (fork_copy(v, &nv, &kn, &copied) < 0)
				goto fail;
		} else {
			/* Shared memory and the file's pages (VMA_FILEMAP) are shared for real. */
			if (vma_clone(v, v->start, v->end, &nv) < 0)
				goto fail;
			if (!(v->flags & VMA_SHARED)) {
				vma_mark_cow(&nv);
				if (vma_mark_cow(v) && (v->prot & LINUX_PROT_WRITE) &&
				    vma_plat_reprotect(parent, v) < 0) {
					/* A writable parent page would leak into the child: fail
					 * the fork. The parent's pages stay marked copy-on-write,
					 * which only costs a fault. */
					vma_release(&nv);
					goto fail;
				}
			}
		}
		c->v[c->n++] = nv;
	}
	/* Pieces split apart earlier (mprotect...) may be one VMA again, now both copy-on-write. */
	vma_merge_range(parent, 0, parent->n);
	vma_merge_range(c, 0, c->n);
	if (mm_cpuid_fork_locked(c, parent) < 0)
		goto fail;
	pthread_rwlock_unlock(&parent->lock);
	return c;

fail:
	pthread_rwlock_unlock(&parent->lock);
	mm_put(c); /* releases what the child got so far; the parent's VMAs may stay VMA_COW */
	return NULL;
}
