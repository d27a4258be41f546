/* `runsc-c do`: run one command in a new sandbox, without an OCI bundle. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/platform.h"
#include "runsc-c/cli.h"

#define DO_DEFAULT_PLATFORM "systrap"
#define DO_DEFAULT_HOSTNAME "runsc-c"

static void do_usage(FILE *f)
{
	fprintf(
	    f, "Usage: runsc-c do [FLAGS] [--] CMD [ARG...]\n"
	       "\n"
	       "Run CMD in a new sandbox and exit with its status. CMD without a '/' is looked up\n"
	       "along the sandbox's PATH inside the sandbox. Files come from the root file system\n"
	       "read-only; writes go to an in-sandbox tmpfs and never reach the host.\n"
	       "\n"
	       "Flags:\n"
	       "  --rootfs DIR       the sandbox's root file system (default: the host's /)\n"
	       "  --platform NAME    how application code is run: ");
	for (const char *const *p = platform_names; *p; p++)
		fprintf(f, "%s%s", *p, p[1] ? ", " : "");
	fprintf(
	    f, " (default " DO_DEFAULT_PLATFORM ")\n"
	       "  --strace           print every system call of the program, strace style,\n"
	       "                     to the debug log (stderr unless --debug-log)\n"
	       "  --strace=time      the same with the time each call took in the Sentry\n"
	       "                     at the end of its line, as strace -T: <seconds>\n"
	       "  --syscall-patching=on|off\n"
	       "                     rewrite the program's `mov $nr,%%eax; syscall` sites into\n"
	       "                     jumps that reach the Sentry without a signal (systrap only;\n"
	       "                     other platforms ignore it). Default on\n"
	       "  --debug-log FILE   write the gofer's and the Sentry's debug log to FILE\n"
	       "  --env K=V          add K=V to the environment (repeatable; overrides the\n"
	       "                     defaults). --env K copies K from the caller if it is set\n"
	       "  --cwd DIR          working directory inside the sandbox (default: the caller's\n"
	       "                     without --rootfs, as runsc do; / with --rootfs)\n"
	       "  --hostname NAME    the sandbox's hostname (default " DO_DEFAULT_HOSTNAME ")\n"
	       "  -v, --volume HOST:GUEST[:ro|:rw]\n"
	       "                     bind mount the host directory or file HOST at GUEST\n"
	       "                     (repeatable, like docker -v): read-write unless :ro, so\n"
	       "                     the program's writes there reach the host. Served by the\n"
	       "                     gofer; nothing leaves HOST (.., symlinks stay inside)\n"
	       "  --tmpfs GUEST[:OPTS]\n"
	       "                     a fresh tmpfs at GUEST (repeatable); OPTS: size=N[k|m|g],\n"
	       "                     mode=OCTAL, ro (default: no own size limit, mode 1777)\n"
	       "  --read-only        the root file system refuses writes (EROFS), /tmp included,\n"
	       "                     as docker --read-only; add --tmpfs /tmp for a writable /tmp.\n"
	       "                     /dev/shm, --volume and --tmpfs mounts stay writable\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "The environment is only: PATH=" SANDBOX_PATH ",\n"
	       "HOME=/root, TERM (the caller's, or xterm), LANG (the caller's, or C.UTF-8), and "
	       "--env.\n"
	       "Exit status: CMD's own, 128+N if it was killed by signal N, 127 when CMD is not\n"
	       "found, 126 when it is not executable (ENOEXEC, EACCES), 125 when runsc-c failed,\n"
	       "2 on a usage error.\n");
}

struct do_opts {
	const char *rootfs;
	const char *platform;
	const char *debug_log;
	const char *cwd;
	const char *hostname;
	uint8_t strace; /* 0 off, 1 --strace, 2 --strace=time */
	bool no_patching;
	const char *patching; /* as given, for the note on other platforms */
	char **env;	      /* --env entries as K=V */
	size_t nenv;
	struct boot_mount *mounts; /* --volume and --tmpfs, in order */
	size_t nmounts;
	bool read_only;
};

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("runsc-c do: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(
	    "\nUsage: runsc-c do [FLAGS] [--] CMD [ARG...]   (runsc-c do --help lists the flags)\n",
	    stderr);
	return EXIT_USAGE;
}

/* Record --env arg: "K=V" as is, "K" as the caller's K=value when set (dropped otherwise). */
static int add_env(struct do_opts *o, const char *arg)
{
	char *entry;

	if (strchr(arg, '=')) {
		if (!env_entry_valid(arg))
			return usage_error("--env %s: expected K=V", arg);
		entry = strdup(arg);
	} else {
		const char *v = getenv(arg);
		if (!*arg)
			return usage_error("--env %s: expected K=V", arg);
		if (!v)
			return 0;
		if (asprintf(&entry, "%s=%s", arg, v) < 0)
			entry = NULL;
	}
	if (!entry)
		die_status(EXIT_RUNTIME, "out of memory");
	char **n = realloc(o->env, (o->nenv + 1) * sizeof(*n));
	if (!n)
		die_status(EXIT_RUNTIME, "out of memory");
	o->env = n;
	o->env[o->nenv++] = entry;
	return 0;
}

/* Append m to o's mounts (taking its strings). */
static void add_mount(struct do_opts *o, struct boot_mount m)
{
	struct boot_mount *n = realloc(o->mounts, (o->nmounts + 1) * sizeof(*n));
	if (!n)
		die_status(EXIT_RUNTIME, "out of memory");
	o->mounts = n;
	o->mounts[o->nmounts++] = m;
}

/* --volume HOST:GUEST[:ro|:rw]. HOST must exist (a directory or a regular file); it is only
 * named here: the gofer opens it. */
static int add_volume(struct do_opts *o, const char *arg)
{
	char host[PATH_MAX], *spec = strdup(arg), *guest, *mode;
	struct boot_mount m = {.type = "bind"};
	struct stat st;

	if (!spec)
		die_status(EXIT_RUNTIME, "out of memory");
	guest = strchr(spec, ':');
	mode = guest ? strchr(guest + 1, ':') : NULL;
	if (guest)
		*guest++ = '\0';
	if (mode)
		*mode++ = '\0';
	if (!guest || !*spec || (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)) {
		free(spec);
		return usage_error("--volume %s: expected HOST:GUEST[:ro|:rw]", arg);
	}
	m.readonly = mode && strcmp(mode, "ro") == 0;
	if (!realpath(spec, host) || stat(host, &st) < 0) {
		int e = errno;
		free(spec);
		die_status(EXIT_RUNTIME, "--volume %s: %s", arg, strerror(e));
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		free(spec);
		die_status(EXIT_RUNTIME, "--volume %s: not a directory or a regular file", arg);
	}
	m.source = strdup(host);
	m.dest = strdup(guest);
	free(spec);
	if (!m.source || !m.dest)
		die_status(EXIT_RUNTIME, "out of memory");
	if (!boot_mount_valid(&m))
		return usage_error("--volume %s: GUEST must be an absolute path without . or ..",
				   arg);
	add_mount(o, m);
	return 0;
}

/* --tmpfs GUEST[:OPTS]: OPTS as docker's. "ro" makes the mount read-only; the rest goes to
 * the Sentry as the tmpfs's options (size=, mode=, and mount flags it ignores). */
static int add_tmpfs(struct do_opts *o, const char *arg)
{
	char *spec = strdup(arg), *opts, *save = NULL, data[BOOT_MOUNT_DATA_MAX + 1] = "";
	struct boot_mount m = {.type = "tmpfs"};

	if (!spec)
		die_status(EXIT_RUNTIME, "out of memory");
	if ((opts = strchr(spec, ':')))
		*opts++ = '\0';
	for (char *t = opts ? strtok_r(opts, ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "ro") == 0)
			m.readonly = true;
		else if (strlen(data) + strlen(t) + 2 < sizeof(data))
			snprintf(data + strlen(data), sizeof(data) - strlen(data), "%s%s",
				 data[0] ? "," : "", t);
	}
	m.dest = strdup(spec);
	m.data = data[0] ? strdup(data) : NULL;
	free(spec);
	if (!m.dest || (data[0] && !m.data))
		die_status(EXIT_RUNTIME, "out of memory");
	if (!boot_mount_valid(&m)) {
		free(m.dest);
		free(m.data);
		return usage_error("--tmpfs %s: expected an absolute GUEST path and options "
				   "size=N[k|m|g], mode=OCTAL, ro",
				   arg);
	}
	add_mount(o, m);
	return 0;
}

enum {
	OPT_ROOTFS = 256,
	OPT_PLATFORM,
	OPT_STRACE,
	OPT_DEBUG_LOG,
	OPT_ENV,
	OPT_CWD,
	OPT_HOSTNAME,
	OPT_VOLUME,
	OPT_TMPFS,
	OPT_READ_ONLY,
	OPT_PATCHING,
};

static const struct option do_options[] = {
    {"rootfs", required_argument, NULL, OPT_ROOTFS},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"strace", optional_argument, NULL, OPT_STRACE},
    {"debug-log", required_argument, NULL, OPT_DEBUG_LOG},
    {"env", required_argument, NULL, OPT_ENV},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"volume", required_argument, NULL, OPT_VOLUME},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"syscall-patching", required_argument, NULL, OPT_PATCHING},
    {"help", no_argument, NULL, 'h'},
    {0},
};

/* Parse argv into o. Returns -1 to go on, or the exit status (help, usage errors). */
static int parse(int argc, char **argv, struct do_opts *o)
{
	int c, r;

	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-flag, which is CMD. */
	while ((c = getopt_long(argc, argv, "+:hv:", do_options, NULL)) != -1) {
		switch (c) {
		case OPT_ROOTFS:
			o->rootfs = optarg;
			break;
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_STRACE:
			if (optarg && strcmp(optarg, "time") != 0)
				return usage_error("--strace takes no value but time");
			o->strace = optarg ? 2 : 1;
			break;
		case OPT_DEBUG_LOG:
			o->debug_log = optarg;
			break;
		case OPT_ENV:
			if ((r = add_env(o, optarg)) != 0)
				return r;
			break;
		case OPT_CWD:
			o->cwd = optarg;
			break;
		case OPT_HOSTNAME:
			o->hostname = optarg;
			break;
		case 'v':
		case OPT_VOLUME:
			if ((r = add_volume(o, optarg)) != 0)
				return r;
			break;
		case OPT_TMPFS:
			if ((r = add_tmpfs(o, optarg)) != 0)
				return r;
			break;
		case OPT_READ_ONLY:
			o->read_only = true;
			break;
		case OPT_PATCHING:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("--syscall-patching %s: on or off", optarg);
			o->no_patching = !strcmp(optarg, "off");
			o->patching = optarg;
			break;
		case 'h':
			do_usage(stdout);
			return 0;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown flag %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	if (!platform_lookup(o->platform))
		return usage_error("unknown platform \"%s\"", o->platform);
	if (o->patching && !o->no_patching && !platform_lookup(o->platform)->patch_enable)
		fprintf(stderr,
			"runsc-c do: note: the %s platform does not patch syscalls; "
			"--syscall-patching=on is ignored\n",
			o->platform);
	if (o->cwd && o->cwd[0] != '/')
		return usage_error("--cwd %s: must be an absolute path", o->cwd);
	if (!o->hostname[0] || strlen(o->hostname) > BOOT_HOSTNAME_MAX)
		return usage_error("--hostname %s: must be 1 to 64 bytes", o->hostname);
	return -1;
}

int cmd_do(struct global_opts *g, int argc, char **argv)
{
	struct do_opts o = {.platform = DO_DEFAULT_PLATFORM, .hostname = DO_DEFAULT_HOSTNAME};
	char rootfs[PATH_MAX], cwd[PATH_MAX];
	struct stat st;
	int r, log_fd = g->log_fd;

	if ((r = parse(argc, argv, &o)) >= 0)
		return r;
	/* The host's / is the sandbox's /, so the caller's directory names the same place. */
	if (!o.cwd)
		o.cwd = !o.rootfs && getcwd(cwd, sizeof(cwd)) && cwd[0] == '/' ? cwd : "/";
	if (!o.rootfs)
		o.rootfs = "/";
	if (!realpath(o.rootfs, rootfs) || stat(rootfs, &st) < 0)
		die_status(EXIT_RUNTIME, "--rootfs %s: %s", o.rootfs, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die_status(EXIT_RUNTIME, "--rootfs %s: not a directory", o.rootfs);
	if (o.debug_log) {
		log_fd = open(o.debug_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0)
			die_status(EXIT_RUNTIME, "--debug-log %s: %s", o.debug_log,
				   strerror(errno));
	}

	char **env = sandbox_env_build(getenv("TERM"), getenv("LANG"), o.env, o.nenv);
	if (!env)
		die_status(EXIT_RUNTIME, "building the environment: %s", strerror(errno));
	int level = g->debug || o.debug_log ? LOG_DEBUG : LOG_WARN;
	struct boot_config boot = {
	    .argv = argv + optind,
	    .envp = env,
	    .platform = (char *)o.platform,
	    .cwd = (char *)o.cwd,
	    .hostname = (char *)o.hostname,
	    .strace = o.strace,
	    .no_syscall_patching = o.no_patching,
	    .log_level = level,
	    .stdio_closed = g->stdio_closed,
	    .mounts = o.mounts,
	    .nmounts = o.nmounts,
	    .root_readonly = o.read_only,
	};
	struct sandbox_spec spec = {
	    .rootfs = rootfs, .boot = &boot, .log_fd = log_fd, .log_level = level};
	log_debug("do: rootfs %s platform %s cmd %s", rootfs, o.platform, argv[optind]);
	r = sandbox_run(&spec);
	env_free(env);
	for (size_t i = 0; i < o.nenv; i++)
		free(o.env[i]);
	free(o.env);
	for (size_t i = 0; i < o.nmounts; i++) {
		free(o.mounts[i].source);
		free(o.mounts[i].dest);
		free(o.mounts[i].data);
	}
	free(o.mounts);
	if (log_fd != g->log_fd)
		close(log_fd);
	return r;
}
