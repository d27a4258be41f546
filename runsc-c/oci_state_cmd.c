/* `runsc-c state ID`: the OCI state JSON (ociVersion, id, status, pid, bundle, annotations). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>
#include <string.h>

int cmd_state(struct global_opts *g, int argc, char **argv)
{
	struct oci_container c;
	int r;

	if ((r = oci_open_one(g, argc, argv, "Usage: runsc-c state ID\n\nPrint the OCI state of "
					     "container ID as JSON.\n",
			      false, &c)) >= 0)
		return r;
	json_object *st = oci_container_state_json(&c);
	puts(json_object_to_json_string_ext(st, OCI_JSON_PRETTY));
	json_object_put(st);
	oci_container_close(&c);
	return 0;
}
