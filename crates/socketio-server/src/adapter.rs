//! The adapter: how a namespace reaches the sockets of other servers. The namespace always
//! serves its own sockets itself; the adapter carries every operation to the rest of the
//! cluster and brings the answers back. [`MemoryAdapter`], the default, has no other server.
//!
//! The trait is object-safe and asynchronous so that a cluster adapter (Redis, PostgreSQL…)
//! answers with what other nodes say; no adapter type appears in the server's API.

use std::future::Future;
use std::pin::Pin;

use socketio_proto::{Args, Encoded};
use tokio::sync::mpsc;

use crate::Room;
use crate::ack::AckError;

/// A boxed future returned by [`Adapter`] methods.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which sockets a cluster operation is for, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<Room>,
    /// Sockets in none of these rooms (a socket's id counts as a room).
    pub except: Vec<Room>,
    /// The packet may be dropped for clients that cannot take it now.
    pub volatile: bool,
    /// The compression flag.
    pub compress: bool,
}

/// A socket on another server, as that server describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteSocketData {
    /// The socket id.
    pub id: Room,
    /// Its rooms, its own id included.
    pub rooms: Vec<Room>,
    /// Its handshake as the remote server serialized it.
    pub handshake: serde_json::Value,
    /// Its `data`, as the remote server serialized it.
    pub data: serde_json::Value,
}

/// An error from the cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Some servers did not answer in time.
    #[error("timeout reached: only {received} responses received out of {expected}")]
    Timeout {
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The cluster cannot be reached.
    #[error("adapter error: {0}")]
    Other(String),
}

/// Where the acknowledgements of remote recipients of a broadcast go.
pub type AckSink = mpsc::UnboundedSender<Result<Args, AckError>>;

/// Carries a namespace's operations to the other servers of a cluster. Every method has a
/// single-server default, so an adapter implements what its backend supports.
pub trait Adapter: Send + Sync + 'static {
    /// A broadcast already delivered to this server's sockets: deliver it on the others.
    fn broadcast(&self, _packet: &Encoded, _options: &BroadcastOptions) {}

    /// A broadcast with acknowledgements: deliver it on the other servers and send their
    /// sockets' answers to `acks`; resolves to how many answers to expect from them.
    fn broadcast_with_ack(
        &self,
        _packet: &Encoded,
        _options: &BroadcastOptions,
        _acks: AckSink,
    ) -> AdapterFuture<'_, Result<usize, AdapterError>> {
        Box::pin(async { Ok(0) })
    }

    /// The matching sockets of the other servers.
    fn fetch_sockets(
        &self,
        _options: &BroadcastOptions,
    ) -> AdapterFuture<'_, Result<Vec<RemoteSocketData>, AdapterError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Makes the matching sockets of the other servers join `rooms`.
    fn add_sockets(
        &self,
        _options: &BroadcastOptions,
        _rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Makes the matching sockets of the other servers leave `rooms`.
    fn del_sockets(
        &self,
        _options: &BroadcastOptions,
        _rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Disconnects the matching sockets of the other servers.
    fn disconnect_sockets(
        &self,
        _options: &BroadcastOptions,
        _close: bool,
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Sends an event to the other servers (Node's `serverSideEmit`); resolves to their
    /// answers (none on a single server).
    fn server_side_emit(
        &self,
        _event: &str,
        _args: Vec<serde_json::Value>,
    ) -> AdapterFuture<'_, Result<Vec<serde_json::Value>, AdapterError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// How many servers the cluster has, this one included.
    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(async { 1 })
    }
}

/// The single-server adapter (Node's in-memory `Adapter`): every operation stays on this
/// server, where the namespace already carried it out.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryAdapter;

impl Adapter for MemoryAdapter {}
