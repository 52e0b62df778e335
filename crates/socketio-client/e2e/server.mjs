// The official socket.io server that tests/node_server.rs drives our client against.
// Env: PORT (0: any), PARSER=msgpack, RECOVERY=1 (connection state recovery), PING=fast. Prints "PORT <n>".
import { createServer } from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";

const options = {};
if (process.env.PARSER === "msgpack") options.parser = msgpackParser;
if (process.env.RECOVERY === "1") {
  options.connectionStateRecovery = { maxDisconnectionDuration: 60_000 };
}
if (process.env.PING === "fast") {
  options.pingInterval = 50;
  options.pingTimeout = 100;
}
const httpServer = createServer();
const io = new Server(httpServer, options);

function handlers(socket) {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("echo-event", (...args) => socket.emit("echo-event", ...args));
  socket.on("ask", (question) => {
    socket.timeout(10_000).emit("question", question, (err, answer) => {
      socket.emit("answer", err ? err.message : answer);
    });
  });
  socket.on("whoami", (ack) =>
    ack({
      id: socket.id,
      engine: socket.conn.id,
      transport: socket.conn.transport.name,
      auth: socket.handshake.auth,
      query: socket.handshake.query.q ?? null,
      header: socket.handshake.headers["x-test"] ?? null,
      recovered: socket.recovered,
    }),
  );
  socket.on("kick", () => socket.disconnect());
  socket.on("never-ack", () => {});
  // Ends the engine.io connection as a network failure would (recoverable on the server side).
  socket.on("close-transport", () => socket.conn.close());
  // Acknowledges every third try only (at-least-once delivery with retries).
  let tries = 0;
  socket.on("job", (n, ack) => {
    if (tries++ % 3 === 2) ack(n);
  });
  // Acknowledges at once (delivery across a server restart).
  socket.on("job-ok", (n, ack) => ack(n));
  socket.on("disconnect", (reason) => {
    // Sent while the socket is away: a recovered session receives it on reconnection.
    if (process.env.RECOVERY === "1") io.emit("missed", `while away (${reason})`);
  });
  if (process.env.RECOVERY === "1") socket.emit("hello", "welcome");
}

io.on("connection", handlers);
io.of("/admin").on("connection", handlers);
const priv = io.of("/private");
priv.use((socket, next) => {
  if (socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 42 };
  next(err);
});
priv.on("connection", handlers);

httpServer.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`PORT ${httpServer.address().port}`);
});
