// maxHttpBufferSize: a message over the limit ends that client's connection (as Node: the
// request is refused on polling, the WebSocket closed), other clients go on.
import { assert, ask, connect, next, scenario } from "../lib.mjs";

scenario(async () => {
  const s = await connect("/", { auth: { tag: "small" } });
  assert.equal(await ask(s, "size", "x".repeat(1000)), 1000);
  const big = await connect("/", { auth: { tag: "big" } });
  const gone = next(big, "disconnect");
  big.emit("size", "x".repeat(50_000));
  const [reason] = await gone;
  assert.ok(["transport close", "transport error"].includes(reason), reason);
  const bin = await connect("/", { auth: { tag: "binary" } });
  const binGone = next(bin, "disconnect");
  bin.emit("size", Buffer.alloc(50_000));
  await binGone;
  // Under the limit even as base64 (msgpack over polling).
  assert.equal(await ask(s, "size", "y".repeat(5000)), 5000);
  return {};
});
