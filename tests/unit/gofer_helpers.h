/* Helpers shared by the gofer unit tests: temp trees and a gofer_serve child on a socketpair. */
#ifndef TESTS_UNIT_GOFER_HELPERS_H
#define TESTS_UNIT_GOFER_HELPERS_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/gofer.h"

static inline int gt_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Remove a temp tree made by a test. */
static inline void gt_rm_tree(const char *dir) { nftw(dir, gt_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static inline void gt_write(const char *dir, const char *rel, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "create %s", p);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static inline void gt_mkdir(const char *dir, const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static inline void gt_symlink(const char *dir, const char *rel, const char *target)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s", p);
}

struct gt_server {
	int sock; /* the client's end */
	pid_t pid;
};

/* Fork a child that serves root (a directory path) on a socketpair with gofer_serve_roots, no
 * confinement; with channels, with a channel per CPU too (gofer_channels_open), as the gofer
 * process serves. The child exits 0 if serving returned 0, else 100 + (-ret). */
static inline struct gt_server gt_serve_with(const char *root, bool channels)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static struct gofer_channels ch;
		close(sv[0]);
		struct gofer_root r = {.fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)};
		if (r.fd < 0)
			_exit(99);
		if (channels)
			gofer_channels_open(&ch);
		int ret = gofer_serve_roots(sv[1], &r, 1, channels ? &ch : NULL);
		_exit(ret == 0 ? 0 : 100 + (-ret > 100 ? 100 : -ret));
	}
	close(sv[1]);
	return (struct gt_server){.sock = sv[0], .pid = pid};
}

static inline struct gt_server gt_serve(const char *root) { return gt_serve_with(root, false); }

/* A root for gt_serve_roots: a directory path, or with file set a regular file's path. */
struct gt_root {
	const char *path;
	bool writable;
	bool file;
};

/* Fork a child serving roots[0..n) with gofer_serve_roots (exit status as gt_serve's). */
static inline struct gt_server gt_serve_roots(const struct gt_root *roots, size_t n)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct gofer_root gr[16];
		char dirs[16][4096];
		close(sv[0]);
		if (n > 16)
			_exit(98);
		for (size_t i = 0; i < n; i++) {
			gr[i] = (struct gofer_root){.writable = roots[i].writable};
			snprintf(dirs[i], sizeof(dirs[i]), "%s", roots[i].path);
			if (roots[i].file) {
				char *slash = strrchr(dirs[i], '/');
				*slash = '\0';
				gr[i].name = slash + 1;
			}
			gr[i].fd = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (gr[i].fd < 0)
				_exit(99);
		}
		int r = gofer_serve_roots(sv[1], gr, n, NULL);
		_exit(r == 0 ? 0 : 100 + (-r > 100 ? 100 : -r));
	}
	close(sv[1]);
	return (struct gt_server){.sock = sv[0], .pid = pid};
}

/* Wait for the server child; returns its exit status (or 128 + signal). */
static inline int gt_wait(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
