/* The filesystem namespace: cwd, umask, mkdir, mknod, unlink, rmdir, rename, symlink, link;
 * and the stat/getdents/readlink/access handlers of sys_stat.c in this family's table. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/ops.h"

/* ---- cwd ---- */

SYSCALL_DEFINE(getcwd)
{
	uint64_t ubuf = a->a[0], size = a->a[1];
	char *buf = malloc(LINUX_PATH_MAX);
	struct path cwd;
	long r;

	if (!buf)
		return -ENOMEM;
	fs_context_get_cwd(t->fs, &cwd);
	if (cwd.dentry->flags & D_DELETED) {
		r = -ENOENT;
	} else {
		r = path_to_str(&cwd, buf, LINUX_PATH_MAX);
		if (r >= 0) {
			if ((uint64_t)r + 1 > size)
				r = -ERANGE;
			else if (copy_out(t->mm, ubuf, buf, (size_t)r + 1) < 0)
				r = -EFAULT;
			else
				r += 1;
		}
	}
	path_put(&cwd);
	free(buf);
	return r;
}

static long set_cwd(struct task *t, struct path *p)
{
	long r;

	if (!LINUX_S_ISDIR(p->dentry->inode->mode))
		r = -ENOTDIR;
	else
		r = inode_permission(t, p->dentry->inode, MAY_EXEC);
	if (r == 0)
		fs_context_set_cwd(t->fs, p);
	path_put(p);
	return r;
}

SYSCALL_DEFINE(chdir)
{
	char path[LINUX_PATH_MAX];
	struct path p;
	int r = sys_get_path(t, a->a[0], path);

	if (r < 0)
		return r;
	r = vfs_lookup(t, LINUX_AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (r < 0)
		return r;
	return set_cwd(t, &p);
}

SYSCALL_DEFINE(fchdir)
{
	struct file *f = sys_fget_raw(t, (int)a->a[0]);
	struct path p;

	if (!f)
		return -EBADF;
	p = f->path;
	path_get(&p);
	file_put(f);
	return set_cwd(t, &p);
}

SYSCALL_DEFINE(umask) { return fs_context_umask(t->fs, (int)(a->a[0] & 0777)); }

/* ---- creating and removing names ---- */

SYSCALL_DEFINE(mkdirat)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[1], path);

	return r < 0 ? r : vfs_mkdirat(t, (int)a->a[0], path, (uint32_t)a->a[2]);
}

SYSCALL_DEFINE(mkdir)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[0], path);

	return r < 0 ? r : vfs_mkdirat(t, LINUX_AT_FDCWD, path, (uint32_t)a->a[1]);
}

SYSCALL_DEFINE(mknodat)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[1], path);

	return r < 0 ? r : vfs_mknodat(t, (int)a->a[0], path, (uint32_t)a->a[2], (uint32_t)a->a[3]);
}

SYSCALL_DEFINE(mknod)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[0], path);

	return r < 0 ? r
		     : vfs_mknodat(t, LINUX_AT_FDCWD, path, (uint32_t)a->a[1], (uint32_t)a->a[2]);
}

SYSCALL_DEFINE(unlinkat)
{
	char path[LINUX_PATH_MAX];
	int flags = (int)a->a[2], r;

	if (flags & ~LINUX_AT_REMOVEDIR)
		return -EINVAL;
	r = sys_get_path(t, a->a[1], path);
	if (r < 0)
		return r;
	if (flags & LINUX_AT_REMOVEDIR)
		return vfs_rmdirat(t, (int)a->a[0], path);
	return vfs_unlinkat(t, (int)a->a[0], path);
}

SYSCALL_DEFINE(unlink)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[0], path);

	return r < 0 ? r : vfs_unlinkat(t, LINUX_AT_FDCWD, path);
}

SYSCALL_DEFINE(rmdir)
{
	char path[LINUX_PATH_MAX];
	int r = sys_get_path(t, a->a[0], path);

	return r < 0 ? r : vfs_rmdirat(t, LINUX_AT_FDCWD, path);
}

static long do_symlinkat(struct task *t, uint64_t utarget, int dirfd, uint64_t upath)
{
	char *target = malloc(LINUX_PATH_MAX), *path = malloc(LINUX_PATH_MAX);
	long r;

	if (!target || !path)
		r = -ENOMEM;
	else if ((r = sys_get_path(t, utarget, target)) == 0 &&
		 (r = sys_get_path(t, upath, path)) == 0)
		r = vfs_symlinkat(t, target, dirfd, path);
	free(target);
	free(path);
	return r;
}

SYSCALL_DEFINE(symlinkat) { return do_symlinkat(t, a->a[0], (int)a->a[1], a->a[2]); }

SYSCALL_DEFINE(symlink) { return do_symlinkat(t, a->a[0], LINUX_AT_FDCWD, a->a[1]); }

/* Both paths of a two-path call (rename, link), heap allocated. */
static long get_two_paths(struct task *t, uint64_t u1, uint64_t u2, char **p1, char **p2)
{
	long r;

	*p1 = malloc(LINUX_PATH_MAX);
	*p2 = malloc(LINUX_PATH_MAX);
	if (!*p1 || !*p2)
		return -ENOMEM;
	r = sys_get_path(t, u1, *p1);
	if (r == 0)
		r = sys_get_path(t, u2, *p2);
	return r;
}

static long do_linkat(struct task *t, int odirfd, uint64_t uold, int ndirfd, uint64_t unew,
		      int flags)
{
	char *o, *n;
	long r = get_two_paths(t, uold, unew, &o, &n);

	if (r == 0)
		r = vfs_linkat(t, odirfd, o, ndirfd, n, flags);
	free(o);
	free(n);
	return r;
}

SYSCALL_DEFINE(linkat)
{
	return do_linkat(t, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], (int)a->a[4]);
}

SYSCALL_DEFINE(link) { return do_linkat(t, LINUX_AT_FDCWD, a->a[0], LINUX_AT_FDCWD, a->a[1], 0); }

static long do_renameat2(struct task *t, int odirfd, uint64_t uold, int ndirfd, uint64_t unew,
			 unsigned flags)
{
	char *o, *n;
	long r = get_two_paths(t, uold, unew, &o, &n);

	if (r == 0)
		r = vfs_renameat(t, odirfd, o, ndirfd, n, flags);
	free(o);
	free(n);
	return r;
}

SYSCALL_DEFINE(renameat2)
{
	return do_renameat2(t, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], (unsigned)a->a[4]);
}

SYSCALL_DEFINE(renameat)
{
	return do_renameat2(t, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], 0);
}

SYSCALL_DEFINE(rename)
{
	return do_renameat2(t, LINUX_AT_FDCWD, a->a[0], LINUX_AT_FDCWD, a->a[1], 0);
}

const struct syscall_entry sys_fs_table[] = {
    {LINUX_SYS_stat, sys_stat},
    {LINUX_SYS_lstat, sys_lstat},
    {LINUX_SYS_fstat, sys_fstat},
    {LINUX_SYS_newfstatat, sys_newfstatat},
    {LINUX_SYS_statx, sys_statx},
    {LINUX_SYS_getdents64, sys_getdents64},
    {LINUX_SYS_getdents, sys_getdents},
    {LINUX_SYS_readlink, sys_readlink},
    {LINUX_SYS_readlinkat, sys_readlinkat},
    {LINUX_SYS_access, sys_access},
    {LINUX_SYS_faccessat, sys_faccessat},
    {LINUX_SYS_faccessat2, sys_faccessat2},
    {LINUX_SYS_getcwd, sys_getcwd},
    {LINUX_SYS_chdir, sys_chdir},
    {LINUX_SYS_fchdir, sys_fchdir},
    {LINUX_SYS_umask, sys_umask},
    {LINUX_SYS_mkdir, sys_mkdir},
    {LINUX_SYS_mkdirat, sys_mkdirat},
    {LINUX_SYS_mknod, sys_mknod, "partial: device nodes are refused (EPERM): no CAP_MKNOD"},
    {LINUX_SYS_mknodat, sys_mknodat, "partial: device nodes are refused (EPERM): no CAP_MKNOD"},
    {LINUX_SYS_unlink, sys_unlink},
    {LINUX_SYS_unlinkat, sys_unlinkat},
    {LINUX_SYS_rmdir, sys_rmdir},
    {LINUX_SYS_symlink, sys_symlink},
    {LINUX_SYS_symlinkat, sys_symlinkat},
    {LINUX_SYS_link, sys_link},
    {LINUX_SYS_linkat, sys_linkat},
    {LINUX_SYS_rename, sys_rename},
    {LINUX_SYS_renameat, sys_renameat},
    {LINUX_SYS_renameat2, sys_renameat2,
     "partial: RENAME_WHITEOUT is refused (EINVAL); on the root overlay a directory with "
     "lower-layer contents cannot move (EXDEV, as Linux's overlay without redirect_dir)"},
    {LINUX_SYS_chmod, sys_chmod},
    {LINUX_SYS_fchmod, sys_fchmod},
    {LINUX_SYS_fchmodat, sys_fchmodat},
    {LINUX_SYS_fchmodat2, sys_fchmodat2},
    {LINUX_SYS_chown, sys_chown},
    {LINUX_SYS_fchown, sys_fchown},
    {LINUX_SYS_lchown, sys_lchown},
    {LINUX_SYS_fchownat, sys_fchownat},
    {LINUX_SYS_utime, sys_utime},
    {LINUX_SYS_utimes, sys_utimes},
    {LINUX_SYS_futimesat, sys_futimesat},
    {LINUX_SYS_utimensat, sys_utimensat},
    {LINUX_SYS_statfs, sys_statfs},
    {LINUX_SYS_fstatfs, sys_fstatfs},
    {-1, NULL},
};
