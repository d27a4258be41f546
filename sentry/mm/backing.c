/* A VMA's memory-file pages: one contiguous range, or a per-page map once copy-on-write has been
 * broken in it; runs of contiguous backing, references, cloning, joining. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/vfs/vfs.h"

/*
 * Why a per-page map. Breaking copy-on-write gives one page (or a few) new backing in the
 * middle of a VMA. Keeping every VMA contiguous would split it into pieces, as many as the
 * breaks, in a sorted array; instead the VMA switches once to a map with one 32-bit entry per
 * page (the page's number in the memory file and a PG_COW bit), after which a break is O(1):
 * new entries and one platform mapping for the pages copied. The map costs 1/1024 of the
 * VMA's size, and only VMAs that had copy-on-write broken in them have one. Pieces of a VMA
 * split by mprotect or munmap share the map (each uses its own entries), so splitting needs
 * no memory; pieces that come together again join for free.
 */
_Static_assert((MEMFILE_SIZE >> MM_PAGE_SHIFT) <= PG_FAULT, "page numbers must fit in PG_NUM");

static inline uint64_t pages(uint64_t len) { return len >> MM_PAGE_SHIFT; }

/* A per-page map with room for n entries (none used yet), one reference. NULL on ENOMEM. */
static struct pgmap *pgmap_new(size_t n)
{
	struct pgmap *pm = malloc(sizeof(*pm) + n * sizeof(pm->e[0]));
	if (!pm)
		return NULL;
	pm->refs = 1;
	pm->n = 0;
	pm->cap = n;
	return pm;
}

/* Write the entries of v's pages [s, e) to out[] (PG_COW where the page is copy-on-write). */
static void entries_of(const struct vma *v, uint64_t s, uint64_t e, uint32_t *out)
{
	size_t n = pages(e - s);
	if (!v->pm) {
		uint32_t base = (uint32_t)pages(v->moff + (s - v->start));
		uint32_t flag = v->flags & VMA_COW ? PG_COW : 0;
		for (size_t k = 0; k < n; k++)
			out[k] = (base + (uint32_t)k) | flag;
		return;
	}
	memcpy(out, vma_pe(v, s), n * sizeof(*out));
}

uint64_t vma_run(const struct vma *v, uint64_t addr, uint64_t end, uint64_t *moff, bool *cow)
{
	end = MIN(end, v->end);
	*moff = vma_moff_at(v, addr);
	if (!v->pm) {
		if (cow)
			*cow = v->flags & VMA_COW;
		return end;
	}
	const uint32_t *e = vma_pe(v, addr);
	uint32_t mask = cow ? PG_NUM | PG_COW : PG_NUM, first = e[0] & mask;
	if (cow)
		*cow = vma_page_cow(v, addr);
	uint64_t at = PAGE_ALIGN_DOWN(addr) + PAGE_SIZE;
	for (uint32_t k = 1; at < end && (e[k] & mask) == first + k; k++)
		at += PAGE_SIZE;
	return MIN(at, end);
}

int vma_ref_range(const struct vma *v, uint64_t s, uint64_t e)
{
	uint64_t a, moff, re;
	int r = 0;

	memfile_lock();
	for (a = s; a < e; a = re) {
		re = vma_run(v, a, e, &moff, NULL);
		if ((r = memfile_incref_locked(moff, re - a)) < 0)
			break;
	}
	if (r < 0) {
		/* Give back what was taken before the failure. */
		for (uint64_t b = s; b < a; b = re) {
			re = vma_run(v, b, a, &moff, NULL);
			memfile_decref_locked(moff, re - b);
		}
	}
	memfile_unlock();
	return r;
}

void vma_unref_range(const struct vma *v, uint64_t s, uint64_t e)
{
	uint64_t moff, re;

	memfile_lock();
	for (uint64_t a = s; a < e; a = re) {
		re = vma_run(v, a, e, &moff, NULL);
		memfile_decref_locked(moff, re - a);
	}
	memfile_unlock();
}

bool vma_exclusive_range(const struct vma *v, uint64_t s, uint64_t e, uint64_t *shared_at)
{
	uint64_t moff, re, at;
	bool excl = true;

	memfile_lock();
	for (uint64_t a = s; a < e && excl; a = re) {
		re = vma_run(v, a, e, &moff, NULL);
		if (!memfile_exclusive_locked(moff, re - a, &at)) {
			excl = false;
			if (shared_at)
				*shared_at = a + (at - moff);
		}
	}
	memfile_unlock();
	return excl;
}

int vma_pgmap_make(struct vma *v)
{
	size_t n = pages(vma_len(v));
	struct pgmap *pm = pgmap_new(n);
	if (!pm)
		return -ENOMEM;
	entries_of(v, v->start, v->end, pm->e);
	pm->n = n;
	v->pm = pm;
	v->pmi = 0;
	v->moff = 0;
	return 0;
}

void vma_pgmap_put(struct vma *v)
{
	if (v->pm && --v->pm->refs == 0)
		free(v->pm);
	v->pm = NULL;
	v->pmi = 0;
}

int vma_clone(const struct vma *v, uint64_t s, uint64_t e, struct vma *out)
{
	struct vma nv = *v;
	nv.start = s;
	nv.end = e;
	nv.foff = v->foff + (s - v->start);
	nv.excl = s;
	nv.pm = NULL;
	nv.pmi = 0;
	if (!vma_filemap(v)) {
		if (v->pm) {
			size_t n = pages(e - s);
			nv.pm = pgmap_new(n);
			if (!nv.pm)
				return -ENOMEM;
			entries_of(v, s, e, nv.pm->e);
			nv.pm->n = n;
		} else {
			nv.moff = v->moff + (s - v->start);
		}
		if (vma_ref_range(&nv, s, e) < 0) {
			vma_pgmap_put(&nv);
			return -ENOMEM;
		}
	}
	if (nv.file)
		file_get(nv.file);
	*out = nv;
	return 0;
}

bool vma_mark_cow(struct vma *v)
{
	bool changed = !(v->flags & VMA_COW);
	v->flags |= VMA_COW;
	v->excl = v->start;
	if (v->pm) {
		uint32_t *e = vma_pe(v, v->start);
		for (size_t k = 0, n = pages(vma_len(v)); k < n; k++) {
			changed |= !(e[k] & PG_COW);
			e[k] = (e[k] & PG_NUM) | PG_COW;
		}
	}
	return changed;
}

void vma_clear_cow(struct vma *v)
{
	v->flags &= ~VMA_COW;
	if (v->pm) {
		uint32_t *e = vma_pe(v, v->start);
		for (size_t k = 0, n = pages(vma_len(v)); k < n; k++)
			e[k] &= ~PG_COW;
	}
}

void vma_set_backing(struct vma *v, uint64_t moff)
{
	vma_unref_range(v, v->start, v->end);
	vma_pgmap_put(v);
	v->moff = moff;
	v->flags &= ~VMA_COW;
	v->excl = v->start;
}

bool vma_join_backing(struct vma *a, struct vma *b)
{
	size_t na = pages(vma_len(a)), nb = pages(vma_len(b));
	bool cow = (a->flags | b->flags) & VMA_COW;

	if (!a->pm && !b->pm) {
		/* Contiguous backing stays contiguous; anything else stays two VMAs. */
		if (a->moff + vma_len(a) != b->moff || (a->flags & VMA_COW) != (b->flags & VMA_COW))
			return false;
	} else if (a->pm && a->pm == b->pm && a->pmi + na == b->pmi) {
		/* Two pieces of one VMA: b's entries follow a's already. */
		vma_pgmap_put(b);
	} else if (a->pm && a->pm->refs == 1 && a->pmi + na == a->pm->n) {
		/* a is the only user of its map and ends it: append b's entries. */
		struct pgmap *pm = a->pm;
		if (pm->n + nb > pm->cap) {
			size_t cap = MAX(pm->n + nb, pm->cap * 2);
			pm = realloc(pm, sizeof(*pm) + cap * sizeof(pm->e[0]));
			if (!pm)
				return false;
			pm->cap = cap;
			a->pm = pm;
		}
		entries_of(b, b->start, b->end, &pm->e[pm->n]);
		pm->n += nb;
		vma_pgmap_put(b);
	} else {
		struct pgmap *pm = pgmap_new(na + nb);
		if (!pm)
			return false;
		entries_of(a, a->start, a->end, pm->e);
		entries_of(b, b->start, b->end, pm->e + na);
		pm->n = na + nb;
		vma_pgmap_put(a);
		vma_pgmap_put(b);
		a->pm = pm;
		a->pmi = 0;
		a->moff = 0;
	}
	/* A VMA that is not copy-on-write has no PG_COW entries, so the joined map says which
	 * pages are. */
	if (cow)
		a->flags |= VMA_COW;
	a->excl = a->start;
	return true;
}
