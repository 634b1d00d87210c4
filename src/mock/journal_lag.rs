//! How far the state file's journal lags behind the state, and holding back
//! answers that change the state while it lags too far.
//!
//! The journal is written every quarter `--state-flush` on a thread of its
//! own. On a machine with more work than cores (a load test beside the
//! mock, a snapshot of a large state being serialised) that thread can wait
//! for a core longer than the interval while requests go on being answered,
//! and a crash then loses changes acknowledged longer ago than promised.
//! So an answer that changed the state is sent only while the journal's
//! last pass started at most three eighths of the interval ago (passes
//! start every quarter, so a journal that keeps up never holds an answer
//! back): when it is older, the answer waits (for at most two intervals),
//! which also gives the journal the core the requests were taking.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct JournalLag {
    epoch: Instant,
    /// Three eighths of the flush interval, in milliseconds.
    allowed_ms: u64,
    /// The longest an answer waits for the journal.
    max_wait: Duration,
    /// Milliseconds since `epoch` of the start of the last journal pass
    /// that finished, or of the first change after the journal was idle.
    since_ms: AtomicU64,
    /// The journal had written everything and was waiting for a change.
    idle: AtomicBool,
}

impl JournalLag {
    pub fn new(flush: Duration) -> Self {
        let allowed_ms = (flush.as_millis() * 3 / 8).max(1) as u64;
        Self {
            epoch: Instant::now(),
            allowed_ms,
            max_wait: flush.saturating_mul(2),
            since_ms: AtomicU64::new(0),
            idle: AtomicBool::new(true),
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// The journal wrote every change made before `started`.
    pub fn journaled(&self, started: Instant) {
        self.since_ms.fetch_max(self.ms(started), Ordering::Relaxed);
    }

    /// The journal has nothing left to write and waits for a change.
    pub fn idle(&self) {
        self.idle.store(true, Ordering::Relaxed);
    }

    /// A request changed the state: after an idle journal, the lag is
    /// counted from now.
    pub fn changed(&self) {
        if self.idle.swap(false, Ordering::Relaxed) {
            self.since_ms
                .fetch_max(self.ms(Instant::now()), Ordering::Relaxed);
        }
    }

    /// Whether the last journal pass that finished started longer ago
    /// than the lag allowed.
    pub fn behind(&self) -> bool {
        !self.idle.load(Ordering::Relaxed)
            && self
                .ms(Instant::now())
                .saturating_sub(self.since_ms.load(Ordering::Relaxed))
                > self.allowed_ms
    }

    /// Waits while the journal is behind, for at most two intervals (a
    /// journal that cannot be written, a full disk, must not stop the
    /// mock: its error is logged by the saver).
    pub async fn wait(&self) {
        let deadline = Instant::now() + self.max_wait;
        let step = Duration::from_millis((self.allowed_ms / 4).max(1));
        while self.behind() && Instant::now() < deadline {
            tokio::time::sleep(step).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_journal_holds_nothing_back_and_a_stalled_one_does_for_a_while() {
        let lag = JournalLag::new(Duration::from_millis(40));
        assert!(!lag.behind(), "idle at start");
        lag.changed();
        assert!(!lag.behind(), "the lag is counted from the first change");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(lag.behind(), "no pass for more than half the interval");
        let waited = Instant::now();
        lag.wait().await;
        let waited = waited.elapsed();
        assert!(
            waited >= Duration::from_millis(70),
            "waits up to two intervals for a stalled journal: {waited:?}"
        );
        lag.journaled(Instant::now());
        assert!(!lag.behind(), "a pass that just finished");
        lag.idle();
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!lag.behind(), "idle: nothing to write");
    }
}
