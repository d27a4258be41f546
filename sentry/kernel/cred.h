/* Credentials: emulated capabilities and supplementary groups of struct creds (task.h), and
 * the transitions Linux's commoncap applies to them on setuid and execve.
 *
 * A task's struct creds is its own (each thread has one, copied on clone); only the task's own
 * host thread changes it, so no lock is needed to read one's own creds. Others (procfs,
 * capget of another task) read them under g_kernel.lock, which setters hold while writing
 * fields others may read (cred_commit). */
#ifndef SENTRY_KERNEL_CRED_H
#define SENTRY_KERNEL_CRED_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/kernel/task.h"

/* Capability numbers (uapi/linux/capability.h). abi/linux.h may define them too. */
#ifndef LINUX_CAP_CHOWN
#define LINUX_CAP_CHOWN 0
#define LINUX_CAP_DAC_OVERRIDE 1
#define LINUX_CAP_DAC_READ_SEARCH 2
#define LINUX_CAP_FOWNER 3
#define LINUX_CAP_FSETID 4
#define LINUX_CAP_KILL 5
#define LINUX_CAP_SETGID 6
#define LINUX_CAP_SETUID 7
#define LINUX_CAP_SETPCAP 8
#define LINUX_CAP_LINUX_IMMUTABLE 9
#define LINUX_CAP_NET_BIND_SERVICE 10
#define LINUX_CAP_NET_ADMIN 12
#define LINUX_CAP_NET_RAW 13
#define LINUX_CAP_SYS_CHROOT 18
#define LINUX_CAP_SYS_PTRACE 19
#define LINUX_CAP_SYS_ADMIN 21
#define LINUX_CAP_SYS_NICE 23
#define LINUX_CAP_SYS_RESOURCE 24
#define LINUX_CAP_MKNOD 27
#define LINUX_CAP_SETFCAP 31
#define LINUX_CAP_MAC_OVERRIDE 32
#define LINUX_CAP_LAST_CAP 40 /* CAP_CHECKPOINT_RESTORE */
#endif
/* Every capability Linux 6.x knows. */
#define CRED_CAP_FULL ((1ULL << (LINUX_CAP_LAST_CAP + 1)) - 1)
/* The capabilities a change of fsuid to or from 0 raises or drops (CAP_FS_MASK). */
#define CRED_CAP_FS_MASK                                                                           \
	((1ULL << LINUX_CAP_CHOWN) | (1ULL << LINUX_CAP_DAC_OVERRIDE) |                            \
	 (1ULL << LINUX_CAP_DAC_READ_SEARCH) | (1ULL << LINUX_CAP_FOWNER) |                        \
	 (1ULL << LINUX_CAP_FSETID) | (1ULL << LINUX_CAP_LINUX_IMMUTABLE) |                        \
	 (1ULL << LINUX_CAP_MAC_OVERRIDE))

/* capget/capset (uapi/linux/capability.h) */
#define LINUX_CAPABILITY_VERSION_1 0x19980330u
#define LINUX_CAPABILITY_VERSION_2 0x20071026u
#define LINUX_CAPABILITY_VERSION_3 0x20080522u
struct linux_cap_header {
	uint32_t version;
	int32_t pid;
};
struct linux_cap_data {
	uint32_t effective, permitted, inheritable;
};
_Static_assert(sizeof(struct linux_cap_data) == 12, "cap_user_data");

/* The credentials of the sandbox's first process: root with every capability. */
void cred_init_root(struct creds *c);

/* Does c hold cap in its effective set? (Linux's capable(), in the sandbox's only user
 * namespace.) */
static inline bool cred_capable(const struct creds *c, int cap)
{
	return (c->cap_effective >> cap) & 1;
}

/* Is gid c's fsgid or one of its supplementary groups (in_group_p)? */
bool cred_in_group(const struct creds *c, uint32_t gid);

/* After a change of uids from old to c, apply cap_task_fix_setuid. setuid, setreuid and
 * setresuid (fs false): leaving uid 0 in every one of ruid/euid/suid drops permitted,
 * effective and ambient (unless keepcaps), euid 0 -> non-0 drops effective, non-0 -> 0 raises
 * effective to permitted. setfsuid (fs true): fsuid 0 <-> non-0 drops or raises the
 * filesystem capabilities. */
void cred_fix_setuid(struct creds *c, const struct creds *old, bool keepcaps, bool fs);
/* execve of a file without file capabilities (cap_bprm_creds_from_file): root (real or
 * effective uid 0) gets permitted = bounding | inheritable (effective too when euid is 0);
 * everyone else keeps only the ambient set. setid: the file was set-user/group-ID (clears the
 * ambient set). */
void cred_exec(struct creds *c, bool setid);

/* capset(2)'s rules (cap_capset) for c changing to (eff, prm, inh): 0 with c updated (ambient
 * trimmed to prm & inh), or -EPERM. */
int cred_capset(struct creds *c, uint64_t eff, uint64_t prm, uint64_t inh);

/* The capability prctls: PR_CAPBSET_READ/DROP, PR_CAP_AMBIENT, PR_GET/SET_SECUREBITS (t's own
 * creds). Returns the prctl result or -errno; -EINVAL for an option that is not one of these. */
long cred_prctl(struct task *t, int option, uint64_t arg2, uint64_t arg3, uint64_t arg4,
		uint64_t arg5);
/* Is option one cred_prctl handles? */
bool cred_prctl_option(int option);

#endif
