//! Exponential backoff with jitter, as Node's client computes reconnection delays (`backo2`).

use std::time::Duration;

/// Reconnection delays: `min * 2^attempt`, spread by ±`jitter`, capped at `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    jitter: f64,
    /// Attempts made since the last reset.
    pub(crate) attempts: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration, jitter: f64) -> Self {
        Self {
            min,
            max,
            jitter: jitter.clamp(0.0, 1.0),
            attempts: 0,
        }
    }

    /// The delay before the next attempt; counts the attempt.
    pub(crate) fn duration(&mut self) -> Duration {
        self.duration_with(fastrand::f64())
    }

    /// [`duration`](Backoff::duration) with the random draw `rand` in `[0, 1)`, as `backo2`:
    /// the deviation is `rand * jitter * ms`, subtracted when `floor(rand * 10)` is even.
    pub(crate) fn duration_with(&mut self, rand: f64) -> Duration {
        let exp = self.attempts.min(62);
        self.attempts = self.attempts.saturating_add(1);
        let min = self.min.as_secs_f64() * 1000.0;
        let mut ms = min * 2f64.powi(i32::try_from(exp).unwrap_or(62));
        if self.jitter > 0.0 {
            let deviation = (rand * self.jitter * ms).floor();
            // `(rand * 10) & 1` in JavaScript.
            let odd = ((rand * 10.0).floor() as u64) & 1 == 1;
            ms = if odd { ms + deviation } else { ms - deviation };
        }
        let max = self.max.as_secs_f64() * 1000.0;
        Duration::from_millis(ms.clamp(0.0, max.max(0.0)).floor() as u64)
    }

    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_caps() {
        let mut b = Backoff::new(
            Duration::from_millis(1000),
            Duration::from_millis(5000),
            0.0,
        );
        let delays: Vec<u64> = (0..5).map(|_| b.duration().as_millis() as u64).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(b.attempts, 5);
        b.reset();
        assert_eq!(b.duration(), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_spreads_both_ways() {
        let mut b = Backoff::new(
            Duration::from_millis(1000),
            Duration::from_millis(5000),
            0.5,
        );
        // rand 0.05: floor(0.5) = 0, even: 1000 - 25.
        assert_eq!(b.duration_with(0.05), Duration::from_millis(975));
        // rand 0.15: floor(1.5) = 1, odd: 2000 + 150.
        assert_eq!(b.duration_with(0.15), Duration::from_millis(2150));
        for _ in 0..100 {
            let mut b = Backoff::new(
                Duration::from_millis(1000),
                Duration::from_millis(5000),
                0.5,
            );
            let d = b.duration().as_millis();
            assert!((500..=1500).contains(&d), "{d}");
        }
    }
}
