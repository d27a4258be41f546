/* Syscall patching: the Sentry's side (syspatch.c). */
#ifndef SENTRY_KERNEL_SYSPATCH_H
#define SENTRY_KERNEL_SYSPATCH_H

#include <stdbool.h>

struct task;

/* t trapped on a syscall instruction (its registers as the platform reported them, before the
 * call runs): if the site is `mov $nr,%eax; syscall` in a private executable mapping, point it
 * at a new trampoline entry. Failures are silent (the site keeps trapping). */
void syspatch_site(struct task *t);
/* t faulted with SIGILL: was it a patched site's byte 5 (a thread that ran the old mov while
 * the site was rewritten, or a restarted call)? Then rip is set so that it goes on correctly,
 * and true is returned (no signal). */
bool syspatch_fixup(struct task *t);

#endif
