/* splice, tee and vmsplice (one end a pipe; data is copied through the Sentry, never shared
 * between pipes by reference), and fallocate with Linux's argument checks (vfs_fallocate). */
#include "sentry/syscalls/sys_res.h"
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/fs/pipe.h"
#include "sentry/kernel/signal.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

#define SPLICE_F_MOVE 0x01
#define SPLICE_F_NONBLOCK 0x02
#define SPLICE_F_MORE 0x04
#define SPLICE_F_GIFT 0x08
#define SPLICE_F_ALL (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)

/* At most this much moves per call between a pipe and a file (a pipe holds 64 KiB anyway
 * unless F_SETPIPE_SZ grew it). */
#define SPLICE_CHUNK (1024 * 1024)

static long sigpipe(struct task *t, long r)
{
	if (r == -EPIPE) {
		struct linux_siginfo info;
		siginfo_kernel(&info, LINUX_SIGPIPE);
		signal_send_thread(t, &info);
	}
	return r;
}

/* The sink of a splice from a pipe to file out, at *off or its file offset. */
struct to_file {
	struct file *out;
	int64_t *off; /* NULL: the file's offset */
};

static ssize_t sink_file(void *arg, const void *buf, size_t len)
{
	struct to_file *s = arg;
	ssize_t w;

	if (s->off) {
		w = vfs_pwrite(s->out, buf, len, (uint64_t)*s->off);
		if (w > 0)
			*s->off += w;
		return w;
	}
	return vfs_write(s->out, buf, len);
}

/* file in -> pipe out (splice_file_to_pipe). */
static long file_to_pipe(struct file *in, int64_t *off, struct file *out, size_t len, bool nonblock)
{
	long r = pipe_splice_wait(out, true, nonblock);
	char *buf;

	if (r < 0)
		return r;
	size_t room = pipe_room(out);
	/* A file's data goes into the pipe a page-cache page per buffer (filemap_splice_read):
	 * the first buffer holds only the rest of the page the offset is in. */
	if (off || (in->fmode & FMODE_LSEEK)) {
		uint64_t pos = off ? (uint64_t)*off : in->pos;
		room = room ? room - (size_t)(pos % PAGE_SIZE) : 0;
	}
	len = MIN(len, MIN(room, (size_t)SPLICE_CHUNK));
	if (!len)
		return -EAGAIN; /* filled by another writer meanwhile */
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	ssize_t got = off ? vfs_pread(in, buf, len, (uint64_t)*off) : vfs_read(in, buf, len);
	if (got <= 0) {
		free(buf);
		return got;
	}
	ssize_t w = pipe_write_nowait(out, buf, (size_t)got);
	if (w < got) {
		/* Another writer took the room: give back what did not fit, to the input's offset
		 * when it has one, else by waiting for room like a write. */
		size_t rest = (size_t)got - (size_t)MAX(w, 0);
		if (off || (in->fmode & FMODE_LSEEK)) {
			if (!off)
				vfs_lseek(in, -(int64_t)rest, LINUX_SEEK_CUR);
		} else {
			ssize_t w2 = vfs_write(out, buf + MAX(w, 0), rest);
			if (w2 > 0)
				w = MAX(w, 0) + w2;
		}
	}
	free(buf);
	if (w > 0 && off)
		*off += w;
	return w;
}

/* The offset of one side for do_splice: the caller's (*uoff read in) or none. FMODE_PREAD is
 * also pwrite here. 0 or -errno. */
static long splice_off(struct file *f, bool has, int64_t off)
{
	if (has && !(f->fmode & FMODE_PREAD))
		return -EINVAL;
	return has && off < 0 ? -EINVAL : 0; /* rw_verify_area */
}

SYSCALL_DEFINE(splice)
{
	int fd_in = (int)a->a[0], fd_out = (int)a->a[2];
	uint64_t uoff_in = a->a[1], uoff_out = a->a[3];
	size_t len = (size_t)MIN(a->a[4], (uint64_t)SYS_MAX_RW_COUNT);
	unsigned flags = (unsigned)a->a[5];
	struct file *in = NULL, *out = NULL;
	int64_t off_in = 0, off_out = 0;
	long r;

	/* __do_splice, then do_splice, in their order */
	if (!len)
		return 0;
	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	in = sys_fget(t, fd_in);
	out = in ? sys_fget(t, fd_out) : NULL;
	if (!in || !out) {
		r = -EBADF;
		goto out;
	}
	bool ipipe = file_is_pipe(in), opipe = file_is_pipe(out);
	if ((ipipe && uoff_in) || (opipe && uoff_out)) {
		r = -ESPIPE;
		goto out;
	}
	if ((uoff_in && copy_in(t->mm, &off_in, uoff_in, sizeof(off_in))) ||
	    (uoff_out && copy_in(t->mm, &off_out, uoff_out, sizeof(off_out)))) {
		r = -EFAULT;
		goto out;
	}
	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE)) {
		r = -EBADF;
		goto out;
	}
	if (ipipe && opipe) {
		if (in->inode == out->inode) {
			r = -EINVAL;
			goto out;
		}
		bool nb =
		    (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & LINUX_O_NONBLOCK);
		r = sigpipe(t, pipe_splice_pipe(in, out, len, nb, false));
	} else if (ipipe) {
		if ((r = splice_off(out, uoff_out, off_out)) < 0)
			goto out;
		if ((out->flags & LINUX_O_APPEND) || !out->fops || !out->fops->write) {
			r = -EINVAL;
			goto out;
		}
		bool nb = (flags & SPLICE_F_NONBLOCK) || (in->flags & LINUX_O_NONBLOCK);
		struct to_file sk = {out, uoff_out ? &off_out : NULL};
		r = sigpipe(t, pipe_splice_out(in, len, nb, sink_file, &sk));
		if (uoff_out && r > 0 && copy_out(t->mm, uoff_out, &off_out, sizeof(off_out)))
			r = -EFAULT;
	} else if (opipe) {
		if ((r = splice_off(in, uoff_in, off_in)) < 0)
			goto out;
		if (!in->fops || !in->fops->read) {
			r = -EINVAL;
			goto out;
		}
		bool nb = (flags & SPLICE_F_NONBLOCK) || (out->flags & LINUX_O_NONBLOCK);
		r = sigpipe(t, file_to_pipe(in, uoff_in ? &off_in : NULL, out, len, nb));
		if (uoff_in && r > 0 && copy_out(t->mm, uoff_in, &off_in, sizeof(off_in)))
			r = -EFAULT;
	} else {
		r = -EINVAL; /* neither end is a pipe */
	}
out:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}

SYSCALL_DEFINE(tee)
{
	size_t len = (size_t)MIN(a->a[2], (uint64_t)SYS_MAX_RW_COUNT);
	unsigned flags = (unsigned)a->a[3];
	struct file *in, *out;
	long r;

	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	if (!len)
		return 0;
	in = sys_fget(t, (int)a->a[0]);
	out = in ? sys_fget(t, (int)a->a[1]) : NULL;
	if (!in || !out)
		r = -EBADF;
	else if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE))
		r = -EBADF;
	else if (!file_is_pipe(in) || !file_is_pipe(out) || in->inode == out->inode)
		r = -EINVAL;
	else
		r = sigpipe(t, pipe_splice_pipe(in, out, len,
						(flags & SPLICE_F_NONBLOCK) ||
						    ((in->flags | out->flags) & LINUX_O_NONBLOCK),
						true));
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}

/* ---- vmsplice ---- */

#define LINUX_IOV_MAX_ 1024

struct to_user {
	struct task *t;
	const struct linux_iovec *iov;
	size_t niov;
};

/* Scatter buf over the iovecs (vmsplice from a pipe). Stops at a fault: the bytes before it. */
static ssize_t sink_user(void *arg, const void *buf, size_t len)
{
	struct to_user *s = arg;
	size_t done = 0;

	for (size_t i = 0; i < s->niov && done < len; i++) {
		size_t c = (size_t)MIN(s->iov[i].iov_len, (uint64_t)(len - done));
		if (copy_out(s->t->mm, s->iov[i].iov_base, (const char *)buf + done, c))
			return done ? (ssize_t)done : -EFAULT;
		done += c;
	}
	return (ssize_t)done;
}

SYSCALL_DEFINE(vmsplice)
{
	uint64_t uiov = a->a[1], niov = a->a[2];
	unsigned flags = (unsigned)a->a[3];
	struct linux_iovec *iov = NULL;
	struct file *f;
	size_t total = 0;
	long r;

	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	f = sys_fget(t, (int)a->a[0]);
	if (!f)
		return -EBADF;
	if (!file_is_pipe(f) || !(f->fmode & (FMODE_READ | FMODE_WRITE))) {
		r = -EBADF;
		goto out;
	}
	if (niov > LINUX_IOV_MAX_) {
		r = -EINVAL;
		goto out;
	}
	iov = malloc((niov ? niov : 1) * sizeof(*iov));
	if (!iov) {
		r = -ENOMEM;
		goto out;
	}
	if (copy_in(t->mm, iov, uiov, niov * sizeof(*iov))) {
		r = -EFAULT;
		goto out;
	}
	for (size_t i = 0; i < niov; i++) {
		if ((int64_t)iov[i].iov_len < 0) {
			r = -EINVAL;
			goto out;
		}
		total += (size_t)MIN(iov[i].iov_len, (uint64_t)SYS_MAX_RW_COUNT - total);
	}
	bool nb = (flags & SPLICE_F_NONBLOCK) || (f->flags & LINUX_O_NONBLOCK);
	if (!total) {
		r = 0;
	} else if (f->fmode & FMODE_WRITE) {
		/* vmsplice_to_pipe: one wait for room, then as much as fits */
		r = pipe_splice_wait(f, true, nb);
		if (r >= 0) {
			size_t n = MIN(total, MIN(pipe_room(f), (size_t)SPLICE_CHUNK)), got = 0;
			char *buf = malloc(n ? n : 1);
			for (size_t i = 0; buf && i < niov && got < n; i++) {
				size_t c = (size_t)MIN(iov[i].iov_len, (uint64_t)(n - got));
				if (copy_in(t->mm, buf + got, iov[i].iov_base, c))
					break;
				got += c;
			}
			r = !buf ? -ENOMEM : got ? pipe_write_nowait(f, buf, got) : -EFAULT;
			free(buf);
		}
		r = sigpipe(t, r);
	} else {
		struct to_user s = {t, iov, niov};
		r = pipe_splice_out(f, total, nb, sink_user, &s);
	}
out:
	free(iov);
	file_put(f);
	return r;
}

/* ---- fallocate ---- */

#define FALLOC_FL_WRITE_ZEROES 0x80
#define FALLOC_MODE_MASK                                                                           \
	(LINUX_FALLOC_FL_PUNCH_HOLE | LINUX_FALLOC_FL_COLLAPSE_RANGE |                             \
	 LINUX_FALLOC_FL_ZERO_RANGE | LINUX_FALLOC_FL_INSERT_RANGE |                               \
	 LINUX_FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES)

/* vfs_fallocate's checks, in its order. */
static long fallocate_check(struct file *f, int mode, int64_t off, int64_t len)
{
	uint32_t type = f->inode->mode & LINUX_S_IFMT;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FALLOC_MODE_MASK | LINUX_FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	switch (mode & FALLOC_MODE_MASK) {
	case 0:
	case LINUX_FALLOC_FL_UNSHARE_RANGE:
	case LINUX_FALLOC_FL_ZERO_RANGE:
		break;
	case LINUX_FALLOC_FL_PUNCH_HOLE:
		if (!(mode & LINUX_FALLOC_FL_KEEP_SIZE))
			return -EOPNOTSUPP;
		break;
	case LINUX_FALLOC_FL_COLLAPSE_RANGE:
	case LINUX_FALLOC_FL_INSERT_RANGE:
	case FALLOC_FL_WRITE_ZEROES:
		if (mode & LINUX_FALLOC_FL_KEEP_SIZE)
			return -EOPNOTSUPP;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (type == LINUX_S_IFIFO)
		return -ESPIPE;
	if (type == LINUX_S_IFDIR)
		return -EISDIR;
	if (type != LINUX_S_IFREG && type != LINUX_S_IFBLK)
		return -ENODEV;
	if (off > INT64_MAX - len)
		return -EFBIG;
	if (!f->fops || !f->fops->fallocate)
		return -EOPNOTSUPP;
	return 0;
}

SYSCALL_DEFINE(fallocate)
{
	int mode = (int)a->a[1];
	int64_t off = (int64_t)a->a[2], len = (int64_t)a->a[3];
	struct file *f = sys_fget(t, (int)a->a[0]);
	long r;

	if (!f)
		return -EBADF;
	r = fallocate_check(f, mode, off, len);
	if (r == 0)
		r = f->fops->fallocate(f, mode, (uint64_t)off, (uint64_t)len);
	file_put(f);
	return r;
}
