/* devpts, mounted on /dev/pts: ptmx, the console's 0 (tty.c) and N for each pseudo-terminal
 * whose master is open (pty.c's table). Entries come and go with the masters, so the
 * filesystem keeps no dentries (SB_NOCACHE): every lookup asks the table. */
#include "sentry/fs/pty.h"
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/vfs_fs.h"

static struct inode *g_ptmx_inode; /* /dev/pts/ptmx */

/* The inode named name in devpts, a new reference, or NULL. */
static struct inode *devpts_find(const char *name)
{
	struct inode *inode = NULL;
	char *end;

	if (strcmp(name, "ptmx") == 0)
		return inode_get(g_ptmx_inode);
	long idx = strtol(name, &end, 10);
	if (*end || end == name || idx < 0 || idx >= PTY_MAX || (name[0] == '0' && name[1]))
		return NULL;
	pthread_mutex_lock(&g_pty_lock);
	if (idx == 0 && g_console_inode)
		inode = inode_get(g_console_inode);
	else if (g_ptys[idx] && g_ptys[idx]->inode && g_ptys[idx]->master_open)
		inode = inode_get(g_ptys[idx]->inode);
	pthread_mutex_unlock(&g_pty_lock);
	return inode;
}

static int devpts_lookup(struct inode *dir, struct dentry *d)
{
	struct inode *inode = devpts_find(d->name);

	(void)dir;
	if (inode)
		d_instantiate(d, inode);
	return 0;
}

static int devpts_iterate(struct file *f, struct dir_ctx *ctx)
{
	(void)f;
	/* position 2: ptmx; 3 + i: entry i */
	if (ctx->pos <= 2) {
		ctx->pos = 2;
		if (!ctx->emit(ctx, "ptmx", 4, g_ptmx_inode->ino, LINUX_DT_CHR))
			return 0;
		ctx->pos = 3;
	}
	for (int i = (int)ctx->pos - 3; i < PTY_MAX; i++) {
		char name[16];
		uint64_t ino = 0;
		pthread_mutex_lock(&g_pty_lock);
		if (i == 0 && g_console_inode)
			ino = g_console_inode->ino;
		else if (g_ptys[i] && g_ptys[i]->inode && g_ptys[i]->master_open)
			ino = g_ptys[i]->inode->ino;
		pthread_mutex_unlock(&g_pty_lock);
		if (!ino)
			continue;
		ctx->pos = (uint64_t)i + 3;
		int len = snprintf(name, sizeof(name), "%d", i);
		if (!ctx->emit(ctx, name, (size_t)len, ino, LINUX_DT_CHR))
			return 0;
	}
	ctx->pos = PTY_MAX + 3;
	return 0;
}

static int devpts_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	st->f_type = LINUX_DEVPTS_SUPER_MAGIC;
	return 0;
}

static const struct super_ops devpts_sops = {.statfs = devpts_statfs};
static const struct inode_ops devpts_dir_iops = {.lookup = devpts_lookup};
static const struct file_ops devpts_dir_fops = {.iterate = devpts_iterate};

int devpts_create(struct super_block **out)
{
	struct super_block *sb = sb_create("devpts", &devpts_sops, SB_NOCACHE);
	struct inode *root;

	if (!sb)
		return -ENOMEM;
	root = inode_alloc(sb, LINUX_S_IFDIR | 0755);
	g_ptmx_inode = inode_alloc(sb, LINUX_S_IFCHR | 0000); /* ptmxmode=000 */
	if (!root || !g_ptmx_inode || !d_make_root(sb, root))
		return -ENOMEM;
	root->iops = &devpts_dir_iops;
	root->fops = &devpts_dir_fops;
	g_ptmx_inode->rdev = VFS_MKDEV(5, 2);
	g_ptmx_inode->fops = &ptmx_fops;
	g_devpts = sb;
	*out = sb;
	return 0;
}

int devpts_console_node(const struct file_ops *fops, uint64_t *dev, uint64_t *ino)
{
	struct inode *inode;

	if (!g_devpts)
		return -ENOENT;
	inode = inode_alloc(g_devpts, LINUX_S_IFCHR | 0620);
	if (!inode)
		return -ENOMEM;
	inode->rdev = VFS_MKDEV(PTY_MAJOR, 0);
	inode->gid = TTY_GID;
	inode->fops = fops;
	inode->iops = &pts_iops;
	pthread_mutex_lock(&g_pty_lock);
	if (g_ptys[0] || g_console_inode) {
		pthread_mutex_unlock(&g_pty_lock);
		inode_put(inode);
		return -EBUSY;
	}
	g_console_inode = inode;
	pthread_mutex_unlock(&g_pty_lock);
	*dev = g_devpts->dev;
	*ino = inode->ino;
	return 0;
}
