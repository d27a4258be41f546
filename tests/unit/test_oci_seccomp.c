/* Unit tests of linux.seccomp: the parser (runsc-c/oci_seccomp.c) on good and malformed profiles,
 * and the rule table's boot config record, checked on decode. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/syscalls.h"
#include "runsc-c/cli.h"
#include "runsc-c/oci.h"
#include "sentry/syscalls/app_filter.h"

#define ALL_CAPS ((1ULL << 41) - 1)

static int parse(const char *json, uint64_t bounding, struct sentry_seccomp *f)
{
	json_object *o = json_tokener_parse(json);
	cr_assert_not_null(o, "bad test JSON: %s", json);
	int r = oci_seccomp_parse(o, bounding, f);
	json_object_put(o);
	return r;
}

Test(oci_seccomp, podman_shape)
{
	struct sentry_seccomp f;

	cr_assert_eq(parse("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
			   " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
			   " \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\"],"
			   " \"syscalls\": [{\"names\": [\"read\", \"no_such_call\", \"write\"],"
			   "                 \"action\": \"SCMP_ACT_ALLOW\"},"
			   "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
			   "   \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
			   "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
			   "   \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0,"
			   "               \"op\": \"SCMP_CMP_MASKED_EQ\"}],"
			   "   \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
			   "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\","
			   "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"arches\": [\"amd64\"]}},"
			   "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\","
			   "   \"args\": [{\"index\": 1, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
			   "              {\"index\": 1, \"value\": 9, \"op\": \"SCMP_CMP_EQ\"}]},"
			   "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\","
			   "   \"includes\": {\"minKernel\": \"9.0\"}}]}",
			   1ULL << 21 /* CAP_SYS_ADMIN */, &f),
		     0);
	cr_assert_eq(f.default_action, SENTRY_SCMP_ERRNO);
	cr_assert_eq(f.default_errno, 38);
	/* read, write; personality; mount (included); kill split in two (one index twice, OR);
	 * clone excluded (CAP_SYS_ADMIN held), ptrace not included (kernel 6.1 < 9.0) */
	cr_assert_eq(f.nrules, 6);
	cr_assert_eq(f.rules[0].nr, abi_syscall_by_name("read"));
	cr_assert_eq(f.rules[1].nr, abi_syscall_by_name("write"));
	cr_assert_eq(f.rules[2].ncond, 1);
	cr_assert_eq(f.rules[2].cond[0].op, SENTRY_SCMP_EQ);
	cr_assert_eq(f.rules[3].nr, abi_syscall_by_name("mount"));
	cr_assert_eq(f.rules[4].nr, abi_syscall_by_name("kill"));
	cr_assert_eq(f.rules[4].errno_ret, 1, "EPERM unless errnoRet says");
	cr_assert_eq(f.rules[4].ncond, 1);
	cr_assert_eq(f.rules[5].ncond, 1);
	cr_assert_eq(f.rules[5].cond[0].value, 9);
	cr_assert(sentry_seccomp_valid(&f));
	free(f.rules);

	/* without CAP_SYS_ADMIN: clone kept (masked condition), mount left out */
	cr_assert_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			   "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_KILL_PROCESS\","
			   "   \"args\": [{\"index\": 0, \"value\": 18446744073709551615,"
			   "               \"valueTwo\": 1, \"op\": \"SCMP_CMP_MASKED_EQ\"}],"
			   "   \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
			   "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_LOG\","
			   "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}]}",
			   0, &f),
		     0);
	cr_assert_eq(f.nrules, 1);
	cr_assert_eq(f.rules[0].action, SENTRY_SCMP_KILL_PROCESS);
	cr_assert_eq(f.rules[0].cond[0].value, UINT64_MAX);
	cr_assert_eq(f.rules[0].cond[0].value_two, 1);
	free(f.rules);
}

Test(oci_seccomp, malformed_is_refused)
{
	static const char *const bad[] = {
	    "{}",						       /* no defaultAction */
	    "{\"defaultAction\": 3}",				       /* not a string */
	    "{\"defaultAction\": \"SCMP_ACT_BOGUS\"}",
	    "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\"}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerMetadata\": \"m\"}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 4096}",
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_ARM\"]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [1]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW\"]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"unknown\": 1}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [1]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": "
	    "\"SCMP_ACT_KILL\"}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [7], "
	    "\"action\": \"SCMP_ACT_KILL\"}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 0, "
	    "\"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": -1, "
	    "\"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, "
	    "\"op\": \"SCMP_CMP_LIKE\"}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
	    "\"SCMP_CMP_EQ\", \"extra\": 1}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_NOPE\"]}}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"new\"}}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	    "\"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"os\": \"linux\"}}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sentry_seccomp f;
		cr_assert_eq(parse(bad[i], ALL_CAPS, &f), -1, "accepted: %s", bad[i]);
		cr_assert_null(f.rules, "rules left after a failure: %s", bad[i]);
	}
}

static struct boot_config with_profile(struct sentry_scmp_rule *rules, size_t n)
{
	static char *argv[] = {"/bin/sh", NULL}, *envp[] = {NULL};
	return (struct boot_config){.argv = argv,
				    .envp = envp,
				    .platform = "systrap",
				    .cwd = "/",
				    .hostname = "box",
				    .has_seccomp = true,
				    .seccomp = {.default_action = SENTRY_SCMP_ERRNO,
						.default_errno = 38,
						.nrules = n,
						.rules = rules}};
}

Test(oci_seccomp, bootcfg_roundtrip_and_checks)
{
	struct sentry_scmp_rule rules[2] = {
	    {.nr = 0, .action = SENTRY_SCMP_ALLOW},
	    {.nr = 62,
	     .action = SENTRY_SCMP_ERRNO,
	     .errno_ret = 13,
	     .ncond = 1,
	     .cond = {{.index = 1, .op = SENTRY_SCMP_MASKED_EQ, .value = 3, .value_two = 1}}},
	};
	struct boot_config in = with_profile(rules, 2), out;
	char *buf;
	size_t len;

	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	cr_assert_eq(boot_config_decode(buf, len, &out), 0);
	cr_assert(out.has_seccomp);
	cr_assert_eq(out.seccomp.nrules, 2);
	cr_assert_eq(out.seccomp.default_errno, 38);
	cr_assert_eq(memcmp(out.seccomp.rules, rules, sizeof(rules)), 0);
	boot_config_free(&out);
	/* every truncation fails: the rules are counted */
	for (size_t l = 8; l < len; l++) {
		char *copy = malloc(len);
		uint32_t l32 = (uint32_t)l;
		memcpy(copy, buf, len);
		memcpy(copy + 4, &l32, 4);
		cr_assert_eq(boot_config_decode(copy, l, &out), -EINVAL, "length %zu", l);
		free(copy);
	}
	free(buf);

	/* each field out of range: refused by the encoder, and by the decoder when forced in */
	struct sentry_scmp_rule bad[] = {
	    {.nr = ABI_SYSCALL_MAX, .action = SENTRY_SCMP_ALLOW},
	    {.nr = 1, .action = SENTRY_SCMP_ACTIONS},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .errno_ret = 1},
	    {.nr = 1, .action = SENTRY_SCMP_ERRNO, .errno_ret = 4096},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 7},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .zero = 1},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 1, .cond = {{.index = 6, .op = 4}}},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 1, .cond = {{.index = 0, .op = 0}}},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 1, .cond = {{.index = 0, .op = 8}}},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 1, .cond = {{.op = 4, .zero = {1}}}},
	    {.nr = 1, .action = SENTRY_SCMP_ALLOW, .ncond = 0, .cond = {{.value = 1}}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = with_profile(&bad[i], 1);
		cr_assert_eq(boot_config_encode(&in, &buf, &len), -EINVAL, "case %zu", i);
		/* encode a good rule, then overwrite it with the bad one in place */
		struct sentry_scmp_rule good = {.nr = 1, .action = SENTRY_SCMP_ALLOW};
		in = with_profile(&good, 1);
		cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
		memcpy(buf + len - sizeof(good), &bad[i], sizeof(good));
		cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL, "case %zu", i);
		free(buf);
	}
	/* a default errno with a default action that has none */
	in = with_profile(rules, 2);
	in.seccomp.default_action = SENTRY_SCMP_ALLOW;
	cr_assert_eq(boot_config_encode(&in, &buf, &len), -EINVAL);
}

/* The Sentry's evaluation: the highest-precedence matching rule wins, else the default. */
Test(oci_seccomp, dispatch_precedence)
{
	struct sentry_scmp_rule rules[] = {
	    {.nr = 62, .action = SENTRY_SCMP_ALLOW, .ncond = 1,
	     .cond = {{.index = 1, .op = SENTRY_SCMP_EQ, .value = 18}}},
	    {.nr = 62, .action = SENTRY_SCMP_ERRNO, .errno_ret = 13, .ncond = 1,
	     .cond = {{.index = 1, .op = SENTRY_SCMP_LE, .value = 18}}},
	    {.nr = 0, .action = SENTRY_SCMP_ALLOW},
	    {.nr = 1, .action = SENTRY_SCMP_TRACE},
	    {.nr = 2, .action = SENTRY_SCMP_ERRNO, .errno_ret = 0, .ncond = 2,
	     .cond = {{.index = 0, .op = SENTRY_SCMP_MASKED_EQ, .value = 0xf0, .value_two = 0x30},
		      {.index = 5, .op = SENTRY_SCMP_GT, .value = 7}}},
	};
	struct sentry_seccomp f = {.default_action = SENTRY_SCMP_ERRNO,
				   .default_errno = 38,
				   .nrules = sizeof(rules) / sizeof(rules[0]),
				   .rules = rules};
	struct task t;
	long ret = 1;

	memset(&t, 0, sizeof(t));
	cr_assert_eq(app_filter_install(&f), 0);
	struct syscall_args kill18 = {.nr = 62, .a = {1, 18}}, kill19 = {.nr = 62, .a = {1, 19}},
			    kill0 = {.nr = 62, .a = {1, 0}}, rd = {.nr = 0}, wr = {.nr = 1},
			    op_hit = {.nr = 2, .a = {0x1234, 0, 0, 0, 0, 8}},
			    op_miss = {.nr = 2, .a = {0x1234, 0, 0, 0, 0, 7}},
			    other = {.nr = 39}, huge = {.nr = 100000};
	cr_assert(app_filter_check(&t, &kill18, &ret) && ret == -13, "ERRNO beats ALLOW");
	cr_assert(app_filter_check(&t, &kill19, &ret) && ret == -38, "no rule matches: default");
	cr_assert(app_filter_check(&t, &kill0, &ret) && ret == -13);
	cr_assert(!app_filter_check(&t, &rd, &ret), "allow-listed");
	cr_assert(app_filter_check(&t, &wr, &ret) && ret == -ENOSYS, "TRACE without a tracer");
	cr_assert(app_filter_check(&t, &op_hit, &ret) && ret == 0, "ERRNO 0: returns 0");
	cr_assert(app_filter_check(&t, &op_miss, &ret) && ret == -38);
	cr_assert(app_filter_check(&t, &other, &ret) && ret == -38);
	cr_assert(app_filter_check(&t, &huge, &ret) && ret == -38);
}
