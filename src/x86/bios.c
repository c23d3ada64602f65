/* bios.c: the BIOS boot path (bios.h). Memory slots 0-2 are RAM (below the shadow window,
 * above 4 GiB, from 1 MiB), 3-15 the shadow window's PAM segments, 16 the image at the top of
 * the 4 GiB space. A segment whose PAM nibble enables reads maps RAM (read-only unless writes
 * are enabled too); one without maps the image's copy (0xE0000-0xFFFFF) or nothing. Accesses
 * that reach the monitor (writes to a read-only mapping, anything while a slot is being
 * replaced) are emulated by shadow_access with the same rules. */
#include "x86/bios.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hw/fw_cfg.h"
#include "hw/pci.h"
#include "util/bytes.h"
#include "util/file.h"
#include "util/log.h"
#include "vm/vm.h"
#include "x86/acpi.h"
#include "x86/acpi_loader.h"
#include "x86/platform.h"
#include "x86/smbios.h"

#define SLOT_LOW 0
#define SLOT_HIGH 1
#define SLOT_LOW2 2
#define SLOT_SEG0 3
#define NSEG 13 /* 0xF0000 (64 KiB), then twelve 16 KiB segments from 0xC0000 */
#define SLOT_ROM (SLOT_SEG0 + NSEG)
#define SHADOW_END 0x100000ULL
#define PAM_RE 0x1
#define PAM_WE 0x2
#define KVM_TSS_AREA 0xfffbc000ULL /* vm.c's identity map page and TSS: reserved */
#define KVM_TSS_AREA_LEN 0x4000ULL

enum seg_map { SEG_NONE, SEG_ROM, SEG_RAM_RO, SEG_RAM_RW };

struct bios {
	struct vm *vm;
	uint8_t *img; /* page-aligned copy of the image */
	size_t len;
	pthread_mutex_t lock;
	uint8_t pam[BIOS_NPAM];
	enum seg_map map[NSEG];
};

static uint64_t seg_base(unsigned i)
{
	return i ? PLAT_SHADOW_START + (i - 1) * 0x4000ULL : 0xf0000;
}
static uint64_t seg_len(unsigned i) { return i ? 0x4000 : 0x10000; }

/* The PAM nibble (RE, WE) of segment i. */
static unsigned seg_pam(const uint8_t *pam, unsigned i)
{
	if (!i)
		return pam[0] >> 4;
	return (pam[1 + (i - 1) / 2] >> ((i - 1) % 2 ? 4 : 0)) & 0xf;
}

static unsigned seg_of(uint64_t gpa)
{
	return gpa >= 0xf0000 ? 0 : 1 + (unsigned)((gpa - PLAT_SHADOW_START) / 0x4000);
}

int bios_check_image(const uint8_t *img, size_t len, const char *path, struct err *e)
{
	uint8_t op;

	if (len < BIOS_MIN_SIZE || len > BIOS_MAX_SIZE || len % 0x10000)
		return errf(e, -EINVAL,
			    "firmware '%s' is %zu bytes: a BIOS image is a multiple of 64 KiB from "
			    "128 KiB to 16 MiB (truncated?)", path, len);
	op = img[len - 16];
	if (op != 0xea && op != 0xe9 && op != 0xeb)
		return errf(e, -EINVAL,
			    "firmware '%s' has no jump at its reset vector (not a BIOS image?)", path);
	return 0;
}

static void bios_destroy(void *opaque)
{
	struct bios *b = opaque;

	if (b->vm->bios == b)
		b->vm->bios = NULL;
	if (b->img)
		munmap(b->img, b->len);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int bios_open(struct vm *vm, struct err *e)
{
	const char *path = vm->cfg.firmware_path ? vm->cfg.firmware_path : BIOS_DEFAULT_PATH;
	struct bios *b;
	uint8_t *buf;
	size_t len;
	int ret = file_read_all(path, "firmware", BIOS_MAX_SIZE, &buf, &len, e);

	if (ret)
		return ret;
	ret = bios_check_image(buf, len, path, e);
	if (ret)
		goto free_buf;
	b = calloc(1, sizeof(*b));
	if (!b) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto free_buf;
	}
	b->vm = vm;
	b->len = len;
	pthread_mutex_init(&b->lock, NULL);
	b->img = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->img == MAP_FAILED) {
		b->img = NULL;
		bios_destroy(b);
		ret = errf(e, -ENOMEM, "out of memory for the firmware image");
		goto free_buf;
	}
	memcpy(b->img, buf, len);
	ret = vm_add_device(vm, "bios", b, bios_destroy);
	if (ret) {
		bios_destroy(b);
		errf(e, ret, "out of memory");
		goto free_buf;
	}
	vm->bios = b;
free_buf:
	free(buf);
	return ret;
}

static int set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
		    uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static enum seg_map seg_want(const struct bios *b, unsigned i)
{
	unsigned n = seg_pam(b->pam, i);

	if (n & PAM_RE)
		return n & PAM_WE ? SEG_RAM_RW : SEG_RAM_RO;
	return seg_base(i) >= PLAT_BIOS_LOW ? SEG_ROM : SEG_NONE;
}

/* Map segment i as want (lock held). Returns 0 or -errno. */
static int seg_apply(struct bios *b, unsigned i, enum seg_map want)
{
	struct vm *vm = b->vm;
	uint64_t base = seg_base(i), len = seg_len(i);
	void *hva;
	int ret;

	if (b->map[i] == want)
		return 0;
	if (b->map[i] != SEG_NONE && (ret = set_slot(vm, SLOT_SEG0 + i, base, 0, NULL, 0)))
		return ret;
	b->map[i] = SEG_NONE;
	if (want == SEG_NONE)
		return 0;
	hva = want == SEG_ROM ? b->img + b->len - (SHADOW_END - base) : gmem_ptr(&vm->mem, base, len);
	if (!hva)
		return -EFAULT;
	ret = set_slot(vm, SLOT_SEG0 + i, base, len, hva,
		       want == SEG_RAM_RW ? 0 : KVM_MEM_READONLY);
	if (!ret)
		b->map[i] = want;
	return ret;
}

void bios_pam_write(void *opaque, const uint8_t *pam)
{
	struct bios *b = opaque;

	pthread_mutex_lock(&b->lock);
	memcpy(b->pam, pam, BIOS_NPAM);
	for (unsigned i = 0; i < NSEG; i++) {
		int ret = seg_apply(b, i, seg_want(b, i));

		if (ret)
			log_err("shadow RAM at %#llx: cannot remap: %s",
				(unsigned long long)seg_base(i), strerror(-ret));
	}
	pthread_mutex_unlock(&b->lock);
}

/* An access to the shadow window that reached the monitor: emulate what PAM says. */
static void shadow_access(struct bios *b, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	pthread_mutex_lock(&b->lock);
	for (unsigned k = 0; k < len; k++) {
		uint64_t gpa = PLAT_SHADOW_START + off + k;
		unsigned n = seg_pam(b->pam, seg_of(gpa));
		uint8_t *ram = gmem_ptr(&b->vm->mem, gpa, 1);

		if (wr) {
			if ((n & PAM_WE) && ram)
				*ram = data[k];
		} else if ((n & PAM_RE) && ram) {
			data[k] = *ram;
		} else {
			data[k] = gpa >= PLAT_BIOS_LOW ? b->img[b->len - (SHADOW_END - gpa)] : 0xff;
		}
	}
	pthread_mutex_unlock(&b->lock);
}

static void shadow_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	shadow_access(opaque, off, data, len, false);
}

static void shadow_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	shadow_access(opaque, off, (uint8_t *)data, len, true);
}

static const struct bus_ops shadow_ops = {.read = shadow_read, .write = shadow_write};

static void fw_cfg_free(void *fc)
{
	fw_cfg_destroy(fc);
}

int bios_map(struct vm *vm, struct err *e)
{
	struct bios *b = vm->bios;
	const struct gmem *m = &vm->mem;
	int ret;

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return errf(e, -ENOTSUP, "--firmware bios needs read-only memory slots "
			    "(KVM_CAP_READONLY_MEM), which this host's KVM lacks");
	if (m->r[0].size <= SHADOW_END)
		return errf(e, -EINVAL, "--firmware bios needs more than 1 MiB of RAM");
	if ((ret = set_slot(vm, SLOT_LOW, 0, PLAT_SHADOW_START, m->r[0].hva, 0)) ||
	    (ret = set_slot(vm, SLOT_LOW2, SHADOW_END, m->r[0].size - SHADOW_END,
			    m->r[0].hva + SHADOW_END, 0)) ||
	    (m->nregions > 1 &&
	     (ret = set_slot(vm, SLOT_HIGH, m->r[1].gpa, m->r[1].size, m->r[1].hva, 0))) ||
	    (ret = set_slot(vm, SLOT_ROM, (1ULL << 32) - b->len, b->len, b->img, KVM_MEM_READONLY)))
		return errf(e, ret, "KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < NSEG && !ret; i++)
		ret = seg_apply(b, i, seg_want(b, i));
	pthread_mutex_unlock(&b->lock);
	if (ret)
		return errf(e, ret, "cannot map the BIOS shadow window: %s", strerror(-ret));
	ret = fw_cfg_create(&vm->mem, &vm->fw_cfg);
	if (!ret && (ret = vm_add_device(vm, "fw_cfg", vm->fw_cfg, fw_cfg_free))) {
		fw_cfg_destroy(vm->fw_cfg);
		vm->fw_cfg = NULL;
	}
	if (!ret)
		ret = bus_register(&vm->pio, PLAT_FWCFG_PORT, FW_CFG_NPORTS, &fw_cfg_bus_ops,
				   vm->fw_cfg, "fw_cfg");
	if (ret)
		return errf(e, ret, "cannot create fw_cfg: %s", strerror(-ret));
	ret = bus_register(&vm->mmio, PLAT_SHADOW_START, SHADOW_END - PLAT_SHADOW_START,
			   &shadow_ops, b, "bios-shadow");
	return ret ? errf(e, ret, "cannot claim the BIOS shadow window: %s", strerror(-ret)) : 0;
}

int bios_bootorder(const struct vm_config *cfg, char *buf, size_t cap)
{
	enum boot_device order[VM_MAX_BOOT + 1];
	size_t used = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < VM_MAX_BOOT && cfg->boot_order[i] != BOOT_NONE; i++)
		order[n++] = cfg->boot_order[i];
	if (!n) {
		order[n++] = BOOT_DISK;
		order[n++] = BOOT_CD;
	}
	if (!cap)
		return -ENOSPC;
	buf[0] = 0;
	for (unsigned o = 0; o < n; o++) {
		for (int idx = 0; idx < 4; idx++) {
			for (unsigned d = 0; d < cfg->ndisks; d++) {
				const struct disk_config *dc = &cfg->disks[d];
				bool cd = dc->media == DISK_MEDIA_CDROM;
				int w;

				if (dc->iface != DISK_IF_IDE || dc->index != idx ||
				    cd != (order[o] == BOOT_CD))
					continue;
				w = snprintf(buf + used, cap - used,
					     "%s/pci@i0cf8/ide@%d,1/drive@%d/disk@%d",
					     used ? "\n" : "", PLAT_PIIX_SLOT, idx / 2, idx % 2);
				if (w < 0 || (size_t)w >= cap - used)
					return -ENOSPC;
				used += (size_t)w;
			}
		}
	}
	return (int)used;
}

static int add_int(struct fw_cfg *fc, const char *name, uint64_t v, unsigned size)
{
	uint8_t b[8];

	le_put(b, v, size);
	return fw_cfg_add_file(fc, name, b, size);
}

static int put_e820(uint8_t *p, uint64_t addr, uint64_t len, uint32_t type)
{
	le_put(p, addr, 8);
	le_put(p + 8, len, 8);
	le_put(p + 16, type, 4);
	return 20;
}

/* ACPI through the table loader; SMBIOS. */
static int add_tables(struct vm *vm, struct fw_cfg *fc, struct err *e)
{
	struct acpi_config ac = {.ncpus = vm->ncpus};
	struct smbios_config sc = {.ncpus = vm->ncpus, .low_ram = vm->mem.r[0].size,
		.high_ram = vm->mem.nregions > 1 ? vm->mem.r[1].size : 0, .bios_version = "SeaBIOS"};
	uint8_t *acpi = calloc(1, PLAT_ACPI_MAX), *cmds = calloc(1, 64 * ACPI_LOADER_CMD_SIZE);
	uint8_t *smb = calloc(1, 0x4000), anchor[SMBIOS_ANCHOR_LEN];
	long used, ncmd, slen;
	int ret = -ENOMEM;

	if (!acpi || !cmds || !smb) {
		errf(e, ret, "out of memory");
		goto out;
	}
	used = acpi_build(acpi, PLAT_ACPI_MAX, 0, &ac, e);
	if (used < 0) {
		ret = (int)used;
		goto out;
	}
	ncmd = acpi_loader_build(acpi, (size_t)used, cmds, 64 * ACPI_LOADER_CMD_SIZE, e);
	if (ncmd < 0) {
		ret = (int)ncmd;
		goto out;
	}
	slen = smbios_build(&sc, smb, 0x4000, 0, anchor);
	ret = slen < 0 ? (int)slen : 0;
	if (!ret && !(ret = fw_cfg_add_file(fc, ACPI_LOADER_RSDP_FILE, acpi, 36)) &&
	    !(ret = fw_cfg_add_file(fc, ACPI_LOADER_TABLES_FILE, acpi, (size_t)used)) &&
	    !(ret = fw_cfg_add_file(fc, "etc/table-loader", cmds, (size_t)ncmd)) &&
	    !(ret = fw_cfg_add_file(fc, "etc/smbios/smbios-tables", smb, (size_t)slen)))
		ret = fw_cfg_add_file(fc, "etc/smbios/smbios-anchor", anchor, sizeof(anchor));
	if (ret)
		errf(e, ret, "fw_cfg: cannot add the ACPI/SMBIOS tables: %s", strerror(-ret));
out:
	free(acpi);
	free(cmds);
	free(smb);
	return ret;
}

int bios_fw_cfg_fill(struct vm *vm, struct err *e)
{
	struct fw_cfg *fc = vm->fw_cfg;
	const struct gmem *m = &vm->mem;
	uint8_t e820[5 * 20], v[8];
	char order[512];
	int n = 0, olen, ret;

	if (!fc || !vm->pci)
		return errf(e, -EINVAL, "fw_cfg or the PCI host missing");
	pci_host_set_pam(vm->pci, bios_pam_write, vm->bios);
	n += put_e820(e820 + n, 0, m->r[0].size, 1);
	if (m->nregions > 1)
		n += put_e820(e820 + n, m->r[1].gpa, m->r[1].size, 1);
	n += put_e820(e820 + n, KVM_TSS_AREA, KVM_TSS_AREA_LEN, 2);
	olen = bios_bootorder(&vm->cfg, order, sizeof(order));
	if (olen < 0)
		return errf(e, olen, "fw_cfg: boot order too long");
	le_put(v, m->size, 8);
	if ((ret = fw_cfg_add(fc, FW_CFG_RAM_SIZE, v, 8)))
		goto fail;
	le_put(v, vm->ncpus, 2);
	if ((ret = fw_cfg_add(fc, FW_CFG_NB_CPUS, v, 2)) ||
	    (ret = fw_cfg_add(fc, FW_CFG_MAX_CPUS, v, 2)) ||
	    (ret = fw_cfg_add_file(fc, "etc/e820", e820, (size_t)n)) ||
	    (ret = fw_cfg_add_file(fc, "bootorder", order, (size_t)olen + 1)) ||
	    (ret = add_int(fc, "etc/sercon-port", PLAT_COM1_PORT, 2)) ||
	    (ret = add_int(fc, "etc/show-boot-menu", 1, 2)) ||
	    (ret = add_int(fc, "etc/boot-menu-wait", 1000, 2)) ||
	    (ret = add_int(fc, "etc/boot-fail-wait", 5000, 4)))
		goto fail;
	return add_tables(vm, fc, e);
fail:
	return errf(e, ret, "fw_cfg: %s", strerror(-ret));
}
