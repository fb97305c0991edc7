//! The shapes Wisebot and SketricGen bring, on a spec fragment (`tests/specs/runs.yaml`): one
//! request answering JSON or an event stream by a body flag (the JSON-or-stream kind), and the
//! spec's range, length and pattern rules checked before any request.

use std::future::Future;
use std::time::Duration;

#[path = "support/child.rs"]
mod child;

use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use agentwire::prelude::*;
use agentwire::testkit::runs::{Client, PLATFORM, RunEvent, types};
use agentwire::{ErrorKind, ResponseKind};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

/// Every test ends well within this, or fails (a stall must end, not hang CI).
async fn within<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the test finished in time");
}

async fn setup(fixtures: Vec<Fixture>) -> (MockServer, Client) {
    let mock = MockServer::start_with(&PLATFORM, fixtures, 0)
        .await
        .expect("mock starts");
    let client = mock
        .client_builder::<Client>()
        .api_key("k")
        .build()
        .expect("client");
    (mock, client)
}

fn run_request(body: Value) -> types::RunRequest {
    serde_json::from_value(body).expect("a RunRequest")
}

fn data(json: &str) -> String {
    format!("data: {json}\n\n")
}

fn run_fixtures(stream_end: &str) -> Vec<Fixture> {
    let events = vec![
        data(r#"{"type":"RUN_STARTED","run_id":"r_1"}"#),
        data(r#"{"type":"TEXT_MESSAGE_CONTENT","delta":"Hel"}"#),
        data(r#"{"type":"TOOL_CALL_START","tool_call_id":"t"}"#),
        data(r#"{"type":"TEXT_MESSAGE_CONTENT","delta":"lo"}"#),
    ];
    let mut all = events.clone();
    if stream_end == "close" {
        all.push(data(r#"{"type":"RUN_FINISHED","run_id":"r_1"}"#));
    }
    vec![
        Fixture::new(
            "runs.start",
            "POST",
            "/runs",
            FixtureResponse::json(201, json!({"run_id": "r_1", "response": "Hello"})),
        ),
        Fixture::new(
            "runs.start",
            "POST",
            "/runs",
            FixtureResponse::sse(all).end(stream_end),
        )
        .with_body(json!({"stream": true})),
    ]
}

#[test]
fn the_table_says_json_or_stream_and_names_the_flag() {
    let op = PLATFORM.operation("runs.start").expect("runs.start");
    assert_eq!(op.response, ResponseKind::JsonOrStream);
    assert_eq!(op.success_status, 201, "the JSON answer's status");
    assert_eq!(op.stream.and_then(|s| s.body_flag), Some("stream"));
}

#[tokio::test]
async fn send_asks_for_json_whatever_the_body_says() {
    within(async {
        let (mock, client) = setup(run_fixtures("close")).await;
        // The caller's body asks for a stream; send() is the JSON call, so it sends `false`.
        let run = client
            .runs()
            .start(run_request(json!({"agent_id": "a_1", "stream": true})))
            .await
            .expect("the JSON result");
        assert_eq!(run.run_id, "r_1");
        assert_eq!(run.response, "Hello");
        let sent = mock.received("runs.start");
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].json(),
            Some(json!({"agent_id": "a_1", "stream": false}))
        );
    })
    .await;
}

#[tokio::test]
async fn stream_asks_for_events_and_ends_at_the_terminal_event() {
    within(async {
        let (mock, client) = setup(run_fixtures("close")).await;
        let mut events = client
            .runs()
            .start(run_request(json!({"agent_id": "a_1"})))
            .stream()
            .idle_timeout(Duration::from_secs(5))
            .await
            .expect("the stream opens");
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(event.expect("no error"));
        }
        let deltas: String = seen
            .iter()
            .filter_map(|e| e.as_text_message_content().map(|c| c.delta.as_str()))
            .collect();
        assert_eq!(deltas, "Hello");
        assert!(matches!(seen.first(), Some(RunEvent::RunStarted(_))));
        assert!(
            seen.iter()
                .any(|e| matches!(e, RunEvent::Other(o) if o.data.contains("TOOL_CALL_START"))),
            "an undeclared type is kept: {seen:?}"
        );
        assert!(matches!(seen.last(), Some(RunEvent::RunFinished(_))));
        let sent = mock.received("runs.start");
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].json(),
            Some(json!({"agent_id": "a_1", "stream": true}))
        );
        assert_eq!(sent[0].header("accept"), Some("text/event-stream"));
    })
    .await;
}

#[tokio::test]
async fn a_stream_cut_before_its_terminal_event_is_an_error_and_never_re_posted() {
    within(async {
        let (mock, client) = setup(run_fixtures("drop")).await;
        let mut events = client
            .runs()
            .start(run_request(json!({"agent_id": "a_1"})))
            .stream()
            .await
            .expect("the stream opens");
        let mut last = None;
        while let Some(event) = events.next().await {
            last = Some(event);
        }
        let error = last.expect("something").expect_err("the cut is an error");
        assert!(
            matches!(error.kind(), ErrorKind::Stream | ErrorKind::Connection),
            "{error}"
        );
        assert_eq!(
            mock.received("runs.start").len(),
            1,
            "a run is never re-posted"
        );
    })
    .await;
}

// ------------------------------------------------------------------------------------- checks

fn activity_fixture() -> Fixture {
    Fixture::new(
        "activity.list",
        "GET",
        "/activity",
        FixtureResponse::json(200, json!([{"id": "e_1"}])),
    )
}

#[tokio::test]
async fn a_query_value_out_of_range_is_refused_before_any_request() {
    within(async {
        let (mock, client) = setup(vec![activity_fixture()]).await;
        for limit in [0, 51, -3] {
            let error = client
                .activity()
                .list()
                .limit(limit)
                .await
                .expect_err("out of range");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            let message = error.to_string();
            assert!(
                message.contains("`limit` must be between 1 and 50")
                    && message.contains(&format!("got {limit}")),
                "{message}"
            );
        }
        let error = client.activity().list().since("").await.expect_err("empty");
        assert!(
            error.to_string().contains("`since` must not be empty"),
            "{error}"
        );
        assert!(
            mock.received("activity.list").is_empty(),
            "the server saw nothing"
        );
        for limit in [1, 15, 50] {
            client
                .activity()
                .list()
                .limit(limit)
                .await
                .expect("in range");
        }
        assert_eq!(mock.received("activity.list").len(), 3);
    })
    .await;
}

#[tokio::test]
async fn body_rules_are_checked_at_every_depth_before_any_request() {
    within(async {
        let (mock, client) = setup(run_fixtures("close")).await;
        let cases = [
            (json!({"agent_id": ""}), "`agent_id` must not be empty (got 0 characters)"),
            (json!({"agent_id": " \t "}), "`agent_id` must not be blank"),
            // Eleven characters, twenty-two bytes: lengths count characters.
            (
                json!({"agent_id": "a", "input": "ééééééééééé"}),
                "`input` must be at most 10 characters (got 11 characters)",
            ),
            (
                json!({"agent_id": "a", "tags": ["x", "y", "z"]}),
                "`tags` must have at most 2 items (got 3 items)",
            ),
            (
                json!({"agent_id": "a", "tags": ["x", ""]}),
                "`tags[1]` must not be empty",
            ),
            (
                json!({"agent_id": "a", "resume": {"request_id": "h", "decisions": []}}),
                "`resume.decisions` must have at least 1 item (got 0 items)",
            ),
            (
                json!({"agent_id": "a", "resume": {"request_id": "h", "decisions": [{"message": "ok"}, {"message": "too long"}]}}),
                "`resume.decisions[1].message` must be at most 5 characters",
            ),
        ];
        for (body, expected) in cases {
            let error = client
                .runs()
                .start(run_request(body.clone()))
                .await
                .expect_err("refused");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            assert!(error.to_string().contains(expected), "{body}: {error}");
            // The stream is refused the same way, before connecting.
            let error = client
                .runs()
                .start(run_request(body.clone()))
                .stream()
                .await
                .expect_err("refused");
            assert!(error.to_string().contains(expected), "{body}: {error}");
        }
        assert!(mock.received("runs.start").is_empty(), "the server saw nothing");
        // Ten characters are fine.
        client
            .runs()
            .start(run_request(json!({"agent_id": "a", "input": "éééééééééé", "tags": ["x", "y"]})))
            .await
            .expect("within the rules");
    })
    .await;
}

// ------------------------------------------------------------------- absolute URLs, outcomes

#[tokio::test]
async fn a_presigned_upload_goes_to_the_answered_url_fields_first_without_credentials() {
    within(async {
        let (mock, client) = setup(vec![
            Fixture::new(
                "uploads.init",
                "POST",
                "/uploads/init",
                FixtureResponse::json(
                    200,
                    json!({
                        "url": "{mock_base:uploads}/bucket",
                        "fields": {"key": "u/1.pdf", "policy": "p0", "Content-Type": "application/pdf"}
                    }),
                ),
            ),
            Fixture::new(
                "uploads.send",
                "POST",
                "/bucket",
                {
                    let mut stored = FixtureResponse::json(204, json!(null));
                    stored.body = None;
                    stored
                },
            ),
        ])
        .await;
        let ticket = client.uploads().init().await.expect("a ticket");
        assert!(
            ticket.url.starts_with("http://127.0.0.1:") && ticket.url.ends_with("/_hosts/uploads/bucket"),
            "the mock hands out its own URL: {}",
            ticket.url
        );
        let mut call = client
            .uploads()
            .send(&ticket.url, agentwire::Upload::bytes("r.pdf", &b"%PDF-1.4"[..]));
        for (name, value) in &ticket.fields {
            call = call.form_field(name, value);
        }
        call.await.expect("stored");

        let sent = mock.received("uploads.send");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].header("authorization"), None, "no credential follows the URL");
        let names: Vec<&str> = sent[0].form.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.last(), Some(&"file"), "the file goes last: {names:?}");
        assert_eq!(names.len(), 4, "{names:?}");

        for bad in ["ftp://127.0.0.1/x", "/relative", "http://user:pw@127.0.0.1/x"] {
            let error = client
                .uploads()
                .send(bad, agentwire::Upload::bytes("r.pdf", &b"%PDF"[..]))
                .await
                .expect_err("refused");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}: {error}");
        }
        assert_eq!(mock.received("uploads.send").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_success_reporting_a_failure_is_a_task_error_with_the_run_id() {
    within(async {
        let (_mock, client) = setup(vec![
            Fixture::new(
                "flows.run",
                "POST",
                "/flows/f_bad",
                FixtureResponse::json(
                    200,
                    json!({"ok": false, "runId": "run_9", "error": "step 2 failed"}),
                ),
            ),
            Fixture::new(
                "flows.run",
                "POST",
                "/flows/f_ok",
                FixtureResponse::json(
                    200,
                    json!({"ok": true, "runId": "run_8", "result": {"n": 1}, "error": null}),
                ),
            ),
        ])
        .await;
        let error = client
            .flows()
            .run("f_bad")
            .await
            .expect_err("the run failed");
        assert_eq!(error.kind(), ErrorKind::Task);
        assert!(error.task_failed());
        assert_eq!(error.task_id(), Some("run_9"));
        assert!(error.to_string().contains("step 2 failed"), "{error}");
        let run = client.flows().run("f_ok").await.expect("the run");
        assert_eq!(run.run_id.as_deref(), Some("run_8"));
    })
    .await;
}

// ---------------------------------------------------------------- settings and credentials

#[tokio::test]
async fn a_401_on_an_operation_taking_fewer_credentials_says_which_it_takes() {
    within(async {
        let (_mock, client) = setup(vec![Fixture::new(
            "flows.run",
            "POST",
            "/flows/f_1",
            FixtureResponse::json(
                401,
                json!({"message": "a dashboard token is not accepted here"}),
            ),
        )])
        .await;
        let error = client.flows().run("f_1").await.expect_err("401");
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert!(
            error
                .to_string()
                .contains("flows.run takes `api_key` (RUNS_API_KEY) only"),
            "{error}"
        );
    })
    .await;
}

#[test]
fn the_platform_defaults_apply_unless_the_builder_sets_them() {
    let client = Client::builder().api_key("k").build().expect("client");
    let shown = format!("{client:?}");
    assert!(shown.contains("timeout: 300s"), "{shown}");
    assert!(shown.contains("upload_timeout: 200s"), "{shown}");
    assert!(shown.contains("max_retries: 3"), "{shown}");
    let client = Client::builder()
        .api_key("k")
        .timeout(Duration::from_secs(5))
        .max_retries(0)
        .build()
        .expect("client");
    let shown = format!("{client:?}");
    assert!(
        shown.contains("timeout: 5s") && shown.contains("max_retries: 0"),
        "{shown}"
    );
}

/// Runs only in the child process `from_env_reads_the_settings_and_names_a_bad_one` starts,
/// with the environment set (the parent never changes its own environment).
#[test]
#[ignore = "run by from_env_reads_the_settings_and_names_a_bad_one in a child process"]
fn settings_child() {
    match Client::from_env() {
        Ok(client) => println!("CLIENT {client:?}"),
        Err(e) => println!("ERROR {e}"),
    }
}

fn settings_from(vars: &[(&str, &str)]) -> String {
    let clear = [
        "RUNS_API_KEY",
        "RUNS_TIMEOUT",
        "RUNS_UPLOAD_TIMEOUT",
        "RUNS_MAX_RETRIES",
    ];
    child::run_child("settings_child", &clear, vars)
}

#[test]
fn from_env_reads_the_settings_and_names_a_bad_one() {
    let shown = settings_from(&[
        ("RUNS_API_KEY", "k"),
        ("RUNS_TIMEOUT", "12.5"),
        ("RUNS_UPLOAD_TIMEOUT", "600"),
        ("RUNS_MAX_RETRIES", "0"),
    ]);
    assert!(shown.contains("CLIENT"), "{shown}");
    assert!(shown.contains("timeout: 12.5s"), "{shown}");
    assert!(shown.contains("upload_timeout: 600s"), "{shown}");
    assert!(shown.contains("max_retries: 0"), "{shown}");
    assert!(
        !shown.contains("RUNS_API_KEY=k") && !shown.contains("\"k\""),
        "no secret shown: {shown}"
    );

    let shown = settings_from(&[]);
    assert!(
        shown.contains("ERROR") && shown.contains("RUNS_API_KEY"),
        "{shown}"
    );
    for (name, value) in [
        ("RUNS_TIMEOUT", "soon"),
        ("RUNS_TIMEOUT", "0"),
        ("RUNS_UPLOAD_TIMEOUT", "-1"),
        ("RUNS_MAX_RETRIES", "three"),
        ("RUNS_MAX_RETRIES", "-1"),
    ] {
        let shown = settings_from(&[("RUNS_API_KEY", "k"), (name, value)]);
        assert!(
            shown.contains("ERROR") && shown.contains(name) && shown.contains(value),
            "{name}={value}: {shown}"
        );
    }
}

#[tokio::test]
async fn the_upload_timeout_bounds_uploads_and_only_them() {
    within(async {
        let slow = |mut r: FixtureResponse| {
            r.delay_ms = Some(600);
            r
        };
        let mock = MockServer::start_with(
            &PLATFORM,
            vec![
                Fixture::new(
                    "uploads.init",
                    "POST",
                    "/uploads/init",
                    slow(FixtureResponse::json(
                        200,
                        json!({"url": "{mock_base:uploads}/bucket", "fields": {}}),
                    )),
                ),
                Fixture::new(
                    "uploads.send",
                    "POST",
                    "/bucket",
                    slow(FixtureResponse::json(201, json!({}))),
                ),
            ],
            0,
        )
        .await
        .expect("mock starts");
        let client = mock
            .client_builder::<Client>()
            .api_key("k")
            .timeout(Duration::from_secs(10))
            .upload_timeout(Duration::from_millis(150))
            .max_retries(0)
            .build()
            .expect("client");
        let ticket = client
            .uploads()
            .init()
            .await
            .expect("a JSON call has the timeout");
        let error = client
            .uploads()
            .send(&ticket.url, agentwire::Upload::bytes("a.txt", &b"a"[..]))
            .await
            .expect_err("the upload timed out");
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    })
    .await;
}

/// One plain HTTP/1.1 request to the mock, as a client in another language sends it (no
/// agentwire checks in between); the status line and body.
async fn plain(mock: &MockServer, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = mock.base_url().trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    socket.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn the_mock_refuses_what_the_rules_refuse_with_field_errors() {
    within(async {
        let (mock, _client) = setup(vec![activity_fixture()]).await;
        let path = format!("{}/activity?limit=500", mock.platform_url());
        let path = path.trim_start_matches(&mock.base_url()).to_owned();
        let answer = plain(
            &mock,
            format!("GET {path} HTTP/1.1\r\nhost: mock\r\nauthorization: Bearer k\r\nconnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("limit: must be between 1 and 50 (got 500)"), "{answer}");

        let body = r#"{"agent_id":"  "}"#;
        let path = format!("{}/runs", mock.platform_url());
        let path = path.trim_start_matches(&mock.base_url()).to_owned();
        let answer = plain(
            &mock,
            format!(
                "POST {path} HTTP/1.1\r\nhost: mock\r\nauthorization: Bearer k\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("agent_id: must not be blank"), "{answer}");
    })
    .await;
}

#[tokio::test]
async fn a_list_answering_offsets_and_cursors_follows_the_cursor_when_there_is_one() {
    within(async {
        let page = |ids: &[&str], more: bool, cursor: Option<&str>, offset: u64| {
            let data: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
            let mut pagination = json!({"total": 7, "limit": 2, "offset": offset, "hasMore": more});
            if let Some(c) = cursor {
                pagination["nextCursor"] = json!(c);
            }
            FixtureResponse::json(200, json!({"data": data, "pagination": pagination}))
        };
        let fixture = |query: &[(&str, &str)], answer| {
            let mut f = Fixture::new("messages.list", "GET", "/messages", answer);
            for (k, v) in query {
                f.request.query.insert((*k).to_owned(), (*v).to_owned());
            }
            f
        };
        let (mock, client) = setup(vec![
            // Page 1 has no cursor: the offset moves on. Page 2 has one: it is followed (and the
            // offset dropped). Page 3 says no more, with a cursor anyway: the list ends.
            fixture(&[], page(&["m1", "m2"], true, None, 0)),
            fixture(
                &[("offset", "2")],
                page(&["m3", "m4"], true, Some("c_3"), 2),
            ),
            fixture(
                &[("cursor", "c_3")],
                page(&["m5"], false, Some("c_ignored"), 4),
            ),
        ])
        .await;
        let ids: Vec<String> = client
            .messages()
            .list()
            .limit(2)
            .paginate()
            .items()
            .map(|r| r.map(|a| a.id))
            .try_collect()
            .await
            .expect("every page");
        assert_eq!(ids, ["m1", "m2", "m3", "m4", "m5"]);
        let sent = mock.received("messages.list");
        assert_eq!(sent.len(), 3);
        let query = |i: usize, name: &str| {
            sent[i]
                .query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(query(1, "offset").as_deref(), Some("2"));
        assert_eq!(query(2, "cursor").as_deref(), Some("c_3"));
        assert_eq!(query(2, "offset"), None, "the cursor replaces the offset");
    })
    .await;
}

#[tokio::test]
async fn a_key_in_the_body_makes_a_write_safe_to_re_send_with_the_same_key() {
    within(async {
        let sent = |status| FixtureResponse::json(status, json!({"id": "s_1"}));
        let (mock, client) = setup(vec![
            Fixture::new("sends.create", "POST", "/sends", sent(201))
                .with_sequence(vec![sent(503), sent(201)]),
        ])
        .await;
        let client = {
            let _ = client;
            mock.client_builder::<Client>()
                .api_key("k")
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .build()
                .expect("client")
        };
        let body = |v: Value| -> types::SendRequest { serde_json::from_value(v).expect("a body") };
        client
            .sends()
            .create(body(json!({"text": "hi", "metadata": {"source": "test"}})))
            .await
            .expect("re-sent after the 503");
        let seen = mock.received("sends.create");
        assert_eq!(seen.len(), 2, "the write was re-sent");
        let key = |i: usize| {
            seen[i]
                .json()
                .and_then(|b| b.pointer("/metadata/idempotency_key").cloned())
        };
        assert!(key(0).is_some_and(|k| k.as_str().is_some_and(|k| !k.is_empty())));
        assert_eq!(key(0), key(1), "the same key on every attempt");
        assert_eq!(
            seen[0]
                .json()
                .and_then(|b| b.pointer("/metadata/source").cloned()),
            Some(json!("test")),
            "the caller's metadata kept"
        );

        // The caller's key wins: the per-call option, or one already in the body.
        mock.reset();
        client
            .sends()
            .create(body(json!({"text": "hi"})))
            .idempotency_key("mine")
            .await
            .expect("sent");
        let seen = mock.received("sends.create");
        assert_eq!(
            seen.last()
                .and_then(|r| r.json())
                .and_then(|b| b.pointer("/metadata/idempotency_key").cloned()),
            Some(json!("mine"))
        );
    })
    .await;
}
