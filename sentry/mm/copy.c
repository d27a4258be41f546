/* copy_in/copy_out: the Sentry's only access to application memory, through the memory file;
 * and copy_in_strv for execve's argument vectors. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* On x86 a writable page is readable too. */
#define PROT_READABLE (LINUX_PROT_READ | LINUX_PROT_WRITE)

/* The VMA holding addr, trying the one used last first. Read lock held. */
static inline const struct vma *lookup(struct mm *mm, uint64_t addr)
{
	size_t i = __atomic_load_n(&mm->cache, __ATOMIC_RELAXED);
	if (i < mm->n && mm->v[i].start <= addr && addr < mm->v[i].end)
		return &mm->v[i];
	i = vma_index(mm, addr);
	if (i >= mm->n || mm->v[i].start > addr)
		return NULL;
	__atomic_store_n(&mm->cache, i, __ATOMIC_RELAXED);
	return &mm->v[i];
}

/* The Sentry's pointer to application address addr inside v, and in *len how many bytes from
 * there (at most max) are contiguous in the memory file. */
static inline char *host_ptr(const struct vma *v, uint64_t addr, size_t max, size_t *len)
{
	uint64_t moff;
	*len = (size_t)(vma_run(v, addr, addr + max, &moff, NULL) - addr);
	return memfile_base + moff;
}

/* How many bytes of [addr, addr+n) are mapped with one of the bits of need (0: only mapped),
 * from addr on, stopping at a file mapping's pages past the end of its file; with cow
 * non-NULL, *cow is set when copy-on-write pages another mm still holds lie within them, *grow
 * when they stop at a private file mapping whose file has grown past what it holds
 * (mm_file_grow). Lock held. */
static size_t accessible(struct mm *mm, uint64_t addr, size_t n, int need, bool *cow, bool *grow)
{
	size_t ok = 0;
	if (cow)
		*cow = false;
	*grow = false;
	while (ok < n) {
		uint64_t cur = addr + ok;
		const struct vma *v = lookup(mm, cur);
		if (!v || (need && !(v->prot & need)))
			break;
		uint64_t lim = vma_access_end(v, cur, grow);
		if (lim <= cur)
			break;
		uint64_t step = MIN((uint64_t)(n - ok), lim - cur);
		if (cow && !*cow)
			*cow = vma_cow_shared(v, cur, cur + step);
		ok += (size_t)step;
		if (lim < v->end)
			break;
	}
	return ok;
}

/* Copy n bytes between buf and [addr, addr+n), every byte of which is accessible. Returns the
 * bytes copied: short only when a shared file page could not be had or the file shrank
 * meanwhile. Lock held. */
static size_t copy_mapped(struct mm *mm, uint64_t addr, void *buf, size_t n, bool to_app)
{
	size_t done = 0;
	while (done < n) {
		const struct vma *v = lookup(mm, addr);
		size_t chunk = (size_t)MIN((uint64_t)(n - done), v->end - addr);
		if (vma_filemap(v)) {
			size_t got =
			    filemap_copy(v->fm, v->foff + (addr - v->start), buf, chunk, to_app);
			done += got;
			if (got < chunk)
				break;
		} else {
			size_t run;
			char *p = host_ptr(v, addr, chunk, &run);
			chunk = run;
			if (to_app)
				memcpy(p, buf, chunk);
			else
				memcpy(buf, p, chunk);
			done += chunk;
		}
		buf = (char *)buf + chunk;
		addr += chunk;
	}
	return done;
}

/*
 * Copy between buf and application memory [addr, addr+n), each byte needing one of the bits of
 * need (0: only mapped). to_app says which way. Like Linux, the bytes before a fault are
 * copied. Writing into copy-on-write pages first makes them private (under the write lock):
 * the Sentry writes through the memory file, so writing a shared page would change the other
 * process's memory. Pages of a private file mapping the file has grown into are filled first
 * (under the write lock too; the platform maps them at their first fault).
 */
static int copy_app(struct mm *mm, uint64_t addr, void *buf, size_t n, int need, bool to_app)
{
	bool cow = false, grow;

	if (!n)
		return 0;
	if (!mm || range_overflows(addr, n))
		return -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	size_t ok = accessible(mm, addr, n, need, to_app ? &cow : NULL, &grow);
	if ((to_app && cow) || grow) {
		/* Again under the write lock: the VMAs may have changed in between. */
		pthread_rwlock_unlock(&mm->lock);
		pthread_rwlock_wrlock(&mm->lock);
		ok = accessible(mm, addr, n, need, NULL, &grow);
		if (grow && mm_file_grow(mm, addr, n, false) == 0)
			ok = accessible(mm, addr, n, need, NULL, &grow);
		/* (a fork in between may have made pages shared that were not) */
		if (to_app && mm_cow_break(mm, addr, ok) < 0)
			ok = 0; /* out of memory: nothing can be written */
	}
	ok = copy_mapped(mm, addr, buf, ok, to_app);
	pthread_rwlock_unlock(&mm->lock);
	return ok == n ? 0 : -EFAULT;
}

int copy_in(struct mm *mm, void *dst, uint64_t src, size_t n)
{
	return copy_app(mm, src, dst, n, PROT_READABLE, false);
}

int copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
	return copy_app(mm, dst, (void *)src, n, LINUX_PROT_WRITE, true);
}

int copy_out_force(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
	return copy_app(mm, dst, (void *)src, n, 0, true);
}

long copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max)
{
	size_t done = 0;
	long r = -ENAMETOOLONG;
	uint64_t grown_at = 0;

	if (!mm)
		return -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	while (done < max) {
		const struct vma *v = lookup(mm, src);
		bool grow = false;
		uint64_t lim = v ? vma_access_end(v, src, &grow) : 0;
		if (v && lim <= src && grow && grown_at != src + 1) {
			/* A private file mapping not filled that far yet (a string literal in a
			 * lazily filled library): fill it under the write lock, then look again. */
			pthread_rwlock_unlock(&mm->lock);
			pthread_rwlock_wrlock(&mm->lock);
			mm_file_grow(mm, src, 1, false);
			pthread_rwlock_unlock(&mm->lock);
			pthread_rwlock_rdlock(&mm->lock);
			grown_at = src + 1; /* once per place: a failed fill is EFAULT */
			continue;
		}
		if (!v || !(v->prot & PROT_READABLE) || lim <= src) {
			r = -EFAULT;
			break;
		}
		size_t chunk = (size_t)MIN((uint64_t)(max - done), lim - src);
		const char *p = NULL;
		if (!vma_filemap(v))
			p = host_ptr(v, src, chunk, &chunk);
		if (vma_filemap(v)) {
			/* Through the file's pages, into dst (the NUL search follows). */
			chunk = filemap_copy(v->fm, v->foff + (src - v->start), dst + done, chunk,
					     false);
			if (!chunk) {
				r = -EFAULT;
				break;
			}
			p = dst + done;
		}
		const char *nul = memchr(p, 0, chunk);
		if (nul) {
			memmove(dst + done, p, (size_t)(nul - p) + 1);
			r = (long)(done + (size_t)(nul - p));
			break;
		}
		memmove(dst + done, p, chunk);
		done += chunk;
		src += chunk;
		if (!src) {
			r = -EFAULT; /* wrapped past the top of the address space */
			break;
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

void strv_free(char **v) { free(v); }

/* copy_in_strv's first buffer for the strings: most argument lists fit. */
#define STRV_FIRST 4096

int copy_in_strv(struct mm *mm, uint64_t addr, char ***out, size_t *total, size_t max_total)
{
	_cleanup_free_ uint64_t *ptrs = NULL;
	_cleanup_free_ char *strs = NULL;
	size_t n = 0, cap = 0, used = 0, budget;
	int r;

	*out = NULL;
	/* The pointers, up to the NULL; each costs a pointer's worth of the budget. */
	for (;; n++) {
		uint64_t p = 0;
		if (addr && (r = copy_in(mm, &p, addr + n * sizeof(p), sizeof(p))) < 0)
			return r;
		if (!p)
			break;
		if (n >= (size_t)INT32_MAX || *total + (n + 1) * sizeof(p) > max_total)
			return -E2BIG;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *np = realloc(ptrs, cap * sizeof(*ptrs));
			if (!np)
				return -ENOMEM;
			ptrs = np;
		}
		ptrs[n] = p;
	}
	budget = max_total - *total - n * sizeof(uint64_t);
	/* The strings, each at most MM_ARG_STRLEN with its NUL, into one buffer that grows (by
	 * doubling, up to the budget) when a string does not fit: one sized for the worst case
	 * (~2 MiB) was an mmap and a munmap a call, whose TLB shootdown reaches every CPU the
	 * Sentry's threads run on (~35 us of each execve's 0.3 ms). */
	size_t scap = MIN(budget, (size_t)STRV_FIRST) + 1;
	strs = malloc(scap);
	if (!strs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t room = budget - used;
		size_t max = MIN(room, (size_t)MM_ARG_STRLEN);
		long len;
		for (;;) {
			size_t fits = MIN(max, scap - used);
			len = copy_in_str(mm, strs + used, ptrs[i], fits);
			if (len != -ENAMETOOLONG || fits == max)
				break;
			size_t ncap = MIN(MAX(2 * scap, used + max + 1), budget + 1);
			char *ns = realloc(strs, ncap);
			if (!ns)
				return -ENOMEM;
			strs = ns;
			scap = ncap;
		}
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return (int)len;
		ptrs[i] = used; /* now an offset into strs */
		used += (size_t)len + 1;
	}
	/* One block: the pointer array, then the strings. */
	char **v = malloc((n + 1) * sizeof(char *) + used);
	if (!v)
		return -ENOMEM;
	char *sp = (char *)(v + n + 1);
	memcpy(sp, strs, used);
	for (size_t i = 0; i < n; i++)
		v[i] = sp + ptrs[i];
	v[n] = NULL;
	*total += n * sizeof(uint64_t) + used;
	*out = v;
	return (int)n;
}
