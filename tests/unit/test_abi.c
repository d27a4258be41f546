/* Unit tests for abi/: the syscall table, errno names and the strace flag formatters. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/linux.h"
#include "abi/syscalls.h"

/* ---- the syscall table ---- */

Test(syscalls, no_duplicates)
{
	int count = 0;

	for (long a = 0; a < ABI_SYSCALL_MAX; a++) {
		const struct abi_syscall *s = abi_syscall(a);

		if (!s)
			continue;
		count++;
		cr_assert(s->name && s->name[0], "nr %ld has an empty name", a);
		cr_expect_eq(abi_syscall_by_name(s->name), a, "%s: by_name gives another number",
			     s->name);
		for (long b = a + 1; b < ABI_SYSCALL_MAX; b++) {
			const struct abi_syscall *t = abi_syscall(b);

			cr_expect(!t || strcmp(s->name, t->name) != 0, "%s at %ld and %ld", s->name,
				  a, b);
		}
	}
	/* 0..334 and 424..469. */
	cr_expect_eq(count, 335 + 46);
}

Test(syscalls, known_entries)
{
	static const struct {
		const char *name;
		long nr;
		int nargs;
	} known[] = {
	    {"read", 0, 3},
	    {"write", 1, 3},
	    {"open", 2, 3},
	    {"close", 3, 1},
	    {"mmap", 9, 6},
	    {"rt_sigreturn", 15, 0},
	    {"pread64", 17, 4},
	    {"clone", 56, 5},
	    {"execve", 59, 3},
	    {"exit", 60, 1},
	    {"_sysctl", 156, 1},
	    {"arch_prctl", 158, 2},
	    {"futex", 202, 6},
	    {"getdents64", 217, 3},
	    {"exit_group", 231, 1},
	    {"openat", 257, 4},
	    {"newfstatat", 262, 4},
	    {"pselect6", 270, 6},
	    {"prlimit64", 302, 4},
	    {"getrandom", 318, 3},
	    {"statx", 332, 5},
	    {"rseq", 334, 4},
	    {"pidfd_send_signal", 424, 4},
	    {"clone3", 435, 2},
	    {"openat2", 437, 4},
	    {"faccessat2", 439, 4},
	    {"futex_waitv", 449, 5},
	    {"set_mempolicy_home_node", 450, 4},
	    {"cachestat", 451, 4},
	    {"fchmodat2", 452, 4},
	    {"map_shadow_stack", 453, 3},
	    {"futex_wake", 454, 4},
	    {"futex_wait", 455, 6},
	    {"futex_requeue", 456, 4},
	    {"statmount", 457, 4},
	    {"listmount", 458, 4},
	    {"lsm_get_self_attr", 459, 4},
	    {"lsm_set_self_attr", 460, 4},
	    {"lsm_list_modules", 461, 3},
	    {"mseal", 462, 3},
	    {"setxattrat", 463, 6},
	    {"getxattrat", 464, 6},
	    {"listxattrat", 465, 5},
	    {"removexattrat", 466, 4},
	    {"open_tree_attr", 467, 5},
	    {"file_getattr", 468, 5},
	    {"file_setattr", 469, 5},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct abi_syscall *s = abi_syscall(known[i].nr);

		cr_assert(s, "%s missing", known[i].name);
		cr_expect_str_eq(s->name, known[i].name);
		cr_expect_eq(s->nargs, known[i].nargs, "%s nargs %d", s->name, s->nargs);
		cr_expect_eq(abi_syscall_by_name(known[i].name), known[i].nr);
		cr_expect_str_eq(abi_syscall_name(known[i].nr), known[i].name);
	}
	cr_expect_eq(LINUX_SYS_read, 0);
	cr_expect_eq(LINUX_SYS_openat, 257);
	cr_expect_eq(LINUX_SYS_execve, 59);
	cr_expect_eq(LINUX_SYS_clone3, 435);
	cr_expect_eq(LINUX_SYS_file_setattr, 469);
	cr_expect_eq(ABI_SYSCALL_MAX, 470);
}

Test(syscalls, arg_kinds)
{
	const struct abi_syscall *s = abi_syscall(LINUX_SYS_openat);

	cr_expect_eq(s->arg[0], ABI_ARG_DIRFD);
	cr_expect_eq(s->arg[1], ABI_ARG_PATH);
	cr_expect_eq(s->arg[2], ABI_ARG_OFLAGS);
	cr_expect_eq(s->arg[3], ABI_ARG_OPEN_MODE);
	cr_expect_eq(s->arg[4], ABI_ARG_NONE);
	s = abi_syscall(LINUX_SYS_read);
	cr_expect_eq(s->arg[1], ABI_ARG_BUF_OUT);
	s = abi_syscall(LINUX_SYS_write);
	cr_expect_eq(s->arg[1], ABI_ARG_BUF_IN);
	cr_expect_eq(s->arg[2], ABI_ARG_SIZE);

	/* Slots past nargs are NONE, slots before it are not, and every kind is known. */
	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++) {
		s = abi_syscall(nr);
		if (!s)
			continue;
		cr_expect(s->nargs <= 6, "%s", s->name);
		for (int i = 0; i < 6; i++) {
			cr_expect(s->arg[i] < ABI_ARG_KIND_MAX, "%s arg %d", s->name, i);
			if (i < s->nargs)
				cr_expect_neq(s->arg[i], ABI_ARG_NONE, "%s arg %d", s->name, i);
			else
				cr_expect_eq(s->arg[i], ABI_ARG_NONE, "%s arg %d", s->name, i);
		}
		/* A BUF_IN/IOVEC's length is the next argument. */
		for (int i = 0; i < s->nargs; i++)
			if (s->arg[i] == ABI_ARG_BUF_IN || s->arg[i] == ABI_ARG_IOVEC_IN ||
			    s->arg[i] == ABI_ARG_IOVEC_OUT || s->arg[i] == ABI_ARG_SOCKADDR_IN)
				cr_expect(i + 1 < s->nargs, "%s arg %d has no length", s->name, i);
	}
}

Test(syscalls, out_of_range)
{
	const long bad[] = {
	    -1, -100, 335, 400, 423, 470, 512, 547, 100000, -2147483648L, 0x7fffffffffffffffL};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_null(abi_syscall(bad[i]), "%ld", bad[i]);
		cr_expect_null(abi_syscall_name(bad[i]), "%ld", bad[i]);
	}
	cr_expect_eq(abi_syscall_by_name("no_such_call"), -1);
	cr_expect_eq(abi_syscall_by_name(""), -1);
	cr_expect_eq(abi_syscall_by_name(NULL), -1);
}

/* Every __NR_ the host's kernel headers define has the same number here. */
Test(syscalls, matches_host_headers)
{
	FILE *f = fopen("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "r");
	char line[256], name[128];
	long nr;
	int checked = 0;

	if (!f)
		cr_skip_test("no kernel headers");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "#define __NR_%127s %ld", name, &nr) != 2)
			continue;
		cr_expect_eq(abi_syscall_by_name(name), nr, "%s", name);
		checked++;
	}
	fclose(f);
	cr_expect_gt(checked, 300);
}

/* ---- errno ---- */

Test(errnos, names)
{
	cr_expect_str_eq(abi_errno_name(ENOENT), "ENOENT");
	cr_expect_str_eq(abi_errno_desc(ENOENT), "No such file or directory");
	cr_expect_str_eq(abi_errno_name(EPERM), "EPERM");
	cr_expect_str_eq(abi_errno_name(EAGAIN), "EAGAIN");
	cr_expect_str_eq(abi_errno_desc(EAGAIN), "Resource temporarily unavailable");
	cr_expect_str_eq(abi_errno_name(ENOSYS), "ENOSYS");
	cr_expect_str_eq(abi_errno_desc(ENOSYS), "Function not implemented");
	cr_expect_str_eq(abi_errno_name(EDEADLK), "EDEADLK");
	cr_expect_str_eq(abi_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	cr_expect_str_eq(abi_errno_name(EHWPOISON), "EHWPOISON");
	cr_expect_eq(EHWPOISON, 133);
	cr_expect_str_eq(abi_errno_name(LINUX_ERESTARTSYS), "ERESTARTSYS");
	cr_expect_str_eq(abi_errno_desc(LINUX_ERESTARTSYS), "To be restarted if SA_RESTART is set");
	cr_expect_str_eq(abi_errno_name(LINUX_ERESTARTNOINTR), "ERESTARTNOINTR");
	cr_expect_str_eq(abi_errno_name(LINUX_ERESTARTNOHAND), "ERESTARTNOHAND");
	cr_expect_str_eq(abi_errno_name(LINUX_ERESTART_RESTARTBLOCK), "ERESTART_RESTARTBLOCK");
	cr_expect_str_eq(abi_errno_desc(LINUX_ERESTART_RESTARTBLOCK), "Interrupted by signal");

	const int none[] = {0, -1, 41, 58, 134, 511, 515, 517, 4095, 100000};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		cr_expect_null(abi_errno_name(none[i]), "%d", none[i]);
		cr_expect_null(abi_errno_desc(none[i]), "%d", none[i]);
	}
	/* All of 1..133 but the two holes have a name and a description starting with E. */
	for (int e = 1; e <= 133; e++) {
		if (e == 41 || e == 58)
			continue;
		cr_expect(abi_errno_name(e) && abi_errno_name(e)[0] == 'E', "%d", e);
		cr_expect(abi_errno_desc(e) && abi_errno_desc(e)[0], "%d", e);
		cr_expect_str_eq(abi_errno_desc(e), strerror(e), "%d", e);
	}
}

/* ---- flag formatters ---- */

#define FMT(fn, v, want)                                                                           \
	do {                                                                                       \
		char b_[256];                                                                      \
		int r_ = fn(b_, sizeof(b_), v);                                                    \
		cr_expect_str_eq(b_, want, #fn "(" #v ")");                                        \
		cr_expect_eq(r_, (int)strlen(want));                                               \
	} while (0)

Test(flags, files)
{
	FMT(abi_fmt_oflags, 0, "O_RDONLY");
	FMT(abi_fmt_oflags, LINUX_O_RDONLY | LINUX_O_CLOEXEC, "O_RDONLY|O_CLOEXEC");
	FMT(abi_fmt_oflags, LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC,
	    "O_WRONLY|O_CREAT|O_TRUNC");
	FMT(abi_fmt_oflags, LINUX_O_RDONLY | LINUX_O_NONBLOCK | LINUX_O_CLOEXEC | LINUX_O_DIRECTORY,
	    "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
	FMT(abi_fmt_oflags, LINUX_O_RDWR | LINUX_O_SYNC, "O_RDWR|O_SYNC");
	FMT(abi_fmt_oflags, LINUX_O_RDWR | LINUX_O_DSYNC, "O_RDWR|O_DSYNC");
	FMT(abi_fmt_oflags, LINUX_O_TMPFILE | LINUX_O_RDWR, "O_RDWR|O_TMPFILE");
	FMT(abi_fmt_oflags, 0x8000 | 0x80000000ULL, "O_RDONLY|O_LARGEFILE|0x80000000");
	FMT(abi_fmt_oflags_noacc, 0, "0");
	FMT(abi_fmt_oflags_noacc, LINUX_O_CLOEXEC, "O_CLOEXEC");
	FMT(abi_fmt_fd_flags, 1, "FD_CLOEXEC");
	FMT(abi_fmt_mode, 0644, "0644");
	FMT(abi_fmt_mode, 0, "000");
	FMT(abi_fmt_mode, 022, "022");
	FMT(abi_fmt_mode, 04755, "04755");
	FMT(abi_fmt_mode, LINUX_S_IFREG | 0644, "S_IFREG|0644");
	FMT(abi_fmt_mode, LINUX_S_IFDIR | 0755, "S_IFDIR|0755");
	FMT(abi_fmt_mode, LINUX_S_IFCHR | 0666, "S_IFCHR|0666");
	FMT(abi_fmt_mode, LINUX_S_IFDIR | 01777, "S_IFDIR|S_ISVTX|0777");
	FMT(abi_fmt_mode, LINUX_S_IFREG | 06755, "S_IFREG|S_ISUID|S_ISGID|0755");
	FMT(abi_fmt_statx_attrs, 0x2000, "STATX_ATTR_MOUNT_ROOT");
	FMT(abi_fmt_statx_attrs, 0, "0");
	FMT(abi_fmt_dev, 0x103, "makedev(0x1, 0x3)");
	FMT(abi_fmt_dev, (0x88ULL << 8) | 0x5, "makedev(0x88, 0x5)");
	FMT(abi_fmt_atflags, 0, "0");
	FMT(abi_fmt_atflags, LINUX_AT_EMPTY_PATH, "AT_EMPTY_PATH");
	FMT(abi_fmt_atflags, LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_NO_AUTOMOUNT,
	    "AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT");
	FMT(abi_fmt_atflags, LINUX_AT_REMOVEDIR, "AT_REMOVEDIR");
	FMT(abi_fmt_access_atflags, LINUX_AT_EACCESS, "AT_EACCESS");
	FMT(abi_fmt_statx_atflags, 0, "AT_STATX_SYNC_AS_STAT");
	FMT(abi_fmt_statx_atflags, LINUX_AT_EMPTY_PATH, "AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH");
	FMT(abi_fmt_statx_atflags, 0x4000 | LINUX_AT_SYMLINK_NOFOLLOW,
	    "AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW");
	FMT(abi_fmt_statx_mask, LINUX_STATX_BASIC_STATS, "STATX_BASIC_STATS");
	FMT(abi_fmt_statx_mask, 0xfff, "STATX_ALL");
	FMT(abi_fmt_statx_mask, LINUX_STATX_TYPE | LINUX_STATX_SIZE, "STATX_TYPE|STATX_SIZE");
	FMT(abi_fmt_access_mode, 0, "F_OK");
	FMT(abi_fmt_access_mode, LINUX_R_OK | LINUX_X_OK, "R_OK|X_OK");
	FMT(abi_fmt_whence, LINUX_SEEK_END, "SEEK_END");
	FMT(abi_fmt_whence, 9, "0x9 /* SEEK_??? */");
	FMT(abi_fmt_fcntl_cmd, LINUX_F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC");
	FMT(abi_fmt_fcntl_cmd, LINUX_F_GETFL, "F_GETFL");
	FMT(abi_fmt_ioctl_cmd, LINUX_TCGETS, "TCGETS");
	FMT(abi_fmt_ioctl_cmd, LINUX_TIOCGWINSZ, "TIOCGWINSZ");
	FMT(abi_fmt_ioctl_cmd, LINUX_FIONREAD, "FIONREAD");
	FMT(abi_fmt_ioctl_cmd, 0xc0105512, "_IOC(_IOC_READ|_IOC_WRITE, 0x55, 0x12, 0x10)");
}

Test(flags, memory_time_process)
{
	FMT(abi_fmt_prot, 0, "PROT_NONE");
	FMT(abi_fmt_prot, LINUX_PROT_READ | LINUX_PROT_WRITE, "PROT_READ|PROT_WRITE");
	FMT(abi_fmt_prot, LINUX_PROT_READ | LINUX_PROT_EXEC, "PROT_READ|PROT_EXEC");
	FMT(abi_fmt_prot, 0x100, "0x100 /* PROT_??? */");
	FMT(abi_fmt_mapflags, LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, "MAP_PRIVATE|MAP_ANONYMOUS");
	FMT(abi_fmt_mapflags, LINUX_MAP_PRIVATE | LINUX_MAP_FIXED | LINUX_MAP_DENYWRITE,
	    "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
	FMT(abi_fmt_mapflags, LINUX_MAP_SHARED, "MAP_SHARED");
	FMT(abi_fmt_mapflags, LINUX_MAP_PRIVATE | (21ULL << 26) | LINUX_MAP_HUGETLB,
	    "MAP_PRIVATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
	FMT(abi_fmt_mremap_flags, LINUX_MREMAP_MAYMOVE, "MREMAP_MAYMOVE");
	FMT(abi_fmt_madvise, LINUX_MADV_DONTNEED, "MADV_DONTNEED");
	FMT(abi_fmt_madvise, 0, "MADV_NORMAL");
	FMT(abi_fmt_clockid, LINUX_CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	FMT(abi_fmt_clockid, LINUX_CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
	FMT(abi_fmt_clockid, 77, "0x4d /* CLOCK_??? */");
	FMT(abi_fmt_clockid, (uint32_t)-6, "-6");
	FMT(abi_fmt_timer_flags, 0, "0");
	FMT(abi_fmt_timer_flags, 1, "TIMER_ABSTIME");
	FMT(abi_fmt_arch_prctl, LINUX_ARCH_SET_FS, "ARCH_SET_FS");
	FMT(abi_fmt_arch_prctl, 0x9999, "0x9999 /* ARCH_??? */");
	FMT(abi_fmt_prctl_option, 15, "PR_SET_NAME");
	FMT(abi_fmt_grnd_flags, LINUX_GRND_NONBLOCK, "GRND_NONBLOCK");
	FMT(abi_fmt_mfd_flags, 1, "MFD_CLOEXEC");
	FMT(abi_fmt_rlimit_res, LINUX_RLIMIT_NOFILE, "RLIMIT_NOFILE");
	FMT(abi_fmt_rlim, LINUX_RLIM_INFINITY, "RLIM64_INFINITY");
	FMT(abi_fmt_rlim, 8 << 20, "8192*1024");
	FMT(abi_fmt_rlim, 1000, "1000");
	FMT(abi_fmt_rlim, 0, "0");
	FMT(abi_fmt_futex_op, 128, "FUTEX_WAIT_PRIVATE");
	FMT(abi_fmt_futex_op, 1, "FUTEX_WAKE");
	FMT(abi_fmt_futex_op, 9 | 128 | 256, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
	FMT(abi_fmt_futex_op, 99, "0x63 /* FUTEX_??? */");
	FMT(abi_fmt_wait_options, 0, "0");
	FMT(abi_fmt_wait_options, 1 | 0x40000000, "WNOHANG|__WALL");
	FMT(abi_fmt_sock_domain, 1, "AF_UNIX");
	FMT(abi_fmt_sock_domain, 10, "AF_INET6");
	FMT(abi_fmt_sock_type, 5 | 02000000, "SOCK_SEQPACKET|SOCK_CLOEXEC");
	FMT(abi_fmt_sock_flags, 04000, "SOCK_NONBLOCK");
	FMT(abi_fmt_ipproto, 6, "IPPROTO_TCP");
}

Test(flags, signals)
{
	char b[256];

	cr_expect_str_eq(abi_signal_name(LINUX_SIGSEGV), "SIGSEGV");
	cr_expect_str_eq(abi_signal_name(1), "SIGHUP");
	cr_expect_str_eq(abi_signal_name(31), "SIGSYS");
	cr_expect_str_eq(abi_signal_name(32), "SIGRTMIN");
	cr_expect_str_eq(abi_signal_name(33), "SIGRT_1");
	cr_expect_str_eq(abi_signal_name(64), "SIGRT_32");
	cr_expect_null(abi_signal_name(0));
	cr_expect_null(abi_signal_name(65));
	cr_expect_null(abi_signal_name(-1));
	for (int s = 1; s <= 64; s++)
		cr_expect(abi_signal_name(s) && !strncmp(abi_signal_name(s), "SIG", 3), "%d", s);

	abi_fmt_signum(b, sizeof(b), 9);
	cr_expect_str_eq(b, "SIGKILL");
	abi_fmt_signum(b, sizeof(b), 0);
	cr_expect_str_eq(b, "0");
	abi_fmt_signum(b, sizeof(b), 100);
	cr_expect_str_eq(b, "100");
	FMT(abi_fmt_sigset, 0, "[]");
	FMT(abi_fmt_sigset, (1ULL << 1) | (1ULL << 14), "[INT TERM]");
	FMT(abi_fmt_sigset, ~0ULL, "~[]");
	FMT(abi_fmt_sigset, ~((1ULL << 8) | (1ULL << 18)), "~[KILL STOP]");
	FMT(abi_fmt_sighow, LINUX_SIG_SETMASK, "SIG_SETMASK");
	FMT(abi_fmt_sa_flags, LINUX_SA_RESTORER | LINUX_SA_SIGINFO, "SA_RESTORER|SA_SIGINFO");
	FMT(abi_fmt_sa_flags, 0, "0");
	FMT(abi_fmt_ss_flags, LINUX_SS_DISABLE, "SS_DISABLE");

	abi_fmt_clone_flags(b, sizeof(b), 0x100 | 0x200 | 17, true);
	cr_expect_str_eq(b, "CLONE_VM|CLONE_FS|SIGCHLD");
	abi_fmt_clone_flags(b, sizeof(b), 17, true);
	cr_expect_str_eq(b, "SIGCHLD");
	abi_fmt_clone_flags(b, sizeof(b), 0, false);
	cr_expect_str_eq(b, "0");
	abi_fmt_clone_flags(b, sizeof(b), 0x20000 | 0x1, false);
	cr_expect_str_eq(b, "CLONE_NEWNS|0x1");

	abi_fmt_wstatus(b, sizeof(b), 0);
	cr_expect_str_eq(b, "{WIFEXITED(s) && WEXITSTATUS(s) == 0}");
	abi_fmt_wstatus(b, sizeof(b), 11 | 0x80);
	cr_expect_str_eq(b, "{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}");
	abi_fmt_wstatus(b, sizeof(b), (19 << 8) | 0x7f);
	cr_expect_str_eq(b, "{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}");
}

/* Formatters cut long output but keep it terminated and report the full length. */
Test(flags, truncation)
{
	char b[8];
	int r = abi_fmt_oflags(b, sizeof(b), LINUX_O_WRONLY | LINUX_O_CREAT);

	cr_expect_eq(r, (int)strlen("O_WRONLY|O_CREAT"));
	cr_expect_str_eq(b, "O_WRONL");
	r = abi_fmt_prot(b, 0, LINUX_PROT_READ);
	cr_expect_eq(r, (int)strlen("PROT_READ"));
}
