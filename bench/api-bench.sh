#!/usr/bin/env bash
# bench/api-bench.sh [N]: the control API's latency against a running guest (guest/ticker.elf):
# vm.info round trips (N requests, default 10000, one keep-alive connection, one at a time) and
# vm.pause / vm.resume (200 pairs: the time until the 204, i.e. until every vCPU is parked or
# released), p50/p90/p99/max in microseconds, measured by a Python client (its own overhead
# included). Also the largest gap in the guest's 10 ms ticks during the run. Needs /dev/kvm.
# Run it on a quiet machine: `nice` is not used, the numbers are latencies.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-build}
n=${1:-10000}
make -s all guests >/dev/null
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
name=bench$$
"$O/thinvisor" run --kernel guest/build/ticker.elf --console "file=$tmp/con" --name "$name" \
	--cpus "${CPUS:-1}" </dev/null >/dev/null 2>&1 &
pid=$!
sock=/run/thinvisor/$name.sock
[ "$(id -u)" = 0 ] || sock=$XDG_RUNTIME_DIR/thinvisor/$name.sock
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
python3 - "$sock" "$n" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX); s.connect(path)
f = s.makefile("rb")
def req(method, url):
    s.sendall(f"{method} {url} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    status = f.readline().split()[1]
    length = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""): break
        k, _, v = h.partition(b":")
        if k.lower() == b"content-length": length = int(v)
    body = f.read(length)
    return int(status), body
def stats(name, xs):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
    print(f"{name}: n={len(xs)} p50={q(.5)*1e6:.0f}us p90={q(.9)*1e6:.0f}us "
          f"p99={q(.99)*1e6:.0f}us max={xs[-1]*1e6:.0f}us")
for _ in range(200): req("GET", "/api/v1/vm.info")  # warm up
xs = []
for _ in range(n):
    t = time.perf_counter(); st, b = req("GET", "/api/v1/vm.info"); xs.append(time.perf_counter() - t)
    assert st == 200 and b"Running" in b, (st, b)
stats("vm.info round trip", xs)
ps, rs = [], []
for _ in range(200):
    t = time.perf_counter(); st, _ = req("PUT", "/api/v1/vm.pause"); ps.append(time.perf_counter() - t)
    assert st == 204
    t = time.perf_counter(); st, _ = req("PUT", "/api/v1/vm.resume"); rs.append(time.perf_counter() - t)
    assert st == 204
    time.sleep(0.005)
stats("vm.pause until every vCPU is parked", ps)
stats("vm.resume", rs)
PY
kill $pid
wait $pid 2>/dev/null || true
sed -n 's/^tick [0-9]* us=\([0-9]*\)$/\1/p' "$tmp/con" |
	awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "guest ticks: %d, largest gap %.1f ms (pauses included)\n", NR, m / 1000 }'
