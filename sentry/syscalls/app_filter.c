/* The application's seccomp profile (OCI linux.seccomp), checked at dispatch before the handler. */
#include "sentry/syscalls/app_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "sentry/kernel/signal.h"

/* The compiled profile: set once at boot, before any application instruction, then only read.
 * allow: one bit per number whose rules are a single unconditional ALLOW (podman's allow-list),
 * so those calls cost one bit test. Other numbers with rules find them as
 * rules[first[nr] .. first[nr] + count[nr]), in the profile's order. */
static struct {
	bool on;
	uint8_t default_action;
	uint16_t default_errno;
	uint64_t allow[(ABI_SYSCALL_MAX + 63) / 64];
	uint32_t first[ABI_SYSCALL_MAX];
	uint16_t count[ABI_SYSCALL_MAX];
	struct sentry_scmp_rule *rules;
} g_filter;

bool sentry_seccomp_valid(const struct sentry_seccomp *f)
{
	if (f->default_action >= SENTRY_SCMP_ACTIONS || f->nrules > SENTRY_SCMP_MAX_RULES ||
	    (f->nrules && !f->rules) || f->default_errno > SENTRY_SCMP_MAX_ERRNO ||
	    (f->default_action != SENTRY_SCMP_ERRNO && f->default_errno))
		return false;
	for (size_t i = 0; i < f->nrules; i++) {
		const struct sentry_scmp_rule *r = &f->rules[i];
		if (r->nr >= ABI_SYSCALL_MAX || r->action >= SENTRY_SCMP_ACTIONS || r->ncond > 6 ||
		    r->zero || r->errno_ret > SENTRY_SCMP_MAX_ERRNO ||
		    (r->action != SENTRY_SCMP_ERRNO && r->errno_ret))
			return false;
		for (int c = 0; c < 6; c++) {
			const struct sentry_scmp_cond *k = &r->cond[c];
			static const uint8_t zero[6];
			if (c >= r->ncond) {
				if (k->index || k->op || k->value || k->value_two ||
				    memcmp(k->zero, zero, sizeof(zero)))
					return false;
				continue;
			}
			if (k->index > 5 || k->op < SENTRY_SCMP_NE || k->op > SENTRY_SCMP_MASKED_EQ ||
			    memcmp(k->zero, zero, sizeof(zero)))
				return false;
		}
	}
	return true;
}

/* Rules sorted by number, keeping the profile's order within one number. */
static int rule_cmp(const void *x, const void *y)
{
	const struct sentry_scmp_rule *a = *(struct sentry_scmp_rule *const *)x,
				      *b = *(struct sentry_scmp_rule *const *)y;
	if (a->nr != b->nr)
		return a->nr < b->nr ? -1 : 1;
	return a < b ? -1 : a > b;
}

int app_filter_install(const struct sentry_seccomp *f)
{
	struct sentry_scmp_rule **order, *rules;

	if (!f)
		return 0;
	if (!sentry_seccomp_valid(f))
		return -EINVAL;
	order = calloc(f->nrules + 1, sizeof(*order));
	rules = calloc(f->nrules + 1, sizeof(*rules));
	if (!order || !rules) {
		free(order);
		free(rules);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->nrules; i++)
		order[i] = &f->rules[i];
	qsort(order, f->nrules, sizeof(*order), rule_cmp);
	for (size_t i = 0; i < f->nrules; i++) {
		uint16_t nr = order[i]->nr;
		rules[i] = *order[i];
		if (g_filter.count[nr]++ == 0)
			g_filter.first[nr] = (uint32_t)i;
	}
	free(order);
	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++) {
		const struct sentry_scmp_rule *r = &rules[g_filter.first[nr]];
		if (g_filter.count[nr] == 1 && r->ncond == 0 && r->action == SENTRY_SCMP_ALLOW)
			g_filter.allow[nr / 64] |= 1ULL << (nr % 64);
	}
	g_filter.rules = rules;
	g_filter.default_action = f->default_action;
	g_filter.default_errno = f->default_errno;
	g_filter.on = true;
	log_debug("seccomp: %zu rules, default action %u", f->nrules, f->default_action);
	return 0;
}

static bool cond_holds(const struct sentry_scmp_cond *k, const uint64_t args[6])
{
	uint64_t v = args[k->index];

	switch (k->op) {
	case SENTRY_SCMP_NE:
		return v != k->value;
	case SENTRY_SCMP_LT:
		return v < k->value;
	case SENTRY_SCMP_LE:
		return v <= k->value;
	case SENTRY_SCMP_EQ:
		return v == k->value;
	case SENTRY_SCMP_GE:
		return v >= k->value;
	case SENTRY_SCMP_GT:
		return v > k->value;
	default: /* SENTRY_SCMP_MASKED_EQ (checked at install) */
		return (v & k->value) == k->value_two;
	}
}

/* The action for call a and, for ERRNO, its errno in *err. */
static unsigned filter_action(const struct syscall_args *a, uint16_t *err)
{
	if (a->nr < 0 || a->nr >= ABI_SYSCALL_MAX || !g_filter.count[a->nr]) {
		*err = g_filter.default_errno;
		return g_filter.default_action;
	}
	const struct sentry_scmp_rule *r = &g_filter.rules[g_filter.first[a->nr]],
				      *end = r + g_filter.count[a->nr], *best = NULL;
	for (; r < end; r++) {
		bool match = true;
		for (unsigned c = 0; c < r->ncond && match; c++)
			match = cond_holds(&r->cond[c], a->a);
		/* the first of the highest precedence: the profile's order breaks ties */
		if (match && (!best || r->action > best->action))
			best = r;
	}
	if (!best) {
		*err = g_filter.default_errno;
		return g_filter.default_action;
	}
	*err = best->errno_ret;
	return best->action;
}

bool app_filter_check(struct task *t, const struct syscall_args *a, long *ret)
{
	uint16_t err = 0;
	unsigned action;

	if (!g_filter.on)
		return false;
	if (a->nr >= 0 && a->nr < ABI_SYSCALL_MAX &&
	    (g_filter.allow[a->nr / 64] & (1ULL << (a->nr % 64))))
		return false;
	action = filter_action(a, &err);
	switch (action) {
	case SENTRY_SCMP_ALLOW:
		return false;
	case SENTRY_SCMP_LOG: {
		const char *name = abi_syscall_name(a->nr);
		log_info("seccomp: task %d: %s (%ld) allowed and logged", t->tid, name ? name : "?",
			 a->nr);
		return false;
	}
	case SENTRY_SCMP_TRACE:
		*ret = -ENOSYS;
		return true;
	case SENTRY_SCMP_ERRNO:
		*ret = -(long)err;
		return true;
	default: /* TRAP, KILL_THREAD, KILL_PROCESS */
		log_debug("seccomp: task %d: syscall %ld: %s", t->tid, a->nr,
			  action == SENTRY_SCMP_TRAP ? "SIGSYS" : "killed");
		signal_force_seccomp(t, a->nr, err, action != SENTRY_SCMP_TRAP);
		/* rax as Linux leaves it: rolled back to the syscall number */
		*ret = a->nr;
		return true;
	}
}
