/* procfs: the system-wide files (meminfo, uptime, loadavg, stat, filesystems, version,
 * sys/kernel/...; cpuinfo is procfs_cpuinfo.c). The Sentry has no host /proc: values come from the
 * Sentry's own state, cpuid, and the host calls its seccomp filter already allows (sysinfo,
 * sched_getaffinity, getrandom, clock_gettime). */
#include "sentry/fs/procfs.h"
#include "sentry/fs/procfs_task.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define USER_HZ 100

static uint64_t uptime_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t t = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	return t > g_kernel.boot_time_ns ? t - g_kernel.boot_time_ns : 0;
}

/* ---- memory and load ---- */

int proc_gen_meminfo(struct pbuf *b, int tgid, int tid)
{
	struct sysinfo si;
	uint64_t total = 0, free_host = 0, used = memfile_used();

	(void)tgid;
	(void)tid;
	if (sysinfo(&si) == 0) {
		total = (uint64_t)si.totalram * si.mem_unit;
		free_host = (uint64_t)si.freeram * si.mem_unit;
	}
	/* The sandbox's own view: what its memory file holds is used, the rest is free. */
	uint64_t free_kb = (total > used ? MIN(total - used, free_host + used) : 0) / 1024;
	static const char *const zero[] = {
	    "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal",
	    "SwapFree",	    "Zswap",	      "Zswapped",    "Dirty",	"Writeback",
	};
	pbuf_printf(b, "%-16s%8llu kB\n", "MemTotal:", (unsigned long long)(total / 1024));
	pbuf_printf(b, "%-16s%8llu kB\n", "MemFree:", (unsigned long long)free_kb);
	pbuf_printf(b, "%-16s%8llu kB\n", "MemAvailable:", (unsigned long long)free_kb);
	pbuf_printf(b, "%-16s%8llu kB\n", "Buffers:", 0ULL);
	pbuf_printf(b, "%-16s%8llu kB\n", "Cached:", 0ULL);
	pbuf_printf(b, "%-16s%8llu kB\n", "SwapCached:", 0ULL);
	pbuf_printf(b, "%-16s%8llu kB\n", "Active:", (unsigned long long)(used / 1024));
	pbuf_printf(b, "%-16s%8llu kB\n", "Inactive:", 0ULL);
	pbuf_printf(b, "%-16s%8llu kB\n", "Active(anon):", (unsigned long long)(used / 1024));
	pbuf_printf(b, "%-16s%8llu kB\n", "Inactive(anon):", 0ULL);
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s:", zero[i]);
		pbuf_printf(b, "%-16s%8llu kB\n", name, 0ULL);
	}
	pbuf_printf(b, "%-16s%8llu kB\n", "AnonPages:", (unsigned long long)(used / 1024));
	static const char *const zero2[] = {
	    "Mapped",	     "Shmem",	     "KReclaimable", "Slab",
	    "SReclaimable",  "SUnreclaim",   "KernelStack",  "PageTables",
	    "SecPageTables", "NFS_Unstable", "Bounce",	     "WritebackTmp",
	};
	for (size_t i = 0; i < ARRAY_SIZE(zero2); i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s:", zero2[i]);
		pbuf_printf(b, "%-16s%8llu kB\n", name, 0ULL);
	}
	pbuf_printf(b, "%-16s%8llu kB\n", "CommitLimit:", (unsigned long long)(total / 2048));
	pbuf_printf(b, "%-16s%8llu kB\n", "Committed_AS:", (unsigned long long)(used / 1024));
	pbuf_printf(b, "%-16s%8llu kB\n", "VmallocTotal:", 34359738367ULL);
	static const char *const zero3[] = {
	    "VmallocUsed",    "VmallocChunk",	"Percpu",	 "AnonHugePages",
	    "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
	};
	for (size_t i = 0; i < ARRAY_SIZE(zero3); i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s:", zero3[i]);
		pbuf_printf(b, "%-16s%8llu kB\n", name, 0ULL);
	}
	pbuf_puts(b, "HugePages_Total:       0\nHugePages_Free:        0\n"
		     "HugePages_Rsvd:        0\nHugePages_Surp:        0\n");
	pbuf_printf(b, "%-16s%8llu kB\n", "Hugepagesize:", 2048ULL);
	pbuf_printf(b, "%-16s%8llu kB\n", "Hugetlb:", 0ULL);
	return 0;
}

int proc_gen_uptime(struct pbuf *b, int tgid, int tid)
{
	uint64_t up = uptime_ns() / 10000000ULL; /* hundredths */

	(void)tgid;
	(void)tid;
	pbuf_printf(b, "%llu.%02llu 0.00\n", (unsigned long long)(up / 100),
		    (unsigned long long)(up % 100));
	return 0;
}

struct task_counts {
	int tasks, running, last_pid;
};

static int count_tg(struct thread_group *tg, void *arg)
{
	struct task_counts *c = arg;
	struct list_head *pos;

	if (tg->state != TG_ALIVE)
		return 0;
	list_for_each(pos, &tg->threads)
	{
		struct task *t = list_entry(pos, struct task, tg_link);
		c->tasks++;
		if (atomic_load(&t->in_user) || t == current_task)
			c->running++;
		if (t->tid > c->last_pid)
			c->last_pid = t->tid;
	}
	return 0;
}

static void task_counts(struct task_counts *c)
{
	memset(c, 0, sizeof(*c));
	kernel_lock();
	tg_for_each(count_tg, c);
	kernel_unlock();
	if (!c->running)
		c->running = 1;
}

int proc_gen_loadavg(struct pbuf *b, int tgid, int tid)
{
	struct task_counts c;

	(void)tgid;
	(void)tid;
	task_counts(&c);
	pbuf_printf(b, "0.00 0.00 0.00 %d/%d %d\n", c.running, c.tasks, c.last_pid);
	return 0;
}

int proc_gen_stat_sys(struct pbuf *b, int tgid, int tid)
{
	struct task_counts c;
	struct timespec rt;
	uint64_t up = uptime_ns();
	uint64_t idle = up / (1000000000ULL / USER_HZ);
	int n = proc_ncpus();

	(void)tgid;
	(void)tid;
	task_counts(&c);
	clock_gettime(CLOCK_REALTIME, &rt);
	pbuf_printf(b, "cpu  0 0 0 %llu 0 0 0 0 0 0\n", (unsigned long long)idle * (unsigned)n);
	for (int i = 0; i < n; i++)
		pbuf_printf(b, "cpu%d 0 0 0 %llu 0 0 0 0 0 0\n", i, (unsigned long long)idle);
	pbuf_printf(b,
		    "intr 0\nctxt 0\nbtime %llu\nprocesses %d\nprocs_running %d\n"
		    "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		    (unsigned long long)((uint64_t)rt.tv_sec - up / 1000000000ULL), c.last_pid,
		    c.running);
	return 0;
}

/* ---- identity ---- */

int proc_gen_filesystems(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, "nodev\ttmpfs\nnodev\tproc\nnodev\tpipefs\nnodev\toverlay\nnodev\t9p\n");
	return 0;
}

int proc_gen_version(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, "Linux version " PROC_OSRELEASE " (runsc-c@runsc-c) (runsc-c) " PROC_OSVERSION
		     "\n");
	return 0;
}

int proc_gen_cmdline_sys(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, "BOOT_IMAGE=/vmlinuz-" PROC_OSRELEASE " ro quiet\n");
	return 0;
}

int proc_gen_sys_hostname(struct pbuf *b, int tgid, int tid)
{
	char name[sizeof(g_kernel.hostname)];

	(void)tgid;
	(void)tid;
	kernel_lock();
	memcpy(name, g_kernel.hostname, sizeof(name));
	kernel_unlock();
	name[sizeof(name) - 1] = '\0';
	pbuf_printf(b, "%s\n", name);
	return 0;
}

int proc_gen_sys_ostype(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, PROC_OSTYPE "\n");
	return 0;
}

int proc_gen_sys_osrelease(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, PROC_OSRELEASE "\n");
	return 0;
}

int proc_gen_sys_version(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pbuf_puts(b, PROC_OSVERSION "\n");
	return 0;
}

/* A random (version 4) UUID as the kernel's uuid files print it. */
static void put_uuid(struct pbuf *b, const uint8_t u[16])
{
	pbuf_printf(b, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		    u[13], u[14], u[15]);
}

static int random_uuid(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		return -EIO;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	return 0;
}

static uint8_t g_boot_id[16];
static int g_boot_id_err;
static pthread_once_t g_boot_id_once = PTHREAD_ONCE_INIT;

static void boot_id_init(void) { g_boot_id_err = random_uuid(g_boot_id); }

int proc_gen_sys_boot_id(struct pbuf *b, int tgid, int tid)
{
	(void)tgid;
	(void)tid;
	pthread_once(&g_boot_id_once, boot_id_init);
	if (g_boot_id_err)
		return g_boot_id_err;
	put_uuid(b, g_boot_id);
	return 0;
}

int proc_gen_sys_uuid(struct pbuf *b, int tgid, int tid)
{
	uint8_t u[16];
	int r = random_uuid(u);

	(void)tgid;
	(void)tid;
	if (r == 0)
		put_uuid(b, u);
	return r;
}
