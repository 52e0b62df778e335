//! What the three Redis backends ([`crate::RedisAdapter`], [`crate::ShardedRedisAdapter`],
//! [`crate::StreamsAdapter`]) share: the publishing connection's settings, the counters behind
//! [`RedisStats`], and the bookkeeping of their publish and subscribe loops. The log lines stay
//! at the call sites, so that each keeps its wording and its module as tracing target.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::adapter::RedisStats;

/// Locks `mutex`, ignoring poisoning (the data is only ever left consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The publishing connection to the Redis of `client`: connected lazily, short timeouts, a few
/// retries, reconnecting by itself.
pub(crate) fn publisher(client: redis::Client) -> redis::RedisResult<ConnectionManager> {
    let manager = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_lazy_with_config(client, manager)
}

/// `PUBSUB <subcommand> <channel>` (`NUMSUB` or `SHARDNUMSUB`): how many servers listen on
/// `channel`, at least 1 (this one).
pub(crate) async fn server_count(
    publisher: &ConnectionManager,
    subcommand: &str,
    channel: &str,
) -> redis::RedisResult<usize> {
    let mut conn = publisher.clone();
    let (_, count): (String, usize) = redis::cmd("PUBSUB")
        .arg(subcommand)
        .arg(channel)
        .query_async(&mut conn)
        .await?;
    Ok(count.max(1))
}

/// What a backend did, read by `stats()` and `is_connected()`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) resubscribed: AtomicU64,
    pub(crate) received: AtomicU64,
    /// Whether the subscribing connection is up.
    subscribed: AtomicBool,
}

impl Counters {
    pub(crate) fn stats(&self) -> RedisStats {
        RedisStats::new(
            self.published.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.resubscribed.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Counts a message dropped because the publish queue was full. The number dropped so far
    /// for the first of every thousand, when the caller warns (an outage must not flood the
    /// log).
    pub(crate) fn count_dropped(&self) -> Option<u64> {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed);
        (dropped % 1000 == 0).then_some(dropped + 1)
    }

    pub(crate) fn count_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    fn set_subscribed(&self, up: bool) {
        self.subscribed.store(up, Ordering::Release);
    }
}

/// Whether the publish loop is failing: it warns once when publishing starts failing and once
/// when it works again.
#[derive(Default)]
pub(crate) struct PublishHealth {
    failing: bool,
}

impl PublishHealth {
    /// Counts a message published. Whether it ends a run of failures (the caller warns).
    pub(crate) fn published(&mut self, counters: &Counters) -> bool {
        counters.published.fetch_add(1, Ordering::Relaxed);
        std::mem::take(&mut self.failing)
    }

    /// Counts a message that could not be published. Whether it starts a run of failures (the
    /// caller warns).
    pub(crate) fn failed(&mut self, counters: &Counters) -> bool {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        !std::mem::replace(&mut self.failing, true)
    }
}

/// The subscribe loop's reconnection: the delay before the next attempt (50 ms, doubling up to
/// 2 s) and whether a subscription was lost (or never made), so that the next one is counted
/// as a re-subscription.
pub(crate) struct Resubscribe {
    delay: Duration,
    lost: bool,
}

const FIRST_DELAY: Duration = Duration::from_millis(50);

impl Resubscribe {
    pub(crate) fn new() -> Self {
        Self {
            delay: FIRST_DELAY,
            lost: false,
        }
    }

    /// Subscribed: the delay starts again, and `counters` (when the backend still exists)
    /// record it. Whether this follows a loss (counted as a re-subscription; the caller warns).
    pub(crate) fn subscribed(&mut self, counters: Option<&Counters>) -> bool {
        self.delay = FIRST_DELAY;
        let Some(counters) = counters else {
            return false;
        };
        counters.set_subscribed(true);
        if self.lost {
            counters.resubscribed.fetch_add(1, Ordering::Relaxed);
        }
        self.lost
    }

    /// The subscription was lost; `counters` (when the backend still exists) record it.
    pub(crate) fn lost(&mut self, counters: Option<&Counters>) {
        self.lost = true;
        if let Some(counters) = counters {
            counters.set_subscribed(false);
        }
    }

    /// Connecting failed.
    pub(crate) fn failed(&mut self) {
        self.lost = true;
    }

    /// Waits before the next attempt, and doubles the next wait (at most 2 s).
    pub(crate) async fn pause(&mut self) {
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(Duration::from_secs(2));
    }
}
