// Binary both ways: Buffer, ArrayBuffer, typed arrays, empty and large buffers, binary nested in
// objects, mixed with other arguments, echoed raw, in acknowledgements both ways, broadcast.
import { assert, bytes, connected, next, scenario, socket, within } from "../lib.mjs";

function call(s, event, ...args) {
  return within(new Promise((resolve) => s.emit(event, ...args, (...answer) => resolve(answer))), event);
}

const list = (data) => [...bytes(data)];

scenario(async () => {
  const s = socket();
  const fromServer = next(s, "from-server");
  const file = next(s, "file");
  const broadcast = next(s, "broadcast-binary");
  s.on("give-bytes", (answer) => answer(Buffer.from([7, 8, 9])));
  await connected(s);

  const [data, meta] = await fromServer;
  assert.deepEqual(list(data), [0, 1, 254, 255]);
  assert.deepEqual(meta, { k: "v" });
  const [f] = await file;
  assert.equal(f.name, "server.bin");
  assert.deepEqual(list(f.data), [1, 2, 3]);
  assert.deepEqual(f.parts.map(list), [[4], []]);
  assert.deepEqual(list((await broadcast)[0]), [42]);

  let [length, reversed] = await call(s, "bin", Buffer.from([1, 2, 3]));
  assert.equal(length, 3);
  assert.deepEqual(list(reversed), [3, 2, 1]);
  [length, reversed] = await call(s, "bin", new Uint8Array([4, 5]).buffer);
  assert.equal(length, 2);
  assert.deepEqual(list(reversed), [5, 4]);
  [length, reversed] = await call(s, "bin", new Uint8Array([6]));
  assert.deepEqual([length, list(reversed)], [1, [6]]);
  [length, reversed] = await call(s, "bin", Buffer.alloc(0));
  assert.deepEqual([length, list(reversed)], [0, []]);

  const [back] = await call(s, "file", {
    name: "a.txt",
    data: Buffer.from("hello"),
    parts: [Buffer.from([1]), Buffer.from([2, 3])],
  });
  assert.equal(back.name, "A.TXT");
  assert.equal(bytes(back.data).toString(), "hello");
  assert.deepEqual(back.parts.map(list), [[2, 3], [1]]);

  const [text, len, n] = await call(s, "mixed", "t", Buffer.from([1, 1]), 5);
  assert.deepEqual([text, len, n], ["t!", 2, 6]);

  const echoed = next(s, "echoed");
  const raw = await call(s, "echo-raw", { deep: [{ b: Buffer.from([9]) }] }, Buffer.from([8]), "x");
  for (const args of [raw, await echoed]) {
    assert.equal(args.length, 3);
    assert.deepEqual(list(args[0].deep[0].b), [9]);
    assert.deepEqual(list(args[1]), [8]);
    assert.equal(args[2], "x");
  }

  const big = Buffer.alloc(200_000, 0).map((_, i) => (i * 7) % 251);
  const [bigLength, sum] = await call(s, "big", big);
  assert.equal(bigLength, big.length);
  assert.equal(sum, big.reduce((a, b) => a + b, 0));

  await call(s, "done");
  return {};
});
