/* args_env.c: argv, envp and the auxiliary vector as the loader laid them out. */
#include "check.h"

#include <elf.h>
#include <sys/auxv.h>

extern char **environ;
extern void _start(void);

int main(int argc, char **argv, char **envp)
{
	CHECK(argc >= 1 && argv[argc] == NULL, "argv not NULL-terminated");
	printf("argc %d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = '%s'\n", i, argv[i]);
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	printf("argv[0] ends with %s\n", me);

	/* envp follows argv on the stack and is libc's environ. */
	CHECK(envp == environ, "envp != environ");
	CHECK(envp == argv + argc + 1, "envp does not follow argv");
	int n = 0;
	for (char **e = envp; *e; e++, n++)
		CHECK(strchr(*e, '=') != NULL, "env entry without '=': %s", *e);
	CHECK(n < 10000, "too many env entries");

	/* The auxiliary vector follows envp. */
	Elf64_auxv_t *av = (Elf64_auxv_t *)(envp + n + 1);
	int seen_pagesz = 0, seen_random = 0;
	for (; av->a_type != AT_NULL; av++) {
		if (av->a_type == AT_PAGESZ)
			seen_pagesz = 1;
		if (av->a_type == AT_RANDOM)
			seen_random = 1;
	}
	CHECK(seen_pagesz && seen_random, "auxv after envp lacks AT_PAGESZ/AT_RANDOM");

	CHECK(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ %lu", getauxval(AT_PAGESZ));
	CHECK(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY %#lx, _start %p",
	      getauxval(AT_ENTRY), (void *)_start);
	CHECK(getauxval(AT_PHENT) == sizeof(Elf64_Phdr), "AT_PHENT %lu", getauxval(AT_PHENT));
	CHECK(getauxval(AT_PHNUM) >= 2 && getauxval(AT_PHNUM) < 64, "AT_PHNUM %lu",
	      getauxval(AT_PHNUM));
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	CHECK(ph != NULL, "AT_PHDR");
	int loads = 0;
	for (unsigned long i = 0; i < getauxval(AT_PHNUM); i++)
		loads += ph[i].p_type == PT_LOAD;
	CHECK(loads >= 1, "no PT_LOAD in AT_PHDR");
	CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid(), "AT_UID/AT_EUID");
	CHECK(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid(), "AT_GID/AT_EGID");
	CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE");
	CHECK(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK %lu", getauxval(AT_CLKTCK));
	CHECK(getauxval(AT_HWCAP) != 0, "AT_HWCAP is 0");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL, "AT_RANDOM");
	int nonzero = 0;
	for (int i = 0; i < 16; i++)
		nonzero += rnd[i] != 0;
	CHECK(nonzero >= 8, "AT_RANDOM bytes look unrandom (%d of 16 nonzero)", nonzero);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK(execfn != NULL, "AT_EXECFN");
	const char *tail = strrchr(execfn, '/') ? strrchr(execfn, '/') + 1 : execfn;
	CHECK(!strcmp(tail, me), "AT_EXECFN %s does not end with %s", execfn, me);
	printf("ok auxv: AT_PAGESZ AT_ENTRY AT_PHDR AT_PHENT AT_PHNUM AT_UID.. AT_CLKTCK AT_HWCAP "
	       "AT_RANDOM AT_EXECFN\n");

	printf("args_env: done\n");
	return 0;
}
