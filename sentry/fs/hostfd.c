/* hostfd: files backed by a host fd handed in by the caller (the application's stdio).
 * I/O goes straight to the host fd; the host keeps the offset (it is shared with the caller).
 * Blocking reads and writes wait in task_host_wait first, so a signal interrupts them. A host
 * fd on the caller's terminal is a file of the console tty (tty.c): job control and the
 * terminal ioctls go through it. */
#include "common/host.h"
#include "sentry/fs/fs.h"
#include "sentry/fs/tty.h"

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
	struct tty *tty; /* the console, when fd is on its terminal */
};

static struct hostfd_inode *HI(const struct file *f) { return f->inode->priv; }
static int host_fd_of(const struct file *f) { return HI(f)->fd; }

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

short host_fd_ready(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r > 0 ? p.revents : 0;
}

/* Before a stream read or write that could block: -EAGAIN for an O_NONBLOCK file (the host fd
 * itself stays blocking: its file description is shared with the caller outside the sandbox),
 * else wait interruptibly until the host fd is ready (-ERESTARTSYS on a signal). */
static int wait_ready(struct file *f, int fd, short events)
{
	struct task *t = current_task;
	int r;

	if (host_fd_ready(fd, events))
		return 0;
	if ((f->flags & LINUX_O_NONBLOCK) || !t)
		return (f->flags & LINUX_O_NONBLOCK) ? -EAGAIN : 0;
	r = task_host_wait(t, fd, events, NULL);
	return r < 0 ? r : 0;
}

static ssize_t hostfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	int fd = host_fd_of(f);
	ssize_t r;

	if (HI(f)->tty)
		return tty_read(HI(f)->tty, f, fd, buf, n);
	if (!pos && (r = wait_ready(f, fd, POLLIN)) < 0)
		return r;
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

	if (HI(f)->tty)
		return tty_write(HI(f)->tty, f, fd, buf, n);
	if (!pos && (r = wait_ready(f, fd, POLLOUT)) < 0)
		return r;
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

/* ---- ioctls and readiness ---- */

long host_tty_ioctl(int fd, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct linux_termios tio;
	int v;

	switch (cmd) {
	case LINUX_TCGETS:
		if (ioctl(fd, TCGETS, &tio) < 0)
			return -errno;
		return copy_out(t->mm, arg, &tio, sizeof(tio));
	case LINUX_TCSETS:
	case LINUX_TCSETSW:
	case LINUX_TCSETSF:
		if (copy_in(t->mm, &tio, arg, sizeof(tio)) < 0)
			return -EFAULT;
		if (ioctl(fd,
			  cmd == LINUX_TCSETS	 ? TCSETS
			  : cmd == LINUX_TCSETSW ? TCSETSW
						 : TCSETSF,
			  &tio) < 0)
			return -errno;
		return 0;
	case LINUX_FIONREAD:
		if (ioctl(fd, FIONREAD, &v) < 0)
			return -errno;
		return copy_out(t->mm, arg, &v, sizeof(v));
	}
	return -ENOTTY;
}

/* A host terminal that is not the console (the caller's stdout on another terminal than its
 * stdin): its attributes and size are the host's; it is nobody's controlling terminal here. */
static long hostfd_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	int fd = host_fd_of(f);
	struct linux_termios tio;
	struct linux_winsize ws;

	if (HI(f)->tty)
		return tty_ioctl(HI(f)->tty, f, fd, t, cmd, arg);
	switch (cmd) {
	case LINUX_TIOCGWINSZ:
		if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
			return -errno;
		return copy_out(t->mm, arg, &ws, sizeof(ws));
	case LINUX_TIOCGPGRP:
	case LINUX_TIOCSPGRP:
		/* Not the caller's controlling terminal (or no terminal at all). */
		return ioctl(fd, TCGETS, &tio) < 0 ? -errno : -ENOTTY;
	}
	return host_tty_ioctl(fd, t, cmd, arg);
}

/* A poller sleeps on the host fd for the events not ready now: only those can change the
 * answer it waits for, and waiting for a ready one would wake it at once. */
unsigned host_fd_poll(int fd, struct poll_table *pt)
{
	short want = POLLIN | POLLOUT | POLLPRI;
	short rev = host_fd_ready(fd, want);
	unsigned mask = (unsigned)rev & (LINUX_POLLIN | LINUX_POLLOUT | LINUX_POLLPRI |
					 LINUX_POLLERR | LINUX_POLLHUP | LINUX_POLLRDHUP);

	if (mask & LINUX_POLLIN)
		mask |= LINUX_POLLRDNORM;
	if (mask & LINUX_POLLOUT)
		mask |= LINUX_POLLWRNORM;
	if (want & ~rev)
		poll_wait_host(pt, fd, (short)(want & ~rev));
	return mask;
}

static unsigned hostfd_poll(struct file *f, struct poll_table *pt)
{
	return host_fd_poll(host_fd_of(f), pt);
}

/* ---- names and attributes ---- */

static long hostfd_path_name(struct file *f, char *buf, size_t size)
{
	struct stat st;
	int n;

	if (HI(f)->tty) {
		n = snprintf(buf, size, "/dev/pts/%d", TTY_CONSOLE_MINOR);
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
	}
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
	struct hostfd_inode *hi = d->inode->priv;
	struct stat st;

	if (host_fstat(hi->fd, &st) < 0)
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
	if (hi->tty) /* the console, by its sandbox name /dev/pts/0 */
		tty_console_ids(hi->tty, &lst->st_dev, &lst->st_ino, &lst->st_rdev);
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
    .poll = hostfd_poll,
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
	hi->tty = tty_console_match(&st);
	inode->priv = hi;
	inode->ino = st.st_ino;
	inode->rdev = VFS_MKDEV(major(st.st_rdev), minor(st.st_rdev));
	inode->iops = &hostfd_iops;
	inode->fops = &hostfd_fops;
	/* Host O_* flags are Linux's: keep the access mode and the status flags. */
	return vfs_open_anon(inode, "hostfd", flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC),
			     out);
}
