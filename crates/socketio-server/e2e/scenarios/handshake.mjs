// Handshake fields as the server sees them (headers, query, auth, address, url, issued), the
// socket and engine ids, and typed per-socket data set by a middleware.
import { assert, connected, ask, next, scenario, socket, TRANSPORT } from "../lib.mjs";

scenario(async () => {
  const before = Date.now();
  const s = socket("/", {
    auth: { name: "ada", n: 1 },
    query: { x: "1", room: "a/b c" },
    extraHeaders: { "x-e2e": "hello" },
  });
  const handshake = next(s, "handshake");
  await connected(s);
  const [h] = await handshake;
  const after = Date.now();
  const first = TRANSPORT === "websocket" ? "websocket" : "polling";

  assert.equal(h.id, s.id, "socket id");
  assert.notEqual(h.id, s.io.engine.id, "the socket id is not the engine id");
  assert.equal(h.engineId, s.io.engine.id, "engine id");
  assert.deepEqual(h.auth, { name: "ada", n: 1 });
  assert.deepEqual(h.query, { x: "1", room: "a/b c", EIO: "4", transport: first });
  assert.equal(h.header, "hello");
  assert.equal(h.address, "127.0.0.1");
  assert.ok(h.url.startsWith("/socket.io/?"), h.url);
  assert.ok(h.url.includes(`transport=${first}`), h.url);
  assert.ok(h.url.includes("room=a%2Fb%20c"), h.url);
  assert.equal(typeof h.issued, "number");
  // The same clock on both sides: the server stamped the connection while the client waited.
  assert.ok(h.issued >= before - 1000 && h.issued <= after + 1000, `issued ${h.issued}`);
  assert.equal(h.time, h.issued);
  assert.equal(h.secure, false);

  // socket.data, set by the middleware from the auth payload, then changed by a handler.
  assert.equal(await ask(s, "whoami"), "ada");
  await ask(s, "rename", "bob");
  assert.equal(await ask(s, "whoami"), "bob");
  return { id: s.id, engineId: s.io.engine.id };
});
