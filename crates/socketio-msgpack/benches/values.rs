//! Event packets between MessagePack and `serde_json::Value`: this crate's direct paths against
//! socketioxide's published msgpack parser (`socketioxide-parser-msgpack` 0.17, its whole decode /
//! encode path for an event) and against bare `rmp_serde` (the library that parser is built on)
//! doing the least work it can.
//!
//! Decode: a packet map `{type, data: [event, ...args], nsp, id?}` → event name + args as Values.
//! Encode: event name + args as Values → the same packet bytes.
//!
//! `cargo bench -p socketio-msgpack --bench values` runs criterion;
//! `RATIO=1 cargo bench -p socketio-msgpack --bench values` prints interleaved min-of-rounds
//! ratios, steadier on a busy machine. Decoding is dominated by what every `serde_json::Value`
//! builder pays (allocations, `BTreeMap` inserts, drops), so its margin over bare `rmp_serde` is
//! modest; it also varies by some 20% between runs with address-space layout randomization
//! (`setarch -R` pins the fast layout).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socketio_msgpack::{Limits, Reader, value_from_reader, write, write_value};
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_parser_msgpack::MsgPackParser;

fn small_args() -> Vec<Value> {
    vec![json!({"user": "alice", "text": "hello there!", "ts": 1_700_000_000_u64, "ok": true})]
}

fn large_args() -> Vec<Value> {
    let msgs: Vec<Value> = (0..24)
        .map(|i| {
            json!({
                "id": 1000 + i,
                "user": {"name": format!("user-{i}"), "avatar": "https://example.com/a.png", "admin": i % 5 == 0},
                "text": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.",
                "score": 0.5 + f64::from(i),
                "tags": ["a", "bb", "ccc"],
                "reply": null,
            })
        })
        .collect();
    vec![json!("room-42"), Value::Array(msgs), json!(7)]
}

/// Ours: the packet written with the low-level writer and `write_value`.
fn encode_ours(out: &mut Vec<u8>, event: &str, args: &[Value], id: Option<u64>) {
    write::map_len(out, 3 + u32::from(id.is_some()));
    write::str(out, "type");
    write::uint(out, 2);
    write::str(out, "data");
    write::array_len(out, args.len() as u32 + 1);
    write::str(out, event);
    for a in args {
        write_value(out, a);
    }
    write::str(out, "nsp");
    write::str(out, "/");
    if let Some(id) = id {
        write::str(out, "id");
        write::uint(out, id);
    }
}

/// Ours: walk the map with the Reader, decode the args straight into Values.
fn decode_ours(bytes: &[u8]) -> (String, Vec<Value>) {
    let limits = Limits::default();
    let mut r = Reader::new(bytes);
    let n = r.read_map_len().expect("map");
    let mut event = String::new();
    let mut args = Vec::new();
    for _ in 0..n {
        match r.read_str().expect("key") {
            "data" => {
                let len = r.read_array_len().expect("array");
                event = r.read_str().expect("event").to_owned();
                args.reserve(len as usize - 1);
                for _ in 1..len {
                    args.push(value_from_reader(&mut r, &limits).expect("arg"));
                }
            }
            _ => r.skip_value(&limits).expect("skip"),
        }
    }
    (event, args)
}

struct EventData<'a> {
    event: &'a str,
    args: &'a [Value],
}

impl Serialize for EventData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.args.len() + 1))?;
        seq.serialize_element(self.event)?;
        for a in self.args {
            seq.serialize_element(a)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct PacketOut<'a> {
    r#type: u8,
    data: EventData<'a>,
    nsp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
}

#[derive(Deserialize)]
struct PacketIn {
    #[allow(dead_code)]
    r#type: u8,
    data: Vec<Value>,
    #[allow(dead_code)]
    nsp: String,
    #[allow(dead_code)]
    id: Option<u64>,
}

fn decode_rmp(bytes: &[u8]) -> (String, Vec<Value>) {
    let p: PacketIn = rmp_serde::from_slice(bytes).expect("rmp decodes");
    let mut data = p.data.into_iter();
    let event = match data.next() {
        Some(Value::String(s)) => s,
        _ => panic!("event name"),
    };
    (event, data.collect())
}

fn encode_rmp(out: &mut Vec<u8>, event: &str, args: &[Value], id: Option<u64>) {
    let p = PacketOut {
        r#type: 2,
        data: EventData { event, args },
        nsp: "/",
        id,
    };
    rmp_serde::encode::write_named(out, &p).expect("rmp encodes");
}

struct ArgsTuple<'a>(&'a [Value]);

impl Serialize for ArgsTuple<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(self.0.len())?;
        for a in self.0 {
            t.serialize_element(a)?;
        }
        t.end()
    }
}

/// A newtype over a sequence, which socketioxide's `decode_value` fills with the whole array.
#[derive(Deserialize)]
struct AllElements(Vec<Value>);

/// socketioxide: `decode_bin`, then `decode_value` of all the elements (its `with_event` mode
/// unwraps a single argument, so the whole array is taken and split, as the parser benches do).
fn decode_sx(bytes: &bytes::Bytes) -> (String, Vec<Value>) {
    let (config, state) = (ParseConfig::default(), ParserState::default());
    let packet = MsgPackParser
        .decode_bin(&config, &state, bytes.clone())
        .expect("sx decodes");
    match packet.inner {
        PacketData::Event(mut data, _) => {
            let all: AllElements = MsgPackParser.decode_value(&mut data, false).expect("args");
            let mut all = all.0.into_iter();
            match all.next() {
                Some(Value::String(event)) => (event, all.collect()),
                _ => panic!("event name"),
            }
        }
        other => panic!("{other:?}"),
    }
}

/// socketioxide: `encode_value`, then `encode` of the packet.
fn encode_sx(event: &str, args: &[Value], id: Option<u64>) -> usize {
    let data = MsgPackParser
        .encode_value(&ArgsTuple(args), Some(event))
        .expect("sx encodes");
    let mut packet = Packet::event("/", data);
    if let Some(id) = id {
        packet.inner.set_ack_id(id as i64);
    }
    match MsgPackParser.encode(packet) {
        socketioxide_core::Value::Bytes(b) => b.len(),
        socketioxide_core::Value::Str(..) => panic!("text"),
    }
}

fn bench(c: &mut Criterion) {
    for (name, args, id) in [
        ("small", small_args(), None),
        ("large", large_args(), Some(12)),
    ] {
        let mut bytes = Vec::new();
        encode_ours(&mut bytes, "message", &args, id);
        let mut rmp_bytes = Vec::new();
        encode_rmp(&mut rmp_bytes, "message", &args, id);
        assert_eq!(decode_ours(&bytes), decode_rmp(&bytes));
        assert_eq!(decode_rmp(&rmp_bytes).1, args);
        let shared = bytes::Bytes::from(bytes.clone());
        assert_eq!(decode_sx(&shared), decode_ours(&bytes));
        assert_eq!(encode_sx("message", &args, id), bytes.len());

        let mut g = c.benchmark_group(format!("event_{name}_{}B", bytes.len()));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("decode/ours", |b| b.iter(|| decode_ours(black_box(&bytes))));
        g.bench_function("decode/rmp_serde", |b| {
            b.iter(|| decode_rmp(black_box(&bytes)))
        });
        g.bench_function("decode/socketioxide", |b| {
            b.iter(|| decode_sx(black_box(&shared)))
        });
        let mut out = Vec::with_capacity(bytes.len() * 2);
        g.bench_function("encode/ours", |b| {
            b.iter(|| {
                out.clear();
                encode_ours(&mut out, "message", black_box(&args), id);
                black_box(out.len())
            })
        });
        g.bench_function("encode/rmp_serde", |b| {
            b.iter(|| {
                out.clear();
                encode_rmp(&mut out, "message", black_box(&args), id);
                black_box(out.len())
            })
        });
        g.bench_function("encode/socketioxide", |b| {
            b.iter(|| encode_sx("message", black_box(&args), id))
        });
        g.finish();
    }
}

/// Interleaved min-of-rounds timing, robust on a loaded machine:
/// `RATIO=1 cargo bench -p socketio-msgpack --bench values` prints each baseline's time divided
/// by ours.
fn ratios() {
    fn timer(iters: u32, mut f: impl FnMut()) -> impl FnMut() -> f64 {
        move || {
            let t = std::time::Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        }
    }
    for (name, args, id, iters) in [
        ("small", small_args(), None, 20_000),
        ("large", large_args(), Some(12), 300),
    ] {
        let mut bytes = Vec::new();
        encode_ours(&mut bytes, "message", &args, id);
        let shared = bytes::Bytes::from(bytes.clone());
        let (mut out1, mut out2) = (Vec::with_capacity(8192), Vec::with_capacity(8192));
        let mut fs: Vec<Box<dyn FnMut() -> f64>> = vec![
            Box::new(timer(iters, || {
                drop(black_box(decode_ours(black_box(&bytes))))
            })),
            Box::new(timer(iters, || {
                drop(black_box(decode_rmp(black_box(&bytes))))
            })),
            Box::new(timer(iters, || {
                drop(black_box(decode_sx(black_box(&shared))))
            })),
            Box::new(timer(iters, || {
                out1.clear();
                encode_ours(&mut out1, "message", black_box(&args), id);
            })),
            Box::new(timer(iters, || {
                out2.clear();
                encode_rmp(&mut out2, "message", black_box(&args), id);
            })),
            Box::new(timer(iters, || {
                black_box(encode_sx("message", black_box(&args), id));
            })),
        ];
        let mut best = [f64::MAX; 6];
        for _ in 0..200 {
            for (b, f) in best.iter_mut().zip(fs.iter_mut()) {
                *b = b.min(f());
            }
        }
        println!(
            "{name} ({} B): decode ours {:.0} ns | rmp_serde {:.0} ns = {:.2}x | socketioxide {:.0} ns = {:.2}x",
            bytes.len(),
            best[0],
            best[1],
            best[1] / best[0],
            best[2],
            best[2] / best[0],
        );
        println!(
            "{name} ({} B): encode ours {:.0} ns | rmp_serde {:.0} ns = {:.2}x | socketioxide {:.0} ns = {:.2}x",
            bytes.len(),
            best[3],
            best[4],
            best[4] / best[3],
            best[5],
            best[5] / best[3],
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os("RATIO").is_some() {
        ratios();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
