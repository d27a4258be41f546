/* The gofer's mutations (CREATE MKDIR SYMLINK LINK UNLINK RENAME SETATTR) and STATFS: each on
 * a directory fid and one name, beneath the fid's O_PATH fd; -EROFS on a read-only root. */
#define _GNU_SOURCE
#include "gofer/server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/util.h"

/* CREATE: a new regular file, opened (the fd is donated) and walked (a new fid). */
int srv_create(struct server *s, const struct gofer_req *req, struct gofer_rep *rep, int *out_fd)
{
	uint32_t acc = req->flags & LINUX_O_ACCMODE;
	int err, hflags = acc == LINUX_O_WRONLY ? O_WRONLY
			  : acc == LINUX_O_RDWR ? O_RDWR
						: O_RDONLY;
	struct stat a, b;
	_cleanup_close_ int fd = -1, pfd = -1;

	struct fid *dir = srv_dir_fid(s, req->fid, true, &err);
	if (!dir)
		return err;
	if (!gofer_name_valid(req->name, strlen(req->name)) || req->mode > 07777)
		return -EINVAL;
	fd = srv_openat2_mode(
	    dir->node->fd, req->name,
	    (uint64_t)(hflags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK),
	    req->mode, RESOLVE_ONE);
	if (fd < 0)
		return fd;
	pfd = srv_openat2(dir->node->fd, req->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_ONE);
	if (pfd < 0)
		return pfd;
	if (fstat(fd, &a) < 0 || fstat(pfd, &b) < 0)
		return -errno;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -ESTALE; /* replaced on the host between the two opens */
	if ((err = srv_fid_add(s, req->fid, req->name, &pfd, rep)) < 0)
		return err;
	if ((err = srv_clear_nonblock(fd)) < 0) {
		srv_fid_free(s, rep->walk.fid);
		fd = -1;
		return err;
	}
	*out_fd = steal_fd(&fd);
	return 0;
}

int srv_mkdir(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	int err;

	if (!srv_dir_fid(s, req->fid, true, &err))
		return err;
	if (!gofer_name_valid(req->name, strlen(req->name)) || req->mode > 07777)
		return -EINVAL;
	if (mkdirat(s->fids[req->fid].node->fd, req->name, req->mode) < 0)
		return -errno;
	return srv_walk_to(s, req->fid, req->name, rep);
}

int srv_symlink(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	int err;

	if (!srv_dir_fid(s, req->fid, true, &err))
		return err;
	if (!gofer_name_valid(req->name, strlen(req->name)) || req->target[0] == '\0')
		return -EINVAL;
	/* The target is only text: it is never followed by the gofer (every lookup here is
	 * RESOLVE_NO_SYMLINKS), and the Sentry resolves it inside the sandbox. */
	if (symlinkat(req->target, s->fids[req->fid].node->fd, req->name) < 0)
		return -errno;
	return srv_walk_to(s, req->fid, req->name, rep);
}

/* LINK: another name, in directory fid, for the file fid2 (through its O_PATH fd, so it is
 * exactly the walked file whatever happened to its old name). */
int srv_link(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct fid *old = srv_fid_get(s, req->fid2);
	int err;

	struct fid *dir = srv_dir_fid(s, req->fid, true, &err);
	if (!dir)
		return err;
	if (old == NULL)
		return -EBADF;
	if (old->root != dir->root)
		return -EXDEV;
	if (S_ISDIR(old->mode))
		return -EPERM;
	if (!gofer_name_valid(req->name, strlen(req->name)))
		return -EINVAL;
	if (linkat(old->node->fd, "", dir->node->fd, req->name, AT_EMPTY_PATH) < 0)
		return -errno;
	return srv_walk_to(s, req->fid, req->name, rep);
}

int srv_unlink(struct server *s, const struct gofer_req *req)
{
	int err;

	struct fid *dir = srv_dir_fid(s, req->fid, true, &err);
	if (!dir)
		return err;
	if (!gofer_name_valid(req->name, strlen(req->name)) ||
	    (req->flags != 0 && req->flags != LINUX_AT_REMOVEDIR))
		return -EINVAL;
	if (unlinkat(dir->node->fd, req->name, req->flags ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	return 0;
}

/* RENAME within one root. Fids naming the moved entry follow it (they are reopened through
 * parent + name). */
int srv_rename(struct server *s, const struct gofer_req *req)
{
	int err;

	struct fid *od = srv_dir_fid(s, req->fid, true, &err);
	if (!od)
		return err;
	struct fid *nd = srv_dir_fid(s, req->fid2, true, &err);
	if (!nd)
		return err;
	if (od->root != nd->root)
		return -EXDEV;
	if (!gofer_name_valid(req->name, strlen(req->name)) ||
	    !gofer_name_valid(req->name2, strlen(req->name2)) ||
	    (req->flags != 0 && req->flags != LINUX_RENAME_NOREPLACE))
		return -EINVAL;
	/* The raw call: glibc turns renameat2 without flags into renameat, which the seccomp
	 * allowlist does not have. */
	if (syscall(SYS_renameat2, od->node->fd, req->name, nd->node->fd, req->name2,
		    req->flags ? RENAME_NOREPLACE : 0) < 0)
		return -errno;
	struct node *from = od->node, *to = nd->node;
	for (uint32_t i = 0; i < s->nfids; i++) {
		struct fid *f = &s->fids[i];
		if (!f->node || f->parent != from || strcmp(f->name, req->name) != 0)
			continue;
		char *nm = strdup(req->name2);
		if (!nm) {
			/* the fid goes stale (-ESTALE on reopen), nothing worse */
			continue;
		}
		free(f->name);
		f->name = nm;
		to->refs++;
		srv_node_put(f->parent);
		f->parent = to;
	}
	return 0;
}

/* SETATTR of a regular file or directory (through a reopened fd), or the owner of anything. */
int srv_setattr(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct fid *f = srv_fid_get(s, req->fid);
	uint32_t v = req->setattr.valid;
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (f == NULL)
		return -EBADF;
	if (!s->roots[f->root].writable)
		return -EROFS;
	if ((v & ~GOFER_SETATTR_ALL) || req->mode > 07777 || req->setattr.size > INT64_MAX)
		return -EINVAL;
	if ((v & GOFER_SETATTR_SIZE) && !S_ISREG(f->mode))
		return S_ISDIR(f->mode) ? -EISDIR : -EINVAL;
	if (v &
	    (GOFER_SETATTR_MODE | GOFER_SETATTR_SIZE | GOFER_SETATTR_ATIME | GOFER_SETATTR_MTIME)) {
		if (!S_ISREG(f->mode) && !S_ISDIR(f->mode))
			return -EOPNOTSUPP;
		int fl = S_ISDIR(f->mode)	    ? O_RDONLY | O_DIRECTORY
			 : (v & GOFER_SETATTR_SIZE) ? O_WRONLY | O_NONBLOCK
						    : O_RDONLY | O_NONBLOCK;
		if ((fd = srv_fid_reopen(f, fl)) < 0)
			return fd;
	}
	if ((v & (GOFER_SETATTR_UID | GOFER_SETATTR_GID)) &&
	    fchownat(f->node->fd, "", v & GOFER_SETATTR_UID ? req->setattr.uid : (uid_t)-1,
		     v & GOFER_SETATTR_GID ? req->setattr.gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((v & GOFER_SETATTR_MODE) && fchmod(fd, req->mode) < 0)
		return -errno;
	if ((v & GOFER_SETATTR_SIZE) && ftruncate(fd, (off_t)req->setattr.size) < 0)
		return -errno;
	if (v & (GOFER_SETATTR_ATIME | GOFER_SETATTR_MTIME)) {
		struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
		if (v & GOFER_SETATTR_ATIME)
			ts[0] = (struct timespec){req->setattr.atime_sec, req->setattr.atime_nsec};
		if (v & GOFER_SETATTR_MTIME)
			ts[1] = (struct timespec){req->setattr.mtime_sec, req->setattr.mtime_nsec};
		if (futimens(fd, ts) < 0)
			return -errno;
	}
	if (fstat(f->node->fd, &st) < 0)
		return -errno;
	srv_stat_to_gofer(&st, &rep->stat);
	return 0;
}

int srv_statfs(struct server *s, const struct gofer_req *req, struct gofer_rep *rep)
{
	struct fid *f = srv_fid_get(s, req->fid);
	struct statfs sf;

	if (f == NULL)
		return -EBADF;
	if (fstatfs(f->node->fd, &sf) < 0)
		return -errno;
	rep->statfs = (struct gofer_statfs){
	    .type = (uint64_t)sf.f_type,
	    .bsize = (uint64_t)sf.f_bsize,
	    .blocks = sf.f_blocks,
	    .bfree = sf.f_bfree,
	    .bavail = sf.f_bavail,
	    .files = sf.f_files,
	    .ffree = sf.f_ffree,
	    .namelen = (uint64_t)sf.f_namelen,
	    .frsize = (uint64_t)sf.f_frsize,
	    .flags = (uint64_t)sf.f_flags | (s->roots[f->root].writable ? 0 : ST_RDONLY),
	};
	return 0;
}
