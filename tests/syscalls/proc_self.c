/* proc_self.c: /proc/self as programs read it: stat, status, cmdline, comm, environ, exe, cwd,
 * root, fd/, fdinfo/, maps, mounts, task/; checked against the syscalls that report the same. */
#include "sc.h"

#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>

extern char **environ;
static char self[PATH_MAX];
static char big[1 << 16];

static void readlink_is(const char *link, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	CHECK(n > 0, "readlink %s", link);
	buf[n] = 0;
	CHECK(!strcmp(buf, want), "%s -> %s, want %s", link, buf, want);
}

/* stat_fields(path, comm, f): parses "pid (comm) state f4 f5 ..." into f[1..]; f[3] = state. */
static int stat_fields(const char *path, char *comm, long long *f, int max)
{
	read_file(path, big, sizeof(big));
	char *open = strchr(big, '('), *close = strrchr(big, ')');
	CHECK(open && close && close > open, "%s: (comm)", path);
	*close = 0;
	strcpy(comm, open + 1);
	f[1] = atoll(big);
	char *p = close + 2;
	f[3] = *p; /* state */
	p += 2;
	int n = 3;
	while (n + 1 < max && *p && *p != '\n') {
		char *end;
		f[++n] = strtoll(p, &end, 10);
		CHECK(end != p, "%s: field %d is not a number", path, n);
		p = end;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* status_value(key): the value after "key:\t" in /proc/self/status (static buffer). */
static const char *status_value(const char *file, const char *key)
{
	static char val[256];
	char pat[64];

	read_file(file, big, sizeof(big));
	snprintf(pat, sizeof(pat), "\n%s:", key);
	char *p;
	if (!strncmp(big, pat + 1, strlen(pat + 1))) {
		p = big + strlen(pat + 1); /* the first line */
	} else {
		p = strstr(big, pat);
		CHECK(p != NULL, "%s has no %s", file, key);
		p += strlen(pat);
	}
	while (*p == '\t' || *p == ' ')
		p++;
	size_t n = strcspn(p, "\n");
	CHECK(n < sizeof(val), "long value");
	memcpy(val, p, n);
	val[n] = 0;
	return val;
}

static void *sleeper(void *arg)
{
	char c;
	(void)!read(*(int *)arg, &c, 1);
	return NULL;
}

static void test_stat_status(void)
{
	long long f[64];
	char comm[64], name[32];

	CHECK_OK(prctl(PR_SET_NAME, "a) (b c", 0, 0, 0));
	prctl(PR_GET_NAME, name, 0, 0, 0);
	int n = stat_fields("/proc/self/stat", comm, f, 64);
	CHECK(n >= 44, "/proc/self/stat has %d fields", n);
	CHECK(f[1] == getpid(), "pid field");
	CHECK(!strcmp(comm, name), "comm field %s (parens in it)", comm);
	CHECK(f[3] == 'R', "state %c", (char)f[3]);
	CHECK(f[4] == getppid() && f[5] == getpgrp() && f[6] == getsid(0),
	      "ppid/pgrp/session fields");
	CHECK(f[20] == 1, "num_threads %lld", f[20]);

	/* A second thread shows in num_threads, Threads: and task/. */
	int p[2];
	pthread_t th;
	CHECK_OK(pipe(p));
	CHECK(pthread_create(&th, NULL, sleeper, &p[0]) == 0, "create");
	stat_fields("/proc/self/stat", comm, f, 64);
	CHECK(f[20] == 2, "num_threads with a thread: %lld", f[20]);
	CHECK(!strcmp(status_value("/proc/self/status", "Threads"), "2"), "Threads: 2");
	int dfd = (int)CHECK_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
	char tpath_[64];
	snprintf(tpath_, sizeof(tpath_), "/proc/self/task/%d/stat", getpid());
	stat_fields(tpath_, comm, f, 64);
	CHECK(f[1] == getpid(), "task/<tid>/stat of the main thread");
	close(dfd);
	CHECK(write(p[1], "x", 1) == 1, "wake");
	pthread_join(th, NULL);
	close(p[0]);
	close(p[1]);
	ok("/proc/self/stat: pid, (comm) with parens, R, ppid, pgrp, session, num_threads");

	/* status, against the syscalls. */
	CHECK(!strcmp(status_value("/proc/self/status", "Name"), name), "Name");
	CHECK(status_value("/proc/self/status", "State")[0] == 'R', "State");
	CHECK(atoi(status_value("/proc/self/status", "Tgid")) == getpid(), "Tgid");
	CHECK(atoi(status_value("/proc/self/status", "Pid")) == getpid(), "Pid");
	CHECK(atoi(status_value("/proc/self/status", "PPid")) == getppid(), "PPid");
	char want[128];
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", getuid(), geteuid(), getuid(), getuid());
	CHECK(!strcmp(status_value("/proc/self/status", "Uid"), want), "Uid: %s",
	      status_value("/proc/self/status", "Uid"));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", getgid(), getegid(), getgid(), getgid());
	CHECK(!strcmp(status_value("/proc/self/status", "Gid"), want), "Gid");
	CHECK(strstr(status_value("/proc/self/status", "VmRSS"), " kB"), "VmRSS in kB");
	CHECK(strstr(status_value("/proc/self/status", "VmSize"), " kB"), "VmSize in kB");

	/* Signal masks: SigBlk, SigIgn, SigCgt match sigprocmask and sigaction. */
	block(SIGUSR1);
	block(SIGRTMIN + 1);
	set_disposition(SIGUSR2, SIG_IGN);
	set_handler(SIGHUP, (void *)exit, 0);
	unsigned long long blk = 0, ign = 0, cgt = 0;
	unsigned long long kmask = 0;
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &kmask, 8));
	for (int s = 1; s <= 64; s++) {
		/* The raw syscall: glibc hides its internal signals (32, 33) from sigaction. */
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			unsigned long long mask;
		} ka;
		if (kmask & (1ULL << (s - 1)))
			blk |= 1ULL << (s - 1);
		if (syscall(SYS_rt_sigaction, s, NULL, &ka, 8) == 0) {
			if (ka.handler == (void *)SIG_IGN)
				ign |= 1ULL << (s - 1);
			else if (ka.handler != (void *)SIG_DFL)
				cgt |= 1ULL << (s - 1);
		}
	}
	CHECK(strtoull(status_value("/proc/self/status", "SigBlk"), NULL, 16) == blk &&
		      strlen(status_value("/proc/self/status", "SigBlk")) == 16,
	      "SigBlk %s", status_value("/proc/self/status", "SigBlk"));
	CHECK(strtoull(status_value("/proc/self/status", "SigIgn"), NULL, 16) == ign, "SigIgn");
	CHECK(strtoull(status_value("/proc/self/status", "SigCgt"), NULL, 16) == cgt, "SigCgt");
	CHECK(blk & (1ULL << 9), "SIGUSR1 bit");
	unblock(SIGUSR1);
	unblock(SIGRTMIN + 1);
	set_disposition(SIGUSR2, SIG_DFL);
	set_disposition(SIGHUP, SIG_DFL);
	ok("/proc/self/status: Name, State, Tgid, Pid, PPid, Uid, Gid, Vm*, Threads, SigBlk/Ign/Cgt");
}

static int helper_main(int argc, char **argv)
{
	/* Re-executed with known argv and envp: cmdline and environ must be exact. */
	char buf[4096];
	size_t n = read_file("/proc/self/cmdline", buf, sizeof(buf));
	const char want[] = "proc-helper\0arg one\0\0last";
	if (n != sizeof(want) || memcmp(buf, want, n))
		return 1;
	n = read_file("/proc/self/environ", buf, sizeof(buf));
	const char wenv[] = "A=1\0B=two words\0";
	if (n != sizeof(wenv) - 1 || memcmp(buf, wenv, n))
		return 2;
	n = read_file("/proc/self/comm", buf, sizeof(buf));
	if (strcmp(buf, "proc_self\n"))
		return 3;
	return 0;
}

static void test_cmdline_environ_exe(void)
{
	pid_t pid = sc_fork();
	if (pid == 0) {
		char *argv[] = { "proc-helper", "arg one", "", "last", NULL };
		char *envp[] = { "A=1", "B=two words", NULL };
		execve(self, argv, envp);
		_exit(127);
	}
	expect_exit(pid, 0);
	ok("/proc/self/cmdline and environ: NUL-separated argv and envp; comm is the file name");

	readlink_is("/proc/self/exe", self);
	char cwd[PATH_MAX];
	CHECK(getcwd(cwd, sizeof(cwd)), "getcwd");
	readlink_is("/proc/self/cwd", cwd);
	CHECK_OK(chdir(sc_tmpdir()));
	readlink_is("/proc/self/cwd", sc_tmpdir());
	readlink_is("/proc/self/exe", self);
	CHECK_OK(chdir(cwd));
	readlink_is("/proc/self/root", "/");
	char me[32];
	snprintf(me, sizeof(me), "%d", getpid());
	readlink_is("/proc/self", me);
	ok("/proc/self/exe, cwd (follows chdir), root; /proc/self names getpid()");
}

static void test_fd(void)
{
	char link[64], want[PATH_MAX];
	const char *f = tpath("fdfile");

	write_file(f, "0123456789", 0644);
	int fd = (int)CHECK_OK(open(f, O_WRONLY | O_APPEND | O_CLOEXEC));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	readlink_is(link, f);
	int p[2];
	CHECK_OK(pipe(p));
	struct stat st;
	CHECK_OK(fstat(p[0], &st));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	readlink_is(link, want);
	int nfd = (int)CHECK_OK(open("/dev/null", O_RDONLY));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", nfd);
	readlink_is(link, "/dev/null");
	/* The listing has our fds, and loses closed ones. */
	int dfd = (int)CHECK_OK(open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
	char name[16];
	snprintf(name, sizeof(name), "%d", nfd);
	struct stat lst;
	CHECK_OK(fstatat(dfd, "0", &lst, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(lst.st_mode), "fd/0 is a symlink");
	CHECK_OK(fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW));
	close(nfd);
	CHECK(fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT,
	      "a closed fd leaves /proc/self/fd");
	close(dfd);
	/* Opening fd/N opens the file anew: its own offset. */
	int rfd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_OK(lseek(rfd, 5, SEEK_SET));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", rfd);
	int again = (int)CHECK_OK(open(link, O_RDONLY));
	char c;
	CHECK(read(again, &c, 1) == 1 && c == '0', "re-opened at offset 0");
	close(again);
	/* A deleted file. */
	const char *g = tpath("gone");
	write_file(g, "", 0644);
	int gfd = (int)CHECK_OK(open(g, O_RDONLY));
	CHECK_OK(unlink(g));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", gfd);
	snprintf(want, sizeof(want), "%s (deleted)", g);
	readlink_is(link, want);
	close(gfd);
	ok("/proc/self/fd: file paths, pipe:[ino], /dev/null, \" (deleted)\", re-open, closed fds go");

	/* fdinfo: pos and flags. */
	snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", rfd);
	CHECK(atol(status_value(link, "pos")) == 5, "fdinfo pos");
	unsigned long fl = strtoul(status_value(link, "flags"), NULL, 8);
	CHECK((fl & O_ACCMODE) == O_RDONLY && !(fl & O_CLOEXEC), "fdinfo flags O_RDONLY: %lo", fl);
	snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", fd);
	CHECK(status_value(link, "flags")[0] == '0', "flags in octal");
	fl = strtoul(status_value(link, "flags"), NULL, 8);
	CHECK((fl & O_ACCMODE) == O_WRONLY && (fl & O_APPEND) && (fl & O_CLOEXEC),
	      "fdinfo flags O_WRONLY|O_APPEND|O_CLOEXEC: %lo", fl);
	close(rfd);
	close(fd);
	close(p[0]);
	close(p[1]);
	ok("/proc/self/fdinfo: pos and octal flags (access mode, O_APPEND, O_CLOEXEC)");
}

struct map {
	unsigned long lo, hi, off, ino;
	char perms[5], path[PATH_MAX];
};

static int read_maps(struct map *m, int max)
{
	static char buf[1 << 18];
	read_file("/proc/self/maps", buf, sizeof(buf));
	int n = 0;
	for (char *line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n")) {
		unsigned dmaj, dmin;
		int pos = 0;
		CHECK(sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m[n].lo, &m[n].hi, m[n].perms,
			     &m[n].off, &dmaj, &dmin, &m[n].ino, &pos) == 7,
		      "maps line: %s", line);
		snprintf(m[n].path, sizeof(m[n].path), "%s", pos ? line + pos : "");
		CHECK(m[n].lo < m[n].hi && (n == 0 || m[n].lo >= m[n - 1].hi), "sorted, disjoint");
		n++;
	}
	return n;
}

static struct map *find_map(struct map *m, int n, const void *addr)
{
	for (int i = 0; i < n; i++)
		if ((unsigned long)addr >= m[i].lo && (unsigned long)addr < m[i].hi)
			return &m[i];
	return NULL;
}

static void test_maps(void)
{
	static struct map m[512];
	long pg = sysconf(_SC_PAGESIZE);
	char *rw = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *f = tpath("mapped");
	write_file(f, "", 0644);
	int fd = (int)CHECK_OK(open(f, O_RDWR));
	CHECK_OK(ftruncate(fd, 4 * pg));
	char *fm = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 2 * pg);
	CHECK(rw != MAP_FAILED && sh != MAP_FAILED && fm != MAP_FAILED, "mmap");
	CHECK_OK(mprotect(rw + pg, pg, PROT_READ));

	int n = read_maps(m, 512);
	struct map *a = find_map(m, n, rw), *b = find_map(m, n, rw + pg), *c = find_map(m, n, rw + 2 * pg);
	CHECK(a && !strcmp(a->perms, "rw-p") && a->hi == (unsigned long)rw + pg, "rw-p part");
	CHECK(b && !strcmp(b->perms, "r--p") && b->lo == (unsigned long)rw + pg &&
		      b->hi == (unsigned long)rw + 2 * pg,
	      "mprotect split off an r--p page");
	CHECK(c && !strcmp(c->perms, "rw-p"), "rw-p tail");
	struct map *s = find_map(m, n, sh);
	CHECK(s && !strcmp(s->perms, "rw-s"), "shared anonymous: rw-s");
	struct map *fmm = find_map(m, n, fm);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(fmm && !strcmp(fmm->perms, "r--s") && fmm->off == (unsigned long)(2 * pg) &&
		      fmm->ino == st.st_ino && !strcmp(fmm->path, f),
	      "file mapping: perms, offset, inode, path");
	struct map *code = find_map(m, n, (void *)test_maps);
	CHECK(code && code->perms[2] == 'x' && !strcmp(code->path, self), "our code: r-x, exe path");
	int local;
	struct map *stk = find_map(m, n, &local);
	CHECK(stk && !strcmp(stk->path, "[stack]") && !strcmp(stk->perms, "rw-p"), "[stack]");
	CHECK_OK(munmap(rw, 3 * pg));
	n = read_maps(m, 512);
	CHECK(!find_map(m, n, rw + pg), "unmapped ranges leave maps");
	munmap(sh, pg);
	munmap(fm, 2 * pg);
	close(fd);
	ok("/proc/self/maps: ranges, perms (p/s), mprotect splits, file offset/inode/path, [stack]");
}

static void test_mounts(void)
{
	static char a[1 << 16], b[1 << 16];
	read_file("/proc/self/mounts", a, sizeof(a));
	read_file("/proc/mounts", b, sizeof(b));
	CHECK(!strcmp(a, b), "/proc/mounts is /proc/self/mounts");
	int root = 0, proc = 0;
	for (char *line = strtok(a, "\n"); line; line = strtok(NULL, "\n")) {
		char dev[256], dir[256], type[64], opts[512];
		int freq, pass;
		CHECK(sscanf(line, "%255s %255s %63s %511s %d %d", dev, dir, type, opts, &freq,
			     &pass) == 6,
		      "six fields: %s", line);
		CHECK(!strncmp(opts, "rw", 2) || !strncmp(opts, "ro", 2), "options start rw/ro");
		root |= !strcmp(dir, "/");
		proc |= !strcmp(dir, "/proc") && !strcmp(type, "proc");
	}
	CHECK(root && proc, "mounts has / and /proc (proc)");
	ok("/proc/self/mounts: six fields per line, / and /proc of type proc");
}

int main(int argc, char **argv)
{
	if (!strcmp(argv[0], "proc-helper"))
		return helper_main(argc, argv);
	CHECK(realpath(argv[0], self) != NULL, "realpath");
	test_stat_status();
	test_cmdline_environ_exe();
	test_fd();
	test_maps();
	test_mounts();
	return 0;
}
