#!/usr/bin/env bash
# tests/nested/virtio.sh: virtio devices under Debian's stock kernel, in two boots.
#  Boot 1 (PCI, 2 vCPUs): ext4 disks built by mke2fs -d on raw (2 queues), dynamic VHD and a
#  differencing VHD; the guest reads a host file, writes files with fsync and powers off; the
#  host checks them with debugfs, the parent VHD's sha256 is unchanged and `img commit` then
#  shows the writes in it. A read-only disk: the guest sees it read-only, and a write forced
#  through (blockdev --setrw) fails with an I/O error; the file is unchanged. /dev/hwrng gives
#  bytes; hvc0 carries output and input. While it runs, a second VM asking for the same
#  writable image is refused with one line naming the first VM's process.
#  Boot 2 (MMIO, LNRO0005, the thread-pool I/O path instead of io_uring): two disks (one
#  read-only), rng and hvc0 again; the writable one with cache=none (O_DIRECT) on an ext4 made
#  on a loop device (the build tree's 9p and L1's tmpfs take no O_DIRECT). A cache=none disk
#  on a file system without O_DIRECT is refused in one line.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-400}

[ -c /dev/kvm ] || { notok "virtio" "no /dev/kvm here"; exit 0; }
[ -x "$TV" ] || { notok "virtio" "no $TV (run make)"; exit 0; }
l2_kernel || { notok "virtio" "no /boot/vmlinuz-*"; exit 0; }
command -v mke2fs >/dev/null && command -v debugfs >/dev/null || { notok "virtio" "no e2fsprogs"; exit 0; }
l2_initramfs --init "$TOP/tests/nested/virtio-guest.init" \
	--modules "virtio_pci virtio_mmio virtio_blk virtio-rng virtio_console crc32c_generic ext4" ||
	{ notok "virtio" "tools/mkinitramfs failed"; exit 0; }

W=$TOP/$O/nested/virtio
umount "$W/odirect" 2>/dev/null # left mounted by an interrupted run
rm -rf "$W" && mkdir -p "$W/root"
echo "hello from the host" >"$W/root/hello.txt"
mke2fs -q -t ext4 -d "$W/root" "$W/raw.img" 64M
cp "$W/raw.img" "$W/raw2.img"
"$TV" img convert -O vhd "$W/raw.img" "$W/dyn.vhd" >/dev/null
"$TV" img convert -O vhd "$W/raw.img" "$W/par.vhd" >/dev/null
"$TV" img create -f vhd -b par.vhd "$W/dif.vhd" >/dev/null
head -c 1M /dev/urandom >"$W/ro.img"
par_sum=$(sha256sum <"$W/par.vhd") ro_sum=$(sha256sum <"$W/ro.img")
seq_sum=$(seq 1 30000 | sha256sum)

kv() { cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' | sed -n "s/^$1=//p" | head -n1; }

# feed NAME: type a line on hvc0 once the guest is ready; in boot 1 also start a second VM on
# the raw disk first (its stderr in $W/second.err)
feed() {
	local log=$L2_LOGS/$1.console i
	for ((i = 0; i < secs; i++)); do
		grep -q 'tv-hvc-ready' "$log" 2>/dev/null && break
		grep -q 'tvtest exit' "$log" 2>/dev/null && return
		sleep 1
	done
	if [ "$1" = virtio-pci ]; then
		"$TV" run --kernel "$L2_KERNEL" --memory 64M --console none \
			--disk path="$W/raw.img" </dev/null >/dev/null 2>"$W/second.err"
		pid=$(sed -n 's/.*(process \([0-9]*\) holds its lock)$/\1/p' "$W/second.err")
		[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" >"$W/second.cmdline"
	fi
	echo typed-into-hvc0
	for ((i = 0; i < 60; i++)); do grep -q 'tvtest exit' "$log" 2>/dev/null && return; sleep 1; done
}
export -f feed
export L2_LOGS W TV L2_KERNEL secs

boot() { # boot NAME DISKS ARGS...
	local name=$1 disks=$2
	shift 2
	l2_run "$name" "$secs" bash -c 'feed "$0" | exec "$@"' "$name" env ${AIO_THREADS:+THINVISOR_AIO_THREADS=1} "$TV" run \
		--kernel "$L2_KERNEL" --initrd "$L2_INITRD" --memory 512M --rng --console virtio "$@" \
		--cmdline "console=ttyS0 panic=-1 quiet tvdisks=$disks"
}

check_common() { # NAME
	local n=$1 rng
	[ "$L2_RC" = 0 ] && l2_seen 'thinvisor-guest: tvtest exit 0' && ok "$n: guest powered off (exit 0)" ||
		notok "$n: guest powered off (exit 0)" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | tr '\n' '|')"
	rng=$(kv tv-rng)
	[ ${#rng} = 64 ] && [ "$rng" != "$(printf '0%.0s' {1..64})" ] && ok "$n: /dev/hwrng gives bytes" ||
		notok "$n: /dev/hwrng gives bytes" "got '$rng'"
	l2_seen 'tv-hvc-out' && ok "$n: hvc0 output reaches the console" || notok "$n: hvc0 output reaches the console"
	[ "$(kv tv-hvc-in)" = typed-into-hvc0 ] && ok "$n: hvc0 input reaches the guest" ||
		notok "$n: hvc0 input reaches the guest" "got '$(kv tv-hvc-in)'"
	[ "$(kv tv-ro-flag)" = 1 ] && [ "$(kv tv-ro-write1)" = refused ] && ok "$n: read-only disk is read-only in the guest" ||
		notok "$n: read-only disk is read-only in the guest" "ro=$(kv tv-ro-flag) write=$(kv tv-ro-write1)"
	[ "$(kv tv-ro-write2)" = refused ] && ok "$n: a write forced onto the read-only disk fails" ||
		notok "$n: a write forced onto the read-only disk fails" "$(kv tv-ro-write2)"
	[ "$(sha256sum <"$W/ro.img")" = "$ro_sum" ] && [ "$(kv tv-ro-read)" = "$(head -c 1M "$W/ro.img" | sha256sum | cut -d' ' -f1)" ] &&
		ok "$n: read-only image unchanged, reads match it" || notok "$n: read-only image unchanged, reads match it"
	! l2_seen 'BUG:|WARNING:.*virtio|device needs reset' && ok "$n: no BUG, virtio WARNING or NEEDS_RESET" ||
		notok "$n: no BUG, virtio WARNING or NEEDS_RESET" "$(grep -m2 -E 'BUG:|WARNING:|needs reset' "$L2_CONSOLE" | tr '\n' '|')"
}

check_fs() { # NAME SERIAL RAWFILE
	local n=$1 s=$2 f=$3 got
	[ "$(kv "tv-$s-hello")" = "hello from the host" ] && ok "$n: $s: the guest reads the host's file" ||
		notok "$n: $s: the guest reads the host's file" "$(kv "tv-$s-hello") $(kv "tv-$s")"
	[ "$(kv "tv-$s")" = written ] && ok "$n: $s: written and unmounted" || notok "$n: $s: written and unmounted" "$(kv "tv-$s")"
	got=$(debugfs -R "cat /seq.txt" "$f" 2>/dev/null | sha256sum)
	[ "$got" = "$seq_sum" ] && ok "$n: $s: debugfs reads the guest's seq.txt" || notok "$n: $s: debugfs reads the guest's seq.txt"
	got=$(debugfs -R "cat /rand.bin" "$f" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ -n "$(kv "tv-$s-rand")" ] && [ "$got" = "$(kv "tv-$s-rand")" ] && ok "$n: $s: rand.bin on the host has the guest's sha256" ||
		notok "$n: $s: rand.bin on the host has the guest's sha256" "host $got guest $(kv "tv-$s-rand")"
}

# ---- boot 1: PCI ----
n=virtio-pci
boot $n RAW,DYN,DIF --cpus 2 --disk path="$W/raw.img",serial=RAW,queues=2 \
	--disk path="$W/dyn.vhd",serial=DYN --disk path="$W/dif.vhd",serial=DIF \
	--disk path="$W/ro.img",serial=RO,readonly=on
check_common $n
[ "$(kv tv-disks)" = 4 ] && ok "$n: four disks" || notok "$n: four disks" "$(kv tv-disks)"
[ "$(kv tv-RAW-queues)" = 2 ] && ok "$n: queues=2 gives the guest two queues" || notok "$n: queues=2 gives two queues" "$(kv tv-RAW-queues)"
l2_seen '^tv-irqs=[1-9][0-9]* PCI-MSI' && ok "$n: interrupts are PCI-MSI" || notok "$n: interrupts are PCI-MSI" "$(kv tv-irqs)"
check_fs $n RAW "$W/raw.img"
"$TV" img check "$W/dyn.vhd" >/dev/null && ok "$n: DYN: img check clean" || notok "$n: DYN: img check clean"
"$TV" img convert -O raw "$W/dyn.vhd" "$W/dyn.raw" >/dev/null
check_fs $n DYN "$W/dyn.raw"
[ "$(sha256sum <"$W/par.vhd")" = "$par_sum" ] && ok "$n: DIF: the parent VHD is unchanged" || notok "$n: DIF: the parent VHD is unchanged"
"$TV" img convert -O raw "$W/dif.vhd" "$W/dif.raw" >/dev/null
check_fs $n DIF "$W/dif.raw"
"$TV" img commit "$W/dif.vhd" >/dev/null && "$TV" img convert -O raw "$W/par.vhd" "$W/par.raw" >/dev/null
[ "$(debugfs -R "cat /seq.txt" "$W/par.raw" 2>/dev/null | sha256sum)" = "$seq_sum" ] &&
	ok "$n: DIF: after img commit the parent holds the guest's files" ||
	notok "$n: DIF: after img commit the parent holds the guest's files"
err=$(cat "$W/second.err" 2>/dev/null)
pid=$(sed -n 's/.*(process \([0-9]*\) holds its lock)$/\1/p' <<<"$err")
[ "$err" = "thinvisor: error: disk $W/raw.img is in use by another VM (process $pid holds its lock)" ] &&
	[ -n "$pid" ] && grep -q "thinvisor run .*serial=RAW" "$W/second.cmdline" 2>/dev/null &&
	ok "$n: a second VM on the same image is refused, naming the first one's PID" ||
	notok "$n: a second VM on the same image is refused, naming the first one's PID" "stderr: $err"

# ---- boot 2: MMIO ----
n=virtio-mmio
nodirect=/dev/shm/tv-nodirect.$$.img
cp "$W/ro.img" "$nodirect"
if python3 -c 'import os, sys; os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)' "$nodirect" 2>/dev/null; then
	echo "# virtio: /dev/shm takes O_DIRECT on this kernel: no refusal to check"
else
	expect_only_error "$n: cache=none on a file system without O_DIRECT is refused" 1 \
		"thinvisor: error: disk $nodirect: cache=none needs O_DIRECT: this file system does not support it" \
		"$TV" run --kernel "$L2_KERNEL" --console none --disk "path=$nodirect,cache=none"
fi
rm -f "$nodirect"
odir=$W/odirect ofs=/tmp/tv-odirect.$$.fs
mm1=$W/raw2.img mm1cache=
if modprobe -q loop && modprobe -q ext4 && truncate -s 100M "$ofs" && mke2fs -q -t ext4 -F "$ofs" &&
	mkdir -p "$odir" && mount -o loop "$ofs" "$odir" && mv "$W/raw2.img" "$odir/"; then
	mm1=$odir/raw2.img mm1cache=,cache=none
else
	notok "$n: an ext4 on a loop device for cache=none" "modprobe, mke2fs or mount failed"
fi
AIO_THREADS=1 boot $n MM1 --cpus 1 --transport mmio --disk path="$mm1",serial=MM1$mm1cache \
	--disk path="$W/ro.img",serial=RO,readonly=on
check_common $n
[ "$(kv tv-disks)" = 2 ] && ok "$n: two disks" || notok "$n: two disks" "$(kv tv-disks)"
l2_seen '^tv-irqs=[1-9][0-9]* IO-APIC$' && ok "$n: interrupts are IO-APIC lines" || notok "$n: interrupts are IO-APIC lines" "$(kv tv-irqs)"
check_fs $n MM1 "$mm1"
l2_seen "^thinvisor: virtio-blk0: $mm1: I/O through a thread pool \(THINVISOR_AIO_THREADS is set\)" &&
	ok "$n: the thread-pool I/O path served this boot" || notok "$n: the thread-pool I/O path served this boot"
if [ "$mm1" != "$W/raw2.img" ]; then
	l2_seen 'thinvisor-guest: tvtest exit 0' && ok "$n: MM1 ran with cache=none (O_DIRECT) through the thread pool" ||
		notok "$n: MM1 ran with cache=none (O_DIRECT) through the thread pool"
	umount "$odir"
fi
rm -f "$ofs"
l2_record "thinvisor virtio-mmio" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
