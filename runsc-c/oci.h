/* The OCI runtime commands (runc's command line): the bundle's config.json as parsed and checked,
 * the per-container state directory, the supervisor that holds a container's sandbox, and error
 * reporting in runc's log formats. One file per verb (oci_create.c, oci_start.c, ...).
 */
#ifndef RUNSC_C_OCI_H
#define RUNSC_C_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "runsc-c/cli.h"

/* How the commands print JSON: "/" unescaped (paths), one line or indented as runc does. */
#define OCI_JSON_PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define OCI_JSON_PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

int cmd_create(struct global_opts *g, int argc, char **argv);
int cmd_start(struct global_opts *g, int argc, char **argv);
int cmd_state(struct global_opts *g, int argc, char **argv);
int cmd_kill(struct global_opts *g, int argc, char **argv);
int cmd_delete(struct global_opts *g, int argc, char **argv);
int cmd_run(struct global_opts *g, int argc, char **argv);
int cmd_list(struct global_opts *g, int argc, char **argv);
int cmd_spec(struct global_opts *g, int argc, char **argv);
int cmd_exec(struct global_opts *g, int argc, char **argv);
int cmd_ps(struct global_opts *g, int argc, char **argv);
int cmd_pause(struct global_opts *g, int argc, char **argv);
int cmd_resume(struct global_opts *g, int argc, char **argv);
int cmd_events(struct global_opts *g, int argc, char **argv);
int cmd_features(struct global_opts *g, int argc, char **argv);

/* ---- errors (oci_log.c) ---- */

/* Remember where errors go: stderr always, and --log in --log-format text or json (runc's
 * {"level":"error","msg":"...","time":"..."} lines, which containerd's shim reads). */
void oci_log_setup(const struct global_opts *g);
/* Report an error of an OCI command as above. */
void oci_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error of command cmd: reported, and returns EXIT_USAGE. */
int oci_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct oci_container;
/* For commands taking just ID: open (and lock) the container named by argv[1] into c, or
 * print help. -1 to go on with c, else the exit status (c closed). */
int oci_open_one(const struct global_opts *g, int argc, char **argv, const char *help,
		 bool exclusive, struct oci_container *c);

/* ---- config.json (oci_config.c, oci_mounts.c) ---- */

/* A config.json mount as the bundle gives it. */
struct oci_mount {
	char *type;   /* "tmpfs", "proc", "bind", ... ("bind" when the options say so) */
	char *source; /* may be NULL */
	char *dest;   /* absolute, inside the container */
	bool readonly;
	char *data; /* filesystem options that are not flags, comma-separated, or NULL */
};

/* linux.resources limits (oci_cgroups.c). */
struct oci_resources {
	bool has_memory, has_pids, has_shares, has_quota;
	int64_t memory_limit; /* bytes, -1 unlimited */
	bool has_swap;
	int64_t memory_swap; /* memory + swap, bytes, -1 unlimited (0: not set) */
	int64_t pids_limit;   /* <= 0 unlimited */
	uint64_t cpu_shares;
	int64_t cpu_quota; /* us per period, <= 0 unlimited */
	uint64_t cpu_period;
};

struct oci_spec {
	json_object *doc; /* the whole parsed config.json (owned) */
	char *bundle;	  /* absolute path of the bundle directory */
	char *root;	  /* absolute host path of root.path */
	bool root_readonly;
	const char *version; /* ociVersion (in doc) */
	const char *hostname; /* in doc, or NULL */
	json_object *annotations; /* in doc, or NULL */
	json_object *hooks;	  /* in doc, or NULL */
	const char *cgroups_path; /* linux.cgroupsPath (in doc), or NULL */
	struct oci_resources resources;

	/* process */
	bool terminal;
	unsigned short console_rows, console_cols; /* consoleSize, 0 when not given */
	char **args; /* NULL-terminated, owned */
	char **env;  /* NULL-terminated, owned */
	char *cwd;
	struct sentry_process process; /* user, capabilities, rlimits, noNewPrivileges */

	struct oci_mount *mounts; /* owned */
	size_t nmounts;

	bool has_seccomp;	       /* linux.seccomp given */
	struct sentry_seccomp seccomp; /* its rules owned */
};

/* config.json's "process" object p into s (terminal, consoleSize, args, env, cwd and the
 * process record); also an exec --process file. 0 or -1 after oci_error. */
int oci_process_load(json_object *p, struct oci_spec *s);
/* Read and check bundle/config.json. Everything the spec allows that runsc-c does not do is
 * refused with a message naming the field. 0, or -1 after oci_error. */
int oci_spec_load(const char *bundle, struct oci_spec *s);
void oci_spec_free(struct oci_spec *s);

/* process.user/capabilities/rlimits/noNewPrivileges of proc into p (oci_process.c).
 * 0 or -1 after oci_error naming the field. */
int oci_process_parse(json_object *proc, struct sentry_process *p);
/* The "mounts" array into s->mounts; 0 or -1 after oci_error naming the entry. */
int oci_mounts_parse(json_object *mounts, struct oci_spec *s);
/* Whether the sandbox can give the container s's mounts (oci_mounts_boot without the list).
 * 0 or -1 after oci_error. */
int oci_mounts_to_sandbox(const struct oci_spec *s);
/* s's mounts as the sandbox's mount list, in order: the ones the Sentry makes itself (proc,
 * sysfs, /dev, /dev/pts, /dev/shm at their usual places) left out, bind sources made absolute
 * (relative ones are relative to the bundle), cgroup mounts an empty read-only tmpfs. *out is
 * the caller's (oci_boot_mounts_free). 0 or -1 after oci_error naming the entry. */
int oci_mounts_boot(const struct oci_spec *s, struct boot_mount **out, size_t *n);
void oci_boot_mounts_free(struct boot_mount *v, size_t n);
void oci_mounts_free(struct oci_spec *s);

/* linux.seccomp sc into f (f->rules owned by the caller), includes/excludes.caps checked
 * against the bounding set. 0 or -1 after oci_error naming the field (oci_seccomp.c). */
int oci_seccomp_parse(json_object *sc, uint64_t bounding, struct sentry_seccomp *f);

/* ---- cgroups (oci_cgroups.c) ---- */

/* linux.resources' memory, pids and cpu into r; other fields refused. 0 or -1 after oci_error. */
int oci_resources_parse(json_object *res, struct oci_resources *r);
/* Make the container's cgroups with r's limits (none when r has none), recording them in
 * saved["cgroups"]. 0 or -1 after oci_error (what was made is in saved, for removal). */
int oci_cgroups_setup(const struct global_opts *g, const struct oci_resources *r,
		      const char *cgroups_path, const char *id, json_object *saved);
/* Move pid into saved's cgroups. 0 or -1 with the reason in err. */
int oci_cgroups_join(json_object *saved, pid_t pid, FILE *err);
/* Remove saved's cgroups (their processes gone). */
void oci_cgroups_remove(json_object *saved);

/* ---- hooks (oci_hooks.c) ---- */

/* Check config.json's hooks: prestart, createRuntime, poststart and poststop run on the host;
 * any other kind is refused. 0 or -1 after oci_error. */
int oci_hooks_check(json_object *hooks);
/* Run the hooks of kind (hooks may be NULL) in order, each with state on stdin. fatal: stop at
 * the first failure and return -1 (reported); else report failures as warnings and go on. */
int oci_hooks_run(json_object *hooks, const char *kind, json_object *state, bool fatal);

/* ---- the state directory (oci_state.c) ---- */

enum oci_status { OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

/* One container's directory under --root, locked (flock) while a command works on it. */
struct oci_container {
	char *id;
	char *dir;	      /* --root/ID */
	int dirfd;	      /* locked; -1 when closed */
	json_object *saved;   /* state.json: what create and start recorded */
};

/* Is id usable as a container id (and a directory name)? */
bool oci_id_valid(const char *id);
/* Make --root/ID (it must not exist) and lock it. 0 or -1 after oci_error. */
int oci_container_new(const struct global_opts *g, const char *id, struct oci_container *c);
/* Open and lock --root/ID, exclusive or shared, and read its state.json. 0 or -1 after
 * oci_error ("container ID does not exist"). */
int oci_container_open(const struct global_opts *g, const char *id, bool exclusive,
		       struct oci_container *c);
void oci_container_close(struct oci_container *c);
/* Write c->saved to state.json (atomically). 0 or -1 after oci_error. */
int oci_container_save(struct oci_container *c);
/* Remove the directory and everything in it; c stays to be closed. 0 or -1 after oci_error. */
int oci_container_remove(struct oci_container *c);
/* The container's status; *pid the supervisor's pid while it lives (else 0). */
enum oci_status oci_container_status(struct oci_container *c, pid_t *pid);
const char *oci_status_name(enum oci_status st);
/* The OCI state JSON (new object, owned by the caller). */
json_object *oci_container_state_json(struct oci_container *c);
/* Send a control request (sentry/control.h op, signal, flags) to the container's supervisor,
 * which passes it to the Sentry. 0 or -errno of the Sentry's reply (-ESRCH: nothing left to
 * signal; -ENOTCONN: no supervisor). */
int oci_control(struct oci_container *c, uint32_t op, int sig, uint32_t flags);
/* The general form: request m with nfds fds (not taken); the reply's header comes back in m,
 * its payload in payload (room for cap bytes). Its result (>= 0) or -errno. */
struct sentry_ctl_msg;
int oci_control_msg(struct oci_container *c, struct sentry_ctl_msg *m, const int *fds, int nfds,
		    void *payload, uint32_t cap);
/* Kill whatever still runs of the container, wait until it is gone, remove the directory and
 * run the poststop hooks. 0 or -1 after oci_error. */
int oci_container_destroy(struct oci_container *c);
/* Wait until the supervisor and the processes under it are gone (after a SIGKILL). */
void oci_container_wait_gone(struct oci_container *c);
/* The start time of process pid (field 22 of /proc/pid/stat), or 0. */
unsigned long long oci_proc_starttime(pid_t pid);

/* ---- creating (oci_create.c, shared with run) ---- */

struct oci_create_opts {
	const char *id;
	const char *bundle;	    /* default "." */
	const char *pid_file;	    /* or NULL */
	const char *console_socket; /* or NULL */
	bool foreground;	    /* run without --detach: terminal on the caller's stdio */
};

/* The flags of create and run (--detach: run only) into o; -1 to go on, else the exit status
 * (help printed, or a usage error reported). */
int oci_create_parse(int argc, char **argv, const char *help, struct oci_create_opts *o);
/* Create the container: its state directory and its supervisor, init loaded and held until
 * start. On success c is the container, open and locked; returns the supervisor's pid (also
 * written to --pid-file). -1 after oci_error, with nothing left behind. */
pid_t oci_create(const struct global_opts *g, const struct oci_create_opts *o,
		 struct oci_container *c);
/* Write pid to path through a temporary file and a rename, as runc (no reader sees half of
 * it). 0 or -1 after oci_error. */
int oci_write_pid_file(const char *path, pid_t pid);
/* Start a created container (c locked). 0 or -1 after oci_error. */
int oci_start(struct oci_container *c);

/* Open a host pty, send its master to the --console-socket sock (SCM_RIGHTS, as runc; size
 * rows x cols unless 0) and return the slave fd (close-on-exec), or -1 with the reason in err
 * (oci_console.c). */
int oci_console_setup(const char *sock, unsigned short rows, unsigned short cols, FILE *err);

/* ---- the supervisor (oci_supervise.c) ---- */

struct oci_launch {
	const struct global_opts *g;
	const struct oci_spec *spec;
	const char *dir;	    /* the container's state directory */
	int dirfd;		    /* the creating command's locked fd; the supervisor drops it */
	const char *console_socket; /* --console-socket, or NULL */
	const char *id;
	json_object *saved; /* the container's state.json so far: the cgroups to join */
};

/* Fork the container's supervisor: it starts the gofer and the Sentry, waits until init is
 * loaded and held at the start gate, and then serves the control socket until the Sentry
 * exits, when it records the exit status in the state directory and exits with it.
 * Returns its pid once the container is created, or -1 after oci_error (nothing left running).
 */
pid_t oci_supervisor_start(const struct oci_launch *l);

/* Names and numbers of signals, as kill(1) and runc accept them ("TERM", "SIGTERM", "15").
 * -1 if unknown. */
int oci_signal_parse(const char *s);

#endif
