/* Unit tests for pipes and FIFOs, poll/select, file locks, close_range, and the attribute
 * syscalls, run through the syscall handlers on an identity "address space" (guest pointers
 * are our pointers) over a tmpfs root. Blocking cases use a second host thread as the other
 * task. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sentry/fs/fs.h"
#include "sentry/fs/pipe.h"
#include "sentry/syscalls/sys_vfs.h"
#include "sentry/vfs/lock.h"
#include "sentry/vfs/ops.h"
#include "tests/unit/vfs_stubs.h"

SYSCALL_DEFINE(pipe2);
SYSCALL_DEFINE(close);
SYSCALL_DEFINE(close_range);
SYSCALL_DEFINE(openat);
SYSCALL_DEFINE(lseek);
SYSCALL_DEFINE(ioctl);
SYSCALL_DEFINE(dup2);
SYSCALL_DEFINE(mknodat);
SYSCALL_DEFINE(renameat2);
SYSCALL_DEFINE(fstat);
SYSCALL_DEFINE(pread64);

#define U(x) ((uint64_t)(uintptr_t)(x))
#define SC(name, ...) sys_##name(&g_task, &(struct syscall_args){.nr = 0, .a = {__VA_ARGS__}})
#define SC2(t, name, ...) sys_##name((t), &(struct syscall_args){.nr = 0, .a = {__VA_ARGS__}})
#define AT ((uint64_t)LINUX_AT_FDCWD)

static struct task g_task, g_task2; /* g_task2: another process (its own fd table) */

static void setup(void)
{
	struct super_block *sb;

	cr_assert_eq(tmpfs_create(0755, &sb), 0);
	cr_assert_eq(vfs_set_root(sb), 0);
	stub_tg_init();
	stub_task_init(&g_task, 1);
	stub_task_init(&g_task2, 2);
	g_task.fs = fs_context_create();
	g_task.fdt = fdtable_create();
	g_task2.fs = fs_context_create();
	g_task2.fdt = fdtable_create();
	current_task = &g_task;
	g_last_signal = 0;
}

static void teardown(void)
{
	fdtable_put(g_task.fdt);
	fs_context_put(g_task.fs);
	fdtable_put(g_task2.fdt);
	fs_context_put(g_task2.fs);
	current_task = NULL;
}

TestSuite(pipe, .init = setup, .fini = teardown);

static void mkpipe(int fds[2], int flags) { cr_assert_eq(SC(pipe2, U(fds), flags), 0); }

Test(pipe, basics)
{
	int p[2];
	char buf[64];
	struct linux_stat st;

	cr_assert_eq(SC(pipe2, U(p), LINUX_O_RDWR), -EINVAL);
	cr_assert_eq(SC(pipe2, BAD_ADDR, 0), -EFAULT);
	mkpipe(p, LINUX_O_CLOEXEC);
	cr_assert_eq(p[0], 0, "no fd may leak from the faulted call");
	cr_assert_eq(p[1], 1);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_GETFL, 0), LINUX_O_RDONLY);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_GETFL, 0), LINUX_O_WRONLY);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	cr_assert_eq(SC(fstat, p[0], U(&st)), 0);
	cr_assert_eq(st.st_mode, LINUX_S_IFIFO | 0600);
	struct linux_stat st2;
	cr_assert_eq(SC(fstat, p[1], U(&st2)), 0);
	cr_assert_eq(st.st_ino, st2.st_ino);
	struct file *f = fdtable_get(g_task.fdt, p[0]);
	cr_assert_gt(file_path(f, buf, sizeof(buf)), 0);
	char want[32];
	snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)st.st_ino);
	cr_assert_str_eq(buf, want);
	file_put(f);

	cr_assert_eq(SC(write, p[1], U("hello"), 5), 5);
	cr_assert_eq(SC(write, p[0], U("x"), 1), -EBADF);
	int n = -1;
	cr_assert_eq(SC(ioctl, p[0], LINUX_FIONREAD, U(&n)), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(SC(lseek, p[0], 0, LINUX_SEEK_CUR), -ESPIPE);
	cr_assert_eq(SC(pread64, p[0], U(buf), 1, 0), -ESPIPE);
	cr_assert_eq(SC(read, p[0], U(buf), 2), 2);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "llo", 3), 0);
	/* EOF once the writer is gone */
	cr_assert_eq(SC(close, p[1]), 0);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), 0);
	/* EPIPE and SIGPIPE once the reader is gone */
	mkpipe(p, 0);
	cr_assert_eq(SC(close, p[0]), 0);
	cr_assert_eq(SC(write, p[1], U("x"), 1), -EPIPE);
	cr_assert_eq(g_last_signal, LINUX_SIGPIPE);
}

Test(pipe, capacity_and_atomicity)
{
	int p[2];
	static char big[128 * 1024], back[128 * 1024];

	mkpipe(p, LINUX_O_NONBLOCK);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13);
	/* 64 KiB and not a byte more */
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_GETPIPE_SZ, 0), 65536);
	cr_assert_eq(SC(write, p[1], U(big), sizeof(big)), 65536);
	cr_assert_eq(SC(write, p[1], U(big), 1), -EAGAIN);
	cr_assert_eq(SC(read, p[0], U(back), sizeof(back)), 65536);
	cr_assert_eq(memcmp(big, back, 65536), 0);
	cr_assert_eq(SC(read, p[0], U(back), 1), -EAGAIN);

	/* A write of at most PIPE_BUF goes in whole or not at all. */
	cr_assert_eq(SC(write, p[1], U(big), 65536 - 100), 65536 - 100);
	cr_assert_eq(SC(write, p[1], U(big), 4096), -EAGAIN);
	cr_assert_eq(SC(write, p[1], U(big), 200), -EAGAIN);
	cr_assert_eq(SC(write, p[1], U(big), 100), 100);
	cr_assert_eq(SC(read, p[0], U(back), sizeof(back)), 65536);
	/* ... while a bigger one is split: what fits goes */
	cr_assert_eq(SC(write, p[1], U(big), 65536 - 4096), 65536 - 4096);
	cr_assert_eq(SC(write, p[1], U(big), 8192), 4096);
	cr_assert_eq(SC(read, p[0], U(back), sizeof(back)), 65536);

	/* Small writes share pages: 16 pages hold far more than 16 writes. */
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(SC(write, p[1], U("abc"), 3), 3);
	int n;
	cr_assert_eq(SC(ioctl, p[0], LINUX_FIONREAD, U(&n)), 0);
	cr_assert_eq(n, 3000);
	cr_assert_eq(SC(read, p[0], U(back), sizeof(back)), 3000);
}

Test(pipe, set_size)
{
	int p[2];
	static char big[256 * 1024];

	mkpipe(p, LINUX_O_NONBLOCK);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 0), 4096);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 5000), 8192);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_GETPIPE_SZ, 0), 8192);
	cr_assert_eq(SC(write, p[1], U(big), sizeof(big)), 8192);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 4096), -EBUSY);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 200000), 262144);
	cr_assert_eq(SC(write, p[1], U(big), sizeof(big)), 262144 - 8192);
	char c;
	cr_assert_eq(SC(read, p[0], U(&c), 1), 1);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, (1u << 31) + 1), -EINVAL);
	/* past /proc/sys/fs/pipe-max-size: root only */
	g_task.cred.euid = 1000;
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 2u << 20), -EPERM);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 1u << 20), 1 << 20);
	g_task.cred.euid = 0;
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETPIPE_SZ, 2u << 20), 2 << 20);
	/* not a pipe */
	long fd = SC(openat, AT, U("/f"), LINUX_O_CREAT | LINUX_O_RDWR, 0600);
	cr_assert_eq(SC(fcntl, fd, LINUX_F_GETPIPE_SZ, 0), -EBADF);
}

Test(pipe, packet_mode)
{
	int p[2];
	char buf[16];

	mkpipe(p, LINUX_O_DIRECT | LINUX_O_NONBLOCK);
	cr_assert_eq(SC(write, p[1], U("abcdef"), 6), 6);
	cr_assert_eq(SC(write, p[1], U("gh"), 2), 2);
	/* one packet per read; the rest of a packet read short is gone */
	cr_assert_eq(SC(read, p[0], U(buf), 4), 4);
	cr_assert_eq(memcmp(buf, "abcd", 4), 0);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), 2);
	cr_assert_eq(memcmp(buf, "gh", 2), 0);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), -EAGAIN);
}

Test(pipe, last_close_counts)
{
	int p[2];
	char c;

	mkpipe(p, 0);
	/* a fork: the child's table shares the files */
	struct fdtable *child = fdtable_copy(g_task.fdt);
	cr_assert_eq(SC(close, p[1]), 0);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETFL, LINUX_O_NONBLOCK), 0);
	/* the child still holds a writer: no EOF yet */
	cr_assert_eq(SC(read, p[0], U(&c), 1), -EAGAIN);
	fdtable_put(child);
	cr_assert_eq(SC(read, p[0], U(&c), 1), 0);
	/* close-on-exec drops an end too */
	mkpipe(p, LINUX_O_CLOEXEC);
	cr_assert_eq(SC(fcntl, p[0], LINUX_F_SETFD, 0), 0);
	fdtable_close_on_exec(g_task.fdt);
	cr_assert_eq(SC(write, p[0], U("x"), 1), -EBADF);
	cr_assert_eq(SC(read, p[0], U(&c), 1), 0);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_GETFD, 0), -EBADF);
}

/* ---- blocking, with a second thread as another task ---- */

struct op {
	struct task *t;
	int fd;
	const char *data;
	size_t len;
	long ret;
	char buf[64];
	int delay_ms;
};

static void *writer(void *arg)
{
	struct op *o = arg;
	current_task = o->t;
	usleep((useconds_t)o->delay_ms * 1000);
	o->ret = SC2(o->t, write, o->fd, U(o->data), o->len);
	return NULL;
}

static void *signaller(void *arg)
{
	struct op *o = arg;
	usleep((useconds_t)o->delay_ms * 1000);
	stub_signal(o->t, LINUX_SIGUSR1);
	return NULL;
}

Test(pipe, blocking_read_and_write)
{
	int p[2];
	char buf[64];
	pthread_t th;

	mkpipe(p, 0);
	/* g_task2 shares the files, as a forked child would */
	fdtable_put(g_task2.fdt);
	g_task2.fdt = fdtable_copy(g_task.fdt);
	struct op w = {.t = &g_task2, .fd = p[1], .data = "late", .len = 4, .delay_ms = 50};
	pthread_create(&th, NULL, writer, &w);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), 4);
	pthread_join(th, NULL);
	cr_assert_eq(w.ret, 4);

	/* a signal interrupts a blocked read */
	struct op s = {.t = &g_task, .delay_ms = 30};
	pthread_create(&th, NULL, signaller, &s);
	cr_assert_eq(SC(read, p[0], U(buf), sizeof(buf)), -LINUX_ERESTARTSYS);
	pthread_join(th, NULL);
	g_task.pending.set = 0;

	/* a full pipe blocks the writer until the reader drains it */
	static char big[70000];
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_SETFL, LINUX_O_NONBLOCK), 0);
	cr_assert_eq(SC(write, p[1], U(big), sizeof(big)), 65536);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_SETFL, 0), 0);
	struct op w2 = {.t = &g_task2, .fd = p[1], .data = big, .len = 5000};
	pthread_create(&th, NULL, writer, &w2);
	usleep(30000);
	cr_assert_eq(w2.ret, 0, "the writer must still wait");
	cr_assert_eq(SC(read, p[0], U(big), 65536), 65536);
	pthread_join(th, NULL);
	cr_assert_eq(w2.ret, 5000);
	/* a writer interrupted before writing anything: -ERESTARTSYS */
	cr_assert_eq(SC(read, p[0], U(big), 5000), 5000);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_SETFL, LINUX_O_NONBLOCK), 0);
	cr_assert_eq(SC(write, p[1], U(big), 65536 - 1000), 65536 - 1000);
	cr_assert_eq(SC(fcntl, p[1], LINUX_F_SETFL, 0), 0);
	s.delay_ms = 30;
	pthread_create(&th, NULL, signaller, &s);
	cr_assert_eq(SC(write, p[1], U(big), 10000), -LINUX_ERESTARTSYS);
	pthread_join(th, NULL);
	g_task.pending.set = 0;
}

Test(pipe, fifo)
{
	char buf[8];
	cr_assert_eq(SC(mknodat, AT, U("/fifo"), LINUX_S_IFIFO | 0644, 0), 0);
	/* a non-blocking writer without a reader: ENXIO; a non-blocking reader opens */
	cr_assert_eq(SC(openat, AT, U("/fifo"), LINUX_O_WRONLY | LINUX_O_NONBLOCK, 0), -ENXIO);
	long r = SC(openat, AT, U("/fifo"), LINUX_O_RDONLY | LINUX_O_NONBLOCK, 0);
	cr_assert_geq(r, 0);
	long w = SC(openat, AT, U("/fifo"), LINUX_O_WRONLY | LINUX_O_NONBLOCK, 0);
	cr_assert_geq(w, 0);
	cr_assert_eq(SC(write, w, U("fifo"), 4), 4);
	cr_assert_eq(SC(read, r, U(buf), sizeof(buf)), 4);
	cr_assert_eq(SC(lseek, r, 0, LINUX_SEEK_CUR), -ESPIPE);
	struct linux_stat st;
	cr_assert_eq(SC(fstat, r, U(&st)), 0);
	cr_assert_eq(st.st_mode & LINUX_S_IFMT, LINUX_S_IFIFO);
	cr_assert_eq(SC(close, w), 0);
	cr_assert_eq(SC(read, r, U(buf), sizeof(buf)), 0);
	cr_assert_eq(SC(close, r), 0);
	/* O_RDWR never blocks; a blocking O_RDONLY waits for a writer (here: a signal) */
	long rw = SC(openat, AT, U("/fifo"), LINUX_O_RDWR, 0);
	cr_assert_geq(rw, 0);
	cr_assert_eq(SC(close, rw), 0);
	struct op s = {.t = &g_task, .delay_ms = 20};
	pthread_t th;
	pthread_create(&th, NULL, signaller, &s);
	cr_assert_eq(SC(openat, AT, U("/fifo"), LINUX_O_RDONLY, 0), -LINUX_ERESTARTSYS);
	pthread_join(th, NULL);
	g_task.pending.set = 0;
}

/* ---- poll and select ---- */

SYSCALL_DEFINE(poll);
SYSCALL_DEFINE(ppoll);
SYSCALL_DEFINE(select);
SYSCALL_DEFINE(pselect6);

struct pfd {
	int fd;
	short events, revents;
};

Test(pipe, poll_and_select)
{
	int p[2];
	pthread_t th;

	mkpipe(p, 0);
	long f = SC(openat, AT, U("/f"), LINUX_O_CREAT | LINUX_O_RDWR, 0600);
	struct pfd fds[4] = {{p[0], LINUX_POLLIN, 0},
			     {p[1], LINUX_POLLOUT, 0},
			     {(int)f, LINUX_POLLIN | LINUX_POLLOUT, 0},
			     {77, LINUX_POLLIN, 0}};
	cr_assert_eq(SC(poll, U(fds), 4, 0), 3);
	cr_assert_eq(fds[0].revents, 0);
	cr_assert_eq(fds[1].revents, LINUX_POLLOUT);
	cr_assert_eq(fds[2].revents, LINUX_POLLIN | LINUX_POLLOUT);
	cr_assert_eq(fds[3].revents, LINUX_POLLNVAL);
	fds[3].fd = -1;
	cr_assert_eq(SC(poll, U(fds), 4, 0), 2);
	cr_assert_eq(fds[3].revents, 0);
	cr_assert_eq(SC(poll, BAD_ADDR, 1, 0), -EFAULT);
	cr_assert_eq(SC(poll, U(fds), 1u << 20, 0), -EINVAL);

	/* a wait that a write ends */
	fdtable_put(g_task2.fdt);
	g_task2.fdt = fdtable_copy(g_task.fdt);
	struct op w = {.t = &g_task2, .fd = p[1], .data = "x", .len = 1, .delay_ms = 40};
	pthread_create(&th, NULL, writer, &w);
	cr_assert_eq(SC(poll, U(fds), 1, 5000), 1);
	cr_assert_eq(fds[0].revents, LINUX_POLLIN);
	pthread_join(th, NULL);

	/* select: the read set, write set, a timeout that runs out and is written back */
	uint64_t rset = 1ULL << p[0], wset = 1ULL << p[1];
	cr_assert_eq(SC(select, 64, U(&rset), U(&wset), 0, 0), 2);
	char c;
	cr_assert_eq(SC(read, p[0], U(&c), 1), 1);
	rset = 1ULL << p[0];
	struct linux_timeval tv = {0, 20000};
	cr_assert_eq(SC(select, p[0] + 1, U(&rset), 0, 0, U(&tv)), 0);
	cr_assert_eq(rset, 0);
	cr_assert_eq(tv.tv_sec, 0);
	cr_assert_eq(tv.tv_usec, 0);
	tv = (struct linux_timeval){0, -1};
	cr_assert_eq(SC(select, 1, 0, 0, 0, U(&tv)), -EINVAL);
	tv = (struct linux_timeval){0, 2500000}; /* whole seconds in tv_usec are folded */
	rset = 1ULL << p[1] | 1ULL << 40;
	cr_assert_eq(SC(select, 64, U(&rset), 0, 0, U(&tv)), -EBADF);
	/* EOF and POLLHUP once the writers are gone */
	cr_assert_eq(SC(close, p[1]), 0);
	fdtable_put(g_task2.fdt);
	g_task2.fdt = fdtable_create();
	cr_assert_eq(SC(poll, U(fds), 1, -1), 1);
	cr_assert_eq(fds[0].revents, LINUX_POLLHUP);
	rset = 1ULL << p[0];
	cr_assert_eq(SC(select, 64, U(&rset), 0, 0, 0), 1);

	/* ppoll: timespec written back, a bad mask size, a signal ends the wait */
	mkpipe(p, 0);
	fds[0] = (struct pfd){p[0], LINUX_POLLIN, 0};
	struct linux_timespec ts = {0, 30 * 1000 * 1000};
	cr_assert_eq(SC(ppoll, U(fds), 1, U(&ts), 0, 8), 0);
	cr_assert_eq(ts.tv_sec, 0);
	cr_assert_eq(ts.tv_nsec, 0);
	ts = (struct linux_timespec){5, 0};
	uint64_t mask = SIGBIT(LINUX_SIGUSR2);
	cr_assert_eq(SC(ppoll, U(fds), 1, U(&ts), U(&mask), 4), -EINVAL);
	ts = (struct linux_timespec){0, 1000000000};
	cr_assert_eq(SC(ppoll, U(fds), 1, U(&ts), 0, 8), -EINVAL);
	ts = (struct linux_timespec){5, 0};
	g_task.sigmask = SIGBIT(LINUX_SIGUSR1);
	struct op s = {.t = &g_task, .delay_ms = 30};
	pthread_create(&th, NULL, signaller, &s);
	/* the temporary mask unblocks SIGUSR1 for the wait; it stays for the delivery */
	cr_assert_eq(SC(ppoll, U(fds), 1, U(&ts), U(&mask), 8), -LINUX_ERESTARTNOHAND);
	pthread_join(th, NULL);
	cr_assert(g_task.restore_sigmask);
	cr_assert_eq(g_task.sigmask, mask);
	cr_assert_eq(g_task.saved_sigmask, SIGBIT(LINUX_SIGUSR1));
	cr_assert_lt(ts.tv_sec, 5);
	cr_assert_gt(ts.tv_sec, 3);
	/* not interrupted: the old mask is back at once */
	g_task.pending.set = 0;
	g_task.sigmask = SIGBIT(LINUX_SIGUSR1);
	g_task.restore_sigmask = false;
	struct linux_timespec tiny = {0, 1000};
	uint64_t sig[2] = {U(&mask), 8};
	cr_assert_eq(SC(pselect6, 0, 0, 0, 0, U(&tiny), U(sig)), 0);
	cr_assert_not(g_task.restore_sigmask);
	cr_assert_eq(g_task.sigmask, SIGBIT(LINUX_SIGUSR1));
}

/* ---- locks ---- */

static long lk(struct task *t, int fd, int cmd, int type, int64_t start, int64_t len)
{
	struct linux_flock fl = {
	    .l_type = (int16_t)type, .l_whence = LINUX_SEEK_SET, .l_start = start, .l_len = len};
	return SC2(t, fcntl, fd, cmd, U(&fl));
}

static struct linux_flock getlk(struct task *t, int fd, int type, int64_t start, int64_t len)
{
	struct linux_flock fl = {
	    .l_type = (int16_t)type, .l_whence = LINUX_SEEK_SET, .l_start = start, .l_len = len};
	cr_assert_eq(SC2(t, fcntl, fd, LINUX_F_GETLK, U(&fl)), 0);
	return fl;
}

Test(pipe, record_locks)
{
	long fd = SC(openat, AT, U("/lk"), LINUX_O_CREAT | LINUX_O_RDWR, 0600);
	cr_assert_geq(fd, 0);
	/* another process with its own open of the file */
	current_task = &g_task2;
	long fd2 = SC2(&g_task2, openat, AT, U("/lk"), LINUX_O_RDWR, 0);
	current_task = &g_task;
	g_task2.tgid = 2;

	/* the conflict matrix: read/read share, anything with a write conflicts */
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_RDLCK, 0, 10), 0);
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_RDLCK, 5, 10), 0);
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_WRLCK, 5, 1), -EAGAIN);
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_WRLCK, 10, 10), 0);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_WRLCK, 0, 5), 0); /* upgrade, own */
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_WRLCK, 0, 6), -EAGAIN);
	struct linux_flock fl = getlk(&g_task2, fd2, LINUX_F_RDLCK, 0, 0);
	cr_assert_eq(fl.l_type, LINUX_F_WRLCK);
	cr_assert_eq(fl.l_start, 0);
	cr_assert_eq(fl.l_len, 5);
	cr_assert_eq(fl.l_pid, 1);
	fl = getlk(&g_task, fd, LINUX_F_WRLCK, 100, 0);
	cr_assert_eq(fl.l_type, LINUX_F_UNLCK);
	fl = getlk(&g_task, fd, LINUX_F_WRLCK, 12, 1);
	cr_assert_eq(fl.l_type, LINUX_F_WRLCK);
	cr_assert_eq(fl.l_pid, 2);
	/* unlocking the middle of a range splits it */
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_UNLCK, 12, 2), 0);
	cr_assert_eq(getlk(&g_task, fd, LINUX_F_WRLCK, 12, 2).l_type, LINUX_F_UNLCK);
	cr_assert_eq(getlk(&g_task, fd, LINUX_F_WRLCK, 14, 1).l_type, LINUX_F_WRLCK);
	cr_assert_eq(getlk(&g_task, fd, LINUX_F_WRLCK, 11, 1).l_type, LINUX_F_WRLCK);
	/* argument checks */
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, 7, 0, 1), -EINVAL);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_RDLCK, -5, 1), -EINVAL);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_RDLCK, 5, -10), -EINVAL);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_RDLCK, INT64_MAX, 2), -EOVERFLOW);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_GETLK, LINUX_F_UNLCK, 0, 1), -EINVAL);
	long ro = SC(openat, AT, U("/lk"), LINUX_O_RDONLY, 0);
	cr_assert_eq(lk(&g_task, ro, LINUX_F_SETLK, LINUX_F_WRLCK, 50, 1), -EBADF);
	/* closing ANY fd of the file drops the process's locks (POSIX's odd rule) */
	cr_assert_eq(SC(close, ro), 0);
	cr_assert_eq(getlk(&g_task2, fd2, LINUX_F_WRLCK, 0, 5).l_type, LINUX_F_UNLCK);
	/* OFD locks belong to the open file and conflict with POSIX ones */
	struct linux_flock ofd = {.l_type = LINUX_F_WRLCK, .l_start = 30, .l_len = 5, .l_pid = 0};
	cr_assert_eq(SC(fcntl, fd, LINUX_F_OFD_SETLK, U(&ofd)), 0);
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_RDLCK, 32, 1), -EAGAIN);
	fl = getlk(&g_task2, fd2, LINUX_F_RDLCK, 30, 1);
	cr_assert_eq(fl.l_pid, -1);
	ofd.l_pid = 5;
	cr_assert_eq(SC(fcntl, fd, LINUX_F_OFD_SETLK, U(&ofd)), -EINVAL);
	/* ... and also conflict with another open file of the same process */
	long fd3 = SC(openat, AT, U("/lk"), LINUX_O_RDWR, 0);
	struct linux_flock ofd3 = {.l_type = LINUX_F_RDLCK, .l_start = 31, .l_len = 1};
	cr_assert_eq(SC(fcntl, fd3, LINUX_F_OFD_SETLK, U(&ofd3)), -EAGAIN);
	cr_assert_eq(SC(close, fd), 0); /* the last reference of that open file: OFD lock gone */
	cr_assert_eq(SC(fcntl, fd3, LINUX_F_OFD_SETLK, U(&ofd3)), 0);
}

struct lockop {
	struct task *t;
	int fd, type, cmd;
	int64_t start, len;
	long ret;
	int delay_ms;
};

static void *locker(void *arg)
{
	struct lockop *o = arg;
	current_task = o->t;
	usleep((useconds_t)o->delay_ms * 1000);
	o->ret = lk(o->t, o->fd, o->cmd, o->type, o->start, o->len);
	return NULL;
}

Test(pipe, setlkw_and_deadlock)
{
	long fd = SC(openat, AT, U("/lk"), LINUX_O_CREAT | LINUX_O_RDWR, 0600);
	current_task = &g_task2;
	long fd2 = SC2(&g_task2, openat, AT, U("/lk"), LINUX_O_RDWR, 0);
	current_task = &g_task;
	pthread_t th;

	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_WRLCK, 0, 10), 0);
	/* task2 waits for [0,10); then holds [100,110) */
	cr_assert_eq(lk(&g_task2, fd2, LINUX_F_SETLK, LINUX_F_WRLCK, 100, 10), 0);
	struct lockop o = {&g_task2, (int)fd2, LINUX_F_WRLCK, LINUX_F_SETLKW, 0, 10, 1, 0};
	pthread_create(&th, NULL, locker, &o);
	usleep(30000);
	cr_assert_eq(o.ret, 1, "the waiter must still wait");
	/* task1 asking for task2's range would wait for a waiter of its own: EDEADLK */
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLKW, LINUX_F_WRLCK, 100, 1), -EDEADLK);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLK, LINUX_F_UNLCK, 0, 10), 0);
	pthread_join(th, NULL);
	cr_assert_eq(o.ret, 0);
	/* a signal interrupts F_SETLKW */
	struct op s = {.t = &g_task, .delay_ms = 20};
	pthread_create(&th, NULL, signaller, &s);
	cr_assert_eq(lk(&g_task, fd, LINUX_F_SETLKW, LINUX_F_RDLCK, 5, 1), -LINUX_ERESTARTSYS);
	pthread_join(th, NULL);
	g_task.pending.set = 0;
}

SYSCALL_DEFINE(flock);

Test(pipe, flock)
{
	long a = SC(openat, AT, U("/fl"), LINUX_O_CREAT | LINUX_O_RDWR, 0600);
	long b = SC(openat, AT, U("/fl"), LINUX_O_RDONLY, 0);
	long a2 = SC(dup2, a, 20);

	cr_assert_eq(SC(flock, a, LINUX_LOCK_SH | LINUX_LOCK_NB), 0);
	cr_assert_eq(SC(flock, b, LINUX_LOCK_SH | LINUX_LOCK_NB), 0);
	cr_assert_eq(SC(flock, b, LINUX_LOCK_EX | LINUX_LOCK_NB), -EWOULDBLOCK);
	cr_assert_eq(SC(flock, a, LINUX_LOCK_UN), 0);
	cr_assert_eq(SC(flock, b, LINUX_LOCK_EX | LINUX_LOCK_NB), 0);
	cr_assert_eq(SC(flock, a, LINUX_LOCK_SH | LINUX_LOCK_NB), -EWOULDBLOCK);
	cr_assert_eq(SC(flock, a, 0), -EINVAL);
	cr_assert_eq(SC(flock, 99, LINUX_LOCK_SH), -EBADF);
	cr_assert_eq(SC(flock, 99, 0), -EINVAL);
	/* flock and fcntl locks do not see each other */
	cr_assert_eq(lk(&g_task, a, LINUX_F_SETLK, LINUX_F_WRLCK, 0, 0), 0);
	/* the lock belongs to the open file: a dup shares it; closing one fd keeps it */
	cr_assert_eq(SC(close, b), 0);
	cr_assert_eq(SC(flock, a, LINUX_LOCK_EX | LINUX_LOCK_NB), 0);
	cr_assert_eq(SC(flock, a2, LINUX_LOCK_EX | LINUX_LOCK_NB), 0);
	cr_assert_eq(SC(close, a), 0);
	b = SC(openat, AT, U("/fl"), LINUX_O_RDONLY, 0);
	cr_assert_eq(SC(flock, b, LINUX_LOCK_SH | LINUX_LOCK_NB), -EWOULDBLOCK);
	cr_assert_eq(SC(close, a2), 0);
	cr_assert_eq(SC(flock, b, LINUX_LOCK_SH | LINUX_LOCK_NB), 0);
}

/* ---- fd table calls ---- */

Test(pipe, close_range_and_dup)
{
	for (int i = 0; i < 6; i++)
		cr_assert_eq(SC(openat, AT, U("/"), LINUX_O_RDONLY, 0), i);
	cr_assert_eq(SC(close_range, 4, 2, 0), -EINVAL);
	cr_assert_eq(SC(close_range, 0, 10, 1), -EINVAL);
	cr_assert_eq(SC(close_range, 1, 2, 4 /* CLOEXEC */), 0);
	cr_assert_eq(SC(fcntl, 1, LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	cr_assert_eq(SC(fcntl, 3, LINUX_F_GETFD, 0), 0);
	cr_assert_eq(SC(close_range, 3, ~0u, 0), 0);
	cr_assert_eq(SC(fcntl, 3, LINUX_F_GETFD, 0), -EBADF);
	cr_assert_eq(SC(fcntl, 5, LINUX_F_GETFD, 0), -EBADF);
	cr_assert_eq(SC(fcntl, 2, LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	/* CLOSE_RANGE_UNSHARE: a shared table is copied first */
	struct fdtable *shared = fdtable_get_ref(g_task.fdt);
	cr_assert_eq(SC(close_range, 0, 0, 2), 0);
	cr_assert_neq(g_task.fdt, shared);
	struct file *f = fdtable_get(shared, 0);
	cr_assert_not_null(f);
	file_put(f);
	fdtable_put(shared);
	/* F_DUPFD: the lowest free at or above arg, and the limit */
	cr_assert_eq(SC(fcntl, 1, LINUX_F_DUPFD, 0), 0);
	cr_assert_eq(SC(fcntl, 1, LINUX_F_DUPFD_CLOEXEC, 1023), 1023);
	cr_assert_eq(SC(fcntl, 1, LINUX_F_DUPFD, 1024), -EINVAL);
	cr_assert_eq(SC(fcntl, 1, LINUX_F_DUPFD, (uint64_t)-1), -EINVAL);
	cr_assert_eq(SC(fcntl, 1023, LINUX_F_GETFD, 0), LINUX_FD_CLOEXEC);
	cr_assert_eq(SC(dup2, 1, 1), 1);
	cr_assert_eq(SC(dup2, 9, 9), -EBADF);
}

/* ---- attributes ---- */

SYSCALL_DEFINE(chmod);
SYSCALL_DEFINE(fchmod);
SYSCALL_DEFINE(fchmodat2);
SYSCALL_DEFINE(chown);
SYSCALL_DEFINE(utimensat);
SYSCALL_DEFINE(utimes);
SYSCALL_DEFINE(statfs);
SYSCALL_DEFINE(fstatfs);
SYSCALL_DEFINE(newfstatat);
SYSCALL_DEFINE(symlinkat);

static struct linux_stat stat_of(const char *path)
{
	struct linux_stat st;
	cr_assert_eq(SC(newfstatat, AT, U(path), U(&st), LINUX_AT_SYMLINK_NOFOLLOW), 0, "%s", path);
	return st;
}

Test(pipe, attributes)
{
	long fd = SC(openat, AT, U("/a"), LINUX_O_CREAT | LINUX_O_RDWR, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(SC(chmod, U("/a"), 04755), 0);
	cr_assert_eq(stat_of("/a").st_mode, LINUX_S_IFREG | 04755);
	/* chown clears set-user-ID, even for root */
	cr_assert_eq(SC(chown, U("/a"), 1000, 1000), 0);
	struct linux_stat st = stat_of("/a");
	cr_assert_eq(st.st_uid, 1000);
	cr_assert_eq(st.st_gid, 1000);
	cr_assert_eq(st.st_mode, LINUX_S_IFREG | 0755);
	cr_assert_eq(SC(symlinkat, U("a"), AT, U("/l")), 0);
	cr_assert_eq(SC(fchmodat2, AT, U("/l"), 0600, LINUX_AT_SYMLINK_NOFOLLOW), -EOPNOTSUPP);
	cr_assert_eq(SC(fchmodat2, AT, U("/l"), 0600, 0x8000), -EINVAL);

	/* as an unprivileged user */
	g_task.cred.fsuid = 2000;
	g_task.cred.fsgid = 2000;
	cr_assert_eq(SC(chmod, U("/a"), 0777), -EPERM);
	cr_assert_eq(SC(chown, U("/a"), 2000, (uint64_t)-1), -EPERM);
	cr_assert_eq(SC(utimensat, AT, U("/a"), 0, 0), -EACCES);
	g_task.cred.fsuid = 1000;
	cr_assert_eq(SC(chown, U("/a"), (uint64_t)-1, 1000), 0);   /* its own group */
	cr_assert_eq(SC(chown, U("/a"), (uint64_t)-1, 5), -EPERM); /* not a member */
	cr_assert_eq(SC(chmod, U("/a"), 02777), 0);
	cr_assert_eq(stat_of("/a").st_mode, LINUX_S_IFREG | 0777); /* setgid dropped */
	g_task.cred.fsuid = 2000;
	/* writable by all: "now" is allowed, explicit times only for the owner */
	cr_assert_eq(SC(utimensat, AT, U("/a"), 0, 0), 0);
	struct linux_timespec ts[2] = {{100, 0}, {200, 5}};
	cr_assert_eq(SC(utimensat, AT, U("/a"), U(ts), 0), -EPERM);
	g_task.cred.fsuid = g_task.cred.fsgid = 0;
	cr_assert_eq(SC(utimensat, AT, U("/a"), U(ts), 0), 0);
	st = stat_of("/a");
	cr_assert_eq(st.st_atim.tv_sec, 100);
	cr_assert_eq(st.st_mtim.tv_sec, 200);
	cr_assert_eq(st.st_mtim.tv_nsec, 5);
	ts[0].tv_nsec = (1L << 30) - 2; /* UTIME_OMIT */
	ts[1] = (struct linux_timespec){300, 0};
	cr_assert_eq(SC(utimensat, fd, 0, U(ts), 0), 0);
	st = stat_of("/a");
	cr_assert_eq(st.st_atim.tv_sec, 100);
	cr_assert_eq(st.st_mtim.tv_sec, 300);
	ts[1].tv_nsec = 1000000000;
	cr_assert_eq(SC(utimensat, AT, U("/a"), U(ts), 0), -EINVAL);
	struct linux_timeval tv[2] = {{1, 0}, {2, 1000000}};
	cr_assert_eq(SC(utimes, U("/a"), U(tv)), -EINVAL);
	tv[1].tv_usec = 7;
	cr_assert_eq(SC(utimes, U("/a"), U(tv)), 0);
	cr_assert_eq(stat_of("/a").st_mtim.tv_nsec, 7000);

	struct linux_statfs sf;
	cr_assert_eq(SC(statfs, U("/"), U(&sf)), 0);
	cr_assert_eq(sf.f_type, LINUX_TMPFS_MAGIC);
	cr_assert_eq(sf.f_namelen, 255);
	cr_assert_gt(sf.f_blocks, 0);
	int p[2];
	mkpipe(p, 0);
	cr_assert_eq(SC(fstatfs, p[0], U(&sf)), 0);
	cr_assert_eq(sf.f_type, LINUX_PIPEFS_MAGIC);
	cr_assert_eq(SC(fstatfs, 99, U(&sf)), -EBADF);
}

Test(pipe, rename_exchange)
{
	char buf[8];
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/d", 0755), 0);
	long fd = SC(openat, AT, U("/d/x"), LINUX_O_CREAT | LINUX_O_RDWR, 0644);
	cr_assert_eq(SC(write, fd, U("x"), 1), 1);
	cr_assert_eq(SC(close, fd), 0);
	cr_assert_eq(vfs_mkdirat(&g_task, LINUX_AT_FDCWD, "/e", 0755), 0);
	uint64_t ino_x = stat_of("/d/x").st_ino, ino_e = stat_of("/e").st_ino;
	cr_assert_eq(SC(renameat2, AT, U("/d/x"), AT, U("/nope"), 2), -ENOENT);
	cr_assert_eq(SC(renameat2, AT, U("/d/x"), AT, U("/e"), 3), -EINVAL);
	cr_assert_eq(SC(renameat2, AT, U("/d"), AT, U("/d/x"), 2), -EINVAL);
	cr_assert_eq(SC(renameat2, AT, U("/d/x"), AT, U("/e"), 2), 0);
	cr_assert_eq(stat_of("/e").st_ino, ino_x);
	cr_assert_eq(stat_of("/d/x").st_ino, ino_e);
	cr_assert_eq(stat_of("/d").st_nlink, 3); /* the directory moved in */
	fd = SC(openat, AT, U("/e"), LINUX_O_RDONLY, 0);
	cr_assert_eq(SC(read, fd, U(buf), sizeof(buf)), 1);
	/* NOREPLACE */
	cr_assert_eq(SC(renameat2, AT, U("/e"), AT, U("/d"), 1), -EEXIST);
	cr_assert_eq(SC(renameat2, AT, U("/e"), AT, U("/f"), 1), 0);
}
