//! Real-time WebSocket clients, written once for every platform that has one: the connection,
//! its liveness, reconnects and a bounded event buffer. A platform gives a [`Protocol`] (its
//! event type, how a frame reads as one, its subscribe and unsubscribe frames, its app-level
//! ping) and, on its own builder, its credential setters and defaults.
//!
//! - **Connection**: TCP, TLS for `wss:` (rustls with ring, the config the HTTP client uses),
//!   then the upgrade with the credential in the query (`?<name>=`), within 10 s. A refused
//!   upgrade is read like any error answer (status, `Retry-After`, `{code, message}`). No log
//!   line, `Debug` output or error shows the credential: the URL is shown without its query, a
//!   WebSocket error never with its request.
//! - **Liveness**: every ping interval the protocol's keepalive frame (if it has one) and a
//!   WebSocket ping go out; any frame received counts as life, and the idle timeout without one
//!   declares the connection dead (both on tokio's timer).
//! - **Reconnect**: after full-jitter exponential backoff (the retry [`Policy`], slept on the
//!   builder's [`Clock`]); every subscription is renewed, then the protocol's reconnected event
//!   is yielded. The budget counts consecutive attempts and renews once a connection receives a
//!   frame; when it is spent, or a failure cannot be retried (a 401), the stream yields the
//!   error and ends.
//! - **Backpressure**: at most [`EVENT_BUFFER`] events wait for the consumer; one that stops
//!   reading stops the client reading the socket (pings still go out), so memory stays bounded.
//! - **Close**: code 1000 "Client disconnect", waiting up to 2 s for the server's answer; also
//!   once the [`Events`] stream is dropped.

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
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig, frame::coding};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use super::config::{Clock, DEFAULT_CONNECT_TIMEOUT, Secret, SystemClock, tls_config};
use super::error::{Error, ErrorKind, Result, human};
use super::operation::ErrorFormat;
use super::retry::{Decision, Failure, Policy};

/// One WebSocket message (tungstenite's), as a protocol reads and writes it.
pub use tokio_tungstenite::tungstenite::Message as Frame;

/// Events buffered between the socket and the consumer, at most.
pub const EVENT_BUFFER: usize = 64;
/// The largest incoming message, in bytes (1 MiB); a larger one drops the connection.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// How long a close waits for the server's answer.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a platform's real-time API says on the wire; the rest is this module's.
pub trait Protocol: Send + Sync + 'static {
    /// A server event.
    type Event: Send + 'static;
    /// How log lines name the platform; lowercased, the user agent's suffix
    /// (`agentwire/<version> (<name>)`).
    const NAME: &'static str;
    /// What a subscription names, for errors (`channel id`).
    const TOPIC: &'static str;
    /// The query parameters a credential may go in, each also the name of its builder setter
    /// (`api_key`), for errors that say what to give.
    const CREDENTIALS: &'static [&'static str];

    /// Reads one frame: `None` for what is consumed (control frames, application pongs), an
    /// `Err` of kind `Decode` for one that cannot be read (the stream goes on).
    fn decode(&self, frame: Frame) -> Option<Result<Self::Event>>;
    /// The application-level ping sent with each WebSocket ping, if the protocol has one.
    fn keepalive(&self) -> Option<Frame>;
    /// The frame that subscribes to a topic.
    fn subscribe(&self, topic: &str) -> Frame;
    /// The frame that unsubscribes from a topic.
    fn unsubscribe(&self, topic: &str) -> Frame;
    /// The event yielded once the connection is open again, after `attempts` connection
    /// attempts (1 when the first one succeeded).
    fn reconnected(&self, attempts: u32) -> Self::Event;
}

/// What a client is configured with (the builder's, then shared by the connection's task).
struct Settings<P> {
    protocol: P,
    url: String,
    /// The query parameter (one of the protocol's credentials) and its value.
    auth: Option<(&'static str, Secret)>,
    tls: Option<Arc<rustls::ClientConfig>>,
    clock: Arc<dyn Clock>,
    ping_interval: Duration,
    idle_timeout: Duration,
    policy: Policy,
}

impl<P> fmt::Debug for Settings<P> {
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

/// Configures and opens a [`Connection`]. Only a credential is required (the platform names its
/// setters).
#[must_use]
pub struct Builder<P> {
    settings: Settings<P>,
}

impl<P> fmt::Debug for Builder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Builder").field(&self.settings).finish()
    }
}

impl<P: Protocol> Builder<P> {
    /// A builder with the platform's defaults: its URL, ping interval and idle timeout, and its
    /// reconnect budget. The backoff between reconnects is not the platform's: full jitter over
    /// 1 s doubling per attempt, up to 30 s.
    pub(crate) fn new(
        protocol: P,
        url: &str,
        ping_interval: Duration,
        idle_timeout: Duration,
        reconnect_budget: u32,
    ) -> Self {
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(30));
        let settings = Settings {
            protocol,
            url: url.to_owned(),
            auth: None,
            tls: None,
            clock: Arc::new(SystemClock),
            ping_interval,
            idle_timeout,
            policy: Policy {
                max_retries: reconnect_budget,
                base,
                cap,
                max_hint: cap,
            },
        };
        Builder { settings }
    }

    /// Authenticates with `?<name>=<value>`, replacing a credential given before; `name` is one
    /// of the protocol's [`Protocol::CREDENTIALS`].
    pub(crate) fn credential(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.settings.auth = Some((name, Secret::new(value)));
        self
    }

    /// The WebSocket URL: `ws://` or `wss://`, with its path and without a query (the
    /// credential has its own setter). Default: the platform's.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.settings.url = url.into();
        self
    }

    /// The clock the backoff between reconnects sleeps on (tests inject one that records).
    /// Default [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// Time between two pings (the platform's ping frame, if it has one, and a WebSocket ping).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.settings.ping_interval = interval;
        self
    }

    /// Silence after which the connection counts as dead and is reopened.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.idle_timeout = timeout;
        self
    }

    /// Consecutive reconnect attempts before the stream gives up (0 never reconnects). Backoff
    /// before each: full jitter over 1 s doubling per attempt, up to 30 s.
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
    pub async fn connect(mut self) -> Result<(Connection<P>, Events<P::Event>)> {
        let s = &mut self.settings;
        let url = endpoint::<P>(&s.url)?;
        let credential = s.auth.as_ref().map(|(_, secret)| secret.expose().trim());
        if credential.is_none_or(str::is_empty) {
            let setters = setters::<P>();
            return Err(Error::invalid_input(format!(
                "no credential: give {setters}"
            )));
        }
        if s.ping_interval.is_zero() || s.idle_timeout.is_zero() {
            return Err(Error::invalid_input("zero ping interval or idle timeout"));
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
            Connection { commands, settings },
            Events { rx, done: false },
        ))
    }
}

/// The handle of a real-time connection: subscribe, unsubscribe, close (and the platform's own
/// frames). Cheap to clone. The connection lives until [`Self::close`], or until its [`Events`]
/// stream is dropped.
pub struct Connection<P> {
    commands: mpsc::Sender<Command>,
    settings: Arc<Settings<P>>,
}

impl<P> Clone for Connection<P> {
    fn clone(&self) -> Self {
        let (commands, settings) = (self.commands.clone(), self.settings.clone());
        Connection { commands, settings }
    }
}

impl<P> fmt::Debug for Connection<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Connection").field(&self.settings).finish()
    }
}

impl<P: Protocol> Connection<P> {
    /// Subscribes to a topic's events, renewed on every reconnect. Resolves once the request is
    /// queued: it goes out now, or on the next connection.
    ///
    /// # Errors
    /// `InvalidInput` for an empty topic; `Connection` once the client is closed or gave up.
    pub async fn subscribe(&self, topic: impl Into<String>) -> Result<()> {
        self.command(topic, Command::Subscribe).await
    }

    /// Unsubscribes from a topic.
    ///
    /// # Errors
    /// As [`Self::subscribe`].
    pub async fn unsubscribe(&self, topic: impl Into<String>) -> Result<()> {
        self.command(topic, Command::Unsubscribe).await
    }

    /// Sends the frame `make` builds for a topic if the connection is open; it is dropped while
    /// the connection is being reopened (for what is momentary, such as typing).
    ///
    /// # Errors
    /// As [`Self::subscribe`].
    pub(crate) async fn send(
        &self,
        topic: impl Into<String>,
        make: impl FnOnce(&str) -> Frame,
    ) -> Result<()> {
        self.command(topic, |topic| Command::Send(make(&topic)))
            .await
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

    async fn command(
        &self,
        topic: impl Into<String>,
        make: impl FnOnce(String) -> Command,
    ) -> Result<()> {
        let topic = topic.into();
        if topic.trim().is_empty() {
            return Err(Error::invalid_input(format!("the {} is empty", P::TOPIC)));
        }
        let closed = |_| Error::new(ErrorKind::Connection, "the real-time client is closed");
        self.commands.send(make(topic)).await.map_err(closed)
    }
}

/// The events of a real-time connection, in order: a fused stream holding at most
/// [`EVENT_BUFFER`] of them. An `Err` item (a frame that could not be read) does not end it;
/// it ends after a close, or after the error that made it give up reconnecting.
#[derive(Debug)]
pub struct Events<E> {
    rx: mpsc::Receiver<Result<E>>,
    done: bool,
}

impl<E> Stream for Events<E> {
    type Item = Result<E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = self.rx.poll_recv(cx);
        self.done = matches!(polled, Poll::Ready(None));
        polled
    }
}

impl<E> FusedStream for Events<E> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

enum Command {
    Subscribe(String),
    Unsubscribe(String),
    Send(Frame),
    Close(oneshot::Sender<()>),
}

/// The protocol's credential setters, for errors: `.api_key(..) or .token(..)`.
fn setters<P: Protocol>() -> String {
    let setters: Vec<String> = P::CREDENTIALS.iter().map(|c| format!(".{c}(..)")).collect();
    setters.join(" or ")
}

/// The WebSocket URL, checked: `ws:` or `wss:` with a host, no query, no fragment. The URL is
/// not repeated in the error (a query there could hold a credential).
fn endpoint<P: Protocol>(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid_input(format!("invalid WebSocket URL: {e}")))?;
    let scheme = matches!(url.scheme(), "ws" | "wss");
    if !scheme || !url.has_host() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "the WebSocket URL must be ws:// or wss:// with a host and no query (give the \
             credential with {})",
            setters::<P>()
        )));
    }
    Ok(url)
}

/// A plain or TLS connection.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Ws = WebSocketStream<Box<dyn Io>>;

/// Opens one connection: TCP, TLS for `wss:`, then the upgrade with the credential in the query.
async fn open<P: Protocol>(s: &Settings<P>) -> Result<Ws> {
    let mut url = endpoint::<P>(&s.url)?;
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
    let agent = format!(
        "agentwire/{} ({})",
        env!("CARGO_PKG_VERSION"),
        P::NAME.to_ascii_lowercase()
    );
    let agent =
        HeaderValue::from_str(&agent).map_err(|_| Error::invalid_input("invalid user agent"))?;
    request.headers_mut().insert(USER_AGENT, agent);
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
struct Worker<P> {
    settings: Arc<Settings<P>>,
    commands: mpsc::Receiver<Command>,
    /// Whether a handle is left (once none is, the stream alone keeps the connection).
    commands_open: bool,
    /// In subscription order, each once.
    subscriptions: Vec<String>,
}

impl<P: Protocol> Worker<P> {
    async fn run(mut self, events: mpsc::Sender<Result<P::Event>>, mut ws: Ws) {
        let (mut notice, mut failures) = (None, 0);
        let idle = self.settings.idle_timeout;
        loop {
            let Some((mut error, heard)) = self.serve(&events, ws, notice.take()).await else {
                return;
            };
            tracing::debug!(url = %self.settings.url, "{} WebSocket lost: {error}", P::NAME);
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
                        let protocol = &self.settings.protocol;
                        let renew = self.subscriptions.iter().map(|t| protocol.subscribe(t));
                        match send(&mut fresh, renew.collect(), idle).await {
                            Ok(()) => break fresh,
                            Err(e) => error = e,
                        }
                    }
                }
            };
            tracing::debug!(url = %self.settings.url, attempts, "{} WebSocket reconnected", P::NAME);
            notice = Some(Ok(self.settings.protocol.reconnected(attempts)));
        }
    }

    /// Applies a command to the subscriptions and says what to send.
    fn apply(&mut self, command: Option<Command>) -> Action {
        let protocol = &self.settings.protocol;
        match command {
            None => {
                self.commands_open = false;
                Action::Nothing
            }
            Some(Command::Subscribe(topic)) => {
                let subscribe = protocol.subscribe(&topic);
                if !self.subscriptions.contains(&topic) {
                    self.subscriptions.push(topic);
                }
                Action::Send(subscribe)
            }
            Some(Command::Unsubscribe(topic)) => {
                self.subscriptions.retain(|s| *s != topic);
                Action::Send(protocol.unsubscribe(&topic))
            }
            Some(Command::Send(frame)) => Action::Send(frame),
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
        events: &mpsc::Sender<Result<P::Event>>,
        mut ws: Ws,
        mut notice: Option<Result<P::Event>>,
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
                    let keepalive = self.settings.protocol.keepalive();
                    keepalive.into_iter().chain([Frame::Ping(Default::default())]).collect()
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
                            let decoded = self.settings.protocol.decode(frame);
                            if let Some(item) = decoded && let Some(p) = permit.take() {
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

/// What the platforms' tests do not reach: a protocol without an application-level ping, and the
/// user agent built from the protocol's name.
#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

    /// Frames as text; no keepalive.
    struct Plain;

    impl Protocol for Plain {
        type Event = String;
        const NAME: &'static str = "Plain";
        const TOPIC: &'static str = "topic";
        const CREDENTIALS: &'static [&'static str] = &["key"];

        fn decode(&self, frame: Frame) -> Option<Result<String>> {
            frame
                .into_text()
                .ok()
                .map(|text| Ok(text.as_str().to_owned()))
        }
        fn keepalive(&self) -> Option<Frame> {
            None
        }
        fn subscribe(&self, topic: &str) -> Frame {
            Frame::text(format!("+{topic}"))
        }
        fn unsubscribe(&self, topic: &str) -> Frame {
            Frame::text(format!("-{topic}"))
        }
        fn reconnected(&self, attempts: u32) -> String {
            format!("reconnected after {attempts}")
        }
    }

    #[tokio::test]
    async fn without_keepalive_only_websocket_pings_go_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut agent = String::new();
            #[allow(
                clippy::result_large_err,
                reason = "the handshake callback's signature is tungstenite's"
            )]
            let seen =
                |request: &Request, response: Response| -> std::result::Result<_, ErrorResponse> {
                    let header = request.headers().get(USER_AGENT);
                    agent = header
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    Ok(response)
                };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, seen)
                .await
                .unwrap();
            let mut frames = Vec::new();
            let until = Instant::now() + Duration::from_millis(350);
            while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until, ws.next()).await {
                frames.push(frame);
            }
            (agent, frames)
        });
        let builder = Builder::new(
            Plain,
            &url,
            Duration::from_millis(100),
            Duration::from_secs(5),
            0,
        );
        let (client, _events) = builder.credential("key", "k").connect().await.unwrap();
        client.subscribe("a").await.unwrap();
        let (agent, frames) = timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(agent, format!("agentwire/{version} (plain)"));
        assert_eq!(frames.first(), Some(&Frame::text("+a")));
        let pings = frames
            .iter()
            .filter(|f| matches!(f, Frame::Ping(_)))
            .count();
        assert!(pings >= 2, "{frames:?}");
        assert_eq!(pings + 1, frames.len(), "nothing else: {frames:?}");
    }
}
