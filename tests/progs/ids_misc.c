/* ids_misc.c: id calls, umask, ioctl on non-ttys, access/faccessat, rlimits, sysinfo, pids. */
#include "check.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <termios.h>

int main(void)
{
	char path[128];

	/* Ids: nothing host specific is printed, only relations. */
	uid_t r, e, s;
	gid_t gr, ge, gs;
	CHECK_OK(getresuid(&r, &e, &s));
	CHECK_OK(getresgid(&gr, &ge, &gs));
	CHECK(getuid() == geteuid() && getuid() == r && e == r && s == r, "uids differ");
	CHECK(getgid() == getegid() && getgid() == gr && ge == gr && gs == gr, "gids differ");
	int ng = CHECK_OK(getgroups(0, NULL));
	CHECK(ng >= 0 && ng <= 65536, "getgroups %d", ng);
	printf("ok uid == euid == suid, gid == egid == sgid\n");

	/* Single-threaded: tid == pid; the parent exists. */
	CHECK(getpid() > 0 && gettid() == getpid(), "gettid != getpid");
	CHECK(syscall(SYS_getpid) == getpid(), "raw getpid");
	CHECK(getppid() >= 0, "getppid");
	printf("ok gettid == getpid\n");

	/* umask round trip; it applies to creation. */
	mode_t old = umask(027);
	CHECK(umask(077) == 027, "umask did not return 027");
	CHECK(umask(0777 | 0170000) == 077, "umask did not return 077");
	CHECK(umask(022) == 0777, "umask keeps only the permission bits");
	snprintf(path, sizeof(path), "/tmp/runsc-c-ids-%s", uniq());
	umask(077);
	int fd = CHECK_OK(open(path, O_CREAT | O_EXCL | O_WRONLY, 0666));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK((st.st_mode & 0777) == 0600, "mode %o under umask 077", st.st_mode & 0777);
	umask(old);
	printf("ok umask round trip, applied on create\n");

	/* TCGETS/TIOCGWINSZ on a regular file and /dev/null: ENOTTY. */
	struct termios tio;
	struct winsize ws;
	CHECK_ERR(ioctl(fd, TCGETS, &tio), ENOTTY);
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY);
	int nul = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(ioctl(nul, TCGETS, &tio), ENOTTY);
	errno = 0;
	CHECK(!isatty(nul) && errno == ENOTTY, "isatty(/dev/null)");
	/* stdin is /dev/null in the runner. */
	CHECK_OK(fstat(0, &st));
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		CHECK_ERR(ioctl(0, TCGETS, &tio), ENOTTY);
	printf("ok ioctl on a non-tty -> ENOTTY\n");
	close(nul);
	CHECK_OK(close(fd));

	/* access/faccessat on files whose answer does not depend on being root. */
	CHECK_OK(access("/etc/passwd", R_OK));
	CHECK_OK(access("/etc/passwd", F_OK));
	CHECK_OK(access("/bin/busybox", R_OK | X_OK));
	CHECK_OK(access("/usr", X_OK));
	/* path was created 0600 (no x bit at all), so X_OK fails even for root. */
	CHECK_ERR(access(path, X_OK), EACCES);
	CHECK_ERR(access("/etc/passwd", X_OK), EACCES);
	CHECK_ERR(access("/nonexistent-runsc-c", F_OK), ENOENT);
	CHECK_ERR(access("/etc/passwd", 0x10), EINVAL);
	CHECK_OK(faccessat(AT_FDCWD, "/etc/passwd", R_OK, 0));
	int dfd = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	CHECK_OK(faccessat(dfd, "passwd", R_OK, 0));
	CHECK_OK(faccessat(dfd, "passwd", R_OK, AT_EACCESS));
	CHECK_OK(syscall(SYS_faccessat2, dfd, "passwd", R_OK, AT_EACCESS));
	CHECK_OK(syscall(SYS_faccessat2, dfd, "os-release", R_OK, AT_SYMLINK_NOFOLLOW));
	CHECK_ERR(syscall(SYS_faccessat2, dfd, "passwd", R_OK, 0x1), EINVAL);
	CHECK_ERR(faccessat(dfd, "missing", F_OK, 0), ENOENT);
	close(dfd);
	CHECK_OK(unlink(path));
	printf("ok access/faccessat/faccessat2\n");

	/* rlimits: soft <= hard; getrlimit and prlimit agree; lowering the soft limit works. */
	struct rlimit rl, rl2;
	int res[] = { RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_AS, RLIMIT_DATA, RLIMIT_CORE };
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		CHECK_OK(getrlimit(res[i], &rl));
		CHECK(rl.rlim_cur <= rl.rlim_max, "rlimit %d soft > hard", res[i]);
		CHECK_OK(prlimit(0, res[i], NULL, &rl2));
		CHECK(rl.rlim_cur == rl2.rlim_cur && rl.rlim_max == rl2.rlim_max, "prlimit %d", res[i]);
	}
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK(rl.rlim_cur >= 64, "RLIMIT_NOFILE %llu", (unsigned long long)rl.rlim_cur);
	rl2 = rl;
	rl2.rlim_cur = 50;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl2));
	CHECK_ERR(fcntl(0, F_DUPFD, 60), EINVAL);
	CHECK_ERR(dup2(0, 55), EBADF);
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERR(getrlimit(12345, &rl), EINVAL);
	printf("ok rlimits\n");

	/* sysinfo: values are plausible. */
	struct sysinfo si;
	CHECK_OK(sysinfo(&si));
	CHECK(si.totalram > 0 && si.mem_unit > 0 && si.freeram <= si.totalram, "sysinfo memory");
	CHECK(si.uptime >= 0 && si.procs >= 1, "sysinfo uptime/procs");
	printf("ok sysinfo\n");
	printf("ids_misc: done\n");
	return 0;
}
