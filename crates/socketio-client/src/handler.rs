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

/// Runs a handler's future at once, in the connection's task, until it first has to wait; only
/// then is it spawned. Listeners a handler registers before its first `.await` are in place
/// before the next packet is read, as in Node.
///
/// A handler that panics is reported and dropped: it must not take the connection's task (and
/// with it every socket of the connection) down. Once spawned, tokio isolates it the same way.
pub(crate) fn run_inline(mut future: BoxFuture) {
    let mut cx = Context::from_waker(Waker::noop());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        future.as_mut().poll(&mut cx).is_pending()
    }));
    match polled {
        Ok(true) => {
            tokio::spawn(future);
        }
        Ok(false) => {}
        Err(_) => tracing::error!("an event handler panicked"),
    }
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

/// What a handler may return: nothing, or a `Result` whose error is logged.
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

/// What a handler is called with: the socket, the event's raw arguments and its ack id.
pub struct EventContext<'a> {
    pub(crate) socket: &'a Socket,
    pub(crate) args: &'a Args,
    pub(crate) ack: Option<AckId>,
}

impl fmt::Debug for EventContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventContext")
            .field("namespace", &self.socket.namespace())
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

/// A handler parameter, taken from the event being handled: [`Socket`], [`Data`],
/// [`AllArgs`], [`RawArgs`] or [`Ack`].
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

/// The first argument of an event, deserialized (`null` when missing, which fits `Option<T>`
/// and `()`); later arguments are ignored. Binary values deserialize into `bytes::Bytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Data<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromEvent for Data<T> {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(Data(first_arg(cx.args)?))
    }
}

/// Every argument, deserialized as one sequence: a tuple `(A, B)` for two arguments, a
/// `Vec<serde_json::Value>` for any number.
#[derive(Debug, Clone, PartialEq)]
pub struct AllArgs<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromEvent for AllArgs<T> {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(AllArgs(cx.args.deserialize()?))
    }
}

/// The arguments as received ([`Args::to_values`], [`Args::deserialize`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RawArgs(pub Args);

impl FromEvent for RawArgs {
    fn from_event(cx: &mut EventContext<'_>) -> Result<Self, ExtractError> {
        Ok(RawArgs(cx.args.clone()))
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

/// The first element of a sequence; the rest is read and ignored.
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

/// An event handler: an async closure whose parameters all implement [`FromEvent`] (up to
/// six), returning `()` or a `Result` ([`HandlerResult`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a socket.io event handler",
    note = "a handler is an async closure whose parameters are `Socket`, `Data<T>`, `AllArgs<T>`, `RawArgs` or `Ack`"
)]
pub trait EventHandler<M>: Send + Sync + 'static {
    /// Extracts the parameters and returns the handler's future.
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
