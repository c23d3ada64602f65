#!/bin/sh
# tests/nested/virtio-guest.sh: the L2 guest's side of tests/nested/virtio.sh (baked into its
# initramfs). Disks are found by serial (tvdisks=S1,S2 on the kernel command line: ext4 disks to
# write into; serial RO: a read-only disk). Prints one tv-KEY=VALUE line per fact.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
dev_of() {
	for b in /sys/block/vd*; do
		[ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && echo "${b##*/}" && return
	done
}
echo "tv-disks=$(ls /sys/block | grep -c '^vd')"
for s in $(arg tvdisks | tr ',' ' '); do
	d=$(dev_of "$s")
	[ -n "$d" ] || { echo "tv-$s=missing"; continue; }
	echo "tv-$s-queues=$(ls /sys/block/$d/mq | wc -l)"
	mkdir -p /m/$s
	mount -t ext4 /dev/$d /m/$s || { echo "tv-$s=mount-failed"; continue; }
	echo "tv-$s-hello=$(cat /m/$s/hello.txt)"
	seq 1 30000 >/m/$s/seq.txt && fsync /m/$s/seq.txt
	dd if=/dev/urandom of=/m/$s/rand.bin bs=64k count=32 conv=fsync 2>/dev/null
	echo "tv-$s-rand=$(sha256sum /m/$s/rand.bin | cut -d' ' -f1)"
	umount /m/$s && echo "tv-$s=written"
done
d=$(dev_of RO)
if [ -n "$d" ]; then
	echo "tv-ro-flag=$(cat /sys/block/$d/ro)"
	dd if=/dev/zero of=/dev/$d bs=4096 count=1 conv=fsync 2>/dev/null && echo tv-ro-write1=ok || echo tv-ro-write1=refused
	blockdev --setrw /dev/$d
	dd if=/dev/zero of=/dev/$d bs=4096 count=1 conv=fsync 2>/dev/null && echo tv-ro-write2=ok || echo tv-ro-write2=refused
	echo "tv-ro-read=$(dd if=/dev/$d bs=65536 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
fi
echo "tv-rng=$(head -c 32 /dev/hwrng | od -An -tx1 | tr -d ' \n')"
echo "tv-irqs=$(grep -c virtio /proc/interrupts) $(grep -m1 virtio /proc/interrupts | grep -o 'PCI-MSI\|IO-APIC')"
exec 3<>/dev/hvc0
stty -echo <&3
echo tv-hvc-out >&3
echo tv-hvc-ready
read -t 120 line <&3
echo "tv-hvc-in=$line"
