/* The tests every platform passes with several Sentry host threads: fork-like address spaces on
 * their own threads, application threads (one stub thread per context) sharing one. Included
 * by each backend's test file after platform_test.h, with PT_MT_SUITE the suite's name. */
#ifndef TESTS_UNIT_PLATFORM_MT_CASES_H
#define TESTS_UNIT_PLATFORM_MT_CASES_H

#include <signal.h>
#include <stdatomic.h>

#include "tests/unit/platform_test.h"

TestSuite(PT_MT_SUITE, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a host thread that runs jobs, one at a time, like a task's Sentry thread ---- */

struct worker {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*fn)(void *arg);
	void *arg;
	bool busy, quit;
};

static void *worker_main(void *p)
{
	struct worker *w = p;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->busy) {
			pthread_mutex_unlock(&w->lock);
			w->fn(w->arg);
			pthread_mutex_lock(&w->lock);
			w->busy = false;
			pthread_cond_broadcast(&w->cond);
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worker_start(struct worker *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	cr_assert_eq(pthread_create(&w->th, NULL, worker_main, w), 0);
}

/* Start fn(arg) on w without waiting. */
static void worker_submit(struct worker *w, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	w->fn = fn;
	w->arg = arg;
	w->busy = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void worker_wait(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void worker_do(struct worker *w, void (*fn)(void *), void *arg)
{
	worker_submit(w, fn, arg);
	worker_wait(w);
}

static void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->th, NULL);
}

/* One ctx_run as a job: no assertion inside (they would fire on the worker thread). */
struct run_job {
	struct plat_ctx *ctx;
	struct plat_as *as;
	struct plat_regs regs;
	struct plat_event ev;
	int ret;
};

static void run_job(void *p)
{
	struct run_job *j = p;

	j->ret = P->ctx_run(j->ctx, j->as, &j->regs, &j->ev);
}

static void release_job(void *p)
{
	P->ctx_release(p);
}

/* The state letter of /proc/pid/stat, or 0 when pid is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

/* ---- fork-like: address spaces made and run on their own host threads ---- */

struct fork_job {
	int rounds;
	int fails;
	char why[128];
};

#define FAIL_IF(cond, j, ...)                                                                      \
	do {                                                                                       \
		if (cond) {                                                                        \
			snprintf((j)->why, sizeof((j)->why), __VA_ARGS__);                         \
			(j)->fails++;                                                              \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* A task's life on its own thread: as_create, map, ctx_create, run (getpid loop), release. */
static void *fork_like_task(void *p)
{
	struct fork_job *j = p;
	struct plat_as *a = P->as_create();
	struct plat_ctx *c = NULL;
	struct plat_regs r;
	struct plat_event ev;
	int e;

	FAIL_IF(!a, j, "as_create: %s", strerror(errno));
	FAIL_IF(P->as_map(a, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0) != 0,
		j, "as_map");
	FAIL_IF(P->as_map(a, STACK, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE, PG) !=
			0,
		j, "as_map");
	c = P->ctx_create(a);
	FAIL_IF(!c, j, "ctx_create: %s", strerror(errno));
	r = regs_at(g_loop);
	for (int i = 0; i < j->rounds; i++) {
		e = P->ctx_run(c, a, &r, &ev);
		FAIL_IF(e != 0 || ev.kind != PLAT_EV_SYSCALL || r.regs.orig_rax != 39, j,
			"run %d: %d kind %d nr %llu", i, e, ev.kind,
			(unsigned long long)r.regs.orig_rax);
		r.regs.rax = (uint64_t)i;
	}
out:
	P->ctx_release(c);
	P->as_release(a);
	return NULL;
}

Test(PT_MT_SUITE, fork_like_address_spaces_on_two_threads)
{
	struct fork_job j[2] = {{.rounds = 3000}, {.rounds = 3000}};
	pthread_t th[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, fork_like_task, &j[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(j[i].fails, 0, "thread %d: %s", i, j[i].why);
	}
	P->ctx_release(ctx);
	P->as_release(as);
	ctx = NULL;
	as = NULL;
	assert_no_children();
}

/* Many address spaces alive at once, made from a thread that is not the main thread. */
static void *many_stubs(void *p)
{
	struct fork_job *j = p;
	enum { N = 64 };
	struct plat_as *a[N] = {0};
	struct plat_ctx *c[N] = {0};
	int n = 0;

	for (n = 0; n < N; n++) {
		a[n] = P->as_create();
		FAIL_IF(!a[n], j, "as_create %d: %s", n, strerror(errno));
		FAIL_IF(P->as_map(a[n], CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC,
				  PLAT_FD_MEMFILE, 0) != 0,
			j, "as_map %d", n);
		c[n] = P->ctx_create(a[n]);
		FAIL_IF(!c[n], j, "ctx_create %d: %s", n, strerror(errno));
	}
	for (int i = 0; i < N; i++) {
		struct plat_regs r = regs_at(g_basic);
		struct plat_event ev;
		int e = P->ctx_run(c[i], a[i], &r, &ev);

		FAIL_IF(e != 0 || ev.kind != PLAT_EV_SYSCALL || r.regs.orig_rax != 39, j,
			"run %d: %d", i, e);
	}
out:
	for (int i = 0; i < N; i++) {
		P->ctx_release(c[i]);
		P->as_release(a[i]);
	}
	return NULL;
}

Test(PT_MT_SUITE, many_stubs_from_another_thread)
{
	struct fork_job j = {0};
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, many_stubs, &j), 0);
	pthread_join(th, NULL);
	cr_assert_eq(j.fails, 0, "%s", j.why);
	P->ctx_release(ctx);
	P->as_release(as);
	ctx = NULL;
	as = NULL;
	assert_no_children();
}

/* exec: a new address space and context on the task's thread, then the old ones released. */
Test(PT_MT_SUITE, exec_like_switch)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_as *as2;
	struct plat_ctx *ctx2;
	pid_t old = PT_AS_PID(as);

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	as2 = P->as_create();
	cr_assert_not_null(as2);
	map_basics(as2);
	ctx2 = P->ctx_create(as2);
	cr_assert_not_null(ctx2);
	P->ctx_release(ctx);
	P->as_release(as);
	ctx = ctx2;
	as = as2;
	cr_assert_eq(proc_state(old), 0);
	r = regs_at(g_basic);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_eq(wait_thread_count(PT_AS_PID(as), 1 + PT_EXTRA_THREADS), 1 + PT_EXTRA_THREADS,
		     "one stub thread for the one context (ptrace: the leader itself)");
}

/* ---- application threads: several contexts in one address space ---- */

/* The setup's context claimed by this thread, a second one claimed by worker b. */
static struct plat_ctx *two_threads(struct worker *b, struct run_job *jb)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_ctx *c2;

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL); /* claims ctx for this thread */
	c2 = P->ctx_create(as);
	cr_assert_not_null(c2, "ctx_create: %s", strerror(errno));
	worker_start(b);
	*jb = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_basic)};
	worker_do(b, run_job, jb); /* claims c2 for b */
	cr_assert_eq(jb->ret, 0, "%s", strerror(-jb->ret));
	cr_assert_eq(jb->ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(jb->regs.regs.orig_rax, 39);
	return c2;
}

static void end_two_threads(struct worker *b, struct plat_ctx *c2)
{
	worker_do(b, release_job, c2);
	worker_stop(b);
}

struct map_job {
	int ret;
};

static void map_data2_job(void *p)
{
	struct map_job *j = p;

	j->ret = P->as_map(as, DATA2, PG, LINUX_PROT_READ | LINUX_PROT_WRITE, PLAT_FD_MEMFILE,
			   3 * PG);
}

Test(PT_MT_SUITE, threads_share_memory_and_mappings)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct plat_regs r;
	struct plat_event ev;
	struct map_job mj;
	pid_t pid = PT_AS_PID(as);

	cr_assert_eq(thread_count(pid), 2 + PT_EXTRA_THREADS, "a stub thread per context");
	cr_assert_neq(PT_CTX_TID(ctx), PT_CTX_TID(c2));

	/* b waits, running, for a value this thread's guest stores. */
	jb.regs = regs_at(g_wait_eq);
	jb.regs.regs.rbx = DATA + 128;
	jb.regs.regs.rsi = 0xabc;
	worker_submit(&b, run_job, &jb);
	msleep(20);
	r = regs_at(g_store);
	r.regs.rbx = DATA + 128;
	r.regs.rsi = 0xabc;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1001);
	worker_wait(&b);
	cr_assert_eq(jb.ret, 0);
	cr_assert_eq(jb.regs.regs.orig_rax, 1005, "b saw the store");

	/* And the other way round, both running at once. */
	jb.regs = regs_at(g_store);
	jb.regs.regs.rbx = DATA + 136;
	jb.regs.regs.rsi = 0xdef;
	r = regs_at(g_wait_eq);
	r.regs.rbx = DATA + 136;
	r.regs.rsi = 0xdef;
	worker_submit(&b, run_job, &jb);
	ev = run(&r);
	worker_wait(&b);
	cr_assert_eq(jb.regs.regs.orig_rax, 1001);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1005);

	/* A mapping made by b is seen by this thread's guest. */
	*(uint64_t *)(mem + 3 * PG) = 0x5151;
	r = regs_at(g_load);
	r.regs.rbx = DATA2;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT, "not mapped yet");
	worker_do(&b, map_data2_job, &mj);
	cr_assert_eq(mj.ret, 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.rdi, 0x5151);
	/* And one made here by b's guest. */
	cr_assert_eq(P->as_protect(as, DATA2, PG, LINUX_PROT_READ), 0);
	jb.regs = regs_at(g_store);
	jb.regs.regs.rbx = DATA2;
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(jb.ev.signo, SIGSEGV);

	end_two_threads(&b, c2);
	cr_assert_eq(wait_thread_count(pid, 1 + PT_EXTRA_THREADS), 1 + PT_EXTRA_THREADS,
		     "c2's stub thread is gone");
}

Test(PT_MT_SUITE, new_thread_inherits_fpstate)
{
	size_t n = P->fpstate_size();
	unsigned char buf[n];
	struct plat_regs r = regs_at(g_basic);
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2;
	uint64_t v = 0x600d;

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	memcpy(buf + 160, &v, 8);
	if (n > 512)
		buf[512] |= 2;
	cr_assert_eq(P->ctx_set_fpstate(ctx, buf, n), 0);
	c2 = P->ctx_create(as);
	cr_assert_not_null(c2);
	worker_start(&b);
	jb = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_xmm)};
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ret, 0);
	cr_assert_eq(jb.regs.regs.orig_rax, 0x600d, "clone semantics");
	end_two_threads(&b, c2);
}

Test(PT_MT_SUITE, wrong_threads_get_eperm)
{
	struct worker b, c;
	struct run_job jb, jc;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct map_job mj;

	/* c owns nothing in as: no running, no mapping. */
	worker_start(&c);
	jc = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_basic)};
	worker_do(&c, run_job, &jc);
	cr_assert_eq(jc.ret, -EPERM);
	jc.ctx = ctx;
	worker_do(&c, run_job, &jc);
	cr_assert_eq(jc.ret, -EPERM);
	worker_do(&c, map_data2_job, &mj);
	cr_assert_eq(mj.ret, PT_STRICT_AS_OPS ? -EPERM : 0);
	worker_stop(&c);
	/* This thread may not run b's context. */
	jc.regs = regs_at(g_basic);
	cr_assert_eq(P->ctx_run(c2, as, &jc.regs, &jc.ev), -EPERM);
	end_two_threads(&b, c2);
}

struct interrupt_pair {
	struct plat_ctx *a, *b;
	int delay_ms;
};

static void *interrupt_both(void *p)
{
	struct interrupt_pair *i = p;

	msleep(i->delay_ms);
	P->ctx_interrupt(i->b);
	msleep(i->delay_ms);
	P->ctx_interrupt(i->a);
	return NULL;
}

Test(PT_MT_SUITE, interrupt_spinning_threads_from_a_third)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct interrupt_pair in = {.a = ctx, .b = c2, .delay_ms = 30};
	struct plat_regs r = regs_at(g_spin);
	struct plat_event ev;
	pthread_t th;

	for (int round = 0; round < 5; round++) {
		jb.regs = regs_at(g_spin);
		worker_submit(&b, run_job, &jb);
		cr_assert_eq(pthread_create(&th, NULL, interrupt_both, &in), 0);
		r = regs_at(g_spin);
		ev = run(&r);
		cr_assert_eq(ev.kind, PLAT_EV_INTERRUPT);
		cr_assert_eq(r.regs.rip, at(g_spin));
		worker_wait(&b);
		pthread_join(th, NULL);
		cr_assert_eq(jb.ret, 0);
		cr_assert_eq(jb.ev.kind, PLAT_EV_INTERRUPT);
		cr_assert_eq(jb.regs.regs.rip, at(g_spin));
	}
	/* Interrupting a context that is not running: its next run returns at once. */
	P->ctx_interrupt(c2);
	jb.regs = regs_at(g_basic);
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ev.kind, PLAT_EV_INTERRUPT);
	cr_assert_eq(jb.regs.regs.rip, at(g_basic), "did not run");
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ev.kind, PLAT_EV_SYSCALL, "nothing left over");
	end_two_threads(&b, c2);
}

/* Interrupts landing at random points of a guest's syscall loop: each is reported (by the run
 * it lands in or the next one), none is lost. A lost one leaves the loop running to its bound. */
struct storm {
	struct plat_ctx *c;
	int rounds;
	atomic_int go; /* rounds released by the runner */
};

static void *interrupt_storm(void *p)
{
	struct storm *s = p;

	for (int i = 0; i < s->rounds; i++) {
		while (atomic_load(&s->go) <= i)
			sched_yield();
		struct timespec ts = {0, (i * 7919) % 300000};
		nanosleep(&ts, NULL);
		P->ctx_interrupt(s->c);
	}
	return NULL;
}

Test(PT_MT_SUITE, interrupts_are_not_lost)
{
	struct storm s = {.c = ctx, .rounds = 300};
	struct plat_regs r = regs_at(g_loop);
	struct plat_event ev;
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, interrupt_storm, &s), 0);
	for (int i = 0; i < s.rounds; i++) {
		int n = 0;

		atomic_store(&s.go, i + 1);
		for (;;) {
			ev = run(&r);
			if (ev.kind == PLAT_EV_INTERRUPT)
				break;
			cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
			cr_assert_eq(r.regs.orig_rax, 39);
			cr_assert_lt(++n, 1000000, "round %d: interrupt lost", i);
		}
	}
	pthread_join(th, NULL);
}

static void *kill_later(void *p)
{
	msleep(50);
	kill(*(pid_t *)p, SIGKILL);
	return NULL;
}

Test(PT_MT_SUITE, killing_the_stub_gives_esrch_in_every_thread)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct plat_regs r = regs_at(g_spin);
	struct plat_event ev;
	pid_t pid = PT_AS_PID(as);
	pthread_t th;

	jb.regs = regs_at(g_spin);
	worker_submit(&b, run_job, &jb);
	/* A third thread kills it while both spin. */
	cr_assert_eq(pthread_create(&th, NULL, kill_later, &pid), 0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	worker_wait(&b);
	pthread_join(th, NULL);
	cr_assert_eq(jb.ret, -ESRCH);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH, "and stays so");
	cr_assert_eq(P->as_map(as, DATA2, PG, LINUX_PROT_READ, PLAT_FD_MEMFILE, 0), -ESRCH);
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ret, -ESRCH);
	end_two_threads(&b, c2);
	P->ctx_release(ctx);
	P->as_release(as);
	ctx = NULL;
	as = NULL;
	assert_no_children();
}

/* The leader's death is reported at once even while another thread's tracer is busy elsewhere
 * (the kernel holds a leader's exit back until every other thread is reaped). */
Test(PT_MT_SUITE, killed_while_the_other_thread_idles)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct plat_regs r = regs_at(g_spin);
	struct plat_event ev;
	pid_t pid = PT_AS_PID(as);
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, kill_later, &pid), 0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	pthread_join(th, NULL);
	jb.regs = regs_at(g_basic);
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ret, -ESRCH);
	end_two_threads(&b, c2);
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

Test(PT_MT_SUITE, unclaimed_contexts_leave_nothing)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_ctx *c[4];
	struct worker b;
	pid_t pid = PT_AS_PID(as);

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(thread_count(pid), 1 + PT_EXTRA_THREADS);
	for (int i = 0; i < 4; i++) {
		c[i] = P->ctx_create(as);
		cr_assert_not_null(c[i]);
	}
	cr_assert_eq(thread_count(pid), 5 + PT_EXTRA_THREADS);
	/* Released by the creating thread, and by another one. */
	P->ctx_release(c[0]);
	worker_start(&b);
	worker_do(&b, release_job, c[1]);
	worker_stop(&b);
	cr_assert_eq(wait_thread_count(pid, 3 + PT_EXTRA_THREADS), 3 + PT_EXTRA_THREADS);
	/* The rest go with the address space. */
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
	P->ctx_release(c[2]);
	P->ctx_release(c[3]);
}

/* The thread that made the address space ends (its task exited) while another goes on. */
static void first_task(void *p)
{
	struct plat_ctx **c2 = p;
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;
	struct plat_ctx *c1;

	as = P->as_create();
	if (!as)
		return;
	map_basics(as);
	c1 = P->ctx_create(as);
	if (!c1 || P->ctx_run(c1, as, &r, &ev) != 0)
		return;
	*c2 = P->ctx_create(as);
	P->ctx_release(c1);
}

Test(PT_MT_SUITE, address_space_outlives_its_creator_thread)
{
	struct plat_ctx *c2 = NULL;
	struct worker a, b;
	struct run_job jb;

	P->ctx_release(ctx);
	P->as_release(as);
	ctx = NULL;
	as = NULL;
	worker_start(&a);
	worker_do(&a, first_task, &c2);
	worker_stop(&a); /* the creator thread exits */
	cr_assert_not_null(as);
	cr_assert_not_null(c2);
	msleep(20);
	worker_start(&b);
	for (int i = 0; i < 3; i++) {
		jb = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_basic)};
		worker_do(&b, run_job, &jb);
		cr_assert_eq(jb.ret, 0, "%s", strerror(-jb.ret));
		cr_assert_eq(jb.ev.kind, PLAT_EV_SYSCALL);
	}
	/* b maps through its own thread; the parked leader is no one's. */
	struct map_job mj;
	*(uint64_t *)(mem + 3 * PG) = 0x77;
	worker_do(&b, map_data2_job, &mj);
	cr_assert_eq(mj.ret, 0);
	jb = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_load)};
	jb.regs.regs.rbx = DATA2;
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.regs.regs.rdi, 0x77);
	/* ptrace: the parked leader and c2's; systrap: the control thread and c2's */
	cr_assert_eq(wait_thread_count(PT_AS_PID(as), 2), 2);
	end_two_threads(&b, c2);
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

Test(PT_MT_SUITE, release_everything_leaves_no_child)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);

	end_two_threads(&b, c2);
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

/* A context released by a thread that does not own it (a reaper freeing a task) lingers until
 * as_release, which reaps its stub thread although another, live, thread traces it. */
Test(PT_MT_SUITE, release_by_a_non_owner_then_as_release)
{
	struct worker b;
	struct run_job jb;
	struct plat_ctx *c2 = two_threads(&b, &jb);
	struct plat_as *a = as;

	P->ctx_release(c2); /* b owns it: left for as_release */
	cr_assert_eq(thread_count(PT_AS_PID(as)), 2 + PT_EXTRA_THREADS);
	P->ctx_release(ctx);
	ctx = NULL;
	as = NULL;
	P->as_release(a); /* b, alive and idle, still traces c2's thread */
	assert_no_children();
	worker_stop(&b);
}

/* The creator makes two contexts before running either: the first is on the leader, the second
 * a clone, claimed by another thread. */
Test(PT_MT_SUITE, creator_makes_two_contexts)
{
	struct plat_ctx *c2 = P->ctx_create(as);
	struct plat_regs r = regs_at(g_basic);
	struct worker b;
	struct run_job jb;

	cr_assert_not_null(c2);
	cr_assert_eq(thread_count(PT_AS_PID(as)), 2 + PT_EXTRA_THREADS);
	worker_start(&b);
	jb = (struct run_job){.ctx = c2, .as = as, .regs = regs_at(g_basic)};
	worker_do(&b, run_job, &jb);
	cr_assert_eq(jb.ret, 0);
	cr_assert_eq(jb.ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	end_two_threads(&b, c2);
}

#endif
