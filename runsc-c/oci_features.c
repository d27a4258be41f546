/* `runsc-c features`: what this runtime supports, as the OCI runtime spec's features.md
 * defines the document. Kept to what oci_config.c accepts. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>

static json_object *strings(const char *const *v)
{
	json_object *a = json_object_new_array();
	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static json_object *enabled(bool on)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "enabled", json_object_new_boolean(on));
	return o;
}

int cmd_features(struct global_opts *g, int argc, char **argv)
{
	static const char *const no_hooks[] = {NULL};
	static const char *const mount_options[] = {
	    "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "relatime",
	    "norelatime", "noatime", "strictatime", "bind", "rbind", "private", "rprivate", NULL};
	static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network", "pid",
						 "user", "uts", "time", NULL};
	json_object *f = json_object_new_object(), *l = json_object_new_object(),
		    *cg = json_object_new_object();

	(void)g;
	(void)argv;
	if (argc > 1)
		return oci_usage("features", "takes no arguments");
	json_object_object_add(f, "ociVersionMin", json_object_new_string("1.0.0"));
	json_object_object_add(f, "ociVersionMax", json_object_new_string("1.2.1"));
	json_object_object_add(f, "hooks", strings(no_hooks));
	json_object_object_add(f, "mountOptions", strings(mount_options));
	json_object_object_add(l, "namespaces", strings(namespaces));
	json_object_object_add(l, "capabilities", json_object_new_array());
	json_object_object_add(cg, "v1", json_object_new_boolean(true));
	json_object_object_add(cg, "v2", json_object_new_boolean(true));
	json_object_object_add(cg, "systemd", json_object_new_boolean(false));
	json_object_object_add(cg, "systemdUser", json_object_new_boolean(false));
	json_object_object_add(l, "cgroup", cg);
	/* linux.seccomp: applied by the Sentry (oci_seccomp.c); NOTIFY is refused */
	static const char *const actions[] = {
	    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL};
	static const char *const operators[] = {
	    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
	    "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
	static const char *const archs[] = {"SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
					    NULL};
	json_object *sc = enabled(true);
	json_object_object_add(sc, "actions", strings(actions));
	json_object_object_add(sc, "operators", strings(operators));
	json_object_object_add(sc, "archs", strings(archs));
	json_object_object_add(l, "seccomp", sc);
	json_object_object_add(l, "apparmor", enabled(false));
	json_object_object_add(l, "selinux", enabled(false));
	json_object_object_add(l, "intelRdt", enabled(false));
	json_object_object_add(f, "linux", l);
	json_object *ann = json_object_new_object();
	json_object_object_add(ann, "org.opencontainers.runc.version",
			       json_object_new_string("runsc-c " RUNSC_C_VERSION));
	json_object_object_add(f, "annotations", ann);
	puts(json_object_to_json_string_ext(f, OCI_JSON_PRETTY));
	json_object_put(f);
	return 0;
}
