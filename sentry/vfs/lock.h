/* File locks: fcntl record locks (POSIX, owned by an fd table, i.e. a process; and OFD,
 * owned by an open file description) and flock(2) locks (owned by an open file description),
 * kept per inode, as Linux's fs/locks.c. POSIX and OFD locks conflict with each other;
 * flock locks only with flock locks. */
#ifndef SENTRY_VFS_LOCK_H
#define SENTRY_VFS_LOCK_H

#include <stdint.h>

#include "sentry/vfs/vfs_fs.h"

struct fdtable;

/* fcntl F_GETLK, F_SETLK, F_SETLKW and the F_OFD_ forms on f for t (F_GETLK64 is F_GETLK on
 * x86-64). fl is the guest's struct, updated in place for the GETLK forms (the caller copies
 * it back). F_SETLKW and F_OFD_SETLKW sleep until the lock is free (-ERESTARTSYS on a
 * signal; -EDEADLK when the holder waits for t's process). 0 or -errno (EAGAIN on a
 * conflict, EBADF for a lock the file's mode does not allow, EINVAL, EOVERFLOW). */
long vfs_fcntl_lock(struct task *t, struct file *f, int cmd, struct linux_flock *fl);

/* flock(2): op is LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB. 0, -EWOULDBLOCK, -EINVAL,
 * -EBADF, -ERESTARTSYS. */
long vfs_flock(struct task *t, struct file *f, unsigned op);

/* An fd of fdt naming f is being closed (close, dup2 over it, exec, exit): drop every POSIX
 * lock fdt holds on f's inode, as Linux's locks_remove_posix. Cheap when there are none. No
 * locks held by the caller. */
void locks_remove_posix(struct fdtable *fdt, struct file *f);

/* The last reference to f is going: drop its OFD and flock locks. */
void locks_remove_file(struct file *f);

/* The inode is being freed: free its lock context (no lock can remain). */
void locks_free_inode(struct inode *inode);

#endif
