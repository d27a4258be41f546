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
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/log.h"
#include "platform/platform.h"
#include "runsc-c/cli.h"
#include "runsc-c/confine.h"
#include "runsc-c/sentry_seccomp.h"
#include "sentry/kernel/vdso.h"
#include "sentry/mm/mm.h"

#include <malloc.h>
#include "sentry/sentry.h"
#include "sentry/vfs/vfs.h"

struct boot_fds {
	int gofer, config, status, log;
	int control; /* an OCI container's control channel (sentry/control.h), or -1 */
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
	*f = (struct boot_fds){-1, -1, -1, -1, -1};
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
		else if (strcmp(argv[i], "--control-fd") == 0 && fd >= 0)
			f->control = fd;
		else
			return -EINVAL;
	}
	if (argc % 2 == 0 || f->gofer < 0 || f->config < 0 || f->status < 0 || f->log < 0)
		return -EINVAL;
	return 0;
}

/* The Sentry's view of c's mounts (bind mounts numbered as the gofer's roots 1, 2, ...).
 * NULL with *n 0 when there are none; exits on ENOMEM or bad tmpfs options (which
 * boot_config_decode has already checked). */
static struct vfs_mount *vfs_mounts(const struct boot_config *c)
{
	static const char *const names[] = {
	    [VFS_MOUNT_BIND] = "bind",	   [VFS_MOUNT_TMPFS] = "tmpfs",
	    [VFS_MOUNT_PROC] = "proc",	   [VFS_MOUNT_SYSFS] = "sysfs",
	    [VFS_MOUNT_DEVPTS] = "devpts", [VFS_MOUNT_MQUEUE] = "mqueue",
	};
	struct vfs_mount *v = c->nmounts ? calloc(c->nmounts, sizeof(*v)) : NULL;
	uint32_t nbind = 0;

	if (c->nmounts && !v)
		return NULL;
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct boot_mount *m = &c->mounts[i];
		v[i] = (struct vfs_mount){
		    .dest = m->dest, .source = m->source, .readonly = m->readonly};
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(m->type, names[k]) == 0)
				v[i].type = (enum vfs_mount_type)k;
		if (v[i].type == VFS_MOUNT_BIND)
			v[i].gofer_root = ++nbind;
		if (v[i].type == VFS_MOUNT_TMPFS &&
		    tmpfs_opts_parse(m->data, &v[i].size, &v[i].mode) < 0) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* Read and decode the whole config from fd (a memfd, read from offset 0). Sized with lseek,
 * not fstat: exec's configs are read under the seccomp filter, which has lseek and pread64
 * but not newfstatat (what glibc's fstat is). */
static int read_config(int fd, struct boot_config *c)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf;
	size_t off = 0;
	int r;

	if (size < 0)
		return -errno;
	if (size == 0 || (uint64_t)size > BOOT_CONFIG_MAX)
		return -EINVAL;
	struct stat st = {.st_size = size};
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

/* `runsc-c exec`'s process, sent through the control channel as a boot config (only argv,
 * envp, cwd and the process record are used). */
static int exec_decode(int fd, struct sentry_exec *e)
{
	struct boot_config *c = calloc(1, sizeof(*c));
	int r = c ? read_config(fd, c) : -ENOMEM;

	if (r < 0) {
		free(c);
		return r;
	}
	*e = (struct sentry_exec){.argv = c->argv,
				  .envp = c->envp,
				  .cwd = c->cwd,
				  .has_process = c->has_process,
				  .process = c->process,
				  .owner = c};
	return 0;
}

static void exec_free(struct sentry_exec *e)
{
	if (e->owner) {
		boot_config_free(e->owner);
		free(e->owner);
	}
	memset(e, 0, sizeof(*e));
}

/* Host fds the Sentry's fd table has room for from the start (below). */
#define BOOT_FD_TABLE 4096

/* Grow the Sentry's host fd table now, while it has one thread: Linux grows a table that
 * threads share only after an RCU grace period (expand_fdtable), 6-16 ms here for each
 * doubling past 256 fds, taken by whichever task's call opened the fd. The Sentry holds a host
 * fd per open file of the sandbox and keeps up to 1024 idle ones (goferfs), so a workload
 * that touches many files would stall once per doubling. 32 KiB of table, at most. */
static void reserve_fd_table(int any_fd)
{
	struct rlimit rl;
	long want = BOOT_FD_TABLE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want)
		want = (long)rl.rlim_cur;
	int fd = fcntl(any_fd, F_DUPFD_CLOEXEC, (int)want - 1);
	if (fd >= 0)
		close(fd); /* the table stays as large */
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
	vdso_probe_host(); /* reads /proc/cpuinfo: before confine_fs hides it */
	if (confine_fs() < 0 || confine_hostname(c.hostname) < 0 || confine_caps() < 0)
		return EXIT_RUNTIME;
	reserve_fd_table(f.log); /* after confine_caps raised RLIMIT_NOFILE; before any thread */
	/* glibc's malloc sizes its arena limit from get_nprocs(), which reads
	 * /sys/devices/system/cpu/online the first time a second thread allocates: a path-based
	 * open the Sentry's filter kills. A fixed limit means it never asks. */
	mallopt(M_ARENA_MAX, 8);
	/* and shrinking a thread arena's heap reads /proc/sys/vm/overcommit_memory once: never
	 * trim (the Sentry's own heap is small) */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	/* The memory file is made before seccomp so memfd_create stays off the allowlist. */
	if ((r = memfile_init()) < 0) {
		log_error("boot: memory file: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	/* What the platform must do unconfined (systrap, unotify: fork the stub master, whose
	 * stubs must not inherit the Sentry's filter). */
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
	struct vfs_mount *mounts = vfs_mounts(&c);
	if (c.nmounts && !mounts) {
		log_error("boot: mounts: out of memory");
		return EXIT_RUNTIME;
	}

	struct sentry_config sc = {
	    .platform = c.platform,
	    .strace = c.strace != 0,
	    .strace_time = c.strace == 2,
	    .syscall_patching = !c.no_syscall_patching,
	    .strace_fd = f.log,
	    .gofer_sock = f.gofer,
	    .stdio = {c.stdio_closed & 1 ? -1 : 0, c.stdio_closed & 2 ? -1 : 1,
		      c.stdio_closed & 4 ? -1 : 2},
	    .argv = c.argv,
	    .envp = c.envp,
	    .cwd = c.cwd,
	    .hostname = c.hostname,
	    .mounts = mounts,
	    .nmounts = c.nmounts,
	    .root_readonly = c.root_readonly,
	    .control_fd = f.control,
	    .process = c.has_process ? &c.process : NULL,
	    .seccomp = c.has_seccomp ? &c.seccomp : NULL,
	    .exec_decode = exec_decode,
	    .exec_free = exec_free,
	};
	int result = sentry_main(&sc);
	if (write(f.status, &result, sizeof(result)) != (ssize_t)sizeof(result))
		log_error("boot: writing the result: %s", strerror(errno));
	/* No exit handlers, no stdio flushing of the application's fds: just go. */
	_exit(0);
}
