//! Waiting for acknowledgements: one client's ([`AckFuture`]) or a broadcast's
//! ([`BroadcastAckFuture`]).

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;
use socketio_proto::{AckId, Args, ArgsError};
use tokio::sync::{mpsc, oneshot};

use crate::EmitError;
use crate::socket::Socket;

/// Where an acknowledgement goes when it arrives.
pub(crate) enum AckSlot {
    /// One emit waits for it.
    One(oneshot::Sender<Result<Args, AckError>>),
    /// A broadcast collects it with the other recipients'.
    Many(mpsc::UnboundedSender<Result<Args, AckError>>),
}

/// Why an acknowledgement did not come.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The deadline passed first (Node: `"operation has timed out"`).
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected first.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// The answer does not deserialize into the expected type.
    #[error("invalid acknowledgement: {0}")]
    Args(#[from] ArgsError),
    /// The other servers of the cluster could not be reached.
    #[error(transparent)]
    Cluster(#[from] crate::AdapterError),
}

/// The acknowledgement of one emit: resolves to the answer's first argument as `R`.
#[must_use = "an acknowledgement does nothing unless awaited"]
pub struct AckFuture<R> {
    state: AckState,
    timeout: Option<Duration>,
    _answer: PhantomData<fn() -> R>,
}

enum AckState {
    Pending {
        socket: Socket,
        id: AckId,
        rx: oneshot::Receiver<Result<Args, AckError>>,
    },
    Failed(AckError),
}

impl<R> std::fmt::Debug for AckFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckFuture")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<R: DeserializeOwned> AckFuture<R> {
    pub(crate) fn pending(
        socket: Socket,
        id: AckId,
        rx: oneshot::Receiver<Result<Args, AckError>>,
    ) -> Self {
        Self {
            state: AckState::Pending { socket, id, rx },
            timeout: None,
            _answer: PhantomData,
        }
    }

    pub(crate) fn failed(error: AckError) -> Self {
        Self {
            state: AckState::Failed(error),
            timeout: None,
            _answer: PhantomData,
        }
    }

    /// Gives up after `timeout` with [`AckError::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The answer's arguments as received, instead of the first one deserialized.
    pub async fn raw(self) -> Result<Args, AckError> {
        let (socket, id, rx) = match self.state {
            AckState::Failed(error) => return Err(error),
            AckState::Pending { socket, id, rx } => (socket, id, rx),
        };
        let answer = match self.timeout {
            Some(timeout) => match tokio::time::timeout(timeout, rx).await {
                Ok(answer) => answer,
                Err(_) => {
                    socket.forget_ack(id);
                    return Err(AckError::Timeout);
                }
            },
            None => rx.await,
        };
        answer.unwrap_or(Err(AckError::Disconnected))
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

/// The acknowledgements of a broadcast: one answer per recipient (each answer's first argument
/// as `R`), in arrival order.
#[must_use = "acknowledgements do nothing unless awaited"]
pub struct BroadcastAckFuture<R> {
    pub(crate) rx: Option<mpsc::UnboundedReceiver<Result<Args, AckError>>>,
    pub(crate) expected: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) error: Option<EmitError>,
    pub(crate) cleanup: Option<Box<dyn FnOnce() + Send>>,
    /// Delivery on the other servers of a cluster: resolves to how many answers they expect.
    pub(crate) remote: Option<RemoteDelivery>,
    pub(crate) _answer: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for BroadcastAckFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastAckFuture")
            .field("expected", &self.expected)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A broadcast's delivery on the other servers: how many answers they expect.
pub(crate) type RemoteDelivery =
    Pin<Box<dyn Future<Output = Result<usize, crate::AdapterError>> + Send>>;

/// Why a broadcast's acknowledgements are incomplete; the answers that did come are kept.
#[derive(Debug, thiserror::Error)]
#[error("{error} ({} of {expected} answers)", responses.len())]
pub struct BroadcastAckError<R> {
    /// What went wrong first.
    pub error: AckError,
    /// The answers received, in arrival order.
    pub responses: Vec<R>,
    /// How many answers were expected.
    pub expected: usize,
}

impl<R: DeserializeOwned + Send + 'static> IntoFuture for BroadcastAckFuture<R> {
    type Output = Result<Vec<R>, BroadcastAckError<R>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(error) = self.error.take() {
                return Err(BroadcastAckError {
                    error: AckError::Emit(error),
                    responses: Vec::new(),
                    expected: 0,
                });
            }
            let mut remote_error = None;
            if let Some(remote) = self.remote.take() {
                match remote.await {
                    Ok(count) => self.expected += count,
                    Err(error) => remote_error = Some(error),
                }
            }
            let expected = self.expected;
            let fail = |error, responses| BroadcastAckError {
                error,
                responses,
                expected,
            };
            let mut responses = Vec::with_capacity(expected);
            let mut first_error = None;
            let collect = async {
                let Some(rx) = self.rx.as_mut() else { return };
                let mut answered = 0;
                while answered < expected {
                    match rx.recv().await {
                        Some(Ok(args)) => {
                            answered += 1;
                            match crate::handler::first_arg::<R>(&args) {
                                Ok(answer) => responses.push(answer),
                                Err(error) => {
                                    first_error.get_or_insert(AckError::Args(error));
                                }
                            }
                        }
                        Some(Err(error)) => {
                            answered += 1;
                            first_error.get_or_insert(error);
                        }
                        None => break,
                    }
                }
            };
            let timed_out = match self.timeout {
                Some(timeout) => tokio::time::timeout(timeout, collect).await.is_err(),
                None => {
                    collect.await;
                    false
                }
            };
            if let Some(cleanup) = self.cleanup.take() {
                cleanup();
            }
            if timed_out {
                return Err(fail(AckError::Timeout, responses));
            }
            if let Some(error) = first_error {
                return Err(fail(error, responses));
            }
            match remote_error {
                Some(error) => Err(fail(AckError::Cluster(error), responses)),
                None => Ok(responses),
            }
        })
    }
}
