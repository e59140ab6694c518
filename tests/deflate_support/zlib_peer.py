#!/usr/bin/env python3
"""zlib's side of tests/deflate_zlib.rs: permessage-deflate (RFC 7692) with Python's
zlib, raw DEFLATE (negative wbits), one stream per case.

    zlib_peer.py compress IN OUT   zlib compresses each case's messages
    zlib_peer.py inflate  IN OUT   zlib inflates each case's payloads

All numbers are little-endian u32 unless said otherwise. A message list is
`count, then (length, bytes) per message`.

compress IN: cases of `level u8, strategy u8, wbits u8, memlevel u8`, then a message
list. OUT: per case, the payloads: each message compressed and sync-flushed on the
case's one stream (context takeover), with the 00 00 ff ff that RFC 7692 §7.2.1
removes checked and removed.

inflate IN: cases of `wbits u8, takeover u8`, then a message list of payloads (tail
already removed). OUT: per case, the inflated messages; a message zlib refuses ends
its case, written as the length 0xFFFFFFFF.
"""

import struct
import sys
import zlib

TAIL = b"\x00\x00\xff\xff"
STRATEGIES = [
    zlib.Z_DEFAULT_STRATEGY,
    zlib.Z_FIXED,
    zlib.Z_HUFFMAN_ONLY,
    zlib.Z_RLE,
    zlib.Z_FILTERED,
]


class Reader:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def more(self):
        return self.at < len(self.data)

    def u8(self):
        self.at += 1
        return self.data[self.at - 1]

    def u32(self):
        (n,) = struct.unpack_from("<I", self.data, self.at)
        self.at += 4
        return n

    def messages(self):
        out = []
        for _ in range(self.u32()):
            n = self.u32()
            out.append(self.data[self.at : self.at + n])
            self.at += n
        return out


def write_messages(out, messages):
    out.append(struct.pack("<I", len(messages)))
    for m in messages:
        if m is None:
            out.append(struct.pack("<I", 0xFFFFFFFF))
        else:
            out.append(struct.pack("<I", len(m)))
            out.append(m)


def compress(r, out):
    while r.more():
        level, strategy, wbits, memlevel = r.u8(), r.u8(), r.u8(), r.u8()
        c = zlib.compressobj(level, zlib.DEFLATED, -wbits, memlevel, STRATEGIES[strategy])
        payloads = []
        for m in r.messages():
            p = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
            if not p.endswith(TAIL):
                sys.exit("zlib_peer: a sync flush that does not end in 00 00 ff ff")
            payloads.append(p[:-4])
        write_messages(out, payloads)


def inflate(r, out):
    while r.more():
        wbits, takeover = r.u8(), r.u8()
        d = zlib.decompressobj(-wbits)
        results = []
        refused = False
        for p in r.messages():
            if refused:
                continue
            if not takeover:
                d = zlib.decompressobj(-wbits)
            try:
                results.append(d.decompress(p + TAIL))
            except zlib.error:
                results.append(None)
                refused = True
        write_messages(out, results)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("compress", "inflate"):
        sys.exit(__doc__)
    with open(sys.argv[2], "rb") as f:
        r = Reader(f.read())
    out = []
    (compress if sys.argv[1] == "compress" else inflate)(r, out)
    with open(sys.argv[3], "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
