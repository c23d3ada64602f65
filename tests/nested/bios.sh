#!/usr/bin/env bash
# tests/nested/bios.sh: the BIOS path with real firmware and real boot loaders, images built
# here without root. Three boots:
#  1. SeaBIOS boots a raw disk (MBR from syslinux's mbr.bin, FAT16 made by mkfs.vfat + mtools,
#     `syslinux --install`) from IDE primary master; syslinux.cfg boots Debian's 32-bit 686
#     kernel with an i386 busybox initramfs (the 64-bit ones when tools/fetch-kernel-686 found
#     none), 1 vCPU. An ISO (genisoimage + isolinux) is the secondary master. In the guest
#     ata_piix finds both, the guest reads a file of known sha256 from the disk and from the CD
#     and writes one that the host checks afterwards.
#  2. A Virtual PC machine (.vmc written here in the real layout, undo disks on) naming the
#     same disk as a dynamic VHD and the ISO, converted by `thinvisor import` and run from that
#     configuration with 2 vCPUs and --boot order=cd: SeaBIOS boots the ISO (isolinux, 64-bit
#     kernel) from the IDE CD-ROM; the disk is the undo disk import made (a differencing VHD
#     over the dynamic one): the guest's write lands there, the original stays as it was.
#  3. The imported machine again, 1 vCPU, --boot order=disk: SeaBIOS boots syslinux from the
#     undo disk (differencing VHD over dynamic VHD).
# Plus one-line refusals (no boot): a missing and a truncated BIOS image, an ISO that is not.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}
W=$TOP/$O/nested/bios
k686=$TOP/$O/kernel-686
rm -rf "$W" && mkdir -p "$W"

head -c 100000 /usr/share/seabios/bios.bin >"$W/short.bin"
expect_only_error "bios: missing firmware image" 1 \
	"thinvisor: error: cannot open firmware '$W/none.bin': No such file or directory" \
	"$TV" run --firmware "$W/none.bin" --console none
expect_only_error "bios: truncated firmware image" 1 \
	"thinvisor: error: firmware '$W/short.bin' is 100000 bytes: a BIOS image is a multiple of 64 KiB from 128 KiB to 16 MiB (truncated?)" \
	"$TV" run --firmware "$W/short.bin" --console none

[ -c /dev/kvm ] || { notok "bios" "no /dev/kvm here"; exit 0; }
l2_kernel || { notok "bios" "no kernel in /boot"; exit 0; }
for t in mkfs.vfat mcopy syslinux sfdisk genisoimage; do
	command -v $t >/dev/null || { notok "bios" "$t missing (tools/setup)"; exit 0; }
done

cat >"$W/init.sh" <<'EOS'
#!/bin/sh
echo "tvbios: arch $(uname -m)"
dmesg | grep -E 'ata[0-9]\.0[01]: (ATA-[0-9]+|ATAPI):' | sed 's/^\[[ 0-9.]*\] /tvbios: /'
dmesg | grep -qE 'scsi host[0-9]: ata_piix' && echo "tvbios: ata_piix bound"
dmesg | grep -m1 'DMI: ' | sed 's/^\[[ 0-9.]*\] /tvbios: /'
mkdir -p /mnt /cd
mount -t vfat /dev/sda1 /mnt && echo "tvbios: disk-sha $(sha256sum /mnt/known.bin | cut -d' ' -f1)"
echo "written by the guest" >/mnt/out.txt
umount /mnt
mount -t iso9660 -o ro /dev/sr0 /cd && echo "tvbios: cd-sha $(sha256sum /cd/known.bin | cut -d' ' -f1)"
umount /cd
[ -b /dev/vda ] && echo "tvbios: vda-sha $(sha256sum </dev/vda | cut -d' ' -f1)"
[ -b /dev/vda ] && grep -m1 -E '^ *[0-9]+: .*virtio[0-9]+-(req|config)' /proc/interrupts | grep -q PCI-MSI &&
	echo "tvbios: virtio MSI-X"
sync
echo "tvbios: nproc $(nproc)"
EOS
mods="ata_piix sd_mod sr_mod vfat isofs nls_cp437 nls_ascii virtio_pci virtio_blk"
l2_initramfs --init "$W/init.sh" --modules "$mods" || { notok "bios" "mkinitramfs failed"; exit 0; }
initrd64=$L2_INITRD
# the disk's kernel: Debian's 686 one when there is one
k32=$(ls "$k686"/root/boot/vmlinuz-*-686 2>/dev/null | sort -V | tail -n1)
# dpkg-deb -x leaves no modules.dep (the package's postinst runs depmod): make it
[ -n "$k32" ] && [ ! -e "$k686/root/lib/modules/${k32##*/vmlinuz-}/modules.dep" ] &&
	depmod -b "$k686/root" "${k32##*/vmlinuz-}"
if [ -n "$k32" ] && [ -x "$k686/root/bin/busybox" ] &&
	l2_initramfs --init "$W/init.sh" --modules "$mods" --busybox "$k686/root/bin/busybox" \
		--moddir "$k686/root" --kver "${k32##*/vmlinuz-}"; then
	dkernel=$k32 dinitrd=$L2_INITRD darch=i686
else
	echo "# bios: no 686 kernel in $k686: the disk boots the 64-bit kernel"
	dkernel=$L2_KERNEL dinitrd=$initrd64 darch=x86_64
fi
head -c 1M /dev/urandom >"$W/known.bin"
want=$(sha256sum "$W/known.bin" | cut -d' ' -f1)
cfg="DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 panic=-1 quiet"

disk=$W/disk.img
truncate -s 64M "$disk" && echo 'start=2048, type=6, bootable' | sfdisk -q "$disk" &&
	mkfs.vfat -F 16 --offset 2048 "$disk" $(((64 * 2048 - 2048) / 2)) >/dev/null &&
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none &&
	syslinux --install --offset $((2048 * 512)) "$disk" &&
	echo "$cfg" >"$W/syslinux.cfg" && cp "$dkernel" "$W/vmlinuz" && cp "$dinitrd" "$W/initrd.gz" &&
	mcopy -i "$disk@@1M" "$W/vmlinuz" "$W/initrd.gz" "$W/syslinux.cfg" "$W/known.bin" :: ||
	{ notok "bios: disk image" "building it failed"; exit 0; }
mkdir -p "$W/iso/isolinux" && cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$W/iso/isolinux/" &&
	echo "$cfg" >"$W/iso/isolinux/isolinux.cfg" && cp "$L2_KERNEL" "$W/iso/vmlinuz" &&
	cp "$initrd64" "$W/iso/initrd.gz" && cp "$W/known.bin" "$W/iso/" &&
	genisoimage -quiet -o "$W/cd.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table -J -R "$W/iso" ||
	{ notok "bios: ISO image" "genisoimage failed"; exit 0; }
head -c 1M /dev/zero >"$W/notiso.iso"
expect_only_error "bios: an ISO that is not one" 1 \
	"thinvisor: error: disk '$W/notiso.iso': not an ISO 9660 image (no CD001 volume descriptor at sector 16)" \
	"$TV" run --firmware bios --console none --disk "path=$W/notiso.iso,if=ide,media=cdrom"

guest_checks() { # NAME LOADER-REGEX ARCH
	local name=$1
	l2_seen 'SeaBIOS \(version ' && ok "$name: SeaBIOS banner on the serial console" ||
		notok "$name: SeaBIOS banner on the serial console"
	l2_seen "$2" && ok "$name: boot loader banner ($2)" || notok "$name: boot loader banner ($2)"
	# the boot loader's screen escapes may precede the guest's first line
	L2_INIT=${L2_INIT:-$(grep -m1 'thinvisor-guest: init started$' "$L2_CONSOLE" | cut -d' ' -f1)}
	[ -n "$L2_INIT" ] && ok "$name: kernel reaches init (${L2_INIT}s)" ||
		notok "$name: kernel reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
	l2_seen "^tvbios: arch $3\$" && ok "$name: a $3 kernel" || notok "$name: a $3 kernel"
	l2_seen '^tvbios: ata_piix bound$' && ok "$name: ata_piix drives the controller" ||
		notok "$name: ata_piix drives the controller"
	l2_seen '^tvbios: ata1\.00: ATA-6: thinvisor HARDDISK' && ok "$name: the disk identifies as ATA-6" ||
		notok "$name: the disk identifies as ATA-6"
	l2_seen '^tvbios: ata2\.00: ATAPI: thinvisor DVD-ROM' && ok "$name: the CD identifies as ATAPI" ||
		notok "$name: the CD identifies as ATAPI"
	l2_seen '^tvbios: DMI: thinvisor thinvisor virtual machine' && ok "$name: SMBIOS seen by Linux (DMI line)" ||
		notok "$name: SMBIOS seen by Linux (DMI line)"
	l2_seen "^tvbios: disk-sha $want\$" && ok "$name: guest reads the disk file (sha256)" ||
		notok "$name: guest reads the disk file (sha256)"
	l2_seen "^tvbios: cd-sha $want\$" && ok "$name: guest reads the CD file (sha256)" ||
		notok "$name: guest reads the CD file (sha256)"
	! l2_seen 'lost interrupt|timeout|exception Emask' && ok "$name: no libata timeouts or lost interrupts" ||
		notok "$name: no libata timeouts or lost interrupts" "$(grep -m1 -E 'lost interrupt|timeout|Emask' "$L2_CONSOLE")"
	[ "$L2_RC" = 0 ] && ok "$name: poweroff exits 0" || notok "$name: poweroff exits 0" "exit $L2_RC"
}

# boot 1: raw disk + CD, boot from the disk (syslinux), the 686 kernel, 1 vCPU; a virtio disk
# beside them (SeaBIOS enumerates PCI and may program BARs; thinvisor's stay where the monitor
# put them, so Linux must still find the device, take MSI-X and read it)
cp "$W/known.bin" "$W/vdisk.img"
l2_run bios-raw "$secs" "$TV" run --firmware bios --memory 512M --console stdio \
	--disk "path=$disk,if=ide,format=raw" --disk "path=$W/cd.iso,if=ide,media=cdrom,index=2" \
	--disk "path=$W/vdisk.img,format=raw"
guest_checks "bios raw disk" '^SYSLINUX 6\.04 ' "$darch"
l2_seen "^tvbios: vda-sha $want\$" && ok "bios raw disk: a virtio disk under SeaBIOS reads back (sha256)" ||
	notok "bios raw disk: a virtio disk under SeaBIOS reads back (sha256)" "$(grep -m2 -iE 'virtio|vda' "$L2_CONSOLE" | tr '\n' ' ')"
l2_seen '^tvbios: virtio MSI-X$' && ok "bios raw disk: the virtio disk interrupts through MSI-X" ||
	notok "bios raw disk: the virtio disk interrupts through MSI-X"
[ "$(mtype -i "$disk@@1M" ::out.txt 2>/dev/null)" = "written by the guest" ] &&
	ok "bios raw disk: the host reads the file the guest wrote" ||
	notok "bios raw disk: the host reads the file the guest wrote"
l2_record "thinvisor bios-raw-$darch" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"

# boot 2: the imported Virtual PC machine (undo disks on), from the CD, 64-bit, 2 vCPUs
mcopy -o -i "$disk@@1M" /dev/null ::out.txt 2>/dev/null
mkdir -p "$W/vpc" && "$TV" img convert -O vhd "$disk" "$W/vpc/disk.vhd" ||
	{ notok "bios: VHD" "img convert failed"; exit 0; }
python3 - "$W/vpc/m.vmc" <<'PY'
import sys
x = '''<?xml version="1.0" encoding="UTF-16"?>
<!-- Microsoft Virtual Machine Options and Settings -->
<preferences>
	<version type="string">2.0</version>
	<hardware>
		<memory>
			<ram_size type="integer">512</ram_size>
		</memory>
		<pci_bus>
			<ide_adapter>
				<ide_controller id="0">
					<location id="0">
						<drive_type type="integer">1</drive_type>
						<pathname>
							<absolute type="string">C:\\Virtual Machines\\m\\disk.vhd</absolute>
							<relative type="string">.\\disk.vhd</relative>
						</pathname>
					</location>
				</ide_controller>
				<ide_controller id="1">
					<location id="0">
						<drive_type type="integer">2</drive_type>
						<pathname>
							<absolute type="string">C:\\isos\\cd.iso</absolute>
							<relative type="string">..\\cd.iso</relative>
						</pathname>
					</location>
				</ide_controller>
			</ide_adapter>
		</pci_bus>
	</hardware>
	<settings>
		<undo_drives>
			<enabled type="boolean">true</enabled>
		</undo_drives>
	</settings>
</preferences>
'''
open(sys.argv[1], "wb").write(b"\xff\xfe" + x.replace("\n", "\r\n").encode("utf-16-le"))
PY
base_sum=$(sha256sum "$W/vpc/disk.vhd" | cut -d' ' -f1)
"$TV" import "$W/vpc/m.vmc" -o "$W/m.json" 2>/dev/null && [ -e "$W/m-undo-0-0.vhd" ] &&
	ok "bios import: the .vmc converts, with an undo disk" ||
	{ notok "bios import: the .vmc converts, with an undo disk"; exit 0; }
l2_run bios-import "$secs" "$TV" run --config "$W/m.json" --cpus 2 --console stdio --boot order=cd
guest_checks "bios imported machine, CD boot, 2 vCPUs" '^ISOLINUX 6\.04 ' x86_64
l2_seen '^tvbios: nproc 2$' && ok "bios imported machine: 2 vCPUs online" ||
	notok "bios imported machine: 2 vCPUs online"
"$TV" img convert -O raw "$W/m-undo-0-0.vhd" "$W/flat.img" &&
	[ "$(mtype -i "$W/flat.img@@1M" ::out.txt 2>/dev/null)" = "written by the guest" ] &&
	ok "bios imported machine: the guest's write is in the undo disk" ||
	notok "bios imported machine: the guest's write is in the undo disk"
[ "$(sha256sum "$W/vpc/disk.vhd" | cut -d' ' -f1)" = "$base_sum" ] &&
	ok "bios imported machine: the original VHD is untouched" ||
	notok "bios imported machine: the original VHD is untouched"
l2_record "thinvisor bios-import-cd" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"

# boot 3: the same imported machine from its own disk: SeaBIOS reads the MBR and syslinux from
# the undo disk (a differencing VHD over the dynamic one), 1 vCPU
unset L2_INIT
l2_run bios-import-disk "$secs" "$TV" run --config "$W/m.json" --cpus 1 --console stdio \
	--boot order=disk
guest_checks "bios imported machine, disk boot from the differencing VHD" '^SYSLINUX 6\.04 ' "$darch"
l2_record "thinvisor bios-import-disk" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
rm -rf "$W"/*.img "$W"/*.vhd "$W"/*.iso "$W/vpc" "$W/iso" "$W/vmlinuz" "$W/initrd.gz"
