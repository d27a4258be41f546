/* signal_threads.c: signals in a multi-threaded process: a process-directed signal goes to a
 * thread that does not block it (or waits until one unblocks it), a tgkill'ed signal pends
 * for its thread alone, a blocked call in a thread is interrupted, and RLIMIT_SIGPENDING
 * bounds queued real-time signals. threads.c covers fatal signals in threads. */
#include "sc.h"

#include <pthread.h>
#include <stdbool.h>

static volatile pid_t handled_by;
static volatile int hits;

static void on_usr1(int sig)
{
	handled_by = gettid();
	hits++;
}

struct worker {
	pthread_t th;
	pid_t tid;
	int fd;          /* read end the worker blocks on, or -1 */
	int result;      /* read's return */
	int err;
	volatile int ready;
	volatile int stop;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char c;

	w->tid = gettid();
	w->ready = 1;
	if (w->fd >= 0) {
		errno = 0;
		w->result = (int)read(w->fd, &c, 1);
		w->err = errno;
		return NULL;
	}
	while (!w->stop)
		msleep(2);
	return NULL;
}

static void start_worker(struct worker *w, int fd, bool block_usr1)
{
	sigset_t s, old;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	/* the thread inherits the mask in force at pthread_create */
	pthread_sigmask(block_usr1 ? SIG_BLOCK : SIG_UNBLOCK, &s, &old);
	CHECK(pthread_create(&w->th, NULL, worker_main, w) == 0, "pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (!w->ready)
		msleep(1);
}

static void test_group_signal_picks_unblocked_thread(void)
{
	struct worker w;

	set_handler(SIGUSR1, (void *)on_usr1, 0);
	block(SIGUSR1);
	start_worker(&w, -1, false);
	handled_by = 0;
	CHECK_OK(kill(getpid(), SIGUSR1));
	long t0 = now_ms();
	while (!handled_by && now_ms() - t0 < 5000)
		msleep(1);
	CHECK(handled_by == w.tid, "the thread that does not block SIGUSR1 took it");
	w.stop = 1;
	pthread_join(w.th, NULL);

	/* nobody takes it while every thread blocks it; the main thread gets it on unblock */
	start_worker(&w, -1, true);
	handled_by = 0;
	CHECK_OK(kill(getpid(), SIGUSR1));
	msleep(30);
	CHECK(handled_by == 0, "pending while blocked everywhere");
	sigset_t pend;
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1), "visible in sigpending");
	unblock(SIGUSR1);
	CHECK(handled_by == gettid(), "taken by the main thread once it unblocks");
	w.stop = 1;
	pthread_join(w.th, NULL);
	ok("a process-directed signal goes to a thread that does not block it");
}

static void test_tgkill_one_thread(void)
{
	struct worker w;

	set_handler(SIGUSR1, (void *)on_usr1, 0);
	start_worker(&w, -1, false);
	handled_by = 0;
	CHECK_OK(syscall(SYS_tgkill, getpid(), w.tid, SIGUSR1));
	long t0 = now_ms();
	while (!handled_by && now_ms() - t0 < 5000)
		msleep(1);
	CHECK(handled_by == w.tid, "tgkill: the named thread ran the handler");
	w.stop = 1;
	pthread_join(w.th, NULL);

	/* blocked in the target thread: pending for it alone, not for the main thread */
	start_worker(&w, -1, true);
	CHECK_OK(syscall(SYS_tgkill, getpid(), w.tid, SIGUSR1));
	sigset_t pend;
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR1), "not pending for the main thread");
	w.stop = 1;
	pthread_join(w.th, NULL);
	ok("tgkill reaches the named thread; its pending signal is its own");
}

static void test_thread_read_interrupted(void)
{
	struct worker w;
	int p[2];

	CHECK_OK(pipe(p));
	set_handler(SIGUSR1, (void *)on_usr1, 0);
	hits = 0;
	start_worker(&w, p[0], false);
	msleep(30);
	CHECK_OK(syscall(SYS_tgkill, getpid(), w.tid, SIGUSR1));
	pthread_join(w.th, NULL);
	CHECK(w.result == -1 && w.err == EINTR, "the thread's read: EINTR (%d, %s)", w.result,
	      errname(w.err));
	CHECK(hits == 1, "handler ran once");
	close(p[0]);
	close(p[1]);
	ok("a thread blocked in read is interrupted by a signal sent to it");
}

static void test_rlimit_sigpending(void)
{
	pid_t c = sc_fork();

	if (c == 0) {
		/* Linux counts queued signals per user, system-wide: only a limit of 0 gives the
		 * same answer everywhere */
		struct rlimit rl = { 0, 0 };
		union sigval v = { .sival_int = 0 };

		CHECK_OK(setrlimit(RLIMIT_SIGPENDING, &rl));
		block(SIGRTMIN);
		block(SIGRTMIN + 1);
		CHECK_ERR(sigqueue(getpid(), SIGRTMIN, v), EAGAIN);
		CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN,
				  &(siginfo_t){ .si_code = SI_QUEUE }), EAGAIN);
		/* kill() of a real-time signal is still delivered at the limit */
		CHECK_OK(kill(getpid(), SIGRTMIN + 1));
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGRTMIN + 1);
		struct timespec zero = { 0, 0 };
		CHECK(sigtimedwait(&s, NULL, &zero) == SIGRTMIN + 1, "the kill()ed one arrived");
		_exit(0);
	}
	expect_exit(c, 0);
	ok("RLIMIT_SIGPENDING: sigqueue gets EAGAIN, kill still delivers");
}

int main(void)
{
	test_group_signal_picks_unblocked_thread();
	test_tgkill_one_thread();
	test_thread_read_interrupted();
	test_rlimit_sigpending();
	return 0;
}
