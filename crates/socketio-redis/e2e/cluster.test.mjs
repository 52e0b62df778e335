// A mixed cluster over Redis: two socketio-server nodes (examples/cluster_node.rs, with
// socketio-redis) and one Node socket.io server with the official @socket.io/redis-adapter,
// official socket.io-client clients on each, and the official @socket.io/redis-emitter.
// Every cross-node operation must give the same result whichever node asks.
//
//   CLUSTER_NODE_BIN=target/debug/examples/cluster_node node --test crates/socketio-redis/e2e/
//
// REDIS_URL (default redis://127.0.0.1:6379/) is the shared Redis; the restart test starts a
// Redis of its own on port 26380 (redis-server must be installed) and stops only that one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";
import {
  OWN_REDIS_PORT, REDIS_URL, WAIT, call, children, client, cluster, got, sleep, stop, waitFor,
} from "./lib.mjs";

for (const mode of ["classic", "sharded", "streams"])
test(`mixed cluster (${mode}): broadcasts, rooms, acks, fetchSockets, socketsJoin/Leave, serverSideEmit, disconnectSockets${mode === "classic" ? ", emitter" : ""}`, async (t) => {
  const key = `e2e-${randomBytes(4).toString("hex")}`;
  const { servers, clients } = await cluster(REDIS_URL, key, mode);
  const [c0, c1, c2] = clients;
  t.after(() => {
    for (const c of clients) c.close();
    for (const s of servers) stop(s);
  });

  await t.test("broadcast from every node reaches every client", async () => {
    for (const [i, c] of clients.entries()) {
      await call(c, "broadcast", { data: `all from ${servers[i].name}` });
      for (const other of clients) await got(other, `all from ${servers[i].name}`);
    }
  });

  await t.test("binary crosses between Rust and Node nodes", async () => {
    for (const [i, c] of clients.entries()) {
      await call(c, "broadcast-binary", `bin ${servers[i].name}`);
      for (const other of clients) await got(other, `bin ${servers[i].name}:010203`);
    }
  });

  await call(c0, "join", "blue");
  await call(c2, "join", "blue");
  await call(c1, "set-data", { name: "c1" });

  await t.test("rooms and except across nodes", async () => {
    for (const [i, c] of clients.entries()) {
      const name = servers[i].name;
      await call(c, "broadcast", { rooms: ["blue"], data: `blue from ${name}` });
      await call(c, "broadcast", { except: ["blue"], data: `not blue from ${name}` });
      await call(c, "broadcast", { data: `marker ${name}` });
      for (const other of clients) await got(other, `marker ${name}`);
      // Redis keeps one publisher's order: by the marker, the room messages have arrived.
      await sleep(50);
      assert.ok(c0.news.includes(`blue from ${name}`) && c2.news.includes(`blue from ${name}`));
      assert.ok(!c1.news.includes(`blue from ${name}`), `c1 is not in blue (${name})`);
      assert.ok(c1.news.includes(`not blue from ${name}`));
      assert.ok(!c0.news.includes(`not blue from ${name}`) && !c2.news.includes(`not blue from ${name}`));
    }
  });

  await t.test("broadcast with acks: one answer per client of every node", async () => {
    for (const [i, c] of clients.entries()) {
      const answer = await call(c, "broadcast-ack", { data: servers[i].name, timeout: 3000 });
      assert.equal(answer.error, undefined, JSON.stringify(answer));
      assert.deepEqual(answer.responses.map((r) => r.client).sort(), ["c0", "c1", "c2"]);
      assert.ok(answer.responses.every((r) => r.data === servers[i].name));
      const blue = await call(c, "broadcast-ack", { rooms: ["blue"], data: "b", timeout: 3000 });
      assert.deepEqual(blue.responses.map((r) => r.client).sort(), ["c0", "c2"]);
    }
  });

  await t.test("fetchSockets: ids, rooms and data of every node's sockets", async () => {
    const ids = clients.map((c) => c.id).sort();
    for (const c of clients) {
      const sockets = await call(c, "fetch", {});
      assert.deepEqual(sockets.map((s) => s.id).sort(), ids);
      const s0 = sockets.find((s) => s.id === c0.id);
      assert.ok(s0.rooms.includes("blue") && s0.rooms.includes(c0.id));
      assert.deepEqual(sockets.find((s) => s.id === c1.id).data, { name: "c1" });
      const blue = await call(c, "fetch", { rooms: ["blue"] });
      assert.deepEqual(blue.map((s) => s.id).sort(), [c0.id, c2.id].sort());
    }
  });

  await t.test("socketsJoin / socketsLeave from every node", async () => {
    for (const [i, c] of clients.entries()) {
      const room = `green-${i}`;
      await call(c, "sockets-join", { rooms: [c1.id], room });
      for (const asker of clients) {
        await waitFor(`${room} on every node`, async () => {
          const inRoom = await call(asker, "fetch", { rooms: [room] });
          return inRoom.length === 1 && inRoom[0].id === c1.id;
        });
      }
      await call(c, "sockets-leave", { rooms: ["blue"], room: "blue" });
      await waitFor("blue emptied", async () => (await call(c1, "fetch", { rooms: ["blue"] })).length === 0);
      await call(c0, "join", "blue");
      await call(c2, "join", "blue");
    }
  });

  await t.test("serverSideEmit with acks: every other node answers", async () => {
    for (const [i, c] of clients.entries()) {
      const answer = await call(c, "sse", { data: i });
      assert.equal(answer.error, undefined, JSON.stringify(answer));
      const others = servers.filter((_, j) => j !== i).map((s) => s.name).sort();
      assert.deepEqual(answer.responses.map((r) => r.from).sort(), others);
      assert.ok(answer.responses.every((r) => r.data === i));
    }
  });

  await t.test("serverSideEmit without acks reaches the other nodes", async () => {
    for (const [i, c] of clients.entries()) {
      await call(c, "note", { data: `note ${i}` });
      for (const [j, other] of clients.entries()) {
        if (i === j) continue;
        await waitFor(`note ${i} on ${servers[j].name}`, async () => (await call(other, "notes")).includes(`note ${i}`));
      }
    }
  });

  if (mode === "classic") await t.test("the official emitter drives every node", async () => {
    const pub = new Redis(REDIS_URL);
    t.after(() => pub.quit());
    const emitter = new Emitter(pub, { key });
    emitter.to("blue").emit("news", "emitter to blue");
    emitter.emit("news", "emitter to all", Buffer.from([1, 2, 3]).length);
    await got(c0, "emitter to blue");
    await got(c2, "emitter to blue");
    for (const c of clients) await got(c, "emitter to all");
    assert.ok(!c1.news.includes("emitter to blue"));
    emitter.in(c1.id).socketsJoin("purple");
    await waitFor("purple", async () => (await call(c0, "fetch", { rooms: ["purple"] })).length === 1);
    emitter.serverSideEmit("note", "emitted");
    for (const c of clients) await waitFor("emitted note", async () => (await call(c, "notes")).includes("emitted"));
  });

  await t.test("disconnectSockets from every node", async () => {
    // Each node disconnects a new client of the next node.
    for (const [i, c] of clients.entries()) {
      const target = await client(servers[(i + 1) % 3], `t${i}`);
      const reason = new Promise((resolve) => target.once("disconnect", resolve));
      await call(c, "disconnect-sockets", { rooms: [target.id] });
      assert.equal(await reason, "io server disconnect");
      assert.ok(c.connected);
    }
  });
});

test("streams: connection state recovery across nodes, Rust and Node alike", async (t) => {
  const key = `csr-${randomBytes(4).toString("hex")}`;
  const { servers, clients } = await cluster(REDIS_URL, key, "streams");
  const [sender] = clients;
  t.after(() => {
    for (const c of clients) c.close();
    for (const s of servers) stop(s);
  });
  // From each kind of node to each other kind: Rust -> Node, Node -> Rust, Rust -> Rust.
  for (const [from, to] of [[0, 2], [2, 1], [0, 1]]) {
    const tag = `${servers[from].name}->${servers[to].name}`;
    const first = await client(servers[from], `first ${tag}`);
    await call(first, "join", `room ${tag}`);
    await call(sender, "broadcast", { data: `before ${tag}` });
    await got(first, `before ${tag}`);
    const { _pid: pid, _lastOffset: offset, id } = first;
    assert.ok(pid && offset, `recovery is on (${tag}): pid ${pid}, offset ${offset}`);
    // A transport loss (not a disconnect()): the session is kept for recovery.
    first.io.engine.close();
    await waitFor(`${tag}: the server saw it go`, async () =>
      !(await call(sender, "fetch", {})).some((s) => s.id === id));
    await call(sender, "broadcast", { data: `missed ${tag}` });
    await call(sender, "broadcast", { rooms: [`room ${tag}`], data: `missed in room ${tag}` });
    await call(sender, "broadcast", { rooms: ["elsewhere"], data: `not for it ${tag}` });
    await call(sender, "broadcast", { except: [`room ${tag}`], data: `excluded ${tag}` });

    const second = await client(servers[to], `second ${tag}`, { autoConnect: false });
    second._pid = pid;
    second._lastOffset = offset;
    const connected = new Promise((resolve) => second.once("connect", resolve));
    second.connect();
    await connected;
    t.after(() => second.close());
    assert.equal(second.recovered, true, `${tag}: recovered`);
    assert.equal(second.id, id, `${tag}: same socket id`);
    await got(second, `missed ${tag}`);
    await got(second, `missed in room ${tag}`);
    assert.deepEqual(second.news, [`missed ${tag}`, `missed in room ${tag}`]);
    // Its rooms came back with it.
    const inRoom = await call(sender, "fetch", { rooms: [`room ${tag}`] });
    assert.deepEqual(inRoom.map((s) => s.id), [id]);
  }
});

test("Redis restart mid-traffic: local delivery never stops, the cluster recovers by itself", async (t) => {
  const redis = spawn("redis-server", ["--port", String(OWN_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  children.add(redis);
  t.after(() => redis.kill("SIGKILL"));
  const url = `redis://127.0.0.1:${OWN_REDIS_PORT}/`;
  await waitFor("own Redis", async () => {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } finally {
      probe.disconnect();
    }
  });
  const key = `restart-${randomBytes(4).toString("hex")}`;
  const { servers, clients } = await cluster(url, key);
  let second;
  t.after(() => {
    for (const c of clients) c.close();
    for (const s of servers) stop(s);
    second?.kill("SIGKILL");
  });
  for (const [i, c] of clients.entries()) {
    await call(c, "broadcast", { data: `before ${i}` });
    for (const other of clients) await got(other, `before ${i}`);
  }

  redis.kill("SIGKILL");
  await new Promise((resolve) => redis.once("exit", resolve));
  // Traffic goes on while Redis is down: every node still serves its own clients at once.
  for (let n = 0; n < 20; n++) {
    for (const [i, c] of clients.entries()) await call(c, "broadcast", { data: `down ${i} ${n}` });
  }
  for (const [i, c] of clients.entries()) {
    for (let n = 0; n < 20; n++) await got(c, `down ${i} ${n}`);
  }

  second = spawn("redis-server", ["--port", String(OWN_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  children.add(second);
  // Every node's messages reach every client again, without anyone restarting anything.
  for (const [i, c] of clients.entries()) {
    let n = 0;
    await waitFor(`node ${servers[i].name} heard again`, async () => {
      n += 1;
      await call(c, "broadcast", { data: `after ${i} ${n}` });
      await sleep(100);
      return clients.every((other) => other.news.some((d) => typeof d === "string" && d.startsWith(`after ${i} `)));
    }, 20_000);
  }
  for (const c of clients) await waitFor("3 servers again", async () => (await call(c, "server-count")) === 3);
});
