/* sigbus.c: SIGBUS BUS_ADRERR for a file mapping's pages past end of file (mapped beyond EOF,
 * and after the file is truncated under the mapping). */
#include "sc.h"

#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int got_code;
static volatile uintptr_t got_addr;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

/* Reads p[0]; returns 1 if that raised SIGBUS (at p). */
static int bus_at(volatile char *p)
{
	got_code = 0;
	got_addr = 0;
	if (sigsetjmp(jb, 1) == 0) {
		(void)p[0];
		return 0;
	}
	CHECK(got_code == BUS_ADRERR && got_addr == (uintptr_t)p, "SIGBUS code %d at the address",
	      got_code);
	return 1;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	const char *path = tpath("f");
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	char *buf = malloc(pg);

	memset(buf, 'a', pg);
	CHECK(write(fd, buf, pg) == pg, "write");
	set_handler(SIGBUS, (void *)on_bus, SA_SIGINFO);

	char *m = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(!bus_at(m + pg - 1) && m[pg - 1] == 'a', "the last byte of the file");
	CHECK(bus_at(m + pg), "the page after EOF");
	CHECK(bus_at(m + 2 * pg + 5), "two pages after EOF");
	ok("MAP_PRIVATE: SIGBUS BUS_ADRERR with si_addr for pages past end of file");

	munmap(m, 3 * pg);

	/* MAP_SHARED: growing the file makes the page valid, shrinking it invalid again. */
	m = mmap(NULL, 3 * pg, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap shared");
	CHECK(bus_at(m + pg), "MAP_SHARED: the page after EOF");
	CHECK_OK(ftruncate(fd, 2 * pg));
	CHECK(!bus_at(m + pg + 1) && m[pg + 1] == 0, "after growing: zeros");
	CHECK_OK(ftruncate(fd, 0));
	CHECK(bus_at(m), "after truncating to 0: SIGBUS on the first page");
	munmap(m, 3 * pg);

	/* A writable private mapping: the partial last page reads zeros past EOF. */
	CHECK_OK(ftruncate(fd, 10));
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap private");
	CHECK(!bus_at(m + 100) && m[100] == 0, "the partial last page reads zeros past EOF");
	CHECK(bus_at(m + pg), "MAP_PRIVATE past EOF");
	munmap(m, 2 * pg);
	close(fd);
	ok("MAP_SHARED: SIGBUS follows ftruncate (grow, shrink); zeros past EOF in the last page");
	return 0;
}
