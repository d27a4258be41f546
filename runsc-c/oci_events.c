/* `runsc-c events [--stats] [--interval 5s] ID`: runc's stats events, as JSON lines
 * {"type":"stats","id":ID,"data":{...}}; with --stats one, else one per interval until the
 * container stops. pids come from the Sentry (its process count); cpu and memory are the host's
 * view of the sandbox: the Sentry and the stubs under it (the application's memory is mapped
 * in both, so it is counted once through the Sentry's resident set). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "sentry/control.h"

/* utime+stime+cutime+cstime of pid in ns, and its resident set in bytes. */
static void host_usage(pid_t pid, uint64_t *cpu_ns, uint64_t *rss)
{
	char path[64], buf[1024];
	unsigned long long ut, st, cut, cst;
	long pages;
	FILE *f;

	*cpu_ns = *rss = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(buf, sizeof(buf), f)) {
			char *p = strrchr(buf, ')');
			/* fields 14-17 after the comm: skip state (3) .. cmajflt (13) */
			if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
					       "%llu %llu",
					&ut, &st, &cut, &cst) == 4)
				*cpu_ns = (ut + st + cut + cst) * (1000000000ULL /
								 (uint64_t)sysconf(_SC_CLK_TCK));
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((f = fopen(path, "re"))) {
		long size;
		if (fscanf(f, "%ld %ld", &size, &pages) == 2)
			*rss = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

/* The Sentry's pid from the supervisor's pids file, or 0. */
static pid_t sentry_pid(struct oci_container *c)
{
	json_object *o = NULL, *v;
	char path[64];
	pid_t pid = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/pids", c->dirfd);
	if ((o = json_object_from_file(path)) && json_object_object_get_ex(o, "sentry", &v))
		pid = json_object_get_int(v);
	if (o)
		json_object_put(o);
	return pid;
}

/* One stats event, or -1 when the container is not running. */
static int print_stats(struct oci_container *c)
{
	static int32_t pidbuf[SENTRY_CTL_MAX_PAYLOAD / sizeof(int32_t)];
	struct sentry_ctl_msg m = {.op = SENTRY_CTL_PS};
	uint64_t cpu, rss;
	int n = oci_control_msg(c, &m, NULL, 0, pidbuf, sizeof(pidbuf));
	pid_t sp = sentry_pid(c);

	if (n < 0 || !sp)
		return -1;
	host_usage(sp, &cpu, &rss);
	json_object *ev = json_object_new_object(), *data = json_object_new_object(),
		    *pids = json_object_new_object(), *cpuo = json_object_new_object(),
		    *cpuu = json_object_new_object(), *mem = json_object_new_object(),
		    *memu = json_object_new_object();
	json_object_object_add(pids, "current", json_object_new_int(n));
	json_object_object_add(cpuu, "total", json_object_new_uint64(cpu));
	json_object_object_add(cpuo, "usage", cpuu);
	json_object_object_add(memu, "usage", json_object_new_uint64(rss));
	json_object_object_add(mem, "usage", memu);
	json_object_object_add(data, "pids", pids);
	json_object_object_add(data, "cpu", cpuo);
	json_object_object_add(data, "memory", mem);
	json_object_object_add(ev, "type", json_object_new_string("stats"));
	json_object_object_add(ev, "id", json_object_new_string(c->id));
	json_object_object_add(ev, "data", data);
	puts(json_object_to_json_string_ext(ev, OCI_JSON_PLAIN));
	fflush(stdout);
	json_object_put(ev);
	return 0;
}

int cmd_events(struct global_opts *g, int argc, char **argv)
{
	struct oci_container c;
	bool once = false;
	double interval = 5;
	int i = 1;

	oci_log_setup(g);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--stats") == 0)
			once = true;
		else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--interval=", 11) == 0)
			v = argv[i] + 11;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return puts("Usage: runsc-c events [--stats] [--interval DURATION] ID\n\nStats "
				    "of container ID as JSON lines: once with --stats, else every "
				    "DURATION (default 5s; ms, s, m units)."),
			       0;
		else
			return oci_usage("events", "unknown flag %s", argv[i]);
		if (v) {
			char *end;
			interval = strtod(v, &end);
			if (strcmp(end, "ms") == 0)
				interval /= 1000;
			else if (strcmp(end, "m") == 0)
				interval *= 60;
			else if (*end && strcmp(end, "s") != 0)
				return oci_usage("events", "--interval %s: a duration (5s, 500ms)", v);
			if (!(interval > 0))
				return oci_usage("events", "--interval %s: must be positive", v);
		}
	}
	if (i + 1 != argc)
		return oci_usage("events", "expected one container id");
	if (oci_container_open(g, argv[i], false, &c) < 0) {
		oci_container_close(&c);
		return 1;
	}
	/* Others may act on the container between events: only the open fd is kept. */
	flock(c.dirfd, LOCK_UN);
	int r = print_stats(&c);
	if (r < 0)
		oci_error("events %s: container is not running", c.id);
	while (!once && r == 0) {
		struct timespec ts = {(time_t)interval,
				      (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
		r = print_stats(&c) < 0 ? 1 : 0;
		if (r)
			break;
	}
	oci_container_close(&c);
	return once && r < 0 ? 1 : 0;
}
