// The conformance program (`cargo run --example conformance -- socketio`): the server the
// official socket.io-protocol suite expects, driven by the official client.
import { assert, bytes, connected, next, scenario, socket, within } from "../lib.mjs";

function call(s, event, ...args) {
  return within(new Promise((resolve) => s.emit(event, ...args, (...answer) => resolve(answer))), event);
}

function withAuth(nsp, opts) {
  const s = socket(nsp, opts);
  return [s, next(s, "auth")];
}

scenario(async () => {
  const [s, auth] = withAuth("/", { auth: { token: "123" } });
  await connected(s);
  assert.deepEqual((await auth)[0], { token: "123" });

  const back = next(s, "message-back");
  s.emit("message", 1, "2", { 3: [4] }, Buffer.from([5, 6]));
  const echoed = await back;
  assert.deepEqual(echoed.slice(0, 3), [1, "2", { 3: [4] }]);
  assert.deepEqual([...bytes(echoed[3])], [5, 6]);

  const answer = await call(s, "message-with-ack", 1, "2", Buffer.from([7]));
  assert.deepEqual(answer.slice(0, 2), [1, "2"]);
  assert.deepEqual([...bytes(answer[2])], [7]);

  const [custom, customAuth] = withAuth("/custom", { auth: { x: 1 } });
  await connected(custom);
  assert.deepEqual((await customAuth)[0], { x: 1 });
  const [plain, plainAuth] = withAuth("/");
  await connected(plain);
  assert.deepEqual((await plainAuth)[0], {});
  return {};
});
