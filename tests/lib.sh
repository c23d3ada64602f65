# tests/lib.sh: helpers for shell test scripts. Each check prints one TAP-style line,
# "ok - NAME" or "not ok - NAME: why", which tests/run counts.
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
O=${O:-build}
TV=${TV:-$TOP/$O/thinvisor}

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1${2:+: $2}"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name" "exit $?: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
}

# expect_error NAME STATUS MESSAGE CMD...: CMD must exit with STATUS (or any non-zero if
# STATUS is "nz") and print MESSAGE as a whole line on stderr.
expect_error() {
	local name=$1 want_status=$2 msg=$3
	shift 3
	local err status
	err=$("$@" 2>&1 >/dev/null </dev/null)
	status=$?
	if [ "$want_status" = nz ] && [ "$status" -eq 0 ]; then
		notok "$name" "exit 0, wanted failure"
		return
	fi
	if [ "$want_status" != nz ] && [ "$status" -ne "$want_status" ]; then
		notok "$name" "exit $status, wanted $want_status; stderr: $(head -c 300 <<<"$err")"
		return
	fi
	if ! grep -qxF -- "$msg" <<<"$err"; then
		notok "$name" "stderr lacks line '$msg'; got: $(head -c 300 <<<"$err")"
		return
	fi
	ok "$name"
}

# expect_only_error NAME STATUS MESSAGE CMD...: CMD exits STATUS and its stderr is exactly the one
# line MESSAGE (nothing else printed to it).
expect_only_error() {
	local name=$1 want_status=$2 msg=$3 err st
	shift 3
	err=$("$@" 2>&1 >/dev/null </dev/null)
	st=$?
	if [ "$st" -ne "$want_status" ]; then
		notok "$name" "exit $st, wanted $want_status; stderr: $(head -c 300 <<<"$err" | tr '\n' '|')"
	elif [ "$err" != "$msg" ]; then
		notok "$name" "stderr is '$(head -c 300 <<<"$err" | tr '\n' '|')', wanted the one line '$msg'"
	else
		ok "$name"
	fi
}

skip_tier() { echo "skip - $1"; }
