/* File descriptor syscalls: open, close, close_range, lseek, ioctl, dup*, pipe, truncate, the
 * sync family; and the read/write (sys_rw.c), fcntl/flock (sys_fcntl.c) and poll/select
 * (sys_poll.c) handlers in this family's table. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "sentry/fs/pipe.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/ops.h"

struct file *sys_fget_raw(struct task *t, int fd)
{
	return t->fdt ? fdtable_get(t->fdt, fd) : NULL;
}

struct file *sys_fget(struct task *t, int fd)
{
	struct file *f = sys_fget_raw(t, fd);

	if (f && (f->fmode & FMODE_PATH)) {
		file_put(f);
		return NULL;
	}
	return f;
}

int sys_get_path(struct task *t, uint64_t addr, char *buf)
{
	long r = copy_in_str(t->mm, buf, addr, LINUX_PATH_MAX);

	return r < 0 ? (int)r : 0;
}

/* ---- open and close ---- */

static long do_open(struct task *t, int dirfd, uint64_t upath, int flags, int mode)
{
	char path[LINUX_PATH_MAX];
	struct file *f;
	int fd, r;

	r = sys_get_path(t, upath, path);
	if (r < 0)
		return r;
	/* Linux takes the fd before walking the path: EMFILE wins over ENOENT. */
	fd = fdtable_reserve(t->fdt, 0, vfs_nofile_limit());
	if (fd < 0)
		return fd;
	r = (int)vfs_openat(t, dirfd, path, flags, mode, &f);
	if (r < 0) {
		fdtable_unreserve(t->fdt, fd);
		return r;
	}
	fdtable_commit(t->fdt, fd, f, flags & LINUX_O_CLOEXEC);
	file_put(f);
	return fd;
}

SYSCALL_DEFINE(open) { return do_open(t, LINUX_AT_FDCWD, a->a[0], (int)a->a[1], (int)a->a[2]); }

SYSCALL_DEFINE(openat) { return do_open(t, (int)a->a[0], a->a[1], (int)a->a[2], (int)a->a[3]); }

SYSCALL_DEFINE(creat)
{
	return do_open(t, LINUX_AT_FDCWD, a->a[0], LINUX_O_CREAT | LINUX_O_WRONLY | LINUX_O_TRUNC,
		       (int)a->a[1]);
}

SYSCALL_DEFINE(close) { return fdtable_close(t->fdt, (int)a->a[0]); }

SYSCALL_DEFINE(close_range)
{
	unsigned first = (unsigned)a->a[0], last = (unsigned)a->a[1];
	unsigned flags = (unsigned)a->a[2];

	if (flags & ~(LINUX_CLOSE_RANGE_UNSHARE | LINUX_CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	if (flags & LINUX_CLOSE_RANGE_UNSHARE) {
		int r = fdtable_unshare(&t->fdt);
		if (r < 0)
			return r;
	}
	fdtable_close_range(t->fdt, first, last, flags & LINUX_CLOSE_RANGE_CLOEXEC);
	return 0;
}

/* ---- pipes ---- */

static long do_pipe2(struct task *t, uint64_t ufds, int flags)
{
	struct file *rd, *wr;
	int limit = vfs_nofile_limit();
	int fds[2];
	long r;

	if (flags & ~(LINUX_O_CLOEXEC | LINUX_O_NONBLOCK | LINUX_O_DIRECT))
		return -EINVAL; /* O_NOTIFICATION_PIPE too: there is no watch queue */
	r = pipe_create(flags, &rd, &wr);
	if (r < 0)
		return r;
	fds[0] = fdtable_reserve(t->fdt, 0, limit);
	fds[1] = fds[0] < 0 ? fds[0] : fdtable_reserve(t->fdt, 0, limit);
	if (fds[1] < 0) {
		r = fds[1];
		if (fds[0] >= 0)
			fdtable_unreserve(t->fdt, fds[0]);
	} else if (copy_out(t->mm, ufds, fds, sizeof(fds)) < 0) {
		/* nothing of the pipe is visible yet: take it all back */
		fdtable_unreserve(t->fdt, fds[0]);
		fdtable_unreserve(t->fdt, fds[1]);
		r = -EFAULT;
	} else {
		fdtable_commit(t->fdt, fds[0], rd, flags & LINUX_O_CLOEXEC);
		fdtable_commit(t->fdt, fds[1], wr, flags & LINUX_O_CLOEXEC);
		r = 0;
	}
	file_put(rd);
	file_put(wr);
	return r;
}

SYSCALL_DEFINE(pipe) { return do_pipe2(t, a->a[0], 0); }

SYSCALL_DEFINE(pipe2) { return do_pipe2(t, a->a[0], (int)a->a[1]); }

/* ---- offsets ---- */

SYSCALL_DEFINE(lseek)
{
	struct file *f = sys_fget(t, (int)a->a[0]);
	int64_t r;

	if (!f)
		return -EBADF;
	r = vfs_lseek(f, (int64_t)a->a[1], (int)a->a[2]);
	file_put(f);
	return r;
}

/* ---- dup ---- */

SYSCALL_DEFINE(dup)
{
	struct file *f = sys_fget_raw(t, (int)a->a[0]);
	int r;

	if (!f)
		return -EBADF;
	r = fdtable_alloc(t->fdt, f, 0, false, vfs_nofile_limit());
	file_put(f);
	return r;
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags)
{
	struct file *f;
	int limit = vfs_nofile_limit();
	long r;

	if (flags & ~LINUX_O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	if (newfd < 0 || newfd >= limit)
		return -EBADF;
	f = sys_fget_raw(t, oldfd);
	if (!f)
		return -EBADF;
	r = fdtable_replace(t->fdt, newfd, f, flags & LINUX_O_CLOEXEC, limit);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(dup2)
{
	int oldfd = (int)a->a[0], newfd = (int)a->a[1];

	if (oldfd == newfd) {
		struct file *f = sys_fget_raw(t, oldfd);
		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return do_dup3(t, oldfd, newfd, 0);
}

SYSCALL_DEFINE(dup3) { return do_dup3(t, (int)a->a[0], (int)a->a[1], (int)a->a[2]); }

/* ---- ioctl ---- */

SYSCALL_DEFINE(ioctl)
{
	int fd = (int)a->a[0];
	unsigned int cmd = (unsigned int)a->a[1];
	uint64_t arg = a->a[2];
	struct file *f = sys_fget(t, fd);
	long r;
	int v;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case LINUX_FIOCLEX:
	case LINUX_FIONCLEX:
		r = fdtable_set_cloexec(t->fdt, fd, cmd == LINUX_FIOCLEX);
		break;
	case LINUX_FIONBIO:
		r = copy_in(t->mm, &v, arg, sizeof(v));
		if (r == 0) {
			pthread_mutex_lock(&f->pos_lock);
			if (v)
				f->flags |= LINUX_O_NONBLOCK;
			else
				f->flags &= ~LINUX_O_NONBLOCK;
			pthread_mutex_unlock(&f->pos_lock);
		}
		break;
	case LINUX_FIONREAD:
		if (LINUX_S_ISREG(f->inode->mode)) {
			/* file_ioctl: what is left to read from the offset */
			struct linux_stat st;
			r = vfs_fstat(f, &st);
			if (r == 0) {
				v = (int)(st.st_size - (int64_t)f->pos);
				r = copy_out(t->mm, arg, &v, sizeof(v));
			}
			break;
		}
		/* fall through */
	default:
		r = (f->fops && f->fops->ioctl) ? f->fops->ioctl(f, t, cmd, arg) : -ENOTTY;
	}
	file_put(f);
	return r;
}

/* ---- truncate and sync ---- */

SYSCALL_DEFINE(truncate)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[0], path);

	if (r < 0)
		return r;
	return vfs_truncate_path(t, path, (int64_t)a->a[1]);
}

SYSCALL_DEFINE(ftruncate)
{
	int64_t len = (int64_t)a->a[1];
	struct file *f;
	long r;

	if (len < 0)
		return -EINVAL;
	f = sys_fget(t, (int)a->a[0]);
	if (!f)
		return -EBADF;
	if (!LINUX_S_ISREG(f->inode->mode) || !(f->fmode & FMODE_WRITE)) {
		r = -EINVAL;
	} else {
		struct iattr ia = {.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME,
				   .size = (uint64_t)len};
		ia.mtime = ia.ctime = vfs_now();
		r = vfs_setattr(f->path.dentry, &ia);
	}
	file_put(f);
	return r;
}

static long do_fsync(struct task *t, int fd)
{
	struct file *f = sys_fget(t, fd);
	long r;

	if (!f)
		return -EBADF;
	r = (f->fops && f->fops->fsync) ? f->fops->fsync(f) : -EINVAL;
	file_put(f);
	return r;
}

SYSCALL_DEFINE(fsync) { return do_fsync(t, (int)a->a[0]); }

SYSCALL_DEFINE(fdatasync) { return do_fsync(t, (int)a->a[0]); }

/* Nothing the Sentry holds needs writing anywhere: tmpfs is memory, the host is read-only. */
SYSCALL_DEFINE(sync) { return 0; }

SYSCALL_DEFINE(syncfs)
{
	struct file *f = sys_fget(t, (int)a->a[0]);

	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

#define SYNC_FILE_RANGE_VALID 0x7u

SYSCALL_DEFINE(sync_file_range)
{
	int64_t off = (int64_t)a->a[1], nbytes = (int64_t)a->a[2];
	struct file *f = sys_fget(t, (int)a->a[0]);
	uint32_t type;
	long r = 0;

	if (!f)
		return -EBADF;
	type = f->inode->mode & LINUX_S_IFMT;
	if (a->a[3] & ~(uint64_t)SYNC_FILE_RANGE_VALID)
		r = -EINVAL;
	else if (off < 0 || nbytes < 0 || off + nbytes < 0)
		r = -EINVAL;
	else if (type != LINUX_S_IFREG && type != LINUX_S_IFDIR && type != LINUX_S_IFLNK &&
		 type != LINUX_S_IFBLK)
		r = -ESPIPE;
	file_put(f);
	return r;
}

/* Advice is only advice: checked as Linux's generic_fadvise does, then ignored. */
SYSCALL_DEFINE(fadvise64)
{
	int64_t len = (int64_t)a->a[2];
	int advice = (int)a->a[3];
	struct file *f = sys_fget(t, (int)a->a[0]);
	long r = 0;

	if (!f)
		return -EBADF;
	if (LINUX_S_ISFIFO(f->inode->mode))
		r = -ESPIPE;
	else if (len < 0 || advice < 0 || advice > LINUX_POSIX_FADV_NOREUSE)
		r = -EINVAL;
	file_put(f);
	return r;
}

SYSCALL_DEFINE(readahead)
{
	struct file *f = sys_fget(t, (int)a->a[0]);
	long r = 0;

	if (!f)
		return -EBADF;
	if (!(f->fmode & FMODE_READ))
		r = -EBADF;
	else if (!LINUX_S_ISREG(f->inode->mode))
		r = -EINVAL;
	file_put(f);
	return r;
}

const struct syscall_entry sys_file_table[] = {
    {LINUX_SYS_read, sys_read},
    {LINUX_SYS_write, sys_write},
    {LINUX_SYS_readv, sys_readv},
    {LINUX_SYS_writev, sys_writev},
    {LINUX_SYS_pread64, sys_pread64},
    {LINUX_SYS_pwrite64, sys_pwrite64},
    {LINUX_SYS_preadv, sys_preadv},
    {LINUX_SYS_pwritev, sys_pwritev},
    {LINUX_SYS_preadv2, sys_preadv2, "partial: RWF_* flags are accepted as hints only"},
    {LINUX_SYS_pwritev2, sys_pwritev2, "partial: RWF_* flags are accepted as hints only"},
    {LINUX_SYS_sendfile, sys_sendfile},
    {LINUX_SYS_copy_file_range, sys_copy_file_range},
    {LINUX_SYS_open, sys_open},
    {LINUX_SYS_openat, sys_openat},
    {LINUX_SYS_creat, sys_creat},
    {LINUX_SYS_close, sys_close},
    {LINUX_SYS_lseek, sys_lseek},
    {LINUX_SYS_dup, sys_dup},
    {LINUX_SYS_dup2, sys_dup2},
    {LINUX_SYS_dup3, sys_dup3},
    {LINUX_SYS_fcntl, sys_fcntl,
     "partial: F_SETOWN/F_SETSIG are recorded but no SIGIO is sent; leases are refused "
     "(EAGAIN); F_NOTIFY never fires; file seals are unsupported (EINVAL)"},
    {LINUX_SYS_ioctl, sys_ioctl},
    {LINUX_SYS_truncate, sys_truncate},
    {LINUX_SYS_ftruncate, sys_ftruncate},
    {LINUX_SYS_fsync, sys_fsync},
    {LINUX_SYS_fdatasync, sys_fdatasync},
    {LINUX_SYS_sync, sys_sync},
    {LINUX_SYS_syncfs, sys_syncfs},
    {LINUX_SYS_sync_file_range, sys_sync_file_range},
    {LINUX_SYS_fadvise64, sys_fadvise64},
    {LINUX_SYS_readahead, sys_readahead},
    {LINUX_SYS_close_range, sys_close_range},
    {LINUX_SYS_pipe, sys_pipe},
    {LINUX_SYS_pipe2, sys_pipe2, "partial: O_NOTIFICATION_PIPE is refused (EINVAL)"},
    {LINUX_SYS_flock, sys_flock},
    {LINUX_SYS_poll, sys_poll,
     "partial: restarted whole after a signal without a handler (Linux restarts it with the "
     "time left)"},
    {LINUX_SYS_ppoll, sys_ppoll},
    {LINUX_SYS_select, sys_select},
    {LINUX_SYS_pselect6, sys_pselect6},
    {-1, NULL},
};
