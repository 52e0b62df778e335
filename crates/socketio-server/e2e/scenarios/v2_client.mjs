// Protocol v4 (Engine.IO v3): the socket.io-client 2.x against a server with allowEIO3. The
// main namespace is joined without a CONNECT; other namespaces carry their auth as a query.
import { createRequire } from "node:module";
import { assert, bytes, next, scenario, TRANSPORT, URL, within } from "../lib.mjs";

const ioV2 = createRequire(import.meta.url)("socket.io-client-v2");

function open(nsp, more = {}) {
  const opts = { forceNew: true, reconnection: false, ...more };
  if (TRANSPORT !== "upgrade") opts.transports = [TRANSPORT];
  return ioV2(URL + nsp, opts);
}

function connected(s) {
  return within(
    new Promise((resolve, reject) => {
      s.once("connect", () => resolve(s));
      s.once("error", reject);
      s.once("connect_error", reject);
    }),
    `connect ${s.nsp}`,
  );
}

function call(s, event, ...args) {
  return within(new Promise((resolve) => s.emit(event, ...args, (...answer) => resolve(answer))), event);
}

scenario(
  async () => {
    const s = open("/", { query: { x: "1" } });
    const hello = next(s, "hello");
    s.on("question", (q, answer) => answer(`answer to ${q}`));
    await connected(s);
    const [h] = await hello;
    assert.equal(h.id, s.id);
    assert.equal(h.x, "1");
    assert.equal(h.eio, "3");

    assert.deepEqual(await call(s, "echo", 1, "two", { three: [3] }), [1, "two", { three: [3] }]);
    const [length, reversed] = await call(s, "bin", Buffer.from([1, 2, 3]));
    assert.equal(length, 3);
    assert.deepEqual([...bytes(reversed)], [3, 2, 1]);
    const [mismatch] = await call(s, "number", "not a number");
    assert.match(mismatch.message, /^invalid arguments: /);
    const binary = next(s, "binary");
    assert.deepEqual(await call(s, "ask-me"), ["answer to q1"]);
    const [fromServer] = await binary;
    assert.deepEqual([...bytes(fromServer)], [9, 8]);

    // Another namespace, with its auth as a query.
    const admin = open("/admin", { query: { token: "t" } });
    const welcome = next(admin, "welcome");
    await connected(admin);
    assert.deepEqual((await welcome)[0], { nsp: "/admin", auth: { token: "t" } });

    // A middleware refuses: the 2.x client gets an `error` event with the message.
    const refused = open("/private");
    const error = await within(
      new Promise((resolve) => refused.once("error", resolve)),
      "the middleware's error",
    );
    assert.equal(error, "not authorized");

    // Broadcast, then the server disconnects the socket.
    const news = [next(s, "news"), next(admin, "news")];
    s.emit("broadcast");
    assert.deepEqual(await Promise.all(news), [["to /"], ["to /admin"]]);
    const expected = TRANSPORT === "polling" ? "polling" : "websocket";
    if (TRANSPORT === "upgrade" && s.io.engine.transport.name !== "websocket") {
      await within(new Promise((resolve) => s.io.engine.once("upgrade", resolve)), "upgrade");
    }
    assert.equal(s.io.engine.transport.name, expected);
    const gone = next(s, "disconnect");
    s.emit("kick");
    assert.equal((await gone)[0], "io server disconnect");
    admin.close();
    refused.close();
    return {};
  },
  { checkTransport: false },
);
