/* fork_cow: what fork costs with 512 MiB resident, and what the child's copy-on-write faults cost.
 *
 * Static, so the same binary runs natively and under `runsc-c do`. Prints one JSON line per
 * measurement on stdout:
 *   {"bench":"fork_exit","resident_mib":0,"iters":N,"ns_per_op":N}      fork + _exit + wait, small
 *   {"bench":"fork_exit","resident_mib":512,...}                        the same with 512 MiB
 * touched
 *   {"bench":"fork_cow","resident_mib":512,"touched_pct":P,"touched_pages":K,...}
 *                                       fork + the child writes K of the pages (P% of them, spread
 *                                       evenly) + _exit + wait
 * With copy-on-write, fork_exit at 512 MiB costs about what it costs at 0 MiB (page tables aside)
 * and fork_cow grows with the pages touched, not with the size of the address space.
 *
 *   fork_cow [--mib N] [--budget-ms N] [--min-iters N]
 * Each measurement repeats until it has run --min-iters times (default 1) and --budget-ms of time
 * (default 300). Exits 1 (with a message on stderr) when fork, wait or the child fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_ITERS 100000L

static long g_budget_ns = 300L * 1000 * 1000;
static long g_min_iters = 1;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One fork: the child writes one byte in each of npages pages of buf, stride pages apart, then
 * exits; the parent waits. Returns 0, or -1 after printing why. */
static int fork_once(volatile char *buf, long npages, long stride)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "fork_cow: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		for (long i = 0; i < npages; i++)
			buf[(size_t)(i * stride) * PAGE] = 2;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "fork_cow: waitpid: %s\n", strerror(errno));
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork_cow: child ended with status 0x%x\n", status);
		return -1;
	}
	return 0;
}

/* Repeat fork_once until the budget and the minimum count are both reached; print the JSON line
 * (extra: more "key":value pairs, may be ""). Returns 0 or -1. */
static int measure(const char *bench, long mib, const char *extra, volatile char *buf, long npages,
		   long stride)
{
	int64_t start = now_ns(), elapsed;
	long iters = 0;

	do {
		if (fork_once(buf, npages, stride) < 0)
			return -1;
		iters++;
		elapsed = now_ns() - start;
	} while ((iters < g_min_iters || elapsed < g_budget_ns) && iters < MAX_ITERS);
	printf("{\"bench\":\"%s\",\"resident_mib\":%ld%s,\"iters\":%ld,\"ns_per_op\":%lld}\n",
	       bench, mib, extra, iters, (long long)(elapsed / iters));
	fflush(stdout);
	return 0;
}

static long arg_long(const char *flag, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n <= 0) {
		fprintf(stderr, "fork_cow: %s needs a positive number, not \"%s\"\n", flag, v);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	static const int pcts[] = {0, 1, 10, 100};
	long mib = 512;
	char extra[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
			mib = arg_long(argv[i], argv[i + 1]);
			i++;
		} else if (strcmp(argv[i], "--budget-ms") == 0 && i + 1 < argc) {
			g_budget_ns = arg_long(argv[i], argv[i + 1]) * 1000 * 1000;
			i++;
		} else if (strcmp(argv[i], "--min-iters") == 0 && i + 1 < argc) {
			g_min_iters = arg_long(argv[i], argv[i + 1]);
			i++;
		} else {
			fprintf(stderr,
				"usage: fork_cow [--mib N] [--budget-ms N] [--min-iters N]\n");
			return 2;
		}
	}

	/* Baseline: fork of a small process, warmed up once. */
	if (fork_once(NULL, 0, 0) < 0 || measure("fork_exit", 0, "", NULL, 0, 0) < 0)
		return 1;

	size_t len = (size_t)mib << 20;
	long total = (long)(len / PAGE);
	volatile char *buf = malloc(len);
	if (!buf) {
		fprintf(stderr, "fork_cow: malloc %ld MiB failed\n", mib);
		return 1;
	}
	/* 4 KiB pages natively too (no transparent huge pages), so both sides copy the same unit;
	 * failure (an older kernel, the sandbox) only changes the native figure's page size. */
	madvise((void *)((uintptr_t)buf & ~(PAGE - 1)), len, MADV_NOHUGEPAGE);
	for (long i = 0; i < total; i++)
		buf[(size_t)i * PAGE] = 1;

	if (measure("fork_exit", mib, "", buf, 0, 0) < 0)
		return 1;
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		long n = total * pcts[k] / 100;
		long stride = n ? total / n : 0;
		snprintf(extra, sizeof(extra), ",\"touched_pct\":%d,\"touched_pages\":%ld", pcts[k],
			 n);
		if (measure("fork_cow", mib, extra, buf, n, stride) < 0)
			return 1;
	}
	return 0;
}
