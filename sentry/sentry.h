/* The Sentry's entry point, called by the boot role once the process is confined. */
#ifndef SENTRY_SENTRY_H
#define SENTRY_SENTRY_H

#include <stdbool.h>

struct sentry_config {
	const char *platform;  /* backend name */
	bool strace;           /* print every syscall to strace_fd */
	bool syscall_patching; /* patch syscall sites where the platform can (systrap) */
	int strace_fd;
	int gofer_sock;        /* connected to the gofer; ownership passes to the Sentry */
	int stdio[3];          /* host fds for the application's 0, 1, 2 */
	char **argv;           /* the command, argv[0] is the path to run */
	char **envp;           /* the application's whole environment */
	const char *cwd;       /* initial working directory inside the sandbox */
	const char *hostname;
};

/* Boot the kernel and run the command until its init process exits.
 * Returns its wait status (LINUX_W_EXITCODE), or a negative errno when the command could not be
 * started: -ENOENT (not found: the CLI exits 127), -ENOEXEC/-EACCES (exit 126). */
int sentry_main(const struct sentry_config *cfg);

#endif
