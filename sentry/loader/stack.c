/* The initial stack of a new program: argv and envp strings, the pointer arrays, and auxv. */
#include "sentry/loader/loader_internal.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "abi/linux.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define AUXV_MAX 24

/* The CPU's values for auxv, probed once: a cpuid is a VM exit in a virtual machine (~6 us
 * each here), three of them were a third of an exec's stack building. */
static struct {
	uint64_t hwcap, minsigstksz;
} g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;

static void cpu_probe(void)
{
	unsigned a, b, c, d;
	uint64_t xsave = 512 + 64; /* FXSAVE area with its header */

	/* AT_HWCAP on x86: CPUID leaf 1 EDX, as Linux's ELF_HWCAP. */
	if (__get_cpuid(1, &a, &b, &c, &d))
		g_cpu.hwcap = d;
	/* AT_MINSIGSTKSZ: the largest signal frame, which holds the XSAVE area for the enabled
	 * features. The overhead (frame, alignment) matches what Linux 6.18 reports. */
	if (__get_cpuid_max(0, NULL) >= 0xd) {
		__cpuid_count(0xd, 0, a, b, c, d);
		if (b)
			xsave = b;
	}
	g_cpu.minsigstksz = MAX((xsave + 944 + 15) & ~15ULL, (uint64_t)LINUX_MINSIGSTKSZ);
}

/* Copy string s below *sp; returns its application address. */
static int push_bytes(struct mm *mm, uint64_t *sp, const void *s, size_t len, uint64_t *at)
{
	*sp -= len;
	*at = *sp;
	return copy_out_force(mm, *sp, s, len);
}

int loader_build_stack(const struct task *t, struct mm *mm, uint64_t top,
		       const struct stack_args *sa, uint64_t *rsp_out)
{
	uint64_t sp = top - sizeof(uint64_t); /* Linux leaves a NULL word at the very top */
	uint64_t execfn_at, platform_at, random_at;
	uint8_t rnd[16];
	int r;

	_cleanup_free_ uint64_t *ptrs = malloc((size_t)(sa->argc + sa->envc + 2) * sizeof(*ptrs));
	if (!ptrs)
		return -ENOMEM;
	/* Strings, top down: the executable's name, then envp and argv, each in order. */
	r = push_bytes(mm, &sp, sa->execfn, strlen(sa->execfn) + 1, &execfn_at);
	for (long i = sa->envc - 1; r == 0 && i >= 0; i--)
		r = push_bytes(mm, &sp, sa->envp[i], strlen(sa->envp[i]) + 1,
			       &ptrs[sa->argc + 1 + i]);
	for (long i = sa->argc - 1; r == 0 && i >= 0; i--)
		r = push_bytes(mm, &sp, sa->argv[i], strlen(sa->argv[i]) + 1, &ptrs[i]);
	if (r < 0)
		return r;
	ptrs[sa->argc] = 0;
	ptrs[sa->argc + 1 + sa->envc] = 0;

	sp &= ~15ULL;
	r = push_bytes(mm, &sp, "x86_64", 7, &platform_at);
	if (r < 0)
		return r;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return errno ? -errno : -EIO;
	r = push_bytes(mm, &sp, rnd, sizeof(rnd), &random_at);
	if (r < 0)
		return r;
	sp &= ~15ULL;

	uint64_t auxv[2 * AUXV_MAX], *a = auxv;
#define AUX(k, v) (*a++ = (k), *a++ = (uint64_t)(v))
	if (sa->vdso) /* Linux's ARCH_DLINFO comes first */
		AUX(LINUX_AT_SYSINFO_EHDR, sa->vdso);
	pthread_once(&g_cpu_once, cpu_probe);
	AUX(LINUX_AT_MINSIGSTKSZ, g_cpu.minsigstksz);
	AUX(LINUX_AT_HWCAP, g_cpu.hwcap);
	AUX(LINUX_AT_PAGESZ, PAGE_SIZE);
	AUX(LINUX_AT_CLKTCK, 100);
	AUX(LINUX_AT_PHDR, sa->phdr);
	AUX(LINUX_AT_PHENT, sizeof(Elf64_Phdr));
	AUX(LINUX_AT_PHNUM, sa->phnum);
	AUX(LINUX_AT_BASE, sa->base);
	AUX(LINUX_AT_FLAGS, 0);
	AUX(LINUX_AT_ENTRY, sa->entry);
	AUX(LINUX_AT_UID, t->cred.ruid);
	AUX(LINUX_AT_EUID, t->cred.euid);
	AUX(LINUX_AT_GID, t->cred.rgid);
	AUX(LINUX_AT_EGID, t->cred.egid);
	AUX(LINUX_AT_SECURE, 0);
	AUX(LINUX_AT_RANDOM, random_at);
	AUX(LINUX_AT_HWCAP2, 0);
	AUX(LINUX_AT_EXECFN, execfn_at);
	AUX(LINUX_AT_PLATFORM, platform_at);
	AUX(LINUX_AT_NULL, 0);
#undef AUX
	size_t auxv_words = (size_t)(a - auxv);
	size_t ptr_words = (size_t)(sa->argc + sa->envc + 2);
	size_t words = 1 + ptr_words + auxv_words;

	/* The table (argc, argv, NULL, envp, NULL, auxv) ends at sp; argc must be 16-aligned. */
	sp = (sp - words * sizeof(uint64_t)) & ~15ULL;
	uint64_t at = sp, argc = (uint64_t)sa->argc;
	r = copy_out_force(mm, at, &argc, sizeof(argc));
	at += sizeof(argc);
	if (r == 0)
		r = copy_out_force(mm, at, ptrs, ptr_words * sizeof(*ptrs));
	at += ptr_words * sizeof(*ptrs);
	if (r == 0)
		r = copy_out_force(mm, at, auxv, auxv_words * sizeof(*auxv));
	if (r < 0)
		return r;
	/* For /proc/PID/cmdline and environ: the strings lie contiguous, argv first. */
	struct mm_args ma = {.start_stack = sp, .env_end = execfn_at};
	ma.arg_start = sa->argc ? ptrs[0] : (sa->envc ? ptrs[sa->argc + 1] : execfn_at);
	ma.arg_end = ma.env_start = sa->envc ? ptrs[sa->argc + 1] : execfn_at;
	mm_set_args(mm, &ma);
	*rsp_out = sp;
	return 0;
}
