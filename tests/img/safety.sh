# tests/img/safety.sh: issue 9's checks (sourced by tests/img/run, in its temporary directory):
# guest data never becomes the footer or steers the probe, unsupported formats are refused,
# Microsoft's padding is not a leak, convert never eats its source, short writes fail, a huge
# BAT claim is refused, block devices have their size.
E="thinvisor: error:"
MiB=1048576

# winvhd FILE LAYOUT BLOCKS...: a 64 MiB dynamic VHD laid out by hand the way its writers do:
# LAYOUT win = Hyper-V/Windows (block data 4 KiB-aligned, the footer where the next block's
# bitmap would go, so padding before it), vpc = Virtual PC (blocks packed after the BAT, 512
# zero bytes before the footer). Block i holds bytes (i+1) & 0xff; REF.raw gets the same.
winvhd() {
	python3 - "$@" <<'PY'
import sys, struct, uuid
path, layout, blocks = sys.argv[1], sys.argv[2], [int(b) for b in sys.argv[3:]]
size, bs = 64 << 20, 2 << 20
n = size // bs
def csum(b): return (~sum(b)) & 0xffffffff
def footer():
    c, h, s = 1024, 16, 8  # 64 MiB = 131072 sectors = 1024*16*8
    f = bytearray(512)
    f[0:8] = b"conectix"; f[8:12] = (2).to_bytes(4, "big"); f[12:16] = (0x10000).to_bytes(4, "big")
    f[16:24] = (512).to_bytes(8, "big"); f[28:32] = b"win " if layout == "win" else b"vpc "
    f[32:36] = (0x60001 if layout == "win" else 0x50003).to_bytes(4, "big"); f[36:40] = b"Wi2k"
    f[40:48] = size.to_bytes(8, "big"); f[48:56] = size.to_bytes(8, "big")
    f[56:58] = c.to_bytes(2, "big"); f[58] = h; f[59] = s; f[60:64] = (3).to_bytes(4, "big")
    f[68:84] = uuid.UUID("6c0d9a2e-1f3b-4c5d-8e9f-a0b1c2d3e4f5").bytes
    f[64:68] = csum(f).to_bytes(4, "big")
    return bytes(f)
hdr = bytearray(1024)
hdr[0:8] = b"cxsparse"; hdr[8:16] = b"\xff" * 8; hdr[16:24] = (1536).to_bytes(8, "big")
hdr[24:28] = (0x10000).to_bytes(4, "big"); hdr[28:32] = n.to_bytes(4, "big"); hdr[32:36] = bs.to_bytes(4, "big")
hdr[36:40] = csum(hdr).to_bytes(4, "big")
bat = [0xffffffff] * n
pos = 1536 + 512  # BAT of 32 entries, padded to a sector
data = {}
for b in blocks:
    if layout == "win":
        d = (pos + 512 + 4095) // 4096 * 4096
        pos = d - 512
    bat[b] = pos // 512
    data[pos] = b"\xff" * 512 + bytes([(b + 1) & 0xff]) * bs
    pos += 512 + bs
foot = (pos + 512 + 4095) // 4096 * 4096 - 512 if layout == "win" else pos + 512
out = bytearray(foot + 512)
out[0:512] = footer(); out[512:1536] = hdr
out[1536:1536 + 4 * n] = b"".join(struct.pack(">I", e) for e in bat)
for p, d in data.items(): out[p:p + len(d)] = d
out[foot:foot + 512] = footer()
open(path, "wb").write(out)
ref = bytearray(size)
for b in blocks: ref[b * bs:(b + 1) * bs] = bytes([(b + 1) & 0xff]) * bs
open(path + ".ref", "wb").write(ref)
PY
}

# data_aligned FILE [OLD]: every allocated block's data (after its bitmap) is 4 KiB-aligned;
# with OLD, only the blocks allocated since OLD (a copy of FILE), of which there must be some.
data_aligned() {
	python3 - "$@" <<'PY'
import sys
def bat(path):
    b = open(path, "rb").read()
    off = int.from_bytes(b[512 + 16:512 + 24], "big"); n = int.from_bytes(b[512 + 28:512 + 32], "big")
    return [int.from_bytes(b[off + 4 * i:off + 4 * i + 4], "big") for i in range(n)]
b = open(sys.argv[1], "rb").read()
off = int.from_bytes(b[512 + 16:512 + 24], "big"); n = int.from_bytes(b[512 + 28:512 + 32], "big")
bs = int.from_bytes(b[512 + 32:512 + 36], "big"); bm = ((bs // 512 + 7) // 8 + 511) // 512 * 512
ents = bat(sys.argv[1])
if len(sys.argv) > 2:
    old = bat(sys.argv[2])
    ents = [e for e, o in zip(ents, old) if e != o]
bad = [e for e in ents if e != 0xffffffff and (e * 512 + bm) % 4096]
sys.exit(1 if bad or all(e == 0xffffffff for e in ents) else 0)
PY
}

# --- 1. guest data never becomes the footer (a file-size limit fails the allocation) ---------
if [ $have_py = 1 ]; then
	# a sector that is a valid footer of a 4 KiB fixed disk: what a hostile guest writes
	python3 - <<'PY'
f = bytearray(512)
f[0:8] = b"conectix"; f[8:12] = (2).to_bytes(4, "big"); f[12:16] = (0x10000).to_bytes(4, "big")
f[16:24] = b"\xff" * 8; f[28:32] = b"win "; f[40:48] = (4096).to_bytes(8, "big")
f[48:56] = (4096).to_bytes(8, "big"); f[56:58] = (1).to_bytes(2, "big"); f[58] = 1; f[59] = 8
f[60:64] = (2).to_bytes(4, "big")
f[64:68] = ((~sum(f)) & 0xffffffff).to_bytes(4, "big")
open("evil.sec", "wb").write(f)
PY
	rm -f ev.vhd
	"$TV" img create -f vhd ev.vhd 64M >/dev/null
	fs=$(stat -c %s ev.vhd)
	data=$(((fs + 4095) / 4096 * 4096)) # the new block's data: after the old footer, aligned
	for lim in $((fs / 1024 + 1)) $((data / 1024)) $(((data + 2 * MiB) / 1024)); do
		cp ev.vhd ev-$lim.vhd
		# the crafted sector is the block's last: before the fix it was the file's last
		(ulimit -f $lim; "$TV" img write ev-$lim.vhd $((2 * MiB - 512)) evil.sec) 2>err.out
		st=$?
		[ $st = 1 ] && grep -qx "$E img write: ev-$lim.vhd: File too large" err.out &&
			ok "ulimit -f $lim KiB: the allocation fails with EFBIG" ||
			notok "ulimit -f $lim KiB: allocation under a file-size limit" "exit $st: $(cat err.out)"
		info=$("$TV" img info ev-$lim.vhd 2>&1)
		grep -q '^subformat: dynamic$' <<<"$info" && grep -q '^virtual size: 64 MiB' <<<"$info" &&
			! grep -q warning <<<"$info" && ok "ulimit -f $lim KiB: still a 64 MiB dynamic disk (the guest's footer is not the file's)" ||
			notok "ulimit -f $lim KiB: image type" "$(tr '\n' ' ' <<<"$info")"
		check "ulimit -f $lim KiB: check is clean, nothing to repair" "$TV" img check ev-$lim.vhd
		[ $have_qemu = 1 ] && check "ulimit -f $lim KiB: qemu-img reads it as before the write" \
			qemu-img compare -f vpc -F vpc ev.vhd ev-$lim.vhd
	done
fi

# --- 2. probing cannot be steered by guest data ---------------------------------------------
"$TV" img create -f vhd -o subformat=fixed pa.vhd 4M >/dev/null
"$TV" img create -f vhd -b pa.vhd ch.vhd >/dev/null
head -c 1536 ch.vhd >vhdhead.bin # footer copy + dynamic header naming pa.vhd as parent
tail -c 512 pa.vhd >vhdfoot.bin
"$TV" img create r.raw 16M >/dev/null
sum0=$(sha256sum <r.raw)
expect_only_error "probed raw: a guest write of VHD structures to sector 0 is refused" 1 \
	"$E img write: r.raw: write at offset 0 refused: the disk's format was probed as raw, and this data would make it open as vhd next time (give format=raw to allow it)" \
	"$TV" img write r.raw 0 vhdhead.bin
expect_only_error "probed raw: a guest write of a VHD footer to the last sector is refused" 1 \
	"$E img write: r.raw: write at offset 16776704 refused: the disk's format was probed as raw, and this data would make it open as vhd next time (give format=raw to allow it)" \
	"$TV" img write r.raw $((16 * MiB - 512)) vhdfoot.bin
[ "$(sha256sum <r.raw)" = "$sum0" ] && ok "probed raw: refused writes left the file unchanged" ||
	notok "probed raw: refused writes changed the file"
check "probed raw: other writes go through" "$TV" img write r.raw 4096 vhdfoot.bin
check "format=raw given: the same write is allowed" "$TV" img write -f raw r.raw 0 vhdhead.bin
expect_only_error "raw disk holding a VHD header: never opened as that VHD (no parent followed)" 1 \
	"$E img info: r.raw: a dynamic VHD without a valid footer at the end of the file (its header is intact): \`thinvisor img check --repair\` may help" \
	"$TV" img info r.raw
check "format=raw given: still reads as raw" bash -c "\"$TV\" img info -f raw r.raw | grep -qx 'file format: raw'"

# --- 3. formats thinvisor does not read are refused, one line each ---------------------------
if [ $have_qemu = 1 ]; then
	CONV="convert it with qemu-img convert -O raw"
	for spec in "qcow2:qcow2 is not supported: $CONV" "vmdk:VMDK is not supported: $CONV" \
		"vdi:VDI is not supported: $CONV"; do
		fmt=${spec%%:*} why=${spec#*:}
		qemu-img create -q -f "$fmt" "x.$fmt" 16M
		expect_only_error "$fmt made by qemu-img: info refuses it" 1 "$E img info: x.$fmt: $why" "$TV" img info "x.$fmt"
		expect_only_error "$fmt made by qemu-img: check refuses it" 1 "$E img check: x.$fmt: $why" "$TV" img check "x.$fmt"
		expect_only_error "$fmt made by qemu-img: never written as raw" 1 "$E img write: x.$fmt: $why" "$TV" img write "x.$fmt" 0 vhdfoot.bin
	done
	qemu-img create -q -f vhdx x.vhdx 16M
	cp x.vhdx x.avhdx
	for f in x.vhdx x.avhdx; do
		check "$f made by qemu-img probes as VHDX (issue 13 replaced the refusal)" \
			bash -c "\"$TV\" img info $f | grep -qx 'file format: vhdx'"
	done
fi
"$TV" img create -f vhd bf.vhd 8M >/dev/null
truncate -s -512 bf.vhd                                           # no end footer
dd if=/dev/zero of=bf.vhd bs=512 count=1 conv=notrunc status=none # nor its copy
expect_only_error "both footers damaged: refused, naming the intact header and --repair" 1 \
	"$E img info: bf.vhd: a dynamic VHD without a valid footer at the end of the file (its header is intact): \`thinvisor img check --repair\` may help" \
	"$TV" img info bf.vhd

# --- 4. Microsoft's padding is not a leak; allocations keep 4 KiB alignment ------------------
if [ $have_py = 1 ]; then
	for layout in win vpc; do
		f=$layout.vhd
		winvhd $f $layout 0 5 31
		name="$layout layout"
		out=$("$TV" img check $f 2>&1)
		[ $? = 0 ] && [ "$out" = "No errors were found on the image." ] && ok "$name: check is silent" ||
			notok "$name: check" "$(tr '\n' ' ' <<<"$out")"
		sum=$(sha256sum <$f)
		"$TV" img check --repair $f >/dev/null 2>&1
		[ "$(sha256sum <$f)" = "$sum" ] && ok "$name: check --repair leaves the file byte for byte" ||
			notok "$name: check --repair modified a consistent image"
		check "$name: thinvisor reads it" "$TV" img compare $f $f.ref
		cp $f $f.old
		random_writes $f $f.ref 8 4096 || notok "$name: writes"
		check "$name: thinvisor's new blocks have 4 KiB-aligned data" data_aligned $f $f.old
		check "$name: check clean after thinvisor wrote" "$TV" img check $f
		check "$name: thinvisor reads what it wrote" "$TV" img compare $f $f.ref
		[ $have_qemu = 1 ] && check "$name: qemu-img reads the same after" qemu-img compare -f vpc -F raw $f $f.ref
		[ $have_vhdi = 1 ] && check "$name: vhdiinfo after" vhdi_clean $f
		[ $have_mount = 1 ] && check "$name: vhdimount reads the same after" vhdi_reads $f $f.ref
	done
	winvhd empty.vhd win # no block: padding after the BAT
	out=$("$TV" img check empty.vhd 2>&1)
	[ $? = 0 ] && [ "$out" = "No errors were found on the image." ] && ok "win layout, empty disk: check is silent" ||
		notok "win layout, empty disk: check" "$(tr '\n' ' ' <<<"$out")"
	sum=$(sha256sum <empty.vhd)
	"$TV" img check --repair empty.vhd >/dev/null 2>&1
	[ "$(sha256sum <empty.vhd)" = "$sum" ] && ok "win layout, empty disk: --repair leaves it byte for byte" ||
		notok "win layout, empty disk: --repair modified it"
	[ $have_vhdi = 1 ] && check "win layout, empty disk: vhdiinfo (the hand-made layout is valid)" vhdi_clean empty.vhd
	rm -f al.vhd
	"$TV" img create -f vhd al.vhd 64M >/dev/null
	truncate -s 64M al.ref
	random_writes al.vhd al.ref 6
	check "new thinvisor image: block data 4 KiB-aligned" data_aligned al.vhd
fi

# --- 5. convert never destroys its source ----------------------------------------------------
head -c 1M /dev/urandom >src.raw
sum=$(sha256sum <src.raw)
expect_only_error "convert SRC SRC: refused" 1 "$E img convert: src.raw: the destination is the source itself" \
	"$TV" img convert -O raw src.raw src.raw
ln -f src.raw hard.raw
expect_only_error "convert SRC to a hard link of SRC (same inode): refused" 1 \
	"$E img convert: hard.raw: the destination is the source itself" "$TV" img convert --overwrite -O raw src.raw hard.raw
[ "$(sha256sum <src.raw)" = "$sum" ] && ok "convert: the source is unchanged" || notok "convert: the source was modified"
expect_only_error "convert into the source's parent: refused" 1 "$E img convert: pa.vhd: the destination is in the source's backing chain" \
	"$TV" img convert --overwrite -O vpc ch.vhd pa.vhd
cp src.raw exists.raw
expect_only_error "convert onto an existing file: refused without --overwrite" 1 \
	"$E img convert: exists.raw: already exists; give --overwrite to replace it" "$TV" img convert -O raw ch.vhd exists.raw
check "convert --overwrite replaces it" "$TV" img convert --overwrite -O raw ch.vhd exists.raw
check "convert --overwrite: the copy is right" "$TV" img compare ch.vhd exists.raw
rm -f part.raw
(ulimit -f 256; "$TV" img convert -O vpc -o subformat=fixed src.raw part.raw) 2>/dev/null
[ $? != 0 ] && [ ! -e part.raw ] && ok "convert failing half way (ulimit -f): the partial new file is removed" ||
	notok "convert failing half way" "$(ls -l part.raw 2>&1)"
cp src.raw keep.raw
(ulimit -f 256; "$TV" img convert --overwrite -O vpc -o subformat=fixed src.raw keep.raw) 2>/dev/null
[ $? != 0 ] && [ -e keep.raw ] && ok "convert failing over a file that existed: that file is not removed" ||
	notok "convert failing over an existing file" "it was removed"

# --- 6. short writes are errors --------------------------------------------------------------
rm -f short.vhd
(ulimit -f 4; "$TV" img create -f vhd short.vhd 8G >create.out) 2>err.out
st=$?
[ $st = 1 ] && grep -qx "$E img create: short.vhd: writing: File too large" err.out && [ ! -e short.vhd ] &&
	! grep -q Formatting create.out && ok "create under ulimit -f 4: fails with EFBIG, no file left" ||
	notok "create under ulimit -f 4" "exit $st: $(cat err.out create.out) $(ls -l short.vhd 2>&1)"

# --- 7. a huge BAT claim is refused before memory is spent on it ------------------------------
if [ $have_py = 1 ]; then
	python3 - <<'PY'
# 0xFF000000 entries of 512-byte blocks (2040 GiB): passes the format's own limits, needs a
# 16 GiB BAT; the file is sparse.
n, bs = 0xFF000000, 512
size = n * bs
f = bytearray(512)
f[0:8] = b"conectix"; f[8:12] = (2).to_bytes(4, "big"); f[12:16] = (0x10000).to_bytes(4, "big")
f[16:24] = (512).to_bytes(8, "big"); f[28:32] = b"win "; f[40:48] = size.to_bytes(8, "big")
f[48:56] = size.to_bytes(8, "big"); f[56:58] = (65535).to_bytes(2, "big"); f[58] = 16; f[59] = 255
f[60:64] = (3).to_bytes(4, "big"); f[64:68] = ((~sum(f)) & 0xffffffff).to_bytes(4, "big")
h = bytearray(1024)
h[0:8] = b"cxsparse"; h[8:16] = b"\xff" * 8; h[16:24] = (1536).to_bytes(8, "big")
h[24:28] = (0x10000).to_bytes(4, "big"); h[28:32] = n.to_bytes(4, "big"); h[32:36] = bs.to_bytes(4, "big")
h[36:40] = ((~sum(h)) & 0xffffffff).to_bytes(4, "big")
with open("hugebat.vhd", "wb") as o:
    o.write(f); o.write(h); o.seek(1536 + 4 * n); o.write(f)
PY
	expect_only_error "a 16 GiB sparse file claiming 4278190080 BAT entries: refused (under ulimit -v 1 GiB)" 1 \
		"$E img info: hugebat.vhd: BAT of 4278190080 entries is over thinvisor's limit of 4194304 (blocks of 512 bytes are too small for this disk)" \
		bash -c "ulimit -v 1048576; exec \"$TV\" img info hugebat.vhd"
	rm -f hugebat.vhd
fi

# --- 8. block devices have their size (BLKGETSIZE64) ------------------------------------------
truncate -s 16M loop.img
if [ "$(id -u)" = 0 ] && loopdev=$(losetup -f --show loop.img 2>/dev/null); then
	info=$("$TV" img info "$loopdev" 2>&1)
	grep -qx 'virtual size: 16 MiB (16777216 bytes)' <<<"$info" && ok "block device: raw, 16 MiB (BLKGETSIZE64)" ||
		notok "block device size" "$(tr '\n' ' ' <<<"$info")"
	"$TV" img create -f vhd -o subformat=fixed lf.vhd 8M >/dev/null
	dd if=lf.vhd of="$loopdev" bs=1M conv=notrunc status=none
	dd if=lf.vhd of="$loopdev" bs=512 skip=$(($(stat -c %s lf.vhd) / 512 - 1)) seek=$((16 * MiB / 512 - 1)) conv=notrunc status=none
	info=$("$TV" img info "$loopdev" 2>&1)
	grep -q '^subformat: fixed$' <<<"$info" && grep -q '^virtual size: 8 MiB' <<<"$info" &&
		ok "block device holding a fixed VHD: its footer is found at the device's end" ||
		notok "block device holding a VHD" "$(tr '\n' ' ' <<<"$info")"
	losetup -d "$loopdev"
else
	skip_tier "img: losetup unavailable (not root or no loop devices): block device size not tested"
fi
