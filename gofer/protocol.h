/* The gofer wire protocol: message layout, type numbers and pure encode/decode functions.
 *
 * One message per SOCK_SEQPACKET datagram, at most GOFER_MSG_MAX bytes, native byte order
 * (both ends run on the same host; x86-64 is little-endian). Every message starts with:
 *
 *	u16 magic (GOFER_MAGIC)  u8 version (GOFER_VERSION)  u8 type  u32 tag  u32 len
 *
 * where len is the whole message's length, header included, and must equal the datagram's
 * size. A reply has type GOFER_REPLY | request type and the request's tag, then i32 err
 * (0 or -errno in [-4095, -1]) and, only when err is 0, the payload:
 *
 *	type      request payload                 reply payload (err == 0)
 *	WALK      u32 fid, u16 n, path[n]         u32 fid, stat   (of the path's last file)
 *	STAT      u32 fid, u16 n, path[n]         stat
 *	OPEN      u32 fid, u32 LINUX_O_* flags,   nothing; one host fd in SCM_RIGHTS
 *	          u16 n, path[n]
 *	READLINK  u32 fid, u16 n, path[n]         u32 n, target[n] (1 <= n < GOFER_PATH_MAX, no NUL)
 *	GETDENTS  u32 fid, u64 cookie, u32 max,   u32 count, u32 flags, count x {u64 ino, u64 next,
 *	          u32 flags, u16 n, path[n]       u8 type, u8 n, name[n], [stat], [u16 t,
 *	                                          target[t]]}; a reply ends before the end of
 *	                                          the directory only at max entries or when the
 *	                                          next entry does not fit
 *	CLUNK     u32 fid                         nothing
 *	ATTACH    u32 root                        u32 fid, stat
 *	CREATE    u32 fid, u32 flags, u32 mode,   u32 fid, stat; one host fd in SCM_RIGHTS
 *	          u16 n, name[n]
 *	MKDIR     u32 fid, u32 mode, u16 n, name  u32 fid, stat
 *	UNLINK    u32 fid, u32 flags, u16 n, name nothing   (flags: 0 or LINUX_AT_REMOVEDIR)
 *	RENAME    u32 fid, u16 n, name, u32 fid2, nothing   (flags: 0 or LINUX_RENAME_NOREPLACE)
 *	          u16 n2, name2, u32 flags
 *	SYMLINK   u32 fid, u16 n, name, u32 t,    u32 fid, stat   (1 <= t < GOFER_PATH_MAX)
 *	          target[t]
 *	LINK      u32 fid, u16 n, name, u32 fid2  u32 fid, stat   (fid2: the file to link)
 *	SETATTR   u32 fid, u32 valid, u32 mode,   stat (after the change)
 *	          u32 uid, u32 gid, u64 size,
 *	          {i64 sec, u32 nsec} x (atime, mtime)
 *	STATFS    u32 fid                         u64 type, bsize, blocks, bfree, bavail, files,
 *	                                          ffree, namelen, frsize, flags
 *	CHANNELS  u32 fid (0)                     u32 count, count x u32 cpu (1 <= count <=
 *	                                          GOFER_CHANNELS_MAX, each < GOFER_CPU_MAX,
 *	                                          increasing); count socket fds in SCM_RIGHTS
 *	LOOKUP    u32 fid, u16 n, path[n]         stat, u32 t, target[t] (t > 0 only for a
 *	                                          symlink: its target, 1 <= t < GOFER_PATH_MAX,
 *	                                          no NUL); a regular file's may come with its
 *	                                          host fd, read-only, in SCM_RIGHTS
 *
 * A path names a file beneath a fid: one or more names joined by single '/' (no leading,
 * trailing or doubled '/', no "." or ".." component), shorter than GOFER_PATH_MAX. WALK needs
 * one; for STAT, OPEN, READLINK, GETDENTS and LOOKUP it may be empty (n 0: the fid's own file). The
 * gofer resolves it in one openat2 beneath the fid with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
 * | RESOLVE_NO_MAGICLINKS and without following the last component, so a symlink anywhere
 * on the way fails (-ELOOP) and nothing outside the fid's tree is reached: the Sentry sends
 * only paths it walked itself, so it names a file without holding a fid for it (a read-only
 * root's files need none). GETDENTS's flags: GOFER_GETDENTS_STAT asks for each entry's stat
 * (as lstat sees it), and GOFER_GETDENTS_TARGET (only with it) for each symlink's target as
 * well: every entry then carries t, which is 0 but for a symlink whose target the gofer read
 * (1 <= t < GOFER_PATH_MAX, no NUL), so that a listing answers the readlink a stat following
 * the link needs. The reply's flags say what its entries carry and must be the request's. An
 * entry whose stat fails (removed meanwhile) is left out.
 *
 * ATTACH gives a new fid for root number root (0 is the container root, which fid 0 also
 * names; 1.. are the bind mounts in the order the gofer was given them); -ENOENT past the
 * last. Every fid belongs to the root it was walked from and every request stays within it:
 * RENAME and LINK across roots are -EXDEV. The gofer answers every mutation (CREATE, MKDIR,
 * UNLINK, RENAME, SYMLINK, LINK, SETATTR, and OPEN for writing) on a read-only root with
 * -EROFS, whatever the request says. The mode of CREATE/MKDIR is permission bits only
 * (<= 07777); CREATE's flags are a LINUX_O_* access mode plus O_APPEND (O_CREAT|O_EXCL is
 * implied). SETATTR's valid is GOFER_SETATTR_* bits; a time's nsec is < 10^9.
 *
 * stat is 96 bytes: u64 dev, ino; u32 mode, nlink, uid, gid; u64 rdev, size, blocks;
 * {i64 sec, u32 nsec} x (atime, mtime, ctime); u32 blksize.
 * Names are one path component: 1..255 bytes, no '/' or NUL, not "." or "..".
 * Only a reply to OPEN or CREATE carries an fd, and one to LOOKUP may for a regular file; any
 * other fd is a protocol error. LOOKUP is STAT, READLINK and OPEN (read-only) in one round trip
 * for a file about to be looked up: what a path walk ending in an open or a symlink asks next.
 *
 * CHANNELS hands over the Sentry's ends of more connections to the same gofer, one per CPU
 * the gofer may run on: each is served by a gofer thread kept on that CPU, so that a request
 * sent from that CPU is two wake-ups on one CPU rather than two interrupts to another (tens
 * of microseconds each in a VM) or a move of the gofer's thread. The gofer answers it once,
 * on the connection it started with (-EALREADY after that, -EOPNOTSUPP when it has no
 * channels: one CPU); the fds come in the order of the cpus. Requests are the same on every
 * connection, answered on the one they came in on, and served one at a time.
 *
 * Everything here is pure (no I/O) and treats its input as hostile: the gofer distrusts the
 * Sentry and the Sentry distrusts the gofer. Decoders return -EPROTO for a malformed message
 * (bad magic/version/type/tag, truncated, length mismatch, trailing bytes, count overruns)
 * and -EINVAL for a well-formed message carrying a bad value (bad name, bad stat mode).
 */
#ifndef GOFER_PROTOCOL_H
#define GOFER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gofer/client.h"

#define GOFER_MAGIC 0x4647u /* "GF" */
#define GOFER_VERSION 6
#define GOFER_MSG_MAX 65536u
#define GOFER_HDR_SIZE 12u
#define GOFER_REP_HDR_SIZE (GOFER_HDR_SIZE + 4u) /* header + err */
#define GOFER_NAME_MAX 255u
#define GOFER_PATH_MAX 4096u /* a symlink target is shorter than this */
#define GOFER_STAT_SIZE 96u
#define GOFER_DIRENT_HDR_SIZE 18u /* ino, next, type, name length */
#define GOFER_FID_MAX (1u << 16)  /* fids are < GOFER_FID_MAX */
#define GOFER_CPU_MAX 1024u	  /* a CPU number CHANNELS names is below this (CPU_SETSIZE) */

#define GOFER_REPLY 0x80u

/* GETDENTS's flags. */
#define GOFER_GETDENTS_STAT 0x1u
#define GOFER_GETDENTS_TARGET 0x2u /* with STAT only */
/* Is flags a GETDENTS flags word the protocol allows? */
#define GOFER_GETDENTS_FLAGS_VALID(flags)                                                          \
	((flags) == 0 || (flags) == GOFER_GETDENTS_STAT ||                                         \
	 (flags) == (GOFER_GETDENTS_STAT | GOFER_GETDENTS_TARGET))

enum gofer_type {
	GOFER_WALK = 1,
	GOFER_STAT = 2,
	GOFER_OPEN = 3,
	GOFER_READLINK = 4,
	GOFER_GETDENTS = 5,
	GOFER_CLUNK = 6,
	GOFER_CREATE = 7,
	GOFER_MKDIR = 8,
	GOFER_UNLINK = 9,
	GOFER_RENAME = 10,
	GOFER_SYMLINK = 11,
	GOFER_LINK = 12,
	GOFER_SETATTR = 13,
	GOFER_STATFS = 14,
	GOFER_ATTACH = 15,
	GOFER_CHANNELS = 16,
	GOFER_LOOKUP = 17,
	GOFER_TYPE_MAX = 17,
};

/* SETATTR's valid bits. */
#define GOFER_SETATTR_MODE 0x1u
#define GOFER_SETATTR_UID 0x2u
#define GOFER_SETATTR_GID 0x4u
#define GOFER_SETATTR_SIZE 0x8u
#define GOFER_SETATTR_ATIME 0x10u
#define GOFER_SETATTR_MTIME 0x20u
#define GOFER_SETATTR_ALL 0x3fu

/* A decoded header. */
struct gofer_hdr {
	uint8_t type; /* including GOFER_REPLY for a reply */
	uint32_t tag;
	uint32_t len;
};

/* A request. Names, paths and the symlink target are NUL-terminated (encode reads them, decode
 * fills them). Which fields a type uses: see the table above; fid is ATTACH's root. */
struct gofer_req {
	uint8_t type;
	uint32_t tag;
	uint32_t fid;
	/* the name (CREATE MKDIR UNLINK RENAME SYMLINK LINK) or path (WALK STAT OPEN READLINK
	 * GETDENTS LOOKUP; "" for the fid itself) */
	char name[GOFER_PATH_MAX];
	uint32_t fid2;			/* RENAME (new directory), LINK (the file) */
	char name2[GOFER_NAME_MAX + 1]; /* RENAME (new name) */
	uint32_t flags;			/* OPEN CREATE UNLINK RENAME */
	uint32_t mode;			/* CREATE MKDIR SETATTR */
	union {
		struct {
			uint64_t cookie;
			uint32_t max;
			uint32_t flags; /* GOFER_GETDENTS_* */
		} getdents;
		char target[GOFER_PATH_MAX]; /* SYMLINK */
		struct {
			uint32_t valid, uid, gid;
			uint64_t size;
			int64_t atime_sec, mtime_sec;
			uint32_t atime_nsec, mtime_nsec;
		} setattr;
	};
};

/* A reply. type is the request's type (without GOFER_REPLY); ATTACH, CREATE, MKDIR, SYMLINK
 * and LINK answer in walk's shape, SETATTR in stat's. The pointers of readlink, lookup and
 * getdents point into the buffer the reply was decoded from (or is encoded from). */
struct gofer_rep {
	uint8_t type;
	uint32_t tag;
	int32_t err;
	union {
		struct {
			uint32_t fid;
			struct gofer_stat st;
		} walk;
		struct gofer_stat stat;
		struct gofer_statfs statfs;
		struct {
			const char *target;
			uint32_t len;
		} readlink;
		struct {
			struct gofer_stat st;
			const char *target; /* a symlink's (len > 0), else NULL */
			uint32_t len;
		} lookup;
		struct {
			uint32_t count;
			uint32_t cpu[GOFER_CHANNELS_MAX]; /* increasing */
		} channels;
		struct {
			uint32_t count;
			uint32_t flags;	     /* GOFER_GETDENTS_*: what each entry carries */
			const uint8_t *ents; /* count packed entries (gofer_dirent_pack) */
			uint32_t len;	     /* their size in bytes */
		} getdents;
	};
};

/* Most entry bytes a GETDENTS reply can carry. */
#define GOFER_DENTS_SPACE (GOFER_MSG_MAX - GOFER_REP_HDR_SIZE - 8u)

/* 1 if name[0..len) is one valid path component (1..255 bytes, no '/' or NUL, not "." or
 * ".."), else 0. */
int gofer_name_valid(const char *name, size_t len);

/* 1 if path[0..len) is a valid non-empty path (see above: names joined by single '/'),
 * shorter than GOFER_PATH_MAX; else 0. */
int gofer_path_valid(const char *path, size_t len);

/* Decode and check the header of the len-byte message buf: magic, version, a known type,
 * len within [GOFER_HDR_SIZE, GOFER_MSG_MAX] and equal to the header's length.
 * Returns 0 or -EPROTO. */
int gofer_decode_hdr(const void *buf, size_t len, struct gofer_hdr *h);

/* Encode req into buf (size bytes). Returns the message length, -EINVAL for a bad name, type,
 * mode, flag or time, -EMSGSIZE if it does not fit. */
ssize_t gofer_encode_req(void *buf, size_t size, const struct gofer_req *req);

/* Decode the request in the len-byte message buf. Returns 0; -EPROTO for a malformed message
 * (req->type and req->tag are set, non-zero type, if the header was a sound request header,
 * so the caller can answer);
 * -EINVAL for a bad name, mode, flag or time (type and tag set). */
int gofer_decode_req(const void *buf, size_t len, struct gofer_req *req);

/* Encode rep into buf (size bytes). When rep->err != 0 no payload is written. Returns the
 * message length, -EINVAL for a bad err/type/field, -EMSGSIZE if it does not fit. */
ssize_t gofer_encode_rep(void *buf, size_t size, const struct gofer_rep *rep);

/* Decode the reply in the len-byte message buf, which must answer a request of type type
 * with tag tag. Checks every field, including every packed directory entry and the stat's
 * mode and nanoseconds. Returns 0 (rep->err may still be -errno: the gofer's answer),
 * -EPROTO or -EINVAL. On success the pointers in rep point into buf. */
int gofer_decode_rep(const void *buf, size_t len, uint8_t type, uint32_t tag,
		     struct gofer_rep *rep);

/* Append one directory entry to buf at *off (buf holds size bytes), with st if not NULL (a
 * GOFER_GETDENTS_STAT listing). Returns 0, -ENOSPC if it does not fit (nothing written),
 * -EINVAL for a bad name or type. */
int gofer_dirent_pack(uint8_t *buf, size_t size, size_t *off, uint64_t ino, uint64_t next,
		      uint8_t type, const char *name, size_t name_len, const struct gofer_stat *st);
/* The same for a GOFER_GETDENTS_TARGET listing: st is required, and target (target_len bytes,
 * no NUL; NULL and 0 for none) is a symlink's. -EINVAL also for a target on what st says is
 * not a symlink, or one too long. */
int gofer_dirent_pack_target(uint8_t *buf, size_t size, size_t *off, uint64_t ino, uint64_t next,
			     uint8_t type, const char *name, size_t name_len,
			     const struct gofer_stat *st, const char *target, size_t target_len);

/* Unpack count entries (each with a stat if flags has GOFER_GETDENTS_STAT, and a target field
 * if GOFER_GETDENTS_TARGET) from the len bytes at p into out (room for max). The entries must
 * fill p exactly. Returns count, -EPROTO (overrun, trailing bytes, count > max) or -EINVAL
 * (bad name, type, stat or target). Names are NUL-terminated in out; st is zero without
 * GOFER_GETDENTS_STAT; target points into p (not NUL-terminated), NULL when there is none. */
long gofer_dirents_unpack(const uint8_t *p, size_t len, uint32_t count, uint32_t flags,
			  struct gofer_dirent *out, size_t max);

/* A dirent callback (gofer_dirents_each, gofer_readdir) that copies each entry into the next
 * slot of ents (the caller bounds the count); arg is a struct gofer_dirent_array. */
struct gofer_dirent_array {
	struct gofer_dirent *ents;
	size_t n;
};
int gofer_dirent_array_add(void *arg, const struct gofer_dirent *e);

/* The same, one entry at a time: fn(arg, entry) for each (entry is valid during the call);
 * a non-zero return of fn stops the walk and is returned. 0, -EPROTO or -EINVAL otherwise. */
int gofer_dirents_each(const uint8_t *p, size_t len, uint32_t count, uint32_t flags,
		       int (*fn)(void *arg, const struct gofer_dirent *e), void *arg);

#endif
