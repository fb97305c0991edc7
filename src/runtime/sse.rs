//! An incremental Server-Sent-Events decoder: bytes in, events out, written to the WHATWG
//! EventSource parsing rules. A leading UTF-8 BOM is stripped; lines end in LF, CR or CRLF, even
//! when a CRLF is split across chunks; `:` starts a comment; `data` lines join with `\n`; an `id`
//! holding NUL is ignored; `retry` takes digits only; a blank line dispatches, and a block without
//! data dispatches nothing.
//!
//! `retry:` has two readings, both kept: [`Event::retry`] is the value given in that event's own
//! block, and [`SseDecoder::reconnection_delay`] is the stream's reconnection time — set by every
//! valid `retry:` line, whether or not its block dispatches an event, as WHATWG defines it.
//!
//! Every input byte is scanned once (memchr over each new chunk, never over what was already
//! buffered), so time is linear in the input however it is chunked, and memory is bounded: a line
//! still being read and an event being assembled each have a limit.
//!
//! ```
//! use agentwire::sse::SseDecoder;
//! let mut decoder = SseDecoder::new();
//! let mut events = Vec::new();
//! decoder.feed(b"id: m_1\nevent: message\nda", &mut events).unwrap();
//! decoder.feed(b"ta: {\"a\":1}\n\n", &mut events).unwrap();
//! assert_eq!(events[0].data, "{\"a\":1}");
//! assert_eq!(events[0].id.as_deref(), Some("m_1"));
//! assert_eq!(events[0].event.as_deref(), Some("message"));
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

use super::error::{Error, ErrorKind, Result, human};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Default limit on one line, and on one event's data.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// The `event:` field; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The data lines, joined with `\n`.
    pub data: String,
    /// The last event id seen so far on this stream (it persists across events, per WHATWG).
    pub id: Option<String>,
    /// A `retry:` value given in this event's block, in milliseconds. The stream's reconnection
    /// time, which any block may set, is [`SseDecoder::reconnection_delay`].
    pub retry: Option<u64>,
}

impl Event {
    /// The event type: the `event:` field, or `message` when there was none.
    pub fn name(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line grew past the limit before it ended.
    #[error("an event-stream line is longer than the {limit}-byte limit")]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// An event's data grew past the limit before it was dispatched.
    #[error("an event is larger than the {limit}-byte limit")]
    EventTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl From<SseError> for Error {
    fn from(e: SseError) -> Self {
        Error::new(ErrorKind::Stream, e.to_string()).not_retryable()
    }
}

/// The decoder's state between chunks.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    max_line: usize,
    max_event: usize,
    /// The first bytes, held until we know whether they are a BOM.
    head: Vec<u8>,
    bom_done: bool,
    /// A line begun in an earlier chunk.
    partial: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF of the next one belongs to it.
    pending_cr: bool,
    event_type: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<u64>,
    /// The stream's reconnection time in milliseconds: the last valid `retry:` line, kept across
    /// events.
    reconnection_ms: Option<u64>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder with the default limits.
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder with limits on one line and on one event's data, in bytes.
    pub fn with_limits(max_line: usize, max_event: usize) -> Self {
        SseDecoder {
            max_line,
            max_event,
            head: Vec::with_capacity(3),
            bom_done: false,
            partial: Vec::new(),
            pending_cr: false,
            event_type: None,
            data: String::new(),
            has_data: false,
            last_id: None,
            retry: None,
            reconnection_ms: None,
        }
    }

    /// Starts the stream with `id` as the last event id (a resumed stream).
    pub fn with_last_id(mut self, id: Option<String>) -> Self {
        self.last_id = id;
        self
    }

    /// The stream's reconnection time: the value of the last valid `retry:` line seen so far
    /// (milliseconds on the wire), whether or not its block dispatched an event. `None` until the
    /// server sends one.
    pub fn reconnection_delay(&self) -> Option<Duration> {
        self.reconnection_ms.map(Duration::from_millis)
    }

    /// Decodes one chunk, pushing each completed event onto `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut impl Extend<Event>) -> Result<(), SseError> {
        if self.bom_done {
            return self.feed_lines(chunk, out);
        }
        let take = (BOM.len() - self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..take]);
        let rest = &chunk[take..];
        if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
            return Ok(()); // could still be a BOM: wait for more bytes
        }
        self.bom_done = true;
        let head = std::mem::take(&mut self.head);
        let start = if head.starts_with(BOM) {
            &head[BOM.len()..]
        } else {
            &head[..]
        };
        self.feed_lines(start, out)?;
        self.feed_lines(rest, out)
    }

    /// Ends the input. With `flush`, a last line without its line end and an event without its
    /// blank line still count; without it they are dropped.
    pub fn finish(&mut self, flush: bool, out: &mut impl Extend<Event>) -> Result<(), SseError> {
        if !self.bom_done {
            self.bom_done = true;
            let head = std::mem::take(&mut self.head);
            if head != BOM {
                self.feed_lines(&head, out)?;
            }
        }
        if flush {
            if !self.partial.is_empty() {
                let line = std::mem::take(&mut self.partial);
                self.line(&line)?;
            }
            self.dispatch(out);
        }
        self.partial.clear();
        self.reset_event();
        Ok(())
    }

    fn feed_lines(&mut self, chunk: &[u8], out: &mut impl Extend<Event>) -> Result<(), SseError> {
        if chunk.is_empty() {
            return Ok(()); // an empty chunk must not forget a pending CR
        }
        let mut i = 0;
        if self.pending_cr {
            self.pending_cr = false;
            if chunk.first() == Some(&b'\n') {
                i = 1;
            }
        }
        while i < chunk.len() {
            let Some(offset) = memchr::memchr2(b'\n', b'\r', &chunk[i..]) else {
                let rest = &chunk[i..];
                if self.partial.len() + rest.len() > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                self.partial.extend_from_slice(rest);
                return Ok(());
            };
            let end = i + offset;
            if self.partial.is_empty() {
                if end - i > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                self.line_or_dispatch(&chunk[i..end], out)?;
            } else {
                if self.partial.len() + (end - i) > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&chunk[i..end]);
                self.line_or_dispatch(&line, out)?;
                line.clear();
                self.partial = line; // keep the allocation for the next long line
            }
            i = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => i += 1,
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
        }
        Ok(())
    }

    fn line_or_dispatch(
        &mut self,
        line: &[u8],
        out: &mut impl Extend<Event>,
    ) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            Ok(())
        } else {
            self.line(line)
        }
    }

    fn line(&mut self, line: &[u8]) -> Result<(), SseError> {
        if line.first() == Some(&b':') {
            return Ok(()); // comment
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.event_type = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => {
                let separator = usize::from(self.has_data);
                if self.data.len() + separator + value.len() > self.max_event {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event,
                    });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
            }
            // An id holding NUL is ignored (WHATWG): the previous id stays.
            b"id" if !value.contains(&0) => {
                self.last_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Digits too many for u64 are still a (huge) delay: saturate, the reader clamps.
                let ms = std::str::from_utf8(value)
                    .ok()
                    .map(|s| s.parse().unwrap_or(u64::MAX));
                self.retry = ms;
                self.reconnection_ms = ms;
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut impl Extend<Event>) {
        if !self.has_data {
            self.reset_event();
            return;
        }
        let event = Event {
            event: self.event_type.take().filter(|t| !t.is_empty()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry: self.retry.take(),
        };
        self.has_data = false;
        out.extend(std::iter::once(event));
    }

    fn reset_event(&mut self) {
        self.event_type = None;
        self.data.clear();
        self.has_data = false;
        self.retry = None;
    }
}

/// How an event stream ended, with the reconnection time the server set on it.
#[derive(Debug)]
pub(crate) struct End {
    /// `None`: the server closed the stream cleanly. `Some`: the connection failed, or stayed
    /// silent past the idle timeout.
    pub error: Option<Error>,
    /// The decoder's [`SseDecoder::reconnection_delay`] when the stream ended.
    pub reconnection_delay: Option<Duration>,
}

/// Decodes a response body into events. Yields `Ok(event)` for each event, then exactly one
/// `Err(end)` saying how the body ended.
pub(crate) fn events<S>(
    body: S,
    decoder: SseDecoder,
    idle_timeout: Duration,
    flush_at_eof: bool,
) -> impl Stream<Item = std::result::Result<Event, End>> + Send + 'static
where
    S: Stream<Item = std::result::Result<Bytes, reqwest::Error>> + Send + Unpin + 'static,
{
    struct State<S> {
        body: S,
        decoder: SseDecoder,
        queue: VecDeque<Event>,
        /// How the body ended (`Some(None)`: cleanly), reported once the queued events are out.
        end: Option<Option<Error>>,
        finished: bool,
    }
    let state = State {
        body,
        decoder,
        queue: VecDeque::new(),
        end: None,
        finished: false,
    };
    futures_util::stream::unfold(state, move |mut st| async move {
        loop {
            if let Some(event) = st.queue.pop_front() {
                return Some((Ok(event), st));
            }
            if let Some(error) = st.end.take() {
                st.finished = true;
                let end = End {
                    error,
                    reconnection_delay: st.decoder.reconnection_delay(),
                };
                return Some((Err(end), st));
            }
            if st.finished {
                return None;
            }
            st.end = match tokio::time::timeout(idle_timeout, st.body.next()).await {
                Err(_) => Some(Some(Error::new(
                    ErrorKind::Timeout,
                    format!("the event stream was silent for {}", human(idle_timeout)),
                ))),
                Ok(Some(Ok(chunk))) => match st.decoder.feed(&chunk, &mut st.queue) {
                    Ok(()) => None,
                    Err(e) => Some(Some(e.into())),
                },
                Ok(Some(Err(e))) => Some(Some(
                    Error::new(
                        ErrorKind::Connection,
                        "the event stream's connection failed",
                    )
                    .with_source(e.without_url()),
                )),
                Ok(None) => match st.decoder.finish(flush_at_eof, &mut st.queue) {
                    Ok(()) => Some(None),
                    Err(e) => Some(Some(e.into())),
                },
            };
        }
    })
}
