/* Rewriting application code in place, for syscall patching (sentry/kernel/syspatch.c) and
 * cpuid's (cpuid.c). */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

/* Mappings whose pages are not this mm's private copy: shared memory, a file's own pages, a
 * shared mapping served as a copy (still shown as shared). */
#define VMA_NOT_PRIVATE (VMA_SHARED | VMA_FILEMAP | VMA_SHARED_COPY)

int mm_code_rewrite_locked(struct mm *mm, uint64_t addr, const uint8_t *expect, const uint8_t *repl,
			   size_t n, size_t trap_at)
{
	const struct vma *v;
	uint64_t moff;
	size_t i;
	int r = -EFAULT;

	if (!mm || n < 2 || n > 16 || trap_at == 0 || trap_at >= n || range_overflows(addr, n))
		return -EINVAL;
	i = vma_index(mm, addr);
	if (i >= mm->n || mm->v[i].start > addr || addr + n > mm->v[i].end)
		goto out; /* unmapped, or across two mappings */
	v = &mm->v[i];
	/* Not writable either: the program could be writing the bytes between our compare and our
	 * stores (a JIT), and its write would be lost. Changing that takes mprotect, which waits
	 * for the lock we hold. */
	r = -EACCES;
	if ((v->flags & VMA_NOT_PRIVATE) || !(v->prot & LINUX_PROT_EXEC) ||
	    (v->prot & LINUX_PROT_WRITE) || addr + n > vma_valid_end(v))
		goto out;
	/* Another mm may hold the page (or the two a site spans) since a fork: this mm's copy
	 * first. */
	uint64_t first = PAGE_ALIGN_DOWN(addr), split = PAGE_ALIGN_UP(addr + 1);
	if ((r = mm_cow_break(mm, first, PAGE_ALIGN_UP(addr + n) - first)) < 0)
		goto out;
	v = &mm->v[vma_index(mm, addr)];
	/* Where each byte is in the memory file: the two pages' backings need not be adjacent. */
	uint8_t *p[16];
	for (i = 0; i < n; i++) {
		uint64_t a = addr + i;
		if (i == 0 || a == split) {
			if (vma_run(v, a, a + 1, &moff, NULL) < a + 1) {
				r = -EFAULT;
				goto out;
			}
			moff -= i;
		}
		p[i] = (uint8_t *)memfile_base + moff + i;
	}
	r = -EAGAIN;
	for (i = 0; i < n; i++)
		if (*p[i] != expect[i])
			goto out; /* changed under us (another thread patched it, or the program did) */
	/* Other threads may be running this code: the byte at trap_at first, then the rest but
	 * the first, then the first, each step visible before the next. */
	__atomic_store_n(p[trap_at], repl[trap_at], __ATOMIC_SEQ_CST);
	for (size_t k = 1; k < n; k++)
		if (k != trap_at)
			__atomic_store_n(p[k], repl[k], __ATOMIC_SEQ_CST);
	__atomic_store_n(p[0], repl[0], __ATOMIC_SEQ_CST);
	r = 0;
out:
	return r;
}

int mm_code_rewrite(struct mm *mm, uint64_t addr, const uint8_t *expect, const uint8_t *repl,
		    size_t n, size_t trap_at)
{
	if (!mm)
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	int r = mm_code_rewrite_locked(mm, addr, expect, repl, n, trap_at);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
