/* `runsc-c list [-f table|json] [-q]`: the containers under --root. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_list(struct global_opts *g, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	json_object *all = json_object_new_array();
	DIR *d;
	struct dirent *e;

	oci_log_setup(g);
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--format") == 0) && i + 1 < argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return puts("Usage: runsc-c list [-f table|json] [-q]"), 0;
		else
			return oci_usage("list", "unexpected argument %s", argv[i]);
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return oci_usage("list", "--format %s: table or json", format);
	if ((d = opendir(g->root))) {
		while ((e = readdir(d))) {
			struct oci_container c;
			char probe[1100];

			if (e->d_name[0] == '.' || !oci_id_valid(e->d_name))
				continue;
			/* only containers whose create finished */
			snprintf(probe, sizeof(probe), "%s/state.json", e->d_name);
			if (faccessat(dirfd(d), probe, F_OK, 0) < 0)
				continue;
			if (oci_container_open(g, e->d_name, false, &c) == 0)
				json_object_array_add(all, oci_container_state_json(&c));
			oci_container_close(&c);
		}
		closedir(d);
	} else if (errno != ENOENT) {
		oci_error("--root %s: %s", g->root, strerror(errno));
		json_object_put(all);
		return 1;
	}
	if (strcmp(format, "json") == 0) {
		puts(json_object_to_json_string_ext(all, OCI_JSON_PLAIN));
	} else {
		if (!quiet)
			printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
			       "CREATED", "OWNER");
		for (size_t i = 0; i < json_object_array_length(all); i++) {
			json_object *s = json_object_array_get_idx(all, i), *v;
			const char *f[5];
			static const char *const keys[] = {"id", "status", "bundle", "created",
							   "owner"};
			for (int k = 0; k < 5; k++)
				f[k] = json_object_object_get_ex(s, keys[k], &v)
					   ? json_object_get_string(v)
					   : "";
			json_object_object_get_ex(s, "pid", &v);
			if (quiet)
				puts(f[0]);
			else
				printf("%-12s %-8d %-10s %-40s %-30s %s\n", f[0], json_object_get_int(v),
				       f[1], f[2], f[3], f[4]);
		}
	}
	json_object_put(all);
	return 0;
}
