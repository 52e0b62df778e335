//! The way into a session's task: a bounded command queue and the task's waker.
//!
//! One small shared object per session instead of a channel: it holds no buffer while the
//! session is idle (a tokio channel keeps a 32-slot block per session), and senders never
//! wait. The mutex is held for a push or a pop only, never across an await, and is contended
//! only by a broadcast meeting the session's own task.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::driver::Command;

/// Why a command was not queued; the command is handed back.
pub(crate) enum PushError {
    Full(Command),
    Closed(Command),
}

/// A session's command queue.
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    /// The session's task.
    task: AtomicWaker,
    /// Senders waiting for room ([`crate::Socket::send_wait`]).
    space: Notify,
    /// Whether anyone waits on `space`: taking commands notifies only then.
    space_wanted: std::sync::atomic::AtomicBool,
    /// Whether the session's task is being polled: a push then wakes nobody, as the task looks
    /// at the queue again before it sleeps. (An acknowledgement sent by a handler running in
    /// the task would otherwise schedule the task once more for nothing, once per message.)
    polling: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    commands: VecDeque<Command>,
    closed: bool,
}

/// Commands from HTTP requests are few per session (a GET, a POST, an upgrade) and must not be
/// refused for want of room while the application's messages fill the queue; this bounds them
/// anyway, against a client flooding one session with requests.
const REQUEST_HEADROOM: usize = 64;

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Queue")
            .field("commands", &state.commands.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl Queue {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a command if fewer than `limit` wait, and wakes the session's task.
    pub(crate) fn push(&self, command: Command, limit: usize) -> Result<(), PushError> {
        {
            let mut state = self.state();
            if state.closed {
                return Err(PushError::Closed(command));
            }
            if state.commands.len() >= limit {
                return Err(PushError::Full(command));
            }
            state.commands.push_back(command);
        }
        // SeqCst with `stop_polling`: either this load sees `false` and wakes the task, or the
        // task's check of the queue after its store sees this command.
        if !self.polling.load(std::sync::atomic::Ordering::SeqCst) {
            self.task.wake();
        }
        Ok(())
    }

    /// Queues a command from an HTTP request (see [`REQUEST_HEADROOM`]).
    pub(crate) fn push_request(&self, command: Command, limit: usize) -> Result<(), PushError> {
        self.push(command, limit + REQUEST_HEADROOM)
    }

    /// Moves every queued command to `into` (empty, keeping its capacity): one lock for a whole
    /// batch. Whether there were any.
    pub(crate) fn take_all(&self, into: &mut VecDeque<Command>) -> bool {
        let taken = {
            let mut state = self.state();
            if state.commands.is_empty() {
                return false;
            }
            std::mem::swap(&mut state.commands, into);
            true
        };
        if self.space_wanted.load(std::sync::atomic::Ordering::Acquire) {
            self.space.notify_waiters();
        }
        taken
    }

    /// Frees the queue's capacity if it is empty.
    pub(crate) fn release_if_empty(&self) {
        let mut state = self.state();
        if state.commands.is_empty() && state.commands.capacity() > 0 {
            state.commands = VecDeque::new();
        }
    }

    /// The session's task starts a poll: pushes need not wake it until [`Queue::stop_polling`].
    pub(crate) fn start_polling(&self, waker: &Waker) {
        self.task.register(waker);
        self.polling
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The session's task is about to sleep: pushes wake it from now on. Whether commands
    /// arrived meanwhile (then it must not sleep).
    pub(crate) fn stop_polling(&self) -> bool {
        self.polling
            .store(false, std::sync::atomic::Ordering::SeqCst);
        !self.state().commands.is_empty()
    }

    /// Refuses further commands; returns those still queued.
    pub(crate) fn close(&self) -> VecDeque<Command> {
        let commands = {
            let mut state = self.state();
            state.closed = true;
            std::mem::take(&mut state.commands)
        };
        self.space.notify_waiters();
        commands
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Waits until a command was taken or the queue closed.
    pub(crate) async fn wait_for_space(&self) {
        let notified = self.space.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Never cleared: a session that had a waiting sender keeps notifying, which is harmless.
        self.space_wanted
            .store(true, std::sync::atomic::Ordering::Release);
        {
            let state = self.state();
            if state.closed || state.commands.is_empty() {
                return;
            }
        }
        notified.await;
    }
}
