/* The console socket of runc's protocol: a host pty whose master goes to the caller's unix
 * socket (SCM_RIGHTS) and whose slave becomes the container process's stdio. The Sentry sees
 * the slave as a host terminal on fds 0-2 (sentry/fs/tty.c). */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/util.h"

int oci_console_setup(const char *sock_path, unsigned short rows, unsigned short cols, FILE *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int master = -1, slave = -1, sock = -1;
	char name[] = "pty-master";
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return fprintf(err, "--console-socket %s: path too long", sock_path), -1;
	strcpy(sa.sun_path, sock_path);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return fprintf(err, "opening a pty: %s", strerror(errno)), -1;
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	if (ws.ws_row && ws.ws_col && ioctl(master, TIOCSWINSZ, &ws) < 0)
		return fprintf(err, "consoleSize: %s", strerror(errno)), -1;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fprintf(err, "opening the pty slave: %s", strerror(errno)), -1;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fprintf(err, "--console-socket %s: %s", sock_path, strerror(errno)), -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return fprintf(err, "--console-socket %s: sending the pty: %s", sock_path,
			       strerror(errno)),
		       -1;
	return steal_fd(&slave);
}

