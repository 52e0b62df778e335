// connect_timeout: the server closes a connection that never joins a namespace, and one whose
// only CONNECT still waits in a middleware that never finishes; a connection that joined stays.
import { assert, ask, connect, manager, next, scenario } from "../lib.mjs";

scenario(async () => {
  const control = await connect();
  const bare = manager();
  const waiting = manager();
  const closes = [next(bare, "close"), next(waiting, "close")];
  const hanging = waiting.socket("/hang");
  hanging.on("connect", () => assert.fail("/hang connected"));
  const reasons = (await Promise.all(closes)).map(([reason]) => reason);
  assert.equal(await ask(control, "ping"), "pong");
  assert.ok(control.connected);
  return { reasons };
});
