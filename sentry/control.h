/* The control channel between a container's supervisor (runsc-c/oci_supervise.c, on the host)
 * and its Sentry: fixed-size messages over a SOCK_SEQPACKET socketpair made before the Sentry
 * starts, so the Sentry needs no accept, bind or connect in its seccomp allowlist.
 *
 * The Sentry sends READY once the init process is loaded (result 0) or could not be (-errno),
 * then waits, before running any application code, for START (run init) or SIGNAL (a kill of
 * a created container). After START a Sentry thread answers SIGNAL requests with REPLY.
 * Everything read from the channel is checked as untrusted input on both sides.
 */
#ifndef SENTRY_CONTROL_H
#define SENTRY_CONTROL_H

#include <stdint.h>

enum sentry_ctl_op {
	SENTRY_CTL_READY = 1, /* Sentry -> supervisor: result = 0 or -errno of loading init */
	SENTRY_CTL_START,     /* supervisor -> Sentry: run init */
	SENTRY_CTL_SIGNAL,    /* supervisor -> Sentry: signal sig to init (flags: SENTRY_CTL_ALL) */
	SENTRY_CTL_REPLY,     /* Sentry -> supervisor: result = 0 or -errno of the request */
};

#define SENTRY_CTL_ALL 1u /* SIGNAL: every process of the container, not only init */

struct sentry_ctl_msg {
	uint32_t op;	/* enum sentry_ctl_op */
	int32_t result; /* READY, REPLY */
	int32_t sig;	/* SIGNAL: 0..64 */
	uint32_t flags; /* SIGNAL: SENTRY_CTL_ALL */
};

/* In the Sentry (sentry/kernel/control.c). */
struct task;

/* Tell the supervisor the result of loading init (0 or -errno). Returns 0 or -errno. */
int control_ready(int fd, int result);
/* Wait for START (returns 0) or a SIGNAL whose default action ends init (returns the signal
 * number, > 0: init is to end as killed by it without running). -EPIPE when the supervisor is
 * gone. Signals init's default action ignores are answered and dropped. */
int control_gate(int fd);
/* Serve SIGNAL requests on fd from a Sentry thread of its own, until the channel closes.
 * Takes ownership of fd. 0 or -errno. */
int control_serve(int fd);

#endif
