//! Linktor's real-time API: one WebSocket (default [`DEFAULT_URL`]) carrying the events of the
//! conversations the client subscribes to.
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! use agentwire::linktor::realtime::{Event, RealtimeClient};
//! use futures_util::StreamExt;
//!
//! let (client, mut events) = RealtimeClient::builder().api_key("lk_live_...").connect().await?;
//! client.subscribe("cv_1").await?;
//! while let Some(event) = events.next().await {
//!     match event {
//!         Ok(Event::Message(m)) => println!("{:?}", m.message.as_ref().and_then(|m| m.text())),
//!         Ok(Event::Reconnected { .. }) => { /* fetch what was missed over REST */ }
//!         Ok(other) => println!("{other:?}"),
//!         Err(e) => eprintln!("{e}"), // a frame that could not be read: the stream goes on
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - **Auth** goes in the query string (`?api_key=` or `?token=`); no log line, `Debug` output
//!   or error shows it.
//! - **Liveness**: every ping interval (30 s) the client sends `{"type":"ping"}` and a WebSocket
//!   ping; any frame received counts as life, and the idle timeout (60 s) without one declares
//!   the connection dead (both on tokio's timer). `{"type":"pong"}` frames are consumed.
//! - **Reconnect**: after full-jitter exponential backoff (the runtime's retry policy, slept on
//!   the builder's [`Clock`](crate::Clock)); every subscription is renewed, then
//!   [`Event::Reconnected`] is yielded. The budget counts consecutive attempts and renews once a
//!   connection receives a frame; when it is spent, or a failure cannot be retried (a 401), the
//!   stream yields the error and ends.
//! - **Backpressure**: at most [`EVENT_BUFFER`] events wait for the consumer; one that stops
//!   reading stops the client reading the socket (pings still go out), so memory stays bounded.
//! - A frame that is not JSON, or a known type without its documented shape, is an `Err` of
//!   kind `Decode` in the stream, which goes on.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::websocket::{self, Frame, Protocol};
use protocol::Linktor;

pub use crate::runtime::websocket::{EVENT_BUFFER, MAX_MESSAGE_BYTES};

/// The default WebSocket URL.
pub const DEFAULT_URL: &str = "wss://api.linktor.io/ws";
/// Default interval between two pings: 30 s.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Default silence after which the connection counts as dead: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default reconnect budget: consecutive reconnect attempts before the stream gives up.
pub const DEFAULT_RECONNECT_BUDGET: u32 = 10;

/// A server event. Types this version does not know are yielded as [`Event::Other`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `message`: a new message in a subscribed conversation.
    Message(MessageEvent),
    /// `message_status`: a message was sent, delivered, read or failed.
    MessageStatus(MessageStatusEvent),
    /// `conversation_update`: a conversation's status, assignee or metadata changed.
    ConversationUpdate(ConversationUpdateEvent),
    /// `typing`: someone started or stopped typing.
    Typing(TypingEvent),
    /// A frame of another type (or of none), whole and as it came, `type` included.
    Other(Value),
    /// The connection was lost and is open again, every subscription renewed. Events sent
    /// meanwhile are not replayed: fetch them over REST.
    #[non_exhaustive]
    Reconnected {
        /// Connection attempts it took (1 when the first one succeeded).
        attempts: u32,
    },
}

/// A `message` event. Every field is optional; members not listed are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent {
    /// The conversation.
    pub conversation_id: Option<String>,
    /// The message.
    pub message: Option<Message>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A message, loosely typed: every field is optional; members not listed are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The message id.
    pub id: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// `text`, `image`, `video`, `audio`, `document`, `location`, `contact`, `sticker`, ...
    pub content_type: Option<String>,
    /// The content: `{"text": ...}`, `{"media": {...}}`, ...
    pub content: Option<Value>,
    /// `contact`, `agent`, `bot` or `system`.
    pub sender_type: Option<String>,
    /// Members this version does not know (`status`, `senderId`, `createdAt`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// The text of a text message (`content.text`).
    pub fn text(&self) -> Option<&str> {
        self.content.as_ref()?.get("text")?.as_str()
    }
}

/// A `message_status` event. Every field is optional; unknown members are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusEvent {
    /// The conversation.
    pub conversation_id: Option<String>,
    /// The message.
    pub message_id: Option<String>,
    /// `sent`, `delivered`, `read`, `failed`, ...
    pub status: Option<String>,
    /// When the status changed, as sent.
    pub timestamp: Option<String>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `conversation_update` event. Every field is optional; unknown members are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationUpdateEvent {
    /// The conversation.
    pub conversation_id: Option<String>,
    /// Its new status (`open`, `pending`, `resolved`, ...).
    pub status: Option<String>,
    /// The user it is now assigned to.
    pub assigned_to: Option<String>,
    /// Its metadata.
    pub metadata: Option<Value>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `typing` event. Every field is optional; unknown members are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingEvent {
    /// The conversation.
    pub conversation_id: Option<String>,
    /// Who is typing.
    pub user_id: Option<String>,
    /// Whether they started (`true`) or stopped.
    pub is_typing: Option<bool>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Configures and opens a [`RealtimeClient`]. Only a credential is required: `.api_key(..)` or
/// `.token(..)`. Defaults: [`DEFAULT_URL`] (self-hosted: `wss://linktor.example.com/ws`),
/// pings every 30 s (`{"type":"ping"}` and a WebSocket ping), a 60 s idle timeout and 10
/// reconnect attempts.
pub type RealtimeBuilder = websocket::Builder<Linktor>;

/// The handle of a real-time connection: subscribe to a conversation (by its id), unsubscribe,
/// send typing, close. Cheap to clone; the connection lives until `close()`, or until its
/// [`Events`] are dropped.
pub type RealtimeClient = websocket::Connection<Linktor>;

/// The [`Event`]s of a [`RealtimeClient`], in order, at most [`EVENT_BUFFER`] of them waiting: a
/// fused stream that ends after a close or once reconnecting gave up (a frame that could not be
/// read is an `Err` item, and the stream goes on).
pub type Events = websocket::Events<Event>;

impl RealtimeBuilder {
    /// Authenticates with an API key (`?api_key=`), replacing a token given before.
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.credential("api_key", key)
    }

    /// Authenticates with an access token (`?token=`), replacing an API key given before.
    pub fn token(self, token: impl Into<String>) -> Self {
        self.credential("token", token)
    }
}

impl RealtimeClient {
    /// A builder with every default: [`DEFAULT_URL`], 30 s pings, a 60 s idle timeout and 10
    /// reconnect attempts.
    pub fn builder() -> RealtimeBuilder {
        let (ping, idle) = (DEFAULT_PING_INTERVAL, DEFAULT_IDLE_TIMEOUT);
        websocket::Builder::new(Linktor, DEFAULT_URL, ping, idle, DEFAULT_RECONNECT_BUDGET)
    }

    /// Tells a conversation the user started (`true`) or stopped typing. Sent if the connection
    /// is open; dropped while it is being reopened (typing is momentary).
    ///
    /// # Errors
    /// `InvalidInput` for an empty id; `Connection` once the client is closed or gave up.
    pub async fn send_typing(&self, conversation_id: impl Into<String>, on: bool) -> Result<()> {
        self.send(conversation_id, |id| typing(id, on)).await
    }
}

/// Linktor's side of the WebSocket protocol, named by the aliases above but no part of the API
/// (hence its private module).
mod protocol {
    #[derive(Debug, Clone, Copy)]
    pub struct Linktor;
}

impl Protocol for Linktor {
    type Event = Event;
    const NAME: &'static str = "Linktor";
    const TOPIC: &'static str = "conversation id";
    const CREDENTIALS: &'static [&'static str] = &["api_key", "token"];

    fn decode(&self, frame: Frame) -> Option<Result<Event>> {
        decode(frame)
    }

    fn keepalive(&self) -> Option<Frame> {
        Some(Frame::text(r#"{"type":"ping"}"#))
    }

    fn subscribe(&self, conversation_id: &str) -> Frame {
        frame("subscribe", conversation_id)
    }

    fn unsubscribe(&self, conversation_id: &str) -> Frame {
        frame("unsubscribe", conversation_id)
    }

    fn reconnected(&self, attempts: u32) -> Event {
        Event::Reconnected { attempts }
    }
}

/// A client frame about one conversation.
fn frame(kind: &str, conversation_id: &str) -> Frame {
    Frame::text(json!({"type": kind, "conversationId": conversation_id}).to_string())
}

/// A typing frame.
fn typing(conversation_id: &str, on: bool) -> Frame {
    let typing = json!({"type": "typing", "conversationId": conversation_id, "isTyping": on});
    Frame::text(typing.to_string())
}

/// Reads one frame: `None` for what is consumed (pings, pongs, `{"type":"pong"}`).
fn decode(frame: Frame) -> Option<Result<Event>> {
    let bad = |why: String| Some(Err(Error::new(ErrorKind::Decode, why)));
    let text = match &frame {
        Frame::Text(text) => text.as_str(),
        Frame::Binary(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return bad("a binary WebSocket frame is not UTF-8 text".into()),
        },
        _ => return None,
    };
    let object: Map<String, Value> = match serde_json::from_str(text) {
        Ok(object) => object,
        Err(e) => return bad(format!("a WebSocket frame is not a JSON object: {e}")),
    };
    fn typed<T: DeserializeOwned>(
        mut object: Map<String, Value>,
        variant: fn(T) -> Event,
    ) -> serde_json::Result<Event> {
        object.remove("type");
        serde_json::from_value(Value::Object(object)).map(variant)
    }
    let kind = object.get("type").and_then(Value::as_str);
    let kind = kind.unwrap_or_default().to_owned();
    let event = match kind.as_str() {
        "pong" => return None,
        "message" => typed(object, Event::Message),
        "message_status" => typed(object, Event::MessageStatus),
        "conversation_update" => typed(object, Event::ConversationUpdate),
        "typing" => typed(object, Event::Typing),
        _ => Ok(Event::Other(Value::Object(object))),
    };
    let why = |e| format!("a `{kind}` event does not have its documented shape: {e}");
    Some(event.map_err(|e| Error::new(ErrorKind::Decode, why(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames this client sends are the ones `openapi/linktor.yaml` describes
    /// (`x-agentwire-realtime`), which the mock serves.
    #[test]
    fn the_frames_are_the_ones_the_spec_describes() {
        let Some(spec) = super::super::PLATFORM.realtime else {
            panic!("linktor.yaml describes its WebSocket");
        };
        let read = |frame: Frame| -> Value {
            let Frame::Text(text) = frame else {
                panic!("a text frame");
            };
            serde_json::from_str(text.as_str()).unwrap_or_default()
        };
        let about = |kind: &str| json!({spec.type_member: kind, spec.topic_member: "c1"});
        assert_eq!(read(Linktor.subscribe("c1")), about(spec.subscribe));
        assert_eq!(read(Linktor.unsubscribe("c1")), about(spec.unsubscribe));
        let Some(((ping, pong), keepalive)) = spec.ping.zip(Linktor.keepalive()) else {
            panic!("both keep the connection alive");
        };
        assert_eq!(read(keepalive), json!({spec.type_member: ping}));
        let answer = json!({spec.type_member: pong}).to_string();
        assert!(
            decode(Frame::text(answer)).is_none(),
            "the answer is consumed"
        );
        let params: Vec<&str> = spec.credentials.iter().map(|(p, _)| *p).collect();
        assert_eq!(params, Linktor::CREDENTIALS);
    }
}
