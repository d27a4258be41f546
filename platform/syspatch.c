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

void syspatch_entry(uint64_t slot, uint32_t nr, uint64_t site, uint64_t stub,
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
	put64(out + SYSPATCH_SLOW + SYSPATCH_SLOW_RET, site + SYSPATCH_SITE_LEN);
}
