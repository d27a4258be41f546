/* read, write and their vectored and positional forms. Guest memory moves through a bounce
 * buffer of at most SYS_IO_CHUNK bytes at a time, except for sockets, whose messages must not
 * be cut in pieces. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "sentry/kernel/signal.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/sys_socket.h"
#include "sentry/vfs/fsnotify.h"

#define RWF_SUPPORTED 0x3fu /* HIPRI DSYNC SYNC NOWAIT APPEND NOAPPEND: accepted as hints */

/* The checks Linux's vfs_read/vfs_write make before touching the buffers. */
static long rw_check(struct file *f, bool write)
{
	if (write) {
		if (!(f->fmode & FMODE_WRITE))
			return -EBADF;
		if (!f->fops || !f->fops->write)
			return -EINVAL;
		return 0;
	}
	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (!f->fops || !f->fops->read)
		return LINUX_S_ISDIR(f->inode->mode) ? -EISDIR : -EINVAL;
	return 0;
}

/* Copy the guest's iovec array in (import_iovec): at most LINUX_IOV_MAX entries, no negative
 * length, the total clamped to SYS_MAX_RW_COUNT. */
static long import_iov(struct task *t, uint64_t addr, uint64_t cnt, struct linux_iovec **out,
		       size_t *total)
{
	struct linux_iovec *iov;
	size_t sum = 0;

	*out = NULL;
	*total = 0;
	if (cnt > LINUX_IOV_MAX)
		return -EINVAL;
	if (cnt == 0)
		return 0;
	iov = malloc(cnt * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (copy_in(t->mm, iov, addr, cnt * sizeof(*iov)) < 0) {
		free(iov);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].iov_len < 0) {
			free(iov);
			return -EINVAL;
		}
		if (iov[i].iov_len > SYS_MAX_RW_COUNT - sum)
			iov[i].iov_len = SYS_MAX_RW_COUNT - sum;
		sum += iov[i].iov_len;
	}
	*out = iov;
	*total = sum;
	return 0;
}

/* Where the next byte goes in an iovec array. */
struct iov_cursor {
	const struct linux_iovec *iov;
	size_t idx, off;
};

/* The next contiguous piece of at most max bytes (skipping empty entries). */
static uint64_t iov_next(struct iov_cursor *c, size_t max, size_t *len)
{
	while (c->iov[c->idx].iov_len == c->off) {
		c->idx++;
		c->off = 0;
	}
	*len = MIN(max, c->iov[c->idx].iov_len - c->off);
	return c->iov[c->idx].iov_base + c->off;
}

/* Start a transfer of total (> 0) bytes on f: returns the bounce buffer (NULL: ENOMEM), and
 * sets *pp to the offset to use: as given (pread/pwrite), else f->pos with f->pos_lock taken
 * for a seekable file, else NULL (a stream). io_end() undoes both. */
static char *io_begin(struct file *f, size_t total, uint64_t **pp)
{
	char *buf = malloc(MIN(total, SYS_IO_CHUNK));

	if (buf && !*pp && (f->fmode & FMODE_LSEEK)) {
		pthread_mutex_lock(&f->pos_lock);
		*pp = &f->pos;
	}
	return buf;
}

static void io_end(struct file *f, uint64_t *pp, char *buf)
{
	if (pp == &f->pos)
		pthread_mutex_unlock(&f->pos_lock);
	free(buf);
}

/* Read total bytes into the iovecs from f: at *pos (pread), or at the file offset (pos NULL),
 * or from the stream. Returns the count or -errno (the count when some bytes moved). */
static long do_read(struct task *t, struct file *f, const struct linux_iovec *iov, size_t total,
		    uint64_t *pos)
{
	struct iov_cursor cur = {iov, 0, 0};
	uint64_t *pp = pos;
	size_t done = 0;
	long ret;
	char *buf;

	if (total == 0)
		return 0;
	buf = io_begin(f, total, &pp);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t want = MIN(total - done, SYS_IO_CHUNK);
		uint64_t before = pp ? *pp : 0;
		ssize_t r = f->fops->read(f, buf, want, pp);

		if (r <= 0) {
			ret = done ? (long)done : (long)r;
			break;
		}
		size_t copied = 0;
		while (copied < (size_t)r) {
			size_t n;
			uint64_t dst = iov_next(&cur, (size_t)r - copied, &n);
			if (copy_out(t->mm, dst, buf + copied, n) < 0)
				break;
			copied += n;
			cur.off += n;
		}
		done += copied;
		if (copied < (size_t)r) {
			/* The guest buffer faulted: give back what it did not take, if we can. */
			if (pp)
				*pp = before + copied;
			ret = done ? (long)done : -EFAULT;
			break;
		}
		if ((size_t)r < want || !pp || done == total) {
			ret = (long)done;
			break;
		}
	}
	io_end(f, pp, buf);
	if (ret > 0)
		fsnotify_access(f);
	return ret;
}

/* Write total bytes from the iovecs to f, like do_read. A short write ends the call. */
static long do_write(struct task *t, struct file *f, const struct linux_iovec *iov, size_t total,
		     uint64_t *pos)
{
	struct iov_cursor cur = {iov, 0, 0};
	uint64_t *pp = pos;
	size_t done = 0;
	long ret;
	char *buf;

	if (total == 0)
		return 0;
	buf = io_begin(f, total, &pp);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t want = MIN(total - done, SYS_IO_CHUNK), got = 0;
		bool fault = false;

		while (got < want) {
			size_t n;
			uint64_t src = iov_next(&cur, want - got, &n);
			if (copy_in(t->mm, buf + got, src, n) < 0) {
				fault = true;
				break;
			}
			got += n;
			cur.off += n;
		}
		if (got == 0) {
			ret = done ? (long)done : -EFAULT;
			break;
		}
		ssize_t r = f->fops->write(f, buf, got, pp);
		if (r < 0) {
			ret = done ? (long)done : (long)r;
			break;
		}
		done += (size_t)r;
		if ((size_t)r < got || fault || done == total) {
			ret = (long)done;
			break;
		}
	}
	io_end(f, pp, buf);
	if (ret > 0)
		fsnotify_modify(f);
	return ret;
}

/* read/write on a socket, as Linux's sock_read_iter/sock_write_iter: straight between the
 * iovecs and the socket, so that a datagram is sent and received whole, however long (the
 * bounce buffer would cut it into SYS_IO_CHUNK pieces, each a datagram of its own). A read of
 * nothing returns 0 without looking at the socket; a write of nothing sends an empty message.
 * Files that arrive with a read are closed. */
static long sock_rw(struct task *t, struct file *f, struct sock *sk, const struct linux_iovec *iov,
		    size_t cnt, size_t total, bool write)
{
	struct net_scm scm = {0};
	struct net_msg m = {.scm = write ? NULL : &scm};
	long r;

	if (!write && total == 0)
		return 0;
	net_iov_init_user(&m.iov, t, iov, cnt, total);
	if (write)
		return net_sendmsg(t, sk, &m, 0, sys_sock_nonblock(f));
	r = net_recvmsg(t, sk, &m, 0, sys_sock_nonblock(f));
	net_scm_release(&scm);
	return r;
}

/* A write that failed with EPIPE raises SIGPIPE in the writing thread, as Linux's pipe and
 * socket writes do. */
static long sigpipe_on_epipe(struct task *t, long r)
{
	if (r == -EPIPE) {
		struct linux_siginfo info;
		siginfo_kernel(&info, LINUX_SIGPIPE);
		signal_send_thread(t, &info);
	}
	return r;
}

/* The read and write families: Linux's checks in Linux's order, then the transfer. The
 * buffers are *one (read, write, pread, pwrite) or, when one is NULL, the cnt iovecs at addr.
 * positional: at pos (>= 0), else at the file offset. */
static long rw(struct task *t, int fd, const struct linux_iovec *one, uint64_t addr, uint64_t cnt,
	       int64_t pos, bool write, bool positional)
{
	const struct linux_iovec *iov = one;
	struct linux_iovec *vec = NULL;
	uint64_t p = (uint64_t)pos, *pp = positional ? &p : NULL;
	size_t total = one ? one->iov_len : 0;
	struct file *f;
	long r;

	if (positional && pos < 0)
		return -EINVAL;
	f = sys_fget(t, fd);
	if (!f)
		return -EBADF;
	if (positional && !(f->fmode & FMODE_PREAD))
		r = -ESPIPE;
	else
		r = rw_check(f, write);
	if (r == 0 && !one) {
		r = import_iov(t, addr, cnt, &vec, &total);
		iov = vec;
	}
	struct sock *sk = file_sock(f);
	if (r == 0 && sk)
		r = sock_rw(t, f, sk, iov, one ? 1 : cnt, total, write);
	else if (r == 0)
		r = write ? do_write(t, f, iov, total, pp) : do_read(t, f, iov, total, pp);
	free(vec);
	file_put(f);
	return write ? sigpipe_on_epipe(t, r) : r;
}

/* read/write/pread/pwrite on one buffer. */
static long rw_one(struct task *t, int fd, uint64_t addr, uint64_t count, int64_t pos, bool write,
		   bool positional)
{
	struct linux_iovec iov = {addr, MIN(count, (uint64_t)SYS_MAX_RW_COUNT)};

	return rw(t, fd, &iov, 0, 0, pos, write, positional);
}

/* readv/writev/preadv/pwritev(2). */
static long rw_vec(struct task *t, int fd, uint64_t addr, uint64_t cnt, int64_t pos, bool write,
		   bool positional)
{
	return rw(t, fd, NULL, addr, cnt, pos, write, positional);
}

SYSCALL_DEFINE(read) { return rw_one(t, (int)a->a[0], a->a[1], a->a[2], -1, false, false); }

SYSCALL_DEFINE(write) { return rw_one(t, (int)a->a[0], a->a[1], a->a[2], -1, true, false); }

SYSCALL_DEFINE(pread64)
{
	return rw_one(t, (int)a->a[0], a->a[1], a->a[2], (int64_t)a->a[3], false, true);
}

SYSCALL_DEFINE(pwrite64)
{
	return rw_one(t, (int)a->a[0], a->a[1], a->a[2], (int64_t)a->a[3], true, true);
}

SYSCALL_DEFINE(readv) { return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], -1, false, false); }

SYSCALL_DEFINE(writev) { return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], -1, true, false); }

/* On x86-64 the offset is whole in pos_l (a[3]); pos_h is ignored. */
SYSCALL_DEFINE(preadv)
{
	return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], (int64_t)a->a[3], false, true);
}

SYSCALL_DEFINE(pwritev)
{
	return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], (int64_t)a->a[3], true, true);
}

/* preadv2/pwritev2: offset -1 means the file offset; the RWF_* flags are hints here. */
SYSCALL_DEFINE(preadv2)
{
	int64_t pos = (int64_t)a->a[3];

	if (a->a[5] & ~(uint64_t)RWF_SUPPORTED)
		return -EOPNOTSUPP;
	return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], pos, false, pos != -1);
}

SYSCALL_DEFINE(pwritev2)
{
	int64_t pos = (int64_t)a->a[3];

	if (a->a[5] & ~(uint64_t)RWF_SUPPORTED)
		return -EOPNOTSUPP;
	return rw_vec(t, (int)a->a[0], a->a[1], a->a[2], pos, true, pos != -1);
}

/* ---- sendfile and copy_file_range: file to file through a Sentry buffer ---- */

/* Move up to count bytes from in (at *inoff, or its offset) to out (at *outoff, or its
 * offset). Returns the count moved or -errno (the count when some bytes moved). */
static long copy_files(struct file *in, uint64_t *inoff, struct file *out, uint64_t *outoff,
		       size_t count)
{
	size_t done = 0;
	long ret = 0;
	char *buf;

	if (count == 0)
		return 0;
	buf = malloc(MIN(count, SYS_IO_CHUNK));
	if (!buf)
		return -ENOMEM;
	while (done < count) {
		size_t want = MIN(count - done, SYS_IO_CHUNK);
		ssize_t r = inoff ? vfs_pread(in, buf, want, *inoff) : vfs_read(in, buf, want);
		if (r <= 0) {
			ret = r;
			break;
		}
		ssize_t w = outoff ? vfs_pwrite(out, buf, (size_t)r, *outoff)
				   : vfs_write(out, buf, (size_t)r);
		if (w < 0) {
			ret = w;
			if (!inoff && (in->fmode & FMODE_LSEEK))
				vfs_lseek(in, -(int64_t)r,
					  LINUX_SEEK_CUR); /* unread what was not sent */
			break;
		}
		if (inoff)
			*inoff += (uint64_t)w;
		else if (w < r && (in->fmode & FMODE_LSEEK))
			vfs_lseek(in, -(int64_t)(r - w), LINUX_SEEK_CUR);
		if (outoff)
			*outoff += (uint64_t)w;
		done += (size_t)w;
		if (w < r || (size_t)r < want)
			break;
	}
	free(buf);
	return done ? (long)done : ret;
}

SYSCALL_DEFINE(sendfile)
{
	int out_fd = (int)a->a[0], in_fd = (int)a->a[1];
	uint64_t uoff = a->a[2], count = MIN(a->a[3], (uint64_t)SYS_MAX_RW_COUNT), off = 0;
	struct file *in, *out = NULL;
	long r;

	in = sys_fget(t, in_fd);
	if (!in)
		return -EBADF;
	if (!(in->fmode & FMODE_READ)) {
		r = -EBADF;
		goto out;
	}
	if (uoff) {
		if (!(in->fmode & FMODE_PREAD)) {
			r = -ESPIPE;
			goto out;
		}
		if (copy_in(t->mm, &off, uoff, sizeof(off)) < 0) {
			r = -EFAULT;
			goto out;
		}
		if ((int64_t)off < 0) {
			r = -EINVAL;
			goto out;
		}
	}
	out = sys_fget(t, out_fd);
	if (!out || !(out->fmode & FMODE_WRITE)) {
		r = -EBADF;
		goto out;
	}
	if (out->flags & LINUX_O_APPEND) {
		r = -EINVAL;
		goto out;
	}
	if ((r = rw_check(in, false)) < 0 || (r = rw_check(out, true)) < 0) {
		r = -EINVAL;
		goto out;
	}
	r = sigpipe_on_epipe(t, copy_files(in, uoff ? &off : NULL, out, NULL, (size_t)count));
	if (uoff && r >= 0 && copy_out(t->mm, uoff, &off, sizeof(off)) < 0)
		r = -EFAULT;
out:
	file_put(in);
	file_put(out);
	return r;
}

SYSCALL_DEFINE(copy_file_range)
{
	int in_fd = (int)a->a[0], out_fd = (int)a->a[2];
	uint64_t uin = a->a[1], uout = a->a[3], inoff = 0, outoff = 0;
	size_t len = (size_t)MIN(a->a[4], (uint64_t)SYS_MAX_RW_COUNT);
	struct file *in = NULL, *out = NULL;
	long r;

	if (a->a[5] != 0)
		return -EINVAL;
	in = sys_fget(t, in_fd);
	out = sys_fget(t, out_fd);
	if (!in || !out) {
		r = -EBADF;
		goto out;
	}
	if ((uin && copy_in(t->mm, &inoff, uin, 8) < 0) ||
	    (uout && copy_in(t->mm, &outoff, uout, 8) < 0)) {
		r = -EFAULT;
		goto out;
	}
	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE) ||
	    (out->flags & LINUX_O_APPEND)) {
		r = -EBADF;
		goto out;
	}
	if (LINUX_S_ISDIR(in->inode->mode) || LINUX_S_ISDIR(out->inode->mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!LINUX_S_ISREG(in->inode->mode) || !LINUX_S_ISREG(out->inode->mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((int64_t)inoff < 0 || (int64_t)outoff < 0) {
		r = -EINVAL;
		goto out;
	}
	r = copy_files(in, uin ? &inoff : NULL, out, uout ? &outoff : NULL, len);
	if (r > 0 && ((uin && copy_out(t->mm, uin, &inoff, 8) < 0) ||
		      (uout && copy_out(t->mm, uout, &outoff, 8) < 0)))
		r = -EFAULT;
out:
	file_put(in);
	file_put(out);
	return r;
}
