/* proc_sys.c: system-wide /proc files: cpuinfo, meminfo, uptime, loadavg, stat, filesystems,
 * sys/kernel/{hostname,ostype,osrelease,pid_max,ngroups_max}: formats and relations only
 * (values differ between the host and the sandbox). */
#include "sc.h"

#include <sys/utsname.h>

static char buf[1 << 18];

/* count_prefix(text, prefix): lines that start with prefix. */
static int count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, len))
			n++;
	return n;
}

/* kv(text, key): the number after "key" at the start of a line (and any ':' and blanks). */
static long long kv(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, len))
			continue;
		const char *v = p + len;
		if (*v == ':')
			v++;
		while (*v == ' ' || *v == '\t')
			v++;
		char *end;
		long long x = strtoll(v, &end, 10);
		CHECK(end != v, "%s: not a number", key);
		return x;
	}
	check_fail(__FILE__, __LINE__, "no line %s", key);
}

static int ncpus_stat(void)
{
	read_file("/proc/stat", buf, sizeof(buf));
	int n = 0;
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "cpu", 3) && p[3] >= '0' && p[3] <= '9')
			n++;
	return n;
}

static void test_cpuinfo_stat(void)
{
	int nstat = ncpus_stat();
	read_file("/proc/cpuinfo", buf, sizeof(buf));
	int nproc = count_prefix(buf, "processor\t:");
	CHECK(nproc >= 1, "processor lines");
	CHECK(count_prefix(buf, "flags\t\t:") == nproc, "a flags line per processor");
	CHECK(count_prefix(buf, "model name\t:") == nproc, "a model name per processor");
	CHECK(kv(buf, "processor\t") == 0, "processors counted from 0");
	CHECK(nstat == nproc, "/proc/stat has %d cpuN lines, cpuinfo %d processors", nstat, nproc);
	ok("/proc/cpuinfo: processor/model name/flags per CPU, as many as /proc/stat's cpuN lines");

	read_file("/proc/stat", buf, sizeof(buf));
	CHECK(!strncmp(buf, "cpu ", 4), "first line: cpu");
	long long v[10];
	CHECK(sscanf(buf + 4, "%lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
		     &v[4], &v[5], &v[6]) == 7,
	      "cpu line has at least 7 counters");
	long long btime = kv(buf, "btime ");
	CHECK(kv(buf, "processes ") >= 1, "processes");
	CHECK(kv(buf, "procs_running ") >= 1, "procs_running: at least us");
	CHECK(kv(buf, "procs_blocked ") >= 0, "procs_blocked");
	CHECK(count_prefix(buf, "ctxt ") == 1 && count_prefix(buf, "intr ") == 1, "ctxt, intr");
	/* btime + uptime is now. */
	char up[128];
	read_file("/proc/uptime", up, sizeof(up));
	double uptime = atof(up);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double diff = (double)btime + uptime - (double)now.tv_sec;
	CHECK(diff > -5 && diff < 5, "btime + uptime - now = %.1f s", diff);
	ok("/proc/stat: cpu counters, btime (btime + uptime = now), processes, procs_*, ctxt, intr");
}

static void test_meminfo(void)
{
	read_file("/proc/meminfo", buf, sizeof(buf));
	long long total = kv(buf, "MemTotal"), fr = kv(buf, "MemFree"), av = kv(buf, "MemAvailable");
	CHECK(total > 0 && fr >= 0 && fr <= total && av >= 0 && av <= total, "MemTotal/Free/Available");
	kv(buf, "Buffers");
	kv(buf, "Cached");
	kv(buf, "SwapTotal");
	kv(buf, "SwapFree");
	CHECK(strstr(buf, "MemTotal:") && strstr(strstr(buf, "MemTotal:"), " kB\n"), "kB units");
	/* Every line: "Key:<spaces>number[ kB]". */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':');
		CHECK(colon && colon != line, "meminfo line %s", line);
		char *end;
		strtoll(colon + 1, &end, 10);
		CHECK(end != colon + 1 && (!*end || !strcmp(end, " kB")), "meminfo value: %s", line);
	}
	ok("/proc/meminfo: Key: value kB lines, MemFree and MemAvailable within MemTotal");
}

static void test_uptime_loadavg(void)
{
	char a[128], b[128];
	double u1, i1, u2, i2;

	read_file("/proc/uptime", a, sizeof(a));
	CHECK(sscanf(a, "%lf %lf", &u1, &i1) == 2 && u1 > 0 && i1 >= 0, "uptime: %s", a);
	CHECK(a[strlen(a) - 1] == '\n' && strchr(a, '.'), "two decimals, newline");
	msleep(30);
	read_file("/proc/uptime", b, sizeof(b));
	CHECK(sscanf(b, "%lf %lf", &u2, &i2) == 2 && u2 >= u1, "uptime grows");
	ok("/proc/uptime: two non-negative numbers, growing");

	read_file("/proc/loadavg", a, sizeof(a));
	double l1, l5, l15;
	int run, total, last;
	CHECK(sscanf(a, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &total, &last) == 6,
	      "loadavg: %s", a);
	CHECK(l1 >= 0 && l5 >= 0 && l15 >= 0 && run >= 1 && run <= total && last >= 0,
	      "loadavg values: %s", a);
	ok("/proc/loadavg: three loads, running/total, last pid");
}

static void test_filesystems(void)
{
	read_file("/proc/filesystems", buf, sizeof(buf));
	CHECK(strstr(buf, "nodev\tproc\n") && strstr(buf, "nodev\ttmpfs\n"), "proc and tmpfs");
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		CHECK(!strncmp(line, "nodev\t", 6) || line[0] == '\t', "line format: %s", line);
	ok("/proc/filesystems: [nodev]<TAB>name lines, proc and tmpfs listed");
}

static void sys_is(const char *path, const char *want)
{
	char got[256];
	read_file(path, got, sizeof(got));
	size_t n = strlen(got);
	CHECK(n > 0 && got[n - 1] == '\n', "%s ends with a newline", path);
	got[n - 1] = 0;
	CHECK(!strcmp(got, want), "%s: %s, want %s", path, got, want);
}

static void test_sys_kernel(void)
{
	struct utsname u;
	CHECK_OK(uname(&u));
	sys_is("/proc/sys/kernel/hostname", u.nodename);
	sys_is("/proc/sys/kernel/ostype", u.sysname);
	sys_is("/proc/sys/kernel/osrelease", u.release);
	sys_is("/proc/sys/kernel/ostype", "Linux");
	char tmp[64];
	read_file("/proc/sys/kernel/pid_max", tmp, sizeof(tmp));
	long pid_max = atol(tmp);
	CHECK(pid_max >= 301 && pid_max <= 4194304 && getpid() < pid_max, "pid_max %ld", pid_max);
	snprintf(tmp, sizeof(tmp), "%ld", sysconf(_SC_NGROUPS_MAX));
	sys_is("/proc/sys/kernel/ngroups_max", tmp);
	sys_is("/proc/sys/kernel/ngroups_max", "65536");
	ok("/proc/sys/kernel: hostname, ostype, osrelease match uname; pid_max; ngroups_max");
}

int main(void)
{
	test_cpuinfo_stat();
	test_meminfo();
	test_uptime_loadavg();
	test_filesystems();
	test_sys_kernel();
	return 0;
}
