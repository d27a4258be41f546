/* --strace: every emulated syscall printed with decoded arguments and its result, as strace -f
 * does. */
#ifndef SENTRY_KERNEL_STRACE_H
#define SENTRY_KERNEL_STRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/flags.h"

struct task;
struct syscall_args;

/* Call before dispatching a syscall. Formats the arguments known before the call into a per-thread
 * buffer (the calling host thread runs t). exit and exit_group, which do not return, are printed
 * whole here with "= ?". Does nothing unless g_kernel.strace. Reads guest memory through
 * copy_in/copy_in_str on t->mm only. */
void strace_enter(struct task *t, const struct syscall_args *a);
/* Call after the handler with its return value: formats the arguments the call filled in and the
 * result, and writes the whole line ("[pid  N] read(3, "..."..., 4096) = 267\n") to
 * g_kernel.strace_fd in one write. Without a matching strace_enter on this thread, prints the whole
 * call from here. Does nothing unless g_kernel.strace. */
void strace_exit(struct task *t, const struct syscall_args *a, long ret);

/* "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8} ---": a synchronous fault
 * (or kernel-generated signal) delivered to t. Does nothing unless g_kernel.strace. */
void strace_signal(struct task *t, int signo, int si_code, uint64_t addr);
/* "+++ exited with 0 +++" or "+++ killed by SIGSEGV (core dumped) +++" for wait status `status`
 * (LINUX_W_EXITCODE) when t's thread group ends. Does nothing unless g_kernel.strace. */
void strace_exited(struct task *t, int status);

/* ---- pieces of the printer, public for the unit tests ---- */

/* strace's default string size: longer strings and buffers print 32 bytes then "...". */
#define STRACE_STRSIZE 32

/* Append len bytes of s as a quoted C string, escaped as strace does ("\n", "\"", "\177", "\0",
 * "\0001" before a digit); hex escapes every byte as \xNN. more: the data went on, so "..." follows
 * the closing quote. */
void strace_put_quoted(struct abi_out *o, const void *s, size_t len, bool more, bool hex);
/* Append the return value as strace shows it for syscall nr with arguments a: "3", "0x7f...",
 * "-1 ENOENT (No such file or directory)", "? ERESTARTSYS (...)", "0x1 (flags FD_CLOEXEC)". */
void strace_put_ret(struct abi_out *o, long nr, const uint64_t args[6], long ret);

#endif
