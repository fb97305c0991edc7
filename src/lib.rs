//! # agentwire
//!
//! Typed, generated Rust clients for five AI-agent and chat platforms — BimpeAI, Knowrithm,
//! Linktor, SketricGen and Wisebot — that behave well in production: one request path with
//! retries that never duplicate a write, classified errors, pagination, resumable event streams,
//! and a fixture-replaying mock (feature `mock`) for offline development.
//!
//! Each platform is a module behind a cargo feature (`agentwire::bimpeai`, ...), generated at
//! build time from `openapi/<platform>.yaml`. Its `types` are the models; its `Client` has one
//! method chain per operation:
//!
//! ```no_run
//! # #[cfg(feature = "bimpeai")]
//! # async fn demo() -> agentwire::Result<()> {
//! let client = agentwire::bimpeai::Client::new("sk_live_...")?;
//! let page = client.agents().list().limit(20).send().await?;
//! for agent in page.items() {
//!     println!("{} {}", agent.id, agent.name);
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Without any platform feature the request path has no callers; that build is still valid.
#![cfg_attr(
    not(feature = "bimpeai"),
    allow(dead_code, unused_imports, unused_macros, unused_mut)
)]

mod runtime;

pub use runtime::config::{BoxFuture, ClientBuilder, Clock, PlatformClient, Secret, SystemClock};
pub use runtime::error::{Error, ErrorKind, FieldError, RateLimit, Result};
pub use runtime::loose::LooseList;
pub use runtime::nullable::Nullable;
pub use runtime::operation::{
    Auth, Credential, Envelope, ErrorFormat, Host, Method, Operation, PageKind, PageStyle,
    Platform, StreamResume, StreamSpec,
};
pub use runtime::options::CallOptions;
pub use runtime::paginate::{Page, PageInfo, Paginator};
pub use runtime::response::Response;

/// Server-Sent-Events decoding (what every platform's streams are built on).
pub mod sse {
    pub use crate::runtime::sse::{DEFAULT_MAX_EVENT_BYTES, Event, SseDecoder, SseError};
}

#[cfg(feature = "bimpeai")]
pub mod bimpeai;

#[cfg(feature = "mock")]
pub mod mock;

#[cfg(feature = "contract")]
pub mod contract;
