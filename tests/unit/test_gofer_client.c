/* Unit tests: the client against a lying gofer: every bad reply is -EIO and leaks no fd. */
#include "tests/unit/gofer_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>

#include "abi/linux.h"
#include "gofer/client.h"
#include "gofer/protocol.h"

enum lie {
	LIE_WRONG_TAG,
	LIE_WRONG_TYPE,
	LIE_FD_WITH_STAT,
	LIE_OPEN_NO_FD,
	LIE_OPEN_TWO_FDS,
	LIE_OPEN_WRITABLE_FD,
	LIE_OPEN_PATH_FD,
	LIE_OPEN_SOCKET_FD,
	LIE_OPEN_ERROR_WITH_FD,
	LIE_DENTS_OVER_MAX,
	LIE_DENTS_FLAGS,    /* entries with stats when none were asked for, and vice versa */
	LIE_DENTS_BAD_STAT, /* an entry's stat with no file type */
	LIE_BAD_MODE,
	LIE_OVERSIZED,
	LIE_TRUNCATED,
	LIE_CHANNELS_FEW_FDS,	 /* two channels, one fd */
	LIE_CHANNELS_NOT_SOCKET, /* a file where a connection belongs */
	LIE_CHANNELS_UNSORTED,	 /* the same CPU twice */
	LIE_CHANNELS_ERROR_FD,	 /* -EOPNOTSUPP with an fd */
	LIE_HONEST,		 /* a well-formed STAT reply */
};

static char tmpfile_path[64];

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void send_with_fds(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		_exit(3);
}

/* Answer every request on sock with the given lie, until EOF. Runs in a child. */
static void liar(int sock, enum lie lie)
{
	static uint8_t in[GOFER_MSG_MAX + 1], out[GOFER_MSG_MAX + 200];
	struct gofer_req req;

	for (;;) {
		ssize_t n = recv(sock, in, sizeof(in), 0);
		if (n <= 0)
			_exit(0);
		if (gofer_decode_req(in, (size_t)n, &req) < 0)
			_exit(2);
		struct gofer_rep rep = {.type = req.type, .tag = req.tag};
		int fds[2] = {-1, -1}, nfds = 0;
		size_t off = 0;
		static uint8_t ents[GOFER_DENTS_SPACE];
		switch (lie) {
		case LIE_WRONG_TAG:
			rep.tag++;
			break;
		case LIE_WRONG_TYPE:
			rep.type = GOFER_CLUNK;
			break;
		case LIE_FD_WITH_STAT:
			rep.stat.mode = LINUX_S_IFREG;
			fds[nfds++] = open("/dev/null", O_RDONLY);
			break;
		case LIE_OPEN_NO_FD:
			break;
		case LIE_OPEN_TWO_FDS:
			fds[nfds++] = open("/dev/null", O_RDONLY);
			fds[nfds++] = open("/dev/null", O_RDONLY);
			break;
		case LIE_OPEN_WRITABLE_FD:
			fds[nfds++] = open(tmpfile_path, O_RDWR);
			break;
		case LIE_OPEN_PATH_FD:
			fds[nfds++] = open(tmpfile_path, O_PATH);
			break;
		case LIE_OPEN_SOCKET_FD:
			fds[nfds++] = dup(sock);
			break;
		case LIE_OPEN_ERROR_WITH_FD:
			rep.err = -ENOENT;
			fds[nfds++] = open(tmpfile_path, O_RDONLY);
			break;
		case LIE_DENTS_OVER_MAX:
			for (uint32_t i = 0; i <= req.getdents.max; i++) {
				char name[16];
				snprintf(name, sizeof(name), "e%u", i);
				gofer_dirent_pack(ents, sizeof(ents), &off, i + 1, i + 1,
						  LINUX_DT_REG, name, strlen(name), NULL);
			}
			rep.getdents.count = req.getdents.max + 1;
			rep.getdents.ents = ents;
			rep.getdents.len = (uint32_t)off;
			break;
		case LIE_DENTS_FLAGS:
		case LIE_DENTS_BAD_STAT: {
			struct gofer_stat st = {.mode = LINUX_S_IFREG | 0644};
			uint32_t flags = req.getdents.flags ^ GOFER_GETDENTS_STAT;
			if (lie == LIE_DENTS_BAD_STAT)
				flags = req.getdents.flags;
			gofer_dirent_pack(ents, sizeof(ents), &off, 1, 1, LINUX_DT_REG, "x", 1,
					  (flags & GOFER_GETDENTS_STAT) ? &st : NULL);
			rep.getdents.count = 1;
			rep.getdents.flags = flags;
			rep.getdents.ents = ents;
			rep.getdents.len = (uint32_t)off;
			break;
		}
		case LIE_BAD_MODE:
		case LIE_OVERSIZED:
		case LIE_TRUNCATED:
		case LIE_HONEST:
			rep.stat.mode = LINUX_S_IFDIR | 0755;
			break;
		case LIE_CHANNELS_FEW_FDS:
		case LIE_CHANNELS_NOT_SOCKET:
		case LIE_CHANNELS_UNSORTED:
			rep.channels.count = 2;
			rep.channels.cpu[0] = 0;
			rep.channels.cpu[1] = 1;
			fds[nfds++] = lie == LIE_CHANNELS_NOT_SOCKET ? open(tmpfile_path, O_RDONLY)
								     : dup(sock);
			if (lie != LIE_CHANNELS_FEW_FDS)
				fds[nfds++] = dup(sock);
			break;
		case LIE_CHANNELS_ERROR_FD:
			rep.err = -EOPNOTSUPP;
			fds[nfds++] = dup(sock);
			break;
		default:
			rep.err = -EIO;
			break;
		}
		n = gofer_encode_rep(out, sizeof(out), &rep);
		if (n < 0)
			_exit(4);
		if (lie == LIE_DENTS_BAD_STAT) {
			uint32_t bad = 0644; /* no file type */
			/* count, flags, the entry's ino, next, type, name length, name */
			memcpy(out + GOFER_REP_HDR_SIZE + 8 + GOFER_DIRENT_HDR_SIZE + 1 + 16, &bad,
			       4);
		}
		if (lie == LIE_BAD_MODE) {
			uint32_t bad = 0170777; /* no such file type */
			memcpy(out + GOFER_REP_HDR_SIZE + 16, &bad, 4);
		}
		if (lie == LIE_OVERSIZED) {
			n = GOFER_MSG_MAX + 100;
			uint32_t l = (uint32_t)n;
			memcpy(out + 8, &l, 4);
		}
		if (lie == LIE_TRUNCATED) {
			n -= 1; /* and the header still says the full length */
		}
		if (lie == LIE_CHANNELS_UNSORTED) {
			uint32_t again = 0; /* the second CPU: the first's again */
			memcpy(out + GOFER_REP_HDR_SIZE + 8, &again, 4);
		}
		send_with_fds(sock, out, (size_t)n, fds, nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
}

static struct gofer_client cl;
static pid_t liar_pid;

static void start(enum lie lie)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	liar_pid = fork();
	cr_assert_geq(liar_pid, 0);
	if (liar_pid == 0) {
		close(sv[0]);
		liar(sv[1], lie);
		_exit(0);
	}
	close(sv[1]);
	cr_assert_eq(gofer_client_init(&cl, sv[0]), 0);
}

static void stop(void)
{
	gofer_client_close(&cl);
	cr_assert_eq(gt_wait(liar_pid), 0);
}

static void setup(void)
{
	strcpy(tmpfile_path, "/tmp/gofer-client-XXXXXX");
	int fd = mkstemp(tmpfile_path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void teardown(void) { unlink(tmpfile_path); }

TestSuite(gofer_client, .init = setup, .fini = teardown);

static int ignore_dirent(void *arg, const struct gofer_dirent *e)
{
	(void)arg;
	(void)e;
	return 0;
}

/* Make the call the lie answers; it must fail with -EIO and leave no fd behind. Then the
 * connection is dead: a second call is -EIO without talking to the gofer. */
static void expect_eio(enum lie lie, int call)
{
	struct gofer_stat st;
	struct gofer_dirent d[4];
	int fd = -1;

	start(lie);
	int before = count_fds();
	int r;
	switch (call) {
	case GOFER_OPEN:
		r = gofer_open(&cl, 1, LINUX_O_RDONLY, &fd);
		cr_assert_eq(fd, -1, "fd handed out");
		break;
	case GOFER_GETDENTS:
		r = (int)gofer_getdents(&cl, 0, 0, d, 4, NULL);
		break;
	case GOFER_GETDENTS | GOFER_REPLY: /* a listing with stats */
		r = (int)gofer_readdir(&cl, 0, "a/b", 0, 4, GOFER_GETDENTS_STAT, ignore_dirent,
				       NULL, NULL);
		break;
	case GOFER_CHANNELS:
		r = gofer_client_channels(&cl);
		cr_assert_eq(cl.nchans, 0, "channels kept");
		break;
	default:
		r = gofer_stat(&cl, 0, &st);
		break;
	}
	cr_assert_eq(r, -EIO, "lie %d: %d", lie, r);
	cr_assert_eq(count_fds(), before, "lie %d leaked an fd", lie);
	cr_assert_eq(gofer_stat(&cl, 0, &st), -EIO);
	stop();
}

Test(gofer_client, honest_reply_accepted)
{
	struct gofer_stat st;
	start(LIE_HONEST);
	cr_assert_eq(gofer_stat(&cl, 0, &st), 0);
	cr_assert_eq(st.mode, LINUX_S_IFDIR | 0755);
	cr_assert_eq(gofer_stat(&cl, 0, &st), 0);
	stop();
}

/* Wait for a request on one of socks[0..n); which one had it? The request is answered. */
static int answer_one(const int *socks, int n)
{
	static uint8_t in[GOFER_MSG_MAX + 1], out[512];
	struct pollfd p[3];
	struct gofer_req req;

	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = socks[i], .events = POLLIN};
	if (poll(p, (nfds_t)n, 5000) <= 0)
		_exit(50);
	for (int i = 0; i < n; i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		ssize_t len = recv(socks[i], in, sizeof(in), 0);
		if (len <= 0 || gofer_decode_req(in, (size_t)len, &req) < 0)
			_exit(51);
		struct gofer_rep rep = {.type = req.type, .tag = req.tag};
		rep.stat.mode = LINUX_S_IFDIR | 0755;
		len = gofer_encode_rep(out, sizeof(out), &rep);
		if (len < 0 || send(socks[i], out, (size_t)len, 0) != len)
			_exit(52);
		return i;
	}
	_exit(53);
}

/* After CHANNELS, a request goes over the connection of the CPU its thread is on; from a CPU
 * that has none, over the first. */
Test(gofer_client, channels_carry_their_cpus_requests)
{
	static uint8_t in[GOFER_MSG_MAX + 1], out[512];
	struct gofer_req req;
	struct gofer_stat st;
	cpu_set_t one;
	int sv[2], a[2], b[2];

	/* This thread stays on one CPU; the fake gofer names it and one other. */
	int cpu = sched_getcpu();
	uint32_t other = cpu == 0 ? 1 : 0;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, a), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, b), 0);
	cr_assert_eq(gofer_client_init(&cl, sv[0]), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		ssize_t n = recv(sv[1], in, sizeof(in), 0);
		if (n <= 0 || gofer_decode_req(in, (size_t)n, &req) < 0 ||
		    req.type != GOFER_CHANNELS)
			_exit(10);
		/* channel 0 is this CPU's (a), channel 1 the other one's (b), in CPU order */
		bool mine_first = (uint32_t)cpu < other;
		struct gofer_rep rep = {.type = req.type, .tag = req.tag};
		rep.channels.count = 2;
		rep.channels.cpu[0] = mine_first ? (uint32_t)cpu : other;
		rep.channels.cpu[1] = mine_first ? other : (uint32_t)cpu;
		int fds[2] = {mine_first ? a[0] : b[0], mine_first ? b[0] : a[0]};
		n = gofer_encode_rep(out, sizeof(out), &rep);
		if (n < 0)
			_exit(11);
		send_with_fds(sv[1], out, (size_t)n, fds, 2);
		int socks[3] = {a[1], b[1], sv[1]};
		int first = answer_one(socks, 3), second = answer_one(socks, 3);
		_exit(first == 0 && second == 2 ? 0 : 20 + first * 3 + second);
	}
	close(sv[1]);
	close(a[1]);
	close(b[1]);
	close(a[0]);
	close(b[0]);
	cr_assert_eq(gofer_client_channels(&cl), 0);
	cr_assert_eq(cl.nchans, 2);
	cr_assert_eq(gofer_client_channels(&cl), -EALREADY);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0); /* on this CPU's channel */
	/* A CPU the gofer named no channel for: the first connection. */
	for (uint32_t i = 0; i < cl.nchans; i++)
		cl.chan_cpu[i] += 1000;
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fake gofer: status %#x", status);
	gofer_client_close(&cl);
}

Test(gofer_client, wrong_tag) { expect_eio(LIE_WRONG_TAG, GOFER_STAT); }
Test(gofer_client, wrong_type) { expect_eio(LIE_WRONG_TYPE, GOFER_STAT); }
Test(gofer_client, fd_with_stat) { expect_eio(LIE_FD_WITH_STAT, GOFER_STAT); }
Test(gofer_client, open_without_fd) { expect_eio(LIE_OPEN_NO_FD, GOFER_OPEN); }
Test(gofer_client, open_two_fds) { expect_eio(LIE_OPEN_TWO_FDS, GOFER_OPEN); }
Test(gofer_client, open_writable_fd) { expect_eio(LIE_OPEN_WRITABLE_FD, GOFER_OPEN); }
Test(gofer_client, open_path_fd) { expect_eio(LIE_OPEN_PATH_FD, GOFER_OPEN); }
Test(gofer_client, open_socket_fd) { expect_eio(LIE_OPEN_SOCKET_FD, GOFER_OPEN); }
Test(gofer_client, open_error_with_fd) { expect_eio(LIE_OPEN_ERROR_WITH_FD, GOFER_OPEN); }
Test(gofer_client, dents_over_max) { expect_eio(LIE_DENTS_OVER_MAX, GOFER_GETDENTS); }
Test(gofer_client, dents_stats_not_asked) { expect_eio(LIE_DENTS_FLAGS, GOFER_GETDENTS); }
Test(gofer_client, dents_stats_missing)
{
	expect_eio(LIE_DENTS_FLAGS, GOFER_GETDENTS | GOFER_REPLY);
}
Test(gofer_client, dents_bad_stat) { expect_eio(LIE_DENTS_BAD_STAT, GOFER_GETDENTS | GOFER_REPLY); }
Test(gofer_client, bad_mode) { expect_eio(LIE_BAD_MODE, GOFER_STAT); }
Test(gofer_client, oversized) { expect_eio(LIE_OVERSIZED, GOFER_STAT); }
Test(gofer_client, truncated) { expect_eio(LIE_TRUNCATED, GOFER_STAT); }
Test(gofer_client, channels_fewer_fds) { expect_eio(LIE_CHANNELS_FEW_FDS, GOFER_CHANNELS); }
Test(gofer_client, channels_not_sockets) { expect_eio(LIE_CHANNELS_NOT_SOCKET, GOFER_CHANNELS); }
Test(gofer_client, channels_same_cpu_twice) { expect_eio(LIE_CHANNELS_UNSORTED, GOFER_CHANNELS); }
Test(gofer_client, channels_error_with_fd) { expect_eio(LIE_CHANNELS_ERROR_FD, GOFER_CHANNELS); }

Test(gofer_client, gofer_gone)
{
	struct gofer_stat st;
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	cr_assert_eq(gofer_client_init(&cl, sv[0]), 0);
	cr_assert_eq(gofer_stat(&cl, 0, &st), -EIO);
	gofer_client_close(&cl);
}
