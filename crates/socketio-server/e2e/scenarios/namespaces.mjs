// Static and dynamic namespaces (by name, by name and auth), cleanup of empty dynamic children,
// an unknown namespace, namespace middlewares refusing with message and data, middlewares that
// join rooms and set data, the handshake auth per namespace.
import { assert, ask, connected, connectError, manager, next, scenario, socket } from "../lib.mjs";

scenario(async () => {
  const m = manager();
  const main = await connected(m.socket("/", { auth: { where: "main" } }));
  // Listens for the welcome before the CONNECT goes out.
  const open = (nsp, opts, s = m.socket(nsp, opts)) => {
    const welcome = next(s, "welcome");
    return [s, connected(s).then(async () => (await welcome)[0])];
  };
  const [admin, adminWelcome] = open("/admin", { auth: { where: "admin" } });
  const [d1, d1Welcome] = open("/dyn-1");
  const [d2, d2Welcome] = open("/dyn-2");
  const [red, redWelcome] = open("/team-red", { auth: { team: "red" } });
  assert.deepEqual(await adminWelcome, { nsp: "/admin", auth: { where: "admin" } });
  assert.deepEqual(await d1Welcome, { nsp: "/dyn-1", auth: {} });
  assert.deepEqual(await d2Welcome, { nsp: "/dyn-2", auth: {} });
  assert.deepEqual(await redWelcome, { nsp: "/team-red", auth: { team: "red" } });
  assert.deepEqual(await ask(main, "list"), [
    "/",
    "/admin",
    "/dyn-1",
    "/dyn-2",
    "/private",
    "/refuse-plain",
    "/team-red",
  ]);
  assert.deepEqual(await ask(main, "children"), ["/dyn-1", "/dyn-2"]);

  // An emit on the dynamic namespace reaches every child.
  const news = [next(d1, "dyn-news"), next(d2, "dyn-news")];
  let leaked = false;
  admin.on("dyn-news", () => (leaked = true));
  red.on("dyn-news", () => (leaked = true));
  await ask(main, "dyn-emit");
  assert.deepEqual(await Promise.all(news), [["hi"], ["hi"]]);

  // Refusals.
  let err = await connectError(m.socket("/nope"));
  assert.equal(err.message, "Invalid namespace");
  assert.equal(err.data, undefined);
  err = await connectError(m.socket("/team-blue", { auth: { team: "red" } }));
  assert.equal(err.message, "Invalid namespace", "the matcher sees the auth");
  err = await connectError(m.socket("/dyn-forbidden"));
  assert.equal(err.message, "forbidden namespace");
  err = await connectError(m.socket("/private", { auth: { token: "wrong" } }));
  assert.equal(err.message, "not authorized");
  assert.deepEqual(err.data, { code: 403, hint: "send a token" });
  err = await connectError(m.socket("/refuse-plain"));
  assert.equal(err.message, "no");
  assert.equal(err.data, undefined);
  // A connection of its own, accepted.
  const [, privWelcome] = open("/private", {}, socket("/private", { auth: { token: "secret" } }));
  assert.deepEqual(await privWelcome, {
    nsp: "/private",
    auth: { token: "secret" },
    pre: true,
    data: "from middleware",
  });

  // Empty dynamic children are removed; a refused child is not kept.
  d1.disconnect();
  assert.deepEqual(await ask(main, "children"), ["/dyn-2"]);
  assert.deepEqual(await ask(main, "list"), [
    "/",
    "/admin",
    "/dyn-2",
    "/private",
    "/refuse-plain",
    "/team-red",
  ]);
  assert.equal(leaked, false);
  return {};
});
