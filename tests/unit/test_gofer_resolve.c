/* Unit tests: nothing outside the root is reached through gofer_resolve or WALK. */
#include "tests/unit/gofer_helpers.h"

#include <errno.h>
#include <linux/limits.h>

#include "abi/linux.h"
#include "gofer/client.h"
#include "gofer/protocol.h"
#include "gofer/resolve.h"

static char top[64];  /* the temp dir: root/ and outside/ */
static char root[96]; /* the root the gofer serves */
static int root_fd = -1;
static struct stat inner_passwd, host_passwd, root_st;

/* top/
 *   outside/secret
 *   root/
 *     a/b/file            "inner-b"
 *     etc/passwd          "inside"
 *     abs   -> /etc/passwd                   (absolute, aims at the host)
 *     rel   -> ../../../../etc               (relative, climbs out)
 *     chain -> a/../../../../etc/passwd
 *     hop   -> rel                           (symlink to a symlink)
 *     loop1 -> loop2, loop2 -> loop1
 *     magic -> /proc/self/root/etc/passwd    (through a magic link)
 *     out   -> ../outside/secret */
static void setup(void)
{
	strcpy(top, "/tmp/gofer-resolve-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/root", top);
	gt_mkdir(top, "outside");
	gt_write(top, "outside/secret", "secret");
	gt_mkdir(top, "root");
	gt_mkdir(root, "a");
	gt_mkdir(root, "a/b");
	gt_write(root, "a/b/file", "inner-b");
	gt_mkdir(root, "etc");
	gt_write(root, "etc/passwd", "inside");
	gt_symlink(root, "abs", "/etc/passwd");
	gt_symlink(root, "rel", "../../../../etc");
	gt_symlink(root, "chain", "a/../../../../etc/passwd");
	gt_symlink(root, "hop", "rel");
	gt_symlink(root, "loop1", "loop2");
	gt_symlink(root, "loop2", "loop1");
	gt_symlink(root, "magic", "/proc/self/root/etc/passwd");
	gt_symlink(root, "out", "../outside/secret");
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	cr_assert_eq(stat(p, &inner_passwd), 0);
	cr_assert_eq(stat(root, &root_st), 0);
	if (stat("/etc/passwd", &host_passwd) != 0)
		memset(&host_passwd, 0, sizeof(host_passwd));
}

static void teardown(void)
{
	if (root_fd >= 0)
		close(root_fd);
	gt_rm_tree(top);
}

static void same_file(int fd, const struct stat *want, const char *what)
{
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(st.st_dev == want->st_dev && st.st_ino == want->st_ino, "%s: wrong file", what);
	cr_assert(!(st.st_dev == host_passwd.st_dev && st.st_ino == host_passwd.st_ino),
		  "%s: reached the host's /etc/passwd", what);
}

static void resolves_to(const char *path, int flags, const struct stat *want)
{
	int fd = -1;
	int r = gofer_resolve(root_fd, path, flags, &fd);
	cr_assert_eq(r, 0, "%s: %d", path, r);
	same_file(fd, want, path);
	close(fd);
}

TestSuite(gofer_resolve, .init = setup, .fini = teardown);

Test(gofer_resolve, plain_paths)
{
	int fd = -1;
	char buf[16] = {0};
	cr_assert_eq(gofer_resolve(root_fd, "a/b/file", O_RDONLY, &fd), 0);
	cr_assert_eq(read(fd, buf, sizeof(buf) - 1), 7);
	cr_assert_str_eq(buf, "inner-b");
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	resolves_to("etc/passwd", O_RDONLY, &inner_passwd);
	resolves_to(".", O_PATH, &root_st);
}

Test(gofer_resolve, dotdot_stays_inside)
{
	resolves_to("../../etc/passwd", O_RDONLY, &inner_passwd);
	resolves_to("a/../../..", O_PATH, &root_st);
	resolves_to("a/b/../../../../../../etc/passwd", O_RDONLY, &inner_passwd);
	resolves_to("/../etc/passwd", O_RDONLY, &inner_passwd);
	int fd = -1;
	/* The sibling directory of the root is not there. */
	cr_assert_eq(gofer_resolve(root_fd, "../outside/secret", O_RDONLY, &fd), -ENOENT);
}

Test(gofer_resolve, absolute_paths_and_symlinks_stay_inside)
{
	resolves_to("/etc/passwd", O_RDONLY, &inner_passwd);
	resolves_to("abs", O_RDONLY, &inner_passwd);
	resolves_to("rel/passwd", O_RDONLY, &inner_passwd);
	resolves_to("chain", O_RDONLY, &inner_passwd);
	resolves_to("hop/passwd", O_RDONLY, &inner_passwd);
	resolves_to("a/b/../../abs", O_RDONLY, &inner_passwd);
	int fd = -1;
	cr_assert_eq(gofer_resolve(root_fd, "out", O_RDONLY, &fd), -ENOENT);
}

Test(gofer_resolve, loops_magic_links_and_bad_arguments)
{
	int fd = -1;
	cr_assert_eq(gofer_resolve(root_fd, "loop1", O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(gofer_resolve(root_fd, "loop2/x", O_RDONLY, &fd), -ELOOP);
	/* Inside the root there is no /proc: the magic link is not even reached. */
	cr_assert_eq(gofer_resolve(root_fd, "magic", O_RDONLY, &fd), -ENOENT);
	cr_assert_eq(gofer_resolve(root_fd, "", O_RDONLY, &fd), -ENOENT);
	cr_assert_eq(gofer_resolve(root_fd, "new", O_RDWR | O_CREAT, &fd), -EINVAL);
	cr_assert_eq(gofer_resolve(root_fd, NULL, O_RDONLY, &fd), -EINVAL);
	/* O_NOFOLLOW | O_PATH gives the link itself. */
	cr_assert_eq(gofer_resolve(root_fd, "abs", O_PATH | O_NOFOLLOW, &fd), 0);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	close(fd);
}

Test(gofer_resolve, magic_links_refused_with_host_root)
{
	int host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
	cr_assert_geq(host, 0);
	if (access("/proc/self/root", F_OK) != 0)
		cr_skip_test("no /proc");
	cr_assert_eq(gofer_resolve(host, "/proc/self/root/etc/passwd", O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(gofer_resolve(host, "/proc/self/fd/0", O_RDONLY, &fd), -ELOOP);
	close(host);
}

/* ---- the server's WALK, one component, no symlinks ---- */

static uint32_t raw_tag = 1000;

/* Send a WALK of dir fid whose name bytes are name[0..len) verbatim, bypassing the encoder's
 * checks, and return the gofer's err (and *fid on success). */
static int raw_walk(int sock, uint32_t dir, const char *name, size_t len, uint32_t *fid)
{
	uint8_t msg[512], rep[GOFER_MSG_MAX];
	struct gofer_req req = {.type = GOFER_WALK, .tag = ++raw_tag, .fid = dir};
	struct gofer_rep r;

	strcpy(req.name, "x");
	ssize_t n = gofer_encode_req(msg, sizeof(msg), &req);
	cr_assert_gt(n, 0);
	const size_t name_off = GOFER_HDR_SIZE + 4;
	uint16_t l = (uint16_t)len;
	memcpy(msg + name_off, &l, 2);
	memcpy(msg + name_off + 2, name, len);
	uint32_t total = (uint32_t)(name_off + 2 + len);
	memcpy(msg + 8, &total, 4);
	cr_assert_eq(send(sock, msg, total, 0), (ssize_t)total);
	n = recv(sock, rep, sizeof(rep), 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(rep, (size_t)n, GOFER_WALK, raw_tag, &r), 0);
	if (r.err == 0 && fid)
		*fid = r.walk.fid;
	return r.err;
}

Test(gofer_resolve, walk_refuses_bad_names)
{
	struct gt_server s = gt_serve(root);
	uint32_t fid;

	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "..", 2, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, ".", 1, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "", 0, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "a/b/", 4, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "a//b", 4, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "a/../etc", 8, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "/etc", 4, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "a\0b", 3, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "a", 1, &fid), 0);
	cr_assert_eq(raw_walk(s.sock, fid, "..", 2, NULL), -EINVAL);
	cr_assert_eq(raw_walk(s.sock, GOFER_ROOT_FID, "nope", 4, NULL), -ENOENT);
	close(s.sock);
	cr_assert_eq(gt_wait(s.pid), 0);
}

Test(gofer_resolve, walk_follows_no_symlink)
{
	struct gt_server s = gt_serve(root);
	struct gofer_client c;
	struct gofer_stat st;
	uint32_t fid, f2;
	int fd;
	char buf[64];

	cr_assert_eq(gofer_client_init(&c, s.sock), 0);
	static const char *const links[] = {"abs", "rel", "chain", "hop", "loop1", "magic", "out"};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, links[i], &fid, &st), 0, "%s",
			     links[i]);
		cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK, "%s followed", links[i]);
		/* Not a directory to walk through, not a file to open. */
		cr_assert_eq(gofer_walk(&c, fid, "passwd", &f2, &st), -ENOTDIR, "%s", links[i]);
		cr_assert_eq(gofer_open(&c, fid, LINUX_O_RDONLY, &fd), -ELOOP, "%s", links[i]);
		cr_assert_gt(gofer_readlink(&c, fid, buf, sizeof(buf)), 0);
		cr_assert_eq(gofer_clunk(&c, fid), 0);
	}
	/* Nor through a symlink on the way of a path, nor out by one; a path of directories
	 * is fine. */
	static const char *const through[] = {"rel/passwd", "hop/passwd", "loop1/x",
					      "a/b/../../abs"};
	for (size_t i = 0; i < sizeof(through) / sizeof(through[0]); i++) {
		int e = i == 3 ? -EINVAL : -ELOOP; /* ".." is refused before it leaves */
		cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, through[i], &fid, &st), e, "%s",
			     through[i]);
		cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, through[i], &st), e, "%s",
			     through[i]);
		cr_assert_eq(gofer_open_at(&c, GOFER_ROOT_FID, through[i], LINUX_O_RDONLY, &fd), e,
			     "%s", through[i]);
	}
	cr_assert_eq(gofer_open_at(&c, GOFER_ROOT_FID, "abs", LINUX_O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "a/b/file", &fid, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFREG);
	cr_assert_eq(gofer_open(&c, fid, LINUX_O_RDONLY, &fd), 0);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	cr_assert_eq(gofer_clunk(&c, fid), 0);
	/* The client refuses bad names before they leave. */
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "..", &fid, &st), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "a/b/", &fid, &st), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "", &fid, &st), -EINVAL);
	cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, "/etc", &st), -EINVAL);
	gofer_client_close(&c);
	cr_assert_eq(gt_wait(s.pid), 0);
}

/* A directory swapped for a symlink after it was walked: reopening by name must not follow
 * the link out (the fid's inode check and RESOLVE_NO_SYMLINKS). */
Test(gofer_resolve, swapped_for_symlink_after_walk)
{
	struct gt_server s = gt_serve(root);
	struct gofer_client c;
	struct gofer_stat st;
	uint32_t a, file;
	int fd;
	char p[256], q[256];

	cr_assert_eq(gofer_client_init(&c, s.sock), 0);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "etc", &a, &st), 0);
	cr_assert_eq(gofer_walk(&c, a, "passwd", &file, &st), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	snprintf(q, sizeof(q), "%s/etc/passwd.old", root);
	cr_assert_eq(rename(p, q), 0);
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	cr_assert_eq(gofer_open(&c, file, LINUX_O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(unlink(p), 0);
	gt_write(root, "etc/passwd", "replaced");
	cr_assert_eq(gofer_open(&c, file, LINUX_O_RDONLY, &fd), -ESTALE);
	gofer_client_close(&c);
	cr_assert_eq(gt_wait(s.pid), 0);
}

struct dirent_got {
	int n;
	struct gofer_dirent e;
};

static int collect(void *arg, const struct gofer_dirent *e)
{
	struct dirent_got *g = arg;
	g->n++;
	g->e = *e;
	return 0;
}

/* Some entries' targets from a listing with GOFER_GETDENTS_TARGET (copied: they point into
 * the reply). */
struct targets_got {
	char abs[64], rel[64], magic[64];
	int dirs, dirs_with_target;
};

static int collect_targets(void *arg, const struct gofer_dirent *e)
{
	struct targets_got *g = arg;
	char *dst = !strcmp(e->name, "abs")	? g->abs
		    : !strcmp(e->name, "rel")	? g->rel
		    : !strcmp(e->name, "magic") ? g->magic
						: NULL;
	if ((e->st.mode & LINUX_S_IFMT) == LINUX_S_IFDIR) {
		g->dirs++;
		g->dirs_with_target += e->target != NULL;
	}
	if (dst && e->target && e->target_len < 64) {
		memcpy(dst, e->target, e->target_len);
		dst[e->target_len] = '\0';
	}
	return 0;
}

/* Files named by fid + path, without a fid of their own: the same confinement as a walk. */
Test(gofer_resolve, path_requests)
{
	struct gt_server s = gt_serve(root);
	struct gofer_client c;
	struct gofer_stat st;
	struct gofer_dirent d[8];
	uint32_t a;
	int fd;
	char buf[64] = {0};

	cr_assert_eq(gofer_client_init(&c, s.sock), 0);
	cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, "etc/passwd", &st), 0);
	cr_assert_eq(st.ino, inner_passwd.st_ino);
	cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, "abs", &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK, "a final symlink is not followed");
	cr_assert_eq(gofer_readlink_at(&c, GOFER_ROOT_FID, "abs", buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "/etc/passwd", 11), 0);
	cr_assert_eq(gofer_readlink_at(&c, GOFER_ROOT_FID, "etc/passwd", buf, sizeof(buf)),
		     -EINVAL);
	cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, "etc/nope", &st), -ENOENT);
	cr_assert_eq(gofer_stat_at(&c, GOFER_ROOT_FID, "etc/passwd/x", &st), -ENOTDIR);
	/* from a fid other than the root, and a path that ends at a directory */
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "a", &a, &st), 0);
	cr_assert_eq(gofer_open_at(&c, a, "b/file", LINUX_O_RDONLY, &fd), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(read(fd, buf, sizeof(buf)), 7);
	cr_assert_str_eq(buf, "inner-b");
	close(fd);
	cr_assert_eq(gofer_open_at(&c, a, "b", LINUX_O_RDONLY | LINUX_O_DIRECTORY, &fd), 0);
	close(fd);
	cr_assert_eq(gofer_open_at(&c, a, "b/file", LINUX_O_RDWR, &fd), -EROFS);
	/* a listing of a path, with each entry's stat */
	long n = gofer_getdents(&c, a, 0, d, 8, NULL);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(d[0].name, "b");
	cr_assert_eq(d[0].st.mode, 0, "no stat unless asked");
	struct dirent_got got = {0};
	bool end = false;
	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, "a/b", 0, 8, GOFER_GETDENTS_STAT, collect,
				   &got, &end),
		     1);
	cr_assert(end);
	cr_assert_eq(got.n, 1);
	cr_assert_str_eq(got.e.name, "file");
	cr_assert_eq(got.e.st.mode & LINUX_S_IFMT, LINUX_S_IFREG);
	cr_assert_eq(got.e.st.size, 7);
	/* the symlink itself, not followed, is no directory */
	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, "rel", 0, 8, 0, collect, &got, NULL),
		     -ENOTDIR);
	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, "rel/x", 0, 8, 0, collect, &got, NULL),
		     -ELOOP);
	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, "etc/passwd", 0, 8, 0, collect, &got, NULL),
		     -ENOTDIR);
	/* with the symlinks' targets: read from the links themselves, none for the rest */
	struct targets_got tg = {0};
	cr_assert_gt(gofer_readdir(&c, GOFER_ROOT_FID, "", 0, 64,
				   GOFER_GETDENTS_STAT | GOFER_GETDENTS_TARGET, collect_targets,
				   &tg, NULL),
		     8);
	cr_assert_str_eq(tg.abs, "/etc/passwd");
	cr_assert_str_eq(tg.rel, "../../../../etc");
	cr_assert_str_eq(tg.magic, "/proc/self/root/etc/passwd");
	cr_assert_eq(tg.dirs_with_target, 0);
	cr_assert_gt(tg.dirs, 0);
	/* a target without the stats is no listing the protocol has */
	cr_assert_eq(
	    gofer_readdir(&c, GOFER_ROOT_FID, "", 0, 8, GOFER_GETDENTS_TARGET, collect, &got, NULL),
	    -EINVAL);
	gofer_client_close(&c);
	cr_assert_eq(gt_wait(s.pid), 0);
}
