#!/usr/bin/env bash
# tests/nested/net.sh: virtio-net with Debian's stock kernel, one guest boot with two NICs, the
# monitor inside a network namespace the test makes:
#   --net user,hostfwd=tcp::HOSTPORT-:80 (libslirp): the guest gets a DHCP lease (busybox
#     udhcpc), fetches a file from an HTTP server on the namespace's loopback through the
#     gateway 10.0.2.2 and checks its sha256; the host fetches a file from the guest's httpd
#     through the port forward;
#   --net tap=tvtap0,mac=...: the tap in the namespace (192.168.77.1, guest 192.168.77.2) with
#     checksum/TSO offloads negotiated: the guest fetches 16 MiB from the host and the host
#     16 MiB from the guest over TCP, both checked by sha256; the monitor's --stats line shows
#     segmented (TSO) frames in both directions.
#   --net tap=tvtapmq,queues=2 (a multi_queue tap, 2 vCPUs): the guest turns both queue pairs on
#     (control queue) and downloads through each.
# Also: MACs (given, and derived: locally administered, unicast), features seen by the guest,
# no kernel warnings, poweroff exits 0.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
. "$TOP/tests/nested/lib-l2.sh"
secs=${L2_TIMEOUT:-300}
PY=/usr/bin/python3

[ -c /dev/kvm ] || { notok "net" "no /dev/kvm here"; exit 0; }
[ -x "$TV" ] || { notok "net" "no $TV (run make)"; exit 0; }
[ "$(id -u)" = 0 ] || { notok "net" "needs root (network namespace, tap)"; exit 0; }
command -v ip >/dev/null || { notok "net" "no ip (install iproute2)"; exit 0; }
[ -x "$PY" ] || { notok "net" "no $PY"; exit 0; }
l2_kernel || { notok "net" "no /boot/vmlinuz-*"; exit 0; }

# the tun driver is a module: its /dev/net/tun appears once it is loaded
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
ns=tvnet$$
d=$(mktemp -d)
helper=
cleanup() {
	[ -n "$helper" ] && kill "$helper" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
fail_setup() { notok "net: set-up" "$1"; exit 0; }
ip netns add "$ns" || fail_setup "ip netns add failed"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tvtap0 mode tap || fail_setup "ip tuntap add failed"
ip -n "$ns" addr add 192.168.77.1/24 dev tvtap0
ip -n "$ns" link set tvtap0 up
ip -n "$ns" tuntap add dev tvtapmq mode tap multi_queue || fail_setup "ip tuntap add multi_queue failed"
ip -n "$ns" addr add 192.168.79.1/24 dev tvtapmq
ip -n "$ns" link set tvtapmq up
# refusals, one line each (no guest boots)
refuse() { # refuse NAME LINE NET-SPEC...
	local name=$1 line=$2 a=()
	shift 2
	for n in "$@"; do a+=(--net "$n"); done
	expect_only_error "net: $name" 1 "thinvisor: error: $line" ip netns exec "$ns" timeout 120 \
		"$TV" run --kernel "$L2_KERNEL" --console none "${a[@]}"
}
refuse "a tap device that does not exist" \
	"net 1: tap device 'tvnope0' does not exist (create it: ip tuntap add dev tvnope0 mode tap)" tap=tvnope0
refuse "a device that is not a tap" "net 2: tap device 'lo' is not a tap device (or is multi_queue)" user tap=lo
ip netns exec "$ns" "$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("0.0.0.0",18081)); s.listen(); open(sys.argv[1],"w").close(); time.sleep(60)' "$d/busy" &
busy=$!
for ((i = 0; i < 100; i++)); do [ -e "$d/busy" ] && break; sleep 0.2; done
refuse "a port forward whose host port is taken" \
	"net 1: hostfwd=tcp:18081-:22: cannot listen on host port 18081 (in use?)" user,hostfwd=tcp::18081-:22
kill $busy 2>/dev/null
mkdir -p "$d/www"
head -c 4M /dev/urandom >"$d/www/small"
head -c 16M /dev/urandom >"$d/www/big"
small_sha=$(sha256sum <"$d/www/small" | cut -d' ' -f1)
big_sha=$(sha256sum <"$d/www/big" | cut -d' ' -f1)
# one HTTP server in the namespace: on its loopback (slirp's 10.0.2.2) and on the tap
ip netns exec "$ns" "$PY" -m http.server 8000 --directory "$d/www" >"$d/http.log" 2>&1 &
srv=$!
fwd=18080
tapmac=52:54:00:77:00:02
mqmac=52:54:00:79:00:02

# The guest's side. Prints tv-KEY=VALUE lines; waits for the host's fetches (the file "done"
# appears on the host's server) before powering off.
guest='set -u
for i in /sys/class/net/eth*; do
	case "$(cat $i/address)" in '$tapmac') tap=${i##*/} ;; '$mqmac') mq=${i##*/} ;; *) user=${i##*/} ;; esac
done
echo tv-nics=$(ls -d /sys/class/net/eth* | wc -l)
echo tv-mq-queues=$(ls -d /sys/class/net/$mq/queues/rx-* | wc -l)
echo tv-user-mac=$(cat /sys/class/net/$user/address)
echo tv-user-features=$(cat /sys/class/net/$user/device/features)
echo tv-tap-features=$(cat /sys/class/net/$tap/device/features)
ip link set $user up
ip link set $tap up
sleep 1
echo tv-carrier=$(cat /sys/class/net/$user/carrier)$(cat /sys/class/net/$tap/carrier)
printf "#!/bin/sh\n[ \"\$1\" = bound ] || exit 0\nip addr add \$ip/\$mask dev \$interface\nip route add default via \$router\necho tv-lease=\$ip,\$router,\$dns >/tmp/lease\n" >/tmp/dhcp.sh
chmod +x /tmp/dhcp.sh
udhcpc -i $user -s /tmp/dhcp.sh -q -n -t 10 -T 2 >/dev/null 2>&1
cat /tmp/lease 2>/dev/null || echo tv-lease=none
wget -q -O /tmp/small http://10.0.2.2:8000/small && echo tv-small-sha=$(sha256sum </tmp/small | cut -d" " -f1)
mkdir -p /www && head -c 16777216 /dev/urandom >/www/big && echo tv-gbig-sha=$(sha256sum </www/big | cut -d" " -f1)
httpd -p 80 -h /www
ip addr add 192.168.77.2/24 dev $tap
wget -q -O /tmp/big http://192.168.77.1:8000/big && echo tv-big-sha=$(sha256sum </tmp/big | cut -d" " -f1)
ip link set $mq up
ip addr add 192.168.79.2/24 dev $mq
sha=
for cpu in 0 1; do # one download from each vCPU: the guest sends on the queue of its CPU
	taskset -c $cpu wget -q -O /tmp/mq$cpu http://192.168.79.1:8000/small && sha="$sha$(sha256sum </tmp/mq$cpu | cut -c1-16)"
	rm -f /tmp/mq$cpu
done
echo tv-mq-sha=$sha
echo tv-mq-tx=$(cat /sys/class/net/$mq/queues/tx-0/tx_bytes 2>/dev/null),$(cat /sys/class/net/$mq/queues/tx-1/tx_bytes 2>/dev/null)
echo tv-ready
i=0
until wget -q -O /tmp/done http://10.0.2.2:8000/done 2>/dev/null || [ $i -ge 120 ]; do sleep 1; i=$((i + 1)); done
dmesg | grep -E "BUG:|WARNING:|virtio_net.*(error|fail)" | grep -v "xstate.c:606" | sed "s/^/tv-bad: /"
true'
# too long for the kernel command line: baked into the initramfs as its test script
mkdir -p "$TOP/$O/nested"
printf '%s\n' "$guest" >"$TOP/$O/nested/net-guest.sh"
l2_initramfs --modules "virtio_pci virtio_net" --init "$TOP/$O/nested/net-guest.sh" ||
	{ notok "net" "tools/mkinitramfs failed"; exit 0; }

# The host's side, once the guest is ready: fetch through the port forward and over the tap.
con=$L2_LOGS/net.console
rm -f "$con"
(
	for ((i = 0; i < secs; i++)); do
		grep -q ' tv-ready' "$con" 2>/dev/null && break
		sleep 1
	done
	ip netns exec "$ns" curl -s -m 120 -o "$d/fwd" "http://127.0.0.1:$fwd/big"
	ip netns exec "$ns" curl -s -m 120 -o "$d/tap" "http://192.168.77.2/big"
	: >"$d/www/done"
) &
helper=$!
l2_run net "$secs" ip netns exec "$ns" "$TV" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
	--memory 512M --cpus 2 --console stdio --stats --name nettest \
	--net "user,hostfwd=tcp::$fwd-:80" --net "tap=tvtap0,mac=$tapmac" \
	--net "tap=tvtapmq,mac=$mqmac,queues=2" \
	--cmdline "console=ttyS0 panic=-1 quiet"
wait "$helper" 2>/dev/null
helper=

kv() { cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' | sed -n "s/^$1=//p" | head -n1; }
bit() { [ "${1:$2:1}" = 1 ]; } # bit STRING N: the guest's features string is bit 0 first

if [ -z "$L2_INIT" ]; then
	notok "net: guest reaches init" "exit $L2_RC; $(tail -n 3 "$L2_CONSOLE" | cut -d' ' -f2- | tr '\n' ' ')"
	exit 0
fi
[ "$(kv tv-nics)" = 3 ] && ok "net: the guest sees three virtio-net NICs" ||
	notok "net: the guest sees three virtio-net NICs" "$(kv tv-nics)"
um=$(kv tv-user-mac)
[[ "$um" =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]] && ok "net: derived MAC $um is locally administered and unicast" ||
	notok "net: derived MAC is locally administered and unicast" "${um:-none}"
[ "$(kv tv-carrier)" = 11 ] && ok "net: both links up (status LINK_UP in the config space)" ||
	notok "net: both links up" "carrier $(kv tv-carrier)"
l2_seen "^tv-lease=10\.0\.2\.15,10\.0\.2\.2,10\.0\.2\.3" && ok "net user: DHCP lease 10.0.2.15, router 10.0.2.2, DNS 10.0.2.3" ||
	notok "net user: DHCP lease" "$(kv tv-lease)"
[ "$(kv tv-small-sha)" = "$small_sha" ] && ok "net user: 4 MiB fetched from the host's loopback through 10.0.2.2, sha256 matches" ||
	notok "net user: fetch through the gateway" "sha $(kv tv-small-sha), want $small_sha"
gsha=$(kv tv-gbig-sha)
[ -n "$gsha" ] && [ "$(sha256sum <"$d/fwd" 2>/dev/null | cut -d' ' -f1)" = "$gsha" ] &&
	ok "net user: hostfwd tcp::$fwd-:80 reaches the guest's httpd (16 MiB, sha256 matches)" ||
	notok "net user: hostfwd reaches the guest" "$(stat -c %s "$d/fwd" 2>/dev/null || echo no) bytes"
uf=$(kv tv-user-features) tf=$(kv tv-tap-features)
bit "$uf" 15 && bit "$uf" 5 && ! bit "$uf" 0 && ok "net user: MAC and mergeable buffers negotiated, no checksum offload" ||
	notok "net user: features" "$uf"
bit "$tf" 0 && bit "$tf" 1 && bit "$tf" 7 && bit "$tf" 11 && bit "$tf" 15 && bit "$tf" 17 && bit "$tf" 29 &&
	ok "net tap: CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4, MRG_RXBUF, CTRL_VQ, EVENT_IDX negotiated" ||
	notok "net tap: offload features negotiated" "$tf"
[ "$(kv tv-big-sha)" = "$big_sha" ] && ok "net tap: host -> guest 16 MiB over TCP, sha256 matches" ||
	notok "net tap: host -> guest over TCP" "sha $(kv tv-big-sha)"
[ -n "$gsha" ] && [ "$(sha256sum <"$d/tap" 2>/dev/null | cut -d' ' -f1)" = "$gsha" ] &&
	ok "net tap: guest -> host 16 MiB over TCP, sha256 matches" ||
	notok "net tap: guest -> host over TCP" "$(stat -c %s "$d/tap" 2>/dev/null || echo no) bytes"
[ "$(kv tv-mq-queues)" = 2 ] && [ "$(kv tv-mq-sha)" = "${small_sha:0:16}${small_sha:0:16}" ] &&
	ok "net tap queues=2: two queue pairs in use, a download from each vCPU intact" ||
	notok "net tap queues=2: two queue pairs, downloads intact" "queues $(kv tv-mq-queues), sha $(kv tv-mq-sha), tx bytes $(kv tv-mq-tx)"
# the monitor's --stats line for the tap NIC: segmented frames both ways (offloads in use)
st=$(cut -d' ' -f2- "$L2_CONSOLE" | tr -d '\r' | grep -m1 '^thinvisor: virtio-net1: ')
rxg=$(sed -n 's/.*rx [0-9]* frames (\([0-9]*\) segmented.*/\1/p' <<<"$st")
txg=$(sed -n 's/.*tx [0-9]* frames (\([0-9]*\) segmented.*/\1/p' <<<"$st")
[ "${rxg:-0}" -gt 0 ] && [ "${txg:-0}" -gt 0 ] && ok "net tap: TSO frames both ways ($txg from the guest, $rxg to it)" ||
	notok "net tap: TSO frames both ways" "${st:-no stats line}"
l2_seen '^tv-bad: ' && notok "net: no kernel BUGs or WARNINGs" "$(grep -m2 'tv-bad: ' "$L2_CONSOLE" | cut -d' ' -f3- | tr '\n' '|')" ||
	ok "net: no kernel BUGs or WARNINGs"
[ "$L2_RC" = 0 ] && l2_seen '^thinvisor-guest: tvtest exit 0$' && ok "net: poweroff exits 0" ||
	notok "net: poweroff exits 0" "exit $L2_RC"
l2_record "thinvisor net" "boot_to_init=${L2_INIT:-none}" "total=$L2_TOTAL" "rc=$L2_RC"
