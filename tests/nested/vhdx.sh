#!/usr/bin/env bash
# tests/nested/vhdx.sh: Hyper-V's VHDX disks under Debian's stock kernel (virtio-blk), one guest
# boot with two disks made by thinvisor img:
#   vda: a dynamic VHDX with 4096-byte logical sectors (the guest must see 4096), 8 MiB of data;
#   vdb: a differencing .avhdx (512-byte sectors) over a dynamic VHDX, data in both layers.
# The guest checks sector sizes and sizes, reads both disks (sha256 against what the host wrote,
# computed independently with dd), writes 1 MiB into each (vdb: into a block the child does not
# have yet), drops its caches and reads the writes back; after poweroff the host checks both
# images (img check) and their contents against a raw reference; no kernel warnings.
# A copy of vda on IDE (sda): ATA moves 512-byte sectors, so it must say 512 logical, 4096
# physical (IDENTIFY word 106), and read the same data.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-300}
MiB=1048576

[ -c /dev/kvm ] || { notok "vhdx" "no /dev/kvm here"; exit 0; }
[ -x "$TV" ] || { notok "vhdx" "no $TV (run make)"; exit 0; }
l2_kernel || { notok "vhdx" "no /boot/vmlinuz-*"; exit 0; }
l2_initramfs --modules "virtio_pci virtio_blk ata_piix sd_mod" || { notok "vhdx" "tools/mkinitramfs failed"; exit 0; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# Disks and their raw references (built with dd, not through thinvisor).
head -c $((8 * MiB)) /dev/urandom >"$d/a8"
head -c $((8 * MiB)) /dev/urandom >"$d/p8"
head -c $((2 * MiB)) /dev/urandom >"$d/c2"
"$TV" img create -f vhdx -o logical_sector_size=4096,block_size=1M "$d/a.vhdx" 16M >/dev/null &&
	"$TV" img write "$d/a.vhdx" 0 "$d/a8" >/dev/null &&
	"$TV" img create -f vhdx -o block_size=1M "$d/p.vhdx" 16M >/dev/null &&
	"$TV" img write "$d/p.vhdx" 0 "$d/p8" >/dev/null &&
	"$TV" img create -f vhdx -b "$d/p.vhdx" "$d/b.avhdx" >/dev/null &&
	"$TV" img write "$d/b.avhdx" $((4 * MiB)) "$d/c2" >/dev/null || { notok "vhdx: set-up" "img failed"; exit 0; }
truncate -s 16M "$d/a.raw" "$d/b.raw"
dd if="$d/a8" of="$d/a.raw" conv=notrunc status=none
dd if="$d/p8" of="$d/b.raw" conv=notrunc status=none
dd if="$d/c2" of="$d/b.raw" bs=1M seek=4 conv=notrunc status=none
a_sha=$(head -c $((8 * MiB)) "$d/a.raw" | sha256sum | cut -d' ' -f1)
b_sha=$(head -c $((8 * MiB)) "$d/b.raw" | sha256sum | cut -d' ' -f1)
cp "$d/a.vhdx" "$d/ide.vhdx"
yes tvdata | head -c $MiB >"$d/pat"
pat_sha=$(sha256sum <"$d/pat" | cut -d' ' -f1)
dd if="$d/pat" of="$d/a.raw" bs=1M seek=5 conv=notrunc status=none
dd if="$d/pat" of="$d/b.raw" bs=1M seek=11 conv=notrunc status=none

guest='set -u
for x in vda vdb; do
	echo tv-$x=$(cat /sys/block/$x/queue/logical_block_size),$(cat /sys/block/$x/size)
	echo tv-$x-sha=$(head -c 8388608 /dev/$x | sha256sum | cut -d" " -f1)
done
i=0
while [ ! -e /sys/block/sda ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
echo tv-sda=$(cat /sys/block/sda/queue/logical_block_size),$(cat /sys/block/sda/queue/physical_block_size)
echo tv-sda-sha=$(head -c 8388608 /dev/sda | sha256sum | cut -d" " -f1)
yes tvdata | head -c 1048576 >/tmp/pat
dd if=/tmp/pat of=/dev/vda bs=4096 seek=1280 2>/dev/null
dd if=/tmp/pat of=/dev/vdb bs=4096 seek=2816 2>/dev/null
sync
echo 3 >/proc/sys/vm/drop_caches
echo tv-vda-back=$(dd if=/dev/vda bs=4096 skip=1280 count=256 2>/dev/null | sha256sum | cut -d" " -f1)
echo tv-vdb-back=$(dd if=/dev/vdb bs=4096 skip=2816 count=256 2>/dev/null | sha256sum | cut -d" " -f1)
dmesg | grep -E "BUG:|WARNING:|I/O error|virtio_blk.*(error|fail)" | grep -v "xstate.c:606" | sed "s/^/tv-bad: /"
true'
g64=$(printf '%s' "$guest" | base64 -w0)
l2_run vhdx "$secs" "$TV" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" --memory 256M \
	--console stdio --disk "$d/a.vhdx" --disk "path=$d/b.avhdx,format=vhdx" \
	--disk "path=$d/ide.vhdx,if=ide" \
	--cmdline "console=ttyS0 panic=-1 quiet tvtest64=$g64"

kv() { cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' | sed -n "s/^$1=//p" | head -n1; }
if [ -z "$L2_INIT" ]; then
	notok "vhdx: guest reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
	exit 0
fi
[ "$(kv tv-vda)" = 4096,32768 ] && ok "vhdx: a 4096-byte-sector VHDX is a 4096-byte-sector disk to Linux (blk_size)" ||
	notok "vhdx: 4096-byte sectors reported" "$(kv tv-vda)"
[ "$(kv tv-vdb)" = 512,32768 ] && ok "vhdx: the .avhdx is a 512-byte-sector 16 MiB disk" ||
	notok "vhdx: .avhdx geometry" "$(kv tv-vdb)"
[ "$(kv tv-vda-sha)" = "$a_sha" ] && ok "vhdx: the guest reads the 4096-sector VHDX's data" ||
	notok "vhdx: guest read of vda" "$(kv tv-vda-sha)"
[ "$(kv tv-vdb-sha)" = "$b_sha" ] && ok "vhdx: the guest reads the differencing chain (child over parent)" ||
	notok "vhdx: guest read of vdb" "$(kv tv-vdb-sha)"
[ "$(kv tv-sda)" = 512,4096 ] && [ "$(kv tv-sda-sha)" = "$a_sha" ] &&
	ok "vhdx: the same VHDX on IDE is 512-byte logical, 4096-byte physical (word 106), same data" ||
	notok "vhdx: 4096-sector VHDX on IDE" "$(kv tv-sda) $(kv tv-sda-sha)"
[ "$(kv tv-vda-back)" = "$pat_sha" ] && [ "$(kv tv-vdb-back)" = "$pat_sha" ] &&
	ok "vhdx: the guest's writes read back after dropping its caches" ||
	notok "vhdx: guest writes read back" "$(kv tv-vda-back) $(kv tv-vdb-back)"
for x in a.vhdx b.avhdx; do
	"$TV" img check "$d/$x" >/dev/null && ok "vhdx: $x checks clean after the guest's writes" ||
		notok "vhdx: $x check" "$("$TV" img check "$d/$x" 2>&1 | tail -n1)"
done
"$TV" img compare "$d/a.vhdx" "$d/a.raw" >/dev/null && "$TV" img compare "$d/b.avhdx" "$d/b.raw" >/dev/null &&
	ok "vhdx: both images hold exactly what the host and the guest wrote" ||
	notok "vhdx: image contents after the guest"
l2_seen '^tv-bad: ' && notok "vhdx: no kernel BUGs, WARNINGs or I/O errors" "$(grep -m2 'tv-bad: ' "$L2_CONSOLE" | cut -d' ' -f3- | tr '\n' '|')" ||
	ok "vhdx: no kernel BUGs, WARNINGs or I/O errors"
[ "$L2_RC" = 0 ] && ok "vhdx: poweroff exits 0" || notok "vhdx: poweroff exits 0" "exit $L2_RC"
l2_record "thinvisor vhdx" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
