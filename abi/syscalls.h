/* The x86-64 syscall table as data: numbers, names, argument counts and how strace prints each. */
#ifndef ABI_SYSCALLS_H
#define ABI_SYSCALLS_H

#include <stdint.h>

/* Syscall numbers: LINUX_SYS_read = 0, ..., LINUX_SYS_file_setattr = 469. */
enum {
#define SYSCALL(nr, name, nargs, k0, k1, k2, k3, k4, k5) LINUX_SYS_##name = nr,
#include "abi/syscalls.def"
#undef SYSCALL
};

/* One more than the highest syscall number: a table indexed by number has this many slots. */
#define ABI_SYSCALL_MAX (LINUX_SYS_file_setattr + 1)

/* How strace prints one argument. "Next arg" means the argument right after this one;
 * _OUT kinds are read from guest memory after the call (on failure: the address only). */
enum abi_arg_kind {
	ABI_ARG_NONE = 0,	/* slot unused */
	ABI_ARG_INT,		/* int, signed decimal */
	ABI_ARG_UINT,		/* unsigned int, decimal */
	ABI_ARG_LONG,		/* long, signed decimal */
	ABI_ARG_HEX,		/* 0x... (0 as 0) */
	ABI_ARG_SIZE,		/* size_t, unsigned decimal */
	ABI_ARG_OFFSET,		/* off_t, signed decimal */
	ABI_ARG_PTR,		/* address: NULL or 0x... */
	ABI_ARG_FD,		/* int fd */
	ABI_ARG_DIRFD,		/* int fd, AT_FDCWD by name */
	ABI_ARG_UID,		/* uid_t/gid_t: -1 for (uid_t)-1 */
	ABI_ARG_PATH,		/* NUL-terminated path, printed whole */
	ABI_ARG_STR,		/* NUL-terminated string, truncated to 32 bytes */
	ABI_ARG_STR_OUT,	/* string written by the call (getcwd) */
	ABI_ARG_BUF_IN,		/* buffer printed as a string, length = next arg */
	ABI_ARG_BUF_OUT,	/* buffer filled by the call, length = return value */
	ABI_ARG_IOVEC_IN,	/* struct iovec[next arg] */
	ABI_ARG_IOVEC_OUT,	/* struct iovec[next arg] filled by the call, ret bytes in all */
	ABI_ARG_STRV,		/* char *[] argv: ["a", "b"] */
	ABI_ARG_ENVP,		/* char *[] envp: the address and a "N vars" comment */
	ABI_ARG_OFLAGS,		/* O_RDONLY|O_CLOEXEC */
	ABI_ARG_OFLAGS_NOACC,	/* O_ flags without the access mode (pipe2, dup3): 0 or O_CLOEXEC */
	ABI_ARG_OPEN_MODE,	/* mode, shown only with O_CREAT/O_TMPFILE in the previous arg */
	ABI_ARG_MODE,		/* octal mode, with S_IF* type when set (mknod) */
	ABI_ARG_DEV,		/* dev_t: makedev(0x1, 0x3) */
	ABI_ARG_ATFLAGS,	/* AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH (0x200 = AT_REMOVEDIR) */
	ABI_ARG_ACCESS_ATFLAGS, /* faccessat2 flags (0x200 = AT_EACCESS) */
	ABI_ARG_STATX_ATFLAGS,	/* statx flags, AT_STATX_SYNC_AS_STAT for 0 */
	ABI_ARG_ACCESS_MODE,	/* F_OK or R_OK|W_OK|X_OK */
	ABI_ARG_PROT,		/* PROT_READ|PROT_WRITE */
	ABI_ARG_MAPFLAGS,	/* MAP_PRIVATE|MAP_ANONYMOUS */
	ABI_ARG_MREMAP_FLAGS,	/* MREMAP_MAYMOVE */
	ABI_ARG_MADVISE,	/* MADV_DONTNEED */
	ABI_ARG_FADVISE,	/* POSIX_FADV_SEQUENTIAL */
	ABI_ARG_WHENCE,		/* SEEK_SET */
	ABI_ARG_SIGNUM,		/* SIGSEGV */
	ABI_ARG_SIGHOW,		/* SIG_BLOCK */
	ABI_ARG_SIGSET_PTR,	/* sigset_t * read before the call: [INT TERM] */
	ABI_ARG_SIGSET_OUT,	/* sigset_t * written by the call */
	ABI_ARG_SIGACTION_IN,	/* struct sigaction * (kernel layout) */
	ABI_ARG_SIGACTION_OUT,
	ABI_ARG_STACK_IN, /* stack_t * (sigaltstack) */
	ABI_ARG_STACK_OUT,
	ABI_ARG_CLOCKID,     /* CLOCK_MONOTONIC */
	ABI_ARG_TIMER_FLAGS, /* 0 or TIMER_ABSTIME */
	ABI_ARG_TIMESPEC_IN, /* {tv_sec=1, tv_nsec=0} */
	ABI_ARG_TIMESPEC_OUT,
	ABI_ARG_TIMEVAL_OUT, /* {tv_sec=1, tv_usec=0} */
	ABI_ARG_IOCTL_CMD,   /* TCGETS, or _IOC(...) */
	ABI_ARG_FCNTL_CMD,   /* F_GETFL */
	ABI_ARG_FCNTL_ARG,   /* fcntl's third arg, decoded per the command (omitted for F_GET*) */
	ABI_ARG_STRUCT_STAT_OUT, /* {st_mode=S_IFREG|0644, st_size=..., ...} */
	ABI_ARG_STATX_MASK,	 /* STATX_BASIC_STATS */
	ABI_ARG_STATX_OUT,  /* {stx_mask=..., stx_attributes=0, stx_mode=..., stx_size=..., ...} */
	ABI_ARG_DIRENT_OUT, /* the address and an "N entries" comment (ret bytes of dirents) */
	ABI_ARG_ARCH_PRCTL_CODE, /* ARCH_SET_FS */
	ABI_ARG_ARCH_PRCTL_ADDR, /* hex, or [0x...] read after the call for ARCH_GET_* */
	ABI_ARG_PRCTL_OPTION,	 /* PR_SET_NAME */
	ABI_ARG_CLONE_FLAGS,	 /* CLONE_NEWNS|CLONE_NEWUSER (unshare, setns) */
	ABI_ARG_FUTEX_OP,	 /* FUTEX_WAIT_PRIVATE */
	ABI_ARG_RLIMIT_RES,	 /* RLIMIT_NOFILE */
	ABI_ARG_RLIMIT_IN,	 /* {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY} */
	ABI_ARG_RLIMIT_OUT,
	ABI_ARG_UTSNAME_OUT,  /* {sysname="Linux", nodename="...", ...} */
	ABI_ARG_SYSINFO_OUT,  /* {uptime=985, loads=[...], totalram=..., ...} */
	ABI_ARG_FDPAIR_OUT,   /* int[2]: [3, 4] */
	ABI_ARG_GRND_FLAGS,   /* GRND_NONBLOCK */
	ABI_ARG_MFD_FLAGS,    /* MFD_CLOEXEC */
	ABI_ARG_WSTATUS_OUT,  /* [{WIFEXITED(s) && WEXITSTATUS(s) == 0}] */
	ABI_ARG_WAIT_OPTIONS, /* WNOHANG|__WALL */
	ABI_ARG_SOCK_DOMAIN,  /* AF_UNIX */
	ABI_ARG_SOCK_TYPE,    /* SOCK_STREAM|SOCK_CLOEXEC */
	ABI_ARG_SOCK_PROTO,   /* IPPROTO_TCP for AF_INET/AF_INET6, else a number */
	ABI_ARG_SOCK_FLAGS,   /* SOCK_CLOEXEC|SOCK_NONBLOCK (accept4) */
	ABI_ARG_SOCKADDR_IN,  /* struct sockaddr *, length = next arg */
	ABI_ARG_KIND_MAX,
};

struct abi_syscall {
	const char *name;
	uint8_t nargs;
	uint8_t arg[6]; /* enum abi_arg_kind */
};

/* The table entry for nr, or NULL when no syscall has that number (reserved, negative,
 * out of range). The pointer is to static data. */
const struct abi_syscall *abi_syscall(long nr);
/* The syscall's name ("openat"), or NULL as for abi_syscall(). */
const char *abi_syscall_name(long nr);
/* The number of the syscall called name, or -1 when there is none. */
long abi_syscall_by_name(const char *name);

#endif
