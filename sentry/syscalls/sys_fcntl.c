/* fcntl(2) and flock(2): fd flags, status flags, record locks, owners, pipe sizes. */
#include "sentry/syscalls/sys_vfs.h"

#include <errno.h>
#include <limits.h>

#include "sentry/fs/event.h"
#include "sentry/fs/pipe.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/lock.h"

/* The F_SETFL-changeable flags (SETFL_MASK). */
#define SETFL_MASK                                                                                 \
	(LINUX_O_APPEND | LINUX_O_NONBLOCK | LINUX_O_ASYNC | LINUX_O_DIRECT | LINUX_O_NOATIME)

static bool is_owner_or_root(struct task *t, struct inode *inode)
{
	return t->cred.fsuid == 0 || t->cred.fsuid == inode->uid;
}

static long do_setfl(struct task *t, struct file *f, unsigned arg)
{
	if ((arg & LINUX_O_NOATIME) && !(f->flags & LINUX_O_NOATIME) &&
	    !is_owner_or_root(t, f->inode))
		return -EPERM;
	pthread_mutex_lock(&f->pos_lock);
	f->flags = (int)((arg & SETFL_MASK) | ((unsigned)f->flags & ~SETFL_MASK));
	pthread_mutex_unlock(&f->pos_lock);
	return 0;
}

/* Does the owner named by (type, id) exist? (f_setown's ESRCH check) */
static bool owner_exists(int type, int id)
{
	bool r = false;

	if (id == 0)
		return true;
	kernel_lock();
	if (type == LINUX_F_OWNER_TID) {
		r = task_lookup(id) != NULL;
	} else if (type == LINUX_F_OWNER_PID) {
		struct thread_group *tg = tg_lookup(id);
		r = tg != NULL;
	} else {
		struct thread_group *tg = tg_lookup(id);
		r = tg && tg->pgid == id; /* a group exists while its leader's pid does */
		if (!r) {
			/* or any member of it */
			struct task *tk = task_lookup(id);
			r = tk && tk->tg->pgid == id;
		}
	}
	kernel_unlock();
	return r;
}

static long do_setown(struct file *f, int type, int id)
{
	if (!owner_exists(type, id))
		return -ESRCH;
	pthread_mutex_lock(&f->pos_lock);
	f->owner_type = type;
	f->owner_pid = type == LINUX_F_OWNER_PGRP ? -id : id;
	pthread_mutex_unlock(&f->pos_lock);
	return 0;
}

static long do_lock(struct task *t, struct file *f, int cmd, uint64_t arg)
{
	struct linux_flock fl;
	long r;

	if (copy_in(t->mm, &fl, arg, sizeof(fl)) < 0)
		return -EFAULT;
	r = vfs_fcntl_lock(t, f, cmd, &fl);
	if (r == 0 && (cmd == LINUX_F_GETLK || cmd == LINUX_F_OFD_GETLK))
		r = copy_out(t->mm, arg, &fl, sizeof(fl));
	return r;
}

SYSCALL_DEFINE(fcntl)
{
	int fd = (int)a->a[0], cmd = (int)a->a[1];
	uint64_t arg = a->a[2];
	unsigned argi = (unsigned)arg;
	struct file *f = sys_fget_raw(t, fd);
	long r;

	if (!f)
		return -EBADF;
	/* O_PATH files allow only these (check_fcntl_cmd). */
	if ((f->fmode & FMODE_PATH) && cmd != LINUX_F_DUPFD && cmd != LINUX_F_DUPFD_CLOEXEC &&
	    cmd != LINUX_F_GETFD && cmd != LINUX_F_SETFD && cmd != LINUX_F_GETFL) {
		file_put(f);
		return -EBADF;
	}
	switch (cmd) {
	case LINUX_F_DUPFD:
	case LINUX_F_DUPFD_CLOEXEC: {
		int limit = vfs_nofile_limit();
		if (argi >= (unsigned)limit) {
			r = -EINVAL;
			break;
		}
		r = fdtable_alloc(t->fdt, f, (int)argi, cmd == LINUX_F_DUPFD_CLOEXEC, limit);
		break;
	}
	case LINUX_F_GETFD:
		r = fdtable_get_cloexec(t->fdt, fd);
		if (r > 0)
			r = LINUX_FD_CLOEXEC;
		break;
	case LINUX_F_SETFD:
		r = fdtable_set_cloexec(t->fdt, fd, argi & LINUX_FD_CLOEXEC);
		break;
	case LINUX_F_GETFL:
		r = f->flags;
		break;
	case LINUX_F_SETFL:
		r = do_setfl(t, f, argi);
		break;
	case LINUX_F_GETLK:
	case LINUX_F_SETLK:
	case LINUX_F_SETLKW:
	case LINUX_F_OFD_GETLK:
	case LINUX_F_OFD_SETLK:
	case LINUX_F_OFD_SETLKW:
		r = do_lock(t, f, cmd, arg);
		break;
	case LINUX_F_GETOWN:
		pthread_mutex_lock(&f->pos_lock);
		r = f->owner_pid;
		pthread_mutex_unlock(&f->pos_lock);
		break;
	case LINUX_F_SETOWN: {
		int who = (int)argi;
		if (who == INT_MIN)
			r = -EINVAL;
		else if (who < 0)
			r = do_setown(f, LINUX_F_OWNER_PGRP, -who);
		else
			r = do_setown(f, LINUX_F_OWNER_PID, who);
		break;
	}
	case LINUX_F_GETOWN_EX: {
		struct linux_f_owner_ex ex;
		pthread_mutex_lock(&f->pos_lock);
		ex.type = f->owner_pid ? f->owner_type : LINUX_F_OWNER_PID;
		ex.pid = f->owner_pid < 0 ? -f->owner_pid : f->owner_pid;
		pthread_mutex_unlock(&f->pos_lock);
		r = copy_out(t->mm, arg, &ex, sizeof(ex));
		break;
	}
	case LINUX_F_SETOWN_EX: {
		struct linux_f_owner_ex ex;
		if (copy_in(t->mm, &ex, arg, sizeof(ex)) < 0)
			r = -EFAULT;
		else if (ex.type < LINUX_F_OWNER_TID || ex.type > LINUX_F_OWNER_PGRP || ex.pid < 0)
			r = -EINVAL;
		else
			r = do_setown(f, ex.type, ex.pid);
		break;
	}
	case LINUX_F_GETSIG:
		pthread_mutex_lock(&f->pos_lock);
		r = f->sig;
		pthread_mutex_unlock(&f->pos_lock);
		break;
	case LINUX_F_SETSIG:
		if (argi > LINUX_NSIG) {
			r = -EINVAL;
			break;
		}
		pthread_mutex_lock(&f->pos_lock);
		f->sig = (int)argi;
		pthread_mutex_unlock(&f->pos_lock);
		r = 0;
		break;
	case LINUX_F_GETLEASE:
		r = LINUX_F_UNLCK; /* no leases are ever held */
		break;
	case LINUX_F_SETLEASE:
		if (!LINUX_S_ISREG(f->inode->mode))
			r = -EINVAL;
		else if (!is_owner_or_root(t, f->inode))
			r = -EACCES;
		else if (argi == LINUX_F_UNLCK)
			r = 0;
		else if (argi == LINUX_F_RDLCK || argi == LINUX_F_WRLCK)
			r = -EAGAIN; /* leases would need break notifications: say someone has it */
		else
			r = -EINVAL;
		break;
	case LINUX_F_NOTIFY:
		/* dnotify: accepted, never fires */
		r = LINUX_S_ISDIR(f->inode->mode) ? 0 : -ENOTDIR;
		break;
	case LINUX_F_GETPIPE_SZ:
	case LINUX_F_SETPIPE_SZ:
		r = pipe_fcntl(f, cmd, argi, t->cred.euid == 0);
		break;
	case LINUX_F_ADD_SEALS:
	case LINUX_F_GET_SEALS:
		r = tmpfs_seals_fcntl(f, cmd, argi); /* memfd seals (sentry/fs/event.h) */
		break;
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

SYSCALL_DEFINE(flock)
{
	unsigned op = (unsigned)a->a[1], type = op & ~(unsigned)LINUX_LOCK_NB;
	struct file *f;
	long r;

	/* The operation is checked before the fd (LOCK_MAND is ignored, as Linux does). */
	if (op & LINUX_LOCK_MAND)
		return 0;
	if (type != LINUX_LOCK_SH && type != LINUX_LOCK_EX && type != LINUX_LOCK_UN)
		return -EINVAL;
	f = sys_fget(t, (int)a->a[0]);
	if (!f)
		return -EBADF;
	r = vfs_flock(t, f, (unsigned)a->a[1]);
	file_put(f);
	return r;
}
