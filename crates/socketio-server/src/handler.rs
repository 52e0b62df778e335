//! Event handlers: plain async closures whose parameters say what they need ([`FromEvent`]).
//!
//! ```
//! use socketio_server::{Ack, Data, Socket};
//! # fn register(socket: Socket) {
//! socket.on("chat message", |socket: Socket, Data(text): Data<String>| async move {
//!     let _ = socket.broadcast().emit("chat message", &(text,));
//! });
//! socket.on("sum", |Data((a, b)): Data<(i64, i64)>, ack: Ack| async move {
//!     let _ = ack.send(&(a + b,));
//! });
//! # }
//! ```

pub use socketio_handler::{
    AllArgs, BoxError, Data, EventHandler, ExtractError, FromEvent, HandlerResult, RawArgs,
};
pub(crate) use socketio_handler::{BoxFuture, ErasedHandler, erase, first_arg, run_inline};

use socketio_proto::{AckId, Args};

use crate::socket::Socket;

/// What a handler is called with: the socket, the event and its raw arguments.
pub type EventContext<'a> = socketio_handler::EventContext<'a, Socket>;

impl FromEvent<Socket> for Socket {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(cx.socket().clone())
    }
}

/// The answer to an event: [`Ack::send`] calls the client's acknowledgement callback.
///
/// When the client did not ask for an answer, sending does nothing ([`Ack::expected`] tells).
#[derive(Debug)]
pub struct Ack {
    socket: Socket,
    id: Option<AckId>,
}

impl Ack {
    /// Whether the client waits for this answer.
    pub fn expected(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the answer, with the same argument rule as `emit`: `()` for none, a tuple for
    /// several, anything else for one.
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the connection is closed.
    pub fn send<T: ?Sized + serde::Serialize>(self, args: &T) -> Result<(), crate::EmitError> {
        match self.id {
            Some(id) => self.socket.send_ack(id, args),
            None => Ok(()),
        }
    }
}

impl Ack {
    /// Sends received arguments back as they are (binary attachments included), e.g. to
    /// answer with what the client sent.
    ///
    /// # Errors
    ///
    /// As [`Ack::send`].
    pub fn send_raw(self, args: &Args) -> Result<(), crate::EmitError> {
        match self.id {
            Some(id) => self.socket.send_ack_raw(id, args),
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
