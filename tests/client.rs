//! The client's public surface: configuration checked before any request, what every request
//! carries, path parameters that cannot escape their segment, secrets kept out of Debug, and
//! futures and streams that are `Send`.

#![cfg(feature = "bimpeai")]

mod common;

use agentwire::bimpeai::{Client, types};
use agentwire::prelude::*;
use agentwire::{ErrorKind, Paginator};
use common::{setup, setup_with};

#[test]
fn an_empty_or_missing_key_fails_before_any_request() {
    for key in ["", "   "] {
        let err = Client::new(key).expect_err("empty key");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("api key"), "{err}");
    }
    let err = Client::builder().build().expect_err("no key");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains(".api_key("), "{err}");
    let err = Client::builder()
        .api_key("sk\nx")
        .build()
        .expect_err("not a header value");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn bad_configuration_is_invalid_input() {
    for url in ["not a url", "ftp://x", "http://h/?q=1"] {
        let err = Client::builder()
            .api_key("k")
            .base_url(url)
            .build()
            .expect_err(url);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}");
    }
    let err = Client::builder()
        .api_key("k")
        .host_url("nope", "http://127.0.0.1:1")
        .build()
        .expect_err("unknown host");
    assert!(err.to_string().contains("console"), "{err}");
    let err = Client::builder()
        .api_key("k")
        .default_header("bad header", "v")
        .build()
        .expect_err("bad header name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn debug_output_hides_the_key() {
    let builder = Client::builder().api_key("sk_live_TOPSECRET");
    assert!(!format!("{builder:?}").contains("TOPSECRET"));
    let client = builder.build().expect("client");
    let shown = format!("{client:?}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
    assert!(
        shown.contains("https://api.bimpe.ai/api/v1/console"),
        "{shown}"
    );
}

#[test]
fn per_call_credentials_are_redacted_in_debug() {
    let options = agentwire::CallOptions::new()
        .header("Authorization", "Bearer eyJ.user.TOPSECRET")
        .header("Cookie", "session=TOPSECRET")
        .header("X-API-Key", "TOPSECRET")
        .header("X-API-Secret", "TOPSECRET")
        .header("X-Trace", "visible");
    let shown = format!("{options:?}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
    assert!(shown.contains("authorization"), "names stay: {shown}");
    assert!(
        shown.contains("visible"),
        "other headers are shown: {shown}"
    );

    let client = Client::new("sk_test").expect("client");
    let builder = client
        .agents()
        .retrieve("a_1")
        .header("Authorization", "Bearer TOPSECRET");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
}

#[tokio::test]
async fn every_request_carries_auth_agent_and_ids() {
    let s = setup_with(|b| {
        b.default_header("X-Team", "blue")
            .default_header("X-Trace", "default")
    })
    .await;
    s.client
        .agents()
        .retrieve("a_1")
        .header("X-Trace", "per-call")
        .send()
        .await
        .expect("fixture");
    let r = &s.mock.received("agents.retrieve")[0];
    assert_eq!(r.header("authorization"), Some("Bearer sk_test"));
    assert_eq!(
        r.header("user-agent"),
        Some(format!("agentwire/{} (bimpeai)", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("x-team"), Some("blue"));
    assert_eq!(
        r.header("x-trace"),
        Some("per-call"),
        "per-call headers override defaults"
    );
    assert!(
        r.header("content-type").is_none(),
        "no body, no content type"
    );
    let id = r.header("x-request-id").expect("request id");
    assert!(
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4),
        "{id}"
    );
}

#[tokio::test]
async fn a_per_call_authorization_replaces_the_key() {
    let s = setup().await;
    s.client
        .agents()
        .retrieve("a_1")
        .header("Authorization", "Bearer user_jwt")
        .send()
        .await
        .expect("fixture");
    assert_eq!(
        s.mock.received("agents.retrieve")[0].header("authorization"),
        Some("Bearer user_jwt")
    );
}

#[tokio::test]
async fn path_parameters_stay_in_their_segment() {
    let s = setup().await;
    for bad in ["", ".", ".."] {
        let err = s
            .client
            .agents()
            .retrieve(bad)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(err.operation(), Some("agents.retrieve"));
    }
    assert!(s.mock.journal().is_empty(), "nothing was sent for bad ids");

    // A slash or a query character is escaped, so the request stays on agents.retrieve.
    let _ = s.client.agents().retrieve("a/1?x=1").send().await;
    let seen = s.mock.journal();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].operation.as_deref(), Some("agents.retrieve"));
    assert!(seen[0].query.is_empty());
}

#[tokio::test]
async fn query_values_go_out_as_the_wire_expects() {
    let s = setup().await;
    let _ = s
        .client
        .conversations()
        .list("a_1")
        .needs_attention(true)
        .is_test_channel(false)
        .channel(types::ConversationChannel::TestWhatsapp)
        .search("hello world & more")
        .send()
        .await;
    let q = s.mock.received("conversations.list")[0].query_map();
    assert_eq!(q.get("needs_attention").map(String::as_str), Some("true"));
    assert_eq!(q.get("is_test_channel").map(String::as_str), Some("false"));
    assert_eq!(q.get("channel").map(String::as_str), Some("test_whatsapp"));
    assert_eq!(
        q.get("search").map(String::as_str),
        Some("hello world & more")
    );
    assert!(!q.contains_key("page"), "unset parameters are not sent");
}

#[tokio::test]
async fn an_invalid_body_or_option_fails_before_sending() {
    let s = setup().await;
    let err = s
        .client
        .agents()
        .create(types::AgentCreate::builder().name("only a name"))
        .send()
        .await
        .expect_err("missing required fields");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("workflow_id") || err.message().contains("description"),
        "{err}"
    );

    let err = s
        .client
        .agents()
        .retrieve("a_1")
        .header("bad name", "v")
        .send()
        .await
        .expect_err("bad header");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = s
        .client
        .agents()
        .retrieve("a_1")
        .idempotency_key("")
        .send()
        .await
        .expect_err("empty key");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(s.mock.journal().is_empty());
}

#[tokio::test]
async fn a_base_url_that_already_has_the_prefix_is_not_doubled() {
    let s = setup().await;
    let client = Client::builder()
        .api_key("sk_test")
        .base_url(format!("{}/api/v1/console/", s.mock.base_url()))
        .build()
        .expect("client");
    client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect("routed");
    assert_eq!(s.mock.received("agents.retrieve").len(), 1);
}

#[tokio::test]
async fn the_phone_number_can_be_unassigned_with_an_explicit_null() {
    let s = setup().await;
    let _ = s
        .client
        .phone_numbers()
        .update(
            "pn_1",
            types::PhoneNumberUpdate::builder().agent_id(agentwire::Nullable::Null),
        )
        .send()
        .await;
    let _ = s
        .client
        .phone_numbers()
        .update(
            "pn_1",
            types::PhoneNumberUpdate::builder().label(agentwire::Nullable::from("Front desk")),
        )
        .send()
        .await;
    let sent = s.mock.received("phone_numbers.update");
    assert_eq!(sent[0].json(), Some(serde_json::json!({"agent_id": null})));
    assert_eq!(
        sent[1].json(),
        Some(serde_json::json!({"label": "Front desk"})),
        "absent stays absent"
    );
}

#[tokio::test]
async fn the_operation_table_is_inspectable() {
    let op = agentwire::bimpeai::PLATFORM
        .operation("agents.create")
        .expect("known op");
    assert_eq!(op.method, agentwire::Method::Post);
    assert_eq!(op.path, "/agents");
    assert_eq!(op.success_status, 201);
    assert!(
        op.retry_safe,
        "BimpeAI deduplicates writes by idempotency key"
    );
    assert_eq!(agentwire::bimpeai::PLATFORM.operations.len(), 58);
    let stream = agentwire::bimpeai::PLATFORM
        .operation("conversations.messages.stream")
        .expect("stream op");
    assert!(stream.auth.is_empty(), "ticket-authenticated");
    assert_eq!(stream.omit_headers, &["X-Request-Id"]);
}

// Every response kind's future, and a paginator's item stream, are `Send + 'static`, so a
// caller can spawn them: checked when this file compiles (the closure is never called).
const _: fn(&Client) = |client| {
    fn assert_send<T: Send + 'static>(_: &T) {}
    assert_send(&client.agents().list().page(1).limit(2).send());
    assert_send(&client.agents().create(types::AgentCreate::builder()).send());
    let pages: Paginator<types::Agent, types::PageMeta> = client.agents().list().paginate();
    assert_send(&pages.items());
    assert_send(&client.agents().delete("a_1").send());
};

#[test]
fn request_bodies_keep_null_and_empty_lists_through_json() {
    let update: types::PhoneNumberUpdate =
        serde_json::from_value(serde_json::json!({"agent_id": null, "label": "x"}))
            .expect("decodes");
    assert_eq!(update.agent_id, Some(agentwire::Nullable::Null));
    assert_eq!(
        serde_json::to_value(&update).expect("encodes"),
        serde_json::json!({"agent_id": null, "label": "x"})
    );
    let absent: types::PhoneNumberUpdate =
        serde_json::from_value(serde_json::json!({})).expect("decodes");
    assert_eq!(absent.agent_id, None);

    let clear_tags: types::WorkflowUpdate =
        serde_json::from_value(serde_json::json!({"tags": []})).expect("decodes");
    assert_eq!(
        serde_json::to_value(&clear_tags).expect("encodes"),
        serde_json::json!({"tags": []})
    );
    let untouched: types::WorkflowUpdate =
        serde_json::from_value(serde_json::json!({})).expect("decodes");
    assert_eq!(
        serde_json::to_value(&untouched).expect("encodes"),
        serde_json::json!({})
    );
}
