/* Flag and constant names for files, memory, time, ioctl and fcntl, printed the way strace does. */
#include "abi/flags.h"

#include <stdio.h>
#include <string.h>

#include "abi/linux.h"
#include "common/util.h"

/* ---- the output buffer ---- */

void abi_out_init(struct abi_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	if (cap)
		buf[0] = '\0';
}

void abi_out_vprintf(struct abi_out *o, const char *fmt, va_list ap)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int r = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);

	if (r > 0)
		o->len += (size_t)r;
}

void abi_out_printf(struct abi_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	abi_out_vprintf(o, fmt, ap);
	va_end(ap);
}

void abi_out_puts(struct abi_out *o, const char *s)
{
	size_t l = strlen(s);

	if (o->len < o->cap) {
		size_t c = MIN(l, o->cap - o->len - 1);

		memcpy(o->buf + o->len, s, c);
		o->buf[o->len + c] = '\0';
	}
	o->len += l;
}

void abi_out_putc(struct abi_out *o, char c)
{
	if (o->len + 1 < o->cap) {
		o->buf[o->len] = c;
		o->buf[o->len + 1] = '\0';
	}
	o->len++;
}

/* ---- generic tables ---- */

void abi_put_xlat(struct abi_out *o, const struct abi_xlat *tab, size_t n, uint64_t v,
		  const char *unknown)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].val == v) {
			abi_out_puts(o, tab[i].name);
			return;
		}
	}
	abi_out_printf(o, "%#llx", (unsigned long long)v);
	if (unknown)
		abi_out_printf(o, " /* %s */", unknown);
}

/* Print the named bits of *v in table order, clearing each; returns how many were printed.
 * sep says whether something was already printed before (so a '|' goes first). */
static int put_bits(struct abi_out *o, const struct abi_xlat *tab, size_t n, uint64_t *v, int sep)
{
	int printed = 0;

	for (size_t i = 0; i < n && *v; i++) {
		if (tab[i].val && (*v & tab[i].val) == tab[i].val) {
			if (sep || printed)
				abi_out_putc(o, '|');
			abi_out_puts(o, tab[i].name);
			*v &= ~tab[i].val;
			printed++;
		}
	}
	return printed;
}

/* The bits nothing named: |0x... after names, or 0x... with the unknown comment alone. */
static void put_rest(struct abi_out *o, uint64_t rest, int printed, const char *unknown)
{
	if (!rest)
		return;
	if (printed) {
		abi_out_printf(o, "|%#llx", (unsigned long long)rest);
		return;
	}
	abi_out_printf(o, "%#llx", (unsigned long long)rest);
	if (unknown)
		abi_out_printf(o, " /* %s */", unknown);
}

void abi_put_flags(struct abi_out *o, const struct abi_xlat *tab, size_t n, uint64_t v,
		   const char *zero, const char *unknown)
{
	if (!v) {
		abi_out_puts(o, zero ? zero : "0");
		return;
	}
	int printed = put_bits(o, tab, n, &v, 0);
	put_rest(o, v, printed, unknown);
}

/* Define abi_fmt_<name>(buf, n, v) on top of a put function. */
#define FMT_WRAPPER(name, put)                                                                     \
	int abi_fmt_##name(char *buf, size_t n, uint64_t v)                                        \
	{                                                                                          \
		struct abi_out o;                                                                  \
		abi_out_init(&o, buf, n);                                                          \
		put(&o, v);                                                                        \
		return (int)MIN(o.len, (size_t)INT32_MAX);                                         \
	}
#define XLAT_FMT(name, tab, unknown)                                                               \
	static void put_##name(struct abi_out *o, uint64_t v)                                      \
	{                                                                                          \
		abi_put_xlat(o, tab, ARRAY_SIZE(tab), v, unknown);                                 \
	}                                                                                          \
	FMT_WRAPPER(name, put_##name)
#define FLAGS_FMT(name, tab, zero, unknown)                                                        \
	static void put_##name(struct abi_out *o, uint64_t v)                                      \
	{                                                                                          \
		abi_put_flags(o, tab, ARRAY_SIZE(tab), v, zero, unknown);                          \
	}                                                                                          \
	FMT_WRAPPER(name, put_##name)

#define X(name)                                                                                    \
	{                                                                                          \
		LINUX_##name, #name                                                                \
	}

/* ---- open flags ---- */

/* strace's order: O_SYNC before O_DSYNC (it contains it), O_TMPFILE before O_DIRECTORY. */
static const struct abi_xlat g_oflags[] = {
    X(O_CREAT),
    X(O_EXCL),
    X(O_NOCTTY),
    X(O_TRUNC),
    X(O_APPEND),
    X(O_NONBLOCK),
    X(O_SYNC),
    X(O_DSYNC),
    X(O_DIRECT),
    X(O_LARGEFILE),
    X(O_NOFOLLOW),
    X(O_NOATIME),
    X(O_CLOEXEC),
    X(O_PATH),
    X(O_TMPFILE),
    X(O_DIRECTORY),
    {LINUX_O_ASYNC, "FASYNC"},
};
static const char *const g_accmode[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};

static void put_oflags(struct abi_out *o, uint64_t v)
{
	abi_out_puts(o, g_accmode[v & LINUX_O_ACCMODE]);
	v &= ~(uint64_t)LINUX_O_ACCMODE;
	put_bits(o, g_oflags, ARRAY_SIZE(g_oflags), &v, 1);
	put_rest(o, v, 1, NULL);
}
FMT_WRAPPER(oflags, put_oflags)
FLAGS_FMT(oflags_noacc, g_oflags, NULL, NULL)

static const struct abi_xlat g_fd_flags[] = {X(FD_CLOEXEC)};
FLAGS_FMT(fd_flags, g_fd_flags, NULL, NULL)

/* ---- modes and devices ---- */

static const struct abi_xlat g_ftypes[] = {
    X(S_IFSOCK), X(S_IFLNK), X(S_IFREG), X(S_IFBLK), X(S_IFDIR), X(S_IFCHR), X(S_IFIFO),
};

static void put_mode(struct abi_out *o, uint64_t v)
{
	uint64_t type = v & LINUX_S_IFMT;

	if (!type) {
		abi_out_printf(o, "%#03llo", (unsigned long long)v);
		return;
	}
	/* With a file type strace names the set-id and sticky bits too: S_IFDIR|S_ISVTX|0777. */
	abi_put_xlat(o, g_ftypes, ARRAY_SIZE(g_ftypes), type, NULL);
	if (v & 04000)
		abi_out_puts(o, "|S_ISUID");
	if (v & 02000)
		abi_out_puts(o, "|S_ISGID");
	if (v & 01000)
		abi_out_puts(o, "|S_ISVTX");
	abi_out_printf(o, "|%#03llo", (unsigned long long)(v & ~(uint64_t)(LINUX_S_IFMT | 07000)));
}
FMT_WRAPPER(mode, put_mode)

/* Linux's dev_t encoding (new_encode_dev). */
static void put_dev(struct abi_out *o, uint64_t v)
{
	unsigned long long major = ((v >> 8) & 0xfff) | ((v >> 32) & ~0xfffULL);
	unsigned long long minor = (v & 0xff) | ((v >> 12) & ~0xffULL);

	abi_out_printf(o, "makedev(%#llx, %#llx)", major, minor);
}
FMT_WRAPPER(dev, put_dev)

/* ---- *at() flags ---- */

static const struct abi_xlat g_atflags[] = {
    X(AT_SYMLINK_NOFOLLOW), X(AT_REMOVEDIR),  X(AT_SYMLINK_FOLLOW),
    X(AT_NO_AUTOMOUNT),	    X(AT_EMPTY_PATH), X(AT_RECURSIVE),
};
FLAGS_FMT(atflags, g_atflags, NULL, NULL)

static const struct abi_xlat g_access_atflags[] = {
    X(AT_SYMLINK_NOFOLLOW),
    X(AT_EACCESS),
    X(AT_EMPTY_PATH),
};
FLAGS_FMT(access_atflags, g_access_atflags, NULL, NULL)

static const struct abi_xlat g_statx_atflags[] = {
    X(AT_STATX_FORCE_SYNC), X(AT_STATX_DONT_SYNC), X(AT_SYMLINK_NOFOLLOW),
    X(AT_NO_AUTOMOUNT),	    X(AT_EMPTY_PATH),
};

/* The sync type (0x6000) comes first; 0 there is AT_STATX_SYNC_AS_STAT. */
static void put_statx_atflags(struct abi_out *o, uint64_t v)
{
	int printed = 0;

	if (!(v & LINUX_AT_STATX_SYNC_TYPE)) {
		abi_out_puts(o, "AT_STATX_SYNC_AS_STAT");
		printed = 1;
	}
	printed += put_bits(o, g_statx_atflags, ARRAY_SIZE(g_statx_atflags), &v, printed);
	put_rest(o, v, printed, NULL);
}
FMT_WRAPPER(statx_atflags, put_statx_atflags)

static const struct abi_xlat g_statx_mask[] = {
    X(STATX_ALL),	    X(STATX_BASIC_STATS), X(STATX_TYPE),	 X(STATX_MODE),
    X(STATX_NLINK),	    X(STATX_UID),	  X(STATX_GID),		 X(STATX_ATIME),
    X(STATX_MTIME),	    X(STATX_CTIME),	  X(STATX_INO),		 X(STATX_SIZE),
    X(STATX_BLOCKS),	    X(STATX_BTIME),	  X(STATX_MNT_ID),	 X(STATX_DIOALIGN),
    X(STATX_MNT_ID_UNIQUE), X(STATX_SUBVOL),	  X(STATX_WRITE_ATOMIC), X(STATX_DIO_READ_ALIGN),
};
FLAGS_FMT(statx_mask, g_statx_mask, NULL, NULL)

static const struct abi_xlat g_statx_attrs[] = {
    {0x4, "STATX_ATTR_COMPRESSED"},    {0x10, "STATX_ATTR_IMMUTABLE"},
    {0x20, "STATX_ATTR_APPEND"},       {0x40, "STATX_ATTR_NODUMP"},
    {0x800, "STATX_ATTR_ENCRYPTED"},   {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"},
    {0x200000, "STATX_ATTR_DAX"},      {0x400000, "STATX_ATTR_WRITE_ATOMIC"},
};
FLAGS_FMT(statx_attrs, g_statx_attrs, NULL, NULL)

static const struct abi_xlat g_access_mode[] = {X(R_OK), X(W_OK), X(X_OK)};
FLAGS_FMT(access_mode, g_access_mode, "F_OK", NULL)

static const struct abi_xlat g_whence[] = {
    X(SEEK_SET), X(SEEK_CUR), X(SEEK_END), X(SEEK_DATA), X(SEEK_HOLE),
};
XLAT_FMT(whence, g_whence, "SEEK_???")

/* ---- fcntl ---- */

static const struct abi_xlat g_fcntl_cmds[] = {
    X(F_DUPFD),
    X(F_GETFD),
    X(F_SETFD),
    X(F_GETFL),
    X(F_SETFL),
    X(F_GETLK),
    X(F_SETLK),
    X(F_SETLKW),
    {8, "F_SETOWN"},
    {9, "F_GETOWN"},
    {10, "F_SETSIG"},
    {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},
    {16, "F_GETOWN_EX"},
    {17, "F_GETOWNER_UIDS"},
    {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},
    {38, "F_OFD_SETLKW"},
    {1024, "F_SETLEASE"},
    {1025, "F_GETLEASE"},
    {1026, "F_NOTIFY"},
    {1027, "F_DUPFD_QUERY"},
    {1028, "F_CREATED_QUERY"},
    X(F_DUPFD_CLOEXEC),
    {1031, "F_SETPIPE_SZ"},
    {1032, "F_GETPIPE_SZ"},
    {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},
    {1035, "F_GET_RW_HINT"},
    {1036, "F_SET_RW_HINT"},
    {1037, "F_GET_FILE_RW_HINT"},
    {1038, "F_SET_FILE_RW_HINT"},
};
XLAT_FMT(fcntl_cmd, g_fcntl_cmds, "F_???")

/* ---- ioctl ---- */

static const struct abi_xlat g_ioctls[] = {
    X(TCGETS),
    X(TCSETS),
    X(TCSETSW),
    X(TCSETSF),
    {0x5405, "TCGETA"},
    {0x5406, "TCSETA"},
    {0x5407, "TCSETAW"},
    {0x5408, "TCSETAF"},
    {0x5409, "TCSBRK"},
    {0x540a, "TCXONC"},
    {0x540b, "TCFLSH"},
    {0x540c, "TIOCEXCL"},
    {0x540d, "TIOCNXCL"},
    {0x540e, "TIOCSCTTY"},
    X(TIOCGPGRP),
    X(TIOCSPGRP),
    {0x5411, "TIOCOUTQ"},
    {0x5412, "TIOCSTI"},
    X(TIOCGWINSZ),
    X(TIOCSWINSZ),
    {0x5415, "TIOCMGET"},
    {0x5416, "TIOCMBIS"},
    {0x5417, "TIOCMBIC"},
    {0x5418, "TIOCMSET"},
    X(FIONREAD),
    {0x541c, "TIOCLINUX"},
    {0x541d, "TIOCCONS"},
    {0x5420, "TIOCPKT"},
    X(FIONBIO),
    {0x5422, "TIOCNOTTY"},
    {0x5423, "TIOCSETD"},
    {0x5424, "TIOCGETD"},
    {0x5425, "TCSBRKP"},
    {0x5427, "TIOCSBRK"},
    {0x5428, "TIOCCBRK"},
    {0x5429, "TIOCGSID"},
    {0x802c542a, "TCGETS2"},
    {0x402c542b, "TCSETS2"},
    {0x80045430, "TIOCGPTN"},
    {0x40045431, "TIOCSPTLCK"},
    {0x80045432, "TIOCGDEV"},
    {0x40045436, "TIOCSIG"},
    {0x5437, "TIOCVHANGUP"},
    {0x80045438, "TIOCGPKT"},
    {0x80045439, "TIOCGPTLCK"},
    {0x80045440, "TIOCGEXCL"},
    {0x5441, "TIOCGPTPEER"},
    X(FIONCLEX),
    X(FIOCLEX),
    {0x5452, "FIOASYNC"},
    {0x5460, "FIOQSIZE"},
    {0x8901, "FIOSETOWN"},
    {0x8903, "FIOGETOWN"},
    {0x8910, "SIOCGIFNAME"},
    {0x8912, "SIOCGIFCONF"},
    {0x8913, "SIOCGIFFLAGS"},
    {0x8915, "SIOCGIFADDR"},
    {0x8921, "SIOCGIFMTU"},
    {0x8927, "SIOCGIFHWADDR"},
    {0x8933, "SIOCGIFINDEX"},
    {0x1, "FIBMAP"},
    {0x2, "FIGETBSZ"},
    {0x80086601, "FS_IOC_GETFLAGS"},
    {0x40086602, "FS_IOC_SETFLAGS"},
    {0x80081272, "BLKGETSIZE64"},
    {0x40049409, "FICLONE"},
    {0x80045200, "RNDGETENTCNT"},
};

/* Unknown commands decode as _IOC(dir, type, nr, size), as strace does. */
static void put_ioctl_cmd(struct abi_out *o, uint64_t v)
{
	static const char *const dirs[] = {"_IOC_NONE", "_IOC_WRITE", "_IOC_READ",
					   "_IOC_READ|_IOC_WRITE"};
	uint32_t cmd = (uint32_t)v;

	for (size_t i = 0; i < ARRAY_SIZE(g_ioctls); i++) {
		if (g_ioctls[i].val == cmd) {
			abi_out_puts(o, g_ioctls[i].name);
			return;
		}
	}
	abi_out_printf(o, "_IOC(%s, %#x, %#x, %#x)", dirs[cmd >> 30], (cmd >> 8) & 0xff, cmd & 0xff,
		       (cmd >> 16) & 0x3fff);
}
FMT_WRAPPER(ioctl_cmd, put_ioctl_cmd)

/* ---- memory ---- */

static const struct abi_xlat g_prot[] = {
    X(PROT_READ), X(PROT_WRITE), X(PROT_EXEC), X(PROT_SEM), X(PROT_GROWSDOWN), X(PROT_GROWSUP),
};
FLAGS_FMT(prot, g_prot, "PROT_NONE", "PROT_???")

static const struct abi_xlat g_map_types[] = {
    X(MAP_SHARED),
    X(MAP_PRIVATE),
    X(MAP_SHARED_VALIDATE),
};
static const struct abi_xlat g_mapflags[] = {
    X(MAP_FIXED),     X(MAP_ANONYMOUS),	 X(MAP_32BIT),	 X(MAP_ABOVE4G),   X(MAP_GROWSDOWN),
    X(MAP_DENYWRITE), X(MAP_EXECUTABLE), X(MAP_LOCKED),	 X(MAP_NORESERVE), X(MAP_POPULATE),
    X(MAP_NONBLOCK),  X(MAP_STACK),	 X(MAP_HUGETLB), X(MAP_SYNC),	   X(MAP_FIXED_NOREPLACE),
};

/* The type (low nibble) first, then the flags, then the huge page size as N<<MAP_HUGE_SHIFT. */
static void put_mapflags(struct abi_out *o, uint64_t v)
{
	uint64_t huge = (v >> LINUX_MAP_HUGE_SHIFT) & LINUX_MAP_HUGE_MASK;

	abi_put_xlat(o, g_map_types, ARRAY_SIZE(g_map_types), v & LINUX_MAP_TYPE, "MAP_???");
	v &= ~((uint64_t)LINUX_MAP_TYPE | (LINUX_MAP_HUGE_MASK << LINUX_MAP_HUGE_SHIFT));
	put_bits(o, g_mapflags, ARRAY_SIZE(g_mapflags), &v, 1);
	if (huge)
		abi_out_printf(o, "|%llu<<MAP_HUGE_SHIFT", (unsigned long long)huge);
	put_rest(o, v, 1, NULL);
}
FMT_WRAPPER(mapflags, put_mapflags)

static const struct abi_xlat g_mremap[] = {
    X(MREMAP_MAYMOVE),
    X(MREMAP_FIXED),
    X(MREMAP_DONTUNMAP),
};
FLAGS_FMT(mremap_flags, g_mremap, NULL, NULL)

static const struct abi_xlat g_madvise[] = {
    X(MADV_NORMAL),
    X(MADV_RANDOM),
    X(MADV_SEQUENTIAL),
    X(MADV_WILLNEED),
    X(MADV_DONTNEED),
    X(MADV_FREE),
    {9, "MADV_REMOVE"},
    {10, "MADV_DONTFORK"},
    {11, "MADV_DOFORK"},
    {12, "MADV_MERGEABLE"},
    {13, "MADV_UNMERGEABLE"},
    {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"},
    {16, "MADV_DONTDUMP"},
    {17, "MADV_DODUMP"},
    {18, "MADV_WIPEONFORK"},
    {19, "MADV_KEEPONFORK"},
    {20, "MADV_COLD"},
    {21, "MADV_PAGEOUT"},
    {22, "MADV_POPULATE_READ"},
    {23, "MADV_POPULATE_WRITE"},
    {24, "MADV_DONTNEED_LOCKED"},
    {25, "MADV_COLLAPSE"},
    {100, "MADV_HWPOISON"},
    {101, "MADV_SOFT_OFFLINE"},
    {102, "MADV_GUARD_INSTALL"},
    {103, "MADV_GUARD_REMOVE"},
};
XLAT_FMT(madvise, g_madvise, "MADV_???")

static const struct abi_xlat g_fadvise[] = {
    {0, "POSIX_FADV_NORMAL"},	{1, "POSIX_FADV_RANDOM"},   {2, "POSIX_FADV_SEQUENTIAL"},
    {3, "POSIX_FADV_WILLNEED"}, {4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"},
};
XLAT_FMT(fadvise, g_fadvise, "POSIX_FADV_???")

/* ---- time ---- */

static const struct abi_xlat g_clocks[] = {
    X(CLOCK_REALTIME),		 X(CLOCK_MONOTONIC),	  X(CLOCK_PROCESS_CPUTIME_ID),
    X(CLOCK_THREAD_CPUTIME_ID),	 X(CLOCK_MONOTONIC_RAW),  X(CLOCK_REALTIME_COARSE),
    X(CLOCK_MONOTONIC_COARSE),	 X(CLOCK_BOOTTIME),	  {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"}, {10, "CLOCK_SGI_CYCLE"}, {11, "CLOCK_TAI"},
};

/* clockid_t is an int: a negative (dynamic, per-process or fd) clock prints as its int value. */
static void put_clockid(struct abi_out *o, uint64_t v)
{
	if ((int32_t)v < 0) {
		abi_out_printf(o, "%d", (int32_t)v);
		return;
	}
	abi_put_xlat(o, g_clocks, ARRAY_SIZE(g_clocks), (uint32_t)v, "CLOCK_???");
}
FMT_WRAPPER(clockid, put_clockid)

static const struct abi_xlat g_timer_flags[] = {X(TIMER_ABSTIME)};
FLAGS_FMT(timer_flags, g_timer_flags, NULL, NULL)

/* ---- process control ---- */

static const struct abi_xlat g_arch_prctl[] = {
    X(ARCH_SET_GS),
    X(ARCH_SET_FS),
    X(ARCH_GET_FS),
    X(ARCH_GET_GS),
    X(ARCH_GET_CPUID),
    X(ARCH_SET_CPUID),
    {0x1021, "ARCH_GET_XCOMP_SUPP"},
    {0x1022, "ARCH_GET_XCOMP_PERM"},
    {0x1023, "ARCH_REQ_XCOMP_PERM"},
    {0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
    {0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
    {0x2001, "ARCH_MAP_VDSO_X32"},
    {0x2002, "ARCH_MAP_VDSO_32"},
    {0x2003, "ARCH_MAP_VDSO_64"},
    {0x4001, "ARCH_GET_UNTAG_MASK"},
    {0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
    {0x4003, "ARCH_GET_MAX_TAG_BITS"},
    {0x4004, "ARCH_FORCE_TAGGED_SVA"},
    {0x5001, "ARCH_SHSTK_ENABLE"},
    {0x5002, "ARCH_SHSTK_DISABLE"},
    {0x5003, "ARCH_SHSTK_LOCK"},
    {0x5004, "ARCH_SHSTK_UNLOCK"},
    {0x5005, "ARCH_SHSTK_STATUS"},
};
XLAT_FMT(arch_prctl, g_arch_prctl, "ARCH_???")

static const struct abi_xlat g_prctl[] = {
    {1, "PR_SET_PDEATHSIG"},
    {2, "PR_GET_PDEATHSIG"},
    {3, "PR_GET_DUMPABLE"},
    {4, "PR_SET_DUMPABLE"},
    {5, "PR_GET_UNALIGN"},
    {6, "PR_SET_UNALIGN"},
    {7, "PR_GET_KEEPCAPS"},
    {8, "PR_SET_KEEPCAPS"},
    {9, "PR_GET_FPEMU"},
    {10, "PR_SET_FPEMU"},
    {11, "PR_GET_FPEXC"},
    {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},
    {14, "PR_SET_TIMING"},
    {15, "PR_SET_NAME"},
    {16, "PR_GET_NAME"},
    {19, "PR_GET_ENDIAN"},
    {20, "PR_SET_ENDIAN"},
    {21, "PR_GET_SECCOMP"},
    {22, "PR_SET_SECCOMP"},
    {23, "PR_CAPBSET_READ"},
    {24, "PR_CAPBSET_DROP"},
    {25, "PR_GET_TSC"},
    {26, "PR_SET_TSC"},
    {27, "PR_GET_SECUREBITS"},
    {28, "PR_SET_SECUREBITS"},
    {29, "PR_SET_TIMERSLACK"},
    {30, "PR_GET_TIMERSLACK"},
    {31, "PR_TASK_PERF_EVENTS_DISABLE"},
    {32, "PR_TASK_PERF_EVENTS_ENABLE"},
    {33, "PR_MCE_KILL"},
    {34, "PR_MCE_KILL_GET"},
    {35, "PR_SET_MM"},
    {36, "PR_SET_CHILD_SUBREAPER"},
    {37, "PR_GET_CHILD_SUBREAPER"},
    {38, "PR_SET_NO_NEW_PRIVS"},
    {39, "PR_GET_NO_NEW_PRIVS"},
    {40, "PR_GET_TID_ADDRESS"},
    {41, "PR_SET_THP_DISABLE"},
    {42, "PR_GET_THP_DISABLE"},
    {43, "PR_MPX_ENABLE_MANAGEMENT"},
    {44, "PR_MPX_DISABLE_MANAGEMENT"},
    {45, "PR_SET_FP_MODE"},
    {46, "PR_GET_FP_MODE"},
    {47, "PR_CAP_AMBIENT"},
    {50, "PR_SVE_SET_VL"},
    {51, "PR_SVE_GET_VL"},
    {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"},
    {54, "PR_PAC_RESET_KEYS"},
    {55, "PR_SET_TAGGED_ADDR_CTRL"},
    {56, "PR_GET_TAGGED_ADDR_CTRL"},
    {57, "PR_SET_IO_FLUSHER"},
    {58, "PR_GET_IO_FLUSHER"},
    {59, "PR_SET_SYSCALL_USER_DISPATCH"},
    {60, "PR_PAC_SET_ENABLED_KEYS"},
    {61, "PR_PAC_GET_ENABLED_KEYS"},
    {62, "PR_SCHED_CORE"},
    {63, "PR_SME_SET_VL"},
    {64, "PR_SME_GET_VL"},
    {65, "PR_SET_MDWE"},
    {66, "PR_GET_MDWE"},
    {67, "PR_SET_MEMORY_MERGE"},
    {68, "PR_GET_MEMORY_MERGE"},
    {69, "PR_RISCV_V_SET_CONTROL"},
    {70, "PR_RISCV_V_GET_CONTROL"},
    {71, "PR_RISCV_SET_ICACHE_FLUSH_CTX"},
    {72, "PR_PPC_GET_DEXCR"},
    {73, "PR_PPC_SET_DEXCR"},
    {74, "PR_GET_SHADOW_STACK_STATUS"},
    {75, "PR_SET_SHADOW_STACK_STATUS"},
    {76, "PR_LOCK_SHADOW_STACK_STATUS"},
    {77, "PR_TIMER_CREATE_RESTORE_IDS"},
    {78, "PR_FUTEX_HASH"},
    {0x41555856, "PR_GET_AUXV"},
    {0x53564d41, "PR_SET_VMA"},
    {0x59616d61, "PR_SET_PTRACER"},
};
XLAT_FMT(prctl_option, g_prctl, "PR_???")

static const struct abi_xlat g_grnd[] = {X(GRND_NONBLOCK), X(GRND_RANDOM), X(GRND_INSECURE)};
FLAGS_FMT(grnd_flags, g_grnd, NULL, NULL)

static const struct abi_xlat g_mfd[] = {
    {1, "MFD_CLOEXEC"},	    {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
    {8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"},
};
FLAGS_FMT(mfd_flags, g_mfd, NULL, NULL)

static const struct abi_xlat g_rlimits[] = {
    X(RLIMIT_CPU),	X(RLIMIT_FSIZE), X(RLIMIT_DATA),   X(RLIMIT_STACK),
    X(RLIMIT_CORE),	X(RLIMIT_RSS),	 X(RLIMIT_NPROC),  X(RLIMIT_NOFILE),
    X(RLIMIT_MEMLOCK),	X(RLIMIT_AS),	 X(RLIMIT_LOCKS),  X(RLIMIT_SIGPENDING),
    X(RLIMIT_MSGQUEUE), X(RLIMIT_NICE),	 X(RLIMIT_RTPRIO), X(RLIMIT_RTTIME),
};
XLAT_FMT(rlimit_res, g_rlimits, "RLIMIT_???")

/* strace prints whole KiB as N*1024. */
static void put_rlim(struct abi_out *o, uint64_t v)
{
	if (v == LINUX_RLIM_INFINITY)
		abi_out_puts(o, "RLIM64_INFINITY");
	else if (v && v % 1024 == 0)
		abi_out_printf(o, "%llu*1024", (unsigned long long)(v / 1024));
	else
		abi_out_printf(o, "%llu", (unsigned long long)v);
}
FMT_WRAPPER(rlim, put_rlim)
