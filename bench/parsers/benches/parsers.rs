//! Our Socket.IO parsers side by side with socketioxide's, on the same inputs, in the same run.
//!
//! One criterion group per (format, direction, input), e.g. `json-decode-event_64B`, holding the
//! functions `ours` and `socketioxide`. `cargo run --release -p parser-bench --bin report` prints
//! the ratios; `bench/parsers/run.sh` does both. What is measured: `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use parser_bench::typed::Typed;
use parser_bench::{
    Args, Direction, Format, Input, Message, OURS, OURS_FULL, THEIRS, group_id, inputs, ours,
    theirs, typed_group_id, verify, verify_typed, wire, with_typed,
};

fn wire_len(wire: &[Message]) -> u64 {
    wire.iter()
        .map(|m| match m {
            Message::Text(t) => t.len() as u64,
            Message::Binary(b) => b.len() as u64,
        })
        .sum()
}

fn group<'a>(
    c: &'a mut Criterion,
    format: Format,
    direction: Direction,
    input: &Input,
    bytes: u64,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(group_id(format, direction, input.id));
    group.throughput(Throughput::Bytes(bytes));
    group
}

fn decode(c: &mut Criterion, input: &Input, format: Format, ours_ok: bool) {
    let wire = wire(input, format);
    let mut group = group(c, format, Direction::Decode, input, wire_len(&wire));

    let theirs_ctx = theirs::Ctx::default();
    let theirs_wire = theirs::WireIn::new(&wire);
    if ours_ok {
        let ours_wire = ours::WireIn::new(&wire);
        for (name, mut decoder) in [
            (OURS, ours::decoder(format)),
            (OURS_FULL, ours::decoder_full(format)),
        ] {
            if input.is_binary() {
                group.bench_function(name, |b| {
                    b.iter(|| {
                        ours::decode_typed(&mut decoder, black_box(&ours_wire), |name, id, args| {
                            black_box((name, id, &args));
                        })
                        .expect("decode")
                    })
                });
            } else {
                group.bench_function(name, |b| {
                    b.iter(|| {
                        ours::decode_values(
                            &mut decoder,
                            black_box(&ours_wire),
                            |name, id, args| {
                                black_box((name, id, &args));
                            },
                        )
                        .expect("decode")
                    })
                });
            }
        }
    }
    if input.is_binary() {
        group.bench_function(THEIRS, |b| {
            b.iter(|| {
                theirs::decode_typed(format, &theirs_ctx, black_box(&theirs_wire)).expect("decode")
            })
        });
    } else {
        group.bench_function(THEIRS, |b| {
            b.iter(|| {
                theirs::decode_values(format, &theirs_ctx, black_box(&theirs_wire)).expect("decode")
            })
        });
    }
    group.finish();
}

/// Typed decode: both sides deserialize into the same structs (`parser_bench::typed`); the
/// structs are dropped inside the timed loop.
fn decode_typed<T: Typed>(c: &mut Criterion, input: &Input, format: Format, ours_ok: bool) {
    let wire = wire(input, format);
    let mut group = c.benchmark_group(typed_group_id(format, input.id));
    group.throughput(Throughput::Bytes(wire_len(&wire)));
    if ours_ok {
        let ours_wire = ours::WireIn::new(&wire);
        let mut decoder = ours::decoder(format);
        group.bench_function(OURS, |b| {
            b.iter(|| {
                ours::decode_typed_args::<T, _>(
                    &mut decoder,
                    black_box(&ours_wire),
                    |name, id, args| {
                        black_box((name, id, &args));
                    },
                )
                .expect("decode")
            })
        });
    }
    let ctx = theirs::Ctx::default();
    let theirs_wire = theirs::WireIn::new(&wire);
    group.bench_function(THEIRS, |b| {
        b.iter(|| {
            theirs::decode_typed_args::<T, _>(
                format,
                &ctx,
                black_box(&theirs_wire),
                |name, id, args| {
                    black_box((name, id, &args));
                },
            )
            .expect("decode")
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion, input: &Input, format: Format, ours_ok: bool) {
    let wire = wire(input, format);
    let mut group = group(c, format, Direction::Encode, input, wire_len(&wire));
    let (event, ack_id) = (input.event, input.ack_id);
    match &input.args {
        Args::Values(args) => {
            if ours_ok {
                group.bench_function(OURS, |b| {
                    b.iter(|| {
                        ours::encode_values(format, black_box(event), ack_id, black_box(args))
                            .expect("encode")
                    })
                });
            }
            group.bench_function(THEIRS, |b| {
                b.iter(|| {
                    theirs::encode_values(format, black_box(event), ack_id, black_box(args))
                        .expect("encode")
                })
            });
        }
        Args::Binary(value, bin) => {
            if ours_ok {
                group.bench_function(OURS, |b| {
                    b.iter(|| {
                        ours::encode_typed(format, black_box(event), ack_id, black_box(value), bin)
                            .expect("encode")
                    })
                });
            }
            group.bench_function(THEIRS, |b| {
                b.iter(|| {
                    theirs::encode_typed(format, black_box(event), ack_id, black_box(value), bin)
                        .expect("encode")
                })
            });
        }
    }
    group.finish();
}

fn parsers(c: &mut Criterion) {
    for input in inputs() {
        for format in Format::ALL {
            // Like with like: both sides must read and write the same values before any timing.
            let ours_ok = match verify(&input, format) {
                Ok(None) => true,
                Ok(Some(note)) => {
                    eprintln!("note: {note}");
                    true
                }
                Err(e) => {
                    eprintln!(
                        "SKIPPING ours for {} ({}): sides disagree: {e}",
                        input.id,
                        format.id()
                    );
                    false
                }
            };
            decode(c, &input, format, ours_ok);
            encode(c, &input, format, ours_ok);
            let typed_ok = match verify_typed(&input, format) {
                Ok(()) => ours_ok,
                Err(e) => {
                    eprintln!("SKIPPING ours typed for {}: {e}", input.id);
                    false
                }
            };
            if with_typed!(input.id, T => decode_typed::<T>(c, &input, format, typed_ok)).is_none()
            {
                eprintln!("no typed structs for {}", input.id);
            }
        }
    }
}

criterion_group! {
    name = benches;
    // Short runs so the whole comparison takes a few minutes; the command line overrides these.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = parsers
}
criterion_main!(benches);
