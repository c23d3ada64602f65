#!/usr/bin/env bash
# bench/run-monitor-bench.sh [REPS]: boot time and monitor memory overhead, thinvisor against
# QEMU's microvm machine (bench/monitor-bench.py), in the same machine: on this host when it
# has vmx/svm and /dev/kvm, else inside the nested machine (tools/nested-run). Writes the table
# to bench/results-monitor.md.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
reps=${1:-5}
make -s O="$O" all
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1)
tools/mkinitramfs "$O/bench/guest.cpio.gz" >/dev/null
# SHMEM_THP=never|advise|always: the host's transparent-huge-page policy for shared memory
# during the run (guest RAM in a memfd, i.e. a VM with shared memory, gets huge pages only where
# it allows them; Debian's default is never, the nested machine's is advise). Unset: leave it.
thp=()
[ -n "${SHMEM_THP:-}" ] && thp=(sh -c 'echo "$0" >/sys/kernel/mm/transparent_hugepage/shmem_enabled && exec "$@"' "$SHMEM_THP")
# DISK=1: both monitors get a 64 MiB raw virtio disk; NET=1: both get a user-mode virtio NIC
# (results with devices in bench/results-monitor-disk.md)
diskarg=() out=bench/results-monitor.md
if [ -n "${DISK:-}" ]; then
	truncate -s 64M "$O/bench/disk.img"
	diskarg=(--disk "$TOP/$O/bench/disk.img")
	out=bench/results-monitor-disk.md
fi
if [ -n "${NET:-}" ]; then
	diskarg+=(--net)
	out=bench/results-monitor-disk.md
fi
cmd=("${thp[@]}" python3 bench/monitor-bench.py --thinvisor "$O/thinvisor" --kernel "$kernel"
	--initrd "$O/bench/guest.cpio.gz" --mem 256 --cpus 1 --reps "$reps" --logs "$O/bench"
	"${diskarg[@]}")
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	where="this host's KVM"
	"${cmd[@]}" >"$O/bench/monitor.md"
else
	where="the nested machine (QEMU TCG emulating AMD-V, 2 vCPUs, 4 GiB; tools/nested-run)"
	tools/nested-run -b -- "${cmd[@]}" >"$O/bench/monitor.md"
fi
{
	echo "Command: \`${DISK:+DISK=1 }${NET:+NET=1 }${SHMEM_THP:+SHMEM_THP=$SHMEM_THP }bench/run-monitor-bench.sh $reps\` ($(date -u +%F), in $where;"
	echo "kernel $(basename "$kernel"), busybox initramfs from tools/mkinitramfs, 1 vCPU, 256 MiB)."
	echo
	cat "$O/bench/monitor.md"
} >"$out"
cat "$out"
