/* strace: one argument at a time, decoded by its kind, guest memory read only through copy_in. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "abi/syscalls.h"
#include "common/util.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/strace_impl.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define STRACE_MAX_ARRAY 32	       /* argv and iovec elements shown before "..." (strace: -s) */
#define STRACE_MAX_COUNT 65536	       /* envp entries / dirents counted before giving up */
#define STRACE_O_TMPFILE_BIT 020000000 /* __O_TMPFILE: with O_CREAT, when open's mode matters */

/* ---- reading guest memory ---- */

static int rd(const struct strace_call *c, void *dst, uint64_t addr, size_t n)
{
	if (!c->t || !c->t->mm)
		return -EFAULT;
	return copy_in(c->t->mm, dst, addr, n);
}

/* Read n bytes at addr into dst; when addr is NULL or unreadable, print it as a pointer
 * instead and return false. */
static bool rd_or_ptr(struct abi_out *o, const struct strace_call *c, void *dst, uint64_t addr,
		      size_t n)
{
	if (addr && rd(c, dst, addr, n) == 0)
		return true;
	strace_put_ptr(o, addr);
	return false;
}

/* Read a NUL-terminated string of at most max bytes into dst (max + 1 bytes of room).
 * Returns its length, with *more set when it went on past max; or -EFAULT. */
static long rd_str(const struct strace_call *c, char *dst, uint64_t addr, size_t max, bool *more)
{
	long r;

	*more = false;
	if (!c->t || !c->t->mm)
		return -EFAULT;
	r = copy_in_str(c->t->mm, dst, addr, max + 1);
	if (r == -ENAMETOOLONG) {
		/* No NUL within max + 1 bytes: all of them were readable, show max. */
		if (copy_in(c->t->mm, dst, addr, max) < 0)
			return -EFAULT;
		*more = true;
		return (long)max;
	}
	return r < 0 ? -EFAULT : r;
}

/* ---- strings ---- */

void strace_put_quoted(struct abi_out *o, const void *s, size_t len, bool more, bool hex)
{
	const uint8_t *p = s;

	abi_out_putc(o, '"');
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (hex) {
			abi_out_printf(o, "\\x%02x", ch);
			continue;
		}
		switch (ch) {
		case '"':
			abi_out_puts(o, "\\\"");
			break;
		case '\\':
			abi_out_puts(o, "\\\\");
			break;
		case '\f':
			abi_out_puts(o, "\\f");
			break;
		case '\n':
			abi_out_puts(o, "\\n");
			break;
		case '\r':
			abi_out_puts(o, "\\r");
			break;
		case '\t':
			abi_out_puts(o, "\\t");
			break;
		case '\v':
			abi_out_puts(o, "\\v");
			break;
		default:
			if (ch >= ' ' && ch <= '~')
				abi_out_putc(o, (char)ch);
			else if (i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '7')
				abi_out_printf(o, "\\%03o", ch); /* "\0001": keep the digit apart */
			else
				abi_out_printf(o, "\\%o", ch);
		}
	}
	abi_out_putc(o, '"');
	if (more)
		abi_out_puts(o, "...");
}

void strace_put_ptr(struct abi_out *o, uint64_t addr)
{
	if (addr)
		abi_out_printf(o, "%#llx", (unsigned long long)addr);
	else
		abi_out_puts(o, "NULL");
}

/* A NUL-terminated string of at most max bytes shown; the address when unreadable. */
static void put_cstr(struct abi_out *o, const struct strace_call *c, uint64_t addr, size_t max)
{
	char buf[LINUX_PATH_MAX + 1];
	bool more;
	long len;

	if (!addr) {
		abi_out_puts(o, "NULL");
		return;
	}
	len = rd_str(c, buf, addr, MIN(max, sizeof(buf) - 1), &more);
	if (len < 0) {
		strace_put_ptr(o, addr);
		return;
	}
	strace_put_quoted(o, buf, (size_t)len, more, false);
}

/* len bytes at addr, the first STRACE_STRSIZE shown. */
static void put_buf(struct abi_out *o, const struct strace_call *c, uint64_t addr, uint64_t len,
		    bool hex)
{
	uint8_t buf[STRACE_STRSIZE];
	size_t n = (size_t)MIN(len, (uint64_t)sizeof(buf));

	if (!rd_or_ptr(o, c, buf, addr, n))
		return;
	strace_put_quoted(o, buf, n, len > n, hex);
}

/* argv: ["ls", "-l"]. */
static void put_strv(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	uint64_t p;

	if (!rd_or_ptr(o, c, &p, addr, sizeof(p)))
		return;
	abi_out_putc(o, '[');
	for (int n = 0;; n++) {
		if (rd(c, &p, addr + 8 * (uint64_t)n, sizeof(p)) < 0) {
			abi_out_puts(o, n ? ", ???" : "???");
			break;
		}
		if (!p)
			break;
		if (n)
			abi_out_puts(o, ", ");
		if (n >= STRACE_MAX_ARRAY) {
			abi_out_puts(o, "...");
			break;
		}
		put_cstr(o, c, p, STRACE_STRSIZE);
	}
	abi_out_putc(o, ']');
}

/* envp: the address and how many variables. */
static void put_envp(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	uint64_t p;
	int n;

	strace_put_ptr(o, addr);
	if (!addr)
		return;
	for (n = 0; n < STRACE_MAX_COUNT; n++)
		if (rd(c, &p, addr + 8 * (uint64_t)n, sizeof(p)) < 0 || !p)
			break;
	if (n < STRACE_MAX_COUNT && rd(c, &p, addr + 8 * (uint64_t)n, sizeof(p)) == 0)
		abi_out_printf(o, " /* %d var%s */", n, n == 1 ? "" : "s");
}

/* struct iovec[cnt]; out: show only the ret bytes the call transferred. */
static void put_iovec(struct abi_out *o, const struct strace_call *c, uint64_t addr, uint64_t cnt,
		      bool out)
{
	uint64_t left = out ? (uint64_t)c->ret : UINT64_MAX;
	struct linux_iovec iov;

	if (!addr || (int64_t)cnt < 0 || cnt > LINUX_IOV_MAX ||
	    (cnt && rd(c, &iov, addr, sizeof(iov)) < 0)) {
		strace_put_ptr(o, addr);
		return;
	}
	abi_out_putc(o, '[');
	for (uint64_t i = 0; i < cnt; i++) {
		if (i)
			abi_out_puts(o, ", ");
		if (i >= STRACE_MAX_ARRAY) {
			abi_out_puts(o, "...");
			break;
		}
		if (rd(c, &iov, addr + i * sizeof(iov), sizeof(iov)) < 0) {
			abi_out_puts(o, "???");
			break;
		}
		abi_out_puts(o, "{iov_base=");
		put_buf(o, c, iov.iov_base, MIN(iov.iov_len, left), false);
		abi_out_printf(o, ", iov_len=%llu}", (unsigned long long)iov.iov_len);
		left -= MIN(iov.iov_len, left);
	}
	abi_out_putc(o, ']');
}

/* ---- structures ---- */

static void put_fmt(struct abi_out *o, int (*fmt)(char *, size_t, uint64_t), uint64_t v)
{
	char buf[512];

	fmt(buf, sizeof(buf), v);
	abi_out_puts(o, buf);
}

static void put_stat(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_stat st;
	uint32_t type;

	if (!rd_or_ptr(o, c, &st, addr, sizeof(st)))
		return;
	abi_out_puts(o, "{st_mode=");
	put_fmt(o, abi_fmt_mode, st.st_mode);
	type = st.st_mode & LINUX_S_IFMT;
	if (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK) {
		abi_out_puts(o, ", st_rdev=");
		put_fmt(o, abi_fmt_dev, st.st_rdev);
	} else {
		abi_out_printf(o, ", st_size=%lld", (long long)st.st_size);
	}
	abi_out_puts(o, ", ...}");
}

static void put_statx(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_statx stx;

	if (!rd_or_ptr(o, c, &stx, addr, sizeof(stx)))
		return;
	abi_out_puts(o, "{stx_mask=");
	put_fmt(o, abi_fmt_statx_mask, stx.stx_mask);
	abi_out_puts(o, ", stx_attributes=");
	put_fmt(o, abi_fmt_statx_attrs, stx.stx_attributes);
	abi_out_puts(o, ", stx_mode=");
	put_fmt(o, abi_fmt_mode, stx.stx_mode);
	abi_out_printf(o, ", stx_size=%llu, ...}", (unsigned long long)stx.stx_size);
}

static void put_sigset(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	uint64_t set;

	if (!rd_or_ptr(o, c, &set, addr, sizeof(set)))
		return;
	put_fmt(o, abi_fmt_sigset, set);
}

static void put_sigaction(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_sigaction sa;

	if (!rd_or_ptr(o, c, &sa, addr, sizeof(sa)))
		return;
	abi_out_puts(o, "{sa_handler=");
	if (sa.handler == LINUX_SIG_DFL)
		abi_out_puts(o, "SIG_DFL");
	else if (sa.handler == LINUX_SIG_IGN)
		abi_out_puts(o, "SIG_IGN");
	else
		abi_out_printf(o, "%#llx", (unsigned long long)sa.handler);
	abi_out_puts(o, ", sa_mask=");
	put_fmt(o, abi_fmt_sigset, sa.mask);
	abi_out_puts(o, ", sa_flags=");
	put_fmt(o, abi_fmt_sa_flags, sa.flags);
	if (sa.flags & LINUX_SA_RESTORER) {
		abi_out_puts(o, ", sa_restorer=");
		strace_put_ptr(o, sa.restorer);
	}
	abi_out_putc(o, '}');
}

static void put_stack(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_stack ss;

	if (!rd_or_ptr(o, c, &ss, addr, sizeof(ss)))
		return;
	abi_out_puts(o, "{ss_sp=");
	strace_put_ptr(o, ss.ss_sp);
	abi_out_puts(o, ", ss_flags=");
	put_fmt(o, abi_fmt_ss_flags, (uint32_t)ss.ss_flags);
	abi_out_printf(o, ", ss_size=%llu}", (unsigned long long)ss.ss_size);
}

void strace_put_timespec(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_timespec ts;

	if (!rd_or_ptr(o, c, &ts, addr, sizeof(ts)))
		return;
	abi_out_printf(o, "{tv_sec=%lld, tv_nsec=%lld}", (long long)ts.tv_sec,
		       (long long)ts.tv_nsec);
}

static void put_timeval(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_timeval tv;

	if (!rd_or_ptr(o, c, &tv, addr, sizeof(tv)))
		return;
	abi_out_printf(o, "{tv_sec=%lld, tv_usec=%lld}", (long long)tv.tv_sec,
		       (long long)tv.tv_usec);
}

static void put_rlimit(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_rlimit rl;

	if (!rd_or_ptr(o, c, &rl, addr, sizeof(rl)))
		return;
	abi_out_puts(o, "{rlim_cur=");
	put_fmt(o, abi_fmt_rlim, rl.rlim_cur);
	abi_out_puts(o, ", rlim_max=");
	put_fmt(o, abi_fmt_rlim, rl.rlim_max);
	abi_out_putc(o, '}');
}

static void put_utsname(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_utsname u;

	if (!rd_or_ptr(o, c, &u, addr, sizeof(u)))
		return;
	abi_out_puts(o, "{sysname=");
	strace_put_quoted(o, u.sysname, strnlen(u.sysname, sizeof(u.sysname)), false, false);
	abi_out_puts(o, ", nodename=");
	strace_put_quoted(o, u.nodename, strnlen(u.nodename, sizeof(u.nodename)), false, false);
	abi_out_puts(o, ", ...}");
}

static void put_sysinfo(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	struct linux_sysinfo si;

	if (!rd_or_ptr(o, c, &si, addr, sizeof(si)))
		return;
	abi_out_printf(o,
		       "{uptime=%lld, loads=[%llu, %llu, %llu], totalram=%llu, freeram=%llu, "
		       "sharedram=%llu, bufferram=%llu, totalswap=%llu, freeswap=%llu, procs=%u, "
		       "totalhigh=%llu, freehigh=%llu, mem_unit=%u}",
		       (long long)si.uptime, (unsigned long long)si.loads[0],
		       (unsigned long long)si.loads[1], (unsigned long long)si.loads[2],
		       (unsigned long long)si.totalram, (unsigned long long)si.freeram,
		       (unsigned long long)si.sharedram, (unsigned long long)si.bufferram,
		       (unsigned long long)si.totalswap, (unsigned long long)si.freeswap, si.procs,
		       (unsigned long long)si.totalhigh, (unsigned long long)si.freehigh,
		       si.mem_unit);
}

/* getdents/getdents64 (d_reclen sits at offset 16 in both layouts): the address and a count. */
static void put_dirents(struct abi_out *o, const struct strace_call *c, uint64_t addr)
{
	uint64_t pos = 0, len = (uint64_t)c->ret;
	int n = 0;

	strace_put_ptr(o, addr);
	while (pos + 18 <= len && n < STRACE_MAX_COUNT) {
		uint16_t reclen;

		if (rd(c, &reclen, addr + pos + 16, sizeof(reclen)) < 0 || !reclen)
			return;
		pos += reclen;
		n++;
	}
	abi_out_printf(o, " /* %d entr%s */", n, n == 1 ? "y" : "ies");
}

static void put_sockaddr(struct abi_out *o, const struct strace_call *c, uint64_t addr,
			 uint64_t len)
{
	uint8_t sa[128] = {0};
	uint16_t family;
	char ip[INET6_ADDRSTRLEN];
	size_t n = (size_t)MIN(len, (uint64_t)sizeof(sa));

	if (!addr || len < sizeof(family) || rd(c, sa, addr, n) < 0) {
		strace_put_ptr(o, addr);
		return;
	}
	memcpy(&family, sa, sizeof(family));
	abi_out_puts(o, "{sa_family=");
	put_fmt(o, abi_fmt_sock_domain, family);
	if (family == 1) { /* AF_UNIX: sun_path, '@' for the abstract namespace */
		const char *path = (const char *)sa + 2;
		size_t plen = n - 2;

		abi_out_puts(o, ", sun_path=");
		if (plen && path[0] == '\0') {
			abi_out_putc(o, '@');
			strace_put_quoted(o, path + 1, plen - 1, false, false);
		} else {
			strace_put_quoted(o, path, strnlen(path, plen), false, false);
		}
	} else if (family == 2 && n >= 8) { /* AF_INET */
		uint16_t port;

		memcpy(&port, sa + 2, sizeof(port));
		inet_ntop(AF_INET, sa + 4, ip, sizeof(ip));
		abi_out_printf(o, ", sin_port=htons(%u), sin_addr=inet_addr(\"%s\")", ntohs(port),
			       ip);
	} else if (family == 10 && n >= 24) { /* AF_INET6 */
		uint16_t port;
		uint32_t flow, scope = 0;

		memcpy(&port, sa + 2, sizeof(port));
		memcpy(&flow, sa + 4, sizeof(flow));
		if (n >= 28)
			memcpy(&scope, sa + 24, sizeof(scope));
		inet_ntop(AF_INET6, sa + 8, ip, sizeof(ip));
		abi_out_printf(
		    o,
		    ", sin6_port=htons(%u), sin6_flowinfo=htonl(%u), inet_pton(AF_INET6, "
		    "\"%s\", &sin6_addr), sin6_scope_id=%u",
		    ntohs(port), ntohl(flow), ip, scope);
	} else {
		abi_out_puts(o, ", ...");
	}
	abi_out_putc(o, '}');
}

/* ---- one argument ---- */

bool strace_arg_is_out(int kind, const struct strace_call *c, int i)
{
	switch (kind) {
	case ABI_ARG_STR_OUT:
	case ABI_ARG_BUF_OUT:
	case ABI_ARG_IOVEC_OUT:
	case ABI_ARG_SIGSET_OUT:
	case ABI_ARG_SIGACTION_OUT:
	case ABI_ARG_STACK_OUT:
	case ABI_ARG_TIMESPEC_OUT:
	case ABI_ARG_TIMEVAL_OUT:
	case ABI_ARG_STRUCT_STAT_OUT:
	case ABI_ARG_STATX_OUT:
	case ABI_ARG_DIRENT_OUT:
	case ABI_ARG_RLIMIT_OUT:
	case ABI_ARG_UTSNAME_OUT:
	case ABI_ARG_SYSINFO_OUT:
	case ABI_ARG_FDPAIR_OUT:
	case ABI_ARG_WSTATUS_OUT:
		return true;
	case ABI_ARG_ARCH_PRCTL_ADDR:
		return i > 0 &&
		       (c->args[i - 1] == LINUX_ARCH_GET_FS || c->args[i - 1] == LINUX_ARCH_GET_GS);
	default:
		return false;
	}
}

/* fcntl's third argument, by command (the commands that take none never get here). */
static void put_fcntl_arg(struct abi_out *o, uint64_t cmd, uint64_t v)
{
	switch (cmd) {
	case LINUX_F_SETFD:
		put_fmt(o, abi_fmt_fd_flags, v);
		break;
	case LINUX_F_SETFL:
		put_fmt(o, abi_fmt_oflags, v);
		break;
	case LINUX_F_GETLK:
	case LINUX_F_SETLK:
	case LINUX_F_SETLKW:
	case 36: /* F_OFD_GETLK */
	case 37: /* F_OFD_SETLK */
	case 38: /* F_OFD_SETLKW */
	case 15: /* F_SETOWN_EX */
	case 16: /* F_GETOWN_EX */
	case 17: /* F_GETOWNER_UIDS */
		strace_put_ptr(o, v);
		break;
	case 10: { /* F_SETSIG */
		char buf[32];

		abi_fmt_signum(buf, sizeof(buf), (int)v);
		abi_out_puts(o, buf);
		break;
	}
	case LINUX_F_DUPFD:
	case LINUX_F_DUPFD_CLOEXEC:
	case 8:	   /* F_SETOWN */
	case 1024: /* F_SETLEASE */
	case 1026: /* F_NOTIFY */
	case 1027: /* F_DUPFD_QUERY */
	case 1031: /* F_SETPIPE_SZ */
	case 1033: /* F_ADD_SEALS */
		abi_out_printf(o, "%d", (int)v);
		break;
	case STRACE_KIND_FUTEX_BITSET:
		if ((uint32_t)v == UINT32_MAX)
			abi_out_puts(o, "FUTEX_BITSET_MATCH_ANY");
		else
			abi_out_printf(o, "%#x", (uint32_t)v);
		break;
	default:
		abi_out_printf(o, "%#llx", (unsigned long long)v);
	}
}

/* _OUT kinds show their contents only after a successful call. */
static bool out_ok(const struct strace_call *c) { return c->done && !strace_is_err(c->ret); }

void strace_put_arg(struct abi_out *o, const struct strace_call *c, int i, int kind)
{
	uint64_t v = c->args[i];
	uint64_t next = i < 5 ? c->args[i + 1] : 0;
	uint64_t prev = i > 0 ? c->args[i - 1] : 0;

	if (strace_arg_is_out(kind, c, i) && (!out_ok(c) || !v)) {
		strace_put_ptr(o, v);
		return;
	}
	switch (kind) {
	case ABI_ARG_NONE:
	case ABI_ARG_HEX:
		abi_out_printf(o, "%#llx", (unsigned long long)v);
		break;
	case ABI_ARG_INT:
	case ABI_ARG_FD:
		abi_out_printf(o, "%d", (int)v);
		break;
	case ABI_ARG_UINT:
		abi_out_printf(o, "%u", (unsigned)v);
		break;
	case ABI_ARG_LONG:
	case ABI_ARG_OFFSET:
		abi_out_printf(o, "%lld", (long long)v);
		break;
	case ABI_ARG_SIZE:
		abi_out_printf(o, "%llu", (unsigned long long)v);
		break;
	case ABI_ARG_PTR:
		strace_put_ptr(o, v);
		break;
	case ABI_ARG_DIRFD:
		if ((int)v == LINUX_AT_FDCWD)
			abi_out_puts(o, "AT_FDCWD");
		else
			abi_out_printf(o, "%d", (int)v);
		break;
	case ABI_ARG_UID:
		if ((uint32_t)v == UINT32_MAX)
			abi_out_puts(o, "-1");
		else
			abi_out_printf(o, "%u", (unsigned)v);
		break;
	case ABI_ARG_PATH:
	case ABI_ARG_STR_OUT:
		put_cstr(o, c, v, LINUX_PATH_MAX);
		break;
	case ABI_ARG_STR:
		put_cstr(o, c, v, STRACE_STRSIZE);
		break;
	case ABI_ARG_BUF_IN:
		put_buf(o, c, v, next, false);
		break;
	case ABI_ARG_BUF_OUT:
		put_buf(o, c, v, (uint64_t)c->ret, c->nr == LINUX_SYS_getrandom);
		break;
	case ABI_ARG_IOVEC_IN:
		put_iovec(o, c, v, next, false);
		break;
	case ABI_ARG_IOVEC_OUT:
		put_iovec(o, c, v, next, true);
		break;
	case ABI_ARG_STRV:
		put_strv(o, c, v);
		break;
	case ABI_ARG_ENVP:
		put_envp(o, c, v);
		break;
	case ABI_ARG_OFLAGS:
		put_fmt(o, abi_fmt_oflags, v);
		break;
	case ABI_ARG_OFLAGS_NOACC:
		put_fmt(o, abi_fmt_oflags_noacc, v);
		break;
	case ABI_ARG_OPEN_MODE:
	case ABI_ARG_MODE:
		put_fmt(o, abi_fmt_mode, (uint32_t)v);
		break;
	case ABI_ARG_DEV:
		put_fmt(o, abi_fmt_dev, v);
		break;
	case ABI_ARG_ATFLAGS:
		put_fmt(o, abi_fmt_atflags, (uint32_t)v);
		break;
	case ABI_ARG_ACCESS_ATFLAGS:
		put_fmt(o, abi_fmt_access_atflags, (uint32_t)v);
		break;
	case ABI_ARG_STATX_ATFLAGS:
		put_fmt(o, abi_fmt_statx_atflags, (uint32_t)v);
		break;
	case ABI_ARG_ACCESS_MODE:
		put_fmt(o, abi_fmt_access_mode, (uint32_t)v);
		break;
	case ABI_ARG_PROT:
		put_fmt(o, abi_fmt_prot, v);
		break;
	case ABI_ARG_MAPFLAGS:
		put_fmt(o, abi_fmt_mapflags, v);
		break;
	case ABI_ARG_MREMAP_FLAGS:
		put_fmt(o, abi_fmt_mremap_flags, v);
		break;
	case ABI_ARG_MADVISE:
		put_fmt(o, abi_fmt_madvise, (uint32_t)v);
		break;
	case ABI_ARG_FADVISE:
		put_fmt(o, abi_fmt_fadvise, (uint32_t)v);
		break;
	case ABI_ARG_WHENCE:
		put_fmt(o, abi_fmt_whence, (uint32_t)v);
		break;
	case ABI_ARG_SIGNUM: {
		char buf[32];

		abi_fmt_signum(buf, sizeof(buf), (int)v);
		abi_out_puts(o, buf);
		break;
	}
	case ABI_ARG_SIGHOW:
		put_fmt(o, abi_fmt_sighow, (uint32_t)v);
		break;
	case ABI_ARG_SIGSET_PTR:
	case ABI_ARG_SIGSET_OUT:
		put_sigset(o, c, v);
		break;
	case ABI_ARG_SIGACTION_IN:
	case ABI_ARG_SIGACTION_OUT:
		put_sigaction(o, c, v);
		break;
	case ABI_ARG_STACK_IN:
	case ABI_ARG_STACK_OUT:
		put_stack(o, c, v);
		break;
	case ABI_ARG_CLOCKID:
		put_fmt(o, abi_fmt_clockid, v);
		break;
	case ABI_ARG_TIMER_FLAGS:
		put_fmt(o, abi_fmt_timer_flags, (uint32_t)v);
		break;
	case ABI_ARG_TIMESPEC_IN:
	case ABI_ARG_TIMESPEC_OUT:
		strace_put_timespec(o, c, v);
		break;
	case ABI_ARG_TIMEVAL_OUT:
		put_timeval(o, c, v);
		break;
	case ABI_ARG_IOCTL_CMD:
		put_fmt(o, abi_fmt_ioctl_cmd, v);
		break;
	case ABI_ARG_FCNTL_CMD:
		put_fmt(o, abi_fmt_fcntl_cmd, (uint32_t)v);
		break;
	case ABI_ARG_FCNTL_ARG:
		put_fcntl_arg(o, (uint32_t)prev, v);
		break;
	case ABI_ARG_STRUCT_STAT_OUT:
		put_stat(o, c, v);
		break;
	case ABI_ARG_STATX_MASK:
		put_fmt(o, abi_fmt_statx_mask, (uint32_t)v);
		break;
	case ABI_ARG_STATX_OUT:
		put_statx(o, c, v);
		break;
	case ABI_ARG_DIRENT_OUT:
		put_dirents(o, c, v);
		break;
	case ABI_ARG_ARCH_PRCTL_CODE:
		put_fmt(o, abi_fmt_arch_prctl, v);
		break;
	case ABI_ARG_ARCH_PRCTL_ADDR:
		if (strace_arg_is_out(kind, c, i)) {
			uint64_t val;

			if (rd_or_ptr(o, c, &val, v, sizeof(val)))
				abi_out_printf(o, "[%#llx]", (unsigned long long)val);
		} else {
			abi_out_printf(o, "%#llx", (unsigned long long)v);
		}
		break;
	case ABI_ARG_PRCTL_OPTION:
		put_fmt(o, abi_fmt_prctl_option, (uint32_t)v);
		break;
	case ABI_ARG_CLONE_FLAGS: {
		char buf[512];

		abi_fmt_clone_flags(buf, sizeof(buf), v, false);
		abi_out_puts(o, buf);
		break;
	}
	case ABI_ARG_FUTEX_OP:
		put_fmt(o, abi_fmt_futex_op, v);
		break;
	case ABI_ARG_RLIMIT_RES:
		put_fmt(o, abi_fmt_rlimit_res, (uint32_t)v);
		break;
	case ABI_ARG_RLIMIT_IN:
	case ABI_ARG_RLIMIT_OUT:
		put_rlimit(o, c, v);
		break;
	case ABI_ARG_UTSNAME_OUT:
		put_utsname(o, c, v);
		break;
	case ABI_ARG_SYSINFO_OUT:
		put_sysinfo(o, c, v);
		break;
	case ABI_ARG_FDPAIR_OUT: {
		int32_t fds[2];

		if (rd_or_ptr(o, c, fds, v, sizeof(fds)))
			abi_out_printf(o, "[%d, %d]", fds[0], fds[1]);
		break;
	}
	case ABI_ARG_GRND_FLAGS:
		put_fmt(o, abi_fmt_grnd_flags, (uint32_t)v);
		break;
	case ABI_ARG_MFD_FLAGS:
		put_fmt(o, abi_fmt_mfd_flags, (uint32_t)v);
		break;
	case ABI_ARG_WSTATUS_OUT: {
		int32_t st;
		char buf[128];

		if (c->ret <= 0 || rd(c, &st, v, sizeof(st)) < 0) {
			strace_put_ptr(o, v);
			break;
		}
		abi_fmt_wstatus(buf, sizeof(buf), st);
		abi_out_printf(o, "[%s]", buf);
		break;
	}
	case ABI_ARG_WAIT_OPTIONS:
		put_fmt(o, abi_fmt_wait_options, (uint32_t)v);
		break;
	case ABI_ARG_SOCK_DOMAIN:
		put_fmt(o, abi_fmt_sock_domain, (uint32_t)v);
		break;
	case ABI_ARG_SOCK_TYPE:
		put_fmt(o, abi_fmt_sock_type, (uint32_t)v);
		break;
	case ABI_ARG_SOCK_PROTO:
		if (i >= 2 && (c->args[i - 2] == 2 || c->args[i - 2] == 10)) /* AF_INET(6) */
			put_fmt(o, abi_fmt_ipproto, (uint32_t)v);
		else
			abi_out_printf(o, "%d", (int)v);
		break;
	case ABI_ARG_SOCK_FLAGS:
		put_fmt(o, abi_fmt_sock_flags, (uint32_t)v);
		break;
	case ABI_ARG_SOCKADDR_IN:
		put_sockaddr(o, c, v, next);
		break;
	case STRACE_KIND_FUTEX_BITSET:
		if ((uint32_t)v == UINT32_MAX)
			abi_out_puts(o, "FUTEX_BITSET_MATCH_ANY");
		else
			abi_out_printf(o, "%#x", (uint32_t)v);
		break;
	default:
		abi_out_printf(o, "%#llx", (unsigned long long)v);
	}
}
