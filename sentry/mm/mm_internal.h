/* Internals of sentry/mm: struct mm, VMAs and the helpers the mm files share. Not for other
 * modules. */
#ifndef SENTRY_MM_MM_INTERNAL_H
#define SENTRY_MM_MM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/linux.h"
#include "platform/platform.h"
#include "sentry/mm/mm.h"

/* The memory file's size: sparse, so only what is touched costs memory. 1 TiB because every VMA
 * is backed eagerly for now, PROT_NONE reservations included. */
#define MEMFILE_SIZE (1ULL << 40)
/* Where the Sentry would like its mapping of it: at 16 TiB, far below everything else. */
#define MEMFILE_HINT (1ULL << 44)

/* The Sentry's mapping of the whole memory file (memfile.c). */
extern char *memfile_base;

/* Linux's stack_guard_gap: mmap leaves this much free below a growsdown mapping. */
#define MM_STACK_GUARD_GAP (256 * 4096ULL)
/* The stack's reserve below the top: mmap searches start below it (Linux: 128 MiB minimum). */
#define MM_STACK_GAP (128ULL << 20)

#define VMA_SHARED 0x1	  /* MAP_SHARED anonymous memory: its pages are the memory, not a copy */
#define VMA_GROWSDOWN 0x2 /* MAP_GROWSDOWN (the stack) */
/* Copy-on-write: private pages that may be shared with another mm since a fork. The platform
 * maps them without PROT_WRITE; the first write (a fault, or a copy_out) copies them, or just
 * re-protects them when nobody else holds them any more. Not part of the Linux-visible VMA. */
#define VMA_COW 0x4
#define VMA_DONTFORK 0x8    /* MADV_DONTFORK: the child of a fork does not get it */
#define VMA_WIPEONFORK 0x10 /* MADV_WIPEONFORK: the child of a fork gets zeros */

/* Copy-on-write is broken in aligned chunks of this size (clipped to the VMA): one fault copies
 * up to 16 pages, so a process that rewrites its memory after fork takes 16x fewer faults than
 * page by page, and the VMA pieces stay few (see cow.c). */
#define COW_CHUNK (64 * 1024ULL)
/* A fault next to pages already made private takes up to this much at once (cow.c). */
#define COW_CHUNK_MAX (2ULL << 20)

/*
 * A VMA: [start, end) with one protection and one contiguous backing range of the memory file,
 * [moff, moff + end - start), of which it holds one reference per page. Private file mappings
 * also hold a reference to their file and remember the file offset of start (their pages are a
 * copy taken at mmap time). Two adjacent VMAs that differ only in where their backing lies (or
 * in VMA_COW) are "compatible": Linux would see one VMA there, so operations that must stay
 * within one Linux VMA (mremap) and /proc/PID/maps treat a run of compatible VMAs as one.
 * Breaking copy-on-write splits VMAs this way (cow.c).
 */
struct vma {
	uint64_t start, end;
	uint64_t moff;
	struct file *file;
	uint64_t foff;
	int prot;  /* LINUX_PROT_READ|WRITE|EXEC */
	int flags; /* VMA_* */
};

struct mm {
	int refs; /* atomic */
	/* Taken for writing by every change of the VMA set and its platform mirror (faults that
	 * break copy-on-write too), for reading by copy_in/copy_out. Writer-preferring, so never
	 * take it twice in one thread. Lock order: mm->lock, then the memory file's lock. */
	pthread_rwlock_t lock;
	const struct platform *plat;
	/* NULL until mm_activate (on the thread that will run the mm); every platform call goes
	 * through mm_plat_* below, which skip it while NULL: activation maps the VMAs then. */
	struct plat_as *as;
	uint64_t cow_gen; /* bumped whenever copy-on-write pages become writable (fault.c) */
	struct vma *v;	  /* sorted by start, disjoint */
	size_t n, cap;
	size_t cache; /* index of the last VMA copy_* used (relaxed atomic; validated on use) */
	uint64_t min_addr, max_addr; /* the usable range */
	uint64_t mmap_base;
	uint64_t brk_start, brk;
	struct mm_args args; /* exec's argv/envp area (args.c) */
};

static inline uint64_t vma_len(const struct vma *v) { return v->end - v->start; }

/* The protection the platform gives v's pages: no PROT_WRITE while they are copy-on-write. */
static inline int vma_plat_prot(const struct vma *v)
{
	return v->flags & VMA_COW ? v->prot & ~LINUX_PROT_WRITE : v->prot;
}

/* A zeroed mm with one reference, its lock ready, no VMAs, no address range (mm.c). */
struct mm *mm_alloc(const struct platform *plat);

/* ---- the platform mirror (mm.c): no-ops returning 0 while the mm is not active. Write lock
 * held (or the mm not yet visible to anyone else). ---- */
int mm_plat_map(struct mm *mm, uint64_t addr, uint64_t len, int prot, uint64_t moff);
int mm_plat_unmap(struct mm *mm, uint64_t addr, uint64_t len);
int mm_plat_protect(struct mm *mm, uint64_t addr, uint64_t len, int prot);

/* The lowest address a new mapping may end at when v follows it (Linux's vm_start_gap). */
static inline uint64_t vma_start_gap(const struct vma *v)
{
	if (!(v->flags & VMA_GROWSDOWN))
		return v->start;
	return v->start > MM_STACK_GUARD_GAP ? v->start - MM_STACK_GUARD_GAP : 0;
}

/* ---- vma.c: the sorted VMA array. Callers hold mm->lock for writing unless noted. ---- */
/* Index of the first VMA ending after addr (mm->n if none). Read lock suffices. */
size_t vma_index(const struct mm *mm, uint64_t addr);
/* The VMA holding addr or NULL. Read lock suffices. */
struct vma *vma_lookup(struct mm *mm, uint64_t addr);
/* Make room for extra more VMAs so that the next extra inserts/splits cannot fail. 0/-ENOMEM. */
int vma_reserve(struct mm *mm, size_t extra);
/* Insert *nv at index i (room reserved). */
void vma_insert(struct mm *mm, size_t i, const struct vma *nv);
/* Remove count VMAs at index i without releasing what they hold. */
void vma_remove(struct mm *mm, size_t i, size_t count);
/* If addr lies strictly inside a VMA, split it there (room reserved). */
void vma_split(struct mm *mm, uint64_t addr);
/* Drop what the VMA holds (memory-file references, file reference). */
void vma_release(struct vma *v);
/* Would Linux see a and b (a directly below b) as one VMA? (VMA_COW does not count.) */
bool vma_compatible(const struct vma *a, const struct vma *b);
/* Merge VMAs in index range [lo, hi] with their neighbours where the backing is contiguous. */
void vma_merge_range(struct mm *mm, size_t lo, size_t hi);
/* Is [start, end) free of VMAs (and of growsdown guard gaps when gaps is set)? */
bool vma_range_free(const struct mm *mm, uint64_t start, uint64_t end, bool gaps);
/* A free range of len bytes: hint if it is usable, else top-down below mmap_base, else
 * bottom-up anywhere (flags: LINUX_MAP_32BIT searches the low 2 GiB). Address or -ENOMEM. */
long vma_find_free(const struct mm *mm, uint64_t hint, uint64_t len, int flags);
/* Remove every mapping in [start, end): split at the edges, unmap in the platform address space
 * (unless !plat: the caller has already replaced the range there), release. Needs 2 VMAs of
 * room reserved. */
void mm_unmap_range(struct mm *mm, uint64_t start, uint64_t end, bool plat);

/* ---- cow.c ---- */
/* Make the pages of [addr, addr+len) private to this mm wherever they lie in copy-on-write
 * VMAs (widened to COW_CHUNK alignment inside each VMA): copy the pages still shared,
 * re-protect the ones no longer shared. VMAs may split and merge. Write lock held.
 * 0 or -ENOMEM. */
int mm_cow_break(struct mm *mm, uint64_t addr, uint64_t len);

/* ---- mm.c helpers shared with mremap.c ---- */
/* Fill [moff, moff+len) of the memory file from f at foff; bytes past EOF stay zero. 0/-errno. */
int mm_fill_from_file(struct file *f, uint64_t foff, uint64_t moff, uint64_t len);
/* Map a new VMA like tmpl (prot, flags, file with the file offset continuing from tmpl) at
 * [start, start+len) with fresh backing (zeros, or the file's contents), mirror it to the
 * platform and merge it. The range must be free. 0/-errno. */
int mm_map_fresh(struct mm *mm, const struct vma *tmpl, uint64_t start, uint64_t len);

#endif
