#!/usr/bin/env node
// Drives Debian's headless Chromium (/usr/bin/chromium, through npm playwright-core;
// no browser is downloaded) to open browser-echo.html from a file:// URL, which echoes
// three messages through a WebSocket server and closes with 1000.
//
//   node browser-echo.js ws://127.0.0.1:PORT/PATH
//
// Exits 0 when the page reports every echo byte for byte and a clean close with 1000.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const url = process.argv[2];
if (!url) {
  console.error('usage: node browser-echo.js ws://127.0.0.1:PORT/PATH');
  process.exit(2);
}
const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const page = 'file://' + path.join(__dirname, 'browser-echo.html') +
  `?url=${encodeURIComponent(url)}&token=${encodeURIComponent(token)}`;

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stdws-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const tab = await context.newPage();
    await tab.goto(page, { timeout: 30000 });
    await tab.waitForFunction(() => window.result !== null, null, { timeout: 30000 });
    const result = await tab.evaluate(() => window.result);
    console.log(`  chromium ${context.browser()?.version() ?? ''}`);
    for (const line of result.steps) console.log(`  ${line}`);
    return result;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then((result) => {
  console.log(`chromium: ${result.ok ? 'PASS' : 'FAIL'}: ${result.detail}`);
  process.exit(result.ok ? 0 : 1);
}, (e) => {
  console.log(`chromium: FAILED: ${e.message}`);
  process.exit(1);
});
