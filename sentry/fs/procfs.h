/* procfs internals shared by sentry/fs/procfs*.c: the text buffer generated files are written
 * into, the plain snapshots of a process the formatters take, and the formatters themselves
 * (pure functions, unit-tested in tests/unit/test_procfs.c). */
#ifndef SENTRY_FS_PROCFS_H
#define SENTRY_FS_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/linux.h"

struct file;
struct dentry;
struct inode;
struct path;
struct mount;

/* ---- a growable text buffer ---- */
struct pbuf {
	char *data;
	size_t len, cap;
	bool oom; /* an allocation failed: the content is truncated; open fails with ENOMEM */
};

void pbuf_printf(struct pbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pbuf_put(struct pbuf *b, const void *p, size_t n);
void pbuf_puts(struct pbuf *b, const char *s);
/* Pad with spaces until the current line is col characters long (seq_pad without the char). */
void pbuf_pad_line(struct pbuf *b, size_t col);
void pbuf_free(struct pbuf *b);

/* ---- a process as /proc/PID/{stat,status,statm} show it ---- */

/* Memory figures of a process (zero, has_mm false, for one with no mm: a zombie). Sizes in
 * bytes; the address fields are Linux's mm_struct fields of the same names. */
struct proc_mm_info {
	bool has_mm;
	uint64_t total_vm;			/* every mapping */
	uint64_t rss_anon, rss_file, rss_shmem; /* resident, as far as the Sentry knows */
	uint64_t data_vm;			/* private writable, not stack */
	uint64_t stack_vm;			/* the growsdown stack */
	uint64_t exec_vm;			/* executable, not writable */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

struct proc_task_info {
	int pid; /* the thread's id for /proc/PID/task/TID, else the process id */
	int tgid;
	int ppid; /* 0 for init */
	int pgid, sid;
	int tracer_pid;
	char comm[16];
	char state;	/* R S D T t Z X */
	int tty_nr;	/* new_encode_dev of the controlling terminal, 0 for none */
	int tpgid;	/* its foreground process group, -1 for none */
	uint32_t flags; /* PF_* */
	int nthreads;
	uint64_t start_ticks;		       /* since boot, in clock ticks (USER_HZ 100) */
	uint64_t utime, stime, cutime, cstime; /* clock ticks */
	int64_t nice;
	uint64_t sig_pending, shared_pending, sig_blocked, sig_ignored, sig_caught;
	uint32_t uid[4], gid[4]; /* real, effective, saved, filesystem */
	uint32_t ngroups;
	uint32_t groups[32];
	uint32_t umask;
	bool no_fs;  /* no filesystem context (a zombie): no Umask line */
	int fd_size; /* slots of the fd table (FDSize) */
	uint64_t rsslim;
	int exit_signal;
	int exit_code;
	bool no_new_privs;
	int processor;
	uint64_t sigq_count, sigq_limit;
	int ncpus; /* for Cpus_allowed */
	int policy; /* SCHED_* */
	/* capability sets (sentry/kernel/cred.h); without caps_set, status shows uid 0 with the
	 * full set and everyone else with none */
	bool caps_set;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	struct proc_mm_info mm;
};

/* State name for status: "R (running)" and so on. */
const char *proc_state_name(char state);
/* One line of /proc/PID/stat (52 fields, Linux 6.x order), newline included. permitted: the
 * reader may see addresses (Linux's ptrace check); else they read 0 (1 for code bounds). */
void proc_fmt_stat(struct pbuf *b, const struct proc_task_info *ti, bool permitted);
/* /proc/PID/status, field for field as Linux 6.x writes it. */
void proc_fmt_status(struct pbuf *b, const struct proc_task_info *ti);
/* /proc/PID/statm: seven page counts. */
void proc_fmt_statm(struct pbuf *b, const struct proc_task_info *ti);
/* /proc/PID/limits from the process's rlimits (LINUX_RLIM_NLIMITS entries). */
void proc_fmt_limits(struct pbuf *b, const struct linux_rlimit *rl);
/* Append comm to b as status's Name: does: escapes \n as "\n" and \\ as "\\". */
void proc_put_escaped_comm(struct pbuf *b, const char *comm);

/* ---- /proc/PID/maps ---- */
struct proc_map_line {
	uint64_t start, end;
	int prot; /* LINUX_PROT_* */
	bool shared;
	uint64_t offset;
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	const char *name; /* path, "[heap]", "[stack]", or NULL */
};
/* One maps line as show_map_vma writes it (the name starts at column 73). */
void proc_fmt_maps_line(struct pbuf *b, const struct proc_map_line *m);

/* ---- /proc/PID/mounts and mountinfo ---- */
struct proc_mount_line {
	int id, parent_id;
	uint32_t dev_major, dev_minor;
	const char *root;	/* path of the mount's root within its filesystem: "/" */
	const char *mountpoint; /* absolute */
	const char *fstype;
	const char *source;
	bool readonly;
	const char *mnt_opts;	/* after rw/ro: ",nosuid,nodev..." or "" */
	const char *super_opts; /* after rw/ro in the super options, or "" */
};
void proc_fmt_mounts_line(struct pbuf *b, const struct proc_mount_line *m);
void proc_fmt_mountinfo_line(struct pbuf *b, const struct proc_mount_line *m);
/* Escape space, tab, newline and backslash as octal (\040...), as Linux's mangle() does. */
void proc_put_mangled(struct pbuf *b, const char *s);

/* ---- system-wide files (procfs_sys.c) and per-process ones (procfs_pid.c) ---- */

/* A generator fills b for the file it serves. tgid/tid name the process (0 for system files;
 * tid 0 means the process rather than one thread). 0 or -errno (ESRCH: the process is gone). */
typedef int (*proc_gen_fn)(struct pbuf *b, int tgid, int tid);

int proc_gen_cpuinfo(struct pbuf *b, int tgid, int tid);
int proc_gen_meminfo(struct pbuf *b, int tgid, int tid);
int proc_gen_uptime(struct pbuf *b, int tgid, int tid);
int proc_gen_loadavg(struct pbuf *b, int tgid, int tid);
int proc_gen_stat_sys(struct pbuf *b, int tgid, int tid);
int proc_gen_filesystems(struct pbuf *b, int tgid, int tid);
int proc_gen_version(struct pbuf *b, int tgid, int tid);
int proc_gen_cmdline_sys(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_hostname(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_ostype(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_osrelease(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_version(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_boot_id(struct pbuf *b, int tgid, int tid);
int proc_gen_sys_uuid(struct pbuf *b, int tgid, int tid);
/* /proc/net (procfs_net.c) */
int proc_gen_net_tcp(struct pbuf *b, int tgid, int tid);
int proc_gen_net_tcp6(struct pbuf *b, int tgid, int tid);
int proc_gen_net_udp(struct pbuf *b, int tgid, int tid);
int proc_gen_net_udp6(struct pbuf *b, int tgid, int tid);
int proc_gen_net_unix(struct pbuf *b, int tgid, int tid);
int proc_gen_net_dev(struct pbuf *b, int tgid, int tid);

int proc_gen_pid_stat(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_status(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_statm(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_cmdline(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_environ(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_comm(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_maps(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_limits(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_mounts(struct pbuf *b, int tgid, int tid);
int proc_gen_pid_mountinfo(struct pbuf *b, int tgid, int tid);

/* Writes: comm sets the thread's name; 0 or -errno. */
int proc_write_pid_comm(int tgid, int tid, const char *buf, size_t n);

/* The kernel identity the Sentry shows (uname and /proc agree). */
#define PROC_OSTYPE "Linux"
#define PROC_OSRELEASE "6.1.0"
#define PROC_OSVERSION "#1 SMP PREEMPT_DYNAMIC runsc-c"

/* Does a live (not reaped) process tgid exist / does thread tid belong to live process tgid?
 * Take g_kernel.lock themselves. */
bool proc_tg_exists(int tgid);
bool proc_thread_exists(int tgid, int tid);
/* The real/effective ids that own /proc/PID (the process's euid/egid). false if gone. */
bool proc_tg_owner(int tgid, uint32_t *uid, uint32_t *gid);
/* The live thread ids of tgid, ascending, into out (at most max); their count. */
int proc_thread_ids(int tgid, int *out, int max);
/* The live process ids, ascending, from min on, into out (at most max); their count. */
int proc_tg_ids(int min, int *out, int max);

/* Magic links of a process (tid 0) or thread: the executable, cwd, root. 0 with references
 * in *out, or -ENOENT. */
int proc_pid_exe(int tgid, int tid, struct path *out);
int proc_pid_cwd(int tgid, int tid, struct path *out);
int proc_pid_root(int tgid, int tid, struct path *out);
/* A new reference to the file at fd of the process or thread, or NULL. cloexec may be NULL. */
struct file *proc_pid_fd_file(int tgid, int tid, int fd, bool *cloexec);
/* The lowest open fd >= from in the process's or thread's table, or -1. */
int proc_pid_next_fd(int tgid, int tid, int from);
/* /proc/PID/fdinfo/FD. 0 or -ENOENT. */
int proc_gen_fdinfo(struct pbuf *b, int tgid, int tid, int fd);

/* The sandbox's mounts (procfs_mounts.c), for mounts, mountinfo and fdinfo's mnt_id. */
/* The mount id /proc shows for mnt (0 for internal mounts). */
int proc_mount_id(const struct mount *mnt);

#endif
