/* devfs: /dev as a tmpfs holding the memory devices (null, zero, full, random, urandom), tty
 * (the caller's controlling terminal, sentry/fs/tty.c), the fd/stdin/stdout/stderr symlinks into
 * /proc/self/fd as Linux's udev sets them up, ptmx (pty.c), and the pts and shm directories
 * devpts and a tmpfs are mounted on. */
#include "sentry/fs/fs.h"
#include "sentry/fs/tty.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/vfs_fs.h"

/* The memory devices ignore the offset: reads and writes never move it, lseek answers 0. */
static int64_t mem_llseek(struct file *f, int64_t off, int whence)
{
	(void)off;
	(void)whence;
	f->pos = 0;
	return 0;
}

static int mem_fsync(struct file *f)
{
	(void)f;
	return -EINVAL;
}

static ssize_t null_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f;
	(void)buf;
	(void)n;
	(void)pos;
	return 0;
}

static ssize_t null_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f;
	(void)buf;
	(void)pos;
	return (ssize_t)n;
}

static ssize_t zero_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f;
	(void)pos;
	memset(buf, 0, n);
	return (ssize_t)n;
}

static ssize_t full_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)f;
	(void)buf;
	(void)n;
	(void)pos;
	return -ENOSPC;
}

static ssize_t random_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	size_t done = 0;

	(void)f;
	(void)pos;
	while (done < n) {
		ssize_t r = getrandom((char *)buf + done, n - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static const struct file_ops null_fops = {
    .read = null_read,
    .write = null_write,
    .llseek = mem_llseek,
    .fsync = mem_fsync,
};

static const struct file_ops zero_fops = {
    .read = zero_read,
    .write = null_write,
    .llseek = mem_llseek,
    .fsync = mem_fsync,
};

static const struct file_ops full_fops = {
    .read = zero_read,
    .write = full_write,
    .llseek = mem_llseek,
    .fsync = mem_fsync,
};

static const struct file_ops random_fops = {
    .read = random_read,
    .write = null_write, /* "entropy" from the application is accepted and dropped */
    .llseek = mem_llseek,
    .fsync = mem_fsync,
};

static const struct {
	const char *name;
	uint32_t minor;
	const struct file_ops *fops;
} mem_devs[] = {
    {"null", 3, &null_fops},	 {"zero", 5, &zero_fops},      {"full", 7, &full_fops},
    {"random", 8, &random_fops}, {"urandom", 9, &random_fops},
};

static const struct {
	const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

/* The console's /dev/pts/0 lives in devpts (pty.c), mounted on /dev/pts. */
int devfs_console_node(const struct file_ops *fops, uint64_t *dev, uint64_t *ino)
{
	return devpts_console_node(fops, dev, ino);
}

int devfs_create(struct super_block **out)
{
	struct super_block *sb;
	struct dentry *root;
	int r = tmpfs_create(0755, &sb);

	if (r < 0)
		return r;
	root = sb->root;
	for (size_t i = 0; i < ARRAY_SIZE(mem_devs); i++) {
		r = vfs_register_chrdev(1, mem_devs[i].minor, mem_devs[i].fops);
		if (r == 0)
			r = vfs_mknod_in(root, mem_devs[i].name, LINUX_S_IFCHR | 0666,
					 VFS_MKDEV(1, mem_devs[i].minor), NULL);
		if (r < 0)
			return r;
	}
	r = vfs_register_chrdev(5, 0, &tty_dev_fops);
	if (r == 0)
		r = vfs_mknod_in(root, "tty", LINUX_S_IFCHR | 0666, VFS_MKDEV(5, 0), NULL);
	if (r == 0)
		r = vfs_register_chrdev(5, 2, &ptmx_fops);
	if (r == 0)
		r = vfs_mknod_in(root, "ptmx", LINUX_S_IFCHR | 0666, VFS_MKDEV(5, 2), NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
		r = vfs_symlink_in(root, dev_links[i].name, dev_links[i].target, NULL);
		if (r < 0)
			return r;
	}
	if ((r = vfs_mkdir_in(root, "pts", 0755, NULL)) < 0 ||
	    (r = vfs_mkdir_in(root, "shm", 01777, NULL)) < 0)
		return r;
	*out = sb;
	return 0;
}
