/* Unit tests of the CLI's pure parts: the sandbox environment, the boot config wire format, the
 * exit-status mapping, and the Sentry's seccomp allowlist (loaded in a forked child). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "common/host.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runsc-c/cli.h"
#include "runsc-c/oci.h"
#include "runsc-c/sentry_seccomp.h"

static size_t count(char **v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

/* ---- environment ---- */

Test(env, defaults_only)
{
	char **e = sandbox_env_build(NULL, NULL, NULL, 0);
	cr_assert_not_null(e);
	cr_assert_eq(count(e), 4);
	cr_assert_str_eq(e[0], "PATH=" SANDBOX_PATH);
	cr_assert_str_eq(e[1], "HOME=/root");
	cr_assert_str_eq(e[2], "TERM=xterm");
	cr_assert_str_eq(e[3], "LANG=C.UTF-8");
	env_free(e);
}

Test(env, caller_term_and_lang)
{
	char **e = sandbox_env_build("vt100", "fr_FR.UTF-8", NULL, 0);
	cr_assert_str_eq(e[2], "TERM=vt100");
	cr_assert_str_eq(e[3], "LANG=fr_FR.UTF-8");
	env_free(e);
	e = sandbox_env_build("", "", NULL, 0); /* empty counts as unset */
	cr_assert_str_eq(e[2], "TERM=xterm");
	cr_assert_str_eq(e[3], "LANG=C.UTF-8");
	env_free(e);
}

Test(env, extra_overrides_in_place_and_appends)
{
	char *extra[] = {"A=1", "PATH=/x", "A=2", "EMPTY=", "B=x=y"};
	char **e = sandbox_env_build(NULL, NULL, extra, 5);
	cr_assert_eq(count(e), 7);
	cr_assert_str_eq(e[0], "PATH=/x");
	cr_assert_str_eq(e[4], "A=2");
	cr_assert_str_eq(e[5], "EMPTY=");
	cr_assert_str_eq(e[6], "B=x=y");
	env_free(e);
}

Test(env, rejects_invalid_entries)
{
	char *bad1[] = {"NOEQUALS"}, *bad2[] = {"=v"};
	errno = 0;
	cr_assert_null(sandbox_env_build(NULL, NULL, bad1, 1));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(sandbox_env_build(NULL, NULL, bad2, 1));
	cr_assert(env_entry_valid("K="));
	cr_assert_not(env_entry_valid(""));
}

Test(env, nothing_of_the_host)
{
	setenv("RUNSC_C_TEST_SECRET", "hunter2", 1);
	setenv("HOME", "/home/someone", 1);
	char **e = sandbox_env_build(getenv("TERM"), getenv("LANG"), NULL, 0);
	for (char **p = e; *p; p++) {
		cr_assert_null(strstr(*p, "hunter2"), "%s leaked", *p);
		cr_assert_null(strstr(*p, "someone"), "%s leaked", *p);
	}
	cr_assert_eq(count(e), 4);
	env_free(e);
}

/* ---- boot config ---- */

static struct boot_config sample(void)
{
	static char *argv[] = {"/bin/busybox", "cat", "/etc/os-release", "", NULL};
	static char *envp[] = {"PATH=/bin", "A=b", NULL};
	static struct boot_mount mounts[] = {
	    {.type = "bind", .source = "/srv/data", .dest = "/data", .readonly = true},
	    {.type = "tmpfs", .dest = "/scratch", .data = "size=1m,mode=0700"},
	    {.type = "proc", .dest = "/proc2"},
	};
	return (struct boot_config){.argv = argv,
				    .mounts = mounts,
				    .nmounts = 3,
				    .root_readonly = true,
				    .envp = envp,
				    .platform = "ptrace",
				    .cwd = "/tmp",
				    .hostname = "box",
				    .strace = true,
				    .log_level = 3,
				    .stdio_closed = 5};
}

Test(bootcfg, roundtrip)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;

	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	cr_assert_eq(boot_config_decode(buf, len, &out), 0);
	cr_assert_eq(count(out.argv), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(out.argv[i], in.argv[i]);
	cr_assert_eq(count(out.envp), 2);
	cr_assert_str_eq(out.envp[1], "A=b");
	cr_assert_str_eq(out.platform, "ptrace");
	cr_assert_str_eq(out.cwd, "/tmp");
	cr_assert_str_eq(out.hostname, "box");
	cr_assert(out.strace);
	cr_assert_eq(out.log_level, 3);
	cr_assert_eq(out.stdio_closed, 5);
	cr_assert(out.root_readonly);
	cr_assert_eq(out.nmounts, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct boot_mount *a = &in.mounts[i], *b = &out.mounts[i];
		cr_assert_str_eq(b->type, a->type);
		cr_assert_str_eq(b->dest, a->dest);
		cr_assert_eq(b->readonly, a->readonly);
		cr_assert_eq(!b->source, !a->source);
		if (a->source)
			cr_assert_str_eq(b->source, a->source);
		cr_assert_eq(!b->data, !a->data);
		if (a->data)
			cr_assert_str_eq(b->data, a->data);
	}
	boot_config_free(&out);
	free(buf);
}

/* An OCI process record: round trip, and every field the Sentry would set as is is checked. */
Test(bootcfg, process_roundtrip_and_checks)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;

	in.has_process = true;
	in.process = (struct sentry_process){.uid = 1000, .gid = 1000, .umask = 077, .ngroups = 2,
					     .groups = {20, 10}, .cap_bounding = 0x21,
					     .cap_effective = 0x20, .cap_permitted = 0x20,
					     .no_new_privs = 1};
	in.process.rlimit_set[7] = 1;
	in.process.rlimit_cur[7] = 100;
	in.process.rlimit_max[7] = 200;
	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	cr_assert_eq(boot_config_decode(buf, len, &out), 0);
	cr_assert(out.has_process);
	cr_assert_eq(memcmp(&out.process, &in.process, sizeof(in.process)), 0);
	boot_config_free(&out);
	free(buf);

	struct sentry_process bad[6];
	for (int i = 0; i < 6; i++)
		bad[i] = in.process;
	bad[0].ngroups = 33;
	bad[1].umask = 01000;
	bad[2].cap_effective = 0x1; /* not permitted */
	bad[3].cap_ambient = 0x20;  /* not inheritable */
	bad[4].rlimit_cur[7] = 300; /* above hard */
	bad[5].cap_bounding = 1ULL << 41;
	for (int i = 0; i < 6; i++) {
		in.process = bad[i];
		cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
		cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL, "case %d", i);
		free(buf);
	}
}

Test(oci, signal_names_and_ids)
{
	cr_assert_eq(oci_signal_parse("TERM"), SIGTERM);
	cr_assert_eq(oci_signal_parse("SIGKILL"), SIGKILL);
	cr_assert_eq(oci_signal_parse("sigusr1"), SIGUSR1);
	cr_assert_eq(oci_signal_parse("9"), 9);
	cr_assert_eq(oci_signal_parse("0"), 0);
	cr_assert_eq(oci_signal_parse("65"), -1);
	cr_assert_eq(oci_signal_parse("NOPE"), -1);
	cr_assert_eq(oci_signal_parse(""), -1);
	cr_assert(oci_id_valid("abc-1.2_x+y"));
	cr_assert_not(oci_id_valid(".."));
	cr_assert_not(oci_id_valid("a/b"));
	cr_assert_not(oci_id_valid(""));
}

Test(bootcfg, empty_env_decodes_to_empty_vector)
{
	struct boot_config in = sample(), out;
	char *envp[] = {NULL}, *buf;
	size_t len;

	in.envp = envp;
	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	cr_assert_eq(boot_config_decode(buf, len, &out), 0);
	cr_assert_not_null(out.envp);
	cr_assert_null(out.envp[0]);
	boot_config_free(&out);
	free(buf);
}

Test(bootcfg, every_truncation_is_rejected)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;

	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	for (size_t l = 0; l < len; l++) {
		/* Fix the header's length so the truncation is seen by the record walk too. */
		char *copy = malloc(len);
		memcpy(copy, buf, len);
		uint32_t l32 = (uint32_t)l;
		if (l >= 8)
			memcpy(copy + 4, &l32, 4);
		cr_assert_eq(boot_config_decode(copy, l, &out), -EINVAL, "length %zu", l);
		free(copy);
	}
	free(buf);
}

Test(bootcfg, corruption_never_crashes)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;

	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	srand(1);
	for (int i = 0; i < 20000; i++) {
		char *copy = malloc(len);
		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + i % 4; k++)
			copy[8 + (size_t)rand() % (len - 8)] ^= (char)(1 << (rand() % 8));
		if (boot_config_decode(copy, len, &out) == 0) {
			cr_assert_not_null(out.argv[0]);
			cr_assert_eq(out.cwd[0], '/');
			boot_config_free(&out);
		}
		free(copy);
	}
	free(buf);
}

/* Encode with one field changed, expect the encoder or the decoder to refuse it. */
static int try(struct boot_config c)
{
	struct boot_config out;
	char *buf;
	size_t len;
	int r = boot_config_encode(&c, &buf, &len);
	if (r < 0)
		return r;
	r = boot_config_decode(buf, len, &out);
	if (r == 0)
		boot_config_free(&out);
	free(buf);
	return r;
}

Test(bootcfg, field_checks)
{
	struct boot_config c = sample();
	char *noargv[] = {NULL}, *badenv[] = {"NOEQ", NULL};

	cr_assert_eq(try(c), 0);
	c.cwd = "relative";
	cr_assert_eq(try(c), -EINVAL);
	c = sample();
	c.hostname = "";
	cr_assert_eq(try(c), -EINVAL);
	c.hostname = "0123456789012345678901234567890123456789012345678901234567890123456789";
	cr_assert_eq(try(c), -EINVAL);
	c = sample();
	c.argv = noargv;
	cr_assert_eq(try(c), -EINVAL);
	c = sample();
	c.envp = badenv;
	cr_assert_eq(try(c), -EINVAL);
	c = sample();
	c.platform = "";
	cr_assert_eq(try(c), -EINVAL);
}

/* One mount changed from a valid one: what the encoder or decoder makes of it. */
static int try_mount(struct boot_mount m)
{
	struct boot_config c = sample();
	c.mounts = &m;
	c.nmounts = 1;
	return try(c);
}

Test(bootcfg, mount_checks)
{
	struct boot_mount bind = {.type = "bind", .source = "/a", .dest = "/b"};
	struct boot_mount m = bind;

	cr_assert_eq(try_mount(m), 0);
	m.type = "nfs";
	cr_assert_eq(try_mount(m), -EINVAL);
	m = bind;
	m.source = NULL;
	cr_assert_eq(try_mount(m), -EINVAL);
	m.source = "relative";
	cr_assert_eq(try_mount(m), -EINVAL);
	m = bind;
	m.dest = "b";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.dest = "/a/../etc";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.dest = "/a/./b";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.dest = "/a/..b/.c/";
	cr_assert_eq(try_mount(m), 0);
	m = bind;
	m.data = "size=1m";
	cr_assert_eq(try_mount(m), -EINVAL);
	m = (struct boot_mount){.type = "tmpfs", .dest = "/t", .data = "size=10k,mode=755"};
	cr_assert_eq(try_mount(m), 0);
	m.data = "size=0";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.data = "mode=8";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.data = "size=1m,";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.data = "exec=1";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.data = "size=-1";
	cr_assert_eq(try_mount(m), -EINVAL);
	m.data = "size=99999999999999999999g";
	cr_assert_eq(try_mount(m), -EINVAL);
	m = (struct boot_mount){.type = "proc", .dest = "/p", .data = "nosuid,noexec"};
	cr_assert_eq(try_mount(m), 0);
	static char big[BOOT_MOUNT_DATA_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	m.data = big;
	cr_assert_eq(try_mount(m), -EINVAL);
}

Test(bootcfg, tmpfs_opts)
{
	uint64_t size;
	uint32_t mode;

	cr_assert_eq(tmpfs_opts_parse(NULL, &size, &mode), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(mode, 01777);
	cr_assert_eq(tmpfs_opts_parse("mode=0700,size=2m", &size, &mode), 0);
	cr_assert_eq(size, 2u << 20);
	cr_assert_eq(mode, 0700);
	cr_assert_eq(tmpfs_opts_parse("size=4096,nr_inodes=10,uid=0,gid=0", &size, &mode), 0);
	cr_assert_eq(size, 4096);
	cr_assert_eq(tmpfs_opts_parse("nosuid,strictatime,mode=755,size=65536k", &size, &mode), 0);
	cr_assert_eq(size, 65536u << 10);
	cr_assert_eq(mode, 0755);
	cr_assert_eq(tmpfs_opts_parse("ro", &size, &mode), -EINVAL);
	cr_assert_eq(tmpfs_opts_parse("nosuid,", &size, &mode), -EINVAL);
	cr_assert_eq(tmpfs_opts_parse("mode=", &size, &mode), -EINVAL);
	cr_assert_eq(tmpfs_opts_parse(",", &size, &mode), -EINVAL);
	cr_assert_eq(tmpfs_opts_parse("size=1x", &size, &mode), -EINVAL);
}

/* A mount record whose inner lengths lie is refused, never read past. */
Test(bootcfg, mount_record_lengths)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;
	char *argv[] = {"a", NULL}, *envp[] = {NULL};
	struct boot_mount m = {.type = "bind", .source = "/a", .dest = "/b"};

	in.argv = argv;
	in.envp = envp;
	in.mounts = &m;
	in.nmounts = 1;
	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	/* header 8, argv record 8+1, platform, cwd, hostname records, then the mount record */
	size_t off = 8 + 9 + 8 + strlen(in.platform) + 8 + strlen(in.cwd) + 8 + strlen(in.hostname);
	uint16_t tag;
	memcpy(&tag, buf + off, 2);
	cr_assert_eq(tag, 9, "mount record at %zu", off);
	for (int field = 0; field < 4; field++) {
		for (uint32_t v = 0; v < 8; v++) {
			char *copy = malloc(len);
			memcpy(copy, buf, len);
			uint32_t x = v == 7 ? 0xffffffffu : v;
			memcpy(copy + off + 8 + 4 + 4 * field, &x, 4);
			int r = boot_config_decode(copy, len, &out);
			if (r == 0)
				boot_config_free(&out);
			uint32_t orig;
			memcpy(&orig, buf + off + 8 + 4 + 4 * field, 4);
			cr_assert(r == -EINVAL || x == orig, "field %d len %u", field, x);
			free(copy);
		}
	}
	free(buf);
}

Test(bootcfg, bad_header_and_records)
{
	struct boot_config in = sample(), out;
	char *buf;
	size_t len;

	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	buf[0] ^= 1; /* magic */
	cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL);
	buf[0] ^= 1;
	cr_assert_eq(boot_config_decode(buf, len - 1, &out), -EINVAL); /* length mismatch */
	uint16_t tag = 99;
	memcpy(buf + 8, &tag, 2); /* unknown tag */
	cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL);
	tag = 1;
	memcpy(buf + 8, &tag, 2);
	uint32_t huge = 0xffffffff;
	memcpy(buf + 12, &huge, 4); /* record longer than the buffer */
	cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL);
	free(buf);

	/* A NUL inside a string. */
	char *argv[] = {"a", NULL};
	in.argv = argv;
	cr_assert_eq(boot_config_encode(&in, &buf, &len), 0);
	buf[16] = '\0';
	cr_assert_eq(boot_config_decode(buf, len, &out), -EINVAL);
	free(buf);
	cr_assert_eq(boot_config_decode(NULL, 0, &out), -EINVAL);
}

/* ---- exit status ---- */

Test(exitcode, like_a_shell)
{
	cr_assert_eq(sandbox_exit_code(true, 0, 0, 0, "x", NULL), 0);
	cr_assert_eq(sandbox_exit_code(true, 7 << 8, 0, 0, "x", NULL), 7);
	cr_assert_eq(sandbox_exit_code(true, SIGSEGV, 0, 0, "x", NULL), 128 + SIGSEGV);
	cr_assert_eq(sandbox_exit_code(true, SIGKILL | 0x80, 0, 0, "x", NULL), 128 + SIGKILL);
	cr_assert_eq(sandbox_exit_code(true, -ENOENT, 0, 0, "x", NULL), 127);
	cr_assert_eq(sandbox_exit_code(true, -ENOEXEC, 0, 0, "x", NULL), 126);
	cr_assert_eq(sandbox_exit_code(true, -EACCES, 0, 0, "x", NULL), 126);
	cr_assert_eq(sandbox_exit_code(true, -ENOMEM, 0, 0, "x", NULL), EXIT_RUNTIME);
	cr_assert_eq(sandbox_exit_code(true, -100000, 0, 0, "x", NULL), EXIT_RUNTIME);
	/* No result: a forwarded signal, or the Sentry itself failed. */
	cr_assert_eq(sandbox_exit_code(false, 0, SIGKILL, SIGINT, "x", NULL), 128 + SIGINT);
	cr_assert_eq(sandbox_exit_code(false, 0, SIGSYS, 0, "x", NULL), EXIT_RUNTIME);
	cr_assert_eq(sandbox_exit_code(false, 0, 125 << 8, 0, "x", NULL), EXIT_RUNTIME);
	/* A result wins over a signal that came late. */
	cr_assert_eq(sandbox_exit_code(true, 3 << 8, 0, SIGTERM, "x", NULL), 3);
}

/* ---- the Sentry's seccomp allowlist ---- */

Test(seccomp, names_resolve_and_count_is_small)
{
	size_t n = sentry_seccomp_count();
	cr_assert_gt(n, 40);
	cr_assert_lt(n, 100, "the allowlist grew to %zu: keep it small", n);
	for (size_t i = 0; i < sentry_seccomp_nrules; i++) {
		cr_assert_neq(seccomp_syscall_resolve_name(sentry_seccomp_rules[i].name),
			      __NR_SCMP_ERROR, "%s", sentry_seccomp_rules[i].name);
		cr_assert_not_null(sentry_seccomp_rules[i].why);
	}
}

Test(seccomp, no_path_based_or_escape_syscalls)
{
	static const char *const forbidden[] = {"open",
						"openat",
						"openat2",
						"creat",
						"execve",
						"execveat",
						"stat",
						"lstat",
						"access",
						"faccessat",
						"faccessat2",
						"statx",
						"readlink",
						"readlinkat",
						"chdir",
						"chroot",
						"mount",
						"umount2",
						"pivot_root",
						"unshare",
						"setns",
						"getdents64",
						"socket",
						"connect",
						"bind",
						"mkdir",
						"mkdirat",
						"unlink",
						"unlinkat",
						"rename",
						"renameat2",
						"symlink",
						"link",
						"truncate",
						"init_module",
						"bpf",
						"perf_event_open",
						"process_vm_readv",
						"process_vm_writev",
						"userfaultfd",
						"keyctl",
						"add_key",
						"io_uring_setup",
						"open_by_handle_at",
						"name_to_handle_at",
						"fsopen",
						"move_mount",
						"open_tree",
						"setuid",
						"setgid",
						"setgroups",
						"capset",
						"ptrace_not_a_syscall"};
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		for (size_t j = 0; j < sentry_seccomp_nrules; j++)
			cr_assert(strcmp(forbidden[i], sentry_seccomp_rules[j].name) != 0 ||
				      sentry_seccomp_rules[j].err,
				  "%s must not be allowed", forbidden[i]);
}

/* The program compiled at build time is the one libseccomp makes of the allowlist now. */
Test(seccomp, built_program_is_the_allowlist)
{
	scmp_filter_ctx ctx = sentry_seccomp_build(SCMP_ACT_TRAP);
	int fd = memfd_create("bpf", 0);
	size_t n;
	const struct sock_filter *built = sentry_seccomp_program(&n);
	struct sock_filter *now = calloc(n + 1, sizeof(*now));

	cr_assert_not_null(ctx);
	cr_assert_geq(fd, 0);
	cr_assert_gt(n, 40);
	cr_assert_eq(seccomp_export_bpf(ctx, fd), 0);
	seccomp_release(ctx);
	cr_assert_eq(lseek(fd, 0, SEEK_CUR), (off_t)(n * sizeof(*now)), "a program of another size");
	cr_assert_eq(pread(fd, now, n * sizeof(*now), 0), (ssize_t)(n * sizeof(*now)));
	cr_assert_eq(memcmp(now, built, n * sizeof(*now)), 0, "the built program is stale");
	free(now);
	close(fd);
}

/* Run fn in a child with the allowlist loaded; returns the child's wait status. */
static int in_filtered_child(void (*fn)(void))
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		if (sentry_seccomp_install(false) < 0)
			_exit(99);
		fn();
		_exit(0);
	}
	waitpid(p, &st, 0);
	return st;
}

static void do_write(void)
{
	if (write(2, "", 0) != 0)
		_exit(1);
}
static void do_openat(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	_exit(2);
}
static void do_execve(void)
{
	char *argv[] = {"/bin/true", NULL};
	execve(argv[0], argv, argv + 1);
	_exit(2);
}
static void do_clone3(void)
{
	/* Refused with ENOSYS rather than killed: glibc falls back to clone. */
	long r = syscall(SYS_clone3, NULL, 0);
	_exit(r == -1 && errno == ENOSYS ? 0 : 3);
}
static void do_clone_newuser(void)
{
	syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	_exit(2);
}
static void do_fork(void)
{
	pid_t p = fork(); /* stub processes: clone without CLONE_THREAD */
	int st;
	if (p == 0)
		_exit(5);
	waitpid(p, &st, 0);
	_exit(WEXITSTATUS(st) == 5 ? 0 : 4);
}
static void do_ioctl_tiocsti(void)
{
	char c = 'x';
	ioctl(0, TIOCSTI, &c);
	_exit(2);
}
static void do_fstat(void)
{
	struct stat st;
	if (host_fstat(2, &st) < 0) /* the fstat syscall, not glibc's newfstatat */
		_exit(6);
}
static void do_stat_path(void)
{
	struct stat st;
	stat("/etc/passwd", &st); /* newfstatat without AT_EMPTY_PATH */
	_exit(2);
}

Test(seccomp, allows_what_the_sentry_needs)
{
	cr_assert_eq(in_filtered_child(do_write), 0);
	cr_assert_eq(in_filtered_child(do_clone3), 0);
	cr_assert_eq(in_filtered_child(do_fork), 0);
	cr_assert_eq(in_filtered_child(do_fstat), 0);
}

Test(seccomp, kills_everything_else)
{
	void (*const fns[])(void) = {do_openat, do_execve, do_clone_newuser, do_ioctl_tiocsti,
				     do_stat_path};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int st = in_filtered_child(fns[i]);
		cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "case %zu: status %#x", i, st);
	}
}
