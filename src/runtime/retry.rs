//! Classify → decide → back off. Given one failed attempt, decides whether the call may be tried
//! again and after how long; knows nothing of HTTP clients or platforms.
//!
//! A failure is retried only when all of these hold: the budget has attempts left, the failure is
//! of a retryable kind (transport failures, timeouts, 408, 429, 5xx but 501), and either the
//! request certainly did not reach the server or the operation is safe to re-send (reads, and
//! writes the platform deduplicates). The delay is the server's hint (`Retry-After`,
//! `retry-after-ms`) clamped to a maximum, else full jitter over an exponential backoff.

use std::time::Duration;

/// One failed attempt, as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failure {
    /// The kind of failure could pass on a later attempt.
    pub retryable: bool,
    /// The request may have reached the server (and a write been applied).
    pub may_have_been_applied: bool,
    /// The server's pacing hint, if it sent one.
    pub hint: Option<Duration>,
}

/// The backoff parameters of a client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
    pub max_hint: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// The failure is final (not retryable, or not safe to re-send).
    Permanent,
    /// The budget is spent.
    Exhausted,
}

impl Policy {
    /// Decides after attempt number `retries_done` (0 for the first attempt) failed.
    /// `resend_safe` says whether the operation may be re-sent after reaching the server.
    pub fn decide(&self, retries_done: u32, failure: Failure, resend_safe: bool) -> Decision {
        if !failure.retryable || (failure.may_have_been_applied && !resend_safe) {
            return Decision::Permanent;
        }
        if retries_done >= self.max_retries {
            return Decision::Exhausted;
        }
        let delay = match failure.hint {
            Some(hint) => hint.min(self.max_hint),
            None => full_jitter(self.ceiling(retries_done)),
        };
        Decision::RetryAfter(delay)
    }

    /// The backoff ceiling before jitter: `base * 2^retries_done`, capped.
    pub fn ceiling(&self, retries_done: u32) -> Duration {
        let factor = 2u32.saturating_pow(retries_done.min(30));
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// A uniformly random delay in `[0, ceiling]` (AWS "full jitter"): spreads retrying clients out.
pub(crate) fn full_jitter(ceiling: Duration) -> Duration {
    ceiling.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        max_retries: 2,
        base: Duration::from_millis(500),
        cap: Duration::from_secs(8),
        max_hint: Duration::from_secs(60),
    };

    fn failure(retryable: bool, applied: bool, hint: Option<u64>) -> Failure {
        Failure {
            retryable,
            may_have_been_applied: applied,
            hint: hint.map(Duration::from_secs),
        }
    }

    #[test]
    fn retries_retryable_failures_within_budget() {
        assert!(matches!(
            POLICY.decide(0, failure(true, true, None), true),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            POLICY.decide(2, failure(true, true, None), true),
            Decision::Exhausted
        );
        assert_eq!(
            POLICY.decide(0, failure(false, false, None), true),
            Decision::Permanent
        );
    }

    #[test]
    fn unsafe_writes_are_resent_only_when_never_sent() {
        assert_eq!(
            POLICY.decide(0, failure(true, true, None), false),
            Decision::Permanent
        );
        assert!(matches!(
            POLICY.decide(0, failure(true, false, None), false),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn server_hints_win_and_are_clamped() {
        assert_eq!(
            POLICY.decide(0, failure(true, false, Some(3)), true),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            POLICY.decide(0, failure(true, false, Some(600)), true),
            Decision::RetryAfter(Duration::from_secs(60))
        );
    }

    #[test]
    fn jittered_delay_stays_under_the_doubling_ceiling() {
        for retries in 0..2 {
            for _ in 0..200 {
                let Decision::RetryAfter(d) =
                    POLICY.decide(retries, failure(true, false, None), true)
                else {
                    panic!("expected a retry");
                };
                assert!(d <= POLICY.ceiling(retries));
            }
        }
        assert_eq!(POLICY.ceiling(0), Duration::from_millis(500));
        assert_eq!(POLICY.ceiling(3), Duration::from_secs(4));
        assert_eq!(POLICY.ceiling(10), Duration::from_secs(8));
        assert_eq!(POLICY.ceiling(u32::MAX), Duration::from_secs(8));
    }
}
