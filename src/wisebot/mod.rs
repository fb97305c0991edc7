//! Wisebot: AI agents with knowledge files, workflows, and a streaming visitor chat.
//!
//! Generated from `openapi/wisebot.yaml`: [`types`] (the models), [`Client`] and its resource
//! chains (`client.agents().list()`), [`PLATFORM`] (the operation table) and the chat's
//! [`ChatStreamEvent`]. Wisebot publishes no client and no API reference; the spec follows its
//! integration guide, and what the guide does not show (most answers' members, error bodies) is
//! modelled loosely — untyped where nothing is known — and marked as an assumption in the spec.
//!
//! Wisebot has two contexts, each with its own origin and credentials, and a client may be set
//! up for either or both:
//!
//! - **the dashboard API** (host `dashboard`, `WISEBOTAI_BASE_URL`): a dashboard access token
//!   (`.access_token(..)`, `WISEBOT_ACCESS_TOKEN`) or a `wb_live_` API key (`.api_key(..)`,
//!   `WISE_KEY`), the token preferred where both are set; `api_keys().list()` takes the token
//!   only;
//! - **the workflow webhook** (host `trigger`, `WISEBOT_WORKFLOW_TRIGGER_ORIGIN`): the workflow
//!   secret (`.workflow_secret(..)`, `WISEBOT_WORKFLOW_SECRET`), for `workflows().trigger(..)`
//!   only. Wisebot publishes no default origin for it: set the variable or the host's URL.
//!
//! [`Client::from_env`] reads all five variables.
//!
//! ```no_run
//! # async fn demo() -> agentwire::Result<()> {
//! use agentwire::wisebot::{Client, types};
//! use futures_util::TryStreamExt;
//!
//! // The dashboard, with an API key: a visitor session, then the agent's answer as a stream.
//! let client = Client::builder().api_key("wb_live_...").build()?;
//! let session = client
//!     .chat()
//!     .sessions()
//!     .create(types::ChatSessionCreate::builder().external_user_id("user_42"))
//!     .await?;
//! let mut stream = client
//!     .chat()
//!     .stream(
//!         types::ChatStreamRequest::builder()
//!             .prompt("What is your refund policy?")
//!             .thread_id(session.thread_id.clone().unwrap_or_default())
//!             .contact_session_id(session.contact_session_id.clone().unwrap_or_default()),
//!     )
//!     .open()
//!     .await?;
//! while let Some(event) = stream.try_next().await? {
//!     if let Some(finish) = event.as_finish() {
//!         println!("{}", finish.full_text.as_deref().unwrap_or_default());
//!     }
//! }
//!
//! // The workflow webhook: its own origin and secret; it answers text.
//! let hooks = Client::builder()
//!     .host_url("trigger", "https://hooks.example.com")
//!     .workflow_secret("...")
//!     .build()?;
//! let mut inputs = serde_json::Map::new();
//! inputs.insert("message".into(), "from Rust".into());
//! let answer: String = hooks.workflows().trigger("wf_123", inputs).await?;
//! println!("{answer}");
//! # Ok(())
//! # }
//! ```

include!(concat!(env!("OUT_DIR"), "/wisebot.rs"));

mod chat;
