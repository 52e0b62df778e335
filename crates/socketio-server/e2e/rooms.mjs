// Three clients `a`, `b`, `c` for the room and broadcast scenarios: a in r1, b in r1 and r2, c in
// r2. `trigger(op)` asks the server (through a) to run a broadcast `op`, then waits for the
// marker the server sends everyone after it, so every packet of `op` has arrived.
import { assert, ask, connected, next, socket } from "./lib.mjs";

export const NAMES = ["a", "b", "c"];

export async function threeClients() {
  const sockets = {};
  const got = {};
  for (const name of NAMES) {
    const s = socket("/", { auth: { name } });
    got[name] = [];
    s.on("news", (...args) => got[name].push(args));
    s.on("poll", (q, answer) => answer(`${name}:${q}`));
    s.on("poll-bin", (answer) => answer(Buffer.from(name)));
    // c never answers.
    s.on("poll-slow", (answer) => name !== "c" && answer(name));
    sockets[name] = s;
  }
  await Promise.all(NAMES.map((n) => connected(sockets[n])));
  const { a, b, c } = sockets;
  assert.deepEqual(await ask(a, "join", "r1"), [a.id, "r1"]);
  assert.deepEqual(await ask(b, "join", ["r1", "r2"]), [b.id, "r1", "r2"]);
  assert.deepEqual(await ask(c, "join", "r2"), [c.id, "r2"]);
  assert.deepEqual(await ask(c, "join", "r3"), [c.id, "r2", "r3"]);
  assert.deepEqual(await ask(c, "join", "r3"), [c.id, "r2", "r3"], "joining twice");
  assert.deepEqual(await ask(c, "leave", "r3"), [c.id, "r2"]);
  assert.deepEqual(await ask(c, "leave", "never-joined"), [c.id, "r2"]);
  const ids = { a: a.id, b: b.id, c: c.id };

  /**
   * Runs `op` on the server; resolves to [its answer, who got which news]. `stay`: the clients
   * still connected after `op`.
   */
  async function trigger(op, stay = NAMES) {
    const markers = stay.map((n) => next(sockets[n], "marker"));
    const answer = await ask(a, "op", op, ids);
    await Promise.all(markers);
    const news = {};
    for (const n of NAMES) {
      if (got[n].length) news[n] = got[n].splice(0);
    }
    return [answer, news];
  }

  /** Runs `op` and checks that exactly `who` got one `news` packet `[op]`. */
  async function expectNews(op, who) {
    const [, news] = await trigger(op);
    const want = Object.fromEntries(who.map((n) => [n, [[op]]]));
    assert.deepEqual(news, want, op);
  }

  return { sockets, ids, trigger, expectNews };
}
