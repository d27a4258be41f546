/* Futexes: wait and wake on a word of application memory. */
#ifndef SENTRY_KERNEL_FUTEX_H
#define SENTRY_KERNEL_FUTEX_H

#include <stdint.h>

struct mm;

/* Wake up to n waiters on the futex word at addr of mm. Returns how many were woken. */
int futex_wake_addr(struct mm *mm, uint64_t addr, int n);

#endif
