#!/usr/bin/env bash
# tests/nested/qemu-peer-686.sh: the peer monitor with Debian's 32-bit kernel (686) and a 32-bit
# busybox initramfs: QEMU (-M microvm -enable-kvm) boots it to init, the guest reports i686 and
# powers off. Needs the kernel fetched beforehand on a machine with network access:
# tools/fetch-kernel-686 $O/kernel-686 (else this test says skip).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}
dir=$TOP/$O/kernel-686
k=$(ls "$dir"/root/boot/vmlinuz-*-686 2>/dev/null | sort -V | tail -n1)
if [ -z "$k" ] || [ ! -x "$dir/root/bin/busybox" ]; then
	skip_tier "qemu-peer-686: no 32-bit kernel in $O/kernel-686 (run tools/fetch-kernel-686 $O/kernel-686)"
	exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null; then skip_tier "qemu-peer-686: no qemu-system-x86_64"; exit 0; fi
if ! [ -c /dev/kvm ]; then notok "qemu-peer-686" "no /dev/kvm here"; exit 0; fi
if ! l2_initramfs --busybox "$dir/root/bin/busybox"; then notok "qemu-peer-686" "tools/mkinitramfs failed"; exit 0; fi

name="qemu-peer-686 smp=1"
l2_run qemu-peer-686 "$secs" qemu-system-x86_64 -M microvm -enable-kvm -cpu host \
	-m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio \
	-kernel "$k" -initrd "$L2_INITRD" \
	-append "console=ttyS0 panic=-1 quiet tvtest=\"echo tv-arch=\$(uname -m)\""
if [ -n "$L2_INIT" ]; then
	ok "$name: $(basename "$k") reaches init in ${L2_INIT}s"
else
	notok "$name: $(basename "$k") reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
fi
if l2_seen '^tv-arch=i686$'; then
	ok "$name: 32-bit userland runs (uname -m = i686)"
else
	notok "$name: 32-bit userland runs" "$(grep -o 'tv-arch=.*' "$L2_CONSOLE" || echo 'no uname line')"
fi
if [ "$L2_RC" = 0 ] && l2_seen '^thinvisor-guest: tvtest exit 0$'; then
	ok "$name: poweroff ends the VM (${L2_TOTAL}s in all)"
else
	notok "$name: poweroff ends the VM" "QEMU exit $L2_RC after ${L2_TOTAL}s"
fi
echo "# $name: boot-to-init ${L2_INIT:-none}s, total ${L2_TOTAL}s (console: $L2_CONSOLE)"
l2_record "$name" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
