/* Handlers of the signal family defined in sys_kill.c and listed in sys_signal.c's table. */
#ifndef SENTRY_SYSCALLS_SYS_SIGNAL_H
#define SENTRY_SYSCALLS_SYS_SIGNAL_H

#include "sentry/syscalls/syscalls.h"

SYSCALL_DEFINE(kill);
SYSCALL_DEFINE(tgkill);
SYSCALL_DEFINE(tkill);
SYSCALL_DEFINE(rt_sigqueueinfo);
SYSCALL_DEFINE(rt_tgsigqueueinfo);

#endif
