# tests/img/import.sh: issue 12's `thinvisor import` checks (sourced by tests/img/run, in its
# temporary directory). The .vmc files are written here in Virtual PC's own layout: UTF-16LE
# with a byte-order mark, CRLF line ends, <preferences> version 2.0, type= on every value.
# Converted machines are read back with `run --print-config`; refusals are exact lines.

# vmc FILE MB [undo] DISK...: DISK is CH|LOC|TYPE|ABSOLUTE|RELATIVE (TYPE 1 disk, 2 CD)
vmc() {
	python3 - "$@" <<'PY'
import sys
path, mb, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
undo = bool(rest) and rest[0] == "undo"
disks = rest[1:] if undo else rest
x = ['<?xml version="1.0" encoding="UTF-16"?>',
     '<!-- Microsoft Virtual Machine Options and Settings -->',
     '<preferences>', '\t<version type="string">2.0</version>', '\t<hardware>']
if mb != "-":
    x += ['\t\t<memory>', '\t\t\t<ram_size type="integer">%s</ram_size>' % mb, '\t\t</memory>']
x += ['\t\t<pci_bus>', '\t\t\t<ethernet_adapter>', '\t\t\t\t<controller_count type="integer">1</controller_count>',
      '\t\t\t\t<ethernet_controller id="0">', '\t\t\t\t\t<virtual_network>',
      '\t\t\t\t\t\t<id type="bytes">DF36471DB98511DC81FCE3DE11264C6C</id>',
      '\t\t\t\t\t\t<name type="string">Local only</name>', '\t\t\t\t\t</virtual_network>',
      '\t\t\t\t\t<ethernet_card_address type="bytes">0003FFA51F38</ethernet_card_address>',
      '\t\t\t\t</ethernet_controller>', '\t\t\t</ethernet_adapter>', '\t\t\t<ide_adapter>']
for d in disks:
    ch, loc, typ, ab, rel = d.split("|", 4)
    x += ['\t\t\t\t<ide_controller id="%s">' % ch, '\t\t\t\t\t<location id="%s">' % loc,
          '\t\t\t\t\t\t<drive_type type="integer">%s</drive_type>' % typ, '\t\t\t\t\t\t<pathname>',
          '\t\t\t\t\t\t\t<absolute type="string">%s</absolute>' % ab,
          '\t\t\t\t\t\t\t<relative type="string">%s</relative>' % rel,
          '\t\t\t\t\t\t</pathname>', '\t\t\t\t\t</location>', '\t\t\t\t</ide_controller>']
x += ['\t\t\t</ide_adapter>', '\t\t</pci_bus>', '\t</hardware>', '\t<settings>', '\t\t<undo_drives>',
      '\t\t\t<enabled type="boolean">%s</enabled>' % ("true" if undo else "false"),
      '\t\t</undo_drives>', '\t</settings>', '</preferences>', '']
open(path, "wb").write(b"\xff\xfe" + "\r\n".join(x).encode("utf-16-le"))
PY
}
jq_get() { "$TV" run --config "$1" --print-config 2>/dev/null | jq -r "$2"; }

mkdir -p imp/vms imp/isos imp/elsewhere/VMs
"$TV" img create -f vhd imp/vms/one.vhd 32M >/dev/null && "$TV" img create -f vhd imp/vms/two.vhd 32M >/dev/null &&
	genisoimage -quiet -o imp/isos/setup.iso /etc/hostname 2>/dev/null
imp=$(cd imp && pwd)

# one disk, found by its relative path
vmc imp/vms/one.vmc 256 '0|0|1|C:\VMs\one.vhd|.\one.vhd'
check "import: one-disk machine converts" "$TV" import imp/vms/one.vmc -o imp/one.json
[ "$(jq_get imp/one.json '.payload.firmware, .memory.size, .disks[0].path, .disks[0].interface, .disks[0].index, .net[0].mac' | tr '\n' ' ')" = \
	"bios 268435456 $imp/vms/one.vhd ide 0 00:03:ff:a5:1f:38 " ] && ok "import: one-disk: BIOS, 256 MiB, the disk at IDE 0, the MAC" ||
	notok "import: one-disk: BIOS, 256 MiB, the disk at IDE 0, the MAC" "$(jq_get imp/one.json '.' | tr -d '\n ')"
err=$("$TV" import imp/vms/one.vmc -o imp/one2.json 2>&1 >/dev/null)
[ "$err" = "thinvisor import: network adapter 0: MAC 00:03:ff:a5:1f:38 was on virtual network 'Local only'; imported as user-mode networking (--net user)" ] &&
	ok "import: the virtual network is reported" || notok "import: the virtual network is reported" "$err"

# two disks and a CD, undo disks on: children made, originals untouched
vmc imp/vms/two.vmc 512 undo '0|0|1|C:\VMs\one.vhd|one.vhd' '0|1|1|C:\VMs\two.vhd|.\two.vhd' '1|0|2|D:\isos\setup.iso|..\isos\setup.iso'
sum_before=$(sha256sum imp/vms/one.vhd imp/vms/two.vhd)
out=$("$TV" import --dry-run imp/vms/two.vmc -o imp/two.json 2>/dev/null)
[ ! -e imp/two.json ] && [ ! -e imp/two-undo-0-0.vhd ] && grep -q "^# would create $imp/two-undo-0-1.vhd (differencing, parent $imp/vms/two.vhd)" <<<"$out" &&
	ok "import --dry-run: says what it would create, writes nothing" || notok "import --dry-run: says what it would create, writes nothing" "$out"
check "import: two disks + CD with undo disks" "$TV" import imp/vms/two.vmc -o imp/two.json
[ "$(jq_get imp/two.json '[.disks[] | "\(.index):\(.media):\(.path)"] | join(" ")')" = \
	"0:disk:$imp/two-undo-0-0.vhd 1:disk:$imp/two-undo-0-1.vhd 2:cdrom:$imp/isos/setup.iso" ] &&
	ok "import: undo children at IDE 0 and 1, the CD at 2" || notok "import: undo children at IDE 0 and 1, the CD at 2" "$(jq_get imp/two.json '.disks' | tr -d '\n ')"
puuid=$("$TV" img info imp/vms/two.vhd | sed -n 's/^uuid: //p')
"$TV" img info imp/two-undo-0-1.vhd | grep -q "^parent uuid: $puuid\$" && ok "import: undo disk is a child of the original" ||
	notok "import: undo disk is a child of the original" "$("$TV" img info imp/two-undo-0-1.vhd | tr '\n' '|')"
[ "$(sha256sum imp/vms/one.vhd imp/vms/two.vhd)" = "$sum_before" ] && ok "import: the originals are untouched" || notok "import: the originals are untouched"

# only the absolute path resolves, through --drive-root
vmc imp/vms/abs.vmc 128 "0|0|1|C:\\VMs\\one.vhd|.\\missing.vhd"
cp imp/vms/one.vhd imp/elsewhere/VMs/one.vhd
[ "$("$TV" import imp/vms/abs.vmc --drive-root "$imp/elsewhere" 2>/dev/null | jq -r '.disks[0].path')" = "$imp/elsewhere/VMs/one.vhd" ] &&
	ok "import: absolute path with the drive letter mapped" || notok "import: absolute path with the drive letter mapped"
# only the relative path resolves (the absolute one is another machine's)
vmc imp/vms/rel.vmc 128 '0|0|1|E:\Gone\one.vhd|one.vhd'
[ "$("$TV" import imp/vms/rel.vmc 2>/dev/null | jq -r '.disks[0].path')" = "$imp/vms/one.vhd" ] &&
	ok "import: relative-only path resolves next to the .vmc" || notok "import: relative-only path resolves next to the .vmc"

# broken files
printf '<?xml version="1.0"?><preferences/>' >imp/ascii.vmc
expect_only_error "import: not UTF-16" 1 \
	"$E imp/ascii.vmc: not a .vmc file (no UTF-16 byte-order mark: .vmc files are UTF-16 XML)" "$TV" import imp/ascii.vmc
printf '\xff\xfe<\0p\0r\0' >imp/trunc.vmc
expect_only_error "import: not XML" 1 "$E imp/trunc.vmc: not well-formed XML (line 1)" "$TV" import imp/trunc.vmc
vmc imp/nomem.vmc - '0|0|1|C:\a.vhd|a.vhd'
expect_only_error "import: missing memory" 1 "$E imp/nomem.vmc: no memory size (hardware/memory/ram_size)" "$TV" import imp/nomem.vmc
vmc imp/vms/lost.vmc 128 '0|1|1|C:\VMs\lost.vhd|.\lost.vhd'
expect_error "import: disk not found names every tried path" 1 \
	"$E imp/vms/lost.vmc: IDE 0:1: disk not found (tried 'imp/vms/lost.vhd', '/VMs/lost.vhd')" "$TV" import imp/vms/lost.vmc
expect_only_error "import: a missing .vmc" 1 "$E cannot open .vmc file 'imp/none.vmc': No such file or directory" "$TV" import imp/none.vmc
