//! Webhook signatures: the timestamped HMAC-SHA256 scheme platforms sign their deliveries with
//! (Linktor's `linktor-channel-v1`): `hex(HMAC-SHA256(secret, timestamp + "." + raw body))`,
//! the timestamp in Unix seconds, checked against a tolerance in either direction. Verified
//! before anything parses the body, in constant time, against every secret given (so a secret
//! can be rotated while deliveries signed with the old one still arrive).
//!
//! ```
//! use agentwire::webhook::{sign, verify, DEFAULT_TOLERANCE};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let body = br#"{"id":"evt_1","type":"message.received"}"#;
//! let signature = sign("whsec_test", "1700000000", body);
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
//! verify(&["whsec_test"], body, Some(&signature), Some("1700000000"), now, DEFAULT_TOLERANCE)?;
//! # Ok::<(), agentwire::webhook::WebhookError>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a delivery's timestamp may be from now, in either direction: 300 s.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a delivery was refused. Each is its own variant, so a receiver can answer and log it
/// precisely; none holds a secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No secret to verify with (none given, or only empty ones).
    #[error("no webhook secret to verify the signature with")]
    NoSecret,
    /// The signature header is missing or empty.
    #[error("the webhook signature header is missing")]
    MissingSignature,
    /// The timestamp header is missing or empty.
    #[error("the webhook timestamp header is missing")]
    MissingTimestamp,
    /// The timestamp is not a whole number of Unix seconds.
    #[error("the webhook timestamp {0:?} is not Unix seconds")]
    MalformedTimestamp(String),
    /// The timestamp is older than the tolerance allows (a replay, or a delivery held too long).
    #[error("the webhook timestamp is {age_secs} s old, above the tolerance of {tolerance_secs} s")]
    Expired {
        /// How old it is, in seconds.
        age_secs: u64,
        /// The tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    #[error(
        "the webhook timestamp is {ahead_secs} s in the future, above the tolerance of {tolerance_secs} s"
    )]
    Future {
        /// How far ahead it is, in seconds.
        ahead_secs: u64,
        /// The tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The signature does not match the body and timestamp under any secret given.
    #[error("the webhook signature does not match")]
    BadSignature,
    /// The body verified, but is not the event it should be (not JSON, or a member missing).
    #[error("the webhook body is not a valid event: {0}")]
    Payload(String),
}

/// The signature of `body` delivered at `timestamp` (the header's string, exactly), under
/// `secret`: lowercase hex, 64 characters, no prefix. For tests of a receiver, and for
/// platforms' own delivery code.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    mac(secret.as_bytes(), timestamp, body)
        .map(|m| {
            m.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Verifies a delivery: `signature` and `timestamp` are the headers' values as received
/// (`sha256=` before the hex is accepted, never required; hex of either case), `body` the raw
/// bytes, `now` the current time, `tolerance` how far the timestamp may be from it either way.
/// Succeeds when any of `secrets` (empty ones ignored) signed it.
///
/// Errors: [`WebhookError::NoSecret`], `MissingSignature`, `MissingTimestamp`,
/// `MalformedTimestamp`, `Expired`, `Future`, `BadSignature` — checked in that order, the
/// timestamp before the signature.
pub fn verify(
    secrets: &[&str],
    body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    let timestamp = timestamp
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingTimestamp)?;
    check_time(timestamp, now, tolerance)?;
    let hex = signature.strip_prefix("sha256=").unwrap_or(signature);
    let Some(given) = decode_hex(hex) else {
        return Err(WebhookError::BadSignature);
    };
    // Every secret is tried, whichever matches: the time taken does not say which one did.
    let mut matched = false;
    for secret in secrets {
        matched |=
            mac(secret.as_bytes(), timestamp, body).is_some_and(|m| m.verify_slice(&given).is_ok());
    }
    if matched {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// The MAC of one delivery; `None` only if HMAC refused the key, which it never does (it takes
/// keys of every length): then nothing verifies and the signature is empty.
fn mac(key: &[u8], timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

fn check_time(timestamp: &str, now: SystemTime, tolerance: Duration) -> Result<(), WebhookError> {
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| WebhookError::MalformedTimestamp(timestamp.chars().take(32).collect()))?;
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let tolerance_secs = tolerance.as_secs();
    let difference = i128::from(now) - i128::from(seconds);
    let distance = u64::try_from(difference.unsigned_abs()).unwrap_or(u64::MAX);
    if distance <= tolerance_secs {
        Ok(())
    } else if difference > 0 {
        Err(WebhookError::Expired {
            age_secs: distance,
            tolerance_secs,
        })
    } else {
        Err(WebhookError::Future {
            ahead_secs: distance,
            tolerance_secs,
        })
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"message.received","timestamp":"2023-11-14T22:13:20Z","tenantId":"t1","data":{}}"#;
    /// The reference's vectors (`shared/reference/linktor.md`).
    const SERVER: &str = "be5b0bb813da13adf16abf6755ef607e25481c7351604467b961af3530c90991";
    const LEGACY: &str = "6edf82ad0185ea7569f6a85d6714405f13f451b087526989f5fd94531c0e47b2";

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn check(
        secrets: &[&str],
        signature: Option<&str>,
        timestamp: Option<&str>,
        now: u64,
    ) -> Result<(), WebhookError> {
        verify(
            secrets,
            BODY,
            signature,
            timestamp,
            at(now),
            DEFAULT_TOLERANCE,
        )
    }

    #[test]
    fn the_server_vector_verifies_and_signs_the_same() {
        assert_eq!(sign(SECRET, "1700000000", BODY), SERVER);
        assert_eq!(
            check(&[SECRET], Some(SERVER), Some("1700000000"), 1_700_000_000),
            Ok(())
        );
        let upper = SERVER.to_ascii_uppercase();
        assert_eq!(
            check(&[SECRET], Some(&upper), Some("1700000000"), 1_700_000_000),
            Ok(())
        );
        let prefixed = format!("sha256={SERVER}");
        assert_eq!(
            check(
                &[SECRET],
                Some(&prefixed),
                Some("1700000000"),
                1_700_000_000
            ),
            Ok(())
        );
    }

    #[test]
    fn the_legacy_body_only_signature_is_refused() {
        assert_eq!(
            check(&[SECRET], Some(LEGACY), Some("1700000000"), 1_700_000_000),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_body_or_timestamp_is_a_bad_signature() {
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert_eq!(
            verify(
                &[SECRET],
                &body,
                Some(SERVER),
                Some("1700000000"),
                at(1_700_000_000),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(&[SECRET], Some(SERVER), Some("1700000001"), 1_700_000_000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(&[SECRET], Some("zz"), Some("1700000000"), 1_700_000_000),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn the_window_is_symmetric_and_its_edges_are_inside() {
        let ts = Some("1700000000");
        assert_eq!(check(&[SECRET], Some(SERVER), ts, 1_700_000_300), Ok(()));
        assert_eq!(check(&[SECRET], Some(SERVER), ts, 1_699_999_700), Ok(()));
        assert_eq!(
            check(&[SECRET], Some(SERVER), ts, 1_700_000_301),
            Err(WebhookError::Expired {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            check(&[SECRET], Some(SERVER), ts, 1_699_999_699),
            Err(WebhookError::Future {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn rotated_secrets_each_verify_and_empty_ones_do_not_count() {
        assert_eq!(
            check(
                &["new_secret", SECRET],
                Some(SERVER),
                Some("1700000000"),
                1_700_000_000
            ),
            Ok(())
        );
        assert_eq!(
            check(&["", ""], Some(SERVER), Some("1700000000"), 1_700_000_000),
            Err(WebhookError::NoSecret)
        );
        assert_eq!(
            check(&[], Some(SERVER), Some("1700000000"), 1_700_000_000),
            Err(WebhookError::NoSecret)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        assert_eq!(
            check(&[SECRET], None, Some("1"), 1),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            check(&[SECRET], Some(" "), Some("1"), 1),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            check(&[SECRET], Some(SERVER), None, 1),
            Err(WebhookError::MissingTimestamp)
        );
        assert_eq!(
            check(&[SECRET], Some(SERVER), Some("2023-11-14T22:13:20Z"), 1),
            Err(WebhookError::MalformedTimestamp(
                "2023-11-14T22:13:20Z".into()
            ))
        );
        assert_eq!(
            check(&[SECRET], Some(SERVER), Some("99999999999999999999999"), 1),
            Err(WebhookError::MalformedTimestamp(
                "99999999999999999999999".into()
            ))
        );
    }

    #[test]
    fn errors_never_show_a_secret_or_the_expected_signature() {
        let e = check(&[SECRET], Some("00"), Some("1700000000"), 1_700_000_000).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains(SERVER),
            "{shown}"
        );
    }
}
