/* Pseudo-terminals inside the Sentry: a master (/dev/ptmx) and a slave (/dev/pts/N) joined by
 * a line discipline. Private to sentry/fs: pty.c (the files, ioctls and devpts), pty_ldisc.c
 * (Linux's n_tty for the slave: canonical editing, echo, signals, output processing).
 *
 * Data paths: what the master writes is the slave's input, processed character by character
 * (pty_ldisc_input) into the input queue `in`, which the slave reads (canonical mode: a line at
 * a time). What the slave writes, and the echo of its input, is processed for output
 * (pty_ldisc_output) into `out`, which the master reads raw. The termios ioctls on the master
 * act on the slave's termios, as Linux's tty_pair_get_tty makes them.
 *
 * Locks: pty->lock protects every field but refs (atomic) and ctl (g_kernel.lock, tty_job.c).
 * It is taken before g_kernel.lock, never after: signals the line discipline raises are sent
 * once pty->lock is dropped. */
#ifndef SENTRY_FS_PTY_H
#define SENTRY_FS_PTY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "sentry/fs/tty.h"
#include "sentry/kernel/wait.h"

#define PTY_MAJOR 136
#define TTY_GID 5	    /* devpts' gid=5,mode=620: slaves belong to the tty group */
#define PTY_MAX 1024	    /* /dev/pts/0 .. 1023 */
#define PTY_BUF (64 * 1024) /* each queue */
#define PTY_LINE 4096	    /* N_TTY_BUF_SIZE: a canonical line holds at most 4095 chars + end */
#define PTY_LINE_ENDS 4096  /* complete canonical lines queued at most */

/* termios bits (uapi/asm-generic/termbits.h) */
#define T_IGNBRK 0000001u
#define T_ISTRIP 0000040u
#define T_INLCR 0000100u
#define T_IGNCR 0000200u
#define T_ICRNL 0000400u
#define T_IUCLC 0001000u
#define T_IXON 0002000u
#define T_IMAXBEL 0020000u
#define T_IUTF8 0040000u
#define T_OPOST 0000001u
#define T_OLCUC 0000002u
#define T_ONLCR 0000004u
#define T_OCRNL 0000010u
#define T_ONOCR 0000020u
#define T_ONLRET 0000040u
#define T_B38400 0000017u
#define T_CS8 0000060u
#define T_CREAD 0000200u
#define T_ISIG 0000001u
#define T_ICANON 0000002u
#define T_ECHO 0000010u
#define T_ECHOE 0000020u
#define T_ECHOK 0000040u
#define T_ECHONL 0000100u
#define T_NOFLSH 0000200u
#define T_TOSTOP 0000400u
#define T_ECHOCTL 0001000u
#define T_ECHOPRT 0002000u
#define T_ECHOKE 0004000u
#define T_IEXTEN 0100000u
/* c_cc indices */
#define T_VINTR 0
#define T_VQUIT 1
#define T_VERASE 2
#define T_VKILL 3
#define T_VEOF 4
#define T_VTIME 5
#define T_VMIN 6
#define T_VSTART 8
#define T_VSTOP 9
#define T_VSUSP 10
#define T_VEOL 11
#define T_VREPRINT 12
#define T_VDISCARD 13
#define T_VWERASE 14
#define T_VLNEXT 15
#define T_VEOL2 16

/* A byte queue with free-running counters: bytes [rd, wr) are queued. */
struct pty_queue {
	char buf[PTY_BUF];
	uint64_t rd, wr;
};

struct pty {
	atomic_int refs;     /* the master file, slave files, /dev/tty files, devpts' entry */
	int index;	     /* N of /dev/pts/N */
	struct inode *inode; /* /dev/pts/N (a reference while the entry exists) */
	struct tty_ctl ctl;  /* the slave's session and foreground group */

	pthread_mutex_t lock;
	struct waitq wq;	  /* readers and writers of either end: every change wakes it */
	struct linux_termios tio; /* the slave's (both ends' termios ioctls act on it) */
	struct linux_winsize ws;
	bool locked;	     /* TIOCSPTLCK: the slave cannot be opened */
	bool packet;	     /* TIOCPKT: master reads start with a status byte */
	bool master_open;    /* false once the master is closed: the slave is hung up */
	int slave_opens;     /* open files on the slave (/dev/tty ones too) */
	bool slave_was_open; /* the master reads EIO once they are all closed again */

	struct pty_queue in;  /* the slave's input, processed */
	struct pty_queue out; /* the slave's output and echo, processed */
	/* canonical mode: where complete lines end in `in` (counters), oldest first; a line
	 * ended by VEOF does not include it, so an empty one reads as end of file */
	uint64_t ends[PTY_LINE_ENDS];
	unsigned nends, end0;
	char line[PTY_LINE]; /* the line being edited (not yet readable) */
	size_t line_len;
	bool lnext;	  /* the last input char was VLNEXT: take the next literally */
	int column;	  /* output column, for erasing tabs and ONOCR */
	int pending_sigs; /* bit per signal the line discipline raised (sent after unlock) */
};

/* The pseudo-terminals by index, and devpts (pty.c, devpts.c). g_pty_lock protects g_ptys,
 * g_console_inode and the inode->priv of slave nodes (the pty, NULL once it is gone); it nests
 * outside pty->lock. */
extern pthread_mutex_t g_pty_lock;
extern struct pty *g_ptys[PTY_MAX];
extern struct super_block *g_devpts;	/* NULL until devpts_create */
extern struct inode *g_console_inode;	/* /dev/pts/0 when the console took it */
extern const struct inode_ops pts_iops; /* of slave nodes: chmod, chown */

static inline size_t pty_queue_len(const struct pty_queue *q) { return (size_t)(q->wr - q->rd); }
static inline size_t pty_queue_room(const struct pty_queue *q)
{
	return PTY_BUF - pty_queue_len(q);
}

/* ---- the line discipline (pty_ldisc.c); pty->lock held ---- */
/* A new pty's termios: Linux's tty_std_termios for a pty (no HUPCL). */
void pty_ldisc_init(struct pty *p);
/* Feed n bytes the master wrote into the slave's input. Returns how many were taken (fewer
 * when the input queue is full). Echo goes to `out`; signals are noted in pending_sigs. */
size_t pty_ldisc_input(struct pty *p, const char *buf, size_t n);
/* Process n bytes the slave writes into `out`. Returns how many were taken (fewer when `out`
 * is full). */
size_t pty_ldisc_output(struct pty *p, const char *buf, size_t n);
/* Bytes the slave may read now: in canonical mode up to the end of the first complete line
 * (*eof set when that line is an empty VEOF one), else everything queued. */
size_t pty_ldisc_readable(struct pty *p, bool *eof);
/* Take n bytes (at most pty_ldisc_readable's) into buf; an eof line is taken with n 0. */
void pty_ldisc_take(struct pty *p, char *buf, size_t n, bool eof);
/* The slave's termios changed from old (TCSETS*): a switch of ICANON makes what was being
 * edited, or everything queued, readable. */
void pty_ldisc_termios_changed(struct pty *p, const struct linux_termios *old);
/* TCFLSH: drop the slave's unread input (in), its unread output (out), or both. */
void pty_ldisc_flush(struct pty *p, bool input, bool output);

#endif
