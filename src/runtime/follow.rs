//! Follow-on streams: a task operation whose progress another operation streams (Knowrithm's
//! chat: `POST …/chat` acknowledges a task, `GET …/messages/stream` streams its events). The
//! spec declares it (`x-agentwire-follow`: the stream operation, the acknowledgement members that
//! may hold its URL, and the event carrying the final result); the builder of such an operation
//! gets `stream()`, written here once:
//!
//! 1. the request is sent once (never again: it is a write), as `accepted()` does;
//! 2. the stream's URL is the caller's [`stream_url`](Call::stream_url), else the first of the
//!    acknowledgement's URL members, else the stream operation's own path with its parameters
//!    taken from the call's path parameters and the acknowledgement's members of the same names.
//!    A URL from the answer or the caller must be on the host's origin (it gets the platform's
//!    credentials); a WebSocket URL (`ws:`, `wss:`) cannot be read as Server-Sent Events;
//! 3. the events are yielded as they come, and the stream ends after the final event;
//! 4. where the stream cannot give the result — it ends or drops before the final event, or
//!    (with [`fallback_to_polling(true)`](Call::fallback_to_polling)) it cannot be opened because
//!    streaming is off (`503`) or its URL cannot be followed — the task is polled instead and its
//!    result is yielded as the final event. A result that came at once is yielded as the final
//!    event too, so a caller reads one shape whatever happened.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value;

use super::call::{Call, Params};
use super::error::{Error, ErrorKind, Result};
use super::request::{Request, path_segment};
use super::sse::Event;
use super::stream::{EventEnum, EventStream, open_with};
use super::task::{Accepted, Task, TaskHandle, poll_options, resolve_url};

/// The parameters of a task operation with a follow-on stream. Internal: implemented by
/// generated code.
#[doc(hidden)]
pub trait FollowParams: Params {
    /// The stream operation's event enum.
    type Event: EventEnum;
    /// The call's path parameters by name, as the caller gave them.
    fn path_params(&self) -> Vec<(&'static str, String)>;
}

impl<T, P: FollowParams> Call<Task<T>, P> {
    /// Follows the stream at this URL (absolute on the platform's origin, or a path under its
    /// base) instead of the one the acknowledgement names or the stream operation's own. It may
    /// be a template: each `{name}` is filled from the call's path parameter of that name, else
    /// the acknowledgement's member (Knowrithm's `{conversation_id}`, `{message_id}`,
    /// `{task_id}`), percent-encoded.
    pub fn stream_url(mut self, url: impl Into<String>) -> Self {
        self.kind.stream_url = Some(url.into());
        self
    }

    /// Whether `stream()` polls the task when the stream cannot be opened because streaming is
    /// off (`503`) or its URL cannot be followed (default `false`: that is an error). A stream
    /// that ends before the final event is always followed by polling.
    pub fn fallback_to_polling(mut self, fallback: bool) -> Self {
        self.kind.fallback = fallback;
        self
    }

    /// Sends the request, then follows the task's events on the declared stream operation
    /// instead of polling (see the module docs): two requests, the write sent once.
    ///
    /// Errors: as `accepted()`; opening the stream: `Unavailable` with status 503 when the
    /// platform's streaming is off — the signal to fall back to `send()`, or set
    /// [`fallback_to_polling`](Self::fallback_to_polling) — and whatever else the connection
    /// failed with. In the stream: a `Decode` error for one event (the stream goes on), and the
    /// task's errors (`Task`, with its id) when it is polled.
    pub fn stream(self) -> impl Future<Output = Result<FollowStream<P::Event>>> + Send + 'static {
        let (core, op) = (self.core.clone(), self.op);
        let path_params = self.params.path_params();
        let options = poll_options(&self.options);
        let stream_url = self.kind.stream_url.clone();
        let fallback = self.kind.fallback;
        let call: Call<Task<Value>, P> = Call {
            core: self.core,
            op: self.op,
            options: self.options,
            params: self.params,
            kind: self.kind.retype(),
        };
        let accepted = call.accepted();
        async move {
            let platform = core.platform;
            let follow = op.follow.ok_or_else(|| {
                Error::invalid_input(format!("{} has no follow-on stream", op.id))
                    .for_op(platform, op)
            })?;
            let stream_op = platform.operation(follow.stream_operation).ok_or_else(|| {
                Error::invalid_input(format!(
                    "{} follows `{}`, which the operation table does not have",
                    op.id, follow.stream_operation
                ))
                .for_op(platform, op)
            })?;
            let final_event = follow.final_event;
            let handle = match accepted.await? {
                Accepted::Done(response) => {
                    return Ok(FollowStream::new(
                        Phase::Result(Ok(response.into_inner())),
                        final_event,
                    ));
                }
                Accepted::Pending(handle) => handle,
            };
            let ack = handle
                .acknowledgement()
                .map(|a| a.value().clone())
                .unwrap_or(Value::Null);
            let url = stream_url.or_else(|| {
                follow
                    .url_members
                    .iter()
                    .find_map(|m| {
                        ack.get(*m)
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                    })
                    .map(str::to_owned)
            });
            // A template (`/conversation/{conversation_id}/messages/stream?after={message_id}`)
            // is filled like the stream operation's own path.
            let url = match url {
                Some(url) if url.contains('{') => Some(
                    stream_path(&url, &path_params, &ack)
                        .map_err(|e| e.with_task_id(handle.id()).or_op(platform, op))?,
                ),
                other => other,
            };
            let request = match url {
                Some(url) => {
                    let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
                    if matches!(scheme.as_str(), "ws" | "wss" | "stream") && url.contains(':') {
                        Err(Error::new(
                            ErrorKind::Other,
                            format!(
                                "the stream URL is a `{scheme}:` URL, which cannot be read as Server-Sent Events"
                            ),
                        )
                        .not_retryable())
                    } else {
                        resolve_url(&core, stream_op, op.task, &url).map(|target| {
                            let mut request = Request::new(stream_op, target.path, options.clone());
                            for (name, value) in target.query {
                                request.push_query(name, value);
                            }
                            request
                        })
                    }
                }
                None => stream_path(stream_op.path, &path_params, &ack)
                    .map(|path| Request::new(stream_op, path, options.clone())),
            }
            .map_err(|e| e.with_task_id(handle.id()).or_op(platform, op));
            let phase = match request {
                // A URL that cannot be followed.
                Err(e) if fallback => {
                    tracing::debug!(error = %e, "the follow-on stream's URL cannot be followed: polling the task");
                    Phase::Polling(handle)
                }
                Err(e) => return Err(e),
                Ok(request) => {
                    match open_with::<P::Event>(core.clone(), stream_op, request).await {
                        Ok(events) => Phase::Streaming(events, handle),
                        // Streaming is off.
                        Err(e) if fallback && e.status().map(|s| s.as_u16()) == Some(503) => {
                            tracing::debug!(error = %e, "the follow-on stream is unavailable: polling the task");
                            Phase::Polling(handle)
                        }
                        Err(e) => return Err(e.with_task_id(handle.id())),
                    }
                }
            };
            Ok(FollowStream::new(phase, final_event))
        }
    }
}

/// The stream operation's path: each parameter from the call's path parameters, else from the
/// acknowledgement's member of the same name.
fn stream_path(template: &str, params: &[(&'static str, String)], ack: &Value) -> Result<String> {
    let mut path = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        path.push_str(&rest[..start]);
        let name = &rest[start + 1..start + len];
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| match ack.get(name) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "the stream's path parameter `{name}` is neither a parameter of the call nor a member of its acknowledgement"
                ))
            })?;
        path.push_str(&path_segment(name, &value)?);
        rest = &rest[start + len + 1..];
    }
    path.push_str(rest);
    Ok(path)
}

/// Where a follow-on stream is.
enum Phase<E> {
    /// Reading the stream, the task's handle kept for a fallback.
    Streaming(EventStream<E>, Box<TaskHandle<Value>>),
    /// Polling the task for its result.
    Polling(Box<TaskHandle<Value>>),
    /// A result to yield as the final event.
    Result(Result<Value>),
    /// Done.
    Done,
}

/// The events of a task's follow-on stream: a fused `futures::Stream` of `Result<E>` that ends
/// after the final event (see the module docs).
#[must_use = "streams do nothing unless polled"]
pub struct FollowStream<E> {
    inner: BoxStream<'static, Result<E>>,
    done: bool,
}

impl<E> fmt::Debug for FollowStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FollowStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<E: EventEnum> FollowStream<E> {
    fn new(phase: Phase<E>, final_event: &'static str) -> Self {
        let inner =
            futures_util::stream::unfold(phase, move |phase| next(phase, final_event)).boxed();
        FollowStream { inner, done: false }
    }
}

/// One step of a follow-on stream: what to yield, and where it is then.
async fn next<E: EventEnum>(
    mut phase: Phase<E>,
    final_event: &'static str,
) -> Option<(Result<E>, Phase<E>)> {
    loop {
        phase = match phase {
            Phase::Streaming(mut events, handle) => match events.next().await {
                Some(Ok(event)) => {
                    let last = event.is_type(final_event);
                    let then = if last {
                        Phase::Done
                    } else {
                        Phase::Streaming(events, handle)
                    };
                    return Some((Ok(event), then));
                }
                // One event that does not decode: reported, and the stream goes on.
                Some(Err(e)) if e.kind() == ErrorKind::Decode => {
                    return Some((Err(e), Phase::Streaming(events, handle)));
                }
                // Dropped or ended before the final event: the task knows the result.
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "the follow-on stream failed: polling the task");
                    Phase::Polling(handle)
                }
                None => Phase::Polling(handle),
            },
            Phase::Polling(mut handle) => Phase::Result(handle.until_done().await),
            Phase::Result(Ok(value)) => {
                return Some((final_as_event(final_event, &value), Phase::Done));
            }
            Phase::Result(Err(e)) => return Some((Err(e), Phase::Done)),
            Phase::Done => return None,
        };
    }
}

/// A result the stream did not deliver, as the final event: decoded as that event's type where
/// it fits, else kept as an undeclared event of that name.
fn final_as_event<E: EventEnum>(final_event: &str, value: &Value) -> Result<E> {
    let data = value.to_string();
    match E::decode(final_event, &data) {
        Some(Ok(event)) => Ok(event),
        Some(Err(_)) | None => Ok(E::other(Event {
            event: Some(final_event.to_owned()),
            data,
            id: None,
            retry: None,
        })),
    }
}

impl<E> Stream for FollowStream<E> {
    type Item = Result<E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(None) = polled {
            self.done = true;
        }
        polled
    }
}

impl<E> FusedStream for FollowStream<E> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
