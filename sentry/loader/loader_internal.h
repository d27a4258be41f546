/* Internals of sentry/loader shared by its files. Not for other modules. */
#ifndef SENTRY_LOADER_LOADER_INTERNAL_H
#define SENTRY_LOADER_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct task;
struct mm;

/* What the initial stack holds (create_elf_tables). */
struct stack_args {
	char *const *argv, *const *envp;
	long argc, envc;
	const char *execfn;   /* AT_EXECFN: the path exec was given */
	uint64_t phdr, phnum; /* the program's headers as mapped */
	uint64_t entry;	      /* AT_ENTRY: the program's entry, not the interpreter's */
	uint64_t base;	      /* AT_BASE: the interpreter's load address, 0 without one */
	uint64_t vdso;	      /* AT_SYSINFO_EHDR: the vDSO's address, 0 without one */
};

/* Build the initial stack below top in mm as Linux's create_elf_tables does; *rsp_out receives
 * the stack pointer (at argc, 16-byte aligned). t gives the credentials for auxv. 0 or -errno
 * (stack.c). */
int loader_build_stack(const struct task *t, struct mm *mm, uint64_t top,
		       const struct stack_args *sa, uint64_t *rsp_out);

#endif
