// The official engine.io-client against our server. The server under test runs elsewhere
// (tests/e2e_node.rs starts an echo server with pingInterval 300 ms, pingTimeout 200 ms,
// maxPayload 1e6) and passes its address in EIO_URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";

const URL = process.env.EIO_URL ?? "http://127.0.0.1:3000";

function open(options) {
  const socket = new Socket(URL, options);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

function nextMessages(socket, count) {
  return new Promise((resolve) => {
    const got = [];
    const onMessage = (data) => {
      got.push(data);
      if (got.length === count) {
        socket.off("message", onMessage);
        resolve(got);
      }
    };
    socket.on("message", onMessage);
  });
}

function closed(socket) {
  return new Promise((resolve) => socket.once("close", (reason) => resolve(reason)));
}

const asBytes = (data) => Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);

for (const transports of [["polling"], ["websocket"]]) {
  test(`${transports[0]} only: text, binary and order`, async () => {
    const socket = await open({ transports });
    assert.equal(socket.transport.name, transports[0]);
    const echoes = nextMessages(socket, 12);
    for (let i = 0; i < 10; i++) socket.send(`m${i}`);
    socket.send(Uint8Array.from([1, 2, 3]));
    socket.send("last");
    const got = await echoes;
    assert.deepEqual(got.slice(0, 10), [...Array(10).keys()].map((i) => `m${i}`));
    assert.deepEqual([...asBytes(got[10])], [1, 2, 3]);
    assert.equal(got[11], "last");
    socket.close();
  });

  test(`${transports[0]} only: large payloads`, async () => {
    const socket = await open({ transports });
    const big = "x".repeat(500_000);
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const echoes = nextMessages(socket, 2);
    socket.send(big);
    socket.send(bytes);
    const [text, binary] = await echoes;
    assert.equal(text, big);
    assert.ok(asBytes(binary).equals(Buffer.from(bytes)));
    socket.close();
  });
}

test("polling then upgrade: nothing lost or reordered", async () => {
  const socket = await open({});
  assert.equal(socket.transport.name, "polling");
  const echoes = nextMessages(socket, 250);
  const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
  // Sent before the probe, while the WebSocket is probed (the client buffers while paused),
  // and after the switch.
  for (let i = 0; i < 100; i++) socket.send(`a${i}`);
  socket.once("upgrading", () => {
    for (let i = 0; i < 50; i++) socket.send(`u${i}`);
  });
  await upgraded;
  assert.equal(socket.transport.name, "websocket");
  for (let i = 0; i < 100; i++) socket.send(`b${i}`);
  const got = await echoes;
  const seq = (prefix, n) => [...Array(n).keys()].map((i) => `${prefix}${i}`);
  assert.deepEqual(got, [...seq("a", 100), ...seq("u", 50), ...seq("b", 100)]);
  socket.close();
});

for (const transports of [["polling"], ["websocket"]]) {
  test(`${transports[0]}: a client that stops answering pings is closed`, async () => {
    const socket = await open({ transports });
    // Swallow the pongs the client would send.
    const sendPacket = socket._sendPacket ?? socket.sendPacket;
    const name = socket._sendPacket ? "_sendPacket" : "sendPacket";
    socket[name] = function (type, ...rest) {
      if (type === "pong") return;
      return sendPacket.call(this, type, ...rest);
    };
    const started = Date.now();
    const reason = await closed(socket);
    // pingInterval + pingTimeout is 500 ms; the server closes its side, the client sees it.
    assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
    assert.ok(typeof reason === "string", reason);
  });
}

test("server close reaches the client", async () => {
  const socket = await open({ transports: ["websocket"] });
  const reason = closed(socket);
  socket.send("please close");
  assert.equal(await reason, "transport close");
});
