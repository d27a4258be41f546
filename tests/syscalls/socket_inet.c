/* socket_inet: TCP and UDP over loopback (127.0.0.1 and ::1 only). bind with port 0,
 * listen/accept4/connect (blocking and non-blocking), names, data and EOF, shutdown, resets,
 * EPIPE, address reuse, IPv6 with v4-mapped addresses and IPV6_V6ONLY, UDP datagrams with
 * source addresses and connected UDP, options, /proc/net, the interface ioctls, getifaddrs
 * (netlink). Natively this is the host's loopback, in the sandbox the Sentry's. */
#include "sc.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct sockaddr_in lo4(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static struct sockaddr_in6 lo6(uint16_t port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	a.sin6_addr = in6addr_loopback;
	return a;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	CHECK_OK(getsockname(fd, (struct sockaddr *)&ss, &l));
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static short revents(int fd, short events, int timeout)
{
	struct pollfd p = {fd, events, 0};

	CHECK_OK(poll(&p, 1, timeout));
	return p.revents;
}

static int getint(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);

	CHECK_OK(getsockopt(fd, level, name, &v, &l));
	return v;
}

static void setint(int fd, int level, int name, int v)
{
	CHECK_OK(setsockopt(fd, level, name, &v, sizeof(v)));
}

/* A TCP listener on 127.0.0.1:<ephemeral>. */
static int listener4(uint16_t *port)
{
	struct sockaddr_in a = lo4(0);
	int s = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));

	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s, 16));
	*port = port_of(s);
	return s;
}

static int connect4(uint16_t port)
{
	struct sockaddr_in a = lo4(port);
	int c = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));

	CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	return c;
}

static void test_tcp_basic(void)
{
	uint16_t port;
	int s = listener4(&port);
	struct sockaddr_in a, b;
	socklen_t l;
	char buf[64];

	CHECK(port >= 32768 && port <= 60999, "ephemeral port %u", port);
	CHECK(getint(s, SOL_SOCKET, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN");
	CHECK(getint(s, SOL_SOCKET, SO_TYPE) == SOCK_STREAM, "SO_TYPE");
	CHECK(getint(s, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP, "SO_PROTOCOL");
	CHECK(revents(s, POLLIN, 0) == 0, "idle listener");
	int c = connect4(port);
	CHECK(revents(s, POLLIN, 1000) == POLLIN, "listener readable");
	l = sizeof(a);
	int acc = (int)CHECK_OK(accept4(s, (struct sockaddr *)&a, &l, SOCK_NONBLOCK));
	CHECK(l == sizeof(a) && a.sin_family == AF_INET, "accept address");
	CHECK(fcntl(acc, F_GETFL) & O_NONBLOCK, "accept4 SOCK_NONBLOCK");
	l = sizeof(b);
	CHECK_OK(getsockname(c, (struct sockaddr *)&b, &l));
	CHECK(a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr,
	      "accept's address is the client's name");
	CHECK(b.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "client bound to 127.0.0.1");
	l = sizeof(b);
	CHECK_OK(getpeername(c, (struct sockaddr *)&b, &l));
	CHECK(ntohs(b.sin_port) == port, "client's peer");
	l = sizeof(b);
	CHECK_OK(getsockname(acc, (struct sockaddr *)&b, &l));
	CHECK(ntohs(b.sin_port) == port && b.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "server end's name");
	CHECK(revents(c, POLLIN | POLLOUT, 0) == POLLOUT, "connected: writable");

	CHECK(send(c, "hello", 5, 0) == 5, "send");
	CHECK(revents(acc, POLLIN, 1000) == POLLIN, "readable");
	int avail = 0;
	CHECK_OK(ioctl(acc, FIONREAD, &avail));
	CHECK(avail == 5, "FIONREAD %d", avail);
	CHECK(recv(acc, buf, sizeof(buf), MSG_PEEK) == 5, "peek");
	CHECK(recv(acc, buf, sizeof(buf), 0) == 5 && memcmp(buf, "hello", 5) == 0, "recv");
	CHECK_ERR(recv(acc, buf, sizeof(buf), 0), EAGAIN);
	CHECK(write(acc, "world", 5) == 5, "write");
	CHECK(read(c, buf, sizeof(buf)) == 5 && memcmp(buf, "world", 5) == 0, "read");
	l = sizeof(b);
	CHECK(recvfrom(c, buf, 0, MSG_DONTWAIT, (struct sockaddr *)&b, &l) == -1, "nothing");
	CHECK(send(acc, "x", 1, 0) == 1, "send");
	l = sizeof(b);
	CHECK(recvfrom(c, buf, sizeof(buf), 0, (struct sockaddr *)&b, &l) == 1 && l == 0,
	      "TCP recvfrom has no source address (%d)", l);

	/* shutdown(SHUT_WR): EOF at the peer, the other direction still works */
	CHECK_OK(shutdown(c, SHUT_WR));
	CHECK(revents(acc, POLLIN | POLLRDHUP, 1000) == (POLLIN | POLLRDHUP), "peer RDHUP");
	CHECK(recv(acc, buf, sizeof(buf), 0) == 0, "EOF");
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(send(acc, "back", 4, 0) == 4, "send back");
	CHECK(recv(c, buf, 4, MSG_WAITALL) == 4, "recv back");
	close(acc);
	CHECK(recv(c, buf, sizeof(buf), 0) == 0, "EOF after close");
	close(c);
	close(s);
	ok("tcp v4: ephemeral bind, listen, connect, accept4, names, data, FIONREAD, shutdown, "
	   "EOF");
}

static void test_tcp_errors(void)
{
	struct sockaddr_in a = lo4(0);
	char buf[8];

	/* a port bound but not listening: refused */
	int held = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(bind(held, (struct sockaddr *)&a, sizeof(a)));
	uint16_t port = port_of(held);
	struct sockaddr_in to = lo4(port);
	int c = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&to, sizeof(to)), ECONNREFUSED);
	CHECK(revents(c, POLLIN | POLLOUT, 0) == (POLLOUT | POLLHUP), "refused: fresh again");
	CHECK_ERR(recv(c, buf, 1, 0), ENOTCONN);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_ERR(shutdown(c, SHUT_RDWR), ENOTCONN);
	CHECK_ERR(getpeername(c, (struct sockaddr *)&to, &(socklen_t){sizeof(to)}), ENOTCONN);
	close(c);

	/* non-blocking, refused: EINPROGRESS, then POLLERR and SO_ERROR */
	c = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&to, sizeof(to)), EINPROGRESS);
	short ev = revents(c, POLLOUT, 2000);
	CHECK((ev & (POLLOUT | POLLERR | POLLHUP)) == (POLLOUT | POLLERR | POLLHUP), "%#x", ev);
	CHECK(getint(c, SOL_SOCKET, SO_ERROR) == ECONNREFUSED, "SO_ERROR");
	CHECK(getint(c, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR cleared");
	close(c);

	/* address in use, SO_REUSEADDR, SO_REUSEPORT */
	int b2 = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(bind(b2, (struct sockaddr *)&to, sizeof(to)), EADDRINUSE);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port)};
	CHECK_ERR(bind(b2, (struct sockaddr *)&any, sizeof(any)), EADDRINUSE);
	CHECK_OK(listen(held, 1));
	setint(held, SOL_SOCKET, SO_REUSEADDR, 1);
	setint(b2, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_ERR(bind(b2, (struct sockaddr *)&to, sizeof(to)), EADDRINUSE);
	close(b2);
	close(held);
	int r1 = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	int r2 = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	setint(r1, SOL_SOCKET, SO_REUSEPORT, 1);
	setint(r2, SOL_SOCKET, SO_REUSEPORT, 1);
	CHECK(getint(r2, SOL_SOCKET, SO_REUSEPORT) == 1, "SO_REUSEPORT");
	a = lo4(0);
	CHECK_OK(bind(r1, (struct sockaddr *)&a, sizeof(a)));
	to = lo4(port_of(r1));
	CHECK_OK(bind(r2, (struct sockaddr *)&to, sizeof(to)));
	CHECK_OK(listen(r1, 1));
	CHECK_OK(listen(r2, 1));
	close(r1);
	close(r2);
	/* a closed listener's port is free again (no TIME_WAIT without connections) */
	held = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(bind(held, (struct sockaddr *)&to, sizeof(to)));
	CHECK_ERR(bind(held, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	close(held);

	int s = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(accept(s, NULL, NULL), EINVAL);
	struct sockaddr_in6 six = lo6(1);
	CHECK_ERR(bind(s, (struct sockaddr *)&six, sizeof(six)), EAFNOSUPPORT);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 8), EINVAL);
	CHECK_ERR(connect(s, (struct sockaddr *)&a, 8), EINVAL);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}), EOPNOTSUPP);
	close(s);
	ok("tcp errors: ECONNREFUSED blocking and not, EADDRINUSE, SO_REUSEADDR/REUSEPORT, "
	   "ENOTCONN, EPIPE, EINVAL, EAFNOSUPPORT");
}

static void test_tcp_nonblocking(void)
{
	uint16_t port;
	int s = listener4(&port);
	struct sockaddr_in a = lo4(port);
	int c = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(r == 0 || errno == EINPROGRESS, "non-blocking connect: %s", errname(errno));
	CHECK(revents(c, POLLOUT, 2000) == POLLOUT, "writable once connected");
	CHECK(getint(c, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR 0");
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EISCONN, "again");
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), EISCONN);
	int acc = (int)CHECK_OK(accept(s, NULL, NULL));

	/* fill to EAGAIN, drain from another process, writable again */
	static char big[65536];
	long total = 0;
	for (;;) {
		ssize_t n = send(c, big, sizeof(big), 0);
		if (n < 0) {
			CHECK(errno == EAGAIN, "fill: %s", errname(errno));
			break;
		}
		total += n;
	}
	CHECK(total > 0, "sent some");
	pid_t pid = sc_fork();
	if (pid == 0) {
		long got = 0;
		while (got < total) {
			ssize_t n = recv(acc, big, sizeof(big), 0);
			CHECK(n > 0, "drain");
			got += n;
		}
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(revents(c, POLLOUT, 2000) == POLLOUT, "writable after the drain");
	close(c);
	close(acc);
	close(s);
	ok("tcp non-blocking: connect EINPROGRESS, writable with SO_ERROR 0, EISCONN, EAGAIN");
}

static void test_tcp_transfer(void)
{
	uint16_t port;
	int s = listener4(&port);
	const long total = 4 << 20;

	/* 4 MiB from a child, checked byte for byte */
	pid_t pid = sc_fork();
	if (pid == 0) {
		static unsigned char out[100000];
		int c = connect4(port);
		long sent = 0;
		while (sent < total) {
			size_t n = (size_t)(total - sent) < sizeof(out) ? (size_t)(total - sent)
									: sizeof(out);
			for (size_t i = 0; i < n; i++)
				out[i] = (unsigned char)((sent + (long)i) * 7);
			ssize_t w = send(c, out, n, 0);
			CHECK(w > 0, "send");
			sent += w;
		}
		_exit(0);
	}
	int acc = (int)CHECK_OK(accept(s, NULL, NULL));
	static unsigned char in[70000];
	long got = 0;
	for (;;) {
		ssize_t n = recv(acc, in, sizeof(in), MSG_WAITALL);
		CHECK(n >= 0, "recv");
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			CHECK(in[i] == (unsigned char)((got + i) * 7), "byte %ld", got + i);
		got += n;
	}
	CHECK(got == total, "got %ld", got);
	expect_exit(pid, 0);
	close(acc);

	/* many short connections */
	for (int i = 0; i < 50; i++) {
		int c = connect4(port);
		int k = (int)CHECK_OK(accept(s, NULL, NULL));
		CHECK(send(c, "p", 1, 0) == 1 && recv(k, in, 1, 0) == 1, "ping %d", i);
		close(c);
		close(k);
	}
	close(s);
	ok("tcp: 4 MiB between processes, 50 connections");
}

static void test_tcp_close(void)
{
	uint16_t port;
	int s = listener4(&port);
	char buf[8];

	/* the peer closed: the first send is answered by a reset, then EPIPE */
	int c = connect4(port);
	int acc = (int)CHECK_OK(accept(s, NULL, NULL));
	close(acc);
	CHECK(revents(c, POLLIN | POLLRDHUP, 1000) == (POLLIN | POLLRDHUP), "FIN seen");
	int i, e = 0;
	for (i = 0; i < 50; i++) {
		if (send(c, "x", 1, MSG_NOSIGNAL) < 0) {
			e = errno;
			break;
		}
		msleep(1);
	}
	CHECK(e == EPIPE && i >= 1, "EPIPE after %d sends (%s)", i, errname(e));
	CHECK(recv(c, buf, 1, 0) == 0, "EOF");
	close(c);

	/* unread data at close: reset, ECONNRESET at the peer */
	c = connect4(port);
	acc = (int)CHECK_OK(accept(s, NULL, NULL));
	CHECK(send(c, "unread", 6, 0) == 6, "send");
	CHECK(revents(acc, POLLIN, 1000) == POLLIN, "arrived");
	close(acc);
	short ev = revents(c, POLLIN, 1000);
	CHECK((ev & (POLLIN | POLLERR | POLLHUP)) == (POLLIN | POLLERR | POLLHUP), "reset %#x", ev);
	CHECK_ERR(recv(c, buf, 1, 0), ECONNRESET);
	CHECK(recv(c, buf, 1, 0) == 0, "then EOF");
	close(c);

	/* SO_LINGER {1, 0}: close resets */
	c = connect4(port);
	acc = (int)CHECK_OK(accept(s, NULL, NULL));
	struct linger lg = {1, 0};
	CHECK_OK(setsockopt(acc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(acc);
	CHECK(revents(c, POLLIN, 1000) & POLLERR, "linger reset");
	CHECK_ERR(recv(c, buf, 1, 0), ECONNRESET);
	close(c);

	/* pending connections are reset when the listener closes */
	c = connect4(port);
	close(s);
	CHECK(revents(c, POLLIN, 1000) & POLLERR, "listener gone");
	CHECK_ERR(recv(c, buf, 1, 0), ECONNRESET);
	close(c);

	/* a blocking accept and a blocking recv woken by another process */
	s = listener4(&port);
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(30);
		int k = connect4(port);
		msleep(30);
		CHECK(send(k, "late", 4, 0) == 4, "send");
		_exit(0);
	}
	acc = (int)CHECK_OK(accept(s, NULL, NULL));
	CHECK(recv(acc, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "late", 4) == 0, "late data");
	expect_exit(pid, 0);
	close(acc);
	close(s);
	ok("tcp close: reset after the peer closed, EPIPE, ECONNRESET, SO_LINGER 0, "
	   "blocking accept/recv");
}

static void test_tcp6(void)
{
	struct sockaddr_in6 a = lo6(0), got;
	socklen_t l;
	char buf[8];

	int s = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK(getint(s, IPPROTO_IPV6, IPV6_V6ONLY) == 0, "V6ONLY default");
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s, 4));
	uint16_t port = port_of(s);
	struct sockaddr_in6 to = lo6(port);
	int c = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&to, sizeof(to)));
	l = sizeof(got);
	int acc = (int)CHECK_OK(accept(s, (struct sockaddr *)&got, &l));
	CHECK(l == sizeof(got) && got.sin6_family == AF_INET6 &&
		  IN6_IS_ADDR_LOOPBACK(&got.sin6_addr),
	      "::1 peer");
	CHECK(send(c, "six", 3, 0) == 3 && recv(acc, buf, 3, 0) == 3, "data over ::1");
	close(acc);
	close(c);
	close(s);

	/* a dual-stack listener on :: takes v4 connections, seen v4-mapped */
	s = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	a = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s, 4));
	port = port_of(s);
	c = connect4(port);
	l = sizeof(got);
	acc = (int)CHECK_OK(accept(s, (struct sockaddr *)&got, &l));
	CHECK(IN6_IS_ADDR_V4MAPPED(&got.sin6_addr) && got.sin6_addr.s6_addr[12] == 127 &&
		  got.sin6_addr.s6_addr[15] == 1,
	      "v4-mapped peer");
	l = sizeof(got);
	CHECK_OK(getsockname(acc, (struct sockaddr *)&got, &l));
	CHECK(IN6_IS_ADDR_V4MAPPED(&got.sin6_addr) && ntohs(got.sin6_port) == port, "own name");
	close(acc);
	close(c);
	/* a v6 socket connects to a v4 listener through a v4-mapped address */
	uint16_t p4;
	int s4 = listener4(&p4);
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = htons(p4)};
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	c = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&mapped, sizeof(mapped)));
	struct sockaddr_in peer4;
	l = sizeof(peer4);
	acc = (int)CHECK_OK(accept(s4, (struct sockaddr *)&peer4, &l));
	CHECK(l == sizeof(peer4) && peer4.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "v4 peer");
	close(acc);
	close(c);
	/* IPV6_V6ONLY: no v4 */
	int s6 = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	setint(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK(getint(s6, IPPROTO_IPV6, IPV6_V6ONLY) == 1, "V6ONLY");
	a.sin6_port = htons(p4); /* the v4 listener holds p4 on 127.0.0.1 only */
	CHECK_OK(bind(s6, (struct sockaddr *)&a, sizeof(a)));
	CHECK_ERR(setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &(int){0}, sizeof(int)), EINVAL);
	int c6 = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	setint(c6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK_ERR(connect(c6, (struct sockaddr *)&mapped, sizeof(mapped)), ENETUNREACH);
	int dual = (int)CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_ERR(bind(dual, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	close(dual);
	close(c6);
	close(s6);
	close(s4);
	close(s);
	ok("tcp v6: ::1, dual-stack :: with v4-mapped peers, v4-mapped connect, IPV6_V6ONLY");
}

static void test_udp(void)
{
	struct sockaddr_in a = lo4(0), from;
	socklen_t l;
	char buf[64];

	int r = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK(getint(r, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP, "SO_PROTOCOL");
	CHECK_OK(bind(r, (struct sockaddr *)&a, sizeof(a)));
	uint16_t port = port_of(r);
	struct sockaddr_in to = lo4(port);
	int s = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK(revents(s, POLLIN | POLLOUT, 0) == POLLOUT, "fresh udp");
	CHECK_ERR(send(s, "x", 1, 0), EDESTADDRREQ);
	CHECK_ERR(recv(s, buf, 1, MSG_DONTWAIT), EAGAIN);
	CHECK(sendto(s, "one", 3, 0, (struct sockaddr *)&to, sizeof(to)) == 3, "sendto");
	CHECK(sendto(s, "second", 6, 0, (struct sockaddr *)&to, sizeof(to)) == 6, "sendto");
	CHECK(revents(r, POLLIN, 1000) & POLLIN, "readable");
	int avail = 0;
	CHECK_OK(ioctl(r, FIONREAD, &avail));
	CHECK(avail == 3, "FIONREAD: the next datagram (%d)", avail);
	l = sizeof(from);
	CHECK(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l) == 3, "recvfrom");
	CHECK(l == sizeof(from) && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		  ntohs(from.sin_port) == port_of(s),
	      "source address");
	struct iovec iov = {buf, 2};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_name = &from, .msg_namelen = sizeof(from)};
	CHECK(recvmsg(r, &mh, 0) == 2 && (mh.msg_flags & MSG_TRUNC), "truncated");
	CHECK(mh.msg_namelen == sizeof(from), "recvmsg name");
	CHECK(sendto(s, "abcdef", 6, 0, (struct sockaddr *)&to, sizeof(to)) == 6, "sendto");
	CHECK(recv(r, buf, 1, MSG_TRUNC) == 6, "MSG_TRUNC");
	CHECK(sendto(s, "", 0, 0, (struct sockaddr *)&to, sizeof(to)) == 0, "empty datagram");
	CHECK(recv(r, buf, sizeof(buf), 0) == 0, "empty datagram received");
	static char huge[70000];
	CHECK_ERR(sendto(s, huge, sizeof(huge), 0, (struct sockaddr *)&to, sizeof(to)), EMSGSIZE);
	to.sin_port = 0;
	CHECK_ERR(sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), EINVAL);
	to.sin_port = htons(port);

	/* connected UDP: only the peer's datagrams come in */
	int c = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&to, sizeof(to)));
	CHECK(send(c, "conn", 4, 0) == 4, "send connected");
	l = sizeof(from);
	CHECK(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l) == 4, "recv");
	CHECK(ntohs(from.sin_port) == port_of(c), "from the connected socket");
	CHECK(sendto(r, "reply", 5, 0, (struct sockaddr *)&from, l) == 5, "reply");
	struct sockaddr_in cname = lo4(port_of(c));
	CHECK(sendto(s, "stray", 5, 0, (struct sockaddr *)&cname, sizeof(cname)) == 5, "stray");
	CHECK(recv(c, buf, sizeof(buf), 0) == 5 && memcmp(buf, "reply", 5) == 0, "reply only");
	CHECK_ERR(recv(c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	l = sizeof(from);
	CHECK_OK(getpeername(c, (struct sockaddr *)&from, &l));
	CHECK(ntohs(from.sin_port) == port, "getpeername");
	CHECK_ERR(getpeername(s, (struct sockaddr *)&from, &l), ENOTCONN);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	CHECK_OK(connect(c, &unspec, sizeof(unspec)));
	CHECK_ERR(send(c, "x", 1, 0), EDESTADDRREQ);

	/* connected to a port nobody has: the port-unreachable comes back as ECONNREFUSED */
	int held = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	a = lo4(0);
	CHECK_OK(bind(held, (struct sockaddr *)&a, sizeof(a))); /* a TCP port: no UDP on it */
	struct sockaddr_in nobody = lo4(port_of(held));
	int u = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	bool free_port = true;
	{
		/* make sure no UDP socket has that port (the host may run anything) */
		int probe = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
		if (bind(probe, (struct sockaddr *)&nobody, sizeof(nobody)) < 0)
			free_port = false;
		close(probe);
	}
	if (free_port) {
		CHECK_OK(connect(u, (struct sockaddr *)&nobody, sizeof(nobody)));
		CHECK(send(u, "x", 1, 0) == 1, "first send succeeds");
		CHECK(revents(u, POLLIN, 2000) & POLLERR, "error pending");
		CHECK(getint(u, SOL_SOCKET, SO_ERROR) == ECONNREFUSED, "ECONNREFUSED");
	}
	close(u);
	close(held);

	/* dual-stack UDP: a v6 socket receives v4 datagrams from v4-mapped sources */
	int u6 = (int)CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any}, from6;
	CHECK_OK(bind(u6, (struct sockaddr *)&any6, sizeof(any6)));
	to = lo4(port_of(u6));
	CHECK(sendto(s, "v4", 2, 0, (struct sockaddr *)&to, sizeof(to)) == 2, "to dual-stack");
	l = sizeof(from6);
	CHECK(recvfrom(u6, buf, sizeof(buf), 0, (struct sockaddr *)&from6, &l) == 2, "recv");
	CHECK(l == sizeof(from6) && IN6_IS_ADDR_V4MAPPED(&from6.sin6_addr) &&
		  ntohs(from6.sin6_port) == port_of(s),
	      "v4-mapped source");
	struct sockaddr_in6 t6 = lo6(port_of(u6));
	int s6 = (int)CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	CHECK(sendto(s6, "v6", 2, 0, (struct sockaddr *)&t6, sizeof(t6)) == 2, "over ::1");
	l = sizeof(from6);
	CHECK(recvfrom(u6, buf, sizeof(buf), 0, (struct sockaddr *)&from6, &l) == 2 &&
		  IN6_IS_ADDR_LOOPBACK(&from6.sin6_addr),
	      "::1 source");

	/* sendmmsg / recvmmsg */
	struct mmsghdr mm[2];
	struct iovec iv[2] = {{"m0", 2}, {"m1", 2}};
	memset(mm, 0, sizeof(mm));
	to = lo4(port);
	for (int i = 0; i < 2; i++) {
		mm[i].msg_hdr.msg_iov = &iv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &to;
		mm[i].msg_hdr.msg_namelen = sizeof(to);
	}
	CHECK(sendmmsg(s, mm, 2, 0) == 2, "sendmmsg");
	char b0[4], b1[4];
	iv[0] = (struct iovec){b0, 4};
	iv[1] = (struct iovec){b1, 4};
	for (int i = 0; i < 2; i++)
		mm[i].msg_hdr.msg_name = NULL;
	CHECK(revents(r, POLLIN, 1000) & POLLIN, "readable");
	CHECK(recvmmsg(r, mm, 2, MSG_WAITFORONE, NULL) >= 1, "recvmmsg");
	CHECK(memcmp(b0, "m0", 2) == 0, "first of the batch");

	CHECK_ERR(listen(r, 1), EOPNOTSUPP);
	CHECK_ERR(accept(r, NULL, NULL), EOPNOTSUPP);
	CHECK_ERR(shutdown(s, SHUT_RD), ENOTCONN);
	close(s6);
	close(u6);
	close(c);
	close(s);
	close(r);
	ok("udp: sendto/recvfrom with sources, MSG_TRUNC, EMSGSIZE, EDESTADDRREQ, connected UDP, "
	   "ECONNREFUSED, dual-stack, sendmmsg/recvmmsg");
}

static void test_options(void)
{
	int s = (int)CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct linger lg = {1, 7};
	socklen_t l;

	CHECK(getint(s, IPPROTO_TCP, TCP_NODELAY) == 0, "TCP_NODELAY default");
	setint(s, IPPROTO_TCP, TCP_NODELAY, 1);
	CHECK(getint(s, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY");
	setint(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	CHECK(getint(s, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE");
	setint(s, IPPROTO_TCP, TCP_KEEPIDLE, 30);
	CHECK(getint(s, IPPROTO_TCP, TCP_KEEPIDLE) == 30, "TCP_KEEPIDLE");
	CHECK_ERR(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &(int){0}, sizeof(int)), EINVAL);
	setint(s, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK(getint(s, SOL_SOCKET, SO_REUSEADDR) == 1, "SO_REUSEADDR");
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	l = sizeof(lg);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l));
	CHECK(l == sizeof(lg) && lg.l_onoff == 1 && lg.l_linger == 7, "SO_LINGER");
	setint(s, SOL_SOCKET, SO_SNDBUF, 10000);
	CHECK(getint(s, SOL_SOCKET, SO_SNDBUF) == 20000, "SO_SNDBUF doubled");
	setint(s, SOL_SOCKET, SO_RCVBUF, 1);
	CHECK(getint(s, SOL_SOCKET, SO_RCVBUF) == 2304, "SO_RCVBUF minimum");
	CHECK(getint(s, IPPROTO_IP, IP_TTL) == 64, "IP_TTL");
	setint(s, IPPROTO_IP, IP_TOS, 0x10);
	CHECK(getint(s, IPPROTO_IP, IP_TOS) == 0x10, "IP_TOS");
	CHECK_ERR(setsockopt(s, IPPROTO_TCP, 9999, &(int){1}, sizeof(int)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &(int){1}, 2), EINVAL);
	CHECK_ERR(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &(int){0}, &(socklen_t){4}), EOPNOTSUPP);
	struct tcp_info ti;
	l = sizeof(ti);
	CHECK_OK(getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &l));
	CHECK(ti.tcpi_state == TCP_CLOSE, "TCP_INFO state %d", ti.tcpi_state);
	struct timeval tv = {0, 30000};
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int u = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = lo4(0);
	CHECK_OK(bind(u, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char b;
	long t0 = now_ms();
	CHECK_ERR(recv(u, &b, 1, 0), EAGAIN);
	CHECK(now_ms() - t0 >= 20, "SO_RCVTIMEO waited");
	CHECK_ERR(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)), ENOPROTOOPT);
	close(u);
	close(s);
	ok("options: TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE, SO_REUSEADDR, SO_LINGER, buffers, "
	   "IP_TTL/IP_TOS, TCP_INFO, SO_RCVTIMEO");
}

static void test_proc_net(void)
{
	static char text[1 << 17];
	uint16_t port;
	int s = listener4(&port);
	char want[64];

	read_file("/proc/net/tcp", text, sizeof(text));
	CHECK(strncmp(text, "  sl  local_address rem_address   st tx_queue", 45) == 0, "header");
	snprintf(want, sizeof(want), ": 0100007F:%04X 00000000:0000 0A ", port);
	CHECK(strstr(text, want), "no %s in /proc/net/tcp", want);

	int u = (int)CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 a6 = lo6(0);
	CHECK_OK(bind(u, (struct sockaddr *)&a6, sizeof(a6)));
	read_file("/proc/net/udp6", text, sizeof(text));
	snprintf(want, sizeof(want), ": 00000000000000000000000001000000:%04X ", port_of(u));
	CHECK(strstr(text, want), "no %s in /proc/net/udp6", want);
	read_file("/proc/net/dev", text, sizeof(text));
	CHECK(strstr(text, "\n    lo:"), "lo in /proc/net/dev");
	close(u);
	close(s);
	ok("/proc/net/tcp, udp6 and dev");
}

static void test_interfaces(void)
{
	int s = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq ifr;
	struct ifreq reqs[16];
	struct ifconf ic = {.ifc_len = sizeof(reqs), .ifc_req = reqs};
	bool found = false;

	CHECK_OK(ioctl(s, SIOCGIFCONF, &ic));
	for (size_t i = 0; i < ic.ifc_len / sizeof(struct ifreq); i++) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&reqs[i].ifr_addr;
		if (strcmp(reqs[i].ifr_name, "lo") == 0 &&
		    sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			found = true;
	}
	CHECK(found, "SIOCGIFCONF lists lo 127.0.0.1");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	CHECK_OK(ioctl(s, SIOCGIFFLAGS, &ifr));
	CHECK((ifr.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)) ==
		  (IFF_UP | IFF_LOOPBACK | IFF_RUNNING),
	      "lo flags %#x", ifr.ifr_flags);
	CHECK_OK(ioctl(s, SIOCGIFINDEX, &ifr));
	int idx = ifr.ifr_ifindex;
	CHECK(idx == (int)if_nametoindex("lo"), "SIOCGIFINDEX");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = idx;
	CHECK_OK(ioctl(s, SIOCGIFNAME, &ifr));
	CHECK(strcmp(ifr.ifr_name, "lo") == 0, "SIOCGIFNAME");
	strcpy(ifr.ifr_name, "no-such-if0");
	CHECK_ERR(ioctl(s, SIOCGIFFLAGS, &ifr), ENODEV);
	close(s);

	/* getifaddrs (netlink RTM_GETLINK and RTM_GETADDR dumps in glibc) */
	struct ifaddrs *ifa;
	bool v4 = false, v6 = false;
	CHECK_OK(getifaddrs(&ifa));
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (strcmp(p->ifa_name, "lo") != 0 || !p->ifa_addr)
			continue;
		CHECK(p->ifa_flags & IFF_LOOPBACK, "IFF_LOOPBACK");
		if (p->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			v4 = true;
		if (p->ifa_addr->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr))
			v6 = true;
	}
	freeifaddrs(ifa);
	CHECK(v4 && v6, "getifaddrs: lo 127.0.0.1 %d ::1 %d", v4, v6);
	struct if_nameindex *ni = if_nameindex(), *q;
	CHECK(ni, "if_nameindex");
	for (q = ni; q->if_index && strcmp(q->if_name, "lo") != 0; q++)
		;
	CHECK(q->if_index == (unsigned)idx, "if_nameindex lists lo");
	if_freenameindex(ni);
	ok("interfaces: SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFNAME, getifaddrs, "
	   "if_nameindex");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_tcp_basic();
	test_tcp_errors();
	test_tcp_nonblocking();
	test_tcp_transfer();
	test_tcp_close();
	test_tcp6();
	test_udp();
	test_options();
	test_proc_net();
	test_interfaces();
	return 0;
}
