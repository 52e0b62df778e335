//! Waiting for the server's acknowledgement of an emit ([`AckFuture`]).

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;
use socketio_proto::{Args, ArgsError};
use tokio::sync::oneshot;

use crate::EmitError;
use crate::socket::Socket;

pub(crate) type AckSender = oneshot::Sender<Result<Args, AckError>>;
pub(crate) type AckReceiver = oneshot::Receiver<Result<Args, AckError>>;

/// Why an acknowledgement did not come.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The deadline passed first (Node: `"operation has timed out"`); with `retries`, after
    /// the last try.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected after the event was sent (Node: `"socket has been
    /// disconnected"`); with `retries`, after the last try.
    #[error("socket has been disconnected")]
    Disconnected,
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// The answer does not deserialize into the expected type.
    #[error("invalid acknowledgement: {0}")]
    Args(#[from] ArgsError),
}

/// The acknowledgement of one emit: resolves to the answer's first argument as `R` (or to all
/// of them with [`AckFuture::raw`]). The event is already sent (or buffered) when this is
/// created; dropping it only stops waiting.
#[must_use = "an acknowledgement does nothing unless awaited"]
pub struct AckFuture<R> {
    state: State,
    timeout: Option<Duration>,
    _answer: PhantomData<fn() -> R>,
}

enum State {
    /// Waiting for ack `id` of `socket`.
    Pending(Pending),
    /// The retry queue answers (it applies the per-try deadlines itself).
    Queued(AckReceiver),
    Failed(AckError),
}

/// Forgets the ack id when the wait ends without an answer (timeout, or the future dropped), so
/// that the slot does not linger and the buffered packet is not sent for nothing.
struct Pending {
    socket: Socket,
    id: u64,
    rx: Option<AckReceiver>,
    answered: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.answered {
            self.socket.forget_ack(self.id);
        }
    }
}

impl<R> std::fmt::Debug for AckFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckFuture")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<R> AckFuture<R> {
    pub(crate) fn pending(
        socket: Socket,
        id: u64,
        rx: AckReceiver,
        timeout: Option<Duration>,
    ) -> Self {
        Self::with(
            State::Pending(Pending {
                socket,
                id,
                rx: Some(rx),
                answered: false,
            }),
            timeout,
        )
    }

    pub(crate) fn queued(rx: AckReceiver) -> Self {
        Self::with(State::Queued(rx), None)
    }

    pub(crate) fn failed(error: AckError) -> Self {
        Self::with(State::Failed(error), None)
    }

    fn with(state: State, timeout: Option<Duration>) -> Self {
        Self {
            state,
            timeout,
            _answer: PhantomData,
        }
    }

    /// Gives up after `timeout` with [`AckError::Timeout`] (overrides `ack_timeout`). With
    /// `retries`, this bounds the whole delivery; set the per-try deadline with
    /// [`Socket::timeout`] or `ack_timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The answer's arguments as received, instead of the first one deserialized.
    ///
    /// # Errors
    ///
    /// See [`AckError`].
    pub async fn raw(self) -> Result<Args, AckError> {
        let timeout = self.timeout;
        let wait = async move {
            match self.state {
                State::Failed(error) => Err(error),
                State::Queued(rx) => rx.await.unwrap_or(Err(AckError::Disconnected)),
                State::Pending(mut pending) => {
                    let Some(rx) = pending.rx.take() else {
                        return Err(AckError::Disconnected);
                    };
                    let answer = rx.await.unwrap_or(Err(AckError::Disconnected));
                    // A slot that was answered (even with an error) is already gone.
                    pending.answered = true;
                    answer
                }
            }
        };
        match timeout {
            Some(timeout) => tokio::time::timeout(timeout, wait)
                .await
                .unwrap_or(Err(AckError::Timeout)),
            None => wait.await,
        }
    }
}

impl<R: DeserializeOwned + Send + 'static> IntoFuture for AckFuture<R> {
    type Output = Result<R, AckError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let args = self.raw().await?;
            Ok(crate::handler::first_arg(&args)?)
        })
    }
}
