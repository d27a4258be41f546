/* config.json "mounts": parsed into struct oci_mount, and translated to the sandbox's mount list
 * (struct boot_mount) in one place (oci_mounts_boot). The Sentry mounts /proc, /sys, /dev,
 * /dev/pts and /dev/shm itself, so a spec's mounts of those are what the container gets; bind
 * mounts are served by the gofer, tmpfs mounts made by the Sentry. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

/* Options that are mount flags (or propagation), not data for the filesystem. */
static const char *const flag_options[] = {
    "ro",	  "rw",		 "nosuid",     "suid",	  "nodev",  "dev",	   "noexec",
    "exec",	  "relatime",	 "norelatime", "noatime", "atime",  "strictatime", "nodiratime",
    "diratime",	  "sync",	 "async",      "dirsync", "mand",   "nomand",	   "bind",
    "rbind",	  "private",	 "rprivate",   "slave",	  "rslave", "shared",	   "rshared",
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
	    !json_object_is_type(dest, json_type_string) || json_object_get_string(dest)[0] != '/')
		return oci_error(
			   "config.json: mounts[%zu].destination: an absolute path is required", i),
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
			return oci_error("config.json: mounts[%zu].options[%zu]: expected a string",
					 i, k),
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
			if (sentry_mounts[i].types[t] &&
			    strcmp(sentry_mounts[i].types[t], m->type) == 0)
				return true;
	}
	return false;
}

/* Is the directory at dest in the container's root (root, a host path) empty or missing?
 * Resolved inside root, so a symlink in the image cannot point the runtime elsewhere. */
static bool rootfs_dir_empty(const char *root, const char *dest)
{
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	bool empty = false;

	if (rootfd < 0)
		return false;
	int fd = (int)syscall(SYS_openat2, rootfd, dest + 1, &how, sizeof(how));
	close(rootfd);
	if (fd < 0)
		return errno == ENOENT;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	empty = true;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* m's options without tmpcopyup, which a tmpfs over an empty directory needs no work for
 * (podman asks for it on /run and /tmp). NULL data stays NULL; *out owned by the caller. 0 or
 * -1 after oci_error. */
static int tmpfs_data(const struct oci_spec *s, const struct oci_mount *m, size_t i, char **out)
{
	char *copy = m->data ? strdup(m->data) : NULL, *save = NULL;

	*out = NULL;
	if (m->data && !copy)
		return oci_error("out of memory"), -1;
	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o;
	     o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "tmpcopyup") == 0) {
			if (!rootfs_dir_empty(s->root, m->dest)) {
				oci_error(
				    "config.json: mounts[%zu]: tmpfs on %s: option tmpcopyup: "
				    "not supported over a directory that has files",
				    i, m->dest);
				goto fail;
			}
			continue;
		}
		if (data_add(out, o) < 0) {
			oci_error("out of memory");
			goto fail;
		}
	}
	free(copy);
	return 0;
fail:
	free(copy);
	free(*out);
	*out = NULL;
	return -1;
}

/* The boot mount for spec mount i, into *b (strings owned by b). 0, 1 for a mount the Sentry
 * makes itself, or -1 after oci_error. */
static int boot_mount_of(const struct oci_spec *s, size_t i, struct boot_mount *b)
{
	const struct oci_mount *m = &s->mounts[i];
	const char *type = m->type;

	*b = (struct boot_mount){.readonly = m->readonly};
	if (is_sentry_mount(m))
		return 1;
	if (strcmp(type, "bind") == 0) {
		char path[PATH_MAX], *rel = NULL;
		struct stat st;
		if (!m->source || !m->source[0])
			return oci_error("config.json: mounts[%zu]: bind mount on %s: no source", i,
					 m->dest),
			       -1;
		if (m->source[0] != '/' && asprintf(&rel, "%s/%s", s->bundle, m->source) < 0)
			return oci_error("out of memory"), -1;
		bool ok = realpath(rel ? rel : m->source, path) && stat(path, &st) == 0;
		free(rel);
		if (!ok)
			return oci_error("config.json: mounts[%zu]: bind source %s: %s", i,
					 m->source, strerror(errno)),
			       -1;
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			return oci_error(
				   "config.json: mounts[%zu]: bind source %s: only directories "
				   "and regular files can be bind mounted",
				   i, m->source),
			       -1;
		b->source = strdup(path);
	} else if (strcmp(type, "tmpfs") == 0 || strcmp(type, "shm") == 0) {
		type = "tmpfs";
		if (tmpfs_data(s, m, i, &b->data) < 0)
			return -1;
	} else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
		/* No cgroupfs in the Sentry: the path exists, empty and read-only (Known gaps). */
		type = "tmpfs";
		b->readonly = true;
	} else if (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0 ||
		   strcmp(type, "devpts") == 0 || strcmp(type, "mqueue") == 0) {
		/* The Sentry mounts proc and sysfs anywhere; devpts elsewhere than /dev/pts and
		 * mqueue are logged and skipped by it (docs/architecture.md, Known gaps). */
	} else {
		return oci_error("config.json: mounts[%zu]: %s on %s: not supported", i, type,
				 m->dest),
		       -1;
	}
	b->type = strdup(type);
	b->dest = strdup(m->dest);
	if (!b->type || !b->dest || (strcmp(type, "bind") == 0 && !b->source))
		return oci_error("out of memory"), -1;
	if (!boot_mount_valid(b))
		return oci_error("config.json: mounts[%zu]: %s on %s: invalid (destination or "
				 "options: tmpfs takes size=, mode=, nr_inodes= and mount flags)",
				 i, type, m->dest),
		       -1;
	return 0;
}

void oci_boot_mounts_free(struct boot_mount *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].source);
		free(v[i].dest);
		free(v[i].data);
	}
	free(v);
}

int oci_mounts_boot(const struct oci_spec *s, struct boot_mount **out, size_t *n)
{
	struct boot_mount *v = calloc(s->nmounts ? s->nmounts : 1, sizeof(*v));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!v)
		return oci_error("out of memory"), -1;
	for (size_t i = 0; i < s->nmounts; i++) {
		int r = boot_mount_of(s, i, &v[k]);
		if (r < 0) {
			oci_boot_mounts_free(v, k + 1);
			return -1;
		}
		if (r == 0)
			k++;
	}
	*out = v;
	*n = k;
	return 0;
}

int oci_mounts_to_sandbox(const struct oci_spec *s)
{
	struct boot_mount *v;
	size_t n;

	if (oci_mounts_boot(s, &v, &n) < 0)
		return -1;
	oci_boot_mounts_free(v, n);
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
