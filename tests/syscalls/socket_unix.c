/* socket_unix: AF_UNIX sockets. socketpair of every type, bind/listen/accept/connect on paths
 * and abstract names, autobind, SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED, shutdown, the
 * send/recv flags, EPIPE and SIGPIPE, poll readiness, blocking and EINTR, options, fstat and
 * /proc/self/fd, /proc/net/unix. */
#include "sc.h"

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#define SUN_LEN_OF(path) ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1))

static void pair(int type, int sv[2]) { CHECK_OK(socketpair(AF_UNIX, type, 0, sv)); }

static short revents(int fd, short events)
{
	struct pollfd p = {fd, events, 0};

	CHECK_OK(poll(&p, 1, 0));
	return p.revents;
}

static struct sockaddr_un path_addr(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	CHECK(strlen(path) < sizeof(a.sun_path), "path too long");
	strcpy(a.sun_path, path);
	return a;
}

static int getint(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);

	CHECK_OK(getsockopt(fd, level, name, &v, &l));
	CHECK(l == sizeof(v), "optlen %d", (int)l);
	return v;
}

static void test_pair_stream(void)
{
	int sv[2];
	char buf[64];
	struct stat st;

	pair(SOCK_STREAM, sv);
	CHECK(write(sv[0], "hello", 5) == 5, "write");
	CHECK(read(sv[1], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0, "read");
	CHECK(send(sv[1], "back", 4, 0) == 4, "send");
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4, "recv");
	CHECK_OK(fstat(sv[0], &st));
	CHECK(S_ISSOCK(st.st_mode), "mode %o", st.st_mode);
	CHECK((fcntl(sv[0], F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL");
	CHECK_ERR(lseek(sv[0], 0, SEEK_SET), ESPIPE);
	CHECK(getint(sv[0], SOL_SOCKET, SO_TYPE) == SOCK_STREAM, "SO_TYPE");
	CHECK(getint(sv[0], SOL_SOCKET, SO_DOMAIN) == AF_UNIX, "SO_DOMAIN");
	CHECK(getint(sv[0], SOL_SOCKET, SO_PROTOCOL) == 0, "SO_PROTOCOL");
	CHECK(getint(sv[0], SOL_SOCKET, SO_ACCEPTCONN) == 0, "SO_ACCEPTCONN");
	CHECK(getint(sv[0], SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR");
	CHECK(getint(sv[0], SOL_SOCKET, SO_SNDBUF) == 212992, "default SO_SNDBUF");

	char link[64], path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sv[0]);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0, "readlink");
	link[n] = 0;
	CHECK(strncmp(link, "socket:[", 8) == 0 && link[n - 1] == ']', "link %s", link);
	CHECK(strtoull(link + 8, NULL, 10) == st.st_ino, "inode in %s", link);

	struct ucred cr;
	socklen_t l = sizeof(cr);
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK(l == sizeof(cr) && cr.pid == getpid() && cr.uid == geteuid() && cr.gid == getegid(),
	      "peercred %d %d %d", cr.pid, cr.uid, cr.gid);

	struct sockaddr_un a;
	l = sizeof(a);
	CHECK_OK(getsockname(sv[0], (struct sockaddr *)&a, &l));
	CHECK(l == sizeof(sa_family_t) && a.sun_family == AF_UNIX, "unnamed getsockname %d", l);
	l = sizeof(a);
	CHECK_OK(getpeername(sv[0], (struct sockaddr *)&a, &l));
	CHECK(l == sizeof(sa_family_t), "unnamed getpeername %d", l);
	close(sv[0]);
	close(sv[1]);
	ok("socketpair stream: data, fstat S_IFSOCK, socket:[ino], options, SO_PEERCRED, names");
}

static void test_stream_flags(void)
{
	int sv[2];
	char buf[64];

	pair(SOCK_STREAM, sv);
	CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK(revents(sv[0], POLLIN | POLLOUT) == POLLOUT, "fresh pair POLLOUT");
	CHECK(send(sv[0], "abc", 3, 0) == 3, "send");
	CHECK(send(sv[0], "def", 3, 0) == 3, "send");
	CHECK(revents(sv[1], POLLIN | POLLOUT) == (POLLIN | POLLOUT), "POLLIN");
	int avail = 0;
	CHECK_OK(ioctl(sv[1], FIONREAD, &avail));
	CHECK(avail == 6, "FIONREAD %d", avail);
	CHECK(recv(sv[1], buf, sizeof(buf), MSG_PEEK) == 6 && memcmp(buf, "abcdef", 6) == 0,
	      "peek across writes");
	CHECK(recv(sv[1], buf, 2, 0) == 2 && memcmp(buf, "ab", 2) == 0, "partial");
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 4 && memcmp(buf, "cdef", 4) == 0, "rest");
	CHECK(recv(sv[1], buf, 0, MSG_DONTWAIT) == -1 && errno == EAGAIN, "len 0 on empty");

	/* MSG_WAITALL: a child writes in pieces */
	pid_t pid = sc_fork();
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			msleep(10);
			CHECK(write(sv[0], "xy", 2) == 2, "child write");
		}
		_exit(0);
	}
	CHECK(recv(sv[1], buf, 8, MSG_WAITALL) == 8 && memcmp(buf, "xyxyxyxy", 8) == 0, "WAITALL");
	expect_exit(pid, 0);

	/* SHUT_WR: the peer reads EOF, can still send; our writes are EPIPE */
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK(revents(sv[1], POLLIN | POLLRDHUP) == (POLLIN | POLLRDHUP), "peer RDHUP");
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 0, "EOF");
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(send(sv[1], "z", 1, 0) == 1, "the other way still works");
	CHECK(recv(sv[0], buf, 1, 0) == 1 && buf[0] == 'z', "recv other way");
	/* SHUT_RD: the peer's writes are EPIPE */
	CHECK_OK(shutdown(sv[0], SHUT_RD));
	CHECK_ERR(send(sv[1], "z", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(revents(sv[0], POLLIN | POLLOUT | POLLHUP) == (POLLIN | POLLOUT | POLLHUP),
	      "both shut: HUP");
	CHECK_ERR(shutdown(sv[0], 7), EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* close with data left: the reader gets it, then EOF; the writer EPIPE */
	pair(SOCK_STREAM, sv);
	CHECK(send(sv[1], "abc", 3, 0) == 3, "send");
	close(sv[1]);
	CHECK(revents(sv[0], POLLIN | POLLOUT | POLLRDHUP) ==
		  (POLLIN | POLLOUT | POLLHUP | POLLRDHUP),
	      "closed peer: HUP");
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 3, "data before EOF");
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 0, "EOF");
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	close(sv[0]);
	ok("stream: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, FIONREAD, shutdown, EOF, EPIPE, poll");
}

static void sigpipe_child(void)
{
	int sv[2];

	pair(SOCK_STREAM, sv);
	close(sv[1]);
	(void)!write(sv[0], "x", 1);
	_exit(3);
}

static void test_sigpipe(void)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		sigpipe_child();
	expect_killed(pid, SIGPIPE);

	int sv[2];
	pair(SOCK_SEQPACKET, sv);
	close(sv[1]);
	set_disposition(SIGPIPE, SIG_IGN);
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	set_disposition(SIGPIPE, SIG_DFL);
	close(sv[0]);
	ok("EPIPE raises SIGPIPE (write), MSG_NOSIGNAL and SIG_IGN keep it quiet");
}

static void test_records(void)
{
	int sv[2];
	char buf[64];
	struct iovec iov = {buf, 2};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	for (int k = 0; k < 2; k++) {
		int type = k ? SOCK_SEQPACKET : SOCK_DGRAM;
		pair(type, sv);
		CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "second", 6, 0) == 6, "send");
		int avail = 0;
		CHECK_OK(ioctl(sv[1], FIONREAD, &avail));
		CHECK(avail == (k ? 9 : 3), "FIONREAD %d", avail);
		CHECK(recv(sv[1], buf, sizeof(buf), MSG_PEEK) == 3, "peek one record");
		CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3 && memcmp(buf, "one", 3) == 0,
		      "record");
		CHECK(recvmsg(sv[1], &mh, 0) == 2 && (mh.msg_flags & MSG_TRUNC), "truncated");
		CHECK(send(sv[0], "abcdef", 6, 0) == 6, "send");
		CHECK(recv(sv[1], buf, 2, MSG_TRUNC) == 6, "MSG_TRUNC returns the real length");
		CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
		CHECK(send(sv[0], "x", 1, 0) == 1, "send");
		CHECK(recv(sv[1], buf, 0, 0) == 0, "zero-length receive");
		CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
		close(sv[1]);
		if (k) {
			CHECK(recv(sv[0], buf, sizeof(buf), 0) == 0, "seqpacket EOF");
			CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
		} else {
			CHECK_ERR(send(sv[0], "x", 1, 0), ECONNREFUSED);
			CHECK_ERR(send(sv[0], "x", 1, 0), ENOTCONN);
			CHECK_ERR(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
		}
		close(sv[0]);
	}

	/* sendmmsg/recvmmsg */
	pair(SOCK_DGRAM, sv);
	struct mmsghdr mm[3];
	struct iovec iovs[3];
	char bufs[3][8];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "m%d", i);
		iovs[i] = (struct iovec){bufs[i], 2};
		mm[i].msg_hdr.msg_iov = &iovs[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(sv[0], mm, 3, 0) == 3 && mm[2].msg_len == 2, "sendmmsg");
	memset(bufs, 0, sizeof(bufs));
	for (int i = 0; i < 3; i++)
		iovs[i].iov_len = 8;
	CHECK(recvmmsg(sv[1], mm, 3, MSG_DONTWAIT, NULL) == 3, "recvmmsg");
	CHECK(strcmp(bufs[2], "m2") == 0 && mm[1].msg_len == 2, "recvmmsg data");
	CHECK(send(sv[0], "only", 4, 0) == 4, "send");
	CHECK(recvmmsg(sv[1], mm, 3, MSG_WAITFORONE, NULL) == 1, "MSG_WAITFORONE");
	close(sv[0]);
	close(sv[1]);
	ok("datagram and seqpacket: records, MSG_TRUNC, peek, closed peer, sendmmsg/recvmmsg");
}

/* read/write/readv/writev on datagram and seqpacket sockets move whole records, however long
 * (more than 64 KiB here: the Sentry once cut them into 64 KiB records). */
static void test_rw_records(void)
{
	static char big[200000], got[200000];
	int sv[2];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	for (int k = 0; k < 2; k++) {
		int type = k ? SOCK_SEQPACKET : SOCK_DGRAM;
		const char *name = k ? "seqpacket" : "dgram";
		pair(type, sv);
		int sz = 1 << 20;
		CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
		CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)));
		size_t sizes[] = {65536, 65537, 100000, 200000};
		for (int i = 0; i < 4; i++) {
			CHECK(write(sv[0], big, sizes[i]) == (ssize_t)sizes[i], "%s write %zu", name,
			      sizes[i]);
			memset(got, 0, sizes[i]);
			CHECK(read(sv[1], got, sizeof(got)) == (ssize_t)sizes[i] &&
				  memcmp(got, big, sizes[i]) == 0,
			      "%s read one record of %zu", name, sizes[i]);
		}
		CHECK_ERR(recv(sv[1], got, 1, MSG_DONTWAIT), EAGAIN);

		struct iovec wv[3] = {{big, 10}, {big + 10, 70000}, {big + 70010, 5}};
		CHECK(writev(sv[0], wv, 3) == 70015, "%s writev", name);
		struct iovec rv[2] = {{got, 7}, {got + 7, 100000}};
		CHECK(readv(sv[1], rv, 2) == 70015 && memcmp(got, big, 70015) == 0,
		      "%s readv one record", name);

		/* a short read takes the whole record; a read of nothing takes nothing */
		CHECK(write(sv[0], big, 90000) == 90000 && write(sv[0], "next", 4) == 4, "write");
		CHECK(read(sv[1], got, 0) == 0, "%s read of 0", name);
		CHECK(read(sv[1], got, 10) == 10 && memcmp(got, big, 10) == 0, "%s short read", name);
		CHECK(read(sv[1], got, sizeof(got)) == 4 && memcmp(got, "next", 4) == 0,
		      "%s the rest of the record is gone", name);
		close(sv[0]);
		close(sv[1]);
	}
	/* a write of nothing sends an empty datagram */
	pair(SOCK_DGRAM, sv);
	CHECK(write(sv[0], big, 0) == 0 && write(sv[0], "z", 1) == 1, "write");
	CHECK(recv(sv[1], got, sizeof(got), MSG_DONTWAIT) == 0, "the empty datagram");
	CHECK(recv(sv[1], got, sizeof(got), MSG_DONTWAIT) == 1, "then the next one");
	close(sv[0]);
	close(sv[1]);
	ok("datagram and seqpacket: read/write/readv/writev keep records of over 64 KiB whole");
}

static void test_paths(void)
{
	const char *p = tpath("srv.sock");
	struct sockaddr_un a = path_addr(p), got;
	socklen_t l;
	struct stat st;
	char buf[64];

	int s = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(listen(s, 5), EINVAL);
	mode_t old = umask(022);
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	umask(old);
	CHECK_OK(stat(p, &st));
	CHECK(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0755, "socket file %o", st.st_mode);
	CHECK_ERR(open(p, O_RDONLY), ENXIO);
	l = sizeof(got);
	CHECK_OK(getsockname(s, (struct sockaddr *)&got, &l));
	CHECK(l == SUN_LEN_OF(p) && strcmp(got.sun_path, p) == 0, "getsockname %d", l);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	int s2 = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(s2, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	struct sockaddr_un a2 = path_addr(tpath("other.sock"));
	CHECK_ERR(bind(s, (struct sockaddr *)&a2, sizeof(a2)), EINVAL);

	int c = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED);
	struct sockaddr_un none = path_addr(tpath("missing.sock"));
	CHECK_ERR(connect(c, (struct sockaddr *)&none, sizeof(none)), ENOENT);
	write_file(tpath("plain"), "x", 0644);
	struct sockaddr_un plain = path_addr(tpath("plain"));
	CHECK_ERR(connect(c, (struct sockaddr *)&plain, sizeof(plain)), ECONNREFUSED);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(sa_family_t)), EINVAL);
	int d = (int)CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(listen(s, 5));
	CHECK_ERR(connect(d, (struct sockaddr *)&a, sizeof(a)), EPROTOTYPE);
	CHECK(getint(s, SOL_SOCKET, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN");
	CHECK(revents(s, POLLIN) == 0, "idle listener");

	CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), EISCONN);
	CHECK(revents(s, POLLIN) == POLLIN, "listener readable");
	CHECK(send(c, "early", 5, 0) == 5, "send before accept");
	l = sizeof(got);
	int acc = (int)CHECK_OK(accept4(s, (struct sockaddr *)&got, &l, SOCK_CLOEXEC));
	CHECK(l == sizeof(sa_family_t), "unnamed client: addrlen %d", l);
	CHECK(fcntl(acc, F_GETFD) == FD_CLOEXEC, "accept4 SOCK_CLOEXEC");
	CHECK(recv(acc, buf, sizeof(buf), 0) == 5, "data sent before accept");
	l = sizeof(got);
	CHECK_OK(getpeername(c, (struct sockaddr *)&got, &l));
	CHECK(l == SUN_LEN_OF(p) && strcmp(got.sun_path, p) == 0, "client's peer is the path");
	l = sizeof(got);
	CHECK_OK(getsockname(acc, (struct sockaddr *)&got, &l));
	CHECK(strcmp(got.sun_path, p) == 0, "accepted socket's name");
	struct ucred cr;
	l = sizeof(cr);
	CHECK_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK(cr.pid == getpid(), "client's peer cred: the listener");
	CHECK_ERR(accept4(s, NULL, NULL, 0x1234), EINVAL);
	CHECK_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept(s, NULL, NULL), EAGAIN);
	CHECK_OK(fcntl(s, F_SETFL, 0));

	/* a connection from a named socket, from another process; accept blocks for it */
	const char *cp = tpath("client.sock");
	pid_t pid = sc_fork();
	if (pid == 0) {
		struct sockaddr_un ca = path_addr(cp);
		int k = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		msleep(30);
		CHECK_OK(bind(k, (struct sockaddr *)&ca, sizeof(ca)));
		CHECK_OK(connect(k, (struct sockaddr *)&a, sizeof(a)));
		CHECK(send(k, "from child", 10, 0) == 10, "child send");
		struct ucred kc;
		socklen_t kl = sizeof(kc);
		CHECK_OK(getsockopt(k, SOL_SOCKET, SO_PEERCRED, &kc, &kl));
		CHECK(kc.pid == getppid(), "peer cred of the listener's process");
		_exit(0);
	}
	l = sizeof(got);
	int acc2 = (int)CHECK_OK(accept(s, (struct sockaddr *)&got, &l));
	CHECK(l == SUN_LEN_OF(cp) && strcmp(got.sun_path, cp) == 0, "client's name %d", l);
	CHECK(recv(acc2, buf, sizeof(buf), MSG_WAITALL) == 10, "child's data then EOF");
	l = sizeof(cr);
	CHECK_OK(getsockopt(acc2, SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK(cr.pid == pid, "server's peer cred: the child (%d, want %d)", cr.pid, pid);
	expect_exit(pid, 0);

	/* the listener goes away: the file stays, connect is refused */
	close(s);
	CHECK_OK(stat(p, &st));
	int c3 = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c3, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED);
	CHECK_OK(unlink(p));
	CHECK_ERR(connect(c3, (struct sockaddr *)&a, sizeof(a)), ENOENT);
	close(c);
	close(c3);
	close(d);
	close(s2);
	close(acc);
	close(acc2);
	ok("paths: bind creates the socket file, EADDRINUSE, EINVAL, ECONNREFUSED, ENOENT, "
	   "EPROTOTYPE, accept4, names, peer credentials");
}

static void test_backlog(void)
{
	struct sockaddr_un a = path_addr(tpath("backlog.sock"));
	int s = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int c[4], n = 0;

	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s, 1));
	for (int i = 0; i < 4; i++) {
		c[i] = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
		if (connect(c[i], (struct sockaddr *)&a, sizeof(a)) == 0)
			n++;
		else
			CHECK(errno == EAGAIN, "connect %d: %s", i, errname(errno));
	}
	CHECK(n == 2, "backlog 1 takes %d", n);
	/* a blocking connect waits for room */
	pid_t pid = sc_fork();
	if (pid == 0) {
		int k = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_OK(connect(k, (struct sockaddr *)&a, sizeof(a)));
		_exit(0);
	}
	msleep(50);
	close(CHECK_OK(accept(s, NULL, NULL)));
	expect_exit(pid, 0);
	/* the pending connections are reset when the listener closes */
	close(s);
	char b;
	CHECK_ERR(recv(c[1], &b, 1, 0), ECONNRESET);
	CHECK(recv(c[1], &b, 1, 0) == 0, "then EOF");
	for (int i = 0; i < 4; i++)
		close(c[i]);
	ok("listen backlog: EAGAIN when full, blocking connect waits, reset on close");
}

static void test_abstract(void)
{
	char name[32];
	struct sockaddr_un a = {.sun_family = AF_UNIX}, got;
	socklen_t len, l;

	snprintf(name, sizeof(name), "runsc-c-sc-%d", getpid());
	memcpy(a.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	int d = (int)CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(bind(d, (struct sockaddr *)&a, len));
	l = sizeof(got);
	CHECK_OK(getsockname(d, (struct sockaddr *)&got, &l));
	CHECK(l == len && memcmp(&got, &a, len) == 0, "abstract getsockname %d", l);
	int d2 = (int)CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(bind(d2, (struct sockaddr *)&a, len), EADDRINUSE);
	/* a different socket type has its own namespace */
	int st = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(bind(st, (struct sockaddr *)&a, len));
	CHECK_OK(listen(st, 1));

	/* datagrams from an unnamed and from an autobound sender */
	char b[8];
	CHECK(sendto(d2, "u", 1, 0, (struct sockaddr *)&a, len) == 1, "sendto");
	l = sizeof(got);
	CHECK(recvfrom(d, b, sizeof(b), 0, (struct sockaddr *)&got, &l) == 1 && l == 0,
	      "unnamed sender: addrlen %d", l);
	CHECK_OK(bind(d2, (struct sockaddr *)&a, sizeof(sa_family_t)));
	l = sizeof(got);
	CHECK_OK(getsockname(d2, (struct sockaddr *)&got, &l));
	CHECK(l == offsetof(struct sockaddr_un, sun_path) + 6 && got.sun_path[0] == 0, "autobind");
	for (int i = 1; i < 6; i++)
		CHECK(strchr("0123456789abcdef", got.sun_path[i]), "autobind name");
	struct sockaddr_un auto_name = got;
	socklen_t auto_len = l;
	CHECK(sendto(d2, "n", 1, 0, (struct sockaddr *)&a, len) == 1, "sendto");
	l = sizeof(got);
	CHECK(recvfrom(d, b, sizeof(b), 0, (struct sockaddr *)&got, &l) == 1 && l == auto_len &&
		  memcmp(&got, &auto_name, l) == 0,
	      "named sender");
	/* connected datagram sockets */
	CHECK_OK(connect(d2, (struct sockaddr *)&a, len));
	CHECK(send(d2, "c", 1, 0) == 1, "send connected");
	CHECK(recv(d, b, sizeof(b), 0) == 1 && b[0] == 'c', "recv");
	l = sizeof(got);
	CHECK_OK(getpeername(d2, (struct sockaddr *)&got, &l));
	CHECK(l == len, "getpeername");
	int d3 = (int)CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(connect(d, (struct sockaddr *)&auto_name, auto_len));
	CHECK_ERR(sendto(d3, "x", 1, 0, (struct sockaddr *)&a, len), EPERM);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	CHECK_OK(connect(d2, &unspec, sizeof(unspec)));
	CHECK_ERR(send(d2, "x", 1, 0), ENOTCONN);
	int c = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	close(d);
	close(d2);
	close(d3);
	int c2 = (int)CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(connect(c2, (struct sockaddr *)&a, len), ECONNREFUSED);
	close(c);
	close(c2);
	close(st);
	ok("abstract names, autobind, datagram sender names, connected datagrams, EPERM");
}

static int send_fds(int s, const int *fds, int n, const char *data)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (n) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	return (int)sendmsg(s, &mh, 0);
}

/* Receive with room for `room` fds; returns the count of fds got (into fds), flags in *flags. */
static int recv_fds(int s, int *fds, int room, int *flags, int rflags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)], data[16];
	struct iovec iov = {data, sizeof(data)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf};
	int n = 0;

	mh.msg_controllen = room ? CMSG_LEN(sizeof(int) * room) : 0;
	if (!room)
		mh.msg_control = NULL;
	CHECK(recvmsg(s, &mh, rflags) > 0, "recvmsg");
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		CHECK(cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS, "cmsg type");
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds + n, CMSG_DATA(cm), sizeof(int) * k);
		n += k;
	}
	*flags = mh.msg_flags;
	return n;
}

static void test_rights(void)
{
	int sv[2], p[2], got[8], flags;
	char buf[16];

	pair(SOCK_STREAM, sv);
	CHECK_OK(pipe(p));
	/* to another process: it reads through the passed pipe end */
	pid_t pid = sc_fork();
	if (pid == 0) {
		close(sv[0]);
		int n = recv_fds(sv[1], got, 1, &flags, 0);
		CHECK(n == 1 && !(flags & MSG_CTRUNC), "child got %d fds", n);
		CHECK(write(got[0], "via fd", 6) == 6, "write through the passed fd");
		_exit(0);
	}
	CHECK(send_fds(sv[0], &p[1], 1, "f") == 1, "sendmsg SCM_RIGHTS");
	expect_exit(pid, 0);
	CHECK(read(p[0], buf, sizeof(buf)) == 6 && memcmp(buf, "via fd", 6) == 0, "data");

	/* two fds, room for one: one installed, MSG_CTRUNC, the other closed */
	int two[2] = {p[0], p[1]};
	CHECK(send_fds(sv[0], two, 2, "t") == 1, "send two");
	CHECK(recv_fds(sv[1], got, 1, &flags, 0) == 1 && (flags & MSG_CTRUNC), "CTRUNC");
	struct stat a, b;
	CHECK_OK(fstat(got[0], &a));
	CHECK_OK(fstat(p[0], &b));
	CHECK(a.st_ino == b.st_ino, "the same pipe");
	close(got[0]);
	CHECK(send_fds(sv[0], two, 2, "t") == 1, "send two");
	CHECK(recv_fds(sv[1], got, 0, &flags, 0) == 0 && (flags & MSG_CTRUNC), "no room at all");
	/* MSG_CMSG_CLOEXEC */
	CHECK(send_fds(sv[0], p, 1, "c") == 1, "send");
	CHECK(recv_fds(sv[1], got, 2, &flags, MSG_CMSG_CLOEXEC) == 1, "recv");
	CHECK(fcntl(got[0], F_GETFD) == FD_CLOEXEC && (flags & MSG_CMSG_CLOEXEC), "cloexec");
	close(got[0]);
	/* read(2) drops passed fds */
	CHECK(send_fds(sv[0], p, 1, "r") == 1, "send");
	CHECK(read(sv[1], buf, sizeof(buf)) == 1, "read");
	/* bad fds, too many */
	int bad = 999;
	CHECK_ERR(send_fds(sv[0], &bad, 1, "b"), EBADF);
	int many[254];
	char cbuf[CMSG_SPACE(sizeof(many))];
	struct iovec iov = {"m", 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(many));
	for (int i = 0; i < 254; i++)
		many[i] = p[0];
	memcpy(CMSG_DATA(cm), many, sizeof(many));
	CHECK_ERR(sendmsg(sv[0], &mh, 0), EINVAL);
	cm->cmsg_len = CMSG_LEN(sizeof(int) * 253);
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * 253);
	CHECK(sendmsg(sv[0], &mh, 0) == 1, "253 fds");
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 1, "recv (fds dropped)");
	cm->cmsg_len = 4; /* shorter than a header */
	CHECK_ERR(sendmsg(sv[0], &mh, 0), EINVAL);
	/* a socket passed over a socket */
	int inner[2];
	pair(SOCK_DGRAM, inner);
	CHECK(send_fds(sv[0], &inner[0], 1, "s") == 1, "send a socket");
	close(inner[0]);
	CHECK(recv_fds(sv[1], got, 1, &flags, 0) == 1, "recv a socket");
	CHECK(send(got[0], "q", 1, 0) == 1 && recv(inner[1], buf, 1, 0) == 1, "passed socket");
	close(got[0]);
	close(inner[1]);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	ok("SCM_RIGHTS: across processes, MSG_CTRUNC, MSG_CMSG_CLOEXEC, EBADF, SCM_MAX_FD");
}

static void test_creds(void)
{
	int sv[2], one = 1;
	char cbuf[CMSG_SPACE(sizeof(struct ucred))], data[8];
	struct iovec iov = {data, sizeof(data)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

	pair(SOCK_DGRAM, sv);
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	CHECK(getint(sv[1], SOL_SOCKET, SO_PASSCRED) == 1, "SO_PASSCRED");
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK(send(sv[0], "c", 1, 0) == 1, "child send");
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(recvmsg(sv[1], &mh, 0) == 1, "recvmsg");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	CHECK(cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
		  cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)),
	      "SCM_CREDENTIALS");
	struct ucred cr;
	memcpy(&cr, CMSG_DATA(cm), sizeof(cr));
	CHECK(cr.pid == pid && cr.uid == geteuid() && cr.gid == getegid(), "sender's creds");

	/* explicit credentials */
	struct msghdr sm = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	iov.iov_len = 1;
	cm = CMSG_FIRSTHDR(&sm);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cr));
	cr = (struct ucred){getpid(), getuid(), getgid()};
	memcpy(CMSG_DATA(cm), &cr, sizeof(cr));
	CHECK(sendmsg(sv[0], &sm, 0) == 1, "sendmsg creds");
	iov.iov_len = sizeof(data);
	mh.msg_controllen = sizeof(cbuf);
	CHECK(recvmsg(sv[1], &mh, 0) == 1, "recvmsg");
	memcpy(&cr, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(cr));
	CHECK(cr.pid == getpid(), "explicit creds");
	cm->cmsg_len = CMSG_LEN(4);
	iov.iov_len = 1;
	CHECK_ERR(sendmsg(sv[0], &sm, 0), EINVAL);
	/* a control buffer too small: MSG_CTRUNC */
	CHECK(send(sv[0], "s", 1, 0) == 1, "send");
	iov.iov_len = sizeof(data);
	mh.msg_controllen = sizeof(struct cmsghdr);
	CHECK(recvmsg(sv[1], &mh, 0) == 1 && (mh.msg_flags & MSG_CTRUNC), "creds truncated");
	close(sv[0]);
	close(sv[1]);
	ok("SO_PASSCRED and SCM_CREDENTIALS");
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig, got_usr1++; }

static void test_blocking(void)
{
	int sv[2];
	char buf[8];

	/* a blocking recv interrupted by a handler without SA_RESTART: EINTR */
	pair(SOCK_STREAM, sv);
	set_handler(SIGUSR1, (void *)on_usr1, 0);
	pid_t pid = pinger(getpid(), SIGUSR1, 30, 1, -1, 0);
	CHECK_ERR(recv(sv[0], buf, 1, 0), EINTR);
	expect_exit(pid, 0);
	/* with SA_RESTART the recv goes on and gets the byte sent after the signals */
	set_handler(SIGUSR1, (void *)on_usr1, SA_RESTART);
	pid = pinger(getpid(), SIGUSR1, 20, 3, sv[1], 'r');
	CHECK(recv(sv[0], buf, 1, 0) == 1 && buf[0] == 'r', "restarted recv");
	expect_exit(pid, 0);
	CHECK(got_usr1 >= 4, "handlers ran");
	set_disposition(SIGUSR1, SIG_DFL);

	/* SO_RCVTIMEO: EAGAIN after the timeout */
	struct timeval tv = {0, 50000};
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	long t0 = now_ms();
	CHECK_ERR(recv(sv[0], buf, 1, 0), EAGAIN);
	CHECK(now_ms() - t0 >= 40, "timeout waited");

	/* fill a non-blocking socket, then a blocking writer waits for a reader */
	int fl = (int)CHECK_OK(fcntl(sv[0], F_GETFL));
	CHECK_OK(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK));
	static char big[65536];
	long total = 0;
	for (;;) {
		ssize_t n = send(sv[0], big, sizeof(big), 0);
		if (n < 0) {
			CHECK(errno == EAGAIN, "fill: %s", errname(errno));
			break;
		}
		total += n;
	}
	CHECK(total > 0 && !(revents(sv[0], POLLOUT) & POLLOUT), "full: no POLLOUT");
	CHECK_OK(fcntl(sv[0], F_SETFL, fl));
	pid = sc_fork();
	if (pid == 0) {
		msleep(30);
		long got = 0;
		while (got < total + 1000) {
			ssize_t n = read(sv[1], big, sizeof(big));
			CHECK(n > 0, "drain");
			got += n;
		}
		_exit(0);
	}
	CHECK(send(sv[0], big, 1000, 0) == 1000, "blocking send completes once drained");
	expect_exit(pid, 0);
	CHECK(revents(sv[0], POLLOUT) == POLLOUT, "writable again");

	/* select sees a socket become readable */
	pid = sc_fork();
	if (pid == 0) {
		msleep(20);
		CHECK(write(sv[1], "s", 1) == 1, "write");
		_exit(0);
	}
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(sv[0], &rs);
	CHECK(select(sv[0] + 1, &rs, NULL, NULL, NULL) == 1 && FD_ISSET(sv[0], &rs), "select");
	expect_exit(pid, 0);
	close(sv[0]);
	close(sv[1]);
	ok("blocking: EINTR, SA_RESTART, SO_RCVTIMEO, a full socket blocks the writer, select");
}

static void test_options(void)
{
	int s = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0)), v;

	v = 8192;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK(getint(s, SOL_SOCKET, SO_SNDBUF) == 16384, "SO_SNDBUF doubled");
	v = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	CHECK(getint(s, SOL_SOCKET, SO_RCVBUF) == 2304, "SO_RCVBUF minimum");
	v = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	CHECK(getint(s, SOL_SOCKET, SO_REUSEADDR) == 1, "SO_REUSEADDR");
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)), EOPNOTSUPP);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 2), EINVAL);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, IPPROTO_TCP, 1, &v, sizeof(v)), EOPNOTSUPP);
	struct linger lg = {1, 5};
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	socklen_t l = sizeof(lg);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l));
	CHECK(lg.l_onoff == 1 && lg.l_linger == 5, "SO_LINGER");
	struct ucred cr;
	l = sizeof(cr);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK(cr.pid == 0 && cr.uid == (uid_t)-1, "unconnected SO_PEERCRED");
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN);
	char b;
	CHECK_ERR(recv(s, &b, 1, 0), EINVAL);
	CHECK_ERR(getpeername(s, (struct sockaddr *)&cr, &l), ENOTCONN);
	CHECK(revents(s, POLLIN | POLLOUT) == (POLLOUT | POLLHUP), "unconnected stream poll");
	CHECK_OK(shutdown(s, SHUT_RDWR));
	close(s);

	int fds[2];
	CHECK_OK(pipe(fds));
	CHECK_ERR(listen(fds[0], 1), ENOTSOCK);
	CHECK_ERR(listen(999, 1), EBADF);
	close(fds[0]);
	close(fds[1]);
	CHECK_ERR(socket(AF_UNIX, 7, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0), EINVAL);
	CHECK_ERR(socket(99, SOCK_STREAM, 0), EAFNOSUPPORT);
	int nb = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	CHECK(fcntl(nb, F_GETFL) & O_NONBLOCK, "SOCK_NONBLOCK");
	CHECK(fcntl(nb, F_GETFD) == FD_CLOEXEC, "SOCK_CLOEXEC");
	close(nb);
	ok("options: buffers, SO_LINGER, unconnected errors, ENOTSOCK, socket() checks");
}

static void test_proc_net_unix(void)
{
	const char *p = tpath("proc.sock");
	struct sockaddr_un a = path_addr(p);
	static char text[1 << 16];
	int s = (int)CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct stat st;
	char want[64];

	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s, 1));
	CHECK_OK(fstat(s, &st));
	read_file("/proc/net/unix", text, sizeof(text));
	CHECK(strncmp(text, "Num       RefCount Protocol Flags    Type St Inode Path\n", 56) == 0,
	      "header");
	snprintf(want, sizeof(want), " %lu %s\n", (unsigned long)st.st_ino, p);
	char *line = strstr(text, want);
	CHECK(line, "no line for %s", want);
	while (line > text && line[-1] != '\n')
		line--;
	CHECK(strstr(line, ": 00000002 00000000 00010000 0001 01 ") == line + 16, "listener line");
	close(s);
	ok("/proc/net/unix lists a listening socket");
}

int main(void)
{
	test_pair_stream();
	test_stream_flags();
	test_sigpipe();
	test_records();
	test_rw_records();
	test_paths();
	test_backlog();
	test_abstract();
	test_rights();
	test_creds();
	test_blocking();
	test_options();
	test_proc_net_unix();
	return 0;
}
