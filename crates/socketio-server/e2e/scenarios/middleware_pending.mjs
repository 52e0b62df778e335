// While a namespace middleware has not finished, the connection's other namespaces go on (Node
// handles each CONNECT on its own): an event on a connected namespace is answered, another
// CONNECT is answered.
import { assert, ask, connected, connectError, manager, scenario } from "../lib.mjs";

scenario(async () => {
  const m = manager();
  const main = await connected(m.socket("/"));
  const hanging = m.socket("/hang");
  hanging.on("connect", () => assert.fail("/hang connected"));
  assert.equal(await ask(main, "ping"), "pong");
  const err = await connectError(m.socket("/nope"));
  assert.equal(err.message, "Invalid namespace");
  return {};
});
