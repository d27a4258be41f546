/* The control channel between a container's supervisor (runsc-c/oci_supervise.c, on the host)
 * and its Sentry: one datagram per message over a SOCK_SEQPACKET socketpair made before the
 * Sentry starts, so the Sentry needs no accept, bind or connect in its seccomp allowlist. The
 * supervisor relays the same messages between its ctl.sock and this channel.
 *
 * A message is a struct sentry_ctl_msg, then len bytes of payload, and up to
 * SENTRY_CTL_MAX_FDS host fds (SCM_RIGHTS). The Sentry sends READY once the init process is
 * loaded (result 0) or could not be (-errno), then waits, before running any application code,
 * for START (run init) or SIGNAL (a kill of a created container). After START a Sentry thread
 * answers every request with one REPLY. Everything read from the channel is checked as
 * untrusted input on both sides.
 */
#ifndef SENTRY_CONTROL_H
#define SENTRY_CONTROL_H

#include <stdint.h>

enum sentry_ctl_op {
	SENTRY_CTL_READY = 1, /* Sentry -> supervisor: result = 0 or -errno of loading init */
	SENTRY_CTL_START,     /* run init */
	SENTRY_CTL_SIGNAL,    /* signal sig to init (flags: SENTRY_CTL_ALL: every process) */
	SENTRY_CTL_REPLY,     /* Sentry -> caller: result = 0, a pid, or -errno of the request */
	SENTRY_CTL_PS,	      /* REPLY: result = count, payload = int32 sandbox pids */
	SENTRY_CTL_PAUSE,     /* stop every task before its next application instruction */
	SENTRY_CTL_RESUME,    /* let them go on */
	SENTRY_CTL_EXEC,      /* start a process: fds = encoded process (a memfd), stdin, stdout,
			       * stderr, exit socket (gets the int wait status when it exits);
			       * REPLY result = its pid */
};

#define SENTRY_CTL_ALL 1u /* SIGNAL: every process of the container, not only init */
#define SENTRY_CTL_MAX_PAYLOAD 65536u
#define SENTRY_CTL_MAX_FDS 5
#define SENTRY_CTL_EXEC_FDS 5

struct sentry_ctl_msg {
	uint32_t op;	/* enum sentry_ctl_op */
	int32_t result; /* READY, REPLY */
	int32_t sig;	/* SIGNAL: 0..64 */
	uint32_t flags; /* SIGNAL: SENTRY_CTL_ALL */
	uint32_t len;	/* payload bytes after the header */
	uint32_t zero;
};

/* Send hdr (hdr->len set from len), len bytes of payload and nfds fds as one datagram.
 * 0 or -errno. */
int ctl_send(int fd, struct sentry_ctl_msg *hdr, const void *payload, uint32_t len,
	     const int *fds, int nfds);
/* Receive one datagram: the header into hdr, the payload into payload (room for cap bytes),
 * fds into fds (room for SENTRY_CTL_MAX_FDS, *nfds set; all closed on error). 0, -EPIPE at end
 * of channel, -EPROTO for a malformed message (its fds closed), or -errno. */
int ctl_recv(int fd, struct sentry_ctl_msg *hdr, void *payload, uint32_t cap, int *fds,
	     int *nfds);
void ctl_close_fds(int *fds, int nfds);

/* ---- in the Sentry (sentry/kernel/control.c) ---- */
struct task;

/* Tell the supervisor the result of loading init (0 or -errno). Returns 0 or -errno. */
int control_ready(int fd, int result);
/* Wait for START (returns 0) or a SIGNAL whose default action ends init (returns the signal
 * number, > 0: init is to end as killed by it without running). -EPIPE when the supervisor is
 * gone. Signals init's default action ignores are answered and dropped. */
int control_gate(int fd);
/* Serve requests on fd from a Sentry thread of its own, until the channel closes. Takes
 * ownership of fd; cfg (for exec's decoder) must outlive the Sentry. 0 or -errno. */
struct sentry_config;
int control_serve(int fd, const struct sentry_config *cfg);
/* Before the Sentry exits: wait (up to a second) until a request being served has been
 * answered. A SIGNAL that kills init ends the sandbox, which must not end before its reply is
 * sent: the runtime's kill would say "not running". */
void control_drain(void);
/* Called by each task before it returns to application code: waits while the container is
 * paused (or until the task must leave). */
void control_pause_point(struct task *t);
/* An exec'd process has exited with wait status st: tell its exit socket (and close it).
 * g_kernel.lock held; never blocks. */
void control_exec_exited(int fd, int st);

#endif
