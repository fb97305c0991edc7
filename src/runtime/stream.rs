//! Typed event streams: the response kind [`Events<E>`] of every operation that answers
//! Server-Sent Events, written once for every platform.
//!
//! Each stream operation's spec declares an event map (`x-agentwire-stream`, see
//! `openapi/README.md`), from which build.rs generates the operation's event enum `E` — one
//! variant per event type holding its typed data, plus `Other(sse::Event)` for what the map does
//! not declare — and the table's [`StreamSpec`]. Here every event is read by that map:
//!
//! 1. a data line the map names as terminal (`[DONE]`) ends the stream: `None`, nothing yielded;
//! 2. the event's type is the map's type member of its JSON data (`type`) where it has one, else
//!    its SSE event name;
//! 3. a heartbeat type is consumed, never yielded;
//! 4. a declared type is decoded as its schema — data that does not match is a `Decode` error
//!    naming the event, and the stream goes on;
//! 5. anything else is yielded as `Other`, as it came — unless its data is not JSON and the map
//!    says that is an error (`non-json: error`);
//! 6. a terminal type (`RUN_FINISHED`) is yielded, then the stream ends with `None`.
//!
//! How a connection ends matters as much: a stream with an end marker that loses its connection
//! (or is closed) before the marker is a `Stream` error — or, where the spec declares `resume`,
//! it reconnects after the last delivered event (`runtime::resume`); a stream without a marker
//! ends at a clean close it does not resume. Each connection is opened by the operation's own
//! request (the position in its resume parameter), or by a hand-written opener the spec names
//! (`x-agentwire-stream.opener`: BimpeAI takes a ticket first).

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::call::{Call, Params};
use super::config::{BoxFuture, ClientCore};
use super::error::{Error, ErrorKind, Result};
use super::operation::{NonJson, Operation, Platform, StreamResume, StreamSpec};
use super::options::CallOptions;
use super::request::{Request, path_segment};
use super::resume::{Reopen, ResumeSettings, Step, open_resumable};
use super::retry::Policy;
use super::send::{Streaming, open_stream};
use super::sse::{DEFAULT_MAX_EVENT_BYTES, Event};

/// Default reconnect budget of a resumable stream: consecutive failed connections before it
/// gives up.
pub const DEFAULT_RECONNECT_BUDGET: u32 = 5;

/// Response kind: a stream of events `E` (the operation's generated event enum). `open()` — or
/// awaiting the builder — connects and resolves to an [`EventStream<E>`].
pub struct Events<E> {
    settings: StreamSettings,
    _event: PhantomData<fn() -> E>,
}

/// What a stream builder sets beyond the per-call options.
#[derive(Debug, Clone)]
struct StreamSettings {
    after: Option<String>,
    reconnect: bool,
    budget: u32,
    idle_timeout: Option<Duration>,
    reconnect_deadline: Option<Duration>,
}

impl<E> Default for Events<E> {
    fn default() -> Self {
        Events {
            settings: StreamSettings {
                after: None,
                reconnect: true,
                budget: DEFAULT_RECONNECT_BUDGET,
                idle_timeout: None,
                reconnect_deadline: None,
            },
            _event: PhantomData,
        }
    }
}

/// An event enum generated from a stream's event map. Internal: implemented by generated code.
#[doc(hidden)]
pub trait EventEnum: Sized + Send + 'static {
    /// The data of an event of a declared type decoded as its schema; `None` for a type the
    /// enum has no variant for.
    fn decode(event_type: &str, data: &str) -> Option<serde_json::Result<Self>>;
    /// An event kept as it came (its type is not declared).
    fn other(event: Event) -> Self;
    /// Whether this is an event of `event_type` (an undeclared one: by its SSE event name).
    fn is_type(&self, event_type: &str) -> bool;
}

/// The parameters of a stream operation. Internal: implemented by generated code.
#[doc(hidden)]
pub trait StreamParams: Params {
    /// The hand-written opener the spec names (`x-agentwire-stream.opener`), if any.
    fn opener(&self) -> Option<Opener> {
        None
    }
}

/// A hand-written opener and what it needs from the builder. Internal: built by generated code.
#[doc(hidden)]
pub struct Opener {
    /// A function of the platform module: given the builder's request, the [`Reopen`] that
    /// opens each connection.
    pub open: fn(StreamOpen) -> Result<Arc<dyn Reopen>>,
    /// The path parameters by name, as the caller gave them (not encoded).
    pub path_params: Vec<(&'static str, String)>,
}

/// What a hand-written opener is given. Internal.
#[doc(hidden)]
#[allow(
    dead_code,
    reason = "read by hand-written stream openers, which a build's platforms may not have"
)]
pub struct StreamOpen {
    pub(crate) core: Arc<ClientCore>,
    /// The stream operation's request as the builder filled it: its path, its query (without
    /// the parameters the opener supplies or the resume position) and the per-call options.
    pub(crate) request: Request,
    path_params: Vec<(&'static str, String)>,
}

#[allow(
    dead_code,
    reason = "used by hand-written stream openers, which a build's platforms may not have"
)]
impl StreamOpen {
    /// A request for another operation of the platform at the same path parameters (a stream's
    /// ticket, say), each parameter percent-encoded and checked.
    pub(crate) fn request_for(
        &self,
        op: &'static Operation,
        options: CallOptions,
    ) -> Result<Request> {
        let mut path = String::new();
        let mut rest = op.path;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 1..start + len];
            let value = self
                .path_params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| {
                    Error::invalid_input(format!("no value for path parameter `{name}`"))
                })?;
            path.push_str(&rest[..start]);
            path.push_str(&path_segment(name, value)?);
            rest = &rest[start + len + 1..];
        }
        path.push_str(rest);
        Ok(Request::new(op, path, options))
    }
}

impl<E: EventEnum, P: StreamParams> Call<Events<E>, P> {
    /// Starts after this event id (or, where the platform takes one, an ISO-8601 time): only
    /// what came after it is sent. For streams that can be resumed (`resume` in the spec); on
    /// another, `open()` fails with `InvalidInput`.
    pub fn after(mut self, position: impl Into<String>) -> Self {
        self.kind.settings.after = Some(position.into());
        self
    }

    /// Whether to reconnect — resuming after the last delivered event — when the connection
    /// drops or the server closes it before the end (default `true`). Only streams the spec
    /// declares resumable ever reconnect. Without it, a close ends the stream (a `Stream` error
    /// where the stream has an end marker it did not reach) and a drop is an error.
    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.kind.settings.reconnect = reconnect;
        self
    }

    /// Consecutive failed connections allowed before the stream gives up (default
    /// [`DEFAULT_RECONNECT_BUDGET`], 5); it resets on every delivered event. The retries of each
    /// single open are the call's `max_retries` (default 0 on a resumable stream, where this
    /// budget retries instead; the client's `max_retries` on any other).
    pub fn reconnect_budget(mut self, budget: u32) -> Self {
        self.kind.settings.budget = budget;
        self
    }

    /// Silence allowed between two reads before the connection counts as lost (default: the
    /// client's `stream_idle_timeout`, 90 s); it ends with a `Timeout` error where the stream is
    /// not resumed. Heartbeats count as reads.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.kind.settings.idle_timeout = Some(timeout);
        self
    }

    /// Bound on the time spent reconnecting without delivering an event (default: the client's
    /// `reconnect_deadline`, 180 s). Past it the stream ends with a `Timeout` error.
    pub fn reconnect_deadline(mut self, deadline: Duration) -> Self {
        self.kind.settings.reconnect_deadline = Some(deadline);
        self
    }

    /// Connects and returns the stream of events. Awaiting the builder does the same.
    ///
    /// Errors: `InvalidInput` before sending (a bad parameter or option, `after` on a stream
    /// that cannot be resumed); `Stream` when the answer is not `text/event-stream`; otherwise
    /// what the first connection failed with, after the retries and reconnects it allows.
    pub fn open(self) -> impl Future<Output = Result<EventStream<E>>> + Send + 'static {
        let (platform, op) = (self.core.platform, self.op);
        let setup = self.setup();
        async move {
            let (opener, settings, after, spec) = setup.map_err(|e| e.or_op(platform, op))?;
            connect(platform, op, spec, opener, settings, after).await
        }
    }

    /// Everything `open()` decides before sending: the opener, how to resume, the first position.
    #[allow(clippy::type_complexity)]
    fn setup(
        self,
    ) -> Result<(
        Arc<dyn Reopen>,
        ResumeSettings,
        Option<String>,
        &'static StreamSpec,
    )> {
        let op = self.op;
        let spec = op.stream.ok_or_else(|| {
            Error::invalid_input(format!("{} does not answer an event stream", op.id))
        })?;
        let resumable = spec.resume.is_some();
        let wanted = self.kind.settings.clone();
        if wanted.after.is_some() && !resumable {
            return Err(Error::invalid_input(format!(
                "{} cannot be resumed, so it cannot start `after` a position",
                op.id
            )));
        }
        let mut options = self.options.clone();
        if resumable && options.max_retries.is_none() {
            // The reconnect budget retries a resumable stream; each open tries once.
            options.max_retries = Some(0);
        }
        let mut request = self.request(options)?;
        if let Some(flag) = spec.body_flag {
            request.set_body_flag(flag, true)?;
        }
        let core = self.core.clone();
        let opener: Arc<dyn Reopen> = match self.params.opener() {
            Some(opener) => (opener.open)(StreamOpen {
                core: core.clone(),
                request,
                path_params: opener.path_params,
            })?,
            None => Arc::new(SpecOpener {
                core: core.clone(),
                request,
                resume: spec.resume,
            }),
        };
        let settings = resume_settings(&core, spec, &wanted);
        Ok((opener, settings, wanted.after, spec))
    }
}

/// How a stream of `spec` reconnects and reads, from the builder's settings and the client's.
fn resume_settings(
    core: &ClientCore,
    spec: &'static StreamSpec,
    wanted: &StreamSettings,
) -> ResumeSettings {
    let config = &core.config;
    ResumeSettings {
        reconnect: wanted.reconnect && spec.resume.is_some(),
        budget: wanted.budget,
        idle_timeout: wanted.idle_timeout.unwrap_or(config.stream_idle_timeout),
        flush_at_eof: spec.flush_at_eof,
        ends_with_marker: spec.ends_with_marker(),
        backoff: Policy {
            max_retries: wanted.budget,
            base: config.backoff_base,
            cap: config.backoff_cap,
            max_hint: config.max_retry_after,
        },
        reconnect_deadline: wanted
            .reconnect_deadline
            .unwrap_or(config.reconnect_deadline),
        clock: config.clock.clone(),
        max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
    }
}

/// Opens `op`'s event stream with a request other code built (a task's follow-on stream), with
/// the default stream settings.
pub(crate) async fn open_with<E: EventEnum>(
    core: Arc<ClientCore>,
    op: &'static Operation,
    request: Request,
) -> Result<EventStream<E>> {
    let platform = core.platform;
    let spec = op.stream.ok_or_else(|| {
        Error::invalid_input(format!("{} does not answer an event stream", op.id))
    })?;
    let settings = resume_settings(&core, spec, &Events::<E>::default().settings);
    let opener = Arc::new(SpecOpener {
        core,
        request,
        resume: spec.resume,
    });
    connect(platform, op, spec, opener, settings, None).await
}

/// Opens the first connection and reads every event by the operation's event map; every error
/// names the operation.
async fn connect<E: EventEnum>(
    platform: &'static Platform,
    op: &'static Operation,
    spec: &'static StreamSpec,
    opener: Arc<dyn Reopen>,
    settings: ResumeSettings,
    after: Option<String>,
) -> Result<EventStream<E>> {
    let events = open_resumable(opener, settings, after, move |event| {
        step::<E>(platform, op, spec, event)
    })
    .await
    .map_err(|e| e.or_op(platform, op))?;
    let inner = events
        .map(move |item| item.map_err(|e| e.or_op(platform, op)))
        .boxed();
    Ok(EventStream { inner, done: false })
}

/// Response kind: one request that answers either a JSON result `T` or a stream of events `E`,
/// by a flag of its JSON body (`x-agentwire-stream.body-flag`: SketricGen's `run-workflow`
/// with `stream`). `send()` — or awaiting the builder — sends the flag `false` and resolves to
/// `T`; `stream()` turns the builder into a stream builder ([`Events<E>`]) that sends it `true`.
pub struct JsonOrEvents<T, E>(PhantomData<fn() -> (T, E)>);

impl<T, E> Default for JsonOrEvents<T, E> {
    fn default() -> Self {
        JsonOrEvents(PhantomData)
    }
}

impl<T, E, P> Call<JsonOrEvents<T, E>, P>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    E: EventEnum,
    P: StreamParams,
{
    /// Sends the request for its JSON result (the body's flag `false`, whatever the body
    /// says); resolves to the result. Awaiting the builder does the same.
    ///
    /// Errors: `InvalidInput` before sending (a bad parameter, body or option); otherwise every
    /// kind an answer can be classified as, after the retries the call allows.
    pub fn send(self) -> impl Future<Output = Result<T>> + Send + 'static {
        let call = self.send_with_response();
        async move { call.await.map(super::response::Response::into_inner) }
    }

    /// Sends the request for its JSON result; resolves to the result with its HTTP status,
    /// headers and request id.
    pub fn send_with_response(
        self,
    ) -> impl Future<Output = Result<super::response::Response<T>>> + Send + 'static {
        let (core, op) = (self.core.clone(), self.op);
        let request = self.request(self.options.clone()).and_then(|mut request| {
            if let Some(flag) = op.stream.and_then(|s| s.body_flag) {
                request.set_body_flag(flag, false)?;
            }
            Ok(request)
        });
        async move {
            let request = request.map_err(|e| e.for_op(core.platform, op))?;
            super::call::call_json(core, op, request).await
        }
    }

    /// The same request as a stream: the body's flag `true`, then everything a stream builder
    /// offers (`reconnect`, `idle_timeout`, ...) and `open()` — or awaiting it — for the
    /// [`EventStream`].
    pub fn stream(self) -> Call<Events<E>, P> {
        Call {
            core: self.core,
            op: self.op,
            options: self.options,
            params: self.params,
            kind: Events::default(),
        }
    }
}

impl<T, E, P> IntoFuture for Call<JsonOrEvents<T, E>, P>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    E: EventEnum,
    P: StreamParams,
{
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'static, Result<T>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<E: EventEnum, P: StreamParams> IntoFuture for Call<Events<E>, P> {
    type Output = Result<EventStream<E>>;
    type IntoFuture = BoxFuture<'static, Result<EventStream<E>>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.open())
    }
}

/// The events of one stream, typed by its event map: a fused `futures::Stream` of
/// `Result<E>`. It ends (`None`) at the stream's end marker, or — for a stream without one —
/// when the server closes it and it is not resumed; an error that ends it is yielded first. A
/// `Decode` error for one event does not end it. Drop it to stop (and close the connection).
#[must_use = "streams do nothing unless polled"]
pub struct EventStream<E> {
    inner: BoxStream<'static, Result<E>>,
    done: bool,
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<E> Stream for EventStream<E> {
    type Item = Result<E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let next = this.inner.poll_next_unpin(cx);
        if let Poll::Ready(None) = next {
            this.done = true;
        }
        next
    }
}

impl<E> FusedStream for EventStream<E> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

/// Opens each connection with the operation's own request, the position in its resume
/// parameter.
struct SpecOpener {
    core: Arc<ClientCore>,
    request: Request,
    resume: Option<StreamResume>,
}

impl Reopen for SpecOpener {
    fn open(&self, after: Option<String>) -> BoxFuture<'static, Result<Streaming>> {
        let core = self.core.clone();
        let mut request = self.request.clone();
        match (after, self.resume) {
            (Some(after), Some(StreamResume::Query(name))) => request.set_query(name, after),
            (Some(after), Some(StreamResume::Header(name))) => {
                request.options = std::mem::take(&mut request.options).header(name, after);
            }
            _ => {}
        }
        Box::pin(async move { open_stream(&core, &request).await })
    }
}

/// What one event means under the map (the module docs' rules, in order).
fn step<E: EventEnum>(
    platform: &'static Platform,
    op: &'static Operation,
    spec: &'static StreamSpec,
    event: Event,
) -> Step<E> {
    let data = event.data.trim();
    if spec.terminal_data.contains(&data) {
        return Step::End;
    }
    let (event_type, is_json) = event_type(spec, event.name(), &event.data);
    if spec.heartbeat.contains(&event_type.as_ref()) {
        return Step::Skip;
    }
    let last = spec.terminal.contains(&event_type.as_ref());
    let problem = match E::decode(&event_type, &event.data) {
        Some(Ok(typed)) => {
            return Step::Deliver {
                item: Ok(typed),
                last,
            };
        }
        Some(Err(e)) => format!(
            "a `{event_type}` event does not match its schema {}: {e}",
            spec.schema_of(&event_type).unwrap_or("?")
        ),
        None => {
            let is_json =
                is_json.unwrap_or_else(|| serde_json::from_str::<IgnoredAny>(&event.data).is_ok());
            if is_json || spec.non_json == NonJson::Raw {
                return Step::Deliver {
                    item: Ok(E::other(event)),
                    last,
                };
            }
            format!("the data of a `{event_type}` event is not JSON")
        }
    };
    let error = Error::new(ErrorKind::Decode, problem)
        .not_retryable()
        .with_body(Default::default(), Bytes::from(event.data))
        .for_op(platform, op);
    Step::Deliver {
        item: Err(error),
        last,
    }
}

/// An event's type under a stream's map, and whether its data is JSON where that had to be
/// found out: the map's type member of the JSON data when it is a string there, else the SSE
/// event name. Reads the data once, without building it (a hostile event costs a scan).
pub(crate) fn event_type<'a>(
    spec: &StreamSpec,
    sse_name: &'a str,
    data: &'a str,
) -> (Cow<'a, str>, Option<bool>) {
    let Some(member) = spec.type_member else {
        return (Cow::Borrowed(sse_name), None);
    };
    let mut de = serde_json::Deserializer::from_str(data);
    match TopLevel(member)
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found))
    {
        Ok(Some(found)) => (found, Some(true)),
        Ok(None) => (Cow::Borrowed(sse_name), Some(true)),
        Err(_) => (Cow::Borrowed(sse_name), Some(false)),
    }
}

/// Finds the string value of one member of a JSON object (`None` for any other value, or a
/// member that is absent or not a string); other members are skipped, not built.
struct TopLevel<'m>(&'m str);

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(is_member) = map.next_key_seed(KeyIs(self.0))? {
            if is_member && found.is_none() {
                found = map.next_value_seed(StringValue)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

/// Whether a key is the member sought (compared without allocating).
struct KeyIs<'m>(&'m str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E>(self, key: &str) -> std::result::Result<bool, E> {
        Ok(key == self.0)
    }
}

/// A member's value: the string (borrowed where the JSON has no escapes), or `None` for any
/// other value.
struct StringValue;

impl<'de> DeserializeSeed<'de> for StringValue {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringValue {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Self::Value, E> {
        Ok(Some(Cow::Owned(s.to_owned())))
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static BY_MEMBER: StreamSpec = StreamSpec {
        type_member: Some("type"),
        events: &[],
        heartbeat: &[],
        terminal: &[],
        terminal_data: &[],
        non_json: NonJson::Error,
        flush_at_eof: false,
        resume: None,
        body_flag: None,
        close_ends: false,
    };

    #[test]
    fn the_type_member_wins_else_the_event_name() {
        fn t(data: &str) -> (Cow<'_, str>, Option<bool>) {
            event_type(&BY_MEMBER, "message", data)
        }
        assert_eq!(
            t(r#"{"type":"finish","x":1}"#),
            ("finish".into(), Some(true))
        );
        assert_eq!(
            t(r#"{"a":[1,{"type":"no"}],"type":"text_delta"}"#).0,
            "text_delta"
        );
        assert_eq!(t(r#"{"type":"a\"b"}"#).0, "a\"b", "an escaped value");
        assert_eq!(t(r#"{"type":"first","type":"second"}"#).0, "first");
        assert_eq!(t(r#"{"type":7}"#), ("message".into(), Some(true)));
        assert_eq!(t(r#"{"kind":"x"}"#), ("message".into(), Some(true)));
        assert_eq!(t("[1,2]"), ("message".into(), Some(true)));
        assert_eq!(t("42"), ("message".into(), Some(true)));
        assert_eq!(t("[DONE]"), ("message".into(), Some(false)));
        assert_eq!(
            t(r#"{"type":"x"} trailing"#),
            ("message".into(), Some(false))
        );
        assert_eq!(t(""), ("message".into(), Some(false)));
    }

    #[test]
    fn deep_or_huge_data_is_scanned_without_recursion_trouble() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(event_type(&BY_MEMBER, "message", &deep).0, "message");
        let unclosed = "[".repeat(100_000);
        assert_eq!(event_type(&BY_MEMBER, "message", &unclosed).1, Some(false));
        let wide = format!(r#"{{"pad":"{}","type":"big"}}"#, "x".repeat(1 << 20));
        assert_eq!(event_type(&BY_MEMBER, "message", &wide).0, "big");
    }
}
