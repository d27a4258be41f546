/* Whole-path resolution beneath a root directory, as if the root were chroot'ed. */
#ifndef GOFER_RESOLVE_H
#define GOFER_RESOLVE_H

/* Open path beneath root_fd with openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: "..", an
 * absolute path and absolute or relative symlinks all stay inside root_fd, like a chroot.
 * flags are host open flags (e.g. O_PATH, O_RDONLY | O_DIRECTORY, O_NOFOLLOW); O_CLOEXEC is
 * added; O_CREAT and O_TMPFILE are refused (-EINVAL). An empty path is -ENOENT.
 * Returns 0 and the new fd in *out_fd (the caller owns it), or -errno. */
int gofer_resolve(int root_fd, const char *path, int flags, int *out_fd);

#endif
