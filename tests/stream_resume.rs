//! BimpeAI's reconnecting message stream against the in-process mock: ticket per connection,
//! resume after the last delivered id, the reconnect budget, errors, idle timeout, typing.

#[path = "common/raw.rs"]
#[allow(dead_code)]
mod common_raw;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agentwire::ErrorKind;
use agentwire::EventStream;
use agentwire::bimpeai::{Client, ConversationEvent, PLATFORM};
use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock};
use agentwire::prelude::*;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;

const STREAM: &str = "conversations.messages.stream";
const TICKET: &str = "conversations.messages.stream_ticket";
const STREAM_PATH: &str = "/agents/a_1/conversations/cv_1/stream";

/// A mock serving the embedded fixtures, a client with key `sk_test` pointed at it, and the
/// recording clock the client sleeps on.
async fn setup() -> (MockServer, Client, Arc<RecordingClock>) {
    let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let client = Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .clock(clock.clone())
        .build()
        .expect("client builds");
    (mock, client, clock)
}

/// Every test body runs under this bound, so a stream that never ends fails instead of hanging.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("the test finished within 30 s")
}

/// One `message` event carrying message `id`, as BimpeAI frames it.
fn msg(id: &str) -> String {
    format!(
        "id: {id}\nevent: message\ndata: {{\"id\":\"{id}\",\"conversation_id\":\"cv_1\",\
         \"role\":\"assistant\",\"message\":\"text of {id}\",\"message_type\":\"text\",\
         \"created_at\":\"t\"}}\n\n"
    )
}

fn sse(events: &[&str]) -> FixtureResponse {
    FixtureResponse::sse(events.iter().map(|e| e.to_string()).collect())
}

fn stream_fixture(response: FixtureResponse) -> Fixture {
    Fixture::new(STREAM, "GET", STREAM_PATH, response)
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Reads `n` events, failing on an error or an early end.
async fn take_events(
    stream: &mut EventStream<ConversationEvent>,
    n: usize,
) -> Vec<ConversationEvent> {
    let mut events = Vec::new();
    while events.len() < n {
        match stream.next().await {
            Some(Ok(event)) => events.push(event),
            Some(Err(e)) => panic!("unexpected stream error after {events:?}: {e:?}"),
            None => panic!("the stream ended early after {events:?}"),
        }
    }
    events
}

/// The message id of each event (panics on a non-message event).
fn message_ids(events: &[ConversationEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e.as_message()
                .unwrap_or_else(|| panic!("expected a message, got {e:?}"))
                .id
                .clone()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. The embedded fixtures: drop after m_2, resume with a new ticket after m_2.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn embedded_fixtures_resume_after_drop_without_gaps_or_repeats() {
    within(async {
        let (mock, client, clock) = setup().await;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("the stream opens");

        // Three events in all: m_1, m_2, m_3. The heartbeat between m_1 and m_2 is never
        // yielded (it would show up here as a non-message event).
        let events = take_events(&mut stream, 3).await;
        assert_eq!(message_ids(&events), ["m_1", "m_2", "m_3"]);
        let m3 = events[2].as_message().unwrap();
        assert_eq!(m3.message.as_deref(), Some("anything else?"));

        let opens = mock.received(STREAM);
        assert_eq!(opens.len(), 2, "one connection, one reconnect");
        assert_eq!(opens[0].query_map(), query(&[("ticket", "t1")]));
        assert_eq!(opens[0].query.len(), 1);
        assert_eq!(
            opens[1].query_map(),
            query(&[("ticket", "t1"), ("after", "m_2")])
        );
        assert_eq!(opens[1].query.len(), 2, "no repeated query parameter");
        assert_eq!(
            mock.received(TICKET).len(),
            2,
            "a new ticket for each connection"
        );

        // Tickets and streams alternate: ticket, stream, ticket, stream.
        let order: Vec<String> = mock
            .journal()
            .iter()
            .filter_map(|r| r.operation.clone())
            .collect();
        assert_eq!(order, [TICKET, STREAM, TICKET, STREAM]);

        // One backoff before the reconnect, through the injected clock.
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 1, "{sleeps:?}");
        assert!(sleeps[0] <= Duration::from_millis(500), "{sleeps:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Headers: the ticket is the stream's only credential.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn stream_requests_carry_no_authorization_and_no_request_id() {
    within(async {
        let (mock, client, _clock) = setup().await;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("the stream opens");
        take_events(&mut stream, 3).await; // across the reconnect

        let opens = mock.received(STREAM);
        assert_eq!(opens.len(), 2);
        for r in &opens {
            assert_eq!(r.method, "GET");
            assert_eq!(r.header("accept"), Some("text/event-stream"), "{r:?}");
            assert_eq!(r.header("authorization"), None, "{r:?}");
            assert_eq!(r.header("x-request-id"), None, "{r:?}");
        }
        let tickets = mock.received(TICKET);
        assert_eq!(tickets.len(), 2);
        for r in &tickets {
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, "/agents/a_1/conversations/cv_1/stream-ticket");
            assert_eq!(r.header("authorization"), Some("Bearer sk_test"), "{r:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn builder_headers_go_on_ticket_requests_only() {
    within(async {
        let (mock, client, _clock) = setup().await;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .header("x-trace", "abc")
            .open()
            .await
            .expect("the stream opens");
        take_events(&mut stream, 1).await;
        let ticket = &mock.received(TICKET)[0];
        assert_eq!(ticket.header("x-trace"), Some("abc"));
        assert_eq!(ticket.header("x-request-id").map(str::len), Some(36));
        let open = &mock.received(STREAM)[0];
        assert_eq!(open.header("x-trace"), None, "{open:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. The budget resets on every delivered message.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn budget_resets_on_each_delivered_message() {
    within(async {
        let (mock, client, clock) = setup().await;
        // Budget 2, four drops: each connection delivers one new message, then drops.
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&[&msg("m_1")]).end("drop"),
            sse(&[&msg("m_2")]).end("drop"),
            sse(&[&msg("m_3")]).end("drop"),
            sse(&[&msg("m_4")]).end("drop"),
            sse(&[&msg("m_5")]).end("hang"),
        ]));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(2)
            .open()
            .await
            .expect("the stream opens");

        let events = take_events(&mut stream, 5).await;
        assert_eq!(message_ids(&events), ["m_1", "m_2", "m_3", "m_4", "m_5"]);

        let opens = mock.received(STREAM);
        assert_eq!(opens.len(), 5);
        assert_eq!(opens[0].query_map(), query(&[("ticket", "t1")]));
        for (k, open) in opens.iter().enumerate().skip(1) {
            let after = format!("m_{k}");
            assert_eq!(
                open.query_map(),
                query(&[("ticket", "t1"), ("after", &after)]),
                "connection {k}"
            );
        }
        assert_eq!(mock.received(TICKET).len(), 5);

        // Four backoffs, each the first step of the schedule (the failure count went back to
        // zero every time a message arrived, so the backoff never grew).
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 4, "{sleeps:?}");
        assert!(
            sleeps.iter().all(|s| *s <= Duration::from_millis(500)),
            "{sleeps:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn clean_closes_after_messages_are_resumed_without_failing() {
    within(async {
        let (mock, client, _clock) = setup().await;
        // Budget 0: any failure would end the stream, but a clean close after a delivered
        // message is not a failure.
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&[&msg("m_1"), &msg("m_2")]),
            sse(&[&msg("m_3")]),
            sse(&[&msg("m_4")]).end("hang"),
        ]));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(0)
            .open()
            .await
            .expect("the stream opens");
        let events = take_events(&mut stream, 4).await;
        assert_eq!(message_ids(&events), ["m_1", "m_2", "m_3", "m_4"]);
        let afters: Vec<Option<String>> = mock
            .received(STREAM)
            .iter()
            .map(|r| r.query_map().get("after").cloned())
            .collect();
        assert_eq!(afters, [None, Some("m_2".into()), Some("m_3".into())]);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. The budget runs out.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn budget_exhausted_by_drops_before_any_message() {
    within(async {
        let (mock, client, clock) = setup().await;
        // Every connection sends a comment, then drops: nothing is ever delivered.
        mock.register(stream_fixture(sse(&[": hello\n\n"]).end("drop")));
        let n = 3;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(n)
            .open()
            .await
            .expect("the first connection is made");

        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
        assert!(
            stream.next().await.is_none(),
            "the stream ends after its error"
        );

        assert_eq!(mock.received(STREAM).len(), n as usize + 1);
        assert_eq!(mock.received(TICKET).len(), n as usize + 1);
        // None of the reconnects resumes after an id: nothing was delivered.
        assert!(
            mock.received(STREAM)
                .iter()
                .all(|r| r.query_map() == query(&[("ticket", "t1")]))
        );
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), n as usize, "{sleeps:?}");
        assert!(
            sleeps.iter().all(|s| *s <= Duration::from_secs(8)),
            "{sleeps:?}"
        );
        // Full jitter under a doubling ceiling: 0.5 s, 1 s, 2 s.
        for (k, s) in sleeps.iter().enumerate() {
            assert!(
                *s <= Duration::from_millis(500) * 2u32.pow(k as u32),
                "{sleeps:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn budget_exhausted_by_clean_closes_before_any_message() {
    within(async {
        let (mock, client, clock) = setup().await;
        // A server that keeps closing at once cannot make the client spin.
        mock.register(stream_fixture(sse(&[": nothing\n\n"])));
        let n = 2;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(n)
            .open()
            .await
            .expect("the first connection is made");
        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Stream, "{err:?}");
        assert!(stream.next().await.is_none());
        assert_eq!(mock.received(STREAM).len(), n as usize + 1);
        assert_eq!(clock.sleeps().len(), n as usize);
    })
    .await;
}

#[tokio::test]
async fn budget_exhausted_by_503_after_a_message() {
    within(async {
        let (mock, client, clock) = setup().await;
        // One message, a drop, then the stream endpoint answers 503 for good.
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&[&msg("m_1")]).end("drop"),
            FixtureResponse::json(503, json!({"message": "down", "code": "internal_error"})),
        ]));
        let n = 3;
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(n)
            .open()
            .await
            .expect("the stream opens");

        let first = stream.next().await.expect("an item").expect("a message");
        assert_eq!(first.as_message().map(|m| m.id.as_str()), Some("m_1"));
        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
        assert!(
            stream.next().await.is_none(),
            "the stream ends after its error"
        );

        // The drop is failure 1; the 503s are failures 2..=n+1: the first connection plus n.
        let opens = mock.received(STREAM);
        assert_eq!(opens.len(), 1 + n as usize);
        assert!(
            opens[1..]
                .iter()
                .all(|r| r.query_map().get("after").map(String::as_str) == Some("m_1"))
        );
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), n as usize, "{sleeps:?}");
        assert!(
            sleeps.iter().all(|s| *s <= Duration::from_secs(8)),
            "{sleeps:?}"
        );
    })
    .await;
}

/// Opens a stream whose endpoint always answers 503, with a budget of `n`: the open fails with
/// Unavailable after n + 1 attempts and n backoff sleeps, each within the 8 s cap.
async fn open_against_503(n: u32) {
    let (mock, client, clock) = setup().await;
    mock.register(stream_fixture(FixtureResponse::json(
        503,
        json!({"message": "down", "code": "internal_error"}),
    )));
    let err = client
        .conversations()
        .messages()
        .stream("a_1", "cv_1")
        .reconnect_budget(n)
        .open()
        .await
        .expect_err("every connection fails");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert_eq!(err.operation(), Some(STREAM));
    assert_eq!(mock.received(STREAM).len(), n as usize + 1);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), n as usize, "{sleeps:?}");
    assert!(
        sleeps.iter().all(|s| *s <= Duration::from_secs(8)),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn open_fails_after_budget_of_503s() {
    within(open_against_503(4)).await;
}

#[tokio::test]
async fn backoff_stays_within_eight_seconds_over_a_long_budget() {
    within(open_against_503(12)).await;
}

// ---------------------------------------------------------------------------------------------
// 5. reconnect(false)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn without_reconnect_a_clean_close_ends_the_stream() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(
            sse(&[&msg("m_1"), &msg("m_2")]).end("close"),
        ));
        let stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect(false)
            .open()
            .await
            .expect("the stream opens");
        let events: Vec<ConversationEvent> = stream.try_collect().await.expect("no error");
        assert_eq!(message_ids(&events), ["m_1", "m_2"]);
        assert_eq!(mock.received(STREAM).len(), 1);
        assert_eq!(mock.received(TICKET).len(), 1);
        assert!(clock.sleeps().is_empty());
    })
    .await;
}

#[tokio::test]
async fn without_reconnect_a_drop_is_an_error_then_the_end() {
    within(async {
        let (mock, client, _clock) = setup().await;
        mock.register(stream_fixture(sse(&[&msg("m_1")]).end("drop")));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect(false)
            .open()
            .await
            .expect("the stream opens");
        let events = take_events(&mut stream, 1).await;
        assert_eq!(message_ids(&events), ["m_1"]);
        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
        assert!(stream.next().await.is_none());
        assert!(
            stream.next().await.is_none(),
            "polling after the end is safe"
        );
        assert_eq!(mock.received(STREAM).len(), 1);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. after(..)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn after_is_sent_on_the_first_connection() {
    within(async {
        let (mock, client, _clock) = setup().await;
        mock.register(
            stream_fixture(sse(&[&msg("m_2"), &msg("m_3")]).end("hang")).with_query("after", "m_1"),
        );
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .after("m_1")
            .open()
            .await
            .expect("the stream opens");
        let events = take_events(&mut stream, 2).await;
        assert_eq!(message_ids(&events), ["m_2", "m_3"]);
        let opens = mock.received(STREAM);
        assert_eq!(opens.len(), 1);
        assert_eq!(
            opens[0].query_map(),
            query(&[("ticket", "t1"), ("after", "m_1")])
        );
    })
    .await;
}

#[tokio::test]
async fn after_accepts_a_timestamp() {
    within(async {
        let (mock, client, _clock) = setup().await;
        let at = "2026-06-24T08:23:02.384Z";
        mock.register(stream_fixture(sse(&[&msg("m_7")]).end("hang")).with_query("after", at));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .after(at)
            .open()
            .await
            .expect("the stream opens");
        assert_eq!(message_ids(&take_events(&mut stream, 1).await), ["m_7"]);
        assert_eq!(
            mock.received(STREAM)[0].query_map(),
            query(&[("ticket", "t1"), ("after", at)])
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. and 8. Errors on opening.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rate_limited_on_open() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(
            FixtureResponse::json(429, json!({"message": "slow", "code": "rate_limited"}))
                .header("Retry-After", "7")
                .header("X-RateLimit-Limit", "60")
                .header("X-RateLimit-Remaining", "0"),
        ));
        let err = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect(false)
            .open()
            .await
            .expect_err("a 429");
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{err:?}");
        let rate = err.rate_limit().expect("pacing headers");
        assert_eq!(rate.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(rate.limit, Some(60));
        assert_eq!(rate.remaining, Some(0));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
        assert_eq!(err.operation(), Some(STREAM));
        assert_eq!(mock.received(STREAM).len(), 1, "not retried");
        assert!(clock.sleeps().is_empty());
    })
    .await;
}

#[tokio::test]
async fn unauthorized_stream_is_not_retried_even_with_reconnect() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(FixtureResponse::json(
            401,
            json!({"message": "bad ticket", "code": "unauthorized"}),
        )));
        let err = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect(true)
            .reconnect_budget(5)
            .open()
            .await
            .expect_err("a 401");
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(mock.received(STREAM).len(), 1, "one attempt");
        assert_eq!(mock.received(TICKET).len(), 1);
        assert!(clock.sleeps().is_empty());
    })
    .await;
}

#[tokio::test]
async fn unauthorized_ticket_is_not_retried() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(Fixture::new(
            TICKET,
            "POST",
            "/agents/a_1/conversations/cv_1/stream-ticket",
            FixtureResponse::json(401, json!({"message": "no key", "code": "api_key_invalid"})),
        ));
        let err = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect_err("a 401 on the ticket");
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err:?}");
        assert_eq!(err.operation(), Some(TICKET));
        assert_eq!(mock.received(TICKET).len(), 1);
        assert!(
            mock.received(STREAM).is_empty(),
            "no stream without a ticket"
        );
        assert!(clock.sleeps().is_empty());
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 9. Idle timeout.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn idle_timeout_ends_a_silent_stream() {
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), async {
        let (mock, client, _clock) = setup().await;
        mock.register(stream_fixture(sse(&[&msg("m_1")]).end("hang")));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .idle_timeout(Duration::from_millis(200))
            .reconnect(false)
            .open()
            .await
            .expect("the stream opens");
        let events = take_events(&mut stream, 1).await;
        assert_eq!(message_ids(&events), ["m_1"]);
        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected a timeout, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the timeout"
        );
        assert_eq!(mock.received(STREAM).len(), 1);
    })
    .await
    .expect("the idle timeout fired well within 10 s");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

// ---------------------------------------------------------------------------------------------
// 10. Typing the events.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn undecodable_message_is_a_decode_error_and_unknown_events_are_kept() {
    within(async {
        let (mock, client, _clock) = setup().await;
        let bad = "{\"id\":\"m_1\",\"role\":42}";
        mock.register(stream_fixture(sse(&[
            &format!("id: m_1\nevent: message\ndata: {bad}\n\n"),
            "event: typing\ndata: {\"who\":\"ada\"}\n\n",
            &msg("m_2"),
        ])));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect(false)
            .open()
            .await
            .expect("the stream opens");

        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected a decode error, got {other:?}"),
        };
        assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
        assert_eq!(err.body().map(|b| b.as_ref()), Some(bad.as_bytes()));
        assert_eq!(err.operation(), Some(STREAM));

        // The stream goes on after a bad message.
        match stream.next().await {
            Some(Ok(ConversationEvent::Other(event))) => {
                assert_eq!(event.event.as_deref(), Some("typing"));
                assert_eq!(event.name(), "typing");
                assert_eq!(event.data, "{\"who\":\"ada\"}");
            }
            other => panic!("expected the unknown event, got {other:?}"),
        }
        let next = stream.next().await.expect("an item").expect("a message");
        assert_eq!(next.as_message().map(|m| m.id.as_str()), Some("m_2"));
        assert!(stream.next().await.is_none());
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 11. Send.
// ---------------------------------------------------------------------------------------------

// The open future and the stream it yields are `Send + 'static`, so a stream can be opened and
// consumed on any task: checked when this file compiles (the closure is never called).
const _: fn(&Client) = |client| {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let future = client
        .conversations()
        .messages()
        .stream("a_1", "cv_1")
        .open();
    assert_send(&future);
    drop(async move {
        if let Ok(stream) = future.await {
            assert_send(&stream);
        }
    });
};

// ---------------------------------------------------------------------------------------------
// 9. An answer that is not a stream is an error at once, never a silent end or a reconnect loop.
// ---------------------------------------------------------------------------------------------

fn bad_ticket() -> FixtureResponse {
    FixtureResponse::json(
        200,
        json!({"message": "ticket expired", "code": "bad_ticket"}),
    )
}

fn assert_not_a_stream(err: &agentwire::Error) {
    assert_eq!(err.kind(), ErrorKind::Stream, "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.code(), Some("bad_ticket"));
    assert!(err.message().contains("application/json"), "{err}");
    assert!(err.message().contains("ticket expired"), "{err}");
    assert!(!err.is_retryable());
    let body = err.body().expect("the body is kept");
    assert!(String::from_utf8_lossy(body).contains("bad_ticket"));
}

#[tokio::test]
async fn a_json_answer_to_the_open_is_a_stream_error_with_or_without_reconnect() {
    within(async {
        for reconnect in [false, true] {
            let (mock, client, clock) = setup().await;
            mock.register(stream_fixture(bad_ticket()));
            let err = client
                .conversations()
                .messages()
                .stream("a_1", "cv_1")
                .reconnect(reconnect)
                .open()
                .await
                .expect_err("not a stream");
            assert_not_a_stream(&err);
            assert_eq!(mock.received(STREAM).len(), 1, "reconnect {reconnect}");
            assert!(clock.sleeps().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn a_json_answer_to_a_reconnect_ends_the_stream_with_its_error() {
    within(async {
        let (mock, client, _clock) = setup().await;
        mock.register(
            stream_fixture(sse(&[]))
                .with_sequence(vec![sse(&[&msg("m_1")]).end("drop"), bad_ticket()]),
        );
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("the stream opens");
        take_events(&mut stream, 1).await;
        let err = match stream.next().await {
            Some(Err(e)) => e,
            other => panic!("expected the error, got {other:?}"),
        };
        assert_not_a_stream(&err);
        assert!(stream.next().await.is_none());
        assert_eq!(mock.received(STREAM).len(), 2, "no reconnect loop");
    })
    .await;
}

#[tokio::test]
async fn the_event_stream_content_type_is_matched_loosely_and_a_missing_one_is_not_a_stream() {
    within(async {
        let (mock, client, _clock) = setup().await;
        mock.register(stream_fixture(
            sse(&[&msg("m_1")])
                .header("content-type", "Text/Event-Stream; charset=utf-8")
                .end("hang"),
        ));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("parameters and letter case are fine");
        take_events(&mut stream, 1).await;

        // No Content-Type at all: a raw server (ticket, then a body without a type).
        use common_raw::{RawServer, answer};
        let ticket = r#"{"message":"ok","data":{"ticket":"t1","expires_in":60}}"#;
        let server = RawServer::start(vec![
            answer(
                "201 Created",
                &[("content-type", "application/json")],
                ticket.as_bytes(),
            ),
            answer("200 OK", &[], msg("m_1").as_bytes()),
        ])
        .await;
        let client = Client::builder()
            .api_key("sk_test")
            .base_url(server.origin())
            .build()
            .expect("client");
        let err = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect_err("no content type: not a stream");
        assert_eq!(err.kind(), ErrorKind::Stream);
        assert!(err.message().contains("no content type"), "{err}");
        assert_eq!(server.requests().len(), 2);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 10. The server's pacing: SSE `retry:`, Retry-After on a reopen, both clamped; the deadline.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_retry_field_sets_the_wait_before_reconnecting() {
    within(async {
        let (mock, client, clock) = setup().await;
        // The `retry:` sits in a block that dispatches nothing: it still sets the delay.
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&["retry: 5000\n\n", &msg("m_1")]).end("drop"),
            sse(&[&msg("m_2")]).end("hang"),
        ]));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("opens");
        let events = take_events(&mut stream, 2).await;
        assert_eq!(message_ids(&events), ["m_1", "m_2"]);
        assert_eq!(clock.sleeps(), [Duration::from_secs(5)]);
    })
    .await;
}

#[tokio::test]
async fn a_huge_retry_field_is_clamped() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&["retry: 999999999\n", &msg("m_1")]).end("drop"),
            sse(&[&msg("m_2")]).end("hang"),
        ]));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("opens");
        take_events(&mut stream, 2).await;
        assert_eq!(clock.sleeps(), [agentwire::DEFAULT_MAX_RETRY_AFTER]);
    })
    .await;
}

#[tokio::test]
async fn a_429_on_the_reopen_waits_its_retry_after() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(sse(&[])).with_sequence(vec![
            sse(&[&msg("m_1")]).end("drop"),
            FixtureResponse::json(429, json!({"message": "slow", "code": "rate_limited"}))
                .header("retry-after", "7"),
            sse(&[&msg("m_2")]).end("hang"),
        ]));
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("opens");
        let events = take_events(&mut stream, 2).await;
        assert_eq!(message_ids(&events), ["m_1", "m_2"]);
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2, "{sleeps:?}");
        assert!(
            sleeps[0] <= Duration::from_millis(500),
            "after the drop: {sleeps:?}"
        );
        assert_eq!(
            sleeps[1],
            Duration::from_secs(7),
            "after the 429: {sleeps:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn reconnecting_without_an_event_is_bounded_by_the_reconnect_deadline() {
    within(async {
        let (mock, client, clock) = setup().await;
        mock.register(stream_fixture(
            FixtureResponse::json(503, json!({"message": "down", "code": "internal_error"}))
                .header("retry-after", "60"),
        ));
        let err = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .reconnect_budget(1000)
            .open()
            .await
            .expect_err("never available");
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
        let waited: Duration = clock.sleeps().iter().sum();
        assert!(
            waited <= agentwire::DEFAULT_RECONNECT_DEADLINE,
            "{waited:?}"
        );
        assert_eq!(clock.sleeps().len(), 3, "{:?}", clock.sleeps());
        assert_eq!(mock.received(STREAM).len(), 4);
        let source = std::error::Error::source(&err).expect("the last failure");
        assert!(source.to_string().contains("503"), "{source}");
    })
    .await;
}
