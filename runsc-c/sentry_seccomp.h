/* The Sentry's seccomp allowlist: the only host system calls a confined Sentry may make. */
#ifndef RUNSC_C_SENTRY_SECCOMP_H
#define RUNSC_C_SENTRY_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <seccomp.h>

/* One rule. Several rules for one syscall are alternatives (any may match). */
struct sentry_seccomp_rule {
	const char *name;     /* syscall name as libseccomp knows it */
	int arg;	      /* argument checked, or -1 for none */
	enum scmp_compare op; /* SCMP_CMP_EQ, or SCMP_CMP_MASKED_EQ (mask a, value b) */
	uint64_t a, b;
	const char *cond; /* the condition, for people */
	int err;	  /* 0: allow; otherwise fail the call with this errno */
	const char *why;  /* why the Sentry needs it */
};

extern const struct sentry_seccomp_rule sentry_seccomp_rules[];
extern const size_t sentry_seccomp_nrules;

/* How many distinct syscalls the list allows (rules answering an errno are not counted). */
size_t sentry_seccomp_count(void);

/* A filter context holding the allowlist, not loaded. default_action (SCMP_ACT_TRAP when
 * installed, see sentry_seccomp.c) also answers calls of another architecture. Returns NULL with
 * errno set on failure; release with seccomp_release(). */
scmp_filter_ctx sentry_seccomp_build(uint32_t default_action);

/* The allowlist's program as compiled at build time, *len instructions (sentry_seccomp_load.c). */
struct sock_filter;
const struct sock_filter *sentry_seccomp_program(size_t *len);

/* Load the allowlist into the calling process (all threads). With debug, a blocked call is
 * reported by name on log_fd() before the process dies of SIGSYS. Sets NO_NEW_PRIVS.
 * Returns 0 or -errno. */
int sentry_seccomp_install(bool debug);

/* Print the allowlist, its count and each reason to f (for `runsc-c debug seccomp` and docs). */
void sentry_seccomp_print(FILE *f);

#endif
