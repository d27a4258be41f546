/* Helpers shared by the sentry/mm unit tests: stand-ins for the VFS (a file is a byte array), a
 * fake platform that records and checks every mapping it is told about, one mm per test. */
#ifndef TESTS_UNIT_MM_FAKE_H
#define TESTS_UNIT_MM_FAKE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "common/util.h"
#include "platform/platform.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"
#include "sentry/vfs/vfs.h"

#define PG 4096ULL
#define TOP 0x7ffffffff000ULL

/* ---- stand-ins for the VFS: a file is a byte array ---- */
struct file {
	int refs;
	const char *data;
	size_t size;
	int flags;
	uint32_t mode;
	uint64_t rdev;
	struct mm_filemap *fm; /* a "tmpfs" file: its contents are these pages (data unused) */
	bool lazy;	       /* a "goferfs" file: private mappings filled at first access */
	int reads;	       /* vfs_pread calls */
	struct mm_fcache *cache; /* a "goferfs" file's page cache, or NULL */
};

struct mm_filemap *file_filemap(struct file *f) { return f->fm; }
bool file_fill_lazily(struct file *f) { return f->lazy; }
int file_page_cache(struct file *f, struct mm_fcache **c)
{
	if (!f->cache)
		return -ENODEV;
	*c = f->cache;
	return 0;
}

struct file *file_get(struct file *f)
{
	f->refs++;
	return f;
}
void file_put(struct file *f) { f->refs--; }
int file_flags(const struct file *f) { return f->flags; }
ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off)
{
	f->reads++;
	if (f->fm)
		return (ssize_t)mm_filemap_read(f->fm, buf, n, off);
	if (off >= f->size)
		return 0;
	n = MIN(n, f->size - off);
	memcpy(buf, f->data + off, n);
	return (ssize_t)n;
}
int vfs_fstat(struct file *f, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = f->mode;
	st->st_size = (int64_t)(f->fm ? mm_filemap_size(f->fm) : f->size);
	st->st_rdev = f->rdev;
	return 0;
}

/* ---- a fake platform: each address space keeps the mappings it is given as intervals ---- */
struct fake_map {
	uint64_t start, end, moff;
	int prot;
};
#define FAKE_MAX 8192
struct fake_as {
	struct fake_map maps[FAKE_MAX];
	size_t n;
};
static int n_map, n_unmap, n_protect, n_release, n_create, fail_map;

static void fake_remove(struct fake_as *as, uint64_t start, uint64_t end)
{
	size_t out = 0;
	static struct fake_map keep[FAKE_MAX];
	for (size_t i = 0; i < as->n; i++) {
		struct fake_map m = as->maps[i];
		if (m.end <= start || m.start >= end) {
			keep[out++] = m;
			continue;
		}
		if (m.start < start)
			keep[out++] = (struct fake_map){m.start, start, m.moff, m.prot};
		if (m.end > end)
			keep[out++] =
			    (struct fake_map){end, m.end, m.moff + (end - m.start), m.prot};
		cr_assert(out <= FAKE_MAX);
	}
	memcpy(as->maps, keep, out * sizeof(*keep));
	as->n = out;
}

static struct plat_as *fake_as_create(void)
{
	n_create++;
	return (struct plat_as *)calloc(1, sizeof(struct fake_as));
}
static void fake_as_release(struct plat_as *as)
{
	n_release++;
	free(as);
}
static int fake_as_map(struct plat_as *pas, uint64_t addr, uint64_t len, int prot, int fd,
		       uint64_t off)
{
	struct fake_as *as = (struct fake_as *)pas;
	cr_assert_eq(fd, PLAT_FD_MEMFILE);
	cr_assert(IS_PAGE_ALIGNED(addr) && IS_PAGE_ALIGNED(len) && IS_PAGE_ALIGNED(off) && len);
	if (fail_map)
		return -ENOMEM;
	n_map++;
	fake_remove(as, addr, addr + len);
	cr_assert(as->n < FAKE_MAX);
	as->maps[as->n++] = (struct fake_map){addr, addr + len, off, prot};
	return 0;
}
static int fake_as_unmap(struct plat_as *pas, uint64_t addr, uint64_t len)
{
	n_unmap++;
	fake_remove((struct fake_as *)pas, addr, addr + len);
	return 0;
}
static int fake_as_protect(struct plat_as *pas, uint64_t addr, uint64_t len, int prot)
{
	struct fake_as *as = (struct fake_as *)pas;
	static struct fake_map hit[FAKE_MAX];
	size_t nh = 0;
	uint64_t end = addr + len;
	n_protect++;
	for (size_t i = 0; i < as->n; i++)
		if (as->maps[i].start < end && as->maps[i].end > addr)
			hit[nh++] = as->maps[i];
	fake_remove(as, addr, end);
	for (size_t i = 0; i < nh; i++) {
		uint64_t s = MAX(hit[i].start, addr), e = MIN(hit[i].end, end);
		as->maps[as->n++] = (struct fake_map){s, e, hit[i].moff + (s - hit[i].start), prot};
	}
	return 0;
}

static const struct platform fake_plat = {
    .name = "fake",
    .as_create = fake_as_create,
    .as_release = fake_as_release,
    .as_map = fake_as_map,
    .as_unmap = fake_as_unmap,
    .as_protect = fake_as_protect,
    .max_user_addr = TOP,
};

/* The platform mapping holding addr in mm's address space, or NULL. */
static const struct fake_map *fake_lookup(struct mm *m, uint64_t addr)
{
	/* m->as, not mm_plat_as: callers may hold m's lock, and mm_plat_as may take it to apply
	 * queued zaps. */
	struct fake_as *as = (struct fake_as *)m->as;
	cr_assert(as, "mm not active");
	for (size_t k = 0; k < as->n; k++)
		if (as->maps[k].start <= addr && addr < as->maps[k].end)
			return &as->maps[k];
	return NULL;
}

/* The file page at file offset off of fm: its memory-file offset, or -1 (a hole). */
static int64_t fm_page(struct mm_filemap *fm, uint64_t off)
{
	size_t i = filemap_ext_index(fm, off);
	if (i < fm->n && fm->ext[i].off <= off)
		return (int64_t)(fm->ext[i].moff + (off - fm->ext[i].off));
	return -1;
}

/* A VMA's per-page map is consistent: its entries are inside the map, PG_COW only in a
 * copy-on-write VMA, and pages not copy-on-write are this mm's alone. */
static void check_backing(const struct vma *v)
{
	if (!v->pm)
		return;
	cr_assert_gt(v->pm->refs, 0);
	cr_assert_leq(v->pmi + vma_len(v) / PG, v->pm->n, "entries past the map");
	cr_assert_leq(v->pm->n, v->pm->cap);
	for (uint64_t a = v->start; a < v->end; a += PG) {
		uint32_t e = *vma_pe(v, a);
		if (!(v->flags & VMA_COW))
			cr_assert_eq(e & PG_COW, 0, "PG_COW at %#lx of a VMA not copy-on-write",
				     (unsigned long)a);
		if (!vma_page_cow(v, a) && !(v->flags & VMA_SHARED))
			cr_assert(vma_exclusive_range(v, a, a + PG, NULL),
				  "private page %#lx is shared", (unsigned long)a);
	}
}

/* The platform's picture must match the VMAs exactly: same pages, offsets, protections (minus
 * PROT_WRITE on copy-on-write pages), nothing past a private file mapping's valid end; a shared
 * file mapping's mapped pages (any subset) are the file's own pages at the right offsets. */
static void check_mirror(struct mm *m)
{
	struct fake_as *as = (struct fake_as *)mm_plat_as(m);
	uint64_t vbytes = 0, fbytes = 0;
	cr_assert(as, "mm not active");
	for (size_t i = 0; i < m->n; i++) {
		const struct vma *v = &m->v[i];
		cr_assert(v->start < v->end, "empty vma");
		if (i)
			cr_assert(m->v[i - 1].end <= v->start, "vmas overlap or unsorted");
		if (vma_filemap(v)) {
			for (uint64_t a = v->start; a < v->end; a += PG) {
				const struct fake_map *fm = fake_lookup(m, a);
				if (!fm)
					continue;
				vbytes += PG;
				cr_assert_eq((int64_t)(fm->moff + (a - fm->start)),
					     fm_page(v->fm, v->foff + (a - v->start)),
					     "shared file page %#lx is not the file's",
					     (unsigned long)a);
				cr_assert_eq(fm->prot, vma_plat_prot(v), "page %#lx prot",
					     (unsigned long)a);
			}
			continue;
		}
		uint64_t valid = vma_valid_end(v);
		for (uint64_t a = v->start; a < valid;) {
			const struct fake_map *fm = fake_lookup(m, a);
			if (!fm && v->file) {
				/* filled by copy_in/out (from a grown file, or a lazily filled
				 * mapping's first access): mapped at its first fault */
				a += PG;
				continue;
			}
			cr_assert(fm, "vma page %#lx not mapped in the platform", (unsigned long)a);
			vbytes += PG;
			cr_assert_eq(fm->moff + (a - fm->start), vma_moff_at(v, a),
				     "page %#lx backed by a different offset", (unsigned long)a);
			cr_assert_eq(fm->prot, vma_page_plat_prot(v, a),
				     "page %#lx prot %d in platform, %d in vma", (unsigned long)a,
				     fm->prot, vma_page_plat_prot(v, a));
			a += PG;
		}
		check_backing(v);
		for (uint64_t a = valid; a < v->end; a += PG)
			cr_assert(!fake_lookup(m, a),
				  "page %#lx past the end of the file is mapped", (unsigned long)a);
	}
	for (size_t k = 0; k < as->n; k++)
		fbytes += as->maps[k].end - as->maps[k].start;
	cr_assert_eq(vbytes, fbytes, "platform maps %lu bytes, vmas %lu", (unsigned long)fbytes,
		     (unsigned long)vbytes);
}

static struct mm *mm;
static uint64_t used0;

static void setup(void)
{
	mm_fault_worth = 1; /* copy-on-write decisions must not depend on timing */
	fcache_readahead_on = false; /* nor what a fault fills (test_mm: readahead_fills_text_ahead) */
	cr_assert_eq(memfile_init(), 0);
	used0 = memfile_used();
	mm = mm_create(&fake_plat);
	cr_assert(mm);
	cr_assert_eq(mm_activate(mm), 0);
}
static void teardown(void)
{
	if (mm)
		mm_put(mm);
}

static __attribute__((unused)) long anon(uint64_t addr, uint64_t len, int prot, int extra)
{
	return mm_mmap(mm, addr, len, prot, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | extra, NULL,
		       0);
}
#define RW (LINUX_PROT_READ | LINUX_PROT_WRITE)

/* Collects mappings: vis[0].prot counts them, vis[1...] are they. */
static __attribute__((unused)) int count_vma(const struct mm_vma_info *vi, void *arg)
{
	struct mm_vma_info *out = arg;
	out[out[0].prot++ + 1] = *vi;
	return 0;
}

#endif
