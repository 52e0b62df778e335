//! What a cluster adapter does on this server when another server asks: [`LocalNamespace`]
//! applies a remote operation to the namespace's own sockets only, and server-side events
//! (Node's `serverSideEmit`) reach the handlers of [`Namespace::on_server_side_emit`].

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde::Serialize;
use socketio_proto::Args;
use tokio::sync::{mpsc, oneshot};

use crate::ack::AckError;
use crate::adapter::{BroadcastOptions, RemoteSocketData};
use crate::handler::BoxFuture;
use crate::namespace::{Namespace, NamespaceInner};
use crate::operators::BroadcastOperator;
use crate::{EmitError, Room};

/// A handler of server-side events ([`Namespace::on_server_side_emit`]).
pub(crate) type ServerEventHandler =
    dyn Fn(Vec<serde_json::Value>, Option<ServerAck>) -> BoxFuture + Send + Sync;

/// The answer to a server-side event sent with an acknowledgement: only the first
/// [`send`](ServerAck::send) of every clone counts, as Node's callback forwards one answer once.
#[derive(Debug, Clone)]
pub struct ServerAck {
    tx: Arc<Mutex<Option<oneshot::Sender<serde_json::Value>>>>,
}

impl ServerAck {
    /// An acknowledgement whose answer goes to `tx`.
    pub fn new(tx: oneshot::Sender<serde_json::Value>) -> Self {
        Self {
            tx: Arc::new(Mutex::new(Some(tx))),
        }
    }

    /// Answers the server that sent the event. Later calls do nothing.
    pub fn send(&self, answer: serde_json::Value) {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(answer);
        }
    }
}

/// A cluster adapter's handle on its namespace (given to [`crate::Adapter::init`]): it applies
/// what other servers ask to this server's sockets only, never back to the adapter. It does not
/// keep the namespace alive: once the namespace is gone every method does nothing.
#[derive(Clone)]
pub struct LocalNamespace {
    pub(crate) inner: Weak<NamespaceInner>,
    pub(crate) name: bytestring::ByteString,
}

impl std::fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalNamespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The acknowledgements of a remote broadcast's local recipients, as they arrive.
pub struct LocalAcks {
    /// How many local sockets the packet was sent to (Node's client count).
    pub count: usize,
    rx: Option<mpsc::UnboundedReceiver<Result<Args, AckError>>>,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for LocalAcks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAcks")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl LocalAcks {
    /// The next answer (its arguments as received), or `None` once every recipient answered or
    /// disconnected.
    pub async fn next(&mut self) -> Option<Result<Args, AckError>> {
        if self.count == 0 {
            return None;
        }
        let rx = self.rx.as_mut()?;
        let answer = rx.recv().await;
        if answer.is_some() {
            self.count -= 1;
        }
        answer
    }
}

impl Drop for LocalAcks {
    fn drop(&mut self) {
        // The recipients that did not answer must not keep the ack slot forever.
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

impl LocalNamespace {
    pub(crate) fn new(ns: &Namespace) -> Self {
        Self {
            inner: Arc::downgrade(&ns.inner),
            name: ns.inner.name_bytes().clone(),
        }
    }

    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace, while it exists.
    pub fn namespace(&self) -> Option<Namespace> {
        self.inner.upgrade().map(|inner| Namespace { inner })
    }

    fn operator(&self, options: &BroadcastOptions) -> Option<BroadcastOperator> {
        let ns = self.namespace()?;
        let mut operator = ns
            .local()
            .to(options.rooms.clone())
            .except(options.except.clone())
            .compress(options.compress);
        if options.volatile {
            operator = operator.volatile();
        }
        if let Some(timeout) = options.timeout {
            operator = operator.timeout(timeout);
        }
        Some(operator)
    }

    /// The connection state recovery settings of the server, when it recovers sessions.
    pub fn recovery(&self) -> Option<crate::RecoveryConfig> {
        self.namespace()
            .and_then(|ns| ns.server().config().connection_state_recovery)
    }

    /// Encodes `event` with `args` for this namespace with the server's parser, e.g. a missed
    /// packet to replay to a recovered session.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the event name is reserved.
    pub fn encode_event<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<socketio_proto::Encoded, EmitError> {
        let parser = self
            .namespace()
            .map(|ns| ns.server().config().parser)
            .unwrap_or_default();
        Ok(parser.encode_event(&self.name, event, args, None)?)
    }

    /// Whether a local socket is in `room` (Node's `adapter.rooms.has(room)`; a socket id counts).
    pub fn has_room(&self, room: &str) -> bool {
        self.namespace()
            .is_some_and(|ns| ns.socket(room).is_some() || ns.has_room(room))
    }

    /// Sends `event` with `args` (see [`crate::Socket::emit`]) to the matching local sockets.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the event name is reserved.
    pub fn broadcast<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
        options: &BroadcastOptions,
    ) -> Result<(), EmitError> {
        match self.operator(options) {
            Some(operator) => operator.emit(event, args),
            None => Ok(()),
        }
    }

    /// Sends `event` to the matching local sockets with one ack id, and hands back the answers
    /// as they come. [`BroadcastOptions::timeout`] is not applied here: the caller stops reading
    /// (and drops the [`LocalAcks`]) when it no longer waits.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the event name is reserved.
    pub fn broadcast_with_ack<T: ?Sized + Serialize>(
        &self,
        event: &str,
        args: &T,
        options: &BroadcastOptions,
    ) -> Result<LocalAcks, EmitError> {
        let Some(operator) = self.operator(options) else {
            return Ok(LocalAcks {
                count: 0,
                rx: None,
                cleanup: None,
            });
        };
        let mut future = operator.emit_with_ack::<T, serde_json::Value>(event, args);
        if let Some(error) = future.error.take() {
            return Err(error);
        }
        Ok(LocalAcks {
            count: future.expected,
            rx: future.rx.take(),
            cleanup: future.cleanup.take(),
        })
    }

    /// The matching local sockets, as another server sees them.
    pub async fn fetch_sockets(&self, options: &BroadcastOptions) -> Vec<RemoteSocketData> {
        let Some(operator) = self.operator(options) else {
            return Vec::new();
        };
        operator
            .fetch_sockets()
            .await
            .into_iter()
            .filter_map(|remote| {
                let socket = remote.as_local()?;
                Some(RemoteSocketData {
                    id: socket.id_bytes().clone(),
                    rooms: socket.rooms(),
                    handshake: socket.handshake().to_json(),
                    data: socket
                        .data::<serde_json::Value>()
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }

    /// Makes the matching local sockets join `rooms`.
    pub async fn add_sockets(&self, options: &BroadcastOptions, rooms: &[Room]) {
        if let Some(operator) = self.operator(options) {
            operator.sockets_join(rooms.to_vec()).await;
        }
    }

    /// Makes the matching local sockets leave `rooms`.
    pub async fn del_sockets(&self, options: &BroadcastOptions, rooms: &[Room]) {
        if let Some(operator) = self.operator(options) {
            operator.sockets_leave(rooms.to_vec()).await;
        }
    }

    /// Disconnects the matching local sockets.
    pub async fn disconnect_sockets(&self, options: &BroadcastOptions, close: bool) {
        if let Some(operator) = self.operator(options) {
            operator.disconnect_sockets(close).await;
        }
    }

    /// Calls the handlers of server-side event `event` ([`Namespace::on_server_side_emit`])
    /// with `args`; with `ack`, the first answer goes back to the sending server. Each handler
    /// runs in a task of its own, so this returns at once.
    pub fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
        ack: Option<ServerAck>,
    ) {
        let Some(ns) = self.namespace() else {
            return;
        };
        let handlers = ns.server_event_handlers(event);
        if handlers.is_empty() {
            tracing::debug!(nsp = %self.name, event, "no handler for a server-side event");
        }
        for handler in handlers {
            spawn(handler(args.clone(), ack.clone()));
        }
    }
}

fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(future);
        }
        Err(_) => tracing::warn!("server-side event outside a tokio runtime: dropped"),
    }
}
