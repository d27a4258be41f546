/* Terminals: the console (tty.c), a tty object over the caller's host terminal; pseudo-terminals
 * made inside the sandbox (pty.c, see pty.h); and what every terminal shares (tty_job.c):
 * sessions, foreground process groups, job control and /dev/tty.
 *
 * The console: the host terminal's line discipline stays in charge of editing, echo and of
 * turning ^C, ^\ and ^Z into signals (termios changes the application makes are forwarded to
 * it). Those signals go to the host foreground process group, which holds the CLI, the gofer
 * and the Sentry (the Sentry must stay in it: a background process group gets SIGTTIN/SIGTTOU
 * from the host for its reads and termios changes). The Sentry blocks them in every thread but
 * one, whose handler forwards each to the sandbox's foreground process group
 * (tty_signals_start); the CLI and the gofer ignore the ones the terminal sends. The foreground
 * process group, the session holding the terminal, and the job-control checks (SIGTTIN/SIGTTOU
 * for background process groups) are emulated with sandbox pids, for the console and
 * pseudo-terminals alike (struct tty_ctl).
 */
#ifndef SENTRY_FS_TTY_H
#define SENTRY_FS_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct tty;
struct file;
struct file_ops;
struct task;
struct thread_group;

/* If one of the host fds stdio[0..2] (looked at in that order; -1 = none) is a terminal, it
 * becomes the console (/dev/pts/0), the controlling terminal of session sid with foreground
 * process group pgrp: init's ids at boot (on the main thread before any task runs), or those of
 * a process the runtime execs with a terminal into a sandbox that has none yet (before that
 * process runs). The tty keeps its own dup of the fd. Returns 0 (also when none is a terminal),
 * -EBUSY when the sandbox has a console in use already, or -errno. */
int tty_console_init(const int stdio[3], int sid, int pgrp);

/* Start the thread that turns the host terminal's SIGINT, SIGQUIT, SIGTSTP and SIGWINCH into
 * the same signals for the sandbox's foreground process group (init's process group when the
 * sandbox has no terminal; SIGTSTP then is dropped: the sandbox cannot be stopped as a job of
 * the host shell). Blocks those signals in the calling thread, so call it from the main thread
 * before any other Sentry thread exists. Returns 0 or -errno. */
int tty_signals_start(void);

/* tg exits (g_kernel.lock held): when it is a process the runtime exec'd whose session the
 * console controls, the console lets go of its host terminal (so that the runtime's master sees
 * the end), and the next exec -t may take its place. */
void tty_console_exec_exit_locked(struct thread_group *tg);

/* The console when the host file st describes is its terminal (same device), else NULL. */
struct tty *tty_console_match(const struct stat *st);

/* I/O on a file of the terminal, through host_fd (the file's own host fd, or the console's).
 * Reads and writes apply job control (SIGTTIN; SIGTTOU with TOSTOP) and block interruptibly:
 * -ERESTARTSYS when a signal comes. f's O_NONBLOCK gives -EAGAIN. */
ssize_t tty_read(struct tty *tty, struct file *f, int host_fd, void *buf, size_t n);
ssize_t tty_write(struct tty *tty, struct file *f, int host_fd, const void *buf, size_t n);
/* Terminal ioctls (TCGETS/TCSETS*, TIOCGWINSZ/TIOCSWINSZ, TIOC[GS]PGRP, TIOCSCTTY, TIOCNOTTY,
 * TIOCGSID, FIONREAD, TCFLSH...) for task t. -ENOTTY for anything else. */
long tty_ioctl(struct tty *tty, struct file *f, int host_fd, struct task *t, unsigned int cmd,
	       uint64_t arg);

/* Readiness of a host fd for a poll op (hostfd.c): the LINUX_POLL* mask now, and with pt the
 * not-ready events registered with poll_wait_host. */
struct poll_table;
unsigned host_fd_poll(int fd, struct poll_table *pt);
/* The host fd's readiness now, without waiting (hostfd.c): the revents poll(2) gives for events
 * (host poll bits, which are Linux's); 0 when none is ready. */
short host_fd_ready(int fd, short events);
/* The terminal ioctls that go straight to a host terminal fd, for task t (hostfd.c): TCGETS,
 * TCSETS, TCSETSW, TCSETSF (no job-control check) and FIONREAD. -ENOTTY for any other cmd. */
long host_tty_ioctl(int fd, struct task *t, unsigned int cmd, uint64_t arg);

/* The sandbox names the console /dev/pts/0, character device 136:0. */
#define TTY_CONSOLE_MAJOR 136
#define TTY_CONSOLE_MINOR 0
/* Its ops (opening it needs no controlling terminal), and the ids its stdio files show in
 * fstat: those of the /dev/pts/0 node, so ttyname() finds it. */
extern const struct file_ops tty_console_fops;
void tty_console_ids(struct tty *tty, uint64_t *dev, uint64_t *ino, uint64_t *rdev);

/* The ops of /dev/tty (character device 5:0): opening it gives the caller's controlling
 * terminal, -ENXIO without one. */
extern const struct file_ops tty_dev_fops;

/* For /proc/PID/stat: the tty_nr (new_encode_dev) and foreground process group of a process of
 * session sid, 0 and -1 when the session has no controlling terminal. g_kernel.lock held. */
void tty_proc_info_locked(int sid, int *tty_nr, int *tpgid);

/* A session leader is exiting (g_kernel.lock held): as Linux's disassociate_ctty, its
 * controlling terminal sends SIGHUP and SIGCONT to the foreground process group and belongs to
 * no session any more. */
void tty_session_leader_exit_locked(struct thread_group *tg);

/* ---- every terminal: job control and /dev/tty (tty_job.c) ----
 * A terminal (the console, a pseudo-terminal's slave) embeds a struct tty_ctl: the session it
 * is the controlling terminal of and that session's foreground process group, as Linux's
 * tty->session and tty->pgrp. A session has at most one controlling terminal and a terminal
 * belongs to at most one session. Every tty_ctl is in one registry, so that /dev/tty, the
 * session leader's exit and /proc/PID/stat find a session's terminal. */
struct tty_ctl;
struct poll_table;

/* What /dev/tty does on the terminal it opened: the terminal's own I/O. A /dev/tty file has
 * f->priv = the tty_ctl. */
struct tty_ctl_ops {
	/* f (a /dev/tty open) now refers to c: take what f needs (a reference). 0 or -errno. */
	int (*get)(struct tty_ctl *c, struct file *f);
	/* f is closed. */
	void (*put)(struct tty_ctl *c, struct file *f);
	ssize_t (*read)(struct tty_ctl *c, struct file *f, void *buf, size_t n);
	ssize_t (*write)(struct tty_ctl *c, struct file *f, const void *buf, size_t n);
	long (*ioctl)(struct tty_ctl *c, struct file *f, struct task *t, unsigned int cmd,
		      uint64_t arg);
	unsigned (*poll)(struct tty_ctl *c, struct file *f, struct poll_table *pt);
};

struct tty_ctl {
	const struct tty_ctl_ops *ops;
	uint64_t rdev; /* the terminal's device number (new_encode_dev) */
	int sid;       /* g_kernel.lock: the session it controls, 0 none */
	int pgrp;      /* g_kernel.lock: its foreground process group, 0 none */
	struct tty_ctl *next; /* the registry (g_kernel.lock) */
};

/* Add c to / remove c from the registry (take g_kernel.lock). */
void tty_ctl_register(struct tty_ctl *c);
void tty_ctl_unregister(struct tty_ctl *c);
/* The session c controls: 0 if none, or if no live process is in it (yet: at boot). */
int tty_ctl_session_locked(struct tty_ctl *c);
/* Is c the controlling terminal of t's session? (g_kernel.lock held) */
bool tty_ctl_is_ctty_locked(struct tty_ctl *c, struct task *t);
/* __tty_check_change: may t read (sig LINUX_SIGTTIN) or change/write (LINUX_SIGTTOU) c? 0,
 * -ERESTARTSYS (its background group was sent sig) or -EIO. Takes g_kernel.lock. */
int tty_ctl_check_change(struct tty_ctl *c, struct task *t, int sig);
/* The job-control ioctls for t on c: TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY, TIOCNOTTY.
 * TTY_IOCTL_UNHANDLED for any other cmd. */
#define TTY_IOCTL_UNHANDLED (-515) /* Linux's ENOIOCTLCMD: never returned to the application */
long tty_ctl_ioctl(struct tty_ctl *c, struct file *f, struct task *t, unsigned int cmd,
		   uint64_t arg);
/* tty_open's rule for an open of c by t: a session leader whose session has no controlling
 * terminal, opening it without O_NOCTTY, acquires it (c must be free). */
void tty_ctl_open(struct tty_ctl *c, struct file *f, struct task *t);
/* Send sig (SI_KERNEL) to every process of group pgrp (g_kernel.lock held). */
void tty_kill_pgrp_locked(int pgrp, int sig);
/* Send sig to c's foreground process group (ISIG characters, SIGWINCH). Takes the lock. */
void tty_ctl_kill_fg(struct tty_ctl *c, int sig);
/* c hangs up (a pseudo-terminal's master closed): its session leader gets SIGHUP and SIGCONT
 * (tty_signal_session_leader) and it controls no session any more. Takes the lock. */
void tty_ctl_hangup(struct tty_ctl *c);

#endif
