// connect_timeout: a connection that never joins a namespace is closed by the server; a
// connection that joined stays. With ARGS.hang: also a connection whose CONNECT was refused
// while its other CONNECT waits in a middleware that never finishes (Node: the refusal is sent
// at once, and the connection is closed at the timeout, since no namespace was joined).
import { ARGS, assert, ask, connect, connectError, manager, next, scenario } from "../lib.mjs";

scenario(async () => {
  const control = await connect();
  const bare = manager();
  // Awaited at the end: a timeout is kept as a value until then.
  const closed = (m) => next(m, "close").catch((error) => error);
  const closes = [closed(bare)];
  if (ARGS.hang) {
    // The client closes a connection whose every socket failed: keep one waiting in the
    // middleware, so that only the server can close it.
    const failed = manager();
    closes.push(closed(failed));
    const hanging = failed.socket("/hang");
    hanging.on("connect", () => assert.fail("/hang connected"));
    const err = await connectError(failed.socket("/nope"));
    assert.equal(err.message, "Invalid namespace");
  }
  const reasons = (await Promise.all(closes)).map((close) => {
    if (close instanceof Error) throw close;
    return close[0];
  });
  assert.equal(await ask(control, "ping"), "pong");
  assert.ok(control.connected);
  return { reasons };
});
