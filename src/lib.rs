//! # agentwire
//!
//! Typed, generated Rust clients for five AI-agent and chat platforms — BimpeAI, Knowrithm,
//! Linktor, SketricGen and Wisebot — that behave well in production: one request path with
//! retries that never duplicate a write, classified errors, pagination, resumable event streams,
//! and a fixture-replaying mock (feature `mock`) for offline development.
//!
//! Each platform is a module behind a cargo feature (`agentwire::bimpeai`, ...), generated at
//! build time from `openapi/<platform>.yaml`. Its `types` are the models; its `Client` has one
//! method chain per operation. `send()` (or awaiting the builder) resolves to the model itself,
//! so its fields move out as from any struct; `send_with_response()` adds the status, headers
//! and request id; lists resolve to a [`Page`]:
//!
//! ```
//! # #[cfg(all(feature = "bimpeai", feature = "mock"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = agentwire::mock::MockServer::start(&agentwire::bimpeai::PLATFORM).await?;
//! # let client = agentwire::bimpeai::Client::builder().api_key("sk_test").base_url(mock.base_url()).build()?;
//! // let client = agentwire::bimpeai::Client::new("sk_live_...")?;
//! let name = client.agents().retrieve("a_1").send().await?.name;
//! assert_eq!(name, "Bot");
//!
//! let response = client.agents().retrieve("a_1").send_with_response().await?;
//! println!("request id {:?}", response.request_id());
//!
//! let page = client.agents().list().limit(20).await?;
//! for agent in &page {
//!     println!("{} {}", agent.id, agent.name);
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "bimpeai", feature = "mock")))]
//! # fn main() {}
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Without any platform feature the request path has no callers; that build is still valid.
// (build.rs sets `agentwire_no_platform` when it generates no platform.)
#![cfg_attr(
    agentwire_no_platform,
    allow(dead_code, unused_imports, unused_macros, unused_mut)
)]

mod runtime;

pub use runtime::call::Call;
pub use runtime::config::{
    BoxFuture, ClientBuilder, Clock, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_RECONNECT_DEADLINE, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, MAX_REDIRECTS,
    PlatformClient, Secret, SystemClock,
};
pub use runtime::credentials::{
    CredentialProvider, Refresher, RefreshingCredentials, StaticCredentials,
};
pub use runtime::error::{Error, ErrorKind, FieldError, RateLimit, Result};
pub use runtime::loose::LooseList;
pub use runtime::nullable::Nullable;
pub use runtime::operation::{
    Auth, Check, CheckAt, Credential, Echo, Envelope, ErrorFormat, EventType, FollowSpec, Host,
    Method, NonJson, Operation, Outcome, PageKind, PageStyle, Platform, Realtime, RequestKind,
    ResponseKind, Rule, Setting, SettingName, StreamResume, StreamSpec, TaskSpec,
};
pub use runtime::options::{CallOptions, RequestOptions};

/// Response kinds: the `K` of a request builder [`Call<K, P>`], saying what its `send()`
/// resolves to. Every operation of every spec has one (see `openapi/README.md`).
pub mod kind {
    pub use crate::runtime::call::{Bytes, Empty, Json, Optional, Paged, Text};
    pub use crate::runtime::stream::{Events, JsonOrEvents};
    pub use crate::runtime::task::Task;
}

/// Internal: what generated code names. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runtime::call::Params;
    pub use crate::runtime::follow::FollowParams;
    pub use crate::runtime::request::Request;
    pub use crate::runtime::stream::{EventEnum, Opener, StreamParams};
}

/// What a caller brings into scope once: `use agentwire::prelude::*;` — the per-call options
/// trait every request builder implements ([`RequestOptions`]).
pub mod prelude {
    pub use crate::runtime::options::RequestOptions;
}
pub use runtime::follow::FollowStream;
pub use runtime::paginate::{MAX_CONSECUTIVE_EMPTY_PAGES, Page, PageContext, PageInfo, Paginator};
pub use runtime::response::Response;
pub use runtime::stream::{DEFAULT_RECONNECT_BUDGET, EventStream};
pub use runtime::task::{Accepted, TaskHandle, TaskStatus};
pub use runtime::upload::{DEFAULT_MAX_UPLOAD_BYTES, Upload};

/// Webhook signatures: verify a platform's signed deliveries, or sign payloads for your own
/// tests (feature `webhooks`, which the platforms that sign deliveries enable).
#[cfg(feature = "webhooks")]
pub mod webhook {
    pub use crate::runtime::webhook::{DEFAULT_TOLERANCE, WebhookError, sign, verify};
}

/// Real-time WebSocket clients: the builder, connection handle and event stream a platform's
/// real-time client is made of (`agentwire::linktor::realtime` names them `RealtimeBuilder`,
/// `RealtimeClient` and `Events`), generic over that platform's protocol (feature `websocket`,
/// which the platforms with a real-time API enable).
#[cfg(feature = "websocket")]
pub mod websocket {
    pub use crate::runtime::websocket::{Builder, Connection, Events};
}

/// Server-Sent-Events decoding (what every platform's streams are built on).
pub mod sse {
    pub use crate::runtime::sse::{DEFAULT_MAX_EVENT_BYTES, Event, SseDecoder, SseError};
}

#[cfg(feature = "bimpeai")]
pub mod bimpeai;

#[cfg(feature = "knowrithm")]
pub mod knowrithm;

#[cfg(feature = "wisebot")]
pub mod wisebot;

#[cfg(feature = "sketricgen")]
pub mod sketricgen;

#[cfg(feature = "linktor")]
pub mod linktor;

#[cfg(feature = "mock")]
pub mod mock;

// The platforms (and test fragments) of this build, for the mock, the contract tooling and the
// tests: generated by build.rs.
#[cfg(feature = "mock")]
mod registry;

// Every Rust block of README.md runs as a doctest in the test command, so the README cannot
// drift from the code (its blocks are whole programs: no hidden lines on a code host).
#[cfg(all(
    doctest,
    feature = "bimpeai",
    feature = "knowrithm",
    feature = "wisebot",
    feature = "sketricgen",
    feature = "linktor",
    feature = "mock"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "contract")]
pub mod contract;

#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod testkit;
