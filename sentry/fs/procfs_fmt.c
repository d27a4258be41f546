/* procfs formatters: the text of /proc/PID/{stat,status,statm,limits,maps,mounts,mountinfo}
 * from plain snapshots, byte for byte as Linux 6.x's fs/proc/array.c, task_mmu.c and
 * proc_namespace.c write it. Pure: no kernel state, no locks. */
#include "sentry/fs/procfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* ---- the buffer ---- */

static bool pbuf_reserve(struct pbuf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void pbuf_put(struct pbuf *b, const void *p, size_t n)
{
	if (!pbuf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void pbuf_puts(struct pbuf *b, const char *s) { pbuf_put(b, s, strlen(s)); }

void pbuf_printf(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !pbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void pbuf_pad_line(struct pbuf *b, size_t col)
{
	size_t start = b->len;

	while (start > 0 && b->data[start - 1] != '\n')
		start--;
	for (size_t cur = b->len - start; cur < col; cur++)
		pbuf_put(b, " ", 1);
}

void pbuf_free(struct pbuf *b)
{
	free(b->data);
	*b = (struct pbuf){0};
}

/* ---- processes ---- */

const char *proc_state_name(char state)
{
	switch (state) {
	case 'R':
		return "R (running)";
	case 'S':
		return "S (sleeping)";
	case 'D':
		return "D (disk sleep)";
	case 'T':
		return "T (stopped)";
	case 't':
		return "t (tracing stop)";
	case 'X':
		return "X (dead)";
	case 'Z':
		return "Z (zombie)";
	default:
		return "I (idle)";
	}
}

void proc_put_escaped_comm(struct pbuf *b, const char *comm)
{
	for (size_t i = 0; i < 16 && comm[i]; i++) {
		if (comm[i] == '\n')
			pbuf_puts(b, "\\n");
		else if (comm[i] == '\\')
			pbuf_puts(b, "\\\\");
		else
			pbuf_put(b, &comm[i], 1);
	}
}

#define TICKS_NONE 0

void proc_fmt_stat(struct pbuf *b, const struct proc_task_info *ti, bool permitted)
{
	const struct proc_mm_info *mm = &ti->mm;
	char comm[17];

	memcpy(comm, ti->comm, 16);
	comm[16] = '\0';
	pbuf_printf(b, "%d (%s) %c %d %d %d %d %d %u", ti->pid, comm, ti->state, ti->ppid, ti->pgid,
		    ti->sid, ti->tty_nr, ti->tpgid, ti->flags);
	/* minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime */
	pbuf_printf(b, " 0 0 0 0 %llu %llu %llu %llu %lld %lld %d 0 %llu",
		    (unsigned long long)ti->utime, (unsigned long long)ti->stime,
		    (unsigned long long)ti->cutime, (unsigned long long)ti->cstime,
		    (long long)(20 + ti->nice), (long long)ti->nice, ti->nthreads,
		    (unsigned long long)ti->start_ticks);
	/* vsize rss rsslim startcode endcode startstack kstkesp kstkeip */
	pbuf_printf(b, " %llu %llu %llu %llu %llu %llu 0 0", (unsigned long long)mm->total_vm,
		    (unsigned long long)((mm->rss_anon + mm->rss_file + mm->rss_shmem) / PAGE_SIZE),
		    (unsigned long long)ti->rsslim,
		    (unsigned long long)(mm->has_mm ? (permitted ? mm->start_code : 1) : 0),
		    (unsigned long long)(mm->has_mm ? (permitted ? mm->end_code : 1) : 0),
		    (unsigned long long)(permitted && mm->has_mm ? mm->start_stack : 0));
	/* signal blocked sigignore sigcatch (obsolete: the low 31 bits) wchan nswap cnswap */
	pbuf_printf(b, " %llu %llu %llu %llu 0 0 0",
		    (unsigned long long)(ti->sig_pending & 0x7fffffffULL),
		    (unsigned long long)(ti->sig_blocked & 0x7fffffffULL),
		    (unsigned long long)(ti->sig_ignored & 0x7fffffffULL),
		    (unsigned long long)(ti->sig_caught & 0x7fffffffULL));
	/* exit_signal processor rt_priority policy blkio_ticks gtime cgtime */
	pbuf_printf(b, " %d %d 0 %d 0 0 0", ti->exit_signal, ti->processor, ti->policy);
	if (mm->has_mm && permitted)
		pbuf_printf(b, " %llu %llu %llu %llu %llu %llu %llu",
			    (unsigned long long)mm->start_data, (unsigned long long)mm->end_data,
			    (unsigned long long)mm->start_brk, (unsigned long long)mm->arg_start,
			    (unsigned long long)mm->arg_end, (unsigned long long)mm->env_start,
			    (unsigned long long)mm->env_end);
	else
		pbuf_puts(b, " 0 0 0 0 0 0 0");
	pbuf_printf(b, " %d\n", permitted ? ti->exit_code : 0);
}

/* "Name:\t%8llu kB\n" as SEQ_PUT_DEC with width 8 does it. */
static void put_kb(struct pbuf *b, const char *name, uint64_t bytes)
{
	pbuf_printf(b, "%s:\t%8llu kB\n", name, (unsigned long long)(bytes >> 10));
}

static void put_sigset(struct pbuf *b, const char *name, uint64_t set)
{
	pbuf_printf(b, "%s:\t%016llx\n", name, (unsigned long long)set);
}

/* Linux's code size: the span of the code segment, at most what is mapped executable. */
static uint64_t mm_text(const struct proc_mm_info *mm)
{
	uint64_t text = 0;

	if (mm->end_code > mm->start_code)
		text = PAGE_ALIGN_UP(mm->end_code) - PAGE_ALIGN_DOWN(mm->start_code);
	return MIN(text, mm->exec_vm);
}

static void status_mem(struct pbuf *b, const struct proc_mm_info *mm)
{
	uint64_t rss = mm->rss_anon + mm->rss_file + mm->rss_shmem;
	uint64_t text = mm_text(mm);

	put_kb(b, "VmPeak", mm->total_vm);
	put_kb(b, "VmSize", mm->total_vm);
	put_kb(b, "VmLck", 0);
	put_kb(b, "VmPin", 0);
	put_kb(b, "VmHWM", rss);
	put_kb(b, "VmRSS", rss);
	put_kb(b, "RssAnon", mm->rss_anon);
	put_kb(b, "RssFile", mm->rss_file);
	put_kb(b, "RssShmem", mm->rss_shmem);
	put_kb(b, "VmData", mm->data_vm);
	put_kb(b, "VmStk", mm->stack_vm);
	put_kb(b, "VmExe", text);
	put_kb(b, "VmLib", mm->exec_vm - text);
	/* page tables: 8 bytes per mapped page, at least a page (a rough but honest figure) */
	put_kb(b, "VmPTE", MAX(PAGE_SIZE, PAGE_ALIGN_UP(mm->total_vm / PAGE_SIZE * 8)));
	put_kb(b, "VmSwap", 0);
	put_kb(b, "HugetlbPages", 0);
	pbuf_puts(b, "CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n");
}

/* A cpumask of n CPUs: hex in comma-separated 32-bit words, as %*pb prints it. */
static void put_cpumask(struct pbuf *b, int n)
{
	int words = (n + 31) / 32;

	for (int w = words - 1; w >= 0; w--) {
		int bits = MIN(32, n - w * 32);
		uint32_t v = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1);
		if (w == words - 1)
			pbuf_printf(b, "%x", v);
		else
			pbuf_printf(b, ",%08x", v);
	}
}

void proc_fmt_status(struct pbuf *b, const struct proc_task_info *ti)
{
	uint64_t full_caps = (1ULL << 41) - 1; /* CAP_LAST_CAP 40 */
	uint64_t caps = ti->uid[1] == 0 ? full_caps : 0;

	pbuf_puts(b, "Name:\t");
	proc_put_escaped_comm(b, ti->comm);
	pbuf_puts(b, "\n");
	if (!ti->no_fs)
		pbuf_printf(b, "Umask:\t%04o\n", ti->umask);
	pbuf_printf(b, "State:\t%s\n", proc_state_name(ti->state));
	pbuf_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n", ti->tgid,
		    ti->pid, ti->ppid, ti->tracer_pid);
	pbuf_printf(b, "Uid:\t%u\t%u\t%u\t%u\n", ti->uid[0], ti->uid[1], ti->uid[2], ti->uid[3]);
	pbuf_printf(b, "Gid:\t%u\t%u\t%u\t%u\n", ti->gid[0], ti->gid[1], ti->gid[2], ti->gid[3]);
	pbuf_printf(b, "FDSize:\t%d\nGroups:\t", ti->fd_size);
	for (uint32_t i = 0; i < ti->ngroups && i < ARRAY_SIZE(ti->groups); i++)
		pbuf_printf(b, i ? " %u" : "%u", ti->groups[i]);
	pbuf_puts(b, " \n"); /* Linux's trailing space */
	pbuf_printf(b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n", ti->tgid,
		    ti->pid, ti->pgid, ti->sid);
	if (ti->mm.has_mm)
		status_mem(b, &ti->mm);
	pbuf_printf(b, "Threads:\t%d\nSigQ:\t%llu/%llu\n", ti->nthreads,
		    (unsigned long long)ti->sigq_count, (unsigned long long)ti->sigq_limit);
	put_sigset(b, "SigPnd", ti->sig_pending);
	put_sigset(b, "ShdPnd", ti->shared_pending);
	put_sigset(b, "SigBlk", ti->sig_blocked);
	put_sigset(b, "SigIgn", ti->sig_ignored);
	put_sigset(b, "SigCgt", ti->sig_caught);
	put_sigset(b, "CapInh", ti->caps_set ? ti->cap_inh : 0);
	put_sigset(b, "CapPrm", ti->caps_set ? ti->cap_prm : caps);
	put_sigset(b, "CapEff", ti->caps_set ? ti->cap_eff : caps);
	put_sigset(b, "CapBnd", ti->caps_set ? ti->cap_bnd : full_caps);
	put_sigset(b, "CapAmb", ti->caps_set ? ti->cap_amb : 0);
	pbuf_printf(b, "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", ti->no_new_privs);
	pbuf_puts(b, "Speculation_Store_Bypass:\tthread vulnerable\n"
		     "SpeculationIndirectBranch:\tconditional enabled\n");
	int ncpus = ti->ncpus > 0 ? ti->ncpus : 1;
	pbuf_puts(b, "Cpus_allowed:\t");
	put_cpumask(b, ncpus);
	if (ncpus == 1)
		pbuf_puts(b, "\nCpus_allowed_list:\t0\n");
	else
		pbuf_printf(b, "\nCpus_allowed_list:\t0-%d\n", ncpus - 1);
	/* MAX_NUMNODES 1024 as Debian's kernels: 32 words, node 0 only */
	pbuf_puts(b, "Mems_allowed:\t");
	for (int i = 0; i < 31; i++)
		pbuf_puts(b, "00000000,");
	pbuf_puts(b, "00000001\nMems_allowed_list:\t0\n");
	pbuf_puts(b, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}

void proc_fmt_statm(struct pbuf *b, const struct proc_task_info *ti)
{
	const struct proc_mm_info *mm = &ti->mm;
	uint64_t shared = (mm->rss_file + mm->rss_shmem) / PAGE_SIZE;
	uint64_t resident = shared + mm->rss_anon / PAGE_SIZE;
	uint64_t text = 0;

	if (!mm->has_mm) {
		pbuf_puts(b, "0 0 0 0 0 0 0\n");
		return;
	}
	if (mm->end_code > mm->start_code)
		text = (PAGE_ALIGN_UP(mm->end_code) - PAGE_ALIGN_DOWN(mm->start_code)) / PAGE_SIZE;
	pbuf_printf(b, "%llu %llu %llu %llu 0 %llu 0\n",
		    (unsigned long long)(mm->total_vm / PAGE_SIZE), (unsigned long long)resident,
		    (unsigned long long)shared, (unsigned long long)text,
		    (unsigned long long)((mm->data_vm + mm->stack_vm) / PAGE_SIZE));
}

void proc_fmt_limits(struct pbuf *b, const struct linux_rlimit *rl)
{
	static const struct {
		const char *name, *unit;
	} names[LINUX_RLIM_NLIMITS] = {
	    {"Max cpu time", "seconds"},     {"Max file size", "bytes"},
	    {"Max data size", "bytes"},	     {"Max stack size", "bytes"},
	    {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
	    {"Max processes", "processes"},  {"Max open files", "files"},
	    {"Max locked memory", "bytes"},  {"Max address space", "bytes"},
	    {"Max file locks", "locks"},     {"Max pending signals", "signals"},
	    {"Max msgqueue size", "bytes"},  {"Max nice priority", NULL},
	    {"Max realtime priority", NULL}, {"Max realtime timeout", "us"},
	};

	pbuf_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (size_t i = 0; i < LINUX_RLIM_NLIMITS; i++) {
		if (rl[i].rlim_cur == LINUX_RLIM_INFINITY)
			pbuf_printf(b, "%-25s %-20s ", names[i].name, "unlimited");
		else
			pbuf_printf(b, "%-25s %-20llu ", names[i].name,
				    (unsigned long long)rl[i].rlim_cur);
		if (rl[i].rlim_max == LINUX_RLIM_INFINITY)
			pbuf_printf(b, "%-20s ", "unlimited");
		else
			pbuf_printf(b, "%-20llu ", (unsigned long long)rl[i].rlim_max);
		if (names[i].unit)
			pbuf_printf(b, "%-10s\n", names[i].unit);
		else
			pbuf_puts(b, "\n");
	}
}

/* ---- maps ---- */

void proc_fmt_maps_line(struct pbuf *b, const struct proc_map_line *m)
{
	pbuf_printf(
	    b, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long long)m->start,
	    (unsigned long long)m->end, (m->prot & LINUX_PROT_READ) ? 'r' : '-',
	    (m->prot & LINUX_PROT_WRITE) ? 'w' : '-', (m->prot & LINUX_PROT_EXEC) ? 'x' : '-',
	    m->shared ? 's' : 'p', (unsigned long long)m->offset, m->dev_major, m->dev_minor,
	    (unsigned long long)m->ino);
	if (m->name) {
		/* seq_setwidth(25 + 6 * sizeof(void *) - 1) then seq_pad(' ') */
		pbuf_pad_line(b, 72);
		pbuf_puts(b, " ");
		pbuf_puts(b, m->name);
	}
	pbuf_puts(b, "\n");
}

/* ---- mounts ---- */

void proc_put_mangled(struct pbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			pbuf_printf(b, "\\%03o", (unsigned char)*s);
		else
			pbuf_put(b, s, 1);
	}
}

void proc_fmt_mounts_line(struct pbuf *b, const struct proc_mount_line *m)
{
	proc_put_mangled(b, m->source);
	pbuf_puts(b, " ");
	proc_put_mangled(b, m->mountpoint);
	pbuf_puts(b, " ");
	proc_put_mangled(b, m->fstype);
	pbuf_printf(b, " %s%s%s 0 0\n", m->readonly ? "ro" : "rw", m->mnt_opts, m->super_opts);
}

void proc_fmt_mountinfo_line(struct pbuf *b, const struct proc_mount_line *m)
{
	pbuf_printf(b, "%d %d %u:%u ", m->id, m->parent_id, m->dev_major, m->dev_minor);
	proc_put_mangled(b, m->root);
	pbuf_puts(b, " ");
	proc_put_mangled(b, m->mountpoint);
	pbuf_printf(b, " %s%s - ", m->readonly ? "ro" : "rw", m->mnt_opts);
	proc_put_mangled(b, m->fstype);
	pbuf_puts(b, " ");
	proc_put_mangled(b, m->source);
	pbuf_printf(b, " %s%s\n", m->readonly ? "ro" : "rw", m->super_opts);
}
