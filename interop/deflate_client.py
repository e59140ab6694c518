#!/usr/bin/env python3
"""Checks permessage-deflate (RFC 7692) on a WebSocket echo server started with --deflate.

    .venv/bin/python deflate_client.py ws://127.0.0.1:PORT/PATH

Two peers nobody on this project wrote:

1. PyPI `websockets` with compression on, over a matrix of offers (windows 9 to 15,
   context takeover on and off each way): each connection must negotiate the
   extension and echo unique payloads byte for byte (JSON-like text that compresses
   well, random binary that does not, multi-byte text, a 300 KB message).
2. The bare offer of Firefox and Safari (`permessage-deflate`, nothing else), spoken
   over a raw socket with Python's zlib: the answer must be exactly what `stdws
   --deflate` (small windows) answers, `permessage-deflate; client_no_context_takeover;
   server_max_window_bits=10`, and is honoured (a fresh compressor for each message);
   compressed frames sent (RSV1, one message in two fragments with a ping between)
   must come back, and the server's echoes of 16 bytes or more must themselves be
   compressed (RSV1), inflate with zlib to what was sent, and carry context from one
   message to the next; a plain message on the same connection too.

Exits 0 when every check passed, 1 otherwise.
"""

import base64
import os
import socket
import struct
import sys
import time
import zlib
from urllib.parse import urlparse

from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect

TIMEOUT = 20
TAIL = b"\x00\x00\xff\xff"

passed = 0
failures = []


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
        print(f"  ok   {name}")
    else:
        failures.append(name)
        print(f"  FAIL {name} {detail}")


def payloads(token):
    record = '{"user":"ada","room":"lobby","text":"the same words again","token":"%s"}' % token
    return [
        record,
        record,
        "héllo wörld ✓ 日本語 🎉 " * 20 + token,
        os.urandom(20_000) + token.encode(),
        (record * 4000).encode(),
        "short " + token[:8],
    ]


def websockets_matrix(url, token):
    offers = [
        dict(),
        dict(client_max_window_bits=True),
        dict(server_max_window_bits=9, client_max_window_bits=9),
        dict(server_max_window_bits=12, client_max_window_bits=10),
        dict(server_max_window_bits=15, client_max_window_bits=15),
        dict(server_no_context_takeover=True),
        dict(client_no_context_takeover=True),
        dict(server_no_context_takeover=True, client_no_context_takeover=True,
             server_max_window_bits=10),
    ]
    for offer in offers:
        name = ", ".join(f"{k}={v}" for k, v in offer.items()) or "default offer"
        factory = ClientPerMessageDeflateFactory(**offer)
        try:
            with connect(url, extensions=[factory], compression=None,
                         open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                         max_size=None) as ws:
                agreed = [e.name for e in ws.protocol.extensions]
                check(f"websockets [{name}]: negotiated", agreed == ["permessage-deflate"],
                      f"(got {agreed})")
                for p in payloads(f"{token}-{len(failures)}-{passed}"):
                    ws.send(p)
                    got = ws.recv(timeout=TIMEOUT)
                    if got != p:
                        check(f"websockets [{name}]: echo of {len(p)}", False)
                        break
                else:
                    check(f"websockets [{name}]: {len(payloads(token))} echoes", True)
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            check(f"websockets [{name}]", False, f"({type(e).__name__}: {e})")


class Raw:
    """A masked client over a raw socket: exact frames out, exact frames in."""

    def __init__(self, url, extensions):
        u = urlparse(url)
        self.s = socket.create_connection((u.hostname, u.port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Extensions: {extensions}\r\n\r\n")
        self.s.sendall(request.encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.recv_exact(1)
        self.head = head.decode()

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise EOFError("connection closed")
            out += chunk
        return out

    def send(self, opcode, payload, fin=True, rsv1=False):
        first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.s.sendall(header + mask + body)

    def recv(self):
        first, second = self.recv_exact(2)
        n = second & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.recv_exact(8))[0]
        return first & 0x80 != 0, first & 0x40 != 0, first & 0x0F, self.recv_exact(n)


def bare_offer(url, token):
    raw = Raw(url, "permessage-deflate")
    answer = [line for line in raw.head.split("\r\n")
              if line.lower().startswith("sec-websocket-extensions")]
    check("bare offer: 101", raw.head.startswith("HTTP/1.1 101"), raw.head)
    expected = ("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                "server_max_window_bits=10")
    check("bare offer: answered as stdws --deflate (small windows) answers",
          answer == [expected], f"(got {answer})")
    inflater = zlib.decompressobj(-15)

    def compress(data):
        # client_no_context_takeover was asked: each message from a fresh compressor.
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]

    def read_echo(name, opcode, sent):
        while True:
            fin, rsv1, op, payload = raw.recv()
            if op in (0x9, 0xA):
                continue
            break
        data = inflater.decompress(payload + TAIL) if rsv1 else payload
        check(f"bare offer: {name} echoed ({len(sent)} bytes)",
              fin and op == opcode and data == sent, f"(op {op}, {len(data)} bytes)")
        wanted = len(sent) >= 16
        check(f"bare offer: {name} echo {'compressed' if wanted else 'plain'} (RSV1={int(rsv1)})",
              rsv1 == wanted, f"({len(payload)} bytes on the wire)")
        return payload

    text = ('{"event":"tick","token":"%s","values":[1,2,3,4,5]}' % token).encode()
    first = compress(text)
    raw.send(0x1, first, rsv1=True)
    read_echo("text", 0x1, text)
    again = compress(text)
    raw.send(0x1, again, rsv1=True)
    echoed = read_echo("text again", 0x1, text)
    check("bare offer: the server's second echo is smaller too",
          len(echoed) < len(text) // 2, f"({len(echoed)} bytes)")
    noise = os.urandom(50_000)
    data = compress(noise)
    raw.send(0x2, data[:1000], fin=False, rsv1=True)
    raw.send(0x9, b"between")
    raw.send(0x0, data[1000:], fin=True)
    read_echo("binary in 2 fragments with a ping between", 0x2, noise)
    raw.send(0x1, b"plain on a compressing connection " + token.encode())
    read_echo("plain text", 0x1, b"plain on a compressing connection " + token.encode())
    raw.send(0x8, struct.pack("!H", 1000))
    fin, rsv1, op, payload = raw.recv()
    check("bare offer: close answered with 1000", op == 0x8 and payload[:2] == b"\x03\xe8")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    url = sys.argv[1]
    token = f"{os.getpid()}-{time.time_ns()}"
    websockets_matrix(url, token)
    try:
        bare_offer(url, token)
    except Exception as e:  # noqa: BLE001
        check("bare offer", False, f"({type(e).__name__}: {e})")
    print(f"deflate: {passed} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
