/* strace: assembles one line per syscall (arguments before and after the call, then the result). */
#include "sentry/kernel/strace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/linux.h"
#include "abi/syscalls.h"
#include "common/util.h"
#include "sentry/kernel/strace_impl.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define STRACE_LINE_MAX 16384 /* longer lines are cut (an argv of 32 long strings fits) */
#define STRACE_COLUMN 40      /* strace aligns "= result" at this column */

/* One printed argument: which register and how to show it. */
struct slot {
	uint8_t idx;
	uint8_t kind;
};

/* The line of the call this host thread is in (one host thread runs one task, so per thread is
 * per task). */
static __thread struct {
	bool pending; /* strace_enter ran and strace_exit has not */
	long nr;
	uint64_t start_ns; /* when the call entered the Sentry */
	int next; /* first slot not printed yet */
	struct abi_out out;
	char buf[STRACE_LINE_MAX];
} g_line;

/* ---- which arguments to print ---- */

static int set_slots(struct slot *s, const uint8_t *kinds, int n)
{
	for (int i = 0; i < n; i++)
		s[i] = (struct slot){.idx = (uint8_t)i, .kind = kinds[i]};
	return n;
}

/* futex: strace shows only the arguments the command uses. */
static int futex_slots(const uint64_t *a, struct slot *s)
{
	enum { P = ABI_ARG_PTR, OP = ABI_ARG_FUTEX_OP, U = ABI_ARG_UINT, H = ABI_ARG_HEX };
	enum { TS = ABI_ARG_TIMESPEC_IN, BS = STRACE_KIND_FUTEX_BITSET };
	static const struct {
		uint8_t n;
		struct slot s[6];
	} layouts[] = {
	    [0] = {4, {{0, P}, {1, OP}, {2, U}, {3, TS}}},		   /* WAIT */
	    [1] = {3, {{0, P}, {1, OP}, {2, U}}},			   /* WAKE */
	    [2] = {3, {{0, P}, {1, OP}, {2, U}}},			   /* FD */
	    [3] = {5, {{0, P}, {1, OP}, {2, U}, {3, U}, {4, P}}},	   /* REQUEUE */
	    [4] = {6, {{0, P}, {1, OP}, {2, U}, {3, U}, {4, P}, {5, U}}},  /* CMP_REQUEUE */
	    [5] = {6, {{0, P}, {1, OP}, {2, U}, {3, U}, {4, P}, {5, H}}},  /* WAKE_OP */
	    [6] = {3, {{0, P}, {1, OP}, {3, TS}}},			   /* LOCK_PI */
	    [7] = {2, {{0, P}, {1, OP}}},				   /* UNLOCK_PI */
	    [8] = {2, {{0, P}, {1, OP}}},				   /* TRYLOCK_PI */
	    [9] = {5, {{0, P}, {1, OP}, {2, U}, {3, TS}, {5, BS}}},	   /* WAIT_BITSET */
	    [10] = {4, {{0, P}, {1, OP}, {2, U}, {5, BS}}},		   /* WAKE_BITSET */
	    [11] = {5, {{0, P}, {1, OP}, {2, U}, {3, TS}, {4, P}}},	   /* WAIT_REQUEUE_PI */
	    [12] = {6, {{0, P}, {1, OP}, {2, U}, {3, U}, {4, P}, {5, U}}}, /* CMP_REQUEUE_PI */
	    [13] = {3, {{0, P}, {1, OP}, {3, TS}}},			   /* LOCK_PI2 */
	};
	uint32_t cmd =
	    (uint32_t)a[1] & ~(uint32_t)(LINUX_FUTEX_PRIVATE_FLAG | LINUX_FUTEX_CLOCK_REALTIME);

	if (cmd >= ARRAY_SIZE(layouts)) {
		static const uint8_t all[6] = {P, OP, H, H, H, H};
		return set_slots(s, all, 6);
	}
	memcpy(s, layouts[cmd].s, sizeof(layouts[cmd].s));
	return layouts[cmd].n;
}

/* fcntl commands that take no third argument. */
static bool fcntl_no_arg(uint64_t cmd)
{
	switch ((uint32_t)cmd) {
	case LINUX_F_GETFD:
	case LINUX_F_GETFL:
	case 9:	   /* F_GETOWN */
	case 11:   /* F_GETSIG */
	case 1025: /* F_GETLEASE */
	case 1028: /* F_CREATED_QUERY */
	case 1032: /* F_GETPIPE_SZ */
	case 1034: /* F_GET_SEALS */
		return true;
	default:
		return false;
	}
}

/* The arguments to print for this call and how: the table's, trimmed where one argument decides
 * what the others mean. Returns how many slots. */
static int call_slots(const struct abi_syscall *sc, long nr, const uint64_t *a, struct slot *s)
{
	static const uint8_t unknown[6] = {ABI_ARG_HEX, ABI_ARG_HEX, ABI_ARG_HEX,
					   ABI_ARG_HEX, ABI_ARG_HEX, ABI_ARG_HEX};
	int n;

	if (!sc)
		return set_slots(s, unknown, 6);
	n = set_slots(s, sc->arg, sc->nargs);
	switch (nr) {
	case LINUX_SYS_futex:
		return futex_slots(a, s);
	case LINUX_SYS_fcntl:
		return fcntl_no_arg(a[1]) ? 2 : n;
	case LINUX_SYS_mremap: /* new_address only means something with MREMAP_FIXED */
		return a[3] & LINUX_MREMAP_FIXED ? n : 4;
	case LINUX_SYS_prctl:
		switch (a[0]) {
		case LINUX_PR_SET_PDEATHSIG:
			s[1].kind = ABI_ARG_SIGNUM;
			return 2;
		case LINUX_PR_GET_PDEATHSIG:
			s[1].kind = ABI_ARG_PTR;
			return 2;
		case LINUX_PR_SET_NAME:
			s[1].kind = ABI_ARG_STR;
			return 2;
		case LINUX_PR_GET_NAME:
			s[1].kind = ABI_ARG_STR_OUT;
			return 2;
		default:
			for (int i = 1; i < n; i++)
				s[i].kind = ABI_ARG_SIZE;
			return n;
		}
	default:
		break;
	}
	/* open/openat/creat-like: the mode only matters with O_CREAT or O_TMPFILE. */
	if (n >= 2 && s[n - 1].kind == ABI_ARG_OPEN_MODE &&
	    !(a[n - 2] & (LINUX_O_CREAT | 020000000 /* __O_TMPFILE */)))
		n--;
	return n;
}

/* ---- the line ---- */

static void put_name(struct abi_out *o, const struct abi_syscall *sc, long nr)
{
	if (sc)
		abi_out_puts(o, sc->name);
	else
		abi_out_printf(o, "syscall_%#lx", (unsigned long)nr);
	abi_out_putc(o, '(');
}

/* clone(child_stack=..., flags=...|SIGCHLD, parent_tid=..., tls=..., child_tidptr=...), as strace.
 */
static void put_clone(struct abi_out *o, const uint64_t *a)
{
	char flags[512];

	abi_fmt_clone_flags(flags, sizeof(flags), a[0], true);
	abi_out_puts(o, "child_stack=");
	strace_put_ptr(o, a[1]);
	abi_out_printf(o, ", flags=%s", flags);
	if (a[0] & (LINUX_CLONE_PARENT_SETTID | LINUX_CLONE_PIDFD)) {
		abi_out_puts(o, ", parent_tid=");
		strace_put_ptr(o, a[2]);
	}
	if (a[0] & LINUX_CLONE_SETTLS) {
		abi_out_puts(o, ", tls=");
		strace_put_ptr(o, a[4]);
	}
	if (a[0] & (LINUX_CLONE_CHILD_SETTID | LINUX_CLONE_CHILD_CLEARTID)) {
		abi_out_puts(o, ", child_tidptr=");
		strace_put_ptr(o, a[3]);
	}
}

/* Print slots from g_line.next on, stopping before the first _OUT one unless the call is done. */
static void put_args(struct abi_out *o, const struct strace_call *c)
{
	const struct abi_syscall *sc = abi_syscall(c->nr);
	struct slot s[6];
	int n;

	if (c->nr == LINUX_SYS_clone) {
		if (g_line.next == 0)
			put_clone(o, c->args);
		g_line.next = 6;
		return;
	}
	n = call_slots(sc, c->nr, c->args, s);
	for (; g_line.next < n; g_line.next++) {
		const struct slot *sl = &s[g_line.next];

		if (!c->done && strace_arg_is_out(sl->kind, c, sl->idx))
			return;
		if (g_line.next)
			abi_out_puts(o, ", ");
		strace_put_arg(o, c, sl->idx, sl->kind);
	}
}

void strace_put_ret(struct abi_out *o, long nr, const uint64_t args[6], long ret)
{
	if (strace_is_err(ret)) {
		int err = (int)-ret;
		const char *name = abi_errno_name(err);

		if (!name)
			abi_out_printf(o, "-1 ERRNO_%d (Unknown error %d)", err, err);
		else if (err >= LINUX_ERESTARTSYS)
			abi_out_printf(o, "? %s (%s)", name, abi_errno_desc(err));
		else
			abi_out_printf(o, "-1 %s (%s)", name, abi_errno_desc(err));
		return;
	}
	switch (nr) {
	case LINUX_SYS_mmap:
	case LINUX_SYS_mremap:
	case LINUX_SYS_brk:
	case LINUX_SYS_shmat:
		abi_out_printf(o, "%#lx", (unsigned long)ret);
		return;
	case LINUX_SYS_umask:
		abi_out_printf(o, "%#03lo", (unsigned long)ret);
		return;
	case LINUX_SYS_fcntl:
		if (ret && (args[1] == LINUX_F_GETFD || args[1] == LINUX_F_GETFL)) {
			char flags[256];

			if (args[1] == LINUX_F_GETFD)
				abi_fmt_fd_flags(flags, sizeof(flags), (uint64_t)ret);
			else
				abi_fmt_oflags(flags, sizeof(flags), (uint64_t)ret);
			abi_out_printf(o, "%#lx (flags %s)", (unsigned long)ret, flags);
			return;
		}
		break;
	default:
		break;
	}
	abi_out_printf(o, "%ld", ret);
}

static uint64_t strace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Start a line: "[pid  N] name(". */
static void line_begin(struct task *t, const struct abi_syscall *sc, long nr)
{
	g_line.pending = true;
	g_line.nr = nr;
	g_line.next = 0;
	g_line.start_ns = strace_now_ns();
	abi_out_init(&g_line.out, g_line.buf, sizeof(g_line.buf) - 2); /* room for '\n' */
	abi_out_printf(&g_line.out, "[pid %5d] ", t->tid);
	put_name(&g_line.out, sc, nr);
}

/* Close the line with ") = <result>" at strace's column and write it in one go. */
static void line_end(const char *result)
{
	struct abi_out *o = &g_line.out;
	size_t len;
	const char *p;

	abi_out_puts(o, ") ");
	while (o->len < STRACE_COLUMN)
		abi_out_putc(o, ' ');
	abi_out_printf(o, "= %s", result);
	if (g_kernel.strace_time) {
		uint64_t ns = strace_now_ns() - g_line.start_ns;
		abi_out_printf(o, " <%lu.%06lu>", (unsigned long)(ns / 1000000000u),
			       (unsigned long)(ns % 1000000000u / 1000u));
	}
	len = MIN(o->len, o->cap - 1);
	g_line.buf[len++] = '\n';
	g_line.pending = false;

	for (p = g_line.buf; len;) {
		ssize_t w = write(g_kernel.strace_fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nothing sensible to do: the trace is best effort */
		p += w;
		len -= (size_t)w;
	}
}

/* Write a line that is not a syscall ("--- SIG... ---", "+++ ... +++") in one go. */
static void write_event(struct task *t, const char *text)
{
	char buf[512];
	struct abi_out o;
	size_t len;

	abi_out_init(&o, buf, sizeof(buf) - 1);
	abi_out_printf(&o, "[pid %5d] %s", t->tid, text);
	len = MIN(o.len, o.cap - 1);
	buf[len++] = '\n';
	if (write(g_kernel.strace_fd, buf, len) < 0)
		return; /* best effort, as for syscall lines */
}

/* si_code names for the signals a fault raises, by signo; index si_code - 1. */
static const char *si_code_name(int signo, int code)
{
	static const char *const segv[] = {"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR",
					   "SEGV_PKUERR"};
	static const char *const bus[] = {"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"};
	static const char *const ill[] = {"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
					  "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"};
	static const char *const fpe[] = {"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
					  "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"};
	static const char *const trap[] = {"TRAP_BRKPT", "TRAP_TRACE"};
	const char *const *names = NULL;
	size_t n = 0;

	if (code == 0x80)
		return "SI_KERNEL";
	if (code == 0)
		return "SI_USER";
	switch (signo) {
	case LINUX_SIGSEGV:
		names = segv, n = ARRAY_SIZE(segv);
		break;
	case LINUX_SIGBUS:
		names = bus, n = ARRAY_SIZE(bus);
		break;
	case LINUX_SIGILL:
		names = ill, n = ARRAY_SIZE(ill);
		break;
	case LINUX_SIGFPE:
		names = fpe, n = ARRAY_SIZE(fpe);
		break;
	case LINUX_SIGTRAP:
		names = trap, n = ARRAY_SIZE(trap);
		break;
	}
	return code >= 1 && (size_t)code <= n ? names[code - 1] : NULL;
}

void strace_signal(struct task *t, int signo, int si_code, uint64_t addr)
{
	char sig[32], text[256], code[16];
	const char *cname;
	struct abi_out o;

	if (!g_kernel.strace)
		return;
	abi_fmt_signum(sig, sizeof(sig), signo);
	cname = si_code_name(signo, si_code);
	if (!cname) {
		snprintf(code, sizeof(code), "%d", si_code);
		cname = code;
	}
	abi_out_init(&o, text, sizeof(text));
	abi_out_printf(&o, "--- %s {si_signo=%s, si_code=%s, si_addr=", sig, sig, cname);
	strace_put_ptr(&o, addr);
	abi_out_puts(&o, "} ---");
	write_event(t, text);
}

void strace_exited(struct task *t, int status)
{
	char text[128], sig[32];

	if (!g_kernel.strace)
		return;
	if ((status & 0x7f) == 0) {
		snprintf(text, sizeof(text), "+++ exited with %d +++", (status >> 8) & 0xff);
	} else {
		abi_fmt_signum(sig, sizeof(sig), status & 0x7f);
		snprintf(text, sizeof(text), "+++ killed by %s%s +++", sig,
			 status & LINUX_WCOREFLAG ? " (core dumped)" : "");
	}
	write_event(t, text);
}

static bool never_returns(long nr) { return nr == LINUX_SYS_exit || nr == LINUX_SYS_exit_group; }

void strace_enter(struct task *t, const struct syscall_args *a)
{
	const struct abi_syscall *sc;
	struct strace_call c = {.t = t, .nr = a->nr, .args = a->a};

	if (!g_kernel.strace)
		return;
	sc = abi_syscall(a->nr);
	line_begin(t, sc, a->nr);
	put_args(&g_line.out, &c);
	if (never_returns(a->nr))
		line_end("?");
}

void strace_exit(struct task *t, const struct syscall_args *a, long ret)
{
	struct strace_call c = {.t = t, .nr = a->nr, .args = a->a, .done = true, .ret = ret};
	char result[512];
	struct abi_out r;

	if (!g_kernel.strace || never_returns(a->nr))
		return;
	if (!g_line.pending || g_line.nr != a->nr)
		line_begin(t, abi_syscall(a->nr), a->nr);
	put_args(&g_line.out, &c);
	abi_out_init(&r, result, sizeof(result));
	strace_put_ret(&r, a->nr, a->a, ret);
	line_end(result);
}
