#!/usr/bin/env python3
"""zlib's side of examples/deflate_bench.rs: the same messages through Python's zlib.

    deflate_bench.py DIR CELL...

For each CELL, DIR/CELL.msgs holds the messages and DIR/CELL.stdws stdws's payloads
(a count, then each one's length and bytes, u32 little-endian). Like stdws, zlib
keeps one stream per cell (context takeover), raw DEFLATE with a 2^15 window
(wbits=-15), memLevel 8, sync-flushing each message and removing its 00 00 ff ff
(RFC 7692 section 7.2.1). Prints per cell:

    ZLIB CELL level1_MB/s level1_ratio level6_MB/s level6_ratio inflate_MB/s

where inflate is zlib inflating stdws's payloads (checked against the messages).
MB/s counts uncompressed bytes per second of this thread's CPU time (as the Rust
side does), so that other work on a shared machine does not count; each figure is
the best of 3 runs.
"""

import struct
import sys
import time
import zlib

TAIL = b"\x00\x00\xff\xff"
RUNS = 3


def read_list(path):
    with open(path, "rb") as f:
        data = f.read()
    (count,) = struct.unpack_from("<I", data, 0)
    at, out = 4, []
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, at)
        out.append(data[at + 4 : at + 4 + n])
        at += 4 + n
    return out


def best(f):
    """Best CPU time of one call of f, over RUNS runs that each repeat it for at
    least 0.1 s and at most 1000 times (as examples/deflate_bench.rs does)."""
    times = []
    for _ in range(RUNS):
        start, wall, calls = time.thread_time(), time.perf_counter(), 0
        while calls < 1000 and (calls == 0 or time.perf_counter() - wall < 0.1):
            f()
            calls += 1
        times.append((time.thread_time() - start) / calls)
    return min(times)


def compress_all(messages, level):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    sync = zlib.Z_SYNC_FLUSH
    return [(c.compress(m) + c.flush(sync))[:-4] for m in messages]


def inflate_all(payloads):
    d = zlib.decompressobj(-15)
    return [d.decompress(p + TAIL) for p in payloads]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    directory = sys.argv[1]
    for cell in sys.argv[2:]:
        messages = read_list(f"{directory}/{cell}.msgs")
        ours = read_list(f"{directory}/{cell}.stdws")
        raw = sum(len(m) for m in messages) / 1e6
        figures = []
        for level in (1, 6):
            secs = best(lambda: compress_all(messages, level))
            payloads = compress_all(messages, level)
            if inflate_all(payloads) != messages:
                sys.exit(f"deflate_bench.py: zlib level {level} did not round-trip {cell}")
            ratio = sum(len(p) for p in payloads) / (raw * 1e6)
            figures += [raw / secs, ratio]
        if inflate_all(ours) != messages:
            sys.exit(f"deflate_bench.py: zlib inflated other bytes from stdws's {cell}")
        figures.append(raw / best(lambda: inflate_all(ours)))
        print("ZLIB", cell, " ".join(f"{x:.4f}" for x in figures), flush=True)


if __name__ == "__main__":
    main()
