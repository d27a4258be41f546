/* The gofer role: started by `runsc-c do` with its socket and log fds; gofer_main does the rest. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gofer/gofer.h"
#include "runsc-c/cli.h"

/* A non-negative decimal int, or -1. */
static int parse_int(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

int cmd_gofer(struct global_opts *g, int argc, char **argv)
{
	int sock = -1, log = -1, level = LOG_WARN, netns = -1;
	const char *rootfs = NULL;
	/* at most one bind per pair of arguments */
	struct gofer_bind *binds = calloc((size_t)argc / 2 + 1, sizeof(*binds));
	size_t nbinds = 0;

	if (!binds)
		return EXIT_RUNTIME;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--sock-fd") == 0)
			sock = parse_int(argv[i + 1]);
		else if (strcmp(argv[i], "--log-fd") == 0)
			log = parse_int(argv[i + 1]);
		else if (strcmp(argv[i], "--log-level") == 0)
			level = parse_int(argv[i + 1]);
		else if (strcmp(argv[i], "--netns-fd") == 0)
			netns = parse_int(argv[i + 1]);
		else if (strcmp(argv[i], "--rootfs") == 0)
			rootfs = argv[i + 1];
		else if (strcmp(argv[i], "--bind-ro") == 0 || strcmp(argv[i], "--bind-rw") == 0)
			binds[nbinds++] = (struct gofer_bind){
			    .source = argv[i + 1], .writable = strcmp(argv[i], "--bind-rw") == 0};
		else
			sock = -1;
	}
	if (argc % 2 == 0 || sock < 3 || log < 3 || level < 0 || level > LOG_DEBUG || !rootfs ||
	    rootfs[0] != '/') {
		fprintf(stderr, "runsc-c: gofer is a role started by `runsc-c do`\n");
		return EXIT_USAGE;
	}
	log_init(log, (enum log_level)level);
	log_set_role("gofer");
	/* _exit: the gofer's seccomp filter has no room for exit-time work (atexit handlers, a
	 * sanitizer's leak check), and it has no stdio to flush. */
	_exit(gofer_main(sock, rootfs, binds, nbinds, netns));
}
