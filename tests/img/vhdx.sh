# tests/img/vhdx.sh: issue 13's checks (sourced by tests/img/run, in its temporary directory):
# VHDX made by qemu-img read back; thinvisor's VHDX (fixed, dynamic, 512/4096-byte sectors,
# differencing chains) checked by qemu-img and libvhdi; a pending log written by an independent
# helper replayed in memory and into the file; kills at every step of an allocation and of a
# replay; conversions; damaged files refused with one line.
E="thinvisor: error:"
MiB=1048576
MKLOG="$TOP/tests/img/vhdx_mklog.py"

same() { cmp -s "$1" "$2"; }
# to_raw IMG OUT: thinvisor's reading of IMG as a raw file.
to_raw() { rm -f "$2"; "$TV" img convert -O raw "$1" "$2" >/dev/null; }
# vhdi_same IMG REF: libvhdi's vhdimount reads IMG (top of its chain) equal to REF.
vhdi_same() { [ $have_mount = 1 ] || return 0; vhdi_reads "$1" "$2"; }

# --- 1. VHDX made by qemu-img, read back by thinvisor ----------------------------------------
# (Debian's qemu-img 7.2 cannot make or open 4096-byte-sector VHDX: those are checked against
# libvhdi below.)
if [ $have_qemu = 1 ]; then
	for sf in fixed dynamic; do
		for bs in 1M 8M 32M; do
			f=qx-$sf-$bs.vhdx
			qemu-img create -q -f vhdx -o subformat=$sf,block_size=$bs "$f" 70M
			qemu-io -f vhdx -c "write -P 0x5a 0 300k" -c "write -P 0xc3 33M 4k" \
				-c "write -P 0x11 $((70 * 1024 - 64))k 64k" "$f" >/dev/null
			qemu-img convert -f vhdx -O raw "$f" qref.raw
			to_raw "$f" our.raw
			same our.raw qref.raw && ok "qemu-img $sf vhdx ($bs blocks): read back byte-identical" ||
				notok "qemu-img $sf vhdx ($bs blocks): read back differs"
		done
	done
fi

# --- 2. thinvisor's VHDX after random writes: qemu-img check/compare, libvhdi ----------------
for sf in dynamic fixed; do
	for ls in 512 4096; do
		f=t-$sf-$ls.vhdx
		opts=subformat=$sf,logical_sector_size=$ls
		[ $sf = dynamic ] && [ $ls = 4096 ] && opts=$opts,block_size=1M
		"$TV" img create -f vhdx -o $opts "$f" 90M >/dev/null
		rm -f ref.raw; truncate -s 90M ref.raw
		if random_writes "$f" ref.raw 12 4096; then ok "$f: 12 random writes"; else notok "$f: writes"; fi
		to_raw "$f" our.raw
		same our.raw ref.raw && ok "$f reads back what was written" || notok "$f: content differs"
		check "$f: img check clean" "$TV" img check "$f"
		if [ $have_qemu = 1 ] && [ $ls = 512 ]; then
			check "$f: qemu-img check -f vhdx clean" qemu-img check -q -f vhdx "$f"
			check "$f: qemu-img compare equal to the reference" qemu-img compare -q -f vhdx -F raw "$f" ref.raw
		fi
		if [ $have_mount = 1 ]; then
			vhdi_same "$f" ref.raw && ok "$f: libvhdi reads the same" || notok "$f: libvhdi differs"
		fi
	done
done
check "defaults are Hyper-V's: dynamic, 32 MiB blocks, 512-byte sectors" bash -c \
	"\"$TV\" img create -f vhdx d.vhdx 1G >/dev/null && \"$TV\" img info d.vhdx | tr '\n' '|' | grep -q 'subformat: dynamic|.*block size: 33554432|.*logical sector size: 512|'"

# --- 3. differencing chains: 3 deep, written at every level, moved, committed, replaced ------
mkdir -p ch && cd ch || exit 0
"$TV" img create -f vhdx -o block_size=1M base.vhdx 48M >/dev/null
rm -f r0.raw; truncate -s 48M r0.raw
random_writes base.vhdx r0.raw 6 512
prev=base.vhdx
for lvl in 1 2 3; do
	"$TV" img create -f vhdx -b $prev c$lvl.avhdx >/dev/null || notok "create c$lvl.avhdx"
	cp r$((lvl - 1)).raw r$lvl.raw
	random_writes c$lvl.avhdx r$lvl.raw 6 512 || notok "writes into c$lvl.avhdx"
	prev=c$lvl.avhdx
done
for lvl in 1 2 3; do
	to_raw c$lvl.avhdx our.raw
	same our.raw r$lvl.raw && ok "chain level $lvl reads its parents and its own writes" ||
		notok "chain level $lvl differs"
done
check "3-deep chain: img check clean" "$TV" img check c3.avhdx
check "info --json: format, subformat, sectors, creator, log, parent chain" python3 -c "
import json, subprocess
j = json.loads(subprocess.check_output(['$TV', 'img', 'info', '--json', 'c3.avhdx']))
assert (j['format'], j['subformat'], j['logical-sector-size'], j['block-size']) == ('vhdx', 'differencing', 512, 2097152), j
assert j['creator'] == 'thinvisor' and j['log'] == 'clean' and j['parent'] == 'c2.avhdx'
assert [p['filename'] for p in j['parent-chain']] == ['c2.avhdx', 'c1.avhdx', 'base.vhdx'], j['parent-chain']
assert j['parent-chain'][0]['data-write-guid'] in j['parent-linkage']
assert j['parent-chain'][2]['subformat'] == 'dynamic' and 'parent' not in j['parent-chain'][2]
"
check "3-deep chain: info shows every parent" bash -c "[ \$(\"$TV\" img info c3.avhdx | grep -c '^parent: ') = 3 ]"
vhdi_same c3.avhdx r3.raw && ok "3-deep chain: libvhdi reads the same" || notok "3-deep chain: libvhdi differs"
cd .. && mv ch moved && cd moved || exit 0
to_raw c3.avhdx our.raw
same our.raw r3.raw && ok "chain moved to another directory: still reads the same (relative locator)" ||
	notok "moved chain differs"
check "commit c3 into c2" "$TV" img commit c3.avhdx
to_raw c2.avhdx our.raw
same our.raw r3.raw && ok "after commit, c2 holds what c3 showed" || notok "commit: c2 differs from c3's reference"
# c3's parent c2 changed (its DataWriteGuid): the linkage no longer matches.
err=$("$TV" img info c3.avhdx 2>&1 >/dev/null)
case $err in
"$E img info: c3.avhdx: cannot open parent: relative_path c2.avhdx (its DataWriteGuid "*" does not match parent_linkage {"*"}); absolute_win32_path "*"/ch/c2.avhdx (No such file or directory)")
	ok "a parent written since (DataWriteGuid changed) is refused, each path tried named" ;;
*) notok "changed parent" "$err" ;;
esac
"$TV" img create -f vhdx -o block_size=1M other.vhdx 48M >/dev/null
mv c1.avhdx c1.sav && cp other.vhdx c1.avhdx
err=$("$TV" img info c2.avhdx 2>&1 >/dev/null)
case $err in
"$E img info: c2.avhdx: cannot open parent: relative_path c1.avhdx (its DataWriteGuid "*" does not match parent_linkage {"*"}); absolute_win32_path "*"/ch/c1.avhdx (No such file or directory)")
	ok "a parent replaced by another disk of the same name is refused (DataWriteGuid mismatch)" ;;
*) notok "replaced parent" "$err" ;;
esac
rm c1.avhdx
expect_only_error "a missing parent: every path tried, and why" 1 \
	"$E img info: c2.avhdx: cannot open parent: relative_path c1.avhdx (No such file or directory); absolute_win32_path $T/ch/c1.avhdx (No such file or directory)" \
	"$TV" img info c2.avhdx
mv c1.sav c1.avhdx
"$TV" img create -f vhdx -b base.vhdx loop.avhdx >/dev/null && mv loop.avhdx base.vhdx
err=$("$TV" img info base.vhdx 2>&1 >/dev/null)
case $err in "$E img info: base.vhdx: cannot open parent: relative_path base.vhdx (the differencing chain loops back to it); absolute_win32_path "*"/moved/base.vhdx (the differencing chain loops back to it)")
	ok "a chain that loops back is refused" ;; *) notok "loop" "$err" ;; esac
cd .. || exit 0

# --- 4. a pending log (written by vhdx_mklog.py): replayed in memory, then into the file ------
if [ $have_py = 1 ]; then
	"$TV" img create -f vhdx -o block_size=1M lg.vhdx 16M >/dev/null
	rm -f lg.raw; truncate -s 16M lg.raw
	rwrite lg.vhdx lg.raw $((5 * MiB)) $((64 * 1024))
	python3 "$MKLOG" lg.vhdx 9 $((5 * MiB + 16384))
	printf '\176%.0s' $(seq 4096) | dd of=lg.raw bs=4096 seek=$((9 * 256)) conv=notrunc status=none
	dd if=/dev/zero of=lg.raw bs=4096 seek=$((5 * 256 + 4)) count=2 conv=notrunc status=none
	cp lg.vhdx lg-copy.vhdx
	sum0=$(sha256sum <lg.vhdx)
	check "pending log: info says it needs replay" bash -c "\"$TV\" img info lg.vhdx | grep -qx 'log: needs replay (1 entries)'"
	to_raw lg.vhdx our.raw
	same our.raw lg.raw && ok "pending log replayed in memory on a read-only open: data right" ||
		notok "read-only replay: data wrong"
	[ "$(sha256sum <lg.vhdx)" = "$sum0" ] && ok "read-only open left the file untouched" ||
		notok "read-only open changed the file"
	expect_only_error "check reports the pending log" 2 \
		"$E img check: lg.vhdx: the log holds 1 entries not yet replayed (any read-write open, or --repair, replays them)" \
		"$TV" img check lg.vhdx
	check "check --repair replays the log into the file" bash -c "\"$TV\" img check --repair lg.vhdx | grep -q 'Repaired: replayed 1 log entries'"
	check "after the replay: log clean" bash -c "\"$TV\" img info lg.vhdx | grep -qx 'log: clean'"
	to_raw lg.vhdx our.raw
	same our.raw lg.raw && ok "replayed into the file: data right" || notok "read-write replay: data wrong"
	[ $have_qemu = 1 ] && check "after the replay: qemu-img check clean" qemu-img check -q -f vhdx lg.vhdx
	# a kill at every step of the replay: the log stays until the headers say it is done
	n=1
	while :; do
		cp lg-copy.vhdx lk.vhdx
		THINVISOR_TEST_CRASH_AT=$n "$TV" img check --repair lk.vhdx >/dev/null 2>&1
		st=$?
		to_raw lk.vhdx our.raw
		if ! same our.raw lg.raw; then notok "replay killed after step $n: data wrong"; break; fi
		[ $st = 99 ] || break
		n=$((n + 1))
	done
	[ $st != 99 ] && ok "replay killed after each of its $((n - 1)) steps: the data always reads right"
	check "...and a final --repair leaves a clean image" bash -c "\"$TV\" img check --repair lk.vhdx >/dev/null; \"$TV\" img check lk.vhdx"
	"$TV" img create -f vhdx -o block_size=1M lie.vhdx 16M >/dev/null
	head -c 4096 /dev/urandom >c4k
	"$TV" img write lie.vhdx $((5 * MiB)) c4k >/dev/null
	python3 "$MKLOG" lie.vhdx 9 $((5 * MiB)) lie
	expect_only_error "a log that claims a larger file than there is: refused" 1 \
		"$E img info: lie.vhdx: the log says the file had at least $(( $(stat -c %s lie.vhdx) + 1073741824 )) bytes, it has $(stat -c %s lie.vhdx) (truncated?)" \
		"$TV" img info lie.vhdx
fi

# --- 5. a kill at every step of an allocation (dynamic, differencing) -----------------------
# per_sector OLD NEW GOT: every 4 KiB of GOT is OLD's or NEW's (an unacknowledged write may be
# torn between sectors, never inside one, and never touches anything else).
per_sector() {
	python3 - "$@" <<'PY'
import sys
o, n, g = (open(p, "rb").read() for p in sys.argv[1:4])
sys.exit(0 if len(o) == len(g) and all(g[i:i + 4096] in (o[i:i + 4096], n[i:i + 4096])
                                       for i in range(0, len(g), 4096)) else 1)
PY
}
kill_steps() { # NAME IMG: write 1 MiB + 4 KiB at 3 MiB - 4 KiB (two new blocks) with kills
	local name=$1 img=$2 n=1 st
	cp "$img" "$img.orig"
	to_raw "$img" old.raw
	cp old.raw new.raw
	dd if=blob of=new.raw bs=4096 seek=$((3 * 256 - 1)) conv=notrunc status=none
	while :; do
		cp "$img.orig" "$img"
		THINVISOR_TEST_CRASH_AT=$n "$TV" img write "$img" $((3 * MiB - 4096)) blob >/dev/null 2>&1
		st=$?
		"$TV" img check "$img" >/dev/null
		case $? in 0 | 3) ;; *) notok "$name: check after a kill at step $n"; return ;; esac
		[ $have_qemu = 1 ] && [ "${img##*.}" = vhdx ] &&
			{ qemu-img check -q -f vhdx "$img" || { notok "$name: qemu-img check after a kill at step $n"; return; }; }
		to_raw "$img" got.raw
		per_sector old.raw new.raw got.raw || { notok "$name: a kill at step $n left data that is neither before nor after"; return; }
		[ $st = 99 ] || break
		n=$((n + 1))
	done
	same got.raw new.raw || { notok "$name: the completed write is missing"; return; }
	ok "$name: killed after each of $((n - 1)) steps, the image checks consistent and every sector reads old or new"
}
head -c $((MiB + 4096)) /dev/urandom >blob
"$TV" img create -f vhdx -o block_size=1M kd.vhdx 16M >/dev/null
kill_steps "dynamic allocation" kd.vhdx
"$TV" img create -f vhdx -o block_size=1M kb.vhdx 16M >/dev/null
"$TV" img write kb.vhdx 0 blob >/dev/null
"$TV" img create -f vhdx -b kb.vhdx kc.avhdx >/dev/null
head -c $((MiB + 4096)) /dev/urandom >blob
kill_steps "differencing allocation" kc.avhdx
check "check --repair cuts space a killed allocation leaked" bash -c \
	"cp kd.vhdx.orig kl.vhdx; THINVISOR_TEST_CRASH_AT=4 \"$TV\" img write kl.vhdx 0 blob; \"$TV\" img check kl.vhdx; [ \$? = 3 ] && \"$TV\" img check --repair kl.vhdx >/dev/null && \"$TV\" img check kl.vhdx >/dev/null"

# --- 6. conversions raw <-> VHD <-> VHDX round-trip byte-identical --------------------------
rm -f cv.raw; truncate -s 40M cv.raw
head -c $((3 * MiB)) /dev/urandom | dd of=cv.raw bs=1M seek=7 conv=notrunc status=none
head -c 4096 /dev/urandom | dd of=cv.raw bs=4096 seek=$((40 * 256 - 1)) conv=notrunc status=none
rm -f cv*.vhd cv*.vhdx cv-*.raw
"$TV" img convert -O vhdx cv.raw cv1.vhdx >/dev/null && "$TV" img convert -O vhd -o force_size=on cv1.vhdx cv2.vhd >/dev/null &&
	"$TV" img convert -O vhdx -o subformat=fixed cv2.vhd cv3.vhdx >/dev/null && "$TV" img convert -O raw cv3.vhdx cv-back.raw >/dev/null
same cv-back.raw cv.raw && ok "raw -> vhdx -> vhd -> fixed vhdx -> raw: byte-identical" || notok "conversion round trip differs"
"$TV" img convert -O vhdx -o logical_sector_size=4096,block_size=1M cv2.vhd cv4.vhdx >/dev/null &&
	"$TV" img convert -O raw cv4.vhdx cv-back4.raw >/dev/null
same cv-back4.raw cv.raw && ok "vhd -> vhdx (4096-byte sectors) -> raw: byte-identical" || notok "4k conversion differs"
check "compare: a vhdx and the vhd it came from are identical" "$TV" img compare cv1.vhdx cv2.vhd
[ $have_qemu = 1 ] && check "qemu-img compare: our converted vhdx equals the raw source" qemu-img compare -q -f vhdx -F raw cv1.vhdx cv.raw

# --- 7. damaged files: one line each, the other copy used where there is one ----------------
"$TV" img create -f vhdx -o block_size=1M bad.vhdx 16M >/dev/null
cp bad.vhdx h1.vhdx
printf 'XXXX' | dd of=h1.vhdx bs=1 seek=$((64 * 1024 + 200)) conv=notrunc status=none
check "header 1 damaged: the image still opens (header 2)" "$TV" img info h1.vhdx
expect_only_error "header 1 damaged: check says so" 2 \
	"$E img check: h1.vhdx: header 1 is damaged; header 2 is used" "$TV" img check h1.vhdx
check "header 1 damaged: --repair rewrites it, then check is clean" bash -c "\"$TV\" img check --repair h1.vhdx >/dev/null && \"$TV\" img check h1.vhdx"
printf 'XXXX' | dd of=h1.vhdx bs=1 seek=$((64 * 1024 + 200)) conv=notrunc status=none
printf 'XXXX' | dd of=h1.vhdx bs=1 seek=$((128 * 1024 + 200)) conv=notrunc status=none
err=$("$TV" img info h1.vhdx 2>&1 >/dev/null)
case $err in "$E img info: h1.vhdx: both VHDX headers are damaged (header 1: header checksum 0x"*"; header 2: header checksum 0x"*")")
	ok "both headers damaged: refused in one line" ;; *) notok "both headers damaged" "$err" ;; esac
cp bad.vhdx rt.vhdx
printf 'XXXX' | dd of=rt.vhdx bs=1 seek=$((192 * 1024 + 300)) conv=notrunc status=none
check "region table 1 damaged: opens from the copy" "$TV" img info rt.vhdx
check "region table 1 damaged: --repair rewrites it" bash -c "\"$TV\" img check --repair rt.vhdx >/dev/null; \"$TV\" img check rt.vhdx"
cp bad.vhdx tr.vhdx && truncate -s $((2 * MiB)) tr.vhdx
expect_only_error "truncated file refused" 1 \
	"$E img info: tr.vhdx: truncated: 2097152 bytes is too small for a VHDX" "$TV" img info tr.vhdx
cp bad.vhdx ba.vhdx
printf '\006\000\000\000\000\001\000\000' | dd of=ba.vhdx bs=1 seek=$((3 * MiB + 8)) conv=notrunc status=none
expect_only_error "a BAT entry pointing outside the file is refused" 1 \
	"$E img info: ba.vhdx: BAT entry 1: block at 1099511627776 lies outside the file (4194304 bytes)" "$TV" img info ba.vhdx
printf '\006\000\040\000\000\000\000\000' | dd of=ba.vhdx bs=1 seek=$((3 * MiB + 8)) conv=notrunc status=none
expect_only_error "a BAT entry pointing into the metadata is refused" 1 \
	"$E img info: ba.vhdx: BAT entry 1: block at 2097152 lies in the metadata region" "$TV" img info ba.vhdx
