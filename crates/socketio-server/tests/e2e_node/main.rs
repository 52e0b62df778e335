//! The official npm `socket.io-client` (4.x, in Node) against this server: every feature of the
//! server API, over long-polling, WebSocket and the polling-to-WebSocket upgrade, with the JSON
//! and the msgpack (`socket.io-msgpack-parser`) parsers; and the 2.x client (protocol v4) with
//! the `v4` feature.
//!
//! Each test starts a server on 127.0.0.1 (port 0) set up for its scenario, runs
//! `node e2e/scenarios/<scenario>.mjs <url> <transport>/<parser>` once per variant (all variants
//! at once, each with its own server), and checks both what the client reports and what the
//! server saw.
//!
//! Needs Node.js 18+, the clients installed once (`cd crates/socketio-server/e2e && npm ci`) and
//! the conformance example built (`cargo build -p socketio-server --all-features --example
//! conformance`). Then:
//!
//! ```text
//! cargo test -p socketio-server --all-features --test e2e_node -- --ignored --skip known_bug_
//! ```
//!
//! Tests named `known_bug_*` show open bugs (their `#[ignore]` reason says which).

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

mod basics;
mod broadcast;
mod conformance;
mod lifecycle;
mod recovery;
mod support;
#[cfg(feature = "v4")]
mod v4;
