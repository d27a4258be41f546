/* Mapping the vDSO: its image (embedded in the binary from build/vdso/vdso.so) and the vvar
 * page live in one Sentry-internal memory-backed file, made on first use. Every address space
 * maps the vvar page MAP_SHARED from a read-only open of it, so the Sentry's updates show
 * everywhere and mprotect(PROT_WRITE) fails with EACCES, and the image MAP_PRIVATE, so a
 * process that makes its copy writable changes only its own. */
#include "sentry/kernel/vdso.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/event.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

/* The image, from the generated build/gen/vdso_image.S. */
extern const unsigned char vdso_image[], vdso_image_end[];

#define VVAR_SIZE PAGE_SIZE

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct file *g_file;  /* read-only: [vvar page][image, page rounded] */
static uint64_t g_image_len; /* page rounded */

static void setup(void)
{
	size_t n = (size_t)(vdso_image_end - vdso_image);
	uint64_t len = VVAR_SIZE + PAGE_ALIGN_UP(n);
	struct file *rw = NULL;
	char *buf = calloc(1, len);
	int r = buf ? memfd_create_file("vdso", 0, &rw) : -ENOMEM;

	if (r == 0) {
		memcpy(buf + VVAR_SIZE, vdso_image, n);
		ssize_t w = vfs_pwrite(rw, buf, len, 0);
		r = w == (ssize_t)len ? 0 : w < 0 ? (int)w : -EIO;
	}
	struct mm_filemap *fm = r == 0 ? file_filemap(rw) : NULL;
	struct vdso_data *page = fm ? mm_filemap_page_ptr(fm, 0) : NULL;
	if (r == 0 && !page)
		r = -EIO;
	if (r == 0)
		r = vfs_open_path(&rw->path, LINUX_O_RDONLY, &g_file);
	if (r == 0 && (r = vdso_time_start(page)) < 0) {
		file_put(g_file);
		g_file = NULL;
	}
	if (r == 0)
		g_image_len = len - VVAR_SIZE;
	else
		log_warn("vdso: cannot set it up (%s): no vDSO, time calls trap", strerror(-r));
	if (rw)
		file_put(rw);
	free(buf);
}

int vdso_map(struct mm *mm, uint64_t *base)
{
	*base = 0;
	if (!vdso_enabled())
		return 0;
	pthread_once(&g_once, setup);
	if (!g_file)
		return 0;
	long vvar =
	    mm_mmap(mm, 0, VVAR_SIZE + g_image_len, LINUX_PROT_READ, LINUX_MAP_SHARED, g_file, 0);
	if (vvar < 0)
		return (int)vvar;
	long text =
	    mm_mmap(mm, (uint64_t)vvar + VVAR_SIZE, g_image_len, LINUX_PROT_READ | LINUX_PROT_EXEC,
		    LINUX_MAP_PRIVATE | LINUX_MAP_FIXED, g_file, VVAR_SIZE);
	if (text < 0) {
		mm_munmap(mm, (uint64_t)vvar, VVAR_SIZE + g_image_len);
		return (int)text;
	}
	*base = (uint64_t)text;
	return 0;
}

const char *vdso_mapping_name(const struct file *f, uint64_t foff)
{
	if (!f || f != __atomic_load_n(&g_file, __ATOMIC_RELAXED))
		return NULL;
	return foff < VVAR_SIZE ? "[vvar]" : "[vdso]";
}
