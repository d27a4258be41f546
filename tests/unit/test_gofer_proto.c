/* Unit tests for the gofer wire protocol: round trips and hostile input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "gofer/protocol.h"

static uint8_t buf[GOFER_MSG_MAX + 64];

static struct gofer_stat sample_stat(void)
{
	return (struct gofer_stat){.dev = 1,
				   .ino = 2,
				   .mode = LINUX_S_IFREG | 0644,
				   .nlink = 3,
				   .uid = 4,
				   .gid = 5,
				   .rdev = 6,
				   .size = 7,
				   .blocks = 8,
				   .atime_sec = -9,
				   .mtime_sec = 10,
				   .ctime_sec = 11,
				   .atime_nsec = 12,
				   .mtime_nsec = 13,
				   .ctime_nsec = 999999999,
				   .blksize = 4096};
}

static void put32_at(size_t off, uint32_t v) { memcpy(buf + off, &v, 4); }
static void put16_at(size_t off, uint16_t v) { memcpy(buf + off, &v, 2); }

/* Fix the header's length after a test changed a message's size. */
static void set_len(size_t len) { put32_at(8, (uint32_t)len); }

Test(gofer_proto, name_valid)
{
	cr_assert(gofer_name_valid("a", 1));
	cr_assert(gofer_name_valid("...", 3));
	cr_assert(gofer_name_valid(".a", 2));
	cr_assert(!gofer_name_valid("", 0));
	cr_assert(!gofer_name_valid(".", 1));
	cr_assert(!gofer_name_valid("..", 2));
	cr_assert(!gofer_name_valid("a/b", 3));
	cr_assert(!gofer_name_valid("/", 1));
	cr_assert(!gofer_name_valid("a\0b", 3));
	cr_assert(!gofer_name_valid(NULL, 1));
	char long_name[300];
	memset(long_name, 'x', sizeof(long_name));
	cr_assert(gofer_name_valid(long_name, 255));
	cr_assert(!gofer_name_valid(long_name, 256));
}

Test(gofer_proto, request_round_trips)
{
	struct gofer_req in = {.type = GOFER_WALK, .tag = 77, .fid = 5}, out;
	strcpy(in.name, "hello.txt");
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
	cr_assert_eq(n, GOFER_HDR_SIZE + 4 + 2 + 9);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
	cr_assert_eq(out.type, GOFER_WALK);
	cr_assert_eq(out.tag, 77);
	cr_assert_eq(out.fid, 5);
	cr_assert_str_eq(out.name, "hello.txt");

	in = (struct gofer_req){.type = GOFER_OPEN, .tag = 1, .fid = 9, .flags = 0x8000};
	n = gofer_encode_req(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
	cr_assert_eq(out.flags, 0x8000);

	in = (struct gofer_req){.type = GOFER_GETDENTS, .tag = 2, .fid = 3};
	in.getdents.cookie = 0x123456789abcULL;
	in.getdents.max = 17;
	in.getdents.flags = GOFER_GETDENTS_STAT;
	strcpy(in.name, "usr/lib");
	n = gofer_encode_req(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
	cr_assert_eq(out.getdents.cookie, 0x123456789abcULL);
	cr_assert_eq(out.getdents.max, 17);
	cr_assert_eq(out.getdents.flags, GOFER_GETDENTS_STAT);
	cr_assert_str_eq(out.name, "usr/lib");

	/* A WALK of several names at once. */
	in = (struct gofer_req){.type = GOFER_WALK, .tag = 4, .fid = 2};
	strcpy(in.name, "a/b/c.txt");
	n = gofer_encode_req(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
	cr_assert_str_eq(out.name, "a/b/c.txt");

	static const uint8_t simple[] = {GOFER_CLUNK, GOFER_STATFS, GOFER_ATTACH};
	for (size_t i = 0; i < sizeof(simple); i++) {
		in = (struct gofer_req){.type = simple[i], .tag = 100 + (uint32_t)i, .fid = 42};
		n = gofer_encode_req(buf, sizeof(buf), &in);
		cr_assert_eq(n, GOFER_HDR_SIZE + 4);
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
		cr_assert_eq(out.type, simple[i]);
		cr_assert_eq(out.fid, 42);
		cr_assert_eq(out.tag, 100 + i);
	}
	/* STAT and READLINK: the fid alone (an empty path), or a path beneath it. */
	static const uint8_t at[] = {GOFER_STAT, GOFER_READLINK, GOFER_OPEN};
	for (size_t i = 0; i < sizeof(at); i++) {
		in = (struct gofer_req){.type = at[i], .tag = 200 + (uint32_t)i, .fid = 42};
		n = gofer_encode_req(buf, sizeof(buf), &in);
		cr_assert_eq(n, GOFER_HDR_SIZE + 4 + 2 + (at[i] == GOFER_OPEN ? 4 : 0));
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
		cr_assert_str_eq(out.name, "");
		strcpy(in.name, "x/y");
		n = gofer_encode_req(buf, sizeof(buf), &in);
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0);
		cr_assert_str_eq(out.name, "x/y");
	}
}

Test(gofer_proto, path_valid)
{
	static char big[GOFER_PATH_MAX + 1];
	const char *good[] = {"a", "a/b", "a/b/c", "...", "a/.b/c.."};
	const char *bad[] = {"",       "/",  "/a", "a/",   "a//b", "a/./b",
			     "a/../b", "..", ".",  "../a", "a/.."};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(gofer_path_valid(good[i], strlen(good[i])), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!gofer_path_valid(bad[i], strlen(bad[i])), "%s", bad[i]);
	cr_assert(!gofer_path_valid("a\0b", 3));
	/* "x/x/x..." just under and at GOFER_PATH_MAX */
	for (size_t i = 0; i < GOFER_PATH_MAX; i++)
		big[i] = i % 2 ? '/' : 'x';
	cr_assert(gofer_path_valid(big, GOFER_PATH_MAX - 1));
	cr_assert(!gofer_path_valid(big, GOFER_PATH_MAX));
	/* a component over 255 bytes */
	memset(big, 'y', 300);
	cr_assert(!gofer_path_valid(big, 300));
}

Test(gofer_proto, decode_rejects_bad_paths)
{
	struct gofer_req in = {.type = GOFER_STAT, .tag = 3, .fid = 1}, out;
	const size_t path_off = GOFER_HDR_SIZE + 4 + 2;

	/* Same-length substitutions of a valid path: an empty component, "..", a NUL. */
	const char *bad[] = {"a//b", "../b", "a/..", "a\0/b", "/a/b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(in.name, "ab/c");
		ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
		cr_assert_eq(n, (ssize_t)path_off + 4);
		memcpy(buf + path_off, bad[i], 4);
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL, "%zu", i);
	}
	/* A WALK needs a path; a GETDENTS's flags are known ones only. */
	in = (struct gofer_req){.type = GOFER_WALK, .tag = 3};
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = GOFER_GETDENTS, .tag = 3};
	in.getdents.max = 1;
	in.getdents.flags = 2;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in.getdents.flags = 0;
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
	uint32_t two = 2;
	memcpy(buf + GOFER_HDR_SIZE + 4 + 8 + 4, &two, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL);
	/* a path length past the message */
	in = (struct gofer_req){.type = GOFER_STAT, .tag = 3};
	strcpy(in.name, "abc");
	n = gofer_encode_req(buf, sizeof(buf), &in);
	uint16_t big = 4;
	memcpy(buf + GOFER_HDR_SIZE + 4, &big, 2);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
}

Test(gofer_proto, encode_rejects_bad_names_and_types)
{
	struct gofer_req in = {.type = GOFER_WALK, .tag = 1};
	const char *bad[] = {"", ".", "..", "a/", "/", "a//b", "a/../b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(in.name, bad[i]);
		cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL, "%s", bad[i]);
	}
	memset(in.name, 'x', sizeof(in.name)); /* GOFER_PATH_MAX bytes, not terminated */
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = GOFER_MKDIR, .tag = 1}; /* one name, not a path */
	strcpy(in.name, "a/b");
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = GOFER_CREATE}; /* no name */
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = GOFER_TYPE_MAX + 1};
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = 0};
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_req){.type = GOFER_STAT};
	cr_assert_eq(gofer_encode_req(buf, 10, &in), -EMSGSIZE);
}

static ssize_t walk_req(const char *name)
{
	struct gofer_req in = {.type = GOFER_WALK, .tag = 3, .fid = 1};
	strcpy(in.name, name);
	return gofer_encode_req(buf, sizeof(buf), &in);
}

Test(gofer_proto, decode_rejects_bad_names)
{
	struct gofer_req out;
	const size_t name_off = GOFER_HDR_SIZE + 4 + 2;

	/* Same-length substitutions of a valid name. */
	const char *bad[] = {"a/", "..", "\0a", "a\0"};
	for (size_t i = 0; i < 4; i++) {
		ssize_t n = walk_req("ab");
		memcpy(buf + name_off, bad[i], 2);
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL, "case %zu", i);
	}
	ssize_t n = walk_req("a");
	buf[name_off] = '.';
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL);
	/* Zero-length name. */
	n = walk_req("a");
	put16_at(GOFER_HDR_SIZE + 4, 0);
	set_len((size_t)n - 1);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n - 1, &out), -EINVAL);
	/* A name length that overruns the message. */
	n = walk_req("abc");
	put16_at(GOFER_HDR_SIZE + 4, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	put16_at(GOFER_HDR_SIZE + 4, 0xffff);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	/* A name longer than 255 bytes, all present. */
	memset(buf + name_off, 'x', 300);
	put16_at(GOFER_HDR_SIZE + 4, 300);
	set_len(name_off + 300);
	cr_assert_eq(gofer_decode_req(buf, name_off + 300, &out), -EINVAL);
}

Test(gofer_proto, truncated_requests_rejected)
{
	struct gofer_req out;
	ssize_t n = walk_req("some-name");
	for (size_t len = 0; len < (size_t)n; len++) {
		/* As received: the header still claims the full length. */
		cr_assert_eq(gofer_decode_req(buf, len, &out), -EPROTO, "len %zu", len);
	}
	for (size_t len = GOFER_HDR_SIZE; len < (size_t)n; len++) {
		/* As sent by a liar: the header agrees with the short length. */
		uint8_t copy[64];
		memcpy(copy, buf, (size_t)n);
		uint32_t l = (uint32_t)len;
		memcpy(copy + 8, &l, 4);
		int r = gofer_decode_req(copy, len, &out);
		cr_assert(r == -EPROTO || r == -EINVAL, "len %zu: %d", len, r);
	}
}

Test(gofer_proto, header_checks)
{
	struct gofer_req out;
	struct gofer_hdr h;
	struct gofer_req in = {.type = GOFER_STAT, .tag = 9, .fid = 1};
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);

	cr_assert_eq(gofer_decode_hdr(buf, (size_t)n, &h), 0);
	cr_assert_eq(h.len, n);
	/* Trailing bytes after a valid body. */
	set_len((size_t)n + 1);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n + 1, &out), -EPROTO);
	set_len((size_t)n);
	/* Length field disagrees with the datagram. */
	cr_assert_eq(gofer_decode_req(buf, (size_t)n + 4, &out), -EPROTO);
	/* Oversized. */
	set_len(GOFER_MSG_MAX + 1);
	cr_assert_eq(gofer_decode_hdr(buf, GOFER_MSG_MAX + 1, &h), -EPROTO);
	set_len(0xffffffffu);
	cr_assert_eq(gofer_decode_hdr(buf, (size_t)n, &h), -EPROTO);
	set_len((size_t)n);
	/* Magic, version, type. */
	buf[0] ^= 1;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	buf[0] ^= 1;
	buf[2] = GOFER_VERSION + 1;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	buf[2] = GOFER_VERSION;
	buf[3] = 0;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	buf[3] = GOFER_TYPE_MAX + 1;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	/* A reply where a request belongs: malformed, and not answerable. */
	buf[3] = GOFER_REPLY | GOFER_STAT;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	cr_assert_eq(out.type, 0);
	/* A walk's payload read as a RENAME's: truncated, yet answerable. */
	buf[3] = GOFER_RENAME;
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	cr_assert_eq(out.type, GOFER_RENAME);
	cr_assert_eq(out.tag, 9);
	cr_assert_eq(gofer_decode_hdr(NULL, 12, &h), -EPROTO);
}

Test(gofer_proto, reply_round_trips)
{
	struct gofer_rep in = {.type = GOFER_WALK, .tag = 5}, out;
	in.walk.fid = 12;
	in.walk.st = sample_stat();
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(n, GOFER_REP_HDR_SIZE + 4 + GOFER_STAT_SIZE);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_WALK, 5, &out), 0);
	cr_assert_eq(out.err, 0);
	cr_assert_eq(out.walk.fid, 12);
	cr_assert_eq(memcmp(&out.walk.st, &in.walk.st, sizeof(in.walk.st)), 0);

	in = (struct gofer_rep){.type = GOFER_STAT, .tag = 6, .stat = sample_stat()};
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 6, &out), 0);
	cr_assert_eq(out.stat.atime_sec, -9);
	cr_assert_eq(out.stat.ctime_nsec, 999999999);

	in = (struct gofer_rep){.type = GOFER_READLINK, .tag = 7};
	in.readlink.target = "../x/y";
	in.readlink.len = 6;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 7, &out), 0);
	cr_assert_eq(out.readlink.len, 6);
	cr_assert_eq(memcmp(out.readlink.target, "../x/y", 6), 0);

	static const uint8_t empty[] = {GOFER_OPEN, GOFER_CLUNK};
	for (int i = 0; i < 2; i++) {
		in = (struct gofer_rep){.type = empty[i], .tag = 8};
		n = gofer_encode_rep(buf, sizeof(buf), &in);
		cr_assert_eq(n, GOFER_REP_HDR_SIZE);
		cr_assert_eq(gofer_decode_rep(buf, (size_t)n, empty[i], 8, &out), 0);
	}

	/* Errors carry no payload, whatever the type, reserved types included. */
	for (uint8_t t = GOFER_WALK; t <= GOFER_TYPE_MAX; t++) {
		in = (struct gofer_rep){.type = t, .tag = 9, .err = -ENOENT};
		n = gofer_encode_rep(buf, sizeof(buf), &in);
		cr_assert_eq(n, GOFER_REP_HDR_SIZE);
		cr_assert_eq(gofer_decode_rep(buf, (size_t)n, t, 9, &out), 0);
		cr_assert_eq(out.err, -ENOENT);
	}
	in = (struct gofer_rep){.type = GOFER_TYPE_MAX + 1, .tag = 1};
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	in = (struct gofer_rep){.type = GOFER_STAT, .tag = 1, .err = 5};
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
}

/* CHANNELS: the request is the fid alone; the reply 1..GOFER_CHANNELS_MAX CPUs in increasing
 * order, each below GOFER_CPU_MAX, checked both ways. */
Test(gofer_proto, channels)
{
	struct gofer_req rq = {.type = GOFER_CHANNELS, .tag = 5}, rq2;
	struct gofer_rep in = {.type = GOFER_CHANNELS, .tag = 6}, out;
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &rq);

	cr_assert_eq(n, GOFER_HDR_SIZE + 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &rq2), 0);
	cr_assert_eq(rq2.type, GOFER_CHANNELS);

	in.channels.count = 3;
	in.channels.cpu[0] = 0;
	in.channels.cpu[1] = 2;
	in.channels.cpu[2] = GOFER_CPU_MAX - 1;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(n, GOFER_REP_HDR_SIZE + 4 + 3 * 4);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), 0);
	cr_assert_eq(out.channels.count, 3);
	cr_assert_eq(out.channels.cpu[1], 2);
	cr_assert_eq(out.channels.cpu[2], GOFER_CPU_MAX - 1);

	/* decoding: a CPU out of range, out of order, twice; a count of 0, too many, past
	 * the end; trailing bytes */
	put32_at(GOFER_REP_HDR_SIZE + 12, GOFER_CPU_MAX);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EINVAL);
	put32_at(GOFER_REP_HDR_SIZE + 12, 1);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EINVAL);
	put32_at(GOFER_REP_HDR_SIZE + 12, 2);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EINVAL);
	put32_at(GOFER_REP_HDR_SIZE + 12, 3);
	put32_at(GOFER_REP_HDR_SIZE, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EPROTO);
	put32_at(GOFER_REP_HDR_SIZE, GOFER_CHANNELS_MAX + 1);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EPROTO);
	put32_at(GOFER_REP_HDR_SIZE, 4);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EPROTO);
	put32_at(GOFER_REP_HDR_SIZE, 2);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_CHANNELS, 6, &out), -EPROTO);

	/* encoding refuses what decoding would */
	in.channels.cpu[2] = 2;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	in.channels.count = 0;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	in.channels.count = GOFER_CHANNELS_MAX + 1;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
}

/* LOOKUP's reply: a stat, and a symlink's target or nothing; a target for anything but a
 * symlink, or with a NUL in it, is refused both ways. */
Test(gofer_proto, lookup_reply)
{
	struct gofer_rep in = {.type = GOFER_LOOKUP, .tag = 3}, out;
	in.lookup.st = sample_stat();
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(n, GOFER_REP_HDR_SIZE + GOFER_STAT_SIZE + 4);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_LOOKUP, 3, &out), 0);
	cr_assert_eq(out.lookup.st.ino, 2);
	cr_assert_eq(out.lookup.len, 0);
	cr_assert_null(out.lookup.target);

	in.lookup.st.mode = LINUX_S_IFLNK | 0777;
	in.lookup.target = "sub/inner";
	in.lookup.len = 9;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_LOOKUP, 3, &out), 0);
	cr_assert_eq(out.lookup.len, 9);
	cr_assert_eq(memcmp(out.lookup.target, "sub/inner", 9), 0);
	/* The same bytes with a regular file's mode: a target it cannot have. */
	memcpy(buf + GOFER_REP_HDR_SIZE + 16, &(uint32_t){LINUX_S_IFREG | 0644}, 4);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_LOOKUP, 3, &out), -EINVAL);
	in.lookup.st.mode = LINUX_S_IFREG | 0644;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	in.lookup.st.mode = LINUX_S_IFLNK | 0777;
	in.lookup.target = "a\0b";
	in.lookup.len = 3;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	/* A target longer than the message: truncated. */
	in.lookup.target = "sub/inner";
	in.lookup.len = 9;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	put32_at((size_t)n - 9 - 4, 1000);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_LOOKUP, 3, &out), -EPROTO);
}

static uint8_t ents[GOFER_DENTS_SPACE];

Test(gofer_proto, dirents_round_trip)
{
	size_t off = 0;
	struct gofer_dirent got[4];
	char name[256];

	cr_assert_eq(gofer_dirent_pack(ents, sizeof(ents), &off, 10, 1, LINUX_DT_REG, "a", 1, NULL),
		     0);
	cr_assert_eq(
	    gofer_dirent_pack(ents, sizeof(ents), &off, 11, 2, LINUX_DT_DIR, "bb", 2, NULL), 0);
	memset(name, 'n', 255);
	cr_assert_eq(
	    gofer_dirent_pack(ents, sizeof(ents), &off, 12, 3, LINUX_DT_LNK, name, 255, NULL), 0);
	cr_assert_eq(gofer_dirent_pack(ents, sizeof(ents), &off, 1, 1, LINUX_DT_REG, "..", 2, NULL),
		     -EINVAL);
	cr_assert_eq(gofer_dirent_pack(ents, sizeof(ents), &off, 1, 1, 3, "x", 1, NULL), -EINVAL);
	size_t before = off;
	cr_assert_eq(gofer_dirent_pack(ents, off + 5, &off, 1, 1, LINUX_DT_REG, "x", 1, NULL),
		     -ENOSPC);
	cr_assert_eq(off, before);

	struct gofer_rep in = {.type = GOFER_GETDENTS, .tag = 4}, out;
	in.getdents.count = 3;
	in.getdents.ents = ents;
	in.getdents.len = (uint32_t)off;
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 4, &out), 0);
	cr_assert_eq(out.getdents.count, 3);
	cr_assert_eq(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 3, 0, got, 4), 3);
	cr_assert_str_eq(got[0].name, "a");
	cr_assert_eq(got[1].type, LINUX_DT_DIR);
	cr_assert_eq(got[1].next, 2);
	cr_assert_eq(strlen(got[2].name), 255);
	cr_assert_eq(got[2].ino, 12);
	/* More entries than the caller has room for. */
	cr_assert_eq(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 3, 0, got, 2),
		     -EPROTO);
	/* An encoder never sends a count that disagrees with the entries. */
	in.getdents.count = 4;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
}

/* Build a one-entry GETDENTS reply in buf; returns its length. */
static size_t one_dirent_reply(uint32_t tag)
{
	size_t off = 0;
	gofer_dirent_pack(ents, sizeof(ents), &off, 1, 2, LINUX_DT_REG, "abc", 3, NULL);
	struct gofer_rep in = {.type = GOFER_GETDENTS, .tag = tag};
	in.getdents.count = 1;
	in.getdents.ents = ents;
	in.getdents.len = (uint32_t)off;
	return (size_t)gofer_encode_rep(buf, sizeof(buf), &in);
}

Test(gofer_proto, hostile_dirents_rejected)
{
	struct gofer_rep out;
	const size_t count_off = GOFER_REP_HDR_SIZE, ent_off = count_off + 8;
	size_t n = one_dirent_reply(1);

	cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), 0);
	/* Counts that overrun the entries. */
	uint32_t counts[] = {2, 100, 0xffffffffu, 0};
	for (size_t i = 0; i < 4; i++) {
		n = one_dirent_reply(1);
		put32_at(count_off, counts[i]);
		cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EPROTO, "count %u",
			     counts[i]);
	}
	/* A name length past the end, and a zero one. */
	n = one_dirent_reply(1);
	buf[ent_off + 17] = 200;
	cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EPROTO);
	n = one_dirent_reply(1);
	buf[ent_off + 17] = 0;
	cr_assert_neq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), 0);
	/* Bad names and types inside an entry. */
	const char *bad[] = {"a/c", "..\0", "a\0c", "/ab"};
	for (size_t i = 0; i < 4; i++) {
		n = one_dirent_reply(1);
		memcpy(buf + ent_off + 18, bad[i], 3);
		cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EINVAL, "%zu", i);
	}
	n = one_dirent_reply(1);
	buf[ent_off + 16] = 99;
	cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EINVAL);
	/* Unknown flags; a flag saying stats follow when they do not. */
	n = one_dirent_reply(1);
	put32_at(count_off + 4, 2);
	cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EPROTO);
	n = one_dirent_reply(1);
	put32_at(count_off + 4, GOFER_GETDENTS_STAT);
	cr_assert_eq(gofer_decode_rep(buf, n, GOFER_GETDENTS, 1, &out), -EPROTO);
}

/* Entries that carry their stat (GOFER_GETDENTS_STAT). */
Test(gofer_proto, dirents_with_stat)
{
	struct gofer_stat st = sample_stat(), bad = st;
	struct gofer_dirent got[2];
	struct gofer_rep out, in = {.type = GOFER_GETDENTS, .tag = 8};
	size_t off = 0;

	cr_assert_eq(gofer_dirent_pack(ents, sizeof(ents), &off, 7, 1, LINUX_DT_REG, "f", 1, &st),
		     0);
	cr_assert_eq(off, GOFER_DIRENT_HDR_SIZE + 1 + GOFER_STAT_SIZE);
	cr_assert_eq(gofer_dirent_pack(ents, sizeof(ents), &off, 8, 2, LINUX_DT_DIR, "d", 1, &st),
		     0);
	in.getdents.count = 2;
	in.getdents.flags = GOFER_GETDENTS_STAT;
	in.getdents.ents = ents;
	in.getdents.len = (uint32_t)off;
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 8, &out), 0);
	cr_assert_eq(out.getdents.flags, GOFER_GETDENTS_STAT);
	cr_assert_eq(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 2,
					  GOFER_GETDENTS_STAT, got, 2),
		     2);
	cr_assert_str_eq(got[1].name, "d");
	cr_assert_eq(got[1].st.ino, st.ino);
	cr_assert_eq(got[1].st.size, st.size);
	/* Read without stats, the same bytes are not entries. */
	cr_assert_lt(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 2, 0, got, 2), 0);
	/* The flag cleared on the wire: the stats are trailing garbage. */
	put32_at(GOFER_REP_HDR_SIZE + 4, 0);
	cr_assert_neq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 8, &out), 0);
	/* A bad mode or nanoseconds in an entry's stat. */
	bad.mode = 0170000;
	off = 0;
	gofer_dirent_pack(ents, sizeof(ents), &off, 7, 1, LINUX_DT_REG, "f", 1, &bad);
	in.getdents.count = 1;
	in.getdents.len = (uint32_t)off;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	bad = st;
	bad.mtime_nsec = 1000000000u;
	off = 0;
	gofer_dirent_pack(ents, sizeof(ents), &off, 7, 1, LINUX_DT_REG, "f", 1, &bad);
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	/* ... and one that does not fit */
	off = 0;
	cr_assert_eq(gofer_dirent_pack(ents, GOFER_DIRENT_HDR_SIZE + 1 + GOFER_STAT_SIZE - 1, &off,
				       7, 1, LINUX_DT_REG, "f", 1, &st),
		     -ENOSPC);
}

/* Entries that carry their stat and a symlink's target (GOFER_GETDENTS_TARGET). */
Test(gofer_proto, dirents_with_target)
{
	struct gofer_stat link = sample_stat(), reg = sample_stat();
	struct gofer_dirent got[2];
	struct gofer_rep out, in = {.type = GOFER_GETDENTS, .tag = 9};
	size_t off = 0;

	link.mode = LINUX_S_IFLNK | 0777;
	reg.mode = LINUX_S_IFREG | 0644;
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &off, 7, 1, LINUX_DT_LNK, "l", 1,
					      &link, "usr/lib", 7),
		     0);
	cr_assert_eq(off, GOFER_DIRENT_HDR_SIZE + 1 + GOFER_STAT_SIZE + 2 + 7);
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &off, 8, 2, LINUX_DT_REG, "f", 1,
					      &reg, NULL, 0),
		     0);
	in.getdents.count = 2;
	in.getdents.flags = GOFER_GETDENTS_STAT | GOFER_GETDENTS_TARGET;
	in.getdents.ents = ents;
	in.getdents.len = (uint32_t)off;
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 9, &out), 0);
	cr_assert_eq(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 2,
					  out.getdents.flags, got, 2),
		     2);
	cr_assert_eq(got[0].target_len, 7);
	cr_assert_eq(memcmp(got[0].target, "usr/lib", 7), 0);
	cr_assert_null(got[1].target);
	cr_assert_eq(got[1].target_len, 0);
	/* Read as a listing with stats only, the target fields are not entries. */
	cr_assert_lt(gofer_dirents_unpack(out.getdents.ents, out.getdents.len, 2,
					  GOFER_GETDENTS_STAT, got, 2),
		     0);
	/* The packer refuses a target on what is no symlink, one with a NUL or too long, and
	 * an entry without its stat. */
	char longest[GOFER_PATH_MAX];
	memset(longest, 'x', sizeof(longest));
	size_t o2 = 0;
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &o2, 1, 1, LINUX_DT_REG, "f", 1,
					      &reg, "t", 1),
		     -EINVAL);
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &o2, 1, 1, LINUX_DT_LNK, "l", 1,
					      &link, "a\0b", 3),
		     -EINVAL);
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &o2, 1, 1, LINUX_DT_LNK, "l", 1,
					      &link, longest, sizeof(longest)),
		     -EINVAL);
	cr_assert_eq(gofer_dirent_pack_target(ents, sizeof(ents), &o2, 1, 1, LINUX_DT_LNK, "l", 1,
					      NULL, NULL, 0),
		     -EINVAL);
	cr_assert_eq(o2, 0);
	/* On the wire: the link's stat turned into a regular file's (a target on it), a NUL in
	 * the target, a target length past the end. */
	const size_t stat0 = GOFER_REP_HDR_SIZE + 8 + GOFER_DIRENT_HDR_SIZE + 1;
	const size_t tlen0 = stat0 + GOFER_STAT_SIZE;
	uint32_t mode = LINUX_S_IFREG | 0644;
	memcpy(buf + stat0 + 16, &mode, 4);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 9, &out), -EINVAL);
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	buf[tlen0 + 2 + 3] = '\0';
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 9, &out), -EINVAL);
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	uint16_t huge = 4000;
	memcpy(buf + tlen0, &huge, 2);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_GETDENTS, 9, &out), -EPROTO);
	/* A request for targets without stats. */
	struct gofer_req rq = {.type = GOFER_GETDENTS, .tag = 9};
	rq.getdents.max = 1;
	rq.getdents.flags = GOFER_GETDENTS_TARGET;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &rq), -EINVAL);
}

Test(gofer_proto, hostile_replies_rejected)
{
	struct gofer_rep out, in = {.type = GOFER_STAT, .tag = 5, .stat = sample_stat()};
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);

	/* Wrong tag, wrong type, a request instead of a reply. */
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 6, &out), -EPROTO);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_WALK, 5, &out), -EPROTO);
	buf[3] = GOFER_STAT;
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EPROTO);
	buf[3] = GOFER_REPLY | GOFER_STAT;
	/* Every truncation. */
	for (size_t len = 0; len < (size_t)n; len++) {
		cr_assert_eq(gofer_decode_rep(buf, len, GOFER_STAT, 5, &out), -EPROTO);
		uint8_t copy[256];
		memcpy(copy, buf, (size_t)n);
		uint32_t l = (uint32_t)len;
		memcpy(copy + 8, &l, 4);
		cr_assert_eq(gofer_decode_rep(copy, len, GOFER_STAT, 5, &out), -EPROTO, "%zu", len);
	}
	/* Bad mode and nanoseconds. */
	in.stat.mode = 0170000 | 0644;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EINVAL);
	in.stat = sample_stat();
	in.stat.mtime_nsec = 1000000000;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EINVAL);
	/* err out of range, and an error with a payload. */
	in.stat = sample_stat();
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	put32_at(GOFER_HDR_SIZE, 1);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EPROTO);
	put32_at(GOFER_HDR_SIZE, (uint32_t)-5000);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EPROTO);
	put32_at(GOFER_HDR_SIZE, (uint32_t)-ENOENT);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STAT, 5, &out), -EPROTO);
	/* A walk that hands out the root fid or a fid past the table. */
	struct gofer_rep w = {.type = GOFER_WALK, .tag = 1};
	w.walk.st = sample_stat();
	n = gofer_encode_rep(buf, sizeof(buf), &w);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_WALK, 1, &out), -EPROTO);
	w.walk.fid = GOFER_FID_MAX;
	n = gofer_encode_rep(buf, sizeof(buf), &w);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_WALK, 1, &out), -EPROTO);
	/* A MKDIR success without its fid and stat. */
	struct gofer_rep r = {.type = GOFER_CLUNK, .tag = 2};
	n = gofer_encode_rep(buf, sizeof(buf), &r);
	buf[3] = GOFER_REPLY | GOFER_MKDIR;
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_MKDIR, 2, &out), -EPROTO);
}

Test(gofer_proto, hostile_readlink_rejected)
{
	struct gofer_rep out, in = {.type = GOFER_READLINK, .tag = 1};
	static char target[GOFER_PATH_MAX + 8];
	const size_t len_off = GOFER_REP_HDR_SIZE;

	memset(target, 'x', sizeof(target));
	in.readlink.target = target;
	in.readlink.len = GOFER_PATH_MAX - 1;
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), 0);
	in.readlink.len = GOFER_PATH_MAX;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);
	in.readlink.len = 0;
	cr_assert_eq(gofer_encode_rep(buf, sizeof(buf), &in), -EINVAL);

	in.readlink.target = "abcd";
	in.readlink.len = 4;
	n = gofer_encode_rep(buf, sizeof(buf), &in);
	put32_at(len_off, 5);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), -EPROTO);
	put32_at(len_off, 3);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), -EPROTO);
	put32_at(len_off, 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), -EPROTO);
	put32_at(len_off, 0xffffffffu);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), -EPROTO);
	put32_at(len_off, 4);
	buf[len_off + 4 + 1] = '\0';
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_READLINK, 1, &out), -EINVAL);
}

/* Random corruption of valid messages: decoders must answer, never crash or overread
 * (run under `make SAN=address,undefined` to see the latter). */
Test(gofer_proto, fuzz_no_crash)
{
	struct gofer_req rq;
	struct gofer_rep rp;
	uint8_t msg[512];
	unsigned seed = 12345;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n;
		uint8_t type;
		switch (iter % 4) {
		case 0:
			n = (size_t)walk_req("abcdef");
			type = GOFER_WALK;
			break;
		case 1:
			n = one_dirent_reply(1);
			type = GOFER_GETDENTS;
			break;
		case 2: {
			struct gofer_rep s = {.type = GOFER_WALK, .tag = 1};
			s.walk.fid = 3;
			s.walk.st = sample_stat();
			n = (size_t)gofer_encode_rep(buf, sizeof(buf), &s);
			type = GOFER_WALK;
			break;
		}
		default: {
			struct gofer_rep s = {.type = GOFER_READLINK, .tag = 1};
			s.readlink.target = "target";
			s.readlink.len = 6;
			n = (size_t)gofer_encode_rep(buf, sizeof(buf), &s);
			type = GOFER_READLINK;
			break;
		}
		}
		cr_assert_leq(n, sizeof(msg));
		memcpy(msg, buf, n);
		int flips = 1 + rand_r(&seed) % 4;
		for (int f = 0; f < flips; f++)
			msg[(size_t)rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		size_t len = rand_r(&seed) % 3 ? n : (size_t)rand_r(&seed) % (n + 1);
		/* Exact-size heap copies so that an overread is visible to ASan. */
		uint8_t *m = malloc(len ? len : 1);
		memcpy(m, msg, len);
		(void)gofer_decode_req(m, len, &rq);
		if (gofer_decode_rep(m, len, type, 1, &rp) == 0 && rp.err == 0 &&
		    type == GOFER_GETDENTS) {
			struct gofer_dirent d[2];
			cr_assert_eq(gofer_dirents_unpack(rp.getdents.ents, rp.getdents.len,
							  rp.getdents.count, 0, d, 2),
				     (long)rp.getdents.count);
		}
		free(m);
	}
}

/* ---- the mutation requests ---- */

static struct gofer_req mut_sample(uint8_t type)
{
	struct gofer_req r = {.type = type, .tag = 31, .fid = 4, .fid2 = 6, .mode = 0640};
	strcpy(r.name, "new");
	strcpy(r.name2, "other");
	switch (type) {
	case GOFER_CREATE:
		r.flags = LINUX_O_RDWR | LINUX_O_APPEND;
		break;
	case GOFER_UNLINK:
		r.flags = LINUX_AT_REMOVEDIR;
		break;
	case GOFER_RENAME:
		r.flags = LINUX_RENAME_NOREPLACE;
		break;
	case GOFER_SYMLINK:
		strcpy(r.target, "../x/y");
		break;
	case GOFER_SETATTR:
		r.setattr.valid = GOFER_SETATTR_ALL;
		r.setattr.uid = 1000;
		r.setattr.gid = 100;
		r.setattr.size = 12345;
		r.setattr.atime_sec = -5;
		r.setattr.atime_nsec = 999999999;
		r.setattr.mtime_sec = 1700000000;
		r.setattr.mtime_nsec = 1;
		break;
	}
	return r;
}

static const uint8_t mut_types[] = {GOFER_CREATE,  GOFER_MKDIR, GOFER_UNLINK, GOFER_RENAME,
				    GOFER_SYMLINK, GOFER_LINK,	GOFER_SETATTR};

Test(gofer_proto, mutation_requests_round_trip)
{
	for (size_t i = 0; i < sizeof(mut_types); i++) {
		struct gofer_req in = mut_sample(mut_types[i]), out;
		ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
		cr_assert_gt(n, 0, "type %u", in.type);
		cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), 0, "type %u", in.type);
		cr_assert_eq(out.type, in.type);
		cr_assert_eq(out.fid, in.fid);
		if (in.type != GOFER_SETATTR)
			cr_assert_str_eq(out.name, "new");
		switch (in.type) {
		case GOFER_CREATE:
			cr_assert_eq(out.flags, in.flags);
			cr_assert_eq(out.mode, 0640);
			break;
		case GOFER_MKDIR:
			cr_assert_eq(out.mode, 0640);
			break;
		case GOFER_UNLINK:
			cr_assert_eq(out.flags, LINUX_AT_REMOVEDIR);
			break;
		case GOFER_RENAME:
			cr_assert_eq(out.fid2, 6);
			cr_assert_str_eq(out.name2, "other");
			cr_assert_eq(out.flags, LINUX_RENAME_NOREPLACE);
			break;
		case GOFER_SYMLINK:
			cr_assert_str_eq(out.target, "../x/y");
			break;
		case GOFER_LINK:
			cr_assert_eq(out.fid2, 6);
			break;
		case GOFER_SETATTR:
			cr_assert_eq(memcmp(&out.setattr, &in.setattr, sizeof(in.setattr)), 0);
			cr_assert_eq(out.mode, 0640);
			break;
		}
	}
}

/* Every truncation of every mutation request is -EPROTO, and never crashes. */
Test(gofer_proto, mutation_requests_truncated)
{
	for (size_t i = 0; i < sizeof(mut_types); i++) {
		struct gofer_req in = mut_sample(mut_types[i]), out;
		ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
		for (ssize_t l = GOFER_HDR_SIZE; l < n; l++) {
			uint32_t l32 = (uint32_t)l;
			memcpy(buf + 8, &l32, 4);
			int r = gofer_decode_req(buf, (size_t)l, &out);
			cr_assert(r == -EPROTO || r == -EINVAL, "type %u len %zd: %d", in.type, l,
				  r);
		}
	}
}

/* Bad values in well-formed messages: refused by the encoder and, patched in, the decoder. */
Test(gofer_proto, mutation_requests_bad_values)
{
	struct gofer_req in, out;

	in = mut_sample(GOFER_CREATE);
	in.flags = LINUX_O_RDWR | LINUX_O_CREAT;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in.flags = 3;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_MKDIR);
	in.mode = 010000;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_UNLINK);
	in.flags = 1;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_RENAME);
	in.flags = 2; /* RENAME_EXCHANGE is not offered */
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	strcpy(in.name2, "..");
	in.flags = 0;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_SYMLINK);
	in.target[0] = '\0';
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_SETATTR);
	in.setattr.valid = 0x40;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_SETATTR);
	in.setattr.mtime_nsec = 1000000000u;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);
	in = mut_sample(GOFER_SETATTR);
	in.setattr.size = (uint64_t)INT64_MAX + 1;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &in), -EINVAL);

	/* The decoder checks the same: patch the mode of a valid MKDIR (after header + fid). */
	in = mut_sample(GOFER_MKDIR);
	ssize_t n = gofer_encode_req(buf, sizeof(buf), &in);
	uint32_t bad = 0170777;
	memcpy(buf + GOFER_HDR_SIZE + 4, &bad, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL);
	cr_assert_eq(out.type, GOFER_MKDIR); /* answerable */
	/* A symlink target with a NUL in it, and one whose length runs past the message. */
	in = mut_sample(GOFER_SYMLINK);
	n = gofer_encode_req(buf, sizeof(buf), &in);
	size_t toff = GOFER_HDR_SIZE + 4 + 2 + 3 + 4;
	buf[toff + 1] = '\0';
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL);
	n = gofer_encode_req(buf, sizeof(buf), &in);
	uint32_t huge = 0x7fffffff;
	memcpy(buf + toff - 4, &huge, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EINVAL);
	huge = 7;
	memcpy(buf + toff - 4, &huge, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n, &out), -EPROTO);
	/* Trailing bytes after a valid UNLINK. */
	in = mut_sample(GOFER_UNLINK);
	n = gofer_encode_req(buf, sizeof(buf), &in);
	uint32_t l32 = (uint32_t)n + 1;
	memcpy(buf + 8, &l32, 4);
	cr_assert_eq(gofer_decode_req(buf, (size_t)n + 1, &out), -EPROTO);
}

Test(gofer_proto, statfs_and_attach_replies)
{
	struct gofer_rep in = {.type = GOFER_STATFS, .tag = 4}, out;
	in.statfs = (struct gofer_statfs){1, 2, 3, 4, 5, 6, 7, 255, 4096, 1};
	ssize_t n = gofer_encode_rep(buf, sizeof(buf), &in);
	cr_assert_eq(n, GOFER_REP_HDR_SIZE + 80);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_STATFS, 4, &out), 0);
	cr_assert_eq(memcmp(&out.statfs, &in.statfs, sizeof(in.statfs)), 0);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n - 1, GOFER_STATFS, 4, &out), -EPROTO);

	struct gofer_rep a = {.type = GOFER_ATTACH, .tag = 5};
	a.walk.fid = 3;
	a.walk.st = sample_stat();
	n = gofer_encode_rep(buf, sizeof(buf), &a);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_ATTACH, 5, &out), 0);
	cr_assert_eq(out.walk.fid, 3);
	a.walk.fid = 0; /* attach never hands out fid 0 */
	n = gofer_encode_rep(buf, sizeof(buf), &a);
	cr_assert_eq(gofer_decode_rep(buf, (size_t)n, GOFER_ATTACH, 5, &out), -EPROTO);
}
