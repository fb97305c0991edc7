//! Reconnecting event streams: open, decode, and when the connection drops (or the server closes
//! a stream that can be resumed) open again after the id of the last delivered event, so that
//! nothing is missed and nothing is repeated. Generic over "how to reopen after id X"
//! ([`Reopen`]: the operation's own request with the position in its resume parameter, or a
//! platform's hand-written opener — BimpeAI: a fresh ticket, then `after=<id>`) and over what
//! each event means ([`Step`]: delivered, consumed like a heartbeat, or the end marker), which
//! `stream` decides from the spec's event map. A stream that does not reconnect is the same loop
//! with reconnecting off: one connection, its failures reported as they are.
//!
//! The reconnect budget counts consecutive failures and resets on every delivered event; a
//! close that delivered nothing counts as a failure, so a server that keeps closing at once
//! cannot spin the client. Errors that retrying cannot fix (401, 404, a bad ticket, an answer
//! that is not an event stream) end the stream at once.
//!
//! Before every reconnect the stream waits, through the injected clock: the `Retry-After` of the
//! error that ended the attempt, if it had one; else the stream's reconnection time (the last SSE
//! `retry:` the server sent), doubling on consecutive failures; else, after a failure, full
//! jitter over the usual exponential backoff. Every wait is clamped to the client's
//! `max_retry_after`, and the time spent reconnecting without delivering an event is bounded by
//! the reconnect deadline.

use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::config::{BoxFuture, Clock};
use super::error::{Error, ErrorKind, Result, human};
use super::retry::{Policy, full_jitter};
use super::send::Streaming;
use super::sse::{End, Event, SseDecoder, events};

/// Opens one connection of a stream, resuming after `after` (an event id or a timestamp) when
/// given. Internal (nominally public so that the generated stream parameters can name it).
#[doc(hidden)]
pub trait Reopen: Send + Sync + 'static {
    /// Opens the connection: an open `text/event-stream` answer, or the error of the attempt.
    fn open(&self, after: Option<String>) -> BoxFuture<'static, Result<Streaming>>;
}

/// What one decoded event means to the stream (decided by the caller from the event map).
pub(crate) enum Step<T> {
    /// Consumed and never yielded (a heartbeat): not progress, and it moves no position.
    Skip,
    /// Yielded (a typed event, or the error decoding it); `last` ends the stream after it (a
    /// terminal event).
    Deliver { item: Result<T>, last: bool },
    /// The end marker (a `[DONE]` line): the stream ends here, nothing yielded.
    End,
}

/// How a resumable stream behaves.
#[derive(Clone)]
pub(crate) struct ResumeSettings {
    /// Reconnect after drops and clean closes; `false` ends at the first close.
    pub reconnect: bool,
    /// Consecutive failures allowed before giving up.
    pub budget: u32,
    /// Silence allowed between chunks.
    pub idle_timeout: Duration,
    /// Whether a last unterminated event counts.
    pub flush_at_eof: bool,
    /// Whether the stream ends with a marker of its own (a terminal event or a `[DONE]` line):
    /// then a connection that ends before it, cleanly or not, is a `Stream` error where the
    /// stream does not reconnect.
    pub ends_with_marker: bool,
    /// Backoff between reconnects (its `max_hint` clamps every wait).
    pub backoff: Policy,
    /// Bound on the time spent reconnecting without delivering an event.
    pub reconnect_deadline: Duration,
    /// The clock that sleeps between reconnects.
    pub clock: Arc<dyn Clock>,
    /// Limits of the SSE decoder: line and event bytes.
    pub max_event_bytes: usize,
}

struct State<F> {
    opener: Arc<dyn Reopen>,
    /// What each event means.
    step: F,
    settings: ResumeSettings,
    last_id: Option<String>,
    current: Option<BoxStream<'static, std::result::Result<Event, End>>>,
    failures: u32,
    delivered_since_open: bool,
    finished: bool,
    /// Whether the next open is a reconnect (and so waits first).
    reconnecting: bool,
    /// The stream's reconnection time: the last SSE `retry:` of any connection.
    reconnection_delay: Option<Duration>,
    /// The server's pacing hint on the error that ended the last attempt.
    hint: Option<Duration>,
    /// The clock's monotonic reading when the stream last delivered an event (or opened).
    progress_at: Duration,
    /// The failure being recovered from, kept as the source of a reconnect-deadline error.
    last_error: Option<Error>,
}

/// Connects (with the reconnect budget) and returns the stream of what `step` delivers, each
/// event once, in order, across reconnects; it ends after a terminal event or at an end marker.
/// Fails if the first connection cannot be made.
pub(crate) async fn open_resumable<T, F>(
    opener: Arc<dyn Reopen>,
    settings: ResumeSettings,
    after: Option<String>,
    step: F,
) -> Result<impl Stream<Item = Result<T>> + Send + 'static>
where
    T: Send + 'static,
    F: FnMut(Event) -> Step<T> + Send + 'static,
{
    let progress_at = settings.clock.monotonic();
    let mut state = State {
        opener,
        step,
        settings,
        last_id: after,
        current: None,
        failures: 0,
        delivered_since_open: false,
        finished: false,
        reconnecting: false,
        reconnection_delay: None,
        hint: None,
        progress_at,
        last_error: None,
    };
    state.connect().await?;
    Ok(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if st.finished {
                return None;
            }
            let Some(current) = st.current.as_mut() else {
                if let Err(e) = st.connect().await {
                    return Some((Err(e), st));
                }
                continue;
            };
            match current.next().await {
                Some(Ok(event)) => {
                    let id = event.id.clone();
                    let (item, last) = match (st.step)(event) {
                        Step::Skip => continue,
                        Step::End => {
                            st.finish();
                            return None;
                        }
                        Step::Deliver { item, last } => (item, last),
                    };
                    if id.is_some() {
                        st.last_id = id;
                    }
                    st.failures = 0;
                    st.delivered_since_open = true;
                    st.progress_at = st.settings.clock.monotonic();
                    if last {
                        st.finish();
                    }
                    return Some((item, st));
                }
                Some(Err(End {
                    error: None,
                    reconnection_delay,
                })) => {
                    st.current = None;
                    st.note_reconnection_delay(reconnection_delay);
                    if !st.settings.reconnect {
                        st.finished = true;
                        if st.settings.ends_with_marker {
                            let e = Error::new(
                                ErrorKind::Stream,
                                "the server closed the event stream before its end marker",
                            )
                            .not_retryable();
                            return Some((Err(e), st));
                        }
                        return None;
                    }
                    st.reconnecting = true;
                    st.hint = None;
                    if !st.delivered_since_open {
                        let e = Error::new(
                            ErrorKind::Stream,
                            "the server kept closing the event stream without sending anything",
                        )
                        .retryable();
                        if let Some(e) = st.fail(e) {
                            return Some((Err(e), st));
                        }
                    }
                }
                // `events` always ends with an `End`; a bare end of stream cannot happen.
                None => return None,
                Some(Err(End {
                    error: Some(e),
                    reconnection_delay,
                })) => {
                    st.current = None;
                    st.note_reconnection_delay(reconnection_delay);
                    st.reconnecting = true;
                    // Where the stream has an end marker and will not be resumed, a lost
                    // connection means the answer is incomplete: say so, keeping the cause.
                    let e = if st.settings.ends_with_marker
                        && !st.settings.reconnect
                        && e.kind() == ErrorKind::Connection
                    {
                        Error::new(
                            ErrorKind::Stream,
                            "the event stream's connection was lost before its end marker",
                        )
                        .not_retryable()
                        .with_source(e)
                    } else {
                        e
                    };
                    if let Some(e) = st.fail(e) {
                        return Some((Err(e), st));
                    }
                }
            }
        }
    }))
}

impl<F> State<F> {
    /// Ends the stream where it is: no reconnect, and the connection is let go.
    fn finish(&mut self) {
        self.finished = true;
        self.current = None;
    }

    /// Opens a connection after the last delivered id, waiting first when it is a reconnect;
    /// gives up with the error when the budget or the reconnect deadline is spent, or the error
    /// cannot be fixed by retrying.
    async fn connect(&mut self) -> Result<()> {
        loop {
            if self.reconnecting {
                let wait = self.wait();
                let clock = &self.settings.clock;
                let spent = clock.monotonic().saturating_sub(self.progress_at);
                if spent + wait > self.settings.reconnect_deadline {
                    self.finished = true;
                    let mut error = Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the event stream could not be resumed within {} of its last event",
                            human(self.settings.reconnect_deadline)
                        ),
                    )
                    .not_retryable();
                    if let Some(last) = self.last_error.take() {
                        error = error.with_source(last);
                    }
                    return Err(error);
                }
                if !wait.is_zero() {
                    clock.sleep(wait).await;
                }
            }
            self.reconnecting = true;
            match self.opener.open(self.last_id.clone()).await {
                Ok(streaming) => {
                    let decoder = SseDecoder::with_limits(
                        self.settings.max_event_bytes,
                        self.settings.max_event_bytes,
                    )
                    .with_last_id(self.last_id.clone());
                    self.current = Some(
                        events(
                            streaming.response.bytes_stream(),
                            decoder,
                            self.settings.idle_timeout,
                            self.settings.flush_at_eof,
                        )
                        .boxed(),
                    );
                    self.delivered_since_open = false;
                    self.hint = None;
                    self.last_error = None;
                    return Ok(());
                }
                Err(e) => {
                    if let Some(e) = self.fail(e) {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// How long to wait before the next reconnect (see the module docs), clamped.
    fn wait(&self) -> Duration {
        let backoff = &self.settings.backoff;
        let wait = match (self.hint, self.reconnection_delay) {
            (Some(hint), _) => hint,
            (None, Some(delay)) => {
                let doublings = self.failures.saturating_sub(1).min(30);
                delay.saturating_mul(2u32.saturating_pow(doublings))
            }
            (None, None) if self.failures > 0 => full_jitter(backoff.ceiling(self.failures - 1)),
            (None, None) => Duration::ZERO,
        };
        wait.min(backoff.max_hint)
    }

    fn note_reconnection_delay(&mut self, delay: Option<Duration>) {
        if delay.is_some() {
            self.reconnection_delay = delay;
        }
    }

    /// Counts a failure and keeps its pacing hint. Returns the error when the stream must end
    /// with it.
    fn fail(&mut self, e: Error) -> Option<Error> {
        self.failures += 1;
        self.hint = e.retry_after();
        if !self.settings.reconnect || !e.is_retryable() || self.failures > self.settings.budget {
            self.finished = true;
            return Some(e);
        }
        tracing::debug!(failures = self.failures, error = %e, "event stream reconnecting");
        self.last_error = Some(e);
        None
    }
}
