/* Unit tests: gofer_main's confinement (pivoted read-only root, namespaces, caps, seccomp). */
#include "tests/unit/gofer_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "abi/linux.h"
#include "common/util.h"
#include "gofer/client.h"
#include "gofer/protocol.h"

static char top[64];
static struct gofer_client cl;
static pid_t gofer_pid;

/* Fork a child that runs gofer_main(rootfs, binds, netns_fd), as uid (if uid != 0). */
static void start_netns(const char *rootfs, uid_t uid, const struct gofer_bind *binds,
			size_t nbinds, int netns_fd)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	gofer_pid = fork();
	cr_assert_geq(gofer_pid, 0);
	if (gofer_pid == 0) {
		close(sv[0]);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
				 setresuid(uid, uid, uid) < 0))
			_exit(98);
		/* Changing uid made us non-dumpable, which a user running the CLI is not. */
		if (uid != 0)
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		_exit(gofer_main(sv[1], rootfs, binds, nbinds, netns_fd));
	}
	close(sv[1]);
	cr_assert_eq(gofer_client_init(&cl, sv[0]), 0);
}

static void start_binds(const char *rootfs, uid_t uid, const struct gofer_bind *binds,
			size_t nbinds)
{
	start_netns(rootfs, uid, binds, nbinds, -1);
}

static void start(const char *rootfs, uid_t uid) { start_binds(rootfs, uid, NULL, 0); }

static int stop(void)
{
	gofer_client_close(&cl);
	return gt_wait(gofer_pid);
}

static void setup(void)
{
	strcpy(top, "/tmp/gofer-confine-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	cr_assert_eq(chmod(top, 0755), 0);
	gt_write(top, "hello", "confined hello");
	gt_mkdir(top, "dir");
	gt_symlink(top, "up", "../../../..");
}

static void teardown(void) { gt_rm_tree(top); }

TestSuite(gofer_confine, .init = setup, .fini = teardown);

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

/* Walk a path one component at a time from the root; returns the final fid. */
static uint32_t walk_path(const char *path, struct gofer_stat *st)
{
	char copy[256], *save = NULL;
	uint32_t fid = GOFER_ROOT_FID, next;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int r = gofer_walk(&cl, fid, c, &next, st);
		cr_assert_eq(r, 0, "walk %s in %s: %d", c, path, r);
		fid = next;
	}
	return fid;
}

static void read_via_gofer(const char *path, char *buf, size_t size)
{
	struct gofer_stat st;
	int fd;
	uint32_t fid = walk_path(path, &st);

	cr_assert_eq(gofer_open(&cl, fid, LINUX_O_RDONLY, &fd), 0);
	memset(buf, 0, size);
	cr_assert_geq(read(fd, buf, size - 1), 0);
	close(fd);
}

/* What a line "Key:\tvalue" of /proc/<pid>/status says. */
static void proc_status(pid_t pid, const char *key, char *val, size_t size)
{
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f);
	val[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			snprintf(val, size, "%s", line + strlen(key) + 2);
			val[strcspn(val, "\n")] = '\0';
		}
	fclose(f);
}

/* Do processes a and b share namespace ns? */
static bool ns_equal(pid_t a, pid_t b, const char *ns)
{
	char la[64], lb[64], pa[64], pb[64];
	snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)a, ns);
	snprintf(pb, sizeof(pb), "/proc/%d/ns/%s", (int)b, ns);
	ssize_t na = readlink(pa, la, sizeof(la) - 1), nb = readlink(pb, lb, sizeof(lb) - 1);
	cr_assert(na > 0 && nb > 0);
	la[na] = lb[nb] = '\0';
	return strcmp(la, lb) == 0;
}

/* A child holding a new, empty network namespace (the Sentry's, in the CLI), until killed;
 * *fd gets that namespace, as the CLI opens it. */
static pid_t netns_holder(int *fd)
{
	int sync[2];
	char c, path[64];

	cr_assert_eq(pipe(sync), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sync[0]);
		/* gone with the test, even one that failed before its kill */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(sync[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	cr_assert_eq(read(sync[0], &c, 1), 1);
	close(sync[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(*fd, 0);
	return pid;
}

/* Does pid share namespace ns with this process? */
static bool same_ns(pid_t pid, const char *ns) { return ns_equal(getpid(), pid, ns); }

Test(gofer_confine, serves_a_tree_as_root)
{
	char buf[64];
	struct gofer_stat st;
	struct gofer_dirent d[16];
	uint32_t fid;

	need_root();
	start(top, 0);
	read_via_gofer("hello", buf, sizeof(buf));
	cr_assert_str_eq(buf, "confined hello");
	/* The root is the tree: exactly its three entries. */
	cr_assert_eq(gofer_getdents(&cl, GOFER_ROOT_FID, 0, d, 16, NULL), 3);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "up", &fid, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK);
	cr_assert_eq(gofer_walk(&cl, fid, "etc", &fid, &st), -ENOTDIR);
	cr_assert_eq(stop(), 0);
}

/* Every thread of pid (the connections' too): its status line key is want. Returns how many
 * threads there are. */
static int each_thread_says(pid_t pid, const char *key, const char *want)
{
	char p[64], v[128];
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	DIR *d = opendir(p);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		proc_status((pid_t)atoi(e->d_name), key, v, sizeof(v));
		cr_assert_str_eq(v, want, "thread %s: %s is %s", e->d_name, key, v);
		n++;
	}
	closedir(d);
	return n;
}

Test(gofer_confine, namespaces_caps_seccomp)
{
	cpu_set_t cpus;

	need_root();
	start(top, 0);
	struct gofer_stat st;
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0); /* confinement is done */
	each_thread_says(gofer_pid, "Seccomp", "2");
	each_thread_says(gofer_pid, "NoNewPrivs", "1");
	/* DAC_OVERRIDE, DAC_READ_SEARCH */
	each_thread_says(gofer_pid, "CapEff", "0000000000000006");
	each_thread_says(gofer_pid, "CapPrm", "0000000000000006");
	each_thread_says(gofer_pid, "CapBnd", "0000000000000006");
	each_thread_says(gofer_pid, "CapAmb", "0000000000000000");
	int n = each_thread_says(gofer_pid, "CapInh", "0000000000000000");
	/* a thread per CPU besides the first (CHANNELS), none with one CPU */
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	int ncpu = CPU_COUNT(&cpus);
	cr_assert_eq(n, ncpu < 2 ? 1 : 1 + MIN(ncpu, (int)GOFER_CHANNELS_MAX));
	cr_assert(!same_ns(gofer_pid, "mnt"));
	cr_assert(!same_ns(gofer_pid, "net"));
	cr_assert(!same_ns(gofer_pid, "ipc"));
	cr_assert(!same_ns(gofer_pid, "uts"));
	cr_assert_eq(stop(), 0);
}

Test(gofer_confine, root_is_read_only)
{
	int fd;
	uint32_t fid;
	struct gofer_stat st;

	need_root();
	start(top, 0);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "dir", &fid, &st), 0);
	cr_assert_eq(gofer_open(&cl, fid, LINUX_O_RDONLY | LINUX_O_DIRECTORY, &fd), 0);
	/* The donated fd lives on the gofer's mount: creating through it hits a read-only one. */
	int w = openat(fd, "new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_eq(w, -1);
	cr_assert_eq(errno, EROFS);
	close(fd);
	cr_assert_eq(stop(), 0);
	/* And the host tree is as it was. */
	char p[128];
	snprintf(p, sizeof(p), "%s/dir/new", top);
	cr_assert_eq(access(p, F_OK), -1);
}

Test(gofer_confine, host_root_read_only_without_pseudo_fs)
{
	char via[4096], host[4096] = {0};
	struct gofer_stat st;
	struct gofer_dirent d[8];
	int fd;

	need_root();
	start("/", 0);
	read_via_gofer("etc/passwd", via, sizeof(via));
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_geq(read(fd, host, sizeof(host) - 1), 0);
	close(fd);
	cr_assert_str_eq(via, host);
	/* Read-only all the way down, submounts included. */
	static const char *const dirs[] = {"", "tmp", "dev/shm", "run"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		uint32_t fid = GOFER_ROOT_FID;
		if (dirs[i][0]) {
			uint32_t next = 0;
			char copy[32], *save = NULL;
			snprintf(copy, sizeof(copy), "%s", dirs[i]);
			int ok = 1;
			for (char *c = strtok_r(copy, "/", &save); c && ok;
			     c = strtok_r(NULL, "/", &save)) {
				ok = gofer_walk(&cl, fid, c, &next, &st) == 0 &&
				     (st.mode & LINUX_S_IFMT) == LINUX_S_IFDIR;
				fid = next;
			}
			if (!ok)
				continue;
		}
		cr_assert_eq(gofer_open(&cl, fid, LINUX_O_RDONLY | LINUX_O_DIRECTORY, &fd), 0);
		int w = openat(fd, "gofer-test-new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		cr_assert_eq(w, -1, "/%s writable", dirs[i]);
		cr_assert_eq(errno, EROFS, "/%s: errno %d", dirs[i], errno);
		close(fd);
	}
	/* The host's /proc and /sys are not served: their mount points are empty. */
	static const char *const pseudo[] = {"proc", "sys"};
	for (int i = 0; i < 2; i++) {
		uint32_t fid;
		if (gofer_walk(&cl, GOFER_ROOT_FID, pseudo[i], &fid, &st) != 0)
			continue;
		cr_assert_eq(gofer_getdents(&cl, fid, 0, d, 8, NULL), 0, "/%s is served",
			     pseudo[i]);
	}
	cr_assert_eq(stop(), 0);
}

/* Can nobody make a user namespace here? */
static void need_userns(void)
{
	need_root();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	}
	if (gt_wait(pid) != 0)
		cr_skip_test("no unprivileged user namespaces");
}

/* The CLI hands the gofer the Sentry's network namespace: the gofer joins it rather than
 * making a second one, and is in no other process's (the host's) namespace. */
Test(gofer_confine, joins_the_network_namespace_it_is_given)
{
	char buf[64];
	int fd;

	need_root();
	pid_t holder = netns_holder(&fd);
	start_netns(top, 0, NULL, 0, fd);
	close(fd);
	read_via_gofer("hello", buf, sizeof(buf)); /* confinement is done */
	cr_assert(ns_equal(gofer_pid, holder, "net"));
	cr_assert(!same_ns(gofer_pid, "net"));
	cr_assert(!same_ns(gofer_pid, "mnt"));
	cr_assert(!ns_equal(gofer_pid, holder, "mnt"));
	cr_assert_eq(stop(), 0);
	kill(holder, SIGKILL);
	gt_wait(holder);
}

/* A gofer that may not join it (an unprivileged caller) makes its own instead, as before. */
Test(gofer_confine, unprivileged_makes_its_own_network_namespace)
{
	char buf[64];
	int fd;

	need_root(); /* for the holder's namespace; the gofer itself runs as nobody */
	need_userns();
	pid_t holder = netns_holder(&fd);
	start_netns(top, 65534, NULL, 0, fd);
	close(fd);
	read_via_gofer("hello", buf, sizeof(buf));
	cr_assert(!ns_equal(gofer_pid, holder, "net"));
	cr_assert(!same_ns(gofer_pid, "net"));
	cr_assert_eq(stop(), 0);
	kill(holder, SIGKILL);
	gt_wait(holder);
}

Test(gofer_confine, unprivileged_makes_its_own_user_namespace)
{
	char buf[64];

	need_userns();
	start(top, 65534);
	read_via_gofer("hello", buf, sizeof(buf));
	cr_assert_str_eq(buf, "confined hello");
	cr_assert(!same_ns(gofer_pid, "user"));
	cr_assert(!same_ns(gofer_pid, "mnt"));
	cr_assert_eq(stop(), 0);
}

/* In a user namespace the inherited mounts are locked and cannot be detached: /proc must
 * still not be served (it is covered instead). */
Test(gofer_confine, unprivileged_host_root_hides_proc)
{
	char via[4096];
	struct gofer_stat st;
	struct gofer_dirent d[4];
	uint32_t fid;

	need_userns();
	start("/", 65534);
	read_via_gofer("etc/hostname", via, sizeof(via));
	if (gofer_walk(&cl, GOFER_ROOT_FID, "proc", &fid, &st) == 0)
		cr_assert_eq(gofer_getdents(&cl, fid, 0, d, 4, NULL), 0, "/proc is served");
	if (gofer_walk(&cl, GOFER_ROOT_FID, "sys", &fid, &st) == 0)
		cr_assert_eq(gofer_getdents(&cl, fid, 0, d, 4, NULL), 0, "/sys is served");
	cr_assert_eq(stop(), 0);
}

Test(gofer_confine, bad_rootfs_fails_cleanly)
{
	struct gofer_stat st;

	need_root();
	start("/nonexistent/gofer/root", 0);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(stop(), 1);
}

/* Run body in a child under the gofer's filter (sock 5, log fd 2); how did it end? */
static int under_filter_chans(int (*body)(void), bool writable, const struct gofer_channels *ch)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		if (gofer_install_seccomp(5, ch, 2, writable) < 0)
			_exit(97);
		_exit(body());
	}
	return gt_wait(pid);
}

static int under_filter_rw(int (*body)(void), bool writable)
{
	return under_filter_chans(body, writable, NULL);
}

static int under_filter(int (*body)(void)) { return under_filter_rw(body, false); }

static int body_allowed(void)
{
	char buf[64];
	struct stat st;
	void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	munmap(p, 8192);
	free(malloc(1 << 20));
	if (fstat(2, &st) < 0)
		return 2;
	(void)readlinkat(AT_FDCWD, "/nonexistent", buf, sizeof(buf));
	(void)!write(2, "", 0);
	return 0;
}
static int body_getuid(void) { return (int)syscall(SYS_getuid) + 50; }
static int body_open(void) { return open("/etc/passwd", O_RDONLY) + 50; }
static int body_write_stdout(void) { return (int)write(1, "x", 1) + 50; }
static int body_exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? 51 : 52;
}
static int body_sendmsg_elsewhere(void)
{
	struct msghdr m = {0};
	return (int)sendmsg(7, &m, 0) + 50;
}
static int body_socket(void) { return socket(AF_INET, SOCK_STREAM, 0) + 50; }
static int body_setaffinity(void)
{
	cpu_set_t all;
	CPU_ZERO(&all);
	CPU_SET(0, &all);
	return sched_setaffinity(0, sizeof(all), &all) + 50;
}
static uint32_t futex_word;
static int body_futex_private(void)
{
	/* what the connections' lock takes: a wake of nobody, a wait that finds the word changed */
	return (int)syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) +
	       (int)syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) + 1;
}
static int body_futex_shared(void)
{
	return (int)syscall(SYS_futex, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0) + 50;
}
static int body_sendmsg_chan(void)
{
	struct msghdr m = {0};
	return (int)sendmsg(200, &m, MSG_DONTWAIT) < 0 && errno != EAGAIN ? 1 : 0;
}

Test(gofer_confine, seccomp_allows_only_the_list)
{
	cr_assert_eq(under_filter(body_allowed), 0);
	cr_assert_eq(under_filter(body_getuid), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_open), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_write_stdout), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_exec_mapping), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_sendmsg_elsewhere), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_socket), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_setaffinity), 128 + SIGSYS);
	cr_assert_eq(under_filter(body_futex_private), 0); /* 0 woken, -1 EAGAIN, + 1 */
	cr_assert_eq(under_filter(body_futex_shared), 128 + SIGSYS);
}

/* A channel's connection is the gofer's too: sendmsg on it is allowed (and only on it). */
Test(gofer_confine, seccomp_allows_the_channels)
{
	/* (fd 200: a number the test harness leaves free) */
	struct gofer_channels ch = {.n = 1, .srv = {200}};
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(dup2(sv[0], 200), 200);
	cr_assert_eq(under_filter_chans(body_sendmsg_chan, false, &ch), 0);
	cr_assert_eq(under_filter(body_sendmsg_chan), 128 + SIGSYS); /* without the channel */
	close(200);
	close(sv[0]);
	close(sv[1]);
}

static int body_mkdirat(void) { return mkdirat(AT_FDCWD, "/nonexistent/x", 0700) + 50; }
static int body_linkat_by_path(void)
{
	return linkat(AT_FDCWD, "/nonexistent/a", AT_FDCWD, "/nonexistent/b", 0) + 50;
}
static int body_linkat_empty_path(void)
{
	return linkat(0, "", AT_FDCWD, "/nonexistent/b", AT_EMPTY_PATH) < 0 ? 0 : 1;
}

/* Only a gofer with a writable root may mutate at all, and linkat only by fd. */
Test(gofer_confine, seccomp_mutations_only_when_writable)
{
	cr_assert_eq(under_filter(body_mkdirat), 128 + SIGSYS);
	cr_assert_eq(under_filter_rw(body_mkdirat, true), 49); /* -1 + 50: ENOENT */
	cr_assert_eq(under_filter_rw(body_linkat_by_path, true), 128 + SIGSYS);
	cr_assert_eq(under_filter_rw(body_linkat_empty_path, true), 0);
	cr_assert_eq(under_filter_rw(body_allowed, true), 0);
}

/* Bind sources outside the root are served as roots 1.. after the pivot: a read-only one
 * refuses every mutation, a writable one's writes reach the host, a file is served alone. */
Test(gofer_confine, bind_roots)
{
	char ro[128], rw[128], file[128], buf[256];
	struct gofer_stat st;
	uint32_t r1, r2, r3, f;
	int fd;

	need_root();
	gt_mkdir(top, "root");
	gt_mkdir(top, "ro");
	gt_mkdir(top, "rw");
	gt_write(top, "ro/keep", "keep");
	gt_write(top, "single", "single file");
	snprintf(ro, sizeof(ro), "%s/ro", top);
	snprintf(rw, sizeof(rw), "%s/rw", top);
	snprintf(file, sizeof(file), "%s/single", top);
	char root[128];
	snprintf(root, sizeof(root), "%s/root", top);
	const struct gofer_bind binds[] = {{ro, false}, {rw, true}, {file, true}};
	start_binds(root, 0, binds, 3);
	cr_assert_eq(gofer_attach(&cl, 1, &r1, &st), 0);
	cr_assert_eq(gofer_attach(&cl, 2, &r2, &st), 0);
	cr_assert_eq(gofer_attach(&cl, 3, &r3, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFREG);
	cr_assert_eq(gofer_attach(&cl, 4, &f, &st), -ENOENT);
	cr_assert_eq(gofer_walk(&cl, r1, "keep", &f, &st), 0);
	cr_assert_eq(gofer_open(&cl, f, LINUX_O_WRONLY, &fd), -EROFS);
	cr_assert_eq(gofer_mkdir(&cl, r1, "d", 0700, &f, &st), -EROFS);
	cr_assert_eq(gofer_create(&cl, r2, "made", LINUX_O_WRONLY, 0644, &f, &st, &fd), 0);
	cr_assert_eq(write(fd, "from the sandbox", 16), 16);
	close(fd);
	cr_assert_eq(gofer_mkdir(&cl, r2, "d", 0700, &f, &st), 0);
	cr_assert_eq(gofer_rename(&cl, r2, "made", f, "moved", 0), 0);
	cr_assert_eq(gofer_rename(&cl, f, "moved", r1, "x", 0), -EROFS);
	cr_assert_eq(gofer_open(&cl, r3, LINUX_O_RDWR, &fd), 0);
	cr_assert_eq(pwrite(fd, "S", 1, 0), 1);
	close(fd);
	cr_assert_eq(stop(), 0);
	snprintf(buf, sizeof(buf), "%s/d/moved", rw);
	fd = open(buf, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 16);
	close(fd);
	fd = open(file, O_RDONLY);
	cr_assert_eq(read(fd, buf, 6), 6);
	cr_assert_eq(memcmp(buf, "Single", 6), 0);
	close(fd);
	cr_assert_eq(access(ro, F_OK), 0);
	snprintf(buf, sizeof(buf), "%s/d", ro);
	cr_assert_neq(access(buf, F_OK), 0);
}
