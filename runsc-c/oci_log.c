/* Errors of the OCI commands: to stderr, and to --log in runc's text or JSON line format. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_oci_log_fd = -1; /* --log, or -1 */
static bool g_oci_log_json;

void oci_log_setup(const struct global_opts *g)
{
	g_oci_log_fd = g->log_path ? g->log_fd : -1;
	g_oci_log_json = g->log_format && strcmp(g->log_format, "json") == 0;
}

/* One line {"level":"error","msg":"...","time":"RFC 3339"} to fd, in one write. */
static void log_json(int fd, const char *msg)
{
	char when[64];
	struct timespec ts;
	struct tm tm;
	json_object *o = json_object_new_object();

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "level", json_object_new_string("error"));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	json_object_object_add(o, "time", json_object_new_string(when));
	const char *line = json_object_to_json_string_ext(o, OCI_JSON_PLAIN);
	dprintf(fd, "%s\n", line);
	json_object_put(o);
}

static void report(const char *msg)
{
	fprintf(stderr, "runsc-c: %s\n", msg);
	if (g_oci_log_fd < 0 || g_oci_log_fd == 2)
		return;
	if (g_oci_log_json)
		log_json(g_oci_log_fd, msg);
	else
		dprintf(g_oci_log_fd, "E runsc-c %d: %s\n", (int)getpid(), msg);
}

/* vasprintf, or the format itself when out of memory; free the result with free_msg. */
static char *format_msg(const char *fmt, va_list ap)
{
	char *msg;
	return vasprintf(&msg, fmt, ap) < 0 ? NULL : msg;
}

void oci_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = format_msg(fmt, ap);
	va_end(ap);
	report(msg ? msg : fmt);
	free(msg);
}

int oci_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = format_msg(fmt, ap);
	va_end(ap);
	oci_error("%s: %s (see runsc-c %s --help)", cmd, msg ? msg : fmt, cmd);
	free(msg);
	return EXIT_USAGE;
}

int oci_open_one(const struct global_opts *g, int argc, char **argv, const char *help,
		 bool exclusive, struct oci_container *c)
{
	oci_log_setup(g);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return oci_usage(argv[0], "expected one container id");
	if (oci_container_open(g, argv[1], exclusive, c) < 0) {
		oci_container_close(c);
		return 1;
	}
	return -1;
}
