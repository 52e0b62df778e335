//! [`Emitter`]: a process that is not a Socket.IO server sends to the clients of a cluster, as
//! npm `@socket.io/redis-emitter` does (same channels, same bytes).

use serde::Serialize;
use socketio_cluster::value::Value;
use socketio_cluster::{Body, Message, Opts};

use crate::codec::{Channels, encode_request};

/// Sends events to the clients of a Redis-adapter cluster without being a server of it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let emitter = socketio_redis::Emitter::new("redis://127.0.0.1:6379/")?;
/// emitter.to("room1").emit("news", &("hello",)).await?;
/// emitter.of("/admin").sockets_join("vip").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Emitter {
    client: redis::Client,
    key: String,
    nsp: String,
    opts: Opts,
}

/// Why an emit failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitterError {
    /// The arguments cannot be serialized.
    #[error("cannot serialize the arguments: {0}")]
    Serialize(String),
    /// Redis refused or could not be reached.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

impl Emitter {
    /// An emitter for the main namespace, with the default channel prefix `socket.io`.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    pub fn new(url: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            key: "socket.io".to_owned(),
            nsp: "/".to_owned(),
            opts: Opts::default(),
        })
    }

    /// With channel prefix `key` (the adapters' `key` option).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The same emitter for namespace `nsp`.
    #[must_use]
    pub fn of(&self, nsp: &str) -> Self {
        let mut emitter = self.clone();
        emitter.nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        emitter.opts = Opts::default();
        emitter
    }

    /// Targets sockets in `room` (several calls: any of them).
    #[must_use]
    pub fn to(&self, room: impl Into<String>) -> Self {
        let mut emitter = self.clone();
        let room = room.into();
        if !emitter.opts.rooms.contains(&room) {
            emitter.opts.rooms.push(room);
        }
        emitter
    }

    /// Excludes the sockets in `room`.
    #[must_use]
    pub fn except(&self, room: impl Into<String>) -> Self {
        let mut emitter = self.clone();
        emitter.opts.except.push(room.into());
        emitter
    }

    /// The event may be dropped for clients that cannot take it now.
    #[must_use]
    pub fn volatile(&self) -> Self {
        let mut emitter = self.clone();
        emitter.opts.volatile = true;
        emitter
    }

    fn message(&self, body: Body) -> Message {
        Message {
            uid: socketio_cluster::message::EMITTER_UID.to_owned(),
            nsp: self.nsp.clone(),
            body,
        }
    }

    async fn send(&self, body: Body) -> Result<(), EmitterError> {
        let channels = Channels::new(&self.key, &self.nsp);
        let Some(out) = encode_request(&channels, &self.message(body)) else {
            return Ok(());
        };
        let mut conn = self.client.get_multiplexed_async_connection().await?;
        let () = redis::cmd("PUBLISH")
            .arg(out.channel)
            .arg(out.payload)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Sends `event` with `args` (a tuple for several arguments, `()` for none; bytes become
    /// binary) to the targeted sockets of every server.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be serialized or Redis cannot be reached.
    pub async fn emit<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), EmitterError> {
        let args = socketio_server::Args::new(socketio_server::Parser::Json, args)
            .map_err(|e| EmitterError::Serialize(e.to_string()))?;
        let args = socketio_cluster::packet::args_to_values(&args)
            .ok_or_else(|| EmitterError::Serialize("unreadable arguments".into()))?;
        let packet = socketio_cluster::packet::EventPacket {
            nsp: self.nsp.clone(),
            event: event.to_owned(),
            args,
        };
        self.send(Body::Broadcast {
            packet: packet.to_value(),
            opts: self.opts.clone(),
            request_id: None,
        })
        .await
    }

    /// Makes the targeted sockets join `room`.
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn sockets_join(&self, room: impl Into<String>) -> Result<(), EmitterError> {
        self.send(Body::SocketsJoin {
            opts: self.opts.clone(),
            rooms: vec![room.into()],
        })
        .await
    }

    /// Makes the targeted sockets leave `room`.
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn sockets_leave(&self, room: impl Into<String>) -> Result<(), EmitterError> {
        self.send(Body::SocketsLeave {
            opts: self.opts.clone(),
            rooms: vec![room.into()],
        })
        .await
    }

    /// Disconnects the targeted sockets (with `close`, their whole connections).
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        self.send(Body::DisconnectSockets {
            opts: self.opts.clone(),
            close,
        })
        .await
    }

    /// Sends `event` to every server (Node's `serverSideEmit`; no answers).
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn server_side_emit(
        &self,
        event: &str,
        args: &[serde_json::Value],
    ) -> Result<(), EmitterError> {
        let mut packet = vec![Value::str(event)];
        packet.extend(args.iter().map(Value::from));
        self.send(Body::ServerSideEmit {
            request_id: None,
            packet,
        })
        .await
    }
}
