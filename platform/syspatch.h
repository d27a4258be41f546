/* Syscall patching's machine code (x86-64): the pattern a patchable syscall site has, the jump
 * that replaces it, and the trampoline the jump reaches. Pure byte work, no state: the Sentry
 * (sentry/kernel/syspatch.c) decides where and when, the platform supplies the entry the
 * trampolines jump to (platform.h, patch_enable).
 *
 * A site is the 7 bytes `b8 <nr:4> 0f 05` (mov $nr,%eax; syscall). It becomes
 * `ff 24 25 <slot:4>` (jmp *slot), slot the address of a trampoline entry in the table, a
 * private mapping the Sentry makes at SYSPATCH_TABLE. Every slot lies in [0x60000, 0x70000), so
 * the site's byte 5, where the syscall instruction began, becomes 0x06: an invalid opcode in
 * 64-bit mode. A thread that ran the old mov before the rewrite and then reaches byte 5 faults
 * (SIGILL) instead of running half of the jump, and the Sentry restarts it (syspatch_fixup).
 *
 * A trampoline entry (SYSPATCH_ENTRY bytes at slot):
 *   +0   .quad slot+8                  what the site's jump reads
 *   +8   lea slow(%rip), %r11          the stub learns the entry from r11 (free: syscall
 *   +15  jmp *stub(%rip)               clobbers r11 and rcx anyway)
 *   +24  slow: mov $nr, %eax           the slow path: a real syscall, which traps as before;
 *   +29  syscall                       the stub's entry comes back here when it cannot take
 *   +31  jmp *ret(%rip)                the call (the thread's gs is not its own)
 *   +40  .quad stub                    the platform's entry
 *   +48  .quad ret                     the site + 7
 * The stub reads nr at slow+1 and the return address at slow+24 (SYSPATCH_SLOW_NR/RET).
 *
 * Two more kinds of site take two entries (SYSPATCH_ENTRY2 bytes; the jump reads the first
 * word, so it may point into the second entry):
 *  - `mov $imm,%r32; syscall` (opcodes b9..bf but bc: 7 bytes; ld.so's open sets eax before it
 *    sets edi): the word points at +64, which runs the site's mov, checks that eax is the
 *    number the site trapped with (if not, the slow path's syscall with eax as it is), then
 *    jumps to +8, the entry of a `mov $nr,%eax` site.
 *  - glibc's read, `xor %eax,%eax; syscall; cmp $-4096,%rax` (10 bytes: SYSPATCH_READ_LEN):
 *    the jump and three int3 replace them, so the cmp moves into the entry: the return address
 *    at slow+24 is slow+7, right after the slow path's syscall (a restart goes back 2 bytes to
 *    it), where a short jump leads to +64: the cmp, then `jmp *` to the site + 10. Nothing may
 *    still return to the site + 4, the middle of the jump: the Sentry patches such a site only
 *    for a thread alone in its address space that never had a signal frame, whose own return
 *    it moves to slow+7.
 */
#ifndef PLATFORM_SYSPATCH_H
#define PLATFORM_SYSPATCH_H

#include <stdbool.h>
#include <stdint.h>

#define SYSPATCH_SITE_LEN 7
#define SYSPATCH_TABLE 0x60000ULL  /* the table's address: below 2 GiB, byte 2 is 0x06 */
#define SYSPATCH_TABLE_SIZE 0x10000ULL
#define SYSPATCH_ENTRY 64          /* bytes per entry; entry 0 is the table's header */
#define SYSPATCH_ENTRIES (SYSPATCH_TABLE_SIZE / SYSPATCH_ENTRY)
#define SYSPATCH_SLOW 24           /* the slow path's offset in an entry */
#define SYSPATCH_SLOW_SYSCALL 29   /* its syscall instruction */
#define SYSPATCH_SLOW_NR 1         /* from slow: the mov's immediate */
#define SYSPATCH_SLOW_RET 24       /* from slow: the return address */
#define SYSPATCH_TRAP_AT 5         /* the byte of a site that becomes the invalid opcode */
#define SYSPATCH_MAGIC 0x48435450u /* "PTCH": the header's first word */
#define SYSPATCH_ENTRY2 (2 * SYSPATCH_ENTRY) /* the two-entry kinds' */
#define SYSPATCH_READ_LEN 10       /* xor %eax,%eax; syscall; cmp $-4096,%rax */
#define SYSPATCH_READ_SYSCALL 2    /* the offset of its syscall instruction */

/* The table's header (entry 0). The table is application memory: every value read from it is
 * checked before use. */
struct syspatch_header {
	uint32_t magic;
	uint32_t next; /* the next free entry, 1..SYSPATCH_ENTRIES */
};

/* Is code `mov $nr,%eax; syscall`? Stores the number in *nr. */
bool syspatch_match(const uint8_t code[SYSPATCH_SITE_LEN], uint32_t *nr);
/* Is code `mov $imm,%r32; syscall` with r32 neither eax nor esp? */
bool syspatch_match_reg(const uint8_t code[SYSPATCH_SITE_LEN]);
/* Is code glibc's read: `xor %eax,%eax; syscall; cmp $-4096,%rax`? */
bool syspatch_match_read(const uint8_t code[SYSPATCH_READ_LEN]);
/* The jump that replaces a site, to the entry at slot (a table address). */
void syspatch_jump(uint64_t slot, uint8_t out[SYSPATCH_SITE_LEN]);
/* Is code a patched site's jump (or the invalid opcode at its byte 5 with the jump's first
 * bytes before it)? Stores the entry in *slot (checked to be a table entry). */
bool syspatch_is_jump(const uint8_t code[SYSPATCH_SITE_LEN], uint64_t *slot);
/* The entry at slot for syscall nr from the site at site, jumping to the platform's entry. */
void syspatch_entry(uint64_t slot, uint32_t nr, uint64_t site, uint64_t stub,
		    uint8_t out[SYSPATCH_ENTRY]);
/* The two entries at slot for the `mov $imm,%r32; syscall` site code at site, which trapped
 * with number nr. */
void syspatch_entry_reg(uint64_t slot, uint32_t nr, const uint8_t code[SYSPATCH_SITE_LEN],
			uint64_t site, uint64_t stub, uint8_t out[SYSPATCH_ENTRY2]);
/* The bytes that replace a read site: the jump to slot, then three int3. */
void syspatch_jump_read(uint64_t slot, uint8_t out[SYSPATCH_READ_LEN]);
/* The two entries at slot for the read site at site. */
void syspatch_entry_read(uint64_t slot, uint64_t site, uint64_t stub,
			 uint8_t out[SYSPATCH_ENTRY2]);
/* The address a read site's entry at slot returns to (after its syscall instruction). */
uint64_t syspatch_read_return(uint64_t slot);
/* Is entry (an entry's first bytes, up to its slow path's end) a read site's? Its site must
 * never be entered again at byte 5 (see above). */
bool syspatch_entry_is_read(const uint8_t entry[SYSPATCH_SLOW + 9]);

#endif
