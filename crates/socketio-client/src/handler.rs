//! Event handlers: async closures whose parameters say what they need ([`FromEvent`]), as on
//! the server.
//!
//! ```no_run
//! use socketio_client::{Ack, AllArgs, Data, Socket};
//! # fn register(socket: Socket) {
//! socket.on("chat message", |Data(text): Data<String>| async move { println!("{text}") });
//! socket.on("move", |AllArgs((x, y)): AllArgs<(i32, i32)>| async move { println!("{x},{y}") });
//! socket.on("question", |socket: Socket, ack: Ack| async move {
//!     let _ = ack.send(&format!("answered by {:?}", socket.id()));
//! });
//! # }
//! ```

pub use socketio_handler::{
    AllArgs, BoxError, Data, EventHandler, ExtractError, FromEvent, HandlerResult, RawArgs,
};
pub(crate) use socketio_handler::{BoxFuture, ErasedHandler, HandlerFuture, erase, first_arg};

use socketio_proto::AckId;

use crate::socket::Socket;

/// Runs a handler's future at once, in the connection's task, until it first has to wait; only
/// then is it spawned. Listeners a handler registers before its first `.await` are in place
/// before the next packet is read, as in Node.
///
/// A handler that panics is reported and dropped: it must not take the connection's task (and
/// with it every socket of the connection) down. Once spawned, tokio isolates it the same way.
pub(crate) fn run_inline(future: BoxFuture) {
    socketio_handler::run_inline_guarded(future, || {
        tracing::error!("an event handler panicked");
    });
}

/// Calls a synchronous listener, reporting a panic instead of unwinding into the connection's
/// task.
pub(crate) fn guarded(listener: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(listener)).is_err() {
        tracing::error!("a listener panicked");
    }
}

/// Runs a handler's result future, logging its error.
pub(crate) fn run_handler(future: HandlerFuture, event: &str) {
    let event = event.to_owned();
    run_inline(Box::pin(async move {
        if let Err(error) = future.await {
            tracing::warn!(%event, %error, "event handler failed");
        }
    }));
}

/// What a handler is called with: the socket, the event's raw arguments and its ack id.
pub type EventContext<'a> = socketio_handler::EventContext<'a, Socket>;

impl FromEvent<Socket> for Socket {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(cx.socket().clone())
    }
}

/// The answer to an event: [`Ack::send`] calls the server's acknowledgement callback. When the
/// server did not ask for one, sending does nothing ([`Ack::expected`]). Only the first handler
/// of an event that takes an `Ack` gets the real one.
#[derive(Debug)]
pub struct Ack {
    socket: Socket,
    id: Option<AckId>,
}

impl Ack {
    /// Whether the server waits for this answer.
    pub fn expected(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the answer, with the argument rule of `emit` (`()` for none, a tuple for several,
    /// anything else for one).
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded, or the client is closed.
    pub fn send<T: ?Sized + serde::Serialize>(self, args: &T) -> Result<(), crate::EmitError> {
        match self.id {
            Some(id) => self.socket.send_ack(id, args),
            None => Ok(()),
        }
    }
}

impl FromEvent<Socket> for Ack {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(Ack {
            socket: cx.socket().clone(),
            id: cx.take_ack(),
        })
    }
}
