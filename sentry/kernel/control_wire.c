/* The control channel's datagrams (sentry/control.h): header, payload and fds in one
 * sendmsg/recvmsg, used by the Sentry and by the runtime's supervisor and commands alike. */
#define _GNU_SOURCE
#include "sentry/control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

void ctl_close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int ctl_send(int fd, struct sentry_ctl_msg *hdr, const void *payload, uint32_t len,
	     const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SENTRY_CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(*hdr)},
			       {.iov_base = (void *)payload, .iov_len = len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	ssize_t n;

	if (len > SENTRY_CTL_MAX_PAYLOAD || nfds < 0 || nfds > SENTRY_CTL_MAX_FDS)
		return -EINVAL;
	hdr->len = len;
	hdr->zero = 0;
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	return n == (ssize_t)(sizeof(*hdr) + len) ? 0 : -EPIPE;
}

int ctl_recv(int fd, struct sentry_ctl_msg *hdr, void *payload, uint32_t cap, int *fds,
	     int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SENTRY_CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(*hdr)},
			       {.iov_base = payload, .iov_len = cap}};
	struct msghdr msg = {.msg_iov = iov,
			     .msg_iovlen = payload && cap ? 2 : 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	*nfds = 0;
	while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	/* Take every fd that came, whatever else is wrong, so none leaks. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < SENTRY_CTL_MAX_FDS)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return -EPIPE;
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(*hdr) ||
	    hdr->zero != 0 || hdr->len > cap || (size_t)n != sizeof(*hdr) + hdr->len ||
	    hdr->sig < 0 || hdr->sig > 64) {
		ctl_close_fds(fds, *nfds);
		*nfds = 0;
		return -EPROTO;
	}
	return 0;
}
