/* The boot configuration's wire format: a bounded tag-length-value encoding, checked on read.
 *
 * Layout (host byte order; writer and reader are the same binary on the same host):
 *   u32 magic "RSC1", u32 total length, then records: u16 tag, u16 zero, u32 len, len bytes.
 * Strings carry no NUL; argv and env are repeated records in order. The reader treats the
 * buffer as untrusted: every length is checked against what is left and against the limits.
 */
#include "runsc-c/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define BOOTCFG_MAGIC 0x31435352u /* "RSC1" */
#define BOOTCFG_PLATFORM_MAX 64

enum bootcfg_tag {
	TAG_ARG = 1,
	TAG_ENV,
	TAG_PLATFORM,
	TAG_CWD,
	TAG_HOSTNAME,
	TAG_STRACE,
	TAG_LOGLEVEL,
	TAG_STDIO_CLOSED,
	TAG_NO_PATCHING,
};

struct rec_hdr {
	uint16_t tag;
	uint16_t zero;
	uint32_t len;
};

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_put(struct buf *b, const void *data, size_t n)
{
	if (n > BOOT_CONFIG_MAX - b->len)
		return -EINVAL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int put_rec(struct buf *b, uint16_t tag, const void *data, size_t n)
{
	struct rec_hdr h = {.tag = tag, .len = (uint32_t)n};
	int r;

	if (n > BOOT_CONFIG_MAX_STR)
		return -EINVAL;
	if ((r = buf_put(b, &h, sizeof(h))) < 0)
		return r;
	return buf_put(b, data, n);
}

static int put_str(struct buf *b, uint16_t tag, const char *s)
{
	return s ? put_rec(b, tag, s, strlen(s)) : -EINVAL;
}

static size_t vec_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int boot_config_encode(const struct boot_config *c, char **out, size_t *out_len)
{
	struct buf b = {0};
	uint32_t hdr[2] = {BOOTCFG_MAGIC, 0};
	uint8_t strace = c->strace, level = (uint8_t)c->log_level,
		closed = (uint8_t)c->stdio_closed, nopatch = c->no_syscall_patching;
	size_t argc = vec_len(c->argv), envc = vec_len(c->envp);
	int r;

	if (argc == 0 || argc > BOOT_CONFIG_MAX_VEC || envc > BOOT_CONFIG_MAX_VEC ||
	    c->stdio_closed > 7)
		return -EINVAL;
	if ((r = buf_put(&b, hdr, sizeof(hdr))) < 0)
		goto fail;
	for (size_t i = 0; i < argc; i++)
		if ((r = put_str(&b, TAG_ARG, c->argv[i])) < 0)
			goto fail;
	for (size_t i = 0; i < envc; i++)
		if ((r = put_str(&b, TAG_ENV, c->envp[i])) < 0)
			goto fail;
	if ((r = put_str(&b, TAG_PLATFORM, c->platform)) < 0 ||
	    (r = put_str(&b, TAG_CWD, c->cwd)) < 0 ||
	    (r = put_str(&b, TAG_HOSTNAME, c->hostname)) < 0 ||
	    (r = put_rec(&b, TAG_STRACE, &strace, 1)) < 0 ||
	    (r = put_rec(&b, TAG_LOGLEVEL, &level, 1)) < 0 ||
	    (r = put_rec(&b, TAG_STDIO_CLOSED, &closed, 1)) < 0 ||
	    (r = put_rec(&b, TAG_NO_PATCHING, &nopatch, 1)) < 0)
		goto fail;
	hdr[1] = (uint32_t)b.len;
	memcpy(b.p, hdr, sizeof(hdr));
	*out = b.p;
	*out_len = b.len;
	return 0;
fail:
	free(b.p);
	return r;
}

void boot_config_free(struct boot_config *c)
{
	env_free(c->argv);
	env_free(c->envp);
	free(c->platform);
	free(c->cwd);
	free(c->hostname);
	memset(c, 0, sizeof(*c));
}

/* A copy of the record's bytes as a string; NULL (and *err) when it holds a NUL or no memory. */
static char *rec_str(const char *data, uint32_t len, int *err)
{
	char *s;

	if (memchr(data, '\0', len)) {
		*err = -EINVAL;
		return NULL;
	}
	s = malloc((size_t)len + 1);
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* Append s to the NULL-terminated vector *v of *n entries (takes ownership of s). */
static int vec_push(char ***v, size_t *n, char *s)
{
	if (*n >= BOOT_CONFIG_MAX_VEC) {
		free(s);
		return -EINVAL;
	}
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* Set a field that may appear once. Takes ownership of s. */
static int set_once(char **field, char *s)
{
	if (*field) {
		free(s);
		return -EINVAL;
	}
	*field = s;
	return 0;
}

static int decode_rec(struct boot_config *c, size_t *argc, size_t *envc, uint16_t tag,
		      const char *data, uint32_t len, unsigned *seen)
{
	int err = 0;
	char *s;

	switch (tag) {
	case TAG_STRACE:
	case TAG_LOGLEVEL:
	case TAG_STDIO_CLOSED:
	case TAG_NO_PATCHING: {
		if (len != 1 || (*seen & (1u << tag)))
			return -EINVAL;
		uint8_t v = (uint8_t)data[0];
		*seen |= 1u << tag;
		if (tag == TAG_STRACE && v <= 1)
			c->strace = v;
		else if (tag == TAG_LOGLEVEL && v <= LOG_DEBUG)
			c->log_level = v;
		else if (tag == TAG_STDIO_CLOSED && v <= 7)
			c->stdio_closed = v;
		else if (tag == TAG_NO_PATCHING && v <= 1)
			c->no_syscall_patching = v;
		else
			return -EINVAL;
		return 0;
	}
	case TAG_ARG:
	case TAG_ENV:
	case TAG_PLATFORM:
	case TAG_CWD:
	case TAG_HOSTNAME:
		break;
	default:
		return -EINVAL;
	}
	if (!(s = rec_str(data, len, &err)))
		return err;
	switch (tag) {
	case TAG_ARG:
		return vec_push(&c->argv, argc, s);
	case TAG_ENV:
		if (!env_entry_valid(s)) {
			free(s);
			return -EINVAL;
		}
		return vec_push(&c->envp, envc, s);
	case TAG_PLATFORM:
		if (len == 0 || len > BOOTCFG_PLATFORM_MAX) {
			free(s);
			return -EINVAL;
		}
		return set_once(&c->platform, s);
	case TAG_CWD:
		if (s[0] != '/') {
			free(s);
			return -EINVAL;
		}
		return set_once(&c->cwd, s);
	default: /* TAG_HOSTNAME */
		if (len == 0 || len > BOOT_HOSTNAME_MAX) {
			free(s);
			return -EINVAL;
		}
		return set_once(&c->hostname, s);
	}
}

int boot_config_decode(const void *in, size_t len, struct boot_config *c)
{
	const char *p = in;
	uint32_t hdr[2];
	size_t off = sizeof(hdr), argc = 0, envc = 0;
	unsigned seen = 0;
	int r = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (len < sizeof(hdr) || len > BOOT_CONFIG_MAX)
		return -EINVAL;
	memcpy(hdr, p, sizeof(hdr));
	if (hdr[0] != BOOTCFG_MAGIC || hdr[1] != len)
		return -EINVAL;
	while (off < len) {
		struct rec_hdr h;

		r = -EINVAL;
		if (len - off < sizeof(h))
			goto fail;
		memcpy(&h, p + off, sizeof(h));
		off += sizeof(h);
		if (h.zero != 0 || h.len > BOOT_CONFIG_MAX_STR || h.len > len - off)
			goto fail;
		if ((r = decode_rec(c, &argc, &envc, h.tag, p + off, h.len, &seen)) < 0)
			goto fail;
		off += h.len;
	}
	r = -EINVAL;
	/* Every field is required, so a truncated config can never pass for a shorter one. */
	if (argc == 0 || !c->platform || !c->cwd || !c->hostname ||
	    seen != ((1u << TAG_STRACE) | (1u << TAG_LOGLEVEL) | (1u << TAG_STDIO_CLOSED) |
		     (1u << TAG_NO_PATCHING)))
		goto fail;
	if (!c->envp && !(c->envp = calloc(1, sizeof(*c->envp)))) {
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	boot_config_free(c);
	return r;
}
