//! Linktor: an omnichannel messaging platform (WhatsApp, Telegram, SMS, email, web chat, ...)
//! with conversations, contacts, channels, bots, AI agents and completions, knowledge bases,
//! conversation flows, analytics and a Visual Response Engine that renders templates to images.
//!
//! Generated from `openapi/linktor.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains (`client.conversations().list()`), [`PLATFORM`] (the operation table), and the event
//! enums of the two streams, [`CompletionEvent`] and [`AgentInvokeEvent`]. Linktor publishes no
//! client package: the spec follows the vendor's repository — its Go server where the server and
//! the SDKs disagree (the server's `/me`, `PUT` updates, `resolve` and `reopen`), else its newer
//! SDK — and says in each operation's docs which SDK route it replaces.
//!
//! Every route lives under `/api/v1` (`https://api.linktor.io/api/v1`); a self-hosted server is
//! reached by its origin (`LINKTOR_BASE_URL`, or the builder's `base_url(..)`), the prefix kept.
//!
//! Two credentials, either of which authenticates every call but login and refresh:
//!
//! - **an API key** (`.api_key(..)`, `LINKTOR_API_KEY`), sent as `X-API-Key`, preferred where
//!   both are set (as by the vendor's SDKs);
//! - **a user's access token** (`.access_token(..)`, `LINKTOR_ACCESS_TOKEN`), sent as
//!   `Authorization: Bearer`. [`Client::login`] logs in and returns a client for the session,
//!   whose access token is refreshed (`POST /auth/refresh`) when a call is refused with `401`:
//!   one refresh for every call refused at that moment, each re-sent once;
//!   [`Client::with_session`] does the same for tokens you stored. `auth().logout()` prefers it.
//!
//! [`Client::from_env`] reads the three variables; none is required, and a call whose
//! credentials are missing fails before it is sent.
//!
//! The wire format is mixed, and the client reads each shape for you: most models are camelCase
//! and bare; lists come one page at a time (`{data, pagination: {total, limit, offset, hasMore,
//! nextCursor?}}`: `send()` gives a [`crate::Page`], `paginate()` walks the offsets); channels and
//! the direct send are snake_case inside `{success, data}`. Writes are never re-sent once they may
//! have reached the server: Linktor has no idempotency header. The direct send alone deduplicates,
//! by the `idempotency_key` in its `metadata`: the client sets one per call (unless you did) and
//! so may re-send it.
//!
//! The seed's one-line helpers: `conversations().send_text(id, "...")`,
//! `ai().completions().complete("...")` (the answer's text), `ai().embeddings().embed("...")`
//! (the vector) and `knowledge_bases().search(id, "...")` (the matching chunks' texts).
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! use agentwire::linktor::{Client, CompletionEvent, types};
//! use futures_util::TryStreamExt;
//!
//! let client = Client::builder().api_key("your-api-key").build()?;
//!
//! // The open conversations, one page at a time.
//! let page = client
//!     .conversations()
//!     .list()
//!     .status(types::ConversationStatus::Open)
//!     .limit(20)
//!     .await?;
//! for conversation in &page {
//!     println!("{} {:?}", conversation.id, conversation.status);
//! }
//!
//! // A text to a phone number on a WhatsApp channel, sent once even if retried by hand.
//! let mut metadata = std::collections::HashMap::new();
//! metadata.insert("idempotency_key".to_owned(), "order-1042-shipped".to_owned());
//! let queued = client
//!     .messages()
//!     .send_direct(
//!         types::DirectSendRequest::builder()
//!             .channel_id("ch_whatsapp")
//!             .to("+5511999999999")
//!             .text("Your order has shipped.")
//!             .metadata(metadata),
//!     )
//!     .await?;
//! println!("{} is {}", queued.id, queued.status);
//!
//! // A chat completion, streamed: deltas until `[DONE]`.
//! let request = types::CompletionRequest::builder().messages(vec![types::ChatMessage {
//!     role: types::ChatRole::User,
//!     content: "What is the capital of France?".to_owned(),
//!     name: None,
//!     tool_call_id: None,
//!     tool_calls: Vec::new(),
//! }]);
//! let mut events = client.ai().completions().create(request).stream().await?;
//! while let Some(event) = events.try_next().await? {
//!     if let CompletionEvent::Message(chunk) = event {
//!         print!("{}", chunk.delta.content.as_deref().unwrap_or_default());
//!     }
//! }
//! # Ok(())
//! # }
//! ```

include!(concat!(env!("OUT_DIR"), "/linktor.rs"));

mod helpers;
pub mod realtime;
mod session;
pub mod webhook;
