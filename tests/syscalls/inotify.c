/* inotify.c: inotify_init/init1, inotify_add_watch, inotify_rm_watch: argument rules, the
 * events of a watched directory (CREATE, OPEN, MODIFY, ACCESS, CLOSE_WRITE/NOWRITE, ATTRIB,
 * MOVED_FROM/MOVED_TO with one cookie, DELETE, ISDIR) and of a watched file (MOVE_SELF,
 * DELETE_SELF, IGNORED), IN_ONESHOT, IN_MASK_ADD/IN_MASK_CREATE, merged duplicates, reads too
 * small, FIONREAD, blocking reads and poll/epoll readiness — in /tmp (the sandbox's overlay)
 * and in /dev/shm (a tmpfs). */
#include "sc.h"

#include <poll.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <utime.h>

static const struct {
	uint32_t bit;
	const char *name;
} g_bits[] = {
    {IN_ACCESS, "ACCESS"},
    {IN_MODIFY, "MODIFY"},
    {IN_ATTRIB, "ATTRIB"},
    {IN_CLOSE_WRITE, "CLOSE_WRITE"},
    {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
    {IN_OPEN, "OPEN"},
    {IN_MOVED_FROM, "MOVED_FROM"},
    {IN_MOVED_TO, "MOVED_TO"},
    {IN_CREATE, "CREATE"},
    {IN_DELETE, "DELETE"},
    {IN_DELETE_SELF, "DELETE_SELF"},
    {IN_MOVE_SELF, "MOVE_SELF"},
    {IN_Q_OVERFLOW, "Q_OVERFLOW"},
    {IN_IGNORED, "IGNORED"},
    {IN_ISDIR, "ISDIR"},
};

/* Every queued event as "wdN:MASK|MASK[:name] ...", cookies checked to pair MOVED_FROM/TO. */
static char *drain(int fd, int wd_base)
{
	static char out[4096];
	char buf[4096] __attribute__((aligned(8)));
	uint32_t cookie = 0;
	size_t len = 0;

	out[0] = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN)
			break;
		CHECK(n > 0, "read events");
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			len += (size_t)snprintf(out + len, sizeof(out) - len,
						"%swd%d:", len ? " " : "", e->wd - wd_base);
			bool first = true;
			for (size_t i = 0; i < sizeof(g_bits) / sizeof(g_bits[0]); i++) {
				if (!(e->mask & g_bits[i].bit))
					continue;
				len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
							first ? "" : "|", g_bits[i].name);
				first = false;
			}
			if (e->len) {
				CHECK(e->len % 16 == 0 && strlen(e->name) < e->len, "name padding");
				len +=
				    (size_t)snprintf(out + len, sizeof(out) - len, ":%s", e->name);
			}
			if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO)) {
				CHECK(e->cookie != 0, "a move has a cookie");
				if (e->mask & IN_MOVED_FROM)
					cookie = e->cookie;
				else
					CHECK(e->cookie == cookie,
					      "MOVED_TO pairs with MOVED_FROM");
			} else {
				CHECK(e->cookie == 0, "no cookie");
			}
			p += sizeof(*e) + e->len;
		}
	}
	return out;
}

#define EXPECT(fd, base, want)                                                                     \
	do {                                                                                       \
		const char *__got = drain(fd, base);                                               \
		CHECK(strcmp(__got, want) == 0, "events: got \"%s\", want \"%s\"", __got, want);   \
	} while (0)

static void test_errors(const char *dir)
{
	int fd = (int)CHECK_OK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	int p[2];
	char file[256];

	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "x", 0644);
	CHECK_ERR(inotify_init1(0x10), EINVAL);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_NONBLOCK), "flags");
	int plain = (int)CHECK_OK(inotify_init());
	CHECK(fcntl(plain, F_GETFD) == 0, "inotify_init: no flags");
	close(plain);
	CHECK_OK(pipe(p));
	CHECK_ERR(inotify_add_watch(p[0], dir, IN_CREATE), EINVAL);
	CHECK_ERR(inotify_add_watch(99, dir, IN_CREATE), EBADF);
	CHECK_ERR(inotify_add_watch(fd, dir, 0), EINVAL);
	CHECK_ERR(inotify_add_watch(fd, dir, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
	CHECK_ERR(inotify_add_watch(fd, "/nonexistent/x", IN_CREATE), ENOENT);
	CHECK_ERR(inotify_add_watch(fd, file, IN_CREATE | IN_ONLYDIR), ENOTDIR);
	CHECK_ERR(inotify_add_watch(fd, NULL, IN_CREATE), EFAULT);
	CHECK_ERR(inotify_rm_watch(fd, 1), EINVAL);
	CHECK_ERR(inotify_rm_watch(p[0], 1), EINVAL);

	int wd = (int)CHECK_OK(inotify_add_watch(fd, dir, IN_CREATE));
	CHECK(inotify_add_watch(fd, dir, IN_DELETE) == wd, "the same watch");
	CHECK_ERR(inotify_add_watch(fd, dir, IN_DELETE | IN_MASK_CREATE), EEXIST);
	int wd2 = (int)CHECK_OK(inotify_add_watch(fd, file, IN_ATTRIB));
	CHECK(wd2 > wd, "increasing watch descriptors");
	char c;
	CHECK_ERR(read(fd, &c, 1), EAGAIN);
	/* IN_DELETE replaced IN_CREATE; IN_MASK_ADD adds */
	CHECK_OK(unlink(file));
	EXPECT(fd, wd, "wd1:ATTRIB wd1:IGNORED wd0:DELETE:plain"); /* no DELETE_SELF asked */
	write_file(file, "x", 0644);
	EXPECT(fd, wd, "");
	CHECK(inotify_add_watch(fd, dir, IN_CREATE | IN_MASK_ADD) == wd, "MASK_ADD");
	CHECK_OK(unlink(file));
	write_file(file, "x", 0644);
	EXPECT(fd, wd, "wd0:DELETE:plain wd0:CREATE:plain");
	CHECK_OK(inotify_rm_watch(fd, wd));
	EXPECT(fd, wd, "wd0:IGNORED");
	CHECK_ERR(inotify_rm_watch(fd, wd), EINVAL);
	CHECK_OK(unlink(file));
	EXPECT(fd, wd, "");

	char link[64] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0 && strcmp(link, "anon_inode:inotify") == 0,
	      "link %s", link);
	close(p[0]);
	close(p[1]);
	close(fd);
	ok("inotify: argument rules, watch descriptors, MASK_ADD/MASK_CREATE, rm_watch");
}

static void test_dir_events(const char *dir, const char *what)
{
	int fd = (int)CHECK_OK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	char a[256], b[256], sub[256], lnk[256], hard[256];
	char buf[8];

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(lnk, sizeof(lnk), "%s/l", dir);
	snprintf(hard, sizeof(hard), "%s/hard", dir);
	int wd = (int)CHECK_OK(inotify_add_watch(fd, dir, IN_ALL_EVENTS));

	int f = (int)CHECK_OK(open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
	CHECK(write(f, "xy", 2) == 2, "write");
	CHECK(write(f, "z", 1) == 1, "write"); /* merged with the first MODIFY */
	CHECK_OK(close(f));
	EXPECT(fd, wd, "wd0:CREATE:a wd0:OPEN:a wd0:MODIFY:a wd0:CLOSE_WRITE:a");
	f = (int)CHECK_OK(open(a, O_RDONLY | O_CLOEXEC));
	CHECK(read(f, buf, sizeof(buf)) == 3, "read");
	CHECK(read(f, buf, sizeof(buf)) == 0, "EOF: no event");
	CHECK_OK(close(f));
	EXPECT(fd, wd, "wd0:OPEN:a wd0:ACCESS:a wd0:CLOSE_NOWRITE:a");
	CHECK_OK(chmod(a, 0600));
	CHECK_OK(utime(a, NULL));
	CHECK_OK(truncate(a, 1));
	EXPECT(fd, wd, "wd0:ATTRIB:a wd0:MODIFY:a");
	CHECK_OK(rename(a, b));
	EXPECT(fd, wd, "wd0:MOVED_FROM:a wd0:MOVED_TO:b");
	CHECK_OK(mkdir(sub, 0755));
	CHECK_OK(rmdir(sub));
	EXPECT(fd, wd, "wd0:CREATE|ISDIR:sub wd0:DELETE|ISDIR:sub");
	CHECK_OK(symlink("b", lnk));
	CHECK_OK(link(b, hard));
	CHECK_OK(unlink(lnk));
	CHECK_OK(unlink(hard));
	CHECK_OK(unlink(b));
	EXPECT(fd, wd, "wd0:CREATE:l wd0:CREATE:hard wd0:DELETE:l wd0:DELETE:hard wd0:DELETE:b");
	close(fd);
	ok("inotify: directory events in %s", what);
}

static void test_file_events(const char *dir, const char *what)
{
	int fd = (int)CHECK_OK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	char a[256], b[256], d2[256], d2a[256];

	snprintf(a, sizeof(a), "%s/fa", dir);
	snprintf(b, sizeof(b), "%s/fb", dir);
	snprintf(d2, sizeof(d2), "%s/d2", dir);
	snprintf(d2a, sizeof(d2a), "%s/d2/x", dir);
	write_file(a, "1", 0644);
	int wdir =
	    (int)CHECK_OK(inotify_add_watch(fd, dir, IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO));
	int wf = (int)CHECK_OK(inotify_add_watch(fd, a, IN_ALL_EVENTS & ~(IN_OPEN | IN_CLOSE)));
	CHECK(wf == wdir + 1, "second watch");
	int f = (int)CHECK_OK(open(a, O_WRONLY | O_APPEND | O_CLOEXEC));
	CHECK(write(f, "2", 1) == 1, "write");
	CHECK_OK(close(f));
	/* the directory's event (named) first, then the file's own */
	EXPECT(fd, wdir, "wd0:MODIFY:fa wd1:MODIFY");
	CHECK_OK(rename(a, b));
	EXPECT(fd, wdir, "wd0:MOVED_FROM:fa wd0:MOVED_TO:fb wd1:MOVE_SELF");
	CHECK_OK(chmod(b, 0600));
	CHECK_OK(unlink(b));
	EXPECT(fd, wdir, "wd1:ATTRIB wd1:DELETE_SELF wd1:IGNORED"); /* the ATTRIBs merge */

	/* a watched directory removed */
	CHECK_OK(mkdir(d2, 0755));
	int wd2 = (int)CHECK_OK(inotify_add_watch(fd, d2, IN_ALL_EVENTS));
	write_file(d2a, "", 0644);
	CHECK_OK(unlink(d2a));
	CHECK_OK(rmdir(d2));
	EXPECT(
	    fd, wdir,
	    "wd2:CREATE:x wd2:OPEN:x wd2:CLOSE_WRITE:x wd2:DELETE:x wd2:DELETE_SELF wd2:IGNORED");
	(void)wd2;

	/* a watched directory's own events, and its parent's: ISDIR, except on the SELF ones */
	int fd2 = (int)CHECK_OK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	CHECK_OK(mkdir(d2, 0755));
	int wp = (int)CHECK_OK(inotify_add_watch(fd2, dir, IN_ALL_EVENTS));
	wd2 = (int)CHECK_OK(inotify_add_watch(fd2, d2, IN_ALL_EVENTS));
	CHECK(wd2 == wp + 1, "a new instance numbers from its own start");
	CHECK_OK(chmod(d2, 0700));
	int dfd = (int)CHECK_OK(open(d2, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	CHECK_OK(close(dfd));
	CHECK_OK(rename(d2, b));
	CHECK_OK(rmdir(b));
	EXPECT(
	    fd2, wp,
	    "wd0:ATTRIB|ISDIR:d2 wd1:ATTRIB|ISDIR wd0:OPEN|ISDIR:d2 wd1:OPEN|ISDIR "
	    "wd0:CLOSE_NOWRITE|ISDIR:d2 wd1:CLOSE_NOWRITE|ISDIR wd0:MOVED_FROM|ISDIR:d2 "
	    "wd0:MOVED_TO|ISDIR:fb wd1:MOVE_SELF wd1:DELETE_SELF wd1:IGNORED wd0:DELETE|ISDIR:fb");
	close(fd2);
	EXPECT(fd, wdir, "wd0:MOVED_FROM|ISDIR:d2 wd0:MOVED_TO|ISDIR:fb");

	/* IN_ONESHOT */
	write_file(a, "", 0644);
	CHECK_OK(inotify_rm_watch(fd, wdir));
	EXPECT(fd, wdir, "wd0:IGNORED");
	int wo = (int)CHECK_OK(inotify_add_watch(fd, a, IN_ATTRIB | IN_ONESHOT));
	CHECK_OK(chmod(a, 0600));
	CHECK_OK(chmod(a, 0644));
	EXPECT(fd, wo, "wd0:ATTRIB wd0:IGNORED");
	CHECK_ERR(inotify_rm_watch(fd, wo), EINVAL);
	CHECK_OK(unlink(a));
	close(fd);
	ok("inotify: file events, dir-then-file order, a removed directory, IN_ONESHOT in %s",
	   what);
}

static void test_reading(const char *dir)
{
	int fd = (int)CHECK_OK(inotify_init1(IN_CLOEXEC));
	char path[256], buf[256] __attribute__((aligned(8)));

	snprintf(path, sizeof(path), "%s/a-long-enough-name", dir);
	int wd = (int)CHECK_OK(inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE));
	write_file(path, "", 0644);
	int avail = -1;
	CHECK_OK(ioctl(fd, FIONREAD, &avail));
	CHECK(avail == (int)sizeof(struct inotify_event) + 32, "FIONREAD: %d", avail);
	CHECK_ERR(read(fd, buf, sizeof(struct inotify_event) + 8), EINVAL);
	CHECK_OK(unlink(path));
	CHECK(read(fd, buf, sizeof(buf)) == 2 * (ssize_t)(sizeof(struct inotify_event) + 32),
	      "two events in one read");
	CHECK_OK(ioctl(fd, FIONREAD, &avail));
	CHECK(avail == 0, "none left");

	/* a blocked read, woken by another process; poll and epoll */
	int ep = (int)CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	struct pollfd pf = {fd, POLLIN, 0};
	CHECK(poll(&pf, 1, 0) == 0 && epoll_wait(ep, &ev, 1, 0) == 0, "nothing");
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(50);
		write_file(path, "", 0644);
		_exit(0);
	}
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1, "epoll woken");
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "poll: readable");
	struct inotify_event *e = (struct inotify_event *)buf;
	CHECK(read(fd, buf, sizeof(buf)) > 0 && e->wd == wd && e->mask == IN_CREATE &&
		  strcmp(e->name, "a-long-enough-name") == 0,
	      "the child's create");
	expect_exit(pid, 0);
	pid = sc_fork();
	if (pid == 0) {
		msleep(50);
		unlink(path);
		_exit(0);
	}
	CHECK(read(fd, buf, sizeof(buf)) > 0 && e->mask == IN_DELETE, "blocking read woken");
	expect_exit(pid, 0);
	close(ep);
	close(fd);
	ok("inotify: FIONREAD, too-small reads, blocking reads, poll and epoll");
}

int main(void)
{
	const char *tmp = sc_tmpdir();
	char shm[128];

	snprintf(shm, sizeof(shm), "/dev/shm/runsc-c-inotify-%d", (int)getpid());
	CHECK_OK(mkdir(shm, 0755));
	test_errors(tmp);
	test_dir_events(tmp, "/tmp");
	test_dir_events(shm, "/dev/shm");
	test_file_events(tmp, "/tmp");
	test_file_events(shm, "/dev/shm");
	test_reading(tmp);
	CHECK_OK(rmdir(shm));
	return 0;
}
