// Catch-all listeners: on_any / prepend_any (order), off_any (one, all), on_any even for an
// event a packet middleware refuses, on_any_outgoing (emits and broadcasts, not acks).
import { assert, ask, connect, next, scenario } from "../lib.mjs";

scenario(async () => {
  const s = await connect();
  const toClient = next(s, "to-client");
  const toAll = next(s, "to-all");
  s.emit("e1", 1, 2);
  assert.deepEqual(await ask(s, "emit-to-me"), "ack-arg");
  assert.deepEqual(await toClient, [1, "x"]);
  assert.deepEqual(await toAll, ["y"]);
  s.emit("refused", true);
  await ask(s, "off-any2");
  s.emit("e2");
  await ask(s, "off-all");
  s.emit("e3", { k: 1 });
  const afterOff = next(s, "after-off");
  await ask(s, "off-outgoing");
  await afterOff;
  await ask(s, "done");
  return {};
});
