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

/* An OCI linux.seccomp profile as the Sentry applies it to every application syscall, before the
 * handler (sentry/syscalls/app_filter.c); runsc-c/oci_seccomp.c builds it from config.json.
 * Actions are numbered by precedence: when several rules of one call match, the highest wins,
 * as libseccomp and the kernel order them (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > TRACE >
 * LOG > ALLOW). */
enum sentry_scmp_action {
	SENTRY_SCMP_ALLOW,
	SENTRY_SCMP_LOG,	  /* allow, and log the call */
	SENTRY_SCMP_TRACE,	  /* no tracer is ever attached: -ENOSYS, as Linux without one */
	SENTRY_SCMP_ERRNO,	  /* -errno_ret */
	SENTRY_SCMP_TRAP,	  /* SIGSYS (SYS_SECCOMP), the call not made */
	SENTRY_SCMP_KILL_THREAD,  /* the process dies of SIGSYS (see app_filter.c) */
	SENTRY_SCMP_KILL_PROCESS, /* the process dies of SIGSYS */
	SENTRY_SCMP_ACTIONS
};
/* Comparison operators, numbered as libseccomp's SCMP_CMP_*. */
enum sentry_scmp_op {
	SENTRY_SCMP_NE = 1,
	SENTRY_SCMP_LT,
	SENTRY_SCMP_LE,
	SENTRY_SCMP_EQ,
	SENTRY_SCMP_GE,
	SENTRY_SCMP_GT,
	SENTRY_SCMP_MASKED_EQ, /* (arg & value) == value_two */
};
#define SENTRY_SCMP_MAX_RULES 4096
#define SENTRY_SCMP_MAX_ERRNO 4095

struct sentry_scmp_cond {
	uint8_t index; /* argument 0..5 */
	uint8_t op;    /* enum sentry_scmp_op */
	uint8_t zero[6];
	uint64_t value, value_two;
};

/* One call's rule: matches when every condition holds (none: always). */
struct sentry_scmp_rule {
	uint16_t nr;	    /* x86-64 syscall number, < ABI_SYSCALL_MAX */
	uint8_t action;	    /* enum sentry_scmp_action */
	uint8_t ncond;	    /* 0..6 */
	uint16_t errno_ret; /* SENTRY_SCMP_ERRNO: 0..SENTRY_SCMP_MAX_ERRNO (0: returns 0) */
	uint16_t zero;
	struct sentry_scmp_cond cond[6];
};

struct sentry_seccomp {
	uint8_t default_action;
	uint16_t default_errno;
	size_t nrules;
	struct sentry_scmp_rule *rules;
};

/* Is every field of f in range (actions, numbers, argument indexes, operators, errno values,
 * zero padding)? The boot config's decoder checks a profile with it (untrusted input). */
bool sentry_seccomp_valid(const struct sentry_seccomp *f);

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
	/* The container's linux.seccomp, applied to every process of the sandbox (init, its
	 * descendants, exec's), or NULL for none. */
	const struct sentry_seccomp *seccomp;
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
