//! Tasks: operations whose platform may answer with an acknowledgement ("accepted, here is a
//! task id and where to ask about it") instead of the result, and finish the work later.
//!
//! Everything platform-specific comes from the operation's [`TaskSpec`] (a profile of the spec's
//! `x-agentwire-tasks`): which answers are acknowledgements, which member holds the task id and
//! the status URL, the states of success and failure, where the result and the failure's message
//! sit, the poll cadence and the server's pacing hints.
//!
//! - An answer is an acknowledgement when its status is one of the profile's acknowledgement
//!   statuses (`202`), or when it is a 2xx JSON object whose state is one of the acknowledgement
//!   states (`accepted`, `queued`, `pending`, any letter case) and that carries a task id or a
//!   status URL. Any other 2xx is the result itself, decoded at once.
//! - A task is polled with the profile's status operation (a GET): at the status URL the
//!   platform gave (same origin as the host only, so no credential leaves the platform; the
//!   host's base path and the profile's `strip-prefixes` are dropped first), else at the
//!   operation's path built from the task id. A status answer may move the task to a new URL.
//! - Between polls: the server's pacing hint where it gives one (the `Retry-After` header, the
//!   profile's duration and time members at the top of the body or in its containers; the
//!   largest wins, at most the client's `max_retry_after`), else the profile's interval, grown by
//!   its factor after each poll up to its cap. The whole wait is bounded by the maximum wait.
//! - A success state resolves to the result (the first non-null result member, else the whole
//!   status body); a failure state is a [`ErrorKind::Task`] error with the task id, the
//!   platform's message and code, and the status body kept; running past the maximum wait is a
//!   `Task` error with `task_failed() == false`, the elapsed time and the number of polls in its
//!   message. Any error of a poll names the task id ([`Error::task_id`]).
//!
//! Cancel-safety: a [`TaskHandle`] changes only once a poll's answer has been read, so dropping
//! `poll()` or `until_done()` at any await leaves it as it was; polling again is harmless (the
//! status operation is a GET).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::call::{Call, Params};
use super::config::{BoxFuture, ClientCore};
use super::error::{Error, ErrorKind, Result, human, retry_after_at, strip_bom};
use super::operation::{Operation, TaskSpec};
use super::options::{CallOptions, RequestOptions};
use super::request::{Request, path_segment};
use super::response::{Response, check_json, decode, decode_error, is_empty_body, wrap};
use super::send::{Raw, send};

/// Response kind: an operation that may answer with a task acknowledgement. `send()` resolves to
/// the final result `T`, polling the task when the platform acknowledged it; `accepted()` stops
/// at the first answer and gives the [`TaskHandle`] (or the result, when it came at once).
pub struct Task<T> {
    max_wait: Option<Duration>,
    interval: Option<Duration>,
    /// A follow-on stream's URL, as the caller gave it (`runtime::follow`).
    pub(crate) stream_url: Option<String>,
    /// Whether a follow-on stream that cannot be opened falls back to polling.
    pub(crate) fallback: bool,
    _result: PhantomData<fn() -> T>,
}

impl<T> Task<T> {
    /// The same settings, for a result of another type.
    pub(crate) fn retype<U>(self) -> Task<U> {
        Task {
            max_wait: self.max_wait,
            interval: self.interval,
            stream_url: self.stream_url,
            fallback: self.fallback,
            _result: PhantomData,
        }
    }
}

impl<T> Default for Task<T> {
    fn default() -> Self {
        Task {
            max_wait: None,
            interval: None,
            stream_url: None,
            fallback: false,
            _result: PhantomData,
        }
    }
}

/// The first answer of a task operation: the result itself, or the acknowledgement of a task.
#[derive(Debug)]
#[must_use = "a pending task does nothing until it is polled"]
pub enum Accepted<T> {
    /// The platform answered with the result at once.
    Done(Response<T>),
    /// The platform acknowledged a task: poll it with the handle (boxed: it is much larger than
    /// most results).
    Pending(Box<TaskHandle<T>>),
}

impl<T: DeserializeOwned + Send + 'static> Accepted<T> {
    /// The task id of a pending task (`None` for a result that came at once, or an
    /// acknowledgement with a status URL and no id).
    pub fn task_id(&self) -> Option<&str> {
        match self {
            Accepted::Done(_) => None,
            Accepted::Pending(handle) => handle.id(),
        }
    }

    /// The result: at once, or once the task finished (see [`TaskHandle::until_done`]).
    pub async fn until_done(self) -> Result<T> {
        match self {
            Accepted::Done(response) => Ok(response.into_inner()),
            Accepted::Pending(mut handle) => handle.until_done().await,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static, P: Params> Call<Task<T>, P> {
    /// The longest this call waits for the task to finish, from its acknowledgement (default:
    /// the profile's `max-wait`; Knowrithm's is 180 s). Past it, `send()` fails with a `Task`
    /// error whose [`Error::task_failed`] is `false`; the task itself may still finish (poll it
    /// again by id with the client's `task()`).
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.kind.max_wait = Some(max_wait);
        self
    }

    /// The first wait between polls of this call's task (default: the client's
    /// `task_poll_interval`, else the profile's); it grows by the profile's factor up to its cap,
    /// and the server's pacing hints replace it.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.kind.interval = Some(interval);
        self
    }

    /// Sends the request and, when the platform acknowledges a task, polls it until it
    /// finishes; resolves to the result. Awaiting the builder does the same.
    ///
    /// Errors: `InvalidInput` before sending; every kind an answer can be classified as; `Task`
    /// when the task failed (with its id, the platform's message and code) or did not finish
    /// within the maximum wait; `Decode` for an acknowledgement without a task id or status URL.
    pub fn send(self) -> impl Future<Output = Result<T>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(Response::into_inner) }
    }

    /// As [`send`](Self::send), with the status, headers and request id of the answer the
    /// result came in (the final poll's, for a task).
    pub fn send_with_response(self) -> impl Future<Output = Result<Response<T>>> + Send + 'static {
        let accepted = self.accepted();
        async move {
            match accepted.await? {
                Accepted::Done(response) => Ok(response),
                Accepted::Pending(mut handle) => handle.until_done_with_response().await,
            }
        }
    }

    /// Sends the request once and stops at the first answer: the result when it came at once,
    /// else a [`TaskHandle`] to poll (keep its [`id`](TaskHandle::id) to pick the task up again
    /// later with the client's `task()`).
    pub fn accepted(mut self) -> impl Future<Output = Result<Accepted<T>>> + Send + 'static {
        let options = std::mem::take(&mut self.options);
        let polls = poll_options(&options);
        let request = self.request(options);
        let (core, op) = (self.core, self.op);
        let (max_wait, interval) = (self.kind.max_wait, self.kind.interval);
        async move {
            let request = request.map_err(|e| e.for_op(core.platform, op))?;
            let raw = send(&core, &request).await?;
            let Some(spec) = op.task else {
                return Err(Error::new(
                    ErrorKind::Other,
                    format!("{} declares no task profile in its table entry", op.id),
                )
                .for_op(core.platform, op));
            };
            match acknowledgement(spec, op, &raw) {
                Ack::Not => finish_now(&core, op, raw).map(Accepted::Done),
                Ack::Malformed(why) => Err(decode_error(&core, op, &raw, why)),
                Ack::Task { id, url, body } => {
                    let mut handle = TaskHandle::new(core.clone(), op, spec, id, polls)?;
                    if let Some(url) = url {
                        handle.target = handle.target_from_url(&url)?;
                    }
                    if let Some(max_wait) = max_wait {
                        handle.max_wait = max_wait;
                    }
                    if let Some(interval) = interval.filter(|i| !i.is_zero()) {
                        handle.interval = interval;
                        handle.cap = handle.cap.max(interval);
                    }
                    handle.hint = hint(spec, &raw, Some(&body), core.config.clock.now());
                    handle.state = state_of(spec, &body);
                    handle.acknowledgement = Some(wrap(Value::Object(body), raw));
                    Ok(Accepted::Pending(Box::new(handle)))
                }
            }
        }
    }
}

impl<T: DeserializeOwned + Send + 'static, P: Params> IntoFuture for Call<Task<T>, P> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskStatus<T> {
    /// Still running, in this state as the platform names it (`None`: it named none).
    Running(Option<String>),
    /// Finished with this result.
    Done(T),
}

/// A task the platform acknowledged: poll it once with [`poll`](Self::poll), or wait for its
/// result with [`until_done`](Self::until_done) (or by awaiting the handle). Per-poll options
/// come from [`RequestOptions`] (a bearer token, a header, a timeout); a handle from a builder
/// keeps that call's headers, bearer token, timeout and retry budget.
///
/// `Debug` shows the task id, state and progress, never the acknowledgement's body.
#[must_use = "a task handle does nothing until it is polled"]
pub struct TaskHandle<T> {
    core: Arc<ClientCore>,
    /// The operation that started the task (the status operation, for a handle made from an id).
    op: &'static Operation,
    status_op: &'static Operation,
    spec: &'static TaskSpec,
    id: Option<String>,
    target: Target,
    options: CallOptions,
    acknowledgement: Option<Response<Value>>,
    state: Option<String>,
    polls: u32,
    /// The clock's monotonic reading at the acknowledgement: the maximum wait counts from it.
    started: Duration,
    max_wait: Duration,
    /// The next wait without a hint.
    interval: Duration,
    /// The longest wait without a hint (the profile's cap, or the first interval if longer).
    cap: Duration,
    /// The last answer's pacing hint.
    hint: Option<Duration>,
    _result: PhantomData<fn() -> T>,
}

/// Where a task is polled: a path under the status operation's host, and a query.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("operation", &self.op.id)
            .field("task_id", &self.id)
            .field("state", &self.state)
            .field("polls", &self.polls)
            .field("max_wait", &self.max_wait)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T> RequestOptions for TaskHandle<T> {
    fn call_options(&mut self) -> &mut CallOptions {
        &mut self.options
    }
}

impl<T: DeserializeOwned + Send + 'static> TaskHandle<T> {
    /// A handle on task `id`, polled with `spec`'s status operation. `InvalidInput` for an id
    /// that cannot be a path segment (empty, `.`, `..`).
    pub(crate) fn new(
        core: Arc<ClientCore>,
        op: &'static Operation,
        spec: &'static TaskSpec,
        id: Option<String>,
        options: CallOptions,
    ) -> Result<Self> {
        let platform = core.platform;
        let status_op = status_operation(&core, spec).map_err(|e| e.for_op(platform, op))?;
        let target = match &id {
            Some(id) => target_from_id(status_op, id).map_err(|e| e.for_op(platform, op))?,
            // Replaced by the acknowledgement's status URL at once.
            None => Target {
                path: String::new(),
                query: Vec::new(),
            },
        };
        let started = core.config.clock.monotonic();
        let interval = core
            .config
            .task_interval
            .unwrap_or(Duration::from_millis(spec.interval_ms));
        Ok(TaskHandle {
            op,
            status_op,
            spec,
            id,
            target,
            options,
            acknowledgement: None,
            state: None,
            polls: 0,
            started,
            max_wait: core
                .config
                .task_max_wait
                .unwrap_or(Duration::from_millis(spec.max_wait_ms)),
            interval,
            cap: Duration::from_millis(spec.cap_ms).max(interval),
            hint: None,
            core,
            _result: PhantomData,
        })
    }

    /// The platform's task id (`None` when the acknowledgement gave only a status URL).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The acknowledgement as the platform sent it, with its status, headers and request id
    /// (`None` for a handle made from an id).
    pub fn acknowledgement(&self) -> Option<&Response<Value>> {
        self.acknowledgement.as_ref()
    }

    /// The task's state as the platform last named it (`queued`, `running`, ...).
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// How many polls have been answered so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Sets the longest [`until_done`](Self::until_done) waits, counted from the
    /// acknowledgement (or from the handle's making, for a handle made from an id).
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Polls the task once, now. `Running` with the platform's state, or `Done` with the
    /// result.
    ///
    /// Errors: a `Task` error (failed) when the platform reports a failure state; any error of
    /// the status request (after its own retries), naming the task id; `Decode` for a status
    /// body that is not a JSON object or a result that does not decode as `T`.
    pub async fn poll(&mut self) -> Result<TaskStatus<T>> {
        Ok(match self.poll_once().await? {
            Polled::Running => TaskStatus::Running(self.state.clone()),
            Polled::Done(response) => TaskStatus::Done(response.into_inner()),
        })
    }

    /// Waits for the task to finish and resolves to its result: polls at the server's pace, or
    /// the profile's, until a terminal state or the maximum wait.
    ///
    /// Errors: as [`poll`](Self::poll), and a `Task` error with `task_failed() == false` once
    /// the maximum wait has passed (the handle stays usable: wait again, or poll later).
    pub async fn until_done(&mut self) -> Result<T> {
        self.until_done_with_response()
            .await
            .map(Response::into_inner)
    }

    /// As [`until_done`](Self::until_done), with the status, headers and request id of the
    /// final poll.
    pub async fn until_done_with_response(&mut self) -> Result<Response<T>> {
        let clock = self.core.config.clock.clone();
        loop {
            let elapsed = clock.monotonic().saturating_sub(self.started);
            if elapsed >= self.max_wait {
                return Err(self.timed_out(elapsed));
            }
            let wait = self.next_wait().min(self.max_wait - elapsed);
            clock.sleep(wait).await;
            if let Polled::Done(response) = self.poll_once().await? {
                return Ok(response);
            }
        }
    }

    /// The wait before the next poll: the server's hint, else the grown interval.
    fn next_wait(&self) -> Duration {
        match self.hint {
            Some(hint) => hint.min(self.core.config.max_retry_after),
            None => self.interval,
        }
    }

    fn timed_out(&self, elapsed: Duration) -> Error {
        let state = match &self.state {
            Some(state) => format!(", last state `{state}`"),
            None => String::new(),
        };
        Error::new(
            ErrorKind::Task,
            format!(
                "the task did not finish within {} ({} polls{state})",
                human(elapsed),
                self.polls
            ),
        )
        .not_retryable()
        .with_task_id(self.id.as_deref())
        .for_op(self.core.platform, self.op)
    }

    /// One status request; the handle changes only once its answer has been read.
    async fn poll_once(&mut self) -> Result<Polled<T>> {
        let (core, op, spec) = (&self.core, self.op, self.spec);
        let mut request = Request::new(
            self.status_op,
            self.target.path.clone(),
            self.options.clone(),
        );
        for (name, value) in &self.target.query {
            request.push_query(name.clone(), value.clone());
        }
        let id = self.id.as_deref();
        let raw = send(core, &request).await.map_err(|e| e.with_task_id(id))?;
        let status_op = self.status_op;
        let body = status_body(core, status_op, &raw).map_err(|e| e.with_task_id(id))?;
        let state = state_of(spec, &body);
        let lower = state.as_deref().map(str::to_ascii_lowercase);
        let is = |states: &[&str]| {
            lower
                .as_deref()
                .is_some_and(|s| states.iter().any(|t| t.eq_ignore_ascii_case(s)))
        };
        if is(spec.success) {
            let result = spec
                .result_members
                .iter()
                .find_map(|m| body.get(*m).filter(|v| !v.is_null()).cloned())
                .unwrap_or(Value::Object(body));
            let value = serde_path_to_error::deserialize::<_, T>(result).map_err(|e| {
                let path = e.path().to_string();
                decode_error(
                    core,
                    status_op,
                    &raw,
                    format!(
                        "the task's result does not decode at `{path}`: {}",
                        e.inner()
                    ),
                )
                .with_task_id(id)
            })?;
            self.polls += 1;
            self.state = state;
            return Ok(Polled::Done(wrap(value, raw)));
        }
        if is(spec.failure) {
            self.polls += 1;
            self.state = state.clone();
            return Err(failure(core, op, spec, id, state, &body, &raw));
        }
        // Still running: follow a moved status URL, take the server's pace.
        let moved = spec
            .url_members
            .iter()
            .find_map(|m| body.get(*m).and_then(Value::as_str))
            .map(|url| self.target_from_url(url))
            .transpose()?;
        let hint = hint(spec, &raw, Some(&body), core.config.clock.now());
        let grown = self.interval.mul_f64(spec.growth);
        if let Some(target) = moved {
            self.target = target;
        }
        if hint.is_none() {
            self.interval = grown.min(self.cap);
        }
        self.hint = hint;
        self.polls += 1;
        self.state = state;
        Ok(Polled::Running)
    }

    /// Where a status URL points, as a path under the status operation's host; a URL on
    /// another origin is refused (`Other`): the poll would carry the platform's credentials.
    fn target_from_url(&self, url: &str) -> Result<Target> {
        resolve_url(&self.core, self.status_op, Some(self.spec), url).map_err(|e| {
            e.with_task_id(self.id.as_deref())
                .for_op(self.core.platform, self.op)
        })
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for TaskHandle<T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;
    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move { self.until_done().await })
    }
}

enum Polled<T> {
    Running,
    Done(Response<T>),
}

/// A handle on task `id` of a platform's task profile: what a generated `Client::task()` gives.
#[allow(
    dead_code,
    reason = "called by the generated `task()` of platforms with task profiles only"
)]
pub(crate) fn handle_for_id<T: DeserializeOwned + Send + 'static>(
    core: Arc<ClientCore>,
    spec: &'static TaskSpec,
    id: String,
) -> Result<TaskHandle<T>> {
    let status_op = status_operation(&core, spec)?;
    TaskHandle::new(core, status_op, spec, Some(id), CallOptions::default())
}

/// The operation that polls `spec`'s tasks (the generator checks it exists and is a GET).
fn status_operation(core: &ClientCore, spec: &TaskSpec) -> Result<&'static Operation> {
    let platform = core.platform;
    platform.operation(spec.status_operation).ok_or_else(|| {
        Error::new(
            ErrorKind::Other,
            format!(
                "the task profile polls `{}`, which the operation table does not have",
                spec.status_operation
            ),
        )
        .with_platform(platform)
    })
}

/// The options a task's polls carry from the call that started it: its headers, bearer token,
/// timeout and retry budget — not its idempotency key or request id (each poll is its own
/// request), nor its deadline (the maximum wait bounds the polling).
pub(crate) fn poll_options(call: &CallOptions) -> CallOptions {
    CallOptions {
        timeout: call.timeout,
        max_retries: call.max_retries,
        headers: call.headers.clone(),
        bearer: call.bearer.clone(),
        ..CallOptions::default()
    }
}

/// What the first answer of a task operation is.
enum Ack {
    /// Not an acknowledgement: the result.
    Not,
    /// An acknowledgement without what it takes to poll it.
    Malformed(String),
    /// An acknowledgement: the task id and status URL it carries, and its body.
    Task {
        id: Option<String>,
        url: Option<String>,
        body: Map<String, Value>,
    },
}

/// Recognises an acknowledgement, by status or by shape (module docs).
fn acknowledgement(spec: &TaskSpec, op: &Operation, raw: &Raw) -> Ack {
    let by_status = spec.ack_status_codes.contains(&raw.status.as_u16());
    let body = match serde_json::from_slice::<Value>(strip_bom(&raw.body)) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    // An enveloped acknowledgement sits in the envelope's data member.
    let body = match (body, op.envelope) {
        (Some(mut map), Some(env)) if !map.contains_key(spec.state_member) => {
            match map.remove(env.data) {
                Some(Value::Object(inner)) => Some(inner),
                Some(other) => {
                    map.insert(env.data.to_owned(), other);
                    Some(map)
                }
                None => Some(map),
            }
        }
        (body, _) => body,
    };
    let Some(body) = body else {
        return if by_status {
            Ack::Malformed(format!(
                "the answer (HTTP {}) is a task acknowledgement, but its body is not a JSON object",
                raw.status.as_u16()
            ))
        } else {
            Ack::Not
        };
    };
    let id = match body.get(spec.id_member) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let url = spec
        .url_members
        .iter()
        .find_map(|m| {
            body.get(*m)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .map(str::to_owned);
    let by_shape = raw.status.is_success()
        && (id.is_some() || url.is_some())
        && state_of(spec, &body)
            .is_some_and(|s| spec.ack_states.iter().any(|a| a.eq_ignore_ascii_case(&s)));
    if !(by_status || by_shape) {
        return Ack::Not;
    }
    if id.is_none() && url.is_none() {
        return Ack::Malformed(format!(
            "the answer (HTTP {}) is a task acknowledgement without a `{}` or a status URL ({}): there is nothing to poll",
            raw.status.as_u16(),
            spec.id_member,
            spec.url_members.join(", ")
        ));
    }
    Ack::Task { id, url, body }
}

/// A result that came at once (no acknowledgement): any 2xx JSON answer, decoded as `T`; an
/// empty body is `null` (fine for `serde_json::Value` and `Option`).
fn finish_now<T: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Response<T>> {
    if is_empty_body(&raw.body) {
        return match T::deserialize(Value::Null) {
            Ok(value) => Ok(wrap(value, raw)),
            Err(_) => Err(decode_error(
                core,
                op,
                &raw,
                format!(
                    "the answer (HTTP {}) is empty: neither a result nor a task acknowledgement",
                    raw.status.as_u16()
                ),
            )),
        };
    }
    check_json(core, op, &raw, false)?;
    decode(core, op, raw)
}

/// The status body as a JSON object (inside the status operation's envelope, if it has one).
fn status_body(core: &ClientCore, op: &'static Operation, raw: &Raw) -> Result<Map<String, Value>> {
    check_json(core, op, raw, false)?;
    let not_object = || {
        decode_error(
            core,
            op,
            raw,
            "the task status is not a JSON object".to_owned(),
        )
    };
    let body: Value = serde_json::from_slice(strip_bom(&raw.body)).map_err(|_| not_object())?;
    let body = match (body, op.envelope) {
        (Value::Object(mut map), Some(env)) => match map.remove(env.data) {
            Some(inner) => inner,
            None => Value::Object(map),
        },
        (body, _) => body,
    };
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(not_object()),
    }
}

/// The task's state as the platform names it (a string, or a number shown as one).
fn state_of(spec: &TaskSpec, body: &Map<String, Value>) -> Option<String> {
    match body.get(spec.state_member)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `Task` error of a failure state: the platform's message and code from the error member
/// (a string, or `{message, code}`), the status body kept.
fn failure(
    core: &ClientCore,
    op: &'static Operation,
    spec: &TaskSpec,
    id: Option<&str>,
    state: Option<String>,
    body: &Map<String, Value>,
    raw: &Raw,
) -> Error {
    let (message, code) = match body.get(spec.error_member) {
        Some(Value::String(s)) => (Some(s.clone()), None),
        Some(Value::Object(e)) => (
            e.get("message")
                .or_else(|| e.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            e.get("code").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        ),
        _ => (None, None),
    };
    let message = message
        .or_else(|| {
            body.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("the task ended in state `{}`", state.unwrap_or_default()));
    Error::new(ErrorKind::Task, message)
        .not_retryable()
        .task_failure()
        .with_task_id(id)
        .with_code(code)
        .with_status(raw.status)
        .with_request_id(raw.request_id.clone())
        .with_body(raw.headers.clone(), raw.body.clone())
        .for_op(core.platform, op)
}

/// The status operation's path for task `id`: its one path parameter filled in.
fn target_from_id(status_op: &Operation, id: &str) -> Result<Target> {
    let template = status_op.path;
    let (Some(open), Some(close)) = (template.find('{'), template.find('}')) else {
        return Err(Error::invalid_input(format!(
            "the task status operation `{}` has no path parameter for the task id",
            status_op.id
        )));
    };
    if close < open {
        return Err(Error::invalid_input(format!(
            "the task status operation `{}` has a malformed path",
            status_op.id
        )));
    }
    let name = &template[open + 1..close];
    let segment = path_segment(name, id)?;
    Ok(Target {
        path: format!("{}{segment}{}", &template[..open], &template[close + 1..]),
        query: Vec::new(),
    })
}

/// A URL from an answer or the caller (a status URL, a stream URL) as a path and query under
/// `status_op`'s host (module docs): same origin only; the host's base path, else one of the
/// profile's `strip-prefixes`, dropped.
pub(crate) fn resolve_url(
    core: &ClientCore,
    status_op: &Operation,
    spec: Option<&TaskSpec>,
    url: &str,
) -> Result<Target> {
    let base = core.config.hosts.get(status_op.host).ok_or_else(|| {
        Error::invalid_input(format!("operation {} names no known host", status_op.id))
    })?;
    let refused = |why: &str| {
        Error::new(
            ErrorKind::Other,
            format!(
                "the URL {:?} is not followed: {why}",
                url.split('?').next().unwrap_or_default()
            ),
        )
        .not_retryable()
    };
    let absolute = url.starts_with("//") || Url::parse(url).is_ok();
    let parsed = if absolute {
        let parsed = base
            .join(url)
            .map_err(|_| refused("it is not a valid URL"))?;
        if parsed.origin() != base.origin() {
            return Err(refused(
                "it is on another origin, and a poll carries the platform's credentials",
            ));
        }
        parsed
    } else {
        // A path, with or without its leading slash, resolved against the origin only.
        let path = if url.starts_with('/') {
            url.to_owned()
        } else {
            format!("/{url}")
        };
        base.join(&path)
            .map_err(|_| refused("it is not a valid path"))?
    };
    let mut path = parsed.path().to_owned();
    let base_path = base.path().trim_end_matches('/');
    let strip = |path: &str, prefix: &str| -> Option<String> {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| rest.to_owned())
    };
    if let Some(rest) = (!base_path.is_empty())
        .then(|| strip(&path, base_path))
        .flatten()
    {
        path = rest;
    } else if let Some(rest) = spec
        .into_iter()
        .flat_map(|s| s.strip_prefixes.iter())
        .find_map(|p| strip(&path, p.trim_end_matches('/')))
    {
        path = rest;
    }
    if path.is_empty() {
        return Err(refused("it names no path under the platform's base URL"));
    }
    let query = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Target { path, query })
}

/// The server's pacing hint for the next poll: the `Retry-After` header and the profile's body
/// members (top level and containers); the largest wins. `None` when there is none, or every
/// one is zero or past.
fn hint(
    spec: &TaskSpec,
    raw: &Raw,
    body: Option<&Map<String, Value>>,
    now: SystemTime,
) -> Option<Duration> {
    let mut best = retry_after_at(&raw.headers, now);
    let mut consider = |d: Option<Duration>| {
        if let Some(d) = d.filter(|d| !d.is_zero()) {
            best = Some(best.map_or(d, |b| b.max(d)));
        }
    };
    if let Some(body) = body {
        let containers = std::iter::once(body).chain(
            spec.hint_containers
                .iter()
                .filter_map(|c| body.get(*c).and_then(Value::as_object)),
        );
        for object in containers {
            for member in spec.hint_members {
                if let Some(v) = object.get(*member) {
                    consider(duration_hint(v, member.ends_with("ms")));
                }
            }
            for member in spec.hint_time_members {
                if let Some(v) = object.get(*member) {
                    consider(time_hint(v, now));
                }
            }
        }
    }
    best
}

/// A duration member: a number (or a numeric string) of seconds, or of milliseconds.
fn duration_hint(value: &Value, millis: bool) -> Option<Duration> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let secs = if millis { n / 1000.0 } else { n };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A time member: epoch seconds (a number or numeric string), RFC 3339 / ISO 8601 (an offset,
/// `Z`, or none: UTC) or an HTTP-date; the wait until it.
fn time_hint(value: &Value, now: SystemTime) -> Option<Duration> {
    let at = match value {
        Value::Number(n) => epoch(n.as_f64()?)?,
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<f64>() {
                Ok(secs) => epoch(secs)?,
                Err(_) => iso_time(s).or_else(|| httpdate::parse_http_date(s).ok())?,
            }
        }
        _ => return None,
    };
    at.duration_since(now)
        .ok()
        .map(|d| d.min(Duration::from_secs(86_400)))
}

fn epoch(secs: f64) -> Option<SystemTime> {
    (secs.is_finite() && secs > 0.0 && secs < 1e11)
        .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs))
}

/// An ISO 8601 time. humantime reads UTC forms; another offset (`+02:00`) is taken off here.
fn iso_time(s: &str) -> Option<SystemTime> {
    if let Ok(at) = humantime::parse_rfc3339_weak(s) {
        return Some(at);
    }
    // `…T10:00:00+02:00`: the offset is the last six characters, after the time.
    let split = s.len().checked_sub(6)?;
    let (local, offset) = (s.get(..split)?, s.get(split..)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1i64,
        b'-' => -1i64,
        _ => return None,
    };
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(4..6)?.parse().ok()?;
    if offset.as_bytes().get(3) != Some(&b':') || hours > 23 || minutes > 59 {
        return None;
    }
    let utc = humantime::parse_rfc3339_weak(local).ok()?;
    let shift = Duration::from_secs(((hours * 60 + minutes) * 60) as u64);
    // Local time = UTC + offset, so UTC = local - offset.
    if sign > 0 {
        utc.checked_sub(shift)
    } else {
        utc.checked_add(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_hints_read_every_documented_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let in_ten = |v: Value| time_hint(&v, now);
        let ten = Some(Duration::from_secs(10));
        assert_eq!(in_ten(Value::from(1_800_000_010u64)), ten, "epoch seconds");
        assert_eq!(in_ten(Value::from("1800000010")), ten, "epoch as a string");
        let iso = humantime::format_rfc3339(now + Duration::from_secs(10)).to_string();
        assert_eq!(in_ten(Value::from(iso.clone())), ten, "RFC 3339, Z");
        let naive = iso.trim_end_matches('Z').to_owned();
        assert_eq!(in_ten(Value::from(naive.clone())), ten, "no offset: UTC");
        let plus_two = {
            // Two hours ahead of UTC, written in local time.
            let local = humantime::format_rfc3339(now + Duration::from_secs(7_210)).to_string();
            format!("{}+02:00", local.trim_end_matches('Z'))
        };
        assert_eq!(in_ten(Value::from(plus_two)), ten, "an offset");
        let http = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(in_ten(Value::from(http)), ten, "an HTTP-date");
        assert_eq!(in_ten(Value::from(1_799_999_990u64)), None, "past: no hint");
        assert_eq!(in_ten(Value::from("soon")), None);
        assert_eq!(in_ten(Value::Bool(true)), None);
    }

    #[test]
    fn duration_hints_take_seconds_or_milliseconds_and_refuse_the_rest() {
        assert_eq!(
            duration_hint(&Value::from(2.5), false),
            Some(Duration::from_millis(2_500))
        );
        assert_eq!(
            duration_hint(&Value::from("1500"), true),
            Some(Duration::from_millis(1_500))
        );
        assert_eq!(duration_hint(&Value::from(0), false), None);
        assert_eq!(duration_hint(&Value::from(-3), false), None);
        assert_eq!(duration_hint(&Value::from("x"), false), None);
        assert_eq!(
            duration_hint(&Value::from(1e30), false),
            Some(Duration::from_secs(86_400)),
            "capped at a day"
        );
    }
}
