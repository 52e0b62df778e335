// Server emits: several arguments, none, one array, volatile; emit_with_ack answered by the
// client's callback (in any order), with several answer arguments, with the wrong type, and
// never answered (the server's timeout), pending when the socket leaves.
import { assert, checkTransports, connected, next, scenario, socket } from "../lib.mjs";

scenario(async () => {
  const s = socket();
  const got = {};
  for (const name of ["hello", "nothing", "one-array", "spread", "volatile"]) {
    s.on(name, (...args) => {
      got[name] = args;
    });
  }
  s.on("question", (q, answer) => answer(`answer to ${q}`));
  s.on("ignored", () => {});
  s.on("never", () => {});
  s.on("many", (a, b, answer) => answer(a, b, "three"));
  s.on("wrong-type", (answer) => answer("not a number"));
  s.on("slow", (answer) => setTimeout(() => answer("slow"), 50));
  s.on("fast", (answer) => answer("fast"));
  const finished = next(s, "finished");
  await connected(s);
  await finished;
  assert.deepEqual(got.hello, ["world", 42, { a: [1, 2] }]);
  assert.deepEqual(got.nothing, []);
  assert.deepEqual(got["one-array"], [[1, 2, 3]]);
  assert.deepEqual(got.spread, [1, 2, 3], "a sequence is one argument per element");
  assert.deepEqual(got.volatile, ["v"]);
  assert.equal(await checkTransports(), 1);
  // The server disconnects us while it waits for the answer to "never".
  const gone = next(s, "disconnect");
  s.emit("bye");
  assert.equal((await gone)[0], "io server disconnect");
  return {};
}, { checkTransport: false });
