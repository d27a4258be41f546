/* runsc-c's entry point: global flags, then one command from a {name, fn} table (crun style). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "runsc-c/cli.h"
#include "runsc-c/oci.h"

struct command {
	const char *name;
	cmd_fn fn;
	const char *help; /* NULL: a hidden role, not listed */
};

static const struct command commands[] = {
    {"do", cmd_do, "run a command in a new sandbox (see `runsc-c do --help`)"},
    {"create", cmd_create, "OCI: create a container from a bundle (init waits for start)"},
    {"start", cmd_start, "OCI: run a created container's init"},
    {"state", cmd_state, "OCI: the state of a container as JSON"},
    {"kill", cmd_kill, "OCI: signal a container's init (--all: every process)"},
    {"delete", cmd_delete, "OCI: delete a stopped container (--force: any)"},
    {"run", cmd_run, "OCI: create and start a container, wait for it (--detach: don't)"},
    {"exec", cmd_exec, "OCI: run another process in a running container"},
    {"ps", cmd_ps, "OCI: a container's processes (sandbox pids; --format json)"},
    {"pause", cmd_pause, "OCI: stop every process of a container"},
    {"resume", cmd_resume, "OCI: let a paused container go on"},
    {"events", cmd_events, "OCI: a container's stats as JSON (--stats: once)"},
    {"list", cmd_list, "OCI: the containers under --root (-f json)"},
    {"spec", cmd_spec, "OCI: write a default config.json (--rootless)"},
    {"features", cmd_features, "OCI: the runtime's features JSON"},
    {"debug", cmd_debug, "diagnostics: `debug seccomp` prints the Sentry's syscall allowlist"},
    {"syscalls", cmd_syscalls, "every x86-64 syscall: supported, partial or unsupported"},
    {"boot", cmd_boot, NULL},	/* the Sentry, started by `do` */
    {"gofer", cmd_gofer, NULL}, /* the file server, started by `do` */
};

/* On a usage error: one line, and where the help is. */
static void short_usage(void)
{
	fputs("Usage: runsc-c [GLOBAL FLAGS] COMMAND [ARGS...]   (runsc-c --help for more)\n",
	      stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: runsc-c [GLOBAL FLAGS] COMMAND [ARGS...]\n"
		   "\n"
		   "A gVisor-style sandbox: COMMAND's programs run on the Sentry, a user-space\n"
		   "Linux kernel; host files reach them only through the gofer.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].help)
			fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
		"\n"
		"Global flags:\n"
		"  --root DIR         state directory of the OCI commands (default /run/runsc-c)\n"
		"  --debug            debug-level logging (CLI, gofer and Sentry)\n"
		"  --log FILE         write runsc-c's log to FILE instead of stderr\n"
		"  --log-format FMT   text (default) or json: runc's {\"level\",\"msg\",\"time\"}\n"
		"                     lines, which containerd's shim reads errors from\n"
		"  --platform NAME    how the OCI commands' sandboxes run code (default systrap)\n"
		"  --systemd-cgroup   cgroupsPath is systemd's slice:prefix:name (read as the\n"
		"                     cgroupfs path slice/prefix-name.scope)\n"
		"  -h, --help         this help\n"
		"  -v, --version      print the version\n"
		"\n"
		"Exit status of `do`: the program's own, 128+N if it was killed by signal N,\n"
		"126 not executable, 127 not found, 125 runsc-c failed, 2 usage error.\n");
}

/* The value of flag argv[*i] given as "--flag VALUE" or "--flag=VALUE"; NULL if not this flag.
 * Missing values are a usage error. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
	size_t n = strlen(flag);
	const char *a = argv[*i];

	if (strncmp(a, flag, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "runsc-c: flag %s needs a value\n", flag);
		short_usage();
		exit(EXIT_USAGE);
	}
	return argv[++*i];
}

/* fds 0, 1 and 2 must be open, or the first files we open would become someone's stdio.
 * Returns a bit per fd that was closed (and is now /dev/null). */
static unsigned ensure_stdio(void)
{
	unsigned closed = 0;

	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			exit(EXIT_RUNTIME);
		closed |= 1u << fd;
		if (n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	return closed;
}

int main(int argc, char **argv)
{
	struct global_opts g = {.root = "/run/runsc-c", .log_format = "text", .log_fd = 2};
	const char *v;
	int i;

	g.stdio_closed = ensure_stdio();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if ((v = flag_value(argc, argv, &i, "--root"))) {
			g.root = v;
		} else if ((v = flag_value(argc, argv, &i, "--log"))) {
			g.log_path = v;
		} else if ((v = flag_value(argc, argv, &i, "--log-format"))) {
			g.log_format = v;
		} else if ((v = flag_value(argc, argv, &i, "--platform"))) {
			g.platform = v;
		} else if (strcmp(a, "--systemd-cgroup") == 0) {
			g.systemd_cgroup = true;
		} else if (strcmp(a, "--debug") == 0) {
			g.debug = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
			printf("runsc-c version %s\nspec: %s\n", RUNSC_C_VERSION, RUNSC_C_OCI_SPEC);
			return 0;
		} else {
			fprintf(stderr, "runsc-c: unknown flag %s\n", a);
			short_usage();
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "runsc-c: no command given\n");
		short_usage();
		return EXIT_USAGE;
	}
	if (strcmp(g.log_format, "text") != 0 && strcmp(g.log_format, "json") != 0) {
		fprintf(stderr, "runsc-c: --log-format %s: text or json\n", g.log_format);
		return EXIT_USAGE;
	}
	if (g.log_path) {
		g.log_fd = open(g.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (g.log_fd < 0)
			die_status(EXIT_RUNTIME, "--log %s: %s", g.log_path, strerror(errno));
	}
	log_init(g.log_fd, g.debug ? LOG_DEBUG : LOG_WARN);
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(&g, argc - i, argv + i);
	fprintf(stderr, "runsc-c: unknown command \"%s\" (see runsc-c --help)\n", argv[i]);
	return EXIT_USAGE;
}
