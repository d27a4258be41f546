/* Terminals: the sandbox's controlling terminal, a tty object over the caller's host terminal.
 *
 * The host terminal's line discipline stays in charge of editing, echo and of turning ^C, ^\
 * and ^Z into signals (termios changes the application makes are forwarded to it). Those
 * signals go to the host foreground process group, which holds the CLI, the gofer and the
 * Sentry (the Sentry must stay in it: a background process group gets SIGTTIN/SIGTTOU from
 * the host for its reads and termios changes). The Sentry blocks them in every thread but one,
 * whose handler forwards each to the sandbox's foreground process group (tty_signals_start);
 * the CLI and the gofer ignore the ones the terminal sends. The foreground process group,
 * the session holding the terminal, and the job-control checks (SIGTTIN/SIGTTOU for
 * background process groups) are emulated here with sandbox pids.
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

/* Boot, on the main thread before any task runs: if one of the host fds stdio[0..2] (looked at
 * in that order; -1 = none) is a terminal, it becomes the console, the controlling terminal of
 * session sid with foreground process group pgrp (init's ids). The tty keeps its own dup of
 * the fd. Returns 0 (also when none is a terminal) or -errno. */
int tty_console_init(const int stdio[3], int sid, int pgrp);

/* Start the thread that turns the host terminal's SIGINT, SIGQUIT, SIGTSTP and SIGWINCH into
 * the same signals for the sandbox's foreground process group (init's process group when the
 * sandbox has no terminal; SIGTSTP then is dropped: the sandbox cannot be stopped as a job of
 * the host shell). Blocks those signals in the calling thread, so call it from the main thread
 * before any other Sentry thread exists. Returns 0 or -errno. */
int tty_signals_start(void);

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

#endif
