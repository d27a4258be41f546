/* sentry_main: boot the kernel (memory file, platform, VFS) and run the first process. */
#include "sentry/sentry.h"

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
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"
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
	char path[LINUX_PATH_MAX];
	struct file *exe = NULL;
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
	g_kernel.strace_fd = cfg->strace_fd;
	snprintf(g_kernel.hostname, sizeof(g_kernel.hostname), "%s",
		 cfg->hostname ? cfg->hostname : "runsc-c");
	strcpy(g_kernel.domainname, "(none)");
	clock_gettime(CLOCK_MONOTONIC, &now);
	g_kernel.boot_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;

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
	if (cfg->syscall_patching && plat->patch_enable)
		g_kernel.patch_stub = plat->patch_enable();
	log_debug("syscall patching %s", g_kernel.patch_stub ? "on" : "off");
	syscall_table_init();
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
	struct vfs_config vcfg = {.gofer = &g_gofer};
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
	for (int fd = 0; fd < 3; fd++) {
		if (cfg->stdio[fd] < 0)
			continue;
		r = fdtable_install_host(t->fdt, fd, cfg->stdio[fd]);
		if (r < 0) {
			log_error("stdio fd %d: %s", fd, strerror(-r));
			task_free(t);
			return r;
		}
	}
	snprintf(t->comm, sizeof(t->comm), "%s", strrchr(cfg->argv[0], '/') ?
		 strrchr(cfg->argv[0], '/') + 1 : cfg->argv[0]);

	if (cfg->cwd && (r = vfs_chdir(t, cfg->cwd)) < 0)
		log_warn("working directory %s: %s; staying in /", cfg->cwd, strerror(-r));
	r = open_executable(t, cfg->argv[0], cfg->envp, &exe, path, sizeof(path));
	if (r < 0) {
		task_free(t);
		return r;
	}
	r = (int)loader_load(t, exe, path, cfg->argv, cfg->envp);
	file_put(exe);
	if (r < 0) {
		log_info("loading %s: %s", path, strerror(-r));
		task_free(t);
		return r;
	}
	/* init runs on a host thread of its own like every task; this thread waits for the end. */
	r = task_start(t);
	if (r < 0) {
		log_error("starting init: %s", strerror(-r));
		return r;
	}
	return kernel_wait_all();
}
