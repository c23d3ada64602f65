/* probe.c: the probe chain. Real drivers are asked first (block.c's drivers[]; on equal scores
 * the first wins: VHDX, whose identifier sits where no guest writes, before VHD, whose footer a
 * VHDX guest can write at its file's end); then this table
 * of formats thinvisor recognises but does not read, each refused with one line; only a file
 * that matches nothing is raw. Supporting a format later = adding its driver to drivers[] and
 * deleting its line here. */
#include <string.h>

#include "block/block.h"

struct known_sig {
	const char *format; /* short name, e.g. for `img check` to route a damaged VHD */
	size_t off;	    /* where the magic is in the head */
	const char *magic;
	size_t len;
	const char *why;    /* the refusal, after "PATH: " */
};

#define CONVERT "convert it with qemu-img convert -O raw"
static const struct known_sig known[] = {
	{"qcow2", 0, "QFI\xfb", 4, "qcow2 is not supported: " CONVERT},
	{"vmdk", 0, "KDMV", 4, "VMDK is not supported: " CONVERT},
	{"vmdk", 0, "COWD", 4, "VMDK is not supported: " CONVERT},
	{"vmdk", 0, "# Disk DescriptorFile", 21, "VMDK is not supported: " CONVERT},
	{"vdi", 0x40, "\x7f\x10\xda\xbe", 4, "VDI is not supported: " CONVERT},
	{"vhd", 512, "cxsparse", 8, "a dynamic VHD without a valid footer at the end of the file "
	 "(its header is intact): `thinvisor img check --repair` may help"},
	{"vhd", 0, "conectix", 8, "a VHD without a valid footer at the end of the file (a footer "
	 "copy is at offset 0): `thinvisor img check --repair` may help"},
};

const struct block_ops *block_probe_buf(const uint8_t *head, size_t hl, const uint8_t *tail,
					size_t tl, const char **known_fmt, const char **why)
{
	const struct block_ops *best = NULL;
	int best_score = 0;

	*known_fmt = *why = NULL;
	for (size_t i = 0; block_drivers[i]; i++) {
		int s = block_drivers[i]->probe(head, hl, tail, tl);

		if (s > best_score) {
			best_score = s;
			best = block_drivers[i];
		}
	}
	if (best && best != &block_raw_ops)
		return best;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known_sig *k = &known[i];

		if (hl >= k->off + k->len && !memcmp(head + k->off, k->magic, k->len)) {
			*known_fmt = k->format;
			*why = k->why;
			return NULL;
		}
	}
	return best;
}
