/* The gofer's life: namespaces, a read-only pivoted root, fewer capabilities, seccomp, serve. */
#define _GNU_SOURCE
#include "gofer/gofer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"

/* Filesystems of the host kernel's own state (processes, devices, cgroups...) that a bind of
 * "/" brings along and that the sandbox has no business reading through the gofer. The
 * Sentry has its own /proc and /dev. */
static const char *const pseudo_fs[] = {
    "proc",	   "sysfs",  "cgroup",	"cgroup2",    "debugfs", "tracefs",
    "securityfs",  "bpf",    "fusectl", "configfs",   "pstore",	 "efivarfs",
    "binfmt_misc", "autofs", "nsfs",	"rpc_pipefs", "nfsd",
};

#define MAX_PSEUDO 256

struct pseudo_list {
	char *path[MAX_PSEUDO]; /* beneath the root-to-be, starting with '/' */
	int n;
};

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int err = n < 0 ? -errno : (size_t)n == strlen(s) ? 0 : -EIO;
	close(fd);
	return err;
}

/* New mount, ipc and uts namespaces, and a network namespace unless have_net (joined one
 * already); a new user namespace first (mapping our ids to 0) only if we may not make them in
 * the current one. */
static int enter_namespaces(bool have_net)
{
	const int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (have_net ? 0 : CLONE_NEWNET);
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int err;

	if (unshare(flags) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	if ((err = write_file("/proc/self/setgroups", "deny")) < 0)
		return err;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if ((err = write_file("/proc/self/uid_map", map)) < 0)
		return err;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if ((err = write_file("/proc/self/gid_map", map)) < 0)
		return err;
	return unshare(flags) < 0 ? -errno : 0;
}

/* Undo mountinfo's octal escapes (\040 for a space...) in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

static int is_pseudo(const char *fstype)
{
	for (size_t i = 0; i < ARRAY_SIZE(pseudo_fs); i++)
		if (strcmp(fstype, pseudo_fs[i]) == 0)
			return 1;
	return 0;
}

/* The pseudo filesystems mounted beneath root (a real path), as paths relative to root. */
static void find_pseudo(const char *root, struct pseudo_list *l)
{
	size_t rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (f == NULL) {
		log_warn("no /proc/self/mountinfo (%d): host pseudo filesystems stay", errno);
		return;
	}
	while (getline(&line, &cap, f) > 0 && l->n < MAX_PSEUDO) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source opts */
		char *save = NULL, *mp = NULL, *tok;
		int field = 0, after_dash = 0;
		const char *fstype = NULL;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (++field == 5)
				mp = tok;
			else if (after_dash) {
				fstype = tok;
				break;
			} else if (field > 6 && strcmp(tok, "-") == 0)
				after_dash = 1;
		}
		if (mp == NULL || fstype == NULL || !is_pseudo(fstype))
			continue;
		unescape(mp);
		if (strncmp(mp, root, rlen) != 0 || mp[rlen] != '/' || mp[rlen + 1] == '\0')
			continue;
		char *rel = strdup(mp + rlen);
		if (rel)
			l->path[l->n++] = rel;
	}
	free(line);
	fclose(f);
}

/* Is path beneath another listed path (a directory of it)? */
static bool beneath_another(const struct pseudo_list *l, const char *path)
{
	for (int i = 0; i < l->n; i++) {
		size_t n = strlen(l->path[i]);
		if (strncmp(path, l->path[i], n) == 0 && path[n] == '/')
			return true;
	}
	return false;
}

/* Take the listed mounts out of view: detach each outermost one (with everything mounted
 * beneath it: /sys takes /sys/fs/cgroup/... along, in one umount rather than one per cgroup
 * controller, each of which costs the host an RCU grace period), or, where that is refused (a
 * user namespace locks the mounts it inherited to their parents), cover it with an empty
 * read-only tmpfs, which hides what lies beneath it too. A directory left in view is fatal:
 * the host's /proc must not be served. Returns 0 or -errno. Frees the list. */
static int hide_pseudo(struct pseudo_list *l)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int err = 0;

	for (int i = 0; i < l->n; i++) {
		const char *p = l->path[i];
		if (beneath_another(l, p))
			continue;
		if (err == 0 && umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != ENOENT) {
			struct stat st;
			if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
				log_warn("cannot detach %s (%d), not a directory to cover", p,
					 errno);
			else if (mount("none", p, "tmpfs", ro, "size=4k,mode=0555") < 0) {
				err = -errno;
				log_error("cannot detach or cover %s: %d", p, errno);
			}
		}
	}
	for (int i = 0; i < l->n; i++)
		free(l->path[i]);
	l->n = 0;
	return err;
}

/* Make rootfs the root of our mount namespace: a recursive clone of it (open_tree), made
 * read-only, nosuid and nodev all the way down in one call (mount_setattr AT_RECURSIVE; a
 * MS_REMOUNT would only reach the top mount of a recursive bind), attached over rootfs
 * itself and entered with pivot_root(".", "."). Attaching through the tree's fd and
 * fchdir'ing into it also works for rootfs "/", where a path lookup of "/" would give the
 * old root under the new mount rather than the new mount. */
static int pivot_into(const char *rootfs)
{
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	    .propagation = MS_PRIVATE,
	};
	struct pseudo_list pseudo = {.n = 0};
	char real[PATH_MAX];
	_cleanup_close_ int tree = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (realpath(rootfs, real) == NULL)
		return -errno;
	find_pseudo(real, &pseudo);
	tree = open_tree(AT_FDCWD, real, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		goto fail;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		goto fail;
	if (move_mount(tree, "", AT_FDCWD, real, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		goto fail;
	if (fchdir(tree) < 0)
		goto fail;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		goto fail;
	/* The old root now sits on top of the new one, at ".": detach it and all beneath. */
	if (umount2(".", MNT_DETACH) < 0)
		goto fail;
	if (chdir("/") < 0)
		goto fail;
	return hide_pseudo(&pseudo);
fail:;
	int err = -errno;
	for (int i = 0; i < pseudo.n; i++)
		free(pseudo.path[i]);
	return err;
}

/* A detached clone of the mount tree at path (open_tree), nosuid, nodev, private, and
 * read-only unless writable. Returns the fd (an O_PATH-like fd of the clone's root) or -errno. */
static int clone_tree(const char *path, bool writable)
{
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY),
	    .propagation = MS_PRIVATE,
	};
	int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

	if (fd < 0)
		return -errno;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Open bind source b as root r (before the pivot, while host paths still resolve): a
 * directory as the clone of itself, a regular file as its name in the clone of its
 * directory. *name_buf holds the file's name. Returns 0 or -errno. */
static int open_bind(const struct gofer_bind *b, struct gofer_root *r, char *name_buf,
		     size_t name_size)
{
	char dir[PATH_MAX];
	struct stat st;

	if (b->source[0] != '/' || strlen(b->source) >= sizeof(dir))
		return -EINVAL;
	if (stat(b->source, &st) < 0)
		return -errno;
	*r = (struct gofer_root){.fd = -1, .writable = b->writable};
	if (S_ISDIR(st.st_mode)) {
		r->fd = clone_tree(b->source, b->writable);
		return r->fd < 0 ? r->fd : 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL; /* no device, FIFO or socket of the host */
	strcpy(dir, b->source);
	char *slash = strrchr(dir, '/');
	if (strlen(slash + 1) >= name_size || slash[1] == '\0')
		return -EINVAL;
	strcpy(name_buf, slash + 1);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	r->name = name_buf;
	r->fd = clone_tree(dir, b->writable);
	return r->fd < 0 ? r->fd : 0;
}

/* Close every fd but keep_a and keep_b (either may be -1). */
static void close_other_fds(int keep_a, int keep_b)
{
	int lo = MIN(keep_a, keep_b), hi = MAX(keep_a, keep_b);
	int from = 0;

	if (lo >= 0) {
		if (lo > from)
			close_range((unsigned)from, (unsigned)lo - 1, 0);
		from = lo + 1;
	}
	if (hi >= 0 && hi != lo) {
		if (hi > from)
			close_range((unsigned)from, (unsigned)hi - 1, 0);
		from = hi + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

/* Keep only what reading any file of the root needs: CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (the Sentry checks the application's permissions itself). */
static int drop_capabilities(void)
{
	const uint64_t keep = (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_DAC_READ_SEARCH);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	for (int cap = 0; cap < 64; cap++)
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

/* Join the network namespace netns_fd refers to (closed here). Only a caller with
 * CAP_SYS_ADMIN over it can (the CLI as root): false otherwise, and the gofer makes its own. */
static bool join_netns(int netns_fd)
{
	if (netns_fd < 0)
		return false;
	bool joined = setns(netns_fd, CLONE_NEWNET) == 0;
	if (!joined)
		log_debug("gofer: not joining the Sentry's network namespace (%s): a new one",
			  strerror(errno));
	close(netns_fd);
	return joined;
}

int gofer_main(int sock, const char *rootfs, const struct gofer_bind *binds, size_t nbinds,
	       int netns_fd)
{
	struct rlimit rl;
	struct gofer_root *roots = NULL;
	char(*names)[256] = NULL;
	bool writable = false;
	size_t n = 0;
	int err;

	log_set_role("gofer");
	bool have_net = join_netns(netns_fd);
	close_other_fds(sock, log_fd());
	if (nbinds >= GOFER_ROOTS_MAX) {
		err = -E2BIG;
		log_error("too many bind mounts: %zu", nbinds);
		goto fail;
	}
	roots = calloc(nbinds + 1, sizeof(*roots));
	names = calloc(nbinds + 1, sizeof(*names));
	if (!roots || !names) {
		err = -ENOMEM;
		log_error("out of memory");
		goto fail;
	}
	if ((err = enter_namespaces(have_net)) < 0) {
		log_error("cannot enter new namespaces: %s", strerror(-err));
		goto fail;
	}
	for (size_t i = 0; i < nbinds; i++, n++) {
		if ((err = open_bind(&binds[i], &roots[i + 1], names[i + 1], sizeof(names[0]))) <
		    0) {
			log_error("cannot open bind mount source %s: %s", binds[i].source,
				  strerror(-err));
			goto fail;
		}
		writable |= binds[i].writable;
	}
	if ((err = pivot_into(rootfs)) < 0) {
		log_error("cannot make %s the root: %s", rootfs, strerror(-err));
		goto fail;
	}
	roots[0] = (struct gofer_root){.fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)};
	if (roots[0].fd < 0) {
		err = -errno;
		log_error("cannot open the root: %s", strerror(-err));
		goto fail;
	}
	n = nbinds + 1; /* roots[0..n) hold fds from here on */
	/* One O_PATH fd per fid: let the table reach its limit if the host allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0);
	thread_short_slice(GOFER_SLICE_NS);
	if ((err = drop_capabilities()) < 0) {
		log_error("cannot drop capabilities: %s", strerror(-err));
		goto fail;
	}
	/* A thread per CPU, each serving a connection of its own (CHANNELS): without them, one
	 * thread followed the Sentry's threads from CPU to CPU, and each move cost ~190 us of
	 * the round trip it came with (~12 a gcc run, 2.2 ms). After the capabilities are
	 * dropped, which is per thread: a new thread starts with its creator's. The filter
	 * (TSYNC) and no_new_privs reach them all. */
	static struct gofer_channels chans;
	gofer_channels_open(&chans);
	if ((err = gofer_install_seccomp(sock, &chans, log_fd(), writable)) < 0) {
		log_error("cannot install seccomp filter: %s", strerror(-err));
		goto fail;
	}
	/* From here on only the allowlisted syscalls: no strerror (locale files), no stdio. */
	err = gofer_serve_roots(sock, roots, n, &chans);
	close(sock);
	/* names and roots stay allocated: free() is allowed, but the process ends now. */
	if (err < 0) {
		log_error("serving stopped: %d", err);
		return 1;
	}
	return 0;
fail:
	/* Before the pivot, roots[1..n] are the binds opened so far; after, roots[0..n). */
	for (size_t i = 0; roots && i <= n && i <= nbinds; i++)
		if (roots[i].fd > 0)
			close(roots[i].fd);
	free(roots);
	free(names);
	close(sock);
	return 1;
}
