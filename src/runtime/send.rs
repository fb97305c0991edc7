//! The one request path: transport and retries. Every request, generated or hand-written, is
//! described by a [`Request`] (the operation's table entry, the filled path, query, a body that
//! can be produced again for each attempt, and the call's options) and sent by [`send`] (raw
//! bytes out) or [`open_stream`] (an open byte stream out). Nothing here decodes a result: that
//! is `response` and the kinds of `call`, above this module in the stack.
//!
//! Per call, once: the URL, auth for the operation's host, `User-Agent`, one request id and — on
//! writes — one idempotency key, both reused on every attempt (a caller's own wins). Per
//! attempt: a fresh request from the body factory, a timeout, a capped body read, and
//! classification of any non-2xx answer from its status, headers and bytes before anything is
//! decoded (an error body over the cap is truncated, never a reason to misclassify). Between
//! attempts, [`super::retry`] decides; the whole call is bounded by the deadline, measured on the
//! clock's monotonic reading. Nothing secret reaches an error, a log line or a span: URLs are
//! stripped from transport errors and credentials are marked sensitive.
//!
//! Redirects are followed here, not by reqwest, so that one rule holds: a redirect never changes
//! what a write does. A GET follows same-origin redirects (301/302/303/307/308); a write follows
//! only 307/308, re-sending the same method, body (from the factory) and idempotency key; a
//! 301/302/303 on a write is an error of kind `Other` (not retried, and it may have been applied:
//! a 303 says the server processed it). A redirect to another origin is never followed, for any
//! method, so no credential leaves the platform's origin. At most
//! [`MAX_REDIRECTS`](super::config::MAX_REDIRECTS) per attempt.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use reqwest::{StatusCode, Url};
use tracing::Instrument;

use super::config::{ClientCore, MAX_REDIRECTS, Secret};
use super::error::{Error, ErrorKind, Result, human};
use super::operation::{Auth, ErrorFormat, Operation, Platform, ResponseKind};
use super::request::{Body, Request};
use super::retry::{Decision, Failure, Policy};

/// A buffered answer: status, headers and the whole (capped) body.
#[derive(Debug)]
pub(crate) struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub request_id: Option<String>,
}

/// An open streaming answer (2xx, body unread). Internal (nominally public so that the
/// generated stream parameters can name what an opener returns).
#[doc(hidden)]
pub struct Streaming {
    pub(crate) response: reqwest::Response,
}

/// Sends `req`, retrying as the policy allows, and reads the whole body.
pub(crate) async fn send(core: &ClientCore, req: &Request) -> Result<Raw> {
    match execute(core, req, Mode::Buffered).await? {
        Outcome::Buffered(raw) => Ok(raw),
        Outcome::Stream(_) => Err(Error::new(ErrorKind::Stream, "unexpected stream")),
    }
}

/// Sends `req` with `Accept: text/event-stream`, retrying as the policy allows, and returns the
/// open response once a 2xx arrives. The per-attempt timeout covers only reaching the headers.
pub(crate) async fn open_stream(core: &ClientCore, req: &Request) -> Result<Streaming> {
    match execute(core, req, Mode::Stream).await? {
        Outcome::Stream(s) => Ok(s),
        Outcome::Buffered(_) => Err(Error::new(ErrorKind::Stream, "unexpected body")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Buffered,
    Stream,
}

enum Outcome {
    Buffered(Raw),
    Stream(Streaming),
}

/// What stays the same on every attempt of one call.
struct Prepared {
    method: reqwest::Method,
    url: Url,
    headers: HeaderMap,
    request_id: Option<String>,
}

async fn execute(core: &ClientCore, req: &Request, mode: Mode) -> Result<Outcome> {
    let platform = core.platform;
    let op = req.op;
    let prepared = prepare(core, req, mode).map_err(|e| e.for_op(platform, op))?;
    let span = tracing::info_span!(
        "agentwire.request",
        platform = platform.name,
        operation = op.id,
        method = op.method.as_str(),
        request_id = prepared.request_id.as_deref().unwrap_or(""),
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    run_attempts(core, req, mode, &prepared)
        .instrument(span)
        .await
        .map_err(|e| {
            let e = match credential_hint(platform, op) {
                Some(hint) if e.kind() == ErrorKind::Authentication => e.with_hint(&hint),
                _ => e,
            };
            e.for_op(platform, op)
                .with_request_id(prepared.request_id.clone())
        })
}

async fn run_attempts(
    core: &ClientCore,
    req: &Request,
    mode: Mode,
    prepared: &Prepared,
) -> Result<Outcome> {
    let config = &core.config;
    let clock = &config.clock;
    let started = clock.monotonic();
    let deadline = req.options.deadline.unwrap_or(config.deadline);
    let upload = matches!(&req.body, Body::Form(form) if form.multipart);
    let per_attempt = req.options.timeout.unwrap_or(if upload {
        config.upload_timeout
    } else {
        config.timeout
    });
    let policy = Policy {
        max_retries: req.options.max_retries.unwrap_or(config.max_retries),
        base: config.backoff_base,
        cap: config.backoff_cap,
        max_hint: config.max_retry_after,
    };
    let elapsed = || clock.monotonic().saturating_sub(started);

    let mut retries_done = 0u32;
    let mut refreshed = false;
    loop {
        let left = deadline.saturating_sub(elapsed());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("the call's {} deadline passed", human(deadline)),
            ));
        }
        let timeout = per_attempt.min(left);
        tracing::Span::current().record("attempt", retries_done + 1);
        let begun = Instant::now();
        let in_use = refreshable_credential(core, req);
        let result = attempt(core, req, mode, prepared, timeout).await;
        tracing::Span::current().record("duration_ms", begun.elapsed().as_millis() as u64);
        let (error, failure) = match result {
            Ok(outcome) => return Ok(outcome),
            Err(pair) => pair,
        };
        // A refused token that the provider can refresh: one refresh (shared with the calls
        // that hit the same 401), then the call goes again at once — a 401 applied nothing.
        if !refreshed
            && error.kind() == ErrorKind::Authentication
            && let Some((name, stale)) = &in_use
            && let Some(refresh) = config.credentials.refresh(name, stale)
        {
            refreshed = true;
            match refresh.await {
                Ok(()) => continue,
                Err(e) => {
                    return Err(error.with_hint(&format!(
                        "refreshing the {} failed: {}",
                        name.replace('_', " "),
                        e.message()
                    )));
                }
            }
        }
        let error = error.applied(req.op.method.is_write() && failure.may_have_been_applied);
        match policy.decide(retries_done, failure, req.op.resend_safe()) {
            Decision::RetryAfter(delay) => {
                if elapsed() + delay >= deadline {
                    return Err(error);
                }
                tracing::debug!(
                    delay_ms = delay.as_millis() as u64,
                    error = %error,
                    "retrying"
                );
                clock.sleep(delay).await;
                retries_done += 1;
            }
            Decision::Permanent | Decision::Exhausted => return Err(error),
        }
    }
}

/// One attempt: the request (and the redirects it may follow), then the answer read and
/// classified.
async fn attempt(
    core: &ClientCore,
    req: &Request,
    mode: Mode,
    prepared: &Prepared,
    timeout: Duration,
) -> std::result::Result<Outcome, (Error, Failure)> {
    let exchange = async {
        let response = exchange_following_redirects(core, req, prepared).await?;
        let status = response.status();
        tracing::Span::current().record("status", status.as_u16());
        let max = core.config.max_response_bytes;
        if !status.is_success() {
            return Err(classify(core, req.op, response).await);
        }
        match mode {
            Mode::Stream => {
                if is_event_stream(response.headers()) {
                    return Ok(Outcome::Stream(Streaming { response }));
                }
                let headers = response.headers().clone();
                let (body, truncated) = read_truncated(response, max).await?;
                let error = Error::not_a_stream(errors_of(core, req.op), status, headers, body)
                    .truncated(truncated);
                Err((error, permanent_after_answer()))
            }
            Mode::Buffered => {
                let request_id =
                    response_request_id(response.headers()).or(prepared.request_id.clone());
                let headers = response.headers().clone();
                let body = read_capped(response, max).await?;
                Ok(Outcome::Buffered(Raw {
                    status,
                    headers,
                    body,
                    request_id,
                }))
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err((
            Error::new(
                ErrorKind::Timeout,
                format!("no complete answer within {}", human(timeout)),
            ),
            Failure {
                retryable: true,
                may_have_been_applied: true,
                hint: None,
            },
        )),
    }
}

/// Builds one request for `url`: the call's headers, the credentials as they are now (asked of
/// the provider on every attempt), a fresh body from the factory.
fn build_request(
    core: &ClientCore,
    req: &Request,
    prepared: &Prepared,
    url: &Url,
) -> std::result::Result<reqwest::Request, (Error, Failure)> {
    let mut request = reqwest::Request::new(prepared.method.clone(), url.clone());
    *request.headers_mut() = prepared.headers.clone();
    apply_auth(core, req, &mut request).map_err(|e| (e, permanent()))?;
    match &req.body {
        Body::Empty => {}
        Body::Json(bytes) => *request.body_mut() = Some(reqwest::Body::from(bytes.clone())),
        Body::Form(form) if !form.multipart => {
            request.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            *request.body_mut() = Some(reqwest::Body::from(form.urlencoded()));
        }
        // A multipart body is built anew for every attempt (files reopened, streamed); reqwest
        // writes its boundary and, the parts' sizes being known, its length.
        Body::Form(form) => {
            let multipart = form.multipart().map_err(|e| (e, permanent()))?;
            let built = core
                .http
                .request(prepared.method.clone(), url.clone())
                .multipart(multipart)
                .build()
                .map_err(|e| transport(e, Some(url)))?;
            let (headers, body) = (built.headers().clone(), built.body().is_some());
            for name in [CONTENT_TYPE, reqwest::header::CONTENT_LENGTH] {
                if let Some(value) = headers.get(&name) {
                    request.headers_mut().insert(name, value.clone());
                }
            }
            if body {
                let mut built = built;
                *request.body_mut() = built.body_mut().take();
            }
        }
    }
    Ok(request)
}

/// Sends the request and follows redirects by the rules of the module docs.
async fn exchange_following_redirects(
    core: &ClientCore,
    req: &Request,
    prepared: &Prepared,
) -> std::result::Result<reqwest::Response, (Error, Failure)> {
    let write = req.op.method.is_write();
    let mut url = prepared.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let request = build_request(core, req, prepared, &url)?;
        let response = core
            .http
            .execute(request)
            .await
            .map_err(|e| transport(e, Some(&url)))?;
        let status = response.status();
        // An injected client may have followed a redirect itself (turning a POST into a GET):
        // whatever it answered is not the result of this write.
        if write && !core.config.own_http && response.url() != &url {
            let location = shown_url(response.url());
            return Err(redirect_refused(
                status,
                &location,
                "the HTTP client followed a redirect of a write; its answer is not the write's result",
            ));
        }
        if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return Ok(response);
        }
        let Some(location) = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(response); // a redirect without a target: classified as an answer
        };
        let Ok(target) = url.join(location) else {
            return Err(redirect_refused(
                status,
                location,
                "the redirect target is not a valid URL",
            ));
        };
        let shown = shown_url(&target);
        if target.origin() != url.origin() {
            return Err(redirect_refused(
                status,
                &shown,
                "a redirect to another origin is never followed, so no credential leaves the platform",
            ));
        }
        if write && matches!(status.as_u16(), 301..=303) {
            return Err(redirect_refused(
                status,
                &shown,
                "following it would turn the write into a GET without its body",
            ));
        }
        url = target;
    }
    Err((
        Error::new(
            ErrorKind::Other,
            format!("more than {MAX_REDIRECTS} redirects"),
        )
        .not_retryable(),
        permanent_after_answer(),
    ))
}

/// A URL as errors show it: without its query (it may carry a ticket) or fragment.
fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.query().is_some() {
        shown.set_query(Some("…"));
    }
    shown.set_fragment(None);
    shown.to_string()
}

fn redirect_refused(status: StatusCode, location: &str, why: &str) -> (Error, Failure) {
    let error = Error::new(
        ErrorKind::Other,
        format!(
            "the server answered {} with Location {location}: {why}",
            status.as_u16()
        ),
    )
    .with_status(status)
    .not_retryable();
    (error, permanent_after_answer())
}

/// Reads and classifies a non-2xx answer. Status and headers decide; an oversized body is
/// truncated to the cap (and the error says so), never a reason to misclassify.
async fn classify(
    core: &ClientCore,
    op: &'static Operation,
    response: reqwest::Response,
) -> (Error, Failure) {
    let status = response.status();
    let headers = response.headers().clone();
    let (body, truncated) = match read_truncated(response, core.config.max_response_bytes).await {
        Ok(read) => read,
        Err(pair) => return pair,
    };
    let error = Error::from_response(
        errors_of(core, op),
        status,
        headers,
        body,
        core.config.clock.now(),
    )
    .truncated(truncated);
    let code = status.as_u16();
    let retryable = matches!(code, 408 | 429) || (status.is_server_error() && code != 501);
    // A 408 or 429 was turned away before processing; other answers may have been acted on.
    let failure = Failure {
        retryable,
        may_have_been_applied: !matches!(code, 408 | 429),
        hint: error.retry_after(),
    };
    let error = if retryable {
        error
    } else {
        error.not_retryable()
    };
    (error, failure)
}

/// The error format of the host `op` is sent to.
fn errors_of(core: &ClientCore, op: &'static Operation) -> &'static ErrorFormat {
    core.platform
        .host_of(op)
        .map_or(&ErrorFormat::DEFAULT, |h| h.errors)
}

/// Whether a response's Content-Type is `text/event-stream` (any parameters, any letter case).
fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

/// The server answered and the answer is final: not retried, and (for a write) it may have been
/// applied.
fn permanent_after_answer() -> Failure {
    Failure {
        retryable: false,
        may_have_been_applied: true,
        hint: None,
    }
}

fn permanent() -> Failure {
    Failure {
        retryable: false,
        may_have_been_applied: false,
        hint: None,
    }
}

/// Classifies a transport failure. The message names the host (never the path or query, which
/// may hold a ticket) and the innermost cause (`Connection refused`, a DNS failure), so it can
/// be acted on without walking `source()`; the URL is dropped from the source error.
fn transport(e: reqwest::Error, url: Option<&Url>) -> (Error, Failure) {
    let connect = e.is_connect();
    let timeout = e.is_timeout();
    let (kind, what) = if timeout {
        (ErrorKind::Timeout, "the request timed out")
    } else if connect {
        (ErrorKind::Connection, "could not connect")
    } else if e.is_builder() {
        (ErrorKind::InvalidInput, "the request could not be built")
    } else {
        (ErrorKind::Connection, "the connection failed")
    };
    let builder = e.is_builder();
    let e = e.without_url();
    let mut message = what.to_owned();
    if let Some(host) = url.and_then(Url::host_str) {
        let port = url
            .and_then(Url::port)
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        message.push_str(&format!(" to {host}{port}"));
    }
    if let Some(cause) = root_cause(&e) {
        message.push_str(": ");
        message.push_str(&cause);
    }
    let error = Error::new(kind, message).with_source(e);
    let failure = Failure {
        retryable: !builder,
        may_have_been_applied: !connect && !builder,
        hint: None,
    };
    (error, failure)
}

/// The innermost cause of an error chain (`Connection refused (os error 111)`), when it says
/// more than the error itself.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = e.source()?;
    // Bounded: a chain is a handful of links; a cyclic one must not hang us.
    for _ in 0..32 {
        match current.source() {
            Some(next) => current = next,
            None => break,
        }
    }
    Some(current.to_string())
}

/// Reads a whole body, failing once it passes `max` bytes. Never trusts Content-Length for the
/// allocation: a hostile length cannot make us reserve memory.
async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> std::result::Result<Bytes, (Error, Failure)> {
    let mut buf = BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > max {
                    let error = Error::new(
                        ErrorKind::Decode,
                        format!("the response body is larger than the {max}-byte limit"),
                    )
                    .with_status(response.status());
                    return Err((error.not_retryable(), permanent()));
                }
                if buf.is_empty() {
                    // The common single-chunk body: keep it without copying.
                    buf = BytesMut::from(chunk.as_ref());
                } else {
                    buf.extend_from_slice(&chunk);
                }
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => {
                let (error, mut failure) = transport(e, None);
                failure.may_have_been_applied = true;
                return Err((error, failure));
            }
        }
    }
}

/// Reads a body up to `max` bytes, dropping the rest: the bytes kept and whether any were cut.
/// For error answers, whose classification must not depend on their size.
async fn read_truncated(
    mut response: reqwest::Response,
    max: usize,
) -> std::result::Result<(Bytes, bool), (Error, Failure)> {
    let mut buf = BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = max.saturating_sub(buf.len());
                if chunk.len() > room {
                    buf.extend_from_slice(&chunk[..room]);
                    return Ok((buf.freeze(), true));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok((buf.freeze(), false)),
            Err(e) => {
                let (error, mut failure) = transport(e, None);
                failure.may_have_been_applied = true;
                return Err((error, failure));
            }
        }
    }
}

fn response_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An absolute URL given for an operation sent to one (`x-agentwire-absolute-url`): `http` or
/// `https`, with a host and no credentials in it.
fn absolute_url(text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| {
        Error::invalid_input(format!("the URL to send to is not an absolute URL ({e})"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid_input(format!(
            "the URL to send to must be http or https with a host, not `{}:`",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            "the URL to send to must not carry credentials",
        ));
    }
    Ok(url)
}

fn prepare(core: &ClientCore, req: &Request, mode: Mode) -> Result<Prepared> {
    req.options.check()?;
    super::checks::check(req)?;
    let platform = core.platform;
    let op = req.op;
    let config = &core.config;
    let base = config
        .hosts
        .get(op.host)
        .ok_or_else(|| Error::invalid_input(format!("operation {} names no known host", op.id)))?;

    let mut url = match &req.url {
        // An absolute URL an earlier answer handed out (a presigned upload): its own query
        // stays, the operation's is added.
        Some(absolute) => absolute_url(absolute)?,
        // A host the platform publishes no URL for is written on the reserved `.invalid` domain
        // (RFC 2606) in its spec: the caller must say where it is.
        None if base.host_str().is_some_and(|h| h.ends_with(".invalid")) => {
            let host = platform.hosts.get(op.host);
            return Err(Error::invalid_input(format!(
                "{} has no known URL for its `{}` host: set {} or the builder's host_url({:?}, ..)",
                platform.display_name,
                host.map_or("", |h| h.name),
                host.map_or("its variable", |h| h.env),
                host.map_or("", |h| h.name),
            )));
        }
        None => {
            let mut url = base.clone();
            let path = format!("{}{}", base.path().trim_end_matches('/'), req.path);
            url.set_path(&path);
            url.set_query(None);
            url
        }
    };
    if !req.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &req.query {
            pairs.append_pair(name, value);
        }
    }

    // The client's default headers are the platform's; none goes to a URL from an answer,
    // which may be anyone's (they can carry credentials).
    let mut headers = if req.url.is_some() {
        HeaderMap::new()
    } else {
        config.default_headers.clone()
    };
    headers.insert(USER_AGENT, config.user_agent.clone());
    headers.insert(
        ACCEPT,
        HeaderValue::from_static(match (mode, op.response) {
            (Mode::Stream, _) => "text/event-stream",
            // Text and bytes: whatever the operation sends (a script, a page, a file).
            (Mode::Buffered, ResponseKind::Text | ResponseKind::Bytes) => "*/*",
            (Mode::Buffered, _) => "application/json",
        }),
    );
    match &req.body {
        Body::Empty => {}
        Body::Json(_) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Body::Form(_) => {} // per attempt: a multipart boundary is new each time
    }

    let omitted = |name: &str| op.omit_headers.iter().any(|h| h.eq_ignore_ascii_case(name));

    let mut request_id = None;
    if let Some(header) = platform.request_id_header.filter(|h| !omitted(h)) {
        let name = header_name(header)?;
        let id = req
            .options
            .request_id
            .clone()
            .or_else(|| header_string(&req.options.headers, &name))
            .or_else(|| header_string(&config.default_headers, &name))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        headers.insert(
            name,
            HeaderValue::from_str(&id).map_err(|_| Error::invalid_input("invalid request id"))?,
        );
        request_id = Some(id);
    }

    if let Some(header) = platform.idempotency_header.filter(|h| !omitted(h))
        && op.method.is_write()
    {
        let name = header_name(header)?;
        let retries = req.options.max_retries.unwrap_or(config.max_retries);
        let key = req
            .options
            .idempotency_key
            .clone()
            .or_else(|| header_string(&req.options.headers, &name))
            .or_else(|| (retries > 0).then(|| uuid::Uuid::new_v4().to_string()));
        if let Some(key) = key {
            headers.insert(
                name,
                HeaderValue::from_str(&key)
                    .map_err(|_| Error::invalid_input("invalid idempotency key"))?,
            );
        }
    }

    for (name, value) in &req.headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, value) in &req.options.headers {
        headers.insert(name.clone(), value.clone());
    }
    for name in op.omit_headers {
        headers.remove(*name);
    }

    Ok(Prepared {
        method: op.method.to_http(),
        url,
        headers,
        request_id,
    })
}

/// Adds the credentials of the operation's first auth alternative that can be satisfied now:
/// every credential it names is configured (asked of the provider), or — with a per-call
/// bearer token — the alternative that sends `Authorization: Bearer`. Public operations send
/// none; a caller's own `Authorization` header (without a bearer token) replaces table auth. A
/// header the caller set for this call is never overwritten.
fn apply_auth(core: &ClientCore, req: &Request, request: &mut reqwest::Request) -> Result<()> {
    let op = req.op;
    let bearer = req.options.bearer.as_ref();
    if op.auth.is_empty() {
        return match bearer {
            Some(_) => Err(Error::invalid_input(format!(
                "{} is public: it takes no bearer token",
                op.id
            ))),
            None => Ok(()),
        };
    }
    if bearer.is_none() && req.options.headers.contains_key(AUTHORIZATION) {
        return Ok(());
    }
    let provider = &core.config.credentials;
    let value = |auth: &Auth| match (auth, bearer) {
        (Auth::Bearer(_), Some(token)) => Some(token.clone()),
        _ => provider.credential(auth.credential()),
    };
    let chosen = op
        .auth
        .iter()
        .filter(|alt| bearer.is_none() || alt.iter().any(|a| matches!(a, Auth::Bearer(_))))
        .find_map(|alt| {
            alt.iter()
                .map(|a| value(a).map(|v| (*a, v)))
                .collect::<Option<Vec<_>>>()
        });
    let Some(values) = chosen else {
        if bearer.is_some() {
            return Err(Error::invalid_input(format!(
                "{} takes no bearer token (its auth sends {})",
                op.id,
                describe_auth(op.auth)
            )));
        }
        let variables: Vec<&str> = op
            .auth
            .iter()
            .flat_map(|alt| alt.iter())
            .filter_map(|a| core.platform.credential(a.credential()).map(|c| c.env))
            .fold(Vec::new(), |mut seen, env| {
                if !seen.contains(&env) {
                    seen.push(env);
                }
                seen
            });
        return Err(Error::invalid_input(format!(
            "no credentials for {}: configure {} on the client builder (or set {} and use `with_env()`)",
            op.id,
            describe_auth(op.auth),
            variables.join(" or ")
        )));
    };
    for (auth, secret) in values {
        match auth {
            Auth::Bearer(_)
                if !req.options.headers.contains_key(AUTHORIZATION) || bearer.is_some() =>
            {
                let value = sensitive(&format!("Bearer {}", secret.expose()))?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            Auth::Bearer(_) => {}
            Auth::Header(name, _) => {
                let name = header_name(name)?;
                if !req.options.headers.contains_key(&name) {
                    request
                        .headers_mut()
                        .insert(name, sensitive(secret.expose())?);
                }
            }
            Auth::Query(name, _) => {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair(name, secret.expose());
            }
        }
    }
    Ok(())
}

/// For an operation that takes fewer of the platform's credentials than others do (Wisebot's
/// API keys list: the dashboard access token, not a `wb_live_` key), which ones it takes and
/// their variables — a 401 there often means the client holds the other kind.
fn credential_hint(platform: &Platform, op: &Operation) -> Option<String> {
    let takes: Vec<&str> = op
        .auth
        .iter()
        .flat_map(|alt| alt.iter().map(|a| a.credential()))
        .collect();
    let narrower = platform
        .operations
        .iter()
        .flat_map(|o| {
            o.auth
                .iter()
                .flat_map(|alt| alt.iter().map(|a| a.credential()))
        })
        .any(|c| !takes.contains(&c));
    if takes.is_empty() || !narrower {
        return None;
    }
    let named: Vec<String> = takes
        .iter()
        .fold(Vec::new(), |mut seen: Vec<&str>, c| {
            if !seen.contains(c) {
                seen.push(c);
            }
            seen
        })
        .iter()
        .map(|c| match platform.credential(c) {
            Some(credential) => format!("`{c}` ({})", credential.env),
            None => format!("`{c}`"),
        })
        .collect();
    Some(format!("{} takes {} only", op.id, named.join(" or ")))
}

/// The bearer credential this attempt sends, by name with its value, when it comes from the
/// provider (which may refresh it); `None` for a per-call token or the caller's own header.
fn refreshable_credential(core: &ClientCore, req: &Request) -> Option<(&'static str, Secret)> {
    if req.options.bearer.is_some() || req.options.headers.contains_key(AUTHORIZATION) {
        return None;
    }
    let provider = &core.config.credentials;
    let may_refresh = req
        .op
        .auth
        .iter()
        .flat_map(|alt| alt.iter())
        .any(|a| matches!(a, Auth::Bearer(_)) && provider.refreshes(a.credential()));
    if !may_refresh {
        return None;
    }
    let chosen: Vec<(Auth, Secret)> = req.op.auth.iter().find_map(|alt| {
        alt.iter()
            .map(|a| provider.credential(a.credential()).map(|v| (*a, v)))
            .collect::<Option<Vec<_>>>()
    })?;
    chosen
        .into_iter()
        .find(|(a, _)| matches!(a, Auth::Bearer(_)))
        .map(|(a, v)| (a.credential(), v))
}

/// The auth alternatives of an operation, as a sentence: `api_key or access_token`.
fn describe_auth(alternatives: &[&[Auth]]) -> String {
    alternatives
        .iter()
        .map(|alt| {
            alt.iter()
                .map(|a| a.credential())
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| Error::invalid_input("a credential cannot be sent in a header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A header name from the operation table (a spec typo surfaces as InvalidInput, not a panic).
fn header_name(name: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::invalid_input(format!(
            "invalid header name {name:?} in the operation table"
        ))
    })
}

fn header_string(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
