/*
 * mount_escape.c: tries to get out of a mount.
 *
 *   mount_escape xdev UNIQ           rename(2) and link(2) between two mounts (/tmp and /dev/shm)
 *                                    fail with EXDEV: the same natively and in the sandbox
 *   mount_escape attack DIR HOSTDIR  (the security suite, in the sandbox only) DIR is a
 *                                    read-write bind mount of a host directory; HOSTDIR is a
 *                                    host directory outside it (seen read-only in the sandbox's
 *                                    root). Every way out is tried: "..", symlinks pointing out
 *                                    (absolute and relative), rename and link out of the mount,
 *                                    and a symlink swapped in for a directory while another
 *                                    thread writes through that name. The runner then checks
 *                                    on the host that nothing appeared outside DIR's source.
 * Paths are never printed, so the output does not depend on them.
 */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>

static void xdev(const char *uniq)
{
	char a[128], b[128];
	int fd;

	snprintf(a, sizeof(a), "/tmp/mount-escape-%s", uniq);
	snprintf(b, sizeof(b), "/dev/shm/mount-escape-%s", uniq);
	fd = CHECK_OK(open(a, O_WRONLY | O_CREAT | O_EXCL, 0600));
	CHECK_OK(close(fd));
	CHECK(rename(a, b) < 0 && errno == EXDEV, "rename across mounts");
	printf("rename across mounts: EXDEV\n");
	CHECK(link(a, b) < 0 && errno == EXDEV, "link across mounts");
	printf("link across mounts: EXDEV\n");
	CHECK(access(b, F_OK) < 0 && errno == ENOENT, "nothing arrived");
	CHECK_OK(unlink(a));
	printf("ok\n");
}

/* Write a small file at path; 0 or -errno. */
static int try_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	int r = write(fd, "escaped\n", 8) == 8 ? 0 : -errno;
	close(fd);
	return r;
}

static char g_dir[512], g_host[512];
static atomic_int g_stop;

/* Flip DIR/sw between a directory and a symlink to HOSTDIR until told to stop. */
static void *swapper(void *arg)
{
	char sw[600];
	(void)arg;
	snprintf(sw, sizeof(sw), "%s/sw", g_dir);
	while (!atomic_load(&g_stop)) {
		if (rmdir(sw) == 0 && symlink(g_host, sw) == 0) {
			sched_yield();
			unlink(sw);
		}
		mkdir(sw, 0755);
		sched_yield();
	}
	return NULL;
}

static void attack(const char *dir, const char *host)
{
	char p[1200], q[1200];
	int r;

	snprintf(g_dir, sizeof(g_dir), "%s", dir);
	snprintf(g_host, sizeof(g_host), "%s", host);

	/* "..": the sandbox's own tree, whose host part is read-only; the write lands in the
	 * root overlay (or fails), never in HOSTDIR. */
	snprintf(p, sizeof(p), "%s/../../../../../../%s/dotdot", dir, host);
	r = try_write(p);
	printf("write through ..: %s\n", r == 0 ? "stayed in the sandbox" : errname(-r));

	/* Symlinks pointing out: absolute and relative. */
	snprintf(p, sizeof(p), "%s/abs", dir);
	CHECK_OK(symlink(host, p));
	snprintf(p, sizeof(p), "%s/abs/abs-link", dir);
	r = try_write(p);
	printf("write through an absolute symlink: %s\n",
	       r == 0 ? "stayed in the sandbox" : errname(-r));
	snprintf(p, sizeof(p), "%s/rel", dir);
	CHECK_OK(symlink("../../../../../../../../..", p));
	snprintf(p, sizeof(p), "%s/rel/%s/rel-link", dir, host);
	r = try_write(p);
	printf("write through a relative symlink: %s\n",
	       r == 0 ? "stayed in the sandbox" : errname(-r));

	/* Rename and link out of the mount. */
	snprintf(p, sizeof(p), "%s/victim", dir);
	CHECK_OK(try_write(p));
	snprintf(q, sizeof(q), "%s/renamed", host);
	CHECK(rename(p, q) < 0 && errno == EXDEV, "rename out of the mount");
	printf("rename out of the mount: EXDEV\n");
	snprintf(q, sizeof(q), "%s/../renamed-up", dir);
	CHECK(rename(p, q) < 0 && errno == EXDEV, "rename to ..");
	printf("rename to ..: EXDEV\n");
	snprintf(q, sizeof(q), "%s/linked", host);
	CHECK(link(p, q) < 0 && errno == EXDEV, "link out of the mount");
	printf("link out of the mount: EXDEV\n");
	snprintf(q, sizeof(q), "%s/abs/renamed-through-link", dir);
	CHECK(rename(p, q) < 0 && errno == EXDEV, "rename through an absolute symlink");
	printf("rename through a symlink pointing out: EXDEV\n");
	CHECK_OK(access(p, F_OK));

	/* A symlink swapped in between walk steps: another thread flips DIR/sw between a
	 * directory and a symlink to HOSTDIR while this one writes DIR/sw/swapped. */
	pthread_t th;
	snprintf(p, sizeof(p), "%s/sw", dir);
	CHECK_OK(mkdir(p, 0755));
	CHECK(pthread_create(&th, NULL, swapper, NULL) == 0, "pthread_create");
	snprintf(p, sizeof(p), "%s/sw/swapped", dir);
	int wrote = 0, errs[160] = {0};
	for (int i = 0; i < 2000; i++) {
		int e = try_write(p);
		if (e == 0)
			wrote++;
		else if (-e < 160)
			errs[-e]++;
		unlink(p);
	}
	if (getenv("MOUNT_ESCAPE_DEBUG"))
		for (int e = 0; e < 160; e++)
			if (errs[e])
				fprintf(stderr, "%s: %d\n", errname(e), errs[e]);
	atomic_store(&g_stop, 1);
	pthread_join(th, NULL);
	printf("swapped symlink race: done\n");
	(void)wrote;
	printf("ok\n");
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "xdev") == 0)
		xdev(argv[2]);
	else if (argc == 4 && strcmp(argv[1], "attack") == 0)
		attack(argv[2], argv[3]);
	else {
		fprintf(stderr, "usage: mount_escape xdev UNIQ | attack DIR HOSTDIR\n");
		return 2;
	}
	return 0;
}
