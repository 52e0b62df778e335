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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

use serde::de::DeserializeOwned;
use socketio_proto::{AckId, Args, ArgsError};

use crate::socket::Socket;

/// An error a handler returns, or one found while preparing its arguments.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// Runs a handler's future the way Node runs a listener: at once, in the caller's task, until it
/// first has to wait; only then is it spawned. A handler that registers listeners before its
/// first `.await` has them in place before the next packet of the connection is read, and a
/// handler that never waits costs no task.
pub(crate) fn run_inline(mut future: BoxFuture) {
    let mut cx = Context::from_waker(Waker::noop());
    if future.as_mut().poll(&mut cx).is_pending() {
        // The spawned task polls again with its own waker, which replaces the no-op one.
        tokio::spawn(future);
    }
}

/// What a handler may return: nothing, or a `Result` whose error is reported (see
/// [`crate::ServerBuilder::on_error`]).
pub trait HandlerResult: Send + 'static {
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> HandlerResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// What a handler is called with: the socket, the event and its raw arguments.
pub struct EventContext<'a> {
    pub(crate) socket: &'a Socket,
    pub(crate) args: &'a Args,
    pub(crate) ack: Option<AckId>,
}

impl fmt::Debug for EventContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventContext")
            .field("socket", &self.socket.id())
            .field("ack", &self.ack)
            .finish_non_exhaustive()
    }
}

/// Why a handler was not called: its arguments did not fit its parameters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The arguments do not deserialize into the handler's types.
    #[error("invalid arguments: {0}")]
    Args(#[from] ArgsError),
}

/// A handler parameter, taken from the event being handled.
///
/// Implemented by [`Socket`] (the receiving socket), [`Data`] (the first argument),
/// [`AllArgs`] (every argument), [`RawArgs`] (the raw arguments) and [`Ack`] (the answer).
pub trait FromEvent: Sized + Send + 'static {
    /// Takes the parameter from `cx`.
    ///
    /// # Errors
    ///
    /// When the arguments do not fit.
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError>;
}

impl FromEvent for Socket {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(cx.socket.clone())
    }
}

/// The first argument of an event, deserialized. A missing argument deserializes as `null`
/// (fits `Option<T>` and `()`); arguments after the first are ignored. Binary values (sent as
/// `Buffer` / `ArrayBuffer` by JavaScript) deserialize into `bytes::Bytes` or `serde_bytes`.
///
/// To take several arguments, use [`AllArgs`] with a tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Data<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromEvent for Data<T> {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(Data(first_arg(cx.args)?))
    }
}

/// Every argument of an event, deserialized as one sequence: a tuple `(A, B)` for an event sent
/// with two arguments, a `Vec<serde_json::Value>` for any number.
#[derive(Debug, Clone, PartialEq)]
pub struct AllArgs<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromEvent for AllArgs<T> {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(AllArgs(cx.args.deserialize()?))
    }
}

/// The arguments as received, to parse later or to forward ([`Args::to_values`],
/// [`Args::deserialize`]). Cloning shares the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArgs(pub Args);

impl FromEvent for RawArgs {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(RawArgs(cx.args.clone()))
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

impl FromEvent for Ack {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(Ack {
            socket: cx.socket.clone(),
            id: cx.ack.take(),
        })
    }
}

/// Deserializes the first element of the argument array (`null` when there is none).
pub(crate) fn first_arg<T: DeserializeOwned>(args: &Args) -> Result<T, ArgsError> {
    Ok(args.deserialize::<First<T>>()?.0)
}

/// The first element of a sequence; the rest is read (so a malformed tail is still an error)
/// and ignored.
struct First<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for First<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an argument list")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<First<T>, A::Error> {
                let first = match seq.next_element::<T>()? {
                    Some(first) => first,
                    None => T::deserialize(serde::de::value::UnitDeserializer::<A::Error>::new())?,
                };
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        deserializer.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

/// An event handler: an async closure (or function) whose parameters all implement
/// [`FromEvent`], returning `()` or a `Result` ([`HandlerResult`]). Up to six parameters.
pub trait EventHandler<M>: Send + Sync + 'static {
    /// Prepares the call: extracts the parameters and returns the handler's future.
    ///
    /// # Errors
    ///
    /// When a parameter cannot be extracted; the handler is then not called.
    #[doc(hidden)]
    fn call(&self, cx: &mut EventContext<'_>) -> Result<HandlerFuture, ExtractError>;
}

macro_rules! impl_event_handler {
    ($($param:ident),*) => {
        impl<F, Fut, R, $($param,)*> EventHandler<($($param,)*)> for F
        where
            F: Fn($($param),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: HandlerResult,
            $($param: FromEvent,)*
        {
            #[allow(non_snake_case, unused_mut, unused_variables, reason = "macro")]
            fn call(&self, cx: &mut EventContext<'_>) -> Result<HandlerFuture, ExtractError> {
                $(let $param = $param::from_event(cx)?;)*
                let future = (self)($($param),*);
                Ok(Box::pin(async move { future.await.into_result() }))
            }
        }
    };
}

impl_event_handler!();
impl_event_handler!(T1);
impl_event_handler!(T1, T2);
impl_event_handler!(T1, T2, T3);
impl_event_handler!(T1, T2, T3, T4);
impl_event_handler!(T1, T2, T3, T4, T5);
impl_event_handler!(T1, T2, T3, T4, T5, T6);

/// A type-erased event handler.
pub(crate) trait ErasedHandler: Send + Sync {
    fn call(&self, cx: &mut EventContext<'_>) -> Result<HandlerFuture, ExtractError>;
}

pub(crate) struct Erased<H, M>(pub(crate) H, pub(crate) std::marker::PhantomData<fn() -> M>);

impl<H: EventHandler<M>, M: 'static> ErasedHandler for Erased<H, M> {
    fn call(&self, cx: &mut EventContext<'_>) -> Result<HandlerFuture, ExtractError> {
        self.0.call(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketio_proto::Parser;

    fn args(json: &str) -> Args {
        let mut decoder = Parser::Json.decoder(Default::default(), Default::default());
        let packet = decoder
            .decode_text(format!("2[\"e\"{json}]").into())
            .unwrap()
            .unwrap();
        match packet.data {
            socketio_proto::PacketData::Event(event) => event.args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn first_argument_rules() {
        assert_eq!(first_arg::<String>(&args(r#","a",2"#)).unwrap(), "a");
        assert_eq!(first_arg::<Option<String>>(&args("")).unwrap(), None);
        first_arg::<()>(&args("")).unwrap();
        assert!(first_arg::<String>(&args("")).is_err());
        assert!(first_arg::<String>(&args(",1")).is_err());
        // A malformed tail is an error even though it is ignored.
        assert!(first_arg::<String>(&args(r#","a",{"#)).is_err());
    }

    #[test]
    fn run_inline_does_not_spawn_ready_futures() {
        // No runtime here: spawning would panic, so this proves the future completed inline.
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let set = flag.clone();
        run_inline(Box::pin(async move {
            set.store(true, std::sync::atomic::Ordering::SeqCst);
        }));
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
    }
}
