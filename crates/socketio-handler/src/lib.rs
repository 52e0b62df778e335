//! Event handlers shared by `socketio-server` and `socketio-client`: plain async closures whose
//! parameters say what they need ([`FromEvent`]).
//!
//! Both sides handle an incoming `EVENT` packet the same way: every parameter of the handler is
//! taken from an [`EventContext`] (the receiving socket, the raw arguments, the acknowledgement
//! id), then the handler's future is run at once in the connection's task until it first has to
//! wait ([`run_inline`]). What differs is the socket type, so everything here is generic over it
//! (`S`); each side implements [`FromEvent`] for its socket and its `Ack`, and re-exports the
//! rest ([`Data`], [`AllArgs`], [`RawArgs`], [`HandlerResult`], …) under its own name.
//! Applications use those re-exports (`socketio_server::Data`, `socketio_client::Data`) and do
//! not need this crate.
//!
//! What a socket does with an incoming event, with a stand-in socket type:
//!
//! ```
//! use socketio_handler::{Data, EventContext, ExtractError, FromEvent, erase, run_inline};
//! use socketio_proto::{PacketData, Parser};
//!
//! #[derive(Clone)]
//! struct MySocket(&'static str);
//!
//! impl FromEvent<MySocket> for MySocket {
//!     fn from_event(cx: &mut EventContext<'_, MySocket>) -> Result<Self, ExtractError> {
//!         Ok(cx.socket().clone())
//!     }
//! }
//!
//! // What `socket.on("answer", …)` stores:
//! let handler = erase(|socket: MySocket, Data(n): Data<i64>| async move {
//!     assert_eq!((socket.0, n), ("a", 42));
//! });
//!
//! // What the connection does when `["answer",42]` arrives:
//! let mut decoder = Parser::Json.decoder(Default::default(), Default::default());
//! let packet = decoder.decode_text(r#"2["answer",42]"#.into()).unwrap().unwrap();
//! let PacketData::Event(event) = packet.data else { unreachable!() };
//! let socket = MySocket("a");
//! let mut cx = EventContext::new(&socket, event.args(), event.ack);
//! let future = handler.call(&mut cx).unwrap();
//! run_inline(Box::pin(async move { future.await.unwrap() }));
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use serde::de::DeserializeOwned;
use socketio_proto::{AckId, Args, ArgsError};

/// An error a handler returns, or one found while preparing its arguments.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed future with no output: a connection, disconnection or event handler ready to run.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The future of an event handler, with the handler's outcome ([`HandlerResult`]).
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// Polls `future` once with a waker that does nothing; whether it is still pending.
fn poll_once(future: &mut BoxFuture) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    future.as_mut().poll(&mut cx).is_pending()
}

/// Runs a handler's future the way Node runs a listener: at once, in the caller's task, until it
/// first has to wait; only then is it spawned (on the current tokio runtime). A handler that
/// registers listeners before its first `.await` has them in place before the next packet of the
/// connection is read, and a handler that never waits costs no task.
///
/// A panic of the handler before its first `.await` unwinds into the caller; see
/// [`run_inline_guarded`] to stop it there.
///
/// ```
/// // Completes inline: no runtime is needed.
/// socketio_handler::run_inline(Box::pin(async { println!("handled") }));
/// ```
pub fn run_inline(mut future: BoxFuture) {
    if poll_once(&mut future) {
        // The spawned task polls again with its own waker, which replaces the no-op one.
        tokio::spawn(future);
    }
}

/// [`run_inline`], except that a panic of the handler before its first `.await` is caught: the
/// future is dropped and `on_panic` called, so that the caller's task (and every socket it
/// serves) lives on. Once spawned, tokio isolates the handler the same way.
///
/// ```
/// let mut reported = false;
/// socketio_handler::run_inline_guarded(Box::pin(async { panic!("bug") }), || reported = true);
/// assert!(reported);
/// ```
pub fn run_inline_guarded(mut future: BoxFuture, on_panic: impl FnOnce()) {
    match catch_unwind(AssertUnwindSafe(|| poll_once(&mut future))) {
        Ok(true) => {
            tokio::spawn(future);
        }
        Ok(false) => {}
        Err(_) => on_panic(),
    }
}

/// What a handler may return: nothing, or a `Result` whose error is reported (the server hands
/// it to its error hook, the client logs it).
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

/// What a handler is called with: the receiving socket (of type `S`), the event's raw arguments
/// and its acknowledgement id.
///
/// The server and the client name it for their socket: `socketio_server::EventContext<'a>`,
/// `socketio_client::EventContext<'a>`.
pub struct EventContext<'a, S> {
    socket: &'a S,
    args: &'a Args,
    ack: Option<AckId>,
}

impl<'a, S> EventContext<'a, S> {
    /// The context of one incoming event, as the socket that received it builds it.
    pub fn new(socket: &'a S, args: &'a Args, ack: Option<AckId>) -> Self {
        EventContext { socket, args, ack }
    }

    /// The socket that received the event.
    pub fn socket(&self) -> &'a S {
        self.socket
    }

    /// The event's arguments, as received.
    pub fn args(&self) -> &'a Args {
        self.args
    }

    /// Takes the acknowledgement id, if the sender waits for an answer and no parameter took it
    /// yet: the first `Ack` parameter does, later ones see none.
    pub fn take_ack(&mut self) -> Option<AckId> {
        self.ack.take()
    }
}

impl<S: fmt::Debug> fmt::Debug for EventContext<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventContext")
            .field("socket", self.socket)
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

/// A handler parameter, taken from the event being handled by a socket of type `S`.
///
/// Implemented by [`Data`] (the first argument), [`AllArgs`] (every argument) and [`RawArgs`]
/// (the raw arguments) for any socket, and by each side for its `Socket` (the receiving socket)
/// and its `Ack` (the answer). An extractor of your own can build on those:
///
/// ```
/// use socketio_handler::{Data, EventContext, ExtractError, FromEvent};
///
/// /// The first argument, upper-cased.
/// struct Shout(String);
///
/// impl<S> FromEvent<S> for Shout {
///     fn from_event(cx: &mut EventContext<'_, S>) -> Result<Self, ExtractError> {
///         let Data(text) = Data::<String>::from_event(cx)?;
///         Ok(Shout(text.to_uppercase()))
///     }
/// }
/// ```
pub trait FromEvent<S>: Sized + Send + 'static {
    /// Takes the parameter from `cx`.
    ///
    /// # Errors
    ///
    /// When the arguments do not fit.
    fn from_event(cx: &mut EventContext<'_, S>) -> Result<Self, ExtractError>;
}

/// The first argument of an event, deserialized. A missing argument deserializes as `null`
/// (fits `Option<T>` and `()`); arguments after the first are ignored. Binary values (sent as
/// `Buffer` / `ArrayBuffer` by JavaScript) deserialize into `bytes::Bytes` or `serde_bytes`.
///
/// To take several arguments, use [`AllArgs`] with a tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Data<T>(pub T);

impl<S, T: DeserializeOwned + Send + 'static> FromEvent<S> for Data<T> {
    fn from_event(cx: &mut EventContext<'_, S>) -> Result<Self, ExtractError> {
        Ok(Data(first_arg(cx.args)?))
    }
}

/// Every argument of an event, deserialized as one sequence: a tuple `(A, B)` for an event sent
/// with two arguments, a `Vec<serde_json::Value>` for any number.
#[derive(Debug, Clone, PartialEq)]
pub struct AllArgs<T>(pub T);

impl<S, T: DeserializeOwned + Send + 'static> FromEvent<S> for AllArgs<T> {
    fn from_event(cx: &mut EventContext<'_, S>) -> Result<Self, ExtractError> {
        Ok(AllArgs(cx.args.deserialize()?))
    }
}

/// The arguments as received, to parse later or to forward ([`Args::to_values`],
/// [`Args::deserialize`]). Cloning shares the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArgs(pub Args);

impl<S> FromEvent<S> for RawArgs {
    fn from_event(cx: &mut EventContext<'_, S>) -> Result<Self, ExtractError> {
        Ok(RawArgs(cx.args.clone()))
    }
}

/// Deserializes the first element of the argument array (`null` when there is none), as
/// [`Data`] does; acknowledgement answers are read the same way.
///
/// # Errors
///
/// When the first element does not deserialize into `T`, or a later one is malformed.
pub fn first_arg<T: DeserializeOwned>(args: &Args) -> Result<T, ArgsError> {
    Ok(args.deserialize::<First<T>>()?.0)
}

/// The first element of a sequence; the rest is read (so a malformed tail is still an error)
/// and ignored.
struct First<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for First<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(PhantomData<T>);
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
        deserializer.deserialize_seq(Visit(PhantomData))
    }
}

/// An event handler for sockets of type `S`: an async closure (or function) whose parameters all
/// implement [`FromEvent<S>`](FromEvent), returning `()` or a `Result` ([`HandlerResult`]). Up to
/// six parameters. `M` stands for the parameter types; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a socket.io event handler",
    note = "a handler is an async closure whose parameters are `Socket`, `Data<T>`, `AllArgs<T>`, `RawArgs` or `Ack`"
)]
pub trait EventHandler<S, M>: Send + Sync + 'static {
    /// Prepares the call: extracts the parameters and returns the handler's future.
    ///
    /// # Errors
    ///
    /// When a parameter cannot be extracted; the handler is then not called.
    #[doc(hidden)]
    fn call(&self, cx: &mut EventContext<'_, S>) -> Result<HandlerFuture, ExtractError>;
}

macro_rules! impl_event_handler {
    ($($param:ident),*) => {
        impl<S, F, Fut, R, $($param,)*> EventHandler<S, ($($param,)*)> for F
        where
            F: Fn($($param),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: HandlerResult,
            $($param: FromEvent<S>,)*
        {
            #[allow(non_snake_case, unused_mut, unused_variables, reason = "macro")]
            fn call(&self, cx: &mut EventContext<'_, S>) -> Result<HandlerFuture, ExtractError> {
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

/// An event handler of sockets of type `S` with its parameter types erased, as a socket stores
/// it ([`erase`]).
pub trait ErasedHandler<S>: Send + Sync {
    /// Extracts the parameters and returns the handler's future.
    ///
    /// # Errors
    ///
    /// When a parameter cannot be extracted; the handler is then not called.
    fn call(&self, cx: &mut EventContext<'_, S>) -> Result<HandlerFuture, ExtractError>;
}

struct Erased<H, M>(H, PhantomData<fn() -> M>);

impl<S, H: EventHandler<S, M>, M: 'static> ErasedHandler<S> for Erased<H, M> {
    fn call(&self, cx: &mut EventContext<'_, S>) -> Result<HandlerFuture, ExtractError> {
        self.0.call(cx)
    }
}

/// Erases the parameter types of `handler`, so that handlers of any parameters can be stored
/// together.
pub fn erase<S, H, M>(handler: H) -> Arc<dyn ErasedHandler<S>>
where
    S: 'static,
    H: EventHandler<S, M>,
    M: 'static,
{
    Arc::new(Erased(handler, PhantomData))
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
            socketio_proto::PacketData::Event(event) => event.into_args(),
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
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let set = flag.clone();
        run_inline(Box::pin(async move {
            set.store(true, std::sync::atomic::Ordering::SeqCst);
        }));
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn run_inline_guarded_reports_a_panic() {
        let mut panicked = false;
        run_inline_guarded(Box::pin(async { panic!("handler bug") }), || {
            panicked = true
        });
        assert!(panicked);
        let mut panicked = false;
        run_inline_guarded(Box::pin(async {}), || panicked = true);
        assert!(!panicked);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pending_handlers_are_spawned() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        run_inline(Box::pin(async move {
            tokio::task::yield_now().await;
            let _ = tx.send(());
        }));
        rx.await.unwrap();
    }

    #[derive(Clone, Debug)]
    struct TestSocket;

    impl FromEvent<TestSocket> for TestSocket {
        fn from_event(cx: &mut EventContext<'_, TestSocket>) -> Result<Self, ExtractError> {
            Ok(cx.socket().clone())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn extractors_and_handlers() {
        let args = args(r#","a",2"#);
        let mut cx = EventContext::new(&TestSocket, &args, AckId::new(7));
        let handler = erase(
            |_: TestSocket,
             Data(a): Data<String>,
             AllArgs(all): AllArgs<(String, i32)>,
             raw: RawArgs| async move {
                assert_eq!(a, "a");
                assert_eq!(all, ("a".to_owned(), 2));
                assert_eq!(raw.0.to_values().unwrap().len(), 2);
                Err::<(), _>("handler error")
            },
        );
        let future = handler.call(&mut cx).unwrap();
        assert_eq!(future.await.unwrap_err().to_string(), "handler error");
        // No parameter took the acknowledgement id.
        assert_eq!(cx.take_ack(), AckId::new(7));
        assert_eq!(cx.take_ack(), None);
        // Arguments that do not fit: the handler is not called.
        let refused = erase(|Data(_): Data<i32>| async {});
        assert!(matches!(refused.call(&mut cx), Err(ExtractError::Args(_))));
    }
}
