/* Linux errno values by name and strace's description of each. */
#ifndef ABI_ERRNO_H
#define ABI_ERRNO_H

#include <errno.h>

/* The host's <errno.h> is Linux x86-64's, so the Sentry uses EBADF etc. directly. These are the
 * kernel-internal restart codes a syscall may return that <errno.h> does not define; the
 * application never sees them (the kernel restarts the call or turns them into EINTR). */
#define LINUX_ERESTARTSYS 512
#define LINUX_ERESTARTNOINTR 513
#define LINUX_ERESTARTNOHAND 514
#define LINUX_ERESTART_RESTARTBLOCK 516

/* Largest errno a syscall return can carry: -4095..-1 are errors. */
#define LINUX_MAX_ERRNO 4095

/* "ENOENT" for ENOENT (a positive number), NULL when err is not a Linux errno. Static string. */
const char *abi_errno_name(int err);
/* "No such file or directory", as strace prints it; NULL when err is not a Linux errno. */
const char *abi_errno_desc(int err);

#endif
