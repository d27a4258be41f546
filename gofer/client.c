/* The Sentry's gofer client: one request, one reply, under a mutex; every reply checked. */
#define _GNU_SOURCE
#include "common/host.h"
#include "gofer/client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "gofer/protocol.h"

int gofer_client_init(struct gofer_client *c, int sock)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->sock = -1;
	c->next_tag = 1;
	c->buf = malloc(GOFER_MSG_MAX + 1);
	if (c->buf == NULL) {
		close(sock);
		return -ENOMEM;
	}
	if ((err = pthread_mutex_init(&c->lock, NULL)) != 0) {
		free(c->buf);
		c->buf = NULL;
		close(sock);
		return -err;
	}
	c->sock = sock;
	return 0;
}

void gofer_client_close(struct gofer_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	free(c->buf);
	c->buf = NULL;
	c->broken = 1;
	pthread_mutex_destroy(&c->lock);
}

/* The connection can no longer be trusted: say why once, fail from now on. */
static int broke(struct gofer_client *c, const char *why, int err)
{
	if (!c->broken)
		log_warn("gofer connection unusable: %s (%d)", why, err);
	c->broken = 1;
	return -EIO;
}

static int send_request(struct gofer_client *c, size_t len)
{
	struct iovec iov = {.iov_base = c->buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	for (;;) {
		if (sendmsg(c->sock, &m, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Receive one message into c->buf. *fd gets the one fd it carried, or -1. Returns the
 * length, 0 at EOF, -EPROTO (truncated, more than one fd, a foreign control message) or
 * -errno. No fd is left open on error. */
static ssize_t recv_reply(struct gofer_client *c, int *fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = {.iov_base = c->buf, .iov_len = GOFER_MSG_MAX + 1};
	struct msghdr m;
	ssize_t n;
	int bad = 0;

	*fd = -1;
	do {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cbuf.b;
		m.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(c->sock, &m, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		size_t nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int x;
			memcpy(&x, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (*fd < 0 && x >= 0)
				*fd = x;
			else {
				bad = 1;
				if (x >= 0)
					close(x);
			}
		}
	}
	/* With MSG_CTRUNC the kernel closed the fds that did not fit. */
	if (bad || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	return n;
}

/* Send req (its tag is set here), wait for the matching reply and decode it into rep, whose
 * pointers then point into c->buf. For OPEN, *fd gets the donated fd (caller owns it).
 * Returns 0 (rep->err is the gofer's answer) or -errno. Caller holds c->lock. */
static int transact(struct gofer_client *c, struct gofer_req *req, struct gofer_rep *rep, int *fd)
{
	int rfd = -1, err;
	ssize_t n;

	if (fd)
		*fd = -1;
	if (c->broken)
		return -EIO;
	req->tag = c->next_tag++;
	n = gofer_encode_req(c->buf, GOFER_MSG_MAX, req);
	if (n < 0)
		return (int)n; /* our own bad argument; the connection is fine */
	if ((err = send_request(c, (size_t)n)) < 0)
		return broke(c, "send", err);
	n = recv_reply(c, &rfd);
	if (n == 0)
		return broke(c, "gofer closed the connection", 0);
	if (n < 0)
		return broke(c, "receive", (int)n);
	err = gofer_decode_rep(c->buf, (size_t)n, req->type, req->tag, rep);
	if (err < 0) {
		if (rfd >= 0)
			close(rfd);
		return broke(c, "malformed reply", err);
	}
	/* An fd comes with a successful OPEN and with nothing else. */
	int want_fd = req->type == GOFER_OPEN && rep->err == 0;
	if (want_fd != (rfd >= 0)) {
		if (rfd >= 0)
			close(rfd);
		return broke(c, want_fd ? "OPEN reply without an fd" : "unexpected fd", -EPROTO);
	}
	if (fd)
		*fd = rfd;
	return 0;
}

int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *name, uint32_t *fid,
	       struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_WALK, .fid = dir_fid};
	struct gofer_rep rep;
	size_t len = name ? strnlen(name, GOFER_NAME_MAX + 1) : 0;
	int err;

	if (len > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	if (!gofer_name_valid(name, len))
		return -EINVAL;
	memcpy(req.walk.name, name, len);
	req.walk.name[len] = '\0';
	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0 && (err = rep.err) == 0) {
		*fid = rep.walk.fid;
		*st = rep.walk.st;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_STAT, .fid = fid};
	struct gofer_rep rep;
	int err;

	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0 && (err = rep.err) == 0)
		*st = rep.stat;
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* Is fd what a read-only OPEN of fid may donate: not O_PATH, read-only, a regular file or
 * directory (a directory if O_DIRECTORY was asked)? Returns 0 or -EIO. */
static int check_donated_fd(int fd, int flags)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) != O_RDONLY)
		return -EIO;
	if (host_fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return -EIO;
	if ((flags & LINUX_O_DIRECTORY) && !S_ISDIR(st.st_mode))
		return -EIO;
	return 0;
}

int gofer_open(struct gofer_client *c, uint32_t fid, int flags, int *fd)
{
	struct gofer_req req = {.type = GOFER_OPEN, .fid = fid, .open.flags = (uint32_t)flags};
	struct gofer_rep rep;
	int err, rfd = -1;

	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, &rfd);
	if (err == 0)
		err = rep.err;
	if (err == 0 && check_donated_fd(rfd, flags) < 0) {
		close(rfd);
		err = broke(c, "OPEN donated an fd of the wrong kind", -EPROTO);
	}
	pthread_mutex_unlock(&c->lock);
	if (err == 0)
		*fd = rfd;
	return err;
}

long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t size)
{
	struct gofer_req req = {.type = GOFER_READLINK, .fid = fid};
	struct gofer_rep rep;
	long ret;

	pthread_mutex_lock(&c->lock);
	ret = transact(c, &req, &rep, NULL);
	if (ret == 0 && (ret = rep.err) == 0) {
		size_t n = MIN((size_t)rep.readlink.len, size);
		memcpy(buf, rep.readlink.target, n);
		ret = (long)n;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

long gofer_getdents(struct gofer_client *c, uint32_t fid, uint64_t cookie,
		    struct gofer_dirent *ents, size_t max, bool *end)
{
	struct gofer_req req = {.type = GOFER_GETDENTS, .fid = fid};
	struct gofer_rep rep;
	long ret;

	if (end)
		*end = false;
	if (max == 0)
		return -EINVAL;
	req.getdents.cookie = cookie;
	req.getdents.max = (uint32_t)MIN(max, (size_t)UINT32_MAX);
	pthread_mutex_lock(&c->lock);
	ret = transact(c, &req, &rep, NULL);
	if (ret == 0 && (ret = rep.err) == 0) {
		ret = gofer_dirents_unpack(rep.getdents.ents, rep.getdents.len, rep.getdents.count,
					   ents, req.getdents.max);
		if (ret < 0)
			ret = broke(c, "GETDENTS reply has more entries than asked", (int)ret);
		else if (end)
			*end = (size_t)ret < req.getdents.max &&
			       rep.getdents.len + GOFER_DIRENT_HDR_SIZE + GOFER_NAME_MAX <=
				   GOFER_DENTS_SPACE;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int gofer_clunk(struct gofer_client *c, uint32_t fid)
{
	struct gofer_req req = {.type = GOFER_CLUNK, .fid = fid};
	struct gofer_rep rep;
	int err;

	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0)
		err = rep.err;
	pthread_mutex_unlock(&c->lock);
	return err;
}
