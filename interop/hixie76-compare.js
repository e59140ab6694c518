#!/usr/bin/env node
// Compares stdws's hixie-76 challenge (key numbers and MD5 answer) with npm
// websocket-driver's own computation, on many random keys.
//
//   node hixie76-compare.js PATH/TO/hixie76_answers [COUNT]
//
// The answers binary (cargo's examples/hixie76_answers.rs) reads lines
// "KEY1\tKEY2\tKEY3HEX" and prints 32 hex digits or "refused: ...". For every case
// this script asks websocket-driver, as a server, to answer the same request, and
// requires the same 16 bytes (or a refusal from both).
//
// Where websocket-driver departs from the draft, the draft decides, and the case is
// counted separately:
//  - a key number of 0 is valid in the draft; websocket-driver refuses it;
//  - a key number above 4294967295 must be refused; websocket-driver only checks the
//    quotient.
'use strict';

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const websocket = require('websocket-driver');

const [binary, countArg] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node hixie76-compare.js ANSWERS_BINARY [COUNT]');
  process.exit(2);
}
const COUNT = Number(countArg || 5000);

const rand = (n) => crypto.randomInt(n);
// Draft §4.1 step 18: noise is U+0021-U+002F and U+003A-U+007E.
const NOISE = [];
for (let c = 0x21; c <= 0x7e; c++) if (c < 0x30 || c > 0x39) NOISE.push(String.fromCharCode(c));

function insertAt(s, at, c) { return s.slice(0, at) + c + s.slice(at); }

// A key built the way a draft client builds one (§4.1 steps 16-23), from a
// quotient and a count of spaces.
function makeKey(quotient, spaces, noise) {
  let key = String(BigInt(quotient) * BigInt(spaces));
  for (let i = 0; i < noise; i++) key = insertAt(key, rand(key.length + 1), NOISE[rand(NOISE.length)]);
  // Spaces never first or last: HTTP trims header values.
  for (let i = 0; i < spaces; i++) key = insertAt(key, 1 + rand(key.length - 1), ' ');
  return key;
}

function validKey() {
  const spaces = 1 + rand(12);
  const max = Math.floor(4294967295 / spaces);
  return makeKey(1 + rand(max), spaces, 1 + rand(12));
}

// Keys both implementations must refuse.
function invalidKey(kind) {
  switch (kind) {
    case 'not-a-multiple': {
      for (;;) {
        const spaces = 2 + rand(11);
        const number = 1 + rand(Math.floor(4294967295 / spaces) * spaces);
        if (number % spaces === 0) continue;
        let key = String(number);
        for (let i = 0; i < spaces; i++) key = insertAt(key, 1 + rand(key.length - 1), ' ');
        return insertAt(key, rand(key.length + 1), NOISE[rand(NOISE.length)]);
      }
    }
    case 'no-spaces':
      return validKey().replace(/ /g, NOISE[rand(NOISE.length)]);
    case 'no-digits':
      return 'ab c' + NOISE[rand(NOISE.length)].replace(/[0-9]/g, '') + ' d';
    default:
      throw new Error(kind);
  }
}

// websocket-driver's answer to a request carrying these keys, as its server sends it.
function driverAnswer(key1, key2, key3) {
  const driver = websocket.server({ allowDrafts: true });
  const out = [];
  let failed = false;
  driver.io.on('data', (chunk) => out.push(Buffer.from(chunk)));
  driver.on('error', () => { failed = true; });
  driver.on('connect', () => {
    try { driver.start(); } catch (e) { failed = true; }
  });
  const head = 'GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
    'Origin: http://example.com\r\n' +
    `Sec-WebSocket-Key1: ${key1}\r\nSec-WebSocket-Key2: ${key2}\r\n\r\n`;
  try {
    driver.io.write(Buffer.concat([Buffer.from(head, 'latin1'), key3]));
  } catch (e) {
    failed = true;
  }
  const bytes = Buffer.concat(out);
  const end = bytes.indexOf('\r\n\r\n');
  if (failed || end < 0 || bytes.length < end + 4 + 16) return 'refused';
  return bytes.subarray(end + 4, end + 4 + 16).toString('hex');
}

// The draft's own answer for quotients (n1, n2): used only where the driver departs.
function draftAnswer(n1, n2, key3) {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(n1, 0);
  b.writeUInt32BE(n2, 4);
  key3.copy(b, 8);
  return crypto.createHash('md5').update(b).digest('hex');
}

const cases = [];
// The draft's two published vectors first.
cases.push({ kind: 'vector', k1: '18x 6]8vM;54 *(5:  {   U1]8  z [  8', k2: '1_ tx7X d  <  nw  334J702) 7]o}` 0',
  key3: Buffer.from('Tm[K T2u', 'latin1'), expect: Buffer.from('fQJ,fN/4F4!~K~MH', 'latin1').toString('hex') });
cases.push({ kind: 'vector', k1: '4 @1  46546xW%0l 1 5', k2: '12998 5 Y3 1  .P00',
  key3: Buffer.from('^n:ds[4U', 'latin1'), expect: Buffer.from("8jKS'y:G*Co,Wxa-", 'latin1').toString('hex') });
for (let i = 0; i < COUNT; i++) {
  const key3 = crypto.randomBytes(8);
  const r = rand(100);
  if (r < 80) {
    const k1 = validKey(), k2 = validKey();
    cases.push({ kind: 'valid', k1, k2, key3, expect: driverAnswer(k1, k2, key3) });
  } else if (r < 95) {
    const kind = ['not-a-multiple', 'no-spaces', 'no-digits'][rand(3)];
    const bad = invalidKey(kind), good = validKey();
    const [k1, k2] = rand(2) ? [bad, good] : [good, bad];
    cases.push({ kind, k1, k2, key3, expect: driverAnswer(k1, k2, key3) });
  } else if (r < 98) {
    // Key number above 4294967295 with a quotient that fits: the draft refuses.
    const spaces = 2 + rand(11);
    const quotient = Math.floor(4294967296 / spaces) + 1 + rand(1000);
    const k1 = makeKey(quotient, spaces, rand(5)), k2 = validKey();
    cases.push({ kind: 'too-big (draft rule)', k1, k2, key3, expect: 'refused' });
  } else {
    // Key number 0: valid in the draft (quotient 0).
    const k1 = makeKey(0, 1 + rand(12), 1 + rand(6)), k2 = validKey();
    const n2 = Number(k2.replace(/[^0-9]/g, '')) / (k2.match(/ /g) || []).length;
    cases.push({ kind: 'zero (draft rule)', k1, k2, key3, expect: draftAnswer(0, n2, key3) });
  }
}
// The driver must itself reproduce the vectors, or the comparison means nothing.
for (const c of cases.filter((c) => c.kind === 'vector')) {
  const got = driverAnswer(c.k1, c.k2, c.key3);
  if (got !== c.expect) {
    console.error(`websocket-driver does not reproduce the draft vector: ${got} != ${c.expect}`);
    process.exit(1);
  }
}

// Each category must get the verdict its rule gives, from the driver too: otherwise
// two refusals could "agree" on a key that should have been answered.
for (const c of cases) {
  const refused = c.expect === 'refused';
  const shouldRefuse = !['vector', 'valid', 'zero (draft rule)'].includes(c.kind);
  if (refused !== shouldRefuse) {
    console.error(`websocket-driver ${refused ? 'refused' : 'answered'} a ${c.kind} case: ` +
      `key1=${JSON.stringify(c.k1)} key2=${JSON.stringify(c.k2)}`);
    process.exit(1);
  }
}

const input = cases.map((c) => `${c.k1}\t${c.k2}\t${c.key3.toString('hex')}\n`).join('');
const run = spawnSync(binary, [], { input, encoding: 'latin1', maxBuffer: 64 << 20, timeout: 120000 });
if (run.status !== 0) {
  console.error(`${binary} failed (status ${run.status}): ${run.stderr || run.error}`);
  process.exit(1);
}
const lines = run.stdout.split('\n').filter((l) => l !== '');
if (lines.length !== cases.length) {
  console.error(`expected ${cases.length} answers, got ${lines.length}`);
  process.exit(1);
}
const tally = {};
let mismatches = 0;
cases.forEach((c, i) => {
  const ours = lines[i].startsWith('refused') ? 'refused' : lines[i];
  const t = (tally[c.kind] = tally[c.kind] || { same: 0, different: 0 });
  if (ours === c.expect) {
    t.same++;
  } else {
    t.different++;
    if (mismatches++ < 10) {
      console.error(`MISMATCH (${c.kind}): key1=${JSON.stringify(c.k1)} key2=${JSON.stringify(c.k2)} ` +
        `key3=${c.key3.toString('hex')}: stdws ${lines[i]}, expected ${c.expect}`);
    }
  }
});
for (const [kind, t] of Object.entries(tally)) console.log(`  ${kind}: ${t.same} agree, ${t.different} differ`);
const valid = (tally.valid || { same: 0 }).same;
if (mismatches > 0 || valid < COUNT / 2) {
  console.log(`hixie-76 challenge: ${cases.length - mismatches} passed, ${mismatches} failed`);
  process.exit(1);
}
console.log(`hixie-76 challenge: stdws and websocket-driver agree on all ${cases.length} cases`);
