//! What the application holds: a [`Socket`] handle to send and close, and [`Events`] to receive.

use bytes::Bytes;
use engineio_proto::session::CloseReason;
use engineio_proto::{Packet, ProtocolVersion, Str, TransportKind};
use tokio::sync::mpsc;

use crate::driver::Command;

/// One Engine.IO message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

impl From<Message> for Packet {
    fn from(message: Message) -> Self {
        match message {
            Message::Text(text) => Packet::Message(text),
            Message::Binary(data) => Packet::Binary(data),
        }
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Self {
        Self::Text(Str::from_static(text))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(Str::from(text))
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

/// What a session reports to the application, in order. [`SocketEvent::Closed`] comes last.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketEvent {
    /// A message from the client.
    Message(Message),
    /// The session moved to this transport (polling to WebSocket).
    Upgraded(TransportKind),
    /// The session is over, for this reason (Node's names: `"transport close"`, `"ping timeout"`…).
    Closed(CloseReason),
}

/// Why [`Socket::send`] refused a message; the message is handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session's command channel is full ([`crate::Config::command_capacity`]): the
    /// session task is behind, usually because its peer reads slowly.
    #[error("session channel full")]
    Full(Message),
    /// The session is closed.
    #[error("session closed")]
    Closed(Message),
}

/// A handle to one Engine.IO session. Cheap to clone; every clone talks to the session's task
/// through one bounded channel, so sending never blocks and never takes a lock.
#[derive(Debug, Clone)]
pub struct Socket {
    pub(crate) sid: Str,
    pub(crate) protocol: ProtocolVersion,
    pub(crate) tx: mpsc::Sender<Command>,
}

impl Socket {
    /// The session id.
    pub fn id(&self) -> &str {
        &self.sid
    }

    /// The protocol revision the client speaks.
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// Queues a message for the client.
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] when the session's channel is full, [`SendError::Closed`] once the
    /// session is over. A session whose own outbound queue overflows (a client that does not
    /// read) is closed with `"transport error"`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        self.tx
            .try_send(Command::Send(message.into()))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(command) => SendError::Full(command.into_message()),
                mpsc::error::TrySendError::Closed(command) => {
                    SendError::Closed(command.into_message())
                }
            })
    }

    /// Queues a message, waiting for room in the session's channel.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] once the session is over.
    pub async fn send_wait(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        self.tx
            .send(Command::Send(message.into()))
            .await
            .map_err(|error| SendError::Closed(error.0.into_message()))
    }

    /// Closes the session from the server (`"forced close"`): queued messages are flushed first.
    pub fn close(&self) {
        self.close_with(CloseReason::ForcedClose);
    }

    pub(crate) fn close_with(&self, reason: CloseReason) {
        if let Err(mpsc::error::TrySendError::Full(command)) =
            self.tx.try_send(Command::Close(reason))
        {
            // Closing must not be lost to a full channel: wait for room off this call.
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(command).await;
            });
        }
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The events of one session, in order: messages, upgrades, then [`SocketEvent::Closed`].
///
/// The channel is bounded ([`crate::Config::max_pending_events`] in all): a session whose
/// application does not read stops reading its client (backpressure) instead of buffering.
/// Dropping `Events` discards further events; the session goes on.
#[derive(Debug)]
pub struct Events {
    pub(crate) rx: mpsc::Receiver<SocketEvent>,
}

impl Events {
    /// The next event; `None` after [`SocketEvent::Closed`].
    pub async fn recv(&mut self) -> Option<SocketEvent> {
        self.rx.recv().await
    }

    /// The next message, skipping other events; `None` once the session is over.
    pub async fn next_message(&mut self) -> Option<Message> {
        while let Some(event) = self.rx.recv().await {
            if let SocketEvent::Message(message) = event {
                return Some(message);
            }
        }
        None
    }
}
