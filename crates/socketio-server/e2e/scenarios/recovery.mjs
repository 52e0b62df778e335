// Connection state recovery: the client loses its connection and comes back with the same
// socket id, rooms and data, and the packets it missed (not the volatile ones, not those meant
// for others), with offsets; leaving the namespace on purpose is not recoverable.
import { assert, ask, connected, next, scenario, socket } from "../lib.mjs";

scenario(async () => {
  // The server must have seen the old transport close (and stored the session) before the
  // client comes back; 50 ms was not always enough on a loaded 2-core machine, so wait longer.
  const s = socket("/", { reconnection: true, reconnectionDelay: 400, reconnectionDelayMax: 800 });
  const got = [];
  s.onAny((...args) => got.push(args));
  await connected(s);
  const first = s.id;
  assert.equal(s.recovered, false);
  assert.deepEqual(await ask(s, "state"), { recovered: false, rooms: [first, "room-r"], data: 1 });

  // Lose the connection: the server sends what we miss meanwhile.
  const back = next(s, "connect");
  s.io.engine.close();
  await back;
  assert.equal(s.recovered, true);
  assert.equal(s.id, first);
  assert.deepEqual(await ask(s, "state"), { recovered: true, rooms: [first, "room-r"], data: 2 });
  const names = got.map(([event]) => event);
  assert.deepEqual(names, ["welcome", "missed", "missed", "missed", "welcome"]);
  for (const args of got) {
    assert.equal(typeof args.at(-1), "string", `an offset ends ${JSON.stringify(args)}`);
  }
  assert.deepEqual(
    got.filter(([e]) => e === "missed").map(([, n]) => n),
    ["to room", "to socket", "to all"],
  );
  assert.deepEqual(
    got.filter(([e]) => e === "welcome").map(([, recovered]) => recovered),
    [false, true],
  );

  // Leaving on purpose: a new session.
  s.disconnect();
  s.connect();
  await connected(s);
  assert.equal(s.recovered, false);
  assert.notEqual(s.id, first);
  assert.deepEqual(await ask(s, "state"), { recovered: false, rooms: [s.id, "room-r"], data: 1 });
  return {};
});
