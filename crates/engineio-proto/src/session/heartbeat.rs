//! Heartbeat timers.
//!
//! One side pings (v4: the server; v3: the client), the other answers. The pinger sends a ping
//! `interval` after the previous pong (or the handshake) and expects a pong within `timeout`.
//! The answering side expects a ping within `interval + timeout` of the previous one. As in Node
//! (engine.io 6.6, engine.io-client 6.6), when a deadline passes while other packets kept
//! arriving, the deadline moves to `last packet + window` instead of closing a live peer.

use std::time::{Duration, Instant};

use super::after;

/// What a timer expiry asks the session to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    None,
    SendPing,
    TimedOut,
}

#[derive(Debug, Clone)]
pub(super) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    /// This side sends the pings.
    pinger: bool,
    /// Pinger: when to send the next ping.
    next_ping: Option<Instant>,
    /// When the peer is declared dead (pinger: no pong; answerer: no ping).
    deadline: Option<Instant>,
    /// Any packet from the peer counts as a sign of life when a deadline passes.
    last_packet: Instant,
}

impl Heartbeat {
    pub(super) fn new(interval: Duration, timeout: Duration, pinger: bool, now: Instant) -> Self {
        Self {
            interval,
            timeout,
            pinger,
            next_ping: None,
            deadline: None,
            last_packet: now,
        }
    }

    /// Adopts the server's parameters (client, at the handshake).
    pub(super) fn configure(&mut self, interval: Duration, timeout: Duration) {
        self.interval = interval;
        self.timeout = timeout;
    }

    pub(super) fn is_pinger(&self) -> bool {
        self.pinger
    }

    /// The session is open: arm the timers.
    pub(super) fn start(&mut self, now: Instant) {
        if self.pinger {
            self.next_ping = Some(after(now, self.interval));
            self.deadline = None;
        } else {
            self.deadline = Some(after(now, self.window()));
        }
    }

    /// How long the peer may stay silent once the deadline is due.
    fn window(&self) -> Duration {
        if self.pinger {
            self.timeout
        } else {
            self.interval.saturating_add(self.timeout)
        }
    }

    pub(super) fn packet_received(&mut self, now: Instant) {
        self.last_packet = now;
    }

    /// Answering side: a ping arrived.
    pub(super) fn ping_received(&mut self, now: Instant) {
        self.deadline = Some(after(now, self.window()));
    }

    /// Pinging side: a pong arrived. As Node's `refresh()` of its interval timer, an unsolicited
    /// pong also postpones the next ping.
    pub(super) fn pong_received(&mut self, now: Instant) {
        self.deadline = None;
        self.next_ping = Some(after(now, self.interval));
    }

    pub(super) fn timeout(&self) -> Option<Instant> {
        match (self.next_ping, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    pub(super) fn on_timeout(&mut self, now: Instant) -> Action {
        if let Some(deadline) = self.deadline {
            if now >= deadline {
                let window = self.window();
                let extended = after(self.last_packet, window);
                if extended > now {
                    self.deadline = Some(extended);
                } else {
                    self.deadline = None;
                    self.next_ping = None;
                    return Action::TimedOut;
                }
            }
        }
        if let Some(next) = self.next_ping {
            if now >= next {
                self.next_ping = None;
                self.deadline = Some(after(now, self.timeout));
                return Action::SendPing;
            }
        }
        Action::None
    }
}
