#!/usr/bin/env bash
# bench/net-bench.sh [SECONDS [ROUNDS]]: TCP throughput over a tap device, guest -> host and host ->
# guest (iperf3, SECONDS each, default 10), thinvisor's virtio-net against QEMU's userspace
# virtio-net (vhost=off) and QEMU's vhost-net, the same guest (Debian's kernel, busybox
# initramfs plus iperf3 and its libraries, 1 vCPU, 512 MiB) in the same machine: this host when
# it has vmx/svm and /dev/kvm, else the nested machine (tools/nested-run). The tap lives in a
# network namespace made for the run; iperf3's server runs there. Prints a Markdown table;
# writes it to $O/bench/net.md. ROUNDS (default 1) repeats the three monitors in turn, a
# different one first each round; the table shows the mean of the rounds and every round's
# value, and a second table what each MB (10^6 bytes) cost: L1's KVM exits and the NIC's guest
# interrupts (receive queue + transmit queue).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
T=${1:-10}
R=${2:-1}
export TOP O

if [ "${NET_BENCH_INNER:-}" != 1 ]; then
	make -s O="$O" all || exit 1
	mkdir -p "$O/bench"
	if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
		where="this host's KVM"
		NET_BENCH_INNER=1 "$0" "$T" "$R" | tee "$O/bench/net.md"
	else
		where="the nested machine (QEMU TCG emulating AMD-V, 2 vCPUs; tools/nested-run)"
		tools/nested-run -b --timeout 1500 -- env NET_BENCH_INNER=1 "$0" "$T" "$R" | tee "$O/bench/net.md"
	fi
	echo
	echo "Ran in $where, $(date -u +%FT%TZ), host load $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the end."
	exit 0
fi

. tests/lib.sh
. tests/nested/lib-l2.sh
l2_kernel || { echo "no kernel" >&2; exit 1; }
l2_initramfs --modules "virtio_pci virtio_net" || exit 1
d=$(mktemp -d)
ns=tvbench$$
trap 'ip netns del $ns 2>/dev/null; rm -rf "$d"' EXIT

# iperf3 and the libraries it needs, as a second cpio archive appended to the initramfs
root=$d/extra
mkdir -p "$root/usr/bin"
cp /usr/bin/iperf3 "$root/usr/bin/"
for lib in $(ldd /usr/bin/iperf3 | grep -oE '/[^ ]+'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
(cd "$root" && find . | sort | cpio -o -H newc --quiet | gzip -n) >"$d/extra.cpio.gz"
cat "$L2_INITRD" "$d/extra.cpio.gz" >"$d/guest.cpio.gz"

[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tvb0 mode tap vnet_hdr
ip -n "$ns" addr add 192.168.78.1/24 dev tvb0
ip -n "$ns" link set tvb0 up
ip netns exec "$ns" iperf3 -s -D -B 192.168.78.1 >/dev/null 2>&1
modprobe vhost_net 2>/dev/null

guest="export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
ip link set eth0 up; ip addr add 192.168.78.2/24 dev eth0; sleep 1
irqs() { awk -v q=\$1 '/virtio/ && \$NF ~ q { for (i = 2; i <= NF && \$i ~ /^[0-9]+\$/; i++) t += \$i } END { print t + 0 }' /proc/interrupts; }
for dir in g2h h2g; do
	r=; [ \$dir = h2g ] && r=-R
	echo tv-mark \$dir start; sleep 1; i0=\$(irqs input); o0=\$(irqs output)
	/usr/bin/iperf3 -c 192.168.78.1 -t $T \$r -f m 2>&1 | sed \"s/^/tv-\$dir: /\"
	echo tv-irqs \$dir \$((\$(irqs input) - i0)) \$((\$(irqs output) - o0)); echo tv-mark \$dir end; sleep 1
done"
g64=$(printf '%s' "$guest" | base64 -w0)
append="console=ttyS0 panic=-1 quiet tvtest64=$g64"
secs=$((4 * T + 240))

# kvm_exits: every KVM exit of L1's VMs so far (debugfs; the VM under test is the only busy one)
kvm_exits() { cat /sys/kernel/debug/kvm/exits 2>/dev/null || echo 0; }
# watch_marks CONSOLE: while the guest runs, note L1's KVM exit count at each "tv-mark DIR
# start|end" line the guest prints (each padded by a second of idle), as "DIR EXITS" lines
watch_marks() {
	local seen=0 n line
	while sleep 0.2; do
		n=$(grep -c ' tv-mark ' "$1" 2>/dev/null) || n=0
		while [ "$seen" -lt "$n" ]; do
			seen=$((seen + 1))
			line=$(grep ' tv-mark ' "$1" | sed -n "${seen}p" | tr -d '\r')
			echo "${line##* tv-mark } $(kvm_exits)"
		done
	done
}
declare -A res ex ir
run() { # run NAME CMD...: one boot, both directions; appends to res/ex/ir[NAME-DIR]
	local name=$1 v w marks=$d/marks
	shift
	rm -f "$L2_LOGS/bench-net-$name.console"
	watch_marks "$L2_LOGS/bench-net-$name.console" >"$marks" &
	w=$!
	L2_STALL=200 l2_run "bench-net-$name" "$secs" ip netns exec "$ns" "$@"
	kill $w 2>/dev/null
	wait $w 2>/dev/null
	for dir in g2h h2g; do # iperf3's summary line: "... N Mbits/sec ... receiver"
		v=$(cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' | grep "^tv-$dir: .*receiver" |
			sed -n 's/.* \([0-9.]*\) Mbits\/sec.*/\1/p' | head -n1)
		res[$name-$dir]="${res[$name-$dir]:-} ${v:-fail}"
		# per MB (10^6 bytes, as iperf3's Mbit/s) received: L1's KVM exits and the guest's interrupts (the round's own numbers)
		ex[$name-$dir]="${ex[$name-$dir]:-} $(awk -v d="$dir" -v v="$v" -v t="$T" '$1 == d { x[$2] = $3 }
			END { if (v > 0 && x["end"] > x["start"]) printf "%.0f", (x["end"] - x["start"]) / (v * t / 8); else printf "-" }' "$marks")"
		ir[$name-$dir]="${ir[$name-$dir]:-} $(cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' |
			awk -v d="$dir" -v v="$v" -v t="$T" '$1 == "tv-irqs" && $2 == d && v > 0 { printf "%.1f+%.1f", $3 / (v * t / 8), $4 / (v * t / 8) }')"
	done
}
want() { [ -z "${NET_BENCH_ONLY:-}" ] || [[ " $NET_BENCH_ONLY " == *" $1 "* ]]; }
run_thinvisor() {
	run thinvisor "$TOP/$O/thinvisor" run --kernel "$L2_KERNEL" \
		--initrd "$d/guest.cpio.gz" --cpus 1 --memory 512M --console stdio --net tap=tvb0 \
		--cmdline "$append"
}
run_qemu() { # run_qemu off|on: QEMU with vhost off or on
	run "qemu-vhost-$1" qemu-system-x86_64 -M pc -enable-kvm -cpu host -m 512 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel "$L2_KERNEL" -initrd "$d/guest.cpio.gz" -append "$append" \
		-netdev "tap,id=n0,ifname=tvb0,script=no,downscript=no,vhost=$1" \
		-device virtio-net-pci,netdev=n0,disable-legacy=on,mac=52:54:00:12:34:56
}
# the three in turns, a different one first each round (a fresh nested machine's first guest
# runs slower)
monitors=(thinvisor qemu-vhost-off qemu-vhost-on)
for ((round = 1; round <= R; round++)); do
	for ((k = 0; k < 3; k++)); do
		m=${monitors[$(((round - 1 + k) % 3))]}
		want "$m" || continue
		case $m in
		thinvisor) run_thinvisor ;;
		*) run_qemu "${m#qemu-vhost-}" ;;
		esac
	done
done

mean() { awk '{ n = 0; s = 0; for (i = 1; i <= NF; i++) if ($i != "fail") { s += $i; n++ }
	if (n) printf "%.1f", s / n; else printf "fail" }' <<<"$1"; }
cell() { local m; m=$(mean "$1"); [ "$R" -gt 1 ] && echo "$m (${1# })" || echo "$m"; }
label() { if [ "$1" = h2g ]; then echo "host -> guest"; else echo "guest -> host"; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "iperf3 TCP over a tap, ${T} s per direction, $R round(s), Mbit/s (receiver side, mean of the"
echo "rounds, each round in parentheses); ratio = thinvisor / QEMU"
echo
echo "| direction | thinvisor | QEMU virtio-net (userspace) | QEMU vhost-net | ratio vs userspace | ratio vs vhost |"
echo "|---|---|---|---|---|---|"
for dir in g2h h2g; do
	t=${res[thinvisor-$dir]:-fail} u=${res[qemu-vhost-off-$dir]:-fail} v=${res[qemu-vhost-on-$dir]:-fail}
	echo "| $(label $dir) | $(cell "$t") | $(cell "$u") | $(cell "$v") | $(ratio "$(mean "$t")" "$(mean "$u")") | $(ratio "$(mean "$t")" "$(mean "$v")") |"
done
echo
echo "Per MB (10^6 bytes) moved, each round: L1's KVM exits (all vCPU exits of the VM, from L1's debugfs between"
echo "the guest's marks) / the NIC's interrupts in the guest (its /proc/interrupts), receive queue + transmit queue"
echo
echo "| direction | thinvisor | QEMU virtio-net (userspace) | QEMU vhost-net |"
echo "|---|---|---|---|"
for dir in g2h h2g; do
	echo -n "| $(label $dir) |"
	for m in thinvisor qemu-vhost-off qemu-vhost-on; do echo -n " ${ex[$m-$dir]# } / ${ir[$m-$dir]# } |"; done
	echo
done
