// The Node socket.io server of the load benchmark (docs/BENCHMARKS.md), with the behaviour
// every server of the benchmark shares:
// - on connection the socket joins the room "all";
// - "echo" with an acknowledgement: the acknowledgement carries the event's arguments;
// - "bcast": "msg" with the event's arguments goes to the room "all", the sender included.
// Default settings (ws engine, pingInterval 25 s, pingTimeout 20 s, both transports).
//
//   node bench/node/server.js --port 3000 [--host 127.0.0.1] [--redis URL --key K]
// With --redis, one server of a cluster over Redis (the official @socket.io/redis-adapter).
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

let port = 3000;
let host = "127.0.0.1";
let redis = null;
let key = "socket.io";
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--port") port = Number(argv[++i]);
  else if (argv[i] === "--host") host = argv[++i];
  else if (argv[i] === "--redis") redis = argv[++i];
  else if (argv[i] === "--key") key = argv[++i];
  else if (argv[i] === "--reuseport") {
    console.error("--reuseport is not supported by the Node server");
    process.exit(2);
  } else {
    console.error(`unknown argument ${argv[i]}; usage: server.js --port N [--host 127.0.0.1]`);
    process.exit(2);
  }
}

const httpServer = http.createServer();
let adapter;
if (redis) {
  const { createAdapter } = require("@socket.io/redis-adapter");
  const { Redis } = require("ioredis");
  const pub = new Redis(redis);
  adapter = createAdapter(pub, pub.duplicate(), { key });
}
const io = new Server(httpServer, adapter ? { adapter } : {});

io.on("connection", (socket) => {
  socket.join("all");
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("bcast", (...args) => {
    io.to("all").emit("msg", ...args);
  });
});

httpServer.listen(port, host, () => {
  const address = httpServer.address();
  console.log(`listening on ${address.address}:${address.port}`);
});
