/* Changing file attributes: the chmod, chown and utimes families, and statfs/fstatfs. The
 * checks are Linux's (fs/open.c, fs/utimes.c, fs/attr.c): EROFS first, then the owner and
 * capability rules, with root (fsuid 0) holding CAP_CHOWN, CAP_FOWNER and CAP_FSETID. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <string.h>

#include "sentry/mm/mm.h"

/* inode_owner_or_capable: the owner, or CAP_FOWNER. */
static bool owner_or_capable(struct task *t, struct inode *inode)
{
	return t->cred.fsuid == 0 || t->cred.fsuid == inode->uid;
}

/* in_group_p: is gid the task's fsgid or one of its supplementary groups? */
static bool in_group(struct task *t, uint32_t gid)
{
	if (t->cred.fsgid == gid)
		return true;
	for (uint32_t i = 0; i < t->cred.ngroups && i < 32; i++)
		if (t->cred.groups[i] == gid)
			return true;
	return false;
}

/* Resolve (dirfd, upath) with AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH flags. */
static int attr_lookup(struct task *t, int dirfd, uint64_t upath, int flags, struct path *out)
{
	char path[LINUX_PATH_MAX];
	unsigned lf = (flags & LINUX_AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	int r = sys_get_path(t, upath, path);

	if (r < 0)
		return r;
	if (flags & LINUX_AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	return vfs_lookup(t, dirfd, path, lf, out);
}

/* The path of an fd for the f* forms: fdget, so O_PATH fds are EBADF. */
static int fd_path(struct task *t, int fd, struct path *out)
{
	struct file *f = sys_fget(t, fd);

	if (!f)
		return -EBADF;
	*out = f->path;
	path_get(out);
	file_put(f);
	return 0;
}

/* ---- chmod ---- */

/* chmod_common on p (consumed). */
static long chmod_path(struct task *t, struct path *p, uint32_t mode)
{
	struct inode *inode = p->dentry->inode;
	struct iattr ia = {.valid = ATTR_MODE | ATTR_CTIME};
	long r;

	if (p->dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
	} else if (LINUX_S_ISLNK(inode->mode)) {
		r = -EOPNOTSUPP; /* a symlink's mode never changes */
	} else if (!owner_or_capable(t, inode)) {
		r = -EPERM;
	} else {
		ia.mode = mode & LINUX_S_IALLUGO;
		/* Only a member of the file's group (or CAP_FSETID) may set S_ISGID. */
		if (t->cred.fsuid != 0 && !in_group(t, inode->gid))
			ia.mode &= ~(uint32_t)02000;
		ia.ctime = vfs_now();
		r = vfs_setattr(p->dentry, &ia);
	}
	path_put(p);
	return r;
}

static long do_fchmodat(struct task *t, int dirfd, uint64_t upath, uint32_t mode, int flags)
{
	struct path p;
	int r;

	if (flags & ~(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH))
		return -EINVAL;
	r = attr_lookup(t, dirfd, upath, flags, &p);
	return r < 0 ? r : chmod_path(t, &p, mode);
}

SYSCALL_DEFINE(chmod) { return do_fchmodat(t, LINUX_AT_FDCWD, a->a[0], (uint32_t)a->a[1], 0); }

SYSCALL_DEFINE(fchmodat) { return do_fchmodat(t, (int)a->a[0], a->a[1], (uint32_t)a->a[2], 0); }

SYSCALL_DEFINE(fchmodat2)
{
	return do_fchmodat(t, (int)a->a[0], a->a[1], (uint32_t)a->a[2], (int)a->a[3]);
}

SYSCALL_DEFINE(fchmod)
{
	struct path p;
	int r = fd_path(t, (int)a->a[0], &p);

	return r < 0 ? r : chmod_path(t, &p, (uint32_t)a->a[1]);
}

/* ---- chown ---- */

/* chown_common on p (consumed). uid/gid (uint32_t)-1: unchanged. */
static long chown_path(struct task *t, struct path *p, uint32_t uid, uint32_t gid)
{
	struct inode *inode = p->dentry->inode;
	struct iattr ia = {.valid = ATTR_CTIME};
	bool root = t->cred.fsuid == 0;
	uint32_t mode, iuid, igid;
	long r = 0;

	if (p->dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	pthread_mutex_lock(&inode->lock);
	mode = inode->mode;
	iuid = inode->uid;
	igid = inode->gid;
	pthread_mutex_unlock(&inode->lock);
	if (uid != (uint32_t)-1) {
		/* chown_ok: only root gives a file away (the owner may "change" to itself) */
		if (!root && !(t->cred.fsuid == iuid && uid == iuid)) {
			r = -EPERM;
			goto out;
		}
		ia.valid |= ATTR_UID;
		ia.uid = uid;
	}
	if (gid != (uint32_t)-1) {
		/* chgrp_ok: the owner may pick one of its own groups */
		if (!root && !(t->cred.fsuid == iuid && (gid == igid || in_group(t, gid)))) {
			r = -EPERM;
			goto out;
		}
		ia.valid |= ATTR_GID;
		ia.gid = gid;
	}
	/* ATTR_KILL_SUID and setattr_should_drop_sgid, for everything but directories. */
	if (!LINUX_S_ISDIR(mode) && !LINUX_S_ISLNK(mode)) {
		uint32_t nmode = mode & ~(uint32_t)04000;
		if ((mode & 02000) && ((mode & 010) || (!root && !in_group(t, igid))))
			nmode &= ~(uint32_t)02000;
		if (nmode != mode) {
			ia.valid |= ATTR_MODE;
			ia.mode = nmode & LINUX_S_IALLUGO;
		}
	}
	ia.ctime = vfs_now();
	r = vfs_setattr(p->dentry, &ia);
out:
	path_put(p);
	return r;
}

static long do_fchownat(struct task *t, int dirfd, uint64_t upath, uint32_t uid, uint32_t gid,
			int flags)
{
	struct path p;
	int r;

	if (flags & ~(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH))
		return -EINVAL;
	r = attr_lookup(t, dirfd, upath, flags, &p);
	return r < 0 ? r : chown_path(t, &p, uid, gid);
}

SYSCALL_DEFINE(chown)
{
	return do_fchownat(t, LINUX_AT_FDCWD, a->a[0], (uint32_t)a->a[1], (uint32_t)a->a[2], 0);
}

SYSCALL_DEFINE(lchown)
{
	return do_fchownat(t, LINUX_AT_FDCWD, a->a[0], (uint32_t)a->a[1], (uint32_t)a->a[2],
			   LINUX_AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE(fchownat)
{
	return do_fchownat(t, (int)a->a[0], a->a[1], (uint32_t)a->a[2], (uint32_t)a->a[3],
			   (int)a->a[4]);
}

SYSCALL_DEFINE(fchown)
{
	struct path p;
	int r = fd_path(t, (int)a->a[0], &p);

	return r < 0 ? r : chown_path(t, &p, (uint32_t)a->a[1], (uint32_t)a->a[2]);
}

/* ---- utimes ---- */

static bool nsec_valid(int64_t nsec)
{
	return nsec == LINUX_UTIME_NOW || nsec == LINUX_UTIME_OMIT ||
	       (nsec >= 0 && nsec < 1000000000);
}

/* vfs_utimes on p (consumed): times NULL means both now. */
static long utimes_path(struct task *t, struct path *p, const struct linux_timespec *times)
{
	struct inode *inode = p->dentry->inode;
	struct iattr ia = {.valid = ATTR_CTIME | ATTR_ATIME | ATTR_MTIME};
	struct linux_timespec now = vfs_now();
	long r;

	if (times) {
		if (!nsec_valid(times[0].tv_nsec) || !nsec_valid(times[1].tv_nsec)) {
			r = -EINVAL;
			goto out;
		}
		if (times[0].tv_nsec == LINUX_UTIME_NOW && times[1].tv_nsec == LINUX_UTIME_NOW)
			times = NULL;
	}
	if (p->dentry->sb->flags & SB_RDONLY) {
		r = -EROFS;
		goto out;
	}
	ia.atime = ia.mtime = ia.ctime = now;
	if (times) {
		if (times[0].tv_nsec == LINUX_UTIME_OMIT) {
			ia.valid &= ~ATTR_ATIME;
		} else if (times[0].tv_nsec != LINUX_UTIME_NOW) {
			ia.atime = times[0];
		}
		if (times[1].tv_nsec == LINUX_UTIME_OMIT) {
			ia.valid &= ~ATTR_MTIME;
		} else if (times[1].tv_nsec != LINUX_UTIME_NOW) {
			ia.mtime = times[1];
		}
	}
	/* Times given (ATTR_TIMES_SET, even UTIME_NOW with UTIME_OMIT): only the owner. Both
	 * now (ATTR_TOUCH): anyone who may write the file. */
	if (!owner_or_capable(t, inode)) {
		r = times ? -EPERM : inode_permission(t, inode, MAY_WRITE);
		if (r < 0)
			goto out;
	}
	r = vfs_setattr(p->dentry, &ia);
out:
	path_put(p);
	return r;
}

/* do_utimes: a NULL path with a real dirfd means the fd itself (futimens). */
static long do_utimes(struct task *t, int dirfd, uint64_t upath, const struct linux_timespec *times,
		      int flags)
{
	struct path p;
	int r;

	if (upath == 0 && dirfd != LINUX_AT_FDCWD) {
		if (flags)
			return -EINVAL;
		r = fd_path(t, dirfd, &p);
	} else {
		if (flags & ~(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH))
			return -EINVAL;
		r = attr_lookup(t, dirfd, upath, flags, &p);
	}
	return r < 0 ? r : utimes_path(t, &p, times);
}

SYSCALL_DEFINE(utimensat)
{
	struct linux_timespec ts[2];

	if (a->a[2]) {
		if (copy_in(t->mm, ts, a->a[2], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts[0].tv_nsec == LINUX_UTIME_OMIT && ts[1].tv_nsec == LINUX_UTIME_OMIT)
			return 0;
	}
	return do_utimes(t, (int)a->a[0], a->a[1], a->a[2] ? ts : NULL, (int)a->a[3]);
}

/* utimes/futimesat: struct timeval[2], microseconds checked. */
static long do_futimesat(struct task *t, int dirfd, uint64_t upath, uint64_t utv)
{
	struct linux_timeval tv[2];
	struct linux_timespec ts[2];

	if (utv) {
		if (copy_in(t->mm, tv, utv, sizeof(tv)) < 0)
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i].tv_sec = tv[i].tv_sec;
			ts[i].tv_nsec = tv[i].tv_usec * 1000;
		}
	}
	return do_utimes(t, dirfd, upath, utv ? ts : NULL, 0);
}

SYSCALL_DEFINE(utimes) { return do_futimesat(t, LINUX_AT_FDCWD, a->a[0], a->a[1]); }

SYSCALL_DEFINE(futimesat) { return do_futimesat(t, (int)a->a[0], a->a[1], a->a[2]); }

SYSCALL_DEFINE(utime)
{
	int64_t ub[2]; /* struct utimbuf { actime, modtime } */
	struct linux_timespec ts[2];

	if (a->a[1]) {
		if (copy_in(t->mm, ub, a->a[1], sizeof(ub)) < 0)
			return -EFAULT;
		ts[0] = (struct linux_timespec){ub[0], 0};
		ts[1] = (struct linux_timespec){ub[1], 0};
	}
	return do_utimes(t, LINUX_AT_FDCWD, a->a[0], a->a[1] ? ts : NULL, 0);
}

/* ---- statfs ---- */

static long statfs_out(struct task *t, struct dentry *d, uint64_t ubuf)
{
	struct linux_statfs st;
	int r = vfs_statfs(d, &st);

	if (r < 0)
		return r;
	return copy_out(t->mm, ubuf, &st, sizeof(st));
}

SYSCALL_DEFINE(statfs)
{
	struct path p;
	long r = attr_lookup(t, LINUX_AT_FDCWD, a->a[0], 0, &p);

	if (r < 0)
		return r;
	r = statfs_out(t, p.dentry, a->a[1]);
	path_put(&p);
	return r;
}

SYSCALL_DEFINE(fstatfs)
{
	struct file *f = sys_fget_raw(t, (int)a->a[0]);
	long r;

	if (!f)
		return -EBADF;
	r = statfs_out(t, f->path.dentry, a->a[1]);
	file_put(f);
	return r;
}
