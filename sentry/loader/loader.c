/* loader_load: map a static (or static-pie) ELF executable into a fresh address space and build
 * its initial stack, as Linux's load_elf_binary and create_elf_tables do. */
#include "sentry/loader/loader.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

/* The stack mapping: 8 MiB (the default RLIMIT_STACK), backed eagerly; it does not grow. */
#define STACK_SIZE (8ULL << 20)
/* Linux's limits on exec arguments with an 8 MiB stack: a quarter of it for the strings and
 * pointers, MAX_ARG_STRLEN (32 pages) for each string. */
#define ARG_MAX_TOTAL (STACK_SIZE / 4)
#define ARG_MAX_STRLEN (32 * PAGE_SIZE)
#define HEADER_READ 4096
#define AUXV_MAX 24

/* Read exactly n bytes at off unless EOF comes first. Returns the count or -errno. */
static ssize_t pread_full(struct file *f, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = vfs_pread(f, (char *)buf + done, n - done, off + done);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* May t's credentials execute a file with this stat? (Linux's generic_permission for MAY_EXEC;
 * read permission is not needed to execute.) */
static bool may_exec(const struct task *t, const struct linux_stat *st)
{
	uint32_t mode = st->st_mode;
	if (t->cred.fsuid == 0)
		return mode & 0111; /* CAP_DAC_OVERRIDE still needs one x bit */
	if (t->cred.fsuid == st->st_uid)
		return mode & 0100;
	if (t->cred.fsgid == st->st_gid)
		return mode & 0010;
	return mode & 0001;
}

/* Log a dynamic executable's interpreter: loading those is the next step. */
static void report_interp(struct file *f, const struct elf_image *img, const char *path)
{
	char interp[LINUX_PATH_MAX + 1];
	ssize_t n = pread_full(f, interp, img->interp_len, img->interp_off);
	if (n < 0)
		n = 0;
	interp[n] = 0;
	log_warn("%s is dynamically linked (interpreter %s): not supported yet", path, interp);
}

/* Read and parse the headers of f. 0 or -errno (-ENOEXEC for anything malformed). */
static int read_headers(struct file *f, struct elf_image *img)
{
	_cleanup_free_ char *buf = malloc(HEADER_READ);
	_cleanup_free_ char *ph = NULL;
	uint64_t off, size;
	if (!buf)
		return -ENOMEM;
	ssize_t n = pread_full(f, buf, HEADER_READ, 0);
	if (n < 0)
		return (int)n;
	int r = elf_phdr_span(buf, (size_t)n, &off, &size);
	if (r < 0)
		return r;
	if (off <= (uint64_t)n && size <= (uint64_t)n - off)
		return elf_parse(buf, (size_t)n, img);
	/* The program headers lie beyond the first read: fetch them on their own. */
	ph = malloc(size);
	if (!ph)
		return -ENOMEM;
	n = pread_full(f, ph, size, off);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n < size)
		return -ENOEXEC;
	return elf_parse_phdrs(buf, ph, img);
}

/* Map one PT_LOAD segment at bias as Linux's elf_load does: the file's pages, the bss tail of
 * the last file page zeroed, anonymous pages for the rest. 0 or -errno. */
static int map_segment(struct mm *mm, struct file *f, const struct elf_segment *s, uint64_t bias)
{
	uint64_t start = PAGE_ALIGN_DOWN(s->vaddr + bias);
	uint64_t file_end = s->vaddr + bias + s->filesz;
	uint64_t mem_end = PAGE_ALIGN_UP(s->vaddr + bias + s->memsz);
	uint64_t anon_from = start;
	long r;

	if (s->filesz) {
		anon_from = PAGE_ALIGN_UP(file_end);
		r = mm_mmap(mm, start, anon_from - start, s->prot,
			    LINUX_MAP_PRIVATE | LINUX_MAP_FIXED, f, PAGE_ALIGN_DOWN(s->offset));
		if (r < 0)
			return (int)r;
		if (s->memsz > s->filesz && anon_from > file_end) {
			static const char zeros[PAGE_SIZE];
			r = copy_out_force(mm, file_end, zeros, anon_from - file_end);
			if (r < 0)
				return (int)r;
		}
	}
	if (mem_end > anon_from) {
		r = mm_mmap(mm, anon_from, mem_end - anon_from, s->prot,
			    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED, NULL, 0);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* Count a NULL-terminated string vector and add its bytes (strings and pointers) to *total.
 * -E2BIG when a string or the total is too long. */
static long count_strings(char *const v[], size_t *total)
{
	long n = 0;
	for (; v && v[n]; n++) {
		size_t len = strlen(v[n]) + 1;
		if (len > ARG_MAX_STRLEN)
			return -E2BIG;
		*total += len + sizeof(uint64_t);
		if (*total > ARG_MAX_TOTAL)
			return -E2BIG;
	}
	return n;
}

/* AT_HWCAP on x86: CPUID leaf 1 EDX, as Linux's ELF_HWCAP. */
static uint64_t hwcap(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return d;
}

/* AT_MINSIGSTKSZ: the largest signal frame, which holds the XSAVE area for the enabled
 * features. The overhead (frame, alignment) matches what Linux 6.18 reports. */
static uint64_t minsigstksz(void)
{
	unsigned a, b, c, d;
	uint64_t xsave = 512 + 64; /* FXSAVE area with its header */
	if (__get_cpuid_max(0, NULL) >= 0xd) {
		__cpuid_count(0xd, 0, a, b, c, d);
		if (b)
			xsave = b;
	}
	uint64_t sz = (xsave + 944 + 15) & ~15ULL;
	return MAX(sz, (uint64_t)LINUX_MINSIGSTKSZ);
}

/* Copy string s below *sp; returns its application address. */
static int push_bytes(struct mm *mm, uint64_t *sp, const void *s, size_t len, uint64_t *at)
{
	*sp -= len;
	*at = *sp;
	return copy_out_force(mm, *sp, s, len);
}

struct stack_args {
	char *const *argv, *const *envp;
	long argc, envc;
	const char *execfn;
	uint64_t phdr, phnum, entry;
};

/* Build the initial stack below top as create_elf_tables does; *rsp_out receives the stack
 * pointer (pointing at argc, 16-byte aligned). 0 or -errno. */
static int build_stack(struct task *t, struct mm *mm, uint64_t top, const struct stack_args *sa,
		       uint64_t *rsp_out)
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
	AUX(LINUX_AT_MINSIGSTKSZ, minsigstksz()); /* Linux's ARCH_DLINFO comes first */
	AUX(LINUX_AT_HWCAP, hwcap());
	AUX(LINUX_AT_PAGESZ, PAGE_SIZE);
	AUX(LINUX_AT_CLKTCK, 100);
	AUX(LINUX_AT_PHDR, sa->phdr);
	AUX(LINUX_AT_PHENT, sizeof(Elf64_Phdr));
	AUX(LINUX_AT_PHNUM, sa->phnum);
	AUX(LINUX_AT_BASE, 0);
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
	*rsp_out = sp;
	return 0;
}

/* The load bias of a static-pie: Linux's ELF_ET_DYN_BASE (2/3 of the address space), aligned
 * for the segments, and low enough that the image ends below the mmap base. */
static int pick_bias(struct mm *mm, const struct elf_image *img, uint64_t *bias)
{
	uint64_t span = img->hi - img->lo;
	uint64_t base = mm_stack_top(mm) / 3 * 2;
	uint64_t align = MIN(img->max_align, 1ULL << 30);
	if (span >= mm_mmap_base(mm) - LINUX_MMAP_MIN)
		return -ENOMEM;
	if (base + span > mm_mmap_base(mm))
		base = mm_mmap_base(mm) - span;
	base &= ~(align - 1);
	if (base < LINUX_MMAP_MIN)
		return -ENOMEM;
	*bias = base - img->lo;
	return 0;
}

long loader_load(struct task *t, struct file *f, const char *path, char *const argv[],
		 char *const envp[])
{
	struct elf_image *img = NULL;
	struct linux_stat st;
	struct mm *mm = NULL;
	uint64_t bias = 0, rsp = 0, brk = 0;
	size_t strbytes = 0;
	long r, argc, envc;

	r = vfs_fstat(f, &st);
	if (r < 0)
		return r;
	if ((st.st_mode & LINUX_S_IFMT) != LINUX_S_IFREG || !may_exec(t, &st))
		return -EACCES;
	strbytes = strlen(path) + 1;
	argc = count_strings(argv, &strbytes);
	envc = argc < 0 ? argc : count_strings(envp, &strbytes);
	if (argc < 0 || envc < 0)
		return argc < 0 ? argc : envc;

	img = malloc(sizeof(*img));
	if (!img)
		return -ENOMEM;
	r = read_headers(f, img);
	if (r < 0)
		goto out;
	if (img->has_interp) {
		report_interp(f, img, path);
		r = -ENOEXEC;
		goto out;
	}

	mm = mm_create(t->plat);
	if (!mm) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t stack_lo = mm_stack_top(mm) - STACK_SIZE;
	if (img->type == ET_DYN) {
		r = pick_bias(mm, img, &bias);
		if (r < 0)
			goto out;
	}
	if (img->lo + bias < LINUX_MMAP_MIN || img->hi + bias > stack_lo) {
		log_info("%s: segments %#lx-%#lx do not fit the address space", path,
			 (unsigned long)(img->lo + bias), (unsigned long)(img->hi + bias));
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < img->nseg; i++) {
		r = map_segment(mm, f, &img->seg[i], bias);
		if (r < 0)
			goto out;
		brk = MAX(brk, img->seg[i].vaddr + bias + img->seg[i].memsz);
	}
	mm_set_brk_base(mm, brk);

	int stack_prot =
	    LINUX_PROT_READ | LINUX_PROT_WRITE | (img->exec_stack ? LINUX_PROT_EXEC : 0);
	r = mm_mmap(mm, stack_lo, STACK_SIZE, stack_prot,
		    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED | LINUX_MAP_GROWSDOWN,
		    NULL, 0);
	if (r < 0)
		goto out;
	struct stack_args sa = {
	    .argv = argv,
	    .envp = envp,
	    .argc = argc,
	    .envc = envc,
	    .execfn = path,
	    .phdr = img->phdr_vaddr ? img->phdr_vaddr + bias : 0,
	    .phnum = img->phnum,
	    .entry = img->entry + bias,
	};
	r = build_stack(t, mm, mm_stack_top(mm), &sa, &rsp);
	if (r < 0)
		goto out;

	/* Point of no return: the task gets the new image. */
	uint64_t cs = t->regs.regs.cs, ss = t->regs.regs.ss;
	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.regs.cs = cs;
	t->regs.regs.ss = ss;
	t->regs.regs.rip = img->entry + bias;
	t->regs.regs.rsp = rsp;
	if (t->mm)
		mm_put(t->mm);
	t->mm = steal_pointer(&mm);
	file_get(f);
	if (t->exe_file)
		file_put(t->exe_file);
	t->exe_file = f;
	log_debug("loaded %s: entry %#lx rsp %#lx brk %#lx", path, (unsigned long)t->regs.regs.rip,
		  (unsigned long)rsp, (unsigned long)brk);
	r = 0;
out:
	if (mm)
		mm_put(mm);
	free(img);
	return r;
}
