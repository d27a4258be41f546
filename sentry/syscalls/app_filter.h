/* The application's seccomp profile (OCI linux.seccomp) as the dispatcher applies it. */
#ifndef SENTRY_SYSCALLS_APP_FILTER_H
#define SENTRY_SYSCALLS_APP_FILTER_H

#include <stdbool.h>

#include "sentry/sentry.h"
#include "sentry/syscalls/syscalls.h"

/* Compile f (NULL: no profile) for every later call; once, at boot, before the application
 * runs. f is copied. 0, -EINVAL (f not sentry_seccomp_valid) or -ENOMEM. */
int app_filter_install(const struct sentry_seccomp *f);
/* Apply the profile to t's call a: false when the call goes on to its handler; true when the
 * profile decided, with the value for rax in *ret (-errno; for TRAP and KILL the call's number,
 * as Linux rolls rax back, and a SIGSYS forced on t, fatal for KILL). */
bool app_filter_check(struct task *t, const struct syscall_args *a, long *ret);

#endif
