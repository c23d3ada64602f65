/* boot.c: probe the kernel image by its contents and hand it to its protocol's loader.
 * Probe order: bzImage ("HdrS"), Multiboot header (so a Multiboot ELF is Multiboot), ELF with
 * a PVH entry note. */
#include "x86/boot.h"

#include <errno.h>

#include "x86/boot_common.h"

const char *boot_kind_name(enum boot_kind k)
{
	switch (k) {
	case BOOT_BZIMAGE64:
		return "Linux bzImage (64-bit boot protocol)";
	case BOOT_BZIMAGE32:
		return "Linux bzImage (32-bit boot protocol)";
	case BOOT_PVH:
		return "ELF kernel (PVH entry)";
	case BOOT_MULTIBOOT:
		return "Multiboot kernel";
	}
	return "unknown kernel kind";
}

int boot_load(struct gmem *m, const struct boot_config *bc, struct boot_entry *out, struct err *e)
{
	struct boot_elf elf;
	uint64_t entry;
	long mb;
	int ret;

	if (!bc->kernel || bc->kernel_len == 0)
		return errf(e, -ENOEXEC, "kernel image is empty");
	if (!bc->cmdline)
		return errf(e, -EINVAL, "no command line (pass \"\" for none)");
	if (!bc->initrd && bc->initrd_len)
		return errf(e, -EINVAL, "initrd length %zu given without data", bc->initrd_len);
	if (boot_linux_probe(bc->kernel, bc->kernel_len))
		return boot_linux_load(m, bc, out, e);
	mb = boot_multiboot_find(bc->kernel, bc->kernel_len);
	if (mb >= 0)
		return boot_multiboot_load(m, bc, (size_t)mb, out, e);
	if (!boot_elf_magic(bc->kernel, bc->kernel_len))
		return errf(e, -ENOEXEC, "not a Linux bzImage, ELF (PVH) or Multiboot kernel");
	ret = boot_elf_open(&elf, bc->kernel, bc->kernel_len, e);
	if (ret < 0)
		return ret;
	ret = boot_elf_pvh_entry(&elf, &entry, e);
	if (ret == -ENOENT)
		return errf(e, -ENOEXEC,
			    "ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
	if (ret < 0)
		return ret;
	return boot_pvh_load(m, bc, &elf, entry, out, e);
}
