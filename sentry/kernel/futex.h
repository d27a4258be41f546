/* Futexes: wait and wake on a word of application memory. */
#ifndef SENTRY_KERNEL_FUTEX_H
#define SENTRY_KERNEL_FUTEX_H

#include <stdint.h>

struct mm;

/* Wake up to n waiters on the futex word at addr of mm. Returns how many were woken. */
int futex_wake_addr(struct mm *mm, uint64_t addr, int n);

struct task;
/* The robust futex list (set_robust_list) of a thread that exits or execs, in mm (the address
 * space it is leaving), as Linux's exit_robust_list: every lock the thread still holds is
 * marked FUTEX_OWNER_DIED and one waiter of each is woken. Forgets the list. */
void futex_release_robust_list(struct task *t, struct mm *mm);

#endif
