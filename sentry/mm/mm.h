/* Memory: the memory file, address spaces (VMAs), and copy-in/copy-out of application memory. */
#ifndef SENTRY_MM_MM_H
#define SENTRY_MM_MM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct file;
struct plat_as;
struct platform;

/* ---- the memory file (one memfd for all application memory, mapped whole in the Sentry) ---- */
/* Create it. Returns 0 or -errno. */
int memfile_init(void);
int memfile_fd(void);
/* Allocate len bytes (page multiple) of the file; *off receives the offset. 0 or -ENOMEM. */
int memfile_alloc(uint64_t len, uint64_t *off);
/* Return a range to the allocator and release its pages (hole punch). */
void memfile_free(uint64_t off, uint64_t len);
/* The Sentry's view of file offset off. */
void *memfile_ptr(uint64_t off);

/* ---- address spaces ---- */
struct mm;

/* A new empty address space on platform plat. NULL on failure. */
struct mm *mm_create(const struct platform *plat);
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);
struct plat_as *mm_plat_as(struct mm *mm);

/* mmap semantics (LINUX_PROT_*, LINUX_MAP_*). f is NULL for anonymous mappings; a file mapping
 * takes a reference on f. Returns the address or -errno. */
long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *f,
	     uint64_t off);
long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
long mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);
long mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* brk(addr): returns the new (or unchanged) break. */
long mm_brk(struct mm *mm, uint64_t addr);
/* Set the initial break (after loading an executable). */
void mm_set_brk_base(struct mm *mm, uint64_t base);

/* ---- application memory access: the only way the Sentry touches guest memory ---- */
/* Copy n bytes from application address src into dst. 0 or -EFAULT. Needs PROT_READ. */
int copy_in(struct mm *mm, void *dst, uint64_t src, size_t n);
/* Copy n bytes to application address dst. 0 or -EFAULT. Needs PROT_WRITE. */
int copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max bytes (NUL included) into dst.
 * Returns its length without the NUL, -EFAULT, or -ENAMETOOLONG when no NUL within max. */
long copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max);
/* Like copy_out but ignores PROT_WRITE (the loader writing a read-only segment it just mapped,
 * or the kernel writing the initial stack). */
int copy_out_force(struct mm *mm, uint64_t dst, const void *src, size_t n);

#endif
