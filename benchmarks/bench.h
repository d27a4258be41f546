/* bench.h: the self-calibrating timing loop and JSON output shared by the microbenchmarks.
 *
 * A microbenchmark is a static program that calls bench_init() and then bench_run() once per
 * measurement. bench_run() grows a batch of iterations until it lasts a tenth of the target time,
 * then times one batch sized to last the target (default 300 ms, so a measurement takes about
 * 0.35 s wherever it runs), and prints one line on stdout:
 *   {"bench":"getpid","iters":1234567,"ns_per_op":85.3}
 * Flags every microbenchmark takes: --target-ms N (the timed batch's length). A benchmark that
 * fails (a syscall error) says why on stderr and exits 1; benchmarks/run.sh reports it as failed.
 */
#ifndef RUNSC_C_BENCH_H
#define RUNSC_C_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One batch: run the operation iters times. */
typedef void (*bench_fn)(long iters, void *arg);

static int64_t bench_target_ns = 300L * 1000 * 1000;

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Print "bench: what: strerror(errno)" on stderr and exit 1. */
static inline void __attribute__((noreturn)) bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Parse the common flags; exits 2 on anything else. */
static inline void bench_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *end;
		long v;

		if (strcmp(argv[i], "--target-ms") != 0 || i + 1 >= argc)
			goto usage;
		v = strtol(argv[++i], &end, 10);
		if (*end != '\0' || v <= 0 || v > 60000)
			goto usage;
		bench_target_ns = v * 1000 * 1000;
	}
	return;
usage:
	fprintf(stderr, "usage: %s [--target-ms N]\n", argv[0]);
	exit(2);
}

/* Calibrate, time one batch of fn and print its JSON line (extra: more ,"key":value pairs, or "").
 * The first call of fn (one iteration) also warms up whatever the operation touches. */
static inline void bench_run(const char *name, const char *extra, bench_fn fn, void *arg)
{
	int64_t t0, dt;
	long iters = 1;

	for (;;) {
		t0 = bench_now_ns();
		fn(iters, arg);
		dt = bench_now_ns() - t0;
		if (dt >= bench_target_ns / 10 || iters >= (1L << 40))
			break;
		/* Aim a little past a tenth of the target, growing 2x to 10x a step (short batches
		 * are noisy). */
		double next = dt > 0 ? (double)iters * 1.2 * (double)(bench_target_ns / 10) / (double)dt
				     : (double)iters * 10;
		if (next < 2.0 * (double)iters)
			next = 2.0 * (double)iters;
		if (next > 10.0 * (double)iters)
			next = 10.0 * (double)iters;
		iters = (long)next;
	}
	iters = (long)((double)iters * (double)bench_target_ns / (double)dt);
	if (iters < 1)
		iters = 1;
	t0 = bench_now_ns();
	fn(iters, arg);
	dt = bench_now_ns() - t0;
	printf("{\"bench\":\"%s\"%s,\"iters\":%ld,\"ns_per_op\":%.1f}\n", name, extra, iters,
	       (double)dt / (double)iters);
	fflush(stdout);
}

#endif
