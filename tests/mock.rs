//! The mock as a client in any language meets it: the three answers (the matching fixture, the
//! default success fixture for a valid request, a 400 in BimpeAI's format for an invalid one),
//! strict mode, unknown routes, credentials, resumable streams that stay open, the index, the
//! journal's bounds and unreadable bodies. Loopback only: every server here is one the test
//! starts.

#![cfg(feature = "bimpeai")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use agentwire::bimpeai::{Client, PLATFORM, types};
use agentwire::mock::{
    Answer, Fixture, FixtureResponse, JournalLimits, MockServer, RecordingClock,
};
use agentwire::{ErrorKind, FieldError, StreamResume};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PREFIX: &str = "/api/v1/console";

/// Every test body runs under this bound, so a stream that never ends fails instead of hanging.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the test finished within 60 s")
}

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .api_key("sk_test")
        .base_url(mock.base_url())
        .clock(Arc::new(RecordingClock::new()))
        .build()
        .expect("the client builds")
}

fn http() -> reqwest::Client {
    common::plain_http()
}

/// Status, `x-agentwire-mock` header and JSON body of a plain request.
async fn send(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let response = request.send().await.expect("the mock answers");
    let status = response.status().as_u16();
    let tag = response
        .headers()
        .get("x-agentwire-mock")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, tag, body)
}

fn last_answer(mock: &MockServer) -> Answer {
    mock.journal()
        .last()
        .expect("a journalled request")
        .answer
        .clone()
}

fn default_of(op: &str) -> Answer {
    Answer::Default {
        file: format!("{op}.json"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The three answers.
// ---------------------------------------------------------------------------------------------

/// The eight calls BimpeAI's published Python client makes with only the documented required
/// members (or one optional member), which no fixture names exactly: each gets its operation's
/// default success fixture instead of a 404.
#[tokio::test]
async fn the_python_clients_minimal_calls_get_their_default_fixtures() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let client = client(&mock);
        let expect = |op: &str, body: Value| {
            let r = mock.journal().pop().expect("journalled");
            assert_eq!(r.operation.as_deref(), Some(op));
            assert_eq!(r.answer, default_of(op), "{op}");
            assert_eq!(r.json(), Some(body), "{op}: the body sent");
        };

        let agent = client
            .agents()
            .create(
                types::AgentCreate::builder()
                    .workflow_id("wf_1")
                    .name("Support")
                    .description("Answers FAQs"),
            )
            .send()
            .await
            .expect("agents.create");
        assert_eq!(agent.id, "a_1");
        expect(
            "agents.create",
            json!({"workflow_id": "wf_1", "name": "Support", "description": "Answers FAQs"}),
        );

        let updated = client
            .agents()
            .update(
                "a_1",
                types::AgentUpdate::builder().description(Some("New words".into())),
            )
            .send()
            .await
            .expect("agents.update");
        assert_eq!(updated.id, "a_1");
        expect("agents.update", json!({"description": "New words"}));

        let status = client
            .agents()
            .update_live_status(
                "a_1",
                types::LiveStatusUpdate::builder().status(types::AgentStatus::Paused),
            )
            .send()
            .await
            .expect("agents.update_live_status");
        assert_eq!(
            status.status,
            types::AgentStatus::Paused,
            "the default answer, fitted to the request's body"
        );
        expect("agents.update_live_status", json!({"status": "paused"}));

        let ids = || types::ActionIds {
            action_ids: vec!["ac_9".into()],
        };
        let enabled = client
            .agents()
            .actions()
            .enable("a_1", ids())
            .send()
            .await
            .expect("agents.actions.enable");
        assert_eq!(enabled.updated_count, 2);
        expect("agents.actions.enable", json!({"action_ids": ["ac_9"]}));
        client
            .agents()
            .actions()
            .disable("a_1", ids())
            .send()
            .await
            .expect("agents.actions.disable");
        expect("agents.actions.disable", json!({"action_ids": ["ac_9"]}));

        let kb = client
            .agents()
            .knowledge_bases()
            .update(
                "a_1",
                "k_1",
                types::KnowledgeBaseUpdate::builder().name(Some("FAQ v2".into())),
            )
            .send()
            .await
            .expect("agents.knowledge_bases.update");
        assert_eq!(kb.id, "k_1");
        expect("agents.knowledge_bases.update", json!({"name": "FAQ v2"}));

        let workflow = client
            .workflows()
            .create(
                types::WorkflowCreate::builder()
                    .name("Triage")
                    .system_prompt("You triage."),
            )
            .send()
            .await
            .expect("workflows.create");
        assert_eq!(workflow.id, "w_1");
        expect(
            "workflows.create",
            json!({"name": "Triage", "system_prompt": "You triage."}),
        );

        client
            .workflows()
            .update(
                "w_1",
                types::WorkflowUpdate::builder().name(Some("Renamed".into())),
            )
            .send()
            .await
            .expect("workflows.update");
        expect("workflows.update", json!({"name": "Renamed"}));
        assert_eq!(mock.journal().len(), 8);
    })
    .await;
}

#[tokio::test]
async fn a_matching_fixture_still_wins_over_the_default() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        // agents.create.validation.json names exactly this body, which the spec refuses (empty
        // name and workflow): its recorded 400 is the platform's own answer, served as recorded.
        let (status, tag, body) = send(
            http()
                .post(format!("{}/agents", mock.platform_url()))
                .bearer_auth("sk_test")
                .header("content-type", "application/json")
                .body(json!({"workflow_id": "", "name": "", "description": "no name"}).to_string()),
        )
        .await;
        assert_eq!((status, tag.as_str()), (400, "fixture"));
        assert_eq!(
            body["message"],
            json!(["name: must not be empty", "workflow_id: must not be empty"])
        );
        assert_eq!(
            last_answer(&mock),
            Answer::Fixture {
                file: "agents.create.validation.json".into()
            }
        );
        // Another invalid body no fixture names: the mock's own 400.
        let (status, tag, _) = send(
            http()
                .post(format!("{}/agents", mock.platform_url()))
                .bearer_auth("sk_test")
                .header("content-type", "application/json")
                .body(json!({"workflow_id": "", "name": "", "description": "other"}).to_string()),
        )
        .await;
        assert_eq!((status, tag.as_str()), (400, "invalid"));
    })
    .await;
}

/// A body the spec rejects: a 400 in BimpeAI's format that the client reads as Validation,
/// one field error per problem with its path.
#[tokio::test]
async fn an_invalid_body_is_a_validation_error_naming_each_field() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let client = client(&mock);
        let err = client
            .agents()
            .create(
                types::AgentCreate::builder()
                    .workflow_id("wf_1")
                    .name("Support")
                    .description("Answers FAQs")
                    .persona(types::Persona::from("pirate")),
            )
            .send()
            .await
            .expect_err("an unknown enum value");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
        assert_eq!(err.code(), Some("validation_error"));
        assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
        assert_eq!(
            err.field_errors(),
            &[FieldError {
                path: "persona".into(),
                message: "must be one of professional, friendly, concise (got \"pirate\")".into()
            }]
        );
        assert_eq!(
            err.headers()
                .and_then(|h| h.get("x-agentwire-mock"))
                .and_then(|v| v.to_str().ok()),
            Some("invalid")
        );

        let err = client
            .agents()
            .update_live_status(
                "a_1",
                types::LiveStatusUpdate::builder().status(types::AgentStatus::from("archived")),
            )
            .send()
            .await
            .expect_err("an unknown status");
        assert_eq!(
            err.field_errors(),
            [FieldError {
                path: "status".into(),
                message: "must be one of development, live, paused (got \"archived\")".into()
            }]
        );
        assert_eq!(
            last_answer(&mock),
            Answer::Invalid {
                field_errors: vec![
                    "status: must be one of development, live, paused (got \"archived\")".into()
                ]
            }
        );
    })
    .await;
}

/// The wire format, as any client sees it: missing members, wrong types and unknown members in
/// the body; wrong and undeclared query parameters.
#[tokio::test]
async fn invalid_requests_get_the_platforms_error_format() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let http = http();
        let url = mock.platform_url();
        let (status, tag, body) = send(
            http.post(format!("{url}/agents"))
                .bearer_auth("sk_test")
                .header("content-type", "application/json")
                .body(json!({"name": 5, "colour": "blue", "description": "d"}).to_string()),
        )
        .await;
        assert_eq!((status, tag.as_str()), (400, "invalid"));
        assert_eq!(
            body,
            json!({"message": [
                "workflow_id: is required",
                "colour: is not allowed (allowed: business_address, business_description, business_email, business_name, description, escalation_email, language, logo, name, persona, timezone, workflow_id)",
                "name: must be a string",
            ], "code": "validation_error", "request_id": "req_mock_1"})
        );

        let (status, _, body) = send(
            http.post(format!("{url}/agents"))
                .bearer_auth("sk_test")
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
        assert_eq!(status, 400);
        let first = body["message"][0].as_str().unwrap_or_default();
        assert!(first.starts_with("body: is not valid JSON"), "{body}");

        let (status, _, body) =
            send(http.post(format!("{url}/agents")).bearer_auth("sk_test")).await;
        assert_eq!(status, 400);
        assert_eq!(body["message"], json!(["body: is required"]));

        let (status, _, body) = send(
            http.get(format!("{url}/agents?page=two&colour=blue"))
                .bearer_auth("sk_test"),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["message"],
            json!([
                "page: must be an integer (got \"two\")",
                "colour: is not a query parameter of agents.list"
            ])
        );

        // A valid query no fixture names gets the default page, fitted: page 9 is past the
        // recorded pages, so it is an empty last page (a client looping on has-next stops).
        let (status, tag, body) = send(
            http.get(format!("{url}/agents?page=9&search=bot"))
                .bearer_auth("sk_test"),
        )
        .await;
        assert_eq!((status, tag.as_str()), (200, "default"));
        assert_eq!(
            body["meta"]["current_page"],
            json!(9),
            "agents.list.json, fitted"
        );
        assert_eq!(body["meta"]["has_next_page"], json!(false));
        assert_eq!(body["data"], json!([]));
        assert_eq!(last_answer(&mock), default_of("agents.list"));
    })
    .await;
}

/// A fixture that names no member matches every request of its operation, valid or not (the
/// first answer); without fixtures, only validity decides.
#[tokio::test]
async fn without_fixtures_a_valid_request_is_no_fixture_and_an_invalid_one_400() {
    within(async {
        let mock = MockServer::builder(&PLATFORM)
            .fixtures(Vec::new())
            .start()
            .await
            .expect("mock starts");
        let http = http();
        let url = format!("{}/workflows", mock.platform_url());
        let (status, tag, body) =
            send(http.get(format!("{url}?scope=mine")).bearer_auth("k")).await;
        assert_eq!((status, tag.as_str()), (400, "invalid"));
        assert_eq!(
            body["message"],
            json!(["scope: must be one of owned, public, accessible (got \"mine\")"])
        );
        let (status, tag, body) =
            send(http.get(format!("{url}?scope=owned")).bearer_auth("k")).await;
        assert_eq!((status, tag.as_str()), (404, "no-fixture"));
        assert_eq!(body["code"], json!("mock_no_fixture"));
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("no default fixture workflows.list.json")),
            "{body}"
        );
        assert_eq!(last_answer(&mock), Answer::NoFixture);
    })
    .await;
}

#[tokio::test]
async fn strict_mode_answers_no_fixture_and_never_the_platforms_404() {
    within(async {
        let mock = MockServer::builder(&PLATFORM)
            .strict(true)
            .start()
            .await
            .expect("mock starts");
        assert!(mock.is_strict());
        let client = client(&mock);
        let err = client
            .workflows()
            .update(
                "w_1",
                types::WorkflowUpdate::builder().name(Some("Renamed".into())),
            )
            .send()
            .await
            .expect_err("no fixture names this body");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
        assert_eq!(err.code(), Some("mock_no_fixture"));
        assert!(err.message().contains("workflows.update"), "{err}");
        assert!(err.message().contains("strict"), "{err}");
        assert_eq!(
            err.headers()
                .and_then(|h| h.get("x-agentwire-mock"))
                .and_then(|v| v.to_str().ok()),
            Some("no-fixture")
        );
        assert_eq!(last_answer(&mock), Answer::NoFixture);

        // Invalid requests too: strict mode only replays fixtures.
        let http = http();
        let (status, tag, body) = send(
            http.post(format!("{}/agents", mock.platform_url()))
                .bearer_auth("sk_test")
                .header("content-type", "application/json")
                .body(json!({}).to_string()),
        )
        .await;
        assert_eq!((status, tag.as_str()), (404, "no-fixture"));
        assert_eq!(body["code"], json!("mock_no_fixture"));

        // Fixtures still answer.
        let page = client
            .agents()
            .list()
            .page(1)
            .limit(2)
            .send()
            .await
            .expect("agents.list.json");
        assert_eq!(page.items().len(), 2);
        assert_eq!(
            last_answer(&mock),
            Answer::Fixture {
                file: "agents.list.json".into()
            }
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Unknown routes.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_route_is_not_the_platforms_not_found() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let http = http();
        for path in [
            format!("{PREFIX}/gadgets"),
            format!("{PREFIX}/agents/a_1/nothing/here"),
            "/agents".to_owned(), // the prefix is missing
        ] {
            let (status, tag, body) = send(
                http.get(format!("{}{path}", mock.base_url()))
                    .bearer_auth("sk_test"),
            )
            .await;
            assert_eq!((status, tag.as_str()), (404, "no-route"), "{path}");
            assert_eq!(body["code"], json!("mock_no_route"), "{path}");
            assert!(
                body["message"].as_str().is_some_and(|m| m.contains(&path)),
                "{body}"
            );
            let r = mock.journal().pop().expect("journalled");
            assert_eq!(r.answer, Answer::NoRoute);
            assert_eq!(r.operation, None);
            assert_eq!(r.status, 404);
        }
        // A known path with a method it does not have: 405 with the methods it takes.
        let response = http
            .put(format!("{}/agents", mock.platform_url()))
            .bearer_auth("sk_test")
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 405);
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some("GET, POST")
        );
        assert_eq!(
            mock.journal().pop().map(|r| r.answer),
            Some(Answer::NoRoute)
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Credentials.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn credentials_are_required_where_the_spec_requires_them() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let http = http();
        let agents = format!("{}/agents?page=1&limit=2", mock.platform_url());

        let (status, tag, body) = send(http.get(&agents)).await;
        assert_eq!((status, tag.as_str()), (401, "unauthorized"));
        assert_eq!(body["code"], json!("unauthorized"));
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("Authorization: Bearer")),
            "{body}"
        );
        assert_eq!(last_answer(&mock), Answer::Unauthorized);
        for bad in ["Bearer", "Bearer   ", "Basic c2tfdGVzdA==", "sk_test"] {
            let (status, _, _) = send(http.get(&agents).header("authorization", bad)).await;
            assert_eq!(status, 401, "{bad:?}");
        }
        // Any non-empty bearer value is accepted.
        for good in ["Bearer sk_test", "bearer anything-at-all"] {
            let (status, tag, body) = send(http.get(&agents).header("authorization", good)).await;
            assert_eq!((status, tag.as_str()), (200, "fixture"), "{good:?}");
            assert_eq!(body["meta"]["current_page"], json!(1));
        }

        // The ticketed stream has `security: []`: no Authorization needed.
        let response = http
            .get(format!(
                "{}/agents/a_1/conversations/cv_1/stream?ticket=t1",
                mock.platform_url()
            ))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. Streams: resume, then stay open with heartbeats.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_table_says_how_the_stream_resumes() {
    let stream = PLATFORM
        .operation("conversations.messages.stream")
        .and_then(|op| op.stream)
        .expect("a stream");
    assert_eq!(stream.resume, Some(StreamResume::Query("after")));
    assert_eq!(stream.heartbeat, ["heartbeat"]);
}

/// The README's stream: m_1 and m_2, a drop, a reconnect after m_2 with a new ticket, m_3 — and
/// then the stream stays open, its heartbeats consumed, with no message repeated and no further
/// connection.
#[tokio::test]
async fn the_readme_stream_delivers_each_message_once_then_stays_open() {
    within(async {
        let mock = MockServer::builder(&PLATFORM)
            .heartbeat_interval(Duration::from_millis(25))
            .start()
            .await
            .expect("mock starts");
        // An idle timeout far below the wait below: only heartbeats keep the stream alive.
        let client = Client::builder()
            .api_key("sk_test")
            .base_url(mock.base_url())
            .clock(Arc::new(RecordingClock::new()))
            .stream_idle_timeout(Duration::from_millis(300))
            .build()
            .expect("builds");
        let mut stream = client
            .conversations()
            .messages()
            .stream("a_1", "cv_1")
            .open()
            .await
            .expect("the stream opens");
        let mut ids = Vec::new();
        while ids.len() < 3 {
            let event = stream.try_next().await.expect("no error").expect("no end");
            if let Some(m) = event.as_message() {
                ids.push(m.id.clone());
            }
        }
        assert_eq!(ids, ["m_1", "m_2", "m_3"]);

        // Open, quiet, and alive: nothing more comes within four idle timeouts.
        match tokio::time::timeout(Duration::from_millis(1200), stream.next()).await {
            Err(_elapsed) => {}
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
        let streams = mock.received("conversations.messages.stream");
        assert_eq!(streams.len(), 2, "one connection, one resume: {streams:?}");
        assert_eq!(
            mock.received("conversations.messages.stream_ticket").len(),
            2
        );
        assert_eq!(
            streams[1].query_map().get("after").map(String::as_str),
            Some("m_2")
        );
        assert_eq!(
            streams.iter().map(|r| r.answer.clone()).collect::<Vec<_>>(),
            [
                Answer::Fixture {
                    file: "conversations.messages.stream.json".into()
                },
                Answer::Fixture {
                    file: "conversations.messages.stream.resume.json".into()
                },
            ]
        );
    })
    .await;
}

/// Reads a streaming body until `enough` says so (or 10 s pass).
async fn read_stream(response: reqwest::Response, enough: impl Fn(&str) -> bool) -> String {
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.expect("a chunk")));
            if enough(&text) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("enough arrived within 10 s");
    text
}

#[tokio::test]
async fn an_open_stream_repeats_the_recorded_heartbeat() {
    within(async {
        let mock = MockServer::builder(&PLATFORM)
            .heartbeat_interval(Duration::from_millis(20))
            .start()
            .await
            .expect("mock starts");
        let response = http()
            .get(format!(
                "{}/agents/a_1/conversations/cv_1/stream?ticket=t1&after=m_2",
                mock.platform_url()
            ))
            .send()
            .await
            .expect("answers");
        let heartbeat = "event: heartbeat\ndata: {\"ts\":1}\n\n";
        let text = read_stream(response, |t| t.matches(heartbeat).count() >= 3).await;
        assert!(text.starts_with("id: m_3\nevent: message\n"), "{text}");
        assert_eq!(text.matches("event: message").count(), 1, "{text}");
    })
    .await;
}

fn timed(id: &str, created_at: &str) -> String {
    format!(
        "id: {id}\nevent: message\ndata: {{\"id\":\"{id}\",\"conversation_id\":\"cv_2\",\"role\":\"user\",\"message\":\"hi\",\"message_type\":\"text\",\"created_at\":\"{created_at}\"}}\n\n"
    )
}

#[tokio::test]
async fn a_resumed_stream_replays_only_what_came_after_an_id_or_a_time() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        mock.register(Fixture::new(
            "conversations.messages.stream",
            "GET",
            "/agents/a_1/conversations/cv_2/stream",
            FixtureResponse::sse(vec![
                timed("x_1", "2026-06-24T08:00:00Z"),
                timed("x_2", "2026-06-24T08:10:00.250Z"),
                timed("x_3", "2026-06-24T08:20:00Z"),
            ])
            .end("close"),
        ));
        let http = http();
        let url = format!(
            "{}/agents/a_1/conversations/cv_2/stream?ticket=t1",
            mock.platform_url()
        );
        let ids = |text: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix("id: "))
                .map(str::to_owned)
                .collect()
        };
        let all = http.get(&url).send().await.expect("answers");
        assert_eq!(ids(&all.text().await.expect("text")), ["x_1", "x_2", "x_3"]);
        let after_id = http
            .get(format!("{url}&after=x_1"))
            .send()
            .await
            .expect("answers");
        assert_eq!(ids(&after_id.text().await.expect("text")), ["x_2", "x_3"]);
        let after_time = http
            .get(format!("{url}&after=2026-06-24T08:10:00Z"))
            .send()
            .await
            .expect("answers");
        assert_eq!(ids(&after_time.text().await.expect("text")), ["x_2", "x_3"]);
        let later = http
            .get(format!("{url}&after=2026-06-24T09:00:00%2B01:00"))
            .send()
            .await
            .expect("answers");
        assert_eq!(ids(&later.text().await.expect("text")), ["x_2", "x_3"]);
        let none = http
            .get(format!("{url}&after=x_3"))
            .send()
            .await
            .expect("answers");
        assert_eq!(ids(&none.text().await.expect("text")), Vec::<String>::new());
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. The index.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_index_lists_the_urls_operations_and_fixtures() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let (status, _, index) = send(http().get(mock.index_url())).await;
        assert_eq!(status, 200);
        assert_eq!(index["platform"], json!("bimpeai"));
        assert_eq!(index["base_url"], json!(mock.base_url()));
        assert_eq!(index["platform_url"], json!(mock.platform_url()));
        assert!(
            mock.platform_url().starts_with(&mock.base_url())
                && mock.platform_url().ends_with(PREFIX)
        );
        let ops = index["operations"].as_array().expect("operations");
        assert_eq!(ops.len(), PLATFORM.operations.len());
        let create = ops
            .iter()
            .find(|o| o["id"] == json!("agents.create"))
            .expect("agents.create");
        assert_eq!(create["method"], json!("POST"));
        assert_eq!(create["path"], json!("/agents"));
        assert_eq!(create["default"], json!("agents.create.json"));
        assert_eq!(
            create["fixtures"],
            json!(["agents.create.json", "agents.create.validation.json"])
        );
        // What picks the recorded 400: the body members it names.
        let validation = &create["answers"][1];
        assert_eq!(validation["file"], json!("agents.create.validation.json"));
        assert_eq!(validation["status"], json!(400));
        assert_eq!(validation["body"]["description"], json!("no name"));
        assert_eq!(
            index["realtime_url"],
            Value::Null,
            "BimpeAI has no WebSocket"
        );
        assert!(
            ops.iter().all(|o| o["default"].is_string()),
            "every operation has its default fixture"
        );
        // The mock's own page is not a platform request.
        assert!(mock.journal().is_empty());
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. The journal's bounds.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_journal_keeps_within_its_byte_bound_after_huge_bodies() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let http = http();
        let body = bytes::Bytes::from(vec![b'a'; 50_000_000]);
        for _ in 0..5 {
            let (status, _, _) = send(
                http.post(format!("{}/agents", mock.platform_url()))
                    .bearer_auth("sk_test")
                    .header("content-type", "application/json")
                    .body(body.clone()),
            )
            .await;
            assert_eq!(status, 400, "not JSON");
        }
        let journal = mock.journal();
        assert_eq!(journal.len(), 5);
        assert!(mock.journal_bytes() <= JournalLimits::IN_PROCESS.bytes);
        assert_eq!(mock.journal_bytes(), 5 * 1024 * 1024);
        for r in &journal {
            assert!(r.truncated);
            assert_eq!(r.body_len, 50_000_000);
            assert_eq!(r.body.len(), JournalLimits::IN_PROCESS.body_bytes);
        }
    })
    .await;
}

#[tokio::test]
async fn the_journal_forgets_the_oldest_beyond_its_limits() {
    within(async {
        let mock = MockServer::builder(&PLATFORM)
            .journal_limits(JournalLimits::new(3, 2_500, 1_000))
            .start()
            .await
            .expect("mock starts");
        let http = http();
        for i in 0..5 {
            let description = format!("{i}{}", "x".repeat(1_200));
            send(
                http.post(format!("{}/agents", mock.platform_url()))
                    .bearer_auth("sk_test")
                    .header("content-type", "application/json")
                    .body(
                        json!({"workflow_id": "wf_1", "name": "n", "description": description})
                            .to_string(),
                    ),
            )
            .await;
        }
        let journal = mock.journal();
        // 1,000 bytes kept of each body: two fit in 2,500.
        assert_eq!(journal.len(), 2);
        assert_eq!(mock.journal_bytes(), 2_000);
        assert!(journal.iter().all(|r| r.truncated && r.body.len() == 1_000));
        assert!(
            journal[1].body.starts_with(b"{\"description\":\"4xx"),
            "the newest is kept: {:?}",
            String::from_utf8_lossy(&journal[1].body[..30])
        );
        for _ in 0..5 {
            send(
                http.get(format!("{}/agents", mock.platform_url()))
                    .bearer_auth("sk_test"),
            )
            .await;
        }
        assert_eq!(mock.journal().len(), 3, "the request bound");
        assert_eq!(mock.journal_bytes(), 0);
        mock.reset();
        assert!(mock.journal().is_empty());
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 8. Bodies too large or unreadable, over raw TCP.
// ---------------------------------------------------------------------------------------------

/// Sends `head` (and `body`), optionally half-closes, and reads the whole answer.
async fn raw(mock: &MockServer, request: &[u8], half_close: bool) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(mock.addr())
        .await
        .expect("connects");
    tcp.write_all(request).await.expect("writes");
    if half_close {
        tcp.shutdown().await.expect("half-closes");
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .expect("answered within 10 s")
        .expect("reads");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

fn post_head(extra: &str) -> String {
    format!(
        "POST {PREFIX}/agents HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer sk_test\r\ncontent-type: application/json\r\nconnection: close\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let (status, text) = raw(
            &mock,
            post_head("content-length: 70000000\r\n").as_bytes(),
            false,
        )
        .await;
        assert_eq!(status, 413, "{text}");
        assert!(text.contains("mock_body_too_large"), "{text}");
        assert!(text.contains("x-agentwire-mock: too-large"), "{text}");
        assert_eq!(last_answer(&mock), Answer::TooLarge);

        // Without a Content-Length the limit is counted as the chunks arrive.
        let small = MockServer::builder(&PLATFORM)
            .max_body_bytes(1_000)
            .start()
            .await
            .expect("mock starts");
        let chunk = "x".repeat(800);
        let request = format!(
            "{}320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n",
            post_head("transfer-encoding: chunked\r\n")
        );
        let (status, text) = raw(&small, request.as_bytes(), false).await;
        assert_eq!(status, 413, "{text}");
        assert_eq!(last_answer(&small), Answer::TooLarge);
    })
    .await;
}

#[tokio::test]
async fn an_unreadable_body_is_400_never_no_fixture_nor_empty() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");

        // A chunk size that is not hexadecimal.
        let request = format!(
            "{}zz\r\n{{\"name\":\"x\"}}\r\n0\r\n\r\n",
            post_head("transfer-encoding: chunked\r\n")
        );
        let (status, text) = raw(&mock, request.as_bytes(), false).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("could not be read"), "{text}");
        assert!(text.contains("x-agentwire-mock: bad-body"), "{text}");
        assert_eq!(last_answer(&mock), Answer::BadBody);

        // Ten bytes of a promised hundred, then the client stops sending.
        let request = format!("{}{{\"name\":1}}", post_head("content-length: 100\r\n"));
        let (status, text) = raw(&mock, request.as_bytes(), true).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("could not be read"), "{text}");
        let r = mock.journal().pop().expect("journalled");
        assert_eq!(r.answer, Answer::BadBody);
        assert_eq!(r.body_len, 10);
        assert_eq!(r.operation.as_deref(), Some("agents.create"));
    })
    .await;
}

#[tokio::test]
async fn an_invalid_request_gets_the_400_even_where_a_catch_all_fixture_would_answer() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        // workflows.list.json names no query member: it would match any GET /workflows.
        let url = format!("{}/workflows?scope=bogus&page=x", mock.platform_url());
        let response = http()
            .get(&url)
            .header("authorization", "Bearer sk_test")
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(
            response
                .headers()
                .get("x-agentwire-mock")
                .and_then(|v| v.to_str().ok()),
            Some("invalid")
        );
        let body: Value =
            serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
        let problems: Vec<String> = body["message"]
            .as_array()
            .expect("field errors")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        assert!(
            problems.iter().any(|p| p.starts_with("scope:")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("page:")),
            "{problems:?}"
        );
        let journal = mock.journal();
        assert!(
            matches!(journal[0].answer, Answer::Invalid { .. }),
            "{journal:?}"
        );

        // The same operation with valid parameters: the fixture that matches it.
        let response = http()
            .get(format!("{}/workflows?scope=owned", mock.platform_url()))
            .header("authorization", "Bearer sk_test")
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 200);
        assert!(matches!(mock.journal()[1].answer, Answer::Fixture { .. }));
    })
    .await;
}

/// The default answer fitted to the request: path parameters, a write's members, pages past the
/// recorded ones.
#[tokio::test]
async fn the_default_answer_fits_the_request() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        let client = client(&mock);
        // A retrieve of another id answers that id.
        let agent = client.agents().retrieve("a_2").await.expect("a_2");
        assert_eq!(agent.id, "a_2");
        // A create answers what was sent, where the result has the member.
        let created = client
            .agents()
            .create(
                types::AgentCreate::builder()
                    .workflow_id("wf_9")
                    .name("Trial")
                    .description("Tried out"),
            )
            .await
            .expect("created");
        assert_eq!(created.name, "Trial");
        assert_eq!(created.description, "Tried out");
        assert_eq!(created.workflow_id.as_deref(), Some("wf_9"));
        // A naive client walking pages from a number past the recorded ones stops at once.
        let mut page = 4;
        let mut seen = 0;
        loop {
            let p = client
                .agents()
                .list()
                .page(page)
                .limit(2)
                .await
                .expect("page");
            seen += 1;
            if !p.has_next() || seen > 10 {
                break;
            }
            page += 1;
        }
        assert_eq!(seen, 1, "one empty last page");
        // A standard SSE client resuming with Last-Event-ID gets only what follows it.
        let mut response = http()
            .get(format!(
                "{}/agents/a_1/conversations/cv_1/stream?ticket=t1",
                mock.platform_url()
            ))
            .header("last-event-id", "m_1")
            .send()
            .await
            .expect("the stream answers");
        let mut text = String::new();
        while !text.contains("id: m_2") {
            match tokio::time::timeout(Duration::from_secs(5), response.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!("no event after Last-Event-ID: {other:?} ({text:?})"),
            }
        }
        assert!(!text.contains("id: m_1"), "only what follows m_1: {text:?}");
    })
    .await;
}

#[tokio::test]
async fn the_journal_s_debug_output_hides_credentials() {
    within(async {
        let mock = MockServer::start(&PLATFORM).await.expect("mock starts");
        send(
            http()
                .get(format!(
                    "{}/agents/a_1?ticket=t_SECRET",
                    mock.platform_url()
                ))
                .header("authorization", "Bearer sk_live_REAL")
                .header("x-trace", "visible"),
        )
        .await;
        let received = mock.journal().pop().expect("journalled");
        let shown = format!("{received:?}");
        assert!(!shown.contains("sk_live_REAL"), "{shown}");
        assert!(!shown.contains("t_SECRET"), "{shown}");
        assert!(shown.contains("visible"), "{shown}");
        assert_eq!(
            received.header("authorization"),
            Some("Bearer sk_live_REAL")
        );
    })
    .await;
}
