/* test_vmc.c: the .vmc reader over files written here in Virtual PC's layout (UTF-16LE with a
 * byte-order mark, CRLF, <preferences> version 2.0, type= on every value): disks at their IDE
 * positions, NICs, undo disks, warnings, and the exact refusals; the Windows path mapping. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/vmc.h"

static uint8_t buf[65536];

/* ASCII text as UTF-16LE with a BOM and CRLF line ends; returns the byte count. */
static size_t utf16(const char *s)
{
	size_t n = 0;

	buf[n++] = 0xff;
	buf[n++] = 0xfe;
	for (; *s; s++) {
		if (*s == '\n') {
			buf[n++] = '\r';
			buf[n++] = 0;
		}
		buf[n++] = (uint8_t)*s;
		buf[n++] = 0;
	}
	return n;
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!-- Microsoft Virtual Machine Options and Settings -->\n<preferences>\n\t<version type=\"string\">2.0</version>\n"
#define MEM(mb) "\t<hardware>\n\t\t<memory>\n\t\t\t<ram_size type=\"integer\">" mb "</ram_size>\n\t\t</memory>\n"
#define DISK(ch, loc, type, abs, rel) \
	"\t\t\t\t<ide_controller id=\"" ch "\">\n\t\t\t\t\t<location id=\"" loc "\">\n" \
	"\t\t\t\t\t\t<drive_type type=\"integer\">" type "</drive_type>\n\t\t\t\t\t\t<pathname>\n" \
	"\t\t\t\t\t\t\t<absolute type=\"string\">" abs "</absolute>\n" \
	"\t\t\t\t\t\t\t<relative type=\"string\">" rel "</relative>\n" \
	"\t\t\t\t\t\t</pathname>\n\t\t\t\t\t</location>\n\t\t\t\t</ide_controller>\n"

static void test_two_disks_cd_undo(void **st)
{
	struct vmc v;
	struct err e = {""};
	size_t n = utf16(HEAD MEM("512")
		"\t\t<pci_bus>\n\t\t\t<ethernet_adapter>\n\t\t\t\t<ethernet_controller id=\"0\">\n"
		"\t\t\t\t\t<virtual_network>\n\t\t\t\t\t\t<name type=\"string\">Internal Network</name>\n"
		"\t\t\t\t\t</virtual_network>\n"
		"\t\t\t\t\t<ethernet_card_address type=\"bytes\">0003FF12AB34</ethernet_card_address>\n"
		"\t\t\t\t</ethernet_controller>\n\t\t\t</ethernet_adapter>\n"
		"\t\t\t<ide_adapter>\n"
		DISK("0", "0", "1", "C:\\VMs\\a.vhd", ".\\a.vhd")
		DISK("0", "1", "1", "C:\\VMs\\b.vhd", ".\\b.vhd")
		DISK("1", "0", "2", "D:\\cd.iso", "")
		"\t\t\t</ide_adapter>\n\t\t</pci_bus>\n\t</hardware>\n"
		"\t<settings>\n\t\t<undo_drives>\n\t\t\t<enabled type=\"boolean\">true</enabled>\n"
		"\t\t</undo_drives>\n\t</settings>\n</preferences>\n");

	assert_int_equal(vmc_parse(buf, n, "m.vmc", &v, &e), 0);
	assert_int_equal(v.ram_mb, 512);
	assert_int_equal(v.ndisks, 3);
	assert_string_equal(v.disks[1].relative, ".\\b.vhd");
	assert_int_equal(v.disks[1].unit, 1);
	assert_true(v.disks[2].cdrom);
	assert_int_equal(v.disks[2].channel, 1);
	assert_null(v.disks[2].relative);
	assert_string_equal(v.disks[2].absolute, "D:\\cd.iso");
	assert_true(v.undo);
	assert_int_equal(v.nnics, 1);
	assert_memory_equal(v.nics[0].mac, "\x00\x03\xff\x12\xab\x34", 6);
	assert_string_equal(v.nics[0].network, "Internal Network");
	assert_int_equal(v.nwarn, 0);
	vmc_free(&v);
}

static void test_refusals(void **st)
{
	struct vmc v;
	struct err e = {""};
	size_t n;

	assert_int_equal(vmc_parse((const uint8_t *)"<preferences/>", 14, "a.vmc", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "a.vmc: not a .vmc file (no UTF-16 byte-order mark: .vmc files "
				   "are UTF-16 XML)");
	n = utf16("this is not XML <<<\n");
	assert_int_equal(vmc_parse(buf, n, "b.vmc", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "b.vmc: not well-formed XML (line 1)");
	n = utf16(HEAD "\t<hardware>\n\t</hardware>\n</preferences>\n");
	assert_int_equal(vmc_parse(buf, n, "c.vmc", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "c.vmc: no memory size (hardware/memory/ram_size)");
	n = utf16(HEAD MEM("lots") "\t</hardware>\n</preferences>\n");
	assert_int_equal(vmc_parse(buf, n, "d.vmc", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "d.vmc: ram_size 'lots' is not a number of MB");
	n = utf16("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<vm_description/>\n");
	assert_int_equal(vmc_parse(buf, n, "e.vmcx", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "e.vmcx: the root element is <vm_description>, not <preferences>");
	n = utf16(HEAD MEM("64") "\t\t<pci_bus>\n\t\t\t<ide_adapter>\n"
		  DISK("0", "0", "7", "C:\\a.vhd", "a.vhd")
		  "\t\t\t</ide_adapter>\n\t\t</pci_bus>\n\t</hardware>\n</preferences>\n");
	assert_int_equal(vmc_parse(buf, n, "f.vmc", &v, &e), -EINVAL);
	assert_string_equal(e.msg, "f.vmc: IDE location 0:0: drive_type 7 is neither 1 (disk) nor 2 (CD)");
}

static void test_warnings(void **st)
{
	struct vmc v;
	struct err e = {""};
	size_t n = utf16(HEAD MEM("128")
		"\t\t<pci_bus>\n\t\t\t<ide_adapter>\n"
		DISK("1", "0", "2", "", "")
		"\t\t\t</ide_adapter>\n"
		"\t\t\t<scsi_adapter>\n\t\t\t\t<scsi_controller id=\"0\"/>\n\t\t\t</scsi_adapter>\n"
		"\t\t</pci_bus>\n\t\t<super_io>\n\t\t\t<serial_port id=\"1\">\n"
		"\t\t\t\t<port_name type=\"string\">COM2</port_name>\n\t\t\t</serial_port>\n"
		"\t\t</super_io>\n\t</hardware>\n</preferences>\n");

	assert_int_equal(vmc_parse(buf, n, "w.vmc", &v, &e), 0);
	assert_int_equal(v.ndisks, 0);
	assert_int_equal(v.nwarn, 3);
	assert_string_equal(v.warn[0], "IDE 1:0: CD drive with no image (the host's drive or empty): left out");
	assert_string_equal(v.warn[1], "serial port 2 (COM2 on the host): not imported (thinvisor has one serial port, COM1)");
	assert_string_equal(v.warn[2], "SCSI controller 0: not imported (thinvisor has no SCSI adapter; attach its disks with if=ide)");
	vmc_free(&v);
}

/* Devices and settings with no thinvisor counterpart are named, never dropped in silence; an
 * empty floppy or a disconnected parallel port is nothing to carry over. */
static void test_unknown_parts_warned(void **st)
{
	struct vmc v;
	struct err e = {""};
	size_t n = utf16(HEAD MEM("128")
		"\t\t<pci_bus>\n\t\t\t<video_adapter>\n\t\t\t\t<vram_size type=\"integer\">8</vram_size>\n"
		"\t\t\t</video_adapter>\n\t\t\t<sound_adapter/>\n\t\t</pci_bus>\n"
		"\t\t<super_io>\n\t\t\t<floppy id=\"0\">\n\t\t\t\t<pathname>\n"
		"\t\t\t\t\t<absolute type=\"string\">C:\\boot.vfd</absolute>\n\t\t\t\t</pathname>\n"
		"\t\t\t</floppy>\n\t\t\t<floppy id=\"1\">\n\t\t\t\t<pathname>\n"
		"\t\t\t\t\t<absolute type=\"string\"></absolute>\n\t\t\t\t</pathname>\n"
		"\t\t\t</floppy>\n\t\t\t<parallel_port id=\"0\">\n"
		"\t\t\t\t<port_name type=\"string\">None</port_name>\n\t\t\t</parallel_port>\n"
		"\t\t</super_io>\n\t\t<usb_bus/>\n\t</hardware>\n"
		"\t<settings>\n\t\t<shared_folders>\n\t\t\t<folder id=\"0\"/>\n\t\t</shared_folders>\n"
		"\t</settings>\n</preferences>\n");

	assert_int_equal(vmc_parse(buf, n, "u.vmc", &v, &e), 0);
	assert_int_equal(v.nwarn, 5);
	assert_string_equal(v.warn[0], "hardware/usb_bus: not imported (thinvisor has no such device or setting)");
	assert_string_equal(v.warn[1], "hardware/pci_bus/video_adapter: not imported (thinvisor has no such device or setting)");
	assert_string_equal(v.warn[2], "hardware/pci_bus/sound_adapter: not imported (thinvisor has no such device or setting)");
	assert_string_equal(v.warn[3], "hardware/super_io/floppy: not imported (thinvisor has no such device or setting)");
	assert_string_equal(v.warn[4], "settings/shared_folders/folder: not imported (thinvisor has no such device or setting)");
	vmc_free(&v);
}

static void test_paths(void **st)
{
	char *p;

	p = vmc_host_path(".\\disk.vhd", "/srv/vm", NULL);
	assert_string_equal(p, "/srv/vm/disk.vhd");
	free(p);
	p = vmc_host_path("..\\disks\\d.vhd", "/srv/vm", NULL);
	assert_string_equal(p, "/srv/vm/../disks/d.vhd");
	free(p);
	p = vmc_host_path("C:\\VMs\\w2k3.vhd", "/srv/vm", NULL);
	assert_string_equal(p, "/VMs/w2k3.vhd");
	free(p);
	p = vmc_host_path("C:\\VMs\\w2k3.vhd", "/srv/vm", "/mnt/c");
	assert_string_equal(p, "/mnt/c/VMs/w2k3.vhd");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_disks_cd_undo), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_warnings), cmocka_unit_test(test_unknown_parts_warned),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
