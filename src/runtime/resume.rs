//! Reconnecting event streams: open, decode, and when the connection drops (or the server closes
//! a stream that can be resumed) open again after the id of the last delivered event, so that
//! nothing is missed and nothing is repeated. Generic over "how to reopen after id X"
//! ([`Reopen`]); each platform supplies that (BimpeAI: a fresh ticket, then `after=<id>`).
//!
//! The reconnect budget counts consecutive failures and resets on every delivered event; a
//! close that delivered nothing counts as a failure, so a server that keeps closing at once
//! cannot spin the client. Between attempts the client backs off with full jitter through the
//! injected clock. Errors that retrying cannot fix (401, 404, a bad ticket) end the stream at once.

use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::config::{BoxFuture, Clock};
use super::error::{Error, ErrorKind, Result};
use super::retry::{Policy, full_jitter};
use super::send::Streaming;
use super::sse::{End, Event, SseDecoder, events};

/// Opens the stream, resuming after `after` (an event id or a timestamp) when given.
pub(crate) trait Reopen: Send + Sync + 'static {
    fn open(&self, after: Option<String>) -> BoxFuture<'static, Result<Streaming>>;
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
    /// Event names consumed and never yielded.
    pub heartbeat: &'static [&'static str],
    /// Backoff between reconnects.
    pub backoff: Policy,
    /// The clock that sleeps between reconnects.
    pub clock: Arc<dyn Clock>,
    /// Limits of the SSE decoder: line and event bytes.
    pub max_event_bytes: usize,
}

struct State {
    opener: Arc<dyn Reopen>,
    settings: ResumeSettings,
    last_id: Option<String>,
    current: Option<BoxStream<'static, std::result::Result<Event, End>>>,
    failures: u32,
    delivered_since_open: bool,
    finished: bool,
}

/// Connects (with the reconnect budget) and returns the stream of every non-heartbeat event,
/// yielded once, in order, across reconnects. Fails if the first connection cannot be made.
pub(crate) async fn open_resumable(
    opener: Arc<dyn Reopen>,
    settings: ResumeSettings,
    after: Option<String>,
) -> Result<impl Stream<Item = Result<Event>> + Send + 'static> {
    let mut state = State {
        opener,
        settings,
        last_id: after,
        current: None,
        failures: 0,
        delivered_since_open: false,
        finished: false,
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
                    if st.settings.heartbeat.contains(&event.name()) {
                        continue;
                    }
                    if event.id.is_some() {
                        st.last_id = event.id.clone();
                    }
                    st.failures = 0;
                    st.delivered_since_open = true;
                    return Some((Ok(event), st));
                }
                Some(Err(End::Closed)) | None => {
                    st.current = None;
                    if !st.settings.reconnect {
                        return None;
                    }
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
                Some(Err(End::Broken(e))) => {
                    st.current = None;
                    if let Some(e) = st.fail(e) {
                        return Some((Err(e), st));
                    }
                }
            }
        }
    }))
}

impl State {
    /// Opens a connection after the last delivered id, backing off after failures; gives up
    /// with the error when the budget is spent or the error cannot be fixed by retrying.
    async fn connect(&mut self) -> Result<()> {
        loop {
            if self.failures > 0 {
                let delay = full_jitter(self.settings.backoff.ceiling(self.failures - 1));
                self.settings.clock.sleep(delay).await;
            }
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

    /// Counts a failure. Returns the error when the stream must end with it.
    fn fail(&mut self, e: Error) -> Option<Error> {
        self.failures += 1;
        if !self.settings.reconnect || !e.is_retryable() || self.failures > self.settings.budget {
            self.finished = true;
            return Some(e);
        }
        tracing::debug!(failures = self.failures, error = %e, "event stream reconnecting");
        None
    }
}
