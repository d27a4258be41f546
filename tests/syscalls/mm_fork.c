/* mm_fork.c: memory across fork: MAP_SHARED anonymous shared both ways, copy-on-write of private
 * memory (many pages, writes on both sides), brk heap, and read-only pages staying read-only. */
#include "sc.h"

#include <setjmp.h>
#include <sys/mman.h>

#define BIG (32L << 20) /* 32 MiB */

static void test_shared_anon(void)
{
	volatile int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int p[2], q[2];

	CHECK(sh != MAP_FAILED, "mmap");
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	sh[0] = 1;
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		int okc = sh[0] == 1;
		sh[1] = 2; /* seen by the parent */
		(void)!write(q[1], "w", 1);
		(void)!read(p[0], &c, 1);
		_exit(okc && sh[2] == 3 ? 0 : 1); /* the parent's later write */
	}
	char c;
	CHECK(read(q[0], &c, 1) == 1, "sync");
	CHECK(sh[1] == 2, "the child's write is visible in the parent");
	sh[2] = 3;
	CHECK(write(p[1], "g", 1) == 1, "sync");
	expect_exit(pid, 0);
	/* Shared across two generations. */
	pid = sc_fork();
	if (pid == 0) {
		pid_t g = sc_fork();
		if (g == 0) {
			sh[3] = 4;
			_exit(0);
		}
		sc_wait(g);
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(sh[3] == 4, "a grandchild's write");
	munmap((void *)sh, 4096);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	ok("MAP_SHARED|MAP_ANONYMOUS is shared with children and grandchildren, both ways");
}

static uint64_t hash_pages(const char *m, long len, long step)
{
	uint64_t h = FNV_INIT;

	for (long off = 0; off < len; off += step)
		h = fnv1a(h, m + off, 8);
	return h;
}

static void test_cow(void)
{
	char *m = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int p[2], q[2];

	CHECK(m != MAP_FAILED, "mmap");
	for (long off = 0; off < BIG; off += 4096)
		*(long *)(m + off) = off;
	uint64_t before = hash_pages(m, BIG, 4096);
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		if (hash_pages(m, BIG, 4096) != before)
			_exit(1);
		/* Write every 4th page. */
		for (long off = 0; off < BIG; off += 4 * 4096)
			*(long *)(m + off) = -1;
		(void)!write(q[1], "w", 1);
		(void)!read(p[0], &c, 1);
		/* The parent wrote other pages meanwhile: still our own values. */
		for (long off = 0; off < BIG; off += 4096) {
			long want = (off / 4096) % 4 == 0 ? -1 : off;
			if (*(long *)(m + off) != want)
				_exit(2);
		}
		_exit(0);
	}
	char c;
	CHECK(read(q[0], &c, 1) == 1, "sync");
	CHECK(hash_pages(m, BIG, 4096) == before, "the child's writes did not reach the parent");
	for (long off = 4096; off < BIG; off += 2 * 4096)
		*(long *)(m + off) = -2;
	CHECK(write(p[1], "g", 1) == 1, "sync");
	expect_exit(pid, 0);
	for (long off = 0; off < BIG; off += 4096) {
		long want = (off / 4096) % 2 == 1 ? -2 : off;
		CHECK(*(long *)(m + off) == want, "parent page %ld", off / 4096);
	}
	munmap(m, BIG);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	ok("copy-on-write after fork: 32 MiB, writes on both sides stay on their side");
}

static void test_many_forks_of_big(void)
{
	/* Fork repeatedly while 32 MiB are resident: each child touches one page. */
	char *m = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED, "mmap");
	memset(m, 7, BIG);
	for (int i = 0; i < 20; i++) {
		pid_t pid = sc_fork();
		if (pid == 0) {
			m[i * 4096] = 8;
			_exit(m[BIG - 1] == 7 && m[i * 4096] == 8 ? 0 : 1);
		}
		expect_exit(pid, 0);
	}
	CHECK(m[0] == 7 && m[19 * 4096] == 7, "untouched by children");
	munmap(m, BIG);
	ok("20 forks of a process with 32 MiB resident");
}

static void test_brk(void)
{
	char *cur = sbrk(0);
	CHECK(cur != (void *)-1, "sbrk");
	CHECK(brk(cur + 3 * 4096) == 0, "brk grow");
	memset(cur, 'b', 3 * 4096);
	pid_t pid = sc_fork();
	if (pid == 0) {
		int okc = cur[3 * 4096 - 1] == 'b' && sbrk(0) == cur + 3 * 4096;
		cur[0] = 'c';
		_exit(okc ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(cur[0] == 'b', "the heap is copy-on-write too");
	CHECK(brk(cur) == 0, "brk shrink");
	ok("brk heap: inherited by fork, copy-on-write");
}

static sigjmp_buf jb;
static void on_segv(int sig)
{
	siglongjmp(jb, 1);
}

static void ro_child(void)
{
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED, "mmap");
	set_handler(SIGSEGV, (void *)on_segv, SA_NODEFER);
	pid_t pid = sc_fork();
	if (pid == 0) {
		if (sigsetjmp(jb, 1) == 0) {
			*(volatile char *)ro = 1;
			_exit(1); /* copy-on-write must not make it writable */
		}
		_exit(0);
	}
	expect_exit(pid, 0);
}

static void test_readonly_stays(void)
{
	in_child(ro_child);
	ok("a read-only private page stays read-only in a fork child");
}

int main(void)
{
	test_shared_anon();
	test_cow();
	test_many_forks_of_big();
	test_brk();
	test_readonly_stays();
	return 0;
}
