/* cpuid rewritten into int3: learning a file's start-up sites, rewriting them at each exec, and
 * keeping the platform's registry of them (docs/platforms.md, "cpuid"). */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/platform.h"

/*
 * Why. glibc's start-up (the dynamic loader's, or a static program's) asks cpuid ~70 times for
 * the CPU's features and cache sizes, and each cpuid is a VM exit where the machine is a VM: ~6
 * us here, ~0.4 ms a process, the same natively. A stub thread answers an int3 from a table of
 * the host's answers in ~1.1 us (platform/systrap/stub.c). So a file's cpuid sites are rewritten
 * (0f a2 -> cc a2) in each process that maps the file, and the platform answers the int3 at
 * those addresses, which it finds in a per-address-space registry.
 *
 * Which sites. Only where a cpuid really ran, never bytes that merely read 0f a2 (they may be
 * inside another instruction): an exec of a file (its LEARN_AT-th in the sandbox) runs its
 * start-up with cpuid faulting on (a learning window, from exec to its first call but brk and
 * arch_prctl: the loader's, or a static libc's, start), and each cpuid that faults there is
 * noted. The notes
 * are taken only in the file the program started in (the entry point's) and only where the
 * bytes are 0f a2, and they describe what that file's own start-up ran: the program's code has
 * not run yet. The sites are kept with the file's page cache and rewritten in every later
 * exec that maps it; a file is learned once (a start-up that ran no cpuid leaves an empty set).
 *
 * Keeping them true. A site is forgotten when its page is unmapped, and put back to cpuid first
 * where the page stays but may change or move (mprotect to writable, mremap). The Sentry's list
 * is the truth: an int3 the platform did not answer is checked against it (mm_cpuid_site) and
 * otherwise delivered as the SIGTRAP it is.
 */

/* A file is learned at the LEARN_AT-th exec that starts in it: learning costs its start-up
 * more than it saves there (each cpuid faults, ~7.7 us), and a program run once (a sandbox of
 * one process) never pays it. */
#define LEARN_AT 2

static const uint8_t k_cpuid[2] = {0x0f, 0xa2}, k_int3[2] = {0xcc, 0xa2};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates; the new count. */
static size_t sort_unique(uint64_t *v, size_t n)
{
	size_t k = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

void mm_cpuid_push_locked(struct mm *mm)
{
	if (mm->as && mm->plat->as_cpuid_sites &&
	    mm->plat->as_cpuid_sites(mm->as, mm->cpuid, mm->ncpuid) < 0)
		log_debug("mm: %zu cpuid sites: the platform holds fewer", mm->ncpuid);
}

/* Add the sites at[n] (rewritten in mm) to its list. Write lock held. */
static void add_sites(struct mm *mm, const uint64_t *at, size_t n)
{
	if (n == 0)
		return;
	uint64_t *v = realloc(mm->cpuid, (mm->ncpuid + n) * sizeof(*v));
	if (!v) {
		/* Unlisted int3s would reach the program as SIGTRAP: put the cpuids back. */
		for (size_t i = 0; i < n; i++)
			mm_code_rewrite_locked(mm, at[i], k_int3, k_cpuid, 2, 1);
		return;
	}
	memcpy(v + mm->ncpuid, at, n * sizeof(*v));
	mm->cpuid = v;
	mm->ncpuid = sort_unique(v, mm->ncpuid + n);
	mm_cpuid_push_locked(mm);
}

/* A mapping of c's file whose code mm may rewrite: private, executable, not writable. */
static bool vma_rewritable(const struct vma *v, const struct mm_fcache *c)
{
	return v->pc == c && !(v->flags & (VMA_SHARED | VMA_FILEMAP | VMA_SHARED_COPY)) &&
	       (v->prot & LINUX_PROT_EXEC) && !(v->prot & LINUX_PROT_WRITE);
}

/* Rewrite cpuid at a (of mm's code, checked by the rewrite) into int3. Write lock held. */
static bool rewrite_locked(struct mm *mm, uint64_t a)
{
	/* A lazily filled mapping of a page cache has its bytes once it is filled there. */
	return mm_file_grow(mm, a, 2, mm->as != NULL) == 0 &&
	       mm_code_rewrite_locked(mm, a, k_cpuid, k_int3, 2, 1) == 0;
}

/* Rewrite c's learned sites in every mapping of it in mm, and list them. Write lock held. */
static void apply_locked(struct mm *mm, const struct mm_fcache *c, const struct mm_cpuid_offs *o)
{
	uint64_t at[256];
	size_t n = 0, k = 0;

	for (size_t i = 0; i < mm->n; i++) {
		const struct vma *v = &mm->v[i];
		if (!vma_rewritable(v, c))
			continue;
		for (size_t j = 0; j < o->n && n < ARRAY_SIZE(at); j++)
			if (o->off[j] >= v->foff && o->off[j] - v->foff + 2 <= vma_len(v))
				at[n++] = v->start + (o->off[j] - v->foff);
	}
	/* (a fill or a rewrite may split the VMAs: the addresses first) */
	for (size_t j = 0; j < n; j++)
		if (rewrite_locked(mm, at[j]))
			at[k++] = at[j];
	add_sites(mm, at, k);
}

/* The page cache of the mapping holding addr, if mm may rewrite its code. Lock held. */
static struct mm_fcache *cache_at(struct mm *mm, uint64_t addr)
{
	size_t i = vma_index(mm, addr);
	if (i >= mm->n || mm->v[i].start > addr || !mm->v[i].pc)
		return NULL;
	return vma_rewritable(&mm->v[i], mm->v[i].pc) ? mm->v[i].pc : NULL;
}

int mm_cpuid_start(struct mm *mm, uint64_t entry)
{
	int r = 0;

	if (!mm->plat->cpuid_answers || !mm->plat->cpuid_answers())
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	struct mm_fcache *c = cache_at(mm, entry);
	if (c) {
		const struct mm_cpuid_offs *o = __atomic_load_n(&c->cpuid, __ATOMIC_ACQUIRE);
		if (o)
			apply_locked(mm, c, o);
		else if (__atomic_add_fetch(&c->cpuid_execs, 1, __ATOMIC_RELAXED) >= LEARN_AT)
			r = 1;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

void mm_cpuid_learned(struct mm *mm, uint64_t entry, const uint64_t *sites, size_t n)
{
	uint64_t at[256];
	size_t k = 0;

	pthread_rwlock_wrlock(&mm->lock);
	struct mm_fcache *c = cache_at(mm, entry);
	if (!c)
		goto out;
	struct mm_cpuid_offs *o =
	    calloc(1, sizeof(*o) + MIN(n, ARRAY_SIZE(at)) * sizeof(o->off[0]));
	if (!o)
		goto out;
	for (size_t j = 0; j < n && k < ARRAY_SIZE(at); j++) {
		uint64_t a = sites[j];
		size_t i = vma_index(mm, a);
		/* In the start-up's file, on one page (the platform reads an int3's a2 byte on the
		 * int3's page), and cpuid there: the rewrite checks the bytes. */
		if (i >= mm->n || mm->v[i].start > a || a + 2 > mm->v[i].end ||
		    !vma_rewritable(&mm->v[i], c) || (a & (PAGE_SIZE - 1)) == PAGE_SIZE - 1)
			continue;
		uint64_t off = mm->v[i].foff + (a - mm->v[i].start);
		if (!rewrite_locked(mm, a))
			continue;
		at[k++] = a;
		o->off[o->n++] = off;
	}
	o->n = sort_unique(o->off, o->n);
	struct mm_cpuid_offs *none = NULL;
	if (!__atomic_compare_exchange_n(&c->cpuid, &none, o, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		free(o); /* another exec learned it meanwhile: its set stays */
	add_sites(mm, at, k);
out:
	pthread_rwlock_unlock(&mm->lock);
}

bool mm_cpuid_site(struct mm *mm, uint64_t addr)
{
	pthread_rwlock_rdlock(&mm->lock);
	bool found =
	    mm->ncpuid && bsearch(&addr, mm->cpuid, mm->ncpuid, sizeof(addr), cmp_u64) != NULL;
	pthread_rwlock_unlock(&mm->lock);
	return found;
}

void mm_cpuid_forget_locked(struct mm *mm, uint64_t s, uint64_t e, bool undo)
{
	size_t k = 0, before = mm->ncpuid;

	for (size_t i = 0; i < before; i++) {
		uint64_t a = mm->cpuid[i];
		if (a < s || a >= e) {
			mm->cpuid[k++] = a;
			continue;
		}
		if (undo)
			mm_code_rewrite_locked(mm, a, k_int3, k_cpuid, 2, 1);
	}
	if (k == before)
		return;
	mm->ncpuid = k;
	mm_cpuid_push_locked(mm);
}

int mm_cpuid_fork_locked(struct mm *child, const struct mm *parent)
{
	if (!parent->ncpuid)
		return 0;
	child->cpuid = malloc(parent->ncpuid * sizeof(*child->cpuid));
	if (!child->cpuid)
		return -ENOMEM;
	/* Those the child maps (not a VMA_DONTFORK one's). */
	for (size_t k = 0; k < parent->ncpuid; k++) {
		uint64_t a = parent->cpuid[k];
		size_t i = vma_index(child, a);
		if (i < child->n && child->v[i].start <= a && a + 2 <= child->v[i].end)
			child->cpuid[child->ncpuid++] = a;
	}
	return 0;
}
