/* The "everything else" family (sys_res_table in sys_res.c): resource usage, scheduling,
 * priorities, the UTS names, credentials and capabilities (sys_cred.c), extended attributes
 * (sys_xattr.c), splice/tee/vmsplice and fallocate (sys_splice.c). Private to
 * sentry/syscalls/. */
#ifndef SENTRY_SYSCALLS_SYS_RES_H
#define SENTRY_SYSCALLS_SYS_RES_H

#include "sentry/syscalls/syscalls.h"

/* sys_cred.c */
SYSCALL_DEFINE(capget);
SYSCALL_DEFINE(capset);
SYSCALL_DEFINE(getgroups);
SYSCALL_DEFINE(setgroups);
SYSCALL_DEFINE(setuid);
SYSCALL_DEFINE(setgid);
SYSCALL_DEFINE(setreuid);
SYSCALL_DEFINE(setregid);
SYSCALL_DEFINE(setresuid);
SYSCALL_DEFINE(setresgid);
SYSCALL_DEFINE(getresuid);
SYSCALL_DEFINE(getresgid);
SYSCALL_DEFINE(setfsuid);
SYSCALL_DEFINE(setfsgid);

/* sys_xattr.c */
SYSCALL_DEFINE(getxattr);
SYSCALL_DEFINE(lgetxattr);
SYSCALL_DEFINE(fgetxattr);
SYSCALL_DEFINE(setxattr);
SYSCALL_DEFINE(lsetxattr);
SYSCALL_DEFINE(fsetxattr);
SYSCALL_DEFINE(listxattr);
SYSCALL_DEFINE(llistxattr);
SYSCALL_DEFINE(flistxattr);
SYSCALL_DEFINE(removexattr);
SYSCALL_DEFINE(lremovexattr);
SYSCALL_DEFINE(fremovexattr);

/* sys_splice.c */
SYSCALL_DEFINE(splice);
SYSCALL_DEFINE(tee);
SYSCALL_DEFINE(vmsplice);
SYSCALL_DEFINE(fallocate);

#endif
