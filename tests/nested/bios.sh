#!/usr/bin/env bash
# tests/nested/bios.sh: the BIOS path with real firmware and real boot loaders, images built
# here without root. Two boots:
#  1. SeaBIOS boots a raw disk (MBR from syslinux's mbr.bin, FAT16 made by mkfs.vfat + mtools,
#     `syslinux --install`) from IDE primary master; syslinux.cfg boots Debian's kernel with a
#     busybox initramfs; an ISO (genisoimage) is on the secondary master. In the guest ata_piix
#     finds both, the guest reads a file of known sha256 from the disk and from the CD and
#     writes one that the host checks afterwards.
#  2. The same disk as a differencing VHD over a dynamic VHD, 2 vCPUs, --boot order=cd: SeaBIOS
#     boots the ISO (isolinux) from the IDE CD-ROM, the guest reads the disk through the chain;
#     the write lands in the child, the parent is untouched.
# Plus the one-line refusals (no boots): a missing and a truncated BIOS image, an ISO that is not.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-300}
W=$TOP/$O/nested/bios
rm -rf "$W" && mkdir -p "$W"

# --- refusals (host-side, no KVM needed beyond parsing) ---
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
echo "tvbios: guest up"
dmesg | grep -E 'ata[0-9]\.0[01]: (ATA-[0-9]+|ATAPI):' | sed 's/^\[[ 0-9.]*\] /tvbios: /'
dmesg | grep -qE 'scsi host[0-9]: ata_piix' && echo "tvbios: ata_piix bound"
mkdir -p /mnt /cd
mount -t vfat /dev/sda1 /mnt && echo "tvbios: disk-sha $(sha256sum /mnt/known.bin | cut -d' ' -f1)"
echo "written by the guest" >/mnt/out.txt
umount /mnt
mount -t iso9660 -o ro /dev/sr0 /cd && echo "tvbios: cd-sha $(sha256sum /cd/known.bin | cut -d' ' -f1)"
umount /cd
sync
echo "tvbios: nproc $(nproc)"
EOS
l2_initramfs --init "$W/init.sh" --modules "ata_piix sd_mod sr_mod vfat isofs nls_cp437 nls_ascii" ||
	{ notok "bios" "mkinitramfs failed"; exit 0; }
head -c 1M /dev/urandom >"$W/known.bin"
want=$(sha256sum "$W/known.bin" | cut -d' ' -f1)
cfg="DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 panic=-1 quiet"

# the disk: MBR, one FAT16 partition at 1 MiB, syslinux
disk=$W/disk.img
truncate -s 64M "$disk" && echo 'start=2048, type=6, bootable' | sfdisk -q "$disk" &&
	mkfs.vfat -F 16 --offset 2048 "$disk" $(((64 * 2048 - 2048) / 2)) >/dev/null &&
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none &&
	syslinux --install --offset $((2048 * 512)) "$disk" &&
	echo "$cfg" >"$W/syslinux.cfg" && cp "$L2_KERNEL" "$W/vmlinuz" && cp "$L2_INITRD" "$W/initrd.gz" &&
	mcopy -i "$disk@@1M" "$W/vmlinuz" "$W/initrd.gz" "$W/syslinux.cfg" "$W/known.bin" :: ||
	{ notok "bios: disk image" "building it failed"; exit 0; }
# the CD: isolinux
mkdir -p "$W/iso/isolinux" && cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$W/iso/isolinux/" &&
	echo "$cfg" >"$W/iso/isolinux/isolinux.cfg" && cp "$W/vmlinuz" "$W/initrd.gz" "$W/known.bin" "$W/iso/" &&
	genisoimage -quiet -o "$W/cd.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table -J -R "$W/iso" ||
	{ notok "bios: ISO image" "genisoimage failed"; exit 0; }
head -c 1M /dev/zero >"$W/notiso.iso"
expect_only_error "bios: an ISO that is not one" 1 \
	"thinvisor: error: disk '$W/notiso.iso': not an ISO 9660 image (no CD001 volume descriptor at sector 16)" \
	"$TV" run --firmware bios --console none --disk "path=$W/notiso.iso,if=ide,media=cdrom"

guest_checks() { # NAME
	local name=$1 n
	l2_seen 'SeaBIOS \(version ' && ok "$name: SeaBIOS banner on the serial console" ||
		notok "$name: SeaBIOS banner on the serial console"
	l2_seen "$2" && ok "$name: boot loader banner ($2)" || notok "$name: boot loader banner ($2)"
	# the boot loader's screen escapes may precede the guest's first line
	L2_INIT=${L2_INIT:-$(grep -m1 'thinvisor-guest: init started$' "$L2_CONSOLE" | cut -d' ' -f1)}
	[ -n "$L2_INIT" ] && ok "$name: kernel reaches init (${L2_INIT}s)" ||
		notok "$name: kernel reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
	l2_seen '^tvbios: ata_piix bound$' && ok "$name: ata_piix drives the controller" ||
		notok "$name: ata_piix drives the controller"
	l2_seen '^tvbios: ata1\.00: ATA-6: thinvisor HARDDISK' && ok "$name: the disk identifies as ATA-6" ||
		notok "$name: the disk identifies as ATA-6"
	l2_seen '^tvbios: ata2\.00: ATAPI: thinvisor DVD-ROM' && ok "$name: the CD identifies as ATAPI" ||
		notok "$name: the CD identifies as ATAPI"
	l2_seen "^tvbios: disk-sha $want\$" && ok "$name: guest reads the disk file (sha256)" ||
		notok "$name: guest reads the disk file (sha256)"
	l2_seen "^tvbios: cd-sha $want\$" && ok "$name: guest reads the CD file (sha256)" ||
		notok "$name: guest reads the CD file (sha256)"
	[ "$L2_RC" = 0 ] && ok "$name: poweroff exits 0" || notok "$name: poweroff exits 0" "exit $L2_RC"
}

# boot 1: raw disk + CD, boot from the disk
l2_run bios-raw "$secs" "$TV" run --firmware bios --memory 512M --console stdio \
	--disk "path=$disk,if=ide,format=raw" --disk "path=$W/cd.iso,if=ide,media=cdrom,index=2"
guest_checks "bios raw disk" '^SYSLINUX 6\.04 '
[ "$(mtype -i "$disk@@1M" ::out.txt 2>/dev/null)" = "written by the guest" ] &&
	ok "bios raw disk: the host reads the file the guest wrote" ||
	notok "bios raw disk: the host reads the file the guest wrote"
l2_record "thinvisor bios-raw" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"

# boot 2: differencing VHD over a dynamic VHD, 2 vCPUs, boot from the CD
mcopy -o -i "$disk@@1M" /dev/null ::out.txt 2>/dev/null
"$TV" img convert -O vhd "$disk" "$W/base.vhd" && "$TV" img create -f vhd -b base.vhd "$W/child.vhd" ||
	{ notok "bios: VHD chain" "img convert/create failed"; exit 0; }
base_sum=$(sha256sum "$W/base.vhd" | cut -d' ' -f1)
l2_run bios-vhd "$secs" "$TV" run --firmware bios --memory 512M --cpus 2 --console stdio --boot order=cd \
	--disk "path=$W/child.vhd,if=ide" --disk "path=$W/cd.iso,if=ide,media=cdrom,index=2"
guest_checks "bios CD boot, differencing VHD, 2 vCPUs" '^ISOLINUX 6\.04 '
l2_seen '^tvbios: nproc 2$' && ok "bios CD boot: 2 vCPUs online" || notok "bios CD boot: 2 vCPUs online"
"$TV" img convert -O raw "$W/child.vhd" "$W/flat.img" &&
	[ "$(mtype -i "$W/flat.img@@1M" ::out.txt 2>/dev/null)" = "written by the guest" ] &&
	ok "bios differencing VHD: the guest's write is in the chain" ||
	notok "bios differencing VHD: the guest's write is in the chain"
[ "$(sha256sum "$W/base.vhd" | cut -d' ' -f1)" = "$base_sum" ] &&
	ok "bios differencing VHD: the parent is untouched" ||
	notok "bios differencing VHD: the parent is untouched"
l2_record "thinvisor bios-vhd-cd" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
rm -f "$W"/*.img "$W"/*.vhd "$W"/*.iso "$W/vmlinuz" "$W/initrd.gz"
