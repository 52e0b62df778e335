// Rooms (join, leave, rooms) and every broadcast operator: to / in (one room, several, chained),
// except, a socket's own room, socket.broadcast / to / in / except (sender excluded), volatile,
// local, compress; broadcast emit_with_ack collecting from several clients, with a timeout.
import { assert, bytes, scenario } from "../lib.mjs";
import { threeClients } from "../rooms.mjs";

scenario(async () => {
  const { trigger, expectNews } = await threeClients();

  await expectNews("to-r1", ["a", "b"]);
  await expectNews("in-r2", ["b", "c"]);
  await expectNews("to-r1-r2", ["a", "b", "c"]);
  await expectNews("to-r1-to-r2", ["a", "b", "c"]);
  await expectNews("to-r1-except-r2", ["a"]);
  await expectNews("except-r1", ["c"]);
  await expectNews("except-b", ["a", "c"]);
  await expectNews("to-c", ["c"]);
  await expectNews("to-empty-room", []);
  await expectNews("broadcast", ["b", "c"]);
  await expectNews("socket-to-r1", ["b"]);
  await expectNews("socket-in-r2", ["b", "c"]);
  await expectNews("socket-except-r2", []);
  await expectNews("socket-emit", ["a"]);
  await expectNews("volatile", ["a", "b", "c"]);
  await expectNews("local", ["a", "b", "c"]);
  await expectNews("compress", ["a", "b", "c"]);
  await expectNews("flags-to-r1", ["a", "b"]);
  await expectNews("namespace-to-r2", ["b", "c"]);

  // Binary to several clients (encoded once, shared).
  const [, binary] = await trigger("binary-r1");
  assert.deepEqual(Object.keys(binary).sort(), ["a", "b"]);
  for (const got of Object.values(binary)) {
    assert.equal(got.length, 1);
    const [op, data] = got[0];
    assert.equal(op, "binary-r1");
    assert.deepEqual([...bytes(data)], [1, 2, 3]);
  }

  const answers = async (op) => (await trigger(op))[0];
  assert.deepEqual(await answers("ack-all"), { ok: ["a:q", "b:q", "c:q"] });
  assert.deepEqual(await answers("ack-r1"), { ok: ["a:q", "b:q"] });
  assert.deepEqual(await answers("ack-r1-no-timeout"), { ok: ["a:q", "b:q"] });
  assert.deepEqual(await answers("ack-broadcast"), { ok: ["b:q", "c:q"] });
  assert.deepEqual(await answers("ack-empty"), { ok: [] });
  assert.deepEqual(await answers("ack-binary"), { ok: ["a", "b", "c"] });
  // No other server with the in-memory adapter: no answers.
  assert.deepEqual(await answers("server-side-emit"), { ok: [] });
  assert.deepEqual(await answers("ack-partial"), {
    error: "operation has timed out",
    responses: ["b"],
    expected: 2,
  });
  return {};
});
