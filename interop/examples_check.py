#!/usr/bin/env python3
"""Checks the chat and own_stream examples with PyPI `websockets`.

    .venv/bin/python examples_check.py chat ws://127.0.0.1:PORT
    .venv/bin/python examples_check.py own_stream ws://127.0.0.1:PORT

chat: three clients, two in one room; a text from one reaches the other member of its
room byte for byte, and not the client in another room; closes are clean (1000).
own_stream: text comes back in upper case, binary as sent, a plain GET gets the text
page, and the close is clean. Exits 0 when every check passed, 1 otherwise.
"""

import os
import sys
import time
import urllib.request

from websockets.sync.client import connect

TIMEOUT = 20
token = f"{os.getpid()}-{time.time_ns()}"
failures = []


def check(name, ok, detail=""):
    print(f"  {'ok  ' if ok else 'FAIL'} {name} {'' if ok else detail}")
    if not ok:
        failures.append(name)


def closed_with_1000(ws):
    ws.close(code=1000)
    return ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1000


def chat(base):
    with connect(f"{base}/lobby", open_timeout=TIMEOUT) as a, \
            connect(f"{base}/lobby", open_timeout=TIMEOUT) as b, \
            connect(f"{base}/elsewhere", open_timeout=TIMEOUT) as c:
        # A join is registered when the server has split the connection; a message
        # from b proves b is in the room before a speaks.
        deadline = time.time() + TIMEOUT
        while True:
            b.send(f"ready-{token}")
            try:
                got = a.recv(timeout=0.2)
                if got == f"ready-{token}":
                    break
            except TimeoutError:
                pass
            if time.time() > deadline:
                check("both lobby members joined", False, "(no message between them)")
                return
        text = f"hello lobby {token} ✓"
        a.send(text)
        got = b.recv(timeout=TIMEOUT)
        while got.startswith("ready-"):
            got = b.recv(timeout=TIMEOUT)
        check("a lobby message reaches the other lobby member", got == text, repr(got))
        try:
            stray = c.recv(timeout=1)
            check("another room hears nothing", False, repr(stray))
        except TimeoutError:
            check("another room hears nothing", True)
        for name, ws in (("a", a), ("b", b), ("c", c)):
            check(f"client {name} closes with 1000", closed_with_1000(ws))


def own_stream(base):
    with connect(f"{base}/shout", subprotocols=["shout"], open_timeout=TIMEOUT) as ws:
        check("subprotocol shout", ws.subprotocol == "shout", repr(ws.subprotocol))
        ws.send(f"quiet {token} é")
        got = ws.recv(timeout=TIMEOUT)
        check("text comes back in upper case", got == f"QUIET {token.upper()} É", repr(got))
        blob = token.encode() * 100
        ws.send(blob)
        check("binary comes back as sent", ws.recv(timeout=TIMEOUT) == blob)
        check("close 1000 answered with 1000", closed_with_1000(ws))
    page = urllib.request.urlopen(base.replace("ws://", "http://") + "/hello", timeout=TIMEOUT)
    body = page.read().decode()
    check("a plain GET gets the page", page.status == 200 and "GET /hello" in body, repr(body))


def main():
    which, base = sys.argv[1], sys.argv[2].rstrip("/")
    {"chat": chat, "own_stream": own_stream}[which](base)
    print(f"example {which}: {'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        print(f"example check: FAILED: {type(e).__name__}: {e}")
        sys.exit(1)
