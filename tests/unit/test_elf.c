/* Unit tests for sentry/loader/elf.c: elf_parse on good, malformed and real executables. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "abi/linux.h"
#include "sentry/loader/loader.h"

#define PG 4096ULL

/* A small, valid static ET_EXEC: text at 0x400000, data+bss after it, PT_GNU_STACK. */
static unsigned char img[8192];

static Elf64_Ehdr *eh(void) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *ph(int i) { return (Elf64_Phdr *)(img + eh()->e_phoff) + i; }

static void build(void)
{
	memset(img, 0, sizeof(img));
	Elf64_Ehdr *e = eh();
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = 0x401000;
	e->e_phoff = sizeof(Elf64_Ehdr);
	e->e_ehsize = sizeof(Elf64_Ehdr);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 3;
	*ph(0) = (Elf64_Phdr){.p_type = PT_LOAD,
			      .p_flags = PF_R | PF_X,
			      .p_offset = 0,
			      .p_vaddr = 0x400000,
			      .p_filesz = 0x1800,
			      .p_memsz = 0x1800,
			      .p_align = 0x1000};
	*ph(1) = (Elf64_Phdr){.p_type = PT_LOAD,
			      .p_flags = PF_R | PF_W,
			      .p_offset = 0x1800,
			      .p_vaddr = 0x402800,
			      .p_filesz = 0x100,
			      .p_memsz = 0x3000,
			      .p_align = 0x1000};
	*ph(2) = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
}

Test(elf, good_static_exec, .init = build)
{
	struct elf_image im;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	cr_assert_eq(im.type, ET_EXEC);
	cr_assert_eq(im.entry, 0x401000);
	cr_assert_eq(im.nseg, 2);
	cr_assert_eq(im.seg[0].prot, LINUX_PROT_READ | LINUX_PROT_EXEC);
	cr_assert_eq(im.seg[1].prot, LINUX_PROT_READ | LINUX_PROT_WRITE);
	cr_assert_eq(im.lo, 0x400000);
	cr_assert_eq(im.hi, 0x406000);
	cr_assert_eq(im.phdr_vaddr, 0x400040, "AT_PHDR from the segment holding the table");
	cr_assert_eq(im.phnum, 3);
	cr_assert(!im.has_interp);
	cr_assert(!im.exec_stack);
}

Test(elf, good_static_pie_and_features, .init = build)
{
	struct elf_image im;
	eh()->e_type = ET_DYN;
	ph(0)->p_vaddr = 0;
	ph(1)->p_vaddr = 0x2800;
	ph(1)->p_align = 0x200000; /* congruent mod a page only: Linux loads it anyway */
	ph(2)->p_flags |= PF_X;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	cr_assert_eq(im.max_align, 0x200000);
	cr_assert_eq(im.type, ET_DYN);
	cr_assert_eq(im.lo, 0);
	cr_assert(im.exec_stack);
	/* PT_INTERP is reported, not refused, by the parser. */
	eh()->e_phnum = 4;
	*ph(3) = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x200, .p_filesz = 28};
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	cr_assert(im.has_interp);
	cr_assert_eq(im.interp_off, 0x200);
	cr_assert_eq(im.interp_len, 28);
	ph(3)->p_filesz = 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "interp too short");
	ph(3)->p_filesz = LINUX_PATH_MAX + 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "interp too long");
}

Test(elf, bad_identification, .init = build)
{
	struct elf_image im;
	img[1] = 'F';
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "magic");
	build();
	img[EI_CLASS] = ELFCLASS32;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "32-bit");
	build();
	img[EI_DATA] = ELFDATA2MSB;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "big endian");
	build();
	img[EI_VERSION] = 0;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "version");
	build();
	eh()->e_machine = EM_AARCH64;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "machine");
	build();
	eh()->e_type = ET_REL;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "relocatable");
	build();
	eh()->e_type = ET_CORE;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "core");
	build();
	cr_assert_eq(elf_parse(img, 63, &im), -ENOEXEC, "truncated header");
	cr_assert_eq(elf_parse(img, 0, &im), -ENOEXEC, "empty");
	cr_assert_eq(elf_parse("#!/bin/sh\n", 10, &im), -ENOEXEC, "script");
}

Test(elf, bad_program_header_table, .init = build)
{
	struct elf_image im;
	eh()->e_phentsize = 32;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "phentsize");
	build();
	eh()->e_phnum = 0;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "no phdrs");
	build();
	eh()->e_phnum = 0xffff;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "phnum huge");
	build();
	eh()->e_phnum = ELF_MAX_PHNUM + 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "more than a page of phdrs");
	build();
	eh()->e_phoff = sizeof(img) - 100;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "phoff past the buffer");
	build();
	eh()->e_phoff = ~0ULL - 10;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "phoff overflows");
	build();
	cr_assert_eq(elf_parse(img, 64 + 56, &im), -ENOEXEC, "phdrs cut short");
	build();
	eh()->e_phnum = 1;
	ph(0)->p_type = PT_NOTE;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "no PT_LOAD");
}

Test(elf, bad_segments, .init = build)
{
	struct elf_image im;
	ph(1)->p_filesz = ph(1)->p_memsz + 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "filesz > memsz");
	build();
	ph(1)->p_vaddr = 0x401000;
	ph(1)->p_offset = 0x1000;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "overlapping segments");
	build();
	ph(1)->p_vaddr = 0x300000;
	ph(1)->p_offset = 0x0;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "descending segments");
	build();
	ph(1)->p_vaddr = 0xfffffffffffff800ULL;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "vaddr + memsz overflows");
	build();
	ph(1)->p_vaddr = LINUX_TASK_SIZE - 0x800;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "beyond the user address space");
	build();
	ph(1)->p_offset = 0xfffffffffffff800ULL; /* congruent with vaddr 0x402800 */
	ph(1)->p_filesz = 0x900;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "offset + filesz overflows");
	build();
	ph(1)->p_offset = 0x1900;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "vaddr/offset not congruent");
	build();
	/* Sharing a page with the previous segment is allowed (no byte overlap). */
	ph(1)->p_vaddr = 0x401800;
	ph(1)->p_offset = 0x1800;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	/* A zero-sized PT_LOAD maps nothing and is skipped. */
	ph(1)->p_memsz = ph(1)->p_filesz = 0;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	cr_assert_eq(im.nseg, 1);
}

Test(elf, phdrs_read_separately, .init = build)
{
	/* The table far into the file: elf_parse refuses the short buffer, elf_phdr_span says
	 * where to read, elf_parse_phdrs takes it. */
	static unsigned char table[3 * sizeof(Elf64_Phdr)];
	memcpy(table, ph(0), sizeof(table));
	eh()->e_phoff = 0x100000;
	struct elf_image im;
	uint64_t off, size;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC);
	cr_assert_eq(elf_phdr_span(img, sizeof(img), &off, &size), 0);
	cr_assert_eq(off, 0x100000);
	cr_assert_eq(size, sizeof(table));
	cr_assert_eq(elf_parse_phdrs(img, table, &im), 0);
	cr_assert_eq(im.nseg, 2);
	cr_assert_eq(im.phdr_vaddr, 0, "table not inside any PT_LOAD, no PT_PHDR");
}

/* Parse the first 4 KiB of a real executable. Returns -1 when the file is absent. */
static int parse_file(const char *path, struct elf_image *im)
{
	static unsigned char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	cr_assert_gt(n, 0);
	return elf_parse(buf, (size_t)n, im);
}

Test(elf, real_busybox)
{
	struct elf_image im;
	int r = parse_file("/bin/busybox", &im);
	if (r == -1)
		cr_skip_test("no /bin/busybox");
	cr_assert_eq(r, 0);
	cr_assert(im.type == ET_EXEC || im.type == ET_DYN);
	cr_assert(!im.has_interp, "busybox-static is static");
	cr_assert_geq(im.nseg, 1);
	cr_assert_neq(im.phdr_vaddr, 0);
	cr_assert(im.entry >= im.seg[0].vaddr && im.entry < im.hi);
}

Test(elf, real_static_and_dynamic_programs)
{
	struct elf_image im;
	/* A static test program the Makefile builds, if it has been built. */
	int r = parse_file("build/tests/progs/mmap_test", &im);
	if (r != -1) {
		cr_assert_eq(r, 0);
		cr_assert(!im.has_interp);
	}
	/* Any dynamic executable: parsed fine, with its interpreter reported. */
	r = parse_file("/bin/true", &im);
	if (r == -1)
		cr_skip_test("no /bin/true");
	cr_assert_eq(r, 0);
	cr_assert(im.has_interp);
	cr_assert_eq(im.type, ET_DYN);
}

Test(elf, pt_interp_rules, .init = build)
{
	struct elf_image im;
	eh()->e_phnum = 4;
	*ph(3) = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x300, .p_filesz = 28};
	cr_assert_eq(elf_parse(img, sizeof(img), &im), 0);
	cr_assert(im.has_interp);
	cr_assert_eq(im.interp_off, 0x300);
	cr_assert_eq(im.interp_len, 28);
	ph(3)->p_filesz = 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "shorter than 2");
	ph(3)->p_filesz = LINUX_PATH_MAX + 1;
	cr_assert_eq(elf_parse(img, sizeof(img), &im), -ENOEXEC, "longer than PATH_MAX");
}

/* ---- "#!" lines (script_parse), checked against what Linux 6.x does ---- */

static struct script_line sl;

static int parse(const char *s) { return script_parse(s, strlen(s), &sl); }

Test(script, interpreter_and_argument)
{
	cr_assert_eq(parse("#!/bin/sh\necho hi\n"), 0);
	cr_assert_str_eq(sl.interp, "/bin/sh");
	cr_assert(!sl.has_arg);
	cr_assert_eq(parse("#! \t/usr/bin/env   python3 -u  \t\nprint()\n"), 0);
	cr_assert_str_eq(sl.interp, "/usr/bin/env");
	cr_assert(sl.has_arg);
	cr_assert_str_eq(sl.arg, "python3 -u", "one argument: the rest of the line, trimmed");
	cr_assert_eq(parse("#!/bin/echo\tz\n"), 0);
	cr_assert_str_eq(sl.interp, "/bin/echo");
	cr_assert_str_eq(sl.arg, "z");
	cr_assert_eq(parse("#!relative/interp\n"), 0);
	cr_assert_str_eq(sl.interp, "relative/interp");
}

Test(script, no_newline)
{
	cr_assert_eq(parse("#!/bin/echo"), 0, "the NUL padding ends the name");
	cr_assert_str_eq(sl.interp, "/bin/echo");
	cr_assert(!sl.has_arg);
	cr_assert_eq(parse("#!/bin/echo -n x"), 0);
	cr_assert_str_eq(sl.arg, "-n x");
	/* Blanks then the NUL padding: Linux passes an empty argument. */
	cr_assert_eq(parse("#!/bin/echo   "), 0);
	cr_assert(sl.has_arg);
	cr_assert_str_eq(sl.arg, "");
	/* A NUL before the newline ends the line there: no argument. */
	cr_assert_eq(script_parse("#!/bin/echo\0 x\n", 15, &sl), 0);
	cr_assert_str_eq(sl.interp, "/bin/echo");
	cr_assert(!sl.has_arg);
}

Test(script, long_lines)
{
	char buf[600];
	/* An argument cut at byte 255 of the 256 Linux reads. */
	strcpy(buf, "#!/bin/echo ");
	memset(buf + 12, 'a', 300);
	strcpy(buf + 312, "\n");
	cr_assert_eq(parse(buf), 0);
	cr_assert_str_eq(sl.interp, "/bin/echo");
	cr_assert_eq(strlen(sl.arg), 243);
	/* Blanks to the cut: no argument. */
	strcpy(buf, "#!/bin/echo");
	memset(buf + 11, ' ', 300);
	strcpy(buf + 311, "q\n");
	cr_assert_eq(parse(buf), 0);
	cr_assert(!sl.has_arg);
	/* An interpreter name the cut would truncate. */
	strcpy(buf, "#!/");
	memset(buf + 3, 'b', 300);
	strcpy(buf + 303, "\n");
	cr_assert_eq(parse(buf), -ENOEXEC);
	/* ... but a name that ends right before the cut is fine. */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "#!/");
	memset(buf + 3, 'b', 250);
	memset(buf + 253, ' ', 10);
	cr_assert_eq(parse(buf), 0);
	cr_assert_eq(strlen(sl.interp), 251);
	cr_assert(!sl.has_arg);
	/* Only the first 256 bytes count: a newline after them does not help. */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "#!/");
	memset(buf + 3, 'c', 260);
	strcpy(buf + 263, "\n");
	cr_assert_eq(script_parse(buf, 264, &sl), -ENOEXEC);
}

Test(script, not_scripts)
{
	cr_assert_eq(parse(""), -ENOEXEC);
	cr_assert_eq(parse("#"), -ENOEXEC);
	cr_assert_eq(parse("# !/bin/sh\n"), -ENOEXEC);
	cr_assert_eq(parse("#!\n"), -ENOEXEC, "no interpreter");
	cr_assert_eq(parse("#!  \t \n"), -ENOEXEC);
	/* No newline, nothing but blanks: Linux takes the NUL padding for an empty name (and exec
	 * then fails with EACCES, "" being the working directory). */
	cr_assert_eq(parse("#!   "), 0);
	cr_assert_str_eq(sl.interp, "");
	cr_assert_eq(parse("#!"), 0);
	cr_assert_str_eq(sl.interp, "");
	cr_assert_eq(parse("\x7f"
			   "ELF"),
		     -ENOEXEC);
}
