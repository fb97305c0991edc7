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
//!   the builder's [`Clock`]); every subscription is renewed, then [`Event::Reconnected`] is
//!   yielded. The budget counts consecutive attempts and renews once a connection receives a
//!   frame; when it is spent, or a failure cannot be retried (a 401), the stream yields the
//!   error and ends.
//! - **Backpressure**: at most [`EVENT_BUFFER`] events wait for the consumer; one that stops
//!   reading stops the client reading the socket (pings still go out), so memory stays bounded.
//! - A frame that is not JSON, or a known type without its documented shape, is an `Err` of
//!   kind `Decode` in the stream, which goes on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig, frame::coding};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as Frame};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::runtime::config::{Clock, DEFAULT_CONNECT_TIMEOUT, Secret, SystemClock, tls_config};
use crate::runtime::error::{Error, ErrorKind, Result, human};
use crate::runtime::operation::ErrorFormat;
use crate::runtime::retry::{Decision, Failure, Policy};

/// The default WebSocket URL.
pub const DEFAULT_URL: &str = "wss://api.linktor.io/ws";
/// Default interval between two pings: 30 s.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Default silence after which the connection counts as dead: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default reconnect budget: consecutive reconnect attempts before the stream gives up.
pub const DEFAULT_RECONNECT_BUDGET: u32 = 10;
/// Events buffered between the socket and the consumer, at most.
pub const EVENT_BUFFER: usize = 64;
/// The largest incoming message, in bytes (1 MiB); a larger one drops the connection.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// How long a close waits for the server's answer.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

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

/// What a client is configured with (the builder's, then shared by the connection's task).
struct Settings {
    url: String,
    /// The query parameter (`api_key` or `token`) and its value.
    auth: Option<(&'static str, Secret)>,
    tls: Option<Arc<rustls::ClientConfig>>,
    clock: Arc<dyn Clock>,
    ping_interval: Duration,
    idle_timeout: Duration,
    policy: Policy,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Realtime")
            .field("url", &self.url.split(['?', '#']).next().unwrap_or(""))
            .field("auth", &self.auth)
            .field("ping_interval", &self.ping_interval)
            .field("idle_timeout", &self.idle_timeout)
            .field("reconnect_budget", &self.policy.max_retries)
            .finish_non_exhaustive()
    }
}

/// Configures and opens a [`RealtimeClient`]. Only a credential is required.
#[derive(Debug)]
#[must_use]
pub struct RealtimeBuilder {
    settings: Settings,
}

impl RealtimeBuilder {
    /// The WebSocket URL: `ws://` or `wss://`, with its path and without a query. Default
    /// [`DEFAULT_URL`]; self-hosted: `wss://linktor.example.com/ws`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.settings.url = url.into();
        self
    }

    /// Authenticates with an API key (`?api_key=`), replacing a token given before.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.auth = Some(("api_key", Secret::new(key)));
        self
    }

    /// Authenticates with an access token (`?token=`), replacing an API key given before.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.settings.auth = Some(("token", Secret::new(token)));
        self
    }

    /// The clock the backoff between reconnects sleeps on (tests inject one that records).
    /// Default [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// Time between two pings (`{"type":"ping"}` and a WebSocket ping). Default 30 s.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.settings.ping_interval = interval;
        self
    }

    /// Silence after which the connection counts as dead and is reopened. Default 60 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.idle_timeout = timeout;
        self
    }

    /// Consecutive reconnect attempts before the stream gives up: default 10, 0 never
    /// reconnects. Backoff before each: full jitter over 1 s doubling per attempt, up to 30 s.
    pub fn reconnect_budget(mut self, budget: u32) -> Self {
        self.settings.policy.max_retries = budget;
        self
    }

    /// Opens the connection (10 s allowed) and starts the client on the current tokio runtime.
    ///
    /// # Errors
    /// `InvalidInput` for a missing or empty credential, a URL that is not `ws:`/`wss:` or has a
    /// query, or a zero interval; else the first connection's: `Connection`, `Timeout`, or a
    /// refused upgrade by its status (401: `Authentication`, 403: `PermissionDenied`, ...).
    pub async fn connect(mut self) -> Result<(RealtimeClient, Events)> {
        let s = &mut self.settings;
        let url = endpoint(&s.url)?;
        let credential = s.auth.as_ref().map(|(_, secret)| secret.expose().trim());
        let invalid = Error::invalid_input;
        if credential.is_none_or(str::is_empty) {
            return Err(invalid("no credential: give .api_key(..) or .token(..)"));
        }
        if s.ping_interval.is_zero() || s.idle_timeout.is_zero() {
            return Err(invalid("zero ping interval or idle timeout"));
        }
        if url.scheme() == "wss" {
            let tls = tls_config().map_err(|e| {
                Error::new(ErrorKind::Connection, format!("could not set up TLS: {e}"))
            })?;
            s.tls = Some(Arc::new(tls));
        }
        let settings = Arc::new(self.settings);
        let ws = open(&settings).await?;
        let (commands, command_rx) = mpsc::channel(16);
        let (event_tx, rx) = mpsc::channel(EVENT_BUFFER);
        let worker = Worker {
            settings: settings.clone(),
            commands: command_rx,
            commands_open: true,
            subscriptions: Vec::new(),
        };
        tokio::spawn(worker.run(event_tx, ws));
        Ok((
            RealtimeClient { commands, settings },
            Events { rx, done: false },
        ))
    }
}

/// The handle of a real-time connection: subscribe, unsubscribe, send typing, close. Cheap to
/// clone. The connection lives until [`Self::close`], or until its [`Events`] stream is dropped.
#[derive(Clone)]
pub struct RealtimeClient {
    commands: mpsc::Sender<Command>,
    settings: Arc<Settings>,
}

impl fmt::Debug for RealtimeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RealtimeClient")
            .field(&self.settings)
            .finish()
    }
}

impl RealtimeClient {
    /// A builder with every default: [`DEFAULT_URL`], 30 s pings, a 60 s idle timeout and 10
    /// reconnect attempts.
    pub fn builder() -> RealtimeBuilder {
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(30));
        let settings = Settings {
            url: DEFAULT_URL.to_owned(),
            auth: None,
            tls: None,
            clock: Arc::new(SystemClock),
            ping_interval: DEFAULT_PING_INTERVAL,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            policy: Policy {
                max_retries: DEFAULT_RECONNECT_BUDGET,
                base,
                cap,
                max_hint: cap,
            },
        };
        RealtimeBuilder { settings }
    }

    /// Subscribes to a conversation's events, renewed on every reconnect. Resolves once the
    /// request is queued: it goes out now, or on the next connection.
    ///
    /// # Errors
    /// `InvalidInput` for an empty id; `Connection` once the client is closed or gave up.
    pub async fn subscribe(&self, conversation_id: impl Into<String>) -> Result<()> {
        self.command(conversation_id, Command::Subscribe).await
    }

    /// Unsubscribes from a conversation.
    ///
    /// # Errors
    /// As [`Self::subscribe`].
    pub async fn unsubscribe(&self, conversation_id: impl Into<String>) -> Result<()> {
        self.command(conversation_id, Command::Unsubscribe).await
    }

    /// Tells a conversation the user started (`true`) or stopped typing. Sent if the connection
    /// is open; dropped while it is being reopened (typing is momentary).
    ///
    /// # Errors
    /// As [`Self::subscribe`].
    pub async fn send_typing(&self, conversation_id: impl Into<String>, on: bool) -> Result<()> {
        let typing = if on {
            Command::Typing
        } else {
            Command::StopTyping
        };
        self.command(conversation_id, typing).await
    }

    /// Closes the connection (code 1000, "Client disconnect"), waiting up to 2 s for the server
    /// to answer. The [`Events`] stream then yields what it holds and ends. Closing a closed
    /// client does nothing.
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.commands.send(Command::Close(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    async fn command(&self, id: impl Into<String>, make: fn(String) -> Command) -> Result<()> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(Error::invalid_input("the conversation id is empty"));
        }
        let closed = |_| Error::new(ErrorKind::Connection, "the real-time client is closed");
        self.commands.send(make(id)).await.map_err(closed)
    }
}

/// The events of a real-time connection, in order: a fused stream holding at most
/// [`EVENT_BUFFER`] of them. An `Err` item (a frame that could not be read) does not end it;
/// it ends after a close, or after the error that made it give up reconnecting.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Result<Event>>,
    done: bool,
}

impl Stream for Events {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = self.rx.poll_recv(cx);
        self.done = matches!(polled, Poll::Ready(None));
        polled
    }
}

impl FusedStream for Events {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

enum Command {
    Subscribe(String),
    Unsubscribe(String),
    Typing(String),
    StopTyping(String),
    Close(oneshot::Sender<()>),
}

/// The WebSocket URL, checked: `ws:` or `wss:` with a host, no query, no fragment. The URL is
/// not repeated in the error (a query there could hold a credential).
fn endpoint(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid_input(format!("invalid WebSocket URL: {e}")))?;
    let scheme = matches!(url.scheme(), "ws" | "wss");
    if !scheme || !url.has_host() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            "the WebSocket URL must be ws:// or wss:// with a host and no query (give the \
             credential with .api_key(..) or .token(..))",
        ));
    }
    Ok(url)
}

/// A plain or TLS connection.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Ws = WebSocketStream<Box<dyn Io>>;

/// Opens one connection: TCP, TLS for `wss:`, then the upgrade with the credential in the query.
async fn open(s: &Settings) -> Result<Ws> {
    let mut url = endpoint(&s.url)?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let host = host.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    if let Some((name, secret)) = &s.auth {
        url.query_pairs_mut().append_pair(name, secret.expose());
    }
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|_| Error::invalid_input("the WebSocket URL cannot be requested"))?;
    let agent = concat!("agentwire/", env!("CARGO_PKG_VERSION"), " (linktor)");
    let headers = request.headers_mut();
    headers.insert(USER_AGENT, HeaderValue::from_static(agent));
    let connect = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await;
        let failed = |why: String| Error::new(ErrorKind::Connection, why);
        let tcp =
            tcp.map_err(|e| failed(format!("could not connect to {host}:{port}")).with_source(e))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = match &s.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|_| Error::invalid_input(format!("invalid TLS name {host:?}")))?;
                let tls = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await;
                Box::new(tls.map_err(|e| failed("the TLS handshake failed".into()).with_source(e))?)
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        match client_async_with_config(request, io, Some(config)).await {
            Ok((ws, _)) => Ok(ws),
            // Refused: read like any error answer (status, `Retry-After`, `{code, message}`).
            Err(WsError::Http(answer)) => {
                let (head, body) = answer.into_parts();
                let body = Bytes::from(body.unwrap_or_default());
                let (format, now) = (&ErrorFormat::DEFAULT, s.clock.now());
                let refused = Error::from_response;
                Err(refused(format, head.status, head.headers, body, now))
            }
            Err(e) => Err(ws_error(e)),
        }
    };
    let limit = DEFAULT_CONNECT_TIMEOUT;
    let late = format!("the WebSocket did not open within {}", human(limit));
    let late = |_| Error::new(ErrorKind::Timeout, late);
    timeout(limit, connect).await.map_err(late)?
}

/// A WebSocket failure as an [`Error`], never showing the request (its URL has the credential).
fn ws_error(e: WsError) -> Error {
    let failed = |why: String| Error::new(ErrorKind::Connection, why);
    match e {
        WsError::Url(_) | WsError::HttpFormat(_) => {
            Error::invalid_input("the WebSocket URL cannot be requested")
        }
        WsError::Io(e) => failed("the WebSocket connection failed".into()).with_source(e),
        other => failed(format!("the WebSocket connection failed: {other}")),
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

/// Sends frames and flushes, within `within` (a server that reads nothing is as good as dead).
async fn send(ws: &mut Ws, frames: Vec<Frame>, within: Duration) -> Result<()> {
    let work = async {
        for frame in frames {
            ws.feed(frame).await?;
        }
        ws.flush().await
    };
    match timeout(within, work).await {
        Ok(sent) => sent.map_err(ws_error),
        Err(_) => Err(Error::new(ErrorKind::Timeout, "the server stopped reading")),
    }
}

/// Closes with 1000 "Client disconnect" and waits (bounded) for the server's answer.
async fn close(mut ws: Ws) {
    let code = coding::CloseCode::Normal;
    let bye = CloseFrame {
        code,
        reason: "Client disconnect".into(),
    };
    let _ = timeout(CLOSE_TIMEOUT, async {
        if ws.close(Some(bye)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// What a command asks of the connection.
enum Action {
    Send(Frame),
    Close(oneshot::Sender<()>),
    Nothing,
}

/// The task that owns the socket, across reconnects.
struct Worker {
    settings: Arc<Settings>,
    commands: mpsc::Receiver<Command>,
    /// Whether a handle is left (once none is, the stream alone keeps the connection).
    commands_open: bool,
    /// In subscription order, each once.
    subscriptions: Vec<String>,
}

impl Worker {
    async fn run(mut self, events: mpsc::Sender<Result<Event>>, mut ws: Ws) {
        let (mut notice, mut failures) = (None, 0);
        let idle = self.settings.idle_timeout;
        loop {
            let Some((mut error, heard)) = self.serve(&events, ws, notice.take()).await else {
                return;
            };
            tracing::debug!(url = %self.settings.url, "Linktor WebSocket lost: {error}");
            if events.is_closed() {
                return;
            }
            if heard {
                failures = 0;
            }
            let mut attempts = 0;
            ws = loop {
                let (retryable, hint) = (error.is_retryable(), error.retry_after());
                let failure = Failure {
                    retryable,
                    may_have_been_applied: false,
                    hint,
                };
                let Decision::RetryAfter(wait) =
                    self.settings.policy.decide(failures, failure, true)
                else {
                    if attempts > 0 {
                        error = error.with_hint(&format!("gave up after {attempts} attempts"));
                    }
                    self.meanwhile(events.send(Err(error))).await;
                    return;
                };
                (failures, attempts) = (failures + 1, attempts + 1);
                let settings = self.settings.clone();
                let attempt = async move {
                    settings.clock.sleep(wait).await;
                    open(&settings).await
                };
                match self.meanwhile(attempt).await {
                    None => return,
                    Some(Err(e)) => error = e,
                    Some(Ok(mut fresh)) => {
                        let renew = self.subscriptions.iter().map(|id| frame("subscribe", id));
                        match send(&mut fresh, renew.collect(), idle).await {
                            Ok(()) => break fresh,
                            Err(e) => error = e,
                        }
                    }
                }
            };
            tracing::debug!(url = %self.settings.url, attempts, "Linktor WebSocket reconnected");
            notice = Some(Ok(Event::Reconnected { attempts }));
        }
    }

    /// Applies a command to the subscriptions and says what to send.
    fn apply(&mut self, command: Option<Command>) -> Action {
        match command {
            None => {
                self.commands_open = false;
                Action::Nothing
            }
            Some(Command::Subscribe(id)) => {
                let subscribe = frame("subscribe", &id);
                if !self.subscriptions.contains(&id) {
                    self.subscriptions.push(id);
                }
                Action::Send(subscribe)
            }
            Some(Command::Unsubscribe(id)) => {
                self.subscriptions.retain(|s| *s != id);
                Action::Send(frame("unsubscribe", &id))
            }
            Some(Command::Typing(id)) => Action::Send(typing(&id, true)),
            Some(Command::StopTyping(id)) => Action::Send(typing(&id, false)),
            Some(Command::Close(ack)) => Action::Close(ack),
        }
    }

    /// Awaits `work` while answering commands (a subscription is noted for the next
    /// connection; other frames are dropped). `None`: the caller closed the client.
    async fn meanwhile<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return Some(done),
                command = self.commands.recv(), if self.commands_open => {
                    if let Action::Close(ack) = self.apply(command) {
                        let _ = ack.send(());
                        return None;
                    }
                }
            }
        }
    }

    /// Runs one connection; `notice` is delivered first. `None` when it was closed (by the
    /// caller, or because nobody reads the events any more); else why it was lost, and whether
    /// it received a frame.
    async fn serve(
        &mut self,
        events: &mpsc::Sender<Result<Event>>,
        mut ws: Ws,
        mut notice: Option<Result<Event>>,
    ) -> Option<(Error, bool)> {
        let (idle, every) = (self.settings.idle_timeout, self.settings.ping_interval);
        let mut ping = tokio::time::interval_at(Instant::now() + every, every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let (mut deadline, mut heard, mut permit) = (Instant::now() + idle, false, None);
        loop {
            // The socket is read only while a place in the buffer is reserved for what it gives.
            let frames = tokio::select! {
                biased;
                command = self.commands.recv(), if self.commands_open => match self.apply(command) {
                    Action::Send(frame) => vec![frame],
                    Action::Close(ack) => {
                        close(ws).await;
                        let _ = ack.send(());
                        return None;
                    }
                    Action::Nothing => continue,
                },
                _ = ping.tick() => {
                    vec![Frame::text(r#"{"type":"ping"}"#), Frame::Ping(Default::default())]
                }
                reserved = events.reserve(), if permit.is_none() => {
                    let Ok(reserved) = reserved else {
                        close(ws).await;
                        return None;
                    };
                    // Time spent waiting for the consumer is not silence.
                    deadline = Instant::now() + idle;
                    match notice.take() {
                        Some(item) => reserved.send(item),
                        None => permit = Some(reserved),
                    }
                    continue;
                }
                read = ws.next(), if permit.is_some() => {
                    (deadline, heard) = (Instant::now() + idle, true);
                    match read {
                        Some(Ok(Frame::Close(_))) | None => {
                            let closed = "the server closed the WebSocket";
                            return Some((Error::new(ErrorKind::Connection, closed), heard));
                        }
                        Some(Err(e)) => return Some((ws_error(e), heard)),
                        Some(Ok(frame)) => {
                            if let Some(item) = decode(frame) && let Some(p) = permit.take() {
                                p.send(item);
                            }
                            continue;
                        }
                    }
                }
                () = events.closed(), if permit.is_some() => {
                    close(ws).await;
                    return None;
                }
                () = sleep_until(deadline), if permit.is_some() => {
                    let why = format!("no frame from the server for {}", human(idle));
                    return Some((Error::new(ErrorKind::Timeout, why), heard));
                }
            };
            if let Err(e) = send(&mut ws, frames, idle).await {
                return Some((e, heard));
            }
        }
    }
}
