/* Syscall dispatch: one handler signature for every syscall. */
#ifndef SENTRY_SYSCALLS_SYSCALLS_H
#define SENTRY_SYSCALLS_SYSCALLS_H

#include <stdint.h>
#include "abi/syscalls.h"
#include "sentry/kernel/task.h"

struct syscall_args {
	long nr;
	uint64_t a[6]; /* rdi rsi rdx r10 r8 r9 */
};

/* Returns the value for rax: >= 0 on success (or an address), -errno on failure.
 * Never exits or aborts on application input. */
typedef long (*sys_handler_t)(struct task *t, const struct syscall_args *a);

/* One row of a family's table. note is the compatibility table's word on this call (printed by
 * `runsc-c syscalls` and docs/compatibility.md): NULL means fully supported; otherwise it starts
 * with "partial: " (what is missing, e.g. "partial: F_SETLKW does not block") or "unsupported: "
 * (a handler that only returns ENOSYS/EINVAL, kept so the call is not logged as unknown; or fn
 * NULL, to say why a call is deliberately absent). note is the LAST member so positional
 * initialisers {nr, fn} keep compiling (note = NULL). */
struct syscall_entry {
	long nr;
	sys_handler_t fn;
	const char *note;
};

/* Each family file exports a table terminated by {-1, NULL}; table.c merges them. */
extern const struct syscall_entry sys_file_table[];  /* sys_file.c: read/write/open/... */
extern const struct syscall_entry sys_fs_table[];    /* sys_fs.c: stat, getdents, cwd, ... */
extern const struct syscall_entry sys_mm_table[];    /* sys_mm.c: brk, mmap, ... */
extern const struct syscall_entry sys_misc_table[];  /* sys_misc.c: uname, ids, time, ... */
extern const struct syscall_entry sys_signal_table[];/* sys_signal.c */
extern const struct syscall_entry sys_process_table[];/* sys_process.c: fork, exec, wait, ... */
extern const struct syscall_entry sys_socket_table[]; /* sys_socket.c: sockets */
extern const struct syscall_entry sys_res_table[];   /* sys_res.c: rusage, sched, caps, xattr, splice */
extern const struct syscall_entry sys_event_table[]; /* sys_event.c: epoll, eventfd, timerfd, signalfd, memfd, pidfd, inotify */

/* Build the dispatch table; call once. */
void syscall_table_init(void);
/* The handler for nr, or NULL when unimplemented. */
sys_handler_t syscall_handler(long nr);
/* The compatibility note of nr's table entry (a static string, see struct syscall_entry), or
 * NULL when nr is fully supported or has no entry at all (then syscall_handler(nr) is NULL).
 * Valid after syscall_table_init(). */
const char *syscall_note(long nr);
/* Dispatch one call: returns the value for rax. Logs an unimplemented call once by name. */
long syscall_dispatch(struct task *t, const struct syscall_args *a);

/* Declare a handler: SYSCALL_DEFINE(read) -> long sys_read(struct task *t, const struct syscall_args *a) */
#define SYSCALL_DEFINE(name) long sys_##name(struct task *t, const struct syscall_args *a)

#endif
