/* sentry_main: boot the kernel (memory file, platform, VFS) and run the first process. */
#include "sentry/sentry.h"
#include "sentry/control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "gofer/client.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/rusage.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/app_filter.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_fs.h"
#include "sentry/fs/tty.h"

static struct gofer_client g_gofer;

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* The value of PATH in envp, or the default. */
static const char *env_path(char **envp)
{
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return *e + 5;
	return default_path;
}

/* Open the executable named by argv0 as execvp would: a name with a '/' is a path, anything else
 * is searched along PATH inside the sandbox. Returns 0 with *out and the resolved path in buf,
 * or -errno (ENOENT when nothing matched, else the most telling error seen). */
static int open_executable(struct task *t, const char *argv0, char **envp, struct file **out,
			   char *buf, size_t size)
{
	if (!*argv0)
		return -ENOENT;
	if (strchr(argv0, '/')) {
		if (strlen(argv0) >= size)
			return -ENAMETOOLONG;
		strcpy(buf, argv0);
		return (int)vfs_openat(t, LINUX_AT_FDCWD, buf, LINUX_O_RDONLY | LINUX_O_CLOEXEC, 0,
				       out);
	}
	int err = -ENOENT;
	const char *p = env_path(envp);
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		int n = snprintf(buf, size, "%.*s/%s", (int)dlen, dlen ? p : ".", argv0);
		if (n > 0 && (size_t)n < size) {
			struct linux_stat st;
			long r = vfs_openat(t, LINUX_AT_FDCWD, buf, LINUX_O_RDONLY | LINUX_O_CLOEXEC,
					    0, out);
			if (r == 0) {
				if (vfs_fstat(*out, &st) == 0 &&
				    (st.st_mode & LINUX_S_IFMT) == LINUX_S_IFREG)
					return 0;
				file_put(*out);
				*out = NULL;
				r = -EACCES;
			}
			if (r == -EACCES)
				err = -EACCES;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return err;
}

static int cmp_gid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* An OCI container's process: init's ids, groups, capabilities, umask, no_new_privs and
 * limits, as runc leaves them just before it execs the program (the boot config checked them).
 * Before init is loaded, so the executable is opened and checked as that user. */
static void apply_process(struct task *t, const struct sentry_process *p)
{
	struct creds *c = &t->cred;

	c->ruid = c->euid = c->suid = c->fsuid = p->uid;
	c->rgid = c->egid = c->sgid = c->fsgid = p->gid;
	c->ngroups = p->ngroups;
	memcpy(c->groups, p->groups, sizeof(c->groups[0]) * p->ngroups);
	qsort(c->groups, c->ngroups, sizeof(c->groups[0]), cmp_gid);
	c->cap_bset = p->cap_bounding;
	c->cap_effective = p->cap_effective;
	c->cap_permitted = p->cap_permitted;
	c->cap_inheritable = p->cap_inheritable;
	c->cap_ambient = p->cap_ambient;
	fs_context_umask(t->fs, (int)p->umask);
	t->no_new_privs = p->no_new_privs;
	for (int i = 0; i < SENTRY_RLIMITS && i < LINUX_RLIM_NLIMITS; i++)
		if (p->rlimit_set[i])
			t->tg->rlimits[i] = (struct linux_rlimit){p->rlimit_cur[i], p->rlimit_max[i]};
}

/* Give t (new, not started) its stdio (host fds, taken over; -1: closed), the container
 * process's credentials, and load argv[0] (found along envp's PATH) from cwd. 0 or -errno. */
static int load_task(struct task *t, const struct sentry_process *proc, const int stdio[3],
		     char **argv, char **envp, const char *cwd)
{
	char path[LINUX_PATH_MAX];
	struct file *exe = NULL;
	int r;

	for (int fd = 0; fd < 3; fd++) {
		if (stdio[fd] < 0)
			continue;
		r = fdtable_install_host(t->fdt, fd, stdio[fd]);
		if (r < 0) {
			log_error("stdio fd %d: %s", fd, strerror(-r));
			return r;
		}
	}
	if (proc)
		apply_process(t, proc);
	snprintf(t->comm, sizeof(t->comm), "%s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	if (cwd && (r = vfs_chdir(t, cwd)) < 0)
		log_warn("working directory %s: %s; staying in /", cwd, strerror(-r));
	r = open_executable(t, argv[0], envp, &exe, path, sizeof(path));
	if (r < 0)
		return r;
	r = (int)loader_load(t, exe, path, argv, envp);
	file_put(exe);
	if (r < 0)
		log_info("loading %s: %s", path, strerror(-r));
	return r;
}

int sentry_exec_process(const struct sentry_exec *e, const int stdio[3], int exit_fd)
{
	struct task *t = task_create_orphan(g_kernel.plat);
	int r;

	if (!t) {
		r = -ENOMEM;
		goto fail;
	}
	/* exec -t: its terminal becomes the sandbox's console (a host pty, as init's) when init
	 * has none; a second terminal stays a plain file (docs/architecture.md, Known gaps). */
	r = tty_console_init(stdio, t->tg->sid, t->tg->pgid);
	if (r < 0)
		log_warn("exec'd process %d: terminal: %s", t->tgid,
			 r == -EBUSY ? "the sandbox has one in use; given as a plain file"
				     : strerror(-r));
	r = load_task(t, e->has_process ? &e->process : NULL, stdio, e->argv, e->envp, e->cwd);
	if (r < 0) {
		task_discard_orphan(t);
		close(exit_fd);
		return r;
	}
	int pid = t->tgid;
	kernel_lock();
	t->tg->exit_fd = exit_fd;
	kernel_unlock();
	if ((r = task_start(t)) < 0) {
		log_error("starting exec'd process %d: %s", pid, strerror(-r));
		/* it ends as if killed before it ran; its exit socket gets that status */
		task_exit_group(t, LINUX_W_EXITCODE(0, LINUX_SIGKILL));
		process_task_exit(t);
		return r;
	}
	return pid;
fail:
	for (int fd = 0; fd < 3; fd++)
		if (stdio[fd] >= 0)
			close(stdio[fd]);
	close(exit_fd);
	return r;
}

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts a blocking host call (task_host_wait) */
}

/* The kick signal: a no-op handler without SA_RESTART, blocked in every thread except inside
 * task_host_wait's ppoll. Task threads inherit the mask from this (main) thread. */
static int kick_signal_init(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SENTRY_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SENTRY_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int sentry_main(const struct sentry_config *cfg)
{
	const struct platform *plat = platform_lookup(cfg->platform ? cfg->platform : "systrap");
	struct timespec now;
	struct task *t;
	int r;

	log_set_role("sentry");
	r = tty_signals_start();
	if (r < 0)
		return r;
	if (!plat) {
		log_error("unknown platform %s", cfg->platform);
		return -EINVAL;
	}
	g_kernel.plat = plat;
	g_kernel.strace = cfg->strace;
	g_kernel.strace_time = cfg->strace_time;
	g_kernel.strace_fd = cfg->strace_fd;
	snprintf(g_kernel.hostname, sizeof(g_kernel.hostname), "%s",
		 cfg->hostname ? cfg->hostname : "runsc-c");
	strcpy(g_kernel.domainname, "(none)");
	clock_gettime(CLOCK_MONOTONIC, &now);
	g_kernel.boot_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	rusage_clock_init();

	r = memfile_init();
	if (r < 0) {
		log_error("memory file: %s", strerror(-r));
		return r;
	}
	r = plat->init(memfile_fd());
	if (r < 0) {
		log_error("platform %s: %s", plat->name, strerror(-r));
		return r;
	}
	/* Page caches may then map their host files rather than copy them (fcache.c). */
	if (plat->host_fd_maps)
		mm_fcache_direct_enable();
	if (cfg->syscall_patching && plat->patch_enable)
		g_kernel.patch_stub = plat->patch_enable();
	log_debug("syscall patching %s", g_kernel.patch_stub ? "on" : "off");
	syscall_table_init();
	r = app_filter_install(cfg->seccomp);
	if (r < 0) {
		log_error("seccomp profile: %s", strerror(-r));
		return r;
	}
	r = kick_signal_init();
	if (r < 0)
		return r;
	r = itimer_init();
	if (r < 0) {
		log_error("itimer: %s", strerror(-r));
		return r;
	}

	r = gofer_client_init(&g_gofer, cfg->gofer_sock);
	if (r < 0) {
		log_error("gofer client: %s", strerror(-r));
		return r;
	}
	g_kernel.gofer = &g_gofer;
	/* A connection per CPU from here on (the gofer's threads answer on the caller's CPU);
	 * without them (one CPU), the first serves everything. A broken one fails what follows. */
	r = gofer_client_channels(&g_gofer);
	if (r < 0 && r != -EOPNOTSUPP)
		log_warn("gofer channels: %s", strerror(-r));
	struct vfs_config vcfg = {.gofer = &g_gofer,
				  .mounts = cfg->mounts,
				  .nmounts = cfg->nmounts,
				  .root_readonly = cfg->root_readonly};
	r = vfs_init(&vcfg);
	if (r < 0) {
		log_error("vfs: %s", strerror(-r));
		return r;
	}

	t = task_create_init(plat);
	if (!t)
		return -ENOMEM;
	r = tty_console_init(cfg->stdio, t->tg->sid, t->tg->pgid);
	if (r < 0)
		log_warn("terminal: %s", strerror(-r));
	r = load_task(t, cfg->process, cfg->stdio, cfg->argv, cfg->envp, cfg->cwd);
	if (cfg->control_fd >= 0)
		control_ready(cfg->control_fd, r);
	if (r < 0) {
		task_free(t);
		return r;
	}
	/* A container's init is loaded but runs no instruction until the runtime's start. */
	if (cfg->control_fd >= 0) {
		r = control_gate(cfg->control_fd);
		if (r != 0) {
			/* > 0: ended by that signal before it ran (its wait status); < 0: the
			 * supervisor is gone */
			task_free(t);
			return r;
		}
		if ((r = control_serve(cfg->control_fd, cfg)) < 0)
			log_warn("control channel: %s", strerror(-r));
	}
	/* init runs on a host thread of its own like every task; this thread waits for the end. */
	r = task_start(t);
	if (r < 0) {
		log_error("starting init: %s", strerror(-r));
		return r;
	}
	r = kernel_wait_all();
	gofer_client_log_stats(&g_gofer);
	control_drain();
	return r;
}
