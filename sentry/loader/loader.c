/* execve's loading step: open and check the file, follow "#!" scripts, and map an ELF
 * executable with its PT_INTERP interpreter into a fresh address space, as Linux's
 * do_execveat_common, binfmt_script and binfmt_elf do. */
#define _GNU_SOURCE /* asprintf */
#include "sentry/loader/loader.h"
#include "sentry/loader/loader_internal.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/vdso.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

/* The stack mapping: 8 MiB (the default RLIMIT_STACK), backed eagerly; it does not grow. */
#define STACK_SIZE (8ULL << 20)
/* The first read of an ELF file: the program headers are usually inside it. */
#define HEADER_READ 4096
/* Linux's ELF_ET_DYN_BASE on x86-64 (2/3 of the address space): where a PIE is loaded, without
 * address randomisation. */
#define ET_DYN_BASE PAGE_ALIGN_DOWN(LINUX_TASK_SIZE / 3 * 2)

uint64_t loader_arg_max(uint64_t stack_rlimit)
{
	uint64_t limit = MIN(stack_rlimit / 4, 6ULL << 20);
	return MAX(limit, (uint64_t)MM_ARG_STRLEN);
}

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

/* Linux's do_open_execat checks: a regular file that t's credentials may execute
 * (generic_permission for MAY_EXEC: root needs one x bit; read permission is not needed).
 * 0 or -EACCES (or fstat's error). */
static int check_exec(const struct task *t, struct file *f)
{
	struct linux_stat st;
	int r = vfs_fstat(f, &st);
	if (r < 0)
		return r;
	uint32_t mode = st.st_mode;
	bool ok;
	if ((mode & LINUX_S_IFMT) != LINUX_S_IFREG)
		return -EACCES;
	if (t->cred.fsuid == 0)
		ok = mode & 0111;
	else if (t->cred.fsuid == st.st_uid)
		ok = mode & 0100;
	else if (t->cred.fsgid == st.st_gid)
		ok = mode & 0010;
	else
		ok = mode & 0001;
	return ok ? 0 : -EACCES;
}

/* Read and parse the ELF headers of f. 0 or -errno (-ENOEXEC for anything malformed). */
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

/* Map every PT_LOAD of img at bias; the segments must fit below limit. *end receives the end
 * of the last one (the break starts there). 0 or -errno. */
static int map_image(struct mm *mm, struct file *f, const struct elf_image *img, uint64_t bias,
		     uint64_t limit, uint64_t *end)
{
	if (img->lo + bias < LINUX_MMAP_MIN || img->hi + bias > limit ||
	    img->hi + bias < img->lo + bias) {
		log_info("exec: segments %#lx-%#lx do not fit the address space",
			 (unsigned long)(img->lo + bias), (unsigned long)(img->hi + bias));
		return -ENOMEM;
	}
	*end = 0;
	for (size_t i = 0; i < img->nseg; i++) {
		int r = map_segment(mm, f, &img->seg[i], bias);
		if (r < 0)
			return r;
		*end = MAX(*end, img->seg[i].vaddr + bias + img->seg[i].memsz);
	}
	return 0;
}

/* The load bias of a PIE or static-pie: Linux's ELF_ET_DYN_BASE, aligned for the segments,
 * and low enough that the image ends below the mmap base. */
static int pick_bias(struct mm *mm, const struct elf_image *img, uint64_t *bias)
{
	uint64_t span = img->hi - img->lo;
	uint64_t base = ET_DYN_BASE;
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

/* Map the ELF interpreter as Linux's load_elf_interp: an ET_DYN one where mmap finds room for
 * all its segments (top-down, below the mmap base), aligned for them; the gaps between its
 * segments stay unmapped. *bias receives its load bias (AT_BASE). 0 or -errno. */
static int map_interp(struct mm *mm, struct file *f, const struct elf_image *img, uint64_t *bias)
{
	uint64_t end;
	if (img->type != ET_DYN) {
		*bias = 0;
		return map_image(mm, f, img, 0, mm_mmap_base(mm), &end);
	}
	uint64_t span = img->hi - img->lo;
	uint64_t align = MIN(img->max_align, 1ULL << 30);
	uint64_t slack = align - PAGE_SIZE;
	if (span + slack < span)
		return -ENOMEM;
	/* Room for the whole span (plus room to align it), found but not reserved: nothing else
	 * maps into an mm being exec'd, and a reservation mapped only to be replaced would cost
	 * memory-file space and its release (a punch) for nothing. The gaps between the segments
	 * stay unmapped, as Linux leaves them. */
	long res = mm_find_unmapped(mm, span + slack);
	if (res < 0)
		return (int)res;
	uint64_t base = ((uint64_t)res + slack) & ~(align - 1);
	*bias = base - img->lo;
	return map_image(mm, f, img, *bias, (uint64_t)res + span + slack, &end);
}

/* Open the interpreter named by img's PT_INTERP (in f) as Linux's load_elf_binary does, and
 * parse its headers into iimg. 0 or -errno (-ELIBBAD: not an ELF interpreter). */
static int open_interp(struct task *t, struct file *f, const struct elf_image *img,
		       struct file **out, struct elf_image *iimg)
{
	char path[LINUX_PATH_MAX + 1];
	ssize_t n = pread_full(f, path, img->interp_len, img->interp_off);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n < img->interp_len)
		return -EIO;
	if (path[n - 1] != 0)
		return -ENOEXEC; /* Linux wants it NUL-terminated */
	long r = vfs_openat(t, LINUX_AT_FDCWD, path, LINUX_O_RDONLY, 0, out);
	if (r < 0)
		return (int)r;
	r = check_exec(t, *out);
	if (r == 0)
		r = read_headers(*out, iimg);
	if (r == -ENOEXEC)
		r = -ELIBBAD;
	if (r < 0) {
		log_info("exec: interpreter %s: %s", path, strerror((int)-r));
		file_put(*out);
		*out = NULL;
	}
	return (int)r;
}

/* The state of one exec (Linux's linux_binprm). */
struct bprm {
	struct task *t;
	const char *filename; /* the path as given, for AT_EXECFN */
	const char *interp; /* the name the current file was opened by (a script's argv gets it) */
	char **argv;	    /* argc entries and a NULL: the caller's strings or owned ones */
	long argc;
	char *const *envp;
	long envc;
	size_t bytes, max; /* strings and pointers so far; the limit */
	char *owned[2 * LOADER_MAX_SCRIPTS + 4];
	int nowned;
};

/* Count a string against the limit. 0 or -E2BIG. */
static int bprm_count(struct bprm *b, const char *s)
{
	size_t len = strlen(s) + 1;
	if (len > MM_ARG_STRLEN)
		return -E2BIG;
	b->bytes += len + sizeof(uint64_t);
	return b->bytes > b->max ? -E2BIG : 0;
}

static int bprm_init(struct bprm *b, struct task *t, const char *filename, char *const argv[],
		     char *const envp[])
{
	static char empty[] = "";
	long n = 0;
	int r;

	memset(b, 0, sizeof(*b));
	b->t = t;
	b->filename = b->interp = filename;
	b->envp = envp;
	b->max = LOADER_ARG_MAX;
	if (t->tg)
		b->max = loader_arg_max(t->tg->rlimits[LINUX_RLIMIT_STACK].rlim_cur);
	b->bytes = strlen(filename) + 1;
	while (argv && argv[n])
		n++;
	b->argv = malloc((size_t)(MAX(n, 1) + 1) * sizeof(char *));
	if (!b->argv)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		if ((r = bprm_count(b, argv[i])) < 0)
			return r;
		b->argv[i] = argv[i];
	}
	/* Linux 5.18+: an empty argv gets "" as argv[0], so that argv[1] is never envp[0]. */
	if (!n) {
		b->argv[n++] = empty;
		b->bytes += 1 + sizeof(uint64_t);
	}
	b->argv[n] = NULL;
	b->argc = n;
	for (; envp && envp[b->envc]; b->envc++)
		if ((r = bprm_count(b, envp[b->envc])) < 0)
			return r;
	return 0;
}

static void bprm_free(struct bprm *b)
{
	free(b->argv);
	for (int i = 0; i < b->nowned; i++)
		free(b->owned[i]);
}

static char *bprm_strdup(struct bprm *b, const char *s)
{
	if (b->nowned >= (int)ARRAY_SIZE(b->owned))
		return NULL;
	char *d = strdup(s);
	if (d)
		b->owned[b->nowned++] = d;
	return d;
}

/* binfmt_script's argv rewrite: argv[0] goes, and interpreter, [argument], the script's name
 * come first. 0, -E2BIG or -ENOMEM. */
static int bprm_script(struct bprm *b, const struct script_line *sl)
{
	char *name = bprm_strdup(b, sl->interp);
	char *arg = sl->has_arg ? bprm_strdup(b, sl->arg) : NULL;
	const char *script = b->interp;
	int r;

	if (!name || (sl->has_arg && !arg))
		return -ENOMEM;
	b->bytes -= strlen(b->argv[0]) + 1 + sizeof(uint64_t);
	if ((r = bprm_count(b, name)) < 0 || (arg && (r = bprm_count(b, arg)) < 0) ||
	    (r = bprm_count(b, script)) < 0)
		return r;
	long extra = arg ? 3 : 2;
	char **nv = malloc((size_t)(b->argc - 1 + extra + 1) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	long k = 0;
	nv[k++] = name;
	if (arg)
		nv[k++] = arg;
	nv[k++] = (char *)script;
	for (long i = 1; i <= b->argc; i++) /* argv[1..] and the NULL */
		nv[k++] = b->argv[i];
	free(b->argv);
	b->argv = nv;
	b->argc += extra - 1;
	b->interp = name;
	return 0;
}

/* Point of no return: t gets the new image. Takes over mm; exe gets a new reference. */
static void commit(struct task *t, struct mm *mm, struct file *exe, uint64_t entry, uint64_t rsp)
{
	uint64_t cs = t->regs.regs.cs, ss = t->regs.regs.ss;
	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.regs.cs = cs;
	t->regs.regs.ss = ss;
	t->regs.regs.rip = entry;
	t->regs.regs.rsp = rsp;
	if (t->mm)
		mm_put(t->mm);
	t->mm = mm;
	t->cpuid_learn = mm_cpuid_start(mm, entry) == 1;
	t->cpuid_window = false;
	t->cpuid_entry = entry;
	file_get(exe);
	if (t->exe_file)
		file_put(t->exe_file);
	t->exe_file = exe;
}

/* Load the ELF executable f (load_elf_binary) with b's arguments. 0 or -errno. */
static int load_elf(struct bprm *b, struct file *f)
{
	_cleanup_free_ struct elf_image *img = malloc(sizeof(*img));
	_cleanup_free_ struct elf_image *iimg = malloc(sizeof(*iimg));
	struct task *t = b->t;
	struct file *interp = NULL;
	struct mm *mm = NULL;
	uint64_t bias = 0, ibias = 0, brk = 0, rsp = 0;
	int r;

	if (!img || !iimg)
		return -ENOMEM;
	r = read_headers(f, img);
	if (r < 0)
		return r;
	if (img->has_interp && (r = open_interp(t, f, img, &interp, iimg)) < 0)
		return r;

	mm = mm_create(t->plat);
	if (!mm) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t stack_lo = mm_stack_top(mm) - STACK_SIZE;
	if (img->type == ET_DYN && (r = pick_bias(mm, img, &bias)) < 0)
		goto out;
	r = map_image(mm, f, img, bias, stack_lo, &brk);
	if (r < 0)
		goto out;
	mm_set_brk_base(mm, brk);
	if (interp && (r = map_interp(mm, interp, iimg, &ibias)) < 0)
		goto out;

	int stack_prot =
	    LINUX_PROT_READ | LINUX_PROT_WRITE | (img->exec_stack ? LINUX_PROT_EXEC : 0);
	long sr =
	    mm_mmap(mm, stack_lo, STACK_SIZE, stack_prot,
		    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_FIXED | LINUX_MAP_GROWSDOWN,
		    NULL, 0);
	if (sr < 0) {
		r = (int)sr;
		goto out;
	}
	uint64_t vdso;
	if ((r = vdso_map(mm, &vdso)) < 0)
		goto out;
	struct stack_args sa = {
	    .argv = b->argv,
	    .envp = b->envp,
	    .argc = b->argc,
	    .envc = b->envc,
	    .execfn = b->filename,
	    .phdr = img->phdr_vaddr ? img->phdr_vaddr + bias : 0,
	    .phnum = img->phnum,
	    .entry = img->entry + bias,
	    .base = interp ? ibias : 0,
	    .vdso = vdso,
	};
	r = loader_build_stack(t, mm, mm_stack_top(mm), &sa, &rsp);
	if (r < 0)
		goto out;
	uint64_t entry = interp ? iimg->entry + ibias : img->entry + bias;
	commit(t, steal_pointer(&mm), f, entry, rsp);
	log_debug("exec %s: entry %#lx rsp %#lx brk %#lx%s", b->filename, (unsigned long)entry,
		  (unsigned long)rsp, (unsigned long)brk, interp ? " (interpreter)" : "");
out:
	if (mm)
		mm_put(mm);
	if (interp)
		file_put(interp);
	return r;
}

/* exec of the file f (the caller's reference) found as filename. */
static long exec_file(struct task *t, struct file *f, const char *filename, char *const argv[],
		      char *const envp[], bool path_inaccessible)
{
	struct bprm b;
	long r = bprm_init(&b, t, filename, argv, envp);

	file_get(f); /* ours: scripts replace it with their interpreter */
	for (int depth = 0; r == 0; depth++) {
		char head[LOADER_BUF_SIZE];
		struct script_line sl;
		struct file *next;
		if (depth > LOADER_MAX_SCRIPTS) {
			r = -ELOOP;
			break;
		}
		if ((r = check_exec(t, f)) < 0)
			break;
		ssize_t n = pread_full(f, head, sizeof(head), 0);
		if (n < 0) {
			r = n;
			break;
		}
		if (n < 2 || head[0] != '#' || head[1] != '!') {
			r = load_elf(&b, f);
			break;
		}
		/* A script named through a close-on-exec fd (/dev/fd/N) could not be opened by its
		 * interpreter after exec: Linux fails with ENOENT. */
		if (path_inaccessible) {
			r = -ENOENT;
			break;
		}
		if ((r = script_parse(head, (size_t)n, &sl)) < 0 || (r = bprm_script(&b, &sl)) < 0)
			break;
		/* Linux opens "" as the working directory: not a regular file. */
		r = sl.interp[0]
			? vfs_openat(t, LINUX_AT_FDCWD, sl.interp, LINUX_O_RDONLY, 0, &next)
			: -EACCES;
		if (r < 0)
			break;
		file_put(f);
		f = next;
	}
	file_put(f);
	bprm_free(&b);
	return r;
}

long loader_load(struct task *t, struct file *f, const char *path, char *const argv[],
		 char *const envp[])
{
	return exec_file(t, f, path, argv, envp, false);
}

long loader_exec(struct task *t, int dirfd, const char *path, char *const argv[],
		 char *const envp[], int at_flags)
{
	_cleanup_free_ char *fdpath = NULL;
	struct file *f = NULL;
	long r;

	if (at_flags & ~(LINUX_AT_EMPTY_PATH | LINUX_AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	if (!path[0]) {
		/* execveat(fd, "", AT_EMPTY_PATH): the file fd refers to. */
		if (!(at_flags & LINUX_AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == LINUX_AT_FDCWD)
			return -EACCES; /* the working directory */
		f = fdtable_get(t->fdt, dirfd);
		if (!f)
			return -EBADF;
		if (file_flags(f) & LINUX_O_PATH) {
			/* An O_PATH fd cannot be read: exec opens the file it names afresh, as
			 * Linux does. (Re-opened by path: a rename in between is not followed.) */
			char *p = malloc(LINUX_PATH_MAX);
			long n = p ? file_path(f, p, LINUX_PATH_MAX) : -ENOMEM;
			file_put(f);
			f = NULL;
			if (n >= 0)
				n = vfs_openat(t, LINUX_AT_FDCWD, p, LINUX_O_RDONLY, 0, &f);
			free(p);
			if (n < 0)
				return n;
		}
	} else {
		int oflags = LINUX_O_RDONLY;
		if (at_flags & LINUX_AT_SYMLINK_NOFOLLOW)
			oflags |= LINUX_O_NOFOLLOW;
		r = vfs_openat(t, dirfd, path, oflags, 0, &f);
		if (r < 0)
			return r;
	}
	/* Linux names a file found through a directory fd by its /dev/fd path (AT_EXECFN). */
	if (dirfd != LINUX_AT_FDCWD && path[0] != '/') {
		int n = path[0] ? asprintf(&fdpath, "/dev/fd/%d/%s", dirfd, path)
				: asprintf(&fdpath, "/dev/fd/%d", dirfd);
		if (n < 0) {
			fdpath = NULL;
			file_put(f);
			return -ENOMEM;
		}
	}
	bool inaccessible = fdpath && fdtable_get_cloexec(t->fdt, dirfd) > 0;
	r = exec_file(t, f, fdpath ? fdpath : path, argv, envp, inaccessible);
	file_put(f);
	return r;
}
