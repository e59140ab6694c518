#!/usr/bin/env node
// A hixie-76 echo server on npm websocket-driver, as a real peer for stdws's hixie-76
// client. Listens on 127.0.0.1 and an ephemeral port; prints "listening PORT", then
// one line per event: "open VERSION PATH", "echo N bytes", "close".
'use strict';

const net = require('net');
const websocket = require('websocket-driver');

const server = net.createServer((socket) => {
  const driver = websocket.server({ allowDrafts: true });
  driver.on('connect', () => {
    if (!websocket.isWebSocket(driver)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    driver.start();
  });
  driver.on('open', () => console.log(`open ${driver.version} ${driver.url}`));
  driver.messages.on('data', (message) => {
    console.log(`echo ${Buffer.byteLength(message)} bytes`);
    driver.text(message);
  });
  driver.on('close', () => {
    console.log('close');
    socket.end();
  });
  driver.on('error', (e) => console.log(`error ${e.message}`));
  socket.on('error', () => {});
  socket.pipe(driver.io).pipe(socket);
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
// Bounded: the test that starts it also stops it, but never leave it behind.
setTimeout(() => process.exit(0), 10 * 60 * 1000).unref();
