#!/usr/bin/env bash
# bench/virtio-blk-bench.sh [SECONDS [ROUNDS]]: virtio-blk, thinvisor against QEMU's virtio-blk-pci
# (microvm with PCIe, default aio=threads) in the same machine, the same guest (Debian's kernel,
# busybox initramfs, fio from the host copied onto a read-only tools disk), the same files and
# cache mode (writeback): fio direct=1 libaio, sequential 1 MiB read/write at QD4, 4 KiB random
# read and write at QD1 and QD32, SECONDS (default 3) each after 1 s ramp, on a 128 MiB raw file
# and on a dynamic VHD with every block allocated (QEMU: -f vpc).
#
# In a round both guests boot and stay up, idle but for the job they are told to run over their
# serial console, and take turns: each job runs on one guest and at once on the other, PAIRS
# times (default 2), who goes first alternating. A pair's two runs are seconds apart in the same
# machine, so its ratio leaves out how fast that machine (and that minute) was. ROUNDS (default 1)
# is how many nested machines do this, one after another. The table gives each monitor's median,
# and the median of the pairs' ratios with how many pairs were at or above 1.0; a second table
# gives KVM's exits and injected interrupts per request for each VM (read from debugfs around
# each job). O=DIR benchmarks the build in DIR (default build).
# JOBS="seqread randwrite-qd32 ..." runs only those jobs (on both disks). Runs inside the nested
# machine unless this host has vmx/svm, each round in a fresh one; a round whose nested machine
# fails (an L2 triple-faults or stalls, L1's kernel panics) is tried again (3 tries a round), and
# the pairs it completed count. Writes bench/results-virtio-blk.md; bench/RESULTS.md links it.
set -u
# One compound command, read whole before it runs: editing this file during a run (a checkout, a
# commit) cannot change the run in progress.
{
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
secs=${1:-3}
rounds=${2:-1}
pairs=${PAIRS:-2}
jobs=${JOBS:-seqread seqwrite randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32}
# terse fields: 7 read KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS
samples() { # samples LOG JOB DISK: each of the log's results for the job, one a line
	tr -d '\r' <"$1" | awk -v j="$2" -v d="$3" '$1 == "tv-fio" && $2 == j && $3 == d {
		split($4, f, ";"); w = (j ~ /write/); bw = w ? f[48] : f[7]; io = w ? f[49] : f[8];
		if (j ~ /^seq/) printf "%.1f\n", bw / 1024; else printf "%d\n", io }'
}
per_request() { # per_request LOG JOB DISK: "exits injections" per virtio request, a line per run
	awk -v j="$2" -v d="$3" 'FILENAME ~ /kvm$/ && $2 == j && $3 == d {
			for (i = 4; i <= NF; i++) { split($i, kv, "="); s[kv[1]] = kv[2] }
			ex[++k] = s["exits"]; in_[k] = s["irq_injections"] }
		FILENAME !~ /kvm$/ && $1 == "tv-fio" && $2 == j && $3 == d {
			n = split($4, f, ";"); req[++r] = f[n - 7] + f[n - 6] }
		END { for (i = 1; i <= k && i <= r; i++) if (req[i] > 0)
			printf "%.2f %.2f\n", ex[i] / req[i], in_[i] / req[i] }' "$1.kvm" <(tr -d '\r' <"$1")
}
median() { sort -g | awk '{ v[NR] = $1 } END {
	if (!NR) print "none"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
table() { # the Markdown table of every machine's logs (a failed one's complete pairs too)
	echo "| job | disk | unit | thinvisor | QEMU | ratio of medians | pairs' ratios: median (min-max), at or above 1.0 |"
	echo "|---|---|---|---|---|---|---|"
	for disk in DATA VHD; do
		for job in $jobs; do
			# "tv q" per pair, from each round's two logs
			all=$(for f in "$O"/bench/blk-thinvisor.[0-9]*.log; do
				paste -d' ' <(samples "$f" $job $disk) <(samples "${f/thinvisor/qemu}" $job $disk)
			done | awk 'NF == 2 && $1 > 0 && $2 > 0')
			t=$(awk '{ print $1 }' <<<"$all" | median) q=$(awk '{ print $2 }' <<<"$all" | median)
			r=$(awk -v a="$t" -v b="$q" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			pr=$(awk '{ printf "%.2f\n", $1 / $2 }' <<<"$all")
			n=$(grep -c . <<<"$pr") up=$(awk '$1 >= 1.0' <<<"$pr" | grep -c .)
			range=$(sort -g <<<"$pr" | sed -n '1p;$p' | paste -sd-)
			echo "| $job | $([ $disk = DATA ] && echo raw || echo "dynamic VHD") |" \
				"$([[ $job == seq* ]] && echo MiB/s || echo IOPS) | $t | $q | $r |" \
				"$(median <<<"$pr") ($range), $up of $n |"
		done
	done
}
table_kvm() { # KVM's own counts per virtio request (requests: the guest's disk statistics)
	echo "| job | disk | exits / request, thinvisor | QEMU | interrupts injected / request, thinvisor | QEMU |"
	echo "|---|---|---|---|---|---|"
	for disk in DATA VHD; do
		for job in $jobs; do
			echo -n "| $job | $([ $disk = DATA ] && echo raw || echo "dynamic VHD") |"
			for c in 1 2; do
				for m in thinvisor qemu; do
					for f in "$O"/bench/blk-$m.[0-9]*.log; do
						[ -e "$f.kvm" ] && per_request "$f" $job $disk
					done | awk -v c=$c '{ print $c }' | median | tr '\n' ' '
					echo -n "|"
				done
			done
			echo
		done
	done
}
if [ -z "${BLK_ROUND:-}" ]; then
	make -s O="$O" all || exit 1
	rm -f "$O"/bench/blk-*.log "$O"/bench/blk-*.log.kvm
	load=$(cut -d' ' -f1-3 /proc/loadavg) failed=() m=0 done=0 where="on this host"
	grep -qwE 'vmx|svm' /proc/cpuinfo ||
		where="inside the nested machine: QEMU TCG emulating AMD-V, 2 vCPUs, 4 GiB, a fresh one per round"
	# up to three machines a round: a failed machine's complete pairs count too (a pair is two
	# runs seconds apart; a machine fails between runs: an L2 that triple-faults or stalls, L1's
	# own kernel panicking: TEST-ENVIRONMENT.md)
	while [ $done -lt "$rounds" ] && [ $m -lt $((rounds * 3)) ]; do
		m=$((m + 1))
		if [ "$where" = "on this host" ]; then
			out=$(BLK_ROUND=$m bench/virtio-blk-bench.sh "$secs" 2>&1)
		else
			out=$(nice tools/nested-run -b --timeout $((600 + pairs * 24 * (secs + 8))) -- \
				env JOBS="$jobs" PAIRS="$pairs" BLK_ROUND=$m \
				bench/virtio-blk-bench.sh "$secs" 2>&1)
		fi
		if [ $? = 0 ]; then
			done=$((done + 1))
		else
			failed+=("machine $m: $(grep -v '^[[:space:]]*$' <<<"$out" | tail -n1)")
			echo "# ${failed[-1]}" >&2
		fi
	done
	{
		echo "# virtio-blk: thinvisor vs QEMU virtio-blk-pci"
		echo
		echo "Command: \`PAIRS=$pairs bench/virtio-blk-bench.sh $secs $rounds\` ($(date -u '+%F %H:%M UTC'), $where;"
		echo "host load average before: $load; in the nested machine everything runs under software"
		echo "emulation, so absolute numbers are low and noisy; ratios are what counts). Machines: $m,"
		echo "$done of them complete; the failed ones' complete pairs are in the table too."
		for f in "${failed[@]}"; do echo "- $f"; done
		echo
		table
		echo
		echo "KVM's counters in the nested machine (its debugfs), per request the guest's disk saw, medians:"
		echo
		table_kvm
	} >bench/results-virtio-blk.md
	cat bench/results-virtio-blk.md
	[ $done -gt 0 ]
	exit
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
# each guest its own copies (both are up at once, and each locks its images)
for m in thinvisor qemu; do
	cp "$W/data.raw" "$W/$m.raw"
	"$TOP/$O/thinvisor" img convert -O vhd "$W/data.raw" "$W/$m.vhd" >/dev/null
done
rm "$W/data.raw"
append="console=ttyS0 panic=-1 quiet tvsecs=$secs"

run_thinvisor() {
	exec "$TOP/$O/thinvisor" run --kernel "$kernel" --initrd "$initrd" --memory 512M --cpus 2 \
		--console stdio --disk path="$W/thinvisor.raw",serial=DATA \
		--disk path="$W/thinvisor.vhd",serial=VHD \
		--disk path="$W/tools.img",serial=TOOLS,readonly=on --cmdline "$append"
}
run_qemu() {
	exec qemu-system-x86_64 -M microvm,pcie=on,rtc=on -accel kvm -cpu host -m 512 -smp 2 \
		-nographic -nodefaults -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "$append" \
		-drive file="$W/qemu.raw",if=none,id=d0,format=raw,cache=writeback \
		-device virtio-blk-pci,drive=d0,serial=DATA \
		-drive file="$W/qemu.vhd",if=none,id=d1,format=vpc,cache=writeback \
		-device virtio-blk-pci,drive=d1,serial=VHD \
		-drive file="$W/tools.img",if=none,id=d2,format=raw,readonly=on \
		-device virtio-blk-pci,drive=d2,serial=TOOLS
}
r=$BLK_ROUND
log() { echo "$TOP/$O/bench/blk-$1.$r.log"; }
declare -A pid fd
fail() {
	echo "round $r: $*"
	kill "${pid[@]}" 2>/dev/null
	rm -rf "$W"
	exit 3
}
# wait_for M PATTERN COUNT SECS: until M's console has COUNT lines matching PATTERN
wait_for() {
	local end=$((SECONDS + $4))
	while [ "$(tr -d '\r' <"$(log "$1")" | grep -c -- "$2")" -lt "$3" ]; do
		kill -0 "${pid[$1]}" 2>/dev/null || fail "$1's guest ended (log: $O/bench/blk-$1.$r.log)"
		[ $SECONDS -lt $end ] || fail "$1's guest stalled waiting for '$2' (log: $O/bench/blk-$1.$r.log)"
		sleep 0.2
	done
}
# kvm_stats M: M's VM's KVM counters (L1's debugfs), "NAME VALUE" a line; summed over its vCPUs
kvm_stats() {
	local d s
	d=$(ls -d /sys/kernel/debug/kvm/"${pid[$1]}"-* 2>/dev/null | head -n1)
	for s in exits irq_injections halt_exits mmio_exits io_exits; do
		echo "$s $(cat "$d/$s" 2>/dev/null || echo 0)"
	done
}
# The consoles go straight to the build tree, so a round cut short still shows how far it got.
for m in thinvisor qemu; do
	mkfifo "$W/$m.in"
	run_$m <"$W/$m.in" >"$(log $m)" 2>&1 &
	pid[$m]=$!
	exec {f}>"$W/$m.in"
	fd[$m]=$f
	wait_for $m '^tv-ready' 1 300
done
# Which guest goes first alternates between jobs, pairs and rounds; each round starts the job list
# at another place, so machines that fail part way leave pairs of every job.
items=()
for disk in DATA VHD; do
	for job in $jobs; do items+=("$job $disk"); done
done
n=${#items[@]} i=$r
for p in $(seq "$pairs"); do
	for k in $(seq 0 $((n - 1))); do
		item=${items[$(((k + (r - 1) * 5) % n))]}
		i=$((i + 1))
		order="thinvisor qemu"
		[ $((i % 2)) = 0 ] && order="qemu thinvisor"
		for m in $order; do
			before=$(kvm_stats $m)
			echo "$item" >&"${fd[$m]}"
			wait_for $m "^tv-fio $item " "$p" $((secs * 10 + 60))
			paste -d' ' <(echo "$before") <(kvm_stats $m) |
				awk -v i="$item" 'BEGIN { printf "tv-kvm %s", i } { printf " %s=%d", $1, $4 - $2 } END { print "" }' >>"$(log $m).kvm"
		done
	done
done
for m in thinvisor qemu; do
	echo quit >&"${fd[$m]}"
done
for m in thinvisor qemu; do
	timeout 120 tail --pid="${pid[$m]}" -f /dev/null || fail "$m did not power off"
done
rm -rf "$W"
exit
}
