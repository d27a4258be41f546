/* Internal to the gofer's server (server.c: the fid table, the loop and the read requests;
 * server_rw.c: the mutations). Everything here runs under the server's lock. */
#ifndef GOFER_SERVER_H
#define GOFER_SERVER_H

#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "gofer/gofer.h"
#include "gofer/protocol.h"

/* An O_PATH fd shared by a fid and the fids walked from it (which reopen through it). */
struct node {
	int fd;
	uint32_t refs;
};

/* One fid. A non-directory is reopened for I/O as parent + name (an O_PATH fd cannot be
 * reopened without /proc/self/fd, a magic link); a directory as "." of itself. dev and ino
 * are checked after every reopen, so a file renamed or replaced since the walk gives
 * -ESTALE rather than some other file. */
struct fid {
	struct node *node;   /* NULL: the slot is free */
	struct node *parent; /* NULL for the root */
	char *name;	     /* in parent; NULL for a directory root */
	uint32_t mode;
	uint64_t dev, ino;
	uint32_t root; /* the root it was walked from (index into server.roots) */
};

/* A root the gofer serves: a directory (node, no parent) or a single file (node, parent and
 * name: the parent is never handed out as a fid, so no walk reaches it). */
struct root {
	struct fid f;
	bool writable;
};

/* The server's state, shared by the threads of its connections (the first and the channels':
 * gofer_channels_open), which take turns under lock: one request at a time. */
struct server {
	pthread_mutex_t lock;
	bool stopped; /* the first connection ended: the channels' threads serve no more */
	struct root *roots;
	uint32_t nroots;
	struct fid *fids;
	uint32_t nfids; /* allocated slots */
	uint32_t hint;	/* lowest slot that may be free */
	uint8_t *out, *dents;
	struct gofer_channels *chans; /* NULL: none (CHANNELS is -EOPNOTSUPP) */
};

#define RESOLVE_ONE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)

/* openat2 with mode (for O_CREAT), retried a bounded number of times on EAGAIN (a concurrent
 * rename on the host made the kernel unsure the lookup stayed beneath) and EINTR. Returns the
 * fd or -errno. */
int srv_openat2_mode(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int srv_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);
void srv_node_put(struct node *n);
void srv_stat_to_gofer(const struct stat *s, struct gofer_stat *g);
/* The fid numbered fid, or NULL when it is not in use. */
struct fid *srv_fid_get(struct server *s, uint32_t fid);
void srv_fid_free(struct server *s, uint32_t i);
/* Open f for I/O with host flags. Returns the fd or -errno; -ESTALE if the name now leads to
 * a different file. */
int srv_fid_reopen(struct fid *f, int flags);
/* Make a new fid for the O_PATH fd *fd (taken: *fd is -1 after) named name in directory fid
 * dir_fid, and fill rep's walk part. Returns 0 or -errno. */
int srv_fid_add(struct server *s, uint32_t dir_fid, const char *name, int *fd,
		struct gofer_rep *rep);
/* The directory fid a request names (-EBADF, then with mutate -EROFS on a read-only root,
 * then -ENOTDIR). NULL and *err on failure. */
struct fid *srv_dir_fid(struct server *s, uint32_t fid, bool mutate, int *err);
/* Open name in directory fid dfid as O_PATH without following it; a new fid in rep. */
int srv_walk_to(struct server *s, uint32_t dfid, const char *name, struct gofer_rep *rep);
/* Clear O_NONBLOCK before donating fd. 0, or -errno and fd closed. */
int srv_clear_nonblock(int fd);

/* The mutations and STATFS (server_rw.c): 0 or -errno, rep filled as protocol.h says; CREATE
 * puts the fd to donate in *out_fd. */
int srv_create(struct server *s, const struct gofer_req *req, struct gofer_rep *rep, int *out_fd);
int srv_mkdir(struct server *s, const struct gofer_req *req, struct gofer_rep *rep);
int srv_symlink(struct server *s, const struct gofer_req *req, struct gofer_rep *rep);
int srv_link(struct server *s, const struct gofer_req *req, struct gofer_rep *rep);
int srv_unlink(struct server *s, const struct gofer_req *req);
int srv_rename(struct server *s, const struct gofer_req *req);
int srv_setattr(struct server *s, const struct gofer_req *req, struct gofer_rep *rep);
int srv_statfs(struct server *s, const struct gofer_req *req, struct gofer_rep *rep);

#endif
