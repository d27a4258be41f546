/* Unit tests for the ptrace platform: the cases every platform passes (platform_cases.h). */
#define _GNU_SOURCE
#include <sys/types.h>

#include "platform/platform.h"

pid_t plat_ptrace_as_pid(const struct plat_as *as);
pid_t plat_ptrace_ctx_tid(const struct plat_ctx *ctx);

#define PT_PLATFORM "ptrace"
#define PT_AS_PID(as) plat_ptrace_as_pid(as)
#define PT_CTX_TID(ctx) plat_ptrace_ctx_tid(ctx)
#define PT_STUB_FDS 1
#define PT_EXTRA_THREADS 0
#define PT_STRICT_AS_OPS 1
#define PT_DEFERRED_AS_OPS 0
#define PT_SUITE platform_ptrace

#include "tests/unit/platform_cases.h"
