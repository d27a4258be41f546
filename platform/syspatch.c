/* Syscall patching's machine code: see syspatch.h. */
#include "platform/syspatch.h"

#include <string.h>

_Static_assert(((SYSPATCH_TABLE >> 16) & 0xff) == 0x06 &&
		       ((SYSPATCH_TABLE + SYSPATCH_TABLE_SIZE - 1) >> 16) == 0x06,
	       "every slot's byte 2 is the invalid opcode 0x06, byte 3 is 0");
_Static_assert(SYSPATCH_SLOW_SYSCALL == SYSPATCH_SLOW + 5, "mov $nr,%eax is 5 bytes");

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

bool syspatch_match(const uint8_t code[SYSPATCH_SITE_LEN], uint32_t *nr)
{
	if (code[0] != 0xb8 || code[5] != 0x0f || code[6] != 0x05)
		return false;
	memcpy(nr, code + 1, sizeof(*nr));
	return true;
}

void syspatch_jump(uint64_t slot, uint8_t out[SYSPATCH_SITE_LEN])
{
	out[0] = 0xff; /* jmp *disp32 (ModRM /4 with a SIB that has no base and no index) */
	out[1] = 0x24;
	out[2] = 0x25;
	put32(out + 3, (uint32_t)slot);
}

bool syspatch_is_jump(const uint8_t code[SYSPATCH_SITE_LEN], uint64_t *slot)
{
	uint32_t s;

	if (code[0] != 0xff || code[1] != 0x24 || code[2] != 0x25)
		return false;
	memcpy(&s, code + 3, sizeof(s));
	if (s < SYSPATCH_TABLE + SYSPATCH_ENTRY || s >= SYSPATCH_TABLE + SYSPATCH_TABLE_SIZE ||
	    s % SYSPATCH_ENTRY)
		return false;
	*slot = s;
	return true;
}

bool syspatch_match_reg(const uint8_t code[SYSPATCH_SITE_LEN])
{
	return code[0] >= 0xb9 && code[0] <= 0xbf && code[0] != 0xbc && code[5] == 0x0f &&
	       code[6] == 0x05;
}

static const uint8_t g_read_site[SYSPATCH_READ_LEN] = {0x31, 0xc0, 0x0f, 0x05, 0x48,
						       0x3d, 0x00, 0xf0, 0xff, 0xff};

bool syspatch_match_read(const uint8_t code[SYSPATCH_READ_LEN])
{
	return memcmp(code, g_read_site, sizeof(g_read_site)) == 0;
}

/* The entry's slow path's last instruction (+31): jmp *ret(%rip), or a read entry's jmp +64. */
#define SLOW_JMP (SYSPATCH_SLOW + 7)
static const uint8_t g_read_tail[2] = {0xeb, SYSPATCH_ENTRY - (SLOW_JMP + 2)};

static void entry(uint64_t slot, uint32_t nr, uint64_t ret, uint64_t stub,
		  uint8_t out[SYSPATCH_ENTRY])
{
	static const uint8_t code[] = {
		/* +8: lea slow(%rip), %r11 (next rip +15, slow +24) */
		0x4c, 0x8d, 0x1d, 9, 0, 0, 0,
		/* +15: jmp *stub(%rip) (next rip +21, stub +40) */
		0xff, 0x25, 19, 0, 0, 0,
		/* +21: never reached */
		0xcc, 0xcc, 0xcc,
		/* +24: mov $nr, %eax (immediate filled below) */
		0xb8, 0, 0, 0, 0,
		/* +29: syscall */
		0x0f, 0x05,
		/* +31: jmp *ret(%rip) (next rip +37, ret +48) */
		0xff, 0x25, 11, 0, 0, 0,
		0xcc, 0xcc, 0xcc,
	};
	_Static_assert(sizeof(code) == 40 - 8, "the entry's code ends where stub begins");

	memset(out, 0xcc, SYSPATCH_ENTRY);
	put64(out, slot + 8);
	memcpy(out + 8, code, sizeof(code));
	put32(out + SYSPATCH_SLOW + SYSPATCH_SLOW_NR, nr);
	put64(out + 40, stub);
	put64(out + SYSPATCH_SLOW + SYSPATCH_SLOW_RET, ret);
}

void syspatch_entry(uint64_t slot, uint32_t nr, uint64_t site, uint64_t stub,
		    uint8_t out[SYSPATCH_ENTRY])
{
	entry(slot, nr, site + SYSPATCH_SITE_LEN, stub, out);
}

void syspatch_entry_reg(uint64_t slot, uint32_t nr, const uint8_t code[SYSPATCH_SITE_LEN],
			uint64_t site, uint64_t stub, uint8_t out[SYSPATCH_ENTRY2])
{
	uint8_t *b = out + SYSPATCH_ENTRY;

	entry(slot, nr, site + SYSPATCH_SITE_LEN, stub, out);
	memset(b, 0xcc, SYSPATCH_ENTRY);
	put64(out, slot + SYSPATCH_ENTRY);
	/* +64: the site's mov; +69: cmp $nr, %eax; +74: jne to the slow path's syscall (+29);
	 * +76: jmp to +8. */
	memcpy(b, code, 5);
	b[5] = 0x3d;
	put32(b + 6, nr);
	b[10] = 0x75;
	b[11] = (uint8_t)(SYSPATCH_SLOW_SYSCALL - (SYSPATCH_ENTRY + 12));
	b[12] = 0xeb;
	b[13] = (uint8_t)(8 - (SYSPATCH_ENTRY + 14));
}

void syspatch_jump_read(uint64_t slot, uint8_t out[SYSPATCH_READ_LEN])
{
	syspatch_jump(slot, out);
	memset(out + SYSPATCH_SITE_LEN, 0xcc, SYSPATCH_READ_LEN - SYSPATCH_SITE_LEN);
}

uint64_t syspatch_read_return(uint64_t slot)
{
	return slot + SLOW_JMP;
}

void syspatch_entry_read(uint64_t slot, uint64_t site, uint64_t stub,
			 uint8_t out[SYSPATCH_ENTRY2])
{
	static const uint8_t tail[] = {
		/* +64: cmp $-4096, %rax */
		0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff,
		/* +70: jmp *4(%rip) (next rip +76, the site + 10 at +80) */
		0xff, 0x25, 4, 0, 0, 0,
	};
	uint8_t *b = out + SYSPATCH_ENTRY;

	/* The stub returns to slow+7, as the slow path's syscall does: a jump to +64. */
	entry(slot, 0, syspatch_read_return(slot), stub, out);
	memcpy(out + SLOW_JMP, g_read_tail, sizeof(g_read_tail));
	memset(out + SLOW_JMP + 2, 0xcc, 40 - (SLOW_JMP + 2));
	memset(b, 0xcc, SYSPATCH_ENTRY);
	memcpy(b, tail, sizeof(tail));
	put64(b + 16, site + SYSPATCH_READ_LEN);
}

bool syspatch_entry_is_read(const uint8_t e[SYSPATCH_SLOW + 9])
{
	return memcmp(e + SLOW_JMP, g_read_tail, sizeof(g_read_tail)) == 0;
}
