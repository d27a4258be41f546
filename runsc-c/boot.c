/* The boot role: the Sentry's process. Reads its config, confines itself, then runs sentry_main.
 *
 * Started only by sandbox.c, as pid 1 of fresh user/mount/pid/net/ipc/uts/cgroup namespaces,
 * with fds: 0-2 the application's stdio, and the gofer socket, config, status pipe and log
 * named by flags. Order matters: everything that needs a path or privilege (reading the config
 * is fd-based, but mount, pivot_root and sethostname need CAP_SYS_ADMIN in the namespace) comes
 * before the capabilities are dropped, and the seccomp allowlist comes last, just before
 * sentry_main, which must not open paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/log.h"
#include "platform/platform.h"
#include "runsc-c/cli.h"
#include "runsc-c/confine.h"
#include "runsc-c/sentry_seccomp.h"
#include "sentry/mm/mm.h"

#include <malloc.h>
#include "sentry/sentry.h"

struct boot_fds {
	int gofer, config, status, log;
};

/* A flag value naming an fd: a decimal integer from 3 to INT_MAX. -1 if invalid. */
static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > INT_MAX)
		return -1;
	return (int)v;
}

static int parse_boot_args(int argc, char **argv, struct boot_fds *f)
{
	*f = (struct boot_fds){-1, -1, -1, -1};
	for (int i = 1; i + 1 < argc; i += 2) {
		int fd = parse_fd(argv[i + 1]);
		if (strcmp(argv[i], "--gofer-fd") == 0)
			f->gofer = fd;
		else if (strcmp(argv[i], "--config-fd") == 0)
			f->config = fd;
		else if (strcmp(argv[i], "--status-fd") == 0)
			f->status = fd;
		else if (strcmp(argv[i], "--log-fd") == 0)
			f->log = fd;
		else
			return -EINVAL;
	}
	if (argc % 2 == 0 || f->gofer < 0 || f->config < 0 || f->status < 0 || f->log < 0)
		return -EINVAL;
	return 0;
}

/* Read and decode the whole config from fd (a memfd, read from offset 0). */
static int read_config(int fd, struct boot_config *c)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || (uint64_t)st.st_size > BOOT_CONFIG_MAX)
		return -EINVAL;
	if (!(buf = malloc((size_t)st.st_size)))
		return -ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EINVAL;
		}
		off += (size_t)n;
	}
	r = boot_config_decode(buf, off, c);
	free(buf);
	return r;
}

int cmd_boot(struct global_opts *g, int argc, char **argv)
{
	struct boot_config c;
	struct boot_fds f;
	int r;

	log_set_role("sentry");
	if (parse_boot_args(argc, argv, &f) < 0 || getpid() != 1) {
		fprintf(stderr, "runsc-c: boot is the Sentry's role, started by `runsc-c do`\n");
		return EXIT_USAGE;
	}
	log_init(f.log, LOG_WARN);
	r = read_config(f.config, &c);
	close(f.config);
	if (r < 0) {
		log_error("boot: bad config: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	log_init(f.log, (enum log_level)c.log_level);
	if (confine_fs() < 0 || confine_hostname(c.hostname) < 0 || confine_caps() < 0)
		return EXIT_RUNTIME;
	/* glibc's malloc sizes its arena limit from get_nprocs(), which reads
	 * /sys/devices/system/cpu/online the first time a second thread allocates: a path-based open
	 * the Sentry's filter kills. A fixed limit means it never asks. */
	mallopt(M_ARENA_MAX, 8);
	/* and shrinking a thread arena's heap reads /proc/sys/vm/overcommit_memory once: never
	 * trim (the Sentry's own heap is small) */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	/* The memory file is made before seccomp so memfd_create stays off the allowlist. */
	if ((r = memfile_init()) < 0) {
		log_error("boot: memory file: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	/* What the platform must do unconfined (unotify: fork the stub master, whose stubs must
	 * not inherit the Sentry's filter). */
	const struct platform *plat = platform_lookup(c.platform ? c.platform : "systrap");
	if (plat && plat->preinit && (r = plat->preinit(memfile_fd())) < 0) {
		log_error("boot: platform %s: %s", plat->name, strerror(-r));
		return EXIT_RUNTIME;
	}
	if ((r = sentry_seccomp_install(c.log_level >= LOG_DEBUG)) < 0) {
		log_error("boot: seccomp: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	log_debug("boot: confined; running %s", c.argv[0]);

	struct sentry_config sc = {
	    .platform = c.platform,
	    .strace = c.strace,
	    .syscall_patching = !c.no_syscall_patching,
	    .strace_fd = f.log,
	    .gofer_sock = f.gofer,
	    .stdio = {c.stdio_closed & 1 ? -1 : 0, c.stdio_closed & 2 ? -1 : 1,
		      c.stdio_closed & 4 ? -1 : 2},
	    .argv = c.argv,
	    .envp = c.envp,
	    .cwd = c.cwd,
	    .hostname = c.hostname,
	};
	int result = sentry_main(&sc);
	if (write(f.status, &result, sizeof(result)) != (ssize_t)sizeof(result))
		log_error("boot: writing the result: %s", strerror(errno));
	/* No exit handlers, no stdio flushing of the application's fds: just go. */
	_exit(0);
}
