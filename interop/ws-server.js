#!/usr/bin/env node
// An echo server on npm ws, as a real peer for `stdws --connect`. Listens on
// 127.0.0.1 and an ephemeral port and prints "listening PORT"; stops by itself after
// ten minutes.
//
//   /refuse   the handshake is refused: 403 Forbidden
//   /slow     each message is echoed 200 ms after it arrived
//   anything  each message, text or binary, is echoed at once
'use strict';

const { WebSocketServer } = require('ws');

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  verifyClient: (info, done) => done(info.req.url !== '/refuse', 403),
});
server.on('connection', (socket, request) => {
  const slow = request.url === '/slow';
  socket.on('message', (data, isBinary) => {
    const reply = () => socket.send(data, { binary: isBinary });
    if (slow) setTimeout(reply, 200);
    else reply();
  });
});
server.on('listening', () => console.log(`listening ${server.address().port}`));
setTimeout(() => process.exit(0), 10 * 60 * 1000).unref();
