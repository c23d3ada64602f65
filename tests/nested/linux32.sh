#!/usr/bin/env bash
# tests/nested/linux32.sh: Debian's 32-bit kernel (i386 linux-image-686, unpacked by
# tools/fetch-kernel-686 into $O/kernel-686 before the nested machine starts) under thinvisor through
# the 32-bit boot protocol, with 2 vCPUs: every vCPU comes up, the memory is seen, and the kernel
# starts init. In the emulated AMD-V machine (NESTED_RUN=1) a 32-bit guest's first user-mode
# exception aborts the emulator (TEST-ENVIRONMENT.md), so there the initramfs holds only 64-bit
# binaries: the kernel runs /init, cannot exec it, panics, and panic=-1 reboots (exit 2) before
# any 32-bit user code runs. With real VT-x/AMD-V the guest goes on into a 32-bit busybox
# userland and powers off.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}
k686=$TOP/$O/kernel-686

[ -c /dev/kvm ] || { notok "linux32" "no /dev/kvm here"; exit 0; }
kernel=$(ls "$k686"/root/boot/vmlinuz-*-686 2>/dev/null | sort -V | tail -n1)
[ -n "$kernel" ] || { notok "linux32" "no 686 kernel in $k686 (tools/fetch-kernel-686 $k686 failed?)"; exit 0; }

if [ "${NESTED_RUN:-}" = 1 ]; then
	l2_initramfs || { notok "linux32" "tools/mkinitramfs failed"; exit 0; }
	userland=0
else
	l2_initramfs --busybox "$k686/root/bin/busybox" || { notok "linux32" "mkinitramfs (i386) failed"; exit 0; }
	userland=1
fi

l2_run linux32 "$secs" "$TV" run --kernel "$kernel" --initrd "$L2_INITRD" --cpus 2 --memory 512M \
	--console stdio --cmdline 'console=ttyS0 panic=-1 tvtest="echo tv-nproc=$(nproc)"'
name="linux32 cpus=2 mem=512M"
l2_seen 'Linux version .*686' && ok "$name: the 32-bit kernel runs" ||
	notok "$name: the 32-bit kernel runs" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
l2_seen 'smp: Brought up 1 node, 2 CPUs' && ok "$name: both vCPUs come up" ||
	notok "$name: both vCPUs come up" "$(grep -m1 'smp: Brought up' "$L2_CONSOLE" | cut -d' ' -f2-)"
mem=$(sed -n 's/.*Memory: [0-9]*K\/\([0-9]*\)K available.*/\1/p' "$L2_CONSOLE" | head -n1)
[ -n "$mem" ] && [ "$mem" -ge $((512 * 1024 * 95 / 100)) ] && [ "$mem" -le $((512 * 1024)) ] &&
	ok "$name: the kernel sees ${mem}K of 512M" || notok "$name: the kernel sees the memory" "Memory line: ${mem:-none}"
l2_seen 'Run /init as init process' && ok "$name: starts init" || notok "$name: starts init"
if [ $userland = 0 ]; then
	[ "$L2_RC" = 2 ] && l2_seen 'No working init found' &&
		ok "$name: 64-bit-only initramfs: panic and reboot, exit 2" ||
		notok "$name: panic and reboot, exit 2" "exit $L2_RC"
	echo "# linux32: 32-bit userland not run here (emulated AMD-V aborts on it)"
else
	l2_seen '^tv-nproc=2$' && [ "$L2_RC" = 0 ] && ok "$name: 32-bit userland sees 2 CPUs, poweroff exits 0" ||
		notok "$name: 32-bit userland and poweroff" "exit $L2_RC"
fi
l2_record "thinvisor linux32 cpus=2" "rc=$L2_RC" "total=$L2_TOTAL"
