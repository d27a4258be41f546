/* The stub master (see stub_master.h): forked before the Sentry's seccomp filter, it forks stubs
 * on request. The Sentry and the master talk through one shared anonymous page and two futex
 * words; the fds of a new stub cross over with pidfd_getfd. */
#define _GNU_SOURCE
#include "platform/stub_master.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* The page shared by the Sentry and the master. The master writes the answer fields, then
 * done; the Sentry reads them once done equals its request (under g_lock). */
struct master_page {
	uint32_t req;  /* futex: bumped by the Sentry for each request */
	uint32_t done; /* futex: the request the master last answered */
	int32_t err;   /* 0, or the errno of the failed step */
	int32_t pid;   /* the new stub */
	int32_t pidfd; /* the master's fd numbers of its pidfd and shared memory file */
	int32_t shmfd;
	int32_t spare; /* the stub made ahead for the next request, for tests (0: none) */
	int32_t pipe_rd, bell_wr, bell_rd, sock; /* with STUB_MASTER_PIPES, else -1 */
	uint32_t cookie;
};

/* A stub the master made: its pid and the master's fds of it, or the errno that stopped it. */
struct made {
	int32_t err, pid, pidfd, shmfd, pipe_rd, bell_wr, bell_rd, sock;
	uint32_t cookie;
};

/* The master's filter, built before the fork (libseccomp allocates) and loaded by the master. */
#define MASTER_FILTER_MAX 512
static struct sock_filter g_filter[MASTER_FILTER_MAX];
static unsigned short g_filter_len;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct master_page *g_page;
static pid_t g_master;    /* 0: none */
static int g_master_pidfd = -1;

/* Captured by the fork: the master's own copies are what it acts on. */
static stub_boot_fn g_boot;
static size_t g_shm_size;
static int g_memfd = -1;
static unsigned g_flags;

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* ---- the filter ---- */

/* What the master and a stub's boot make (the platform adds what its stub code makes). */
static const struct stub_master_rule base_rules[] = {
	/* the master */
	{__NR_futex, -1, 0},
	{__NR_memfd_create, -1, 0},
	{__NR_ftruncate, -1, 0},
	{__NR_clone, 0, CLONE_PARENT | CLONE_PIDFD | SIGCHLD},
	{__NR_close, -1, 0},
	{__NR_exit, -1, 0},
	{__NR_exit_group, -1, 0},
	{__NR_restart_syscall, -1, 0},
	/* a stub's boot */
	{__NR_prctl, 0, PR_SET_PDEATHSIG},
	{__NR_prctl, 0, PR_SET_NO_NEW_PRIVS},
	{__NR_getppid, -1, 0},
	{__NR_setsid, -1, 0},
	{__NR_rt_sigprocmask, -1, 0},
	{__NR_rt_sigaction, -1, 0},
	{__NR_rseq, -1, 0},
	{__NR_fcntl, 1, F_DUPFD_CLOEXEC},
	{__NR_dup3, -1, 0},
	{__NR_close_range, -1, 0},
	{__NR_mmap, -1, 0},
	{__NR_munmap, -1, 0},
	{__NR_seccomp, 0, SECCOMP_SET_MODE_FILTER},
};

/* What the master makes for STUB_MASTER_PIPES. */
static const struct stub_master_rule pipe_rules[] = {
	{__NR_pipe2, -1, 0},
	{__NR_socketpair, 0, AF_UNIX},
	{__NR_fcntl, 1, F_SETFL},
	{__NR_getrandom, -1, 0},
};

static int add_rule(scmp_filter_ctx ctx, const struct stub_master_rule *r)
{
	if (r->arg < 0)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	if (r->arg > 5)
		return -EINVAL;
	struct scmp_arg_cmp cmp = {.arg = (unsigned)r->arg, .op = SCMP_CMP_EQ, .datum_a = r->value};
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr, 1, &cmp);
}

/* Build the filter into g_filter: the rules allowed, anything else (other architectures and
 * x32 included) SECCOMP_RET_TRAP. 0 or -errno. */
static int build_filter(const struct stub_master_rule *rules, size_t n, unsigned flags)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int pipefd[2] = {-1, -1}, r;
	ssize_t got;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	/* The stubs pass their own filter to seccomp(2); NO_NEW_PRIVS is set by the child. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* Every stub runs it on each of its syscalls: a binary search, not a list. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(base_rules); i++)
		r = add_rule(ctx, &base_rules[i]);
	for (size_t i = 0; r == 0 && (flags & STUB_MASTER_PIPES) && i < ARRAY_SIZE(pipe_rules); i++)
		r = add_rule(ctx, &pipe_rules[i]);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_rule(ctx, &rules[i]);
	if (r == 0 && pipe2(pipefd, O_CLOEXEC) < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_bpf(ctx, pipefd[1]);
	if (r == 0) {
		close(pipefd[1]);
		pipefd[1] = -1;
		got = read(pipefd[0], g_filter, sizeof(g_filter));
		if (got <= 0 || got % (ssize_t)sizeof(g_filter[0]) || got == sizeof(g_filter))
			r = got < 0 ? -errno : -E2BIG;
		else
			g_filter_len = (unsigned short)(got / (ssize_t)sizeof(g_filter[0]));
	}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	seccomp_release(ctx);
	return r;
}

/* ---- the master process ---- */

/* Close the master's fds of a made stub (an answer the Sentry has taken copies of, or a failed
 * attempt). */
static void made_close(struct made *m)
{
	int32_t *fds[] = {&m->pidfd, &m->shmfd, &m->pipe_rd, &m->bell_wr, &m->bell_rd, &m->sock};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			syscall(SYS_close, *fds[i]);
		*fds[i] = -1;
	}
}

/* With STUB_MASTER_PIPES: the stub's pipe, its doorbell (the write end never blocks: a full
 * pipe rings as well as one more byte), its socket (datagrams: host fds the Sentry passes it)
 * and its cookie (random, never 0). The child's ends go to b. 0 or an errno. */
static int master_pipes(struct made *pg, struct stub_boot *b)
{
	int p[2], bell[2], sk[2];

	if (syscall(SYS_pipe2, p, O_CLOEXEC) < 0)
		return errno;
	pg->pipe_rd = p[0];
	b->pipe_wr = p[1];
	if (syscall(SYS_pipe2, bell, O_CLOEXEC) < 0)
		return errno;
	pg->bell_rd = bell[0];
	pg->bell_wr = bell[1];
	b->bell_rd = bell[0];
	if (syscall(SYS_fcntl, bell[1], F_SETFL, O_NONBLOCK) < 0)
		return errno;
	if (syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sk) < 0)
		return errno;
	pg->sock = sk[0];
	b->sock = sk[1];
	while (b->cookie == 0)
		if (syscall(SYS_getrandom, &b->cookie, sizeof(b->cookie), 0) !=
			    (long)sizeof(b->cookie) &&
		    errno != EINTR)
			return errno;
	pg->cookie = b->cookie;
	return 0;
}

/* One stub: a fresh shared memory file (and the pipes), then the child. The child runs the boot
 * function and never returns here. It inherits the master's fds of the previous answer too: the
 * boot's first step closes everything but what it is given. */
static void master_spawn(struct made *pg, pid_t sentry)
{
	struct stub_boot b = {.shmfd = -1, .memfd = g_memfd, .pipe_wr = -1, .bell_rd = -1,
			      .sock = -1,
			      .sentry = sentry};
	int pidfd = -1;
	long pid;

	*pg = (struct made){.pid = -1, .pidfd = -1, .shmfd = -1, .pipe_rd = -1, .bell_wr = -1,
			    .bell_rd = -1, .sock = -1};
	b.shmfd = (int)syscall(SYS_memfd_create, "runsc-c-stub", 0);
	if (b.shmfd < 0) {
		pg->err = errno;
		return;
	}
	pg->shmfd = b.shmfd;
	if (syscall(SYS_ftruncate, b.shmfd, (long)g_shm_size) < 0 ||
	    ((g_flags & STUB_MASTER_PIPES) && (errno = master_pipes(pg, &b)) != 0)) {
		pg->err = errno;
		goto fail;
	}
	/* CLONE_PARENT: the stub is the Sentry's child. The exit signal is then the master's own
	 * (SIGCHLD). The pidfd lands in the master only (it is installed after the child's fd
	 * table was copied). */
	pid = syscall(SYS_clone, CLONE_PARENT | CLONE_PIDFD | SIGCHLD, 0, &pidfd, NULL, 0);
	if (pid == 0) {
		g_boot(&b);
		syscall(SYS_exit_group, EIO);
	}
	if (pid < 0) {
		pg->err = errno;
		goto fail;
	}
	/* The stub holds the only write end of its pipe: its end is the Sentry's EOF. */
	if (b.pipe_wr >= 0)
		syscall(SYS_close, b.pipe_wr);
	if (b.sock >= 0)
		syscall(SYS_close, b.sock);
	pg->pid = (int32_t)pid;
	pg->pidfd = pidfd;
	return;
fail:
	if (b.pipe_wr >= 0)
		syscall(SYS_close, b.pipe_wr);
	if (b.sock >= 0)
		syscall(SYS_close, b.sock);
	made_close(pg);
}

/* The master: confine, then answer requests forever. A stub is made ahead of each request (its
 * boot, and the first worker the stub makes, run while nobody waits); the answer hands it over
 * and the next one is made. The master's fds of an answer are closed when the next request
 * comes (the requester took copies under g_lock before letting anyone ask again). */
static void (*g_prepare)(void);

void stub_master_prepare(void (*fn)(void)) { g_prepare = fn; }

static noreturn void master_main(pid_t sentry)
{
	struct sock_fprog prog = {.len = g_filter_len, .filter = g_filter};
	uint64_t all = ~0ULL;
	struct master_page *pg = g_page;
	struct made spare, given = {.pidfd = -1, .shmfd = -1, .pipe_rd = -1, .bell_wr = -1,
				    .bell_rd = -1, .sock = -1};
	uint32_t seen = 0;
	int err = 0;

	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    syscall(SYS_getppid) != sentry)
		goto fail;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all)) < 0)
		goto fail;
	syscall(SYS_setsid);
	/* Nothing of the Sentry's but the memory file, moved to fd 0. */
	if (g_memfd != 0 && syscall(SYS_dup3, g_memfd, 0, 0) < 0)
		goto fail;
	g_memfd = 0;
	if (syscall(SYS_close_range, 1, ~0U, 0) < 0)
		goto fail;
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		goto fail;
	if (g_prepare)
		g_prepare();
	master_spawn(&spare, sentry);
	__atomic_store_n(&pg->spare, spare.err ? 0 : spare.pid, __ATOMIC_RELEASE);
	for (;;) {
		uint32_t req = __atomic_load_n(&pg->req, __ATOMIC_ACQUIRE);

		if (req == seen) {
			futex(&pg->req, FUTEX_WAIT, seen, NULL);
			continue;
		}
		seen = req;
		made_close(&given);
		if (spare.err)
			master_spawn(&spare, sentry); /* the one made ahead failed: again, now */
		given = spare;
		pg->err = given.err;
		pg->pid = given.pid;
		pg->pidfd = given.pidfd;
		pg->shmfd = given.shmfd;
		pg->pipe_rd = given.pipe_rd;
		pg->bell_wr = given.bell_wr;
		pg->bell_rd = given.bell_rd;
		pg->sock = given.sock;
		pg->cookie = given.cookie;
		__atomic_store_n(&pg->done, seen, __ATOMIC_RELEASE);
		futex(&pg->done, FUTEX_WAKE, 1, NULL);
		master_spawn(&spare, sentry);
		__atomic_store_n(&pg->spare, spare.err ? 0 : spare.pid, __ATOMIC_RELEASE);
	}
fail:
	err = errno;
	syscall(SYS_exit_group, err ? err : EIO);
	__builtin_unreachable();
}

int stub_master_start(int memfd, size_t shm_size, stub_boot_fn boot,
		      const struct stub_master_rule *rules, size_t n, unsigned flags)
{
	pid_t sentry = getpid();
	int pidfd = -1, r;
	void *page;
	long pid;

	if (memfd < 0 || !boot || shm_size == 0)
		return -EINVAL;
	pthread_mutex_lock(&g_lock);
	if (g_master) {
		r = g_boot == boot ? 0 : -EBUSY;
		pthread_mutex_unlock(&g_lock);
		return r;
	}
	r = build_filter(rules, n, flags);
	if (r < 0) {
		log_error("stub master: building its filter: %s", strerror(-r));
		goto out;
	}
	page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	g_page = page;
	g_page->pidfd = g_page->shmfd = -1;
	g_page->pipe_rd = g_page->bell_wr = g_page->bell_rd = -1;
	g_flags = flags;
	g_boot = boot;
	g_shm_size = shm_size;
	g_memfd = memfd;
	/* A raw fork: no atfork handlers, no glibc lock; the child runs on a copy of this stack. */
	pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, NULL, 0);
	if (pid == 0)
		master_main(sentry);
	if (pid < 0) {
		r = -errno;
		munmap(page, PAGE_SIZE);
		g_page = NULL;
		log_error("stub master: fork: %s", strerror(-r));
		goto out;
	}
	g_master = (pid_t)pid;
	g_master_pidfd = pidfd;
	log_debug("stub master %d started", g_master);
out:
	pthread_mutex_unlock(&g_lock);
	return r;
}

/* Is the master gone? Leaves a dead one's zombie in place (WNOWAIT): its pid stays ours. */
static bool master_dead(void)
{
	siginfo_t si = {0};

	if (waitid(P_PID, (id_t)g_master, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return si.si_pid == g_master;
}

/* A copy of the master's fd n (it is the master's until its next request). */
static int fetch_fd(int n)
{
	return (int)syscall(SYS_pidfd_getfd, g_master_pidfd, n, 0);
}

int stub_master_spawn(struct stub_spawn *out)
{
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
	uint32_t req, done;
	int r = 0;

	pthread_mutex_lock(&g_lock);
	if (!g_master) {
		r = -EINVAL;
		goto out;
	}
	req = __atomic_add_fetch(&g_page->req, 1, __ATOMIC_RELEASE);
	futex(&g_page->req, FUTEX_WAKE, 1, NULL);
	while ((done = __atomic_load_n(&g_page->done, __ATOMIC_ACQUIRE)) != req) {
		futex(&g_page->done, FUTEX_WAIT, done, &tick);
		if (__atomic_load_n(&g_page->done, __ATOMIC_ACQUIRE) != req && master_dead()) {
			log_error("stub master %d is gone", g_master);
			r = -ESRCH;
			goto out;
		}
	}
	if (g_page->err) {
		r = -g_page->err;
		log_warn("stub master: new stub: %s", strerror(g_page->err));
		goto out;
	}
	*out = (struct stub_spawn){.pid = g_page->pid, .pidfd = -1, .shmfd = -1, .pipe_rd = -1,
				   .bell_wr = -1, .bell_rd = -1, .sock = -1,
				   .cookie = g_page->cookie};
	if ((out->pidfd = fetch_fd(g_page->pidfd)) < 0 ||
	    (out->shmfd = fetch_fd(g_page->shmfd)) < 0 ||
	    ((g_flags & STUB_MASTER_PIPES) && ((out->pipe_rd = fetch_fd(g_page->pipe_rd)) < 0 ||
					       (out->bell_wr = fetch_fd(g_page->bell_wr)) < 0 ||
					       (out->bell_rd = fetch_fd(g_page->bell_rd)) < 0 ||
					       (out->sock = fetch_fd(g_page->sock)) < 0))) {
		int fds[] = {out->pidfd, out->shmfd, out->pipe_rd, out->bell_wr, out->bell_rd,
			     out->sock};

		r = -errno;
		log_error("stub master: pidfd_getfd: %s", strerror(-r));
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		/* The stub waits for nothing from us yet: end it here. */
		kill(out->pid, SIGKILL);
		waitpid(out->pid, NULL, __WALL);
	}
out:
	pthread_mutex_unlock(&g_lock);
	return r;
}

pid_t stub_master_pid(void)
{
	return g_master;
}

pid_t stub_master_spare_pid(void)
{
	return g_page ? __atomic_load_n(&g_page->spare, __ATOMIC_ACQUIRE) : 0;
}
