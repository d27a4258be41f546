/* The Sentry's side of the container control channel (sentry/control.h): the start gate that
 * holds a created container's init before its first instruction, and the thread that serves
 * the runtime once it runs: signals, the process list, pause/resume and exec. */
#define _GNU_SOURCE
#include "sentry/control.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/thread.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/task.h"
#include "sentry/sentry.h"

#define CONTROL_MAX_PIDS (SENTRY_CTL_MAX_PAYLOAD / sizeof(int32_t))

static int reply(int fd, int32_t result, const void *payload, uint32_t len)
{
	struct sentry_ctl_msg m = {.op = SENTRY_CTL_REPLY, .result = result};
	return ctl_send(fd, &m, payload, len, NULL, 0);
}

int control_ready(int fd, int result)
{
	struct sentry_ctl_msg m = {.op = SENTRY_CTL_READY, .result = result};
	return ctl_send(fd, &m, NULL, 0, NULL, 0);
}

int control_gate(int fd)
{
	struct sentry_ctl_msg m;
	int fds[SENTRY_CTL_MAX_FDS], nfds, r;

	for (;;) {
		r = ctl_recv(fd, &m, NULL, 0, fds, &nfds);
		ctl_close_fds(fds, nfds); /* nothing before start takes fds */
		if (r == -EPROTO) {
			reply(fd, -EINVAL, NULL, 0);
			continue;
		}
		if (r < 0)
			return r;
		switch (m.op) {
		case SENTRY_CTL_START:
			reply(fd, 0, NULL, 0);
			return 0;
		case SENTRY_CTL_PS: {
			int32_t init = 1; /* loaded, not yet running */
			reply(fd, 1, &init, sizeof(init));
			continue;
		}
		case SENTRY_CTL_SIGNAL:
			reply(fd, 0, NULL, 0);
			/* Nothing runs yet, so no handler exists: the default action decides. A
			 * stop signal has nothing to stop either. */
			if (m.sig != 0 && (signal_default_action(m.sig) == SIGDFL_TERM ||
					   signal_default_action(m.sig) == SIGDFL_CORE))
				return m.sig;
			continue;
		default:
			reply(fd, -EINVAL, NULL, 0); /* not started: nothing to pause or exec in */
		}
	}
}

/* ---- signals ---- */

struct signal_all {
	int sig;
	int sent;
};

static int signal_one_locked(struct thread_group *tg, void *arg)
{
	struct signal_all *s = arg;
	struct linux_siginfo info;

	if (tg->group_exiting || list_empty(&tg->threads))
		return 0;
	s->sent++;
	/* Linux's SIGNAL_UNKILLABLE: a pid namespace's init gets, from outside, only the signals
	 * it handles, and SIGKILL and SIGSTOP (so `kill ID TERM` of a plain `sleep` does nothing,
	 * as with runc). */
	if (s->sig && tg == g_kernel.init && s->sig != LINUX_SIGKILL && s->sig != LINUX_SIGSTOP &&
	    sig_action(tg, s->sig)->handler == LINUX_SIG_DFL)
		return 0;
	memset(&info, 0, sizeof(info));
	info.si_signo = s->sig;
	info.si_code = LINUX_SI_USER; /* from outside the sandbox: pid 0, uid 0 */
	if (s->sig)
		signal_send_group_locked(tg, &info);
	return 0;
}

/* Signal init, or every process of the sandbox. 0, or -ESRCH when nothing is left. */
static int control_signal(int sig, bool all)
{
	struct signal_all s = {.sig = sig};

	kernel_lock();
	if (all)
		tg_for_each(signal_one_locked, &s);
	else if (g_kernel.init)
		signal_one_locked(g_kernel.init, &s);
	kernel_unlock();
	return s.sent ? 0 : -ESRCH;
}

/* ---- ps ---- */

struct pid_list {
	int32_t pids[CONTROL_MAX_PIDS];
	uint32_t n;
};

static int list_one_locked(struct thread_group *tg, void *arg)
{
	struct pid_list *l = arg;

	if (tg->state == TG_ALIVE && l->n < CONTROL_MAX_PIDS)
		l->pids[l->n++] = tg->tgid;
	return 0;
}

/* ---- pause and resume: every task waits before it next enters application code ---- */

static pthread_mutex_t g_pause_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_pause_cond = PTHREAD_COND_INITIALIZER;
static atomic_bool g_paused;

void control_pause_point(struct task *t)
{
	if (!atomic_load(&g_paused))
		return;
	pthread_mutex_lock(&g_pause_lock);
	/* A SIGKILL while paused ends the task (the runtime's delete --force): look again every
	 * 100 ms rather than have every exit path wake this. */
	while (atomic_load(&g_paused) && !t->exiting && !t->tg->group_exiting) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g_pause_cond, &g_pause_lock, &ts);
	}
	pthread_mutex_unlock(&g_pause_lock);
}

static int kick_threads_locked(struct thread_group *tg, void *arg)
{
	struct list_head *pos;
	int *in_user = arg;

	list_for_each(pos, &tg->threads) {
		struct task *t = list_entry(pos, struct task, tg_link);
		if (atomic_load(&t->in_user)) {
			(*in_user)++;
			task_kick(t);
		}
	}
	return 0;
}

/* Pause: once it returns, no task runs application code until resume (tasks inside a system
 * call finish it first, then wait). */
static int control_pause(bool pause)
{
	struct timespec ts = {0, 5 * 1000 * 1000};

	pthread_mutex_lock(&g_pause_lock);
	atomic_store(&g_paused, pause);
	if (!pause)
		pthread_cond_broadcast(&g_pause_cond);
	pthread_mutex_unlock(&g_pause_lock);
	for (int i = 0; pause && i < 400; i++) {
		int in_user = 0;
		kernel_lock();
		tg_for_each(kick_threads_locked, &in_user);
		kernel_unlock();
		if (!in_user)
			return 0;
		nanosleep(&ts, NULL);
	}
	return pause ? -EBUSY : 0;
}

/* ---- exec ---- */

void control_exec_exited(int fd, int st)
{
	int32_t v = st;
	ssize_t n = send(fd, &v, sizeof(v), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n; /* the runtime's end may be gone: nothing to tell */
	close(fd);
}

/* fds: encoded process, stdin, stdout, stderr, exit socket (all taken over). */
static int control_exec(const struct sentry_config *cfg, int *fds, int nfds)
{
	struct sentry_exec e;
	int r;

	if (nfds != SENTRY_CTL_EXEC_FDS || !cfg || !cfg->exec_decode) {
		ctl_close_fds(fds, nfds);
		return -EINVAL;
	}
	memset(&e, 0, sizeof(e));
	r = cfg->exec_decode(fds[0], &e);
	close(fds[0]);
	if (r < 0) {
		ctl_close_fds(fds + 1, 4);
		return r;
	}
	r = sentry_exec_process(&e, fds + 1, fds[4]);
	cfg->exec_free(&e);
	return r;
}

/* ---- the control thread ---- */

/* Requests received and not answered yet (control_drain). */
static atomic_int g_serving;

void control_drain(void)
{
	const struct timespec ms = {.tv_nsec = 1000 * 1000};

	for (int i = 0; i < 1000 && atomic_load(&g_serving) > 0; i++)
		nanosleep(&ms, NULL);
}

struct control_thread_arg {
	int fd;
	const struct sentry_config *cfg;
};

static void *control_thread(void *p)
{
	struct control_thread_arg a = *(struct control_thread_arg *)p;
	struct sentry_ctl_msg m;
	static struct pid_list list; /* one request at a time: this thread only */
	int fds[SENTRY_CTL_MAX_FDS], nfds, r;

	free(p);
	for (;;) {
		r = ctl_recv(a.fd, &m, NULL, 0, fds, &nfds);
		if (r < 0 && r != -EPROTO)
			break;
		atomic_fetch_add(&g_serving, 1);
		if (r == 0 && m.op == SENTRY_CTL_EXEC) {
			r = control_exec(a.cfg, fds, nfds);
			nfds = 0;
		} else {
			ctl_close_fds(fds, nfds);
		}
		if (r == 0 && m.op == SENTRY_CTL_PS) {
			list.n = 0;
			kernel_lock();
			tg_for_each(list_one_locked, &list);
			kernel_unlock();
			r = reply(a.fd, (int32_t)list.n, list.pids, list.n * sizeof(int32_t));
			atomic_fetch_sub(&g_serving, 1);
			if (r < 0)
				break;
			continue;
		}
		if (r == 0) {
			switch (m.op) {
			case SENTRY_CTL_SIGNAL:
				r = control_signal(m.sig, m.flags & SENTRY_CTL_ALL);
				break;
			case SENTRY_CTL_PAUSE:
			case SENTRY_CTL_RESUME:
				r = control_pause(m.op == SENTRY_CTL_PAUSE);
				break;
			case SENTRY_CTL_EXEC:
				break; /* done above */
			default:
				r = -EINVAL;
			}
		}
		r = reply(a.fd, r == -EPROTO ? -EINVAL : r, NULL, 0);
		atomic_fetch_sub(&g_serving, 1);
		if (r < 0)
			break;
	}
	close(a.fd);
	return NULL;
}

int control_serve(int fd, const struct sentry_config *cfg)
{
	struct control_thread_arg *a = malloc(sizeof(*a));
	int r;

	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	*a = (struct control_thread_arg){fd, cfg};
	r = thread_start_detached(NULL, control_thread, a, 0, false);
	if (r < 0) {
		free(a);
		close(fd);
		return r;
	}
	return 0;
}
