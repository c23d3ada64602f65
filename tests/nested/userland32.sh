#!/usr/bin/env bash
# tests/nested/userland32.sh: Debian's 32-bit kernel (i386 linux-image-686, from
# tools/fetch-kernel-686 in $O/kernel-686) under thinvisor with an i386 busybox initramfs, 2 vCPUs:
# 32-bit userland runs (uname -m is i686, nproc 2) and poweroff exits 0.
# TEST-ENVIRONMENT.md once recorded the emulated AMD-V aborting at the first exception from
# 32-bit user mode; with this nested machine (tools/nested-run) it runs, so the test runs here
# too. It sorts last in the tier on purpose: should the emulator abort, only this test is lost.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}
k686=$TOP/$O/kernel-686

[ -c /dev/kvm ] || { notok "userland32" "no /dev/kvm here"; exit 0; }
kernel=$(ls "$k686"/root/boot/vmlinuz-*-686 2>/dev/null | sort -V | tail -n1)
[ -n "$kernel" ] && [ -x "$k686/root/bin/busybox" ] ||
	{ notok "userland32" "no 686 kernel or i386 busybox in $k686 (tools/fetch-kernel-686 $k686 failed?)"; exit 0; }
l2_initramfs --busybox "$k686/root/bin/busybox" || { notok "userland32" "mkinitramfs (i386) failed"; exit 0; }

l2_run userland32 "$secs" "$TV" run --kernel "$kernel" --initrd "$L2_INITRD" --cpus 2 --memory 512M \
	--console stdio --cmdline 'console=ttyS0 panic=-1 quiet tvtest="echo tv-arch=$(uname -m); echo tv-nproc=$(nproc)"'
name="userland32 cpus=2"
[ -n "$L2_INIT" ] && ok "$name: 32-bit init runs (${L2_INIT}s)" ||
	notok "$name: 32-bit init runs" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
l2_seen '^tv-arch=i686$' && ok "$name: uname -m is i686" || notok "$name: uname -m is i686"
l2_seen '^tv-nproc=2$' && ok "$name: nproc is 2" || notok "$name: nproc is 2"
[ "$L2_RC" = 0 ] && l2_seen '^thinvisor-guest: tvtest exit 0$' && ok "$name: poweroff exits 0" ||
	notok "$name: poweroff exits 0" "exit $L2_RC"
l2_record "thinvisor userland32 cpus=2" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
