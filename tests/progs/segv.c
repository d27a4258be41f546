/* segv.c: dies of SIGSEGV in the way argv[1] names; the runner expects status 139 like natively. */
#include "check.h"

#include <sys/mman.h>

static volatile uintptr_t zero;

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "null-write";

	/* Unbuffered, so the line is out before the fault. */
	dprintf(1, "about to fault: %s\n", how);
	if (!strcmp(how, "null-write")) {
		*(volatile int *)zero = 42;
	} else if (!strcmp(how, "null-read")) {
		printf("%d\n", *(volatile int *)zero);
	} else if (!strcmp(how, "readonly-write")) {
		volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED, "mmap");
		p[10] = 1;
	} else if (!strcmp(how, "protnone-read")) {
		volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED, "mmap");
		p[0] = 1;
		CHECK_OK(mprotect((void *)p, 4096, PROT_NONE));
		printf("%d\n", p[0]);
	} else if (!strcmp(how, "unmapped-exec")) {
		void (*fn)(void) = (void (*)(void))(zero + 0x1000);
		fn();
	} else {
		CHECK(0, "unknown mode %s", how);
	}
	dprintf(1, "still alive: the fault did not kill the program\n");
	return 2;
}
