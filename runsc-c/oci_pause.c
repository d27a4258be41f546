/* `runsc-c pause ID` and `runsc-c resume ID`: every task of the container stops before its
 * next application instruction (those in a system call finish it first), and goes on. Nothing
 * the application can see: no signal, as the cgroup freezer runc uses. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>
#include <string.h>

#include "sentry/control.h"

static int pause_resume(struct global_opts *g, int argc, char **argv, bool pause)
{
	struct oci_container c;
	pid_t pid;
	int r;

	if ((r = oci_open_one(g, argc, argv,
			      pause ? "Usage: runsc-c pause ID\n\nStop every process of running "
				      "container ID until resume.\n"
				    : "Usage: runsc-c resume ID\n\nLet the processes of paused "
				      "container ID go on.\n",
			      true, &c)) >= 0)
		return r;
	enum oci_status st = oci_container_status(&c, &pid);
	if (st != (pause ? OCI_RUNNING : OCI_PAUSED)) {
		oci_error("container %s is %s, not %s", c.id, oci_status_name(st),
			  pause ? "running" : "paused");
		oci_container_close(&c);
		return 1;
	}
	r = oci_control(&c, pause ? SENTRY_CTL_PAUSE : SENTRY_CTL_RESUME, 0, 0);
	if (r < 0) {
		oci_error("%s %s: %s", argv[0], c.id, strerror(-r));
	} else {
		json_object_object_add(c.saved, "paused", json_object_new_boolean(pause));
		r = oci_container_save(&c);
	}
	oci_container_close(&c);
	return r < 0 ? 1 : 0;
}

int cmd_pause(struct global_opts *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, true);
}

int cmd_resume(struct global_opts *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, false);
}
