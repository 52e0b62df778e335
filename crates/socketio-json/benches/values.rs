//! The direct `Value` paths against serde_json's own: `values_from_array` /
//! `array_first_str` vs `serde_json::from_slice::<Vec<Value>>`, `write_value` vs
//! `serde_json::to_writer`, and the serde paths on typed structs.
//!
//! Run: `cargo bench -p socketio-json --bench values`. On a busy machine compare the lower
//! bounds of the intervals.
#![allow(missing_docs, clippy::unwrap_used)] // bench harness

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socketio_json::Limits;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Geo {
    lat: f64,
    lng: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Address {
    street: String,
    city: String,
    zip: String,
    geo: Geo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    email: String,
    active: bool,
    score: f64,
    balance: i64,
    tags: Vec<String>,
    address: Address,
    friends: Vec<u32>,
    bio: Option<String>,
}

fn user(i: u64) -> User {
    User {
        id: 100_000 + i * 7919,
        name: format!("User Number {i}"),
        email: format!("user{i}@example.com"),
        active: i % 3 != 0,
        score: 50.0 + (i as f64) * 1.37,
        balance: -(i as i64) * 1234,
        tags: vec!["alpha".into(), format!("group-{}", i % 5), "beta".into()],
        address: Address {
            street: format!("{} Rue de Rivoli", 10 + i),
            city: if i % 4 == 0 {
                "Zürich".into()
            } else {
                "Paris".into()
            },
            zip: format!("750{:02}", i % 20),
            geo: Geo {
                lat: 48.8566 + i as f64 * 0.001,
                lng: 2.3522 - i as f64 * 0.002,
            },
        },
        friends: (0..(i % 6) as u32).map(|f| f * 31 + 7).collect(),
        bio: (i % 2 == 0).then(|| format!("Line one\nhas a \"quote\" and {i} items")),
    }
}

fn users(n: u64) -> Vec<User> {
    (0..n).map(user).collect()
}

/// (name, packet JSON array) — the Socket.IO inputs of the project's performance target.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let small = json!(["message", {"id": 42, "user": "alice", "text": "hello!", "ok": true}]);
    let large = json!(["update", users(13)]);
    let binary = json!(["upload", {"name": "photo.png", "size": 4096,
        "data": {"_placeholder": true, "num": 0}}]);
    let ack = json!([{"status": "ok", "id": 1234}]);
    let v = vec![
        ("event_64b", serde_json::to_vec(&small).unwrap()),
        ("event_4k", serde_json::to_vec(&large).unwrap()),
        ("event_binary", serde_json::to_vec(&binary).unwrap()),
        ("ack", serde_json::to_vec(&ack).unwrap()),
    ];
    for (name, bytes) in &v {
        eprintln!("{name}: {} bytes", bytes.len());
    }
    v
}

fn decode(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, input) in inputs() {
        let is_ack = name == "ack";
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function("serde_json", |b| {
            b.iter(|| {
                let v: Vec<Value> = serde_json::from_slice(black_box(&input)).unwrap();
                black_box(v)
            })
        });
        g.bench_function("ours", |b| {
            b.iter(|| {
                let input = black_box(&input[..]);
                if is_ack {
                    black_box(socketio_json::values_from_array(input, 0, &limits).unwrap())
                } else {
                    let (name, _) = socketio_json::array_first_str(input).unwrap();
                    black_box(name);
                    black_box(socketio_json::values_from_array(input, 1, &limits).unwrap())
                }
            })
        });
        g.finish();
        let mut g = c.benchmark_group(format!("value/{name}"));
        g.bench_function("serde_json", |b| {
            b.iter(|| black_box(serde_json::from_slice::<Value>(black_box(&input)).unwrap()))
        });
        g.bench_function("ours", |b| {
            b.iter(|| {
                black_box(socketio_json::value_from_slice(black_box(&input), &limits).unwrap())
            })
        });
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    for (name, input) in inputs() {
        let value: Value = serde_json::from_slice(&input).unwrap();
        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function("serde_json", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(64);
                serde_json::to_writer(&mut out, black_box(&value)).unwrap();
                black_box(out)
            })
        });
        g.bench_function("ours", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(64);
                socketio_json::write_value(&mut out, black_box(&value));
                black_box(out)
            })
        });
        g.finish();
        // The writers alone: the output buffer is reused, as a codec with a pooled buffer does.
        let mut g = c.benchmark_group(format!("encode_reused_buf/{name}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut out = Vec::with_capacity(8192);
        g.bench_function("serde_json", |b| {
            b.iter(|| {
                out.clear();
                serde_json::to_writer(&mut out, black_box(&value)).unwrap();
                black_box(out.len())
            })
        });
        g.bench_function("ours", |b| {
            b.iter(|| {
                out.clear();
                socketio_json::write_value(&mut out, black_box(&value));
                black_box(out.len())
            })
        });
        g.finish();
    }
}

fn typed(c: &mut Criterion) {
    let limits = Limits::default();
    let data = users(13);
    let json = serde_json::to_vec(&data).unwrap();
    let mut g = c.benchmark_group("typed_4k");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("de/serde_json", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Vec<User>>(black_box(&json)).unwrap()))
    });
    g.bench_function("de/ours", |b| {
        b.iter(|| {
            black_box(
                socketio_json::from_slice::<Vec<User>>(black_box(&json), &[], &limits).unwrap(),
            )
        })
    });
    g.bench_function("ser/serde_json", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(64);
            serde_json::to_writer(&mut out, black_box(&data)).unwrap();
            black_box(out)
        })
    });
    g.bench_function("ser/ours", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(64);
            socketio_json::to_writer(&mut out, black_box(&data), &mut Vec::new()).unwrap();
            black_box(out)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = decode, encode, typed
}
criterion_main!(benches);
