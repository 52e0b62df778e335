//! A plain loop over one bench function, for profilers whose counts must not depend on timing
//! (`valgrind --tool=callgrind`, `perf record`): `profile <format> <direction> <input> <side> [n]`,
//! e.g. `profile json decode event_64B ours 10000` (`side`: ours, ours_full or socketioxide).
//! The direction `decode_typed` runs the typed decode (`parser_bench::typed`).

use std::hint::black_box;

use parser_bench::typed::Typed;
use parser_bench::{Args, Format, Input, inputs, ours, theirs, wire, with_typed};

fn typed<T: Typed>(input: &Input, format: Format, side: &str, n: usize) {
    let w = wire(input, format);
    if side == "socketioxide" {
        let ctx = theirs::Ctx::default();
        let w = theirs::WireIn::new(&w);
        for _ in 0..n {
            black_box(
                theirs::decode_typed_args::<T, _>(format, &ctx, black_box(&w), |n, i, a| {
                    black_box((n, i, &a));
                })
                .ok(),
            );
        }
    } else {
        let mut d = ours::decoder(format);
        let w = ours::WireIn::new(&w);
        for _ in 0..n {
            black_box(
                ours::decode_typed_args::<T, _>(&mut d, black_box(&w), |n, i, a| {
                    black_box((n, i, &a));
                })
                .ok(),
            );
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [format, direction, input, side, rest @ ..] = a.as_slice() else {
        eprintln!("usage: profile <json|msgpack> <decode|encode> <input id> <side> [iterations]");
        std::process::exit(2);
    };
    let n: usize = rest.first().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let format = match format.as_str() {
        "json" => Format::Json,
        _ => Format::Msgpack,
    };
    let Some(input) = inputs().into_iter().find(|i| i.id == input) else {
        eprintln!("unknown input {input}");
        std::process::exit(2);
    };
    let w = wire(&input, format);
    match (direction.as_str(), side.as_str()) {
        ("decode_typed", side) => {
            with_typed!(input.id, T => typed::<T>(&input, format, side, n));
        }
        ("decode", "socketioxide") => {
            let ctx = theirs::Ctx::default();
            let w = theirs::WireIn::new(&w);
            for _ in 0..n {
                if input.is_binary() {
                    black_box(theirs::decode_typed(format, &ctx, black_box(&w)).ok());
                } else {
                    black_box(theirs::decode_values(format, &ctx, black_box(&w)).ok());
                }
            }
        }
        ("decode", side) => {
            let mut d = if side == "ours_full" {
                ours::decoder_full(format)
            } else {
                ours::decoder(format)
            };
            let w = ours::WireIn::new(&w);
            for _ in 0..n {
                if input.is_binary() {
                    black_box(
                        ours::decode_typed(&mut d, black_box(&w), |n, i, a| {
                            black_box((n, i, &a));
                        })
                        .ok(),
                    );
                } else {
                    black_box(
                        ours::decode_values(&mut d, black_box(&w), |n, i, a| {
                            black_box((n, i, &a));
                        })
                        .ok(),
                    );
                }
            }
        }
        (_, side) => {
            for _ in 0..n {
                match (&input.args, side) {
                    (Args::Values(v), "socketioxide") => {
                        black_box(theirs::encode_values(format, input.event, input.ack_id, v).ok());
                    }
                    (Args::Values(v), _) => {
                        black_box(ours::encode_values(format, input.event, input.ack_id, v).ok());
                    }
                    (Args::Binary(v, b), "socketioxide") => {
                        black_box(
                            theirs::encode_typed(format, input.event, input.ack_id, v, b).ok(),
                        );
                    }
                    (Args::Binary(v, b), _) => {
                        black_box(ours::encode_typed(format, input.event, input.ack_id, v, b).ok());
                    }
                }
            }
        }
    }
}
