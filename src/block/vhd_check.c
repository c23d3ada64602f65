/* vhd_check.c: consistency check and repair of a VHD (footers, copy, BAT, leaks, parent). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "block/vhd.h"

#define VHD_CHECK_PAD 4096u

static void finding(struct vhd_check_report *r, FILE *out, bool error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finding(struct vhd_check_report *r, FILE *out, bool error, const char *fmt, ...)
{
	char line[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (error && r->errors++ == 0)
		snprintf(r->first, sizeof(r->first), "%s", line);
	if (out)
		fprintf(out, "%s\n", line);
}

/* End of the last block (or of the metadata when no block is allocated). */
static uint64_t data_end(const struct vhd *v, uint64_t *used)
{
	uint64_t end = (v->meta_end + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
	uint64_t span = v->bitmap_size + (uint64_t)v->hdr.block_size;

	*used = 0;
	for (uint32_t i = 0; i < v->hdr.max_table_entries; i++) {
		uint64_t b;

		if (v->bat[i] == VHD_BAT_UNUSED)
			continue;
		b = (uint64_t)v->bat[i] * VHD_SECTOR + span;
		*used += span;
		if (b > end)
			end = b;
	}
	return end;
}

static int check_dynamic(struct block_dev *bd, struct vhd *v, bool repair,
			 struct vhd_check_report *r, FILE *out)
{
	uint8_t end_buf[VHD_FOOTER_SIZE], copy[VHD_FOOTER_SIZE];
	uint64_t used, end = data_end(v, &used), meta = (v->meta_end + 511) / 512 * 512;
	bool bad_end = v->footer_from_copy, bad_copy;
	int ret;

	vhd_footer_build(&v->footer, end_buf);
	ret = block_pread_full(&bd->io, bd->fd, copy, sizeof(copy), 0);
	if (ret)
		return ret;
	bad_copy = memcmp(copy, end_buf, sizeof(copy)) != 0;
	if (bad_end && repair && out)
		fprintf(out, "Using the footer copy at offset 0: the footer at the end of the file is "
			"missing or damaged\n");
	if (bad_end)
		finding(r, out, true, "the footer at the end of the file is missing or damaged "
			"(the copy at offset 0 was used)");
	else if (bad_copy)
		finding(r, out, true, "the footer copy at offset 0 differs from the footer at the end");
	/* Less than 4 KiB between the last block (or the metadata) and the footer is the padding
	 * writers leave to keep block data 4 KiB-aligned (Hyper-V, Windows, thinvisor; Virtual PC
	 * leaves 512 bytes), not a leak: an interrupted allocation leaves at least a whole block
	 * (for blocks under 4 KiB such a leak goes unreported). */
	if (v->footer_off >= end + VHD_CHECK_PAD) {
		r->leaked = v->footer_off - end;
		finding(r, out, false, "Leaked space: %" PRIu64 " bytes after the last block "
			"(an allocation interrupted by a crash)", r->leaked);
	}
	if (end - meta > used + v->hdr.max_table_entries * 4096ull) /* more than alignment gaps */
		finding(r, out, false, "Unused space: %" PRIu64 " bytes between blocks",
			end - meta - used);
	if (!repair || (!bad_end && !bad_copy && !r->leaked))
		return 0;
	/* Footer at its new place first, then cut the file, then the copy. */
	ret = block_pwrite_full(&bd->io, bd->fd, end_buf, sizeof(end_buf), end);
	if (!ret && ftruncate(bd->fd, (off_t)(end + VHD_FOOTER_SIZE)))
		ret = -errno;
	if (!ret && bad_copy)
		ret = block_pwrite_full(&bd->io, bd->fd, end_buf, sizeof(end_buf), 0);
	if (!ret)
		ret = bd->io.fsync(bd->fd) ? -errno : 0;
	if (ret)
		return ret;
	r->repaired += bad_end + (bad_copy && !bad_end) + (r->leaked != 0);
	if (out)
		fprintf(out, "Repaired: footer at %" PRIu64 ", file is now %" PRIu64 " bytes\n", end,
			end + VHD_FOOTER_SIZE);
	r->errors -= bad_end || bad_copy;
	r->leaked = 0;
	return 0;
}

int vhd_check(const char *path, bool repair, struct vhd_check_report *r, FILE *out,
	      struct err *e)
{
	struct block_open_opts o = {.flags = BLOCK_NOPARENT | BLOCK_FOOTER_COPY |
						(repair ? BLOCK_RDWR : 0)};
	struct block_dev *bd, *full;
	struct vhd *v;
	struct err pe;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = block_open(path, "vhd", &o, &bd, e);
	if (ret)
		return ret;
	v = bd->priv;
	if (v->footer.type == VHD_TYPE_FIXED) {
		if (v->footer_off > bd->size)
			finding(r, out, false, "%" PRIu64 " bytes of unused data before the footer",
				v->footer_off - bd->size);
	} else {
		ret = check_dynamic(bd, v, repair, r, out);
		if (ret) {
			block_close(bd);
			return errf(e, ret, "%s: %s", path, strerror(-ret));
		}
	}
	if (v->footer.type == VHD_TYPE_DIFF) {
		if (block_open(path, "vhd", NULL, &full, &pe))
			finding(r, out, true, "%s", pe.msg);
		else
			block_close(full);
	}
	block_close(bd);
	return 0;
}
