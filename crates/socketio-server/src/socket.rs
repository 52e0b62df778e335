//! One client's connection to one namespace: Node's `Socket`.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use socketio_proto::{AckId, Args, Encoded};
use tokio::sync::{mpsc, oneshot};

use crate::ack::{AckError, AckFuture, AckSlot};
use crate::connection::Conn;
use crate::handler::{
    BoxError, BoxFuture, ErasedHandler, EventContext, EventHandler, HandlerResult, erase,
    run_inline,
};
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::operators::BroadcastOperator;
use crate::{DisconnectReason, EmitError, Room};

/// A catch-all listener: the socket, the event name and its raw arguments.
pub(crate) type AnyListener = dyn Fn(&Socket, &str, &Args) + Send + Sync;
/// A packet middleware ([`Socket::use_middleware`]).
pub(crate) type PacketMiddleware =
    dyn Fn(&Socket, &str, &Args) -> Result<(), BoxError> + Send + Sync;
type ErrorListener = dyn Fn(&Socket, &BoxError) + Send + Sync;
type DisconnectHandler = dyn Fn(Socket, DisconnectReason) -> BoxFuture + Send + Sync;

/// Identifies a listener added with [`Socket::on_any`] or [`Socket::on_any_outgoing`], to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// A client connected to a namespace. Cheap to clone: every clone is the same socket.
///
/// The API follows Node's `Socket`: [`on`](Socket::on), [`emit`](Socket::emit),
/// [`emit_with_ack`](Socket::emit_with_ack), [`join`](Socket::join), [`to`](Socket::to),
/// [`broadcast`](Socket::broadcast), [`disconnect`](Socket::disconnect)…
///
/// ```no_run
/// use socketio_server::{Ack, Data, Server, Socket};
///
/// let io = Server::new();
/// io.on_connection(|socket: Socket| async move {
///     socket.join("lobby");
///     socket.on("chat message", |socket: Socket, Data(text): Data<String>| async move {
///         let _ = socket.to("lobby").emit("chat message", &(socket.id(), text));
///     });
///     socket.on("ping", |ack: Ack| async move {
///         let _ = ack.send("pong");
///     });
///     socket.on_disconnect(|socket: Socket, reason| async move {
///         println!("{} left: {reason}", socket.id());
///     });
/// });
/// ```
#[derive(Clone)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
}

pub(crate) struct SocketInner {
    pub(crate) id: ByteString,
    pub(crate) pid: Option<ByteString>,
    pub(crate) ns: Namespace,
    pub(crate) conn: Arc<Conn>,
    pub(crate) handshake: Handshake,
    pub(crate) recovered: bool,
    pub(crate) connected: AtomicBool,
    /// Skips the state lock on every outgoing packet when nobody listens.
    has_outgoing_listeners: AtomicBool,
    state: Mutex<SocketState>,
}

#[derive(Default)]
struct SocketState {
    events: Vec<(ByteString, Arc<dyn ErasedHandler<Socket>>)>,
    disconnect: Vec<Arc<DisconnectHandler>>,
    /// The listeners few sockets have, out of line: a socket without them is smaller.
    extra: Option<Box<Listeners>>,
    /// Rooms joined, besides the socket's own id.
    rooms: Vec<Room>,
    acks: HashMap<u64, AckSlot>,
    data: Option<Box<dyn Any + Send + Sync>>,
    next_listener: u64,
}

#[derive(Default)]
struct Listeners {
    any: Vec<(ListenerId, Arc<AnyListener>)>,
    any_outgoing: Vec<(ListenerId, Arc<AnyListener>)>,
    middlewares: Vec<Arc<PacketMiddleware>>,
    errors: Vec<Arc<ErrorListener>>,
    disconnecting: Vec<Arc<DisconnectHandler>>,
}

impl SocketState {
    fn extra(&mut self) -> &mut Listeners {
        self.extra.get_or_insert_with(Default::default)
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id())
            .field("nsp", &self.namespace().name())
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Socket {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Socket {}

impl Socket {
    pub(crate) fn new(
        id: ByteString,
        pid: Option<ByteString>,
        ns: Namespace,
        conn: Arc<Conn>,
        handshake: Handshake,
        recovered: bool,
    ) -> Self {
        Self {
            inner: Arc::new(SocketInner {
                id,
                pid,
                ns,
                conn,
                handshake,
                recovered,
                connected: AtomicBool::new(false),
                has_outgoing_listeners: AtomicBool::new(false),
                state: Mutex::new(SocketState::default()),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, SocketState> {
        // No code panics while holding it; a user callback is never called under it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The socket id (20 characters, random; not the Engine.IO session id, as in Node).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub(crate) fn id_bytes(&self) -> &ByteString {
        &self.inner.id
    }

    /// The namespace this socket is connected to.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.ns
    }

    /// What the client sent when it connected: headers, query, auth, address…
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Whether this connection resumed an earlier session (connection state recovery): the id,
    /// the rooms and the data are the earlier session's, and missed packets were replayed.
    pub fn recovered(&self) -> bool {
        self.inner.recovered
    }

    /// The id of the underlying Engine.IO connection (shared by the client's sockets of every
    /// namespace).
    pub fn engine_id(&self) -> &str {
        self.inner.conn.eio.id()
    }

    /// The transport the client uses now, as reported by the engine.
    pub fn protocol(&self) -> socketio_proto::ProtocolVersion {
        self.inner.conn.version
    }

    // ---- listeners ----------------------------------------------------------------------

    /// Handles `event`: `handler` is an async closure whose parameters say what it needs
    /// ([`Socket`], [`crate::Data`], [`crate::AllArgs`], [`crate::RawArgs`], [`crate::Ack`]).
    /// A second handler for the same event is called after the first, as Node's listeners are.
    ///
    /// Arguments that do not deserialize into the handler's types are a handler error (see
    /// [`crate::ServerBuilder::on_error`]); the handler is not called, and when the client waits
    /// for an acknowledgement it receives one argument `{"message": "invalid arguments: …"}`.
    pub fn on<H, M>(&self, event: impl Into<ByteString>, handler: H)
    where
        H: EventHandler<Socket, M>,
        M: 'static,
    {
        self.state().events.push((event.into(), erase(handler)));
    }

    /// Gives back the spare capacity of the handler and room lists once the connection
    /// handlers have run: they seldom change afterwards, and a vector grows to four entries at
    /// its first push (about 190 bytes per socket for two handlers and one room).
    pub(crate) fn shrink_lists(&self) {
        let mut state = self.state();
        state.events.shrink_to_fit();
        state.disconnect.shrink_to_fit();
        state.rooms.shrink_to_fit();
    }

    /// Removes every handler of `event`.
    pub fn off(&self, event: &str) {
        self.state().events.retain(|(name, _)| name != event);
    }

    /// Calls `listener` for every incoming event, before the event's handlers and before the
    /// packet middlewares (Node's `onAny`).
    pub fn on_any<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    {
        let mut state = self.state();
        let id = next_listener(&mut state);
        state.extra().any.push((id, Arc::new(listener)));
        id
    }

    /// As [`on_any`](Socket::on_any), but called before the listeners already added.
    pub fn prepend_any<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    {
        let mut state = self.state();
        let id = next_listener(&mut state);
        state.extra().any.insert(0, (id, Arc::new(listener)));
        id
    }

    /// Removes one catch-all listener, or all of them with `None` (Node's `offAny`).
    pub fn off_any(&self, listener: Option<ListenerId>) {
        let mut state = self.state();
        match listener {
            Some(id) => state.extra().any.retain(|(l, _)| *l != id),
            None => state.extra().any.clear(),
        }
    }

    /// Calls `listener` for every event sent to this client (emits and broadcasts), with the
    /// arguments as they are sent (Node's `onAnyOutgoing`).
    pub fn on_any_outgoing<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    {
        let mut state = self.state();
        let id = next_listener(&mut state);
        state.extra().any_outgoing.push((id, Arc::new(listener)));
        self.inner
            .has_outgoing_listeners
            .store(true, Ordering::Release);
        id
    }

    /// Removes one outgoing listener, or all of them with `None`.
    pub fn off_any_outgoing(&self, listener: Option<ListenerId>) {
        let mut state = self.state();
        match listener {
            Some(id) => state.extra().any_outgoing.retain(|(l, _)| *l != id),
            None => state.extra().any_outgoing.clear(),
        }
        self.inner
            .has_outgoing_listeners
            .store(!state.extra().any_outgoing.is_empty(), Ordering::Release);
    }

    /// Adds a packet middleware (Node's `socket.use`): called for every incoming event after
    /// the catch-all listeners; an error stops the event and goes to the
    /// [`on_error`](Socket::on_error) listeners (nothing is sent to the client).
    pub fn use_middleware<F>(&self, middleware: F)
    where
        F: Fn(&Socket, &str, &Args) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        self.state().extra().middlewares.push(Arc::new(middleware));
    }

    /// Listens to the socket's errors (Node's `socket.on("error")`): packet middleware refusals.
    pub fn on_error<F>(&self, listener: F)
    where
        F: Fn(&Socket, &BoxError) + Send + Sync + 'static,
    {
        self.state().extra().errors.push(Arc::new(listener));
    }

    /// Called when the socket is about to leave its namespace, while it is still in its rooms
    /// (Node's `disconnecting`).
    pub fn on_disconnecting<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        let handler = box_disconnect_handler(handler);
        self.state().extra().disconnecting.push(handler);
    }

    /// Called once the socket left its namespace, with Node's reason (Node's `disconnect`).
    pub fn on_disconnect<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        let handler = box_disconnect_handler(handler);
        self.state().disconnect.push(handler);
    }

    // ---- data ---------------------------------------------------------------------------

    /// Stores this socket's typed state (Node's `socket.data`), replacing what was there.
    pub fn set_data<T: Any + Send + Sync>(&self, data: T) {
        self.state().data = Some(Box::new(data));
    }

    /// A copy of this socket's state, if it holds a `T`.
    pub fn data<T: Any + Clone>(&self) -> Option<T> {
        self.state()
            .data
            .as_ref()
            .and_then(|data| data.downcast_ref::<T>())
            .cloned()
    }

    /// Runs `f` on this socket's state, if it holds a `T`.
    pub fn with_data<T: Any, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = self.state();
        state
            .data
            .as_mut()
            .and_then(|data| data.downcast_mut::<T>())
            .map(f)
    }

    // ---- rooms --------------------------------------------------------------------------

    /// Joins a room (Node's `join`). Joining twice is harmless.
    pub fn join(&self, room: impl Into<Room>) {
        let room = room.into();
        if !self.connected() && !self.inner.ns.is_pre_connect(self) {
            return;
        }
        {
            let mut state = self.state();
            if state.rooms.contains(&room) || room == self.inner.id {
                return;
            }
            state.rooms.push(room.clone());
        }
        self.inner.ns.index_join(self, room);
    }

    /// Joins several rooms.
    pub fn join_all<I, R>(&self, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        for room in rooms {
            self.join(room);
        }
    }

    /// Leaves a room (Node's `leave`).
    pub fn leave(&self, room: &str) {
        let removed = {
            let mut state = self.state();
            let before = state.rooms.len();
            state.rooms.retain(|r| r != room);
            before != state.rooms.len()
        };
        if removed {
            self.inner.ns.index_leave(&self.inner.id, room);
        }
    }

    /// The rooms this socket is in, its own id first (Node's `socket.rooms`).
    pub fn rooms(&self) -> Vec<Room> {
        let state = self.state();
        let mut rooms = Vec::with_capacity(state.rooms.len() + 1);
        rooms.push(self.inner.id.clone());
        rooms.extend(state.rooms.iter().cloned());
        rooms
    }

    /// Whether the socket is in `room` (its own id included).
    pub fn in_room(&self, room: &str) -> bool {
        *self.inner.id == *room || self.state().rooms.iter().any(|r| r == room)
    }

    // ---- emitting -----------------------------------------------------------------------

    /// Sends `event` to this client. `args` follows one rule: `()` is no argument, a tuple or a
    /// sequence (`Vec`, array, slice) is one argument per element, anything else (a string, a
    /// number, a struct, a map, a `serde_json::Value`…) is one argument. To send a list as one
    /// argument, wrap it in a 1-tuple: `&(vec,)`. Bytes (`bytes::Bytes`, `serde_bytes`) arrive
    /// as binary.
    ///
    /// # Errors
    ///
    /// [`EmitError::Encode`] for a reserved event name or arguments that cannot be encoded,
    /// [`EmitError::Closed`] when the connection is gone. A client that lets more than the
    /// outbound limit pile up is disconnected ([`EmitError::SlowConsumer`]).
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.emit_with_flags(event, args, false)
    }

    /// Sends an event that may be dropped when the client cannot take it now (Node's
    /// `socket.volatile.emit`).
    ///
    /// # Errors
    ///
    /// As [`emit`](Socket::emit), except that a full queue drops the packet silently.
    pub fn emit_volatile<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        self.emit_with_flags(event, args, true)
    }

    fn emit_with_flags<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
        volatile: bool,
    ) -> Result<(), EmitError> {
        let ns = &self.inner.ns;
        let conn = &self.inner.conn;
        if !volatile && self.inner.pid.is_some() {
            // Connection state recovery: a private emit is a broadcast to the socket's own room,
            // so that it carries an offset and is recorded, as in Node.
            return ns.operator().to(self.inner.id.clone()).emit(event, args);
        }
        let encoded = conn.parser.encode_event(ns.name(), event, args, None)?;
        self.notify_outgoing(&encoded);
        conn.send(&encoded, volatile)
    }

    /// Sends `event` and waits for the client's acknowledgement: the future resolves to the
    /// first argument of the answer, deserialized as `R`. Add a deadline with
    /// [`AckFuture::timeout`] (or [`Socket::timeout`]); without one, it waits until the answer
    /// comes or the socket disconnects.
    ///
    /// ```no_run
    /// # async fn f(socket: socketio_server::Socket) -> Result<(), socketio_server::AckError> {
    /// use std::time::Duration;
    /// let answer: String = socket
    ///     .emit_with_ack("question", &("ready?",))
    ///     .timeout(Duration::from_secs(5))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> AckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        let (tx, rx) = oneshot::channel();
        let id = self.inner.ns.next_ack_id();
        let sent = self
            .inner
            .conn
            .parser
            .encode_event(self.inner.ns.name(), event, args, Some(id))
            .map_err(EmitError::from)
            .and_then(|encoded| {
                self.state().acks.insert(id.get(), AckSlot::One(tx));
                self.notify_outgoing(&encoded);
                self.inner.conn.send(&encoded, false)
            });
        match sent {
            Ok(()) => AckFuture::pending(self.clone(), id, rx),
            Err(error) => {
                self.state().acks.remove(&id.get());
                AckFuture::failed(AckError::Emit(error))
            }
        }
    }

    /// Emits with a deadline for the acknowledgement (Node's `socket.timeout(ms)`).
    pub fn timeout(&self, timeout: Duration) -> SocketTimeout<'_> {
        SocketTimeout {
            socket: self,
            timeout,
        }
    }

    /// Sends an acknowledgement (used by [`crate::Ack`]).
    pub(crate) fn send_ack<T: ?Sized + Serialize>(
        &self,
        id: AckId,
        args: &T,
    ) -> Result<(), EmitError> {
        let conn = &self.inner.conn;
        let encoded = conn.parser.encode_ack(self.inner.ns.name(), id, args)?;
        conn.send(&encoded, false)
    }

    /// Sends an acknowledgement with raw arguments (used by [`crate::Ack::send_raw`]).
    pub(crate) fn send_ack_raw(&self, id: AckId, args: &Args) -> Result<(), EmitError> {
        let conn = &self.inner.conn;
        let packet = socketio_proto::Packet {
            nsp: self.inner.ns.name().into(),
            data: socketio_proto::PacketData::Ack(socketio_proto::Ack {
                id,
                args: args.clone(),
            }),
        };
        let encoded = conn.parser.encode(&packet)?;
        conn.send(&encoded, false)
    }

    /// Sends `event` with arguments as received (binary attachments included), e.g. to
    /// forward an event: nothing is parsed, the bytes are copied.
    ///
    /// # Errors
    ///
    /// As [`emit`](Socket::emit).
    pub fn emit_raw(&self, event: &str, args: &Args) -> Result<(), EmitError> {
        let conn = &self.inner.conn;
        let encoded = conn
            .parser
            .encode_event_args(self.inner.ns.name(), event, args, None)?;
        self.notify_outgoing(&encoded);
        conn.send(&encoded, false)
    }

    /// Everyone in `room` but this socket (Node's `socket.to(room)`).
    pub fn to(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Same as [`to`](Socket::to) (Node's `socket.in(room)`).
    pub fn within(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Everyone but this socket and the members of `room`.
    pub fn except(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Everyone in the namespace but this socket (Node's `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        self.inner
            .ns
            .operator()
            .except_socket(self.inner.id.clone())
    }

    /// Leaves the namespace: the client gets a DISCONNECT packet and the socket's
    /// `disconnect` handlers run with `"server namespace disconnect"`. With `close`, the whole
    /// connection is closed (every namespace of this client is left first).
    pub fn disconnect(&self, close: bool) {
        if close {
            self.inner.conn.disconnect_all();
            self.inner.conn.close();
            return;
        }
        if !self.connected() {
            return;
        }
        if let Ok(encoded) = self
            .inner
            .conn
            .parser
            .encode_disconnect(self.inner.ns.name())
        {
            let _ = self.inner.conn.send(&encoded, false);
        }
        self.on_close(DisconnectReason::ServerNamespaceDisconnect);
    }

    // ---- internals ----------------------------------------------------------------------

    /// Calls the outgoing listeners with the arguments as sent.
    pub(crate) fn notify_outgoing(&self, encoded: &Encoded) {
        if !self.inner.has_outgoing_listeners.load(Ordering::Acquire) {
            return;
        }
        let listeners: Vec<_> = self
            .state()
            .extra
            .as_ref()
            .map(|extra| extra.any_outgoing.iter().map(|(_, l)| l.clone()).collect())
            .unwrap_or_default();
        if listeners.is_empty() {
            return;
        }
        // The listeners see what the client will decode: decode our own packet back.
        let Some((event, args)) = self.inner.conn.decode_own(encoded) else {
            return;
        };
        for listener in listeners {
            listener(self, &event, &args);
        }
    }

    /// An incoming event.
    pub(crate) fn on_event(&self, event: socketio_proto::Event) {
        // Taken out of the lock before any user code runs. One handler per event is the common
        // case and costs no allocation.
        let (first, more, extra) = {
            let state = self.state();
            let mut matching = state
                .events
                .iter()
                .filter(|(name, _)| *name == event.name())
                .map(|(_, h)| h.clone());
            let first = matching.next();
            let more: Vec<_> = matching.collect();
            let extra = state
                .extra
                .as_ref()
                .filter(|extra| !extra.any.is_empty() || !extra.middlewares.is_empty())
                .map(|extra| {
                    let any: Vec<_> = extra.any.iter().map(|(_, l)| l.clone()).collect();
                    (any, extra.middlewares.clone())
                });
            (first, more, extra)
        };
        if let Some((any, middlewares)) = extra {
            for listener in &any {
                listener(self, event.name(), event.args());
            }
            for middleware in &middlewares {
                if let Err(error) = middleware(self, event.name(), event.args()) {
                    self.emit_error(error);
                    return;
                }
            }
        }
        let mut ack = event.ack;
        for handler in first.into_iter().chain(more) {
            let mut cx = EventContext::new(self, event.args(), ack);
            let called = handler.call(&mut cx);
            // A handler that takes an `Ack` consumes it; later handlers see none. A handler that
            // is not called leaves it.
            if called.is_ok() {
                ack = cx.take_ack();
            }
            match called {
                Ok(future) => {
                    let socket = self.clone();
                    let name = event.name_owned();
                    run_inline(Box::pin(async move {
                        if let Err(error) = future.await {
                            socket.report_error(&name, error);
                        }
                    }));
                }
                Err(error) => {
                    if event.args().validate().is_err() {
                        // The payload is not even well-formed: Node's parser would have refused
                        // the packet and closed the connection.
                        self.inner.conn.close();
                        return;
                    }
                    if let Some(id) = ack.take() {
                        let _ =
                            self.send_ack(id, &serde_json::json!({ "message": error.to_string() }));
                    }
                    self.report_error(event.name(), Box::new(error));
                }
            }
        }
    }

    fn report_error(&self, event: &str, error: BoxError) {
        self.inner.ns.server().report_error(self, event, &error);
    }

    fn emit_error(&self, error: BoxError) {
        let listeners = self
            .state()
            .extra
            .as_ref()
            .map(|extra| extra.errors.clone())
            .unwrap_or_default();
        if listeners.is_empty() {
            tracing::debug!(socket = %self.id(), %error, "packet middleware refused an event");
        }
        for listener in listeners {
            listener(self, &error);
        }
    }

    /// An incoming acknowledgement.
    pub(crate) fn on_ack(&self, ack: socketio_proto::Ack) {
        let slot = {
            let mut state = self.state();
            match state.acks.get(&ack.id.get()) {
                // A broadcast's slot stays until the broadcast is done with it.
                Some(AckSlot::Many(tx)) => {
                    let _ = tx.send(Ok(ack.args));
                    state.acks.remove(&ack.id.get());
                    return;
                }
                Some(AckSlot::One(_)) => state.acks.remove(&ack.id.get()),
                None => None,
            }
        };
        if let Some(AckSlot::One(tx)) = slot {
            let _ = tx.send(Ok(ack.args));
        }
    }

    pub(crate) fn register_broadcast_ack(
        &self,
        id: AckId,
        tx: mpsc::UnboundedSender<Result<Args, AckError>>,
    ) {
        self.state().acks.insert(id.get(), AckSlot::Many(tx));
    }

    pub(crate) fn forget_ack(&self, id: AckId) {
        self.state().acks.remove(&id.get());
    }

    /// Leaves the namespace for `reason` (Node's `_onclose`).
    pub(crate) fn on_close(&self, reason: DisconnectReason) {
        if self
            .inner
            .connected
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        // `disconnecting` runs while the socket is still in its rooms.
        let disconnecting = self
            .state()
            .extra
            .as_ref()
            .map(|extra| extra.disconnecting.clone())
            .unwrap_or_default();
        for handler in disconnecting {
            run_inline(handler(self.clone(), reason));
        }
        let (rooms, acks, disconnect) = {
            let mut state = self.state();
            (
                std::mem::take(&mut state.rooms),
                std::mem::take(&mut state.acks),
                std::mem::take(&mut state.disconnect),
            )
        };
        if reason.is_recoverable() {
            if let Some(pid) = &self.inner.pid {
                let mut session_rooms = Vec::with_capacity(rooms.len() + 1);
                session_rooms.push(self.inner.id.clone());
                session_rooms.extend(rooms.iter().cloned());
                let data = self.state().data.take();
                self.inner
                    .ns
                    .adapter()
                    .persist_session(crate::PersistedSession {
                        sid: self.inner.id.clone(),
                        pid: pid.clone(),
                        rooms: session_rooms,
                        data,
                    });
            }
        }
        self.inner.ns.remove_socket(self, &rooms);
        self.inner.conn.remove_socket(self);
        // Pending acknowledgements fail at once instead of waiting for a timeout.
        for (_, slot) in acks {
            if let AckSlot::Many(tx) = slot {
                let _ = tx.send(Err(AckError::Disconnected));
            }
        }
        for handler in disconnect {
            run_inline(handler(self.clone(), reason));
        }
        // Handlers are the main source of reference cycles (closures holding the socket).
        let mut state = self.state();
        state.events.clear();
        state.extra = None;
    }

    pub(crate) fn mark_connected(&self) {
        self.inner.connected.store(true, Ordering::Release);
    }

    pub(crate) fn pid(&self) -> Option<&ByteString> {
        self.inner.pid.as_ref()
    }

    /// Puts back a recovered session's rooms and data.
    pub(crate) fn restore(&self, session: crate::PersistedSession) {
        {
            let mut state = self.state();
            state.data = session.data;
        }
        for room in session.rooms {
            self.join(room);
        }
    }

    /// Leaves every room without the disconnect steps: a socket refused by a middleware.
    pub(crate) fn discard(&self) {
        let rooms = std::mem::take(&mut self.state().rooms);
        self.inner.ns.remove_socket(self, &rooms);
    }
}

fn next_listener(state: &mut SocketState) -> ListenerId {
    state.next_listener += 1;
    ListenerId(state.next_listener)
}

fn box_disconnect_handler<F, Fut, R>(handler: F) -> Arc<DisconnectHandler>
where
    F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: HandlerResult,
{
    Arc::new(move |socket: Socket, reason| {
        let future = handler(socket.clone(), reason);
        Box::pin(async move {
            if let Err(error) = future.await.into_result() {
                socket.report_error("disconnect", error);
            }
        }) as BoxFuture
    })
}

/// [`Socket::timeout`]: emits whose acknowledgement has a deadline.
#[derive(Debug)]
pub struct SocketTimeout<'a> {
    socket: &'a Socket,
    timeout: Duration,
}

impl SocketTimeout<'_> {
    /// [`Socket::emit_with_ack`] with this deadline; past it, [`AckError::Timeout`].
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> AckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        self.socket.emit_with_ack(event, args).timeout(self.timeout)
    }
}
