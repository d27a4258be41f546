/* Linux flag and constant names, formatted the way strace prints them (O_RDONLY|O_CLOEXEC). */
#ifndef ABI_FLAGS_H
#define ABI_FLAGS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the output buffer every formatter writes into ---- */

/* A bounded string builder: writes what fits, always NUL-terminates (when cap > 0), and counts
 * the full length in len, so len >= cap means the output was cut. */
struct abi_out {
	char *buf;
	size_t cap;
	size_t len;
};

void abi_out_init(struct abi_out *o, char *buf, size_t cap);
void abi_out_puts(struct abi_out *o, const char *s);
void abi_out_putc(struct abi_out *o, char c);
void abi_out_printf(struct abi_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void abi_out_vprintf(struct abi_out *o, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* ---- generic tables ---- */

struct abi_xlat {
	uint64_t val;
	const char *name;
};

/* Append the name of the entry equal to v; when none, v in hex followed by a C comment holding
 * `unknown` (strace's "0x4d" plus "CLOCK_???" commented), or plain hex when unknown is NULL. */
void abi_put_xlat(struct abi_out *o, const struct abi_xlat *tab, size_t n, uint64_t v,
		  const char *unknown);
/* Append v as NAME|NAME|0x...: entries are tried in table order and each whose bits are all set
 * in what is left is printed and cleared (so list multi-bit values first). v == 0 prints zero
 * (or "0" when NULL); bits no entry names print as |0x..., or as 0x... plus an `unknown`
 * comment when nothing was named. */
void abi_put_flags(struct abi_out *o, const struct abi_xlat *tab, size_t n, uint64_t v,
		   const char *zero, const char *unknown);

/* ---- formatters ----
 * Each writes into buf (at most n bytes, NUL-terminated when n > 0) and returns the length of the
 * full text, like snprintf: a return >= n means the text was cut. */

int abi_fmt_oflags(char *buf, size_t n, uint64_t v);	     /* O_RDONLY|O_CLOEXEC */
int abi_fmt_oflags_noacc(char *buf, size_t n, uint64_t v);   /* 0, O_CLOEXEC (pipe2, dup3) */
int abi_fmt_fd_flags(char *buf, size_t n, uint64_t v);	     /* FD_CLOEXEC */
int abi_fmt_mode(char *buf, size_t n, uint64_t v);	     /* S_IFREG|0644, 0755, 000 */
int abi_fmt_dev(char *buf, size_t n, uint64_t v);	     /* makedev(0x1, 0x3) */
int abi_fmt_atflags(char *buf, size_t n, uint64_t v);	     /* AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH */
int abi_fmt_access_atflags(char *buf, size_t n, uint64_t v); /* AT_EACCESS (faccessat2) */
int abi_fmt_statx_atflags(char *buf, size_t n, uint64_t v);  /* AT_STATX_SYNC_AS_STAT */
int abi_fmt_statx_attrs(char *buf, size_t n, uint64_t v);    /* STATX_ATTR_MOUNT_ROOT */
int abi_fmt_statx_mask(char *buf, size_t n, uint64_t v);     /* STATX_BASIC_STATS|STATX_MNT_ID */
int abi_fmt_access_mode(char *buf, size_t n, uint64_t v);    /* F_OK, R_OK|W_OK */
int abi_fmt_whence(char *buf, size_t n, uint64_t v);	     /* SEEK_SET */
int abi_fmt_fcntl_cmd(char *buf, size_t n, uint64_t v);	     /* F_GETFL */
int abi_fmt_ioctl_cmd(char *buf, size_t n, uint64_t v);	   /* TCGETS, _IOC(_IOC_READ, 0x54, ...) */
int abi_fmt_prot(char *buf, size_t n, uint64_t v);	   /* PROT_READ|PROT_WRITE, PROT_NONE */
int abi_fmt_mapflags(char *buf, size_t n, uint64_t v);	   /* MAP_PRIVATE|MAP_ANONYMOUS */
int abi_fmt_mremap_flags(char *buf, size_t n, uint64_t v); /* MREMAP_MAYMOVE */
int abi_fmt_madvise(char *buf, size_t n, uint64_t v);	   /* MADV_DONTNEED */
int abi_fmt_fadvise(char *buf, size_t n, uint64_t v);	   /* POSIX_FADV_SEQUENTIAL */
int abi_fmt_clockid(char *buf, size_t n, uint64_t v);	   /* CLOCK_MONOTONIC */
int abi_fmt_timer_flags(char *buf, size_t n, uint64_t v);  /* TIMER_ABSTIME */
int abi_fmt_arch_prctl(char *buf, size_t n, uint64_t v);   /* ARCH_SET_FS */
int abi_fmt_prctl_option(char *buf, size_t n, uint64_t v); /* PR_SET_NAME */
int abi_fmt_grnd_flags(char *buf, size_t n, uint64_t v);   /* GRND_NONBLOCK */
int abi_fmt_mfd_flags(char *buf, size_t n, uint64_t v);	   /* MFD_CLOEXEC */
int abi_fmt_rlimit_res(char *buf, size_t n, uint64_t v);   /* RLIMIT_NOFILE */
int abi_fmt_rlim(char *buf, size_t n, uint64_t v);	   /* RLIM64_INFINITY, 8192*1024, 20 */

/* Signals (abi/signals.c). */
/* "SIGSEGV", "SIGRTMIN" (32), "SIGRT_1" (33) ... "SIGRT_32" (64); NULL outside 1..64. */
const char *abi_signal_name(int sig);
int abi_fmt_signum(char *buf, size_t n, int64_t v);	/* SIGSEGV, or decimal */
int abi_fmt_sigset(char *buf, size_t n, uint64_t mask); /* [INT TERM], ~[RTMIN RT_1], [] */
int abi_fmt_sighow(char *buf, size_t n, uint64_t v);	/* SIG_BLOCK */
int abi_fmt_sa_flags(char *buf, size_t n, uint64_t v);	/* SA_RESTORER|SA_RESTART */
int abi_fmt_ss_flags(char *buf, size_t n, uint64_t v);	/* SS_DISABLE */

/* Processes and sockets (abi/signals.c). */
/* clone/unshare flags; with_signal: the low byte is the exit signal (clone: ...|SIGCHLD). */
int abi_fmt_clone_flags(char *buf, size_t n, uint64_t v, bool with_signal);
int abi_fmt_futex_op(char *buf, size_t n, uint64_t v);	   /* FUTEX_WAIT_PRIVATE */
int abi_fmt_wait_options(char *buf, size_t n, uint64_t v); /* WNOHANG|__WALL */
/* A wait status: {WIFEXITED(s) && WEXITSTATUS(s) == 0}, {WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV}.
 */
int abi_fmt_wstatus(char *buf, size_t n, int status);
int abi_fmt_sock_domain(char *buf, size_t n, uint64_t v); /* AF_UNIX */
int abi_fmt_sock_type(char *buf, size_t n, uint64_t v);	  /* SOCK_STREAM|SOCK_CLOEXEC */
int abi_fmt_sock_flags(char *buf, size_t n, uint64_t v);  /* SOCK_CLOEXEC|SOCK_NONBLOCK */
int abi_fmt_ipproto(char *buf, size_t n, uint64_t v);	  /* IPPROTO_TCP */

#endif
