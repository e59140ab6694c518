#!/usr/bin/env node
// Checks a WebSocket echo server with npm `ws` (its client).
//
//   node ws-client.js ws://127.0.0.1:PORT/PATH [--protocols chat,superchat --expect-protocol chat]
//                     [--deflate]
//
// --deflate turns on ws's perMessageDeflate (every message compressed, no threshold)
// and requires the server to accept it.
// Every payload carries a token unique to the run and must come back byte for byte:
// text (ASCII, multi-byte, empty), binary (256 bytes, 1 MiB), a text sent in three
// fragments, a ping with a payload, then a close with 1000 that must be answered with
// 1000. Exits 0 when every check passed, 1 otherwise.
'use strict';

const WebSocket = require('ws');

const args = process.argv.slice(2);
const url = args[0];
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!url) {
  console.error('usage: node ws-client.js URL [--protocols LIST --expect-protocol P]');
  process.exit(2);
}
const protocols = (opt('--protocols') || '').split(',').map((s) => s.trim()).filter(Boolean);
const expectProtocol = opt('--expect-protocol');
const deflate = args.includes('--deflate');
const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const TIMEOUT = 20000;

let passed = 0;
const failed = [];
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`  ok   ${name}`);
  } else {
    failed.push(name);
    console.log(`  FAIL ${name} ${detail}`);
  }
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const perMessageDeflate = deflate ? { threshold: 0 } : false;
  const ws = new WebSocket(url, protocols, { perMessageDeflate, handshakeTimeout: TIMEOUT });
  const inbox = [];
  const waiting = [];
  ws.on('message', (data, isBinary) => {
    const m = { data: Buffer.from(data), isBinary };
    if (waiting.length) waiting.shift()(m);
    else inbox.push(m);
  });
  const next = (what) => within(new Promise((resolve) => {
    if (inbox.length) resolve(inbox.shift());
    else waiting.push(resolve);
  }), what);
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await within(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 'the handshake');

  if (deflate) {
    check(`permessage-deflate negotiated ('${ws.extensions}')`, ws.extensions.startsWith('permessage-deflate'));
  }
  if (protocols.length) {
    check(`subprotocol '${ws.protocol}' chosen from ${protocols.join(',')}`, ws.protocol === expectProtocol,
      `(expected ${expectProtocol})`);
  }

  async function echo(name, payload, binary) {
    ws.send(payload, { binary });
    const m = await next(name);
    const sent = Buffer.from(payload);
    check(`${name} (${sent.length} bytes)`, m.isBinary === binary && m.data.equals(sent),
      `(got ${m.data.length} bytes, binary=${m.isBinary})`);
  }
  await echo('text', `node ws ${token}`, false);
  await echo('multi-byte text', `héllo wörld ✓ 日本語 🎉 ${token}`, false);
  await echo('empty text', '', false);
  await echo('binary 256', Buffer.concat([Buffer.from([...Array(256).keys()]), Buffer.from(token)]), true);
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = token.charCodeAt(i % token.length) ^ (i >> 10);
  await echo('binary 1 MiB', big, true);

  const parts = [`frag-1-${token}-`, 'é€', `-frag-3-${token}`];
  ws.send(parts[0], { fin: false });
  ws.send(parts[1], { fin: false });
  ws.send(parts[2], { fin: true });
  const whole = await next('fragmented text');
  check('text in 3 fragments reassembled', !whole.isBinary && whole.data.toString() === parts.join(''));

  const pingPayload = Buffer.from(`ping-${token}`.slice(0, 125));
  const pong = within(new Promise((resolve) => ws.once('pong', resolve)), 'the pong');
  ws.ping(pingPayload);
  check('ping answered with its payload', (await pong).equals(pingPayload));

  ws.close(1000, 'done');
  const { code } = await within(closed, 'the close');
  check('close 1000 answered with 1000', code === 1000, `(got ${code})`);
}

main().then(() => {
  console.log(`node ws: ${passed} checks passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}, (e) => {
  console.log(`node ws: FAILED: ${e.message}`);
  process.exit(1);
});
