/* `runsc-c debug ...`: diagnostics that need no sandbox (the Sentry's seccomp allowlist). */
#include <stdio.h>
#include <string.h>

#include "runsc-c/cli.h"
#include "runsc-c/sentry_seccomp.h"

static void debug_usage(FILE *f)
{
	fprintf(f,
		"Usage: runsc-c debug seccomp [--count]\n"
		"  seccomp           print the Sentry's seccomp allowlist with a reason per rule\n"
		"  seccomp --count   print only the number of allowed syscalls\n");
}

int cmd_debug(struct global_opts *g, int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		debug_usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "seccomp") == 0) {
		if (argc == 2) {
			sentry_seccomp_print(stdout);
			return 0;
		}
		if (argc == 3 && strcmp(argv[2], "--count") == 0) {
			printf("%zu\n", sentry_seccomp_count());
			return 0;
		}
	}
	debug_usage(stderr);
	return EXIT_USAGE;
}
