//! Credentials that change while the client lives: an access token refused with a `401` is
//! refreshed once — one refresh shared by every call that hit the `401` — and each call is
//! re-sent once with the new token (on the spec fragment `tests/specs/runs.yaml`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use agentwire::testkit::runs::{Client, PLATFORM};
use agentwire::{ErrorKind, Refresher, RefreshingCredentials, Secret, StaticCredentials};
use serde_json::json;

fn refused() -> FixtureResponse {
    FixtureResponse::json(401, json!({"message": "token expired"}))
}

fn ran() -> FixtureResponse {
    FixtureResponse::json(200, json!({"ok": true, "runId": "r_1", "error": null}))
}

async fn client(mock: &MockServer, refresher: Refresher) -> Client {
    let credentials = RefreshingCredentials::new(
        StaticCredentials::default(),
        "api_key",
        Some(Secret::new("old")),
        refresher,
    );
    mock.client_builder::<Client>()
        .credential_provider(Arc::new(credentials))
        .build()
        .expect("client")
}

#[tokio::test]
async fn ten_calls_refused_at_once_share_one_refresh_and_each_is_re_sent_once() {
    let mock = MockServer::start_with(&PLATFORM, Vec::new(), 0)
        .await
        .expect("mock");
    // The first ten requests are refused (the old token), every later one succeeds.
    let mut answers: Vec<FixtureResponse> = (0..10).map(|_| refused()).collect();
    answers.push(ran());
    mock.register(Fixture::new("flows.run", "POST", "/flows/f_1", ran()).with_sequence(answers));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = refreshes.clone();
    let refresher: Refresher = Arc::new(move || {
        let counter = counter.clone();
        Box::pin(async move {
            counter.fetch_add(1, Ordering::SeqCst);
            // Slow enough that every call's first attempt has been refused meanwhile.
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Secret::new("new"))
        })
    });
    let client = client(&mock, refresher).await;
    let calls = (0..10).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.flows().run("f_1").await })
    });
    let results = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("in time");
    for result in results {
        result
            .expect("joined")
            .expect("succeeded after the refresh");
    }
    assert_eq!(
        refreshes.load(Ordering::SeqCst),
        1,
        "one refresh for all ten"
    );
    let seen = mock.received("flows.run");
    let with = |token: &str| {
        seen.iter()
            .filter(|r| r.header("authorization") == Some(token))
            .count()
    };
    assert_eq!(seen.len(), 20);
    assert_eq!(with("Bearer old"), 10);
    assert_eq!(
        with("Bearer new"),
        10,
        "each call re-sent once, with the new token"
    );
}

#[tokio::test]
async fn a_failed_refresh_is_an_authentication_error_that_says_so() {
    let mock = MockServer::start_with(
        &PLATFORM,
        vec![Fixture::new("flows.run", "POST", "/flows/f_1", refused())],
        0,
    )
    .await
    .expect("mock");
    let refresher: Refresher = Arc::new(|| {
        Box::pin(async {
            Err(agentwire::Error::authentication(
                "the refresh token expired",
            ))
        })
    });
    let client = client(&mock, refresher).await;
    let error = client.flows().run("f_1").await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(
        error.to_string().contains("refreshing the api key failed"),
        "{error}"
    );
    assert!(
        !format!("{error:?}").contains("old"),
        "no token in the error"
    );
    assert_eq!(mock.received("flows.run").len(), 1, "not re-sent");
}

#[tokio::test]
async fn a_401_after_the_refresh_is_final() {
    let mock = MockServer::start_with(
        &PLATFORM,
        vec![Fixture::new("flows.run", "POST", "/flows/f_1", refused())],
        0,
    )
    .await
    .expect("mock");
    let refresher: Refresher = Arc::new(|| Box::pin(async { Ok(Secret::new("new")) }));
    let client = client(&mock, refresher).await;
    let error = client.flows().run("f_1").await.expect_err("still refused");
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert_eq!(
        mock.received("flows.run").len(),
        2,
        "one refresh, one re-send, no more"
    );
}

#[tokio::test]
async fn with_credentials_keeps_the_client_and_swaps_only_its_credentials() {
    let mock = MockServer::start_with(
        &PLATFORM,
        vec![Fixture::new("flows.run", "POST", "/flows/f_1", ran())],
        0,
    )
    .await
    .expect("mock");
    let tenant_a = mock
        .client_builder::<Client>()
        .api_key("tenant-a")
        .build()
        .expect("client");
    let mut other = StaticCredentials::default();
    other.set("api_key", Secret::new("tenant-b"));
    let tenant_b = tenant_a.with_credentials(Arc::new(other));
    tenant_b.flows().run("f_1").await.expect("tenant b");
    tenant_a.flows().run("f_1").await.expect("tenant a");
    let sent: Vec<_> = mock
        .received("flows.run")
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    let expected = ["Bearer tenant-b", "Bearer tenant-a"].map(|s| Some(s.to_owned()));
    assert_eq!(sent, expected);
    assert!(!format!("{tenant_b:?}").contains("tenant-b"));
}
