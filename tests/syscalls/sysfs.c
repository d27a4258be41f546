/* sysfs.c: /sys as runtimes read it: the CPU lists agree with sched_getaffinity and get_nprocs,
 * a cpuN directory per CPU, /sys/fs/cgroup, read-only files of size 4096, the sysfs magic, and
 * the /sys mount in mountinfo. */
#include "sc.h"

#include <sched.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>

/* Parse a cpulist ("0-3,6\n") into set. The number of CPUs. */
static int parse_list(const char *s, cpu_set_t *set)
{
	int n = 0;

	CPU_ZERO(set);
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		CHECK(end != s, "list '%s'", s);
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b; c++) {
			CPU_SET((int)c, set);
			n++;
		}
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int main(void)
{
	char buf[256], path[128];
	cpu_set_t online, possible, present, aff, both;
	struct stat st;

	read_file("/sys/devices/system/cpu/online", buf, sizeof(buf));
	int n = parse_list(buf, &online);
	CHECK_OK(sched_getaffinity(0, sizeof(aff), &aff));
	CHECK(n >= 1 && CPU_EQUAL(&online, &aff), "online '%s' vs the affinity mask", buf);
	CHECK(n == get_nprocs() && n == sysconf(_SC_NPROCESSORS_ONLN), "get_nprocs");
	ok("online CPUs: the affinity mask, get_nprocs, sysconf");

	read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf));
	parse_list(buf, &possible);
	read_file("/sys/devices/system/cpu/present", buf, sizeof(buf));
	parse_list(buf, &present);
	CPU_AND(&both, &online, &possible);
	CHECK(CPU_EQUAL(&both, &online), "online within possible");
	CPU_AND(&both, &online, &present);
	CHECK(CPU_EQUAL(&both, &online), "online within present");
	CHECK(get_nprocs_conf() >= n, "get_nprocs_conf");
	read_file("/sys/devices/system/cpu/offline", buf, sizeof(buf));
	CHECK(strcmp(buf, "\n") == 0, "offline '%s'", buf);
	ok("possible and present include online; none offline");

	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &online))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", c);
		CHECK_OK(stat(path, &st));
		CHECK(S_ISDIR(st.st_mode), "%s", path);
	}
	ok("a cpuN directory per online CPU");

	CHECK_OK(stat("/sys/devices/system/cpu/online", &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444 && st.st_size == 4096,
	      "mode %o size %ld", st.st_mode, (long)st.st_size);
	CHECK_ERR(open("/sys/devices/system/cpu/online", O_WRONLY), EACCES);
	CHECK_ERR(open("/sys/devices/system/cpu/nonexistent", O_RDONLY), ENOENT);
	ok("read-only files of size 4096");

	CHECK_OK(stat("/sys/fs/cgroup", &st));
	CHECK(S_ISDIR(st.st_mode), "/sys/fs/cgroup");
	struct statfs sf;
	CHECK_OK(statfs("/sys", &sf));
	CHECK(sf.f_type == 0x62656572, "f_type %lx", (long)sf.f_type);
	ok("/sys/fs/cgroup is a directory; statfs says sysfs");

	char big[16384];
	read_file("/proc/self/mountinfo", big, sizeof(big));
	CHECK(strstr(big, " /sys ") && strstr(big, " - sysfs sysfs "), "mountinfo");
	ok("mountinfo shows /sys");

	int fd = (int)CHECK_OK(open("/sys/devices/system/cpu", O_RDONLY | O_DIRECTORY));
	int seen = 0;
	char dents[4096];
	long r;
	while ((r = syscall(SYS_getdents64, fd, dents, sizeof(dents))) > 0)
		for (long off = 0; off < r;) {
			unsigned short reclen = *(unsigned short *)(dents + off + 16);
			const char *name = dents + off + 19;
			if (strcmp(name, "online") == 0 || strcmp(name, "possible") == 0 ||
			    strcmp(name, "present") == 0)
				seen++;
			off += reclen;
		}
	close(fd);
	CHECK(seen == 3, "listing");
	ok("the cpu directory lists its files");
	return 0;
}
