// Regenerates ../vectors.json with the notepack.io that socket.io-msgpack-parser depends on.
// Usage: see README.md in this folder.
'use strict';

const path = require('path');
// Resolved from the current directory, where the packages are installed.
const parserPath = require.resolve('socket.io-msgpack-parser', { paths: [process.cwd()] });
const notepack = require(require.resolve('notepack.io', { paths: [path.dirname(parserPath)] }));
const { Encoder } = require(parserPath);
const notepackVersion = require(require.resolve('notepack.io/package.json', { paths: [path.dirname(parserPath)] })).version;

// A value spec is JSON; objects with a "$..." key describe what JSON cannot hold.
function build(spec) {
  if (Array.isArray(spec)) return spec.map(build);
  if (spec === null || typeof spec !== 'object') return spec;
  if ('$f64' in spec) return Buffer.from(spec.$f64, 'hex').readDoubleBE(0);
  if ('$bin' in spec) return Buffer.from(spec.$bin, 'hex');
  if ('$binrep' in spec) return Buffer.alloc(spec.$binrep[1], spec.$binrep[0]);
  if ('$ab' in spec) return new Uint8Array(Buffer.from(spec.$ab, 'hex')).buffer;
  if ('$undefined' in spec) return undefined;
  if ('$date' in spec) return new Date(spec.$date);
  if ('$strrep' in spec) return spec.$strrep[0] + spec.$strrep[1].repeat(spec.$strrep[2]);
  if ('$arrrep' in spec) return new Array(spec.$arrrep[1]).fill(build(spec.$arrrep[0]));
  if ('$objrep' in spec) { // {k0: 0, k1: 1, ...}
    const o = {};
    for (let i = 0; i < spec.$objrep; i++) o['k' + i] = i;
    return o;
  }
  if ('$obj' in spec) { // ordered entries
    const o = {};
    for (const [k, v] of spec.$obj) o[k] = build(v);
    return o;
  }
  throw new Error('bad spec ' + JSON.stringify(spec));
}

// JavaScript value -> spec (for what notepack decodes).
function tag(v) {
  if (v === undefined) return { $undefined: 1 };
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return v;
    const b = Buffer.alloc(8); b.writeDoubleBE(v, 0); return { $f64: b.toString('hex') };
  }
  if (Buffer.isBuffer(v)) return { $bin: v.toString('hex') };
  if (v instanceof ArrayBuffer) return { $ab: Buffer.from(v).toString('hex') };
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(tag);
  return { $obj: Object.keys(v).map((k) => [k, tag(v[k])]) };
}

function f64(x) { const b = Buffer.alloc(8); b.writeDoubleBE(x, 0); return { $f64: b.toString('hex') }; }
function fnv1a64(buf) {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) { h ^= BigInt(b); h = (h * 0x100000001b3n) & 0xffffffffffffffffn; }
  return h.toString(16).padStart(16, '0');
}
function out(buf) {
  return buf.length <= 1024
    ? { hex: buf.toString('hex') }
    : { len: buf.length, head: buf.subarray(0, 32).toString('hex'), fnv1a64: fnv1a64(buf) };
}
const mb = 'é€😀'; // 2 + 3 + 4 UTF-8 bytes
const str = (n) => ({ $strrep: [mb, 'a', n - 9] });
const obj = (n) => ({ $objrep: n });

const encode = [
  // integers at every boundary
  ...[0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1)]
    .map((n) => ['int ' + n, n]),
  // integral doubles beyond 2^53
  ['2^53', f64(2 ** 53)], ['2^63', f64(2 ** 63)], ['2^64-2048', f64(2 ** 64 - 2048)],
  ['-2^63', f64(-(2 ** 63))], ['-0', f64(-0)],
  // non-integers and specials
  ['0.5', f64(0.5)], ['-1.5', f64(-1.5)], ['0.1', f64(0.1)], ['1e-300', f64(1e-300)],
  ['NaN', f64(NaN)], ['Infinity', f64(Infinity)], ['-Infinity', f64(-Infinity)],
  // notepack wraps this one modulo 2^64; we write float 64 (see crate docs)
  ['1e300 (deviation)', f64(1e300)], ['-1e20 (deviation)', f64(-1e20)],
  ['null', null], ['true', true], ['false', false],
  ['undefined', { $undefined: 1 }],
  ['str 0', ''], ['str ascii', 'hello'], ['str 31', str(31)], ['str 32', str(32)],
  ['str 255', str(255)], ['str 256', str(256)], ['str 65535', str(65535)], ['str 65536', str(65536)],
  ['bin 0', { $bin: '' }], ['bin 3', { $bin: '010203' }], ['bin 255', { $binrep: [7, 255] }],
  ['bin 256', { $binrep: [7, 256] }], ['bin 65535', { $binrep: [7, 65535] }], ['bin 65536', { $binrep: [7, 65536] }],
  ['ArrayBuffer 3', { $ab: '010203' }], ['ArrayBuffer 300', { $ab: '09'.repeat(300) }],
  ['array 0', []], ['array 15', { $arrrep: [1, 15] }], ['array 16', { $arrrep: [1, 16] }],
  ['array 65535', { $arrrep: [0, 65535] }], ['array 65536', { $arrrep: [0, 65536] }],
  ['map 0', { $obj: [] }], ['map 15', obj(15)], ['map 16', obj(16)], ['map 65536', obj(65536)],
  ['nested', [[[]], { $obj: [['a', [1, { $obj: [['b', null]] }]], ['é€😀', 'x']] }, [true, 0.5]]],
  ['undefined in object', { $obj: [['a', { $undefined: 1 }], ['b', 1]] }],
  ['undefined in array', [{ $undefined: 1 }, 1]],
  ['date 0', { $date: 0 }], ['date now', { $date: 1795606298123 }], ['date -1', { $date: -1 }],
];

const packets = [
  ['packet event', { $obj: [['type', 2], ['data', ['chat message', { $obj: [['text', 'hi'], ['n', 1]] }]], ['nsp', '/']] }],
  ['packet event with id', { $obj: [['type', 2], ['data', ['echo', 1, 'two', [3]]], ['nsp', '/admin'], ['id', 42]] }],
  ['packet ack', { $obj: [['type', 3], ['data', [{ $obj: [['ok', true]] }]], ['nsp', '/'], ['id', 1234567]] }],
  ['packet event with Buffer', { $obj: [['type', 2], ['data', ['upload', { $bin: 'deadbeef' }, { $obj: [['name', 'f.bin']] }]], ['nsp', '/']] }],
  ['packet connect', { $obj: [['type', 0], ['data', { $obj: [['token', 'abc']] }], ['nsp', '/']] }],
  ['packet connect without auth', { $obj: [['type', 0], ['data', { $undefined: 1 }], ['nsp', '/']] }],
  ['packet connect reply', { $obj: [['type', 0], ['data', { $obj: [['sid', 'oSO0OpakMV_3jnilAAAA']] }], ['nsp', '/']] }],
  ['packet disconnect', { $obj: [['type', 1], ['nsp', '/chat']] }],
  ['packet connect_error', { $obj: [['type', 4], ['data', { $obj: [['message', 'Not authorized']] }], ['nsp', '/']] }],
];

// Bytes notepack never writes but decodes.
const decode = [
  ['float32 1.5', 'ca3fc00000'], ['float32 0.1', 'ca3dcccccd'],
  ['uint64 2^53+1', 'cf0020000000000001'], ['uint64 max', 'cfffffffffffffffff'],
  ['int64 -2^63', 'd38000000000000000'], ['int64 positive', 'd30000000000000005'],
  ['int8 positive', 'd005'], ['int16 -1', 'd1ffff'], ['int32 7', 'd200000007'],
  ['str8 short', 'd903616263'], ['str16 short', 'da0001' + '61'], ['array16 short', 'dc000101'],
  ['map16 short', 'de0001a16101'], ['array32 short', 'dd0000000101'], ['map32 short', 'df00000001a16101'],
  ['fixext1 type 5', 'd40509'], ['fixext2', 'd5050102'], ['fixext4 timestamp', 'd6ff00000001'],
  ['fixext8 type 3', 'd7030102030405060708'], ['fixext16', 'd801' + '00'.repeat(16)],
  ['ext8 type 7', 'c7020701 02'.replace(' ', '')], ['ext8 type 0', 'c703000a0b0c'],
  ['ext16 type 0', 'c80002000102'], ['ext32 type -1', 'c900000001ff2a'],
  ['date invalid', 'd70000ffffffffffffff'], ['date min', 'd700ffe14df73d240000'], ['date beyond max', 'd700001eb208c2dc0001'],
  ['undefined other payload', 'd40007'], ['map with undefined', '82a161d40000a16201'],
];

const result = { notepack: notepackVersion, encode: [], decode: [] };
for (const [name, spec] of encode.concat(packets)) {
  const value = build(spec);
  const bytes = name.startsWith('packet') ? new Encoder().encode(value)[0] : notepack.encode(value);
  result.encode.push({ name, value: spec, ...out(bytes) });
}
for (const [name, hex] of decode) {
  let expect;
  try { expect = tag(notepack.decode(Buffer.from(hex, 'hex'))); } catch (e) { expect = { $error: e.message }; }
  result.decode.push({ name, hex, expect });
}
// One vector per line keeps diffs readable.
const lines = (xs) => xs.map((x) => '  ' + JSON.stringify(x)).join(',\n');
process.stdout.write(`{\n "notepack": ${JSON.stringify(result.notepack)},\n "encode": [\n${lines(result.encode)}\n ],\n "decode": [\n${lines(result.decode)}\n ]\n}\n`);
