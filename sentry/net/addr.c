/* Socket addresses, pure functions: parsing and formatting sockaddr_in/in6/un, the loopback-only
 * routing of the sandbox, and the choice of a free port. Unit-tested in tests/unit/test_net.c. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sentry/net/net_impl.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool inet_is_v4(const uint8_t a[16]) { return memcmp(a, v4_prefix, 12) == 0; }

bool inet_is_any6(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

bool inet_is_any4(const uint8_t a[16]) { return inet_is_v4(a) && inet_get_v4(a) == 0; }

bool inet_is_loop6(const uint8_t a[16])
{
	static const uint8_t one[16] = {[15] = 1};

	return memcmp(a, one, 16) == 0;
}

bool inet_is_loop4(const uint8_t a[16]) { return inet_is_v4(a) && a[12] == 127; }

void inet_set_v4(uint8_t a[16], uint32_t host_order)
{
	memcpy(a, v4_prefix, 12);
	a[12] = (uint8_t)(host_order >> 24);
	a[13] = (uint8_t)(host_order >> 16);
	a[14] = (uint8_t)(host_order >> 8);
	a[15] = (uint8_t)host_order;
}

uint32_t inet_get_v4(const uint8_t a[16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static uint16_t be16(uint16_t v) { return (uint16_t)((v >> 8) | (v << 8)); }

static uint32_t be32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

int inet_parse(const struct net_addr *a, int sock_family, bool allow_unspec, struct inet_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sock_family == LINUX_AF_INET) {
		if (a->len < sizeof(struct linux_sockaddr_in))
			return -EINVAL;
		if (a->family != LINUX_AF_INET) {
			/* Linux accepts AF_UNSPEC with INADDR_ANY for old programs (bind) */
			if (!(allow_unspec && a->family == LINUX_AF_UNSPEC && a->in.sin_addr == 0))
				return -EAFNOSUPPORT;
		}
		inet_set_v4(ep->addr, be32(a->in.sin_addr));
		ep->port = be16(a->in.sin_port);
		return 0;
	}
	/* SIN6_LEN_RFC2133: the scope id may be left out */
	if (a->len < offsetof(struct linux_sockaddr_in6, sin6_scope_id))
		return -EINVAL;
	if (a->family != LINUX_AF_INET6)
		return -EAFNOSUPPORT;
	memcpy(ep->addr, a->in6.sin6_addr, 16);
	ep->port = be16(a->in6.sin6_port);
	return 0;
}

void inet_format(int family, const struct inet_ep *ep, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == LINUX_AF_INET) {
		out->len = sizeof(struct linux_sockaddr_in);
		out->in.sin_family = LINUX_AF_INET;
		out->in.sin_port = be16(ep->port);
		out->in.sin_addr = be32(inet_get_v4(ep->addr));
		return;
	}
	out->len = sizeof(struct linux_sockaddr_in6);
	out->in6.sin6_family = LINUX_AF_INET6;
	out->in6.sin6_port = be16(ep->port);
	memcpy(out->in6.sin6_addr, ep->addr, 16);
}

int inet_local_ok(const uint8_t addr[16], bool v6sock, bool v6only)
{
	if (inet_is_v4(addr)) {
		if (v6sock && v6only)
			return -EINVAL; /* a v4-mapped address on a v6-only socket makes no sense */
		return (inet_is_any4(addr) || inet_is_loop4(addr)) ? 0 : -EADDRNOTAVAIL;
	}
	if (!v6sock)
		return -EADDRNOTAVAIL;
	return (inet_is_any6(addr) || inet_is_loop6(addr)) ? 0 : -EADDRNOTAVAIL;
}

int inet_route(uint8_t dst[16], uint8_t src[16], bool v6sock, bool v6only)
{
	if (inet_is_v4(dst)) {
		if (v6sock && v6only)
			return -ENETUNREACH;
		/* Linux routes 0.0.0.0 to the host itself (ip_route_connect) */
		if (inet_is_any4(dst))
			inet_set_v4(dst, 0x7f000001);
		if (!inet_is_loop4(dst))
			return -ENETUNREACH;
		inet_set_v4(src, 0x7f000001); /* lo's 127.0.0.0/8 route: src 127.0.0.1 */
		return 0;
	}
	if (!v6sock)
		return -EAFNOSUPPORT;
	if (inet_is_any6(dst))
		dst[15] = 1; /* :: means the host itself, as for v4 */
	if (!inet_is_loop6(dst))
		return -ENETUNREACH;
	memcpy(src, dst, 16);
	return 0;
}

uint16_t net_port_pick(const uint64_t *used, uint32_t seed, uint16_t lo, uint16_t hi, int parity)
{
	uint32_t range, start;

	if (lo == 0 || hi < lo)
		return 0;
	range = (uint32_t)(hi - lo) + 1;
	start = seed % range;
	for (int pass = parity < 0 ? 1 : 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < range; i++) {
			uint32_t port = lo + (start + i) % range;
			if (pass == 0 && (int)(port & 1) != parity)
				continue;
			if (!(used[port / 64] & (1ULL << (port % 64))))
				return (uint16_t)port;
		}
	}
	return 0;
}

int unix_parse(const struct net_addr *a, struct unix_name *out)
{
	size_t off = offsetof(struct linux_sockaddr_un, sun_path);
	size_t n;

	memset(out, 0, sizeof(*out));
	if (a->len < sizeof(uint16_t) || a->len > sizeof(struct linux_sockaddr_un) ||
	    a->family != LINUX_AF_UNIX)
		return -EINVAL;
	if (a->len == off) {
		out->kind = UNIX_AUTOBIND;
		out->len = (uint32_t)off;
		return 0;
	}
	if (a->un.sun_path[0] == 0) {
		out->kind = UNIX_ABSTRACT;
		out->len = a->len;
		return 0;
	}
	/* A path: up to the first NUL, or the whole of sun_path (Linux terminates it). */
	n = strnlen(a->un.sun_path, a->len - off);
	memcpy(out->path, a->un.sun_path, n);
	out->path[n] = 0;
	out->kind = UNIX_PATH;
	out->len = (uint32_t)(off + n + 1);
	return 0;
}
