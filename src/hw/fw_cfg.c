/* fw_cfg.c: the firmware configuration device (fw_cfg.h); x86/bios.c attaches it with
 * --firmware bios. */
#include "hw/fw_cfg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define FW_CFG_DATA_OFF 1
#define FW_CFG_DMA_HI 4
#define FW_CFG_DMA_LO 8
#define FW_CFG_DIR_ENTRY 64 /* be32 size, be16 select, be16 reserved, name[56] */

static const char dma_signature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg {
	const struct gmem *mem;
	pthread_mutex_t lock;
	uint16_t key;	  /* selected item */
	uint32_t offset;  /* read position in it */
	uint32_t dma_hi;  /* high half of the DMA address */
	unsigned nfiles;
	char names[FW_CFG_MAX_FILES][FW_CFG_NAME_MAX];
	struct fw_cfg_item item[FW_CFG_NKEYS];
};

static int set_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
{
	uint8_t *copy;

	if (key >= FW_CFG_NKEYS || len > UINT32_MAX)
		return -EINVAL;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	free(fc->item[key].data);
	fc->item[key] = (struct fw_cfg_item){copy, (uint32_t)len};
	return 0;
}

int fw_cfg_create(const struct gmem *mem, struct fw_cfg **out)
{
	struct fw_cfg *fc = calloc(1, sizeof(*fc));
	uint8_t id[4] = {0}, dir[4] = {0};

	*out = NULL;
	if (!fc)
		return -ENOMEM;
	fc->mem = mem;
	pthread_mutex_init(&fc->lock, NULL);
	le_put(id, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA, 4);
	if (set_item(fc, FW_CFG_SIGNATURE, "QEMU", 4) || set_item(fc, FW_CFG_ID, id, 4) ||
	    set_item(fc, FW_CFG_FILE_DIR, dir, 4)) {
		fw_cfg_destroy(fc);
		return -ENOMEM;
	}
	*out = fc;
	return 0;
}

int fw_cfg_add(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
{
	int ret;

	if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	ret = set_item(fc, key, data, len);
	pthread_mutex_unlock(&fc->lock);
	return ret;
}

/* The directory: be32 count, then one entry per file in the order added. */
static int rebuild_dir(struct fw_cfg *fc)
{
	size_t len = 4 + (size_t)fc->nfiles * FW_CFG_DIR_ENTRY;
	uint8_t *dir = calloc(1, len);
	int ret;

	if (!dir)
		return -ENOMEM;
	be_put(dir, fc->nfiles, 4);
	for (unsigned i = 0; i < fc->nfiles; i++) {
		uint8_t *e = dir + 4 + (size_t)i * FW_CFG_DIR_ENTRY;

		be_put(e, fc->item[FW_CFG_FILE_FIRST + i].len, 4);
		be_put(e + 4, FW_CFG_FILE_FIRST + i, 2);
		memcpy(e + 8, fc->names[i], FW_CFG_NAME_MAX);
	}
	ret = set_item(fc, FW_CFG_FILE_DIR, dir, len);
	free(dir);
	return ret;
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len)
{
	size_t nl = strlen(name);
	int ret = 0;

	if (!nl || nl >= FW_CFG_NAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	for (unsigned i = 0; i < fc->nfiles; i++)
		if (!strcmp(fc->names[i], name))
			ret = -EEXIST;
	if (!ret && fc->nfiles == FW_CFG_MAX_FILES)
		ret = -ENOSPC;
	if (!ret)
		ret = set_item(fc, (uint16_t)(FW_CFG_FILE_FIRST + fc->nfiles), data, len);
	if (!ret) {
		memset(fc->names[fc->nfiles], 0, FW_CFG_NAME_MAX);
		memcpy(fc->names[fc->nfiles], name, nl);
		fc->nfiles++;
		ret = rebuild_dir(fc);
	}
	pthread_mutex_unlock(&fc->lock);
	return ret;
}

static void select_key(struct fw_cfg *fc, uint16_t key)
{
	fc->key = key;
	fc->offset = 0;
}

static const struct fw_cfg_item *cur(const struct fw_cfg *fc)
{
	return fc->key < FW_CFG_NKEYS ? &fc->item[fc->key] : NULL;
}

/* Run the descriptor at gpa (lock held). Returns the control word to write back. */
static uint32_t dma_run(struct fw_cfg *fc, uint64_t gpa)
{
	uint8_t d[16];
	uint32_t ctl, len;
	uint64_t dst;
	const struct fw_cfg_item *it;

	if (gmem_read(fc->mem, gpa, d, sizeof(d)))
		return FW_CFG_DMA_ERROR;
	ctl = (uint32_t)be_get(d, 4);
	len = (uint32_t)be_get(d + 4, 4);
	dst = be_get(d + 8, 8);
	if (ctl & FW_CFG_DMA_SELECT)
		select_key(fc, (uint16_t)(ctl >> 16));
	if (ctl & FW_CFG_DMA_WRITE)
		return FW_CFG_DMA_ERROR;
	it = cur(fc);
	if (ctl & FW_CFG_DMA_READ) {
		uint8_t *p = gmem_ptr(fc->mem, dst, len);
		uint32_t have = 0;

		if (!p)
			return FW_CFG_DMA_ERROR;
		if (it && it->data && fc->offset < it->len)
			have = it->len - fc->offset < len ? it->len - fc->offset : len;
		if (have)
			memcpy(p, it->data + fc->offset, have);
		memset(p + have, 0, len - have);
	}
	if (ctl & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP))
		fc->offset = len > UINT32_MAX - fc->offset ? UINT32_MAX : fc->offset + len;
	return 0;
}

static void dma_start(struct fw_cfg *fc, uint64_t gpa)
{
	uint8_t ctl[4];

	be_put(ctl, dma_run(fc, gpa), 4);
	(void)gmem_write(fc->mem, gpa, ctl, sizeof(ctl)); /* a bad descriptor address: nothing */
}

void fw_cfg_io(struct fw_cfg *fc, unsigned off, uint8_t *data, unsigned len, bool wr)
{
	pthread_mutex_lock(&fc->lock);
	if (off == 0 && wr) {
		select_key(fc, (uint16_t)le_get(data, len >= 2 ? 2 : 1));
	} else if (off == FW_CFG_DATA_OFF && !wr) {
		const struct fw_cfg_item *it = cur(fc);

		for (unsigned i = 0; i < len; i++) {
			data[i] = it && it->data && fc->offset < it->len ? it->data[fc->offset] : 0;
			if (fc->offset < UINT32_MAX)
				fc->offset++;
		}
	} else if (off >= FW_CFG_DMA_HI && off + len <= FW_CFG_NPORTS && !wr) {
		memcpy(data, dma_signature + (off - FW_CFG_DMA_HI), len);
	} else if (off == FW_CFG_DMA_HI && len == 4 && wr) {
		fc->dma_hi = (uint32_t)be_get(data, 4);
	} else if (off == FW_CFG_DMA_LO && len == 4 && wr) {
		dma_start(fc, (uint64_t)fc->dma_hi << 32 | be_get(data, 4));
		fc->dma_hi = 0;
	} else if (!wr) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&fc->lock);
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	if (!fc)
		return;
	for (unsigned i = 0; i < FW_CFG_NKEYS; i++)
		free(fc->item[i].data);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

static void fw_cfg_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	fw_cfg_io(opaque, (unsigned)off, data, len, false);
}

static void fw_cfg_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t buf[8] = {0};

	memcpy(buf, data, len < sizeof(buf) ? len : sizeof(buf));
	fw_cfg_io(opaque, (unsigned)off, buf, len < sizeof(buf) ? len : sizeof(buf), true);
}

const struct bus_ops fw_cfg_bus_ops = {.read = fw_cfg_pio_read, .write = fw_cfg_pio_write};
