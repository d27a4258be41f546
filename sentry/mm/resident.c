/* Which pages of an address space are resident: backed by pages the host has allocated in the
 * memory file (mincore, the resident set of getrusage). A VMA's backing range of the sparse
 * memory file has data only where the application (or a fork's copy, or the loader) touched it;
 * lseek(SEEK_DATA/SEEK_HOLE) on the memory file tells which. A shared file mapping's pages are
 * the file's, present where its filemap has extents. */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* Call fn(arg, a, b) for each maximal data range [a, b) of the memory file within [s, e). */
static void memfile_data_ranges(uint64_t s, uint64_t e, void (*fn)(void *, uint64_t, uint64_t),
				void *arg)
{
	int fd = memfile_fd();
	uint64_t pos = s;

	while (pos < e) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d < 0 || (uint64_t)d >= e)
			return;
		off_t h = lseek(fd, d, SEEK_HOLE);
		uint64_t end = h < 0 ? e : MIN((uint64_t)h, e);
		fn(arg, (uint64_t)d, end);
		pos = end;
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

static void vma_resident(const struct vma *v, uint64_t s, uint64_t e,
			 void (*fn)(void *, uint64_t, uint64_t), void *arg)
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
		memfile_data_ranges(moff, moff + (re - a), shift, &w);
	}
}

static void add_bytes(void *arg, uint64_t a, uint64_t b)
{
	*(uint64_t *)arg += PAGE_ALIGN_UP(b) - PAGE_ALIGN_DOWN(a);
}

uint64_t mm_resident_bytes(struct mm *mm)
{
	uint64_t total = 0;

	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = 0; i < mm->n; i++)
		if (mm->v[i].prot != LINUX_PROT_NONE)
			vma_resident(&mm->v[i], mm->v[i].start, mm->v[i].end, add_bytes, &total);
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
	int r = 0;

	memset(vec, 0, len / PAGE_SIZE);
	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = vma_index(mm, addr); addr < end; i++) {
		if (i >= mm->n || mm->v[i].start > addr) {
			r = -ENOMEM;
			break;
		}
		uint64_t e = MIN(end, mm->v[i].end);
		vma_resident(&mm->v[i], addr, e, mark_pages, &m);
		addr = e;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
