/* eventfd: a 64-bit counter that write(2) adds to and read(2) takes (all of it, or one in
 * semaphore mode), blocking when it is zero / would overflow, after Linux's fs/eventfd.c. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs_fs.h"

struct eventfd {
	pthread_mutex_t lock;
	uint64_t count;
	bool semaphore;
	struct waitq wq; /* readers, writers and pollers */
};

static bool efd_readable(void *arg)
{
	struct eventfd *e = arg;
	pthread_mutex_lock(&e->lock);
	bool r = e->count > 0;
	pthread_mutex_unlock(&e->lock);
	return r;
}

struct efd_write_wait {
	struct eventfd *e;
	uint64_t v;
};

static bool efd_writable(void *arg)
{
	struct efd_write_wait *w = arg;
	pthread_mutex_lock(&w->e->lock);
	bool r = UINT64_MAX - w->e->count > w->v;
	pthread_mutex_unlock(&w->e->lock);
	return r;
}

static ssize_t efd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t v;

	(void)pos;
	if (n < sizeof(v))
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	while (e->count == 0) {
		pthread_mutex_unlock(&e->lock);
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		int r = task_wait(current_task, &e->wq, efd_readable, e, NULL);
		if (r < 0)
			return r;
		pthread_mutex_lock(&e->lock);
	}
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	pthread_mutex_unlock(&e->lock);
	memcpy(buf, &v, sizeof(v));
	waitq_wake_key(&e->wq, LINUX_POLLOUT | LINUX_POLLWRNORM);
	return sizeof(v);
}

static ssize_t efd_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t v;

	(void)pos;
	if (n < sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v == UINT64_MAX)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	while (UINT64_MAX - e->count <= v) {
		pthread_mutex_unlock(&e->lock);
		if (f->flags & LINUX_O_NONBLOCK)
			return -EAGAIN;
		struct efd_write_wait w = {e, v};
		int r = task_wait(current_task, &e->wq, efd_writable, &w, NULL);
		if (r < 0)
			return r;
		pthread_mutex_lock(&e->lock);
	}
	e->count += v;
	pthread_mutex_unlock(&e->lock);
	if (v)
		waitq_wake_key(&e->wq, LINUX_POLLIN | LINUX_POLLRDNORM);
	return sizeof(v);
}

static unsigned efd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd *e = f->priv;
	unsigned mask = 0;

	poll_wait(pt, &e->wq);
	pthread_mutex_lock(&e->lock);
	if (e->count > 0)
		mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (e->count == UINT64_MAX)
		mask |= LINUX_POLLERR;
	if (UINT64_MAX - 1 > e->count)
		mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	pthread_mutex_unlock(&e->lock);
	return mask;
}

static void efd_free(struct eventfd *e)
{
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static void efd_release(struct file *f) { efd_free(f->priv); }

static const struct file_ops efd_fops = {
    .release = efd_release,
    .read = efd_read,
    .write = efd_write,
    .poll = efd_poll,
    .llseek = anon_noop_llseek,
    .path_name = anon_file_path_name,
};

int eventfd_create_file(uint64_t count, int flags, struct file **out)
{
	struct eventfd *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	waitq_init(&e->wq);
	e->count = count;
	e->semaphore = flags & LINUX_EFD_SEMAPHORE;
	r = anon_file_open("[eventfd]", &efd_fops, e, flags, out);
	if (r < 0)
		efd_free(e);
	return r;
}
