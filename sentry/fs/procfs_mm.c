/* procfs: what /proc/PID shows of a process's memory: maps, the memory figures of stat and
 * status, and cmdline and environ read out of the process's own stack. */
#include "sentry/fs/procfs.h"
#include "sentry/fs/procfs_task.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/vdso.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"

/* ---- memory figures ---- */

struct mm_walk {
	struct proc_mm_info *mi;
	struct inode *exe;
};

static int account_vma(const struct mm_vma_info *vi, void *arg)
{
	struct mm_walk *w = arg;
	struct proc_mm_info *mi = w->mi;
	uint64_t len = vi->end - vi->start;
	bool exe = vi->file && w->exe && vi->file->inode == w->exe;

	mi->total_vm += len;
	/* vm_stat_account's classes */
	if ((vi->prot & LINUX_PROT_EXEC) && !(vi->prot & LINUX_PROT_WRITE) && !vi->stack)
		mi->exec_vm += len;
	else if (vi->stack)
		mi->stack_vm += len;
	else if ((vi->prot & LINUX_PROT_WRITE) && !vi->shared)
		mi->data_vm += len;
	/* Resident: the Sentry backs every accessible mapping, so count those. */
	if (vi->prot != LINUX_PROT_NONE) {
		if (vi->shared && !vi->file)
			mi->rss_shmem += len;
		else if (vi->file && !(vi->prot & LINUX_PROT_WRITE))
			mi->rss_file += len;
		else
			mi->rss_anon += len;
	}
	if (exe) {
		if (!mi->start_code || vi->start < mi->start_code)
			mi->start_code = vi->start;
		if ((vi->prot & LINUX_PROT_EXEC) && vi->end > mi->end_code)
			mi->end_code = vi->end;
		if ((vi->prot & LINUX_PROT_WRITE) && !mi->start_data)
			mi->start_data = vi->start;
		if (vi->end > mi->end_data)
			mi->end_data = vi->end;
	}
	if (vi->heap) {
		mi->start_brk = vi->start;
		mi->brk = vi->end;
	}
	return 0;
}

void proc_mm_info(struct mm *mm, struct file *exe, struct proc_mm_info *mi)
{
	struct mm_walk w = {mi, exe ? exe->inode : NULL};

	mi->has_mm = true;
	mm_for_each_vma(mm, account_vma, &w);
	if (!mi->start_brk)
		mi->start_brk = mi->brk = PAGE_ALIGN_UP(mi->end_data);
}

/* ---- maps ---- */

struct maps_collect {
	struct mm_vma_info *v;
	size_t n, cap;
	bool nomem;
};

static int collect_vma(const struct mm_vma_info *vi, void *arg)
{
	struct maps_collect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct mm_vma_info *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->nomem = true;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n] = *vi;
	/* The file is borrowed for the callback only: keep it until we have formatted it. */
	if (vi->file)
		file_get(vi->file);
	c->n++;
	return 0;
}

int proc_gen_pid_maps(struct pbuf *b, int tgid, int tid)
{
	struct maps_collect c = {0};
	struct proc_refs r;
	char path[LINUX_PATH_MAX];
	int ret;

	if ((ret = proc_refs_get(tgid, tid, PROC_REF_MM, &r)) < 0)
		return ret;
	if (r.mm)
		mm_for_each_vma(r.mm, collect_vma, &c);
	proc_refs_put(&r);
	for (size_t i = 0; i < c.n; i++) {
		const struct mm_vma_info *vi = &c.v[i];
		struct proc_map_line m = {
		    .start = vi->start,
		    .end = vi->end,
		    .prot = vi->prot,
		    .shared = vi->shared,
		};
		const char *special = vdso_mapping_name(vi->file, vi->foff);
		if (special) {
			/* Linux shows its special mappings as private, with no file */
			m.name = special;
			m.shared = false;
			file_put(vi->file);
		} else if (vi->file) {
			struct linux_stat st;
			m.offset = vi->foff;
			if (vfs_fstat(vi->file, &st) == 0) {
				m.dev_major = VFS_MAJOR(st.st_dev);
				m.dev_minor = VFS_MINOR(st.st_dev);
				m.ino = st.st_ino;
			}
			if (file_path(vi->file, path, sizeof(path)) >= 0)
				m.name = path;
			file_put(vi->file);
		} else if (vi->heap) {
			m.name = "[heap]";
		} else if (vi->stack) {
			m.name = "[stack]";
		} else if (vi->shared) {
			/* shmem_zero_setup: shared anonymous memory is a deleted /dev/zero */
			m.dev_minor = 1;
			m.name = "/dev/zero (deleted)";
		}
		proc_fmt_maps_line(b, &m);
	}
	free(c.v);
	if (c.nomem)
		return -ENOMEM;
	/* x86-64's legacy vsyscall page (vsyscall=xonly), always last */
	proc_fmt_maps_line(b, &(struct proc_map_line){.start = 0xffffffffff600000ULL,
						      .end = 0xffffffffff601000ULL,
						      .prot = LINUX_PROT_EXEC,
						      .name = "[vsyscall]"});
	return 0;
}

/* ---- cmdline and environ ---- */

/* Copy [start, end) of mm into b, stopping at the first page that cannot be read. */
static void copy_range(struct pbuf *b, struct mm *mm, uint64_t start, uint64_t end)
{
	char page[4096];

	while (start < end) {
		size_t n = (size_t)MIN(end - start, (uint64_t)sizeof(page) - (start & 4095));
		if (copy_in(mm, page, start, n) < 0)
			return;
		pbuf_put(b, page, n);
		start += n;
	}
}

/* get_mm_cmdline: argv as the process left it. If the NUL that ended the last argument has been
 * overwritten (setproctitle), the first string from arg_start, up to a page, is the title. */
static void cmdline_of(struct pbuf *b, struct mm *mm, const struct mm_args *a)
{
	uint64_t env_end = a->env_end, env_start = a->env_start;
	char c, page[4096];

	if (!a->env_end || a->arg_start >= a->arg_end)
		return;
	if (env_start != a->arg_end || env_end < env_start)
		env_start = env_end = a->arg_end;
	if (copy_in(mm, &c, a->arg_end - 1, 1) == 0 && c) {
		size_t want = (size_t)MIN(env_end - a->arg_start, (uint64_t)sizeof(page));
		size_t got = 0;
		/* what can be read of the first page-worth, page by page */
		while (got < want) {
			size_t n = (size_t)MIN(want - got, 4096 - ((a->arg_start + got) & 4095));
			if (copy_in(mm, page + got, a->arg_start + got, n) < 0)
				break;
			got += n;
		}
		if (got) {
			size_t len = strnlen(page, got);
			if (len < got)
				len++; /* the NUL, when found */
			pbuf_put(b, page, len);
		}
		return;
	}
	copy_range(b, mm, a->arg_start, a->arg_end);
}

int proc_gen_pid_cmdline(struct pbuf *b, int tgid, int tid)
{
	struct proc_refs r;
	struct mm_args a = {0};
	int ret;

	if ((ret = proc_refs_get(tgid, tid, PROC_REF_MM, &r)) < 0)
		return ret;
	if (r.mm) {
		mm_get_args(r.mm, &a);
		cmdline_of(b, r.mm, &a);
	}
	proc_refs_put(&r);
	return 0;
}

/* environ: the reader needs ptrace read access to the process (EACCES at open otherwise). */
int proc_gen_pid_environ(struct pbuf *b, int tgid, int tid)
{
	struct proc_refs r = {0};
	struct mm_args a = {0};
	struct task *t;
	bool ok;

	kernel_lock();
	t = proc_find_task_locked(tgid, tid);
	ok = t && proc_may_access_locked(t);
	if (ok)
		proc_refs_take_locked(t, tid, PROC_REF_MM, &r);
	kernel_unlock();
	if (!t)
		return -ESRCH;
	if (!ok)
		return -EACCES;
	if (r.mm) {
		mm_get_args(r.mm, &a);
		if (a.env_end > a.env_start)
			copy_range(b, r.mm, a.env_start, a.env_end);
	}
	proc_refs_put(&r);
	return 0;
}
