/* The gofer process: its life (confinement, then serving) and its request loop. */
#ifndef GOFER_GOFER_H
#define GOFER_GOFER_H

#include <stdbool.h>
#include <stddef.h>

#include "gofer/client.h"

/* A bind mount source the gofer serves as root 1, 2, ... in order: an absolute host path of a
 * directory or a regular file. */
struct gofer_bind {
	const char *source;
	bool writable;
};

/* The gofer role's whole life, called in a freshly forked (or re-executed) process by the CLI.
 * Enters new mount, ipc and uts namespaces and a network namespace: netns_fd's (the Sentry's
 * empty one, which the CLI passes so that a sandbox makes one, not two: ~0.3 ms each here), or
 * a new one if netns_fd is -1 or cannot be joined (an unprivileged caller); and a new user
 * namespace first if the process is not privileged enough for the rest. Then it makes rootfs
 * (which may be "/") the root of its mount namespace, recursively read-only, nosuid and nodev,
 * with host pseudo filesystems (proc, sysfs, cgroup, ...) beneath it detached, closes every fd
 * but sock and the log fd, drops all capabilities but CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH, then starts a thread per CPU for the connections CHANNELS hands over
 * (gofer_channels_open: they start with those capabilities), sets no_new_privs and installs
 * its seccomp allowlist (gofer/seccomp.c) on every thread, and serves sock until the Sentry
 * closes it.
 * Each of binds[0..nbinds) is opened before the pivot as a detached recursive clone of its
 * mount tree (open_tree), nosuid and nodev, and read-only all the way down unless writable
 * (a file's directory is cloned, and only the file is served); they are roots 1.. of
 * gofer_serve_roots. The umask is 0 (CREATE and MKDIR get the mode the Sentry computed).
 * Takes ownership of sock. Returns the process's exit status: 0 after a clean shutdown,
 * 1 if confinement or serving failed (logged). Must be called single-threaded. */
int gofer_main(int sock, const char *rootfs, const struct gofer_bind *binds, size_t nbinds,
	       int netns_fd);

/* Most roots one gofer serves (the container root and its bind mounts). */
#define GOFER_ROOTS_MAX 257

/* A root to serve: a directory (name NULL: fd is it), or a single regular file (name in the
 * directory fd; the directory itself is never served). */
struct gofer_root {
	int fd;
	const char *name;
	bool writable; /* mutations allowed; otherwise every one is -EROFS */
};

/* A gofer thread's time slice: a request takes it a few microseconds, and with a short slice
 * it runs as soon as one wakes it rather than after whatever else has the CPU (a teardown, a
 * stub's fork, a thread spinning): the cold gcc workload's round trips 5.7 -> 4.7 ms
 * (medians of 8). */
#define GOFER_SLICE_NS 100000 /* 0.1 ms, the shortest Linux takes */

/* The connections besides the first (CHANNELS, gofer/protocol.h): one per CPU the gofer may
 * run on, each served by a thread kept on that CPU. */
struct gofer_channels {
	uint32_t n;
	uint32_t cpu[GOFER_CHANNELS_MAX]; /* increasing */
	int srv[GOFER_CHANNELS_MAX];	  /* the gofer's ends, each its thread's */
	int cli[GOFER_CHANNELS_MAX];	  /* the Sentry's, until CHANNELS (then -1) */
	int ready[GOFER_CHANNELS_MAX];	  /* by each thread: 1 set up, -1 failed */
};

/* Make a channel for each CPU the calling thread may run on, up to GOFER_CHANNELS_MAX (none
 * with one CPU), and start its thread: on that CPU, with a short slice and its buffer
 * allocated (so that what follows runs under the seccomp filter: recvmsg, the requests,
 * exit), then waiting for requests, which it serves once gofer_serve_roots runs. Returns once
 * every thread is set up; fewer channels than CPUs (or none) if a socket or thread cannot be
 * made. Best effort: the first connection serves every request anyway. */
void gofer_channels_open(struct gofer_channels *ch);

/* Serve the gofer protocol (gofer/protocol.h) on sock with roots[0..n): fid 0 is roots[0]
 * (a directory), ATTACH i gives a fid of roots[i]. Takes ownership of every roots[i].fd.
 * With chans (gofer_channels_open's; may be NULL), CHANNELS hands their Sentry ends over and
 * their threads serve them, one request at a time with this one; when sock ends they stop.
 * Returns as gofer_serve, or -EINVAL for bad roots (n 0 or too many, a root of the wrong
 * type, roots[0] a file), -ENOENT etc. for a file root that cannot be opened. */
int gofer_serve_roots(int sock, const struct gofer_root *roots, size_t n,
		      struct gofer_channels *chans);

/* Serve the gofer protocol (gofer/protocol.h) on sock, a connected SOCK_SEQPACKET socket,
 * with fid 0 = root_fd (a directory; O_PATH is fine). Every host file is reached by one
 * component at a time beneath a fid with openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS.
 * Returns 0 when the peer closes the socket, -EPROTO if the peer broke the framing (bad
 * header, oversized message, fds sent to the gofer), or another -errno of the socket.
 * Takes ownership of root_fd (closed on return), not of sock. Does no confinement itself. */
int gofer_serve(int sock, int root_fd);

/* Install the gofer's seccomp allowlist (default action: kill the process) on every thread.
 * sendmsg and recvmsg are allowed on sock and on chans' gofer ends (chans may be NULL) only,
 * and write on log_fd only; the mutating calls only when writable (some root is). Sets
 * no_new_privs. Returns 0 or -errno. */
int gofer_install_seccomp(int sock, const struct gofer_channels *chans, int log_fd,
			  bool writable);

#endif
