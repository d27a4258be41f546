/* Unit tests for the pure parts of signals: the frame layout (against glibc's ucontext_t), where
 * a frame goes on the stack, pending-queue rules, dequeue order, restart rules, default actions. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ucontext.h>

#include "abi/errno.h"
#include "abi/linux.h"
#include "sentry/kernel/sigframe.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* ---- frame layout ---- */

Test(frame, sizes)
{
	cr_expect_eq(sizeof(struct linux_sigcontext), 256);
	cr_expect_eq(sizeof(struct linux_ucontext), 304);
	cr_expect_eq(sizeof(struct linux_rt_sigframe), 440);
	cr_expect_eq(offsetof(struct linux_rt_sigframe, info), 312);
	cr_expect_eq(sizeof(struct linux_siginfo), sizeof(siginfo_t));
	cr_expect_eq(sizeof(struct linux_stack), sizeof(stack_t));
}

/* glibc's ucontext_t starts with the kernel's struct ucontext: the same offsets. */
Test(frame, matches_glibc_ucontext)
{
	const size_t mc = offsetof(struct linux_ucontext, uc_mcontext);
	static const struct {
		int greg;
		size_t off;
		const char *name;
	} regs[] = {
		{REG_R8, offsetof(struct linux_sigcontext, r8), "r8"},
		{REG_R15, offsetof(struct linux_sigcontext, r15), "r15"},
		{REG_RDI, offsetof(struct linux_sigcontext, rdi), "rdi"},
		{REG_RSI, offsetof(struct linux_sigcontext, rsi), "rsi"},
		{REG_RBP, offsetof(struct linux_sigcontext, rbp), "rbp"},
		{REG_RBX, offsetof(struct linux_sigcontext, rbx), "rbx"},
		{REG_RDX, offsetof(struct linux_sigcontext, rdx), "rdx"},
		{REG_RAX, offsetof(struct linux_sigcontext, rax), "rax"},
		{REG_RCX, offsetof(struct linux_sigcontext, rcx), "rcx"},
		{REG_RSP, offsetof(struct linux_sigcontext, rsp), "rsp"},
		{REG_RIP, offsetof(struct linux_sigcontext, rip), "rip"},
		{REG_EFL, offsetof(struct linux_sigcontext, eflags), "eflags"},
		{REG_CSGSFS, offsetof(struct linux_sigcontext, cs), "cs"},
		{REG_ERR, offsetof(struct linux_sigcontext, err), "err"},
		{REG_TRAPNO, offsetof(struct linux_sigcontext, trapno), "trapno"},
		{REG_OLDMASK, offsetof(struct linux_sigcontext, oldmask), "oldmask"},
		{REG_CR2, offsetof(struct linux_sigcontext, cr2), "cr2"},
	};

	cr_expect_eq(offsetof(ucontext_t, uc_flags), offsetof(struct linux_ucontext, uc_flags));
	cr_expect_eq(offsetof(ucontext_t, uc_link), offsetof(struct linux_ucontext, uc_link));
	cr_expect_eq(offsetof(ucontext_t, uc_stack), offsetof(struct linux_ucontext, uc_stack));
	cr_expect_eq(offsetof(ucontext_t, uc_mcontext), mc);
	cr_expect_eq(offsetof(ucontext_t, uc_sigmask), offsetof(struct linux_ucontext, uc_sigmask));
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		cr_expect_eq(offsetof(ucontext_t, uc_mcontext.gregs[regs[i].greg]), mc + regs[i].off,
			     "%s", regs[i].name);
	cr_expect_eq(offsetof(ucontext_t, uc_mcontext.fpregs),
		     mc + offsetof(struct linux_sigcontext, fpstate));
	cr_expect_eq(offsetof(siginfo_t, si_addr), offsetof(struct linux_siginfo, fault.addr));
	cr_expect_eq(offsetof(siginfo_t, si_pid), offsetof(struct linux_siginfo, kill.pid));
	cr_expect_eq(offsetof(siginfo_t, si_uid), offsetof(struct linux_siginfo, kill.uid));
	cr_expect_eq(offsetof(siginfo_t, si_status), offsetof(struct linux_siginfo, chld.status));
	cr_expect_eq(offsetof(siginfo_t, si_value), offsetof(struct linux_siginfo, kill.value));
}

/* ---- where the frame goes ---- */

static const struct linux_stack no_altstack = {.ss_flags = LINUX_SS_DISABLE};

Test(place, normal_stack)
{
	const uint64_t sp = 0x7ffffffde123, math = 2816 + 4;
	uint64_t fp, frame = sigframe_place(sp, false, &no_altstack, math, &fp);

	cr_assert_neq(frame, 0);
	cr_expect_eq(fp % 64, 0);
	cr_expect_leq(fp + math, sp - 128, "red zone kept");
	cr_expect_gt(fp + math + 64, sp - 128, "no more than alignment skipped");
	cr_expect_eq(frame % 16, 8, "rsp %% 16 == 8 at handler entry");
	cr_expect_leq(frame + sizeof(struct linux_rt_sigframe), fp);
	/* what Linux gives: fp 64-aligned, the frame 456 bytes below it */
	cr_expect_eq(fp - frame, 456);
	/* SA_ONSTACK without an alternate stack: the normal stack */
	uint64_t fp2;
	cr_expect_eq(sigframe_place(sp, true, &no_altstack, math, &fp2), frame);
}

Test(place, enters_altstack)
{
	struct linux_stack ss = {.ss_sp = 0x100000, .ss_size = 0x4000};
	uint64_t fp, frame = sigframe_place(0x7ffffffde000, true, &ss, 2820, &fp);

	cr_assert_neq(frame, 0);
	cr_expect(frame > ss.ss_sp && fp + 2820 <= ss.ss_sp + ss.ss_size);
	cr_expect_eq(fp, (ss.ss_sp + ss.ss_size - 2820) & ~63ULL, "no red zone at the top");
	/* without SA_ONSTACK the alternate stack is not used */
	cr_expect_gt(sigframe_place(0x7ffffffde000, false, &ss, 2820, &fp), ss.ss_sp + ss.ss_size);
}

Test(place, nested_on_altstack)
{
	struct linux_stack ss = {.ss_sp = 0x100000, .ss_size = 0x4000};
	uint64_t sp = 0x103000, fp, frame = sigframe_place(sp, true, &ss, 512, &fp);

	cr_assert_neq(frame, 0);
	cr_expect_lt(fp + 512, sp - 128 + 64, "below the interrupted frame");
	cr_expect_gt(frame, ss.ss_sp);
	/* nested and out of room: Linux refuses (SIGSEGV) */
	cr_expect_eq(sigframe_place(0x100400, true, &ss, 2820, &fp), 0);
	/* with SS_AUTODISARM the stack is never "in use": start again at its top */
	ss.ss_flags = (int32_t)LINUX_SS_AUTODISARM;
	frame = sigframe_place(sp, true, &ss, 512, &fp);
	cr_expect_eq(fp, (ss.ss_sp + ss.ss_size - 512) & ~63ULL);
}

Test(place, too_small_altstack)
{
	struct linux_stack ss = {.ss_sp = 0x100000, .ss_size = 2048};
	uint64_t fp;

	cr_expect_eq(sigframe_place(0x7ffffffde000, true, &ss, 2820, &fp), 0);
}

Test(place, altstack_flags)
{
	struct linux_stack ss = {.ss_sp = 0x100000, .ss_size = 0x4000};

	cr_expect_eq(sigstack_flags(&no_altstack, 0x100100), LINUX_SS_DISABLE);
	cr_expect_eq(sigstack_flags(&ss, 0x100100), LINUX_SS_ONSTACK);
	cr_expect_eq(sigstack_flags(&ss, 0x104000), LINUX_SS_ONSTACK, "top is inside");
	cr_expect_eq(sigstack_flags(&ss, 0x100000), 0, "bottom is outside");
	cr_expect_eq(sigstack_flags(&ss, 0x200000), 0);
}

/* ---- pending queues ---- */

static struct linux_siginfo mkinfo(int sig, int code, uint64_t value)
{
	struct linux_siginfo i;

	memset(&i, 0, sizeof(i));
	i.si_signo = sig;
	i.si_code = code;
	i.kill.value = value;
	return i;
}

Test(pending, standard_signals_coalesce)
{
	struct sigpending p;
	struct linux_siginfo in = mkinfo(LINUX_SIGUSR1, LINUX_SI_QUEUE, 1), out;
	uint64_t before = sigpending_queued();

	sigpending_init(&p);
	cr_expect_eq(sigpending_enqueue(&p, &in, false, 100), 0);
	in.kill.value = 2;
	cr_expect_eq(sigpending_enqueue(&p, &in, false, 100), 0);
	cr_expect_eq(sigpending_queued(), before + 1, "the second is dropped");
	cr_expect_eq(p.set, SIGBIT(LINUX_SIGUSR1));
	cr_expect_eq(sigpending_dequeue(&p, ~0ULL, &out), LINUX_SIGUSR1);
	cr_expect_eq(out.kill.value, 1, "the first one's info");
	cr_expect_eq(p.set, 0);
	cr_expect_eq(sigpending_dequeue(&p, ~0ULL, &out), 0);
	cr_expect_eq(sigpending_queued(), before);
}

Test(pending, realtime_signals_queue_in_order)
{
	struct sigpending p;
	struct linux_siginfo out;
	const int rt = LINUX_SIGRTMIN + 2;

	sigpending_init(&p);
	for (uint64_t v = 1; v <= 3; v++) {
		struct linux_siginfo in = mkinfo(rt, LINUX_SI_QUEUE, v);
		cr_expect_eq(sigpending_enqueue(&p, &in, false, 100), 0);
	}
	for (uint64_t v = 1; v <= 3; v++) {
		cr_expect(p.set & SIGBIT(rt), "still pending before #%lu", (unsigned long)v);
		cr_expect_eq(sigpending_dequeue(&p, ~0ULL, &out), rt);
		cr_expect_eq(out.kill.value, v);
	}
	cr_expect_eq(p.set, 0);
}

Test(pending, rlimit_sigpending)
{
	struct sigpending p;
	const int rt = LINUX_SIGRTMIN;
	uint64_t base = sigpending_queued();

	sigpending_init(&p);
	for (int i = 0; i < 2; i++) {
		struct linux_siginfo in = mkinfo(rt, LINUX_SI_QUEUE, i);
		cr_expect_eq(sigpending_enqueue(&p, &in, false, base + 2), 0);
	}
	struct linux_siginfo in = mkinfo(rt, LINUX_SI_QUEUE, 9);
	cr_expect_eq(sigpending_enqueue(&p, &in, false, base + 2), -EAGAIN);
	cr_expect_eq(sigpending_enqueue(&p, &in, true, base + 2), 0, "override_rlimit");
	cr_expect_eq(sigpending_queued(), base + 3);
	sigpending_clear(&p);
	cr_expect_eq(sigpending_queued(), base);
	cr_expect_eq(p.set, 0);
}

Test(pending, dequeue_order)
{
	struct sigpending p;
	struct linux_siginfo out;
	const int sigs[] = {LINUX_SIGRTMIN + 1, LINUX_SIGTERM, LINUX_SIGHUP, LINUX_SIGSEGV,
			    LINUX_SIGUSR1, LINUX_SIGTRAP};
	/* synchronous first (lowest first among them), then the lowest number */
	const int want[] = {LINUX_SIGTRAP, LINUX_SIGSEGV, LINUX_SIGHUP, LINUX_SIGUSR1,
			    LINUX_SIGTERM, LINUX_SIGRTMIN + 1};

	sigpending_init(&p);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct linux_siginfo in = mkinfo(sigs[i], LINUX_SI_USER, 0);
		cr_assert_eq(sigpending_enqueue(&p, &in, true, 0), 0);
	}
	/* a blocked one is skipped */
	cr_expect_eq(sigpending_dequeue(&p, ~(SIGBIT(LINUX_SIGTRAP) | SIGBIT(LINUX_SIGSEGV)), &out),
		     LINUX_SIGHUP);
	struct linux_siginfo hup = mkinfo(LINUX_SIGHUP, LINUX_SI_USER, 0);
	sigpending_enqueue(&p, &hup, true, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_expect_eq(sigpending_dequeue(&p, ~0ULL, &out), want[i], "#%zu", i);
		cr_expect_eq(out.si_signo, want[i]);
	}
	cr_expect_eq(signal_next(0), 0);
	cr_expect_eq(signal_next(SIGBIT(LINUX_SIGSYS) | SIGBIT(LINUX_SIGINT)), LINUX_SIGSYS);
}

Test(pending, flush)
{
	struct sigpending p;
	struct linux_siginfo out;

	sigpending_init(&p);
	for (int s = 1; s <= 20; s++) {
		struct linux_siginfo in = mkinfo(s, LINUX_SI_USER, 0);
		sigpending_enqueue(&p, &in, true, 0);
	}
	struct linux_siginfo rt = mkinfo(LINUX_SIGRTMIN, LINUX_SI_QUEUE, 0);
	sigpending_enqueue(&p, &rt, true, 0);
	sigpending_enqueue(&p, &rt, true, 0);
	sigpending_flush(&p, SIGBIT(LINUX_SIGCONT) | SIGBIT(LINUX_SIGRTMIN));
	cr_expect_eq(p.set & (SIGBIT(LINUX_SIGCONT) | SIGBIT(LINUX_SIGRTMIN)), 0);
	cr_expect_eq(__builtin_popcountll(p.set), 19);
	int n = 0;
	while (sigpending_dequeue(&p, ~0ULL, &out))
		n++;
	cr_expect_eq(n, 19);
}

/* ---- restart rules (arch/x86/kernel/signal.c) ---- */

Test(restart, rules)
{
	static const struct {
		long rax;
		bool handler;
		uint64_t flags;
		enum sig_restart want;
	} cases[] = {
		{-LINUX_ERESTARTSYS, false, 0, SIG_RESTART_SYSCALL},
		{-LINUX_ERESTARTSYS, true, 0, SIG_RESTART_EINTR},
		{-LINUX_ERESTARTSYS, true, LINUX_SA_RESTART, SIG_RESTART_SYSCALL},
		{-LINUX_ERESTARTNOINTR, true, 0, SIG_RESTART_SYSCALL},
		{-LINUX_ERESTARTNOINTR, false, 0, SIG_RESTART_SYSCALL},
		{-LINUX_ERESTARTNOHAND, true, LINUX_SA_RESTART, SIG_RESTART_EINTR},
		{-LINUX_ERESTARTNOHAND, false, 0, SIG_RESTART_SYSCALL},
		{-LINUX_ERESTART_RESTARTBLOCK, true, LINUX_SA_RESTART, SIG_RESTART_EINTR},
		{-LINUX_ERESTART_RESTARTBLOCK, false, 0, SIG_RESTART_BLOCK},
		{-EINTR, true, LINUX_SA_RESTART, SIG_RESTART_NONE},
		{0, false, 0, SIG_RESTART_NONE},
		{-515, false, 0, SIG_RESTART_NONE}, /* ENOIOCTLCMD is not a restart code */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(signal_restart_rule(cases[i].rax, cases[i].handler, cases[i].flags),
			     cases[i].want, "case %zu (rax %ld)", i, cases[i].rax);
}

Test(defaults, actions)
{
	cr_expect_eq(signal_default_action(LINUX_SIGCHLD), SIGDFL_IGNORE);
	cr_expect_eq(signal_default_action(LINUX_SIGURG), SIGDFL_IGNORE);
	cr_expect_eq(signal_default_action(LINUX_SIGWINCH), SIGDFL_IGNORE);
	cr_expect_eq(signal_default_action(LINUX_SIGCONT), SIGDFL_IGNORE);
	cr_expect_eq(signal_default_action(LINUX_SIGSTOP), SIGDFL_STOP);
	cr_expect_eq(signal_default_action(LINUX_SIGTSTP), SIGDFL_STOP);
	cr_expect_eq(signal_default_action(LINUX_SIGTTIN), SIGDFL_STOP);
	cr_expect_eq(signal_default_action(LINUX_SIGTTOU), SIGDFL_STOP);
	cr_expect_eq(signal_default_action(LINUX_SIGSEGV), SIGDFL_CORE);
	cr_expect_eq(signal_default_action(LINUX_SIGABRT), SIGDFL_CORE);
	cr_expect_eq(signal_default_action(LINUX_SIGQUIT), SIGDFL_CORE);
	cr_expect_eq(signal_default_action(LINUX_SIGSYS), SIGDFL_CORE);
	cr_expect_eq(signal_default_action(LINUX_SIGTERM), SIGDFL_TERM);
	cr_expect_eq(signal_default_action(LINUX_SIGKILL), SIGDFL_TERM);
	cr_expect_eq(signal_default_action(LINUX_SIGPIPE), SIGDFL_TERM);
	cr_expect_eq(signal_default_action(LINUX_SIGALRM), SIGDFL_TERM);
	cr_expect_eq(signal_default_action(LINUX_SIGRTMIN + 5), SIGDFL_TERM);
	cr_expect_eq(signal_default_action(LINUX_NSIG), SIGDFL_TERM);
}
