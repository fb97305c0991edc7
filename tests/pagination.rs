//! Pagination: pages and items across the recorded three pages, metadata and request id on
//! each page, the next page fetched only on demand, and lists that would loop forever refused.

#![cfg(feature = "bimpeai")]

mod common;

use agentwire::ErrorKind;
use agentwire::mock::{Fixture, FixtureResponse};
use common::setup;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;

#[tokio::test]
async fn items_cross_every_page() {
    let s = setup().await;
    let ids: Vec<String> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(2)
        .paginate()
        .items()
        .map_ok(|a| a.id)
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(ids, ["a_1", "a_2", "a_3", "a_4", "a_5"]);
    let pages: Vec<_> = s
        .mock
        .received("agents.list")
        .iter()
        .map(|r| r.query_map())
        .collect();
    assert_eq!(pages.len(), 3);
    for (i, q) in pages.iter().enumerate() {
        assert_eq!(
            q.get("page").map(String::as_str),
            Some((i + 1).to_string().as_str())
        );
        assert_eq!(
            q.get("limit").map(String::as_str),
            Some("2"),
            "the size is kept"
        );
    }
}

#[tokio::test]
async fn pages_keep_their_metadata_and_request_id() {
    let s = setup().await;
    let pages: Vec<_> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(2)
        .paginate()
        .pages()
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(pages.len(), 3);
    let first = &pages[0];
    let meta = first.meta().expect("meta");
    assert_eq!(meta.total_count, 5);
    assert_eq!(meta.page_count, 3);
    assert_eq!(meta.current_page, 1);
    assert_eq!(meta.limit, 2);
    assert!(meta.has_next_page && !meta.has_previous_page);
    assert_eq!(first.info().total, Some(5));
    assert_eq!(first.info().page, Some(1));
    assert!(first.has_next());
    assert_eq!(first.request_id(), Some("req_agents_list_1"));
    let last = &pages[2];
    assert_eq!(last.info().page, Some(3));
    assert!(!last.has_next());
    assert_ne!(pages[1].request_id(), first.request_id());
}

#[tokio::test]
async fn an_early_break_fetches_nothing_more() {
    let s = setup().await;
    let first_three: Vec<_> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(2)
        .paginate()
        .items()
        .take(3)
        .try_collect()
        .await
        .expect("items");
    assert_eq!(first_three.len(), 3);
    assert_eq!(
        s.mock.received("agents.list").len(),
        2,
        "page 3 was never asked for"
    );

    s.mock.reset();
    let mut stream = std::pin::pin!(s.client.agents().list().page(1).limit(2).paginate().items());
    let _one = stream.next().await;
    assert_eq!(s.mock.received("agents.list").len(), 1);
}

#[tokio::test]
async fn next_page_walks_by_hand_and_max_pages_stops() {
    let s = setup().await;
    let mut p = s.client.agents().list().page(1).limit(2).paginate();
    let mut n = 0;
    while let Some(page) = p.next_page().await.expect("page") {
        n += page.items().len();
    }
    assert_eq!(n, 5);
    assert!(p.next_page().await.expect("done").is_none(), "stays done");

    s.mock.reset();
    let pages: Vec<_> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(2)
        .paginate()
        .max_pages(2)
        .pages()
        .try_collect()
        .await
        .expect("two pages");
    assert_eq!(pages.len(), 2);
    assert_eq!(s.mock.received("agents.list").len(), 2);
}

fn page(current: u64, ids: &[&str], has_next: bool) -> FixtureResponse {
    let data: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "name": "n", "description": "d", "created_at": "t", "updated_at": "t"}))
        .collect();
    FixtureResponse::json(
        200,
        json!({"message": "ok", "data": data, "meta": {"total_count": 99, "page_count": 9,
            "current_page": current, "limit": 2, "has_next_page": has_next, "has_previous_page": current > 1}}),
    )
}

#[tokio::test]
async fn a_page_that_does_not_advance_is_an_error_not_a_loop() {
    let s = setup().await;
    // Whatever page is asked for, the server answers "page 1, more follow".
    s.mock.register(
        Fixture::new(
            "agents.list",
            "GET",
            "/agents",
            page(1, &["a_1", "a_2"], true),
        )
        .with_query("limit", "7"),
    );
    let results: Vec<_> = s
        .client
        .agents()
        .list()
        .limit(7)
        .paginate()
        .pages()
        .collect()
        .await;
    assert_eq!(
        results.len(),
        2,
        "one good page, then the error, then the end"
    );
    let err = results[1].as_ref().expect_err("stuck");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.message().contains("did not advance"),
        "{}",
        err.message()
    );
    assert_eq!(s.mock.received("agents.list").len(), 2);
}

/// A page answer for `page=N` of a list asked with `limit`.
fn page_fixture(limit: &str, n: u64, ids: &[&str], has_next: bool) -> Fixture {
    Fixture::new("agents.list", "GET", "/agents", page(n, ids, has_next))
        .with_query("limit", limit)
        .with_query("page", &n.to_string())
}

#[tokio::test]
async fn an_empty_page_in_the_middle_of_a_list_is_skipped() {
    let s = setup().await;
    // Page 2 of 3 is empty (a filtered listing) and says more follow.
    s.mock.register(page_fixture("8", 1, &["a_1"], true));
    s.mock.register(page_fixture("8", 2, &[], true));
    s.mock.register(page_fixture("8", 3, &["a_3"], false));
    let ids: Vec<String> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(8)
        .paginate()
        .items()
        .map_ok(|a| a.id)
        .try_collect()
        .await
        .expect("the empty page is not an error");
    assert_eq!(ids, ["a_1", "a_3"]);
    let asked: Vec<_> = s
        .mock
        .received("agents.list")
        .iter()
        .map(|r| r.query_map().get("page").cloned().unwrap_or_default())
        .collect();
    assert_eq!(asked, ["1", "2", "3"]);
}

#[tokio::test]
async fn ten_consecutive_empty_pages_end_with_an_error() {
    let s = setup().await;
    for n in 1..=11 {
        s.mock.register(page_fixture("6", n, &[], true));
    }
    let results: Vec<_> = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(6)
        .paginate()
        .items()
        .collect()
        .await;
    assert_eq!(results.len(), 1, "no items, one error: {results:?}");
    let err = results[0]
        .as_ref()
        .expect_err("an endless run of empty pages");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("consecutive empty pages"), "{err}");
    assert_eq!(
        s.mock.received("agents.list").len(),
        agentwire::MAX_CONSECUTIVE_EMPTY_PAGES,
        "stops after the tenth empty page"
    );
}

#[tokio::test]
async fn a_dropped_next_page_fetches_the_same_page_again() {
    let s = setup().await;
    s.mock.register(page_fixture("5", 1, &["a_1"], true));
    s.mock
        .register(page_fixture("5", 2, &["a_2"], false).with_sequence(vec![
            page(2, &["a_2"], false).delay_ms(10_000),
            page(2, &["a_2"], false),
        ]));
    let mut pages = s.client.agents().list().page(1).limit(5).paginate();
    let first = pages.next_page().await.expect("page 1").expect("a page");
    assert_eq!(first.items()[0].id, "a_1");
    // The caller gives up on page 2 while its request is in flight.
    let dropped =
        tokio::time::timeout(std::time::Duration::from_millis(200), pages.next_page()).await;
    assert!(dropped.is_err(), "the slow page was abandoned");
    let second = pages
        .next_page()
        .await
        .expect("page 2 again")
        .expect("the listing did not end");
    assert_eq!(second.items()[0].id, "a_2");
    assert!(pages.next_page().await.expect("the end").is_none());
    let asked: Vec<_> = s
        .mock
        .received("agents.list")
        .iter()
        .map(|r| r.query_map().get("page").cloned().unwrap_or_default())
        .collect();
    assert_eq!(asked, ["1", "2", "2"]);
}

#[tokio::test]
async fn a_list_without_meta_is_a_single_page() {
    let s = setup().await;
    s.mock.register(
        Fixture::new(
            "agents.list",
            "GET",
            "/agents",
            FixtureResponse::json(
                200,
                json!({"message": "ok", "data": [{"id": "a_9", "name": "n", "description": "d",
                    "created_at": "t", "updated_at": "t"}]}),
            ),
        )
        .with_query("limit", "9"),
    );
    let pages: Vec<_> = s
        .client
        .agents()
        .list()
        .limit(9)
        .paginate()
        .pages()
        .try_collect()
        .await
        .expect("one page");
    assert_eq!(pages.len(), 1);
    assert!(pages[0].meta().is_none());
    assert!(!pages[0].has_next());
}

#[tokio::test]
async fn an_invalid_first_request_surfaces_on_the_first_fetch() {
    let s = setup().await;
    let mut p = s.client.conversations().list("").paginate();
    let err = p.next_page().await.expect_err("empty agent id");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.operation(), Some("conversations.list"));
    assert!(s.mock.journal().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_finished_stream_can_be_polled_again() {
    let s = setup().await;
    let mut items = std::pin::pin!(s.client.agents().list().page(1).limit(2).paginate().items());
    while items.next().await.is_some() {}
    assert!(items.next().await.is_none(), "no panic, still the end");
    let mut pages = std::pin::pin!(s.client.agents().list().page(1).limit(2).paginate().pages());
    while pages.next().await.is_some() {}
    assert!(pages.next().await.is_none());
}

#[tokio::test]
async fn each_item_can_reach_its_page_metadata_and_request_id() {
    use futures_util::TryStreamExt;
    let s = setup().await;
    let mut items = s
        .client
        .agents()
        .list()
        .page(1)
        .limit(2)
        .paginate()
        .items_with_context();
    let mut seen = Vec::new();
    // Unpin: no `pin!` needed.
    while let Some((agent, page)) = items.try_next().await.expect("items") {
        seen.push((
            agent.id,
            page.info().page,
            page.request_id().map(str::to_owned),
            page.meta().map(|m| m.total_count),
        ));
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen[0],
        (
            "a_1".into(),
            Some(1),
            Some("req_agents_list_1".into()),
            Some(5)
        )
    );
    assert_eq!(seen[2].1, Some(2), "a_3 is on page 2");
    assert_ne!(seen[2].2, seen[0].2, "each page its own request id");
    assert_eq!(seen[4].1, Some(3));
}
