/* The Sentry's gofer client: one request, one reply, under a mutex; every reply checked. A
 * request goes over the gofer's connection for the caller's CPU once it handed them over
 * (CHANNELS), else over the first. */
#define _GNU_SOURCE
#include "common/host.h"
#include "gofer/client.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/thread.h"
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

void gofer_client_log_stats(struct gofer_client *c)
{
	static const char *const names[GOFER_TYPE_MAX + 1] = {
	    [GOFER_WALK] = "walk",	   [GOFER_STAT] = "stat",	  [GOFER_OPEN] = "open",
	    [GOFER_READLINK] = "readlink", [GOFER_GETDENTS] = "getdents", [GOFER_CLUNK] = "clunk",
	    [GOFER_CREATE] = "create",	   [GOFER_MKDIR] = "mkdir",	  [GOFER_UNLINK] = "unlink",
	    [GOFER_RENAME] = "rename",	   [GOFER_SYMLINK] = "symlink",	  [GOFER_LINK] = "link",
	    [GOFER_SETATTR] = "setattr",   [GOFER_STATFS] = "statfs",	  [GOFER_ATTACH] = "attach",
	    [GOFER_CHANNELS] = "channels", [GOFER_LOOKUP] = "lookup",
	};
	char line[512];
	size_t off = 0;
	uint32_t total = 0;

	if (log_level() < LOG_DEBUG)
		return;
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i <= GOFER_TYPE_MAX; i++) {
		if (!c->calls[i] || !names[i])
			continue;
		total += c->calls[i];
		int n = snprintf(line + off, sizeof(line) - off, " %s %u", names[i], c->calls[i]);
		if (n > 0 && (size_t)n < sizeof(line) - off)
			off += (size_t)n;
	}
	pthread_mutex_unlock(&c->lock);
	line[off] = '\0';
	log_debug("gofer: %u round trips:%s", total, line);
}

void gofer_client_close(struct gofer_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	for (uint32_t i = 0; i < c->nchans; i++)
		close(c->chan_sock[i]);
	c->nchans = 0;
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

static int send_request(struct gofer_client *c, int sock, size_t len)
{
	struct iovec iov = {.iov_base = c->buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	for (;;) {
		if (sendmsg(sock, &m, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Receive one message on sock into c->buf; fds[0..*nfds) get the fds it carried, at most max.
 * Returns the length, 0 at EOF, -EPROTO (truncated, more than max fds, a foreign control
 * message) or -errno. No fd is left open on error. */
static ssize_t recv_msg(struct gofer_client *c, int sock, int *fds, size_t max, size_t *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * GOFER_CHANNELS_MAX)];
	} cbuf;
	struct iovec iov = {.iov_base = c->buf, .iov_len = GOFER_MSG_MAX + 1};
	struct msghdr m;
	ssize_t n;
	int bad = 0;

	*nfds = 0;
	do {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cbuf.b;
		m.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int x;
			memcpy(&x, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (x < 0)
				continue;
			if (*nfds < max) {
				fds[(*nfds)++] = x;
			} else {
				bad = 1;
				close(x);
			}
		}
	}
	/* With MSG_CTRUNC the kernel closed the fds that did not fit. */
	if (bad || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		while (*nfds > 0)
			close(fds[--*nfds]);
		return -EPROTO;
	}
	return n;
}

/* The connection for a request from the caller's CPU. Caller holds c->lock. */
static int chan_sock(const struct gofer_client *c)
{
	if (c->nchans == 0)
		return c->sock;
	int cpu = sched_getcpu(); /* glibc reads its rseq area: no system call */
	for (uint32_t i = 0; i < c->nchans; i++)
		if ((int)c->chan_cpu[i] == cpu)
			return c->chan_sock[i];
	return c->sock;
}

/* Send req over sock (its tag is set here), wait for the matching reply and decode it into
 * rep, whose pointers then point into c->buf; fds[0..*nfds) get the fds it carried, at most
 * max (the caller checks which belong, and owns them). Returns 0; the encoder's error for our
 * own bad argument (the connection is fine); -EIO when the connection broke (no fd left open).
 * Caller holds c->lock. */
static int exchange(struct gofer_client *c, int sock, struct gofer_req *req,
		    struct gofer_rep *rep, int *fds, size_t max, size_t *nfds)
{
	ssize_t n;
	int err;

	*nfds = 0;
	if (c->broken)
		return -EIO;
	req->tag = c->next_tag++;
	c->calls[req->type & 31]++;
	n = gofer_encode_req(c->buf, GOFER_MSG_MAX, req);
	if (n < 0)
		return (int)n;
	if ((err = send_request(c, sock, (size_t)n)) < 0)
		return broke(c, "send", err);
	n = recv_msg(c, sock, fds, max, nfds);
	thread_waited();
	if (n == 0)
		return broke(c, "gofer closed the connection", 0);
	if (n < 0)
		return broke(c, "receive", (int)n);
	err = gofer_decode_rep(c->buf, (size_t)n, req->type, req->tag, rep);
	if (err < 0) {
		while (*nfds > 0)
			close(fds[--*nfds]);
		return broke(c, "malformed reply", err);
	}
	return 0;
}

/* exchange over the connection of the caller's CPU, and check the fd: for OPEN, *fd gets the
 * donated fd (caller owns it). Returns 0 (rep->err is the gofer's answer) or -errno. Caller
 * holds c->lock. */
static int transact(struct gofer_client *c, struct gofer_req *req, struct gofer_rep *rep, int *fd)
{
	int rfd = -1;
	size_t nfds;
	int err = exchange(c, chan_sock(c), req, rep, &rfd, 1, &nfds);

	if (fd)
		*fd = -1;
	if (err < 0)
		return err;
	if (nfds == 0)
		rfd = -1;
	/* An fd comes with a successful OPEN or CREATE, may come with a successful LOOKUP of a
	 * regular file, and comes with nothing else. */
	int want_fd = (req->type == GOFER_OPEN || req->type == GOFER_CREATE) && rep->err == 0;
	if (req->type == GOFER_LOOKUP && rep->err == 0 &&
	    (rep->lookup.st.mode & LINUX_S_IFMT) == LINUX_S_IFREG)
		want_fd = rfd >= 0;
	if (want_fd != (rfd >= 0)) {
		if (rfd >= 0)
			close(rfd);
		return broke(c, want_fd ? "OPEN/CREATE reply without an fd" : "unexpected fd",
			     -EPROTO);
	}
	if (fd)
		*fd = rfd;
	return 0;
}

int gofer_client_channels(struct gofer_client *c)
{
	struct gofer_req req = {.type = GOFER_CHANNELS};
	struct gofer_rep rep;
	int fds[GOFER_CHANNELS_MAX];
	size_t nfds = 0;
	int err;

	pthread_mutex_lock(&c->lock);
	if (c->nchans) {
		err = -EALREADY;
		goto out;
	}
	if ((err = exchange(c, c->sock, &req, &rep, fds, GOFER_CHANNELS_MAX, &nfds)) < 0)
		goto out; /* (nothing left open) */
	/* As many fds as CPUs (none with an error), each a connection: a socket (a file would
	 * take requests nowhere). */
	if (nfds != (rep.err ? 0 : rep.channels.count))
		err = broke(c, "CHANNELS fds", -EPROTO);
	else
		err = rep.err;
	for (size_t i = 0; err == 0 && i < nfds; i++) {
		struct stat st;
		if (host_fstat(fds[i], &st) < 0 || !S_ISSOCK(st.st_mode))
			err = broke(c, "CHANNELS fd is no socket", -EPROTO);
	}
	for (size_t i = 0; i < nfds; i++) {
		if (err == 0) {
			c->chan_cpu[i] = rep.channels.cpu[i];
			c->chan_sock[i] = fds[i];
		} else {
			close(fds[i]);
		}
	}
	if (err == 0)
		c->nchans = (uint32_t)nfds;
out:
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* Copy name (one component) into a request's name field. 0, -ENAMETOOLONG or -EINVAL. */
static int set_name(char *out, const char *name)
{
	size_t len = name ? strnlen(name, GOFER_NAME_MAX + 1) : 0;

	if (len > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	if (!gofer_name_valid(name, len))
		return -EINVAL;
	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
}

/* Copy path (names joined by '/'; NULL or "" for none if may_be_empty) into a request's
 * name field. 0, -ENAMETOOLONG or -EINVAL. */
static int set_path(char *out, const char *path, bool may_be_empty)
{
	size_t len = path ? strnlen(path, GOFER_PATH_MAX) : 0;

	if (len >= GOFER_PATH_MAX)
		return -ENAMETOOLONG;
	if (!(len == 0 && may_be_empty) && !gofer_path_valid(path, len))
		return -EINVAL;
	memcpy(out, path ? path : "", len);
	out[len] = '\0';
	return 0;
}

static int check_donated_fd(int fd, int flags);

/* A request answered in walk's shape (WALK ATTACH CREATE MKDIR SYMLINK LINK): the new fid and
 * its stat; for CREATE, fd gets the donated fd, checked against req->flags. */
static int call_new_fid(struct gofer_client *c, struct gofer_req *req, uint32_t *fid,
			struct gofer_stat *st, int *fd)
{
	struct gofer_rep rep;
	int err, rfd = -1;

	pthread_mutex_lock(&c->lock);
	err = transact(c, req, &rep, &rfd);
	if (err == 0 && (err = rep.err) == 0) {
		if (fd && check_donated_fd(rfd, (int)req->flags) < 0) {
			close(rfd);
			rfd = -1;
			err = broke(c, "CREATE donated an fd of the wrong kind", -EPROTO);
		} else {
			*fid = rep.walk.fid;
			*st = rep.walk.st;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (fd)
		*fd = rfd;
	return err;
}

/* A request answered with nothing (UNLINK RENAME CLUNK). */
static int call_plain(struct gofer_client *c, struct gofer_req *req)
{
	struct gofer_rep rep;
	int err;

	pthread_mutex_lock(&c->lock);
	err = transact(c, req, &rep, NULL);
	if (err == 0)
		err = rep.err;
	pthread_mutex_unlock(&c->lock);
	return err;
}

int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *path, uint32_t *fid,
	       struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_WALK, .fid = dir_fid};
	int err = set_path(req.name, path, false);

	return err < 0 ? err : call_new_fid(c, &req, fid, st, NULL);
}

int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st)
{
	return gofer_stat_at(c, fid, NULL, st);
}

int gofer_stat_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_STAT, .fid = fid};
	struct gofer_rep rep;
	int err = set_path(req.name, path, true);

	if (err < 0)
		return err;
	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0 && (err = rep.err) == 0)
		*st = rep.stat;
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* Is fd what an OPEN or CREATE with flags may donate: not O_PATH, the access mode asked for,
 * a regular file or directory (a directory if O_DIRECTORY was asked, a regular file if it
 * was opened for writing)? Returns 0 or -EIO. */
static int check_donated_fd(int fd, int flags)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL), acc = flags & LINUX_O_ACCMODE;

	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) != acc)
		return -EIO;
	if (acc != LINUX_O_RDONLY && host_fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
		return -EIO;
	if (host_fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return -EIO;
	if ((flags & LINUX_O_DIRECTORY) && !S_ISDIR(st.st_mode))
		return -EIO;
	return 0;
}

int gofer_open(struct gofer_client *c, uint32_t fid, int flags, int *fd)
{
	return gofer_open_at(c, fid, NULL, flags, fd);
}

/* transact for a reply that may carry an fd (*rfd, -1 when none came), which must be what an
 * open with flags gives. The gofer's answer (rep->err) or -errno. Caller holds c->lock. */
static int transact_fd(struct gofer_client *c, struct gofer_req *req, struct gofer_rep *rep,
		       int flags, int *rfd)
{
	int err = transact(c, req, rep, rfd);

	if (err == 0)
		err = rep->err;
	if (err == 0 && *rfd >= 0 && check_donated_fd(*rfd, flags) < 0) {
		close(*rfd);
		*rfd = -1;
		err = broke(c, "the gofer donated an fd of the wrong kind", -EPROTO);
	}
	return err;
}

int gofer_open_at(struct gofer_client *c, uint32_t fid, const char *path, int flags, int *fd)
{
	struct gofer_req req = {.type = GOFER_OPEN, .fid = fid, .flags = (uint32_t)flags};
	struct gofer_rep rep;
	int err = set_path(req.name, path, true), rfd = -1;

	if (err < 0)
		return err;
	pthread_mutex_lock(&c->lock);
	err = transact_fd(c, &req, &rep, flags, &rfd);
	pthread_mutex_unlock(&c->lock);
	if (err == 0)
		*fd = rfd;
	return err;
}

int gofer_lookup_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st,
		    int *fd, char *target, size_t size, size_t *target_len)
{
	struct gofer_req req = {.type = GOFER_LOOKUP, .fid = fid};
	struct gofer_rep rep;
	int err = set_path(req.name, path, true), rfd = -1;

	*fd = -1;
	*target_len = 0;
	if (err < 0)
		return err;
	pthread_mutex_lock(&c->lock);
	err = transact_fd(c, &req, &rep, LINUX_O_RDONLY, &rfd);
	if (err == 0) {
		*st = rep.lookup.st;
		if (rep.lookup.len && rep.lookup.len < size) {
			memcpy(target, rep.lookup.target, rep.lookup.len);
			target[rep.lookup.len] = '\0';
			*target_len = rep.lookup.len;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (err == 0)
		*fd = rfd;
	return err;
}

long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t size)
{
	return gofer_readlink_at(c, fid, NULL, buf, size);
}

long gofer_readlink_at(struct gofer_client *c, uint32_t fid, const char *path, char *buf,
		       size_t size)
{
	struct gofer_req req = {.type = GOFER_READLINK, .fid = fid};
	struct gofer_rep rep;
	long ret = set_path(req.name, path, true);

	if (ret < 0)
		return ret;
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
	struct gofer_dirent_array a = {.ents = ents};

	return gofer_readdir(c, fid, NULL, cookie, max, 0, gofer_dirent_array_add, &a, end);
}

long gofer_readdir(struct gofer_client *c, uint32_t fid, const char *path, uint64_t cookie,
		   size_t max, uint32_t flags, int (*fn)(void *arg, const struct gofer_dirent *e),
		   void *arg, bool *end)
{
	struct gofer_req req = {.type = GOFER_GETDENTS, .fid = fid};
	struct gofer_rep rep;
	long ret;

	if (end)
		*end = false;
	if (max == 0 || !GOFER_GETDENTS_FLAGS_VALID(flags))
		return -EINVAL;
	if ((ret = set_path(req.name, path, true)) < 0)
		return ret;
	req.getdents.cookie = cookie;
	req.getdents.max = (uint32_t)MIN(max, (size_t)UINT32_MAX);
	req.getdents.flags = flags;
	pthread_mutex_lock(&c->lock);
	ret = transact(c, &req, &rep, NULL);
	if (ret == 0 && (ret = rep.err) == 0) {
		/* (the decoder checked every entry already: fn sees only sound ones) */
		if (rep.getdents.flags != flags)
			ret = broke(c, "GETDENTS reply's entries are not what was asked", -EPROTO);
		else if (rep.getdents.count > req.getdents.max)
			ret = broke(c, "GETDENTS reply has more entries than asked", -EPROTO);
		else
			ret = gofer_dirents_each(rep.getdents.ents, rep.getdents.len,
						 rep.getdents.count, flags, fn, arg);
		if (ret == 0) {
			/* the largest entry there could have been room for */
			size_t most =
			    GOFER_DIRENT_HDR_SIZE + GOFER_NAME_MAX +
			    ((flags & GOFER_GETDENTS_STAT) ? GOFER_STAT_SIZE : 0) +
			    ((flags & GOFER_GETDENTS_TARGET) ? 2 + GOFER_PATH_MAX - 1 : 0);
			ret = rep.getdents.count;
			if (end)
				*end = (size_t)ret < req.getdents.max &&
				       rep.getdents.len + most <= GOFER_DENTS_SPACE;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int gofer_clunk(struct gofer_client *c, uint32_t fid)
{
	struct gofer_req req = {.type = GOFER_CLUNK, .fid = fid};

	return call_plain(c, &req);
}

int gofer_attach(struct gofer_client *c, uint32_t root, uint32_t *fid, struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_ATTACH, .fid = root};

	return call_new_fid(c, &req, fid, st, NULL);
}

int gofer_create(struct gofer_client *c, uint32_t dir, const char *name, int flags, uint32_t mode,
		 uint32_t *fid, struct gofer_stat *st, int *fd)
{
	struct gofer_req req = {.type = GOFER_CREATE, .fid = dir, .mode = mode};
	int err = set_name(req.name, name);

	*fd = -1;
	if (err < 0)
		return err;
	if ((flags & ~(LINUX_O_ACCMODE | LINUX_O_APPEND)) || (flags & LINUX_O_ACCMODE) == 3 ||
	    mode > 07777)
		return -EINVAL;
	req.flags = (uint32_t)flags;
	return call_new_fid(c, &req, fid, st, fd);
}

int gofer_mkdir(struct gofer_client *c, uint32_t dir, const char *name, uint32_t mode,
		uint32_t *fid, struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_MKDIR, .fid = dir, .mode = mode};
	int err = set_name(req.name, name);

	if (err == 0 && mode > 07777)
		err = -EINVAL;
	return err < 0 ? err : call_new_fid(c, &req, fid, st, NULL);
}

int gofer_symlink(struct gofer_client *c, uint32_t dir, const char *name, const char *target,
		  uint32_t *fid, struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_SYMLINK, .fid = dir};
	int err = set_name(req.name, name);
	size_t t = strnlen(target, GOFER_PATH_MAX);

	if (err < 0)
		return err;
	if (t == 0)
		return -ENOENT;
	if (t >= GOFER_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(req.target, target, t + 1);
	return call_new_fid(c, &req, fid, st, NULL);
}

int gofer_link(struct gofer_client *c, uint32_t dir, const char *name, uint32_t file, uint32_t *fid,
	       struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_LINK, .fid = dir, .fid2 = file};
	int err = set_name(req.name, name);

	return err < 0 ? err : call_new_fid(c, &req, fid, st, NULL);
}

int gofer_unlink(struct gofer_client *c, uint32_t dir, const char *name, unsigned flags)
{
	struct gofer_req req = {.type = GOFER_UNLINK, .fid = dir, .flags = flags};
	int err = set_name(req.name, name);

	return err < 0 ? err : call_plain(c, &req);
}

int gofer_rename(struct gofer_client *c, uint32_t odir, const char *oname, uint32_t ndir,
		 const char *nname, unsigned flags)
{
	struct gofer_req req = {.type = GOFER_RENAME, .fid = odir, .fid2 = ndir, .flags = flags};
	int err = set_name(req.name, oname);

	if (err == 0)
		err = set_name(req.name2, nname);
	return err < 0 ? err : call_plain(c, &req);
}

int gofer_setattr(struct gofer_client *c, uint32_t fid, const struct gofer_attr *a,
		  struct gofer_stat *st)
{
	struct gofer_req req = {.type = GOFER_SETATTR, .fid = fid, .mode = a->mode};
	struct gofer_rep rep;
	int err;

	req.setattr.valid = a->valid;
	req.setattr.uid = a->uid;
	req.setattr.gid = a->gid;
	req.setattr.size = a->size;
	req.setattr.atime_sec = a->atime_sec;
	req.setattr.atime_nsec = a->atime_nsec;
	req.setattr.mtime_sec = a->mtime_sec;
	req.setattr.mtime_nsec = a->mtime_nsec;
	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0 && (err = rep.err) == 0)
		*st = rep.stat;
	pthread_mutex_unlock(&c->lock);
	return err;
}

int gofer_statfs(struct gofer_client *c, uint32_t fid, struct gofer_statfs *st)
{
	struct gofer_req req = {.type = GOFER_STATFS, .fid = fid};
	struct gofer_rep rep;
	int err;

	pthread_mutex_lock(&c->lock);
	err = transact(c, &req, &rep, NULL);
	if (err == 0 && (err = rep.err) == 0)
		*st = rep.statfs;
	pthread_mutex_unlock(&c->lock);
	return err;
}
