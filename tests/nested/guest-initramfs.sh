#!/usr/bin/env bash
# tests/nested/guest-initramfs.sh: the test guest's features other nested tests rely on, under the
# QEMU peer: modules given to tools/mkinitramfs load at boot, a tvtest64= script runs,
# tvexit=shell keeps the guest up, and the ACPI power button (QEMU's system_powerdown) makes
# acpid power the guest off.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}

if ! command -v qemu-system-x86_64 >/dev/null; then skip_tier "guest-initramfs: no qemu-system-x86_64"; exit 0; fi
if ! command -v python3 >/dev/null; then skip_tier "guest-initramfs: no python3 to drive QEMU's monitor"; exit 0; fi
if ! [ -c /dev/kvm ]; then notok "guest-initramfs" "no /dev/kvm here"; exit 0; fi
if ! l2_kernel; then notok "guest-initramfs" "no /boot/vmlinuz-*"; exit 0; fi
if ! l2_initramfs --modules "button evdev"; then notok "guest-initramfs" "tools/mkinitramfs --modules failed"; exit 0; fi

d=$(mktemp -d)
con=$L2_LOGS/guest-initramfs.console
script=$(printf 'echo tv-script-ran\nls /dev/input\n' | base64 -w0)
# boot: start the guest and wait for its test script to end; returns 1 if the console stayed
# silent for L2_STALL seconds (the emulated AMD-V's rare freezes, see lib-l2.sh)
boot() {
	local i=0 size=0 now quiet=0
	rm -f "$con"
	timeout -k 5 "$secs" qemu-system-x86_64 -M microvm -enable-kvm -cpu host -m 256 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot -serial "file:$con" \
		-monitor "unix:$d/mon,server=on,wait=off" -kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-append "console=ttyS0 panic=-1 quiet tvtest64=$script tvexit=shell" </dev/null &
	q=$!
	while [ $i -lt "$secs" ] && kill -0 $q 2>/dev/null && ! grep -q 'thinvisor-guest: tvtest exit' "$con" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		now=$(stat -c %s "$con" 2>/dev/null)
		[ "$now" = "$size" ] && quiet=$((quiet + 1)) || quiet=0
		size=$now
		[ $quiet -lt "${L2_STALL:-150}" ] && continue
		kill $q && wait $q
		return 1
	done
}
if ! boot; then
	l2_first_failed guest-initramfs "no console output for ${L2_STALL:-150}s" "$con"
	boot
fi
tr -d '\r' <"$con" | grep -qx 'tv-script-ran' && ok "guest-initramfs: tvtest64 script runs" ||
	notok "guest-initramfs: tvtest64 script runs" "$(tail -n 3 "$con" | tr -d '\r' | tr '\n' ' ')"
tr -d '\r' <"$con" | grep -q 'event0' && ok "guest-initramfs: modules load at boot (button, evdev)" ||
	notok "guest-initramfs: modules load at boot (button, evdev)" "no /dev/input/event0"
up_before=0
kill -0 $q 2>/dev/null && up_before=1
# press the power button every 20 s until the guest is off (at most 200 s: this tier is slow)
i=0
while [ $i -lt 200 ] && kill -0 $q 2>/dev/null; do
	[ $((i % 20)) = 0 ] && python3 - "$d/mon" <<'EOF' >/dev/null 2>&1
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096)
s.sendall(b"system_powerdown\n"); time.sleep(1)
EOF
	sleep 1
	i=$((i + 1))
done
if kill -0 $q 2>/dev/null; then
	kill $q
	wait $q
	notok "guest-initramfs: ACPI power button powers off (tvexit=shell kept it up)" "still running 200s after the first system_powerdown"
else
	wait $q
	rc=$?
	if [ $up_before = 0 ]; then
		notok "guest-initramfs: ACPI power button powers off" "the guest had stopped before (QEMU exit $rc; tvexit=shell ignored?)"
	elif [ $rc = 0 ]; then
		ok "guest-initramfs: ACPI power button powers off (tvexit=shell kept it up) in ${i}s"
	else
		notok "guest-initramfs: ACPI power button powers off" "QEMU exit $rc"
	fi
fi
rm -rf "$d"
