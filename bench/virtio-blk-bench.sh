#!/usr/bin/env bash
# bench/virtio-blk-bench.sh [SECONDS [ROUNDS]]: virtio-blk, thinvisor against QEMU's virtio-blk-pci
# (microvm with PCIe, default aio=threads) in the same machine, the same guest (Debian's kernel, busybox initramfs,
# fio from the host copied onto a read-only tools disk), the same files and cache mode
# (writeback): fio direct=1 libaio, sequential 1 MiB read/write at QD4, 4 KiB random read and
# write at QD1 and QD32, SECONDS (default 3) each after 1 s ramp, on a 128 MiB raw file and on
# a dynamic VHD with every block allocated (QEMU: -f vpc). ROUNDS (default 1) alternates the
# two monitors that many times, taking turns to go first; the table gives the median and each
# round's value. JOBS="seqread randwrite-qd32 ..." runs only those jobs (on both disks). Runs
# inside the nested machine unless this host has vmx/svm, each round in a fresh one; a round
# whose nested machine fails (its kernel panics, a guest stalls) is tried again (3 tries). Writes
# bench/results-virtio-blk.md; bench/RESULTS.md links it.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
secs=${1:-3}
rounds=${2:-1}
# terse fields: 7 read KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS
val() { # val LOG JOB DISK: MiB/s for sequential jobs, IOPS for random ones
	tr -d '\r' <"$1" | awk -v j="$2" -v d="$3" '$1 == "tv-fio" && $2 == j && $3 == d {
		split($4, f, ";"); w = (j ~ /write/); bw = w ? f[48] : f[7]; io = w ? f[49] : f[8];
		if (j ~ /^seq/) printf "%.1f", bw / 1024; else printf "%d", io }'
}
vals() { # vals MONITOR JOB DISK: each round's value, space-separated
	for r in $(seq "$rounds"); do echo -n "$(val "$TOP/$O/bench/blk-$1.$r.log" "$2" "$3") "; done
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
	if (!NR) print "none"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
table() { # the Markdown table of every round's logs
echo "| job | disk | unit | thinvisor | QEMU | ratio of medians | each round's ratio (median) |"
echo "|---|---|---|---|---|---|---|"
for disk in DATA VHD; do
	for job in seqread seqwrite randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32; do
		[ -z "${JOBS:-}" ] || [[ " $JOBS " == *" $job "* ]] || continue
		tv=$(vals thinvisor $job $disk) qv=$(vals qemu $job $disk)
		t=$(median <<<"$tv") q=$(median <<<"$qv")
		r=$(awk -v a="$t" -v b="$q" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
		# a round's two guests ran in the same nested machine, minutes apart: their ratio
		# leaves out how fast that machine happened to be
		pr=$(paste -d' ' <(tr ' ' '\n' <<<"${tv% }") <(tr ' ' '\n' <<<"${qv% }") |
			awk '$1 > 0 && $2 > 0 { printf "%.2f ", $1 / $2 }')
		[ "$rounds" -gt 1 ] && t="$t (${tv% })" q="$q (${qv% })"
		echo "| $job | $([ $disk = DATA ] && echo raw || echo "dynamic VHD") | $([[ $job == seq* ]] && echo MiB/s || echo IOPS) | $t | $q | $r | ${pr% } ($(median <<<"$pr")) |"
	done
done
}
if [ -z "${BLK_ROUND:-}" ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then # every round here
	make -s O="$O" all || exit 1
	rm -f "$O"/bench/blk-*.log
	for r in $(seq "$rounds"); do BLK_ROUND=$r bench/virtio-blk-bench.sh "$secs" || exit 1; done
	table | tee bench/results-virtio-blk.md
	exit 0
elif [ -z "${BLK_ROUND:-}" ]; then
	# each round in a fresh nested machine, so an emulator failure (L1's own kernel panics, an
	# L2 that stalls: TEST-ENVIRONMENT.md) costs one try of a round (three at most)
	make -s O="$O" all || exit 1
	rm -f "$O"/bench/blk-*.log
	load=$(cut -d' ' -f1-3 /proc/loadavg) reruns=0
	for r in $(seq "$rounds"); do
		for try in 1 2 3; do
			# a round takes 5-8 minutes; a machine whose kernel locks up is given up on sooner
			out=$(nice tools/nested-run -b --timeout 900 -- env JOBS="${JOBS:-}" BLK_ROUND=$r \
				bench/virtio-blk-bench.sh "$secs" 2>&1) && break
			echo "# round $r, try $try failed: $(tail -n1 <<<"$out")" >&2
			for f in "$O"/bench/blk-*."$r".log; do # kept, for what went wrong
				[ -e "$f" ] && mv "$f" "${f%.log}.failed$try.log"
			done
			[ "$try" = 3 ] && exit 1
			reruns=$((reruns + 1))
		done
	done
	{
		echo "# virtio-blk: thinvisor vs QEMU virtio-blk-pci"
		echo
		echo "Command: \`bench/virtio-blk-bench.sh $secs $rounds\` ($(date -u '+%F %H:%M UTC'), inside the nested machine:"
		echo "QEMU TCG emulating AMD-V, 2 vCPUs, 4 GiB, a fresh one per round; failed tries run again:"
		echo "$reruns; host load average before: $load; everything runs under software emulation, so"
		echo "absolute numbers are low and noisy; ratios are what counts)."
		echo
		table
	} >bench/results-virtio-blk.md
	cat bench/results-virtio-blk.md
	exit 0
fi
# One round (BLK_ROUND), in this machine.
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1)
W=$(mktemp -d /tmp/vblk.XXXXXX)
initrd=$TOP/$O/bench/blk-guest.cpio.gz
mkdir -p "$TOP/$O/bench" "$W/tools"
tools/mkinitramfs "$initrd" --init bench/blk-guest.sh --modules "virtio_pci virtio_blk crc32c_generic ext4" >/dev/null || exit 1
cp /usr/bin/fio "$W/tools/"
cp -L $(ldd /usr/bin/fio | awk '/=>/ {print $3}') /lib64/ld-linux-x86-64.so.2 "$W/tools/"
mke2fs -q -t ext4 -d "$W/tools" "$W/tools.img" 400M >/dev/null
head -c 128M /dev/urandom >"$W/data.raw"
"$TOP/$O/thinvisor" img convert -O vhd "$W/data.raw" "$W/data.vhd" >/dev/null
append="console=ttyS0 panic=-1 quiet tvsecs=$secs${JOBS:+ tvjobs=${JOBS// /,}}"

run_tv() {
	"$TOP/$O/thinvisor" run --kernel "$kernel" --initrd "$initrd" --memory 512M --cpus 2 \
		--console stdio --disk path="$W/data.raw",serial=DATA --disk path="$W/data.vhd",serial=VHD \
		--disk path="$W/tools.img",serial=TOOLS,readonly=on --cmdline "$append" </dev/null 2>&1
}
run_qemu() {
	qemu-system-x86_64 -M microvm,pcie=on,rtc=on -accel kvm -cpu host -m 512 -smp 2 -nographic -nodefaults \
		-serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$append" \
		-drive file="$W/data.raw",if=none,id=d0,format=raw,cache=writeback \
		-device virtio-blk-pci,drive=d0,serial=DATA \
		-drive file="$W/data.vhd",if=none,id=d1,format=vpc,cache=writeback \
		-device virtio-blk-pci,drive=d1,serial=VHD \
		-drive file="$W/tools.img",if=none,id=d2,format=raw,readonly=on \
		-device virtio-blk-pci,drive=d2,serial=TOOLS </dev/null 2>&1
}
# the consoles go straight to the build tree, so a run cut short still shows how far it got
export TOP O W kernel initrd append
# Interleaved, so a change in the host's load hits both, and in turns: the first guest of a
# fresh nested machine runs slower (seen: up to 2.6x on one row), so who goes first alternates.
r=$BLK_ROUND
order="thinvisor qemu"
[ $((r % 2)) = 0 ] && order="qemu thinvisor"
want=$(wc -w <<<"${JOBS:-seqread seqwrite randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32}")
for m in $order; do
	f=run_qemu
	[ $m = thinvisor ] && f=run_tv
	timeout 600 bash -c "$(declare -f $f); $f" >"$TOP/$O/bench/blk-$m.$r.log"
	got=$(tr -d '\r' <"$TOP/$O/bench/blk-$m.$r.log" | grep -c '^tv-fio ')
	if [ "$got" -lt $((2 * want)) ]; then # a guest that stalled or died (the emulator, or a bug)
		echo "round $r: $m's guest gave $got of $((2 * want)) results (log: $O/bench/blk-$m.$r.log)"
		rm -rf "$W"
		exit 3
	fi
done
rm -rf "$W"
