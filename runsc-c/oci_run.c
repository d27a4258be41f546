/* `runsc-c run [--detach] [--bundle DIR] [--pid-file F] [--console-socket S] ID`: create and
 * start; without --detach wait for the container, exit with its status and delete it (runc's
 * run). SIGINT, SIGTERM and SIGHUP to this command go to the container's init. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "sentry/control.h"

static volatile sig_atomic_t g_run_signal;

static void on_run_signal(int sig) { g_run_signal = sig; }

static const char run_help[] =
    "Usage: runsc-c run [--detach] [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID\n"
    "\n"
    "Create and start container ID; without --detach wait for it, delete it and exit with its\n"
    "status (a terminal, if process.terminal, is the caller's own).\n";

/* Wait for the supervisor (our child) and return the container's exit status. */
static int wait_container(struct oci_container *c, pid_t pid)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_run_signal};
	int st;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* Others may state, kill or exec it while it runs. */
	flock(c->dirfd, LOCK_UN);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return EXIT_RUNTIME;
		if (g_run_signal) {
			oci_control(c, SENTRY_CTL_SIGNAL, g_run_signal, 0);
			g_run_signal = 0;
		}
	}
	flock(c->dirfd, LOCK_EX);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int cmd_run(struct global_opts *g, int argc, char **argv)
{
	struct oci_create_opts o = {0};
	struct oci_container c;
	pid_t pid;
	int code;

	oci_log_setup(g);
	o.foreground = true;
	if ((code = oci_create_parse(argc, argv, run_help, &o)) >= 0)
		return code;
	if ((pid = oci_create(g, &o, &c)) < 0)
		return 1;
	if (oci_start(&c) < 0) {
		oci_container_destroy(&c);
		oci_container_close(&c);
		return 1;
	}
	if (!o.foreground) {
		oci_container_close(&c);
		return 0;
	}
	code = wait_container(&c, pid);
	oci_container_destroy(&c);
	oci_container_close(&c);
	return code;
}
