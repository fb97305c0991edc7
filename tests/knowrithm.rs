//! Knowrithm end to end against the embedded mock: its auth modes, agent creation routed by the
//! seed's rule and resolved through the task, the chat with and without its follow-on stream
//! (the 503 fallback both ways, a stream ending early), uploads, validation errors, and the mock
//! answering requests made the way the published Python client makes them.

use std::sync::Arc;

use agentwire::knowrithm::{ChatEvent, Client, NewAgent, PLATFORM, types};
use agentwire::mock::{Fixture, FixtureResponse, MockServer, RecordingClock, embedded_fixtures};
use agentwire::prelude::*;
use agentwire::{ErrorKind, Upload};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

mod common;

const CONVERSATION: &str = "1fcc6e47-82e4-5bcc-815e-727a4a19e076";
/// The conversation whose stream the fixtures record as turned off (`503`).
const NO_STREAMING: &str = "9efcdf0a-1807-5bbd-86a1-f5cd4d4cf13b";

async fn mock() -> MockServer {
    MockServer::start(&PLATFORM).await.expect("the mock starts")
}

fn client(mock: &MockServer) -> Client {
    mock.client_builder::<Client>()
        .api_key("ak_test")
        .api_secret("as_test")
        .clock(Arc::new(RecordingClock::new()))
        .build()
        .expect("client")
}

fn chat(text: &str) -> types::ChatMessageSend {
    types::ChatMessageSend {
        attachments: None,
        message: text.into(),
    }
}

#[tokio::test]
async fn each_auth_mode_sends_its_own_credentials() {
    let mock = mock().await;
    // Key and secret, on every call that takes them.
    client(&mock).health().check().await.expect("public");
    client(&mock).users().me().await.expect("with the key");
    let seen = &mock.received("users.me")[0];
    assert_eq!(seen.header("x-api-key"), Some("ak_test"));
    assert_eq!(seen.header("x-api-secret"), Some("as_test"));
    assert_eq!(seen.header("authorization"), None);

    // An access token alone.
    let with_token = mock
        .client_builder::<Client>()
        .access_token("eyJ_token")
        .build()
        .expect("client");
    with_token.users().me().await.expect("with the token");
    let seen = mock.received("users.me");
    assert_eq!(seen[1].header("authorization"), Some("Bearer eyJ_token"));
    assert_eq!(seen[1].header("x-api-key"), None);

    // A per-call bearer token picks the bearer alternative over the configured key.
    client(&mock)
        .users()
        .me()
        .bearer_token("eyJ_call")
        .await
        .expect("with the call's token");
    let seen = mock.received("users.me");
    assert_eq!(seen[2].header("authorization"), Some("Bearer eyJ_call"));
    assert_eq!(seen[2].header("x-api-key"), None);

    // Neither: public routes only; the others fail before sending, naming what is missing.
    let anonymous = mock
        .client_builder::<Client>()
        .build()
        .expect("no credentials needed");
    anonymous.health().check().await.expect("public");
    let script = anonymous.widget().script().await.expect("public text");
    assert!(!script.is_empty());
    let e = anonymous.users().me().await.expect_err("needs credentials");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.message().contains("api_key") && e.message().contains("access_token"),
        "{}",
        e.message()
    );
    assert_eq!(
        mock.received("users.me").len(),
        3,
        "nothing sent without credentials"
    );
}

#[tokio::test]
async fn an_agent_is_created_by_name_or_by_id_and_resolved_through_its_task() {
    let mock = mock().await;
    let client = client(&mock);
    let by_name = NewAgent::from_json(
        json!({"name": "Support Bot", "description": "Customer support assistant"}),
        json!({"llm_provider": "openai", "llm_model": "gpt-4o",
               "embedding_provider": "openai", "embedding_model": "text-embedding-3-small",
               "llm_temperature": 0.7}),
    )
    .expect("by name");
    let agent = client
        .agents()
        .provision(by_name)
        .await
        .expect("provisioned");
    assert!(agent.agent.is_some(), "the `.result` fixture: {agent:?}");
    let sent = mock.received("agents.create_with_provider_names");
    assert_eq!(sent.len(), 1, "names go to POST /sdk/agent");
    assert_eq!(
        sent[0]
            .json()
            .and_then(|b| b["settings"]["llm_model"].as_str().map(str::to_owned)),
        Some("gpt-4o".to_owned())
    );
    assert_eq!(
        mock.received("tasks.status").len(),
        1,
        "resolved by polling once"
    );

    let by_id = NewAgent::from_json(
        json!({"name": "Support Bot"}),
        json!({"llm_provider_id": "6fa1fc5e-a7de-4c98-b203-20e063db89fe",
               "llm_model_id": "8f3c2d09-0d0f-4fcf-83da-79d58a0d30d5",
               "embedding_provider_id": "75d4ceaf-6a3c-4bd3-98f0-0bcf2bb9c2d4",
               "embedding_model_id": "bc03b08f-8f44-4a1e-9227-f002a0fa9e26"}),
    )
    .expect("by id");
    client.agents().provision(by_id).await.expect("provisioned");
    let sent = mock.received("agents.create");
    assert_eq!(sent.len(), 1, "ids go to POST /agent");
    assert_eq!(
        sent[0]
            .json()
            .and_then(|b| b["llm_model_id"].as_str().map(str::to_owned)),
        Some("8f3c2d09-0d0f-4fcf-83da-79d58a0d30d5".to_owned()),
        "the settings' ids join the agent's fields"
    );

    let incomplete = NewAgent::from_json(json!({"name": "x"}), json!({"llm_provider_id": "p"}))
        .expect_err("four ids are required");
    assert_eq!(incomplete.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_chat_message_resolves_to_the_reply_with_or_without_the_stream() {
    let mock = mock().await;
    let client = client(&mock);
    // send(): the task is polled to the reply.
    let reply = client
        .conversations()
        .messages()
        .send(CONVERSATION, chat("How do I reset my password?"))
        .await
        .expect("the reply");
    assert_eq!(
        reply
            .message
            .as_ref()
            .and_then(|m| m.role.clone())
            .map(|r| r.to_string()),
        Some("assistant".into())
    );

    // stream(): the message is posted once, then the reply's events are followed.
    let events: Vec<ChatEvent> = client
        .conversations()
        .messages()
        .send(CONVERSATION, chat("And my email?"))
        .stream()
        .await
        .expect("opened")
        .try_collect()
        .await
        .expect("every event");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ChatEvent::ChatStatus(_) => "status",
            ChatEvent::ChatResponse(_) => "response",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["status", "status", "status", "response"],
        "heartbeats consumed; the stream ends after the reply"
    );
    assert_eq!(mock.received("conversations.messages.send").len(), 2);
    let streamed = mock.received("conversations.messages.stream");
    assert_eq!(streamed.len(), 1);
    assert_eq!(
        streamed[0].path,
        format!("/conversation/{CONVERSATION}/messages/stream"),
        "the stream route of the same conversation"
    );
    assert_eq!(streamed[0].header("accept"), Some("text/event-stream"));
    assert_eq!(streamed[0].header("x-api-key"), Some("ak_test"));
    assert_eq!(mock.received("tasks.status").len(), 1, "only send() polled");
}

#[tokio::test]
async fn a_503_on_the_stream_is_unavailable_or_with_fallback_the_polled_reply() {
    let mock = mock().await;
    let client = client(&mock);
    let e = client
        .conversations()
        .messages()
        .send(NO_STREAMING, chat("Hello?"))
        .stream()
        .await
        .expect_err("streaming is off");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert!(e.task_id().is_some(), "the task can still be polled: {e:?}");

    let events: Vec<ChatEvent> = client
        .conversations()
        .messages()
        .send(NO_STREAMING, chat("Hello again?"))
        .fallback_to_polling(true)
        .stream()
        .await
        .expect("falls back")
        .try_collect()
        .await
        .expect("the reply");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].as_chat_response().is_some(),
        "the polled result, as the final event: {events:?}"
    );
    assert_eq!(mock.received("tasks.status").len(), 1);
}

#[tokio::test]
async fn a_stream_that_ends_before_the_reply_falls_back_to_polling() {
    let mock = mock().await;
    mock.register(Fixture::new(
        "conversations.messages.stream",
        "GET",
        &format!("/conversation/{CONVERSATION}/messages/stream"),
        FixtureResponse::sse(vec![
            "event: chat_status\ndata: {\"status\":\"queued\"}\n\n".into(),
        ])
        .end("close"),
    ));
    let events: Vec<ChatEvent> = client(&mock)
        .conversations()
        .messages()
        .send(CONVERSATION, chat("Anyone?"))
        .stream()
        .await
        .expect("opened")
        .try_collect()
        .await
        .expect("the reply");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].as_chat_status().is_some());
    assert!(events[1].as_chat_response().is_some(), "the polled reply");
    assert_eq!(mock.received("tasks.status").len(), 1);
}

#[tokio::test]
async fn the_stream_url_comes_from_the_acknowledgement_and_a_websocket_one_is_refused() {
    let mock = mock().await;
    let ack = |url: &str| {
        Fixture::new(
            "conversations.messages.send",
            "POST",
            &format!("/conversation/{CONVERSATION}/chat"),
            FixtureResponse::json(
                202,
                json!({"status": "queued", "task_id": "t_chat", "conversation_id": CONVERSATION,
                       "message_id": "m_1", "poll_url": "/api/v1/tasks/t_chat/status",
                       "stream_url": url}),
            ),
        )
        .with_body(json!({"message": url}))
    };
    let other = "2b6f1c9e-5d1a-4d8e-9f0b-3a7c6e5d4f21";
    mock.register(ack(&format!(
        "/api/v1/conversation/{other}/messages/stream"
    )));
    mock.register(ack("wss://app.knowrithm.org/socket"));
    let client = client(&mock);
    let followed = client
        .conversations()
        .messages()
        .send(
            CONVERSATION,
            chat(&format!("/api/v1/conversation/{other}/messages/stream")),
        )
        .stream()
        .await
        .expect("opened");
    drop(followed);
    assert_eq!(
        mock.received("conversations.messages.stream")[0].path,
        format!("/conversation/{other}/messages/stream"),
        "the acknowledgement's stream URL, its /api/v1 the base path"
    );

    let e = client
        .conversations()
        .messages()
        .send(CONVERSATION, chat("wss://app.knowrithm.org/socket"))
        .stream()
        .await
        .expect_err("not Server-Sent Events");
    assert_eq!(e.kind(), ErrorKind::Other);
    assert!(e.message().contains("wss:"), "{}", e.message());
}

#[tokio::test]
async fn documents_upload_from_disk_and_a_company_logo_as_multipart() {
    let mock = mock().await;
    let client = client(&mock);
    let dir = std::env::temp_dir().join(format!("agentwire-knowrithm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let pdf = dir.join("knowledge-base.pdf");
    std::fs::write(&pdf, b"%PDF-1.7 knowledge").expect("write");
    let uploaded = client
        .documents()
        .upload()
        .files([Upload::path(&pdf)])
        .agent_id("0c8d3c4e-2f7b-4a8e-9e51-8b4f0d6a2c11")
        .send()
        .await;
    let _ = std::fs::remove_file(&pdf);
    uploaded.expect("uploaded");
    let seen = &mock.received("documents.upload")[0];
    let part = seen
        .form
        .iter()
        .find(|p| p.file_name.is_some())
        .expect("a file part");
    assert_eq!(part.file_name.as_deref(), Some("knowledge-base.pdf"));
    assert_eq!(part.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(&part.data[..], b"%PDF-1.7 knowledge");

    let not_an_image = client
        .companies()
        .create()
        .name("Acme")
        .email("ops@acme.test")
        .logo(Upload::bytes("logo.pdf", "%PDF"))
        .send()
        .await
        .expect_err("a logo is an image");
    assert_eq!(not_an_image.kind(), ErrorKind::InvalidInput);
    let created = client
        .companies()
        .create()
        .name("Acme")
        .email("ops@acme.test")
        .logo(Upload::bytes("logo.png", &b"\x89PNG\r\n\x1a\n"[..]))
        .accepted()
        .await
        .expect("acknowledged");
    assert!(created.task_id().is_some());
    let seen = &mock.received("companies.create")[0];
    assert_eq!(
        seen.form_part("logo")
            .and_then(|p| p.content_type.clone())
            .as_deref(),
        Some("image/png")
    );
}

#[tokio::test]
async fn an_invalid_request_is_a_validation_error_naming_the_field() {
    let mock = mock().await;
    let too_hot = NewAgent::from_json(
        json!({"name": "Support Bot"}),
        json!({"llm_provider_id": "6fa1fc5e-a7de-4c98-b203-20e063db89fe",
               "llm_model_id": "8f3c2d09-0d0f-4fcf-83da-79d58a0d30d5",
               "embedding_provider_id": "75d4ceaf-6a3c-4bd3-98f0-0bcf2bb9c2d4",
               "embedding_model_id": "bc03b08f-8f44-4a1e-9227-f002a0fa9e26",
               "llm_temperature": 5}),
    )
    .expect("typed");
    // The spec's `maximum: 2` is checked before anything is sent.
    let e = client(&mock)
        .agents()
        .provision(too_hot)
        .await
        .expect_err("the temperature is at most 2");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
    assert!(
        e.message()
            .contains("`llm_temperature` must be between 0 and 2 (got 5)"),
        "{e}"
    );
    assert!(mock.journal().is_empty(), "nothing was sent");

    // A client that does not check (plain HTTP) gets the platform's 400 from the mock, with
    // the field in `details`; agentwire reads that answer as a validation error naming it.
    let answer = common::plain_http()
        .post(format!("{}/agent", mock.platform_url()))
        .header("x-api-key", "ak_test")
        .header("x-api-secret", "as_test")
        .header("content-type", "application/json")
        .body(json!({"name": "Support Bot", "llm_temperature": 5}).to_string())
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), 400);
    let body: Value = serde_json::from_slice(&answer.bytes().await.expect("a body")).expect("JSON");
    assert!(body.pointer("/details/llm_temperature").is_some(), "{body}");
    mock.register(
        agentwire::mock::Fixture::new(
            "agents.create",
            "POST",
            "/agent",
            agentwire::mock::FixtureResponse::json(400, body),
        )
        .with_body(json!({"name": "Cold Bot"})),
    );
    let cold = NewAgent::from_json(
        json!({"name": "Cold Bot"}),
        json!({"llm_provider_id": "6fa1fc5e-a7de-4c98-b203-20e063db89fe",
               "llm_model_id": "8f3c2d09-0d0f-4fcf-83da-79d58a0d30d5",
               "embedding_provider_id": "75d4ceaf-6a3c-4bd3-98f0-0bcf2bb9c2d4",
               "embedding_model_id": "bc03b08f-8f44-4a1e-9227-f002a0fa9e26",
               "llm_temperature": 1}),
    )
    .expect("typed");
    let e = client(&mock)
        .agents()
        .provision(cold)
        .await
        .expect_err("the recorded 400");
    assert_eq!(e.kind(), ErrorKind::Validation, "{e:?}");
    assert!(
        e.field_errors()
            .iter()
            .any(|f| f.path.contains("llm_temperature")),
        "{:?}",
        e.field_errors()
    );
}

/// What the published Python client does: `https://…/api` + `/v1` + the path, the key and secret
/// headers, JSON bodies (multipart where it sends files), then a poll of the status URL an
/// acknowledgement names. Every default fixture's request gets its recorded status from
/// `agentwire mock`, and every acknowledgement's task resolves.
#[tokio::test]
async fn the_mock_answers_requests_made_as_the_published_client_makes_them() {
    let mock = mock().await;
    let http = common::plain_http();
    let base = mock.platform_url();
    let origin = mock.base_url();
    let fixtures = embedded_fixtures(&PLATFORM).expect("fixtures");
    let mut checked = 0;
    for f in fixtures.iter().filter(|f| f.is_default()) {
        let Some(op) = PLATFORM.operation(&f.operation) else {
            continue;
        };
        let want = f.answers()[0].status;
        let method = reqwest::Method::from_bytes(f.request.method.as_bytes()).expect("method");
        let url =
            reqwest::Url::parse_with_params(&format!("{base}{}", f.request.path), &f.request.query)
                .expect("url");
        let mut request = http
            .request(method, url)
            .header("x-api-key", "ak_test")
            .header("x-api-secret", "as_test");
        if op.auth.iter().all(|alternative| {
            alternative
                .iter()
                .any(|s| matches!(s, agentwire::Auth::Bearer(_)))
        }) && !op.auth.is_empty()
        {
            request = request.header("authorization", "Bearer eyJ_test");
        }
        if let Some(form) = f.request.form.as_ref().and_then(Value::as_object) {
            let mut multipart = reqwest::multipart::Form::new();
            for (name, value) in form {
                multipart = match value {
                    Value::String(s) => multipart.text(name.clone(), s.clone()),
                    other => multipart.text(name.clone(), other.to_string()),
                };
            }
            request = request.multipart(multipart);
        } else if let Some(body) = f.request.body.as_ref().filter(|b| !b.is_null()) {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.expect("answered");
        assert_eq!(
            answer.status().as_u16(),
            want,
            "{}: {}",
            f.operation,
            answer.text().await.unwrap_or_default()
        );
        if want == 202 && op.task.is_some() {
            let ack: Value = serde_json::from_slice(&answer.bytes().await.expect("body"))
                .expect("a JSON acknowledgement");
            // As the published client: the status URL, else the poll URL, else the status
            // route built from the task id.
            let url = match (ack["status_url"].as_str(), ack["poll_url"].as_str()) {
                (Some(url), _) | (None, Some(url)) => url.to_owned(),
                (None, None) => format!(
                    "/api/v1/tasks/{}/status",
                    ack["task_id"].as_str().expect("a task id")
                ),
            };
            let status: Value = serde_json::from_slice(
                &http
                    .get(format!("{origin}{url}"))
                    .header("x-api-key", "ak_test")
                    .header("x-api-secret", "as_test")
                    .send()
                    .await
                    .expect("polled")
                    .bytes()
                    .await
                    .expect("body"),
            )
            .expect("JSON");
            assert_eq!(status["status"], "completed", "{}: {status}", f.operation);
        }
        checked += 1;
    }
    assert!(
        checked >= 180,
        "every operation's default fixture: {checked}"
    );
}

#[tokio::test]
async fn an_explicit_stream_url_may_be_a_template_filled_from_the_call_and_the_acknowledgement() {
    let mock = mock().await;
    let events: Vec<ChatEvent> = client(&mock)
        .conversations()
        .messages()
        .send(CONVERSATION, chat("Templated?"))
        .stream_url("/api/v1/conversation/{conversation_id}/messages/stream")
        .stream()
        .await
        .expect("opened")
        .try_collect()
        .await
        .expect("every event");
    assert!(
        events
            .last()
            .is_some_and(|e| e.as_chat_response().is_some())
    );
    assert_eq!(
        mock.received("conversations.messages.stream")[0].path,
        format!("/conversation/{CONVERSATION}/messages/stream")
    );
    let e = client(&mock)
        .conversations()
        .messages()
        .send(CONVERSATION, chat("Unknown placeholder?"))
        .stream_url("/api/v1/conversation/{nothing}/messages/stream")
        .stream()
        .await
        .expect_err("`nothing` is neither a parameter nor a member");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("nothing"), "{}", e.message());
}
