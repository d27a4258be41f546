/* The Sentry's seccomp filter loaded: the program libseccomp compiled from the allowlist
 * (sentry_seccomp.c) at build time (tools/sentry_bpf.c writes build/gen/sentry_bpf.h), so that
 * the Sentry's boot does not spend ~0.35 ms compiling it (libseccomp's first use, on the
 * start-up's critical path). tests/unit/test_cli.c checks that it is what libseccomp builds. */
#define _GNU_SOURCE
#include "runsc-c/sentry_seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry_bpf.h"

const struct sock_filter *sentry_seccomp_program(size_t *len)
{
	*len = ARRAY_SIZE(sentry_bpf);
	return sentry_bpf;
}

/* ---- debug mode: name the blocked syscall before dying ---- */

#define DEBUG_NAMES 512
static char debug_names[DEBUG_NAMES][32];

/* Resolve every syscall name now: the SIGSYS handler may not allocate. */
static void debug_names_init(void)
{
	for (int nr = 0; nr < DEBUG_NAMES; nr++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (n) {
			snprintf(debug_names[nr], sizeof(debug_names[nr]), "%s", n);
			free(n);
		}
	}
}

static void put_str(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len < cap)
		buf[(*len)++] = *s++;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[160], num[24];
	size_t len = 0, nl = 0;
	int nr = si->si_syscall;
	unsigned v = nr < 0 ? 0 : (unsigned)nr;

	do
		num[nl++] = (char)('0' + v % 10);
	while ((v /= 10) && nl < sizeof(num));
	put_str(buf, &len, sizeof(buf), "runsc-c: sentry: seccomp blocked host syscall ");
	put_str(buf, &len, sizeof(buf),
		nr >= 0 && nr < DEBUG_NAMES && debug_names[nr][0] ? debug_names[nr] : "?");
	put_str(buf, &len, sizeof(buf), " (");
	while (nl && len < sizeof(buf))
		buf[len++] = num[--nl];
	put_str(buf, &len, sizeof(buf), ")\n");
	ssize_t r = write(log_fd(), buf, len);
	(void)r;
	/* The Sentry is pid 1 of its namespace and cannot kill itself with a signal it does not
	 * handle: exit with the status a shell gives a SIGSYS death, which the CLI recognises. */
	_exit(128 + SIGSYS);
}

int sentry_seccomp_install(bool debug)
{
	int r;

	if (debug) {
		struct sigaction sa = {.sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO};
		debug_names_init();
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			return -errno;
	}
	/* What libseccomp's load does with the filter's attributes: NO_NEW_PRIVS, and every
	 * thread (TSYNC; none is expected). */
	size_t len;
	const struct sock_filter *program = sentry_seccomp_program(&len);
	struct sock_fprog prog = {.len = (unsigned short)len, .filter = (struct sock_filter *)program};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r < 0)
		return -errno;
	return r > 0 ? -EBUSY : 0; /* a thread that could not take it */
}
