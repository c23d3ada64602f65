#!/bin/sh
# bench/blk-guest.sh: the L2 guest's side of bench/virtio-blk-bench.sh (baked into its
# initramfs). Mounts the tools disk (serial TOOLS: fio and its libraries), prints "tv-ready",
# then reads commands from the console, one a line: "JOB DISK" runs that fio job on the disk
# with that serial (DATA: raw, VHD: dynamic VHD) and prints fio's terse line prefixed
# "tv-fio JOB DISK " (and the virtio interrupt counts, "tv-irq JOB DISK ..."); "quit" ends the
# guest. SECONDS per job come from tvsecs= on the kernel command line.
dev_of() {
	for b in /sys/block/vd*; do
		[ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && echo "/dev/${b##*/}" && return
	done
}
secs=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^tvsecs=//p')
mkdir -p /t && mount -o ro "$(dev_of TOOLS)" /t || { echo "tv-fio-error: no tools disk"; exit 1; }
fio() { /t/ld-linux-x86-64.so.2 --library-path /t /t/fio "$@"; }
stty -echo 2>/dev/null
echo "tv-ready"
while read -r name disk; do
	case "$name" in
	seqread) set -- read 1M 4 ;;
	seqwrite) set -- write 1M 4 ;;
	randread-qd1) set -- randread 4k 1 ;;
	randread-qd32) set -- randread 4k 32 ;;
	randwrite-qd1) set -- randwrite 4k 1 ;;
	randwrite-qd32) set -- randwrite 4k 32 ;;
	quit) exit 0 ;;
	*) echo "tv-fio-error: unknown job '$name'"; continue ;;
	esac
	d=$(dev_of "$disk")
	[ -n "$d" ] || { echo "tv-fio-error: no disk '$disk'"; continue; }
	out=$(fio --name="$name" --filename="$d" --rw="$1" --bs="$2" --iodepth="$3" --direct=1 \
		--ioengine=libaio --time_based --runtime="${secs:-5}" --ramp_time=1 \
		--randrepeat=0 --minimal 2>&1 | tail -n1)
	grep -E 'virtio|CAL|RES' /proc/interrupts | sed "s/^/tv-irq $name $disk /"
	echo "tv-fio $name $disk $out"
done
