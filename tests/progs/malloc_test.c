/* malloc_test.c: brk directly, then malloc/calloc/realloc/free of many sizes including mmap-sized ones. */
#include "check.h"

#include <sys/syscall.h>

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 13);
}

static int verify(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 13))
			return 0;
	return 1;
}

static void test_brk(void)
{
	/* The raw syscall returns the current break (never an error). */
	uintptr_t cur = syscall(SYS_brk, 0);
	CHECK(cur != 0, "brk(0) = 0");

	uintptr_t want = cur + 10 * 4096 + 100;
	uintptr_t got = syscall(SYS_brk, want);
	CHECK(got == want, "brk grow: got %#lx want %#lx", (unsigned long)got, (unsigned long)want);
	unsigned char *p = (unsigned char *)cur;
	for (size_t i = 0; i < want - cur; i++)
		CHECK(p[i] == 0, "new brk memory not zero at %zu", i);
	fill(p, want - cur, 1);
	CHECK(verify(p, want - cur, 1), "brk memory");

	/* Shrink, grow again: the re-grown memory is zero again. */
	got = syscall(SYS_brk, cur + 4096);
	CHECK(got == cur + 4096, "brk shrink");
	got = syscall(SYS_brk, cur + 8 * 4096);
	CHECK(got == cur + 8 * 4096, "brk regrow");
	CHECK(verify(p, 4096, 1), "kept page changed");
	for (size_t i = 2 * 4096; i < 8 * 4096; i++)
		CHECK(p[i] == 0, "re-grown brk page not zero at %zu", i);

	/* An absurd request fails by returning the old break. */
	got = syscall(SYS_brk, (uintptr_t)1 << 46);
	CHECK(got == cur + 8 * 4096, "huge brk returned %#lx", (unsigned long)got);
	got = syscall(SYS_brk, cur);
	CHECK(got == cur, "brk restore");

	/* sbrk through libc agrees. */
	void *s = sbrk(0);
	CHECK((uintptr_t)s == cur, "sbrk(0)");
	CHECK(sbrk(4096) == s && sbrk(0) == (char *)s + 4096, "sbrk(4096)");
	CHECK(sbrk(-4096) == (char *)s + 4096 && sbrk(0) == s, "sbrk(-4096)");
	printf("ok brk grow/shrink/zero-fill/huge\n");
}

int main(void)
{
	test_brk();

	/* Many sizes, all live at once, then verified and freed in a mixed order. */
	enum { N = 600 };
	static unsigned char *ptrs[N];
	static size_t sizes[N];
	size_t total = 0;
	for (int i = 0; i < N; i++) {
		sizes[i] = (i % 3 == 0) ? (size_t)i : (i % 3 == 1) ? (size_t)i * 97 : (size_t)1 << (i % 18);
		ptrs[i] = malloc(sizes[i]);
		CHECK(ptrs[i] != NULL, "malloc(%zu)", sizes[i]);
		CHECK(((uintptr_t)ptrs[i] & 15) == 0, "malloc(%zu) not 16-aligned", sizes[i]);
		fill(ptrs[i], sizes[i], i);
		total += sizes[i];
	}
	for (int i = 0; i < N; i++)
		CHECK(verify(ptrs[i], sizes[i], i), "block %d (%zu bytes) corrupted", i, sizes[i]);
	for (int i = 0; i < N; i += 2)
		free(ptrs[i]);
	for (int i = 0; i < N; i += 2) {
		ptrs[i] = malloc(sizes[i] + 5);
		CHECK(ptrs[i] != NULL, "re-malloc");
		fill(ptrs[i], sizes[i] + 5, i + 1);
	}
	for (int i = 0; i < N; i++)
		CHECK(verify(ptrs[i], sizes[i], i % 2 ? i : i + 1), "block %d after churn", i);
	for (int i = N - 1; i >= 0; i--)
		free(ptrs[i]);
	printf("ok %d blocks, %zu bytes\n", N, total);

	/* Big allocations go through mmap; they must be usable end to end. */
	size_t big_sizes[] = { 200 << 10, 1 << 20, 16 << 20, 64 << 20 };
	for (size_t k = 0; k < sizeof(big_sizes) / sizeof(big_sizes[0]); k++) {
		size_t n = big_sizes[k];
		unsigned char *p = malloc(n);
		CHECK(p != NULL, "malloc(%zu)", n);
		memset(p, 0xab, n);
		for (size_t i = 0; i < n; i += 4093)
			CHECK(p[i] == 0xab, "big block %zu byte %zu", n, i);
		CHECK(p[n - 1] == 0xab, "last byte");
		free(p);
		printf("ok malloc(%zu)\n", n);
	}

	/* calloc is zeroed, even when recycled from freed dirty memory. */
	unsigned char *dirty = malloc(100000);
	memset(dirty, 0xff, 100000);
	free(dirty);
	unsigned char *z = calloc(1000, 100);
	CHECK(z != NULL, "calloc");
	for (size_t i = 0; i < 100000; i++)
		CHECK(z[i] == 0, "calloc byte %zu", i);
	free(z);
	volatile size_t huge_n = (size_t)1 << 40;
	z = calloc(huge_n, huge_n);
	CHECK(z == NULL && errno == ENOMEM, "overflowing calloc");
	printf("ok calloc\n");

	/* realloc keeps the contents while growing across the mmap threshold and shrinking. */
	size_t n = 10;
	unsigned char *r = malloc(n);
	fill(r, n, 42);
	for (size_t next = 100; next <= (32 << 20); next *= 4) {
		r = realloc(r, next);
		CHECK(r != NULL, "realloc(%zu)", next);
		CHECK(verify(r, n, 42), "realloc to %zu lost data", next);
		fill(r, next, 42);
		n = next;
	}
	r = realloc(r, 50);
	CHECK(r && verify(r, 50, 42), "realloc shrink");
	free(r);
	printf("ok realloc up to %zu\n", n);

	void *huge = malloc((size_t)1 << 50);
	CHECK(huge == NULL && errno == ENOMEM, "malloc(1<<50) should fail with ENOMEM");
	printf("ok malloc(1<<50) -> ENOMEM\n");
	printf("malloc_test: done\n");
	return 0;
}
