#!/usr/bin/env python3
"""vhdx_mklog.py IMG BLOCK ZERO_OFF [lie]: leave a pending ([MS-VHDX] 2.3) log in a VHDX, written
independently of thinvisor: one log entry that (1) allocates payload block BLOCK at the 1 MiB
boundary past the end of the file, its first 4 KiB filled with 0x7e (a data sector for the
block and one for the BAT sector holding its entry) and (2) zeroes 8 KiB at virtual offset
ZERO_OFF (which must lie in a fully present block: a zero descriptor). LogGuid is then set in
the header that becomes current (the other one is written, with the next sequence number).
Nothing else is changed: the file's data only shows the change once the log is replayed.
With "lie", the entry claims the file was 1 GiB larger than it is (FlushedFileOffset)."""
import struct
import sys
import uuid

MiB = 1 << 20


def crc32c(data):
    if not hasattr(crc32c, "t"):
        t = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            t.append(c)
        crc32c.t = t
    t, c = crc32c.t, 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ t[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def guid(s):
    return uuid.UUID(s).bytes_le


path, block, zero_off = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = open(path, "r+b")
data = f.read(4 * MiB)
fsize = f.seek(0, 2)
hdrs = [bytearray(data[o:o + 4096]) for o in (64 * 1024, 128 * 1024)]
seqs = [struct.unpack_from("<Q", h, 8)[0] if h[:4] == b"head" else -1 for h in hdrs]
cur = 0 if seqs[0] >= seqs[1] else 1
h = hdrs[cur]
log_len, log_off = struct.unpack_from("<IQ", h, 68)
rt = data[192 * 1024:256 * 1024]
regions = {}
for i in range(struct.unpack_from("<I", rt, 8)[0]):
    g, off, ln = struct.unpack_from("<16sQI", rt, 16 + 32 * i)
    regions[g] = (off, ln)
bat_off = regions[guid("2DC27766-F623-4200-9D64-115E9BFD4A08")][0]
meta_off = regions[guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")][0]
f.seek(meta_off)
meta = f.read(MiB)
items = {}
for i in range(struct.unpack_from("<H", meta, 10)[0]):
    g, off, ln = struct.unpack_from("<16sII", meta, 32 + 32 * i)
    items[g] = meta[off:off + ln]
bs = struct.unpack_from("<I", items[guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")])[0]
lsec = struct.unpack_from("<I", items[guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")])[0]
chunk = (1 << 23) * lsec // bs


def bat_index(b):
    return b + b // chunk


def bat_entry(b):
    f.seek(bat_off + 8 * bat_index(b))
    return struct.unpack("<Q", f.read(8))[0]


new_at = (fsize + MiB - 1) // MiB * MiB
idx = bat_index(block)
bat_sector_off = bat_off + idx * 8 // 4096 * 4096
f.seek(bat_sector_off)
bat_sector = bytearray(f.read(4096))
struct.pack_into("<Q", bat_sector, idx * 8 % 4096, new_at | 6)
payload = b"\x7e" * 4096
ze = bat_entry(zero_off // bs)
assert ze & 7 == 6, "ZERO_OFF must lie in a fully present block"
zero_file_off = (ze >> 20 << 20) + zero_off % bs
assert zero_file_off % 4096 == 0

seq = 5
log_guid = uuid.uuid4().bytes_le
descs = [("desc", new_at, payload), ("desc", bat_sector_off, bytes(bat_sector)),
         ("zero", zero_file_off, 8192)]
nsect = 1 + 2  # one header sector (64 + 3 * 32 bytes), two data sectors
entry = bytearray(4096 * nsect)
entry[0:4] = b"loge"
lie = len(sys.argv) > 4 and sys.argv[4] == "lie"
struct.pack_into("<IIQII16sQQ", entry, 8, len(entry), 0, seq, len(descs), 0, log_guid,
                 fsize + (1 << 30 if lie else 0), new_at + bs)
ds = 1
for i, (kind, off, what) in enumerate(descs):
    d = 64 + 32 * i
    if kind == "zero":
        struct.pack_into("<4sIQQQ", entry, d, b"zero", 0, what, off, seq)
    else:
        struct.pack_into("<4s4s8sQQ", entry, d, b"desc", what[4092:4096], what[0:8], off, seq)
        s = 4096 * ds
        entry[s:s + 4] = b"data"
        struct.pack_into("<I", entry, s + 4, seq >> 32)
        entry[s + 8:s + 4092] = what[8:4092]
        struct.pack_into("<I", entry, s + 4092, seq & 0xFFFFFFFF)
        ds += 1
struct.pack_into("<I", entry, 4, crc32c(bytes(entry)))
f.seek(log_off)
f.write(entry)
# The other header becomes current, with LogGuid set.
nh = bytearray(h)
struct.pack_into("<Q", nh, 8, seqs[cur] + 1)
nh[48:64] = log_guid
struct.pack_into("<I", nh, 4, 0)
struct.pack_into("<I", nh, 4, crc32c(bytes(nh)))
f.seek((64, 128)[1 - cur] * 1024)
f.write(nh)
f.close()
