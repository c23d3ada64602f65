#!/usr/bin/env bash
# bench/rss-breakdown.sh [RUN ARGS...]: where a monitor's memory goes. Starts `thinvisor run`
# with the tiny ticker guest (64 MiB) and a 64 MiB raw disk plus RUN ARGS (e.g. --net user)
# on this host's /dev/kvm, waits 3 s, prints VmRSS and the 14 largest mappings by Rss
# (Rss KiB, Private_Dirty KiB, mapping; guest RAM is the "[anon 65536K]" line), then stops it.
# Overhead = VmRSS minus the guest RAM line. Needs a /dev/kvm (any: no timing is taken).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
make -s O="$O" all guests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 64M "$tmp/d.raw"
"$O/thinvisor" run --kernel guest/build/ticker.elf --memory 64M --console "file=$tmp/con" \
	--name "rss$$" --api-socket "$tmp/api.sock" --disk "path=$tmp/d.raw,format=raw" "$@" \
	</dev/null >"$tmp/out" 2>&1 &
pid=$!
sleep 3
kill -0 "$pid" 2>/dev/null || { cat "$tmp/out"; exit 1; }
grep -E '^(VmRSS|RssAnon|RssFile)' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' '
echo
python3 - "$pid" <<'PY'
import re, sys
rows, cur = {}, None
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    p = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        a, b = (int(x, 16) for x in p[0].split("-"))
        big = (b - a) // 1024 if b - a >= 32 << 20 else 0
        cur = p[5] if len(p) > 5 else f"[anon {big}K]"
        rows.setdefault(cur, [0, 0])
    elif p[0] == "Rss:":
        rows[cur][0] += int(p[1])
    elif p[0] == "Private_Dirty:":
        rows[cur][1] += int(p[1])
for k, v in sorted(rows.items(), key=lambda x: -x[1][0])[:14]:
    print(f"{v[0]:6d} {v[1]:6d} {k}")
PY
kill "$pid"
wait "$pid" 2>/dev/null || true
