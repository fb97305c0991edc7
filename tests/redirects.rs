//! Redirects never change what a write does: a GET follows same-origin redirects; a write follows
//! only 307/308 (same method, body and idempotency key); a 301/302/303 on a write is an error
//! that says it may have been applied; no redirect to another origin is ever followed, and with an
//! injected HTTP client a write whose final URL moved is refused.

#![cfg(feature = "bimpeai")]

mod common;

use agentwire::ErrorKind;
use agentwire::bimpeai::types;
use agentwire::mock::{Fixture, FixtureResponse};
use common::raw::{RawServer, answer};
use common::{client_for, plain_http, setup};
use serde_json::json;

const PREFIX: &str = "/api/v1/console";

fn created() -> serde_json::Value {
    json!({"message": "ok", "data": {"id": "a_9", "name": "Hello", "description": "d",
        "created_at": "t", "updated_at": "t"}})
}

fn create_body() -> types::AgentCreate {
    types::AgentCreate::builder()
        .workflow_id("wf_1")
        .name("Hello")
        .description("d")
        .try_into()
        .expect("a valid body")
}

fn redirect(status: u16, location: &str) -> FixtureResponse {
    FixtureResponse::json(status, json!({})).header("location", location)
}

#[tokio::test]
async fn a_301_302_or_303_on_a_write_is_an_error_not_a_get() {
    for status in [301u16, 302, 303] {
        let s = setup().await;
        let location = format!("{PREFIX}/agents/");
        s.mock.register(Fixture::new(
            "agents.create",
            "POST",
            "/agents",
            redirect(status, &location),
        ));
        let err = s
            .client
            .agents()
            .create(create_body())
            .send()
            .await
            .expect_err("a redirected write is not a success");
        assert_eq!(err.kind(), ErrorKind::Other, "{status}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(err.message().contains(&location), "{status}: {err}");
        assert!(err.message().contains(&status.to_string()), "{err}");
        assert!(!err.is_retryable(), "{status}");
        assert!(
            err.may_have_been_applied(),
            "{status}: the server may have acted"
        );
        let journal = s.mock.journal();
        assert_eq!(journal.len(), 1, "{status}: nothing followed: {journal:?}");
        assert_eq!(journal[0].method, "POST");
        assert!(s.clock.sleeps().is_empty(), "not retried");
    }
}

#[tokio::test]
async fn a_307_or_308_on_a_write_resends_the_same_write() {
    for status in [307u16, 308] {
        let s = setup().await;
        s.mock.register(
            Fixture::new("agents.create", "POST", "/agents", redirect(status, "x")).with_sequence(
                vec![
                    redirect(status, &format!("{PREFIX}/agents")),
                    FixtureResponse::json(201, created()),
                ],
            ),
        );
        let agent = s
            .client
            .agents()
            .create(create_body())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status} is followed: {e}"));
        assert_eq!(agent.id, "a_9");
        let sent = s.mock.received("agents.create");
        assert_eq!(sent.len(), 2, "{status}");
        for r in &sent {
            assert_eq!(r.method, "POST");
            assert_eq!(r.json(), sent[0].json(), "the same body");
            assert_eq!(
                r.json()
                    .and_then(|b| b["workflow_id"].as_str().map(str::to_owned)),
                Some("wf_1".to_owned())
            );
        }
        let keys: Vec<_> = sent.iter().map(|r| r.header("idempotency-key")).collect();
        assert!(keys[0].is_some());
        assert_eq!(keys[0], keys[1], "the same idempotency key");
    }
}

#[tokio::test]
async fn a_get_follows_a_same_origin_redirect() {
    let s = setup().await;
    s.mock.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_old",
        redirect(301, &format!("{PREFIX}/agents/a_1")),
    ));
    s.mock.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_1",
        FixtureResponse::json(
            200,
            json!({"message": "ok", "data": {"id": "a_1", "name": "Bot", "description": "d",
                "created_at": "t", "updated_at": "t"}}),
        ),
    ));
    let agent = s
        .client
        .agents()
        .retrieve("a_old")
        .send()
        .await
        .expect("followed");
    assert_eq!(agent.id, "a_1");
    let paths: Vec<_> = s.mock.journal().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/agents/a_old", "/agents/a_1"]);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_never_followed() {
    let elsewhere = RawServer::start(vec![answer("200 OK", &[], b"{}")]).await;
    for method in ["GET", "POST"] {
        let s = setup().await;
        let location = format!("{}{PREFIX}/agents/a_1", elsewhere.origin());
        if method == "GET" {
            s.mock.register(Fixture::new(
                "agents.retrieve",
                "GET",
                "/agents/a_2",
                redirect(302, &location),
            ));
        } else {
            s.mock.register(Fixture::new(
                "agents.create",
                "POST",
                "/agents",
                redirect(307, &location),
            ));
        }
        let err = if method == "GET" {
            s.client
                .agents()
                .retrieve("a_2")
                .send()
                .await
                .expect_err("not followed")
        } else {
            s.client
                .agents()
                .create(create_body())
                .send()
                .await
                .expect_err("not followed")
        };
        assert_eq!(err.kind(), ErrorKind::Other, "{method}: {err}");
        assert!(err.message().contains(&elsewhere.origin()), "{err}");
        assert!(err.message().contains("another origin"), "{err}");
        assert!(!err.is_retryable());
        assert_eq!(s.mock.journal().len(), 1, "{method}");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "no request (and no credential) reached the other origin"
    );
}

#[tokio::test]
async fn too_many_redirects_end_with_an_error() {
    let s = setup().await;
    s.mock.register(Fixture::new(
        "agents.retrieve",
        "GET",
        "/agents/a_loop",
        redirect(302, &format!("{PREFIX}/agents/a_loop")),
    ));
    let err = s
        .client
        .agents()
        .retrieve("a_loop")
        .send()
        .await
        .expect_err("a loop");
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.message().contains("redirects"), "{err}");
    assert_eq!(
        s.mock.journal().len(),
        6,
        "the first request and five redirects"
    );
}

#[tokio::test]
async fn an_injected_client_that_followed_a_write_redirect_is_refused() {
    // reqwest's default policy turns a POST answered 302 into a GET of the Location.
    let server = RawServer::start(vec![
        answer("302 Found", &[("location", "/api/v1/console/agents/")], b""),
        answer(
            "200 OK",
            &[("content-type", "application/json")],
            created().to_string().as_bytes(),
        ),
    ])
    .await;
    let (client, _clock) = client_for(&server.origin(), |b| b.http_client(plain_http()));
    let err = client
        .agents()
        .create(create_body())
        .send()
        .await
        .expect_err("the GET's answer is not the write's result");
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(err.may_have_been_applied());
    assert!(err.message().contains("/agents/"), "{err}");
    let methods: Vec<_> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(
        methods,
        ["POST", "GET"],
        "the injected client followed on its own"
    );
}
