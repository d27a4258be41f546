/* procfs: a minimal /proc: self, and <pid>/{exe,cwd,root,fd/N} for the current task. Entries
 * are made afresh on every lookup (SB_NOCACHE): fds come and go. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs_fs.h"

enum proc_kind {
	PROC_ROOT,
	PROC_SELF, /* symlink to "<tgid>" */
	PROC_PID,  /* directory */
	PROC_EXE,  /* magic links: */
	PROC_CWD,
	PROC_ROOTLINK,
	PROC_FDDIR, /* directory of fd links */
	PROC_FD,
};

struct proc_inode {
	enum proc_kind kind;
	int pid;
	int fd;
};

static const struct inode_ops proc_dir_iops, proc_self_iops, proc_magic_iops;
static const struct file_ops proc_dir_fops;

static struct proc_inode *PI(const struct inode *inode) { return inode->priv; }

static void proc_evict(struct inode *inode) { free(inode->priv); }

static const struct super_ops proc_sops = {
    .evict_inode = proc_evict,
};

/* The task with thread group id pid, or NULL. Only the current task is known here yet. */
static struct task *proc_task(int pid)
{
	struct task *t = current_task;

	return (t && t->tgid == pid) ? t : NULL;
}

static struct inode *proc_new_inode(struct super_block *sb, enum proc_kind kind, int pid, int fd)
{
	static const uint32_t modes[] = {
	    [PROC_ROOT] = LINUX_S_IFDIR | 0555,	 [PROC_SELF] = LINUX_S_IFLNK | 0777,
	    [PROC_PID] = LINUX_S_IFDIR | 0555,	 [PROC_EXE] = LINUX_S_IFLNK | 0777,
	    [PROC_CWD] = LINUX_S_IFLNK | 0777,	 [PROC_ROOTLINK] = LINUX_S_IFLNK | 0777,
	    [PROC_FDDIR] = LINUX_S_IFDIR | 0500, [PROC_FD] = LINUX_S_IFLNK | 0700,
	};
	struct proc_inode *pi = malloc(sizeof(*pi));
	struct inode *inode = pi ? inode_alloc(sb, modes[kind]) : NULL;

	if (!inode) {
		free(pi);
		return NULL;
	}
	*pi = (struct proc_inode){kind, pid, fd};
	inode->priv = pi;
	inode->ino = kind == PROC_ROOT ? 1
				       : ((uint64_t)(unsigned)pid << 32) | ((uint64_t)kind << 24) |
					     ((unsigned)fd & 0xffffff);
	inode->iops = kind == PROC_SELF		   ? &proc_self_iops
		      : LINUX_S_ISDIR(inode->mode) ? &proc_dir_iops
						   : &proc_magic_iops;
	if (LINUX_S_ISDIR(inode->mode)) {
		inode->fops = &proc_dir_fops;
		inode->nlink = 2;
	}
	return inode;
}

int procfs_create(struct super_block **out)
{
	struct super_block *sb = sb_create("proc", &proc_sops, SB_NOCACHE);
	struct inode *root;

	if (!sb)
		return -ENOMEM;
	root = proc_new_inode(sb, PROC_ROOT, 0, 0);
	if (!root || !d_make_root(sb, root))
		return -ENOMEM;
	*out = sb;
	return 0;
}

/* A decimal number with no sign, no leading zero and no junk, or -1. */
static int parse_num(const char *s, size_t len)
{
	long v = 0;

	if (len == 0 || len > 9 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return (int)v;
}

static bool name_is(const struct dentry *d, const char *s)
{
	return d->namelen == strlen(s) && memcmp(d->name, s, d->namelen) == 0;
}

static int proc_lookup(struct inode *dir, struct dentry *d)
{
	struct proc_inode *pi = PI(dir);
	struct inode *inode = NULL;
	struct task *t;
	int n;

	switch (pi->kind) {
	case PROC_ROOT:
		if (name_is(d, "self") || name_is(d, "thread-self")) {
			inode = proc_new_inode(dir->sb, PROC_SELF, 0, 0);
		} else if ((n = parse_num(d->name, d->namelen)) > 0 && proc_task(n)) {
			inode = proc_new_inode(dir->sb, PROC_PID, n, 0);
		} else {
			return 0;
		}
		break;
	case PROC_PID:
		if (!proc_task(pi->pid))
			return 0;
		if (name_is(d, "exe"))
			inode = proc_new_inode(dir->sb, PROC_EXE, pi->pid, 0);
		else if (name_is(d, "cwd"))
			inode = proc_new_inode(dir->sb, PROC_CWD, pi->pid, 0);
		else if (name_is(d, "root"))
			inode = proc_new_inode(dir->sb, PROC_ROOTLINK, pi->pid, 0);
		else if (name_is(d, "fd"))
			inode = proc_new_inode(dir->sb, PROC_FDDIR, pi->pid, 0);
		else
			return 0;
		break;
	case PROC_FDDIR: {
		t = proc_task(pi->pid);
		n = parse_num(d->name, d->namelen);
		struct file *f = (t && t->fdt && n >= 0) ? fdtable_get(t->fdt, n) : NULL;
		if (!f)
			return 0;
		inode = proc_new_inode(dir->sb, PROC_FD, pi->pid, n);
		if (inode) {
			/* As Linux: r/w bits from the file's access mode, x always; size 64. */
			inode->mode = LINUX_S_IFLNK | 0100 | ((f->fmode & FMODE_READ) ? 0400 : 0) |
				      ((f->fmode & FMODE_WRITE) ? 0200 : 0);
			inode->size = 64;
		}
		file_put(f);
		break;
	}
	default:
		return -ENOTDIR;
	}
	if (!inode)
		return -ENOMEM;
	d_instantiate(d, inode);
	return 0;
}

/* What the magic link d points at, as a path (references). */
static int proc_link_path(struct dentry *d, struct path *out)
{
	struct proc_inode *pi = PI(d->inode);
	struct task *t = proc_task(pi->pid);
	struct file *f;

	if (!t)
		return -ENOENT;
	switch (pi->kind) {
	case PROC_EXE:
		if (!t->exe_file)
			return -ENOENT;
		*out = t->exe_file->path;
		path_get(out);
		return 0;
	case PROC_CWD:
		if (!t->fs)
			return -ENOENT;
		fs_context_get_cwd(t->fs, out);
		return 0;
	case PROC_ROOTLINK:
		if (!t->fs)
			return -ENOENT;
		pthread_mutex_lock(&t->fs->lock);
		*out = t->fs->root;
		path_get(out);
		pthread_mutex_unlock(&t->fs->lock);
		return 0;
	case PROC_FD:
		f = t->fdt ? fdtable_get(t->fdt, pi->fd) : NULL;
		if (!f)
			return -ENOENT;
		*out = f->path;
		path_get(out);
		file_put(f);
		return 0;
	default:
		return -EINVAL;
	}
}

static long proc_readlink(struct dentry *d, char *buf, size_t size)
{
	struct proc_inode *pi = PI(d->inode);
	char tmp[LINUX_PATH_MAX];
	long n;

	if (pi->kind == PROC_SELF) {
		struct task *t = current_task;
		if (!t)
			return -ENOENT;
		n = snprintf(tmp, sizeof(tmp), "%d", t->tgid);
	} else if (pi->kind == PROC_FD || pi->kind == PROC_EXE) {
		struct task *t = proc_task(pi->pid);
		struct file *f = NULL;
		if (t && pi->kind == PROC_EXE)
			f = file_get(t->exe_file);
		else if (t && t->fdt)
			f = fdtable_get(t->fdt, pi->fd);
		if (!f)
			return -ENOENT;
		n = file_path(f, tmp, sizeof(tmp));
		file_put(f);
	} else {
		struct path p;
		int r = proc_link_path(d, &p);
		if (r < 0)
			return r;
		n = path_to_str(&p, tmp, sizeof(tmp));
		path_put(&p);
	}
	if (n < 0)
		return n;
	n = MIN(n, (long)size);
	memcpy(buf, tmp, (size_t)n);
	return n;
}

static const struct inode_ops proc_dir_iops = {
    .lookup = proc_lookup,
};

/* /proc/self: a plain symlink, followed by its text. */
static const struct inode_ops proc_self_iops = {
    .readlink = proc_readlink,
};

/* exe, cwd, root, fd/N: followed to the file itself, whatever its name says. */
static const struct inode_ops proc_magic_iops = {
    .readlink = proc_readlink,
    .follow_link = proc_link_path,
};

/* ---- listings: positions are 2 + an index ---- */

static bool emit_at(struct dir_ctx *ctx, uint64_t idx, const char *name, uint64_t ino,
		    unsigned type)
{
	if (ctx->pos > idx + 2)
		return true; /* already listed */
	ctx->pos = idx + 2;
	if (!ctx->emit(ctx, name, strlen(name), ino, type))
		return false;
	ctx->pos = idx + 3;
	return true;
}

static int proc_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct proc_inode *pi = PI(f->inode);
	struct task *t = proc_task(pi->pid);
	char name[16];

	switch (pi->kind) {
	case PROC_ROOT:
		t = current_task;
		if (!emit_at(ctx, 0, "self", 2, LINUX_DT_LNK) ||
		    !emit_at(ctx, 1, "thread-self", 3, LINUX_DT_LNK))
			return 0;
		if (t) {
			snprintf(name, sizeof(name), "%d", t->tgid);
			emit_at(ctx, 2, name, (uint64_t)(unsigned)t->tgid << 32, LINUX_DT_DIR);
		}
		return 0;
	case PROC_PID: {
		static const char *const names[] = {"exe", "cwd", "root", "fd"};
		static const unsigned types[] = {LINUX_DT_LNK, LINUX_DT_LNK, LINUX_DT_LNK,
						 LINUX_DT_DIR};
		if (!t)
			return -ENOENT;
		for (uint64_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!emit_at(ctx, i, names[i], f->inode->ino + i + 1, types[i]))
				return 0;
		return 0;
	}
	case PROC_FDDIR:
		if (!t)
			return -ENOENT;
		/* Positions are fd + 2: stable while other fds come and go. */
		for (int fd = (int)(ctx->pos - 2);
		     t->fdt && (fd = fdtable_next_fd(t->fdt, fd)) >= 0; fd++) {
			snprintf(name, sizeof(name), "%d", fd);
			if (!emit_at(ctx, (uint64_t)fd, name, f->inode->ino + (uint64_t)fd + 1,
				     LINUX_DT_LNK))
				return 0;
		}
		return 0;
	default:
		return -ENOTDIR;
	}
}

static const struct file_ops proc_dir_fops = {
    .iterate = proc_iterate,
};
