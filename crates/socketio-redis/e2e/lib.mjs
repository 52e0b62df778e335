// Helpers of the e2e tests: start our cluster nodes and Node's, connect official clients.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { io as connect } from "socket.io-client";

export const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.CLUSTER_NODE_BIN;
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/";
// Below 32768, out of the kernel's range for client ports.
export const OWN_REDIS_PORT = 26380;
export const WAIT = 10_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, check, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function started(child, name) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.stderr.on("data", (d) => process.stderr.write(`[${name}] ${d}`));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = /^LISTENING (\d+)/.exec(line);
      if (m) resolve({ name, child, port: Number(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`${name} exited (${code})`)));
  });
}

export function startRust(url, key, name, mode) {
  assert.ok(BIN, "CLUSTER_NODE_BIN must name the built examples/cluster_node binary");
  const args = ["--redis", url, "--key", key, "--name", name];
  if (mode !== "classic") args.push(`--${mode}`);
  return started(spawn(BIN, args), name);
}

export function startNode(url, key, name, mode) {
  return started(spawn(process.execPath, [join(here, "node-server.mjs"), url, key, name, mode]), name);
}

export function stop(server) {
  server.child.kill("SIGKILL");
}

/** A client of `server`: records every "news" it gets and answers "ask". */
export async function client(server, label, options = {}) {
  const socket = connect(`http://127.0.0.1:${server.port}`, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  socket.label = label;
  socket.news = [];
  socket.on("news", (data) => socket.news.push(data));
  socket.on("bin", (tag, bytes) => socket.news.push(`${tag}:${Buffer.from(bytes).toString("hex")}`));
  socket.on("ask", (data, cb) => cb({ client: label, data }));
  if (options.autoConnect === false) return socket;
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

export const call = (socket, event, ...args) => socket.timeout(WAIT).emitWithAck(event, ...args);

export const got = (socket, data) => waitFor(`${socket.label} to receive ${JSON.stringify(data)}`, () =>
  socket.news.some((d) => JSON.stringify(d) === JSON.stringify(data)));

export async function cluster(url, key, mode = "classic") {
  const servers = await Promise.all([
    startRust(url, key, "rust-1", mode),
    startRust(url, key, "rust-2", mode),
    startNode(url, key, "node-1", mode),
  ]);
  const clients = [];
  for (const [i, server] of servers.entries()) clients.push(await client(server, `c${i}`));
  // Every node sees the three servers (PUBSUB NUMSUB of the request channel).
  for (const c of clients) await waitFor("3 servers", async () => (await call(c, "server-count")) === 3);
  return { servers, clients };
}

