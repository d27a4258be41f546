/* overlay: open files (delegating to the layer's file) and merged directory listings. */
#include "sentry/fs/overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/log.h"
#include "common/util.h"

/* ---- listings ---- */

struct collect_ctx {
	struct dir_ctx ctx;
	struct dirlist *l;
	int err;
};

static bool collect_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
			 unsigned type)
{
	struct collect_ctx *c = container_of(ctx, struct collect_ctx, ctx);

	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return true;
	c->err = dirlist_push(c->l, name, len, ino, (uint8_t)type);
	return c->err == 0;
}

int ovl_list_layer(struct mount *mnt, struct dentry *dir, struct dirlist **out)
{
	struct path p = {mnt, dir};
	struct collect_ctx c = {.ctx = {.emit = collect_emit}};
	struct file *f;
	int r;

	c.l = dirlist_new();
	if (!c.l)
		return -ENOMEM;
	r = vfs_open_path(&p, LINUX_O_RDONLY | LINUX_O_DIRECTORY, &f);
	if (r == 0) {
		/* One pass: collect_emit only refuses on ENOMEM, which ends the listing. */
		r = vfs_iterate(f, &c.ctx);
		if (r == 0)
			r = c.err;
		file_put(f);
	}
	if (r < 0) {
		dirlist_free(c.l);
		return r;
	}
	*out = c.l;
	return 0;
}

/* A set of names with a value, keyed with XXH3 (chained buckets). */
struct nameset {
	size_t nb;
	struct ns_node {
		const char *name;
		uint64_t hash;
		const struct dirlist_ent *ent;
		struct ns_node *next;
	} * *b, *nodes;
	size_t used;
};

static int nameset_init(struct nameset *s, size_t n)
{
	s->nb = 16;
	while (s->nb < n)
		s->nb *= 2;
	s->b = calloc(s->nb, sizeof(*s->b));
	s->nodes = calloc(n ? n : 1, sizeof(*s->nodes));
	s->used = 0;
	return s->b && s->nodes ? 0 : -ENOMEM;
}

static void nameset_add(struct nameset *s, const struct dirlist_ent *e)
{
	struct ns_node *n = &s->nodes[s->used++];

	n->name = e->name;
	n->hash = XXH3_64bits(e->name, strlen(e->name));
	n->ent = e;
	n->next = s->b[n->hash & (s->nb - 1)];
	s->b[n->hash & (s->nb - 1)] = n;
}

static const struct dirlist_ent *nameset_find(const struct nameset *s, const char *name)
{
	uint64_t h = XXH3_64bits(name, strlen(name));

	for (struct ns_node *n = s->b[h & (s->nb - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->name, name) == 0)
			return n->ent;
	return NULL;
}

static void nameset_free(struct nameset *s)
{
	free(s->b);
	free(s->nodes);
}

int ovl_read_dir(struct dentry *d, struct dirlist **out)
{
	struct ovl_inode *oi = OI(d->inode);
	struct ovl_fs *ofs = OFS(d->sb);
	struct dentry *u = ovl_upper(d->inode), *lower = oi->lower;
	struct dirlist *ul = NULL, *ll = NULL, *res = dirlist_new();
	struct nameset uset = {0};
	int r = 0;

	if (!res) {
		r = -ENOMEM;
		goto out;
	}
	if (u && (u->inode->flags & INODE_OPAQUE))
		lower = NULL;
	if (lower && !LINUX_S_ISDIR(lower->inode->mode))
		lower = NULL;
	if (u && (r = ovl_list_layer(ofs->upper_mnt, u, &ul)) < 0)
		goto out;
	if (lower && (r = ovl_list_layer(ofs->lower_mnt, lower, &ll)) < 0)
		goto out;
	if ((r = nameset_init(&uset, ul ? ul->n : 0)) < 0)
		goto out;
	for (size_t i = 0; ul && i < ul->n; i++) {
		struct dirlist_ent *e = &ul->ents[i];
		uint64_t ino = e->ino | OVL_UPPER_INO_BIT;
		struct dentry *c;
		bool wo = false;

		nameset_add(&uset, e);
		/* The same inode number a lookup gives (ovl_ino), and whiteouts left out. */
		if (d_lookup_one(u, e->name, strlen(e->name), &c) == 0) {
			if (c->inode) {
				wo = ovl_is_whiteout(c->inode);
				ino = ovl_ino(c->inode, NULL);
			}
			dput(c);
		}
		if (wo)
			continue;
		r = dirlist_push(res, e->name, strlen(e->name), ino, e->type);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; ll && i < ll->n; i++) {
		struct dirlist_ent *e = &ll->ents[i];
		if (nameset_find(&uset, e->name))
			continue;
		r = dirlist_push(res, e->name, strlen(e->name), e->ino, e->type);
		if (r < 0)
			goto out;
	}
out:
	nameset_free(&uset);
	dirlist_free(ul);
	dirlist_free(ll);
	dput(u);
	if (r < 0) {
		dirlist_free(res);
		return r;
	}
	*out = res;
	return 0;
}

/* ---- directories ---- */

/* The merged listing of directory f (a dirlist_read_fn). */
static int ovl_dir_read(struct file *f, struct dirlist **out)
{
	return ovl_read_dir(f->path.dentry, out);
}

static int ovl_dir_iterate(struct file *f, struct dir_ctx *ctx)
{
	return dirlist_iterate(f, ctx, ovl_dir_read);
}

static int ovl_fsync(struct file *f)
{
	(void)f;
	return 0;
}

const struct file_ops ovl_dir_fops = {
    .iterate = ovl_dir_iterate,
    .release = dirlist_release,
    .fsync = ovl_fsync,
};

/* ---- other files: the layer's own file, opened alongside (f->priv) ---- */

static int ovl_file_open(struct inode *inode, struct file *f)
{
	struct mount *mnt;
	struct dentry *real;
	struct file *rf;
	int r;

	if (f->fmode & FMODE_WRITE) {
		r = ovl_copy_up(f->path.dentry);
		if (r < 0)
			return r;
	}
	real = ovl_real(inode, &mnt);
	struct path rp = {mnt, real};
	r = vfs_open_path(&rp, f->flags, &rf);
	dput(real);
	if (r < 0)
		return r;
	f->fmode =
	    (f->fmode & ~(FMODE_LSEEK | FMODE_PREAD)) | (rf->fmode & (FMODE_LSEEK | FMODE_PREAD));
	f->priv = rf;
	return 0;
}

static void ovl_file_release(struct file *f) { file_put(f->priv); }

static ssize_t ovl_file_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct file *rf = f->priv;

	if (!rf->fops || !rf->fops->read)
		return -EINVAL;
	return rf->fops->read(rf, buf, n, pos);
}

static ssize_t ovl_file_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct file *rf = f->priv;

	if (!rf->fops || !rf->fops->write)
		return -EINVAL;
	rf->flags = f->flags; /* O_APPEND may have changed with F_SETFL */
	return rf->fops->write(rf, buf, n, pos);
}

static long ovl_file_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct file *rf = f->priv;

	if (!rf->fops || !rf->fops->ioctl)
		return -ENOTTY;
	return rf->fops->ioctl(rf, t, cmd, arg);
}

static int ovl_file_host_fd(struct file *f) { return file_host_fd(f->priv); }

static int ovl_file_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
	struct file *rf = f->priv;

	if (!rf->fops || !rf->fops->fallocate)
		return -EOPNOTSUPP;
	return rf->fops->fallocate(rf, mode, off, len);
}

const struct file_ops ovl_file_fops = {
    .open = ovl_file_open,
    .release = ovl_file_release,
    .read = ovl_file_read,
    .write = ovl_file_write,
    .ioctl = ovl_file_ioctl,
    .fsync = ovl_fsync,
    .host_fd = ovl_file_host_fd,
    .fallocate = ovl_file_fallocate,
};
