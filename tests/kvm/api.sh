#!/usr/bin/env bash
# tests/kvm/api.sh: the control API, `ls` and `ctl` against the ticker guest (guest/ticker.c:
# a line "tick N us=T" every 10 ms, T from the PM timer), talking HTTP with curl --unix-socket:
# errors (404, 405, 400, 413, 431, 409) with their exact JSON bodies, 200 concurrent vm.info
# requests and hostile clients while the guest's console never pauses > 100 ms, pause/resume
# (idempotent, visible at once), reboot, power button, shutdown, the socket's life (mode,
# removal on every exit path, stale socket replaced, name clash), the event monitor's order,
# and teardown under ASan with 4 running vCPUs. Run by tests/kvm/run (needs /dev/kvm).
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$TOP"
. tests/lib.sh
G=guest/build
TIMEOUT=${KVM_TEST_TIMEOUT:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tv-api.XXXXXX") || exit 1
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; [ -n "${API_KEEP:-}" ] || rm -rf "$tmp"' EXIT
SOCKDIR=/run/thinvisor
[ "$(id -u)" = 0 ] || SOCKDIR=${XDG_RUNTIME_DIR:-/nonexistent}/thinvisor
N=tvtest$$
# Inside the nested machine (QEMU emulating AMD-V) everything runs under software emulation,
# tens of times slower and with the guest's vCPU sharing two emulated CPUs with the clients:
# there the console bound is 1.5 s (it still catches a vCPU held up for a whole phase) and the
# "at once" bound 10 s; 100 ms and 2 s on hardware virtualization.
GAP_MS=100 QUICK_MS=2000
if [ "${NESTED_RUN:-}" = 1 ]; then
	GAP_MS=1500 QUICK_MS=10000
	echo "# api: in the nested machine: console gaps up to ${GAP_MS} ms and 'at once' up to ${QUICK_MS} ms allowed (100 ms and 2 s on hardware)"
fi

# is NAME COND [WHY]: ok/not ok by a shell condition
is() { local name=$1; shift; if eval "$1"; then ok "$name"; else notok "$name" "${2:-$1}"; fi; }

# api METHOD PATH [CURL ARGS...]: sets $code and $body (and $hdrs) for one request to $N.
api() {
	local m=$1 p=$2
	shift 2
	body=$(curl -s -m 10 --unix-socket "$SOCKDIR/$N.sock" -X "$m" -D "$tmp/hdrs" \
		-o - -w '\n%{http_code}' "$@" "http://localhost$p")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
	body=${body%$'\n'} # JSON answers end with a newline
	hdrs=$(tr -d '\r' <"$tmp/hdrs" 2>/dev/null)
}

# expect NAME CODE BODY: the last api call answered CODE with exactly BODY
expect() {
	if [ "$code" = "$2" ] && [ "$body" = "$3" ]; then ok "$1"
	else notok "$1" "got $code '$(head -c 200 <<<"$body")', wanted $2 '$3'"; fi
}

# start TAG ARGS...: a monitor in the background ($pid), console in $tmp/TAG.out; waits for the
# socket and the guest's first tick
start() {
	local tag=$1
	shift
	rm -f "$tmp/$tag.out"
	"${TVBIN:-$TV}" run --kernel "$G/ticker.elf" --console "file=$tmp/$tag.out" "$@" \
		</dev/null >/dev/null 2>"$tmp/$tag.err" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq $((TIMEOUT * 10))); do
		grep -q '^tick' "$tmp/$tag.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}

# wait_exit PID SECS: its exit status, or 124 (and killed) after SECS
wait_exit() {
	for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then kill -KILL "$1"; wait "$1" 2>/dev/null; return 124; fi
	wait "$1"
}

ticks() { grep -c '^tick' "$tmp/$1.out"; }
# max_gap TAG FROM TO: the largest gap in ms between the guest's tick stamps, lines FROM..TO
max_gap() {
	sed -n "$2,$3p" "$tmp/$1.out" | sed -n 's/^tick [0-9]* us=\([0-9]*\)$/\1/p' |
		awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%d\n", m / 1000 }'
}

if [ ! -f "$G/ticker.elf" ]; then
	notok "api: ticker guest" "$G/ticker.elf not built"
	exit 0
fi

truncate -s 16M "$tmp/disk0.raw"
start main --name "$N" --event-monitor "path=$tmp/events" --disk "path=$tmp/disk0.raw,format=raw" \
	--net user
is "api: the monitor is up with its socket" "[ -S $SOCKDIR/$N.sock ]" "no socket; $(head -c 300 "$tmp/main.err")"
is "api: the socket is mode 0600 in a 0700 directory" \
	"[ \"\$(stat -c %a $SOCKDIR/$N.sock) \$(stat -c %a $SOCKDIR)\" = '600 700' ]" \
	"modes $(stat -c %a "$SOCKDIR/$N.sock" "$SOCKDIR" 2>&1 | tr '\n' ' ')"

# --- answers ---
api GET /api/v1/vmm.ping
ver=$("$TV" --version | cut -d' ' -f2)
is "api: vmm.ping: 200 with version and pid" \
	"[ $code = 200 ] && [ \"\$(jq -r '.version, .pid' <<<\"\$body\" | tr '\n' ' ')\" = '$ver $pid ' ]" "$code $body"
api GET /api/v1/vm.info
is "api: vm.info: Running, memory_actual_size, name, config" \
	"[ $code = 200 ] && [ \"\$(jq -r '.state, .memory_actual_size, .name, .config.memory.size, .config.payload.kernel' <<<\"\$body\" | tr '\n' ' ')\" = 'Running 268435456 $N 268435456 $G/ticker.elf ' ]" "$code $body"
api GET '/api/v1/vm.info?x=1'
is "api: a query string is ignored" "[ $code = 200 ]" "$code"
api GET /api/v1/vm.nope
expect "api: an unknown route is 404" 404 '{"error":"no such endpoint: /api/v1/vm.nope"}'
api GET /
expect "api: / is 404" 404 '{"error":"no such endpoint: /"}'
api GET /api/v1/vm.pause
expect "api: GET on a PUT route is 405" 405 '{"error":"method GET is not allowed on /api/v1/vm.pause (allowed: PUT)"}'
is "api: the 405 names the allowed method (Allow: PUT)" "grep -qx 'Allow: PUT' <<<\"\$hdrs\"" "$hdrs"
api DELETE /api/v1/vm.info
expect "api: DELETE on vm.info is 405" 405 '{"error":"method DELETE is not allowed on /api/v1/vm.info (allowed: GET)"}'
api PUT /api/v1/vm.pause -H 'Content-Type: application/json' -d '{"a":'
expect "api: malformed JSON is 400" 400 '{"error":"request body is not valid JSON: unexpected end of data"}'
api PUT /api/v1/vm.pause -d 'pause please'
expect "api: a body that is not JSON is 400" 400 '{"error":"request body must be a JSON object"}'
api PUT /api/v1/vm.pause -d '["x"]'
expect "api: a JSON array is 400" 400 '{"error":"request body must be a JSON object"}'
head -c 100000 /dev/zero | tr '\0' ' ' >"$tmp/big"
api PUT /api/v1/vm.pause --data-binary "@$tmp/big"
expect "api: a 100 KB body is 413" 413 '{"error":"request body too large (at most 65536 bytes)"}'
api PUT /api/v1/vm.pause -H 'Transfer-Encoding: chunked' --data-binary "@$tmp/big"
expect "api: a 100 KB chunked body (no Content-Length) is 413" 413 '{"error":"request body too large (at most 65536 bytes)"}'
{ printf 'X-Big: '; head -c 1000000 /dev/zero | tr '\0' a; echo; } >"$tmp/bighdr"
api GET /api/v1/vm.info -H "@$tmp/bighdr"
is "api: a 1 MB header is refused (431)" "[ $code = 431 ]" "$code"
api GET /api/v1/vm.info
is "api: still Running after the bad requests (none paused it)" "[ $code = 200 ] && [ \$(jq -r .state <<<\"\$body\") = Running ]" "$code $body"

# --- 200 concurrent clients, then hostile ones, while the guest ticks ---
# gap_phase NAME FN: run FN while the guest ticks; the console must never pause > 100 ms. The
# vCPU thread shares this machine's CPUs with everything else: a gap can also be the host's
# scheduler, so a failed attempt is said ("# ... once more") and run once more.
gap_phase() {
	local name=$1 fn=$2 try from to gap tstart=$SECONDS
	for try in 1 2; do
		from=$(ticks main)
		$fn
		to=$(ticks main)
		gap=$(max_gap main "$from" "$to")
		if [ $((to - from)) -gt 5 ] && [ "$gap" -le $GAP_MS ]; then
			ok "$name (largest gap ${gap} ms over $((to - from)) ticks, $((SECONDS - tstart)) s)"
			return
		fi
		[ $try = 1 ] && echo "# $name: largest gap ${gap} ms over $((to - from)) ticks (load $(cut -d' ' -f1 /proc/loadavg)): once more"
	done
	notok "$name" "largest gap ${gap} ms over $((to - from)) ticks"
}

many_clients() {
	local urls=() i
	for i in $(seq 200); do urls+=("http://localhost/api/v1/vm.info?c=$i" -o "$tmp/c$i"); done
	rm -f "$tmp"/c[0-9]*
	nice -n 10 curl -s -m 60 --parallel --parallel-max 200 --unix-socket "$SOCKDIR/$N.sock" \
		-w '%{http_code}\n' "${urls[@]}" >"$tmp/codes" 2>/dev/null
	sleep 0.3
}
gap_phase "api: 200 concurrent vm.info: the console never pauses > $GAP_MS ms" many_clients
good=$(grep -l '"state":"Running"' "$tmp"/c[0-9]* 2>/dev/null | wc -l)
is "api: 200 concurrent vm.info: all 200 answered 200 with the state" \
	"[ \$(grep -cx 200 $tmp/codes) = 200 ] && [ $good = 200 ]" "$(sort "$tmp/codes" | uniq -c | tr '\n' ' ') bodies ok: $good"

# hostile: 400 idle connections, 50 half-sent requests, a 1 MB header sent slowly
cat >"$tmp/hostile.py" <<'PY'
import os, socket, sys, time
path, hold = sys.argv[1], float(sys.argv[2])
conns = []
for i in range(400):
    s = socket.socket(socket.AF_UNIX); s.connect(path); conns.append(s)
for i in range(50):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b"PUT /api/v1/vm.pause HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":"); conns.append(s)
s = socket.socket(socket.AF_UNIX); s.connect(path); s.setblocking(False)
s.send(b"GET /api/v1/vm.info HTTP/1.1\r\nX-Big: "); conns.append(s)
print("ready", flush=True)
end = time.time() + hold
while time.time() < end:
    try: s.send(b"a" * 4096)
    except OSError: pass
    time.sleep(0.05)
PY
ulimit -n 4096 2>/dev/null
hostile() {
	nice -n 10 python3 "$tmp/hostile.py" "$SOCKDIR/$N.sock" 3 >"$tmp/hostile.out" 2>&1 &
	local hp=$!
	for _ in $(seq $((TIMEOUT * 10))); do grep -q ready "$tmp/hostile.out" && break; sleep 0.1; done
	t0=$(date +%s%N)
	api GET /api/v1/vm.info
	t1=$(date +%s%N)
	wait $hp
}
gap_phase "api: 451 hostile connections never pause the console > $GAP_MS ms" hostile
is "api: with 451 hostile connections open, vm.info still answers ($(((t1 - t0) / 1000000)) ms)" \
	"[ $code = 200 ] && [ $(((t1 - t0) / 1000000)) -lt $QUICK_MS ]" "$code after $(((t1 - t0) / 1000000)) ms; $(head -c 200 "$tmp/hostile.out")"
api GET /api/v1/vm.info
is "api: answers after the hostile clients left" "[ $code = 200 ]" "$code"

# --- pause / resume ---
api PUT /api/v1/vm.pause
expect "api: vm.pause is 204" 204 ''
api GET /api/v1/vm.info
is "api: vm.info says Paused on the next request" "[ \$(jq -r .state <<<\"\$body\") = Paused ]" "$body"
n1=$(ticks main); sleep 0.5; n2=$(ticks main)
is "api: a paused guest prints nothing ($n1 then $n2 ticks)" "[ $n1 = $n2 ]"
api PUT /api/v1/vm.pause
expect "api: vm.pause when paused is 204 (idempotent)" 204 ''
api PUT /api/v1/vm.power-button
expect "api: vm.power-button while paused is 409" 409 '{"error":"PUT /api/v1/vm.power-button is not possible while the VM is Paused"}'
api GET /metrics
is "api: /metrics: state Paused" "grep -qx 'thinvisor_vm_state{state=\"Paused\"} 1' <<<\"\$body\"" "$(head -c 300 <<<"$body")"
api PUT /api/v1/vm.resume
expect "api: vm.resume is 204" 204 ''
api PUT /api/v1/vm.resume
expect "api: vm.resume when running is 204 (idempotent)" 204 ''
sleep 0.3
n3=$(ticks main)
is "api: the guest ticks again after resume ($n2 then $n3)" "[ $n3 -gt $n2 ]"
is "api: \`ctl pause\` and \`ctl resume\` exit 0" "'$TV' ctl $N pause && '$TV' ctl $N resume"

# --- counters, metrics, ls, ctl ---
api GET /api/v1/vm.counters
is "api: vm.counters has the exit counters" "[ $code = 200 ] && [ \$(jq -r '.exits.io' <<<\"\$body\") -gt 100 ]" "$body"
api GET /metrics
is "api: /metrics: Prometheus text with exits, vCPU time, RSS" \
	"grep -q '^# TYPE thinvisor_exits_total counter$' <<<\"\$body\" && grep -Eq '^thinvisor_exits_total\\{reason=\"io\"\\} [1-9][0-9]*$' <<<\"\$body\" && grep -Eq '^thinvisor_vcpu_seconds_total\\{vcpu=\"0\"\\} [0-9.]+$' <<<\"\$body\" && grep -Eq '^thinvisor_monitor_rss_bytes [1-9][0-9]*$' <<<\"\$body\" && grep -Fq 'text/plain; version=0.0.4' <<<\"\$hdrs\"" "$(head -c 300 <<<"$body")"
is "api: /metrics: the disk's and the NIC's counters" \
	"grep -Eq '^thinvisor_disk_read_requests_total\\{disk=\"disk0\"\\} [0-9]+$' <<<\"\$body\" && grep -Eq '^thinvisor_disk_write_bytes_total\\{disk=\"disk0\"\\} [0-9]+$' <<<\"\$body\" && grep -Eq '^thinvisor_net_rx_frames_total\\{net=\"net0\"\\} [0-9]+$' <<<\"\$body\" && grep -Eq '^thinvisor_net_tx_bytes_total\\{net=\"net0\"\\} [0-9]+$' <<<\"\$body\"" "$(grep -E 'disk|net' <<<"$body" | head -c 400)"
api GET /api/v1/vm.counters
is "api: vm.counters has disk0 and net0" "[ \"\$(jq -r '.disk0.read_requests, .disk0.flush_requests, .net0.rx_frames, .net0.dropped_frames' <<<\"\$body\" | tr '\n' ' ')\" = '0 0 0 0 ' ]" "$body"
"$TV" ls >"$tmp/ls" 2>&1
is "api: ls lists it: name, pid, Running, 256M, 1 vCPU, socket" \
	"awk -v n=$N -v p=$pid -v s=$SOCKDIR/$N.sock '\$1 == n && \$2 == p && \$3 == \"Running\" && \$4 == \"256M\" && \$5 == 1 && \$7 == s' $tmp/ls | grep -q ." "$(cat "$tmp/ls")"
is "api: ctl NAME info prints the VM as JSON" "[ \"\$('$TV' ctl $N info | jq -r .state)\" = Running ]"
expect_only_error "api: ctl with an unknown action" 1 "thinvisor: error: unknown action 'bogus' (see \`thinvisor help ctl\`)" "$TV" ctl "$N" bogus

# --- a second monitor cannot take the name ---
expect_only_error "api: a second monitor with the same --name is refused" 1 \
	"thinvisor: error: the name '$N' is in use by a running monitor (API socket $SOCKDIR/$N.sock)" \
	timeout 30 "$TV" run --kernel "$G/ticker.elf" --console none --name "$N"

# --- reboot, then the power button: the guest powers off, the monitor exits 0 ---
api PUT /api/v1/vm.reboot
expect "api: vm.reboot is 204" 204 ''
end=$((SECONDS + TIMEOUT))
# not anchored: the reset may cut the last tick line short, and the new boot's line follows it
while [ "$(grep -c 'ticker: start' "$tmp/main.out")" -lt 2 ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
boots=$(grep -c 'ticker: start' "$tmp/main.out")
if [ "$boots" = 2 ]; then ok "api: vm.reboot boots the guest again (without --on-reboot restart)"; else
	api GET /api/v1/vm.info
	notok "api: vm.reboot boots the guest again (without --on-reboot restart)" "$boots boots after ${TIMEOUT}s; state $(jq -r .state <<<"$body"); events $(jq -r .event "$tmp/events" | tr '\n' ' '); stderr $(head -c 200 "$tmp/main.err" | tr '\n' '|')"
fi
sleep 0.2
api PUT /api/v1/vm.power-button
expect "api: vm.power-button is 204" 204 ''
wait_exit "$pid" "$TIMEOUT"
st=$?
is "api: the guest's own poweroff after the power button ends the monitor with 0" "[ $st = 0 ] && grep -qx 'power button' $tmp/main.out" "exit $st; $(tail -n 2 "$tmp/main.out" | tr '\n' '|')"
is "api: the socket and its lock are removed" "[ ! -e $SOCKDIR/$N.sock ] && [ ! -e $SOCKDIR/$N.sock.lock ]"
"$TV" ls >"$tmp/ls" 2>&1
is "api: ls no longer lists it" "! grep -q '^$N ' $tmp/ls" "$(cat "$tmp/ls")"
expect_only_error "api: ctl on a VM that is gone" 1 "thinvisor: error: no VM called '$N' is running (no socket $SOCKDIR/$N.sock)" "$TV" ctl "$N" info
got=$(jq -r .event "$tmp/events" 2>/dev/null | tr '\n' ' ')
is "api: events in order: booted paused resumed paused resumed reset booted power-button shutdown" \
	"[ '$got' = 'booted paused resumed paused resumed reset booted power-button shutdown ' ]" "got: $got"
is "api: the shutdown event carries the exit status" "[ \"\$(tail -n1 $tmp/events | jq -c .properties)\" = '{\"status\":0}' ]" "$(tail -n1 "$tmp/events")"

# --- vm.shutdown ends it at once; SIGTERM and a crash ---
start sd --name "$N"
t0=$(date +%s%N)
api PUT /api/v1/vm.shutdown
wait_exit "$pid" "$TIMEOUT"
st=$?
t1=$(date +%s%N)
is "api: vm.shutdown: 204, the monitor exits 0 within $((QUICK_MS / 1000)) s ($(((t1 - t0) / 1000000)) ms)" \
	"[ $code = 204 ] && [ $st = 0 ] && [ $(((t1 - t0) / 1000000)) -lt $QUICK_MS ]" "code $code exit $st"
is "api: vm.shutdown removes the socket" "[ ! -e $SOCKDIR/$N.sock ]"
start term --name "$N"
kill -TERM "$pid"
wait_exit "$pid" "$TIMEOUT"
st=$?
is "api: SIGTERM: exit 130 and the socket removed" "[ $st = 130 ] && [ ! -e $SOCKDIR/$N.sock ]" "exit $st"
start pterm --name "$N"
api PUT /api/v1/vm.pause
kill -TERM "$pid"
wait_exit "$pid" "$TIMEOUT"
st=$?
is "api: SIGTERM to a paused VM: exit 130 (parked vCPUs woken and joined), socket removed" \
	"[ $code = 204 ] && [ $st = 130 ] && [ ! -e $SOCKDIR/$N.sock ]" "pause $code, exit $st"
start crash --name "$N"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
is "api: a killed monitor leaves a stale socket" "[ -S $SOCKDIR/$N.sock ]"
"$TV" ls >"$tmp/ls" 2>&1
is "api: ls does not list a stale socket" "! grep -q '^$N ' $tmp/ls" "$(cat "$tmp/ls")"
start stale --name "$N"
api GET /api/v1/vm.info
is "api: a new monitor replaces the stale socket" "[ $code = 200 ] && [ \$(jq -r .pid <<<\"\$body\") = $pid ]" "$code $body"
"$TV" ctl "$N" shutdown
wait_exit "$pid" "$TIMEOUT"
is "api: ctl shutdown ends it (exit 0)" "[ $? = 0 ]"
expect_only_error "api: --api-socket in a missing directory is refused" 1 \
	"thinvisor: error: cannot create $tmp/none/x.sock.lock: No such file or directory" \
	timeout 30 "$TV" run --kernel "$G/ticker.elf" --console none --api-socket "$tmp/none/x.sock"

# --- teardown and pause with 4 running vCPUs, under ASan ---
if [ -x "$O/san/thinvisor" ]; then
	TVBIN=$O/san/thinvisor start san --name "$N" --cpus 4
	for i in 1 2 3; do api PUT /api/v1/vm.pause; c1=$code; api PUT /api/v1/vm.resume; done
	api PUT /api/v1/vm.shutdown
	wait_exit "$pid" "$TIMEOUT"
	st=$?
	is "api: pause/resume and vm.shutdown with 4 vCPUs: clean under ASan, exit 0" \
		"[ $st = 0 ] && [ $c1 = 204 ] && ! grep -q Sanitizer $tmp/san.err" "exit $st pause $c1; $(head -c 300 "$tmp/san.err")"
fi
echo "# api: ${SECONDS} s"
exit 0
