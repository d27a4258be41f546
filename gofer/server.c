/* The gofer's request loop: a fid table of O_PATH fds beneath its roots, one request at a time.
 * Mutations (server_rw.c) happen only on a writable root; the gofer is where read-only is
 * enforced. */
#define _GNU_SOURCE
#include "gofer/gofer.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "gofer/protocol.h"
#include "gofer/server.h"

int srv_openat2_mode(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	long r;
	int tries = 64;

	do
		r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (r < 0 && (errno == EINTR || errno == EAGAIN) && --tries > 0);
	return r < 0 ? -errno : (int)r;
}

int srv_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	return srv_openat2_mode(dirfd, path, flags, 0, resolve);
}

void srv_node_put(struct node *n)
{
	if (n && --n->refs == 0) {
		close(n->fd);
		free(n);
	}
}

void srv_stat_to_gofer(const struct stat *s, struct gofer_stat *g)
{
	memset(g, 0, sizeof(*g));
	g->dev = s->st_dev;
	g->ino = s->st_ino;
	g->mode = s->st_mode; /* the host's S_IF* and permission bits are Linux's */
	g->nlink = s->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)s->st_nlink;
	g->uid = s->st_uid;
	g->gid = s->st_gid;
	g->rdev = s->st_rdev;
	g->size = (uint64_t)s->st_size;
	g->blocks = (uint64_t)s->st_blocks;
	g->atime_sec = s->st_atim.tv_sec;
	g->atime_nsec = (uint32_t)s->st_atim.tv_nsec;
	g->mtime_sec = s->st_mtim.tv_sec;
	g->mtime_nsec = (uint32_t)s->st_mtim.tv_nsec;
	g->ctime_sec = s->st_ctim.tv_sec;
	g->ctime_nsec = (uint32_t)s->st_ctim.tv_nsec;
	g->blksize = (uint32_t)s->st_blksize;
}

struct fid *srv_fid_get(struct server *s, uint32_t fid)
{
	if (fid >= s->nfids || s->fids[fid].node == NULL)
		return NULL;
	return &s->fids[fid];
}

/* A free slot, growing the table up to GOFER_FID_MAX. Returns its number or -ENFILE/-ENOMEM. */
static long fid_alloc(struct server *s)
{
	for (uint32_t i = s->hint; i < s->nfids; i++)
		if (s->fids[i].node == NULL) {
			s->hint = i + 1;
			return i;
		}
	if (s->nfids >= GOFER_FID_MAX)
		return -ENFILE;
	uint32_t n = s->nfids ? MIN(s->nfids * 2, GOFER_FID_MAX) : 64;
	struct fid *f = realloc(s->fids, n * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	memset(f + s->nfids, 0, (n - s->nfids) * sizeof(*f));
	s->fids = f;
	uint32_t i = s->nfids;
	s->nfids = n;
	s->hint = i + 1;
	return i;
}

void srv_fid_free(struct server *s, uint32_t i)
{
	struct fid *f = &s->fids[i];

	srv_node_put(f->node);
	srv_node_put(f->parent);
	free(f->name);
	memset(f, 0, sizeof(*f));
	if (i < s->hint)
		s->hint = i;
}

/* Open f for I/O with host flags (O_RDONLY plus O_DIRECTORY/O_NONBLOCK). Returns the fd or
 * -errno; -ESTALE if the name now leads to a different file. */
int srv_fid_reopen(struct fid *f, int flags)
{
	struct stat st;
	int fd;

	flags |= O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	if (S_ISDIR(f->mode))
		fd = srv_openat2(f->node->fd, ".", (uint64_t)flags | O_DIRECTORY, RESOLVE_ONE);
	else if (f->parent)
		fd = srv_openat2(f->parent->fd, f->name, (uint64_t)flags, RESOLVE_ONE);
	else
		return -EBADF;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* Make a new fid for the O_PATH fd *fd (taken: *fd is -1 after) named name in the directory
 * node parent (a reference is taken) of root, and fill rep's walk part. 0 or -errno. */
static int fid_add_node(struct server *s, struct node *parent, uint32_t root, const char *name,
			int *fd, struct gofer_rep *rep)
{
	struct stat st;

	if (fstat(*fd, &st) < 0)
		return -errno;
	struct node *n = malloc(sizeof(*n));
	char *nm = strdup(name);
	long i = n && nm ? fid_alloc(s) : -ENOMEM;
	if (i < 0) {
		free(n);
		free(nm);
		return (int)i;
	}
	n->fd = steal_fd(fd);
	n->refs = 1;
	parent->refs++;
	s->fids[i] = (struct fid){.node = n,
				  .parent = parent,
				  .name = nm,
				  .mode = st.st_mode,
				  .dev = st.st_dev,
				  .ino = st.st_ino,
				  .root = root};
	rep->walk.fid = (uint32_t)i;
	srv_stat_to_gofer(&st, &rep->walk.st);
	return 0;
}

int srv_fid_add(struct server *s, uint32_t dir_fid, const char *name, int *fd,
		struct gofer_rep *rep)
{
	struct fid *dir = &s->fids[dir_fid];

	/* (fid_alloc may move the table, not the node) */
	return fid_add_node(s, dir->node, dir->root, name, fd, rep);
}

/* The directory fid a request names, after the checks every directory request makes; with
 * mutate, the root must be writable (-EROFS otherwise, checked before anything about the
 * request's name or the file). NULL and *err on failure. */
struct fid *srv_dir_fid(struct server *s, uint32_t fid, bool mutate, int *err)
{
	struct fid *dir = srv_fid_get(s, fid);

	*err = 0;
	if (dir == NULL)
		*err = -EBADF;
	else if (mutate && !s->roots[dir->root].writable)
		*err = -EROFS;
	else if (!S_ISDIR(dir->mode))
		*err = -ENOTDIR;
	return *err ? NULL : dir;
}

/* Open name in dir as O_PATH without following it, and add it as a new fid. */
int srv_walk_to(struct server *s, uint32_t dfid, const char *name, struct gofer_rep *rep)
{
	_cleanup_close_ int fd = -1;

	/* The decoder checked the name; check again, this is the gofer's last line. */
	if (!gofer_name_valid(name, strlen(name)))
		return -EINVAL;
	/* A final symlink is opened as itself (O_PATH | O_NOFOLLOW), never followed. */
	fd =
	    srv_openat2(s->fids[dfid].node->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
	if (fd < 0)
		return fd;
	return srv_fid_add(s, dfid, name, &fd, rep);
}

/* WALK of a path: its directory part is opened first (no symlink on the way), so the new fid's
 * parent is the directory that holds it, as after a walk of one name: a rename of that
 * directory (on a writable root) then moves the fid with it. */
static int do_walk(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	const char *slash = strrchr(req->name, '/');
	_cleanup_close_ int dfd = -1, fd = -1;
	struct fid *dir;
	int err;

	if (!(dir = srv_dir_fid(s, req->fid, false, &err)))
		return err;
	if (!slash)
		return srv_walk_to(s, req->fid, req->name, rep);
	if (!gofer_path_valid(req->name, strlen(req->name)))
		return -EINVAL;
	char *prefix = strndup(req->name, (size_t)(slash - req->name));
	if (prefix == NULL)
		return -ENOMEM;
	dfd = srv_openat2(dir->node->fd, prefix, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
	free(prefix);
	if (dfd < 0)
		return dfd;
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) /* a symlink on the way is -ELOOP, as in one openat2 */
		return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
	fd = srv_openat2(dfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
	if (fd < 0)
		return fd;
	struct node *parent = malloc(sizeof(*parent));
	if (parent == NULL)
		return -ENOMEM;
	*parent = (struct node){.fd = steal_fd(&dfd), .refs = 1};
	err = fid_add_node(s, parent, dir->root, slash + 1, &fd, rep);
	srv_node_put(parent); /* the new fid holds it, if it was made */
	return err;
}

/* The file a STAT, OPEN, READLINK or GETDENTS names: the fid itself (empty path), or the path
 * beneath it, opened O_PATH now (no symlink followed, nothing outside reached) into *t as a
 * fid of its own that reopens as fid + path, with its fstat in t->st (t->have_st). Release
 * with target_done. NULL and *err on failure (-EBADF, -EINVAL for a bad path, the host's
 * -ENOENT, -ENOTDIR, -ELOOP...). */
struct target {
	struct fid f;
	struct node node;
	struct stat st;
	bool have_st;
};

static struct fid *req_target(struct server *s, const struct gofer_req *req, struct target *t,
			      int *err)
{
	struct fid *f = srv_fid_get(s, req->fid);
	struct stat *st = &t->st;
	int fd;

	t->node.fd = -1;
	t->have_st = false;
	if (f == NULL) {
		*err = -EBADF;
		return NULL;
	}
	if (req->name[0] == '\0')
		return f;
	if (!gofer_path_valid(req->name, strlen(req->name))) {
		*err = -EINVAL;
		return NULL;
	}
	fd = srv_openat2(f->node->fd, req->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	if (fstat(fd, st) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	t->have_st = true;
	t->node = (struct node){.fd = fd, .refs = 1};
	t->f = (struct fid){.node = &t->node,
			    .parent = f->node,
			    .name = (char *)req->name,
			    .mode = st->st_mode,
			    .dev = st->st_dev,
			    .ino = st->st_ino,
			    .root = f->root};
	return &t->f;
}

static void target_done(struct target *t)
{
	if (t->node.fd >= 0)
		close(t->node.fd);
}

static int do_attach(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct stat st;

	if (req->fid >= s->nroots)
		return -ENOENT;
	const struct fid *r = &s->roots[req->fid].f;
	if (fstat(r->node->fd, &st) < 0)
		return -errno;
	if (st.st_dev != r->dev || st.st_ino != r->ino)
		return -ESTALE;
	char *name = r->name ? strdup(r->name) : NULL;
	long i = !r->name || name ? fid_alloc(s) : -ENOMEM;
	if (i < 0) {
		free(name);
		return (int)i;
	}
	r = &s->roots[req->fid].f;
	r->node->refs++;
	if (r->parent)
		r->parent->refs++;
	s->fids[i] = *r;
	s->fids[i].name = name;
	rep->walk.fid = (uint32_t)i;
	srv_stat_to_gofer(&st, &rep->walk.st);
	return 0;
}

/* Clear O_NONBLOCK (set so a FIFO raced in cannot block the gofer) before donating fd.
 * Returns 0, or -errno and closes fd. */
int srv_clear_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, 0) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return 0;
}

/* Only regular files and directories are opened (a FIFO or device of the host is never the
 * Sentry's business). Anything that could write is -EROFS on a read-only root; on a writable
 * one a regular file may be opened for writing (and truncated); O_CREAT belongs to CREATE. */
static int open_fid(struct server *s, struct fid *f, uint32_t fl, int *out_fd)
{
	uint32_t acc = fl & LINUX_O_ACCMODE;
	int fd, hflags, err;

	/* O_TMPFILE includes O_DIRECTORY's bit: test it whole. */
	bool writes = acc != LINUX_O_RDONLY || (fl & (LINUX_O_CREAT | LINUX_O_TRUNC)) ||
		      (fl & LINUX_O_TMPFILE) == LINUX_O_TMPFILE;
	if (writes && !s->roots[f->root].writable)
		return -EROFS;
	if ((fl & LINUX_O_PATH) || (fl & LINUX_O_CREAT) || acc == 3 ||
	    (fl & LINUX_O_TMPFILE) == LINUX_O_TMPFILE)
		return -EINVAL;
	if (S_ISDIR(f->mode)) {
		if (writes)
			return -EISDIR;
		fd = srv_fid_reopen(f, O_RDONLY | O_DIRECTORY);
	} else if (S_ISREG(f->mode)) {
		if (fl & LINUX_O_DIRECTORY)
			return -ENOTDIR;
		hflags = acc == LINUX_O_WRONLY ? O_WRONLY : acc == LINUX_O_RDWR ? O_RDWR : O_RDONLY;
		if (fl & LINUX_O_TRUNC)
			hflags |= O_TRUNC;
		/* O_NONBLOCK so that a FIFO raced into the file's place cannot block the gofer
		 * (srv_fid_reopen then refuses it by inode); cleared before the fd is donated. */
		fd = srv_fid_reopen(f, hflags | O_NONBLOCK);
		if (fd >= 0 && (err = srv_clear_nonblock(fd)) < 0)
			return err;
	} else if (S_ISLNK(f->mode)) {
		return -ELOOP;
	} else {
		return -ENXIO;
	}
	if (fd < 0)
		return fd;
	*out_fd = fd;
	return 0;
}

static int do_open(struct server *s, const struct gofer_req *req, int *out_fd)
{
	struct target t;
	int err = 0;
	struct fid *f = req_target(s, req, &t, &err);

	if (f == NULL)
		return err;
	err = open_fid(s, f, req->flags, out_fd);
	target_done(&t);
	return err;
}

static int readlink_fid(struct fid *f, uint8_t *out, struct gofer_rep *rep)
{
	if (!S_ISLNK(f->mode))
		return -EINVAL;
	char *buf = (char *)out;
	ssize_t n = readlinkat(f->node->fd, "", buf, GOFER_PATH_MAX);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EIO;
	if ((size_t)n >= GOFER_PATH_MAX)
		return -ENAMETOOLONG;
	rep->readlink.target = buf;
	rep->readlink.len = (uint32_t)n;
	return 0;
}

static int do_readlink(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct target t;
	int err = 0;
	struct fid *f = req_target(s, req, &t, &err);

	if (f == NULL)
		return err;
	/* The target goes into the reply buffer, past the part the reply header takes. */
	err = readlink_fid(f, s->dents, rep);
	target_done(&t);
	return err;
}

/* STAT; LOOKUP is STAT, and for a symlink READLINK and for a regular file OPEN (read-only)
 * while the file is at hand: a file that could not be opened (the gofer may not read it) comes
 * without its fd. */
static int do_stat(struct server *s, const struct gofer_req *req, struct gofer_rep *rep,
		   int *out_fd)
{
	struct target t;
	int err = 0;
	struct fid *f = req_target(s, req, &t, &err);
	struct stat st;

	if (f == NULL)
		return err;
	/* A path's target was just opened and stat'ed; the fid itself is stat'ed now. */
	if (t.have_st)
		st = t.st;
	else if (fstat(f->node->fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (req->type == GOFER_STAT) {
		srv_stat_to_gofer(&st, &rep->stat);
		goto out;
	}
	srv_stat_to_gofer(&st, &rep->lookup.st);
	if (S_ISLNK(st.st_mode)) {
		struct gofer_rep rl;
		/* The target goes into the reply buffer, past the part the reply header takes. */
		if (readlink_fid(f, s->dents, &rl) == 0) {
			rep->lookup.target = rl.readlink.target;
			rep->lookup.len = rl.readlink.len;
		}
	} else if (S_ISREG(st.st_mode) && S_ISREG(f->mode)) {
		open_fid(s, f, LINUX_O_RDONLY, out_fd); /* sets *out_fd only when it opened */
	}
out:
	target_done(&t);
	return err;
}

/* Entries after cookie. The cookie is the host's d_off of the last entry returned (the
 * offset of the next one), so each call is a fresh open + lseek + getdents64 and the gofer
 * keeps no per-directory state; the Sentry can hand the same values to the application as
 * its d_off. (Local filesystems never give an entry d_off 0, which would mean "start".) */
static int getdents_fid(struct server *s, struct fid *f, const struct gofer_req *req,
			struct gofer_rep *rep)
{
	uint8_t dbuf[32768] __attribute__((aligned(8)));
	size_t off = 0;
	uint32_t count = 0;
	bool full = false, with_stat = req->getdents.flags & GOFER_GETDENTS_STAT;
	bool with_target = req->getdents.flags & GOFER_GETDENTS_TARGET;
	char target[GOFER_PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat hst;
	struct gofer_stat gst;

	if (!S_ISDIR(f->mode))
		return -ENOTDIR;
	if (req->getdents.max == 0 || req->getdents.cookie > INT64_MAX ||
	    !GOFER_GETDENTS_FLAGS_VALID(req->getdents.flags))
		return -EINVAL;
	fd = srv_fid_reopen(f, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	if (req->getdents.cookie && lseek(fd, (off_t)req->getdents.cookie, SEEK_SET) < 0)
		return -errno;
	while (!full) {
		ssize_t n = getdents64(fd, dbuf, sizeof(dbuf));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (size_t pos = 0; pos < (size_t)n && !full;) {
			struct dirent64 *d = (struct dirent64 *)(dbuf + pos);
			pos += d->d_reclen;
			size_t len = strlen(d->d_name);
			if (!gofer_name_valid(d->d_name, len))
				continue; /* "." and ".." */
			/* One name of the directory just read, not followed: nothing else is
			 * reached. Gone meanwhile: left out, as if read a moment later. */
			if (with_stat) {
				if (fstatat(fd, d->d_name, &hst, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				srv_stat_to_gofer(&hst, &gst);
			}
			/* A symlink's target, read the same way (the link itself, not followed);
			 * none if that fails or it changed into something else meanwhile. */
			ssize_t tlen = 0;
			if (with_target && S_ISLNK(hst.st_mode)) {
				tlen = readlinkat(fd, d->d_name, target, sizeof(target));
				if (tlen < 0 || (size_t)tlen >= sizeof(target) ||
				    memchr(target, '\0', (size_t)tlen))
					tlen = 0;
			}
			int err = with_target
				      ? gofer_dirent_pack_target(s->dents, GOFER_DENTS_SPACE, &off,
								 d->d_ino, (uint64_t)d->d_off,
								 d->d_type, d->d_name, len, &gst,
								 target, (size_t)tlen)
				      : gofer_dirent_pack(s->dents, GOFER_DENTS_SPACE, &off,
							  d->d_ino, (uint64_t)d->d_off, d->d_type,
							  d->d_name, len, with_stat ? &gst : NULL);
			if (err == -ENOSPC)
				full = true;
			else if (err == 0 && ++count == req->getdents.max)
				full = true;
		}
	}
	rep->getdents.count = count;
	rep->getdents.flags = req->getdents.flags;
	rep->getdents.ents = s->dents;
	rep->getdents.len = (uint32_t)off;
	return 0;
}

static int do_getdents(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct target t;
	int err = 0;
	struct fid *f = req_target(s, req, &t, &err);

	if (f == NULL)
		return err;
	err = getdents_fid(s, f, req, rep);
	target_done(&t);
	return err;
}

static int do_clunk(struct server *s, const struct gofer_req *req)
{
	if (req->fid == GOFER_ROOT_FID)
		return -EINVAL; /* the root lives as long as the connection */
	if (srv_fid_get(s, req->fid) == NULL)
		return -EBADF;
	srv_fid_free(s, req->fid);
	return 0;
}

/* Answer one decoded request; *fd gets an fd to donate with the reply (OPEN). */
static int dispatch(struct server *s, const struct gofer_req *req, struct gofer_rep *rep, int *fd)
{
	switch (req->type) {
	case GOFER_WALK:
		return do_walk(s, req, rep);
	case GOFER_STAT:
	case GOFER_LOOKUP:
		return do_stat(s, req, rep, fd);
	case GOFER_OPEN:
		return do_open(s, req, fd);
	case GOFER_READLINK:
		return do_readlink(s, req, rep);
	case GOFER_GETDENTS:
		return do_getdents(s, req, rep);
	case GOFER_CLUNK:
		return do_clunk(s, req);
	case GOFER_ATTACH:
		return do_attach(s, req, rep);
	case GOFER_CREATE:
		return srv_create(s, req, rep, fd);
	case GOFER_MKDIR:
		return srv_mkdir(s, req, rep);
	case GOFER_UNLINK:
		return srv_unlink(s, req);
	case GOFER_RENAME:
		return srv_rename(s, req);
	case GOFER_SYMLINK:
		return srv_symlink(s, req, rep);
	case GOFER_LINK:
		return srv_link(s, req, rep);
	case GOFER_SETATTR:
		return srv_setattr(s, req, rep);
	case GOFER_STATFS:
		return srv_statfs(s, req, rep);
	default:
		return -EINVAL;
	}
}

/* Send len bytes of s->out on sock, with fds[0..nfds) attached. Returns 0 or -errno. */
static int send_reply(struct server *s, int sock, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * GOFER_CHANNELS_MAX)];
	} cbuf;
	struct iovec iov = {.iov_base = s->out, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t r = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Receive one request on sock into in (GOFER_MSG_MAX + 1 bytes). Returns its length, 0 at
 * EOF, -EPROTO for fds or an oversized datagram, or -errno. */
static ssize_t recv_request(int sock, uint8_t *in)
{
	struct iovec iov = {.iov_base = in, .iov_len = GOFER_MSG_MAX + 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* No control buffer: any fds the peer sent are dropped by the kernel, not installed. */
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EPROTO;
	return n;
}

/* CHANNELS: the Sentry's ends of the channels, once (their fds go into fds). */
static int do_channels(struct server *s, struct gofer_rep *rep, int *fds, size_t *nfds)
{
	struct gofer_channels *ch = s->chans;

	if (!ch || ch->n == 0)
		return -EOPNOTSUPP;
	if (ch->cli[0] < 0)
		return -EALREADY;
	rep->channels.count = ch->n;
	for (uint32_t i = 0; i < ch->n; i++) {
		rep->channels.cpu[i] = ch->cpu[i];
		fds[i] = ch->cli[i];
	}
	*nfds = ch->n;
	return 0;
}

/* Answer the n-byte request in in, which came on sock. Caller holds s->lock. Returns 0 to go
 * on, 1 when the peer is gone, or -errno to stop. */
static int answer(struct server *s, int sock, const uint8_t *in, size_t n)
{
	struct gofer_req req;
	struct gofer_rep rep;
	int fds[GOFER_CHANNELS_MAX], fd = -1;
	size_t nfds = 0;

	int err = gofer_decode_req(in, n, &req);
	if (err < 0 && req.type == 0) {
		log_warn("gofer: malformed message (%zu bytes), closing", n);
		return -EPROTO;
	}
	memset(&rep, 0, sizeof(rep));
	rep.type = req.type;
	rep.tag = req.tag;
	if (err == 0 && req.type == GOFER_CHANNELS) {
		rep.err = do_channels(s, &rep, fds, &nfds);
	} else {
		rep.err = err < 0 ? err : dispatch(s, &req, &rep, &fd);
		if (fd >= 0)
			fds[nfds++] = fd;
	}
	ssize_t len = gofer_encode_rep(s->out, GOFER_MSG_MAX, &rep);
	if (len < 0) { /* cannot happen for what dispatch builds; answer with the error */
		log_warn("gofer: cannot encode reply to type %u: %zd", req.type, len);
		if (fd >= 0)
			close(fd);
		fd = -1;
		nfds = 0;
		rep.err = -EIO;
		len = gofer_encode_rep(s->out, GOFER_MSG_MAX, &rep);
		if (len < 0)
			return (int)len;
	}
	err = send_reply(s, sock, (size_t)len, fds, nfds);
	if (fd >= 0)
		close(fd); /* the peer has its own copy now */
	if (req.type == GOFER_CHANNELS && nfds > 0) {
		/* Handed over (or lost with a connection that failed): not ours any more. */
		for (uint32_t i = 0; i < s->chans->n; i++) {
			close(s->chans->cli[i]);
			s->chans->cli[i] = -1;
		}
	}
	if (err == -EPIPE || err == -ECONNRESET)
		return 1;
	return err;
}

/* What recv_request on sock into in returned (n), answered in turn with every other
 * connection's requests. Returns 0 to go on, 1 at EOF (or once stopped), or -errno to stop. */
static int serve_one(struct server *s, int sock, const uint8_t *in, ssize_t n)
{
	if (n == 0)
		return 1;
	if (n < 0)
		return (int)n;
	pthread_mutex_lock(&s->lock);
	int r = s->stopped ? 1 : answer(s, sock, in, (size_t)n);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static struct node *node_new(int fd)
{
	struct node *n = malloc(sizeof(*n));
	if (n)
		*n = (struct node){.fd = fd, .refs = 1};
	return n;
}

/* Make roots[i] of s from r (taking r->fd). Returns 0 or -errno (r->fd closed). */
static int root_init(struct root *out, const struct gofer_root *r)
{
	struct stat st;
	int fd = r->fd;

	*out = (struct root){.writable = r->writable};
	if (r->name) {
		if (!gofer_name_valid(r->name, strlen(r->name))) {
			close(r->fd);
			return -EINVAL;
		}
		fd = srv_openat2(r->fd, r->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
		if (fd < 0) {
			close(r->fd);
			return fd;
		}
		if (!(out->f.parent = node_new(r->fd))) {
			close(r->fd);
			close(fd);
			return -ENOMEM;
		}
		if (!(out->f.name = strdup(r->name))) {
			close(fd);
			return -ENOMEM;
		}
	}
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	/* A directory root is a directory; a file root is a regular file. */
	if (r->name ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode)) {
		close(fd);
		return r->name ? -EINVAL : -ENOTDIR;
	}
	if (!(out->f.node = node_new(fd))) {
		close(fd);
		return -ENOMEM;
	}
	out->f.mode = st.st_mode;
	out->f.dev = st.st_dev;
	out->f.ino = st.st_ino;
	return 0;
}

static void root_free(struct root *r)
{
	srv_node_put(r->f.node);
	srv_node_put(r->f.parent);
	free(r->f.name);
}

/* The server the channels' threads serve, once gofer_serve_roots has made it. A request can
 * reach a channel only after CHANNELS handed its other end over, which gofer_serve_roots
 * answers: the socket orders this store before any channel's first request. */
static struct server *g_served;

struct chan_thread {
	struct gofer_channels *ch;
	uint32_t i;
};

static void *channel_main(void *arg)
{
	struct chan_thread *t = arg;
	struct gofer_channels *ch = t->ch;
	uint32_t i = t->i;
	cpu_set_t one;
	int r;

	free(t);
	CPU_ZERO(&one);
	CPU_SET(ch->cpu[i], &one);
	/* Everything a thread's first calls would bring (its malloc arena: glibc sizes the
	 * limit by reading /sys, which the filter kills) is done now, before the filter. */
	uint8_t *in = malloc(GOFER_MSG_MAX + 1);
	int ok = in && sched_setaffinity(0, sizeof(one), &one) == 0;
	thread_short_slice(GOFER_SLICE_NS);
	__atomic_store_n(&ch->ready[i], ok ? 1 : -1, __ATOMIC_RELEASE);
	if (!ok)
		return NULL; /* before the filter: a normal thread exit */
	do {
		ssize_t n = recv_request(ch->srv[i], in);
		struct server *s = __atomic_load_n(&g_served, __ATOMIC_ACQUIRE);
		/* (no server yet: only a peer that made up the connection could have sent it) */
		r = s ? serve_one(s, ch->srv[i], in, n) : n == 0 ? 1 : -EPROTO;
	} while (r == 0);
	if (r < 0) {
		log_error("gofer: channel %u: %d", i, r);
		_exit(1); /* as the first connection's end: the whole gofer stops */
	}
	/* The Sentry closed it. Only the thread ends, with the bare exit(2): glibc's thread exit
	 * blocks every signal first (rt_sigprocmask), which the filter does not allow. */
	syscall(SYS_exit, 0);
	return NULL;
}

void gofer_channels_open(struct gofer_channels *ch)
{
	cpu_set_t set;
	uint32_t n = 0;

	memset(ch, 0, sizeof(*ch));
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < GOFER_CHANNELS_MAX; cpu++) {
		int sv[2];
		struct chan_thread *t;

		if (!CPU_ISSET(cpu, &set))
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			break;
		ch->cpu[n] = (uint32_t)cpu;
		ch->srv[n] = sv[0];
		ch->cli[n] = sv[1];
		t = malloc(sizeof(*t));
		if (t)
			*t = (struct chan_thread){.ch = ch, .i = n};
		if (!t || thread_start_detached(NULL, channel_main, t, 256 << 10, true) < 0) {
			free(t);
			close(sv[0]);
			close(sv[1]);
			break;
		}
		n++;
	}
	/* Wait until each is set up: the filter comes next. */
	for (uint32_t i = 0; i < n; i++)
		while (!__atomic_load_n(&ch->ready[i], __ATOMIC_ACQUIRE))
			sched_yield();
	ch->n = n;
	for (uint32_t i = 0; i < n; i++) {
		if (ch->ready[i] > 0)
			continue;
		/* A thread that could not set up leaves no channel at all: CHANNELS would hand
		 * over a connection nobody serves. The others end at EOF. */
		for (uint32_t j = 0; j < n; j++) {
			close(ch->srv[j]);
			close(ch->cli[j]);
		}
		ch->n = 0;
		break;
	}
}

int gofer_serve_roots(int sock, const struct gofer_root *roots, size_t nroots,
		      struct gofer_channels *chans)
{
	/* On the heap: the channels' threads may still wait for its lock when this returns. */
	struct server *s = calloc(1, sizeof(*s));
	uint8_t *in = malloc(GOFER_MSG_MAX + 1);
	int ret = 0;
	size_t i;

	if (!s || !in)
		ret = -ENOMEM;
	else if (nroots == 0 || nroots > GOFER_ROOTS_MAX || roots[0].name)
		ret = -EINVAL;
	if (ret < 0) {
		for (i = 0; i < nroots; i++)
			close(roots[i].fd);
		free(s);
		free(in);
		return ret;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->chans = chans;
	s->roots = calloc(nroots, sizeof(*s->roots));
	for (i = 0; i < nroots; i++) {
		if (ret == 0 && !s->roots)
			ret = -ENOMEM;
		if (ret < 0) {
			close(roots[i].fd);
			continue;
		}
		ret = root_init(&s->roots[i], &roots[i]);
		s->roots[i].f.root = (uint32_t)i;
		s->nroots = (uint32_t)i + 1;
	}
	if (ret < 0)
		goto out;
	s->out = malloc(GOFER_MSG_MAX);
	s->dents = malloc(GOFER_DENTS_SPACE);
	if (!s->out || !s->dents || fid_alloc(s) != GOFER_ROOT_FID) {
		ret = -ENOMEM;
		goto out;
	}
	/* Fid 0 is root 0 for the connection's life. */
	s->fids[0] = s->roots[0].f;
	s->fids[0].node->refs++;
	if (chans)
		__atomic_store_n(&g_served, s, __ATOMIC_RELEASE);
	while ((ret = serve_one(s, sock, in, recv_request(sock, in))) == 0)
		;
	if (ret == 1)
		ret = 0;
out:
	/* The channels' threads find it stopped from now on; the server itself stays. */
	pthread_mutex_lock(&s->lock);
	s->stopped = true;
	for (uint32_t j = s->nfids; j-- > 0;)
		if (s->fids[j].node)
			srv_fid_free(s, j);
	for (uint32_t j = 0; j < s->nroots; j++)
		root_free(&s->roots[j]);
	free(s->roots);
	free(s->fids);
	free(s->out);
	free(s->dents);
	s->roots = NULL;
	s->fids = NULL;
	s->nroots = s->nfids = 0;
	pthread_mutex_unlock(&s->lock);
	free(in);
	if (!chans || chans->n == 0)
		free(s);
	return ret;
}

int gofer_serve(int sock, int root_fd)
{
	struct gofer_root r = {.fd = root_fd};

	return gofer_serve_roots(sock, &r, 1, NULL);
}
