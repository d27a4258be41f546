/* The Sentry's entry point, called by the boot role once the process is confined. */
#ifndef SENTRY_SENTRY_H
#define SENTRY_SENTRY_H

#include <stdbool.h>
#include <stddef.h>

struct vfs_mount;
#include <stdint.h>

/* An OCI container's process (runsc-c/oci_process.c): who init runs as and with what limits,
 * set on init before it is loaded. Without one (`do`): root with every capability. */
#define SENTRY_MAX_GROUPS 32
#define SENTRY_RLIMITS 16
struct sentry_process {
	uint32_t uid, gid, umask;
	uint32_t ngroups;
	uint32_t groups[SENTRY_MAX_GROUPS]; /* supplementary */
	uint64_t cap_bounding, cap_effective, cap_inheritable, cap_permitted, cap_ambient;
	uint8_t no_new_privs;
	uint8_t rlimit_set[SENTRY_RLIMITS]; /* 1: rlimit_cur/max[i] replace the default */
	uint64_t rlimit_cur[SENTRY_RLIMITS], rlimit_max[SENTRY_RLIMITS];
};

/* A process the runtime starts in a running sandbox (`runsc-c exec`), as decoded by the
 * config's exec_decode. */
struct sentry_exec {
	char **argv, **envp; /* NULL-terminated */
	char *cwd;
	bool has_process;
	struct sentry_process process;
	void *owner; /* for exec_free */
};

struct sentry_config {
	const char *platform;  /* backend name */
	bool strace;	       /* print every syscall to strace_fd */
	bool strace_time;      /* with the time each took in the Sentry, as strace -T */
	bool syscall_patching; /* patch syscall sites where the platform can (systrap) */
	int strace_fd;
	int gofer_sock;	 /* connected to the gofer; ownership passes to the Sentry */
	int stdio[3];	 /* host fds for the application's 0, 1, 2 */
	char **argv;	 /* the command, argv[0] is the path to run */
	char **envp;	 /* the application's whole environment */
	const char *cwd; /* initial working directory inside the sandbox */
	const char *hostname;
	const struct vfs_mount *mounts; /* sentry/vfs/vfs.h; applied in order at boot */
	size_t nmounts;
	bool root_readonly;
	int control_fd; /* the container control channel (sentry/control.h), or -1 for
			 * none (`do`): init then runs at once */
	const struct sentry_process *process; /* or NULL */
	/* Read an exec request's process from fd (a memfd; the caller closes it): 0 or -errno.
	 * NULL: exec is refused. exec_free releases what it filled in. */
	int (*exec_decode)(int fd, struct sentry_exec *e);
	void (*exec_free)(struct sentry_exec *e);
};

/* Boot the kernel and run the command until its init process exits.
 * Returns its wait status (LINUX_W_EXITCODE), or a negative errno when the command could not be
 * started: -ENOENT (not found: the CLI exits 127), -ENOEXEC/-EACCES (exit 126). */
int sentry_main(const struct sentry_config *cfg);

/* Start e in the running sandbox as a new parentless process with stdio[0..2] (host fds, taken
 * over) as its fds 0-2; exit_fd (taken over) gets its wait status when it exits. Returns its
 * pid, or -errno (every fd closed). */
int sentry_exec_process(const struct sentry_exec *e, const int stdio[3], int exit_fd);

#endif
