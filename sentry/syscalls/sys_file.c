/* File descriptor syscalls: open, close, lseek, ioctl, fcntl, dup*, truncate, fsync, and the
 * read/write family (sys_rw.c) in this family's table. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
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

/* ---- fcntl ---- */

#define LINUX_F_GETLK64 5
#define LINUX_F_OFD_GETLK 36
#define LINUX_F_OFD_SETLK 37
#define LINUX_F_OFD_SETLKW 38
#define LINUX_F_RDLCK 0
#define LINUX_F_WRLCK 1
#define LINUX_F_UNLCK 2

/* struct flock on x86-64 */
struct linux_flock {
	int16_t l_type;
	int16_t l_whence;
	int64_t l_start;
	int64_t l_len;
	int32_t l_pid;
};
_Static_assert(sizeof(struct linux_flock) == 32, "flock");

/* The F_SETFL-changeable flags (SETFL_MASK). */
#define SETFL_MASK                                                                                 \
	(LINUX_O_APPEND | LINUX_O_NONBLOCK | LINUX_O_ASYNC | LINUX_O_DIRECT | LINUX_O_NOATIME)

/* Record locks with one process in the sandbox: nothing can conflict, so every lock is
 * granted and F_GETLK reports the range unlocked. Checks the struct as Linux does. */
static long do_lock(struct task *t, struct file *f, int cmd, uint64_t arg)
{
	struct linux_flock fl;

	if (copy_in(t->mm, &fl, arg, sizeof(fl)) < 0)
		return -EFAULT;
	if (fl.l_type != LINUX_F_RDLCK && fl.l_type != LINUX_F_WRLCK && fl.l_type != LINUX_F_UNLCK)
		return -EINVAL;
	if (fl.l_whence < LINUX_SEEK_SET || fl.l_whence > LINUX_SEEK_END)
		return -EINVAL;
	if (cmd == LINUX_F_GETLK || cmd == LINUX_F_OFD_GETLK) {
		fl.l_type = LINUX_F_UNLCK;
		return copy_out(t->mm, arg, &fl, sizeof(fl));
	}
	if (fl.l_type == LINUX_F_RDLCK && !(f->fmode & FMODE_READ))
		return -EBADF;
	if (fl.l_type == LINUX_F_WRLCK && !(f->fmode & FMODE_WRITE))
		return -EBADF;
	return 0;
}

SYSCALL_DEFINE(fcntl)
{
	int fd = (int)a->a[0], cmd = (int)a->a[1];
	uint64_t arg = a->a[2];
	struct file *f = sys_fget_raw(t, fd);
	long r;

	if (!f)
		return -EBADF;
	/* O_PATH files allow only these (check_fcntl_cmd). */
	if ((f->fmode & FMODE_PATH) && cmd != LINUX_F_DUPFD && cmd != LINUX_F_DUPFD_CLOEXEC &&
	    cmd != LINUX_F_GETFD && cmd != LINUX_F_SETFD && cmd != LINUX_F_GETFL) {
		file_put(f);
		return -EBADF;
	}
	switch (cmd) {
	case LINUX_F_DUPFD:
	case LINUX_F_DUPFD_CLOEXEC: {
		int limit = vfs_nofile_limit();
		if (arg >= (uint64_t)limit) {
			r = -EINVAL;
			break;
		}
		r = fdtable_alloc(t->fdt, f, (int)arg, cmd == LINUX_F_DUPFD_CLOEXEC, limit);
		break;
	}
	case LINUX_F_GETFD:
		r = fdtable_get_cloexec(t->fdt, fd);
		if (r > 0)
			r = LINUX_FD_CLOEXEC;
		break;
	case LINUX_F_SETFD:
		r = fdtable_set_cloexec(t->fdt, fd, arg & LINUX_FD_CLOEXEC);
		break;
	case LINUX_F_GETFL:
		r = f->flags;
		break;
	case LINUX_F_SETFL:
		pthread_mutex_lock(&f->pos_lock);
		f->flags = (int)(((unsigned)arg & SETFL_MASK) | ((unsigned)f->flags & ~SETFL_MASK));
		pthread_mutex_unlock(&f->pos_lock);
		r = 0;
		break;
	case LINUX_F_GETLK:
	case LINUX_F_SETLK:
	case LINUX_F_SETLKW:
	case LINUX_F_OFD_GETLK:
	case LINUX_F_OFD_SETLK:
	case LINUX_F_OFD_SETLKW:
		r = do_lock(t, f, cmd, arg);
		break;
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

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

const struct syscall_entry sys_file_table[] = {
    {LINUX_SYS_read, sys_read},
    {LINUX_SYS_write, sys_write},
    {LINUX_SYS_readv, sys_readv},
    {LINUX_SYS_writev, sys_writev},
    {LINUX_SYS_pread64, sys_pread64},
    {LINUX_SYS_pwrite64, sys_pwrite64},
    {LINUX_SYS_preadv, sys_preadv},
    {LINUX_SYS_pwritev, sys_pwritev},
    {LINUX_SYS_preadv2, sys_preadv2},
    {LINUX_SYS_pwritev2, sys_pwritev2},
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
    {LINUX_SYS_fcntl, sys_fcntl},
    {LINUX_SYS_ioctl, sys_ioctl},
    {LINUX_SYS_truncate, sys_truncate},
    {LINUX_SYS_ftruncate, sys_ftruncate},
    {LINUX_SYS_fsync, sys_fsync},
    {LINUX_SYS_fdatasync, sys_fdatasync},
    {-1, NULL},
};
