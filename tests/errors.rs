//! The whole error table: every status class, the platform's error body (message as a string or
//! a list, code, request id), rate-limit headers, non-JSON bodies, undecodable successes, and
//! transport failures — each asserting its kind and fields.

#![cfg(feature = "bimpeai")]

mod common;

use std::time::Duration;

use agentwire::bimpeai::types;
use agentwire::mock::{Fixture, FixtureResponse};
use agentwire::prelude::*;
use agentwire::{ErrorKind, FieldError, RateLimit};
use common::{setup, setup_with};
use serde_json::json;

async fn retrieve_err(s: &common::Setup, id: &str) -> agentwire::Error {
    s.client
        .agents()
        .retrieve(id)
        .max_retries(0)
        .send()
        .await
        .expect_err("the fixture answers with an error")
}

fn answer(id: &str, response: FixtureResponse) -> Fixture {
    Fixture::new("agents.retrieve", "GET", &format!("/agents/{id}"), response)
}

#[tokio::test]
async fn validation_errors_carry_field_errors() {
    let s = setup().await;
    // The platform's recorded refusal (agents.create.validation.json), served for a body the
    // typed client would itself refuse (the spec's `minLength`): answered to a body it sends.
    let mut refusal = agentwire::mock::embedded_fixtures(&agentwire::bimpeai::PLATFORM)
        .expect("fixtures")
        .into_iter()
        .find(|f| f.file.ends_with("agents.create.validation.json"))
        .expect("the recorded refusal");
    refusal.request.body =
        Some(json!({"workflow_id": "wf_0", "name": "x", "description": "no name"}));
    s.mock.register(refusal);
    let err = s
        .client
        .agents()
        .create(
            types::AgentCreate::builder()
                .workflow_id("wf_0")
                .name("x")
                .description("no name"),
        )
        .send()
        .await
        .expect_err("validation fixture");
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(
        err.field_errors(),
        [
            FieldError {
                path: "name".into(),
                message: "must not be empty".into()
            },
            FieldError {
                path: "workflow_id".into(),
                message: "must not be empty".into()
            },
        ]
    );
    assert_eq!(err.field_errors().len(), 2);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.code(), Some("validation_error"));
    assert_eq!(
        err.message(),
        "name: must not be empty; workflow_id: must not be empty"
    );
    assert_eq!(
        err.request_id(),
        Some("req_body_1"),
        "no header: the body's request id"
    );
    assert_eq!(err.operation(), Some("agents.create"));
    assert_eq!(err.platform(), Some("BimpeAI"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn the_spec_s_length_rules_are_checked_before_sending() {
    let s = setup().await;
    let err = s
        .client
        .agents()
        .create(
            types::AgentCreate::builder()
                .workflow_id("")
                .name("")
                .description("no name"),
        )
        .send()
        .await
        .expect_err("an empty name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("must not be empty (got 0 characters)"),
        "{err}"
    );
    assert!(s.mock.journal().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_field_error_splits_at_the_first_colon_only() {
    let s = setup().await;
    s.mock.register(answer(
        "a_v",
        FixtureResponse::json(
            400,
            json!({"message": ["url: must match: https://", "plain message"], "code": "validation_error"}),
        ),
    ));
    let err = retrieve_err(&s, "a_v").await;
    assert_eq!(
        err.field_errors(),
        &[
            FieldError {
                path: "url".into(),
                message: "must match: https://".into()
            },
            FieldError {
                path: "".into(),
                message: "plain message".into()
            },
        ]
    );
}

#[tokio::test]
async fn each_status_maps_to_its_kind() {
    let s = setup().await;
    let cases: Vec<(u16, &str, ErrorKind)> = vec![
        (400, "bad_request", ErrorKind::BadRequest),
        (401, "api_key_invalid", ErrorKind::Authentication),
        (403, "insufficient_scope", ErrorKind::PermissionDenied),
        (404, "not_found", ErrorKind::NotFound),
        (409, "conflict", ErrorKind::Conflict),
        (422, "validation_error", ErrorKind::Validation),
        (500, "internal_error", ErrorKind::Server),
        (501, "not_implemented", ErrorKind::NotImplemented),
        (503, "internal_error", ErrorKind::Unavailable),
        (504, "internal_error", ErrorKind::Server),
        (418, "bad_request", ErrorKind::Other),
        (408, "bad_request", ErrorKind::Timeout),
    ];
    for (status, code, kind) in cases {
        let id = format!("a_{status}");
        s.mock.register(answer(
            &id,
            FixtureResponse::json(
                status,
                json!({"message": format!("status {status}"), "code": code}),
            )
            .header("x-request-id", &format!("req_{status}")),
        ));
        let err = retrieve_err(&s, &id).await;
        assert_eq!(err.kind(), kind, "status {status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.message(), format!("status {status}"));
        assert_eq!(err.request_id(), Some(format!("req_{status}").as_str()));
        assert!(err.body().is_some() && err.headers().is_some());
        let retryable = matches!(status, 408 | 500 | 503 | 504);
        assert_eq!(err.is_retryable(), retryable, "status {status}");
    }
}

#[tokio::test]
async fn the_recorded_error_fixtures() {
    let s = setup().await;
    let err = retrieve_err(&s, "a_missing").await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some("req_nf"));

    let err = retrieve_err(&s, "a_teapot").await;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(418));

    let err = retrieve_err(&s, "a_boom").await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.code(), Some("internal_error"));

    let err = s
        .client
        .workflows()
        .retrieve("w_unauth")
        .send()
        .await
        .expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.code(), Some("api_key_missing"));

    let err = s
        .client
        .agents()
        .delete("a_locked")
        .send()
        .await
        .expect_err("403");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);

    let err = s.client.calls().list_team().send().await.expect_err("501");
    assert_eq!(err.kind(), ErrorKind::NotImplemented);
    assert_eq!(
        s.mock.received("calls.list_team").len(),
        1,
        "501 is not retried"
    );
}

#[tokio::test]
async fn rate_limits_carry_the_platform_pacing() {
    let s = setup().await;
    let err = retrieve_err(&s, "a_busy").await;
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err:?}");
    let limit = err.rate_limit().expect("the pacing headers");
    let mut expected = RateLimit::default();
    expected.retry_after = Some(Duration::from_secs(7));
    expected.limit = Some(60);
    expected.remaining = Some(0);
    expected.reset_at = Some("1767225600".into());
    assert_eq!(limit, &expected);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.code(), Some("too_many_requests"));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("retry after 7.0 s"), "{err}");
}

#[tokio::test]
async fn the_header_request_id_beats_the_body() {
    let s = setup().await;
    s.mock.register(answer(
        "a_ids",
        FixtureResponse::json(
            404,
            json!({"message": "missing", "code": "not_found", "request_id": "from_body"}),
        )
        .header("x-request-id", "from_header"),
    ));
    assert_eq!(
        retrieve_err(&s, "a_ids").await.request_id(),
        Some("from_header")
    );
}

#[tokio::test]
async fn without_any_server_id_the_sent_id_is_reported() {
    let s = setup().await;
    s.mock.register(answer(
        "a_noid",
        FixtureResponse::json(404, json!({"message": "missing"})),
    ));
    let err = retrieve_err(&s, "a_noid").await;
    let sent = s.mock.received("agents.retrieve");
    assert_eq!(err.request_id(), sent[0].header("x-request-id"));
    assert_eq!(err.code(), None);
}

#[tokio::test]
async fn an_html_gateway_page_is_a_server_error_with_its_body_kept() {
    let s = setup().await;
    let err = retrieve_err(&s, "a_gateway").await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.message(), "HTTP 502 Bad Gateway");
    let body = String::from_utf8_lossy(err.body().expect("raw body kept")).into_owned();
    assert!(body.contains("502 Bad Gateway"), "{body}");
}

#[tokio::test]
async fn an_undecodable_success_is_a_decode_error_naming_the_path() {
    let s = setup().await;
    s.mock.register(answer(
        "a_bad",
        FixtureResponse::json(
            200,
            json!({"message": "ok", "data": {"id": 5, "name": "x"}}),
        ),
    ));
    let err = retrieve_err(&s, "a_bad").await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("`data.id`"), "{}", err.message());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    let raw = String::from_utf8_lossy(err.body().expect("raw body kept")).into_owned();
    assert!(raw.contains("\"id\":5"), "{raw}");
    assert!(!err.is_retryable());

    // Not the envelope: no `message`.
    s.mock.register(answer(
        "a_raw",
        FixtureResponse::json(200, json!({"id": "x"})),
    ));
    let err = retrieve_err(&s, "a_raw").await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("`message`"), "{}", err.message());

    // Not JSON at all.
    let mut text = FixtureResponse::json(200, json!(null));
    text.body = None;
    text.text = Some("<html>oops</html>".into());
    s.mock.register(answer("a_html", text));
    assert_eq!(retrieve_err(&s, "a_html").await.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn unknown_fields_and_enum_values_are_tolerated() {
    let s = setup().await;
    s.mock.register(answer(
        "a_new",
        FixtureResponse::json(
            200,
            json!({"message": "ok", "data": {"id": "a_new", "name": "n", "description": "d",
                "created_at": "t", "updated_at": "t", "status": "archived", "persona": "pirate",
                "brand_new_field": {"x": 1}, "knowledge_bases": [], "integrations": [], "channels": []}}),
        ),
    ));
    let agent = s
        .client
        .agents()
        .retrieve("a_new")
        .send()
        .await
        .expect("tolerant decode");
    assert_eq!(
        agent.status,
        Some(types::AgentStatus::Unknown("archived".into()))
    );
    assert_eq!(agent.persona.as_ref().map(|p| p.as_str()), Some("pirate"));
    assert!(agent.persona.as_ref().is_some_and(|p| !p.is_known()));
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let s = setup_with(|b| b.max_response_bytes(64)).await;
    let err = s
        .client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("64-byte limit"), "{}", err.message());
}

#[tokio::test]
async fn a_timeout_is_its_own_kind() {
    let s = setup().await;
    s.mock.register(answer(
        "a_slow",
        FixtureResponse::json(200, json!({})).delay_ms(3_000),
    ));
    let started = std::time::Instant::now();
    let err = s
        .client
        .agents()
        .retrieve("a_slow")
        .timeout(Duration::from_millis(100))
        .max_retries(0)
        .send()
        .await
        .expect_err("times out");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(2), "the stall ends");
}

#[tokio::test]
async fn messages_never_contain_the_key() {
    let s = setup_with(|b| b.api_key("sk_live_SECRET_123")).await;
    let err = retrieve_err(&s, "a_missing").await;
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{:?}", s.client),
    ] {
        assert!(!text.contains("SECRET"), "leaked: {text}");
    }
}

const _: () = {
    const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<agentwire::Error>();
};
