/* Logging: levelled messages with file and line, written to the log fd (never the application's stdio). */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Where log lines go and how much is written. Defaults: fd 2, LOG_WARN. */
void log_init(int fd, enum log_level level);
int log_fd(void);
enum log_level log_level(void);
/* A prefix for every line, e.g. "sentry" or "gofer"; the string must outlive the process. */
void log_set_role(const char *role);

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_level() >= LOG_INFO)                                                       \
			log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__);                      \
	} while (0)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_level() >= LOG_DEBUG)                                                      \
			log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                     \
	} while (0)

/* For the CLI before the sandbox starts, and for broken internal invariants only:
 * prints "runsc-c: <msg>" to stderr and exits with status. Never on application input. */
noreturn void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define die(...) die_status(1, __VA_ARGS__)

#endif
