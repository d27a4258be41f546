/* The dispatch table: syscall number -> handler, merged from the per-family tables. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "abi/syscalls.h"
#include "common/log.h"
#include "sentry/syscalls/app_filter.h"

static sys_handler_t g_table[ABI_SYSCALL_MAX];
/* The entries' compatibility notes (struct syscall_entry): NULL = supported or no entry. */
static const char *g_note[ABI_SYSCALL_MAX];
/* One bit per number: has its ENOSYS been logged yet? */
static atomic_uchar g_logged[ABI_SYSCALL_MAX];

static const struct syscall_entry *const g_families[] = {
	sys_file_table, sys_fs_table, sys_mm_table, sys_misc_table, sys_signal_table,
	sys_process_table, sys_res_table, sys_event_table, sys_socket_table,
};

void syscall_table_init(void)
{
	for (size_t i = 0; i < sizeof(g_families) / sizeof(g_families[0]); i++) {
		/* An entry with only a note ({nr, NULL, "unsupported: why"}) documents a call
		 * left out on purpose; the terminator {-1, NULL} has neither. */
		for (const struct syscall_entry *e = g_families[i]; e->fn || e->note; e++) {
			if (e->nr < 0 || e->nr >= ABI_SYSCALL_MAX || !abi_syscall(e->nr)) {
				log_error("syscall table: bad number %ld", e->nr);
				continue;
			}
			if (g_table[e->nr] || g_note[e->nr])
				log_error("syscall table: %s registered twice",
					  abi_syscall_name(e->nr));
			if (e->note && strncmp(e->note, "partial: ", 9) != 0 &&
			    strncmp(e->note, "unsupported: ", 13) != 0)
				log_error("syscall table: %s: note must start with \"partial: \" or "
					  "\"unsupported: \"", abi_syscall_name(e->nr));
			g_table[e->nr] = e->fn;
			g_note[e->nr] = e->note;
		}
	}
}

sys_handler_t syscall_handler(long nr)
{
	if (nr < 0 || nr >= ABI_SYSCALL_MAX)
		return NULL;
	return g_table[nr];
}

const char *syscall_note(long nr)
{
	if (nr < 0 || nr >= ABI_SYSCALL_MAX)
		return NULL;
	return g_note[nr];
}

long syscall_dispatch(struct task *t, const struct syscall_args *a)
{
	sys_handler_t fn = syscall_handler(a->nr);
	long ret;

	/* The container's seccomp profile comes first, as Linux's runs before the syscall. */
	if (app_filter_check(t, a, &ret))
		return ret;
	if (fn)
		return fn(t, a);
	if (a->nr >= 0 && a->nr < ABI_SYSCALL_MAX) {
		if (!atomic_exchange(&g_logged[a->nr], 1)) {
			const char *name = abi_syscall_name(a->nr);
			/* once per syscall, to the debug log (--debug-log, --debug) */
			log_info("unsupported syscall %s (%ld): ENOSYS", name ? name : "?", a->nr);
		}
	} else {
		log_debug("syscall number %ld out of range: ENOSYS", a->nr);
	}
	return -ENOSYS;
}
