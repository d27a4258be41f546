/* Page caches filled on demand: a file's contents in a memory-file range reserved whole, read
 * from the file a chunk at a time as mappings first touch them (filemap_vma.c). */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

/*
 * The range is allocated whole at creation, which costs no memory (the memory file is sparse);
 * only filled chunks hold pages. A chunk is filled once, under the cache's lock, and marked
 * filled with a release store after its bytes are in place, so that anyone who sees the mark
 * (with an acquire load, no lock) sees the bytes. An unfilled chunk's pages are mapped nowhere:
 * a VMA maps only the chunks it saw filled (filemap_vma.c), so filling writes pages nobody can
 * read yet.
 */

static size_t nchunks(uint64_t len) { return (size_t)((len + FC_CHUNK - 1) / FC_CHUNK); }

struct mm_fcache *mm_fcache_create(uint64_t len)
{
	if (!len || !IS_PAGE_ALIGNED(len) || memfile_init() < 0)
		return NULL;
	size_t nw = (nchunks(len) + 63) / 64;
	struct mm_fcache *c = calloc(1, sizeof(*c) + nw * sizeof(c->bits[0]));
	if (!c)
		return NULL;
	if (memfile_alloc(len, &c->moff) < 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->len = len;
	return c;
}

void mm_fcache_release(struct mm_fcache *c)
{
	if (!c)
		return;
	memfile_decref(c->moff, c->len); /* mappings may keep the pages */
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t mm_fcache_filled(const struct mm_fcache *c)
{
	return __atomic_load_n(&c->filled, __ATOMIC_RELAXED);
}

bool fcache_chunk_filled(const struct mm_fcache *c, uint64_t off)
{
	size_t k = (size_t)(off / FC_CHUNK);
	return __atomic_load_n(&c->bits[k / 64], __ATOMIC_ACQUIRE) & (1ULL << (k % 64));
}

int fcache_fill(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end)
{
	int r = 0;

	end = MIN(end, c->len);
	pthread_mutex_lock(&c->lock);
	for (uint64_t a = off & ~(FC_CHUNK - 1); a < end && r == 0; a += FC_CHUNK) {
		if (fcache_chunk_filled(c, a))
			continue;
		uint64_t n = MIN(FC_CHUNK, c->len - a);
		/* Bytes past the end of the file stay zero (the pages are fresh). */
		r = mm_fill_from_file(f, a, c->moff + a, n);
		if (r < 0) {
			log_warn("mm: filling a page cache at %#lx: %d", (unsigned long)a, r);
			break;
		}
		size_t k = (size_t)(a / FC_CHUNK);
		__atomic_fetch_or(&c->bits[k / 64], 1ULL << (k % 64), __ATOMIC_RELEASE);
		__atomic_add_fetch(&c->filled, n, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}
