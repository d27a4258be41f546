/* timerfd.c: timerfd_create/settime/gettime: argument rules, relative and absolute
 * (TFD_TIMER_ABSTIME) one-shot and interval timers on CLOCK_MONOTONIC, CLOCK_REALTIME and
 * CLOCK_BOOTTIME, expiration counts, the old value, disarming, blocking and non-blocking
 * reads, poll and epoll readiness. */
#include "sc.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

static struct itimerspec its(long value_ms, long interval_ms)
{
	struct itimerspec t = {
	    .it_value = {value_ms / 1000, (value_ms % 1000) * 1000000L},
	    .it_interval = {interval_ms / 1000, (interval_ms % 1000) * 1000000L},
	};
	return t;
}

static long ts_ms(const struct timespec *ts) { return ts->tv_sec * 1000 + ts->tv_nsec / 1000000; }

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	ssize_t r;

	do
		r = read(fd, &v, sizeof(v));
	while (r < 0 && errno == EINTR);
	CHECK(r == 8, "read");
	return v;
}

static void test_errors(void)
{
	struct itimerspec t = its(1000, 0), bad = its(1000, 0);
	int fd = (int)CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	int p[2];

	CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	CHECK_ERR(timerfd_create(99, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x10), EINVAL);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_NONBLOCK), "flags");
	CHECK_ERR(timerfd_settime(fd, 0x10, &t, NULL), EINVAL);
	bad.it_value.tv_nsec = 1000000000L;
	CHECK_ERR(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	bad = its(1000, 0);
	bad.it_interval.tv_sec = -1;
	CHECK_ERR(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(fd, 0, NULL, NULL), EFAULT);
	CHECK_ERR(timerfd_settime(99, 0, &t, NULL), EBADF);
	CHECK_OK(pipe(p));
	CHECK_ERR(timerfd_settime(p[0], 0, &t, NULL), EINVAL);
	CHECK_ERR(timerfd_gettime(p[0], &t), EINVAL);
	CHECK_ERR(timerfd_gettime(99, &t), EBADF);
	CHECK_ERR(timerfd_gettime(fd, NULL), EFAULT);
	CHECK_OK(timerfd_gettime(fd, &t));
	CHECK(t.it_value.tv_sec == 0 && t.it_value.tv_nsec == 0 && t.it_interval.tv_nsec == 0,
	      "disarmed: zero");
	char small[4];
	CHECK_ERR(read(fd, small, sizeof(small)), EINVAL);
	uint64_t v;
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	int rt = (int)CHECK_OK(timerfd_create(CLOCK_REALTIME, 0));
	int bt = (int)CHECK_OK(timerfd_create(CLOCK_BOOTTIME, 0));
	char link[64] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0 &&
		  strcmp(link, "anon_inode:[timerfd]") == 0,
	      "link %s", link);
	close(rt);
	close(bt);
	close(p[0]);
	close(p[1]);
	close(fd);
	ok("timerfd: argument rules, disarmed state, the file's name");
}

static void test_oneshot(void)
{
	int fd = (int)CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	struct itimerspec t = its(60, 0), old, cur;

	CHECK_OK(timerfd_settime(fd, 0, &t, &old));
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0, "old: disarmed");
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(ts_ms(&cur.it_value) > 0 && ts_ms(&cur.it_value) <= 60, "left %ld",
	      ts_ms(&cur.it_value));
	long t0 = now_ms();
	CHECK(rd(fd) == 1, "one expiration");
	CHECK(now_ms() - t0 >= 40, "waited for it");
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "one-shot: disarmed after");
	int fl = (int)CHECK_OK(fcntl(fd, F_GETFL));
	CHECK_OK(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
	uint64_t v;
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);

	/* settime returns the old setting and resets the count */
	CHECK_OK(timerfd_settime(fd, 0, &(struct itimerspec){{0, 0}, {0, 1000000}}, NULL));
	msleep(20);
	t = its(5000, 1000);
	CHECK_OK(timerfd_settime(fd, 0, &t, &old));
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0, "old: expired one-shot");
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	CHECK_OK(timerfd_settime(fd, 0, &(struct itimerspec){0}, &old));
	CHECK(ts_ms(&old.it_value) > 4000 && ts_ms(&old.it_interval) == 1000, "old value");
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "disarmed");
	close(fd);
	ok("timerfd: one-shot, gettime, the old value, disarming, counts reset by settime");
}

static void test_interval(void)
{
	int fd = (int)CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	struct itimerspec t = its(20, 20), cur;

	CHECK_OK(timerfd_settime(fd, 0, &t, NULL));
	msleep(110);
	uint64_t n = rd(fd);
	CHECK(n >= 3 && n <= 6, "about five periods: %lu", (unsigned long)n);
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(ts_ms(&cur.it_interval) == 20 && ts_ms(&cur.it_value) <= 20, "next period");
	CHECK(rd(fd) >= 1, "the next period blocks, then counts");
	close(fd);

	/* absolute: a past time fires at once, a future one when due */
	struct timespec now;
	fd = (int)CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (struct itimerspec){.it_value = {now.tv_sec - 1, now.tv_nsec}};
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL));
	long t0 = now_ms();
	CHECK(rd(fd) == 1 && now_ms() - t0 < 1000, "past: at once");
	/* an absolute interval timer started a second ago counts the periods since */
	t = (struct itimerspec){.it_value = {now.tv_sec - 1, now.tv_nsec},
				.it_interval = {0, 100000000}};
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL));
	n = rd(fd);
	CHECK(n >= 10 && n <= 13, "periods since the start: %lu", (unsigned long)n);
	CHECK_OK(timerfd_settime(fd, 0, &(struct itimerspec){0}, NULL));
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_nsec += 50 * 1000000L;
	if (now.tv_nsec >= 1000000000L) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000L;
	}
	t = (struct itimerspec){.it_value = now};
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL));
	t0 = now_ms();
	CHECK(rd(fd) == 1 && now_ms() - t0 >= 35, "future: when due");
	close(fd);

	/* CLOCK_REALTIME absolute, CLOCK_BOOTTIME relative */
	fd = (int)CHECK_OK(timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC));
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 40 * 1000000L;
	if (now.tv_nsec >= 1000000000L) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000L;
	}
	t = (struct itimerspec){.it_value = now};
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &t, NULL));
	t0 = now_ms();
	CHECK(rd(fd) == 1 && now_ms() - t0 >= 25, "CLOCK_REALTIME absolute");
	close(fd);
	fd = (int)CHECK_OK(timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC));
	t = its(30, 0);
	CHECK_OK(timerfd_settime(fd, 0, &t, NULL));
	CHECK(rd(fd) == 1, "CLOCK_BOOTTIME");
	close(fd);
	ok("timerfd: intervals and missed periods, TFD_TIMER_ABSTIME, REALTIME, BOOTTIME");
}

static void test_poll(void)
{
	int fd = (int)CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	int ep = (int)CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 77};
	struct pollfd pf = {fd, POLLIN, 0};

	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	CHECK(poll(&pf, 1, 0) == 0, "not ready");
	CHECK_OK(timerfd_settime(fd, 0, &(struct itimerspec){{0, 30000000}, {0, 40000000}}, NULL));
	CHECK(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN, "poll wakes at expiry");
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 77, "epoll reports it");
	CHECK(rd(fd) >= 1, "read");
	CHECK(poll(&pf, 1, 0) == 0, "read: not ready");
	/* the next period wakes a blocked epoll_wait (edge-triggered: a new edge) */
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 77, "epoll wakes at the next");
	close(ep);
	close(fd);
	ok("timerfd: poll and epoll readiness at expiry");
}

int main(void)
{
	test_errors();
	test_oneshot();
	test_interval();
	test_poll();
	return 0;
}
