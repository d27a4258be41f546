/* The runsc-c command line: global options, the command table's entry points, and the pure helpers
 * (sandbox environment, boot configuration wire format, exit-status mapping) shared by the verbs.
 */
#ifndef RUNSC_C_CLI_H
#define RUNSC_C_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "sentry/sentry.h"

#define RUNSC_C_VERSION "0.1.0"
#define RUNSC_C_OCI_SPEC "1.1.0"

/* Exit statuses of the CLI itself, as a shell and `docker run` use them. */
#define EXIT_USAGE 2	  /* bad flags or unknown command (runc) */
#define EXIT_RUNTIME 125  /* runsc-c itself failed (the sandbox could not run the command) */
#define EXIT_NOEXEC 126	  /* found but not executable (ENOEXEC, EACCES) */
#define EXIT_NOTFOUND 127 /* command not found */

/* Flags accepted before the command, as runc and runsc accept them. */
struct global_opts {
	const char *root;	/* --root: state directory of the OCI commands */
	bool debug;		/* --debug: debug-level logging */
	const char *log_path;	/* --log: where the CLI logs (default stderr) */
	const char *log_format; /* --log-format: "text" or "json" (runc's lines, for containerd) */
	int log_fd;		/* opened --log, or 2 */
	unsigned stdio_closed;	/* bit i: the caller's fd i was closed (now /dev/null) */
	const char *platform;	/* --platform of the OCI commands (NULL: systrap) */
	bool systemd_cgroup;	/* --systemd-cgroup: cgroupsPath is slice:prefix:name */
};

/* A command: parses its own argv (argv[0] is the command name) and returns the process exit
 * status. Roles (boot, gofer) never return on success paths that start the sandbox. */
typedef int (*cmd_fn)(struct global_opts *g, int argc, char **argv);

int cmd_do(struct global_opts *g, int argc, char **argv);
int cmd_boot(struct global_opts *g, int argc, char **argv);
int cmd_gofer(struct global_opts *g, int argc, char **argv);
int cmd_debug(struct global_opts *g, int argc, char **argv);
int cmd_syscalls(struct global_opts *g, int argc, char **argv); /* syscalls_cmd.c */

/* ---- the sandbox environment (env.c) ---- */

/* The sandbox's default PATH: the Sentry resolves a command without '/' along it. */
#define SANDBOX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Is s a valid "KEY=VALUE" (non-empty key, '=' present)? */
bool env_entry_valid(const char *s);

/* The whole environment of the sandboxed program: PATH, HOME=/root, TERM (host_term when non-empty,
 * else xterm), LANG (host_lang when non-empty, else C.UTF-8), then each extra "K=V" in order; an
 * extra entry replaces an earlier entry with the same key in place. Nothing else of the host.
 * Returns a NULL-terminated array of strings, all owned by the caller (free with env_free), or
 * NULL with errno = EINVAL (an invalid extra entry) or ENOMEM. */
char **sandbox_env_build(const char *host_term, const char *host_lang, char *const *extra,
			 size_t nextra);
/* Free an array from sandbox_env_build (or boot_config_decode); NULL is fine. */
void env_free(char **env);

/* ---- the boot configuration: the CLI tells the boot role, on a sealed memfd (bootcfg.c) ---- */

#define BOOT_CONFIG_MAX (8u << 20)	 /* whole encoded config */
#define BOOT_CONFIG_MAX_STR (128u << 10) /* one string, as Linux's MAX_ARG_STRLEN */
#define BOOT_CONFIG_MAX_VEC 65536u	 /* argv or env entries */
#define BOOT_HOSTNAME_MAX 64
#define BOOT_MOUNTS_MAX 256	 /* mounts in one config */
#define BOOT_MOUNT_TYPE_MAX 16	 /* "bind", "tmpfs", ... */
#define BOOT_MOUNT_PATH_MAX 4095 /* source and dest */
#define BOOT_MOUNT_DATA_MAX 1024 /* tmpfs options */

/* One mount of the sandbox, applied by the Sentry in order at boot (OCI config.json's mounts,
 * `runsc-c do --volume/--tmpfs`). type is one of:
 *   "bind"   source: an absolute host path, a directory or a regular file, served by the gofer
 *            (read-only if readonly; the gofer enforces it). data unused (NULL).
 *   "tmpfs"  data: NULL or "size=N[kmg],mode=OCTAL" options (tmpfs_opts_parse); source unused.
 *   "proc", "sysfs", "devpts", "mqueue"  the Sentry's own filesystems; source and data (any
 *            options, up to BOOT_MOUNT_DATA_MAX bytes) unused.
 * dest is an absolute path inside the sandbox without "." or ".." components. */
struct boot_mount {
	char *type;
	char *source; /* may be NULL except for "bind" */
	char *dest;
	bool readonly;
	char *data; /* may be NULL */
};

/* Parse tmpfs options "size=N[k|m|g],mode=OCTAL" (either, both or none; also "nr_inodes=",
 * "uid=", "gid=" and mount flags such as nosuid, nodev, noexec, strictatime, which are accepted
 * and ignored; "ro" is refused: that is boot_mount.readonly). data NULL or "" gives size 0 (no
 * limit of its own) and mode 01777. Returns 0 or -EINVAL (unknown option, bad number, size 0). */
int tmpfs_opts_parse(const char *data, uint64_t *size, uint32_t *mode);
/* Is m a mount the boot configuration can carry (known type, absolute dest without "." or
 * "..", a bind's absolute source, a tmpfs's options)? */
bool boot_mount_valid(const struct boot_mount *m);

struct boot_config {
	char **argv; /* NULL-terminated, argc >= 1 */
	char **envp; /* NULL-terminated, may be empty */
	char *platform;
	char *cwd;	/* absolute */
	char *hostname; /* 1..64 bytes */
	uint8_t strace; /* 0 off, 1 --strace, 2 --strace=time (each call's time too) */
	bool no_syscall_patching; /* --syscall-patching=off (patching is on by default) */
	int log_level;	       /* enum log_level */
	unsigned stdio_closed; /* bit i: the application's fd i starts closed */
	struct boot_mount *mounts;
	size_t nmounts;
	bool root_readonly;
	bool has_process; /* OCI: process holds init's credentials and limits */
	struct sentry_process process;
	bool has_seccomp; /* OCI linux.seccomp: seccomp.rules owned (boot_config_free) */
	struct sentry_seccomp seccomp;
};

/* Encode c. On success *buf (owned by the caller, free()) holds *len bytes. 0 or -EINVAL (a
 * field out of bounds) / -ENOMEM. */
int boot_config_encode(const struct boot_config *c, char **buf, size_t *len);
/* Decode len bytes of buf into c (every string newly allocated; free with boot_config_free).
 * Every length, count and string is checked; returns 0 or -EINVAL for any malformed input. */
int boot_config_decode(const void *buf, size_t len, struct boot_config *c);
void boot_config_free(struct boot_config *c);

/* ---- running the sandbox (sandbox.c) ---- */

/* A sealed memfd (close-on-exec, offset 0) holding c encoded. The fd or -errno. */
int sandbox_config_memfd(const struct boot_config *c);

struct sandbox_spec {
	const char *rootfs; /* absolute host path served by the gofer */
	const struct boot_config *boot;
	int log_fd; /* for the gofer and the Sentry; the caller keeps it */
	int log_level;
	bool control; /* an OCI container: a control channel to the Sentry (sentry/control.h),
		       * whose init waits for the runtime's start */
};

/* A started sandbox, as sandbox_spawn leaves it for sandbox_wait. */
struct sandbox {
	pid_t gofer, sentry;
	int status_r, sync_w, exe_fd; /* held until the Sentry is gone */
	int control;		      /* our end of the control channel, or -1 */
	sigset_t old_mask;
};

/* Spawn the gofer and the Sentry, wait for both, and return the exit status for the CLI (the
 * program's status, 128+signal, 126/127, or EXIT_RUNTIME after printing why). */
int sandbox_run(const struct sandbox_spec *s);
/* sandbox_run in two steps. spawn: 0, or EXIT_RUNTIME after printing why to stderr (sb is
 * then closed). SIGINT/SIGTERM/SIGHUP kill the Sentry from here on. wait: reap the Sentry and
 * the gofer and return sandbox_run's status; messages (naming cmd) go to err. */
int sandbox_spawn(const struct sandbox_spec *s, struct sandbox *sb);
int sandbox_wait(struct sandbox *sb, const char *cmd, FILE *err);
/* Close sb's fds (sandbox_wait does); the processes are left alone. */
void sandbox_close(struct sandbox *sb);

/* What the CLI exits with. have_result: the Sentry wrote result (sentry_main's return value: a
 * wait status, or -errno) to the status pipe; sentry_wstatus is the Sentry's own wait status;
 * forwarded is the signal the CLI received and answered by killing the sandbox (0: none). cmd
 * names the command in messages, which go to err (may be NULL for none). */
int sandbox_exit_code(bool have_result, int result, int sentry_wstatus, int forwarded,
		      const char *cmd, FILE *err);

#endif
