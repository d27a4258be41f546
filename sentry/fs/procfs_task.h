/* procfs internals that reach into the process table (procfs_pid.c, procfs_mm.c). */
#ifndef SENTRY_FS_PROCFS_TASK_H
#define SENTRY_FS_PROCFS_TASK_H

#include <stdbool.h>

#include "sentry/fs/procfs.h"

struct task;
struct mm;
struct fdtable;
struct fs_context;
struct file;

/* What of a task /proc pins while it formats (references). */
#define PROC_REF_MM 0x1u
#define PROC_REF_FDT 0x2u
#define PROC_REF_FS 0x4u
#define PROC_REF_EXE 0x8u

struct proc_refs {
	struct mm *mm;
	struct fdtable *fdt;
	struct fs_context *fs;
	struct file *exe;
};

/* The thread tid of live (not reaped) process tgid, or for tid 0 its leader; NULL if gone.
 * g_kernel.lock held. */
struct task *proc_find_task_locked(int tgid, int tid);
/* Take references on what `what` names (PROC_REF_*) of t (of a live thread of its process when
 * tid is 0 and the leader has exited). g_kernel.lock held. */
void proc_refs_take_locked(struct task *t, int tid, unsigned what, struct proc_refs *r);
/* The same, looking the task up: 0 or -ESRCH. Takes g_kernel.lock. */
int proc_refs_get(int tgid, int tid, unsigned what, struct proc_refs *r);
void proc_refs_put(struct proc_refs *r);
/* May the current task see target's addresses and environment (ptrace read access)?
 * g_kernel.lock held. */
bool proc_may_access_locked(const struct task *target);
/* CPUs the Sentry may run on (at least 1). */
int proc_ncpus(void);

/* Memory figures of mm from its VMAs; exe (may be NULL) marks the executable's mappings. Does
 * not fill the arg/env/start_stack fields. */
void proc_mm_info(struct mm *mm, struct file *exe, struct proc_mm_info *mi);

#endif
