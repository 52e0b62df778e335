//! Broadcasting: [`BroadcastOperator`] selects sockets (rooms, exceptions, flags) and sends to
//! them, encoding the packet once for all of them.

use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::ack::BroadcastAckFuture;
use crate::adapter::BroadcastOptions;
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::socket::Socket;
use crate::{EmitError, Room, Rooms};

/// A selection of sockets to send to: rooms, exceptions and flags, as Node's
/// `BroadcastOperator`. Every method returns a new operator; nothing is sent until
/// [`emit`](BroadcastOperator::emit).
///
/// ```no_run
/// # fn f(io: socketio_server::Server, socket: socketio_server::Socket) {
/// use std::time::Duration;
/// let _ = io.to("room1").to("room2").except("muted").emit("news", "hello");
/// let _ = socket.broadcast().volatile().emit("position", &(1.5, 2.0));
/// let answers = io.timeout(Duration::from_secs(2)).emit_with_ack::<_, String>("poll", &());
/// # let _ = answers;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct BroadcastOperator {
    ns: Namespace,
    rooms: Vec<Room>,
    except: Vec<Room>,
    except_socket: Option<Room>,
    volatile: bool,
    local: bool,
    compress: bool,
    timeout: Option<Duration>,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Namespace) -> Self {
        Self {
            ns,
            rooms: Vec::new(),
            except: Vec::new(),
            except_socket: None,
            volatile: false,
            local: false,
            compress: true,
            timeout: None,
        }
    }

    pub(crate) fn except_socket(mut self, id: Room) -> Self {
        self.except_socket = Some(id);
        self
    }

    /// Adds rooms: sockets in any of them are reached (Node's `to`).
    #[must_use]
    pub fn to(mut self, rooms: impl Into<Rooms>) -> Self {
        for room in rooms.into().0 {
            if !self.rooms.contains(&room) {
                self.rooms.push(room);
            }
        }
        self
    }

    /// Same as [`to`](BroadcastOperator::to) (Node's `in`).
    #[must_use]
    pub fn within(self, rooms: impl Into<Rooms>) -> Self {
        self.to(rooms)
    }

    /// Excludes the sockets of these rooms.
    #[must_use]
    pub fn except(mut self, rooms: impl Into<Rooms>) -> Self {
        for room in rooms.into().0 {
            if !self.except.contains(&room) {
                self.except.push(room);
            }
        }
        self
    }

    /// The packet may be dropped for a client that cannot take it now (its queue is full)
    /// instead of counting against it.
    #[must_use]
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Only this server's sockets, even with a cluster adapter.
    #[must_use]
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// The compression flag. Accepted for compatibility with Node's API: this server does not
    /// compress messages (no `perMessageDeflate`), so it changes nothing yet.
    #[must_use]
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// A deadline for the acknowledgements of [`emit_with_ack`](Self::emit_with_ack).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn options(&self) -> BroadcastOptions {
        let mut except = self.except.clone();
        except.extend(self.except_socket.iter().cloned());
        BroadcastOptions {
            rooms: self.rooms.clone(),
            except,
            volatile: self.volatile,
            compress: self.compress,
            timeout: self.timeout,
        }
    }

    fn targets(&self) -> Vec<Socket> {
        self.ns
            .targets(&self.rooms, &self.except, self.except_socket.as_deref())
    }

    /// Sends `event` to the selected sockets (see [`Socket::emit`] for `args`). The packet is
    /// serialized and encoded once; every recipient shares the bytes.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the event name is reserved. Recipients whose
    /// connection is gone are skipped.
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        let parser = self.ns.server().config().parser;
        let adapter = self.ns.adapter();
        if !self.local && !self.volatile && adapter.assigns_offsets() {
            // The cluster gives the offset (a Redis stream entry id): the adapter publishes
            // first, then delivers here with it, as Node's ClusterAdapter does.
            if socketio_proto::is_reserved_event(event) {
                return Err(
                    socketio_proto::EncodeError::ReservedEventName(event.to_owned()).into(),
                );
            }
            let args = socketio_proto::Args::new(socketio_proto::Parser::Json, args)?;
            adapter.broadcast_recorded(event, args, &self.options());
            return Ok(());
        }
        // Connection state recovery: every packet that is not volatile carries an offset as its
        // last argument and is recorded, as in Node.
        let offset = if self.volatile {
            None
        } else {
            adapter.next_offset()
        };
        let encoded = match &offset {
            Some(offset) => parser.encode_event(
                self.ns.name(),
                event,
                &socketio_proto::Append(args, &**offset),
                None,
            )?,
            None => parser.encode_event(self.ns.name(), event, args, None)?,
        };
        let outgoing = crate::connection::Outgoing::new(&encoded);
        for socket in self.targets() {
            socket.notify_outgoing(&encoded);
            let _ = socket.inner.conn.send_outgoing(&outgoing, self.volatile);
        }
        let needs_options = offset.is_some() || !self.local;
        if needs_options {
            let options = self.options();
            if let Some(offset) = &offset {
                adapter.record(offset, &encoded, &options);
            }
            if !self.local {
                adapter.broadcast(&encoded, &options);
            }
        }
        Ok(())
    }

    /// Sends `event` and collects one acknowledgement per recipient (each answer's first
    /// argument as `R`). Set a [`timeout`](Self::timeout): without one, the future waits until
    /// every recipient answered or disconnected.
    ///
    /// The packet is encoded once with one ack id shared by every recipient (as Node does).
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> BroadcastAckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        let parser = self.ns.server().config().parser;
        let id = self.ns.next_ack_id();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut future = BroadcastAckFuture {
            rx: Some(rx),
            expected: 0,
            timeout: self.timeout,
            error: None,
            cleanup: None,
            remote: None,
            _answer: PhantomData,
        };
        let encoded = match parser.encode_event(self.ns.name(), event, args, Some(id)) {
            Ok(encoded) => encoded,
            Err(error) => {
                future.error = Some(error.into());
                return future;
            }
        };
        let targets = self.targets();
        let outgoing = crate::connection::Outgoing::new(&encoded);
        for socket in &targets {
            socket.register_broadcast_ack(id, tx.clone());
            socket.notify_outgoing(&encoded);
            if socket
                .inner
                .conn
                .send_outgoing(&outgoing, self.volatile)
                .is_ok()
            {
                future.expected += 1;
            } else {
                socket.forget_ack(id);
            }
        }
        future.cleanup = Some(Box::new(move || {
            for socket in targets {
                socket.forget_ack(id);
            }
        }));
        if !self.local {
            let adapter = self.ns.adapter().clone();
            let options = self.options();
            future.remote = Some(Box::pin(async move {
                adapter.broadcast_with_ack(&encoded, &options, tx).await
            }));
        }
        future
    }

    /// The selected sockets (Node's `fetchSockets`): this server's, and with a cluster adapter
    /// the other servers' (unless [`local`](Self::local)). Servers that do not answer are
    /// skipped (see [`crate::Adapter::fetch_sockets`]).
    pub async fn fetch_sockets(&self) -> Vec<RemoteSocket> {
        let mut sockets: Vec<RemoteSocket> = self
            .targets()
            .into_iter()
            .map(|socket| RemoteSocket {
                ns: self.ns.clone(),
                id: socket.id_bytes().clone(),
                rooms: socket.rooms(),
                handshake: Some(socket.handshake().clone()),
                data: serde_json::Value::Null,
                local: Some(socket),
            })
            .collect();
        if !self.local {
            match self.ns.adapter().fetch_sockets(&self.options()).await {
                Ok(remote) => sockets.extend(remote.into_iter().map(|data| RemoteSocket {
                    ns: self.ns.clone(),
                    id: data.id,
                    rooms: data.rooms,
                    handshake: None,
                    data: data.data,
                    local: None,
                })),
                Err(error) => tracing::warn!(%error, "fetch_sockets: the cluster did not answer"),
            }
        }
        sockets
    }

    /// Makes the selected sockets join `rooms` (Node's `socketsJoin`).
    pub async fn sockets_join(&self, rooms: impl Into<Rooms>) {
        let rooms = rooms.into().0;
        for socket in self.targets() {
            socket.join_all(rooms.iter().cloned());
        }
        if !self.local {
            if let Err(error) = self.ns.adapter().add_sockets(&self.options(), &rooms).await {
                tracing::warn!(%error, "sockets_join: the cluster did not answer");
            }
        }
    }

    /// Makes the selected sockets leave `rooms` (Node's `socketsLeave`).
    pub async fn sockets_leave(&self, rooms: impl Into<Rooms>) {
        let rooms = rooms.into().0;
        for socket in self.targets() {
            for room in &rooms {
                socket.leave(room);
            }
        }
        if !self.local {
            if let Err(error) = self.ns.adapter().del_sockets(&self.options(), &rooms).await {
                tracing::warn!(%error, "sockets_leave: the cluster did not answer");
            }
        }
    }

    /// Disconnects the selected sockets (Node's `disconnectSockets`).
    pub async fn disconnect_sockets(&self, close: bool) {
        for socket in self.targets() {
            socket.disconnect(close);
        }
        if !self.local {
            if let Err(error) = self
                .ns
                .adapter()
                .disconnect_sockets(&self.options(), close)
                .await
            {
                tracing::warn!(%error, "disconnect_sockets: the cluster did not answer");
            }
        }
    }
}

/// A socket found by [`BroadcastOperator::fetch_sockets`]: on this server or, with a cluster
/// adapter, on another one. Its methods act wherever it is.
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    ns: Namespace,
    id: Room,
    rooms: Vec<Room>,
    handshake: Option<Handshake>,
    data: serde_json::Value,
    local: Option<Socket>,
}

impl RemoteSocket {
    /// The socket id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rooms it was in when fetched, its own id first.
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// Its handshake, when it is on this server.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// The socket itself, when it is on this server.
    pub fn as_local(&self) -> Option<&Socket> {
        self.local.as_ref()
    }

    /// Its `data` as its server serialized it (`null` for sockets of this server: use
    /// [`as_local`](Self::as_local) and `Socket::data`).
    pub fn data(&self) -> &serde_json::Value {
        &self.data
    }

    /// An operator that selects only this socket, wherever it is.
    fn only(&self) -> BroadcastOperator {
        self.ns.operator().to(self.id.clone())
    }

    /// Sends `event` to it.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded.
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        match &self.local {
            Some(socket) => socket.emit(event, args),
            None => self.only().emit(event, args),
        }
    }

    /// Makes it join `room`.
    pub async fn join(&self, room: impl Into<Room>) {
        match &self.local {
            Some(socket) => socket.join(room),
            None => self.only().sockets_join(room.into()).await,
        }
    }

    /// Makes it leave `room`.
    pub async fn leave(&self, room: &str) {
        match &self.local {
            Some(socket) => socket.leave(room),
            None => self.only().sockets_leave(room).await,
        }
    }

    /// Disconnects it (with `close`, its whole connection).
    pub async fn disconnect(&self, close: bool) {
        match &self.local {
            Some(socket) => socket.disconnect(close),
            None => self.only().disconnect_sockets(close).await,
        }
    }
}
