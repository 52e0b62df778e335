//! How a session talks to the application: a [`Handler`] called from the session's own task, or
//! the [`Events`] stream built on one.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use engineio_proto::TransportKind;
use engineio_proto::session::CloseReason;

use crate::socket::{Message, SocketEvent};

/// The application's side of one session, called from the session's task: no channel, no task
/// of its own. Made for each session by the factory given to
/// [`crate::Builder::build_with_handler`].
///
/// Calls come in order: messages (and upgrades), then [`Handler::on_close`] once. A handler must
/// not block; asynchronous work it starts is driven by [`Handler::poll`], which the session's task
/// calls every time it wakes up.
pub trait Handler: Send + 'static {
    /// A message from the client.
    fn on_message(&mut self, message: Message);

    /// The session moved to `transport`.
    fn on_upgrade(&mut self, transport: TransportKind) {
        let _ = transport;
    }

    /// The session is over; nothing is called after this.
    fn on_close(&mut self, reason: CloseReason);

    /// Drives the handler's own asynchronous work in the session's task: poll it with `cx`, whose
    /// waker wakes the task.
    fn poll(&mut self, cx: &mut Context<'_>) {
        let _ = cx;
    }

    /// Whether the handler takes more messages now. While it does not, the session stops reading
    /// its client (backpressure) until a later [`Handler::poll`] finds it ready.
    fn ready(&self) -> bool {
        true
    }
}

/// The events of one session, in order: messages, upgrades, then [`SocketEvent::Closed`].
///
/// The buffer is bounded ([`crate::Config::max_pending_events`]): a session whose application
/// does not read stops reading its client (backpressure) instead of buffering. Dropping `Events`
/// discards further events; the session goes on.
#[derive(Debug)]
pub struct Events {
    queue: Arc<EventQueue>,
}

impl Events {
    /// The next event; `None` after [`SocketEvent::Closed`].
    pub async fn recv(&mut self) -> Option<SocketEvent> {
        poll_fn(|cx| self.queue.poll_recv(cx)).await
    }

    /// The next message, skipping other events; `None` once the session is over.
    pub async fn next_message(&mut self) -> Option<Message> {
        while let Some(event) = self.recv().await {
            if let SocketEvent::Message(message) = event {
                return Some(message);
            }
        }
        None
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let driver = {
            let mut state = self.queue.state();
            state.receiver_gone = true;
            state.events.clear();
            state.driver.take()
        };
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    state: Mutex<EventState>,
}

#[derive(Debug, Default)]
struct EventState {
    events: VecDeque<SocketEvent>,
    receiver: Option<Waker>,
    driver: Option<Waker>,
    receiver_gone: bool,
    closed: bool,
}

impl EventQueue {
    fn state(&self) -> MutexGuard<'_, EventState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, event: SocketEvent) {
        let receiver = {
            let mut state = self.state();
            if state.receiver_gone {
                return;
            }
            state.events.push_back(event);
            state.receiver.take()
        };
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        let (event, driver) = {
            let mut state = self.state();
            match state.events.pop_front() {
                Some(event) => {
                    if state.events.is_empty() && state.events.capacity() > 16 {
                        state.events = VecDeque::new();
                    }
                    (Some(event), state.driver.take())
                }
                None if state.closed => return Poll::Ready(None),
                None => {
                    state.receiver = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        };
        if let Some(driver) = driver {
            driver.wake();
        }
        Poll::Ready(event)
    }
}

/// The [`Handler`] behind [`Events`].
pub(crate) struct ChannelHandler {
    queue: Arc<EventQueue>,
    high_water: usize,
}

impl ChannelHandler {
    pub(crate) fn new(high_water: usize) -> (Self, Events) {
        let queue = Arc::new(EventQueue::default());
        (
            Self {
                queue: queue.clone(),
                high_water: high_water.max(1),
            },
            Events { queue },
        )
    }
}

impl Handler for ChannelHandler {
    fn on_message(&mut self, message: Message) {
        self.queue.push(SocketEvent::Message(message));
    }

    fn on_upgrade(&mut self, transport: TransportKind) {
        self.queue.push(SocketEvent::Upgraded(transport));
    }

    fn on_close(&mut self, reason: CloseReason) {
        let receiver = {
            let mut state = self.queue.state();
            if !state.receiver_gone {
                state.events.push_back(SocketEvent::Closed(reason));
            }
            state.closed = true;
            state.receiver.take()
        };
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) {
        let mut state = self.queue.state();
        if state.events.len() >= self.high_water {
            state.driver = Some(cx.waker().clone());
        }
    }

    fn ready(&self) -> bool {
        self.queue.state().events.len() < self.high_water
    }
}
