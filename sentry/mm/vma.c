/* The VMA set of an address space: a sorted array with binary search, splitting, merging, and
 * the search for free ranges. */
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

size_t vma_index(const struct mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (mm->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct vma *vma_lookup(struct mm *mm, uint64_t addr)
{
	size_t i = vma_index(mm, addr);
	if (i < mm->n && mm->v[i].start <= addr)
		return &mm->v[i];
	return NULL;
}

int mm_grow_array(void **arr, size_t *cap, size_t want, size_t elem, size_t first)
{
	if (want <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : first;
	while (ncap < want)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int vma_reserve(struct mm *mm, size_t extra)
{
	return mm_grow_array((void **)&mm->v, &mm->cap, mm->n + extra, sizeof(*mm->v), 32);
}

void vma_insert(struct mm *mm, size_t i, const struct vma *nv)
{
	if (mm->n >= mm->cap)
		abort(); /* broken invariant: the caller must have reserved room */
	memmove(&mm->v[i + 1], &mm->v[i], (mm->n - i) * sizeof(*mm->v));
	mm->v[i] = *nv;
	mm->n++;
}

void vma_remove(struct mm *mm, size_t i, size_t count)
{
	memmove(&mm->v[i], &mm->v[i + count], (mm->n - i - count) * sizeof(*mm->v));
	mm->n -= count;
}

void vma_split(struct mm *mm, uint64_t addr)
{
	size_t i = vma_index(mm, addr);
	if (i >= mm->n || mm->v[i].start >= addr)
		return;
	struct vma *lo = &mm->v[i], hi = *lo;
	uint64_t delta = addr - hi.start;
	hi.start = addr;
	hi.foff += delta;
	if (hi.pm) {
		hi.pmi += delta >> MM_PAGE_SHIFT; /* the two pieces share the map */
		hi.pm->refs++;
	} else {
		hi.moff += delta;
	}
	hi.excl = MAX(lo->excl, addr);
	lo->excl = MIN(lo->excl, addr);
	if (hi.file)
		file_get(hi.file); /* each VMA holds its own reference */
	lo->end = addr;
	vma_insert(mm, i + 1, &hi);
}

void vma_release(struct vma *v)
{
	if (!vma_filemap(v))
		vma_unref_range(v, v->start, v->end);
	vma_pgmap_put(v);
	if (v->file)
		file_put(v->file);
	v->file = NULL;
}

bool vma_compatible(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->prot == b->prot &&
	       (a->flags & ~VMA_COW) == (b->flags & ~VMA_COW) && a->file == b->file &&
	       (!a->file || a->foff + vma_len(a) == b->foff);
}

/* Merge v[i+1] into v[i] when they are compatible and their backings can be joined. */
static bool try_merge(struct mm *mm, size_t i)
{
	if (i + 1 >= mm->n)
		return false;
	struct vma *a = &mm->v[i], *b = &mm->v[i + 1];
	if (!vma_compatible(a, b))
		return false;
	/* Shared file mappings have no backing of their own; private ones must agree on where
	 * the file ends. */
	if (vma_filemap(a)) {
		if ((a->flags & VMA_COW) != (b->flags & VMA_COW))
			return false;
	} else if ((a->file && (a->vend != b->vend || a->fend != b->fend)) ||
		   !vma_join_backing(a, b)) {
		return false;
	}
	a->end = b->end;
	if (b->file)
		file_put(b->file);
	vma_remove(mm, i + 1, 1);
	return true;
}

void vma_merge_range(struct mm *mm, size_t lo, size_t hi)
{
	if (lo > 0)
		lo--;
	if (hi >= mm->n)
		hi = mm->n ? mm->n - 1 : 0;
	for (size_t i = hi + 1; i-- > lo;) {
		if (i < mm->n)
			try_merge(mm, i);
	}
	mm->cache = 0;
}

bool vma_range_free(const struct mm *mm, uint64_t start, uint64_t end, bool gaps)
{
	if (end <= start || start < mm->min_addr || end > mm->max_addr)
		return false;
	size_t i = vma_index(mm, start);
	if (i >= mm->n)
		return true;
	return (gaps ? vma_start_gap(&mm->v[i]) : mm->v[i].start) >= end;
}

/* Highest len-sized free range inside [lo, hi), or -ENOMEM. */
static long find_topdown(const struct mm *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
	for (size_t i = mm->n + 1; i-- > 0;) {
		uint64_t gap_end = i < mm->n ? vma_start_gap(&mm->v[i]) : hi;
		uint64_t gap_start = i > 0 ? mm->v[i - 1].end : lo;
		gap_end = MIN(gap_end, hi);
		gap_start = MAX(gap_start, lo);
		if (gap_end > gap_start && gap_end - gap_start >= len)
			return (long)(gap_end - len);
		if (i > 0 && mm->v[i - 1].end <= lo)
			break;
	}
	return -ENOMEM;
}

/* Lowest len-sized free range inside [lo, hi), or -ENOMEM. */
static long find_bottomup(const struct mm *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
	for (size_t i = vma_index(mm, lo); i <= mm->n; i++) {
		uint64_t gap_start = i > 0 ? mm->v[i - 1].end : lo;
		uint64_t gap_end = i < mm->n ? vma_start_gap(&mm->v[i]) : hi;
		gap_end = MIN(gap_end, hi);
		gap_start = MAX(gap_start, lo);
		if (gap_end > gap_start && gap_end - gap_start >= len)
			return (long)gap_start;
		if (gap_start >= hi)
			break;
	}
	return -ENOMEM;
}

long vma_find_free(const struct mm *mm, uint64_t hint, uint64_t len, int flags)
{
	if (len > mm->max_addr - mm->min_addr)
		return -ENOMEM;
	if (flags & LINUX_MAP_32BIT) {
		/* Linux's x86-64 MAP_32BIT window: [1 GiB, 2 GiB). */
		return find_bottomup(mm, len, MAX(0x40000000ULL, mm->min_addr), 0x80000000ULL);
	}
	hint = PAGE_ALIGN_DOWN(hint);
	if (hint && !range_overflows(hint, len) && vma_range_free(mm, hint, hint + len, true)) {
		/* Linux also keeps a new mapping out of the guard gap above a growsup VMA: there
		 * are none on x86. */
		return (long)hint;
	}
	long r = find_topdown(mm, len, mm->min_addr, mm->mmap_base);
	if (r < 0)
		r = find_bottomup(mm, len, mm->min_addr, mm->max_addr);
	return r;
}

void mm_unmap_range(struct mm *mm, uint64_t start, uint64_t end, bool plat)
{
	if (mm->ncpuid)
		mm_cpuid_forget_locked(mm, start, end, false);
	vma_split(mm, start);
	vma_split(mm, end);
	size_t i = vma_index(mm, start), j = i;
	while (j < mm->n && mm->v[j].start < end)
		j++;
	if (j == i)
		return;
	/* Unmap before releasing: another application thread must never reach pages that went
	 * back to the allocator (it would dirty memory handed out as zero). */
	if (plat) {
		int r = mm_plat_unmap(mm, start, end - start);
		if (r < 0)
			log_warn("mm: platform unmap %#lx-%#lx: %d", (unsigned long)start,
				 (unsigned long)end, r);
	}
	memfile_batch_begin();
	for (size_t k = i; k < j; k++)
		vma_release(&mm->v[k]);
	memfile_batch_end();
	vma_remove(mm, i, j - i);
	mm->cache = 0;
}
