/* Unit tests for sentry/loader/loader.c: load real and synthetic executables into an address
 * space on a fake platform and check the mappings, the initial stack and the registers. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/util.h"
#include "platform/platform.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

#define PG 4096ULL
#define TOP 0x7ffffffff000ULL

/* ---- stand-ins for the VFS: a file is a host fd ---- */
struct file {
	int fd;
	int refs;
};
struct file *file_get(struct file *f)
{
	f->refs++;
	return f;
}
void file_put(struct file *f) { f->refs--; }
int file_flags(const struct file *f) { return LINUX_O_RDONLY; }
ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off)
{
	ssize_t r = pread(f->fd, buf, n, (off_t)off);
	return r < 0 ? -errno : r;
}
int vfs_fstat(struct file *f, struct linux_stat *st)
{
	struct stat hs;
	if (fstat(f->fd, &hs) < 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->st_mode = hs.st_mode;
	st->st_uid = hs.st_uid;
	st->st_gid = hs.st_gid;
	st->st_size = hs.st_size;
	return 0;
}

/* ---- a fake platform that accepts everything ---- */
static int nas;
static struct plat_as *fake_as_create(void)
{
	nas++;
	return (struct plat_as *)malloc(1);
}
static void fake_as_release(struct plat_as *as)
{
	nas--;
	free(as);
}
static int fake_map(struct plat_as *as, uint64_t addr, uint64_t len, int prot, int fd, uint64_t off)
{
	return 0;
}
static int fake_unmap(struct plat_as *as, uint64_t addr, uint64_t len) { return 0; }
static int fake_protect(struct plat_as *as, uint64_t addr, uint64_t len, int prot) { return 0; }
static const struct platform fake_plat = {
    .name = "fake",
    .as_create = fake_as_create,
    .as_release = fake_as_release,
    .as_map = fake_map,
    .as_unmap = fake_unmap,
    .as_protect = fake_protect,
    .max_user_addr = TOP,
};

static struct task task;
static struct file file;

static void setup(void)
{
	cr_assert_eq(memfile_init(), 0);
	memset(&task, 0, sizeof(task));
	task.plat = &fake_plat;
	task.cred.ruid = task.cred.euid = task.cred.fsuid = 1000;
	task.cred.rgid = task.cred.egid = task.cred.fsgid = 100;
	task.regs.regs.cs = 0x33;
	task.regs.regs.ss = 0x2b;
	task.regs.regs.rax = 77;
	file = (struct file){.fd = -1, .refs = 1};
}
static void teardown(void)
{
	if (task.mm)
		mm_put(task.mm);
	if (file.fd >= 0)
		close(file.fd);
}

static uint64_t rd64(uint64_t addr)
{
	uint64_t v;
	cr_assert_eq(copy_in(task.mm, &v, addr, 8), 0, "read %#lx", (unsigned long)addr);
	return v;
}
static const char *rdstr(uint64_t addr)
{
	static char buf[4][128 * 1024];
	static int k;
	char *b = buf[k++ % 4];
	cr_assert_geq(copy_in_str(task.mm, b, addr, sizeof(buf[0])), 0);
	return b;
}

/* Walk the initial stack: argc, argv, envp, auxv. Returns the auxv value of type or ~0. */
static uint64_t auxv(uint64_t type)
{
	uint64_t sp = task.regs.regs.rsp;
	uint64_t argc = rd64(sp), p = sp + 8 + (argc + 1) * 8;
	while (rd64(p))
		p += 8;
	for (p += 8;; p += 16) {
		uint64_t k = rd64(p);
		if (k == type)
			return rd64(p + 8);
		if (k == LINUX_AT_NULL)
			return ~0ULL;
	}
}

static void check_stack(char *const argv[], char *const envp[], const char *path)
{
	uint64_t sp = task.regs.regs.rsp;
	cr_assert_eq(sp % 16, 0, "rsp 16-byte aligned at entry");
	uint64_t argc = rd64(sp);
	size_t i;
	for (i = 0; argv[i]; i++)
		cr_assert_str_eq(rdstr(rd64(sp + 8 + i * 8)), argv[i]);
	cr_assert_eq(argc, i);
	cr_assert_eq(rd64(sp + 8 + argc * 8), 0);
	uint64_t e = sp + 8 + (argc + 1) * 8;
	for (i = 0; envp[i]; i++)
		cr_assert_str_eq(rdstr(rd64(e + i * 8)), envp[i]);
	cr_assert_eq(rd64(e + i * 8), 0);
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_EXECFN)), path);
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_PLATFORM)), "x86_64");
	cr_assert_eq(auxv(LINUX_AT_PAGESZ), PG);
	cr_assert_eq(auxv(LINUX_AT_CLKTCK), 100);
	cr_assert_eq(auxv(LINUX_AT_UID), 1000);
	cr_assert_eq(auxv(LINUX_AT_EGID), 100);
	cr_assert_eq(auxv(LINUX_AT_SECURE), 0);
	cr_assert_eq(auxv(LINUX_AT_BASE), 0);
	cr_assert_eq(auxv(LINUX_AT_PHENT), sizeof(Elf64_Phdr));
	cr_assert_neq(auxv(LINUX_AT_HWCAP), ~0ULL);
	cr_assert_geq(auxv(LINUX_AT_MINSIGSTKSZ), LINUX_MINSIGSTKSZ);
	uint64_t rnd = auxv(LINUX_AT_RANDOM);
	cr_assert(rd64(rnd) | rd64(rnd + 8), "16 random bytes");
	cr_assert_eq(auxv(LINUX_AT_ENTRY), task.regs.regs.rip);
	/* AT_PHDR points at the program headers as mapped. */
	uint64_t phdr = auxv(LINUX_AT_PHDR), phnum = auxv(LINUX_AT_PHNUM);
	Elf64_Phdr ph;
	bool seen_load = false;
	for (uint64_t k = 0; k < phnum; k++) {
		cr_assert_eq(copy_in(task.mm, &ph, phdr + k * sizeof(ph), sizeof(ph)), 0);
		seen_load |= ph.p_type == PT_LOAD;
	}
	cr_assert(seen_load, "AT_PHDR shows the PT_LOADs");
	/* The registers: entry, stack, everything else zero but cs/ss. */
	cr_assert_eq(task.regs.regs.rax, 0);
	cr_assert_eq(task.regs.regs.cs, 0x33);
	cr_assert_eq(task.regs.regs.ss, 0x2b);
	cr_assert_eq(mm_prot_at(task.mm, sp), LINUX_PROT_READ | LINUX_PROT_WRITE);
}

Test(loader, busybox, .init = setup, .fini = teardown)
{
	file.fd = open("/bin/busybox", O_RDONLY);
	if (file.fd < 0)
		cr_skip_test("no /bin/busybox");
	char *argv[] = {"busybox", "echo", "hi there", NULL};
	char *envp[] = {"PATH=/bin", "HOME=/", NULL};
	cr_assert_eq(loader_load(&task, &file, "/bin/busybox", argv, envp), 0);
	cr_assert(task.mm);
	cr_assert_eq(task.exe_file, &file);
	cr_assert_gt(file.refs, 2, "exe_file holds a reference, the file mappings theirs");
	check_stack(argv, envp, "/bin/busybox");
	/* The entry point is mapped executable, and holds the file's bytes. */
	uint64_t rip = task.regs.regs.rip;
	cr_assert(mm_prot_at(task.mm, rip) & LINUX_PROT_EXEC);
	unsigned char ehdr[4];
	cr_assert_eq(copy_in(task.mm, ehdr, PAGE_ALIGN_DOWN(auxv(LINUX_AT_PHDR)), 4), 0);
	cr_assert_eq(memcmp(ehdr, ELFMAG, 4), 0, "the first page maps the ELF header");
	/* brk starts after the image and works. */
	long b = mm_brk(task.mm, 0);
	cr_assert_gt(b, 0x400000);
	cr_assert_eq(mm_brk(task.mm, (uint64_t)b + 100000), b + 100000);
	/* exec again: the old mm is released. */
	cr_assert_eq(nas, 1);
	char *argv2[] = {"true", NULL};
	char *envp2[] = {NULL};
	cr_assert_eq(loader_load(&task, &file, "/bin/true", argv2, envp2), 0);
	cr_assert_eq(nas, 1);
	check_stack(argv2, envp2, "/bin/true");
}

/* Write a synthetic static-pie: two segments, the second with bss sharing the last file page
 * with non-zero file bytes that must read as zero. Returns the path. */
static const char *write_pie(uint32_t mode, bool interp)
{
	static char path[] = "/tmp/runsc-c-test-pie-XXXXXX";
	static unsigned char f[3 * PG];
	strcpy(path, "/tmp/runsc-c-test-pie-XXXXXX");
	memset(f, 0xcc, sizeof(f));
	Elf64_Ehdr *e = (Elf64_Ehdr *)f;
	memset(e, 0, sizeof(*e));
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_DYN;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = 0x1100;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = interp ? 4 : 3;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + e->e_phoff);
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_X,
			     .p_offset = 0,
			     .p_vaddr = 0,
			     .p_filesz = 0x1200,
			     .p_memsz = 0x1200,
			     .p_align = PG};
	ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_W,
			     .p_offset = 0x2000,
			     .p_vaddr = 0x3000,
			     .p_filesz = 0x10,
			     .p_memsz = 0x2100,
			     .p_align = PG};
	ph[2] = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
	if (interp) {
		ph[3] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x2800, .p_filesz = 11};
		memcpy(f + 0x2800, "/lib/ld.so", 11);
	}
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
	fchmod(fd, mode);
	close(fd);
	return path;
}

Test(loader, static_pie_bias_and_bss, .init = setup, .fini = teardown)
{
	const char *path = write_pie(0755, false);
	file.fd = open(path, O_RDONLY);
	unlink(path);
	char *argv[] = {"pie", NULL};
	char *envp[] = {NULL};
	cr_assert_eq(loader_load(&task, &file, "./pie", argv, envp), 0);
	check_stack(argv, envp, "./pie");
	uint64_t bias = task.regs.regs.rip - 0x1100;
	cr_assert_eq(bias % PG, 0);
	cr_assert_eq(bias, 0x555555554000ULL, "Linux's ELF_ET_DYN_BASE");
	cr_assert_eq(auxv(LINUX_AT_PHDR), bias + 64);
	cr_assert_eq(mm_prot_at(task.mm, bias), LINUX_PROT_READ | LINUX_PROT_EXEC);
	/* Text: file bytes. The tail of its last page past p_filesz is file content (Linux maps
	 * whole pages and only zeroes after a bss). */
	unsigned char c;
	cr_assert_eq(copy_in(task.mm, &c, bias + 0x11ff, 1), 0);
	cr_assert_eq(c, 0xcc);
	cr_assert_eq(copy_in(task.mm, &c, bias + 0x1200, 1), 0);
	cr_assert_eq(c, 0xcc);
	/* Data: 16 file bytes, then zeros to the end of memsz. */
	cr_assert_eq(copy_in(task.mm, &c, bias + 0x300f, 1), 0);
	cr_assert_eq(c, 0xcc);
	for (uint64_t a = bias + 0x3010; a < bias + 0x5100; a += 0x7f) {
		cr_assert_eq(copy_in(task.mm, &c, a, 1), 0);
		cr_assert_eq(c, 0, "bss byte at +%#lx", (unsigned long)(a - bias));
	}
	cr_assert_eq(mm_prot_at(task.mm, bias + 0x5000), LINUX_PROT_READ | LINUX_PROT_WRITE);
	cr_assert_eq(mm_prot_at(task.mm, bias + 0x6000), -EFAULT);
	cr_assert_eq(mm_brk(task.mm, 0), (long)(bias + 0x6000));
}

Test(loader, refusals, .init = setup, .fini = teardown)
{
	char *argv[] = {"x", NULL};
	char *envp[] = {NULL};
	/* No execute permission for uid 1000 (not the owner; mode 0744). */
	const char *path = write_pie(0744, false);
	file.fd = open(path, O_RDONLY);
	unlink(path);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -EACCES);
	task.cred.fsuid = 0;
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), 0, "root: any x bit");
	mm_put(task.mm);
	task.mm = NULL;
	file_put(task.exe_file);
	task.exe_file = NULL;
	task.cred.fsuid = 1000;
	task.regs.regs.rax = 77;
	close(file.fd);
	/* Dynamic executables: the next issue. */
	path = write_pie(0755, true);
	file.fd = open(path, O_RDONLY);
	unlink(path);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOEXEC);
	close(file.fd);
	/* A directory. */
	file.fd = open("/tmp", O_RDONLY);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -EACCES);
	close(file.fd);
	/* Not ELF, empty, truncated. */
	char tpath[] = "/tmp/runsc-c-test-bad-XXXXXX";
	file.fd = mkstemp(tpath);
	unlink(tpath);
	fchmod(file.fd, 0755);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOEXEC, "empty");
	cr_assert_eq(write(file.fd, "#!/bin/sh\necho\n", 15), 15);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOEXEC, "script");
	cr_assert_eq(ftruncate(file.fd, 0), 0);
	int busy = open("/bin/busybox", O_RDONLY);
	if (busy >= 0) {
		char head[100];
		cr_assert_eq(read(busy, head, sizeof(head)), (ssize_t)sizeof(head));
		close(busy);
		cr_assert_eq(pwrite(file.fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
		cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOEXEC, "truncated");
	}
	cr_assert_eq(task.mm, NULL, "t unchanged on failure");
	cr_assert_eq(task.exe_file, NULL);
	cr_assert_eq(nas, 0, "no address space leaked");
	cr_assert_eq(task.regs.regs.rax, 77);
}

Test(loader, argument_limits, .init = setup, .fini = teardown)
{
	file.fd = open("/bin/busybox", O_RDONLY);
	if (file.fd < 0)
		cr_skip_test("no /bin/busybox");
	char *big = malloc(200 * 1024);
	memset(big, 'a', 200 * 1024 - 1);
	big[200 * 1024 - 1] = 0;
	char *argv[] = {"busybox", big, NULL};
	char *envp[] = {NULL};
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -E2BIG, "one string > 128 KiB");
	big[100 * 1024] = 0;
	char *many[32];
	for (int i = 0; i < 31; i++)
		many[i] = big;
	many[31] = NULL;
	cr_assert_eq(loader_load(&task, &file, "x", many, envp), -E2BIG, "total > 2 MiB");
	many[10] = NULL;
	cr_assert_eq(loader_load(&task, &file, "x", many, envp), 0, "1 MiB is fine");
	check_stack(many, envp, "x");
	free(big);
}
