//! Linktor's real-time client against a loopback WebSocket server started in each test: typed
//! events, unknown types and malformed frames, auth in the query, reconnects with
//! re-subscription, the idle timeout, pings, backpressure and a clean close. Every wait is
//! bounded; every test ends in a few seconds.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agentwire::ErrorKind;
use agentwire::linktor::realtime::{Event, Events, RealtimeClient};
use agentwire::mock::RecordingClock;
use futures_util::stream::FusedStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

/// Runs a test body, failing it if it takes more than 20 s.
async fn within(body: impl Future<Output = ()>) {
    timeout(Duration::from_secs(20), body)
        .await
        .expect("the test took longer than 20 s");
}

/// One upgraded connection and the query string of its upgrade request.
struct Conn {
    ws: WebSocketStream<TcpStream>,
    query: String,
}

/// A loopback server: its `ws://` URL, and each connection it upgrades, in order. With
/// `refuse`, it answers every upgrade with a 401 instead.
async fn server(refuse: bool) -> (String, mpsc::UnboundedReceiver<Conn>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut query = String::new();
            #[allow(
                clippy::result_large_err,
                reason = "the handshake callback's signature is tungstenite's"
            )]
            let callback = |request: &Request, response: Response| {
                query = request.uri().query().unwrap_or_default().to_owned();
                if refuse {
                    let mut refusal = ErrorResponse::new(Some("no".into()));
                    *refusal.status_mut() = StatusCode::UNAUTHORIZED;
                    return Err(refusal);
                }
                Ok(response)
            };
            if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                && tx.send(Conn { ws, query }).is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

async fn accept(conns: &mut mpsc::UnboundedReceiver<Conn>) -> Conn {
    timeout(Duration::from_secs(5), conns.recv())
        .await
        .expect("no connection within 5 s")
        .expect("the server stopped")
}

/// The next text frame the server receives, as JSON (pings skipped).
async fn read_json(conn: &mut Conn) -> Value {
    loop {
        let frame = timeout(Duration::from_secs(5), conn.ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("the connection ended")
            .expect("a readable frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(text.as_str()).expect("JSON from the client");
        }
    }
}

async fn push(conn: &mut Conn, frame: impl Into<String>) {
    conn.ws.send(Message::text(frame.into())).await.unwrap();
}

async fn next(events: &mut Events) -> agentwire::Result<Event> {
    timeout(Duration::from_secs(5), events.next())
        .await
        .expect("no event within 5 s")
        .expect("the stream ended")
}

fn builder(url: &str) -> agentwire::linktor::realtime::RealtimeBuilder {
    RealtimeClient::builder().url(url).api_key("lk_test_key")
}

#[tokio::test]
async fn subscribes_and_receives_typed_events() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (client, mut events) = builder(&url).connect().await.unwrap();
        let mut conn = accept(&mut conns).await;
        client.subscribe("cv_1").await.unwrap();
        let subscribe = json!({"type": "subscribe", "conversationId": "cv_1"});
        assert_eq!(read_json(&mut conn).await, subscribe);

        push(&mut conn, r#"{"type":"message","conversationId":"cv_1","message":{"id":"m_1","contentType":"text","content":{"text":"hi"},"senderType":"contact","channelType":"whatsapp"},"seq":7}"#).await;
        push(&mut conn, r#"{"type":"message_status","conversationId":"cv_1","messageId":"m_1","status":"read","timestamp":"2026-01-01T00:00:00Z"}"#).await;
        push(&mut conn, r#"{"type":"conversation_update","conversationId":"cv_1","status":"resolved","assignedTo":"u_2","metadata":{"k":"v"}}"#).await;
        push(&mut conn, r#"{"type":"typing","conversationId":"cv_1","userId":"u_3","isTyping":true}"#).await;

        let Event::Message(event) = next(&mut events).await.unwrap() else {
            panic!("expected a message event");
        };
        assert_eq!(event.conversation_id.as_deref(), Some("cv_1"));
        assert_eq!(event.extra.get("seq"), Some(&json!(7)), "unknown members are kept");
        let message = event.message.expect("the message");
        assert_eq!(message.id.as_deref(), Some("m_1"));
        assert_eq!(message.text(), Some("hi"));
        assert_eq!(message.sender_type.as_deref(), Some("contact"));
        assert_eq!(message.extra.get("channelType"), Some(&json!("whatsapp")));

        let Event::MessageStatus(status) = next(&mut events).await.unwrap() else {
            panic!("expected a message_status event");
        };
        assert_eq!(status.message_id.as_deref(), Some("m_1"));
        assert_eq!(status.status.as_deref(), Some("read"));
        assert_eq!(status.timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));

        let Event::ConversationUpdate(update) = next(&mut events).await.unwrap() else {
            panic!("expected a conversation_update event");
        };
        assert_eq!(update.status.as_deref(), Some("resolved"));
        assert_eq!(update.assigned_to.as_deref(), Some("u_2"));
        assert_eq!(update.metadata, Some(json!({"k": "v"})));

        let Event::Typing(typing) = next(&mut events).await.unwrap() else {
            panic!("expected a typing event");
        };
        assert_eq!(typing.user_id.as_deref(), Some("u_3"));
        assert_eq!(typing.is_typing, Some(true));

        client.send_typing("cv_1", true).await.unwrap();
        let typing = json!({"type": "typing", "conversationId": "cv_1", "isTyping": true});
        assert_eq!(read_json(&mut conn).await, typing);
        client.unsubscribe("cv_1").await.unwrap();
        let unsubscribe = json!({"type": "unsubscribe", "conversationId": "cv_1"});
        assert_eq!(read_json(&mut conn).await, unsubscribe);
        let empty = client.subscribe(" ").await.unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    })
    .await;
}

#[tokio::test]
async fn unknown_types_are_surfaced_and_malformed_frames_are_error_events() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (_client, mut events) = builder(&url).connect().await.unwrap();
        let mut conn = accept(&mut conns).await;
        push(&mut conn, r#"{"type":"agent_joined","agentId":"u_9"}"#).await;
        push(&mut conn, "not json {").await;
        push(&mut conn, r#"{"type":"typing","conversationId":5}"#).await;
        push(&mut conn, "[1, 2]").await;
        push(&mut conn, r#"{"type":"pong"}"#).await;
        conn.ws
            .send(Message::binary(&b"\xff\xfe"[..]))
            .await
            .unwrap();
        push(
            &mut conn,
            r#"{"type":"typing","conversationId":"cv_1","isTyping":false}"#,
        )
        .await;

        let Event::Other(other) = next(&mut events).await.unwrap() else {
            panic!("expected the unknown type as Other");
        };
        assert_eq!(other, json!({"type": "agent_joined", "agentId": "u_9"}));
        for what in [
            "not JSON",
            "wrong shape",
            "not an object",
            "binary, not UTF-8",
        ] {
            let error = next(&mut events).await.expect_err(what);
            assert_eq!(error.kind(), ErrorKind::Decode, "{what}: {error}");
        }
        // The pong was consumed; the stream went on after every error.
        let Event::Typing(typing) = next(&mut events).await.unwrap() else {
            panic!("expected the typing event after the errors");
        };
        assert_eq!(typing.is_typing, Some(false));
    })
    .await;
}

#[tokio::test]
async fn auth_goes_in_the_query_and_never_in_debug_or_errors() {
    within(async {
        let secret = "lk_secret/+&=key";
        let (url, mut conns) = server(false).await;
        let configured = RealtimeClient::builder().url(&url).api_key(secret);
        let builder_debug = format!("{configured:?}");
        let (client, events) = configured.connect().await.unwrap();
        let conn = accept(&mut conns).await;
        assert_eq!(conn.query, "api_key=lk_secret%2F%2B%26%3Dkey");
        for debug in [builder_debug, format!("{client:?}"), format!("{events:?}")] {
            assert!(!debug.contains("lk_secret"), "{debug}");
        }
        assert!(
            format!("{client:?}").contains(&url),
            "the URL is shown without its query"
        );

        let (_client, _events) = RealtimeClient::builder()
            .url(&url)
            .api_key("lk_replaced")
            .token("tok_1")
            .connect()
            .await
            .unwrap();
        assert_eq!(accept(&mut conns).await.query, "token=tok_1");

        let (refusing, _) = server(true).await;
        let error = RealtimeClient::builder()
            .url(&refusing)
            .api_key(secret)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("lk_secret"), "{shown}");
        }

        let missing = RealtimeClient::builder().url(&url).connect().await;
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::InvalidInput);
        let with_query = RealtimeClient::builder()
            .url(format!("{url}?api_key={secret}"))
            .api_key(secret)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(with_query.kind(), ErrorKind::InvalidInput);
        // `wss:` goes through rustls: against this plain server its handshake fails.
        let tls = RealtimeClient::builder()
            .url(url.replace("ws://", "wss://"))
            .api_key(secret)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(tls.kind(), ErrorKind::Connection, "{tls}");
        assert!(tls.to_string().contains("TLS"), "{tls}");
        assert!(!format!("{tls:?}").contains("lk_secret"));
        let http = builder("http://127.0.0.1:9/ws")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(http.kind(), ErrorKind::InvalidInput);
    })
    .await;
}

#[tokio::test]
async fn a_dropped_connection_reconnects_resubscribes_and_says_so() {
    within(async {
        let (url, mut conns) = server(false).await;
        let clock = Arc::new(RecordingClock::new());
        let (client, mut events) = builder(&url).clock(clock.clone()).connect().await.unwrap();
        let mut first = accept(&mut conns).await;
        for id in ["cv_1", "cv_2", "cv_3"] {
            client.subscribe(id).await.unwrap();
        }
        client.unsubscribe("cv_2").await.unwrap();
        for _ in 0..4 {
            read_json(&mut first).await;
        }
        push(&mut first, r#"{"type":"typing","conversationId":"cv_1"}"#).await;
        assert!(matches!(next(&mut events).await, Ok(Event::Typing(_))));
        drop(first); // no close handshake: the TCP connection just goes

        let mut second = accept(&mut conns).await;
        assert_eq!(second.query, "api_key=lk_test_key");
        let renewed = [read_json(&mut second).await, read_json(&mut second).await];
        assert_eq!(
            renewed,
            [
                json!({"type": "subscribe", "conversationId": "cv_1"}),
                json!({"type": "subscribe", "conversationId": "cv_3"}),
            ]
        );
        match next(&mut events).await {
            Ok(Event::Reconnected { attempts, .. }) => assert_eq!(attempts, 1),
            other => panic!("expected Reconnected, got {other:?}"),
        }
        // One backoff sleep, through the injected clock, within the first ceiling (1 s).
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 1, "{sleeps:?}");
        assert!(sleeps[0] <= Duration::from_secs(1));

        push(&mut second, r#"{"type":"typing","conversationId":"cv_3"}"#).await;
        let Ok(Event::Typing(typing)) = next(&mut events).await else {
            panic!("expected an event of the new connection");
        };
        assert_eq!(typing.conversation_id.as_deref(), Some("cv_3"));
    })
    .await;
}

#[tokio::test]
async fn a_stalled_server_is_detected_by_the_idle_timeout_and_the_budget_ends_the_stream() {
    within(async {
        let (url, mut conns) = server(false).await;
        let clock = Arc::new(RecordingClock::new());
        let idle = Duration::from_millis(300);
        let started = Instant::now();
        let (_client, mut events) = builder(&url)
            .idle_timeout(idle)
            .reconnect_budget(1)
            .clock(clock.clone())
            .connect()
            .await
            .unwrap();
        // The server accepts and then neither reads nor writes.
        let _first = accept(&mut conns).await;
        match next(&mut events).await {
            Ok(Event::Reconnected { attempts, .. }) => assert_eq!(attempts, 1),
            other => panic!("expected Reconnected, got {other:?}"),
        }
        assert!(started.elapsed() >= idle);
        let _second = accept(&mut conns).await;
        // The second connection stalls too; it heard nothing, so the budget (1) is spent.
        let error = next(&mut events).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
        assert!(started.elapsed() >= idle * 2);
        assert!(
            timeout(Duration::from_secs(1), events.next())
                .await
                .unwrap()
                .is_none()
        );
        assert!(events.is_terminated());
        assert!(events.next().await.is_none(), "fused");
        assert_eq!(clock.sleeps().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn any_frame_counts_as_liveness() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (_client, mut events) = builder(&url)
            .idle_timeout(Duration::from_millis(500))
            .clock(Arc::new(RecordingClock::new()))
            .connect()
            .await
            .unwrap();
        let mut conn = accept(&mut conns).await;
        for _ in 0..12 {
            push(&mut conn, r#"{"type":"pong"}"#).await;
            sleep(Duration::from_millis(100)).await;
        }
        assert!(
            conns.try_recv().is_err(),
            "no reconnect while frames keep coming"
        );
        assert!(
            timeout(Duration::from_millis(50), events.next())
                .await
                .is_err()
        );
        // Silence: the connection is declared dead and opened again.
        let _again = accept(&mut conns).await;
        assert!(matches!(
            next(&mut events).await,
            Ok(Event::Reconnected { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn pings_go_out_on_the_interval() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (_client, _events) = builder(&url)
            .ping_interval(Duration::from_millis(100))
            .connect()
            .await
            .unwrap();
        let mut conn = accept(&mut conns).await;
        let (mut json_pings, mut ws_pings) = (0, 0);
        let until = tokio::time::Instant::now() + Duration::from_millis(550);
        while let Ok(Some(frame)) = tokio::time::timeout_at(until, conn.ws.next()).await {
            match frame.unwrap() {
                Message::Text(text) => {
                    let ping: Value = serde_json::from_str(text.as_str()).unwrap();
                    assert_eq!(ping, json!({"type": "ping"}));
                    assert_eq!(text.as_str(), r#"{"type":"ping"}"#);
                    json_pings += 1;
                }
                Message::Ping(_) => ws_pings += 1,
                other => panic!("unexpected frame {other:?}"),
            }
        }
        assert!((3..=6).contains(&json_pings), "{json_pings} JSON pings");
        assert_eq!(json_pings, ws_pings);
    })
    .await;
}

/// Starts sending `TOTAL` events of about 1 KiB on `conn`; the count sent so far.
fn flood(mut conn: Conn) -> Arc<AtomicUsize> {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let padding = "x".repeat(1000);
    tokio::spawn(async move {
        for i in 0..TOTAL {
            let event =
                json!({"type": "message_status", "messageId": i.to_string(), "padding": padding});
            if conn
                .ws
                .send(Message::text(event.to_string()))
                .await
                .is_err()
            {
                return;
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    sent
}

/// Waits (up to 6 s) until the count stops moving: the sender is blocked.
async fn settled(sent: &AtomicUsize) -> usize {
    let mut last = usize::MAX;
    for _ in 0..30 {
        sleep(Duration::from_millis(200)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    sent.load(Ordering::SeqCst)
}

const TOTAL: usize = 10_000;

#[tokio::test]
async fn a_slow_consumer_stops_the_client_reading_and_nothing_is_lost() {
    within(async {
        let (url, mut conns) = server(false).await;
        // What the sockets alone hold: a peer that completes the upgrade and never reads.
        let tcp = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/ws"))
            .await
            .unwrap();
        let (_silent, _) = tokio_tungstenite::client_async(url.as_str(), tcp)
            .await
            .unwrap();
        let sockets_hold = settled(&flood(accept(&mut conns).await)).await;

        let (_client, mut events) = builder(&url).connect().await.unwrap();
        let sent = flood(accept(&mut conns).await);
        let blocked_at = settled(&sent).await;
        eprintln!("sockets alone hold {sockets_hold} events; with the client {blocked_at}");
        assert!(blocked_at < TOTAL, "the client kept reading: {blocked_at}");
        // The client holds at most 64 buffered events, the one it read, and what its 128 KiB
        // read buffer holds (about 128 of these events): the rest are still in the sockets.
        assert!(
            blocked_at <= sockets_hold + 64 + 1 + 128 + 64,
            "the client read {} events more than the sockets hold",
            blocked_at.saturating_sub(sockets_hold)
        );
        for i in 0..TOTAL {
            let Ok(Event::MessageStatus(status)) = next(&mut events).await else {
                panic!("expected event {i}");
            };
            assert_eq!(status.message_id, Some(i.to_string()));
        }
        assert_eq!(sent.load(Ordering::SeqCst), TOTAL);
    })
    .await;
}

#[tokio::test]
async fn close_is_clean_and_ends_the_stream() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (client, mut events) = builder(&url).connect().await.unwrap();
        let mut conn = accept(&mut conns).await;
        push(&mut conn, r#"{"type":"typing","conversationId":"cv_1"}"#).await;
        // The event is in the buffer before the close.
        sleep(Duration::from_millis(100)).await;
        let server_side = tokio::spawn(async move {
            while let Some(Ok(frame)) = conn.ws.next().await {
                if let Message::Close(close) = frame {
                    return close;
                }
            }
            None
        });
        client.close().await;
        let close = server_side.await.unwrap().expect("a close frame");
        assert_eq!(u16::from(close.code), 1000);
        assert_eq!(close.reason.as_str(), "Client disconnect");
        assert!(matches!(next(&mut events).await, Ok(Event::Typing(_))));
        assert!(events.next().await.is_none());
        assert!(events.is_terminated());
        let after = client.subscribe("cv_1").await.unwrap_err();
        assert_eq!(after.kind(), ErrorKind::Connection);
        client.close().await; // closing again does nothing
    })
    .await;
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    within(async {
        let (url, mut conns) = server(false).await;
        let (client, events) = builder(&url).connect().await.unwrap();
        let mut conn = accept(&mut conns).await;
        drop(events);
        // Noticed while the client waits for frames, not at the next one.
        let end = timeout(Duration::from_secs(5), async {
            while let Some(Ok(frame)) = conn.ws.next().await {
                if let Message::Close(close) = frame {
                    return close;
                }
            }
            None
        });
        let close = end
            .await
            .expect("closed within 5 s")
            .expect("a close frame");
        assert_eq!(u16::from(close.code), 1000);
        drop(conn); // the client's wait for the close answer ends with the connection
        sleep(Duration::from_millis(200)).await;
        assert!(conns.try_recv().is_err(), "no reconnect");
        let after = client.subscribe("cv_1").await.unwrap_err();
        assert_eq!(after.kind(), ErrorKind::Connection);
    })
    .await;
}

#[test]
fn the_handle_and_the_stream_cross_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<RealtimeClient>();
    send_sync::<Events>();
}
