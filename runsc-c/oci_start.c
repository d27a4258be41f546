/* `runsc-c start ID`: let a created container's init run. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sentry/control.h"

int oci_start(struct oci_container *c)
{
	pid_t pid;
	enum oci_status st = oci_container_status(c, &pid);
	int r;

	if (st != OCI_CREATED) {
		oci_error("cannot start container %s: it is %s", c->id, oci_status_name(st));
		return -1;
	}
	if ((r = oci_control(c, SENTRY_CTL_START, 0, 0)) < 0) {
		oci_error("starting container %s: %s", c->id, strerror(-r));
		return -1;
	}
	json_object_object_add(c->saved, "started", json_object_new_boolean(true));
	if (oci_container_save(c) < 0)
		return -1;
	json_object *hooks, *state = oci_container_state_json(c);
	if (json_object_object_get_ex(c->saved, "hooks", &hooks))
		oci_hooks_run(hooks, "poststart", state, false);
	json_object_put(state);
	return 0;
}

int cmd_start(struct global_opts *g, int argc, char **argv)
{
	struct oci_container c;
	int r;

	if ((r = oci_open_one(g, argc, argv, "Usage: runsc-c start ID\n\nRun the init of created "
					     "container ID.\n",
			      true, &c)) >= 0)
		return r;
	r = oci_start(&c);
	oci_container_close(&c);
	return r < 0 ? 1 : 0;
}
