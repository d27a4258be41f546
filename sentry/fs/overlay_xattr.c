/* The overlay's extended attributes: read from the layer that holds the file now, written to
 * the upper layer after a copy-up (as Linux's ovl_xattr_get/ovl_xattr_set). The lower layer
 * (the gofer's files) keeps none, so a file only there has no attributes (ENODATA), as a host
 * file without any would. */
#include "sentry/fs/overlay.h"

#include <errno.h>

ssize_t ovl_getxattr(struct dentry *d, const char *name, void *buf, size_t size)
{
	struct dentry *real = ovl_real(d->inode, NULL);
	const struct inode_ops *iops = real->inode->iops;
	ssize_t r = iops && iops->getxattr ? iops->getxattr(real, name, buf, size) : -ENODATA;

	dput(real);
	return r;
}

int ovl_setxattr(struct dentry *d, const char *name, const void *value, size_t size, int flags)
{
	struct dentry *upper = ovl_upper(d->inode);
	int r;

	if (!upper) {
		/* removing what the lower file does not have needs no copy-up */
		if (!value) {
			ssize_t g = ovl_getxattr(d, name, NULL, 0);
			if (g < 0)
				return (int)g;
		}
		r = ovl_copy_up(d);
		if (r < 0)
			return r;
		upper = ovl_upper(d->inode);
		if (!upper)
			return -EIO;
	}
	const struct inode_ops *iops = upper->inode->iops;
	r = iops && iops->setxattr ? iops->setxattr(upper, name, value, size, flags) : -EOPNOTSUPP;
	dput(upper);
	return r;
}

ssize_t ovl_listxattr(struct dentry *d, char *buf, size_t size)
{
	struct dentry *real = ovl_real(d->inode, NULL);
	const struct inode_ops *iops = real->inode->iops;
	ssize_t r = iops && iops->listxattr ? iops->listxattr(real, buf, size) : 0;

	dput(real);
	return r;
}
