/* A bundle's config.json: parsed with json-c, checked field by field. What runsc-c does not do
 * is refused with a message naming the field, never dropped; what the Sentry gives every
 * container by construction (its own namespaces, no host devices, a /proc and /sys of its own)
 * is accepted with the reason noted where the field is checked. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

/* Accepted ociVersion: 1.0.x to 1.2.x (with any -suffix such as "1.0.2-dev"). */
static bool version_ok(const char *v)
{
	unsigned major, minor;
	char dot;

	if (sscanf(v, "%u.%u%c", &major, &minor, &dot) != 3 || dot != '.')
		return false;
	return major == 1 && minor <= 2;
}

/* Refuse keys of obj (named where) that are not in `known` (NULL-terminated). */
static int only_keys(json_object *obj, const char *where, const char *const *known)
{
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok) {
			oci_error("config.json: %s%s%s: not supported by runsc-c", where,
				  *where ? "." : "", key);
			return -1;
		}
	}
	return 0;
}

/* obj[key] if present and of type `type`; *out NULL when absent. -1 after oci_error on a
 * wrong type, or when required and absent. */
static int get_field(json_object *obj, const char *where, const char *key, json_type type,
		     bool required, json_object **out)
{
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, out) || json_object_is_type(*out, json_type_null)) {
		*out = NULL;
		if (required) {
			oci_error("config.json: %s%s%s is required", where, *where ? "." : "", key);
			return -1;
		}
		return 0;
	}
	if (!json_object_is_type(*out, type)) {
		oci_error("config.json: %s%s%s: expected %s", where, *where ? "." : "", key,
			  json_type_to_name(type));
		return -1;
	}
	return 0;
}

/* A JSON array of strings as a NULL-terminated vector (owned). -1 after oci_error. */
static int get_strv(json_object *arr, const char *where, char ***out)
{
	size_t n = json_object_array_length(arr);
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return oci_error("out of memory"), -1;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_string)) {
			oci_error("config.json: %s[%zu]: expected a string", where, i);
			env_free(v);
			return -1;
		}
		if (!(v[i] = strdup(json_object_get_string(e)))) {
			env_free(v);
			return oci_error("out of memory"), -1;
		}
	}
	*out = v;
	return 0;
}

int oci_process_load(json_object *p, struct oci_spec *s)
{
	static const char *const known[] = {"terminal",	    "consoleSize",     "user",
					    "args",	    "env",	       "cwd",
					    "capabilities", "rlimits",	       "noNewPrivileges",
					    "oomScoreAdj",  "apparmorProfile", "selinuxLabel",
					    NULL};
	json_object *v;

	if (only_keys(p, "process", known) < 0)
		return -1;
	if (get_field(p, "process", "terminal", json_type_boolean, false, &v) < 0)
		return -1;
	s->terminal = v && json_object_get_boolean(v);
	if (get_field(p, "process", "consoleSize", json_type_object, false, &v) < 0)
		return -1;
	if (v) {
		json_object *h, *w;
		if (get_field(v, "process.consoleSize", "height", json_type_int, true, &h) < 0 ||
		    get_field(v, "process.consoleSize", "width", json_type_int, true, &w) < 0)
			return -1;
		if (json_object_get_int64(h) < 0 || json_object_get_int64(h) > 65535 ||
		    json_object_get_int64(w) < 0 || json_object_get_int64(w) > 65535)
			return oci_error("config.json: process.consoleSize: 0 to 65535"), -1;
		s->console_rows = (unsigned short)json_object_get_int64(h);
		s->console_cols = (unsigned short)json_object_get_int64(w);
	}
	if (oci_process_parse(p, &s->process) < 0)
		return -1;
	/* No LSM profile is loaded for the Sentry's processes: only an empty one is true. */
	if (get_field(p, "process", "apparmorProfile", json_type_string, false, &v) < 0)
		return -1;
	if (v && json_object_get_string(v)[0])
		return oci_error("config.json: process.apparmorProfile: not supported"), -1;
	if (get_field(p, "process", "selinuxLabel", json_type_string, false, &v) < 0)
		return -1;
	if (v && json_object_get_string(v)[0])
		return oci_error("config.json: process.selinuxLabel: not supported"), -1;
	if (get_field(p, "process", "args", json_type_array, true, &v) < 0 ||
	    get_strv(v, "process.args", &s->args) < 0)
		return -1;
	if (!s->args[0] || !s->args[0][0])
		return oci_error("config.json: process.args must not be empty"), -1;
	if (get_field(p, "process", "env", json_type_array, false, &v) < 0)
		return -1;
	if (v ? get_strv(v, "process.env", &s->env) < 0 : !(s->env = calloc(1, sizeof(char *))))
		return -1;
	for (char **e = s->env; *e; e++)
		if (!env_entry_valid(*e))
			return oci_error("config.json: process.env \"%s\": expected KEY=VALUE", *e),
			       -1;
	if (get_field(p, "process", "cwd", json_type_string, true, &v) < 0)
		return -1;
	if (json_object_get_string(v)[0] != '/')
		return oci_error("config.json: process.cwd \"%s\": must be absolute",
				 json_object_get_string(v)),
		       -1;
	s->cwd = strdup(json_object_get_string(v));
	/* oomScoreAdj: accepted; the host's OOM killer sees one sandbox, not its processes. */
	if (get_field(p, "process", "oomScoreAdj", json_type_int, false, &v) < 0)
		return -1;
	return s->cwd ? 0 : -1;
}

/* linux.namespaces: every type names a namespace the Sentry emulates for its processes (they
 * never share the host's); a path (joining an existing one) is refused. */
static int check_namespaces(json_object *arr)
{
	static const char *const types[] = {"pid",  "network", "mount", "ipc",
					    "uts",  "user",    "cgroup", "time"};
	unsigned seen = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *ns = json_object_array_get_idx(arr, i), *type, *path;
		static const char *const known[] = {"type", "path", NULL};
		size_t t;

		if (!json_object_is_type(ns, json_type_object))
			return oci_error("config.json: linux.namespaces[%zu]: expected an object", i),
			       -1;
		if (only_keys(ns, "linux.namespaces[]", known) < 0 ||
		    get_field(ns, "linux.namespaces[]", "type", json_type_string, true, &type) < 0 ||
		    get_field(ns, "linux.namespaces[]", "path", json_type_string, false, &path) < 0)
			return -1;
		for (t = 0; t < ARRAY_SIZE(types); t++)
			if (strcmp(types[t], json_object_get_string(type)) == 0)
				break;
		if (t == ARRAY_SIZE(types))
			return oci_error("config.json: linux.namespaces[%zu]: unknown namespace type "
					 "\"%s\"",
					 i, json_object_get_string(type)),
			       -1;
		if (seen & (1u << t))
			return oci_error("config.json: linux.namespaces: type \"%s\" given twice",
					 types[t]),
			       -1;
		seen |= 1u << t;
		if (path && json_object_get_string(path)[0])
			return oci_error("config.json: linux.namespaces[%zu].path: joining an existing "
					 "%s namespace is not supported",
					 i, types[t]),
			       -1;
	}
	return 0;
}

/* linux.resources: memory, pids and cpu limits (host cgroups: oci_cgroups.c). Device rules are
 * checked for shape and otherwise have nothing to do: the Sentry opens no host device for the
 * application whatever they say, so a deny rule holds by construction and an allow rule (ctr's
 * default spec allows /dev/fuse, tun...) grants nothing the Sentry does not provide anyway.
 * Creating a device (linux.devices) is refused: check_linux does not know that field. */
static int check_resources(json_object *res, struct oci_spec *s)
{
	static const char *const known[] = {"devices", "memory", "pids", "cpu", NULL};
	json_object *devs;

	if (only_keys(res, "linux.resources", known) < 0 ||
	    oci_resources_parse(res, &s->resources) < 0 ||
	    get_field(res, "linux.resources", "devices", json_type_array, false, &devs) < 0)
		return -1;
	for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i), *allow;
		if (!json_object_is_type(d, json_type_object))
			return oci_error("config.json: linux.resources.devices[%zu]: expected an "
					 "object",
					 i),
			       -1;
		if (get_field(d, "linux.resources.devices[]", "allow", json_type_boolean, true,
			      &allow) < 0)
			return -1;
	}
	return 0;
}

static int check_linux(json_object *l, struct oci_spec *s)
{
	/* uid/gidMappings: the Sentry is always in a user namespace of its own, mapped to an
	 * unprivileged host id; container ids are the Sentry's. maskedPaths/readonlyPaths: no
	 * host /proc or /sys is visible, only the Sentry's own. cgroupsPath: where the limits of
	 * linux.resources go (no cgroup is made without one). */
	static const char *const known[] = {"namespaces",  "uidMappings",	  "gidMappings",
					    "resources",   "cgroupsPath",	  "maskedPaths",
					    "readonlyPaths", "rootfsPropagation", "seccomp",
					    NULL};
	json_object *v;

	if (only_keys(l, "linux", known) < 0)
		return -1;
	if (get_field(l, "linux", "namespaces", json_type_array, false, &v) < 0 ||
	    (v && check_namespaces(v) < 0))
		return -1;
	if (get_field(l, "linux", "resources", json_type_object, false, &v) < 0 ||
	    (v && check_resources(v, s) < 0))
		return -1;
	if (get_field(l, "linux", "cgroupsPath", json_type_string, false, &v) < 0)
		return -1;
	s->cgroups_path = v ? json_object_get_string(v) : NULL;
	if (get_field(l, "linux", "maskedPaths", json_type_array, false, &v) < 0 ||
	    get_field(l, "linux", "readonlyPaths", json_type_array, false, &v) < 0 ||
	    get_field(l, "linux", "uidMappings", json_type_array, false, &v) < 0 ||
	    get_field(l, "linux", "gidMappings", json_type_array, false, &v) < 0)
		return -1;
	/* Applied by the Sentry to every syscall of the container's processes (oci_seccomp.c). */
	if (get_field(l, "linux", "seccomp", json_type_object, false, &v) < 0)
		return -1;
	if (v && oci_seccomp_parse(v, s->process.cap_bounding, &s->seccomp) < 0)
		return -1;
	s->has_seccomp = v != NULL;
	/* The Sentry's mounts never propagate to the host: private, whatever is asked. */
	if (get_field(l, "linux", "rootfsPropagation", json_type_string, false, &v) < 0)
		return -1;
	return 0;
}

static int parse_root(json_object *root, struct oci_spec *s)
{
	static const char *const known[] = {"path", "readonly", NULL};
	char buf[PATH_MAX], *rel = NULL;
	json_object *v;
	struct stat st;

	if (only_keys(root, "root", known) < 0 ||
	    get_field(root, "root", "path", json_type_string, true, &v) < 0)
		return -1;
	const char *path = json_object_get_string(v);
	if (path[0] != '/' && asprintf(&rel, "%s/%s", s->bundle, path) < 0)
		return oci_error("out of memory"), -1;
	if (!realpath(rel ? rel : path, buf) || stat(buf, &st) < 0) {
		oci_error("config.json: root.path %s: %s", path, strerror(errno));
		free(rel);
		return -1;
	}
	free(rel);
	if (!S_ISDIR(st.st_mode))
		return oci_error("config.json: root.path %s: not a directory", path), -1;
	if (!(s->root = strdup(buf)))
		return -1;
	if (get_field(root, "root", "readonly", json_type_boolean, false, &v) < 0)
		return -1;
	s->root_readonly = v && json_object_get_boolean(v);
	return 0;
}

static int parse_doc(struct oci_spec *s)
{
	static const char *const known[] = {"ociVersion", "process",	 "root",  "hostname",
					    "mounts",	  "annotations", "linux", "hooks",
					    NULL};
	json_object *doc = s->doc, *v;

	if (!json_object_is_type(doc, json_type_object))
		return oci_error("config.json: expected a JSON object"), -1;
	if (get_field(doc, "", "ociVersion", json_type_string, true, &v) < 0)
		return -1;
	s->version = json_object_get_string(v);
	if (!version_ok(s->version))
		return oci_error("config.json: ociVersion \"%s\" is not supported (1.0.x to 1.2.x)",
				 s->version),
		       -1;
	if (only_keys(doc, "", known) < 0)
		return -1;
	if (get_field(doc, "", "root", json_type_object, true, &v) < 0 || parse_root(v, s) < 0)
		return -1;
	if (get_field(doc, "", "process", json_type_object, true, &v) < 0 ||
	    oci_process_load(v, s) < 0)
		return -1;
	if (get_field(doc, "", "hostname", json_type_string, false, &v) < 0)
		return -1;
	s->hostname = v ? json_object_get_string(v) : NULL;
	if (s->hostname && (!s->hostname[0] || strlen(s->hostname) > BOOT_HOSTNAME_MAX))
		return oci_error("config.json: hostname \"%s\": must be 1 to 64 bytes", s->hostname),
		       -1;
	if (get_field(doc, "", "annotations", json_type_object, false, &s->annotations) < 0)
		return -1;
	if (s->annotations) {
		json_object_object_foreach(s->annotations, k, a)
		{
			if (!json_object_is_type(a, json_type_string))
				return oci_error("config.json: annotations.%s: expected a string", k),
				       -1;
		}
	}
	if (get_field(doc, "", "linux", json_type_object, false, &v) < 0 ||
	    (v && check_linux(v, s) < 0))
		return -1;
	if (get_field(doc, "", "hooks", json_type_object, false, &s->hooks) < 0 ||
	    (s->hooks && oci_hooks_check(s->hooks) < 0))
		return -1;
	if (get_field(doc, "", "mounts", json_type_array, false, &v) < 0 ||
	    (v && oci_mounts_parse(v, s) < 0))
		return -1;
	return oci_mounts_to_sandbox(s);
}

int oci_spec_load(const char *bundle, struct oci_spec *s)
{
	char dir[PATH_MAX];
	_cleanup_free_ char *path = NULL;
	json_tokener *tok;
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	if (!realpath(bundle, dir)) {
		oci_error("bundle %s: %s", bundle, strerror(errno));
		return -1;
	}
	if (!(s->bundle = strdup(dir)) || asprintf(&path, "%s/config.json", dir) < 0)
		return oci_error("out of memory"), -1;
	if (!(f = fopen(path, "re"))) {
		oci_error("%s: %s", path, strerror(errno));
		return -1;
	}
	FILE *mem = open_memstream(&text, &len);
	char buf[8192];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(f);
	if (!mem || fclose(mem) != 0)
		return oci_error("reading %s: %s", path, strerror(errno)), -1;
	tok = json_tokener_new();
	s->doc = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	size_t end = tok ? json_tokener_get_parse_end(tok) : 0;
	if (!s->doc || json_tokener_get_error(tok) != json_tokener_success ||
	    strspn(text + end, " \t\r\n") != len - end) {
		enum json_tokener_error e = tok ? json_tokener_get_error(tok) : json_tokener_error_depth;
		oci_error("%s: invalid JSON: %s", path,
			  e == json_tokener_success ? "trailing data"
			  : e == json_tokener_continue ? "unexpected end of input"
						       : json_tokener_error_desc(e));
		json_tokener_free(tok);
		free(text);
		return -1;
	}
	json_tokener_free(tok);
	free(text);
	return parse_doc(s);
}

void oci_spec_free(struct oci_spec *s)
{
	oci_mounts_free(s);
	free(s->seccomp.rules);
	env_free(s->args);
	env_free(s->env);
	free(s->cwd);
	free(s->root);
	free(s->bundle);
	if (s->doc)
		json_object_put(s->doc);
	memset(s, 0, sizeof(*s));
}
