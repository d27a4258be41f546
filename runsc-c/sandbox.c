/* Starting a sandbox: spawn the gofer and the Sentry (re-executions of this binary), wait for
 * both, and turn what happened into the CLI's exit status.
 *
 * fds each child gets (everything else is closed before exec; stdio stays as the caller's):
 *   gofer : 0-2 /dev/null, 3 its socket end, 4 the log
 *   Sentry: 0-2 the caller's stdio, 3 its socket end, 4 the boot config (sealed memfd),
 *           5 the status pipe (it writes sentry_main's result, an int), 6 the log
 * Both are exec'ed from an fd of /proc/self/exe, so the Sentry, mapped to an unprivileged host
 * uid, needs no search permission on the directories holding the binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/util.h"
#include "runsc-c/cli.h"

/* The host uid/gid the sandbox's root maps to when runsc-c runs as host root: nobody. */
#define SANDBOX_HOST_ID 65534

#define SENTRY_CLONE_FLAGS                                                                         \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

static volatile sig_atomic_t g_sentry_pid;
static volatile sig_atomic_t g_forwarded;

/* SIGINT/SIGTERM/SIGHUP: end the sandbox. The Sentry is pid 1 of its namespace and ignores
 * signals it has no handler for, so it is killed; the CLI then exits 128+sig like a shell. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si && si->si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT))
		return;
	if (sig == SIGQUIT)
		return;
	if (!g_forwarded)
		g_forwarded = sig;
	if (g_sentry_pid > 0)
		kill(g_sentry_pid, SIGKILL);
}

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* In a child before exec: dup src[0..n) to fds first, first+1, ... and close every other fd
 * from first on. Safe when sources and targets overlap. Returns 0 or -errno. */
static int child_move_fds(const int *src, int n, int first)
{
	int tmp[8];

	if (n > (int)ARRAY_SIZE(tmp))
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, first + n)) < 0)
			return -errno;
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], first + i) < 0)
			return -errno;
	if (syscall(SYS_close_range, first + n, ~0U, 0) < 0)
		return -errno;
	return 0;
}

/* In a child: back to the signal state a new program expects. */
static void child_reset_signals(const sigset_t *mask, void (*disposition)(int))
{
	struct sigaction sa = {.sa_handler = disposition};
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaction(forwarded_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
}

static noreturn void child_fail(const char *what, int err)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "runsc-c: %s: %s\n", what, strerror(err));
	ssize_t r = write(2, buf, (size_t)MIN(n, (int)sizeof(buf) - 1));
	(void)r;
	_exit(EXIT_RUNTIME);
}

static char *const empty_env[] = {NULL};

/* The fd the gofer finds the Sentry's network namespace at (spawn_gofer). */
#define GOFER_NETNS_FD "7"

/* The gofer's argv: the fixed flags, "--netns-fd 7" if it gets the Sentry's network namespace,
 * then "--bind-ro|--bind-rw SOURCE" for each bind mount of boot in order (they become its
 * roots 1, 2, ...). NULL on ENOMEM; free() the array only. */
static char **gofer_argv(const char *rootfs, const struct boot_config *boot, char *level_str,
			 bool netns)
{
	char *fixed[] = {"runsc-c", "gofer",	   "--sock-fd", "3",	    "--log-fd",
			 "4",	    "--log-level", level_str,	"--rootfs", (char *)rootfs};
	size_t nfixed = ARRAY_SIZE(fixed), n = nfixed;
	char **argv = calloc(nfixed + 2 + 2 * boot->nmounts + 1, sizeof(*argv));

	if (!argv)
		return NULL;
	memcpy(argv, fixed, sizeof(fixed));
	if (netns) {
		argv[n++] = "--netns-fd";
		argv[n++] = GOFER_NETNS_FD;
	}
	for (size_t i = 0; i < boot->nmounts; i++) {
		const struct boot_mount *m = &boot->mounts[i];
		if (strcmp(m->type, "bind") != 0)
			continue;
		argv[n++] = m->readonly ? "--bind-ro" : "--bind-rw";
		argv[n++] = m->source;
	}
	return argv;
}

/* Fork and exec the gofer. netns_fd: the Sentry's network namespace for it to join, or -1. */
static pid_t spawn_gofer(int exe_fd, int sock, const char *rootfs, const struct boot_config *boot,
			 int log_fd, int level, int netns_fd, const sigset_t *mask)
{
	char level_str[4];
	char **argv = gofer_argv(rootfs, boot, level_str, netns_fd >= 0);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;

	if (!argv || devnull < 0) {
		int e = argv ? errno : ENOMEM;
		free(argv);
		if (devnull >= 0)
			close(devnull);
		return -e;
	}
	snprintf(level_str, sizeof(level_str), "%d", level);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(devnull);
		free(argv);
		return -e;
	}
	if (pid == 0) {
		/* 3 sock, 4 log, 5 exe, 6 /dev/null (then 0-2), 7 the network namespace */
		const int fds[] = {sock, log_fd, exe_fd, devnull, netns_fd};
		int r;

		/* The terminal's ^C goes to the whole process group: the gofer stays until the
		 * Sentry is gone and its socket closes. */
		child_reset_signals(mask, SIG_IGN);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail("gofer: PR_SET_PDEATHSIG", errno);
		if ((r = child_move_fds(fds, netns_fd >= 0 ? 5 : 4, 3)) < 0)
			child_fail("gofer: fds", -r);
		for (int fd = 0; fd < 3; fd++)
			dup2(6, fd);
		close(6);
		fcntl(5, F_SETFD, FD_CLOEXEC);
		syscall(SYS_execveat, 5, "", argv, empty_env, AT_EMPTY_PATH);
		child_fail("gofer: exec", errno);
	}
	close(devnull);
	free(argv);
	return pid;
}

static int write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

/* Map the sandbox's uid/gid 0 to one host id. As host root: nobody, and supplementary groups
 * are cleared by the child (setgroups stays allowed for that). Otherwise: the caller's ids. */
static int write_id_maps(pid_t pid, bool *clear_groups)
{
	char map[64];
	int r;

	if (geteuid() == 0) {
		snprintf(map, sizeof(map), "0 %d 1\n", SANDBOX_HOST_ID);
		if ((r = write_file(pid, "uid_map", map)) == 0 &&
		    (r = write_file(pid, "gid_map", map)) == 0) {
			*clear_groups = true;
			return 0;
		}
		/* Within a user namespace that has no nobody: fall through to our own ids. */
		log_warn("mapping the Sentry to uid %d failed (%s); using uid 0", SANDBOX_HOST_ID,
			 strerror(-r));
	}
	snprintf(map, sizeof(map), "0 %d 1\n", (int)geteuid());
	if ((r = write_file(pid, "uid_map", map)) < 0)
		return r;
	if ((r = write_file(pid, "setgroups", "deny")) < 0 && r != -ENOENT)
		return r;
	snprintf(map, sizeof(map), "0 %d 1\n", (int)getegid());
	*clear_groups = false;
	return write_file(pid, "gid_map", map);
}

/* The Sentry's child side: wait for the id maps, become root of the new user namespace, and
 * exec the boot role. fds: gofer socket, config, status, log, [control,] exe (nfds 5 or 6).
 * Never returns. */
static noreturn void sentry_child(int sync_r, const int *fds, int nfds, const sigset_t *mask)
{
	char *argv[] = {"runsc-c", "boot",	  "--gofer-fd", "3",	    "--config-fd",
			"4",	   "--status-fd", "5",		"--log-fd", "6",
			NULL,	   NULL,	  NULL};
	int exe = 3 + nfds - 1;
	char msg;
	int r;

	if (nfds == 6) {
		argv[10] = "--control-fd";
		argv[11] = "7";
	}
	child_reset_signals(mask, SIG_DFL);
	if (read(sync_r, &msg, 1) != 1 || (msg != 'g' && msg != 'k'))
		_exit(EXIT_RUNTIME); /* the parent failed and has said so */
	if (msg == 'g' && setgroups(0, NULL) < 0)
		child_fail("sentry: setgroups", errno);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		child_fail("sentry: setresuid", errno);
	/* After the credential change, which clears it. getppid() is 0 here (the parent is
	 * outside our pid namespace): the parent holds the sync pipe's write end for its
	 * whole life, so EOF means it is gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("sentry: PR_SET_PDEATHSIG", errno);
	fcntl(sync_r, F_SETFL, O_NONBLOCK);
	if (read(sync_r, &msg, 1) == 0)
		_exit(EXIT_RUNTIME);
	if ((r = child_move_fds(fds, nfds, 3)) < 0)
		child_fail("sentry: fds", -r);
	fcntl(exe, F_SETFD, FD_CLOEXEC);
	syscall(SYS_execveat, exe, "", argv, empty_env, AT_EMPTY_PATH);
	child_fail("sentry: exec", errno);
}

/* Clone the Sentry into new namespaces. fds: gofer socket, config, status write end, log,
 * [control,] exe. *sync_w receives the pipe end the parent must hold until the Sentry is gone. */
static pid_t spawn_sentry(const int *fds, int nfds, const sigset_t *mask, int *sync_w)
{
	int sync[2];
	bool clear_groups = false;
	pid_t pid;
	int r;

	if (pipe2(sync, O_CLOEXEC) < 0)
		return -errno;
	pid = (pid_t)syscall(SYS_clone, SENTRY_CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		r = -errno;
		close(sync[0]);
		close(sync[1]);
		return r;
	}
	if (pid == 0) {
		close(sync[1]);
		sentry_child(sync[0], fds, nfds, mask);
	}
	close(sync[0]);
	if ((r = write_id_maps(pid, &clear_groups)) < 0) {
		fprintf(stderr, "runsc-c: writing the Sentry's uid/gid maps: %s\n", strerror(-r));
		close(sync[1]); /* the child reads EOF and exits */
		waitpid(pid, NULL, 0);
		return r;
	}
	if (write(sync[1], clear_groups ? "g" : "k", 1) != 1) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sync[1]);
		return r;
	}
	*sync_w = sync[1];
	return pid;
}

int sandbox_config_memfd(const struct boot_config *c)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, off = 0;
	int fd, r;

	if ((r = boot_config_encode(c, &buf, &len)) < 0)
		return r;
	fd = memfd_create("runsc-c-boot-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

int sandbox_exit_code(bool have_result, int result, int sentry_wstatus, int forwarded,
		      const char *cmd, FILE *err)
{
	FILE *f = err ? err : fopen("/dev/null", "w");
	int code = EXIT_RUNTIME;

	if (have_result && result >= 0) {
		if (WIFEXITED(result))
			code = WEXITSTATUS(result);
		else if (WIFSIGNALED(result))
			code = 128 + WTERMSIG(result);
		else
			fprintf(f, "runsc-c: the Sentry reported an invalid wait status %#x\n",
				result);
	} else if (have_result) {
		switch (-result) {
		case ENOENT:
			fprintf(f, "runsc-c: %s: No such file or directory\n", cmd);
			code = EXIT_NOTFOUND;
			break;
		case ENOEXEC:
			fprintf(f, "runsc-c: %s: Exec format error (ENOEXEC)\n", cmd);
			code = EXIT_NOEXEC;
			break;
		case EACCES:
			fprintf(f, "runsc-c: %s: Permission denied (EACCES)\n", cmd);
			code = EXIT_NOEXEC;
			break;
		default:
			fprintf(f, "runsc-c: %s: the sandbox could not run it: %s\n", cmd,
				-result > 0 && -result < 4096 ? strerror(-result) : "bad error");
		}
	} else if (forwarded) {
		code = 128 + forwarded;
	} else if ((WIFSIGNALED(sentry_wstatus) && WTERMSIG(sentry_wstatus) == SIGSYS) ||
		   (WIFEXITED(sentry_wstatus) && WEXITSTATUS(sentry_wstatus) == 128 + SIGSYS)) {
		/* Killed by its seccomp filter, or exited so by the --debug SIGSYS handler. */
		fprintf(f, "runsc-c: the Sentry made a host syscall outside its seccomp allowlist "
			   "and was stopped (--debug names the syscall)\n");
	} else if (WIFSIGNALED(sentry_wstatus)) {
		fprintf(f, "runsc-c: the Sentry was killed by SIG%s\n",
			signame(WTERMSIG(sentry_wstatus)));
	} else if (WIFEXITED(sentry_wstatus)) {
		fprintf(f, "runsc-c: the Sentry exited with status %d without a result\n",
			WEXITSTATUS(sentry_wstatus));
	}
	if (f && f != err)
		fclose(f);
	return code;
}

/* Wait for the gofer to notice its socket closed (it exits at once); kill it after 2 s.
 * A pidfd lets us sleep until it exits instead of polling with sleeps, which cost up to 10 ms
 * of every sandbox's run. */
static void reap_gofer(pid_t gofer)
{
	int pidfd = (int)syscall(SYS_pidfd_open, gofer, 0);
	int st;

	if (pidfd >= 0) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		int r;

		while ((r = poll(&pfd, 1, 2000)) < 0 && errno == EINTR)
			;
		close(pidfd);
		if (r == 0) {
			log_warn("the gofer did not exit; killing it");
			kill(gofer, SIGKILL);
		}
	} else {
		/* no pidfds (Linux < 5.3): the Sentry is gone, and with it the gofer's work */
		kill(gofer, SIGKILL);
	}
	while (waitpid(gofer, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		fprintf(stderr, "runsc-c: the gofer was killed by SIG%s\n", signame(WTERMSIG(st)));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr, "runsc-c: the gofer exited with status %d\n", WEXITSTATUS(st));
}

int sandbox_spawn(const struct sandbox_spec *s, struct sandbox *sb)
{
	_cleanup_close_ int cfg_fd = -1;
	int sock[2] = {-1, -1}, status[2] = {-1, -1}, ctl[2] = {-1, -1};
	sigset_t block;

	*sb = (struct sandbox){.status_r = -1, .sync_w = -1, .exe_fd = -1, .control = -1};
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
		sigaddset(&block, forwarded_signals[i]);
		sigaction(forwarded_signals[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	/* Blocked while spawning, so a signal cannot slip between a fork and g_sentry_pid. */
	sigprocmask(SIG_BLOCK, &block, &sb->old_mask);

	if ((sb->exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		die_status(EXIT_RUNTIME, "/proc/self/exe: %s", strerror(errno));
	if ((cfg_fd = sandbox_config_memfd(s->boot)) < 0)
		die_status(EXIT_RUNTIME, "boot config: %s", strerror(-cfg_fd));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0 ||
	    pipe2(status, O_CLOEXEC) < 0 ||
	    (s->control && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0))
		die_status(EXIT_RUNTIME, "socketpair/pipe: %s", strerror(errno));
	sb->status_r = status[0];
	sb->control = ctl[0];

	/* The Sentry first: its way to its first request (an exec, its boot) is the longer of the
	 * two, and the gofer starts while the Sentry boots, not before it begins. */
	const int sentry_fds[] = {sock[0],   cfg_fd, status[1], s->log_fd, s->control ? ctl[1] : -1,
				  sb->exe_fd};
	const int plain_fds[] = {sock[0], cfg_fd, status[1], s->log_fd, sb->exe_fd};
	sb->sentry = s->control ? spawn_sentry(sentry_fds, 6, &sb->old_mask, &sb->sync_w)
				: spawn_sentry(plain_fds, 5, &sb->old_mask, &sb->sync_w);
	close(sock[0]); /* the gofer will see EOF when the Sentry is gone */
	close(status[1]);
	if (ctl[1] >= 0)
		close(ctl[1]);
	if (sb->sentry < 0) {
		if (sb->sentry == -EPERM || sb->sentry == -ENOSPC || sb->sentry == -EUSERS)
			fprintf(stderr,
				"runsc-c: cannot create the Sentry's namespaces (%s): are "
				"user namespaces enabled?\n",
				strerror(-sb->sentry));
		else
			fprintf(stderr, "runsc-c: starting the Sentry: %s\n",
				strerror(-sb->sentry));
		close(sock[1]);
		sandbox_close(sb);
		return EXIT_RUNTIME;
	}
	/* The gofer joins the Sentry's network namespace (empty, like the one it would make):
	 * one namespace made and torn down per sandbox, not two. Not a container's: that one is
	 * the runtime's to configure (its hooks, CNI's among them, get the Sentry's pid), so
	 * there the gofer keeps one of its own, empty whatever they add. */
	int netns_fd = -1;
	if (!s->control) {
		char ns_path[64];
		snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/net", (int)sb->sentry);
		netns_fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	}
	sb->gofer = spawn_gofer(sb->exe_fd, sock[1], s->rootfs, s->boot, s->log_fd, s->log_level,
				netns_fd, &sb->old_mask);
	close(sock[1]);
	if (netns_fd >= 0)
		close(netns_fd);
	if (sb->gofer < 0) {
		kill(sb->sentry, SIGKILL);
		waitpid(sb->sentry, NULL, 0);
		die_status(EXIT_RUNTIME, "starting the gofer: %s", strerror(-sb->gofer));
	}
	g_sentry_pid = sb->sentry;
	log_debug("gofer pid %d, sentry pid %d", (int)sb->gofer, (int)sb->sentry);
	/* A signal that came while blocked is handled here, and kills the Sentry. */
	sigprocmask(SIG_SETMASK, &sb->old_mask, NULL);
	return 0;
}

void sandbox_close(struct sandbox *sb)
{
	cleanup_closep(&sb->exe_fd);
	cleanup_closep(&sb->status_r);
	cleanup_closep(&sb->sync_w);
	cleanup_closep(&sb->control);
	sb->exe_fd = sb->status_r = sb->sync_w = sb->control = -1;
}

int sandbox_wait(struct sandbox *sb, const char *cmd, FILE *err)
{
	int result = 0, wstatus = 0, r;
	bool have_result = false;
	siginfo_t si;

	/* Wait without reaping first, so the pid the handler may kill cannot be reused. */
	while ((r = waitid(P_PID, (id_t)sb->sentry, &si, WEXITED | WNOWAIT)) < 0 && errno == EINTR)
		;
	g_sentry_pid = 0;
	while (waitpid(sb->sentry, &wstatus, 0) < 0 && errno == EINTR)
		;
	/* The whole pid namespace is gone, so nothing else holds the status pipe. */
	fcntl(sb->status_r, F_SETFL, O_NONBLOCK);
	if (read(sb->status_r, &result, sizeof(result)) == (ssize_t)sizeof(result))
		have_result = true;
	reap_gofer(sb->gofer);
	sandbox_close(sb);
	log_debug("sentry wait status %#x, %s %d", wstatus, have_result ? "result" : "no result",
		  result);
	return sandbox_exit_code(have_result, result, wstatus, g_forwarded, cmd, err);
}

int sandbox_run(const struct sandbox_spec *s)
{
	struct sandbox sb;
	int r;

	if ((r = sandbox_spawn(s, &sb)) != 0)
		return r;
	return sandbox_wait(&sb, s->boot->argv[0], stderr);
}
