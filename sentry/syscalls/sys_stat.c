/* Looking at files without opening them: stat, statx, getdents, readlink, access. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/mm/mm.h"

/* ---- stat ---- */

/* Resolve (dirfd, upath) with AT_* flags as the stat family does. A NULL path with
 * AT_EMPTY_PATH means dirfd itself (Linux 6.11). */
static int stat_lookup(struct task *t, int dirfd, uint64_t upath, int flags, struct path *out)
{
	char path[LINUX_PATH_MAX];
	unsigned lf = (flags & LINUX_AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	int r;

	if (flags & LINUX_AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	if (upath == 0 && (flags & LINUX_AT_EMPTY_PATH)) {
		path[0] = '\0';
	} else {
		r = sys_get_path(t, upath, path);
		if (r < 0)
			return r;
	}
	return vfs_lookup(t, dirfd, path, lf, out);
}

static long stat_to_user(struct task *t, struct dentry *d, uint64_t ubuf)
{
	struct linux_stat st;
	int r = vfs_getattr(d, &st);

	if (r < 0)
		return r;
	return copy_out(t->mm, ubuf, &st, sizeof(st));
}

static long do_fstatat(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf, int flags)
{
	struct path p;
	long r;

	if (flags & ~(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_NO_AUTOMOUNT | LINUX_AT_EMPTY_PATH))
		return -EINVAL;
	r = stat_lookup(t, dirfd, upath, flags, &p);
	if (r < 0)
		return r;
	r = stat_to_user(t, p.dentry, ubuf);
	path_put(&p);
	return r;
}

SYSCALL_DEFINE(stat) { return do_fstatat(t, LINUX_AT_FDCWD, a->a[0], a->a[1], 0); }

SYSCALL_DEFINE(lstat)
{
	return do_fstatat(t, LINUX_AT_FDCWD, a->a[0], a->a[1], LINUX_AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE(newfstatat) { return do_fstatat(t, (int)a->a[0], a->a[1], a->a[2], (int)a->a[3]); }

SYSCALL_DEFINE(fstat)
{
	struct file *f = sys_fget_raw(t, (int)a->a[0]);
	long r;

	if (!f)
		return -EBADF;
	r = stat_to_user(t, f->path.dentry, a->a[1]);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(statx)
{
	int dirfd = (int)a->a[0], flags = (int)a->a[2];
	uint32_t mask = (uint32_t)a->a[3];
	struct linux_statx sx;
	struct linux_stat st;
	struct path p;
	long r;

	if (flags & ~(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_NO_AUTOMOUNT | LINUX_AT_EMPTY_PATH |
		      LINUX_AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & LINUX_AT_STATX_SYNC_TYPE) == LINUX_AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & LINUX_STATX__RESERVED)
		return -EINVAL;
	r = stat_lookup(t, dirfd, a->a[1], flags, &p);
	if (r < 0)
		return r;
	r = vfs_getattr(p.dentry, &st);
	path_put(&p);
	if (r < 0)
		return r;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = LINUX_STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	sx.stx_atime =
	    (struct linux_statx_timestamp){st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0};
	sx.stx_mtime =
	    (struct linux_statx_timestamp){st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0};
	sx.stx_ctime =
	    (struct linux_statx_timestamp){st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0};
	sx.stx_rdev_major = VFS_MAJOR(st.st_rdev);
	sx.stx_rdev_minor = VFS_MINOR(st.st_rdev);
	sx.stx_dev_major = VFS_MAJOR(st.st_dev);
	sx.stx_dev_minor = VFS_MINOR(st.st_dev);
	return copy_out(t->mm, a->a[4], &sx, sizeof(sx));
}

/* ---- getdents ---- */

/* Fills a Sentry buffer with dirents; the previous entry's d_off is set when the next one is
 * emitted (it is the position of the next entry), the last one's at the end. */
struct getdents_ctx {
	struct dir_ctx ctx;
	char *buf;
	size_t size, used;
	size_t prev; /* offset of the previous record, or SIZE_MAX */
	bool old_format;
	int err;
};

#define DIRENT64_HDR offsetof(struct linux_dirent64, d_name)
#define DIRENT_HDR 18 /* unsigned long d_ino, d_off; unsigned short d_reclen */

static void set_prev_off(struct getdents_ctx *g, uint64_t off)
{
	if (g->prev != SIZE_MAX)
		memcpy(g->buf + g->prev + 8, &off, 8); /* d_off sits at 8 in both formats */
}

static bool getdents_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
			  unsigned type)
{
	struct getdents_ctx *g = container_of(ctx, struct getdents_ctx, ctx);
	size_t reclen = g->old_format ? (DIRENT_HDR + len + 2 + 7) & ~(size_t)7
				      : (DIRENT64_HDR + len + 1 + 7) & ~(size_t)7;
	char *rec = g->buf + g->used;
	uint16_t rl = (uint16_t)reclen;
	int64_t zero = 0;

	if (reclen > g->size - g->used) {
		g->err = -EINVAL;
		return false;
	}
	set_prev_off(g, ctx->pos);
	memset(rec, 0, reclen);
	memcpy(rec, &ino, 8);
	memcpy(rec + 8, &zero, 8);
	memcpy(rec + 16, &rl, 2);
	if (g->old_format) {
		memcpy(rec + DIRENT_HDR, name, len);
		rec[reclen - 1] = (char)type;
	} else {
		rec[18] = (char)type;
		memcpy(rec + DIRENT64_HDR, name, len);
	}
	g->prev = g->used;
	g->used += reclen;
	return true;
}

static long do_getdents(struct task *t, int fd, uint64_t ubuf, uint64_t count, bool old_format)
{
	struct getdents_ctx g = {
	    .ctx = {.emit = getdents_emit}, .prev = SIZE_MAX, .old_format = old_format};
	struct file *f = sys_fget(t, fd);
	long r;

	if (!f)
		return -EBADF;
	if (!f->fops || !f->fops->iterate) {
		file_put(f);
		return -ENOTDIR;
	}
	g.size = (size_t)MIN(count, (uint64_t)SYS_IO_CHUNK);
	g.buf = malloc(g.size ? g.size : 1);
	if (!g.buf) {
		file_put(f);
		return -ENOMEM;
	}
	r = vfs_iterate(f, &g.ctx);
	if (r == 0) {
		if (g.used) {
			set_prev_off(&g, f->pos);
			r = copy_out(t->mm, ubuf, g.buf, g.used) < 0 ? -EFAULT : (long)g.used;
		} else {
			r = g.err; /* EINVAL: not even one entry fits; 0 at the end */
		}
	}
	free(g.buf);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(getdents64)
{
	return do_getdents(t, (int)a->a[0], a->a[1], (uint32_t)a->a[2], false);
}

SYSCALL_DEFINE(getdents) { return do_getdents(t, (int)a->a[0], a->a[1], (uint32_t)a->a[2], true); }

/* ---- readlink ---- */

static long do_readlinkat(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf, int64_t size)
{
	char path[LINUX_PATH_MAX];
	struct path p;
	char *buf;
	long r;

	if (size <= 0)
		return -EINVAL;
	r = sys_get_path(t, upath, path);
	if (r < 0)
		return r;
	r = vfs_lookup(t, dirfd, path, LOOKUP_EMPTY, &p);
	if (r < 0)
		return r;
	if (!LINUX_S_ISLNK(p.dentry->inode->mode)) {
		path_put(&p);
		return path[0] ? -EINVAL : -ENOENT;
	}
	buf = malloc(LINUX_PATH_MAX);
	if (!buf) {
		path_put(&p);
		return -ENOMEM;
	}
	r = vfs_readlink_dentry(p.dentry, buf, (size_t)MIN(size, (int64_t)LINUX_PATH_MAX));
	path_put(&p);
	if (r > 0 && copy_out(t->mm, ubuf, buf, (size_t)r) < 0)
		r = -EFAULT;
	free(buf);
	return r;
}

SYSCALL_DEFINE(readlink)
{
	return do_readlinkat(t, LINUX_AT_FDCWD, a->a[0], a->a[1], (int)a->a[2]);
}

SYSCALL_DEFINE(readlinkat)
{
	return do_readlinkat(t, (int)a->a[0], a->a[1], a->a[2], (int)a->a[3]);
}

/* ---- access ---- */

static long do_faccessat(struct task *t, int dirfd, uint64_t upath, int mode, int flags)
{
	char path[LINUX_PATH_MAX];
	unsigned lf = LOOKUP_FOLLOW;
	struct path p;
	long r;

	if (mode & ~(LINUX_R_OK | LINUX_W_OK | LINUX_X_OK))
		return -EINVAL;
	if (flags & ~(LINUX_AT_EACCESS | LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH))
		return -EINVAL;
	if (flags & LINUX_AT_SYMLINK_NOFOLLOW)
		lf = 0;
	if (flags & LINUX_AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	r = sys_get_path(t, upath, path);
	if (r < 0)
		return r;
	r = vfs_lookup(t, dirfd, path, lf, &p);
	if (r < 0)
		return r;
	/* access(2) checks with the real ids, faccessat2(AT_EACCESS) with the effective ones
	 * (access_override_creds: a non-root real uid has no capabilities for it). */
	struct creds c = t->cred;
	if (!(flags & LINUX_AT_EACCESS)) {
		c.fsuid = c.ruid;
		c.fsgid = c.rgid;
		c.cap_effective = c.ruid == 0 ? c.cap_permitted : 0;
	}
	r = inode_permission_creds(&c, p.dentry->inode, mode);
	if (r == 0 && (mode & LINUX_W_OK) && (p.dentry->sb->flags & SB_RDONLY) &&
	    (LINUX_S_ISREG(p.dentry->inode->mode) || LINUX_S_ISDIR(p.dentry->inode->mode) ||
	     LINUX_S_ISLNK(p.dentry->inode->mode)))
		r = -EROFS;
	path_put(&p);
	return r;
}

SYSCALL_DEFINE(access) { return do_faccessat(t, LINUX_AT_FDCWD, a->a[0], (int)a->a[1], 0); }

SYSCALL_DEFINE(faccessat) { return do_faccessat(t, (int)a->a[0], a->a[1], (int)a->a[2], 0); }

SYSCALL_DEFINE(faccessat2)
{
	return do_faccessat(t, (int)a->a[0], a->a[1], (int)a->a[2], (int)a->a[3]);
}
