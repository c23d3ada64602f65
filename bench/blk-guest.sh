#!/bin/sh
# bench/blk-guest.sh: the L2 guest's side of bench/virtio-blk-bench.sh (baked into its
# initramfs). Mounts the tools disk (serial TOOLS: fio and its libraries), runs each fio job on
# the disks with serials DATA (raw) and VHD (dynamic VHD), prints fio's terse lines prefixed
# "tv-fio JOB DISK ". tvjobs=A,B on the command line runs only those jobs.
dev_of() {
	for b in /sys/block/vd*; do
		[ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && echo "/dev/${b##*/}" && return
	done
}
secs=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^tvsecs=//p')
only=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^tvjobs=//p' | tr , ' ') # empty: every job
mkdir -p /t && mount -o ro "$(dev_of TOOLS)" /t || { echo "tv-fio-error: no tools disk"; exit 1; }
fio() { /t/ld-linux-x86-64.so.2 --library-path /t /t/fio "$@"; }
for disk in DATA VHD; do
	d=$(dev_of $disk)
	[ -n "$d" ] || continue
	for job in "seqread read 1M 4" "seqwrite write 1M 4" "randread-qd1 randread 4k 1" \
		"randread-qd32 randread 4k 32" "randwrite-qd1 randwrite 4k 1" "randwrite-qd32 randwrite 4k 32"; do
		set -- $job
		[ -z "$only" ] || case " $only " in *" $1 "*) ;; *) continue ;; esac
		out=$(fio --name="$1" --filename="$d" --rw="$2" --bs="$3" --iodepth="$4" --direct=1 \
			--ioengine=libaio --time_based --runtime="${secs:-5}" --ramp_time=1 \
			--randrepeat=0 --minimal 2>&1 | tail -n1)
		echo "tv-fio $1 $disk $out"
		grep -E 'virtio|CAL|RES' /proc/interrupts | sed "s/^/tv-irq $1 $disk /"
	done
done
