/* Dentries: names in directories, cached in per-directory hash tables keyed with XXH3. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/log.h"

pthread_mutex_t vfs_rename_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t vfs_tree_lock = PTHREAD_RWLOCK_INITIALIZER;

#define D_MIN_BUCKETS 8

/* The dentry cache's LRU: every hashed dentry, least recently looked up first. When there are
 * more than g_dcache_max, unused ones (held only by their parent's table) are dropped, which
 * frees their inodes and, for goferfs, the gofer's fids: the host tree is far bigger than what
 * either process may hold open. Lock order: a parent's d->lock, then g_lru_lock; pruning takes
 * parents' locks with trylock only. */
static pthread_mutex_t g_lru_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head g_lru = LIST_HEAD_INIT(g_lru);
static size_t g_lru_count;
static size_t g_dcache_max = 4096;

void d_set_cache_max(size_t max)
{
	pthread_mutex_lock(&g_lru_lock);
	g_dcache_max = max;
	pthread_mutex_unlock(&g_lru_lock);
}

size_t d_cache_count(void)
{
	size_t n;

	pthread_mutex_lock(&g_lru_lock);
	n = g_lru_count;
	pthread_mutex_unlock(&g_lru_lock);
	return n;
}

static void lru_add(struct dentry *d)
{
	pthread_mutex_lock(&g_lru_lock);
	list_add_tail(&d->lru, &g_lru);
	g_lru_count++;
	pthread_mutex_unlock(&g_lru_lock);
}

static void lru_del(struct dentry *d)
{
	pthread_mutex_lock(&g_lru_lock);
	list_del(&d->lru);
	g_lru_count--;
	pthread_mutex_unlock(&g_lru_lock);
}

static void lru_touch(struct dentry *d)
{
	pthread_mutex_lock(&g_lru_lock);
	list_del(&d->lru);
	list_add_tail(&d->lru, &g_lru);
	pthread_mutex_unlock(&g_lru_lock);
}

static void table_remove(struct dentry *dir, struct dentry *d);

/* Drop unused dentries, oldest first, until the cache is back under half its limit (or
 * nothing more can go). A dentry is unused when its parent's table holds the only reference;
 * that cannot change while we hold the parent's lock (lookups take it), so the check is made
 * under it. Parents locked by someone else are skipped rather than waited for. */
void d_prune(void)
{
	struct list_head *p, *n, victims = LIST_HEAD_INIT(victims);
	size_t target;

	pthread_mutex_lock(&g_lru_lock);
	target = g_dcache_max / 2;
	list_for_each_safe(p, n, &g_lru)
	{
		struct dentry *d = list_entry(p, struct dentry, lru), *parent = d->parent;
		if (g_lru_count <= target)
			break;
		if (atomic_load(&d->refs) != 1 || pthread_mutex_trylock(&parent->lock) != 0)
			continue;
		if (atomic_load(&d->refs) == 1 && (d->flags & D_HASHED)) {
			/* table_remove without its LRU half: we hold g_lru_lock */
			struct dentry **pp = &parent->buckets[d->hash & (parent->nbuckets - 1)];
			for (; *pp && *pp != d; pp = &(*pp)->hnext)
				;
			if (*pp) {
				*pp = d->hnext;
				d->hnext = NULL;
				parent->nchildren--;
				d->flags &= ~D_HASHED;
				list_del(&d->lru);
				g_lru_count--;
				list_add_tail(&d->lru, &victims);
			}
		}
		pthread_mutex_unlock(&parent->lock);
	}
	pthread_mutex_unlock(&g_lru_lock);
	/* The table's references, outside every lock: freeing may call into filesystems. */
	list_for_each_safe(p, n, &victims)
	{
		struct dentry *d = list_entry(p, struct dentry, lru);
		list_init(&d->lru);
		dput(d);
	}
}

static bool d_over_limit(void)
{
	bool r;

	pthread_mutex_lock(&g_lru_lock);
	r = g_lru_count > g_dcache_max;
	pthread_mutex_unlock(&g_lru_lock);
	return r;
}

static uint64_t d_hash(const char *name, size_t len) { return XXH3_64bits(name, len); }

/* A new unhashed negative dentry named name under parent (takes a reference on parent). */
static struct dentry *d_alloc(struct dentry *parent, struct super_block *sb, const char *name,
			      size_t len)
{
	struct dentry *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->name = malloc(len + 1);
	if (!d->name) {
		free(d);
		return NULL;
	}
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->namelen = len;
	d->hash = d_hash(name, len);
	atomic_init(&d->refs, 1);
	atomic_init(&d->mounted, 0);
	d->sb = sb;
	d->parent = dget(parent);
	list_init(&d->lru);
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

struct dentry *d_make_root(struct super_block *sb, struct inode *inode)
{
	struct dentry *d = d_alloc(NULL, sb, "/", 1);

	if (!d) {
		inode_put(inode);
		return NULL;
	}
	d->inode = inode;
	sb->root = d;
	return d;
}

struct dentry *d_alloc_pseudo(struct super_block *sb, const char *name, struct inode *inode)
{
	struct dentry *d = d_alloc(NULL, sb, name, strlen(name));

	if (!d) {
		inode_put(inode);
		return NULL;
	}
	d->inode = inode;
	return d;
}

struct dentry *d_alloc_unnamed(struct dentry *parent)
{
	struct dentry *d = d_alloc(parent, parent->sb, "#", 1);

	if (d)
		d->flags |= D_DELETED;
	return d;
}

int d_name_unnamed(struct dentry *d)
{
	char name[24];
	int len = snprintf(name, sizeof(name), "#%llu", (unsigned long long)d->inode->ino);
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	/* unhashed and not yet shared: nobody else reads the name */
	free(d->name);
	d->name = copy;
	d->namelen = (size_t)len;
	d->hash = d_hash(name, (size_t)len);
	return 0;
}

struct dentry *dget(struct dentry *d)
{
	if (d)
		atomic_fetch_add(&d->refs, 1);
	return d;
}

void dput(struct dentry *d)
{
	/* Iterate up the parents rather than recurse: a deep tree must not blow the stack. */
	while (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		struct dentry *parent = d->parent;

		if (d->flags & D_HASHED)
			log_error("vfs: freeing hashed dentry %s", d->name);
		inode_put(d->inode);
		free(d->buckets);
		free(d->name);
		pthread_mutex_destroy(&d->lock);
		free(d);
		d = parent;
	}
}

void d_instantiate(struct dentry *d, struct inode *inode) { d->inode = inode; }

struct dentry *dget_parent(struct dentry *d)
{
	struct dentry *p;

	pthread_rwlock_rdlock(&vfs_tree_lock);
	p = dget(d->parent ? d->parent : d);
	pthread_rwlock_unlock(&vfs_tree_lock);
	return p;
}

/* ---- the children table (parent->lock held) ---- */

static struct dentry *table_find(struct dentry *dir, const char *name, size_t len, uint64_t hash)
{
	if (!dir->nbuckets)
		return NULL;
	for (struct dentry *c = dir->buckets[hash & (dir->nbuckets - 1)]; c; c = c->hnext)
		if (c->hash == hash && c->namelen == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

static int table_grow(struct dentry *dir)
{
	size_t n = dir->nbuckets ? dir->nbuckets * 2 : D_MIN_BUCKETS;
	struct dentry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < dir->nbuckets; i++) {
		struct dentry *c = dir->buckets[i], *next;
		for (; c; c = next) {
			next = c->hnext;
			c->hnext = b[c->hash & (n - 1)];
			b[c->hash & (n - 1)] = c;
		}
	}
	free(dir->buckets);
	dir->buckets = b;
	dir->nbuckets = n;
	return 0;
}

/* Insert d (takes the caller's reference as the table's). */
static int table_insert(struct dentry *dir, struct dentry *d)
{
	if (dir->nchildren >= dir->nbuckets) {
		int r = table_grow(dir);
		/* A full table still works, only slower: fail only when there is none. */
		if (r < 0 && !dir->nbuckets)
			return r;
	}
	size_t i = d->hash & (dir->nbuckets - 1);
	d->hnext = dir->buckets[i];
	dir->buckets[i] = d;
	dir->nchildren++;
	d->flags |= D_HASHED;
	lru_add(d);
	return 0;
}

static void table_remove(struct dentry *dir, struct dentry *d)
{
	struct dentry **pp = &dir->buckets[d->hash & (dir->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			d->hnext = NULL;
			dir->nchildren--;
			d->flags &= ~D_HASHED;
			lru_del(d);
			return;
		}
	}
	log_error("vfs: dentry %s not in its parent's table", d->name);
}

int d_lookup_locked(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
	struct inode *di = dir->inode;
	struct dentry *d;
	uint64_t hash;
	int r;

	if (!di || !LINUX_S_ISDIR(di->mode))
		return -ENOTDIR;
	if (len > LINUX_NAME_MAX)
		return -ENAMETOOLONG;
	if (di->flags & INODE_DEAD)
		return -ENOENT;
	hash = d_hash(name, len);
	d = table_find(dir, name, len, hash);
	if (d) {
		lru_touch(d);
		*out = dget(d);
		return 0;
	}
	d = d_alloc(dir, dir->sb, name, len);
	if (!d)
		return -ENOMEM;
	if (di->iops && di->iops->lookup) {
		r = di->iops->lookup(di, d);
		if (r < 0) {
			dput(d);
			return r;
		}
	}
	if (!(dir->sb->flags & SB_NOCACHE) && table_insert(dir, dget(d)) < 0)
		dput(d); /* the table's reference: not cached, still correct */
	*out = d;
	return 0;
}

int d_lookup_one(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
	int r;

	pthread_mutex_lock(&dir->lock);
	r = d_lookup_locked(dir, name, len, out);
	pthread_mutex_unlock(&dir->lock);
	/* Prune here, with no directory locked by us: the path walk comes through. */
	if (d_over_limit())
		d_prune();
	return r;
}

void d_unhash(struct dentry *d)
{
	if (!(d->flags & D_HASHED))
		return;
	table_remove(d->parent, d);
	dput(d); /* the table's reference; the caller still holds its own */
}

int d_move(struct dentry *d, struct dentry *new_parent, const char *name, size_t len)
{
	char *nn = malloc(len + 1);
	struct dentry *old_parent;
	bool hashed = d->flags & D_HASHED;

	if (!nn)
		return -ENOMEM;
	memcpy(nn, name, len);
	nn[len] = '\0';
	if (hashed)
		table_remove(d->parent, d);

	pthread_rwlock_wrlock(&vfs_tree_lock);
	old_parent = d->parent;
	free(d->name);
	d->name = nn;
	d->namelen = len;
	d->hash = d_hash(nn, len);
	d->parent = dget(new_parent);
	pthread_rwlock_unlock(&vfs_tree_lock);

	if (hashed && table_insert(new_parent, d) < 0)
		dput(d); /* the table's reference */
	dput(old_parent);
	return 0;
}

void d_exchange(struct dentry *a, struct dentry *b)
{
	bool ha = a->flags & D_HASHED, hb = b->flags & D_HASHED;

	if (ha)
		table_remove(a->parent, a);
	if (hb)
		table_remove(b->parent, b);
	/* Each keeps its one reference on its parent: the pointers trade places with them. */
	pthread_rwlock_wrlock(&vfs_tree_lock);
	struct dentry *pa = a->parent;
	char *na = a->name;
	size_t la = a->namelen;
	uint64_t xa = a->hash;
	a->parent = b->parent;
	a->name = b->name;
	a->namelen = b->namelen;
	a->hash = b->hash;
	b->parent = pa;
	b->name = na;
	b->namelen = la;
	b->hash = xa;
	pthread_rwlock_unlock(&vfs_tree_lock);
	if (ha && table_insert(a->parent, a) < 0)
		dput(a); /* the table's reference */
	if (hb && table_insert(b->parent, b) < 0)
		dput(b);
}

bool d_has_positive_children(struct dentry *d)
{
	for (size_t i = 0; i < d->nbuckets; i++)
		for (struct dentry *c = d->buckets[i]; c; c = c->hnext)
			if (c->inode)
				return true;
	return false;
}

void d_for_each_child(struct dentry *d, void (*fn)(struct dentry *child, void *arg), void *arg)
{
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct dentry *c = d->buckets[i], *next;
		for (; c; c = next) {
			next = c->hnext;
			fn(c, arg);
		}
	}
}
