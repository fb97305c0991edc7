//! Linktor webhook deliveries: verified before parsing, each refusal its own error.

use std::time::{Duration, UNIX_EPOCH};

use agentwire::linktor::webhook::{WebhookError, construct_event_at, sign_payload};

const SECRET: &str = "whsec_test_secret";
const BODY: &[u8] = br#"{"id":"evt_1","type":"message.received","timestamp":"2023-11-14T22:13:20Z","tenantId":"t1","data":{"conversationId":"c_1"}}"#;

fn at(seconds: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn check(
    body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    secrets: &[&str],
    now: u64,
) -> Result<agentwire::linktor::webhook::WebhookEvent, WebhookError> {
    construct_event_at(
        body,
        signature,
        timestamp,
        secrets,
        at(now),
        Duration::from_secs(300),
    )
}

#[test]
fn a_signed_delivery_gives_its_typed_event_and_every_tampering_is_refused() {
    let (signature, timestamp) = sign_payload(SECRET, BODY, at(1_700_000_000));
    assert_eq!(timestamp, "1700000000");
    let event = check(
        BODY,
        Some(&signature),
        Some(&timestamp),
        &[SECRET],
        1_700_000_010,
    )
    .expect("valid");
    assert_eq!(event.kind, "message.received");
    assert_eq!(event.tenant_id.as_deref(), Some("t1"));
    assert_eq!(event.data["conversationId"], "c_1");

    let mut tampered = BODY.to_vec();
    tampered[BODY.len() - 5] = b'2';
    let cases: Vec<(Result<_, _>, WebhookError)> = vec![
        (
            check(
                &tampered,
                Some(&signature),
                Some(&timestamp),
                &[SECRET],
                1_700_000_010,
            ),
            WebhookError::BadSignature,
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some("1700000001"),
                &[SECRET],
                1_700_000_010,
            ),
            WebhookError::BadSignature,
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some(&timestamp),
                &[SECRET],
                1_700_000_301,
            ),
            WebhookError::Expired {
                age_secs: 301,
                tolerance_secs: 300,
            },
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some(&timestamp),
                &[SECRET],
                1_699_999_600,
            ),
            WebhookError::Future {
                ahead_secs: 400,
                tolerance_secs: 300,
            },
        ),
        (
            check(BODY, None, Some(&timestamp), &[SECRET], 1_700_000_010),
            WebhookError::MissingSignature,
        ),
        (
            check(BODY, Some(&signature), None, &[SECRET], 1_700_000_010),
            WebhookError::MissingTimestamp,
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some("soon"),
                &[SECRET],
                1_700_000_010,
            ),
            WebhookError::MalformedTimestamp("soon".into()),
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some(&timestamp),
                &[""],
                1_700_000_010,
            ),
            WebhookError::NoSecret,
        ),
        (
            check(
                BODY,
                Some(&signature),
                Some(&timestamp),
                &["another"],
                1_700_000_010,
            ),
            WebhookError::BadSignature,
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.expect_err("refused"), want);
    }
}

#[test]
fn rotation_and_the_sha256_prefix_are_accepted_and_the_legacy_body_only_signature_is_not() {
    let (signature, timestamp) = sign_payload(SECRET, BODY, at(1_700_000_000));
    check(
        BODY,
        Some(&signature),
        Some(&timestamp),
        &["whsec_new", SECRET],
        1_700_000_000,
    )
    .expect("the old secret still verifies during rotation");
    check(
        BODY,
        Some(&format!("sha256={signature}")),
        Some(&timestamp),
        &[SECRET],
        1_700_000_000,
    )
    .expect("a sha256= prefix is accepted");
    // The older SDKs' algorithm: HMAC of the body alone (the reference's vector, for its body).
    let legacy_body = br#"{"id":"evt_1","type":"message.received","timestamp":"2023-11-14T22:13:20Z","tenantId":"t1","data":{}}"#;
    let legacy = "6edf82ad0185ea7569f6a85d6714405f13f451b087526989f5fd94531c0e47b2";
    assert_eq!(
        check(
            legacy_body,
            Some(legacy),
            Some("1700000000"),
            &[SECRET],
            1_700_000_000
        )
        .expect_err("legacy"),
        WebhookError::BadSignature
    );
    let server = "be5b0bb813da13adf16abf6755ef607e25481c7351604467b961af3530c90991";
    check(
        legacy_body,
        Some(server),
        Some("1700000000"),
        &[SECRET],
        1_700_000_000,
    )
    .expect("the server's vector");
}

#[test]
fn a_verified_body_that_is_not_an_envelope_is_a_payload_error() {
    let body = br#"{"type":"message.received"}"#;
    let (signature, timestamp) = sign_payload(SECRET, body, at(1_700_000_000));
    let e = check(
        body,
        Some(&signature),
        Some(&timestamp),
        &[SECRET],
        1_700_000_000,
    )
    .expect_err("no id");
    assert!(matches!(e, WebhookError::Payload(_)), "{e}");
}
