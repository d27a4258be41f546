/* Unit tests: the gofer's several roots (ATTACH), its mutations on writable roots, the
 * read-only enforcement on the others, and hostile mutation requests. */
#include "tests/unit/gofer_helpers.h"

#include <errno.h>

#include "abi/linux.h"
#include "gofer/client.h"
#include "gofer/protocol.h"

enum { R_ROOT, R_RW, R_RO, R_FILE, R_RW2, NROOTS };

static char base[64], paths[NROOTS][128];
static struct gt_server srv;
static struct gofer_client cl;

/* base/root/      root 0, read-only (the container root)
 * base/rw/        root 1, writable: a.txt "abc", dir/
 * base/ro/        root 2, read-only: keep.txt "keep"
 * base/file.txt   root 3, a writable file root: "0123456789"
 * base/rw2/       root 4, writable */
static void setup(void)
{
	static const char *const names[NROOTS] = {"root", "rw", "ro", "file.txt", "rw2"};

	umask(0);
	strcpy(base, "/tmp/gofer-rw-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	for (int i = 0; i < NROOTS; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", base, names[i]);
		if (i == R_FILE)
			gt_write(base, names[i], "0123456789");
		else
			gt_mkdir(base, names[i]);
	}
	gt_write(paths[R_RW], "a.txt", "abc");
	gt_mkdir(paths[R_RW], "dir");
	gt_write(paths[R_RO], "keep.txt", "keep");
	gt_write(base, "secret", "host secret");
	const struct gt_root roots[NROOTS] = {
	    {paths[R_ROOT]},	  {paths[R_RW], true}, {paths[R_RO]}, {paths[R_FILE], true, true},
	    {paths[R_RW2], true},
	};
	srv = gt_serve_roots(roots, NROOTS);
	cr_assert_eq(gofer_client_init(&cl, srv.sock), 0);
}

static void teardown(void)
{
	gofer_client_close(&cl);
	if (srv.pid > 0)
		cr_assert_eq(gt_wait(srv.pid), 0);
	gt_rm_tree(base);
}

TestSuite(gofer_rw, .init = setup, .fini = teardown);

static uint32_t attach(uint32_t root)
{
	struct gofer_stat st;
	uint32_t fid;
	cr_assert_eq(gofer_attach(&cl, root, &fid, &st), 0, "attach %u", root);
	cr_assert_neq(fid, GOFER_ROOT_FID);
	return fid;
}

static void host_read(const char *dir, const char *rel, char *buf, size_t size)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s", p);
	ssize_t n = read(fd, buf, size - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
}

static bool host_exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

Test(gofer_rw, attach_roots)
{
	struct gofer_stat st;
	uint32_t fid;

	cr_assert_eq(gofer_attach(&cl, NROOTS, &fid, &st), -ENOENT);
	cr_assert_eq(gofer_attach(&cl, 0xffffffffu, &fid, &st), -ENOENT);
	cr_assert_eq(gofer_attach(&cl, R_FILE, &fid, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFREG);
	cr_assert_eq(st.size, 10);
	/* A file root has no directory to walk in. */
	cr_assert_eq(gofer_walk(&cl, fid, "x", &fid, &st), -ENOTDIR);
	uint32_t rw = attach(R_RW);
	cr_assert_eq(gofer_walk(&cl, rw, "a.txt", &fid, &st), 0);
	cr_assert_eq(st.size, 3);
	cr_assert_eq(gofer_clunk(&cl, rw), 0); /* attached fids are ordinary */
}

Test(gofer_rw, create_write_mkdir_symlink_link)
{
	struct gofer_stat st;
	uint32_t rw = attach(R_RW), f, d, s, l;
	int fd;
	char buf[64];

	cr_assert_eq(gofer_create(&cl, rw, "new.txt", LINUX_O_RDWR, 0640, &f, &st, &fd), 0);
	cr_assert_eq(st.mode, LINUX_S_IFREG | 0640);
	cr_assert_eq(write(fd, "written", 7), 7);
	close(fd);
	host_read(paths[R_RW], "new.txt", buf, sizeof(buf));
	cr_assert_str_eq(buf, "written");
	cr_assert_eq(gofer_create(&cl, rw, "new.txt", LINUX_O_RDWR, 0640, &f, &st, &fd), -EEXIST);
	cr_assert_eq(gofer_create(&cl, rw, "a.txt", LINUX_O_WRONLY, 0600, &f, &st, &fd), -EEXIST);

	cr_assert_eq(gofer_mkdir(&cl, rw, "sub", 0700, &d, &st), 0);
	cr_assert_eq(st.mode, LINUX_S_IFDIR | 0700);
	cr_assert_eq(gofer_create(&cl, d, "inner", LINUX_O_WRONLY, 0600, &f, &st, &fd), 0);
	close(fd);
	cr_assert(host_exists(paths[R_RW], "sub/inner"));

	cr_assert_eq(gofer_symlink(&cl, rw, "sl", "/etc/passwd", &s, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK);
	cr_assert_eq(gofer_readlink(&cl, s, buf, sizeof(buf)), 11);
	/* The gofer never follows it: opening the link itself is -ELOOP. */
	cr_assert_eq(gofer_open(&cl, s, LINUX_O_RDONLY, &fd), -ELOOP);

	uint32_t a;
	cr_assert_eq(gofer_walk(&cl, rw, "a.txt", &a, &st), 0);
	cr_assert_eq(gofer_link(&cl, d, "hard", a, &l, &st), 0);
	cr_assert_eq(st.nlink, 2);
	host_read(paths[R_RW], "sub/hard", buf, sizeof(buf));
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(gofer_link(&cl, rw, "dirlink", d, &l, &st), -EPERM);
}

Test(gofer_rw, open_for_write_and_setattr)
{
	struct gofer_stat st;
	uint32_t rw = attach(R_RW), a;
	int fd;
	char buf[64];

	cr_assert_eq(gofer_walk(&cl, rw, "a.txt", &a, &st), 0);
	cr_assert_eq(gofer_open(&cl, a, LINUX_O_WRONLY, &fd), 0);
	cr_assert_eq(pwrite(fd, "XY", 2, 1), 2);
	close(fd);
	host_read(paths[R_RW], "a.txt", buf, sizeof(buf));
	cr_assert_str_eq(buf, "aXY");
	cr_assert_eq(gofer_open(&cl, rw, LINUX_O_RDWR, &fd), -EISDIR);
	cr_assert_eq(gofer_open(&cl, a, LINUX_O_RDWR | LINUX_O_CREAT, &fd), -EINVAL);

	struct gofer_attr at = {.valid = GOFER_SETATTR_MODE | GOFER_SETATTR_SIZE |
					 GOFER_SETATTR_MTIME | GOFER_SETATTR_ATIME,
				.mode = 0604,
				.size = 1,
				.atime_sec = 1000,
				.mtime_sec = 2000,
				.mtime_nsec = 5};
	cr_assert_eq(gofer_setattr(&cl, a, &at, &st), 0);
	cr_assert_eq(st.mode, LINUX_S_IFREG | 0604);
	cr_assert_eq(st.size, 1);
	cr_assert_eq(st.mtime_sec, 2000);
	cr_assert_eq(st.mtime_nsec, 5);
	struct stat host;
	char p[256];
	snprintf(p, sizeof(p), "%s/a.txt", paths[R_RW]);
	cr_assert_eq(stat(p, &host), 0);
	cr_assert_eq(host.st_mode & 07777, 0604);
	cr_assert_eq(host.st_size, 1);
	cr_assert_eq(host.st_atim.tv_sec, 1000);
	at = (struct gofer_attr){.valid = GOFER_SETATTR_SIZE, .size = 5};
	cr_assert_eq(gofer_setattr(&cl, rw, &at, &st), -EISDIR);

	/* The file root: writable, truncated through its hidden parent. */
	uint32_t file = attach(R_FILE);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_RDWR, &fd), 0);
	close(fd);
	at = (struct gofer_attr){.valid = GOFER_SETATTR_SIZE, .size = 4};
	cr_assert_eq(gofer_setattr(&cl, file, &at, &st), 0);
	host_read(base, "file.txt", buf, sizeof(buf));
	cr_assert_str_eq(buf, "0123");

	struct gofer_statfs sf;
	cr_assert_eq(gofer_statfs(&cl, rw, &sf), 0);
	cr_assert_eq(sf.flags & 1, 0);
	cr_assert_gt(sf.bsize, 0);
}

Test(gofer_rw, unlink_rename)
{
	struct gofer_stat st;
	uint32_t rw = attach(R_RW), rw2 = attach(R_RW2), a, d, x;
	int fd;
	char buf[64];

	cr_assert_eq(gofer_walk(&cl, rw, "a.txt", &a, &st), 0);
	cr_assert_eq(gofer_walk(&cl, rw, "dir", &d, &st), 0);
	cr_assert_eq(gofer_rename(&cl, rw, "a.txt", d, "moved", 0), 0);
	cr_assert(!host_exists(paths[R_RW], "a.txt"));
	host_read(paths[R_RW], "dir/moved", buf, sizeof(buf));
	cr_assert_str_eq(buf, "abc");
	/* The fid of the moved file follows it. */
	cr_assert_eq(gofer_open(&cl, a, LINUX_O_RDONLY, &fd), 0);
	cr_assert_eq(read(fd, buf, 3), 3);
	close(fd);
	/* Across roots: -EXDEV, nothing moved. */
	cr_assert_eq(gofer_rename(&cl, d, "moved", rw2, "stolen", 0), -EXDEV);
	cr_assert(host_exists(paths[R_RW], "dir/moved"));
	cr_assert_eq(gofer_link(&cl, rw2, "stolen", a, &x, &st), -EXDEV);
	/* NOREPLACE */
	cr_assert_eq(gofer_create(&cl, rw, "b", LINUX_O_RDONLY, 0600, &x, &st, &fd), 0);
	close(fd);
	cr_assert_eq(gofer_rename(&cl, d, "moved", rw, "b", LINUX_RENAME_NOREPLACE), -EEXIST);
	cr_assert_eq(gofer_unlink(&cl, rw, "dir", 0), -EISDIR);
	cr_assert_eq(gofer_unlink(&cl, rw, "dir", LINUX_AT_REMOVEDIR), -ENOTEMPTY);
	cr_assert_eq(gofer_unlink(&cl, d, "moved", 0), 0);
	cr_assert_eq(gofer_unlink(&cl, rw, "dir", LINUX_AT_REMOVEDIR), 0);
	cr_assert(!host_exists(paths[R_RW], "dir"));
	cr_assert_eq(gofer_unlink(&cl, rw, "nothing", 0), -ENOENT);
}

/* The read-only bind root: every mutation -EROFS, before the gofer looks at anything else,
 * and the host unchanged. */
Test(gofer_rw, readonly_root_refuses)
{
	struct gofer_stat st;
	uint32_t ro = attach(R_RO), k, f, rw = attach(R_RW);
	int fd;
	char buf[64];
	struct gofer_attr at = {.valid = GOFER_SETATTR_SIZE, .size = 0};

	cr_assert_eq(gofer_walk(&cl, ro, "keep.txt", &k, &st), 0);
	cr_assert_eq(gofer_open(&cl, k, LINUX_O_WRONLY, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, k, LINUX_O_RDONLY | LINUX_O_TRUNC, &fd), -EROFS);
	cr_assert_eq(gofer_create(&cl, ro, "n", LINUX_O_WRONLY, 0600, &f, &st, &fd), -EROFS);
	cr_assert_eq(gofer_create(&cl, ro, "keep.txt", LINUX_O_WRONLY, 0600, &f, &st, &fd), -EROFS);
	cr_assert_eq(gofer_mkdir(&cl, ro, "d", 0700, &f, &st), -EROFS);
	cr_assert_eq(gofer_symlink(&cl, ro, "s", "t", &f, &st), -EROFS);
	cr_assert_eq(gofer_link(&cl, ro, "l", k, &f, &st), -EROFS);
	cr_assert_eq(gofer_unlink(&cl, ro, "keep.txt", 0), -EROFS);
	cr_assert_eq(gofer_rename(&cl, ro, "keep.txt", ro, "x", 0), -EROFS);
	/* Renaming out of a read-only root into a writable one, or in: refused too. */
	cr_assert_eq(gofer_rename(&cl, ro, "keep.txt", rw, "x", 0), -EROFS);
	cr_assert_eq(gofer_rename(&cl, rw, "a.txt", ro, "x", 0), -EROFS);
	cr_assert_eq(gofer_setattr(&cl, k, &at, &st), -EROFS);
	cr_assert_eq(gofer_open(&cl, k, LINUX_O_RDONLY, &fd), 0);
	close(fd);
	host_read(paths[R_RO], "keep.txt", buf, sizeof(buf));
	cr_assert_str_eq(buf, "keep");
	cr_assert(host_exists(paths[R_RW], "a.txt"));
}

/* Send a hand-made request and return the gofer's err (the connection must stay in step). */
static int raw(const uint8_t *msg, size_t len, uint8_t type, uint32_t tag)
{
	uint8_t rep[256];
	struct gofer_rep r;

	cr_assert_eq(send(srv.sock, msg, len, 0), (ssize_t)len);
	ssize_t n = recv(srv.sock, rep, sizeof(rep), 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(rep, (size_t)n, type, tag, &r), 0);
	return r.err;
}

Test(gofer_rw, hostile_requests)
{
	static uint8_t msg[GOFER_MSG_MAX];
	struct gofer_req req = {.type = GOFER_MKDIR, .tag = 900, .fid = 0, .mode = 0700};
	struct gofer_stat st;
	uint32_t rw = attach(R_RW);

	/* A name of "..", patched over a valid "ab": refused before any syscall. */
	req.fid = rw;
	strcpy(req.name, "ab");
	ssize_t n = gofer_encode_req(msg, sizeof(msg), &req);
	memcpy(msg + n - 2, "..", 2);
	cr_assert_eq(raw(msg, (size_t)n, GOFER_MKDIR, 900), -EINVAL);
	memcpy(msg + n - 2, "a/", 2);
	cr_assert_eq(raw(msg, (size_t)n, GOFER_MKDIR, 900), -EINVAL);
	/* A truncated RENAME: -EPROTO, answered. */
	req = (struct gofer_req){.type = GOFER_RENAME, .tag = 901, .fid = rw, .fid2 = rw};
	strcpy(req.name, "a.txt");
	strcpy(req.name2, "b");
	n = gofer_encode_req(msg, sizeof(msg), &req);
	uint32_t l = (uint32_t)n - 3;
	memcpy(msg + 8, &l, 4);
	cr_assert_eq(raw(msg, (size_t)n - 3, GOFER_RENAME, 901), -EPROTO);
	/* RENAME_EXCHANGE and whiteout flags are not part of the protocol. */
	n = gofer_encode_req(msg, sizeof(msg), &req);
	uint32_t flags = 2;
	memcpy(msg + n - 4, &flags, 4);
	cr_assert_eq(raw(msg, (size_t)n, GOFER_RENAME, 901), -EINVAL);
	/* Fids that do not exist, and a fid of the wrong type. */
	uint32_t f;
	int fd;
	cr_assert_eq(gofer_mkdir(&cl, 999, "x", 0700, &f, &st), -EBADF);
	cr_assert_eq(gofer_rename(&cl, rw, "a.txt", 999, "x", 0), -EBADF);
	cr_assert_eq(gofer_walk(&cl, rw, "a.txt", &f, &st), 0);
	cr_assert_eq(gofer_create(&cl, f, "x", LINUX_O_RDWR, 0600, &f, &st, &fd), -ENOTDIR);
	cr_assert_eq(gofer_link(&cl, rw, "x", 999, &f, &st), -EBADF);
	/* A symlink whose target would leave the root is only text; walking through it is
	 * not something the gofer does (names are single components). */
	cr_assert_eq(gofer_symlink(&cl, rw, "out", "../../secret", &f, &st), 0);
	cr_assert_eq(gofer_open(&cl, f, LINUX_O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(gofer_walk(&cl, f, "secret", &f, &st), -ENOTDIR);
	cr_assert(!host_exists(paths[R_RW], "ab"));
	cr_assert(!host_exists(paths[R_RW], "b"));
	cr_assert_eq(gofer_stat(&cl, rw, &st), 0);
}

/* A symlink swapped in on the host for a directory the Sentry walked: fids keep naming what
 * they named (or go stale), and the new symlink is never followed by any request. */
Test(gofer_rw, symlink_swapped_in_on_the_host)
{
	struct gofer_stat st;
	uint32_t rw = attach(R_RW), d, f, s, x;
	char p[256], q[256], buf[64];
	int fd;

	gt_write(paths[R_RW], "dir/inner", "inside");
	gt_mkdir(base, "outside");
	gt_write(base, "outside/inner", "outside!");
	cr_assert_eq(gofer_walk(&cl, rw, "dir", &d, &st), 0);
	cr_assert_eq(gofer_walk(&cl, d, "inner", &f, &st), 0);
	/* The swap: dir moves aside within the root, a symlink to the outside takes its name. */
	snprintf(p, sizeof(p), "%s/dir", paths[R_RW]);
	snprintf(q, sizeof(q), "%s/aside", paths[R_RW]);
	cr_assert_eq(rename(p, q), 0);
	snprintf(q, sizeof(q), "%s/outside", base);
	cr_assert_eq(symlink(q, p), 0);

	/* The walked file reopens through its directory's fd: the moved directory, not the
	 * symlink's target. */
	cr_assert_eq(gofer_open(&cl, f, LINUX_O_RDONLY, &fd), 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_eq(n, 6);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "inside");
	/* A create through the old directory fid lands in the moved directory. */
	cr_assert_eq(gofer_create(&cl, d, "made", LINUX_O_WRONLY, 0600, &x, &st, &fd), 0);
	close(fd);
	cr_assert(host_exists(paths[R_RW], "aside/made"));
	/* The name now walks to the symlink itself, which no request goes through. */
	cr_assert_eq(gofer_walk(&cl, rw, "dir", &s, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK);
	cr_assert_eq(gofer_walk(&cl, s, "inner", &x, &st), -ENOTDIR);
	cr_assert_eq(gofer_create(&cl, s, "evil", LINUX_O_WRONLY, 0600, &x, &st, &fd), -ENOTDIR);
	cr_assert_eq(gofer_mkdir(&cl, s, "evil", 0700, &x, &st), -ENOTDIR);
	cr_assert_eq(gofer_symlink(&cl, s, "evil", "x", &x, &st), -ENOTDIR);
	cr_assert_eq(gofer_rename(&cl, rw, "a.txt", s, "evil", 0), -ENOTDIR);
	cr_assert_eq(gofer_open(&cl, s, LINUX_O_RDONLY, &fd), -ELOOP);
	struct gofer_attr at = {.valid = GOFER_SETATTR_MODE, .mode = 0777};
	cr_assert_eq(gofer_setattr(&cl, s, &at, &st), -EOPNOTSUPP);
	cr_assert(!host_exists(base, "outside/evil"));
	struct stat hs;
	snprintf(q, sizeof(q), "%s/outside", base);
	cr_assert_eq(stat(q, &hs), 0);
	cr_assert_eq(hs.st_mode & 07777, 0755);
}
