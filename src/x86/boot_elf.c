/* boot_elf.c: reading a little-endian x86 ELF kernel (32- or 64-bit) from a buffer: header and
 * program header checks, PT_LOAD loading at physical addresses, and the PVH entry note. */
#include "x86/boot_common.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define NOTE_HDR 12

bool boot_elf_magic(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

int boot_elf_open(struct boot_elf *elf, const uint8_t *buf, size_t len, struct err *e)
{
	size_t need = EI_NIDENT;
	unsigned machine, type, min_phent;
	uint64_t avail;

	memset(elf, 0, sizeof(*elf));
	if (len >= EI_NIDENT) {
		if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
			return errf(e, -ENOEXEC, "ELF kernel has unknown class %u", buf[EI_CLASS]);
		elf->is64 = buf[EI_CLASS] == ELFCLASS64;
		need = elf->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	}
	if (len < need)
		return errf(e, -ENOEXEC, "truncated ELF header: needs %zu bytes, file has %zu",
			    need, len);
	if (buf[EI_DATA] != ELFDATA2LSB)
		return errf(e, -ENOEXEC, "ELF kernel is not little-endian");
	machine = boot_le16(buf, 18);
	if (machine != EM_386 && machine != EM_X86_64)
		return errf(e, -ENOEXEC, "ELF kernel is for machine %u, not x86", machine);
	type = boot_le16(buf, 16);
	if (type != ET_EXEC && type != ET_DYN)
		return errf(e, -ENOEXEC, "ELF kernel is not an executable (e_type %u)", type);
	elf->buf = buf;
	elf->len = len;
	if (elf->is64) {
		elf->entry = boot_le64(buf, 24);
		elf->phoff = boot_le64(buf, 32);
		elf->phentsize = boot_le16(buf, 54);
		elf->phnum = boot_le16(buf, 56);
		min_phent = sizeof(Elf64_Phdr);
	} else {
		elf->entry = boot_le32(buf, 24);
		elf->phoff = boot_le32(buf, 28);
		elf->phentsize = boot_le16(buf, 42);
		elf->phnum = boot_le16(buf, 44);
		min_phent = sizeof(Elf32_Phdr);
	}
	if (elf->phnum == 0 || elf->phnum == PN_XNUM)
		return errf(e, -ENOEXEC,
			    "ELF kernel has no usable program header table (e_phnum %u)",
			    elf->phnum);
	if (elf->phentsize < min_phent)
		return errf(e, -ENOEXEC, "ELF program header size %u is below %u", elf->phentsize,
			    min_phent);
	avail = elf->phoff <= len ? (len - elf->phoff) / elf->phentsize : 0;
	if (elf->phnum > avail)
		return errf(e, -ENOEXEC, "ELF program header %llu lies outside the file",
			    (unsigned long long)avail);
	return 0;
}

void boot_elf_phdr(const struct boot_elf *elf, unsigned i, struct boot_phdr *ph)
{
	const uint8_t *p = elf->buf + elf->phoff + (uint64_t)i * elf->phentsize;

	ph->type = boot_le32(p, 0);
	if (elf->is64) {
		ph->offset = boot_le64(p, 8);
		ph->vaddr = boot_le64(p, 16);
		ph->paddr = boot_le64(p, 24);
		ph->filesz = boot_le64(p, 32);
		ph->memsz = boot_le64(p, 40);
		ph->align = boot_le64(p, 48);
	} else {
		ph->offset = boot_le32(p, 4);
		ph->vaddr = boot_le32(p, 8);
		ph->paddr = boot_le32(p, 12);
		ph->filesz = boot_le32(p, 16);
		ph->memsz = boot_le32(p, 20);
		ph->align = boot_le32(p, 28);
	}
}

static int check_in_file(const struct boot_elf *elf, unsigned i, const struct boot_phdr *ph,
			 struct err *e)
{
	if (ph->offset > elf->len || ph->filesz > elf->len - ph->offset)
		return errf(e, -ENOEXEC,
			    "ELF segment %u (file bytes 0x%llx+0x%llx) lies outside "
			    "the file",
			    i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz);
	return 0;
}

int boot_elf_load(struct gmem *m, const struct boot_elf *elf, uint64_t *end, uint64_t *entry_pa,
		  struct err *e)
{
	struct boot_phdr ph;
	unsigned loaded = 0;
	bool entry_found = false;
	char what[32];
	int ret;

	*end = 0;
	*entry_pa = elf->entry;
	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type != PT_LOAD)
			continue;
		ret = check_in_file(elf, i, &ph, e);
		if (ret < 0)
			return ret;
		if (ph.filesz > ph.memsz)
			return errf(e, -ENOEXEC,
				    "ELF segment %u has p_filesz 0x%llx above p_memsz "
				    "0x%llx",
				    i, (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
		if (ph.memsz == 0)
			continue;
		snprintf(what, sizeof(what), "ELF segment %u", i);
		ret = boot_load_range(m, ph.paddr, elf->buf + ph.offset, ph.filesz, ph.memsz, what,
				      e);
		if (ret < 0)
			return ret;
		loaded++;
		if (ph.paddr + ph.memsz > *end)
			*end = ph.paddr + ph.memsz;
		if (!entry_found && elf->entry >= ph.vaddr && elf->entry - ph.vaddr < ph.memsz) {
			*entry_pa = elf->entry - ph.vaddr + ph.paddr;
			entry_found = true;
		}
	}
	if (loaded == 0)
		return errf(e, -ENOEXEC, "ELF kernel has no loadable segment");
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return v > UINT64_MAX - (a - 1) ? UINT64_MAX : (v + a - 1) & ~(a - 1);
}

/* Scan one PT_NOTE segment [start, start+size) of the file for the PVH entry note. */
static int scan_notes(const struct boot_elf *elf, unsigned seg, uint64_t start, uint64_t size,
		      uint64_t align, uint64_t *entry, struct err *e)
{
	const uint8_t *b = elf->buf + start;
	uint64_t p = 0, namesz, descsz, type, desc;

	while (size - p >= NOTE_HDR) {
		namesz = boot_le32(b, p);
		descsz = boot_le32(b, p + 4);
		type = boot_le32(b, p + 8);
		p += NOTE_HDR;
		if (namesz > size - p)
			goto truncated;
		desc = align_up(p + namesz, align);
		if (desc > size || descsz > size - desc)
			goto truncated;
		if (namesz == 4 && memcmp(b + p, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			if (descsz == 4)
				*entry = boot_le32(b, desc);
			else if (descsz == 8)
				*entry = boot_le64(b, desc);
			else
				return errf(e, -ENOEXEC,
					    "Xen PVH entry note has a %llu-byte "
					    "address",
					    (unsigned long long)descsz);
			return 0;
		}
		p = align_up(desc + descsz, align);
		if (p >= size)
			break;
	}
	return -ENOENT;

truncated:
	return errf(e, -ENOEXEC, "ELF note in segment %u is truncated", seg);
}

int boot_elf_pvh_entry(const struct boot_elf *elf, uint64_t *entry, struct err *e)
{
	struct boot_phdr ph;
	int ret;

	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type != PT_NOTE)
			continue;
		ret = check_in_file(elf, i, &ph, e);
		if (ret < 0)
			return ret;
		ret = scan_notes(elf, i, ph.offset, ph.filesz, ph.align == 8 ? 8 : 4, entry, e);
		if (ret != -ENOENT)
			return ret;
	}
	return -ENOENT;
}
