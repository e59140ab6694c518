#!/usr/bin/env node
// Drives Debian's headless Chromium (/usr/bin/chromium, through npm playwright-core)
// through stdws's inspector page and checks what the page displays against the wire:
//
//   node inspector.js http://127.0.0.1:PORT/ MODE [SCREENSHOT.png]
//
// MODE is echo, broadcast or exec (a program that echoes, such as cat). The page
// loads; the accept value it shows is base64(SHA-1(key + GUID)) for the key it shows;
// a typed text's row shows masked bytes that unmask with the shown key to the text
// (and, but in broadcast mode, an unmasked echo row); binary goes the same way; the
// server's ping gets the browser's pong; in echo mode a second browser context sees
// its own frames and none of the first's; a close with a chosen code shows the
// server answering that code. SCREENSHOT, if given, is where the page is saved.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { chromium } = require('playwright-core');

const [base, mode, screenshot] = process.argv.slice(2);
// `deflate`: an echo server with --deflate; Chromium offers permessage-deflate itself.
const compressed = mode === 'deflate';
if (!base || !['echo', 'broadcast', 'exec', 'deflate'].includes(mode)) {
  console.error('usage: node inspector.js http://127.0.0.1:PORT/ echo|broadcast|exec|deflate [SCREENSHOT]');
  process.exit(2);
}
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const unique = () => `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
const bytes = (spaced) => Buffer.from(spaced.replace(/ /g, ''), 'hex');

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log(`  ok   ${what}`);
}

// The frames table, row by row, as the page shows it.
const COLUMNS = ['n', 'dir', 'fin', 'rsv', 'opcode', 'mask', 'len', 'key', 'wire', 'data', 'text'];
async function rows(tab) {
  return tab.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)))
    .then((all) => all.map((cells) => Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i]]))));
}

// The first row that satisfies `pred`, waiting up to 20 s for it to appear.
async function row(tab, pred, what) {
  for (let i = 0; i < 200; i++) {
    const found = (await rows(tab)).find(pred);
    if (found) return found;
    await tab.waitForTimeout(100);
  }
  throw new Error(`no row for ${what}: ${JSON.stringify(await rows(tab))}`);
}

const IN = 'browser \u2192 server';
const OUT = 'server \u2192 browser';

async function open(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const tab = await context.newPage();
  await tab.goto(base, { timeout: 30000 });
  await tab.waitForFunction(() => document.getElementById('status').textContent.startsWith('open'),
    null, { timeout: 20000 });
  await tab.waitForFunction(() => document.getElementById('answer').textContent !== '', null, { timeout: 20000 });
  return { context, tab };
}

// Types `text`, presses `button`, and checks the rows the page shows for it.
async function send(tab, text, button) {
  await tab.fill('#msg', text);
  await tab.click(button);
  const name = button === '#text' ? '1 text' : '2 binary';
  // With --deflate the browser compresses: the row shows the compressed bytes, and
  // the size the message had before (RFC 7692 §6).
  const inflated = `inflated: ${Buffer.byteLength(text)} bytes`;
  const ours = (r) => compressed ? r.text.endsWith(inflated) : bytes(r.data).equals(Buffer.from(text));
  const sent = await row(tab, (r) => r.dir === IN && r.opcode === name && ours(r), `the ${name} sent`);
  const key = bytes(sent.key);
  const wire = bytes(sent.wire);
  const unmasked = Buffer.from(wire.map((b, i) => b ^ key[i % 4]));
  check(sent.mask === '1' && key.length === 4 && !wire.equals(Buffer.from(text)),
    `${name}: masked on the wire with key ${sent.key}`);
  check(unmasked.equals(bytes(sent.data)), `${name}: the wire bytes unmask with the shown key to the payload shown`);
  if (compressed) {
    check(sent.fin === '1' && sent.rsv === '100' && sent.text.startsWith(`compressed, ${sent.len} bytes`),
      `${name}: FIN 1, RSV 100 (compressed), ${sent.len} bytes on the wire, ${inflated}`);
  } else {
    check(unmasked.toString() === text, `${name}: the payload is "${text}"`);
    check(sent.fin === '1' && sent.rsv === '000' && sent.len === String(Buffer.byteLength(text)),
      `${name}: FIN 1, RSV 000, length ${sent.len}`);
  }
  if (mode !== 'broadcast') {
    // exec mode's program writes lines: whatever went in comes back as text.
    const answer = mode === 'exec' ? '1 text' : name;
    const back = await row(tab, (r) => r.dir === OUT && r.opcode === answer &&
      (compressed ? r.text.endsWith(inflated) : bytes(r.wire).equals(Buffer.from(text))), `the ${name} echoed`);
    check(back.mask === '0' && back.key === '', `${name}: the answer comes back unmasked`);
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    console.log(`  chromium ${browser.version()}, ${mode} mode`);
    const first = await open(browser);
    const tab = first.tab;

    const head = await tab.textContent('#head');
    const key = /Sec-WebSocket-Key: (\S+)/.exec(head)[1];
    const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
    check((await tab.textContent('#answer')).includes(`Sec-WebSocket-Accept: ${accept}`),
      `the 101 shows base64(SHA-1(key + GUID)) = ${accept} for the key shown`);
    const steps = await tab.$$eval('#steps tr', (trs) => trs.map((tr) => tr.textContent));
    check(steps.some((s) => s.startsWith('5. base64') && s.endsWith(accept)),
      'the derivation steps end in the same value');

    if (compressed) {
      check((await tab.textContent('#answer')).includes('Sec-WebSocket-Extensions: permessage-deflate'),
        'the 101 shows the extension agreed');
    }
    // Long enough to be worth compressing, with --deflate.
    const padding = compressed ? ' and again'.repeat(10) : '';
    const token = `inspect ${unique()} ✓${padding}`;
    await send(tab, token, '#text');
    await send(tab, `bytes ${unique()}${padding}`, '#binary');

    await tab.click('#ping');
    await row(tab, (r) => r.dir === OUT && r.opcode === '9 ping', 'the server ping');
    const pong = await row(tab, (r) => r.dir === IN && r.opcode === '10 pong', 'the pong');
    check(pong.mask === '1' && pong.text === 'from the inspector', 'the ping gets a masked pong row with its payload');

    if (mode === 'echo') {
      const second = await open(browser);
      const other = `other ${unique()}`;
      await send(second.tab, other, '#text');
      const theirs = (await rows(second.tab)).map((r) => r.text).join('\n');
      const mine = (await rows(tab)).map((r) => r.text).join('\n');
      check(!theirs.includes(token) && !mine.includes(other),
        'a second browser context sees its own frames and none of the first\'s');
      check((await second.tab.textContent('#head')) !== head, 'and its own handshake');
      await second.context.close();
    }

    if (screenshot) {
      await tab.screenshot({ path: screenshot, fullPage: true });
      console.log(`  saved ${screenshot} (${fs.statSync(screenshot).size} bytes)`);
    }

    await tab.fill('#code', '4123');
    await tab.click('#close');
    const closing = await row(tab, (r) => r.dir === IN && r.opcode === '8 close', 'the close sent');
    check(closing.text.startsWith('4123 private use'), `the browser's close shows code 4123: "${closing.text}"`);
    const answer = await row(tab, (r) => r.dir === OUT && r.opcode === '8 close', 'the close answered');
    check(answer.text.startsWith('4123 private use'), `the server answers with the same code: "${answer.text}"`);
    await tab.waitForFunction(() => document.getElementById('status').textContent.startsWith('closed'),
      null, { timeout: 20000 });
    check((await tab.textContent('#status')) === 'closed, code 4123 (clean)', 'the page reports a clean close');
    const html = await tab.content();
    check(!/<script[^>]*src=|<link|@import|url\(/.test(html), 'the page loads nothing from elsewhere');
    await first.context.close();
  } finally {
    await browser.close();
  }
}

main().then(() => {
  console.log(`inspector (${mode}): PASS`);
  process.exit(0);
}, (e) => {
  console.log(`inspector (${mode}): FAILED: ${e.message}`);
  process.exit(1);
});
