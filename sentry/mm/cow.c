/* Copy-on-write: fork of an address space, page faults, and breaking copy-on-write. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/vfs.h"

/*
 * How it works. A fork gives the child a copy of every VMA holding one more reference to the
 * same memory-file pages (memfile_incref: one range operation per VMA, no per-page work) and
 * marks the private ones VMA_COW in both mms; the parent's writable ones are write-protected
 * in its platform address space (one as_protect per VMA), the child's are mapped read-only
 * when it is activated. A write then faults (or a copy_out meets a VMA_COW VMA), and the
 * COW_CHUNK-aligned piece around the address is made private: if this mm holds the only
 * reference to the whole VMA (the other side exited or exec'd) the whole VMA is just
 * re-protected; if it holds the only reference to the chunk it is re-protected; otherwise the
 * chunk is copied to fresh pages, which are mapped in place of the shared ones.
 *
 * Why chunks that split VMAs rather than a page map per VMA: a VMA keeps one contiguous
 * backing range, which every other operation (mremap, madvise, copy_in) already relies on,
 * and a broken chunk becomes its own VMA piece. The fresh pages are allocated right after (or
 * before) the backing of an already-broken neighbour where possible, so the pieces merge
 * again: a process that rewrites its memory in order ends up with one VMA, not one per chunk.
 * Random writes leave at most one piece per 64 KiB chunk touched; the pieces are internal
 * (/proc/PID/maps and mremap see the Linux VMA, see vma_compatible). Lookups stay binary
 * searches; inserting a piece moves the tail of the VMA array (memmove, cheap at these sizes).
 */

/* The VMA at index i is being given fresh pages for [s, e): allocate them contiguous with the
 * backing of a non-COW neighbour that will then merge with it, else anywhere. 0 or -ENOMEM. */
static int alloc_near(struct mm *mm, size_t i, uint64_t len, uint64_t *moff)
{
	const struct vma *v = &mm->v[i];
	if (i > 0) {
		const struct vma *p = &mm->v[i - 1];
		if (!(p->flags & VMA_COW) && vma_compatible(p, v) &&
		    memfile_alloc_at(p->moff + vma_len(p), len) == 0) {
			*moff = p->moff + vma_len(p);
			return 0;
		}
	}
	if (i + 1 < mm->n) {
		const struct vma *nx = &mm->v[i + 1];
		if (!(nx->flags & VMA_COW) && vma_compatible(v, nx) && nx->moff >= len &&
		    memfile_alloc_at(nx->moff - len, len) == 0) {
			*moff = nx->moff - len;
			return 0;
		}
	}
	return memfile_alloc(len, moff);
}

/* Copy len bytes of the memory file from src to the fresh pages at dst. pwrite fills the new
 * pages without faulting them into the Sentry and zeroing them first, as a memcpy would. */
static void copy_pages(uint64_t dst, uint64_t src, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n =
		    pwrite(memfile_fd(), memfile_ptr(src + done), len - done, (off_t)(dst + done));
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	if (done < len)
		memcpy(memfile_ptr(dst + done), memfile_ptr(src + done), len - done);
}

/* Clear VMA_COW on v and give the platform its full protection. 0 or -ENOMEM (unchanged). */
static int cow_reprotect(struct mm *mm, struct vma *v)
{
	int old = vma_plat_prot(v);
	v->flags &= ~VMA_COW;
	if (vma_plat_prot(v) == old)
		return 0;
	int r = vma_plat_reprotect(mm, v);
	if (r < 0) {
		log_warn("mm: platform protect %#lx breaking copy-on-write: %d",
			 (unsigned long)v->start, r);
		v->flags |= VMA_COW;
		return -ENOMEM;
	}
	return 0;
}

/* Make [s, e) (page aligned, inside the VMA copy-on-write VMA at index i) private. May split
 * and merge VMAs. Write lock held. 0 or -ENOMEM. */
static int cow_break_one(struct mm *mm, size_t i, uint64_t s, uint64_t e)
{
	struct vma *v = &mm->v[i];
	uint64_t len = e - s, moff;
	int r;

	/* The common case after fork+exec or an exited child: nobody else holds any of it. */
	if (memfile_exclusive(v->moff, vma_len(v))) {
		r = cow_reprotect(mm, v);
		if (r == 0) {
			mm->cow_gen++;
			vma_merge_range(mm, i, i);
		}
		return r;
	}
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, s);
	vma_split(mm, e);
	i = vma_index(mm, s);
	v = &mm->v[i];
	if (memfile_exclusive(v->moff, len)) {
		r = cow_reprotect(mm, v);
	} else if ((r = alloc_near(mm, i, len, &moff)) == 0) {
		/* The copy reads the shared pages while the other mm may read them too; nobody
		 * writes them: every holder maps them read-only. */
		uint64_t old = v->moff;
		copy_pages(moff, old, len);
		v->moff = moff;
		v->flags &= ~VMA_COW;
		r = vma_plat_map(mm, v, s, e);
		if (r < 0) {
			log_warn("mm: platform map %#lx breaking copy-on-write: %d",
				 (unsigned long)s, r);
			v->moff = old;
			v->flags |= VMA_COW;
			memfile_free(moff, len);
			r = -ENOMEM;
		} else {
			memfile_decref(old, len);
		}
	}
	if (r == 0)
		mm->cow_gen++;
	vma_merge_range(mm, i, i);
	return r;
}

/* The COW_CHUNK-aligned piece around [addr, addr+len) clipped to v: what one break copies. */
static void chunk_of(const struct vma *v, uint64_t addr, uint64_t len, uint64_t *s, uint64_t *e)
{
	uint64_t lo = addr & ~(COW_CHUNK - 1);
	uint64_t hi = (addr + len + COW_CHUNK - 1) & ~(COW_CHUNK - 1);
	*s = MAX(v->start, lo);
	*e = hi < addr ? v->end : MIN(v->end, hi); /* hi wraps at the top of the range */
}

int mm_cow_break(struct mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	for (uint64_t cur = addr; cur < end;) {
		size_t i = vma_index(mm, cur);
		if (i >= mm->n || mm->v[i].start >= end)
			break;
		const struct vma *v = &mm->v[i];
		uint64_t next = v->end, s, e;
		if (v->flags & VMA_COW) {
			chunk_of(v, MAX(cur, v->start), MIN(end, v->end) - MAX(cur, v->start), &s,
				 &e);
			int r = cow_break_one(mm, i, s, e);
			if (r < 0)
				return r;
		}
		cur = next;
	}
	return 0;
}

/*
 * A process that rewrites its memory in order (memset, a copying GC, a growing buffer) faults
 * chunk after chunk at the edge of what it already made private. When the fault's chunk [s, e)
 * touches such a private neighbour, take as much again as the neighbour holds, up to
 * COW_CHUNK_MAX: the chunks grow geometrically, so a rewrite of n bytes takes O(log n) faults
 * more than n / COW_CHUNK_MAX, and copies at most about twice what was written.
 */
static void grow_sequential(struct mm *mm, const struct vma *v, uint64_t *s, uint64_t *e)
{
	size_t i = (size_t)(v - mm->v);
	if (*s == v->start && i > 0) {
		const struct vma *p = &mm->v[i - 1];
		if (p->end == v->start && !(p->flags & VMA_COW) && vma_compatible(p, v)) {
			uint64_t want = MIN(MAX(vma_len(p), COW_CHUNK), COW_CHUNK_MAX);
			*e = MIN(v->end, MAX(*e, *s + want));
		}
	}
	if (*e == v->end && i + 1 < mm->n) {
		const struct vma *nx = &mm->v[i + 1];
		if (nx->start == v->end && !(nx->flags & VMA_COW) && vma_compatible(v, nx)) {
			uint64_t want = MIN(MAX(vma_len(nx), COW_CHUNK), COW_CHUNK_MAX);
			*s = MAX(v->start, MIN(*s, *e > want ? *e - want : 0));
		}
	}
}

/* The last fault this thread could not explain (see mm_handle_fault). */
static __thread struct {
	struct mm *mm;
	uint64_t addr, gen;
} unexplained;

int mm_handle_fault(struct mm *mm, uint64_t addr, int access)
{
	int r = 0;

	if (!mm)
		return -EFAULT;
	pthread_rwlock_wrlock(&mm->lock);
	mm_apply_zaps_locked(mm);
	struct vma *v = vma_lookup(mm, addr);
	if (!v) {
		r = -EFAULT;
		goto out;
	}
	int prot = v->prot;
	bool cow_write = (v->flags & VMA_COW) && (prot & LINUX_PROT_WRITE);
	/* x86: every mapped page that is not PROT_NONE is readable. */
	bool denied = (access & LINUX_PROT_WRITE)  ? !(prot & LINUX_PROT_WRITE)
		      : (access & LINUX_PROT_EXEC) ? !(prot & LINUX_PROT_EXEC)
						   : prot == LINUX_PROT_NONE;
	if (denied) {
		r = -EACCES;
		goto out;
	}
	/* A file mapping: past the end of the file is SIGBUS; a hole of a shared one, or a page
	 * of a private one that the file has grown into, is made present. */
	if (v->file) {
		r = mm_file_fault(mm, (size_t)(v - mm->v), addr);
		if (r != 1)
			goto out;
		r = 0;
		v = vma_lookup(mm, addr);
	}
	/* A fault on a present copy-on-write page of a writable VMA: a write (when the access is
	 * unknown, it can also be an instruction fetch from a non-executable page; that one
	 * faults again once the page is private, and is answered below). */
	if (cow_write && (!access || (access & LINUX_PROT_WRITE))) {
		uint64_t s, e;
		chunk_of(v, PAGE_ALIGN_DOWN(addr), PAGE_SIZE, &s, &e);
		grow_sequential(mm, v, &s, &e);
		r = cow_break_one(mm, (size_t)(v - mm->v), s, e);
		if (r < 0)
			log_warn("mm: out of memory breaking copy-on-write at %#lx",
				 (unsigned long)addr);
		goto out;
	}
	/*
	 * The VMA allows what we know of the access, and the platform should map it so. Either
	 * another thread made the page writable while this fault was on its way (it broke
	 * copy-on-write, or mprotect'ed), or the access was one the VMA forbids but the platform
	 * could not name (a write to a read-only page, a fetch from a non-executable one), or
	 * (file mappings) the page is valid but was never mapped here: a shared file's page
	 * another process or write(2) filled in, a private one copied in by copy_in/copy_out.
	 * Map it and retry once; the same fault again with nothing changed in between is the
	 * real thing.
	 */
	if (unexplained.mm == mm && unexplained.addr == addr && unexplained.gen == mm->cow_gen) {
		unexplained.mm = NULL;
		r = -EACCES;
		goto out;
	}
	if (v->file && !vma_filemap(v)) /* (mm_file_fault mapped a shared one's already) */
		vma_plat_map(mm, v, PAGE_ALIGN_DOWN(addr), PAGE_ALIGN_DOWN(addr) + PAGE_SIZE);
	unexplained.mm = mm;
	unexplained.addr = addr;
	unexplained.gen = mm->cow_gen;
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

struct mm *mm_fork(struct mm *parent)
{
	struct mm *c = mm_alloc(parent->plat);
	if (!c)
		return NULL;
	pthread_rwlock_wrlock(&parent->lock);
	mm_apply_zaps_locked(parent);
	/* Registered first: a truncation from now on queues its zap on the child too. */
	for (size_t k = 0; k < parent->nfmaps; k++)
		if (filemap_register(c, parent->fmaps[k]) < 0)
			goto fail;
	c->min_addr = parent->min_addr;
	c->max_addr = parent->max_addr;
	c->mmap_base = parent->mmap_base;
	c->brk_start = parent->brk_start;
	c->brk = parent->brk;
	c->args = parent->args;
	if (vma_reserve(c, parent->n) < 0)
		goto fail;
	for (size_t i = 0; i < parent->n; i++) {
		struct vma *v = &parent->v[i];
		struct vma nv = *v;
		uint64_t len = vma_len(v);
		if (v->flags & VMA_DONTFORK)
			continue;
		if (v->flags & VMA_WIPEONFORK) {
			/* Anonymous private memory only (madvise checks): the child gets zeros. */
			if (memfile_alloc(len, &nv.moff) < 0)
				goto fail;
			nv.flags &= ~VMA_COW;
		} else if (vma_filemap(v)) {
			/* The file's pages, shared for real; nothing to count. */
		} else {
			if (memfile_incref(v->moff, len) < 0)
				goto fail;
			if (!(v->flags & VMA_SHARED)) {
				nv.flags |= VMA_COW;
				if (!(v->flags & VMA_COW)) {
					int old = vma_plat_prot(v);
					v->flags |= VMA_COW;
					if (vma_plat_prot(v) != old &&
					    vma_plat_reprotect(parent, v) < 0) {
						/* A writable parent page would leak into the
						 * child: fail the fork. */
						v->flags &= ~VMA_COW;
						memfile_decref(v->moff, len);
						goto fail;
					}
				}
			}
		}
		if (nv.file)
			file_get(nv.file);
		c->v[c->n++] = nv;
	}
	/* Pieces split by earlier copy-on-write breaks may be one VMA again. */
	vma_merge_range(parent, 0, parent->n);
	vma_merge_range(c, 0, c->n);
	pthread_rwlock_unlock(&parent->lock);
	return c;

fail:
	pthread_rwlock_unlock(&parent->lock);
	mm_put(c); /* releases what the child got so far; the parent's VMAs may stay VMA_COW */
	return NULL;
}
