/* `runsc-c spec [--bundle DIR] [--rootless]`: write a default config.json, as runc's, with the
 * differences runsc-c needs: no mqueue or cgroup mount (the Sentry has neither file system yet)
 * and a writable root (root.readonly waits for the sandbox's read-only root). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char default_spec[] =
    "{\"ociVersion\": \"" RUNSC_C_OCI_SPEC "\","
    " \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0},"
    "  \"args\": [\"sh\"],"
    "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    "           \"TERM=xterm\"],"
    "  \"cwd\": \"/\","
    "  \"capabilities\": {"
    "   \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "   \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "   \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]},"
    "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
    "  \"noNewPrivileges\": true},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
    " \"hostname\": \"runsc-c\","
    " \"mounts\": ["
    "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
    "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
    "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\","
    "                 \"gid=5\"]},"
    "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
    "  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
    "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}],"
    " \"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
    "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
    "                  {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],"
    "  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
    "                   \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\","
    "                   \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],"
    "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\","
    "                     \"/proc/sysrq-trigger\"]}}";

/* --rootless: a user namespace mapping root to the caller, no network namespace, no
 * resources (runc's rootless spec). */
static void make_rootless(json_object *spec)
{
	json_object *linux_, *ns, *maps;

	json_object_object_get_ex(spec, "linux", &linux_);
	json_object_object_del(linux_, "resources");
	ns = json_object_new_array();
	static const char *const types[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		json_object *n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(types[i]));
		json_object_array_add(ns, n);
	}
	json_object_object_add(linux_, "namespaces", ns);
	for (int gid = 0; gid < 2; gid++) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "containerID", json_object_new_int(0));
		json_object_object_add(m, "hostID",
				       json_object_new_int64(gid ? getgid() : getuid()));
		json_object_object_add(m, "size", json_object_new_int(1));
		maps = json_object_new_array();
		json_object_array_add(maps, m);
		json_object_object_add(linux_, gid ? "gidMappings" : "uidMappings", maps);
	}
}

int cmd_spec(struct global_opts *g, int argc, char **argv)
{
	const char *bundle = ".";
	bool rootless = false;
	char path[4096];
	int fd;

	oci_log_setup(g);
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc)
			bundle = argv[++i];
		else if (strcmp(argv[i], "--rootless") == 0)
			rootless = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return puts("Usage: runsc-c spec [--bundle DIR] [--rootless]\n\nWrite a "
				    "default config.json into DIR (default: here)."),
			       0;
		else
			return oci_usage("spec", "unexpected argument %s", argv[i]);
	}
	json_object *spec = json_tokener_parse(default_spec);
	if (!spec)
		return oci_error("spec: the built-in default does not parse"), EXIT_RUNTIME;
	if (rootless)
		make_rootless(spec);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		oci_error("%s: %s%s", path, strerror(errno),
			  errno == EEXIST ? " (remove it first)" : "");
		json_object_put(spec);
		return 1;
	}
	const char *text = json_object_to_json_string_ext(spec, OCI_JSON_PRETTY);
	int r = dprintf(fd, "%s\n", text) < 0 || close(fd) < 0 ? 1 : 0;
	json_object_put(spec);
	return r;
}
