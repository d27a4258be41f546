/* The gofer wire protocol: pure encoders and decoders that trust nothing they read. */
#include "gofer/protocol.h"

#include <errno.h>
#include <string.h>

#include "abi/linux.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is native x86-64");

/* A write cursor: once a put overflows, err sticks and nothing more is written. */
struct wcur {
	uint8_t *p;
	size_t size, off;
	int err;
};

/* A read cursor: once a get underflows, err sticks and every later get yields zeros. */
struct rcur {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static void put(struct wcur *w, const void *v, size_t n)
{
	if (w->err || n > w->size - w->off) {
		w->err = -EMSGSIZE;
		return;
	}
	memcpy(w->p + w->off, v, n);
	w->off += n;
}

static void put8(struct wcur *w, uint8_t v) { put(w, &v, 1); }
static void put16(struct wcur *w, uint16_t v) { put(w, &v, 2); }
static void put32(struct wcur *w, uint32_t v) { put(w, &v, 4); }
static void put64(struct wcur *w, uint64_t v) { put(w, &v, 8); }

static void get(struct rcur *r, void *v, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = -EPROTO;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->p + r->off, n);
	r->off += n;
}

static uint8_t get8(struct rcur *r)
{
	uint8_t v;
	get(r, &v, 1);
	return v;
}
static uint16_t get16(struct rcur *r)
{
	uint16_t v;
	get(r, &v, 2);
	return v;
}
static uint32_t get32(struct rcur *r)
{
	uint32_t v;
	get(r, &v, 4);
	return v;
}
static uint64_t get64(struct rcur *r)
{
	uint64_t v;
	get(r, &v, 8);
	return v;
}

/* Borrow n bytes of the input in place; NULL (and err set) if they are not all there. */
static const uint8_t *get_ref(struct rcur *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = -EPROTO;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}

/* A u32 length n (< GOFER_PATH_MAX), then n bytes (*t points at them): READLINK's and LOOKUP's
 * target. 0, or -EPROTO. */
static int get_target(struct rcur *r, const uint8_t **t, uint32_t *n)
{
	*n = get32(r);
	if (!r->err && *n >= GOFER_PATH_MAX)
		return -EPROTO;
	*t = get_ref(r, *n);
	return r->err;
}

int gofer_name_valid(const char *name, size_t len)
{
	if (name == NULL || len == 0 || len > GOFER_NAME_MAX)
		return 0;
	if (len == 1 && name[0] == '.')
		return 0;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			return 0;
	return 1;
}

int gofer_path_valid(const char *path, size_t len)
{
	if (path == NULL || len == 0 || len >= GOFER_PATH_MAX)
		return 0;
	for (size_t i = 0; i < len;) {
		const char *slash = memchr(path + i, '/', len - i);
		size_t n = slash ? (size_t)(slash - (path + i)) : len - i;
		if (!gofer_name_valid(path + i, n))
			return 0; /* also an empty component: "a//b", "/a", "a/" */
		i += n + (slash ? 1 : 0);
		if (slash && i == len)
			return 0;
	}
	return 1;
}

static int dtype_valid(uint8_t t)
{
	switch (t) {
	case LINUX_DT_UNKNOWN:
	case LINUX_DT_FIFO:
	case LINUX_DT_CHR:
	case LINUX_DT_DIR:
	case LINUX_DT_BLK:
	case LINUX_DT_REG:
	case LINUX_DT_LNK:
	case LINUX_DT_SOCK:
		return 1;
	}
	return 0;
}

static int mode_valid(uint32_t mode)
{
	if (mode & ~(uint32_t)(LINUX_S_IFMT | 07777))
		return 0;
	switch (mode & LINUX_S_IFMT) {
	case LINUX_S_IFSOCK:
	case LINUX_S_IFLNK:
	case LINUX_S_IFREG:
	case LINUX_S_IFBLK:
	case LINUX_S_IFDIR:
	case LINUX_S_IFCHR:
	case LINUX_S_IFIFO:
		return 1;
	}
	return 0;
}

static int stat_valid(const struct gofer_stat *st)
{
	return mode_valid(st->mode) && st->atime_nsec < 1000000000u &&
	       st->mtime_nsec < 1000000000u && st->ctime_nsec < 1000000000u;
}

static void put_stat(struct wcur *w, const struct gofer_stat *st)
{
	put64(w, st->dev);
	put64(w, st->ino);
	put32(w, st->mode);
	put32(w, st->nlink);
	put32(w, st->uid);
	put32(w, st->gid);
	put64(w, st->rdev);
	put64(w, st->size);
	put64(w, st->blocks);
	put64(w, (uint64_t)st->atime_sec);
	put32(w, st->atime_nsec);
	put64(w, (uint64_t)st->mtime_sec);
	put32(w, st->mtime_nsec);
	put64(w, (uint64_t)st->ctime_sec);
	put32(w, st->ctime_nsec);
	put32(w, st->blksize);
}

static void get_stat(struct rcur *r, struct gofer_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->dev = get64(r);
	st->ino = get64(r);
	st->mode = get32(r);
	st->nlink = get32(r);
	st->uid = get32(r);
	st->gid = get32(r);
	st->rdev = get64(r);
	st->size = get64(r);
	st->blocks = get64(r);
	st->atime_sec = (int64_t)get64(r);
	st->atime_nsec = get32(r);
	st->mtime_sec = (int64_t)get64(r);
	st->mtime_nsec = get32(r);
	st->ctime_sec = (int64_t)get64(r);
	st->ctime_nsec = get32(r);
	st->blksize = get32(r);
}

static void put_statfs(struct wcur *w, const struct gofer_statfs *s)
{
	const uint64_t v[10] = {s->type,  s->bsize, s->blocks,	s->bfree,  s->bavail,
				s->files, s->ffree, s->namelen, s->frsize, s->flags};
	for (int i = 0; i < 10; i++)
		put64(w, v[i]);
}

static void get_statfs(struct rcur *r, struct gofer_statfs *s)
{
	uint64_t *v[10] = {&s->type,  &s->bsize, &s->blocks,  &s->bfree,  &s->bavail,
			   &s->files, &s->ffree, &s->namelen, &s->frsize, &s->flags};
	for (int i = 0; i < 10; i++)
		*v[i] = get64(r);
}

static void put_hdr(struct wcur *w, uint8_t type, uint32_t tag)
{
	put16(w, GOFER_MAGIC);
	put8(w, GOFER_VERSION);
	put8(w, type);
	put32(w, tag);
	put32(w, 0); /* length, patched by finish() */
}

/* Patch the length into the header; the message length or the sticky error. */
static ssize_t finish(struct wcur *w)
{
	if (w->err)
		return w->err;
	uint32_t len = (uint32_t)w->off;
	if (w->off > GOFER_MSG_MAX)
		return -EMSGSIZE;
	memcpy(w->p + 8, &len, 4);
	return (ssize_t)w->off;
}

int gofer_decode_hdr(const void *buf, size_t len, struct gofer_hdr *h)
{
	struct rcur r = {.p = buf, .len = len};

	if (buf == NULL || len < GOFER_HDR_SIZE || len > GOFER_MSG_MAX)
		return -EPROTO;
	uint16_t magic = get16(&r);
	uint8_t version = get8(&r);
	h->type = get8(&r);
	h->tag = get32(&r);
	h->len = get32(&r);
	if (magic != GOFER_MAGIC || version != GOFER_VERSION || h->len != len)
		return -EPROTO;
	uint8_t t = h->type & (uint8_t)~GOFER_REPLY;
	if (t < GOFER_WALK || t > GOFER_TYPE_MAX)
		return -EPROTO;
	return 0;
}

/* Is the value part of req (what the table in protocol.h says of each type) sound? Both the
 * encoder and the decoder ask, so neither end sends or accepts nonsense. 1 or 0. */
static int req_values_valid(const struct gofer_req *req)
{
	uint32_t acc = req->flags & LINUX_O_ACCMODE;

	switch (req->type) {
	case GOFER_CREATE:
		return acc != 3 &&
		       (req->flags & ~(uint32_t)(LINUX_O_ACCMODE | LINUX_O_APPEND)) == 0 &&
		       req->mode <= 07777;
	case GOFER_MKDIR:
		return req->mode <= 07777;
	case GOFER_UNLINK:
		return req->flags == 0 || req->flags == LINUX_AT_REMOVEDIR;
	case GOFER_RENAME:
		return req->flags == 0 || req->flags == LINUX_RENAME_NOREPLACE;
	case GOFER_GETDENTS:
		return GOFER_GETDENTS_FLAGS_VALID(req->getdents.flags);
	case GOFER_SETATTR:
		return (req->setattr.valid & ~GOFER_SETATTR_ALL) == 0 && req->mode <= 07777 &&
		       req->setattr.size <= INT64_MAX && req->setattr.atime_nsec < 1000000000u &&
		       req->setattr.mtime_nsec < 1000000000u;
	default:
		return 1;
	}
}

/* A name of n bytes (checked by the caller): u16 n, name[n]. */
static void put_name(struct wcur *w, const char *name, size_t n)
{
	put16(w, (uint16_t)n);
	put(w, name, n);
}

/* Read a name into out (GOFER_NAME_MAX + 1 bytes, NUL-terminated). 0, -EPROTO or -EINVAL. */
static int get_name(struct rcur *r, char *out)
{
	uint16_t n = get16(r);
	const uint8_t *name = get_ref(r, n);

	if (r->err)
		return r->err;
	if (!gofer_name_valid((const char *)name, n))
		return -EINVAL;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

/* Read a path into out (GOFER_PATH_MAX bytes, NUL-terminated); empty only if may_be_empty.
 * 0, -EPROTO or -EINVAL. */
static int get_path(struct rcur *r, char *out, int may_be_empty)
{
	uint16_t n = get16(r);
	const uint8_t *path = get_ref(r, n);

	if (r->err)
		return r->err;
	if (!(n == 0 && may_be_empty) && !gofer_path_valid((const char *)path, n))
		return -EINVAL;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

/* Does a request of this type name its file by fid and a path beneath it? 2: the path may be
 * empty (the fid itself), 1: it may not (WALK), 0: no path. */
static int has_path(uint8_t type)
{
	switch (type) {
	case GOFER_WALK:
		return 1;
	case GOFER_STAT:
	case GOFER_OPEN:
	case GOFER_READLINK:
	case GOFER_GETDENTS:
	case GOFER_LOOKUP:
		return 2;
	}
	return 0;
}

static int has_name(uint8_t type)
{
	switch (type) {
	case GOFER_CREATE:
	case GOFER_MKDIR:
	case GOFER_UNLINK:
	case GOFER_RENAME:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		return 1;
	}
	return 0;
}

ssize_t gofer_encode_req(void *buf, size_t size, const struct gofer_req *req)
{
	struct wcur w = {.p = buf, .size = size};
	size_t n = strnlen(req->name, sizeof(req->name)), n2, t;

	if (req->type < GOFER_WALK || req->type > GOFER_TYPE_MAX || !req_values_valid(req))
		return -EINVAL;
	if (has_name(req->type) && !gofer_name_valid(req->name, n))
		return -EINVAL;
	if (has_path(req->type) && !(n == 0 && has_path(req->type) == 2) &&
	    !gofer_path_valid(req->name, n))
		return -EINVAL;
	put_hdr(&w, req->type, req->tag);
	put32(&w, req->fid);
	switch (req->type) {
	case GOFER_WALK:
	case GOFER_STAT:
	case GOFER_READLINK:
	case GOFER_LOOKUP:
		put_name(&w, req->name, n);
		break;
	case GOFER_OPEN:
		put32(&w, req->flags);
		put_name(&w, req->name, n);
		break;
	case GOFER_GETDENTS:
		put64(&w, req->getdents.cookie);
		put32(&w, req->getdents.max);
		put32(&w, req->getdents.flags);
		put_name(&w, req->name, n);
		break;
	case GOFER_CREATE:
		put32(&w, req->flags);
		put32(&w, req->mode);
		put_name(&w, req->name, n);
		break;
	case GOFER_MKDIR:
		put32(&w, req->mode);
		put_name(&w, req->name, n);
		break;
	case GOFER_UNLINK:
		put32(&w, req->flags);
		put_name(&w, req->name, n);
		break;
	case GOFER_RENAME:
		n2 = strnlen(req->name2, sizeof(req->name2));
		if (!gofer_name_valid(req->name2, n2))
			return -EINVAL;
		put_name(&w, req->name, n);
		put32(&w, req->fid2);
		put_name(&w, req->name2, n2);
		put32(&w, req->flags);
		break;
	case GOFER_SYMLINK:
		t = strnlen(req->target, sizeof(req->target));
		if (t == 0 || t >= GOFER_PATH_MAX)
			return -EINVAL;
		put_name(&w, req->name, n);
		put32(&w, (uint32_t)t);
		put(&w, req->target, t);
		break;
	case GOFER_LINK:
		put_name(&w, req->name, n);
		put32(&w, req->fid2);
		break;
	case GOFER_SETATTR:
		put32(&w, req->setattr.valid);
		put32(&w, req->mode);
		put32(&w, req->setattr.uid);
		put32(&w, req->setattr.gid);
		put64(&w, req->setattr.size);
		put64(&w, (uint64_t)req->setattr.atime_sec);
		put32(&w, req->setattr.atime_nsec);
		put64(&w, (uint64_t)req->setattr.mtime_sec);
		put32(&w, req->setattr.mtime_nsec);
		break;
	default: /* CLUNK, STATFS, ATTACH, CHANNELS: the fid alone */
		break;
	}
	return finish(&w);
}

int gofer_decode_req(const void *buf, size_t len, struct gofer_req *req)
{
	struct gofer_hdr h;
	struct rcur r = {.p = buf, .len = len, .off = GOFER_HDR_SIZE};
	int err = 0;

	memset(req, 0, sizeof(*req));
	if ((err = gofer_decode_hdr(buf, len, &h)) < 0)
		return err;
	if (h.type & GOFER_REPLY)
		return -EPROTO; /* type stays 0: not something to answer */
	req->type = h.type;
	req->tag = h.tag;
	req->fid = get32(&r);
	switch (h.type) {
	case GOFER_WALK:
	case GOFER_STAT:
	case GOFER_READLINK:
	case GOFER_LOOKUP:
		err = get_path(&r, req->name, has_path(h.type) == 2);
		break;
	case GOFER_OPEN:
		req->flags = get32(&r);
		err = get_path(&r, req->name, 1);
		break;
	case GOFER_GETDENTS:
		req->getdents.cookie = get64(&r);
		req->getdents.max = get32(&r);
		req->getdents.flags = get32(&r);
		err = get_path(&r, req->name, 1);
		break;
	case GOFER_CREATE:
		req->flags = get32(&r);
		req->mode = get32(&r);
		err = get_name(&r, req->name);
		break;
	case GOFER_MKDIR:
		req->mode = get32(&r);
		err = get_name(&r, req->name);
		break;
	case GOFER_UNLINK:
		req->flags = get32(&r);
		err = get_name(&r, req->name);
		break;
	case GOFER_RENAME:
		err = get_name(&r, req->name);
		req->fid2 = get32(&r);
		if (err == 0)
			err = get_name(&r, req->name2);
		req->flags = get32(&r);
		break;
	case GOFER_SYMLINK: {
		err = get_name(&r, req->name);
		uint32_t t = get32(&r);
		if (r.err)
			return r.err;
		if (t == 0 || t >= GOFER_PATH_MAX)
			return -EINVAL;
		const uint8_t *target = get_ref(&r, t);
		if (r.err)
			return r.err;
		if (memchr(target, '\0', t))
			return -EINVAL;
		memcpy(req->target, target, t);
		req->target[t] = '\0';
		break;
	}
	case GOFER_LINK:
		err = get_name(&r, req->name);
		req->fid2 = get32(&r);
		break;
	case GOFER_SETATTR:
		req->setattr.valid = get32(&r);
		req->mode = get32(&r);
		req->setattr.uid = get32(&r);
		req->setattr.gid = get32(&r);
		req->setattr.size = get64(&r);
		req->setattr.atime_sec = (int64_t)get64(&r);
		req->setattr.atime_nsec = get32(&r);
		req->setattr.mtime_sec = (int64_t)get64(&r);
		req->setattr.mtime_nsec = get32(&r);
		break;
	default:
		break;
	}
	if (r.err)
		return r.err;
	if (err)
		return err;
	if (r.off != len)
		return -EPROTO; /* no trailing bytes */
	return req_values_valid(req) ? 0 : -EINVAL;
}

/* A LOOKUP reply's or a directory entry's target: none (len 0), or a symlink's (st says so),
 * shorter than GOFER_PATH_MAX, without NUL. */
static bool target_valid(const struct gofer_stat *st, const void *t, size_t len)
{
	if (len == 0)
		return true;
	return (st->mode & LINUX_S_IFMT) == LINUX_S_IFLNK && len < GOFER_PATH_MAX && t &&
	       !memchr(t, '\0', len);
}

/* Walk count packed entries at p (len bytes), each with a stat if flags has
 * GOFER_GETDENTS_STAT and a target field if GOFER_GETDENTS_TARGET, checking each; they must
 * fill p exactly. For each, if fn is not NULL, decode it into *tmp and call fn(arg, tmp); a
 * non-zero return stops the walk and is returned. Returns 0, -EPROTO or -EINVAL. */
static int dirents_walk(const uint8_t *p, size_t len, uint32_t count, uint32_t flags,
			struct gofer_dirent *tmp,
			int (*fn)(void *arg, const struct gofer_dirent *e), void *arg)
{
	struct rcur r = {.p = p, .len = len};
	struct gofer_stat st;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t ino = get64(&r);
		uint64_t next = get64(&r);
		uint8_t type = get8(&r);
		uint8_t n = get8(&r);
		const uint8_t *name = get_ref(&r, n);
		const uint8_t *target = NULL;
		uint16_t tlen = 0;
		if (flags & GOFER_GETDENTS_STAT)
			get_stat(&r, &st);
		if (flags & GOFER_GETDENTS_TARGET) {
			tlen = get16(&r);
			target = get_ref(&r, tlen);
		}
		if (r.err)
			return r.err;
		if (!dtype_valid(type) || !gofer_name_valid((const char *)name, n))
			return -EINVAL;
		if ((flags & GOFER_GETDENTS_STAT) && !stat_valid(&st))
			return -EINVAL;
		if ((flags & GOFER_GETDENTS_TARGET) && !target_valid(&st, target, tlen))
			return -EINVAL;
		if (fn) {
			tmp->ino = ino;
			tmp->next = next;
			tmp->type = type;
			memcpy(tmp->name, name, n);
			tmp->name[n] = '\0';
			if (flags & GOFER_GETDENTS_STAT)
				tmp->st = st;
			else
				memset(&tmp->st, 0, sizeof(tmp->st));
			tmp->target = tlen ? (const char *)target : NULL;
			tmp->target_len = tlen;
			int err = fn(arg, tmp);
			if (err)
				return err;
		}
	}
	return r.off == len ? 0 : -EPROTO;
}

/* A CHANNELS reply's list: 1..GOFER_CHANNELS_MAX CPUs, each below GOFER_CPU_MAX, increasing. */
static bool channels_valid(uint32_t count, const uint32_t *cpu)
{
	if (count == 0 || count > GOFER_CHANNELS_MAX)
		return false;
	for (uint32_t i = 0; i < count; i++)
		if (cpu[i] >= GOFER_CPU_MAX || (i > 0 && cpu[i] <= cpu[i - 1]))
			return false;
	return true;
}

ssize_t gofer_encode_rep(void *buf, size_t size, const struct gofer_rep *rep)
{
	struct wcur w = {.p = buf, .size = size};

	if (rep->type < GOFER_WALK || rep->type > GOFER_TYPE_MAX)
		return -EINVAL;
	if (rep->err > 0 || rep->err < -4095)
		return -EINVAL;
	put_hdr(&w, (uint8_t)(GOFER_REPLY | rep->type), rep->tag);
	put32(&w, (uint32_t)rep->err);
	if (rep->err != 0)
		return finish(&w);
	switch (rep->type) {
	case GOFER_WALK:
	case GOFER_ATTACH:
	case GOFER_CREATE:
	case GOFER_MKDIR:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		put32(&w, rep->walk.fid);
		put_stat(&w, &rep->walk.st);
		break;
	case GOFER_STAT:
	case GOFER_SETATTR:
		put_stat(&w, &rep->stat);
		break;
	case GOFER_STATFS:
		put_statfs(&w, &rep->statfs);
		break;
	case GOFER_READLINK:
		if (rep->readlink.len == 0 || rep->readlink.len >= GOFER_PATH_MAX ||
		    memchr(rep->readlink.target, '\0', rep->readlink.len))
			return -EINVAL;
		put32(&w, rep->readlink.len);
		put(&w, rep->readlink.target, rep->readlink.len);
		break;
	case GOFER_LOOKUP:
		if (!target_valid(&rep->lookup.st, rep->lookup.target, rep->lookup.len))
			return -EINVAL;
		put_stat(&w, &rep->lookup.st);
		put32(&w, rep->lookup.len);
		put(&w, rep->lookup.target, rep->lookup.len);
		break;
	case GOFER_GETDENTS:
		if (!GOFER_GETDENTS_FLAGS_VALID(rep->getdents.flags) ||
		    dirents_walk(rep->getdents.ents, rep->getdents.len, rep->getdents.count,
				 rep->getdents.flags, NULL, NULL, NULL) < 0)
			return -EINVAL;
		put32(&w, rep->getdents.count);
		put32(&w, rep->getdents.flags);
		put(&w, rep->getdents.ents, rep->getdents.len);
		break;
	case GOFER_CHANNELS:
		if (!channels_valid(rep->channels.count, rep->channels.cpu))
			return -EINVAL;
		put32(&w, rep->channels.count);
		for (uint32_t i = 0; i < rep->channels.count; i++)
			put32(&w, rep->channels.cpu[i]);
		break;
	case GOFER_OPEN:
	case GOFER_CLUNK:
	case GOFER_UNLINK:
	case GOFER_RENAME:
		break;
	default:
		return -EINVAL;
	}
	return finish(&w);
}

int gofer_decode_rep(const void *buf, size_t len, uint8_t type, uint32_t tag, struct gofer_rep *rep)
{
	struct gofer_hdr h;
	struct rcur r = {.p = buf, .len = len, .off = GOFER_HDR_SIZE};
	int err;

	memset(rep, 0, sizeof(*rep));
	if ((err = gofer_decode_hdr(buf, len, &h)) < 0)
		return err;
	if (h.type != (GOFER_REPLY | type) || h.tag != tag)
		return -EPROTO;
	rep->type = type;
	rep->tag = tag;
	rep->err = (int32_t)get32(&r);
	if (r.err)
		return r.err;
	if (rep->err > 0 || rep->err < -4095)
		return -EPROTO;
	if (rep->err != 0)
		return r.off == len ? 0 : -EPROTO;
	switch (type) {
	case GOFER_WALK:
	case GOFER_ATTACH:
	case GOFER_CREATE:
	case GOFER_MKDIR:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		rep->walk.fid = get32(&r);
		get_stat(&r, &rep->walk.st);
		if (r.err)
			return r.err;
		/* Fid 0 is the root, never a new fid. */
		if (rep->walk.fid == GOFER_ROOT_FID || rep->walk.fid >= GOFER_FID_MAX)
			return -EPROTO;
		if (!stat_valid(&rep->walk.st))
			return -EINVAL;
		break;
	case GOFER_STAT:
	case GOFER_SETATTR:
		get_stat(&r, &rep->stat);
		if (r.err)
			return r.err;
		if (!stat_valid(&rep->stat))
			return -EINVAL;
		break;
	case GOFER_STATFS:
		get_statfs(&r, &rep->statfs);
		break;
	case GOFER_LOOKUP: {
		get_stat(&r, &rep->lookup.st);
		uint32_t n;
		const uint8_t *t;
		if ((err = get_target(&r, &t, &n)) < 0)
			return err;
		if (!stat_valid(&rep->lookup.st) || !target_valid(&rep->lookup.st, t, n))
			return -EINVAL;
		rep->lookup.target = n ? (const char *)t : NULL;
		rep->lookup.len = n;
		break;
	}
	case GOFER_READLINK: {
		uint32_t n;
		const uint8_t *t;
		if ((err = get_target(&r, &t, &n)) < 0)
			return err;
		if (n == 0)
			return -EPROTO;
		if (memchr(t, '\0', n))
			return -EINVAL;
		rep->readlink.target = (const char *)t;
		rep->readlink.len = n;
		break;
	}
	case GOFER_GETDENTS: {
		uint32_t count = get32(&r);
		uint32_t flags = get32(&r);
		if (r.err)
			return r.err;
		if (!GOFER_GETDENTS_FLAGS_VALID(flags))
			return -EPROTO;
		/* Each entry takes at least GOFER_DIRENT_HDR_SIZE + 1 bytes. */
		size_t rest = len - r.off;
		if (count > rest / (GOFER_DIRENT_HDR_SIZE + 1))
			return -EPROTO;
		const uint8_t *ents = get_ref(&r, rest);
		if ((err = dirents_walk(ents, rest, count, flags, NULL, NULL, NULL)) < 0)
			return err;
		rep->getdents.count = count;
		rep->getdents.flags = flags;
		rep->getdents.ents = ents;
		rep->getdents.len = (uint32_t)rest;
		break;
	}
	case GOFER_CHANNELS: {
		uint32_t count = get32(&r);
		if (r.err)
			return r.err;
		if (count == 0 || count > GOFER_CHANNELS_MAX)
			return -EPROTO;
		rep->channels.count = count;
		for (uint32_t i = 0; i < count; i++)
			rep->channels.cpu[i] = get32(&r);
		if (r.err)
			return r.err;
		if (!channels_valid(count, rep->channels.cpu))
			return -EINVAL;
		break;
	}
	case GOFER_OPEN:
	case GOFER_CLUNK:
	case GOFER_UNLINK:
	case GOFER_RENAME:
		break;
	default:
		return -EPROTO;
	}
	if (r.err)
		return r.err;
	return r.off == len ? 0 : -EPROTO;
}

/* gofer_dirent_pack and gofer_dirent_pack_target: with_target writes the target field. */
static int dirent_pack(uint8_t *buf, size_t size, size_t *off, uint64_t ino, uint64_t next,
		       uint8_t type, const char *name, size_t name_len, const struct gofer_stat *st,
		       bool with_target, const char *target, size_t target_len)
{
	size_t need = GOFER_DIRENT_HDR_SIZE + name_len + (st ? GOFER_STAT_SIZE : 0) +
		      (with_target ? 2 + target_len : 0);

	if (!gofer_name_valid(name, name_len) || !dtype_valid(type))
		return -EINVAL;
	if (with_target && (!st || !target_valid(st, target, target_len)))
		return -EINVAL;
	if (*off > size || need > size - *off)
		return -ENOSPC;
	struct wcur w = {.p = buf, .size = size, .off = *off};
	put64(&w, ino);
	put64(&w, next);
	put8(&w, type);
	put8(&w, (uint8_t)name_len);
	put(&w, name, name_len);
	if (st)
		put_stat(&w, st);
	if (with_target) {
		put16(&w, (uint16_t)target_len);
		put(&w, target, target_len);
	}
	*off = w.off;
	return 0;
}

int gofer_dirent_pack(uint8_t *buf, size_t size, size_t *off, uint64_t ino, uint64_t next,
		      uint8_t type, const char *name, size_t name_len, const struct gofer_stat *st)
{
	return dirent_pack(buf, size, off, ino, next, type, name, name_len, st, false, NULL, 0);
}

int gofer_dirent_pack_target(uint8_t *buf, size_t size, size_t *off, uint64_t ino, uint64_t next,
			     uint8_t type, const char *name, size_t name_len,
			     const struct gofer_stat *st, const char *target, size_t target_len)
{
	return dirent_pack(buf, size, off, ino, next, type, name, name_len, st, true, target,
			   target_len);
}

int gofer_dirent_array_add(void *arg, const struct gofer_dirent *e)
{
	struct gofer_dirent_array *a = arg;

	a->ents[a->n++] = *e;
	return 0;
}

long gofer_dirents_unpack(const uint8_t *p, size_t len, uint32_t count, uint32_t flags,
			  struct gofer_dirent *out, size_t max)
{
	struct gofer_dirent_array u = {.ents = out};
	struct gofer_dirent tmp;
	int err;

	if (count > max)
		return -EPROTO;
	if ((err = dirents_walk(p, len, count, flags, &tmp, gofer_dirent_array_add, &u)) < 0)
		return err;
	return count;
}

int gofer_dirents_each(const uint8_t *p, size_t len, uint32_t count, uint32_t flags,
		       int (*fn)(void *arg, const struct gofer_dirent *e), void *arg)
{
	struct gofer_dirent tmp;

	return dirents_walk(p, len, count, flags, &tmp, fn, arg);
}
