/* sysfs: the little of /sys that runtimes read. /sys/devices/system/cpu/{online,possible,present,
 * offline} and a cpuN directory per CPU (glibc's get_nprocs and get_nprocs_conf, os.cpu_count,
 * node's os.cpus()), and /sys/fs/cgroup as an empty directory (runtimes probing for cgroup
 * limits find none). The CPUs are the host's the Sentry may run on (rusage.h). Every file is
 * read-only: opening one for writing is EACCES, as kernfs answers for files without a store
 * method. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/rusage.h"
#include "sentry/vfs/vfs_fs.h"

#define SYSFS_MAGIC 0x62656572

struct sysfs_node {
	char name[16];
	int parent; /* index in the table, -1 for the root */
	uint32_t mode;
	int (*gen)(char *buf, size_t size); /* a file's text: its length */
	struct inode *inode;		    /* a reference for the filesystem's life */
};

static struct sysfs_node *g_nodes;
static int g_nnodes;

static int gen_cpus(char *buf, size_t size)
{
	int n = host_cpu_list(buf, (int)size - 1);

	buf[n++] = '\n';
	return n;
}

static int gen_none(char *buf, size_t size)
{
	(void)size;
	buf[0] = '\n'; /* no CPU is offline */
	return 1;
}

static int node_index(const struct inode *inode) { return (int)(intptr_t)inode->priv; }

/* ---- directories ---- */

static int sysfs_lookup(struct inode *dir, struct dentry *d)
{
	int me = node_index(dir);

	for (int i = 0; i < g_nnodes; i++)
		if (g_nodes[i].parent == me && strcmp(g_nodes[i].name, d->name) == 0) {
			d_instantiate(d, inode_get(g_nodes[i].inode));
			break;
		}
	return 0;
}

static int sysfs_iterate(struct file *f, struct dir_ctx *ctx)
{
	int me = node_index(f->inode);
	uint64_t k = 2;

	for (int i = 0; i < g_nnodes; i++) {
		if (g_nodes[i].parent != me)
			continue;
		if (k >= ctx->pos) {
			ctx->pos = k;
			if (!ctx->emit(ctx, g_nodes[i].name, strlen(g_nodes[i].name),
				       g_nodes[i].inode->ino, vfs_dtype(g_nodes[i].mode)))
				return 0;
		}
		k++;
		ctx->pos = MAX(ctx->pos, k);
	}
	return 0;
}

static const struct inode_ops sysfs_dir_iops = {.lookup = sysfs_lookup};
static const struct file_ops sysfs_dir_fops = {.iterate = sysfs_iterate};

/* ---- files: the text is made at open ---- */

struct sysfs_text {
	size_t len;
	char data[];
};

static int sysfs_open(struct inode *inode, struct file *f)
{
	struct sysfs_node *n = &g_nodes[node_index(inode)];
	struct sysfs_text *t;

	if (f->fmode & FMODE_WRITE)
		return -EACCES;
	t = malloc(sizeof(*t) + 4096);
	if (!t)
		return -ENOMEM;
	t->len = (size_t)n->gen(t->data, 4096);
	f->priv = t;
	return 0;
}

static void sysfs_release(struct file *f) { free(f->priv); }

static ssize_t sysfs_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct sysfs_text *t = f->priv;

	if (*pos >= t->len)
		return 0;
	n = MIN(n, t->len - (size_t)*pos);
	memcpy(buf, t->data + *pos, n);
	*pos += n;
	return (ssize_t)n;
}

static const struct file_ops sysfs_file_fops = {
    .open = sysfs_open,
    .release = sysfs_release,
    .read = sysfs_read,
};

/* sysfs files report a size of 4096 whatever they hold, as Linux's do. */
static int sysfs_getattr(struct dentry *d, struct linux_stat *st)
{
	inode_fill_stat(d->inode, st);
	if (LINUX_S_ISREG(d->inode->mode))
		st->st_size = 4096;
	return 0;
}

static const struct inode_ops sysfs_file_iops = {.getattr = sysfs_getattr};

static int sysfs_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	st->f_type = SYSFS_MAGIC;
	return 0;
}

static const struct super_ops sysfs_sops = {.statfs = sysfs_statfs};

/* ---- the tree ---- */

static int add(const char *name, int parent, uint32_t mode, int (*gen)(char *, size_t))
{
	struct sysfs_node *n = &g_nodes[g_nnodes];

	snprintf(n->name, sizeof(n->name), "%s", name);
	n->parent = parent;
	n->mode = mode;
	n->gen = gen;
	return g_nnodes++;
}

int sysfs_create(struct super_block **out)
{
	const uint64_t *cpus = host_cpu_mask();
	const uint32_t dir = LINUX_S_IFDIR | 0755, file = LINUX_S_IFREG | 0444;
	struct super_block *sb;

	g_nodes = calloc(16 + RUSAGE_MAX_CPUS, sizeof(*g_nodes));
	sb = g_nodes ? sb_create("sysfs", &sysfs_sops, 0) : NULL;
	if (!sb)
		return -ENOMEM;
	int root = add("/", -1, dir, NULL);
	int devices = add("devices", root, dir, NULL);
	int system = add("system", devices, dir, NULL);
	int cpu = add("cpu", system, dir, NULL);
	for (int c = 0; c < RUSAGE_MAX_CPUS; c++) {
		if ((cpus[c / 64] >> (c % 64)) & 1) {
			char name[16];
			snprintf(name, sizeof(name), "cpu%d", c);
			add(name, cpu, dir, NULL);
		}
	}
	add("online", cpu, file, gen_cpus);
	add("possible", cpu, file, gen_cpus);
	add("present", cpu, file, gen_cpus);
	add("offline", cpu, file, gen_none);
	int fs = add("fs", root, dir, NULL);
	add("cgroup", fs, dir, NULL);
	add("kernel", root, dir, NULL);

	for (int i = 0; i < g_nnodes; i++) {
		struct inode *inode = inode_alloc(sb, g_nodes[i].mode);
		if (!inode)
			return -ENOMEM;
		inode->priv = (void *)(intptr_t)i;
		if (LINUX_S_ISDIR(g_nodes[i].mode)) {
			inode->iops = &sysfs_dir_iops;
			inode->fops = &sysfs_dir_fops;
			for (int j = 0; j < g_nnodes; j++)
				if (g_nodes[j].parent == i && LINUX_S_ISDIR(g_nodes[j].mode))
					inode->nlink++;
		} else {
			inode->iops = &sysfs_file_iops;
			inode->fops = &sysfs_file_fops;
		}
		g_nodes[i].inode = inode;
	}
	if (!d_make_root(sb, inode_get(g_nodes[root].inode)))
		return -ENOMEM;
	*out = sb;
	return 0;
}
