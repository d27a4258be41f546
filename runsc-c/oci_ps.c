/* `runsc-c ps [--format table|json] ID`: the container's processes. The pids are the
 * sandbox's own (init is 1), as gVisor's runsc reports them: no application process is a host
 * process, so there is no host pid to give (the host sees the Sentry and its stubs). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sentry/control.h"

int cmd_ps(struct global_opts *g, int argc, char **argv)
{
	static int32_t pids[SENTRY_CTL_MAX_PAYLOAD / sizeof(int32_t)];
	struct sentry_ctl_msg m = {.op = SENTRY_CTL_PS};
	const char *format = "table";
	struct oci_container c;
	int i = 1, n;

	oci_log_setup(g);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return puts("Usage: runsc-c ps [--format table|json] ID\n\nThe processes of "
				    "container ID, by their pids inside the sandbox."),
			       0;
		else
			return oci_usage("ps", "unknown flag %s", argv[i]);
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return oci_usage("ps", "--format %s: table or json", format);
	if (i + 1 != argc)
		return oci_usage("ps", "expected one container id");
	if (oci_container_open(g, argv[i], false, &c) < 0) {
		oci_container_close(&c);
		return 1;
	}
	n = oci_control_msg(&c, &m, NULL, 0, pids, sizeof(pids));
	oci_container_close(&c);
	if (n < 0) {
		oci_error("ps %s: %s", argv[i],
			  n == -ENOTCONN || n == -ESRCH ? "container is not running" : strerror(-n));
		return 1;
	}
	if ((uint32_t)n * sizeof(int32_t) != m.len)
		return oci_error("ps %s: a malformed reply", argv[i]), 1;
	if (strcmp(format, "json") == 0) {
		json_object *a = json_object_new_array();
		for (int k = 0; k < n; k++)
			json_object_array_add(a, json_object_new_int(pids[k]));
		puts(json_object_to_json_string_ext(a, OCI_JSON_PLAIN));
		json_object_put(a);
	} else {
		puts("PID");
		for (int k = 0; k < n; k++)
			printf("%d\n", pids[k]);
	}
	return 0;
}
