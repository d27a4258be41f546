/* Unit tests for the pure parts of the network stack (sentry/net/addr.c): parsing and formatting
 * inet and unix addresses, which local addresses a socket may bind, the loopback-only routing of
 * the sandbox (ENETUNREACH for anything else: tested here, never on the wire), and the choice of
 * ephemeral ports. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "sentry/net/net_impl.h"

static struct net_addr v4addr(const char *ip, uint16_t port)
{
	struct net_addr a = {.len = sizeof(struct linux_sockaddr_in)};

	a.in.sin_family = LINUX_AF_INET;
	a.in.sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &a.in.sin_addr), 1);
	return a;
}

static struct net_addr v6addr(const char *ip, uint16_t port)
{
	struct net_addr a = {.len = sizeof(struct linux_sockaddr_in6)};

	a.in6.sin6_family = LINUX_AF_INET6;
	a.in6.sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, ip, a.in6.sin6_addr), 1);
	return a;
}

static void ep_of(const char *ip6, uint8_t out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, ip6, out), 1);
}

Test(net_addr, parse_v4)
{
	struct net_addr a = v4addr("127.0.0.1", 8080);
	struct inet_ep ep;

	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, false, &ep), 0);
	cr_assert_eq(ep.port, 8080);
	cr_assert(inet_is_v4(ep.addr) && inet_is_loop4(ep.addr));
	cr_assert_eq(inet_get_v4(ep.addr), 0x7f000001);
	a.len = 8;
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, false, &ep), -EINVAL);
	a = v6addr("::1", 1);
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, false, &ep), -EAFNOSUPPORT);
	/* bind accepts AF_UNSPEC with INADDR_ANY only */
	a = v4addr("0.0.0.0", 5);
	a.in.sin_family = LINUX_AF_UNSPEC;
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, true, &ep), 0);
	cr_assert(inet_is_any4(ep.addr));
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, false, &ep), -EAFNOSUPPORT);
	a = v4addr("127.0.0.1", 5);
	a.in.sin_family = LINUX_AF_UNSPEC;
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, true, &ep), -EAFNOSUPPORT);
}

Test(net_addr, parse_v6)
{
	struct net_addr a = v6addr("::1", 443);
	struct inet_ep ep;

	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), 0);
	cr_assert(inet_is_loop6(ep.addr) && !inet_is_v4(ep.addr));
	cr_assert_eq(ep.port, 443);
	a.len = 24; /* SIN6_LEN_RFC2133: no scope id */
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), 0);
	a.len = 23;
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), -EINVAL);
	a = v4addr("127.0.0.1", 1);
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), -EINVAL); /* 16 bytes: short */
	a.len = 28;
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), -EAFNOSUPPORT);
	a = v6addr("::ffff:127.0.0.1", 7);
	cr_assert_eq(inet_parse(&a, LINUX_AF_INET6, false, &ep), 0);
	cr_assert(inet_is_v4(ep.addr) && inet_is_loop4(ep.addr));
}

Test(net_addr, format_round_trip)
{
	struct net_addr a = v4addr("127.1.2.3", 65535), out;
	struct inet_ep ep;

	cr_assert_eq(inet_parse(&a, LINUX_AF_INET, false, &ep), 0);
	inet_format(LINUX_AF_INET, &ep, &out);
	cr_assert_eq(out.len, sizeof(struct linux_sockaddr_in));
	cr_assert_eq(memcmp(out.bytes, a.bytes, out.len), 0);
	/* a v4 address as a v6 socket reports it: v4-mapped */
	inet_format(LINUX_AF_INET6, &ep, &out);
	cr_assert_eq(out.len, sizeof(struct linux_sockaddr_in6));
	char s[64];
	inet_ntop(AF_INET6, out.in6.sin6_addr, s, sizeof(s));
	cr_assert_str_eq(s, "::ffff:127.1.2.3");
	cr_assert_eq(ntohs(out.in6.sin6_port), 65535);
}

Test(net_addr, local_addresses)
{
	uint8_t a[16];

	ep_of("::ffff:127.0.0.1", a);
	cr_assert_eq(inet_local_ok(a, false, false), 0);
	cr_assert_eq(inet_local_ok(a, true, false), 0);
	cr_assert_eq(inet_local_ok(a, true, true), -EINVAL); /* v4-mapped on a v6-only socket */
	ep_of("::ffff:127.200.1.9", a);
	cr_assert_eq(inet_local_ok(a, false, false), 0); /* all of 127/8 is lo's */
	ep_of("::ffff:0.0.0.0", a);
	cr_assert_eq(inet_local_ok(a, false, false), 0);
	ep_of("::ffff:10.0.0.1", a);
	cr_assert_eq(inet_local_ok(a, false, false), -EADDRNOTAVAIL);
	ep_of("::ffff:255.255.255.255", a);
	cr_assert_eq(inet_local_ok(a, false, false), -EADDRNOTAVAIL);
	ep_of("::1", a);
	cr_assert_eq(inet_local_ok(a, true, true), 0);
	ep_of("::", a);
	cr_assert_eq(inet_local_ok(a, true, false), 0);
	ep_of("fe80::1", a);
	cr_assert_eq(inet_local_ok(a, true, false), -EADDRNOTAVAIL);
	ep_of("2001:db8::1", a);
	cr_assert_eq(inet_local_ok(a, true, false), -EADDRNOTAVAIL);
}

Test(net_route, loopback_only)
{
	uint8_t dst[16], src[16];

	ep_of("::ffff:127.0.0.1", dst);
	cr_assert_eq(inet_route(dst, src, false, false), 0);
	cr_assert_eq(inet_get_v4(src), 0x7f000001);
	ep_of("::ffff:127.9.9.9", dst);
	cr_assert_eq(inet_route(dst, src, false, false), 0);
	cr_assert_eq(inet_get_v4(dst), 0x7f090909);
	cr_assert_eq(inet_get_v4(src), 0x7f000001); /* lo's route: src 127.0.0.1 */
	/* 0.0.0.0 and :: mean the host itself */
	ep_of("::ffff:0.0.0.0", dst);
	cr_assert_eq(inet_route(dst, src, false, false), 0);
	cr_assert_eq(inet_get_v4(dst), 0x7f000001);
	ep_of("::", dst);
	cr_assert_eq(inet_route(dst, src, true, false), 0);
	cr_assert(inet_is_loop6(dst) && inet_is_loop6(src));
	ep_of("::1", dst);
	cr_assert_eq(inet_route(dst, src, true, true), 0);
}

Test(net_route, everything_else_unreachable)
{
	static const char *const away[] = {
	    "::ffff:8.8.8.8",
	    "::ffff:10.0.0.1",
	    "::ffff:192.168.1.1",
	    "::ffff:255.255.255.255",
	    "::ffff:224.0.0.1",
	    "::ffff:128.0.0.1",
	    "2001:4860:4860::8888",
	    "fe80::1",
	    "ff02::1",
	    "::2",
	};
	uint8_t dst[16], src[16];

	for (size_t i = 0; i < sizeof(away) / sizeof(away[0]); i++) {
		ep_of(away[i], dst);
		cr_assert_eq(inet_route(dst, src, true, false), -ENETUNREACH, "%s", away[i]);
		if (inet_is_v4(dst))
			cr_assert_eq(inet_route(dst, src, false, false), -ENETUNREACH, "%s",
				     away[i]);
	}
	/* v4 through a v6-only socket */
	ep_of("::ffff:127.0.0.1", dst);
	cr_assert_eq(inet_route(dst, src, true, true), -ENETUNREACH);
}

Test(net_ports, pick)
{
	static uint64_t used[1024];
	uint16_t p;

	memset(used, 0, sizeof(used));
	for (uint32_t seed = 0; seed < 2000; seed += 97) {
		p = net_port_pick(used, seed, 32768, 60999, -1);
		cr_assert(p >= 32768 && p <= 60999, "port %u", p);
		p = net_port_pick(used, seed, 32768, 60999, 1);
		cr_assert(p & 1, "bind prefers odd ports: %u", p);
		p = net_port_pick(used, seed, 32768, 60999, 0);
		cr_assert(!(p & 1), "connect prefers even ports: %u", p);
	}
	/* every port taken but one: that one, whatever the seed and parity */
	for (uint32_t port = 32768; port <= 60999; port++)
		used[port / 64] |= 1ULL << (port % 64);
	used[40001 / 64] &= ~(1ULL << (40001 % 64));
	for (uint32_t seed = 0; seed < 50; seed++) {
		cr_assert_eq(net_port_pick(used, seed * 7919, 32768, 60999, 0), 40001);
		cr_assert_eq(net_port_pick(used, seed, 32768, 60999, -1), 40001);
	}
	used[40001 / 64] |= 1ULL << (40001 % 64);
	cr_assert_eq(net_port_pick(used, 5, 32768, 60999, 1), 0);
	cr_assert_eq(net_port_pick(used, 5, 0, 10, -1), 0);
	cr_assert_eq(net_port_pick(used, 5, 10, 9, -1), 0);
	memset(used, 0, sizeof(used));
	cr_assert_eq(net_port_pick(used, 12345, 1000, 1000, -1), 1000);
}

Test(net_unix, parse)
{
	struct net_addr a = {.family = LINUX_AF_UNIX};
	struct unix_name n;
	size_t off = offsetof(struct linux_sockaddr_un, sun_path);

	a.len = (uint32_t)off;
	cr_assert_eq(unix_parse(&a, &n), 0);
	cr_assert_eq(n.kind, UNIX_AUTOBIND);
	strcpy(a.un.sun_path, "/tmp/s");
	a.len = sizeof(struct linux_sockaddr_un); /* trailing bytes after the NUL are ignored */
	cr_assert_eq(unix_parse(&a, &n), 0);
	cr_assert_eq(n.kind, UNIX_PATH);
	cr_assert_str_eq(n.path, "/tmp/s");
	cr_assert_eq(n.len, off + 7);
	/* no NUL at all: the whole of sun_path */
	memset(a.un.sun_path, 'x', sizeof(a.un.sun_path));
	cr_assert_eq(unix_parse(&a, &n), 0);
	cr_assert_eq(strlen(n.path), sizeof(a.un.sun_path));
	/* abstract: the given length, NULs and all */
	memset(a.un.sun_path, 0, sizeof(a.un.sun_path));
	memcpy(a.un.sun_path + 1, "ab\0c", 4);
	a.len = (uint32_t)(off + 5);
	cr_assert_eq(unix_parse(&a, &n), 0);
	cr_assert_eq(n.kind, UNIX_ABSTRACT);
	cr_assert_eq(n.len, off + 5);
	/* errors */
	a.len = 1;
	cr_assert_eq(unix_parse(&a, &n), -EINVAL);
	a.len = sizeof(struct linux_sockaddr_un) + 1;
	cr_assert_eq(unix_parse(&a, &n), -EINVAL);
	a.len = (uint32_t)off + 2;
	a.family = LINUX_AF_INET;
	cr_assert_eq(unix_parse(&a, &n), -EINVAL);
}
