/* Syscall patching (docs/platforms.md, "Syscall patching"): a syscall site that trapped (`mov
 * $nr,%eax; syscall`, `mov $imm,%r32; syscall`, glibc's read) is rewritten into a jump to a
 * trampoline that hands the call to the platform without a signal. The machine code is
 * platform/syspatch.h's; this file decides when and where. */
#include "sentry/kernel/syspatch.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "platform/syspatch.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

/* One patch at a time in the whole Sentry: patching is rare (once per site and process), and
 * the table's header is read, used and bumped under it. */
static pthread_mutex_t g_patch_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sites this thread failed to patch (not the pattern, a shared or non-executable mapping, no
 * table): not looked at again, so that their every trap does not pay a look at the code. */
#define MISS_SLOTS 64
static __thread struct {
	const struct mm *mm;
	uint64_t site;
} t_miss[MISS_SLOTS];

/* A site's slot in a per-thread table of n (below). */
static size_t site_slot(uint64_t site, size_t n)
{
	return (size_t)((site ^ (site >> 6) ^ (site >> 12)) % n);
}

/* Sites this thread saw trap once: a site is patched when it traps again. A patch costs more
 * than a trap (a copy of the page, a mapping change, a fault on the copy): a short process
 * (a shell's mktemp, cat, rm) calls most of its sites once, and patched each for nothing
 * (mktemp in a loop: 2.08 -> 1.97 ms a run once they waited for a second trap). */
#define SEEN_SLOTS 256
static __thread struct {
	const struct mm *mm;
	uint64_t site;
} t_seen[SEEN_SLOTS];

/* Has this thread seen site of mm trap before? Remembers it if not. */
static bool seen_before(const struct mm *mm, uint64_t site)
{
	size_t i = site_slot(site, SEEN_SLOTS);

	if (t_seen[i].mm == mm && t_seen[i].site == site)
		return true;
	t_seen[i].mm = mm;
	t_seen[i].site = site;
	return false;
}

static bool in_table(uint64_t a)
{
	return a >= SYSPATCH_TABLE && a < SYSPATCH_TABLE + SYSPATCH_TABLE_SIZE;
}

/* The address of the next n free entries of mm's table, making the table when there is none.
 * The table is application memory (the program may have unmapped it, put its own mapping
 * there, or written it): 0 when it is not ours or full. g_patch_lock held. */
static uint64_t table_next(struct mm *mm, struct syspatch_header *h, uint32_t n)
{
	long r;

	if (copy_in(mm, h, SYSPATCH_TABLE, sizeof(*h)) < 0) {
		/* Never over the program's own mappings (MAP_FIXED_NOREPLACE). */
		r = mm_mmap(mm, SYSPATCH_TABLE, SYSPATCH_TABLE_SIZE,
			    LINUX_PROT_READ | LINUX_PROT_EXEC,
			    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED_NOREPLACE, NULL,
			    0);
		if (r != (long)SYSPATCH_TABLE) {
			log_debug("syspatch: no table at %#llx: %ld", SYSPATCH_TABLE, r);
			return 0;
		}
		*h = (struct syspatch_header){.magic = SYSPATCH_MAGIC, .next = 1};
		if (copy_out_force(mm, SYSPATCH_TABLE, h, sizeof(*h)) < 0)
			return 0;
	}
	if (h->magic != SYSPATCH_MAGIC || h->next < 1 || h->next > SYSPATCH_ENTRIES - n)
		return 0;
	return SYSPATCH_TABLE + (uint64_t)h->next * SYSPATCH_ENTRY;
}

/* A site of one of the kinds platform/syspatch.h describes, and what replaces it. */
struct site {
	uint64_t addr;			    /* its first byte */
	size_t len;			    /* SYSPATCH_SITE_LEN or SYSPATCH_READ_LEN */
	uint8_t code[SYSPATCH_READ_LEN];    /* what it holds */
	uint8_t repl[SYSPATCH_READ_LEN];    /* the jump that replaces it */
	uint8_t entry[SYSPATCH_ENTRY2];	    /* its entry */
	uint32_t nentries;		    /* 1 or 2 */
	enum { MOV_EAX, MOV_REG, READ } kind;
};

/* Patch site s, which trapped with number nr: fill in its entry and jump, write the entry,
 * then rewrite the site. 0 or -errno; *slot_out is the entry once the site is rewritten. */
static int patch(struct mm *mm, struct site *s, uint32_t nr, uint64_t *slot_out)
{
	struct syspatch_header h;
	uint64_t slot;
	int r;

	pthread_mutex_lock(&g_patch_lock);
	slot = table_next(mm, &h, s->nentries);
	if (!slot) {
		r = -ENOSPC;
		goto out;
	}
	switch (s->kind) {
	case MOV_EAX:
		syspatch_jump(slot, s->repl);
		syspatch_entry(slot, nr, s->addr, g_kernel.patch_stub, s->entry);
		break;
	case MOV_REG:
		syspatch_jump(slot, s->repl);
		syspatch_entry_reg(slot, nr, s->code, s->addr, g_kernel.patch_stub, s->entry);
		break;
	case READ:
		syspatch_jump_read(slot, s->repl);
		syspatch_entry_read(slot, s->addr, g_kernel.patch_stub, s->entry);
		break;
	}
	if ((r = copy_out_force(mm, slot, s->entry, s->nentries * SYSPATCH_ENTRY)) < 0)
		goto out;
	/* The entry is in place before the jump to it; a failed rewrite leaves it unused. */
	if ((r = mm_code_rewrite(mm, s->addr, s->code, s->repl, s->len, SYSPATCH_TRAP_AT)) < 0)
		goto out;
	*slot_out = slot;
	h.next += s->nentries;
	r = copy_out_force(mm, SYSPATCH_TABLE, &h, sizeof(h));
out:
	pthread_mutex_unlock(&g_patch_lock);
	return r;
}

/* What kind of site the syscall that returns to rip (nr in rax) was made from: 0 and *s
 * filled, or -EINVAL (none). A read site only for a thread alone in its address space that
 * never had a signal frame: nothing else can hold a return to its site + 4, which the jump
 * covers (platform/syspatch.h). */
static int site_at(struct task *t, uint64_t rip, uint64_t nr, struct site *s)
{
	uint8_t b[SYSPATCH_SITE_LEN + SYSPATCH_READ_LEN - SYSPATCH_READ_SYSCALL - 2];
	const uint64_t from = rip - SYSPATCH_SITE_LEN;
	/* The bytes around the syscall: the 7 before its end, the 6 after (if mapped). */
	size_t have = copy_in(t->mm, b, from, sizeof(b)) == 0 ? sizeof(b)
		      : copy_in(t->mm, b, from, SYSPATCH_SITE_LEN) == 0 ? SYSPATCH_SITE_LEN
									 : 0;
	uint32_t imm;

	if (!have || nr > UINT32_MAX)
		return -EINVAL;
	*s = (struct site){.addr = from, .len = SYSPATCH_SITE_LEN, .nentries = 1};
	memcpy(s->code, b, SYSPATCH_SITE_LEN);
	if (syspatch_match(b, &imm))
		return imm == nr ? (s->kind = MOV_EAX, 0) : -EINVAL;
	if (syspatch_match_reg(b)) {
		s->kind = MOV_REG;
		s->nentries = 2;
		return 0;
	}
	const uint8_t *rd = b + SYSPATCH_SITE_LEN - SYSPATCH_READ_SYSCALL - 2;
	if (have == sizeof(b) && nr == 0 && syspatch_match_read(rd) && !t->had_sigframe &&
	    t->tg->nr_threads == 1 && mm_sole_ref(t->mm)) {
		s->kind = READ;
		s->addr = rip - SYSPATCH_READ_SYSCALL - 2;
		s->len = SYSPATCH_READ_LEN;
		s->nentries = 2;
		memcpy(s->code, rd, SYSPATCH_READ_LEN);
		return 0;
	}
	return -EINVAL;
}

void syspatch_site(struct task *t)
{
	struct linux_regs *r = &t->regs.regs;
	uint64_t sc = r->rip - 2; /* the syscall instruction: the key of the tables above */
	size_t m = site_slot(sc, MISS_SLOTS);
	struct site s;
	uint64_t slot = 0;
	int err;

	if (r->rip < SYSPATCH_SITE_LEN || in_table(r->rip - SYSPATCH_SITE_LEN) ||
	    in_table(r->rip - 1))
		return; /* an entry's slow path: it traps on purpose */
	if ((t_miss[m].mm == t->mm && t_miss[m].site == sc) || !seen_before(t->mm, sc))
		return;
	/* What the instruction stream holds now (the platform only saw a syscall instruction). */
	err = site_at(t, r->rip, r->orig_rax, &s);
	if (err == 0) {
		err = patch(t->mm, &s, (uint32_t)r->orig_rax, &slot);
		log_debug("syspatch: %s at %#lx (%s): %d", abi_syscall_name((long)r->orig_rax),
			  (unsigned long)s.addr,
			  s.kind == MOV_EAX ? "mov eax" : s.kind == MOV_REG ? "mov reg" : "read", err);
	}
	if (slot && s.kind == READ)
		r->rip = syspatch_read_return(slot); /* to the entry, where the site's cmp now is */
	if (err < 0 && err != -EAGAIN) {
		t_miss[m].mm = t->mm;
		t_miss[m].site = sc;
	}
}

bool syspatch_fixup(struct task *t)
{
	struct linux_regs *r = &t->regs.regs;
	uint64_t site = r->rip - SYSPATCH_TRAP_AT, slot;
	uint8_t code[SYSPATCH_SITE_LEN], entry[SYSPATCH_SLOW + 9];

	if (r->rip < SYSPATCH_TRAP_AT || copy_in(t->mm, code, site, sizeof(code)) < 0 ||
	    !syspatch_is_jump(code, &slot) || code[SYSPATCH_TRAP_AT] != 0x06)
		return false;
	/* A read site is never entered at its byte 5 but by a jump into the middle of its cmp:
	 * that is the program's own fault, not a patching race. */
	if (copy_in(t->mm, entry, slot, sizeof(entry)) < 0 || syspatch_entry_is_read(entry))
		return false;
	/* restart_syscall comes back here from a restarted call (rip back by 2, onto the jump's
	 * byte 5): make it from the entry's slow path, where it traps as any syscall would. */
	log_debug("syspatch: task %d at the site %#lx's byte 5, rax %#lx", t->tid,
		  (unsigned long)site, (unsigned long)r->rax);
	if (r->rax == LINUX_SYS_restart_syscall)
		r->rip = slot + SYSPATCH_SLOW_SYSCALL;
	else
		r->rip = site; /* ran the old mov, then met the jump: take the jump */
	return true;
}
