//! A fixture-replaying mock server, in-process on loopback (feature `mock`). It serves a
//! platform's recorded fixtures (embedded at build time), plays sequences (a 500 then a 200; a
//! stream that drops, then the resumed stream), takes fixtures you register, and keeps a journal
//! of every request for assertions.
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
//! How a request finds its fixture: it is routed to its operation (method + path template,
//! literal segments first); among the operation's fixtures, those whose named query and body
//! members all match are candidates; an exact path match ranks first, then the fixture naming
//! the most members, then a success over an error, then file order. Registered fixtures rank
//! above embedded ones.

mod fixture;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

pub use fixture::{Fixture, FixtureError, FixtureRequest, FixtureResponse, SseBody};

use crate::runtime::operation::{Operation, Platform, match_template};

/// One request the mock received.
#[derive(Debug, Clone, PartialEq)]
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
    /// The raw body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
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
    fixtures: Mutex<Vec<Entry>>,
    journal: Mutex<Vec<Received>>,
}

struct Entry {
    fixture: Fixture,
    registered: bool,
    played: usize,
}

/// A running mock server; it stops when dropped.
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
}

/// The fixtures compiled in for a platform (empty without the `mock` feature's build). They are
/// embedded as bytes and parsed here, so a broken file (not UTF-8, not JSON, a header the wire
/// cannot carry) is a [`MockError::Fixture`] naming the file and the place, not a build failure.
pub fn embedded_fixtures(platform: &Platform) -> Result<Vec<Fixture>, MockError> {
    let files: &[(&str, &[u8])] = match platform.name {
        #[cfg(feature = "bimpeai")]
        "bimpeai" => crate::bimpeai::fixtures::FIXTURES,
        _ => &[],
    };
    files
        .iter()
        .map(|(file, bytes)| {
            Fixture::parse_bytes(file, bytes).map_err(|e| MockError::Fixture(e.to_string()))
        })
        .collect()
}

impl MockServer {
    /// Starts a mock of `platform` serving its embedded fixtures on `127.0.0.1` (a free port).
    pub async fn start(platform: &'static Platform) -> Result<MockServer, MockError> {
        let fixtures = embedded_fixtures(platform)?;
        Self::start_with(platform, fixtures, 0).await
    }

    /// Starts a mock of `platform` serving `fixtures` on `127.0.0.1:port` (0: any free port).
    pub async fn start_with(
        platform: &'static Platform,
        fixtures: Vec<Fixture>,
        port: u16,
    ) -> Result<MockServer, MockError> {
        let shared = Arc::new(Shared {
            platform,
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
            journal: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            // The server runs until the MockServer is dropped (its task is aborted then).
            let _ = axum::serve(listener, app).await;
        });
        Ok(MockServer { addr, shared, task })
    }

    /// The origin to give a client as its base URL (`http://127.0.0.1:PORT`); the client adds
    /// the platform's path prefix, which the mock serves.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full base URL of the platform's default host, prefix included — what another
    /// language's client takes as its base.
    pub fn platform_url(&self) -> String {
        let prefix = self
            .shared
            .platform
            .hosts
            .first()
            .map(|h| h.prefix)
            .unwrap_or("");
        format!("http://{}{prefix}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a fixture; registered fixtures win over embedded ones that match as well.
    pub fn register(&self, fixture: Fixture) {
        lock(&self.shared.fixtures).push(Entry {
            fixture,
            registered: true,
            played: 0,
        });
    }

    /// Every request received so far, in order.
    pub fn journal(&self) -> Vec<Received> {
        lock(&self.shared.journal).clone()
    }

    /// The requests routed to `operation`.
    pub fn received(&self, operation: &str) -> Vec<Received> {
        lock(&self.shared.journal)
            .iter()
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

/// Routes `method path` (relative to a host) to an operation: literal segments beat templates.
pub fn route(
    platform: &'static Platform,
    method: &str,
    full_path: &str,
) -> Option<(&'static Operation, String)> {
    let mut best: Option<(usize, &'static Operation, String)> = None;
    for op in platform.operations {
        if !op.method.as_str().eq_ignore_ascii_case(method) {
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

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let full_path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();

    let routed = route(shared.platform, &method, &full_path);
    let received = Received {
        operation: routed.as_ref().map(|(op, _)| op.id.to_owned()),
        method: method.clone(),
        path: routed
            .as_ref()
            .map(|(_, rel)| rel.clone())
            .unwrap_or(full_path.clone()),
        query,
        headers,
        body,
    };
    lock(&shared.journal).push(received.clone());

    let Some((op, rel)) = routed else {
        return json_response(
            404,
            &json!({"message": format!("the mock has no route for {method} {full_path}"), "code": "not_found"}),
        );
    };
    let answer = pick(&shared, op.id, &rel, &received);
    match answer {
        Some(answer) => respond(answer).await,
        None => json_response(
            404,
            &json!({"message": format!("the mock has no fixture for {} ({method} {rel})", op.id), "code": "not_found"}),
        ),
    }
}

/// Chooses the fixture for a request and advances its sequence.
fn pick(shared: &Shared, op_id: &str, rel: &str, req: &Received) -> Option<FixtureResponse> {
    let query = req.query_map();
    let body: Value = req.json().unwrap_or(Value::Null);
    let mut fixtures = lock(&shared.fixtures);
    let mut best: Option<((bool, bool, usize, bool), usize)> = None;
    for (index, entry) in fixtures.iter().enumerate() {
        let f = &entry.fixture;
        if f.operation != op_id {
            continue;
        }
        let query_ok = f.request.query.iter().all(|(k, v)| query.get(k) == Some(v));
        let body_ok = match &f.request.body {
            None | Some(Value::Null) => true,
            Some(named) => subset(named, &body),
        };
        if !query_ok || !body_ok {
            continue;
        }
        let exact_path = f.request.path == rel;
        let members = named_members(f);
        if f.is_error() && !exact_path && members == 0 {
            continue;
        }
        // Higher is better; on a full tie the earlier fixture (file order) stays.
        let rank = (entry.registered, exact_path, members, !f.is_error());
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, index));
        }
    }
    let (_, index) = best?;
    let entry = fixtures.get_mut(index)?;
    let answers = entry.fixture.answers();
    let answer = answers
        .get(entry.played.min(answers.len().saturating_sub(1)))
        .map(|a| (*a).clone());
    entry.played += 1;
    answer
}

fn json_response(status: u16, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

async fn respond(answer: FixtureResponse) -> Response {
    if let Some(ms) = answer.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let end = answer.end.clone().unwrap_or_else(|| "close".into());
    let body = if let Some(sse) = &answer.sse {
        let chunks: Vec<Result<Bytes, std::io::Error>> = sse
            .chunks()
            .into_iter()
            .map(|c| Ok(Bytes::from(c)))
            .collect();
        let head = futures_util::stream::iter(chunks);
        let tail: futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>> =
            match end.as_str() {
                // An error after the data makes hyper cut the connection mid-body.
                // The pause lets hyper flush the headers and data first (it coalesces writes).
                "drop" => Box::pin(futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "fixture drops the stream",
                    ))
                })),
                "hang" => Box::pin(futures_util::stream::pending()),
                _ => Box::pin(futures_util::stream::empty()),
            };
        Body::from_stream(futures_util::StreamExt::chain(head, tail))
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
