/* The ELF loader: parse an executable's headers, map it (and its PT_INTERP interpreter) into a
 * fresh address space, and build the initial stack (argv, envp, auxv); "#!" scripts. */
#ifndef SENTRY_LOADER_LOADER_H
#define SENTRY_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;
struct file;

/* Linux reads at most one page of program headers (ELF_MIN_ALIGN): 73 of 56 bytes. */
#define ELF_PHDRS_MAX_SIZE 4096
#define ELF_MAX_PHNUM (ELF_PHDRS_MAX_SIZE / 56)

/* One PT_LOAD segment. */
struct elf_segment {
	uint64_t vaddr, memsz;	 /* where it lives (before any load bias) */
	uint64_t offset, filesz; /* what of the file it holds */
	int prot;		 /* LINUX_PROT_* from p_flags */
};

/* What the loader needs to know about an executable, as elf_parse found it. */
struct elf_image {
	int type; /* ET_EXEC or ET_DYN */
	uint64_t entry;
	uint64_t phoff;
	uint16_t phnum, phentsize;
	/* Address of the program headers in memory (AT_PHDR before bias): from the PT_LOAD that
	 * contains them, else PT_PHDR, else 0. */
	uint64_t phdr_vaddr;
	uint64_t lo, hi;    /* page-aligned span of the PT_LOAD segments */
	uint64_t max_align; /* largest power-of-two p_align of the PT_LOAD segments (>= page) */
	bool has_interp;    /* PT_INTERP: a dynamically linked executable */
	uint64_t interp_off, interp_len;
	bool exec_stack; /* PT_GNU_STACK with PF_X (or no PT_GNU_STACK: Linux's default on x86-64
			  * is then a non-executable stack too, so this is only set by PF_X) */
	size_t nseg;
	struct elf_segment seg[ELF_MAX_PHNUM];
};

/* Parse an ELF executable whose first len bytes are at hdr; the program headers must lie
 * within them. Pure: no I/O, no allocation. Returns 0, or -ENOEXEC when the file is not an
 * x86-64 little-endian ELF64 executable Linux would load, or is malformed. */
int elf_parse(const void *hdr, size_t len, struct elf_image *out);
/* Check the ELF header alone (first len bytes at hdr) and say where the program header table
 * is: *off and *size (size <= ELF_PHDRS_MAX_SIZE). 0 or -ENOEXEC. */
int elf_phdr_span(const void *hdr, size_t len, uint64_t *off, uint64_t *size);
/* Like elf_parse, with the program header table read separately into phdrs (*size bytes as
 * elf_phdr_span said). ehdr holds at least the 64-byte ELF header. 0 or -ENOEXEC. */
int elf_parse_phdrs(const void *ehdr, const void *phdrs, struct elf_image *out);

/* ---- "#!" scripts ---- */
/* Linux's BINPRM_BUF_SIZE: how much of a file exec looks at to recognise a script. */
#define LOADER_BUF_SIZE 256
/* Scripts may name scripts as their interpreter: Linux runs a chain of 5 scripts ending in a
 * binary, and fails a 6th with ELOOP (exec_binprm's depth > 5 check). */
#define LOADER_MAX_SCRIPTS 5

/* The interpreter line of a script. */
struct script_line {
	char interp[LOADER_BUF_SIZE];
	char arg[LOADER_BUF_SIZE]; /* the optional argument: the rest of the line, one string */
	bool has_arg;
};
/* Parse a script's first bytes (head, len of them; Linux looks at LOADER_BUF_SIZE) as
 * binfmt_script does: "#!", blanks, the interpreter, blanks, the argument up to the end of the
 * line with trailing blanks removed. A line without a newline within the buffer is cut at byte
 * 255, unless that would cut the interpreter's name. Pure. 0, or -ENOEXEC (not "#!", no name,
 * a truncated name). Like Linux, a short file of "#!" and blanks without a newline gives an
 * empty name (exec then fails with EACCES: "" is the working directory). */
int script_parse(const char *head, size_t len, struct script_line *out);

/* ---- exec ---- */
/* Linux's limit on execve's strings and pointers (argv, envp and the file name) with the default
 * 8 MiB RLIMIT_STACK: a quarter of it. */
#define LOADER_ARG_MAX (2ULL << 20)
/* The same limit for another RLIMIT_STACK soft limit (bprm_stack_limits): a quarter of it, at
 * most 6 MiB, at least 128 KiB. */
uint64_t loader_arg_max(uint64_t stack_rlimit);

/*
 * execve(2)/execveat(2)'s loading step, on t's own host thread: open path (relative to dirfd
 * unless absolute, LINUX_AT_FDCWD for the cwd; at_flags LINUX_AT_EMPTY_PATH: an empty path
 * means dirfd itself, LINUX_AT_SYMLINK_NOFOLLOW: a symlink is ELOOP), follow "#!" scripts
 * (argv becomes interpreter, [argument], script path, argv[1..]) and load the ELF executable
 * with its PT_INTERP interpreter if it has one, into a new address space. argv and envp are
 * Sentry-side NULL-terminated vectors (NULL: empty; an empty argv gets "" as argv[0], as Linux
 * 5.18+), still owned by the caller.
 *
 * On success (the point of no return is at the very end): t->mm is the new mm (t's reference
 * to the old one is put; it is NOT active yet: call mm_activate on t's thread before running
 * it), t->exe_file is the executable (for a script, its interpreter binary; for a dynamic
 * program, the program, not ld.so), t->regs start at the entry point (the interpreter's when
 * there is one; rsp at argc; other registers zero; cs/ss kept). The caller does the rest of
 * exec (other threads, close-on-exec, signals, comm). On failure t is untouched.
 * Returns 0 or -errno: ENOENT, ENOTDIR, ELOOP, EACCES (not a regular file, or no execute
 * permission for t's fsuid/fsgid, or no read permission: the file is opened O_RDONLY),
 * ENOEXEC (neither ELF nor script, malformed), ELIBBAD (a PT_INTERP that is not an ELF
 * interpreter), ELOOP (more than LOADER_MAX_SCRIPTS nested scripts), E2BIG, ENOMEM, or an
 * I/O error.
 */
long loader_exec(struct task *t, int dirfd, const char *path, char *const argv[],
		 char *const envp[], int at_flags);
/* The same for a file the caller opened already (boot: the first process, found on PATH);
 * path is the name it was run as (AT_EXECFN). f stays the caller's. */
long loader_load(struct task *t, struct file *f, const char *path, char *const argv[],
		 char *const envp[]);

#endif
