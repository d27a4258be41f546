/* fd tables (lowest-free allocation, close-on-exec, RLIMIT_NOFILE) and filesystem contexts. */
#include "sentry/vfs/vfs_fs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/lock.h"

/* Linux's fs.nr_open default: no table grows past this whatever the rlimit says. */
#define NR_OPEN_MAX (1 << 20)

int vfs_nofile_limit(void)
{
	struct task *t = current_task;
	uint64_t lim;

	if (!t)
		return 1024;
	lim = t->tg->rlimits[LINUX_RLIMIT_NOFILE].rlim_cur;
	return lim > NR_OPEN_MAX ? NR_OPEN_MAX : (int)lim;
}

struct fdtable *fdtable_create(void)
{
	struct fdtable *fdt = calloc(1, sizeof(*fdt));

	if (!fdt)
		return NULL;
	atomic_init(&fdt->refs, 1);
	pthread_mutex_init(&fdt->lock, NULL);
	return fdt;
}

struct fdtable *fdtable_get_ref(struct fdtable *fdt)
{
	atomic_fetch_add(&fdt->refs, 1);
	return fdt;
}

/* Make room for slot fd (lock held). */
static int fdt_grow(struct fdtable *fdt, int fd)
{
	int n = fdt->size ? fdt->size : 64;

	while (n <= fd)
		n *= 2;
	if (n > NR_OPEN_MAX)
		n = NR_OPEN_MAX;
	if (fd >= n)
		return -EMFILE;
	struct fd_slot *s = realloc(fdt->slots, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + fdt->size, 0, (size_t)(n - fdt->size) * sizeof(*s));
	fdt->slots = s;
	fdt->size = n;
	return 0;
}

struct fdtable *fdtable_copy(struct fdtable *fdt)
{
	struct fdtable *n = fdtable_create();

	if (!n)
		return NULL;
	pthread_mutex_lock(&fdt->lock);
	if (fdt->size) {
		n->slots = calloc((size_t)fdt->size, sizeof(*n->slots));
		if (!n->slots) {
			pthread_mutex_unlock(&fdt->lock);
			fdtable_put(n);
			return NULL;
		}
		n->size = fdt->size;
		for (int i = 0; i < fdt->size; i++) {
			n->slots[i].file = file_get(fdt->slots[i].file);
			n->slots[i].cloexec = fdt->slots[i].cloexec;
		}
	}
	n->next_free = fdt->next_free;
	pthread_mutex_unlock(&fdt->lock);
	return n;
}

void fdtable_put(struct fdtable *fdt)
{
	if (!fdt || atomic_fetch_sub(&fdt->refs, 1) != 1)
		return;
	/* The process's last user of the table is gone (exit): every fd closes, with the POSIX
	 * locks the process holds. */
	for (int i = 0; i < fdt->size; i++) {
		if (!fdt->slots[i].file)
			continue;
		locks_remove_posix(fdt, fdt->slots[i].file);
		file_put(fdt->slots[i].file);
	}
	free(fdt->slots);
	pthread_mutex_destroy(&fdt->lock);
	free(fdt);
}

struct file *fdtable_get(struct fdtable *fdt, int fd)
{
	struct file *f = NULL;

	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && fd < fdt->size)
		f = file_get(fdt->slots[fd].file);
	pthread_mutex_unlock(&fdt->lock);
	return f;
}

/* The lowest free slot >= minfd below limit, grown into; lock held. */
static int fdt_find_free(struct fdtable *fdt, int minfd, int limit)
{
	int fd = MAX(minfd, fdt->next_free), r;

	while (fd < fdt->size && (fdt->slots[fd].file || fdt->slots[fd].reserved))
		fd++;
	if (fd >= limit)
		return -EMFILE;
	if (fd >= fdt->size) {
		r = fdt_grow(fdt, fd);
		if (r < 0)
			return r;
	}
	if (minfd <= fdt->next_free)
		fdt->next_free = fd + 1;
	return fd;
}

int fdtable_alloc(struct fdtable *fdt, struct file *f, int minfd, bool cloexec, int limit)
{
	int fd;

	if (minfd < 0)
		return -EINVAL;
	pthread_mutex_lock(&fdt->lock);
	fd = fdt_find_free(fdt, minfd, limit);
	if (fd >= 0) {
		fdt->slots[fd].file = file_get(f);
		fdt->slots[fd].cloexec = cloexec;
	}
	pthread_mutex_unlock(&fdt->lock);
	return fd;
}

int fdtable_reserve(struct fdtable *fdt, int minfd, int limit)
{
	int fd;

	pthread_mutex_lock(&fdt->lock);
	fd = fdt_find_free(fdt, minfd, limit);
	if (fd >= 0)
		fdt->slots[fd].reserved = true;
	pthread_mutex_unlock(&fdt->lock);
	return fd;
}

void fdtable_commit(struct fdtable *fdt, int fd, struct file *f, bool cloexec)
{
	pthread_mutex_lock(&fdt->lock);
	fdt->slots[fd].reserved = false;
	fdt->slots[fd].file = file_get(f);
	fdt->slots[fd].cloexec = cloexec;
	pthread_mutex_unlock(&fdt->lock);
}

void fdtable_unreserve(struct fdtable *fdt, int fd)
{
	pthread_mutex_lock(&fdt->lock);
	fdt->slots[fd].reserved = false;
	if (fd < fdt->next_free)
		fdt->next_free = fd;
	pthread_mutex_unlock(&fdt->lock);
}

int fdtable_install(struct fdtable *fdt, struct file *f, int flags)
{
	return fdtable_alloc(fdt, f, 0, flags & LINUX_O_CLOEXEC, vfs_nofile_limit());
}

int fdtable_replace(struct fdtable *fdt, int fd, struct file *f, bool cloexec, int limit)
{
	struct file *old = NULL;
	int r = fd;

	if (fd < 0 || fd >= limit)
		return -EBADF;
	pthread_mutex_lock(&fdt->lock);
	if (fd >= fdt->size) {
		r = fdt_grow(fdt, fd);
		if (r < 0) {
			pthread_mutex_unlock(&fdt->lock);
			return r == -EMFILE ? -EBADF : r;
		}
		r = fd;
	}
	if (fdt->slots[fd].reserved) {
		pthread_mutex_unlock(&fdt->lock);
		return -EBUSY;
	}
	old = fdt->slots[fd].file;
	fdt->slots[fd].file = file_get(f);
	fdt->slots[fd].cloexec = cloexec;
	pthread_mutex_unlock(&fdt->lock);
	/* Outside the lock: the last put may release a file, which may take locks. */
	if (old) {
		locks_remove_posix(fdt, old);
		file_put(old);
	}
	return r;
}

int fdtable_close(struct fdtable *fdt, int fd)
{
	struct file *f;

	pthread_mutex_lock(&fdt->lock);
	if (fd < 0 || fd >= fdt->size || !fdt->slots[fd].file) {
		pthread_mutex_unlock(&fdt->lock);
		return -EBADF;
	}
	f = fdt->slots[fd].file;
	fdt->slots[fd].file = NULL;
	fdt->slots[fd].cloexec = false;
	if (fd < fdt->next_free)
		fdt->next_free = fd;
	pthread_mutex_unlock(&fdt->lock);
	locks_remove_posix(fdt, f);
	file_put(f);
	return 0;
}

int fdtable_get_cloexec(struct fdtable *fdt, int fd)
{
	int r;

	pthread_mutex_lock(&fdt->lock);
	if (fd < 0 || fd >= fdt->size || !fdt->slots[fd].file)
		r = -EBADF;
	else
		r = fdt->slots[fd].cloexec;
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

int fdtable_set_cloexec(struct fdtable *fdt, int fd, bool cloexec)
{
	int r = 0;

	pthread_mutex_lock(&fdt->lock);
	if (fd < 0 || fd >= fdt->size || !fdt->slots[fd].file)
		r = -EBADF;
	else
		fdt->slots[fd].cloexec = cloexec;
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

int fdtable_next_fd(struct fdtable *fdt, int from)
{
	int r = -1;

	pthread_mutex_lock(&fdt->lock);
	for (int fd = MAX(from, 0); fd < fdt->size; fd++) {
		if (fdt->slots[fd].file) {
			r = fd;
			break;
		}
	}
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

/* Take the files of [first, last] out of fdt (all, or only the close-on-exec ones) into an
 * array the caller closes outside the lock; or with set_cloexec just mark them. Returns the
 * number of files taken, with *out (free it), or -ENOMEM. */
static int take_range(struct fdtable *fdt, unsigned first, unsigned last, bool only_cloexec,
		      bool set_cloexec, struct file ***out)
{
	struct file **files = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	pthread_mutex_lock(&fdt->lock);
	for (unsigned fd = first; fd <= last && fd < (unsigned)fdt->size; fd++) {
		struct fd_slot *s = &fdt->slots[fd];
		if (!s->file || (only_cloexec && !s->cloexec))
			continue;
		if (set_cloexec) {
			s->cloexec = true;
			continue;
		}
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			struct file **nf = realloc(files, (size_t)ncap * sizeof(*nf));
			if (!nf)
				break; /* close what we have room for; the rest stays open */
			files = nf;
			cap = ncap;
		}
		files[n++] = s->file;
		s->file = NULL;
		s->cloexec = false;
		if ((int)fd < fdt->next_free)
			fdt->next_free = (int)fd;
	}
	pthread_mutex_unlock(&fdt->lock);
	*out = files;
	return n;
}

static void close_files(struct fdtable *fdt, struct file **files, int n)
{
	for (int i = 0; i < n; i++) {
		locks_remove_posix(fdt, files[i]);
		file_put(files[i]);
	}
	free(files);
}

void fdtable_close_on_exec(struct fdtable *fdt)
{
	struct file **files;
	int n = take_range(fdt, 0, UINT32_MAX, true, false, &files);

	close_files(fdt, files, n);
}

void fdtable_close_range(struct fdtable *fdt, unsigned first, unsigned last, bool cloexec)
{
	struct file **files;
	int n = take_range(fdt, first, last, false, cloexec, &files);

	close_files(fdt, files, n);
}

int fdtable_unshare(struct fdtable **pfdt)
{
	struct fdtable *old = *pfdt, *n;

	if (atomic_load(&old->refs) == 1)
		return 0;
	n = fdtable_copy(old);
	if (!n)
		return -ENOMEM;
	*pfdt = n;
	fdtable_put(old);
	return 0;
}

int fdtable_max_fds(struct fdtable *fdt)
{
	int n;

	pthread_mutex_lock(&fdt->lock);
	n = fdt->size;
	pthread_mutex_unlock(&fdt->lock);
	return n;
}

int fdtable_install_host(struct fdtable *fdt, int fd, int host_fd)
{
	struct file *f;
	int r = hostfd_open(host_fd, &f);

	if (r < 0)
		return r;
	r = fdtable_replace(fdt, fd, f, false, NR_OPEN_MAX);
	file_put(f);
	return r < 0 ? r : 0;
}

/* ---- filesystem contexts ---- */

struct fs_context *fs_context_create(void)
{
	struct fs_context *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	atomic_init(&fs->refs, 1);
	pthread_mutex_init(&fs->lock, NULL);
	vfs_root_path(&fs->root);
	if (!fs->root.dentry) {
		free(fs);
		return NULL;
	}
	fs->cwd = fs->root;
	path_get(&fs->cwd);
	fs->umask = 022;
	return fs;
}

struct fs_context *fs_context_copy(struct fs_context *old)
{
	struct fs_context *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	atomic_init(&fs->refs, 1);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_lock(&old->lock);
	fs->root = old->root;
	path_get(&fs->root);
	fs->cwd = old->cwd;
	path_get(&fs->cwd);
	fs->umask = old->umask;
	pthread_mutex_unlock(&old->lock);
	return fs;
}

struct fs_context *fs_context_get(struct fs_context *fs)
{
	atomic_fetch_add(&fs->refs, 1);
	return fs;
}

void fs_context_put(struct fs_context *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	path_put(&fs->root);
	path_put(&fs->cwd);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

void fs_context_set_cwd(struct fs_context *fs, const struct path *p)
{
	struct path old;

	pthread_mutex_lock(&fs->lock);
	old = fs->cwd;
	fs->cwd = *p;
	path_get(&fs->cwd);
	pthread_mutex_unlock(&fs->lock);
	path_put(&old);
}

int vfs_chdir(struct task *t, const char *path)
{
	struct path p;
	int r = vfs_lookup(t, LINUX_AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);

	if (r < 0)
		return r;
	r = inode_permission(t, p.dentry->inode, MAY_EXEC);
	if (r == 0)
		fs_context_set_cwd(t->fs, &p);
	path_put(&p);
	return r;
}

void fs_context_get_cwd(struct fs_context *fs, struct path *out)
{
	pthread_mutex_lock(&fs->lock);
	*out = fs->cwd;
	path_get(out);
	pthread_mutex_unlock(&fs->lock);
}

uint32_t fs_context_umask(struct fs_context *fs, int new_mask)
{
	uint32_t old;

	pthread_mutex_lock(&fs->lock);
	old = fs->umask;
	if (new_mask >= 0)
		fs->umask = (uint32_t)new_mask & 0777;
	pthread_mutex_unlock(&fs->lock);
	return old;
}
