/* acpi.c: RSDP, RSDT/XSDT, FADT, FACS, DSDT and MADT for thinvisor's x86 machine. */
#include "x86/acpi.h"

#include <errno.h>
#include <string.h>

#include "util/bytes.h"
#include "x86/aml.h"
#include "x86/platform.h"

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276 /* ACPI 6.3+: ends with the hypervisor vendor identity */
#define OEM_ID "THINVS"
#define OEM_TABLE_ID "THINVISR"
#define CREATOR_ID "TVSR"

/* The tables being laid out in buf, which sits at gpa. */
struct tables {
	uint8_t *buf;
	size_t len, used;
	uint64_t gpa;
	struct err *e;
};

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static int no_room(struct tables *t, const char *what)
{
	return errf(t->e, -ENOSPC, "acpi: a %zu-byte buffer has no room for the %s", t->len, what);
}

/* Reserve n zeroed bytes whose guest address is a multiple of align; return their offset. */
static long take(struct tables *t, size_t n, size_t align, const char *what)
{
	size_t at = t->used + (size_t)((align - (t->gpa + t->used) % align) % align);

	if (at > t->len || n > t->len - at)
		return no_room(t, what);
	memset(t->buf + at, 0, n);
	t->used = at + n;
	return (long)at;
}

static uint32_t gpa32(const struct tables *t, long off)
{
	return (uint32_t)(t->gpa + (uint64_t)off);
}

/* Fill the standard description header; the checksum is set by seal(). */
static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	le_put(p + 4, len, 4);
	p[8] = rev;
	memcpy(p + 10, OEM_ID, 6);
	memcpy(p + 16, OEM_TABLE_ID, 8);
	le_put(p + 24, 1, 4);
	memcpy(p + 28, CREATOR_ID, 4);
	le_put(p + 32, 1, 4);
}

static void seal(uint8_t *p, size_t len, size_t csum_at)
{
	p[csum_at] = 0;
	p[csum_at] = (uint8_t)-sum(p, len);
}

/* Generic Address Structure in system I/O space. */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access)
{
	p[0] = 1; /* SystemIO */
	p[1] = bits;
	p[2] = 0;
	p[3] = access; /* 1 byte, 2 word, 3 dword */
	le_put(p + 4, port, 8);
}

static long build_facs(struct tables *t)
{
	long off = take(t, FACS_LEN, 64, "FACS");
	uint8_t *p;

	if (off < 0)
		return off;
	p = t->buf + off;
	memcpy(p, "FACS", 4);
	le_put(p + 4, FACS_LEN, 4);
	p[32] = 2; /* version; the FACS has no checksum */
	return off;
}

/* The DSDT's devices below \_SB, each a small function. */
static void dev_pci0(struct aml *a, const struct acpi_config *c)
{
	size_t dev, rt, prt, e;
	unsigned slot, pin;

	dev = aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A03");
	aml_name_int(a, "_SEG", 0);
	aml_name_int(a, "_BBN", 0);
	aml_name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	rt = aml_rt_begin(a);
	aml_rt_word_bus(a, 0x00, PLAT_PCI_BUSES - 1);
	aml_rt_io(a, PLAT_PCI_CONF_PORT, PLAT_PCI_CONF_PORT, 1, 8);
	aml_rt_word_io(a, 0x0000, PLAT_PCI_CONF_PORT - 1);
	aml_rt_word_io(a, PLAT_PCI_CONF_PORT + 8, 0xffff);
	aml_rt_dword_mem(a, PLAT_PCI_MMIO32_BASE, PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE - 1);
	if (c->pci64_size)
		aml_rt_qword_mem_pref(a, c->pci64_base, c->pci64_base + c->pci64_size - 1);
	aml_rt_end(a, rt);
	/* _PRT: Package {Address (slot << 16 | 0xffff), Pin, Source (0: a GSI), GSI}. */
	aml_name(a, "_PRT");
	prt = aml_package_begin(a, 32 * 4);
	for (slot = 0; slot < 32; slot++)
		for (pin = 0; pin < 4; pin++) {
			e = aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, ACPI_PCI_INTX_GSI(slot, pin));
			aml_end(a, e);
		}
	aml_end(a, prt);
	aml_end(a, dev);
}

/* Device(name) { _HID, _UID, _STA 0xf, _CRS {IO(port, len)..., IRQNoFlags {irq}} }. */
static void dev_isa(struct aml *a, const char *name, const char *hid, unsigned uid,
		    const uint16_t (*io)[2], unsigned nio, int irq)
{
	size_t dev, rt;
	unsigned i;

	dev = aml_device_begin(a, name);
	aml_name_eisaid(a, "_HID", hid);
	aml_name_int(a, "_UID", uid);
	aml_method_return_int(a, "_STA", 0x0f);
	aml_name(a, "_CRS");
	rt = aml_rt_begin(a);
	for (i = 0; i < nio; i++)
		aml_rt_io(a, io[i][0], io[i][0], 1, (uint8_t)io[i][1]);
	if (irq >= 0)
		aml_rt_irq_noflags(a, (unsigned)irq);
	aml_rt_end(a, rt);
	aml_end(a, dev);
}

/* Motherboard resources: the ACPI PM ports and the ECAM window (Linux uses MMCONFIG only
 * when its area is reserved here or in the e820 map). */
static void dev_mbrs(struct aml *a)
{
	size_t dev, rt;

	dev = aml_device_begin(a, "MBRS");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name_int(a, "_UID", 0);
	aml_method_return_int(a, "_STA", 0x0f);
	aml_name(a, "_CRS");
	rt = aml_rt_begin(a);
	aml_rt_io(a, PLAT_PM_PORT, PLAT_PM_PORT, 1, PLAT_PM_LEN);
	aml_rt_mem32_fixed(a, (uint32_t)PLAT_PCI_ECAM_BASE, (uint32_t)PLAT_PCI_ECAM_SIZE);
	aml_rt_end(a, rt);
	aml_end(a, dev);
}

/* virtio-mmio devices (Linux's virtio_mmio binds LNRO0005 through ACPI). */
static void dev_virtio_mmio(struct aml *a, const struct acpi_config *c)
{
	static const char hex[] = "0123456789ABCDEF";
	char name[5] = "VR00";
	size_t dev, rt;

	for (unsigned i = 0; i < c->nmmio && i < ACPI_MAX_MMIO_DEVS; i++) {
		name[2] = hex[(i >> 4) & 0xf];
		name[3] = hex[i & 0xf];
		dev = aml_device_begin(a, name);
		aml_name_string(a, "_HID", "LNRO0005");
		aml_name_int(a, "_UID", i);
		aml_method_return_int(a, "_STA", 0x0f);
		aml_name(a, "_CRS");
		rt = aml_rt_begin(a);
		aml_rt_mem32_fixed(a, (uint32_t)c->mmio[i].base, (uint32_t)PLAT_VIRTIO_MMIO_STRIDE);
		aml_rt_interrupt(a, c->mmio[i].gsi, 1, 0);
		aml_rt_end(a, rt);
		aml_end(a, dev);
	}
}

/* One ACPI0007 processor device per vCPU, _UID = the MADT's ACPI processor UID. */
static void dev_cpus(struct aml *a, unsigned ncpus)
{
	static const char hex[] = "0123456789ABCDEF";
	char name[5] = "C000";
	unsigned i;
	size_t dev;

	for (i = 0; i < ncpus; i++) {
		name[1] = hex[(i >> 8) & 0xf];
		name[2] = hex[(i >> 4) & 0xf];
		name[3] = hex[i & 0xf];
		dev = aml_device_begin(a, name);
		aml_name_string(a, "_HID", "ACPI0007");
		aml_name_int(a, "_UID", i);
		aml_end(a, dev);
	}
}

static void dsdt_aml(struct aml *a, const struct acpi_config *c)
{
	static const uint16_t com1[][2] = {{PLAT_COM1_PORT, 8}};
	static const uint16_t rtc[][2] = {{PLAT_RTC_PORT, 2}};
	static const uint16_t kbd[][2] = {{PLAT_I8042_DATA, 1}, {PLAT_I8042_CMD, 1}};
	size_t s5, sb;

	aml_name(a, "_S5");
	s5 = aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, s5);

	sb = aml_scope_begin(a, "_SB");
	dev_pci0(a, c);
	dev_isa(a, "COM1", "PNP0501", 1, com1, 1, PLAT_COM1_IRQ);
	dev_isa(a, "RTC", "PNP0B00", 0, rtc, 1, PLAT_RTC_IRQ);
	dev_isa(a, "KBD", "PNP0303", 0, kbd, 2, 1);
	dev_mbrs(a);
	dev_virtio_mmio(a, c);
	dev_cpus(a, c->ncpus);
	aml_end(a, sb);
}

static long build_dsdt(struct tables *t, const struct acpi_config *c)
{
	long off = take(t, HDR_LEN, 8, "DSDT");
	struct aml a;

	if (off < 0)
		return off;
	aml_init(&a, t->buf + t->used, t->len - t->used);
	dsdt_aml(&a, c);
	if (aml_error(&a) == -ENOSPC)
		return no_room(t, "DSDT");
	if (aml_error(&a))
		return errf(t->e, aml_error(&a), "acpi: building the DSDT's AML failed");
	t->used += a.len;
	header(t->buf + off, "DSDT", (uint32_t)(HDR_LEN + a.len), 2);
	seal(t->buf + off, HDR_LEN + a.len, 9);
	return off;
}

/* FADT flags and IA-PC boot architecture flags. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button; PWR_BUTTON (bit 4) clear: fixed one */
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
#define BOOT_NO_VGA (1u << 2)

static long build_fadt(struct tables *t, long facs, long dsdt)
{
	long off = take(t, FADT_LEN, 8, "FADT");
	uint8_t *p;

	if (off < 0)
		return off;
	p = t->buf + off;
	header(p, "FACP", FADT_LEN, 6);
	le_put(p + 36, gpa32(t, facs), 4); /* FIRMWARE_CTRL */
	le_put(p + 40, gpa32(t, dsdt), 4); /* DSDT */
	le_put(p + 46, PLAT_SCI_IRQ, 2);
	/* SMI_CMD (48), ACPI_ENABLE/DISABLE stay 0: ACPI mode is always on. */
	le_put(p + 56, PLAT_PM1A_EVT_PORT, 4);
	le_put(p + 64, PLAT_PM1A_CNT_PORT, 4);
	le_put(p + 76, PLAT_PM_TMR_PORT, 4);
	p[88] = 4;	      /* PM1_EVT_LEN */
	p[89] = 2;	      /* PM1_CNT_LEN */
	p[91] = 4;	      /* PM_TMR_LEN */
	le_put(p + 96, 101, 2);  /* P_LVL2_LAT > 100: no C2 */
	le_put(p + 98, 1001, 2); /* P_LVL3_LAT > 1000: no C3 */
	le_put(p + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_NO_VGA, 2);
	le_put(p + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP, 4);
	gas_io(p + 116, PLAT_RESET_PORT, 8, 1);
	p[128] = PLAT_RESET_VALUE;
	p[131] = 3;				  /* FADT minor version: 6.3 */
	/* X_FIRMWARE_CTRL stays 0: the FACS is below 4 GiB and FIRMWARE_CTRL points to it
	 * (both set makes Linux list the FACS twice). */
	le_put(p + 140, t->gpa + (uint64_t)dsdt, 8); /* X_DSDT */
	gas_io(p + 148, PLAT_PM1A_EVT_PORT, 32, 2);
	gas_io(p + 172, PLAT_PM1A_CNT_PORT, 16, 2);
	gas_io(p + 208, PLAT_PM_TMR_PORT, 32, 3);
	seal(p, FADT_LEN, 9);
	return off;
}

/* MADT entry types and flags. */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_PCAT_COMPAT 1u /* dual 8259s present (masked by the OS) */
#define MPS_EDGE_HIGH 0x05
#define MPS_LEVEL_HIGH 0x0d

static long build_madt(struct tables *t, unsigned ncpus)
{
	size_t len = 44 + 8 * (size_t)ncpus + 12 + 2 * 10 + 6;
	long off = take(t, len, 8, "MADT");
	uint8_t *p, *q;
	unsigned i;

	if (off < 0)
		return off;
	p = t->buf + off;
	header(p, "APIC", (uint32_t)len, 5);
	le_put(p + 36, PLAT_LAPIC_ADDR, 4);
	le_put(p + 40, MADT_PCAT_COMPAT, 4);
	q = p + 44;
	for (i = 0; i < ncpus; i++, q += 8) {
		q[0] = MADT_LAPIC, q[1] = 8;
		q[2] = (uint8_t)i; /* ACPI processor UID */
		q[3] = (uint8_t)i; /* APIC ID */
		le_put(q + 4, 1, 4);  /* enabled */
	}
	q[0] = MADT_IOAPIC, q[1] = 12, q[2] = ACPI_IOAPIC_ID;
	le_put(q + 4, PLAT_IOAPIC_ADDR, 4);
	le_put(q + 8, 0, 4); /* GSI base */
	q += 12;
	q[0] = MADT_ISO, q[1] = 10, q[2] = 0 /* ISA */, q[3] = 0;
	le_put(q + 4, 2, 4);
	le_put(q + 8, MPS_EDGE_HIGH, 2);
	q += 10;
	q[0] = MADT_ISO, q[1] = 10, q[2] = 0, q[3] = PLAT_SCI_IRQ;
	le_put(q + 4, PLAT_SCI_IRQ, 4);
	le_put(q + 8, MPS_LEVEL_HIGH, 2);
	q += 10;
	q[0] = MADT_LAPIC_NMI, q[1] = 6, q[2] = 0xff /* all processors */;
	le_put(q + 3, 0, 2); /* flags: conforming */
	q[5] = 1;	  /* LINT1 */
	seal(p, len, 9);
	return off;
}

/* MCFG: ECAM for segment 0, buses 0 to PLAT_PCI_BUSES - 1 (the root bridge's _CRS bus range). */
static long build_mcfg(struct tables *t)
{
	size_t len = 44 + 16;
	long off = take(t, len, 8, "MCFG");
	uint8_t *p;

	if (off < 0)
		return off;
	p = t->buf + off;
	header(p, "MCFG", (uint32_t)len, 1);
	le_put(p + 44, PLAT_PCI_ECAM_BASE, 8);
	le_put(p + 52, 0, 2); /* segment */
	p[54] = 0;	      /* start bus */
	p[55] = PLAT_PCI_BUSES - 1; /* end bus */
	seal(p, len, 9);
	return off;
}

/* RSDT (4-byte entries) or XSDT (8-byte entries) pointing at the given tables. */
static long build_sdt(struct tables *t, const char *sig, int width, const long *tabs, int n)
{
	size_t len = HDR_LEN + (size_t)(width * n);
	long off = take(t, len, 8, sig);
	int i;

	if (off < 0)
		return off;
	header(t->buf + off, sig, (uint32_t)len, 1);
	for (i = 0; i < n; i++)
		le_put(t->buf + off + HDR_LEN + width * i, t->gpa + (uint64_t)tabs[i], width);
	seal(t->buf + off, len, 9);
	return off;
}

static void fill_rsdp(struct tables *t, long rsdt, long xsdt)
{
	uint8_t *p = t->buf;

	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2; /* revision: ACPI 2.0+, with XSDT */
	le_put(p + 16, gpa32(t, rsdt), 4);
	le_put(p + 20, RSDP_LEN, 4);
	le_put(p + 24, t->gpa + (uint64_t)xsdt, 8);
	seal(p, 20, 8);
	seal(p, RSDP_LEN, 32);
}

long acpi_build(uint8_t *buf, size_t len, uint64_t buf_gpa, const struct acpi_config *c,
		struct err *e)
{
	struct tables t = {.buf = buf, .len = len, .gpa = buf_gpa, .e = e};
	long r, facs, dsdt, fadt, madt, mcfg, rsdt, xsdt;
	long tabs[3];

	if (c->ncpus < 1 || c->ncpus > PLAT_MAX_CPUS)
		return errf(e, -EINVAL, "acpi: %u vCPUs, the MADT takes 1 to %d", c->ncpus,
			    PLAT_MAX_CPUS);
	if (buf_gpa % 16 || buf_gpa >= (1ULL << 32) || len > (1ULL << 32) - buf_gpa)
		return errf(
		    e, -EINVAL,
		    "acpi: tables at 0x%llx (+0x%zx) must be 16-byte aligned and below 4 GiB",
		    (unsigned long long)buf_gpa, len);
	if ((r = take(&t, RSDP_LEN, 16, "RSDP")) < 0 || (r = facs = build_facs(&t)) < 0 ||
	    (r = dsdt = build_dsdt(&t, c)) < 0 ||
	    (r = fadt = build_fadt(&t, facs, dsdt)) < 0 ||
	    (r = madt = build_madt(&t, c->ncpus)) < 0 || (r = mcfg = build_mcfg(&t)) < 0)
		return r;
	tabs[0] = fadt, tabs[1] = madt, tabs[2] = mcfg;
	if ((r = rsdt = build_sdt(&t, "RSDT", 4, tabs, 3)) < 0 ||
	    (r = xsdt = build_sdt(&t, "XSDT", 8, tabs, 3)) < 0)
		return r;
	fill_rsdp(&t, rsdt, xsdt);
	return (long)t.used;
}
