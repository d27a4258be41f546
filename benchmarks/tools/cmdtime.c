/* cmdtime: time whole runs of a command (a workload under a runner), print one JSON line.
 *
 *   cmdtime --name NAME [--budget-ms N] [--min-runs N] [--max-runs N] [--warmup N] -- CMD [ARG...]
 *
 * Runs CMD --warmup times untimed (default 1), then at least --min-runs times (default 3) and
 * until --budget-ms of timed runs have passed (default 1000) or --max-runs (default 50), each with
 * stdin and stdout on /dev/null and stderr inherited. Prints on stdout
 *   {"bench":"NAME","runs":N,"ns_per_op":MEDIAN,"min_ns":MIN,"max_ns":MAX}
 * where a run is the wall-clock time from fork to the end of waitpid. Exits 1, after saying why on
 * stderr, when CMD cannot be run or exits with a non-zero status or a signal; 2 on a usage error.
 * Runs on the host (benchmarks/run.sh puts the runner, e.g. `runsc-c do --`, in CMD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 10000

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One run of argv; returns its wall-clock time in ns, or -1 after saying why on stderr. */
static int64_t run_once(char **argv)
{
	int64_t t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "cmdtime: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "cmdtime: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "cmdtime: waitpid: %s\n", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "cmdtime: %s was killed by signal %d\n", argv[0], WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cmdtime: %s exited with status %d\n", argv[0], WEXITSTATUS(status));
		return -1;
	}
	return now_ns() - t0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static long arg_long(const char *flag, const char *v, long min)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < min || n > 10000000) {
		fprintf(stderr, "cmdtime: bad %s \"%s\"\n", flag, v);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	static int64_t times[MAX_RUNS];
	const char *name = NULL;
	long budget_ms = 1000, min_runs = 3, max_runs = 50, warmup = 1, n = 0;
	int64_t total = 0;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *flag = argv[i];

		if (i + 1 >= argc)
			goto usage;
		if (strcmp(flag, "--name") == 0)
			name = argv[++i];
		else if (strcmp(flag, "--budget-ms") == 0)
			budget_ms = arg_long(flag, argv[++i], 0);
		else if (strcmp(flag, "--min-runs") == 0)
			min_runs = arg_long(flag, argv[++i], 1);
		else if (strcmp(flag, "--max-runs") == 0)
			max_runs = arg_long(flag, argv[++i], 1);
		else if (strcmp(flag, "--warmup") == 0)
			warmup = arg_long(flag, argv[++i], 0);
		else
			goto usage;
	}
	if (!name || i + 1 >= argc)
		goto usage;
	argv += i + 1;
	if (max_runs > MAX_RUNS)
		max_runs = MAX_RUNS;
	if (min_runs > max_runs)
		min_runs = max_runs;

	for (long w = 0; w < warmup; w++)
		if (run_once(argv) < 0)
			return 1;
	while (n < min_runs || (total < budget_ms * 1000000 && n < max_runs)) {
		int64_t t = run_once(argv);

		if (t < 0)
			return 1;
		times[n++] = t;
		total += t;
	}
	qsort(times, (size_t)n, sizeof(times[0]), cmp_i64);
	printf("{\"bench\":\"%s\",\"runs\":%ld,\"ns_per_op\":%lld,\"min_ns\":%lld,\"max_ns\":%lld}\n",
	       name, n,
	       (long long)(n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2),
	       (long long)times[0], (long long)times[n - 1]);
	return 0;
usage:
	fprintf(stderr, "usage: cmdtime --name NAME [--budget-ms N] [--min-runs N] [--max-runs N] "
			"[--warmup N] -- CMD [ARG...]\n");
	return 2;
}
