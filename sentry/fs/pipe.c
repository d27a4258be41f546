/* Pipes and FIFOs, after Linux's fs/pipe.c: a ring of page-sized buffers (16 by default, so 64
 * KiB), small writes merged into the last buffer, writes of at most PIPE_BUF bytes never split,
 * O_DIRECT packet mode, blocking reads and writes that a signal interrupts.
 *
 * An anonymous pipe lives on its pipefs inode (inode->priv) and dies with it. A FIFO's pipe is
 * found by its inode in a small table while any file has it open (Linux keeps it in
 * inode->i_pipe the same way) and is freed when the last of them closes.
 *
 * Locks: g_fifo_lock (the FIFO table), then pipe->lock. Never held across a sleep. */
#include "sentry/fs/pipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"

_Atomic unsigned int pipe_max_size = 1048576;

struct pipe_buf {
	char *page; /* PAGE_SIZE bytes */
	uint32_t off, len;
	bool packet; /* written in O_DIRECT mode: one read takes it whole (and drops the rest) */
};

struct pipe {
	pthread_mutex_t lock;
	/* Taken before lock by whoever consumes data (read, splice out of the pipe), so that a
	 * splice may look at the data, write it elsewhere and then consume exactly that. */
	pthread_mutex_t rd_lock;
	struct pipe_buf *bufs; /* a ring of nslots; buffer i is bufs[i % nslots] */
	unsigned nslots;
	unsigned head, tail; /* next to fill, next to read (free-running) */
	unsigned readers, writers;
	unsigned r_counter, w_counter; /* opens so far: FIFO opens wait for the partner's */
	struct waitq rd_wait, wr_wait;
	char *spare; /* one freed page kept for the next write */
	/* FIFOs only (g_fifo_lock) */
	struct inode *fifo_inode; /* the key; no reference (the open files hold one) */
	unsigned files;		  /* open files on this pipe */
	struct pipe *next;
};

/* f->priv of a pipe file. */
struct pipe_file {
	struct pipe *pipe;
	/* Linux's f_pipe: a FIFO reader opened without a writer does not report POLLHUP until a
	 * writer has come (w_counter moved past this). */
	unsigned w_seen;
};

static struct pipe *PF(const struct file *f) { return ((struct pipe_file *)f->priv)->pipe; }

static unsigned occupancy(const struct pipe *p) { return p->head - p->tail; }
static bool pipe_empty(const struct pipe *p) { return p->head == p->tail; }
static bool pipe_full(const struct pipe *p) { return occupancy(p) >= p->nslots; }

static struct pipe *pipe_alloc(void)
{
	struct pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->nslots = PIPE_DEF_SIZE / PAGE_SIZE;
	p->bufs = calloc(p->nslots, sizeof(*p->bufs));
	if (!p->bufs) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->rd_lock, NULL);
	waitq_init(&p->rd_wait);
	waitq_init(&p->wr_wait);
	return p;
}

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (unsigned i = p->tail; i != p->head; i++)
		free(p->bufs[i % p->nslots].page);
	free(p->bufs);
	free(p->spare);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->rd_lock);
	free(p);
}

/* Give the tail buffer's page back (lock held). */
static void release_tail(struct pipe *p)
{
	struct pipe_buf *b = &p->bufs[p->tail % p->nslots];

	if (!p->spare)
		p->spare = b->page;
	else
		free(b->page);
	*b = (struct pipe_buf){0};
	p->tail++;
}

static void wake_all(struct pipe *p)
{
	waitq_wake(&p->rd_wait);
	waitq_wake(&p->wr_wait);
}

/* ---- the pipefs superblock of anonymous pipes ---- */

static void pipefs_evict(struct inode *inode) { pipe_free(inode->priv); }

static int pipefs_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	st->f_type = LINUX_PIPEFS_MAGIC;
	return 0;
}

static const struct super_ops pipefs_sops = {
    .evict_inode = pipefs_evict,
    .statfs = pipefs_statfs,
};

static struct super_block *g_pipefs_sb;
static pthread_once_t g_pipefs_once = PTHREAD_ONCE_INIT;

static void pipefs_init(void)
{
	struct inode *root;

	g_pipefs_sb = sb_create("pipefs", &pipefs_sops, 0);
	if (!g_pipefs_sb)
		return;
	root = inode_alloc(g_pipefs_sb, LINUX_S_IFDIR | 0700);
	if (!root || !d_make_root(g_pipefs_sb, root))
		g_pipefs_sb = NULL;
}

/* ---- reading and writing ---- */

static bool readable(void *arg)
{
	struct pipe *p = arg;
	bool r;

	pthread_mutex_lock(&p->lock);
	r = !pipe_empty(p) || !p->writers;
	pthread_mutex_unlock(&p->lock);
	return r;
}

static bool writable(void *arg)
{
	struct pipe *p = arg;
	bool r;

	pthread_mutex_lock(&p->lock);
	r = !pipe_full(p) || !p->readers;
	pthread_mutex_unlock(&p->lock);
	return r;
}

static bool nonblocking(const struct file *f)
{
	return (f->flags & LINUX_O_NONBLOCK) || !current_task;
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = PF(f);
	ssize_t ret = 0;

	(void)pos;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&p->rd_lock);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		bool packet = false;

		while (!pipe_empty(p) && (size_t)ret < n) {
			struct pipe_buf *b = &p->bufs[p->tail % p->nslots];
			size_t chars = MIN((size_t)b->len, n - (size_t)ret);

			memcpy((char *)buf + ret, b->page + b->off, chars);
			ret += (ssize_t)chars;
			b->off += (uint32_t)chars;
			b->len -= (uint32_t)chars;
			if (b->packet) {
				b->len = 0; /* the rest of a packet is dropped */
				packet = true;
			}
			if (b->len == 0)
				release_tail(p);
			if (packet)
				break;
		}
		if (ret > 0 || !p->writers)
			break;
		if (nonblocking(f)) {
			ret = -EAGAIN;
			break;
		}
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&p->rd_lock);
		int r = task_wait(current_task, &p->rd_wait, readable, p, NULL);
		pthread_mutex_lock(&p->rd_lock);
		pthread_mutex_lock(&p->lock);
		if (r < 0) {
			ret = r;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&p->rd_lock);
	if (ret > 0) {
		waitq_wake(&p->wr_wait);
		pthread_mutex_lock(&f->inode->lock);
		f->inode->atime = vfs_now();
		pthread_mutex_unlock(&f->inode->lock);
	}
	return ret;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = PF(f);
	bool packet = f->flags & LINUX_O_DIRECT;
	size_t chars = n & (PAGE_SIZE - 1);
	ssize_t ret = 0;

	(void)pos;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (!p->readers) {
		ret = -EPIPE;
		goto out;
	}
	/* A write that is not a whole number of pages first tops up the last buffer, if it
	 * fits there whole: so a small write is never split. */
	if (!pipe_empty(p) && chars && !packet) {
		struct pipe_buf *b = &p->bufs[(p->head - 1) % p->nslots];
		if (!b->packet && b->off + b->len + chars <= PAGE_SIZE) {
			memcpy(b->page + b->off + b->len, buf, chars);
			b->len += (uint32_t)chars;
			ret = (ssize_t)chars;
			if ((size_t)ret == n)
				goto out;
		}
	}
	for (;;) {
		if (!p->readers) {
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (!pipe_full(p)) {
			char *page = p->spare ? p->spare : malloc(PAGE_SIZE);
			size_t copy = MIN(PAGE_SIZE, n - (size_t)ret);

			if (!page) {
				if (!ret)
					ret = -ENOMEM;
				break;
			}
			p->spare = NULL;
			memcpy(page, (const char *)buf + ret, copy);
			p->bufs[p->head % p->nslots] =
			    (struct pipe_buf){page, 0, (uint32_t)copy, packet};
			p->head++;
			ret += (ssize_t)copy;
			if ((size_t)ret == n)
				break;
			continue;
		}
		if (nonblocking(f)) {
			if (!ret)
				ret = -EAGAIN;
			break;
		}
		pthread_mutex_unlock(&p->lock);
		/* Readers may take what is there while we wait for room. */
		if (ret > 0)
			waitq_wake(&p->rd_wait);
		int r = task_wait(current_task, &p->wr_wait, writable, p, NULL);
		pthread_mutex_lock(&p->lock);
		if (r < 0) {
			if (!ret)
				ret = r;
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	if (ret > 0) {
		waitq_wake(&p->rd_wait);
		pthread_mutex_lock(&f->inode->lock);
		f->inode->mtime = f->inode->ctime = vfs_now();
		pthread_mutex_unlock(&f->inode->lock);
	}
	return ret;
}

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe_file *pf = f->priv;
	struct pipe *p = pf->pipe;
	unsigned mask = 0;

	if (f->fmode & FMODE_READ)
		poll_wait(pt, &p->rd_wait);
	if (f->fmode & FMODE_WRITE)
		poll_wait(pt, &p->wr_wait);
	pthread_mutex_lock(&p->lock);
	if (f->fmode & FMODE_READ) {
		if (!pipe_empty(p))
			mask |= LINUX_POLLIN | LINUX_POLLRDNORM;
		if (!p->writers && pf->w_seen != p->w_counter)
			mask |= LINUX_POLLHUP;
	}
	if (f->fmode & FMODE_WRITE) {
		if (!pipe_full(p))
			mask |= LINUX_POLLOUT | LINUX_POLLWRNORM;
		if (!p->readers)
			mask |= LINUX_POLLERR;
	}
	pthread_mutex_unlock(&p->lock);
	return mask;
}

static long pipe_ioctl(struct file *f, struct task *t, unsigned int cmd, uint64_t arg)
{
	struct pipe *p = PF(f);
	int count = 0;

	if (cmd != LINUX_FIONREAD)
		return -ENOTTY;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = p->tail; i != p->head; i++)
		count += (int)p->bufs[i % p->nslots].len;
	pthread_mutex_unlock(&p->lock);
	return copy_out(t->mm, arg, &count, sizeof(count));
}

/* Drop f's end (lock held); both sides hear of it. */
static void put_end(struct pipe *p, const struct file *f)
{
	if (f->fmode & FMODE_READ)
		p->readers--;
	if (f->fmode & FMODE_WRITE)
		p->writers--;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = PF(f);

	pthread_mutex_lock(&p->lock);
	put_end(p, f);
	pthread_mutex_unlock(&p->lock);
	wake_all(p);
	free(f->priv);
}

static long pipe_path_name(struct file *f, char *buf, size_t size)
{
	int n = snprintf(buf, size, "pipe:[%llu]", (unsigned long long)f->inode->ino);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : n;
}

/* Pipes have no offset: lseek and pread/pwrite say ESPIPE. */
static int attach(struct file *f, struct pipe *p)
{
	struct pipe_file *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return -ENOMEM;
	pf->pipe = p;
	f->priv = pf;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	return 0;
}

static int pipe_anon_open(struct inode *inode, struct file *f)
{
	struct pipe *p = inode->priv;
	int r = attach(f, p);

	if (r < 0)
		return r;
	/* pipe(2)'s files have no O_LARGEFILE in F_GETFL (they are not opened by open(2)). */
	f->flags &= ~LINUX_O_LARGEFILE;
	pthread_mutex_lock(&p->lock);
	if (f->fmode & FMODE_READ) {
		p->readers++;
		p->r_counter++;
	}
	if (f->fmode & FMODE_WRITE) {
		p->writers++;
		p->w_counter++;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static const struct file_ops pipe_anon_fops = {
    .open = pipe_anon_open,
    .release = pipe_release,
    .read = pipe_read,
    .write = pipe_write,
    .ioctl = pipe_ioctl,
    .path_name = pipe_path_name,
    .poll = pipe_poll,
};

int pipe_create(int flags, struct file **rd, struct file **wr)
{
	struct inode *inode;
	struct pipe *p;
	int r;

	pthread_once(&g_pipefs_once, pipefs_init);
	if (!g_pipefs_sb)
		return -ENOMEM;
	p = pipe_alloc();
	inode = p ? inode_alloc(g_pipefs_sb, LINUX_S_IFIFO | 0600) : NULL;
	if (!inode) {
		pipe_free(p);
		return -ENOMEM;
	}
	inode->priv = p; /* freed with the inode (pipefs_evict) */
	inode->fops = &pipe_anon_fops;
	if (current_task) {
		inode->uid = current_task->cred.fsuid;
		inode->gid = current_task->cred.fsgid;
	}
	flags &= LINUX_O_NONBLOCK | LINUX_O_DIRECT;
	char name[32];
	snprintf(name, sizeof(name), "pipe:[%llu]", (unsigned long long)inode->ino);
	/* Each open takes over one inode reference. */
	r = vfs_open_anon(inode_get(inode), name, LINUX_O_RDONLY | flags, rd);
	if (r < 0) {
		inode_put(inode);
		return r;
	}
	r = vfs_open_anon(inode, name, LINUX_O_WRONLY | flags, wr);
	if (r < 0) {
		file_put(*rd);
		return r;
	}
	return 0;
}

bool file_is_pipe(const struct file *f)
{
	return f->fops == &pipe_anon_fops || f->fops == &pipe_fifo_fops;
}

/* ---- sizes ---- */

/* Linux's round_pipe_size: a power of two of pages, 0 when too big. */
static uint64_t round_pipe_size(uint64_t size)
{
	uint64_t r = PAGE_SIZE;

	if (size > (1ULL << 31))
		return 0;
	while (r < size)
		r <<= 1;
	return r;
}

static long pipe_set_size(struct pipe *p, unsigned int arg, bool privileged)
{
	uint64_t size = round_pipe_size(arg);
	unsigned nslots = (unsigned)(size / PAGE_SIZE);
	struct pipe_buf *nb;
	unsigned n;

	if (!size)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (nslots > p->nslots && size > pipe_max_size && !privileged) {
		pthread_mutex_unlock(&p->lock);
		return -EPERM;
	}
	n = occupancy(p);
	if (nslots < n) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	nb = calloc(nslots, sizeof(*nb));
	if (!nb) {
		pthread_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		nb[i] = p->bufs[(p->tail + i) % p->nslots];
	free(p->bufs);
	p->bufs = nb;
	p->nslots = nslots;
	p->tail = 0;
	p->head = n;
	pthread_mutex_unlock(&p->lock);
	wake_all(p); /* writers may have room now */
	return (long)size;
}

long pipe_fcntl(struct file *f, int cmd, unsigned int arg, bool privileged)
{
	struct pipe *p;
	long r;

	if (!file_is_pipe(f))
		return -EBADF;
	p = PF(f);
	switch (cmd) {
	case LINUX_F_GETPIPE_SZ:
		pthread_mutex_lock(&p->lock);
		r = (long)p->nslots * (long)PAGE_SIZE;
		pthread_mutex_unlock(&p->lock);
		return r;
	case LINUX_F_SETPIPE_SZ:
		return pipe_set_size(p, arg, privileged);
	}
	return -EINVAL;
}

/* ---- FIFOs ---- */

static pthread_mutex_t g_fifo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe *g_fifos; /* every FIFO open now; few at a time */

/* The pipe of FIFO inode, made on first open, with one more file counted. NULL on ENOMEM. */
static struct pipe *fifo_get(struct inode *inode)
{
	struct pipe *p;

	pthread_mutex_lock(&g_fifo_lock);
	for (p = g_fifos; p && p->fifo_inode != inode; p = p->next)
		;
	if (!p && (p = pipe_alloc())) {
		p->fifo_inode = inode;
		p->next = g_fifos;
		g_fifos = p;
	}
	if (p)
		p->files++;
	pthread_mutex_unlock(&g_fifo_lock);
	return p;
}

/* One file less on FIFO pipe p: the last one frees it, with whatever data it still holds. */
static void fifo_put(struct pipe *p)
{
	struct pipe **pp;
	bool last;

	pthread_mutex_lock(&g_fifo_lock);
	last = --p->files == 0;
	if (last) {
		for (pp = &g_fifos; *pp != p; pp = &(*pp)->next)
			;
		*pp = p->next;
	}
	pthread_mutex_unlock(&g_fifo_lock);
	if (last)
		pipe_free(p);
}

struct partner_wait {
	struct pipe *p;
	unsigned *counter;
	unsigned seen;
};

static bool partner_came(void *arg)
{
	struct partner_wait *w = arg;
	bool r;

	pthread_mutex_lock(&w->p->lock);
	r = *w->counter != w->seen;
	pthread_mutex_unlock(&w->p->lock);
	return r;
}

/* Sleep (lock held, dropped meanwhile) until *counter moves: a partner opened the FIFO.
 * 0 or -ERESTARTSYS. */
static int wait_for_partner(struct pipe *p, unsigned *counter)
{
	struct waitq *wqs[2] = {&p->rd_wait, &p->wr_wait};
	struct partner_wait w = {p, counter, *counter};
	int r;

	pthread_mutex_unlock(&p->lock);
	r = task_wait_multi(current_task, wqs, 2, partner_came, &w, NULL);
	pthread_mutex_lock(&p->lock);
	return r == -ETIMEDOUT ? -LINUX_ERESTARTSYS : r;
}

static int pipe_fifo_open(struct inode *inode, struct file *f)
{
	bool nonblock = f->flags & LINUX_O_NONBLOCK;
	struct pipe *p = fifo_get(inode);
	struct pipe_file *pf;
	int r = 0;

	if (!p)
		return -ENOMEM;
	r = attach(f, p);
	if (r < 0) {
		fifo_put(p);
		return r;
	}
	pf = f->priv;
	pthread_mutex_lock(&p->lock);
	switch (f->fmode & (FMODE_READ | FMODE_WRITE)) {
	case FMODE_READ:
		p->r_counter++;
		if (p->readers++ == 0)
			wake_all(p);
		if (!p->writers) {
			if (nonblock || !current_task)
				pf->w_seen = p->w_counter; /* no POLLHUP before a writer came */
			else
				r = wait_for_partner(p, &p->w_counter);
		}
		if (r < 0 && --p->readers == 0)
			wake_all(p);
		break;
	case FMODE_WRITE:
		if (nonblock && !p->readers) {
			r = -ENXIO;
			break;
		}
		p->w_counter++;
		if (p->writers++ == 0)
			wake_all(p);
		if (!p->readers) {
			r = current_task ? wait_for_partner(p, &p->r_counter) : -ENXIO;
			if (r < 0 && --p->writers == 0)
				wake_all(p);
		}
		break;
	case FMODE_READ | FMODE_WRITE:
		/* O_RDWR never blocks: this file is both ends (POSIX leaves it undefined). */
		p->readers++;
		p->writers++;
		p->r_counter++;
		p->w_counter++;
		wake_all(p);
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		free(f->priv);
		f->priv = NULL;
		fifo_put(p);
	}
	return r;
}

static void pipe_fifo_release(struct file *f)
{
	struct pipe *p = PF(f);

	pipe_release(f);
	fifo_put(p);
}

const struct file_ops pipe_fifo_fops = {
    .open = pipe_fifo_open,
    .release = pipe_fifo_release,
    .read = pipe_read,
    .write = pipe_write,
    .ioctl = pipe_ioctl,
    .poll = pipe_poll,
};

/* ---- splice, tee and vmsplice (sys_splice.c) ---- */

int pipe_splice_wait(struct file *f, bool write, bool nonblock)
{
	struct pipe *p = PF(f);

	for (;;) {
		int r = -EAGAIN;
		pthread_mutex_lock(&p->lock);
		if (write && !p->readers)
			r = -EPIPE;
		else if (write && !pipe_full(p))
			r = 1;
		else if (!write && !pipe_empty(p))
			r = 1;
		else if (!write && !p->writers)
			r = 0;
		pthread_mutex_unlock(&p->lock);
		if (r != -EAGAIN || nonblock || !current_task)
			return r;
		r = task_wait(current_task, write ? &p->wr_wait : &p->rd_wait,
			      write ? writable : readable, p, NULL);
		if (r < 0)
			return r;
	}
}

size_t pipe_room(struct file *f)
{
	struct pipe *p = PF(f);
	size_t room;

	pthread_mutex_lock(&p->lock);
	room = (size_t)(p->nslots - MIN(occupancy(p), p->nslots)) * PAGE_SIZE;
	pthread_mutex_unlock(&p->lock);
	return room;
}

/* Append n bytes to p as new buffers while slots are free (lock held). The count. */
static size_t fill_locked(struct pipe *p, const char *buf, size_t n, bool packet)
{
	size_t done = 0;

	while (done < n && !pipe_full(p)) {
		char *page = p->spare ? p->spare : malloc(PAGE_SIZE);
		size_t copy = MIN((size_t)PAGE_SIZE, n - done);
		if (!page)
			break;
		p->spare = NULL;
		memcpy(page, buf + done, copy);
		p->bufs[p->head % p->nslots] = (struct pipe_buf){page, 0, (uint32_t)copy, packet};
		p->head++;
		done += copy;
	}
	return done;
}

ssize_t pipe_write_nowait(struct file *f, const void *buf, size_t n)
{
	struct pipe *p = PF(f);
	ssize_t r;

	pthread_mutex_lock(&p->lock);
	if (!p->readers)
		r = -EPIPE;
	else if (pipe_full(p))
		r = -EAGAIN;
	else
		r = (ssize_t)fill_locked(p, buf, n, false);
	pthread_mutex_unlock(&p->lock);
	if (r > 0)
		waitq_wake(&p->rd_wait);
	return r == 0 && n ? -ENOMEM : r;
}

ssize_t pipe_splice_out(struct file *f, size_t n, bool nonblock,
			ssize_t (*sink)(void *arg, const void *buf, size_t len), void *arg)
{
	struct pipe *p = PF(f);
	char *buf;
	size_t got = 0;
	ssize_t r;

	for (;;) {
		r = pipe_splice_wait(f, false, nonblock);
		if (r <= 0)
			return r;
		pthread_mutex_lock(&p->rd_lock);
		pthread_mutex_lock(&p->lock);
		if (!pipe_empty(p))
			break;
		/* another reader took it first */
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&p->rd_lock);
	}
	/* look at the data without taking it: the sink may take less, or fail */
	n = MIN(n, (size_t)occupancy(p) * PAGE_SIZE);
	buf = malloc(n ? n : 1);
	for (unsigned i = p->tail; buf && i != p->head && got < n; i++) {
		struct pipe_buf *b = &p->bufs[i % p->nslots];
		size_t c = MIN((size_t)b->len, n - got);
		memcpy(buf + got, b->page + b->off, c);
		got += c;
	}
	pthread_mutex_unlock(&p->lock);
	r = buf ? sink(arg, buf, got) : -ENOMEM;
	free(buf);
	if (r > 0) {
		/* consume what the sink took: still at the front (consumers hold rd_lock) */
		size_t left = (size_t)r;
		pthread_mutex_lock(&p->lock);
		while (left && !pipe_empty(p)) {
			struct pipe_buf *b = &p->bufs[p->tail % p->nslots];
			size_t c = MIN((size_t)b->len, left);
			b->off += (uint32_t)c;
			b->len -= (uint32_t)c;
			left -= c;
			if (b->len == 0)
				release_tail(p);
		}
		pthread_mutex_unlock(&p->lock);
		waitq_wake(&p->wr_wait);
	}
	pthread_mutex_unlock(&p->rd_lock);
	return r;
}

ssize_t pipe_splice_pipe(struct file *in, struct file *out, size_t n, bool nonblock, bool keep)
{
	struct pipe *ip = PF(in), *op = PF(out);
	size_t moved = 0;

	if (ip == op)
		return -EINVAL;
	for (;;) {
		ssize_t r = pipe_splice_wait(in, false, nonblock);
		if (r <= 0)
			return r;
		r = pipe_splice_wait(out, true, nonblock);
		if (r < 0)
			return r;
		if (!keep)
			pthread_mutex_lock(&ip->rd_lock);
		/* two pipe locks: in address order */
		struct pipe *first = ip < op ? ip : op, *second = ip < op ? op : ip;
		pthread_mutex_lock(&first->lock);
		pthread_mutex_lock(&second->lock);
		if (!op->readers)
			r = -EPIPE;
		for (unsigned i = ip->tail; r >= 0 && i != ip->head && moved < n && !pipe_full(op);) {
			struct pipe_buf *b = &ip->bufs[i % ip->nslots];
			size_t c = MIN((size_t)b->len, n - moved);
			if (fill_locked(op, b->page + b->off, c, b->packet) != c)
				break;
			moved += c;
			if (keep) {
				i++;
				continue;
			}
			b->off += (uint32_t)c;
			b->len -= (uint32_t)c;
			if (b->len == 0)
				release_tail(ip);
			i = ip->tail;
		}
		pthread_mutex_unlock(&second->lock);
		pthread_mutex_unlock(&first->lock);
		if (!keep)
			pthread_mutex_unlock(&ip->rd_lock);
		if (moved) {
			waitq_wake(&op->rd_wait);
			if (!keep)
				waitq_wake(&ip->wr_wait);
			return (ssize_t)moved;
		}
		if (r < 0)
			return r;
		/* raced with another reader or writer: wait again */
	}
}
