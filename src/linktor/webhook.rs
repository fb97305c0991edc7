//! Verifying Linktor's webhook deliveries (contract `linktor-channel-v1`, read from the vendor's
//! server): `X-Linktor-Signature` is the lowercase hex HMAC-SHA256 of
//! `X-Linktor-Timestamp + "." + raw body` under the channel's webhook secret, the timestamp in
//! Unix seconds within 300 s of now. The older Python and TypeScript SDK verifiers sign the body
//! alone; genuine deliveries never verify that way, and neither does this.
//!
//! ```
//! use agentwire::linktor::webhook::{construct_event, sign_payload};
//!
//! // In a receiver: the raw body and the two headers, as they arrived.
//! let body = br#"{"id":"evt_1","type":"message.received","timestamp":"2026-11-30T12:00:00Z","tenantId":"t1","data":{}}"#;
//! let now = std::time::SystemTime::now();
//! let (signature, timestamp) = sign_payload("whsec_test", body, now); // as Linktor would
//! let event = construct_event(body, Some(&signature), Some(&timestamp), &["whsec_test"])?;
//! assert_eq!(event.kind, "message.received");
//! # Ok::<(), agentwire::webhook::WebhookError>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

pub use crate::webhook::{DEFAULT_TOLERANCE, WebhookError};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Linktor-Signature";
/// The header carrying the delivery's Unix timestamp (seconds).
pub const TIMESTAMP_HEADER: &str = "X-Linktor-Timestamp";
/// The variable [`secret_from_env`] reads (the vendor's Rust README's name).
pub const SECRET_ENV: &str = "LINKTOR_WEBHOOK_SECRET";

/// One delivery: the `linktor-channel-v1` envelope. `kind` is its type as sent
/// (`message.received`, `message.sent`, `message.delivered`, `message.read`,
/// `message.failed`, `contact.created`, `conversation.created`, `conversation.assigned`,
/// `conversation.resolved`, `conversation.reopened`, `conversation.escalated`, and the types the
/// SDKs add); an unknown type is kept as it came. `data` is the type's payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event id (`evt_…`).
    pub id: String,
    /// The event type (`message.received`).
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (RFC 3339, as sent).
    pub timestamp: String,
    /// The tenant it belongs to.
    #[serde(rename = "tenantId", default)]
    pub tenant_id: Option<String>,
    /// `production` (also when absent) or `sandbox`.
    #[serde(default)]
    pub environment: Option<String>,
    /// The type's payload.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Verifies a delivery (before parsing anything) and returns its event; `signature` and
/// `timestamp` are the headers' values, `secrets` every secret currently valid (more than one
/// while rotating). The tolerance is [`DEFAULT_TOLERANCE`] (300 s, either direction).
///
/// Errors: a [`WebhookError`] naming the refusal — no secret, a missing header, a malformed,
/// expired or future timestamp, a bad signature — or `Payload` when the verified body is not an
/// envelope with `id`, `type` and `timestamp`.
pub fn construct_event(
    payload: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    secrets: &[&str],
) -> Result<WebhookEvent, WebhookError> {
    construct_event_at(
        payload,
        signature,
        timestamp,
        secrets,
        SystemTime::now(),
        DEFAULT_TOLERANCE,
    )
}

/// [`construct_event`] at a given time and tolerance (a test clock, a wider window).
///
/// Errors: as [`construct_event`].
pub fn construct_event_at(
    payload: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    secrets: &[&str],
    now: SystemTime,
    tolerance: Duration,
) -> Result<WebhookEvent, WebhookError> {
    crate::webhook::verify(secrets, payload, signature, timestamp, now, tolerance)?;
    serde_json::from_slice(payload).map_err(|e| WebhookError::Payload(e.to_string()))
}

/// Signs `payload` as Linktor does at `now`: the signature and the timestamp, the two headers'
/// values. For testing a receiver.
pub fn sign_payload(secret: &str, payload: &[u8], now: SystemTime) -> (String, String) {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let timestamp = seconds.to_string();
    (crate::webhook::sign(secret, &timestamp, payload), timestamp)
}

/// The webhook secret from `LINKTOR_WEBHOOK_SECRET`.
///
/// Errors: `NoSecret` when it is unset, empty or not Unicode.
pub fn secret_from_env() -> Result<crate::Secret, WebhookError> {
    std::env::var(SECRET_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(crate::Secret::new)
        .ok_or(WebhookError::NoSecret)
}
