/* Raw host syscall wrappers for calls glibc routes through a wider syscall than we allow. */
#ifndef COMMON_HOST_H
#define COMMON_HOST_H

#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fstat(2) itself: glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), a path-taking call the
 * Sentry's seccomp filter does not allow. Returns 0 or -errno. */
static inline int host_fstat(int fd, struct stat *st)
{
	return syscall(SYS_fstat, fd, st) < 0 ? -errno : 0;
}

#endif
