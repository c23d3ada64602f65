#!/usr/bin/env bash
# tests/nested/qemu-peer.sh: the peer monitor. Boots Debian's 64-bit kernel with the test guest
# initramfs under QEMU (-M microvm -enable-kvm) with 1 and 2 vCPUs, checks that the guest reaches
# init, sees as many CPUs as it was given, and powers off (QEMU ends by itself). Records
# boot-to-init times in $O/nested/times.txt, to compare thinvisor against in the same machine.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}

if ! command -v qemu-system-x86_64 >/dev/null; then skip_tier "qemu-peer: no qemu-system-x86_64"; exit 0; fi
if ! [ -c /dev/kvm ]; then notok "qemu-peer" "no /dev/kvm here"; exit 0; fi
if ! l2_kernel; then notok "qemu-peer" "no /boot/vmlinuz-*"; exit 0; fi
if ! l2_initramfs; then notok "qemu-peer" "tools/mkinitramfs failed"; exit 0; fi

for n in 1 2; do
	name="qemu-peer smp=$n"
	l2_run "qemu-peer-smp$n" "$secs" qemu-system-x86_64 -M microvm -enable-kvm -cpu host \
		-m 256 -smp "$n" -nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-append "console=ttyS0 panic=-1 quiet tvtest=\"echo tv-nproc=\$(nproc)\""
	if [ -n "$L2_INIT" ]; then
		ok "$name: reaches init in ${L2_INIT}s"
	else
		notok "$name: reaches init" "no init line; exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
	fi
	if l2_seen "^tv-nproc=$n\$"; then
		ok "$name: guest sees $n CPU(s)"
	else
		notok "$name: guest sees $n CPU(s)" "$(grep -o 'tv-nproc=.*' "$L2_CONSOLE" || echo 'no nproc line')"
	fi
	if [ "$L2_RC" = 0 ] && l2_seen '^thinvisor-guest: tvtest exit 0$'; then
		ok "$name: poweroff ends the VM (${L2_TOTAL}s in all)"
	else
		notok "$name: poweroff ends the VM" "QEMU exit $L2_RC after ${L2_TOTAL}s"
	fi
	echo "# $name: boot-to-init ${L2_INIT:-none}s, total ${L2_TOTAL}s (console: $L2_CONSOLE)"
	l2_record "qemu-peer smp=$n" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
done
