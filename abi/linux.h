/* The x86-64 Linux ABI as data: the structs and flags the guest sees. No behaviour.
 * These are ours, not glibc's: the guest's struct stat is struct linux_stat. */
#ifndef ABI_LINUX_H
#define ABI_LINUX_H

#include <stdint.h>
#include <stddef.h>

/* ---- time ---- */
struct linux_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
struct linux_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
struct linux_timezone {
	int32_t tz_minuteswest;
	int32_t tz_dsttime;
};
_Static_assert(sizeof(struct linux_timespec) == 16, "timespec");
_Static_assert(sizeof(struct linux_timeval) == 16, "timeval");

#define LINUX_CLOCK_REALTIME 0
#define LINUX_CLOCK_MONOTONIC 1
#define LINUX_CLOCK_PROCESS_CPUTIME_ID 2
#define LINUX_CLOCK_THREAD_CPUTIME_ID 3
#define LINUX_CLOCK_MONOTONIC_RAW 4
#define LINUX_CLOCK_REALTIME_COARSE 5
#define LINUX_CLOCK_MONOTONIC_COARSE 6
#define LINUX_CLOCK_BOOTTIME 7
#define LINUX_TIMER_ABSTIME 1

/* ---- files ---- */
struct linux_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t __pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks;
	struct linux_timespec st_atim;
	struct linux_timespec st_mtim;
	struct linux_timespec st_ctim;
	int64_t __unused[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "stat");
_Static_assert(offsetof(struct linux_stat, st_mode) == 24, "stat.st_mode");
_Static_assert(offsetof(struct linux_stat, st_size) == 48, "stat.st_size");

struct linux_statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t __reserved;
};
struct linux_statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t __spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct linux_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major;
	uint32_t stx_rdev_minor;
	uint32_t stx_dev_major;
	uint32_t stx_dev_minor;
	uint64_t __spare2[14];
};
_Static_assert(sizeof(struct linux_statx) == 256, "statx");
_Static_assert(offsetof(struct linux_statx, stx_atime) == 64, "statx.stx_atime");

#define LINUX_STATX_TYPE 0x1U
#define LINUX_STATX_MODE 0x2U
#define LINUX_STATX_NLINK 0x4U
#define LINUX_STATX_UID 0x8U
#define LINUX_STATX_GID 0x10U
#define LINUX_STATX_ATIME 0x20U
#define LINUX_STATX_MTIME 0x40U
#define LINUX_STATX_CTIME 0x80U
#define LINUX_STATX_INO 0x100U
#define LINUX_STATX_SIZE 0x200U
#define LINUX_STATX_BLOCKS 0x400U
#define LINUX_STATX_BASIC_STATS 0x7ffU
#define LINUX_STATX_BTIME 0x800U
#define LINUX_STATX_ALL 0xfffU
#define LINUX_STATX_MNT_ID 0x1000U
#define LINUX_STATX_DIOALIGN 0x2000U
#define LINUX_STATX_MNT_ID_UNIQUE 0x4000U
#define LINUX_STATX_SUBVOL 0x8000U
#define LINUX_STATX_WRITE_ATOMIC 0x10000U
#define LINUX_STATX_DIO_READ_ALIGN 0x20000U
#define LINUX_STATX__RESERVED 0x80000000U

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};
_Static_assert(offsetof(struct linux_dirent64, d_name) == 19, "dirent64");

#define LINUX_DT_UNKNOWN 0
#define LINUX_DT_FIFO 1
#define LINUX_DT_CHR 2
#define LINUX_DT_DIR 4
#define LINUX_DT_BLK 6
#define LINUX_DT_REG 8
#define LINUX_DT_LNK 10
#define LINUX_DT_SOCK 12

#define LINUX_S_IFMT 0170000
#define LINUX_S_IFSOCK 0140000
#define LINUX_S_IFLNK 0120000
#define LINUX_S_IFREG 0100000
#define LINUX_S_IFBLK 0060000
#define LINUX_S_IFDIR 0040000
#define LINUX_S_IFCHR 0020000
#define LINUX_S_IFIFO 0010000
#define LINUX_S_ISUID 04000
#define LINUX_S_ISGID 02000
#define LINUX_S_ISVTX 01000

#define LINUX_O_ACCMODE 00000003
#define LINUX_O_RDONLY 00000000
#define LINUX_O_WRONLY 00000001
#define LINUX_O_RDWR 00000002
#define LINUX_O_CREAT 00000100
#define LINUX_O_EXCL 00000200
#define LINUX_O_NOCTTY 00000400
#define LINUX_O_TRUNC 00001000
#define LINUX_O_APPEND 00002000
#define LINUX_O_NONBLOCK 00004000
#define LINUX_O_DSYNC 00010000
#define LINUX_O_ASYNC 00020000
#define LINUX_O_DIRECT 00040000
#define LINUX_O_LARGEFILE 00100000
#define LINUX_O_DIRECTORY 00200000
#define LINUX_O_NOFOLLOW 00400000
#define LINUX_O_NOATIME 01000000
#define LINUX_O_CLOEXEC 02000000
#define LINUX_O_SYNC 04010000
#define LINUX_O_PATH 010000000
#define LINUX_O_TMPFILE 020200000

#define LINUX_AT_FDCWD (-100)
#define LINUX_AT_SYMLINK_NOFOLLOW 0x100
#define LINUX_AT_EACCESS 0x200
#define LINUX_AT_REMOVEDIR 0x200
#define LINUX_AT_SYMLINK_FOLLOW 0x400
#define LINUX_AT_NO_AUTOMOUNT 0x800
#define LINUX_AT_EMPTY_PATH 0x1000
#define LINUX_AT_STATX_SYNC_TYPE 0x6000
#define LINUX_AT_STATX_FORCE_SYNC 0x2000
#define LINUX_AT_STATX_DONT_SYNC 0x4000
#define LINUX_AT_RECURSIVE 0x8000

#define LINUX_RENAME_NOREPLACE 0x1u
#define LINUX_RENAME_EXCHANGE 0x2u
#define LINUX_RENAME_WHITEOUT 0x4u

/* utimensat's special tv_nsec values */
#define LINUX_UTIME_NOW ((1L << 30) - 1L)
#define LINUX_UTIME_OMIT ((1L << 30) - 2L)

#define LINUX_CLOSE_RANGE_UNSHARE 0x2u
#define LINUX_CLOSE_RANGE_CLOEXEC 0x4u

#define LINUX_POSIX_FADV_NORMAL 0
#define LINUX_POSIX_FADV_RANDOM 1
#define LINUX_POSIX_FADV_SEQUENTIAL 2
#define LINUX_POSIX_FADV_WILLNEED 3
#define LINUX_POSIX_FADV_DONTNEED 4
#define LINUX_POSIX_FADV_NOREUSE 5

#define LINUX_F_OK 0
#define LINUX_X_OK 1
#define LINUX_W_OK 2
#define LINUX_R_OK 4

#define LINUX_SEEK_SET 0
#define LINUX_SEEK_CUR 1
#define LINUX_SEEK_END 2
#define LINUX_SEEK_DATA 3
#define LINUX_SEEK_HOLE 4

#define LINUX_F_DUPFD 0
#define LINUX_F_GETFD 1
#define LINUX_F_SETFD 2
#define LINUX_F_GETFL 3
#define LINUX_F_SETFL 4
#define LINUX_F_GETLK 5
#define LINUX_F_SETLK 6
#define LINUX_F_SETLKW 7
#define LINUX_F_DUPFD_CLOEXEC 1030
#define LINUX_FD_CLOEXEC 1
#define LINUX_F_SETOWN 8
#define LINUX_F_GETOWN 9
#define LINUX_F_SETSIG 10
#define LINUX_F_GETSIG 11
#define LINUX_F_SETOWN_EX 15
#define LINUX_F_GETOWN_EX 16
#define LINUX_F_OFD_GETLK 36
#define LINUX_F_OFD_SETLK 37
#define LINUX_F_OFD_SETLKW 38
#define LINUX_F_SETLEASE 1024
#define LINUX_F_GETLEASE 1025
#define LINUX_F_NOTIFY 1026
#define LINUX_F_SETPIPE_SZ 1031
#define LINUX_F_GETPIPE_SZ 1032

/* struct f_owner_ex (F_GETOWN_EX, F_SETOWN_EX) */
struct linux_f_owner_ex {
	int32_t type;
	int32_t pid;
};
_Static_assert(sizeof(struct linux_f_owner_ex) == 8, "f_owner_ex");
#define LINUX_F_OWNER_TID 0
#define LINUX_F_OWNER_PID 1
#define LINUX_F_OWNER_PGRP 2

/* struct flock (F_GETLK, F_SETLK, F_SETLKW and the F_OFD_ forms; flock64 is the same) */
struct linux_flock {
	int16_t l_type;
	int16_t l_whence;
	int64_t l_start;
	int64_t l_len;
	int32_t l_pid;
};
_Static_assert(sizeof(struct linux_flock) == 32, "flock");
_Static_assert(offsetof(struct linux_flock, l_start) == 8, "flock.l_start");
_Static_assert(offsetof(struct linux_flock, l_pid) == 24, "flock.l_pid");
#define LINUX_F_RDLCK 0
#define LINUX_F_WRLCK 1
#define LINUX_F_UNLCK 2

/* flock(2) operations */
#define LINUX_LOCK_SH 1
#define LINUX_LOCK_EX 2
#define LINUX_LOCK_NB 4
#define LINUX_LOCK_UN 8
#define LINUX_LOCK_MAND 32

#define LINUX_PATH_MAX 4096
#define LINUX_NAME_MAX 255
#define LINUX_SYMLOOP_MAX 40

struct linux_iovec {
	uint64_t iov_base;
	uint64_t iov_len;
};
_Static_assert(sizeof(struct linux_iovec) == 16, "iovec");
#define LINUX_IOV_MAX 1024

/* poll(2) events (uapi/asm-generic/poll.h) */
#define LINUX_POLLIN 0x0001
#define LINUX_POLLPRI 0x0002
#define LINUX_POLLOUT 0x0004
#define LINUX_POLLERR 0x0008
#define LINUX_POLLHUP 0x0010
#define LINUX_POLLNVAL 0x0020
#define LINUX_POLLRDNORM 0x0040
#define LINUX_POLLRDBAND 0x0080
#define LINUX_POLLWRNORM 0x0100
#define LINUX_POLLWRBAND 0x0200
#define LINUX_POLLMSG 0x0400
#define LINUX_POLLRDHUP 0x2000

/* ---- filesystems ---- */
/* struct statfs (statfs, fstatfs) */
struct linux_statfs {
	int64_t f_type;
	int64_t f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen;
	int64_t f_frsize;
	int64_t f_flags;
	int64_t f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "statfs");
_Static_assert(offsetof(struct linux_statfs, f_fsid) == 56, "statfs.f_fsid");
/* f_type values */
#define LINUX_TMPFS_MAGIC 0x01021994
#define LINUX_OVERLAYFS_SUPER_MAGIC 0x794c7630
#define LINUX_PROC_SUPER_MAGIC 0x9fa0
#define LINUX_V9FS_MAGIC 0x01021997
#define LINUX_PIPEFS_MAGIC 0x50495045
#define LINUX_ANON_INODE_FS_MAGIC 0x09041934
#define LINUX_DEVPTS_SUPER_MAGIC 0x1cd1
/* f_flags bits */
#define LINUX_ST_RDONLY 0x0001
#define LINUX_ST_NOSUID 0x0002
#define LINUX_ST_NODEV 0x0004
#define LINUX_ST_NOEXEC 0x0008
#define LINUX_ST_VALID 0x0020
#define LINUX_ST_RELATIME 0x1000

/* ---- memory ---- */
#define LINUX_PROT_NONE 0x0
#define LINUX_PROT_READ 0x1
#define LINUX_PROT_WRITE 0x2
#define LINUX_PROT_EXEC 0x4
#define LINUX_PROT_SEM 0x8
#define LINUX_PROT_GROWSDOWN 0x01000000
#define LINUX_PROT_GROWSUP 0x02000000

#define LINUX_MAP_SHARED 0x01
#define LINUX_MAP_PRIVATE 0x02
#define LINUX_MAP_SHARED_VALIDATE 0x03
#define LINUX_MAP_DROPPABLE 0x08
#define LINUX_MAP_TYPE 0x0f
#define LINUX_MAP_FIXED 0x10
#define LINUX_MAP_ANONYMOUS 0x20
#define LINUX_MAP_32BIT 0x40
#define LINUX_MAP_ABOVE4G 0x80
#define LINUX_MAP_GROWSDOWN 0x0100
#define LINUX_MAP_DENYWRITE 0x0800
#define LINUX_MAP_EXECUTABLE 0x1000
#define LINUX_MAP_LOCKED 0x2000
#define LINUX_MAP_NORESERVE 0x4000
#define LINUX_MAP_POPULATE 0x8000
#define LINUX_MAP_NONBLOCK 0x10000
#define LINUX_MAP_STACK 0x20000
#define LINUX_MAP_HUGETLB 0x40000
#define LINUX_MAP_SYNC 0x80000
#define LINUX_MAP_FIXED_NOREPLACE 0x100000
#define LINUX_MAP_UNINITIALIZED 0x4000000
#define LINUX_MAP_HUGE_SHIFT 26
#define LINUX_MAP_HUGE_MASK 0x3fULL

#define LINUX_MREMAP_MAYMOVE 1
#define LINUX_MREMAP_FIXED 2
#define LINUX_MREMAP_DONTUNMAP 4

#define LINUX_MADV_NORMAL 0
#define LINUX_MADV_RANDOM 1
#define LINUX_MADV_SEQUENTIAL 2
#define LINUX_MADV_WILLNEED 3
#define LINUX_MADV_DONTNEED 4
#define LINUX_MADV_FREE 8

#define LINUX_MS_ASYNC 1
#define LINUX_MS_INVALIDATE 2
#define LINUX_MS_SYNC 4

/* The application's address space: [LINUX_MMAP_MIN, LINUX_TASK_SIZE). The platform may
 * reserve space at the top for its stub (PLAT_STUB_* in platform/platform.h). */
#define LINUX_TASK_SIZE 0x7ffffffff000ULL
#define LINUX_MMAP_MIN 0x10000ULL

/* ---- processes ---- */
struct linux_utsname {
	char sysname[65];
	char nodename[65];
	char release[65];
	char version[65];
	char machine[65];
	char domainname[65];
};
_Static_assert(sizeof(struct linux_utsname) == 390, "utsname");

struct linux_rlimit {
	uint64_t rlim_cur;
	uint64_t rlim_max;
};
#define LINUX_RLIM_INFINITY (~0ULL)
#define LINUX_RLIMIT_CPU 0
#define LINUX_RLIMIT_FSIZE 1
#define LINUX_RLIMIT_DATA 2
#define LINUX_RLIMIT_STACK 3
#define LINUX_RLIMIT_CORE 4
#define LINUX_RLIMIT_RSS 5
#define LINUX_RLIMIT_NPROC 6
#define LINUX_RLIMIT_NOFILE 7
#define LINUX_RLIMIT_MEMLOCK 8
#define LINUX_RLIMIT_AS 9
#define LINUX_RLIMIT_LOCKS 10
#define LINUX_RLIMIT_SIGPENDING 11
#define LINUX_RLIMIT_MSGQUEUE 12
#define LINUX_RLIMIT_NICE 13
#define LINUX_RLIMIT_RTPRIO 14
#define LINUX_RLIMIT_RTTIME 15
#define LINUX_RLIM_NLIMITS 16

struct linux_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram;
	uint64_t freeram;
	uint64_t sharedram;
	uint64_t bufferram;
	uint64_t totalswap;
	uint64_t freeswap;
	uint16_t procs;
	uint16_t pad;
	uint64_t totalhigh;
	uint64_t freehigh;
	uint32_t mem_unit;
	char _f[0];
};
_Static_assert(sizeof(struct linux_sysinfo) == 112, "sysinfo");

#define LINUX_ARCH_SET_GS 0x1001
#define LINUX_ARCH_SET_FS 0x1002
#define LINUX_ARCH_GET_FS 0x1003
#define LINUX_ARCH_GET_GS 0x1004
#define LINUX_ARCH_GET_CPUID 0x1011
#define LINUX_ARCH_SET_CPUID 0x1012

#define LINUX_GRND_NONBLOCK 0x1
#define LINUX_GRND_RANDOM 0x2
#define LINUX_GRND_INSECURE 0x4

/* clone(2), clone3(2) flags; the low byte of clone's flags is the exit signal. */
#define LINUX_CLONE_VM 0x00000100
#define LINUX_CLONE_FS 0x00000200
#define LINUX_CLONE_FILES 0x00000400
#define LINUX_CLONE_SIGHAND 0x00000800
#define LINUX_CLONE_PIDFD 0x00001000
#define LINUX_CLONE_PTRACE 0x00002000
#define LINUX_CLONE_VFORK 0x00004000
#define LINUX_CLONE_PARENT 0x00008000
#define LINUX_CLONE_THREAD 0x00010000
#define LINUX_CLONE_NEWNS 0x00020000
#define LINUX_CLONE_SYSVSEM 0x00040000
#define LINUX_CLONE_SETTLS 0x00080000
#define LINUX_CLONE_PARENT_SETTID 0x00100000
#define LINUX_CLONE_CHILD_CLEARTID 0x00200000
#define LINUX_CLONE_DETACHED 0x00400000
#define LINUX_CLONE_UNTRACED 0x00800000
#define LINUX_CLONE_CHILD_SETTID 0x01000000
#define LINUX_CLONE_NEWCGROUP 0x02000000
#define LINUX_CLONE_NEWUTS 0x04000000
#define LINUX_CLONE_NEWIPC 0x08000000
#define LINUX_CLONE_NEWUSER 0x10000000
#define LINUX_CLONE_NEWPID 0x20000000
#define LINUX_CLONE_NEWNET 0x40000000
#define LINUX_CLONE_IO 0x80000000ULL
#define LINUX_CLONE_CLEAR_SIGHAND 0x100000000ULL /* clone3 only */
#define LINUX_CLONE_INTO_CGROUP 0x200000000ULL	 /* clone3 only */

/* wait4(2), waitid(2) options */
#define LINUX_WNOHANG 0x00000001
#define LINUX_WUNTRACED 0x00000002
#define LINUX_WSTOPPED LINUX_WUNTRACED
#define LINUX_WEXITED 0x00000004
#define LINUX_WCONTINUED 0x00000008
#define LINUX_WNOWAIT 0x01000000
#define LINUX_WNOTHREAD 0x20000000
#define LINUX_WALL 0x40000000
#define LINUX_WCLONE 0x80000000
/* waitid(2) id types */
#define LINUX_P_ALL 0
#define LINUX_P_PID 1
#define LINUX_P_PGID 2
#define LINUX_P_PIDFD 3

/* futex(2) operations */
#define LINUX_FUTEX_WAIT 0
#define LINUX_FUTEX_WAKE 1
#define LINUX_FUTEX_REQUEUE 3
#define LINUX_FUTEX_CMP_REQUEUE 4
#define LINUX_FUTEX_WAKE_OP 5
#define LINUX_FUTEX_WAIT_BITSET 9
#define LINUX_FUTEX_WAKE_BITSET 10
#define LINUX_FUTEX_PRIVATE_FLAG 128
#define LINUX_FUTEX_CLOCK_REALTIME 256
#define LINUX_FUTEX_BITSET_MATCH_ANY 0xffffffffU

/* prctl(2) options */
#define LINUX_PR_SET_PDEATHSIG 1
#define LINUX_PR_GET_PDEATHSIG 2
#define LINUX_PR_GET_DUMPABLE 3
#define LINUX_PR_SET_DUMPABLE 4
#define LINUX_PR_GET_KEEPCAPS 7
#define LINUX_PR_SET_KEEPCAPS 8
#define LINUX_PR_SET_NAME 15
#define LINUX_PR_GET_NAME 16
#define LINUX_PR_SET_NO_NEW_PRIVS 38
#define LINUX_PR_GET_NO_NEW_PRIVS 39

/* setitimer(2), getitimer(2) */
#define LINUX_ITIMER_REAL 0
#define LINUX_ITIMER_VIRTUAL 1
#define LINUX_ITIMER_PROF 2

/* ---- signals ---- */
#define LINUX_NSIG 64
#define LINUX_SIGHUP 1
#define LINUX_SIGINT 2
#define LINUX_SIGQUIT 3
#define LINUX_SIGILL 4
#define LINUX_SIGTRAP 5
#define LINUX_SIGABRT 6
#define LINUX_SIGBUS 7
#define LINUX_SIGFPE 8
#define LINUX_SIGKILL 9
#define LINUX_SIGUSR1 10
#define LINUX_SIGSEGV 11
#define LINUX_SIGUSR2 12
#define LINUX_SIGPIPE 13
#define LINUX_SIGALRM 14
#define LINUX_SIGTERM 15
#define LINUX_SIGSTKFLT 16
#define LINUX_SIGCHLD 17
#define LINUX_SIGCONT 18
#define LINUX_SIGSTOP 19
#define LINUX_SIGTSTP 20
#define LINUX_SIGTTIN 21
#define LINUX_SIGTTOU 22
#define LINUX_SIGURG 23
#define LINUX_SIGXCPU 24
#define LINUX_SIGXFSZ 25
#define LINUX_SIGVTALRM 26
#define LINUX_SIGPROF 27
#define LINUX_SIGWINCH 28
#define LINUX_SIGIO 29
#define LINUX_SIGPWR 30
#define LINUX_SIGSYS 31

/* The kernel's struct sigaction (rt_sigaction), not glibc's. */
struct linux_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
_Static_assert(sizeof(struct linux_sigaction) == 32, "k_sigaction");
#define LINUX_SIG_DFL 0
#define LINUX_SIG_IGN 1
#define LINUX_SA_NOCLDSTOP 0x00000001
#define LINUX_SA_NOCLDWAIT 0x00000002
#define LINUX_SA_SIGINFO 0x00000004
#define LINUX_SA_EXPOSE_TAGBITS 0x00000800
#define LINUX_SA_RESTORER 0x04000000
#define LINUX_SA_ONSTACK 0x08000000
#define LINUX_SA_RESTART 0x10000000
#define LINUX_SA_NODEFER 0x40000000
#define LINUX_SA_RESETHAND 0x80000000
#define LINUX_SIG_BLOCK 0
#define LINUX_SIG_UNBLOCK 1
#define LINUX_SIG_SETMASK 2

struct linux_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t __pad;
	uint64_t ss_size;
};
_Static_assert(sizeof(struct linux_stack) == 24, "stack_t");
#define LINUX_SS_ONSTACK 1
#define LINUX_SS_DISABLE 2
#define LINUX_SS_AUTODISARM (1U << 31)
#define LINUX_MINSIGSTKSZ 2048

/* siginfo_t, 128 bytes, with the union members the Sentry fills. */
struct linux_siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t __pad0;
	union {
		char __pad[112];
		struct { /* SI_USER, SI_TKILL, SI_QUEUE */
			int32_t pid;
			uint32_t uid;
			uint64_t value; /* sigval, SI_QUEUE */
		} kill;
		struct { /* SIGCHLD */
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t __pad;
			int64_t utime;
			int64_t stime;
		} chld;
		struct { /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
			uint64_t addr;
		} fault;
		struct { /* POSIX timers, SI_TIMER */
			int32_t tid;
			int32_t overrun;
			uint64_t value;
		} timer;
		struct { /* SIGSYS */
			uint64_t call_addr;
			int32_t syscall;
			uint32_t arch;
		} sys;
	};
};
_Static_assert(sizeof(struct linux_siginfo) == 128, "siginfo");
_Static_assert(offsetof(struct linux_siginfo, kill.pid) == 16, "siginfo._sifields");

#define LINUX_SI_USER 0
#define LINUX_SI_KERNEL 0x80
#define LINUX_SI_QUEUE (-1)
#define LINUX_SI_TIMER (-2)
#define LINUX_SI_TKILL (-6)
#define LINUX_CLD_EXITED 1
#define LINUX_CLD_KILLED 2
#define LINUX_CLD_DUMPED 3
#define LINUX_CLD_TRAPPED 4
#define LINUX_CLD_STOPPED 5
#define LINUX_CLD_CONTINUED 6
/* si_code of the fault signals */
#define LINUX_ILL_ILLOPC 1
#define LINUX_ILL_ILLOPN 2
#define LINUX_ILL_ILLADR 3
#define LINUX_ILL_ILLTRP 4
#define LINUX_ILL_PRVOPC 5
#define LINUX_ILL_PRVREG 6
#define LINUX_ILL_COPROC 7
#define LINUX_ILL_BADSTK 8
#define LINUX_FPE_INTDIV 1
#define LINUX_FPE_INTOVF 2
#define LINUX_FPE_FLTDIV 3
#define LINUX_FPE_FLTOVF 4
#define LINUX_FPE_FLTUND 5
#define LINUX_FPE_FLTRES 6
#define LINUX_FPE_FLTINV 7
#define LINUX_FPE_FLTSUB 8
#define LINUX_SEGV_MAPERR 1
#define LINUX_SEGV_ACCERR 2
#define LINUX_BUS_ADRALN 1
#define LINUX_BUS_ADRERR 2
#define LINUX_BUS_OBJERR 3
#define LINUX_TRAP_BRKPT 1
#define LINUX_TRAP_TRACE 2
#define LINUX_SIGRTMIN 32

/* Wait status encoding, as wait4 returns it. */
#define LINUX_W_EXITCODE(ret, sig) (((ret) << 8) | (sig))
#define LINUX_WCOREFLAG 0x80

/* ---- terminals ---- */
#define LINUX_TCGETS 0x5401
#define LINUX_TCSETS 0x5402
#define LINUX_TCSETSW 0x5403
#define LINUX_TCSETSF 0x5404
#define LINUX_TCSBRK 0x5409
#define LINUX_TCFLSH 0x540B
#define LINUX_TIOCEXCL 0x540C
#define LINUX_TIOCNXCL 0x540D
#define LINUX_TIOCSCTTY 0x540E
#define LINUX_TIOCGPGRP 0x540F
#define LINUX_TIOCSPGRP 0x5410
#define LINUX_TIOCSTI 0x5412
#define LINUX_TIOCGWINSZ 0x5413
#define LINUX_TIOCSWINSZ 0x5414
#define LINUX_FIONREAD 0x541B
#define LINUX_FIONBIO 0x5421
#define LINUX_TIOCNOTTY 0x5422
#define LINUX_TIOCGETD 0x5424
#define LINUX_TCSBRKP 0x5425
#define LINUX_TIOCGSID 0x5429
#define LINUX_FIONCLEX 0x5450
#define LINUX_FIOCLEX 0x5451
#define LINUX_TIOCGEXCL 0x80045440u
/* TCFLSH arguments */
#define LINUX_TCIFLUSH 0
#define LINUX_TCOFLUSH 1
#define LINUX_TCIOFLUSH 2

struct linux_termios {
	uint32_t c_iflag;
	uint32_t c_oflag;
	uint32_t c_cflag;
	uint32_t c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
_Static_assert(sizeof(struct linux_termios) == 36, "termios");
/* c_cc indices and c_lflag bits the Sentry reads */
#define LINUX_VTIME 5
#define LINUX_VMIN 6
#define LINUX_ICANON 0000002u
#define LINUX_TOSTOP 0000400u

struct linux_winsize {
	uint16_t ws_row;
	uint16_t ws_col;
	uint16_t ws_xpixel;
	uint16_t ws_ypixel;
};
_Static_assert(sizeof(struct linux_winsize) == 8, "winsize");

/* ---- auxiliary vector ---- */
#define LINUX_AT_NULL 0
#define LINUX_AT_IGNORE 1
#define LINUX_AT_EXECFD 2
#define LINUX_AT_PHDR 3
#define LINUX_AT_PHENT 4
#define LINUX_AT_PHNUM 5
#define LINUX_AT_PAGESZ 6
#define LINUX_AT_BASE 7
#define LINUX_AT_FLAGS 8
#define LINUX_AT_ENTRY 9
#define LINUX_AT_NOTELF 10
#define LINUX_AT_UID 11
#define LINUX_AT_EUID 12
#define LINUX_AT_GID 13
#define LINUX_AT_EGID 14
#define LINUX_AT_PLATFORM 15
#define LINUX_AT_HWCAP 16
#define LINUX_AT_CLKTCK 17
#define LINUX_AT_SECURE 23
#define LINUX_AT_BASE_PLATFORM 24
#define LINUX_AT_RANDOM 25
#define LINUX_AT_HWCAP2 26
#define LINUX_AT_EXECFN 31
#define LINUX_AT_SYSINFO_EHDR 33
#define LINUX_AT_MINSIGSTKSZ 51

/* ---- registers (the layout of PTRACE_GETREGS' struct user_regs_struct) ---- */
struct linux_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax,
		rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
_Static_assert(sizeof(struct linux_regs) == 27 * 8, "user_regs_struct");

#endif
