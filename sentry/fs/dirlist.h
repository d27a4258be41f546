/* Directory listings read whole when a listing starts and kept in the open file (f->priv), for
 * filesystems that cannot resume a listing at a stable position (goferfs, overlay). */
#ifndef SENTRY_FS_DIRLIST_H
#define SENTRY_FS_DIRLIST_H

#include <stddef.h>
#include <stdint.h>

#include "sentry/vfs/vfs_fs.h"

struct dirlist_ent {
	char *name; /* NUL-terminated, owned by the listing */
	uint64_t ino;
	uint8_t type; /* LINUX_DT_* */
};

struct dirlist {
	size_t n, cap;
	struct dirlist_ent *ents;
};

/* A new empty listing, or NULL on ENOMEM. Free with dirlist_free. */
struct dirlist *dirlist_new(void);
/* Append an entry with a copy of name[0..len). 0 or -ENOMEM. */
int dirlist_push(struct dirlist *l, const char *name, size_t len, uint64_t ino, uint8_t type);
/* Free l and its names; NULL is fine. */
void dirlist_free(struct dirlist *l);

/* Reads the whole listing of f's directory: 0 with *out, or -errno. */
typedef int (*dirlist_read_fn)(struct file *f, struct dirlist **out);
/* An iterate op over the listing in f->priv: at position 2 (a new listing, or after a rewind)
 * read() replaces it; then entries go to ctx from ctx->pos (entry i is at position i + 2).
 * 0 or read's -errno. */
int dirlist_iterate(struct file *f, struct dir_ctx *ctx, dirlist_read_fn read);
/* A release op for such a file: frees f->priv's listing. */
void dirlist_release(struct file *f);

#endif
