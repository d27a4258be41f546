/* config.json process.user, .capabilities, .rlimits and .noNewPrivileges into the
 * struct sentry_process the Sentry sets on the container's init (its emulated credentials:
 * sentry/kernel/cred.c). Capability names go through libcap's cap_from_name. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "common/util.h"

/* RLIMIT_* by name, index = the Linux resource number. */
static const char *const rlimit_names[SENTRY_RLIMITS] = {
    "RLIMIT_CPU",   "RLIMIT_FSIZE", "RLIMIT_DATA",	 "RLIMIT_STACK",
    "RLIMIT_CORE",  "RLIMIT_RSS",   "RLIMIT_NPROC",	 "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS",	 "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};

/* A non-negative integer field that fits 32 bits. -1 after oci_error. */
static int get_u32(json_object *o, const char *where, const char *key, bool required,
		   uint32_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return oci_error("config.json: %s.%s is required", where, key), -1;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > UINT32_MAX)
		return oci_error("config.json: %s.%s: expected an integer from 0 to 2^32-1", where,
				 key),
		       -1;
	*out = (uint32_t)json_object_get_int64(v);
	return 0;
}

static int parse_user(json_object *user, struct sentry_process *p)
{
	json_object *groups;

	json_object_object_foreach(user, key, val)
	{
		(void)val;
		if (strcmp(key, "uid") && strcmp(key, "gid") && strcmp(key, "umask") &&
		    strcmp(key, "additionalGids"))
			return oci_error("config.json: process.user.%s: not supported by runsc-c", key),
			       -1;
	}
	p->umask = 022; /* unless given: Linux's init default, and runc's */
	if (get_u32(user, "process.user", "uid", true, &p->uid) < 0 ||
	    get_u32(user, "process.user", "gid", true, &p->gid) < 0 ||
	    get_u32(user, "process.user", "umask", false, &p->umask) < 0)
		return -1;
	if (p->umask > 0777)
		return oci_error("config.json: process.user.umask %#o: more than 0777", p->umask), -1;
	if (!json_object_object_get_ex(user, "additionalGids", &groups))
		return 0;
	if (!json_object_is_type(groups, json_type_array) ||
	    json_object_array_length(groups) > SENTRY_MAX_GROUPS)
		return oci_error("config.json: process.user.additionalGids: expected at most %d ids",
				 SENTRY_MAX_GROUPS),
		       -1;
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		if (!json_object_is_type(g, json_type_int) || json_object_get_int64(g) < 0 ||
		    json_object_get_int64(g) > UINT32_MAX)
			return oci_error("config.json: process.user.additionalGids[%zu]: expected a "
					 "group id",
					 i),
			       -1;
		p->groups[p->ngroups++] = (uint32_t)json_object_get_int64(g);
	}
	return 0;
}

/* One capability set: an array of "CAP_..." names into a mask. */
static int parse_capset(json_object *caps, const char *set, uint64_t *mask)
{
	json_object *arr;

	*mask = 0;
	if (!json_object_object_get_ex(caps, set, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return oci_error("config.json: process.capabilities.%s: expected an array", set), -1;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *n = json_object_array_get_idx(arr, i);
		cap_value_t cap;

		if (!json_object_is_type(n, json_type_string) ||
		    cap_from_name(json_object_get_string(n), &cap) < 0 || cap < 0 || cap > 40)
			return oci_error("config.json: process.capabilities.%s[%zu]: unknown "
					 "capability %s",
					 set, i, json_object_to_json_string(n)),
			       -1;
		*mask |= 1ULL << cap;
	}
	return 0;
}

static int parse_caps(json_object *caps, struct sentry_process *p)
{
	json_object_object_foreach(caps, key, val)
	{
		(void)val;
		if (strcmp(key, "bounding") && strcmp(key, "effective") && strcmp(key, "inheritable") &&
		    strcmp(key, "permitted") && strcmp(key, "ambient"))
			return oci_error("config.json: process.capabilities.%s: not supported by "
					 "runsc-c",
					 key),
			       -1;
	}
	if (parse_capset(caps, "bounding", &p->cap_bounding) < 0 ||
	    parse_capset(caps, "effective", &p->cap_effective) < 0 ||
	    parse_capset(caps, "inheritable", &p->cap_inheritable) < 0 ||
	    parse_capset(caps, "permitted", &p->cap_permitted) < 0 ||
	    parse_capset(caps, "ambient", &p->cap_ambient) < 0)
		return -1;
	/* What capset(2) would refuse runc too. */
	if (p->cap_effective & ~p->cap_permitted)
		return oci_error("config.json: process.capabilities.effective: not a subset of "
				 "permitted"),
		       -1;
	if (p->cap_ambient & ~(p->cap_permitted & p->cap_inheritable))
		return oci_error("config.json: process.capabilities.ambient: not in both permitted "
				 "and inheritable"),
		       -1;
	return 0;
}

static int parse_rlimits(json_object *arr, struct sentry_process *p)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *r = json_object_array_get_idx(arr, i), *type, *soft, *hard;
		int res = -1;

		if (!json_object_is_type(r, json_type_object) ||
		    !json_object_object_get_ex(r, "type", &type) ||
		    !json_object_object_get_ex(r, "soft", &soft) ||
		    !json_object_object_get_ex(r, "hard", &hard) ||
		    !json_object_is_type(type, json_type_string) ||
		    !json_object_is_type(soft, json_type_int) || !json_object_is_type(hard, json_type_int))
			return oci_error("config.json: process.rlimits[%zu]: expected {type, soft, hard}",
					 i),
			       -1;
		for (int k = 0; k < SENTRY_RLIMITS; k++)
			if (strcasecmp(rlimit_names[k], json_object_get_string(type)) == 0)
				res = k;
		if (res < 0)
			return oci_error("config.json: process.rlimits[%zu]: unknown type %s", i,
					 json_object_get_string(type)),
			       -1;
		/* JSON numbers above 2^63 (RLIM_INFINITY) come back from json-c as uint64 */
		uint64_t cur = json_object_get_uint64(soft), max = json_object_get_uint64(hard);
		if (cur > max)
			return oci_error("config.json: process.rlimits[%zu]: soft above hard", i), -1;
		if (p->rlimit_set[res])
			return oci_error("config.json: process.rlimits: %s given twice",
					 rlimit_names[res]),
			       -1;
		p->rlimit_set[res] = 1;
		p->rlimit_cur[res] = cur;
		p->rlimit_max[res] = max;
	}
	return 0;
}

int oci_process_parse(json_object *proc, struct sentry_process *p)
{
	json_object *v;

	memset(p, 0, sizeof(*p));
	if (!json_object_object_get_ex(proc, "user", &v) || !json_object_is_type(v, json_type_object))
		return oci_error("config.json: process.user is required"), -1;
	if (parse_user(v, p) < 0)
		return -1;
	/* No capabilities object: init keeps every capability, as the Sentry's root. */
	p->cap_bounding = p->cap_effective = p->cap_permitted = (1ULL << 41) - 1;
	if (json_object_object_get_ex(proc, "capabilities", &v)) {
		if (!json_object_is_type(v, json_type_object))
			return oci_error("config.json: process.capabilities: expected an object"), -1;
		if (parse_caps(v, p) < 0)
			return -1;
	}
	if (json_object_object_get_ex(proc, "rlimits", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return oci_error("config.json: process.rlimits: expected an array"), -1;
		if (parse_rlimits(v, p) < 0)
			return -1;
	}
	if (json_object_object_get_ex(proc, "noNewPrivileges", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return oci_error("config.json: process.noNewPrivileges: expected a boolean"), -1;
		p->no_new_privs = json_object_get_boolean(v);
	}
	return 0;
}
