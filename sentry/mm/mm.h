/* Memory: the memory file, address spaces (VMAs), and copy-in/copy-out of application memory. */
#ifndef SENTRY_MM_MM_H
#define SENTRY_MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct file;
struct plat_as;
struct platform;

/* ---- the memory file (one memfd for all application memory, mapped whole in the Sentry) ----
 * Allocated ranges are reference counted page by page (a fresh range has one reference), so a
 * range can be mapped by several VMAs or address spaces (shared memory now, copy-on-write fork
 * later). Every allocated range reads as zeros. All calls are thread safe. */
/* Create it (idempotent). Returns 0 or -errno. */
int memfile_init(void);
/* The memfd (for the platform to map into stubs); -1 before memfile_init. */
int memfile_fd(void);
/* Allocate len bytes (page multiple) of zeroed file; *off receives the offset. One reference.
 * 0, -EINVAL (len 0 or unaligned) or -ENOMEM. */
int memfile_alloc(uint64_t len, uint64_t *off);
/* Allocate exactly [off, off+len) if it is all free (to extend a range in place). One reference.
 * 0, -EINVAL or -ENOMEM. */
int memfile_alloc_at(uint64_t off, uint64_t len);
/* Return a range the caller holds the only reference to, releasing its pages (hole punch). */
void memfile_free(uint64_t off, uint64_t len);
/* Add a reference to every page of an allocated range. 0 or -ENOMEM. */
int memfile_incref(uint64_t off, uint64_t len);
/* Drop a reference to every page of the range; pages left with none are freed (punched). */
void memfile_decref(uint64_t off, uint64_t len);
/* Does the caller hold the only reference to every page of the range? */
bool memfile_exclusive(uint64_t off, uint64_t len);
/* Zero a range in place by releasing its pages (they read as zeros afterwards). The range stays
 * allocated; only for ranges the caller holds exclusively. */
void memfile_zero(uint64_t off, uint64_t len);
/* Bytes currently allocated. */
uint64_t memfile_used(void);
/* The Sentry's view of file offset off. */
void *memfile_ptr(uint64_t off);
/* Copy len bytes from src (through the Sentry's view) to the pages at dst, which the caller
 * holds exclusively. pwrite fills new pages without faulting them into the Sentry and zeroing
 * them first, as a memcpy would (the fallback). */
void memfile_copy(uint64_t dst, uint64_t src, uint64_t len);

/* ---- address spaces ---- */
struct mm;

/* ---- file pages in the memory file (filemap.c) ----
 * A filemap holds a file's contents as memory-file pages, so that MAP_SHARED mappings map the
 * file's own pages: tmpfs keeps every regular file in one. Holes (never written ranges) cost
 * nothing and read as zeros. The owner (the filesystem) serialises the calls that change the
 * file (write, truncate) and keeps the file's size in step; every call takes the filemap's own
 * lock, which nests inside the owner's inode lock and inside mm locks. */
struct mm_filemap;
/* A new, empty filemap owned by the caller. charge(delta) accounts for pages the file gains
 * (delta > 0: false refuses them, ENOSPC) and loses; NULL: no limit. kick(mms, n) is called
 * with no filemap or mm lock held (but the caller of mm_filemap_truncate's own locks) with the
 * address spaces that mapped the file when a truncation queued an invalidation for them, so
 * that the owner can interrupt their tasks running application code (see mm_plat_as); the
 * pointers may only be compared, never followed (one may be gone already). NULL: they notice
 * at their next trap. NULL on ENOMEM or when the memory file cannot be made. */
struct mm_filemap *mm_filemap_create(bool (*charge)(int64_t delta),
				     void (*kick)(struct mm *const *mms, size_t n));
/* The same with a charge function that takes arg (a filesystem instance's own limit). */
struct mm_filemap *mm_filemap_create_arg(bool (*charge_arg)(void *arg, int64_t delta), void *arg,
					 void (*kick)(struct mm *const *mms, size_t n));
/* The owner is done with it (the inode is gone, so no VMA maps it any more): its pages go back
 * (uncharged) and the owner's reference is dropped. */
void mm_filemap_release(struct mm_filemap *fm);
/* Read up to n bytes at off, clipped to the file's size (holes read zeros). Returns the count. */
size_t mm_filemap_read(struct mm_filemap *fm, void *buf, size_t n, uint64_t off);
/* Write n bytes at off (off + n must not overflow), allocating the pages it needs first, and
 * grow the size to off + n if that is past it (the gap reads zeros). Returns n, or -ENOSPC
 * (nothing written). */
ssize_t mm_filemap_write(struct mm_filemap *fm, const void *buf, size_t n, uint64_t off);
/* Set the size. Shrinking frees the pages wholly past the new end (the rest of the last page
 * reads zeros) and zaps them in every mapping: each address space that maps the file gets the
 * invalidation queued (it keeps the pages alive until applied) and kicked. Growing makes the
 * new range read zeros. */
void mm_filemap_truncate(struct mm_filemap *fm, uint64_t size);
/* fallocate (tmpfs): allocate the pages of [off, off+len) (charged; the size does not
 * change), 0 or -ENOSPC (pages allocated before the failure stay); punch a hole: [off,
 * off+len) reads zeros, its whole pages are freed and unmapped from every mapping (queued, as
 * truncation). The owner serialises them with its other calls. */
int mm_filemap_allocate(struct mm_filemap *fm, uint64_t off, uint64_t len);
void mm_filemap_punch_hole(struct mm_filemap *fm, uint64_t off, uint64_t len);
/* The Sentry's view of the byte at off of the file, or NULL when that page is a hole. Valid
 * while the page stays in the file (until a truncation or hole punch removes it). */
void *mm_filemap_page_ptr(struct mm_filemap *fm, uint64_t off);
/* The size, and the bytes of memory allocated (st_blocks). */
uint64_t mm_filemap_size(struct mm_filemap *fm);
uint64_t mm_filemap_bytes(struct mm_filemap *fm);
/* The filemap holding f's contents (a tmpfs file, or an overlay file whose real file is one),
 * or NULL. Borrowed: valid while the caller holds f. Provided by the filesystems
 * (sentry/fs/tmpfs.c); the mm references it weakly, so a build without them has no filemaps.
 * NOTE for the lead: this would better be a file_ops member (Linux's f_op->mmap). */
struct mm_filemap *file_filemap(struct file *f);
/* May private mappings of f be filled at their first access rather than at mmap time? True
 * for files whose contents can be read with an mm's lock held and do not change (goferfs
 * files: the read-only lower layer; not procfs, whose reads take mm locks). Provided by the
 * filesystems (sentry/fs/goferfs.c), referenced weakly like file_filemap. */
bool file_fill_lazily(struct file *f);
/* ---- page caches filled on demand (fcache.c) ----
 * A file's contents in one memory-file range reserved for all of it, read from the file a chunk
 * at a time as mappings first touch it, for a filesystem whose files do not change (goferfs's
 * read-only lower layer): private mappings that cannot be written share its pages
 * copy-on-write instead of copying the file, so later execs of a binary read nothing, and only
 * what is touched is ever read. */
struct mm_fcache;
/* A cache for a file of len bytes (a page multiple, not 0), nothing filled: one reference to
 * the pages, the caller's. NULL on ENOMEM. */
struct mm_fcache *mm_fcache_create(uint64_t len);
/* The owner is done with it (its inode is gone): its pages go back once no mapping holds them.
 * No VMA may refer to it any more (each holds the file, and so the owner). */
void mm_fcache_release(struct mm_fcache *c);
/* The bytes filled so far. */
uint64_t mm_fcache_filled(const struct mm_fcache *c);
/* Let c's pages be the host file's own, fd's (a read-only host fd of the cache's file, which
 * does not change; c keeps a copy): the Sentry maps the file over c's range of the memory
 * file, so c is whole at once with nothing copied, and platform mappings of c's pages map the
 * file itself (mm_plat_map). Only after mm_fcache_direct_enable (the platform maps host fds),
 * and right after mm_fcache_create. 0, or -errno and c stays as it was (filled on demand). */
int mm_fcache_map_file(struct mm_fcache *c, int fd);
/* Make mm_fcache_map_file work: the kernel's platform can map host fds (host_fd_maps). */
void mm_fcache_direct_enable(void);
/* f's page cache in *c (borrowed: valid while the caller holds f), made at its first use. 0,
 * or -errno when f has none (another filesystem, a writable mount, too large, the caches'
 * budget spent). Provided by the filesystems (sentry/fs/goferfs.c), referenced weakly like
 * file_filemap. */
int file_page_cache(struct file *f, struct mm_fcache **c);

/* A new empty address space for platform plat, not active yet (see mm_activate). NULL on
 * ENOMEM. The application may use [LINUX_MMAP_MIN, plat->max_user_addr); the stack sits at the
 * top and mmap without a hint searches top-down below mm_mmap_base(). */
struct mm *mm_create(const struct platform *plat);
/* Give mm its platform address space (plat->as_create, then one as_map per VMA) if it has none
 * yet. Call it on the host thread that will run the mm (the platform binds an address space to
 * its creator) before the first ctx_create/ctx_run; idempotent, and a load when done. Until
 * then every mm call works on the VMAs alone. 0 or -errno (the mm stays inactive). */
int mm_activate(struct mm *mm);
/* fork(2): a new inactive mm with a copy of parent's mappings. Private pages are shared
 * copy-on-write (reference counts on the memory file; the parent's writable ones are
 * write-protected in its platform address space, so call this on the parent's host thread),
 * MAP_SHARED memory is shared for real, MADV_DONTFORK ranges are left out and MADV_WIPEONFORK
 * ones are zero. Costs time in proportion to the VMAs and the 2 MiB blocks of their memory
 * (plus a copy of the per-page map of VMAs where copy-on-write was broken before), not to the
 * pages. NULL on ENOMEM. */
struct mm *mm_fork(struct mm *parent);
/* mm_fork, but small writable private VMAs, up to copy_max bytes in all, are copied now
 * instead (no copy-on-write for them on either side: see cow.c), when the parent's mm has no
 * other user (a thread could write a page while it is copied; a thread made by another thread
 * at the very moment of the fork still could, and the child may then see its writes to one
 * page out of order, where Linux's copy-on-write snapshots each page at once). */
struct mm *mm_fork_copy(struct mm *parent, uint64_t copy_max);
/* The page at addr is about to be written (a stack page right after fork): make it private to
 * mm now, as a write fault would, if it is a copy-on-write page of a writable mapping, instead
 * of a fault's round trip to the Sentry later. Takes the mm's lock itself. 0 or -ENOMEM. */
int mm_write_soon(struct mm *mm, uint64_t addr);
/* A fault the platform reported at addr with access (LINUX_PROT_* bit, or 0 when the platform
 * cannot tell; it is then inferred). Returns 0 when the faulting thread should just run again
 * (copy-on-write broken, a file page mapped, or the fault raced with another thread that fixed
 * it), -EFAULT when addr is not mapped (SEGV_MAPERR), -EACCES when the mapping forbids the
 * access (SEGV_ACCERR), -ENXIO when addr lies in a file mapping's page wholly past the end of
 * the file, or a shared file page could not be had (deliver SIGBUS with BUS_ADRERR and
 * si_addr addr), -ENOMEM when the copy could not be made (Linux would OOM-kill: treat it as
 * fatal). An unknown-access fault the VMA may forbid is answered 0 the first time (it may have
 * raced with another thread's fix) and -EACCES when it comes again unchanged. Call it on the
 * thread that runs the faulting context (it may remap pages). */
int mm_handle_fault(struct mm *mm, uint64_t addr, int access);
/* References: mm_create and mm_fork return one; threads share an mm with mm_get. The last
 * mm_put unmaps everything and releases the platform address space (no context may be running
 * in it). */
void mm_get(struct mm *mm);
/* Does the caller hold the only reference to mm (no other task, no reader of it, shares it)? */
bool mm_sole_ref(struct mm *mm);
void mm_put(struct mm *mm);
/* mm_put, but the last one leaves the teardown (the platform's as_release: a stub killed and
 * reaped; the pages freed) to a Sentry thread of its own: for exit and exec, whose task goes on
 * (or its parent learns of the exit) without waiting for it. Nothing can use mm meanwhile: it
 * has no references, and the platform address space runs no context. */
void mm_put_later(struct mm *mm);
/* mm_put_later of the last reference, with fn(mm, arg) called first on the thread that tears
 * mm down, while its memory is all there: for what measures it off the caller's critical
 * path (the resident set of an exit or an exec). Returns false, with nothing done, when mm has
 * other references (the teardown would wait for them). */
bool mm_put_last_then(struct mm *mm, void (*fn)(struct mm *mm, void *arg), void *arg);
/* The platform address space, NULL before mm_activate. Call it on a thread that runs the mm,
 * right before running it (the run loop does, before every ctx_run): it first applies the
 * invalidations other threads queued for this mm (pages of a file truncated under its shared
 * mappings), which only such a thread may. */
struct plat_as *mm_plat_as(struct mm *mm);
/* Highest application address + 1 (page aligned): where the initial stack ends. */
uint64_t mm_stack_top(struct mm *mm);
/* Top of the area mmap searches when given no usable hint (below the stack's reserve). */
uint64_t mm_mmap_base(struct mm *mm);
/* Where mmap without a hint would put len bytes (page aligned), without mapping anything: for
 * an exec, whose mm nobody else maps into meanwhile. The address or -ENOMEM. */
long mm_find_unmapped(struct mm *mm, uint64_t len);

/* mmap semantics (LINUX_PROT_*, LINUX_MAP_*). f is NULL for anonymous mappings; a file mapping
 * takes its own reference on f (the caller keeps its own). Checks everything Linux's do_mmap
 * checks, including f's access mode (file_flags) against flags and prot. Private file mappings
 * are filled from the file now (vfs_pread), or, for a file_fill_lazily one mapped without
 * MAP_FIXED, a chunk at a time as they are first touched (mm_internal.h); one that cannot be
 * written (no PROT_WRITE) and lies within a file with a file_page_cache maps the cache's pages
 * copy-on-write instead, each chunk once the cache has it filled. MAP_SHARED of a file with a
 * filemap (file_filemap: tmpfs) maps the file's own pages; of another file that can never be
 * written through the mapping (the read-only lower layer) it is served like a private mapping,
 * and otherwise it is -ENODEV. Pages wholly past the end of the file fault with SIGBUS (see
 * mm_handle_fault). Returns the address or -errno.
 * The mm calls below take the mm's lock themselves: call them with no mm lock held. */
long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *f,
	     uint64_t off);
long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
long mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);
long mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* brk(addr): returns the new (or unchanged) break. */
long mm_brk(struct mm *mm, uint64_t addr);
/* Set the initial break (after loading an executable); base is rounded up to a page. */
void mm_set_brk_base(struct mm *mm, uint64_t base);
/* Is every page of [addr, addr+len) mapped (msync, mincore)? */
bool mm_range_mapped(struct mm *mm, uint64_t addr, uint64_t len);
/* Residency (resident.c): the bytes of mm's accessible mappings backed by allocated pages
 * (the resident set), and mincore: vec[i] = 1 if page addr + i pages is resident, else 0, for
 * the len / PAGE_SIZE pages of [addr, addr+len) (page aligned). 0, or -ENOMEM when part of the
 * range is unmapped. Take the mm's lock. */
uint64_t mm_resident_bytes(struct mm *mm);
int mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, unsigned char *vec);
/* LINUX_PROT_* of the mapping holding addr, or -EFAULT if none (SEGV_MAPERR vs SEGV_ACCERR). */
int mm_prot_at(struct mm *mm, uint64_t addr);
/* A futex word's identity, as Linux's futex keys: a shared futex (no FUTEX_PRIVATE_FLAG) in
 * MAP_SHARED memory is named by the memory behind it, so that every address space mapping that
 * memory finds it: a tmpfs file's pages by (its filemap, file offset), shared anonymous memory
 * by (the memory file, its offset there). Everything else is (mm, addr). */
struct mm_futex_key {
	const void *obj;
	uint64_t off;
};
/* Fill *key for the futex word at addr of mm (shared: the caller did not ask for a private
 * futex). 0, or -EFAULT when nothing is mapped there. Takes the mm's lock for reading. */
int mm_futex_key(struct mm *mm, uint64_t addr, bool shared, struct mm_futex_key *key);

/* One mapping as /proc/<pid>/maps shows it (adjacent compatible VMAs coalesced). */
struct mm_vma_info {
	uint64_t start, end;
	int prot;	   /* LINUX_PROT_* */
	bool shared;	   /* MAP_SHARED */
	bool heap, stack;  /* the brk area; the growsdown stack */
	struct file *file; /* file mapping, else NULL; borrowed for the callback only */
	uint64_t foff;	   /* file offset of start */
};
/* Call fn for each mapping in address order, under the mm's read lock: fn must not call back
 * into this mm (no copy_in/out on it). Stops at and returns the first nonzero fn result. */
int mm_for_each_vma(struct mm *mm, int (*fn)(const struct mm_vma_info *vi, void *arg), void *arg);

/* Where exec put the initial stack's strings (Linux's mm->start_stack, arg_start...), for
 * /proc/PID/{cmdline,environ,stat}. Added by the procfs helper (sentry/mm/args.c); the loader
 * sets it, mm_fork copies it, zeros until set. Takes the mm's lock itself. */
struct mm_args {
	uint64_t start_stack;	     /* where argc sits */
	uint64_t arg_start, arg_end; /* the argv strings, NULs included */
	uint64_t env_start, env_end; /* the envp strings */
};
void mm_set_args(struct mm *mm, const struct mm_args *a);
void mm_get_args(struct mm *mm, struct mm_args *out);

/* ---- application memory access: the only way the Sentry touches guest memory ----
 * Safe to call from any thread; a NULL mm faults. n == 0 always succeeds. */
/* Copy n bytes from application address src into dst. 0 or -EFAULT. Needs PROT_READ. */
int copy_in(struct mm *mm, void *dst, uint64_t src, size_t n);
/* Copy n bytes to application address dst. 0 or -EFAULT. Needs PROT_WRITE. */
int copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max bytes (NUL included) into dst.
 * Returns its length without the NUL, -EFAULT, or -ENAMETOOLONG when no NUL within max.
 * Only bytes read before the fault or the NUL are written to dst (dst is NUL-terminated only
 * on success). */
long copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max);
/* Like copy_out but ignores the protection (the loader writing a read-only segment it just
 * mapped, or the kernel writing the initial stack); the range must still be mapped. */
int copy_out_force(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* (copy_out and copy_out_force make copy-on-write pages private before writing them.) */
/* Syscall patching (code.c): rewrite the n bytes (2..16, in one mapping) of application code at
 * addr from expect to repl, if they still read expect, in a private mapping of this mm that is
 * executable and not writable (never shared memory or a file's own pages, never code the
 * program may be writing; copy-on-write is broken first). Threads may be
 * running the code meanwhile: byte trap_at (0 < trap_at < n) is written first, then the others
 * but byte 0, then byte 0, each visible before the next. 0, -EAGAIN (the bytes differ), -EACCES
 * (not such a mapping), -EFAULT (unmapped), -ENOMEM. Takes the mm's lock. */
int mm_code_rewrite(struct mm *mm, uint64_t addr, const uint8_t *expect, const uint8_t *repl,
		    size_t n, size_t trap_at);

/* ---- cpuid rewritten into int3 (cpuid.c; docs/platforms.md, "cpuid") ---- */
/* The program of mm (exec'd, not active yet) starts at entry. When the platform answers
 * rewritten cpuids and the file mapped there has had its start-up's sites learned, rewrite
 * them in mm; returns 1 when the file's are still to be learned (the caller runs the start-up
 * with cpuid faulting on, then calls mm_cpuid_learned), else 0. */
int mm_cpuid_start(struct mm *mm, uint64_t entry);
/* The start-up begun at entry is over (its first call but brk and arch_prctl): sites[n] are
 * where its cpuids faulted (untrusted: each is checked). Keep those in the file's page cache
 * for later execs, and rewrite them in mm. */
void mm_cpuid_learned(struct mm *mm, uint64_t entry, const uint64_t *sites, size_t n);
/* Is addr a cpuid of mm rewritten into int3 (an int3 there is that cpuid)? */
bool mm_cpuid_site(struct mm *mm, uint64_t addr);

/* Linux's MAX_ARG_STRLEN: the longest execve argument or environment string, NUL included. */
#define MM_ARG_STRLEN (32 * 4096)
/* execve's argv/envp: read the NULL-terminated array of string pointers at addr (0: empty)
 * and the strings into *out, a NULL-terminated array in one allocation (free it with
 * strv_free; NULL on failure). *total accumulates the bytes used (strings with their NULs plus
 * one pointer each) across calls; past max_total, or a string longer than MM_ARG_STRLEN, is
 * -E2BIG. Returns the count, -EFAULT, -E2BIG or -ENOMEM. */
int copy_in_strv(struct mm *mm, uint64_t addr, char ***out, size_t *total, size_t max_total);
void strv_free(char **v);

#endif
