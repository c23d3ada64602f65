# tests/nested/lib-l2.sh: helpers for nested-tier tests that boot a Linux guest (L2) under a
# monitor (thinvisor, or QEMU as the peer). Source it from bash after tests/lib.sh.
#
#   l2_kernel                 sets L2_KERNEL (Debian's 64-bit vmlinuz) or returns 1
#   l2_initramfs [ARGS...]    sets L2_INITRD, built by tools/mkinitramfs (cached) with ARGS
#   l2_run NAME SECS CMD...   runs the monitor command CMD (guest console on its stdout/stderr)
#                             with a timeout, keeps its output in $L2_LOGS/NAME.console with
#                             each line prefixed by the seconds since the start, and sets
#                             L2_RC (CMD's exit status, 124 on timeout), L2_INIT (seconds to the
#                             guest's "thinvisor-guest: init started", empty if never),
#                             L2_TOTAL (seconds until CMD ended), L2_CONSOLE (the log file).
#   l2_seen REGEX             true if a console line of the last l2_run matches REGEX
#   l2_record NAME KEY=VAL... appends "NAME KEY=VAL..." to $O/nested/times.txt (measurements)
L2_LOGS=${L2_LOGS:-$TOP/$O/test-logs/nested}
mkdir -p "$L2_LOGS" "$TOP/$O/nested"

l2_kernel() {
	local k
	L2_KERNEL=${L2_KERNEL:-}
	[ -n "$L2_KERNEL" ] && return 0
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -rV); do
		[ -r "$k" ] && { L2_KERNEL=$k; return 0; }
	done
	return 1
}

l2_initramfs() {
	L2_INITRD=$TOP/$O/nested/guest.cpio.gz
	[ $# -gt 0 ] && L2_INITRD=$TOP/$O/nested/guest-$(echo "$*" | md5sum | cut -c1-8).cpio.gz
	"$TOP/tools/mkinitramfs" "$L2_INITRD" "$@"
}

# _l2_us: microseconds since the epoch, without forking
_l2_us() { local t=$EPOCHREALTIME; echo $((${t/./} + 0)); }

l2_run() {
	local name=$1 secs=$2 line start now rcf
	shift 2
	L2_CONSOLE=$L2_LOGS/$name.console
	rcf=$(mktemp)
	start=${EPOCHREALTIME/./}
	{
		timeout -k 5 "$secs" "$@" </dev/null 2>&1
		echo $? >"$rcf"
	} | while IFS= read -r line; do
		now=${EPOCHREALTIME/./}
		line=${line//$'\r'/}
		printf '%d.%02d %s\n' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)) "$line"
	done >"$L2_CONSOLE"
	now=${EPOCHREALTIME/./}
	L2_RC=$(cat "$rcf")
	rm -f "$rcf"
	L2_TOTAL=$(printf '%d.%02d' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)))
	L2_INIT=$(grep -m1 ' thinvisor-guest: init started$' "$L2_CONSOLE" | cut -d' ' -f1)
}

l2_seen() { cut -d' ' -f2- "$L2_CONSOLE" | grep -qE -- "$1"; }

l2_record() {
	local name=$1
	shift
	local where=host
	[ "${NESTED_RUN:-}" = 1 ] && where=L1
	echo "$name $* date=$(date -u +%FT%TZ) where=$where load=$(cut -d' ' -f1 /proc/loadavg)" >>"$TOP/$O/nested/times.txt"
}
