//! [`Socket`]: one namespace of a [`Manager`]'s connection.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use socketio_proto::{AckId, AckTemplate, Args};
use tokio::sync::{oneshot, watch};

use crate::ack::{AckError, AckFuture, AckSender};
use crate::builder::{Auth, Options};
use crate::handler::{BoxFuture, ErasedHandler, EventHandler, HandlerResult, erase};
use crate::manager::{Command, Manager};
use crate::{ConnectError, DisconnectReason, EmitError};

/// Identifies a catch-all listener, to remove it with [`Socket::off_any`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

pub(crate) type AnyListener = Arc<dyn Fn(&Socket, &str, &Args) + Send + Sync>;
pub(crate) type ConnectHandler = Arc<dyn Fn(Socket) -> BoxFuture + Send + Sync>;
pub(crate) type DisconnectHandler =
    Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture + Send + Sync>;
pub(crate) type ConnectErrorHandler = Arc<dyn Fn(Socket, ConnectError) -> BoxFuture + Send + Sync>;

/// What a socket last went through, for [`Socket::connect`] and the retry queue.
#[derive(Debug, Clone)]
pub(crate) enum Status {
    Idle,
    Connected,
    Disconnected,
    Failed(ConnectError),
}

/// The state of a socket shared by its handles and the manager task.
pub(crate) struct SocketInner {
    pub(crate) nsp: ByteString,
    pub(crate) opts: Arc<Options>,
    pub(crate) auth: Option<Auth>,
    state: Mutex<State>,
    next_ack: AtomicU64,
    pub(crate) status: watch::Sender<Status>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) id: Option<String>,
    pub(crate) connected: bool,
    pub(crate) recovered: bool,
    pub(crate) handlers: Vec<(ByteString, Arc<dyn ErasedHandler<Socket>>)>,
    pub(crate) any: Vec<(ListenerId, AnyListener)>,
    pub(crate) on_connect: Vec<ConnectHandler>,
    pub(crate) on_disconnect: Vec<DisconnectHandler>,
    pub(crate) on_connect_error: Vec<ConnectErrorHandler>,
    pub(crate) acks: HashMap<u64, AckSender>,
    next_listener: u64,
}

/// The at-least-once queue (`retries`): one packet in flight at a time.
#[derive(Default)]
struct Queue {
    items: VecDeque<Queued>,
    running: bool,
}

struct Queued {
    template: AckTemplate,
    reply: Option<AckSender>,
    timeout: Option<Duration>,
}

impl SocketInner {
    pub(crate) fn new(nsp: ByteString, opts: Arc<Options>, auth: Option<Auth>) -> Self {
        Self {
            nsp,
            opts,
            auth,
            state: Mutex::new(State::default()),
            next_ack: AtomicU64::new(0),
            status: watch::Sender::new(Status::Idle),
            queue: Mutex::new(Queue::default()),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked while holding the lock left consistent data behind: every
        // critical section is a plain read or a single insertion.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_ack_id(&self) -> AckId {
        let n = self.next_ack.fetch_add(1, Ordering::Relaxed);
        AckId::new(n).unwrap_or(AckId::ZERO)
    }
}

/// One namespace of a connection (Node's client `Socket`). Cloning is cheap: every clone is the
/// same socket.
#[derive(Clone)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
    pub(crate) manager: Manager,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state();
        f.debug_struct("Socket")
            .field("namespace", &&*self.inner.nsp)
            .field("id", &state.id)
            .field("connected", &state.connected)
            .finish_non_exhaustive()
    }
}

impl Socket {
    // ---- state ----------------------------------------------------------------------------

    /// The socket id the server assigned, while connected (Node's `socket.id`).
    pub fn id(&self) -> Option<String> {
        self.inner.state().id.clone()
    }

    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        self.inner.state().connected
    }

    /// Whether the last connection restored the previous session (connection state recovery:
    /// same id, rooms kept, missed events delivered).
    pub fn recovered(&self) -> bool {
        self.inner.state().recovered
    }

    /// The namespace, `/` for the main one.
    pub fn namespace(&self) -> &str {
        &self.inner.nsp
    }

    /// The manager whose connection this socket uses (Node's `socket.io`).
    pub fn io(&self) -> &Manager {
        &self.manager
    }

    // ---- connection -----------------------------------------------------------------------

    /// Connects the socket (opening the manager's connection if needed). Await the result to
    /// know whether the namespace accepted it; the connection is attempted either way. After a
    /// failure the manager keeps reconnecting (when reconnection is on) until
    /// [`disconnect`](Socket::disconnect).
    pub fn connect(&self) -> ConnectFuture {
        let mut rx = self.inner.status.subscribe();
        rx.mark_unchanged();
        let connected = self.connected();
        if !connected {
            let _ = self.manager.send(Command::Connect(self.inner.nsp.clone()));
        }
        ConnectFuture { rx, connected }
    }

    /// Leaves the namespace (a `DISCONNECT` packet), with reason `"io client disconnect"`; the
    /// connection closes when no socket uses it any more. No reconnection follows; call
    /// [`connect`](Socket::connect) to come back.
    pub fn disconnect(&self) {
        let _ = self
            .manager
            .send(Command::Disconnect(self.inner.nsp.clone()));
    }

    // ---- listeners ------------------------------------------------------------------------

    /// Handles `event` with an async closure whose parameters say what it needs ([`Socket`],
    /// [`Data`](crate::Data), [`AllArgs`](crate::AllArgs), [`RawArgs`](crate::RawArgs),
    /// [`Ack`](crate::Ack)). Several handlers of one event run in registration order.
    /// Arguments that do not fit the handler's types are logged and the handler is skipped.
    pub fn on<H, M>(&self, event: impl Into<ByteString>, handler: H)
    where
        H: EventHandler<Socket, M>,
        M: 'static,
    {
        self.inner
            .state()
            .handlers
            .push((event.into(), erase(handler)));
    }

    /// Removes every handler of `event`.
    pub fn off(&self, event: &str) {
        self.inner
            .state()
            .handlers
            .retain(|(name, _)| name != event);
    }

    /// Calls `listener` for every incoming event, before its handlers (Node's `onAny`).
    pub fn on_any<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    {
        let mut state = self.inner.state();
        state.next_listener += 1;
        let id = ListenerId(state.next_listener);
        state.any.push((id, Arc::new(listener)));
        id
    }

    /// As [`on_any`](Socket::on_any), but before the listeners already added.
    pub fn prepend_any<F>(&self, listener: F) -> ListenerId
    where
        F: Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    {
        let mut state = self.inner.state();
        state.next_listener += 1;
        let id = ListenerId(state.next_listener);
        state.any.insert(0, (id, Arc::new(listener)));
        id
    }

    /// Removes one catch-all listener, or all of them with `None` (Node's `offAny`).
    pub fn off_any(&self, listener: Option<ListenerId>) {
        let mut state = self.inner.state();
        match listener {
            Some(id) => state.any.retain(|(l, _)| *l != id),
            None => state.any.clear(),
        }
    }

    /// Called each time the socket connects (Node's `connect` event), after buffered events
    /// were delivered and buffered emits sent.
    pub fn on_connect<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        self.inner.state().on_connect.push(Arc::new(move |socket| {
            let future = handler(socket);
            Box::pin(async move { log_error(future.await.into_result(), "connect") })
        }));
    }

    /// Called each time the socket disconnects, with Node's reason (Node's `disconnect`).
    pub fn on_disconnect<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        self.inner
            .state()
            .on_disconnect
            .push(Arc::new(move |socket, reason| {
                let future = handler(socket, reason);
                Box::pin(async move { log_error(future.await.into_result(), "disconnect") })
            }));
    }

    /// Called when a connection attempt fails (Node's `connect_error`): the namespace refused
    /// the socket, or the server could not be reached.
    pub fn on_connect_error<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket, ConnectError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        self.inner
            .state()
            .on_connect_error
            .push(Arc::new(move |socket, error| {
                let future = handler(socket, error);
                Box::pin(async move { log_error(future.await.into_result(), "connect_error") })
            }));
    }

    // ---- emitting -------------------------------------------------------------------------

    /// Sends `event`. Arguments: `()` for none, a tuple for several, anything else for one;
    /// `bytes::Bytes` values travel as binary. While the socket is not connected the event is
    /// buffered and sent on connection. With `retries`, the event is delivered at least once
    /// (see [`ClientBuilder::retries`](crate::ClientBuilder::retries)).
    ///
    /// # Errors
    ///
    /// A reserved event name, arguments that cannot be encoded, or a closed client.
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        if self.inner.opts.retries > 0 {
            let template = self
                .inner
                .opts
                .parser
                .event_template(&self.inner.nsp, event, args)?;
            self.enqueue(template, None, self.inner.opts.ack_timeout);
            return Ok(());
        }
        let encoded = self
            .inner
            .opts
            .parser
            .encode_event(&self.inner.nsp, event, args, None)?;
        self.manager.send(Command::Emit {
            nsp: self.inner.nsp.clone(),
            encoded,
            ack: None,
            volatile: false,
            buffer: true,
        })
    }

    /// Emits that are dropped rather than buffered when they cannot be sent at once (Node's
    /// `socket.volatile.emit`).
    pub fn volatile(&self) -> Volatile<'_> {
        Volatile { socket: self }
    }

    /// Sends `event` and waits for the server's acknowledgement: resolves to its first
    /// argument as `R`. The deadline is `ack_timeout` unless set with [`AckFuture::timeout`]
    /// or [`Socket::timeout`]; without one it waits until the answer comes or the socket
    /// disconnects.
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> AckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        self.emit_acked(event, args, self.inner.opts.ack_timeout)
    }

    /// Emits with an acknowledgement deadline (Node's `socket.timeout(ms)`); with `retries`,
    /// the deadline of each try.
    pub fn timeout(&self, timeout: Duration) -> SocketTimeout<'_> {
        SocketTimeout {
            socket: self,
            timeout,
        }
    }

    fn emit_acked<T, R>(&self, event: &str, args: &T, timeout: Option<Duration>) -> AckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        let parser = self.inner.opts.parser;
        if self.inner.opts.retries > 0 {
            return match parser.event_template(&self.inner.nsp, event, args) {
                Ok(template) => {
                    let (tx, rx) = oneshot::channel();
                    self.enqueue(template, Some(tx), timeout);
                    AckFuture::queued(rx)
                }
                Err(error) => AckFuture::failed(AckError::Emit(error.into())),
            };
        }
        let id = self.inner.next_ack_id();
        let encoded = match parser.encode_event(&self.inner.nsp, event, args, Some(id)) {
            Ok(encoded) => encoded,
            Err(error) => return AckFuture::failed(AckError::Emit(error.into())),
        };
        let (tx, rx) = oneshot::channel();
        self.inner.state().acks.insert(id.get(), tx);
        let sent = self.manager.send(Command::Emit {
            nsp: self.inner.nsp.clone(),
            encoded,
            ack: Some(id.get()),
            volatile: false,
            buffer: true,
        });
        match sent {
            Ok(()) => AckFuture::pending(self.clone(), id.get(), rx, timeout),
            Err(error) => {
                self.inner.state().acks.remove(&id.get());
                AckFuture::failed(AckError::Emit(error))
            }
        }
    }

    /// Stops waiting for ack `id`: drops its slot and, if the event is still buffered, the
    /// event itself (Node removes a timed-out packet from the send buffer).
    pub(crate) fn forget_ack(&self, id: u64) {
        if self.inner.state().acks.remove(&id).is_some() {
            let _ = self.manager.send(Command::ForgetAck {
                nsp: self.inner.nsp.clone(),
                id,
            });
        }
    }

    /// Answers the server's event `id`.
    pub(crate) fn send_ack<T: ?Sized + Serialize>(
        &self,
        id: AckId,
        args: &T,
    ) -> Result<(), EmitError> {
        let encoded = self
            .inner
            .opts
            .parser
            .encode_ack(&self.inner.nsp, id, args)?;
        self.manager.send(Command::Ack(encoded))
    }

    // ---- at-least-once queue (`retries`) ---------------------------------------------------

    fn enqueue(&self, template: AckTemplate, reply: Option<AckSender>, timeout: Option<Duration>) {
        let mut queue = self.inner.queue();
        queue.items.push_back(Queued {
            template,
            reply,
            timeout,
        });
        if !queue.running {
            queue.running = true;
            tokio::spawn(run_queue(self.clone()));
        }
    }

    /// Waits until the socket is connected.
    async fn until_connected(&self) {
        let mut rx = self.inner.status.subscribe();
        loop {
            if self.connected() {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// One delivery with retries: send, wait for the ack (or the deadline, or a disconnection),
    /// and send again with a new ack id until acknowledged or out of tries.
    async fn deliver(&self, item: &Queued) -> Result<Args, AckError> {
        let retries = self.inner.opts.retries;
        let mut tries: u32 = 0;
        loop {
            self.until_connected().await;
            tries += 1;
            let id = self.inner.next_ack_id();
            let encoded = item.template.with_id(id).map_err(EmitError::from)?;
            let (tx, rx) = oneshot::channel();
            self.inner.state().acks.insert(id.get(), tx);
            self.manager.send(Command::Emit {
                nsp: self.inner.nsp.clone(),
                encoded,
                ack: Some(id.get()),
                volatile: false,
                buffer: false,
            })?;
            let answer = match item.timeout {
                Some(timeout) => match tokio::time::timeout(timeout, rx).await {
                    Ok(answer) => answer.unwrap_or(Err(AckError::Disconnected)),
                    Err(_) => {
                        self.inner.state().acks.remove(&id.get());
                        Err(AckError::Timeout)
                    }
                },
                None => rx.await.unwrap_or(Err(AckError::Disconnected)),
            };
            match answer {
                Ok(args) => return Ok(args),
                Err(error) if tries > retries => return Err(error),
                Err(_) => {}
            }
        }
    }
}

async fn run_queue(socket: Socket) {
    loop {
        let item = {
            let mut queue = socket.inner.queue();
            match queue.items.pop_front() {
                Some(item) => item,
                None => {
                    queue.running = false;
                    return;
                }
            }
        };
        let result = socket.deliver(&item).await;
        if let Some(reply) = item.reply {
            let _ = reply.send(result);
        }
    }
}

fn log_error(result: Result<(), crate::BoxError>, event: &str) {
    if let Err(error) = result {
        tracing::warn!(%event, %error, "handler failed");
    }
}

/// The result of [`Socket::connect`]: await it to know whether the namespace accepted the
/// socket.
#[must_use = "the connection is attempted either way; await this to learn the outcome"]
#[derive(Debug)]
pub struct ConnectFuture {
    rx: watch::Receiver<Status>,
    connected: bool,
}

impl IntoFuture for ConnectFuture {
    type Output = Result<(), ConnectError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.connected {
                return Ok(());
            }
            loop {
                if self.rx.changed().await.is_err() {
                    return Err(ConnectError::new("client closed"));
                }
                match &*self.rx.borrow_and_update() {
                    Status::Connected => return Ok(()),
                    Status::Failed(error) => return Err(error.clone()),
                    Status::Idle | Status::Disconnected => {}
                }
            }
        })
    }
}

/// Volatile emits: see [`Socket::volatile`].
#[derive(Debug)]
pub struct Volatile<'a> {
    socket: &'a Socket,
}

impl Volatile<'_> {
    /// Sends `event` now if the connection can take it at once, else drops it.
    ///
    /// # Errors
    ///
    /// As [`Socket::emit`].
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        let inner = &self.socket.inner;
        let encoded = inner
            .opts
            .parser
            .encode_event(&inner.nsp, event, args, None)?;
        self.socket.manager.send(Command::Emit {
            nsp: inner.nsp.clone(),
            encoded,
            ack: None,
            volatile: true,
            buffer: false,
        })
    }
}

/// Emits with an acknowledgement deadline: see [`Socket::timeout`].
#[derive(Debug)]
pub struct SocketTimeout<'a> {
    socket: &'a Socket,
    timeout: Duration,
}

impl SocketTimeout<'_> {
    /// [`Socket::emit_with_ack`] with this deadline.
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> AckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        self.socket.emit_acked(event, args, Some(self.timeout))
    }
}
