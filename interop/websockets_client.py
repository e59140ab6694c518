#!/usr/bin/env python3
"""Checks a WebSocket echo server with PyPI `websockets` (its synchronous client).

    .venv/bin/python websockets_client.py ws://127.0.0.1:PORT/PATH \
        [--protocols chat,superchat --expect-protocol chat] [--cafile CERT.pem] [--quick]

Every payload carries a token unique to the run and must come back byte for byte:
text (ASCII, multi-byte, empty), binary (256 bytes, 1 MiB), a text fragmented in
three frames, a ping with a payload, then a close with 1000 that must be answered with
1000. --quick keeps one text and one binary. wss:// URLs use --cafile as the only
trusted certificate. Exits 0 when every check passed, 1 otherwise.
"""

import argparse
import os
import ssl
import sys
import time

from websockets.sync.client import connect

TIMEOUT = 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--protocols", default="")
    parser.add_argument("--expect-protocol", default=None)
    parser.add_argument("--cafile", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    token = f"{os.getpid()}-{time.time_ns()}"
    failures = []
    passed = 0

    def check(name, ok, detail=""):
        nonlocal passed
        if ok:
            passed += 1
            print(f"  ok   {name}")
        else:
            failures.append(name)
            print(f"  FAIL {name} {detail}")

    ssl_context = None
    if args.url.startswith("wss://"):
        ssl_context = ssl.create_default_context(cafile=args.cafile)
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    with connect(
        args.url,
        subprotocols=protocols or None,
        ssl=ssl_context,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        max_size=None,
    ) as ws:
        if protocols:
            check(
                f"subprotocol {ws.subprotocol!r} chosen from {protocols}",
                ws.subprotocol == args.expect_protocol,
                f"(expected {args.expect_protocol!r})",
            )

        def echo(name, message):
            ws.send(message)
            got = ws.recv(timeout=TIMEOUT)
            check(f"{name} ({len(message)} {'chars' if isinstance(message, str) else 'bytes'})",
                  got == message, f"(got {len(got)} back, different)")

        echo("text", f"python websockets {token}")
        echo("binary 1 MiB", (token.encode() * (1 + (1 << 20) // len(token)))[: 1 << 20])
        if not args.quick:
            echo("multi-byte text", f"héllo wörld ✓ 日本語 🎉 {token}")
            echo("empty text", "")
            echo("binary 256", bytes(range(256)) + token.encode())
            parts = [f"frag-1-{token}-", "é€", f"-frag-3-{token}"]
            ws.send(iter(parts))
            got = ws.recv(timeout=TIMEOUT)
            check("text in 3 fragments reassembled", got == "".join(parts), repr(got[:80]))
            pong = ws.ping(f"ping-{token}".encode()[:125])
            check("ping answered with its payload", pong.wait(TIMEOUT))

        ws.close(code=1000, reason="done")
        received = ws.protocol.close_rcvd
        check(
            "close 1000 answered with 1000",
            received is not None and received.code == 1000,
            f"(received {received})",
        )
    print(f"python websockets: {passed} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a refused handshake, a timeout, a reset: all failures
        print(f"python websockets: FAILED: {type(e).__name__}: {e}")
        sys.exit(1)
