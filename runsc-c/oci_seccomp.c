/* config.json linux.seccomp into the rule table the Sentry applies to the container's syscalls
 * (struct sentry_seccomp, sentry/syscalls/app_filter.c). The profile is read as runc reads it
 * with libseccomp, plus the includes/excludes of podman's and Docker's profile format.
 *
 * Decisions, each where runc/libseccomp leave room:
 * - architectures: the sandbox runs x86-64 code only, so a list naming any x86 flavour is
 *   accepted and the rules apply to the x86-64 table; other architectures are refused.
 * - flags: TSYNC, LOG, SPEC_ALLOW and WAIT_KILLABLE_RECV are accepted and are no-ops: the
 *   profile covers every thread at once, nothing is logged by the host's audit, the Sentry's
 *   own speculation mitigations are the host's, and there is no listener.
 * - SCMP_ACT_TRACE: no tracer is ever attached to the profile, so the call fails with ENOSYS,
 *   as Linux does for it without a tracer. SCMP_ACT_NOTIFY and listenerPath are refused.
 * - SCMP_ACT_KILL (= KILL_THREAD, as runc) and KILL_PROCESS: the process dies of SIGSYS.
 * - names the x86-64 table does not know are skipped, as libseccomp's resolver makes runc do.
 * - an entry's args on one index more than once become one rule per condition (OR), else one
 *   rule with all of them (AND): runc's matchCall.
 * - includes/excludes.caps against the bounding set, as podman's and Docker's profile code. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "common/util.h"

/* The kernel version the Sentry reports (uname), for includes.minKernel. */
#define SENTRY_KERNEL_MAJOR 6
#define SENTRY_KERNEL_MINOR 1

static const struct {
	const char *name;
	int action;
} actions[] = {
    {"SCMP_ACT_ALLOW", SENTRY_SCMP_ALLOW},
    {"SCMP_ACT_LOG", SENTRY_SCMP_LOG},
    {"SCMP_ACT_TRACE", SENTRY_SCMP_TRACE},
    {"SCMP_ACT_ERRNO", SENTRY_SCMP_ERRNO},
    {"SCMP_ACT_TRAP", SENTRY_SCMP_TRAP},
    {"SCMP_ACT_KILL", SENTRY_SCMP_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SENTRY_SCMP_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SENTRY_SCMP_KILL_PROCESS},
};

static const char *const ops[] = {
    [SENTRY_SCMP_NE] = "SCMP_CMP_NE", [SENTRY_SCMP_LT] = "SCMP_CMP_LT",
    [SENTRY_SCMP_LE] = "SCMP_CMP_LE", [SENTRY_SCMP_EQ] = "SCMP_CMP_EQ",
    [SENTRY_SCMP_GE] = "SCMP_CMP_GE", [SENTRY_SCMP_GT] = "SCMP_CMP_GT",
    [SENTRY_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const x86_arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
static const char *const known_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Every key of obj must be in known (NULL-terminated). -1 after oci_error. */
static int keys_known(json_object *obj, const char *where, const char *const *known)
{
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		size_t n = 0;
		while (known[n])
			n++;
		if (!in_list(key, known, n))
			return oci_error("config.json: %s.%s: not supported by runsc-c", where, key),
			       -1;
	}
	return 0;
}

/* obj[key] of type type, or NULL when absent or null. -1 after oci_error on another type. */
static int field(json_object *obj, const char *where, const char *key, json_type type,
		 json_object **out)
{
	if (!json_object_object_get_ex(obj, key, out) || json_object_is_type(*out, json_type_null)) {
		*out = NULL;
		return 0;
	}
	if (!json_object_is_type(*out, type))
		return oci_error("config.json: %s.%s: expected %s", where, key,
				 json_type_to_name(type)),
		       -1;
	return 0;
}

static int parse_action(json_object *v, const char *where, uint8_t *out)
{
	const char *s = json_object_get_string(v);

	if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return oci_error("config.json: %s: SCMP_ACT_NOTIFY is not supported (no seccomp "
				 "agent can be attached to the Sentry)",
				 where),
		       -1;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcmp(s, actions[i].name) == 0) {
			*out = (uint8_t)actions[i].action;
			return 0;
		}
	return oci_error("config.json: %s: unknown action \"%s\"", where, s), -1;
}

/* An errno value 0..4095, or def when v is NULL. */
static int parse_errno(json_object *v, const char *where, uint16_t def, uint16_t *out)
{
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > SENTRY_SCMP_MAX_ERRNO)
		return oci_error("config.json: %s: expected an errno from 0 to %d", where,
				 SENTRY_SCMP_MAX_ERRNO),
		       -1;
	*out = (uint16_t)json_object_get_int64(v);
	return 0;
}

/* A uint64 field (json-c keeps values above INT64_MAX as unsigned). */
static int parse_u64(json_object *o, const char *where, const char *key, bool required,
		     uint64_t *out)
{
	json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return oci_error("config.json: %s.%s is required", where, key), -1;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int) ||
	    (json_object_get_int64(v) < 0 && json_object_get_uint64(v) <= INT64_MAX))
		return oci_error("config.json: %s.%s: expected an integer from 0 to 2^64-1", where,
				 key),
		       -1;
	*out = json_object_get_uint64(v);
	return 0;
}

static int parse_arg(json_object *a, struct sentry_scmp_cond *c)
{
	static const char *const known[] = {"index", "value", "valueTwo", "op", NULL};
	const char *where = "linux.seccomp.syscalls[].args[]";
	uint64_t index;
	json_object *op;

	if (!json_object_is_type(a, json_type_object))
		return oci_error("config.json: %s: expected an object", where), -1;
	if (keys_known(a, where, known) < 0 || parse_u64(a, where, "index", true, &index) < 0 ||
	    parse_u64(a, where, "value", true, &c->value) < 0 ||
	    parse_u64(a, where, "valueTwo", false, &c->value_two) < 0 ||
	    field(a, where, "op", json_type_string, &op) < 0)
		return -1;
	if (index > 5)
		return oci_error("config.json: %s.index %llu: 0 to 5", where,
				 (unsigned long long)index),
		       -1;
	c->index = (uint8_t)index;
	for (int i = SENTRY_SCMP_NE; op && i <= SENTRY_SCMP_MASKED_EQ; i++)
		if (strcmp(json_object_get_string(op), ops[i]) == 0)
			c->op = (uint8_t)i;
	if (!c->op)
		return oci_error("config.json: %s.op: expected SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT "
				 "or _MASKED_EQ",
				 where),
		       -1;
	return 0;
}

/* "5.4" or "5.4.0" >= the Sentry's kernel version? */
static int kernel_at_least(const char *v, const char *where, bool *out)
{
	unsigned major, minor;
	char end;
	int n = sscanf(v, "%u.%u%c", &major, &minor, &end);

	if (n < 2 || (n == 3 && end != '.'))
		return oci_error("config.json: %s: \"%s\": expected MAJOR.MINOR", where, v), -1;
	*out = major < SENTRY_KERNEL_MAJOR ||
	       (major == SENTRY_KERNEL_MAJOR && minor <= SENTRY_KERNEL_MINOR);
	return 0;
}

/* An entry's includes (all of what it names holds) or excludes (any of it holds): *out whether
 * it does here, with the bounding set, x86-64 ("amd64") and the Sentry's kernel version. */
static int filter_holds(json_object *f, bool includes, uint64_t bounding, bool *out)
{
	static const char *const known[] = {"caps", "arches", "minKernel", NULL};
	const char *where = includes ? "linux.seccomp.syscalls[].includes"
				     : "linux.seccomp.syscalls[].excludes";
	json_object *caps, *arches, *kernel;
	bool all_caps = true, any_cap = false, arch = false, new_enough = false;

	*out = false;
	if (!json_object_is_type(f, json_type_object))
		return oci_error("config.json: %s: expected an object", where), -1;
	if (keys_known(f, where, known) < 0 || field(f, where, "caps", json_type_array, &caps) < 0 ||
	    field(f, where, "arches", json_type_array, &arches) < 0 ||
	    field(f, where, "minKernel", json_type_string, &kernel) < 0)
		return -1;
	size_t ncaps = caps ? json_object_array_length(caps) : 0;
	size_t narches = arches ? json_object_array_length(arches) : 0;
	for (size_t i = 0; i < ncaps; i++) {
		json_object *n = json_object_array_get_idx(caps, i);
		cap_value_t cap;
		if (!json_object_is_type(n, json_type_string) ||
		    cap_from_name(json_object_get_string(n), &cap) < 0 || cap < 0 || cap > 40)
			return oci_error("config.json: %s.caps[%zu]: not a capability", where, i), -1;
		bool has = (bounding >> cap) & 1;
		all_caps &= has;
		any_cap |= has;
	}
	for (size_t i = 0; i < narches; i++) {
		json_object *n = json_object_array_get_idx(arches, i);
		if (!json_object_is_type(n, json_type_string))
			return oci_error("config.json: %s.arches[%zu]: expected a string", where, i),
			       -1;
		const char *s = json_object_get_string(n);
		arch |= strcmp(s, "amd64") == 0 || strcmp(s, "x86_64") == 0;
	}
	if (kernel && kernel_at_least(json_object_get_string(kernel), where, &new_enough) < 0)
		return -1;
	if (includes)
		*out = all_caps && (!narches || arch) && (!kernel || new_enough);
	else
		*out = any_cap || arch || (kernel && new_enough);
	return 0;
}

static int add_rule(struct sentry_seccomp *f, const struct sentry_scmp_rule *r)
{
	if (f->nrules >= SENTRY_SCMP_MAX_RULES)
		return oci_error("config.json: linux.seccomp: more than %d rules",
				 SENTRY_SCMP_MAX_RULES),
		       -1;
	struct sentry_scmp_rule *n = realloc(f->rules, (f->nrules + 1) * sizeof(*n));
	if (!n)
		return oci_error("out of memory"), -1;
	f->rules = n;
	f->rules[f->nrules++] = *r;
	return 0;
}

static int parse_entry(json_object *e, size_t i, uint64_t bounding, struct sentry_seccomp *f)
{
	static const char *const known[] = {"names",	"name",	    "action",	"errnoRet", "args",
					    "comment", "includes", "excludes", NULL};
	const char *where = "linux.seccomp.syscalls[]";
	json_object *names, *name, *action, *err, *args, *inc, *exc;
	struct sentry_scmp_rule r = {0};
	struct sentry_scmp_cond conds[6] = {0};
	unsigned per_index[6] = {0};
	bool holds, split = false;
	size_t nargs;

	if (!json_object_is_type(e, json_type_object))
		return oci_error("config.json: %s: expected an object", where), -1;
	if (keys_known(e, where, known) < 0 ||
	    field(e, where, "names", json_type_array, &names) < 0 ||
	    field(e, where, "name", json_type_string, &name) < 0 ||
	    field(e, where, "action", json_type_string, &action) < 0 ||
	    field(e, where, "args", json_type_array, &args) < 0 ||
	    field(e, where, "includes", json_type_object, &inc) < 0 ||
	    field(e, where, "excludes", json_type_object, &exc) < 0)
		return -1;
	if (!action)
		return oci_error("config.json: %s.action is required", where), -1;
	if (parse_action(action, "linux.seccomp.syscalls[].action", &r.action) < 0)
		return -1;
	json_object_object_get_ex(e, "errnoRet", &err);
	if (err && r.action != SENTRY_SCMP_ERRNO && r.action != SENTRY_SCMP_TRACE)
		return oci_error("config.json: %s.errnoRet: only for SCMP_ACT_ERRNO and "
				 "SCMP_ACT_TRACE",
				 where),
		       -1;
	if (r.action == SENTRY_SCMP_ERRNO &&
	    parse_errno(err, "linux.seccomp.syscalls[].errnoRet", 1 /* EPERM */, &r.errno_ret) <
		0)
		return -1;
	if (inc && filter_holds(inc, true, bounding, &holds) < 0)
		return -1;
	if (inc && !holds)
		return 0;
	if (exc && filter_holds(exc, false, bounding, &holds) < 0)
		return -1;
	if (exc && holds)
		return 0;
	nargs = args ? json_object_array_length(args) : 0;
	if (nargs > 6)
		return oci_error("config.json: %s.args: at most 6", where), -1;
	for (size_t a = 0; a < nargs; a++) {
		if (parse_arg(json_object_array_get_idx(args, a), &conds[a]) < 0)
			return -1;
		split |= ++per_index[conds[a].index] > 1;
	}
	size_t nnames = names ? json_object_array_length(names) : 0;
	if (!nnames && !name)
		return oci_error("config.json: linux.seccomp.syscalls[%zu]: no names", i), -1;
	for (size_t k = 0; k < nnames + (name ? 1 : 0); k++) {
		json_object *n = k < nnames ? json_object_array_get_idx(names, k) : name;
		if (!json_object_is_type(n, json_type_string))
			return oci_error("config.json: %s.names[%zu]: expected a string", where, k),
			       -1;
		long nr = abi_syscall_by_name(json_object_get_string(n));
		if (nr < 0 || nr >= ABI_SYSCALL_MAX) {
			log_debug("seccomp: %s: not an x86-64 syscall, skipped",
				  json_object_get_string(n));
			continue;
		}
		r.nr = (uint16_t)nr;
		if (!split) {
			r.ncond = (uint8_t)nargs;
			memcpy(r.cond, conds, sizeof(conds));
			if (add_rule(f, &r) < 0)
				return -1;
			continue;
		}
		for (size_t a = 0; a < nargs; a++) {
			memset(r.cond, 0, sizeof(r.cond));
			r.ncond = 1;
			r.cond[0] = conds[a];
			if (add_rule(f, &r) < 0)
				return -1;
		}
	}
	return 0;
}

int oci_seccomp_parse(json_object *sc, uint64_t bounding, struct sentry_seccomp *f)
{
	static const char *const known[] = {"defaultAction", "defaultErrnoRet", "architectures",
					    "flags",	     "syscalls",	"listenerPath",
					    "listenerMetadata", NULL};
	const char *where = "linux.seccomp";
	json_object *v;

	memset(f, 0, sizeof(*f));
	if (keys_known(sc, where, known) < 0)
		return -1;
	if (json_object_object_get_ex(sc, "listenerPath", &v) ||
	    json_object_object_get_ex(sc, "listenerMetadata", &v))
		return oci_error("config.json: linux.seccomp.%s: not supported (no seccomp agent "
				 "can be attached to the Sentry)",
				 json_object_object_get_ex(sc, "listenerPath", &v)
				     ? "listenerPath"
				     : "listenerMetadata"),
		       -1;
	if (field(sc, where, "defaultAction", json_type_string, &v) < 0)
		return -1;
	if (!v)
		return oci_error("config.json: linux.seccomp.defaultAction is required"), -1;
	if (parse_action(v, "linux.seccomp.defaultAction", &f->default_action) < 0)
		return -1;
	json_object_object_get_ex(sc, "defaultErrnoRet", &v);
	if (v && f->default_action != SENTRY_SCMP_ERRNO)
		return oci_error("config.json: linux.seccomp.defaultErrnoRet: only with "
				 "defaultAction SCMP_ACT_ERRNO"),
		       -1;
	if (f->default_action == SENTRY_SCMP_ERRNO &&
	    parse_errno(v, "linux.seccomp.defaultErrnoRet", 1 /* EPERM */, &f->default_errno) < 0)
		return -1;
	if (field(sc, where, "architectures", json_type_array, &v) < 0)
		return -1;
	for (size_t i = 0; v && i < json_object_array_length(v); i++) {
		json_object *a = json_object_array_get_idx(v, i);
		if (!json_object_is_type(a, json_type_string) ||
		    !in_list(json_object_get_string(a), x86_arches, ARRAY_SIZE(x86_arches)))
			return oci_error("config.json: linux.seccomp.architectures[%zu]: the sandbox "
					 "runs x86-64 code only (SCMP_ARCH_X86_64, _X86, _X32)",
					 i),
			       -1;
	}
	if (field(sc, where, "flags", json_type_array, &v) < 0)
		return -1;
	for (size_t i = 0; v && i < json_object_array_length(v); i++) {
		json_object *a = json_object_array_get_idx(v, i);
		if (!json_object_is_type(a, json_type_string) ||
		    !in_list(json_object_get_string(a), known_flags, ARRAY_SIZE(known_flags)))
			return oci_error("config.json: linux.seccomp.flags[%zu]: unknown flag", i),
			       -1;
	}
	if (field(sc, where, "syscalls", json_type_array, &v) < 0)
		return -1;
	for (size_t i = 0; v && i < json_object_array_length(v); i++)
		if (parse_entry(json_object_array_get_idx(v, i), i, bounding, f) < 0) {
			free(f->rules);
			memset(f, 0, sizeof(*f));
			return -1;
		}
	return 0;
}
