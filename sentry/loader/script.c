/* "#!" scripts: parse the interpreter line exactly as Linux's binfmt_script does (no I/O). */
#include "sentry/loader/loader.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

static bool spacetab(char c) { return c == ' ' || c == '\t'; }

/* The first byte of [first, last] that is not a space or tab, or NULL. */
static char *next_non_spacetab(char *first, char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

/* The first byte of [first, last] that is a space, a tab or a NUL, or NULL. */
static char *next_terminator(char *first, char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/* Linux's strnchr: c in the first n bytes of s, stopping at a NUL. */
static char *find_newline(char *s, size_t n)
{
	for (; n-- && *s; s++)
		if (*s == '\n')
			return s;
	return NULL;
}

int script_parse(const char *head, size_t len, struct script_line *out)
{
	/* Linux reads LOADER_BUF_SIZE bytes, NUL-padded when the file is shorter. */
	char buf[LOADER_BUF_SIZE] = {0};
	char *buf_end = buf + sizeof(buf) - 1, *i_end, *i_name, *i_sep, *i_arg = NULL;

	memcpy(buf, head, MIN(len, sizeof(buf)));
	if (buf[0] != '#' || buf[1] != '!')
		return -ENOEXEC;
	/*
	 * Either a newline ends the line (nothing is truncated), or the interpreter name must be
	 * followed by a space, tab or NUL inside the buffer: a truncated interpreter name is
	 * refused, a truncated argument is fine (the interpreter can re-read the script). The
	 * line then ends at the last byte of the buffer (excluded).
	 */
	i_end = find_newline(buf, sizeof(buf));
	if (!i_end) {
		i_end = next_non_spacetab(buf + 2, buf_end);
		if (!i_end)
			return -ENOEXEC; /* all spaces and tabs */
		if (!next_terminator(i_end, buf_end))
			return -ENOEXEC;
		i_end = buf_end;
	}
	while (spacetab(i_end[-1])) /* stops at the '!' at worst */
		i_end--;
	i_name = next_non_spacetab(buf + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC; /* no interpreter name */
	/* Everything after the name and its separating blanks is one argument, inner blanks
	 * and all (a NUL ends it early; a line that ends in blanks before a NUL still has one,
	 * empty, as on Linux). */
	i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep)
		i_arg = next_non_spacetab(i_sep, i_end);
	*i_end = 0;
	if (i_arg)
		*i_sep = 0;
	strcpy(out->interp, i_name);
	out->has_arg = i_arg != NULL;
	strcpy(out->arg, i_arg ? i_arg : "");
	return 0;
}
