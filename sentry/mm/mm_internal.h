/* Internals of sentry/mm: struct mm, VMAs and the helpers the mm files share. Not for other
 * modules. */
#ifndef SENTRY_MM_MM_INTERNAL_H
#define SENTRY_MM_MM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/linux.h"
#include "common/util.h"
#include "platform/platform.h"
#include "sentry/mm/mm.h"

/* The memory file's size: sparse, so only what is touched costs memory. 1 TiB because every VMA
 * is backed eagerly for now, PROT_NONE reservations included. */
#define MEMFILE_SIZE (1ULL << 40)
/* Where the Sentry would like its mapping of it: at 16 TiB, far below everything else. */
#define MEMFILE_HINT (1ULL << 44)

/* The Sentry's mapping of the whole memory file (memfile.c). */
extern char *memfile_base;
#define MM_PAGE_SHIFT 12
/* Batched reference counting (memfile.c): take the memory file's lock once for many ranges.
 * Pages whose last reference goes are freed when the lock is dropped (coalesced). */
void memfile_lock(void);
void memfile_unlock(void);
/* Between these two, on the calling thread, ranges whose last reference goes are only kept
 * aside; the end frees them sorted, adjacent ones in one punch (memfile.c). Nested pairs
 * free at the outermost end. */
void memfile_batch_begin(void);
void memfile_batch_end(void);
/* memfile_batch_end, keeping the runs freed for copies (memfile.c) when reuse. */
void memfile_batch_end_keep(bool reuse);
/* A range for a copy: 1 when it holds a dead process's pages (the caller writes or punches
 * every page before anyone may read it), 0 when it is zero as memfile_alloc's, or -errno. */
int memfile_alloc_overwrite(uint64_t len, uint64_t *off);
int memfile_incref_locked(uint64_t off, uint64_t len);
void memfile_decref_locked(uint64_t off, uint64_t len);
/* Is every page of [off, off+len) held once? If not, *shared_at (may be NULL) gets the first
 * page that is not. */
bool memfile_exclusive_locked(uint64_t off, uint64_t len, uint64_t *shared_at);

/* Linux's stack_guard_gap: mmap leaves this much free below a growsdown mapping. */
#define MM_STACK_GUARD_GAP (256 * 4096ULL)
/* The stack's reserve below the top: mmap searches start below it (Linux: 128 MiB minimum). */
#define MM_STACK_GAP (128ULL << 20)

#define VMA_SHARED 0x1	  /* MAP_SHARED anonymous memory: its pages are the memory, not a copy */
#define VMA_GROWSDOWN 0x2 /* MAP_GROWSDOWN (the stack) */
/* Copy-on-write: private pages that may be shared with another mm since a fork. The platform
 * maps them without PROT_WRITE; the first write (a fault, or a copy_out) copies them, or just
 * re-protects them when nobody else holds them any more. With a per-page map (v->pm), only the
 * pages marked PG_COW are in that state. Not part of the Linux-visible VMA. */
#define VMA_COW 0x4
#define VMA_DONTFORK 0x8    /* MADV_DONTFORK: the child of a fork does not get it */
#define VMA_WIPEONFORK 0x10 /* MADV_WIPEONFORK: the child of a fork gets zeros */
/* MAP_SHARED of a file whose pages live in the memory file (a filemap, tmpfs): the VMA maps the
 * file's own pages (v->fm), has no backing range of its own (moff unused) and holds no page
 * references; the platform maps the pages present in the file lazily (filemap_vma.c). Set
 * together with VMA_SHARED. */
#define VMA_FILEMAP 0x20
/* MAP_SHARED of a file that can never be written through it and whose pages live elsewhere
 * (the read-only lower layer): served as a private copy, shown as shared. */
#define VMA_SHARED_COPY 0x40
/* Linux's !VM_MAYWRITE: MAP_SHARED of a file not open for writing; mprotect(PROT_WRITE) fails. */
#define VMA_NOMAYWRITE 0x80

/* A copy-on-write fault copies one page, or more where this mm's private pages are dense
 * around it or it continues a run of them (cow.c), up to this much at once. */
#define COW_CHUNK_MAX (2ULL << 20)
/* A fault in a hole of a shared file mapping allocates an aligned chunk of up to this much
 * (clipped to the hole, the VMA and the end of the file), as a write would. */
#define FM_FAULT_CHUNK (64 * 1024ULL)
/* A fault on a file page that is present but not mapped (written by another process or by
 * write(2)) maps the file's pages within this distance around it. */
#define FM_MAP_AROUND (1ULL << 20)

/*
 * A VMA: [start, end) with one protection, backed by memory-file pages of which it holds one
 * reference each: either one contiguous range [moff, moff + end - start) (pm NULL), or, once
 * copy-on-write has been broken in it, any pages, named page by page in a per-page map
 * (pm->e[pmi + k] for the k-th page; moff unused). File mappings also hold a reference to their
 * file and remember the file offset of start. A private file mapping's pages are a copy of the
 * file taken at mmap time, valid below the file offset vend (the end of the file, page rounded,
 * as last seen): pages at or past vend are not mapped in the platform and an access there is
 * SIGBUS, unless the file has grown since (then they are filled from the file first; when
 * copy_in/copy_out does that, the platform maps them at their first fault). A VMA_FILEMAP VMA
 * has no backing of its own: it maps the file's pages (fm). fm is set for every mapping of a
 * file that has a filemap (private ones too: a truncation lowers their vend); it is borrowed
 * from the file, which the VMA holds. Two adjacent VMAs that differ only in their backing (or
 * in VMA_COW, or vend) are "compatible": Linux would see one VMA there, so operations that must
 * stay within one Linux VMA (mremap) and /proc/PID/maps treat a run of compatible VMAs as one.
 * Copy-on-write breaks never split VMAs: they change entries of the per-page map.
 *
 * Lazily filled private mappings. A private file mapping of a file without a filemap (the
 * read-only lower layer) that is not MAP_FIXED, or that shares a page cache's pages (pc, any
 * private mapping that cannot be written: a binary's or library's text), starts with nothing
 * valid (vend = foff) and fend = the end of the file, page rounded. The first fault or
 * copy_in/copy_out that reaches such a page (mm_file_fault, mm_file_grow) splits off the
 * aligned chunk of FC_CHUNK around it (more for a longer copy), fills it and makes that piece
 * valid (vend = fend): from the page cache (filled there first if need be; the piece then
 * also takes in the cache's filled chunks next to it, so a binary executed before costs one
 * fault per run of what it touched), or else into the piece's own pages (fresh ones if they
 * are shared, as after a fork). Pieces made valid merge again where their backing is
 * contiguous. So a 33 MB compiler whose run touches a few MB reads only those. Pieces not yet
 * filled are mapped nowhere, and every split, clone, fork or move of them keeps them so.
 * Every other file-backed private VMA has fend == vend: nothing to fill later.
 */
/* A per-page map: entry = memory-file page number | PG_COW | PG_FAULT. Pieces of one VMA split
 * apart (by mprotect, munmap...) share it, each using its own entries; refs counts them. Only
 * ever used by VMAs of one mm, under its lock. */
#define PG_COW 0x80000000U   /* the page is copy-on-write: the platform maps it read-only */
#define PG_FAULT 0x40000000U /* a copy-on-write fault hit this page since the last fork (cow.c) */
#define PG_NUM (~(PG_COW | PG_FAULT))
struct pgmap {
	int refs;
	size_t n, cap; /* entries in use, allocated */
	uint32_t e[];
};

struct vma {
	uint64_t start, end;
	uint64_t moff;	  /* contiguous backing, when pm is NULL */
	struct pgmap *pm; /* per-page backing, or NULL */
	size_t pmi;	  /* start's entry in pm */
	uint64_t excl;	  /* VMA_COW: [start, excl) is known to be held by this mm alone */
	struct file *file;
	uint64_t foff;
	uint64_t vend;	       /* private file mappings: see above */
	uint64_t fend;	       /* lazily filled private file mappings: see above */
	struct mm_filemap *fm; /* see above, else NULL */
	struct mm_fcache *pc;  /* the file's page cache, when the VMA was mapped from it, else
				* NULL; borrowed from the file, as fm */
	int prot;	       /* LINUX_PROT_READ|WRITE|EXEC */
	int flags;	       /* VMA_* */
};

struct mm_zap;

struct mm {
	int refs; /* atomic */
	struct mm *next_free; /* in mm_put_later's queue, once refs is 0 */
	/* mm_put_last_then's: called by mm_free before anything goes */
	void (*before_free)(struct mm *mm, void *arg);
	void *before_free_arg;
	/* Taken for writing by every change of the VMA set and its platform mirror (faults that
	 * break copy-on-write too), for reading by copy_in/copy_out. Writer-preferring, so never
	 * take it twice in one thread. Lock order: mm->lock, then the memory file's lock. */
	pthread_rwlock_t lock;
	const struct platform *plat;
	/* NULL until mm_activate (on the thread that will run the mm); every platform call goes
	 * through mm_plat_* below, which skip it while NULL: activation maps the VMAs then.
	 * active (atomic) is set once activation has mapped everything. */
	struct plat_as *as;
	bool active;
	/* bumped whenever copy-on-write pages become writable or pages are unmapped under the
	 * application (cow.c, filemap_vma.c): a fault that comes again without a change is real */
	uint64_t cow_gen;
	/* Platform mappings beyond one per VMA that copy-on-write breaks made (an estimate kept
	 * exact across breaks, recounted when high), and whether breaks compact them (cow.c). */
	size_t frag;
	bool compacting;
	/* The last copy-on-write faults (cow.c: stride_range): where the last one was, their
	 * stride, how many strides the last break covered, and where the next one would be. */
	uint64_t cow_last, cow_stride, cow_span, cow_next;
	struct vma *v; /* sorted by start, disjoint */
	size_t n, cap;
	size_t cache; /* index of the last VMA copy_* used (relaxed atomic; validated on use) */
	uint64_t min_addr, max_addr; /* the usable range */
	uint64_t mmap_base;
	uint64_t brk_start, brk;
	struct mm_args args; /* exec's argv/envp area (args.c) */
	/* The filemaps this mm is registered with (a reference on each; under lock for writing):
	 * every one a VMA of it maps, and maybe some it no longer does (filemap.c). */
	struct mm_filemap **fmaps;
	size_t nfmaps, capfmaps;
	/* Invalidations other threads queued (a file truncated under its mappings): applied under
	 * lock for writing, on a thread that may change the platform mappings, before the
	 * application runs again (filemap_vma.c). zap_lock nests inside lock and filemap locks. */
	pthread_mutex_t zap_lock;
	struct mm_zap *zaps;
	bool zap_pending; /* atomic */
	/* The cpuid sites rewritten into int3 in this mm (cpuid.c), sorted; under lock. */
	uint64_t *cpuid;
	size_t ncpuid;
};

static inline uint64_t vma_len(const struct vma *v) { return v->end - v->start; }

/* Does v map the file's own pages (no backing of its own)? */
static inline bool vma_filemap(const struct vma *v) { return v->flags & VMA_FILEMAP; }

/* The end of the part of a VMA with backing of its own that may be mapped in the platform and
 * accessed: all of an anonymous one, a private file mapping's pages below vend. */
static inline uint64_t vma_valid_end(const struct vma *v)
{
	if (!v->file || vma_filemap(v))
		return v->end;
	if (v->vend <= v->foff)
		return v->start;
	return v->vend - v->foff >= vma_len(v) ? v->end : v->start + (v->vend - v->foff);
}

/* v's entry for the page holding addr (v has a per-page map). */
static inline uint32_t *vma_pe(const struct vma *v, uint64_t addr)
{
	return &v->pm->e[v->pmi + ((addr - v->start) >> MM_PAGE_SHIFT)];
}

/* The memory-file offset backing application address addr of v (not VMA_FILEMAP). */
static inline uint64_t vma_moff_at(const struct vma *v, uint64_t addr)
{
	if (!v->pm)
		return v->moff + (addr - v->start);
	return ((uint64_t)(*vma_pe(v, addr) & PG_NUM) << MM_PAGE_SHIFT) + (addr & (PAGE_SIZE - 1));
}

/* Is the page at addr of v copy-on-write (mapped read-only in the platform)? */
static inline bool vma_page_cow(const struct vma *v, uint64_t addr)
{
	return (v->flags & VMA_COW) && (!v->pm || (*vma_pe(v, addr) & PG_COW));
}

/* The protection the platform gives v's pages that are copy-on-write (all of them without a
 * per-page map): no PROT_WRITE. */
static inline int vma_plat_prot(const struct vma *v)
{
	return v->flags & VMA_COW ? v->prot & ~LINUX_PROT_WRITE : v->prot;
}

/* The protection the platform gives the page at addr of v. */
static inline int vma_page_plat_prot(const struct vma *v, uint64_t addr)
{
	return vma_page_cow(v, addr) ? v->prot & ~LINUX_PROT_WRITE : v->prot;
}

/* ---- backing.c: a VMA's memory-file pages. Write lock held unless noted. ---- */
/* The run of v's pages from addr (inside v) up to at most end whose backing is contiguous in
 * the memory file (and, with cow set, whose pages are all copy-on-write or all not: *cow says
 * which). Returns the run's end; *moff is addr's backing. Read lock suffices. */
uint64_t vma_run(const struct vma *v, uint64_t addr, uint64_t end, uint64_t *moff, bool *cow);
/* Add a reference to / drop the references of the pages of [s, e) (page aligned, inside v).
 * vma_ref_range: 0 or -ENOMEM (nothing taken). */
int vma_ref_range(const struct vma *v, uint64_t s, uint64_t e);
void vma_unref_range(const struct vma *v, uint64_t s, uint64_t e);
/* Does v hold the pages of [s, e) alone? If not, *shared_at (may be NULL) gets the first page
 * that is shared. Read lock suffices. */
bool vma_exclusive_range(const struct vma *v, uint64_t s, uint64_t e, uint64_t *shared_at);
/* Give v a per-page map of its contiguous backing (pages PG_COW if v is VMA_COW). 0/-ENOMEM. */
int vma_pgmap_make(struct vma *v);
/* Drop v's reference to its per-page map, if any (the pages are the caller's business). */
void vma_pgmap_put(struct vma *v);
/* *out: a VMA like v over [s, e) (page aligned, inside v) with references of its own to the
 * same pages (and a per-page map of its own if v has one) and to the file. 0 or -ENOMEM. */
int vma_clone(const struct vma *v, uint64_t s, uint64_t e, struct vma *out);
/* Mark every page of v copy-on-write (VMA_COW, PG_COW on each entry; PG_FAULT cleared: fork
 * starts the fault history again). Returns whether any page was not copy-on-write before. */
bool vma_mark_cow(struct vma *v);
/* v's pages are private again: clear VMA_COW and every PG_COW. */
void vma_clear_cow(struct vma *v);
/* Replace v's backing by the fresh range at moff (v takes over its reference): the old pages'
 * references and the per-page map are dropped, the pages are no longer copy-on-write. The
 * caller maps the new pages in the platform. */
void vma_set_backing(struct vma *v, uint64_t moff);
/* Let a (directly below b, compatible, and already checked for everything but the backing)
 * take over b's backing as well: a then covers both and b holds nothing. false (nothing
 * changed) when the backings cannot be joined cheaply or memory is short. */
bool vma_join_backing(struct vma *a, struct vma *b);

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
/* Grow the heap array *arr of elem-sized items (capacity *cap) to hold at least want: doubling,
 * from first items. 0, or -ENOMEM with *arr untouched. Used by the other mm files too. */
int mm_grow_array(void **arr, size_t *cap, size_t want, size_t elem, size_t first);
/* Insert *nv at index i (room reserved). */
void vma_insert(struct mm *mm, size_t i, const struct vma *nv);
/* Remove count VMAs at index i without releasing what they hold. */
void vma_remove(struct mm *mm, size_t i, size_t count);
/* If addr lies strictly inside a VMA, split it there (room reserved). */
void vma_split(struct mm *mm, uint64_t addr);
/* Drop what the VMA holds (memory-file references, per-page map, file reference). */
void vma_release(struct vma *v);
/* Would Linux see a and b (a directly below b) as one VMA? (VMA_COW does not count.) */
bool vma_compatible(const struct vma *a, const struct vma *b);
/* Merge VMAs in index range [lo, hi] with their neighbours where the backings can be joined. */
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

/* ---- resident.c ---- */
/* What lseek(SEEK_DATA/SEEK_HOLE) told of the memory file during one walk (resident.c says
 * why): zero it at the walk's start. */
#define KNOWN_MAX 64
struct known {
	struct {
		uint64_t a, b;
		bool data;
	} k[KNOWN_MAX];
	size_t n, next;
};
/* Call fn(arg, a, b) for each maximal data range [a, b) of the memory file within [s, e) (the
 * pages the host has allocated). A snapshot: pages punched or filled meanwhile may be missed. */
void memfile_data_ranges(struct known *kn, uint64_t s, uint64_t e,
			 void (*fn)(void *, uint64_t, uint64_t), void *arg);

/* ---- cow.c ---- */
/* Make the pages of [addr, addr+len) private to this mm wherever they lie in copy-on-write
 * VMAs: copy the pages still shared (page by page; a VMA this mm holds alone is just
 * re-protected whole). Write lock held. 0 or -ENOMEM. */
int mm_cow_break(struct mm *mm, uint64_t addr, uint64_t len);
/* How many platform mappings copy-on-write breaks may add to an address space before faults
 * start compacting them (16384; tests lower it). */
extern size_t mm_frag_max;
/* How many pages' copying a copy-on-write fault is worth: 0 (measured as faults go), or fixed
 * (tests). */
extern uint64_t mm_fault_worth;
/* Would writing [s, e) (inside v) through the memory file change pages another mm holds?
 * Read lock suffices. */
bool vma_cow_shared(const struct vma *v, uint64_t s, uint64_t e);

/* ---- file pages (filemap.c, filemap_vma.c) ---- */
/* A file's contents as memory-file pages (see mm.h): extents sorted by file offset, each a
 * contiguous range of the memory file of which the file holds one reference per page. */
struct fm_ext {
	uint64_t off, len; /* file bytes [off, off+len), page aligned */
	uint64_t moff;
};
struct mm_filemap {
	pthread_mutex_t lock; /* everything below; nests inside mm->lock and the file's locks */
	int refs;	      /* atomic: the owner's, one per registered mm, one per queued zap */
	uint64_t size;	      /* the file's size (atomic loads outside the lock) */
	uint64_t bytes;	      /* allocated */
	bool dead;	      /* the owner released it: no pages any more */
	struct fm_ext *ext;
	size_t n, cap;
	/* The address spaces registered with it (weak: an mm unregisters before it goes). */
	struct mm **mms;
	size_t nmms, capmms;
	bool (*charge)(int64_t delta);
	bool (*charge_arg)(void *arg, int64_t delta); /* instead of charge, with arg */
	void *arg;
	void (*kick)(struct mm *const *mms, size_t n);
};

/* Memory-file ranges kept alive for the address spaces that may still map them. */
struct fm_held {
	int refs; /* atomic: one per zap */
	size_t n;
	struct fm_ext r[]; /* off unused */
};

/* One queued invalidation: unmap the VMA_FILEMAP pages of fm at file offsets [from, to), and
 * when truncate, end private mappings of fm at from too. */
struct mm_zap {
	struct mm_zap *next;
	struct mm_filemap *fm; /* a reference */
	uint64_t from, to;
	bool truncate;
	struct fm_held *held; /* the pages that left the file (a reference), or NULL */
};

static inline uint64_t filemap_size(struct mm_filemap *fm)
{
	return __atomic_load_n(&fm->size, __ATOMIC_ACQUIRE);
}
void filemap_get(struct mm_filemap *fm);
void filemap_put(struct mm_filemap *fm);
/* Register mm with fm (once; the mm takes a reference). mm->lock held for writing or the mm not
 * visible to others. 0 or -ENOMEM. */
int filemap_register(struct mm *mm, struct mm_filemap *fm);
/* Unregister mm from mm->fmaps[i] / from all (mm teardown). mm->lock held or the mm dying. */
void filemap_unregister(struct mm *mm, size_t i);
void filemap_unregister_all(struct mm *mm);
/* Take the queued zaps off mm (zap_lock taken inside). */
struct mm_zap *mm_zaps_take(struct mm *mm);
/* Free a zap: the pages it held go back, its filemap reference is dropped. */
void mm_zap_free(struct mm_zap *z);
/* Punch [off, off+len) (page aligned) out of the file: the pages go, holes read zeros, every
 * mapping is invalidated (queued). 0. */
int filemap_punch(struct mm_filemap *fm, uint64_t off, uint64_t len);
/* Copy n bytes between buf and file offset foff through the file's pages, up to the end of the
 * file's last page (holes read zeros; writing fills them, charged). Returns the bytes copied
 * (short at that end or when a page cannot be had). */
size_t filemap_copy(struct mm_filemap *fm, uint64_t foff, void *buf, size_t n, bool to_file);
/* Under fm->lock: allocate the hole around file offset foff inside [lo, hi) (page aligned, the
 * part of the VMA's file range below the end of the file) in a chunk of up to FM_FAULT_CHUNK,
 * charged. 0, or -ENOSPC. Helper for faults (filemap_vma.c). */
int filemap_fill_hole_locked(struct mm_filemap *fm, uint64_t foff, uint64_t lo, uint64_t hi);
/* Under fm->lock: index of the first extent ending after off. */
size_t filemap_ext_index(const struct mm_filemap *fm, uint64_t off);

/* Apply the queued zaps. mm->lock held for writing, on a thread that may change the platform
 * mappings (or the mm inactive). */
void mm_apply_zaps_locked(struct mm *mm);
/* Map [s, e) (page aligned, inside v) in the platform as v says: a VMA's own backing below its
 * valid end, or the file pages present below the end of the file for VMA_FILEMAP. Write lock
 * held. 0 or -errno. */
int vma_plat_map(struct mm *mm, const struct vma *v, uint64_t s, uint64_t e);
/* Give the platform mapping of v its current protection (vma_plat_prot; the pages of a
 * copy-on-write VMA all become copy-on-write). Write lock. 0 or -errno. */
int vma_plat_reprotect(struct mm *mm, struct vma *v);
/* A fault at addr in file VMA v (index i): 0 when it made the page available (a hole filled, a
 * private mapping extended to a grown file, a lazily filled one's chunk filled), 1 when the
 * page is a valid one (the caller goes on), -ENXIO past the end of the file, when no page could
 * be had or the file could not be read (SIGBUS), -ENOMEM. May split VMAs. Write lock held. */
int mm_file_fault(struct mm *mm, size_t i, uint64_t addr);
/* Extend the private file VMAs of [addr, addr+len) whose file has grown past their vend to the
 * file's end (filled from the file), and fill the chunks of lazily filled ones that the range
 * reaches. With plat, map the new pages too. May split VMAs. Write lock held. 0 or -errno. */
int mm_file_grow(struct mm *mm, uint64_t addr, uint64_t len, bool plat);
/* Make the parts of the lazily filled VMAs of [start, end) that map their page cache's pages
 * and that the cache has filled already valid, and map them in the platform (mmap: a binary
 * executed before costs no fault for what it touched then). May split VMAs. Write lock held.
 * 0 or -errno. */
int mm_map_cached(struct mm *mm, uint64_t start, uint64_t end);
/* Where an access from addr inside file VMA v must stop now (page-rounded end of the file, or
 * vend); *grow is set when a private mapping's file has grown past its vend there. Read lock. */
uint64_t vma_access_end(const struct vma *v, uint64_t addr, bool *grow);

/* ---- code.c, cpuid.c ---- */
/* mm_code_rewrite with mm->lock held for writing. */
int mm_code_rewrite_locked(struct mm *mm, uint64_t addr, const uint8_t *expect, const uint8_t *repl,
			   size_t n, size_t trap_at);
/* Offsets in a file of the cpuid instructions its start-up ran (cpuid.c), sorted. */
struct mm_cpuid_offs {
	size_t n;
	uint64_t off[];
};
/* The cpuid sites of mm in [s, e) are going away (unmapped) or may be changed (made writable,
 * moved): put the cpuid back where the pages stay (undo), and forget them. Write lock held. */
void mm_cpuid_forget_locked(struct mm *mm, uint64_t s, uint64_t e, bool undo);
/* A fork's child gets the parent's sites (its pages are the parent's) that it maps, once its
 * VMAs are made. Both locks held. */
int mm_cpuid_fork_locked(struct mm *child, const struct mm *parent);
/* Tell the platform mm's sites (at activation, and after each change). Write lock held. */
void mm_cpuid_push_locked(struct mm *mm);

/* ---- fcache.c ---- */
/* How much a fault on a lazily filled mapping reads at once: an aligned chunk of the file. */
#define FC_CHUNK (128 * 1024ULL)
struct mm_fcache {
	uint64_t moff, len; /* the memory-file range: the file's bytes [0, len) */
	uint64_t filled;    /* bytes filled (atomic) */
	int fd;		    /* mm_fcache_map_file's copy of the host fd, else -1 */
	/* The file's start-up cpuid sites once learned (cpuid.c; atomic, set once), else NULL,
	 * and how many execs started in it before (atomic). */
	struct mm_cpuid_offs *cpuid;
	unsigned cpuid_execs;
	uint64_t bits[]; /* one bit per FC_CHUNK chunk: filled (atomic; see fcache.c) */
};
/* Is the memory-file page at moff in a cache that maps its host file (mm_fcache_map_file)?
 * Then *fd is its fd and *foff the file offset of moff, and the return value how many bytes
 * from moff (at most len) are; else 0, with the bytes from moff (at most len, at least a page)
 * that are not in one in *plain. Any lock. */
uint64_t fcache_direct_at(uint64_t moff, uint64_t len, int *fd, uint64_t *foff, uint64_t *plain);
/* Fill [moff, moff + len) of the memory file, in such a cache, from its file, for a platform
 * that cannot map the file (the Sentry's own view of those pages is the file: this fills the
 * memory file's pages underneath). 0 or -errno. */
int fcache_direct_fill(uint64_t moff, uint64_t len);
/* Has the chunk holding file offset off (< c->len) been filled? No lock needed. */
bool fcache_chunk_filled(const struct mm_fcache *c, uint64_t off);
/* Fill the chunks of c holding [off, end) (clipped to c->len) that are not yet, from f (the
 * cache's file). Call it with no lock but maybe mm->lock (f is read like mm_fill_from_file).
 * 0 or -errno (the chunks filled before the error stay filled). */
int fcache_fill(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end);
/* fcache_fill through buf (FILL_BOUNCE bytes; NULL: as mm_fill_from_file chooses). */
int fcache_fill_buf(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end, char *buf);
/* Fill the chunks of c holding [off, end) ahead of need, on the readahead thread: a program's
 * text, mapped now, which its run will touch much of (see fcache.c). Takes a reference to f
 * for as long as it needs it. */
void fcache_readahead(struct mm_fcache *c, struct file *f, uint64_t off, uint64_t end);
/* Whether fcache_readahead does anything (tests turn it off: what a fault fills must not
 * depend on timing there). */
extern bool fcache_readahead_on;

/* ---- mm.c helpers shared with mremap.c ---- */
/* Fill [moff, moff+len) of the memory file from f at foff; bytes past EOF stay zero. 0/-errno. */
int mm_fill_from_file(struct file *f, uint64_t foff, uint64_t moff, uint64_t len);
/* The same through buf, a caller's bounce buffer of FILL_BOUNCE bytes (NULL: straight into the
 * Sentry's mapping of the memory file). */
#define FILL_BOUNCE (256 * 1024)
int mm_fill_from_file_buf(struct file *f, uint64_t foff, uint64_t moff, uint64_t len, char *buf);
/* Map a new VMA like tmpl (prot, flags, file with the file offset continuing from tmpl) at
 * [start, start+len) with fresh backing (zeros, or the file's contents; a VMA_FILEMAP one maps
 * the file's pages), mirror it to the platform and merge it. The range must be free. 0/-errno. */
int mm_map_fresh(struct mm *mm, const struct vma *tmpl, uint64_t start, uint64_t len);
/* Give the VMAs of [start, end) (split at both edges) fresh private contents: zeros, or the
 * file's contents again for private file mappings; shared memory keeps its pages. Pages that
 * were shared get new backing, mapped in the platform when plat (below the valid end). 0/-errno.
 * (remap.c) */
int mm_refill(struct mm *mm, uint64_t start, uint64_t end, bool plat);

#endif
