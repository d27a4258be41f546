/* A container's supervisor: the host process that owns its sandbox.
 *
 * `create` forks it; it calls setsid and outlives the command (its parent exits, so it is
 * reparented to the caller's subreaper: containerd's shim or conmon, which reap it and read the
 * container's exit status from it, as they reap runc's init). It is the parent of the gofer and
 * the Sentry (both die with it: PR_SET_PDEATHSIG), holds the Sentry's end of the control channel
 * (sentry/control.h) and serves --root/ID/ctl.sock, passing each request on to the Sentry. Its
 * pid is the container's pid in `state`. When the Sentry exits it writes the status to
 * --root/ID/exit and exits with it (the program's code, or 128+signal).
 */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/control.h"

#define OCI_DEFAULT_HOSTNAME "runsc-c"
#define OCI_DEFAULT_PLATFORM "systrap"

/* Write all of s to fd. */
static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Record the Sentry's and the gofer's pids, so delete can wait until they are gone. */
static void write_pids(int dirfd, const struct sandbox *sb)
{
	json_object *o = json_object_new_object();
	int fd;

	json_object_object_add(o, "sentry", json_object_new_int(sb->sentry));
	json_object_object_add(o, "sentry_start",
			       json_object_new_int64((int64_t)oci_proc_starttime(sb->sentry)));
	json_object_object_add(o, "gofer", json_object_new_int(sb->gofer));
	json_object_object_add(o, "gofer_start",
			       json_object_new_int64((int64_t)oci_proc_starttime(sb->gofer)));
	fd = openat(dirfd, "pids", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		json_object_to_fd(fd, o, OCI_JSON_PLAIN);
		close(fd);
	}
	json_object_put(o);
}

/* Wait at most timeout_ms (-1: forever) for fd to be readable. 0 or -ETIMEDOUT. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* One client of ctl.sock: its request (and fds) to the Sentry, the Sentry's reply back. */
static void serve_client(int listen_fd, int control)
{
	static char payload[SENTRY_CTL_MAX_PAYLOAD];
	struct sentry_ctl_msg m, reply = {.op = SENTRY_CTL_REPLY};
	_cleanup_close_ int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int fds[SENTRY_CTL_MAX_FDS], nfds = 0, rfds[SENTRY_CTL_MAX_FDS], nrfds = 0, r;
	uint32_t len = 0;

	if (c < 0 || wait_readable(c, 5000) < 0 || ctl_recv(c, &m, NULL, 0, fds, &nfds) < 0)
		return;
	if (m.op < SENTRY_CTL_START || m.op > SENTRY_CTL_EXEC || m.op == SENTRY_CTL_REPLY) {
		reply.result = -EINVAL;
	} else if ((r = ctl_send(control, &m, NULL, 0, fds, nfds)) < 0) {
		reply.result = -ESRCH; /* the Sentry is gone */
	} else {
		/* exec: the Sentry loads the program before it answers */
		r = wait_readable(control, 60000);
		if (r == 0)
			r = ctl_recv(control, &reply, payload, sizeof(payload), rfds, &nrfds);
		ctl_close_fds(rfds, nrfds);
		if (r < 0 || reply.op != SENTRY_CTL_REPLY) {
			reply = (struct sentry_ctl_msg){.op = SENTRY_CTL_REPLY,
							.result = r == -EPIPE ? -ESRCH : -EPROTO};
		}
		len = reply.len;
	}
	ctl_close_fds(fds, nfds);
	ctl_send(c, &reply, payload, len, NULL, 0);
}

/* Record the exit status where `state` and `delete` look. */
static void write_exit(int dirfd, int code)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", code);
	int fd = openat(dirfd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	write_all(fd, buf, (size_t)n);
	close(fd);
	renameat(dirfd, "exit.tmp", dirfd, "exit");
}

/* The supervisor's body; returns its exit status. ready: the pipe to the creating command,
 * which gets "ok" or the reason create failed. */
static int supervise(const struct oci_launch *l, int ready)
{
	const struct oci_spec *s = l->spec;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *errtext = NULL;
	size_t errlen = 0;
	FILE *err = open_memstream(&errtext, &errlen);
	struct sentry_ctl_msg m;
	struct sandbox sb;
	int dirfd, listen_fd, sandbox_log, pidfd, code, r;

	if (!err)
		return EXIT_RUNTIME;
	setsid();
	close(l->dirfd); /* the creating command's lock stays with it */
	dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(err, "%s: %s", l->dir, strerror(errno));
		goto fail;
	}
	/* Before the sandbox starts, so every process of it is born in the container's cgroups. */
	if (oci_cgroups_join(l->saved, getpid(), err) < 0)
		goto fail;
	if (s->terminal && l->console_socket) {
		int slave =
		    oci_console_setup(l->console_socket, s->console_rows, s->console_cols, err);
		if (slave < 0)
			goto fail;
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		close(slave);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/ctl.sock", dirfd);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 16) < 0) {
		fprintf(err, "%s/ctl.sock: %s", l->dir, strerror(errno));
		goto fail;
	}
	/* The Sentry's and the gofer's log: --log when it is text. Otherwise a file of the state
	 * directory: runc's JSON log is read by containerd's shim line by line, and our stderr
	 * becomes the container's (conmon keeps it as the container's log) once it runs. */
	sandbox_log = l->g->log_fd;
	if (!l->g->log_path || (l->g->log_format && strcmp(l->g->log_format, "json") == 0))
		sandbox_log =
		    openat(dirfd, "sandbox.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int level = l->g->debug ? LOG_DEBUG : LOG_WARN;
	struct boot_config boot = {
	    .argv = s->args,
	    .envp = s->env,
	    .platform = (char *)(l->g->platform ? l->g->platform : OCI_DEFAULT_PLATFORM),
	    .cwd = s->cwd,
	    .hostname = (char *)(s->hostname ? s->hostname : OCI_DEFAULT_HOSTNAME),
	    .log_level = level,
	    .stdio_closed = l->g->stdio_closed,
	    .has_process = true,
	    .process = s->process,
	    .root_readonly = s->root_readonly,
	    .has_seccomp = s->has_seccomp,
	    .seccomp = s->seccomp,
	};
	/* Checked when the spec was loaded: a failure here is memory, or the bundle changing. */
	if (oci_mounts_boot(s, &boot.mounts, &boot.nmounts) < 0) {
		fprintf(err, "config.json: mounts: the bundle's mounts could not be prepared");
		goto fail;
	}
	struct sandbox_spec spec = {.rootfs = s->root,
				    .boot = &boot,
				    .log_fd = sandbox_log,
				    .log_level = level,
				    .control = true};
	r = sandbox_spawn(&spec, &sb);
	oci_boot_mounts_free(boot.mounts, boot.nmounts); /* encoded into the boot config */
	if (r != 0) {
		fprintf(err, "starting the sandbox failed");
		goto fail;
	}
	write_pids(dirfd, &sb);
	/* The Sentry has the container's stdio now; ours must not keep a pipe or pty open. */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && devnull >= 0; fd++)
		dup2(devnull, fd);
	if (devnull > 2)
		close(devnull);

	/* Init loaded, or why not. */
	int fds[SENTRY_CTL_MAX_FDS], nfds;
	r = ctl_recv(sb.control, &m, NULL, 0, fds, &nfds);
	ctl_close_fds(fds, nfds);
	if (r < 0 || m.op != SENTRY_CTL_READY || m.result < 0) {
		code = sandbox_wait(&sb, s->args[0], err);
		fflush(err);
		if (errlen == 0)
			fprintf(err, "the sandbox ended before the container was created");
		goto fail_code;
	}
	write_all(ready, "ok", 2);
	close(ready);
	ready = -1;
	fclose(err);
	free(errtext);

	/* Until the Sentry exits: a pidfd says when, without reaping it (sandbox_wait does). */
	pidfd = (int)syscall(SYS_pidfd_open, sb.sentry, 0);
	for (;;) {
		struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		siginfo_t si = {0};

		if (poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			serve_client(listen_fd, sb.control);
		if (pidfd >= 0 && (p[1].revents & POLLIN))
			break;
		if (pidfd < 0 &&
		    waitid(P_PID, (id_t)sb.sentry, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == sb.sentry)
			break;
	}
	unlinkat(dirfd, "ctl.sock", 0);
	FILE *log = fdopen(dup(sandbox_log), "w");
	code = sandbox_wait(&sb, s->args[0], log);
	if (log)
		fclose(log);
	write_exit(dirfd, code);
	return code;

fail:
	code = EXIT_RUNTIME;
fail_code:
	fflush(err);
	if (ready >= 0)
		write_all(ready, errtext, errlen);
	fclose(err);
	free(errtext);
	return code;
}

pid_t oci_supervisor_start(const struct oci_launch *l)
{
	int ready[2];
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return oci_error("pipe: %s", strerror(errno)), -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return oci_error("fork: %s", strerror(errno)), -1;
	if (pid == 0) {
		close(ready[0]);
		_exit(supervise(l, ready[1]));
	}
	close(ready[1]);
	while (len < sizeof(buf) - 1 &&
	       ((n = read(ready[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(ready[0]);
	buf[len] = '\0';
	if (strcmp(buf, "ok") == 0)
		return pid;
	/* sandbox_wait's messages are lines of their own: one message here */
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	const char *why = strncmp(buf, "runsc-c: ", 9) == 0 ? buf + 9 : buf;
	oci_error("creating container %s: %s", l->id,
		  len ? why : "the sandbox did not start (see the log)");
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}
