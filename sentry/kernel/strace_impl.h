/* Internals shared by strace.c (lines, layout, results) and strace_args.c (one argument each). */
#ifndef SENTRY_KERNEL_STRACE_IMPL_H
#define SENTRY_KERNEL_STRACE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/syscalls.h"

struct task;

/* Printing-only kinds beyond enum abi_arg_kind, for the layouts strace.c builds by hand. */
enum {
	STRACE_KIND_FUTEX_BITSET = ABI_ARG_KIND_MAX, /* FUTEX_BITSET_MATCH_ANY or hex */
};

/* Is ret a failure (-4095..-1)? */
static inline bool strace_is_err(long ret) { return ret < 0 && ret >= -LINUX_MAX_ERRNO; }

/* What an argument printer may look at. */
struct strace_call {
	struct task *t;
	long nr;
	const uint64_t *args; /* the six argument registers */
	bool done;	      /* printing after the call: ret is valid */
	long ret;
};

/* Is argument i of this kind filled in by the call, so printed only after it? */
bool strace_arg_is_out(int kind, const struct strace_call *c, int i);
/* Append argument i printed as kind (enum abi_arg_kind). An _OUT kind printed before the call or
 * after a failed one prints its address. */
void strace_put_arg(struct abi_out *o, const struct strace_call *c, int i, int kind);
/* Append a guest address: NULL or 0x.... */
void strace_put_ptr(struct abi_out *o, uint64_t addr);
/* Append a struct timespec read from addr: {tv_sec=1, tv_nsec=0}, NULL, or the address. */
void strace_put_timespec(struct abi_out *o, const struct strace_call *c, uint64_t addr);

#endif
