//! A fixture-replaying mock server, in-process on loopback (feature `mock`). It serves a
//! platform's recorded fixtures (embedded at build time), answers any request that is valid
//! against the spec, plays sequences (a 500 then a 200; a stream that drops, then the resumed
//! stream), takes fixtures you register, and keeps a bounded journal of every request for
//! assertions.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use agentwire::mock::MockServer;
//! let mock = MockServer::start(&agentwire::bimpeai::PLATFORM).await?;
//! let client = agentwire::bimpeai::Client::builder()
//!     .api_key("sk_test")
//!     .base_url(mock.base_url())
//!     .build()?;
//! let page = client.agents().list().page(1).limit(2).send().await?;
//! assert_eq!(page.items().len(), 2);
//! assert_eq!(mock.journal().len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! [`MockServer::base_url`] is the origin an agentwire client (or a platform's own SDK, which adds
//! the path prefix itself) takes; [`MockServer::platform_url`] adds the platform's path prefix
//! (`/api/v1/console`), for plain HTTP clients such as curl. `GET /_agentwire/` lists both, every
//! operation (id, method, path) and its fixtures, as JSON.
//!
//! # The three answers
//!
//! A request is routed to its operation (method + path template, literal segments first); a
//! request no operation fits gets `404` with code `mock_no_route` and the header
//! `x-agentwire-mock: no-route`. When the operation requires credentials (its security
//! alternatives), a request without them gets `401` in the platform's error format: any
//! non-empty value is accepted (`Authorization: Bearer <anything>`); operations with
//! `security: []` need none. Then:
//!
//! 1. **A request that is not valid against the spec** gets `400` in the platform's own error
//!    format, with its validation code and one `"path: message"` field error per problem (for
//!    BimpeAI `{"message": ["name: is required"], "code": "validation_error"}`, which the client
//!    reads as `ErrorKind::Validation`) — even where a fixture would match it: every fixture's own
//!    request is valid (the contract suite checks it), so no fixture can stand for an invalid
//!    one. Valid means: path and query parameters of their declared types (enum values exactly;
//!    undeclared query parameters are rejected), and the JSON body valid against the request
//!    schema, where an object admits no member the spec does not name. The schemas are compiled
//!    in by build.rs: the mock reads no spec file.
//! 2. **The most specific matching fixture.** Among the operation's fixtures, those whose named
//!    query and body members all match are candidates; an exact path match ranks first, then the
//!    fixture naming the most members, then a success over an error, then file order. Registered
//!    fixtures rank above embedded ones. An error fixture is a candidate only when its path is
//!    the request's or it names a query or body member; an embedded `401` on a path without
//!    parameters needs a member: the mock takes any credential, so a `401` recorded for a wrong
//!    key on `GET /conversations` documents that answer without refusing every right key.
//! 3. **Otherwise** the operation's default success fixture, `<operationId>.json`.
//!
//! In strict mode ([`MockBuilder::strict`], `agentwire mock --strict`), for fixture authors, 1
//! and 3 give way to a "no fixture" answer: `404` with code `mock_no_fixture` and the header
//! `x-agentwire-mock: no-fixture` — never the platform's own `not_found`. Every answer carries
//! `x-agentwire-mock` (`fixture`, `default`, `invalid`, `unauthorized`, `no-route`, `no-fixture`,
//! `too-large`, `bad-body`), and fixture answers `x-agentwire-fixture: <file>`.
//!
//! # Bodies
//!
//! A body longer than 64 MiB ([`MockBuilder::max_body_bytes`]) gets `413`; a body that cannot be
//! read (a malformed chunked encoding, a connection closed before `Content-Length` bytes) gets
//! `400` saying so — never "no fixture", never taken as empty.
//!
//! # Streams
//!
//! A recorded Server-Sent-Events answer is replayed as recorded. Where the spec declares how a
//! stream resumes (`x-agentwire-stream.resume`, BimpeAI's `?after=`) and the request names a
//! position, only the recorded events after it are sent: after that event id (looked up across
//! the operation's recorded streams, in order), or, for an ISO-8601 time, the events whose data
//! has a later `created_at` (an event whose time cannot be compared is sent). Then the fixture's
//! `end` decides: `close`, `drop` (the connection is cut) or `hang` (silence); without one the
//! stream stays open like the platform's, sending its heartbeat (a heartbeat event recorded in
//! the operation's fixtures, else an SSE comment) every 15 s
//! ([`MockBuilder::heartbeat_interval`]) until the client goes away.
//!
//! # The journal
//!
//! Every request is journalled with the answer it got ([`Received::answer`]). The journal is
//! bounded ([`JournalLimits`]): by default the in-process mock keeps the last 10,000 requests
//! and 64 MiB of bodies, `agentwire mock` the last 100 and 8 MiB; a body over 1 MiB is kept
//! truncated, with [`Received::truncated`] set. `GET /_agentwire/` is not journalled.

mod fixture;
mod form;
mod journal;
mod realtime;
mod request;
mod shape;
pub(crate) mod spec;
mod stream;
mod tasks;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

pub use fixture::{Fixture, FixtureError, FixtureRequest, FixtureResponse, SseBody};
pub use form::FormPart;
pub use journal::JournalLimits;

use crate::runtime::operation::{
    Auth, ErrorFormat, Operation, Platform, ResponseKind, StreamResume, match_template,
};
use journal::Journal;

/// Where the mock mounts each host for its every-host client builder.
const HOSTS_MOUNT: &str = "/_hosts/";
use spec::Requests;

/// How often an open stream without an `end` sends its heartbeat, unless configured.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// The largest request body the mock reads (64 MiB), unless configured; a longer one gets `413`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The header naming which answer the mock gave.
const MOCK_HEADER: &str = "x-agentwire-mock";

/// Which answer the mock gave a request (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// The most specific matching fixture (registered fixtures are `<registered>`).
    Fixture {
        /// The fixture's file.
        file: String,
    },
    /// No fixture matched and the request is valid: the operation's default success fixture.
    Default {
        /// The fixture's file (`<operationId>.json`).
        file: String,
    },
    /// No fixture matched and the request is invalid against the spec: `400`.
    Invalid {
        /// The field errors sent, `"path: message"`.
        field_errors: Vec<String>,
    },
    /// The operation requires credentials the request does not carry: `401`.
    Unauthorized,
    /// No operation fits the method and path: `404`, code `mock_no_route`.
    NoRoute,
    /// No fixture matched and (strict mode, or no default fixture) nothing else may answer:
    /// `404`, code `mock_no_fixture`.
    NoFixture,
    /// The body is longer than the mock reads: `413`.
    TooLarge,
    /// The body could not be read (malformed chunked encoding, shorter than its
    /// `Content-Length`): `400`.
    BadBody,
    /// A poll of a task the mock started (an acknowledgement of its default answer): the
    /// task's success state and result (see the module docs).
    Task {
        /// The task id.
        id: String,
    },
}

impl Answer {
    /// The `x-agentwire-mock` header value for it.
    fn tag(&self) -> &'static str {
        match self {
            Answer::Fixture { .. } => "fixture",
            Answer::Default { .. } => "default",
            Answer::Invalid { .. } => "invalid",
            Answer::Unauthorized => "unauthorized",
            Answer::NoRoute => "no-route",
            Answer::NoFixture => "no-fixture",
            Answer::TooLarge => "too-large",
            Answer::BadBody => "bad-body",
            Answer::Task { .. } => "task",
        }
    }
}

/// One request the mock received, and what it answered. `Debug` shows credential headers
/// (`Authorization`, `X-API-Key`, ...) as `***`: a real key pointed at the mock by mistake must
/// not land in test logs; [`Received::header`] still returns the value for assertions.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Received {
    /// The operation it was routed to, if any.
    pub operation: Option<String>,
    /// The method.
    pub method: String,
    /// The path relative to the host's base URL (prefix removed).
    pub path: String,
    /// The query pairs in order.
    pub query: Vec<(String, String)>,
    /// The headers, lower-case names (a repeated header keeps its last value).
    pub headers: BTreeMap<String, String>,
    /// The raw body as journalled: cut to the journal's per-body limit when `truncated`.
    pub body: Bytes,
    /// The body's length as received, in bytes (before any truncation; for a body that could
    /// not be read, what arrived before it failed).
    pub body_len: usize,
    /// Whether `body` holds only the start of a longer body.
    pub truncated: bool,
    /// The parts of a form body (multipart or URL-encoded), in order; empty for any other.
    pub form: Vec<FormPart>,
    /// Which answer the mock gave.
    pub answer: Answer,
    /// The status it answered with.
    pub status: u16,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: BTreeMap<&str, &str> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if crate::runtime::options::is_credential_header(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("Received")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(k, v)| {
                        let secret = crate::runtime::options::is_credential_header(k);
                        (k.as_str(), if secret { "***" } else { v.as_str() })
                    })
                    .collect::<Vec<_>>(),
            )
            .field("headers", &headers)
            .field("body_len", &self.body_len)
            .field("truncated", &self.truncated)
            .field("answer", &self.answer)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Received {
    /// The body as JSON, if it is JSON (a truncated body seldom is).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The first form part named `name` (a field or a file).
    pub fn form_part(&self, name: &str) -> Option<&FormPart> {
        self.form.iter().find(|p| p.name == name)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The query as a map (a repeated name keeps its last value).
    pub fn query_map(&self) -> BTreeMap<String, String> {
        self.query.iter().cloned().collect()
    }
}

struct Shared {
    platform: &'static Platform,
    addr: SocketAddr,
    strict: bool,
    heartbeat: Duration,
    max_body: usize,
    requests: Option<Requests>,
    fixtures: Mutex<Vec<Entry>>,
    journal: Mutex<Journal>,
    /// The mock's own request ids (`req_mock_<n>`), for answers that are not fixtures.
    request_ids: std::sync::atomic::AtomicU64,
    /// The tasks its acknowledgements started (`tasks`).
    tasks: tasks::Tasks,
    /// Its real-time subscribers (`realtime`).
    hub: realtime::Hub,
}

impl Shared {
    fn next_request_id(&self) -> String {
        let n = self
            .request_ids
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("req_mock_{}", n + 1)
    }

    /// The path of the mock's index (`/_agentwire/`), in full: `http://127.0.0.1:PORT/_agentwire/`.
    fn index_path(&self) -> String {
        format!("http://{}/_agentwire/", self.addr)
    }
}

struct Entry {
    fixture: Fixture,
    registered: bool,
    played: usize,
}

/// A running mock server; it stops when dropped, and every connection it holds open (a
/// streaming answer, say) is closed then.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("platform", &self.shared.platform.name)
            .field("addr", &self.addr)
            .field("strict", &self.shared.strict)
            .finish()
    }
}

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// An embedded or given fixture does not parse.
    #[error("bad fixture: {0}")]
    Fixture(String),
    /// The loopback listener could not be bound.
    #[error("cannot listen on loopback: {0}")]
    Bind(#[from] std::io::Error),
    /// The request schemas compiled in for the platform do not parse (a generator bug).
    #[error("bad request schema: {0}")]
    Schema(String),
}

/// The fixtures compiled in for a platform (empty without the `mock` feature's build). They are
/// embedded as bytes and parsed here, so a broken file (not UTF-8, not JSON, a header the wire
/// cannot carry) is a [`MockError::Fixture`] naming the file and the place, not a build failure.
pub fn embedded_fixtures(platform: &Platform) -> Result<Vec<Fixture>, MockError> {
    let files = crate::registry::entry(platform).map_or(&[][..], |e| e.fixtures);
    files
        .iter()
        .map(|(file, bytes)| {
            Fixture::parse_bytes(file, bytes).map_err(|e| MockError::Fixture(e.to_string()))
        })
        .collect()
}

/// Configures a [`MockServer`] before it starts: `MockServer::builder(&PLATFORM)...start()`.
#[derive(Debug)]
#[must_use = "a mock does nothing until it is started"]
pub struct MockBuilder {
    platform: &'static Platform,
    fixtures: Option<Vec<Fixture>>,
    port: u16,
    strict: bool,
    heartbeat: Duration,
    max_body: usize,
    journal: JournalLimits,
}

impl MockBuilder {
    /// Serves these fixtures instead of the embedded ones.
    pub fn fixtures(mut self, fixtures: Vec<Fixture>) -> Self {
        self.fixtures = Some(fixtures);
        self
    }

    /// Listens on `127.0.0.1:port` (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Strict mode, for fixture authors (default off): a request no fixture matches gets the
    /// "no fixture" answer (`404`, code `mock_no_fixture`) instead of the default fixture or a
    /// validation error.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// How often an open stream sends its heartbeat (default 15 s; at least 1 ms).
    pub fn heartbeat_interval(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(1));
        self
    }

    /// The largest request body read, in bytes (default 64 MiB); a longer one gets `413`.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// How much of what it receives the mock keeps (default [`JournalLimits::IN_PROCESS`]).
    pub fn journal_limits(mut self, limits: JournalLimits) -> Self {
        self.journal = limits;
        self
    }

    /// Binds the listener and starts serving.
    ///
    /// Fails when a fixture does not parse, the compiled-in request schemas do not parse, or
    /// the port cannot be bound.
    pub async fn start(self) -> Result<MockServer, MockError> {
        let fixtures = match self.fixtures {
            Some(f) => f,
            None => embedded_fixtures(self.platform)?,
        };
        let requests = spec::table(self.platform)
            .map(Requests::parse)
            .transpose()
            .map_err(MockError::Schema)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            platform: self.platform,
            addr,
            strict: self.strict,
            heartbeat: self.heartbeat,
            max_body: self.max_body,
            requests,
            request_ids: std::sync::atomic::AtomicU64::new(0),
            tasks: tasks::Tasks::default(),
            hub: realtime::Hub::default(),
            fixtures: Mutex::new(
                fixtures
                    .into_iter()
                    .map(|fixture| Entry {
                        fixture,
                        registered: false,
                        played: 0,
                    })
                    .collect(),
            ),
            journal: Mutex::new(Journal::new(self.journal)),
        });
        let task = tokio::spawn(serve(listener, shared.clone()));
        Ok(MockServer { addr, shared, task })
    }
}

/// Accepts connections until aborted; each connection runs in a set owned by this task, so
/// aborting it (dropping the `MockServer`) closes them all.
async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move {
                                Ok::<_, std::convert::Infallible>(
                                    handle(shared, req.map(Body::new)).await,
                                )
                            }
                        });
                        // A client that half-closes after its request still gets the answer
                        // (a body shorter than its Content-Length is answered 400).
                        let _ = hyper::server::conn::http1::Builder::new()
                            .half_close(true)
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .with_upgrades()
                            .await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl MockServer {
    /// Starts a mock of `platform` serving its embedded fixtures on `127.0.0.1` (a free port),
    /// with every default of [`MockServer::builder`].
    pub async fn start(platform: &'static Platform) -> Result<MockServer, MockError> {
        Self::builder(platform).start().await
    }

    /// Starts a mock of `platform` serving `fixtures` on `127.0.0.1:port` (0: any free port).
    pub async fn start_with(
        platform: &'static Platform,
        fixtures: Vec<Fixture>,
        port: u16,
    ) -> Result<MockServer, MockError> {
        Self::builder(platform)
            .fixtures(fixtures)
            .port(port)
            .start()
            .await
    }

    /// A mock of `platform` to configure: its embedded fixtures on a free port, not strict,
    /// heartbeats every 15 s, bodies up to 64 MiB, [`JournalLimits::IN_PROCESS`].
    pub fn builder(platform: &'static Platform) -> MockBuilder {
        MockBuilder {
            platform,
            fixtures: None,
            port: 0,
            strict: false,
            heartbeat: DEFAULT_HEARTBEAT_INTERVAL,
            max_body: DEFAULT_MAX_BODY_BYTES,
            journal: JournalLimits::IN_PROCESS,
        }
    }

    /// The origin to give an agentwire client as its base URL (`http://127.0.0.1:PORT`): the
    /// client adds the platform's path prefix, which the mock serves.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL to give a client for the host `name` (`http://127.0.0.1:PORT/_hosts/<name>`):
    /// the mock routes requests under it among that host's operations only, so every host of a
    /// platform can point at this one mock, whatever their prefixes. The client adds the host's
    /// prefix, as for [`MockServer::base_url`].
    pub fn host_url(&self, name: &str) -> String {
        format!("http://{}{HOSTS_MOUNT}{name}", self.addr)
    }

    /// A client builder of platform client `C` with every host of its platform pointed at this
    /// mock ([`MockServer::host_url`]); set its credentials and build it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use agentwire::bimpeai::{Client, PLATFORM};
    /// let mock = agentwire::mock::MockServer::start(&PLATFORM).await?;
    /// let client = mock.client_builder::<Client>().api_key("sk_test").build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_builder<C: crate::PlatformClient>(&self) -> crate::ClientBuilder<C> {
        C::platform()
            .hosts
            .iter()
            .fold(crate::ClientBuilder::new(), |b, h| {
                b.host_url(h.name, self.host_url(h.name))
            })
    }

    /// The full base URL of the platform's default host, prefix included
    /// (`http://127.0.0.1:PORT/api/v1/console`) — what a plain HTTP client prefixes paths with.
    pub fn platform_url(&self) -> String {
        platform_url(&self.shared)
    }

    /// `value` with `{mock_base}` and `{mock_base:<host>}` replaced by this mock's URLs, as the
    /// mock does in every answer it plays (a fixture's presigned upload URL points back at the
    /// mock): what a client of this mock receives where the fixture wrote a placeholder.
    pub fn expand_placeholders(&self, value: &mut Value) {
        expand_json(&self.shared, value);
    }

    /// The URL of the platform's real-time WebSocket on this mock (`ws://127.0.0.1:PORT/ws`),
    /// for a platform whose spec describes one (`x-agentwire-realtime`), else `None`. Any
    /// non-empty credential is accepted in its query; a client subscribes to topics, its
    /// keepalive is answered, and the REST writes the spec lists are announced to their
    /// topic's subscribers (a message sent in a conversation is a `message` event there).
    pub fn realtime_url(&self) -> Option<String> {
        let realtime = self.shared.platform.realtime?;
        Some(format!("ws://{}{}", self.addr, realtime.path))
    }

    /// Announces `event` (a JSON object, with its type member: `{"type": "typing", ...}`) on
    /// the real-time WebSocket to the subscribers of `topic` (a conversation id); how many
    /// connections are open (subscribed or not). For a test of what a client does with an
    /// event no REST write causes.
    pub fn publish(&self, topic: &str, event: &Value) -> usize {
        self.shared.hub.publish(topic, event)
    }

    /// Waits until some real-time connection is subscribed to `topic`, at most `within`;
    /// whether one is. A client's `subscribe` returns once its frame is queued, so a test (or
    /// a demo) that writes over REST and expects the event waits for this first.
    pub async fn until_subscribed(&self, topic: &str, within: Duration) -> bool {
        let subscribed = async {
            while self.shared.hub.subscribers(topic) == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(within, subscribed).await.is_ok()
    }

    /// The mock's own index (`GET`, JSON): the URLs, every operation and its fixtures.
    pub fn index_url(&self) -> String {
        format!("http://{}/_agentwire/", self.addr)
    }

    /// What `GET /_agentwire/` answers: `platform`, `base_url`, `platform_url`, `strict`, and
    /// `operations`, each with its `id`, `method`, `path` (relative to its host), `url`,
    /// `fixtures` (file names) and `default` (the default success fixture, or null).
    pub fn index(&self) -> Value {
        index_json(&self.shared)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the mock runs in strict mode.
    pub fn is_strict(&self) -> bool {
        self.shared.strict
    }

    /// Adds a fixture; registered fixtures win over embedded ones that match as well.
    pub fn register(&self, fixture: Fixture) {
        lock(&self.shared.fixtures).push(Entry {
            fixture,
            registered: true,
            played: 0,
        });
    }

    /// Every request still in the journal, oldest first (see [`JournalLimits`]).
    pub fn journal(&self) -> Vec<Received> {
        lock(&self.shared.journal).entries().cloned().collect()
    }

    /// The body bytes the journal holds now (never more than [`JournalLimits::bytes`]).
    pub fn journal_bytes(&self) -> usize {
        lock(&self.shared.journal).bytes()
    }

    /// The requests in the journal routed to `operation`.
    pub fn received(&self, operation: &str) -> Vec<Received> {
        lock(&self.shared.journal)
            .entries()
            .filter(|r| r.operation.as_deref() == Some(operation))
            .cloned()
            .collect()
    }

    /// Forgets the journal and restarts every sequence.
    pub fn reset(&self) {
        lock(&self.shared.journal).clear();
        for e in lock(&self.shared.fixtures).iter_mut() {
            e.played = 0;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked handler cannot leave these lists half-updated; keep serving.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Replaces `{mock_base}` (the default host's URL, prefix included: [`MockServer::platform_url`])
/// and `{mock_base:<host>}` (that host's, through [`MockServer::host_url`], prefix included) in
/// `text` with this mock's own URLs: an answer that hands out an absolute URL (an upload's
/// presigned URL) points back at the mock.
fn expand(shared: &Shared, text: &str) -> Option<String> {
    if !text.contains("{mock_base") {
        return None;
    }
    let mut out = text.to_owned();
    for host in shared.platform.hosts {
        let url = format!(
            "http://{}{HOSTS_MOUNT}{}{}",
            shared.addr,
            host.name,
            host.prefix.trim_end_matches('/')
        );
        out = out.replace(&format!("{{mock_base:{}}}", host.name), &url);
    }
    Some(out.replace("{mock_base}", &platform_url(shared)))
}

/// [`expand`] in every string of a JSON value.
fn expand_json(shared: &Shared, value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(expanded) = expand(shared, s) {
                *s = expanded;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| expand_json(shared, v)),
        Value::Object(members) => members.values_mut().for_each(|v| expand_json(shared, v)),
        _ => {}
    }
}

/// [`expand`] in an answer's body (JSON, text or events) and headers.
fn expand_answer(shared: &Shared, answer: &mut FixtureResponse) {
    if let Some(body) = answer.body.as_mut() {
        expand_json(shared, body);
    }
    if let Some(text) = answer.text.as_mut()
        && let Some(expanded) = expand(shared, text)
    {
        *text = expanded;
    }
    match answer.sse.as_mut() {
        Some(SseBody::Text(text)) => {
            if let Some(expanded) = expand(shared, text) {
                *text = expanded;
            }
        }
        Some(SseBody::Chunks(chunks)) => {
            for chunk in chunks {
                if let Some(expanded) = expand(shared, chunk) {
                    *chunk = expanded;
                }
            }
        }
        None => {}
    }
    for value in answer.headers.values_mut() {
        if let Some(expanded) = expand(shared, value) {
            *value = expanded;
        }
    }
}

fn platform_url(shared: &Shared) -> String {
    let prefix = shared
        .platform
        .hosts
        .first()
        .map(|h| h.prefix)
        .unwrap_or("");
    format!("http://{}{prefix}", shared.addr)
}

/// Routes `method path` (relative to a host) to an operation: literal segments beat templates.
pub fn route(
    platform: &'static Platform,
    method: &str,
    full_path: &str,
) -> Option<(&'static Operation, String)> {
    // `/_hosts/<name>/...`: a path the mock's every-host client builder sends (see
    // `MockServer::host_url`), routed among that host's operations only.
    let (only_host, full_path) = match full_path.strip_prefix(HOSTS_MOUNT) {
        Some(rest) => {
            let (name, rest) = rest.split_once('/').map_or((rest, ""), |(n, r)| (n, r));
            let host = platform.hosts.iter().position(|h| h.name == name)?;
            (Some(host), rest)
        }
        None => (None, full_path),
    };
    let full_path = if full_path.starts_with('/') {
        std::borrow::Cow::Borrowed(full_path)
    } else {
        std::borrow::Cow::Owned(format!("/{full_path}"))
    };
    let full_path = full_path.as_ref();
    let mut best: Option<(usize, &'static Operation, String)> = None;
    for op in platform.operations {
        if !op.method.as_str().eq_ignore_ascii_case(method) {
            continue;
        }
        if only_host.is_some_and(|h| h != op.host) {
            continue;
        }
        let Some(host) = platform.hosts.get(op.host) else {
            continue;
        };
        let prefix = host.prefix.trim_end_matches('/');
        let Some(rel) = full_path.strip_prefix(prefix) else {
            continue;
        };
        let rel = if rel.is_empty() { "/" } else { rel };
        if let Some((literals, _)) = match_template(op.path, rel)
            && best.as_ref().is_none_or(|(score, _, _)| literals > *score)
        {
            best = Some((literals, op, rel.to_owned()));
        }
    }
    best.map(|(_, op, rel)| (op, rel))
}

fn subset(named: &Value, actual: &Value) -> bool {
    match (named, actual) {
        (Value::Object(n), Value::Object(a)) => n.iter().all(|(k, v)| a.get(k) == Some(v)),
        (n, a) => n == a,
    }
}

/// The member count a fixture names (its specificity).
fn named_members(f: &Fixture) -> usize {
    let body = match &f.request.body {
        Some(Value::Object(o)) => o.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    };
    f.request.query.len() + body
}

/// Why a body could not be taken.
enum BodyError {
    /// Longer than the mock reads.
    TooLarge,
    /// The connection or its framing failed.
    Unreadable(String),
}

/// Reads a request body up to `limit` bytes. On failure, also how many bytes had arrived.
async fn read_body(
    body: Body,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Bytes, (BodyError, usize)> {
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err((BodyError::TooLarge, 0));
    }
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if buf.len() + bytes.len() > limit {
                    return Err((BodyError::TooLarge, buf.len() + bytes.len()));
                }
                buf.extend_from_slice(&bytes);
            }
            Err(e) => return Err((BodyError::Unreadable(e.to_string()), buf.len())),
        }
    }
    Ok(buf.freeze())
}

/// What to send back.
enum Reply {
    /// A fixture's answer (from the fixture or as the default), and how to play a stream.
    Fixture {
        response: Box<FixtureResponse>,
        file: String,
        play: Option<StreamPlay>,
    },
    /// An answer of the mock's own (`allow`: the `Allow` header of a 405).
    Own {
        status: u16,
        body: Value,
        allow: Option<String>,
    },
}

/// How to replay a stream answer.
struct StreamPlay {
    /// The position the request resumes after, if it names one.
    after: Option<String>,
    /// Every recorded event id of the operation, in recording order.
    order: Vec<String>,
    /// What to send on an open stream every heartbeat interval.
    heartbeat: Bytes,
}

async fn handle(shared: Arc<Shared>, req: axum::extract::Request) -> Response {
    if let Some(realtime) = shared.platform.realtime
        && req.method() == hyper::Method::GET
        && req.uri().path() == realtime.path
    {
        return realtime::upgrade(shared.platform, realtime, &shared.hub, req);
    }
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let full_path = parts.uri.path().to_owned();
    if method == "GET" && (full_path == "/_agentwire" || full_path == "/_agentwire/") {
        return json_response(200, &index_json(&shared), "index");
    }
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_length = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let read = read_body(body, content_length, shared.max_body).await;
    let (body, body_len) = match &read {
        Ok(bytes) => (bytes.clone(), bytes.len()),
        Err((_, arrived)) => (Bytes::new(), *arrived),
    };

    let routed = route(shared.platform, &method, &full_path);
    // A form body is read into its parts: journalled, and validated by its schema.
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let form = match (form::kind(content_type.as_deref()), &read) {
        (Some(kind), Ok(bytes)) => Some(
            form::parse(
                kind,
                content_type.as_deref().unwrap_or_default(),
                bytes.clone(),
            )
            .await,
        ),
        _ => None,
    };
    let (kept, truncated) = lock(&shared.journal).kept_body(&body);
    let mut received = Received {
        operation: routed.as_ref().map(|(op, _)| op.id.to_owned()),
        method: method.clone(),
        path: routed
            .as_ref()
            .map(|(_, rel)| rel.clone())
            .unwrap_or(full_path.clone()),
        query,
        headers,
        body: kept,
        body_len,
        truncated,
        form: match &form {
            Some(Ok(parts)) => parts.clone(),
            _ => Vec::new(),
        },
        answer: Answer::NoRoute,
        status: 0,
    };
    let request_id = received.header("x-request-id").map(str::to_owned);
    let format_request_id = routed
        .as_ref()
        .and_then(|(op, _)| shared.platform.host_of(op))
        .or(shared.platform.hosts.first())
        .and_then(|h| h.errors.request_id.first().copied());
    let echoed = routed.as_ref().map(|(op, rel)| (*op, rel.clone()));
    let (answer, reply) = decide(&shared, routed, &received, read.map(|_| body), form);
    // A write the platform announces in real time is announced once it succeeded.
    if let (Some((op, rel)), Reply::Fixture { response, .. }) = (&echoed, &reply)
        && (200..300).contains(&response.status)
        && let Some(answer) = &response.body
    {
        shared.hub.echo(shared.platform, op, rel, answer);
    }
    received.status = match &reply {
        Reply::Fixture { response, .. } => response.status,
        Reply::Own { status, .. } => *status,
    };
    let tag = answer.tag();
    received.answer = answer;
    lock(&shared.journal).push(received);
    match reply {
        Reply::Own {
            status,
            mut body,
            allow,
        } => {
            // Like the platform's own answers, the mock's carry a request id: the caller's,
            // else one of its own (in the header, and in the body where the format names one).
            let request_id = request_id.unwrap_or_else(|| shared.next_request_id());
            if let (Some(member), Some(obj)) = (format_request_id, body.as_object_mut()) {
                obj.insert(member.to_owned(), Value::String(request_id.clone()));
            }
            let mut response = json_response(status, &body, tag);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("x-request-id", value);
            }
            if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                response.headers_mut().insert("allow", allow);
            }
            response
        }
        Reply::Fixture {
            response,
            file,
            play,
        } => respond(*response, play, shared.heartbeat, tag, &file).await,
    }
}

/// The three answers, and the mock's own (see the module docs).
fn decide(
    shared: &Shared,
    routed: Option<(&'static Operation, String)>,
    req: &Received,
    body: Result<Bytes, (BodyError, usize)>,
    form: Option<Result<Vec<FormPart>, String>>,
) -> (Answer, Reply) {
    // The error format of the host the request was routed to (its profile), else the first's.
    let format = routed
        .as_ref()
        .and_then(|(op, _)| shared.platform.host_of(op))
        .or(shared.platform.hosts.first())
        .map_or(&ErrorFormat::DEFAULT, |h| h.errors);
    let own = |answer: Answer, status: u16, code: &str, message: String| {
        let body = error_body(format, code, &message, &[]);
        (
            answer,
            Reply::Own {
                status,
                body,
                allow: None,
            },
        )
    };
    let body = match body {
        Ok(b) => b,
        Err((BodyError::TooLarge, _)) => {
            return own(
                Answer::TooLarge,
                413,
                "mock_body_too_large",
                format!(
                    "the request body is larger than the mock reads ({} bytes)",
                    shared.max_body
                ),
            );
        }
        Err((BodyError::Unreadable(why), _)) => {
            return own(
                Answer::BadBody,
                400,
                "mock_unreadable_body",
                format!("the request body could not be read: {why}"),
            );
        }
    };
    let Some((op, rel)) = routed else {
        // The path is known under other methods: 405 with `Allow`, as HTTP servers answer.
        let allowed: Vec<&str> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            .into_iter()
            .filter(|m| route(shared.platform, m, &req.path).is_some())
            .collect();
        if !allowed.is_empty() {
            let body = error_body(
                format,
                "mock_method_not_allowed",
                &format!(
                    "{} {} is not an operation of {}; this path takes {}",
                    req.method,
                    req.path,
                    shared.platform.display_name,
                    allowed.join(", ")
                ),
                &[],
            );
            return (
                Answer::NoRoute,
                Reply::Own {
                    status: 405,
                    body,
                    allow: Some(allowed.join(", ")),
                },
            );
        }
        // A path that would fit under a host's prefix (`/conversations` for
        // `/api/v1/conversations`): say so, the usual slip of a plain HTTP client.
        let prefixed = shared.platform.hosts.iter().find_map(|h| {
            let path = format!("{}{}", h.prefix.trim_end_matches('/'), req.path);
            let fits = !h.prefix.is_empty() && route(shared.platform, &req.method, &path).is_some();
            fits.then(|| format!("; did you mean {path}?"))
        });
        return own(
            Answer::NoRoute,
            404,
            "mock_no_route",
            format!(
                "the mock has no route for {} {}: no {} operation fits it (GET {} lists them){}",
                req.method,
                req.path,
                shared.platform.display_name,
                shared.index_path(),
                prefixed.unwrap_or_default()
            ),
        );
    };
    if !authorized(op, req) {
        return own(
            Answer::Unauthorized,
            401,
            "unauthorized",
            format!(
                "{} requires credentials: {} (the mock accepts any non-empty value)",
                op.id,
                expected_credentials(op)
            ),
        );
    }
    // A request the spec refuses gets the platform's 400 before any fixture is looked at: no
    // fixture (the contract suite holds every fixture's request to the spec) can stand for it,
    // and a catch-all fixture must not make an invalid request look accepted.
    if !shared.strict
        && let Some(parsed) = shared.requests.as_ref().and_then(|r| r.get(op.id))
    {
        let defs = shared
            .requests
            .as_ref()
            .map(|r| &r.defs)
            .unwrap_or(&Value::Null);
        let mut problems = request::problems(
            &parsed,
            defs,
            op.path,
            &rel,
            &req.query,
            &body,
            form.as_ref(),
        );
        // The spec's range, length and pattern rules, as the client checks them.
        problems.extend(request::rule_problems(op, &req.query, &body, form.as_ref()));
        // The platform's own recorded answer to this very request, when a fixture names it.
        if !problems.is_empty()
            && let Some((response, file, play)) =
                pick(shared, op, &rel, req, &body, Pick::RecordedError)
        {
            return (
                Answer::Fixture { file: file.clone() },
                Reply::Fixture {
                    response: Box::new(response),
                    file,
                    play,
                },
            );
        }
        if !problems.is_empty() {
            let code = format
                .validation_codes
                .first()
                .copied()
                .unwrap_or("validation_error");
            let message = format!("the request is not valid for {}", op.id);
            let body = error_body(format, code, &message, &problems);
            return (
                Answer::Invalid {
                    field_errors: problems,
                },
                Reply::Own {
                    status: 400,
                    body,
                    allow: None,
                },
            );
        }
    }
    // A poll of a task the mock started answers with its result.
    if let Some(id) = match_template(op.path, &rel)
        .and_then(|(_, values)| values.first().map(|(_, v)| v.to_string()))
        && let Some(status) = shared.tasks.status(
            op,
            &percent_encoding::percent_decode_str(&id).decode_utf8_lossy(),
        )
    {
        let body = match op.envelope {
            Some(env) => {
                let mut wrapped = Map::new();
                for member in env.required {
                    wrapped.insert((*member).to_owned(), Value::String("ok".into()));
                }
                wrapped.insert(env.data.to_owned(), status);
                Value::Object(wrapped)
            }
            None => status,
        };
        return (
            Answer::Task { id },
            Reply::Own {
                status: 200,
                body,
                allow: None,
            },
        );
    }
    if let Some((response, file, play)) = pick(shared, op, &rel, req, &body, Pick::Best) {
        return (
            Answer::Fixture { file: file.clone() },
            Reply::Fixture {
                response: Box::new(response),
                file,
                play,
            },
        );
    }
    let what = format!("{} ({} {})", op.id, req.method, rel);
    if shared.strict {
        return own(
            Answer::NoFixture,
            404,
            "mock_no_fixture",
            format!("the mock has no fixture for {what} (strict mode)"),
        );
    }
    match pick(shared, op, &rel, req, &body, Pick::Default) {
        Some((response, file, play)) => (
            Answer::Default { file: file.clone() },
            Reply::Fixture {
                response: Box::new(response),
                file,
                play,
            },
        ),
        None => own(
            Answer::NoFixture,
            404,
            "mock_no_fixture",
            format!(
                "the mock has no fixture for {what}, and no default fixture {}.json",
                op.id
            ),
        ),
    }
}

/// Whether the request carries every scheme of one of the operation's auth alternatives (any
/// non-empty value; a Bearer scheme needs `Authorization: Bearer <non-empty>`).
fn authorized(op: &Operation, req: &Received) -> bool {
    op.auth.is_empty()
        || op.auth.iter().any(|alternative| {
            alternative.iter().all(|scheme| match scheme {
                Auth::Bearer(_) => req.header("authorization").is_some_and(|v| {
                    v.trim().split_once(' ').is_some_and(|(kind, token)| {
                        kind.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
                    })
                }),
                Auth::Header(name, _) => req.header(name).is_some_and(|v| !v.trim().is_empty()),
                Auth::Query(name, _) => req
                    .query
                    .iter()
                    .any(|(k, v)| k == name && !v.trim().is_empty()),
            })
        })
}

/// The operation's first auth alternative, as a reader would send it.
fn expected_credentials(op: &Operation) -> String {
    op.auth
        .first()
        .map(|alternative| {
            alternative
                .iter()
                .map(|scheme| match scheme {
                    Auth::Bearer(_) => "Authorization: Bearer <key>".to_owned(),
                    Auth::Header(name, _) => format!("{name}: <key>"),
                    Auth::Query(name, _) => format!("?{name}=<key>"),
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .unwrap_or_default()
}

/// An error body in the platform's format: its message member, its code member, and — for
/// field errors — its field-errors member holding `"path: message"` strings (BimpeAI puts them
/// in `message` itself).
fn error_body(format: &ErrorFormat, code: &str, message: &str, field_errors: &[String]) -> Value {
    let message_member = format.message.first().copied().unwrap_or("message");
    let code_member = format.code.first().copied().unwrap_or("code");
    let mut body = Map::new();
    match format.field_errors {
        Some(member) if !field_errors.is_empty() => {
            // A platform with a validation code lists `"path: message"` strings under it; one
            // without says "validation" by an object of per-field messages (`{"name": [..]}`).
            let fields = if format.validation_codes.is_empty() {
                let mut by_path: Map<String, Value> = Map::new();
                for entry in field_errors {
                    let (path, text) = entry.split_once(": ").unwrap_or(("body", entry));
                    match by_path
                        .entry(path.to_owned())
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        Value::Array(list) => list.push(json!(text)),
                        other => *other = json!([text]),
                    }
                }
                Value::Object(by_path)
            } else {
                json!(field_errors)
            };
            body.insert(member.to_owned(), fields);
            if member != message_member {
                body.insert(message_member.to_owned(), json!(message));
            }
        }
        _ if !field_errors.is_empty() => {
            body.insert(
                message_member.to_owned(),
                json!(format!("{message}: {}", field_errors.join("; "))),
            );
        }
        _ => {
            body.insert(message_member.to_owned(), json!(message));
        }
    }
    body.insert(code_member.to_owned(), json!(code));
    Value::Object(body)
}

/// Chooses the fixture for a request (or, with `default`, the operation's default success
/// fixture) and advances its sequence: the answer, the fixture's file, and how to play it if
/// it is a stream.
fn pick(
    shared: &Shared,
    op: &'static Operation,
    rel: &str,
    req: &Received,
    body: &[u8],
    mode: Pick,
) -> Option<(FixtureResponse, String, Option<StreamPlay>)> {
    let query = req.query_map();
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut fixtures = lock(&shared.fixtures);
    // A JSON-or-stream operation answers as its request's flag asks: only the fixtures that
    // answer that way (or fail) are candidates.
    let wants_stream = op
        .stream
        .and_then(|s| s.body_flag)
        .filter(|_| op.response == ResponseKind::JsonOrStream)
        .map(|flag| body.get(flag) == Some(&Value::Bool(true)));
    let fits = |e: &Entry| match wants_stream {
        None => true,
        Some(wanted) => {
            e.fixture.is_error() || e.fixture.answers().iter().any(|a| a.sse.is_some()) == wanted
        }
    };
    let index = match mode {
        Pick::Default => fixtures.iter().position(|e| {
            e.fixture.operation == op.id
                && (e.fixture.is_default() || (wants_stream == Some(true) && !e.fixture.is_error()))
                && fits(e)
        }),
        Pick::Best => best_match(&fixtures, op, rel, &query, &body, &req.form, &fits),
        Pick::RecordedError => best_match(&fixtures, op, rel, &query, &body, &req.form, &fits)
            .filter(|i| fixtures.get(*i).is_some_and(|e| e.fixture.is_error())),
    }?;
    let play = op.stream.map(|stream| {
        let mut order: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for e in fixtures.iter().filter(|e| e.fixture.operation == op.id) {
            for answer in e.fixture.answers() {
                if let Some(sse) = &answer.sse {
                    let text = sse.chunks().concat();
                    for id in stream::blocks(&text).into_iter().filter_map(|b| b.id) {
                        if !order.contains(&id) {
                            order.push(id);
                        }
                    }
                    texts.push(text);
                }
            }
        }
        let after = match stream.resume {
            Some(StreamResume::Query(name)) => req
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            Some(StreamResume::Header(name)) => req.header(name).map(str::to_owned),
            None => None,
        }
        .filter(|v| !v.is_empty())
        // A standard SSE client resumes with `Last-Event-ID`, whatever the platform declares.
        .or_else(|| req.header("last-event-id").map(str::to_owned))
        .filter(|v| !v.is_empty());
        StreamPlay {
            after,
            order,
            heartbeat: stream::heartbeat(
                |name, data| {
                    let (event_type, _) =
                        crate::runtime::stream::event_type(stream, name.unwrap_or("message"), data);
                    stream.heartbeat.contains(&event_type.as_ref())
                },
                texts.iter().map(String::as_str),
            ),
        }
    });
    let entry = fixtures.get_mut(index)?;
    let answers = entry.fixture.answers();
    let answer = answers
        .get(entry.played.min(answers.len().saturating_sub(1)))
        .map(|a| (*a).clone())?;
    entry.played += 1;
    let mut answer = answer;
    expand_answer(shared, &mut answer);
    // The default fixture is fitted to the request, however it was picked (it names no
    // member, so it also matches as "the most specific" when nothing else does).
    let default = entry.fixture.is_default() && !matches!(mode, Pick::RecordedError);
    // A task operation's acknowledgement is not its result: the request body does not go in it.
    let task = op
        .task
        .filter(|t| default && t.ack_status_codes.contains(&answer.status));
    if default && let Some(json) = answer.body.as_mut() {
        let recorded = &entry.fixture.request;
        shape::fit(op, json, recorded, rel, &query, &body, task.is_none());
    }
    let file = entry.fixture.file.clone();
    // ... and it starts a task of the mock's own, whose result is the `.result` fixture's.
    if let (Some(spec), Some(ack)) = (task, answer.body.as_mut()) {
        let result = fixtures
            .iter()
            .find(|e| {
                e.fixture.operation == op.id
                    && e.fixture.file.ends_with(&format!("{}.result.json", op.id))
            })
            .and_then(|e| {
                let body = e.fixture.answers().first().and_then(|a| a.body.clone())?;
                Some((body, &e.fixture.request))
            })
            .map(|(mut result, recorded)| {
                shape::fit(op, &mut result, recorded, rel, &query, &body, true);
                result
            })
            .unwrap_or(Value::Null);
        shared.tasks.issue(spec, ack, result);
    }
    Some((answer, file, play))
}

/// Which fixture `pick` looks for.
#[derive(Clone, Copy)]
enum Pick {
    /// The most specific matching fixture.
    Best,
    /// The operation's default success fixture, fitted to the request (`shape`).
    Default,
    /// A recorded error answer that names this (invalid) request.
    RecordedError,
}

/// The index of the most specific fixture matching the request, if any.
fn best_match(
    fixtures: &[Entry],
    op: &Operation,
    rel: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
    form: &[FormPart],
    fits: &dyn Fn(&Entry) -> bool,
) -> Option<usize> {
    let mut best: Option<((bool, bool, usize, bool), usize)> = None;
    for (index, entry) in fixtures.iter().enumerate() {
        let f = &entry.fixture;
        if f.operation != op.id || !fits(entry) {
            continue;
        }
        let query_ok = f.request.query.iter().all(|(k, v)| query.get(k) == Some(v));
        let body_ok = match &f.request.body {
            None | Some(Value::Null) => true,
            Some(named) => subset(named, body),
        };
        let form_ok = match &f.request.form {
            None | Some(Value::Null) => true,
            Some(named) => form_subset(named, form),
        };
        if !query_ok || !body_ok || !form_ok {
            continue;
        }
        let exact_path = f.request.path == rel;
        let members = named_members(f);
        // An error fixture picks its requests out by a member or by its path, except an
        // embedded `401` on a path without parameters: the mock takes any credential, so such
        // a fixture (a wrong key on `GET /conversations`) would refuse every right one too.
        let refused = f.answers().first().is_some_and(|a| a.status == 401);
        let plain_path = !op.path.contains('{');
        let picks_out =
            members > 0 || (exact_path && (entry.registered || !(refused && plain_path)));
        if f.is_error() && !picks_out {
            continue;
        }
        // Higher is better; on a full tie the earlier fixture (file order) stays.
        let rank = (entry.registered, exact_path, members, !f.is_error());
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, index));
        }
    }
    best.map(|(_, index)| index)
}

/// Whether a form request has every field a fixture names: each value (a file by its file
/// name; a list, each of its items) equal, as text, to a part of that name.
fn form_subset(named: &Value, parts: &[FormPart]) -> bool {
    let Some(named) = named.as_object() else {
        return false;
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let has = |name: &str, want: &Value| {
        let want = text(want);
        parts.iter().any(|p| {
            p.name == name && (p.file_name.as_deref() == Some(want.as_str()) || p.text() == want)
        })
    };
    named.iter().all(|(name, value)| match value {
        Value::Array(items) => items.iter().all(|item| has(name, item)),
        other => has(name, other),
    })
}

/// `GET /_agentwire/`: the URLs, and every operation with its fixtures.
fn index_json(shared: &Shared) -> Value {
    let fixtures = lock(&shared.fixtures);
    let operations: Vec<Value> = shared
        .platform
        .operations
        .iter()
        .map(|op| {
            let files: Vec<&str> = fixtures
                .iter()
                .filter(|e| e.fixture.operation == op.id)
                .map(|e| e.fixture.file.as_str())
                .collect();
            let default = fixtures
                .iter()
                .find(|e| e.fixture.operation == op.id && e.fixture.is_default())
                .map(|e| e.fixture.file.as_str());
            let prefix = shared
                .platform
                .hosts
                .get(op.host)
                .map(|h| h.prefix)
                .unwrap_or("");
            // What picks each fixture (its path, and the query and body members it names) and
            // what it answers, so a plain HTTP client can ask for a recorded error on purpose.
            let answers: Vec<Value> = fixtures
                .iter()
                .filter(|e| e.fixture.operation == op.id)
                .map(|e| {
                    let f = &e.fixture;
                    json!({
                        "file": f.file,
                        "status": f.answers().first().map(|a| a.status),
                        "path": f.request.path,
                        "query": f.request.query,
                        "body": f.request.body,
                    })
                })
                .collect();
            json!({
                "id": op.id,
                "method": op.method.as_str(),
                "path": op.path,
                "url": format!("http://{}{prefix}{}", shared.addr, op.path),
                "fixtures": files,
                "default": default,
                "answers": answers,
            })
        })
        .collect();
    json!({
        "platform": shared.platform.name,
        "display_name": shared.platform.display_name,
        "base_url": format!("http://{}", shared.addr),
        "platform_url": platform_url(shared),
        "realtime_url": shared
            .platform
            .realtime
            .map(|r| format!("ws://{}{}", shared.addr, r.path)),
        "strict": shared.strict,
        "operations": operations,
    })
}

fn json_response(status: u16, body: &Value, tag: &'static str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert(MOCK_HEADER, HeaderValue::from_static(tag));
    r
}

async fn respond(
    answer: FixtureResponse,
    play: Option<StreamPlay>,
    heartbeat_every: Duration,
    tag: &'static str,
    file: &str,
) -> Response {
    if let Some(ms) = answer.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let body = if let Some(sse) = &answer.sse {
        let mut chunks = sse.chunks();
        let heartbeat = match play {
            Some(play) => {
                if let Some(after) = &play.after {
                    chunks = stream::resume_after(chunks, after, &play.order);
                }
                play.heartbeat
            }
            None => Bytes::from_static(b": heartbeat\n\n"),
        };
        let tail = match answer.end.as_deref() {
            None | Some("open") => stream::Tail::Heartbeat(heartbeat, heartbeat_every),
            Some("drop") => stream::Tail::Drop,
            Some("hang") => stream::Tail::Hang,
            Some(_) => stream::Tail::Close,
        };
        Body::from_stream(stream::body(chunks, tail))
    } else if let Some(text) = &answer.text {
        Body::from(text.clone())
    } else if let Some(json) = &answer.body {
        Body::from(json.to_string())
    } else {
        Body::empty()
    };
    let mut r = Response::new(body);
    *r.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let default_type = if answer.sse.is_some() {
        "text/event-stream"
    } else if answer.text.is_some() {
        "text/plain"
    } else {
        "application/json"
    };
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(default_type));
    for (k, v) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(name, value);
        }
    }
    r.headers_mut()
        .insert(MOCK_HEADER, HeaderValue::from_static(tag));
    if let Ok(value) = HeaderValue::from_str(file) {
        r.headers_mut().insert("x-agentwire-fixture", value);
    }
    r
}

/// A clock for tests: `sleep` returns at once and records the delay, and both `now` and the
/// monotonic reading advance by every recorded delay (and only by them). Inject it with `ClientBuilder::clock` to observe backoffs without
/// waiting for them.
#[derive(Debug)]
pub struct RecordingClock {
    start: std::time::SystemTime,
    sleeps: Mutex<Vec<Duration>>,
}

impl Default for RecordingClock {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingClock {
    /// A clock starting at the current system time.
    pub fn new() -> Self {
        RecordingClock {
            start: std::time::SystemTime::now(),
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Every delay slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.sleeps).clone()
    }
}

impl crate::Clock for RecordingClock {
    fn now(&self) -> std::time::SystemTime {
        self.start + self.monotonic()
    }

    /// The sum of every recorded sleep: time passes only when the runtime waits.
    fn monotonic(&self) -> Duration {
        lock(&self.sleeps).iter().sum::<Duration>()
    }

    fn sleep(&self, duration: Duration) -> crate::BoxFuture<'static, ()> {
        lock(&self.sleeps).push(duration);
        Box::pin(tokio::task::yield_now())
    }
}
