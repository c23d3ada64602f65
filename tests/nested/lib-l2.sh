# tests/nested/lib-l2.sh: helpers for nested-tier tests that boot a Linux guest (L2) under a
# monitor (thinvisor, or QEMU as the peer). Source it from bash after tests/lib.sh.
#
#   l2_kernel                 sets L2_KERNEL (Debian's 64-bit vmlinuz) or returns 1
#   l2_initramfs [ARGS...]    sets L2_INITRD, built by tools/mkinitramfs (cached) with ARGS
#   l2_run NAME SECS CMD...   runs the monitor command CMD (guest console on its stdout/stderr)
#                             with a timeout, keeps its output in $L2_LOGS/NAME.console with
#                             each line prefixed by the seconds since the start (a frozen,
#                             triple-faulted or zeroed-state panicked run is run once more,
#                             see below), and sets
#                             L2_RC (CMD's exit status, 124 on timeout), L2_INIT (seconds to the
#                             guest's "thinvisor-guest: init started", empty if never),
#                             L2_TOTAL (seconds until CMD ended), L2_CONSOLE (the log file),
#                             L2_START_US (the wall-clock time the kept run started, in µs).
#   l2_first_failed NAME WHY LOG  keeps LOG as LOG.first and prints the rerun line (below)
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

# _l2_once SECS CMD...: one run for l2_run. A guest that prints nothing for L2_STALL seconds
# (default 150) is stopped (L2_STALLED=1, L2_RC=124).
_l2_once() {
	local secs=$1 line start now fifo pid
	shift
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/l2.XXXXXX") && mkfifo "$fifo" || return 1
	L2_STALLED=
	start=${EPOCHREALTIME/./}
	L2_START_US=$start
	timeout -k 5 "$secs" "$@" </dev/null >"$fifo" 2>&1 &
	pid=$!
	while :; do
		if IFS= read -r -t "${L2_STALL:-150}" line; then
			now=${EPOCHREALTIME/./}
			line=${line//$'\r'/}
			printf '%d.%02d %s\n' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)) "$line"
		elif [ $? -gt 128 ]; then
			L2_STALLED=1
			kill -TERM "$pid" 2>/dev/null
			break
		else
			break
		fi
	done <"$fifo" >"$L2_CONSOLE"
	wait "$pid"
	L2_RC=$?
	[ -n "$L2_STALLED" ] && L2_RC=124
	rm -f "$fifo"
	now=${EPOCHREALTIME/./}
	L2_TOTAL=$(printf '%d.%02d' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)))
	L2_INIT=$(grep -m1 ' thinvisor-guest: init started$' "$L2_CONSOLE" | cut -d' ' -f1)
}

# l2_run: once more when the guest froze (no output for L2_STALL s, or the time limit), a
# vCPU triple-faulted or the guest kernel panicked with its vCPU state zeroed, saying so on a
# "# " line. The emulated AMD-V of the nested machine has rare failures of these kinds, which
# QEMU's guests show too (README.md, Tests); a real bug that repeats fails the second run.
l2_run() {
	local name=$1 secs=$2 why
	shift 2
	L2_CONSOLE=$L2_LOGS/$name.console
	_l2_once "$secs" "$@"
	why=
	if [ -n "$L2_STALLED" ]; then why="no console output for ${L2_STALL:-150}s"
	elif [ "$L2_RC" = 124 ]; then why="still running after ${secs}s"
	elif [ "$L2_RC" = 3 ]; then why="triple fault ($(grep -m1 -o 'vCPU [0-9]*:' "$L2_CONSOLE"))"
	# a 64-bit kernel that oopses with CS 0 (and RIP, RSP 0) had its vCPU state wiped, which
	# neither it nor the monitor does while it runs: the emulated AMD-V's kind of failure
	elif l2_seen 'Kernel panic - not syncing' && l2_seen '\] CS:  0000 DS: 0000'; then
		why="kernel panic with a zeroed vCPU state (CS 0)"
	fi
	[ -n "$why" ] || return 0
	l2_first_failed "$name" "$why" "$L2_CONSOLE"
	l2_record "$name retry" "why=${why// /_}"
	_l2_once "$secs" "$@"
	return 0
}

# l2_first_failed NAME WHY LOG: before a boot is run once more, keep its first LOG as LOG.first
# and say so on the "# NAME: first run failed: WHY, after: LAST LINE; running it once more" line
# (tests/run repeats such lines above its summary). LOG may carry l2_run's time prefixes.
l2_first_failed() {
	mv -f "$3" "$3.first"
	echo "# $1: first run failed: $2, after: $(tail -n 1 "$3.first" | tr -d '\r' |
		sed -E 's/^[0-9]+\.[0-9]{2} //' | cut -c1-100); running it once more (log $3.first)"
}

l2_seen() { cut -d' ' -f2- "$L2_CONSOLE" | grep -qE -- "$1"; }

l2_record() {
	local name=$1
	shift
	local where=host
	[ "${NESTED_RUN:-}" = 1 ] && where=L1
	echo "$name $* date=$(date -u +%FT%TZ) where=$where load=$(cut -d' ' -f1 /proc/loadavg)" >>"$TOP/$O/nested/times.txt"
}
