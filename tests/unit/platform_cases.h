/* The tests every platform passes, single-threaded: small machine-code guests run in a stub.
 * Included by each backend's test file after platform_test.h, with PT_SUITE the suite's name. */
#ifndef TESTS_UNIT_PLATFORM_CASES_H
#define TESTS_UNIT_PLATFORM_CASES_H

#include <signal.h>

#include "tests/unit/platform_test.h"

TestSuite(PT_SUITE, .init = setup, .fini = teardown, .timeout = 30);

Test(PT_SUITE, syscall_exit_and_ud2)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_not(ev.syscall32);
	cr_assert_eq(r.regs.rip, at(g_basic_after), "rip is past the syscall instruction");
	cr_assert_eq(r.regs.cs, 0x33);
	r.regs.rax = 1234;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 60);
	cr_assert_eq(r.regs.rdi, 1234);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGILL);
	cr_assert_eq(ev.si_code, ILL_ILLOPN);
	cr_assert_eq(ev.fault_addr, at(g_basic_ud2));
	cr_assert_eq(r.regs.rip, at(g_basic_ud2));
	/* Faulting again: the signal was not delivered to the stub, which is still there. */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGILL);
}

Test(PT_SUITE, load_from_unmapped_address)
{
	struct plat_regs r = regs_at(g_load);
	struct plat_event ev;

	r.regs.rbx = 0x600000;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_MAPERR);
	cr_assert_eq(ev.fault_addr, 0x600000);
	cr_assert_eq(r.regs.rip, at(g_load));
}

Test(PT_SUITE, unmapped_code_faults)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(P->as_unmap(as, CODE, PG), 0);
	cr_assert_eq(P->as_unmap(as, CODE, PG), 0, "unmapping nothing is fine");
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_MAPERR);
	cr_assert_eq(ev.fault_addr, at(g_basic_after));
	/* Map it back: it runs on from where it was. */
	cr_assert_eq(P->as_map(as, CODE, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, PLAT_FD_MEMFILE, 0),
		     0);
	r.regs.rax = 7;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 60);
	cr_assert_eq(r.regs.rdi, 7);
}

Test(PT_SUITE, protect_none_then_read)
{
	struct plat_regs r = regs_at(g_load);
	struct plat_event ev;

	*(uint64_t *)(mem + 2 * PG) = 0xdeadbeefcafeULL; /* written by the test, read by the guest */
	r.regs.rbx = DATA;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1000);
	cr_assert_eq(r.regs.rdi, 0xdeadbeefcafeULL);

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_NONE), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_ACCERR);
	cr_assert_eq(ev.fault_addr, DATA);
	cr_assert_eq(r.regs.rip, at(g_load));

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.rdi, 0xdeadbeefcafeULL);
}

Test(PT_SUITE, memory_file_is_shared)
{
	struct plat_regs r = regs_at(g_store);
	struct plat_event ev;

	r.regs.rbx = DATA + 8;
	r.regs.rsi = 0x1122334455667788ULL;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1001);
	cr_assert_eq(*(volatile uint64_t *)(mem + 2 * PG + 8), 0x1122334455667788ULL);
}

Test(PT_SUITE, write_to_read_only_page_faults)
{
	struct plat_regs r = regs_at(g_store);
	struct plat_event ev;

	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
	r.regs.rbx = DATA + 16;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGSEGV);
	cr_assert_eq(ev.si_code, SEGV_ACCERR);
	cr_assert_eq(ev.fault_addr, DATA + 16);
}

Test(PT_SUITE, int3_is_a_fault)
{
	struct plat_regs r = regs_at(g_int3);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_FAULT);
	cr_assert_eq(ev.signo, SIGTRAP);
	cr_assert_eq(r.regs.rip, at(g_int3_after));
}

Test(PT_SUITE, vsyscall_is_trapped_as_a_syscall)
{
	struct plat_regs r = regs_at(g_vsys);
	struct plat_event ev = run(&r);

	/* Without the stub's seccomp filter the host would have run time() itself. */
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 201 /* time */);
	cr_assert_eq(r.regs.rdi, 0);
	cr_assert_eq(r.regs.rip, at(g_vsys_ret), "the kernel emulated the ret");
	cr_assert_eq(r.regs.rsp, STACK + PG);
	cr_assert_not(ev.syscall32);
	r.regs.rax = 42;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1002);
	cr_assert_eq(r.regs.rdi, 42);
}

Test(PT_SUITE, int80_is_a_32bit_syscall)
{
	struct plat_regs r = regs_at(g_int80);
	struct plat_event ev = run(&r);

	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert(ev.syscall32);
	cr_assert_eq(r.regs.orig_rax, 20);
	cr_assert_eq(r.regs.rip, at(g_int80_after));
}

Test(PT_SUITE, fs_base_passes_through)
{
	struct plat_regs r = regs_at(g_fs);
	struct plat_event ev;

	*(uint64_t *)(mem + 2 * PG + 64) = 0x5eed;
	r.regs.fs_base = DATA + 64;
	r.regs.fs = 0x1234; /* garbage selectors are sanitised */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1003);
	cr_assert_eq(r.regs.rdi, 0x5eed);
	cr_assert_eq(r.regs.fs_base, DATA + 64);
}

Test(PT_SUITE, registers_are_sanitised)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	r.regs.cs = 0x23; /* 32-bit code segment */
	r.regs.ss = 0;
	r.regs.ds = r.regs.es = r.regs.gs = 0x1234;
	r.regs.eflags = 0xffffffffULL & ~0x100ULL; /* everything but TF */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	cr_assert_eq(r.regs.cs, 0x33);
	cr_assert_eq(r.regs.ss, 0x2b);
	cr_assert_eq(r.regs.eflags & 0x3000, 0, "IOPL stays 0");
	cr_assert_not(ev.syscall32);

	/* A base the kernel refuses is an error, and the stub survives it. */
	r = regs_at(g_basic);
	r.regs.fs_base = 0xffff800000000000ULL;
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -EINVAL);
	r = regs_at(g_basic);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
}

Test(PT_SUITE, map_argument_checks)
{
	int rw = LINUX_PROT_READ | LINUX_PROT_WRITE;

	cr_assert_eq(P->as_map(as, CODE + 1, PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, 100, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, PG, rw, PLAT_FD_MEMFILE, 5), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, 0, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, P->max_user_addr, PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, P->max_user_addr - PG, 2 * PG, rw, PLAT_FD_MEMFILE, 0),
		     -EINVAL);
	cr_assert_eq(P->as_map(as, -PG, 2 * PG, rw, PLAT_FD_MEMFILE, 0), -EINVAL);
	cr_assert_eq(P->as_map(as, CODE, PG, 0x10, PLAT_FD_MEMFILE, 0), -EINVAL);
	if (!P->host_fd_maps)
		cr_assert_eq(P->as_map(as, CODE, PG, LINUX_PROT_READ, 5, 0), -ENOSYS);
	else
		cr_assert_eq(P->as_map(as, CODE, PG, rw, 5, 0), -EINVAL, "a host file, writable");
	cr_assert_eq(P->as_unmap(as, P->max_user_addr, PG), -EINVAL, "the stub cannot be unmapped");
	cr_assert_eq(P->as_protect(as, P->max_user_addr, PG, rw), -EINVAL);
	/* The highest page the application may have. */
	cr_assert_eq(P->as_map(as, P->max_user_addr - PG, PG, rw, PLAT_FD_MEMFILE, 3 * PG), 0);
#if PT_DEFERRED_AS_OPS
	/* Applied at the next run, where the host's refusal ends the address space. */
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL, "the good changes apply");
	cr_assert_eq(P->as_protect(as, 0x600000, PG, rw), 0, "nothing mapped there");
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
#else
	cr_assert_eq(P->as_protect(as, 0x600000, PG, rw), -ENOMEM, "nothing mapped there");
#endif
}

/* A host file mapped (backends with host_fd_maps): private, read-only, the file's own pages;
 * the same file mapped again takes no second fd in the stub. */
Test(PT_SUITE, map_host_file)
{
	char tmpl[] = "/tmp/runsc-c-unit-hostmap.XXXXXX", path[64], line[512];
	char page[2 * PG];
	int fd = mkstemp(tmpl), fds = 0, found = 0;
	FILE *f;

	if (!P->host_fd_maps) {
		close(fd);
		unlink(tmpl);
		cr_skip_test("%s maps only the memory file", P->name);
	}
	cr_assert_geq(fd, 0);
	unlink(tmpl);
	memset(page, 'h', sizeof(page));
	cr_assert_eq(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	cr_assert_eq(P->as_map(as, 0x500000, 2 * PG, LINUX_PROT_READ, fd, 0), 0);
	cr_assert_eq(P->as_map(as, 0x510000, PG, LINUX_PROT_READ | LINUX_PROT_EXEC, fd, PG), 0);
#if PT_DEFERRED_AS_OPS
	struct plat_regs r = regs_at(g_basic);

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL, "the mappings apply at the first run");
#endif
	snprintf(path, sizeof(path), "/proc/%d/maps", PT_AS_PID(as));
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8];

		cr_assert_eq(sscanf(line, "%lx-%lx %7s", &lo, &hi, perm), 3);
		if (lo == 0x500000) {
			cr_assert_eq(hi, 0x500000 + 2 * PG);
			cr_assert_str_eq(perm, "r--p", "private, read-only: %s", line);
			cr_assert(strstr(line, "runsc-c-unit-hostmap"), "the file: %s", line);
			found++;
		} else if (lo == 0x510000) {
			cr_assert_str_eq(perm, "r-xp", "%s", line);
			found++;
		}
	}
	fclose(f);
	cr_assert_eq(found, 2, "both mappings of the file");
	for (int n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", PT_AS_PID(as), n);
		if (access(path, F_OK) == 0)
			fds++;
	}
	cr_assert_eq(fds, PT_STUB_FDS + 1, "one fd for the file, whichever mapping");
	close(fd);
}

/* The stub's address space: only what the test mapped, the stub's region above max_user_addr
 * and [vsyscall]; its fds: the memory file and what the backend needs. */
Test(PT_SUITE, stub_holds_nothing_else)
{
	char path[64], line[512];
	pid_t pid = PT_AS_PID(as);
	int seen[3] = {0}, fds = 0;
	FILE *f;

#if PT_DEFERRED_AS_OPS
	struct plat_regs r = regs_at(g_basic);

	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL, "the mappings apply at the first run");
#endif
	cr_assert_gt(pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		cr_assert_eq(sscanf(line, "%lx-%lx", &lo, &hi), 2);
		if (lo == CODE || lo == STACK || lo == DATA) {
			seen[lo == CODE ? 0 : lo == STACK ? 1 : 2]++;
			continue;
		}
		cr_assert((lo >= P->max_user_addr && hi <= P->max_user_addr + 0x8000000UL) ||
				  strstr(line, "[vsyscall]"),
			  "unexpected mapping in the stub: %s", line);
	}
	fclose(f);
	cr_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "the test's mappings, once each");

	snprintf(path, sizeof(path), "/proc/%d/fd/0", pid);
	cr_assert_gt(readlink(path, line, sizeof(line)), 0);
	for (int fd = 0; fd < 64; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		if (access(path, F_OK) == 0)
			fds++;
	}
	cr_assert_eq(fds, PT_STUB_FDS, "the stub holds only the memory file (and its own)");
}

struct interrupter {
	int delay_ms;
};

static void *interrupt_later(void *arg)
{
	struct interrupter *i = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = i->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	P->ctx_interrupt(ctx);
	return NULL;
}

Test(PT_SUITE, interrupt_from_another_thread)
{
	struct interrupter i = {.delay_ms = 100};
	struct plat_regs r = regs_at(g_spin);
	struct plat_event ev;
	pthread_t th;

	/* Before running: the next ctx_run returns at once, without running. */
	P->ctx_interrupt(ctx);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_INTERRUPT);
	cr_assert_eq(r.regs.rip, at(g_spin));

	/* While running. */
	cr_assert_eq(pthread_create(&th, NULL, interrupt_later, &i), 0);
	ev = run(&r);
	pthread_join(th, NULL);
	cr_assert_eq(ev.kind, PLAT_EV_INTERRUPT);
	cr_assert_eq(r.regs.rip, at(g_spin));

	/* Nothing left over. */
	r = regs_at(g_basic);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
}

Test(PT_SUITE, host_signals_are_swallowed)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(kill(PT_AS_PID(as), SIGUSR1), 0);
	cr_assert_eq(kill(PT_AS_PID(as), SIGSEGV), 0); /* sent, not a fault */
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 39);
	/* Also while injecting a syscall. */
	cr_assert_eq(kill(PT_AS_PID(as), SIGUSR2), 0);
	cr_assert_eq(P->as_protect(as, DATA, PG, LINUX_PROT_READ), 0);
}

struct other_thread {
	int run, map;
};

static void *use_from_other_thread(void *arg)
{
	struct other_thread *o = arg;
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	o->run = P->ctx_run(ctx, as, &r, &ev);
	o->map = P->as_unmap(as, DATA, PG);
	return NULL;
}

Test(PT_SUITE, only_the_owner_thread_may_drive_it)
{
	struct other_thread o;
	struct plat_regs r = regs_at(g_basic);
	pthread_t th;

	/* The first run claims the context for this thread. */
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(pthread_create(&th, NULL, use_from_other_thread, &o), 0);
	pthread_join(th, NULL);
	cr_assert_eq(o.run, -EPERM);
	cr_assert_eq(o.map, PT_STRICT_AS_OPS ? -EPERM : 0);
	r = regs_at(g_basic);
	cr_assert_eq(run(&r).kind, PLAT_EV_SYSCALL);
	cr_assert_eq(P->as_unmap(as, DATA, PG), 0);
}

Test(PT_SUITE, stub_death_is_reported)
{
	struct plat_regs r = regs_at(g_basic);
	struct plat_event ev;

	cr_assert_eq(kill(PT_AS_PID(as), SIGKILL), 0);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	cr_assert_eq(P->as_map(as, DATA, PG, LINUX_PROT_READ, PLAT_FD_MEMFILE, 0), -ESRCH);
	cr_assert_eq(P->ctx_run(ctx, as, &r, &ev), -ESRCH);
	P->as_release(as);
	as = NULL;
	assert_no_children();
}

Test(PT_SUITE, release_leaves_no_child)
{
	P->ctx_release(ctx);
	ctx = NULL;
	P->as_release(as);
	as = NULL;
	assert_no_children();
	for (int i = 0; i < 20; i++) {
		struct plat_as *a = P->as_create();

		cr_assert_not_null(a);
		P->as_release(a);
	}
	assert_no_children();
}

static void *release_elsewhere(void *arg)
{
	P->as_release(arg);
	return NULL;
}

Test(PT_SUITE, release_from_another_thread)
{
	pthread_t th;

	P->ctx_release(ctx);
	ctx = NULL;
	cr_assert_eq(pthread_create(&th, NULL, release_elsewhere, as), 0);
	pthread_join(th, NULL);
	as = NULL;
	assert_no_children();
}

Test(PT_SUITE, syscall_round_trip_time)
{
	struct plat_regs r = regs_at(g_loop);
	struct timespec t0, t1;
	const int n = 2000;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct plat_event ev = run(&r);

		cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
		r.regs.rax = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, PT_PLATFORM ": %.1f us per syscall round trip\n",
		((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n /
			1e3);
}

/* ---- FPU state ---- */

#define FX_FCW 0
#define FX_MXCSR 24
#define FX_XMM0 160
#define FX_XMM1 176
#define FX_SW 464
#define XSTATE_BV 512
#define YMM0_HI 576 /* the AVX component: ymm0 bits 128..255 */

static uint64_t get64(const unsigned char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static void put64(unsigned char *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

Test(PT_SUITE, fpstate_size_is_the_signal_frame_xsave_area)
{
	size_t n = P->fpstate_size();
	unsigned char buf[n];

	/* What Linux writes in a signal frame: the sw bytes say the same size. */
	cr_assert_geq(n, 512);
	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	if (n > 512) {
		uint32_t magic1, ext, xsize;

		memcpy(&magic1, buf + FX_SW, 4);
		memcpy(&ext, buf + FX_SW + 4, 4);
		memcpy(&xsize, buf + FX_SW + 16, 4);
		cr_assert_eq(magic1, 0x46505853U);
		cr_assert_eq(xsize, n);
		cr_assert_eq(ext, n + 4);
	}
	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n - 1), -EINVAL, "too small a buffer");
}

Test(PT_SUITE, fpstate_of_a_new_address_space_is_clean)
{
	size_t n = P->fpstate_size();
	unsigned char buf[n];
	struct plat_regs r = regs_at(g_xmm);
	struct plat_event ev;
	uint16_t fcw;
	uint32_t mxcsr;

	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	memcpy(&fcw, buf + FX_FCW, 2);
	memcpy(&mxcsr, buf + FX_MXCSR, 4);
	cr_assert_eq(fcw, 0x37f);
	cr_assert_eq(mxcsr, 0x1f80);
	cr_assert_eq(get64(buf, FX_XMM0), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 0, "xmm0 holds nothing of the Sentry's");
}

Test(PT_SUITE, fpstate_round_trip)
{
	size_t n = P->fpstate_size();
	unsigned char buf[n], back[n];
	struct plat_regs r = regs_at(g_xmm);
	struct plat_event ev;

	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	put64(buf, FX_XMM0, 0x1234567);
	put64(buf, FX_XMM1, 0xfeedULL);
	if (n > 512)
		put64(buf, XSTATE_BV, get64(buf, XSTATE_BV) | 2); /* SSE state present */
	cr_assert_eq(P->ctx_set_fpstate(ctx, buf, n), 0);
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 0x1234567);
	/* Still there after running, and the rest as set. */
	cr_assert_eq(P->ctx_get_fpstate(ctx, back, n), 0);
	cr_assert_eq(get64(back, FX_XMM0), 0x1234567);
	cr_assert_eq(get64(back, FX_XMM1), 0xfeedULL);

	/* An MXCSR with reserved bits set is refused, as XRSTOR would fault. */
	memcpy(buf + FX_MXCSR, &(uint32_t){0xffffffffU}, 4);
	cr_assert_eq(P->ctx_set_fpstate(ctx, buf, n), -EINVAL);
	cr_assert_eq(P->ctx_set_fpstate(ctx, buf, n - 1), -EINVAL, "too small a buffer");
}

Test(PT_SUITE, fpstate_avx_upper_half)
{
	size_t n = P->fpstate_size();
	unsigned char buf[n];
	struct plat_regs r = regs_at(g_ymm);
	struct plat_event ev;

	if (!__builtin_cpu_supports("avx2") || n < YMM0_HI + 16)
		cr_skip_test("no AVX2");
	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	put64(buf, YMM0_HI, 0xabcdef12345ULL);
	put64(buf, XSTATE_BV, get64(buf, XSTATE_BV) | 4); /* AVX state present */
	cr_assert_eq(P->ctx_set_fpstate(ctx, buf, n), 0);
	r.regs.rsi = 0x777;
	ev = run(&r);
	cr_assert_eq(ev.kind, PLAT_EV_SYSCALL);
	cr_assert_eq(r.regs.orig_rax, 1004);
	cr_assert_eq(r.regs.rdi, 0xabcdef12345ULL);
	/* What the guest wrote comes back: movq zeroes ymm0's upper half. */
	cr_assert_eq(P->ctx_get_fpstate(ctx, buf, n), 0);
	cr_assert_eq(get64(buf, FX_XMM0), 0x777);
	cr_assert(!(get64(buf, XSTATE_BV) & 4) || get64(buf, YMM0_HI) == 0);
}

#endif
