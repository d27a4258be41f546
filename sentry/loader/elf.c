/* ELF header parsing: pure checks of an executable's ELF and program headers (no I/O). */
#include "sentry/loader/loader.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "common/util.h"

_Static_assert(sizeof(Elf64_Ehdr) == 64, "Elf64_Ehdr");
_Static_assert(sizeof(Elf64_Phdr) == 56, "Elf64_Phdr");
_Static_assert(ELF_MAX_PHNUM == ELF_PHDRS_MAX_SIZE / sizeof(Elf64_Phdr), "ELF_MAX_PHNUM");

int elf_phdr_span(const void *hdr, size_t len, uint64_t *off, uint64_t *size)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, hdr, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return -ENOEXEC;
	if (eh.e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	/* Linux: the table must be non-empty and fit in one page (this also rules out
	 * PN_XNUM, the extended numbering Linux does not load). */
	uint64_t sz = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (sz == 0 || sz > ELF_PHDRS_MAX_SIZE)
		return -ENOEXEC;
	if (range_overflows(eh.e_phoff, sz))
		return -ENOEXEC;
	*off = eh.e_phoff;
	*size = sz;
	return 0;
}

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? LINUX_PROT_READ : 0) | (pf & PF_W ? LINUX_PROT_WRITE : 0) |
	       (pf & PF_X ? LINUX_PROT_EXEC : 0);
}

int elf_parse_phdrs(const void *ehdr, const void *phdrs, struct elf_image *out)
{
	Elf64_Ehdr eh;
	uint64_t phoff, phsize, phdr_from_pt_phdr = 0;
	bool have_pt_phdr = false, phdr_found = false;
	int r;

	r = elf_phdr_span(ehdr, sizeof(eh), &phoff, &phsize);
	if (r < 0)
		return r;
	memcpy(&eh, ehdr, sizeof(eh));
	memset(out, 0, sizeof(*out));
	out->type = eh.e_type;
	out->entry = eh.e_entry;
	out->phoff = eh.e_phoff;
	out->phnum = eh.e_phnum;
	out->phentsize = eh.e_phentsize;
	out->max_align = PAGE_SIZE;

	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		/* The table may be unaligned within the buffer: copy each entry. */
		memcpy(&ph, (const char *)phdrs + i * sizeof(ph), sizeof(ph));
		switch (ph.p_type) {
		case PT_LOAD: {
			if (ph.p_memsz == 0)
				continue; /* maps nothing */
			if (ph.p_filesz > ph.p_memsz)
				return -ENOEXEC;
			if (range_overflows(ph.p_offset, ph.p_filesz) ||
			    range_overflows(ph.p_vaddr, ph.p_memsz) ||
			    ph.p_vaddr + ph.p_memsz > LINUX_TASK_SIZE)
				return -ENOEXEC;
			/* A segment is mapped page by page from the file: vaddr and offset must
			 * agree modulo the page size. */
			if ((ph.p_vaddr - ph.p_offset) % PAGE_SIZE)
				return -ENOEXEC;
			/* Like Linux, p_align only steers the load bias: no congruence check, and
			 * values that are not powers of two are ignored. */
			if (ph.p_align > out->max_align && (ph.p_align & (ph.p_align - 1)) == 0)
				out->max_align = ph.p_align;
			/* Segments must ascend without overlapping (sharing a page is fine). */
			if (out->nseg) {
				const struct elf_segment *prev = &out->seg[out->nseg - 1];
				if (ph.p_vaddr < prev->vaddr + prev->memsz)
					return -ENOEXEC;
			}
			out->seg[out->nseg++] = (struct elf_segment){
			    .vaddr = ph.p_vaddr,
			    .memsz = ph.p_memsz,
			    .offset = ph.p_offset,
			    .filesz = ph.p_filesz,
			    .prot = prot_of(ph.p_flags),
			};
			/* AT_PHDR as Linux computes it: where the load maps the table. */
			if (!phdr_found && ph.p_offset <= eh.e_phoff &&
			    eh.e_phoff < ph.p_offset + ph.p_filesz) {
				out->phdr_vaddr = eh.e_phoff - ph.p_offset + ph.p_vaddr;
				phdr_found = true;
			}
			break;
		}
		case PT_INTERP:
			if (out->has_interp)
				break; /* Linux uses the first */
			if (ph.p_filesz < 2 || ph.p_filesz > LINUX_PATH_MAX ||
			    range_overflows(ph.p_offset, ph.p_filesz))
				return -ENOEXEC;
			out->has_interp = true;
			out->interp_off = ph.p_offset;
			out->interp_len = ph.p_filesz;
			break;
		case PT_GNU_STACK:
			out->exec_stack = ph.p_flags & PF_X;
			break;
		case PT_PHDR:
			have_pt_phdr = true;
			phdr_from_pt_phdr = ph.p_vaddr;
			break;
		default:
			break;
		}
	}
	if (!out->nseg)
		return -ENOEXEC;
	if (!phdr_found && have_pt_phdr)
		out->phdr_vaddr = phdr_from_pt_phdr;
	const struct elf_segment *last = &out->seg[out->nseg - 1];
	out->lo = PAGE_ALIGN_DOWN(out->seg[0].vaddr);
	out->hi = PAGE_ALIGN_UP(last->vaddr + last->memsz);
	if (out->hi < last->vaddr + last->memsz)
		return -ENOEXEC;
	return 0;
}

int elf_parse(const void *hdr, size_t len, struct elf_image *out)
{
	uint64_t off, size;
	int r = elf_phdr_span(hdr, len, &off, &size);
	if (r < 0)
		return r;
	if (off > len || size > len - off)
		return -ENOEXEC;
	return elf_parse_phdrs(hdr, (const char *)hdr + off, out);
}
