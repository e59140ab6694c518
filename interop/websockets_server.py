#!/usr/bin/env python3
"""An echo server on PyPI `websockets` (its asyncio server), as a real peer for
`stdws --connect`. Listens on 127.0.0.1 and an ephemeral port and prints
"listening PORT"; stops by itself after ten minutes.

    /refuse   the handshake is refused: 403 Forbidden
    /slow     each message is echoed 200 ms after it arrived
    anything  each message, text or binary, is echoed at once

websockets answers a client's close at once and sends nothing after it, so a client
that closes while replies are still to come loses them.
"""

import asyncio
from http import HTTPStatus

from websockets.asyncio.server import serve


def refuse(connection, request):
    if request.path == "/refuse":
        return connection.respond(HTTPStatus.FORBIDDEN, "refused by the test server\n")
    return None


async def echo(websocket):
    slow = websocket.request.path == "/slow"
    async for message in websocket:
        if slow:
            await asyncio.sleep(0.2)
        await websocket.send(message)


async def main():
    async with serve(echo, "127.0.0.1", 0, process_request=refuse, max_size=None) as server:
        print("listening", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(600)


asyncio.run(main())
