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

/* The Sentry's pointer to application address addr inside v. */
static inline char *host_ptr(const struct vma *v, uint64_t addr)
{
	return memfile_base + v->moff + (addr - v->start);
}

/* How many bytes of [addr, addr+n) are mapped with one of the bits of need (0: only mapped),
 * from addr on; *cow is set when a copy-on-write VMA lies within them. Lock held. */
static size_t accessible(struct mm *mm, uint64_t addr, size_t n, int need, bool *cow)
{
	size_t ok = 0;
	*cow = false;
	while (ok < n) {
		const struct vma *v = lookup(mm, addr + ok);
		if (!v || (need && !(v->prot & need)))
			break;
		*cow |= v->flags & VMA_COW;
		ok += (size_t)MIN((uint64_t)(n - ok), v->end - (addr + ok));
	}
	return ok;
}

/* Copy n bytes between buf and [addr, addr+n), every byte of which is accessible. Lock held. */
static void copy_mapped(struct mm *mm, uint64_t addr, void *buf, size_t n, bool to_app)
{
	while (n) {
		const struct vma *v = lookup(mm, addr);
		size_t chunk = (size_t)MIN((uint64_t)n, v->end - addr);
		if (to_app)
			memcpy(host_ptr(v, addr), buf, chunk);
		else
			memcpy(buf, host_ptr(v, addr), chunk);
		buf = (char *)buf + chunk;
		addr += chunk;
		n -= chunk;
	}
}

/*
 * Copy between buf and application memory [addr, addr+n), each byte needing one of the bits of
 * need (0: only mapped). to_app says which way. Like Linux, the bytes before a fault are
 * copied. Writing into copy-on-write pages first makes them private (under the write lock):
 * the Sentry writes through the memory file, so writing a shared page would change the other
 * process's memory.
 */
static int copy_app(struct mm *mm, uint64_t addr, void *buf, size_t n, int need, bool to_app)
{
	bool cow;

	if (!n)
		return 0;
	if (!mm || range_overflows(addr, n))
		return -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	size_t ok = accessible(mm, addr, n, need, &cow);
	if (to_app && cow) {
		/* Again under the write lock: the VMAs may have changed in between. */
		pthread_rwlock_unlock(&mm->lock);
		pthread_rwlock_wrlock(&mm->lock);
		ok = accessible(mm, addr, n, need, &cow);
		if (cow && mm_cow_break(mm, addr, ok) < 0)
			ok = 0; /* out of memory: nothing can be written */
	}
	copy_mapped(mm, addr, buf, ok, to_app);
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

	if (!mm)
		return -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	while (done < max) {
		const struct vma *v = lookup(mm, src);
		if (!v || !(v->prot & PROT_READABLE)) {
			r = -EFAULT;
			break;
		}
		size_t chunk = (size_t)MIN((uint64_t)(max - done), v->end - src);
		const char *p = host_ptr(v, src);
		const char *nul = memchr(p, 0, chunk);
		if (nul) {
			memcpy(dst + done, p, (size_t)(nul - p) + 1);
			r = (long)(done + (size_t)(nul - p));
			break;
		}
		memcpy(dst + done, p, chunk);
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
	/* The strings, into one buffer sized for the worst case (pages not touched cost
	 * nothing), each at most MM_ARG_STRLEN with its NUL. */
	strs = malloc(budget + 1);
	if (!strs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t room = budget - used;
		size_t max = MIN(room, (size_t)MM_ARG_STRLEN);
		long len = copy_in_str(mm, strs + used, ptrs[i], max);
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
