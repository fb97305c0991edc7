//! Linktor end to end against the embedded mock: a login whose access token is refreshed on a
//! `401` (ten calls refused at once: one refresh, ten re-sends), the seed's helpers, the two
//! streams' endings, lists followed by cursor or offset, the direct send's idempotency key in
//! its body, and error classification from the error body.

use std::time::Duration;

use agentwire::ErrorKind;
use agentwire::linktor::{AgentInvokeEvent, Client, CompletionEvent, PLATFORM, types};
use agentwire::mock::{Fixture, FixtureResponse, MockServer};
use futures_util::TryStreamExt;
use serde_json::json;

const ACCESS: &str = "eyJhbGciOiJIUzI1NiJ9.access";
const REFRESHED: &str = "eyJhbGciOiJIUzI1NiJ9.access2";
const REFRESH: &str = "eyJhbGciOiJIUzI1NiJ9.refresh";

async fn mock() -> MockServer {
    MockServer::start(&PLATFORM).await.expect("the mock starts")
}

fn client(mock: &MockServer) -> Client {
    let builder = mock.client_builder::<Client>().api_key("lk_test");
    builder.build().expect("client")
}

/// A client that sends no credential, as one that only logs in.
fn anonymous(mock: &MockServer) -> Client {
    mock.client_builder::<Client>().build().expect("client")
}

fn expired() -> FixtureResponse {
    let body = json!({"error": {"code": "UNAUTHORIZED", "message": "token expired"}});
    FixtureResponse::json(401, body)
}

fn me() -> serde_json::Value {
    let fixture = include_str!("../fixtures/linktor/me.get.json");
    let fixture: serde_json::Value = serde_json::from_str(fixture).expect("fixture");
    fixture["response"]["body"].clone()
}

#[tokio::test]
async fn a_login_sends_the_access_token_and_ten_refused_calls_share_one_refresh() {
    let mock = mock().await;
    // The first ten `GET /me` are refused (the token expired), the rest succeed.
    let mut answers: Vec<FixtureResponse> = (0..10).map(|_| expired()).collect();
    answers.push(FixtureResponse::json(200, me()));
    let slow_refresh = mock_refresh().delay_ms(300);
    mock.register(Fixture::new("me.get", "GET", "/me", answers[0].clone()).with_sequence(answers));
    mock.register(Fixture::new(
        "auth.refresh",
        "POST",
        "/auth/refresh",
        slow_refresh,
    ));

    let session = anonymous(&mock)
        .login("ana.souza@acme.com.br", "correct horse battery")
        .await
        .expect("logged in");
    let shown = format!("{session:?}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "{shown}"
    );

    let calls = (0..10).map(|_| {
        let session = session.clone();
        tokio::spawn(async move { session.me().get().await })
    });
    let all = futures_util::future::join_all(calls);
    let results = tokio::time::timeout(Duration::from_secs(30), all).await;
    for result in results.expect("in time") {
        let user = result
            .expect("joined")
            .expect("succeeded after the refresh");
        assert_eq!(user.email, "ana.souza@acme.com.br");
    }

    let login = mock.received("auth.login");
    assert_eq!(login.len(), 1);
    assert_eq!(
        login[0].header("authorization"),
        None,
        "login sends no credential"
    );
    let refreshes = mock.received("auth.refresh");
    assert_eq!(refreshes.len(), 1, "one refresh for the ten");
    let body = refreshes[0].json().expect("json");
    assert_eq!(body, json!({"refreshToken": REFRESH}));
    assert_eq!(refreshes[0].header("authorization"), None);
    let seen = mock.received("me.get");
    let with = |token: &str| {
        let bearer = format!("Bearer {token}");
        let sent = |r: &&agentwire::mock::Received| r.header("authorization") == Some(&bearer);
        seen.iter().filter(sent).count()
    };
    assert_eq!((seen.len(), with(ACCESS), with(REFRESHED)), (20, 10, 10));
    assert!(seen.iter().all(|r| r.header("x-api-key").is_none()));
}

fn mock_refresh() -> FixtureResponse {
    let tokens = json!({"accessToken": REFRESHED, "refreshToken": REFRESH, "expiresIn": 3600});
    FixtureResponse::json(200, tokens)
}

#[tokio::test]
async fn a_refused_refresh_fails_the_call_with_authentication_and_no_token() {
    let mock = mock().await;
    mock.register(Fixture::new("me.get", "GET", "/me", expired()));
    mock.register(Fixture::new(
        "auth.refresh",
        "POST",
        "/auth/refresh",
        expired(),
    ));
    let session = anonymous(&mock).with_session(ACCESS, REFRESH);
    let error = session.me().get().await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Authentication);
    let (shown, debug) = (error.to_string(), format!("{error:?}"));
    assert!(
        shown.contains("refreshing the access token failed"),
        "{shown}"
    );
    for token in [ACCESS, REFRESH, REFRESHED] {
        assert!(!shown.contains(token) && !debug.contains(token), "{debug}");
    }
    assert_eq!(mock.received("me.get").len(), 1, "not re-sent");
    assert_eq!(mock.received("auth.refresh").len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_and_tokens_stay_out_of_debug() {
    let mock = mock().await;
    let error = anonymous(&mock)
        .login("ana.souza@acme.com.br", "wrong")
        .await
        .expect_err("wrong password");
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
    let empty = anonymous(&mock).login(" ", "x").await.expect_err("empty");
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        mock.received("auth.login").len(),
        1,
        "the empty one is not sent"
    );

    let tokens = anonymous(&mock)
        .auth()
        .login(
            types::LoginRequest::builder()
                .email("ana.souza@acme.com.br")
                .password("correct horse battery"),
        )
        .await
        .expect("tokens");
    let shown = format!("{tokens:?}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "{shown}"
    );
    assert!(
        shown.contains("ana.souza@acme.com.br"),
        "the rest is shown: {shown}"
    );
    let request = types::LoginRequest::builder()
        .email("a@b.c")
        .password("hunter2-secret");
    assert!(!format!("{request:?}").contains("hunter2"));
}

#[tokio::test]
async fn the_helpers_answer_text_vectors_and_texts() {
    let mock = mock().await;
    let client = client(&mock);

    let answer = client
        .ai()
        .completions()
        .complete("What is the capital of France?")
        .await
        .expect("answer");
    assert_eq!(answer, "The capital of France is Paris.");
    let sent = mock.received("ai.completions.create");
    let body = sent[0].json().expect("json");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "What is the capital of France?"}])
    );
    assert_eq!(body["stream"], json!(false));

    let vector = client
        .ai()
        .embeddings()
        .embed("Hello, world!")
        .await
        .expect("vector");
    assert!(!vector.is_empty());
    let body = mock.received("ai.embeddings.create")[0]
        .json()
        .expect("json");
    assert_eq!(body["input"], json!("Hello, world!"));

    let texts = client
        .knowledge_bases()
        .search("kb_1", "troca")
        .await
        .expect("texts");
    assert_eq!(
        texts[0],
        "Trocas podem ser feitas em até 30 dias após o recebimento."
    );

    let message = client
        .conversations()
        .send_text("conv_1", "Olá! Seu pedido saiu para entrega.")
        .await
        .expect("sent");
    assert!(!message.id.is_empty());
    let body = mock.received("conversations.messages.create")[0]
        .json()
        .expect("json");
    assert_eq!(body, json!({"text": "Olá! Seu pedido saiu para entrega."}));

    for empty in [
        client.ai().completions().complete(" ").await.map(|_| ()),
        client.ai().embeddings().embed("").await.map(|_| ()),
        client
            .knowledge_bases()
            .search("kb_1", "")
            .await
            .map(|_| ()),
    ] {
        assert_eq!(empty.expect_err("empty").kind(), ErrorKind::InvalidInput);
    }
}

#[tokio::test]
async fn a_completion_stream_ends_at_done_and_an_invoke_stream_at_done_or_a_clean_close() {
    let mock = mock().await;
    let client = client(&mock);
    let ask = types::CompletionRequest::builder().messages(vec![types::ChatMessage {
        role: types::ChatRole::User,
        content: "What is the capital of France?".into(),
        name: None,
        tool_call_id: None,
        tool_calls: Vec::new(),
    }]);
    let events = client
        .ai()
        .completions()
        .create(ask)
        .stream()
        .await
        .expect("opens");
    let events: Vec<CompletionEvent> = events.try_collect().await.expect("ends at [DONE]");
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            CompletionEvent::Message(chunk) => chunk.delta.content.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(text, "The capital of France is Paris.");

    let invoke = |client: &Client| {
        let request = types::InvokeRequest::builder()
            .message("Onde está o meu pedido 1042?")
            .conversation_id(Some("conv_1".to_owned()));
        client.ai().agents().invoke("agt_1", request).stream()
    };
    let deltas = |events: Vec<AgentInvokeEvent>| -> String {
        let delta = |e: &AgentInvokeEvent| match e {
            AgentInvokeEvent::Message(m) => Some(m.delta.clone()),
            _ => None,
        };
        events.iter().filter_map(delta).collect()
    };
    // The embedded fixture: deltas, then the server closes with no `[DONE]`.
    let events = invoke(&client).await.expect("opens").try_collect().await;
    assert_eq!(
        deltas(events.expect("a clean close ends it")),
        "Seu pedido 1042 saiu para entrega hoje."
    );

    // `[DONE]` ends it even though the server keeps the stream open.
    let chunks = vec![
        "data: {\"delta\": \"Sim.\"}\n\n".to_owned(),
        "data: [DONE]\n\n".to_owned(),
    ];
    let done = FixtureResponse::sse(chunks).end("open");
    mock.register(Fixture::new(
        "ai.agents.invoke",
        "POST",
        "/ai/agents/agt_1/invoke",
        done,
    ));
    let events = invoke(&client).await.expect("opens").try_collect();
    let events = tokio::time::timeout(Duration::from_secs(10), events).await;
    assert_eq!(
        deltas(events.expect("ended at [DONE]").expect("events")),
        "Sim."
    );

    // A dropped connection is still an error.
    let mock = self::mock().await;
    let client = self::client(&mock);
    let chunks = vec!["data: {\"delta\": \"Si\"}\n\n".to_owned()];
    let dropped = FixtureResponse::sse(chunks).end("drop");
    mock.register(Fixture::new(
        "ai.agents.invoke",
        "POST",
        "/ai/agents/agt_1/invoke",
        dropped,
    ));
    let events: agentwire::Result<Vec<_>> =
        invoke(&client).await.expect("opens").try_collect().await;
    assert!(events.is_err(), "a drop is not an ending: {events:?}");
}

#[tokio::test]
async fn lists_follow_the_cursor_and_the_direct_send_carries_one_idempotency_key() {
    let mock = mock().await;
    let client = client(&mock);
    // A plain list is answered with a page, never the recorded 401 of the same path.
    let page = client.conversations().list().await.expect("a page");
    assert!(!page.items().is_empty());
    let open = client
        .conversations()
        .list()
        .status(types::ConversationStatus::Open);
    open.limit(7).await.expect("a page");
    mock.reset();
    let ids: Vec<String> = client
        .conversations()
        .list()
        .limit(2)
        .paginate()
        .items()
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(ids, ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"]);
    let asked: Vec<_> = mock
        .received("conversations.list")
        .iter()
        .map(|r| r.query_map().get("cursor").cloned())
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(
        asked[0].is_none() && asked[1..].iter().all(Option::is_some),
        "{asked:?}"
    );

    // A 503, then the send: re-sent with the same key in its body.
    let fixture = include_str!("../fixtures/linktor/messages.send_direct.json");
    let fixture: serde_json::Value = serde_json::from_str(fixture).expect("fixture");
    let queued = FixtureResponse::json(202, fixture["response"]["body"].clone());
    let unavailable = FixtureResponse::json(
        503,
        json!({"error": {"code": "UNAVAILABLE", "message": "try again"}}),
    );
    let sequence = vec![unavailable.clone(), queued];
    let send = Fixture::new(
        "messages.send_direct",
        "POST",
        "/messages/send",
        unavailable,
    );
    mock.register(send.with_sequence(sequence));
    let client = mock
        .client_builder::<Client>()
        .api_key("lk_test")
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .expect("client");
    let request = types::DirectSendRequest::builder()
        .channel_id("ch_whatsapp")
        .to("+5511999999999")
        .text("Your order has shipped.");
    client
        .messages()
        .send_direct(request)
        .await
        .expect("sent on the second attempt");
    let sent = mock.received("messages.send_direct");
    let key = |i: usize| sent[i].json().expect("json")["metadata"]["idempotency_key"].clone();
    assert_eq!(sent.len(), 2);
    assert!(
        key(0).as_str().is_some_and(|k| !k.is_empty()),
        "{:?}",
        key(0)
    );
    assert_eq!(key(0), key(1), "one key for both attempts");
}

/// The error `GET /me` fails with when the server answers `status` with `body` (no retries).
async fn me_failing_with(status: u16, body: serde_json::Value) -> agentwire::Error {
    let mock = mock().await;
    let answer = FixtureResponse::json(status, body);
    mock.register(Fixture::new("me.get", "GET", "/me", answer));
    let builder = mock.client_builder::<Client>().api_key("lk_test");
    let client = builder.max_retries(0).build().expect("client");
    client.me().get().await.expect_err("refused")
}

#[tokio::test]
async fn a_408_is_a_timeout_and_retry_after_is_read_from_the_error_body() {
    let late = json!({"error": {"code": "TIMEOUT", "message": "the flow took too long"}});
    let error = me_failing_with(408, late).await;
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");

    let limited = json!({"code": "RATE_LIMIT_ERROR", "message": "slow down", "retry_after": 7});
    let error = me_failing_with(429, limited).await;
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

/// Sends a raw HTTP/1.1 request (which asks to close the connection) and reads the whole answer.
async fn raw(mock: &MockServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(mock.addr())
        .await
        .expect("connects");
    tcp.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    let read = tcp.read_to_string(&mut answer);
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("in time")
        .expect("read");
    answer
}

#[tokio::test]
async fn the_mock_points_a_path_without_its_prefix_at_the_prefixed_one() {
    let mock = mock().await;
    let request = "GET /conversations HTTP/1.1\r\nHost: mock\r\nX-API-Key: lk_test\r\nConnection: close\r\n\r\n";
    let answer = raw(&mock, request).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains("did you mean /api/v1/conversations?"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_mock_serves_the_websocket_and_announces_rest_writes_to_subscribers() {
    use agentwire::linktor::realtime::{Event, RealtimeClient};
    use futures_util::StreamExt;
    let mock = mock().await;
    let client = client(&mock);
    let url = mock.realtime_url().expect("Linktor has a WebSocket");
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/ws"),
        "{url}"
    );

    let refused = RealtimeClient::builder()
        .url(&url)
        .token(" ")
        .connect()
        .await;
    assert_eq!(
        refused.expect_err("no credential").kind(),
        ErrorKind::InvalidInput
    );
    let (realtime, mut events) = RealtimeClient::builder()
        .url(&url)
        .api_key("lk_test")
        .ping_interval(Duration::from_millis(100))
        .idle_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connects");
    realtime.subscribe("conv_1").await.expect("subscribed");
    let live = mock
        .until_subscribed("conv_1", Duration::from_secs(10))
        .await;
    assert!(live, "subscribed within 10 s");

    // A message sent over REST in the conversation, and one in another: only the first is heard.
    client
        .conversations()
        .send_text("conv_2", "elsewhere")
        .await
        .expect("sent");
    let sent = client
        .conversations()
        .send_text("conv_1", "Olá!")
        .await
        .expect("sent");
    let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    let Ok(Some(Ok(Event::Message(message)))) = next else {
        panic!("expected the message event, got {next:?}");
    };
    assert_eq!(message.conversation_id.as_deref(), Some("conv_1"));
    assert_eq!(message.message.and_then(|m| m.id), Some(sent.id));

    // A resolve is a conversation update.
    client
        .conversations()
        .resolve("conv_1")
        .await
        .expect("resolved");
    let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    let Ok(Some(Ok(Event::ConversationUpdate(update)))) = next else {
        panic!("expected the update, got {next:?}");
    };
    assert_eq!(update.conversation_id.as_deref(), Some("conv_1"));

    // Any other event, announced by the test.
    let typing = json!({"type": "typing", "conversationId": "conv_1", "isTyping": true});
    assert_eq!(mock.publish("conv_1", &typing), 1, "one connection open");
    let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    assert!(matches!(next, Ok(Some(Ok(Event::Typing(_))))), "{next:?}");

    // Pings every 100 ms are answered, so 1.5 s pass without the 1 s idle limit declaring the
    // connection dead (no `Reconnected`), and the pongs are consumed: nothing arrives.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), events.next()).await;
    assert!(quiet.is_err(), "nothing but pongs: {quiet:?}");
    realtime.close().await;
    let rest = tokio::time::timeout(Duration::from_secs(5), events.collect::<Vec<_>>()).await;
    assert!(rest.expect("ends after the close").is_empty());
}

#[tokio::test]
async fn the_mock_refuses_a_websocket_without_a_credential_in_the_query() {
    let mock = mock().await;
    let upgrade = "GET /ws HTTP/1.1\r\nHost: mock\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let answer = raw(&mock, upgrade).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("api_key or token"), "{answer}");
}
