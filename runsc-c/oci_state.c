/* The state directory: --root/ID per container, flock'ed by each command that works on it.
 *
 *   state.json  what create recorded (id, bundle, pid and start time of the supervisor,
 *               annotations, created) and whether start ran (written under the lock)
 *   pids        the Sentry's and the gofer's host pids and start times (the supervisor)
 *   ctl.sock    the supervisor's control socket (sentry/control.h messages)
 *   exit        the container's exit status, written by the supervisor as it ends
 *
 * The status is derived, never stored: "exit" exists or the supervisor is gone -> stopped;
 * else started -> running, else created. Pids are checked with their start time, so a reused
 * pid is not taken for the container's.
 */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/util.h"
#include "sentry/control.h"

bool oci_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") ==
	       n;
}

static int container_init(const struct global_opts *g, const char *id, struct oci_container *c)
{
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	if (!oci_id_valid(id)) {
		oci_error("invalid container id \"%s\" (letters, digits, _ + - . only)", id);
		return -1;
	}
	if (!(c->id = strdup(id)) || asprintf(&c->dir, "%s/%s", g->root, id) < 0) {
		c->dir = NULL;
		return oci_error("out of memory"), -1;
	}
	return 0;
}

/* mkdir -p path, each missing directory with mode (as runc makes --root: containerd's shim
 * passes --root DIR/NAMESPACE and expects it to appear). */
static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -1;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		if (!c)
			return 0;
		*s = c;
	}
}

int oci_container_new(const struct global_opts *g, const char *id, struct oci_container *c)
{
	if (container_init(g, id, c) < 0)
		return -1;
	if (mkdir_parents(g->root, 0711) < 0) {
		oci_error("--root %s: %s", g->root, strerror(errno));
		return -1;
	}
	if (mkdir(c->dir, 0711) < 0) {
		if (errno == EEXIST)
			oci_error("container %s already exists", id);
		else
			oci_error("%s: %s", c->dir, strerror(errno));
		return -1;
	}
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0 || flock(c->dirfd, LOCK_EX) < 0) {
		oci_error("%s: %s", c->dir, strerror(errno));
		rmdir(c->dir);
		return -1;
	}
	c->saved = json_object_new_object();
	return 0;
}

int oci_container_open(const struct global_opts *g, const char *id, bool exclusive,
		       struct oci_container *c)
{
	struct stat st;
	int fd;

	if (container_init(g, id, c) < 0)
		return -1;
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		if (errno == ENOENT)
			oci_error("container %s does not exist", id);
		else
			oci_error("%s: %s", c->dir, strerror(errno));
		return -1;
	}
	while (flock(c->dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return oci_error("%s: lock: %s", c->dir, strerror(errno)), -1;
	/* Deleted while we waited for the lock. */
	if (fstat(c->dirfd, &st) < 0 || st.st_nlink == 0)
		return oci_error("container %s does not exist", id), -1;
	fd = openat(c->dirfd, "state.json", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Its create was killed before it recorded anything (a finished or failed create
		 * leaves state.json or no directory): a stopped container that delete removes. */
		c->saved = json_object_new_object();
		return 0;
	}
	if (fd < 0) {
		oci_error("container %s: state.json: %s", id, strerror(errno));
		return -1;
	}
	c->saved = json_object_from_fd(fd);
	close(fd);
	if (!json_object_is_type(c->saved, json_type_object)) {
		oci_error("container %s: state.json is damaged", id);
		return -1;
	}
	return 0;
}

void oci_container_close(struct oci_container *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd); /* drops the lock */
	if (c->saved)
		json_object_put(c->saved);
	free(c->id);
	free(c->dir);
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
}

int oci_container_save(struct oci_container *c)
{
	int fd = openat(c->dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || json_object_to_fd(fd, c->saved, OCI_JSON_PLAIN) < 0 ||
	    fsync(fd) < 0 || renameat(c->dirfd, "state.json.tmp", c->dirfd, "state.json") < 0) {
		oci_error("%s/state.json: %s", c->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int oci_container_remove(struct oci_container *c)
{
	int fd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		oci_error("%s: %s", c->dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(c->dirfd, e->d_name, 0);
	closedir(d);
	if (rmdir(c->dir) < 0) {
		oci_error("removing %s: %s", c->dir, strerror(errno));
		return -1;
	}
	return 0;
}

unsigned long long oci_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	char state;
	/* after the comm: state (field 3) ... starttime (field 22) */
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				"%*s %*s %*s %llu",
			 &state, &start) != 2)
		return 0;
	return state == 'Z' || state == 'X' ? 0 : start;
}

/* Is the process recorded under key (its pid) and key_start (its start time) still there? */
static pid_t saved_alive(json_object *o, const char *key, const char *key_start)
{
	json_object *p, *st;

	if (!json_object_object_get_ex(o, key, &p) || !json_object_object_get_ex(o, key_start, &st))
		return 0;
	pid_t pid = (pid_t)json_object_get_int(p);
	if (pid <= 0)
		return 0;
	unsigned long long now = oci_proc_starttime(pid);
	return now && now == (unsigned long long)json_object_get_int64(st) ? pid : 0;
}

enum oci_status oci_container_status(struct oci_container *c, pid_t *pid)
{
	json_object *started;

	*pid = 0;
	if (faccessat(c->dirfd, "exit", F_OK, 0) == 0)
		return OCI_STOPPED;
	if (!(*pid = saved_alive(c->saved, "pid", "starttime")))
		return OCI_STOPPED;
	if (!json_object_object_get_ex(c->saved, "started", &started) ||
	    !json_object_get_boolean(started))
		return OCI_CREATED;
	if (json_object_object_get_ex(c->saved, "paused", &started) &&
	    json_object_get_boolean(started))
		return OCI_PAUSED;
	return OCI_RUNNING;
}

const char *oci_status_name(enum oci_status st)
{
	static const char *const names[] = {"created", "running", "paused", "stopped"};
	return names[st];
}

/* A copy of o[key] (or a default) added to out under the same key. */
static void copy_field(json_object *out, json_object *o, const char *key, json_object *dflt)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v)) {
		json_object_object_add(out, key, json_object_get(v));
		json_object_put(dflt);
	} else {
		json_object_object_add(out, key, dflt);
	}
}

json_object *oci_container_state_json(struct oci_container *c)
{
	json_object *o = json_object_new_object();
	pid_t pid;
	enum oci_status st = oci_container_status(c, &pid);

	json_object_object_add(o, "ociVersion", json_object_new_string(RUNSC_C_OCI_SPEC));
	json_object_object_add(o, "id", json_object_new_string(c->id));
	json_object_object_add(o, "status", json_object_new_string(oci_status_name(st)));
	json_object_object_add(o, "pid", json_object_new_int(st == OCI_STOPPED ? 0 : pid));
	copy_field(o, c->saved, "bundle", json_object_new_string(""));
	copy_field(o, c->saved, "rootfs", json_object_new_string(""));
	copy_field(o, c->saved, "created", json_object_new_string(""));
	copy_field(o, c->saved, "owner", json_object_new_string(""));
	copy_field(o, c->saved, "annotations", json_object_new_object());
	return o;
}

int oci_control_msg(struct oci_container *c, struct sentry_ctl_msg *m, const int *fds, int nfds,
		    void *payload, uint32_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 90};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int rfds[SENTRY_CTL_MAX_FDS], nrfds, r;

	/* Through the directory fd: the path stays short whatever --root is. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/ctl.sock", c->dirfd);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ENOENT || errno == ECONNREFUSED ? -ENOTCONN : -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((r = ctl_send(fd, m, NULL, 0, fds, nfds)) < 0)
		return r;
	r = ctl_recv(fd, m, payload, cap, rfds, &nrfds);
	ctl_close_fds(rfds, nrfds);
	if (r == -EPIPE)
		return -ENOTCONN;
	if (r < 0)
		return r;
	if (m->op != SENTRY_CTL_REPLY || m->result < -4095)
		return -EPROTO;
	return m->result;
}

int oci_control(struct oci_container *c, uint32_t op, int sig, uint32_t flags)
{
	struct sentry_ctl_msg m = {.op = op, .sig = sig, .flags = flags};
	return oci_control_msg(c, &m, NULL, 0, NULL, 0);
}

int oci_container_destroy(struct oci_container *c)
{
	json_object *hooks = NULL, *state;
	pid_t pid;
	int r;

	if (oci_container_status(c, &pid) != OCI_STOPPED && pid > 0)
		kill(pid, SIGKILL); /* the gofer and the Sentry die with it (PDEATHSIG) */
	oci_container_wait_gone(c);
	oci_cgroups_remove(c->saved);
	state = oci_container_state_json(c);
	if (json_object_object_get_ex(c->saved, "hooks", &hooks))
		json_object_get(hooks);
	r = oci_container_remove(c);
	if (r == 0)
		oci_hooks_run(hooks, "poststop", state, false);
	json_object_put(hooks);
	json_object_put(state);
	return r;
}

void oci_container_wait_gone(struct oci_container *c)
{
	json_object *pids = NULL;
	struct timespec ts = {0, 10 * 1000 * 1000};
	int fd = openat(c->dirfd, "pids", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		pids = json_object_from_fd(fd);
		close(fd);
	}
	for (int i = 0; i < 1000; i++) {
		if (!saved_alive(c->saved, "pid", "starttime") &&
		    (!pids || (!saved_alive(pids, "sentry", "sentry_start") &&
			       !saved_alive(pids, "gofer", "gofer_start"))))
			break;
		nanosleep(&ts, NULL);
	}
	if (pids)
		json_object_put(pids);
}
