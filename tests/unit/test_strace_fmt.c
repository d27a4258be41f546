/* Unit tests for the strace printer: whole lines checked against what strace 6.1 prints for the
 * same calls, with guest memory stubbed as host memory (addresses below 64 KiB fault). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/linux.h"
#include "abi/syscalls.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* ---- stubs for what strace.c needs from the rest of the Sentry ---- */

struct kernel g_kernel;
static struct mm *const FAKE_MM = (struct mm *)0x1;

#define FAULT_BELOW 0x10000

int copy_in(struct mm *mm, void *dst, uint64_t src, size_t n)
{
	if (mm != FAKE_MM || src < FAULT_BELOW)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return 0;
}

long copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max)
{
	const char *s = (const char *)(uintptr_t)src;

	if (mm != FAKE_MM || src < FAULT_BELOW)
		return -EFAULT;
	for (size_t i = 0; i < max; i++) {
		dst[i] = s[i];
		if (!s[i])
			return (long)i;
	}
	return -ENAMETOOLONG;
}

/* ---- harness ---- */

static struct task g_task = {.tid = 42, .mm = FAKE_MM};
static char g_raw[20000];

static void setup(void)
{
	g_kernel.strace = true;
	g_kernel.strace_fd = memfd_create("strace", 0);
	cr_assert(g_kernel.strace_fd >= 0);
}

static void teardown(void) { close(g_kernel.strace_fd); }

/* What strace_fd received since the last call. */
static const char *output(void)
{
	off_t end = lseek(g_kernel.strace_fd, 0, SEEK_CUR);
	ssize_t n = pread(g_kernel.strace_fd, g_raw, sizeof(g_raw) - 1, 0);

	cr_assert(n >= 0 && n == end);
	g_raw[n] = '\0';
	cr_assert(ftruncate(g_kernel.strace_fd, 0) == 0);
	lseek(g_kernel.strace_fd, 0, SEEK_SET);
	return g_raw;
}

#define A(x) ((uint64_t)(uintptr_t)(x))

/* Trace one call and return its line without the "[pid  42] " prefix, the alignment padding
 * before "= " collapsed to one space and the newline removed. */
static const char *trace6(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, long ret)
{
	static char line[20000];
	struct syscall_args a = {.nr = nr, .a = {a0, a1, a2, a3, a4, a5}};
	const char *raw, *eq;
	size_t head;

	strace_enter(&g_task, &a);
	strace_exit(&g_task, &a, ret);
	raw = output();
	cr_assert(strncmp(raw, "[pid    42] ", 12) == 0, "prefix: %s", raw);
	raw += 12;
	cr_assert(strchr(raw, '\n') == raw + strlen(raw) - 1, "one line: %s", raw);
	eq = raw + strlen(raw);
	while (eq > raw && !(eq[0] == '=' && eq[1] == ' ' && eq[-1] == ' '))
		eq--;
	cr_assert(eq > raw, "no result in %s", raw);
	head = (size_t)(eq - raw);
	while (head && raw[head - 1] == ' ')
		head--;
	snprintf(line, sizeof(line), "%.*s %s", (int)head, raw, eq);
	line[strlen(line) - 1] = '\0';
	return line;
}

#define T(nr, ret, ...) trace_n(nr, ret, (uint64_t[6]){__VA_ARGS__})
static const char *trace_n(long nr, long ret, const uint64_t *a)
{
	return trace6(nr, a[0], a[1], a[2], a[3], a[4], a[5], ret);
}
#define EXPECT(got, want) cr_expect_str_eq(got, want)

TestSuite(strace, .init = setup, .fini = teardown);

Test(strace, files)
{
	char buf[] = "vm\n";

	EXPECT(T(LINUX_SYS_openat, 3, (uint64_t)-100, A("/etc/hostname"), 02000000),
	       "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3");
	EXPECT(T(LINUX_SYS_read, 3, 3, A(buf), 256), "read(3, \"vm\\n\", 256) = 3");
	EXPECT(T(LINUX_SYS_close, -EBADF, 99), "close(99) = -1 EBADF (Bad file descriptor)");
	EXPECT(T(LINUX_SYS_openat, -EINVAL, (uint64_t)-100, A("/tmp/ref/x"),
		 01 | 0100 | 01000 | 02000 | 04000 | 0200000 | 0400000 | 0x40000000, 0644),
	       "openat(AT_FDCWD, \"/tmp/ref/x\", "
	       "O_WRONLY|O_CREAT|O_TRUNC|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_DIRECTORY|0x40000000, "
	       "0644) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_openat, 4, (uint64_t)-100, A("/tmp/ref/y"), 02 | 0100 | 0200 | 04010000,
		 0600),
	       "openat(AT_FDCWD, \"/tmp/ref/y\", O_RDWR|O_CREAT|O_EXCL|O_SYNC, 0600) = 4");
	EXPECT(
	    T(LINUX_SYS_openat, -EBADF, 5, A("rel"), 010000000 | 020000 | 010000),
	    "openat(5, \"rel\", O_RDONLY|O_DSYNC|O_PATH|FASYNC) = -1 EBADF (Bad file descriptor)");
	EXPECT(T(LINUX_SYS_openat, -EINVAL, (uint64_t)-100, A("."), 020200000, 0600),
	       "openat(AT_FDCWD, \".\", O_RDONLY|O_TMPFILE, 0600) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_openat, -EISDIR, (uint64_t)-100, A("/"), 3),
	       "openat(AT_FDCWD, \"/\", O_ACCMODE) = -1 EISDIR (Is a directory)");
	EXPECT(T(LINUX_SYS_openat, -EFAULT, (uint64_t)-100, 8, 0),
	       "openat(AT_FDCWD, 0x8, O_RDONLY) = -1 EFAULT (Bad address)");
	EXPECT(T(LINUX_SYS_lseek, 0, 0, 0, 3), "lseek(0, 0, SEEK_DATA) = 0");
	EXPECT(T(LINUX_SYS_lseek, -EINVAL, 0, 0, 7),
	       "lseek(0, 0, 0x7 /* SEEK_??? */) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_access, 0, A("/etc"), 7), "access(\"/etc\", R_OK|W_OK|X_OK) = 0");
	EXPECT(T(LINUX_SYS_access, 0, A("/etc"), 0), "access(\"/etc\", F_OK) = 0");
	EXPECT(T(LINUX_SYS_faccessat2, 0, (uint64_t)-100, A("/etc"), 1, 0x200 | 0x100),
	       "faccessat2(AT_FDCWD, \"/etc\", X_OK, AT_SYMLINK_NOFOLLOW|AT_EACCESS) = 0");
	EXPECT(T(LINUX_SYS_unlinkat, -ENOENT, (uint64_t)-100, A("/tmp/ref/zz"), 0x200),
	       "unlinkat(AT_FDCWD, \"/tmp/ref/zz\", AT_REMOVEDIR) = -1 ENOENT (No such file or "
	       "directory)");
	EXPECT(T(LINUX_SYS_mknodat, 0, (uint64_t)-100, A("/tmp/ref/nod"), 0020644, 0x103),
	       "mknodat(AT_FDCWD, \"/tmp/ref/nod\", S_IFCHR|0644, makedev(0x1, 0x3)) = 0");
	EXPECT(T(LINUX_SYS_mkdir, 0, A("/tmp/ref/dd"), 0), "mkdir(\"/tmp/ref/dd\", 000) = 0");
	EXPECT(T(LINUX_SYS_fchmod, -EBADF, 99, 04755),
	       "fchmod(99, 04755) = -1 EBADF (Bad file descriptor)");
	EXPECT(T(LINUX_SYS_umask, 022, 022), "umask(022) = 022");
	EXPECT(T(LINUX_SYS_dup3, 1, 0, 1, 0), "dup3(0, 1, 0) = 1");
	EXPECT(T(LINUX_SYS_dup3, 20, 6, 20, 02000000), "dup3(6, 20, O_CLOEXEC) = 20");
}

Test(strace, strings)
{
	static const char bin[] =
	    "\1\0012\t\n\\\"\x7f\x80\xff abcdefghijklmnopqrstuvwxyz0123456789";

	EXPECT(T(LINUX_SYS_write, 46, 1, A(bin), 46),
	       "write(1, \"\\1\\0012\\t\\n\\\\\\\"\\177\\200\\377 abcdefghijklmnopqrstu\"..., 46) "
	       "= 46");
	EXPECT(T(LINUX_SYS_write, 4, 1, A("\0018\0019"), 4), "write(1, \"\\18\\19\", 4) = 4");
	EXPECT(T(LINUX_SYS_write, 32, 1, A("abcdefghijklmnopqrstuvwxyz012345"), 32),
	       "write(1, \"abcdefghijklmnopqrstuvwxyz012345\", 32) = 32");
	EXPECT(T(LINUX_SYS_write, 33, 1, A("abcdefghijklmnopqrstuvwxyz0123456"), 33),
	       "write(1, \"abcdefghijklmnopqrstuvwxyz012345\"..., 33) = 33");
	EXPECT(T(LINUX_SYS_write, 10, 1, 8, 10), "write(1, 0x8, 10) = 10");
	EXPECT(T(LINUX_SYS_memfd_create, 3, A("abcdefghijklmnopqrstuvwxyz0123456789"), 0),
	       "memfd_create(\"abcdefghijklmnopqrstuvwxyz012345\"..., 0) = 3");
	EXPECT(T(LINUX_SYS_memfd_create, 3, A("abcdefghijklmnopqrstuvwxyz012345"), 0),
	       "memfd_create(\"abcdefghijklmnopqrstuvwxyz012345\", 0) = 3");
	EXPECT(T(LINUX_SYS_memfd_create, 4, A("a\"b"), 3),
	       "memfd_create(\"a\\\"b\", MFD_CLOEXEC|MFD_ALLOW_SEALING) = 4");
	EXPECT(T(LINUX_SYS_memfd_create, -EFAULT, 8, 0),
	       "memfd_create(0x8, 0) = -1 EFAULT (Bad address)");

	uint8_t rnd[8] = {0xd8, 0x2a, 0x6d, 0x38, 0xa2, 0x7c, 0xe9, 0x85};
	EXPECT(T(LINUX_SYS_getrandom, 8, A(rnd), 8, 1),
	       "getrandom(\"\\xd8\\x2a\\x6d\\x38\\xa2\\x7c\\xe9\\x85\", 8, GRND_NONBLOCK) = 8");
	EXPECT(T(LINUX_SYS_getrandom, -EINVAL, 0, 0, 7),
	       "getrandom(NULL, 0, GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE) = -1 EINVAL (Invalid "
	       "argument)");

	char cwd[] = "/tmp/ref";
	EXPECT(T(LINUX_SYS_getcwd, 9, A(cwd), 256), "getcwd(\"/tmp/ref\", 256) = 9");
	EXPECT(T(LINUX_SYS_getcwd, -ERANGE, 8, 2),
	       "getcwd(0x8, 2) = -1 ERANGE (Numerical result out of range)");
	char link[] = "/tmp/ref/refXXXX";
	EXPECT(T(LINUX_SYS_readlink, 12, A("/proc/self/exe"), A(link), 256),
	       "readlink(\"/proc/self/exe\", \"/tmp/ref/ref\", 256) = 12");

	/* A path is printed whole, not cut at 32. */
	char path[200];
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	const char *l = T(LINUX_SYS_chdir, 0, A(path));
	cr_expect(strstr(l, path) != NULL);
}

Test(strace, iovec_and_argv)
{
	struct linux_iovec in[2] = {{A("hello "), 6}, {A("world\n"), 6}};
	char b1[4] = "vm\n", b2[100] = "";
	struct linux_iovec out[2] = {{A(b1), 4}, {A(b2), 100}};

	EXPECT(T(LINUX_SYS_writev, 12, 1, A(in), 2),
	       "writev(1, [{iov_base=\"hello \", iov_len=6}, {iov_base=\"world\\n\", iov_len=6}], "
	       "2) = 12");
	EXPECT(T(LINUX_SYS_readv, 3, 3, A(out), 2),
	       "readv(3, [{iov_base=\"vm\\n\", iov_len=4}, {iov_base=\"\", iov_len=100}], 2) = 3");

	const char *argv[] = {"/nonexistent", "a\nb", NULL};
	const char *envp[] = {"A=1", "B=2", NULL};
	char want[200];
	snprintf(want, sizeof(want),
		 "execve(\"/nonexistent\", [\"/nonexistent\", \"a\\nb\"], %p /* 2 vars */) = -1 "
		 "ENOENT (No such file or directory)",
		 (void *)envp);
	EXPECT(T(LINUX_SYS_execve, -ENOENT, A("/nonexistent"), A(argv), A(envp)), want);
}

Test(strace, memory)
{
	EXPECT(T(LINUX_SYS_mmap, 0x7fe8a6f8f000, 0, 8192, 3, 0x22, (uint64_t)-1, 0),
	       "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
	       "0x7fe8a6f8f000");
	EXPECT(T(LINUX_SYS_mmap, 0x10000, 0x10000, 4096, 0,
		 0x1 | 0x10 | 0x20 | 0x4000 | 0x8000 | 0x20000 | 0x4000000, (uint64_t)-1, 0),
	       "mmap(0x10000, 4096, PROT_NONE, MAP_SHARED|MAP_FIXED|MAP_ANONYMOUS|MAP_NORESERVE|"
	       "MAP_POPULATE|MAP_STACK|1<<MAP_HUGE_SHIFT, -1, 0) = 0x10000");
	EXPECT(T(LINUX_SYS_mmap, -EOPNOTSUPP, 0, 4096, 0x15, 0x3 | 0x100 | 0x100000, 3, 0x1000),
	       "mmap(NULL, 4096, PROT_READ|PROT_EXEC|0x10, "
	       "MAP_SHARED_VALIDATE|MAP_GROWSDOWN|MAP_FIXED_NOREPLACE, 3, 0x1000) = -1 "
	       "EOPNOTSUPP (Operation not supported)");
	EXPECT(T(LINUX_SYS_mmap, -EINVAL, 0, 4096, 0x8, 0x3f, 3, 0),
	       "mmap(NULL, 4096, PROT_SEM, 0xf /* MAP_??? */|MAP_FIXED|MAP_ANONYMOUS, 3, 0) = -1 "
	       "EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_mprotect, -EINVAL, 0, 4096, 0x100),
	       "mprotect(NULL, 4096, 0x100 /* PROT_??? */) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_mprotect, 0, 0x10000, 4096, 1),
	       "mprotect(0x10000, 4096, PROT_READ) = 0");
	EXPECT(T(LINUX_SYS_munmap, 0, 0x10000, 4096), "munmap(0x10000, 4096) = 0");
	EXPECT(T(LINUX_SYS_mremap, 0x10000, 0x10000, 4096, 8192, 1, 0),
	       "mremap(0x10000, 4096, 8192, MREMAP_MAYMOVE) = 0x10000");
	EXPECT(T(LINUX_SYS_mremap, -EINVAL, 0, 0, 0, 7, 0),
	       "mremap(NULL, 0, 0, MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP, NULL) = -1 EINVAL "
	       "(Invalid argument)");
	EXPECT(T(LINUX_SYS_madvise, -EINVAL, 0, 0, 77),
	       "madvise(NULL, 0, 0x4d /* MADV_??? */) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_madvise, 0, 0x20000, 4096, 4),
	       "madvise(0x20000, 4096, MADV_DONTNEED) = 0");
	EXPECT(T(LINUX_SYS_brk, 0x563860e43000, 0), "brk(NULL) = 0x563860e43000");
}

Test(strace, stat)
{
	struct linux_stat st = {.st_mode = 0100755, .st_size = 3};
	struct linux_stat nul = {.st_mode = 0020666, .st_rdev = 0x103};
	struct linux_statx stx = {.stx_mask = 0x17ff, .stx_mode = 0100755, .stx_size = 3};

	EXPECT(T(LINUX_SYS_newfstatat, 0, (uint64_t)-100, A("/etc/hostname"), A(&st), 0),
	       "newfstatat(AT_FDCWD, \"/etc/hostname\", {st_mode=S_IFREG|0755, st_size=3, ...}, 0) "
	       "= 0");
	EXPECT(T(LINUX_SYS_newfstatat, 0, (uint64_t)-100, A("/dev/null"), A(&nul), 0),
	       "newfstatat(AT_FDCWD, \"/dev/null\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, "
	       "0x3), ...}, 0) = 0");
	char want[200];
	snprintf(want, sizeof(want),
		 "newfstatat(99, \"\", %p, AT_EMPTY_PATH) = -1 EBADF (Bad file descriptor)",
		 (void *)&st);
	EXPECT(T(LINUX_SYS_newfstatat, -EBADF, 99, A(""), A(&st), 0x1000), want);
	EXPECT(T(LINUX_SYS_newfstatat, 0, (uint64_t)-100, A("/etc"), A(&st), 0x900),
	       "newfstatat(AT_FDCWD, \"/etc\", {st_mode=S_IFREG|0755, st_size=3, ...}, "
	       "AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT) = 0");
	EXPECT(T(LINUX_SYS_fstat, -EFAULT, 0, 8), "fstat(0, 0x8) = -1 EFAULT (Bad address)");
	EXPECT(T(LINUX_SYS_statx, 0, (uint64_t)-100, A("/etc/hostname"), 0, 0x7ff, A(&stx)),
	       "statx(AT_FDCWD, \"/etc/hostname\", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, "
	       "{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0755, "
	       "stx_size=3, ...}) = 0");
	EXPECT(T(LINUX_SYS_statx, -EINVAL, (uint64_t)-100, A("/x"), 0x6000, 0xfff, 0),
	       "statx(AT_FDCWD, \"/x\", AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC, STATX_ALL, NULL) = "
	       "-1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_statx, 0, (uint64_t)-100, A("/x"), 0x4100, 0x201, A(&stx)),
	       "statx(AT_FDCWD, \"/x\", AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW, "
	       "STATX_TYPE|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, "
	       "stx_mode=S_IFREG|0755, stx_size=3, ...}) = 0");

	/* getdents64: two entries of 24 bytes each. */
	uint8_t d[48] = {0};
	d[16] = 24;
	d[24 + 16] = 24;
	char got[200];
	snprintf(got, sizeof(got), "getdents64(8, %p /* 2 entries */, 256) = 48", (void *)d);
	EXPECT(T(LINUX_SYS_getdents64, 48, 8, A(d), 256), got);
}

Test(strace, fcntl_ioctl)
{
	EXPECT(T(LINUX_SYS_fcntl, 1, 3, 1), "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)");
	EXPECT(T(LINUX_SYS_fcntl, 0, 3, 2, 1), "fcntl(3, F_SETFD, FD_CLOEXEC) = 0");
	EXPECT(T(LINUX_SYS_fcntl, 0x8000, 3, 3), "fcntl(3, F_GETFL) = 0x8000 (flags "
						 "O_RDONLY|O_LARGEFILE)");
	EXPECT(T(LINUX_SYS_fcntl, 0, 3, 4, 04000), "fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK) = 0");
	EXPECT(T(LINUX_SYS_fcntl, 11, 3, 0, 10), "fcntl(3, F_DUPFD, 10) = 11");
	EXPECT(T(LINUX_SYS_fcntl, 5, 3, 1030, 0), "fcntl(3, F_DUPFD_CLOEXEC, 0) = 5");
	EXPECT(T(LINUX_SYS_fcntl, -EINVAL, 0, 999, 5),
	       "fcntl(0, 0x3e7 /* F_??? */, 0x5) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_fcntl, -EFAULT, 0, 6, 0),
	       "fcntl(0, F_SETLK, NULL) = -1 EFAULT (Bad address)");
	EXPECT(T(LINUX_SYS_ioctl, -ENOTTY, 0, 0x5401, 0x7ffcb2d1f7d0),
	       "ioctl(0, TCGETS, 0x7ffcb2d1f7d0) = -1 ENOTTY (Inappropriate ioctl for device)");
	EXPECT(T(LINUX_SYS_ioctl, 0, 1, 0x5413, 0x7ffcb2d1f7c8),
	       "ioctl(1, TIOCGWINSZ, 0x7ffcb2d1f7c8) = 0");
	EXPECT(T(LINUX_SYS_ioctl, -ENOTTY, 0, 0x1234, 0),
	       "ioctl(0, _IOC(_IOC_NONE, 0x12, 0x34, 0), 0) = -1 ENOTTY (Inappropriate ioctl for "
	       "device)");
	EXPECT(T(LINUX_SYS_ioctl, 0, 0, 0x80045430, 0x7000), "ioctl(0, TIOCGPTN, 0x7000) = 0");
}

Test(strace, signals)
{
	struct linux_sigaction sa = {
	    .handler = LINUX_SIG_IGN,
	    .mask = (1ULL << (2 - 1)) | (1ULL << (15 - 1)),
	    .flags = 0x04000000 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000 | 4 | 1 | 2,
	    .restorer = 0x7fe8a6de0050,
	};
	struct linux_sigaction dfl = {0};

	EXPECT(T(LINUX_SYS_rt_sigaction, 0, 10, A(&sa), 0, 8),
	       "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[INT TERM], "
	       "sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|"
	       "SA_NOCLDSTOP|SA_NOCLDWAIT, sa_restorer=0x7fe8a6de0050}, NULL, 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigaction, 0, 10, 0, A(&sa), 8),
	       "rt_sigaction(SIGUSR1, NULL, {sa_handler=SIG_IGN, sa_mask=[INT TERM], "
	       "sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|"
	       "SA_NOCLDSTOP|SA_NOCLDWAIT, sa_restorer=0x7fe8a6de0050}, 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigaction, 0, 34, A(&dfl), 0, 8),
	       "rt_sigaction(SIGRT_2, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, NULL, 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigaction, -EINVAL, 65, A(&dfl), 0, 8),
	       "rt_sigaction(65, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, NULL, 8) = -1 "
	       "EINVAL (Invalid argument)");

	uint64_t all = ~0ULL & ~(3ULL << 31), none = 0;
	uint64_t some = (1ULL << 16) | (1ULL << 39) | (1ULL << 63);
	EXPECT(T(LINUX_SYS_rt_sigprocmask, 0, 0, A(&all), 0, 8),
	       "rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], NULL, 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigprocmask, 0, 2, A(&none), 0, 8),
	       "rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigprocmask, 0, 1, A(&some), A(&none), 8),
	       "rt_sigprocmask(SIG_UNBLOCK, [CHLD RT_8 RT_32], [], 8) = 0");
	EXPECT(T(LINUX_SYS_rt_sigprocmask, 0, 99, 0, 0, 8),
	       "rt_sigprocmask(0x63 /* SIG_??? */, NULL, NULL, 8) = 0");

	struct linux_stack ss = {.ss_flags = 2};
	EXPECT(T(LINUX_SYS_sigaltstack, 0, A(&ss), A(&ss)),
	       "sigaltstack({ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}, {ss_sp=NULL, "
	       "ss_flags=SS_DISABLE, ss_size=0}) = 0");
	EXPECT(T(LINUX_SYS_kill, 0, 0, 0), "kill(0, 0) = 0");
	EXPECT(T(LINUX_SYS_kill, -ESRCH, 999999, 15),
	       "kill(999999, SIGTERM) = -1 ESRCH (No such process)");
	EXPECT(T(LINUX_SYS_kill, -ESRCH, 999999, 100),
	       "kill(999999, 100) = -1 ESRCH (No such process)");
	EXPECT(T(LINUX_SYS_tgkill, 0, 7, 7, 11), "tgkill(7, 7, SIGSEGV) = 0");
}

Test(strace, time_and_misc)
{
	struct linux_timespec ts = {0, 1000}, res = {0, 1};
	struct linux_timeval tv = {1795752087, 84037};

	EXPECT(
	    T(LINUX_SYS_clock_nanosleep, 0, 0, 1, A(&ts), 0),
	    "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=0, tv_nsec=1000}, NULL) = 0");
	EXPECT(T(LINUX_SYS_clock_nanosleep, -EINVAL, 99, 3, A(&res), 0),
	       "clock_nanosleep(0x63 /* CLOCK_??? */, TIMER_ABSTIME|0x2, {tv_sec=0, tv_nsec=1}, "
	       "NULL) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_nanosleep, -EFAULT, 8, 0),
	       "nanosleep(0x8, NULL) = -1 EFAULT (Bad address)");
	EXPECT(T(LINUX_SYS_clock_getres, 0, 4, A(&res)),
	       "clock_getres(CLOCK_MONOTONIC_RAW, {tv_sec=0, tv_nsec=1}) = 0");
	EXPECT(T(LINUX_SYS_gettimeofday, 0, A(&tv), 0),
	       "gettimeofday({tv_sec=1795752087, tv_usec=84037}, NULL) = 0");

	struct linux_utsname u = {.sysname = "Linux", .nodename = "vm"};
	EXPECT(T(LINUX_SYS_uname, 0, A(&u)),
	       "uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0");
	struct linux_rlimit st = {8192 * 1024, LINUX_RLIM_INFINITY}, nf = {20000, 20000};
	EXPECT(T(LINUX_SYS_prlimit64, 0, 0, 3, 0, A(&st)),
	       "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = "
	       "0");
	EXPECT(T(LINUX_SYS_prlimit64, 0, 0, 7, 0, A(&nf)),
	       "prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=20000, rlim_max=20000}) = 0");
	int32_t fds[2] = {6, 7};
	EXPECT(T(LINUX_SYS_pipe2, 0, A(fds), 02000000), "pipe2([6, 7], O_CLOEXEC) = 0");
	EXPECT(T(LINUX_SYS_pipe2, -EFAULT, 8, 0), "pipe2(0x8, 0) = -1 EFAULT (Bad address)");
	uint64_t fsbase = 0x7fe8a6da1740;
	EXPECT(T(LINUX_SYS_arch_prctl, 0, 0x1003, A(&fsbase)),
	       "arch_prctl(ARCH_GET_FS, [0x7fe8a6da1740]) = 0");
	EXPECT(T(LINUX_SYS_arch_prctl, 0, 0x1002, 0x7fd332f89c40),
	       "arch_prctl(ARCH_SET_FS, 0x7fd332f89c40) = 0");
	EXPECT(T(LINUX_SYS_arch_prctl, -EINVAL, 0x9999, 0),
	       "arch_prctl(0x9999 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_prctl, 0, 15, A("foo"), 0, 0, 0), "prctl(PR_SET_NAME, \"foo\") = 0");
	EXPECT(T(LINUX_SYS_prctl, 0, 38, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0");
	EXPECT(T(LINUX_SYS_setresuid, 0, (uint64_t)-1, 0xffffffff, 0), "setresuid(-1, -1, 0) = 0");
	EXPECT(T(LINUX_SYS_getpid, 5, 0), "getpid() = 5");
	EXPECT(T(LINUX_SYS_fadvise64, 0, 3, 0, 0, 2),
	       "fadvise64(3, 0, 0, POSIX_FADV_SEQUENTIAL) = 0");
	struct linux_sysinfo si = {
	    .uptime = 985, .loads = {1, 2, 3}, .totalram = 4096, .procs = 9, .mem_unit = 1};
	EXPECT(T(LINUX_SYS_sysinfo, 0, A(&si)),
	       "sysinfo({uptime=985, loads=[1, 2, 3], totalram=4096, freeram=0, sharedram=0, "
	       "bufferram=0, totalswap=0, freeswap=0, procs=9, totalhigh=0, freehigh=0, "
	       "mem_unit=1}) = 0");
	EXPECT(T(LINUX_SYS_unshare, 0, 0x20000 | 0x10000000),
	       "unshare(CLONE_NEWNS|CLONE_NEWUSER) = 0");
	EXPECT(T(0x1ff, -ENOSYS, 1, 2, 3),
	       "syscall_0x1ff(0x1, 0x2, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)");
	EXPECT(T(400, -ENOSYS, 1, 2, 3),
	       "syscall_0x190(0x1, 0x2, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)");
	EXPECT(T(LINUX_SYS_rseq, -ENOSYS, 0x1000, 32, 0, 0x53053053),
	       "rseq(0x1000, 0x20, 0, 0x53053053) = -1 ENOSYS (Function not implemented)");
	EXPECT(T(LINUX_SYS_read, -LINUX_ERESTARTSYS, 0, 0x7000, 10),
	       "read(0, 0x7000, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
	EXPECT(T(LINUX_SYS_read, -4000, 0, 0x7000, 10),
	       "read(0, 0x7000, 10) = -1 ERRNO_4000 (Unknown error 4000)");
}

Test(strace, processes)
{
	int fw = 0;
	struct linux_timespec ts = {0, 1};
	char want[300];

	snprintf(want, sizeof(want), "futex(%p, FUTEX_WAKE_PRIVATE, 1) = 0", (void *)&fw);
	EXPECT(T(LINUX_SYS_futex, 0, A(&fw), 129, 1, 0, 0, 0), want);
	snprintf(want, sizeof(want),
		 "futex(%p, FUTEX_WAIT, 1, {tv_sec=0, tv_nsec=1}) = -1 EAGAIN (Resource "
		 "temporarily unavailable)",
		 (void *)&fw);
	EXPECT(T(LINUX_SYS_futex, -EAGAIN, A(&fw), 0, 1, A(&ts), 0, 0), want);
	snprintf(want, sizeof(want),
		 "futex(%p, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 1, NULL, "
		 "FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN (Resource temporarily unavailable)",
		 (void *)&fw);
	EXPECT(T(LINUX_SYS_futex, -EAGAIN, A(&fw), 9 | 256, 1, 0, 0, 0xffffffff), want);

	EXPECT(T(LINUX_SYS_clone, 6596, 0x01200011, 0, 0, 0x7fe8a6da1a10, 0),
	       "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
	       "child_tidptr=0x7fe8a6da1a10) = 6596");
	EXPECT(T(LINUX_SYS_clone, 6598, 0x3d0f00, 0, 0, 0, 0),
	       "clone(child_stack=NULL, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
	       "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
	       "parent_tid=NULL, tls=NULL, child_tidptr=NULL) = 6598");

	int exited = 3 << 8, killed = 11;
	EXPECT(T(LINUX_SYS_wait4, 6596, 6596, A(&exited), 0, 0),
	       "wait4(6596, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 6596");
	EXPECT(T(LINUX_SYS_wait4, 6597, 6597, A(&killed), 0x40000000, 0),
	       "wait4(6597, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV}], __WALL, NULL) = 6597");
	snprintf(want, sizeof(want),
		 "wait4(-1, %p, WNOHANG, NULL) = -1 ECHILD (No child processes)", (void *)&killed);
	EXPECT(T(LINUX_SYS_wait4, -ECHILD, (uint64_t)-1, A(&killed), 1, 0), want);
	EXPECT(T(LINUX_SYS_wait4, -ECHILD, (uint64_t)-1, 0, 0x40000000 | 0x20000000 | 2 | 8, 0),
	       "wait4(-1, NULL, WSTOPPED|WCONTINUED|__WALL|__WNOTHREAD, NULL) = -1 ECHILD (No "
	       "child processes)");
}

Test(strace, sockets)
{
	uint8_t sun[110] = {1, 0};
	strcpy((char *)sun + 2, "/nonexistent/sock");
	uint8_t sin[16] = {2, 0, 0, 9, 127, 0, 0, 1};
	uint8_t sin6[28] = {10, 0, 0, 9};
	sin6[8 + 15] = 1;

	EXPECT(T(LINUX_SYS_socket, 9, 1, 1 | 02000000, 0),
	       "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 9");
	EXPECT(T(LINUX_SYS_socket, 12, 2, 2 | 04000, 17),
	       "socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK, IPPROTO_UDP) = 12");
	EXPECT(T(LINUX_SYS_socket, 5, 2, 1, 0), "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 5");
	EXPECT(T(LINUX_SYS_socket, -EINVAL, 99, 0x12, 0),
	       "socket(0x63 /* AF_??? */, SOCK_DGRAM|0x10, 0) = -1 EINVAL (Invalid argument)");
	EXPECT(T(LINUX_SYS_connect, -ENOENT, 9, A(sun), 110),
	       "connect(9, {sa_family=AF_UNIX, sun_path=\"/nonexistent/sock\"}, 110) = -1 ENOENT "
	       "(No such file or directory)");
	EXPECT(T(LINUX_SYS_connect, -ECONNREFUSED, 5, A(sin), 16),
	       "connect(5, {sa_family=AF_INET, sin_port=htons(9), "
	       "sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused)");
	EXPECT(T(LINUX_SYS_connect, -ECONNREFUSED, 6, A(sin6), 28),
	       "connect(6, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), "
	       "inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED "
	       "(Connection refused)");
}

/* The whole line as strace -f writes it: "= " at column 40 (or one space after a longer call). */
static const char *raw_line(const char *call, const char *result)
{
	static char line[1000];

	snprintf(line, sizeof(line), "%-39s = %s\n", call, result);
	return line;
}

Test(strace, raw_lines)
{
	struct syscall_args brk = {.nr = LINUX_SYS_brk};
	struct syscall_args eg = {.nr = LINUX_SYS_exit_group, .a = {0}};
	struct syscall_args rd = {.nr = LINUX_SYS_read, .a = {3, 0x7000, 4096}};
	struct linux_stat st = {.st_mode = 0100644, .st_size = 42979};
	struct syscall_args fst = {.nr = LINUX_SYS_newfstatat, .a = {3, A(""), A(&st), 0x1000}};

	strace_enter(&g_task, &brk);
	cr_expect_str_eq(output(), "", "nothing is written before the call returns");
	strace_exit(&g_task, &brk, 0x55a4a12b0000);
	cr_expect_str_eq(output(), raw_line("[pid    42] brk(NULL)", "0x55a4a12b0000"));

	strace_enter(&g_task, &eg);
	cr_expect_str_eq(output(), raw_line("[pid    42] exit_group(0)", "?"));
	strace_exit(&g_task, &eg, 0);
	cr_expect_str_eq(output(), "", "exit_group is printed once");

	strace_enter(&g_task, &rd);
	strace_exit(&g_task, &rd, -EBADF);
	cr_expect_str_eq(output(), raw_line("[pid    42] read(3, 0x7000, 4096)",
					    "-1 EBADF (Bad file descriptor)"));

	/* The stat buffer is read after the call, not before. */
	strace_enter(&g_task, &fst);
	st.st_size = 1;
	strace_exit(&g_task, &fst, 0);
	cr_expect_str_eq(output(), "[pid    42] newfstatat(3, \"\", {st_mode=S_IFREG|0644, "
				   "st_size=1, ...}, AT_EMPTY_PATH) = 0\n");

	/* An exit without its enter (e.g. strace switched on mid-call) prints the whole call. */
	strace_exit(&g_task, &brk, 0x1000);
	cr_expect_str_eq(output(), raw_line("[pid    42] brk(NULL)", "0x1000"));

	/* A strace line from real strace, for the column: 9 + 31 characters before "= ". */
	cr_expect_str_eq(raw_line("brk(NULL)", "0x1"),
			 "brk(NULL)                               = 0x1\n");

	/* Off: nothing at all. */
	g_kernel.strace = false;
	strace_enter(&g_task, &brk);
	strace_exit(&g_task, &brk, 0);
	cr_expect_str_eq(output(), "");
}

Test(strace, events)
{
	strace_signal(&g_task, LINUX_SIGSEGV, 1, 0xffffffffffffff80ULL);
	cr_expect_str_eq(output(),
			 "[pid    42] --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, "
			 "si_addr=0xffffffffffffff80} ---\n");
	strace_signal(&g_task, LINUX_SIGSEGV, 0x80, 0);
	cr_expect_str_eq(output(), "[pid    42] --- SIGSEGV {si_signo=SIGSEGV, si_code=SI_KERNEL, "
				   "si_addr=NULL} ---\n");
	strace_exited(&g_task, LINUX_W_EXITCODE(5, 0));
	cr_expect_str_eq(output(), "[pid    42] +++ exited with 5 +++\n");
	strace_exited(&g_task, LINUX_W_EXITCODE(0, LINUX_SIGSEGV) | LINUX_WCOREFLAG);
	cr_expect_str_eq(output(), "[pid    42] +++ killed by SIGSEGV (core dumped) +++\n");
}

Test(strace, quoting)
{
	char buf[128];
	struct abi_out o;

	abi_out_init(&o, buf, sizeof(buf));
	strace_put_quoted(&o, "\0\0003\x1b[0m\v\f\r", 10, true, false);
	cr_expect_str_eq(buf, "\"\\0\\0003\\33[0m\\v\\f\\r\"...");

	abi_out_init(&o, buf, sizeof(buf));
	strace_put_quoted(&o, "AB", 2, false, true);
	cr_expect_str_eq(buf, "\"\\x41\\x42\"");

	/* A tiny buffer is cut but stays terminated, and len counts everything. */
	abi_out_init(&o, buf, 4);
	strace_put_quoted(&o, "abcdef", 6, false, false);
	cr_expect_str_eq(buf, "\"ab");
	cr_expect_eq(o.len, 8);
}
