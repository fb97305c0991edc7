//! The mock's real-time WebSocket, for a platform whose spec describes one
//! (`x-agentwire-realtime`): served on the spec's path (`/ws`), any non-empty credential in one
//! of its query parameters accepted, subscriptions per topic, the keepalive answered, and each
//! successful REST write the spec lists (`echoes`) announced to its topic's subscribers: send a
//! message over REST, receive it in real time. [`super::MockServer::publish`] announces any
//! event a test wants.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::runtime::operation::{ErrorFormat, Operation, Platform, Realtime};

/// Events waiting for a slow subscriber, at most; a subscriber further behind skips the oldest.
const BACKLOG: usize = 1024;

/// Where announcements go: every connection hears every one and keeps its topics' own.
pub(crate) struct Hub {
    sender: broadcast::Sender<(String, Utf8Bytes)>,
    /// Open subscriptions per topic (connections hold it too; the sender alone ends them).
    subscribed: Subscribed,
}

/// Subscriptions per topic, over every connection.
type Subscribed = Arc<Mutex<BTreeMap<String, usize>>>;

impl Default for Hub {
    fn default() -> Self {
        Hub {
            sender: broadcast::channel(BACKLOG).0,
            subscribed: Subscribed::default(),
        }
    }
}

impl Hub {
    /// Announces `event` (a JSON object, its type member included) to `topic`'s subscribers;
    /// the number of connections that heard it (subscribed or not).
    pub(crate) fn publish(&self, topic: &str, event: &Value) -> usize {
        let frame = Utf8Bytes::from(event.to_string());
        self.sender.send((topic.to_owned(), frame)).unwrap_or(0)
    }

    /// How many connections are subscribed to `topic`.
    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        super::lock(&self.subscribed)
            .get(topic)
            .copied()
            .unwrap_or(0)
    }

    /// Announces the success of a REST write the spec echoes: `answer` (its body, unwrapped
    /// from the operation's envelope) as the echo's event, to the topic its path names.
    pub(crate) fn echo(&self, platform: &Platform, op: &Operation, rel: &str, answer: &Value) {
        let Some(realtime) = platform.realtime else {
            return;
        };
        for echo in realtime.echoes.iter().filter(|e| e.operation == op.id) {
            let Some((_, values)) = super::match_template(op.path, rel) else {
                continue;
            };
            let Some((_, topic)) = values.iter().find(|(name, _)| *name == echo.topic_param) else {
                continue;
            };
            let topic = percent_encoding::percent_decode_str(topic).decode_utf8_lossy();
            let answer = match op.envelope {
                Some(envelope) => answer.get(envelope.data).unwrap_or(answer),
                None => answer,
            };
            let mut event = match (echo.member, answer) {
                (None, Value::Object(members)) => members.clone(),
                (None, _) => Map::new(),
                (Some(member), answer) => Map::from_iter([(member.to_owned(), answer.clone())]),
            };
            let kind = Value::String(echo.event.to_owned());
            event.insert(realtime.type_member.to_owned(), kind);
            let id = Value::String(topic.to_string());
            event.insert(realtime.topic_member.to_owned(), id);
            self.publish(&topic, &Value::Object(event));
        }
    }
}

/// Whether a request asks for the WebSocket upgrade.
pub(crate) fn is_upgrade(req: &axum::extract::Request) -> bool {
    let has = |name: &str, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has("upgrade", "websocket") && has("connection", "upgrade")
}

/// Answers an upgrade request on the real-time path: `101` and the connection served, or a
/// refusal (`401` without a credential, `400` for a request that is not a WebSocket upgrade).
pub(crate) fn upgrade(
    platform: &'static Platform,
    realtime: &'static Realtime,
    hub: &Hub,
    mut req: axum::extract::Request,
) -> axum::response::Response {
    let format = platform
        .hosts
        .first()
        .map_or(&ErrorFormat::DEFAULT, |h| h.errors);
    let refuse = |status: u16, message: &str| {
        let body = super::error_body(format, "mock_realtime", message, &[]);
        super::json_response(status, &body, "realtime")
    };
    let key = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()));
    let Some(accept) = key.filter(|_| is_upgrade(&req)) else {
        return refuse(
            400,
            "a WebSocket upgrade (Upgrade: websocket, Sec-WebSocket-Key) is expected here",
        );
    };
    let query = req.uri().query().unwrap_or_default().as_bytes();
    let authenticated = form_urlencoded::parse(query).any(|(name, value)| {
        !value.trim().is_empty() && realtime.credentials.iter().any(|(p, _)| *p == name)
    });
    if !authenticated {
        let names: Vec<&str> = realtime.credentials.iter().map(|(p, _)| *p).collect();
        let why = format!(
            "the WebSocket requires a credential in the query: {} (the mock accepts any non-empty value)",
            names.join(" or ")
        );
        return refuse(401, &why);
    }
    let upgraded = hyper::upgrade::on(&mut req);
    let (heard, subscribed) = (hub.sender.subscribe(), hub.subscribed.clone());
    // The connection ends with the mock: dropping the server drops the hub's sender.
    tokio::spawn(async move {
        if let Ok(upgraded) = upgraded.await {
            let io = TokioIo::new(upgraded);
            let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            serve(realtime, ws, heard, subscribed).await;
        }
    });
    axum::response::Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(axum::body::Body::empty())
        .unwrap_or_default()
}

/// One connection: the client's frames (subscribe, unsubscribe, keepalive; others ignored)
/// and the announcements of its topics, until either side closes.
async fn serve<S>(
    realtime: &'static Realtime,
    mut ws: WebSocketStream<S>,
    mut heard: broadcast::Receiver<(String, Utf8Bytes)>,
    subscribed: Subscribed,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut topics = Topics {
        own: BTreeSet::new(),
        all: subscribed,
    };
    loop {
        let outgoing = tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => answer(realtime, &text, &mut topics),
                Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                    Ok(text) => answer(realtime, text, &mut topics),
                    Err(_) => None,
                },
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                // WebSocket pings are answered by tungstenite itself.
                Some(Ok(_)) => None,
            },
            announced = heard.recv() => match announced {
                Ok((topic, frame)) => topics.own.contains(&topic).then(|| Message::Text(frame)),
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if let Some(frame) = outgoing
            && ws.send(frame).await.is_err()
        {
            break;
        }
    }
    let _ = ws.close(None).await;
}

/// A connection's topics, counted in the hub's subscriptions while it is open.
struct Topics {
    own: BTreeSet<String>,
    all: Subscribed,
}

impl Topics {
    fn insert(&mut self, topic: &str) {
        if self.own.insert(topic.to_owned()) {
            *super::lock(&self.all).entry(topic.to_owned()).or_default() += 1;
        }
    }

    fn remove(&mut self, topic: &str) {
        if self.own.remove(topic) {
            let mut all = super::lock(&self.all);
            if let Some(n) = all.get_mut(topic) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    all.remove(topic);
                }
            }
        }
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        let own: Vec<String> = self.own.iter().cloned().collect();
        for topic in own {
            self.remove(&topic);
        }
    }
}

/// What a client frame changes, and the answer it gets (a keepalive's).
fn answer(realtime: &Realtime, text: &str, topics: &mut Topics) -> Option<Message> {
    let frame: Value = serde_json::from_str(text).ok()?;
    let kind = frame.get(realtime.type_member)?.as_str()?;
    let topic = frame.get(realtime.topic_member).and_then(Value::as_str);
    if kind == realtime.subscribe {
        topics.insert(topic?);
    } else if kind == realtime.unsubscribe {
        topics.remove(topic?);
    } else if let Some((ping, pong)) = realtime.ping
        && kind == ping
    {
        let pong = serde_json::json!({ realtime.type_member: pong });
        return Some(Message::Text(Utf8Bytes::from(pong.to_string())));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALTIME: Realtime = Realtime {
        path: "/ws",
        credentials: &[("token", "access_token")],
        type_member: "type",
        topic_member: "room",
        subscribe: "join",
        unsubscribe: "leave",
        ping: Some(("ping", "pong")),
        echoes: &[],
    };

    #[test]
    fn frames_change_the_topics_and_a_keepalive_is_answered() {
        let all = Subscribed::default();
        let mut topics = Topics {
            own: BTreeSet::new(),
            all: all.clone(),
        };
        assert!(answer(&REALTIME, r#"{"type":"join","room":"r1"}"#, &mut topics).is_none());
        assert!(answer(&REALTIME, r#"{"type":"join","room":"r2"}"#, &mut topics).is_none());
        assert!(topics.own.contains("r1"));
        assert_eq!(super::super::lock(&all).get("r1"), Some(&1));
        let pong = answer(&REALTIME, r#"{"type":"ping"}"#, &mut topics);
        assert_eq!(pong, Some(Message::text(r#"{"type":"pong"}"#)));
        assert!(answer(&REALTIME, r#"{"type":"leave","room":"r1"}"#, &mut topics).is_none());
        assert_eq!(topics.own.len(), 1);
        for odd in ["not json", "[1]", r#"{"type":7}"#, r#"{"type":"join"}"#] {
            assert!(answer(&REALTIME, odd, &mut topics).is_none(), "{odd}");
        }
        assert_eq!(topics.own.len(), 1);
        drop(topics);
        assert!(
            super::super::lock(&all).is_empty(),
            "a closed connection counts no more"
        );
    }
}
