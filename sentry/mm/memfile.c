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
 * Allocation state is a sorted array of disjoint free extents: the ranges nobody holds.
 * Allocation is first fit from the lowest offset, which keeps the used part of the file compact;
 * freed ranges are coalesced with their neighbours. Every range memfile_alloc hands out is
 * zero: fresh file space is a hole and freed space is punched.
 *
 * Reference counts are kept per page, as the references beyond the first ("extra": a fresh
 * page has one reference and extra 0), in blocks of RC_PAGES pages: a block whose pages all
 * have the same count keeps it once (extra), and only a block whose pages differ has a per-page
 * array. So sharing a whole mapping (fork) costs one operation per block, not per page, while
 * copy-on-write, which drops pages one by one, costs O(1) per page. Pages freed one after
 * another are coalesced (pending) and punched in one call when the lock is dropped.
 *
 * A batch (memfile_batch_begin/end, on one thread: an address space's teardown, an munmap)
 * keeps aside every range whose last reference goes meanwhile, and at its end punches them in
 * offset order, adjacent ones joined: a process's pages freed VMA by VMA and page by page come
 * back as a few runs, one fallocate each, where each was a punch of its own (a gcc run's 293
 * punches -> ~135; each costs ~10 us besides its pages, docs/performance.md).
 *
 * Kept for a fork's copy: an address space's teardown (memfile_batch_end_keep) does not punch
 * its runs of at least KEPT_MIN but keeps them, stale, off the free list, up to what fork
 * copies have asked for so far (at most KEPT_MAX, KEPT_N runs). memfile_alloc_overwrite hands
 * them out, and only to what writes every page it takes or punches it (a fork's copy, a
 * copy-on-write break's copy): a page written in place costs the host ~1 us less than a fresh
 * one (docs/performance.md), and the dead process's punch is saved. A workload that does not
 * copy so keeps nothing.
 */
struct extent {
	uint64_t off, len;
};
#define RC_SHIFT 21 /* 2 MiB blocks */
#define RC_PAGES (1U << (RC_SHIFT - MM_PAGE_SHIFT))
struct rc_block {
	uint32_t extra; /* every page's extra references, when pg is NULL */
	uint32_t nz;	/* pages whose pg entry is not 0 */
	uint32_t *pg;	/* each page's extra references, or NULL */
};

char *memfile_base;

static struct {
	pthread_mutex_t lock;
	int fd;
	uint64_t size;
	uint64_t used; /* bytes allocated */
	struct extent *free;
	size_t nfree, capfree;
	struct rc_block *rc;	     /* MEMFILE_SIZE >> RC_SHIFT of them */
	uint64_t pend_off, pend_len; /* freed, to be punched and listed at unlock */
} mf = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* Freed pages kept, unpunched, for copies (memfile_alloc_overwrite, below); under mf.lock. */
#define KEPT_N 32
#define KEPT_MIN (64ULL << 10)
#define KEPT_MAX (64ULL << 20)
static struct {
	struct extent v[KEPT_N];
	size_t n;
	uint64_t bytes;
	uint64_t want; /* what copies have asked for so far, at most KEPT_MAX */
} kept;

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
	/* Large and zero: the host hands out its pages as the blocks are first used. */
	mf.rc = calloc(MEMFILE_SIZE >> RC_SHIFT, sizeof(*mf.rc));
	if (!mf.rc || mm_grow_array((void **)&mf.free, &mf.capfree, 1, sizeof(*mf.free), 16) < 0) {
		free(mf.rc);
		mf.rc = NULL;
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

void memfile_copy(uint64_t dst, uint64_t src, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(mf.fd, memfile_ptr(src + done), len - done, (off_t)(dst + done));
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	if (done < len)
		memcpy(memfile_ptr(dst + done), memfile_ptr(src + done), len - done);
}

uint64_t memfile_used(void)
{
	pthread_mutex_lock(&mf.lock);
	uint64_t u = mf.used;
	pthread_mutex_unlock(&mf.lock);
	return u;
}

/* Give the pages of [off, off+len) back to the host; the range reads as zeros afterwards
 * (written with zeros if the punch fails: it may hold a dead process's pages). */
static void punch(uint64_t off, uint64_t len)
{
	int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(mf.fd, mode, (off_t)off, (off_t)len) < 0) {
		log_warn("memfile: punching %#lx+%#lx: %s", (unsigned long)off, (unsigned long)len,
			 strerror(errno));
		memset(memfile_ptr(off), 0, len);
	}
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

/* Is [off, off+len) free already (an internal bug)? Logged. Lock held. */
static bool double_free_locked(uint64_t off, uint64_t len)
{
	size_t i = free_index(off);
	bool kept_already = false;
	for (size_t k = 0; k < kept.n; k++)
		kept_already |= kept.v[k].off < off + len && off < kept.v[k].off + kept.v[k].len;
	if ((i < mf.nfree && mf.free[i].off < off + len) || kept_already) {
		log_error("memfile: double free of %#lx+%#lx", (unsigned long)off,
			  (unsigned long)len);
		return true;
	}
	return false;
}

/* Put [off, off+len), punched already, back on the free list (coalescing). Lock held. */
static void list_locked(uint64_t off, uint64_t len)
{
	if (!len || double_free_locked(off, len))
		return;
	size_t i = free_index(off);
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

/* Punch [off, off+len) and put it back on the free list. Lock held. */
static void free_locked(uint64_t off, uint64_t len)
{
	if (!len || double_free_locked(off, len))
		return;
	punch(off, len);
	list_locked(off, len);
}

/* Punch [off, off+len), which nobody holds any more and which is not on the free list yet (so
 * nobody can be given it meanwhile), without the lock: a punch unmaps the range from every
 * mapping of the file (the Sentry's, the stubs'), which takes long enough that allocations
 * (copy-on-write faults) should not wait for it. Then list it. Lock not held. */
static void free_unlocked(uint64_t off, uint64_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&mf.lock);
	bool bad = double_free_locked(off, len);
	pthread_mutex_unlock(&mf.lock);
	if (bad)
		return;
	punch(off, len);
	pthread_mutex_lock(&mf.lock);
	list_locked(off, len);
	pthread_mutex_unlock(&mf.lock);
}

/* Take len (at most its length) from the front of v[i] of v[0..*n), into *off; one used up
 * leaves the array, which stays in order. Lock held. */
static void take(struct extent *v, size_t *n, size_t i, uint64_t len, uint64_t *off)
{
	struct extent *e = &v[i];

	*off = e->off;
	e->off += len;
	e->len -= len;
	if (!e->len) {
		memmove(e, e + 1, (*n - i - 1) * sizeof(*e));
		--*n;
	}
	mf.used += len;
}

/* memfile_alloc, first fit from the free list. Lock held. */
static int alloc_locked(uint64_t len, uint64_t *off)
{
	size_t i = 0;
	while (i < mf.nfree && mf.free[i].len < len)
		i++;
	if (i == mf.nfree)
		return -ENOMEM;
	take(mf.free, &mf.nfree, i, len, off);
	return 0;
}

int memfile_alloc(uint64_t len, uint64_t *off)
{
	if (!len || !IS_PAGE_ALIGNED(len))
		return -EINVAL;
	pthread_mutex_lock(&mf.lock);
	int r = alloc_locked(len, off);
	pthread_mutex_unlock(&mf.lock);
	return r;
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
	free_unlocked(off, len);
}

/* The calling thread's batch: the ranges freed since memfile_batch_begin, unordered. */
static __thread struct {
	struct extent *v;
	size_t n, cap;
	unsigned depth; /* begins not ended yet: the outermost end frees */
} batch;

void memfile_batch_begin(void) { batch.depth++; }

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Take kept.v[i] out, to be given back (free_unlocked, once the lock is dropped: nobody can
 * be given it meanwhile). Returns it. Lock held. */
static struct extent unkeep_locked(size_t i)
{
	struct extent e = kept.v[i];

	memmove(&kept.v[i], &kept.v[i + 1], (kept.n - i - 1) * sizeof(e));
	kept.n--;
	kept.bytes -= e.len;
	mf.used += e.len; /* (list_locked takes it off again) */
	return e;
}

/* Keep [off, off+len), freed by a teardown, for copies (above) if it is large enough and
 * copies have asked for that much; with every slot taken, in place of the smallest run kept
 * if that is smaller. */
static bool keep(uint64_t off, uint64_t len)
{
	struct extent out = {0, 0};
	bool r = false;

	if (len < KEPT_MIN)
		return false;
	pthread_mutex_lock(&mf.lock);
	if (kept.n == KEPT_N) {
		size_t min = 0;
		for (size_t i = 1; i < kept.n; i++)
			if (kept.v[i].len < kept.v[min].len)
				min = i;
		if (kept.v[min].len < len && kept.bytes - kept.v[min].len + len <= kept.want)
			out = unkeep_locked(min);
	}
	if (kept.n < KEPT_N && kept.bytes + len <= kept.want && !double_free_locked(off, len)) {
		kept.v[kept.n++] = (struct extent){off, len};
		kept.bytes += len;
		mf.used -= len;
		r = true;
	}
	pthread_mutex_unlock(&mf.lock);
	free_unlocked(out.off, out.len);
	return r;
}

int memfile_alloc_overwrite(uint64_t len, uint64_t *off)
{
	if (!len || !IS_PAGE_ALIGNED(len))
		return -EINVAL;
	struct extent out = {0, 0};
	int r;

	pthread_mutex_lock(&mf.lock);
	kept.want = MIN(kept.want + len, KEPT_MAX);
	size_t best = kept.n;
	for (size_t i = 0; i < kept.n; i++) /* best fit: the large runs stay whole */
		if (kept.v[i].len >= len && (best == kept.n || kept.v[i].len < kept.v[best].len))
			best = i;
	if (best < kept.n) { /* stale pages */
		uint64_t rest = kept.v[best].len - len;
		kept.bytes -= len;
		take(kept.v, &kept.n, best, len, off);
		/* A rest too small to keep again (still kept.v[best]) is given back now rather
		 * than take a slot. */
		if (rest && rest < KEPT_MIN)
			out = unkeep_locked(best);
		r = 1;
	} else {
		r = alloc_locked(len, off);
	}
	pthread_mutex_unlock(&mf.lock);
	free_unlocked(out.off, out.len);
	return r;
}

void memfile_batch_end(void) { memfile_batch_end_keep(false); }

void memfile_batch_end_keep(bool reuse)
{
	struct extent *v = batch.v;
	size_t n = batch.n, runs = 0;

	if (!batch.depth || --batch.depth)
		return;
	/* The array goes with the batch: task threads come and go. */
	batch.v = NULL;
	batch.n = batch.cap = 0;
	if (n)
		qsort(v, n, sizeof(*v), extent_cmp);
	for (size_t i = 1; i < n; i++) {
		if (v[runs].off + v[runs].len == v[i].off)
			v[runs].len += v[i].len;
		else
			v[++runs] = v[i];
	}
	for (size_t i = 0; n && i <= runs; i++)
		if (!reuse || !keep(v[i].off, v[i].len))
			free_unlocked(v[i].off, v[i].len);
	free(v);
}

/* Keep [off, off+len) in the calling thread's batch, if one is on and has room. Lock held. */
static bool batch_keep(uint64_t off, uint64_t len)
{
	if (!batch.depth ||
	    (batch.n == batch.cap &&
	     mm_grow_array((void **)&batch.v, &batch.cap, batch.n + 1, sizeof(*batch.v), 64) < 0))
		return false; /* freed as without a batch */
	batch.v[batch.n++] = (struct extent){off, len};
	return true;
}

/* Free [off, off+len) once the lock is dropped, with the ranges freed next to it (or at the
 * end of the calling thread's batch). Lock held. */
static void free_pending(uint64_t off, uint64_t len)
{
	if (batch_keep(off, len))
		return;
	if (mf.pend_len && mf.pend_off + mf.pend_len == off) {
		mf.pend_len += len;
		return;
	}
	if (mf.pend_len && off + len == mf.pend_off) {
		mf.pend_off = off;
		mf.pend_len += len;
		return;
	}
	if (mf.pend_len)
		free_locked(mf.pend_off, mf.pend_len);
	mf.pend_off = off;
	mf.pend_len = len;
}

void memfile_lock(void) { pthread_mutex_lock(&mf.lock); }

void memfile_unlock(void)
{
	uint64_t off = mf.pend_off, len = mf.pend_len;
	mf.pend_len = 0;
	pthread_mutex_unlock(&mf.lock);
	free_unlocked(off, len);
}

/* Give block b a per-page array (it has none yet). 0 or -ENOMEM (unchanged). */
static int rc_split(struct rc_block *b)
{
	uint32_t *pg = malloc(RC_PAGES * sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	for (uint32_t i = 0; i < RC_PAGES; i++)
		pg[i] = b->extra;
	b->nz = b->extra ? RC_PAGES : 0;
	b->extra = 0;
	b->pg = pg;
	return 0;
}

/* Back to one count for the block when no page has extra references any more. */
static void rc_collapse(struct rc_block *b)
{
	if (b->pg && !b->nz) {
		free(b->pg);
		b->pg = NULL;
		b->extra = 0;
	}
}

/* The block holding offset at (page aligned, below end): *i0 is at's page in it, *n the pages
 * of [at, end) in it. Loops step at by *n pages. */
static struct rc_block *rc_at(uint64_t at, uint64_t end, uint64_t *i0, uint64_t *n)
{
	*i0 = (at >> MM_PAGE_SHIFT) & (RC_PAGES - 1);
	*n = MIN((uint64_t)RC_PAGES - *i0, (end - at) >> MM_PAGE_SHIFT);
	return &mf.rc[at >> RC_SHIFT];
}

/* Is [off, off+len) within the file and page aligned? */
static bool rc_range_ok(uint64_t off, uint64_t len)
{
	return len && IS_PAGE_ALIGNED(off) && IS_PAGE_ALIGNED(len) && !range_overflows(off, len) &&
	       off + len <= mf.size;
}

int memfile_incref_locked(uint64_t off, uint64_t len)
{
	if (!rc_range_ok(off, len))
		return -EINVAL;
	/* Only the blocks at either end can be partly covered: give them their arrays first, so
	 * that nothing changes on failure. */
	for (uint64_t at = off, end = off + len, i0, n; at < end; at += n << MM_PAGE_SHIFT) {
		struct rc_block *b = rc_at(at, end, &i0, &n);
		if (n < RC_PAGES && !b->pg && rc_split(b) < 0)
			return -ENOMEM;
	}
	for (uint64_t at = off, end = off + len, i0, n; at < end; at += n << MM_PAGE_SHIFT) {
		struct rc_block *b = rc_at(at, end, &i0, &n);
		if (!b->pg) {
			b->extra++;
			continue;
		}
		for (uint64_t i = i0; i < i0 + n; i++)
			if (b->pg[i]++ == 0)
				b->nz++;
	}
	return 0;
}

void memfile_decref_locked(uint64_t off, uint64_t len)
{
	if (!rc_range_ok(off, len))
		return;
	for (uint64_t at = off, end = off + len, i0, n; at < end; at += n << MM_PAGE_SHIFT) {
		struct rc_block *b = rc_at(at, end, &i0, &n);
		if (!b->pg && !b->extra) {
			free_pending(at, n << MM_PAGE_SHIFT); /* the last reference of each page */
			continue;
		}
		if (!b->pg && n == RC_PAGES) {
			b->extra--;
			continue;
		}
		if (!b->pg && rc_split(b) < 0) {
			log_error("memfile: out of memory dropping %#lx+%#lx; leaking it",
				  (unsigned long)at, (unsigned long)(n << MM_PAGE_SHIFT));
			continue;
		}
		for (uint64_t i = i0; i < i0 + n; i++) {
			if (b->pg[i] == 0)
				free_pending(at + ((i - i0) << MM_PAGE_SHIFT), PAGE_SIZE);
			else if (--b->pg[i] == 0)
				b->nz--;
		}
		rc_collapse(b);
	}
}

bool memfile_exclusive_locked(uint64_t off, uint64_t len, uint64_t *shared_at)
{
	if (!rc_range_ok(off, len))
		return true;
	for (uint64_t at = off, end = off + len, i0, n; at < end; at += n << MM_PAGE_SHIFT) {
		struct rc_block *b = rc_at(at, end, &i0, &n);
		if (!b->pg) {
			if (!b->extra)
				continue;
			if (shared_at)
				*shared_at = at;
			return false;
		}
		if (!b->nz)
			continue;
		for (uint64_t i = i0; i < i0 + n; i++) {
			if (b->pg[i]) {
				if (shared_at)
					*shared_at = at + ((i - i0) << MM_PAGE_SHIFT);
				return false;
			}
		}
	}
	return true;
}

int memfile_incref(uint64_t off, uint64_t len)
{
	memfile_lock();
	int r = memfile_incref_locked(off, len);
	memfile_unlock();
	return r;
}

void memfile_decref(uint64_t off, uint64_t len)
{
	memfile_lock();
	memfile_decref_locked(off, len);
	memfile_unlock();
}

bool memfile_exclusive(uint64_t off, uint64_t len)
{
	memfile_lock();
	bool excl = memfile_exclusive_locked(off, len, NULL);
	memfile_unlock();
	return excl;
}

void memfile_zero(uint64_t off, uint64_t len)
{
	if (len)
		punch(off, len);
}
