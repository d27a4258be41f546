/* The ELF loader: parse an executable's headers, map it into a fresh address space, and build
 * the initial stack (argv, envp, auxv). Static and static-pie executables for now. */
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

/*
 * execve's loading step: map the executable f (opened by the caller; path is the name the
 * program was run as, for AT_EXECFN) into a fresh address space on t->plat, build the initial
 * stack from the Sentry-side strings argv and envp (NULL-terminated; NULL means empty), and on
 * success replace t->mm (the old one is put) and t->exe_file (a new reference to f), and set
 * t->regs to start at the entry point (cs/ss kept for the platform to sanitise).
 * On failure t is unchanged. Returns 0, -ENOEXEC (not a loadable executable; dynamic ones for
 * now), -EACCES (not a regular file, or no execute permission for t's credentials), -E2BIG
 * (arguments and environment too large), -ENOMEM, or an I/O error from the file.
 */
long loader_load(struct task *t, struct file *f, const char *path, char *const argv[],
		 char *const envp[]);

#endif
