/* Which pages of an address space are resident: backed by pages the host has allocated in the
 * memory file (mincore, the resident set of getrusage). A VMA's backing range of the sparse
 * memory file has data only where the application (or a fork's copy, or the loader) touched it;
 * lseek(SEEK_DATA/SEEK_HOLE) on the memory file tells which. A shared file mapping's pages are
 * the file's, present where its filemap has extents. */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/*
 * What lseek told of the memory file during one walk: a few extents known to be data or a
 * hole. A VMA with a per-page map has one backing run per broken page (or few), all lying in
 * a couple of large extents (its pages from before the fork, the copies). SEEK_HOLE scans the
 * page cache from its start to the end of the extent, so asking again for each run would cost
 * O(runs x extent) (seconds at exit after a fork and scattered writes); asking once per extent
 * costs O(extent). After a few forks with scattered writes (python's workers) the memory file
 * is many extents, its holes the pages freed by processes that exited, and one walk visits
 * them in turn: 64 remembered (8 were: 1.7 ms per python exit in mp_fork, 0.7 ms with 64;
 * 256 buys nothing more). A walk is a snapshot: pages punched or filled meanwhile may be
 * missed, as with any racing query.
 */
static void known_add(struct known *kn, uint64_t a, uint64_t b, bool data)
{
	if (a >= b)
		return;
	size_t i = kn->n < KNOWN_MAX ? kn->n++ : kn->next++ % KNOWN_MAX;
	kn->k[i].a = a;
	kn->k[i].b = b;
	kn->k[i].data = data;
}

/* The known extent holding pos, or -1. */
static int known_find(const struct known *kn, uint64_t pos)
{
	for (size_t i = 0; i < kn->n; i++)
		if (kn->k[i].a <= pos && pos < kn->k[i].b)
			return (int)i;
	return -1;
}

void memfile_data_ranges(struct known *kn, uint64_t s, uint64_t e,
			 void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	int fd = memfile_fd();
	uint64_t pos = s;

	while (pos < e) {
		int i = known_find(kn, pos);
		if (i >= 0) {
			uint64_t end = MIN(kn->k[i].b, e);
			if (kn->k[i].data)
				fn(arg, pos, end);
			pos = end;
			continue;
		}
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d < 0) {
			known_add(kn, pos, UINT64_MAX, false); /* ENXIO: no data from pos on */
			return;
		}
		known_add(kn, pos, (uint64_t)d, false);
		if ((uint64_t)d >= e)
			return;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			fn(arg, (uint64_t)d, e);
			return;
		}
		known_add(kn, (uint64_t)d, (uint64_t)h, true);
		pos = (uint64_t)d; /* (answered from the extent just learnt) */
	}
}

/* Call fn(arg, a, b) for each range [a, b) of file offsets in [s, e) the filemap has pages for. */
static void filemap_ranges(struct mm_filemap *fm, uint64_t s, uint64_t e,
			   void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	pthread_mutex_lock(&fm->lock);
	for (size_t i = filemap_ext_index(fm, s); i < fm->n && fm->ext[i].off < e; i++) {
		uint64_t a = MAX(s, fm->ext[i].off), b = MIN(e, fm->ext[i].off + fm->ext[i].len);
		if (a < b)
			fn(arg, a, b);
	}
	pthread_mutex_unlock(&fm->lock);
}

/* Each resident range of VMA v within [s, e) (addresses), as addresses. */
struct walk {
	void (*fn)(void *, uint64_t, uint64_t);
	void *arg;
	uint64_t delta; /* address = backing offset + delta */
};

static void shift(void *arg, uint64_t a, uint64_t b)
{
	struct walk *w = arg;

	w->fn(w->arg, a + w->delta, b + w->delta);
}

/* The resident pages of [s, e) inside v, to fn. The pages of a page cache that maps its file
 * (fcache.c) are the host's page cache, holes in the memory file: with cached they count as
 * resident, as Linux's mincore reports a file's cached pages; the resident set leaves them out
 * (Linux counts those the process touched, which the Sentry does not see). */
static void vma_resident(struct known *kn, const struct vma *v, uint64_t s, uint64_t e,
			 bool cached, void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	if (v->flags & VMA_FILEMAP) {
		if (!v->fm)
			return;
		struct walk w = {fn, arg, v->start - v->foff};
		filemap_ranges(v->fm, s - v->start + v->foff, e - v->start + v->foff, shift, &w);
		return;
	}
	for (uint64_t a = s, re, moff; a < e; a = re) {
		re = vma_run(v, a, e, &moff, NULL);
		struct walk w = {fn, arg, a - moff};
		for (uint64_t m = moff, me = moff + (re - a), n, foff, plain; m < me; m += n) {
			int fd;
			if ((n = fcache_direct_at(m, me - m, &fd, &foff, &plain))) {
				if (cached)
					shift(&w, m, m + n);
			} else {
				memfile_data_ranges(kn, m, m + plain, shift, &w);
				n = plain;
			}
		}
	}
}

static void add_bytes(void *arg, uint64_t a, uint64_t b)
{
	*(uint64_t *)arg += PAGE_ALIGN_UP(b) - PAGE_ALIGN_DOWN(a);
}

uint64_t mm_resident_bytes(struct mm *mm)
{
	uint64_t total = 0;
	struct known kn = {0};

	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = 0; i < mm->n; i++)
		if (mm->v[i].prot != LINUX_PROT_NONE)
			vma_resident(&kn, &mm->v[i], mm->v[i].start, mm->v[i].end, false,
				     add_bytes, &total);
	pthread_rwlock_unlock(&mm->lock);
	return total;
}

struct mark {
	unsigned char *vec;
	uint64_t base;
};

static void mark_pages(void *arg, uint64_t a, uint64_t b)
{
	struct mark *m = arg;

	for (uint64_t p = PAGE_ALIGN_DOWN(a); p < b; p += PAGE_SIZE)
		m->vec[(p - m->base) / PAGE_SIZE] = 1;
}

int mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, unsigned char *vec)
{
	uint64_t end = addr + len;
	struct mark m = {vec, addr};
	struct known kn = {0};
	int r = 0;

	memset(vec, 0, len / PAGE_SIZE);
	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = vma_index(mm, addr); addr < end; i++) {
		if (i >= mm->n || mm->v[i].start > addr) {
			r = -ENOMEM;
			break;
		}
		uint64_t e = MIN(end, mm->v[i].end);
		vma_resident(&kn, &mm->v[i], addr, e, true, mark_pages, &m);
		addr = e;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
