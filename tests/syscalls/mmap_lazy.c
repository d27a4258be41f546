/* mmap_lazy.c: private mappings of a host file (this program) that are touched sparsely, in
 * scrambled order, or not at all before fork, mprotect, munmap, mremap or a syscall reaches
 * them: the sandbox reads such mappings a chunk at a time as they are first touched (and its
 * page cache keeps what was read for later mappings), so every way in must see the file's bytes
 * and private writes must stay private. Also SIGBUS past the end of the file. Given a directory
 * (tests/workloads/mounts.sh passes a read-write volume), it checks instead that a file there
 * truncated under a private mapping gives SIGBUS past its new end. */
#include "sc.h"

#include <setjmp.h>
#include <sys/mman.h>

static long pg;
static char *file; /* the whole file, read with pread */
static size_t size, npages;
static int fd;

/* Does [m, m+len) hold the file's bytes from off (zeros past its end)? */
static int same(const char *m, size_t len, size_t off)
{
	for (size_t k = 0; k < len; k++)
		if (m[k] != (off + k < size ? file[off + k] : 0))
			return 0;
	return 1;
}

static char *map(size_t len, int prot, size_t off)
{
	char *m = mmap(NULL, len, prot, MAP_PRIVATE, fd, (off_t)off);
	CHECK(m != MAP_FAILED, "mmap %zu bytes at %zu: %s", len, off, strerror(errno));
	return m;
}

static void test_sparse(void)
{
	size_t len = npages * pg;
	/* One page in seven, in a scrambled order, then all of it; twice (the second mapping
	 * finds what the first read). */
	for (int round = 0; round < 2; round++) {
		char *m = map(len, PROT_READ | PROT_EXEC, 0);
		for (size_t k = 0; k < npages; k += 7) {
			size_t p = (k * 7919) % npages;
			CHECK(same(m + p * pg, pg, p * pg), "page %zu (round %d)", p, round);
		}
		CHECK(same(m, len, 0), "all of it (round %d)", round);
		munmap(m, len);
	}
	/* At an offset, touched from the end backwards. */
	char *m = map(len - 3 * pg, PROT_READ, 3 * pg);
	for (size_t p = npages - 3; p-- > 0;)
		CHECK(same(m + p * pg, pg, (p + 3) * pg), "page %zu at an offset", p);
	munmap(m, len - 3 * pg);
	ok("a private mapping touched sparsely, in any order, at an offset: the file's bytes");
}

/* fork before anything is touched: each side reads the file's bytes and its own writes. */
static void test_fork_untouched(void)
{
	size_t len = npages * pg, mid = (npages / 2) * pg;
	char *ro = map(len, PROT_READ, 0);
	char *rw = map(len, PROT_READ | PROT_WRITE, 0);
	pid_t pid = sc_fork();
	if (pid == 0) {
		rw[mid] ^= 0x5a;
		CHECK(same(ro, len, 0), "child: the read-only mapping");
		CHECK(same(rw, mid, 0) && same(rw + mid + 1, len - mid - 1, mid + 1),
		      "child: the writable one around its write");
		CHECK(rw[mid] == (char)(file[mid] ^ 0x5a), "child: its write");
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(same(rw, len, 0), "parent: the child's write is not seen");
	CHECK(same(ro, len, 0), "parent: the read-only mapping");
	/* And the other way: the parent writes first, the child reads after. */
	char *rw2 = map(len, PROT_READ | PROT_WRITE, 0);
	pid = sc_fork();
	if (pid == 0) {
		msleep(20);
		CHECK(same(rw2, len, 0), "child: the parent's later write is not seen");
		_exit(0);
	}
	rw2[pg + 1] = (char)~file[pg + 1];
	expect_exit(pid, 0);
	CHECK(rw2[pg + 1] == (char)~file[pg + 1] && same(rw2 + pg + 2, len - pg - 2, pg + 2),
	      "parent: its own write");
	munmap(ro, len);
	munmap(rw, len);
	munmap(rw2, len);
	ok("fork before a private file mapping is touched: both sides see the file, writes stay");
}

/* mprotect, munmap and mremap on parts nothing touched yet. */
static void test_split_untouched(void)
{
	size_t len = npages * pg, a = npages / 4 * pg, b = npages / 2 * pg;
	char *m = map(len, PROT_READ, 0);
	CHECK_OK(mprotect(m + a, b - a, PROT_READ | PROT_WRITE));
	m[a + 5] = (char)~file[a + 5];
	CHECK(same(m, a + 5, 0) && same(m + a + 6, len - a - 6, a + 6),
	      "mprotect'ed middle: the rest is the file's");
	char *r = map(len, PROT_READ, 0);
	CHECK_OK(munmap(r + a, pg));
	CHECK(same(r + a + pg, len - a - pg, a + pg) && same(r, a, 0), "around an unmapped page");
	/* move the untouched tail elsewhere */
	size_t tail = len - b;
	char *dst = mmap(NULL, tail, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dst != MAP_FAILED, "reserve");
	char *moved = mremap(r + b, tail, tail, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(moved == dst, "mremap: %s", strerror(errno));
	CHECK(same(moved, tail, b), "the moved tail");
	munmap(m, len);
	munmap(r, b);
	munmap(moved, tail);
	ok("mprotect, munmap and mremap of untouched parts of a private file mapping");
}

/* The kernel's own reads and writes of untouched pages (write(2) from them, read(2) into a
 * writable private mapping). */
static void test_syscall_access(void)
{
	size_t len = npages * pg;
	char *m = map(len, PROT_READ, 0);
	int p[2];
	CHECK_OK(pipe(p));
	size_t n = len - pg - 7 < 60000 ? len - pg - 7 : 60000;
	CHECK(write(p[1], m + pg + 7, n) == (ssize_t)n, "write from the mapping");
	char *back = malloc(n);
	CHECK(read(p[0], back, n) == (ssize_t)n && same(back, n, pg + 7), "what was written");
	char *w = map(len, PROT_READ | PROT_WRITE, 0);
	size_t at = len / 2 + 100;
	CHECK(pread(fd, w + at, 300, 0) == 300, "read into the mapping");
	CHECK(same(w + at, 300, 0) && same(w, at, 0) && same(w + at + 300, len - at - 300, at + 300),
	      "read into an untouched writable mapping: the rest is the file's");
	close(p[0]);
	close(p[1]);
	free(back);
	munmap(m, len);
	munmap(w, len);
	ok("write(2) from and read(2) into untouched private file mappings");
}

static sigjmp_buf jb;
static volatile int got_bus;

static void on_bus(int sig)
{
	got_bus = 1;
	siglongjmp(jb, 1);
}

static void test_sigbus_past_eof(void)
{
	size_t flen = npages * pg, len = flen + 2 * pg;
	char *m = map(len, PROT_READ, 0);
	struct sigaction sa = {.sa_handler = on_bus};
	CHECK_OK(sigaction(SIGBUS, &sa, NULL));
	got_bus = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + flen + pg);
	CHECK(got_bus, "SIGBUS a page past the end of the file");
	CHECK(same(m + flen - pg, pg, flen - pg), "the last page (zeros past the end)");
	got_bus = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + flen);
	CHECK(got_bus, "SIGBUS on the first page past the end");
	munmap(m, len);
	ok("SIGBUS past the end of the file in a private mapping touched there first");
}

/* With a directory (a read-write volume, tests/workloads/mounts.sh): a private mapping of a
 * file there that is truncated after its first page was touched: SIGBUS past the new end. */
static void test_truncated(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/mmap_lazy.data", dir);
	fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	size_t len = 64 * (size_t)pg;
	char *buf = malloc(len);
	memset(buf, 'x', len);
	CHECK(write(fd, buf, len) == (ssize_t)len, "write the file");
	char *m = map(len, PROT_READ, 0);
	CHECK(m[0] == 'x', "the first page");
	CHECK_OK(ftruncate(fd, pg));
	struct sigaction sa = {.sa_handler = on_bus};
	CHECK_OK(sigaction(SIGBUS, &sa, NULL));
	got_bus = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + 40 * pg);
	CHECK(got_bus, "SIGBUS past the new end of the file");
	CHECK(m[pg - 1] == 'x', "the page within the file");
	munmap(m, len);
	close(fd);
	unlink(path);
	free(buf);
	ok("a private mapping of a file truncated after its first touch: SIGBUS past the end");
}

/* mincore of the page of code running now: resident, as a file's cached page is on Linux (on
 * systrap that page is the host file's own, not a copy in the memory file). */
static void test_mincore_text(void)
{
	unsigned char vec = 0;
	uintptr_t page = (uintptr_t)&test_mincore_text & ~(uintptr_t)(pg - 1);

	CHECK_OK(mincore((void *)page, (size_t)pg, &vec));
	CHECK(vec & 1, "the running code's page is resident");
	ok("mincore of the running code's page");
}

int main(int argc, char **argv)
{
	pg = sysconf(_SC_PAGESIZE);
	if (argc > 1) {
		test_truncated(argv[1]);
		return 0;
	}
	fd = (int)CHECK_OK(open("/proc/self/exe", O_RDONLY));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	size = (size_t)st.st_size;
	npages = (size + pg - 1) / pg;
	CHECK(size >= 512 * 1024, "the program is at least 512 KiB");
	file = malloc(size);
	CHECK(file && pread(fd, file, size, 0) == (ssize_t)size, "pread the whole program");
	test_sparse();
	test_fork_untouched();
	test_split_untouched();
	test_syscall_access();
	test_sigbus_past_eof();
	test_mincore_text();
	return 0;
}
