/* fuzz_vhd.c: libFuzzer target over the VHD parsers (footer, dynamic header, BAT, locators)
 * and, through a memfd, the VHD driver's open and read path with the input as the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>

#include "block/block.h"
#include "block/vhd_format.h"

static void parsers(const uint8_t *d, size_t n)
{
	struct vhd_footer f;
	struct vhd_dyn_header h;
	struct err e;
	char path[512];

	if (n < VHD_FOOTER_SIZE)
		return;
	if (vhd_footer_parse(d + n - VHD_FOOTER_SIZE, &f, &e) && vhd_footer_parse(d, &f, &e))
		return;
	(void)vhd_virtual_size(&f);
	if (f.type == VHD_TYPE_FIXED || f.data_offset > n || n - f.data_offset < VHD_DYN_HEADER_SIZE)
		return;
	if (vhd_dyn_header_parse(d + f.data_offset, &f, n, &h, &e))
		return;
	for (int i = 0; i < VHD_MAX_LOCATORS; i++) {
		const struct vhd_locator *l = &h.loc[i];

		if (l->offset <= n && l->length <= n - l->offset)
			(void)!vhd_locator_decode(l->code, d + l->offset, l->length, path, sizeof(path), &e);
	}
	vhd_parent_name_decode(h.parent_name, path, sizeof(path));
	if (h.table_offset + (uint64_t)h.max_table_entries * 4 <= n) {
		uint32_t *bat = malloc((size_t)h.max_table_entries * 4 + 4);

		if (bat)
			(void)!vhd_bat_parse(d + h.table_offset, h.max_table_entries, h.block_size,
					     f.data_offset + VHD_DYN_HEADER_SIZE, n, bat, &e);
		free(bat);
	}
}

static void driver(const uint8_t *d, size_t n)
{
	struct block_open_opts o = {.flags = BLOCK_NOPARENT};
	struct block_dev *bd;
	struct err e;
	char path[64];
	uint8_t buf[4096];
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return;
	if (write(fd, d, n) == (ssize_t)n) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (block_open(path, "vhd", &o, &bd, &e) == 0) {
			uint64_t size = block_size(bd), step = size / 7 / 512 * 512 + 512;
			struct block_info info;

			block_get_info(bd, &info);
			for (uint64_t off = 0; off + sizeof(buf) <= size && off < 64 * step; off += step)
				(void)!block_read(bd, buf, sizeof(buf), off);
			block_close(bd);
		}
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	parsers(d, n);
	if (n <= (1u << 20))
		driver(d, n);
	return 0;
}
