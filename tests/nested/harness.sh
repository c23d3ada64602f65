#!/usr/bin/env bash
# tests/nested/harness.sh: checks that the machine the nested tier runs in is what the tests
# assume: root, a usable /dev/kvm, the host's files, a tmpfs TMPDIR where Unix sockets bind, and
# (inside L1) that what is written to the writable export reaches the host's file system.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

[ "${NESTED_RUN:-}" = 1 ] && echo "# L1 uptime when the harness checks ran: $(cut -d' ' -f1 /proc/uptime)s"
check "harness: running as root" test "$(id -u)" = 0
if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
	ok "harness: /dev/kvm opens read-write ($(grep -oE '^kvm_(amd|intel)' /proc/modules | head -n1))"
else
	notok "harness: /dev/kvm opens read-write" "$(ls -l /dev/kvm 2>&1); modules: $(grep -oE '^kvm[a-z_]*' /proc/modules | tr '\n' ' ')"
fi
check "harness: Debian's kernel is readable" sh -c 'ls /boot/vmlinuz-* >/dev/null && test -r "$(ls /boot/vmlinuz-* | head -n1)"'
if command -v python3 >/dev/null; then
	check "harness: a Unix socket binds in TMPDIR ($TMPDIR)" python3 -c '
import os, socket, tempfile
d = tempfile.mkdtemp(); s = socket.socket(socket.AF_UNIX); s.bind(os.path.join(d, "s")); s.close()'
fi

if [ -n "${NESTED_HOSTROOT:-}" ]; then
	f=$O/nested/export-check.$$.$RANDOM
	want="written in L1 at $(date +%s.%N)"
	mkdir -p "$O/nested"
	if ! echo "$want" >"$f"; then
		notok "harness: writable export" "cannot write $TOP/$f"
	else
		got=$(cat "$NESTED_HOSTROOT$TOP/$f" 2>&1)
		if [ "$got" = "$want" ]; then
			ok "harness: a file written in L1 shows up in the host's file system"
		else
			notok "harness: a file written in L1 shows up in the host's file system" "read back '$got'"
		fi
		rm -f "$f"
	fi
fi
