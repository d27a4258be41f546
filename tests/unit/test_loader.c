/* Unit tests for sentry/loader/loader.c: load real and synthetic executables into an address
 * space on a fake platform and check the mappings, the initial stack and the registers. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "common/util.h"
#include "platform/platform.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/vdso.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

#define PG 4096ULL
#define TOP 0x7ffffffff000ULL

/* ---- stand-ins for the VFS: a file is a host fd; paths are host paths ---- */
struct file {
	int fd;
	int refs;
	bool heap; /* opened by vfs_openat below: freed with its last reference */
};
static int nfiles; /* heap files alive */
struct file *file_get(struct file *f)
{
	f->refs++;
	return f;
}
void file_put(struct file *f)
{
	if (--f->refs == 0 && f->heap) {
		close(f->fd);
		free(f);
		nfiles--;
	}
}
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
static struct file *wrap(int fd)
{
	struct file *f = calloc(1, sizeof(*f));
	f->fd = fd;
	f->refs = 1;
	f->heap = true;
	nfiles++;
	return f;
}
long vfs_openat(struct task *t, int dirfd, const char *path, int flags, int mode, struct file **out)
{
	cr_assert_eq(flags & ~LINUX_O_NOFOLLOW, LINUX_O_RDONLY);
	int fd = openat(dirfd == LINUX_AT_FDCWD ? AT_FDCWD : dirfd, path,
			O_RDONLY | O_CLOEXEC | (flags & LINUX_O_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	*out = wrap(fd);
	return 0;
}
/* The task's fd table: guest fd n is host fd n. */
struct file *fdtable_get(struct fdtable *fdt, int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	return d < 0 ? NULL : wrap(d);
}

/* Close-on-exec of guest fd n is the host's flag of fd n. */
int fdtable_get_cloexec(struct fdtable *fdt, int fd)
{
	int r = fcntl(fd, F_GETFD);
	return r < 0 ? -EBADF : !!(r & FD_CLOEXEC);
}
/* file_path of a wrapped host fd: unused by these tests (no O_PATH files). */
long file_path(struct file *f, char *buf, size_t size) { return -ENOENT; }
/* No vDSO here (the real one maps a tmpfs file this stand-in VFS has not got): no
 * AT_SYSINFO_EHDR, as with a host TSC the Sentry cannot use. */
int vdso_map(struct mm *mm, uint64_t *base)
{
	*base = 0;
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
	nfiles = 0;
}
static void teardown(void)
{
	if (task.mm)
		mm_put(task.mm);
	if (task.exe_file)
		file_put(task.exe_file);
	cr_assert_eq(nfiles, 0, "every file opened was put");
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
	/* The new mm is not active until its thread activates it; exec again: the old mm (now
	 * active) is released. */
	cr_assert_eq(nas, 0);
	cr_assert_eq(mm_activate(task.mm), 0);
	cr_assert_eq(nas, 1);
	char *argv2[] = {"true", NULL};
	char *envp2[] = {NULL};
	cr_assert_eq(loader_load(&task, &file, "/bin/true", argv2, envp2), 0);
	cr_assert_eq(nas, 0);
	check_stack(argv2, envp2, "/bin/true");
}

/* Write a synthetic PIE at path: two segments, the second with bss sharing the last file page
 * with non-zero file bytes that must read as zero; a PT_INTERP of interp_len bytes of interp
 * unless interp is NULL. */
static void write_pie_at(const char *path, uint32_t mode, const char *interp, size_t interp_len)
{
	static unsigned char f[3 * PG];
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
		ph[3] =
		    (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x2800, .p_filesz = interp_len};
		memcpy(f + 0x2800, interp, interp_len);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
	fchmod(fd, mode);
	close(fd);
}

/* The same at a fresh temporary path, with "/lib/ld.so" as interpreter when interp. */
static const char *write_pie(uint32_t mode, bool interp)
{
	static char path[] = "/tmp/runsc-c-test-pie-XXXXXX";
	strcpy(path, "/tmp/runsc-c-test-pie-XXXXXX");
	close(mkstemp(path));
	write_pie_at(path, mode, interp ? "/lib/ld.so" : NULL, 11);
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
	/* A dynamic executable whose interpreter does not exist. */
	path = write_pie(0755, true);
	file.fd = open(path, O_RDONLY);
	unlink(path);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOENT);
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
	cr_assert_eq(write(file.fd, "#!\n", 3), 3);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOEXEC, "script without name");
	cr_assert_eq(pwrite(file.fd, "#!/nonexistent\n", 15, 0), 15);
	cr_assert_eq(loader_load(&task, &file, "x", argv, envp), -ENOENT, "missing interpreter");
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

/* ---- dynamic executables ---- */

static char dir[64];
static char names[64][128];
static int nnames;

static void setup_dir(void)
{
	setup();
	nnames = 0;
	strcpy(dir, "/tmp/runsc-c-test-exec-XXXXXX");
	cr_assert(mkdtemp(dir));
}
static void teardown_dir(void)
{
	teardown();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* dir/name, valid for the rest of the test. */
static const char *in_dir(const char *name)
{
	cr_assert_lt(nnames, 64);
	char *b = names[nnames++];
	snprintf(b, sizeof(names[0]), "%s/%s", dir, name);
	return b;
}

/* A synthetic ELF interpreter: ET_DYN, text at 0 (entry 0x800), data at 0x5000, a gap between
 * them that must stay unmapped. */
static void write_interp(const char *path, uint32_t mode)
{
	static unsigned char f[2 * PG];
	memset(f, 0x90, sizeof(f));
	Elf64_Ehdr *e = (Elf64_Ehdr *)f;
	memset(e, 0, sizeof(*e));
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_DYN;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = 0x800;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + e->e_phoff);
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_X,
			     .p_filesz = 0x1000,
			     .p_memsz = 0x1000,
			     .p_align = PG};
	ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_W,
			     .p_offset = 0x1000,
			     .p_vaddr = 0x5000,
			     .p_filesz = 0x100,
			     .p_memsz = 0x1000,
			     .p_align = PG};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
	fchmod(fd, mode);
	close(fd);
}

static void write_text(const char *path, const char *text, uint32_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

/* Forget the image the last load gave the task. */
static void unload(void)
{
	mm_put(task.mm);
	task.mm = NULL;
	file_put(task.exe_file);
	task.exe_file = NULL;
}

/* argv on the new stack equals want. */
static void check_argv(char *const want[])
{
	uint64_t sp = task.regs.regs.rsp;
	size_t i;
	for (i = 0; want[i]; i++)
		cr_assert_str_eq(rdstr(rd64(sp + 8 + i * 8)), want[i], "argv[%zu]", i);
	cr_assert_eq(rd64(sp), i, "argc");
}

/* Is task.exe_file the host file at path? */
static bool exe_is(const char *path)
{
	struct stat a, b;
	cr_assert_eq(fstat(task.exe_file->fd, &a), 0);
	cr_assert_eq(stat(path, &b), 0);
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

Test(loader, pt_interp, .init = setup_dir, .fini = teardown_dir)
{
	const char *interp = in_dir("ld.so"), *prog = in_dir("prog");
	write_interp(interp, 0755);
	write_pie_at(prog, 0755, interp, strlen(interp) + 1);
	char *argv[] = {"prog", "arg", NULL};
	char *envp[] = {"A=1", NULL};
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, argv, envp, 0), 0);
	cr_assert_eq(mm_plat_as(task.mm), NULL, "the caller activates the new mm");
	uint64_t base = auxv(LINUX_AT_BASE);
	cr_assert_neq(base, 0);
	cr_assert_eq(base % PG, 0);
	cr_assert_leq(base + 0x6000, mm_mmap_base(task.mm), "placed by mmap, top-down");
	cr_assert_eq(task.regs.regs.rip, base + 0x800, "the interpreter runs first");
	cr_assert_eq(auxv(LINUX_AT_ENTRY), 0x555555554000ULL + 0x1100, "the program's entry");
	cr_assert_eq(auxv(LINUX_AT_PHDR), 0x555555554000ULL + 64, "the program's headers");
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_EXECFN)), prog);
	check_argv(argv);
	cr_assert(exe_is(prog), "/proc/self/exe is the program, not ld.so");
	cr_assert_eq(mm_prot_at(task.mm, base), LINUX_PROT_READ | LINUX_PROT_EXEC);
	cr_assert_eq(mm_prot_at(task.mm, base + 0x1000), -EFAULT, "the gap is not mapped");
	cr_assert_eq(mm_prot_at(task.mm, base + 0x4fff), -EFAULT);
	cr_assert_eq(mm_prot_at(task.mm, base + 0x5000), LINUX_PROT_READ | LINUX_PROT_WRITE);
	cr_assert_eq(mm_prot_at(task.mm, base + 0x6000), -EFAULT);
	cr_assert_eq(mm_prot_at(task.mm, base - PG), -EFAULT, "no reservation left below");
	unsigned char m[4];
	cr_assert_eq(copy_in(task.mm, m, base, 4), 0);
	cr_assert_eq(memcmp(m, ELFMAG, 4), 0);
	cr_assert_eq(mm_brk(task.mm, 0), (long)(0x555555554000ULL + 0x6000),
		     "brk after the program");
	unload();

	/* What an interpreter must be. */
	write_interp(interp, 0644);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, argv, envp, 0), -EACCES);
	write_text(interp, "#!/bin/sh\n", 0755);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, argv, envp, 0), -ELIBBAD);
	write_pie_at(prog, 0755, dir, strlen(dir) + 1);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, argv, envp, 0), -EACCES,
		     "a directory");
	write_interp(interp, 0755);
	write_pie_at(prog, 0755, interp, strlen(interp));
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, argv, envp, 0), -ENOEXEC,
		     "PT_INTERP without its NUL");
	cr_assert_eq(task.mm, NULL);
	cr_assert_eq(nas, 0);
}

Test(loader, real_dynamic_program, .init = setup, .fini = teardown)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	Elf64_Ehdr eh;
	int fd = open("/bin/true", O_RDONLY);
	if (fd < 0)
		cr_skip_test("no /bin/true");
	cr_assert_eq(read(fd, &eh, sizeof(eh)), (ssize_t)sizeof(eh));
	close(fd);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, "/bin/true", argv, envp, 0), 0);
	uint64_t base = auxv(LINUX_AT_BASE);
	cr_assert_neq(base, 0, "ld.so loaded");
	cr_assert(mm_prot_at(task.mm, task.regs.regs.rip) & LINUX_PROT_EXEC);
	cr_assert_geq(task.regs.regs.rip, base);
	uint64_t bias = eh.e_type == ET_DYN ? 0x555555554000ULL : 0;
	cr_assert_eq(auxv(LINUX_AT_ENTRY), eh.e_entry + bias);
	cr_assert(exe_is("/bin/true"));
	check_argv(argv);
	unsigned char m[4];
	cr_assert_eq(copy_in(task.mm, m, base, 4), 0);
	cr_assert_eq(memcmp(m, ELFMAG, 4), 0);
}

/* ---- scripts ---- */

Test(loader, scripts_rewrite_argv, .init = setup_dir, .fini = teardown_dir)
{
	const char *prog = in_dir("prog"), *s0 = in_dir("s0"), *s1 = in_dir("s1");
	char line[256];
	write_pie_at(prog, 0755, NULL, 0);
	snprintf(line, sizeof(line), "#! %s  -x  y \nbody\n", prog);
	write_text(s0, line, 0755);
	snprintf(line, sizeof(line), "#!%s\n", s0);
	write_text(s1, line, 0755);
	char *argv[] = {"name", "a1", "a2", NULL};
	char *envp[] = {NULL};

	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s0, argv, envp, 0), 0);
	char *want0[] = {(char *)prog, "-x  y", (char *)s0, "a1", "a2", NULL};
	check_argv(want0);
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_EXECFN)), s0, "AT_EXECFN: the path as given");
	cr_assert(exe_is(prog), "/proc/self/exe: the binary that runs");
	unload();

	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s1, argv, envp, 0), 0);
	char *want1[] = {(char *)prog, "-x  y", (char *)s0, (char *)s1, "a1", "a2", NULL};
	check_argv(want1);
	unload();

	/* An empty argv: Linux makes it {""}, then the script drops it. */
	char *none[] = {NULL};
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s1, none, envp, 0), 0);
	char *want2[] = {(char *)prog, "-x  y", (char *)s0, (char *)s1, NULL};
	check_argv(want2);
	unload();
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, prog, NULL, NULL, 0), 0);
	char *want3[] = {"", NULL};
	check_argv(want3);
	unload();

	/* Through a directory fd: the name is its /dev/fd path. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	char fdname[64];
	cr_assert_eq(loader_exec(&task, dfd, "s0", argv, envp, 0), 0);
	snprintf(fdname, sizeof(fdname), "/dev/fd/%d/s0", dfd);
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_EXECFN)), fdname);
	char *want4[] = {(char *)prog, "-x  y", fdname, "a1", "a2", NULL};
	check_argv(want4);
	unload();
	close(dfd);
	int pfd = open(prog, O_RDONLY);
	cr_assert_eq(loader_exec(&task, pfd, "", argv, envp, 0), -ENOENT, "needs AT_EMPTY_PATH");
	cr_assert_eq(loader_exec(&task, pfd, "", argv, envp, LINUX_AT_EMPTY_PATH), 0);
	snprintf(fdname, sizeof(fdname), "/dev/fd/%d", pfd);
	cr_assert_str_eq(rdstr(auxv(LINUX_AT_EXECFN)), fdname);
	unload();
	close(pfd);

	/* Symlinks, flags, missing files. */
	task.regs.regs.rax = 77;
	cr_assert_eq(symlink(s0, in_dir("link")), 0);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("link"), argv, envp, 0), 0);
	unload();
	task.regs.regs.rax = 77;
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("link"), argv, envp,
				 LINUX_AT_SYMLINK_NOFOLLOW),
		     -ELOOP);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s0, argv, envp, 0x8), -EINVAL);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("none"), argv, envp, 0), -ENOENT);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, dir, argv, envp, 0), -EACCES);
	/* The interpreter is checked like the script: executable, regular. */
	chmod(prog, 0644);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s0, argv, envp, 0), -EACCES);
	chmod(prog, 0755);
	chmod(s0, 0644);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s1, argv, envp, 0), -EACCES);
	/* "#!" and blanks without a newline: the empty name is the working directory. */
	write_text(s0, "#!  ", 0755);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s0, argv, envp, 0), -EACCES);
	write_text(s0, "#!\n", 0755);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s0, argv, envp, 0), -ENOEXEC);
	cr_assert_eq(task.mm, NULL, "untouched by every failure");
	cr_assert_eq(task.regs.regs.rax, 77);
}

Test(loader, nested_scripts_and_eloop, .init = setup_dir, .fini = teardown_dir)
{
	char line[256], name[16];
	const char *prog = in_dir("prog");
	write_pie_at(prog, 0755, NULL, 0);
	/* s0 -> prog, s1 -> s0, ... */
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "s%d", i - 1);
		snprintf(line, sizeof(line), "#!%s\n", i ? in_dir(name) : prog);
		snprintf(name, sizeof(name), "s%d", i);
		write_text(in_dir(name), line, 0755);
	}
	char *argv[] = {"x", NULL};
	char *envp[] = {NULL};
	/* Five scripts before the binary run, as on Linux; a sixth is ELOOP. */
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("s4"), argv, envp, 0), 0);
	cr_assert_eq(rd64(task.regs.regs.rsp), 6, "prog s0 s1 s2 s3 s4");
	cr_assert_str_eq(rdstr(rd64(task.regs.regs.rsp + 8)), prog);
	cr_assert_str_eq(rdstr(rd64(task.regs.regs.rsp + 16)), in_dir("s0"));
	cr_assert_str_eq(rdstr(rd64(task.regs.regs.rsp + 48)), in_dir("s4"));
	unload();
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("s5"), argv, envp, 0), -ELOOP);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("s6"), argv, envp, 0), -ELOOP);
	/* A script that names itself. */
	snprintf(line, sizeof(line), "#!%s\n", in_dir("self"));
	write_text(in_dir("self"), line, 0755);
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, in_dir("self"), argv, envp, 0), -ELOOP);
}

Test(loader, script_arguments_count_against_the_limit, .init = setup_dir, .fini = teardown_dir)
{
	const char *prog = in_dir("p"), *s = in_dir("s");
	char line[64];
	write_pie_at(prog, 0755, NULL, 0);
	snprintf(line, sizeof(line), "#!%s\n", prog);
	write_text(s, line, 0755);
	/* Fill the limit exactly for the binary: the script's extra strings overflow it. */
	size_t fixed = strlen(s) + 1 + 2 * 8 + 2; /* file name, argv[0] "a" with its pointer */
	size_t len = LOADER_ARG_MAX - fixed - 8;
	char *big = malloc(len + 1);
	memset(big, 'e', len);
	big[len] = 0;
	/* One environment string per 100 KiB (MM_ARG_STRLEN is 128 KiB). */
	size_t n = len / 100000 + 1, each = len / n;
	char **envp = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		envp[i] = big + i * each;
		big[(i + 1) * each - 1] = 0;
	}
	char *argv[] = {"a", NULL};
	cr_assert_eq(loader_exec(&task, LINUX_AT_FDCWD, s, argv, envp, 0), -E2BIG);
	free(envp);
	free(big);
}
