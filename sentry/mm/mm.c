/* Address spaces: creation, activation and teardown, mmap, munmap, mprotect, brk, and queries. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "sentry/vfs/vfs.h"

/* Linux's LEGACY_MAP_MASK: the flags MAP_SHARED silently accepts and MAP_SHARED_VALIDATE
 * checks against. */
#define LEGACY_MAP_MASK                                                                            \
	(LINUX_MAP_SHARED | LINUX_MAP_PRIVATE | LINUX_MAP_FIXED | LINUX_MAP_ANONYMOUS |            \
	 LINUX_MAP_DENYWRITE | LINUX_MAP_EXECUTABLE | LINUX_MAP_UNINITIALIZED |                    \
	 LINUX_MAP_GROWSDOWN | LINUX_MAP_LOCKED | LINUX_MAP_NORESERVE | LINUX_MAP_POPULATE |       \
	 LINUX_MAP_NONBLOCK | LINUX_MAP_STACK | LINUX_MAP_HUGETLB | LINUX_MAP_32BIT |              \
	 (21U << LINUX_MAP_HUGE_SHIFT) /* MAP_HUGE_2MB */ |                                        \
	 (30U << LINUX_MAP_HUGE_SHIFT) /* MAP_HUGE_1GB */)
/* /dev/zero's device number (1, 5) as st_rdev encodes it. */
#define DEV_ZERO_RDEV ((1U << 8) | 5U)
#define PROT_MASK (LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC)
/* Largest file offset + length a regular file can be mapped at (MAX_LFS_FILESIZE). */
#define MAX_FILE_SIZE ((uint64_t)INT64_MAX)
/* Fill file mappings in pieces so one huge mapping does not ask the VFS for everything at once. */
#define FILL_CHUNK (1ULL << 20)

struct mm *mm_alloc(const struct platform *plat)
{
	pthread_rwlockattr_t attr;
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	/* Writer-preferring: a thread faulting (write lock) must not starve behind a stream of
	 * copy_in/copy_out readers from the other threads. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&mm->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&mm->zap_lock, NULL);
	mm->refs = 1;
	mm->plat = plat;
	return mm;
}

struct mm *mm_create(const struct platform *plat)
{
	struct mm *mm = mm_alloc(plat);
	if (!mm)
		return NULL;
	mm->min_addr = LINUX_MMAP_MIN;
	mm->max_addr = PAGE_ALIGN_DOWN(MIN(plat->max_user_addr, LINUX_TASK_SIZE));
	if (mm->max_addr < mm->min_addr)
		mm->max_addr = mm->min_addr;
	if (mm->max_addr - mm->min_addr > 2 * MM_STACK_GAP)
		mm->mmap_base = mm->max_addr - MM_STACK_GAP;
	else
		mm->mmap_base = mm->max_addr;
	return mm;
}

int mm_activate(struct mm *mm)
{
	int r = 0;

	if (__atomic_load_n(&mm->active, __ATOMIC_ACQUIRE))
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	if (mm->active)
		goto out;
	mm_apply_zaps_locked(mm); /* VMAs only: nothing is mapped yet */
	struct plat_as *as = mm->plat->as_create();
	if (!as) {
		r = errno ? -errno : -ENOMEM;
		goto out;
	}
	mm->as = as; /* the mm_plat_* calls below map into it; published once complete */
	/* One call per run of VMAs that the platform sees as one mapping (pieces of a VMA split
	 * by mprotect are usually contiguous in the memory file too). A run ends with a VMA
	 * whose valid part ends early (a private file mapping past the end of its file); a shared
	 * file mapping maps the file's pages on its own, and a VMA with a per-page map one run of
	 * contiguous pages at a time. */
	for (size_t i = 0; i < mm->n && r == 0;) {
		const struct vma *v = &mm->v[i];
		if (vma_filemap(v) || v->pm) {
			r = vma_plat_map(mm, v, v->start, v->end);
			i++;
			continue;
		}
		uint64_t end = vma_valid_end(v), mend = v->moff + (end - v->start);
		int prot = vma_plat_prot(v);
		size_t j = i + 1;
		/* Extend the run while the last VMA in it is valid to its end. */
		while (j < mm->n && end == mm->v[j - 1].end) {
			const struct vma *w = &mm->v[j];
			if (vma_filemap(w) || w->pm || w->start != end || w->moff != mend ||
			    vma_plat_prot(w) != prot)
				break;
			uint64_t wend = vma_valid_end(w);
			mend += wend - w->start;
			end = wend;
			j++;
		}
		if (end > v->start)
			r = mm_plat_map(mm, v->start, end - v->start, prot, v->moff);
		i = j;
	}
	if (r < 0) {
		log_warn("mm: activating an address space of %zu mappings: %d", mm->n, r);
		mm->as = NULL;
		mm->plat->as_release(as);
		goto out;
	}
	if (mm->ncpuid)
		mm_cpuid_push_locked(mm);
	__atomic_store_n(&mm->active, true, __ATOMIC_RELEASE);
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

void mm_get(struct mm *mm) { __atomic_add_fetch(&mm->refs, 1, __ATOMIC_RELAXED); }

bool mm_sole_ref(struct mm *mm) { return __atomic_load_n(&mm->refs, __ATOMIC_ACQUIRE) == 1; }

/* The last reference is gone: tear mm down. */
static void mm_free(struct mm *mm)
{
	if (mm->before_free)
		mm->before_free(mm, mm->before_free_arg);
	/* Releasing the address space drops all its mappings at once; then the pages can go,
	 * in one batch. */
	if (mm->as)
		mm->plat->as_release(mm->as);
	memfile_batch_begin();
	for (size_t i = 0; i < mm->n; i++)
		vma_release(&mm->v[i]);
	memfile_batch_end_keep(true);
	free(mm->v);
	/* Unregistered first, so that no truncation queues a zap after those below are taken;
	 * they hold pages the platform no longer maps. */
	filemap_unregister_all(mm);
	for (struct mm_zap *z = mm_zaps_take(mm), *next; z; z = next) {
		next = z->next;
		mm_zap_free(z);
	}
	pthread_mutex_destroy(&mm->zap_lock);
	pthread_rwlock_destroy(&mm->lock);
	free(mm->cpuid);
	free(mm);
}

void mm_put(struct mm *mm)
{
	if (mm && __atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL) == 0)
		mm_free(mm);
}

/* mm_put_later's queue and the thread that empties it, started by the first put. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mm *head; /* linked through next_free */
	unsigned n;
	bool started;
} g_teardown = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *teardown_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_teardown.lock);
	for (;;) {
		while (!g_teardown.head)
			pthread_cond_wait(&g_teardown.cond, &g_teardown.lock);
		struct mm *mm = g_teardown.head;
		g_teardown.head = mm->next_free;
		g_teardown.n--;
		pthread_mutex_unlock(&g_teardown.lock);
		mm_free(mm);
		pthread_mutex_lock(&g_teardown.lock);
	}
	return NULL;
}

/* More than this many address spaces waiting: the thread falls behind, and the putter tears
 * its own down, so that a busy machine does not pile up dead processes' memory. */
#define TEARDOWN_BACKLOG 8

void mm_put_later(struct mm *mm)
{
	if (!mm || __atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_lock(&g_teardown.lock);
	if (!g_teardown.started)
		g_teardown.started =
		    thread_start_detached(NULL, teardown_main, NULL, 256 << 10, false) == 0;
	if (!g_teardown.started || g_teardown.n >= TEARDOWN_BACKLOG) {
		pthread_mutex_unlock(&g_teardown.lock);
		mm_free(mm); /* here, then */
		return;
	}
	mm->next_free = g_teardown.head;
	g_teardown.head = mm;
	g_teardown.n++;
	pthread_cond_signal(&g_teardown.cond);
	pthread_mutex_unlock(&g_teardown.lock);
}

bool mm_put_last_then(struct mm *mm, void (*fn)(struct mm *mm, void *arg), void *arg)
{
	/* The last reference is the caller's: nobody can take another (the mm is no task's any
	 * more), so refs stays 1 until the put below. */
	if (!mm_sole_ref(mm))
		return false;
	mm->before_free = fn;
	mm->before_free_arg = arg;
	mm_put_later(mm);
	return true;
}

/* The pages of a page cache that maps its host file are that file's (fcache.c): mapped from
 * the file, never writable (its copy-on-write VMAs map them read-only anyway); a platform that
 * cannot map it, or a stub with too many fds, gets the memory file's pages, filled first. */
int mm_plat_map(struct mm *mm, uint64_t addr, uint64_t len, int prot, uint64_t moff)
{
	if (!mm->as)
		return 0;
	while (len) {
		int fd = -1, r;
		uint64_t foff = 0, n, plain;

		n = fcache_direct_at(moff, len, &fd, &foff, &plain);
		if (n) {
			r = mm->plat->as_map(mm->as, addr, n, prot & ~LINUX_PROT_WRITE, fd, foff);
			if ((r == -ENOSYS || r == -ENOSPC) &&
			    (r = fcache_direct_fill(moff, n)) == 0)
				r = mm->plat->as_map(mm->as, addr, n, prot, PLAT_FD_MEMFILE, moff);
		} else {
			n = plain;
			r = mm->plat->as_map(mm->as, addr, n, prot, PLAT_FD_MEMFILE, moff);
		}
		if (r < 0)
			return r;
		addr += n;
		moff += n;
		len -= n;
	}
	return 0;
}

int mm_plat_unmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	return mm->as ? mm->plat->as_unmap(mm->as, addr, len) : 0;
}

int mm_plat_protect(struct mm *mm, uint64_t addr, uint64_t len, int prot)
{
	return mm->as ? mm->plat->as_protect(mm->as, addr, len, prot) : 0;
}

struct plat_as *mm_plat_as(struct mm *mm)
{
	if (!__atomic_load_n(&mm->active, __ATOMIC_ACQUIRE))
		return NULL;
	/* seq_cst: a truncation queues the zap, then kicks the tasks it sees running
	 * application code; the run loop marks its task as running it, then calls this. */
	if (__atomic_load_n(&mm->zap_pending, __ATOMIC_SEQ_CST)) {
		pthread_rwlock_wrlock(&mm->lock);
		mm_apply_zaps_locked(mm);
		pthread_rwlock_unlock(&mm->lock);
	}
	return mm->as;
}

uint64_t mm_stack_top(struct mm *mm) { return mm->max_addr; }

uint64_t mm_mmap_base(struct mm *mm) { return mm->mmap_base; }

long mm_find_unmapped(struct mm *mm, uint64_t len)
{
	if (!len || !IS_PAGE_ALIGNED(len))
		return -ENOMEM;
	pthread_rwlock_rdlock(&mm->lock);
	long r = vma_find_free(mm, 0, len, 0);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

/* The filesystems define it (mm.h); referenced weakly so that the mm links without them (unit
 * tests of other modules): then no file has memory pages. */
extern struct mm_filemap *file_filemap(struct file *f) __attribute__((weak));
extern bool file_fill_lazily(struct file *f) __attribute__((weak));
extern int file_page_cache(struct file *f, struct mm_fcache **c) __attribute__((weak));

/*
 * Filling goes through a buffer and pwrite on the memory file rather than reading into the
 * Sentry's mapping of it: the host then allocates the memory file's pages without zeroing them
 * first and without a page fault per page in the Sentry, which makes a large fill about a
 * third faster (docs/performance.md). One buffer for the whole Sentry keeps its memory small;
 * a fill that finds it taken reads into the mapping instead.
 */
static pthread_mutex_t fill_bounce_lock = PTHREAD_MUTEX_INITIALIZER;
static char *fill_bounce;

/* One step of a fill: read up to len bytes at foff into buf and pwrite them to the memory file
 * at moff, or, with buf NULL, read them straight into the Sentry's mapping of it. Returns the
 * bytes placed, 0 at the end of the file, or -errno. */
static ssize_t fill_step(struct file *f, uint64_t foff, uint64_t moff, uint64_t len, char *buf)
{
	if (!buf)
		return vfs_pread(f, memfile_ptr(moff), MIN(len, FILL_CHUNK), foff);
	ssize_t r = vfs_pread(f, buf, MIN(len, FILL_BOUNCE), foff);
	for (ssize_t w = 0; w < r;) {
		ssize_t n =
		    pwrite(memfile_fd(), buf + w, (size_t)(r - w), (off_t)(moff + (uint64_t)w));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			w += n;
	}
	return r;
}

int mm_fill_from_file(struct file *f, uint64_t foff, uint64_t moff, uint64_t len)
{
	struct mm_fcache *c;
	char *buf = NULL;
	int r;

	/* A page cache that maps its file (fcache.c) is the file's bytes in the Sentry's view:
	 * one copy from there instead of a read and a write (a binary's data; past the end of
	 * the file the rest stays zero). */
	if (file_page_cache && file_page_cache(f, &c) == 0 && c->fd >= 0 && foff < c->len) {
		memfile_copy(moff, c->moff + foff, MIN(len, c->len - foff));
		return 0;
	}

	if (len > PAGE_SIZE && pthread_mutex_trylock(&fill_bounce_lock) == 0) {
		if (!fill_bounce)
			fill_bounce = malloc(FILL_BOUNCE);
		if (!(buf = fill_bounce))
			pthread_mutex_unlock(&fill_bounce_lock);
	}
	r = mm_fill_from_file_buf(f, foff, moff, len, buf);
	if (buf)
		pthread_mutex_unlock(&fill_bounce_lock);
	return r;
}

int mm_fill_from_file_buf(struct file *f, uint64_t foff, uint64_t moff, uint64_t len, char *buf)
{
	uint64_t done = 0;
	int r = 0;

	while (done < len) {
		ssize_t n = fill_step(f, foff + done, moff + done, len - done, buf);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0)
			break; /* EOF: the rest stays zero (Linux: SIGBUS past it) */
		done += (uint64_t)n;
	}
	return r;
}

int mm_map_fresh(struct mm *mm, const struct vma *tmpl, uint64_t start, uint64_t len)
{
	size_t i = vma_index(mm, start);
	uint64_t moff = 0;
	bool got = false;
	int r;

	if (vma_reserve(mm, 1) < 0)
		return -ENOMEM;
	struct vma nv = *tmpl;
	nv.start = start;
	nv.end = start + len;
	nv.foff = tmpl->foff + (start - tmpl->start);
	nv.flags &= ~VMA_COW; /* fresh pages are ours alone */
	nv.pm = NULL;
	nv.pmi = 0;
	nv.excl = start;
	if (!vma_filemap(&nv)) {
		/* Backing contiguous with the VMA below lets the two merge. */
		if (i > 0 && mm->v[i - 1].end == start && !vma_filemap(&mm->v[i - 1]) &&
		    !mm->v[i - 1].pm) {
			moff = mm->v[i - 1].moff + vma_len(&mm->v[i - 1]);
			got = memfile_alloc_at(moff, len) == 0;
		}
		if (!got && (r = memfile_alloc(len, &moff)) < 0)
			return r;
		if (nv.file && (r = mm_fill_from_file(nv.file, nv.foff, moff, len)) < 0) {
			memfile_free(moff, len);
			return r;
		}
	}
	nv.moff = moff;
	if (nv.file)
		file_get(nv.file);
	vma_insert(mm, i, &nv);
	r = vma_plat_map(mm, &mm->v[i], start, start + len);
	if (r < 0) {
		mm_plat_unmap(mm, start, len);
		vma_release(&mm->v[i]);
		vma_remove(mm, i, 1);
		return r;
	}
	vma_merge_range(mm, i, i);
	return 0;
}

/* Linux's file_mmap_ok for regular files: can [off, off+len) be addressed? */
static bool file_range_ok(uint64_t off, uint64_t len)
{
	return len <= MAX_FILE_SIZE && off <= MAX_FILE_SIZE - len;
}

/* For a private mapping of [off, off+len) of f that cannot be written, take references to
 * the page cache's pages of f that it covers: all of it, or, when it reaches past the end of
 * the file (fend, page rounded) and the cache holds the whole file, the part within the file
 * (ld.so's reservation of a library's span). Returns how many bytes, from off, with *moff
 * where they are and *pc the cache (they may not be filled yet); 0 when f has no cache or it
 * does not cover the start. */
static uint64_t cached_backing(struct file *f, int prot, uint64_t off, uint64_t len, uint64_t fend,
			       uint64_t *moff, struct mm_fcache **pc)
{
	struct mm_fcache *c;
	if ((prot & LINUX_PROT_WRITE) || !file_page_cache || file_page_cache(f, &c) < 0 ||
	    off >= c->len)
		return 0;
	uint64_t n = MIN(len, c->len - off);
	if (n < len && c->len != fend)
		return 0; /* what lies past the cache would have file bytes to read */
	*moff = c->moff + off;
	*pc = c;
	return memfile_incref(*moff, n) == 0 ? n : 0;
}

/* What mmap_check_type found out about a mapping. */
struct mmap_kind {
	bool shared;	       /* MAP_SHARED memory: anonymous, /dev/zero, or a filemap's pages */
	bool zero;	       /* /dev/zero: anonymous memory */
	bool copy;	       /* MAP_SHARED of a file served as a private copy (VMA_SHARED_COPY) */
	bool nomaywrite;       /* MAP_SHARED of a file not open for writing */
	struct mm_filemap *fm; /* the file's filemap, if it has one (borrowed) */
	uint64_t size;	       /* the file's size */
	bool lazy;	       /* a private copy filled at its first access (mm_internal.h) */
};

/* The checks of do_mmap that depend on the flags and the file, in Linux's order; fills *k.
 * 0 or -errno. */
static int mmap_check_type(int prot, int flags, struct file *f, uint64_t off, uint64_t len,
			   struct mmap_kind *k)
{
	*k = (struct mmap_kind){0};
	if (!f) {
		switch (flags & LINUX_MAP_TYPE) {
		case LINUX_MAP_SHARED:
			if (flags & LINUX_MAP_GROWSDOWN)
				return -EINVAL;
			k->shared = true;
			return 0;
		case LINUX_MAP_DROPPABLE:
			/* Droppable memory may lose its contents; keeping them is allowed. */
			if (flags & (LINUX_MAP_LOCKED | LINUX_MAP_HUGETLB | LINUX_MAP_GROWSDOWN))
				return -EINVAL;
			return 0;
		case LINUX_MAP_PRIVATE:
			return 0;
		default:
			return -EINVAL;
		}
	}

	struct linux_stat st;
	int r = vfs_fstat(f, &st);
	if (r < 0)
		return r;
	uint32_t type = st.st_mode & LINUX_S_IFMT;
	k->zero = type == LINUX_S_IFCHR && st.st_rdev == DEV_ZERO_RDEV;
	k->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	/* Only regular files (and /dev/zero) implement mmap here. Note: a VFS file that is
	 * S_IFREG but not mappable on Linux (procfs, sysfs) would be read like a regular file. */
	bool has_mmap = type == LINUX_S_IFREG || k->zero;
	if (!file_range_ok(off, len))
		return -EOVERFLOW;
	int acc = file_flags(f) & LINUX_O_ACCMODE;
	bool readable = acc == LINUX_O_RDONLY || acc == LINUX_O_RDWR;
	bool writable = acc == LINUX_O_WRONLY || acc == LINUX_O_RDWR;
	switch (flags & LINUX_MAP_TYPE) {
	case LINUX_MAP_SHARED:
		flags &= LEGACY_MAP_MASK;
		/* fallthrough */
	case LINUX_MAP_SHARED_VALIDATE:
		if (flags & ~LEGACY_MAP_MASK)
			return -EOPNOTSUPP;
		if ((prot & LINUX_PROT_WRITE) && !writable)
			return -EACCES;
		k->shared = true;
		/* fallthrough */
	case LINUX_MAP_PRIVATE:
		if (!readable)
			return -EACCES;
		if (!has_mmap)
			return -ENODEV;
		if (flags & LINUX_MAP_GROWSDOWN)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (k->zero)
		return 0;
	k->fm = file_filemap ? file_filemap(f) : NULL;
	if (k->shared) {
		k->nomaywrite = !writable;
		if (!k->fm) {
			/* The pages live elsewhere (the read-only lower layer). A mapping that can
			 * never be written sees no difference from a copy: nobody can change the
			 * file underneath. */
			if (writable) {
				log_info("mm: MAP_SHARED of a writable file without memory pages");
				return -ENODEV;
			}
			k->shared = false;
			k->copy = true;
		}
	}
	/* Writable MAP_FIXED ones are filled now: they are a program's or library's data,
	 * written at once (relocations). Its text and read-only data are read as touched. */
	k->lazy = !k->shared && !k->fm &&
		  (!(flags & LINUX_MAP_FIXED) || !(prot & LINUX_PROT_WRITE)) && file_fill_lazily &&
		  file_fill_lazily(f);
	return 0;
}

/* Put nv (a new mapping at [addr, addr+len), room reserved, its file's filemap registered)
 * into mm, replacing what MAP_FIXED replaces, and into the platform. Write lock held. Takes
 * over nv's references on success; 0, or -ENOMEM with nv's backing and file still the
 * caller's. */
static int mmap_insert(struct mm *mm, struct vma *nv, bool fixed)
{
	uint64_t addr = nv->start, len = vma_len(nv);
	size_t i;
	int r;

	if (vma_filemap(nv)) {
		/* No backing to swap in atomically: unmap, then map the file's pages. */
		if (fixed)
			mm_unmap_range(mm, addr, addr + len, true);
		i = vma_index(mm, addr);
		vma_insert(mm, i, nv);
		r = vma_plat_map(mm, &mm->v[i], addr, addr + len);
		if (r < 0) {
			mm_plat_unmap(mm, addr, len);
			vma_remove(mm, i, 1);
			goto fail;
		}
		vma_merge_range(mm, i, i);
		return 0;
	}
	/* Map first (replacing what MAP_FIXED replaces), release the old pages after. Pages past
	 * the end of a file are left out (SIGBUS). */
	uint64_t valid = vma_valid_end(nv);
	r = valid > addr ? mm_plat_map(mm, addr, valid - addr, vma_plat_prot(nv), nv->moff) : 0;
	if (r == 0 && fixed && valid < addr + len)
		r = mm_plat_unmap(mm, valid, addr + len - valid);
	if (r < 0) {
		/* Like Linux, a failed MAP_FIXED may leave the range unmapped. */
		if (fixed)
			mm_unmap_range(mm, addr, addr + len, true);
		else
			mm_plat_unmap(mm, addr, len);
		goto fail;
	}
	if (fixed)
		mm_unmap_range(mm, addr, addr + len, false);
	i = vma_index(mm, addr);
	vma_insert(mm, i, nv);
	vma_merge_range(mm, i, i);
	return 0;
fail:
	log_warn("mm: platform map %#lx+%#lx: %d", (unsigned long)addr, (unsigned long)len, r);
	return -ENOMEM;
}

long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *f,
	     uint64_t off)
{
	struct mmap_kind k;
	uint64_t moff = 0;
	bool own_backing;
	int r;

	if (!IS_PAGE_ALIGNED(off))
		return -EINVAL;
	if (flags & LINUX_MAP_HUGETLB)
		return f ? -EINVAL : -ENOMEM; /* no huge pages here (a host without them says so) */
	if (!len)
		return -EINVAL;
	if (flags & LINUX_MAP_FIXED_NOREPLACE)
		flags |= LINUX_MAP_FIXED;
	if (!(flags & LINUX_MAP_FIXED)) {
		addr = PAGE_ALIGN_DOWN(addr);
		if (addr && addr < mm->min_addr)
			addr = mm->min_addr;
	}
	len = PAGE_ALIGN_UP(len);
	if (!len)
		return -ENOMEM;
	if ((off >> 12) + (len >> 12) < (off >> 12))
		return -EOVERFLOW;
	/* The address checks of get_unmapped_area that need no VMA. */
	if (len > mm->max_addr)
		return -ENOMEM;
	if (flags & LINUX_MAP_FIXED) {
		if (addr > mm->max_addr - len)
			return -ENOMEM;
		if (!IS_PAGE_ALIGNED(addr))
			return -EINVAL;
		if (addr < mm->min_addr)
			return -EPERM;
	}
	/* Linux checks MAP_FIXED_NOREPLACE before the file; we check it after, so that the file
	 * can be read without the mm lock held (see below). Only the error differs when both. */
	r = mmap_check_type(prot, flags, f, off, len, &k);
	if (r < 0)
		return r;
	bool file = f && !k.zero, filemap = file && k.shared;

	/* Fresh backing, filled before taking the lock: the VFS may need this mm (procfs). A
	 * shared file mapping has none: it maps the file's pages. A private one that cannot be
	 * written may share a page cache's pages, copy-on-write (a library's text): all of it, or
	 * the part within the file, and then what lies past the end of the file (never valid)
	 * gets fresh pages as a VMA of its own (tmoff, tlen). */
	struct mm_fcache *pc = NULL;
	uint64_t shared = file && !filemap && !k.fm
			      ? cached_backing(f, prot, off, len, PAGE_ALIGN_UP(k.size), &moff, &pc)
			      : 0;
	bool cached = shared > 0;
	uint64_t tmoff = 0, tlen = filemap ? 0 : len - shared;
	own_backing = tlen > 0;
	if (own_backing) {
		r = memfile_alloc(tlen, &tmoff);
		if (r < 0) {
			if (cached)
				memfile_decref(moff, shared);
			return r;
		}
		if (file && !cached && !k.lazy && (r = mm_fill_from_file(f, off, tmoff, len)) < 0) {
			memfile_free(tmoff, tlen);
			return r;
		}
		if (!cached)
			moff = tmoff;
	}

	pthread_rwlock_wrlock(&mm->lock);
	r = vma_reserve(mm, 5);
	if (r < 0)
		goto fail;
	if (!(flags & LINUX_MAP_FIXED)) {
		long a = vma_find_free(mm, addr, len, flags);
		if (a < 0) {
			r = (int)a;
			goto fail;
		}
		addr = (uint64_t)a;
	} else if ((flags & LINUX_MAP_FIXED_NOREPLACE) &&
		   !vma_range_free(mm, addr, addr + len, false)) {
		r = -EEXIST;
		goto fail;
	}
	/* Registered before anything is mapped, so that no truncation from now on misses us. */
	if (file && k.fm && (r = filemap_register(mm, k.fm)) < 0)
		goto fail;
	struct vma nv = {
	    .start = addr,
	    .end = addr + (cached ? shared : len),
	    .moff = moff,
	    .excl = addr,
	    .file = file ? f : NULL,
	    .foff = file ? off : 0,
	    .vend = UINT64_MAX,
	    .fm = file ? k.fm : NULL,
	    .pc = cached ? pc : NULL,
	    .prot = prot & PROT_MASK,
	    .flags = (k.shared ? VMA_SHARED : 0) | (filemap ? VMA_FILEMAP : 0) |
		     (k.copy ? VMA_SHARED_COPY : 0) | (k.nomaywrite ? VMA_NOMAYWRITE : 0) |
		     (flags & LINUX_MAP_GROWSDOWN ? VMA_GROWSDOWN : 0) | (cached ? VMA_COW : 0),
	};
	if (file && !filemap) {
		/* The copy is valid up to the end of the file as it is now. */
		nv.vend = PAGE_ALIGN_UP(k.size);
		if (k.fm)
			nv.vend = MIN(nv.vend, PAGE_ALIGN_UP(filemap_size(k.fm)));
		nv.fend = nv.vend;
		if (k.lazy || cached)
			nv.vend = off; /* nothing valid until the first access fills it */
	}
	if (nv.file)
		file_get(nv.file);
	/* A program's text: fill it ahead of the program (fcache.c, readahead). */
	if (cached && (prot & LINUX_PROT_EXEC))
		fcache_readahead(pc, f, off, off + shared);
	r = mmap_insert(mm, &nv, flags & LINUX_MAP_FIXED);
	if (r < 0) {
		if (nv.file)
			file_put(nv.file);
		goto fail;
	}
	/* (a failure only leaves pages to be mapped at their first fault) */
	if (cached && mm_map_cached(mm, addr, nv.end) < 0)
		log_warn("mm: mapping a page cache's filled pages at %#lx", (unsigned long)addr);
	if (cached && own_backing) {
		/* the part past the end of the file: its own fresh pages, never valid (SIGBUS) */
		struct vma tail = nv;
		tail.start = nv.end;
		tail.end = addr + len;
		tail.moff = tmoff;
		tail.excl = tail.start;
		tail.foff = off + shared;
		tail.flags &= ~VMA_COW;
		tail.pc = NULL;
		file_get(tail.file);
		r = mmap_insert(mm, &tail, flags & LINUX_MAP_FIXED);
		if (r < 0) {
			file_put(tail.file);
			mm_unmap_range(mm, addr, nv.end, true); /* releases nv's pages and file */
			cached = false;
			goto fail;
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	return (long)addr;

fail:
	pthread_rwlock_unlock(&mm->lock);
	if (own_backing)
		memfile_free(tmoff, tlen);
	if (cached)
		memfile_decref(moff, shared);
	return r;
}

long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	if (!IS_PAGE_ALIGNED(addr) || addr > mm->max_addr || len > mm->max_addr - addr)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (!len)
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	int r = vma_reserve(mm, 2);
	if (r == 0)
		mm_unmap_range(mm, addr, addr + len, true);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

long mm_mprotect(struct mm *mm, uint64_t start, uint64_t len, int prot)
{
	int grows = prot & (LINUX_PROT_GROWSDOWN | LINUX_PROT_GROWSUP);
	uint64_t end, cur;
	size_t i, first;
	long r = 0;

	prot &= ~grows;
	if (grows == (LINUX_PROT_GROWSDOWN | LINUX_PROT_GROWSUP))
		return -EINVAL;
	if (!IS_PAGE_ALIGNED(start))
		return -EINVAL;
	if (!len)
		return 0;
	len = PAGE_ALIGN_UP(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(PROT_MASK | LINUX_PROT_SEM))
		return -EINVAL;
	prot &= PROT_MASK;

	pthread_rwlock_wrlock(&mm->lock);
	if (mm->ncpuid && (prot & LINUX_PROT_WRITE)) /* code the program may write: cpuid again */
		mm_cpuid_forget_locked(mm, start, end, true);
	if (vma_reserve(mm, 2) < 0) {
		r = -ENOMEM;
		goto out;
	}
	i = vma_index(mm, start);
	if (i >= mm->n || mm->v[i].start >= end) {
		r = -ENOMEM;
		goto out;
	}
	if (grows & LINUX_PROT_GROWSDOWN) {
		start = mm->v[i].start;
		if (!(mm->v[i].flags & VMA_GROWSDOWN)) {
			r = -EINVAL;
			goto out;
		}
	} else if (mm->v[i].start > start) {
		r = -ENOMEM;
		goto out;
	}
	if (grows & LINUX_PROT_GROWSUP) {
		r = -EINVAL; /* x86 has no growsup mappings */
		goto out;
	}
	vma_split(mm, start);
	vma_split(mm, end);
	/* Like Linux, change VMA after VMA and stop at the first hole: the part before it keeps
	 * the new protection and the call fails with ENOMEM. */
	first = i = vma_index(mm, start);
	for (cur = start; i < mm->n && mm->v[i].start < end; i++) {
		struct vma *v = &mm->v[i];
		if (v->start != cur)
			break;
		if ((prot & LINUX_PROT_WRITE) && (v->flags & VMA_NOMAYWRITE)) {
			r = -EACCES; /* a shared mapping of a file not open for writing */
			break;
		}
		if (v->prot != prot) {
			int old = v->prot, old_plat = vma_plat_prot(v), pr = 0;
			v->prot = prot;
			/* (with a per-page map, private pages may be mapped writable) */
			if (vma_plat_prot(v) != old_plat || v->pm)
				pr = vma_plat_reprotect(mm, v);
			if (pr < 0) {
				log_warn("mm: platform protect %#lx: %d", (unsigned long)v->start,
					 pr);
				v->prot = old;
				r = -ENOMEM;
				break;
			}
		}
		cur = v->end;
	}
	if (!r && cur < end)
		r = -ENOMEM;
	vma_merge_range(mm, first, i);
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

void mm_set_brk_base(struct mm *mm, uint64_t base)
{
	pthread_rwlock_wrlock(&mm->lock);
	mm->brk_start = mm->brk = PAGE_ALIGN_UP(base);
	pthread_rwlock_unlock(&mm->lock);
}

long mm_brk(struct mm *mm, uint64_t addr)
{
	static const struct vma heap = {.prot = LINUX_PROT_READ | LINUX_PROT_WRITE};
	long ret;

	pthread_rwlock_wrlock(&mm->lock);
	uint64_t newbrk = PAGE_ALIGN_UP(addr), oldbrk = PAGE_ALIGN_UP(mm->brk);
	if (addr < mm->brk_start || newbrk < addr || newbrk > mm->max_addr)
		goto out;
	if (vma_reserve(mm, 3) < 0)
		goto out;
	if (newbrk == oldbrk) {
		mm->brk = addr;
		goto out;
	}
	if (addr <= mm->brk) {
		/* Shrinking always works. */
		mm_unmap_range(mm, newbrk, oldbrk, true);
		mm->brk = addr;
		goto out;
	}
	/* Growing needs the range free plus a page of gap before the next mapping. */
	size_t i = vma_index(mm, oldbrk);
	if (i < mm->n && newbrk + PAGE_SIZE > vma_start_gap(&mm->v[i]))
		goto out;
	if (mm_map_fresh(mm, &heap, oldbrk, newbrk - oldbrk) < 0)
		goto out;
	mm->brk = addr;
out:
	ret = (long)mm->brk;
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

bool mm_range_mapped(struct mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	bool ok = true;

	if (end < addr)
		return false;
	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = vma_index(mm, addr); addr < end; i++) {
		if (i >= mm->n || mm->v[i].start > addr) {
			ok = false;
			break;
		}
		addr = mm->v[i].end;
	}
	pthread_rwlock_unlock(&mm->lock);
	return ok;
}

int mm_prot_at(struct mm *mm, uint64_t addr)
{
	pthread_rwlock_rdlock(&mm->lock);
	struct vma *v = vma_lookup(mm, addr);
	int r = v ? v->prot : -EFAULT;
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

int mm_futex_key(struct mm *mm, uint64_t addr, bool shared, struct mm_futex_key *key)
{
	*key = (struct mm_futex_key){.obj = mm, .off = addr};
	if (!shared)
		return 0;
	pthread_rwlock_rdlock(&mm->lock);
	const struct vma *v = vma_lookup(mm, addr);
	int r = v ? 0 : -EFAULT;
	if (v && vma_filemap(v))
		*key = (struct mm_futex_key){.obj = v->fm, .off = v->foff + (addr - v->start)};
	else if (v && (v->flags & VMA_SHARED) && !v->file)
		/* Shared anonymous memory (and /dev/zero's) keeps its backing pages for life. */
		*key = (struct mm_futex_key){.obj = memfile_base, .off = vma_moff_at(v, addr)};
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

int mm_for_each_vma(struct mm *mm, int (*fn)(const struct mm_vma_info *vi, void *arg), void *arg)
{
	int r = 0;

	pthread_rwlock_rdlock(&mm->lock);
	for (size_t i = 0; i < mm->n && !r;) {
		const struct vma *v = &mm->v[i];
		size_t j = i + 1;
		while (j < mm->n && vma_compatible(&mm->v[j - 1], &mm->v[j]))
			j++;
		struct mm_vma_info vi = {
		    .start = v->start,
		    .end = mm->v[j - 1].end,
		    .prot = v->prot,
		    .shared = v->flags & (VMA_SHARED | VMA_SHARED_COPY),
		    .stack = v->flags & VMA_GROWSDOWN,
		    .file = v->file,
		    .foff = v->foff,
		};
		vi.heap =
		    !v->file && mm->brk_start && vi.start <= mm->brk && vi.end >= mm->brk_start;
		r = fn(&vi, arg);
		i = j;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
