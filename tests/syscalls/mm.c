/* mm.c: mprotect, mremap, madvise(DONTNEED), munmap holes, MAP_FIXED(_NOREPLACE), argument errors. */
#include "sc.h"

#include <setjmp.h>
#include <sys/mman.h>

static long pg;
static sigjmp_buf jb;
static volatile uintptr_t fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

/* can_read/can_write(p): 1 if the access succeeds, 0 if it faults at p. */
static int can_read(volatile char *p)
{
	if (sigsetjmp(jb, 1) == 0) {
		(void)*p;
		return 1;
	}
	CHECK(fault_addr == (uintptr_t)p, "fault address");
	return 0;
}

static int can_write(volatile char *p)
{
	if (sigsetjmp(jb, 1) == 0) {
		*p = *p;
		return 1;
	}
	CHECK(fault_addr == (uintptr_t)p, "fault address");
	return 0;
}

static char *anon(long n, int prot)
{
	char *m = mmap(NULL, n * pg, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED, "mmap");
	return m;
}

static void test_mprotect(void)
{
	char *m = anon(4, PROT_READ | PROT_WRITE);

	memset(m, 'x', 4 * pg);
	CHECK_OK(mprotect(m + pg, 2 * pg, PROT_READ)); /* splits the mapping in three */
	CHECK(can_write(m) && !can_write(m + pg) && !can_write(m + 3 * pg - 1) &&
		      can_write(m + 3 * pg),
	      "only the middle pages are read-only");
	CHECK(can_read(m + pg) && m[pg + 5] == 'x', "contents kept");
	CHECK_OK(mprotect(m, 4 * pg, PROT_NONE));
	CHECK(!can_read(m) && !can_read(m + 2 * pg), "PROT_NONE: no reads");
	CHECK_OK(mprotect(m, 4 * pg, PROT_READ | PROT_WRITE));
	CHECK(can_write(m + 2 * pg) && m[2 * pg] == 'x', "writable again, contents kept");

	CHECK_ERR(mprotect(m + 1, pg, PROT_READ), EINVAL);
	CHECK_ERR(mprotect(m, pg, 0x1000), EINVAL);
	CHECK_OK(munmap(m + 2 * pg, pg));
	CHECK_ERR(mprotect(m, 4 * pg, PROT_READ), ENOMEM); /* a hole in the range */
	munmap(m, 4 * pg);
	ok("mprotect: splits ranges, PROT_READ/NONE enforced, contents kept; EINVAL, ENOMEM");
}

static void test_munmap_fixed(void)
{
	char *m = anon(3, PROT_READ | PROT_WRITE);

	CHECK_OK(munmap(m + pg, pg));
	CHECK(can_read(m) && !can_read(m + pg) && can_read(m + 2 * pg), "a hole in the middle");
	CHECK_OK(munmap(m + pg, pg)); /* unmapping nothing is fine */
	CHECK_ERR(munmap(m + 1, pg), EINVAL);
	CHECK_ERR(munmap(m, 0), EINVAL);

	/* MAP_FIXED replaces; MAP_FIXED_NOREPLACE refuses. */
	memset(m, 'a', pg);
	char *f = mmap(m, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == m && m[0] == 0, "MAP_FIXED gives a fresh zero page at the address");
	char *n = mmap(m + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);
	CHECK(n == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE on a mapping: EEXIST");
	n = mmap(m + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(n == m + pg, "MAP_FIXED_NOREPLACE into the hole");
	CHECK(mmap(m + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
			      MAP_FAILED &&
		      errno == EINVAL,
	      "unaligned MAP_FIXED: EINVAL");
	munmap(m, 3 * pg);
	ok("munmap makes holes; MAP_FIXED replaces, MAP_FIXED_NOREPLACE gives EEXIST");
}

static void test_mremap(void)
{
	char *m = anon(2, PROT_READ | PROT_WRITE);

	for (long i = 0; i < 2 * pg; i++)
		m[i] = (char)i;
	/* Grow, moving if needed; contents travel along. */
	char *g = mremap(m, 2 * pg, 8 * pg, MREMAP_MAYMOVE);
	CHECK(g != MAP_FAILED, "mremap grow");
	for (long i = 0; i < 2 * pg; i++)
		CHECK(g[i] == (char)i, "byte %ld after growing", i);
	CHECK(g[8 * pg - 1] == 0, "new pages are zero");
	if (g != m)
		CHECK(!can_read(m), "the old address is unmapped after a move");
	/* Shrink in place. */
	char *s = mremap(g, 8 * pg, pg, 0);
	CHECK(s == g && !can_read(g + pg) && g[5] == 5, "shrink in place");
	/* Move to a fixed address. */
	char *dst = anon(4, PROT_READ);
	char *fx = mremap(g, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * pg);
	CHECK(fx == dst + 2 * pg && fx[7] == 7 && can_write(fx), "MREMAP_FIXED moves with prot");
	CHECK(!can_read(g), "old address gone");
	/* Growing in place when the next page is taken fails without MAYMOVE. */
	CHECK(mremap(dst, pg, 2 * pg, 0) == MAP_FAILED && errno == ENOMEM, "blocked: ENOMEM");
	CHECK(mremap(dst + 1, pg, 2 * pg, 0) == MAP_FAILED && errno == EINVAL, "unaligned");
	CHECK(mremap(dst, pg, pg, MREMAP_FIXED, dst + pg) == MAP_FAILED && errno == EINVAL,
	      "FIXED without MAYMOVE: EINVAL");
	CHECK(mremap(dst, pg, 0, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL, "new size 0");
	munmap(dst, 4 * pg);

	/* A shared anonymous mapping moved by mremap is still the same memory. */
	volatile char *sh = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	CHECK(sh != MAP_FAILED, "mmap shared");
	sh[pg] = 's';
	char *spot = anon(2, PROT_NONE);
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		/* Moved in the child: its writes still reach the parent. */
		volatile char *moved =
			mremap((void *)sh, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
		c = moved[pg];
		moved[pg] = 'c';
		_exit(moved != MAP_FAILED && c == 's' ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(sh[pg] == 'c', "a moved shared mapping is still shared");
	munmap((void *)sh, 2 * pg);
	munmap(spot, 2 * pg);
	ok("mremap: grow (moving), shrink, MREMAP_FIXED, shared; ENOMEM and EINVAL");
}

static void test_madvise(void)
{
	/* DONTNEED on private anonymous memory: zero-fill on next touch. */
	char *m = anon(4, PROT_READ | PROT_WRITE);
	memset(m, 'd', 4 * pg);
	CHECK_OK(madvise(m + pg, 2 * pg, MADV_DONTNEED));
	CHECK(m[0] == 'd' && m[pg] == 0 && m[3 * pg - 1] == 0 && m[3 * pg] == 'd',
	      "DONTNEED zeroed exactly the range");
	munmap(m, 4 * pg);

	/* On shared anonymous memory the data stays. */
	char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED, "mmap");
	sh[0] = 's';
	CHECK_OK(madvise(sh, pg, MADV_DONTNEED));
	CHECK(sh[0] == 's', "DONTNEED keeps shared memory");
	munmap(sh, pg);

	/* On a private file mapping, the file's data comes back. */
	const char *path = tpath("madv");
	write_file(path, "file data", 0644);
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	char *f = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED, "mmap file");
	memcpy(f, "PRIVATE", 7);
	CHECK_OK(madvise(f, pg, MADV_DONTNEED));
	CHECK(!memcmp(f, "file data", 9), "DONTNEED on a private file page: back to the file");
	munmap(f, pg);
	close(fd);

	char *w = anon(1, PROT_READ | PROT_WRITE);
	CHECK_OK(madvise(w, pg, MADV_WILLNEED));
	CHECK_OK(madvise(w, pg, MADV_NORMAL));
	CHECK_ERR(madvise(w + 1, pg, MADV_DONTNEED), EINVAL);
	CHECK_ERR(madvise(w, pg, 12345), EINVAL);
	munmap(w, pg);
	ok("madvise DONTNEED: private anonymous zeroed, shared kept, private file reverts; EINVAL");
}

int main(void)
{
	pg = sysconf(_SC_PAGESIZE);
	set_handler(SIGSEGV, (void *)on_segv, SA_SIGINFO | SA_NODEFER);
	test_mprotect();
	test_munmap_fixed();
	test_mremap();
	test_madvise();
	return 0;
}
