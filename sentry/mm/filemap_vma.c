/* File mappings in an address space: what the platform maps for a VMA (its valid part, or the
 * file's present pages), faults past the end of a file (SIGBUS) and in holes, private mappings
 * following a grown file, and applying the invalidations a truncation queued. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/vfs.h"

/* The file offset of address addr inside v. */
static inline uint64_t foff_of(const struct vma *v, uint64_t addr)
{
	return v->foff + (addr - v->start);
}

/* The address of file offset off relative to v (may lie outside v). */
static inline uint64_t addr_of(const struct vma *v, uint64_t off)
{
	return v->start + (off - v->foff);
}

/* [*s, *e) clipped to the addresses of v whose file offsets lie in [lo, hi). false: empty. */
static bool clip_to_file_range(const struct vma *v, uint64_t lo, uint64_t hi, uint64_t *s,
			       uint64_t *e)
{
	uint64_t vlo = v->foff, vhi = v->foff + vma_len(v);
	lo = MAX(lo, vlo);
	hi = MIN(hi, vhi);
	if (lo >= hi)
		return false;
	*s = MAX(*s, addr_of(v, lo));
	*e = MIN(*e, addr_of(v, hi));
	return *s < *e;
}

/* Map the file pages present in [s, e) of VMA_FILEMAP v below the end of the file. The extents
 * are collected under the filemap's lock and mapped after it: a truncation in between queues a
 * zap on this mm (registered before anything was mapped) that holds the pages until it is
 * applied, which is after this returns (the caller holds mm->lock). */
static int filemap_map(struct mm *mm, const struct vma *v, uint64_t s, uint64_t e)
{
	struct mm_filemap *fm = v->fm;
	struct fm_ext batch[32];
	uint64_t off, end;
	int r = 0;

	if (!mm->as)
		return 0;
	off = foff_of(v, s);
	end = foff_of(v, e);
	while (off < end && r == 0) {
		size_t nb = 0;
		pthread_mutex_lock(&fm->lock);
		end = MIN(end, PAGE_ALIGN_UP(fm->size));
		for (size_t i = filemap_ext_index(fm, off);
		     i < fm->n && fm->ext[i].off < end && nb < ARRAY_SIZE(batch); i++)
			batch[nb++] = fm->ext[i];
		pthread_mutex_unlock(&fm->lock);
		if (!nb)
			break;
		for (size_t k = 0; k < nb && r == 0; k++) {
			uint64_t a = MAX(off, batch[k].off);
			uint64_t b = MIN(end, batch[k].off + batch[k].len);
			if (a < b)
				r = mm_plat_map(mm, addr_of(v, a), b - a, vma_plat_prot(v),
						batch[k].moff + (a - batch[k].off));
		}
		off = batch[nb - 1].off + batch[nb - 1].len;
	}
	return r;
}

int vma_plat_map(struct mm *mm, const struct vma *v, uint64_t s, uint64_t e)
{
	s = MAX(s, v->start);
	e = MIN(e, v->end);
	if (vma_filemap(v))
		return s < e ? filemap_map(mm, v, s, e) : 0;
	e = MIN(e, vma_valid_end(v));
	/* One call per run of contiguous backing (one only without a per-page map). */
	for (uint64_t a = s, re; a < e; a = re) {
		uint64_t moff;
		bool cow;
		re = vma_run(v, a, e, &moff, &cow);
		int r =
		    mm_plat_map(mm, a, re - a, cow ? v->prot & ~LINUX_PROT_WRITE : v->prot, moff);
		if (r < 0)
			return r;
	}
	return 0;
}

int vma_plat_reprotect(struct mm *mm, struct vma *v)
{
	if (vma_filemap(v)) {
		/* Only some pages are mapped, and the host refuses to protect a range with holes:
		 * map the present ones again with the new protection. */
		int r = mm_plat_unmap(mm, v->start, vma_len(v));
		return r < 0 ? r : filemap_map(mm, v, v->start, v->end);
	}
	uint64_t e = vma_valid_end(v);
	if (e <= v->start)
		return 0;
	/* Some pages of a per-page map may be private already: make them all copy-on-write
	 * again rather than protecting page by page (a write to one held alone just faults and
	 * re-protects it). */
	if (v->flags & VMA_COW)
		vma_mark_cow(v);
	return mm_plat_protect(mm, v->start, e - v->start, vma_plat_prot(v));
}

/* Apply one zap to every VMA of mm that maps its file. Returns whether any does. */
static bool apply_zap(struct mm *mm, const struct mm_zap *z)
{
	bool used = false;

	for (size_t i = 0; i < mm->n; i++) {
		struct vma *v = &mm->v[i];
		uint64_t s = v->start, e = v->end;
		if (v->fm != z->fm)
			continue;
		used = true;
		if (vma_filemap(v)) {
			if (clip_to_file_range(v, z->from, z->to, &s, &e)) {
				mm_plat_unmap(mm, s, e - s);
				mm->cow_gen++; /* a fault there now is a new one */
			}
			continue;
		}
		if (!z->truncate || v->vend <= z->from)
			continue;
		/* A private mapping of a file that shrank: its pages past the new end go. */
		uint64_t old_end = vma_valid_end(v);
		v->vend = z->from;
		uint64_t new_end = vma_valid_end(v);
		if (new_end < old_end) {
			mm_plat_unmap(mm, new_end, old_end - new_end);
			mm->cow_gen++;
		}
	}
	return used;
}

void mm_apply_zaps_locked(struct mm *mm)
{
	if (!__atomic_load_n(&mm->zap_pending, __ATOMIC_ACQUIRE))
		return;
	struct mm_zap *z = mm_zaps_take(mm);
	while (z) {
		struct mm_zap *next = z->next;
		if (!apply_zap(mm, z)) {
			/* Nothing here maps the file any more: stop hearing about it. */
			for (size_t k = 0; k < mm->nfmaps; k++) {
				if (mm->fmaps[k] == z->fm) {
					filemap_unregister(mm, k);
					break;
				}
			}
		}
		mm_zap_free(z);
		z = next;
	}
}

uint64_t vma_access_end(const struct vma *v, uint64_t addr, bool *grow)
{
	if (!v->file)
		return v->end;
	uint64_t eof = v->fm ? PAGE_ALIGN_UP(filemap_size(v->fm)) : UINT64_MAX;
	uint64_t lim = vma_filemap(v) ? eof : MIN(v->vend, eof);
	uint64_t end = lim <= v->foff		     ? v->start
		       : lim - v->foff >= vma_len(v) ? v->end
						     : addr_of(v, lim);
	uint64_t fill_to = v->fm ? eof : v->fend; /* (fend: a lazily filled one) */
	if (end <= addr && !vma_filemap(v) && fill_to > v->vend && foff_of(v, addr) < fill_to)
		*grow = true;
	return end;
}

/* Fill the pages of private file VMA i from its vend up to min(eof, its end) from the file and
 * make them valid; the VMA's other pieces of the same file range get the same vend so that they
 * can merge again. Those pages were not mapped in the platform (past vend), so new backing
 * needs no platform change unless plat asks for the new pages to be mapped. 0 or -errno. */
static int grow_one(struct mm *mm, size_t i, uint64_t eof, bool plat)
{
	struct vma *v = &mm->v[i];
	uint64_t s = vma_valid_end(v), vs = v->start, ve = v->end;
	uint64_t e = eof <= v->foff		   ? v->start
		     : eof - v->foff >= vma_len(v) ? v->end
						   : addr_of(v, eof);
	int r;

	if (s >= e || eof <= v->foff)
		return 0;
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, s);
	vma_split(mm, e);
	/* mm_refill takes the pages as they are (not mapped past vend) and refills them. */
	r = mm_refill(mm, s, e, false);
	if (r < 0)
		return r;
	size_t lo = vma_index(mm, vs), hi = vma_index(mm, ve - 1);
	for (size_t k = lo; k <= hi && k < mm->n; k++)
		mm->v[k].vend = eof;
	if (plat) {
		for (size_t k = vma_index(mm, s); k < mm->n && mm->v[k].start < e; k++) {
			r = vma_plat_map(mm, &mm->v[k], s, e);
			if (r < 0)
				return r;
		}
	}
	vma_merge_range(mm, lo, hi);
	return 0;
}

int mm_file_grow(struct mm *mm, uint64_t addr, uint64_t len, bool plat)
{
	uint64_t end = addr + len;
	for (uint64_t cur = addr; cur < end;) {
		size_t i = vma_index(mm, cur);
		if (i >= mm->n || mm->v[i].start >= end)
			break;
		struct vma *v = &mm->v[i];
		uint64_t next = v->end;
		if (v->file && !vma_filemap(v)) {
			/* a grown file, or a lazily filled mapping's first access */
			uint64_t eof = v->fm ? PAGE_ALIGN_UP(filemap_size(v->fm)) : v->fend;
			if (eof > v->vend) {
				int r = grow_one(mm, i, eof, plat);
				if (r < 0)
					return r;
			}
		}
		cur = next;
	}
	return 0;
}

int mm_file_fault(struct mm *mm, size_t i, uint64_t addr)
{
	struct vma *v = &mm->v[i];
	uint64_t page = PAGE_ALIGN_DOWN(addr), off = foff_of(v, page);
	int r;

	if (!vma_filemap(v)) {
		if (off < v->vend)
			return 1;
		/* past vend: a grown file, or a lazily filled mapping's first access */
		uint64_t eof = v->fm ? PAGE_ALIGN_UP(filemap_size(v->fm)) : v->fend;
		if (off >= eof)
			return -ENXIO;
		r = grow_one(mm, i, eof, true);
		if (r < 0)
			log_warn("mm: filling %#lx from a grown file: %d", (unsigned long)addr, r);
		return r < 0 ? -ENOMEM : 0;
	}

	struct mm_filemap *fm = v->fm;
	pthread_mutex_lock(&fm->lock);
	uint64_t eof = PAGE_ALIGN_UP(fm->size);
	if (off >= eof) {
		pthread_mutex_unlock(&fm->lock);
		return -ENXIO;
	}
	size_t k = filemap_ext_index(fm, off);
	bool hole = k >= fm->n || fm->ext[k].off > off;
	if (hole) {
		r = filemap_fill_hole_locked(fm, off, v->foff, MIN(eof, v->foff + vma_len(v)));
		if (r < 0) {
			/* Linux's shmem answers a fault it cannot back with SIGBUS too. */
			pthread_mutex_unlock(&fm->lock);
			return -ENXIO;
		}
	}
	pthread_mutex_unlock(&fm->lock);
	/* Map the page and what is present around it. */
	uint64_t s = page > v->start + FM_MAP_AROUND ? page - FM_MAP_AROUND : v->start;
	uint64_t e = v->end - page > FM_MAP_AROUND ? page + FM_MAP_AROUND : v->end;
	r = filemap_map(mm, v, s, e);
	if (r < 0) {
		log_warn("mm: platform map of file pages at %#lx: %d", (unsigned long)addr, r);
		return -ENOMEM;
	}
	return hole ? 0 : 1;
}
