/* rusage.c: getrusage (self, children, thread), wait4's rusage, times, and the CPU-time clocks:
 * busy time is counted, sleeping is not, children's time arrives when they are reaped; the
 * maximum resident set keeps memory a child touched before it exited or exec'd. */
#include "sc.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/times.h>

#define MS(tv) ((long)(tv).tv_sec * 1000L + (long)(tv).tv_usec / 1000L)

static volatile unsigned long sink;

static long cpu_ms(clockid_t c)
{
	struct timespec ts;

	CHECK_OK(clock_gettime(c, &ts));
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Burn ms of this thread's CPU time in user mode (no syscalls in the inner loop); by CPU
 * time rather than wall time, so a loaded host only makes it take longer. */
static void burn(long ms)
{
	long end = cpu_ms(CLOCK_THREAD_CPUTIME_ID) + ms;

	while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 1000000; i++)
			sink += (unsigned long)i * 7;
}

static void test_self(void)
{
	struct rusage a, b;

	CHECK_OK(getrusage(RUSAGE_SELF, &a));
	burn(300);
	CHECK_OK(getrusage(RUSAGE_SELF, &b));
	long user = MS(b.ru_utime) - MS(a.ru_utime), sys = MS(b.ru_stime) - MS(a.ru_stime);
	/* (the busy loop is user time: a sandbox's own spinning while it runs is not the
	 * task's system time, which would also end the loop early) */
	CHECK(user >= 250 && sys < 100, "user time grew by %ld ms (system %ld) over a "
	      "300 ms busy loop", user, sys);
	CHECK(b.ru_maxrss > 0, "maxrss %ld", b.ru_maxrss);
	ok("getrusage(RUSAGE_SELF) counts a busy loop");

	CHECK_OK(getrusage(RUSAGE_SELF, &a));
	msleep(300);
	CHECK_OK(getrusage(RUSAGE_SELF, &b));
	long slept = MS(b.ru_utime) - MS(a.ru_utime) + MS(b.ru_stime) - MS(a.ru_stime);
	CHECK(slept < 100, "cpu time grew by %ld ms while asleep", slept);
	ok("getrusage(RUSAGE_SELF) does not count sleep");

	CHECK_OK(getrusage(RUSAGE_THREAD, &a));
	CHECK(MS(a.ru_utime) <= MS(b.ru_utime) + 5, "thread time beyond process time");
	ok("getrusage(RUSAGE_THREAD)");

	CHECK_ERR(getrusage(5, &a), EINVAL);
	CHECK_ERR(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8), EFAULT);
}

static void *thread_burn(void *arg)
{
	(void)arg;
	burn(200);
	return NULL;
}

static void test_threads(void)
{
	struct rusage a, b;
	pthread_t th;

	CHECK_OK(getrusage(RUSAGE_SELF, &a));
	CHECK(pthread_create(&th, NULL, thread_burn, NULL) == 0, "pthread_create");
	CHECK(pthread_join(th, NULL) == 0, "pthread_join");
	CHECK_OK(getrusage(RUSAGE_SELF, &b));
	long user = MS(b.ru_utime) - MS(a.ru_utime);
	CHECK(user >= 80, "an exited thread's %ld ms of user time", user);
	ok("an exited thread's time stays in RUSAGE_SELF");
}

static void test_children(void)
{
	struct rusage c0, c1, w;
	struct tms t0, t1;
	int st;

	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c0));
	CHECK_OK(times(&t0));
	pid_t pid = sc_fork();
	if (pid == 0) {
		burn(300);
		_exit(0);
	}
	/* not counted until reaped */
	msleep(50);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c1));
	CHECK(MS(c1.ru_utime) == MS(c0.ru_utime), "children time before the wait");
	CHECK(wait4(pid, &st, 0, &w) == pid, "wait4");
	CHECK(WIFEXITED(st), "status %#x", st);
	CHECK(MS(w.ru_utime) >= 100, "wait4 rusage user %ld ms", MS(w.ru_utime));
	CHECK(w.ru_maxrss > 0, "wait4 rusage maxrss");
	ok("wait4 reports the child's usage");
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c1));
	long user = MS(c1.ru_utime) - MS(c0.ru_utime);
	CHECK(user >= 100, "children user time grew by %ld ms", user);
	CHECK(c1.ru_maxrss > 0, "children maxrss");
	ok("getrusage(RUSAGE_CHILDREN) after the wait");
	CHECK_OK(times(&t1));
	CHECK(t1.tms_cutime - t0.tms_cutime >= 10, "tms_cutime grew by %ld ticks",
	      (long)(t1.tms_cutime - t0.tms_cutime));
	ok("times() counts the reaped child");

	/* a grandchild's time reaches the grandparent through the child's wait */
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c0));
	pid = sc_fork();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			burn(200);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c1));
	user = MS(c1.ru_utime) - MS(c0.ru_utime);
	CHECK(user >= 80, "grandchild time %ld ms", user);
	ok("children's usage includes grandchildren they waited for");
}

static void test_times(void)
{
	struct tms a, b;
	clock_t r0 = times(&a);

	CHECK(r0 != (clock_t)-1, "times");
	burn(200);
	msleep(100);
	clock_t r1 = times(&b);
	CHECK(r1 - r0 >= 25, "times() elapsed %ld ticks over 300 ms", (long)(r1 - r0));
	CHECK(b.tms_utime - a.tms_utime >= 8, "tms_utime grew by %ld", (long)(b.tms_utime - a.tms_utime));
	CHECK(times(NULL) != (clock_t)-1, "times(NULL)");
	ok("times()");
}

static void test_clocks(void)
{
	long p0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID), t0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);

	burn(250);
	long p1 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID), t1 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
	CHECK(p1 - p0 >= 100 && t1 - t0 >= 100, "cpu clocks grew by %ld/%ld ms", p1 - p0, t1 - t0);
	msleep(250);
	long p2 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(p2 - p1 < 100, "process cpu clock grew by %ld ms asleep", p2 - p1);
	ok("CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID");

	struct timespec res;
	CHECK_OK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1, "resolution %ld", res.tv_nsec);

	/* another process's clock */
	int pfd[2], done[2];
	char c;
	CHECK_OK(pipe(pfd));
	CHECK_OK(pipe(done));
	pid_t pid = sc_fork();
	if (pid == 0) {
		burn(200);
		CHECK(write(done[1], "d", 1) == 1, "done");
		close(pfd[1]);
		CHECK(read(pfd[0], &c, 1) == 0, "wait");
		_exit(0);
	}
	close(pfd[0]);
	close(done[1]);
	CHECK(read(done[0], &c, 1) == 1, "burnt");
	close(done[0]);
	clockid_t cid;
	CHECK(clock_getcpuclockid(pid, &cid) == 0, "clock_getcpuclockid");
	long used = cpu_ms(cid);
	CHECK(used >= 100, "child's cpu clock %ld ms", used);
	close(pfd[1]);
	expect_exit(pid, 0);
	ok("a child's CPU-time clock");
	pthread_t self = pthread_self();
	CHECK(pthread_getcpuclockid(self, &cid) == 0, "pthread_getcpuclockid");
	CHECK(cpu_ms(cid) >= 0, "own thread clock");
	ok("pthread_getcpuclockid");
}

/* Touch mb MiB of fresh anonymous memory (kept: the process's resident set grows by it). */
static void touch_mb(long mb)
{
	char *p = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED, "mmap %ld MiB", mb);
	for (long i = 0; i < mb << 20; i += 4096)
		p[i] = 1;
}

#define RSS_MB 48

/* The maximum resident set outlives the memory: a child's, once it has exited, in wait4's
 * rusage and (reaped without asking for it) in RUSAGE_CHILDREN; an image's, after exec, in
 * the new image's RUSAGE_SELF. */
static void test_maxrss(const char *self)
{
	struct rusage w, c;
	int st;

	pid_t pid = sc_fork();
	if (pid == 0) {
		touch_mb(RSS_MB);
		_exit(0);
	}
	CHECK(wait4(pid, &st, 0, &w) == pid && WIFEXITED(st), "wait4 status %#x", st);
	CHECK(w.ru_maxrss >= RSS_MB * 1024, "wait4 rusage maxrss %ld KiB after %d MiB touched",
	      w.ru_maxrss, RSS_MB);
	ok("wait4's rusage holds the maxrss of a child that touched memory");

	pid = sc_fork();
	if (pid == 0) {
		touch_mb(2 * RSS_MB);
		_exit(0);
	}
	expect_exit(pid, 0); /* no rusage asked for: it joins RUSAGE_CHILDREN */
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c));
	CHECK(c.ru_maxrss >= 2 * RSS_MB * 1024, "children maxrss %ld KiB after %d MiB touched",
	      c.ru_maxrss, 2 * RSS_MB);
	ok("RUSAGE_CHILDREN holds the maxrss of a reaped child");

	pid = sc_fork();
	if (pid == 0) {
		touch_mb(RSS_MB);
		execl(self, self, "--maxrss-after-exec", (char *)NULL);
		_exit(100);
	}
	expect_exit(pid, 0);
	ok("RUSAGE_SELF after exec holds the old image's maxrss");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--maxrss-after-exec")) {
		struct rusage r;
		CHECK_OK(getrusage(RUSAGE_SELF, &r));
		CHECK(r.ru_maxrss >= RSS_MB * 1024, "maxrss %ld KiB after exec, %d MiB before",
		      r.ru_maxrss, RSS_MB);
		return 0;
	}
	test_self();
	test_threads();
	test_children();
	test_times();
	test_clocks();
	test_maxrss(argv[0]);
	return 0;
}
