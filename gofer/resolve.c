/* Whole-path resolution beneath a root directory with openat2 RESOLVE_IN_ROOT. */
#define _GNU_SOURCE
#include "gofer/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2 fails with EAGAIN when a concurrent rename or mount might have let ".." escape;
 * retrying is what the kernel asks for. Bounded, so a busy host cannot spin us forever. */
#define RESOLVE_RETRIES 64

int gofer_resolve(int root_fd, const char *path, int flags, int *out_fd)
{
	struct open_how how = {
	    .flags = (unsigned)flags | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (path == NULL || out_fd == NULL)
		return -EINVAL;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL;
	if (path[0] == '\0')
		return -ENOENT;
	for (int i = 0;; i++) {
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			break;
		if ((errno != EAGAIN && errno != EINTR) || i == RESOLVE_RETRIES)
			return -errno;
	}
	*out_fd = (int)fd;
	return 0;
}
