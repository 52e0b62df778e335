//! Session settings.

#[cfg(doc)]
use super::Session;
use std::time::Duration;

use crate::{ProtocolVersion, TransportKind};

/// Settings of a session. The defaults are those of Node's `engine.io`. The struct is
/// `#[non_exhaustive]` so that settings can be added: start from [`Config::default`].
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::session::Config;
///
/// let mut config = Config::default();
/// config.ping_interval = Duration::from_secs(10);
/// assert_eq!(config.ping_timeout, Duration::from_secs(20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The protocol revision spoken (the `EIO` query parameter).
    pub protocol: ProtocolVersion,
    /// Time between two pings (server: sent in the handshake; client: used until the handshake).
    pub ping_interval: Duration,
    /// Time the peer has to answer a ping.
    pub ping_timeout: Duration,
    /// Time a WebSocket being probed has to complete the upgrade before it is closed.
    pub upgrade_timeout: Duration,
    /// Largest payload accepted, in bytes (`maxHttpBufferSize`), announced in the handshake.
    pub max_payload: u64,
    /// Whether transport upgrades are offered (server) or attempted (client).
    pub allow_upgrades: bool,
    /// The transports a polling session may upgrade to (server: announced in the handshake;
    /// client: those it is willing to probe).
    pub upgrades: Vec<TransportKind>,
    /// How long a server waits for the next GET to deliver its `close` packet (Node: 30 s).
    pub close_timeout: Duration,
    /// How often a held GET is answered with a `noop` while an upgrade is probed (Node: 100 ms).
    pub upgrade_noop_interval: Duration,
    /// Most messages waiting in the outbound queue; [`Session::send`] fails beyond it.
    pub max_queued_packets: usize,
    /// Most message bytes waiting in the outbound queue; [`Session::send`] fails beyond it.
    pub max_queued_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            protocol: ProtocolVersion::V4,
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            allow_upgrades: true,
            upgrades: vec![TransportKind::WebSocket],
            close_timeout: Duration::from_millis(30_000),
            upgrade_noop_interval: Duration::from_millis(100),
            max_queued_packets: 4096,
            max_queued_bytes: 16 << 20,
        }
    }
}
