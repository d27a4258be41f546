/* epoll.c: epoll_create/create1/ctl/wait/pwait/pwait2: the error rules, level and edge
 * triggering, EPOLLONESHOT and MOD re-arming, EPOLLEXCLUSIVE's rules, nested epoll and the
 * loop/depth checks, registrations that go with the file's last reference (not with the fd),
 * wake-ups from another process and another thread, timeouts, EINTR (never restarted) and
 * epoll_pwait's temporary mask. */
#include "sc.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static int ep_new(void) { return (int)CHECK_OK(epoll_create1(EPOLL_CLOEXEC)); }

static void ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
}

static int ep_wait1(int ep, struct epoll_event *ev, int ms)
{
	int n;

	do
		n = epoll_wait(ep, ev, 1, ms);
	while (n < 0 && errno == EINTR);
	CHECK(n >= 0, "epoll_wait");
	return n;
}

static void test_errors(void)
{
	int p[2], ep = ep_new(), f;
	struct epoll_event ev = {.events = EPOLLIN};

	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_create(-1), EINVAL);
	CHECK_ERR(epoll_create1(1), EINVAL);
	int e2 = (int)CHECK_OK(epoll_create(1));
	CHECK(fcntl(e2, F_GETFD) == 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC, "EPOLL_CLOEXEC");
	CHECK((fcntl(ep, F_GETFL) & O_ACCMODE) == O_RDWR, "O_RDWR");
	CHECK_OK(pipe(p));
	f = (int)CHECK_OK(open(tpath("plain"), O_RDWR | O_CREAT | O_CLOEXEC, 0600));

	CHECK_ERR(epoll_ctl(99, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev), EBADF);
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev), EPERM);
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, f, &ev), EPERM); /* EPERM before EINVAL */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL);
	ep_add(ep, p[0], EPOLLIN, 1);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], (void *)8)); /* DEL reads no event */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);

	/* EPOLLEXCLUSIVE: ADD only, plain in/out bits only, never on an epoll */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, e2, &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLRDNORM | EPOLLEXCLUSIVE;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL); /* an exclusive item */
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	ev.events = EPOLLIN | EPOLLWAKEUP; /* accepted, and without effect here */
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));

	struct epoll_event out[2];
	CHECK_ERR(syscall(SYS_epoll_wait, ep, out, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL);
	/* only the range is checked first: nothing to copy, no fault */
	CHECK(syscall(SYS_epoll_wait, ep, NULL, 1, 0) == 0, "NULL with nothing ready");
	CHECK_ERR(epoll_wait(99, out, 1, 0), EBADF);
	CHECK_ERR(epoll_wait(p[0], out, 1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, (void *)-4096L, 1, 0), EFAULT);
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK_ERR(syscall(SYS_epoll_wait, ep, NULL, 1, 0), EFAULT);

	char link[64] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", ep);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0, "readlink");
	CHECK(strcmp(link, "anon_inode:[eventpoll]") == 0, "link %s", link);
	CHECK(read(ep, link, 1) == -1 && errno == EINVAL, "read on an epoll fd");
	CHECK(lseek(ep, 0, SEEK_CUR) == 0, "lseek is a no-op");
	close(p[0]);
	close(p[1]);
	close(f);
	close(e2);
	close(ep);
	ok("epoll: create/ctl/wait error rules, EPOLLEXCLUSIVE rules, the fd's name");
}

static void test_level_edge_oneshot(void)
{
	int p[2], ep = ep_new();
	struct epoll_event ev;
	char buf[16];

	CHECK_OK(pipe2(p, O_NONBLOCK));
	ep_add(ep, p[0], EPOLLIN | EPOLLRDHUP, 7);
	CHECK(ep_wait1(ep, &ev, 0) == 0, "nothing yet");
	CHECK(write(p[1], "ab", 2) == 2, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.events == EPOLLIN && ev.data.u64 == 7, "LT IN");
	CHECK(ep_wait1(ep, &ev, 0) == 1, "LT reports again");
	CHECK(read(p[0], buf, 1) == 1, "read one");
	CHECK(ep_wait1(ep, &ev, 0) == 1, "LT: still data");
	CHECK(read(p[0], buf, 1) == 1, "read the other");
	CHECK(ep_wait1(ep, &ev, 0) == 0, "LT: drained");

	/* edge-triggered */
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 8};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(write(p[1], "a", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 8, "ET IN");
	CHECK(ep_wait1(ep, &ev, 0) == 0, "ET: once per edge");
	CHECK(write(p[1], "b", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1, "ET: a new edge");
	CHECK(read(p[0], buf, sizeof(buf)) == 2, "drain");
	CHECK(ep_wait1(ep, &ev, 0) == 0, "ET: nothing");
	/* MOD reports what is ready now, even for ET */
	CHECK(write(p[1], "c", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1, "ET IN");
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 9};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 9, "MOD re-arms");

	/* one-shot */
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 10};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 10, "ONESHOT fires");
	CHECK(ep_wait1(ep, &ev, 0) == 0, "ONESHOT: disabled");
	CHECK(write(p[1], "d", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 0, "ONESHOT: still disabled");
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 11};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 11, "MOD re-arms ONESHOT");
	CHECK(read(p[0], buf, sizeof(buf)) == 2, "drain");

	/* the write end: EPOLLOUT until full; EPOLLERR (always reported) without a reader */
	int ew = ep_new();
	ep_add(ew, p[1], EPOLLOUT, 20);
	CHECK(ep_wait1(ew, &ev, 0) == 1 && ev.events == EPOLLOUT, "OUT");
	char big[4096];
	memset(big, 'x', sizeof(big));
	while (write(p[1], big, sizeof(big)) > 0)
		;
	CHECK(errno == EAGAIN, "pipe full");
	CHECK(ep_wait1(ew, &ev, 0) == 0, "full: no OUT");
	while (read(p[0], big, sizeof(big)) > 0)
		;
	CHECK(ep_wait1(ew, &ev, 0) == 1 && ev.events == EPOLLOUT, "OUT again");
	CHECK_OK(close(p[0]));
	CHECK(ep_wait1(ew, &ev, 0) == 1 && ev.events == (EPOLLOUT | EPOLLERR), "ERR: %#x",
	      ev.events);
	close(ew);

	/* HUP on a read end whose writer went */
	CHECK_OK(pipe(p));
	ep_add(ep, p[0], EPOLLIN, 30);
	CHECK_OK(close(p[1]));
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.events == EPOLLHUP && ev.data.u64 == 30, "HUP: %#x",
	      ev.events);
	close(p[0]);
	close(ep);
	ok("epoll: level, edge, one-shot, MOD re-arming, OUT/ERR/HUP on pipes");
}

static void test_many(void)
{
	int ep = ep_new(), efd[5];
	struct epoll_event ev[8];

	for (int i = 0; i < 5; i++) {
		efd[i] = (int)CHECK_OK(eventfd(1, EFD_CLOEXEC));
		ep_add(ep, efd[i], EPOLLIN | EPOLLET, (uint64_t)i);
	}
	int seen = 0;
	CHECK(epoll_wait(ep, ev, 3, 0) == 3, "a first batch of 3");
	for (int i = 0; i < 3; i++)
		seen |= 1 << ev[i].data.u64;
	CHECK(epoll_wait(ep, ev, 8, 0) == 2, "the other 2 stay ready");
	for (int i = 0; i < 2; i++)
		seen |= 1 << ev[i].data.u64;
	CHECK(seen == 0x1f, "each once: %#x", seen);
	CHECK(epoll_wait(ep, ev, 8, 0) == 0, "ET: none left");
	for (int i = 0; i < 5; i++)
		close(efd[i]);
	close(ep);
	ok("epoll: maxevents smaller than what is ready");
}

static void test_close_removes(void)
{
	int p[2], ep = ep_new();
	struct epoll_event ev;

	CHECK_OK(pipe(p));
	int dupfd = (int)CHECK_OK(dup(p[0]));
	ep_add(ep, p[0], EPOLLIN, 5);
	CHECK_OK(close(p[0]));
	/* the open file lives on through the dup: still registered, under the old fd */
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 5, "registration survives the fd");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, dupfd, NULL), ENOENT);
	CHECK_OK(close(dupfd));
	/* the last reference gone: so is the registration */
	CHECK(ep_wait1(ep, &ev, 0) == 0, "gone with the file");
	CHECK_OK(pipe(p)); /* may reuse the number */
	ep_add(ep, p[0], EPOLLIN, 6);
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK(ep_wait1(ep, &ev, 0) == 1 && ev.data.u64 == 6, "a new file");
	/* closing the epoll first, then the files */
	close(ep);
	close(p[0]);
	close(p[1]);
	ok("epoll: registrations end with the open file, not the fd");
}

static void test_nested(void)
{
	int p[2], inner = ep_new(), outer = ep_new();
	struct epoll_event ev;

	CHECK_OK(pipe(p));
	ep_add(inner, p[0], EPOLLIN, 1);
	ep_add(outer, inner, EPOLLIN, 2);
	CHECK(ep_wait1(outer, &ev, 0) == 0, "nothing");
	struct pollfd pf = {inner, POLLIN, 0};
	CHECK(poll(&pf, 1, 0) == 0, "poll on the inner: nothing");
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK(ep_wait1(outer, &ev, 0) == 1 && ev.events == EPOLLIN && ev.data.u64 == 2,
	      "outer sees inner");
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "poll on the inner");
	CHECK(ep_wait1(inner, &ev, 0) == 1 && ev.data.u64 == 1, "inner's own event");
	char c;
	CHECK(read(p[0], &c, 1) == 1, "drain");
	CHECK(ep_wait1(outer, &ev, 0) == 0, "outer: inner no longer ready");
	CHECK(poll(&pf, 1, 0) == 0, "poll on the inner: not ready");

	/* a blocked wait on the outer is woken through the inner */
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(50);
		(void)!write(p[1], "y", 1);
		_exit(0);
	}
	CHECK(ep_wait1(outer, &ev, 5000) == 1 && ev.data.u64 == 2, "woken through the inner");
	expect_exit(pid, 0);

	/* loops and depth */
	struct epoll_event e = {.events = EPOLLIN};
	CHECK_ERR(epoll_ctl(inner, EPOLL_CTL_ADD, outer, &e), ELOOP);
	int chain[7], failed = 0;
	chain[0] = ep_new();
	for (int i = 1; i < 7; i++) {
		chain[i] = ep_new();
		if (epoll_ctl(chain[i], EPOLL_CTL_ADD, chain[i - 1], &e) < 0) {
			CHECK(errno == ELOOP, "too deep: ELOOP");
			failed |= 1 << i;
		}
	}
	/* chain[5] would be the fifth level: refused; chain[6] over the empty chain[5] is fine */
	CHECK(failed == 1 << 5, "levels refused: %#x", failed);
	/* the depth above counts too: nothing may go below the bottom of a full chain */
	CHECK_ERR(epoll_ctl(chain[0], EPOLL_CTL_ADD, inner, &e), ELOOP);
	CHECK_OK(epoll_ctl(chain[1], EPOLL_CTL_ADD, p[0], &e));
	for (int i = 0; i < 7; i++)
		close(chain[i]);
	close(outer);
	close(inner);
	close(p[0]);
	close(p[1]);
	ok("epoll: nested epoll, its poll op, wake-ups through it, ELOOP for loops and depth");
}

static void *thread_writer(void *arg)
{
	int fd = *(int *)arg;
	uint64_t v = 3;

	msleep(50);
	(void)!write(fd, &v, sizeof(v));
	return NULL;
}

static volatile sig_atomic_t g_got;
static void on_usr1(int sig) { g_got = sig; }

static void test_blocking(void)
{
	int ep = ep_new(), efd = (int)CHECK_OK(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	struct epoll_event ev;
	pthread_t th;

	ep_add(ep, efd, EPOLLIN, 42);
	/* timeouts */
	long t0 = now_ms();
	CHECK(epoll_wait(ep, &ev, 1, 60) == 0, "timeout");
	CHECK(now_ms() - t0 >= 55, "waited");
	struct timespec ts = {0, 30 * 1000000L};
	t0 = now_ms();
	CHECK(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8) == 0, "pwait2 timeout");
	CHECK(now_ms() - t0 >= 25, "pwait2 waited");
	ts.tv_nsec = -1;
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8), EINVAL);
	ts.tv_nsec = 0;
	CHECK(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8) == 0, "pwait2 zero");

	/* a wake-up from another thread */
	CHECK(pthread_create(&th, NULL, thread_writer, &efd) == 0, "pthread_create");
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 42, "woken by a thread");
	pthread_join(th, NULL);
	uint64_t v;
	CHECK(read(efd, &v, sizeof(v)) == 8 && v == 3, "eventfd value");

	/* a handler interrupts it: EINTR even with SA_RESTART */
	set_handler(SIGUSR1, on_usr1, SA_RESTART);
	pid_t pid = pinger(getpid(), SIGUSR1, 50, 1, -1, 0);
	CHECK_ERR(epoll_wait(ep, &ev, 1, 5000), EINTR);
	CHECK(g_got == SIGUSR1, "handler ran");
	expect_exit(pid, 0);

	/* epoll_pwait: the temporary mask lets SIGUSR1 in, then the old one is back */
	g_got = 0;
	block(SIGUSR1);
	sigset_t none;
	sigemptyset(&none);
	pid = pinger(getpid(), SIGUSR1, 50, 1, -1, 0);
	CHECK_ERR(epoll_pwait(ep, &ev, 1, 5000, &none), EINTR);
	CHECK(g_got == SIGUSR1, "handler ran inside epoll_pwait");
	expect_exit(pid, 0);
	sigset_t cur;
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1), "mask restored");
	/* with a full mask, the signal waits and the event comes */
	sigset_t all;
	sigfillset(&all);
	int pp[2];
	CHECK_OK(pipe(pp));
	ep_add(ep, pp[0], EPOLLIN, 43);
	pid = pinger(getpid(), SIGUSR1, 10, 1, pp[1], 'x');
	g_got = 0;
	CHECK(epoll_pwait(ep, &ev, 1, 5000, &all) == 1 && ev.data.u64 == 43,
	      "event under a full mask");
	CHECK(g_got == 0, "no handler yet");
	expect_exit(pid, 0);
	CHECK_ERR(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &all, 4), EINVAL);
	unblock(SIGUSR1);
	CHECK(g_got == SIGUSR1, "delivered once unblocked");
	set_disposition(SIGUSR1, SIG_DFL);
	close(pp[0]);
	close(pp[1]);
	close(efd);
	close(ep);
	ok("epoll: timeouts, pwait2, wake-ups from a thread, EINTR, pwait's mask");
}

static void test_fork_shared(void)
{
	int p[2], ep = ep_new();
	struct epoll_event ev;

	CHECK_OK(pipe(p));
	ep_add(ep, p[0], EPOLLIN | EPOLLET, 3);
	pid_t pid = sc_fork();
	if (pid == 0) {
		/* the child shares the epoll instance: its wait takes the edge */
		CHECK(ep_wait1(ep, &ev, 5000) == 1 && ev.data.u64 == 3, "child sees it");
		_exit(0);
	}
	msleep(30);
	CHECK(write(p[1], "x", 1) == 1, "write");
	expect_exit(pid, 0);
	CHECK(ep_wait1(ep, &ev, 0) == 0, "the edge was taken by the child");
	close(p[0]);
	close(p[1]);
	close(ep);
	ok("epoll: an instance shared across fork");
}

int main(void)
{
	test_errors();
	test_level_edge_oneshot();
	test_many();
	test_close_removes();
	test_nested();
	test_blocking();
	test_fork_shared();
	return 0;
}
