/* Running a systrap context: the hand-off with its stub thread through the state word, the
 * registers and FPU state in the thread's signal frame, interrupts. */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "platform/fpstate.h"
#include "platform/pairing.h"

/* The kernel's x86-64 signal frame (arch/x86/include/asm/sigframe.h, uapi sigcontext.h): what
 * the handler's rsp points at. The fpstate follows elsewhere on the stack (uc_mcontext says
 * where). */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
		eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};
struct k_rt_sigframe {
	uint64_t pretcode;
	uint64_t uc_flags, uc_link;
	struct linux_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
	uint8_t info[128];
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(offsetof(struct k_rt_sigframe, uc_mcontext) == 48, "rt_sigframe.uc.uc_mcontext");
_Static_assert(offsetof(struct k_rt_sigframe, info) == 312, "rt_sigframe.info");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe");
/* The part of the sigcontext the Sentry writes for a run: r8 up to ss, in 8-byte words. */
_Static_assert(offsetof(struct k_sigcontext, err) == SC_WORDS * 8, "SC_WORDS");

/* siginfo fields (the kernel's layout): signo, errno, code, then the union at 16. */
#define SI_SIGNO 0
#define SI_CODE 8
#define SI_ADDR 16    /* faults' si_addr, SIGSYS's si_call_addr */
#define SI_ARCH 28    /* SIGSYS: the AUDIT_ARCH of the call (after si_syscall) */

/* The x86 page fault error code (sigcontext's err when trapno is 14). */
#define TRAP_PF 14
#define PF_WRITE 0x2
#define PF_INSTR 0x10

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

int st_futex_wait(uint32_t *w, uint32_t val, int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	/* Not FUTEX_PRIVATE_FLAG: the word is in memory shared with the stub. */
	if (syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0) == 0)
		return 0;
	if (errno == EAGAIN)
		return 0;
	return -errno;
}

void st_futex_wake(uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* The Sentry's pointer to the stub address a in the shared region. */
static inline uint8_t *shm_ptr(const struct plat_as *as, uint64_t a)
{
	return as->shm + (a - ST_SHM);
}

/* Is [a, a+len) inside ctx's area, past its message page (the signal stack)? */
static bool in_stack(const struct plat_ctx *ctx, uint64_t a, uint64_t len)
{
	uint64_t lo = ctx->area + PAGE_SIZE, hi = ctx->area + ST_AREA_SIZE;

	return a >= lo && a <= hi && len <= hi - a;
}

/* Syscall patching: a thread whose gs_base is 0 for the Sentry runs with its area there, which
 * the fast entry of patched sites finds it by. The Sentry's gs_base for regs, and the thread's
 * for the Sentry's. */
static uint64_t gs_to_thread(const struct plat_ctx *ctx, uint64_t gs)
{
	return st_patching && gs == 0 ? ctx->area : gs;
}

static uint64_t gs_from_thread(const struct plat_ctx *ctx, uint64_t gs)
{
	return st_patching && gs == ctx->area ? 0 : gs;
}

/*
 * Spinning. A hand-off to a thread that sleeps costs a futex wake and a wake-up on another CPU
 * (tens of microseconds in a VM whose idle vCPUs halt); one to a thread that spins costs a few
 * cache lines. So each side spins (up to ST_SPIN_NS, which also outlasts a wake-up of the other
 * side, so that both get back to spinning) when the other is expected to answer within that
 * time: the Sentry when the application has been running briefly between reports (the
 * handler's timestamps say how long), the handler when the Sentry has been answering quickly.
 * Expectations are averages of the recent values, each counted as at most 4 * ST_SPIN_NS, so
 * that one long wait does not stop spinning for long. Spins that end in a sleep anyway (the
 * threads share CPUs with others) QUIET_AFTER times in a row stop all spinning for
 * QUIET_ROUNDS runs, twice as long after each such stop that no answered spin came between,
 * up to QUIET_ROUNDS_MAX (a busy machine stays busy for a while).
 */
#define QUIET_AFTER 8
#define QUIET_ROUNDS 64
#define QUIET_ROUNDS_MAX 8192

/*
 * Solo. While at most one application thread per CPU but one is running or being served
 * (pairing_solo: the others sleep in the Sentry, as a shell in wait4 does while its child runs),
 * nothing else wants the other CPU: a thread making a burst of calls (SOLO_AFTER runs in a row
 * of at most SOLO_SHORT) runs apart from its Sentry thread, and both wait for each other by
 * spinning only: the Sentry thread up to SOLO_SPIN (a thread that computes longer costs one
 * wake-up on another CPU, and a spin), the stub thread up to SOLO_STUB_SPIN (a gofer round trip
 * or an exec may take longer), and not at all once its task sleeps in the Sentry (ctx_blocking:
 * the stub's spin checks the word). A paired hand-off is two context switches between processes
 * (~3 us here, docs/performance.md), one between spinning threads a few cache lines (~0.5 us).
 * Solo ends, and the pair is made again at once, when the task sleeps in the Sentry (its next
 * run starts with a wake-up, which is cheap on one CPU and not across CPUs), when another
 * thread becomes runnable (the Sentry thread then stops spinning too), after SOLO_MISSES
 * spins in a row that ended in a sleep, or when more than SOLO_SLOW of 256 recent answers took
 * SOLO_SERVICE us or more: calls that move bulk data (it then crosses CPUs: sha256sum 320 ->
 * 400 ms) or change mappings (each punch of the memory file interrupts the spinning CPU to
 * flush its TLB: mmap + touch + munmap 14 -> 29 us) are cheaper paired (an answer that waited
 * on the gofer does not count: a compiler's first lookups of its headers ended solo for
 * nothing, gcc 78.3 -> 76.7 ms on an AMD VM), and solo is then not
 * tried again for QUIET_ROUNDS runs, twice that after each such stop in a row. The quiet
 * back-off above does not apply: a miss costs one wake-up, and the other CPU had no other
 * work. Times in ST_SPIN_NS unless said.
 */
#define SOLO_AFTER 8
#define SOLO_SHORT 5
#define SOLO_SPIN 50
#define SOLO_STUB_SPIN 5
#define SOLO_MISSES 4
#define SOLO_SERVICE 8 /* us */
#define SOLO_SLOW 85    /* of 256 */

/* Fold a new wait into an average of the recent ones (the newest weighs half). */
static inline void average_in(uint64_t *avg, uint64_t v)
{
	*avg = *avg / 2 + MIN(v, 4 * st_spin_ticks()) / 2;
}

/* Spin for the thread, or for the Sentry, while it is expected to answer in time. */
static bool spin_worth(const struct plat_ctx *ctx, uint64_t expected)
{
	return st_spin_iterations() && ctx->rounds >= ctx->quiet_until &&
	       expected < st_spin_ticks();
}

/* A spin ended in a sleep (missed) or in an answer. */
static void spin_outcome(struct plat_ctx *ctx, bool missed)
{
	if (!missed) {
		ctx->misses = 0;
		ctx->quiet_len = 0;
	} else if (++ctx->misses >= QUIET_AFTER) {
		ctx->misses = 0;
		ctx->quiet_len = ctx->quiet_len ? MIN(2 * ctx->quiet_len, QUIET_ROUNDS_MAX)
						: QUIET_ROUNDS;
		ctx->quiet_until = ctx->rounds + ctx->quiet_len;
	}
}

/* Wait until ctx's thread leaves NEW, RUN or SPILL: spin a while (see above; always when the
 * answer comes soon, as a spill's does), then sleep on the word,
 * checking every ST_CHECK_MS that the stub lives and that an interrupt is answered. Returns the
 * state reached, or -ESRCH. */
static int wait_report(struct plat_ctx *ctx, struct plat_as *as, bool soon)
{
	uint32_t *w = &ctx->msg->state;
	bool solo = ctx->solo_away != 0;
	unsigned spin = solo ? SOLO_SPIN * st_spin_iterations()
		      : !ctx->pair.cpu && (soon || spin_worth(ctx, ctx->app_ticks))
			  ? st_spin_iterations()
			  : 0;
	unsigned unanswered_ms = 0;
	uint64_t t0 = spin ? __builtin_ia32_rdtsc() : 0;
	uint32_t s;

	for (unsigned i = 0; i < spin; i++) {
		s = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if (s != ST_RUN && s != ST_NEW && s != ST_SPILL) {
			if (solo)
				ctx->solo_misses = 0;
			else
				spin_outcome(ctx, false);
			ctx->spun += __builtin_ia32_rdtsc() - t0;
			return (int)s;
		}
		/* Another application thread became runnable: the CPU may be wanted. */
		if (solo && !(i & 1023) && !pairing_solo()) {
			spin = 0;
			break;
		}
		/* After a fast return the next report is likely fast too: its registers come on
		 * three lines of their own (the ones the entry wrote). Fetching them while spinning
		 * lets them travel while the state word's does, not after it. */
		if (ctx->fast)
			for (unsigned l = 0; l < LR_WORDS * 8; l += 64)
				__builtin_prefetch((uint8_t *)ctx->msg + MSG_REGS + l, 0, 3);
		cpu_relax();
	}
	if (spin)
		ctx->spun += __builtin_ia32_rdtsc() - t0;
	if (spin && !solo)
		spin_outcome(ctx, true);
	if (spin && solo && ++ctx->solo_misses >= SOLO_MISSES)
		ctx->solo_stop = true;
	__atomic_store_n(&ctx->msg->sentry_sleeping, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		s = __atomic_load_n(w, __ATOMIC_SEQ_CST);
		if (s != ST_RUN && s != ST_NEW && s != ST_SPILL)
			break;
		if (st_futex_wait(w, s, ST_CHECK_MS) != -ETIMEDOUT)
			continue;
		if (st_stub_gone(as))
			return -ESRCH;
		if (!atomic_load(&ctx->interrupted)) {
			unanswered_ms = 0;
			continue;
		}
		/* Signals are not lost: the interrupt signal is blocked (the application can do that
		 * to itself) or the thread is wedged. Give it a while, then end the stub. */
		unanswered_ms += ST_CHECK_MS;
		if (unanswered_ms >= ST_INTERRUPT_GIVE_UP_MS) {
			st_stub_kill(as, "a stub thread does not answer interrupts");
			return -ESRCH;
		}
	}
	__atomic_store_n(&ctx->msg->sentry_sleeping, 0, __ATOMIC_RELAXED);
	return (int)s;
}

/* A report was seen: note when, and how long the application ran before it (the stub's word:
 * only a hint). */
static void report_seen(struct plat_ctx *ctx, bool fast)
{
	uint64_t t0 = __atomic_load_n(&ctx->msg->t_resume, __ATOMIC_RELAXED);
	uint64_t t1 = __atomic_load_n(&ctx->msg->t_report, __ATOMIC_RELAXED);

	ctx->t_seen = __builtin_ia32_rdtsc();
	ctx->waits_seen = thread_waits;
	if (fast) {
		/* The fast path stamps nothing (stub.c): the time since the release, the two
		 * hand-offs included, which are small beside what spinning is worth. */
		if (ctx->t_released && ctx->t_seen >= ctx->t_released) {
			ctx->last_app = ctx->t_seen - ctx->t_released;
			average_in(&ctx->app_ticks, ctx->last_app);
		}
		return;
	}
	if (t0 && t1 >= t0) {
		ctx->last_app = t1 - t0;
		average_in(&ctx->app_ticks, ctx->last_app);
	}
}

/* After wait_report: the thread reported, or it is dead or lying. Returns 0 for a report,
 * -ESRCH otherwise (the stub is killed: one thread of it is gone or broke the protocol). */
static int check_reported(struct plat_as *as, int s)
{
	if (s == ST_REPORT)
		return 0;
	if (s >= 0)
		st_stub_kill(as, s == ST_DEAD ? "a stub thread died" : "bad state word");
	return -ESRCH;
}

/* Read the frame of ctx's report into a private copy *f, after checking where it is; remember
 * where the frame and its fpstate are. Returns 0 or -ESRCH (the stub is killed). */
static int take_frame(struct plat_ctx *ctx, struct plat_as *as, struct k_rt_sigframe *f)
{
	uint64_t frame = __atomic_load_n(&ctx->msg->frame, __ATOMIC_RELAXED);
	size_t fpn = fpstate_user_size();

	if (!in_stack(ctx, frame, sizeof(*f)) || frame % 8) {
		st_stub_kill(as, "bad frame address");
		return -ESRCH;
	}
	memcpy(f, shm_ptr(as, frame), sizeof(*f));
	if (!in_stack(ctx, f->uc_mcontext.fpstate, fpn + 4) || f->uc_mcontext.fpstate % 64) {
		st_stub_kill(as, "bad fpstate address");
		return -ESRCH;
	}
	ctx->frame = frame;
	ctx->fpstate = f->uc_mcontext.fpstate;
	memcpy(ctx->seen, &f->uc_mcontext, sizeof(ctx->seen));
	ctx->seen_mask = f->uc_sigmask;
	ctx->seen_fs = __atomic_load_n(&ctx->msg->fs_base, __ATOMIC_RELAXED);
	ctx->seen_gs = __atomic_load_n(&ctx->msg->gs_base, __ATOMIC_RELAXED);
	return 0;
}

/* Turn the private frame copy into registers and an event. */
static void decode(struct plat_ctx *ctx, const struct k_rt_sigframe *f, struct plat_regs *regs,
		   struct plat_event *ev)
{
	const struct k_sigcontext *sc = &f->uc_mcontext;
	struct linux_regs *r = &regs->regs;
	int32_t signo, code;
	uint32_t arch;
	uint64_t addr;

	*r = (struct linux_regs){
		.r15 = sc->r15, .r14 = sc->r14, .r13 = sc->r13, .r12 = sc->r12,
		.rbp = sc->rbp, .rbx = sc->rbx, .r11 = sc->r11, .r10 = sc->r10,
		.r9 = sc->r9, .r8 = sc->r8, .rax = sc->rax, .rcx = sc->rcx,
		.rdx = sc->rdx, .rsi = sc->rsi, .rdi = sc->rdi, .orig_rax = (uint64_t)-1,
		.rip = sc->rip, .cs = STUB_USER_CS, .eflags = sc->eflags, .rsp = sc->rsp,
		.ss = STUB_USER_SS,
		.fs_base = ctx->seen_fs,
		.gs_base = gs_from_thread(ctx, ctx->seen_gs),
	};
	memcpy(&signo, f->info + SI_SIGNO, 4);
	memcpy(&code, f->info + SI_CODE, 4);
	memcpy(&addr, f->info + SI_ADDR, 8);
	memset(ev, 0, sizeof(*ev));
	switch (signo) {
	case SIGSYS:
		if (code != SYS_SECCOMP)
			break;
		memcpy(&arch, f->info + SI_ARCH, 4);
		/* The kernel rolled rax back to the syscall number (all 64 bits, as ptrace's
		 * orig_rax; si_syscall has 32); a vsyscall arrives the same way, with rip and rsp
		 * at its return address. */
		ev->kind = PLAT_EV_SYSCALL;
		r->orig_rax = sc->rax;
		ev->syscall32 = arch != AUDIT_ARCH_X86_64;
		ev->trapped = !ev->syscall32;
		return;
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
		if (code <= 0)
			break; /* sent, not raised: the handler lets those go, this one lied */
		ev->kind = PLAT_EV_FAULT;
		ev->signo = signo;
		ev->si_code = code;
		ev->fault_addr = addr;
		if (signo == SIGSEGV && sc->trapno == TRAP_PF)
			ev->access = sc->err & PF_WRITE   ? LINUX_PROT_WRITE
				     : sc->err & PF_INSTR ? LINUX_PROT_EXEC
							  : LINUX_PROT_READ;
		return;
	default:
		break;
	}
	/* The interrupt, or a signal the handler should have let go: the Sentry checks its own
	 * state and runs the context again. */
	ev->kind = PLAT_EV_INTERRUPT;
}

/* Put regs into the frame the thread returns through. Only what changed since the report is
 * written: the rest of the frame stays in the stub thread's CPU cache (for a getpid, rax is
 * the only store). The caller checked the bases. */
static void load_frame(struct plat_ctx *ctx, struct plat_as *as, const struct plat_regs *regs)
{
	const struct linux_regs *r = &regs->regs;
	struct k_rt_sigframe *f = (struct k_rt_sigframe *)shm_ptr(as, ctx->frame);
	struct k_sigcontext sc = {
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip,
		.eflags = (r->eflags & STUB_EFLAGS_USER) | STUB_EFLAGS_FIXED,
		.cs = STUB_USER_CS, .ss = STUB_USER_SS,
	};

	uint64_t w[SC_WORDS], *to = (uint64_t *)&f->uc_mcontext;

	memcpy(w, &sc, sizeof(w));
	for (size_t i = 0; i < SC_WORDS; i++)
		if (w[i] != ctx->seen[i])
			to[i] = w[i];
	/* The handled signals unblocked again, whatever the frame said. */
	if (ctx->seen_mask != st_app_mask())
		f->uc_sigmask = st_app_mask();
	if (r->fs_base != ctx->seen_fs)
		__atomic_store_n(&ctx->msg->fs_base, r->fs_base, __ATOMIC_RELAXED);
	if (gs_to_thread(ctx, r->gs_base) != ctx->seen_gs)
		__atomic_store_n(&ctx->msg->gs_base, gs_to_thread(ctx, r->gs_base),
				 __ATOMIC_RELAXED);
}

/* ---- fast reports (syscall patching) ---- */

static uint64_t *msg_regs(const struct plat_ctx *ctx)
{
	return (uint64_t *)((uint8_t *)ctx->msg + MSG_REGS);
}

/* A fast report: the registers the fast entry saved, as a syscall instruction at the site would
 * have left them (it wrote rcx = rip, r11 = eflags). Application-writable: copied once. */
static void take_fast(struct plat_ctx *ctx, struct plat_regs *regs, struct plat_event *ev)
{
	uint64_t *w = ctx->fseen;
	struct linux_regs *r = &regs->regs;

	memcpy(w, msg_regs(ctx), sizeof(ctx->fseen));
	memcpy(r, w, LR_WORDS * 8);
	r->cs = STUB_USER_CS;
	r->ss = STUB_USER_SS;
	r->ds = r->es = r->fs = r->gs = 0;
	ctx->seen_fs = __atomic_load_n(&ctx->msg->fs_base, __ATOMIC_RELAXED);
	ctx->seen_gs = __atomic_load_n(&ctx->msg->gs_base, __ATOMIC_RELAXED);
	r->fs_base = ctx->seen_fs;
	r->gs_base = gs_from_thread(ctx, ctx->seen_gs);
	memset(ev, 0, sizeof(*ev));
	ev->kind = PLAT_EV_SYSCALL;
	ctx->fast = true;
}

/* Put regs where the fast entry reloads them from: rax, then only what changed. The
 * caller checked that gs_base is the area's, the one thing the fast return cannot change. */
static void load_fast(struct plat_ctx *ctx, const struct plat_regs *regs)
{
	const struct linux_regs *r = &regs->regs;
	uint64_t w[LR_WORDS], *to = msg_regs(ctx);

	memcpy(w, r, sizeof(w));
	w[LR_EFLAGS / 8] = (r->eflags & STUB_EFLAGS_USER) | STUB_EFLAGS_FIXED;
	ctx->fast_rip = r->rip;
	/* rax (the result) beside the state word, which this run writes anyway. */
	__atomic_store_n(&ctx->msg->rax, r->rax, __ATOMIC_RELAXED);
	w[LR_RAX / 8] = ctx->fseen[LR_RAX / 8];
	for (size_t i = 0; i < LR_WORDS; i++)
		if (w[i] != ctx->fseen[i])
			to[i] = w[i];
	if (r->fs_base != ctx->seen_fs)
		__atomic_store_n(&ctx->msg->fs_base, r->fs_base, __ATOMIC_RELAXED);
}

/* Write the XSAVE image buf (checked) into the frame's fpstate, with Linux's software bytes and
 * the magic word after it, as the kernel's rt_sigreturn wants them. */
static void put_fp(struct plat_ctx *ctx, struct plat_as *as, const uint8_t *buf)
{
	size_t n = fpstate_user_size();
	uint8_t *fp = shm_ptr(as, ctx->fpstate);
	uint32_t magic2 = FP_XSTATE_MAGIC2;

	memcpy(fp, buf, n);
	fpstate_put_sw_bytes(fp);
	if (fpstate_xsave())
		memcpy(fp + n, &magic2, sizeof(magic2));
}

/* The first report of a new thread: its frame is where its first run's registers go, with the
 * FPU state ctx_create chose. Returns 0 or -ESRCH. */
static int first_report(struct plat_ctx *ctx, struct plat_as *as)
{
	struct k_rt_sigframe f;
	int r;

	if ((r = check_reported(as, wait_report(ctx, as, false))) < 0)
		return r;
	report_seen(ctx, false);
	if ((r = take_frame(ctx, as, &f)) < 0)
		return r;
	/* Inherited from a frame the application could write: rt_sigreturn must not fail on it. */
	if (fpstate_check(ctx->init_fp) < 0)
		fpstate_initial(ctx->init_fp);
	put_fp(ctx, as, ctx->init_fp);
	free(ctx->init_fp);
	ctx->init_fp = NULL;
	ctx->started = true;
	return 0;
}

/*
 * Pairing (platform/pairing.h): while the Sentry does not spin for the thread (it runs long
 * between reports, or spins missed: the CPUs are busy), the Sentry thread and its stub thread
 * are paired on one CPU, and neither spins (each would spin on the CPU the other needs). While
 * the Sentry spins, they must be apart: the pair is undone, and the stub thread is kept off the
 * Sentry thread's CPU for one run, so that the spins are not wasted waiting for the scheduler to
 * separate them. Pairing takes PAIR_FLIP_AFTER runs in a row that ask for it, undoing it
 * UNPAIR_AFTER and application runs well below the spinning threshold: a short burst of calls
 * (a program's start, a directory read) is not worth two migrations; a syscall loop is.
 */
#define PAIR_FLIP_AFTER 8
#define UNPAIR_AFTER 64

/* Pair ctx's stub thread with this Sentry thread, or undo the pair (see above). */
static void place(struct plat_ctx *ctx, bool sentry_spins)
{
	bool paired = ctx->pair.cpu != 0;

	if (!pairing_on() || ctx->tid <= 0)
		return;
	/* Solo (above) first; the pairing rules below apply when it is not possible. */
	if (ctx->solo_away && ctx->solo_slow > SOLO_SLOW) {
		/* Slow answers: bulk data crossing CPUs, or mapping changes that interrupt the
		 * spinning thread's CPU to flush its TLB. Not again for a while (longer each
		 * time, until a solo stretch ends otherwise). */
		ctx->solo_stop = true;
		ctx->solo_backoff = ctx->solo_backoff ? MIN(2 * ctx->solo_backoff, QUIET_ROUNDS_MAX)
						      : QUIET_ROUNDS;
		ctx->solo_until = ctx->rounds + ctx->solo_backoff;
	} else if (ctx->solo_away && (ctx->solo_stop || !pairing_solo())) {
		ctx->solo_backoff = 0; /* a solo stretch that ended well */
	}
	if (ctx->solo_stop || !pairing_solo()) {
		ctx->solo_stop = false;
		ctx->solo_runs = 0;
		if (ctx->solo_away) {
			/* Back to pairing at once: the next hand-off is a wake-up. */
			ctx->solo_away = 0;
			ctx->pair_flips = 0;
			pairing_follow(&ctx->pair, ctx->tid);
			return;
		}
	} else if (ctx->solo_away) {
		pairing_keep_away(ctx->tid, &ctx->solo_away);
		return;
	} else if (ctx->last_app < SOLO_SHORT * st_spin_ticks() && ctx->rounds >= ctx->solo_until &&
		   ctx->solo_slow <= SOLO_SLOW) {
		if (++ctx->solo_runs >= SOLO_AFTER) {
			if (paired)
				pairing_undo(&ctx->pair, ctx->tid);
			pairing_keep_away(ctx->tid, &ctx->solo_away);
			ctx->solo_misses = 0;
			ctx->pair_flips = 0;
			ctx->pair_apart = true;
			return;
		}
	} else {
		ctx->solo_runs = 0;
	}
	if (paired && sentry_spins && ctx->app_ticks > st_spin_ticks() / 4)
		sentry_spins = false;
	if (paired != sentry_spins) {
		ctx->pair_flips = 0;
	} else if (++ctx->pair_flips >= (paired ? UNPAIR_AFTER : PAIR_FLIP_AFTER)) {
		ctx->pair_flips = 0;
		if (paired) {
			pairing_undo(&ctx->pair, ctx->tid);
			ctx->pair_apart = true;
			return;
		}
		paired = true;
	}
	if (paired) {
		ctx->pair_apart = false;
		pairing_follow(&ctx->pair, ctx->tid);
	} else if (ctx->pair_apart) {
		/* It ran on another CPU once: from now on the scheduler places it. */
		ctx->pair_apart = false;
		pairing_free(ctx->tid);
	}
}

void st_ctx_init_pairing(struct plat_ctx *ctx)
{
	/* A new thread starts paired: until its runs are measured, it is taken to run long (a
	 * new process's start-up is mostly file calls and faults far apart). */
	ctx->app_ticks = 4 * st_spin_ticks();
	ctx->pair_flips = PAIR_FLIP_AFTER - 1;
}

/* Let the thread run: RUN, unless the state is no longer REPORT (dead or tampered with); wake
 * it if it sleeps. Sets whether it spins after its next report. Returns 0 or -ESRCH. */
static int release_thread(struct plat_ctx *ctx, struct plat_as *as)
{
	uint32_t expect = ST_REPORT, told;

	ctx->t_released = __builtin_ia32_rdtsc();
	average_in(&ctx->service_ticks, ctx->t_released - ctx->t_seen);
	/* The share of slow answers, of 256, over the last ~16 (Solo above). One that waited on
	 * the gofer is not slow in that sense: the Sentry's CPU slept, the stub's was not
	 * disturbed, and paired the wait would have been the same. */
	bool slow = ctx->t_released - ctx->t_seen >= SOLO_SERVICE * st_spin_ticks() / 20 &&
		    thread_waits == ctx->waits_seen;
	ctx->solo_slow = ctx->solo_slow - ctx->solo_slow / 16 + (slow ? 16 : 0);
	ctx->rounds++;
	place(ctx, spin_worth(ctx, ctx->app_ticks));
	told = ctx->solo_away ? MIN(SOLO_STUB_SPIN * st_spin_iterations(), ST_SPIN_MAX)
	       : !ctx->pair.cpu && spin_worth(ctx, ctx->service_ticks) ? st_spin_iterations()
								     : 0;
	/* Only a change: the thread spins on this line, and each store takes it back. */
	if (__atomic_load_n(&ctx->msg->spin, __ATOMIC_RELAXED) != told)
		__atomic_store_n(&ctx->msg->spin, told, __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&ctx->msg->state, &expect, ST_RUN, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return check_reported(as, (int)expect);
	if (__atomic_load_n(&ctx->msg->stub_sleeping, __ATOMIC_SEQ_CST)) {
		if (ctx->stub_spun)
			spin_outcome(ctx, true);
		st_futex_wake(&ctx->msg->state);
	}
	ctx->stub_spun = told != 0;
	return 0;
}

/* Turn ctx's fast report into a signal frame: the thread reloads the registers it saved and
 * traps (int3 at a known place), so that they and its live FPU state land in a frame, which is
 * what the FPU accessors and every return but the fast one work with. Its rip is the trap's
 * until the next load_frame writes the Sentry's. Returns 0 or -ESRCH (the stub is killed: the
 * thread did something else). */
static int spill(struct plat_ctx *ctx, struct plat_as *as)
{
	struct k_rt_sigframe f;
	uint32_t expect = ST_REPORT;
	int32_t signo;
	int r;

	__atomic_store_n(&ctx->msg->spin, st_spin_iterations(), __ATOMIC_RELAXED);
	/* The reload takes rax from MSG_RAX: the report's. */
	__atomic_store_n(&ctx->msg->rax, ctx->fseen[LR_RAX / 8], __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&ctx->msg->state, &expect, ST_SPILL, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return check_reported(as, (int)expect);
	if (__atomic_load_n(&ctx->msg->stub_sleeping, __ATOMIC_SEQ_CST))
		st_futex_wake(&ctx->msg->state);
	if ((r = check_reported(as, wait_report(ctx, as, true))) < 0)
		return r;
	if ((r = take_frame(ctx, as, &f)) < 0)
		return r;
	memcpy(&signo, f.info + SI_SIGNO, sizeof(signo));
	if (__atomic_load_n(&ctx->msg->kind, __ATOMIC_RELAXED) != MSG_KIND_FRAME ||
	    signo != SIGTRAP || f.uc_mcontext.rip != st_stub_spill_rip()) {
		st_stub_kill(as, "a stub thread did not spill its registers");
		return -ESRCH;
	}
	ctx->fast = false;
	return 0;
}

int st_ctx_run(struct plat_ctx *ctx, struct plat_as *as, struct plat_regs *regs,
	       struct plat_event *ev)
{
	struct k_rt_sigframe f;
	int r;

	if (as != ctx->as)
		return ctx->as ? -EINVAL : -ESRCH;
	if ((r = st_ctx_own(ctx)) < 0)
		return r;
	memset(ev, 0, sizeof(*ev));
	ctx->spun = 0;
	if (atomic_load(&as->dead))
		return -ESRCH;
	/* What PTRACE_SETREGS refuses, and wrfsbase would fault on. */
	if (regs->regs.fs_base >= STUB_USER_TOP || regs->regs.gs_base >= STUB_USER_TOP)
		return -EINVAL;
	/* A plain load first: the exchange (a locked instruction) only when there is something
	 * to take, twice per syscall otherwise. */
	if (atomic_load(&ctx->interrupted) && atomic_exchange(&ctx->interrupted, 0)) {
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	/* running before the second look at interrupted: ctx_interrupt sets interrupted before it
	 * looks at running, so one of the two sees the other. */
	atomic_store(&ctx->running, 1);
	if (!ctx->started && (r = first_report(ctx, as)) < 0)
		goto out;
	if (atomic_load(&ctx->interrupted) && atomic_exchange(&ctx->interrupted, 0)) {
		ev->kind = PLAT_EV_INTERRUPT;
		r = 0;
		goto out;
	}
	/* The fast return restores every register but gs_base, which it needs. */
	if (ctx->fast && gs_to_thread(ctx, regs->regs.gs_base) != ctx->area &&
	    (r = spill(ctx, as)) < 0)
		goto out;
	if (ctx->fast)
		load_fast(ctx, regs);
	else
		load_frame(ctx, as, regs);
	/* Mapping changes queued since the last run go with this one (systrap.h). */
	if (__atomic_load_n(&as->nops, __ATOMIC_RELAXED) && (r = st_batch_send(ctx, as)) < 0)
		goto out;
	if ((r = release_thread(ctx, as)) < 0)
		goto out;
	if ((r = check_reported(as, wait_report(ctx, as, false))) < 0)
		goto out;
	/* The kind is the thread's word: a fast report is believed only with patching on. Either
	 * way what follows only reads the thread's own registers. */
	bool fast = st_patching && __atomic_load_n(&ctx->msg->kind, __ATOMIC_RELAXED) == MSG_KIND_FAST;
	report_seen(ctx, fast);
	if (fast) {
		take_fast(ctx, regs, ev);
		goto out;
	}
	if ((r = take_frame(ctx, as, &f)) < 0)
		goto out;
	decode(ctx, &f, regs, ev);
	/* The interrupt came while the thread ran the stub's code on its fast return: it stopped
	 * with the spill's trap instead of returning, every register as the Sentry left it. */
	if (ctx->fast && ev->kind == PLAT_EV_FAULT && ev->signo == SIGTRAP &&
	    regs->regs.rip == st_stub_spill_rip()) {
		regs->regs.rip = ctx->fast_rip;
		memset(ev, 0, sizeof(*ev));
		ev->kind = PLAT_EV_INTERRUPT;
	}
	ctx->fast = false;
	if (ev->kind == PLAT_EV_INTERRUPT)
		atomic_store(&ctx->interrupted, 0);
out:
	/* (after the spill case above, which clears ev) */
	ev->spun_ns = st_spin_ticks() ? ctx->spun * ST_SPIN_NS / st_spin_ticks() : 0;
	atomic_store(&ctx->running, 0);
	/* No tgkill of ctx_interrupt may still be on its way once we return: the stub may be
	 * reaped next, and its pid reused. */
	while (atomic_load(&ctx->kicking))
		cpu_relax();
	return r;
}

/* ctx's task sleeps in the Sentry: its stub thread stops spinning for the answer (the word is
 * read in its spin loop), and the next run pairs (see Solo above). */
void st_ctx_blocking(struct plat_ctx *ctx)
{
	if (ctx->msg && __atomic_load_n(&ctx->msg->spin, __ATOMIC_RELAXED))
		__atomic_store_n(&ctx->msg->spin, 0, __ATOMIC_RELAXED);
	ctx->solo_stop = true;
	pairing_idle(&ctx->pair);
	st_as_spare(ctx);
}

void st_ctx_interrupt(struct plat_ctx *ctx)
{
	struct plat_as *as;

	atomic_fetch_add(&ctx->kicking, 1);
	atomic_store(&ctx->interrupted, 1);
	if (atomic_load(&ctx->running) && (as = ctx->as) && ctx->tid > 0)
		syscall(SYS_tgkill, as->pid, ctx->tid, ST_SIG_INTERRUPT);
	atomic_fetch_sub(&ctx->kicking, 1);
}

/* A thread stopped in a fast report saves its FPU state before it sleeps (stub.c, 45:): is it
 * there? A thread still spinning is left spinning (a spill, then: told to stop, it would sleep,
 * and its next run would need a wake-up across CPUs, which made a thread's creation 30% slower).
 * The thread's area is the application's memory: what is there is the application's own state,
 * checked as a frame's. */
static bool fp_saved(struct plat_ctx *ctx)
{
	return (st_stub_flags() & D_FLAG_FPSAVE) &&
	       __atomic_load_n(&ctx->msg->fpvalid, __ATOMIC_ACQUIRE);
}

/* Where that saved copy is (and where st_fp_set leaves a state for the thread to load). */
static uint8_t *fp_save_area(struct plat_ctx *ctx)
{
	return (uint8_t *)ctx->msg - MSG_STATE + MSG_FPSAVE;
}

int st_fp_get(struct plat_ctx *ctx, void *buf, size_t size)
{
	size_t n = fpstate_user_size();
	uint64_t bv;
	int r;

	if (size < n)
		return -EINVAL;
	if (!ctx->started) {
		memcpy(buf, ctx->init_fp, n);
		return 0;
	}
	if (!ctx->as || atomic_load(&ctx->as->dead))
		return -ESRCH;
	if (ctx->fast && fp_saved(ctx)) {
		memcpy(buf, fp_save_area(ctx), n);
	} else {
		if (ctx->fast && (r = spill(ctx, ctx->as)) < 0)
			return r;
		memcpy(buf, shm_ptr(ctx->as, ctx->fpstate), n);
	}
	/* The software bytes as Linux writes them, whatever the frame holds now. */
	fpstate_put_sw_bytes(buf);
	if (fpstate_xsave()) {
		memcpy(&bv, (uint8_t *)buf + XSAVE_HEADER, sizeof(bv));
		bv &= fpstate_user_features();
		memcpy((uint8_t *)buf + XSAVE_HEADER, &bv, sizeof(bv));
	}
	return 0;
}

int st_fp_set(struct plat_ctx *ctx, const void *buf, size_t size)
{
	size_t n = fpstate_user_size();
	uint8_t img[n] __attribute__((aligned(64)));
	uint64_t bv;
	int r;

	if (size < n)
		return -EINVAL;
	memcpy(img, buf, n);
	if (fpstate_xsave()) {
		memcpy(&bv, img + XSAVE_HEADER, sizeof(bv));
		bv &= fpstate_user_features(); /* nothing beyond what we handed out */
		memcpy(img + XSAVE_HEADER, &bv, sizeof(bv));
	}
	/* rt_sigreturn would fail on what XRSTOR refuses (SIGSEGV in the stub's handler). */
	if ((r = fpstate_check(img)) < 0)
		return r;
	fpstate_put_sw_bytes(img);
	if (!ctx->started) {
		memcpy(ctx->init_fp, img, n);
		return 0;
	}
	if (!ctx->as || atomic_load(&ctx->as->dead))
		return -ESRCH;
	/* A thread asleep in a fast report (its state saved, so it has XSAVE) loads the state with
	 * XRSTOR on its way out: no spill (a signal's delivery resets the FPU for its handler). */
	if (ctx->fast && fp_saved(ctx)) {
		memcpy(fp_save_area(ctx), img, n);
		__atomic_store_n(&ctx->msg->fpload, 1, __ATOMIC_RELEASE);
		return 0;
	}
	if (ctx->fast && (r = spill(ctx, ctx->as)) < 0)
		return r;
	put_fp(ctx, ctx->as, img);
	return 0;
}
