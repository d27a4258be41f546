/* Directory listings read whole and kept in the open file (see dirlist.h). */
#include "sentry/fs/dirlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dirlist *dirlist_new(void) { return calloc(1, sizeof(struct dirlist)); }

int dirlist_push(struct dirlist *l, const char *name, size_t len, uint64_t ino, uint8_t type)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		void *p = realloc(l->ents, ncap * sizeof(*l->ents));
		if (!p)
			return -ENOMEM;
		l->ents = p;
		l->cap = ncap;
	}
	char *s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, name, len);
	s[len] = '\0';
	l->ents[l->n++] = (struct dirlist_ent){s, ino, type};
	return 0;
}

void dirlist_free(struct dirlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->ents[i].name);
	free(l->ents);
	free(l);
}

int dirlist_iterate(struct file *f, struct dir_ctx *ctx, dirlist_read_fn read)
{
	struct dirlist *l = f->priv;

	if (!l || ctx->pos == 2) {
		struct dirlist *nl;
		int r = read(f, &nl);
		if (r < 0)
			return r;
		dirlist_free(l);
		f->priv = l = nl;
	}
	for (uint64_t i = ctx->pos - 2; i < l->n; i++) {
		struct dirlist_ent *e = &l->ents[i];
		if (!ctx->emit(ctx, e->name, strlen(e->name), e->ino, e->type))
			return 0;
		ctx->pos = i + 3;
	}
	return 0;
}

void dirlist_release(struct file *f) { dirlist_free(f->priv); }
