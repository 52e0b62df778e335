// fetch_sockets (with rooms and except), sockets_join, sockets_leave, a fetched socket's
// emit / join / leave / disconnect, disconnect_sockets with and without closing.
import { assert, next, scenario } from "../lib.mjs";
import { threeClients } from "../rooms.mjs";

scenario(
  async () => {
    const { sockets, ids, trigger, expectNews } = await threeClients();
    const { a, b, c } = sockets;
    const answer = async (op, stay) => (await trigger(op, stay))[0];

    assert.deepEqual(await answer("fetch"), [
      { id: ids.a, name: "a", rooms: [ids.a, "r1"] },
      { id: ids.b, name: "b", rooms: [ids.b, "r1", "r2"] },
      { id: ids.c, name: "c", rooms: [ids.c, "r2"] },
    ]);
    assert.deepEqual(await answer("fetch-r1"), [ids.a, ids.b]);
    assert.deepEqual(await answer("fetch-except-r1"), [ids.c]);
    assert.deepEqual(await answer("fetch-r1-except-r2"), [ids.a]);

    assert.deepEqual(await answer("sockets-join-r9"), [ids.a, ids.b]);
    await expectNews("to-r9", ["a", "b"]);
    assert.deepEqual(await answer("sockets-leave-r9"), []);
    await expectNews("to-r9", []);

    await expectNews("remote-emit-b", ["b"]);
    await expectNews("remote-join-c-r8", ["c"]);
    await expectNews("remote-leave-c-r8", []);

    // b and c leave the namespace; a stays.
    const reasons = Promise.all([next(b, "disconnect"), next(c, "disconnect")]);
    assert.deepEqual(await answer("disconnect-r2", ["a"]), 1);
    assert.deepEqual(
      (await reasons).map(([reason]) => reason),
      ["io server disconnect", "io server disconnect"],
    );
    assert.ok(a.connected && !b.connected && !c.connected);

    // Everyone, with the connection: a's engine closes too.
    const closed = next(a.io, "close");
    const disconnected = next(a, "disconnect");
    a.emit("op", "disconnect-all-close", ids);
    assert.equal((await disconnected)[0], "io server disconnect");
    await closed;
    return {};
  },
  { checkTransport: false },
);
