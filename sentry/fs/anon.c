/* Anonymous files of the event family (eventfd, epoll, timerfd, signalfd, pidfd, inotify):
 * one inode each on the anonymous filesystem, named "anon_inode:[what]" as Linux names them. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sentry/vfs/vfs_fs.h"

int anon_file_open(const char *name, const struct file_ops *fops, void *priv, int flags,
		   struct file **out)
{
	struct super_block *sb = vfs_anon_sb();
	struct inode *inode;
	struct file *f;
	int r;

	if (!sb)
		return -ENOMEM;
	/* Linux's anon inode: mode 0600 without a file type */
	inode = inode_alloc(sb, 0600);
	if (!inode)
		return -ENOMEM;
	inode->fops = fops;
	r = vfs_open_anon(inode, name, LINUX_O_RDWR | (flags & LINUX_O_NONBLOCK), &f);
	if (r < 0)
		return r;
	/* A stream: no offset of the VFS's own, pread/pwrite fail with ESPIPE. */
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	f->priv = priv;
	*out = f;
	return 0;
}

long anon_file_path_name(struct file *f, char *buf, size_t size)
{
	int n = snprintf(buf, size, "anon_inode:%s", f->path.dentry->name);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int64_t anon_noop_llseek(struct file *f, int64_t off, int whence)
{
	(void)off;
	(void)whence;
	return (int64_t)f->pos;
}
