/* Confinement steps of the boot role, in the order boot.c calls them. Each returns 0 or -errno
 * (and logs which step failed). */
#ifndef RUNSC_C_CONFINE_H
#define RUNSC_C_CONFINE_H

/* Make the mount namespace private and pivot into an empty read-only tmpfs, detaching the old
 * root: afterwards no path names anything of the host. */
int confine_fs(void);
/* Set the UTS namespace's hostname. */
int confine_hostname(const char *hostname);
/* Drop every capability (bounding, ambient, effective, permitted, inheritable), lock the
 * securebits, no core dumps, PR_SET_NO_NEW_PRIVS; stays dumpable for ptrace. */
int confine_caps(void);

#endif
