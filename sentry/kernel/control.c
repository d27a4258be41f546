/* The Sentry's side of the container control channel (sentry/control.h): the start gate that
 * holds a created container's init before its first instruction, and the thread that delivers
 * the runtime's signals once it runs. */
#define _GNU_SOURCE
#include "sentry/control.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/log.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/signal_impl.h"
#include "sentry/kernel/task.h"

static int ctl_send(int fd, uint32_t op, int32_t result)
{
	struct sentry_ctl_msg m = {.op = op, .result = result};
	ssize_t n;

	while ((n = send(fd, &m, sizeof(m), MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(m) ? 0 : n < 0 ? -errno : -EPIPE;
}

/* The next well-formed request; -EPIPE at end of channel, -EINVAL for a malformed one. */
static int ctl_recv(int fd, struct sentry_ctl_msg *m)
{
	ssize_t n;

	while ((n = recv(fd, m, sizeof(*m), 0)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(*m) || m->sig < 0 || m->sig > LINUX_NSIG ||
	    (m->flags & ~SENTRY_CTL_ALL))
		return -EINVAL;
	return 0;
}

int control_ready(int fd, int result)
{
	return ctl_send(fd, SENTRY_CTL_READY, result);
}

int control_gate(int fd)
{
	struct sentry_ctl_msg m;
	int r;

	for (;;) {
		if ((r = ctl_recv(fd, &m)) == -EINVAL) {
			ctl_send(fd, SENTRY_CTL_REPLY, -EINVAL);
			continue;
		}
		if (r < 0)
			return r;
		if (m.op == SENTRY_CTL_START) {
			ctl_send(fd, SENTRY_CTL_REPLY, 0);
			return 0;
		}
		if (m.op != SENTRY_CTL_SIGNAL) {
			ctl_send(fd, SENTRY_CTL_REPLY, -EINVAL);
			continue;
		}
		ctl_send(fd, SENTRY_CTL_REPLY, 0);
		/* Nothing runs yet, so no handler exists: the default action decides. A stop
		 * signal has nothing to stop either. */
		if (m.sig != 0 && (signal_default_action(m.sig) == SIGDFL_TERM ||
				   signal_default_action(m.sig) == SIGDFL_CORE))
			return m.sig;
	}
}

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

static void *control_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct sentry_ctl_msg m;
	int r;

	for (;;) {
		r = ctl_recv(fd, &m);
		if (r == -EPIPE || (r < 0 && r != -EINVAL))
			break;
		if (r == 0 && m.op == SENTRY_CTL_SIGNAL)
			r = control_signal(m.sig, m.flags & SENTRY_CTL_ALL);
		else if (r == 0)
			r = -EINVAL;
		if (ctl_send(fd, SENTRY_CTL_REPLY, r) < 0)
			break;
	}
	close(fd);
	return NULL;
}

int control_serve(int fd)
{
	pthread_attr_t attr;
	pthread_t th;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, control_thread, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	if (r) {
		close(fd);
		return -r;
	}
	return 0;
}
