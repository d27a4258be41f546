/* check.h: tiny check helpers shared by the guest test programs in tests/progs. */
#ifndef TESTS_PROGS_CHECK_H
#define TESTS_PROGS_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Every program prints deterministic lines to stdout ("ok ..." or values) and
 * exits 0. A failed check prints "FAIL file:line: what (errno NAME)" to stdout
 * and stderr and exits 1, so the runner sees it in the diff and in the status.
 */

static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static inline void __attribute__((noreturn, format(printf, 3, 4)))
check_fail(const char *file, int line, const char *fmt, ...)
{
	int saved = errno;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	printf("FAIL %s:%d: %s (errno %s)\n", file, line, msg, saved ? errname(saved) : "0");
	fflush(stdout);
	fprintf(stderr, "FAIL %s:%d: %s (errno %s)\n", file, line, msg,
		saved ? errname(saved) : "0");
	exit(1);
}

/* CHECK(cond, fmt, ...): fail unless cond holds. */
#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond))                                              \
			check_fail(__FILE__, __LINE__, "check '%s' failed: " \
				   "%s", #cond, check_fmt(__VA_ARGS__));  \
	} while (0)

static inline const char *__attribute__((format(printf, 1, 2))) check_fmt(const char *fmt, ...)
{
	static char buf[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

/* CHECK_OK(expr): expr (a libc call returning -1 on error) must not fail. Yields its value. */
#define CHECK_OK(expr)                                                           \
	({                                                                       \
		errno = 0;                                                       \
		long __r = (long)(expr);                                         \
		if (__r == -1)                                                   \
			check_fail(__FILE__, __LINE__, "%s returned -1", #expr); \
		__r;                                                             \
	})

/* CHECK_ERR(expr, E): expr must return -1 with errno E. Prints "ok expr -> E". */
#define CHECK_ERR(expr, e)                                                         \
	do {                                                                       \
		errno = 0;                                                         \
		long __r = (long)(expr);                                           \
		int __e = errno;                                                   \
		if (__r != -1 || __e != (e)) {                                     \
			errno = __e;                                               \
			check_fail(__FILE__, __LINE__, "%s: want -1/%s, got %ld",  \
				   #expr, errname(e), __r);                        \
		}                                                                  \
		printf("ok %s -> %s\n", #expr, errname(e));                        \
	} while (0)

/* FNV-1a over a buffer, continuing from h (start with FNV_INIT). */
#define FNV_INIT 0xcbf29ce484222325ULL
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A per-run unique suffix for scratch paths (never printed). */
static inline const char *uniq(void)
{
	static char buf[32];

	if (!buf[0])
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
	return buf;
}

#endif
