#!/usr/bin/env bash
# bench/bios-boot.sh [REPS]: time from launch to the boot loader's first line and to init, for
# one disk image (MBR + FAT16 + syslinux booting Debian's kernel with a busybox initramfs):
#   thinvisor --firmware bios (SeaBIOS, IDE), thinvisor direct boot (--kernel, same kernel and
#   initramfs), QEMU -M pc (its own SeaBIOS, IDE) on the same image,
# interleaved, REPS times each (default 3), medians; in the same machine: this host when it has
# vmx/svm, else the nested machine (tools/nested-run). Writes bench/results-bios.md.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
reps=${1:-3}
W=$TOP/$O/bench/bios
if [ "${BENCH_INSIDE:-}" != 1 ]; then
	make -s O="$O" all
	mkdir -p "$W"
	kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1)
	printf '#!/bin/sh\ntrue\n' >"$W/init.sh"
	tools/mkinitramfs "$W/initrd.gz" --init "$W/init.sh" >/dev/null
	disk=$W/disk.img
	rm -f "$disk"
	truncate -s 64M "$disk"
	echo 'start=2048, type=6, bootable' | sfdisk -q "$disk"
	mkfs.vfat -F 16 --offset 2048 "$disk" $(((64 * 2048 - 2048) / 2)) >/dev/null
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
	syslinux --install --offset $((2048 * 512)) "$disk"
	printf 'SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 1\nLABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd.gz\n  APPEND console=ttyS0 panic=-1 quiet\n' >"$W/syslinux.cfg"
	cp "$kernel" "$W/vmlinuz"
	mcopy -i "$disk@@1M" "$W/vmlinuz" "$W/initrd.gz" "$W/syslinux.cfg" ::
	if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
		where="this host's KVM"
		BENCH_INSIDE=1 "$0" "$reps" >"$W/table.md"
	else
		where="the nested machine (QEMU TCG emulating AMD-V, 2 vCPUs, 4 GiB; tools/nested-run)"
		tools/nested-run -b --timeout 3000 -- env BENCH_INSIDE=1 "$0" "$reps" >"$W/table.md"
	fi
	{
		echo "Command: \`nice bench/bios-boot.sh $reps\` ($(date -u +%F), in $where; kernel"
		echo "$(basename "$kernel"), busybox initramfs, 1 vCPU, 512 MiB; load average at the start $(cut -d' ' -f1 /proc/loadavg))."
		echo
		cat "$W/table.md"
	} >bench/results-bios.md
	cat bench/results-bios.md
	exit 0
fi

# inside: one run of CMD; prints "LOADER INIT" seconds since launch ("-" when not seen)
one() {
	local start line now loader=- init=- t
	start=${EPOCHREALTIME/./}
	while IFS= read -r line; do
		now=${EPOCHREALTIME/./}
		t=$(printf '%d.%02d' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)))
		case "$line" in
		*SYSLINUX\ 6*) [ "$loader" = - ] && loader=$t ;;
		*thinvisor-guest:\ init\ started*) init=$t ;;
		esac
	done < <(timeout -k 5 300 "$@" </dev/null 2>&1)
	echo "$loader $init"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

disk=$W/disk.img
declare -A L I
for ((r = 0; r < reps; r++)); do
	for m in bios direct qemu; do
		case $m in
		bios) res=$(one "$O/thinvisor" run --firmware bios --memory 512M --console stdio \
			--disk "path=$disk,if=ide,format=raw,readonly=on") ;;
		direct) res=$(one "$O/thinvisor" run --kernel "$W/vmlinuz" --initrd "$W/initrd.gz" \
			--memory 512M --console stdio --cmdline "console=ttyS0 panic=-1 quiet") ;;
		qemu) # its IDE disk must be writable (snapshot=on wants /var/tmp): a copy
			cp --sparse=always "$disk" "$W/qemu-disk.img"
			res=$(one qemu-system-x86_64 -M pc -enable-kvm -cpu host -m 512 -smp 1 -display none \
			-nodefaults -serial stdio -no-reboot -drive "file=$W/qemu-disk.img,format=raw,if=ide") ;;
		esac
		L[$m]+="${res% *} "
		I[$m]+="${res#* } "
		echo "rep $r $m: loader ${res% *} s, init ${res#* } s" >&2
	done
done
echo "| path | launch to boot loader's first line (s) | launch to init (s) | runs (loader / init) |"
echo "|---|---|---|---|"
for m in bios direct qemu; do
	case $m in
	bios) name="thinvisor --firmware bios (SeaBIOS, IDE)" ;;
	direct) name="thinvisor direct boot (--kernel, no boot loader)" ;;
	qemu) name="QEMU -M pc (SeaBIOS, IDE)" ;;
	esac
	echo "| $name | $(tr ' ' '\n' <<<"${L[$m]}" | grep -v '^-*$' | median) | $(tr ' ' '\n' <<<"${I[$m]}" | grep -v '^-*$' | median) | ${L[$m]}/ ${I[$m]}|"
done
