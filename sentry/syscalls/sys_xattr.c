/* The extended-attribute calls: get/set/list/remove, each by path (following symlinks), by
 * path without following (l*) and by fd (f*). Argument handling and its order are Linux 6.x's
 * (fs/xattr.c: the name and value are copied in before the path is walked); the rules are the
 * VFS's (sentry/vfs/xattr.h). */
#include "sentry/syscalls/sys_res.h"
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/xattr.h"

/* What an xattr call names: a path (followed or not) or an fd. */
struct target {
	uint64_t upath; /* 0: use fd */
	int fd;
	bool follow;
};

/* import_xattr_name: 0, -ERANGE (empty or longer than XATTR_NAME_MAX) or -EFAULT. */
static long get_name(struct task *t, uint64_t uname, char name[LINUX_XATTR_NAME_MAX + 1])
{
	long n = copy_in_str(t->mm, name, uname, LINUX_XATTR_NAME_MAX + 1);

	if (n == 0 || n == -ENAMETOOLONG)
		return -ERANGE;
	return n < 0 ? n : 0;
}

/* The dentry and mount the call acts on (references in *p), or -errno. */
static long resolve(struct task *t, const struct target *tg, struct path *p)
{
	char path[LINUX_PATH_MAX];
	long r;

	if (!tg->upath) {
		struct file *f = sys_fget(t, tg->fd);
		if (!f)
			return -EBADF;
		*p = f->path;
		path_get(p);
		file_put(f);
		return 0;
	}
	if ((r = sys_get_path(t, tg->upath, path)) < 0)
		return r;
	return vfs_lookup(t, LINUX_AT_FDCWD, path, tg->follow ? LOOKUP_FOLLOW : 0, p);
}

static long do_get(struct task *t, const struct target *tg, uint64_t uname, uint64_t uvalue,
		   size_t size)
{
	char name[LINUX_XATTR_NAME_MAX + 1];
	struct path p;
	void *buf = NULL;
	long r;

	if ((r = get_name(t, uname, name)) < 0)
		return r;
	if ((r = resolve(t, tg, &p)) < 0)
		return r;
	size = MIN(size, (size_t)LINUX_XATTR_SIZE_MAX);
	if (size && !(buf = malloc(size))) {
		path_put(&p);
		return -ENOMEM;
	}
	r = vfs_getxattr(t, p.dentry, name, buf, size);
	if (r > 0 && size && copy_out(t->mm, uvalue, buf, (size_t)r))
		r = -EFAULT;
	else if (r == -ERANGE && size >= LINUX_XATTR_SIZE_MAX)
		r = -E2BIG;
	free(buf);
	path_put(&p);
	return r;
}

static long do_set(struct task *t, const struct target *tg, uint64_t uname, uint64_t uvalue,
		   size_t size, int flags)
{
	char name[LINUX_XATTR_NAME_MAX + 1];
	struct path p;
	void *buf = NULL;
	long r;

	/* setxattr_copy */
	if (flags & ~(LINUX_XATTR_CREATE | LINUX_XATTR_REPLACE))
		return -EINVAL;
	if ((r = get_name(t, uname, name)) < 0)
		return r;
	if (size) {
		if (size > LINUX_XATTR_SIZE_MAX)
			return -E2BIG;
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		if (copy_in(t->mm, buf, uvalue, size)) {
			free(buf);
			return -EFAULT;
		}
	}
	r = resolve(t, tg, &p);
	if (r == 0) {
		r = vfs_setxattr(t, p.dentry, name, buf, size, flags);
		path_put(&p);
	}
	free(buf);
	return r;
}

static long do_list(struct task *t, const struct target *tg, uint64_t ulist, size_t size)
{
	struct path p;
	char *buf = NULL;
	long r;

	if ((r = resolve(t, tg, &p)) < 0)
		return r;
	size = MIN(size, (size_t)LINUX_XATTR_LIST_MAX);
	if (size && !(buf = malloc(size))) {
		path_put(&p);
		return -ENOMEM;
	}
	r = vfs_listxattr(t, p.dentry, buf, size);
	if (r > 0 && size && copy_out(t->mm, ulist, buf, (size_t)r))
		r = -EFAULT;
	else if (r == -ERANGE && size >= LINUX_XATTR_LIST_MAX)
		r = -E2BIG;
	free(buf);
	path_put(&p);
	return r;
}

static long do_remove(struct task *t, const struct target *tg, uint64_t uname)
{
	char name[LINUX_XATTR_NAME_MAX + 1];
	struct path p;
	long r;

	if ((r = get_name(t, uname, name)) < 0)
		return r;
	if ((r = resolve(t, tg, &p)) < 0)
		return r;
	r = vfs_removexattr(t, p.dentry, name);
	path_put(&p);
	return r;
}

#define PATH_T(follow) (&(struct target){a->a[0], -1, follow})
#define FD_T (&(struct target){0, (int)a->a[0], false})

SYSCALL_DEFINE(getxattr) { return do_get(t, PATH_T(true), a->a[1], a->a[2], (size_t)a->a[3]); }
SYSCALL_DEFINE(lgetxattr) { return do_get(t, PATH_T(false), a->a[1], a->a[2], (size_t)a->a[3]); }
SYSCALL_DEFINE(fgetxattr) { return do_get(t, FD_T, a->a[1], a->a[2], (size_t)a->a[3]); }

SYSCALL_DEFINE(setxattr)
{
	return do_set(t, PATH_T(true), a->a[1], a->a[2], (size_t)a->a[3], (int)a->a[4]);
}
SYSCALL_DEFINE(lsetxattr)
{
	return do_set(t, PATH_T(false), a->a[1], a->a[2], (size_t)a->a[3], (int)a->a[4]);
}
SYSCALL_DEFINE(fsetxattr)
{
	return do_set(t, FD_T, a->a[1], a->a[2], (size_t)a->a[3], (int)a->a[4]);
}

SYSCALL_DEFINE(listxattr) { return do_list(t, PATH_T(true), a->a[1], (size_t)a->a[2]); }
SYSCALL_DEFINE(llistxattr) { return do_list(t, PATH_T(false), a->a[1], (size_t)a->a[2]); }
SYSCALL_DEFINE(flistxattr) { return do_list(t, FD_T, a->a[1], (size_t)a->a[2]); }

SYSCALL_DEFINE(removexattr) { return do_remove(t, PATH_T(true), a->a[1]); }
SYSCALL_DEFINE(lremovexattr) { return do_remove(t, PATH_T(false), a->a[1]); }
SYSCALL_DEFINE(fremovexattr) { return do_remove(t, FD_T, a->a[1]); }
