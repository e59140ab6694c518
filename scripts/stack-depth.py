#!/usr/bin/env python3
"""How deep connection threads' stacks go, and what each connection costs in RSS.

Every stack page a connection's thread touches stays resident while the connection
lives, so the deepest point of a connection's path decides how many pages an idle
connection keeps. This starts `stdws` with the given flags on 127.0.0.1, opens N
connections that each send MSGS messages (compressed when the server accepts the
permessage-deflate offer, plain otherwise; with --broadcast nothing comes back),
then reads every thread stack mapping of the server through /proc/PID/mem and
reports the lowest written byte's distance from the top, and the server's VmRSS
growth per connection.

    scripts/stack-depth.py target/release/stdws [N] [stdws flags...]
    MSGS=2 scripts/stack-depth.py target/release/stdws 30 --deflate --deflatememory stateless
    ALL=1 ...   also prints every (depth, RSS kB) pair

Needs root (or ptrace rights over the server) to read /proc/PID/mem. Linux only.
"""
import base64, os, re, socket, subprocess, sys, time, zlib

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
flags = sys.argv[3:]
port = int(os.environ.get("PORT", "19556"))
messages = int(os.environ.get("MSGS", "2"))
replies = "--broadcast" not in flags
server = subprocess.Popen([binary, "--port", str(port), "-q"] + flags, stderr=subprocess.DEVNULL)
TEXT = b'{"user":"ada","text":"hello there, a chat message that compresses well well well"}' * 3


def vmrss():
    status = open(f"/proc/{server.pid}/status").read()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def masked_frame(first_byte, payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    if size < 126:
        head = bytes([first_byte, 0x80 | size])
    else:
        head = bytes([first_byte, 0x80 | 126, size >> 8, size & 255])
    return head + mask + body


def open_connection():
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    ).encode())
    answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    compressed = b"permessage-deflate" in answer
    for _ in range(messages):
        if compressed:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = c.compress(TEXT) + c.flush(zlib.Z_SYNC_FLUSH)
            s.sendall(masked_frame(0xC1, body[:-4]))  # RFC 7692 7.2.1: tail removed
        else:
            s.sendall(masked_frame(0x81, TEXT))
        if replies:
            assert s.recv(4096), "no echo"
        else:
            time.sleep(0.05)
    return s, compressed


def stack_depths():
    """(depth, RSS kB) of each mapping shaped like a thread stack."""
    smaps = open(f"/proc/{server.pid}/smaps").read()
    mem = open(f"/proc/{server.pid}/mem", "rb")
    found = []
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", smaps):
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0", block)
        if not m:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        if not 64 * 1024 <= end - start <= 2 * 1024 * 1024 + 4096:
            continue
        rss = int(re.search(r"\nRss:\s+(\d+) kB", block).group(1))
        low = end - 32 * 4096
        try:
            mem.seek(low)
            data = mem.read(end - low)
        except OSError:
            continue
        first = next((i for i, b in enumerate(data) if b), None)
        if first is not None and end - (low + first) < 65536:
            found.append((end - (low + first), rss))
    return sorted(found)


try:
    time.sleep(0.5)
    warm = socket.create_connection(("127.0.0.1", port))
    open_connection()  # the first one builds what later ones reuse
    time.sleep(0.5)
    before = vmrss()
    held = [open_connection() for _ in range(n)]
    time.sleep(1)
    per_connection = (vmrss() - before) / n
    found = stack_depths()
finally:
    server.kill()
if os.environ.get("ALL"):
    print(found)
depths = [d for d, _ in found]
rss = sorted(r for _, r in found)
print(f"kib_conn {per_connection:.2f} compressed {held[0][1]} stacks {len(found)} "
      f"depth min/median/max {depths[0]} {depths[len(depths) // 2]} {depths[-1]} "
      f"rss_kB median {rss[len(rss) // 2]}")
