/* `runsc-c exec [FLAGS] ID [CMD [ARG...]]`: start another process in a running container.
 *
 * The process (from --process, or the container's config.json process with CMD, --cwd, --env,
 * --user and -t applied) goes to the Sentry through the supervisor's control socket, with its
 * stdio and one end of a socketpair as fds; the Sentry writes its wait status there when it
 * exits. Without --detach this command waits and exits with the status; with it, a child that
 * waits takes its place (its pid is --pid-file's, so conmon or containerd's shim reaps the exit
 * status from it, as from runc's exec'd process).
 */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common/util.h"
#include "sentry/control.h"

struct exec_opts {
	const char *process; /* --process FILE */
	const char *pid_file;
	const char *console_socket;
	const char *cwd;
	const char *user; /* UID[:GID] */
	bool detach, tty;
	char **env; /* --env K=V, in order */
	size_t nenv;
};

enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_CWD };

static const struct option exec_options[] = {
    {"process", required_argument, NULL, 'p'},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"tty", no_argument, NULL, 't'},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, 'e'},
    {"user", required_argument, NULL, 'u'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static const char exec_help[] =
    "Usage: runsc-c exec [FLAGS] ID [CMD [ARG...]]\n"
    "\n"
    "Run CMD (or --process FILE's process) in running container ID, with the container's\n"
    "environment, working directory, user and capabilities unless changed:\n"
    "  -p, --process FILE     the process as JSON (config.json's process object)\n"
    "  -d, --detach           do not wait; --pid-file names a host process that exits with it\n"
    "  --pid-file FILE        write that pid\n"
    "  -t, --tty              a terminal (its master goes to --console-socket)\n"
    "  --console-socket SOCK  where the terminal's master is sent\n"
    "  --cwd DIR              working directory\n"
    "  -e, --env K=V          add or replace an environment entry (repeatable)\n"
    "  -u, --user UID[:GID]   run as this user\n";

static int add_env(struct exec_opts *o, char *kv)
{
	char **n = realloc(o->env, (o->nenv + 1) * sizeof(*n));

	if (!n)
		return -1;
	o->env = n;
	o->env[o->nenv++] = kv;
	return 0;
}

/* -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct exec_opts *o)
{
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:p:dte:u:h", exec_options, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o->process = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case OPT_PID_FILE:
			o->pid_file = optarg;
			break;
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case 't':
			o->tty = true;
			break;
		case OPT_CWD:
			if (optarg[0] != '/')
				return oci_usage("exec", "--cwd %s: must be absolute", optarg);
			o->cwd = optarg;
			break;
		case 'e':
			if (!env_entry_valid(optarg) || add_env(o, optarg) < 0)
				return oci_usage("exec", "--env %s: expected K=V", optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'h':
			fputs(exec_help, stdout);
			return 0;
		case ':':
			return oci_usage("exec", "%s needs a value", argv[optind - 1]);
		default:
			return oci_usage("exec", "unknown flag %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return oci_usage("exec", "expected a container id");
	if (!o->process && optind + 1 >= argc)
		return oci_usage("exec", "expected a command (or --process FILE)");
	if (o->process && optind + 1 < argc)
		return oci_usage("exec", "a command and --process FILE are exclusive");
	return -1;
}

/* Add each of extra[0..n) ("K=V") to the NULL-terminated *env, replacing an entry with the
 * same key in place. 0 or -1 (no memory). */
static int merge_env(char ***env, char *const *extra, size_t n)
{
	size_t m = 0;

	while ((*env)[m])
		m++;
	char **all = realloc(*env, (m + n + 1) * sizeof(char *));
	if (!all)
		return -1;
	*env = all;
	for (size_t i = 0; i < n; i++) {
		size_t kl = (size_t)(strchr(extra[i], '=') - extra[i]) + 1, j;
		char *copy = strdup(extra[i]);

		if (!copy)
			return -1;
		for (j = 0; j < m && strncmp(all[j], extra[i], kl) != 0; j++)
			;
		if (j < m)
			free(all[j]);
		else
			m++;
		all[j] = copy;
		all[m] = NULL;
	}
	return 0;
}

/* The process to run: --process FILE, or the bundle's with the flags applied. */
static int load_process(struct oci_container *c, const struct exec_opts *o, char **cmd,
			struct oci_spec *s)
{
	json_object *bundle;

	if (o->process) {
		memset(s, 0, sizeof(*s));
		if (!(s->doc = json_object_from_file(o->process)))
			return oci_error("--process %s: %s", o->process, json_util_get_last_err()), -1;
		if (!json_object_is_type(s->doc, json_type_object))
			return oci_error("--process %s: expected a JSON object", o->process), -1;
		return oci_process_load(s->doc, s);
	}
	if (!json_object_object_get_ex(c->saved, "bundle", &bundle))
		return oci_error("container %s: no bundle recorded", c->id), -1;
	if (oci_spec_load(json_object_get_string(bundle), s) < 0)
		return -1;
	env_free(s->args);
	size_t n = 0;
	while (cmd[n])
		n++;
	if (!(s->args = calloc(n + 1, sizeof(char *))))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(s->args[i] = strdup(cmd[i])))
			return -1;
	s->terminal = o->tty;
	if (o->cwd) {
		free(s->cwd);
		s->cwd = strdup(o->cwd);
	}
	if (o->user) {
		unsigned uid, gid = 0;
		char extra;
		int k = sscanf(o->user, "%u:%u%c", &uid, &gid, &extra);
		if (k < 1 || k > 2)
			return oci_error("--user %s: expected UID[:GID]", o->user), -1;
		s->process.uid = uid;
		s->process.gid = gid;
		s->process.ngroups = 0;
	}
	if (o->nenv && merge_env(&s->env, o->env, o->nenv) < 0)
		return oci_error("out of memory"), -1;
	return 0;
}

/* The exec'd process's exit status from the Sentry's message on fd: its code, 128+signal,
 * or 137 when the sandbox went away first. */
static int wait_exit(int fd)
{
	int32_t st;
	ssize_t n;

	while ((n = recv(fd, &st, sizeof(st), 0)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(st))
		return 128 + 9;
	if ((st & 0x7f) == 0)
		return (st >> 8) & 0xff;
	return 128 + (st & 0x7f);
}

int cmd_exec(struct global_opts *g, int argc, char **argv)
{
	struct exec_opts o = {0};
	struct oci_container c;
	struct oci_spec s = {0};
	_cleanup_close_ int cfg = -1, slave = -1;
	int ex[2] = {-1, -1}, r;
	pid_t pid;

	oci_log_setup(g);
	if ((r = parse(argc, argv, &o)) >= 0) {
		free(o.env);
		return r;
	}
	r = 1;
	if (oci_container_open(g, argv[optind], false, &c) < 0)
		goto out;
	enum oci_status st = oci_container_status(&c, &pid);
	if (st != OCI_RUNNING) {
		oci_error("cannot exec in container %s: it is %s", c.id, oci_status_name(st));
		goto out;
	}
	if (load_process(&c, &o, argv + optind + 1, &s) < 0)
		goto out;
	if (s.terminal && o.console_socket) {
		if ((slave = oci_console_setup(o.console_socket, s.console_rows, s.console_cols,
					       stderr)) < 0)
			goto out;
	} else if (s.terminal && o.detach) {
		oci_error("exec: a terminal with --detach needs --console-socket");
		goto out;
	}
	struct boot_config boot = {.argv = s.args,
				   .envp = s.env,
				   .platform = "exec",
				   .cwd = s.cwd,
				   .hostname = "exec",
				   .has_process = true,
				   .process = s.process};
	if ((cfg = sandbox_config_memfd(&boot)) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ex) < 0) {
		oci_error("exec: %s", strerror(cfg < 0 ? -cfg : errno));
		goto out;
	}
	int io = slave >= 0 ? slave : -1;
	const int fds[SENTRY_CTL_EXEC_FDS] = {cfg, io >= 0 ? io : 0, io >= 0 ? io : 1,
					      io >= 0 ? io : 2, ex[1]};
	struct sentry_ctl_msg m = {.op = SENTRY_CTL_EXEC};
	int spid = oci_control_msg(&c, &m, fds, SENTRY_CTL_EXEC_FDS, NULL, 0);
	close(ex[1]);
	if (spid < 0) {
		oci_error("exec in %s: %s: %s", c.id, s.args[0],
			  spid == -ENOTCONN ? "container is not running" : strerror(-spid));
		r = spid == -ENOENT ? EXIT_NOTFOUND
		    : spid == -EACCES || spid == -ENOEXEC ? EXIT_NOEXEC
							   : 1;
		goto out;
	}
	if (!o.detach) {
		oci_container_close(&c); /* no lock held while it runs */
		r = wait_exit(ex[0]);
		goto out;
	}
	/* The waiter exits only after this command has: the caller reads --pid-file when we
	 * return, and must find the waiter there, as it finds runc's exec'd process. */
	int gate[2] = {-1, -1};
	if (pipe2(gate, O_CLOEXEC) < 0) {
		oci_error("exec: pipe: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		char byte;
		close(gate[1]);
		setsid();
		for (int fd = 0; fd < 3 && devnull >= 0; fd++)
			dup2(devnull, fd);
		int code = wait_exit(ex[0]);
		while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(code);
	}
	close(gate[0]);
	r = pid < 0 || (o.pid_file && oci_write_pid_file(o.pid_file, pid) < 0) ? 1 : 0;
	/* gate[1] closes when this process exits */
out:
	if (ex[0] >= 0)
		close(ex[0]);
	oci_container_close(&c);
	oci_spec_free(&s);
	free(o.env);
	return r;
}
