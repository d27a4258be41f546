/* The x86-64 syscall table built from abi/syscalls.def, and lookups by number and by name. */
#include "abi/syscalls.h"

#include <stddef.h>
#include <string.h>

/* Indexed by number; a slot with name NULL has no syscall. */
static const struct abi_syscall g_syscalls[ABI_SYSCALL_MAX] = {
#define SYSCALL(nr, nm, n, k0, k1, k2, k3, k4, k5)                                                 \
	[nr] = {.name = #nm,                                                                       \
		.nargs = n,                                                                        \
		.arg = {ABI_ARG_##k0, ABI_ARG_##k1, ABI_ARG_##k2, ABI_ARG_##k3, ABI_ARG_##k4,      \
			ABI_ARG_##k5}},
#include "abi/syscalls.def"
#undef SYSCALL
};

/* Every kind must fit the uint8_t slots of struct abi_syscall. */
_Static_assert(ABI_ARG_KIND_MAX <= 256, "abi_arg_kind must fit in uint8_t");

const struct abi_syscall *abi_syscall(long nr)
{
	if (nr < 0 || nr >= ABI_SYSCALL_MAX || !g_syscalls[nr].name)
		return NULL;
	return &g_syscalls[nr];
}

const char *abi_syscall_name(long nr)
{
	const struct abi_syscall *s = abi_syscall(nr);

	return s ? s->name : NULL;
}

/* A linear scan: called for configuration (seccomp policies, tests), never per syscall. */
long abi_syscall_by_name(const char *name)
{
	if (!name)
		return -1;
	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++)
		if (g_syscalls[nr].name && strcmp(g_syscalls[nr].name, name) == 0)
			return nr;
	return -1;
}
