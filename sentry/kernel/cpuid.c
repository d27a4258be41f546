/* The application's cpuid (cpuid.h). */
#include "sentry/kernel/cpuid.h"

#include <cpuid.h>
#include <stdint.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

void cpuid_window_open(struct task *t)
{
	if (!t->ctx || !t->plat->ctx_cpuid_learn)
		return;
	int r = t->plat->ctx_cpuid_learn(t->ctx, true, NULL, NULL);
	if (r < 0) {
		log_debug("task %d: cpuid learning: %d", t->tid, r);
		return;
	}
	t->cpuid_window = true;
}

void cpuid_syscall(struct task *t, unsigned long nr)
{
	uint64_t sites[PLAT_CPUID_NOTES_MAX];
	size_t n = PLAT_CPUID_NOTES_MAX;

	if (nr == LINUX_SYS_brk || nr == LINUX_SYS_arch_prctl)
		return;
	t->cpuid_window = false;
	if (t->plat->ctx_cpuid_learn(t->ctx, false, sites, &n) < 0)
		n = 0;
	mm_cpuid_learned(t->mm, t->cpuid_entry, sites, n);
}

/* What the CPU answers, the high halves zeroed as cpuid does. */
static void answer(struct task *t, uint64_t next_rip)
{
	struct linux_regs *r = &t->regs.regs;
	unsigned a, b, c, d;

	__cpuid_count((unsigned)r->rax, (unsigned)r->rcx, a, b, c, d);
	r->rax = a;
	r->rbx = b;
	r->rcx = c;
	r->rdx = d;
	r->rip = next_rip;
}

bool cpuid_fault(struct task *t, const struct plat_event *ev)
{
	uint64_t rip = t->regs.regs.rip;
	uint8_t b[2];

	if (ev->si_code != LINUX_SI_KERNEL)
		return false;
	if (ev->signo == LINUX_SIGTRAP) {
		/* an int3 leaves rip past it: on the a2 byte of a rewritten cpuid */
		if (!mm_cpuid_site(t->mm, rip - 1))
			return false;
		answer(t, rip + 1);
		return true;
	}
	/* A general protection fault at a cpuid: only cpuid faulting makes one, which only a
	 * learning window turns on (the emulated kernel has none: ARCH_GET_CPUID says 1); the
	 * platform noted its site before it reported it. */
	if (ev->signo != LINUX_SIGSEGV || copy_in(t->mm, b, rip, 2) < 0 || b[0] != 0x0f ||
	    b[1] != 0xa2)
		return false;
	answer(t, rip + 2);
	return true;
}
