// The Node socket.io server of the load benchmark (docs/BENCHMARKS.md), with the behaviour
// every server of the benchmark shares:
// - on connection the socket joins the room "all";
// - "echo" with an acknowledgement: the acknowledgement carries the event's arguments;
// - "bcast": "msg" with the event's arguments goes to the room "all", the sender included.
// Default settings (ws engine, pingInterval 25 s, pingTimeout 20 s, both transports).
//
//   node bench/node/server.js --port 3000 [--host 127.0.0.1]
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

let port = 3000;
let host = "127.0.0.1";
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--port") port = Number(argv[++i]);
  else if (argv[i] === "--host") host = argv[++i];
  else if (argv[i] === "--reuseport") {
    console.error("--reuseport is not supported by the Node server");
    process.exit(2);
  } else {
    console.error(`unknown argument ${argv[i]}; usage: server.js --port N [--host 127.0.0.1]`);
    process.exit(2);
  }
}

const httpServer = http.createServer();
const io = new Server(httpServer);

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
