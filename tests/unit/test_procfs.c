/* Unit tests for the procfs formatters (sentry/fs/procfs_fmt.c): /proc/PID/stat, status,
 * statm, limits, maps, mounts and mountinfo text, checked byte for byte against what Linux 6.x
 * prints, and field for field against the build host's own /proc/self. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "sentry/fs/procfs.h"

/* The host example of these tests: cat(1) on Linux 6.18. */
static struct proc_task_info cat_info(void)
{
	struct proc_task_info ti = {
	    .pid = 4284,
	    .tgid = 4284,
	    .ppid = 4279,
	    .pgid = 4279,
	    .sid = 30492,
	    .comm = "cat",
	    .state = 'R',
	    .tty_nr = 0,
	    .tpgid = -1,
	    .flags = 4194304,
	    .nthreads = 1,
	    .start_ticks = 197708,
	    .rsslim = LINUX_RLIM_INFINITY,
	    .exit_signal = 17,
	    .uid = {0, 0, 0, 0},
	    .gid = {0, 0, 0, 0},
	    .umask = 022,
	    .fd_size = 256,
	    .sigq_limit = 96364,
	    .ncpus = 2,
	    .mm =
		{
		    .has_mm = true,
		    .total_vm = 3133440,
		    .rss_anon = 112 * 1024,
		    .rss_file = 1540 * 1024,
		    .start_code = 94244314230784ULL,
		    .end_code = 94244314250665ULL,
		    .start_stack = 140732240929904ULL,
		    .start_data = 94244314266672ULL,
		    .end_data = 94244314268288ULL,
		    .start_brk = 94244901437440ULL,
		    .arg_start = 140732240935564ULL,
		    .arg_end = 140732240935584ULL,
		    .env_start = 140732240935584ULL,
		    .env_end = 140732240936939ULL,
		    .data_vm = 360 * 1024,
		    .stack_vm = 132 * 1024,
		    .exec_vm = 1548 * 1024,
		},
	};
	return ti;
}

Test(procfs_stat, matches_linux)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	proc_fmt_stat(&b, &ti, true);
	cr_assert_str_eq(
	    b.data,
	    "4284 (cat) R 4279 4279 30492 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 197708 3133440 "
	    "413 18446744073709551615 94244314230784 94244314250665 140732240929904 0 0 0 0 0 "
	    "0 0 0 0 17 0 0 0 0 0 0 94244314266672 94244314268288 94244901437440 "
	    "140732240935564 140732240935584 140732240935584 140732240936939 0\n");
	pbuf_free(&b);
}

Test(procfs_stat, hides_addresses_when_not_permitted)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	ti.exit_code = 256;
	proc_fmt_stat(&b, &ti, false);
	cr_assert(strstr(b.data, " 18446744073709551615 1 1 0 0 0 "), "%s", b.data);
	cr_assert(strstr(b.data, " 0 0 0 0 0 0 0 0\n"), "%s", b.data);
	pbuf_free(&b);
}

Test(procfs_stat, zombie_and_comm_with_spaces)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	ti.mm = (struct proc_mm_info){0};
	ti.state = 'Z';
	strcpy(ti.comm, "a b) c");
	ti.exit_code = 9;
	proc_fmt_stat(&b, &ti, true);
	cr_assert(strncmp(b.data, "4284 (a b) c) Z 4279 ", 21) == 0, "%s", b.data);
	/* vsize rss rsslim startcode endcode startstack */
	cr_assert(strstr(b.data, " 197708 0 0 18446744073709551615 0 0 0 0 0 "), "%s", b.data);
	cr_assert(strstr(b.data, " 0 0 0 0 0 0 0 9\n"), "%s", b.data);
	/* 52 fields */
	int fields = 0;
	for (const char *p = strrchr(b.data, ')') + 1; *p; p++)
		fields += *p == ' ';
	cr_assert_eq(fields + 2, 52);
	pbuf_free(&b);
}

/* The value of "Name:\t..." in a status text, or NULL. */
static char *status_line(const char *text, const char *name)
{
	static char line[256];
	char key[64];

	snprintf(key, sizeof(key), "\n%s:", name);
	const char *p = strncmp(text, key + 1, strlen(key) - 1) == 0 ? text : strstr(text, key);
	if (!p)
		return NULL;
	if (*p == '\n')
		p++;
	size_t n = strcspn(p, "\n");
	memcpy(line, p, n);
	line[n] = '\0';
	return line;
}

Test(procfs_status, fields_as_linux)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	proc_fmt_status(&b, &ti);
	cr_assert(strncmp(b.data,
			  "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t4284\n"
			  "Ngid:\t0\nPid:\t4284\nPPid:\t4279\nTracerPid:\t0\n"
			  "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \n"
			  "NStgid:\t4284\nNSpid:\t4284\nNSpgid:\t4279\nNSsid:\t30492\n"
			  "Kthread:\t0\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\n",
			  strlen("Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t4284\n"
				 "Ngid:\t0\nPid:\t4284\nPPid:\t4279\nTracerPid:\t0\n"
				 "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \n"
				 "NStgid:\t4284\nNSpid:\t4284\nNSpgid:\t4279\nNSsid:\t30492\n"
				 "Kthread:\t0\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\n")) == 0,
		  "%s", b.data);
	cr_assert_str_eq(status_line(b.data, "VmRSS"), "VmRSS:\t    1652 kB");
	cr_assert_str_eq(status_line(b.data, "RssAnon"), "RssAnon:\t     112 kB");
	cr_assert_str_eq(status_line(b.data, "VmData"), "VmData:\t     360 kB");
	cr_assert_str_eq(status_line(b.data, "VmStk"), "VmStk:\t     132 kB");
	/* VmExe: the code span (5 pages), VmLib the rest of the executable mappings */
	cr_assert_str_eq(status_line(b.data, "VmExe"), "VmExe:\t      20 kB");
	cr_assert_str_eq(status_line(b.data, "VmLib"), "VmLib:\t    1528 kB");
	cr_assert_str_eq(status_line(b.data, "SigQ"), "SigQ:\t0/96364");
	cr_assert_str_eq(status_line(b.data, "CapEff"), "CapEff:\t000001ffffffffff");
	cr_assert_str_eq(status_line(b.data, "Cpus_allowed"), "Cpus_allowed:\t3");
	cr_assert_str_eq(status_line(b.data, "Cpus_allowed_list"), "Cpus_allowed_list:\t0-1");
	cr_assert_str_eq(status_line(b.data, "untag_mask"), "untag_mask:\t0xffffffffffffffff");
	cr_assert(strstr(b.data, "\nnonvoluntary_ctxt_switches:\t0\n"));
	pbuf_free(&b);
}

Test(procfs_status, signals_groups_and_escapes)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	ti.sig_blocked = 1ULL << 16; /* SIGCHLD */
	ti.sig_caught = 0x4b813efbULL;
	ti.ngroups = 3;
	ti.groups[0] = 4;
	ti.groups[1] = 24;
	ti.groups[2] = 27;
	ti.uid[0] = ti.uid[1] = ti.uid[2] = ti.uid[3] = 1000;
	strcpy(ti.comm, "a\\b\nc");
	ti.mm.has_mm = false;
	ti.state = 'Z';
	proc_fmt_status(&b, &ti);
	cr_assert_str_eq(status_line(b.data, "Name"), "Name:\ta\\\\b\\nc");
	cr_assert_str_eq(status_line(b.data, "State"), "State:\tZ (zombie)");
	cr_assert_str_eq(status_line(b.data, "Groups"), "Groups:\t4 24 27 ");
	cr_assert_str_eq(status_line(b.data, "SigBlk"), "SigBlk:\t0000000000010000");
	cr_assert_str_eq(status_line(b.data, "SigCgt"), "SigCgt:\t000000004b813efb");
	cr_assert_str_eq(status_line(b.data, "CapEff"), "CapEff:\t0000000000000000");
	/* no mm: no Vm lines, as Linux for a zombie */
	cr_assert_null(status_line(b.data, "VmSize"));
	cr_assert_null(status_line(b.data, "THP_enabled"));
	pbuf_free(&b);
}

/* The field names of a status text, in order. */
static int status_names(const char *text, char names[][40], int max)
{
	int n = 0;

	for (const char *p = text; *p && n < max;) {
		size_t k = strcspn(p, ":\n");
		if (p[k] == ':' && k < 40) {
			memcpy(names[n], p, k);
			names[n++][k] = '\0';
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return n;
}

Test(procfs_status, same_fields_in_same_order_as_the_host)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};
	static char host[8192], ours[80][40], theirs[80][40];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		cr_skip_test("no host /proc");
	size_t n = fread(host, 1, sizeof(host) - 1, f);
	fclose(f);
	host[n] = '\0';
	proc_fmt_status(&b, &ti);
	int no = status_names(b.data, ours, 80), nt = status_names(host, theirs, 80);
	/* Every field we print is the host's, in the host's order (a host may have a few more:
	 * x86_Thread_features depends on the CPU). */
	int j = 0;
	for (int i = 0; i < no; i++) {
		while (j < nt && strcmp(ours[i], theirs[j]) != 0)
			j++;
		cr_assert_lt(j, nt, "field %s missing or out of order on the host", ours[i]);
	}
	cr_assert_geq(no, nt - 2, "we print %d fields, the host %d", no, nt);
	pbuf_free(&b);
}

Test(procfs_statm, pages)
{
	struct proc_task_info ti = cat_info();
	struct pbuf b = {0};

	proc_fmt_statm(&b, &ti);
	/* size resident shared text lib data dt */
	cr_assert_str_eq(b.data, "765 413 385 5 0 123 0\n");
	pbuf_free(&b);
	ti.mm.has_mm = false;
	proc_fmt_statm(&b, &ti);
	cr_assert_str_eq(b.data, "0 0 0 0 0 0 0\n");
	pbuf_free(&b);
}

Test(procfs_limits, as_linux)
{
	struct linux_rlimit rl[LINUX_RLIM_NLIMITS];
	struct pbuf b = {0};

	for (int i = 0; i < LINUX_RLIM_NLIMITS; i++)
		rl[i] = (struct linux_rlimit){LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY};
	rl[LINUX_RLIMIT_STACK].rlim_cur = 8388608;
	rl[LINUX_RLIMIT_NOFILE] = (struct linux_rlimit){20000, 20000};
	rl[LINUX_RLIMIT_NICE] = (struct linux_rlimit){0, 0};
	proc_fmt_limits(&b, rl);
	cr_assert(
	    strncmp(
		b.data,
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max cpu time              unlimited            unlimited            seconds   \n",
		158) == 0,
	    "%s", b.data);
	cr_assert(strstr(b.data, "\nMax stack size            8388608              unlimited    "
				 "        bytes     \n"));
	cr_assert(strstr(b.data, "\nMax open files            20000                20000        "
				 "        files     \n"));
	cr_assert(strstr(b.data, "\nMax nice priority         0                    0            "
				 "        \n"));
	pbuf_free(&b);
}

Test(procfs_maps, lines_as_linux)
{
	struct pbuf b = {0};

	proc_fmt_maps_line(&b,
			   &(struct proc_map_line){0x55bfb4d19000, 0x55bfb4d1b000, LINUX_PROT_READ,
						   false, 0, 0xfe, 0, 247134, "/usr/bin/cat"});
	proc_fmt_maps_line(&b, &(struct proc_map_line){0x55bfb4d1b000, 0x55bfb4d20000,
						       LINUX_PROT_READ | LINUX_PROT_EXEC, false,
						       0x2000, 0xfe, 0, 247134, "/usr/bin/cat"});
	proc_fmt_maps_line(&b, &(struct proc_map_line){0x55bfbfae4000, 0x55bfbfb05000,
						       LINUX_PROT_READ | LINUX_PROT_WRITE, false, 0,
						       0, 0, 0, "[heap]"});
	proc_fmt_maps_line(&b, &(struct proc_map_line){0x7fe46b8af000, 0x7fe46b8d1000,
						       LINUX_PROT_READ | LINUX_PROT_WRITE, false, 0,
						       0, 0, 0, NULL});
	proc_fmt_maps_line(&b, &(struct proc_map_line){0x1000, 0x2000,
						       LINUX_PROT_READ | LINUX_PROT_WRITE, true, 0,
						       0, 1, 7, "/dev/zero (deleted)"});
	cr_assert_str_eq(
	    b.data,
	    "55bfb4d19000-55bfb4d1b000 r--p 00000000 fe:00 247134                     "
	    "/usr/bin/cat\n"
	    "55bfb4d1b000-55bfb4d20000 r-xp 00002000 fe:00 247134                     "
	    "/usr/bin/cat\n"
	    "55bfbfae4000-55bfbfb05000 rw-p 00000000 00:00 0                          [heap]\n"
	    "7fe46b8af000-7fe46b8d1000 rw-p 00000000 00:00 0 \n"
	    "00001000-00002000 rw-s 00000000 00:01 7                                  "
	    "/dev/zero (deleted)\n");
	pbuf_free(&b);
}

Test(procfs_mounts, lines_and_mangling)
{
	struct pbuf b = {0};
	struct proc_mount_line m = {
	    .id = 3,
	    .parent_id = 1,
	    .dev_major = 0,
	    .dev_minor = 21,
	    .root = "/",
	    .mountpoint = "/proc",
	    .fstype = "proc",
	    .source = "proc",
	    .mnt_opts = ",nosuid,nodev,noexec,relatime",
	    .super_opts = "",
	};

	proc_fmt_mounts_line(&b, &m);
	proc_fmt_mountinfo_line(&b, &m);
	m.mountpoint = "/a b\\c";
	m.readonly = true;
	m.fstype = "tmpfs";
	m.source = "tmpfs";
	m.mnt_opts = ",nosuid";
	m.super_opts = ",mode=755";
	proc_fmt_mounts_line(&b, &m);
	proc_fmt_mountinfo_line(&b, &m);
	cr_assert_str_eq(b.data, "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
				 "3 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
				 "tmpfs /a\\040b\\134c tmpfs ro,nosuid,mode=755 0 0\n"
				 "3 1 0:21 / /a\\040b\\134c ro,nosuid - tmpfs tmpfs ro,mode=755\n");
	pbuf_free(&b);
}

Test(procfs_pbuf, grows_and_pads)
{
	struct pbuf b = {0};

	for (int i = 0; i < 1000; i++)
		pbuf_printf(&b, "%04d\n", i);
	cr_assert_eq(b.len, 5000);
	cr_assert(!b.oom);
	pbuf_puts(&b, "abc");
	pbuf_pad_line(&b, 10);
	pbuf_puts(&b, "|");
	cr_assert_str_eq(b.data + 5000, "abc       |");
	pbuf_free(&b);
}
