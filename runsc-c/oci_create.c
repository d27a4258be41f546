/* `runsc-c create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID`: the sandbox up,
 * the container's init loaded and held until `start` (runc's create). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

/* RFC 3339 with nanoseconds, UTC, as runc's "created". */
static json_object *now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char day[32], buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%09ldZ", day, ts.tv_nsec);
	return json_object_new_string(buf);
}

int oci_write_pid_file(const char *path, pid_t pid)
{
	_cleanup_free_ char *tmp = NULL;
	char buf[16];
	int fd, n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (asprintf(&tmp, "%s.runsc-c-tmp", path) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
		oci_error("--pid-file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* prestart, then createRuntime: the sandbox is up and init held. 0 or -1 after oci_error. */
static int run_create_hooks(struct oci_container *c)
{
	json_object *hooks, *state;
	int r = 0;

	if (!json_object_object_get_ex(c->saved, "hooks", &hooks))
		return 0;
	state = oci_container_state_json(c);
	if (oci_hooks_run(hooks, "prestart", state, true) < 0 ||
	    oci_hooks_run(hooks, "createRuntime", state, true) < 0)
		r = -1;
	json_object_put(state);
	return r;
}

pid_t oci_create(const struct global_opts *g, const struct oci_create_opts *o,
		 struct oci_container *c)
{
	struct oci_spec s;
	pid_t pid = -1;

	oci_log_setup(g);
	if (oci_spec_load(o->bundle ? o->bundle : ".", &s) < 0)
		goto out_spec;
	if (s.terminal && !o->console_socket && !o->foreground) {
		oci_error("process.terminal is true: --console-socket is required");
		goto out_spec;
	}
	if (!s.terminal && o->console_socket) {
		oci_error("--console-socket given but process.terminal is false");
		goto out_spec;
	}
	if (oci_container_new(g, o->id, c) < 0) {
		/* not ours to remove when it already existed */
		free(c->id);
		free(c->dir);
		memset(c, 0, sizeof(*c));
		c->dirfd = -1;
		goto out_spec;
	}
	json_object_object_add(c->saved, "id", json_object_new_string(o->id));
	json_object_object_add(c->saved, "bundle", json_object_new_string(s.bundle));
	json_object_object_add(c->saved, "rootfs", json_object_new_string(s.root));
	json_object_object_add(c->saved, "created", now_rfc3339());
	json_object_object_add(c->saved, "owner", json_object_new_string(""));
	json_object_object_add(c->saved, "annotations", s.annotations ? json_object_get(s.annotations)
								      : json_object_new_object());
	if (oci_cgroups_setup(g, &s.resources, s.cgroups_path, o->id, c->saved) < 0)
		goto fail;
	struct oci_launch l = {.g = g,
			       .saved = c->saved,
			       .spec = &s,
			       .dir = c->dir,
			       .dirfd = c->dirfd,
			       .console_socket = o->console_socket,
			       .id = o->id};
	pid = oci_supervisor_start(&l);
	if (pid < 0)
		goto fail;
	json_object_object_add(c->saved, "pid", json_object_new_int(pid));
	json_object_object_add(c->saved, "starttime",
			       json_object_new_int64((int64_t)oci_proc_starttime(pid)));
	json_object_object_add(c->saved, "started", json_object_new_boolean(false));
	if (s.hooks)
		json_object_object_add(c->saved, "hooks", json_object_get(s.hooks));
	if (oci_container_save(c) < 0 || run_create_hooks(c) < 0 ||
	    (o->pid_file && oci_write_pid_file(o->pid_file, pid) < 0)) {
		kill(pid, SIGKILL);
		oci_container_wait_gone(c);
		pid = -1;
		goto fail;
	}
	oci_spec_free(&s);
	return pid;
fail:
	oci_cgroups_remove(c->saved);
	oci_container_remove(c);
	oci_container_close(c);
out_spec:
	oci_spec_free(&s);
	return -1;
}

enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE };

static const struct option create_options[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"detach", no_argument, NULL, 'd'}, /* run only */
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"help", no_argument, NULL, 'h'},
    {0},
};

int oci_create_parse(int argc, char **argv, const char *help, struct oci_create_opts *o)
{
	bool run = strcmp(argv[0], "run") == 0;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, run ? "+:b:dh" : "+:b:h", create_options, NULL)) !=
	       -1) {
		switch (ch) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'd':
			if (!run)
				return oci_usage(argv[0], "unknown flag %s", argv[optind - 1]);
			o->foreground = false;
			break;
		case OPT_PID_FILE:
			o->pid_file = optarg;
			break;
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_NO_PIVOT:
		case OPT_NO_KEYRING:
			break;
		case OPT_PRESERVE:
			if (strcmp(optarg, "0") != 0)
				return oci_usage(argv[0], "--preserve-fds: not supported yet");
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case ':':
			return oci_usage(argv[0], "%s needs a value", argv[optind - 1]);
		default:
			return oci_usage(argv[0], "unknown flag %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return oci_usage(argv[0], "expected one container id");
	o->id = argv[optind];
	return -1;
}

static const char create_help[] =
    "Usage: runsc-c create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID\n"
    "\n"
    "Create container ID from the bundle (default: the current directory): the sandbox starts\n"
    "and the container's init is loaded, but runs nothing until `runsc-c start ID`.\n"
    "--no-pivot and --no-new-keyring are accepted: the Sentry never pivots the host's root for\n"
    "the container and has no host keyring to share.\n";

int cmd_create(struct global_opts *g, int argc, char **argv)
{
	struct oci_create_opts o = {0};
	struct oci_container c;
	int r;

	oci_log_setup(g);
	if ((r = oci_create_parse(argc, argv, create_help, &o)) >= 0)
		return r;
	if (oci_create(g, &o, &c) < 0)
		return 1;
	oci_container_close(&c);
	return 0;
}
