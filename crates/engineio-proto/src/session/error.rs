//! Errors of the session: the peer's faults and the refusals of local calls.

#[cfg(doc)]
use super::{CloseReason, Config, Session};
use crate::{Packet, PacketType};

/// A protocol rule the peer broke; the session closes with [`CloseReason::TransportError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A ping went the wrong way for the protocol revision (Node: "invalid heartbeat direction").
    #[error("invalid heartbeat direction")]
    InvalidHeartbeatDirection,
    /// A packet that is not valid at this point of the session (an `open` after the handshake,
    /// an `upgrade` on the current transport, anything but `open` before the handshake).
    /// Node's server silently ignores a stray `open` or `upgrade`; only a broken or hostile
    /// peer sends one, so we close instead.
    #[error("unexpected {0:?} packet")]
    UnexpectedPacket(PacketType),
    /// A second GET arrived while one was held (Node: "overlap from client").
    #[error("overlap from client")]
    PollOverlap,
}

/// Why [`Session::send`] refused a message; the message is handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The outbound queue is at [`Config::max_queued_packets`] or [`Config::max_queued_bytes`].
    /// The driver applies its policy: drop the message (volatile) or disconnect the slow peer.
    #[error("outbound queue full")]
    QueueFull(Packet),
    /// The session is closing or closed.
    #[error("session closed")]
    Closed(Packet),
    /// Only [`Packet::Message`] and [`Packet::Binary`] come from the layer above.
    #[error("not a message packet")]
    NotAMessage(Packet),
}

/// Why [`Session::handle_poll_request`] refused a GET (or [`Session::handle_post_request`] a
/// POST); the driver answers it with HTTP 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// A GET was already held; the session closes with "transport error" (as Node does).
    #[error("overlap from client")]
    Overlap,
    /// The session no longer runs on polling (it was upgraded).
    #[error("session is not on polling")]
    WrongTransport,
    /// The session is closed.
    #[error("session closed")]
    Closed,
}

/// Why [`Session::handle_upgrade_request`] refused a WebSocket; the driver closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Upgrades are disabled, or the session is not on polling.
    #[error("upgrade not allowed")]
    NotAllowed,
    /// Another WebSocket is already being probed.
    #[error("transport has already been trying to upgrade")]
    AlreadyUpgrading,
    /// The session was already upgraded.
    #[error("transport has already been upgraded")]
    AlreadyUpgraded,
    /// The session is closing or closed.
    #[error("session closed")]
    Closed,
}
