//! The messages of one conversation as a resumable event stream. BimpeAI authenticates a stream
//! with a single-use ticket: each connection is `POST …/stream-ticket` (bearer auth), then
//! `GET …/stream?ticket=…[&after=…]` with no Authorization and no request id. On a drop or a
//! clean close the stream takes a new ticket and resumes after the last delivered message;
//! heartbeats are consumed. The reconnect loop itself is `runtime::resume`.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::{op, requests, types};
use crate::runtime::call::{call_json, path_segment};
use crate::runtime::config::{BoxFuture, ClientCore};
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::options::CallOptions;
use crate::runtime::request::Request;
use crate::runtime::resume::{Reopen, ResumeSettings, open_resumable};
use crate::runtime::retry::Policy;
use crate::runtime::send::{Streaming, open_stream};
use crate::sse::{DEFAULT_MAX_EVENT_BYTES, Event};

/// Default reconnect budget: consecutive failures before the stream gives up.
pub const DEFAULT_RECONNECT_BUDGET: u32 = 5;

/// One event of a conversation stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConversationEvent {
    /// A message of the conversation (`event: message`).
    Message(types::StreamMessageEvent),
    /// An event type this version does not know, kept as sent.
    Other(Event),
}

impl ConversationEvent {
    /// The message, if this is one.
    pub fn as_message(&self) -> Option<&types::StreamMessageEvent> {
        match self {
            ConversationEvent::Message(m) => Some(m),
            ConversationEvent::Other(_) => None,
        }
    }
}

impl requests::ConversationsMessages {
    /// Streams the messages of a conversation as they are created, reconnecting after drops and
    /// clean closes without missing or repeating a message.
    ///
    /// `POST /agents/{agent_id}/conversations/{conversation_id}/stream-ticket`, then
    /// `GET /agents/{agent_id}/conversations/{conversation_id}/stream?ticket=…`.
    pub fn stream(
        &self,
        agent_id: impl fmt::Display,
        conversation_id: impl fmt::Display,
    ) -> MessageStreamBuilder {
        MessageStreamBuilder {
            core: self.core.clone(),
            agent_id: agent_id.to_string(),
            conversation_id: conversation_id.to_string(),
            after: None,
            reconnect: true,
            budget: DEFAULT_RECONNECT_BUDGET,
            idle_timeout: None,
            reconnect_deadline: None,
            options: CallOptions::default(),
        }
    }
}

/// Configures a conversation stream; [`MessageStreamBuilder::open`] connects.
#[must_use = "a stream does nothing until it is opened"]
pub struct MessageStreamBuilder {
    core: Arc<ClientCore>,
    agent_id: String,
    conversation_id: String,
    after: Option<String>,
    reconnect: bool,
    budget: u32,
    idle_timeout: Option<Duration>,
    reconnect_deadline: Option<Duration>,
    options: CallOptions,
}

impl fmt::Debug for MessageStreamBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageStreamBuilder")
            .field("agent_id", &self.agent_id)
            .field("conversation_id", &self.conversation_id)
            .field("after", &self.after)
            .field("reconnect", &self.reconnect)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl MessageStreamBuilder {
    /// Starts after this message id or ISO-8601 timestamp (replays what came after it).
    pub fn after(mut self, id_or_timestamp: impl Into<String>) -> Self {
        self.after = Some(id_or_timestamp.into());
        self
    }

    /// Whether to reconnect after a drop or a clean close (default `true`). With `false` the
    /// stream ends at the first close and a drop is an error.
    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Consecutive failed connections allowed before the stream gives up (default 5). It
    /// resets on every delivered message.
    pub fn max_retries(mut self, budget: u32) -> Self {
        self.budget = budget;
        self
    }

    /// Silence allowed before the connection counts as dropped (default: the client's
    /// `stream_idle_timeout`, 90 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Bound on the time spent reconnecting without delivering a message (default: the
    /// client's `reconnect_deadline`, 180 s). Past it the stream ends with a `Timeout` error.
    pub fn reconnect_deadline(mut self, deadline: Duration) -> Self {
        self.reconnect_deadline = Some(deadline);
        self
    }

    /// Time allowed for each ticket request and each connection to reach its headers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.timeout(timeout);
        self
    }

    /// A header for the ticket requests (the stream request itself carries none of yours:
    /// the ticket is its only credential).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.options = self.options.header(name, value);
        self
    }

    /// Connects (taking a ticket), retrying within the budget, and returns the stream.
    #[allow(
        clippy::manual_async_fn,
        reason = "the signature promises a Send future"
    )]
    pub fn open(self) -> impl std::future::Future<Output = Result<MessageStream>> + Send + 'static {
        async move {
            let paths = (
                path_segment("agent_id", &self.agent_id),
                path_segment("conversation_id", &self.conversation_id),
            );
            let (agent, conversation) = match paths {
                (Ok(a), Ok(c)) => (a, c),
                (Err(e), _) | (_, Err(e)) => {
                    return Err(e.for_op(self.core.platform, op::CONVERSATIONS_MESSAGES_STREAM));
                }
            };
            let config = &self.core.config;
            let stream_spec = op::CONVERSATIONS_MESSAGES_STREAM.stream;
            let settings = ResumeSettings {
                reconnect: self.reconnect,
                budget: self.budget,
                idle_timeout: self.idle_timeout.unwrap_or(config.stream_idle_timeout),
                flush_at_eof: stream_spec.is_some_and(|s| s.flush_at_eof),
                heartbeat: stream_spec.map(|s| s.heartbeat).unwrap_or(&[]),
                backoff: Policy {
                    max_retries: self.budget,
                    base: config.backoff_base,
                    cap: config.backoff_cap,
                    max_hint: config.max_retry_after,
                },
                reconnect_deadline: self.reconnect_deadline.unwrap_or(config.reconnect_deadline),
                clock: config.clock.clone(),
                max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            };
            let opener = Arc::new(TicketOpener {
                core: self.core.clone(),
                base: format!("/agents/{agent}/conversations/{conversation}"),
                options: self.options.max_retries(0),
            });
            let events = open_resumable(opener, settings, self.after).await?;
            let platform = self.core.platform;
            let typed = events.map(move |item| item.and_then(|event| typed(platform, event)));
            // Fused: polling again after the end answers `None` instead of panicking.
            Ok(MessageStream {
                inner: typed.fuse().boxed(),
            })
        }
    }
}

fn typed(platform: &'static crate::Platform, event: Event) -> Result<ConversationEvent> {
    if event.name() != "message" {
        return Ok(ConversationEvent::Other(event));
    }
    serde_json::from_str(&event.data)
        .map(ConversationEvent::Message)
        .map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("a message event does not match StreamMessageEvent: {e}"),
            )
            .not_retryable()
            .with_body(Default::default(), bytes::Bytes::from(event.data.clone()))
            .for_op(platform, op::CONVERSATIONS_MESSAGES_STREAM)
        })
}

/// The messages of a conversation. Ends only when reconnecting is off and the server closes,
/// or with an error once reconnecting cannot help; drop it to stop.
pub struct MessageStream {
    inner: BoxStream<'static, Result<ConversationEvent>>,
}

impl fmt::Debug for MessageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageStream")
    }
}

impl Stream for MessageStream {
    type Item = Result<ConversationEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// Takes a fresh ticket, then opens the stream after the last delivered id.
struct TicketOpener {
    core: Arc<ClientCore>,
    base: String,
    options: CallOptions,
}

impl Reopen for TicketOpener {
    fn open(&self, after: Option<String>) -> BoxFuture<'static, Result<Streaming>> {
        let core = self.core.clone();
        let ticket_request = Request::new(
            op::CONVERSATIONS_MESSAGES_STREAM_TICKET,
            format!("{}/stream-ticket", self.base),
            self.options.clone(),
        );
        let mut stream_request = Request::new(
            op::CONVERSATIONS_MESSAGES_STREAM,
            format!("{}/stream", self.base),
            match self.options.timeout {
                Some(t) => CallOptions::new().max_retries(0).timeout(t),
                None => CallOptions::new().max_retries(0),
            },
        );
        Box::pin(async move {
            let ticket = call_json::<types::StreamTicket>(
                core.clone(),
                op::CONVERSATIONS_MESSAGES_STREAM_TICKET,
                ticket_request,
            )
            .await?;
            stream_request.push_query("ticket", ticket.into_inner().ticket);
            if let Some(after) = after {
                stream_request.push_query("after", after);
            }
            open_stream(&core, &stream_request).await
        })
    }
}
