//! Operation kinds beyond BimpeAI's, on a spec fragment (`tests/specs/kinds.yaml`): text and
//! bytes answers, an optional result whose documented 404 is `None`, a write the platform does
//! not deduplicate (sent once, whatever happens after it may have arrived), and the kinds the
//! spec declares for operations built by hand, in the table.

use std::sync::Arc;
use std::time::Duration;

use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock};
use agentwire::prelude::*;
use agentwire::testkit::kinds::{Client, PLATFORM, types};
use agentwire::{ErrorKind, RequestKind, ResponseKind};
use serde_json::json;

fn text(status: u16, content_type: &str, body: &str) -> FixtureResponse {
    let mut r = FixtureResponse::json(status, json!(null)).header("content-type", content_type);
    r.body = None;
    r.text = Some(body.to_owned());
    r
}

async fn setup(fixtures: Vec<Fixture>) -> (MockServer, Client, Arc<RecordingClock>) {
    let mock = MockServer::start_with(&PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let clock = Arc::new(RecordingClock::new());
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .clock(clock.clone())
        .build()
        .expect("client");
    (mock, client, clock)
}

#[tokio::test]
async fn a_text_answer_is_a_string_and_bytes_are_bytes() {
    let (mock, client, _) = setup(vec![
        Fixture::new(
            "widget.script",
            "GET",
            "/widget.js",
            text(
                200,
                "application/javascript; charset=utf-8",
                "window.w = 1;",
            ),
        ),
        Fixture::new(
            "exports.download",
            "GET",
            "/exports/e_1",
            text(200, "application/octet-stream", "PK\u{3}\u{4}rest"),
        ),
    ])
    .await;
    let script: String = client.widget().script().await.expect("the script");
    assert_eq!(script, "window.w = 1;");
    let with = client
        .widget()
        .script()
        .send_with_response()
        .await
        .expect("with headers");
    assert_eq!(
        with.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/javascript; charset=utf-8"),
        "the content type comes with it"
    );
    assert_eq!(
        mock.received("widget.script")[0].header("accept"),
        Some("*/*"),
        "not application/json"
    );
    let file: bytes::Bytes = client.exports().download("e_1").await.expect("the file");
    assert_eq!(&file[..], b"PK\x03\x04rest");
}

#[tokio::test]
async fn a_text_operation_answered_with_json_is_not_read_as_text() {
    let (_mock, client, _) = setup(vec![Fixture::new(
        "widget.script",
        "GET",
        "/widget.js",
        FixtureResponse::json(200, json!({"not": "a script"})).header("content-type", "image/png"),
    )])
    .await;
    let err = client.widget().script().await.expect_err("an image");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("image/png"), "{err}");
}

#[tokio::test]
async fn an_optional_result_is_none_on_its_documented_404() {
    let (_mock, client, _) = setup(vec![
        Fixture::new(
            "sessions.resume",
            "GET",
            "/sessions/s_1",
            FixtureResponse::json(200, json!({"id": "s_1"})),
        ),
        Fixture::new(
            "sessions.resume",
            "GET",
            "/sessions/s_gone",
            FixtureResponse::json(404, json!({"message": "no such session"}))
                .header("x-request-id", "req_gone"),
        ),
        Fixture::new(
            "sessions.resume",
            "GET",
            "/sessions/s_broken",
            FixtureResponse::json(500, json!({"message": "boom"})),
        ),
    ])
    .await;
    let found: Option<types::Session> = client.sessions().resume("s_1").await.expect("found");
    assert_eq!(found.map(|s| s.id).as_deref(), Some("s_1"));
    let gone = client
        .sessions()
        .resume("s_gone")
        .send_with_response()
        .await
        .expect("none is not an error");
    assert!(gone.value().is_none());
    assert_eq!(gone.status().as_u16(), 404);
    assert_eq!(gone.request_id(), Some("req_gone"));
    let err = client
        .sessions()
        .resume("s_broken")
        .max_retries(0)
        .await
        .expect_err("a 500 stays an error");
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn a_write_that_is_not_retry_safe_is_sent_once_and_may_have_been_applied() {
    // A 500 after the request arrived.
    let (mock, client, clock) = setup(vec![
        Fixture::new(
            "notes.create",
            "POST",
            "/notes",
            FixtureResponse::json(201, json!({})),
        )
        .with_sequence(vec![
            FixtureResponse::json(500, json!({"message": "boom"})),
            FixtureResponse::json(201, json!({"id": "n_1", "text": "hi"})),
        ]),
    ])
    .await;
    let body = types::NoteCreate { text: "hi".into() };
    let err = client
        .notes()
        .create(body.clone())
        .await
        .expect_err("not re-sent");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.may_have_been_applied(), "{err:?}");
    assert_eq!(mock.received("notes.create").len(), 1, "sent exactly once");
    assert!(clock.sleeps().is_empty());
    assert_eq!(
        mock.received("notes.create")[0].header("idempotency-key"),
        None,
        "the platform takes no idempotency key"
    );

    // A timeout after sending: the same.
    let (mock, client, _) = setup(vec![Fixture::new(
        "notes.create",
        "POST",
        "/notes",
        FixtureResponse::json(201, json!({"id": "n_1"})).delay_ms(5_000),
    )])
    .await;
    let err = client
        .notes()
        .create(body)
        .timeout(Duration::from_millis(100))
        .await
        .expect_err("timed out");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.may_have_been_applied());
    assert_eq!(mock.received("notes.create").len(), 1, "sent exactly once");
}

#[test]
fn every_operation_carries_its_kinds_in_the_table() {
    let kind = |id: &str| {
        let op = PLATFORM.operation(id).expect("in the table");
        (op.request, op.response)
    };
    assert_eq!(
        kind("widget.script"),
        (RequestKind::None, ResponseKind::Text)
    );
    assert_eq!(
        kind("exports.download"),
        (RequestKind::None, ResponseKind::Bytes)
    );
    assert_eq!(
        kind("sessions.resume"),
        (RequestKind::None, ResponseKind::Optional)
    );
    assert_eq!(
        kind("notes.create"),
        (RequestKind::Json, ResponseKind::Json)
    );
    // Declared in the spec, built by hand (no generated builder): JSON or multipart, a task.
    assert_eq!(
        kind("documents.upload"),
        (RequestKind::JsonOrMultipart, ResponseKind::Task)
    );
    let bimpeai = agentwire::bimpeai::PLATFORM
        .operation("conversations.messages.stream")
        .expect("the stream");
    assert_eq!(bimpeai.response, ResponseKind::EventStream);
    let list = agentwire::bimpeai::PLATFORM
        .operation("agents.list")
        .expect("a list");
    assert_eq!(list.response, ResponseKind::Paged);
    let delete = agentwire::bimpeai::PLATFORM
        .operation("agents.delete")
        .expect("a delete");
    assert_eq!(delete.response, ResponseKind::Empty);
}
