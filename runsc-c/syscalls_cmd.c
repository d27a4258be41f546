/* `runsc-c syscalls`: the compatibility table, read from the Sentry's dispatch table itself. */
#include <stdio.h>
#include <string.h>

#include "abi/syscalls.h"
#include "runsc-c/cli.h"
#include "sentry/syscalls/syscalls.h"

enum compat_state { COMPAT_SUPPORTED, COMPAT_PARTIAL, COMPAT_UNSUPPORTED, COMPAT_NSTATES };

static const char *const state_names[COMPAT_NSTATES] = {
    [COMPAT_SUPPORTED] = "supported",
    [COMPAT_PARTIAL] = "partial",
    [COMPAT_UNSUPPORTED] = "unsupported",
};

/* nr's state, and in *text its note without the "partial: "/"unsupported: " prefix (NULL when
 * there is none). No handler is unsupported whatever the note says; a note without a known prefix
 * (syscall_table_init logs it) counts as partial, so it never passes for full support. */
static enum compat_state compat_state(long nr, const char **text)
{
	const char *note = syscall_note(nr);

	*text = NULL;
	if (note) {
		if (strncmp(note, "partial: ", 9) == 0)
			*text = note + 9;
		else if (strncmp(note, "unsupported: ", 13) == 0)
			*text = note + 13;
		else
			*text = note;
	}
	if (!syscall_handler(nr))
		return COMPAT_UNSUPPORTED;
	if (!note)
		return COMPAT_SUPPORTED;
	if (strncmp(note, "unsupported: ", 13) == 0)
		return COMPAT_UNSUPPORTED;
	return COMPAT_PARTIAL;
}

/* Count each state over every x86-64 syscall; returns the total. */
static unsigned compat_count(unsigned n[COMPAT_NSTATES])
{
	unsigned total = 0;
	const char *text;

	memset(n, 0, COMPAT_NSTATES * sizeof(n[0]));
	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++) {
		if (!abi_syscall(nr))
			continue; /* reserved or x32-only: no such call */
		n[compat_state(nr, &text)]++;
		total++;
	}
	return total;
}

static void print_summary(FILE *f, const unsigned n[COMPAT_NSTATES], unsigned total)
{
	fprintf(f, "%u supported, %u partial, %u unsupported of %u", n[COMPAT_SUPPORTED],
		n[COMPAT_PARTIAL], n[COMPAT_UNSUPPORTED], total);
}

/* `NR NAME STATE [NOTE]`, one line per syscall, then the summary. */
static void print_text(FILE *f)
{
	unsigned n[COMPAT_NSTATES], total;
	const char *text;

	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++) {
		if (!abi_syscall(nr))
			continue;
		enum compat_state s = compat_state(nr, &text);
		if (text)
			fprintf(f, "%3ld %-24s %-11s %s\n", nr, abi_syscall_name(nr),
				state_names[s], text);
		else
			fprintf(f, "%3ld %-24s %s\n", nr, abi_syscall_name(nr), state_names[s]);
	}
	total = compat_count(n);
	print_summary(f, n, total);
	fputc('\n', f);
}

/* s with '|' escaped for a markdown table cell. */
static void put_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* docs/compatibility.md, exactly. */
static void print_markdown(FILE *f)
{
	unsigned n[COMPAT_NSTATES], total = compat_count(n);
	const char *text;

	fputs(
	    "# System call compatibility\n"
	    "\n"
	    "<!-- Generated from the dispatch table by `build/runsc-c syscalls --format "
	    "markdown`;\n"
	    "     `make` regenerates it and `tests/compat/run.sh` checks it. Do not edit by hand:\n"
	    "     the notes live in the syscall tables of sentry/syscalls/*.c. -->\n"
	    "\n"
	    "The state of every x86-64 Linux system call (Linux 6.18: numbers 0-334 and 424-469)\n"
	    "in runsc-c's Sentry, as its dispatch table records it:\n"
	    "\n"
	    "- **supported**: implemented; any difference from Linux is a bug.\n"
	    "- **partial**: implemented, except what the note says.\n"
	    "- **unsupported**: the call fails (ENOSYS unless the note says otherwise).\n"
	    "\n",
	    f);
	fputs("**", f);
	print_summary(f, n, total);
	fputs(".**\n\n| Nr | Name | State | Note |\n|---:|---|---|---|\n", f);
	for (long nr = 0; nr < ABI_SYSCALL_MAX; nr++) {
		if (!abi_syscall(nr))
			continue;
		enum compat_state s = compat_state(nr, &text);
		fprintf(f, "| %ld | `%s` | %s | ", nr, abi_syscall_name(nr), state_names[s]);
		if (text) {
			put_cell(f, text);
			fputc(' ', f);
		}
		fputs("|\n", f);
	}
}

static void syscalls_usage(FILE *f)
{
	fprintf(f,
		"Usage: runsc-c syscalls [--format text|markdown]\n"
		"Print every x86-64 system call with its state in the Sentry's dispatch table:\n"
		"supported, partial (with what is missing) or unsupported.\n"
		"  --format text       NR NAME STATE [NOTE] lines, then a summary (the default)\n"
		"  --format markdown   docs/compatibility.md\n");
}

int cmd_syscalls(struct global_opts *g, int argc, char **argv)
{
	const char *format = "text";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			syscalls_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			format = argv[i] + 9;
		} else {
			fprintf(stderr, "runsc-c syscalls: unknown argument \"%s\"\n", argv[i]);
			syscalls_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "markdown") != 0) {
		fprintf(stderr, "runsc-c syscalls: unknown format \"%s\" (text or markdown)\n",
			format);
		return EXIT_USAGE;
	}
	syscall_table_init(); /* logs (to stderr) any malformed entry: tests/compat checks */
	if (strcmp(format, "text") == 0)
		print_text(stdout);
	else
		print_markdown(stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("runsc-c syscalls: stdout");
		return EXIT_RUNTIME;
	}
	return 0;
}
