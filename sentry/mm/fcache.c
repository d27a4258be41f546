/* Page caches filled on demand: a file's contents in a memory-file range reserved whole, read
 * from the file a chunk at a time as mappings first touch them (filemap_vma.c). */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "platform/pairing.h"
#include "sentry/vfs/vfs.h"

/*
 * The range is allocated whole at creation, which costs no memory (the memory file is sparse);
 * only filled chunks hold pages. A chunk is marked filled with a release store after its bytes
 * are in place, so that anyone who sees the mark (with an acquire load) sees the bytes. An
 * unfilled chunk's pages are mapped nowhere: a VMA maps only the chunks it saw filled
 * (filemap_vma.c), so filling writes pages nobody can read yet. There is no lock: two threads
 * may fill one chunk at once (a fault and the readahead), both writing the file's same bytes,
 * and the pages of one another may already map then only get those bytes again (the files
 * cached are on read-only mounts: they do not change).
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
	c->len = len;
	c->fd = -1;
	return c;
}

static void direct_remove(struct mm_fcache *c);

/* The Sentry's view of c's range: the memory file's again (it was c's host file). */
static int view_restore(const struct mm_fcache *c)
{
	if (mmap(memfile_ptr(c->moff), c->len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | MAP_NORESERVE, memfile_fd(), (off_t)c->moff) != MAP_FAILED)
		return 0;
	log_error("mm: a page cache's range back to the memory file: %s", strerror(errno));
	return -1;
}

void mm_fcache_release(struct mm_fcache *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		direct_remove(c);
		/* The Sentry's view of the range is the memory file's again before the range can
		 * be handed out anew; failing that, the range is never freed. */
		if (view_restore(c) < 0) {
			close(c->fd);
			free(c);
			return;
		}
		close(c->fd);
	}
	memfile_decref(c->moff, c->len); /* mappings may keep the pages */
	free(c->cpuid);
	free(c);
}

/*
 * Caches that map their host file (mm_fcache_map_file). Copying a file into the memory file
 * costs two copies per byte (the host's read, then the write into the memory file) and keeps
 * a second copy of pages the host's page cache has anyway: cc1's 33 MB were ~12 ms of a 55 ms
 * compile, most of it on the critical path. When the platform can map a host fd (systrap: the
 * fd is passed to the stub once), the Sentry maps the file itself over the cache's range of
 * its view of the memory file (read-only: nothing ever writes a cache's pages), so every
 * Sentry access (copy_in, a copy-on-write break's copy) reads the file's bytes, and
 * mm_plat_map maps the file, not the memory file, wherever a platform mapping takes those
 * pages. The memory file's pages underneath stay holes; only a platform that cannot map the
 * fd gets them filled (fcache_direct_fill). The caches are kept sorted by moff for the
 * lookup; mm_fcache_release puts the memory file back under the range before freeing it.
 */
static bool g_direct_on;
static struct {
	pthread_rwlock_t lock;
	struct mm_fcache **v; /* sorted by moff */
	size_t n, cap;	      /* n: atomic for the lookup's fast path */
} g_direct = {.lock = PTHREAD_RWLOCK_INITIALIZER};

/* A Sentry access to a cache's page past the end of its file: the host file shrank under the
 * sandbox (a read-only mount's files are taken not to change, but nothing stops the host). The
 * memory file's page, zeros, goes in its place and the access is made again, so the Sentry
 * reads zeros rather than dying of SIGBUS. Any other SIGBUS stays fatal. Async-signal-safe:
 * no lock, one mmap. */
static void direct_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr, base = (uintptr_t)memfile_base;

	(void)uc;
	if (si->si_code == BUS_ADRERR && base && a >= base && a - base < MEMFILE_SIZE) {
		uintptr_t p = a & ~(uintptr_t)(PAGE_SIZE - 1);

		if (mmap((void *)p, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, memfile_fd(),
			 (off_t)(p - base)) != MAP_FAILED)
			return;
	}
	signal(sig, SIG_DFL); /* the access faults again, fatally */
}

void mm_fcache_direct_enable(void)
{
	struct sigaction sa = {.sa_sigaction = direct_sigbus, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0) {
		log_warn("mm: no SIGBUS handler (%s): page caches copy their files", strerror(errno));
		return;
	}
	g_direct_on = true;
}

/* The index of the first cache whose range ends after moff. Lock held. */
static size_t direct_index(uint64_t moff)
{
	size_t lo = 0, hi = g_direct.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mm_fcache *c = g_direct.v[mid];

		if (c->moff + c->len <= moff)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void direct_remove(struct mm_fcache *c)
{
	pthread_rwlock_wrlock(&g_direct.lock);
	size_t i = direct_index(c->moff);
	if (i < g_direct.n && g_direct.v[i] == c) {
		memmove(&g_direct.v[i], &g_direct.v[i + 1],
			(g_direct.n - i - 1) * sizeof(g_direct.v[0]));
		__atomic_store_n(&g_direct.n, g_direct.n - 1, __ATOMIC_RELEASE);
	}
	pthread_rwlock_unlock(&g_direct.lock);
}

int mm_fcache_map_file(struct mm_fcache *c, int fd)
{
	int r = 0;

	if (!g_direct_on || c->fd >= 0 || mm_fcache_filled(c))
		return -EOPNOTSUPP;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0)
		return -errno;
	pthread_rwlock_wrlock(&g_direct.lock);
	if (g_direct.n == g_direct.cap &&
	    (r = mm_grow_array((void **)&g_direct.v, &g_direct.cap, g_direct.n + 1,
			       sizeof(g_direct.v[0]), 64)) < 0)
		goto out;
	if (mmap(memfile_ptr(c->moff), c->len, PROT_READ, MAP_SHARED | MAP_FIXED, d, 0) ==
	    MAP_FAILED) {
		r = -errno;
		view_restore(c); /* MAP_FIXED may have unmapped it before failing */
		goto out;
	}
	c->fd = d;
	for (size_t k = 0; k < nchunks(c->len); k++)
		c->bits[k / 64] |= 1ULL << (k % 64);
	__atomic_store_n(&c->filled, c->len, __ATOMIC_RELEASE);
	size_t i = direct_index(c->moff);
	memmove(&g_direct.v[i + 1], &g_direct.v[i], (g_direct.n - i) * sizeof(g_direct.v[0]));
	g_direct.v[i] = c;
	__atomic_store_n(&g_direct.n, g_direct.n + 1, __ATOMIC_RELEASE);
out:
	pthread_rwlock_unlock(&g_direct.lock);
	if (r < 0)
		close(d);
	return r;
}

uint64_t fcache_direct_at(uint64_t moff, uint64_t len, int *fd, uint64_t *foff, uint64_t *plain)
{
	uint64_t n = 0;

	*plain = len;
	if (!__atomic_load_n(&g_direct.n, __ATOMIC_ACQUIRE))
		return 0;
	pthread_rwlock_rdlock(&g_direct.lock);
	size_t i = direct_index(moff);
	if (i < g_direct.n) {
		const struct mm_fcache *c = g_direct.v[i];

		if (c->moff <= moff) {
			n = MIN(len, c->moff + c->len - moff);
			*fd = c->fd;
			*foff = moff - c->moff;
		} else {
			*plain = MIN(len, c->moff - moff);
		}
	}
	pthread_rwlock_unlock(&g_direct.lock);
	return n;
}

int fcache_direct_fill(uint64_t moff, uint64_t len)
{
	/* From the Sentry's view of the range, which is the file, to the memory file's pages. */
	for (uint64_t done = 0; done < len;) {
		ssize_t w = pwrite(memfile_fd(), memfile_ptr(moff + done), len - done,
				   (off_t)(moff + done));
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (uint64_t)w;
	}
	return 0;
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
	return fcache_fill_buf(c, f, off, end, NULL);
}

int fcache_fill_buf(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end, char *buf)
{
	int r = 0;

	end = MIN(end, c->len);
	for (uint64_t a = off & ~(FC_CHUNK - 1); a < end && r == 0; a += FC_CHUNK) {
		if (fcache_chunk_filled(c, a))
			continue;
		uint64_t n = MIN(FC_CHUNK, c->len - a);
		/* Bytes past the end of the file stay zero (the pages are fresh). */
		r = buf ? mm_fill_from_file_buf(f, a, c->moff + a, n, buf)
			: mm_fill_from_file(f, a, c->moff + a, n);
		if (r < 0) {
			log_warn("mm: filling a page cache at %#lx: %d", (unsigned long)a, r);
			break;
		}
		size_t k = (size_t)(a / FC_CHUNK);
		uint64_t was = __atomic_fetch_or(&c->bits[k / 64], 1ULL << (k % 64), __ATOMIC_RELEASE);
		if (!(was & (1ULL << (k % 64))))
			__atomic_add_fetch(&c->filled, n, __ATOMIC_RELAXED);
	}
	return r;
}

/*
 * Readahead. A program's text is mapped from the page cache and filled a chunk at a time as its
 * run first touches each (a fault, and the chunk's read, on the program's critical path); a
 * compiler touches most of its text (cc1: 25 of 33 MB), in no order. So when a text segment is
 * mapped, one helper thread fills its chunks in order, ahead of the program, on a CPU the program
 * leaves idle; a fault on a chunk it filled already maps it, with the filled chunks next to it,
 * without reading. A fault on a chunk it has not reached fills that chunk itself, as before,
 * without waiting for it (no lock: see above; with one, the readahead taking it back for chunk
 * after chunk kept faults of the same file waiting, and cc1 was no faster). At most RA_MAX of
 * one mapping, none under RA_MIN (a program that maps a large library touches little of it),
 * and RA_QUEUE requests waiting: more are dropped (the faults fill what they need). The thread
 * is kept off the CPU of the thread that maps (platform/pairing.h), which is the program's.
 */
#define RA_MIN (2 * FC_CHUNK)
#define RA_MAX (64ULL << 20)
#define RA_QUEUE 32

struct ra_req {
	struct ra_req *next;
	struct mm_fcache *c;
	struct file *f; /* a reference: keeps the file, and with it c */
	uint64_t off, end;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ra_req *head, **tail;
	unsigned n;
	bool started;
	char *buf; /* the thread's bounce buffer */
	pid_t tid; /* the thread's, once it runs */
	int away;  /* pairing_keep_away's */
} g_ra = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *ra_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_ra.lock);
	g_ra.tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		while (!g_ra.head)
			pthread_cond_wait(&g_ra.cond, &g_ra.lock);
		struct ra_req *q = g_ra.head;
		g_ra.head = q->next;
		if (!g_ra.head)
			g_ra.tail = &g_ra.head;
		g_ra.n--;
		pthread_mutex_unlock(&g_ra.lock);
		/* A chunk per fill: a fault waits for one chunk at most. */
		for (uint64_t a = q->off & ~(FC_CHUNK - 1); a < q->end; a += FC_CHUNK)
			if (!fcache_chunk_filled(q->c, a) &&
			    fcache_fill_buf(q->c, q->f, a, a + FC_CHUNK, g_ra.buf) < 0)
				break;
		file_put(q->f);
		free(q);
		pthread_mutex_lock(&g_ra.lock);
	}
	return NULL;
}

bool fcache_readahead_on = true;

void fcache_readahead(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end)
{
	end = MIN(MIN(end, c->len), off + RA_MAX);
	if (!fcache_readahead_on || end <= off || end - off < RA_MIN || mm_fcache_filled(c) == c->len)
		return;
	struct ra_req *q = malloc(sizeof(*q));
	if (!q)
		return;
	*q = (struct ra_req){.c = c, .f = file_get(f), .off = off, .end = end};
	pthread_mutex_lock(&g_ra.lock);
	if (!g_ra.started) {
		g_ra.tail = &g_ra.head;
		g_ra.buf = malloc(FILL_BOUNCE);
		g_ra.started = g_ra.buf &&
			       thread_start_detached(NULL, ra_main, NULL, 128 << 10, true) == 0;
	}
	if (!g_ra.started || g_ra.n >= RA_QUEUE) {
		pthread_mutex_unlock(&g_ra.lock);
		file_put(q->f);
		free(q);
		return;
	}
	*g_ra.tail = q;
	g_ra.tail = &q->next;
	g_ra.n++;
	/* On another CPU than the program's (platform/pairing.h). */
	pairing_keep_away(g_ra.tid, &g_ra.away);
	pthread_cond_signal(&g_ra.cond);
	pthread_mutex_unlock(&g_ra.lock);
}
