/* vhdx_check.c: `img check` for VHDX: headers, region tables, log, metadata, BAT, leaked space
 * at the end of the file, the parent chain; and --repair. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/vhdx.h"

static void finding(struct vhdx_check_report *r, FILE *out, bool error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finding(struct vhdx_check_report *r, FILE *out, bool error, const char *fmt, ...)
{
	char line[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (error && !r->errors++)
		snprintf(r->first, sizeof(r->first), "%s", line);
	if (out)
		fprintf(out, "%s%s\n", error ? "ERROR: " : "", line);
}

static int fix_region_table(struct block_dev *bd, int bad)
{
	uint8_t *buf = malloc(VHDX_RT_SIZE);
	int ret = buf ? 0 : -ENOMEM;

	if (!ret)
		ret = block_pread_full(&bd->io, bd->fd, buf, VHDX_RT_SIZE,
				       bad ? VHDX_RT1_OFF : VHDX_RT2_OFF);
	if (!ret)
		ret = block_pwrite_full(&bd->io, bd->fd, buf, VHDX_RT_SIZE,
					bad ? VHDX_RT2_OFF : VHDX_RT1_OFF);
	if (!ret && bd->io.fsync(bd->fd))
		ret = -errno;
	free(buf);
	return ret;
}

int vhdx_check(const char *path, bool repair, const struct block_io *io,
	       struct vhdx_check_report *r, FILE *out, struct err *e)
{
	struct block_open_opts o = {.flags = BLOCK_NOPARENT | BLOCK_VERIFY | (repair ? BLOCK_RDWR : 0),
				    .io = io};
	struct block_dev *bd, *full;
	struct vhdx *v;
	uint64_t end;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = block_open(path, "vhdx", &o, &bd, e);
	if (ret)
		return ret;
	v = bd->priv;
	if (v->log_replayed)
		finding(r, out, false, "Repaired: replayed %" PRIu32 " log entries into the file",
			v->log_pending), r->repaired++;
	if (v->log_mem)
		finding(r, out, true, "the log holds %" PRIu32 " entries not yet replayed (any read-write "
			"open, or --repair, replays them)", v->log_pending);
	for (int i = 0; i < 2; i++) {
		if (!v->hdr_bad[i])
			continue;
		finding(r, out, !repair, "header %d is damaged; header %d is used", i + 1, 2 - i);
		/* the damaged copy is never the current one: the update rewrites it */
		if (repair && (ret = vhdx_bump_headers(bd, false, NULL)) == 0) {
			finding(r, out, false, "Repaired: header %d rewritten", i + 1);
			r->repaired++;
		} else if (repair) {
			finding(r, out, true, "rewriting the headers: %s", strerror(-ret));
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!v->rt_bad[i])
			continue;
		finding(r, out, !repair, "region table %d is damaged; the other copy is used", i + 1);
		if (repair && (ret = fix_region_table(bd, i)) == 0) {
			finding(r, out, false, "Repaired: region table %d rewritten", i + 1);
			r->repaired++;
		} else if (repair) {
			finding(r, out, true, "rewriting region table %d: %s", i + 1, strerror(-ret));
		}
	}
	for (uint64_t b = 0; b < v->geom.data_blocks; b++) {
		uint64_t c = b / v->geom.chunk_ratio;

		if (vhdx_bat_state(v->bat[vhdx_bat_pb(&v->geom, b)]) == VHDX_PB_PARTIALLY_PRESENT &&
		    vhdx_bat_state(v->bat[vhdx_bat_sb(&v->geom, c)]) != VHDX_SB_PRESENT) {
			finding(r, out, true, "block %" PRIu64 " is partially present but chunk %" PRIu64
				" has no sector bitmap block", b, c);
			break;
		}
	}
	/* Leaked space: file beyond the last block (an allocation cut short by a crash). */
	end = (v->used_end + VHDX_MiB - 1) / VHDX_MiB * VHDX_MiB;
	if (!v->log_mem && v->file_size > end) {
		if (repair && ftruncate(bd->fd, (off_t)end) == 0 && bd->io.fsync(bd->fd) == 0) {
			finding(r, out, false, "Repaired: %" PRIu64 " bytes of leaked space at the end cut "
				"off", v->file_size - end);
			r->repaired++;
		} else {
			r->leaked = v->file_size - end;
			finding(r, out, false, "Leaked space: %" PRIu64 " bytes after the last block",
				r->leaked);
		}
	}
	if (v->meta.has_parent) {
		struct err pe;

		if (block_open(path, "vhdx", NULL, &full, &pe))
			finding(r, out, true, "%s", pe.msg);
		else
			block_close(full);
	}
	block_close(bd);
	return 0;
}
