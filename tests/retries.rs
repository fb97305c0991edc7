//! Retries: what is retried and what is not, the budget, the backoff delays (observed through the
//! recording clock), and the request id and idempotency key that stay the same on every attempt.

#![cfg(feature = "bimpeai")]

mod common;

use std::time::{Duration, SystemTime};

use agentwire::ErrorKind;
use agentwire::bimpeai::types;
use agentwire::mock::{Fixture, FixtureResponse};
use agentwire::prelude::*;
use common::{setup, setup_with};
use serde_json::json;

fn agent_body() -> serde_json::Value {
    json!({"message": "ok", "data": {"id": "a_7", "name": "Bot", "description": "d",
        "created_at": "t", "updated_at": "t"}})
}

fn error_body(code: &str) -> serde_json::Value {
    json!({"message": "boom", "code": code})
}

fn retrieve_sequence(statuses: &[u16]) -> Fixture {
    let answers = statuses
        .iter()
        .map(|s| {
            if *s < 400 {
                FixtureResponse::json(*s, agent_body())
            } else {
                FixtureResponse::json(*s, error_body("internal_error"))
            }
        })
        .collect();
    Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_7",
        FixtureResponse::json(200, json!({})),
    )
    .with_sequence(answers)
}

#[tokio::test]
async fn a_500_then_a_200_is_two_calls() {
    let s = setup().await;
    s.mock.register(retrieve_sequence(&[500, 200]));
    let agent = s
        .client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried to success");
    assert_eq!(agent.id, "a_7");
    assert_eq!(s.mock.received("agents.retrieve").len(), 2);
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] <= Duration::from_millis(500),
        "full jitter under the first ceiling: {sleeps:?}"
    );
}

#[tokio::test]
async fn transient_statuses_are_retried() {
    for status in [408u16, 429, 500, 502, 503, 504] {
        let s = setup().await;
        s.mock.register(retrieve_sequence(&[status, 200]));
        s.client
            .agents()
            .retrieve("a_7")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status} should be retried: {e}"));
        assert_eq!(
            s.mock.received("agents.retrieve").len(),
            2,
            "status {status}"
        );
    }
}

#[tokio::test]
async fn permanent_statuses_are_not_retried() {
    for (status, kind) in [
        (501u16, ErrorKind::NotImplemented),
        (409, ErrorKind::Conflict),
        (400, ErrorKind::BadRequest),
        (404, ErrorKind::NotFound),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
    ] {
        let s = setup().await;
        s.mock.register(retrieve_sequence(&[status, 200]));
        let err = s
            .client
            .agents()
            .retrieve("a_7")
            .send()
            .await
            .expect_err("fails");
        assert_eq!(err.kind(), kind, "status {status}");
        assert!(!err.is_retryable(), "status {status}");
        assert_eq!(
            s.mock.received("agents.retrieve").len(),
            1,
            "status {status} is not retried"
        );
        assert!(s.clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn the_budget_stops_the_retries() {
    let s = setup().await;
    s.mock.register(retrieve_sequence(&[500]));
    let err = s
        .client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect_err("budget spent");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        s.mock.received("agents.retrieve").len(),
        3,
        "max_retries 2 = 3 attempts"
    );
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] <= Duration::from_millis(500));
    assert!(sleeps[1] <= Duration::from_millis(1000));

    // Per call: 4 retries, then 0.
    s.mock.reset();
    let _ = s
        .client
        .agents()
        .retrieve("a_7")
        .max_retries(4)
        .send()
        .await;
    assert_eq!(s.mock.received("agents.retrieve").len(), 5);
    s.mock.reset();
    let _ = s
        .client
        .agents()
        .retrieve("a_7")
        .max_retries(0)
        .send()
        .await;
    assert_eq!(s.mock.received("agents.retrieve").len(), 1);
}

#[tokio::test]
async fn request_id_and_idempotency_key_are_the_same_on_every_attempt() {
    let s = setup().await;
    s.mock.register(
        Fixture::new(
            "workflows.clone",
            "POST",
            "/workflows/clone",
            FixtureResponse::json(200, json!({})),
        )
        .with_sequence(vec![
            FixtureResponse::json(500, error_body("internal_error")),
            FixtureResponse::json(503, error_body("internal_error")),
            FixtureResponse::json(
                200,
                json!({"message": "ok", "data": {"id": "w_2", "name": "W", "visibility": "private",
                        "is_owner": true, "created_at": "t", "updated_at": "t"}}),
            ),
        ]),
    );
    s.client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .send()
        .await
        .expect("third attempt succeeds");
    let attempts = s.mock.received("workflows.clone");
    assert_eq!(attempts.len(), 3);
    let key = attempts[0]
        .header("idempotency-key")
        .expect("a key on a write");
    let id = attempts[0].header("x-request-id").expect("a request id");
    assert_eq!(key.len(), 36);
    assert_eq!(id.len(), 36);
    assert_ne!(key, id);
    for a in &attempts {
        assert_eq!(a.header("idempotency-key"), Some(key));
        assert_eq!(a.header("x-request-id"), Some(id));
    }
}

#[tokio::test]
async fn caller_keys_and_ids_win() {
    let s = setup().await;
    s.client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .idempotency_key("key-1")
        .request_id("req-1")
        .send()
        .await
        .expect("fixture answers");
    s.client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .header("X-Request-Id", "req-2")
        .header("Idempotency-Key", "key-2")
        .send()
        .await
        .expect("fixture answers");
    let sent = s.mock.received("workflows.clone");
    assert_eq!(sent[0].header("idempotency-key"), Some("key-1"));
    assert_eq!(sent[0].header("x-request-id"), Some("req-1"));
    assert_eq!(sent[1].header("idempotency-key"), Some("key-2"));
    assert_eq!(sent[1].header("x-request-id"), Some("req-2"));
}

#[tokio::test]
async fn no_automatic_key_without_retries_and_none_on_reads() {
    let s = setup_with(|b| b.max_retries(0)).await;
    s.client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .send()
        .await
        .expect("fixture answers");
    s.client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .max_retries(1)
        .send()
        .await
        .expect("fixture answers");
    s.client
        .agents()
        .retrieve("a_1")
        .max_retries(3)
        .send()
        .await
        .expect("fixture answers");
    let sent = s.mock.received("workflows.clone");
    assert_eq!(
        sent[0].header("idempotency-key"),
        None,
        "retries off: no key"
    );
    assert!(
        sent[1].header("idempotency-key").is_some(),
        "retries on for this call: a key"
    );
    let read = s.mock.received("agents.retrieve");
    assert_eq!(
        read[0].header("idempotency-key"),
        None,
        "GET carries no key"
    );
    assert!(read[0].header("x-request-id").is_some());
}

fn rate_limited(headers: &[(&str, &str)]) -> Fixture {
    let mut limited = FixtureResponse::json(429, error_body("too_many_requests"));
    for (k, v) in headers {
        limited = limited.header(k, v);
    }
    Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_7",
        FixtureResponse::json(200, json!({})),
    )
    .with_sequence(vec![limited, FixtureResponse::json(200, agent_body())])
}

#[tokio::test]
async fn sleeps_follow_retry_after_clamped() {
    let s = setup_with(|b| b.max_retry_after(Duration::from_secs(8))).await;
    s.mock.register(rate_limited(&[("retry-after", "3")]));
    s.client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried");
    assert_eq!(s.clock.sleeps(), vec![Duration::from_secs(3)]);

    let s = setup_with(|b| b.max_retry_after(Duration::from_secs(8))).await;
    s.mock.register(rate_limited(&[("retry-after", "99")]));
    s.client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried");
    assert_eq!(
        s.clock.sleeps(),
        vec![Duration::from_secs(8)],
        "clamped to the maximum"
    );

    let s = setup().await;
    s.mock.register(rate_limited(&[
        ("retry-after-ms", "1500"),
        ("retry-after", "9"),
    ]));
    s.client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried");
    assert_eq!(
        s.clock.sleeps(),
        vec![Duration::from_millis(1500)],
        "retry-after-ms wins"
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date() {
    let s = setup().await;
    // Measured from the clock the client reads, so the hint cannot come out above 5 s.
    let at = agentwire::Clock::now(&*s.clock) + Duration::from_secs(5);
    s.mock.register(rate_limited(&[(
        "retry-after",
        &httpdate::fmt_http_date(at),
    )]));
    s.client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried");
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    // HTTP dates have whole-second resolution.
    assert!(
        sleeps[0] > Duration::from_secs(3) && sleeps[0] <= Duration::from_secs(5),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn the_deadline_bounds_the_whole_call() {
    let s = setup_with(|b| b.deadline(Duration::from_secs(2))).await;
    s.mock.register(rate_limited(&[("retry-after", "30")]));
    let err = s
        .client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect_err("no time to wait");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(s.mock.received("agents.retrieve").len(), 1);
    assert!(
        s.clock.sleeps().is_empty(),
        "a wait past the deadline is not started"
    );
}

#[tokio::test]
async fn a_stalled_attempt_times_out_and_is_retried() {
    let s = setup().await;
    s.mock.register(
        Fixture::new(
            "agents.retrieve",
            "GET",
            "/agents/a_7",
            FixtureResponse::json(200, json!({})),
        )
        .with_sequence(vec![
            FixtureResponse::json(200, agent_body()).delay_ms(5_000),
            FixtureResponse::json(200, agent_body()),
        ]),
    );
    let started = std::time::Instant::now();
    let agent = s
        .client
        .agents()
        .retrieve("a_7")
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect("the second attempt answers");
    assert_eq!(agent.id, "a_7");
    assert_eq!(s.mock.received("agents.retrieve").len(), 2);
    // The stall ends: generous bound (10x the timeout plus slack).
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn connection_failures_are_retried_and_say_nothing_was_sent() {
    // A port with nothing listening: bind, note it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let clock = std::sync::Arc::new(agentwire::mock::RecordingClock::new());
    let client = agentwire::bimpeai::Client::builder()
        .api_key("sk_test")
        .base_url(format!("http://127.0.0.1:{port}"))
        .clock(clock.clone())
        .build()
        .expect("client");
    let err = client
        .workflows()
        .clone(types::WorkflowClone {
            source_workflow_id: "w_1".into(),
        })
        .send()
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.is_retryable());
    assert!(
        !err.may_have_been_applied(),
        "the connection was never made"
    );
    assert_eq!(clock.sleeps().len(), 2, "two retries");
    assert!(!err.to_string().contains("sk_test"));
}

fn sequence(answers: Vec<FixtureResponse>) -> Fixture {
    Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_7",
        FixtureResponse::json(200, json!({})),
    )
    .with_sequence(answers)
}

#[tokio::test]
async fn a_zero_or_past_hint_is_no_hint() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
    for (name, value) in [
        ("retry-after", "0"),
        ("retry-after-ms", "0"),
        ("retry-after", past.as_str()),
    ] {
        // Ten 429s with the hint, then a success: the waits are the jittered backoff, not a
        // burst of immediate retries.
        let s = setup_with(|b| b.max_retries(10)).await;
        let mut answers: Vec<_> = (0..10)
            .map(|_| {
                FixtureResponse::json(429, error_body("too_many_requests")).header(name, value)
            })
            .collect();
        answers.push(FixtureResponse::json(200, agent_body()));
        s.mock.register(sequence(answers));
        s.client
            .agents()
            .retrieve("a_7")
            .send()
            .await
            .expect("retried");
        let sleeps = s.clock.sleeps();
        assert_eq!(sleeps.len(), 10, "{name}: {value}");
        assert!(
            sleeps.iter().any(|d| !d.is_zero()),
            "{name}: {value}: the normal backoff applies: {sleeps:?}"
        );
        assert!(
            sleeps.iter().all(|d| *d <= Duration::from_secs(8)),
            "{sleeps:?}"
        );

        // The same hint on the error: no retry_after anywhere.
        let s = setup_with(|b| b.max_retries(0)).await;
        s.mock.register(rate_limited(&[(name, value)]));
        let err = s
            .client
            .agents()
            .retrieve("a_7")
            .send()
            .await
            .expect_err("429");
        assert_eq!(err.retry_after(), None, "{name}: {value}");
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.rate_limit().map(|l| l.retry_after), Some(None));
    }
}

#[tokio::test]
async fn retry_after_is_honoured_on_every_retryable_status() {
    for status in [408u16, 429, 500, 502, 503, 504] {
        let s = setup().await;
        s.mock.register(sequence(vec![
            FixtureResponse::json(status, error_body("internal_error")).header("retry-after", "5"),
            FixtureResponse::json(200, agent_body()),
        ]));
        s.client
            .agents()
            .retrieve("a_7")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(
            s.clock.sleeps(),
            [Duration::from_secs(5)],
            "status {status}"
        );
    }
    // Clamped to max_retry_after, on a 500 too.
    let s = setup_with(|b| b.max_retry_after(Duration::from_secs(3))).await;
    s.mock.register(sequence(vec![
        FixtureResponse::json(500, error_body("internal_error")).header("retry-after", "30"),
        FixtureResponse::json(200, agent_body()),
    ]));
    s.client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect("retried");
    assert_eq!(s.clock.sleeps(), [Duration::from_secs(3)]);
}

/// A clock whose wall time runs backwards while its monotonic reading (the recorded sleeps)
/// runs forwards: deadlines must follow the monotonic reading.
#[derive(Debug, Default)]
struct BackwardsWallClock {
    inner: agentwire::mock::RecordingClock,
}

impl agentwire::Clock for BackwardsWallClock {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000) - self.inner.monotonic()
    }
    fn monotonic(&self) -> Duration {
        self.inner.monotonic()
    }
    fn sleep(&self, duration: Duration) -> agentwire::BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
}

#[tokio::test]
async fn the_deadline_is_measured_on_the_monotonic_clock() {
    let clock = std::sync::Arc::new(BackwardsWallClock::default());
    let s = setup_with(|b| b.deadline(Duration::from_secs(3)).clock(clock.clone())).await;
    let unavailable =
        || FixtureResponse::json(503, error_body("internal_error")).header("retry-after", "2");
    s.mock.register(sequence(vec![
        unavailable(),
        unavailable(),
        FixtureResponse::json(200, agent_body()),
    ]));
    let err = s
        .client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect_err("the second wait would pass the 3 s deadline");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(s.mock.received("agents.retrieve").len(), 2);
    assert_eq!(clock.inner.sleeps(), [Duration::from_secs(2)]);
}

#[tokio::test]
async fn a_call_is_bounded_by_the_default_deadline() {
    // Generous retries, a server that always asks for a minute: the default 180 s deadline
    // ends the call instead of letting it run for ten minutes.
    let s = setup_with(|b| b.max_retries(10)).await;
    s.mock.register(sequence(vec![
        FixtureResponse::json(503, error_body("internal_error")).header("retry-after", "60"),
    ]));
    let err = s
        .client
        .agents()
        .retrieve("a_7")
        .send()
        .await
        .expect_err("unavailable for good");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    let waited: Duration = s.clock.sleeps().iter().sum();
    assert!(waited <= agentwire::DEFAULT_DEADLINE, "{waited:?}");
    assert_eq!(s.clock.sleeps().len(), 2, "{:?}", s.clock.sleeps());
    assert_eq!(s.mock.received("agents.retrieve").len(), 3);
}
