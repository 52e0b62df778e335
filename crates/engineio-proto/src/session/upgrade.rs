//! Transport upgrade (polling to WebSocket), both roles, as Node's `engine.io` `maybeUpgrade`
//! and `engine.io-client` `probe` do it.
//!
//! Server: a WebSocket arrives for the session; `2probe` on it is answered with `3probe`; the held
//! GET is released with a `noop` (then one every [`Config::upgrade_noop_interval`]) so that the
//! client can pause polling; the `5` switches the session to the WebSocket, where the queue
//! continues in order. No `5` within [`Config::upgrade_timeout`] closes the WebSocket only.
//!
//! Client: once the handshake offers `websocket`, ask the driver to connect it, send `2probe`,
//! wait for `3probe`, stop issuing polling requests and wait for those in flight, then send `5`
//! and flush the queue on the WebSocket.
//!
//! [`Config::upgrade_noop_interval`]: super::Config::upgrade_noop_interval
//! [`Config::upgrade_timeout`]: super::Config::upgrade_timeout

use std::time::Instant;

use super::{Event, Role, Session, State, Transmit, UpgradeError, after};
use crate::{Packet, TransportKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upgrade {
    /// Nothing in progress.
    Idle,
    /// Client: waiting for the driver to open the WebSocket.
    Connecting { deadline: Instant },
    /// Waiting for `2probe` (server) or `3probe` (client) on the WebSocket.
    AwaitingProbe { deadline: Instant },
    /// Server: probe answered, waiting for the `5`; the held GET is released with noops.
    AwaitingUpgradePacket {
        deadline: Instant,
        next_noop: Instant,
        noop_due: bool,
    },
    /// Client: `3probe` received, waiting for the polling requests in flight to finish.
    Pausing,
    /// The session runs on the WebSocket.
    Done,
}

impl Upgrade {
    pub(super) fn in_progress(&self) -> bool {
        matches!(
            self,
            Self::Connecting { .. }
                | Self::AwaitingProbe { .. }
                | Self::AwaitingUpgradePacket { .. }
                | Self::Pausing
        )
    }

    /// Server: the deadline of an upgrade whose probe was answered.
    pub(super) fn awaiting_upgrade_packet(&self) -> Option<Instant> {
        match *self {
            Self::AwaitingUpgradePacket { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    pub(super) fn is_pausing(&self) -> bool {
        matches!(self, Self::Pausing)
    }

    /// Client: no new GET or POST once the probe succeeded.
    pub(super) fn blocks_polling(&self) -> bool {
        matches!(self, Self::Pausing)
    }

    /// Server: a held GET should be answered with a `noop` now.
    pub(super) fn take_noop(&mut self) -> bool {
        match self {
            Self::AwaitingUpgradePacket { noop_due, .. } if *noop_due => {
                *noop_due = false;
                true
            }
            _ => false,
        }
    }

    pub(super) fn timeout(&self) -> Option<Instant> {
        match *self {
            Self::Connecting { deadline } | Self::AwaitingProbe { deadline } => Some(deadline),
            Self::AwaitingUpgradePacket {
                deadline,
                next_noop,
                ..
            } => Some(deadline.min(next_noop)),
            Self::Idle | Self::Pausing | Self::Done => None,
        }
    }
}

impl<R: Role> Session<R> {
    pub(super) fn server_start_upgrade(&mut self, now: Instant) -> Result<(), UpgradeError> {
        if !matches!(self.state, State::Open) {
            return Err(UpgradeError::Closed);
        }
        match self.upgrade {
            Upgrade::Done => return Err(UpgradeError::AlreadyUpgraded),
            Upgrade::Idle => {}
            _ => return Err(UpgradeError::AlreadyUpgrading),
        }
        if self.transport != TransportKind::Polling
            || !self.config.allow_upgrades
            || !self.config.upgrades.contains(&TransportKind::WebSocket)
        {
            return Err(UpgradeError::NotAllowed);
        }
        self.websocket_gone = false;
        self.upgrade = Upgrade::AwaitingProbe {
            deadline: after(now, self.config.upgrade_timeout),
        };
        Ok(())
    }

    pub(super) fn client_probe_opened(&mut self, transport: TransportKind, now: Instant) {
        if transport != TransportKind::WebSocket
            || !matches!(self.upgrade, Upgrade::Connecting { .. })
        {
            return;
        }
        self.websocket_gone = false;
        self.probe_queue
            .push_back(Packet::Ping(crate::Str::from_static("probe")));
        self.upgrade = Upgrade::AwaitingProbe {
            deadline: after(now, self.config.upgrade_timeout),
        };
    }

    /// A packet on the WebSocket being probed.
    pub(super) fn handle_probe_packet(&mut self, packet: Packet, now: Instant) {
        if R::IS_SERVER {
            match (&packet, self.upgrade) {
                (
                    Packet::Ping(data),
                    Upgrade::AwaitingProbe { deadline }
                    | Upgrade::AwaitingUpgradePacket { deadline, .. },
                ) if &**data == "probe" => {
                    self.probe_queue
                        .push_back(Packet::Pong(crate::Str::from_static("probe")));
                    self.upgrade = Upgrade::AwaitingUpgradePacket {
                        deadline,
                        next_noop: after(now, self.config.upgrade_noop_interval),
                        noop_due: true,
                    };
                }
                // Node accepts the `5` whether or not the probe came first.
                (Packet::Upgrade, _) => self.server_switch(),
                _ => self.abort_upgrade(),
            }
        } else {
            match (&packet, self.upgrade) {
                (Packet::Pong(data), Upgrade::AwaitingProbe { .. }) if &**data == "probe" => {
                    self.upgrade = Upgrade::Pausing;
                    self.client_try_finish_upgrade();
                }
                _ => self.abort_upgrade(),
            }
        }
    }

    fn server_switch(&mut self) {
        self.upgrade = Upgrade::Done;
        self.transport = TransportKind::WebSocket;
        self.probe_queue.clear();
        // Release a held GET (Node closes the discarded polling transport); the queue, whatever
        // it holds, now goes out on the WebSocket in the same order.
        if !self.polling_gone {
            self.instructions
                .push_back(Transmit::Close(TransportKind::Polling));
        }
        self.transport_gone(TransportKind::Polling);
        self.events
            .push_back(Event::Upgraded(TransportKind::WebSocket));
    }

    /// Client: switch once nothing is in flight on polling, so that no packet overtakes another.
    pub(super) fn client_try_finish_upgrade(&mut self) {
        if !self.upgrade.is_pausing() || self.polling.get_in_flight || self.polling.post_in_flight {
            return;
        }
        self.upgrade = Upgrade::Done;
        self.transport = TransportKind::WebSocket;
        self.transport_gone(TransportKind::Polling);
        self.queue.push_front(Packet::Upgrade);
        self.events
            .push_back(Event::Upgraded(TransportKind::WebSocket));
    }

    /// Gives up the probe: the WebSocket is closed, the session carries on as it was.
    pub(super) fn abort_upgrade(&mut self) {
        if !self.upgrade.in_progress() {
            return;
        }
        self.upgrade = Upgrade::Idle;
        self.probe_queue.clear();
        if !self.websocket_gone {
            self.instructions
                .push_back(Transmit::Close(TransportKind::WebSocket));
        }
        if !R::IS_SERVER {
            self.maybe_poll();
        }
    }

    /// Timers of the upgrade: its deadline and the server's periodic noop.
    pub(super) fn upgrade_timeout(&mut self, now: Instant) {
        match &mut self.upgrade {
            Upgrade::Connecting { deadline } | Upgrade::AwaitingProbe { deadline }
                if now >= *deadline =>
            {
                self.abort_upgrade();
            }
            Upgrade::AwaitingUpgradePacket { deadline, .. } if now >= *deadline => {
                self.abort_upgrade()
            }
            Upgrade::AwaitingUpgradePacket {
                next_noop,
                noop_due,
                ..
            } if now >= *next_noop => {
                *noop_due = true;
                *next_noop = after(now, self.config.upgrade_noop_interval);
            }
            _ => {}
        }
    }

    pub(super) fn upgrade_poll_timeout(&self) -> Option<Instant> {
        self.upgrade.timeout()
    }
}
