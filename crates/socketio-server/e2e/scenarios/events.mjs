// Client events with 0..n arguments, with and without acknowledgement, typed arguments, a type
// mismatch (the ack receives the error), handler errors, several handlers, packet middleware.
import { assert, connect, ask, scenario, within } from "../lib.mjs";

/** Emits with an ack callback and resolves to every argument of the answer. */
function call(s, event, ...args) {
  return within(new Promise((resolve) => s.emit(event, ...args, (...answer) => resolve(answer))), event);
}

scenario(async () => {
  const s = await connect();

  s.emit("zero");
  s.emit("zero", 1, 2);
  s.emit("raw");
  s.emit("raw", 1);
  s.emit("raw", 1, "two", { three: [3, null, true] });

  assert.deepEqual(await call(s, "typed", 1, "two", [true, false]), [2, "TWO", 2]);
  assert.deepEqual(await call(s, "point", { x: 1.5, y: -2, label: "p" }), [
    { x: -2, y: 1.5, label: "P" },
  ]);
  assert.deepEqual(await call(s, "optional"), [true]);
  assert.deepEqual(await call(s, "optional", "here"), [false]);
  assert.deepEqual(await call(s, "no-answer"), [], "an ack with no arguments");
  assert.equal(await ask(s, "sum", [1, 2, 3]), 6);
  assert.equal(await ask(s, "async", 41), 42);
  const text = "héllo ✓ 😀 \u2028 \"quoted\" \\";
  const nested = { a: [1, { b: [null, false, -0.5, 1.25e-7, 2 ** 40] }], s: text, e: {}, l: [] };
  assert.deepEqual(await call(s, "echo", nested, text), [nested, text]);

  // Arguments of the wrong type: the handler is not called, the ack gets the error.
  const [mismatch] = await call(s, "number", "not a number");
  assert.equal(typeof mismatch.message, "string");
  assert.match(mismatch.message, /^invalid arguments: /);
  assert.deepEqual(Object.keys(mismatch), ["message"]);
  s.emit("number", "no ack");
  assert.deepEqual(await call(s, "number", 7), [7]);

  s.emit("fails");

  // Two handlers: the first takes the ack.
  assert.deepEqual(await call(s, "twice"), ["first"]);

  // Handlers removed with off().
  s.emit("removable", 1);
  await ask(s, "remove");
  s.emit("removable", 2);

  // A packet middleware refuses "forbidden": no handler, no answer.
  const refused = await new Promise((resolve) =>
    s.timeout(300).emit("forbidden", 1, (err) => resolve(err)),
  );
  assert.ok(refused instanceof Error, "no answer to a refused event");
  assert.equal(await ask(s, "allowed", 5), 5);

  await ask(s, "done");
  return { mismatch: mismatch.message };
});
