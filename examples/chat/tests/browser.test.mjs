// The chat in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// three people chat, see each other, the typing indicator, private and channel messages reach
// only whom they are for, and the pages reconnect by themselves when the server restarts.
//
//   cargo build -p chat && (cd examples && npm ci) && node --test examples/chat/tests/
//
// CHAT_BIN (default target/debug/chat), CHROMIUM (default /usr/bin/chromium) and
// CHAT_SCREENSHOT (default <tmp>/chat.png) override the paths. scripts/test-all runs this.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.CHAT_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'debug/chat');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.CHAT_SCREENSHOT ?? path.join(os.tmpdir(), 'chat.png');
// The flags this machine needs (no sandbox as root, no background traffic to the outside).
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// Upper bound for anything to show up; a broken feature fails the test after it, a working one
// passes as soon as the page shows it.
const WAIT = { timeout: 15000 };

let server;
let browser;
const pages = {};
const pageErrors = [];

// ---- the server ---------------------------------------------------------------------------

/** Starts the chat on `port` (0: any free port); resolves once it listens. */
function startServer(port) {
  const proc = spawn(BIN, ['--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'chat=info,socketio_server=warn' },
  });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/chat listening on (http:\/\/\S+:(\d+))/);
      if (found) resolve({ proc, url: found[1], port: Number(found[2]), log: () => log });
    });
    proc.on('exit', (code) => reject(new Error(`chat exited with ${code}:\n${log}`)));
    proc.on('error', reject);
  });
}

async function killServer() {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = once(server.proc, 'exit');
  process.kill(server.proc.pid, 'SIGKILL');
  await exited;
}

// ---- the pages ----------------------------------------------------------------------------

async function login(nickname) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 620 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${nickname}: ${error.message}`));
  await page.goto(server.url);
  await page.fill('#nickname', nickname);
  await page.click('#login button');
  await page.waitForSelector('#app:not([hidden])', WAIT);
  pages[nickname] = page;
  return page;
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Waits until `page` shows a message with `text` in the open conversation. */
async function seesMessage(page, text) {
  await page.locator('#messages li.msg .text', { hasText: text }).first().waitFor(WAIT);
}

/** Every message text the page received, in any conversation. */
function received(page) {
  return page.evaluate(() =>
    [...window.chat.state.conversations.values()].flatMap((c) => c.items.filter((i) => i.text).map((i) => i.text)),
  );
}

/** Waits until the page holds `text` in conversation `key` (shown or not). */
async function holds(page, key, text) {
  await page.waitForFunction(
    ([key, text]) => window.chat.state.conversations.get(key)?.items.some((i) => i.text === text),
    [key, text],
    WAIT,
  );
}

async function users(page) {
  return page.locator('#users li').allTextContents();
}

async function waitUsers(page, expected) {
  await page.waitForFunction(
    (expected) => JSON.stringify([...document.querySelectorAll('#users li')].map((li) => li.dataset.user)) === JSON.stringify(expected),
    expected,
    WAIT,
  );
}

// ---- the scenarios --------------------------------------------------------------------------

before(async () => {
  server = await startServer(0);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  if (server) await killServer();
});

test('two people chat: nicknames, typing indicator, messages, delivery', async () => {
  const alice = await login('alice');
  const bob = await login('bob');
  await waitUsers(alice, ['alice', 'bob']);
  await waitUsers(bob, ['alice', 'bob']);
  assert.deepEqual(await users(alice), ['alice (you)', 'bob']);
  await alice.locator('#messages li.notice', { hasText: 'bob joined the chat' }).waitFor(WAIT);

  // Typing shows on the other side, and goes away when the message comes.
  await alice.focus('#text');
  await alice.keyboard.type('hello b');
  await bob.locator('#typing', { hasText: 'alice is typing…' }).waitFor(WAIT);
  await alice.keyboard.type('ob');
  await alice.press('#text', 'Enter');
  await seesMessage(bob, 'hello bob');
  await bob.waitForFunction(() => document.querySelector('#typing').textContent === '', null, WAIT);
  await alice.locator('#messages li.msg.mine', { hasText: 'hello bob' }).locator('.state.delivered').waitFor(WAIT);

  await say(bob, 'hi alice!');
  await seesMessage(alice, 'hi alice!');

  const carol = await login('carol');
  await waitUsers(alice, ['alice', 'bob', 'carol']);
  await alice.locator('#messages li.notice', { hasText: 'carol joined the chat' }).waitFor(WAIT);
  // A newcomer gets the channel's recent history.
  await seesMessage(carol, 'hi alice!');
});

test('a private message reaches only its recipient', async () => {
  const { alice, bob, carol } = pages;
  await alice.click('#users li[data-user="bob"]');
  assert.equal(await alice.textContent('#conversation-title'), '@bob');
  await say(alice, 'psst, only for bob');
  await holds(bob, '@alice', 'psst, only for bob');
  await bob.locator('#directs li[data-direct="@alice"] .badge').waitFor(WAIT);
  // Delivered: bob's page acknowledged it.
  await alice.locator('#messages li.msg.mine', { hasText: 'psst' }).locator('.state.delivered').waitFor(WAIT);

  // Packets reach each page in order: once carol has the message sent after the private one,
  // she would have had the private one too, had it been sent to her.
  await alice.click('#channels li[data-channel="#general"]');
  await say(alice, 'marker after the private message');
  await holds(carol, '#general', 'marker after the private message');
  assert.ok(!(await received(carol)).includes('psst, only for bob'), 'carol got the private message');
  assert.ok(!(await received(carol)).some((t) => t.includes('psst')));
});

test('a channel message reaches only the channel', async () => {
  const { alice, bob, carol } = pages;
  // bob creates #rust with the form; alice joins it from the channel list.
  await bob.fill('#join-name', 'rust');
  await bob.press('#join-name', 'Enter');
  await bob.waitForFunction(() => document.querySelector('#conversation-title').textContent === '#rust', null, WAIT);
  await alice.locator('#channels li[data-channel="#rust"]').click();
  await alice.waitForFunction(() => document.querySelector('#conversation-title').textContent === '#rust', null, WAIT);
  await bob.locator('#messages li.notice', { hasText: 'alice joined #rust' }).waitFor(WAIT);

  await say(alice, 'rust people only');
  await seesMessage(bob, 'rust people only');

  await say(bob, 'marker after the channel message');
  await bob.click('#channels li[data-channel="#general"]');
  await say(bob, 'marker in general');
  await holds(carol, '#general', 'marker in general');
  const carolGot = await received(carol);
  assert.ok(!carolGot.includes('rust people only'), 'carol got a #rust message');
  assert.ok(!carolGot.includes('marker after the channel message'));
  // carol sees the channel exists, and can join it.
  await carol.locator('#channels li[data-channel="#rust"].available').waitFor(WAIT);
});

test('after a server restart the pages reconnect and the chat goes on', async () => {
  const { alice, bob, carol } = pages;
  await bob.click('#channels li[data-channel="#rust"]');
  const port = server.port;
  await killServer();
  for (const page of [alice, bob, carol]) {
    await page.locator('#status', { hasText: 'reconnecting' }).waitFor(WAIT);
  }
  await alice.locator('#messages li.notice.alert', { hasText: 'Connection lost' }).waitFor(WAIT);

  // Same port: the pages know only that address. The old sockets may linger for a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      server = await startServer(port);
      break;
    } catch (error) {
      if (attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  for (const page of [alice, bob, carol]) {
    await page.locator('#messages li.notice', { hasText: 'Reconnected.' }).waitFor(WAIT);
    await waitUsers(page, ['alice', 'bob', 'carol']);
  }
  // alice and bob are back in #rust (the page told the new server where it was).
  assert.equal(await alice.textContent('#conversation-title'), '#rust');
  await say(alice, 'still here after the restart');
  await seesMessage(bob, 'still here after the restart');
  await alice.locator('#messages li.msg.mine', { hasText: 'still here' }).locator('.state.delivered').waitFor(WAIT);

  await alice.click('#channels li[data-channel="#general"]');
  await say(carol, 'welcome back, everyone');
  await seesMessage(alice, 'welcome back, everyone');
  assert.ok(!(await received(carol)).includes('still here after the restart'));

  // The picture for the README: alice's page, with bob typing.
  await bob.click('#channels li[data-channel="#general"]');
  await bob.focus('#text');
  await bob.keyboard.type('glad it');
  await alice.locator('#typing', { hasText: 'bob is typing…' }).waitFor(WAIT);
  await alice.screenshot({ path: SCREENSHOT });
  console.log(`screenshot: ${SCREENSHOT}`);
  assert.deepEqual(pageErrors, []);
});
