/* Pending-signal sets and queues, default actions and the restart rules: pure data, no locks
 * (callers hold g_kernel.lock). Linux: kernel/signal.c (__send_signal_locked's queueing,
 * next_signal, collect_signal) and arch/x86/kernel/signal.c (restart). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "common/list.h"
#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* Entries queued in every pending set of the sandbox: Linux counts them per user against
 * RLIMIT_SIGPENDING; the sandbox counts them all together (it has one user in practice). */
static uint64_t g_queued;

enum sig_default signal_default_action(int sig)
{
	switch (sig) {
	case LINUX_SIGCHLD:
	case LINUX_SIGCONT:
	case LINUX_SIGURG:
	case LINUX_SIGWINCH:
		return SIGDFL_IGNORE;
	case LINUX_SIGSTOP:
	case LINUX_SIGTSTP:
	case LINUX_SIGTTIN:
	case LINUX_SIGTTOU:
		return SIGDFL_STOP;
	case LINUX_SIGQUIT:
	case LINUX_SIGILL:
	case LINUX_SIGTRAP:
	case LINUX_SIGABRT:
	case LINUX_SIGBUS:
	case LINUX_SIGFPE:
	case LINUX_SIGSEGV:
	case LINUX_SIGXCPU:
	case LINUX_SIGXFSZ:
	case LINUX_SIGSYS:
		return SIGDFL_CORE;
	default:
		return SIGDFL_TERM; /* the rest, real-time signals included */
	}
}

void sigpending_init(struct sigpending *p)
{
	p->set = 0;
	list_init(&p->queue);
}

void sigpending_clear(struct sigpending *p)
{
	sigpending_flush(p, ~0ULL);
}

uint64_t sigpending_queued(void)
{
	return g_queued;
}

int sigpending_enqueue(struct sigpending *p, const struct linux_siginfo *info, bool override,
		       uint64_t limit)
{
	int sig = info->si_signo;
	struct sigqueue *q;

	if (sig < LINUX_SIGRTMIN && (p->set & SIGBIT(sig)))
		return 0; /* standard signals do not queue: Linux's legacy_queue */
	if (!override && g_queued >= limit)
		return -EAGAIN;
	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->info = *info;
	list_add_tail(&q->link, &p->queue);
	p->set |= SIGBIT(sig);
	g_queued++;
	return 0;
}

int signal_next(uint64_t pending)
{
	if (!pending)
		return 0;
	if (pending & SIG_SYNCHRONOUS)
		pending &= SIG_SYNCHRONOUS;
	return __builtin_ctzll(pending) + 1;
}

int sigpending_dequeue(struct sigpending *p, uint64_t allowed, struct linux_siginfo *info)
{
	int sig = signal_next(p->set & allowed);
	struct list_head *pos;
	struct sigqueue *found = NULL;
	bool more = false;

	if (!sig)
		return 0;
	/* collect_signal: the first entry of sig goes; the bit stays while another remains */
	list_for_each(pos, &p->queue) {
		struct sigqueue *q = list_entry(pos, struct sigqueue, link);
		if (q->info.si_signo != sig)
			continue;
		if (found) {
			more = true;
			break;
		}
		found = q;
	}
	if (!more)
		p->set &= ~SIGBIT(sig);
	if (found) {
		*info = found->info;
		list_del(&found->link);
		free(found);
		g_queued--;
	} else {
		/* a bit without an entry (never made by this file): Linux's "lost info" case */
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = LINUX_SI_USER;
	}
	return sig;
}

void sigpending_flush(struct sigpending *p, uint64_t mask)
{
	struct list_head *pos, *n;

	if (!(p->set & mask))
		return;
	list_for_each_safe(pos, n, &p->queue) {
		struct sigqueue *q = list_entry(pos, struct sigqueue, link);
		if (!(SIGBIT(q->info.si_signo) & mask))
			continue;
		list_del(&q->link);
		free(q);
		g_queued--;
	}
	p->set &= ~mask;
}

enum sig_restart signal_restart_rule(long rax, bool handler, uint64_t sa_flags)
{
	switch (rax) {
	case -LINUX_ERESTART_RESTARTBLOCK:
		return handler ? SIG_RESTART_EINTR : SIG_RESTART_BLOCK;
	case -LINUX_ERESTARTNOHAND:
		return handler ? SIG_RESTART_EINTR : SIG_RESTART_SYSCALL;
	case -LINUX_ERESTARTSYS:
		if (handler && !(sa_flags & LINUX_SA_RESTART))
			return SIG_RESTART_EINTR;
		return SIG_RESTART_SYSCALL;
	case -LINUX_ERESTARTNOINTR:
		return SIG_RESTART_SYSCALL;
	default:
		return SIG_RESTART_NONE;
	}
}
