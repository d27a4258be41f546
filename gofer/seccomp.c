/* The gofer's seccomp allowlist: only what gofer_serve (and malloc, and logging) needs. */
#define _GNU_SOURCE
#include "gofer/gofer.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "common/util.h"

/* The allowlist: 22 syscalls, and 9 more when some root is writable. Everything else kills
 * the whole gofer (SCMP_ACT_KILL_PROCESS), whichever of its threads makes it (TSYNC).
 *
 *   recvmsg, sendmsg       the request sockets only (fd == sock or a channel's)
 *   openat2                every path lookup and reopen (RESOLVE_* flags are in memory,
 *                          which seccomp cannot read; the lookups are beneath the pivoted,
 *                          read-only root anyway)
 *   newfstatat, fstat      stat of fids and of reopened fds
 *   readlinkat             READLINK on an O_PATH fd
 *   fstatfs                STATFS (on an O_PATH fd)
 *   getdents64, lseek      GETDENTS (lseek to the cookie)
 *   fcntl                  F_SETFL only (to clear O_NONBLOCK before donating an fd)
 *   close
 *   write                  the log fd only
 *   getpid                 log lines carry the pid
 *   futex                  FUTEX_WAIT_PRIVATE and FUTEX_WAKE_PRIVATE only: the lock the
 *                          connections' threads take turns with
 *   brk, mmap, munmap, mremap, madvise, mprotect   malloc; mmap and mprotect without PROT_EXEC
 *   exit_group, exit
 * With a writable root (the mutations; paths are single names beneath an fid's fd, and the
 * fds are beneath the roots, so they reach nothing else):
 *   mkdirat, unlinkat, renameat2, symlinkat   MKDIR, UNLINK, RENAME, SYMLINK
 *   linkat                 LINK, only with AT_EMPTY_PATH (the file's own O_PATH fd)
 *   fchownat               SETATTR uid/gid, only with AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW
 *   fchmod, ftruncate      SETATTR mode/size on a reopened fd
 *   utimensat              SETATTR times (futimens: a NULL path)
 * CREATE and OPEN for writing are openat2 already.
 */
#define GOFER_SECCOMP_COUNT 22
#define GOFER_SECCOMP_RW_COUNT 9

int gofer_install_seccomp(int sock, const struct gofer_channels *chans, int log_fd,
			  bool writable)
{
	scmp_filter_ctx ctx;
	int n = 0, err = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;

#define ALLOW(name, ...)                                                                           \
	do {                                                                                       \
		if (err == 0)                                                                      \
			err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), __VA_ARGS__);  \
		n++;                                                                               \
	} while (0)

	ALLOW(recvmsg, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	ALLOW(sendmsg, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	/* (more rules for the same two calls: not counted) */
	for (uint32_t i = 0; chans && i < chans->n && err == 0; i++) {
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)chans->srv[i]));
		if (err == 0)
			err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)chans->srv[i]));
	}
	ALLOW(openat2, 0);
	ALLOW(newfstatat, 0);
	ALLOW(fstat, 0);
	ALLOW(readlinkat, 0);
	ALLOW(fstatfs, 0);
	ALLOW(getdents64, 0);
	ALLOW(lseek, 0);
	ALLOW(fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	ALLOW(close, 0);
	ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)log_fd));
	ALLOW(getpid, 0);
	ALLOW(futex, 1, SCMP_A1(SCMP_CMP_EQ, FUTEX_WAIT_PRIVATE));
	if (err == 0) /* (the same call again: not counted) */
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
				       SCMP_A1(SCMP_CMP_EQ, FUTEX_WAKE_PRIVATE));
	ALLOW(brk, 0);
	ALLOW(mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ALLOW(munmap, 0);
	ALLOW(mremap, 0);
	ALLOW(madvise, 0);
	ALLOW(mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ALLOW(exit_group, 0);
	ALLOW(exit, 0);
	if (writable) {
		ALLOW(mkdirat, 0);
		ALLOW(unlinkat, 0);
		ALLOW(renameat2, 0);
		ALLOW(symlinkat, 0);
		ALLOW(linkat, 1, SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH));
		ALLOW(fchownat, 1, SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
		ALLOW(fchmod, 0);
		ALLOW(ftruncate, 0);
		ALLOW(utimensat, 1, SCMP_A1(SCMP_CMP_EQ, 0));
	}
#undef ALLOW

	if (err == 0 && n != GOFER_SECCOMP_COUNT + (writable ? GOFER_SECCOMP_RW_COUNT : 0))
		err = -EINVAL;
	if (err == 0)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (err == 0)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}
