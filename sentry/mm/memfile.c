/* The memory file: one sparse memfd holding all application memory, mapped whole in the Sentry,
 * with a page-range allocator and range reference counts (for sharing pages between mappings). */
#define _GNU_SOURCE
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/*
 * Allocation state is two sorted arrays of disjoint extents:
 *  - free: the ranges nobody holds; allocation is first fit from the lowest offset, which keeps
 *    the used part of the file compact. Freed ranges are coalesced with their neighbours.
 *  - shared: the allocated ranges whose reference count is above one, with the count minus one.
 *    An allocated range that appears in no shared extent has exactly one reference, so until
 *    something shares pages (MAP_SHARED duplicated by mremap, later copy-on-write fork) this
 *    array stays empty and costs nothing.
 * Every range handed out is zero: fresh file space is a hole and freed space is punched.
 */
struct extent {
	uint64_t off, len;
};
struct shared_extent {
	uint64_t off, len;
	uint64_t extra; /* references beyond the first */
};

char *memfile_base;

static struct {
	pthread_mutex_t lock;
	int fd;
	uint64_t size;
	uint64_t used; /* bytes allocated */
	struct extent *free;
	size_t nfree, capfree;
	struct shared_extent *shr;
	size_t nshr, capshr;
} mf = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

int memfile_init(void)
{
	pthread_mutex_lock(&mf.lock);
	if (mf.fd >= 0) {
		pthread_mutex_unlock(&mf.lock);
		return 0;
	}
	int r = 0;
	int fd = memfd_create("runsc-c-memory", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (ftruncate(fd, (off_t)MEMFILE_SIZE) < 0) {
		r = -errno;
		close(fd);
		goto out;
	}
	/* Far from the top, where the platform reserves its stub region (ptrace: 0x7e0000000000)
	 * and the Sentry's own mappings grow down: a hint, so only placement depends on it. */
	void *base = mmap((void *)MEMFILE_HINT, MEMFILE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED) {
		r = -errno;
		close(fd);
		goto out;
	}
	if (mm_grow_array((void **)&mf.free, &mf.capfree, 1, sizeof(*mf.free), 16) < 0) {
		munmap(base, MEMFILE_SIZE);
		close(fd);
		r = -ENOMEM;
		goto out;
	}
	mf.free[0] = (struct extent){0, MEMFILE_SIZE};
	mf.nfree = 1;
	mf.size = MEMFILE_SIZE;
	mf.used = 0;
	mf.fd = fd;
	memfile_base = base;
out:
	pthread_mutex_unlock(&mf.lock);
	return r;
}

int memfile_fd(void) { return mf.fd; }

void *memfile_ptr(uint64_t off) { return memfile_base + off; }

uint64_t memfile_used(void)
{
	pthread_mutex_lock(&mf.lock);
	uint64_t u = mf.used;
	pthread_mutex_unlock(&mf.lock);
	return u;
}

/* Give the pages of [off, off+len) back to the host; the range reads as zeros afterwards. */
static void punch(uint64_t off, uint64_t len)
{
	int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(mf.fd, mode, (off_t)off, (off_t)len) < 0)
		log_warn("memfile: punching %#lx+%#lx: %s", (unsigned long)off, (unsigned long)len,
			 strerror(errno));
}

/* Index of the first free extent ending after off. Lock held. */
static size_t free_index(uint64_t off)
{
	size_t lo = 0, hi = mf.nfree;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (mf.free[mid].off + mf.free[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Put [off, off+len) back on the free list (coalescing) and punch it. Lock held. */
static void free_locked(uint64_t off, uint64_t len)
{
	if (!len)
		return;
	punch(off, len);
	size_t i = free_index(off);
	if (i < mf.nfree && mf.free[i].off < off + len) {
		log_error("memfile: double free of %#lx+%#lx", (unsigned long)off,
			  (unsigned long)len);
		return;
	}
	mf.used -= len;
	bool join_prev = i > 0 && mf.free[i - 1].off + mf.free[i - 1].len == off;
	bool join_next = i < mf.nfree && mf.free[i].off == off + len;
	if (join_prev && join_next) {
		mf.free[i - 1].len += len + mf.free[i].len;
		memmove(&mf.free[i], &mf.free[i + 1], (mf.nfree - i - 1) * sizeof(*mf.free));
		mf.nfree--;
	} else if (join_prev) {
		mf.free[i - 1].len += len;
	} else if (join_next) {
		mf.free[i].off = off;
		mf.free[i].len += len;
	} else {
		if (mm_grow_array((void **)&mf.free, &mf.capfree, mf.nfree + 1, sizeof(*mf.free),
				  16) < 0) {
			/* The pages are back with the host already; only the offsets leak. */
			log_error("memfile: leaking %#lx bytes of file space (out of memory)",
				  (unsigned long)len);
			return;
		}
		memmove(&mf.free[i + 1], &mf.free[i], (mf.nfree - i) * sizeof(*mf.free));
		mf.free[i] = (struct extent){off, len};
		mf.nfree++;
	}
}

int memfile_alloc(uint64_t len, uint64_t *off)
{
	if (!len || !IS_PAGE_ALIGNED(len))
		return -EINVAL;
	pthread_mutex_lock(&mf.lock);
	for (size_t i = 0; i < mf.nfree; i++) {
		struct extent *e = &mf.free[i];
		if (e->len < len)
			continue;
		*off = e->off;
		e->off += len;
		e->len -= len;
		if (!e->len) {
			memmove(e, e + 1, (mf.nfree - i - 1) * sizeof(*e));
			mf.nfree--;
		}
		mf.used += len;
		pthread_mutex_unlock(&mf.lock);
		return 0;
	}
	pthread_mutex_unlock(&mf.lock);
	return -ENOMEM;
}

int memfile_alloc_at(uint64_t off, uint64_t len)
{
	if (!len || !IS_PAGE_ALIGNED(len) || !IS_PAGE_ALIGNED(off) || range_overflows(off, len))
		return -EINVAL;
	pthread_mutex_lock(&mf.lock);
	size_t i = free_index(off);
	struct extent *e = &mf.free[i];
	if (i >= mf.nfree || e->off > off || e->off + e->len < off + len) {
		pthread_mutex_unlock(&mf.lock);
		return -ENOMEM;
	}
	uint64_t e_end = e->off + e->len;
	if (e->off == off) {
		e->off += len;
		e->len -= len;
		if (!e->len) {
			memmove(e, e + 1, (mf.nfree - i - 1) * sizeof(*e));
			mf.nfree--;
		}
	} else if (e_end == off + len) {
		e->len -= len;
	} else {
		/* Carving out of the middle splits the extent in two. */
		if (mm_grow_array((void **)&mf.free, &mf.capfree, mf.nfree + 1, sizeof(*mf.free),
				  16) < 0) {
			pthread_mutex_unlock(&mf.lock);
			return -ENOMEM;
		}
		e = &mf.free[i];
		memmove(e + 1, e, (mf.nfree - i) * sizeof(*e));
		mf.nfree++;
		e[0].len = off - e[0].off;
		e[1] = (struct extent){off + len, e_end - (off + len)};
	}
	mf.used += len;
	pthread_mutex_unlock(&mf.lock);
	return 0;
}

void memfile_free(uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&mf.lock);
	free_locked(off, len);
	pthread_mutex_unlock(&mf.lock);
}

/* Index of the first shared extent ending after off. Lock held. */
static size_t shr_index(uint64_t off)
{
	size_t lo = 0, hi = mf.nshr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (mf.shr[mid].off + mf.shr[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Split shared extent i at off (strictly inside it): i keeps the lower part. Lock held and
 * room for one more entry reserved. */
static void shr_split(size_t i, uint64_t off)
{
	struct shared_extent *s = &mf.shr[i];
	if (off <= s->off || off >= s->off + s->len)
		return;
	memmove(s + 1, s, (mf.nshr - i) * sizeof(*s));
	mf.nshr++;
	s[1].off = off;
	s[1].len = s[0].off + s[0].len - off;
	s[0].len = off - s[0].off;
}

int memfile_incref(uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	if (!len || range_overflows(off, len))
		return -EINVAL;
	pthread_mutex_lock(&mf.lock);
	/* Worst case: two splits plus one new extent per gap; gaps are bounded by the extents
	 * inside the range plus one. */
	size_t i = shr_index(off), j = i;
	while (j < mf.nshr && mf.shr[j].off < end)
		j++;
	if (mm_grow_array((void **)&mf.shr, &mf.capshr, mf.nshr + (j - i) + 3, sizeof(*mf.shr),
			  16) < 0) {
		pthread_mutex_unlock(&mf.lock);
		return -ENOMEM;
	}
	uint64_t cur = off;
	while (cur < end) {
		if (i < mf.nshr && mf.shr[i].off <= cur) {
			shr_split(i, cur);
			if (mf.shr[i].off < cur)
				i++;
			shr_split(i, end);
			mf.shr[i].extra++;
			cur = mf.shr[i].off + mf.shr[i].len;
			i++;
		} else {
			uint64_t e = i < mf.nshr ? MIN(end, mf.shr[i].off) : end;
			memmove(&mf.shr[i + 1], &mf.shr[i], (mf.nshr - i) * sizeof(*mf.shr));
			mf.nshr++;
			mf.shr[i] = (struct shared_extent){cur, e - cur, 1};
			cur = e;
			i++;
		}
	}
	pthread_mutex_unlock(&mf.lock);
	return 0;
}

void memfile_decref(uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	if (!len)
		return;
	pthread_mutex_lock(&mf.lock);
	size_t i = shr_index(off);
	if (i >= mf.nshr || mf.shr[i].off >= end) {
		/* The common case: nothing in the range is shared. */
		free_locked(off, len);
		pthread_mutex_unlock(&mf.lock);
		return;
	}
	if (mm_grow_array((void **)&mf.shr, &mf.capshr, mf.nshr + 2, sizeof(*mf.shr), 16) < 0) {
		log_error("memfile: out of memory dropping %#lx+%#lx; leaking it",
			  (unsigned long)off, (unsigned long)len);
		pthread_mutex_unlock(&mf.lock);
		return;
	}
	uint64_t cur = off;
	while (cur < end) {
		if (i < mf.nshr && mf.shr[i].off <= cur) {
			shr_split(i, cur);
			if (mf.shr[i].off < cur)
				i++;
			shr_split(i, end);
			cur = mf.shr[i].off + mf.shr[i].len;
			if (--mf.shr[i].extra == 0) {
				memmove(&mf.shr[i], &mf.shr[i + 1],
					(mf.nshr - i - 1) * sizeof(*mf.shr));
				mf.nshr--;
			} else {
				i++;
			}
		} else {
			uint64_t e = i < mf.nshr ? MIN(end, mf.shr[i].off) : end;
			free_locked(cur, e - cur);
			cur = e;
		}
	}
	pthread_mutex_unlock(&mf.lock);
}

bool memfile_exclusive(uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&mf.lock);
	size_t i = shr_index(off);
	bool excl = i >= mf.nshr || mf.shr[i].off >= off + len;
	pthread_mutex_unlock(&mf.lock);
	return excl;
}

void memfile_zero(uint64_t off, uint64_t len)
{
	if (len)
		punch(off, len);
}
