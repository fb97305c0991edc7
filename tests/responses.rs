//! Odd success and error bodies, read the way real servers send them: an empty body where no
//! result is declared, a byte-order mark before the JSON, `null` for an empty list, and error
//! pages larger than the size cap (classified by status and headers all the same).

#![cfg(feature = "bimpeai")]

mod common;

use std::time::Duration;

use agentwire::ErrorKind;
use agentwire::mock::{Fixture, FixtureResponse};
use common::raw::{RawServer, answer};
use common::{client_for, setup_with};
use serde_json::json;

const AGENT: &str = r#"{"message":"ok","data":{"id":"a_1","name":"Bot","description":"d","created_at":"t","updated_at":"t"}}"#;

#[tokio::test]
async fn an_operation_without_a_result_accepts_any_empty_body() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("204 No Content", &[]),
        ("200 OK", &[("content-type", "application/json")]),
        ("200 OK", &[]),
        ("200 OK", &[("content-type", "text/plain")]),
    ];
    for (status, headers) in cases {
        let server = RawServer::start(vec![answer(status, headers, b"")]).await;
        let (client, _) = client_for(&server.origin(), |b| b);
        let deleted = client
            .agents()
            .delete("a_1")
            .send_with_response()
            .await
            .unwrap_or_else(|e| panic!("{status} {headers:?}: {e}"));
        assert_eq!(
            deleted.status().as_u16(),
            if status.starts_with("204") { 204 } else { 200 }
        );
        assert_eq!(server.requests().len(), 1);
        assert_eq!(server.requests()[0].method, "DELETE");
    }
}

#[tokio::test]
async fn an_empty_body_where_a_result_is_declared_is_a_decode_error_that_says_so() {
    for status in ["200 OK", "204 No Content"] {
        let server = RawServer::start(vec![answer(
            status,
            &[("content-type", "application/json")],
            b"",
        )])
        .await;
        let (client, _) = client_for(&server.origin(), |b| b);
        let err = client
            .agents()
            .retrieve("a_1")
            .send()
            .await
            .expect_err("no agent in an empty body");
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert!(err.message().contains("empty"), "{err}");
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn a_byte_order_mark_before_json_is_skipped_on_success_and_error() {
    let mut ok = b"\xEF\xBB\xBF".to_vec();
    ok.extend_from_slice(AGENT.as_bytes());
    let mut not_found = b"\xEF\xBB\xBF".to_vec();
    not_found.extend_from_slice(br#"{"message":"no such agent","code":"not_found"}"#);
    let json = [("content-type", "application/json")];
    let server = RawServer::start(vec![
        answer("200 OK", &json, &ok),
        answer("404 Not Found", &json, &not_found),
    ])
    .await;
    let (client, _) = client_for(&server.origin(), |b| b);
    let agent = client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect("decoded");
    assert_eq!(agent.name, "Bot");
    let err = client
        .agents()
        .retrieve("a_2")
        .send()
        .await
        .expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("not_found"));
    assert_eq!(err.message(), "no such agent");
}

#[tokio::test]
async fn a_list_sent_as_null_decodes_as_empty() {
    let body = json!({"message": "ok", "data": {"id": "a_1", "name": "Bot", "description": "d",
        "created_at": "t", "updated_at": "t", "channels": null, "integrations": null,
        "knowledge_bases": [{"id": "k_1", "type": "text", "name": "FAQ"}]}});
    let s = setup_with(|b| b).await;
    s.mock.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_1",
        FixtureResponse::json(200, body),
    ));
    let agent = s
        .client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect("null lists are empty");
    assert!(agent.channels.is_empty());
    assert!(agent.integrations.is_empty());
    assert_eq!(agent.knowledge_bases.len(), 1);
}

#[tokio::test]
async fn an_error_page_over_the_size_cap_keeps_its_status_and_is_retried() {
    let page = format!("<html><body>{}</body></html>", "x".repeat(500));
    let s = setup_with(|b| b.max_response_bytes(256)).await;
    s.mock.register(
        Fixture::new(
            "agents.retrieve",
            "GET",
            "/agents/a_1",
            FixtureResponse::json(200, json!({})),
        )
        .with_sequence(vec![
            html(503, &page).header("retry-after", "2"),
            FixtureResponse::json(200, serde_json::from_str(AGENT).unwrap()),
        ]),
    );
    let agent = s
        .client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect("retried");
    assert_eq!(agent.id, "a_1");
    assert_eq!(s.mock.received("agents.retrieve").len(), 2);
    assert_eq!(
        s.clock.sleeps(),
        [Duration::from_secs(2)],
        "Retry-After honoured"
    );

    // Not retryable: the error itself, truncated and saying so.
    let s = setup_with(|b| b.max_response_bytes(256)).await;
    s.mock.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_1",
        html(404, &page),
    ));
    let err = s
        .client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.body_truncated());
    assert_eq!(err.body().map(|b| b.len()), Some(256));
    assert!(err.to_string().contains("truncated"), "{err}");
    assert_eq!(s.mock.received("agents.retrieve").len(), 1);
}

/// An HTML answer, as gateways send.
fn html(status: u16, page: &str) -> FixtureResponse {
    let mut r = FixtureResponse::json(status, json!(null)).header("content-type", "text/html");
    r.body = None;
    r.text = Some(page.to_owned());
    r
}

#[tokio::test]
async fn an_undeclared_success_status_or_content_type_is_never_read_as_the_result() {
    let json = [("content-type", "application/json")];
    let server = RawServer::start(vec![
        // agents.retrieve declares 200: a 202 with a perfectly good agent is still not it.
        answer("202 Accepted", &json, AGENT.as_bytes()),
        answer("200 OK", &[("content-type", "text/html")], AGENT.as_bytes()),
    ])
    .await;
    let (client, _) = client_for(&server.origin(), |b| b);
    let err = client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect_err("202");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("HTTP 202"), "{err}");
    assert!(err.message().contains("declares 200"), "{err}");
    assert_eq!(
        err.body().map(|b| b.len()),
        Some(AGENT.len()),
        "the body is kept"
    );
    let err = client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect_err("html");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("text/html"), "{err}");
}

#[tokio::test]
async fn a_result_moves_out_of_send_and_its_request_id_stays_reachable() {
    let s = setup_with(|b| b).await;
    // The model itself: a field moves out.
    let name: String = s
        .client
        .agents()
        .retrieve("a_1")
        .send()
        .await
        .expect("ok")
        .name;
    assert_eq!(name, "Bot");
    // Awaiting the builder is the same as send().
    let agent = s.client.agents().retrieve("a_1").await.expect("ok");
    assert_eq!(agent.id, "a_1");
    // With the response: status, headers and request id.
    let response = s
        .client
        .agents()
        .retrieve("a_1")
        .send_with_response()
        .await
        .expect("ok");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.request_id(), Some("req_agents_retrieve_1"));
    assert_eq!(response.into_inner().id, "a_1");
}
