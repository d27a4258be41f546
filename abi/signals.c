/* Signal, process and socket names, printed the way strace does (SIGSEGV, CLONE_VM|SIGCHLD). */
#include <stdio.h>

#include "abi/flags.h"
#include "abi/linux.h"
#include "common/util.h"

#define X(name)                                                                                    \
	{                                                                                          \
		LINUX_##name, #name                                                                \
	}

#define FMT_BEGIN(buf, n)                                                                          \
	struct abi_out o;                                                                          \
	abi_out_init(&o, buf, n)
#define FMT_END() return (int)MIN(o.len, (size_t)INT32_MAX)

/* ---- signals ---- */

/* Index signo; 32 is SIGRTMIN and 33.. SIGRT_1.., as strace names them (not glibc's SIGRTMIN). */
static const char *const g_signames[LINUX_NSIG + 1] = {
    [1] = "SIGHUP",	[2] = "SIGINT",	   [3] = "SIGQUIT",   [4] = "SIGILL",	 [5] = "SIGTRAP",
    [6] = "SIGABRT",	[7] = "SIGBUS",	   [8] = "SIGFPE",    [9] = "SIGKILL",	 [10] = "SIGUSR1",
    [11] = "SIGSEGV",	[12] = "SIGUSR2",  [13] = "SIGPIPE",  [14] = "SIGALRM",	 [15] = "SIGTERM",
    [16] = "SIGSTKFLT", [17] = "SIGCHLD",  [18] = "SIGCONT",  [19] = "SIGSTOP",	 [20] = "SIGTSTP",
    [21] = "SIGTTIN",	[22] = "SIGTTOU",  [23] = "SIGURG",   [24] = "SIGXCPU",	 [25] = "SIGXFSZ",
    [26] = "SIGVTALRM", [27] = "SIGPROF",  [28] = "SIGWINCH", [29] = "SIGIO",	 [30] = "SIGPWR",
    [31] = "SIGSYS",	[32] = "SIGRTMIN", [33] = "SIGRT_1",  [34] = "SIGRT_2",	 [35] = "SIGRT_3",
    [36] = "SIGRT_4",	[37] = "SIGRT_5",  [38] = "SIGRT_6",  [39] = "SIGRT_7",	 [40] = "SIGRT_8",
    [41] = "SIGRT_9",	[42] = "SIGRT_10", [43] = "SIGRT_11", [44] = "SIGRT_12", [45] = "SIGRT_13",
    [46] = "SIGRT_14",	[47] = "SIGRT_15", [48] = "SIGRT_16", [49] = "SIGRT_17", [50] = "SIGRT_18",
    [51] = "SIGRT_19",	[52] = "SIGRT_20", [53] = "SIGRT_21", [54] = "SIGRT_22", [55] = "SIGRT_23",
    [56] = "SIGRT_24",	[57] = "SIGRT_25", [58] = "SIGRT_26", [59] = "SIGRT_27", [60] = "SIGRT_28",
    [61] = "SIGRT_29",	[62] = "SIGRT_30", [63] = "SIGRT_31", [64] = "SIGRT_32",
};

const char *abi_signal_name(int sig)
{
	if (sig < 1 || sig > LINUX_NSIG)
		return NULL;
	return g_signames[sig];
}

int abi_fmt_signum(char *buf, size_t n, int64_t v)
{
	FMT_BEGIN(buf, n);
	const char *name = v >= 1 && v <= LINUX_NSIG ? abi_signal_name((int)v) : NULL;

	if (name)
		abi_out_puts(&o, name);
	else
		abi_out_printf(&o, "%lld", (long long)v);
	FMT_END();
}

/* Bit signo-1 is signo. More than half the signals set prints the complement, ~[...]. */
int abi_fmt_sigset(char *buf, size_t n, uint64_t mask)
{
	FMT_BEGIN(buf, n);
	const char *sep = "";

	if (__builtin_popcountll(mask) > LINUX_NSIG / 2) {
		abi_out_putc(&o, '~');
		mask = ~mask;
	}
	abi_out_putc(&o, '[');
	for (int sig = 1; sig <= LINUX_NSIG; sig++) {
		if (!(mask & (1ULL << (sig - 1))))
			continue;
		abi_out_printf(&o, "%s%s", sep, g_signames[sig] + 3);
		sep = " ";
	}
	abi_out_putc(&o, ']');
	FMT_END();
}

static const struct abi_xlat g_sighow[] = {X(SIG_BLOCK), X(SIG_UNBLOCK), X(SIG_SETMASK)};

int abi_fmt_sighow(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_xlat(&o, g_sighow, ARRAY_SIZE(g_sighow), v, "SIG_???");
	FMT_END();
}

static const struct abi_xlat g_sa_flags[] = {
    X(SA_RESTORER),  X(SA_ONSTACK), X(SA_RESTART),   X(SA_NODEFER),
    X(SA_RESETHAND), X(SA_SIGINFO), X(SA_NOCLDSTOP), X(SA_NOCLDWAIT),
};

int abi_fmt_sa_flags(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_flags(&o, g_sa_flags, ARRAY_SIZE(g_sa_flags), v, NULL, NULL);
	FMT_END();
}

static const struct abi_xlat g_ss_flags[] = {
    X(SS_ONSTACK),
    X(SS_DISABLE),
    {1ULL << 31, "SS_AUTODISARM"},
};

int abi_fmt_ss_flags(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_flags(&o, g_ss_flags, ARRAY_SIZE(g_ss_flags), (uint32_t)v, NULL, NULL);
	FMT_END();
}

/* ---- processes ---- */

static const struct abi_xlat g_clone_flags[] = {
    {0x00000100, "CLONE_VM"},
    {0x00000200, "CLONE_FS"},
    {0x00000400, "CLONE_FILES"},
    {0x00000800, "CLONE_SIGHAND"},
    {0x00001000, "CLONE_PIDFD"},
    {0x00002000, "CLONE_PTRACE"},
    {0x00004000, "CLONE_VFORK"},
    {0x00008000, "CLONE_PARENT"},
    {0x00010000, "CLONE_THREAD"},
    {0x00020000, "CLONE_NEWNS"},
    {0x00040000, "CLONE_SYSVSEM"},
    {0x00080000, "CLONE_SETTLS"},
    {0x00100000, "CLONE_PARENT_SETTID"},
    {0x00200000, "CLONE_CHILD_CLEARTID"},
    {0x00400000, "CLONE_DETACHED"},
    {0x00800000, "CLONE_UNTRACED"},
    {0x01000000, "CLONE_CHILD_SETTID"},
    {0x02000000, "CLONE_NEWCGROUP"},
    {0x04000000, "CLONE_NEWUTS"},
    {0x08000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
};

int abi_fmt_clone_flags(char *buf, size_t n, uint64_t v, bool with_signal)
{
	FMT_BEGIN(buf, n);
	int sig = with_signal ? (int)(v & 0xff) : 0;

	if (with_signal)
		v &= ~0xffULL;
	if (!v && !sig) {
		abi_out_putc(&o, '0');
		FMT_END();
	}
	const char *sep = "";
	for (size_t i = 0; i < ARRAY_SIZE(g_clone_flags); i++) {
		if (v & g_clone_flags[i].val) {
			abi_out_printf(&o, "%s%s", sep, g_clone_flags[i].name);
			v &= ~g_clone_flags[i].val;
			sep = "|";
		}
	}
	if (v) {
		abi_out_printf(&o, "%s%#llx", sep, (unsigned long long)v);
		sep = "|";
	}
	if (sig) {
		const char *name = abi_signal_name(sig);

		if (name)
			abi_out_printf(&o, "%s%s", sep, name);
		else
			abi_out_printf(&o, "%s%d", sep, sig);
	}
	FMT_END();
}

static const char *const g_futex_cmds[] = {
    "FUTEX_WAIT",	    "FUTEX_WAKE",	 "FUTEX_FD",	      "FUTEX_REQUEUE",
    "FUTEX_CMP_REQUEUE",    "FUTEX_WAKE_OP",	 "FUTEX_LOCK_PI",     "FUTEX_UNLOCK_PI",
    "FUTEX_TRYLOCK_PI",	    "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
    "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
};

/* FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, as strace composes them. */
int abi_fmt_futex_op(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	uint32_t op = (uint32_t)v;
	uint32_t cmd = op & ~(uint32_t)(LINUX_FUTEX_PRIVATE_FLAG | LINUX_FUTEX_CLOCK_REALTIME);

	if (cmd >= ARRAY_SIZE(g_futex_cmds)) {
		abi_out_printf(&o, "%#x /* FUTEX_??? */", op);
		FMT_END();
	}
	abi_out_puts(&o, g_futex_cmds[cmd]);
	if (op & LINUX_FUTEX_PRIVATE_FLAG)
		abi_out_puts(&o, "_PRIVATE");
	if (op & LINUX_FUTEX_CLOCK_REALTIME)
		abi_out_puts(&o, "|FUTEX_CLOCK_REALTIME");
	FMT_END();
}

static const struct abi_xlat g_wait_options[] = {
    {1, "WNOHANG"},	    {2, "WSTOPPED"},
    {4, "WEXITED"},	    {8, "WCONTINUED"},
    {0x1000000, "WNOWAIT"}, {0x80000000, "__WCLONE"},
    {0x40000000, "__WALL"}, {0x20000000, "__WNOTHREAD"},
};

int abi_fmt_wait_options(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_flags(&o, g_wait_options, ARRAY_SIZE(g_wait_options), (uint32_t)v, NULL, NULL);
	FMT_END();
}

static void put_sig(struct abi_out *o, int sig)
{
	const char *name = abi_signal_name(sig);

	if (name)
		abi_out_puts(o, name);
	else
		abi_out_printf(o, "%d", sig);
}

int abi_fmt_wstatus(char *buf, size_t n, int status)
{
	FMT_BEGIN(buf, n);
	int low = status & 0x7f;

	abi_out_putc(&o, '{');
	if (low == 0) {
		abi_out_printf(&o, "WIFEXITED(s) && WEXITSTATUS(s) == %d", (status >> 8) & 0xff);
	} else if ((status & 0xff) == 0x7f) {
		abi_out_puts(&o, "WIFSTOPPED(s) && WSTOPSIG(s) == ");
		put_sig(&o, (status >> 8) & 0xff);
		if (status >> 16)
			abi_out_printf(&o, " && s >> 16 == %d", (status >> 16) & 0xffff);
	} else if (status == 0xffff) {
		abi_out_puts(&o, "WIFCONTINUED(s)");
	} else {
		abi_out_puts(&o, "WIFSIGNALED(s) && WTERMSIG(s) == ");
		put_sig(&o, low);
		if (status & LINUX_WCOREFLAG)
			abi_out_puts(&o, " && WCOREDUMP(s)");
	}
	abi_out_putc(&o, '}');
	FMT_END();
}

/* ---- sockets ---- */

static const struct abi_xlat g_domains[] = {
    {0, "AF_UNSPEC"},	  {1, "AF_UNIX"},      {2, "AF_INET"},	  {3, "AF_AX25"},
    {4, "AF_IPX"},	  {5, "AF_APPLETALK"}, {9, "AF_X25"},	  {10, "AF_INET6"},
    {15, "AF_KEY"},	  {16, "AF_NETLINK"},  {17, "AF_PACKET"}, {29, "AF_CAN"},
    {31, "AF_BLUETOOTH"}, {38, "AF_ALG"},      {40, "AF_VSOCK"},  {44, "AF_XDP"},
};

int abi_fmt_sock_domain(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_xlat(&o, g_domains, ARRAY_SIZE(g_domains), (uint32_t)v, "AF_???");
	FMT_END();
}

#ifndef LINUX_SOCK_NONBLOCK
#define LINUX_SOCK_NONBLOCK 04000
#define LINUX_SOCK_CLOEXEC 02000000
#endif
static const struct abi_xlat g_sock_types[] = {
    {1, "SOCK_STREAM"},	   {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"},	   {4, "SOCK_RDM"},
    {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"},  {10, "SOCK_PACKET"},
};
static const struct abi_xlat g_sock_flags[] = {X(SOCK_CLOEXEC), X(SOCK_NONBLOCK)};

int abi_fmt_sock_type(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	uint64_t rest = (uint32_t)v & ~0xfULL;

	abi_put_xlat(&o, g_sock_types, ARRAY_SIZE(g_sock_types), v & 0xf, "SOCK_???");
	for (size_t i = 0; i < ARRAY_SIZE(g_sock_flags); i++) {
		if (rest & g_sock_flags[i].val) {
			abi_out_printf(&o, "|%s", g_sock_flags[i].name);
			rest &= ~g_sock_flags[i].val;
		}
	}
	if (rest)
		abi_out_printf(&o, "|%#llx", (unsigned long long)rest);
	FMT_END();
}

int abi_fmt_sock_flags(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_flags(&o, g_sock_flags, ARRAY_SIZE(g_sock_flags), (uint32_t)v, NULL, NULL);
	FMT_END();
}

static const struct abi_xlat g_ipprotos[] = {
    {0, "IPPROTO_IP"},	      {1, "IPPROTO_ICMP"},    {2, "IPPROTO_IGMP"},
    {4, "IPPROTO_IPIP"},      {6, "IPPROTO_TCP"},     {8, "IPPROTO_EGP"},
    {12, "IPPROTO_PUP"},      {17, "IPPROTO_UDP"},    {22, "IPPROTO_IDP"},
    {29, "IPPROTO_TP"},	      {33, "IPPROTO_DCCP"},   {41, "IPPROTO_IPV6"},
    {46, "IPPROTO_RSVP"},     {47, "IPPROTO_GRE"},    {50, "IPPROTO_ESP"},
    {51, "IPPROTO_AH"},	      {58, "IPPROTO_ICMPV6"}, {92, "IPPROTO_MTP"},
    {94, "IPPROTO_BEETPH"},   {98, "IPPROTO_ENCAP"},  {103, "IPPROTO_PIM"},
    {108, "IPPROTO_COMP"},    {115, "IPPROTO_L2TP"},  {132, "IPPROTO_SCTP"},
    {136, "IPPROTO_UDPLITE"}, {137, "IPPROTO_MPLS"},  {143, "IPPROTO_ETHERNET"},
    {255, "IPPROTO_RAW"},     {262, "IPPROTO_MPTCP"},
};

int abi_fmt_ipproto(char *buf, size_t n, uint64_t v)
{
	FMT_BEGIN(buf, n);
	abi_put_xlat(&o, g_ipprotos, ARRAY_SIZE(g_ipprotos), (uint32_t)v, "IPPROTO_???");
	FMT_END();
}
