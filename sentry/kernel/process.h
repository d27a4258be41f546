/* Process life cycle: clone/fork, execve, exit and reaping, wait. */
#ifndef SENTRY_KERNEL_PROCESS_H
#define SENTRY_KERNEL_PROCESS_H

#include <stdint.h>

struct task;
struct thread_group;

/* ---- task.c internals shared with process.c ---- */
struct task *task_alloc(void);
void task_free(struct task *t);
/* Free the struct of a task that has released everything it held. */
void task_struct_free(struct task *t);
/* Drop a reference to t's struct (struct task's refs), freeing it at the last (g_kernel.lock
 * held). */
void task_put_locked(struct task *t);
/* Free a dead (reaped) thread group and its leader's struct and pid (g_kernel.lock held). */
void tg_release_locked(struct thread_group *tg);
struct thread_group *tg_alloc(void);
void tg_free(struct thread_group *tg);
/* Allocate a pid for t (g_kernel.lock held): > 0, or -EAGAIN. */
int pid_alloc_locked(struct task *t);
void pid_free_locked(int pid);

/* On a new task's own host thread, before its first run: activate its address space and make its
 * platform context. 0 or -errno (the task then exits as if killed). */
int process_task_prepare(struct task *t);
/* On a task's own host thread after its run loop ended: release what it holds, make its process
 * a zombie when it is the last thread (notifying the parent), wake vfork parents. */
void process_task_exit(struct task *t);

/* clone(2) with Linux's flags. Returns the child's tid or -errno. */
long process_clone(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
		   uint64_t tls, int exit_signal);
/* execve(2) of path with Sentry-side argv/envp. 0 (the registers are the new image's) or -errno. */
long process_execve(struct task *t, int dirfd, const char *path, char **argv, char **envp,
		    int flags);

#endif
