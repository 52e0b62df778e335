//! The load benchmark of `docs/BENCHMARKS.md`: a load generator speaking raw Engine.IO v4 /
//! Socket.IO v5 over WebSocket and HTTP long-polling (this library and the `loadgen` binary),
//! our benchmark server (`bench-server`) and the runner that starts every server, pins it and
//! the load generator to their cores, and prints the comparison (`bench-runner`).
//!
//! The load generator runs on one thread (a tokio current-thread runtime, one task per
//! connection) and reports its own CPU use, so a result where it was the bottleneck shows.
//! Every scenario is bounded in connections and time and stops by itself.

pub mod bcast;
pub mod echo;
pub mod http;
pub mod idle;
pub mod polling;
pub mod proto;
pub mod stats;
pub mod ws;

/// Reports progress to the runner: one JSON object per line on stdout.
pub type PhaseSink<'a> = &'a dyn Fn(&str);
