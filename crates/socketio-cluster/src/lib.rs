//! The cluster side of a `socketio-server` adapter, written once: Node's `ClusterAdapter`
//! request/response protocol (broadcasts, broadcasts with acknowledgements and client counts,
//! `socketsJoin` / `socketsLeave`, `disconnectSockets`, `fetchSockets`, `serverSideEmit` with
//! answers, heartbeats and server counts, timeouts) over a small publish/subscribe seam,
//! [`Transport`]. A backend (Redis, PostgreSQL…) only moves bytes: it encodes [`Message`]s in its
//! wire format, publishes them, and hands what it receives to [`ClusterAdapter::handle`].
//!
//! ```text
//!   namespace ──(Adapter trait)──> ClusterAdapter ──(Transport::publish)──> backend ──> other servers
//!   namespace <─(LocalNamespace)── ClusterAdapter <──(handle(Message))───── backend <── other servers
//! ```
//!
//! Packets travel as Node's Socket.IO packet objects (`{type, data, nsp}`, binary inline) so
//! that Node servers and ours understand each other whatever parser their clients use
//! ([`packet`]); values are [`Value`]s (JSON plus binary).
//!
//! [`bus::Bus`] is an in-process backend, for tests and for several servers in one process.

pub mod bus;
mod engine;
pub mod message;
pub mod packet;
pub mod value;

pub use engine::{ClusterAdapter, ClusterConfig, Heartbeat, StoredSession, Transport, random_id};
pub use message::{Body, Message, Opts};
pub use value::Value;
