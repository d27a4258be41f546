/* Syscall patching (docs/platforms.md, "Syscall patching"): a `mov $nr,%eax; syscall` site that
 * trapped is rewritten into a jump to a trampoline that hands the call to the platform without
 * a signal. The machine code is platform/syspatch.h's; this file decides when and where. */
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

/* The address of the next free entry of mm's table, making the table when there is none. The
 * table is application memory (the program may have unmapped it, put its own mapping there, or
 * written it): 0 when it is not ours or full. g_patch_lock held. */
static uint64_t table_next(struct mm *mm, struct syspatch_header *h)
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
	if (h->magic != SYSPATCH_MAGIC || h->next < 1 || h->next >= SYSPATCH_ENTRIES)
		return 0;
	return SYSPATCH_TABLE + (uint64_t)h->next * SYSPATCH_ENTRY;
}

/* Patch the site at site (its bytes code, syscall nr). 0 or -errno. */
static int patch(struct mm *mm, uint64_t site, const uint8_t code[SYSPATCH_SITE_LEN], uint32_t nr)
{
	struct syspatch_header h;
	uint8_t entry[SYSPATCH_ENTRY], jump[SYSPATCH_SITE_LEN];
	uint64_t slot;
	int r;

	pthread_mutex_lock(&g_patch_lock);
	slot = table_next(mm, &h);
	if (!slot) {
		r = -ENOSPC;
		goto out;
	}
	syspatch_entry(slot, nr, site, g_kernel.patch_stub, entry);
	if ((r = copy_out_force(mm, slot, entry, sizeof(entry))) < 0)
		goto out;
	syspatch_jump(slot, jump);
	/* The entry is in place before the jump to it; a failed rewrite leaves it unused. */
	if ((r = mm_code_rewrite(mm, site, code, jump, SYSPATCH_SITE_LEN, SYSPATCH_TRAP_AT)) < 0)
		goto out;
	h.next++;
	r = copy_out_force(mm, SYSPATCH_TABLE, &h, sizeof(h));
out:
	pthread_mutex_unlock(&g_patch_lock);
	return r;
}

void syspatch_site(struct task *t)
{
	const struct linux_regs *r = &t->regs.regs;
	uint64_t site = r->rip - SYSPATCH_SITE_LEN;
	uint8_t code[SYSPATCH_SITE_LEN];
	size_t m = site_slot(site, MISS_SLOTS);
	uint32_t nr;
	int err;

	if (r->rip < SYSPATCH_SITE_LEN || in_table(site) || in_table(r->rip - 1))
		return; /* an entry's slow path: it traps on purpose */
	if ((t_miss[m].mm == t->mm && t_miss[m].site == site) || !seen_before(t->mm, site))
		return;
	/* What the instruction stream holds now (the platform only saw a syscall instruction). */
	if (copy_in(t->mm, code, site, sizeof(code)) < 0 || !syspatch_match(code, &nr) ||
	    nr != r->orig_rax) {
		err = -EINVAL;
	} else {
		err = patch(t->mm, site, code, nr);
		log_debug("syspatch: %s at %#lx: %d", abi_syscall_name((long)nr),
			  (unsigned long)site, err);
	}
	if (err < 0 && err != -EAGAIN) {
		t_miss[m].mm = t->mm;
		t_miss[m].site = site;
	}
}

bool syspatch_fixup(struct task *t)
{
	struct linux_regs *r = &t->regs.regs;
	uint64_t site = r->rip - SYSPATCH_TRAP_AT, slot;
	uint8_t code[SYSPATCH_SITE_LEN];

	if (r->rip < SYSPATCH_TRAP_AT || copy_in(t->mm, code, site, sizeof(code)) < 0 ||
	    !syspatch_is_jump(code, &slot) || code[SYSPATCH_TRAP_AT] != 0x06)
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
