/* Unit tests for platform/syspatch.c: the site pattern, the jump, and a trampoline entry run for
 * real (the table mapped at its address in this process, the platform's entry played by a
 * function that takes the slow path, so the call ends as a host syscall). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/syspatch.h"

/* ---- the pattern ---- */

Test(syspatch, match)
{
	static const uint8_t getpid_site[7] = {0xb8, 0x27, 0, 0, 0, 0x0f, 0x05};
	static const uint8_t big_nr[7] = {0xb8, 0x34, 0x12, 0, 0x80, 0x0f, 0x05};
	uint32_t nr = 0;

	cr_assert(syspatch_match(getpid_site, &nr));
	cr_assert_eq(nr, 39);
	/* The number is the immediate as is; the Sentry compares it with the call's. */
	cr_assert(syspatch_match(big_nr, &nr));
	cr_assert_eq(nr, 0x80001234u);
}

Test(syspatch, no_match)
{
	static const uint8_t cases[][7] = {
		{0x48, 0xc7, 0xc0, 0x27, 0, 0, 0},    /* mov $39,%rax (7 bytes, no syscall) */
		{0xb9, 0x27, 0, 0, 0, 0x0f, 0x05},    /* mov $39,%ecx; syscall */
		{0xb8, 0x27, 0, 0, 0, 0x0f, 0x34},    /* mov; sysenter */
		{0xb8, 0x27, 0, 0, 0, 0xcd, 0x80},    /* mov; int $0x80 */
		{0x89, 0xf8, 0x90, 0x90, 0x90, 0x0f, 0x05}, /* mov %edi,%eax; nops; syscall */
		{0xff, 0x24, 0x25, 0x40, 0, 0x06, 0}, /* a patched site */
	};
	uint32_t nr;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect(!syspatch_match(cases[i], &nr), "case %zu matched", i);
}

Test(syspatch, jump)
{
	uint8_t j[7];
	uint64_t slot = 0;

	syspatch_jump(SYSPATCH_TABLE + 5 * SYSPATCH_ENTRY, j);
	cr_assert_eq(j[0], 0xff);
	cr_assert_eq(j[1], 0x24);
	cr_assert_eq(j[2], 0x25);
	/* Byte 5, where the syscall instruction was, is the invalid opcode; byte 6 is 0. */
	cr_assert_eq(j[SYSPATCH_TRAP_AT], 0x06);
	cr_assert_eq(j[6], 0);
	cr_assert(syspatch_is_jump(j, &slot));
	cr_assert_eq(slot, SYSPATCH_TABLE + 5 * SYSPATCH_ENTRY);
	/* Entry 0 (the header), a slot off the grid and one past the table are not jumps. */
	syspatch_jump(SYSPATCH_TABLE, j);
	cr_assert(!syspatch_is_jump(j, &slot));
	syspatch_jump(SYSPATCH_TABLE + SYSPATCH_ENTRY + 8, j);
	cr_assert(!syspatch_is_jump(j, &slot));
	syspatch_jump(SYSPATCH_TABLE + SYSPATCH_TABLE_SIZE, j);
	cr_assert(!syspatch_is_jump(j, &slot));
}

/* ---- an entry, run ---- */

/* The platform's entry, played: note r11 (the entry's slow path) and take the slow path. */
uint64_t g_seen_r11;
extern char test_stub[];
__asm__(".text\n"
	"test_stub:\n"
	"	mov %r11, g_seen_r11(%rip)\n"
	"	jmp *%r11\n");

static uint8_t *g_site;

static void map_table_and_site(uint32_t nr)
{
	uint8_t *table, entry[SYSPATCH_ENTRY], site[7] = {0xb8, 0, 0, 0, 0, 0x0f, 0x05};
	uint64_t slot = SYSPATCH_TABLE + 3 * SYSPATCH_ENTRY;

	table = mmap((void *)SYSPATCH_TABLE, SYSPATCH_TABLE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	cr_assert(table == (void *)SYSPATCH_TABLE, "mmap at the table's address");
	g_site = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	cr_assert(g_site != MAP_FAILED);
	/* The site as a function: the 7 bytes, then ret. */
	memcpy(site + 1, &nr, 4);
	memcpy(g_site, site, 7);
	g_site[7] = 0xc3;
	syspatch_entry(slot, nr, (uint64_t)g_site, (uint64_t)test_stub, entry);
	memcpy(table + 3 * SYSPATCH_ENTRY, entry, sizeof(entry));
	syspatch_jump(slot, g_site);
}

Test(syspatch, entry_runs)
{
	long (*fn)(void);
	uint64_t slot = SYSPATCH_TABLE + 3 * SYSPATCH_ENTRY, ret;
	uint32_t nr;

	map_table_and_site(SYS_getppid);
	fn = (long (*)(void))(void *)g_site;
	cr_assert_eq(fn(), getppid(), "the patched site made its syscall");
	cr_assert_eq(g_seen_r11, slot + SYSPATCH_SLOW, "r11 names the entry's slow path");
	memcpy(&nr, (void *)(g_seen_r11 + SYSPATCH_SLOW_NR), 4);
	memcpy(&ret, (void *)(g_seen_r11 + SYSPATCH_SLOW_RET), 8);
	cr_assert_eq(nr, SYS_getppid, "the number where the platform reads it");
	cr_assert_eq(ret, (uint64_t)g_site + 7, "the return address where the platform reads it");
	cr_assert_eq((uint64_t)slot + SYSPATCH_SLOW_SYSCALL, g_seen_r11 + 5);
}

/* A thread that ran the old mov and reaches byte 5 of the rewritten site traps. */
Test(syspatch, byte5_traps, .signal = SIGILL)
{
	map_table_and_site(SYS_getpid);
	((void (*)(void))(void *)(g_site + SYSPATCH_TRAP_AT))();
}

/* ---- the two-entry kinds ---- */

Test(syspatch, match_other_kinds)
{
	static const uint8_t reg[][7] = {
		{0xbf, 0x9c, 0xff, 0xff, 0xff, 0x0f, 0x05}, /* mov $-100,%edi; syscall */
		{0xb9, 1, 0, 0, 0, 0x0f, 0x05},		    /* mov $1,%ecx; syscall */
	};
	static const uint8_t not_reg[][7] = {
		{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}, /* eax: the first kind */
		{0xbc, 0, 0, 0, 0, 0x0f, 0x05},	   /* esp */
		{0xbf, 0, 0, 0, 0, 0x0f, 0x34},	   /* sysenter */
	};
	static const uint8_t rd[10] = {0x31, 0xc0, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff};
	uint8_t other[10];

	for (size_t i = 0; i < sizeof(reg) / sizeof(reg[0]); i++)
		cr_expect(syspatch_match_reg(reg[i]), "reg case %zu", i);
	for (size_t i = 0; i < sizeof(not_reg) / sizeof(not_reg[0]); i++)
		cr_expect(!syspatch_match_reg(not_reg[i]), "not-reg case %zu", i);
	cr_assert(syspatch_match_read(rd));
	memcpy(other, rd, sizeof(other));
	other[6] = 0x01; /* cmp $-4095 */
	cr_assert(!syspatch_match_read(other));
}

static uint8_t *map_table(void)
{
	uint8_t *table = mmap((void *)SYSPATCH_TABLE, SYSPATCH_TABLE_SIZE,
			      PROT_READ | PROT_WRITE | PROT_EXEC,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	cr_assert(table == (void *)SYSPATCH_TABLE, "mmap at the table's address");
	g_site = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	cr_assert(g_site != MAP_FAILED);
	return table;
}

/* `mov $imm,%esi; syscall`, then ret: patched for getppid; eax chooses the call. */
Test(syspatch, reg_entry_runs)
{
	static const uint8_t site[8] = {0xbe, 7, 0, 0, 0, 0x0f, 0x05, 0xc3}; /* mov $7,%esi */
	uint64_t slot = SYSPATCH_TABLE + 3 * SYSPATCH_ENTRY, ret;
	uint8_t *table = map_table(), entry[SYSPATCH_ENTRY2];
	long r, rsi;

	memcpy(g_site, site, sizeof(site));
	syspatch_entry_reg(slot, SYS_getppid, g_site, (uint64_t)g_site, (uint64_t)test_stub, entry);
	memcpy(table + 3 * SYSPATCH_ENTRY, entry, sizeof(entry));
	syspatch_jump(slot, g_site);
	/* The number it was patched for: through the platform's entry (r11 set), esi set. */
	g_seen_r11 = 0;
	__asm__ volatile("sub $128, %%rsp\n\tcall *%2\n\tadd $128, %%rsp" : "=a"(r), "=S"(rsi) : "r"(g_site), "a"(SYS_getppid), "S"(0L)
			 : "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "memory");
	cr_assert_eq(r, getppid());
	cr_assert_eq(rsi, 7, "the site's mov ran");
	cr_assert_eq(g_seen_r11, slot + SYSPATCH_SLOW);
	memcpy(&ret, (void *)(g_seen_r11 + SYSPATCH_SLOW_RET), 8);
	cr_assert_eq(ret, (uint64_t)g_site + 7);
	/* Another number: the slow path's syscall with eax as it is, not the platform's entry. */
	g_seen_r11 = 0;
	__asm__ volatile("sub $128, %%rsp\n\tcall *%2\n\tadd $128, %%rsp" : "=a"(r), "=S"(rsi) : "r"(g_site), "a"(SYS_getpid), "S"(0L)
			 : "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "memory");
	cr_assert_eq(r, getpid());
	cr_assert_eq(rsi, 7);
	cr_assert_eq(g_seen_r11, 0, "a number it was not patched for skips the platform");
}

/* glibc's read, then `cmova %rdi,%rax; ret`: the cmp's flags decide what comes back. */
Test(syspatch, read_entry_runs)
{
	static const uint8_t site[15] = {0x31, 0xc0, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0,
					 0xff, 0xff, 0x48, 0x0f, 0x47, 0xc7, 0xc3};
	uint64_t slot = SYSPATCH_TABLE + 5 * SYSPATCH_ENTRY, ret;
	uint8_t *table = map_table(), entry[SYSPATCH_ENTRY2], jump[SYSPATCH_READ_LEN];
	long (*fn)(long fd, void *buf, long n);
	char c = 1;
	int fd = open("/dev/zero", O_RDONLY);

	cr_assert(fd >= 0);
	memcpy(g_site, site, sizeof(site));
	syspatch_entry_read(slot, (uint64_t)g_site, (uint64_t)test_stub, entry);
	memcpy(table + 5 * SYSPATCH_ENTRY, entry, sizeof(entry));
	syspatch_jump_read(slot, jump);
	cr_assert_eq(jump[7], 0xcc);
	memcpy(g_site, jump, sizeof(jump));
	fn = (long (*)(long, void *, long))(void *)g_site;
	cr_assert_eq(fn(fd, &c, 1), 1, "a read through the entry");
	cr_assert_eq(c, 0);
	cr_assert_eq(g_seen_r11, slot + SYSPATCH_SLOW);
	memcpy(&ret, (void *)(g_seen_r11 + SYSPATCH_SLOW_RET), 8);
	cr_assert_eq(ret, syspatch_read_return(slot), "the platform returns into the entry");
	cr_assert_eq(ret, slot + SYSPATCH_SLOW_SYSCALL + 2, "right after the slow syscall");
	cr_assert_eq(fn(-1, &c, 1), -1, "EBADF: the cmp said above, cmova took rdi");
	cr_assert(syspatch_entry_is_read(entry));
	syspatch_entry(slot, 39, (uint64_t)g_site, (uint64_t)test_stub, entry);
	cr_assert(!syspatch_entry_is_read(entry));
	close(fd);
}
