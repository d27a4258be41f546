/* copy_in/copy_out: the Sentry's only access to application memory, through the memory file. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
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

/* Copy between dst/src and application memory [addr, addr+n), each byte needing one of the
 * bits of need (0: only mapped). to_app says which way. */
static int copy_app(struct mm *mm, uint64_t addr, void *buf, size_t n, int need, bool to_app)
{
	int r = 0;

	if (!n)
		return 0;
	if (!mm || range_overflows(addr, n))
		return -EFAULT;
	pthread_rwlock_rdlock(&mm->lock);
	while (n) {
		const struct vma *v = lookup(mm, addr);
		if (!v || (need && !(v->prot & need))) {
			r = -EFAULT;
			break;
		}
		size_t chunk = (size_t)MIN((uint64_t)n, v->end - addr);
		if (to_app)
			memcpy(host_ptr(v, addr), buf, chunk);
		else
			memcpy(buf, host_ptr(v, addr), chunk);
		buf = (char *)buf + chunk;
		addr += chunk;
		n -= chunk;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
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
