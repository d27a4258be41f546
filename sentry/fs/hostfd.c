/* hostfd: files backed by a host fd handed in by the caller (the application's stdio).
 * I/O goes straight to the host fd; the host keeps the offset (it is shared with the caller). */
#include "common/host.h"
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs_fs.h"

struct hostfd_inode {
	int fd;
};

static int host_fd_of(const struct file *f) { return ((struct hostfd_inode *)f->inode->priv)->fd; }

static void hostfd_evict(struct inode *inode)
{
	struct hostfd_inode *hi = inode->priv;

	if (hi) {
		close(hi->fd);
		free(hi);
	}
}

static const struct super_ops hostfd_sops = {
    .evict_inode = hostfd_evict,
};

static struct super_block *g_hostfd_sb;
static pthread_once_t g_hostfd_once = PTHREAD_ONCE_INIT;

static void hostfd_sb_init(void)
{
	struct inode *root;

	g_hostfd_sb = sb_create("hostfd", &hostfd_sops, 0);
	if (!g_hostfd_sb)
		return;
	root = inode_alloc(g_hostfd_sb, LINUX_S_IFDIR | 0500);
	if (!root || !d_make_root(g_hostfd_sb, root))
		g_hostfd_sb = NULL;
}

/* ---- I/O ---- */

/* For O_NONBLOCK files: would the host fd block for events? The host fd itself stays in
 * blocking mode: its file description is shared with the caller outside the sandbox. */
static bool would_block(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r == 0;
}

static ssize_t hostfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	int fd = host_fd_of(f);
	ssize_t r;

	if (!pos && (f->flags & LINUX_O_NONBLOCK) && would_block(fd, POLLIN))
		return -EAGAIN;
	do
		r = pos ? pread(fd, buf, n, (off_t)*pos) : read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (pos)
		*pos += (uint64_t)r;
	return r;
}

static ssize_t hostfd_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	int fd = host_fd_of(f);
	ssize_t r;

	if (!pos && (f->flags & LINUX_O_NONBLOCK) && would_block(fd, POLLOUT))
		return -EAGAIN;
	do
		r = pos ? pwrite(fd, buf, n, (off_t)*pos) : write(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (pos)
		*pos += (uint64_t)r;
	return r;
}

static int64_t hostfd_llseek(struct file *f, int64_t off, int whence)
{
	off_t r = lseek(host_fd_of(f), (off_t)off, whence);

	return r < 0 ? -errno : (int64_t)r;
}

static int hostfd_fsync(struct file *f)
{
	/* Not forwarded (the Sentry's seccomp has no fsync): files have nothing of ours to
	 * flush, and terminals, pipes and sockets answer EINVAL as they would natively. */
	return LINUX_S_ISREG(f->inode->mode) ? 0 : -EINVAL;
}

/* ---- terminal ioctls, copied through our linux_* types ---- */

static long hostfd_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	int fd = host_fd_of(f);
	struct linux_termios tio;
	struct linux_winsize ws;
	int r, v;

	switch (cmd) {
	case LINUX_TCGETS:
		if (ioctl(fd, TCGETS, &tio) < 0)
			return -errno;
		return copy_out(t->mm, arg, &tio, sizeof(tio));
	case LINUX_TCSETS:
	case LINUX_TCSETSW:
	case LINUX_TCSETSF:
		r = copy_in(t->mm, &tio, arg, sizeof(tio));
		if (r < 0)
			return r;
		if (ioctl(fd,
			  cmd == LINUX_TCSETS	 ? TCSETS
			  : cmd == LINUX_TCSETSW ? TCSETSW
						 : TCSETSF,
			  &tio) < 0)
			return -errno;
		return 0;
	case LINUX_TIOCGWINSZ:
		if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
			return -errno;
		return copy_out(t->mm, arg, &ws, sizeof(ws));
	case LINUX_TIOCGPGRP:
		/* The sandbox has one session: its foreground group is the caller's. */
		if (ioctl(fd, TCGETS, &tio) < 0)
			return -errno;
		v = t->tgid;
		return copy_out(t->mm, arg, &v, sizeof(v));
	case LINUX_TIOCSPGRP:
		if (ioctl(fd, TCGETS, &tio) < 0)
			return -errno;
		return 0;
	case LINUX_FIONREAD:
		if (ioctl(fd, FIONREAD, &v) < 0)
			return -errno;
		return copy_out(t->mm, arg, &v, sizeof(v));
	}
	return -ENOTTY;
}

/* ---- names and attributes ---- */

static long hostfd_path_name(struct file *f, char *buf, size_t size)
{
	struct stat st;
	int n;

	if (host_fstat(host_fd_of(f), &st) < 0)
		return -errno;
	unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
	switch (st.st_mode & S_IFMT) {
	case S_IFIFO:
		n = snprintf(buf, size, "pipe:[%llu]", (unsigned long long)st.st_ino);
		break;
	case S_IFSOCK:
		n = snprintf(buf, size, "socket:[%llu]", (unsigned long long)st.st_ino);
		break;
	case S_IFCHR:
		if (ma == 136)
			n = snprintf(buf, size, "/dev/pts/%u", mi);
		else if (ma == 5 && mi == 0)
			n = snprintf(buf, size, "/dev/tty");
		else if (ma == 5 && mi == 1)
			n = snprintf(buf, size, "/dev/console");
		else if (ma == 4)
			n = snprintf(buf, size, "/dev/tty%u", mi);
		else if (ma == 1 && mi == 3)
			n = snprintf(buf, size, "/dev/null");
		else if (ma == 1 && mi == 5)
			n = snprintf(buf, size, "/dev/zero");
		else if (ma == 1 && (mi == 8 || mi == 9))
			n = snprintf(buf, size, "/dev/%s", mi == 8 ? "random" : "urandom");
		else
			n = snprintf(buf, size, "anon_inode:[hostfd]");
		break;
	default:
		n = snprintf(buf, size, "anon_inode:[hostfd]");
	}
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

static int hostfd_getattr(struct dentry *d, struct linux_stat *lst)
{
	struct stat st;

	if (host_fstat(((struct hostfd_inode *)d->inode->priv)->fd, &st) < 0)
		return -errno;
	memset(lst, 0, sizeof(*lst));
	lst->st_dev = d->inode->sb->dev;
	lst->st_ino = st.st_ino;
	lst->st_nlink = st.st_nlink;
	lst->st_mode = st.st_mode;
	lst->st_uid = 0; /* host ids mean nothing inside: the sandbox's user owns its stdio */
	lst->st_gid = 0;
	lst->st_rdev = VFS_MKDEV(major(st.st_rdev), minor(st.st_rdev));
	lst->st_size = st.st_size;
	lst->st_blksize = st.st_blksize;
	lst->st_blocks = st.st_blocks;
	lst->st_atim = (struct linux_timespec){st.st_atim.tv_sec, st.st_atim.tv_nsec};
	lst->st_mtim = (struct linux_timespec){st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
	lst->st_ctim = (struct linux_timespec){st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
	return 0;
}

static int hostfd_host_fd(struct file *f)
{
	return LINUX_S_ISREG(f->inode->mode) ? host_fd_of(f) : -ENODEV;
}

static int hostfd_open_op(struct inode *inode, struct file *f)
{
	/* The host keeps the offset; pread works only where the host allows it. */
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	if (LINUX_S_ISREG(inode->mode) || LINUX_S_ISBLK(inode->mode))
		f->fmode |= FMODE_PREAD;
	return 0;
}

static const struct inode_ops hostfd_iops = {
    .getattr = hostfd_getattr,
};

static const struct file_ops hostfd_fops = {
    .open = hostfd_open_op,
    .read = hostfd_read,
    .write = hostfd_write,
    .llseek = hostfd_llseek,
    .ioctl = hostfd_ioctl,
    .fsync = hostfd_fsync,
    .path_name = hostfd_path_name,
    .host_fd = hostfd_host_fd,
};

int hostfd_open(int host_fd, struct file **out)
{
	struct hostfd_inode *hi;
	struct inode *inode;
	struct stat st;
	int flags;

	pthread_once(&g_hostfd_once, hostfd_sb_init);
	if (host_fstat(host_fd, &st) < 0 || (flags = fcntl(host_fd, F_GETFL)) < 0) {
		int e = -errno;
		close(host_fd);
		return e;
	}
	hi = malloc(sizeof(*hi));
	inode = (hi && g_hostfd_sb) ? inode_alloc(g_hostfd_sb, st.st_mode) : NULL;
	if (!inode) {
		free(hi);
		close(host_fd);
		return -ENOMEM;
	}
	hi->fd = host_fd;
	inode->priv = hi;
	inode->ino = st.st_ino;
	inode->rdev = VFS_MKDEV(major(st.st_rdev), minor(st.st_rdev));
	inode->iops = &hostfd_iops;
	inode->fops = &hostfd_fops;
	/* Host O_* flags are Linux's: keep the access mode and the status flags. */
	return vfs_open_anon(inode, "hostfd", flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC),
			     out);
}
