/* config.json "mounts": parsed into struct oci_mount, and translated to the sandbox in one place
 * (oci_mounts_to_sandbox). The Sentry mounts /proc, /sys, /dev, /dev/pts and /dev/shm itself,
 * so a spec's mounts of those are what the container gets; bind and other tmpfs mounts wait for
 * the sandbox's mount list and are refused until then. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Options that are mount flags (or propagation), not data for the filesystem. */
static const char *const flag_options[] = {
    "ro",	 "rw",	     "nosuid",	   "suid",     "nodev",	    "dev",	"noexec",
    "exec",	 "relatime", "norelatime", "noatime",  "atime",	    "strictatime", "nodiratime",
    "diratime", "sync",	     "async",	   "dirsync",  "mand",	    "nomand",	"bind",
    "rbind",	 "private",  "rprivate",   "slave",    "rslave",    "shared",	"rshared",
    "unbindable", "runbindable", NULL};

static bool is_flag(const char *o)
{
	for (const char *const *f = flag_options; *f; f++)
		if (strcmp(*f, o) == 0)
			return true;
	return false;
}

/* Append o to the comma-separated *data. */
static int data_add(char **data, const char *o)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *data ? *data : "", *data ? "," : "", o) < 0)
		return -1;
	free(*data);
	*data = n;
	return 0;
}

static int parse_one(json_object *m, size_t i, struct oci_mount *out)
{
	json_object *dest = NULL, *type = NULL, *source = NULL, *opts = NULL;
	bool bind = false;

	if (!json_object_is_type(m, json_type_object))
		return oci_error("config.json: mounts[%zu]: expected an object", i), -1;
	json_object_object_foreach(m, key, val)
	{
		(void)val;
		if (strcmp(key, "destination") && strcmp(key, "type") && strcmp(key, "source") &&
		    strcmp(key, "options"))
			return oci_error("config.json: mounts[%zu].%s: not supported by runsc-c", i,
					 key),
			       -1;
	}
	if (!json_object_object_get_ex(m, "destination", &dest) ||
	    !json_object_is_type(dest, json_type_string) ||
	    json_object_get_string(dest)[0] != '/')
		return oci_error("config.json: mounts[%zu].destination: an absolute path is required",
				 i),
		       -1;
	if (json_object_object_get_ex(m, "type", &type) &&
	    !json_object_is_type(type, json_type_string))
		return oci_error("config.json: mounts[%zu].type: expected a string", i), -1;
	if (json_object_object_get_ex(m, "source", &source) &&
	    !json_object_is_type(source, json_type_string))
		return oci_error("config.json: mounts[%zu].source: expected a string", i), -1;
	if (json_object_object_get_ex(m, "options", &opts) &&
	    !json_object_is_type(opts, json_type_array))
		return oci_error("config.json: mounts[%zu].options: expected an array", i), -1;
	for (size_t k = 0; opts && k < json_object_array_length(opts); k++) {
		json_object *o = json_object_array_get_idx(opts, k);
		if (!json_object_is_type(o, json_type_string))
			return oci_error("config.json: mounts[%zu].options[%zu]: expected a string", i,
					 k),
			       -1;
		const char *s = json_object_get_string(o);
		if (strcmp(s, "ro") == 0)
			out->readonly = true;
		else if (strcmp(s, "rw") == 0)
			out->readonly = false;
		else if (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0)
			bind = true;
		else if (!is_flag(s) && data_add(&out->data, s) < 0)
			return oci_error("out of memory"), -1;
	}
	out->dest = strdup(json_object_get_string(dest));
	out->type = strdup(bind || !type ? "bind" : json_object_get_string(type));
	out->source = source ? strdup(json_object_get_string(source)) : NULL;
	if (!out->dest || !out->type || (source && !out->source))
		return oci_error("out of memory"), -1;
	return 0;
}

int oci_mounts_parse(json_object *mounts, struct oci_spec *s)
{
	size_t n = json_object_array_length(mounts);

	s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return oci_error("out of memory"), -1;
	for (size_t i = 0; i < n; i++) {
		s->nmounts = i + 1;
		if (parse_one(json_object_array_get_idx(mounts, i), i, &s->mounts[i]) < 0)
			return -1;
	}
	return 0;
}

/* The mounts the Sentry makes itself: a spec's mount of type at dest is that one. */
static const struct {
	const char *dest;
	const char *types[3];
} sentry_mounts[] = {
    {"/proc", {"proc"}},
    {"/sys", {"sysfs"}},
    {"/dev", {"tmpfs", "devtmpfs"}},
    {"/dev/pts", {"devpts"}},
    {"/dev/shm", {"tmpfs", "shm"}},
};

static bool is_sentry_mount(const struct oci_mount *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(sentry_mounts); i++) {
		if (strcmp(sentry_mounts[i].dest, m->dest) != 0)
			continue;
		for (size_t t = 0; t < ARRAY_SIZE(sentry_mounts[i].types); t++)
			if (sentry_mounts[i].types[t] && strcmp(sentry_mounts[i].types[t], m->type) == 0)
				return true;
	}
	return false;
}

int oci_mounts_to_sandbox(const struct oci_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct oci_mount *m = &s->mounts[i];

		if (is_sentry_mount(m))
			continue;
		if (strcmp(m->type, "bind") == 0)
			oci_error("config.json: mounts[%zu]: bind mount of %s on %s: not supported yet",
				  i, m->source ? m->source : "(no source)", m->dest);
		else if (strcmp(m->type, "tmpfs") == 0)
			oci_error("config.json: mounts[%zu]: tmpfs on %s: not supported yet (the "
				  "Sentry's own tmpfs mounts are /dev, /dev/shm and the root's "
				  "writable layer)",
				  i, m->dest);
		else if (strcmp(m->type, "mqueue") == 0 || strcmp(m->type, "cgroup") == 0 ||
			 strcmp(m->type, "cgroup2") == 0)
			oci_error("config.json: mounts[%zu]: %s on %s: not supported yet (the Sentry "
				  "has no %s file system)",
				  i, m->type, m->dest, m->type);
		else
			oci_error("config.json: mounts[%zu]: %s on %s: not supported", i, m->type,
				  m->dest);
		return -1;
	}
	/* Bind and tmpfs mounts, root.readonly: go to the sandbox's mount list once it has one. */
	if (s->root_readonly) {
		oci_error("config.json: root.readonly: not supported yet (the root is writable, "
			  "writes stay in the sandbox)");
		return -1;
	}
	return 0;
}

void oci_mounts_free(struct oci_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].dest);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	s->mounts = NULL;
	s->nmounts = 0;
}
