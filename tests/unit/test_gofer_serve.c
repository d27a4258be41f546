/* Unit tests: gofer_serve in a child over a temp dir, driven through the client API. */
#include "tests/unit/gofer_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/util.h"
#include "gofer/client.h"
#include "gofer/protocol.h"

#define NMANY 700 /* entries of big/, each with a 200-byte name: more than one reply holds */

static char root[64];
static struct gt_server srv;
static struct gofer_client cl;

/* root/
 *   hello.txt      "hello, gofer\n"
 *   sub/inner      "inner"
 *   link -> sub/inner
 *   fifo           (a FIFO)
 *   big/           NMANY files with long names */
static void long_name(char *out, int i)
{
	memset(out, 'f', 200);
	snprintf(out + 190, 11, "%010d", i);
}

static void setup(void)
{
	char name[256], rel[300];

	strcpy(root, "/tmp/gofer-serve-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	gt_write(root, "hello.txt", "hello, gofer\n");
	gt_mkdir(root, "sub");
	gt_write(root, "sub/inner", "inner");
	gt_symlink(root, "link", "sub/inner");
	snprintf(rel, sizeof(rel), "%s/fifo", root);
	cr_assert_eq(mkfifo(rel, 0644), 0);
	gt_mkdir(root, "big");
	for (int i = 0; i < NMANY; i++) {
		long_name(name, i);
		snprintf(rel, sizeof(rel), "big/%s", name);
		gt_write(root, rel, "");
	}
	srv = gt_serve(root);
	cr_assert_eq(gofer_client_init(&cl, srv.sock), 0);
}

static void teardown(void)
{
	gofer_client_close(&cl);
	if (srv.pid > 0)
		gt_wait(srv.pid);
	gt_rm_tree(root);
}

TestSuite(gofer_serve, .init = setup, .fini = teardown);

Test(gofer_serve, walk_stat_open_read)
{
	struct gofer_stat st, st2;
	struct stat host;
	uint32_t fid;
	int fd;
	char buf[64] = {0}, p[128];

	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "hello.txt", &fid, &st), 0);
	cr_assert_neq(fid, GOFER_ROOT_FID);
	snprintf(p, sizeof(p), "%s/hello.txt", root);
	cr_assert_eq(stat(p, &host), 0);
	cr_assert_eq(st.ino, host.st_ino);
	cr_assert_eq(st.dev, host.st_dev);
	cr_assert_eq(st.size, 13);
	cr_assert_eq(st.mode, LINUX_S_IFREG | 0644);
	cr_assert_eq(st.nlink, 1);
	cr_assert_eq(st.mtime_sec, host.st_mtim.tv_sec);
	cr_assert_eq(st.mtime_nsec, host.st_mtim.tv_nsec);
	cr_assert_eq(gofer_stat(&cl, fid, &st2), 0);
	cr_assert_eq(memcmp(&st, &st2, sizeof(st)), 0);

	cr_assert_eq(gofer_open(&cl, fid, LINUX_O_RDONLY, &fd), 0);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 13);
	cr_assert_str_eq(buf, "hello, gofer\n");
	cr_assert_eq(write(fd, "x", 1), -1);
	close(fd);
	/* Opened twice: each OPEN is a fresh open file description. */
	cr_assert_eq(gofer_open(&cl, fid, LINUX_O_RDONLY | LINUX_O_CLOEXEC, &fd), 0);
	cr_assert_eq(pread(fd, buf, 5, 7), 5);
	cr_assert_eq(memcmp(buf, "gofer", 5), 0);
	close(fd);
	cr_assert_eq(gofer_clunk(&cl, fid), 0);
}

Test(gofer_serve, root_stat_and_nested_walk)
{
	struct gofer_stat st;
	uint32_t sub, inner;
	int fd;
	char buf[16] = {0};

	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFDIR);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "sub", &sub, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFDIR);
	cr_assert_eq(gofer_walk(&cl, sub, "inner", &inner, &st), 0);
	/* The parent fid may go; the child still reopens through the parent's directory. */
	cr_assert_eq(gofer_clunk(&cl, sub), 0);
	cr_assert_eq(gofer_open(&cl, inner, LINUX_O_RDONLY, &fd), 0);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "inner");
	close(fd);
	cr_assert_eq(gofer_clunk(&cl, inner), 0);
}

Test(gofer_serve, readlink)
{
	struct gofer_stat st;
	uint32_t fid, file;
	char buf[64];

	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "link", &fid, &st), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK);
	cr_assert_eq(gofer_readlink(&cl, fid, buf, sizeof(buf)), 9);
	cr_assert_eq(memcmp(buf, "sub/inner", 9), 0);
	/* readlink(2)'s truncation. */
	cr_assert_eq(gofer_readlink(&cl, fid, buf, 3), 3);
	cr_assert_eq(memcmp(buf, "sub", 3), 0);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "hello.txt", &file, &st), 0);
	cr_assert_eq(gofer_readlink(&cl, file, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(gofer_readlink(&cl, GOFER_ROOT_FID, buf, sizeof(buf)), -EINVAL);
}

/* LOOKUP: the stat, with a regular file's read-only fd or a symlink's target; a FIFO and a
 * directory come with neither, a missing name with -ENOENT. */
Test(gofer_serve, lookup)
{
	struct gofer_stat st;
	char t[64], buf[32];
	size_t tlen;
	int fd;

	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "hello.txt", &st, &fd, t, sizeof(t), &tlen),
		     0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFREG);
	cr_assert_geq(fd, 0);
	cr_assert_eq(tlen, 0);
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), 13);
	cr_assert_eq(memcmp(buf, "hello, gofer\n", 13), 0);
	cr_assert_eq(write(fd, "x", 1), -1, "the fd is read-only");
	close(fd);
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "link", &st, &fd, t, sizeof(t), &tlen), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFLNK);
	cr_assert_eq(fd, -1);
	cr_assert_eq(tlen, 9);
	cr_assert_str_eq(t, "sub/inner");
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "link", &st, &fd, t, 5, &tlen), 0);
	cr_assert_eq(tlen, 0, "a target that does not fit is left out");
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "fifo", &st, &fd, t, sizeof(t), &tlen), 0);
	cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFIFO);
	cr_assert_eq(fd, -1);
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "sub", &st, &fd, t, sizeof(t), &tlen), 0);
	cr_assert_eq(fd, -1);
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "nope", &st, &fd, t, sizeof(t), &tlen),
		     -ENOENT);
	cr_assert_eq(gofer_lookup_at(&cl, GOFER_ROOT_FID, "link/x", &st, &fd, t, sizeof(t), &tlen),
		     -ELOOP);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of dir fid, paging max at a time until an empty reply; returns the count, names
 * in names[]. A reply said to end the directory must be the last one with entries. */
static int list_all(uint32_t fid, size_t max, char **names, int cap, int *calls)
{
	struct gofer_dirent *ents = calloc(max, sizeof(*ents));
	uint64_t cookie = 0;
	bool end, ended = false;
	int n = 0;

	cr_assert_not_null(ents);
	*calls = 0;
	for (;;) {
		long got = gofer_getdents(&cl, fid, cookie, ents, max, &end);
		cr_assert_geq(got, 0, "getdents: %ld", got);
		++*calls;
		if (got == 0)
			break;
		cr_assert(!ended, "entries after a reply that ended the directory");
		ended = end;
		cr_assert_leq(got, (long)max);
		for (long i = 0; i < got; i++) {
			cr_assert_lt(n, cap);
			names[n++] = strdup(ents[i].name);
		}
		cookie = ents[got - 1].next;
		cr_assert_lt(*calls, 10000);
	}
	free(ents);
	return n;
}

Test(gofer_serve, getdents_small_dir)
{
	char *names[16];
	int calls;
	int n = list_all(GOFER_ROOT_FID, 64, names, 16, &calls);

	cr_assert_eq(n, 5); /* no "." or ".." */
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	static const char *const want[] = {"big", "fifo", "hello.txt", "link", "sub"};
	for (int i = 0; i < n; i++) {
		cr_assert_str_eq(names[i], want[i]);
		free(names[i]);
	}
	/* Types come through. */
	struct gofer_dirent d[8];
	bool end;
	long got = gofer_getdents(&cl, GOFER_ROOT_FID, 0, d, 8, &end);
	cr_assert_eq(got, 5);
	cr_assert(end, "5 short entries of 8, room to spare: the end");
	cr_assert_eq(gofer_getdents(&cl, GOFER_ROOT_FID, 0, d, 5, &end), 5);
	cr_assert(!end, "max entries: maybe more");
	for (long i = 0; i < got; i++) {
		if (strcmp(d[i].name, "sub") == 0)
			cr_assert_eq(d[i].type, LINUX_DT_DIR);
		if (strcmp(d[i].name, "link") == 0)
			cr_assert_eq(d[i].type, LINUX_DT_LNK);
		if (strcmp(d[i].name, "fifo") == 0)
			cr_assert_eq(d[i].type, LINUX_DT_FIFO);
	}
	cr_assert_eq(gofer_getdents(&cl, GOFER_ROOT_FID, 0, d, 0, NULL), -EINVAL);
}

static void check_big_listing(size_t max, int min_calls)
{
	static char *names[NMANY + 8];
	struct gofer_stat st;
	uint32_t big;
	char want[256];
	int calls;

	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "big", &big, &st), 0);
	int n = list_all(big, max, names, NMANY + 8, &calls);
	cr_assert_eq(n, NMANY);
	cr_assert_geq(calls, min_calls, "%d calls", calls);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		long_name(want, i);
		cr_assert_str_eq(names[i], want);
		free(names[i]);
	}
	cr_assert_eq(gofer_clunk(&cl, big), 0);
}

Test(gofer_serve, getdents_more_than_one_reply)
{
	/* 700 x 218 bytes of entries do not fit in one 64 KiB reply. */
	check_big_listing(4096, 3 + 1);
}

Test(gofer_serve, getdents_paged_by_max) { check_big_listing(7, NMANY / 7 + 1); }

Test(gofer_serve, open_refusals)
{
	struct gofer_stat st;
	uint32_t file, dir, fifo, link;
	int fd = -1;

	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "hello.txt", &file, &st), 0);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "sub", &dir, &st), 0);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "fifo", &fifo, &st), 0);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "link", &link, &st), 0);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_WRONLY, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_RDWR, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_RDONLY | LINUX_O_CREAT, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_RDONLY | LINUX_O_TRUNC, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_RDONLY | LINUX_O_TMPFILE, &fd), -EROFS);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_PATH, &fd), -EINVAL);
	cr_assert_eq(gofer_open(&cl, file, LINUX_O_DIRECTORY, &fd), -ENOTDIR);
	cr_assert_eq(gofer_open(&cl, fifo, LINUX_O_RDONLY, &fd), -ENXIO);
	cr_assert_eq(gofer_open(&cl, link, LINUX_O_RDONLY, &fd), -ELOOP);
	cr_assert_eq(fd, -1);
	/* A directory opens, and is one. */
	cr_assert_eq(gofer_open(&cl, dir, LINUX_O_RDONLY | LINUX_O_DIRECTORY, &fd), 0);
	DIR *d = fdopendir(fd);
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, "inner") == 0;
	cr_assert_eq(n, 1);
	closedir(d);
	struct gofer_dirent ents[4];
	cr_assert_eq(gofer_getdents(&cl, file, 0, ents, 4, NULL), -ENOTDIR);
}

Test(gofer_serve, bad_fids)
{
	struct gofer_stat st;
	struct gofer_dirent ents[2];
	uint32_t fid;
	int fd;
	char buf[8];

	cr_assert_eq(gofer_stat(&cl, 12345, &st), -EBADF);
	cr_assert_eq(gofer_stat(&cl, 0xffffffffu, &st), -EBADF);
	cr_assert_eq(gofer_walk(&cl, 777, "hello.txt", &fid, &st), -EBADF);
	cr_assert_eq(gofer_open(&cl, 777, LINUX_O_RDONLY, &fd), -EBADF);
	cr_assert_eq(gofer_readlink(&cl, 777, buf, sizeof(buf)), -EBADF);
	cr_assert_eq(gofer_getdents(&cl, 777, 0, ents, 2, NULL), -EBADF);
	cr_assert_eq(gofer_clunk(&cl, 777), -EBADF);
	cr_assert_eq(gofer_clunk(&cl, GOFER_ROOT_FID), -EINVAL);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0);
	/* A clunked fid is gone. */
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "sub", &fid, &st), 0);
	cr_assert_eq(gofer_clunk(&cl, fid), 0);
	cr_assert_eq(gofer_stat(&cl, fid, &st), -EBADF);
	cr_assert_eq(gofer_clunk(&cl, fid), -EBADF);
	/* Walking from a non-directory. */
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "hello.txt", &fid, &st), 0);
	uint32_t f2;
	cr_assert_eq(gofer_walk(&cl, fid, "x", &f2, &st), -ENOTDIR);
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "missing", &f2, &st), -ENOENT);
}

Test(gofer_serve, many_fids_reused)
{
	static uint32_t fids[3000];
	struct gofer_stat st;

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000; i++)
			cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "sub", &fids[i], &st), 0);
		for (int i = 0; i < 3000; i++)
			cr_assert_eq(gofer_clunk(&cl, fids[i]), 0);
	}
	/* Freed slots are handed out again, lowest first. */
	uint32_t again;
	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "sub", &again, &st), 0);
	cr_assert_eq(again, 1);
}

/* The container root is read-only: every mutation is -EROFS, decided by the gofer. */
Test(gofer_serve, mutations_on_readonly_root)
{
	struct gofer_stat st;
	struct gofer_attr at = {.valid = GOFER_SETATTR_MODE, .mode = 0600};
	uint32_t fid, file;
	int fd;

	cr_assert_eq(gofer_walk(&cl, GOFER_ROOT_FID, "hello.txt", &file, &st), 0);
	cr_assert_eq(gofer_create(&cl, GOFER_ROOT_FID, "new", LINUX_O_RDWR, 0644, &fid, &st, &fd),
		     -EROFS);
	cr_assert_eq(fd, -1);
	cr_assert_eq(gofer_mkdir(&cl, GOFER_ROOT_FID, "d", 0755, &fid, &st), -EROFS);
	cr_assert_eq(gofer_symlink(&cl, GOFER_ROOT_FID, "s", "x", &fid, &st), -EROFS);
	cr_assert_eq(gofer_link(&cl, GOFER_ROOT_FID, "l", file, &fid, &st), -EROFS);
	cr_assert_eq(gofer_unlink(&cl, GOFER_ROOT_FID, "hello.txt", 0), -EROFS);
	cr_assert_eq(gofer_rename(&cl, GOFER_ROOT_FID, "hello.txt", GOFER_ROOT_FID, "x", 0), -EROFS);
	cr_assert_eq(gofer_setattr(&cl, file, &at, &st), -EROFS);
	struct gofer_statfs sf;
	cr_assert_eq(gofer_statfs(&cl, GOFER_ROOT_FID, &sf), 0);
	cr_assert(sf.flags & 1, "ST_RDONLY");
	char p[128];
	snprintf(p, sizeof(p), "%s/hello.txt", root);
	struct stat host;
	cr_assert_eq(stat(p, &host), 0);
	cr_assert_eq(host.st_mode & 07777, 0644);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0); /* still in step */
}

/* How many threads of process pid may run on exactly one CPU, cpu? */
static int threads_pinned_to(pid_t pid, int cpu)
{
	char path[320], line[256], want[16];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	snprintf(want, sizeof(want), "%d\n", cpu);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "Cpus_allowed_list:\t", 19) == 0 &&
			    strcmp(line + 19, want) == 0)
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* CHANNELS: a connection per CPU, each answered by a gofer thread kept on that CPU; a request
 * from any CPU is answered. Handed over once. */
Test(gofer_serve, channels_per_cpu)
{
	struct gofer_stat st;
	cpu_set_t all, one;
	uint8_t buf[128];

	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	if (CPU_COUNT(&all) < 2)
		cr_skip_test("one CPU: the gofer makes no channels (channels_none tests that)");
	gofer_client_close(&cl);
	gt_wait(srv.pid);
	srv = gt_serve_with(root, true);
	cr_assert_eq(gofer_client_init(&cl, srv.sock), 0);
	cr_assert_eq(gofer_client_channels(&cl), 0);
	cr_assert_eq(cl.nchans, (uint32_t)MIN(CPU_COUNT(&all), (int)GOFER_CHANNELS_MAX));
	for (uint32_t i = 0; i < cl.nchans; i++) {
		cr_assert(CPU_ISSET(cl.chan_cpu[i], &all));
		cr_assert_eq(threads_pinned_to(srv.pid, (int)cl.chan_cpu[i]), 1,
			     "no gofer thread on CPU %u alone", cl.chan_cpu[i]);
		CPU_ZERO(&one);
		CPU_SET(cl.chan_cpu[i], &one);
		cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
		cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0);
		cr_assert_eq(st.mode & LINUX_S_IFMT, LINUX_S_IFDIR);
	}
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	/* A second CHANNELS, asked by hand (the client does not ask twice): -EALREADY, no fd. */
	struct gofer_req req = {.type = GOFER_CHANNELS, .tag = 4242};
	struct gofer_rep rep;
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &req);
	cr_assert_gt(n, 0);
	cr_assert_eq(send(srv.sock, buf, (size_t)n, 0), n);
	n = recv(srv.sock, buf, sizeof(buf), 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 4242, &rep), 0);
	cr_assert_eq(rep.err, -EALREADY);
	/* Closing every connection ends the gofer cleanly, its threads included. */
	gofer_client_close(&cl);
	cr_assert_eq(gt_wait(srv.pid), 0);
	srv.pid = 0;
	cr_assert_eq(gofer_client_init(&cl, open("/dev/null", O_RDONLY | O_CLOEXEC)), 0);
}

/* A gofer served without channels (one CPU, or gofer_serve) says so; the first connection
 * serves everything. */
Test(gofer_serve, channels_none)
{
	struct gofer_stat st;

	cr_assert_eq(gofer_client_channels(&cl), -EOPNOTSUPP);
	cr_assert_eq(cl.nchans, 0);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), 0);
}

Test(gofer_serve, garbage_header_disconnects)
{
	uint8_t junk[20] = "not a gofer message";
	struct gofer_stat st;

	cr_assert_eq(send(srv.sock, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	int status = gt_wait(srv.pid);
	srv.pid = 0;
	cr_assert_eq(status, 100 + EPROTO);
	/* The client sees a gone gofer, and stays failed. */
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(gofer_stat(&cl, GOFER_ROOT_FID, &st), -EIO);
}

Test(gofer_serve, oversized_message_disconnects)
{
	static uint8_t big[GOFER_MSG_MAX + 100];
	struct gofer_req req = {.type = GOFER_STAT, .tag = 1};

	gofer_encode_req(big, sizeof(big), &req);
	uint32_t len = sizeof(big);
	memcpy(big + 8, &len, 4);
	cr_assert_eq(send(srv.sock, big, sizeof(big), 0), (ssize_t)sizeof(big));
	int status = gt_wait(srv.pid);
	srv.pid = 0;
	cr_assert_eq(status, 100 + EPROTO);
}

Test(gofer_serve, clean_shutdown)
{
	gofer_client_close(&cl);
	int status = gt_wait(srv.pid);
	srv.pid = 0;
	cr_assert_eq(status, 0);
	/* teardown closes again: make that harmless. */
	cr_assert_eq(gofer_client_init(&cl, open("/dev/null", O_RDONLY | O_CLOEXEC)), 0);
}
