/* Confining the Sentry: no view of the host file system, its own hostname, no capabilities.
 *
 * Runs in the boot role, as root of the Sentry's fresh user namespace (which owns its mount and
 * UTS namespaces, so mount, pivot_root and sethostname work there and nowhere else).
 */
#define _GNU_SOURCE
#include "runsc-c/confine.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "common/log.h"

/* Existing directories to mount the empty root on (any will do: it only needs to exist). */
static const char *const pivot_dirs[] = {"/tmp", "/run", "/mnt", "/dev", "/proc"};

/* Log the failed step with errno's text; returns -errno. */
static int fail(const char *step)
{
	int e = errno;
	log_error("confine: %s: %s", step, strerror(e));
	return -e;
}

int confine_fs(void)
{
	const char *dir = NULL;
	struct stat st;

	/* Nothing we do may propagate back to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("make / private");
	for (size_t i = 0; i < sizeof(pivot_dirs) / sizeof(pivot_dirs[0]) && !dir; i++)
		if (stat(pivot_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			dir = pivot_dirs[i];
	if (!dir) {
		log_error("confine: no directory to mount the empty root on");
		return -ENOENT;
	}
	/* The new root: empty, read-only, tiny. */
	if (mount("none", dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=4,mode=0555") < 0)
		return fail("mount the empty root");
	if (chdir(dir) < 0)
		return fail("chdir to the empty root");
	/* pivot_root(".", "."): the old root ends up stacked on "." and is detached next. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detach the old root");
	if (chdir("/") < 0)
		return fail("chdir /");
	return 0;
}

int confine_hostname(const char *hostname)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		return fail("sethostname");
	return 0;
}

int confine_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {0};
	const struct rlimit no_core = {0, 0};

	/* Root in this namespace gets nothing back from exec or setuid (there is no exec left
	 * in the allowlist either; belt and braces). Needs CAP_SETPCAP, so first. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					 SECBIT_NO_CAP_AMBIENT_RAISE |
					 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return fail("securebits");
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap) < 0)
			return fail("drop from the bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail("clear ambient caps");
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail("capset");
	/* A core dump would carry application memory to wherever the host's core_pattern says. */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return fail("RLIMIT_CORE");
	/* The Sentry holds a host fd per open file of the sandbox, and goferfs keeps more
	 * (sentry/fs/goferfs.c, idle_fds_cap): as many as the host lets it (a failure only keeps
	 * fewer). */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("no_new_privs");
	/* Must stay dumpable: the ptrace platform traces the stubs it forks. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return fail("dumpable");
	return 0;
}
