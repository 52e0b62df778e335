// Disconnections and their reasons on both sides: socket.disconnect(false) (the connection and
// the other namespaces stay), socket.disconnect(true) (every namespace, then the connection),
// the client leaving a namespace, the client closing its connection, the server shutting down.
import {
  assert,
  ask,
  checkTransports,
  connected,
  manager,
  next,
  scenario,
  socket,
  step,
  within,
} from "../lib.mjs";

scenario(
  async () => {
    // The server leaves one namespace: the client's other namespace and connection stay.
    const m1 = manager();
    const s1 = m1.socket("/", { auth: { tag: "kick" } });
    const a1 = m1.socket("/admin", { auth: { tag: "kick-admin" } });
    await Promise.all([connected(s1), connected(a1)]);
    step("kick");
    let reason = next(s1, "disconnect");
    s1.emit("kick");
    assert.equal((await reason)[0], "io server disconnect");
    assert.equal(await ask(a1, "still-there"), true);
    assert.equal(m1.engine.readyState, "open");

    // disconnect(true): every namespace of the connection, then the connection.
    step("kick-close");
    const m2 = manager();
    const s2 = m2.socket("/", { auth: { tag: "close" } });
    const a2 = m2.socket("/admin", { auth: { tag: "close-admin" } });
    await Promise.all([connected(s2), connected(a2)]);
    const reasons = Promise.all([next(s2, "disconnect"), next(a2, "disconnect")]);
    const closed = next(m2, "close");
    s2.emit("kick-close");
    assert.deepEqual(
      (await reasons).map(([r]) => r),
      ["io server disconnect", "io server disconnect"],
    );
    await closed;

    // The client leaves; the client closes its connection.
    step("client disconnect");
    const s3 = await connected(socket("/", { auth: { tag: "client" } }));
    s3.disconnect();
    const s4 = await connected(socket("/", { auth: { tag: "transport" } }));
    step("transport close");
    reason = next(s4, "disconnect");
    s4.io.engine.close();
    await reason;

    // The server shuts down: every connection closes.
    step("shutdown");
    const s5 = await connected(socket("/", { auth: { tag: "shutdown" } }));
    // Settled transports first: a server that closes while socket.io-client is in the middle of
    // its upgrade can leave it waiting for a heartbeat timeout (engine.io-client ignores a failed
    // probe once it paused polling). The server waits for the client's `5` once it answered the
    // probe (engineio-proto's `Session::close`); a rarer window is still open (about 1 run in
    // 20 here), with Node's server too.
    await checkTransports();
    const shutdown = [next(s5, "disconnect"), next(a1, "disconnect")];
    s5.emit("shutdown");
    const [[r5], [ra1]] = await within(Promise.all(shutdown), "shutdown");
    return { shutdown: [r5, ra1] };
  },
  { checkTransport: false },
);
