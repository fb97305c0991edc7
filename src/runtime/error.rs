//! One error type for every platform: what went wrong, read from the status, the headers and the
//! body bytes before any typed decode.
//!
//! [`Error::kind`] is a plain, field-less `Copy` value, so it compares and matches directly; the
//! details of a kind come from accessors ([`Error::field_errors`], [`Error::rate_limit`],
//! [`Error::retry_after`], [`Error::task_id`]):
//!
//! ```
//! fn handle(err: agentwire::Error) {
//!     use agentwire::ErrorKind;
//!     if err.kind() == ErrorKind::NotFound {
//!         println!("gone");
//!     }
//!     match err.kind() {
//!         ErrorKind::RateLimited => println!("retry in {:?}", err.retry_after()),
//!         ErrorKind::Validation => {
//!             for f in err.field_errors() {
//!                 println!("{}: {}", f.path, f.message);
//!             }
//!         }
//!         _ => println!("{err}"),
//!     }
//! }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::operation::{ErrorFormat, Operation, Platform};

/// The result type of every agentwire call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is. One level deep and field-less: compare it
/// (`err.kind() == ErrorKind::NotFound`) or match it; the details sit on the [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request was malformed.
    BadRequest,
    /// The platform rejected fields of the request (a 400 with a validation code, or a 422):
    /// see [`Error::field_errors`].
    Validation,
    /// 401: the credentials are missing, invalid or expired.
    Authentication,
    /// 403: the credentials may not do this.
    PermissionDenied,
    /// 404: the resource does not exist.
    NotFound,
    /// 409: the request conflicts with the resource's state.
    Conflict,
    /// 429: too many requests: see [`Error::rate_limit`] and [`Error::retry_after`].
    RateLimited,
    /// 5xx other than 501 and 503: the platform failed.
    Server,
    /// 501: the platform does not implement this route yet.
    NotImplemented,
    /// 503: the platform (or the feature) is unavailable for now.
    Unavailable,
    /// An attempt, the overall deadline or a stream's idle read timed out (or the server answered 408).
    Timeout,
    /// The connection could not be made or was lost.
    Connection,
    /// A response arrived but could not be read as the documented type (the raw body is kept).
    Decode,
    /// An asynchronous task failed or did not finish in time: see [`Error::task_id`].
    Task,
    /// An event stream broke in a way that cannot be resumed.
    Stream,
    /// The caller's input was rejected before any request was sent.
    InvalidInput,
    /// A status the classification does not map (418, say), or a redirect that is not followed:
    /// see [`Error::status`].
    Other,
}

/// One field the platform rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path as the platform wrote it (`name`, `channels.0.type`).
    pub path: String,
    /// Why it was rejected.
    pub message: String,
}

/// Pacing information from a 429 answer ([`Error::rate_limit`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// How long the platform asks to wait (`Retry-After`, `retry-after-ms`).
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Limit`: requests allowed in the window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset` as the platform sent it (epoch seconds or a date).
    pub reset_at: Option<String>,
}

/// An error from any agentwire call. `Send + Sync + 'static`, cheap to move (one box).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// Validation errors: one entry per rejected field.
    field_errors: Vec<FieldError>,
    /// Rate-limit errors: the platform's pacing headers.
    rate_limit: Option<RateLimit>,
    /// The task this error concerns (a task's failure or time-out, or a failed poll of it).
    task_id: Option<String>,
    /// For `Task` errors: the task failed (rather than not finishing in time).
    task_failed: bool,
    platform: Option<&'static str>,
    operation: Option<&'static str>,
    status: Option<StatusCode>,
    code: Option<String>,
    message: String,
    request_id: Option<String>,
    headers: Option<HeaderMap>,
    body: Option<Bytes>,
    body_truncated: bool,
    retry_after: Option<Duration>,
    may_have_been_applied: bool,
    retryable: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Unavailable
                | ErrorKind::Timeout
                | ErrorKind::Connection
        );
        Error {
            inner: Box::new(Inner {
                kind,
                field_errors: Vec::new(),
                rate_limit: None,
                task_id: None,
                task_failed: false,
                platform: None,
                operation: None,
                status: None,
                code: None,
                message: message.into(),
                request_id: None,
                headers: None,
                body: None,
                body_truncated: false,
                retry_after: None,
                may_have_been_applied: false,
                retryable,
                source: None,
            }),
        }
    }

    /// An error for input rejected before any request was sent.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn for_op(mut self, platform: &'static Platform, op: &'static Operation) -> Self {
        self.inner.platform = Some(platform.display_name);
        self.inner.operation = Some(op.id);
        self
    }

    /// Names the operation where nothing did yet (an error raised below the call, mid-stream);
    /// an error of another operation (a stream's ticket) keeps its own.
    pub(crate) fn or_op(self, platform: &'static Platform, op: &'static Operation) -> Self {
        if self.inner.operation.is_some() {
            self
        } else {
            self.for_op(platform, op)
        }
    }

    pub(crate) fn with_platform(mut self, platform: &'static Platform) -> Self {
        self.inner.platform = Some(platform.display_name);
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        if self.inner.request_id.is_none() {
            self.inner.request_id = id;
        }
        self
    }

    /// Names the task this error concerns (kept if one is named already).
    pub(crate) fn with_task_id(mut self, id: Option<&str>) -> Self {
        if self.inner.task_id.is_none() {
            self.inner.task_id = id.map(str::to_owned);
        }
        self
    }

    /// Adds a sentence to the message (what the caller can do about it).
    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        if !self.inner.message.is_empty() {
            self.inner.message.push_str("; ");
        }
        self.inner.message.push_str(hint);
        self
    }

    /// Marks a `Task` error as the task's failure (rather than a time-out).
    pub(crate) fn task_failure(mut self) -> Self {
        self.inner.task_failed = true;
        self
    }

    /// Sets the platform's error code (a failed task's `error.code`).
    pub(crate) fn with_code(mut self, code: Option<String>) -> Self {
        if code.is_some() {
            self.inner.code = code;
        }
        self
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.inner.status = Some(status);
        self
    }

    pub(crate) fn with_body(mut self, headers: HeaderMap, body: Bytes) -> Self {
        self.inner.headers = Some(headers);
        self.inner.body = Some(body);
        self
    }

    /// Marks the kept body as cut at the size cap.
    pub(crate) fn truncated(mut self, truncated: bool) -> Self {
        self.inner.body_truncated = truncated;
        self
    }

    pub(crate) fn applied(mut self, may_have_been_applied: bool) -> Self {
        self.inner.may_have_been_applied = may_have_been_applied;
        self
    }

    pub(crate) fn retryable(mut self) -> Self {
        self.inner.retryable = true;
        self
    }

    pub(crate) fn not_retryable(mut self) -> Self {
        self.inner.retryable = false;
        self
    }

    /// An `Authentication` error with this message, for code outside agentwire that takes part
    /// in a call (a [`crate::RefreshingCredentials`] refresher whose refresh token was refused,
    /// say). Keep secrets out of the message.
    pub fn authentication(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Authentication, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The platform's display name (`BimpeAI`), when the error came from a call.
    pub fn platform(&self) -> Option<&'static str> {
        self.inner.platform
    }

    /// The operation id (`agents.create`), when the error came from a call.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// The HTTP status, when the platform answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The platform's own error code (`validation_error`, `AUTH_001`), when it sent one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The human-readable message: the platform's, or ours when there was no answer.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The request id: the `x-request-id` the platform answered with, else the one in its
    /// error body, else the one agentwire sent.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The response headers, when the platform answered.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.inner.headers.as_ref()
    }

    /// The raw response body, when the platform answered (kept for Decode errors too). Capped
    /// at the client's `max_response_bytes`: see [`Error::body_truncated`].
    pub fn body(&self) -> Option<&Bytes> {
        self.inner.body.as_ref()
    }

    /// Whether [`Error::body`] was cut at the client's `max_response_bytes` (an oversized error
    /// page). The classification still comes from the status and headers.
    pub fn body_truncated(&self) -> bool {
        self.inner.body_truncated
    }

    /// The field errors of a [`ErrorKind::Validation`] error, in the order the platform sent
    /// them (empty otherwise, or when the platform named no field).
    pub fn field_errors(&self) -> &[FieldError] {
        &self.inner.field_errors
    }

    /// The pacing headers of a [`ErrorKind::RateLimited`] error (`None` otherwise).
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.inner.rate_limit.as_ref()
    }

    /// The platform's task id, on errors about a task: a [`ErrorKind::Task`] error (the task
    /// failed or did not finish in time), and any error of a poll of its status (the status
    /// route answered 404, say). `None` otherwise, or when the acknowledgement gave only a
    /// status URL.
    pub fn task_id(&self) -> Option<&str> {
        self.inner.task_id.as_deref()
    }

    /// For a [`ErrorKind::Task`] error: whether the task failed (`false`: it did not finish in
    /// time).
    pub fn task_failed(&self) -> bool {
        self.inner.kind == ErrorKind::Task && self.inner.task_failed
    }

    /// How long the platform asked to wait before trying again: `retry-after-ms`, else
    /// `Retry-After` (seconds or an HTTP-date), read from any error answer (a 429, a 503, a 500
    /// ...). A zero or past hint counts as none, so this is `None` for it.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Whether trying the same call again later could succeed (transport failures, timeouts,
    /// 408, 429 and 5xx other than 501).
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// For a write: whether the request may have reached the platform and been applied before
    /// it failed. `false` means it certainly was not (refused before sending, or a connection
    /// that was never made).
    pub fn may_have_been_applied(&self) -> bool {
        self.inner.may_have_been_applied
    }

    /// Classifies a non-2xx answer from its status, headers and body bytes. `now` (the client's
    /// clock) turns an HTTP-date `Retry-After` into a wait.
    pub(crate) fn from_response(
        format: &ErrorFormat,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        now: SystemTime,
    ) -> Self {
        let parts = BodyParts::read(format, &body);
        // The headers' hint, else one in the body where the error format names it.
        let retry_after = retry_after_at(&headers, now).or(parts.retry_after);
        let kind = match status.as_u16() {
            400 if parts.is_validation(format) => ErrorKind::Validation,
            422 => ErrorKind::Validation,
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            501 => ErrorKind::NotImplemented,
            503 => ErrorKind::Unavailable,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Other,
        };
        let message = parts.message.clone().unwrap_or_else(|| {
            let reason = status.canonical_reason().unwrap_or("unknown status");
            format!("HTTP {} {}", status.as_u16(), reason)
        });
        let mut error = Error::new(kind, message);
        match kind {
            ErrorKind::Validation => error.inner.field_errors = parts.field_errors(format),
            ErrorKind::RateLimited => {
                error.inner.rate_limit = Some(rate_limit(&headers, retry_after));
            }
            _ => {}
        }
        parts.finish(error, status, headers, body, retry_after)
    }

    /// A 2xx answer to a stream open that is not `text/event-stream`: a `Stream` error carrying
    /// the status, the content type, the body, and the platform's code and message when the body
    /// is in its error format. Never retried: the server answered, just not with a stream.
    pub(crate) fn not_a_stream(
        format: &ErrorFormat,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let parts = BodyParts::read(format, &body);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut message = match &content_type {
            Some(ct) => format!("expected an event stream (text/event-stream), got `{ct}`"),
            None => "expected an event stream (text/event-stream), got no content type".into(),
        };
        if let Some(platform_message) = &parts.message {
            message.push_str(": ");
            message.push_str(platform_message);
        }
        parts
            .finish(
                Error::new(ErrorKind::Stream, message),
                status,
                headers,
                body,
                None,
            )
            .not_retryable()
    }
}

/// What an error body says, read through the platform's error format.
struct BodyParts {
    parsed: Option<Value>,
    message: Option<String>,
    code: Option<String>,
    request_id: Option<String>,
    /// A pacing hint in seconds from the body (zero or negative: none).
    retry_after: Option<Duration>,
}

impl BodyParts {
    fn read(format: &ErrorFormat, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(strip_bom(body)).ok();
        let obj = parsed.as_ref().and_then(Value::as_object);
        let member = |names: &[&str]| -> Option<&Value> {
            let obj = obj?;
            names
                .iter()
                .find_map(|n| obj.get(*n).filter(|v| !v.is_null()))
        };
        let message = member(format.message).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        });
        let code = member(format.code).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let request_id = member(format.request_id)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let retry_after = member(format.retry_after)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(|secs| Duration::from_secs_f64(secs.min(86_400.0)));
        BodyParts {
            parsed,
            message,
            code,
            request_id,
            retry_after,
        }
    }

    /// A validation error: its code is one of the format's validation codes, or its field
    /// errors member is an object of per-field messages (Knowrithm's `details`).
    fn is_validation(&self, format: &ErrorFormat) -> bool {
        let by_code = self
            .code
            .as_deref()
            .is_some_and(|c| format.validation_codes.contains(&c));
        let by_fields = format.field_errors.is_some_and(|member| {
            self.parsed
                .as_ref()
                .and_then(|p| p.get(member))
                .and_then(Value::as_object)
                .is_some_and(|fields| !fields.is_empty())
        });
        by_code || by_fields
    }

    fn field_errors(&self, format: &ErrorFormat) -> Vec<FieldError> {
        field_errors(format, self.parsed.as_ref().and_then(Value::as_object))
    }

    /// Fills in what every answered error carries.
    fn finish(
        self,
        error: Error,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        retry_after: Option<Duration>,
    ) -> Error {
        let header_request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let mut err = error
            .with_status(status)
            .with_request_id(header_request_id.or(self.request_id));
        err.inner.code = self.code;
        err.inner.retry_after = retry_after;
        err.with_body(headers, body)
    }
}

/// A duration as messages show it: `250 ms` under a second, else `1.5 s`.
pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A JSON body without its UTF-8 byte-order mark (some servers send one).
pub(crate) fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

fn field_errors(
    format: &ErrorFormat,
    obj: Option<&serde_json::Map<String, Value>>,
) -> Vec<FieldError> {
    let Some(member) = format.field_errors else {
        return Vec::new();
    };
    let entries: Vec<&str> = match obj.and_then(|o| o.get(member)) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        // `{"email": ["is taken"], "address": {"city": "is required"}}`: by field path.
        Some(Value::Object(fields)) => {
            let mut out = Vec::new();
            per_field(fields, "", 0, &mut out);
            return out;
        }
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .map(|entry| match entry.split_once(':') {
            Some((path, message)) => FieldError {
                path: path.trim().to_owned(),
                message: message.trim().to_owned(),
            },
            None => FieldError {
                path: String::new(),
                message: entry.trim().to_owned(),
            },
        })
        .collect()
}

/// Field errors from an object of per-field messages (a message, a list of them, or an object
/// of deeper fields), paths joined with `.`; bounded in depth like every reader of answers.
fn per_field(
    fields: &serde_json::Map<String, Value>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<FieldError>,
) {
    if depth > 16 {
        return;
    }
    for (name, value) in fields {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::String(message) => out.push(FieldError {
                path,
                message: message.trim().to_owned(),
            }),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(message) => out.push(FieldError {
                            path: path.clone(),
                            message: message.trim().to_owned(),
                        }),
                        Value::Object(deeper) => per_field(deeper, &path, depth + 1, out),
                        _ => {}
                    }
                }
            }
            Value::Object(deeper) => per_field(deeper, &path, depth + 1, out),
            _ => {}
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn rate_limit(headers: &HeaderMap, retry_after: Option<Duration>) -> RateLimit {
    RateLimit {
        retry_after,
        limit: header_str(headers, "x-ratelimit-limit").and_then(|s| s.parse().ok()),
        remaining: header_str(headers, "x-ratelimit-remaining").and_then(|s| s.parse().ok()),
        reset_at: header_str(headers, "x-ratelimit-reset").map(str::to_owned),
    }
}

/// The server's pacing hint at `now`: `retry-after-ms`, else `Retry-After` as seconds or an
/// HTTP-date. A zero, negative or past hint is no hint (`None`): one rule for every status and
/// every reader, so a server cannot make a client retry at once in a tight loop.
pub(crate) fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let positive = |d: Duration| (!d.is_zero()).then_some(d);
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|s| s.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return positive(Duration::from_secs_f64((ms / 1000.0).min(86_400.0)));
    }
    let value = header_str(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(now).ok().and_then(positive)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match (i.platform, i.operation) {
            (Some(p), Some(op)) => write!(f, "{p} {op} failed: ")?,
            (Some(p), None) => write!(f, "{p}: ")?,
            _ => {}
        }
        let what = match i.kind {
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Validation => "validation failed",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Server => "server error",
            ErrorKind::NotImplemented => "not implemented by the platform",
            ErrorKind::Unavailable => "service unavailable",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Connection => "connection failed",
            ErrorKind::Decode => "could not read the response",
            ErrorKind::Task if self.task_failed() => "task failed",
            ErrorKind::Task => "task did not finish in time",
            ErrorKind::Stream => "event stream failed",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Other => "unexpected answer",
        };
        f.write_str(what)?;
        if let Some(status) = i.status {
            write!(f, " (HTTP {}", status.as_u16())?;
            if let Some(code) = &i.code {
                write!(f, ", {code}")?;
            }
            f.write_str(")")?;
        }
        if !i.message.is_empty() {
            write!(f, ": {}", i.message)?;
        }
        if let Some(d) = i.retry_after {
            write!(f, "; retry after {}", human(d))?;
        }
        if let Some(task_id) = self.task_id() {
            write!(f, " [task {task_id}]")?;
        }
        if i.body_truncated {
            let len = i.body.as_ref().map_or(0, Bytes::len);
            write!(f, " (response body truncated to {len} bytes)")?;
        }
        if let Some(id) = &i.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind);
        if !i.field_errors.is_empty() {
            d.field("field_errors", &i.field_errors);
        }
        if let Some(limit) = &i.rate_limit {
            d.field("rate_limit", limit);
        }
        if let Some(task_id) = &i.task_id {
            d.field("task_id", task_id);
        }
        if i.kind == ErrorKind::Task {
            d.field("task_failed", &i.task_failed);
        }
        d.field("platform", &i.platform)
            .field("operation", &i.operation)
            .field("status", &i.status)
            .field("code", &i.code)
            .field("message", &i.message)
            .field("request_id", &i.request_id)
            .field("may_have_been_applied", &i.may_have_been_applied);
        if let Some(body) = &i.body {
            d.field("body_len", &body.len());
            d.field("body_truncated", &i.body_truncated);
        }
        if let Some(wait) = &i.retry_after {
            d.field("retry_after", wait);
        }
        if let Some(source) = &i.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

// The public contract: errors cross threads and live as long as callers like.
const _: () = {
    const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
};
