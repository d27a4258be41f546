/* File pages in the memory file: a file's contents as extents of memory-file pages (tmpfs), the
 * address spaces registered as mapping them, and the invalidations a truncation queues for
 * those address spaces. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/*
 * Why invalidations are queued. A shared mapping maps the file's own pages in the platform, and
 * only a thread that runs an address space may change its platform mappings (platform.h). So a
 * truncation cannot unmap the pages in other processes itself: it takes them out of the file,
 * hands them to a held block (struct fm_held) that keeps them allocated, and queues a zap on
 * every registered mm. Each mm applies its zaps on its own thread before its application code
 * runs again (mm_plat_as, mm_handle_fault, mm_fork, mm_activate) and drops its hold; the last
 * drop frees the pages. Until then a thread of that mm already running may still touch the old
 * pages, which are harmless: nobody else can be given them. The same thread's own mm is no
 * exception, so the truncating thread needs no special case.
 *
 * Registration is per (mm, filemap), not per VMA: a VMA of file f may split, merge and move
 * without telling anyone, and an mm that no longer maps the file only costs a spurious zap, after
 * which it unregisters (filemap_vma.c).
 */

void filemap_get(struct mm_filemap *fm) { __atomic_add_fetch(&fm->refs, 1, __ATOMIC_RELAXED); }

void filemap_put(struct mm_filemap *fm)
{
	if (!fm || __atomic_sub_fetch(&fm->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* No owner (it released its pages) and nobody registered. */
	free(fm->ext);
	free(fm->mms);
	pthread_mutex_destroy(&fm->lock);
	free(fm);
}

struct mm_filemap *mm_filemap_create(bool (*charge)(int64_t delta),
				     void (*kick)(struct mm *const *mms, size_t n))
{
	if (memfile_init() < 0)
		return NULL;
	struct mm_filemap *fm = calloc(1, sizeof(*fm));
	if (!fm)
		return NULL;
	pthread_mutex_init(&fm->lock, NULL);
	fm->refs = 1;
	fm->charge = charge;
	fm->kick = kick;
	return fm;
}

struct mm_filemap *mm_filemap_create_arg(bool (*charge_arg)(void *arg, int64_t delta), void *arg,
					 void (*kick)(struct mm *const *mms, size_t n))
{
	struct mm_filemap *fm = mm_filemap_create(NULL, kick);

	if (fm) {
		fm->charge_arg = charge_arg;
		fm->arg = arg;
	}
	return fm;
}

uint64_t mm_filemap_size(struct mm_filemap *fm) { return filemap_size(fm); }

uint64_t mm_filemap_bytes(struct mm_filemap *fm)
{
	return __atomic_load_n(&fm->bytes, __ATOMIC_RELAXED);
}

/* ---- extents (fm->lock held) ---- */

size_t filemap_ext_index(const struct mm_filemap *fm, uint64_t off)
{
	size_t lo = 0, hi = fm->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fm->ext[mid].off + fm->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool charge(struct mm_filemap *fm, int64_t delta)
{
	if (fm->charge_arg)
		return fm->charge_arg(fm->arg, delta);
	return !fm->charge || fm->charge(delta);
}

/* Split the extent holding off strictly inside it. Room for one more reserved. */
static void ext_split(struct mm_filemap *fm, uint64_t off)
{
	size_t i = filemap_ext_index(fm, off);
	if (i >= fm->n || fm->ext[i].off >= off)
		return;
	struct fm_ext *e = &fm->ext[i];
	uint64_t delta = off - e->off;
	memmove(e + 1, e, (fm->n - i) * sizeof(*e));
	fm->n++;
	e[1].off = off;
	e[1].len = e[0].len - delta;
	e[1].moff = e[0].moff + delta;
	e[0].len = delta;
}

/* Merge extent i with i+1 when both the file and the memory-file ranges are contiguous. */
static void ext_try_merge(struct mm_filemap *fm, size_t i)
{
	if (i + 1 >= fm->n)
		return;
	struct fm_ext *a = &fm->ext[i], *b = &fm->ext[i + 1];
	if (a->off + a->len != b->off || a->moff + a->len != b->moff)
		return;
	a->len += b->len;
	memmove(b, b + 1, (fm->n - i - 2) * sizeof(*b));
	fm->n--;
}

/* Allocate the hole [a, b) (page aligned, no extent inside), charged. Pages right after the
 * previous extent's in the memory file where possible, so that a file written in order stays
 * one extent. 0, -ENOSPC or -ENOMEM. */
static int alloc_hole(struct mm_filemap *fm, uint64_t a, uint64_t b)
{
	uint64_t len = b - a, moff;
	size_t i = filemap_ext_index(fm, a);
	int r;

	if (mm_grow_array((void **)&fm->ext, &fm->cap, fm->n + 1, sizeof(*fm->ext), 8) < 0)
		return -ENOMEM;
	if (!charge(fm, (int64_t)len))
		return -ENOSPC;
	if (i > 0 && fm->ext[i - 1].off + fm->ext[i - 1].len == a &&
	    memfile_alloc_at(fm->ext[i - 1].moff + fm->ext[i - 1].len, len) == 0) {
		fm->ext[i - 1].len += len;
		ext_try_merge(fm, i - 1);
	} else if ((r = memfile_alloc(len, &moff)) == 0) {
		memmove(&fm->ext[i + 1], &fm->ext[i], (fm->n - i) * sizeof(*fm->ext));
		fm->n++;
		fm->ext[i] = (struct fm_ext){a, len, moff};
		ext_try_merge(fm, i);
	} else {
		charge(fm, -(int64_t)len);
		return r == -ENOMEM ? -ENOSPC : r;
	}
	__atomic_store_n(&fm->bytes, fm->bytes + len, __ATOMIC_RELAXED);
	return 0;
}

/* Allocate every hole in [a, b) (page aligned). 0 or -ENOSPC; holes filled before a failure
 * stay filled (zero pages read as the holes did). */
static int alloc_range(struct mm_filemap *fm, uint64_t a, uint64_t b)
{
	uint64_t cur = a;

	while (cur < b) {
		size_t i = filemap_ext_index(fm, cur);
		if (i < fm->n && fm->ext[i].off <= cur) {
			cur = fm->ext[i].off + fm->ext[i].len;
			continue;
		}
		uint64_t hole_end = i < fm->n ? MIN(b, fm->ext[i].off) : b;
		if (alloc_hole(fm, cur, hole_end) < 0)
			return -ENOSPC;
		cur = hole_end;
	}
	return 0;
}

/* Take the pages of [a, b) (page aligned) out of the file, uncharged. With held, they are
 * handed to a new held block (*held, NULL when there were none) instead of being freed; if that
 * block cannot be made they are leaked rather than freed (someone may still map them). */
static void free_range(struct mm_filemap *fm, uint64_t a, uint64_t b, struct fm_held **held)
{
	if (held)
		*held = NULL;
	if (a >= b)
		return;
	if (mm_grow_array((void **)&fm->ext, &fm->cap, fm->n + 2, sizeof(*fm->ext), 8) < 0) {
		/* Cannot split: free only the extents wholly inside (the rest stays, readable). */
		log_warn("filemap: out of memory splitting extents; keeping partial pages");
	} else {
		ext_split(fm, a);
		ext_split(fm, b);
	}
	size_t i = filemap_ext_index(fm, a), j = i;
	while (j < fm->n && fm->ext[j].off + fm->ext[j].len <= b && fm->ext[j].off >= a)
		j++;
	if (j == i)
		return;
	uint64_t total = 0;
	for (size_t k = i; k < j; k++)
		total += fm->ext[k].len;
	if (held) {
		struct fm_held *h = malloc(sizeof(*h) + (j - i) * sizeof(h->r[0]));
		if (h) {
			h->refs = 0;
			h->n = j - i;
			memcpy(h->r, &fm->ext[i], (j - i) * sizeof(h->r[0]));
			*held = h;
		} else {
			log_error("filemap: out of memory; leaking %#lx bytes of file pages",
				  (unsigned long)total);
		}
	} else {
		for (size_t k = i; k < j; k++)
			memfile_decref(fm->ext[k].moff, fm->ext[k].len);
	}
	charge(fm, -(int64_t)total);
	__atomic_store_n(&fm->bytes, fm->bytes - total, __ATOMIC_RELAXED);
	memmove(&fm->ext[i], &fm->ext[j], (fm->n - j) * sizeof(*fm->ext));
	fm->n -= j - i;
}

static void held_put(struct fm_held *h)
{
	if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t k = 0; k < h->n; k++)
		memfile_decref(h->r[k].moff, h->r[k].len);
	free(h);
}

/* Zero file bytes [a, b) where pages are present (holes are zeros already). */
static void zero_bytes(struct mm_filemap *fm, uint64_t a, uint64_t b)
{
	for (size_t i = filemap_ext_index(fm, a); i < fm->n && fm->ext[i].off < b; i++) {
		const struct fm_ext *e = &fm->ext[i];
		uint64_t s = MAX(a, e->off), t = MIN(b, e->off + e->len);
		memset(memfile_ptr(e->moff + (s - e->off)), 0, t - s);
	}
}

/* Copy between buf and file bytes [off, off+n), every page of which is present or (reading) a
 * hole. */
static void copy_bytes(struct mm_filemap *fm, uint64_t off, void *buf, size_t n, bool to_file)
{
	char *p = buf;
	uint64_t end = off + n;
	size_t i = filemap_ext_index(fm, off);

	while (off < end) {
		const struct fm_ext *e = i < fm->n ? &fm->ext[i] : NULL;
		if (!e || e->off > off) {
			/* A hole (only when reading). */
			uint64_t t = e ? MIN(end, e->off) : end;
			if (!to_file)
				memset(p, 0, t - off);
			p += t - off;
			off = t;
			continue;
		}
		uint64_t t = MIN(end, e->off + e->len);
		char *q = memfile_ptr(e->moff + (off - e->off));
		if (to_file)
			memcpy(q, p, t - off);
		else
			memcpy(p, q, t - off);
		p += t - off;
		off = t;
		i++;
	}
}

/* ---- the owner's calls ---- */

void *mm_filemap_page_ptr(struct mm_filemap *fm, uint64_t off)
{
	void *p = NULL;

	pthread_mutex_lock(&fm->lock);
	size_t i = filemap_ext_index(fm, off);
	if (i < fm->n && fm->ext[i].off <= off)
		p = memfile_ptr(fm->ext[i].moff + (off - fm->ext[i].off));
	pthread_mutex_unlock(&fm->lock);
	return p;
}

size_t mm_filemap_read(struct mm_filemap *fm, void *buf, size_t n, uint64_t off)
{
	pthread_mutex_lock(&fm->lock);
	if (off >= fm->size) {
		pthread_mutex_unlock(&fm->lock);
		return 0;
	}
	n = (size_t)MIN((uint64_t)n, fm->size - off);
	copy_bytes(fm, off, buf, n, false);
	pthread_mutex_unlock(&fm->lock);
	return n;
}

/* The size becomes new_size > fm->size: what lay in the old last page past the old end
 * (written through a mapping) must read as zeros now that it is part of the file. */
static void extend(struct mm_filemap *fm, uint64_t new_size)
{
	uint64_t old = fm->size;
	zero_bytes(fm, old, MIN(PAGE_ALIGN_UP(old), new_size));
	__atomic_store_n(&fm->size, new_size, __ATOMIC_RELEASE);
}

ssize_t mm_filemap_write(struct mm_filemap *fm, const void *buf, size_t n, uint64_t off)
{
	if (!n)
		return 0;
	pthread_mutex_lock(&fm->lock);
	if (alloc_range(fm, PAGE_ALIGN_DOWN(off), PAGE_ALIGN_UP(off + n)) < 0) {
		pthread_mutex_unlock(&fm->lock);
		return -ENOSPC;
	}
	if (off > fm->size)
		extend(fm, off);
	copy_bytes(fm, off, (void *)buf, n, true);
	if (off + n > fm->size)
		__atomic_store_n(&fm->size, off + n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fm->lock);
	return (ssize_t)n;
}

/* Queue a zap of [from, to) (truncate: private mappings end at from) on every registered mm,
 * each holding h (may be NULL). Returns a copy of the list of those mms for kick_mms (NULL when
 * none or out of memory: they notice at their next trap). fm->lock held. */
static struct mm **queue_zaps(struct mm_filemap *fm, uint64_t from, uint64_t to, bool truncate,
			      struct fm_held *h, size_t *nkick)
{
	if (h)
		h->refs = 1; /* ours until every zap has its own */
	for (size_t k = 0; k < fm->nmms; k++) {
		struct mm *mm = fm->mms[k];
		struct mm_zap *z = malloc(sizeof(*z));
		if (!z) {
			/* That mm may keep mapping the pages: they must never be reused. */
			log_error("filemap: out of memory queueing an invalidation; leaking pages");
			if (h)
				__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
			continue;
		}
		*z = (struct mm_zap){
		    .fm = fm, .from = from, .to = to, .truncate = truncate, .held = h};
		filemap_get(fm);
		if (h)
			__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&mm->zap_lock);
		z->next = mm->zaps;
		mm->zaps = z;
		/* seq_cst: see mm_plat_as (the owner's kick reads whether tasks run after this) */
		__atomic_store_n(&mm->zap_pending, true, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&mm->zap_lock);
	}
	held_put(h);
	struct mm **kick = fm->kick && fm->nmms ? malloc(fm->nmms * sizeof(*kick)) : NULL;
	*nkick = kick ? fm->nmms : 0;
	if (kick)
		memcpy(kick, fm->mms, fm->nmms * sizeof(*kick));
	return kick;
}

/* Interrupt the tasks of the mms in kick (from queue_zaps), with no filemap lock held: the
 * owner's kick takes the kernel's lock. The pointers are only compared with tasks' mms, so one
 * that went away meanwhile costs nothing. Frees kick. */
static void kick_mms(struct mm_filemap *fm, struct mm **kick, size_t n)
{
	if (kick)
		fm->kick((struct mm *const *)kick, n);
	free(kick);
}

void mm_filemap_truncate(struct mm_filemap *fm, uint64_t size)
{
	struct fm_held *h = NULL;

	pthread_mutex_lock(&fm->lock);
	if (size >= fm->size) {
		if (size > fm->size)
			extend(fm, size);
		pthread_mutex_unlock(&fm->lock);
		return;
	}
	__atomic_store_n(&fm->size, size, __ATOMIC_RELEASE);
	uint64_t from = PAGE_ALIGN_UP(size);
	zero_bytes(fm, size, from);
	free_range(fm, from, UINT64_MAX & PAGE_MASK, fm->nmms ? &h : NULL);
	struct mm **kick = NULL;
	size_t nkick = 0;
	if (fm->nmms)
		kick = queue_zaps(fm, from, UINT64_MAX, true, h, &nkick);
	pthread_mutex_unlock(&fm->lock);
	kick_mms(fm, kick, nkick);
}

int filemap_punch(struct mm_filemap *fm, uint64_t off, uint64_t len)
{
	struct fm_held *h = NULL;

	struct mm **kick = NULL;
	size_t nkick = 0;

	pthread_mutex_lock(&fm->lock);
	free_range(fm, off, off + len, fm->nmms ? &h : NULL);
	if (fm->nmms)
		kick = queue_zaps(fm, off, off + len, false, h, &nkick);
	pthread_mutex_unlock(&fm->lock);
	kick_mms(fm, kick, nkick);
	return 0;
}

int mm_filemap_allocate(struct mm_filemap *fm, uint64_t off, uint64_t len)
{
	int r;

	pthread_mutex_lock(&fm->lock);
	r = alloc_range(fm, PAGE_ALIGN_DOWN(off), PAGE_ALIGN_UP(off + len));
	pthread_mutex_unlock(&fm->lock);
	return r;
}

void mm_filemap_punch_hole(struct mm_filemap *fm, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, a = PAGE_ALIGN_UP(off), b = PAGE_ALIGN_DOWN(end);

	pthread_mutex_lock(&fm->lock);
	/* the partial pages at either edge keep their pages, zeroed where punched */
	if (a > b) {
		zero_bytes(fm, off, end);
	} else {
		zero_bytes(fm, off, a);
		zero_bytes(fm, b, end);
	}
	pthread_mutex_unlock(&fm->lock);
	if (a < b)
		filemap_punch(fm, a, b - a);
}

void mm_filemap_release(struct mm_filemap *fm)
{
	if (!fm)
		return;
	pthread_mutex_lock(&fm->lock);
	/* No VMA maps the file any more (each holds the file), and zaps queued earlier hold
	 * their own pages: these can go at once. */
	free_range(fm, 0, UINT64_MAX & PAGE_MASK, NULL);
	fm->size = 0;
	fm->dead = true;
	pthread_mutex_unlock(&fm->lock);
	filemap_put(fm);
}

/* ---- access for the mm (copy_in/copy_out, faults) ---- */

size_t filemap_copy(struct mm_filemap *fm, uint64_t foff, void *buf, size_t n, bool to_file)
{
	pthread_mutex_lock(&fm->lock);
	uint64_t end = PAGE_ALIGN_UP(fm->size);
	if (foff >= end) {
		pthread_mutex_unlock(&fm->lock);
		return 0;
	}
	n = (size_t)MIN((uint64_t)n, end - foff);
	if (to_file && alloc_range(fm, PAGE_ALIGN_DOWN(foff), PAGE_ALIGN_UP(foff + n)) < 0) {
		pthread_mutex_unlock(&fm->lock);
		return 0;
	}
	copy_bytes(fm, foff, buf, n, to_file);
	pthread_mutex_unlock(&fm->lock);
	return n;
}

int filemap_fill_hole_locked(struct mm_filemap *fm, uint64_t foff, uint64_t lo, uint64_t hi)
{
	uint64_t a = MAX(lo, foff & ~(FM_FAULT_CHUNK - 1));
	uint64_t b = MIN(hi, (foff & ~(FM_FAULT_CHUNK - 1)) + FM_FAULT_CHUNK);
	size_t i = filemap_ext_index(fm, foff);

	/* Clip to the hole around foff. */
	if (i < fm->n)
		b = MIN(b, fm->ext[i].off);
	if (i > 0)
		a = MAX(a, fm->ext[i - 1].off + fm->ext[i - 1].len);
	if (a > foff || b <= foff)
		return -ENOSPC; /* not a hole: a broken invariant of the caller */
	return alloc_hole(fm, a, b);
}

/* ---- registration ---- */

int filemap_register(struct mm *mm, struct mm_filemap *fm)
{
	for (size_t k = 0; k < mm->nfmaps; k++)
		if (mm->fmaps[k] == fm)
			return 0;
	if (mm_grow_array((void **)&mm->fmaps, &mm->capfmaps, mm->nfmaps + 1, sizeof(*mm->fmaps),
			  8) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&fm->lock);
	if (mm_grow_array((void **)&fm->mms, &fm->capmms, fm->nmms + 1, sizeof(*fm->mms), 8) < 0) {
		pthread_mutex_unlock(&fm->lock);
		return -ENOMEM;
	}
	fm->mms[fm->nmms++] = mm;
	pthread_mutex_unlock(&fm->lock);
	filemap_get(fm);
	mm->fmaps[mm->nfmaps++] = fm;
	return 0;
}

void filemap_unregister(struct mm *mm, size_t i)
{
	struct mm_filemap *fm = mm->fmaps[i];

	pthread_mutex_lock(&fm->lock);
	for (size_t k = 0; k < fm->nmms; k++) {
		if (fm->mms[k] == mm) {
			fm->mms[k] = fm->mms[--fm->nmms];
			break;
		}
	}
	pthread_mutex_unlock(&fm->lock);
	mm->fmaps[i] = mm->fmaps[--mm->nfmaps];
	filemap_put(fm);
}

void filemap_unregister_all(struct mm *mm)
{
	while (mm->nfmaps)
		filemap_unregister(mm, mm->nfmaps - 1);
	free(mm->fmaps);
	mm->fmaps = NULL;
	mm->capfmaps = 0;
}

struct mm_zap *mm_zaps_take(struct mm *mm)
{
	pthread_mutex_lock(&mm->zap_lock);
	struct mm_zap *z = mm->zaps;
	mm->zaps = NULL;
	__atomic_store_n(&mm->zap_pending, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mm->zap_lock);
	/* Oldest first: they were pushed at the head. */
	struct mm_zap *rev = NULL;
	while (z) {
		struct mm_zap *next = z->next;
		z->next = rev;
		rev = z;
		z = next;
	}
	return rev;
}

void mm_zap_free(struct mm_zap *z)
{
	held_put(z->held);
	filemap_put(z->fm);
	free(z);
}
