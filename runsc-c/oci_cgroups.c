/* linux.resources: memory, pids and cpu limits applied to the whole sandbox (supervisor, gofer,
 * Sentry and stubs, so the application's memory, which lives in the Sentry's memory file, is
 * charged there) through the host's cgroups, v1 controllers or a pure v2 hierarchy.
 *
 * create makes one cgroup per controller at cgroupsPath (default /runsc-c/ID; with
 * --systemd-cgroup "slice:prefix:name" is slice/prefix-name.scope), writes the limits and
 * records the directories in state.json; the supervisor joins them before it starts the
 * sandbox, so every process of the sandbox is born inside. delete removes them once the
 * processes are gone. Without a limit no cgroup is made.
 */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static int get_int(json_object *o, const char *where, const char *key, bool *has, int64_t *out)
{
	json_object *v;

	*has = false;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return oci_error("config.json: linux.resources.%s.%s: expected an integer", where,
				 key),
		       -1;
	*has = true;
	*out = json_object_get_int64(v);
	return 0;
}

/* Refuse keys of o other than the known ones, naming the field. */
static int only(json_object *o, const char *where, const char *const *known)
{
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= strcmp(*k, key) == 0;
		if (!ok)
			return oci_error("config.json: linux.resources.%s.%s: not supported yet", where,
					 key),
			       -1;
	}
	return 0;
}

int oci_resources_parse(json_object *res, struct oci_resources *r)
{
	static const char *const mem_keys[] = {"limit", "swap", NULL};
	static const char *const pids_keys[] = {"limit", NULL};
	static const char *const cpu_keys[] = {"shares", "quota", "period", NULL};
	json_object *v;
	int64_t x;
	bool has;

	memset(r, 0, sizeof(*r));
	if (json_object_object_get_ex(res, "memory", &v)) {
		if (!json_object_is_type(v, json_type_object) || only(v, "memory", mem_keys) < 0 ||
		    get_int(v, "memory", "limit", &r->has_memory, &r->memory_limit) < 0)
			return -1;
		if (r->has_memory && r->memory_limit < -1)
			return oci_error("config.json: linux.resources.memory.limit: -1 or a size"), -1;
		if (get_int(v, "memory", "swap", &r->has_swap, &r->memory_swap) < 0)
			return -1;
		/* swap is memory + swap, as runc reads it: 0 leaves it unset */
		r->has_swap &= r->memory_swap != 0;
		if (r->has_swap &&
		    (r->memory_swap < -1 || !r->has_memory ||
		     (r->memory_swap != -1 &&
		      (r->memory_limit == -1 || r->memory_swap < r->memory_limit))))
			return oci_error("config.json: linux.resources.memory.swap: -1 or a size no "
					 "less than memory.limit (memory + swap), with a limit"),
			       -1;
	}
	if (json_object_object_get_ex(res, "pids", &v)) {
		if (!json_object_is_type(v, json_type_object) || only(v, "pids", pids_keys) < 0 ||
		    get_int(v, "pids", "limit", &r->has_pids, &r->pids_limit) < 0)
			return -1;
	}
	if (json_object_object_get_ex(res, "cpu", &v)) {
		if (!json_object_is_type(v, json_type_object) || only(v, "cpu", cpu_keys) < 0 ||
		    get_int(v, "cpu", "shares", &r->has_shares, &x) < 0)
			return -1;
		r->cpu_shares = (uint64_t)x;
		if (r->has_shares && (x < 2 || x > 262144))
			return oci_error("config.json: linux.resources.cpu.shares: 2 to 262144"), -1;
		if (get_int(v, "cpu", "quota", &r->has_quota, &r->cpu_quota) < 0 ||
		    get_int(v, "cpu", "period", &has, &x) < 0)
			return -1;
		r->cpu_period = has ? (uint64_t)x : 100000;
		if (has && (x < 1000 || x > 1000000))
			return oci_error("config.json: linux.resources.cpu.period: 1000 to 1000000"),
			       -1;
	}
	return 0;
}

/* The cgroup path of the container below each hierarchy's root, or NULL after oci_error. */
static char *cgroup_path(const struct global_opts *g, const char *cgroups_path, const char *id)
{
	char *p = NULL;

	if (!cgroups_path || !*cgroups_path) {
		if (asprintf(&p, "/runsc-c/%s", id) < 0)
			p = NULL;
	} else if (g->systemd_cgroup) {
		char slice[256], prefix[256], name[256];
		if (sscanf(cgroups_path, "%255[^:]:%255[^:]:%255s", slice, prefix, name) != 3) {
			oci_error("cgroupsPath %s: --systemd-cgroup expects slice:prefix:name",
				  cgroups_path);
			return NULL;
		}
		if (asprintf(&p, "/%s/%s-%s.scope", slice, prefix, name) < 0)
			p = NULL;
	} else if (asprintf(&p, "%s%s", cgroups_path[0] == '/' ? "" : "/", cgroups_path) < 0) {
		p = NULL;
	}
	if (p && (strstr(p, "/../") || strstr(p, "/./") ||
		  (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))) {
		oci_error("cgroupsPath %s: no . or .. components", cgroups_path);
		free(p);
		return NULL;
	}
	return p;
}

/* mkdir -p dir; with enable (v2), each ancestor gets +ctl in its subtree_control. */
static int mkdir_p(char *dir, const char *enable)
{
	for (char *s = dir + strlen(CGROUP_ROOT) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int r = mkdir(dir, 0755);
		if (r == 0 || errno == EEXIST) {
			if (enable) {
				char ctl[PATH_MAX];
				snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", dir);
				int fd = open(ctl, O_WRONLY | O_CLOEXEC);
				if (fd >= 0) {
					ssize_t w = write(fd, enable, strlen(enable));
					(void)w;
					close(fd);
				}
			}
		}
		*s = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_value(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		r = -1;
	if (r < 0)
		oci_error("cgroup %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* One controller's directory: made, limits written, added to dirs. */
static int setup_one(const char *hier, const char *path, const char *const *files,
		     char *const *values, int n, const char *enable, json_object *dirs)
{
	char *dir;
	int r = 0;

	if (n == 0)
		return 0;
	if (asprintf(&dir, "%s%s%s", CGROUP_ROOT, hier, path) < 0)
		return oci_error("out of memory"), -1;
	if (mkdir_p(dir, enable) < 0) {
		oci_error("cgroup %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	json_object_array_add(dirs, json_object_new_string(dir));
	for (int i = 0; i < n && r == 0; i++)
		r = write_value(dir, files[i], values[i]);
	free(dir);
	return r;
}

int oci_cgroups_setup(const struct global_opts *g, const struct oci_resources *res,
		      const char *cgroups_path, const char *id, json_object *saved)
{
	char mem[32], swap[32], pids[32], shares[32], quota[32], period[32], max[64];
	json_object *dirs;
	bool v2 = access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
	int r;

	if (!res->has_memory && !res->has_pids && !res->has_shares && !res->has_quota)
		return 0;
	_cleanup_free_ char *path = cgroup_path(g, cgroups_path, id);
	if (!path)
		return -1;
	dirs = json_object_new_array();
	json_object_object_add(saved, "cgroups", dirs);
	if (res->memory_limit == -1)
		snprintf(mem, sizeof(mem), v2 ? "max" : "-1");
	else
		snprintf(mem, sizeof(mem), "%lld", (long long)res->memory_limit);
	/* v1: memory.memsw.limit_in_bytes is memory + swap; v2: memory.swap.max is swap alone */
	if (res->memory_swap == -1)
		snprintf(swap, sizeof(swap), v2 ? "max" : "-1");
	else
		snprintf(swap, sizeof(swap), "%lld",
			 (long long)(res->memory_swap - (v2 ? res->memory_limit : 0)));
	if (res->pids_limit <= 0)
		snprintf(pids, sizeof(pids), "max");
	else
		snprintf(pids, sizeof(pids), "%lld", (long long)res->pids_limit);
	snprintf(quota, sizeof(quota), "%lld", (long long)(res->cpu_quota > 0 ? res->cpu_quota : -1));
	snprintf(period, sizeof(period), "%llu", (unsigned long long)res->cpu_period);
	if (v2) {
		/* cpu.weight from shares as runc converts them */
		snprintf(shares, sizeof(shares), "%llu",
			 (unsigned long long)(1 + ((res->cpu_shares - 2) * 9999) / 262142));
		snprintf(max, sizeof(max), "%s %s", res->cpu_quota > 0 ? quota : "max", period);
		const char *files[6];
		char *values[6];
		int n = 0;
		if (res->has_memory)
			files[n] = "memory.max", values[n++] = mem;
		if (res->has_swap)
			files[n] = "memory.swap.max", values[n++] = swap;
		if (res->has_pids)
			files[n] = "pids.max", values[n++] = pids;
		if (res->has_shares)
			files[n] = "cpu.weight", values[n++] = shares;
		if (res->has_quota)
			files[n] = "cpu.max", values[n++] = max;
		return setup_one("", path, files, values, n, "+memory +pids +cpu", dirs);
	}
	snprintf(shares, sizeof(shares), "%llu", (unsigned long long)res->cpu_shares);
	/* the limit first: memsw may not be below it */
	const char *mem_files[] = {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"},
		   *pids_files[] = {"pids.max"};
	const char *cpu_files[3];
	char *mem_values[] = {mem, swap}, *pids_values[] = {pids}, *cpu_values[3];
	int ncpu = 0;
	if (res->has_shares)
		cpu_files[ncpu] = "cpu.shares", cpu_values[ncpu++] = shares;
	if (res->has_quota) {
		cpu_files[ncpu] = "cpu.cfs_period_us", cpu_values[ncpu++] = period;
		cpu_files[ncpu] = "cpu.cfs_quota_us", cpu_values[ncpu++] = quota;
	}
	if ((r = setup_one("/memory", path, mem_files, mem_values,
			       res->has_memory + res->has_swap, NULL, dirs)) <
		0 ||
	    (r = setup_one("/pids", path, pids_files, pids_values, res->has_pids, NULL, dirs)) < 0 ||
	    (r = setup_one("/cpu", path, cpu_files, cpu_values, ncpu, NULL, dirs)) < 0)
		return r;
	return 0;
}

int oci_cgroups_join(json_object *saved, pid_t pid, FILE *err)
{
	json_object *dirs;
	char buf[32];

	if (!json_object_object_get_ex(saved, "cgroups", &dirs))
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < json_object_array_length(dirs); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/cgroup.procs",
			 json_object_get_string(json_object_array_get_idx(dirs, i)));
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0) {
			fprintf(err, "joining %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

void oci_cgroups_remove(json_object *saved)
{
	json_object *dirs;

	if (!json_object_object_get_ex(saved, "cgroups", &dirs))
		return;
	for (size_t i = 0; i < json_object_array_length(dirs); i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(dirs, i));
		/* the last process may take a moment to leave it after it died */
		for (int k = 0; k < 100 && rmdir(d) < 0 && errno == EBUSY; k++)
			usleep(10000);
	}
}
