/* Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore. The semantics
 * live in sentry/mm; this file decodes arguments and resolves fds. */
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "common/util.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

SYSCALL_DEFINE(brk) { return mm_brk(t->mm, a->a[0]); }

SYSCALL_DEFINE(mmap)
{
	uint64_t addr = a->a[0], len = a->a[1], off = a->a[5];
	int prot = (int)a->a[2], flags = (int)a->a[3];
	struct file *f = NULL;
	long r;

	if (!IS_PAGE_ALIGNED(off))
		return -EINVAL;
	if (!(flags & LINUX_MAP_ANONYMOUS)) {
		/* The fd is an unsigned int to Linux: -1 is just a large, unopened fd. */
		uint64_t fd = (uint32_t)a->a[4];
		if (fd > INT32_MAX)
			return -EBADF;
		f = fdtable_get(t->fdt, (int)fd);
		if (!f)
			return -EBADF;
		if (file_flags(f) & LINUX_O_PATH) {
			file_put(f);
			return -EBADF;
		}
	}
	r = mm_mmap(t->mm, addr, len, prot, flags, f, off);
	if (f)
		file_put(f); /* the mapping holds its own reference */
	return r;
}

SYSCALL_DEFINE(munmap) { return mm_munmap(t->mm, a->a[0], a->a[1]); }

SYSCALL_DEFINE(mprotect) { return mm_mprotect(t->mm, a->a[0], a->a[1], (int)a->a[2]); }

SYSCALL_DEFINE(mremap)
{
	return mm_mremap(t->mm, a->a[0], a->a[1], a->a[2], (int)a->a[3], a->a[4]);
}

SYSCALL_DEFINE(madvise) { return mm_madvise(t->mm, a->a[0], a->a[1], (int)a->a[2]); }

/* msync: there is nothing to write back (file mappings are private copies); only Linux's
 * argument checks and the ENOMEM for unmapped pages remain. */
SYSCALL_DEFINE(msync)
{
	uint64_t start = a->a[0], len = a->a[1];
	int flags = (int)a->a[2];

	if (flags & ~(LINUX_MS_ASYNC | LINUX_MS_INVALIDATE | LINUX_MS_SYNC))
		return -EINVAL;
	if (!IS_PAGE_ALIGNED(start))
		return -EINVAL;
	if ((flags & LINUX_MS_ASYNC) && (flags & LINUX_MS_SYNC))
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (start + len < start)
		return -ENOMEM;
	if (!len)
		return 0;
	return mm_range_mapped(t->mm, start, len) ? 0 : -ENOMEM;
}

/* mincore: a page is resident when the memory file (or a shared file) has it allocated. */
SYSCALL_DEFINE(mincore)
{
	unsigned char chunk[256];
	uint64_t start = a->a[0], len = a->a[1], vec = a->a[2];

	if (!IS_PAGE_ALIGNED(start))
		return -EINVAL;
	if (start > LINUX_TASK_SIZE || len > LINUX_TASK_SIZE - start)
		return -ENOMEM;
	uint64_t pages = len / PAGE_SIZE + (len % PAGE_SIZE != 0);
	if (!pages)
		return 0;
	if (!mm_range_mapped(t->mm, start, pages * PAGE_SIZE))
		return -ENOMEM;
	/* resident: backed by pages the host has allocated (sentry/mm/resident.c) */
	for (uint64_t done = 0; done < pages;) {
		size_t n = (size_t)MIN(pages - done, (uint64_t)sizeof(chunk));
		int r = mm_mincore(t->mm, start + done * PAGE_SIZE, n * PAGE_SIZE, chunk);
		if (r < 0)
			return r;
		if (copy_out(t->mm, vec + done, chunk, n))
			return -EFAULT;
		done += n;
	}
	return 0;
}

#define E(name)                                                                                    \
	{                                                                                          \
		LINUX_SYS_##name, sys_##name                                                       \
	}
const struct syscall_entry sys_mm_table[] = {
    E(brk),	E(mmap),  E(munmap),  E(mprotect), E(mremap),
    E(madvise), E(msync), E(mincore), {-1, NULL},
};
