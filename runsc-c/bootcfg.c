/* The boot configuration's wire format: a bounded tag-length-value encoding, checked on read.
 *
 * Layout (host byte order; writer and reader are the same binary on the same host):
 *   u32 magic "RSC1", u32 total length, then records: u16 tag, u16 zero, u32 len, len bytes.
 * Strings carry no NUL; argv, env and mounts are repeated records in order. A mount record is
 *   u8 readonly, u8 has_source, u8 has_data, u8 zero, u32 length of type, source, dest, data,
 *   then the four strings (an absent one has length 0). The reader treats the
 * buffer as untrusted: every length is checked against what is left and against the limits.
 */
#include "runsc-c/cli.h"

#include <errno.h>
#include <inttypes.h>
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
	TAG_MOUNT,
	TAG_ROOT_RO,
	TAG_PROCESS, /* struct sentry_process as is (same binary, same host), or empty: none */
	TAG_NO_PATCHING,
	TAG_SECCOMP,	 /* struct seccomp_rec, or empty: no profile; then nrules TAG_SCMP_RULEs */
	TAG_SCMP_RULE, /* struct sentry_scmp_rule as is */
};

struct seccomp_rec {
	uint8_t default_action, zero;
	uint16_t default_errno;
	uint32_t nrules;
};

struct mount_rec {
	uint8_t readonly, has_source, has_data, zero;
	uint32_t len[4]; /* type, source, dest, data */
};

static const char *const mount_types[] = {"bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue"};

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

static bool mount_type_known(const char *type)
{
	for (size_t i = 0; i < sizeof(mount_types) / sizeof(mount_types[0]); i++)
		if (strcmp(type, mount_types[i]) == 0)
			return true;
	return false;
}

/* An absolute path of at most BOOT_MOUNT_PATH_MAX bytes with no "." or ".." component. */
static bool mount_path_valid(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/' || len > BOOT_MOUNT_PATH_MAX)
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
	}
	return true;
}

bool boot_mount_valid(const struct boot_mount *m)
{
	uint64_t size;
	uint32_t mode;

	if (!m->type || !m->dest || !mount_type_known(m->type) || !mount_path_valid(m->dest))
		return false;
	if (m->source && strlen(m->source) > BOOT_MOUNT_PATH_MAX)
		return false;
	if (m->data && strlen(m->data) > BOOT_MOUNT_DATA_MAX)
		return false;
	if (strcmp(m->type, "bind") == 0)
		return m->source && mount_path_valid(m->source) && !m->data;
	if (strcmp(m->type, "tmpfs") == 0)
		return tmpfs_opts_parse(m->data, &size, &mode) == 0;
	return true; /* proc, sysfs, devpts, mqueue: data is carried, and ignored */
}

static int put_mount(struct buf *b, const struct boot_mount *m)
{
	const char *str[4] = {m->type, m->source, m->dest, m->data};
	struct mount_rec r = {
	    .readonly = m->readonly, .has_source = m->source != NULL, .has_data = m->data != NULL};
	struct rec_hdr h = {.tag = TAG_MOUNT, .len = sizeof(r)};
	int err;

	if (!boot_mount_valid(m))
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		r.len[i] = str[i] ? (uint32_t)strlen(str[i]) : 0;
		h.len += r.len[i];
	}
	if ((err = buf_put(b, &h, sizeof(h))) < 0 || (err = buf_put(b, &r, sizeof(r))) < 0)
		return err;
	for (int i = 0; i < 4; i++)
		if ((err = buf_put(b, str[i] ? str[i] : "", r.len[i])) < 0)
			return err;
	return 0;
}

/* Mount flags an OCI config lists among a tmpfs's options: the Sentry's tmpfs has no use for
 * them. ("ro" is not one: it is the mount's readonly field.) */
static bool tmpfs_flag_ignored(const char *o, size_t n)
{
	static const char *const flags[] = {
	    "rw",	"nosuid",      "suid",	   "nodev",   "dev",   "noexec",
	    "exec",	"strictatime", "relatime", "noatime", "atime", "nodiratime",
	    "diratime", "private",     "rprivate", "slave",   "rslave"};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i]) == n && strncmp(o, flags[i], n) == 0)
			return true;
	return false;
}

int tmpfs_opts_parse(const char *data, uint64_t *size, uint32_t *mode)
{
	*size = 0;
	*mode = 01777;
	if (!data)
		return 0;
	for (const char *o = data; *o;) {
		size_t n = strcspn(o, ",");
		const char *v = memchr(o, '=', n);
		char *end;

		if (n > 0 && !v && tmpfs_flag_ignored(o, n)) {
			o += n;
			if (*o == ',' && *++o == '\0')
				return -EINVAL;
			continue;
		}
		if (n == 0 || !v)
			return -EINVAL;
		size_t klen = (size_t)(v - o);
		v++;
		if (v == o + n || *v == '-' || *v == '+' || *v == ' ')
			return -EINVAL;
		errno = 0;
		if (klen == 4 && strncmp(o, "size", 4) == 0) {
			uint64_t x = strtoull(v, &end, 10), mul = 1;
			switch (*end) {
			case 'k':
			case 'K':
				mul = 1ull << 10, end++;
				break;
			case 'm':
			case 'M':
				mul = 1ull << 20, end++;
				break;
			case 'g':
			case 'G':
				mul = 1ull << 30, end++;
				break;
			}
			if (errno || end != o + n || x == 0 || x > UINT64_MAX / mul)
				return -EINVAL;
			*size = x * mul;
		} else if (klen == 4 && strncmp(o, "mode", 4) == 0) {
			unsigned long x = strtoul(v, &end, 8);
			if (errno || end != o + n || x > 07777)
				return -EINVAL;
			*mode = (uint32_t)x;
		} else if ((klen == 9 && strncmp(o, "nr_inodes", 9) == 0) ||
			   (klen == 3 && strncmp(o, "uid", 3) == 0) ||
			   (klen == 3 && strncmp(o, "gid", 3) == 0)) {
			strtoull(v, &end, 10);
			if (errno || end != o + n)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		o += n;
		if (*o == ',' && *++o == '\0')
			return -EINVAL;
	}
	return 0;
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
		closed = (uint8_t)c->stdio_closed, root_ro = c->root_readonly,
		nopatch = c->no_syscall_patching;
	size_t argc = vec_len(c->argv), envc = vec_len(c->envp);
	int r;

	if (argc == 0 || argc > BOOT_CONFIG_MAX_VEC || envc > BOOT_CONFIG_MAX_VEC ||
	    c->stdio_closed > 7 || c->nmounts > BOOT_MOUNTS_MAX || (c->nmounts && !c->mounts))
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
	    (r = put_str(&b, TAG_HOSTNAME, c->hostname)) < 0)
		goto fail;
	for (size_t i = 0; i < c->nmounts; i++)
		if ((r = put_mount(&b, &c->mounts[i])) < 0)
			goto fail;
	/* The one-byte records come last: a config cut after any mount lacks them. */
	if ((r = put_rec(&b, TAG_STRACE, &strace, 1)) < 0 ||
	    (r = put_rec(&b, TAG_LOGLEVEL, &level, 1)) < 0 ||
	    (r = put_rec(&b, TAG_STDIO_CLOSED, &closed, 1)) < 0 ||
	    (r = put_rec(&b, TAG_ROOT_RO, &root_ro, 1)) < 0 ||
	    (r = put_rec(&b, TAG_NO_PATCHING, &nopatch, 1)) < 0)
		goto fail;
	if ((r = put_rec(&b, TAG_PROCESS, &c->process, c->has_process ? sizeof(c->process) : 0)) <
	    0)
		goto fail;
	struct seccomp_rec sr = {.default_action = c->seccomp.default_action,
				 .default_errno = c->seccomp.default_errno,
				 .nrules = (uint32_t)c->seccomp.nrules};
	r = -EINVAL;
	if (c->has_seccomp && !sentry_seccomp_valid(&c->seccomp))
		goto fail;
	if ((r = put_rec(&b, TAG_SECCOMP, &sr, c->has_seccomp ? sizeof(sr) : 0)) < 0)
		goto fail;
	for (size_t i = 0; c->has_seccomp && i < c->seccomp.nrules; i++)
		if ((r = put_rec(&b, TAG_SCMP_RULE, &c->seccomp.rules[i],
				 sizeof(c->seccomp.rules[i]))) < 0)
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
	for (size_t i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].dest);
		free(c->mounts[i].data);
	}
	free(c->mounts);
	free(c->seccomp.rules);
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

/* Decode one mount record (len bytes at data) and append it to c->mounts. */
static int decode_mount(struct boot_config *c, const char *data, uint32_t len)
{
	struct boot_mount m = {0};
	struct mount_rec r;
	char **str[4] = {&m.type, &m.source, &m.dest, &m.data};
	size_t off = sizeof(r);
	int err = 0;

	if (len < sizeof(r) || c->nmounts >= BOOT_MOUNTS_MAX)
		return -EINVAL;
	memcpy(&r, data, sizeof(r));
	if (r.readonly > 1 || r.has_source > 1 || r.has_data > 1 || r.zero)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		bool present = i == 1 ? r.has_source : i == 3 ? r.has_data : true;
		if (r.len[i] > len - off || (!present && r.len[i]) ||
		    r.len[i] > BOOT_MOUNT_PATH_MAX) {
			err = -EINVAL;
			goto fail;
		}
		if (present && !(*str[i] = rec_str(data + off, r.len[i], &err)))
			goto fail;
		off += r.len[i];
	}
	m.readonly = r.readonly;
	err = -EINVAL;
	if (off != len || !boot_mount_valid(&m))
		goto fail;
	struct boot_mount *nm = realloc(c->mounts, (c->nmounts + 1) * sizeof(*nm));
	if (!nm) {
		err = -ENOMEM;
		goto fail;
	}
	c->mounts = nm;
	c->mounts[c->nmounts++] = m;
	return 0;
fail:
	for (int i = 0; i < 4; i++)
		free(*str[i]);
	return err;
}

/* The Sentry sets these on init as they are: every count, mask and limit must make sense. */
static bool process_valid(const struct sentry_process *p)
{
	const uint64_t all = (1ULL << 41) - 1; /* CAP_CHOWN .. CAP_CHECKPOINT_RESTORE */

	if (p->ngroups > SENTRY_MAX_GROUPS || p->umask > 0777 || p->no_new_privs > 1)
		return false;
	if ((p->cap_bounding | p->cap_effective | p->cap_inheritable | p->cap_permitted |
	     p->cap_ambient) &
	    ~all)
		return false;
	if ((p->cap_effective & ~p->cap_permitted) ||
	    (p->cap_ambient & ~(p->cap_permitted & p->cap_inheritable)))
		return false;
	for (int i = 0; i < SENTRY_RLIMITS; i++)
		if (p->rlimit_set[i] > 1 ||
		    (p->rlimit_set[i] && p->rlimit_cur[i] > p->rlimit_max[i]))
			return false;
	return true;
}

/* One record into c; *nrules is the seccomp header's rule count. */
static int decode_rec(struct boot_config *c, size_t *argc, size_t *envc, uint32_t *nrules,
		      uint16_t tag, const char *data, uint32_t len, unsigned *seen)
{
	int err = 0;
	char *s;

	switch (tag) {
	case TAG_STRACE:
	case TAG_LOGLEVEL:
	case TAG_STDIO_CLOSED:
	case TAG_ROOT_RO:
	case TAG_NO_PATCHING: {
		if (len != 1 || (*seen & (1u << tag)))
			return -EINVAL;
		uint8_t v = (uint8_t)data[0];
		*seen |= 1u << tag;
		if (tag == TAG_STRACE && v <= 2)
			c->strace = v;
		else if (tag == TAG_LOGLEVEL && v <= LOG_DEBUG)
			c->log_level = v;
		else if (tag == TAG_STDIO_CLOSED && v <= 7)
			c->stdio_closed = v;
		else if (tag == TAG_ROOT_RO && v <= 1)
			c->root_readonly = v;
		else if (tag == TAG_NO_PATCHING && v <= 1)
			c->no_syscall_patching = v;
		else
			return -EINVAL;
		return 0;
	}
	case TAG_MOUNT:
		return decode_mount(c, data, len);
	case TAG_PROCESS:
		if ((len != 0 && len != sizeof(c->process)) || (*seen & (1u << tag)))
			return -EINVAL;
		*seen |= 1u << tag;
		if (len == 0)
			return 0;
		memcpy(&c->process, data, len);
		c->has_process = true;
		return process_valid(&c->process) ? 0 : -EINVAL;
	case TAG_SECCOMP: {
		struct seccomp_rec sr;
		if ((len != 0 && len != sizeof(sr)) || (*seen & (1u << tag)))
			return -EINVAL;
		*seen |= 1u << tag;
		if (len == 0)
			return 0;
		memcpy(&sr, data, sizeof(sr));
		if (sr.zero || sr.nrules > SENTRY_SCMP_MAX_RULES)
			return -EINVAL;
		c->has_seccomp = true;
		c->seccomp.default_action = sr.default_action;
		c->seccomp.default_errno = sr.default_errno;
		/* nrules counts the rules read so far; the header's count is checked at the end */
		c->seccomp.rules = calloc(sr.nrules + 1, sizeof(*c->seccomp.rules));
		*nrules = sr.nrules;
		return c->seccomp.rules ? 0 : -ENOMEM;
	}
	case TAG_SCMP_RULE:
		if (!c->has_seccomp || len != sizeof(struct sentry_scmp_rule) ||
		    c->seccomp.nrules >= *nrules)
			return -EINVAL;
		memcpy(&c->seccomp.rules[c->seccomp.nrules++], data, len);
		return 0;
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
	uint32_t nrules = 0;
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
		if ((r = decode_rec(c, &argc, &envc, &nrules, h.tag, p + off, h.len, &seen)) < 0)
			goto fail;
		off += h.len;
	}
	r = -EINVAL;
	/* Every field is required, so a truncated config can never pass for a shorter one. */
	if (argc == 0 || !c->platform || !c->cwd || !c->hostname ||
	    seen != ((1u << TAG_STRACE) | (1u << TAG_LOGLEVEL) | (1u << TAG_STDIO_CLOSED) |
		     (1u << TAG_ROOT_RO) | (1u << TAG_PROCESS) | (1u << TAG_NO_PATCHING) |
		     (1u << TAG_SECCOMP)))
		goto fail;
	if (c->has_seccomp &&
	    (c->seccomp.nrules != nrules || !sentry_seccomp_valid(&c->seccomp)))
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
