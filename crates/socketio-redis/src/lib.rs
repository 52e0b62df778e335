//! Redis for `socketio-server` clusters, byte-compatible with the official Node packages:
//!
//! - [`RedisAdapter`]: npm `@socket.io/redis-adapter` (`createAdapter`, Redis pub/sub): Rust
//!   and Node servers share one cluster: broadcasts, rooms, broadcasts with acknowledgements,
//!   `fetchSockets`, `socketsJoin` / `socketsLeave`, `disconnectSockets`, `serverSideEmit`;
//! - [`ShardedRedisAdapter`]: its sharded mode (`createShardedAdapter`, Redis 7 `SPUBLISH` /
//!   `SSUBSCRIBE`, Node's `ClusterAdapter` messages), static or dynamic subscriptions;
//! - [`StreamsAdapter`]: npm `@socket.io/redis-streams-adapter` (Redis Streams), with connection
//!   state recovery across servers;
//! - [`Emitter`]: npm `@socket.io/redis-emitter`: a process that is not a server emits to the
//!   clients of the cluster.
//!
//! The cluster logic is `socketio-cluster`'s; this crate only moves bytes ([`codec`] says which
//! bytes on which channel).
//!
//! # Resilience
//!
//! The adapter reconnects after Redis restarts (publisher and subscriber alike, with backoff),
//! never makes local delivery wait for Redis (messages for other servers go through a bounded
//! queue), and counts what was lost meanwhile ([`RedisAdapter::stats`]; a warning is logged
//! when publishing fails, when the queue overflows and when the subscription comes back).

mod adapter;
pub mod codec;
mod common;
mod emitter;
mod sharded;
mod streams;

pub use adapter::{RedisAdapter, RedisConfig, RedisStats};
pub use emitter::{Emitter, EmitterError};
pub use sharded::{ShardedConfig, ShardedRedisAdapter, SubscriptionMode};
pub use streams::{StreamsAdapter, StreamsConfig, stream_name};
