/* Event and special files: epoll, eventfd, timerfd, signalfd, memfd, pidfd and inotify
 * (sentry/fs/epoll*.c, eventfd.c, timerfd.c, signalfd.c, memfd.c, pidfd.c, inotify*.c). Their
 * syscalls are in sentry/syscalls/sys_event.c; this header is what those and the hooks in the
 * rest of the Sentry (file_put, the signal code, process exit, fcntl) call. Every function
 * returns 0/count or -errno. */
#ifndef SENTRY_FS_EVENT_H
#define SENTRY_FS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "abi/linux.h"

struct file;
struct file_ops;
struct task;
struct thread_group;
struct path;

/* ---- ABI (these belong in abi/linux.h; guarded so they can move there) ---- */
#ifndef LINUX_EPOLLIN
#define LINUX_EPOLLIN 0x001u
#define LINUX_EPOLLPRI 0x002u
#define LINUX_EPOLLOUT 0x004u
#define LINUX_EPOLLERR 0x008u
#define LINUX_EPOLLHUP 0x010u
#define LINUX_EPOLLRDNORM 0x040u
#define LINUX_EPOLLRDBAND 0x080u
#define LINUX_EPOLLWRNORM 0x100u
#define LINUX_EPOLLWRBAND 0x200u
#define LINUX_EPOLLMSG 0x400u
#define LINUX_EPOLLRDHUP 0x2000u
#define LINUX_EPOLLEXCLUSIVE (1u << 28)
#define LINUX_EPOLLWAKEUP (1u << 29)
#define LINUX_EPOLLONESHOT (1u << 30)
#define LINUX_EPOLLET (1u << 31)
#define LINUX_EPOLL_CTL_ADD 1
#define LINUX_EPOLL_CTL_DEL 2
#define LINUX_EPOLL_CTL_MOD 3
#define LINUX_EPOLL_CLOEXEC LINUX_O_CLOEXEC
/* struct epoll_event: packed on x86-64 (12 bytes). */
struct linux_epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct linux_epoll_event) == 12, "epoll_event");
#endif

#ifndef LINUX_EFD_SEMAPHORE
#define LINUX_EFD_SEMAPHORE 1
#define LINUX_EFD_CLOEXEC LINUX_O_CLOEXEC
#define LINUX_EFD_NONBLOCK LINUX_O_NONBLOCK
#endif

#ifndef LINUX_TFD_TIMER_ABSTIME
#define LINUX_TFD_TIMER_ABSTIME 1
#define LINUX_TFD_TIMER_CANCEL_ON_SET 2
#define LINUX_TFD_CLOEXEC LINUX_O_CLOEXEC
#define LINUX_TFD_NONBLOCK LINUX_O_NONBLOCK
#define LINUX_TFD_IOC_SET_TICKS 0x40085400u /* _IOW('T', 0, u64) */
#define LINUX_CLOCK_REALTIME_ALARM 8
#define LINUX_CLOCK_BOOTTIME_ALARM 9
#endif
#ifndef LINUX_HAVE_ITIMERSPEC
#define LINUX_HAVE_ITIMERSPEC
struct linux_itimerspec {
	struct linux_timespec it_interval;
	struct linux_timespec it_value;
};
_Static_assert(sizeof(struct linux_itimerspec) == 32, "itimerspec");
#endif

#ifndef LINUX_SFD_CLOEXEC
#define LINUX_SFD_CLOEXEC LINUX_O_CLOEXEC
#define LINUX_SFD_NONBLOCK LINUX_O_NONBLOCK
/* struct signalfd_siginfo, 128 bytes */
struct linux_signalfd_siginfo {
	uint32_t ssi_signo;
	int32_t ssi_errno;
	int32_t ssi_code;
	uint32_t ssi_pid;
	uint32_t ssi_uid;
	int32_t ssi_fd;
	uint32_t ssi_tid;
	uint32_t ssi_band;
	uint32_t ssi_overrun;
	uint32_t ssi_trapno;
	int32_t ssi_status;
	int32_t ssi_int;
	uint64_t ssi_ptr;
	uint64_t ssi_utime;
	uint64_t ssi_stime;
	uint64_t ssi_addr;
	uint16_t ssi_addr_lsb;
	uint16_t __pad2;
	int32_t ssi_syscall;
	uint64_t ssi_call_addr;
	uint32_t ssi_arch;
	uint8_t __pad[28];
};
_Static_assert(sizeof(struct linux_signalfd_siginfo) == 128, "signalfd_siginfo");
#endif

#ifndef LINUX_MFD_CLOEXEC
#define LINUX_MFD_CLOEXEC 0x1u
#define LINUX_MFD_ALLOW_SEALING 0x2u
#define LINUX_MFD_HUGETLB 0x4u
#define LINUX_MFD_NOEXEC_SEAL 0x8u
#define LINUX_MFD_EXEC 0x10u
#define LINUX_F_ADD_SEALS 1033
#define LINUX_F_GET_SEALS 1034
#define LINUX_F_SEAL_SEAL 0x1u
#define LINUX_F_SEAL_SHRINK 0x2u
#define LINUX_F_SEAL_GROW 0x4u
#define LINUX_F_SEAL_WRITE 0x8u
#define LINUX_F_SEAL_FUTURE_WRITE 0x10u
#define LINUX_F_SEAL_EXEC 0x20u
#endif

#ifndef LINUX_PIDFD_NONBLOCK
#define LINUX_PIDFD_NONBLOCK LINUX_O_NONBLOCK
#define LINUX_PIDFD_THREAD LINUX_O_EXCL
#define LINUX_PIDFD_SIGNAL_THREAD (1u << 0)
#define LINUX_PIDFD_SIGNAL_THREAD_GROUP (1u << 1)
#define LINUX_PIDFD_SIGNAL_PROCESS_GROUP (1u << 2)
#endif

#ifndef LINUX_IN_ACCESS
#define LINUX_IN_ACCESS 0x00000001u
#define LINUX_IN_MODIFY 0x00000002u
#define LINUX_IN_ATTRIB 0x00000004u
#define LINUX_IN_CLOSE_WRITE 0x00000008u
#define LINUX_IN_CLOSE_NOWRITE 0x00000010u
#define LINUX_IN_OPEN 0x00000020u
#define LINUX_IN_MOVED_FROM 0x00000040u
#define LINUX_IN_MOVED_TO 0x00000080u
#define LINUX_IN_CREATE 0x00000100u
#define LINUX_IN_DELETE 0x00000200u
#define LINUX_IN_DELETE_SELF 0x00000400u
#define LINUX_IN_MOVE_SELF 0x00000800u
#define LINUX_IN_UNMOUNT 0x00002000u
#define LINUX_IN_Q_OVERFLOW 0x00004000u
#define LINUX_IN_IGNORED 0x00008000u
#define LINUX_IN_ONLYDIR 0x01000000u
#define LINUX_IN_DONT_FOLLOW 0x02000000u
#define LINUX_IN_EXCL_UNLINK 0x04000000u
#define LINUX_IN_MASK_CREATE 0x10000000u
#define LINUX_IN_MASK_ADD 0x20000000u
#define LINUX_IN_ISDIR 0x40000000u
#define LINUX_IN_ONESHOT 0x80000000u
#define LINUX_IN_ALL_EVENTS 0x00000fffu
#define LINUX_IN_CLOEXEC LINUX_O_CLOEXEC
#define LINUX_IN_NONBLOCK LINUX_O_NONBLOCK
#endif

/* ---- anonymous files (anon.c) ---- */

/* A new file named name ("anon_inode:[eventfd]" is what /proc/PID/fd shows: pass
 * "[eventfd]") with ops fops and f->priv = priv, on an inode of its own of the anonymous
 * filesystem (mode 0600, no type, as Linux's anon inodes). Open O_RDWR plus flags &
 * LINUX_O_NONBLOCK; not seekable (fops->llseek decides what lseek says). 0 and *out (one
 * reference), or -errno (priv is then the caller's to free). */
int anon_file_open(const char *name, const struct file_ops *fops, void *priv, int flags,
		   struct file **out);
/* The path_name op of such files: "anon_inode:" + the name given above. */
long anon_file_path_name(struct file *f, char *buf, size_t size);
/* Linux's noop_llseek: lseek succeeds and leaves the position (0). */
int64_t anon_noop_llseek(struct file *f, int64_t off, int whence);

/* ---- epoll (epoll.c, epoll_wait.c) ---- */

/* A new epoll instance (flags: LINUX_O_NONBLOCK is ignored; the caller handles
 * EPOLL_CLOEXEC). */
int epoll_create_file(struct file **out);
bool file_is_epoll(const struct file *f);
/* epoll_ctl(2) on the epoll file ep for target tf at fd (both references held by the caller),
 * op LINUX_EPOLL_CTL_*, ev (ignored for DEL). Linux's checks after the fds were found:
 * -EINVAL, -EPERM (tf cannot be polled), -EEXIST, -ENOENT, -ELOOP, -ENOMEM. */
int epoll_ctl_file(struct file *ep, int op, int fd, struct file *tf,
		   const struct linux_epoll_event *ev);
/* Wait on ep for up to maxevents events (maxevents > 0) into evs: until the CLOCK_MONOTONIC
 * deadline (NULL: none; zero true: do not wait at all). Returns the count (0 on timeout),
 * -EINTR when a signal is pending (epoll_wait is never restarted), or -errno. t's thread, no
 * locks held. */
int epoll_wait_file(struct task *t, struct file *ep, struct linux_epoll_event *evs, int maxevents,
		    const struct timespec *deadline, bool zero);
/* file_put's hook: the last reference to f is going; remove it from every epoll instance
 * watching it (Linux's eventpoll_release). No locks held. Cheap when f is in none. */
void eventpoll_release(struct file *f);

/* ---- eventfd (eventfd.c) ---- */

/* flags: LINUX_EFD_SEMAPHORE, LINUX_EFD_NONBLOCK (the caller handles EFD_CLOEXEC). */
int eventfd_create_file(uint64_t count, int flags, struct file **out);

/* ---- timerfd (timerfd.c) ---- */

/* clockid: REALTIME, MONOTONIC, BOOTTIME (the _ALARM ones: -EPERM, as without
 * CAP_WAKE_ALARM); flags: LINUX_TFD_NONBLOCK. */
int timerfd_create_file(int clockid, int flags, struct file **out);
bool file_is_timerfd(const struct file *f);
/* timerfd_settime/gettime on a timerfd (file_is_timerfd); new already validated. old may be
 * NULL. */
int timerfd_settime_file(struct file *f, int flags, const struct linux_itimerspec *new,
			 struct linux_itimerspec *old);
void timerfd_gettime_file(struct file *f, struct linux_itimerspec *cur);

/* ---- signalfd (signalfd.c) ---- */

/* mask: the signals to read (SIGKILL/SIGSTOP are dropped); flags: LINUX_SFD_NONBLOCK. */
int signalfd_create_file(uint64_t mask, int flags, struct file **out);
/* Replace the mask of an existing signalfd: 0, or -EINVAL when f is not one. */
int signalfd_set_mask(struct file *f, uint64_t mask);

/* ---- memfd (memfd.c) and file seals (tmpfs.c) ---- */

/* memfd_create(2) with the name already copied in (at most 249 bytes) and flags checked by
 * the caller (LINUX_MFD_*). */
int memfd_create_file(const char *name, unsigned flags, struct file **out);
/* fcntl F_ADD_SEALS (cmd, seals in arg) and F_GET_SEALS on f: the seals, 0, or -EINVAL (not a
 * tmpfs file), -EPERM (sealed against sealing, or f not open for writing). In tmpfs.c. */
long tmpfs_seals_fcntl(struct file *f, int cmd, unsigned arg);
/* Set the seals of a new tmpfs regular file f (memfd_create). In tmpfs.c. */
void tmpfs_set_seals(struct file *f, unsigned seals);

/* ---- pidfd (pidfd.c) ---- */

/* A pidfd for process tg (g_kernel.lock NOT held; tg must be alive or a zombie, which the
 * caller checked under the lock: the pidfd keeps its tgid and start time, not the pointer).
 * flags: LINUX_PIDFD_NONBLOCK. */
int pidfd_create_file(int tgid, int64_t start_time_ns, int flags, struct file **out);
/* The process a pidfd names: its thread group (g_kernel.lock held), or NULL when it has been
 * reaped. -EBADF in *err when f is not a pidfd. */
struct thread_group *pidfd_tg_locked(struct file *f, int *err);
/* Process exit's hook (g_kernel.lock held): tg has just become a zombie (or died); wakes the
 * pollers of pidfds. */
void pidfd_notify_exit_locked(struct thread_group *tg);

/* ---- inotify (inotify.c; the VFS hooks are sentry/vfs/fsnotify.h) ---- */

/* flags: LINUX_IN_NONBLOCK. */
int inotify_create_file(int flags, struct file **out);
bool file_is_inotify(const struct file *f);
/* inotify_add_watch on the resolved p (references held by the caller): the watch descriptor
 * or -errno (EINVAL, EEXIST with IN_MASK_CREATE, ENOSPC). */
int inotify_add_watch_file(struct file *f, const struct path *p, uint32_t mask);
/* inotify_rm_watch: 0 or -EINVAL. */
int inotify_rm_watch_file(struct file *f, int wd);

#endif
