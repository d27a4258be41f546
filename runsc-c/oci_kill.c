/* `runsc-c kill [--all] ID [SIGNAL]`: signal the container's init (or every process), created
 * or running; the Sentry delivers it. Default SIGTERM, as runc. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sentry/control.h"

int oci_signal_parse(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s && !*end)
		return n >= 0 && n <= 64 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < 32; sig++) {
		const char *name = sigabbrev_np(sig);
		if (name && strcasecmp(name, s) == 0)
			return sig;
	}
	return -1;
}

int cmd_kill(struct global_opts *g, int argc, char **argv)
{
	struct oci_container c;
	bool all = false;
	int i = 1, sig = SIGTERM, r;
	pid_t pid;

	oci_log_setup(g);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0) {
			all = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			puts("Usage: runsc-c kill [--all] ID [SIGNAL]\n\nSend SIGNAL (a name or a "
			     "number, default TERM) to the init of container ID, or with --all to "
			     "every process in it. A created container may be signalled.");
			return 0;
		} else {
			return oci_usage("kill", "unknown flag %s", argv[i]);
		}
	}
	if (i >= argc || argc - i > 2)
		return oci_usage("kill", "expected ID [SIGNAL]");
	if (argc - i == 2 && (sig = oci_signal_parse(argv[i + 1])) < 0)
		return oci_usage("kill", "unknown signal \"%s\"", argv[i + 1]);
	if (oci_container_open(g, argv[i], false, &c) < 0) {
		oci_container_close(&c);
		return 1;
	}
	/* --all on a container that has stopped, or stops while we ask, signals nobody and
	 * succeeds, as runc's (it signals whatever is left in the cgroup); containerd's shim
	 * sends `kill --all ID 9` after init has exited. Without --all it is an error. */
	if (oci_container_status(&c, &pid) == OCI_STOPPED) {
		if (!all)
			oci_error("container %s is not running", c.id);
		oci_container_close(&c);
		return all ? 0 : 1;
	}
	r = oci_control(&c, SENTRY_CTL_SIGNAL, sig, all ? SENTRY_CTL_ALL : 0);
	if ((r == -ESRCH || r == -ENOTCONN) && all)
		r = 0;
	else if (r == -ESRCH || r == -ENOTCONN)
		oci_error("container %s is not running", c.id);
	else if (r < 0)
		oci_error("kill %s: %s", c.id, strerror(-r));
	oci_container_close(&c);
	return r < 0 ? 1 : 0;
}
