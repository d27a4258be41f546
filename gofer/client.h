/* The Sentry's side of the gofer protocol: synchronous calls over the SOCK_SEQPACKET socket.
 *
 * A fid names a host file the gofer holds open (O_PATH) beneath the sandbox root. Fid 0 is
 * the root, valid from the start. Every call returns 0 (or a count) or -errno; whatever the
 * gofer answers is untrusted and checked here (lengths, names, fds) before it is returned.
 * Calls are serialised by a mutex inside the client, so any Sentry thread may call them.
 */
#ifndef GOFER_CLIENT_H
#define GOFER_CLIENT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#define GOFER_ROOT_FID 0

/* What the gofer tells of a file: a subset of stat, in Linux's terms. */
struct gofer_stat {
	uint64_t dev;
	uint64_t ino;
	uint32_t mode; /* type and permission bits, LINUX_S_IF* */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t rdev;
	uint64_t size;
	uint64_t blocks;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
	uint32_t blksize;
};

/* One directory entry from gofer_getdents. */
struct gofer_dirent {
	uint64_t ino;
	uint64_t next; /* cookie to continue after this entry */
	uint8_t type;  /* LINUX_DT_* */
	char name[256];
	struct gofer_stat st; /* lstat of the entry (gofer_readdir with stats), else zero */
	/* a symlink's target (gofer_readdir with GOFER_GETDENTS_TARGET), not NUL-terminated, valid
	 * as long as the reply it came in; NULL (target_len 0) when there is none */
	const char *target;
	uint32_t target_len;
};

/* STATFS's answer, in Linux's statfs terms. */
struct gofer_statfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize, flags;
};

/* What SETATTR changes: valid is GOFER_SETATTR_* (protocol.h) bits. */
struct gofer_attr {
	uint32_t valid, mode, uid, gid;
	uint64_t size;
	int64_t atime_sec, mtime_sec;
	uint32_t atime_nsec, mtime_nsec;
};

/* Most connections besides the first a gofer hands over (gofer_client_channels). */
#define GOFER_CHANNELS_MAX 16u

struct gofer_client {
	int sock; /* the first connection */
	pthread_mutex_t lock;
	uint32_t next_tag;
	uint8_t *buf;	    /* one message, under lock */
	int broken;	    /* the gofer broke the protocol or went away: every call is -EIO */
	uint32_t calls[32]; /* round trips per request type (GOFER_TYPE_MAX < 32), under lock */
	/* The gofer's connections per CPU (gofer_client_channels): a request made on
	 * chan_cpu[i] goes over chan_sock[i], any other over sock. Set once, under lock. */
	uint32_t nchans;
	uint32_t chan_cpu[GOFER_CHANNELS_MAX];
	int chan_sock[GOFER_CHANNELS_MAX];
};

/* Use sock (a connected SOCK_SEQPACKET socket to the gofer). Takes ownership of sock (closed
 * on failure too). Returns 0 or -ENOMEM/-errno.
 *
 * Errors of every call below: the gofer's own answer (-ENOENT, -EBADF for an unknown fid,
 * -EROFS, ...), -EINVAL/-ENAMETOOLONG for bad arguments caught before sending, and -EIO when
 * the gofer is gone or sent anything malformed (a bad length, tag, name, stat mode, an fd
 * where none belongs...). After an -EIO of the second kind every later call is -EIO: the
 * connection is not trusted again. Received fds are closed on every error. */
int gofer_client_init(struct gofer_client *c, int sock);
/* Ask the gofer for its connections per CPU (CHANNELS, protocol.h) and use them from then on:
 * a request then goes over the connection of the CPU its thread is on, which a gofer thread
 * on that CPU serves. Returns 0; -EOPNOTSUPP when the gofer has none (one CPU) and
 * -EALREADY when they were handed over before (the client goes on with what it has); -EIO
 * as every call (a reply whose fds are not that many sockets breaks the connection). */
int gofer_client_channels(struct gofer_client *c);
/* Log (at debug level) how many round trips of each type were made. */
void gofer_client_log_stats(struct gofer_client *c);
/* Close the socket and free the client's memory. No call may be in progress. */
void gofer_client_close(struct gofer_client *c);

/* Look path up beneath directory dir_fid: one or more names joined by '/' (protocol.h; no
 * "." or "..", -EINVAL otherwise), no symlink on the way (-ELOOP). Does not follow a final
 * symlink. On success *fid is a new fid for the last file and *st its stat. */
int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *path, uint32_t *fid,
	       struct gofer_stat *st);
/* Stat of fid, now. */
int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st);

/* The _at calls name their file as path beneath fid (as gofer_walk's; NULL or "" for fid
 * itself) without making a fid for it: one round trip, and nothing to clunk. */
int gofer_stat_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st);
int gofer_open_at(struct gofer_client *c, uint32_t fid, const char *path, int flags, int *fd);
/* gofer_stat_at, and in the same round trip (LOOKUP, protocol.h) a symlink's target into
 * target (NUL-terminated, *target_len its length; 0 when there is none or it does not fit in
 * size) and a regular file's read-only host fd into *fd (the caller's; -1 when none came). */
int gofer_lookup_at(struct gofer_client *c, uint32_t fid, const char *path, struct gofer_stat *st,
		    int *fd, char *target, size_t size, size_t *target_len);
long gofer_readlink_at(struct gofer_client *c, uint32_t fid, const char *path, char *buf,
		       size_t size);
/* Up to max entries of directory fid/path after cookie, as gofer_getdents, each handed to
 * fn(arg, entry) (entry valid during the call only; fn runs under the client's lock and must
 * not call the client). With flags GOFER_GETDENTS_STAT (protocol.h) each entry's st is its
 * lstat, and with GOFER_GETDENTS_TARGET too a symlink's target comes with it (when the gofer
 * could read it). A non-zero return of fn stops and is returned. Returns the count or -errno. */
long gofer_readdir(struct gofer_client *c, uint32_t fid, const char *path, uint64_t cookie,
		   size_t max, uint32_t flags, int (*fn)(void *arg, const struct gofer_dirent *e),
		   void *arg, bool *end);
/* Open fid for I/O with LINUX_O_* flags (O_RDWR/O_WRONLY/O_TRUNC get -EROFS unless the root
 * is writable; O_CREAT is CREATE's). Only regular files and directories open (-ENXIO for
 * other types, -ELOOP for a symlink); -ESTALE if the file was replaced since the walk.
 * On success *fd is a host fd the caller owns, close-on-exec, checked to be a regular file
 * or directory open with the access mode asked for. */
int gofer_open(struct gofer_client *c, uint32_t fid, int flags, int *fd);
/* Read the target of the symlink fid into buf (not NUL-terminated). Returns the bytes placed
 * in buf: the target's length, or size if the target is longer (readlink(2)'s truncation).
 * -EINVAL if fid is not a symlink. */
long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t size);
/* Up to max entries of directory fid starting after cookie (0 = start; else an entry's next).
 * Returns the count (0 at the end; fewer than max alone does not mean the end). *end (may be
 * NULL) is set when the reply shows that the directory ends after these entries: fewer than
 * max with room left in the reply for the longest entry (protocol.h), so no request is
 * needed to see the end. "." and ".." are not returned. max 0 is -EINVAL. */
long gofer_getdents(struct gofer_client *c, uint32_t fid, uint64_t cookie,
		    struct gofer_dirent *ents, size_t max, bool *end);
/* Forget fid. The root fid cannot be clunked (-EINVAL). */
int gofer_clunk(struct gofer_client *c, uint32_t fid);

/* A new fid for the gofer's root number root (0: the container root; 1..: bind mounts in the
 * order the gofer was given them). -ENOENT past the last. */
int gofer_attach(struct gofer_client *c, uint32_t root, uint32_t *fid, struct gofer_stat *st);

/* Mutations, all -EROFS on a read-only root (the gofer decides). Each that makes a file
 * returns its new fid and stat like gofer_walk. name is one path component. */
/* A new regular file name in dir (O_EXCL), opened with access mode flags (LINUX_O_RDONLY,
 * WRONLY or RDWR): *fd is the host fd, checked as gofer_open's. mode: permission bits. */
int gofer_create(struct gofer_client *c, uint32_t dir, const char *name, int flags, uint32_t mode,
		 uint32_t *fid, struct gofer_stat *st, int *fd);
int gofer_mkdir(struct gofer_client *c, uint32_t dir, const char *name, uint32_t mode,
		uint32_t *fid, struct gofer_stat *st);
/* target: 1..GOFER_PATH_MAX-1 bytes. */
int gofer_symlink(struct gofer_client *c, uint32_t dir, const char *name, const char *target,
		  uint32_t *fid, struct gofer_stat *st);
/* Another name for the file file in dir (-EXDEV across roots). */
int gofer_link(struct gofer_client *c, uint32_t dir, const char *name, uint32_t file, uint32_t *fid,
	       struct gofer_stat *st);
/* Remove name from dir; flags 0 or LINUX_AT_REMOVEDIR. */
int gofer_unlink(struct gofer_client *c, uint32_t dir, const char *name, unsigned flags);
/* Rename within one root (-EXDEV across); flags 0 or LINUX_RENAME_NOREPLACE. */
int gofer_rename(struct gofer_client *c, uint32_t odir, const char *oname, uint32_t ndir,
		 const char *nname, unsigned flags);
/* Change what a->valid says; *st is the stat afterwards. */
int gofer_setattr(struct gofer_client *c, uint32_t fid, const struct gofer_attr *a,
		  struct gofer_stat *st);
int gofer_statfs(struct gofer_client *c, uint32_t fid, struct gofer_statfs *st);

#endif
