/* Unit tests for the ptrace platform with several Sentry host threads: the cases every platform
 * passes (platform_mt_cases.h), and what only ptrace does. */
#define _GNU_SOURCE
#include <sys/types.h>

#include "platform/platform.h"

pid_t plat_ptrace_as_pid(const struct plat_as *as);
pid_t plat_ptrace_ctx_tid(const struct plat_ctx *ctx);

#define PT_PLATFORM "ptrace"
#define PT_AS_PID(as) plat_ptrace_as_pid(as)
#define PT_CTX_TID(ctx) plat_ptrace_ctx_tid(ctx)
#define PT_STUB_FDS 1
#define PT_EXTRA_THREADS 0
#define PT_STRICT_AS_OPS 1
#define PT_DEFERRED_AS_OPS 0
#define PT_MT_SUITE ptrace_mt

#include "tests/unit/platform_mt_cases.h"

/* A thread that exits while it traces a stub thread takes the stub with it (PTRACE_O_EXITKILL):
 * ptrace binds a stub thread to its tracer thread. */
struct orphan_job {
	struct plat_as *as;
	struct plat_ctx *ctx;
	pid_t pid;
	int ret;
};

static void *make_and_abandon(void *p)
{
	struct orphan_job *j = p;
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	j->as = P->as_create();
	if (!j->as)
		return NULL;
	j->pid = PT_AS_PID(j->as);
	P->as_map(j->as, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0);
	P->as_map(j->as, STACK, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE, PG);
	j->ctx = P->ctx_create(j->as);
	if (j->ctx)
		j->ret = P->ctx_run(j->ctx, j->as, &r, &ev);
	return NULL; /* exits holding the context */
}

Test(PT_MT_SUITE, stub_dies_with_its_tracer_thread)
{
	struct orphan_job j = {0};
	pthread_t th;
	char st = 0;

	cr_assert_eq(pthread_create(&th, NULL, make_and_abandon, &j), 0);
	pthread_join(th, NULL);
	cr_assert_not_null(j.as);
	cr_assert_not_null(j.ctx);
	cr_assert_eq(j.ret, 0);
	for (int i = 0; i < 200 && (st = proc_state(j.pid)) != 'Z'; i++)
		msleep(5);
	cr_assert_eq(st, 'Z', "the stub is killed (a zombie until as_release reaps it)");
	P->ctx_release(j.ctx); /* not the owner: left to as_release */
	P->as_release(j.as);
	cr_assert_eq(proc_state(j.pid), 0);
}

