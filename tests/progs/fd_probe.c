/* fd_probe.c: reports whether each fd number given in argv is open (security: no host fd leaks in). */
#include "check.h"

#include <fcntl.h>

int main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: fd_probe FD...");
	for (int i = 1; i < argc; i++) {
		int fd = atoi(argv[i]);
		errno = 0;
		int r = fcntl(fd, F_GETFD);
		CHECK(r >= 0 || errno == EBADF, "fcntl(%d, F_GETFD): unexpected error", fd);
		printf("fd %d: %s\n", fd, r >= 0 ? "open" : "closed");
	}
	return 0;
}
