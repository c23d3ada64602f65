#!/usr/bin/env bash
# tests/nested/linux64.sh: Debian's stock 64-bit kernel under thinvisor: boots to userspace with
# 1 and 2 vCPUs (nproc matches), MemTotal matches --memory (also across the PCI hole), the guest's
# clock is within a few seconds of the host's, its CPU model name is the host's, its timer is the
# LAPIC's TSC deadline, its ECAM covers bus 0 alone, dmesg carries no ACPI errors, BUGs or
# WARNINGs (but the one XSAVE warning the emulated AMD-V causes, see TEST-ENVIRONMENT.md),
# poweroff exits 0, reboot exits 2 (or restarts with --on-reboot restart), and a vmlinux ELF
# boots through PVH.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
. "$TOP/tools/nested/lib.sh"
secs=${L2_TIMEOUT:-400}

[ -c /dev/kvm ] || { notok "linux64" "no /dev/kvm here"; exit 0; }
[ -x "$TV" ] || { notok "linux64" "no $TV (run make)"; exit 0; }
l2_kernel || { notok "linux64" "no /boot/vmlinuz-*"; exit 0; }
l2_initramfs || { notok "linux64" "tools/mkinitramfs failed"; exit 0; }

# The guest prints what the test checks, one "tv-KEY=VALUE" line each.
probe='echo tv-nproc=$(nproc); echo tv-cpus=$(grep -c ^processor /proc/cpuinfo);
echo tv-memtotal=$(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo);
echo tv-date=$(date +%s);
echo tv-model=$(sed -n "s/^model name[^:]*: //p" /proc/cpuinfo | head -n1);
echo tv-clockevent=$(cat /sys/devices/system/clockevents/clockevent0/current_device);
dmesg | grep -E "ACPI (Error|Warning|BIOS Error|BIOS Warning|Exception)|BUG:|WARNING:" |
 grep -v "xstate.c:606" | sed "s/^/tv-bad: /";
dmesg | grep -E "ttyS0 at I/O 0x3f8.*16550A" | sed "s/^.*\] /tv-uart: /";
echo tv-mmconfig=$(grep -o "PCI MMCONFIG 0000 \[bus [0-9a-f-]*\]" /proc/iomem);
echo tv-pci=$(cat /sys/bus/pci/devices/0000:00:00.0/vendor):$(cat /sys/bus/pci/devices/0000:00:00.0/device):$(cat /sys/bus/pci/devices/0000:00:00.0/class)'
probe64=$(printf '%s' "$probe" | base64 -w0)

kv() { cut -d' ' -f2- "$L2_CONSOLE" | sed -n "s/^$1=//p" | head -n1; }

boot() { # boot NAME EXTRA-THINVISOR-ARGS... (cmdline appended from $extra_cmdline)
	local name=$1
	shift
	l2_run "$name" "$secs" "$TV" run --kernel "${kernel:-$L2_KERNEL}" --initrd "$L2_INITRD" \
		--console stdio --stats "$@" --cmdline "console=ttyS0 panic=-1 tvtest64=$probe64 ${extra_cmdline:-}"
}

check_guest() { # check_guest NAME CPUS MEM_MIB
	local name=$1 cpus=$2 mib=$3 mem gdate tline want
	if [ -n "$L2_INIT" ]; then ok "$name: reaches init in ${L2_INIT}s"; else
		notok "$name: reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
		return
	fi
	[ "$(kv tv-nproc)" = "$cpus" ] && [ "$(kv tv-cpus)" = "$cpus" ] && ok "$name: nproc is $cpus" ||
		notok "$name: nproc is $cpus" "nproc=$(kv tv-nproc) cpuinfo=$(kv tv-cpus)"
	mem=$(kv tv-memtotal)
	# The kernel keeps its image, page tables and reservations: allow 12% + 48 MiB below.
	if [ -n "$mem" ] && [ "$mem" -le $((mib * 1024)) ] && [ "$mem" -ge $((mib * 1024 * 88 / 100 - 49152)) ]; then
		ok "$name: MemTotal ${mem} kB for --memory ${mib}M"
	else notok "$name: MemTotal matches --memory ${mib}M" "MemTotal=${mem:-none} kB"; fi
	gdate=$(kv tv-date)
	tline=$(grep -m1 ' tv-date=' "$L2_CONSOLE" | cut -d' ' -f1)
	# the host's time when the line arrived: the start of the run that was kept (a rerun has
	# its own) plus the line's offset, "S.CC" seconds
	[ -n "$tline" ] && want=$(((L2_START_US / 10000 + 10#${tline/./}) / 100)) || want=0
	if [ -n "$gdate" ] && [ $((gdate - want)) -le 5 ] && [ $((want - gdate)) -le 5 ]; then
		ok "$name: guest clock within 5 s of the host's ($((gdate - want)) s)"
	else notok "$name: guest clock within 5 s of the host's" "guest ${gdate:-none}, host ~$want"; fi
	if ! l2_seen '^tv-bad: '; then ok "$name: dmesg has no ACPI errors, BUGs or WARNINGs"; else
		notok "$name: dmesg has no ACPI errors, BUGs or WARNINGs" "$(grep -m3 'tv-bad: ' "$L2_CONSOLE" | cut -d' ' -f3- | tr '\n' '|')"
	fi
	l2_seen '^tv-uart: .*ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A' &&
		ok "$name: the UART is a 16550A on IRQ 4" || notok "$name: the UART is a 16550A on IRQ 4" "$(kv tv-uart)"
	[ "$(kv tv-clockevent)" = lapic-deadline ] && ok "$name: the timer is the LAPIC's TSC deadline" ||
		notok "$name: the timer is the LAPIC's TSC deadline" "clockevent0 is $(kv tv-clockevent)"
	# KVM's CPUID has no brand string; the monitor copies the host's (as QEMU's -cpu host does)
	local model
	model=$(echo $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1))
	[ -n "$model" ] && [ "$(kv tv-model)" = "$model" ] && ok "$name: the CPU's model name is the host's" ||
		notok "$name: the CPU's model name is the host's" "guest '$(kv tv-model)', host '$model'"
	[ "$(kv tv-pci)" = "0x1b36:0x0008:0x060000" ] && ok "$name: the PCI host bridge is 00:00.0 (1b36:0008, class 060000)" ||
		notok "$name: the PCI host bridge is 00:00.0" "sysfs says $(kv tv-pci)"
	# the MCFG describes bus 0 alone and Linux takes it (it once rejected a lone bus 0-0 entry)
	[ "$(kv tv-mmconfig)" = "PCI MMCONFIG 0000 [bus 00-00]" ] && ok "$name: Linux uses ECAM for bus 0 only" ||
		notok "$name: Linux uses ECAM for bus 0 only" "/proc/iomem: $(kv tv-mmconfig)"
	# writes to CONFIG_ADDRESS are coalesced: thousands of config accesses, few 0xcf8 exits
	local ports cf8 cfc
	ports=$(cut -d' ' -f2- "$L2_CONSOLE" | sed -n 's/^thinvisor: busiest ports: //p' | tail -n1)
	cf8=$(tr ' ' '\n' <<<"$ports" | sed -n 's/^0xcf8=//p') cfc=$(tr ' ' '\n' <<<"$ports" | sed -n 's/^0xcfc=//p')
	[ "${cfc:-0}" -gt 1000 ] && [ "${cf8:-0}" -lt $((cfc / 50)) ] &&
		ok "$name: PCI config-address writes coalesced (${cfc} 0xcfc exits, ${cf8:-0} 0xcf8 exits)" ||
		notok "$name: PCI config-address writes coalesced" "busiest ports: ${ports:-no --stats line}"
}

for cfg in "1 256" "2 1024"; do
	set -- $cfg
	name="linux64 cpus=$1 mem=${2}M"
	boot "linux64-c$1" --cpus "$1" --memory "${2}M"
	check_guest "$name" "$1" "$2"
	[ "$L2_RC" = 0 ] && l2_seen '^thinvisor-guest: tvtest exit 0$' && ok "$name: poweroff exits 0" ||
		notok "$name: poweroff exits 0" "exit $L2_RC"
	l2_record "thinvisor linux64 cpus=$1" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
done

# 3.5 GiB: 3 GiB below the PCI hole, 512 MiB from 4 GiB (fits the nested machine's 4 GiB).
boot linux64-3584m --cpus 2 --memory 3584M
check_guest "linux64 cpus=2 mem=3584M" 2 3584
l2_seen 'BIOS-e820: \[mem 0x0000000100000000-0x000000011fffffff\] usable' &&
	ok "linux64 mem=3584M: RAM above 4 GiB in the e820 map" || notok "linux64 mem=3584M: RAM above 4 GiB in the e820 map"

extra_cmdline="tvexit=reboot"
boot linux64-reboot --cpus 1 --memory 256M
[ "$L2_RC" = 2 ] && l2_seen '^thinvisor-guest: tvtest exit 0$' && ok "linux64: reboot exits 2" ||
	notok "linux64: reboot exits 2" "exit $L2_RC"
# --on-reboot restart: the guest reboots on every boot, so wait for the second boot's init,
# then stop the monitor with SIGTERM (exit 130). Sets n (inits seen) and rc.
restart_run() {
	local pid i
	"$TV" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" --cpus 1 --memory 256M --console stdio \
		--on-reboot restart --cmdline "console=ttyS0 panic=-1 tvtest=true tvexit=reboot" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < secs; i++)); do
		[ "$(grep -c '^thinvisor-guest: init started' "$log")" -ge 2 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	n=$(grep -c '^thinvisor-guest: init started' "$log")
}
log=$L2_LOGS/linux64-restart.console
restart_run
if [ "$n" -lt 2 ] && [ "$rc" = 130 ]; then # a boot froze (see l2_run): once more
	l2_first_failed "linux64 restart" "init seen $n times in ${secs}s" "$log"
	restart_run
fi
grep -q 'guest rebooted: restarting' "$log" && [ "$n" -ge 2 ] && [ "$rc" = 130 ] &&
	ok "linux64: --on-reboot restart boots the guest again; SIGTERM then exits 130" ||
	notok "linux64: --on-reboot restart boots the guest again; SIGTERM then exits 130" "init seen $n times, exit $rc"
extra_cmdline=

# The same kernel as an ELF vmlinux, entered through its PVH note.
vmlinux=$TOP/$O/nested/vmlinux-l2
if nr_extract_vmlinux "$L2_KERNEL" "$vmlinux" 2>/dev/null; then
	kernel=$vmlinux boot linux64-pvh --cpus 2 --memory 512M
	check_guest "linux64 pvh" 2 512
	[ "$L2_RC" = 0 ] && ok "linux64 pvh: poweroff exits 0" || notok "linux64 pvh: poweroff exits 0" "exit $L2_RC"
else
	notok "linux64 pvh" "could not extract vmlinux from $L2_KERNEL"
fi
