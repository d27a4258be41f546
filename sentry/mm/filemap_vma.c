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

/* Does lazily filled private VMA v (nothing valid in it) still map its page cache's own pages
 * (not copies made since)? */
static bool maps_cache(const struct vma *v)
{
	return v->pc && !v->pm && v->moff == v->pc->moff + v->foff;
}

/* Make [s, e) (page aligned, inside one lazily filled VMA with nothing valid) valid: split it
 * off, fill it from the file into its own pages (fresh ones if they are shared) unless it maps
 * the cache's filled pages (cached), give it vend = fend, map it in the platform with plat and
 * merge it with its neighbours where it can. 0 or -errno. */
static int make_valid(struct mm *mm, uint64_t s, uint64_t e, bool cached, bool plat)
{
	int r;

	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, s);
	vma_split(mm, e);
	size_t j = vma_index(mm, s);
	if (!cached && (r = mm_refill(mm, s, e, false)) < 0)
		return r;
	struct vma *v = &mm->v[j];
	v->vend = v->fend;
	if (plat && (r = vma_plat_map(mm, v, s, e)) < 0)
		return r;
	vma_merge_range(mm, j, j);
	return 0;
}

/* Make the piece of lazily filled private file VMA i (nothing valid in it) around [lo, hi)
 * (addresses inside it, lo < hi) valid: the FC_CHUNK-aligned file range holding them, within
 * the VMA and the file, filled from the page cache v->pc (filled there first where it is not
 * yet, and widened over the cache's filled chunks around it) when the VMA still maps the
 * cache's own pages, else into the piece's own pages. With plat, map it in the platform. May
 * split and merge VMAs. -ENXIO when lo lies past the end of the file; 0 or -errno. */
static int lazy_fill(struct mm *mm, size_t i, uint64_t lo, uint64_t hi, bool plat)
{
	struct vma *v = &mm->v[i];
	uint64_t lim = MIN(v->fend, v->foff + vma_len(v));
	uint64_t a = MAX(v->foff, foff_of(v, PAGE_ALIGN_DOWN(lo)) & ~(FC_CHUNK - 1));
	uint64_t b = MIN(lim, (foff_of(v, PAGE_ALIGN_UP(hi)) + FC_CHUNK - 1) & ~(FC_CHUNK - 1));
	struct mm_fcache *pc = v->pc;
	int r;

	if (a >= b || foff_of(v, lo) >= lim)
		return -ENXIO;
	bool cached = maps_cache(v) && b <= pc->len;
	struct linux_stat st;
	if (!cached && vfs_fstat(v->file, &st) == 0) {
		/* The file may have shrunk since mmap (a read-write volume): what lies wholly past
		 * its end now is SIGBUS, as on Linux. (A cached file does not change.) */
		uint64_t eof = PAGE_ALIGN_UP(st.st_size > 0 ? (uint64_t)st.st_size : 0);
		if (foff_of(v, lo) >= eof)
			return -ENXIO;
		b = MIN(b, eof);
	}
	if (cached) {
		if ((r = fcache_fill(pc, v->file, a, b)) < 0)
			return r;
		/* What the cache has filled next to it comes along. */
		lim = MIN(lim, pc->len);
		while (a > v->foff && fcache_chunk_filled(pc, a - 1))
			a = MAX(v->foff, (a - 1) & ~(FC_CHUNK - 1));
		while (b < lim && fcache_chunk_filled(pc, b))
			b = MIN(lim, (b & ~(FC_CHUNK - 1)) + FC_CHUNK);
	}
	return make_valid(mm, addr_of(v, a), addr_of(v, b), cached, plat);
}

int mm_map_cached(struct mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t cur = start; cur < end;) {
		size_t i = vma_index(mm, cur);
		if (i >= mm->n || mm->v[i].start >= end)
			break;
		const struct vma *v = &mm->v[i];
		uint64_t stop = MIN(end, v->end);
		if (!v->file || v->vend > v->foff || !maps_cache(v)) {
			cur = stop;
			continue;
		}
		/* The next run of filled chunks from cur, within the file and the cache. */
		const struct mm_fcache *pc = v->pc;
		uint64_t lim = MIN(MIN(v->fend, pc->len), foff_of(v, stop));
		uint64_t a = foff_of(v, MAX(cur, v->start)), b;
		while (a < lim && !fcache_chunk_filled(pc, a))
			a = (a & ~(FC_CHUNK - 1)) + FC_CHUNK;
		for (b = a; b < lim && fcache_chunk_filled(pc, b);)
			b = MIN(lim, (b & ~(FC_CHUNK - 1)) + FC_CHUNK);
		if (a >= b) {
			cur = stop;
			continue;
		}
		uint64_t s = addr_of(v, a), e = addr_of(v, b);
		int r = make_valid(mm, s, e, true, true);
		if (r < 0)
			return r;
		cur = e;
	}
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
		if (v->file && !vma_filemap(v) && v->fm) {
			/* a grown file */
			uint64_t eof = PAGE_ALIGN_UP(filemap_size(v->fm));
			if (eof > v->vend) {
				int r = grow_one(mm, i, eof, plat);
				if (r < 0)
					return r;
			}
		} else if (v->file && !vma_filemap(v) && v->fend > v->vend &&
			   foff_of(v, MAX(cur, v->start)) < v->fend) {
			/* a lazily filled mapping's first access there */
			int r = lazy_fill(mm, i, MAX(cur, v->start), MIN(end, next), plat);
			if (r < 0)
				return r;
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
		r = v->fm ? grow_one(mm, i, eof, true) : lazy_fill(mm, i, page, page + PAGE_SIZE, true);
		if (r < 0 && r != -ENXIO)
			log_warn("mm: filling %#lx from the file: %d", (unsigned long)addr, r);
		/* A read error is SIGBUS, as Linux's page fault on a file it cannot read. */
		return r == -ENOMEM ? -ENOMEM : r < 0 ? -ENXIO : 0;
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
