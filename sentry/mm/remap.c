/* mremap (resize and move mappings, re-using their memory-file pages) and madvise. */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/vfs.h"

/* The end of the run of compatible VMAs (one Linux VMA) that starts with v[i]. */
static uint64_t run_end(const struct mm *mm, size_t i)
{
	while (i + 1 < mm->n && vma_compatible(&mm->v[i], &mm->v[i + 1]))
		i++;
	return mm->v[i].end;
}

int mm_refill(struct mm *mm, uint64_t start, uint64_t end, bool plat)
{
	for (size_t i = vma_index(mm, start); i < mm->n && mm->v[i].start < end; i++) {
		struct vma *v = &mm->v[i];
		uint64_t len = vma_len(v), moff;
		int r;
		if (v->flags & VMA_SHARED)
			continue;
		if (vma_exclusive_range(v, v->start, v->end, NULL)) {
			/* Ours alone: zero in place, the platform mapping stays valid. */
			for (uint64_t a = v->start, re; a < v->end; a = re) {
				re = vma_run(v, a, v->end, &moff, NULL);
				memfile_zero(moff, re - a);
				if (v->file &&
				    (r = mm_fill_from_file(v->file, v->foff + (a - v->start), moff,
							   re - a)) < 0)
					return r;
			}
			continue;
		}
		if ((r = memfile_alloc(len, &moff)) < 0)
			return r;
		if (v->file && (r = mm_fill_from_file(v->file, v->foff, moff, len)) < 0) {
			memfile_free(moff, len);
			return r;
		}
		/* Fresh pages are ours alone: no copy-on-write, no per-page map. */
		struct vma old = *v;
		v->pm = NULL;
		v->pmi = 0;
		v->moff = moff;
		v->flags &= ~VMA_COW;
		v->excl = v->start;
		if (plat && (r = vma_plat_map(mm, v, v->start, v->end)) < 0) {
			*v = old;
			memfile_free(moff, len);
			return r;
		}
		vma_unref_range(&old, old.start, old.end);
		vma_pgmap_put(&old);
	}
	return 0;
}

/*
 * Move the VMAs of [old, old+len) to new_addr (a free range), keeping their memory-file pages:
 * no copy. With keep_old (MREMAP_DONTUNMAP) the old range stays mapped: shared memory keeps
 * sharing the pages, private memory starts over (zeros or the file). old and len are page
 * aligned, len may be 0 (nothing moves). 0 or -errno, with nothing changed on -ENOMEM.
 */
static int move_range(struct mm *mm, uint64_t old, uint64_t len, uint64_t new_addr, bool keep_old)
{
	uint64_t end = old + len;
	if (!len)
		return 0;
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, old);
	vma_split(mm, end);
	size_t i = vma_index(mm, old), j = i;
	while (j < mm->n && mm->v[j].start < end)
		j++;
	size_t count = j - i;
	struct vma *moved = malloc(count * sizeof(*moved));
	if (!moved || vma_reserve(mm, count) < 0) {
		free(moved);
		return -ENOMEM;
	}
	if (keep_old) {
		/* The old VMAs stay; the new ones need their own references (and maps). */
		for (size_t k = 0; k < count; k++) {
			const struct vma *v = &mm->v[i + k];
			if (vma_clone(v, v->start, v->end, &moved[k]) < 0) {
				while (k-- > 0)
					vma_release(&moved[k]);
				free(moved);
				return -ENOMEM;
			}
		}
	} else {
		memcpy(moved, &mm->v[i], count * sizeof(*moved));
		vma_remove(mm, i, count);
		mm_plat_unmap(mm, old, len);
	}
	size_t at = vma_index(mm, new_addr);
	for (size_t k = 0; k < count; k++) {
		struct vma *nv = &moved[k];
		nv->start = nv->start - old + new_addr;
		nv->end = nv->end - old + new_addr;
		nv->excl = nv->start;
		vma_insert(mm, at + k, nv);
		int r = vma_plat_map(mm, nv, nv->start, nv->end);
		if (r < 0)
			log_warn("mm: platform map %#lx during mremap: %d",
				 (unsigned long)nv->start, r);
	}
	free(moved);
	mm->cache = 0;
	vma_merge_range(mm, at, at + count);
	if (keep_old) {
		int r = mm_refill(mm, old, end, true);
		if (r < 0)
			log_warn("mm: refreshing %#lx after MREMAP_DONTUNMAP: %d",
				 (unsigned long)old, r);
		i = vma_index(mm, old);
		vma_merge_range(mm, i, i + count);
	}
	return 0;
}

/*
 * Share [old, old+len) (old_len 0: Linux's "duplicate a shared mapping") at new_addr: the new
 * VMAs map the same pages. Only for shared VMAs; len may reach past the run (fresh pages there).
 */
static int duplicate_shared(struct mm *mm, size_t vi, uint64_t old, uint64_t new_addr, uint64_t len)
{
	uint64_t have = MIN(len, run_end(mm, vi) - old);
	uint64_t done = 0;
	struct vma tmpl = mm->v[vi];
	/* What lies past the run continues the file offsets, if any. */
	tmpl.foff += (old - tmpl.start) + have;
	tmpl.start = new_addr + have;
	while (done < have) {
		struct vma *v = vma_lookup(mm, old + done);
		uint64_t piece = MIN(have - done, v->end - (old + done));
		struct vma nv;
		if (vma_reserve(mm, 2) < 0)
			return -ENOMEM;
		v = vma_lookup(mm, old + done);
		if (vma_clone(v, old + done, old + done + piece, &nv) < 0)
			return -ENOMEM;
		v->excl = v->start; /* its pages are shared now */
		nv.start = new_addr + done;
		nv.end = nv.start + piece;
		nv.excl = nv.start;
		size_t at = vma_index(mm, nv.start);
		vma_insert(mm, at, &nv);
		vma_plat_map(mm, &mm->v[at], nv.start, nv.end);
		vma_merge_range(mm, at, at);
		done += piece;
	}
	if (done < len)
		return mm_map_fresh(mm, &tmpl, new_addr + done, len - done);
	return 0;
}

long mm_mremap(struct mm *mm, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	const int known = LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED | LINUX_MREMAP_DONTUNMAP;
	bool implies_new = flags & (LINUX_MREMAP_FIXED | LINUX_MREMAP_DONTUNMAP);
	long r;

	/* check_mremap_params, in Linux's order. */
	if (flags & ~known)
		return -EINVAL;
	if (!IS_PAGE_ALIGNED(old))
		return -EINVAL;
	old_len = PAGE_ALIGN_UP(old_len);
	new_len = PAGE_ALIGN_UP(new_len);
	if (!new_len)
		return -EINVAL;
	if (new_len > mm->max_addr || new_addr > mm->max_addr - new_len)
		return -EINVAL;
	if (implies_new) {
		if (!IS_PAGE_ALIGNED(new_addr))
			return -EINVAL;
		if (!(flags & LINUX_MREMAP_MAYMOVE))
			return -EINVAL;
		if ((flags & LINUX_MREMAP_DONTUNMAP) && old_len != new_len)
			return -EINVAL;
		if (old + old_len > new_addr && new_addr + new_len > old)
			return -EINVAL;
	}

	pthread_rwlock_wrlock(&mm->lock);
	if (mm->ncpuid) /* a moved or grown mapping's rewritten cpuids are put back first */
		mm_cpuid_forget_locked(mm, old, old + old_len, true);
	if (vma_reserve(mm, 4) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* check_prep_vma */
	struct vma *v = vma_lookup(mm, old);
	if (!v) {
		r = -EFAULT;
		goto out;
	}
	size_t vi = (size_t)(v - mm->v);
	/* Linux's VM_MAYSHARE: a read-only MAP_SHARED of a file served as a copy counts too */
	bool shared = v->flags & (VMA_SHARED | VMA_SHARED_COPY);
	if (!implies_new)
		new_addr = old;
	if (new_len > old_len || implies_new) {
		if (!old_len && !shared) {
			r = -EINVAL; /* duplicating a private mapping makes no sense */
			goto out;
		}
		if (old_len > run_end(mm, vi) - old) {
			r = -EFAULT; /* cannot span Linux VMAs */
			goto out;
		}
	}

	if (flags & LINUX_MREMAP_FIXED) {
		mm_unmap_range(mm, new_addr, new_addr + new_len, true);
		v = vma_lookup(mm, old);
		if (!v) {
			r = -EFAULT;
			goto out;
		}
		vi = (size_t)(v - mm->v);
	}

	if (!implies_new) {
		if (new_len == old_len) {
			r = (long)old;
			goto out;
		}
		if (new_len < old_len) {
			mm_unmap_range(mm, old + new_len, old + old_len, true);
			r = (long)old;
			goto out;
		}
		/* Grow in place when [old, old+old_len) ends its run and what follows is free. */
		uint64_t end = run_end(mm, vi);
		if (old_len && old + old_len == end && old + new_len > old &&
		    vma_range_free(mm, end, old + new_len, false)) {
			size_t last = vma_index(mm, end - 1);
			struct vma tmpl = mm->v[last];
			r = mm_map_fresh(mm, &tmpl, end, old + new_len - end);
			if (r == 0)
				r = (long)old;
			goto out;
		}
		if (!(flags & LINUX_MREMAP_MAYMOVE)) {
			r = -ENOMEM;
			goto out;
		}
		r = vma_find_free(mm, old, new_len, shared ? LINUX_MAP_SHARED : 0);
		if (r < 0)
			goto out;
		new_addr = (uint64_t)r;
	} else {
		if (new_len < old_len) {
			mm_unmap_range(mm, old + new_len, old + old_len, true);
			old_len = new_len;
		}
		if (!(flags & LINUX_MREMAP_FIXED)) {
			r = vma_find_free(mm, new_addr, new_len, shared ? LINUX_MAP_SHARED : 0);
			if (r < 0)
				goto out;
			new_addr = (uint64_t)r;
		}
	}

	/* Move (or duplicate), then grow the tail with fresh pages. */
	v = vma_lookup(mm, old);
	vi = (size_t)(v - mm->v);
	if (!old_len) {
		r = duplicate_shared(mm, vi, old, new_addr, new_len);
		r = r < 0 ? r : (long)new_addr;
		goto out;
	}
	uint64_t tail_at = old + old_len - 1;
	struct vma tmpl = *vma_lookup(mm, tail_at);
	tmpl.foff += old + old_len - tmpl.start; /* the file offset where a grown tail starts */
	tmpl.start = new_addr + old_len;
	r = move_range(mm, old, old_len, new_addr, flags & LINUX_MREMAP_DONTUNMAP);
	if (r < 0)
		goto out;
	if (new_len > old_len) {
		r = mm_map_fresh(mm, &tmpl, new_addr + old_len, new_len - old_len);
		if (r < 0)
			goto out;
	}
	r = (long)new_addr;
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

/* Is advice one Linux knows? (madvise_behavior_valid) */
static bool advice_valid(int advice)
{
	switch (advice) {
	case 0 ... 4:	  /* NORMAL RANDOM SEQUENTIAL WILLNEED DONTNEED */
	case 8 ... 25:	  /* FREE REMOVE DONTFORK DOFORK MERGEABLE UNMERGEABLE HUGEPAGE NOHUGEPAGE
			   * DONTDUMP DODUMP WIPEONFORK KEEPONFORK COLD PAGEOUT POPULATE_READ
			   * POPULATE_WRITE DONTNEED_LOCKED COLLAPSE */
	case 100 ... 103: /* HWPOISON SOFT_OFFLINE GUARD_INSTALL GUARD_REMOVE */
		return true;
	default:
		return false;
	}
}

#define MADV_REMOVE 9
#define MADV_DONTFORK 10
#define MADV_DOFORK 11
#define MADV_WIPEONFORK 18
#define MADV_KEEPONFORK 19
#define MADV_DONTNEED_LOCKED 24
#define MADV_HWPOISON 100
#define MADV_SOFT_OFFLINE 101
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103

long mm_madvise(struct mm *mm, uint64_t start, uint64_t len_in, int advice)
{
	uint64_t len, end, cur;
	long r = 0;

	if (!advice_valid(advice))
		return -EINVAL;
	if (!IS_PAGE_ALIGNED(start))
		return -EINVAL;
	len = PAGE_ALIGN_UP(len_in);
	if (len_in && !len)
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (advice == MADV_HWPOISON || advice == MADV_SOFT_OFFLINE)
		return -EPERM; /* needs CAP_SYS_ADMIN on the host */
	if (advice == MADV_GUARD_INSTALL || advice == MADV_GUARD_REMOVE)
		return -EINVAL; /* not emulated: what kernels before 6.13 answer */

	pthread_rwlock_wrlock(&mm->lock);
	if (vma_reserve(mm, 2) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* Each VMA gets the advice; holes make the call fail with ENOMEM after the rest is done. */
	bool hole = false;
	cur = start;
	for (size_t i = vma_index(mm, start); cur < end; i++) {
		if (i >= mm->n || mm->v[i].start >= end) {
			hole = true;
			break;
		}
		struct vma *v = &mm->v[i];
		if (v->start > cur)
			hole = true;
		uint64_t s = MAX(v->start, start), e = MIN(v->end, end);
		bool anon_private = !v->file && !(v->flags & VMA_SHARED);
		cur = v->end;
		switch (advice) {
		case LINUX_MADV_FREE:
			if (!anon_private) {
				r = -EINVAL;
				goto out;
			}
			/* Dropping the pages now is one valid MADV_FREE. */
			/* fallthrough */
		case LINUX_MADV_DONTNEED:
		case MADV_DONTNEED_LOCKED:
			if (v->flags & VMA_SHARED)
				break; /* shared memory keeps its contents */
			vma_split(mm, s);
			vma_split(mm, e);
			r = mm_refill(mm, s, e, true);
			if (r < 0)
				goto out;
			i = vma_index(mm, e - 1);
			break;
		case MADV_REMOVE:
			if (!(v->flags & (VMA_SHARED | VMA_SHARED_COPY))) {
				r = -EINVAL;
				goto out;
			}
			if (!(v->flags & VMA_SHARED) || !(v->prot & LINUX_PROT_WRITE)) {
				r = -EACCES;
				goto out;
			}
			/* Punch the shared pages: every mapping of them sees zeros. */
			if (vma_filemap(v)) {
				filemap_punch(v->fm, v->foff + (s - v->start), e - s);
				mm_apply_zaps_locked(mm); /* our own mappings of them, now */
				i = vma_index(mm, e - 1);
			} else {
				memfile_zero(v->moff + (s - v->start), e - s);
			}
			break;
		case MADV_WIPEONFORK:
		case MADV_KEEPONFORK:
		case MADV_DONTFORK:
		case MADV_DOFORK: {
			int flag = advice == MADV_DONTFORK || advice == MADV_DOFORK
				       ? VMA_DONTFORK
				       : VMA_WIPEONFORK;
			bool set = advice == MADV_DONTFORK || advice == MADV_WIPEONFORK;
			if (advice == MADV_WIPEONFORK && !anon_private) {
				r = -EINVAL;
				goto out;
			}
			vma_split(mm, s);
			vma_split(mm, e);
			for (size_t k = vma_index(mm, s); k < mm->n && mm->v[k].start < e; k++) {
				if (set)
					mm->v[k].flags |= flag;
				else
					mm->v[k].flags &= ~flag;
			}
			i = vma_index(mm, e - 1);
			break;
		}
		default:
			break; /* hints */
		}
	}
	if (hole)
		r = -ENOMEM;
	vma_merge_range(mm, vma_index(mm, start), vma_index(mm, end));
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
