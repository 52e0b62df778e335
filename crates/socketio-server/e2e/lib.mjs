// Shared by every scenario. A scenario runs as
//
//   node scenarios/NAME.mjs URL VARIANT [ARGS_JSON]
//
// where VARIANT is TRANSPORT/PARSER: TRANSPORT is `polling` (long-polling only), `websocket`
// (WebSocket only) or `upgrade` (the client's default: polling, then the WebSocket upgrade), and
// PARSER is `json` (the default parser) or `msgpack` (socket.io-msgpack-parser). It prints one
// line `REPORT <json>` with what the client saw, for the Rust test (tests/e2e_node) to check
// together with what the server saw, and exits 0; any failed assertion exits 1.
import assert from "node:assert/strict";
import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

const [url, variant = "websocket/json", extra = "{}"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node scenarios/NAME.mjs URL TRANSPORT/PARSER [ARGS_JSON]");
  process.exit(2);
}
export const URL = url.replace(/\/$/, "");
export const [TRANSPORT, PARSER] = variant.split("/");
export const ARGS = JSON.parse(extra);
assert.ok(["polling", "websocket", "upgrade"].includes(TRANSPORT), `transport ${TRANSPORT}`);
assert.ok(["json", "msgpack"].includes(PARSER), `parser ${PARSER}`);

// Longest a scenario may take; the server side waits for it.
const SCENARIO_TIMEOUT_MS = 30_000;
// Longest any single wait inside a scenario may take.
export const WAIT_MS = 10_000;

/** Client options for this variant; `more` wins. Reconnection is off unless asked for. */
export function options(more = {}) {
  const opts = { forceNew: true, reconnection: false, timeout: WAIT_MS };
  if (TRANSPORT !== "upgrade") opts.transports = [TRANSPORT];
  if (PARSER === "msgpack") opts.parser = msgpackParser;
  return { ...opts, ...more };
}

const managers = [];

function watch(manager) {
  managers.push(manager);
  return manager;
}

/** A socket.io-client socket on `nsp`, its own connection unless `more.forceNew` is false. */
export function socket(nsp = "/", more = {}) {
  const s = io(URL + nsp, options(more));
  watch(s.io);
  return s;
}

/** A Manager: several namespaces over one connection (`manager.socket(nsp)`). */
export function manager(more = {}) {
  return watch(new Manager(URL, options(more)));
}

/** Resolves once `s` is connected; rejects with the connect_error. */
export function connected(s) {
  if (s.connected) return Promise.resolve(s);
  return within(
    new Promise((resolve, reject) => {
      s.once("connect", () => resolve(s));
      s.once("connect_error", reject);
    }),
    `connect ${s.nsp}`,
  );
}

/** Connects a new socket and resolves once it is connected. */
export function connect(nsp = "/", more = {}) {
  return connected(socket(nsp, more));
}

/** The connect_error of `s` (fails if it connects). */
export function connectError(s) {
  return within(
    new Promise((resolve, reject) => {
      s.once("connect", () => reject(new Error(`${s.nsp} connected, expected connect_error`)));
      s.once("connect_error", resolve);
    }),
    `connect_error ${s.nsp}`,
  );
}

/** The arguments of the next `name` event of `emitter`. */
export function next(emitter, name) {
  const what = emitter.nsp ? `${name} on ${emitter.nsp} (${emitter.id})` : name;
  return within(new Promise((resolve) => emitter.once(name, (...args) => resolve(args))), what);
}

/** Notes progress on stderr: shown when the scenario fails. */
export function step(what) {
  console.error(`[${new Date().toISOString()}] ${what}`);
}

/** Rejects after WAIT_MS: every wait of a scenario is bounded. */
export function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `emitWithAck` with a bounded wait; resolves to the first argument of the answer. */
export function ask(s, event, ...args) {
  return s.timeout(WAIT_MS).emitWithAck(event, ...args);
}

/** Records every event `s` receives, as [event, ...args] (ack callbacks left out). */
export function record(s) {
  const got = [];
  s.onAny((...args) => got.push(args.filter((a) => typeof a !== "function")));
  return got;
}

/** Waits until `predicate()` is true (checked every 10 ms). */
export async function until(predicate, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Node Buffer of anything binary the client received. */
export function bytes(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error(`not binary: ${JSON.stringify(data)}`);
}

/**
 * Checks that the transports in use are the variant's: every connection that is still open is on
 * the expected transport (for `upgrade`, waits for the upgrade to WebSocket). Resolves to how many
 * are open. Scenarios that end with every connection closed call it before.
 */
export async function checkTransports() {
  const expected = TRANSPORT === "polling" ? "polling" : "websocket";
  let open = 0;
  for (const m of managers) {
    const engine = m.engine;
    if (m._readyState !== "open" || !engine || engine.readyState !== "open") continue;
    open += 1;
    if (TRANSPORT === "upgrade" && engine.transport.name !== "websocket") {
      await within(new Promise((resolve) => engine.once("upgrade", resolve)), "the upgrade");
    }
    assert.equal(engine.transport.name, expected, "transport in use");
  }
  return open;
}

/**
 * Runs a scenario: `main` returns the report. Prints it and exits 0, or prints the error and
 * exits 1. `checkTransport: false` for scenarios that end with every connection closed.
 */
export function scenario(main, { checkTransport = true } = {}) {
  const guard = setTimeout(() => {
    console.error(`scenario timed out after ${SCENARIO_TIMEOUT_MS} ms`);
    process.exit(1);
  }, SCENARIO_TIMEOUT_MS);
  (async () => {
    const report = (await main()) ?? {};
    if (checkTransport) {
      const open = await checkTransports();
      assert.ok(open > 0, "no connection left open to check the transport of");
    }
    clearTimeout(guard);
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
    for (const m of managers) m._close?.();
    process.exit(0);
  })().catch((error) => {
    console.error(`${TRANSPORT}/${PARSER}:`, error?.stack ?? error);
    process.exit(1);
  });
}

export { assert };
