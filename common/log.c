/* Logging to a chosen fd with a run-time level. */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_log_fd = 2;
static enum log_level g_level = LOG_WARN;
static const char *g_role = "runsc-c";

void log_init(int fd, enum log_level level)
{
	g_log_fd = fd;
	g_level = level;
}

int log_fd(void) { return g_log_fd; }
enum log_level log_level(void) { return g_level; }
void log_set_role(const char *role) { g_role = role; }

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	static const char *const names[] = {"E", "W", "I", "D"};
	char buf[1024];
	int n;
	va_list ap;

	if (level > g_level)
		return;
	n = snprintf(buf, sizeof(buf), "%s %s %d %s:%d: ", names[level], g_role, (int)getpid(),
		     file, line);
	if (n < 0)
		return;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line so lines of different threads do not interleave. */
	ssize_t r = write(g_log_fd, buf, (size_t)n);
	(void)r;
}

noreturn void die_status(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("runsc-c: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}
