// One Node socket.io server of the mixed cluster, with the official @socket.io/redis-adapter
// and the same control events as examples/cluster_node.rs.
// Usage: node node-server.mjs <redis-url> <key> <name> [classic|sharded|streams]; prints
// "LISTENING <port>". With streams, connection state recovery is on.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";

const [url, key, name, mode = "classic"] = process.argv.slice(2);
const pub = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
const sub = pub.duplicate();
pub.on("error", () => {});
sub.on("error", () => {});

const httpServer = createServer();
const adapter = {
  classic: () => createAdapter(pub, sub, { key, requestsTimeout: 3000 }),
  sharded: () => createShardedAdapter(pub, sub, { channelPrefix: key }),
  streams: () => createStreamsAdapter(pub, {
    streamName: key,
    channelPrefix: key,
    sessionKeyPrefix: `${key}:session:`,
    blockTimeInMs: 1000,
  }),
}[mode]();
const io = new Server(httpServer, {
  adapter,
  ...(mode === "streams" ? { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } } : {}),
});

const select = (req) => {
  let op = io.to(req.rooms ?? []);
  if (req.except) op = op.except(req.except);
  return op;
};
const notes = [];
io.on("ping", (data, cb) => cb({ from: name, data }));
io.on("note", (data) => notes.push(data));

io.on("connection", (socket) => {
  socket.on("whoami", (cb) => cb(name));
  socket.on("join", (room, cb) => { socket.join(room); cb(); });
  socket.on("set-data", (data, cb) => { socket.data = data; cb(); });
  socket.on("broadcast", (req, cb) => { select(req).emit(req.event ?? "news", req.data); cb(); });
  socket.on("broadcast-binary", (tag, cb) => { io.emit("bin", tag, Buffer.from([1, 2, 3])); cb(); });
  socket.on("broadcast-ack", async (req, cb) => {
    try {
      cb({ responses: await select(req).timeout(req.timeout ?? 2000).emitWithAck("ask", req.data) });
    } catch (e) {
      cb({ error: e.message, responses: e.responses });
    }
  });
  socket.on("fetch", async (req, cb) => {
    const sockets = await select(req).fetchSockets();
    cb(sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data ?? null })));
  });
  socket.on("sockets-join", (req, cb) => { select(req).socketsJoin(req.room); cb(); });
  socket.on("sockets-leave", (req, cb) => { select(req).socketsLeave(req.room); cb(); });
  socket.on("disconnect-sockets", (req, cb) => { cb(); select(req).disconnectSockets(req.close ?? false); });
  socket.on("sse", async (req, cb) => {
    try {
      cb({ responses: await io.serverSideEmitWithAck("ping", req.data) });
    } catch (e) {
      cb({ error: e.message });
    }
  });
  socket.on("note", (req, cb) => { io.serverSideEmit("note", req.data); cb(); });
  socket.on("notes", (cb) => cb(notes));
  socket.on("server-count", async (cb) => cb(await io.of("/").adapter.serverCount()));
});

httpServer.listen(0, "127.0.0.1", () => {
  console.log(`LISTENING ${httpServer.address().port}`);
});
