/* `runsc-c delete [--force] ID`: remove a stopped (or created) container; --force also a running
 * one. The supervisor is killed, and with it the gofer and the Sentry (PR_SET_PDEATHSIG); the
 * command returns once they are gone and the state directory removed. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

int cmd_delete(struct global_opts *g, int argc, char **argv)
{
	struct oci_container c;
	bool force = false;
	int i = 1, r;
	pid_t pid;

	oci_log_setup(g);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
			force = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			puts("Usage: runsc-c delete [--force] ID\n\nDelete container ID: stopped or "
			     "created, or with --force running (it is killed first).");
			return 0;
		} else {
			return oci_usage("delete", "unknown flag %s", argv[i]);
		}
	}
	if (i + 1 != argc)
		return oci_usage("delete", "expected one container id");
	/* runc: deleting what is not there is fine with --force, and says nothing (podman calls
	 * it after a failed create, whose error the user should see alone) */
	_cleanup_free_ char *dir = NULL;
	if (force && oci_id_valid(argv[i]) && asprintf(&dir, "%s/%s", g->root, argv[i]) > 0 &&
	    access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (oci_container_open(g, argv[i], true, &c) < 0) {
		oci_container_close(&c);
		/* runc: deleting what is not there is fine with --force */
		return force ? 0 : 1;
	}
	enum oci_status st = oci_container_status(&c, &pid);
	if ((st == OCI_RUNNING || st == OCI_PAUSED) && !force) {
		oci_error("cannot delete container %s that is %s (use --force)", c.id,
			  oci_status_name(st));
		oci_container_close(&c);
		return 1;
	}
	r = oci_container_destroy(&c);
	oci_container_close(&c);
	return r < 0 ? 1 : 0;
}
