#!/usr/bin/env bash
# bench/exit-bench.sh [REPS]: on /dev/kvm (this host's, or the nested machine's when this host
# has none) with a tiny guest: (1) process start to the guest's first port write: the wall time
# of `thinvisor run` on bench/pioloop.S built with ITER=1, whose first port write ends the VM
# (an upper bound: it includes tear-down); (2) port-I/O exits per second: thinvisor running the
# loop guest with ITER=N against bench/kvm-floor, a bare KVM_RUN loop running the same loop (the
# floor). Per-exit time = (T(N) - T(1)) / (N - 1), so start-up cancels out. Interleaved, median
# of REPS. Writes bench/results-exit.md.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
reps=${1:-5}
n=5000
make -s O="$O" all bench-tools
if ! { [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; } && [ "${NESTED_RUN:-}" != 1 ]; then
	where="the nested machine (QEMU TCG emulating AMD-V; tools/nested-run)"
	tools/nested-run -b -- env O="$O" bench/exit-bench.sh "$reps" >/dev/null
	sed -i "1s|^|Where: $where.\n|" bench/results-exit.md
	cat bench/results-exit.md
	exit 0
fi
B=$O/bench
t() { # wall seconds of a command
	local s e
	s=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	e=${EPOCHREALTIME/./}
	echo "$(((e - s) / 1000))"
}
declare -a tv1 tvn fl1 fln
for ((i = 0; i < reps; i++)); do
	tv1+=("$(t "$O/thinvisor" run --kernel "$B/pioloop-1.elf" --testdev --console none)")
	fl1+=("$(t "$B/kvm-floor" 1)")
	tvn+=("$(t "$O/thinvisor" run --kernel "$B/pioloop-$n.elf" --testdev --console none)")
	fln+=("$(t "$B/kvm-floor" "$n")")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_tv1=$(med "${tv1[@]}") m_tvn=$(med "${tvn[@]}") m_fl1=$(med "${fl1[@]}") m_fln=$(med "${fln[@]}")
{
	echo "Command: \`bench/exit-bench.sh $reps\` ($(date -u +%F)); loop of $n port writes; medians of $reps interleaved runs, milliseconds."
	echo
	echo "| measure | thinvisor | bare KVM_RUN loop (floor) | ratio | goal |"
	echo "|---|---|---|---|---|"
	awk -v a="$m_tv1" -v b="$m_fl1" 'BEGIN { printf "| process start to first port write (ms, whole run of a 1-write guest) | %.1f | %.1f | %.2f | thinvisor < 10 ms |\n", a, b, a / b }'
	awk -v a1="$m_tv1" -v an="$m_tvn" -v b1="$m_fl1" -v bn="$m_fln" -v n="$n" 'BEGIN {
		ta = (an - a1) / (n - 1); tb = (bn - b1) / (n - 1);
		printf "| port-I/O exits per second | %.0f | %.0f | %.2f | >= 0.90 of the floor |\n", 1000 / ta, 1000 / tb, tb / ta }'
	echo
	echo "raw (ms): thinvisor 1-write ${tv1[*]}; thinvisor $n-write ${tvn[*]}; floor 1-write ${fl1[*]}; floor $n-write ${fln[*]}"
} >bench/results-exit.md
cat bench/results-exit.md
