//! Event streams typed by their spec's event map, end to end against the mock: the data-only,
//! `type`-discriminated streams of the test fragment `tests/specs/chat.yaml` (a POST ending at
//! `[DONE]`; a resumable run ending after `RUN_FINISHED`), and BimpeAI's map (SSE event names,
//! undeclared non-JSON data kept raw). Typed events, unknown types kept, heartbeats consumed,
//! end markers, non-JSON data per policy, connections lost before the marker; the contract's
//! event checks by the same map; the map's table entry.

use std::sync::Arc;
use std::time::Duration;

use agentwire::contract::Contract;
use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock};
use agentwire::prelude::*;
use agentwire::testkit::chat::{self, ChatStreamEvent, RunEvent, types};
use agentwire::{ErrorKind, EventStream, NonJson};
use futures_util::StreamExt;
use futures_util::stream::FusedStream;

const CHAT: &str = "chat.stream";
const RUN: &str = "runs.events";

/// Every test body runs under this bound, so a stream that never ends fails instead of hanging.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("the test finished within 30 s")
}

fn sse(blocks: &[&str]) -> FixtureResponse {
    FixtureResponse::sse(blocks.iter().map(|b| b.to_string()).collect())
}

/// A data-only frame.
fn data(json: &str) -> String {
    format!("data: {json}\n\n")
}

fn delta(text: &str) -> String {
    data(&format!(r#"{{"type":"text_delta","delta":"{text}"}}"#))
}

const PING: &str = "data: {\"type\":\"ping\"}\n\n";
const DONE: &str = "data: [DONE]\n\n";

/// A mock of the fragment serving `fixtures`, a client for it and the clock it sleeps on.
async fn setup(fixtures: Vec<Fixture>) -> (MockServer, chat::Client, Arc<RecordingClock>) {
    let mock = MockServer::start_with(&chat::PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let client = chat::Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .clock(clock.clone())
        .build()
        .expect("client builds");
    (mock, client, clock)
}

/// A plain HTTP client, as another language would use (agentwire installs no process-wide
/// crypto provider, so it brings its own).
fn http() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("http client")
}

fn chat_fixture(response: FixtureResponse) -> Fixture {
    Fixture::new(CHAT, "POST", "/chat", response)
}

fn run_fixture(response: FixtureResponse) -> Fixture {
    Fixture::new(RUN, "GET", "/runs/r_1/events", response)
}

fn prompt() -> types::ChatRequest {
    types::ChatRequest {
        prompt: "hello".into(),
        thread_id: None,
    }
}

/// Opens `chat.stream` against a mock answering `response`.
async fn chat_stream(
    response: FixtureResponse,
) -> (
    MockServer,
    EventStream<ChatStreamEvent>,
    Arc<RecordingClock>,
) {
    let (mock, client, clock) = setup(vec![chat_fixture(response)]).await;
    let stream = client
        .chat()
        .stream(prompt())
        .open()
        .await
        .expect("the stream opens");
    (mock, stream, clock)
}

async fn next_ok<E: std::fmt::Debug>(stream: &mut EventStream<E>) -> E {
    match stream.next().await {
        Some(Ok(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn next_err<E: std::fmt::Debug>(stream: &mut EventStream<E>) -> agentwire::Error {
    match stream.next().await {
        Some(Err(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn deltas(events: &[ChatStreamEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e.as_text_delta().map(|d| d.delta.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// chat.stream: data-only frames told apart by `type`, ending at `[DONE]`.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn typed_events_unknown_types_kept_heartbeats_consumed_and_done_ends_the_stream() {
    within(async {
        let unknown = r#"{"type":"tool_call","name":"search"}"#;
        // The connection stays open after `[DONE]` (and sends more): only the marker ends it.
        let (mock, mut stream, _clock) = chat_stream(
            sse(&[
                &delta("Hel"),
                PING,
                &delta("lo"),
                &data(unknown),
                PING,
                &data(r#"{"type":"finish","full_text":"Hello"}"#),
                DONE,
                &delta("after the end"),
            ])
            .end("hang"),
        )
        .await;

        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            events.push(item.expect("no error"));
        }
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(deltas(&events), ["Hel", "lo"]);
        match &events[2] {
            ChatStreamEvent::Other(raw) => {
                assert_eq!(raw.data, unknown);
                assert_eq!(raw.name(), "message", "data-only: the default SSE name");
            }
            other => panic!("expected the unknown type kept, got {other:?}"),
        }
        assert_eq!(
            events[3].as_finish().map(|f| f.full_text.as_str()),
            Some("Hello")
        );
        assert!(stream.is_terminated());
        assert!(
            stream.next().await.is_none(),
            "polling after the end is safe"
        );

        let sent = mock.received(CHAT);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, "POST");
        assert_eq!(sent[0].header("accept"), Some("text/event-stream"));
        assert_eq!(sent[0].header("authorization"), Some("Bearer sk_test"));
        assert_eq!(sent[0].json(), Some(serde_json::json!({"prompt": "hello"})));
    })
    .await;
}

#[tokio::test]
async fn awaiting_the_builder_opens_the_stream() {
    within(async {
        let (_mock, client, _clock) =
            setup(vec![chat_fixture(sse(&[&delta("hi"), DONE]).end("close"))]).await;
        let stream = client.chat().stream(prompt()).await.expect("opens");
        let events: Vec<_> = stream.map(|e| e.expect("no error")).collect().await;
        assert_eq!(deltas(&events), ["hi"]);
    })
    .await;
}

#[tokio::test]
async fn a_data_line_that_is_not_json_is_a_decode_error_and_the_stream_goes_on() {
    within(async {
        let (_mock, mut stream, _clock) =
            chat_stream(sse(&["data: hello there\n\n", &delta("ok"), DONE]).end("hang")).await;
        let err = next_err(&mut stream).await;
        assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
        assert!(err.message().contains("not JSON"), "{err}");
        assert_eq!(err.body().map(|b| b.as_ref()), Some(&b"hello there"[..]));
        assert_eq!(err.operation(), Some(CHAT));
        assert_eq!(
            next_ok(&mut stream)
                .await
                .as_text_delta()
                .map(|d| d.delta.as_str()),
            Some("ok")
        );
        assert!(stream.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn an_event_whose_data_does_not_match_its_schema_is_a_decode_error_naming_it() {
    within(async {
        let wrong = r#"{"type":"finish","full_text":42}"#;
        // Deeper than serde_json reads: an error, never a crash.
        let deep = format!(
            r#"{{"type":"text_delta","delta":{}1{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let (_mock, mut stream, _clock) =
            chat_stream(sse(&[&data(wrong), &data(&deep), &delta("still here"), DONE]).end("hang"))
                .await;
        let err = next_err(&mut stream).await;
        assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
        assert!(err.message().contains("`finish`"), "{err}");
        assert!(err.message().contains("Finish"), "{err}");
        assert_eq!(err.body().map(|b| b.as_ref()), Some(wrong.as_bytes()));
        let err = next_err(&mut stream).await;
        assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
        assert!(err.message().contains("`text_delta`"), "{err}");
        assert_eq!(
            next_ok(&mut stream)
                .await
                .as_text_delta()
                .map(|d| d.delta.as_str()),
            Some("still here")
        );
        assert!(stream.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_connection_lost_before_done_is_a_stream_error_not_an_end() {
    within(async {
        for end in ["drop", "close"] {
            let (mock, mut stream, clock) = chat_stream(sse(&[&delta("partial")]).end(end)).await;
            assert_eq!(deltas(&[next_ok(&mut stream).await]), ["partial"]);
            let err = next_err(&mut stream).await;
            assert_eq!(err.kind(), ErrorKind::Stream, "{end}: {err:?}");
            assert!(err.message().contains("end marker"), "{end}: {err}");
            assert_eq!(err.operation(), Some(CHAT));
            if end == "drop" {
                let cause = std::error::Error::source(&err).expect("the lost connection");
                assert!(cause.to_string().contains("connection"), "{cause}");
            }
            assert!(stream.next().await.is_none(), "{end}: the error ends it");
            assert_eq!(mock.received(CHAT).len(), 1, "{end}: never re-sent");
            assert!(clock.sleeps().is_empty(), "{end}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_stream_that_cannot_be_resumed_refuses_after_before_sending() {
    within(async {
        let (mock, client, _clock) = setup(vec![chat_fixture(sse(&[DONE]))]).await;
        let err = client
            .chat()
            .stream(prompt())
            .after("e_1")
            .open()
            .await
            .expect_err("no resume declared");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
        assert_eq!(err.operation(), Some(CHAT));
        assert!(mock.received(CHAT).is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_mock_keeps_a_stream_open_with_its_recorded_type_member_heartbeat() {
    within(async {
        let mock = MockServer::builder(&chat::PLATFORM)
            .fixtures(vec![chat_fixture(sse(&[&delta("one"), PING]).end("open"))])
            .heartbeat_interval(Duration::from_millis(25))
            .start()
            .await
            .expect("mock starts");

        // On the wire: the recorded `ping` frame (found by its `type`), again and again.
        let response = http()
            .post(format!("{}/chat", mock.platform_url()))
            .bearer_auth("sk_test")
            .header("content-type", "application/json")
            .body(r#"{"prompt":"hello"}"#)
            .send()
            .await
            .expect("answers");
        let mut body = response.bytes_stream();
        let mut text = String::new();
        while text.matches(PING).count() < 3 {
            let chunk = body.next().await.expect("more").expect("a chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(!text.contains(": heartbeat"), "{text}");

        // To the client: nothing. The idle timeout is far below the wait, so only the pings
        // keep the stream alive, and none of them is yielded.
        let client = chat::Client::builder()
            .api_key("sk_test")
            .base_url(mock.base_url())
            .build()
            .expect("client");
        let mut stream = client
            .chat()
            .stream(prompt())
            .idle_timeout(Duration::from_millis(300))
            .open()
            .await
            .expect("opens");
        assert_eq!(deltas(&[next_ok(&mut stream).await]), ["one"]);
        match tokio::time::timeout(Duration::from_millis(1200), stream.next()).await {
            Err(_elapsed) => {}
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// runs.events: a terminal event, undeclared non-JSON data kept raw, resume by Last-Event-ID.
// ---------------------------------------------------------------------------------------------

fn run_event(id: &str, json: &str) -> String {
    format!("id: {id}\ndata: {json}\n\n")
}

fn started() -> String {
    run_event("e_1", r#"{"type":"RUN_STARTED","run_id":"r_1"}"#)
}

fn content(id: &str, delta: &str) -> String {
    run_event(
        id,
        &format!(r#"{{"type":"TEXT_MESSAGE_CONTENT","message_id":"m_1","delta":"{delta}"}}"#),
    )
}

fn finished(id: &str) -> String {
    run_event(
        id,
        r#"{"type":"RUN_FINISHED","run_id":"r_1","result":{"ok":true}}"#,
    )
}

#[tokio::test]
async fn a_run_resumes_after_a_drop_and_ends_after_its_terminal_event() {
    within(async {
        let (mock, client, clock) = setup(vec![run_fixture(sse(&[])).with_sequence(vec![
            sse(&[&started(), &content("e_2", "Hi")]).end("drop"),
            sse(&[
                &content("e_3", " there"),
                "id: e_4\ndata: plain words\n\n",
                &finished("e_5"),
                &content("e_6", "never seen"),
            ])
            .end("hang"),
        ])])
        .await;
        let mut stream = client
            .runs()
            .events("r_1")
            .verbose(true)
            .open()
            .await
            .expect("opens");
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            events.push(item.expect("no error"));
        }
        assert_eq!(events.len(), 5, "{events:?}");
        assert_eq!(
            events[0].as_run_started().map(|s| s.run_id.as_str()),
            Some("r_1")
        );
        let text: Vec<&str> = events
            .iter()
            .filter_map(|e| e.as_text_message_content().map(|c| c.delta.as_str()))
            .collect();
        assert_eq!(text, ["Hi", " there"]);
        match &events[3] {
            RunEvent::Other(raw) => assert_eq!(raw.data, "plain words"),
            other => panic!("non-JSON data is kept raw here, got {other:?}"),
        }
        let finished = events[4]
            .as_run_finished()
            .expect("the terminal event is yielded");
        assert_eq!(finished.result, Some(serde_json::json!({"ok": true})));

        let opens = mock.received(RUN);
        assert_eq!(opens.len(), 2, "one connection, one resume");
        assert_eq!(opens[0].header("last-event-id"), None);
        assert_eq!(opens[1].header("last-event-id"), Some("e_2"));
        for open in &opens {
            assert_eq!(
                open.query_map().get("verbose").map(String::as_str),
                Some("true")
            );
        }
        assert_eq!(clock.sleeps().len(), 1, "one wait before the resume");
    })
    .await;
}

#[tokio::test]
async fn after_starts_a_resumable_stream_at_a_position() {
    within(async {
        let (mock, client, _clock) = setup(vec![run_fixture(
            sse(&[&content("e_3", "x"), &finished("e_4")]).end("hang"),
        )])
        .await;
        let stream = client
            .runs()
            .events("r_1")
            .after("e_2")
            .open()
            .await
            .expect("opens");
        assert_eq!(stream.count().await, 2);
        assert_eq!(mock.received(RUN)[0].header("last-event-id"), Some("e_2"));
    })
    .await;
}

#[tokio::test]
async fn without_reconnect_a_drop_before_the_terminal_event_is_a_stream_error() {
    within(async {
        let (mock, client, _clock) = setup(vec![run_fixture(sse(&[&started()]).end("drop"))]).await;
        let mut stream = client
            .runs()
            .events("r_1")
            .reconnect(false)
            .open()
            .await
            .expect("opens");
        assert!(next_ok(&mut stream).await.as_run_started().is_some());
        let err = next_err(&mut stream).await;
        assert_eq!(err.kind(), ErrorKind::Stream, "{err:?}");
        assert_eq!(err.operation(), Some(RUN));
        assert!(stream.next().await.is_none());
        assert_eq!(mock.received(RUN).len(), 1);
    })
    .await;
}

#[tokio::test]
async fn each_open_of_a_stream_that_cannot_resume_is_retried_as_a_call() {
    within(async {
        let (mock, client, clock) = setup(vec![chat_fixture(sse(&[])).with_sequence(vec![
            FixtureResponse::json(503, serde_json::json!({"message": "busy"})),
            sse(&[&delta("late"), DONE]),
        ])])
        .await;
        // A POST the platform does not deduplicate: after a 503 it may have run, so the open is
        // not re-sent (the request path's rule for writes), and it cannot be resumed either.
        let err = client
            .chat()
            .stream(prompt())
            .open()
            .await
            .expect_err("a write is not re-sent after a 503");
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
        assert_eq!(mock.received(CHAT).len(), 1);
        assert!(clock.sleeps().is_empty());

        // A GET is: max_retries bounds the retries of each open.
        let (mock, client, clock) = setup(vec![run_fixture(sse(&[])).with_sequence(vec![
            FixtureResponse::json(503, serde_json::json!({"message": "busy"})),
            FixtureResponse::json(503, serde_json::json!({"message": "busy"})),
            sse(&[&finished("e_1")]),
        ])])
        .await;
        let stream = client
            .runs()
            .events("r_1")
            .reconnect(false)
            .max_retries(2)
            .open()
            .await
            .expect("opens on the third attempt");
        assert_eq!(stream.count().await, 1);
        assert_eq!(mock.received(RUN).len(), 3);
        assert_eq!(clock.sleeps().len(), 2);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// The map in the operation table, and BimpeAI's map.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_table_carries_each_event_map() {
    let chat_stream = chat::PLATFORM
        .operation(CHAT)
        .and_then(|op| op.stream)
        .expect("a stream");
    assert_eq!(chat_stream.type_member, Some("type"));
    assert_eq!(chat_stream.heartbeat, ["ping"]);
    assert_eq!(chat_stream.terminal_data, ["[DONE]"]);
    assert!(chat_stream.terminal.is_empty());
    assert_eq!(chat_stream.non_json, NonJson::Error);
    assert_eq!(chat_stream.schema_of("text_delta"), Some("TextDelta"));
    assert_eq!(chat_stream.resume, None);

    let run = chat::PLATFORM
        .operation(RUN)
        .and_then(|op| op.stream)
        .expect("a stream");
    assert_eq!(run.terminal, ["RUN_FINISHED"]);
    assert_eq!(run.non_json, NonJson::Raw);
    assert_eq!(
        run.resume,
        Some(agentwire::StreamResume::Header("Last-Event-ID"))
    );

    let bimpeai = agentwire::bimpeai::PLATFORM
        .operation("conversations.messages.stream")
        .and_then(|op| op.stream)
        .expect("a stream");
    assert_eq!(bimpeai.type_member, None, "BimpeAI names its events");
    assert_eq!(bimpeai.schema_of("message"), Some("StreamMessageEvent"));
    assert_eq!(bimpeai.non_json, NonJson::Raw);
    assert!(
        !bimpeai.ends_with_marker(),
        "BimpeAI streams have no end marker"
    );
}

mod bimpeai_map {
    use super::*;
    use agentwire::bimpeai::{Client, ConversationEvent, PLATFORM};

    const STREAM: &str = "conversations.messages.stream";

    #[tokio::test]
    async fn names_decide_non_json_unknown_events_are_kept_and_heartbeats_consumed_whatever_their_data()
     {
        within(async {
            let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
            mock.register(Fixture::new(
                STREAM,
                "GET",
                "/agents/a_1/conversations/cv_1/stream",
                sse(&[
                    "event: heartbeat\ndata: not json either\n\n",
                    "event: typing\ndata: ada is typing\n\n",
                    "id: m_1\nevent: message\ndata: not a message\n\n",
                    // A `type` member means nothing on a map without `type-member`.
                    "event: typing\ndata: {\"type\":\"message\"}\n\n",
                ])
                .end("close"),
            ));
            let client = Client::builder()
                .api_key("sk_test")
                .base_url(mock.base_url())
                .build()
                .expect("client");
            let mut stream = client
                .conversations()
                .messages()
                .stream("a_1", "cv_1")
                .reconnect(false)
                .open()
                .await
                .expect("opens");
            match next_ok(&mut stream).await {
                ConversationEvent::Other(raw) => {
                    assert_eq!(raw.name(), "typing");
                    assert_eq!(raw.data, "ada is typing");
                }
                other => panic!("expected the raw unknown event, got {other:?}"),
            }
            let err = next_err(&mut stream).await;
            assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
            assert!(err.message().contains("`message`"), "{err}");
            assert!(err.message().contains("StreamMessageEvent"), "{err}");
            assert!(matches!(
                next_ok(&mut stream).await,
                ConversationEvent::Other(raw) if raw.name() == "typing"
            ));
            assert!(
                stream.next().await.is_none(),
                "no end marker: a close ends it"
            );
        })
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// The contract checks read recorded streams by the same map.
// ---------------------------------------------------------------------------------------------

fn fragment_contract() -> Contract {
    let file = "tests/specs/chat.yaml";
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
        .expect("the fragment is readable");
    Contract::new("testkit::chat", file, &text).expect("the fragment is a valid spec")
}

fn recorded(op: &str, method: &str, path: &str, blocks: &[&str]) -> Fixture {
    let mut fixture = Fixture::new(op, method, path, sse(blocks));
    if op == CHAT {
        fixture = fixture.with_body(serde_json::json!({"prompt": "hello"}));
    }
    fixture
}

#[test]
fn the_contract_checks_each_event_by_its_type_member() {
    let contract = fragment_contract();
    let good = [
        recorded(
            CHAT,
            "POST",
            "/chat",
            &[
                &delta("a"),
                PING,
                &data(r#"{"type":"finish","full_text":"a"}"#),
                DONE,
            ],
        ),
        recorded(
            RUN,
            "GET",
            "/runs/r_1/events",
            &[&started(), &finished("e_2")],
        ),
    ];
    for fixture in &good {
        let failures = contract.check_fixture(fixture);
        assert!(failures.is_empty(), "{failures:?}");
    }

    // A type the map does not declare is kept by the runtime (`Other`), so a fixture may hold
    // one where events go by a type member (platforms document some of their types only).
    let undeclared = recorded(
        CHAT,
        "POST",
        "/chat",
        &[&data(r#"{"type":"tool_call"}"#), DONE],
    );
    let failures = contract.check_fixture(&undeclared);
    assert!(failures.is_empty(), "{failures:?}");

    let cases = [
        (data(r#"{"type":"finish","full_text":7}"#), "full_text"),
        (
            "data: {\"type\": \"text_delta\"\n\n".to_string(),
            "not declared",
        ),
    ];
    for (block, expected) in cases {
        let fixture = recorded(CHAT, "POST", "/chat", &[&block, DONE]);
        let failures = contract.check_fixture(&fixture);
        assert!(
            failures.iter().any(|f| f.to_string().contains(expected)),
            "{block:?} should fail with {expected:?}: {failures:?}"
        );
    }
}
