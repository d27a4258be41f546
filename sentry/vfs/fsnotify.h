/* Filesystem change notification hooks (Linux's fsnotify, reduced to what inotify needs).
 *
 * The VFS calls these where a change happens: directory operations (ops.c), open and close
 * and attribute changes (file.c), reads and writes (sys_rw.c). Each hook is one relaxed atomic
 * load while no inotify watch exists anywhere in the sandbox; otherwise it calls into
 * sentry/fs/inotify.c, which queues events for the watches on the inodes concerned.
 *
 * Events are keyed by inode: a watch added through an overlay path sees the overlay's inode,
 * which is what the overlay's dentries carry and what these hooks are given (a filesystem's
 * own operations on its layers notify the layers' inodes, which nobody can watch).
 *
 * Locks: the hooks may be called with directory locks (dentry->lock) and inode->lock NOT
 * held... except the directory-operation hooks, which ops.c calls with the parent directory's
 * lock held; the slow paths take only inotify's own locks (and vfs_tree_lock to read a name). */
#ifndef SENTRY_VFS_FSNOTIFY_H
#define SENTRY_VFS_FSNOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sentry/fs/event.h"
#include "sentry/vfs/vfs_fs.h"

/* How many inotify watches exist (inotify.c). */
extern atomic_int fsnotify_nwatches;

static inline bool fsnotify_active(void)
{
	return atomic_load_explicit(&fsnotify_nwatches, memory_order_relaxed) != 0;
}

/* ---- the slow paths (inotify.c) ---- */
/* mask (LINUX_IN_*) about d itself: to the watches on d's inode, and to those on its parent
 * directory with d's name (the events Linux sends to a parent: ACCESS, MODIFY, ATTRIB, OPEN,
 * CLOSE_*). IN_ISDIR is added for a directory. */
void fsnotify_dentry_event(struct dentry *d, uint32_t mask);
/* A name event (CREATE, DELETE, MOVED_FROM, MOVED_TO) in directory dir about its entry name,
 * whose inode is child (IN_ISDIR when a directory). cookie ties MOVED_FROM to MOVED_TO. */
void fsnotify_name_event(struct inode *dir, uint32_t mask, const char *name,
			 const struct inode *child, uint32_t cookie);
/* A self event (DELETE_SELF, MOVE_SELF, ATTRIB of a link count) about inode only, without
 * IN_ISDIR (as Linux reports these). */
void fsnotify_inode_event(struct inode *inode, uint32_t mask);
/* inode lost its last link: IN_DELETE_SELF, then its watches go (IN_IGNORED). */
void fsnotify_inode_removed(struct inode *inode);
/* A fresh cookie for a rename's MOVED_FROM/MOVED_TO pair. */
uint32_t fsnotify_cookie(void);

/* ---- the hooks ---- */

/* d was created in dir (create, mkdir, mknod, symlink; link also says IN_ATTRIB on the
 * inode, whose link count grew). Parent lock held. */
static inline void fsnotify_create(struct dentry *dir, struct dentry *d)
{
	if (fsnotify_active() && d->inode)
		fsnotify_name_event(dir->inode, LINUX_IN_CREATE, d->name, d->inode, 0);
}

static inline void fsnotify_link(struct dentry *dir, struct dentry *d)
{
	if (fsnotify_active() && d->inode) {
		fsnotify_inode_event(d->inode, LINUX_IN_ATTRIB);
		fsnotify_name_event(dir->inode, LINUX_IN_CREATE, d->name, d->inode, 0);
	}
}

/* victim (d's inode; the caller holds a reference) was unlinked (rmdir: isdir) from dir as
 * d's name; last: that was its last link (the caller reads nlink before the operation, since
 * an overlay's inode keeps the count it was made with). Parent lock held. Linux's order: the
 * link count change (IN_ATTRIB, files only), the inode's removal, then IN_DELETE in the
 * directory. The removal is reported at once, even while the file is still open (Linux waits
 * for the last close). */
static inline void fsnotify_remove(struct dentry *dir, struct dentry *d, struct inode *victim,
				   bool isdir, bool last)
{
	if (!fsnotify_active())
		return;
	if (!isdir)
		fsnotify_inode_event(victim, LINUX_IN_ATTRIB);
	if (isdir || last)
		fsnotify_inode_removed(victim);
	fsnotify_name_event(dir->inode, LINUX_IN_DELETE, d->name, victim, 0);
}

/* source (the moved inode) went from odir/oname to ndir/nname; target (NULL: none) was the
 * inode it replaced, target_last: with its last link. Both parent locks held. */
static inline void fsnotify_move(struct dentry *odir, const char *oname, struct dentry *ndir,
				 const char *nname, struct inode *source, struct inode *target,
				 bool target_last)
{
	if (!fsnotify_active())
		return;
	uint32_t cookie = fsnotify_cookie();
	fsnotify_name_event(odir->inode, LINUX_IN_MOVED_FROM, oname, source, cookie);
	fsnotify_name_event(ndir->inode, LINUX_IN_MOVED_TO, nname, source, cookie);
	if (target)
		fsnotify_inode_event(target, LINUX_IN_ATTRIB);
	fsnotify_inode_event(source, LINUX_IN_MOVE_SELF);
	if (target && (LINUX_S_ISDIR(target->mode) || target_last))
		fsnotify_inode_removed(target);
}

/* Data was written to / read from f. */
static inline void fsnotify_modify(struct file *f)
{
	if (fsnotify_active() && !(f->fmode & FMODE_PATH))
		fsnotify_dentry_event(f->path.dentry, LINUX_IN_MODIFY);
}

static inline void fsnotify_access(struct file *f)
{
	if (fsnotify_active() && !(f->fmode & FMODE_PATH))
		fsnotify_dentry_event(f->path.dentry, LINUX_IN_ACCESS);
}

/* f was opened through the tree (not O_PATH) / its last reference is going. */
static inline void fsnotify_open(struct file *f)
{
	if (fsnotify_active() && !(f->fmode & FMODE_PATH))
		fsnotify_dentry_event(f->path.dentry, LINUX_IN_OPEN);
}

static inline void fsnotify_close(struct file *f)
{
	if (fsnotify_active() && !(f->fmode & FMODE_PATH))
		fsnotify_dentry_event(f->path.dentry, (f->fmode & FMODE_WRITE)
							  ? LINUX_IN_CLOSE_WRITE
							  : LINUX_IN_CLOSE_NOWRITE);
}

/* setattr changed d's attributes (ATTR_* in valid): Linux's fsnotify_change. */
static inline void fsnotify_change(struct dentry *d, unsigned valid)
{
	uint32_t mask = 0;

	if (!fsnotify_active())
		return;
	if (valid & (ATTR_UID | ATTR_GID | ATTR_MODE))
		mask |= LINUX_IN_ATTRIB;
	if (valid & ATTR_SIZE)
		mask |= LINUX_IN_MODIFY;
	if ((valid & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME))
		mask |= LINUX_IN_ATTRIB;
	else if (valid & ATTR_ATIME)
		mask |= LINUX_IN_ACCESS;
	else if (valid & ATTR_MTIME)
		mask |= LINUX_IN_MODIFY;
	if (mask)
		fsnotify_dentry_event(d, mask);
}

#endif
