// A small interactive Socket.IO client, the official `socket.io-client`, to try the examples.
//
//   (cd examples && npm ci)          # once
//   node examples/client.mjs [URL] [--auth JSON] [--websocket]
//
// URL defaults to http://127.0.0.1:3000 and may name a namespace (http://127.0.0.1:3000/admin).
// Every event received is printed. Each line typed is sent as an event: the event name, then
// the arguments as comma-separated JSON; names with spaces are quoted:
//
//   hello "world"
//   "chat message" "hi there"
//   ?sum 1, 2            <- a leading ? asks for an acknowledgement and prints it
import readline from 'node:readline';
import { io } from 'socket.io-client';

let url = 'http://127.0.0.1:3000';
const options = { reconnectionDelayMax: 2000 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--auth') options.auth = JSON.parse(argv[++i]);
  else if (argv[i] === '--websocket') options.transports = ['websocket'];
  else url = argv[i];
}

const socket = io(url, options);
const show = (label, ...values) => console.log(label, ...values.map((v) => JSON.stringify(v)));

socket.on('connect', () => show(`connected as ${socket.id} (${socket.io.engine.transport.name})`));
socket.on('connect_error', (err) => show(`connect_error: ${err.message}`, ...(err.data === undefined ? [] : [err.data])));
socket.on('disconnect', (reason) => show(`disconnected: ${reason}`));
socket.onAny((event, ...args) => {
  const ack = typeof args.at(-1) === 'function' ? args.pop() : null;
  show(`< ${event}`, ...args);
  // The examples that ask for an acknowledgement get "ok".
  if (ack) ack('ok');
});

function parse(line) {
  const wantsAck = line.startsWith('?');
  let rest = wantsAck ? line.slice(1) : line;
  let event;
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    event = rest.slice(1, end);
    rest = rest.slice(end + 1);
  } else {
    [event] = rest.split(/\s/, 1);
    rest = rest.slice(event.length);
  }
  return { wantsAck, event, args: JSON.parse(`[${rest.trim()}]`) };
}

const input = readline.createInterface({ input: process.stdin });
input.on('line', async (line) => {
  if (!line.trim()) return;
  try {
    const { wantsAck, event, args } = parse(line.trim());
    if (wantsAck) show(`ack:`, await socket.timeout(5000).emitWithAck(event, ...args));
    else socket.emit(event, ...args);
  } catch (err) {
    show(`error: ${err.message}`);
  }
});
input.on('close', () => socket.close());
